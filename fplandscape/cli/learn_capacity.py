"""``fplandscape learn capacity ...``: hetero-association capacity versus depth, thin layer over
:func:`fplandscape.learn.capacity.capacity_vs_depth` (random ±1 inputs with random labels,
L modules of H units, each load trained to convergence; capacities per input dimension P/N
and per hidden unit P/(L·H), for "stored as a strict fixed point" and "recalled").

The learning package is imported by the handler only (``--help`` imports no NumPy); the
defaults written out here are the library's (tests/test_learn_capacity.py checks them).
"""
from __future__ import annotations

from . import common
from .common import Output, add_output_options, add_parallel_options, add_values, require

#: the defaults of :func:`fplandscape.learn.capacity.capacity_vs_depth` and of
#: :data:`fplandscape.learn.capacity.CAPACITY_RULE` written out
DEFAULTS = {"layers": [1, 2, 3, 4], "n_in": 100, "classes": 10, "samples": 3, "jd": 0.5,
            "lam": 1.0, "epochs": 2000, "patience": 100, "level": 0.9}
RULE_DEFAULTS = {"lr_j": 0.005, "lr_in": 0.03, "lr_out": 0.1, "kappa_h": 0.9,
                 "kappa_out": 3.0, "weight_decay": 0.0, "lr_scale": "none"}
#: :data:`fplandscape.learn.network.INPUT_TO` and :data:`fplandscape.learn.rule.LR_SCALES`
INPUT_TO = ("all", "first")
LR_SCALES = ("fan_in", "none")

LOAD_COLUMNS = ["hidden", "layers", "patterns", "sample", "alpha_input", "alpha_unit", "epochs",
                "converged", "stalled", "stored_fraction", "recalled_fraction"]
CAPACITY_COLUMNS = ["hidden", "layers", "criterion", "patterns_c", "capacity_input",
                    "capacity_input_se", "capacity_unit", "capacity_unit_se", "status",
                    "epochs_mean", "converged_fraction"]


def register(studies) -> None:
    """Add ``capacity`` to the study subparsers of ``fplandscape learn``."""
    d, r = DEFAULTS, RULE_DEFAULTS
    text = ("hetero-association capacity versus depth: P random +-1 inputs with random labels, "
            "L modules of H units, each load trained to convergence "
            "[fplandscape.learn.capacity.capacity_vs_depth]")
    p = studies.add_parser(
        "capacity", help=text, description=text + ". An association is stored when free "
        "relaxation from its input ends in a strict fixed point of the whole network with the "
        "readout at its target, recalled when the argmax prediction is its label. Capacity = "
        "the load where the mean fraction over the samples falls to --level (linear "
        "interpolation), per input dimension (P/N) and per hidden unit (P/(L H)), +- the "
        "standard error over samples. Training stops when an epoch has no unstable unit, when "
        "the number of unstable units has not improved for --patience epochs, or after "
        "--epochs. Defaults: no weight decay, literal learning rates (--lr-scale none).",
        epilog="--json prints {\"rows\": [load rows], \"capacities\": [capacity rows], "
               "\"version\": ...}; --csv writes both, with a kind column (load / capacity).")
    a = p.add_argument_group("associations and architecture")
    add_values(a, "--hidden", kind=common.int_values, required=True, metavar="H",
               help="units per hidden module")
    add_values(a, "--layers", kind=common.int_values, default=d["layers"], metavar="L",
               help="numbers of hidden modules (default 1 2 3 4)")
    add_values(a, "--patterns", kind=common.int_values, required=True, metavar="P",
               help="loads: numbers of associations")
    a.add_argument("--n-in", dest="n_in", type=int, default=d["n_in"], metavar="N",
                   help=f"input dimension N (default {d['n_in']})")
    a.add_argument("--classes", type=int, default=d["classes"], metavar="C",
                   help=f"number of labels C (default {d['classes']})")
    a.add_argument("--samples", type=int, default=d["samples"], metavar="M",
                   help=f"association sets (and networks) per load (default {d['samples']})")
    common.add_seed(p, "the association sets and the networks")
    a.add_argument("--jd", type=common._float, default=d["jd"], metavar="X",
                   help=f"self-coupling J_D (default {d['jd']})")
    a.add_argument("--lam", type=common._float, default=d["lam"], metavar="LAMBDA",
                   help=f"one-to-one inter-module coupling lambda >= 0 (default {d['lam']:g})")
    a.add_argument("--lam-in", dest="lam_in", type=common._float, default=5.0, metavar="X",
                   help="input strength lambda_in (default 5)")
    a.add_argument("--input-to", dest="input_to", choices=INPUT_TO, default="all",
                   help="input into every module (default) or the first only")
    a.add_argument("--skip", action="store_true",
                   help="feedback into and readout from every module")
    t = p.add_argument_group("training")
    t.add_argument("--epochs", type=int, default=d["epochs"], metavar="E",
                   help=f"at most this many epochs per load (default {d['epochs']})")
    t.add_argument("--patience", type=int, default=d["patience"], metavar="K",
                   help="stop when the number of unstable units has not improved for K epochs "
                        f"(default {d['patience']})")
    for flag, key, what in (("--lr-j", "lr_j", "learning rate of J"),
                            ("--lr-in", "lr_in", "learning rate of W_in"),
                            ("--lr-out", "lr_out", "learning rate of W_out"),
                            ("--kappa-h", "kappa_h", "hidden margin on top of J_D"),
                            ("--kappa-out", "kappa_out", "readout margin"),
                            ("--weight-decay", "weight_decay", "weight decay")):
        t.add_argument(flag, dest=key, type=common._float, default=r[key], metavar="X",
                       help=f"{what} (default {r[key]:g})")
    t.add_argument("--lr-scale", dest="lr_scale", choices=LR_SCALES, default=r["lr_scale"],
                   help=f"units of the learning rates (default {r['lr_scale']})")
    p.add_argument("--level", type=common._float, default=d["level"], metavar="F",
                   help=f"fraction defining the capacity, in (0, 1) (default {d['level']})")
    add_parallel_options(p, what="loads")
    add_output_options(p, csv_help="also write the load and capacity rows as CSV to PATH")
    p.set_defaults(handler=run_capacity)


def _check(args) -> None:
    """Every input checked before any work."""
    from ..errors import MAX_NEURONS

    for H in args.hidden:
        require(H >= 1, f"--hidden must be positive integers, got {H}")
    for L in args.layers:
        require(L >= 1, f"--layers must be positive integers, got {L}")
    require(max(args.hidden) * max(args.layers) <= MAX_NEURONS,
            f"--hidden x --layers must be at most {MAX_NEURONS} units, got "
            f"{max(args.hidden)} x {max(args.layers)}")
    for P in args.patterns:
        require(P >= 1, f"--patterns must be positive integers, got {P}")
    require(len(set(args.patterns)) >= 2, "--patterns needs at least two different loads "
                                          "(the capacity is interpolated between them)")
    require(args.n_in >= 1, f"--n-in must be a positive integer, got {args.n_in}")
    require(args.classes >= 2, f"--classes must be at least 2, got {args.classes}")
    require(args.samples >= 1, f"--samples must be a positive integer, got {args.samples}")
    require(args.seed >= 0, f"--seed must be a non-negative integer, got {args.seed}")
    require(args.epochs >= 1, f"--epochs must be a positive integer, got {args.epochs}")
    require(args.patience >= 1, f"--patience must be a positive integer, got {args.patience}")
    require(args.lam >= 0, f"--lam must be >= 0, got {args.lam:g}")
    require(0 < args.level < 1, f"--level must lie in (0, 1), got {args.level:g}")
    for key in ("lr_j", "lr_in", "lr_out", "weight_decay"):
        require(getattr(args, key) >= 0,
                f"--{key.replace('_', '-')} must be >= 0, got {getattr(args, key):g}")
    require(args.lam > 0 or args.input_to == "all" or max(args.layers) == 1,
            "--input-to first with several modules needs --lam > 0 (otherwise the last module "
            "never sees the input)")


def run_capacity(args) -> Output:
    _check(args)
    kw = common.parallel_kwargs(args)
    from ..learn.capacity import capacity_vs_depth
    from ..learn.rule import Plasticity
    from ..tables import format_table

    rule = Plasticity(**{k: getattr(args, k) for k in RULE_DEFAULTS})
    res = capacity_vs_depth(
        args.hidden, args.patterns, args.layers, n_in=args.n_in, classes=args.classes,
        samples=args.samples, seed=args.seed, jd=args.jd, lam=args.lam,
        arch_kwargs={"lam_in": args.lam_in, "input_to": args.input_to, "skip": args.skip},
        rule=rule, epochs=args.epochs, patience=args.patience, level=args.level, **kw)
    text = ("loads\n" + format_table(res.rows, LOAD_COLUMNS) + "\n\ncapacity (level "
            f"{args.level:g}; capacity_input = P_c/N, capacity_unit = P_c/(L H))\n"
            + format_table(res.capacities, CAPACITY_COLUMNS))
    from .._version import __version__

    return Output(json={"rows": res.rows, "capacities": res.capacities, "version": __version__},
                  rows=res.as_rows(), text=text)
