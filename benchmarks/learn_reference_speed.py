"""Time per epoch of :func:`fplandscape.learn.train` in the reference setting of the λ study
(``lambda_study.setting("reference")``: two modules, ``Schedule.reference(2)`` —
``warmup="all"``, ``feedback_from="readout"``, update probability 0.85 — and
``Plasticity.reference(λ)``), with a profile of one epoch: warm-up, steered phase, free phase,
plasticity, the rest (batching, permutation, one-vs-all codes), and the evaluation.

``OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 python benchmarks/learn_reference_speed.py
--hidden 400 [--dataset fashion --n-train 2000] [--dense] [--eval]``

``--dense``: the plain dense loops of the warm-up and of the steered phase
(:func:`fplandscape.learn.sweeps.dense_warmup_all`,
:func:`~fplandscape.learn.sweeps.dense_readout_steer`, the code before the incremental
kernels) instead of the incremental ones (the free phase too: with the reference schedule it
runs in the same kernel call as the steered one).
Printed: one line per epoch (seconds, the profile), the extrapolation to 60k examples per epoch
and to a full run (``--full-epochs``, default 30; with ``--eval`` the evaluation of 60k + 10k
examples after every epoch included), the machine load and a checksum of the final couplings
(the same with and without ``--dense``, and for the code before the kernels: run this script
with ``PYTHONPATH`` pointing at an older tree).
"""
from __future__ import annotations

import argparse
import os
import time

import numpy as np


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--dataset", default="emnist5k")
    ap.add_argument("--n-train", type=int, default=None)
    ap.add_argument("--hidden", type=int, default=400)
    ap.add_argument("--lam", type=float, default=3.0)
    ap.add_argument("--lam-in", type=float, default=5.0)
    ap.add_argument("--epochs", type=int, default=1)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--dense", action="store_true")
    ap.add_argument("--eval", action="store_true", help="also time the evaluation")
    ap.add_argument("--full-epochs", type=int, default=30)
    ap.add_argument("--full-train", type=int, default=60000)
    ap.add_argument("--full-test", type=int, default=10000)
    args = ap.parse_args(argv)

    import importlib

    from fplandscape.learn import data as data_mod, network, sweeps
    train_mod = importlib.import_module("fplandscape.learn.train")
    from fplandscape.learn.lambda_study import setting

    data = data_mod.load_dataset(args.dataset)
    if args.n_train:
        data = data_mod.Dataset(data.name, data.x_train[:args.n_train],
                                data.y_train[:args.n_train], data.x_test[:args.n_train // 5],
                                data.y_test[:args.n_train // 5], data.classes, data.info)
    arch, rule, sched = setting("reference", data, hidden=args.hidden, lam=args.lam,
                                lam_in=args.lam_in)
    prof = {}
    state = {"eval": False}

    def timed(name, f):
        def g(*a, **k):
            t0 = time.perf_counter()
            try:
                return f(*a, **k)
            finally:
                key = ("eval-" if state["eval"] else "") + name
                prof[key] = prof.get(key, 0.0) + time.perf_counter() - t0
        return g

    if args.dense:
        for name in ("warmup_all", "readout_steer"):
            if hasattr(sweeps, name):
                setattr(sweeps, name, getattr(sweeps, "dense_" + name))
    for name, label in (("warmup_all", "warm-up"), ("readout_steer", "steered + free")):
        if hasattr(sweeps, name):
            setattr(sweeps, name, timed(label, getattr(sweeps, name)))
    network._warmup = timed("warm-up(all _warmup)", network._warmup)
    sweeps.sync_phase = timed("free", sweeps.sync_phase)
    train_mod.relax = timed("relax", train_mod.relax)
    train_mod.plasticity_step = timed("plasticity", train_mod.plasticity_step)
    ev = train_mod.evaluate

    def evaluate(*a, **k):
        if not args.eval:
            return float("nan")
        state["eval"] = True
        try:
            return ev(*a, **k)
        finally:
            state["eval"] = False
    train_mod.evaluate = evaluate

    M = data.x_train.shape[0]
    print(f"# {os.uname().nodename} load {os.getloadavg()} OMP={os.environ.get('OMP_NUM_THREADS')}"
          f" OPENBLAS={os.environ.get('OPENBLAS_NUM_THREADS')}")
    print(f"# {data.name} M={M} H={args.hidden} L=2 λ={args.lam} λ_in={args.lam_in} "
          f"{'dense' if args.dense else 'incremental'} warm-up/steer; schedule {sched}")
    res = train_mod.train(data, arch, rule, sched, epochs=args.epochs, seed=args.seed,
                          progress=False)
    for row in res.history:
        print(f"epoch {row['epoch']}: {row['seconds']:.2f} s train, "
              f"{row['eval_seconds']:.2f} s eval, test acc {row['test_accuracy']}")
    E = args.epochs
    sec = res.seconds_per_epoch
    relax_t = prof.get("relax", 0.0) / E
    parts = {k: v / E for k, v in prof.items() if k != "relax" and not k.startswith("eval-")}
    parts.pop("warm-up(all _warmup)", None) if "warm-up" in parts else None
    if "steered + free" not in parts:  # the steered loop inline in relax (code before the kernel)
        parts["steered"] = relax_t - parts.get("warm-up(all _warmup)", 0.0) - parts.get("free", 0)
        parts["warm-up"] = parts.pop("warm-up(all _warmup)", 0.0)
    parts["other"] = sec - relax_t - parts.get("plasticity", 0.0)
    print("profile per epoch (s):", ", ".join(f"{k} {v:.2f} ({100 * v / sec:.0f} %)"
                                             for k, v in sorted(parts.items())))
    per60 = sec * args.full_train / M
    line = f"per epoch at {args.full_train}: {per60:.0f} s train"
    full = per60
    if args.eval:
        evs = float(np.mean([r["eval_seconds"] for r in res.history]))
        n_eval = M + data.x_test.shape[0]
        ev60 = evs * (args.full_train + args.full_test) / n_eval
        line += f" + {ev60:.0f} s eval"
        full += ev60
        print("eval profile per epoch (s):", ", ".join(
            f"{k[5:]} {v / E:.2f}" for k, v in sorted(prof.items())
            if k.startswith("eval-")
            and not (k == "eval-warm-up(all _warmup)" and "eval-warm-up" in prof)))
    print(line + f"; full run ({args.full_epochs} epochs): {full * args.full_epochs / 3600:.2f} h")
    print(f"# load after {os.getloadavg()}")
    print("checksum", float(sum(np.sum(a) for a in res.network.arrays().values())))


if __name__ == "__main__":
    main()
