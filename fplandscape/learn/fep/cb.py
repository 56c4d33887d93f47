"""The continuous-Bernoulli (CB) distribution on [−1, 1], the unit of the free-energy network.

A CB variable with parameter (natural parameter, "bias", log-odds evidence) ``b`` has density

    p_b(x) = exp(b x − A(b)),   x ∈ [−1, 1],   A(b) = log(2 sinh(b) / b)   (A(0) = log 2),

a truncated exponential; b = 0 is the uniform distribution. ``A`` is the log-normaliser
(:func:`log_normalizer`), a cumulant generating function: the mean is the Langevin function
``A'(b) = L(b) = coth b − 1/b`` and the variance ``A''(b) = L'(b) = 1/b² − 1/sinh² b``.

* entropy ``H(b) = A(b) − b L(b)`` (:func:`entropy`);
* Kullback–Leibler divergence ``KL(CB(q) ‖ CB(p)) = (q − p) L(q) − A(q) + A(p)`` (:func:`kl`,
  the "complexity" of the variational free energy);
* CDF ``F_b(x) = (e^{b(x+1)} − 1) / (e^{2b} − 1)`` and its inverse (:func:`inverse_cdf`),
  evaluated without overflow or cancellation as

      b ≤ 350:  x = −1 + log1p(u · expm1(2b)) / b     (b = 0: x = 2u − 1)
      b > 350:  x = 1 + log1p((1 − u) · expm1(−2b)) / b

  (algebraically identical to the reference's ``log(e^{−b} + u (e^{b} − e^{−b})) / b``, which
  overflows beyond |b| ≈ 709 and is clipped there at |b| = 500; these forms need no clip).
  :func:`sample` draws ``u`` uniform on [0, 1) — one double per unit, in unit order, the very
  stream the reference consumes — and returns ``inverse_cdf(b, u)`` clipped to [−1, 1].

``langevin`` here is a fast kernel for the training loop (``1/tanh z − 1/z``, replaced by its
Taylor series where |z| < 0.5; absolute error < 1e-15, tested against
:func:`fplandscape.attractors.phi.langevin` and mpmath); the attractor engine uses
:mod:`fplandscape.attractors.phi` itself.
"""
from __future__ import annotations

import numpy as np

__all__ = ["langevin", "langevin_derivative", "log_normalizer", "entropy", "kl", "pdf", "cdf",
           "inverse_cdf", "sample", "variance"]

# Taylor coefficients of L(z) = Σ_n 2^{2n} B_{2n} z^{2n−1} / (2n)!  (n = 1..12), Bernoulli B_{2n}
_L_COEF = (1.0 / 3.0, -1.0 / 45.0, 2.0 / 945.0, -1.0 / 4725.0, 2.0 / 93555.0,
           -1382.0 / 638512875.0, 4.0 / 18243225.0, -3617.0 / 162820783125.0,
           87734.0 / 38979295480125.0, -349222.0 / 1531329465290625.0,
           310732.0 / 13447856940643125.0, -472728182.0 / 201919571963756521875.0)
_SMALL = 0.5  # below: series (truncation < 1e-18 relative); above: 1/tanh z − 1/z (< 6e-16 abs)
_TINY = 1e-300  # added to z by the sampler so that z = 0 needs no branch (2u − 1 results)
_BIG = 350.0  # beyond: e^{2z} would overflow; the sampler switches to the e^{−2z} form


_C = np.array(_L_COEF)
_K = np.arange(len(_L_COEF), dtype=np.float64)


def _series(z):
    """Σ_n c_n z^{2n−1} as z · (powers of z²) @ c: four NumPy calls whatever the degree (the
    cost of a NumPy call, not the arithmetic, dominates on the small arrays of one network)."""
    return z * (np.power((z * z)[..., None], _K) @ _C)


def _langevin_raw(z: np.ndarray) -> np.ndarray:
    """L(z) of a float64 array (ndim ≥ 1); the caller suppresses floating-point warnings
    (z = 0 makes inf − inf before the series replaces it)."""
    out = 1.0 / np.tanh(z)
    out -= 1.0 / z
    a = np.abs(z)
    if a.min() < _SMALL:
        small = a < _SMALL
        out[small] = _series(z[small])
    return out


def _inverse_cdf_raw(z: np.ndarray, u: np.ndarray) -> np.ndarray:
    """CB(z) quantiles at u (float64 arrays of one shape, ndim ≥ 1); the caller suppresses
    warnings. ``x = log1p(u · expm1(2z)) / z − 1`` — the reference's formula rearranged, exact
    for both signs — except where z > 350 (e^{2z} overflows), where the equivalent
    ``1 + log1p((1 − u) · expm1(−2z)) / z`` is used; z = 0 is shifted to 1e-300 (→ 2u − 1)."""
    z = z + _TINY
    x = np.log1p(u * np.expm1(2.0 * z))
    x /= z
    x -= 1.0
    if z.max() > _BIG:
        big = z > _BIG
        zb = z[big]
        x[big] = 1.0 + np.log1p((1.0 - u[big]) * np.expm1(-2.0 * zb)) / zb
    # in [−1, 1] analytically; ±1 ulp of rounding is clipped (np.clip is slower on small arrays)
    np.maximum(x, -1.0, out=x)
    return np.minimum(x, 1.0, out=x)


def langevin(z):
    """Langevin function ``L(z) = coth z − 1/z`` (the CB mean), elementwise, L(0) = 0."""
    z = np.asarray(z, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = _langevin_raw(np.array(z, ndmin=1))
    return out.reshape(z.shape) if z.ndim else float(out[0])


def langevin_derivative(z):
    """``L'(z) = 1/z² − 1/sinh² z`` (the CB variance); the engine's accurate version."""
    from ...attractors.phi import langevin_derivative as dl

    return dl(z)


variance = langevin_derivative


def log_normalizer(b):
    """``A(b) = log(2 sinh b / b)`` (A(0) = log 2), without overflow for large |b|."""
    b = np.asarray(b, dtype=np.float64)
    a = np.abs(b)
    a2 = a * a
    # log(sinh a / a) = log1p(a²/6 + a⁴/120 + a⁶/5040 + a⁸/362880) for a < 1e-2 (error < 1e-22)
    small = np.log(2.0) + np.log1p(a2 * (1.0 / 6.0 + a2 * (1.0 / 120.0 + a2 * (
        1.0 / 5040.0 + a2 / 362880.0))))
    with np.errstate(divide="ignore", invalid="ignore"):
        # 2 sinh a = e^a (1 − e^{−2a})
        big = a + np.log(-np.expm1(-2.0 * a)) - np.log(a)
    out = np.where(a < 1e-2, small, big)
    return out if out.ndim else float(out)


def entropy(b):
    """Differential entropy ``A(b) − b L(b)`` of CB(b) (log 2 at b = 0)."""
    b = np.asarray(b, dtype=np.float64)
    out = log_normalizer(b) - b * langevin(b)
    return out if np.ndim(out) else float(out)


def kl(q, p):
    """``KL(CB(q) ‖ CB(p)) = (q − p) L(q) − A(q) + A(p)`` elementwise (≥ 0, 0 iff q = p)."""
    q = np.asarray(q, dtype=np.float64)
    p = np.asarray(p, dtype=np.float64)
    out = (q - p) * langevin(q) - log_normalizer(q) + log_normalizer(p)
    return out if np.ndim(out) else float(out)


def pdf(x, b):
    """Density ``exp(b x − A(b))`` on [−1, 1] (0 outside)."""
    x = np.asarray(x, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    out = np.where(np.abs(x) <= 1.0, np.exp(b * x - log_normalizer(b)), 0.0)
    return out if out.ndim else float(out)


def cdf(x, b):
    """``F_b(x) = (e^{b(x+1)} − 1)/(e^{2b} − 1)`` on [−1, 1] (stable for every b)."""
    x = np.clip(np.asarray(x, dtype=np.float64), -1.0, 1.0)
    b = np.asarray(b, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        # b > 0: F = e^{b(x−1)} (1 − e^{−b(x+1)}) / (1 − e^{−2b});  b < 0: expm1 ratio directly
        pos = np.exp(b * (x - 1.0)) * np.expm1(-b * (x + 1.0)) / np.expm1(-2.0 * b)
        neg = np.expm1(b * (x + 1.0)) / np.expm1(2.0 * b)
    out = np.where(b > 0, pos, np.where(b < 0, neg, 0.5 * (x + 1.0)))
    return out if out.ndim else float(out)


def inverse_cdf(b, u):
    """The CB(b) quantile at ``u`` ∈ [0, 1] (module docstring), clipped to [−1, 1]."""
    b, u = np.broadcast_arrays(np.asarray(b, dtype=np.float64), np.asarray(u, dtype=np.float64))
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        out = _inverse_cdf_raw(np.array(b, ndmin=1), np.array(u, ndmin=1))
    return out.reshape(b.shape) if b.ndim else float(out[0])


def sample(b, rng) -> np.ndarray:
    """One CB(b) sample per entry of ``b`` (inverse CDF of ``rng.random(b.shape)``)."""
    b = np.asarray(b, dtype=np.float64)
    return inverse_cdf(b, rng.random(b.shape))
