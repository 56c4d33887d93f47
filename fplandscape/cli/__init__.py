"""Command-line interface: ``fplandscape <group> [<command>] [options]``.

Groups live in their own modules, each exposing ``register(subparsers)``; a subcommand sets a
``handler`` default (``handler(args) -> Output`` or an int exit status). To add a group, write
``fplandscape/cli/<group>.py`` and add its commands to :data:`COMMANDS`.

Start-up: :func:`main` imports only the group of the command it runs (:data:`COMMANDS` gives
the one-line help the top-level ``--help`` lists for the others), and the group modules import
their heavy packages (NumPy, SciPy, matplotlib, the compiled kernels) inside the handlers, so
``fplandscape --version`` and ``--help`` start in a few tens of milliseconds
(tests/test_startup.py checks which packages are imported).

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

import importlib
import sys

from .._version import __version__
from ..errors import ConvergenceError, InputError
from . import common

#: Every command: name -> (the module of fplandscape.cli that registers it, the one-line help of
#: the top-level ``--help``), in the order of that help. The help must equal the one the module
#: registers (tests/test_startup.py checks it); a module is imported only when one of its
#: commands runs, or for the full parser.
COMMANDS = {
    "theory": ("theory", "analytic free entropies and critical self-couplings (docs/formulas.md, docs/critical.md)"),
    "enumerate": ("enumerate", "count (and list) every fixed point of one network (--couplings "
                  "FILE) [fplandscape.sim.enumerate_fixed_points], or of --samples random "
                  "networks of the ensemble of docs/model.md#ensembles (--n N) with means and "
                  "the exact theory (E1)/(E4) alongside "
                  "[fplandscape.sim.disorder.disorder_average]"),
    "reproduce": ("reproduce", "regenerate the study: critical self-couplings, every figure of "
                  "docs/figures.md with its data, and a summary table (theory vs simulation) "
                  "[fplandscape.reproduce.reproduce]"),
    "figures": ("reproduce", "make figures of docs/figures.md (PNG, PDF, data CSV and JSON) "
                "[fplandscape.figures.make_figure]"),
    "dynamics": ("dynamics", "run the zero-temperature dynamics (async / sync) or simulated "
                 "annealing from random initial states on one random network of the docs/model.md "
                 "ensemble drawn from the seed [fplandscape.sim.dynamics.run_dynamics, "
                 "anneal]"),
    "bp-entropy": ("dynamics", "Bethe (relaxed BP / AMP) estimate of (1/N) ln #FP of one "
                   "network [fplandscape.sim.bp.bethe_entropy]"),
    "accessibility": ("dynamics", "accessibility scan: P(reach a fixed point) and sweeps to "
                      "reach it vs J_D for several N and algorithms, finite-size 50-percent "
                      "thresholds J_50(N) (logistic fit) and their extrapolation J_50(inf) "
                      "[fplandscape.sim.accessibility.accessibility_scan]"),
    "validate": ("validate", "overlay theory and simulation (counts, pairs, critical values, "
                 "accessibility)"),
    "learn": ("learn", "train a binary recurrent network by steering its dynamics into fixed "
              "points (docs/learning.md) [fplandscape.learn.train.train], or a fixed-feature "
              "baseline (--baseline) [fplandscape.learn.baselines.run_baseline]"),
    "attractors": ("attractors", "fixed points, attractor census, Lyapunov exponents and "
                   "symmetry diagnostics of a recurrent network read from a file "
                   "[fplandscape.attractors]"),
    "fep": ("fep", "self-orthogonalising attractor network from the free-energy principle "
            "(Spisak & Friston): demonstration, sequence learning, training, relaxation and "
            "attractor analysis [fplandscape.learn.fep]"),
}

#: The group modules of fplandscape.cli, in the order of :data:`COMMANDS`.
GROUPS = tuple(dict.fromkeys(module for module, _ in COMMANDS.values()))


def group_module(name: str):
    """The module ``fplandscape.cli.<name>`` of a group of :data:`GROUPS` (imported now)."""
    return importlib.import_module(f"{__name__}.{name}")


def build_parser(command: str | None = None) -> common.ArgumentParser:
    """The command-line parser. ``command=None`` (default): every group in full. A string (what
    :func:`main` passes, so that a command imports only its own group): the group of that
    command in full (none if it names no command, e.g. ``""`` for ``fplandscape --help``) and
    every other command as a placeholder carrying its one-line help from :data:`COMMANDS`."""
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
    if command is None:
        full = set(GROUPS)
    else:
        full = {COMMANDS[command][0]} if command in COMMANDS else set()
    done = set()
    for name, (module, text) in COMMANDS.items():
        if module not in full:
            subparsers.add_parser(name, help=text)  # placeholder: never selected
        elif module not in done:
            group_module(module).register(subparsers)
            done.add(module)
    common.apply_limits(parser)
    return parser


def _command_of(argv) -> str:
    """The command named on the command line ``argv`` ('' if none): its first word that is not
    an option (the top-level options take no values)."""
    for token in argv:
        if token == "--":
            break
        if not token.startswith("-"):
            return token
    return ""


def _error(message, prog=None) -> int:
    text = f"error: {message}"
    if prog:
        text += f"\n(see '{prog} --help')"
    print(text, file=sys.stderr)
    return 2


def main(argv=None) -> int:
    """Run the command line ``argv`` (default ``sys.argv[1:]``); return the exit status."""
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser(_command_of(argv))
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


__all__ = ["main", "build_parser", "COMMANDS", "GROUPS", "group_module"]
