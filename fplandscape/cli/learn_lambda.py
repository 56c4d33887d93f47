"""``fplandscape learn lambda``: λ instead of J_D — two modules at J_D = 0 coupled one-to-one
by λ against one module with a self-coupling, thin layer over
:func:`fplandscape.learn.lambda_study.lambda_advantage` (the reference code's λ experiment, its
settings reproduced by :meth:`fplandscape.learn.train.Schedule.reference` and
:meth:`fplandscape.learn.rule.Plasticity.reference`).

The learning package is imported by the handler only (``--help`` imports no NumPy).
"""
from __future__ import annotations

from ..errors import MAX_NEURONS
from . import common
from .common import Output, add_output_options, add_parallel_options, add_values, require

#: :data:`fplandscape.learn.lambda_study.SETTINGS`
SETTINGS = ("reference", "ours")
COLUMNS = ["setting", "lam", "lam_in", "jd", "samples", "test_accuracy", "test_accuracy_se",
           "max_test_accuracy", "max_test_accuracy_se"]


def register(studies) -> None:
    """Add ``lambda`` to the study subparsers of ``fplandscape learn``."""
    from .learn import add_data_options

    text = ("lambda instead of J_D: two modules at J_D = 0 coupled one-to-one by lambda, "
            "against one module with a self-coupling "
            "[fplandscape.learn.lambda_study.lambda_advantage]")
    p = studies.add_parser(
        "lambda", help=text, description=text + ". Setting 'reference' is the reference "
        "code's lambda experiment (input into, feedback into and readout from both modules, "
        "2 + 5 + 7 sweeps with every module updated at once and the feedback driven by the "
        "readout state, update probability 0.85, hidden margin 0.9 + J_D + lambda); 'ours' the "
        "same network with our default schedule. The one-module runs use the default "
        "protocol at --jd-one.",
        epilog="--json prints {\"rows\": [one per run], \"summary\": [mean +- SE per "
               "setting, lambda, lambda_in], \"params\"}; --csv writes the runs.")
    add_data_options(p)
    a = p.add_argument_group("study")
    add_values(a, "--lam", kind=common.float_values, default=[0.0, 1.0, 2.5, 4.0, 5.0],
               metavar="LAMBDA", help="one-to-one couplings lambda >= 0 (default 0 1 2.5 4 5)")
    add_values(a, "--lam-in", kind=common.float_values, default=[2.0, 5.0],
               metavar="X", help="input strengths lambda_in (default 2 5)")
    a.add_argument("--hidden", type=int, default=100, metavar="H",
                   help="units per module (default 100; the reference's experiment: 1600)")
    a.add_argument("--epochs", type=int, default=10, metavar="E",
                   help="training epochs per run (default 10)")
    a.add_argument("--jd", type=common._float, default=0.0, metavar="X",
                   help="self-coupling of the two-module runs (default 0)")
    a.add_argument("--jd-one", dest="jd_one", type=common._float, default=0.5, metavar="X",
                   help="self-coupling of the one-module comparison (default 0.5)")
    a.add_argument("--no-one-module", dest="one_module", action="store_false",
                   help="skip the one-module comparison runs")
    common.add_words(a, "--settings", default=["reference"], names=SETTINGS,
                     help="settings of the two-module runs")
    a.add_argument("--samples", type=int, default=3, metavar="K",
                   help="runs per point, training seeds S, S+1, ..., S+K-1 (default 3)")
    common.add_seed(p, "the first run", "run k uses seed S + k")
    add_parallel_options(p, what="runs")
    add_output_options(p, csv_help="also write one row per run as CSV to PATH")
    p.set_defaults(handler=run_lambda)


def run_lambda(args) -> Output:
    require(args.hidden >= 1, f"--hidden must be a positive integer, got {args.hidden}")
    require(2 * args.hidden <= MAX_NEURONS,
            f"--hidden must be at most {MAX_NEURONS // 2} (two modules), got {args.hidden}")
    require(args.epochs >= 1, f"--epochs must be a positive integer, got {args.epochs}")
    require(args.samples >= 1, f"--samples must be a positive integer, got {args.samples}")
    require(args.seed >= 0, f"--seed must be a non-negative integer, got {args.seed}")
    for v in args.lam:
        require(v >= 0, f"--lam must be >= 0, got {v:g}")
    for name in args.settings:
        require(name in SETTINGS, f"--settings: unknown setting {name!r} (choose from "
                                  f"{', '.join(SETTINGS)})")
    kw = common.parallel_kwargs(args)
    from ..learn.lambda_study import lambda_advantage
    from ..tables import format_table
    from .learn import load_data

    data = load_data(args)
    res = lambda_advantage(data, args.lam, lam_in_values=args.lam_in, samples=args.samples,
                           seed=args.seed, hidden=args.hidden, epochs=args.epochs, jd=args.jd,
                           settings=tuple(args.settings), one_module=args.one_module,
                           jd_one=args.jd_one, **kw)
    summary = res.summary()
    text = (f"lambda study on {data.name} ({data.x_train.shape[0]} train / "
            f"{data.x_test.shape[0]} test), H = {args.hidden}, {args.epochs} epochs, "
            f"{args.samples} run(s) per point\n" + format_table(summary, COLUMNS))
    return Output(json={"rows": res.as_rows(), "summary": summary, "params": res.params},
                  rows=res.as_rows(), text=text)
