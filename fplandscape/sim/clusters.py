"""Hamming geometry of a set of fixed points: pair distances, overlaps, neighbours, clusters.

Conventions are those of :mod:`fplandscape.model`: a state of n ≤ 64 neurons is a packed ``uint64``
code, bit ``i`` set iff ``s_i = +1``. The Hamming distance of two states is
``d(x, y) = popcount(x XOR y)`` (number of neurons where they differ) and their overlap is
``q = (1/n) Σ_i s_i s'_i = 1 − 2 d / n``.

Every function takes ``codes``, a 1-D array of **distinct** codes (any order; integer arrays with
non-negative values are converted to uint64, e.g. ``enumerate_fixed_points(J,
return_states=True).states``), and ``n``, the number of neurons (1 ≤ n ≤ 64, no code may have a
bit ≥ n set). Bad input raises :class:`fplandscape.errors.InputError`. The heavy loops are the
compiled kernels of :mod:`fplandscape.sim._clusters` (popcount on packed states, AVX-512 when the
CPU has it, a Walsh–Hadamard transform over the cube for the pair histogram of many states of few
neurons; OpenMP threads where the build supports it; the results are integers, identical for any
number of threads).
"""
from __future__ import annotations

import operator
import os
from dataclasses import dataclass
from math import comb

import numpy as np

from ..errors import InputError
from . import _clusters

__all__ = [
    "pair_distance_histogram",
    "overlap_distribution",
    "neighbor_counts",
    "local_entropy_per_state",
    "ClusterResult",
    "find_clusters",
    "overlap_gap",
]

MAX_R = 3


# --------------------------------------------------------------------------------------------
# validation


def _as_int(value, name: str) -> int:
    if isinstance(value, (bool, np.bool_)):
        raise InputError(f"{name} must be an integer, got {value!r}")
    try:
        return operator.index(value)
    except TypeError:
        raise InputError(f"{name} must be an integer, got {value!r}") from None


def _as_n(n) -> int:
    n = _as_int(n, "n")
    if not 1 <= n <= 64:
        raise InputError(f"n must satisfy 1 ≤ n ≤ 64 (packed uint64 states), got {n}")
    return n


def _as_r(r) -> int:
    r = _as_int(r, "r")
    if not 1 <= r <= MAX_R:
        raise InputError(f"r must be 1, 2 or 3, got {r}")
    return r


def _as_threads(workers) -> int:
    if workers is None:
        return max(1, os.cpu_count() or 1)
    workers = _as_int(workers, "workers")
    if workers < 1:
        raise InputError(f"workers must be ≥ 1, got {workers}")
    return workers


def _as_codes(codes, n: int) -> np.ndarray:
    """Validated C-contiguous uint64 copy/view of ``codes`` (1-D, distinct, no bit ≥ n)."""
    arr = np.asarray(codes)
    if arr.ndim != 1:
        raise InputError(f"codes must be a 1-D array of packed uint64 states, got shape {arr.shape}")
    if arr.size == 0:
        return np.zeros(0, dtype=np.uint64)
    if arr.dtype.kind not in "ui":
        raise InputError(f"codes must be unsigned integers (packed uint64 states), got dtype {arr.dtype}")
    if arr.dtype.kind == "i":
        if arr.min() < 0:
            raise InputError("codes must be non-negative (packed uint64 states)")
    arr = np.ascontiguousarray(arr, dtype=np.uint64)
    if n < 64:
        high = arr >> np.uint64(n)
        if np.any(high):
            bad = int(np.flatnonzero(high)[0])
            raise InputError(
                f"codes[{bad}] = {int(arr[bad])} has a bit ≥ n = {n} set (not a state of {n} neurons)"
            )
    if arr.size > 1 and not np.all(arr[1:] > arr[:-1]):
        s = np.sort(arr)
        dup = np.flatnonzero(s[1:] == s[:-1])
        if dup.size:
            raise InputError(f"codes must be distinct, {int(s[dup[0]])} appears more than once")
    return arr


# --------------------------------------------------------------------------------------------
# 1. pair distances and overlaps


# Auto choice between the two exact methods of pair_distance_histogram: estimated seconds per
# pair (by pair kernel) and per butterfly of the cube transform (n·2ⁿ of them), measured on one
# core of an AMD EPYC (Zen 4) and rounded up; the cube method also needs 4·2ⁿ bytes.
CUBE_MAX_BYTES = 1 << 30
_SEC_PER_PAIR = {0: 4e-10, 1: 1.3e-10, 2: 7e-11}
_SEC_PER_BUTTERFLY = 1e-9
METHODS = ("auto", "pairs", "cube")


def _pair_kernel(n: int) -> int:
    """Kernel of _clusters.pair_hist: AVX-512 (32-bit lanes if n ≤ 32) when the CPU has it."""
    if _clusters.HAVE_AVX512:
        return 2 if n <= 32 else 1
    return 0


def _cube_fits(n: int) -> bool:
    return n <= 30 and 4 * (1 << n) <= CUBE_MAX_BYTES


def _choose_method(M: int, n: int) -> str:
    if M < 2 or not _cube_fits(n):
        return "pairs"
    pair_cost = M * (M - 1) / 2 * _SEC_PER_PAIR[_pair_kernel(n)]
    cube_cost = n * float(1 << n) * _SEC_PER_BUTTERFLY
    return "cube" if cube_cost < pair_cost else "pairs"


def _krawtchouk(n: int) -> list:
    """K[k][w] = Σ_j (−1)^j C(w, j) C(n−w, k−j), k, w = 0..n (Python ints)."""
    return [[sum((-1) ** j * comb(w, j) * comb(n - w, k - j) for j in range(min(k, w) + 1))
             for w in range(n + 1)] for k in range(n + 1)]


def _cube_pair_hist(arr: np.ndarray, n: int, n_threads: int) -> np.ndarray:
    M = int(arr.size)
    W = _clusters.cube_weight_sums(arr, n, n_threads)
    K = _krawtchouk(n)
    hist = []
    for k in range(n + 1):
        s = sum(W[w] * K[k][w] for w in range(n + 1))
        if k == 0:
            s -= M << n  # the M ordered pairs (x, x)
        if s % (2 << n):
            raise RuntimeError(f"cube method: non-integer pair count at k = {k} (internal error)")
        hist.append(s // (2 << n))
    if hist[0] != 0 or sum(hist) != M * (M - 1) // 2:
        raise RuntimeError("cube method: inconsistent pair counts (internal error)")
    return np.array(hist, dtype=np.int64)


def pair_distance_histogram(codes, n, *, workers=None, method="auto") -> np.ndarray:
    """Histogram of Hamming distances over unordered pairs of distinct states.

    Returns ``h`` (int64, length n+1) with ``h[k] = #{(a, b) : a < b, d(codes[a], codes[b]) = k}``
    for k = 0..n, so ``h.sum() = M(M−1)/2`` and ``h[0] = 0`` (codes are distinct). Both methods
    are exact integer counts on ``workers`` threads (default: all cores), and the result does
    not depend on the method or the number of threads.

    ``method``:

    * ``"pairs"`` — O(M²) popcount over all pairs, cache-blocked; on CPUs with AVX-512 VPOPCNTDQ
      (checked at run time) 8 or, for n ≤ 32, 16 pairs per vector instruction, else scalar.
    * ``"cube"`` — O(n 2ⁿ) transform over the whole cube {0,1}ⁿ, independent of M (needs 4·2ⁿ
      bytes, allowed for n ≤ 30 with 4·2ⁿ ≤ :data:`CUBE_MAX_BYTES`, i.e. n ≤ 28 by default).
      With ``f`` the indicator of the set and ``F(u) = Σ_x f(x) (−1)^{u·x}`` its Walsh–Hadamard
      transform, the number of ordered pairs at distance k is
      ``P[k] = 2⁻ⁿ Σ_w W(w) K_k(w)``, ``W(w) = Σ_{|u|=w} F(u)²``, with the Krawtchouk polynomials
      ``K_k(w) = Σ_j (−1)^j C(w, j) C(n−w, k−j)``; then ``h[k] = P[k]/2`` for k ≥ 1 and
      ``h[0] = (P[0] − M)/2 = 0`` (W in exact integers, the last step in Python integers).
    * ``"auto"`` (default) — ``"cube"`` when it fits and its estimated time (∝ n 2ⁿ) is below
      that of ``"pairs"`` (∝ M²), e.g. for 10⁶ states of n ≤ 28 neurons; else ``"pairs"``.
    """
    n = _as_n(n)
    if method not in METHODS:
        raise InputError(f"method must be one of {METHODS}, got {method!r}")
    arr = _as_codes(codes, n)
    threads = _as_threads(workers)
    if method == "auto":
        method = _choose_method(int(arr.size), n)
    if method == "cube":
        if not _cube_fits(n):
            raise InputError(
                f"method='cube' needs 4·2^n ≤ CUBE_MAX_BYTES = {CUBE_MAX_BYTES} bytes and n ≤ 30, got n = {n}"
            )
        return _cube_pair_hist(arr, n, threads)
    hist = _clusters.pair_hist(arr, threads, _clusters.BLOCK, _pair_kernel(n))
    return np.ascontiguousarray(hist[: n + 1])


def overlap_distribution(codes, n, *, workers=None):
    """Overlap distribution of the set over unordered pairs of distinct states.

    Returns ``(q, p)``: ``q[k] = 1 − 2k/n`` for k = 0..n (descending from 1 to −1) and
    ``p[k] = h[k] / Σ h`` with ``h`` = :func:`pair_distance_histogram` (the fraction of pairs at
    overlap ``q[k]``). With fewer than two states there are no pairs and ``p`` is all zeros.
    """
    n = _as_n(n)
    hist = pair_distance_histogram(codes, n, workers=workers)
    q = 1.0 - 2.0 * np.arange(n + 1, dtype=np.float64) / n
    total = int(hist.sum())
    p = hist / total if total else np.zeros(n + 1, dtype=np.float64)
    return q, p


# --------------------------------------------------------------------------------------------
# 2. neighbours and local entropy


def neighbor_counts(codes, n, r, *, workers=None) -> np.ndarray:
    """Number of states of the set at each small distance from each state.

    Returns ``c`` (int64, shape (M, r)) with ``c[a, d−1] = #{b : d(codes[a], codes[b]) = d}`` for
    d = 1..r (1 ≤ r ≤ 3); rows follow the order of ``codes``. Computed by flipping every
    combination of d ≤ r bits of each state and looking the result up in a hash set of the codes:
    O(M · Σ_{d≤r} C(n, d)) expected time, independent of the pair count.
    """
    n = _as_n(n)
    r = _as_r(r)
    arr = _as_codes(codes, n)
    return _clusters.neighbor_counts(arr, n, r, _as_threads(workers))


def local_entropy_per_state(codes, n, r, *, workers=None) -> np.ndarray:
    """Finite-N local entropy of each state of the set.

    ``S_r(a) = (1/n) ln N_r(a)``, where ``N_r(a) = 1 + Σ_{d=1..r} c[a, d−1]`` is the number of
    states of the set within Hamming distance ≤ r of ``codes[a]``, ``codes[a]`` itself included
    (so ``S_r ≥ 0``, with equality for an isolated state). float64, shape (M,).
    """
    counts = neighbor_counts(codes, n, r, workers=workers)
    n = _as_n(n)
    return np.log1p(counts.sum(axis=1, dtype=np.int64).astype(np.float64)) / n


# --------------------------------------------------------------------------------------------
# 3. clusters


@dataclass(frozen=True)
class ClusterResult:
    """Result of :func:`find_clusters`.

    ``labels`` (int64, shape (M,)): cluster index of each state, in the order of ``codes``;
    clusters are numbered 0, 1, … by decreasing size, ties by increasing position of their
    first state in ``codes``. ``sizes`` (int64, shape (n_clusters,)): ``sizes[c]`` is the number
    of states with label c (so it is sorted descending). ``n_clusters``: number of clusters.
    ``r``: the linking distance used.
    """

    labels: np.ndarray
    sizes: np.ndarray
    n_clusters: int
    r: int

    def as_rows(self) -> list:
        """One row per cluster: ``cluster`` (index), ``size``, ``r``."""
        return [{"cluster": c, "size": int(s), "r": int(self.r)}
                for c, s in enumerate(self.sizes)]


def find_clusters(codes, n, r=1) -> ClusterResult:
    """Clusters of the set: connected components of the graph joining states at distance ≤ r.

    Two states of the set are in the same cluster iff a chain of states of the set joins them
    with every step of Hamming distance between 1 and r (1 ≤ r ≤ 3). Union–find over the same
    neighbour enumeration as :func:`neighbor_counts` (single thread).
    """
    n = _as_n(n)
    r = _as_r(r)
    arr = _as_codes(codes, n)
    M = arr.size
    if M == 0:
        empty = np.zeros(0, dtype=np.int64)
        return ClusterResult(labels=empty, sizes=empty.copy(), n_clusters=0, r=r)
    roots = _clusters.component_roots(arr, n, r)
    _, first, inv, counts = np.unique(roots, return_index=True, return_inverse=True, return_counts=True)
    order = np.lexsort((first, -counts))
    rank = np.empty(order.size, dtype=np.int64)
    rank[order] = np.arange(order.size, dtype=np.int64)
    labels = rank[inv.reshape(-1)]
    sizes = counts[order].astype(np.int64)
    return ClusterResult(labels=labels, sizes=sizes, n_clusters=int(order.size), r=r)


# --------------------------------------------------------------------------------------------
# 4. overlap gap


def overlap_gap(hist) -> dict:
    """Empty distance bins separating the close pairs from the bulk of a pair histogram.

    ``hist[k]`` = number of pairs at distance k (e.g. :func:`pair_distance_histogram`).
    Let ``k_first`` be the smallest k with ``hist[k] > 0`` (the close-pair peak) and ``k_max`` the
    bin of the maximum (the smallest such k in case of ties). The gap is the first run of empty
    bins after ``k_first`` and before ``k_max``: ``k_close_end`` is the last non-empty bin before
    it, ``k_bulk_start`` the first non-empty bin after it and ``gap_width = k_bulk_start −
    k_close_end − 1`` (≥ 1). Without such a run ``gap_width = 0`` and ``k_close_end`` /
    ``k_bulk_start`` are ``None``. Returns a dict with keys ``k_first``, ``k_max``,
    ``k_close_end``, ``k_bulk_start``, ``gap_width``, ``has_gap`` (``k_first``/``k_max`` are
    ``None`` for an all-zero histogram).
    """
    h = np.asarray(hist)
    if h.ndim != 1 or h.size == 0:
        raise InputError(f"hist must be a non-empty 1-D histogram, got shape {h.shape}")
    if h.dtype.kind not in "uif" or (h.dtype.kind == "f" and not np.all(np.isfinite(h))):
        raise InputError(f"hist must hold finite numbers, got dtype {h.dtype}")
    if np.any(h < 0):
        raise InputError("hist must be non-negative")
    out = {"k_first": None, "k_max": None, "k_close_end": None, "k_bulk_start": None,
           "gap_width": 0, "has_gap": False}
    nz = np.flatnonzero(h > 0)
    if nz.size == 0:
        return out
    k_first = int(nz[0])
    k_max = int(np.argmax(h))
    out["k_first"], out["k_max"] = k_first, k_max
    inner = nz[(nz >= k_first) & (nz <= k_max)]
    steps = np.diff(inner)
    jumps = np.flatnonzero(steps > 1)
    if jumps.size:
        k_close_end = int(inner[jumps[0]])
        k_bulk_start = int(inner[jumps[0] + 1])
        out.update(k_close_end=k_close_end, k_bulk_start=k_bulk_start,
                   gap_width=k_bulk_start - k_close_end - 1, has_gap=True)
    return out
