"""Result objects of the attractor analyses: small dataclasses of arrays with ``as_rows()``
(tidy rows, one per fixed point or attractor) and ``to_dict()`` (the ``--json`` object)."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

import numpy as np

from .._version import __version__

__all__ = ["FixedPoints", "Attractor", "Census", "ATTRACTOR_KINDS"]

ATTRACTOR_KINDS = ("fixed_point", "periodic", "quasi_periodic", "chaotic", "divergent")


def _list(a):
    if a is None:
        return None
    a = np.asarray(a)
    if np.iscomplexobj(a):
        return {"real": a.real.tolist(), "imag": a.imag.tolist()}
    return a.tolist()


@dataclass
class FixedPoints:
    """Fixed points of one system under one frozen input.

    Arrays over the k fixed points found: ``states`` (k × N), ``residuals`` (k: max-norm of the
    residual F after Newton polishing), ``eigenvalues`` (k × N complex: of the Jacobian of the
    map or the vector field, sorted by decreasing |λ| for maps and decreasing Re λ for flows),
    ``stable`` (bool: all |λ| < 1 for maps, all Re λ < 0 for flows), ``n_unstable`` (number of
    |λ| > 1, resp. Re λ > 0), ``labels`` (e.g. ``"stable node"``, ``"saddle-2"``).
    ``complete`` is True only when the list is proven to hold every fixed point in ``box``
    (certified mode, or exact enumeration for sign networks). ``slow_states``/``slow_q``: local
    minima of q = ½|F|² with q > 0 (slow points, never counted as fixed points).
    """

    states: np.ndarray
    residuals: np.ndarray
    eigenvalues: np.ndarray
    stable: np.ndarray
    n_unstable: np.ndarray
    labels: list
    kind: str = "map"
    complete: bool = False
    slow_states: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))
    slow_q: np.ndarray = field(default_factory=lambda: np.zeros(0))
    input: Optional[np.ndarray] = None
    system: dict = field(default_factory=dict)
    params: dict = field(default_factory=dict)
    certificate: Optional[dict] = None
    seconds: float = 0.0

    def __len__(self) -> int:
        return int(self.states.shape[0])

    def as_rows(self) -> list:
        """One row per fixed point: index, label, stability, residual, leading eigenvalue."""
        rows = []
        for i in range(len(self)):
            ev = self.eigenvalues[i]
            lead = ev[0] if ev.size else np.nan
            rows.append({"index": i, "label": self.labels[i], "stable": bool(self.stable[i]),
                         "n_unstable": int(self.n_unstable[i]),
                         "residual": float(self.residuals[i]),
                         "leading_eigenvalue_real": float(np.real(lead)),
                         "leading_eigenvalue_imag": float(np.imag(lead)),
                         "norm": float(np.linalg.norm(self.states[i]))})
        return rows

    def to_dict(self) -> dict:
        return {"version": __version__, "system": self.system, "params": self.params,
                "input": _list(self.input), "n_fixed_points": len(self),
                "complete": bool(self.complete), "states": _list(self.states),
                "residuals": _list(self.residuals), "eigenvalues": _list(self.eigenvalues),
                "stable": _list(self.stable), "n_unstable": _list(self.n_unstable),
                "labels": list(self.labels), "slow_states": _list(self.slow_states),
                "slow_q": _list(self.slow_q), "certificate": self.certificate,
                "seconds": self.seconds}


@dataclass
class Attractor:
    """One attractor found by a census.

    ``kind``: one of :data:`ATTRACTOR_KINDS`. ``period``: steps (int) for cycles of maps, time
    (float) for cycles of flows, 1 for fixed points of maps, None otherwise. ``states``: the
    orbit's points for fixed points and cycles (p × N; a sample of the orbit otherwise).
    ``basin``: fraction of starts that end here, ``basin_se`` its standard error
    √(p(1−p)/M) (0 for an exact census, where ``basin`` is exact). ``lyapunov``: the top
    exponents, largest first (per step for maps, per unit time for flows), ``lyapunov_se``
    their standard errors (from block averages); ``multipliers``: eigenvalues of the Jacobian of
    the p-step map (maps) or Floquet multipliers (flows) for fixed points and cycles.
    """

    kind: str
    period: Optional[float]
    states: np.ndarray
    basin: float
    basin_se: float
    lyapunov: np.ndarray
    lyapunov_se: Optional[np.ndarray] = None
    multipliers: Optional[np.ndarray] = None
    n_starts: int = 0
    basin_size: Optional[int] = None
    strict: Optional[bool] = None

    def to_dict(self) -> dict:
        return {"kind": self.kind, "period": self.period, "states": _list(self.states),
                "basin": self.basin, "basin_se": self.basin_se,
                "basin_size": self.basin_size, "n_starts": self.n_starts,
                "lyapunov": _list(self.lyapunov), "lyapunov_se": _list(self.lyapunov_se),
                "multipliers": _list(self.multipliers), "strict": self.strict}

    def as_rows(self) -> list:
        """Tidy rows (one: this attractor): kind, period, basin ± SE, top Lyapunov exponent."""
        lam = np.asarray(self.lyapunov, dtype=float)
        return [{"kind": self.kind, "period": self.period, "basin": self.basin,
                 "basin_se": self.basin_se, "basin_size": self.basin_size,
                 "n_starts": self.n_starts, "strict": self.strict,
                 "lyapunov_max": float(lam[0]) if lam.size else None}]


@dataclass
class Census:
    """The attractors reached from a set of starts (or, for ``exact=True``, from every state
    of a binary network), largest basin first."""

    attractors: list
    n_starts: int
    kind: str = "map"
    exact: bool = False
    input: Optional[np.ndarray] = None
    system: dict = field(default_factory=dict)
    params: dict = field(default_factory=dict)
    seconds: float = 0.0

    def __len__(self) -> int:
        return len(self.attractors)

    def fractions(self) -> dict:
        """Basin fraction per kind (the five words of :data:`ATTRACTOR_KINDS`)."""
        out = {k: 0.0 for k in ATTRACTOR_KINDS}
        for a in self.attractors:
            out[a.kind] += a.basin
        return out

    def as_rows(self) -> list:
        """One row per attractor: kind, period, basin ± SE, top Lyapunov exponent."""
        rows = []
        for i, a in enumerate(self.attractors):
            lam = np.asarray(a.lyapunov, dtype=float)
            rows.append({"index": i, "kind": a.kind, "period": a.period, "basin": a.basin,
                         "basin_se": a.basin_se, "n_starts": a.n_starts,
                         "lyapunov_max": float(lam[0]) if lam.size else None})
        return rows

    def to_dict(self) -> dict:
        return {"version": __version__, "system": self.system, "params": self.params,
                "input": _list(self.input), "n_starts": self.n_starts, "exact": self.exact,
                "fractions": self.fractions(), "n_attractors": len(self),
                "attractors": [a.to_dict() for a in self.attractors], "seconds": self.seconds}
