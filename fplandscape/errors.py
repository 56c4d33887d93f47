"""Exceptions raised for bad user input.

Every check on user-supplied data (matrices, parameters, paths) raises :class:`InputError`
(a :class:`ValueError`) with a message that names the offending argument; the command-line
interface turns it into ``error: <message>`` and exit status 2, never a traceback.

Size limits
-----------
Every count-like input has one upper limit, the same for the same concept everywhere (the
command line states it in each option's ``--help`` and refuses larger values before any work;
:func:`check_count` applies it to the Python functions by argument name, see
:data:`COUNT_LIMITS`). The limits keep memory and time bounded on a workstation; they are far
above every value the study uses.
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


#: neurons of one simulated network (N, hidden units H, L*H): a dense N x N float64 coupling
#: matrix of 20000 neurons takes 3.2 GB
MAX_NEURONS = 20_000
#: random networks (samples) per parameter point
MAX_SAMPLES = 100_000
#: runs / starts (initial states) per network
MAX_RUNS = 100_000
#: sweeps, steps and iterations of one run (a budget; annealing allocates its schedule)
MAX_STEPS = 10_000_000
#: training epochs
MAX_EPOCHS = 100_000
#: bootstrap replicates
MAX_BOOTSTRAP = 100_000
#: points of one value list or range (START:STOP:NUM) and of a whole parameter grid
MAX_GRID_POINTS = 100_000
#: modules of a modular chain (finite L; ``inf`` is allowed where the theory takes it)
MAX_LAYERS = 10_000
#: examples of a data set (training or test set size, batch size)
MAX_EXAMPLES = 100_000
#: local worker processes
MAX_WORKERS = 1024

#: The limit of each count, by argument name (Python argument or command-line option
#: ``dest``). :func:`check_count` looks its ``name`` up here unless given ``maximum``.
COUNT_LIMITS = {
    "samples": MAX_SAMPLES,
    "runs": MAX_RUNS, "starts": MAX_RUNS, "n_starts": MAX_RUNS,
    "deflation_starts": MAX_RUNS,
    "max_sweeps": MAX_STEPS, "sweeps": MAX_STEPS, "eval_sweeps": MAX_STEPS,
    "steps": MAX_STEPS, "transient": MAX_STEPS, "max_steps": MAX_STEPS,
    "max_iter": MAX_STEPS, "max_iters": MAX_STEPS,
    "epochs": MAX_EPOCHS,
    "bootstrap": MAX_BOOTSTRAP,
    "hidden": MAX_NEURONS, "k": MAX_NEURONS,
    "layers": MAX_LAYERS,
    "batch": MAX_EXAMPLES, "n_train": MAX_EXAMPLES, "n_test": MAX_EXAMPLES,
    "train_size": MAX_EXAMPLES, "test_size": MAX_EXAMPLES,
    "workers": MAX_WORKERS,
    # the FEP network's studies and command line
    "presentations": MAX_STEPS, "snapshots": MAX_STEPS, "census_starts": MAX_RUNS,
    "census_steps": MAX_STEPS, "trials": MAX_RUNS, "repeats": MAX_RUNS,
}


def show_count(value) -> str:
    """A count for a message: exact up to 20 digits, else in scientific notation."""
    text = str(value)
    return text if len(text.lstrip("-")) <= 20 else f"{float(value):.6g}"


def check_count(value, name: str, *, minimum: int = 0, maximum=None) -> int:
    """Validate a count (Python or NumPy integer, not bool, at least ``minimum``, at most
    ``maximum``, default ``COUNT_LIMITS.get(name)``) and return it as int; InputError naming
    ``name`` otherwise. The one check behind every sample, run, sweep and iteration count."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        need = {0: "a non-negative integer", 1: "a positive integer"}.get(
            minimum, f"an integer ≥ {minimum}")
        raise InputError(f"{name} must be {need}, got {value!r}")
    if maximum is None:
        maximum = COUNT_LIMITS.get(name)
    if maximum is not None and value > maximum:
        raise InputError(f"{name} must be ≤ {maximum} (got {show_count(int(value))})")
    return int(value)


def check_positive(value, name: str) -> float:
    """Validate a positive finite real number (not bool) and return it as float; InputError
    naming ``name`` otherwise. The one check behind every tolerance, time step and gain."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or \
            not math.isfinite(value) or value <= 0:
        raise InputError(f"{name} must be a positive finite number, got {value!r}")
    return float(value)


def check_choice(value, name: str, choices):
    """Return ``value`` if it is one of ``choices`` (a tuple of names); InputError
    "``name`` must be one of A, B, got 'value'" otherwise. The one check behind every named
    option of the library (methods, modes, rules, wirings, …)."""
    if value not in choices:
        raise InputError(f"{name} must be one of {', '.join(choices)}, got {value!r}")
    return value
