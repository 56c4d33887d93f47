"""Estimators used across the study (ground floor: imports only NumPy, SciPy and
:mod:`fplandscape.errors`).

One home for the small statistics the simulations, the validation and the figures share:
mean and standard error, z-scores, the extrapolation of a finite-N estimate in 1/N (or 1/sqrt(N)),
the crossing point of finite-N critical estimators, the threshold (logistic) fit, and the
accessibility estimators. Each public function states its formula.
"""
import math
import numbers
from dataclasses import dataclass
from typing import Optional

import numpy as np

from fplandscape.errors import InputError, check_choice

__all__ = ["mean_se", "z_score", "crossing_info", "crossing", "FiniteSizeFit",
           "usable_error", "extrapolate_finite_size"]


# --------------------------------------------------------------------------------------------
# mean, standard error, z-score


def mean_se(x):
    """Mean and standard error of a 1-D sample x_1..x_m:

        mean = (1/m) Σ x_i,   SE = s/√m,   s² = (1/(m−1)) Σ (x_i − mean)²   (ddof = 1).

    Returns ``(mean, se)`` as Python floats; ``(None, None)`` for an empty sample, SE None for
    m = 1 (undefined)."""
    x = np.asarray(x, dtype=np.float64)
    if x.size == 0:
        return None, None
    mean = float(x.mean())
    se = float(x.std(ddof=1) / math.sqrt(x.size)) if x.size > 1 else None
    return mean, se


def z_score(mean, se, expected):
    """z = (mean − expected)/SE: how many standard errors a sample mean lies from its
    expectation. Where SE = 0: 0 if mean == expected exactly, else ±inf (the sign of
    mean − expected). None when any of mean, SE, expected is None (undefined)."""
    if mean is None or se is None or expected is None:
        return None
    if se == 0.0:
        return 0.0 if mean == expected else math.copysign(math.inf, mean - expected)
    return (mean - expected) / se


# --------------------------------------------------------------------------------------------
# the crossing point of a finite-N estimator g(x) on a grid


def _linear_crossing(x0, x1, y0, y1, level=0):
    """Where the straight line through (x₀, y₀), (x₁, y₁) reaches ``level``:
    ``x* = x₀ + (level − y₀)(x₁ − x₀)/(y₁ − y₀)``; the midpoint when y₁ = y₀. The one linear
    interpolation of a crossing, shared by :func:`crossing_info` (level 0) and the threshold
    fit's fallback (:func:`_interpolated_crossing`)."""
    if y1 == y0:
        return 0.5 * (x0 + x1)
    return x0 + (level - y0) * (x1 - x0) / (y1 - y0)


def crossing_info(x, g):
    """First upward zero crossing of g(x) on a grid, with how it was found: ``(x*, status,
    reason)``. Between the first consecutive grid points (x₀, g₀), (x₁, g₁) with g₀ < 0 ≤ g₁,

        x* = x₀ + (x₁ − x₀)·(−g₀)/(g₁ − g₀)        (linear interpolation).

    ``status`` is ``"interpolated"`` (that formula), ``"upper_bound"`` (g jumps from −∞ to ≥ 0:
    x* = x₁, an upper bound of the crossing) or ``"not_bracketed"`` (no sign change on the
    grid: x* is None and ``reason`` says on which side the crossing lies). None or NaN g values
    are skipped; −∞ counts as < 0."""
    prev = None
    seen = []
    for xi, gi in zip(x, g):
        if gi is None or (isinstance(gi, float) and math.isnan(gi)):
            continue
        seen.append(gi)
        if prev is not None and prev[1] < 0 <= gi:
            x0, g0 = prev
            if not math.isfinite(g0):
                return float(xi), "upper_bound", (
                    f"g = -inf at J_D = {x0:g} and >= 0 at {xi:g}: J_D* <= {xi:g} "
                    "(grid point, not interpolated)")
            return float(_linear_crossing(x0, xi, g0, gi)), "interpolated", None
        prev = (xi, gi)
    if not seen:
        return None, "not_bracketed", "no values of g (no robust references on the grid)"
    if seen[0] >= 0:
        return None, "not_bracketed", "g >= 0 already at the smallest J_D of the grid " \
                                      "(the crossing lies below it)"
    return None, "not_bracketed", "g < 0 on the whole J_D grid (the crossing lies above it)"


def crossing(x, g):
    """First upward zero crossing x* of g(x) on a grid (linear interpolation, see
    :func:`crossing_info`, which also says how it was found); None if there is none."""
    return crossing_info(x, g)[0]


# --------------------------------------------------------------------------------------------
# finite-size extrapolation v(N) = v∞ + a·N^(−p)

_TINY_ERROR = 1e-9  # errors below this (relative to max(1, |value|)) count as zero


@dataclass(frozen=True)
class FiniteSizeFit:
    """Result of :func:`extrapolate_finite_size`: v∞ = ``value`` ± ``error``, ``slope`` a,
    ``chi2`` and ``dof`` of the fit, ``points`` used; ``fit_ok`` False (with ``reason``) for a
    degenerate fit, whose numbers (possibly None) must not be trusted as a weighted fit;
    ``power`` p of the correction term a·N^(−p); ``slope_error`` the standard error of a
    (same scaling as ``error``)."""

    value: Optional[float]
    error: Optional[float]
    slope: Optional[float]
    chi2: Optional[float]
    dof: int
    points: int
    fit_ok: bool
    reason: Optional[str] = None
    power: float = 1.0
    slope_error: Optional[float] = None

    def as_rows(self) -> list:
        """One row: the fit's fields (v∞ as ``value`` ± ``error``)."""
        return [{"value": self.value, "error": self.error, "slope": self.slope,
                 "slope_error": self.slope_error, "chi2": self.chi2, "dof": self.dof,
                 "points": self.points, "power": self.power, "fit_ok": self.fit_ok,
                 "reason": self.reason}]


def usable_error(e, v) -> bool:
    """True if ``e`` can serve as the standard error of an estimate ``v`` in a weighted fit: a
    finite real number above 1e-9·max(1, |v|) (not None, not a bool, not zero)."""
    return (e is not None and not isinstance(e, bool) and isinstance(e, numbers.Real)
            and math.isfinite(e) and e > _TINY_ERROR * max(1.0, abs(v)))


def extrapolate_finite_size(ns, values, errors, *, power: float = 1.0) -> FiniteSizeFit:
    """Weighted least-squares fit of finite-N estimates to v(N) = v∞ + a·x, x = N^(−p)
    (``power`` p: 1 for a 1/N correction, 0.5 for 1/√N). With weights w_i = 1/err_i², the
    design matrix A = [√w_i, √w_i x_i] and b = √w_i v_i,

        (v∞, a) = argmin ‖A β − b‖²,   χ² = ‖A β − b‖²,   dof = points − 2,
        err(v∞) = √( [(AᵀA)⁻¹]₀₀ · max(1, χ²/dof) )    (scaled only when χ²/dof > 1),
        err(a)  = √( [(AᵀA)⁻¹]₁₁ · max(1, χ²/dof) )    (``slope_error``).

    (Solved by SVD of A, not by the normal equations: same numbers to rounding, stable when
    the x_i are close.) This is the one weighted line fit of the package;
    :func:`extrapolate_threshold` is a wrapper over it.

    Never raises on degenerate input; it returns a flagged :class:`FiniteSizeFit` instead:

    * points with a None or non-finite value are left out; fewer than 2 left, or all at one N:
      ``value`` None, ``fit_ok`` False;
    * an error that is None, zero, non-finite or tiny (≤ 1e-9·max(1, |v|), e.g. a bootstrap
      whose resamples all give the same grid point; :func:`usable_error`): the weights are
      undefined, so the fit is unweighted (``chi2`` None; err(v∞) = √([(AᵀA)⁻¹]₀₀ ·
      ‖Aβ − b‖²/dof) from the scatter when dof > 0, else None), ``fit_ok`` False.
    """
    if isinstance(power, bool) or not isinstance(power, numbers.Real) or \
            not math.isfinite(power) or not power > 0:
        raise InputError(f"power must be a positive finite number, got {power!r}")
    power = float(power)
    pts = []
    for n, v, e in zip(ns, values, errors):
        if v is None or isinstance(v, bool) or not isinstance(v, numbers.Real) or \
                not math.isfinite(v) or not isinstance(n, numbers.Real) or not n > 0:
            continue
        pts.append((float(n), float(v), e))
    dof = max(len(pts) - 2, 0)

    def degenerate(reason):
        return FiniteSizeFit(None, None, None, None, dof, len(pts), False, reason, power)

    if len(pts) < 2:
        return degenerate(f"fewer than 2 finite-N estimates ({len(pts)})")
    if len({p[0] for p in pts}) < 2:
        return degenerate(f"all finite-N estimates are at one N = {pts[0][0]:g}")
    weighted = all(usable_error(e, v) for _, v, e in pts)
    reason = None
    if not weighted:
        bad = [f"{n:g}" for n, v, e in pts if not usable_error(e, v)]
        reason = f"error missing or ~0 at N = {', '.join(bad)}: unweighted fit"
    if power == 1.0:
        x = np.array([1.0 / p[0] for p in pts])
    else:
        x = np.array([p[0] ** -power for p in pts])
    y = np.array([p[1] for p in pts])
    sw = np.array([1.0 / p[2] for p in pts]) if weighted else np.ones_like(x)
    A = np.vstack([np.ones_like(x), x]).T * sw[:, None]
    b = y * sw
    try:
        with np.errstate(all="ignore"):
            u, sing, vt = np.linalg.svd(A, full_matrices=False)
            if not (sing.size == 2 and sing[-1] > 1e-14 * sing[0]):
                return degenerate("singular fit (the 1/N values are too close)"
                                  if power == 1.0 else
                                  f"singular fit (the N^-{power:g} values are too close)")
            beta = vt.T @ ((u.T @ b) / sing)
            var0 = float(np.sum(vt[:, 0] ** 2 / sing ** 2))  # cov[0, 0] of (A^T A)^-1, ≥ 0
            var1 = float(np.sum(vt[:, 1] ** 2 / sing ** 2))  # cov[1, 1]
            resid = float(np.sum((b - A @ beta) ** 2))
    except np.linalg.LinAlgError as exc:
        return degenerate(f"fit failed ({exc})")
    if not np.all(np.isfinite(beta)):
        return degenerate("fit failed (non-finite parameters)")
    if weighted:
        chi2 = resid
        scale = max(1.0, chi2 / dof) if dof > 0 else 1.0
    else:
        chi2 = None
        scale = resid / dof if dof > 0 else None
    err = math.sqrt(var0 * scale) if scale is not None else None
    slope_err = math.sqrt(var1 * scale) if scale is not None else None
    if err is not None and not math.isfinite(err):
        err, reason = None, reason or "fit error not finite"
    if slope_err is not None and not math.isfinite(slope_err):
        slope_err = None
    return FiniteSizeFit(float(beta[0]), err, float(beta[1]), chi2, dof, len(pts),
                         reason is None, reason, power, slope_err)


# --------------------------------------------------------------------------------------------
# accessibility: binomial standard error, threshold (logistic) fit, its extrapolation in N
# (used by fplandscape.sim.accessibility; added by the accessibility split of issue 14)

__all__ += ["binomial_se", "fit_threshold", "extrapolate_threshold", "EXTRAPOLATIONS"]

EXTRAPOLATIONS = ("sqrt", "linear")  # J_50(N) = J_50(∞) + c·N^(-1/2), or + c·N^(-1)


def binomial_se(k, m):
    """Standard error of a success fraction p̂ = k/m of m Bernoulli trials:
    ``SE(p̂) = √(p̂ (1 − p̂) / m)``; None when m = 0."""
    if m == 0:
        return None
    p = k / m
    return math.sqrt(p * (1 - p) / m)


def _logistic_mle(x, k, m, max_iter=100):
    """Binomial maximum-likelihood fit of ``logit p = a + b x`` (``k_i ~ Binomial(m_i, p(x_i))``)
    by damped Newton steps on the convex negative log-likelihood
    ``Σ_i m_i log(1 + e^η_i) − k_i η_i``, η = a + b x.

    Returns four values ``(a, b, cov, p)``: the coefficients, ``cov = I(a, b)⁻¹`` (inverse
    Fisher information ``I = Σ_i m_i p_i (1 − p_i) (1, x_i)(1, x_i)ᵀ`` at the optimum) and the
    fitted probabilities ``p_i``; or None when the information matrix is singular or its
    inverse not finite."""
    beta = np.zeros(2)
    X = np.column_stack([np.ones_like(x), x])

    def nll(bt):
        eta = X @ bt
        return float(np.sum(m * np.logaddexp(0.0, eta) - k * eta))

    f = nll(beta)
    for _ in range(max_iter):
        p = 0.5 * (1.0 + np.tanh(0.5 * (X @ beta)))
        w = m * p * (1 - p)
        grad = X.T @ (k - m * p)
        info = X.T @ (w[:, None] * X)
        try:
            step = np.linalg.solve(info, grad)
        except np.linalg.LinAlgError:
            return None
        t = 1.0
        while True:
            new = beta + t * step
            fn = nll(new)
            if fn <= f + 1e-12:
                break
            t *= 0.5
            if t < 1e-10:  # no descent left: at the optimum to rounding
                new, fn = beta, f
                break
        beta, f_old, f = new, f, fn
        if np.max(np.abs(t * step)) < 1e-11 or abs(f_old - f) < 1e-14 * max(1.0, abs(f)):
            break
    p = 0.5 * (1.0 + np.tanh(0.5 * (X @ beta)))
    info = X.T @ ((m * p * (1 - p))[:, None] * X)
    try:
        cov = np.linalg.inv(info)
    except np.linalg.LinAlgError:
        return None
    if not np.all(np.isfinite(cov)):
        return None
    return beta[0], beta[1], cov, p


def _interpolated_crossing(x, p, level):
    """First crossing of ``level`` by p(x) (x ascending) by linear interpolation between the
    bracketing grid points, ``x* = x₀ + (level − p₀)(x₁ − x₀)/(p₁ − p₀)``, with the
    uncertainty of a value uniform on the bracketing interval, ``(x₁ − x₀)/√12``. Returns
    ``(x*, error, (x₀, x₁))``, or ``(None, None, (None, None))`` when p(x₀) ≥ level already at
    the first grid point. The interpolation is :func:`_linear_crossing`, as in
    :func:`crossing_info`; the search differs on purpose: here the bracket is the first grid
    point with p ≥ level and its predecessor (p is a success fraction, never None/NaN/−∞),
    while :func:`crossing_info` skips None/NaN values of a critical estimator and treats a
    −∞ predecessor as an upper bound.)"""
    above = np.nonzero(p >= level)[0]
    i = int(above[0])
    if i == 0:
        return None, None, (None, None)
    x0, x1, p0, p1 = x[i - 1], x[i], p[i - 1], p[i]
    j = _linear_crossing(x0, x1, p0, p1, level)
    return float(j), float((x1 - x0) / math.sqrt(12.0)), (float(x0), float(x1))


def fit_threshold(jd, successes, trials, *, level: float = 0.5, overdispersion: bool = True,
                  bootstrap: int = 0, seed=0) -> dict:
    """Threshold ``J_level`` where the success probability p(J_D) crosses ``level``.

    Model: ``k_i ~ Binomial(m_i, p(x_i))`` with ``logit p = a + b x``, ``x = (J_D − J̄)/s``
    (centred and scaled grid, for conditioning), fitted by maximum likelihood (Newton's method
    on the convex binomial log-likelihood). Then

        J_level = J̄ + s·(logit(level) − a)/b,
        Var(J_level) = s² gᵀ C g,   g = (−1/b, −x_level/b),   C = φ·I(a, b)⁻¹,

    with the Fisher information ``I = Σ_i m_i p_i (1 − p_i) (1, x_i)(1, x_i)ᵀ`` (delta method) and
    the dispersion ``φ = max(1, D/(n_points − 2))`` (D the binomial deviance; quasi-binomial
    inflation, absorbing network-to-network and lack-of-fit variance; φ = 1 when
    ``overdispersion`` is False or there are only 2 points). The width of the transition is
    ``1/b`` in units of s (``width`` = s/b: p goes from 27 % to 73 % over 2·width).

    Special cases (``status``): ``"ok"``; ``"below grid"`` / ``"above grid"`` (p̂ ≥ level, or
    p̂ < level, at every grid point: ``j50`` None); ``"separated"`` (every failure at smaller
    J_D than every success, so the MLE does not exist): ``j50`` from linear interpolation of p̂
    between the two grid points bracketing the crossing, with error (Δx)/√12 (``method =
    "interpolation"``); ``"outside grid"`` (the fitted crossing lies outside the scanned J_D
    range: given, but an extrapolation); ``"decreasing"`` (fitted b ≤ 0).

    ``bootstrap`` > 0: parametric bootstrap (``k*_i ~ Binomial(m_i, p̂_fit(x_i))``, refit,
    ``j50_err_bootstrap`` = standard deviation of the replicates, seeded by ``seed``).

    Returns a dict: ``j50``, ``j50_err``, ``method`` (logistic/interpolation), ``status``,
    ``width``, ``width_err``, ``dispersion``, ``deviance``, ``points``, ``trials``, and with
    bootstrap ``j50_err_bootstrap``.
    """
    x = np.asarray(jd, dtype=np.float64).ravel()
    k = np.asarray(successes, dtype=np.float64).ravel()
    m = np.asarray(trials, dtype=np.float64).ravel()
    if not (x.size == k.size == m.size) or x.size == 0:
        raise InputError("jd, successes and trials must be non-empty and of equal length")
    if np.any(m < 0) or np.any(k < 0) or np.any(k > m):
        raise InputError("need 0 <= successes <= trials")
    if not 0.0 < level < 1.0:
        raise InputError(f"level must lie in (0, 1), got {level}")
    keep = m > 0
    x, k, m = x[keep], k[keep], m[keep]
    order = np.argsort(x, kind="stable")
    x, k, m = x[order], k[order], m[order]
    out = {"j50": None, "j50_err": None, "method": None, "status": None, "width": None,
           "width_err": None, "dispersion": None, "deviance": None, "points": int(x.size),
           "trials": int(m.sum()), "level": level}
    if x.size == 0:
        out["status"] = "no data"
        return out
    p_hat = k / m
    if np.all(p_hat >= level):
        out["status"] = "below grid"
        return out
    if np.all(p_hat < level):
        out["status"] = "above grid"
        return out
    fail_x = x[k < m]
    succ_x = x[k > 0]
    separated = fail_x.size == 0 or succ_x.size == 0 or fail_x.max() <= succ_x.min() \
        or np.unique(x).size < 2
    fit = None
    if not separated:
        xbar = float(x.mean())
        s = float(x.std()) or 1.0
        fit = _logistic_mle((x - xbar) / s, k, m)
    if fit is None:
        j, err, _ = _interpolated_crossing(x, p_hat, level)
        out.update(j50=j, j50_err=err, method="interpolation", status="separated")
        return out
    a, b, cov, p = fit
    with np.errstate(divide="ignore", invalid="ignore"):
        dev = 2.0 * np.sum(np.where(k > 0, k * np.log(k / (m * p)), 0.0)
                           + np.where(m - k > 0, (m - k) * np.log((m - k) / (m * (1 - p))), 0.0))
    dof = x.size - 2
    phi = max(1.0, dev / dof) if (overdispersion and dof > 0) else 1.0
    cov = cov * phi
    t = math.log(level / (1 - level))
    x50 = (t - a) / b
    g = np.array([-1.0 / b, -x50 / b])
    var = float(g @ cov @ g)
    j50 = xbar + s * x50
    width = s / b
    width_err = s * math.sqrt(cov[1, 1]) / b ** 2
    status = "ok"
    if b <= 0:
        status = "decreasing"
    elif not x.min() <= j50 <= x.max():
        status = "outside grid"
    out.update(j50=float(j50), j50_err=float(s * math.sqrt(max(var, 0.0))), method="logistic",
               status=status, width=float(width), width_err=float(width_err),
               dispersion=float(phi), deviance=float(dev))
    if bootstrap:
        rng = np.random.default_rng(seed)
        reps = []
        for _ in range(int(bootstrap)):
            kb = rng.binomial(m.astype(np.int64), p)
            r = fit_threshold(x, kb, m, level=level, overdispersion=False)
            if r["j50"] is not None:
                reps.append(r["j50"])
        out["j50_err_bootstrap"] = float(np.std(reps, ddof=1)) if len(reps) > 1 else None
        out["bootstrap_ok"] = len(reps)
    return out


def extrapolate_threshold(n_values, j50, j50_err, *, form: str = "sqrt") -> dict:
    """Weighted least-squares extrapolation of finite-size thresholds to N → ∞: a wrapper over
    :func:`extrapolate_finite_size` (the one weighted line fit) with the accessibility study's
    error rule and dict output.

    ``form = "sqrt"``: ``J_50(N) = J_50(∞) + c·N^(−1/2)`` (``power`` 0.5); ``"linear"``:
    ``J_50(N) = J_50(∞) + c/N`` (``power`` 1). Weights ``1/err²``; an error that cannot serve
    as a weight (missing, ≤ 0, non-finite or ~0, see :func:`usable_error`) is replaced by the
    smallest usable one (all errors 1 if none is usable), so the fit is always weighted. The
    covariance of (J_50(∞), c) is ``(Xᵀ W X)⁻¹``, multiplied by ``χ²/dof`` when that exceeds 1
    (errors too small for the scatter about the line). Needs ≥ 2 distinct N (with 2 the line
    passes through both points and dof = 0). Returns ``j50_inf``, ``j50_inf_err``, ``slope``,
    ``slope_err``, ``chi2``, ``dof``, ``form``, ``n_used`` (all None but ``form`` and
    ``n_used`` for a degenerate fit).
    """
    check_choice(form, "form", EXTRAPOLATIONS)
    n = [float(v) for v in n_values]
    y = [float(v) for v in j50]
    e = [None if v is None else float(v) for v in j50_err]
    out = {"form": form, "j50_inf": None, "j50_inf_err": None, "slope": None, "slope_err": None,
           "chi2": None, "dof": None, "n_used": [int(v) for v in n]}
    usable = [ei for ei, yi in zip(e, y) if usable_error(ei, yi)]
    fill = min(usable) if usable else 1.0
    e = [ei if usable_error(ei, yi) else fill for ei, yi in zip(e, y)]
    fit = extrapolate_finite_size(n, y, e, power=0.5 if form == "sqrt" else 1.0)
    if fit.value is None:
        return out
    out.update(j50_inf=fit.value, j50_inf_err=fit.error, slope=fit.slope,
               slope_err=fit.slope_error, chi2=fit.chi2, dof=fit.dof)
    return out
