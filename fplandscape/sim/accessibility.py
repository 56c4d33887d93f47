"""Algorithmic accessibility of fixed points: the scan of P(reach a fixed point) versus J_D.

On random networks of the ensemble of :mod:`fplandscape.model` (off-diagonal
``J_ij ~ N(0, 1/N)``, reciprocity η, self-coupling ``J_D``), :func:`accessibility_scan` runs,
for every cell (N, J_D, algorithm, network), the algorithm ``runs`` times from uniform random
initial states with a budget of ``max_sweeps`` sweeps and records whether it *reached a fixed
point* (final state strictly stable, ``Δ_i = σ_i h_i > 0`` for every i) and in how many sweeps.
Per (N, J_D, algorithm): the success probability

    p̂ = k / m,   SE(p̂) = √(p̂ (1 − p̂) / m)     (k successes of m = runs × samples runs),

and the sweeps of the successful runs. Per (algorithm, N): the finite-size 50 % threshold
``J_50(N)`` from a binomial logistic fit (:func:`fplandscape.stats.fit_threshold`) of the rising
edge of p̂(J_D) (cells after the first maximum are left out when p̂ falls below the level again,
flagged ``non_monotone``); per algorithm: the extrapolation ``J_50(∞)`` from
``J_50(N) = J_50(∞) + c·N^(−1/2)`` (or ``c/N``,
:func:`fplandscape.stats.extrapolate_threshold`).

The engine returns counts and moments only; the typical mean stability of the theory beside
the rows is added by :func:`fplandscape.validate.reached.with_typical_mean_stability`. What the
algorithms find (reached versus uniformly drawn fixed points) is
:func:`fplandscape.sim.reached.compare_reached_vs_uniform`.

Algorithms are looked up by name in the registry of :mod:`fplandscape.sim.algorithms`:
``"async"``, ``"sync"`` (:func:`fplandscape.sim.dynamics.run_dynamics`), ``"anneal"``
(:func:`fplandscape.sim.dynamics.anneal`) and ``"fbp"`` (focusing BP,
:func:`fplandscape.sim.bp.focusing_bp`, registered on first use), or any plugged in with
:func:`fplandscape.sim.algorithms.register_algorithm`.

Seeds (reproducible whatever the number of workers, the split into tasks or the grid). With
``root = SeedSequence(seed)``, network k of size N is drawn from
``SeedSequence(root.entropy, spawn_key=(0, N, k))`` and the runs on it use
``SeedSequence(root.entropy, spawn_key=(1, N, k))`` (run r: its child r, see
:func:`fplandscape.sim.dynamics.run_seeds`; :func:`cell_seeds`). The off-diagonal couplings do
not depend on ``J_D`` (:func:`fplandscape.model.gaussian_couplings` draws them first and then
sets the diagonal), so a cell's result is a function of (seed, N, J_D, algorithm, k) only, and
all J_D values and algorithms see the *same* networks and the *same* initial states (common
random numbers: smoother p(J_D) curves and paired comparisons between algorithms). Adding grid
points never changes the existing cells.

Parallelism: one task = one cell (N, J_D, algorithm, network) with all its runs, run by the
study runner :func:`fplandscape.parallel.run_study` on threads (the kernels release the GIL),
with the checkpoint/resume/progress options of :func:`fplandscape.sim.disorder.disorder_average`.
"""
from __future__ import annotations

import math
import struct
import time
import zlib
from dataclasses import dataclass, field
from typing import Optional

import numpy as np

from .. import model, parallel
from . import stop
from ..errors import InputError, check_count, check_choice
from ..provenance import run_info
from ..stats import (EXTRAPOLATIONS, binomial_se, extrapolate_threshold, fit_threshold,
                     mean_se)
from .algorithms import algorithm_options, check_rules, get_algorithm

__all__ = ["AccessibilityResult", "accessibility_scan", "cell_seeds", "threshold_window",
           "THRESHOLD_WINDOWS", "THRESHOLD_STEP"]

#: J_D window (lo, hi) per N around both dynamics' thresholds (async below sync), scanned with
#: step :data:`THRESHOLD_STEP` to resolve J_50(N) to a few 10⁻³ (paper_notes §8); a cell depends
#: on (seed, N, network) only, so scanning each N on its own window gives exactly the cells of
#: one joint scan
THRESHOLD_WINDOWS = {100: (0.22, 0.56), 200: (0.32, 0.56), 400: (0.40, 0.62), 800: (0.48, 0.68),
                     1600: (0.54, 0.74), 3200: (0.58, 0.78), 6400: (0.60, 0.80),
                     12800: (0.62, 0.82)}
THRESHOLD_STEP = 0.02


def threshold_window(n: int, windows=None) -> list:
    """The J_D grid lo, lo + 0.02, …, hi of ``THRESHOLD_WINDOWS[n]`` (or of ``windows[n]``),
    rounded to 10 decimals; InputError for an N without a window."""
    windows = THRESHOLD_WINDOWS if windows is None else windows
    if n not in windows:
        raise InputError(f"no J_D window for N = {n}; choose from {sorted(windows)}")
    lo, hi = windows[n]
    k = int(round((hi - lo) / THRESHOLD_STEP)) + 1
    return [round(lo + i * THRESHOLD_STEP, 10) for i in range(k)]

# --------------------------------------------------------------------------------------------
# seeds and validation


def _entropy(seed):
    if isinstance(seed, np.random.SeedSequence):
        if seed.spawn_key:
            raise InputError("give an integer seed or a root SeedSequence (without spawn_key)")
        return seed.entropy
    return model.check_int_seed(seed)


def _float_key(x: float) -> int:
    """A J_D value as an integer spawn key (its IEEE-754 bits)."""
    return struct.unpack("<Q", struct.pack("<d", float(x)))[0]


def _name_key(name: str) -> int:
    return zlib.crc32(name.encode())


def cell_seeds(seed, n: int, network: int):
    """(network seed, runs seed) of network ``network`` of size ``n`` (module docstring)."""
    ent = _entropy(seed)
    return (np.random.SeedSequence(ent, spawn_key=(0, int(n), int(network))),
            np.random.SeedSequence(ent, spawn_key=(1, int(n), int(network))))


def _positive_int(value, name):
    return check_count(value, name, minimum=1)


def _n_list(values, name="n_values"):
    vals = np.atleast_1d(np.asarray(values)).tolist() if not isinstance(values, (list, tuple)) \
        else list(values)
    if not vals:
        raise InputError(f"{name} must not be empty")
    out = [_positive_int(v, f"every N in {name}") for v in vals]
    if len(set(out)) != len(out):
        raise InputError(f"{name} has repeated values: {out}")
    return out


def _jd_list(values):
    vals = np.atleast_1d(np.asarray(values, dtype=object)).tolist()
    if not vals:
        raise InputError("jd_values must not be empty")
    out = []
    for v in vals:
        if isinstance(v, bool) or not isinstance(v, (int, float, np.integer, np.floating)) \
                or not math.isfinite(v):
            raise InputError(f"every J_D must be a finite real number, got {v!r}")
        out.append(float(v))
    if len(set(out)) != len(out):
        raise InputError(f"jd_values has repeated values: {out}")
    return out


# --------------------------------------------------------------------------------------------
# the scan


@dataclass(frozen=True)
class AccessibilityResult:
    """Result of :func:`accessibility_scan`.

    ``rows``: one dict per (N, J_D, algorithm) — ``n``, ``jd``, ``rule``, ``samples`` (networks
    drawn), ``runs`` (m = runs × samples), ``reached`` (k), ``p_reach`` = k/m, ``p_reach_se`` =
    √(p(1−p)/m), ``p_reach_se_samples`` (standard error of the per-network fractions, ≥ 2
    samples, else None), ``converged`` (runs whose last sweep changed nothing), ``median_sweeps``,
    ``mean_sweeps``, ``max_sweeps_reached`` (sweeps of the successful runs; None if none),
    ``margin_mean`` and ``mean_stability`` (means over the reached fixed points), ``seconds``
    (sum over the cell tasks; :func:`fplandscape.validate.reached.with_typical_mean_stability`
    adds the theory's ``typical_mean_stability`` before it). ``thresholds``: one dict per
    (algorithm, N) with ``kind = "finite_n"`` and the :func:`fplandscape.stats.fit_threshold`
    fields, then one per (algorithm, extrapolation form) with ``kind = "extrapolated"`` and the
    :func:`fplandscape.stats.extrapolate_threshold` fields (``headline`` True for the form
    requested). ``cells``: the raw per-cell results (per-run lists) in task order.
    ``info``: version, seed, parameters, wall time.
    """

    rows: list
    thresholds: list
    cells: list = field(default_factory=list)
    info: dict = field(default_factory=dict)

    def threshold(self, rule: str, n=None) -> Optional[dict]:
        """The finite-N threshold row of ``rule`` at ``n``, or its headline extrapolation."""
        for t in self.thresholds:
            if t["rule"] != rule:
                continue
            if n is None and t["kind"] == "extrapolated" and t.get("headline"):
                return t
            if n is not None and t["kind"] == "finite_n" and t["n"] == n:
                return t
        return None

    def as_rows(self) -> list:
        """Tidy rows for CSV: ``kind = "cell"`` rows, then the threshold rows; each carries
        version and seed."""
        meta = {"version": self.info.get("version"), "seed": self.info.get("seed")}
        out = [{"kind": "cell", **meta, **r} for r in self.rows]
        out += [{**meta, **t} for t in self.thresholds]
        return out


#: extra N×N float64 arrays an algorithm holds beyond the couplings and their transpose
_EXTRA_MATRICES = {"fbp": 2}


def _task_memory(n: int, eta: float = 0.0, rules=("async",)) -> float:
    """Peak bytes of one cell at size ``n``: 8 N² bytes per N×N float64 array — the couplings
    (drawn in place for η = 0; about 5 arrays at the peak of the η ≠ 0 draw), the transposed
    copy the kernels read (:func:`fplandscape.sim.dynamics.run_dynamics`) and an algorithm's own
    (``_EXTRA_MATRICES``), plus the per-run arrays (negligible). N = 12800, η = 0: 2.6 GB."""
    base = 2 if eta == 0.0 else 5      # J + its transpose, or the peak of the η ≠ 0 draw
    extra = max(_EXTRA_MATRICES.get(r, 0) for r in rules) if rules else 0
    return 8.0 * n * n * (base + extra)


def _cell_task(n, jd, rule, network, eta, net_ss, run_ss, runs, max_sweeps, options,
               keep_states):
    """One cell (runs in a worker thread): draw network ``network`` of size n (off-diagonal
    independent of J_D), set the diagonal to J_D, run the algorithm ``runs`` times."""
    t0 = time.perf_counter()
    J = model.gaussian_couplings(n, jd, eta=eta, seed=np.random.default_rng(net_ss))
    res = get_algorithm(rule).runner(J, runs=runs, max_sweeps=max_sweeps, seed=run_ss,
                                     **options)
    out = {"reached": [bool(v) for v in res["reached"]],
           "converged": [bool(v) for v in res["converged"]],
           "sweeps": [int(v) for v in res["sweeps"]],
           "margin": [float(v) for v in res["margin"]],
           "mean_stability": [float(v) for v in res["mean_stability"]]}
    if keep_states:
        out["states"] = np.asarray(res["states"], dtype=np.int8)
    out["seconds"] = time.perf_counter() - t0
    return out


def _aggregate(n, jd, rule, cells, eta):
    m = sum(len(c["reached"]) for c in cells)
    k = sum(sum(c["reached"]) for c in cells)
    ok = [(s, mg, ms) for c in cells for r, s, mg, ms in
          zip(c["reached"], c["sweeps"], c["margin"], c["mean_stability"]) if r]
    sweeps = np.array([o[0] for o in ok], dtype=np.float64)
    per_net = [sum(c["reached"]) / len(c["reached"]) for c in cells if c["reached"]]
    se_net = mean_se(per_net)[1]  # standard error of the per-network fractions
    return {"n": n, "jd": jd, "rule": rule, "eta": eta, "samples": len(cells), "runs": m,
            "reached": k, "p_reach": k / m if m else None, "p_reach_se": binomial_se(k, m),
            "p_reach_se_samples": se_net,
            "converged": sum(sum(c["converged"]) for c in cells),
            "median_sweeps": float(np.median(sweeps)) if ok else None,
            "mean_sweeps": float(sweeps.mean()) if ok else None,
            "max_sweeps_reached": int(sweeps.max()) if ok else None,
            "margin_mean": float(np.mean([o[1] for o in ok])) if ok else None,
            "mean_stability": float(np.mean([o[2] for o in ok])) if ok else None,
            "seconds": float(sum(c["seconds"] for c in cells))}


def accessibility_scan(n_values, jd_values, rules=("async", "sync"), *, runs: int = 20,
                       samples: int = 1, max_sweeps: int = 1000, seed=0, eta: float = 0.0,
                       options: Optional[dict] = None, extrapolation: str = "sqrt",
                       level: float = 0.5, bootstrap: int = 0, keep_states: bool = False,
                       workers=None, scheduler=None, checkpoint=None, resume: bool = False,
                       progress=False) -> AccessibilityResult:
    """P(reach a fixed point) and time to reach it versus J_D, for each N and algorithm.

    For every N in ``n_values``, J_D in ``jd_values``, algorithm in ``rules`` (registry names
    of :mod:`fplandscape.sim.algorithms`: ``"async"``, ``"sync"``, ``"anneal"``, ``"fbp"``)
    and network k < ``samples`` (the number of networks drawn): draw network k (the ensemble
    of :mod:`fplandscape.model` with reciprocity ``eta``; the same off-diagonal couplings for
    every J_D and algorithm, module docstring), and run the algorithm ``runs`` times from
    uniform random initial states with at most ``max_sweeps`` sweeps (synchronous: steps;
    annealing: the length of its β schedule). A run *reaches* a fixed point when its final
    state is strictly stable (Δ_i > 0 for all i; for the dynamics this is the converged run
    minus the rare ties, for annealing E = 0); its time is the number of sweeps reported by the
    algorithm (dynamics: including the final sweep that changed nothing).

    Rows (:class:`AccessibilityResult`): p̂ = k/m with SE √(p̂(1−p̂)/m), sweeps of the successful
    runs, stabilities of the reached fixed points. Thresholds: per (algorithm, N),
    :func:`fplandscape.stats.fit_threshold` (logistic MLE of p̂ vs J_D, delta-method error with
    quasi-binomial dispersion; ``bootstrap`` > 0 adds a parametric bootstrap error); per
    algorithm, :func:`fplandscape.stats.extrapolate_threshold` over the N with a finite
    threshold (status ok/separated), both forms (``1/√N`` and ``1/N``), the form
    ``extrapolation`` flagged as the headline.

    ``options``: per-algorithm keyword arguments, e.g. ``{"anneal": {"beta1": 10}}``.
    ``keep_states``: also keep the final states of every run in ``cells`` (int8 arrays).

    Parallel: one task per (N, J_D, algorithm, network) through
    :func:`fplandscape.parallel.run_study` on ``workers`` threads (default all cores) or a Dask
    ``scheduler``; ``checkpoint`` (a directory, or True for an automatic one removed after
    success) and ``resume`` as in :func:`fplandscape.sim.disorder.disorder_average`;
    ``progress`` shows a progress bar. The result (all but the ``seconds`` fields) does not
    depend on any of them.
    """
    n_list = _n_list(n_values)
    jd_list = _jd_list(jd_values)
    rules = check_rules(rules)
    runs = _positive_int(runs, "runs")
    samples = _positive_int(samples, "samples")
    max_sweeps = check_count(max_sweeps, "max_sweeps")
    model.Ensemble(n=1, jd=0.0, eta=eta)  # validates eta
    eta = float(eta)
    check_choice(extrapolation, "extrapolation", EXTRAPOLATIONS)
    opts = algorithm_options(rules, options)
    entropy = _entropy(seed)
    workers = parallel.check_workers(workers)
    parallel.check_memory(_task_memory(max(n_list), eta, rules), workers,
                          f"the accessibility scan at N = {max(n_list)}", scheduler=scheduler)
    t_start = time.perf_counter()

    keys, tasks = [], []
    for n in n_list:
        for jd in jd_list:
            for rule in rules:
                for k in range(samples):
                    net_ss, run_ss = cell_seeds(entropy, n, k)
                    keys.append((n, jd, rule, k))
                    tasks.append((n, jd, rule, k, eta, net_ss, run_ss, runs, max_sweeps,
                                  opts[rule], bool(keep_states)))
    # biggest cells first (better load balance); the result does not depend on the order
    order = sorted(range(len(tasks)), key=lambda i: (-keys[i][0], i))
    params = {"n_values": n_list, "jd_values": [repr(v) for v in jd_list], "rules": rules,
              "runs": runs, "samples": samples, "max_sweeps": max_sweeps,
              "seed": str(entropy), "eta": repr(eta), "options": opts,
              "keep_states": bool(keep_states)}

    def analyse(out):  # results in task order -> rows, thresholds, raw cells
        cells = [None] * len(tasks)
        for pos, i in enumerate(order):
            cells[i] = out[pos]
        by_key = {keys[i]: cells[i] for i in range(len(tasks))}
        rows = []
        for n in n_list:
            for jd in jd_list:
                for rule in rules:
                    rows.append(_aggregate(n, jd, rule, [by_key[(n, jd, rule, k)]
                                                         for k in range(samples)], eta))
        thresholds = _thresholds(rows, n_list, jd_list, rules, level, bootstrap, entropy,
                                 extrapolation)
        cell_rows = [{"n": key[0], "jd": key[1], "rule": key[2], "network": key[3], **c}
                     for key, c in zip(keys, cells)]
        return rows, thresholds, cell_rows

    rows, thresholds, cell_rows = parallel.run_study(
        _cell_task, [tasks[i] for i in order], kind="accessibility", params=params,
        checkpoint=checkpoint, resume=resume, workers=workers, scheduler=scheduler,
        progress=progress, desc="accessibility cells", backend="threads", stop=stop,
        finish=analyse)
    info = run_info(seed=entropy, n_values=n_list, jd_values=jd_list, rules=rules, runs=runs,
                    samples=samples, max_sweeps=max_sweeps, eta=eta, options=opts,
                    extrapolation=extrapolation, level=level)
    info["seconds"] = time.perf_counter() - t_start
    return AccessibilityResult(rows=rows, thresholds=thresholds, cells=cell_rows, info=info)


def _rising_edge(sel, level):
    """The cells (sorted by J_D) up to the first maximum of p̂, when p̂ later falls below
    ``level`` again (e.g. focusing BP failing at large J_D within its budget): J_50 is the
    threshold of the rising edge, and the logistic model only describes that part. Returns
    (cells used, whether the curve was non-monotone)."""
    p = [r["reached"] / r["runs"] if r["runs"] else 0.0 for r in sel]
    if not p:
        return sel, False
    top = int(np.argmax(p))
    if top + 1 < len(p) and min(p[top + 1:]) < level and top >= 1:
        return sel[:top + 1], True
    return sel, False


def _thresholds(rows, n_list, jd_list, rules, level, bootstrap, entropy, extrapolation):
    out = []
    for rule in rules:
        finite = []
        for n in n_list:
            sel = sorted((r for r in rows if r["rule"] == rule and r["n"] == n),
                         key=lambda r: r["jd"])
            sel, non_monotone = _rising_edge(sel, level)
            bs_seed = np.random.SeedSequence(entropy, spawn_key=(3, n, _name_key(rule)))
            fit = fit_threshold([r["jd"] for r in sel], [r["reached"] for r in sel],
                                [r["runs"] for r in sel], level=level, bootstrap=bootstrap,
                                seed=bs_seed)
            row = {"kind": "finite_n", "rule": rule, "n": n, **fit,
                   "non_monotone": non_monotone}
            out.append(row)
            if fit["j50"] is not None and fit["status"] in ("ok", "separated"):
                err = fit.get("j50_err_bootstrap") or fit["j50_err"]
                finite.append((n, fit["j50"], err))
        for form in EXTRAPOLATIONS:
            ex = extrapolate_threshold([f[0] for f in finite], [f[1] for f in finite],
                                       [f[2] for f in finite], form=form)
            out.append({"kind": "extrapolated", "rule": rule, "n": None,
                        "headline": form == extrapolation, **ex})
    return out
