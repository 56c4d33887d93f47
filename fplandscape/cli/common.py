"""Shared pieces of the command-line interface: output options, value lists, output.

Conventions every subcommand follows:

* ``--json`` prints exactly one JSON object on stdout (:func:`fplandscape.tables.dumps`:
  strict JSON, non-finite numbers become ``null``); without it a readable aligned table
  (:func:`fplandscape.tables.format_table`). Its top-level layout never depends on how many
  parameter points were asked for: one row per point is ``{"rows": [...], "version": ...}``
  (:func:`points`), one curve per point ``{"curves": [...], "version": ...}``, one result per
  input ``{"results": [...], "version": ...}``.
* ``--csv PATH`` also writes the tidy rows (one per parameter point, with a ``version``
  column) via :func:`fplandscape.tables.write_csv`. Every output path is checked *before* any
  computation (:func:`check_outputs`, called by :func:`fplandscape.cli.main`).
* Parameter options taking several values accept a space-separated list (``--jd 0.1 0.2``;
  never commas: a comma is refused with a hint) and the range form ``START:STOP:NUM`` meaning
  ``numpy.linspace(START, STOP, NUM)`` (``--jd 0:1:21``; NUM must be an integer). A range
  starting with a minus sign must be attached with ``=`` (``--eta=-1:1:5``). A list or range
  has at most :data:`~fplandscape.errors.MAX_GRID_POINTS` points, and so has the whole
  parameter grid (:func:`grid`).
* Integer options accept exact integers only: ``200``, ``1e5`` or ``2.0e3`` (integral values in
  any notation), not ``1.5``, ``nan`` or ``inf`` (:func:`integer`, used for every ``type=int``).
* Count-like options (``--samples``, ``--runs``, ``--epochs``, ``--n``, …) have the upper limits
  of :data:`fplandscape.errors.COUNT_LIMITS` (:data:`OPTION_LIMITS`), stated in their ``--help``
  and checked when the command line is parsed, before any work.
* Lists of words (``--rules async sync``, ``--criteria gap energetic``) are space-separated too.
* ``--seed S`` defaults to 0 in every subcommand (:func:`add_seed`).
* ``--checkpoint DIR`` always names the directory that journals a run so that ``--resume``
  finishes it; without it a run uses an automatic directory removed after success.
* A usage error names the help of the subcommand it occurred in (``see 'fplandscape theory
  entropy --help'``).
"""
from __future__ import annotations

import argparse
import itertools
import math
import numbers
import sys
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from .. import tables
from .._version import __version__
from ..errors import (COUNT_LIMITS, MAX_GRID_POINTS, MAX_NEURONS, InputError, show_count)
from ..provenance import run_info
from ..tables import format_table, format_value  # noqa: F401 (used by every subcommand)

# --------------------------------------------------------------------------------------------
# parser


class CLIError(Exception):
    """A command-line usage error (reported as ``error: <message>``, exit status 2)."""

    def __init__(self, message, prog=None):
        super().__init__(message)
        self.prog = prog


#: Upper limit of each count-like option, by ``dest`` (:data:`fplandscape.errors.COUNT_LIMITS`
#: plus the numbers of neurons ``--n``). Applied to every subcommand by :func:`apply_limits`.
OPTION_LIMITS = {**COUNT_LIMITS, "n": MAX_NEURONS}


class ArgumentParser(argparse.ArgumentParser):
    """argparse parser whose usage errors raise :class:`CLIError` instead of exiting, so that
    :func:`fplandscape.cli.main` reports every error the same way. ``type=int`` means the
    strict :func:`integer`; options tagged by :func:`apply_limits` are checked against their
    limit as soon as the command line is parsed."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.register("type", int, integer)  # shared with argument groups and subparsers

    def error(self, message):
        raise CLIError(message, prog=self.prog)

    def parse_args(self, args=None, namespace=None):
        """As argparse, but unrecognised arguments are reported by the innermost subcommand
        selected (so the error points to that subcommand's ``--help``)."""
        namespace, extras = self.parse_known_args(args, namespace)
        if extras:
            self._selected(namespace).error(f"unrecognized arguments: {' '.join(extras)}")
        return namespace

    def _selected(self, namespace):
        """The innermost (sub)parser that ``namespace`` selected."""
        for action in self._actions:
            if isinstance(action, argparse._SubParsersAction):
                sub = action.choices.get(getattr(namespace, action.dest, None))
                if isinstance(sub, ArgumentParser):
                    return sub._selected(namespace)
        return self

    def parse_known_args(self, args=None, namespace=None):
        namespace, rest = super().parse_known_args(args, namespace)
        for action in self._actions:
            limit = getattr(action, "limit", None)
            value = getattr(namespace, action.dest, None) if limit is not None else None
            for v in (value if isinstance(value, list) else [value]):
                if isinstance(v, numbers.Integral) and not isinstance(v, bool) and v > limit:
                    self.error(f"{'/'.join(action.option_strings)} must be ≤ {limit} "
                               f"(got {show_count(int(v))})")
        return namespace, rest


def apply_limits(parser, limits=None) -> None:
    """Tag every option of ``parser`` and of its subcommands whose ``dest`` has a limit in
    ``limits`` (default :data:`OPTION_LIMITS`) and state the limit in its help text."""
    limits = OPTION_LIMITS if limits is None else limits
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in dict.fromkeys(action.choices.values()):
                apply_limits(sub, limits)
        elif action.option_strings and action.dest in limits and action.nargs != 0:
            action.limit = limits[action.dest]
            if action.help and action.help is not argparse.SUPPRESS:
                action.help = f"{action.help}; at most {action.limit}"
            elif action.help is None:
                action.help = f"at most {action.limit}"


def limits_text() -> str:
    """The size limits, readable (for the top-level ``--help``)."""
    from .. import errors

    items = [("--n, --hidden, --k (neurons)", errors.MAX_NEURONS),
             ("--samples", errors.MAX_SAMPLES),
             ("--runs, --starts", errors.MAX_RUNS),
             ("--max-sweeps, --sweeps, --steps, --transient, --max-iter", errors.MAX_STEPS),
             ("--epochs", errors.MAX_EPOCHS), ("--bootstrap", errors.MAX_BOOTSTRAP),
             ("--layers", errors.MAX_LAYERS),
             ("--batch, --train-size, --test-size", errors.MAX_EXAMPLES),
             ("--workers", errors.MAX_WORKERS),
             ("points of a value list, range or parameter grid", errors.MAX_GRID_POINTS)]
    return "; ".join(f"{what} ≤ {limit}" for what, limit in items)


def integer(token: str) -> int:
    """argparse ``type`` for one exact integer: ``12``, ``-3``, ``1e5``, ``2.0e3`` (an integral
    value in any decimal notation); not ``1.5``, ``nan``, ``inf`` or ``0x10``. Values of more than
    1000 digits are refused outright (no huge integer is ever built)."""
    try:
        d = Decimal(token.strip())
    except InvalidOperation:
        raise argparse.ArgumentTypeError(f"not an integer: {token!r}") from None
    if not d.is_finite():
        raise argparse.ArgumentTypeError(f"not an integer: {token!r}")
    if d and d.adjusted() > 1000:
        raise argparse.ArgumentTypeError(f"integer out of range: {token!r}")
    if d != d.to_integral_value():
        raise argparse.ArgumentTypeError(f"not an integer: {token!r}")
    return int(d)


integer.__name__ = "integer"


def add_output_options(parser, *, csv_help=None):
    """Add ``--json`` and ``--csv PATH`` to a subcommand parser."""
    group = parser.add_argument_group("output")
    group.add_argument("--json", action="store_true",
                       help="print exactly one JSON object on stdout instead of a table")
    group.add_argument("--csv", metavar="PATH",
                       help=csv_help or "also write the rows (one per parameter point, with a "
                                        "version column) as CSV to PATH")
    return group


def add_parallel_options(parser, *, what="tasks", checkpoint_option: bool = True,
                         resume_help=None):
    """Add ``--workers``, ``--scheduler``, ``--checkpoint`` (unless ``checkpoint_option`` is
    False: commands that run many simulations use automatic checkpoints only), ``--resume``
    and ``--progress/--no-progress`` (see :mod:`fplandscape.parallel`)."""
    group = parser.add_argument_group("parallel runs, progress and resuming")
    group.add_argument("--workers", type=int, default=None, metavar="W",
                       help=f"local workers for the {what} (default: all cores; 1 = serial)")
    group.add_argument("--scheduler", metavar="ADDRESS", default=None,
                       help="run the tasks on this Dask cluster, e.g. tcp://127.0.0.1:8786 (for "
                            "a local cluster: dask scheduler --host 127.0.0.1 "
                            "--dashboard-address 127.0.0.1, and dask worker "
                            "tcp://127.0.0.1:8786); checked before any work; needs pip install "
                            "'fplandscape[dask]'")
    if checkpoint_option:
        group.add_argument("--checkpoint", metavar="DIR", default=None,
                           help="journal finished tasks in DIR and keep it (default: an "
                                "automatic directory under ~/.cache/fplandscape/checkpoints, or "
                                "$FPLANDSCAPE_CHECKPOINTS, removed after success)")
    group.add_argument("--resume", action="store_true",
                       help=resume_help or "finish an interrupted run of the same command from "
                                           "its checkpoint (the result is exactly that of an "
                                           "uninterrupted run)")
    group.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                       help="progress bar with ETA on stderr (default: when stderr is a "
                            "terminal)")
    return group


def check_workers(args) -> None:
    """``--workers`` must be a positive integer when given; ``--scheduler`` (when the command
    has it) must be a Dask scheduler address (:func:`fplandscape.parallel.check_scheduler`),
    both checked before any work."""
    require(args.workers is None or args.workers >= 1,
            f"--workers must be a positive integer, got {args.workers}")
    if getattr(args, "scheduler", None) is not None:
        from ..parallel import check_scheduler

        args.scheduler = check_scheduler(args.scheduler)


def add_seed(parser, what: str = "", note: str = "") -> None:
    """Add ``--seed S`` (default 0, the same in every subcommand); ``what`` says what it
    seeds, ``note`` adds a remark inside the parentheses."""
    text = "non-negative integer seed" + (f" of {what}" if what else "")
    parser.add_argument("--seed", type=int, default=0, metavar="S",
                        help=f"{text} (default 0{'; ' + note if note else ''})")


def parallel_kwargs(args) -> dict:
    """The keyword arguments of :func:`add_parallel_options` for the Python functions
    (workers and scheduler checked first, :func:`check_workers`)."""
    check_workers(args)
    return {"workers": args.workers, "scheduler": args.scheduler,
            "checkpoint": args.checkpoint if args.checkpoint is not None else True,
            "resume": args.resume, "progress": args.progress}


def output_paths(parser, *names):
    """Declare extra output-path options (attribute names) that :func:`check_outputs` must
    validate before computing, besides ``--csv``."""
    parser.set_defaults(_output_paths=tuple(names))


def output_dirs(parser, *names):
    """Declare extra output-directory options (attribute names) that :func:`check_outputs` must
    validate before computing, besides ``--checkpoint``."""
    parser.set_defaults(_output_dirs=tuple(names))


def check_outputs(args):
    """Check every output path of a parsed command line before any computation: the files
    ``--csv`` and those declared by :func:`output_paths` can be written
    (:func:`fplandscape.tables.check_writable`, a real probe), the directories ``--checkpoint``
    and those declared by :func:`output_dirs` can be created or written into
    (:func:`fplandscape.tables.check_dir_writable`)."""
    for name in ("csv",) + tuple(getattr(args, "_output_paths", ())):
        path = getattr(args, name, None)
        if path is not None:
            tables.check_writable(path)
    for name in ("checkpoint",) + tuple(getattr(args, "_output_dirs", ())):
        path = getattr(args, name, None)
        if isinstance(path, (str, bytes)) or hasattr(path, "__fspath__"):
            tables.check_dir_writable(path, f"--{name.replace('_', '-')} directory")


# --------------------------------------------------------------------------------------------
# value lists


def _no_commas(token: str) -> None:
    if "," in token:
        words = " ".join(t for t in token.replace(",", " ").split())
        raise argparse.ArgumentTypeError(
            f"lists are space-separated: write {words!r}, not {token.strip()!r}")


def _float(token: str, *, allow_inf: bool = False) -> float:
    _no_commas(token)
    try:
        value = float(token)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {token!r}") from None
    if math.isnan(value) or (math.isinf(value) and not allow_inf):
        raise argparse.ArgumentTypeError(f"not a finite number: {token!r}")
    return value


def parse_values(token: str, *, allow_inf: bool = False) -> list[float]:
    """One command-line token -> list of floats: ``0.1`` -> [0.1];
    ``START:STOP:NUM`` -> ``numpy.linspace(START, STOP, NUM)`` (NUM an integer number of
    points, never a step)."""
    token = token.strip()
    _no_commas(token)
    if ":" not in token:
        return [_float(token, allow_inf=allow_inf)]
    parts = token.split(":")
    if len(parts) != 3:
        raise argparse.ArgumentTypeError(f"range {token!r} must have the form START:STOP:NUM")
    start, stop = _float(parts[0]), _float(parts[1])
    try:
        num = integer(parts[2])
    except argparse.ArgumentTypeError:
        raise argparse.ArgumentTypeError(
            f"range {token!r}: NUM must be a positive integer number of points (ranges are "
            f"START:STOP:NUM, numpy.linspace), got {parts[2]!r}") from None
    if num < 1:
        raise argparse.ArgumentTypeError(f"range {token!r}: NUM must be at least 1, got {num}")
    if num > MAX_GRID_POINTS:
        raise argparse.ArgumentTypeError(f"range {token!r}: NUM must be ≤ {MAX_GRID_POINTS} "
                                         f"(got {show_count(num)})")
    import numpy as np  # only for a range (the command line starts without NumPy)

    return [float(v) for v in np.linspace(start, stop, num)]


def float_values(token: str) -> list[float]:
    """argparse ``type`` for finite real values (list or range form)."""
    return parse_values(token)


float_values.__name__ = "number"


def int_values(token: str) -> list[int]:
    """argparse ``type`` for integer values (list, or a range whose points are integers)."""
    _no_commas(token)
    if ":" not in token:
        return [integer(token)]  # exact, whatever its size (a float would round above 2^53)
    out = []
    for v in parse_values(token):
        if v != int(v):
            raise argparse.ArgumentTypeError(f"not an integer: {v:g} (from {token!r})")
        out.append(int(v))
    return out


int_values.__name__ = "integer"


def layers_values(token: str) -> list:
    """argparse ``type`` for numbers of modules: positive integers or ``inf``."""
    out = []
    for v in parse_values(token, allow_inf=True):
        if math.isinf(v):
            if v < 0:
                raise argparse.ArgumentTypeError(f"layers must be positive or inf, got {token!r}")
            out.append(math.inf)
        elif v != int(v) or v < 1:
            raise argparse.ArgumentTypeError(f"layers must be a positive integer or inf, got {v:g}")
        else:
            out.append(int(v))
    return out


layers_values.__name__ = "layers"


class _Flatten(argparse.Action):
    """Collect the per-token lists of a ``nargs='+'`` value option into one flat list."""

    def __call__(self, parser, namespace, values, option_string=None):
        setattr(namespace, self.dest, [v for chunk in values for v in chunk])


def add_values(parser, *flags, kind=float_values, required=False, default=None, metavar="X",
               help=None):
    """Add an option taking one or more values (list or ``START:STOP:NUM`` range form)."""
    text = (help or "") + (f" (several values or START:STOP:NUM allowed, at most "
                           f"{MAX_GRID_POINTS} points)")
    return parser.add_argument(*flags, nargs="+", type=kind, action=_Flatten, required=required,
                               default=default, metavar=metavar, help=text)


def word(token: str) -> str:
    """argparse ``type`` for one word of a space-separated list (``--rules async sync``)."""
    _no_commas(token)
    token = token.strip()
    if not token:
        raise argparse.ArgumentTypeError("empty word")
    return token


word.__name__ = "word"


def add_words(parser, flag, *, default, names, metavar="NAME", help=""):
    """Add an option taking one or more space-separated words (``--rules async sync``)."""
    text = (f"{help}: one or more of {', '.join(names)}, space-separated "
            f"(default {' '.join(default)})")
    return parser.add_argument(flag, nargs="+", type=word, default=list(default),
                               metavar=metavar, help=text)


def grid(**values) -> list[dict]:
    """Cartesian product of named value lists, in the order given, as a list of dicts."""
    names = list(values)
    size = math.prod(len(values[n]) for n in names)
    if size > MAX_GRID_POINTS:
        raise InputError(f"the parameter grid has {size} points ("
                         + " x ".join(f"{len(values[n])} {n}" for n in names)
                         + f"); at most {MAX_GRID_POINTS}")
    return [dict(zip(names, combo)) for combo in itertools.product(*(values[n] for n in names))]


# --------------------------------------------------------------------------------------------
# output


@dataclass
class Output:
    """What a subcommand produces: the JSON object, the CSV rows and the readable text."""

    json: dict
    rows: list = field(default_factory=list)
    text: str = ""


def points(rows: list[dict], columns=None, title: str | None = None) -> Output:
    """Output for one row per parameter point: the JSON object is
    ``{"rows": [...], "version": ...}`` whether one or many points were asked for (one
    layout for scripts); rows carry ``version`` (run_info); the text is :func:`format_table`."""
    rows = [run_info(**row) for row in rows]
    obj = {"rows": rows, "version": __version__}
    text = format_table(rows, columns)
    if title:
        text = title + "\n" + text
    return Output(json=obj, rows=rows, text=text)


def emit(args, out: Output, stdout=None, stderr=None) -> None:
    """Write the CSV (if ``--csv``) and print JSON (``--json``) or the readable text."""
    stdout = stdout or sys.stdout
    stderr = stderr or sys.stderr
    if getattr(args, "csv", None):
        path = tables.write_csv(args.csv, out.rows)
        print(f"wrote {len(out.rows)} row(s) to {path}", file=stderr)
    if getattr(args, "json", False):
        print(tables.dumps(out.json), file=stdout)
    else:
        print(out.text, file=stdout)


def require(condition: bool, message: str) -> None:
    """Raise :class:`InputError` with ``message`` unless ``condition``."""
    if not condition:
        raise InputError(message)
