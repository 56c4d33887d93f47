"""Mean numbers of fixed points: closed forms (E1), (E2), (E2η), (E2λ) and pair counts (E4).

All counts are returned in log space (``log_*``) since they are exponential in N; the
convenience functions without ``log_`` exponentiate (and overflow to inf for large N).
"""
from __future__ import annotations

import numpy as np
from scipy import integrate, optimize, special

from ..errors import InputError, check_count
from ..special import LN2, LOG_2PI_HALF, log_Phi, log_Phi2_equal, mills_ratio


def _check_jd(jd, name: str = "self-coupling J_D"):
    """``jd`` as a float64 array (any shape); InputError unless every entry is a finite real."""
    try:
        arr = np.asarray(jd, dtype=np.float64)
    except (TypeError, ValueError):
        raise InputError(f"{name} must be a real number or an array of real numbers, "
                         f"got {jd!r}") from None
    if not np.all(np.isfinite(arr)):
        raise InputError(f"{name} must be finite")
    return arr


def _scalar_jd(jd, name: str = "self-coupling J_D") -> float:
    """One finite real ``jd`` (functions computing a whole curve at one J_D); InputError for an
    array with more than one element, naming the argument."""
    arr = _check_jd(jd, name)
    if arr.ndim:
        if arr.size != 1:
            raise InputError(f"{name} must be a single number here, got an array of shape "
                             f"{arr.shape}")
        arr = arr.reshape(())
    return float(arr)


def _elementwise(func, names, *args):
    """``func`` (scalar arguments → float) applied over the broadcast ``args``: a float when all
    are scalars, else an array of the broadcast shape (how the scalar-only formulas vectorise).
    InputError naming ``names`` when the shapes do not broadcast."""
    try:
        shape = np.broadcast_shapes(*(np.shape(a) for a in args))
    except ValueError:
        shapes = ", ".join(f"{n} {np.shape(a)}" for n, a in zip(names, args)) \
            if all(_has_shape(a) for a in args) else ", ".join(names)
        raise InputError(f"arguments cannot be broadcast together: {shapes}") from None
    if shape == ():
        return func(*(a.item() if isinstance(a, np.ndarray) else a for a in args))
    arrays = np.broadcast_arrays(*(np.asarray(a, dtype=object) for a in args))
    out = np.empty(shape, dtype=np.float64)
    for idx in np.ndindex(shape):
        out[idx] = func(*(a[idx] for a in arrays))
    return out


def _has_shape(a) -> bool:
    try:
        np.shape(a)
        return True
    except ValueError:
        return False


def _check_n(n):
    return check_count(n, "N", minimum=1)


#: largest N of the pair tables (E4): N + 1 entries per J_D (the command line's limit on
#: neurons, fplandscape.errors.MAX_NEURONS, is the same)
MAX_PAIR_N = 20_000


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


def _check_dilution(dilution):
    return _check_real(dilution, "dilution c", lambda v: 0.0 < v <= 1.0, "lie in (0, 1]")


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


def log_expected_count(n: int, jd, eta: float = 0.0, dilution: float = 1.0):
    """ln E[#FP] at finite N (E1 and its exact extensions to η ≠ 0 and to dilution).

    By the gauge symmetry every state is a FP with the same probability, so
    E[#FP] = 2^N P, P = P(J_D + x_i > 0 ∀i), x_i = Σ_{j≠i} J_ij (the all-(+1) state).

    * η = 0, c = 1 (E1): the x_i use disjoint rows and are i.i.d. N(0, (N−1)/N):
      ln E = N ln 2 + N ln Φ(J_D/√((N−1)/N)).
    * η ≠ 0, c = 1: x is Gaussian, var (N−1)/N, cov(x_i, x_k) = cov(J_ik, J_ki) = η/N
      (equicorrelated, ρ = η/(N−1)). With b = (N−1−η)/N, x_i = √b z_i + √(η/N) w, so

          P = E_w[ Φ((J_D + √(η/N) w)/√b)^N ],   w ~ N(0, 1).

      η > 0: a positive 1-D integral (log-concave integrand, quadrature around its maximum).
      η < 0: the same identity with √(η/N) = i√(|η|/N) (both sides are analytic in η and agree
      for η ≥ 0); the real-axis integrand cancels catastrophically, so the contour is moved
      through the saddle point iμ* (μ* = argmin_μ [μ²/2 + N ln Φ((J_D − √(|η|/N) μ)/√b)],
      a convex function) and follows the rays iμ* ± r e^{∓iπ/6} (exponential decay also at
      η = −1). η = −1 and J_D ≤ 0: P = 0 (Σ_i x_i = 0). N = 2, η = 1: x₁ = x₂, P = Φ(J_D√2).
      Limitation: for −1 < η ≲ −0.99 with J_D < 0 (E[#FP] astronomically small) the saddle
      lies in the far tail and double precision may not suffice: NotImplementedError there.
    * η = 0, c < 1 (each entry kept independently w.p. c, rescaled by 1/√c): rows stay
      independent; row i keeps k ~ Bin(N−1, c) entries and x_i | k ~ N(0, k/(cN)), so

          ln E = N ln 2 + N ln Σ_k Bin(k; N−1, c) Φ(J_D √(cN/k)),   (k = 0 term: 1 if J_D > 0).

    * η ≠ 0 with c < 1 (pairs kept together): the x_i are correlated through the random graph;
      no tractable exact formula, raises NotImplementedError.

    N = 1: 2 fixed points if J_D > 0, none otherwise (ties are unstable), for every η, c.
    Vectorised over ``jd``. Accuracy ~1e−12 relative in E[#FP] (tests against mpmath).
    """
    n = _check_n(n)
    jd = _check_jd(jd)
    eta = _check_eta(eta)
    dilution = _check_dilution(dilution)
    if n == 1 or (eta == 0.0 and dilution == 1.0):
        with np.errstate(divide="ignore"):
            out = n * LN2 + n * log_Phi(_finite_n_threshold(n, jd))
    elif dilution < 1.0:
        if eta != 0.0:
            raise NotImplementedError(
                "no exact finite-N mean count for η ≠ 0 with dilution (pair mask couples the "
                "rows); supported: η = 0 with any dilution, or dilution = 1 with any η")
        out = n * LN2 + n * _log_row_probability_diluted(n, jd, dilution)
    else:
        out = n * LN2 + np.vectorize(_log_orthant_equicorrelated, otypes=[float])(n, jd, eta)
    return out if out.ndim else float(out)


def expected_count(n: int, jd, eta: float = 0.0, dilution: float = 1.0):
    """E[#FP] at finite N: exp of :func:`log_expected_count` (E1: 2^N Φ(J_D/√((N−1)/N))^N)."""
    return np.exp(log_expected_count(n, jd, eta, dilution))


def _log_row_probability_diluted(n, jd, c):
    """ln Σ_{k=0}^{N−1} Bin(k; N−1, c) Φ(J_D √(cN/k)), the k = 0 term being 1{J_D > 0}."""
    k = np.arange(n)
    log_binom = (special.gammaln(n) - special.gammaln(k + 1) - special.gammaln(n - k)
                 + special.xlogy(k, c) + special.xlog1py(n - 1 - k, -c))
    with np.errstate(divide="ignore"):
        scale = np.sqrt(k[1:] / (c * n))
        terms = log_binom[1:] + log_Phi(jd[..., None] / scale)
        zero = log_binom[0] + np.log(np.where(jd > 0, 1.0, 0.0))
    return special.logsumexp(np.concatenate([zero[..., None], terms], axis=-1), axis=-1)


_QUAD = dict(epsrel=1e-12, limit=400, full_output=1)
_PIECES = (0.0, 4.0, 16.0, np.inf)  # breakpoints in units of the saddle-point width
_FAR_TAIL = -3000.0  # η < 0: saddle-point argument of Φ beyond which double precision fails


def _quad(f, a, b, scale, log_size=0.0):
    """∫_a^b f (f scaled to ~1 at the saddle, ``scale`` its width). The error is accepted up to
    1e−8 relative, or up to 1e−13·|ln P| (``log_size``) where ln P is huge (far tails: the
    integrand is then only known to that relative accuracy of ln Φ)."""
    res = integrate.quad(f, a, b, epsabs=1e-15 * scale, **_QUAD)
    val, err = res[0], res[1]
    tol = max(1e-8, 1e-13 * abs(log_size))
    if not np.isfinite(val) or err > tol * max(abs(val), scale):
        raise RuntimeError(f"quadrature did not converge on [{a}, {b}] (estimate {val}, error {err})")
    return val


def _log_orthant_equicorrelated(n, jd, eta):
    """ln P(J_D + x_i > 0 ∀i) for x Gaussian, var (N−1)/N, cov η/N (N ≥ 2, η ≠ 0); see
    :func:`log_expected_count`."""
    jd = float(jd)
    b = (n - 1 - eta) / n
    s = np.sqrt(abs(eta) / n)
    if b <= 0.0:  # N = 2, η = 1: x₁ = x₂ ~ N(0, 1/2)
        return float(log_Phi(jd / s))
    if eta == -1.0 and jd <= 0.0:  # Σ_i x_i = 0: the x_i cannot all exceed −J_D ≥ 0
        return -np.inf
    sb = np.sqrt(b)
    k = n * s / sb
    if eta > 0.0:
        # h(w) = −w²/2 + N ln Φ((J_D + s w)/√b) is concave; h'(w) = −w + k R(u) has its root
        # in [0, k R(J_D/√b)] (R decreasing)
        dh = lambda w: -w + k * mills_ratio((jd + s * w) / sb)
        hi = k * float(mills_ratio(jd / sb))
        w0 = optimize.brentq(dh, 0.0, hi, xtol=1e-14, rtol=1e-15) if dh(hi) < 0 else hi
        u = (jd + s * w0) / sb
        r = float(mills_ratio(u))
        width = 1.0 / np.sqrt(1.0 + k * (s / sb) * r * (u + r))
        h = lambda w: -0.5 * w * w + n * float(log_Phi((jd + s * w) / sb))
        h0 = h(w0)
        f = lambda t: np.exp(h(w0 + t) - h0)
        total = 0.0
        for lo, hi_ in zip(_PIECES[:-1], _PIECES[1:]):
            total += _quad(f, lo * width, hi_ * width, width)
            total += _quad(f, -hi_ * width, -lo * width, width)
        return float(h0 - LOG_2PI_HALF + np.log(total))
    # η < 0: saddle iμ* of h(w) = −w²/2 + N ln Φ((J_D + i s w)/√b) on the imaginary axis, where
    # H(μ) = h(iμ) = μ²/2 + N ln Φ((J_D − s μ)/√b) is convex (H'' ≥ 1 − N s²/b ≥ 0)
    dH = lambda m: m - k * mills_ratio((jd - s * m) / sb)
    lo, hi = 0.0, 1.0
    with np.errstate(over="ignore"):
        for _ in range(1100):
            if dH(hi) >= 0:
                break
            lo, hi = hi, 2.0 * hi
        else:  # pragma: no cover - H has a minimum for every η > −1, and for η = −1, J_D > 0
            raise RuntimeError("saddle point not bracketed")
        m0 = optimize.brentq(dH, lo, hi, xtol=1e-14, rtol=1e-15)
    if (jd - s * m0) / sb < _FAR_TAIL:
        # only reached for η within ~1e−4 of −1 with J_D ≤ 0 (E[#FP] ~ e^{−10⁶} and smaller):
        # R(u) = exp(ln φ − ln Φ) and the complex ln Φ lose ~u²·1e−16 there
        raise NotImplementedError(
            f"E[#FP] at N = {n}, J_D = {jd}, η = {eta} is beyond double precision "
            "(η too close to −1 with J_D ≤ 0; the saddle point lies in the far Gaussian tail)")
    u = (jd - s * m0) / sb
    kappa = k * s / sb  # N|η|/(N−1+|η|) ≤ 1
    r = float(mills_ratio(u))
    width = 1.0 / np.sqrt(max(1.0 - kappa * r * (u + r), 1.0 - kappa, 1e-300))  # 1/√H''(μ*)
    H0 = 0.5 * m0 * m0 + n * float(log_Phi(u))
    ray = np.exp(-1j * np.pi / 6)

    def f(t):  # Re of the integrand on the ray w = iμ* + t e^{−iπ/6} (the left ray is its mirror)
        w = 1j * m0 + t * ray
        return (ray * np.exp(-0.5 * w * w + n * log_Phi((jd + 1j * s * w) / sb) - H0)).real

    try:
        total = sum(_quad(f, lo * width, hi_ * width, width, H0)
                    for lo, hi_ in zip(_PIECES[:-1], _PIECES[1:]))
    except RuntimeError as exc:  # seen only for −1 < η ≲ −0.99 with J_D < 0 (far tail)
        raise NotImplementedError(f"E[#FP] at N = {n}, J_D = {jd}, η = {eta}: {exc} (η too close "
                                  "to −1 with J_D < 0 for double precision)") from None
    if not total > 0.0:  # pragma: no cover
        raise RuntimeError(f"contour integral not positive ({total})")
    return float(H0 - LOG_2PI_HALF + np.log(2.0 * total))


def log_expected_pairs(n: int, jd) -> np.ndarray:
    """ln E[#ordered pairs (σ, τ) of FPs at Hamming distance k], k = 0..N (E4, η = 0):

        E[#pairs_k] = 2^N C(N,k) Φ₂(a,a;ρ_s)^(N−k) Φ₂(a,a;ρ_f)^k,   a = J_D/√((N−1)/N),
        ρ_s = (N−1−2k)/(N−1),  ρ_f = −(N+1−2k)/(N−1).

    k = 0 (and k = N) reduce to (E1). A factor with exponent 0 is 1. Entries are −inf where the
    mean is exactly 0 (e.g. k = 1 at J_D ≤ 0).

    Vectorised over ``jd``: the result has shape ``np.shape(jd) + (N + 1,)`` (the distance k is
    the last axis; shape ``(N + 1,)`` for a scalar ``jd``). ``n`` is one positive integer
    (InputError otherwise: the k axis has length N + 1), at most :data:`MAX_PAIR_N`.
    """
    n = _check_n(n)
    if n > MAX_PAIR_N:
        raise InputError(f"N must be ≤ {MAX_PAIR_N} for the pair table (E4), got {n}")
    jd = _check_jd(jd)
    k = np.arange(n + 1)
    if n == 1:
        with np.errstate(divide="ignore"):
            e1 = np.asarray(log_expected_count(1, jd), dtype=np.float64)
        both = np.where(jd > 0, LN2, -np.inf)
        return np.stack([e1, both], axis=-1)
    a = np.asarray(_finite_n_threshold(n, jd), dtype=np.float64)[..., None]
    log_binom = special.gammaln(n + 1) - special.gammaln(k + 1) - special.gammaln(n - k + 1)
    rho_s = np.clip((n - 1 - 2 * k) / (n - 1), -1.0, 1.0)
    rho_f = np.clip(-(n + 1 - 2 * k) / (n - 1), -1.0, 1.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        same = np.where(n - k > 0, (n - k) * log_Phi2_equal(a, rho_s), 0.0)
        flip = np.where(k > 0, k * log_Phi2_equal(a, rho_f), 0.0)
    return n * LN2 + log_binom + same + flip


def expected_pairs(n: int, jd) -> np.ndarray:
    """E[#ordered pairs of FPs at distance k], k = 0..N (E4); unordered distinct pairs are half
    of this for 0 < k < N. Vectorised over ``jd`` like :func:`log_expected_pairs` (shape
    ``np.shape(jd) + (N + 1,)``)."""
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


def modular_entropy(jd, lam, layers=np.inf):
    """Annealed entropy per neuron of the modular chain (E2λ), N → ∞:

        s_L = (1/L) ln Σ_{σ^(1..L)} Π_l Φ(J_D + λ σ^(l)(σ^(l−1) + σ^(l+1))),  σ^(0) = σ^(L+1) = 0;

    ``layers = inf``: s_∞ = ln of the largest eigenvalue of the 4×4 transfer matrix
    T[(a,b),(b,c)] = Φ(J_D + λ b (a + c)) on consecutive pairs.

    Vectorised: ``jd``, ``lam`` and ``layers`` broadcast against each other (NumPy rules); a
    float for scalar arguments, else an array of the broadcast shape. Bad values raise
    InputError naming the argument.
    """
    return _elementwise(_modular_entropy, ("jd", "lam", "layers"), jd, lam, layers)


def _modular_entropy(jd, lam, layers) -> float:
    jd = _scalar_jd(jd)
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


def log_expected_count_modular(n: int, jd, lam, layers):
    """Exact ln E[#FP] of the finite modular ensemble (L modules of N neurons): columns i are
    independent, so E[#FP] = Z^N with Z the column sum of (E2λ) at scale √((N−1)/N).

    Vectorised like :func:`modular_entropy`: ``jd``, ``lam`` and ``layers`` broadcast (a float
    for scalars, else an array of the broadcast shape); ``n`` is one positive integer."""
    n = _check_n(n)
    return _elementwise(lambda j, x, L: _log_expected_count_modular(n, j, x, L),
                        ("jd", "lam", "layers"), jd, lam, layers)


def _log_expected_count_modular(n, jd, lam, layers) -> float:
    jd = _scalar_jd(jd)
    lam = _check_lam(lam)
    layers = _check_layers(layers)
    if n == 1:
        return float(_log_column_sum(jd, lam, layers, 0.0))
    return float(n * _log_column_sum(jd, lam, layers, np.sqrt((n - 1) / n)))


# ------------------------------------------------------------------------------------------
# stabilities of fixed points


def typical_mean_stability(jd, n=None):
    """Mean stability of a typical fixed point: E[Δ_i | Δ_i > 0] = J_D + s·R(J_D/s).

    Δ_i = J_D + z_i with z_i = σ_i Σ_{j≠i} J_ij σ_j; for a fixed σ and the ensemble of
    docs/model.md#ensembles, z_i ~ N(0, s²) with s² = (N − 1)/N (s = 1 for ``n=None``, the
    N → ∞ limit), so under the fixed-point constraint Δ_i > 0 (i.e. z_i > −J_D) the
    truncated-normal mean is ``J_D + s φ(J_D/s)/Φ(J_D/s)`` (:func:`mills_ratio` R = φ/Φ). For
    η = 0 the rows are independent given σ, so this is exact for the mean over fixed points
    weighted as in ⟨#FP⟩ (annealed measure) at any N, and the typical value
    (docs/observables.md#reached-vs-typical) for large N.
    """
    jd = np.asarray(jd, dtype=np.float64)
    s = 1.0 if n is None else float(np.sqrt((n - 1) / n))
    if s == 0.0:  # N = 1: Δ = J_D exactly (a fixed point iff J_D > 0)
        return jd + 0.0
    return jd + s * mills_ratio(jd / s)
