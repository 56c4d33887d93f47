"""Fixed-feature baselines (docs/learning.md#baselines): only a readout is trained.

* ``random-recurrent`` — the network of :func:`fplandscape.learn.network.init_network` (same
  seed, so the same initial couplings as the learning run, with the same input wiring
  ``input_to``) with J, W^in frozen: features = the hidden state of the last module after free
  relaxation without feedback (warm-up + ``eval_sweeps`` sweeps), exactly the state the learned
  network is evaluated on.
* ``random-features`` — no recurrence: features = sign(λ_in W^{in,0} x) (sign(0) = +1), the
  random projection of module 0 alone (= the warm-up sweep of a one-module network; the same
  for both input wirings, since W^{in,0} does not depend on ``input_to``).
* ``perceptron`` — a linear readout on the ±1 input x itself.

The readout W ∈ R^{C×D} (init N(0, 1)/√D from the couplings stream) is trained with the readout
part of the plasticity rule (:mod:`fplandscape.learn.rule`): for every output with
y_c h_c ≤ κ_out, ΔW_c = η_out/√B Σ_b y_c f, then W ← (1 − η_out γ) W; batches of ``batch``
in a fresh random order per epoch (training stream of :func:`fplandscape.learn.train.seeds`);
prediction argmax_c h_c. Features are computed once (they are fixed).
"""
from __future__ import annotations

import math
import time

import numpy as np

from .. import model
from .._version import __version__
from ..errors import InputError, check_count, check_choice
from ..blas import single_thread
from .data import Dataset
from .network import Architecture, init_network, input_field, one_vs_all, relax
from .rule import Plasticity
from .train import Schedule, TrainResult, seeds

__all__ = ["BASELINES", "features", "train_readout", "run_baseline"]

BASELINES = ("random-recurrent", "random-features", "perceptron")


def features(kind: str, net, x, schedule: Schedule = Schedule()) -> np.ndarray:
    """The fixed features of a baseline (module docstring), float64 ±1, B × D."""
    check_choice(kind, "baseline", BASELINES)
    x = np.asarray(x, dtype=np.float64)
    if kind == "perceptron":
        return x
    if kind == "random-features":
        return model.sign_update(input_field(net, x)[0]).astype(np.float64)
    out = []                                        # random-recurrent
    for lo in range(0, x.shape[0], 1000):
        out.append(relax(net, x[lo:lo + 1000], free=schedule.t_eval)[-1])
    return np.concatenate(out) if out else np.zeros((0, net.arch.hidden))


def train_readout(f_train, y_train, f_test, y_test, classes: int, *, epochs: int, rng_init,
                  rng_train, rule: Plasticity = Plasticity(), batch: int = 16):
    """Margin-perceptron readout on fixed features (module docstring). Returns (W, rows)."""
    D = f_train.shape[1]
    W = model.as_generator(rng_init).standard_normal((classes, D)) / math.sqrt(D)
    rows = []
    M = f_train.shape[0]
    eta = rule.applied(rule.lr_out, D)
    for epoch in range(1, epochs + 1):
        t0 = time.perf_counter()
        perm = rng_train.permutation(M)
        unstable = 0
        for lo in range(0, M, batch):
            idx = perm[lo:lo + batch]
            f, y = f_train[idx], one_vs_all(y_train[idx], classes)
            m = y * (f @ W.T) <= rule.kappa_out
            unstable += int(m.sum())
            W += (eta / math.sqrt(idx.size)) * (np.where(m, y, 0.0).T @ f)
            W *= 1.0 - eta * rule.weight_decay
        seconds = time.perf_counter() - t0
        acc = [float(np.mean(np.argmax(ff @ W.T, axis=1) == yy)) if yy.size else float("nan")
               for ff, yy in ((f_train, y_train), (f_test, y_test))]
        rows.append({"epoch": epoch, "train_accuracy": acc[0], "test_accuracy": acc[1],
                     "readout_unstable_fraction": unstable / (M * classes), "seconds": seconds,
                     "samples_per_second": M / seconds if seconds > 0 else float("nan")})
    return W, rows


def run_baseline(kind: str, data: Dataset, arch: Architecture, rule: Plasticity = Plasticity(),
                 schedule: Schedule = Schedule(), *, epochs: int, seed: int = 0) -> TrainResult:
    """Train a baseline's readout on ``data``; a :class:`TrainResult` whose ``network`` holds the
    frozen couplings (readout W^out replaced by the trained one for the recurrent kinds)."""
    check_choice(kind, "baseline", BASELINES)
    epochs = check_count(epochs, "epochs")
    if data.n_in != arch.n_in or data.classes != arch.classes:
        raise InputError(f"the data have N = {data.n_in} inputs and {data.classes} classes, the "
                         f"architecture N = {arch.n_in} and C = {arch.classes}")
    init_ss, train_ss = seeds(seed)
    out_ss = train_ss.spawn(1)[0]
    net = init_network(arch, init_ss)
    with single_thread():
        t0 = time.perf_counter()
        ftr = features(kind, net, data.x_train, schedule)
        fte = features(kind, net, data.x_test, schedule)
        feat_seconds = time.perf_counter() - t0
        rng = np.random.Generator(np.random.PCG64(train_ss))
        W, rows = train_readout(ftr, data.y_train, fte, data.y_test, arch.classes,
                                epochs=epochs, rng_init=np.random.default_rng(out_ss),
                                rng_train=rng, rule=rule, batch=schedule.batch)
    if kind != "perceptron":
        net.W_out = W
    params = {"seed": int(seed), "dataset": data.name, "baseline": kind, "n_in": arch.n_in,
              "hidden": arch.hidden if kind != "perceptron" else 0, "layers": arch.layers,
              "input_to": arch.input_to, "jd": arch.jd, "lam": arch.lam,
              "n_train": int(data.x_train.shape[0]), "n_test": int(data.x_test.shape[0]),
              "feature_seconds": feat_seconds}
    history = [{"version": __version__, **params, **r} for r in rows]
    M = data.x_train.shape[0]
    secs = [r["seconds"] for r in rows]
    last = rows[-1] if rows else {"train_accuracy": float("nan"), "test_accuracy": float("nan")}
    return TrainResult(network=net, history=history, train_accuracy=last["train_accuracy"],
                       test_accuracy=last["test_accuracy"], epochs=len(rows),
                       seconds_per_epoch=float(np.mean(secs)) if secs else float("nan"),
                       samples_per_second=float(M * len(secs) / sum(secs)) if secs and sum(secs)
                       else float("nan"), params=params)
