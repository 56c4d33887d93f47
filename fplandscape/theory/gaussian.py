"""Gaussian integrals, in log space, in one place.

Notation of spec §0: Φ standard normal CDF, φ its density, R(x) = φ(x)/Φ(x) (inverse Mills
ratio), H₂ binary entropy, Φ₂(a, a; ρ) = P(X < a, Y < a) for standard bivariate normals with
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

LOG_2PI_HALF = 0.5 * np.log(2.0 * np.pi)
LN2 = float(np.log(2.0))

# relative size of Φ₂ w.r.t. Φ(a) below which the Owen's-T difference is not trusted
_CANCELLATION_LIMIT = 1e-7


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
    """ln Φ₂(a, a; ρ) for ρ ∈ [−1, 1], vectorised.

    Owen's-T formula in double precision; where the subtraction Φ(a) − 2T cancels to less than
    1e−7 of Φ(a) (far tails) or underflows, the value is recomputed by :func:`log_Phi2_equal_mp`.
    """
    a, rho = np.broadcast_arrays(np.asarray(a, dtype=np.float64), np.asarray(rho, dtype=np.float64))
    if np.any(np.abs(rho) > 1.0):
        raise ValueError("correlation rho must lie in [-1, 1]")
    out = np.empty(a.shape, dtype=np.float64)
    pa = special.ndtr(a)
    with np.errstate(divide="ignore", invalid="ignore"):
        one = rho == 1.0
        minus = rho == -1.0
        inner = ~(one | minus)
        out[one] = special.log_ndtr(a[one])
        out[minus] = np.log(np.maximum(2.0 * pa[minus] - 1.0, 0.0))
        # -1 < rho < 1
        h = np.sqrt((1.0 - rho[inner]) / (1.0 + rho[inner]))
        val = pa[inner] - 2.0 * special.owens_t(a[inner], h)
        out[inner] = np.log(np.where(val > 0, val, np.nan))
        bad = np.zeros(a.shape, dtype=bool)
        bad[inner] = ~(val > _CANCELLATION_LIMIT * pa[inner]) | (pa[inner] < 1e-290)
        # rho = -1 with 2Φ(a)-1 tiny but positive: also cancellation
        bad[minus] = (2.0 * pa[minus] - 1.0 > 0) & (2.0 * pa[minus] - 1.0 < _CANCELLATION_LIMIT)
    for idx in np.argwhere(bad):
        idx = tuple(idx)
        out[idx] = log_Phi2_equal_mp(float(a[idx]), float(rho[idx]))
    return out if out.ndim else float(out)


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

        # the mass sits within ~1/|a| of x = a in the lower tail: geometric breakpoints there
        scale = 1 / max(mpmath.mpf(1), abs(a_))
        interior = [a_ - k * scale for k in (0.25, 0.5, 1, 2, 4, 8, 16, 32, 64)]
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
