"""``fplandscape reproduce``: thin layer over :func:`fplandscape.validate.reproduce.reproduce`."""
from __future__ import annotations

import sys

from .. import tables


def register(subparsers) -> None:
    """Add the ``reproduce`` command to the top-level subparsers."""
    text = ("regenerate the study's data tables (analytic part: entropies, pair entropy, "
            "local-entropy curves, critical self-couplings) "
            "[fplandscape.validate.reproduce.reproduce]")
    p = subparsers.add_parser("reproduce", help=text, description=text + ".")
    p.add_argument("--quick", action="store_true",
                   help="coarser grids and only the gap and energetic criteria (one to two minutes)")
    p.add_argument("--out", default="figures", metavar="DIR",
                   help="output directory; tables go to DIR/data (default: figures)")
    p.add_argument("--json", action="store_true",
                   help="print the summary as one JSON object on stdout (progress on stderr)")
    p.set_defaults(handler=run)


def run(args) -> int:
    from ..validate.reproduce import reproduce

    stream = sys.stderr if args.json else sys.stdout
    summary = reproduce(args.out, quick=args.quick, stream=stream)
    if args.json:
        print(tables.dumps(summary))
    for failure in summary["failures"]:
        print(f"error: {failure['step']}: {failure['error']}", file=sys.stderr)
    return 1 if summary["failures"] else 0
