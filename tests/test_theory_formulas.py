"""Tests of the closed-form theory of docs/formulas.md — (E1), (E2), (E2η), (E2λ), (E3), (E4),
(E5), (E-RS) — and of the symbolic derivations in :mod:`fplandscape.theory.symbolic`.

Every expected value is either a classic literature constant (stated as such), an exact
identity worked out in a comment, or computed by an independent reference written in this file
(plain enumeration of all 2^N states, brute-force summation / grid maximisation, 120-digit
mpmath quadrature of Owen's T). Nothing is copied from running the code under test.

Monte-Carlo comparisons use z = (mean − theory)/(std/√M) with a fixed seed and the bound
|z| < 4.5 (two-sided p ≈ 7e−6 for a single comparison; for the per-distance comparisons this is
a Bonferroni-style bound over the ~N+1 bins of one ensemble, family-wise p < 1e−4).
"""
import math

import mpmath
import numpy as np
import pytest
from scipy import special

from fplandscape import model
from fplandscape.errors import InputError
from fplandscape.theory import (
    annealed_entropy,
    annealed_local_entropy,
    annealed_local_entropy_small_d,
    expected_count,
    expected_pairs,
    isolation_radius,
    log_expected_count,
    log_expected_count_modular,
    log_expected_pairs,
    modular_entropy,
    pair_entropy,
    quenched_entropy_rs,
    small_d_coefficient,
)
from fplandscape.theory.counts import _entropy_negative_eta
from fplandscape.special import log_Phi2_equal

Z_BOUND = 4.5
LN2 = math.log(2.0)

# --------------------------------------------------------------------------------------------
# independent references (written here, not imported from the package)


def ref_states(n):
    """All 2^n states as a (2^n, n) float array of ±1 (row r: bit i of r set <=> s_i = +1)."""
    codes = np.arange(2**n)
    return (((codes[:, None] >> np.arange(n)) & 1) * 2 - 1).astype(np.float64)


def ref_fixed_point_masks(Js, S):
    """(M, 2^n) bool: state s is a FP of network m iff s_i (J s)_i > 0 for all i (strict)."""
    H = S[None, :, :] @ np.transpose(Js, (0, 2, 1))  # H[m, s, i] = Σ_j J[m, i, j] s_j
    return np.all(S[None] * H > 0, axis=2)


def ref_pair_counts(F, S):
    """(M, n+1): number of ordered pairs (σ, τ) of FPs with Hamming distance k (k = 0: σ = τ)."""
    n = S.shape[1]
    dist = np.rint((n - S @ S.T) / 2).astype(int)
    Ff = F.astype(np.float64)
    out = np.empty((F.shape[0], n + 1))
    for k in range(n + 1):
        out[:, k] = np.sum((Ff @ (dist == k).astype(np.float64)) * Ff, axis=1)
    return out


def z_score(samples, theory):
    samples = np.asarray(samples, dtype=np.float64)
    return (samples.mean(axis=0) - theory) / (samples.std(axis=0, ddof=1) / np.sqrt(samples.shape[0]))


def ref_log_chain_sum(jd, lam, layers):
    """ln Σ over all 2^L chains σ^(1..L) of Π_l Φ(J_D + λ σ^(l)(σ^(l−1) + σ^(l+1))), open ends."""
    S = ref_states(layers)
    padded = np.zeros((S.shape[0], layers + 2))
    padded[:, 1:-1] = S
    neigh = padded[:, :-2] + padded[:, 2:]
    return float(special.logsumexp(np.sum(special.log_ndtr(jd + lam * S * neigh), axis=1)))


def ref_log_phi2(a, rho, dps=120):
    """ln Φ₂(a, a; ρ) at ``dps`` digits from Owen's T, T(a, h) = (1/2π)∫₀^h t(x) dx with
    t(x) = exp(−a²(1+x²)/2)/(1+x²), h = √((1−ρ)/(1+ρ)). Returns (ln Φ₂, relative error bound).

    a ≥ 0: Φ₂ = Φ(a) − 2T(a, h) (no dangerous cancellation: Φ₂ ≥ 2Φ(a) − 1, and at 120 digits
    the few digits lost near a = 0, ρ → −1 do not matter).
    a < 0: Φ(a) − 2T cancels catastrophically in the tail (Φ₂/Φ(a) ~ e^{−a²h²/2}); since
    T(a, ∞) = Φ(a)/2 for a < 0, Φ₂ = 2[T(a, ∞) − T(a, h)] = (1/π)∫_h^∞ t(x) dx, a positive
    integral; with x = h + u·s, s = 1/(a²h + 1), the factor exp(−a²(1+h²)/2) comes out exactly.
    """
    with mpmath.workdps(dps):
        a = mpmath.mpf(a)
        rho = mpmath.mpf(rho)
        h = mpmath.sqrt((1 - rho) / (1 + rho))
        if a >= 0:
            T, err = mpmath.quad(lambda x: mpmath.exp(-a * a * (1 + x * x) / 2) / (1 + x * x),
                                 [0, h], error=True, maxdegree=12)
            val = mpmath.ncdf(a) - T / mpmath.pi
            err = err / mpmath.pi
        else:
            s = 1 / (a * a * h + 1)

            def scaled(u):
                x = h + u * s
                return mpmath.exp(-a * a * (2 * h * u * s + (u * s) ** 2) / 2) / (1 + x * x) * s

            I, err = mpmath.quad(scaled, [0, 1, 4, 16, 64, 256, mpmath.inf], error=True, maxdegree=12)
            pref = mpmath.exp(-a * a * (1 + h * h) / 2) / mpmath.pi
            val, err = pref * I, pref * err
        return mpmath.log(val), err / val


# --------------------------------------------------------------------------------------------
# (E2), (E2η)


def test_tanaka_edwards_constant():
    from fplandscape.theory import symbolic

    # literature: Tanaka & Edwards (1980): (1/N) ln E[# one-spin-flip stable states of SK] = 0.199228...
    s = annealed_entropy(0.0, eta=1.0)
    assert abs(s - 0.199228) < 1e-6
    te = symbolic.tanaka_edwards_value(dps=30)
    assert abs(float(te) - 0.199228) < 1e-6
    assert abs(s - float(te)) < 1e-10
    # the mpmath value is stable under a precision change (it really has ≥ 25 digits)
    with mpmath.workdps(40):
        assert abs(symbolic.tanaka_edwards_value(dps=40) - te) < mpmath.mpf(10) ** -25


def test_annealed_entropy_eta0_closed_form():
    assert annealed_entropy(0.0) == pytest.approx(0.0, abs=1e-15)  # ln 2 + ln(1/2): one FP
    grid = np.linspace(-3.0, 5.0, 81)
    s = annealed_entropy(grid)
    ref = np.array([math.log(math.erfc(-x / math.sqrt(2.0))) for x in grid])
    np.testing.assert_allclose(s, ref, rtol=1e-13, atol=1e-15)
    assert np.all(np.diff(s) > 0)  # more self-excitation, more FPs
    assert abs(annealed_entropy(12.0) - LN2) < 1e-15  # ln 2 + ln Φ(12), Φ(12) = 1 − 1.8e−33
    assert annealed_entropy(12.0) <= LN2  # s ≤ ln 2: at most all 2^N states are FPs


@pytest.mark.parametrize("eta", [0.25, 0.5, 1.0])
@pytest.mark.parametrize("jd", [-0.5, 0.0, 0.5, 1.5])
def test_positive_eta_two_derivations_and_grid(eta, jd):
    s = annealed_entropy(jd, eta=eta)
    # (i) the independent sup_m inf_t derivation made for η < 0 (valid for every η)
    assert abs(s - _entropy_negative_eta(jd, eta)) < 1e-9
    # (ii) brute force: ln 2 + max over a fine t grid of −t²/2 + ln Φ(J_D + √η t). The grid
    # maximum is below the true one by at most max|f''|·Δt²/8 < 2·(1e−5)²/8 (|f''| ≤ 1 + η)
    t = np.linspace(-12.0, 12.0, 2_400_001)
    brute = LN2 + np.max(-0.5 * t * t + special.log_ndtr(jd + math.sqrt(eta) * t))
    assert brute - 1e-13 <= s < brute + 1e-9


@pytest.mark.parametrize("jd", [-1.0, 0.0, 0.7, 2.0])
def test_eta_zero_both_derivations(jd):
    ref = math.log(math.erfc(-jd / math.sqrt(2.0)))
    assert abs(annealed_entropy(jd, eta=0.0) - ref) < 1e-13
    assert abs(_entropy_negative_eta(jd, 0.0) - ref) < 1e-9


# --------------------------------------------------------------------------------------------
# (E1), (E4) against plain enumeration

M_NETWORKS = 4000


@pytest.fixture(scope="module")
def enumerated():
    """{(n, jd): (counts (M,), ordered pair counts (M, n+1))} from 4000 networks each."""
    out = {}
    for n, jd in [(8, 0.0), (8, 0.5), (8, 1.0), (6, 0.0), (6, 0.5)]:
        rng = np.random.default_rng(20240 + 17 * n + int(10 * jd))
        Js = np.stack([model.gaussian_couplings(n, jd, seed=rng) for _ in range(M_NETWORKS)])
        S = ref_states(n)
        F = ref_fixed_point_masks(Js, S)
        out[(n, jd)] = (F.sum(axis=1), ref_pair_counts(F, S))
    return out


@pytest.mark.parametrize("n,jd", [(8, 0.0), (8, 0.5), (8, 1.0), (6, 0.0), (6, 0.5)])
def test_mean_count_vs_enumeration(enumerated, n, jd):
    counts, _ = enumerated[(n, jd)]
    theory = expected_count(n, jd)
    # E1 by hand: 2^N Φ(J_D/√((N−1)/N))^N
    assert theory == pytest.approx(2**n * special.ndtr(jd / math.sqrt((n - 1) / n)) ** n, rel=1e-12)
    assert abs(z_score(counts, theory)) < Z_BOUND


@pytest.mark.parametrize("n,jd", [(8, 0.0), (8, 0.5), (8, 1.0), (6, 0.0), (6, 0.5)])
def test_pair_counts_vs_enumeration(enumerated, n, jd):
    counts, pairs = enumerated[(n, jd)]
    theory = expected_pairs(n, jd)
    assert theory.shape == (n + 1,)
    # k = 0 pairs (σ, σ) are the FPs themselves; k = N pairs (σ, −σ) too (global flip symmetry)
    np.testing.assert_array_equal(pairs[:, 0], counts)
    np.testing.assert_array_equal(pairs[:, n], counts)
    assert theory[0] == pytest.approx(expected_count(n, jd), rel=1e-12)
    assert theory[n] == pytest.approx(expected_count(n, jd), rel=1e-12)
    for k in range(n + 1):
        if theory[k] == 0.0:
            # e.g. k = 1 at J_D = 0: the field on the flipped neuron is the same in both states
            assert np.all(pairs[:, k] == 0), f"k={k}: theory 0 but pairs observed"
            continue
        assert pairs[:, k].std() > 0, f"k={k}: theory {theory[k]} but no pair in {M_NETWORKS} networks"
        z = z_score(pairs[:, k], theory[k])
        assert abs(z) < Z_BOUND, f"k={k}: mean {pairs[:, k].mean()} vs theory {theory[k]}, z={z}"
    if jd == 0.0:
        assert theory[1] == 0.0 and theory[n - 1] == 0.0


# --------------------------------------------------------------------------------------------
# (E2λ) modular chain


@pytest.mark.parametrize("jd", [0.0, 0.3])
@pytest.mark.parametrize("lam", [0.5, 1.5])
def test_modular_count_vs_enumeration(jd, lam):
    n, layers = 3, 3
    rng = np.random.default_rng(777 + int(10 * jd) + int(100 * lam))
    Js = np.stack([model.modular_couplings(n, layers, jd, lam, seed=rng) for _ in range(M_NETWORKS)])
    counts = ref_fixed_point_masks(Js, ref_states(n * layers)).sum(axis=1)
    theory = math.exp(log_expected_count_modular(n, jd, lam, layers))
    assert abs(z_score(counts, theory)) < Z_BOUND


@pytest.mark.parametrize("jd", [-0.4, 0.0, 0.3, 1.2])
def test_modular_without_coupling_is_single_network(jd):
    for layers in (1, 2, 5, 17, np.inf):
        assert modular_entropy(jd, 0.0, layers) == pytest.approx(annealed_entropy(jd), abs=1e-13)
    # finite N: λ = 0 makes L independent networks, E[#] = E1^L
    assert log_expected_count_modular(4, jd, 0.0, 3) == pytest.approx(3 * log_expected_count(4, jd), abs=1e-12)


@pytest.mark.parametrize("jd,lam", [(0.0, 0.5), (0.3, 1.5), (0.0, 1.0), (-0.5, 1.0)])
def test_modular_chain_vs_brute_force(jd, lam):
    log_z = [ref_log_chain_sum(jd, lam, L) for L in range(1, 15)]
    for L in range(1, 15):  # finite L: exact column sum
        assert modular_entropy(jd, lam, L) * L == pytest.approx(log_z[L - 1], abs=1e-11)
    # L = ∞: ln Z_L − ln Z_{L−1} → ln(largest eigenvalue); the increments alternate around the
    # limit here (negative subdominant eigenvalue), so the last step bounds the error
    inc = np.diff(log_z)
    s_inf = modular_entropy(jd, lam)
    assert abs(inc[-1] - s_inf) <= abs(inc[-1] - inc[-2])
    assert abs(inc[-1] - s_inf) < 1e-6
    # s_L → s_∞ like b/L (boundary term): |s_L − s_∞| decreasing, L(s_L − s_∞) converging
    sL = np.array([modular_entropy(jd, lam, L) for L in (4, 8, 16, 32, 64, 128, 256)])
    err = np.abs(sL - s_inf)
    assert np.all(np.diff(err) < 0)
    b = np.array([4, 8, 16, 32, 64, 128, 256]) * (sL - s_inf)
    assert abs(b[-1] - b[-2]) < 1e-8 and abs(b[-1]) > 1e-4


@pytest.mark.parametrize("lam", [0.1, 0.5, 1.0, 3.0])
def test_modular_excitation_makes_count_exponential(lam):
    assert annealed_entropy(0.0) == pytest.approx(0.0, abs=1e-15)
    assert modular_entropy(0.0, lam) > 0.0
    assert modular_entropy(0.0, lam) > modular_entropy(0.0, 0.5 * lam)  # more excitation, more FPs


# --------------------------------------------------------------------------------------------
# (E3) pair entropy


@pytest.mark.parametrize("jd", [-0.5, 0.0, 0.3, 1.0, 2.0])
def test_pair_entropy_identities(jd):
    s = annealed_entropy(jd)
    # q = 0: ln 2 + ln 2 + ½ ln Φ² + ½ ln Φ² = 2s ;  q = ±1: ln 2 + 0 + ln Φ(J_D) = s
    assert pair_entropy(jd, 0.0) == pytest.approx(2 * s, abs=1e-13)
    assert pair_entropy(jd, 1.0) == pytest.approx(s, abs=1e-13)
    assert pair_entropy(jd, -1.0) == pytest.approx(s, abs=1e-13)
    q = np.linspace(0.0, 1.0, 41)
    np.testing.assert_allclose(pair_entropy(jd, -q), pair_entropy(jd, q), rtol=0, atol=1e-13)


@pytest.mark.parametrize("jd", [0.0, 0.5])
@pytest.mark.parametrize("d_num,d_den", [(1, 2), (1, 4), (1, 20), (3, 4)])  # q = 0, .5, .9, −.5
def test_pair_entropy_large_n_limit(jd, d_num, d_den):
    q = 1.0 - 2.0 * d_num / d_den
    errors = []
    for n in (400, 1600, 6400):
        k = n * d_num // d_den  # exact: k = N(1 − q)/2
        assert k * d_den == n * d_num
        errors.append(abs(log_expected_pairs(n, jd)[k] / n - pair_entropy(jd, q)))
    assert errors[0] > errors[1] > errors[2]
    assert errors[2] < 5e-3


# --------------------------------------------------------------------------------------------
# log Φ₂ against a 120-digit Owen's-T reference

A_GRID = [-38.0, -20.0, -10.0, -5.0, 0.0, 0.5, 3.0, 8.0]
RHO_GRID = [-0.999, -0.5, 0.0, 0.5, 0.999]


def test_log_phi2_against_owens_t_reference():
    worst = 0.0
    for a in A_GRID:
        for rho in RHO_GRID:
            ref, rel_err = ref_log_phi2(a, rho)
            assert rel_err < mpmath.mpf(10) ** -60, (a, rho, rel_err)  # quadrature converged
            got = log_Phi2_equal(a, rho)
            assert np.isfinite(got) and mpmath.isfinite(ref)
            rel = abs((mpmath.mpf(got) - ref) / ref)
            worst = max(worst, float(rel))
            assert rel < 1e-11, (a, rho, got, float(ref))
    assert worst < 1e-11


def test_log_phi2_reference_forms_agree_and_sheppard():
    # the two Owen's-T forms of the reference agree where the direct one loses only a few digits
    for a in (-5.0, -2.0):
        for rho in (0.0, 0.5, 0.999):
            with mpmath.workdps(120):
                h = mpmath.sqrt((1 - mpmath.mpf(rho)) / (1 + mpmath.mpf(rho)))
                aa = mpmath.mpf(a)
                T = mpmath.quad(lambda x: mpmath.exp(-aa * aa * (1 + x * x) / 2) / (1 + x * x),
                                [0, h], maxdegree=12) / (2 * mpmath.pi)
                direct = mpmath.log(mpmath.ncdf(aa) - 2 * T)
                tail, _ = ref_log_phi2(a, rho)
                assert abs(direct - tail) < mpmath.mpf(10) ** -50
    # Sheppard: Φ₂(0, 0; ρ) = 1/4 + arcsin(ρ)/(2π)
    for rho in RHO_GRID:
        assert log_Phi2_equal(0.0, rho) == pytest.approx(
            math.log(0.25 + math.asin(rho) / (2 * math.pi)), rel=1e-13)


def test_log_phi2_limits():
    with mpmath.workdps(50):
        for a in A_GRID:
            log_phi = float(mpmath.log(mpmath.ncdf(a)))
            assert log_Phi2_equal(a, 1.0) == pytest.approx(log_phi, rel=1e-13)  # Y = X
            minus = log_Phi2_equal(a, -1.0)  # Y = −X: P(−a < X < a)
            if a <= 0:
                assert minus == -np.inf
            else:
                assert minus == pytest.approx(float(mpmath.log(2 * mpmath.ncdf(a) - 1)), rel=1e-12)
        # independence in the far tail: ln Φ₂(a, a; 0) = 2 ln Φ(a) (relative 1e−12 on Φ₂)
        ref = 2 * mpmath.log(mpmath.ncdf(-30))
    assert abs(log_Phi2_equal(-30.0, 0.0) - float(ref)) < 1e-12


# --------------------------------------------------------------------------------------------
# (E5) small-d expansion, symbolic derivations


@pytest.mark.parametrize("jd", [0.3, 1.0])
def test_small_d_expansion_accuracy(jd):
    for d in (1e-6, 1e-5, 1e-4):
        diff = annealed_local_entropy(jd, d) - annealed_local_entropy_small_d(jd, d)
        assert abs(diff) / d**1.5 < 10, (d, diff)


def test_small_d_coefficient_is_the_sympy_derivation():
    from fplandscape.theory import symbolic

    assert symbolic.check_c_coefficient()
    c_sym = symbolic.c_coefficient_function("mpmath")
    for J in (-1.0, 0.0, 0.3, 1.0, 3.0):
        with mpmath.workdps(30):
            ref = float(c_sym(mpmath.mpf(J)))
        assert small_d_coefficient(J) == pytest.approx(ref, rel=1e-13)
    # the full derived expansion (to O(d^{3/2})) equals the implemented one
    assert symbolic.check_local_entropy_small_d()
    series, J, s = symbolic.local_entropy_small_d_series()
    import sympy

    f = sympy.lambdify((J, s), series, modules="mpmath")
    for jd in (0.3, 1.0, 2.0):
        for d in (1e-6, 1e-3, 0.05):
            with mpmath.workdps(30):
                ref = float(f(mpmath.mpf(jd), mpmath.sqrt(mpmath.mpf(d))))
            assert annealed_local_entropy_small_d(jd, d) == pytest.approx(ref, rel=1e-12, abs=1e-15)


def test_saddle_derivatives_symbolic():
    from fplandscape.theory import symbolic

    res = symbolic.check_saddle_derivatives(n_points=12, seed=3)
    for key in ("dm", "dg", "dq"):
        assert res["max_abs"][key] < 1e-40, key
        assert res["symbolic"][key] is True, key


def test_symbolic_not_imported_by_theory():
    import subprocess
    import sys

    code = "import sys, fplandscape.theory; print('sympy' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


@pytest.mark.parametrize("jd", [0.0, -0.5])
def test_small_d_needs_positive_jd(jd):
    with pytest.raises(InputError, match="J_D > 0"):
        annealed_local_entropy_small_d(jd, 1e-3)


# --------------------------------------------------------------------------------------------
# isolation radius


def test_isolation_radius():
    jds = [0.1, 0.3, 0.6, 1.0, 1.5, 2.0]
    radii = []
    for jd in jds:
        d0 = isolation_radius(jd)
        assert 0 < d0 < 0.5
        assert annealed_local_entropy(jd, d0 * (1 - 1e-6)) < 0
        assert annealed_local_entropy(jd, d0 * (1 + 1e-6)) >= 0
        # own grid on (0, d0): log-spaced from 1e−9·d0 up to (1 − 1e−5)·d0
        grid = d0 * np.concatenate([np.geomspace(1e-9, 0.5, 300), 1 - np.geomspace(0.5, 1e-5, 300)])
        assert np.all(annealed_local_entropy(jd, grid) < 0)
        radii.append(d0)
    assert np.all(np.diff(radii) < 0)  # stronger self-coupling, smaller isolation radius


# --------------------------------------------------------------------------------------------
# (E-RS)


@pytest.mark.parametrize("jd", [0.0, 0.3, 1.0, 2.0])
def test_rs_quenched_equals_annealed(jd):
    res = quenched_entropy_rs(jd, q0=0.5, lam0=0.5)
    assert res.converged
    assert res.iterations > 1  # really started away from the trivial point
    assert abs(res.q) < 1e-8 and abs(res.lam) < 1e-8
    assert abs(res.entropy - annealed_entropy(jd)) < 1e-9
    assert abs(res.entropy - math.log(math.erfc(-jd / math.sqrt(2.0)))) < 1e-9


# --------------------------------------------------------------------------------------------
# bad inputs

BAD_INPUTS = [
    (lambda: log_expected_count(0, 0.0), "N must be a positive integer"),
    (lambda: log_expected_count(2.5, 0.0), "N must be a positive integer"),
    (lambda: log_expected_pairs(2.5, 0.0), "N must be a positive integer"),
    (lambda: log_expected_count_modular(0, 0.0, 0.5, 3), "N must be a positive integer"),
    (lambda: annealed_entropy(0.0, eta=1.5), "eta must lie in"),
    (lambda: annealed_entropy(float("nan")), "J_D must be finite"),
    (lambda: pair_entropy(float("nan"), 0.5), "J_D must be finite"),
    (lambda: log_expected_count(5, float("nan")), "J_D must be finite"),
    (lambda: log_expected_count_modular(3, float("nan"), 0.5, 3), "J_D must be finite"),
    (lambda: pair_entropy(0.5, 1.2), "overlap q must lie in"),
    (lambda: annealed_local_entropy(0.5, -0.1), "distance d must lie in"),
    (lambda: annealed_local_entropy_small_d(0.5, -0.1), "distance d must lie in"),
    (lambda: modular_entropy(0.0, 0.5, 0), "layers"),
    (lambda: log_expected_count_modular(3, 0.0, 0.5, 0), "layers"),
    (lambda: modular_entropy(0.0, -0.5), "lambda"),
    (lambda: log_expected_count_modular(3, 0.0, -0.5, 3), "lambda"),
]


@pytest.mark.parametrize("call,message", BAD_INPUTS, ids=[m for _, m in BAD_INPUTS])
def test_bad_inputs(call, message):
    with pytest.raises(InputError, match=message):
        call()
