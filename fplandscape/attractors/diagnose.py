"""Diagnostics of a weight matrix W: symmetry, scale, attractor geometry, and the exact fixed-point
count of its sign version beside the random-matrix prediction.

Weight convention as everywhere (:mod:`fplandscape.attractors.systems`): ``W[i, j]`` is the
weight from unit j to unit i. With N units and the N(N−1) off-diagonal entries:

* Reciprocity ``η̂ = corr(W_ij, W_ji)``: the Pearson correlation over the N(N−1)/2 pairs i < j
  of x = (W_ij) and y = (W_ji), ``η̂ = Σ (x − x̄)(y − ȳ) / √(Σ (x − x̄)² Σ (y − ȳ)²)``
  (NaN when there are fewer than two pairs or one side is constant). For Gaussian pairs its
  standard error is ≈ (1 − η²)/√(N(N−1)/2) (``eta_se``, evaluated at η̂).
* Antisymmetry ratio ``‖A‖_F / ‖S‖_F``, S = (W + Wᵀ)/2, A = (W − Wᵀ)/2 over the off-diagonal
  entries: 0 for a symmetric W, inf for an antisymmetric one (S = 0), NaN when both vanish.
  For the random ensemble it is ≈ √((1 − η)/(1 + η)).
* Diagonal statistics (mean, population std, min, max, ``diagonal_constant``), off-diagonal
  mean and population std σ, and ``scaled_variance = N σ²`` (1 for the ensemble of
  :func:`fplandscape.model.gaussian_couplings`).

Sign version. The binary network s ← sign(W s) (diagonal included, strict predicate
``s_i (W s)_i > 0`` for all i of :mod:`fplandscape.model`) has, for N ≤ ``exact_max_n``, its
fixed points counted exactly (:func:`fplandscape.sim.enumerate_fixed_points`). The predicate is
invariant under W → c W (c > 0), so W is compared with the random ensemble of off-diagonal
variance 1/N after rescaling by σ√N: the prediction is

    E[#FP] = exp(log_expected_count(N, J_D_eff, clip(η̂, −1, 1))),  J_D_eff = mean(diag W)/(σ√N)

(:func:`fplandscape.theory.log_expected_count`, the exact finite-N mean). The theory assumes a
constant diagonal; with a varying one its mean is used and ``notes`` says so. N = 1: the
count is 2 if W_11 > 0 and 0 otherwise, for every η, so J_D_eff = sign(W_11) and η = 0 are used.
With σ = 0 (N ≥ 2) or η̂ undefined the prediction is NaN (and ``notes`` says why).

Attractor geometry. Given attractor states x_1..x_k (rows), the Gram matrix of cosines
``G_ab = ⟨x_a, x_b⟩ / (‖x_a‖ ‖x_b‖)`` and the orthogonality score ``mean_{a<b} |G_ab|``
(0: mutually orthogonal, 1: all equal up to sign; NaN with fewer than two attractors). A vector
of norm 0 gives a NaN row and column, left out of the score.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Optional

import numpy as np

from .._version import __version__
from ..errors import InputError, check_count
from ..model import MAX_PACKED_N, as_couplings
from .results import Census

__all__ = ["Diagnosis", "diagnose", "attractor_vectors"]


def _f(x):
    return None if x is None else float(x)


@dataclass
class Diagnosis:
    """Result of :func:`diagnose` (module docstring for the formulas).

    Symmetry: ``eta_hat``, ``eta_se``, ``antisymmetry_ratio``. Scale: ``diag_mean``,
    ``diag_std``, ``diag_min``, ``diag_max``, ``diagonal_constant``, ``offdiag_mean``,
    ``offdiag_std`` (σ), ``scaled_variance`` (N σ²). Attractors: ``n_attractors`` (None when
    none were given), ``gram`` (k × k cosines or None), ``orthogonality``,
    ``attractor_source``. Sign version: ``count`` (exact number of strict fixed points, None
    for N > ``exact_max_n``), ``log_count`` (−inf for 0), theory ``jd_eff``, ``eta_theory``
    (the η passed to the theory), ``expected_count``, ``log_expected_count``. ``notes``:
    caveats (varying diagonal, undefined quantities).
    """

    n: int
    eta_hat: float
    eta_se: float
    antisymmetry_ratio: float
    diag_mean: float
    diag_std: float
    diag_min: float
    diag_max: float
    diagonal_constant: bool
    offdiag_mean: float
    offdiag_std: float
    scaled_variance: float
    n_attractors: Optional[int] = None
    gram: Optional[np.ndarray] = None
    orthogonality: float = float("nan")
    attractor_source: Optional[str] = None
    count: Optional[int] = None
    log_count: Optional[float] = None
    exact_max_n: int = 40
    jd_eff: float = float("nan")
    eta_theory: float = float("nan")
    expected_count: float = float("nan")
    log_expected_count: float = float("nan")
    notes: list = field(default_factory=list)
    seconds: float = 0.0

    _SCALARS = ("n", "eta_hat", "eta_se", "antisymmetry_ratio", "diag_mean", "diag_std",
                "diag_min", "diag_max", "diagonal_constant", "offdiag_mean", "offdiag_std",
                "scaled_variance", "n_attractors", "orthogonality", "attractor_source",
                "count", "log_count", "exact_max_n", "jd_eff", "eta_theory", "expected_count",
                "log_expected_count")

    def as_rows(self) -> list:
        """One flat row (a list holding one dict) with every scalar field and the notes joined
        by "; " (the Gram matrix is in :meth:`to_dict` only)."""
        row = {k: getattr(self, k) for k in self._SCALARS}
        row["notes"] = "; ".join(self.notes)
        row["seconds"] = self.seconds
        return [row]

    def to_dict(self) -> dict:
        """Every field, arrays as lists (the ``--json`` object)."""
        out = {"version": __version__}
        out.update({k: getattr(self, k) for k in self._SCALARS})
        out["gram"] = None if self.gram is None else self.gram.tolist()
        out["notes"] = list(self.notes)
        out["seconds"] = self.seconds
        return out


# --------------------------------------------------------------------------------------------


def attractor_vectors(attractors, n: int) -> tuple[np.ndarray, str]:
    """The (k, N) vectors whose cosines :func:`diagnose` reports, and a word for their source.

    * an array: a (k, N) array (or one length-N vector), taken as is;
    * an object with ``.states`` (k, N), e.g. :class:`~fplandscape.attractors.results.FixedPoints`;
    * a :class:`~fplandscape.attractors.results.Census`: per attractor, its state for a fixed
      point and the *orbit mean* (1/p) Σ_t x_t of its ``states`` for every other kind (a
      phase-independent summary of a cycle or a sampled orbit; note that a cycle symmetric
      under x → −x, such as the 2-cycles (s, −s) of a Hopfield network, has mean 0 and thus a
      NaN cosine).
    """
    if isinstance(attractors, Census):
        rows = []
        for a in attractors.attractors:
            st = np.asarray(a.states, dtype=np.float64)
            if st.ndim != 2 or st.shape[1] != n or st.shape[0] == 0:
                raise InputError(f"census attractor states must be (p, {n}) arrays, got shape "
                                 f"{st.shape}")
            rows.append(st[0] if a.kind == "fixed_point" else st.mean(axis=0))
        X = np.array(rows).reshape(len(rows), n)
        source = "census (fixed points: state; other kinds: orbit mean)"
    else:
        if hasattr(attractors, "states") and not isinstance(attractors, np.ndarray):
            attractors, source = attractors.states, "states"
        else:
            source = "array"
        try:
            X = np.asarray(attractors, dtype=np.float64)
        except (TypeError, ValueError):
            raise InputError("attractors must be a (k, N) real array, an object with .states "
                             "or a Census") from None
        if X.ndim == 1 and X.shape[0] == n:
            X = X[None, :]
        if X.ndim == 2 and X.shape[0] == 0:
            X = X.reshape(0, n)
        if X.ndim != 2 or X.shape[1] != n:
            raise InputError(f"attractors must be a (k, N) array with N = {n} columns, got "
                             f"shape {X.shape}")
    if not np.all(np.isfinite(X)):
        raise InputError("attractor states have non-finite entries (NaN or inf)")
    return X, source


def _gram(X) -> tuple[np.ndarray, float]:
    """Cosine Gram matrix and mean |cos| over distinct pairs (NaN-free pairs only)."""
    norms = np.linalg.norm(X, axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        U = X / norms[:, None]
    U[norms == 0] = np.nan
    G = np.clip(U @ U.T, -1.0, 1.0)
    iu = np.triu_indices(X.shape[0], 1)
    vals = np.abs(G[iu])
    vals = vals[np.isfinite(vals)]
    return G, float(vals.mean()) if vals.size else float("nan")


def diagnose(W, attractors=None, *, exact_max_n: int = 40, workers: Optional[int] = 1) -> Diagnosis:
    """Symmetry, scale, attractor geometry and sign-network fixed points of ``W``.

    Parameters
    ----------
    W : N × N real finite matrix (``W[i, j]``: weight from j to i; the diagonal counts).
    attractors : None, a (k, N) array, an object with ``.states`` or a
        :class:`~fplandscape.attractors.results.Census` (:func:`attractor_vectors`).
    exact_max_n : count the fixed points of sign(W s) exactly when N ≤ this (and N ≤ 64).
    workers : local workers of the enumeration (1: in this thread; None: all cores).

    Returns a :class:`Diagnosis`; the formulas are in the module docstring. Bad input raises
    :class:`~fplandscape.errors.InputError`.
    """
    from .. import parallel, sim, theory

    t0 = time.perf_counter()
    W = as_couplings(W, name="W")
    exact_max_n = check_count(exact_max_n, "exact_max_n")
    workers = parallel.check_workers(workers)
    n = W.shape[0]
    notes = []
    X = None
    if attractors is not None:
        X, source = attractor_vectors(attractors, n)

    # symmetry -----------------------------------------------------------------------------
    iu = np.triu_indices(n, 1)
    x, y = W[iu], W.T[iu]
    n_pairs = x.size
    eta_hat = float("nan")
    if n_pairs >= 2:
        dx, dy = x - x.mean(), y - y.mean()
        den = math.sqrt(float(dx @ dx) * float(dy @ dy))
        if den > 0:
            eta_hat = float(dx @ dy) / den
    if not np.isfinite(eta_hat):
        notes.append("eta_hat undefined (fewer than two pairs or a constant side)")
    eta_clip = float(np.clip(eta_hat, -1.0, 1.0)) if np.isfinite(eta_hat) else float("nan")
    eta_se = (1.0 - eta_clip ** 2) / math.sqrt(n_pairs) if np.isfinite(eta_clip) else float("nan")
    off = ~np.eye(n, dtype=bool)
    S = 0.5 * (W + W.T)
    A = 0.5 * (W - W.T)
    s_norm = float(np.sqrt(np.sum(S[off] ** 2)))
    a_norm = float(np.sqrt(np.sum(A[off] ** 2)))
    if s_norm > 0:
        ratio = a_norm / s_norm
    else:
        ratio = float("inf") if a_norm > 0 else float("nan")

    # scale --------------------------------------------------------------------------------
    d = np.diag(W).copy()
    offd = W[off]
    diag_constant = bool(np.all(d == d[0]))
    diag_mean = float(d[0]) if diag_constant else float(d.mean())
    diag_std = 0.0 if diag_constant else float(d.std())
    if offd.size:
        off_mean, off_std = float(offd.mean()), float(offd.std())
    else:
        off_mean = off_std = float("nan")
        notes.append("N = 1: no off-diagonal entries")
    out = Diagnosis(n=n, eta_hat=eta_hat, eta_se=eta_se, antisymmetry_ratio=ratio,
                    diag_mean=diag_mean, diag_std=diag_std, diag_min=float(d.min()),
                    diag_max=float(d.max()), diagonal_constant=diag_constant,
                    offdiag_mean=off_mean, offdiag_std=off_std,
                    scaled_variance=n * off_std ** 2 if offd.size else float("nan"),
                    exact_max_n=exact_max_n, notes=notes)

    # attractors ---------------------------------------------------------------------------
    if X is not None:
        out.n_attractors = int(X.shape[0])
        out.attractor_source = source
        out.gram, out.orthogonality = _gram(X)

    # sign version: exact count and theory -------------------------------------------------
    if n <= min(exact_max_n, MAX_PACKED_N):
        count = sim.enumerate_fixed_points(W, workers=workers).count
        out.count = int(count)
        out.log_count = math.log(count) if count > 0 else float("-inf")
    if not diag_constant:
        notes.append("diagonal not constant: the theory uses its mean")
    if n == 1:
        jd_eff, eta_th = float(np.sign(d[0])), 0.0
    elif not off_std > 0:
        jd_eff, eta_th = float("nan"), eta_clip
        notes.append("off-diagonal entries constant (sigma = 0): no rescaled theory")
    else:
        jd_eff, eta_th = diag_mean / (off_std * math.sqrt(n)), eta_clip
    out.jd_eff, out.eta_theory = jd_eff, eta_th
    if np.isfinite(jd_eff) and np.isfinite(eta_th):
        try:
            log_e = float(theory.log_expected_count(n, jd_eff, eta_th))
        except NotImplementedError as exc:
            log_e = float("nan")
            notes.append(f"theory unavailable: {exc}")
        out.log_expected_count = log_e
        with np.errstate(over="ignore"):
            out.expected_count = float(np.exp(log_e))  # inf beyond e^709, 0 for −inf
    elif np.isfinite(jd_eff):
        notes.append("theory needs eta_hat")
    out.seconds = time.perf_counter() - t0
    return out
