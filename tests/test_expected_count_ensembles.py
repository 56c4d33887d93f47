"""Exact finite-N E[#FP] beyond (E1): reciprocity η ≠ 0 and dilution at η = 0
(:func:`fplandscape.theory.log_expected_count` with ``eta`` / ``dilution``)."""
from __future__ import annotations

import itertools
import math

import mpmath
import numpy as np
import pytest
from scipy import integrate, stats

from fplandscape import model, theory
from fplandscape.errors import InputError
from fplandscape.sim import disorder_average
from fplandscape.special import log_Phi, log_Phi2_equal
from fplandscape.validate.counts import compare_with_theory

LN2 = math.log(2.0)
Z_BOUND = 4.5


def _log_p(n, jd, eta=0.0, dilution=1.0):
    """ln P(all-(+1) state is a FP) = ln E[#FP] − N ln 2."""
    return theory.log_expected_count(n, jd, eta, dilution) - n * LN2


def _cov(n, eta):
    """Covariance of x_i = Σ_{j≠i} J_ij: (N−1)/N on the diagonal, η/N off it."""
    return np.full((n, n), eta / n) + np.eye(n) * ((n - 1) / n - eta / n)


def _ref_log_p(n, jd, eta):
    """ln P(x_i > −J_D ∀i) by direct integration, N = 2 or 3 (y = −x standardised, corr ρ):
    N = 2: Φ₂(t, t; ρ); N = 3: ∫_{y<t} φ(y) Φ₂(a(y), a(y); ρ/(1+ρ)) dy, conditioning on y₃."""
    sd = math.sqrt((n - 1) / n)
    t = jd / sd
    rho = eta / (n - 1)
    if n == 2:
        return float(log_Phi2_equal(t, rho))
    assert n == 3
    c = math.sqrt(1.0 - rho * rho)
    rho_c = rho / (1.0 + rho)

    def f(y):
        return math.exp(-0.5 * y * y - 0.5 * math.log(2 * math.pi)
                        + float(log_Phi2_equal((t - rho * y) / c, rho_c)))

    pts = sorted({t - 1.0, t - 4.0, min(t, 0.0) - 1.0, t})
    val = integrate.quad(f, -np.inf, pts[0], epsabs=0, epsrel=1e-12, limit=200)[0]
    for a, b in zip(pts[:-1], pts[1:]):
        val += integrate.quad(f, a, b, epsabs=0, epsrel=1e-12, limit=200)[0]
    return math.log(val)


# ---------------------------------------------------------------------------------------------
# (a) formulas against direct integration at small N


@pytest.mark.parametrize("n", [2, 3])
@pytest.mark.parametrize("eta", [-1.0, -0.7, -0.3, 0.2, 0.6, 1.0])
@pytest.mark.parametrize("jd", [-1.5, -0.3, 0.0, 0.4, 1.2])
def test_reciprocity_matches_direct_integration(n, eta, jd):
    if eta == -1.0 and jd <= 0:  # Σ x_i = 0: P = 0 exactly
        assert _log_p(n, jd, eta) == -np.inf
        return
    got = _log_p(n, jd, eta)
    ref = _ref_log_p(n, jd, eta)
    assert got == pytest.approx(ref, rel=1e-9, abs=1e-9)


@pytest.mark.parametrize("eta", [-0.6, 0.5, 0.9])
@pytest.mark.parametrize("jd", [-0.5, 0.3, 1.0])
def test_reciprocity_matches_scipy_mvn_cdf(eta, jd):
    n = 3
    p = stats.multivariate_normal.cdf(np.full(n, jd), mean=np.zeros(n), cov=_cov(n, eta),
                                      abseps=1e-9, releps=1e-9)  # P(−x < J_D) = P(x > −J_D)
    assert math.exp(_log_p(n, jd, eta)) == pytest.approx(p, abs=1e-6)


def test_closed_forms_at_the_edges():
    # N = 2, η = −1: x₂ = −x₁ ~ N(0, 1/2): P = 2Φ(J_D√2) − 1
    for jd in (0.01, 0.5, 2.0):
        assert _log_p(2, jd, -1.0) == pytest.approx(
            math.log(math.erf(jd)), rel=1e-10, abs=1e-13)
    # N = 2, η = 1: x₁ = x₂: P = Φ(J_D√2); just below η = 1 (width of the integrand ~ √(1−η))
    for jd in (-1.0, 0.3):
        assert _log_p(2, jd, 1.0) == pytest.approx(float(log_Phi(jd * math.sqrt(2))), rel=1e-12)
        assert _log_p(2, jd, 1.0 - 1e-9) == pytest.approx(_ref_log_p(2, jd, 1.0 - 1e-9), rel=1e-9)
    # N = 1: 2 FPs if J_D > 0, none otherwise, whatever η and c
    assert theory.log_expected_count(1, 0.3, -0.5) == pytest.approx(LN2)
    assert theory.log_expected_count(1, 0.0, 0.5) == -np.inf
    assert theory.log_expected_count(1, 0.3, 0.0, 0.5) == pytest.approx(LN2)


def _mp_log_p(n, jd, eta, dps):
    """mpmath reference: E_w[Φ((J_D + √(η/N) w)/√b)^N] on the real axis (complex shift for
    η < 0), at enough digits to absorb the cancellation."""
    with mpmath.workdps(dps):
        b = mpmath.mpf(n - 1 - eta) / n
        s = mpmath.sqrt(mpmath.mpf(eta) / n)

        def f(w):
            return mpmath.npdf(w) * (mpmath.erfc(-(jd + s * w) / mpmath.sqrt(2 * b)) / 2) ** n

        v = mpmath.quad(f, mpmath.linspace(-40, 40, 41))
        return float(mpmath.re(mpmath.log(v)))


@pytest.mark.parametrize("n,jd,eta,dps", [(16, 0.5, -0.5, 40), (32, -1.0, 0.8, 30)])
def test_larger_n_against_mpmath(n, jd, eta, dps):
    assert _log_p(n, jd, eta) == pytest.approx(_mp_log_p(n, jd, eta, dps), rel=1e-11, abs=1e-12)


def test_far_tail_negative_eta_is_finite_and_monotone():
    """N = 64, J_D very negative (count ~ e^{−400} and below) stays accurate: monotone in J_D
    and in η, and ≤ the η = 0 value for η < 0 (negative correlation lowers P(all x_i > −J_D))."""
    jds = np.linspace(-4.0, 1.0, 11)
    for eta in (-0.99, -0.5, -0.1):
        v = theory.log_expected_count(64, jds, eta)
        assert np.all(np.isfinite(v)) and np.all(np.diff(v) > 0)
        assert np.all(v <= theory.log_expected_count(64, jds) + 1e-12)
    etas = [-0.9, -0.5, 0.0, 0.5, 0.9]
    v = [theory.log_expected_count(64, -2.0, e) for e in etas]
    assert np.all(np.diff(v) > 0)


def _brute_diluted_log_p(n, jd, c):
    """Sum over all off-diagonal masks (η = 0): rows independent given the mask."""
    offdiag = [(i, j) for i in range(n) for j in range(n) if i != j]
    total = 0.0
    for keep in itertools.product([0, 1], repeat=len(offdiag)):
        k = sum(keep)
        weight = c ** k * (1 - c) ** (len(offdiag) - k)
        prob = 1.0
        for i in range(n):
            ki = sum(kp for (a, _), kp in zip(offdiag, keep) if a == i)
            prob *= (1.0 if jd > 0 else 0.0) if ki == 0 else math.exp(
                float(log_Phi(jd / math.sqrt(ki / (c * n)))))
        total += weight * prob
    return math.log(total) if total > 0 else -np.inf


@pytest.mark.parametrize("n", [2, 3])
@pytest.mark.parametrize("c", [0.1, 0.5, 0.9])
@pytest.mark.parametrize("jd", [-1.0, 0.0, 0.7])
def test_dilution_matches_mask_enumeration(n, c, jd):
    assert _log_p(n, jd, 0.0, c) == pytest.approx(_brute_diluted_log_p(n, jd, c), rel=1e-12)


def test_dilution_n2_direct_integral():
    # N = 2: x_i = m_i J_i/√c, independent: P = [(1−c)·1{J_D>0} + c Φ(J_D √(2c))]²
    for jd, c in [(0.4, 0.3), (-0.8, 0.6)]:
        p1 = (1 - c) * (jd > 0) + c * stats.norm.cdf(jd * math.sqrt(2 * c))
        assert _log_p(2, jd, 0.0, c) == pytest.approx(2 * math.log(p1), rel=1e-12)


# ---------------------------------------------------------------------------------------------
# (b) limits


@pytest.mark.parametrize("n", [2, 5, 20, 64])
def test_limits_reduce_to_E1(n):
    jds = np.array([-3.0, -1.0, 0.0, 0.5, 2.0])
    base = theory.log_expected_count(n, jds)
    for eta in (1e-15, -1e-15):
        assert np.allclose(theory.log_expected_count(n, jds, eta), base, rtol=1e-12, atol=1e-12)
    assert np.allclose(theory.log_expected_count(n, jds, 0.0, 1.0 - 1e-15), base,
                       rtol=1e-12, atol=1e-12)
    assert np.array_equal(theory.log_expected_count(n, jds, 0.0, 1.0), base)
    assert np.allclose(theory.expected_count(n, jds, -0.3), np.exp(theory.log_expected_count(n, jds, -0.3)))


def test_unsupported_and_invalid():
    with pytest.raises(NotImplementedError, match="dilution"):
        theory.log_expected_count(8, 0.5, 0.5, 0.5)
    with pytest.raises(InputError, match="eta"):
        theory.log_expected_count(8, 0.5, 1.5)
    with pytest.raises(InputError, match="dilution"):
        theory.log_expected_count(8, 0.5, 0.0, 0.0)
    with pytest.raises(InputError, match="dilution"):
        theory.log_expected_count(8, 0.5, 0.0, 1.5)


# ---------------------------------------------------------------------------------------------
# (c) against exact enumeration of sampled networks


@pytest.mark.parametrize("kw", [dict(eta=0.5), dict(eta=-0.5), dict(eta=1.0), dict(eta=-1.0),
                                dict(dilution=0.5)])
def test_disorder_average_matches_exact_mean(kw):
    ens = model.Ensemble(n=8, jd=0.5, **kw)
    s = compare_with_theory(disorder_average(ens, 4000, seed=1, workers=1), ens).summary
    assert s["log_expected_count"] == pytest.approx(
        theory.log_expected_count(8, 0.5, ens.eta, ens.dilution))
    assert abs(s["z_count"]) < Z_BOUND, s


def test_disorder_average_none_for_eta_with_dilution():
    ens = model.Ensemble(n=6, jd=0.2, eta=0.5, dilution=0.5)
    s = compare_with_theory(disorder_average(ens, 5, seed=1, workers=1), ens).summary
    assert s["expected_count"] is None and s["z_count"] is None
