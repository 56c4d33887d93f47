"""``fplandscape reproduce`` and ``fplandscape figures``: thin layers over
:func:`fplandscape.reproduce.reproduce` and :func:`fplandscape.figures.make_figure` (imported
by the handlers; ``--help`` needs only :data:`fplandscape.figures.NAMES`)."""
from __future__ import annotations

import sys
import warnings

from .. import tables
from . import common
from .common import Output, require


def _shared(p, *, what):
    p.add_argument("--quick", action="store_true",
                   help="coarse grids and few networks (minutes instead of the full run)")
    p.add_argument("--out", default=None, metavar="DIR",
                   help="output directory: figures in DIR, data tables in DIR/data "
                        "(default: figures, the committed gallery, for the full run; "
                        "figures-quick with --quick, so a quick run never overwrites it)")
    common.add_seed(p, "every random network and run")
    common.add_parallel_options(
        p, what=what, checkpoint_option=False,
        resume_help="keep finished figures and resume interrupted simulations from their "
                    "checkpoints (same command and options)")


def register(subparsers) -> None:
    """Add the ``reproduce`` and ``figures`` commands to the top-level subparsers."""
    text = ("regenerate the study: critical self-couplings, every figure of docs/figures.md with its "
            "data, and a summary table (theory vs simulation) "
            "[fplandscape.reproduce.reproduce]")
    p = subparsers.add_parser("reproduce", help=text, description=text + ".",
                              epilog="The full run takes about 25 min on 2 cores; --quick "
                                     "under 3 min.")
    _shared(p, what="simulations and theory grids")
    p.add_argument("--json", action="store_true",
                   help="print the summary as one JSON object on stdout (progress on stderr)")
    p.set_defaults(handler=run)

    from ..figures import NAMES

    text = ("make figures of docs/figures.md (PNG, PDF, data CSV and JSON) "
            "[fplandscape.figures.make_figure]")
    f = subparsers.add_parser("figures", help=text, description=text + ".",
                              epilog="available: " + ", ".join(NAMES))
    f.add_argument("names", nargs="*", metavar="NAME", help="figures to make")
    f.add_argument("--all", action="store_true", help="make every figure")
    f.add_argument("--list", action="store_true", help="list the figures and exit")
    f.add_argument("--replot", action="store_true",
                   help="redraw from the data already in DIR/data, computing nothing "
                        "[fplandscape.figures.replot_figure]")
    _shared(f, what="simulations and theory grids")
    common.add_output_options(f, csv_help="also write one row per figure made (name, paths, "
                                          "seconds) as CSV to PATH")
    f.set_defaults(handler=run_figures)


def _check(args):
    from ..figures import default_out_dir

    args.out = str(default_out_dir(args.quick, args.out))
    require(args.seed >= 0, f"--seed must be a non-negative integer, got {args.seed}")
    common.check_workers(args)
    tables.check_dir_writable(args.out, "--out directory")


def run(args) -> int:
    from ..reproduce import reproduce

    _check(args)
    stream = sys.stderr if args.json else sys.stdout
    summary = reproduce(args.out, quick=args.quick, seed=args.seed, workers=args.workers,
                        scheduler=args.scheduler, resume=args.resume, progress=args.progress,
                        stream=stream)
    if args.json:
        print(tables.dumps(summary))
    for failure in summary["failures"]:
        print(f"error: {failure['step']}: {failure['error']}", file=sys.stderr)
    return 1 if summary["failures"] else 0


def run_figures(args):
    from ..figures import FIGURES, make_figure

    from ..learn.data import DataFallbackWarning
    from ..reproduce import data_warnings

    if args.list:
        rows = [{"name": n, "title": m.TITLE} for n, m in FIGURES.items()]
        return Output(json={"figures": rows}, rows=rows, text=common.format_table(rows))
    _check(args)
    require(args.all or args.names, "name at least one figure, or pass --all (see --list)")
    require(not (args.all and args.names), "pass either figure names or --all, not both")
    names = list(FIGURES) if args.all else args.names
    for n in names:
        require(n in FIGURES, f"unknown figure {n!r}; choose from {', '.join(FIGURES)}")
    rows = []
    if args.replot:
        from ..figures import replot_figure

        for n in names:
            res = replot_figure(n, args.out)
            rows.append({"name": n, **res.paths, "seconds": res.seconds, "reused": True})
        return Output(json={"figures": rows}, rows=rows,
                      text=common.format_table(rows, ["name", "png", "seconds"]))
    critical = {}  # the critical self-couplings, solved once for all the figures made
    for n in names:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", DataFallbackWarning)
            res = make_figure(n, args.out, quick=args.quick, seed=args.seed,
                              resume=args.resume, critical=critical, workers=args.workers,
                              scheduler=args.scheduler, checkpoint=True, progress=args.progress)
        notes = []
        for w in caught:
            if issubclass(w.category, DataFallbackWarning):
                notes.append(str(w.message))
            else:
                warnings.showwarning(w.message, w.category, w.filename, w.lineno)
        rows.append({"name": n, **res.paths, "seconds": res.seconds, "reused": res.reused})
        print(f"{'kept' if res.reused else 'wrote'} {res.paths['png']} ({res.seconds:.1f} s)",
              file=sys.stderr)
        for note in dict.fromkeys(notes or data_warnings(n, res.rows)):
            print(f"warning: {note}", file=sys.stderr)
    return Output(json={"figures": rows, "seed": args.seed, "quick": args.quick},
                  rows=rows, text=common.format_table(rows, ["name", "png", "seconds"]))
