"""λ instead of J_D: two modules at J_D = 0 coupled one-to-one by λ, against one module with a
self-coupling (docs/learning.md#reference-results; the reference code's λ experiment).

The claim: without self-coupling (J_D = 0) one module does not learn, but two modules coupled by
excitatory one-to-one couplings λ between corresponding units (a "cortex-inspired alternative"
to the self-coupling) learn again, for λ ≳ 2.5.

**Settings** (``setting="reference"``, default): those of the reference code's experiment
(``configs/lambda_advantage.yaml``), reproduced block by block (tests/test_learn_reference.py):

* architecture: L = 2 modules of H units, J_D = 0, one-to-one coupling λ, input strength λ_in
  into both modules (``input_to="all"``), feedback λ_back = 0.9 into both modules and readout
  from both (``skip=True``), scaled feedback code;
* schedule :meth:`~fplandscape.learn.train.Schedule.reference`: 7 sweeps with the feedback on,
  the first L of them the warm-up that updates every module at once, the feedback driven by the
  readout state; then 7 free sweeps; update probability 0.85 per unit and sweep in training;
  batch 16;
* plasticity :meth:`~fplandscape.learn.rule.Plasticity.reference`: hidden margin κ_h = 0.9 + λ on
  top of J_D (the reference's threshold 0.9 + J_D + λ), the reference's readout code, no decay
  of W^in; rates and the other margins the defaults.

``setting="ours"``: the same architecture and plasticity margin with our default schedule
(front warm-up, feedback from the target, 5 + 5 sweeps) and plasticity — what the toolkit
reported before the reference schedule was matched.

**The comparison** (``one_module=True``): one module with J_D = ``jd_one`` (default 0.5) and
the default protocol (:class:`~fplandscape.learn.network.Architecture` defaults, default
schedule and plasticity), the level λ should reach.

Every run is one task of :func:`fplandscape.parallel.run_study` (resumable; the rows do not
depend on ``workers``): train for ``epochs`` epochs with seed s, then report the final train and
test accuracy and the best test accuracy over the epochs (the reference plots both final and
max).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Optional

from .. import model, parallel
from .._version import __version__
from ..errors import InputError, check_count, check_choice
from ..stats import mean_se
from .data import Dataset
from .network import Architecture
from .rule import Plasticity
from .train import Schedule, data_fingerprint, train

__all__ = ["LambdaStudy", "lambda_advantage", "SETTINGS", "setting"]

SETTINGS = ("reference", "ours")


def setting(name: str, data: Dataset, *, hidden: int, lam: float, lam_in: float,
            jd: float = 0.0, layers: int = 2) -> tuple:
    """(Architecture, Plasticity, Schedule) of a two-module run in setting ``name`` (module
    docstring)."""
    check_choice(name, "setting", SETTINGS)
    arch = Architecture(n_in=data.n_in, hidden=hidden, classes=data.classes, layers=layers,
                        jd=jd, lam=lam, lam_in=lam_in, lam_back=0.9, skip=True,
                        input_to="all")
    if name == "reference":
        return arch, Plasticity.reference(lam), Schedule.reference(layers)
    return arch, Plasticity(kappa_h=0.9 + lam), Schedule(update_prob=0.85)


def _run(kind, data, hidden, lam, lam_in, jd, seed, epochs, name):
    if kind == "one":
        arch = Architecture(n_in=data.n_in, hidden=hidden, classes=data.classes, jd=jd,
                            lam_in=lam_in)
        rule, sched = Plasticity(), Schedule()
    else:
        arch, rule, sched = setting(name, data, hidden=hidden, lam=lam, lam_in=lam_in, jd=jd)
    res = train(data, arch, rule, sched, epochs=epochs, seed=seed, progress=False)
    tests = [r["test_accuracy"] for r in res.history if not math.isnan(r["test_accuracy"])]
    return {"version": __version__, "seed": int(seed), "dataset": data.name,
            "n_train": int(data.x_train.shape[0]), "hidden": hidden,
            "layers": arch.layers, "jd": jd, "lam": lam if kind == "two" else 0.0,
            "lam_in": lam_in, "setting": name if kind == "two" else "one-module",
            "epochs": res.epochs, "train_accuracy": res.train_accuracy,
            "test_accuracy": res.test_accuracy,
            "max_test_accuracy": float(max(tests)) if tests else float("nan"),
            "seconds_per_epoch": res.seconds_per_epoch}


@dataclass(frozen=True)
class LambdaStudy:
    """Runs of the λ study (one row per run) and their summary per parameter point."""

    runs: list
    params: dict = field(default_factory=dict)

    def as_rows(self) -> list:
        """One row per run (copies)."""
        return [dict(r) for r in self.runs]

    def summary(self) -> list:
        """One row per (setting, λ, λ_in): mean and standard error over the samples (seeds) of
        the final and the best test accuracy, SE = SD/√n (NaN for one sample)."""
        groups: dict = {}
        for r in self.runs:
            groups.setdefault((r["setting"], r["lam"], r["lam_in"], r["jd"]), []).append(r)
        out = []
        for (name, lam, lam_in, jd), rs in groups.items():
            row = {"version": __version__, "setting": name, "lam": lam, "lam_in": lam_in,
                   "jd": jd, "layers": rs[0]["layers"], "hidden": rs[0]["hidden"],
                   "dataset": rs[0]["dataset"], "epochs": rs[0]["epochs"], "samples": len(rs)}
            for key in ("test_accuracy", "max_test_accuracy"):
                mean, se = mean_se([r[key] for r in rs])
                row[key], row[key + "_se"] = mean, float("nan") if se is None else se
            out.append(row)
        return out


def lambda_advantage(data: Dataset, lam_values, *, lam_in_values=(2.0, 5.0), samples: int = 3,
                     seed: int = 0, hidden: int = 100, epochs: int = 10, jd: float = 0.0,
                     settings=("reference",), one_module: bool = True, jd_one: float = 0.5,
                     checkpoint=None, resume: bool = False, workers: Optional[int] = None,
                     scheduler=None, progress: Optional[bool] = None) -> LambdaStudy:
    """The λ study (module docstring): for every setting in ``settings``, λ in ``lam_values``,
    λ_in in ``lam_in_values`` and training seed s = ``seed`` … ``seed + samples − 1`` one
    two-module run at self-coupling ``jd``; with ``one_module`` also one one-module run per
    λ_in and s at J_D = ``jd_one``. Returns a :class:`LambdaStudy` (``summary()``: mean ± SE
    over the samples)."""
    hidden = check_count(hidden, "hidden", minimum=1)
    epochs = check_count(epochs, "epochs", minimum=1)
    for name in settings:
        check_choice(name, "setting", SETTINGS)
    lam_values = [float(v) for v in lam_values]
    lam_in_values = [float(v) for v in lam_in_values]
    if not lam_values or any(not math.isfinite(v) or v < 0 for v in lam_values):
        raise InputError(f"lambda values must be finite and ≥ 0, got {lam_values}")
    if not lam_in_values or any(not math.isfinite(v) for v in lam_in_values):
        raise InputError(f"lambda_in values must be finite, got {lam_in_values}")
    samples = check_count(samples, "samples", minimum=1)
    seeds = list(range(model.check_int_seed(seed), model.check_int_seed(seed) + samples))
    tasks = [("two", data, hidden, lam, lam_in, float(jd), s, epochs, name)
             for name in settings for lam in lam_values for lam_in in lam_in_values
             for s in seeds]
    if one_module:
        tasks += [("one", data, hidden, 0.0, lam_in, float(jd_one), s, epochs, "one-module")
                  for lam_in in lam_in_values for s in seeds]
    params = {"data": data_fingerprint(data), "dataset": data.name, "hidden": hidden,
              "epochs": epochs, "jd": float(jd), "jd_one": float(jd_one),
              "lam_values": lam_values, "lam_in_values": lam_in_values, "seed": seeds[0],
              "samples": samples,
              "settings": list(settings), "one_module": bool(one_module)}
    runs = parallel.run_study(_run, tasks, kind="learn-lambda", params=params,
                              checkpoint=checkpoint, resume=resume, workers=workers,
                              scheduler=scheduler, progress=progress, desc="lambda runs",
                              backend="processes")
    return LambdaStudy(runs=list(runs), params={"version": __version__, **params})
