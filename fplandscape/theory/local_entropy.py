"""Local-entropy curves φ(d) around a reference FP: annealed (E5), Franz–Parisi (E6) and large
deviations (E7), behind one function with one result type."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..errors import InputError, check_count, check_positive
from ..provenance import run_info
from .counts import _scalar_jd
from .pairs import annealed_local_entropy
from .saddle import Quadrature, solve_curve, solve_densest

KINDS = ("annealed", "franz-parisi", "large-deviation")


JD_MAX = 50.0    # |J_D| of the saddle-point solver (Φ(50) = 1 in float64)
Y_MAX = 1000.0   # tilt y of the large-deviation local entropy


def default_distances(n: int = 50, d_min: float = 0.002, d_max: float = 0.5) -> np.ndarray:
    """A d grid of ``n`` points uniform in √d on [d_min, d_max] (dense where the curves have
    structure); 0 < d_min ≤ d_max ≤ 1/2 (InputError otherwise)."""
    n = check_count(n, "n", minimum=1)
    d_min, d_max = check_positive(d_min, "d_min"), check_positive(d_max, "d_max")
    if not d_min <= d_max <= 0.5:
        raise InputError(f"need 0 < d_min ≤ d_max ≤ 1/2, got d_min = {d_min}, d_max = {d_max}")
    d = np.linspace(np.sqrt(d_min), np.sqrt(d_max), n) ** 2
    d[-1] = d_max  # sqrt(0.5)**2 rounds to 0.5000000000000001
    return d


@dataclass
class LocalEntropyCurve:
    """A local-entropy curve: ``local_entropy[i]`` at ``d[i]``; ``converged[i]`` False marks a
    failed point (its value is still reported, never silently trusted). For large deviations
    ``y`` holds the tilt used at each point (y* for densest references)."""

    jd: float
    kind: str
    kappa: float
    d: np.ndarray
    local_entropy: np.ndarray
    converged: np.ndarray
    y: np.ndarray | None = None
    details: list = field(default_factory=list)  # per-point saddle rows (q, λ₁, λ₂, ...)

    def as_rows(self) -> list[dict]:
        rows = []
        for i, d in enumerate(self.d):
            row = run_info(jd=self.jd, kind=self.kind, kappa=self.kappa, d=float(d),
                           local_entropy=float(self.local_entropy[i]),
                           converged=bool(self.converged[i]))
            if self.y is not None:
                row["y"] = float(self.y[i])
            if self.details:
                row.update({k: v for k, v in self.details[i].items() if k not in row and k != "value"})
            rows.append(row)
        return rows


def _check_d(d):
    try:
        d = np.atleast_1d(np.asarray(d, dtype=np.float64))
    except (TypeError, ValueError):
        raise InputError(f"distances d must be a non-empty 1-D list of numbers, got {d!r}") from None
    if d.ndim != 1 or d.size == 0:
        raise InputError("distances d must be a non-empty 1-D list")
    if not np.all(np.isfinite(d)) or np.any(d <= 0) or np.any(d > 0.5):
        raise InputError("distances d must lie in (0, 1/2]")
    return d


def _check_kappa(kappa, jd):
    if isinstance(kappa, bool) or not isinstance(kappa, (int, float, np.integer, np.floating)):
        raise InputError(f"margin kappa must be a number in [0, J_D] = [0, {jd}], got {kappa!r}")
    kappa = float(kappa)
    if not np.isfinite(kappa) or kappa < 0 or kappa > jd + 1e-15:
        raise InputError(f"margin kappa must lie in [0, J_D] = [0, {jd}], got {kappa}")
    return min(kappa, jd)


def local_entropy(jd: float, kind: str = "franz-parisi", d=None, *, kappa: float = 0.0,
                  y: float | None = None, quad: Quadrature | None = None) -> LocalEntropyCurve:
    """Local entropy φ(d) (per neuron) of FPs at distance d·N from a reference FP.

    ``kind="annealed"``: (E5) φ_ann(d) = S₂(1−2d) − s(J_D), typical references.
    ``kind="franz-parisi"``: (E6) RS Franz–Parisi potential around references with margin
    ``kappa`` ∈ [0, J_D] (0: typical FPs; J_D: the most robust ones).
    ``kind="large-deviation"``: (E7) S_I(d) at tilt ``y`` (references weighted by their local
    count to the power y); ``y=None`` picks the densest references, Σ_ext(y*) = 0.

    ``d`` defaults to :func:`default_distances`. Failed saddle points are flagged in
    ``converged``. One curve per call: ``jd``, ``kappa`` and ``y`` are single numbers
    (InputError for arrays; loop over J_D for several curves), ``d`` a 1-D list; |J_D| ≤ 50
    and y ≤ 1000 (:data:`JD_MAX`, :data:`Y_MAX`; InputError beyond).
    """
    jd = _scalar_jd(jd)
    if not isinstance(kind, str) or kind not in KINDS:
        raise InputError(f"unknown local-entropy kind {kind!r}: choose one of {', '.join(KINDS)}")
    d = default_distances() if d is None else _check_d(d)
    quad = quad or Quadrature()
    if kind == "annealed":
        if not (isinstance(kappa, (int, float, np.integer, np.floating)) and kappa == 0.0):
            raise InputError("the annealed local entropy (E5) is for typical references (kappa = 0)")
        v = np.asarray(annealed_local_entropy(jd, d), dtype=float).reshape(d.shape)
        return LocalEntropyCurve(jd, kind, 0.0, d, v, np.isfinite(v))
    if not abs(jd) <= JD_MAX:
        raise InputError(f"the local-entropy saddle point is solved for |J_D| ≤ {JD_MAX:g}, got "
                         f"J_D = {jd!r} (beyond, Φ(±J_D) is 0 or 1 in float64 and the "
                         "equations degenerate)")
    kappa = _check_kappa(kappa, jd)
    if kind == "franz-parisi":
        if y is not None:
            raise InputError("y applies to kind='large-deviation' only")
        pts = solve_curve(jd, kappa, 0.0, d, quad)
    else:
        if y is not None:
            y = check_positive(y, "tilt y")
            if y > Y_MAX:
                raise InputError(f"tilt y must be ≤ {Y_MAX:g} (got {y!r}): beyond, the tilted "
                                 "measure overflows float64")
        pts = solve_densest(jd, kappa, d, quad) if y is None else solve_curve(jd, kappa, float(y), d, quad)
    return LocalEntropyCurve(
        jd, kind, kappa, d,
        np.array([p.value for p in pts]), np.array([p.converged for p in pts]),
        y=None if kind == "franz-parisi" else np.array([p.y for p in pts]),
        details=[p.as_row() for p in pts],
    )


def franz_parisi(jd: float, d=None, kappa: float = 0.0, quad: Quadrature | None = None):
    """(E6) Franz–Parisi local entropy φ_κ(d); shorthand for ``local_entropy(kind="franz-parisi")``."""
    return local_entropy(jd, "franz-parisi", d, kappa=kappa, quad=quad)


def large_deviation(jd: float, d=None, y: float | None = None, kappa: float = 0.0, quad=None):
    """(E7) large-deviation local entropy S_I(d) at tilt y (None: densest references)."""
    return local_entropy(jd, "large-deviation", d, kappa=kappa, y=y, quad=quad)
