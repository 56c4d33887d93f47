"""Special functions: Gaussian and bivariate-normal integrals, in log space, in one place.

The ground floor under :mod:`fplandscape.theory`, the message passing of :mod:`fplandscape.sim.bp`
and the accessibility study alike (it imports nothing of the package but :mod:`fplandscape.errors`).

Notation of docs/model.md#notation: Φ standard normal CDF, φ its density, R(x) = φ(x)/Φ(x) (inverse
Mills ratio), H₂ binary entropy, Φ₂(a, a; ρ) = P(X < a, Y < a) for standard bivariate normals with
correlation ρ.

Double precision is used wherever it is accurate; :func:`log_Phi2_equal` switches to an mpmath
integral (no cancellation) in the far tails where Owen's-T subtraction loses digits. The
``*_mp`` functions are the high-precision reference mode used by the tests.
"""
from __future__ import annotations

from functools import lru_cache

import mpmath
import numpy as np
from numpy.polynomial.hermite_e import hermegauss
from scipy import special

from .errors import InputError

LOG_2PI_HALF = 0.5 * np.log(2.0 * np.pi)
LN2 = float(np.log(2.0))

# relative size of Φ₂ w.r.t. Φ(a) below which the Owen's-T difference is not trusted (only
# reached in a corner: a ≈ 0, ρ ≈ −1, where the Gauss–Laguerre tail form does not apply)
_CANCELLATION_LIMIT = 1e-7
# β = a²h²/2 above which the Owen's-T tail integral is evaluated by Gauss–Laguerre (64 nodes:
# relative error ~1e−16 for β ≥ 2, checked against a 120-digit reference in the tests)
_TAIL_BETA = 2.0
_LAGUERRE_NODES = 64


def log_Phi(x):
    """ln Φ(x), accurate for all real x (``scipy.special.log_ndtr``)."""
    return special.log_ndtr(x)


def Phi(x):
    """Φ(x)."""
    return special.ndtr(x)


def log_phi(x):
    """ln φ(x) = −x²/2 − ln √(2π)."""
    x = np.asarray(x, dtype=np.float64)
    return -0.5 * x * x - LOG_2PI_HALF


def phi(x):
    """φ(x) = exp(−x²/2)/√(2π)."""
    return np.exp(log_phi(x))


def mills_ratio(x):
    """R(x) = φ(x)/Φ(x), computed as exp(ln φ − ln Φ) (finite for all x; R(x) ≈ −x as x → −∞)."""
    return np.exp(log_phi(x) - log_Phi(x))


def binary_entropy(x):
    """H₂(x) = −x ln x − (1−x) ln(1−x), with H₂(0) = H₂(1) = 0."""
    x = np.asarray(x, dtype=np.float64)
    return special.entr(x) + special.entr(1.0 - x)


# ------------------------------------------------------------------------------------------
# bivariate normal with equal arguments


def Phi2_equal(a, rho):
    """Φ₂(a, a; ρ) = Φ(a) − 2 T(a, √((1−ρ)/(1+ρ))) (Owen's T), with the limits
    Φ₂(a, a; 1) = Φ(a) and Φ₂(a, a; −1) = max(2Φ(a) − 1, 0)."""
    return np.exp(log_Phi2_equal(a, rho))


def log_Phi2_equal(a, rho):
    """ln Φ₂(a, a; ρ) for ρ ∈ [−1, 1], vectorised, to ~1e−13 relative accuracy everywhere.

    With h = √((1−ρ)/(1+ρ)) and the Owen's-T integrand t(x) = exp(−a²(1+x²)/2)/(1+x²):

    * Φ₂ = Φ(a) − 2T(a, h) (T = (1/2π)∫₀^h t). For a > 0 written as
      ln Φ₂ = log1p(−[Φ(−a) + 2T]) so that ln Φ₂ keeps its relative accuracy when Φ₂ → 1.
    * Where this subtraction cancels (a < 0, β = a²h²/2 large, Φ₂/Φ(a) ~ e^{−β}), the
      cancellation-free tail form
          Φ₂ = max(erf(a/√2), 0) + (1/π) ∫_h^∞ t(x) dx      (T(a, ∞) = Φ(−|a|)/2)
      is used, with x² = h² + 2v/a²:  (1/π)∫_h^∞ t = e^{−a²(1+h²)/2}/(π a²)
      ∫₀^∞ e^{−v} dv / [(1 + h² + 2v/a²) √(h² + 2v/a²)], by 64-node Gauss–Laguerre (β ≥ 2).
    * ρ = 1: ln Φ(a); ρ = −1: ln max(2Φ(a) − 1, 0) = ln erf(a/√2) for a > 0, −inf otherwise.
    * Any remaining point where Φ₂ < 1e−7 Φ(a) (a ≈ 0, ρ ≈ −1) or Φ(a) underflows is
      recomputed by :func:`log_Phi2_equal_mp`.
    """
    try:
        a, rho = np.asarray(a, dtype=np.float64), np.asarray(rho, dtype=np.float64)
        a, rho = np.broadcast_arrays(a, rho)
    except (TypeError, ValueError):
        raise InputError("log_Phi2_equal: a and rho must be real numbers or arrays of them "
                         "that broadcast together") from None
    if np.any(np.abs(rho) > 1.0) or np.any(np.isnan(rho)):
        raise InputError("correlation rho must lie in [-1, 1]")
    out = np.empty(a.shape, dtype=np.float64)
    bad = np.zeros(a.shape, dtype=bool)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore", under="ignore"):
        one = rho == 1.0
        minus = rho == -1.0
        inner = ~(one | minus)
        out[one] = special.log_ndtr(a[one])
        am = a[minus]
        out[minus] = np.where(
            am > 1.0, np.log1p(-special.erfc(am / np.sqrt(2.0))),
            np.where(am > 0, np.log(special.erf(am / np.sqrt(2.0))), -np.inf))
        # -1 < rho < 1
        ai, ri = a[inner], rho[inner]
        h = np.sqrt((1.0 - ri) / (1.0 + ri))
        two_t = 2.0 * special.owens_t(ai, h)
        pa = special.ndtr(ai)
        val = np.where(ai > 0, 1.0 - (special.ndtr(-ai) + two_t), pa - two_t)
        direct = np.where(ai > 0, np.log1p(-(special.ndtr(-ai) + two_t)), np.log(val))
        beta = 0.5 * (ai * h) ** 2
        tail = (beta >= _TAIL_BETA) & (ai != 0)
        res = np.where(tail, _log_Phi2_tail(ai, h), direct)
        out[inner] = res
        bad[inner] = ~tail & (~(val > _CANCELLATION_LIMIT * pa) | (pa < 1e-290) | ~np.isfinite(res))
    for idx in np.argwhere(bad):
        idx = tuple(idx)
        out[idx] = log_Phi2_equal_mp(float(a[idx]), float(rho[idx]))
    return out if out.ndim else float(out)


def _log_Phi2_tail(a, h):
    """ln Φ₂(a, a; ρ) from the positive tail form (see :func:`log_Phi2_equal`), vectorised;
    accurate for β = a²h²/2 ≥ 2 (a ≠ 0)."""
    v, w = laguerre_rule(_LAGUERRE_NODES)
    a2 = (a * a)[..., None]
    h2 = (h * h)[..., None]
    g = 1.0 / ((1.0 + h2 + 2.0 * v / a2) * np.sqrt(h2 + 2.0 * v / a2))
    log_tail = (-0.5 * a * a * (1.0 + h * h) - np.log(np.pi) - np.log(a * a)
                + np.log(np.sum(w * g, axis=-1)))
    # a > 1: Φ₂ = 1 − erfc(a/√2) + tail with tail ≤ Φ(−a) = erfc/2 (log1p keeps Φ₂ → 1 accurate)
    erfc_part = special.erfc(np.abs(a) / np.sqrt(2.0))
    erf_part = np.where(a > 0, special.erf(a / np.sqrt(2.0)), 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        near_one = np.log1p(np.exp(log_tail) - erfc_part)
        general = np.logaddexp(np.log(erf_part), log_tail)
    return np.where(a > 1.0, near_one, general)


@lru_cache(maxsize=4)
def laguerre_rule(n: int):
    """Gauss–Laguerre rule for ∫₀^∞ e^{−v} f(v) dv: (nodes, weights), read-only."""
    v, w = special.roots_laguerre(n)
    v.setflags(write=False)
    w.setflags(write=False)
    return v, w


def log_Phi2_equal_mp(a: float, rho: float, dps: int = 30) -> float:
    """ln Φ₂(a, a; ρ) by mpmath quadrature of a positive integrand (no cancellation):

        Φ₂(a, a; ρ) = ∫_{−∞}^{a} φ(x) Φ((a − ρx)/√(1−ρ²)) dx,

    split at the step of the inner Φ when |ρ| → 1. Returns −inf when Φ₂ = 0 exactly (ρ = −1, a ≤ 0).
    """
    with mpmath.workdps(dps):
        a_ = mpmath.mpf(a)
        r = mpmath.mpf(rho)
        if r == 1:
            return float(mpmath.log(mpmath.ncdf(a_)))
        if r == -1:
            v = 2 * mpmath.ncdf(a_) - 1
            return float(mpmath.log(v)) if v > 0 else -np.inf
        s = mpmath.sqrt(1 - r * r)

        def f(x):
            return mpmath.npdf(x) * mpmath.ncdf((a_ - r * x) / s)

        # the mass sits within ~1/D of x = a, D = d/dx ln[φ(x) Φ((a − ρx)/s)] at x = a
        # (D = −a − (ρ/s) R(a h), up to |a|/(1+ρ) when ρ → −1): geometric breakpoints there
        z = a_ * (1 - r) / s
        slope = -a_ - (r / s) * mpmath.npdf(z) / mpmath.ncdf(z)
        scale = 1 / max(mpmath.mpf(1), abs(a_), abs(slope))
        interior = [a_ - k * scale for k in (0.25, 0.5, 1, 2, 4, 8, 16, 32, 64, 128, 256)]
        interior += [a_ - k / max(mpmath.mpf(1), abs(a_)) for k in (1, 4, 16, 64)]
        if r != 0:
            step = a_ / r  # where the inner argument changes sign
            interior += [step - 8 * s, step, step + 8 * s]
        interior = sorted(set(c for c in interior if c < a_))
        pts = [-mpmath.inf] + interior + [a_]
        val = mpmath.quad(f, pts)
        return float(mpmath.log(val)) if val > 0 else -np.inf


def owens_t_mp(h, a, dps: int = 50):
    """Owen's T(h, a) = (1/2π) ∫₀^a exp(−h²(1+x²)/2)/(1+x²) dx in mpmath (reference mode)."""
    with mpmath.workdps(dps):
        h = mpmath.mpf(h)
        return mpmath.quad(lambda x: mpmath.exp(-h * h * (1 + x * x) / 2) / (1 + x * x), [0, a]) / (
            2 * mpmath.pi
        )


# ------------------------------------------------------------------------------------------
# quadrature rules (nodes, weights summing to 1)


@lru_cache(maxsize=64)
def normal_rule(n: int):
    """Gauss–Hermite rule for E[f(z)], z ~ N(0, 1): (nodes, weights), weights sum to 1."""
    x, w = hermegauss(n)
    w = w / w.sum()
    x.setflags(write=False)
    w.setflags(write=False)
    return x, w


@lru_cache(maxsize=256)
def truncated_normal_rule(lower: float, n: int):
    """Gauss–Legendre rule for E[f(x) | x > lower], x ~ N(0, 1), on [lower, max(lower, 0) + 9]
    (the neglected tail has mass < 1e−18); weights ∝ φ(x_i)·(Legendre weight), summing to 1.

    ``lower = -inf`` returns the Gauss–Hermite rule (no truncation)."""
    if not np.isfinite(lower):
        return normal_rule(n)
    upper = max(lower, 0.0) + 9.0
    t, wl = np.polynomial.legendre.leggauss(n)
    x = 0.5 * (upper - lower) * t + 0.5 * (upper + lower)
    w = wl * np.exp(log_phi(x) - log_phi(max(lower, 0.0)))
    w = w / w.sum()
    x.setflags(write=False)
    w.setflags(write=False)
    return x, w
