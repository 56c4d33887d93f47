"""Mean numbers of fixed points: closed forms (E1), (E2), (E2η), (E2λ) and pair counts (E4).

All counts are returned in log space (``log_*``) since they are exponential in N; the
convenience functions without ``log_`` exponentiate (and overflow to inf for large N).
"""
from __future__ import annotations

import numpy as np
from scipy import optimize, special

from ..errors import InputError
from .gaussian import LN2, log_Phi, log_Phi2_equal, mills_ratio


def _check_jd(jd):
    jd = np.asarray(jd, dtype=np.float64)
    if not np.all(np.isfinite(jd)):
        raise InputError("self-coupling J_D must be finite")
    return jd


def _check_n(n):
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise InputError(f"N must be a positive integer, got {n!r}")
    return int(n)


def _check_real(value, what, ok, requirement):
    """A finite real number satisfying ``ok``, else InputError('<what> must <requirement>')."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise InputError(f"{what} must be a real number, got {value!r}") from None
    if not (np.isfinite(v) and ok(v)):
        raise InputError(f"{what} must {requirement}, got {v}")
    return v


def _check_lam(lam):
    return _check_real(lam, "inter-module coupling lambda", lambda v: v >= 0, "be finite and ≥ 0")


def _check_layers(layers, allow_inf=False):
    """Number of modules L: a positive integer (or +inf where ``allow_inf``)."""
    if allow_inf and isinstance(layers, (int, float, np.integer, np.floating)) and layers == np.inf:
        return np.inf
    if isinstance(layers, bool) or not isinstance(layers, (int, float, np.integer, np.floating)) \
            or not np.isfinite(layers) or not float(layers).is_integer() or layers < 1:
        extra = " or inf" if allow_inf else ""
        raise InputError(f"layers (number of modules L) must be a positive integer{extra}, got {layers!r}")
    return int(layers)


def _check_eta(eta):
    return _check_real(eta, "reciprocity eta", lambda v: -1.0 <= v <= 1.0, "lie in [-1, 1]")


# ------------------------------------------------------------------------------------------
# (E2), (E2η): annealed entropy per neuron


def annealed_entropy(jd, eta: float = 0.0):
    """Annealed entropy of fixed points per neuron, s = lim (1/N) ln E[#FP].

    η = 0 (E2):   s(J_D) = ln 2 + ln Φ(J_D) = ln erfc(−J_D/√2)   (vectorised over ``jd``).
    η > 0 (E2η):  s(η, J_D) = ln 2 + max_t [ −t²/2 + ln Φ(J_D + √η t) ].
    η < 0:        s = ln 2 + sup_m inf_t [ t²/2 − t m + ln Φ(J_D + t − α m) ], α = 1 − √(1+η)
                  (derivation in paper_notes.md; valid for every η ∈ [−1, 1]).
    """
    jd = _check_jd(jd)
    eta = _check_eta(eta)
    if eta == 0.0:
        out = LN2 + log_Phi(jd)
    elif eta > 0.0:
        out = LN2 + _max_common_mode(jd, eta)
    else:
        out = np.vectorize(_entropy_negative_eta, otypes=[float])(jd, eta)
        if eta == -1.0:  # antisymmetric J: Σ_i u_i = 0, so Σ_i (J_D + u_i) = N J_D; no FP if J_D ≤ 0
            out = np.where(jd <= 0, -np.inf, out)
    return out if out.ndim else float(out)


def _max_common_mode(jd, eta):
    """max_t f(t), f(t) = −t²/2 + ln Φ(J_D + √η t) (concave). f'(t) = −t + √η R(J_D + √η t)
    has its root in [0, √η R(J_D)]; safeguarded Newton, vectorised."""
    se = np.sqrt(eta)
    lo = np.zeros_like(jd)
    hi = se * mills_ratio(jd)
    t = 0.5 * (lo + hi)
    for _ in range(100):
        u = jd + se * t
        r = mills_ratio(u)
        g = -t + se * r
        dg = -1.0 - eta * r * (u + r)  # R'(u) = −R(u)(u + R(u))
        lo = np.where(g > 0, t, lo)
        hi = np.where(g > 0, hi, t)
        t_new = t - g / dg
        t_new = np.where((t_new <= lo) | (t_new >= hi), 0.5 * (lo + hi), t_new)
        if np.all(np.abs(t_new - t) <= 1e-15 * (1.0 + np.abs(t))):
            t = t_new
            break
        t = t_new
    return -0.5 * t * t + log_Phi(jd + se * t)


def _entropy_negative_eta(jd, eta):
    alpha = 1.0 - np.sqrt(1.0 + eta)

    def inner(m):  # inf over t of a strictly convex function
        f = lambda t: 0.5 * t * t - t * m + log_Phi(jd + t - alpha * m)
        res = optimize.minimize_scalar(f, bracket=(m - 1.0, m + 1.0), tol=1e-12)
        return res.fun

    res = optimize.minimize_scalar(lambda m: -inner(m), bracket=(-1.0, 1.0), tol=1e-10)
    return LN2 - res.fun


# ------------------------------------------------------------------------------------------
# (E1), (E4): exact finite-N means


def _finite_n_threshold(n, jd):
    """a = J_D / √((N−1)/N); for N = 1 the field is J_D alone (±inf, or a tie at 0)."""
    if n == 1:
        return np.where(jd > 0, np.inf, -np.inf)
    return jd / np.sqrt((n - 1) / n)


def log_expected_count(n: int, jd):
    """ln E[#FP] at finite N (E1, η = 0): N ln 2 + N ln Φ(J_D/√((N−1)/N)).

    Exact for the ensemble of spec §1: the u_i = σ_i Σ_{j≠i} J_ij σ_j use disjoint rows and are
    i.i.d. N(0, (N−1)/N). N = 1: 2 fixed points if J_D > 0, none otherwise (ties are unstable).
    """
    n = _check_n(n)
    jd = _check_jd(jd)
    with np.errstate(divide="ignore"):
        out = n * LN2 + n * log_Phi(_finite_n_threshold(n, jd))
    return out if out.ndim else float(out)


def expected_count(n: int, jd):
    """E[#FP] at finite N (E1): 2^N Φ(J_D/√((N−1)/N))^N."""
    return np.exp(log_expected_count(n, jd))


def log_expected_pairs(n: int, jd: float) -> np.ndarray:
    """ln E[#ordered pairs (σ, τ) of FPs at Hamming distance k], k = 0..N (E4, η = 0):

        E[#pairs_k] = 2^N C(N,k) Φ₂(a,a;ρ_s)^(N−k) Φ₂(a,a;ρ_f)^k,   a = J_D/√((N−1)/N),
        ρ_s = (N−1−2k)/(N−1),  ρ_f = −(N+1−2k)/(N−1).

    k = 0 (and k = N) reduce to (E1). A factor with exponent 0 is 1. Entries are −inf where the
    mean is exactly 0 (e.g. k = 1 at J_D ≤ 0).
    """
    n = _check_n(n)
    jd = float(_check_jd(jd))
    k = np.arange(n + 1)
    if n == 1:
        both = LN2 if jd > 0 else -np.inf
        return np.array([log_expected_count(1, jd), both])
    a = float(_finite_n_threshold(n, jd))
    log_binom = special.gammaln(n + 1) - special.gammaln(k + 1) - special.gammaln(n - k + 1)
    rho_s = np.clip((n - 1 - 2 * k) / (n - 1), -1.0, 1.0)
    rho_f = np.clip(-(n + 1 - 2 * k) / (n - 1), -1.0, 1.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        same = np.where(n - k > 0, (n - k) * log_Phi2_equal(a, rho_s), 0.0)
        flip = np.where(k > 0, k * log_Phi2_equal(a, rho_f), 0.0)
    return n * LN2 + log_binom + same + flip


def expected_pairs(n: int, jd: float) -> np.ndarray:
    """E[#ordered pairs of FPs at distance k], k = 0..N (E4); unordered distinct pairs are half
    of this for 0 < k < N."""
    return np.exp(log_expected_pairs(n, jd))


# ------------------------------------------------------------------------------------------
# (E2λ): modular chain


def _chain_weights(jd, lam, scale=1.0):
    """w[a, b, c] = ln Φ((J_D + λ b (a + c))/scale) for a, c ∈ {−1, 0, +1} (0 = open end), b = ±1;
    ``scale = 0`` gives the noiseless step (0 or −inf)."""
    spins = np.array([-1.0, 0.0, 1.0])
    a = spins[:, None, None]
    b = np.array([-1.0, 1.0])[None, :, None]
    c = spins[None, None, :]
    x = jd + lam * b * (a + c)
    if scale == 0.0:  # no recurrent noise (N = 1): stable iff the field is strictly positive
        return np.where(x > 0, 0.0, -np.inf)
    return log_Phi(x / scale)


def _log_column_sum(jd, lam, layers, scale=1.0):
    """ln Σ_{σ^(1..L)} Π_l Φ((J_D + λ σ^(l)(σ^(l−1) + σ^(l+1)))/scale), σ^(0) = σ^(L+1) = 0,
    by a forward pass over pairs (σ^(l−1), σ^(l)) in log space."""
    w = _chain_weights(jd, lam, scale)  # indices: a in {0:-1,1:0,2:+1}, b in {0:-1,1:+1}, c
    spin_idx = {-1: 0, 1: 2}  # index of ±1 in the {-1, 0, +1} axis
    # message over (prev, cur) with prev possibly the open end (index 1)
    msg = {(1, bi): 0.0 for bi in (0, 1)}  # σ^(0) = 0, σ^(1) = ∓1
    for layer in range(1, layers + 1):
        last = layer == layers
        new = {}
        for (ai, bi), val in msg.items():
            nexts = [(1, None)] if last else [(spin_idx[-1], 0), (spin_idx[1], 1)]
            for ci, cb in nexts:
                term = val + w[ai, bi, ci]
                key = ("end", None) if last else (2 * bi, cb)
                new[key] = np.logaddexp(new.get(key, -np.inf), term)
        msg = new
    return msg[("end", None)]


def modular_entropy(jd: float, lam: float, layers=np.inf) -> float:
    """Annealed entropy per neuron of the modular chain (E2λ), N → ∞:

        s_L = (1/L) ln Σ_{σ^(1..L)} Π_l Φ(J_D + λ σ^(l)(σ^(l−1) + σ^(l+1))),  σ^(0) = σ^(L+1) = 0;

    ``layers = inf``: s_∞ = ln of the largest eigenvalue of the 4×4 transfer matrix
    T[(a,b),(b,c)] = Φ(J_D + λ b (a + c)) on consecutive pairs.
    """
    jd = float(_check_jd(jd))
    lam = _check_lam(lam)
    layers = _check_layers(layers, allow_inf=True)
    if np.isinf(layers):
        return float(np.log(_transfer_eigenvalue(jd, lam)))
    return float(_log_column_sum(jd, lam, layers) / layers)


def _transfer_eigenvalue(jd, lam):
    states = [(-1, -1), (-1, 1), (1, -1), (1, 1)]
    T = np.zeros((4, 4))
    for i, (a, b) in enumerate(states):
        for j, (b2, c) in enumerate(states):
            if b2 == b:
                T[i, j] = np.exp(log_Phi(jd + lam * b * (a + c)))
    return float(np.max(np.abs(np.linalg.eigvals(T))))


def log_expected_count_modular(n: int, jd: float, lam: float, layers: int) -> float:
    """Exact ln E[#FP] of the finite modular ensemble (L modules of N neurons): columns i are
    independent, so E[#FP] = Z^N with Z the column sum of (E2λ) at scale √((N−1)/N)."""
    n = _check_n(n)
    jd = float(_check_jd(jd))
    lam = _check_lam(lam)
    layers = _check_layers(layers)
    if n == 1:
        return float(_log_column_sum(jd, lam, layers, 0.0))
    return float(n * _log_column_sum(jd, lam, layers, np.sqrt((n - 1) / n)))
