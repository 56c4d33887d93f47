"""Replica-symmetric saddle point shared by (E6) Franz–Parisi, (E7) large deviations, (E-RS).

A reference FP σ̃ with stabilities above a margin κ (x ~ N(0,1) conditioned on x > κ − J_D) and
y real replicas σ at overlap p with σ̃ and RS overlap q among themselves. With

    F = e^m Φ(A₊) + e^(−m) Φ(A₋),  m = λ₁ + √λ₂ w,  A± = (J_D ± g)/√(1−q),  g = p x + √(q−p²) z,

and averages ⟨·⟩_y over (x, z, w) tilted by F^y (y = 0: untilted, the Franz–Parisi case),
the saddle-point equations are

    p = ⟨M⟩_y,   q = ⟨M²⟩_y,   λ₂ = ⟨(∂_g ln F)²⟩_y,
    M = tanh(m + ½[ln Φ(A₊) − ln Φ(A₋)]),
    ∂_g ln F = [(1+M)/2 R(A₊) − (1−M)/2 R(A₋)]/√(1−q).

(Derivation by Stein's lemma in paper_notes.md; tests check them against finite differences of
the functional.) At the saddle:

    y = 0:  φ_κ(p) = −λ₁p − λ₂(1−q)/2 + ⟨ln F⟩                                   (E6)
    y > 0:  Φ_LD = ln 2 + ln H(κ−J_D) − yλ₁p − yλ₂/2 − y(y−1)λ₂q/2 + ln E_trunc[F^y] (E7)
            S_I = ∂_y Φ_LD = −λ₁p − λ₂/2 − (2y−1)λ₂q/2 + ⟨ln F⟩_y,   Σ_ext = Φ_LD − y S_I.

Slope of a Franz–Parisi curve (envelope theorem; g depends on p explicitly):
dφ/dp = −λ₁ + ⟨∂_g ln F · (x − p z/√(q−p²))⟩, and dφ/dd = −2 dφ/dp (p = 1 − 2d).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import optimize, special

from ..special import LN2, binary_entropy, log_Phi, log_phi, normal_rule, truncated_normal_rule

RESIDUAL_TOL = 1e-8


@dataclass(frozen=True)
class Quadrature:
    """Node counts of the product rule: Gauss–Legendre on the truncated normal x, Gauss–Hermite
    on z and w. Defaults converge the curves to ~1e−7 for d ≥ 0.01 (see tests)."""

    nx: int = 40
    nz: int = 48
    nw: int = 40

    def refined(self, factor: float = 1.5) -> "Quadrature":
        return Quadrature(int(self.nx * factor), int(self.nz * factor), int(self.nw * factor))


@dataclass
class SaddlePoint:
    """One solved RS saddle point (a row of a local-entropy curve)."""

    jd: float
    kappa: float
    y: float
    d: float
    p: float
    q: float
    lam1: float
    lam2: float
    value: float  # φ_κ(d) for y = 0, S_I(d) for y > 0
    phi_ld: float  # Φ_LD(y, p) (y = 0: the reference entropy s_κ)
    sigma_ext: float  # Φ_LD − y S_I
    slope: float  # dφ/dd along the curve (y = 0 only; nan otherwise)
    converged: bool
    residual: float
    message: str = ""

    def as_row(self) -> dict:
        row = {k: getattr(self, k) for k in (
            "jd", "kappa", "y", "d", "p", "q", "lam1", "lam2", "value", "phi_ld", "sigma_ext",
            "slope", "converged", "residual", "message")}
        return row

    def as_rows(self) -> list:
        """Tidy rows (one: this saddle point), the package's one result shape."""
        return [self.as_row()]


class _BudgetExceeded(RuntimeError):
    pass


class RSProblem:
    """The saddle-point problem at fixed (J_D, κ, y, p) on a fixed quadrature."""

    def __init__(self, jd: float, kappa: float, y: float, p: float, quad: Quadrature = Quadrature()):
        p = float(p)
        if abs(p) < 1e-12:  # d = 1/2 up to rounding: the trivial saddle point
            p = 0.0
        self.jd, self.kappa, self.y, self.p = float(jd), float(kappa), float(y), p
        self.lower = self.kappa - self.jd
        self.x, self.wx = truncated_normal_rule(self.lower, quad.nx)
        self.z, self.wz = normal_rule(quad.nz)
        self.w, self.ww = normal_rule(quad.nw)
        self.log_w3 = np.log(self.wx[:, None, None] * self.wz[None, :, None] * self.ww[None, None, :])
        self.log_ref = float(log_Phi(-self.lower))  # ln P(x > κ − J_D) = ln Φ(J_D − κ)
        self.evaluations = 0
        self.budget = np.inf  # set by solve(): a failing solve stops early

    # -- averages -------------------------------------------------------------------------
    def averages(self, q: float, lam1: float, lam2: float) -> dict:
        """⟨M⟩, ⟨M²⟩, ⟨(∂_g ln F)²⟩, ⟨ln F⟩, ∂⟨M⟩/∂λ₁ and ln E_trunc[F^y] at (q, λ₁, λ₂)."""
        self.evaluations += 1
        if self.evaluations > self.budget:
            raise _BudgetExceeded
        p, jd, y = self.p, self.jd, self.y
        sq = np.sqrt(1.0 - q)
        spread = np.sqrt(max(q - p * p, 0.0))
        g = p * self.x[:, None] + spread * self.z[None, :]
        ap, am = (jd + g) / sq, (jd - g) / sq
        lp, lm = log_Phi(ap), log_Phi(am)
        rp, rm = np.exp(log_phi(ap) - lp), np.exp(log_phi(am) - lm)
        arg = (0.5 * (lp - lm))[:, :, None] + (lam1 + np.sqrt(lam2) * self.w)[None, None, :]
        M = np.tanh(arg)
        lnF = (0.5 * (lp + lm))[:, :, None] + np.logaddexp(arg, -arg)
        dg = (0.5 * (rp - rm)[:, :, None] + 0.5 * M * (rp + rm)[:, :, None]) / sq
        if y == 0.0:
            P = np.exp(self.log_w3)
            log_z = 0.0
        else:
            lw = self.log_w3 + y * lnF
            log_z = float(special.logsumexp(lw))
            P = np.exp(lw - log_z)
        dg_dp = self.x[:, None] - (p / spread) * self.z[None, :] if spread > 0 else self.x[:, None] + 0 * self.z
        m1 = float(np.sum(P * M))
        m2 = float(np.sum(P * M * M))
        return {
            "M": m1,
            "M2": m2,
            "dg2": float(np.sum(P * dg * dg)),
            "lnF": float(np.sum(P * lnF)),
            "dM_dlam1": (1.0 - m2) + y * (m2 - m1 * m1),
            "log_z": log_z,
            "dlnF_dp": float(np.sum(P * dg * dg_dp[:, :, None])),
        }

    # -- values ---------------------------------------------------------------------------
    def values(self, q, lam1, lam2, avg=None) -> dict:
        """φ (y = 0) or S_I, Φ_LD and Σ_ext at the given parameters (meaningful at the saddle)."""
        avg = avg or self.averages(q, lam1, lam2)
        p, y = self.p, self.y
        s_i = -lam1 * p - 0.5 * lam2 - (2 * y - 1) * 0.5 * lam2 * q + avg["lnF"]
        phi_ld = (LN2 + self.log_ref - y * lam1 * p - 0.5 * y * lam2
                  - 0.5 * y * (y - 1) * lam2 * q + avg["log_z"])
        slope = 2.0 * (lam1 - avg["dlnF_dp"]) if y == 0.0 else float("nan")
        return {"value": s_i, "phi_ld": phi_ld, "sigma_ext": phi_ld - y * s_i, "slope": slope}

    def functional(self, q, lam1, lam2) -> float:
        """The function being extremised: G = −λ₁p − λ₂(1−q)/2 + ⟨ln F⟩ for y = 0, Φ_LD/y for
        y > 0 (used by the tests to check the saddle-point equations by finite differences)."""
        v = self.values(q, lam1, lam2)
        return v["value"] if self.y == 0.0 else (v["phi_ld"] - LN2 - self.log_ref) / self.y

    # -- solver ---------------------------------------------------------------------------
    def _q_of(self, a):
        return self.p**2 + (1.0 - self.p**2) * special.expit(a)

    def _a_of(self, q):
        t = (q - self.p**2) / (1.0 - self.p**2)
        t = min(max(t, 1e-300), 1 - 1e-16)
        return float(special.logit(t))

    def residual(self, q, lam1, lam2, avg=None):
        avg = avg or self.averages(q, lam1, lam2)
        return np.array([avg["M"] - self.p, avg["M2"] - q, (avg["dg2"] - lam2) / (1.0 + lam2)])

    def solve_lam1(self, q, lam2, lam1=0.0, tol=1e-13):
        """λ₁ with ⟨M⟩_y = p at fixed (q, λ₂): ⟨M⟩_y is increasing in λ₁ (derivative
        ⟨1−M²⟩ + y Var M > 0); safeguarded Newton inside an expanding bracket."""
        lo, hi = None, None
        for _ in range(60):
            avg = self.averages(q, lam1, lam2)
            r = avg["M"] - self.p
            if abs(r) < tol:
                return lam1, avg
            if r > 0:
                hi = lam1
            else:
                lo = lam1
            step = lam1 - r / max(avg["dM_dlam1"], 1e-12)
            if lo is not None and hi is not None:
                if not lo < step < hi:
                    step = 0.5 * (lo + hi)
                if hi - lo < 1e-15 * (1 + abs(lam1)):
                    return lam1, avg
            else:
                step = float(np.clip(step, lam1 - 5.0, lam1 + 5.0))
            lam1 = step
        return lam1, avg

    def iterate(self, q, lam1, lam2, damping=0.5, max_iter=150, tol=1e-10):
        """Damped fixed-point iteration on (q, λ₂) with λ₁ solved exactly at each step."""
        for it in range(max_iter):
            lam1, avg = self.solve_lam1(q, lam2, lam1)
            q_new = min(max(avg["M2"], self.p**2 + 1e-300), 1.0 - 1e-15)
            l2_new = max(avg["dg2"], 1e-300)
            dq, dl = q_new - q, (l2_new - lam2) / (1 + lam2)
            q = (1 - damping) * q + damping * q_new
            lam2 = (1 - damping) * lam2 + damping * l2_new
            if max(abs(dq), abs(dl)) < tol:
                break
        return q, lam1, lam2

    def newton(self, q, lam1, lam2):
        """MINPACK hybrid solve of the three equations in unconstrained variables
        (λ₁, logit((q−p²)/(1−p²)), ln λ₂)."""
        def fun(v):
            qq, l1, l2 = self._q_of(v[1]), v[0], np.exp(v[2])
            if not (qq < 1.0 and np.isfinite(l2)):
                return np.full(3, 1e3)
            r = self.residual(qq, l1, l2)
            return r if np.all(np.isfinite(r)) else np.full(3, 1e3)

        v0 = np.array([lam1, self._a_of(q), np.log(max(lam2, 1e-300))])
        sol = optimize.root(fun, v0, method="hybr", options={"xtol": 1e-13, "maxfev": 200})
        v = sol.x
        return self._q_of(v[1]), float(v[0]), float(np.exp(v[2]))

    def solve(self, guess=None, fallback: bool = True) -> SaddlePoint:
        """Solve the saddle point, warm-started from ``guess = (q, λ₁, λ₂)`` when given.

        Strategy: Newton (hybr) from the guess; if the residual check fails, damped iteration
        then Newton again. Converged means max|residual| < 1e−8 *as re-evaluated here*, so a
        solver that stagnates at a non-solution is reported as failed."""
        p = self.p
        d = 0.5 * (1.0 - p)
        if p == 0.0:
            return self._trivial_solution(d)
        self.evaluations, self.budget = 0, (800 if fallback else 300)
        try:
            return self._solve(guess, fallback, p, d)
        except _BudgetExceeded:
            return self._failed(d, f"no convergence within {self.budget} evaluations")
        finally:
            self.budget = np.inf

    def _solve(self, guess, fallback, p, d):
        if guess is None:
            guess = (p * p + 0.5 * (1 - p * p) * p, p, p * p)
            q, l1, l2 = self.iterate(*guess, max_iter=60, tol=1e-6)
        else:
            q, l1, l2 = guess
        best = None
        for attempt in range(2):
            try:
                with np.errstate(all="ignore"):
                    q, l1, l2 = self.newton(q, l1, l2)
                    res = float(np.max(np.abs(self.residual(q, l1, l2))))
            except (ValueError, FloatingPointError, OverflowError):
                res = np.inf
            if np.isfinite(res) and (best is None or res < best[0]):
                best = (res, q, l1, l2)
            if res < RESIDUAL_TOL:
                break
            if attempt == 1 or not fallback:
                break
            # fall back: damped iteration from the best point so far (or the guess)
            start = best[1:] if best is not None else guess
            with np.errstate(all="ignore"):
                q, l1, l2 = self.iterate(*start, damping=0.5)
        if best is None:
            return self._failed(d, "solver produced no finite point")
        res, q, l1, l2 = best
        vals = self.values(q, l1, l2)
        ok = bool(res < RESIDUAL_TOL and np.isfinite(vals["value"]))
        message = "" if ok else "residual above tolerance"
        if ok and self.y == 0.0:
            bound = self.upper_bound(d)
            if vals["value"] > bound + 1e-9:
                ok = False
                message = f"unphysical branch: local entropy {vals['value']:.4g} above the bound {bound:.4g}"
        return SaddlePoint(
            jd=self.jd, kappa=self.kappa, y=self.y, d=d, p=p, q=q, lam1=l1, lam2=l2,
            value=vals["value"], phi_ld=vals["phi_ld"], sigma_ext=vals["sigma_ext"],
            slope=vals["slope"], converged=ok, residual=res, message=message,
        )

    def upper_bound(self, d: float) -> float:
        """Rigorous upper bound on a Franz–Parisi value: the FPs at distance d are at most all
        states at that distance (H₂(d)) and at most all FPs (s(J_D), since E ln ≤ ln E);
        for typical references (κ = 0) also the annealed local entropy φ_ann(d) (Jensen)."""
        from .pairs import annealed_local_entropy

        bound = min(float(binary_entropy(d)), LN2 + float(log_Phi(self.jd)))
        if self.kappa == 0.0:
            bound = min(bound, float(annealed_local_entropy(self.jd, d)))
        return bound

    def _trivial_solution(self, d):
        """p = 0: q = λ₁ = λ₂ = 0 solves the equations (g ≡ 0, M ≡ 0); F = 2Φ(J_D)."""
        s = LN2 + float(log_Phi(self.jd))
        phi_ld = LN2 + self.log_ref + self.y * s
        slope = self.values(0.0, 0.0, 0.0)["slope"] if self.y == 0.0 else float("nan")
        return SaddlePoint(
            jd=self.jd, kappa=self.kappa, y=self.y, d=d, p=0.0, q=0.0, lam1=0.0, lam2=0.0,
            value=s, phi_ld=phi_ld, sigma_ext=phi_ld - self.y * s, slope=slope, converged=True,
            residual=0.0,
        )

    def _failed(self, d, message):
        nan = float("nan")
        return SaddlePoint(self.jd, self.kappa, self.y, d, self.p, nan, nan, nan, nan, nan, nan,
                           nan, False, float("inf"), message)


def _continuation_path(d_values, max_step):
    """Requested d's plus hidden intermediate points, decreasing, with steps ≤ max_step in √d,
    starting at max(requested, 0.45) so that the first solve is near the trivial d = 1/2."""
    u_req = np.sqrt(np.asarray(d_values, dtype=np.float64))
    u = [max(u_req.max(), np.sqrt(0.45))]
    for target in np.sort(np.unique(u_req))[::-1]:
        n = int(np.ceil((u[-1] - target) / max_step))
        u.extend(np.linspace(u[-1], target, n + 1)[1:] if n > 0 else [])
    path = np.unique(np.concatenate([np.square(u), np.asarray(d_values, dtype=np.float64)]))
    return path[::-1]


def solve_curve(jd, kappa, y, d_values, quad: Quadrature = Quadrature(),
                max_step: float = 0.03) -> list[SaddlePoint]:
    """Solve the saddle point at each requested d (any order). The solution is continued along
    decreasing d from d ≈ 1/2, with hidden intermediate points so that consecutive points differ
    by at most ``max_step`` in √d, each warm-started by linear extrapolation of
    (logit q, λ₁, ln λ₂). A solution that jumps off the continued branch is reported as failed
    (:func:`_check_branch`), so a curve is continuous wherever it is marked converged.
    Returns the requested points in input order."""
    d_values = np.asarray(d_values, dtype=np.float64)
    wanted = {float(d): [] for d in d_values}
    for i, d in enumerate(d_values):
        wanted[float(d)].append(i)
    out: list[SaddlePoint | None] = [None] * len(d_values)
    history: list[SaddlePoint] = []
    for d in _continuation_path(d_values, max_step):
        d = float(d)
        prob = RSProblem(jd, kappa, y, 1.0 - 2.0 * d, quad)
        guesses = [_extrapolate(history, prob)] if history else []
        if history:
            guesses.append(_nearest(history[-1], prob))
        guesses.append(None)
        pt = None
        for guess in guesses:
            trial = prob.solve(guess)
            if trial.converged and history:
                _check_branch(trial, history, prob)
            if pt is None or trial.converged or trial.residual < pt.residual:
                pt = trial
            if pt.converged:
                break
        if pt.converged and pt.p != 0.0:
            history.append(pt)
        for idx in wanted.get(d, []):
            out[idx] = pt
    return out  # type: ignore[return-value]


#: largest deviation of a continued saddle point's ln(1 + λ₂) from the linear extrapolation
#: of the branch, beyond the extrapolated change itself
BRANCH_JUMP = 1.0


def _check_branch(pt: SaddlePoint, history, prob: RSProblem) -> None:
    """Mark ``pt`` failed (converged = False) when it is not on the branch being continued.

    A continued solution moves smoothly: its ln(1 + λ₂) differs from the linear extrapolation
    of the last two points by a second-order amount. A solution farther than
    :data:`BRANCH_JUMP` plus the extrapolated change itself is another solution of the same
    equations — in practice the one with λ₂ → ∞, q → 1 found past the end of the followed branch
    (J_D = 0.05, κ = 0, d = 0.0038: λ₂ = 1393 after 7 and 16) — and is reported as failed instead
    of drawn as data. ln(1 + λ₂) rather than ln λ₂: where λ₂ → 0 (robust references at small d,
    d → 1/2) its logarithm runs off legitimately. Nothing is checked with fewer than two
    previous points."""
    if len(history) < 2 or not np.isfinite(pt.lam2):
        return
    prev, last = history[-2], history[-1]
    t = (prob.p - last.p) / (last.p - prev.p) if last.p != prev.p else 0.0
    t = float(np.clip(t, -2.0, 2.0))
    a, b, x = (float(np.log1p(max(h.lam2, 0.0))) for h in (prev, last, pt))
    change = t * (b - a)
    if abs(x - (b + change)) > BRANCH_JUMP + abs(change):
        pt.converged = False
        pt.message = (f"off the continued branch: λ₂ = {pt.lam2:.4g}, expected near "
                      f"{np.expm1(b + change):.4g} from λ₂ = {last.lam2:.4g} at d = {last.d:.4g}")


def _nearest(last: SaddlePoint, prob: RSProblem):
    """The previous solution as a guess, moved inside the admissible range q ∈ (p², 1)."""
    q = min(max(last.q, prob.p**2 + 1e-9 * (1 - prob.p**2)), 1 - 1e-14)
    return (q, last.lam1, max(last.lam2, 1e-12))


def _extrapolate(history, prob: RSProblem):
    """Linear extrapolation of (logit q, λ₁, ln λ₂) from the last two solutions; the step in
    ln λ₂ is clipped to ±1 and tiny λ₂ (near d = 1/2) fall back to the last point."""
    last = history[-1]
    if len(history) == 1 or min(last.lam2, history[-2].lam2) < 1e-8:
        return _nearest(last, prob)
    prev = history[-2]
    t = (prob.p - last.p) / (last.p - prev.p) if last.p != prev.p else 0.0
    t = float(np.clip(t, -2.0, 2.0))

    def lin(a, b):
        return b + t * (b - a)

    aq = lin(special.logit((prev.q - prev.p**2) / (1 - prev.p**2)),
             special.logit((last.q - last.p**2) / (1 - last.p**2)))
    q = prob.p**2 + (1 - prob.p**2) * special.expit(aq)
    l1 = lin(prev.lam1, last.lam1)
    step = float(np.clip(lin(np.log(prev.lam2), np.log(last.lam2)) - np.log(last.lam2), -1.0, 1.0))
    l2 = float(last.lam2 * np.exp(step))
    return (min(q, 1 - 1e-14), l1, l2)


def solve_densest(jd, kappa, d_values, quad: Quadrature = Quadrature(), y_max: float = 256.0,
                  y_start: float = 0.5, growth: float = 1.5, rtol_y: float = 1e-6) -> list[SaddlePoint]:
    """Densest references (E7): at each d the tilt y* with Σ_ext(y*, d) = 0, and S_I there.

    Σ_ext(y) = Φ_LD − y ∂_yΦ_LD equals the reference entropy s_κ > 0 at y = 0 and decreases
    with y. Near the critical self-couplings two saddle branches coexist and Σ_ext jumps
    across 0 (a first-order transition in y), so a plain bracketing search would land on the
    jump. Instead the branch connected to the typical references (y → 0) is *followed* by
    continuation in y (steps ×``growth``, halved on failure or on a jump), and y* is refined by
    ``brentq`` on ln y inside the last step, each solve warm-started from the lower end.

    A point is ``converged = False`` when the branch ends (no continuation) before Σ_ext = 0,
    or when Σ_ext > 0 up to ``y_max`` (d → 1/2, where all references have the same local
    entropy); S_I is then a lower bound of the densest-reference value.
    """
    d_values = np.asarray(d_values, dtype=np.float64)
    fp = solve_curve(jd, kappa, 0.0, d_values, quad)  # y = 0 start of every continuation
    out: list[SaddlePoint | None] = [None] * len(d_values)
    for idx, start in enumerate(fp):
        out[idx] = _follow_branch(jd, kappa, start, quad, y_max, y_start, growth, rtol_y)
    return out  # type: ignore[return-value]


def _follow_branch(jd, kappa, start: SaddlePoint, quad, y_max, y_start, growth, rtol_y):
    p = start.p
    if p == 0.0 or not start.converged:
        pt = RSProblem(jd, kappa, y_max, p, quad).solve(None) if p == 0.0 else start
        pt.converged = False
        pt.message = ("d = 1/2: all references have the same local entropy, no densest reference"
                      if p == 0.0 else "y = 0 saddle point failed")
        return pt

    def solve_at(y, near):
        return RSProblem(jd, kappa, y, p, quad).solve((near.q, near.lam1, near.lam2), fallback=False)

    lo = start
    lo_y = 0.0
    dq_prev = 0.0
    switches = 0
    y = y_start
    factor = growth
    while True:
        pt = solve_at(y, lo)
        # a branch switch shows as a jump of q much larger than the previous step's change
        jump = pt.converged and abs(pt.q - lo.q) > max(0.02, 4.0 * dq_prev)
        if not pt.converged or jump:
            factor = 1.0 + 0.5 * (factor - 1.0)
            if factor < 1.0 + 1e-3:
                # the followed branch ends (spinodal): continue on the coexisting branch
                y = lo_y * (1.0 + 1e-3) if lo_y > 0 else y
                other = pt if pt.converged else RSProblem(jd, kappa, y, p, quad).solve(None)
                if switches >= 2 or not other.converged:
                    lo.converged = False
                    lo.message = f"branch ends near y = {lo.y:.4g} with Σ_ext = {lo.sigma_ext:.3g} > 0"
                    return lo
                switches += 1
                if other.sigma_ext <= 0:
                    other.converged = False
                    other.message = (f"Σ_ext jumps from {lo.sigma_ext:.3g} to {other.sigma_ext:.3g} "
                                     f"where the branch ends near y = {y:.4g} (first-order)")
                    return other
                lo, lo_y, dq_prev, factor = other, y, 0.0, growth
                y = min(y * factor, y_max)
                continue
            y = lo_y * factor if lo_y > 0 else 0.5 * y
            continue
        if pt.sigma_ext <= 0:
            break
        if y >= y_max:
            pt.converged = False
            pt.message = f"Σ_ext > 0 for all y ≤ {y_max:g}: densest reference not reached (S_I is a lower bound)"
            return pt
        dq_prev = abs(pt.q - lo.q)
        lo, lo_y = pt, y
        factor = min(growth, 1.0 + 1.5 * (factor - 1.0))
        y = min(y * factor, y_max)
    hi_y = y
    if lo_y == 0.0:  # crossed already in the first step: bracket from below in y
        lo_y = 1e-6
        lo = solve_at(lo_y, start)
    cache = {}

    def sig(t):
        yy = float(np.exp(t))
        if yy not in cache:
            cache[yy] = solve_at(yy, lo)
        return cache[yy].sigma_ext if cache[yy].converged else np.nan

    try:
        t = optimize.brentq(sig, np.log(lo_y), np.log(hi_y), xtol=rtol_y, rtol=1e-12)
        pt = cache[float(np.exp(t))]
    except ValueError:  # Σ_ext undefined (failed solve) inside the step: keep the crossing point
        pt.converged = False
        pt.message = "root of Σ_ext lost inside the last continuation step"
        return pt
    if pt.converged and abs(pt.sigma_ext) > 1e-5:
        pt.converged = False
        pt.message = f"Σ_ext jumps across 0 near y = {pt.y:.4g} (first-order transition in y)"
    return pt
