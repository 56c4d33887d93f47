"""Local observables of fixed points: margin, mean stability, and how many of the states at
Hamming distance 1 and 2 are fixed points too (exact local flip checks, compiled).

Conventions: :mod:`fplandscape.model` (stability ``Δ_i = σ_i h_i``, margin ``κ(σ) = min_i Δ_i``,
strict predicate). Unlike :func:`fplandscape.sim.clusters.neighbor_counts`, which looks the
neighbours up in a list of enumerated fixed points, these checks need no list: they apply to
states reached by dynamics at any N ≤ 64, and they stream over the prefix tasks of the
enumeration (:func:`fplandscape.sim.enumerate.enumerate_fixed_points` with ``local_radius``)
in memory bounded by the largest task. The finite-N local entropy of
docs/observables.md#local-entropy is ``(1/N) ln #FPs within distance r``.
"""
from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np

from .. import model
from ..errors import InputError
from . import _local

__all__ = ["LocalStats", "local_stats", "summarize_local", "merge_local_summaries",
           "finish_local_summary", "MARGIN_BIN"]

MARGIN_BIN = 0.02  # width of the margin histogram bins of the streamed summaries


@dataclass(frozen=True)
class LocalStats:
    """Per-state results of :func:`local_stats` (arrays aligned with the input codes):
    ``margin`` κ(σ) = min_i Δ_i, ``mean_stability`` (1/N) Σ_i Δ_i (both float64, fields
    summed from scratch), ``neighbors`` int64 (M, radius): column r−1 = number of fixed points
    at Hamming distance r (r ≤ 2)."""

    margin: np.ndarray
    mean_stability: np.ndarray
    neighbors: np.ndarray
    radius: int

    def as_rows(self) -> list:
        """One row per state (input order): ``state`` (index), ``margin``, ``mean_stability``
        and ``neighbors_d<r>`` for r = 1..radius."""
        return [{"state": a, "margin": float(self.margin[a]),
                 "mean_stability": float(self.mean_stability[a]),
                 **{f"neighbors_d{r + 1}": int(self.neighbors[a, r]) for r in range(self.radius)}}
                for a in range(len(self.margin))]


def _check_radius(radius) -> int:
    if isinstance(radius, bool) or not isinstance(radius, (int, np.integer)) or \
            not 0 <= radius <= 2:
        raise InputError(f"radius must be 0, 1 or 2, got {radius!r}")
    return int(radius)


def local_stats(J, codes, *, radius: int = 1, workers=None) -> LocalStats:
    """Margin, mean stability and fixed-point neighbours at distance 1..radius of each state.

    Flip j of σ: ``Δ'_j = 2 J_jj − Δ_j`` and ``Δ'_i = Δ_i − 2 σ_i σ_j J_ij``; flip j, k:
    ``Δ'_j = 2 J_jj − Δ_j + 2 σ_j σ_k J_jk`` and
    ``Δ'_i = Δ_i − 2 σ_i σ_j J_ij − 2 σ_i σ_k J_ik`` (module :mod:`fplandscape.sim._local`).
    Values within the rounding band of 0 are decided by the exact sign of the neighbour's field
    (stored numbers, no rounding), so a neighbour counts iff the exact brute-force check accepts
    it (ties are not stable). Cost O(N²) per state for radius 1,
    O(N³) worst case for radius 2 (most pairs are rejected after two checks).

    ``codes``: packed uint64 states (bit i set iff σ_i = +1), any states, not only fixed
    points. ``workers``: OpenMP threads (default all); results do not depend on it.
    """
    J = model.as_couplings(J, max_n=model.MAX_PACKED_N)
    radius = _check_radius(radius)
    codes = np.ascontiguousarray(np.asarray(codes).ravel())
    if codes.size and codes.dtype.kind not in "ui":
        raise InputError(f"codes must be integers (packed states), got dtype {codes.dtype}")
    if codes.size and codes.dtype.kind == "i" and codes.min() < 0:
        raise InputError("codes must be non-negative packed states")
    codes = codes.astype(np.uint64, copy=False)
    n = J.shape[0]
    if n < 64 and codes.size and int(codes.max()) >> n:
        raise InputError(f"a code has bits beyond N = {n}")
    if workers is not None and (not isinstance(workers, (int, np.integer)) or workers < 1):
        raise InputError(f"workers must be a positive integer, got {workers!r}")
    threads = int(workers) if workers is not None else (os.cpu_count() or 1)
    margin, mean, nbr = _local.local_observables(J, codes, radius, threads)
    return LocalStats(margin=margin, mean_stability=mean, neighbors=nbr[:, :radius].copy(),
                      radius=radius)


def summarize_local(stats: LocalStats, bin_width: float = MARGIN_BIN) -> dict:
    """Histogram summary of :class:`LocalStats` that adds up across disjoint sets of states
    (:func:`merge_local_summaries`): ``states``, ``margin_min``, ``margin_max``,
    ``margin_sum``, ``stability_sum``, ``margin_hist`` (counts of κ in
    [b·w, (b+1)·w), b = 0, 1, …; κ ≤ 0 goes to bin 0 with w = ``bin_width``; only meaningful for
    fixed points, κ > 0), ``neighbor_hist`` (one list per distance r: number of states with
    exactly m fixed-point neighbours at distance r, m = 0, 1, …) and ``neighbor_sum``."""
    m = stats.margin.size
    out = {"states": int(m), "bin_width": float(bin_width), "radius": stats.radius}
    if m:
        out["margin_min"] = float(stats.margin.min())
        out["margin_max"] = float(stats.margin.max())
        b = np.maximum(np.floor(stats.margin / bin_width), 0).astype(np.int64)
        out["margin_hist"] = np.bincount(b).tolist()
    else:
        out["margin_min"] = out["margin_max"] = None
        out["margin_hist"] = []
    out["margin_sum"] = float(stats.margin.sum())
    out["stability_sum"] = float(stats.mean_stability.sum())
    out["neighbor_hist"] = [np.bincount(stats.neighbors[:, r]).tolist() if m else []
                            for r in range(stats.radius)]
    out["neighbor_sum"] = [int(stats.neighbors[:, r].sum()) for r in range(stats.radius)]
    return out


def _add_lists(a, b):
    out = [0] * max(len(a), len(b))
    for i, v in enumerate(a):
        out[i] += v
    for i, v in enumerate(b):
        out[i] += v
    return out


def merge_local_summaries(a: dict, b: dict) -> dict:
    """The summary of the union of two disjoint state sets (histograms add, extremes combine).
    Sums are float64 additions, so means agree across splits to rounding only; counts and
    histograms are exact."""
    if a is None:
        return b
    if b is None:
        return a
    out = {"states": a["states"] + b["states"], "bin_width": a["bin_width"],
           "radius": a["radius"]}
    mins = [x for x in (a["margin_min"], b["margin_min"]) if x is not None]
    maxs = [x for x in (a["margin_max"], b["margin_max"]) if x is not None]
    out["margin_min"] = min(mins) if mins else None
    out["margin_max"] = max(maxs) if maxs else None
    out["margin_sum"] = a["margin_sum"] + b["margin_sum"]
    out["stability_sum"] = a["stability_sum"] + b["stability_sum"]
    out["margin_hist"] = _add_lists(a["margin_hist"], b["margin_hist"])
    out["neighbor_hist"] = [_add_lists(x, y) for x, y in zip(a["neighbor_hist"],
                                                             b["neighbor_hist"])]
    out["neighbor_sum"] = [x + y for x, y in zip(a["neighbor_sum"], b["neighbor_sum"])]
    return out


def finish_local_summary(s: dict) -> dict:
    """Add the means (``margin_mean``, ``mean_stability``, ``mean_neighbors`` per distance) to
    a summary; None where there are no states."""
    out = dict(s)
    m = s["states"]
    out["margin_mean"] = s["margin_sum"] / m if m else None
    out["mean_stability"] = s["stability_sum"] / m if m else None
    out["mean_neighbors"] = [x / m if m else None for x in s["neighbor_sum"]]
    return out
