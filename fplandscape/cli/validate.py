"""``fplandscape validate counts|pairs|critical|accessibility``: theory against simulation,
thin layers over :mod:`fplandscape.validate` and :func:`fplandscape.sim.accessibility_scan`."""
from __future__ import annotations

from . import common
from .common import Output, add_output_options, add_values, require
from .theory import CRITERIA  # written out there, so that --help imports no theory


def register(subparsers) -> None:
    """Add the ``validate`` group to the top-level subparsers."""
    text = "overlay theory and simulation (counts, pairs, critical values, accessibility)"
    p = subparsers.add_parser("validate", help=text, description=text + ".")
    sub = p.add_subparsers(dest="what", metavar="WHAT", required=True)

    text = ("mean and typical ln #FP from exact enumeration vs (E1)/(E2) "
            "[fplandscape.validate.counts.validate_counts]")
    c = sub.add_parser("counts", help=text, description=text + ".")
    add_values(c, "--n", kind=common.int_values, required=True, metavar="N",
               help="neurons per module")
    add_values(c, "--jd", required=True, metavar="X", help="self-couplings J_D")
    c.add_argument("--samples", type=int, default=200, metavar="M",
                   help="random networks per (N, J_D) (default 200)")
    common.add_seed(c, "the random networks", "network i uses SeedSequence(S).spawn(M)[i]")
    c.add_argument("--eta", type=common._float, default=0.0, metavar="E",
                   help="reciprocity eta in [-1, 1] (default 0)")
    c.add_argument("--dilution", type=common._float, default=1.0, metavar="C",
                   help="fraction c in (0, 1] of kept couplings (default 1)")
    c.add_argument("--layers", type=int, default=1, metavar="L",
                   help="number of modules of the modular chain (default 1)")
    c.add_argument("--lam", type=common._float, default=0.0, metavar="LAMBDA",
                   help="inter-module coupling lambda >= 0 (default 0)")
    common.add_parallel_options(c, what="samples")
    add_output_options(c)
    c.set_defaults(handler=run_counts)

    text = ("pair-distance histograms from enumeration vs (E4), with S2(q) "
            "[fplandscape.validate.pairs.validate_pairs]")
    q = sub.add_parser("pairs", help=text, description=text + ".")
    q.add_argument("--n", type=int, required=True, metavar="N",
                   help="number of neurons N (1..64; exact enumeration)")
    add_values(q, "--jd", required=True, metavar="X", help="self-couplings J_D")
    q.add_argument("--samples", type=int, default=200, metavar="M",
                   help="random networks per J_D (default 200)")
    common.add_seed(q, "the random networks", "network i uses SeedSequence(S).spawn(M)[i]")
    common.add_parallel_options(q, what="samples")
    add_output_options(q)
    q.set_defaults(handler=run_pairs)

    text = ("critical self-couplings: theory vs finite-N estimators from enumerated fixed "
            "points, extrapolated in 1/N [fplandscape.validate.critical.finite_size_critical]")
    k = sub.add_parser("critical", help=text, description=text + ".")
    add_values(k, "--n", kind=common.int_values, default=[12, 16, 20], metavar="N",
               help="sizes (default 12 16 20)")
    add_values(k, "--jd", default=None, metavar="X", help="J_D grid (default 0:0.3:11)")
    k.add_argument("--samples", type=int, default=100, metavar="M",
                   help="networks per (N, J_D) (default 100)")
    common.add_seed(k, "the random networks")
    k.add_argument("--bootstrap", type=int, default=200, metavar="B",
                   help="bootstrap resamples over networks (default 200)")
    common.add_parallel_options(k, what="networks")
    add_output_options(k, csv_help="also write every row (curves, finite-N, extrapolated) as "
                                   "CSV to PATH")
    k.set_defaults(handler=run_critical)

    text = ("algorithmic thresholds J_50(N) and J_50(inf) against the theory's critical "
            "self-couplings [fplandscape.sim.accessibility_scan]")
    a = sub.add_parser("accessibility", help=text, description=text + ".")
    add_values(a, "--n", kind=common.int_values, default=[200, 400], metavar="N",
               help="sizes (default 200 400)")
    add_values(a, "--jd", default=None, metavar="X", help="J_D grid (default 0.1:1.0:19)")
    from .dynamics import RULE_NAMES

    common.add_words(a, "--rules", default=("async", "sync"), names=RULE_NAMES, metavar="RULE",
                     help="algorithms (fbp = focusing BP)")
    a.add_argument("--runs", type=int, default=20, metavar="R",
                   help="runs per network and cell (default 20)")
    a.add_argument("--max-sweeps", type=int, default=1000, metavar="T",
                   help="sweep budget per run (default 1000)")
    common.add_seed(a, "the networks and the runs")
    common.add_words(a, "--criteria", default=("gap", "energetic"), names=CRITERIA,
                     metavar="C", help="theory criteria to compare with")
    common.add_parallel_options(a, what="cells")
    add_output_options(a)
    a.set_defaults(handler=run_accessibility)


def _common_checks(args):
    require(args.seed >= 0, f"--seed must be a non-negative integer, got {args.seed}")
    if hasattr(args, "samples"):
        require(args.samples >= 1, f"--samples must be a positive integer, got {args.samples}")


def run_counts(args) -> Output:
    from ..validate.counts import validate_counts

    _common_checks(args)
    rows = validate_counts(args.n, args.jd, args.samples, args.seed, eta=args.eta,
                           dilution=args.dilution, layers=args.layers, lam=args.lam,
                           **common.parallel_kwargs(args))
    cols = ["n", "jd", "samples", "mean_count", "expected_count", "z_count", "mean_entropy",
            "finite_n_entropy", "asymptotic_entropy", "typical_entropy"]
    return Output(json={"rows": rows}, rows=rows, text=common.format_table(rows, cols))


def run_pairs(args) -> Output:
    from ..validate.pairs import validate_pairs

    _common_checks(args)
    require(1 <= args.n <= 64, f"--n must be in 1..64, got {args.n}")
    rows = validate_pairs(args.n, args.jd, args.samples, args.seed,
                          **common.parallel_kwargs(args))
    cols = ["jd", "k", "mean_pairs", "se_pairs", "expected_pairs", "z"]
    return Output(json={"rows": rows}, rows=rows, text=common.format_table(rows, cols))


def run_critical(args) -> Output:
    import numpy as np

    from ..validate.critical import critical_table, finite_size_critical

    _common_checks(args)
    require(args.bootstrap >= 0, f"--bootstrap must be >= 0, got {args.bootstrap}")
    jd = args.jd if args.jd is not None else [float(x) for x in np.linspace(0, 0.3, 11)]
    rows = finite_size_critical(args.n, jd, args.samples, args.seed, bootstrap=args.bootstrap,
                                **common.parallel_kwargs(args))
    table = critical_table(rows)
    return Output(json={"table": table, "rows": rows}, rows=rows,
                  text="critical self-couplings, theory vs finite-N estimators:\n"
                       + common.format_table(table))


def run_accessibility(args) -> Output:
    import numpy as np

    from .. import theory
    from ..sim.accessibility import accessibility_scan
    from ..validate.reached import with_typical_mean_stability

    _common_checks(args)
    from .dynamics import _rules

    rules = tuple(_rules(args.rules))
    criteria = list(args.criteria)
    for c in criteria:
        require(c in theory.CRITERIA, f"unknown criterion {c!r}; choose from "
                                      f"{', '.join(theory.CRITERIA)}")
    jd = args.jd if args.jd is not None else [round(float(x), 10)
                                              for x in np.linspace(0.1, 1.0, 19)]
    res = with_typical_mean_stability(accessibility_scan(
        args.n, jd, rules=rules, runs=args.runs, max_sweeps=args.max_sweeps, seed=args.seed,
        **common.parallel_kwargs(args)))
    table = []
    for t in res.thresholds:
        if t.get("kind") == "finite_n":
            table.append({"source": t["rule"], "n": t["n"], "jd": t["j50"],
                          "err": t["j50_err"], "status": t["status"]})
        elif t.get("kind") == "extrapolated" and t.get("headline"):
            table.append({"source": t["rule"], "n": f"inf ({t['form']})", "jd": t["j50_inf"],
                          "err": t["j50_inf_err"], "status": "extrapolated"})
    for c in criteria:
        table.append({"source": f"theory: {c}", "n": "inf",
                      "jd": theory.critical_self_coupling(c, evidence=False).jd, "err": None,
                      "status": "thermodynamic"})
    return Output(json={"table": table, "rows": res.rows}, rows=table,
                  text="algorithmic 50% thresholds vs critical self-couplings:\n"
                       + common.format_table(table))
