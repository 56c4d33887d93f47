"""Studies of the learning rule as tidy rows (one flat dict per point, with version, seed and
parameters) for the figures.

* :func:`accuracy_vs_epochs` — the per-epoch history of one run.
* :func:`accuracy_vs` — final accuracies over a grid of one architecture parameter, with the
  named wrappers :func:`accuracy_vs_hidden` (H), :func:`accuracy_vs_jd` (J_D) and
  :func:`accuracy_vs_lambda` (λ at J_D = 0 with two modules, the reference ablation of
  docs/learning.md#reference-results; the input wiring is ``arch.input_to``, default ``"all"``).
* :func:`hetero_capacity` — hetero-association capacity: P random inputs x ∈ {±1}^N with random
  labels (one-vs-all output codes y ∈ {±1}^C) are trained (no weight decay) until an epoch has
  no unstable unit or ``epochs`` run out; an association counts as *stored* when free
  relaxation from x (inference dynamics) ends in a strict fixed point of the whole network with
  the readout free and equal to y (``model.is_fixed_point`` on
  :func:`~fplandscape.learn.network.full_couplings`, float64 from scratch), and as *recalled*
  when the argmax prediction is the label. Rows per (L, P) with α = P / (L·H). Within a fixed
  epoch budget; trained to convergence, several samples, capacities per input dimension and
  per hidden unit: :mod:`fplandscape.learn.capacity` (the one home of the computation).
* :func:`fixed_point_stats` — fixed-point statistics of a trained network on examples: for the
  states after training presentations and after free relaxation, the fraction that are strict
  fixed points of the hidden dynamics without feedback, of the whole network (readout = target
  code), the hidden and readout margins (min stability; hidden margins are reported net of
  J_D: min_i Δ_i − J_D, to compare with κ_h) and the mean stability.
"""
from __future__ import annotations

from dataclasses import replace

import numpy as np

from .. import model
from .._version import __version__
from ..errors import InputError
from .data import Dataset
from .network import Architecture, Network, full_couplings, full_state, one_vs_all
from .rule import Plasticity
from .capacity import association_outcome
from .train import Schedule, inference_states, presentation_states, train

__all__ = ["accuracy_vs_epochs", "accuracy_vs", "accuracy_vs_hidden", "accuracy_vs_jd",
           "accuracy_vs_lambda", "hetero_capacity", "fixed_point_stats"]


def accuracy_vs_epochs(data: Dataset, arch: Architecture, rule: Plasticity = Plasticity(),
                       schedule: Schedule = Schedule(), *, epochs: int, seed: int = 0) -> list:
    """One row per epoch (train/test accuracy, unstable fractions, timing)."""
    return train(data, arch, rule, schedule, epochs=epochs, seed=seed).history


def accuracy_vs(param: str, values, data: Dataset, arch: Architecture,
                rule: Plasticity = Plasticity(), schedule: Schedule = Schedule(), *,
                epochs: int, seed: int = 0) -> list:
    """Final accuracies of one run per value of the architecture field ``param``."""
    if param not in Architecture.__dataclass_fields__ or param == "n_in":
        raise InputError(f"param must be a field of Architecture other than n_in, got {param!r}")
    rows = []
    for v in values:
        res = train(data, replace(arch, **{param: v}), rule, schedule, epochs=epochs, seed=seed)
        rows.append({**res.summary(), "param": param, "value": v})
    return rows


def accuracy_vs_hidden(data, hidden_values, arch=None, rule=Plasticity(), schedule=Schedule(), *,
                       epochs, seed=0):
    arch = arch or Architecture(n_in=data.n_in, hidden=100, classes=data.classes)
    return accuracy_vs("hidden", hidden_values, data, arch, rule, schedule, epochs=epochs, seed=seed)


def accuracy_vs_jd(data, jd_values, arch=None, rule=Plasticity(), schedule=Schedule(), *, epochs,
                   seed=0):
    arch = arch or Architecture(n_in=data.n_in, hidden=100, classes=data.classes)
    return accuracy_vs("jd", jd_values, data, arch, rule, schedule, epochs=epochs, seed=seed)


def accuracy_vs_lambda(data, lam_values, arch=None, rule=Plasticity(), schedule=Schedule(), *,
                       epochs, seed=0):
    """λ scan at J_D = 0 with two modules (the reference study's ablation), unless ``arch`` says
    otherwise."""
    arch = arch or Architecture(n_in=data.n_in, hidden=100, classes=data.classes, layers=2,
                                jd=0.0)
    return accuracy_vs("lam", lam_values, data, arch, rule, schedule, epochs=epochs, seed=seed)


def _stats(net: Network, x, S, labels, what: str, kappa_h: float) -> dict:
    y = one_vs_all(labels, net.arch.classes)
    Jf = full_couplings(net, feedback=False, readout="free")
    full = full_state(x, S, y).astype(np.int8)
    st = model.stabilities(Jf, full)
    ok = model.stable_mask(Jf, full)   # exact strict stability (st holds the float values)
    n0 = net.arch.n_in + 1
    nh = net.arch.layers * net.arch.hidden
    hid, out = st[:, n0:n0 + nh], st[:, n0 + nh:]
    return {"states": what, "examples": int(x.shape[0]),
            "fixed_point_hidden": float(np.mean(np.all(ok[:, n0:n0 + nh], axis=1))),
            "fixed_point_full": float(np.mean(np.all(ok, axis=1))),
            "hidden_margin_mean": float(np.mean(hid.min(axis=1) - net.arch.jd)),
            "hidden_margin_min": float(hid.min() - net.arch.jd),
            "readout_margin_mean": float(np.mean(out.min(axis=1))),
            "mean_stability_hidden": float(hid.mean()),
            "fraction_hidden_below_kappa": float(np.mean(hid <= net.arch.jd + kappa_h))}


def fixed_point_stats(net: Network, x, labels, schedule: Schedule = Schedule(), *,
                      rule: Plasticity = Plasticity(), seed: int = 0) -> list:
    """Fixed-point statistics (module docstring) of ``net`` on examples (x, labels): one row for
    the presentation states (steered + free phases) and one for the free-relaxation states."""
    x = np.asarray(x, dtype=np.float64)
    labels = np.asarray(labels)
    rng = np.random.default_rng(seed)
    rows = []
    for what, S in (("presentation", presentation_states(net, x, labels, schedule, rng=rng,
                                                         async_seed=seed)),
                    ("free", inference_states(net, x, schedule, seed=seed))):
        r = _stats(net, x, S, labels, what, rule.kappa_h)
        rows.append({"version": __version__, "seed": seed, "hidden": net.arch.hidden,
                     "layers": net.arch.layers, "input_to": net.arch.input_to, "jd": net.arch.jd,
                     "lam": net.arch.lam, **r})
    return rows


def hetero_capacity(hidden: int, patterns, layers=(1,), *, n_in: int = 100, classes: int = 10,
                    jd: float = 0.5, lam: float = 1.0, epochs: int = 100, seed: int = 0,
                    rule: Plasticity = Plasticity(weight_decay=0.0, lr_scale="none"),
                    schedule: Schedule = Schedule(), arch_kwargs=None) -> list:
    """Hetero-association capacity (module docstring): one row per (layers L, patterns P).

    Pattern set P uses ``default_rng(SeedSequence(seed, spawn_key=(P,)))`` for its inputs and
    labels; the network seed is ``seed``. The default rule has no weight decay and applies the
    rates as given (``lr_scale="none"``, steps √H resp. √N larger than the default units): the
    capacity is a property of the network, the step size only sets how many epochs the
    perceptron-like rule needs, and with the fan-in units 40 epochs do not converge already at
    α = 0.5 (H = 100). The readout reads module L−1; the input reaches
    every module by default (``input_to="all"``). With ``arch_kwargs={"input_to": "first"}`` it
    enters module 0 only, and then with L > 1 the modules must be coupled (λ > 0, default 1, or
    ``"inter": True``): with λ = 0 and no inter-module couplings the last module never sees the
    input. A fixed epoch budget on one pattern set per load: the capacity study trained to
    convergence, with several samples and both normalisations, is
    :func:`fplandscape.learn.capacity.capacity_vs_depth` (whose
    :func:`~fplandscape.learn.capacity.association_outcome` computes each row here).
    """
    rows = []
    for L in layers:
        for P in patterns:
            if isinstance(P, bool) or not isinstance(P, (int, np.integer)) or P < 1:
                raise InputError(f"patterns must be positive integers, got {P!r}")
            rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(int(P),)))
            x = 2.0 * rng.integers(0, 2, size=(P, n_in)) - 1.0
            lab = rng.integers(0, classes, size=P)
            arch = Architecture(n_in=n_in, hidden=hidden, classes=classes, layers=L, jd=jd,
                                lam=lam, **(arch_kwargs or {}))
            out = association_outcome(x, lab, arch, rule, schedule, epochs=epochs, seed=seed)
            rows.append({"version": __version__, "seed": seed, "hidden": hidden, "layers": L,
                         "input_to": arch.input_to,
                         "n_in": n_in, "classes": classes, "jd": jd, "lam": lam, "patterns": P,
                         "alpha": P / (L * hidden), "epochs": out["epochs"],
                         "converged": out["converged"],
                         "stored_fraction": out["stored_fraction"],
                         "recalled_fraction": out["recalled_fraction"]})
    return rows
