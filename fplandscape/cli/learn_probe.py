"""``fplandscape learn probe``: per-module hierarchy probe of trained networks, thin layer over
:func:`fplandscape.learn.probe.hierarchy` (linear-probe accuracy, class separability,
participation ratio and similarity of consecutive modules, trained and untrained).

The learning package is imported by the handler only (``--help`` imports no NumPy); the data
set choices are those of ``fplandscape learn`` (:mod:`fplandscape.cli.learn`).
"""
from __future__ import annotations

from ..errors import MAX_NEURONS
from . import common
from .common import Output, add_output_options, add_values, require
from .learn import INPUT_TO, MODES, add_data_options, load_data

__all__ = ["register", "run_probe"]

#: the columns of the readable table (means over the networks)
COLUMNS = ("layers", "trained", "module_name", "probe_test_accuracy", "separability",
           "participation_ratio", "cka_prev", "unit_corr_prev", "magnetisation", "stable_fraction",
           "test_accuracy", "samples")


def register(studies) -> None:
    """Add ``probe`` to the studies of ``fplandscape learn``."""
    text = ("per-module hierarchy of the learned representations: linear-probe test accuracy, "
            "class separability, participation ratio and similarity (linear CKA, unit correlation) "
            "of consecutive modules, for trained and untrained networks and the input "
            "[fplandscape.learn.probe.hierarchy]")
    p = studies.add_parser(
        "probe", help=text, description=text + ". Each network is the one of 'fplandscape "
        "learn --layers L --seed S' with the same options (reference hyper-parameters).",
        epilog="--json prints {'rows': one per (L, seed, trained, module), 'summary': means "
               "and standard errors over the networks per (L, trained, module), 'params'}; "
               "--csv writes the rows. The reference code's multi-module wiring is --skip "
               "--update-prob 0.85.")
    add_data_options(p)
    a = p.add_argument_group("architecture and schedule")
    a.add_argument("--hidden", type=int, default=100, metavar="H",
                   help="units per hidden module (default 100)")
    add_values(a, "--layers", kind=common.int_values, default=[2, 3], metavar="L",
               help="numbers of hidden modules (default 2 3)")
    a.add_argument("--jd", type=common._float, default=0.5, metavar="X",
                   help="self-coupling J_D (default 0.5)")
    a.add_argument("--lam", type=common._float, default=0.0, metavar="LAMBDA",
                   help="one-to-one inter-module coupling lambda >= 0 (default 0)")
    a.add_argument("--input-to", dest="input_to", choices=INPUT_TO, default="all",
                   help="modules receiving the input: all (default) or first")
    a.add_argument("--skip", action="store_true",
                   help="skip connections: feedback into and readout from every module")
    a.add_argument("--reference-setting", dest="reference", action="store_true",
                   help="the reference code's multi-module setting (skip connections, its "
                        "schedule and plasticity: Schedule.reference, Plasticity.reference); "
                        "--mode and --update-prob are then its own")
    a.add_argument("--inter", action="store_true",
                   help="learnable fully connected couplings between neighbouring modules")
    a.add_argument("--mode", choices=MODES, default="sync",
                   help="synchronous (default) or asynchronous random-order updates")
    a.add_argument("--update-prob", type=common._float, default=1.0, metavar="P",
                   help="synchronous training: per-unit update probability in (0, 1] "
                        "(default 1)")
    p.add_argument("--epochs", type=int, default=10, metavar="E",
                   help="training epochs (default 10; 0 probes the untrained networks only)")
    p.add_argument("--samples", type=int, default=1, metavar="K",
                   help="networks per number of modules, training seeds S, S+1, ..., S+K-1 "
                        "(default 1)")
    common.add_seed(p, "the first network", "network k uses seed S + k")
    common.add_parallel_options(p, what="networks (one task per L and seed)")
    add_output_options(p)
    p.set_defaults(handler=run_probe)


def run_probe(args) -> Output:
    require(args.epochs >= 0, f"--epochs must be a non-negative integer, got {args.epochs}")
    require(args.seed >= 0, f"--seed must be a non-negative integer, got {args.seed}")
    require(args.samples >= 1, f"--samples must be a positive integer, got {args.samples}")
    require(args.hidden >= 1, f"--hidden must be a positive integer, got {args.hidden}")
    require(all(L >= 1 for L in args.layers),
            f"--layers must be positive integers, got {' '.join(map(str, args.layers))}")
    require(args.hidden * max(args.layers) <= MAX_NEURONS,
            f"--hidden x --layers = {args.hidden * max(args.layers)} hidden units in all; at "
            f"most {MAX_NEURONS}")
    require(args.lam >= 0, f"--lam must be >= 0, got {args.lam}")
    require(0 < args.update_prob <= 1, f"--update-prob must lie in (0, 1], got {args.update_prob}")
    if args.dataset == "synthetic":
        for flag, v in (("--train-size", args.train_size), ("--test-size", args.test_size)):
            require(v is None or v >= 2, f"{flag} must be at least 2 for the probe, got {v}")
    kw = common.parallel_kwargs(args)
    from ..learn.probe import hierarchy
    from ..learn.train import Schedule

    schedule = Schedule(mode=args.mode, update_prob=args.update_prob)
    data = load_data(args)
    res = hierarchy(data, args.layers, hidden=args.hidden, epochs=args.epochs, seed=args.seed,
                    samples=args.samples,
                    arch_kwargs={"jd": args.jd, "lam": args.lam, "input_to": args.input_to,
                                 "skip": args.skip, "inter": args.inter},
                    schedule=schedule, reference=args.reference, **kw)
    rows, summary = res.as_rows(), res.summary()
    title = (f"hierarchy probe on {data.name} ({data.x_train.shape[0]} train / "
             f"{data.x_test.shape[0]} test), H = {args.hidden}, J_D = {args.jd}, "
             f"lambda = {args.lam}, input to {args.input_to}, skip {args.skip}, update_prob "
             f"{args.update_prob}, {args.epochs} epochs, {args.samples} network(s) per L from "
             f"seed {args.seed}; means over the networks (probe/separability/PR/CKA on the "
             f"test set, module -1 = the input)")
    text = title + "\n" + common.format_table(summary, list(COLUMNS))
    obj = {"rows": rows, "summary": summary, "params": res.params,
           "version": rows[0]["version"] if rows else None}
    return Output(json=obj, rows=rows, text=text)
