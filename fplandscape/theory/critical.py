"""Named critical self-couplings of docs/critical.md, each the root of a criterion function g(J_D)
found by ``brentq`` inside a verified sign-change bracket, to a stated tolerance on J_D.

* ``gap``        J_D^gap:  g = min_{q∈[0,1]} S₂(q)                      (pair overlap gap closes)
* ``energetic``  J_D^c:    g = interior local minimum of φ_{κ=J_D}(d)   (no negative interval)
* ``entropic``   J_D^mono: g = min_d (dφ_{κ=J_D}/dd)/(1−2d)              (curve becomes monotone)
* ``ld``         J_D^LD:   g = min_d S_I(d) at densest references (Σ_ext = 0)

Each result carries the evidence: the curve at the threshold, ready to plot.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
from scipy import optimize

from ..errors import ConvergenceError, InputError, check_positive
from .counts import _scalar_jd
from .pairs import min_pair_entropy, pair_entropy
from .saddle import Quadrature, RSProblem, solve_curve, solve_densest

CRITERIA = ("gap", "energetic", "entropic", "ld")

DESCRIPTIONS = {
    "gap": "annealed pair overlap gap closes: S2(q) >= 0 for all q in [0, 1]",
    "energetic": "around the most robust references (kappa = J_D) the RS local entropy has no "
                 "negative interval at intermediate d",
    "entropic": "the kappa = J_D RS local entropy becomes monotone in d",
    "ld": "at densest references (Sigma_ext = 0) the local entropy S_I(d) >= 0 for all d",
}

# default brackets (checked for a sign change; widened by a scan when they fail)
_BRACKETS = {"gap": (1e-3, 0.5), "energetic": (0.06, 0.2), "entropic": (0.1, 0.25), "ld": (0.04, 0.08)}
_TOLERANCES = {"gap": 1e-8, "energetic": 2e-4, "entropic": 2e-4, "ld": 5e-4}
_SCAN = (0.01, 0.03, 0.06, 0.1, 0.15, 0.2, 0.3, 0.5, 0.8)

# distance grids (d < 1/2; uniform in log d where the structure is)
_FP_GRID = np.geomspace(5e-4, 0.45, 22)
_LD_GRID = np.geomspace(0.02, 0.16, 6)
_LD_QUAD = Quadrature(32, 40, 32)


@dataclass
class CriticalValue:
    """A critical self-coupling with its tolerance, bracket and evidence curve."""

    criterion: str
    jd: float
    tolerance: float
    bracket: tuple
    converged: bool
    seconds: float
    description: str
    evidence: list = field(default_factory=list)  # rows of the curve at the threshold

    def as_row(self) -> dict:
        return {"criterion": self.criterion, "jd": self.jd, "tolerance": self.tolerance,
                "bracket_lo": self.bracket[0], "bracket_hi": self.bracket[1],
                "converged": self.converged, "seconds": self.seconds}

    def as_rows(self) -> list:
        """Tidy rows (one: this critical value), the package's one result shape."""
        return [self.as_row()]


# ------------------------------------------------------------------------------------------
# criterion functions g(J_D) (negative below the threshold, positive above)


def gap_criterion(jd: float) -> float:
    """g_gap(J_D) = min_{q∈[0,1]} S₂(q; J_D)."""
    return min_pair_entropy(jd)[0]


def _refine_min(f, grid, values, i):
    """Bounded Brent around grid point i of a sampled function (endpoints kept)."""
    lo, hi = grid[max(i - 1, 0)], grid[min(i + 1, len(grid) - 1)]
    if not (0 < i < len(grid) - 1):
        return grid[i], values[i]
    res = optimize.minimize_scalar(f, bounds=(lo, hi), method="bounded", options={"xatol": 1e-6})
    if np.isfinite(res.fun) and res.fun < values[i]:
        return float(res.x), float(res.fun)
    return grid[i], values[i]


def _robust_curve(jd, quad, grid=_FP_GRID):
    pts = solve_curve(jd, jd, 0.0, grid, quad)
    if not all(p.converged for p in pts):
        bad = [p.d for p in pts if not p.converged]
        raise ConvergenceError(f"Franz–Parisi curve at J_D = {jd:.6g} failed at d = {bad}")
    return pts


def _point(jd, d, quad, guess):
    pt = RSProblem(jd, jd, 0.0, 1.0 - 2.0 * d, quad).solve(guess)
    return pt if pt.converged else RSProblem(jd, jd, 0.0, 1.0 - 2.0 * d, quad).solve(None)


def energetic_criterion(jd: float, quad: Quadrature = Quadrature()) -> float:
    """g_c(J_D) = φ_{κ=J_D} at its interior local minimum in d (refined by bounded Brent);
    when the curve has no interior minimum, the minimum over the grid away from d → 0."""
    pts = _robust_curve(jd, quad)
    d = np.array([p.d for p in pts])
    v = np.array([p.value for p in pts])
    interior = [i for i in range(1, len(v) - 1) if v[i] <= v[i - 1] and v[i] <= v[i + 1]]
    if not interior:
        return float(np.min(v[1:]))
    i = min(interior, key=lambda k: v[k])

    def f(x):
        pt = _point(jd, x, quad, (pts[i].q, pts[i].lam1, pts[i].lam2))
        return pt.value if pt.converged else np.inf

    return _refine_min(f, d, v, i)[1]


def entropic_criterion(jd: float, quad: Quadrature = Quadrature()) -> float:
    """g_mono(J_D) = min_d (dφ_{κ=J_D}/dd)/(1 − 2d); the slope is the analytic envelope
    derivative (it vanishes at d = 1/2, hence the normalisation)."""
    pts = _robust_curve(jd, quad)
    d = np.array([p.d for p in pts])
    v = np.array([p.slope / p.p for p in pts])
    i = int(np.argmin(v))

    def f(x):
        pt = _point(jd, x, quad, (pts[i].q, pts[i].lam1, pts[i].lam2))
        return pt.slope / pt.p if pt.converged else np.inf

    return _refine_min(f, d, v, i)[1]


def ld_criterion(jd: float, quad: Quadrature = Quadrature()) -> float:
    """g_LD(J_D) = min_d S_I(d) at densest references, over the converged points of a grid
    d ∈ [0.02, 0.16] (the minimum sits at its low end near the threshold; below d ≈ 0.02 the
    densest references sit at a first-order transition in y, see paper_notes.md)."""
    pts = solve_densest(jd, 0.0, _LD_GRID, quad)
    vals = [p.value for p in pts if p.converged]
    if len(vals) < len(pts) // 2:
        raise ConvergenceError(f"densest-reference curve at J_D = {jd:.6g}: too few converged points")
    return float(np.min(vals))


_CRITERION_FUNCS = {"gap": lambda jd, quad: gap_criterion(jd), "energetic": energetic_criterion,
                    "entropic": entropic_criterion, "ld": ld_criterion}


# ------------------------------------------------------------------------------------------
# evidence curves


def criterion_evidence(criterion: str, jd: float, quad: Quadrature = Quadrature()) -> list[dict]:
    """The curve that decides the criterion at ``jd`` (one number), as tidy rows."""
    _check_criterion(criterion)
    jd = _scalar_jd(jd)
    if criterion == "gap":
        q = np.linspace(0.0, 1.0, 201)
        return [{"jd": jd, "q": float(a), "pair_entropy": float(b)} for a, b in zip(q, pair_entropy(jd, q))]
    if criterion in ("energetic", "entropic"):
        grid = np.concatenate([_FP_GRID, [0.5]])
        return [p.as_row() for p in solve_curve(jd, jd, 0.0, grid, quad)]
    return [p.as_row() for p in solve_densest(jd, 0.0, _LD_GRID, quad)]


def _check_criterion(criterion):
    if not isinstance(criterion, str) or criterion not in CRITERIA:
        raise InputError(f"unknown criterion {criterion!r}: choose one of {', '.join(CRITERIA)}")
    return criterion


def check_bracket(bracket) -> tuple:
    """A user's bracket on J_D as ``(lo, hi)``: two finite real numbers with lo < hi;
    InputError naming ``bracket`` otherwise (an inverted or empty bracket is refused, never
    replaced by a scan)."""
    try:
        lo, hi = bracket
    except (TypeError, ValueError):
        raise InputError(f"bracket must be a pair (lo, hi) of numbers, got {bracket!r}") from None
    vals = []
    for v in (lo, hi):
        if isinstance(v, (bool, np.bool_)) or not isinstance(v, (int, float, np.integer,
                                                                  np.floating)):
            raise InputError(f"bracket must be a pair (lo, hi) of numbers, got {bracket!r}")
        vals.append(float(v))
    lo, hi = vals
    if not (np.isfinite(lo) and np.isfinite(hi)):
        raise InputError(f"bracket must be finite, got ({lo}, {hi})")
    if not lo < hi:
        raise InputError(f"bracket must satisfy lo < hi, got lo = {lo}, hi = {hi}")
    return lo, hi


def _default_quad(criterion):
    return _LD_QUAD if criterion == "ld" else Quadrature()


# ------------------------------------------------------------------------------------------
# the root finder


def critical_self_coupling(criterion: str, *, tol: float | None = None, bracket=None,
                           quad: Quadrature | None = None, evidence: bool = True) -> CriticalValue:
    """Critical self-coupling for a named criterion (``gap``, ``energetic``, ``entropic``,
    ``ld``): the root of g(J_D) by ``brentq`` with absolute tolerance ``tol`` on J_D, inside a
    bracket whose sign change is verified (a coarse scan finds one if the bracket, the
    criterion's default or ``bracket``, holds no sign change; ``CriticalValue.bracket`` is the
    one used). Raises ConvergenceError when no sign change is found.

    ``bracket`` must be two finite numbers ``lo < hi`` and ``tol`` a positive number
    (InputError otherwise, before any computation)."""
    _check_criterion(criterion)
    tol = _TOLERANCES[criterion] if tol is None else check_positive(tol, "tolerance tol")
    if bracket is not None:
        bracket = check_bracket(bracket)
    if quad is not None and not isinstance(quad, Quadrature):
        raise InputError(f"quad must be a fplandscape.theory.Quadrature, got {type(quad).__name__}")
    quad = quad or _default_quad(criterion)
    g = _CRITERION_FUNCS[criterion]
    start = time.perf_counter()
    cache: dict[float, float] = {}

    def f(jd):
        if jd not in cache:
            cache[jd] = g(float(jd), quad)
        return cache[jd]

    lo, hi = bracket if bracket is not None else _BRACKETS[criterion]
    if not (f(lo) < 0 < f(hi)):
        lo = hi = None
        prev = None
        for jd in _SCAN:
            if f(jd) >= 0 and prev is not None and f(prev) < 0:
                lo, hi = prev, jd
                break
            prev = jd
        if lo is None:
            raise ConvergenceError(f"no sign change of the {criterion} criterion on J_D ∈ {_SCAN}")
    root, info = optimize.brentq(f, lo, hi, xtol=tol, rtol=4 * np.finfo(float).eps, full_output=True)
    rows = criterion_evidence(criterion, root, quad) if evidence else []
    return CriticalValue(
        criterion=criterion, jd=float(root), tolerance=tol, bracket=(float(lo), float(hi)),
        converged=bool(info.converged), seconds=time.perf_counter() - start,
        description=DESCRIPTIONS[criterion], evidence=rows,
    )
