"""``fplandscape dynamics ...`` and ``fplandscape accessibility ...``: runs of the dynamics /
annealing (any algorithm of the registry :mod:`fplandscape.sim.algorithms`) on one random
network, and the accessibility scan of :func:`fplandscape.sim.accessibility.accessibility_scan`
(P(reach a fixed point) and time vs J_D for several N and algorithms, with the 50 % thresholds
and their extrapolation; the typical mean stability of the theory beside it:
:func:`fplandscape.validate.reached.with_typical_mean_stability`).

``dynamics --n N --jd X --rule R --seed S`` runs exactly the cell (N, X, R, network 0) of
``accessibility --seed S`` (same network, same initial states:
:func:`fplandscape.sim.accessibility.cell_seeds`).
"""
from __future__ import annotations

from ..errors import MAX_GRID_POINTS
from ..provenance import run_info
from . import common
from .common import Output, add_output_options, require

#: algorithms named in the --rules help (the built-in ones; plugged-in ones work too)
RULE_NAMES = ("async", "sync", "anneal", "fbp")
#: The choices of ``--extrapolation``: :data:`fplandscape.stats.EXTRAPOLATIONS`, written out so
#: that ``--help`` does not import NumPy (tests/test_startup.py checks that they are equal).
EXTRAPOLATIONS = ("sqrt", "linear")


def register(subparsers) -> None:
    """Add the ``dynamics`` and ``accessibility`` commands to the top-level subparsers."""
    import argparse

    text = ("run the zero-temperature dynamics (async / sync) or simulated annealing from random "
            "initial states on one random network of the docs/model.md ensemble drawn from the seed "
            "[fplandscape.sim.dynamics.run_dynamics, anneal]")
    p = subparsers.add_parser("dynamics", help=text, description=text + ".",
                              epilog="The network and the initial states are those of network 0 "
                                     "of 'fplandscape accessibility' with the same --seed. "
                                     "--csv writes one row per run.")
    p.add_argument("--n", type=int, required=True, metavar="N", help="number of neurons N >= 1")
    p.add_argument("--jd", type=common._float, required=True, metavar="X",
                   help="self-coupling J_D")
    p.add_argument("--rule", default="async", metavar="RULE",
                   help="async (default), sync, anneal or fbp (focusing BP, "
                        "fplandscape.sim.bp.focusing_bp; one iteration counts as one sweep)")
    p.add_argument("--runs", type=int, default=10, metavar="R",
                   help="number of runs from uniform random initial states (default 10)")
    common.add_seed(p, "the network and the runs")
    p.add_argument("--max-sweeps", type=int, default=1000, metavar="T",
                   help="at most T sweeps per run (sync: steps; anneal: schedule length); "
                        "default 1000")
    p.add_argument("--eta", type=common._float, default=0.0, metavar="E",
                   help="reciprocity eta in [-1, 1] (default 0)")
    p.add_argument("--order", choices=("random", "fixed"), default="random",
                   help="async: update order per sweep (default random)")
    p.add_argument("--beta0", type=common._float, default=0.5, metavar="B",
                   help="anneal: first inverse temperature (default 0.5)")
    p.add_argument("--beta1", type=common._float, default=5.0, metavar="B",
                   help="anneal: last inverse temperature (default 5)")
    add_output_options(p, csv_help="also write one row per run as CSV to PATH")
    p.set_defaults(handler=run_dynamics_cmd)

    text = ("Bethe (relaxed BP / AMP) estimate of (1/N) ln #FP of one network "
            "[fplandscape.sim.bp.bethe_entropy]")
    b = subparsers.add_parser("bp-entropy", help=text, description=text + ".",
                              epilog="With --n the network is network 0 of 'fplandscape "
                                     "accessibility' / 'dynamics' with the same --seed.")
    src = b.add_mutually_exclusive_group(required=True)
    src.add_argument("--couplings", metavar="FILE",
                     help="coupling matrix file (.npy, .npz with array J, .txt, .csv)")
    src.add_argument("--n", type=int, metavar="N", help="size of a random network (N >= 2)")
    b.add_argument("--jd", type=common._float, default=None, metavar="X",
                   help="self-coupling J_D (required with --n; overrides the file's diagonal)")
    b.add_argument("--eta", type=common._float, default=0.0, metavar="E",
                   help="--n: reciprocity eta in [-1, 1] (default 0)")
    common.add_seed(b, "the random network (--n) and the BP initialisation")
    b.add_argument("--damping", type=common._float, default=0.5, metavar="D",
                   help="damping in [0, 1) (default 0.5)")
    b.add_argument("--max-iter", type=int, default=1000, metavar="T",
                   help="at most T AMP updates (default 1000)")
    add_output_options(b, csv_help="also write the result row as CSV to PATH")
    b.set_defaults(handler=run_bp_entropy_cmd)

    text = ("accessibility scan: P(reach a fixed point) and sweeps to reach it vs J_D for "
            "several N and algorithms, finite-size 50-percent thresholds J_50(N) (logistic fit) and "
            "their extrapolation J_50(inf) [fplandscape.sim.accessibility.accessibility_scan]")
    q = subparsers.add_parser("accessibility", help=text, description=text + ".",
                              epilog="--n, --jd and --rules take space-separated lists; --n "
                                     "and --jd also the range START:STOP:NUM (numpy.linspace, "
                                     "NUM points, as in every command). --csv writes the cell "
                                     "rows (kind = cell) then the threshold rows (kind = "
                                     "finite_n / extrapolated).")
    common.add_values(q, "--n", kind=common.int_values, required=True, metavar="N",
                      help="numbers of neurons N >= 1, e.g. 200 400 800")
    common.add_values(q, "--jd", required=True, metavar="X",
                      help="self-couplings J_D, e.g. 0.3:1.0:15 or 0.3 0.5 0.7")
    common.add_words(q, "--rules", default=("async", "sync"), names=RULE_NAMES, metavar="RULE",
                     help="algorithms (fbp = focusing BP, fplandscape.sim.bp.focusing_bp)")
    q.add_argument("--runs", type=int, default=20, metavar="R",
                   help="runs per network and cell (default 20)")
    q.add_argument("--samples", type=int, default=1, metavar="M",
                   help="number of random networks M >= 1 per (N, J_D) (default 1; the same "
                        "networks for every J_D and algorithm)")
    # deprecated spelling (before the one vocabulary of issue 14), not in --help
    q.add_argument("--networks", dest="samples", type=int, default=argparse.SUPPRESS,
                   help=argparse.SUPPRESS)
    common.add_seed(q, "the networks and the runs")
    q.add_argument("--max-sweeps", type=int, default=1000, metavar="T",
                   help="sweep budget per run (default 1000)")
    q.add_argument("--eta", type=common._float, default=0.0, metavar="E",
                   help="reciprocity eta in [-1, 1] (default 0)")
    q.add_argument("--extrapolation", choices=EXTRAPOLATIONS, default="sqrt",
                   help="headline extrapolation form: J_50(N) = J_50(inf) + c/sqrt(N) (sqrt, "
                        "default) or + c/N (linear); both are reported")
    q.add_argument("--bootstrap", type=int, default=0, metavar="B",
                   help="also a parametric-bootstrap error of J_50 from B replicates "
                        "(default 0: delta method only)")
    common.add_parallel_options(q, what="cells (N, J_D, algorithm, network)")
    add_output_options(q, csv_help="also write the cell rows and the threshold rows as CSV "
                                   "to PATH")
    q.set_defaults(handler=run_accessibility_cmd)


# --------------------------------------------------------------------------------------------
# value parsing


def _rules(rules) -> list:
    from ..sim.algorithms import get_algorithm

    rules = [r.strip() for r in rules if r.strip()]
    require(bool(rules), "--rules must name at least one algorithm")
    require(len(set(rules)) == len(rules), f"--rules has repeated values: {' '.join(rules)}")
    for r in rules:
        get_algorithm(r)  # unknown names: InputError listing the available ones
    return rules


def _run_row(out: dict, r: int) -> dict:
    """Row of run r from an algorithm's per-run arrays (:mod:`fplandscape.sim.algorithms`):
    the flags, then the optional ``cycle2`` / ``energy``, the sweeps, the optional ``flips``,
    margin and mean stability."""
    row = {"run": r, "converged": bool(out["converged"][r]),
           "is_fixed_point": bool(out["reached"][r])}
    for key in ("cycle2", "energy"):
        if key in out:
            row[key] = bool(out[key][r]) if key == "cycle2" else int(out[key][r])
    row["sweeps"] = int(out["sweeps"][r])
    if "flips" in out:
        row["flips"] = int(out["flips"][r])
    row["margin"] = float(out["margin"][r])
    row["mean_stability"] = float(out["mean_stability"][r])
    return row


# --------------------------------------------------------------------------------------------
# handlers


def run_dynamics_cmd(args) -> Output:
    require(args.n >= 1, f"--n must be a positive integer, got {args.n}")
    require(args.runs >= 1, f"--runs must be a positive integer, got {args.runs}")
    require(args.seed >= 0, f"--seed must be a non-negative integer, got {args.seed}")
    require(args.max_sweeps >= 0, f"--max-sweeps must be >= 0, got {args.max_sweeps}")
    require(-1.0 <= args.eta <= 1.0, f"--eta must lie in [-1, 1], got {args.eta}")
    import numpy as np

    from .. import model
    from ..sim.accessibility import cell_seeds
    from ..sim.algorithms import get_algorithm
    from ..theory import typical_mean_stability

    algo = get_algorithm(args.rule)  # unknown names: InputError listing the available ones
    net_ss, run_ss = cell_seeds(args.seed, args.n, 0)
    J = model.gaussian_couplings(args.n, args.jd, eta=args.eta,
                                 seed=np.random.default_rng(net_ss))
    # the command's algorithm options (--order, --beta0, --beta1) go to the algorithms that
    # take them; the others run with their registered defaults
    given = {"order": args.order, "beta0": args.beta0, "beta1": args.beta1}
    options = {**algo.options, **{k: v for k, v in given.items() if k in algo.options}}
    out = algo.runner(J, runs=args.runs, max_sweeps=args.max_sweeps, seed=run_ss, **options)
    converged = np.asarray(out["converged"], dtype=bool)
    fixed = np.asarray(out["reached"], dtype=bool)
    sweeps = np.asarray(out["sweeps"])
    runs = [_run_row(out, r) for r in range(args.runs)]
    seconds = out.get("seconds")
    ok = sweeps[converged]
    obj = run_info(seed=args.seed, n=args.n, jd=args.jd, eta=args.eta, rule=args.rule,
                   max_sweeps=args.max_sweeps, num_runs=args.runs,
                   p_converged=float(np.mean(converged)),
                   p_fixed_point=float(np.mean(fixed)),
                   median_sweeps=float(np.median(ok)) if ok.size else None,
                   typical_mean_stability=float(typical_mean_stability(args.jd, args.n)),
                   seconds=seconds, runs=runs)
    meta = {k: obj[k] for k in ("version", "seed", "n", "jd", "eta", "rule", "max_sweeps")}
    rows = [{**meta, **r} for r in runs]
    text = (f"N = {args.n}, J_D = {common.format_value(args.jd)}, rule {args.rule}: "
            f"{int(np.sum(converged))}/{args.runs} runs converged, "
            f"{int(np.sum(fixed))} at a strict fixed point; median sweeps (converged runs) "
            f"{common.format_value(obj['median_sweeps'])}\n")
    text += common.format_table(runs[:20])
    if len(runs) > 20:
        text += f"\n... ({len(runs) - 20} more runs; use --json or --csv)"
    return Output(json=obj, rows=rows, text=text)


def run_accessibility_cmd(args) -> Output:
    require(args.runs >= 1, f"--runs must be a positive integer, got {args.runs}")
    require(args.samples >= 1, f"--samples must be a positive integer, got {args.samples}")
    require(args.seed >= 0, f"--seed must be a non-negative integer, got {args.seed}")
    require(args.max_sweeps >= 0, f"--max-sweeps must be >= 0, got {args.max_sweeps}")
    require(args.bootstrap >= 0, f"--bootstrap must be >= 0, got {args.bootstrap}")
    require(-1.0 <= args.eta <= 1.0, f"--eta must lie in [-1, 1], got {args.eta}")
    for n in args.n:
        require(n >= 1, f"N must be a positive integer, got {n}")
    require(len(set(args.n)) == len(args.n), f"--n has repeated values: {args.n}")
    require(len(set(args.jd)) == len(args.jd), f"--jd has repeated values: {args.jd}")
    from ..sim.accessibility import accessibility_scan
    from ..validate.reached import with_typical_mean_stability

    rules = _rules(args.rules)
    cells = len(args.n) * len(args.jd) * len(rules)
    require(cells <= MAX_GRID_POINTS, f"{cells} cells (N, J_D, algorithm) are too many; at most "
                                      f"{MAX_GRID_POINTS}")
    res = with_typical_mean_stability(accessibility_scan(
        args.n, args.jd, rules, runs=args.runs, samples=args.samples,
        max_sweeps=args.max_sweeps, seed=args.seed, eta=args.eta,
        extrapolation=args.extrapolation, bootstrap=args.bootstrap,
        **common.parallel_kwargs(args)))
    obj = {**res.info, "rows": res.rows, "thresholds": res.thresholds}
    cols = ["n", "jd", "rule", "runs", "reached", "p_reach", "p_reach_se", "median_sweeps",
            "mean_stability", "typical_mean_stability"]
    text = common.format_table(res.rows, cols)
    fin = [t for t in res.thresholds if t["kind"] == "finite_n"]
    text += "\n\nthresholds J_50(N) (logistic fit of p_reach vs J_D):\n" + common.format_table(
        fin, ["rule", "n", "j50", "j50_err", "status", "method", "width", "dispersion"])
    ext = [t for t in res.thresholds if t["kind"] == "extrapolated"]
    text += "\n\nextrapolation J_50(inf):\n" + common.format_table(
        ext, ["rule", "form", "headline", "j50_inf", "j50_inf_err", "slope", "chi2", "dof"])
    return Output(json=obj, rows=res.as_rows(), text=text)


def run_bp_entropy_cmd(args) -> Output:
    import numpy as np

    from .. import model
    from ..sim.accessibility import cell_seeds
    from ..sim.bp import bethe_entropy
    from ..theory import annealed_entropy

    require(args.seed >= 0, f"--seed must be a non-negative integer, got {args.seed}")
    if args.couplings is not None:
        require(args.eta == 0.0, "--eta applies to random networks (--n), not to --couplings")
        J = model.load_couplings(args.couplings)
        source = {"couplings": str(args.couplings)}
    else:
        require(args.n >= 2, f"--n must be at least 2, got {args.n}")
        require(args.jd is not None, "--jd is required with --n")
        require(-1.0 <= args.eta <= 1.0, f"--eta must lie in [-1, 1], got {args.eta}")
        net_ss, _ = cell_seeds(args.seed, args.n, 0)
        J = model.gaussian_couplings(args.n, args.jd, eta=args.eta,
                                     seed=np.random.default_rng(net_ss))
        source = {"n": args.n, "eta": args.eta}
    res = bethe_entropy(J, jd=args.jd, damping=args.damping, max_iter=args.max_iter,
                        seed=args.seed)
    obj = run_info(seed=args.seed, **source, jd=args.jd, size=res.n,
                   bethe_entropy=res.entropy, converged=res.converged,
                   iterations=res.iterations, max_change=res.max_change,
                   annealed_entropy=None if args.jd is None else
                   float(annealed_entropy(args.jd, args.eta if args.couplings is None else 0.0)),
                   seconds=res.seconds)
    text = (f"N = {res.n}: Bethe entropy {common.format_value(res.entropy)} per neuron "
            f"({'converged' if res.converged else 'NOT converged'} after {res.iterations} "
            f"updates)")
    return Output(json=obj, rows=[obj], text=text)
