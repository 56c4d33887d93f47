"""Benchmark of the hierarchy probe (issue 17, item 2; :func:`fplandscape.learn.probe.hierarchy`):
do later modules of a network trained by steering its dynamics become more class-selective?

Usage::

    python benchmarks/learn_probe.py [--dataset emnist5k|fashion] [--layers 2 3] [--hidden 100]
                                     [--epochs 10] [--samples 3] [--seed 0]
                                     [--configs default coupled reference] [--json PATH]

Defaults: emnist5k (4000 / 1000), L = 2 and 3, H = 100, 10 epochs, 3 networks (seeds 0, 1, 2);
``--dataset fashion`` (60k / 10k) defaults to L = 2, 5 epochs, 2 networks. Wirings
(``--configs``):

* ``default`` — the library defaults (``fplandscape learn --layers L``): every module has its
  own input projection, λ = 0 (the modules are not coupled to each other), feedback into and
  readout from the last module only;
* ``coupled`` — the same with the one-to-one coupling λ = 2.5 between neighbouring modules;
* ``reference`` — the reference code's multi-module wiring: skip connections (feedback into and
  readout from every module), per-unit update probability 0.85 in training, λ = 2.5;
* ``serial`` — a chain: the input enters module 0 only (``input_to="first"``), λ = 2.5, so
  module l sees the input only through module l − 1;
* ``serial-inter`` — the same chain through learnable dense couplings K between neighbouring
  modules (``inter=True``, λ = 0).

For each wiring, L and module (module −1 = the input x): linear-probe test accuracy (ridge
least squares fitted on the training set), class separability (centroid distance / within-class
distance), participation ratio (PR) of the test representations, linear CKA with the previous
module, mean |correlation| of corresponding units of consecutive modules, mean |magnetisation|
of the units, fraction of states that
are fixed points, and the network's own test accuracy — means over the networks (± standard
error in the JSON), untrained and trained. One worker (the machine is shared); the exit status is
0 whatever the numbers.
"""
from __future__ import annotations

import argparse
import json
import sys
import time

from fplandscape.cli.common import format_table
from fplandscape.learn import Schedule, load_dataset
from fplandscape.learn.probe import hierarchy
from fplandscape.provenance import benchmark_header

CONFIGS = {
    "default": ({}, {}),
    "coupled": ({"lam": 2.5}, {}),
    "reference": ({"lam": 2.5, "skip": True}, {"update_prob": 0.85}),
    "serial": ({"input_to": "first", "lam": 2.5}, {}),
    "serial-inter": ({"input_to": "first", "inter": True}, {}),
}
COLUMNS = ["layers", "trained", "module_name", "probe_test_accuracy", "probe_test_accuracy_se",
           "separability", "participation_ratio", "cka_prev", "unit_corr_prev", "magnetisation",
           "stable_fraction", "test_accuracy", "samples"]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--dataset", default="emnist5k", choices=["emnist5k", "fashion"])
    ap.add_argument("--layers", type=int, nargs="+", default=None)
    ap.add_argument("--hidden", type=int, default=100)
    ap.add_argument("--epochs", type=int, default=None)
    ap.add_argument("--samples", type=int, default=None)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--configs", nargs="+", choices=list(CONFIGS), default=list(CONFIGS))
    ap.add_argument("--json", metavar="PATH", default=None, help="write all rows to PATH")
    args = ap.parse_args(argv)
    fashion = args.dataset == "fashion"
    layers = args.layers or ([2] if fashion else [2, 3])
    epochs = args.epochs if args.epochs is not None else (5 if fashion else 10)
    samples = args.samples or (2 if fashion else 3)
    print(benchmark_header("learn_probe"))
    data = load_dataset(args.dataset)
    print(f"{data.name}: {data.x_train.shape[0]} train / {data.x_test.shape[0]} test, "
          f"H = {args.hidden}, L = {layers}, {epochs} epochs, {samples} network(s) from seed "
          f"{args.seed}; means over the networks\n")
    out = {}
    for name in args.configs:
        arch_kwargs, sched_kwargs = CONFIGS[name]
        t0 = time.perf_counter()
        res = hierarchy(data, layers, hidden=args.hidden, epochs=epochs, seed=args.seed,
                        samples=samples, arch_kwargs=arch_kwargs,
                        schedule=Schedule(**sched_kwargs), workers=1, progress=False)
        secs = time.perf_counter() - t0
        print(f"== {name}: {arch_kwargs or 'library defaults'}, schedule {sched_kwargs or '-'} "
              f"({secs:.0f} s)")
        print(format_table(res.summary(), COLUMNS))
        print(flush=True)
        out[name] = {"rows": res.as_rows(), "summary": res.summary(), "seconds": secs,
                     "params": res.params}
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(out, fh, default=float)
        print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
