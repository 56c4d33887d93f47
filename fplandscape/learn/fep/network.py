"""The free-energy attractor network of Spisak & Friston (2025), vectorised over units and over a
batch of independent networks.

State, couplings, evidence. N units with states σ_i ∈ [−1, 1]; couplings ``J[i, j]`` from unit
j to unit i (diagonal allowed, never trained); biases ``b_i`` (the evidence: during a
presentation of pattern x with evidence level λ, b = λ x; zero otherwise). A batch of B
independent networks keeps ``J`` as (B, N, N) and states and biases as (B, N).

One update (a "step"), given inverse temperature β (the reference's ``AttractorNetwork.update``,
``simulation/network.py`` l. 536–586):

1. recurrent input from the *current* states, ``h = J σ`` (bias excluded, diagonal included);
2. every unit at once (``update="sync"``, as the reference): ``z = β (b + h)`` and
   deterministic ("least action") ``σ ← L(z)`` (L the Langevin function, the CB mean), or
   stochastic ``σ ← a sample of CB(z)`` (inverse CDF, :mod:`.cb`). ``update="async"`` instead
   sweeps the units in ``unit_order``, each seeing the latest states; then ``h_i`` is the
   recurrent input unit i received when it was updated;
3. learning (if the rate α > 0), with the *new* states σ' and the *old* input h:

       ΔJ_ij = α (σ'_i σ'_j − L(h_i) σ'_j)   for i ≠ j,   ΔJ_ii = 0

   (l. 567–586: Hebbian observed correlation minus the anti-Hebbian predicted one; L(h) is the
   Langevin of the recurrent input *before* the bias is added and *without* β, exactly as the
   reference computes it; the paper's eq. ``learning-rule`` writes L(b_i + Σ_{k≠i} J_ik σ_k)).

Variational free energy (l. 619–676), with ``b_q = b + J σ`` (no β):

    complexity = Σ_i KL(CB(b_q,i) ‖ CB(b_i)),   accuracy = b · L(b_q) + L(b_q)ᵀ J L(b_q),
    F = complexity − accuracy

(the accuracy is E[bᵀσ + σᵀJσ] under the product of the CB(b_q,i), exact off the diagonal).
The KL uses the overflow-free log-normaliser of :mod:`.cb`, equal to the reference's
``log(b/sinh b)`` form wherever that is finite (it overflows for |b| > 710).

Relaxation (``relax``, l. 782–825): repeat steps without learning until the VFE changes by
less than ``tol`` between consecutive steps, or ``max_steps``; each start stops at its own
convergence. A start that did not converge keeps its last state and is reported
(``converged`` False) — the reference returns NaN instead.

Training (``train``; the reference's ``run_network`` / ``continous_inference_and_learning``,
``simulation/utils.py`` l. 66–164): for each presentation a pattern index is chosen (``order``
``"random"``: uniform, drawn from the network's generator; ``"sequential"``: 0, 1, …, P−1, 0,
…; or an explicit index array), the biases are set to λ·x, ``steps`` updates with learning
run, and the state carries over to the next presentation; afterwards the biases are 0.

Randomness: each network of a batch has its own NumPy Generator (``seed``: one seed for
network 0 … B−1 via ``SeedSequence(seed, spawn_key=(k,))``, or one seed/Generator per network;
a single network uses ``default_rng(seed)`` itself, so network 0 of a batch is not the network
of the same integer seed run alone). Per stochastic step a network draws one uniform double per
unit in unit order (``rng.random``), the stream the reference consumes with
``rng.uniform(0, 1)`` per unit — so with the same Generator and order the stochastic run
follows the reference's too (to rounding), except where the reference departs from the exact
sampler: it clips |β(b + h)| at 500 and draws a plain uniform for |β(b + h)| ≤ 1e-8 (our inverse
CDF is exact there, ~1e-8 apart). A stochastic ``relax`` of M starts draws their uniforms
interleaved, so a start's trajectory depends on how many start with it (the deterministic mode
does not). ``order="random"`` draws all pattern indices first.
"""
from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field
from typing import Optional

import numpy as np

from ...errors import InputError, check_count, check_positive
from ...model import as_generator, seed_repr
from . import cb

__all__ = ["FEPNetwork", "RelaxResult", "TrainResult", "symmetry"]

MAX_STEPS = 10_000_000
_CHUNK = 256  # steps of uniforms drawn at once per network (exactly as many as needed)
_QUIET = {"divide": "ignore", "invalid": "ignore", "over": "ignore"}


# --------------------------------------------------------------------------------------------
# validation helpers


def _finite_array(value, name: str) -> np.ndarray:
    try:
        arr = np.array(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise InputError(f"{name} must be a real array") from None
    if not np.all(np.isfinite(arr)):
        raise InputError(f"{name} has non-finite entries (NaN or inf)")
    return arr


def _per_network(value, batch: int, name: str, *, positive: bool = False,
                 nonnegative: bool = False) -> np.ndarray:
    """A scalar or a length-B vector of finite reals, as a (B,) float64 array."""
    if isinstance(value, bool):
        raise InputError(f"{name} must be a real number, got {value!r}")
    arr = _finite_array(value, name)
    if arr.ndim == 0:
        arr = np.full(batch, float(arr))
    if arr.shape != (batch,):
        raise InputError(f"{name} must be a number or one per network (length {batch}), got "
                         f"shape {arr.shape}")
    if positive and np.any(arr <= 0):
        raise InputError(f"{name} must be positive, got {value!r}")
    if nonnegative and np.any(arr < 0):
        raise InputError(f"{name} must be non-negative, got {value!r}")
    return arr


def _rows(value, batch: int, n: int, name: str) -> np.ndarray:
    """A scalar, a length-N vector (shared) or a (B, N) array, as (B, N) float64."""
    arr = _finite_array(value, name)
    if arr.ndim == 0:
        return np.full((batch, n), float(arr))
    if arr.ndim == 1 and arr.shape[0] == n:
        return np.repeat(arr[None, :], batch, axis=0)
    if arr.shape == (batch, n):
        return arr.copy()
    raise InputError(f"{name} must be a scalar, a length-{n} vector or a ({batch}, {n}) array, "
                     f"got shape {arr.shape}")


def _generators(seed, batch: int) -> list:
    if isinstance(seed, (list, tuple)):
        if len(seed) != batch:
            raise InputError(f"seed: {len(seed)} seeds given for {batch} networks")
        return [as_generator(s) for s in seed]
    if batch == 1:
        return [as_generator(seed)]
    if isinstance(seed, np.random.Generator):
        return list(seed.spawn(batch))
    if seed is None:
        ss = np.random.SeedSequence()
        return [np.random.default_rng(c) for c in ss.spawn(batch)]
    as_generator(seed)  # validates
    if isinstance(seed, np.random.SeedSequence):
        return [np.random.default_rng(c) for c in seed.spawn(batch)]
    return [np.random.default_rng(np.random.SeedSequence(int(seed), spawn_key=(k,)))
            for k in range(batch)]


def _uniforms(rngs, steps: int, shape) -> np.ndarray:
    """(steps, B, *shape) uniforms: network k's block from its own generator, in order."""
    return np.stack([r.random((steps,) + tuple(shape)) for r in rngs], axis=1)


def _progress_bar(total, progress, desc):
    from tqdm.auto import tqdm

    disable = (not sys.stderr.isatty()) if progress is None else (not progress)
    return tqdm(total=total, desc=desc, unit="presentation", disable=disable, file=sys.stderr,
                dynamic_ncols=True, smoothing=0.1)


def symmetry(J) -> dict:
    """``eta`` = corr(J_ij, J_ji) over the pairs i < j (Pearson; the η̂ of
    :func:`fplandscape.attractors.diagnose`) and ``asymmetry`` = ‖J − Jᵀ‖_F / ‖J‖_F (the
    reference's measure, diagonal included in ‖J‖). For a (B, N, N) batch: arrays of length B.
    Undefined values (constant sides, J = 0) are NaN."""
    J = _finite_array(J, "J")
    single = J.ndim == 2
    if single:
        J = J[None]
    if J.ndim != 3 or J.shape[1] != J.shape[2]:
        raise InputError(f"J must be a square matrix or a (B, N, N) batch, got shape {J.shape}")
    n = J.shape[1]
    iu = np.triu_indices(n, 1)
    x, y = J[:, iu[0], iu[1]], J[:, iu[1], iu[0]]
    dx = x - x.mean(axis=1, keepdims=True)
    dy = y - y.mean(axis=1, keepdims=True)
    den = np.sqrt(np.sum(dx * dx, axis=1) * np.sum(dy * dy, axis=1))
    with np.errstate(invalid="ignore", divide="ignore"):
        eta = np.where(den > 0, np.sum(dx * dy, axis=1) / np.where(den > 0, den, 1.0), np.nan)
        if x.shape[1] < 2:
            eta = np.full(J.shape[0], np.nan)
        nj = np.sqrt(np.sum(J * J, axis=(1, 2)))
        asym = np.where(nj > 0, np.sqrt(np.sum((J - J.transpose(0, 2, 1)) ** 2, axis=(1, 2)))
                        / np.where(nj > 0, nj, 1.0), np.nan)
    if single:
        return {"eta": float(eta[0]), "asymmetry": float(asym[0])}
    return {"eta": eta, "asymmetry": asym}


# --------------------------------------------------------------------------------------------
# results


@dataclass
class RelaxResult:
    """Outcome of :meth:`FEPNetwork.relax`: final ``states`` (shaped like the starts), the
    ``steps`` taken, ``converged`` flags (VFE change below ``tol``) and the final ``vfe`` (one
    per start); ``params`` records β, tol, max_steps and the mode."""

    states: np.ndarray
    steps: np.ndarray
    converged: np.ndarray
    vfe: np.ndarray
    params: dict = field(default_factory=dict)

    @property
    def all_converged(self) -> bool:
        return bool(np.all(self.converged))

    def to_dict(self) -> dict:
        return {"states": self.states.tolist(), "steps": np.asarray(self.steps).tolist(),
                "converged": np.asarray(self.converged).tolist(),
                "vfe": np.asarray(self.vfe).tolist(), "params": dict(self.params)}

    def as_rows(self) -> list:
        """One row per start (C order over the leading axes): ``start`` (its index tuple),
        ``steps``, ``converged``, ``vfe`` and the parameters."""
        steps, conv, vfe = (np.asarray(a) for a in (self.steps, self.converged, self.vfe))
        return [{**self.params, "start": list(idx), "steps": int(steps[idx]),
                 "converged": bool(conv[idx]), "vfe": float(vfe[idx])}
                for idx in np.ndindex(vfe.shape)]


@dataclass
class TrainResult:
    """Outcome of :meth:`FEPNetwork.train`: the pattern ``order`` used ((B, T) indices, (T,)
    for one network), per-step traces (with ``record``: ``vfe``, ``accuracy``, ``complexity``
    and ``weight_change`` = Σ (ΔJ)², each (B, T·steps); ``states`` (B, T·steps, N) with
    ``record_states``), and ``seconds``."""

    order: np.ndarray
    steps: int
    vfe: Optional[np.ndarray] = None
    accuracy: Optional[np.ndarray] = None
    complexity: Optional[np.ndarray] = None
    weight_change: Optional[np.ndarray] = None
    states: Optional[np.ndarray] = None
    seconds: float = 0.0
    params: dict = field(default_factory=dict)

    def as_rows(self) -> list:
        """One row per network and recorded step (``network``, ``step`` and the recorded
        traces: ``vfe``, ``accuracy``, ``complexity``, ``weight_change``), or, when nothing was
        recorded, one row with ``steps``, ``seconds`` and the parameters."""
        traces = {k: getattr(self, k) for k in ("vfe", "accuracy", "complexity", "weight_change")
                  if getattr(self, k) is not None}
        if not traces:
            return [{**self.params, "steps": int(self.steps), "seconds": float(self.seconds)}]
        traces = {k: np.atleast_2d(np.asarray(v)) for k, v in traces.items()}
        B, K = next(iter(traces.values())).shape
        return [{"network": b, "step": t, **{k: float(v[b, t]) for k, v in traces.items()}}
                for b in range(B) for t in range(K)]


# --------------------------------------------------------------------------------------------
# the network


class FEPNetwork:
    """Free-energy attractor network(s) (module docstring for the equations).

    Parameters
    ----------
    J : (N, N) couplings (``J[i, j]`` from unit j to unit i), or a (B, N, N) batch of
        independent networks. Copied. The diagonal is kept fixed by learning.
    b : biases: scalar, length N, or (B, N) (default 0).
    sigma : initial states in [−1, 1] (same forms as ``b``; default 0, as the reference).
    seed : int, SeedSequence, Generator, or a list of one per network (module docstring;
        default 0, the package's one seed default).
    update : ``"sync"`` (all units at once, the reference) or ``"async"`` (sweep).
    unit_order : the sweep order of ``"async"`` (a permutation of 0..N−1; default 0..N−1).

    ``FEPNetwork.zeros(n, batch=None, ...)`` starts from J = 0 (the reference's networks).
    """

    def __init__(self, J, b=0.0, *, sigma=None, seed=0, update: str = "sync",
                 unit_order=None):
        J = _finite_array(J, "J")
        self._single = J.ndim == 2
        if self._single:
            J = J[None]
        if J.ndim != 3 or J.shape[1] != J.shape[2] or J.shape[1] < 1 or J.shape[0] < 1:
            raise InputError(f"J must be a square N × N matrix or a (B, N, N) batch, got shape "
                             f"{np.shape(J)}")
        self._J = np.ascontiguousarray(J)
        B, n = J.shape[0], J.shape[1]
        self.n, self.batch = n, B
        self._b = _rows(b, B, n, "b")
        self._s = _rows(0.0 if sigma is None else sigma, B, n, "sigma")
        if np.any(np.abs(self._s) > 1.0):
            raise InputError("sigma must lie in [-1, 1]")
        if update not in ("sync", "async"):
            raise InputError(f"update must be 'sync' or 'async', got {update!r}")
        self.update = update
        if unit_order is None:
            unit_order = np.arange(n)
        unit_order = np.asarray(unit_order)
        if unit_order.shape != (n,) or sorted(unit_order.tolist()) != list(range(n)):
            raise InputError(f"unit_order must be a permutation of 0..{n - 1}")
        self.unit_order = unit_order.astype(np.intp)
        self._off = 1.0 - np.eye(n)
        self.seed = seed_repr(seed) if not isinstance(seed, (list, tuple, np.random.Generator)) \
            else None
        self._rngs = _generators(seed, B)

    @classmethod
    def zeros(cls, n: int, batch: Optional[int] = None, **kwargs) -> "FEPNetwork":
        """Network(s) of ``n`` units with J = 0 (``batch`` of them: a (B, N, N) batch)."""
        n = check_count(n, "n", minimum=1, maximum=20_000)
        shape = (n, n) if batch is None else (check_count(batch, "batch", minimum=1), n, n)
        return cls(np.zeros(shape), **kwargs)

    # -- views ---------------------------------------------------------------------------
    def _out(self, arr):
        return arr[0] if self._single else arr

    @property
    def J(self) -> np.ndarray:
        """Couplings (N, N), or (B, N, N) for a batch (a copy)."""
        return self._out(self._J).copy()

    @J.setter
    def J(self, value):
        other = FEPNetwork(value, 0.0)
        if other._J.shape != self._J.shape:
            raise InputError(f"J must have shape {self.J.shape}, got {np.shape(value)}")
        self._J = other._J

    @property
    def b(self) -> np.ndarray:
        return self._out(self._b).copy()

    @b.setter
    def b(self, value):
        self._b = _rows(value, self.batch, self.n, "b")

    @property
    def sigma(self) -> np.ndarray:
        """Current states (N,) or (B, N) (a copy)."""
        return self._out(self._s).copy()

    @sigma.setter
    def sigma(self, value):
        s = _rows(value, self.batch, self.n, "sigma")
        if np.any(np.abs(s) > 1.0):
            raise InputError("sigma must lie in [-1, 1]")
        self._s = s

    def network(self, k: int) -> "FEPNetwork":
        """Member ``k`` of a batch as a single network (copies; shares its generator)."""
        k = check_count(k, "k", maximum=self.batch - 1)
        out = FEPNetwork(self._J[k], self._b[k], sigma=self._s[k], update=self.update,
                         unit_order=self.unit_order)
        out._rngs = [self._rngs[k]]
        out.seed = None
        return out

    def symmetry(self) -> dict:
        """:func:`symmetry` of the couplings."""
        return symmetry(self.J)

    # -- free energy ---------------------------------------------------------------------
    def _terms(self, S, b, J=None):
        """complexity and accuracy for states S (B, M, N) and biases b (B, N) or (B, M, N)."""
        J = self._J if J is None else J
        bq = (b if b.ndim == 3 else b[:, None, :]) + np.matmul(S, J.transpose(0, 2, 1))
        bb = b if b.ndim == 3 else np.broadcast_to(b[:, None, :], bq.shape)
        Lq = cb.langevin(bq)
        complexity = np.sum(cb.kl(bq, bb), axis=-1)
        accuracy = np.sum(bb * Lq, axis=-1) + np.sum(Lq * np.matmul(Lq, J.transpose(0, 2, 1)),
                                                   axis=-1)
        return complexity, accuracy

    def _free_energy(self, sigma, b):
        S = self._s if sigma is None else _rows(sigma, self.batch, self.n, "sigma")
        bb = self._b if b is None else _rows(b, self.batch, self.n, "b")
        c, a = self._terms(S[:, None, :], bb)
        return c[:, 0], a[:, 0]

    def complexity(self, sigma=None, b=None):
        """Σ_i KL(CB(b_q,i) ‖ CB(b_i)), b_q = b + J σ (current state and biases by default)."""
        return self._scalar(self._free_energy(sigma, b)[0])

    def accuracy(self, sigma=None, b=None):
        """b · L(b_q) + L(b_q)ᵀ J L(b_q)."""
        return self._scalar(self._free_energy(sigma, b)[1])

    def vfe(self, sigma=None, b=None):
        """Variational free energy complexity − accuracy (a float, or one per network)."""
        c, a = self._free_energy(sigma, b)
        return self._scalar(c - a)

    def _scalar(self, arr):
        return float(arr[0]) if self._single else arr

    # -- dynamics ------------------------------------------------------------------------
    def _update(self, S, bias, beta, stochastic, U, J=None, need_h=False):
        """New states from S (B, M, N) under biases (B, M, N) or (B, 1, N), β (B, 1, 1); U the
        uniforms (B, M, N) when stochastic. Returns (S', h) with h the recurrent input each
        unit saw (only when ``need_h``). Call inside ``np.errstate(**_QUIET)``."""
        J = self._J if J is None else J
        if self.update == "sync":
            h = np.matmul(S, J.transpose(0, 2, 1))
            z = bias + h
            z *= beta
            new = cb._inverse_cdf_raw(z, U) if stochastic else cb._langevin_raw(z)
            return new, h
        S = S.copy()
        h = np.empty_like(S) if need_h else None
        for k, i in enumerate(self.unit_order):
            hi = np.einsum("bmj,bj->bm", S, J[:, i, :])
            zi = beta[:, :, 0] * (bias[:, :, i] + hi)
            S[:, :, i] = cb._inverse_cdf_raw(zi, U[:, :, k]) if stochastic \
                else cb._langevin_raw(zi)
            if need_h:
                h[:, :, i] = hi
        return S, h

    def _learn(self, S, h, lr):
        """J += ΔJ = α (σ' − L(h)) σ'ᵀ off the diagonal (S, h, lr: (B, 1, N), (B, 1, N),
        (B, 1, 1)); returns ΔJ. Inside ``np.errstate(**_QUIET)``."""
        a = S - cb._langevin_raw(h)
        a *= lr
        dJ = a.transpose(0, 2, 1) * S
        dJ *= self._off
        self._J += dJ
        return dJ

    def step(self, beta=1.0, *, stochastic: bool = True, learning_rate=0.0, b=None):
        """One update of every network (and learning when ``learning_rate`` > 0); returns the
        new states. ``b``: new biases, kept for later steps too (default: the current ones)."""
        beta = _per_network(beta, self.batch, "beta", positive=True)
        lr = _per_network(learning_rate, self.batch, "learning_rate", nonnegative=True)
        if b is not None:
            self.b = b
        U = _uniforms(self._rngs, 1, (self.n,))[0][:, None, :] if stochastic else None
        learn = bool(np.any(lr > 0))
        with np.errstate(**_QUIET):
            S, h = self._update(self._s[:, None, :], self._b[:, None, :], beta[:, None, None],
                                stochastic, U, need_h=learn)
            if learn:
                self._learn(S, h, lr[:, None, None])
        self._s = S[:, 0, :]
        return self.sigma

    def relax(self, x0=None, *, b=None, beta=1.0, stochastic: bool = False,
              max_steps: int = 1000, tol: float = 1e-6) -> RelaxResult:
        """Run updates without learning from the starts ``x0`` until the VFE changes by less
        than ``tol`` between steps (each start on its own), at most ``max_steps``.

        ``x0``: one state (N,), a batch of starts (M, N) (for a batch of networks: shared, or
        (B, M, N)); default the current states. ``b``: biases (default: the current ones).
        The network itself is left unchanged (its generator advances when stochastic).
        Returns a :class:`RelaxResult` shaped like ``x0``.
        """
        beta = _per_network(beta, self.batch, "beta", positive=True)
        max_steps = check_count(max_steps, "max_steps", minimum=1)
        tol = check_positive(tol, "tol")
        B, n = self.batch, self.n
        one_start = x0 is None or np.ndim(x0) == 1
        if x0 is None:
            X = self._s[:, None, :].copy()
        else:
            X = _finite_array(x0, "x0")
            shape = X.shape
            if X.ndim == 1 and X.shape[0] == n:
                X = np.broadcast_to(X, (B, 1, n)).copy()
            elif X.ndim == 2 and X.shape[1] == n:
                X = np.broadcast_to(X, (B,) + X.shape).copy()
            elif X.ndim == 3 and X.shape[0] == B and X.shape[2] == n and B > 1:
                X = X.copy()
            else:
                raise InputError(f"x0 must be a length-{n} state, an (M, {n}) batch of starts"
                                 + (f" or a ({B}, M, {n}) array" if B > 1 else "")
                                 + f", got shape {shape}")
            if np.any(np.abs(X) > 1.0):
                raise InputError("x0 must lie in [-1, 1]")
        bias = self._b if b is None else _rows(b, B, n, "b")
        M = X.shape[1]
        bias3 = bias[:, None, :]
        c, a = self._terms(X, bias)
        prev = c - a
        active = np.ones((B, M), dtype=bool)
        steps = np.full((B, M), max_steps, dtype=np.int64)
        beta3 = beta[:, None, None]
        for t in range(max_steps):
            U = _uniforms(self._rngs, 1, (M, n))[0] if stochastic else None
            with np.errstate(**_QUIET):
                new, _ = self._update(X, bias3, beta3, stochastic, U)
            X = np.where(active[:, :, None], new, X)
            c, a = self._terms(X, bias)
            cur = c - a
            done = active & (np.abs(cur - prev) < tol)
            steps[done] = t + 1
            active &= ~done
            prev = np.where(active | done, cur, prev)
            if not active.any():
                break
        converged = ~active
        params = {"beta": beta.tolist() if B > 1 else float(beta[0]), "tol": tol,
                  "max_steps": max_steps, "stochastic": bool(stochastic),
                  "update": self.update}
        out = (X, steps, converged, prev)
        if one_start:
            out = tuple(o[:, 0] for o in out)
        if self._single:
            out = tuple(o[0] for o in out)
        return RelaxResult(*out, params=params)

    def train(self, data, *, presentations: Optional[int] = None, steps: int = 10,
              learning_rate=0.01, beta=0.1, evidence=1.0, order="random",
              stochastic: bool = True, record: bool = False, record_states: bool = False,
              progress: Optional[bool] = False) -> TrainResult:
        """Continuous inference and learning over the patterns ``data`` (P, N).

        Each of the ``presentations`` shows one pattern x (``order``: "random", "sequential"
        or an explicit index array of shape (T,) or (B, T)) as biases ``evidence · x`` for
        ``steps`` updates with learning at rate ``learning_rate`` and inverse temperature
        ``beta`` (each a scalar or one per network). ``stochastic`` False uses the
        deterministic (least-action) update. ``record``: per-step VFE, accuracy, complexity
        and Σ (ΔJ)² after each update (at the presentation's biases, as the reference records
        them); ``record_states``: the states. Afterwards the biases are 0.
        """
        t0 = time.perf_counter()
        X = _finite_array(data, "data")
        if X.ndim == 1:
            X = X[None, :]
        if X.ndim != 2 or X.shape[1] != self.n or X.shape[0] < 1:
            raise InputError(f"data must be a (P, {self.n}) array of patterns, got shape "
                             f"{np.shape(data)}")
        P = X.shape[0]
        B, n = self.batch, self.n
        steps = check_count(steps, "steps", minimum=1)
        lr = _per_network(learning_rate, B, "learning_rate", nonnegative=True)
        beta = _per_network(beta, B, "beta", positive=True)
        lam = _per_network(evidence, B, "evidence")
        if isinstance(order, str):
            if order not in ("random", "sequential"):
                raise InputError(f"order must be 'random', 'sequential' or an index array, "
                                 f"got {order!r}")
            if presentations is None:
                raise InputError("presentations must be given with order 'random' or "
                                 "'sequential'")
            T = check_count(presentations, "presentations", minimum=1, maximum=MAX_STEPS)
            if order == "random":
                idx = np.stack([r.integers(0, P, size=T) for r in self._rngs])
            else:
                idx = np.broadcast_to(np.arange(T) % P, (B, T)).copy()
        else:
            try:
                idx = np.asarray(order)
            except (TypeError, ValueError):
                raise InputError("order must be 'random', 'sequential' or an index array") \
                    from None
            if idx.dtype.kind not in "iu" or idx.ndim not in (1, 2) or idx.size == 0:
                raise InputError("an explicit order must be a non-empty integer array (T,) or "
                                 "(B, T)")
            idx = np.broadcast_to(idx, (B, idx.shape[-1])).copy() if idx.ndim == 1 else idx
            if idx.shape[0] != B:
                raise InputError(f"order has {idx.shape[0]} rows for {B} networks")
            if np.any(idx < 0) or np.any(idx >= P):
                raise InputError(f"order indices must lie in 0..{P - 1}")
            if presentations is not None and \
                    check_count(presentations, "presentations", minimum=1) != idx.shape[1]:
                raise InputError("presentations does not match the length of order")
            T = idx.shape[1]
        if T * steps > MAX_STEPS:
            raise InputError(f"presentations × steps must be ≤ {MAX_STEPS}")
        total = T * steps
        traces = None
        if record:
            traces = {k: np.empty((B, total)) for k in ("vfe", "accuracy", "complexity",
                                                        "weight_change")}
        states = np.empty((B, total, n)) if record_states else None
        beta3 = beta[:, None, None]
        learn = bool(np.any(lr > 0))
        U = None
        u_pos = u_len = 0
        bar = _progress_bar(T, progress, "fep train") if progress is not False else None
        t = 0
        S = self._s[:, None, :]  # (B, 1, N) throughout
        lr3 = lr[:, None, None]
        sync = self.update == "sync"
        Jt = self._J.transpose(0, 2, 1)  # a view: J is updated in place
        J = self._J
        diag = J.reshape(B, n * n)[:, ::n + 1]  # a view of the diagonals
        diag0 = diag.copy()
        inv_cdf, lang = cb._inverse_cdf_raw, cb._langevin_raw
        dJ = None
        fast = sync and B == 1 and not record and not record_states
        with np.errstate(**_QUIET):
            if fast:  # one network: the same loop on 1-D arrays (fewer, cheaper NumPy calls)
                S = self._train_one(X, idx[0], steps, float(lam[0]), float(beta[0]),
                                    float(lr[0]), stochastic, learn, bar)[None, None, :]
            for p in range(0 if fast else T):
                bias = lam[:, None] * X[idx[:, p]]  # (B, N)
                bias3 = bias[:, None, :]
                for _ in range(steps):
                    u = None
                    if stochastic:
                        if u_pos == u_len:
                            u_len = min(_CHUNK, total - t)
                            U = _uniforms(self._rngs, u_len, (1, n))
                            u_pos = 0
                        u = U[u_pos]
                        u_pos += 1
                    if sync:  # the hot path, inlined: h = J σ, σ' = CB/L(β(b + h)), ΔJ
                        h = np.matmul(S, Jt)
                        z = bias3 + h
                        z *= beta3
                        S = inv_cdf(z, u) if stochastic else lang(z)
                        if learn:
                            a = S - lang(h)
                            a *= lr3
                            dJ = a.transpose(0, 2, 1) * S
                            J += dJ
                            diag[...] = diag0  # self-couplings are not trained
                    else:
                        S, h = self._update(S, bias3, beta3, stochastic, u, need_h=learn)
                        if learn:
                            dJ = self._learn(S, h, lr3)
                    if record:
                        c, a_ = self._terms(S, bias)
                        traces["complexity"][:, t] = c[:, 0]
                        traces["accuracy"][:, t] = a_[:, 0]
                        traces["vfe"][:, t] = c[:, 0] - a_[:, 0]
                        if learn:  # Σ over i ≠ j of (ΔJ_ij)², as the reference
                            dd = dJ.reshape(B, n * n)[:, ::n + 1]
                            traces["weight_change"][:, t] = np.sum(dJ * dJ, axis=(1, 2)) - \
                                np.sum(dd * dd, axis=1)
                        else:
                            traces["weight_change"][:, t] = 0.0
                    if record_states:
                        states[:, t] = S[:, 0, :]
                    t += 1
                if bar is not None:
                    bar.update(1)
        if bar is not None:
            bar.close()
        S = S[:, 0, :]
        self._s = S
        self._b = np.zeros((B, n))
        params = {"presentations": T, "steps": steps, "stochastic": bool(stochastic),
                  "update": self.update, "patterns": P,
                  "order": order if isinstance(order, str) else "explicit",
                  "learning_rate": lr.tolist() if B > 1 else float(lr[0]),
                  "beta": beta.tolist() if B > 1 else float(beta[0]),
                  "evidence": lam.tolist() if B > 1 else float(lam[0])}
        res = TrainResult(order=self._out(idx), steps=steps, seconds=time.perf_counter() - t0,
                          params=params)
        if record:
            for k, v in traces.items():
                setattr(res, k, self._out(v))
        if record_states:
            res.states = self._out(states)
        return res

    def _train_one(self, X, idx, steps, lam, beta, lr, stochastic, learn, bar):
        """:meth:`train`'s loop for one synchronous network without traces, on 1-D arrays
        (same arithmetic, same random stream); returns the final state."""
        from scipy.linalg.blas import dger

        n = self.n
        J = self._J[0]
        Jt = J.T  # Fortran-ordered view: BLAS updates J itself
        diag = J.reshape(n * n)[::n + 1]  # a view of the diagonal
        diag0 = diag.copy()
        s = self._s[0]
        rng = self._rngs[0]
        inv_cdf, lang = cb._inverse_cdf_raw, cb._langevin_raw
        total = len(idx) * steps
        U, u_pos, t = None, 0, 0
        for p in idx:
            bias = lam * X[p]
            for _ in range(steps):
                h = J @ s
                z = bias + h
                z *= beta
                if stochastic:
                    if U is None or u_pos == len(U):
                        U = rng.random((min(_CHUNK, total - t), n))
                        u_pos = 0
                    s = inv_cdf(z, U[u_pos])
                    u_pos += 1
                else:
                    s = lang(z)
                if learn:  # J += α (σ' − L(h)) σ'ᵀ: one BLAS rank-1 update in place
                    r = dger(lr, s, s - lang(h), a=Jt, overwrite_a=1)
                    if r is not Jt and not np.shares_memory(r, Jt):  # f2py made a copy
                        Jt[...] = r
                    diag[...] = diag0  # self-couplings are not trained
                t += 1
            if bar is not None:
                bar.update(1)
        return s

    # -- the attractor engine ------------------------------------------------------------
    def as_system(self, beta=1.0, *, b=0.0, k: Optional[int] = None):
        """The deterministic update as a system of :mod:`fplandscape.attractors`:
        ``RateMap(J, b, phi="langevin", gain=β)``, i.e. x ← L(β (J x + b)) (sync); for
        ``update="async"`` a :class:`~fplandscape.attractors.System` doing one sweep (same
        fixed points). ``b`` defaults to 0 (the free network after training); ``k`` picks a
        member of a batch."""
        from ...attractors import RateMap, System

        if self.batch > 1 and k is None:
            raise InputError("a batch of networks: choose one with k=")
        k = 0 if k is None else check_count(k, "k", maximum=self.batch - 1)
        beta = check_positive(beta, "beta")
        bias = _rows(b, 1, self.n, "b")[0]
        if self.update == "sync":
            return RateMap(self._J[k], bias, phi="langevin", gain=beta)
        J = self._J[k][None]
        me = self

        def sweep(X):
            X = np.asarray(X, dtype=np.float64)
            with np.errstate(**_QUIET):
                out, _ = me._update(X[None], bias[None, None, :], np.array([[[beta]]]), False,
                                    None, J=J)
            return out[0]

        return System(step=sweep, dim=self.n, vectorized=True,
                      box=(-np.ones(self.n), np.ones(self.n)), name="FEPNetwork(async)")

    def __repr__(self) -> str:
        head = f"{self.batch} × " if not self._single else ""
        return f"FEPNetwork({head}N={self.n}, update={self.update!r})"
