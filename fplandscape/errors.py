"""Exceptions raised for bad user input.

Every check on user-supplied data (matrices, parameters, paths) raises :class:`InputError`
(a :class:`ValueError`) with a message that names the offending argument; the command-line
interface turns it into ``error: <message>`` and exit status 2, never a traceback.
"""
import math
import numbers


class InputError(ValueError):
    """Invalid user input: wrong shape, non-finite values, out-of-range parameter, bad path."""


class ConvergenceError(RuntimeError):
    """A numerical solver did not reach its stated tolerance (raised only where a caller
    asked for a single value; curve functions report failures per point instead)."""


class Interrupted(KeyboardInterrupt):
    """A long run stopped by Ctrl-C; the message says what was saved and how to resume.
    (A :class:`KeyboardInterrupt`, so code that handles Ctrl-C keeps working.)"""


def check_count(value, name: str, *, minimum: int = 0) -> int:
    """Validate a count (Python or NumPy integer, not bool, at least ``minimum``) and return it
    as int; InputError naming ``name`` otherwise. The one check behind every sample, run,
    sweep and iteration count."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        need = {0: "a non-negative integer", 1: "a positive integer"}.get(
            minimum, f"an integer ≥ {minimum}")
        raise InputError(f"{name} must be {need}, got {value!r}")
    return int(value)


def check_positive(value, name: str) -> float:
    """Validate a positive finite real number (not bool) and return it as float; InputError
    naming ``name`` otherwise. The one check behind every tolerance, time step and gain."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or \
            not math.isfinite(value) or value <= 0:
        raise InputError(f"{name} must be a positive finite number, got {value!r}")
    return float(value)
