"""Disorder averages: exact fixed-point statistics over many random networks of one ensemble.

Each sample network is drawn from :class:`fplandscape.model.Ensemble` with its own child seed
``np.random.SeedSequence(seed).spawn(samples)[i]`` (= ``SeedSequence(seed, spawn_key=(i,))``),
so sample ``i`` is the same network whatever the total number of samples and however the work
is later split across workers. Its fixed points are enumerated exactly
(:func:`fplandscape.sim.enumerate.enumerate_fixed_points`). Conventions: :mod:`fplandscape.model`.
Bad input raises :class:`fplandscape.errors.InputError`.
"""
from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass, field

import numpy as np

from .. import model, parallel
from ..errors import InputError, check_count, check_choice
from ..provenance import run_info
from ..stats import mean_se
from . import stop
from .enumerate import METHODS, TooManyStates, enumerate_fixed_points
from .stability import stabilities_packed

_MARGIN_CHUNK = 1 << 16  # states per block of the margins' stability matrix
_PAIRS_ONE_THREAD = 4096  # below this many fixed points a sample's pair histogram runs on one thread

__all__ = ["DisorderResult", "disorder_average", "child_seeds", "ordered_pairs", "typical_summary"]


@dataclass(frozen=True)
class DisorderResult:
    """Result of :func:`disorder_average`.

    ``rows``: one dict per sample (``sample``, ``count``, ``ln_count`` (None if 0), ``seconds``,
    ``method``, ``nodes_visited``; with ``pairs`` the unordered histogram
    ``pair_distance_hist``; with ``margins`` ``margin_min`` / ``margin_mean`` of κ(σ) over the
    sample's fixed points, None if it has none). ``summary``: one dict with the means and
    standard errors (see :func:`disorder_average`; the theory columns are added by
    :func:`fplandscape.validate.counts.compare_with_theory`). ``info``: version, seed, ensemble
    parameters, number of samples, wall time.
    """

    rows: list
    summary: dict
    info: dict = field(default_factory=dict)

    def as_rows(self) -> list:
        """Tidy rows for CSV: one ``kind = "sample"`` row per sample, then a ``kind =
        "summary"`` row; each carries the run metadata (version, seed, parameters)."""
        meta = {k: v for k, v in self.info.items() if k not in ("seconds",)}
        out = [{"kind": "sample", **meta, **row} for row in self.rows]
        out.append({"kind": "summary", **meta, **self.summary, "seconds": self.info.get("seconds")})
        return out


def child_seeds(seed, samples: int) -> list:
    """The child SeedSequences of the samples: ``SeedSequence(seed).spawn(samples)`` for an
    integer seed; for a SeedSequence ``ss`` the children ``SeedSequence(ss.entropy,
    spawn_key=ss.spawn_key + (i,))`` (what ``ss.spawn`` gives on a fresh ``ss``, without
    spawn's hidden counter, so calling twice gives the same children)."""
    if isinstance(seed, np.random.SeedSequence):
        return [np.random.SeedSequence(seed.entropy, spawn_key=tuple(seed.spawn_key) + (i,),
                                       pool_size=seed.pool_size) for i in range(samples)]
    return np.random.SeedSequence(seed).spawn(samples)


def ordered_pairs(hist, count: int) -> np.ndarray:
    """Ordered pairs (σ, τ) of fixed points at distance k = 0..N, from the unordered histogram of
    distinct pairs: ``2·hist[k]``, plus ``count`` at k = 0 (the pairs (σ, σ)). This is what (E4)
    counts (the flip pairs at k = N included)."""
    out = 2 * np.asarray(hist, dtype=np.float64)
    out[0] += count
    return out



#: the "cube" pair histogram needs 4·2^N bytes at once (1 GiB at N = 28): the sample tasks
#: and the command line use it only up to this many bytes, and one at a time in a process
PAIRS_CUBE_MAX_BYTES = 1 << 29
_CUBE_LOCK = threading.Lock()


def pair_histogram(states, n: int) -> np.ndarray:
    """:func:`fplandscape.sim.clusters.pair_distance_histogram` (int64) in bounded memory: the
    whole-cube method only where its 4·2^n bytes are at most :data:`PAIRS_CUBE_MAX_BYTES` and
    one cube at a time in this process (it uses every core anyway), else the all-pairs method
    (cache-blocked, no extra memory). Small lists run on one thread (thread start-up dominates
    and contends with the other tasks). The histogram does not depend on the method."""
    from . import clusters

    states = np.ascontiguousarray(states, dtype=np.uint64)
    m = int(states.size)
    kw = {"workers": 1} if m < _PAIRS_ONE_THREAD else {}
    if clusters._choose_method(m, n) == "cube" and 4 * (1 << n) <= PAIRS_CUBE_MAX_BYTES:
        with _CUBE_LOCK:
            hist = clusters.pair_distance_histogram(states, n, method="cube", **kw)
    else:
        hist = clusters.pair_distance_histogram(states, n, method="pairs", **kw)
    return np.asarray(hist, dtype=np.int64)


def typical_summary(counts, size: int) -> dict:
    """The typical (quenched) entropy of a sample of exact counts, honest when some are 0.

    The typical entropy is ⟨ln #FP⟩/size over *all* networks. A network without fixed points
    has ln 0 = −∞, so whenever the sample holds one the typical entropy is −∞ at this N:
    ``typical_entropy`` (and its SE) is then None, never the mean over the other networks.
    Where it is defined it obeys Jensen's inequality on the sample itself,
    ⟨ln #⟩ ≤ ln⟨#⟩, i.e. it never exceeds the mean entropy (1/size) ln⟨#⟩.

    Returned keys: ``zero_samples`` and ``p_zero`` (the fraction of networks with no fixed
    point), the raw ``mean_ln_count``, ``se_ln_count`` over the networks with # > 0,
    ``conditional_typical_entropy`` = ⟨ln # | # > 0⟩/size and its SE (can exceed the mean
    entropy: Jensen bounds it only by (1/size) ln(⟨#⟩/P(# > 0))), and ``typical_entropy``,
    ``se_typical_entropy`` (ddof = 1; None for one sample or when some count is 0).
    """
    counts = np.asarray(counts, dtype=np.float64).ravel()
    if counts.size == 0 or np.any(counts < 0) or not np.all(np.isfinite(counts)):
        raise InputError("counts must be a non-empty list of finite non-negative numbers")
    positive = counts[counts > 0]
    zero = int(counts.size - positive.size)
    mean_ln, se_ln = mean_se(np.log(positive)) if positive.size else (None, None)
    out = {"zero_samples": zero, "p_zero": zero / counts.size,
           "mean_ln_count": mean_ln, "se_ln_count": se_ln,
           "conditional_typical_entropy": None if mean_ln is None else mean_ln / size,
           "se_conditional_typical_entropy": None if se_ln is None else se_ln / size}
    full = zero == 0
    out["typical_entropy"] = out["conditional_typical_entropy"] if full else None
    out["se_typical_entropy"] = out["se_conditional_typical_entropy"] if full else None
    return out


def _sample_task(ensemble, child, i, method, pairs, margins, max_states):
    """One disorder sample (runs in a worker): draw, enumerate, per-sample statistics."""
    t0 = time.perf_counter()
    size = ensemble.size
    keep = bool(pairs or margins)
    J = ensemble.sample(np.random.default_rng(child))
    try:
        res = enumerate_fixed_points(J, method=method, return_states=keep,
                                     max_states=max_states, workers=1, all_states=keep)
    except TooManyStates as exc:
        raise InputError(f"sample {i} has more than max_states = {max_states} fixed points "
                         f"(at least {exc.count}): pair histograms and margins need every one; "
                         "raise max_states (--max-states; about 16 bytes per fixed point and "
                         "running sample)") from None
    row = {"sample": i, "count": res.count,
           "ln_count": math.log(res.count) if res.count > 0 else None}
    if pairs:
        row["pair_distance_hist"] = pair_histogram(res.states, size).tolist()
    if margins:
        if res.count:
            kappa = np.concatenate([stabilities_packed(J, res.states[a:a + _MARGIN_CHUNK])
                                    .min(axis=1)  # chunks: N floats per state at a time
                                    for a in range(0, res.states.size, _MARGIN_CHUNK)])
            row["margin_min"] = float(kappa.min())
            row["margin_mean"] = float(kappa.mean())
        else:
            row["margin_min"] = row["margin_mean"] = None
    row["seconds"] = time.perf_counter() - t0
    row["method"] = res.method
    row["nodes_visited"] = res.nodes_visited
    return row


def _summarise(rows: list, size: int, pairs: bool) -> dict:
    """The summary of :func:`disorder_average` from its sample rows (in sample order): count
    moments (:func:`fplandscape.stats.mean_se`), :func:`typical_summary` and, with ``pairs``,
    the per-k mean and SE of :func:`ordered_pairs`."""
    samples = len(rows)
    counts = np.array([row["count"] for row in rows], dtype=np.float64)
    summary = {"samples": samples}
    summary["mean_count"], summary["se_count"] = mean_se(counts)
    summary.update(typical_summary(counts, size))
    if pairs:
        ordered = np.array([ordered_pairs(row["pair_distance_hist"], row["count"])
                            for row in rows], dtype=np.float64)
        mean_p = ordered.mean(axis=0)
        se_p = ordered.std(axis=0, ddof=1) / math.sqrt(samples) if samples > 1 else None
        summary["mean_ordered_pairs"] = mean_p.tolist()
        summary["se_ordered_pairs"] = None if se_p is None else se_p.tolist()
    return summary


def disorder_average(ensemble: model.Ensemble, samples: int, seed, *, pairs: bool = False,
                     margins: bool = False, method: str = "auto",
                     max_states: int = 10**7, workers=None, scheduler=None,
                     checkpoint=None, resume: bool = False,
                     progress=False) -> DisorderResult:
    """Exact fixed-point statistics of ``samples`` random networks of ``ensemble``.

    Sample ``i`` (0-based) is ``ensemble.sample(np.random.default_rng(child))`` with ``child =
    np.random.SeedSequence(seed).spawn(samples)[i]``, enumerated by
    :func:`~fplandscape.sim.enumerate.enumerate_fixed_points` (``method``). Per sample: index,
    exact count, ln count (None when 0), seconds; with ``pairs`` the unordered histogram of
    distinct fixed-point pairs at Hamming distance k = 0..L·N
    (:func:`fplandscape.sim.clusters.pair_distance_histogram`); with ``margins`` the min and
    mean over the fixed points of κ(σ) = min_i σ_i h_i (:func:`stabilities_packed`).

    Summary (``DisorderResult.summary``):

    * ``mean_count``, ``se_count`` (standard error, ddof = 1; None for one sample);
    * ``mean_ln_count``, ``se_ln_count`` over the samples with count > 0, ``zero_samples`` (how
      many had no fixed point) and ``p_zero``, ``conditional_typical_entropy`` = ⟨ln # | # > 0⟩
      /(L·N), and the typical entropy ``typical_entropy`` = ⟨ln #⟩/(L·N) over all samples (None
      when some sample has no fixed point: ln 0 = −∞) with ``se_typical_entropy``
      (:func:`typical_summary`);
    * with ``pairs``: ``mean_ordered_pairs[k]`` = mean of :func:`ordered_pairs` (ordered pairs
      (σ, τ), the pairs (σ, σ) at k = 0 and the flip pairs at k = L·N included) and its
      ``se_ordered_pairs`` (None for one sample).

    The engine returns counts and moments only: the comparison with the theory (the exact
    expectations (E1)/(E4) and the z-scores ``z_count``, ``z_pairs``) is
    :func:`fplandscape.validate.counts.compare_with_theory`.

    ``samples`` ≥ 1, L·N ≤ 64. ``max_states``: with ``pairs``/``margins`` the fixed points are
    listed; a sample with more than this many raises InputError (a pair histogram of a sample of
    them would not be the exact one). Memory: each running sample holds at most about 16 bytes
    × ``max_states`` (plus 8·L·N bytes per fixed point for ``margins``); pair histograms use
    :func:`pair_histogram` (bounded); the rows kept are small.

    Parallel (:func:`fplandscape.parallel.run_study`): the samples are independent tasks on
    ``workers`` local threads (default all cores; the enumeration releases the GIL) or on a
    Dask cluster (``scheduler``); ``checkpoint`` (a directory, or ``True`` for an automatic one
    removed after success) journals finished samples and ``resume=True`` continues an
    interrupted run; ``progress`` shows a progress bar. The result does not depend on any of
    them (each sample has its own child seed and rows are kept in sample order).
    """
    if not isinstance(ensemble, model.Ensemble):
        raise InputError(f"ensemble must be a fplandscape.model.Ensemble, got {type(ensemble).__name__}")
    samples = check_count(samples, "samples", minimum=1)
    check_choice(method, "method", METHODS)
    size = ensemble.size
    if size > model.MAX_PACKED_N:
        raise InputError(f"L·N = {size} neurons is too many for exact enumeration "
                         f"(at most {model.MAX_PACKED_N})")
    seed = model.check_seed(seed)
    workers = parallel.check_workers(workers)
    scheduler = parallel.check_scheduler(scheduler)
    max_states = check_count(max_states, "max_states")

    t_start = time.perf_counter()
    children = child_seeds(seed, samples)
    tasks = [(ensemble, children[i], i, method, bool(pairs), bool(margins), max_states)
             for i in range(samples)]
    # a SeedSequence is identified by its entropy *and* spawn key (children share the entropy)
    entropy = model.seed_repr(seed)
    rows = parallel.run_study(
        _sample_task, tasks, kind="disorder",
        params={"ensemble": ensemble.as_dict(), "samples": samples, "seed": str(entropy),
                "method": method, "pairs": bool(pairs), "margins": bool(margins),
                "max_states": max_states},
        checkpoint=checkpoint, resume=resume, workers=workers, scheduler=scheduler,
        progress=progress, desc=f"samples N={size}", stop=stop)
    summary = _summarise(rows, size, bool(pairs))
    info = run_info(seed=seed if not isinstance(seed, np.random.SeedSequence) else entropy,
                    **ensemble.as_dict(), samples=samples, pairs=bool(pairs),
                    margins=bool(margins), method=method)
    info["seconds"] = time.perf_counter() - t_start
    return DisorderResult(rows=rows, summary=summary, info=info)
