"""What the algorithms find: the fixed points they reach versus uniformly drawn fixed points.

:func:`compare_reached_vs_uniform` describes, at one N and for each J_D, two kinds of *source*
of fixed points on the networks of the accessibility scan
(:func:`fplandscape.sim.accessibility.cell_seeds`: same networks, same initial states):

* ``"uniform"`` (N ≤ 64): a uniform sample of all fixed points of the network (exact
  enumeration with a seeded bottom-k sample,
  :func:`fplandscape.sim.enumerate.enumerate_fixed_points`), task :func:`_uniform_task`;
* each algorithm of the registry (:mod:`fplandscape.sim.algorithms`): the final states of its
  runs that reached a fixed point, task :func:`_algorithm_task`.

For each described fixed point σ: the margin κ(σ) = min_i Δ_i, the mean stability
(1/N) Σ_i Δ_i and the number of fixed points at Hamming distance 1 and 2 (exact local flip
checks, :func:`fplandscape.sim.local.local_stats`). Rows give means and standard errors
(:func:`fplandscape.stats.mean_se`) per network and pooled over the networks, and the pooled
algorithm rows the differences algorithm − uniform. The comparison with the theory (the
typical mean stability of a fixed point) is
:func:`fplandscape.validate.reached.with_typical_mean_stability`.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Optional

import numpy as np

from .. import model, parallel
from . import stop
from ..errors import InputError, check_count
from ..provenance import run_info
from ..stats import mean_se
from .accessibility import (_entropy, _float_key, _jd_list, _positive_int, cell_seeds)
from .algorithms import algorithm_options, check_rules, get_algorithm

__all__ = ["ComparisonResult", "compare_reached_vs_uniform"]

_NEIGHBOR_TOL = 1e-9


def _d1_neighbors_dense(J, S):
    """Number of fixed points at Hamming distance 1 of each state (any N; O(N²) per state):
    flipping j gives Δ'_j = 2 J_jj − Δ_j and Δ'_i = Δ_i − 2 σ_i σ_j J_ij; candidates that pass
    with a tolerance are confirmed with the exact predicate (:func:`model.is_fixed_point`)."""
    S = np.atleast_2d(S)
    out = np.zeros(S.shape[0], dtype=np.int64)
    diag = np.diag(J)
    # slack: 1e-9 absolute, or more than the rounding of Δ (field_bands) plus the one update
    # (≤ 3 u Σ_j |J_ij|), so that no neighbour the exact predicate accepts is dropped here
    slack = np.maximum(_NEIGHBOR_TOL, 2.0 * model.field_bands(J)
                       + 8.0 * 2.0**-53 * np.abs(J).sum(axis=1))
    for q, s in enumerate(S):
        sf = s.astype(np.float64)
        delta = sf * (J @ sf)
        M = delta[:, None] - 2.0 * (sf[:, None] * J * sf[None, :])  # column j: flip j
        np.fill_diagonal(M, 2.0 * diag - delta)
        # a candidate unless some value is certainly negative (NaN, e.g. inf − inf on rows with
        # Σ|J| > 1e300, stays a candidate and goes to the exact check)
        cand = np.nonzero(~np.any(M <= -slack[:, None], axis=0))[0]
        for j in cand:
            t = s.copy()
            t[j] = -t[j]
            out[q] += bool(model.is_fixed_point(J, t))
    return out


@dataclass(frozen=True)
class ComparisonResult:
    """Result of :func:`compare_reached_vs_uniform`.

    ``rows``: tidy dicts, one per (J_D, source, network) with ``kind = "network"`` and one
    per (J_D, source) pooled over the networks with ``kind = "pooled"``. ``source`` is
    ``"uniform"`` (a uniform sample of all fixed points) or an algorithm name. Columns: ``n``,
    ``jd``, ``source``, ``network``, ``states`` (fixed points described: sampled ones, or runs
    that reached one), ``runs`` (algorithms), ``fp_count`` (uniform: exact number of fixed
    points of the network), ``truncated`` (uniform: the sample is a bottom-k sample),
    ``margin_mean``/``margin_se``/``margin_min``/``margin_median``,
    ``mean_stability``/``mean_stability_se``, ``neighbors_d1``/``neighbors_d1_se``,
    ``isolated_d1`` (fraction with no fixed point at distance 1), ``neighbors_d2``/``_se``
    (None where not computed), ``seconds``; pooled algorithm rows add ``delta_mean_stability``
    and ``delta_margin`` (algorithm − uniform). Above N = 64 the uniform source has only a
    pooled placeholder row (``states = 0``). The theory column ``typical_mean_stability``
    (J_D + s φ(J_D/s)/Φ(J_D/s)) is added before ``seconds`` by
    :func:`fplandscape.validate.reached.with_typical_mean_stability`.
    ``pooled``: per (J_D, source) the pooled per-state arrays (``margin``, ``mean_stability``,
    ``neighbors`` (states × radius), ``codes`` for N ≤ 64), for histograms (figure 7).
    ``info``: version, seed, parameters (``samples``: networks drawn per J_D), wall time.
    """

    rows: list
    pooled: dict
    info: dict = field(default_factory=dict)

    def as_rows(self) -> list:
        meta = {"version": self.info.get("version"), "seed": self.info.get("seed")}
        return [{**meta, **r} for r in self.rows]

    def as_state_rows(self) -> list:
        """One tidy row per described fixed point (jd, source, margin, mean stability,
        neighbours at distance 1 and 2)."""
        out = []
        for (jd, source), s in self.pooled.items():
            nb = s["neighbors"]
            for i in range(s["margin"].size):
                row = {"n": self.info.get("n"), "jd": jd, "source": source,
                       "margin": float(s["margin"][i]),
                       "mean_stability": float(s["mean_stability"][i])}
                for r in range(nb.shape[1]):
                    row[f"neighbors_d{r + 1}"] = int(nb[i, r]) if nb[i, r] >= 0 else None
                out.append(row)
        return out


# --------------------------------------------------------------------------------------------
# one task per (J_D, source, network): a uniform sample, or an algorithm's runs


def _task(fn, args):
    """One task of :func:`compare_reached_vs_uniform`: ``fn(*args)`` (:func:`_uniform_task`
    or :func:`_algorithm_task`), so that both kinds run as one list of tasks."""
    return fn(*args)


def _uniform_task(n, jd, network, eta, net_ss, uniform_samples, sample_seed, radius):
    """Source ``"uniform"`` on network ``network`` (N ≤ 64): all fixed points enumerated, at
    most ``uniform_samples`` of them kept as a seeded bottom-k sample, each described by
    :func:`fplandscape.sim.local.local_stats`."""
    from .enumerate import enumerate_fixed_points
    from .local import local_stats

    t0 = time.perf_counter()
    J = model.gaussian_couplings(n, jd, eta=eta, seed=np.random.default_rng(net_ss))
    res = enumerate_fixed_points(J, return_states=True, max_states=uniform_samples,
                                 seed=sample_seed, workers=1)
    codes = np.asarray(res.states, dtype=np.uint64)
    st = local_stats(J, codes, radius=radius, workers=1)
    return {"fp_count": int(res.count), "truncated": bool(res.truncated), "runs": None,
            "margin": st.margin, "mean_stability": st.mean_stability, "neighbors": st.neighbors,
            "codes": codes, "seconds": time.perf_counter() - t0}


def _algorithm_task(n, jd, rule, network, eta, net_ss, run_ss, runs, max_sweeps, options,
                    radius):
    """Source ``rule`` (a registered algorithm) on network ``network``: ``runs`` runs, the final
    states of those that reached a fixed point described (N ≤ 64: by
    :func:`fplandscape.sim.local.local_stats`; larger N: the runner's margin and mean stability
    and the distance-1 neighbours of the dense check, distance 2 not computed)."""
    from .local import local_stats

    t0 = time.perf_counter()
    J = model.gaussian_couplings(n, jd, eta=eta, seed=np.random.default_rng(net_ss))
    res = get_algorithm(rule).runner(J, runs=runs, max_sweeps=max_sweeps, seed=run_ss,
                                     **options)
    ok = np.asarray(res["reached"], dtype=bool)
    states = np.asarray(res["states"], dtype=np.int8)[ok]
    out = {"fp_count": None, "truncated": None, "runs": int(ok.size)}
    if n <= model.MAX_PACKED_N:
        codes = model.pack_states(states) if states.shape[0] else np.zeros(0, np.uint64)
        st = local_stats(J, codes, radius=radius, workers=1)
        out.update(margin=st.margin, mean_stability=st.mean_stability, neighbors=st.neighbors,
                   codes=codes)
    else:
        out["margin"] = np.asarray(res["margin"], dtype=np.float64)[ok]
        out["mean_stability"] = np.asarray(res["mean_stability"], dtype=np.float64)[ok]
        nb = np.full((states.shape[0], max(radius, 1)), -1, dtype=np.int64)
        if radius >= 1 and states.shape[0]:
            nb[:, 0] = _d1_neighbors_dense(J, states)
        out["neighbors"] = nb[:, :radius] if radius else nb[:, :0]
    out["seconds"] = time.perf_counter() - t0
    return out


# --------------------------------------------------------------------------------------------
# rows


def _describe_row(d, radius):
    margin = np.asarray(d["margin"], dtype=np.float64)
    ms = np.asarray(d["mean_stability"], dtype=np.float64)
    nb = np.asarray(d["neighbors"], dtype=np.int64).reshape(margin.size, radius)
    row = {"states": int(margin.size)}
    row["margin_mean"], row["margin_se"] = mean_se(margin)
    row["margin_min"] = float(margin.min()) if margin.size else None
    row["margin_median"] = float(np.median(margin)) if margin.size else None
    row["mean_stability"], row["mean_stability_se"] = mean_se(ms)
    for r in range(2):
        key = f"neighbors_d{r + 1}"
        col = nb[:, r] if r < min(radius, nb.shape[1]) else None
        if col is not None and np.any(col < 0):  # -1: not computed (distance 2 at N > 64)
            col = None
        if col is None or col.size == 0:
            row[key] = row[key + "_se"] = None
        else:
            row[key], row[key + "_se"] = mean_se(col)
        if r == 0:
            row["isolated_d1"] = float(np.mean(col == 0)) if col is not None and col.size \
                else None
    return row


def _pooled_count(parts, key, combine):
    """A per-network count pooled over the networks (None where the source has none)."""
    return None if parts[0][key] is None else combine(d[key] for d in parts)


def _source_rows(n, jd, source, parts, radius):
    """The rows of one source at one J_D (one per network, then the pooled one) and its pooled
    per-state arrays."""
    rows = [{"kind": "network", "n": n, "jd": jd, "source": source, "network": k,
             "runs": d["runs"], "fp_count": d["fp_count"], "truncated": d["truncated"],
             **_describe_row(d, radius), "seconds": d["seconds"]}
            for k, d in enumerate(parts)]
    pooled = {key: np.concatenate([np.asarray(d[key]) for d in parts])
              for key in ("margin", "mean_stability")}
    pooled["neighbors"] = np.concatenate(
        [np.asarray(d["neighbors"], dtype=np.int64).reshape(len(d["margin"]), radius)
         for d in parts])
    if all(d.get("codes") is not None for d in parts):
        pooled["codes"] = np.concatenate([np.asarray(d["codes"], dtype=np.uint64)
                                          for d in parts])
    rows.append({"kind": "pooled", "n": n, "jd": jd, "source": source, "network": None,
                 "runs": _pooled_count(parts, "runs", sum),
                 "fp_count": _pooled_count(parts, "fp_count", sum),
                 "truncated": _pooled_count(parts, "truncated", any),
                 **_describe_row(pooled, radius),
                 "seconds": float(sum(d["seconds"] for d in parts))})
    return rows, pooled


def _add_deltas(row, reference):
    """``delta_mean_stability`` and ``delta_margin``: algorithm − uniform (pooled rows)."""
    for col in ("mean_stability", "margin_mean"):
        a, b = row[col], reference[col]
        row["delta_" + ("margin" if col == "margin_mean" else col)] = \
            None if a is None or b is None else a - b


def compare_reached_vs_uniform(n: int, jd_values, rules=("async", "sync"), *, runs: int = 50,
                               samples: int = 4, max_sweeps: int = 1000, seed=0,
                               eta: float = 0.0, options: Optional[dict] = None,
                               uniform_samples: int = 2000, radius: int = 2, workers=None,
                               scheduler=None, checkpoint=None, resume: bool = False,
                               progress=False) -> ComparisonResult:
    """Properties of the fixed points the algorithms reach versus uniformly drawn fixed points.

    For each J_D in ``jd_values`` and network k < ``samples`` (the networks and initial states
    of :func:`fplandscape.sim.accessibility.accessibility_scan` with the same seed:
    :func:`fplandscape.sim.accessibility.cell_seeds`):

    * ``"uniform"`` (N ≤ 64): all fixed points are enumerated exactly and at most
      ``uniform_samples`` of them kept as a seeded bottom-k sample (uniform without
      replacement over the network's fixed points; all of them when there are fewer);
    * each algorithm of ``rules``: ``runs`` runs from random initial states; every run that
      reaches a fixed point contributes its final state (so a fixed point found by several runs
      counts with its multiplicity: the distribution over *runs*).

    For each described fixed point σ: margin κ = min_i Δ_i, mean stability (1/N) Σ_i Δ_i and
    the number of fixed points at Hamming distance 1..``radius`` (≤ 2) by exact local flip
    checks (:func:`fplandscape.sim.local.local_stats`). For N > 64 there is no uniform sample
    (its pooled row has ``states = 0``; with the theory added by
    :func:`fplandscape.validate.reached.with_typical_mean_stability` it gives only the typical
    value) and neighbours are counted at distance 1 only (dense O(N²) check per state).

    Tasks: one per (J_D, source, network), run by :func:`fplandscape.parallel.run_study`,
    parallel and checkpointed as in :func:`fplandscape.sim.accessibility.accessibility_scan`
    (result independent of workers).
    """
    n = _positive_int(n, "n")
    jd_list = _jd_list(jd_values)
    rules = check_rules(rules)
    runs = _positive_int(runs, "runs")
    samples = _positive_int(samples, "samples")
    uniform_samples = _positive_int(uniform_samples, "uniform_samples")
    if isinstance(radius, bool) or radius not in (0, 1, 2):
        raise InputError(f"radius must be 0, 1 or 2, got {radius!r}")
    max_sweeps = check_count(max_sweeps, "max_sweeps")
    model.Ensemble(n=1, jd=0.0, eta=eta)
    eta = float(eta)
    opts = algorithm_options(rules, options)
    entropy = _entropy(seed)
    workers = parallel.check_workers(workers)
    t_start = time.perf_counter()
    uniform = n <= model.MAX_PACKED_N
    keys, tasks = [], []
    for jd in jd_list:  # task order: J_D, then source (uniform first), then network
        for k in range(samples) if uniform else ():
            net_ss, _ = cell_seeds(entropy, n, k)
            sample_seed = int(np.random.SeedSequence(
                entropy, spawn_key=(2, n, k, _float_key(jd))).generate_state(1)[0])
            keys.append((jd, "uniform", k))
            tasks.append((_uniform_task, (n, jd, k, eta, net_ss, uniform_samples, sample_seed,
                                          int(radius))))
        for rule in rules:
            for k in range(samples):
                net_ss, run_ss = cell_seeds(entropy, n, k)
                keys.append((jd, rule, k))
                tasks.append((_algorithm_task, (n, jd, rule, k, eta, net_ss, run_ss, runs,
                                                int(max_sweeps), opts[rule], int(radius))))
    params = {"n": n, "jd_values": [repr(v) for v in jd_list], "rules": rules, "runs": runs,
              "samples": samples, "max_sweeps": int(max_sweeps), "seed": str(entropy),
              "eta": repr(eta), "options": opts, "uniform_samples": uniform_samples,
              "radius": int(radius)}

    def analyse(results):  # results in task order -> rows and pooled per-state arrays
        by_key = dict(zip(keys, results))

        def parts(jd, source):
            return [by_key[(jd, source, k)] for k in range(samples)]

        rows, pooled = [], {}
        for jd in jd_list:
            reference = None
            if uniform:
                new, pooled[(jd, "uniform")] = _source_rows(n, jd, "uniform",
                                                            parts(jd, "uniform"), radius)
                rows += new
                reference = new[-1]
            else:  # no uniform sample above N = 64: a placeholder row (the theory goes there)
                rows.append({"kind": "pooled", "n": n, "jd": jd, "source": "uniform",
                             "network": None, "states": 0})
            for rule in rules:
                new, pooled[(jd, rule)] = _source_rows(n, jd, rule, parts(jd, rule), radius)
                if reference is not None:
                    _add_deltas(new[-1], reference)
                rows += new
        return rows, pooled

    rows, pooled = parallel.run_study(
        _task, tasks, kind="compare-reached", params=params, checkpoint=checkpoint,
        resume=resume, workers=workers, scheduler=scheduler, progress=progress,
        desc=f"reached vs uniform N={n}", backend="threads", stop=stop, finish=analyse)
    info = run_info(seed=entropy, n=n, jd_values=jd_list, rules=rules, runs=runs,
                    samples=samples, max_sweeps=int(max_sweeps), eta=eta, options=opts,
                    uniform_samples=uniform_samples, radius=int(radius))
    info["seconds"] = time.perf_counter() - t_start
    return ComparisonResult(rows=rows, pooled=pooled, info=info)
