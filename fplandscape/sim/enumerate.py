"""Exact enumeration of all fixed points of one network (compiled pruned depth-first search).

Conventions are those of :mod:`fplandscape.model`: ``h_i = Σ_j J_ij s_j`` (diagonal included),
``s`` is a fixed point iff ``s_i h_i > 0`` for every i (strict), packed state bit ``i`` set iff
``s_i = +1``. Bad input raises :class:`fplandscape.errors.InputError`.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Optional

import numpy as np

from .. import model, parallel
from .._version import __version__
from ..errors import InputError, check_count, check_choice
from . import _dfs, stop
from . import stability as _stab

__all__ = ["EnumerationResult", "enumerate_fixed_points", "default_order", "default_split_depth",
           "sample_keys", "METHODS", "TooManyStates"]

METHODS = ("auto", "dfs", "bruteforce")


@dataclass(frozen=True)
class EnumerationResult:
    """Result of :func:`enumerate_fixed_points`.

    ``n`` neurons; ``count`` the exact number of fixed points (a Python int); ``states`` the
    packed codes (uint64, sorted ascending) or ``None`` when not requested; ``truncated`` True
    when there were more than ``max_states`` fixed points and ``states`` is the seeded bottom-k
    sample of size ``max_states`` (:func:`sample_keys`; ``count`` stays exact); ``method`` the method that
    ran (``"dfs"`` or ``"bruteforce"``); ``seconds`` wall-clock time; ``nodes_visited`` search
    nodes (spin assignments tried by the DFS, pruned ones included; 2^N for the brute force);
    ``version`` of fplandscape; ``seed`` of the sample; ``tasks`` the number of prefix tasks
    the search was split into (1 = one serial search); ``params`` the inputs that determine the
    result (N, method, spin order, split depth, max_states, seed, SHA-256 of J); ``local`` the
    streamed local summary (``local_radius``), else None.
    """

    n: int
    count: int
    states: Optional[np.ndarray]
    truncated: bool
    method: str
    seconds: float
    nodes_visited: int
    version: str
    seed: int
    tasks: int = 1
    params: Optional[dict] = None
    local: Optional[dict] = None

    def as_rows(self) -> list:
        """One row (this network): count, method, truncation, search nodes, tasks, time,
        version and seed, plus the streamed local summary's scalars and its mean number of
        fixed points at each distance r (``mean_neighbors_r<r>``); states and histograms left
        out."""
        row = {"version": self.version, "seed": self.seed, "n": self.n, "count": self.count,
               "truncated": self.truncated, "method": self.method,
               "nodes_visited": self.nodes_visited, "tasks": self.tasks,
               "seconds": self.seconds}
        local = self.local or {}
        for k, v in local.items():
            if np.ndim(v) == 0:
                row[f"local_{k}"] = v
        for r, v in enumerate(local.get("mean_neighbors") or (), start=1):
            row[f"mean_neighbors_r{r}"] = v
        return [row]


def sample_keys(codes, seed: int = 0) -> np.ndarray:
    """Sample keys of packed codes: when there are more than ``max_states`` fixed points the
    ones kept are the ``max_states`` with the smallest key (a bottom-k sample). The key is the
    splitmix64 finaliser of ``code XOR salt(seed)``, a bijection of 64-bit words, so the sample
    is a deterministic function of the fixed-point set and the seed (not of the method, the
    spin order, the split into tasks or the number of workers), and over seeds each fixed point
    is kept with probability ≈ max_states / count (tested)."""
    return _dfs.sample_keys(np.ascontiguousarray(codes, dtype=np.uint64), seed)


def _bottom_k(codes: np.ndarray, k: int, seed: int) -> np.ndarray:
    """The k codes of smallest :func:`sample_keys` (all of them if there are at most k)."""
    if codes.size <= k:
        return codes
    if k == 0:
        return codes[:0]
    keys = sample_keys(codes, seed)
    return codes[np.argpartition(keys, k - 1)[:k]]


class _Sample:
    """The bottom-k sample (k smallest :func:`sample_keys`) of codes arriving task by task, in
    bounded memory: at most 2k codes plus one task's are held, and once k are held a new
    code is kept only if its key is below the largest kept key (:meth:`filter`: no other code
    can be in the final sample, since the k kept ones precede it)."""

    def __init__(self, k: int, seed: int):
        self.k, self.seed = int(k), int(seed)
        self.parts: list = []
        self.size = 0
        self.tau = None  # largest key of the k kept codes, once there are k

    def filter(self, codes):
        if codes is None or codes.size == 0:
            return codes
        if self.k == 0:
            return codes[:0]
        if self.tau is None:
            return codes
        return codes[sample_keys(codes, self.seed) < self.tau]

    def add(self, codes):
        codes = self.filter(codes)
        if codes is None or codes.size == 0:
            return
        self.parts.append(codes)
        self.size += codes.size
        if self.size > 2 * self.k:  # amortised O(1) per code
            self._compact()

    def _compact(self):
        codes = np.concatenate(self.parts)
        self.parts = []
        if codes.size > self.k:
            keys = sample_keys(codes, self.seed)
            idx = np.argpartition(keys, self.k - 1)[:self.k]
            self.tau = keys[idx].max()
            del keys
            codes = codes[idx]
            del idx
        self.parts = [codes]
        self.size = codes.size

    def result(self) -> np.ndarray:
        codes = np.concatenate(self.parts) if self.parts else np.empty(0, dtype=np.uint64)
        self.parts = []
        return np.sort(_bottom_k(codes, self.k, self.seed))


#: fixed points of one prefix task listed at once for the local statistics (``local_radius``):
#: about 48 bytes each with their local arrays, so a task stays under about 400 MB
LOCAL_TASK_MAX = 1 << 23

#: the brute force lists every fixed point at once: with ``return_states`` or ``local_radius``
#: it refuses sets larger than this (and than ``max_states``) after counting them first
BRUTEFORCE_LIST_MAX = 1 << 22


class TooManyStates(InputError):
    """More fixed points than ``max_states`` where the complete list is needed
    (``all_states=True``): ``count`` found so far, ``tasks_done`` / ``tasks`` (None for a single
    search)."""

    def __init__(self, count: int, max_states: int, progress=None):
        self.count, self.max_states = int(count), int(max_states)
        self.tasks_done, self.tasks = progress if progress else (None, None)
        where = f" after {progress[0]} of {progress[1]} tasks" if progress else ""
        super().__init__(
            f"more than max_states = {max_states} fixed points (at least {count} found{where}) "
            "where the complete list is needed; raise max_states (memory about 16 bytes per "
            "fixed point and running task; a pair histogram takes time ∝ count²)")


def default_split_depth(n: int) -> int:
    """Prefix depth d of the parallel search (2^(d−1) independent tasks): 1 (one serial search)
    for N ≤ 30, where the whole search takes about a second or less, else
    ``min(max(N − 26, 5), 11)`` (16 tasks at N = 31, 512 at N = 36, 1024 from N = 37). It
    depends on N only, never on the number of workers."""
    return 1 if n <= 30 else min(max(n - 26, 5), 11)


def _prefix_task(J, order, return_states, max_states, seed, depth, prefix,
                 local_radius=None, local_threads=None):
    """One prefix task of the DFS (runs in a worker). With ``local_radius`` the task's fixed
    points are all listed, summarised by :func:`fplandscape.sim.local.summarize_local` and
    dropped (or cut to the bottom-k sample), so memory is bounded by the largest task."""
    t0 = time.perf_counter()
    listing = bool(return_states) or local_radius is not None
    # the local summary needs the task's whole list: it is listed with room for at most
    # LOCAL_TASK_MAX codes (the kernel keeps a bounded sample beyond), and refused if truncated
    count, codes, trunc, nodes, _profile = _dfs.dfs_enumerate(
        J, order, listing, max_states if local_radius is None else LOCAL_TASK_MAX, seed, depth,
        prefix)
    if local_radius is not None and trunc:
        raise InputError(
            f"local statistics list each task's fixed points in memory, and one task has "
            f"{int(count)} (more than {LOCAL_TASK_MAX}, about {LOCAL_TASK_MAX * 48 >> 20} MB); "
            "use a smaller matrix or leave out the local statistics")
    out = {"count": int(count), "nodes": int(nodes)}
    if local_radius is not None:
        from .local import local_stats, summarize_local

        out["local"] = summarize_local(local_stats(J, codes, radius=local_radius,
                                                   workers=local_threads))
        codes = _bottom_k(codes, max_states, seed) if return_states else None
    if return_states:
        out["states"] = codes
    out["seconds"] = time.perf_counter() - t0
    return out


def default_order(J) -> np.ndarray:
    """Default spin order of the DFS: greedy, fastest shrinking of the fixed neurons' bounds.

    A fixed neuron i can be cut once ``R_i = Σ_{j free} |J_ij|`` is small, so the next spin is the
    free neuron ``j`` maximising ``Σ_{i fixed} |J_ij|`` (the bound mass it removes), ties broken by
    the larger ``Σ_k |J_jk| + |J_kj|`` (off-diagonal) and then by the smaller index; the first spin
    is the one with the largest such sum. On Gaussian matrices (N = 28–32, J_D = 0, 0.5, 1,
    η = 0.5, dilution 0.3) this visits 2–2.5× fewer nodes than the index order and about as few
    as the variants tried (see benchmarks/enumerate.py). Returns an int64 permutation of 0..N-1.
    """
    J = model.as_couplings(J)
    A = np.abs(J)
    np.fill_diagonal(A, 0.0)
    n = A.shape[0]
    total = A.sum(axis=0) + A.sum(axis=1)
    order = np.empty(n, dtype=np.int64)
    free = np.ones(n, dtype=bool)
    score = np.zeros(n)
    for t in range(n):
        cand = np.flatnonzero(free)
        # lexicographic: max score, then max total, then min index
        j = int(cand[np.lexsort((cand, -total[cand], -score[cand]))[0]])
        order[t] = j
        free[j] = False
        score += A[j, :]
    return order


def _as_order(order, n: int) -> np.ndarray:
    arr = np.asarray(order)
    if arr.ndim != 1 or arr.shape[0] != n:
        raise InputError(f"order must be a permutation of 0..{n - 1} (length N = {n})")
    if arr.size and arr.dtype.kind not in "iu":
        if arr.dtype.kind == "f" and np.all(arr == np.round(arr)):
            arr = arr.astype(np.int64)
        else:
            raise InputError(f"order must contain integers, got dtype {arr.dtype}")
    arr = np.ascontiguousarray(arr, dtype=np.int64)
    if not np.array_equal(np.sort(arr), np.arange(n)):
        raise InputError(f"order must be a permutation of 0..{n - 1}")
    return arr


def enumerate_fixed_points(J, *, jd=None, method: str = "auto", order=None,
                           return_states: bool = False, max_states: int = 10**7,
                           seed: int = 0, workers: Optional[int] = None, scheduler=None,
                           split_depth: Optional[int] = None, checkpoint=None,
                           resume: bool = False, progress: Optional[bool] = False,
                           local_radius: Optional[int] = None,
                           all_states: bool = False) -> EnumerationResult:
    """Count (and optionally list) every fixed point of the network ``J``, exactly.

    Predicate (docs/model.md#fixed-points): ``s ∈ {±1}^N`` is a fixed point iff ``s_i h_i > 0`` for every i, with
    ``h_i = Σ_j J_ij s_j`` (diagonal = self-couplings included; a field of exactly 0 is *not*
    stable), decided exactly on the stored float64 numbers (:mod:`fplandscape.model`). The
    answer is identical to checking all 2^N states from scratch
    (:func:`fplandscape.sim.stability.count_fixed_points_bruteforce`), exact ties included.

    Parameters
    ----------
    J : N×N real matrix, N ≤ 64 (diagonal = self-couplings).
    jd : optional scalar or length-N vector replacing the diagonal
        (:func:`fplandscape.model.with_self_coupling`).
    method : ``"dfs"`` pruned depth-first search (compiled, GIL released), ``"bruteforce"``
        all 2^N states (N ≤ 30), ``"auto"`` (= ``"dfs"``).
    order : optional spin order of the DFS (a permutation of 0..N-1); default
        :func:`default_order`. The result does not depend on it, only the running time.
    return_states : also return the packed codes (uint64, bit i set iff s_i = +1, ascending).
    max_states : keep at most this many codes; when there are more fixed points the count stays
        exact, ``states`` holds the ``max_states`` fixed points of smallest
        :func:`sample_keys` (a seeded bottom-k sample), and ``truncated`` is True. Memory of a
        listing run: about 16 bytes × ``max_states`` for each running task plus 72 bytes ×
        ``max_states`` for the merged sample (tasks' codes are merged into it as they finish
        and then released; a checkpoint journals only the codes that can still be sampled).
    all_states : the complete list is needed (e.g. for a pair histogram): instead of sampling,
        raise :class:`~fplandscape.errors.InputError` as soon as more than ``max_states`` fixed
        points are found (after the first task that shows it; the other tasks are cancelled).
    seed : seed of the sample (same seed → same sample, whatever the method, order, split or
        number of workers).
    workers : local workers for the prefix tasks (default None: all usable cores); ``1`` runs
        every task in this thread. The search releases the GIL, so the local workers are threads
        of this process (:mod:`fplandscape.parallel`, backend ``"threads"``). Ignored when there
        is a single task.
    scheduler : Dask scheduler address or ``distributed.Client``: run the tasks there.
    split_depth : prefix depth d: the DFS tree is cut into the 2^(d−1) subtrees of the first d
        spins of ``order`` (the first one is +1 by the flip symmetry), independent tasks whose
        counts, node counts and code sets add up exactly to the serial search's. Default
        :func:`default_split_depth` (a function of N only).
    checkpoint : directory journalling finished tasks (:class:`fplandscape.parallel.Checkpoint`),
        or ``True`` for an automatic directory
        (:func:`fplandscape.parallel.default_checkpoint_dir`) that is removed after success;
        with ``resume=True`` the journalled tasks are not rerun and the result is exactly that
        of an uninterrupted run. Only used when there is more than one task.
    progress : progress bar with ETA on stderr (None: if stderr is a terminal).
    local_radius : 0, 1 or 2: also summarise, over *all* fixed points (streamed task by task,
        whatever ``max_states``), the margin κ(σ) = min_i σ_i h_i, the mean stability and the
        number of fixed points at Hamming distance 1..local_radius
        (:func:`fplandscape.sim.local.local_stats`, exact local flip checks) into
        ``result.local`` (histograms and means, :func:`fplandscape.sim.local.summarize_local`).
        Per-state arrays for the kept states: ``local_stats(J, result.states)``.

    DFS. Spins are fixed one at a time in ``order`` (the first one to +1 only: ``s → −s`` maps
    fixed points to fixed points for every J, so each accepted state is emitted with its flip).
    After each step the partial fields ``H_i`` over the fixed spins are known, and every fixed
    neuron i satisfies, whatever the free spins,
    ``s_i h_i ≤ s_i H_i + R_i`` with ``R_i = Σ_{j free} |J_ij|``. The branch is cut when
    ``s_i H_i + R_i < −tol_i`` for some fixed i, with ``tol_i = 4 (N+2) ε Σ_j |J_ij|``
    (ε = 2^-52), a rigorous bound on float64 rounding: a cut only discards states whose exact
    stability is < 0 for that i, so it never loses a state the exact check accepts. At a leaf a
    field with ``|H_i| ≤ tol_i`` gets the sign of the exact sum of its stored terms before the
    strict test. The error analysis is written out in :mod:`fplandscape.sim._dfs`.
    ``nodes_visited`` counts the spin assignments generated (cut ones included).

    Ctrl-C stops the search (within about 0.1 s) with :class:`fplandscape.errors.Interrupted`;
    finished tasks are in the checkpoint if one was given.

    Returns an :class:`EnumerationResult`.
    """
    check_choice(method, "method", METHODS)
    J = model.as_couplings(J, max_n=model.MAX_PACKED_N)
    if jd is not None:
        J = model.with_self_coupling(J, jd)
    n = J.shape[0]
    max_states = check_count(max_states, "max_states")
    seed = check_count(seed, "seed")
    if seed >= 2**64:
        raise InputError("seed must be below 2^64")
    if order is not None:
        order = _as_order(order, n)
    workers = parallel.check_workers(workers)
    scheduler = parallel.check_scheduler(scheduler)
    all_states = bool(all_states) and bool(return_states)
    if split_depth is not None:
        split_depth = check_count(split_depth, "split_depth")
        if not 1 <= split_depth <= min(n, 25):
            raise InputError(f"split_depth must be in 1..{min(n, 25)} for N = {n}, got {split_depth}")
    if local_radius is not None:
        from .local import _check_radius

        local_radius = _check_radius(local_radius)
    kw = dict(return_states=bool(return_states), max_states=max_states, seed=seed,
              local_radius=local_radius, all_states=all_states)
    if method == "bruteforce":
        return _enumerate_bruteforce(J, **kw)
    return _enumerate_dfs(J, order=order, split_depth=split_depth, workers=workers,
                          scheduler=scheduler, checkpoint=checkpoint, resume=resume,
                          progress=progress, **kw)


def _enumerate_bruteforce(J, *, return_states, max_states, seed, local_radius, all_states):
    """:func:`enumerate_fixed_points` with ``method="bruteforce"`` (checked inputs): every one
    of the 2^N states, :func:`fplandscape.sim.stability.count_fixed_points_bruteforce`."""
    n = J.shape[0]
    if n > _stab.BRUTEFORCE_MAX_N:
        raise InputError(
            f"method='bruteforce' needs N ≤ {_stab.BRUTEFORCE_MAX_N}, got N = {n}; "
            "use method='dfs'"
        )
    t0 = time.perf_counter()
    listing = bool(return_states) or local_radius is not None
    limit = BRUTEFORCE_LIST_MAX if local_radius is not None else \
        max(max_states, BRUTEFORCE_LIST_MAX)
    if listing and (1 << n) > limit:
        # the brute force lists every fixed point: count first, list only what fits
        count = _stab.count_fixed_points_bruteforce(J)
        if all_states and count > max_states:
            raise TooManyStates(count, max_states, None)
        if count > limit:
            raise InputError(
                f"method='bruteforce' lists all {count} fixed points in memory (more than "
                f"{limit}); use method='dfs', which samples and streams in bounded memory")
    count, codes = _stab.count_fixed_points_bruteforce(J, return_states=True) if listing \
        else (_stab.count_fixed_points_bruteforce(J), None)
    if all_states and count > max_states:
        raise TooManyStates(count, max_states, None)
    local = None
    if local_radius is not None:
        from .local import finish_local_summary, local_stats, summarize_local

        local = finish_local_summary(summarize_local(local_stats(J, codes,
                                                                 radius=local_radius)))
        if not return_states:
            codes = None
    truncated = False
    if codes is not None and codes.size > max_states:
        codes = np.sort(_bottom_k(codes, max_states, seed))
        truncated = True
    seconds = time.perf_counter() - t0
    params = {"n": n, "method": "bruteforce", "J_sha256": parallel.array_digest(J),
              "max_states": max_states if return_states else None, "seed": seed}
    return EnumerationResult(n=n, count=int(count), states=codes, truncated=truncated,
                             method="bruteforce", seconds=seconds, nodes_visited=2**n,
                             version=__version__, seed=seed, params=params, local=local)


def _enumerate_dfs(J, *, order, split_depth, workers, scheduler, checkpoint, resume, progress,
                   return_states, max_states, seed, local_radius, all_states):
    """:func:`enumerate_fixed_points` with ``method="dfs"`` (checked inputs): the prefix tasks
    of the pruned search, run as one study (:func:`fplandscape.parallel.run_study`)."""
    n = J.shape[0]
    t0 = time.perf_counter()
    if order is None:
        order = default_order(J)
    depth = default_split_depth(n) if split_depth is None else split_depth
    ntasks = 1 << (depth - 1)
    keep_states = bool(return_states)
    params = {"n": n, "method": "dfs", "J_sha256": parallel.array_digest(J),
              "order": order.tolist(), "split_depth": depth,
              "max_states": max_states if keep_states else None, "seed": seed,
              "local_radius": local_radius}
    local_threads = 1 if ntasks > 1 else None
    tasks = [(J, order, keep_states, max_states, seed, depth, p, local_radius, local_threads)
             for p in range(ntasks)]
    sample = _Sample(max_states, seed) if keep_states else None
    found = [0, 0]  # fixed points and tasks merged so far

    def reduce(i, r):  # before journalling: drop the codes that can no longer be sampled
        if r.get("states") is not None and sample.tau is not None:
            r = {**r, "states": sample.filter(r["states"])}
        return r

    def merge(i, r):
        found[0] += r["count"]
        found[1] += 1
        if all_states and found[0] > max_states:
            raise TooManyStates(found[0], max_states, (found[1], ntasks))
        if keep_states:
            sample.add(r.get("states"))
        return {k: v for k, v in r.items() if k != "states"}

    def finish(rows):  # the merged totals, before an automatic checkpoint is removed
        count = sum(r["count"] for r in rows)
        nodes = sum(r["nodes"] for r in rows)
        local = None
        if local_radius is not None:
            from .local import finish_local_summary, merge_local_summaries

            for r in rows:  # in task order: float sums independent of completion order
                local = merge_local_summaries(local, r["local"])
            local = finish_local_summary(local)
        codes = sample.result() if keep_states else None
        return count, nodes, local, codes

    # a refused run (TooManyStates) raises from here: run_tasks removed an automatic checkpoint
    count, nodes, local, codes = parallel.run_study(
        _prefix_task, tasks, kind="enumerate", params=params, checkpoint=checkpoint,
        resume=resume, workers=workers, scheduler=scheduler, progress=progress,
        desc=f"enumerate N={n}", stop=stop, on_result=merge,
        reduce=reduce if keep_states else None, finish=finish)
    truncated = keep_states and count > max_states
    seconds = time.perf_counter() - t0
    return EnumerationResult(n=n, count=int(count), states=codes, truncated=bool(truncated),
                             method="dfs", seconds=seconds, nodes_visited=int(nodes),
                             version=__version__, seed=seed, tasks=ntasks, params=params,
                             local=local)
