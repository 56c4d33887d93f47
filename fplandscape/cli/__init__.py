"""Command-line interface: ``fplandscape <group> [<command>] [options]``.

Groups live in their own modules, each exposing ``register(subparsers)``; a subcommand sets a
``handler`` default (``handler(args) -> Output`` or an int exit status). To add a group, write
``fplandscape/cli/<group>.py`` and append it to :data:`GROUPS`.

Exit status: 0 success; 2 bad input (``error: <message>`` on stderr, never a traceback);
1 other failure (e.g. an I/O error, memory exhausted, or a lost Dask scheduler: the checkpoint is
kept and ``--resume`` finishes the run); 130 interrupted. A usage error names the help of the
subcommand it occurred in (``see 'fplandscape theory entropy --help'``). Bad input is refused
before any work: option values when the command line is parsed (types, choices and the size
limits of :data:`fplandscape.cli.common.OPTION_LIMITS`, tagged by
:func:`~fplandscape.cli.common.apply_limits`), output paths by
:func:`~fplandscape.cli.common.check_outputs`, the rest by each handler before it computes.
"""
from __future__ import annotations

import sys

from .._version import __version__
from ..errors import ConvergenceError, InputError
from . import common, reproduce, theory
from . import enumerate as enumerate_cmd  # noqa: A004 (module attribute shadows the builtin here only)
from . import dynamics as dynamics_cmd
from . import learn as learn_cmd
from . import validate as validate_cmd
from . import attractors as attractors_cmd
from . import fep as fep_cmd

GROUPS = (theory, enumerate_cmd, reproduce, dynamics_cmd, validate_cmd, learn_cmd,
          attractors_cmd, fep_cmd)


def build_parser() -> common.ArgumentParser:
    parser = common.ArgumentParser(
        prog="fplandscape",
        description="Fixed points of random binary recurrent networks: analytic theory and "
                    "reproduction of the study's results.",
        epilog="Run 'fplandscape <command> --help' for the options of a command. "
               "Conventions (every command): lists are space-separated (--jd 0.1 0.2, --rules "
               "async sync); ranges are START:STOP:NUM (numpy.linspace, NUM an integer number "
               "of points); --seed defaults to 0; --checkpoint DIR keeps the journal of a run "
               "that --resume finishes; --json prints one JSON object. "
               "Size limits (every command): " + common.limits_text() + ".")
    parser.add_argument("--version", action="version", version=f"fplandscape {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for group in GROUPS:
        group.register(subparsers)
    common.apply_limits(parser)
    return parser


def _error(message, prog=None) -> int:
    text = f"error: {message}"
    if prog:
        text += f"\n(see '{prog} --help')"
    print(text, file=sys.stderr)
    return 2


def main(argv=None) -> int:
    """Run the command line ``argv`` (default ``sys.argv[1:]``); return the exit status."""
    parser = build_parser()
    try:
        try:
            args = parser.parse_args(argv)
        except common.CLIError as exc:
            return _error(exc, exc.prog)
        except SystemExit as exc:  # --help, --version
            return exc.code if isinstance(exc.code, int) else 0
        common.check_outputs(args)  # before any computation
        result = args.handler(args)
        if isinstance(result, common.Output):
            common.emit(args, result)
            return 0
        return int(result or 0)
    except (InputError, ConvergenceError, ValueError) as exc:
        return _error(exc)
    except OverflowError as exc:  # a number out of range that no check caught
        return _error(f"number out of range: {exc}")
    except MemoryError:
        print("error: out of memory; use smaller sizes (see 'fplandscape --help' for the "
              "limits)", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt as exc:
        print(str(exc) or "interrupted", file=sys.stderr)
        return 130


__all__ = ["main", "build_parser", "GROUPS"]
