"""Benchmark: hetero-association capacity versus depth (issue 17 item 1,
:func:`fplandscape.learn.capacity.capacity_vs_depth`).

P random ±1 inputs (N = 100) with random labels (C = 10), L = 1…4 modules of H units, each load
trained to convergence (stop after an epoch without unstable units, or when the number of
unstable units has not improved for ``--patience`` epochs, or after ``--epochs``); capacity =
the load at which the mean stored (recalled) fraction over the samples falls to ``--level``
(linear interpolation), per input dimension P_c/N and per hidden unit P_c/(L·H), ± the standard
error over samples.

Usage::

    python benchmarks/learn_capacity.py [--part main search all] [--hidden 100 200]
        [--layers 1 2 3 4] [--samples 3] [--epochs 2000] [--patience 100] [--level 0.9]
        [--json PATH] [--quick]

``main``: the default wiring (input into every module, one-to-one coupling λ = 1, readout and
feedback on the last module, J_D = 0.5, κ_h = 0.9, κ_out = 3, literal rates, no decay) for every
H and L. ``search``: at H = 100 (first ``--hidden``), L = 1 and 2, the settings that could matter
for depth, one at a time: λ (0, 2.5), input into the first module only, skip connections
(readout from and feedback into every module), J_D (0.2, 1.0), κ_h (0, 2), κ_out (1), learning
rates (lr_out ×10, lr_j and lr_in ×10), fan-in rate units. Each setting uses its own load grid
around its transition. Prints the load table (epochs used) and the capacity tables; ``--json``
also writes every row. Runs on one worker (the rows do not depend on it). Exit status 0.

The full default grid takes hours on one core. paper_notes §10 reports a reduced run
(``--epochs 400 --patience 25``; main part H = 100 with ``--samples 2``, H = 200 with
``--layers 1 2 4 --loads 0.75 1.25 1.75 2.25 --samples 1``; search with ``--samples 1``):
with that short patience the capacities are lower bounds (the stored fraction beyond the
capacity keeps creeping up for 1000+ epochs), compared at equal budget across L.
"""
from __future__ import annotations

import argparse
import sys
import time

from fplandscape.cli.common import format_table
from fplandscape.learn.capacity import CAPACITY_RULE, capacity_vs_depth
from fplandscape.tables import dumps

#: (name, layers, arch_kwargs, rule changes, loads at H = 100 (scaled by H/100))
SETTINGS = [
    ("default", (1, 2), {}, {}, (125, 175, 225, 275, 350)),
    ("lam=0", (2,), {"lam": 0.0}, {}, (125, 175, 225, 275, 350)),
    ("lam=2.5", (2,), {"lam": 2.5}, {}, (125, 175, 225, 275, 350)),
    ("input_to=first", (2,), {"input_to": "first"}, {}, (50, 100, 150, 225, 300)),
    ("skip", (2,), {"skip": True}, {}, (250, 350, 450, 550, 700)),
    ("jd=0.2", (1, 2), {"jd": 0.2}, {}, (125, 175, 225, 275, 350)),
    ("jd=1.0", (1, 2), {"jd": 1.0}, {}, (125, 175, 225, 275, 350)),
    ("kappa_h=0", (1, 2), {}, {"kappa_h": 0.0}, (125, 175, 225, 275, 350)),
    ("kappa_h=2", (1, 2), {}, {"kappa_h": 2.0}, (125, 175, 225, 275, 350)),
    ("kappa_out=1", (1, 2), {}, {"kappa_out": 1.0}, (125, 175, 225, 275, 350)),
    ("lr_out x10", (1, 2), {}, {"lr_out": 1.0}, (125, 175, 225, 275, 350)),
    ("lr_j,lr_in x10", (1, 2), {}, {"lr_j": 0.05, "lr_in": 0.3}, (125, 175, 225, 275, 350)),
    ("lr_scale=fan_in", (1, 2), {}, {"lr_scale": "fan_in"}, (125, 175, 225, 275, 350)),
]

LOAD_COLUMNS = ["setting", "hidden", "layers", "patterns", "alpha_input", "alpha_unit",
                "stored_fraction", "recalled_fraction", "epochs", "converged", "stalled"]
CAP_COLUMNS = ["setting", "hidden", "layers", "criterion", "patterns_c", "capacity_input",
               "capacity_input_se", "capacity_unit", "capacity_unit_se", "status",
               "epochs_mean", "epochs_max_used", "converged_fraction"]


def _mean_table(rows):
    """Mean over samples per (setting, H, L, P)."""
    cells = {}
    for r in rows:
        cells.setdefault((r["setting"], r["hidden"], r["layers"], r["patterns"]), []).append(r)
    out = []
    for (s, H, L, P), rs in cells.items():
        m = len(rs)
        out.append({"setting": s, "hidden": H, "layers": L, "patterns": P,
                    "alpha_input": rs[0]["alpha_input"], "alpha_unit": rs[0]["alpha_unit"],
                    "stored_fraction": sum(r["stored_fraction"] for r in rs) / m,
                    "recalled_fraction": sum(r["recalled_fraction"] for r in rs) / m,
                    "epochs": sum(r["epochs"] for r in rs) / m,
                    "converged": sum(r["converged"] for r in rs) / m,
                    "stalled": sum(r["stalled"] for r in rs) / m})
    return out


def _run(setting, hidden, layers, loads, arch, rule_changes, args):
    from dataclasses import replace

    kw = dict(arch)
    jd = kw.pop("jd", 0.5)
    lam = kw.pop("lam", 1.0)
    res = capacity_vs_depth(hidden, loads, layers, samples=args.samples, seed=args.seed, jd=jd,
                            lam=lam, arch_kwargs=kw, rule=replace(CAPACITY_RULE, **rule_changes),
                            epochs=args.epochs, patience=args.patience, level=args.level,
                            workers=1, progress=args.progress)
    rows = [{"setting": setting, **r} for r in res.rows]
    caps = [{"setting": setting, **c} for c in res.capacities]
    return rows, caps


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--part", nargs="+", choices=("main", "search", "all"), default=["all"])
    ap.add_argument("--hidden", type=int, nargs="+", default=[100, 200])
    ap.add_argument("--layers", type=int, nargs="+", default=[1, 2, 3, 4])
    ap.add_argument("--loads", type=float, nargs="+", default=[1.0, 1.5, 2.0, 2.5, 3.0],
                    help="main part: loads as P/H (default 1 1.5 2 2.5 3)")
    ap.add_argument("--samples", type=int, default=3)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--epochs", type=int, default=2000)
    ap.add_argument("--patience", type=int, default=100)
    ap.add_argument("--level", type=float, default=0.9)
    ap.add_argument("--only", nargs="+", default=None, help="search: only these settings")
    ap.add_argument("--json", metavar="PATH", default=None)
    ap.add_argument("--progress", action="store_true")
    ap.add_argument("--quick", action="store_true",
                    help="H = 24, N = 100, two loads per setting: a smoke test")
    args = ap.parse_args(argv)
    parts = {"main", "search"} if "all" in args.part else set(args.part)
    if args.quick:
        args.hidden, args.layers, args.samples, args.epochs = [24], [1, 2], 1, 30
    rows, caps = [], []
    t0 = time.perf_counter()
    if "main" in parts:
        for H in args.hidden:
            loads = sorted({max(1, round(f * H)) for f in args.loads})
            r, c = _run("default", H, args.layers, loads, {}, {}, args)
            rows += r
            caps += c
            print(f"[main H={H} done, {time.perf_counter() - t0:.0f} s]", file=sys.stderr,
                  flush=True)
    if "search" in parts:
        H = args.hidden[0]
        for name, layers, arch, rule_changes, loads in SETTINGS:
            if args.only and name not in args.only:
                continue
            if "main" in parts and name == "default" and H in args.hidden:
                continue  # already run by the main part
            loads = sorted({max(1, round(p * H / 100)) for p in loads})
            r, c = _run(name, H, layers, loads, arch, rule_changes, args)
            rows += r
            caps += c
            print(f"[search {name} done, {time.perf_counter() - t0:.0f} s]", file=sys.stderr,
                  flush=True)
    print("loads (mean over samples; epochs = mean epochs used)")
    print(format_table(_mean_table(rows), LOAD_COLUMNS))
    for crit in ("stored", "recalled"):
        print(f"\ncapacity, criterion {crit!r} (level {args.level}): capacity_input = P_c/N, "
              "capacity_unit = P_c/(L H)")
        print(format_table([c for c in caps if c["criterion"] == crit], CAP_COLUMNS))
    print(f"\n{time.perf_counter() - t0:.0f} s")
    if args.json:
        with open(args.json, "w") as fh:
            fh.write(dumps({"rows": rows, "capacities": caps}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
