"""(E-RS) Replica-symmetric quenched entropy of fixed points, a check that annealed = quenched."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import InputError, check_count, check_positive
from .counts import _check_real, _scalar_jd, annealed_entropy
from .saddle import Quadrature, RSProblem


@dataclass
class RSEntropy:
    """Result of :func:`quenched_entropy_rs`."""

    jd: float
    entropy: float
    q: float
    lam: float
    annealed: float
    converged: bool
    iterations: int

    @property
    def equals_annealed(self) -> bool:
        return bool(self.converged and abs(self.entropy - self.annealed) < 1e-8)

    def as_rows(self) -> list:
        """Tidy rows (one: this J_D): the fields plus ``equals_annealed``."""
        return [{"jd": float(self.jd), "entropy": float(self.entropy), "q": float(self.q),
                 "lam": float(self.lam), "annealed": float(self.annealed),
                 "converged": bool(self.converged), "iterations": int(self.iterations),
                 "equals_annealed": self.equals_annealed}]


def quenched_entropy_rs(jd: float, q0: float = 0.5, lam0: float = 0.5, tol: float = 1e-12,
                        max_iter: int = 5000, quad: Quadrature | None = None) -> RSEntropy:
    """RS quenched entropy (E-RS):

        s_RS = extr_{q,λ̂} { −λ̂(1−q)/2 + E_{z,w} ln[ e^{√λ̂ w} Φ((J_D+√q z)/√(1−q))
                                                 + e^{−√λ̂ w} Φ((J_D−√q z)/√(1−q)) ] },

    the p = 0, λ₁ = 0 case of the shared saddle point (q = ⟨M²⟩, λ̂ = ⟨(∂_g ln F)²⟩), solved by
    plain iteration from a deliberately non-trivial start (q0, λ̂0). It flows to q = λ̂ = 0,
    where s_RS = ln 2 + ln Φ(J_D) = (E2). ``jd`` is one number (InputError for an array).
    """
    jd = _scalar_jd(jd)
    q0 = _check_real(q0, "starting overlap q0", lambda v: 0.0 <= v < 1.0, "lie in [0, 1)")
    lam0 = _check_real(lam0, "starting conjugate lam0", lambda v: v >= 0.0, "be finite and ≥ 0")
    tol = check_positive(tol, "tol")
    max_iter = check_count(max_iter, "max_iter", minimum=1)
    if quad is not None and not isinstance(quad, Quadrature):
        raise InputError(f"quad must be a fplandscape.theory.Quadrature, got {type(quad).__name__}")
    prob = RSProblem(jd, 0.0, 0.0, 0.0, quad or Quadrature(nx=1))
    q, lam = q0, lam0
    converged = False
    it = 0
    for it in range(1, max_iter + 1):
        avg = prob.averages(q, 0.0, lam)
        q_new, lam_new = avg["M2"], avg["dg2"]
        step = max(abs(q_new - q), abs(lam_new - lam))
        q, lam = q_new, lam_new
        if step < tol:
            converged = True
            break
    value = prob.values(q, 0.0, lam)["value"]
    return RSEntropy(jd, float(value), float(q), float(lam), float(annealed_entropy(jd)),
                     bool(converged and np.isfinite(value)), it)
