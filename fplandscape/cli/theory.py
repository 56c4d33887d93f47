"""``fplandscape theory ...``: thin command-line layers over :mod:`fplandscape.theory`.

Each subcommand calls one documented function (named in its help text) and prints its result.
The theory (and SciPy) is imported by the handlers, not by ``--help``.
"""
from __future__ import annotations

import math
import sys

from .. import tables
from .._version import __version__
from ..provenance import Stopwatch, run_info
from . import common
from .common import Output, add_output_options, add_values, grid, points, require

#: The choices of ``--kind`` and ``--criterion``: :data:`fplandscape.theory.KINDS` and
#: :data:`fplandscape.theory.CRITERIA`, written out so that ``--help`` does not import the theory
#: (tests/test_startup.py checks that they are equal).
KINDS = ("annealed", "franz-parisi", "large-deviation")
CRITERIA = ("gap", "energetic", "entropic", "ld")


def register(subparsers) -> None:
    """Add the ``theory`` command group to the top-level subparsers."""
    parser = subparsers.add_parser(
        "theory", help="analytic free entropies and critical self-couplings (docs/formulas.md, docs/critical.md)",
        description="Analytic theory of fixed points (fplandscape.theory). Every subcommand "
                    "is a thin layer over one function of fplandscape.theory.")
    sub = parser.add_subparsers(dest="theory_command", metavar="COMMAND", required=True)
    for add in (_entropy, _moments, _pair_entropy, _local_entropy, _critical, _rs_entropy,
                _isolation_radius):
        add(sub)


def _command(sub, name, function, summary):
    """A subcommand parser whose help names the Python function it wraps."""
    text = f"{summary} [{function}]"
    return sub.add_parser(name, help=text, description=text + ".")


def _layers_out(layers):
    return "inf" if math.isinf(layers) else int(layers)


# --------------------------------------------------------------------------------------------
# entropy


def _entropy(sub):
    p = _command(sub, "entropy", "fplandscape.theory.annealed_entropy",
                 "annealed entropy per neuron s(J_D) (E2) or s(eta, J_D) (E2eta); with --layers/"
                 "--lam the modular chain (E2lambda, fplandscape.theory.modular_entropy)")
    add_values(p, "--jd", required=True, help="self-coupling J_D")
    add_values(p, "--eta", default=[0.0], metavar="E",
               help="reciprocity eta = corr(J_ij, J_ji) in [-1, 1] (default 0)")
    add_values(p, "--layers", kind=common.layers_values, metavar="L",
               help="number of modules L of the modular chain, a positive integer or inf "
                    "(switches to fplandscape.theory.modular_entropy; default inf when --lam "
                    "is given)")
    add_values(p, "--lam", metavar="LAMBDA",
               help="inter-module coupling lambda >= 0 of the modular chain (default 0 when "
                    "--layers is given)")
    add_output_options(p)
    p.set_defaults(handler=run_entropy)


def run_entropy(args) -> Output:
    from .. import theory

    modular = args.layers is not None or args.lam is not None
    if not modular:
        rows = []
        for pt in grid(jd=args.jd, eta=args.eta):
            rows.append({**pt, "entropy": theory.annealed_entropy(pt["jd"], pt["eta"])})
        return points(rows, ["jd", "eta", "entropy"])
    require(all(e == 0.0 for e in args.eta),
            "the modular chain (--layers/--lam) is implemented for eta = 0 only")
    layers = args.layers if args.layers is not None else [math.inf]
    lams = args.lam if args.lam is not None else [0.0]
    rows = []
    for pt in grid(jd=args.jd, layers=layers, lam=lams):
        s = theory.modular_entropy(pt["jd"], pt["lam"], pt["layers"])
        rows.append({"jd": pt["jd"], "eta": 0.0, "layers": _layers_out(pt["layers"]),
                     "lam": pt["lam"], "entropy": s})
    return points(rows, ["jd", "eta", "layers", "lam", "entropy"])


# --------------------------------------------------------------------------------------------
# moments


def _moments(sub):
    p = _command(sub, "moments", "fplandscape.theory.log_expected_count / log_expected_pairs",
                 "exact finite-N mean number of fixed points (E1) and of ordered pairs of fixed "
                 "points at each Hamming distance k = 0..N (E4), eta = 0")
    add_values(p, "--n", kind=common.int_values, required=True, metavar="N",
               help="number of neurons N >= 1")
    add_values(p, "--jd", required=True, help="self-coupling J_D")
    add_output_options(p)
    p.set_defaults(handler=run_moments)


def run_moments(args) -> Output:
    import numpy as np

    from .. import theory

    for n in args.n:
        require(n >= 1, f"N must be a positive integer, got {n}")
    rows = []
    for pt in grid(n=args.n, jd=args.jd):
        log_count = theory.log_expected_count(pt["n"], pt["jd"])
        log_pairs = np.asarray(theory.log_expected_pairs(pt["n"], pt["jd"]), dtype=float)
        with np.errstate(over="ignore"):
            rows.append({**pt, "expected_count": float(np.exp(log_count)),
                         "expected_pairs": np.exp(log_pairs).tolist(),
                         "log_expected_count": float(log_count),
                         "log_expected_pairs": log_pairs.tolist()})
    out = points(rows, ["n", "jd", "expected_count", "log_expected_count"])
    if len(rows) == 1:  # readable: the pair counts per distance
        r = out.rows[0]
        per_k = [{"k": k, "expected_pairs": e, "log_expected_pairs": le}
                 for k, (e, le) in enumerate(zip(r["expected_pairs"], r["log_expected_pairs"]))]
        out.text = (f"N = {r['n']}, J_D = {common.format_value(r['jd'])}: "
                    f"E[#FP] = {common.format_value(r['expected_count'])} "
                    f"(ln = {common.format_value(r['log_expected_count'])})\n"
                    "ordered pairs of fixed points at Hamming distance k:\n"
                    + common.format_table(per_k))
    return out


# --------------------------------------------------------------------------------------------
# pair entropy


def _pair_entropy(sub):
    p = _command(sub, "pair-entropy", "fplandscape.theory.pair_entropy",
                 "annealed entropy S2(q) of ordered pairs of fixed points at overlap q (E3)")
    add_values(p, "--jd", required=True, help="self-coupling J_D")
    add_values(p, "--q", required=True, metavar="Q", help="overlap q in [-1, 1]")
    add_output_options(p)
    p.set_defaults(handler=run_pair_entropy)


def run_pair_entropy(args) -> Output:
    from .. import theory

    rows = [{**pt, "pair_entropy": theory.pair_entropy(pt["jd"], pt["q"])}
            for pt in grid(jd=args.jd, q=args.q)]
    return points(rows, ["jd", "q", "pair_entropy"])


# --------------------------------------------------------------------------------------------
# local entropy


def _kappa(token: str):
    if token.strip().lower() == "jd":
        return "jd"
    return common._float(token)


_kappa.__name__ = "kappa"


def _local_entropy(sub):
    p = _command(sub, "local-entropy", "fplandscape.theory.local_entropy",
                 "local entropy phi(d) of fixed points at distance d*N from a reference fixed "
                 "point: annealed (E5), Franz-Parisi (E6) or large deviations (E7)")
    add_values(p, "--jd", required=True,
               help="self-coupling J_D (one curve per value; with kappa = 'jd' each curve "
                    "uses kappa = its own J_D)")
    p.add_argument("--kind", choices=KINDS, default="franz-parisi",
                   help="annealed (typical references, closed form), franz-parisi (RS, "
                        "references with margin kappa) or large-deviation (tilt y); "
                        "default franz-parisi")
    p.add_argument("--kappa", type=_kappa, default=0.0, metavar="K",
                   help="margin of the reference fixed points, a number in [0, J_D] or the word "
                        "'jd' for kappa = J_D (the most robust references); default 0")
    p.add_argument("--y", type=common._float, default=None, metavar="Y",
                   help="large-deviation tilt y > 0 (default: densest references, "
                        "Sigma_ext(y*) = 0)")
    add_values(p, "--d", metavar="D",
               help="distances d = Hamming distance / N in (0, 1/2] (default "
                    "fplandscape.theory.default_distances(): 50 points uniform in sqrt(d))")
    add_output_options(p, csv_help="also write the curve as CSV to PATH, one row per d "
                                   "(LocalEntropyCurve.as_rows(), with a version column)")
    p.set_defaults(handler=run_local_entropy)


def run_local_entropy(args) -> Output:
    """One curve per --jd value; the JSON object is ``{"curves": [...], "version": ...}``
    however many values were given; the rows (table, CSV) are one per point of each curve."""
    curves, rows, texts = [], [], []
    for jd in args.jd:
        obj, curve_rows, text = _local_entropy_curve(args, jd)
        curves.append(obj)
        rows += curve_rows
        texts.append(text)
    obj = {"curves": curves, "version": __version__}
    return Output(json=obj, rows=rows, text="\n\n".join(texts))


def _local_entropy_curve(args, jd):
    import numpy as np

    from .. import theory

    kappa = jd if args.kappa == "jd" else args.kappa
    with Stopwatch() as sw:
        curve = theory.local_entropy(jd, args.kind, d=args.d, kappa=kappa, y=args.y)
    obj = run_info(jd=curve.jd, kind=curve.kind, kappa=curve.kappa, y=args.y,
                   d=np.asarray(curve.d).tolist(),
                   local_entropy=np.asarray(curve.local_entropy).tolist(),
                   converged=np.asarray(curve.converged).tolist())
    if curve.y is not None:
        obj["y_used"] = np.asarray(curve.y).tolist()
    obj["seconds"] = sw.seconds
    rows = curve.as_rows()
    cols = ["d", "local_entropy", "converged"] + (["y"] if curve.y is not None else [])
    n_bad = int(np.sum(~np.asarray(curve.converged, dtype=bool)))
    title = (f"{curve.kind} local entropy, J_D = {common.format_value(curve.jd)}, "
             f"kappa = {common.format_value(curve.kappa)}"
             + (f", y = {common.format_value(args.y)}" if args.y is not None else "")
             + (f"  ({n_bad} point(s) NOT converged)" if n_bad else ""))
    return obj, rows, title + "\n" + common.format_table(rows, cols)


# --------------------------------------------------------------------------------------------
# critical self-couplings


def _critical(sub):
    p = _command(sub, "critical", "fplandscape.theory.critical_self_coupling",
                 "a named critical self-coupling (docs/critical.md): root of the criterion function by "
                 "brentq in a verified bracket")
    p.add_argument("--criterion", choices=CRITERIA, required=True,
                   help="gap (instant); energetic, entropic or ld (tens of seconds to a "
                        "minute or two each)")
    p.add_argument("--tol", type=common._float, default=None, metavar="T",
                   help="absolute tolerance on J_D (default: the criterion's own)")
    p.add_argument("--bracket", type=common._float, nargs=2, default=None, metavar=("LO", "HI"),
                   help="initial bracket on J_D, LO < HI (default: the criterion's own; a "
                        "coarse scan is used if it holds no sign change)")
    p.add_argument("--evidence", metavar="PATH",
                   help="also write the curve that decides the criterion at the threshold "
                        "(CriticalValue.evidence) as CSV to PATH")
    add_output_options(p)
    common.output_paths(p, "evidence")
    p.set_defaults(handler=run_critical)


def run_critical(args) -> Output:
    from .. import theory

    if args.tol is not None:
        require(args.tol > 0, f"--tol must be positive, got {args.tol:g}")
    kwargs = {"tol": args.tol, "evidence": args.evidence is not None}
    if args.bracket is not None:
        lo, hi = args.bracket
        require(lo < hi, f"--bracket LO HI needs LO < HI, got {lo:g} {hi:g}")
        kwargs["bracket"] = (lo, hi)
    value = theory.critical_self_coupling(args.criterion, **kwargs)
    if args.evidence is not None:
        ev = [run_info(criterion=value.criterion, **row) for row in value.evidence]
        path = tables.write_csv(args.evidence, ev)
        print(f"wrote {len(ev)} evidence row(s) to {path}", file=sys.stderr)
    obj = run_info(criterion=value.criterion, jd=value.jd, tolerance=value.tolerance,
                   bracket=list(value.bracket), converged=value.converged,
                   seconds=value.seconds, description=value.description)
    row = run_info(**value.as_row())
    text = common.format_table([row], ["criterion", "jd", "tolerance", "bracket_lo",
                                       "bracket_hi", "converged", "seconds"])
    return Output(json=obj, rows=[row], text=value.description + "\n" + text)


# --------------------------------------------------------------------------------------------
# RS quenched entropy, isolation radius


def _rs_entropy(sub):
    p = _command(sub, "rs-entropy", "fplandscape.theory.quenched_entropy_rs",
                 "replica-symmetric quenched entropy (E-RS), checked against the annealed (E2)")
    add_values(p, "--jd", required=True, help="self-coupling J_D")
    add_output_options(p)
    p.set_defaults(handler=run_rs_entropy)


def run_rs_entropy(args) -> Output:
    from .. import theory

    rows = []
    for jd in args.jd:
        r = theory.quenched_entropy_rs(jd)
        rows.append({"jd": jd, "entropy": r.entropy, "q": r.q, "lam": r.lam,
                     "annealed": r.annealed, "converged": r.converged,
                     "iterations": r.iterations, "equals_annealed": r.equals_annealed})
    return points(rows, ["jd", "entropy", "annealed", "q", "lam", "converged", "iterations"])


def _isolation_radius(sub):
    p = _command(sub, "isolation-radius", "fplandscape.theory.isolation_radius",
                 "isolation radius d0(J_D): smallest d > 0 where the annealed local entropy "
                 "(E5) returns to 0: 1/2 at J_D = 0, nan (JSON null) for J_D < 0")
    add_values(p, "--jd", required=True, help="self-coupling J_D")
    add_output_options(p)
    p.set_defaults(handler=run_isolation_radius)


def run_isolation_radius(args) -> Output:
    from .. import theory

    rows = [{"jd": jd, "d0": theory.isolation_radius(jd)} for jd in args.jd]
    return points(rows, ["jd", "d0"])

