"""Hetero-association capacity versus depth (issue 17): how many random associations a network of
L modules of H units stores, trained to convergence, per input dimension and per hidden unit.

**Associations.** P inputs x^μ ∈ {±1}^N (independent fair bits) with labels c^μ uniform in
{0..C−1}, targets the one-vs-all codes y^μ ∈ {±1}^C. Sample ν of a study with seed s draws
its inputs from ``default_rng(SeedSequence(s, spawn_key=(ν, 0)))`` (shape (P, N), row by row)
and its labels from ``spawn_key=(ν, 1)``, so the sets are **nested**: the P associations of
sample ν are the first P of every larger load of the same sample, and every (H, L) of the study
sees the same sets (common random numbers: the comparison across depth is paired). The network
seed of sample ν is the same for every load and depth (:func:`_network_seed`).

**Training to convergence** (:func:`association_outcome`): :func:`~fplandscape.learn.train.train`
with ``stop_when_stable`` (stop after the first epoch without any unstable unit: every
presentation then ends at a fixed point with the margins honoured) and ``patience`` (stop when
the number of unstable units of an epoch has not improved on its best for ``patience``
epochs), at most ``epochs`` epochs; the row reports the epochs used, ``converged`` (the last
epoch had no unstable unit) and ``stalled`` (stopped by ``patience``).

**Criteria** (per association μ, after free relaxation from x^μ, the inference dynamics):

* *stored*: the whole network is a strict fixed point with the readout free and equal to the
  target, ``model.is_fixed_point(full_couplings(net, readout="free"), [x^μ, 1, s^μ, y^μ])``
  (float64, exact decision); it implies that every readout field h_c has the sign of y_c, so
  the argmax prediction is c^μ: **stored ⇒ recalled**;
* *recalled*: the argmax prediction of :func:`~fplandscape.learn.train.predict` is c^μ.

``stored_fraction`` and ``recalled_fraction`` are the fractions over the P associations.
Loads: ``alpha_input`` = P/N (the perceptron convention) and ``alpha_unit`` = P/(L·H).

**Capacity** (:func:`capacity_estimates`). For a criterion with mean fraction
f̄(P) = (1/M) Σ_ν f_ν(P) over the M samples, the capacity P_c is the first load at which f̄
falls to ``level`` (default 0.9), linearly interpolated between the bracketing grid loads
P₀ < P₁ with f̄(P₀) > level ≥ f̄(P₁):

    P_c = P₀ + (P₁ − P₀)·(f̄(P₀) − level)/(f̄(P₀) − f̄(P₁))

(:func:`fplandscape.stats.crossing_info` on g = level − f̄), reported as α_c^input = P_c/N and
α_c^unit = P_c/(L·H). Its error is the standard error over samples of the per-sample crossings
P_c,ν (same formula on f_ν; :func:`fplandscape.stats.mean_se`), given when every sample's
curve is bracketed. ``status``: ``"interpolated"``, ``"below grid"`` (f̄ ≤ level already at
the smallest load: P_c < min P) or ``"above grid"`` (f̄ > level at every load: P_c > max P).
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Optional

import numpy as np

from .. import model, parallel
from .._version import __version__
from ..errors import InputError, check_count
from ..stats import crossing_info, mean_se
from .data import Dataset
from .network import Architecture, full_couplings, full_state, one_vs_all, readout_fields
from .rule import Plasticity
from .train import Schedule, inference_states, train

__all__ = ["CapacityResult", "capacity_vs_depth", "capacity_estimates", "association_outcome",
           "CRITERIA", "CAPACITY_RULE"]

#: the two criteria of an association (module docstring), as row columns ``<criterion>_fraction``
CRITERIA = ("stored", "recalled")

#: the default rule of the capacity studies: no weight decay (stop_when_stable is meaningful
#: only without it) and the rates as given (``lr_scale="none"``; paper_notes §10)
CAPACITY_RULE = Plasticity(weight_decay=0.0, lr_scale="none")

#: row columns that identify a setting (everything but the load, the sample and the outcome)
SETTING_COLUMNS = ("hidden", "layers", "n_in", "classes", "jd", "lam", "input_to", "lam_in",
                   "lam_back", "inter", "skip", "lr_j", "lr_in", "lr_out", "kappa_h",
                   "kappa_out", "weight_decay", "lr_scale", "batch", "steer", "free", "mode",
                   "epochs_max", "patience")


def _associations(n_in: int, classes: int, patterns: int, sample: int, seed: int = 0):
    """(x (P, N) float ±1, labels (P,)) of sample ``sample`` (module docstring: nested in P)."""
    xs = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(sample, 0)))
    ls = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(sample, 1)))
    x = 2.0 * xs.integers(0, 2, size=(patterns, n_in)) - 1.0
    return x, ls.integers(0, classes, size=patterns)


def _network_seed(sample: int, seed: int = 0) -> int:
    """The integer training seed of sample ``sample`` (couplings and training stream, see
    :func:`fplandscape.learn.train.seeds`): 63 bits of ``SeedSequence(seed, spawn_key=(sample,
    2))``."""
    state = np.random.SeedSequence(seed, spawn_key=(sample, 2)).generate_state(1, np.uint64)
    return int(state[0] >> np.uint64(1))


def association_outcome(x, labels, arch: Architecture, rule: Plasticity = CAPACITY_RULE,
                        schedule: Schedule = Schedule(), *, epochs: int,
                        patience: Optional[int] = None, seed: int = 0) -> dict:
    """Train ``arch`` on the associations (x, labels) to convergence (module docstring) and
    measure them: ``epochs`` (used), ``converged``, ``stalled``, ``stored_fraction``,
    ``recalled_fraction``. The one home of the stored/recalled computation (also behind
    :func:`fplandscape.learn.studies.hetero_capacity`)."""
    x = np.asarray(x, dtype=np.float64)
    labels = np.asarray(labels)
    data = Dataset("associations", x, labels, x[:0], labels[:0], arch.classes)
    res = train(data, arch, rule, schedule, epochs=epochs, seed=seed, stop_when_stable=True,
                patience=patience)
    net = res.network
    S = inference_states(net, x, schedule, seed=seed)
    y = one_vs_all(labels, arch.classes)
    fp = model.is_fixed_point(full_couplings(net, readout="free"),
                              full_state(x, S, y).astype(np.int8))
    recalled = np.argmax(readout_fields(net, S), axis=1) == labels   # = predict(...)
    last = res.history[-1] if res.history else None
    converged = bool(last is not None and last["hidden_unstable_fraction"] == 0
                     and last["readout_unstable_fraction"] == 0)
    return {"epochs": res.epochs, "converged": converged,
            "stalled": bool(not converged and res.epochs < epochs),
            "stored_fraction": float(np.mean(fp)), "recalled_fraction": float(np.mean(recalled))}


def _load_task(hidden, layers, patterns, sample, seed, n_in, classes, arch_kwargs, rule,
               schedule, epochs, patience):
    """One (H, L, P, sample) task of :func:`capacity_vs_depth`: its row."""
    t0 = time.perf_counter()
    x, labels = _associations(n_in, classes, patterns, sample, seed)
    arch = Architecture(n_in=n_in, hidden=hidden, classes=classes, layers=layers, **arch_kwargs)
    out = association_outcome(x, labels, arch, rule, schedule, epochs=epochs,
                              patience=patience, seed=_network_seed(sample, seed))
    return {"version": __version__, "seed": seed, "sample": sample, "hidden": hidden,
            "layers": layers, "n_in": n_in, "classes": classes, "jd": arch.jd, "lam": arch.lam,
            "input_to": arch.input_to, "lam_in": arch.lam_in, "lam_back": arch.lam_back,
            "inter": arch.inter, "skip": arch.skip, "lr_j": rule.lr_j, "lr_in": rule.lr_in,
            "lr_out": rule.lr_out, "kappa_h": rule.kappa_h, "kappa_out": rule.kappa_out,
            "weight_decay": rule.weight_decay, "lr_scale": rule.lr_scale,
            "batch": schedule.batch, "steer": schedule.steer, "free": schedule.free,
            "mode": schedule.mode, "epochs_max": epochs, "patience": patience,
            "patterns": patterns, "alpha_input": patterns / n_in,
            "alpha_unit": patterns / (layers * hidden), **out,
            "seconds": time.perf_counter() - t0}


@dataclass(frozen=True)
class CapacityResult:
    """Rows of :func:`capacity_vs_depth`: ``rows`` one per (H, L, P, sample) (the module
    docstring's columns), ``capacities`` one per (setting, criterion)
    (:func:`capacity_estimates`), ``info`` the run's parameters and wall time."""

    rows: list
    capacities: list
    info: dict = field(default_factory=dict)

    def as_rows(self) -> list:
        """Tidy rows for CSV: the ``kind = "load"`` rows, then the ``kind = "capacity"`` rows."""
        return ([{"kind": "load", **r} for r in self.rows]
                + [{"kind": "capacity", **r} for r in self.capacities])


def _ints(values, name, minimum=1) -> list:
    values = [values] if isinstance(values, (int, np.integer)) else list(values)
    if not values:
        raise InputError(f"{name} must not be empty")
    return [check_count(v, name, minimum=minimum) for v in values]


def capacity_vs_depth(hidden, patterns, layers=(1, 2, 3, 4), *, n_in: int = 100,
                      classes: int = 10, samples: int = 3, seed: int = 0, jd: float = 0.5,
                      lam: float = 1.0, arch_kwargs=None, rule: Plasticity = CAPACITY_RULE,
                      schedule: Schedule = Schedule(), epochs: int = 2000,
                      patience: Optional[int] = 100, level: float = 0.9, checkpoint=None,
                      resume: bool = False, workers=None, scheduler=None,
                      progress=False) -> CapacityResult:
    """Capacity versus depth (module docstring): one task per (H, L, P, sample ν) for H in
    ``hidden`` (an int or a list), L in ``layers``, P in ``patterns`` and ν < ``samples``,
    each trained to convergence (at most ``epochs`` epochs, ``patience``), then
    :func:`capacity_estimates` at ``level``.

    ``arch_kwargs``: further :class:`~fplandscape.learn.network.Architecture` fields
    (``input_to``, ``lam_in``, ``inter``, ``skip``, ...). The default ``rule`` has no weight
    decay and literal rates (:data:`CAPACITY_RULE`). Beyond the capacity the number of unstable
    units keeps falling slowly with large fluctuations, so a short ``patience`` stops too early
    and measures a lower bound (H = 100, L = 1, P = 200: stored 0.82 after stopping with
    patience 25, 0.975 after 1500 epochs; paper_notes §10): hence the defaults 100 and 2000.

    Parallel (:func:`fplandscape.parallel.run_study`, process workers): ``checkpoint``
    journals finished tasks, ``resume`` continues an interrupted run; the rows do not depend
    on ``workers``, ``scheduler``, ``progress`` or resuming (each task draws from its own
    seeds and rows are kept in task order; only ``seconds`` differs)."""
    hs = _ints(hidden, "hidden")
    ls = _ints(layers, "layers")
    ps = sorted(set(_ints(patterns, "patterns")))
    n_in = check_count(n_in, "n_in", minimum=1)
    classes = check_count(classes, "classes", minimum=2)
    samples = check_count(samples, "samples", minimum=1)
    seed = model.check_int_seed(seed)
    epochs = check_count(epochs, "epochs", minimum=1)
    if patience is not None:
        patience = check_count(patience, "patience", minimum=1)
    if not isinstance(level, (int, float)) or isinstance(level, bool) or not 0 < level < 1:
        raise InputError(f"level must lie in (0, 1), got {level!r}")
    if not isinstance(rule, Plasticity) or not isinstance(schedule, Schedule):
        raise InputError("rule must be a Plasticity and schedule a Schedule")
    kw = {"jd": jd, "lam": lam, **(arch_kwargs or {})}
    for H in hs:  # every architecture checked before any work
        for L in ls:
            Architecture(n_in=n_in, hidden=H, classes=classes, layers=L, **kw)
    workers = parallel.check_workers(workers)
    scheduler = parallel.check_scheduler(scheduler)
    t0 = time.perf_counter()
    tasks = [(H, L, P, v, seed, n_in, classes, kw, rule, schedule, epochs, patience)
             for H in hs for L in ls for P in ps for v in range(samples)]
    params = {"hidden": hs, "layers": ls, "patterns": ps, "n_in": n_in, "classes": classes,
              "samples": samples, "seed": seed, "architecture": {k: kw[k] for k in sorted(kw)},
              "plasticity": rule.as_dict(), "schedule": schedule.as_dict(), "epochs": epochs,
              "patience": patience}
    rows = parallel.run_study(_load_task, tasks, kind="learn-capacity", params=params,
                              checkpoint=checkpoint, resume=resume, workers=workers,
                              scheduler=scheduler, progress=progress, desc="capacity: loads",
                              backend="processes")
    info = {"version": __version__, **params, "level": level,
            "seconds": time.perf_counter() - t0}
    return CapacityResult(rows=rows, capacities=capacity_estimates(rows, level=level),
                          info=info)


def _crossing(ps, f, level):
    """(P_c or None, status) of a decreasing fraction curve f(P) at ``level``."""
    est, status, _ = crossing_info(ps, [level - v for v in f])
    if status == "interpolated":
        return est, status
    return None, ("below grid" if f[0] <= level else "above grid")


def capacity_estimates(rows, *, level: float = 0.9) -> list:
    """Capacity rows (module docstring) from load rows: one per setting (the
    :data:`SETTING_COLUMNS` of the rows, in order of first appearance) and criterion, with
    ``criterion``, ``level``, ``patterns_c`` = P_c, ``capacity_input`` = P_c/N,
    ``capacity_unit`` = P_c/(L·H), their standard errors over samples (``*_se``, None unless
    every sample's crossing is interpolated and there are ≥ 2), ``status``, ``samples``,
    ``samples_bracketed``, the loads ``patterns_min``/``patterns_max``, and the training
    effort: ``epochs_mean`` and ``epochs_max_used`` over all tasks of the setting and
    ``converged_fraction`` (fraction of tasks that converged)."""
    if not 0 < level < 1:
        raise InputError(f"level must lie in (0, 1), got {level!r}")
    groups: dict = {}
    for r in rows:
        key = tuple(r.get(c) for c in SETTING_COLUMNS)
        groups.setdefault(key, []).append(r)
    out = []
    for key, rs in groups.items():
        setting = dict(zip(SETTING_COLUMNS, key))
        ps = sorted({r["patterns"] for r in rs})
        samples = sorted({r["sample"] for r in rs})
        cell = {(r["patterns"], r["sample"]): r for r in rs}
        L, H, N = setting["layers"], setting["hidden"], setting["n_in"]
        for crit in CRITERIA:
            col = f"{crit}_fraction"
            fbar = [float(np.mean([cell[(P, v)][col] for v in samples if (P, v) in cell]))
                    for P in ps]
            pc, status = _crossing(ps, fbar, level)
            per = []
            for v in samples:
                if all((P, v) in cell for P in ps):
                    c, st = _crossing(ps, [cell[(P, v)][col] for P in ps], level)
                    if st == "interpolated":
                        per.append(c)
            _, se = mean_se(per) if len(per) == len(samples) else (None, None)
            out.append({"version": __version__, "seed": rs[0].get("seed"), **setting,
                        "criterion": crit, "level": level, "patterns_c": pc,
                        "capacity_input": None if pc is None else pc / N,
                        "capacity_unit": None if pc is None else pc / (L * H),
                        "capacity_input_se": None if se is None else se / N,
                        "capacity_unit_se": None if se is None else se / (L * H),
                        "status": status, "samples": len(samples),
                        "samples_bracketed": len(per), "patterns_min": ps[0],
                        "patterns_max": ps[-1],
                        "epochs_mean": float(np.mean([r["epochs"] for r in rs])),
                        "epochs_max_used": int(max(r["epochs"] for r in rs)),
                        "converged_fraction": float(np.mean([r["converged"] for r in rs]))})
    return out
