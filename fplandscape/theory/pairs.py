"""Pair entropy S₂(q) (E3) and the annealed local entropy around a typical FP (E5)."""
from __future__ import annotations

import numpy as np
from scipy import optimize

from ..errors import InputError, check_count
from .counts import _check_jd, _elementwise, _scalar_jd, annealed_entropy
from ..special import LN2, binary_entropy, log_Phi, log_Phi2_equal, phi


def _check_unit(x, name, lo, hi):
    try:
        x = np.asarray(x, dtype=np.float64)
    except (TypeError, ValueError):
        raise InputError(f"{name} must be a real number or an array of real numbers, "
                         f"got {x!r}") from None
    if not np.all(np.isfinite(x)) or np.any(x < lo) or np.any(x > hi):
        raise InputError(f"{name} must lie in [{lo}, {hi}]")
    return x


def pair_entropy(jd, q):
    """Annealed entropy of ordered pairs of FPs at overlap q (E3), N → ∞:

        S₂(q) = ln 2 + H₂((1+q)/2) + ((1+q)/2) ln Φ₂(J_D,J_D;q) + ((1−q)/2) ln Φ₂(J_D,J_D;−q).

    S₂(0) = 2 s(J_D), S₂(±1) = s(J_D), S₂(−q) = S₂(q). Vectorised (broadcasts jd and q).
    """
    jd = _check_jd(jd)
    q = _check_unit(q, "overlap q", -1.0, 1.0)
    jd, q = np.broadcast_arrays(jd, q)
    up, dn = 0.5 * (1.0 + q), 0.5 * (1.0 - q)
    with np.errstate(divide="ignore", invalid="ignore"):
        same = np.where(up > 0, up * log_Phi2_equal(jd, q), 0.0)
        diff = np.where(dn > 0, dn * log_Phi2_equal(jd, -q), 0.0)
    out = LN2 + binary_entropy(up) + same + diff
    return out if out.ndim else float(out)


def annealed_local_entropy(jd, d):
    """Annealed local entropy around a typical FP (E5): φ_ann(d) = S₂(1 − 2d) − s(J_D),
    d = Hamming distance / N ∈ [0, 1]."""
    d = _check_unit(d, "distance d", 0.0, 1.0)
    jd = _check_jd(jd)
    return pair_entropy(jd, 1.0 - 2.0 * d) - annealed_entropy(jd)


def small_d_coefficient(jd):
    """c(J_D) = √(2/π) φ(J_D)/Φ(J_D), the coefficient of −√d in (E5) (derived with sympy in
    :mod:`fplandscape.theory.symbolic`)."""
    jd = _check_jd(jd)
    return np.sqrt(2.0 / np.pi) * phi(jd) * np.exp(-log_Phi(jd))


def annealed_local_entropy_small_d(jd, d):
    """Small-d expansion of (E5), valid for J_D > 0 up to O(d^{3/2}):

        φ_ann(d) = −c √d + H₂(d) + d (ln[(2Φ(J_D) − 1)/Φ(J_D)] − c²/2) + O(d^{3/2}).

    The −c²d/2 term (absent from the shorter leading-order form) is the second-order term of
    ln Φ₂(J,J;1−2d) = ln Φ(J) + ln(1 − c√d + O(d^{3/2})); without it the error is O(d), not
    O(d^{3/2}). Derived with sympy in :func:`fplandscape.theory.symbolic.local_entropy_small_d_series`.
    """
    jd = _check_jd(jd)
    if np.any(jd <= 0):
        raise InputError("the small-d expansion of (E5) needs J_D > 0 (ln(2Φ(J_D) − 1) diverges)")
    d = _check_unit(d, "distance d", 0.0, 0.5)
    pj = np.exp(log_Phi(jd))
    c = small_d_coefficient(jd)
    return -c * np.sqrt(d) + binary_entropy(d) + d * (np.log((2 * pj - 1) / pj) - 0.5 * c * c)


def isolation_radius(jd, n_grid: int = 4000):
    """d₀(J_D): the smallest d > 0 where φ_ann(d) returns to 0 (φ_ann < 0 on (0, d₀)).

    Located by a sign scan on a grid of ``n_grid`` points uniform in √d, then refined with
    ``brentq`` (xtol 1e−12). J_D = 0 gives 1/2 (φ_ann < 0 on (0, 1/2), = s = 0 at 1/2); nan for
    J_D < 0, where φ_ann stays negative on (0, 1/2].

    Vectorised over ``jd``: a float for a scalar, else an array of the same shape (one root
    search per entry).
    """
    n_grid = check_count(n_grid, "n_grid", minimum=2)
    _check_jd(jd)
    return _elementwise(lambda x: _isolation_radius(x, n_grid), ("jd",), jd)


def _isolation_radius(jd, n_grid: int) -> float:
    jd = _scalar_jd(jd)
    d = np.linspace(0.0, np.sqrt(0.5), n_grid)[1:] ** 2
    d[-1] = 0.5  # sqrt(0.5)**2 rounds above 1/2
    f = annealed_local_entropy(jd, d)
    pos = np.nonzero(f >= 0)[0]
    if pos.size == 0:
        return float("nan")
    i = pos[0]
    if i == 0:
        return float(d[0])
    return float(optimize.brentq(lambda x: annealed_local_entropy(jd, x), d[i - 1], d[i], xtol=1e-12))


def min_pair_entropy(jd, n_grid: int = 2001):
    """min over q ∈ [0, 1] of S₂(q) and its location (grid uniform in √(1−q) near q = 1, refined
    by bounded Brent). Used by the overlap-gap criterion J_D^gap.

    Returns ``(value, q)``: two floats for a scalar ``jd``; for an array, two arrays of its
    shape."""
    n_grid = check_count(n_grid, "n_grid", minimum=2)
    arr = _check_jd(jd)
    if arr.ndim == 0:
        return _min_pair_entropy(float(arr), n_grid)
    value, where = np.empty(arr.shape), np.empty(arr.shape)
    for idx in np.ndindex(arr.shape):
        value[idx], where[idx] = _min_pair_entropy(float(arr[idx]), n_grid)
    return value, where


def _min_pair_entropy(jd: float, n_grid: int):
    u = np.linspace(0.0, 1.0, n_grid)  # q = 1 − u²: dense near q = 1 where S₂ dips like −√(1−q)
    q = 1.0 - u**2
    f = pair_entropy(jd, q)
    i = int(np.argmin(f))
    lo, hi = u[max(i - 1, 0)], u[min(i + 1, n_grid - 1)]
    if hi > lo:
        res = optimize.minimize_scalar(
            lambda x: pair_entropy(jd, 1.0 - x * x), bounds=(lo, hi), method="bounded",
            options={"xatol": 1e-12},
        )
        if res.fun < f[i]:
            return float(res.fun), float(1.0 - res.x**2)
    return float(f[i]), float(q[i])
