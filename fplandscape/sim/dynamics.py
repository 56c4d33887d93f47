"""Dynamics and simulated annealing on one network (compiled kernels :mod:`fplandscape.sim._dynamics`).

Conventions are those of :mod:`fplandscape.model`: ``h_i = Σ_j J_ij s_j`` (diagonal included),
update ``s_i ← sign(h_i)`` with ``sign(0) = +1`` (:func:`fplandscape.model.sign_update`),
stability ``Δ_i = s_i h_i``, fixed point iff ``Δ_i > 0`` for every i (strict). States are int8
±1 rows. Bad input raises :class:`fplandscape.errors.InputError`.

docs/model.md#dynamics: a run has *converged* when a full sweep changes nothing; it also reports
whether the final state is a strict fixed point. The two differ only on ties: a neuron with
``h_i = 0`` and ``s_i = +1`` is left alone by the dynamics (sign(0) = +1) but is not stable, so
such a run has ``converged = True`` and ``reached = False``. Every sign decision (the
updates, both flags, the annealer's energy) is that of the exact field of the stored numbers,
as in :mod:`fplandscape.model` (float sign outside a rigorous rounding band, which covers the
drift of the incrementally updated fields, an exact sum inside it; the bound is written out in
:mod:`fplandscape.sim._dynamics`). Reported stabilities are the float64 fields summed from
scratch in index order j = 0..N−1 (the order of :mod:`fplandscape.sim.stability`).

Seeds. Run ``r`` (counted from ``first_run``) uses its own stream,
``np.random.default_rng(SeedSequence(seed).spawn(first_run + runs)[first_run + r])``
(= ``SeedSequence(seed, spawn_key=(first_run + r,))``): it draws the run's random initial state
(when ``initial`` is None) and then its update orders / proposals. A run's result therefore
depends only on ``(seed, run index)``, not on how many runs are made per call or how calls are
split over workers: ``runs=5, first_run=5`` gives exactly runs 5..9 of ``runs=10``.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Optional

import numpy as np

from .. import model
from .._version import __version__
from ..errors import InputError, check_count, check_choice
from . import _dynamics

__all__ = ["DynamicsResult", "AnnealResult", "run_dynamics", "anneal", "run_seeds",
           "beta_schedule", "RULES", "ORDERS", "SCHEDULES"]

RULES = ("async", "sync")
ORDERS = ("random", "fixed")
SCHEDULES = ("linear", "geometric")

_CHUNK = 4096        # runs per kernel call (bounds the number of live bit generators)
_SYNC_BLOCK = 16     # runs advanced in lock step by the synchronous kernel (speed only)


# --------------------------------------------------------------------------------------------
# results


class _Runs:
    """What the per-run results share: the number of runs, packed final states, metadata."""

    @property
    def runs(self) -> int:
        return int(self.states.shape[0])

    def codes(self) -> np.ndarray:
        """Final states as packed uint64 codes (N ≤ 64; bit i set iff s_i = +1)."""
        return model.pack_states(self.states) if self.runs else np.zeros(0, dtype=np.uint64)

    def _meta(self) -> dict:
        return {"version": self.version, "seed": model.seed_repr(self.seed), "n": self.n,
                **self.params}


@dataclass(frozen=True)
class DynamicsResult(_Runs):
    """Result of :func:`run_dynamics`; arrays have one entry (row) per run.

    ``converged`` (bool): the last sweep changed nothing (exact fields: ``s_i = sign(h_i)`` for
    every i). ``sweeps`` (int64): sweeps done, the final unchanged one included (synchronous:
    steps ``s ← sign(J s)``), so a run started at a fixed point has ``sweeps = 1, flips = 0``.
    ``flips`` (int64): spin changes. ``reached`` (bool): the final state is a strict fixed point,
    ``Δ_i > 0`` for all i (the one name of this flag in dynamics, annealing and focusing BP). ``cycle2`` (bool): synchronous rule only, the run stopped because the new
    state equals the state two steps back (a 2-cycle; always False for ``async``). ``states``
    (int8, runs × N): final states. ``stability`` (float64, runs × N) the profile ``Δ_i = s_i h_i``
    of the final state, or None when not requested; ``margin`` = min_i Δ_i and
    ``mean_stability`` = mean_i Δ_i are always given. ``n``, ``rule``, ``order``, ``seed``,
    ``first_run``, ``version``, ``params`` (the call's parameters), ``seconds`` (wall time).
    """

    n: int
    rule: str
    order: str
    converged: np.ndarray
    sweeps: np.ndarray
    flips: np.ndarray
    reached: np.ndarray
    cycle2: np.ndarray
    states: np.ndarray
    stability: Optional[np.ndarray]
    margin: np.ndarray
    mean_stability: np.ndarray
    seed: object
    first_run: int
    version: str
    params: dict = field(default_factory=dict)
    seconds: float = 0.0

    def as_rows(self) -> list:
        """One dict per run (run index, flags, counts, margin, mean stability) plus metadata."""
        meta = self._meta()
        return [{**meta, "run": self.first_run + r, "converged": bool(self.converged[r]),
                 "reached": bool(self.reached[r]), "cycle2": bool(self.cycle2[r]),
                 "sweeps": int(self.sweeps[r]), "flips": int(self.flips[r]),
                 "margin": float(self.margin[r]), "mean_stability": float(self.mean_stability[r])}
                for r in range(self.runs)]


@dataclass(frozen=True)
class AnnealResult(_Runs):
    """Result of :func:`anneal`; arrays have one entry (row) per run.

    ``reached`` (bool): the final state has E = 0, i.e. is a strict fixed point (checked on
    exact fields). ``sweeps`` (int64): sweeps done (N proposals each; the sweep in which E hit 0
    counts; 0 when the start already had E = 0). ``flips`` (int64): accepted flips. ``energy``
    (int64): final E = #{i : Δ_i ≤ 0} from exact fields. ``states`` (int8, runs × N),
    ``stability`` (runs × N or None), ``margin``, ``mean_stability`` as in
    :class:`DynamicsResult`. ``betas``: the schedule used (β of sweep t). ``n``, ``seed``,
    ``first_run``, ``version``, ``params``, ``seconds``.
    """

    n: int
    reached: np.ndarray
    sweeps: np.ndarray
    flips: np.ndarray
    energy: np.ndarray
    states: np.ndarray
    stability: Optional[np.ndarray]
    margin: np.ndarray
    mean_stability: np.ndarray
    betas: np.ndarray
    seed: object
    first_run: int
    version: str
    params: dict = field(default_factory=dict)
    seconds: float = 0.0

    def as_rows(self) -> list:
        """One dict per run plus metadata."""
        meta = self._meta()
        return [{**meta, "run": self.first_run + r, "reached": bool(self.reached[r]),
                 "energy": int(self.energy[r]), "sweeps": int(self.sweeps[r]),
                 "flips": int(self.flips[r]), "margin": float(self.margin[r]),
                 "mean_stability": float(self.mean_stability[r])}
                for r in range(self.runs)]


# --------------------------------------------------------------------------------------------
# validation and seeds




def _count(value, name: str, *, allow_none: bool = False):
    return None if (value is None and allow_none) else check_count(value, name)


def run_seeds(seed, runs: int, first_run: int = 0) -> list:
    """The per-run SeedSequences of runs ``first_run .. first_run + runs − 1``:
    ``SeedSequence(seed).spawn(first_run + runs)[first_run:]`` without spawning the others."""
    seed = model.check_seed(seed)
    runs = _count(runs, "runs")
    first_run = _count(first_run, "first_run")
    base = seed if isinstance(seed, np.random.SeedSequence) else np.random.SeedSequence(seed)
    return [np.random.SeedSequence(base.entropy, spawn_key=tuple(base.spawn_key) + (first_run + r,),
                                   pool_size=base.pool_size)
            for r in range(runs)]


def _prepare(J, jd, initial, runs):
    """Validated (J, JT, initial-or-None, runs)."""
    J = model.as_couplings(J)
    if jd is not None:
        J = model.with_self_coupling(J, jd)
    n = J.shape[0]
    runs = _count(runs, "runs", allow_none=True)
    if initial is not None:
        arr = np.asarray(initial)
        if arr.ndim not in (1, 2):
            raise InputError(f"initial must be a ±1 vector of length N = {n} or a (runs, N) "
                             f"array of ±1 states, got an array of shape {arr.shape}")
        if arr.dtype.kind not in "biuf":
            raise InputError(f"initial must contain only +1 and -1, got dtype {arr.dtype}")
        init = model.as_states(arr, n, name="initial")
        if init.ndim == 1:
            init = np.broadcast_to(init, (1 if runs is None else runs, n))
        elif runs is not None and runs != init.shape[0]:
            raise InputError(f"initial has {init.shape[0]} states but runs = {runs}; "
                             "give one row per run (or omit runs)")
        init = np.array(init, dtype=np.int8, order="C")
        runs = init.shape[0]
    else:
        init = None
        runs = 1 if runs is None else runs
    JT = np.ascontiguousarray(J.T)
    return J, JT, init, runs


def _chunk_states(n, init, seeds, lo, hi):
    """Initial states of runs lo..hi-1 and their bit generators (the initial state, when drawn,
    is the first thing taken from the run's stream; the kernel continues the same stream)."""
    gens = [np.random.Generator(np.random.PCG64(ss)) for ss in seeds[lo:hi]]
    if init is not None:
        S = np.array(init[lo:hi], dtype=np.int8, order="C")
    else:
        S = np.empty((hi - lo, n), dtype=np.int8)
        for k, g in enumerate(gens):
            S[k] = 2 * g.integers(0, 2, size=n, dtype=np.int8) - 1
    return S, [g.bit_generator for g in gens]


def _chunks(init, seeds, states, stab):
    """The runs in chunks of ``_CHUNK``: yields (slice, S, bit generators, stability rows or
    None); the kernel evolves S in place, and S is stored in ``states`` after each chunk."""
    runs, n = states.shape
    for lo in range(0, runs, _CHUNK):
        hi = min(runs, lo + _CHUNK)
        S, gens = _chunk_states(n, init, seeds, lo, hi)
        yield slice(lo, hi), S, gens, (stab[lo:hi] if stab is not None else None)
        states[lo:hi] = S


def _jd_param(jd):
    """How the ``jd`` argument is recorded in ``params``."""
    return None if jd is None else (float(jd) if np.ndim(jd) == 0 else "vector")


# --------------------------------------------------------------------------------------------
# dynamics


def run_dynamics(J, initial=None, *, rule: str = "async", runs: Optional[int] = None,
                 max_sweeps: int = 1000, order: str = "random", seed=0, jd=None,
                 first_run: int = 0, return_stability: bool = True) -> DynamicsResult:
    """Run the zero-temperature dynamics ``s_i ← sign(h_i)`` (sign(0) = +1) from many starts.

    Parameters
    ----------
    J : N×N real matrix (diagonal = self-couplings); ``jd`` optionally replaces the diagonal
        (a scalar or a length-N vector, :func:`fplandscape.model.with_self_coupling`).
    initial : None (each run starts from a uniform random state drawn from its own stream), a
        ±1 vector of length N (every run starts there; runs default 1) or a (runs, N) array of
        ±1 states (one per run; ``runs`` may be omitted).
    rule : ``"async"``: a sweep visits every neuron once, in a fresh uniformly random order per
        sweep (``order="random"``) or in index order 0..N−1 (``order="fixed"``), each visit
        applying the update with the current fields; a flip of j updates all fields by
        ``2 s_j' J[:, j]`` (O(N)), a visit without flip costs O(1); the fields are recomputed
        from scratch every 4N flips against rounding drift. ``"sync"``: every step sets
        ``s ← sign(J s)``; fields from scratch at the first step, then updated by the columns
        of the flipped spins when at most N/4 flipped (O(N·flips) instead of O(N²); summed from
        scratch again every 4N such updates, the same exact decisions); a run stops at a fixed
        point of the update or when a 2-cycle is detected (the new state equals the state two
        steps back).
    runs : number of runs (≥ 0); default 1, or the number of rows of ``initial``.
    max_sweeps : at most this many sweeps (synchronous: steps) per run (≥ 0).
    seed, first_run : run r uses the stream of run index ``first_run + r`` (module docstring).
    return_stability : also return the runs × N stability profiles (``margin`` and
        ``mean_stability`` are always returned).

    A sweep without flips is confirmed on fields summed from scratch, with exact signs (the
    sweep's own decisions are exact too, so the two agree). Flags: see
    :class:`DynamicsResult` and the module docstring (converged vs strict fixed point on ties).
    Runs execute in compiled code without the GIL; Ctrl-C raises KeyboardInterrupt.
    """
    check_choice(rule, "rule", RULES)
    check_choice(order, "order", ORDERS)
    max_sweeps = _count(max_sweeps, "max_sweeps")
    first_run = _count(first_run, "first_run")
    seed = model.check_seed(seed)
    t0 = time.perf_counter()
    J, JT, init, runs = _prepare(J, jd, initial, runs)
    n = J.shape[0]
    seeds = run_seeds(seed, runs, first_run)

    states = np.empty((runs, n), dtype=np.int8)
    sweeps = np.zeros(runs, dtype=np.int64)
    flips = np.zeros(runs, dtype=np.int64)
    conv = np.zeros(runs, dtype=np.uint8)
    cyc = np.zeros(runs, dtype=np.uint8)
    fp = np.zeros(runs, dtype=np.uint8)
    margin = np.zeros(runs)
    mean = np.zeros(runs)
    stab = np.zeros((runs, n)) if return_stability else None
    for c, S, gens, d in _chunks(init, seeds, states, stab):
        if rule == "async":
            _dynamics.async_runs(JT, S, gens, max_sweeps, order == "random", sweeps[c],
                                 flips[c], conv[c], fp[c], margin[c], mean[c], d)
        else:
            _dynamics.sync_runs(JT, S, max_sweeps, _SYNC_BLOCK, sweeps[c], flips[c], conv[c],
                                cyc[c], fp[c], margin[c], mean[c], d)
    seconds = time.perf_counter() - t0
    params = {"rule": rule, "order": order if rule == "async" else "-", "runs": runs,
              "max_sweeps": max_sweeps, "first_run": first_run,
              "initial": "random" if init is None else "given",
              "jd": _jd_param(jd)}
    return DynamicsResult(n=n, rule=rule, order=order if rule == "async" else "-",
                          converged=conv.astype(bool), sweeps=sweeps, flips=flips,
                          reached=fp.astype(bool), cycle2=cyc.astype(bool), states=states,
                          stability=stab, margin=margin, mean_stability=mean, seed=seed,
                          first_run=first_run, version=__version__, params=params,
                          seconds=seconds)


# --------------------------------------------------------------------------------------------
# simulated annealing


def beta_schedule(max_sweeps: int, beta0: float = 0.5, beta1: float = 5.0,
                  schedule: str = "linear") -> np.ndarray:
    """Inverse temperature of each sweep t = 0..T−1 (T = ``max_sweeps``).

    ``"linear"``: ``β_t = β0 + (β1 − β0)·t/(T − 1)``; ``"geometric"``:
    ``β_t = β0·(β1/β0)^(t/(T − 1))`` (needs β0, β1 > 0). T = 1 gives ``[β0]``. β ≥ 0, finite.
    """
    max_sweeps = _count(max_sweeps, "max_sweeps")
    if schedule not in SCHEDULES:
        raise InputError(f"schedule must be one of {', '.join(SCHEDULES)} or an array of betas, "
                         f"got {schedule!r}")
    for name, b in (("beta0", beta0), ("beta1", beta1)):
        if isinstance(b, bool) or not isinstance(b, (int, float, np.integer, np.floating)) \
                or not np.isfinite(b) or b < 0:
            raise InputError(f"{name} must be a finite number ≥ 0, got {b!r}")
    if schedule == "geometric" and (beta0 <= 0 or beta1 <= 0):
        raise InputError("a geometric schedule needs beta0 > 0 and beta1 > 0")
    if max_sweeps == 0:
        return np.zeros(0)
    x = np.arange(max_sweeps) / max(1, max_sweeps - 1)
    if schedule == "linear":
        return beta0 + (beta1 - beta0) * x
    return beta0 * (beta1 / beta0) ** x


def anneal(J, initial=None, *, runs: Optional[int] = None, max_sweeps: int = 1000,
           beta0: float = 0.5, beta1: float = 5.0, schedule="linear", seed=0, jd=None,
           first_run: int = 0, return_stability: bool = True) -> AnnealResult:
    """Simulated annealing towards a fixed point: minimise ``E(s) = #{i : s_i h_i ≤ 0}``.

    Each sweep makes N single-flip proposals (neuron j uniform at random) at the sweep's
    inverse temperature β_t, accepted with the Metropolis probability ``min(1, e^{−β ΔE})``.
    ΔE is computed in O(N) from the current fields and column j of J (a flip of j changes every
    ``h_i`` by ``2 J_ij s_j'``, and flips neuron j's own sign); an accepted flip updates the
    fields in O(N), and they are recomputed from scratch every 4N accepted flips. A run stops as
    soon as E = 0 on exact fields (a strict fixed point), or after the last sweep.

    ``schedule``: ``"linear"`` or ``"geometric"`` from ``beta0`` (first sweep) to ``beta1``
    (sweep ``max_sweeps − 1``), see :func:`beta_schedule`; or an explicit 1-D array of β ≥ 0,
    one per sweep (then ``max_sweeps`` is its length). ``initial``, ``runs``, ``seed``,
    ``first_run``, ``jd``, ``return_stability`` as in :func:`run_dynamics` (a run's stream
    draws its initial state, then its proposals and acceptance tests).
    """
    first_run = _count(first_run, "first_run")
    seed = model.check_seed(seed)
    if isinstance(schedule, str):
        betas = beta_schedule(max_sweeps, beta0, beta1, schedule)
        sched_name = schedule
    else:
        betas = np.asarray(schedule)
        if betas.ndim != 1 or betas.dtype.kind not in "iuf":
            raise InputError("schedule must be 'linear', 'geometric' or a 1-D array of betas")
        betas = betas.astype(np.float64)
        if not np.all(np.isfinite(betas)) or np.any(betas < 0):
            raise InputError("schedule betas must be finite and ≥ 0")
        sched_name = "array"
    betas = np.ascontiguousarray(betas, dtype=np.float64)
    t0 = time.perf_counter()
    J, JT, init, runs = _prepare(J, jd, initial, runs)
    n = J.shape[0]
    seeds = run_seeds(seed, runs, first_run)

    states = np.empty((runs, n), dtype=np.int8)
    sweeps = np.zeros(runs, dtype=np.int64)
    flips = np.zeros(runs, dtype=np.int64)
    energy = np.zeros(runs, dtype=np.int64)
    reached = np.zeros(runs, dtype=np.uint8)
    margin = np.zeros(runs)
    mean = np.zeros(runs)
    stab = np.zeros((runs, n)) if return_stability else None
    for c, S, gens, d in _chunks(init, seeds, states, stab):
        _dynamics.anneal_runs(JT, S, gens, betas, sweeps[c], flips[c], energy[c], reached[c],
                              margin[c], mean[c], d)
    seconds = time.perf_counter() - t0
    params = {"runs": runs, "max_sweeps": int(betas.size), "schedule": sched_name,
              "beta0": float(betas[0]) if betas.size else float(beta0),
              "beta1": float(betas[-1]) if betas.size else float(beta1), "first_run": first_run,
              "initial": "random" if init is None else "given",
              "jd": _jd_param(jd)}
    return AnnealResult(n=n, reached=reached.astype(bool), sweeps=sweeps, flips=flips,
                        energy=energy, states=states, stability=stab, margin=margin,
                        mean_stability=mean, betas=betas, seed=seed, first_run=first_run,
                        version=__version__, params=params, seconds=seconds)
