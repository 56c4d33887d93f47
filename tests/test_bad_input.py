"""Bad input, one row each: ``error: <message>`` on stderr, exit status 2, nothing on stdout,
no traceback, and at once (before any work, in bounded time and memory).

Every row runs the command line in-process (:mod:`cli_runner`) under a watchdog: a row that
starts computing instead of refusing its input fails with "took longer than ..." (a generous
bound, not a timing assertion) or with a MemoryError (the address space is capped a few GB
above the test process's own). The ``owner`` of each row names the part of the package whose
check it exercises (``cli``: the command-line layer, ``model``: coupling files,
``theory``/``validate``: their functions, ``parallel``: workers, schedulers, checkpoints).

Rows for inputs that must be *accepted* (regressions of fixed bugs, limits at the boundary)
are in the separate tables at the end.
"""
import contextlib
import os
import resource
import signal
import sys

import numpy as np
import pytest

from fplandscape import errors, tables
from fplandscape.cli import build_parser, common
from fplandscape.errors import InputError
from cli_runner import run

# catches hangs only: every row returns in well under a second on an idle machine, and a
# loaded CI runner can be many times slower
WATCHDOG_SECONDS = 30.0
EXTRA_MEMORY = 4 << 30  # address space allowed beyond the test process's own


class TookTooLong(BaseException):
    """Raised by the watchdog (a BaseException, so that no ``except Exception`` swallows it)."""


def _vm_size() -> int:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmSize:"):
                return int(line.split()[1]) * 1024
    raise OSError("no VmSize")


@contextlib.contextmanager
def bounded(seconds=WATCHDOG_SECONDS, extra_memory=EXTRA_MEMORY):
    """Raise TookTooLong after ``seconds``; cap the address space (Linux) while inside."""
    def alarm(signum, frame):
        raise TookTooLong(f"took longer than {seconds} s: the input was not refused at once")

    old_handler = signal.signal(signal.SIGALRM, alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    old_limit = None
    if sys.platform.startswith("linux"):
        try:
            old_limit = resource.getrlimit(resource.RLIMIT_AS)
            soft = _vm_size() + extra_memory
            if old_limit[1] != resource.RLIM_INFINITY:
                soft = min(soft, old_limit[1])
            resource.setrlimit(resource.RLIMIT_AS, (soft, old_limit[1]))
        except (OSError, ValueError):
            old_limit = None
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old_handler)
        if old_limit is not None:
            resource.setrlimit(resource.RLIMIT_AS, old_limit)


# --------------------------------------------------------------------------------------------
# input files


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """A directory with good and bad input files (used through ``{d}`` in the rows)."""
    d = tmp_path_factory.mktemp("bad-input")
    rng = np.random.default_rng(0)
    J = rng.standard_normal((4, 4))
    np.save(d / "J.npy", J)
    np.save(d / "rect.npy", np.ones((2, 3)))
    np.savetxt(d / "nan.csv", np.array([[1.0, np.nan], [0.0, 1.0]]), delimiter=",")
    (d / "words.txt").write_text("these are not numbers\n")
    (d / "notzip.npz").write_text("not a zip file")
    (d / "empty.csv").write_text("")
    np.save(d / "bigint.npy", np.array([[0, 2 ** 60 + 1], [3, 0]], dtype=np.int64))
    (d / "bigint.txt").write_text(f"0 {2 ** 53 + 1}\n3 0\n")   # float64 would round it
    np.save(d / "longdouble.npy", J.astype(np.longdouble))
    np.save(d / "big.npy", np.zeros((65, 65)))
    (d / "junk.npy").write_bytes(b"\x00\x01 definitely not an npy file")
    np.save(d / "obj.npy", np.array([[None, 1], [2, 3]], dtype=object), allow_pickle=True)
    np.savez(d / "nokey.npz", W=J)
    W = 1.4 * rng.standard_normal((12, 12)) / np.sqrt(12)
    np.save(d / "W.npy", W)
    np.savez(d / "net.npz", W=W, U=rng.standard_normal((12, 2)), b=0.1 * np.ones(12))
    np.savetxt(d / "u.csv", [[0.0, 0.0], [1.0, -1.0]], delimiter=",")
    np.savetxt(d / "u3.csv", [[1.0, 2.0, 3.0]], delimiter=",")
    np.save(d / "x0nan.npy", np.full((1, 12), np.nan))
    (d / "file.txt").write_text("a file, not a directory")
    (d / "adir").mkdir()
    (d / "data.csv.gz").write_bytes(b"not gzip")
    return d


@pytest.fixture(autouse=True)
def _isolated(tmp_path, monkeypatch):
    monkeypatch.setenv("FPLANDSCAPE_CHECKPOINTS", str(tmp_path / "checkpoints"))
    monkeypatch.chdir(tmp_path)


def _expand(argv, d):
    return [str(a).format(d=d) for a in argv]


# --------------------------------------------------------------------------------------------
# the table: (owner, argv, expected message fragment); every row must exit with status 2

EN = ["enumerate", "--n", "8", "--jd", "0", "--seed", "1"]
DYN = ["dynamics", "--n", "10", "--jd", "0.5", "--seed", "0"]
ACC = ["accessibility", "--n", "10", "--jd", "0.5", "--seed", "0"]
BP = ["bp-entropy", "--n", "10", "--jd", "0.5"]
SYN = ["learn", "--dataset", "synthetic", "--hidden", "8", "--train-size", "20",
       "--test-size", "10"]
LEARN = SYN + ["--epochs", "1"]
SYN_DATA = ["--dataset", "synthetic", "--train-size", "20", "--test-size", "10"]
LAM = ["learn", "lambda"] + SYN_DATA + ["--hidden", "8", "--epochs", "1", "--samples", "1"]
CAP = ["learn", "capacity", "--hidden", "8", "--patterns", "4", "8", "--n-in", "10",
       "--classes", "3", "--samples", "1"]
PRB = ["learn", "probe"] + SYN_DATA + ["--hidden", "8", "--epochs", "1"]
VC = ["validate", "counts", "--n", "6", "--jd", "0.1"]
FP = ["attractors", "fixed-points", "--weights", "{d}/W.npy"]
CEN = ["attractors", "census", "--weights", "{d}/W.npy"]
LYA = ["attractors", "lyapunov", "--weights", "{d}/W.npy"]
ENT = ["theory", "entropy", "--jd", "0.1"]
CPL = ["enumerate", "--couplings", "{d}/J.npy"]

ERROR_ROWS = [
    # --- absurd sizes: refused when the command line is parsed (issue 12, item 5) ----------
    ("cli", EN + ["--samples", "1e12"], "--samples must be ≤ 100000 (got 1000000000000)"),
    ("cli", EN + ["--samples", "1000000000000"], "--samples must be ≤ 100000"),
    ("cli", EN + ["--samples", "99999999999999999999"], "--samples must be ≤ 100000"),
    ("cli", EN + ["--samples", "1e5000"], "out of range"),
    ("cli", EN + ["--samples", "9" * 5000], "out of range"),
    ("cli", EN + ["--samples", "1.5"], "not an integer: '1.5'"),
    ("cli", EN + ["--samples", "nan"], "not an integer"),
    ("cli", EN + ["--samples", "inf"], "not an integer"),
    ("cli", EN + ["--samples", "0x10"], "not an integer"),
    ("cli", EN + ["--samples", ""], "not an integer"),
    ("cli", EN + ["--samples", "0"], "--samples must be a positive integer"),
    ("cli", EN + ["--samples", "-1"], "--samples must be a positive integer"),
    ("cli", EN + ["--layers", "1e9"], "--layers must be ≤"),
    ("cli", EN + ["--workers", "1e6"], "--workers must be ≤ 1024"),
    ("cli", EN + ["--workers", "0"], "--workers must be a positive integer"),
    ("cli", EN + ["--workers", "-2"], "--workers must be a positive integer"),
    ("cli", ["enumerate", "--n", "1e9", "--jd", "0", "--seed", "1"], "--n must be ≤ 20000"),
    ("cli", ["theory", "entropy", "--jd", "0:1:1000000000000"], "NUM must be ≤ 100000"),
    ("cli", ["theory", "entropy", "--jd", "0:1:1e12"], "NUM must be ≤ 100000"),
    ("cli", ["theory", "entropy", "--jd", "0:1:0"], "NUM must be at least 1"),
    ("cli", ["theory", "entropy", "--jd", "0:1:-3"], "NUM must be at least 1"),
    ("cli", ["theory", "entropy", "--jd", "0:1:1.5"], "NUM must be a positive integer"),
    ("cli", ["theory", "entropy", "--jd", "0:1:zero"], "NUM must be a positive integer"),
    ("cli", ["theory", "entropy", "--jd", "0:1:2:3"], "START:STOP:NUM"),
    ("cli", ["theory", "entropy", "--jd", "0:nan:3"], "not a finite number"),
    ("cli", ["theory", "entropy", "--jd", "0:1:1000", "--eta=-1:1:1000"],
     "the parameter grid has 1000000 points"),
    ("cli", ENT + ["--layers", "1e6"], "--layers must be ≤ 10000"),
    ("cli", ["theory", "moments", "--n", "1e9", "--jd", "0.1"], "--n must be ≤ 20000"),
    ("cli", ["theory", "moments", "--n", "9007199254740993", "--jd", "0.1"],
     "(got 9007199254740993)"),
    ("cli", ["theory", "moments", "--n", "0:2e12:3", "--jd", "0.1"], "--n must be ≤ 20000"),
    ("cli", ["theory", "moments", "--n", "1:2:1e9", "--jd", "0.1"], "NUM must be ≤ 100000"),
    ("cli", ["theory", "pair-entropy", "--jd", "0.1", "--q=-1:1:1e7"], "NUM must be ≤"),
    ("cli", ["theory", "local-entropy", "--jd", "0.1", "--d", "0.01:0.5:1e9"], "NUM must be ≤"),
    ("cli", ["theory", "rs-entropy", "--jd", "0:1:1e6"], "NUM must be ≤"),
    ("cli", ["theory", "isolation-radius", "--jd", "0:1:1e6"], "NUM must be ≤"),
    ("cli", DYN + ["--runs", "1e11"], "--runs must be ≤ 100000 (got 100000000000)"),
    ("cli", DYN + ["--runs", "100000000000"], "--runs must be ≤ 100000"),
    ("cli", DYN + ["--runs", "2.5"], "not an integer"),
    ("cli", DYN + ["--max-sweeps", "1e12", "--rule", "anneal"], "--max-sweeps must be ≤"),
    ("cli", ["dynamics", "--n", "100000", "--jd", "0.5", "--seed", "0"], "--n must be ≤ 20000"),
    ("cli", ["dynamics", "--n", "10", "--jd", "0.5", "--seed", "1.5"], "not an integer"),
    ("cli", ["dynamics", "--n", "10", "--jd", "0.5", "--seed", "inf"], "not an integer"),
    ("cli", BP + ["--max-iter", "1e12"], "--max-iter must be ≤"),
    ("cli", ["bp-entropy", "--n", "1e6", "--jd", "0.5"], "--n must be ≤ 20000"),
    ("cli", ["accessibility", "--n", "1e6", "--jd", "0.5", "--seed", "0"], "--n must be ≤"),
    ("cli", ["accessibility", "--n", "10", "--jd", "0:1:1e-300", "--seed", "0"],
     "START:STOP:NUM"),
    ("cli", ["accessibility", "--n", "10", "--jd", "0:1:1000000000", "--seed", "0"],
     "NUM must be ≤"),
    ("cli", ACC + ["--runs", "1e9"], "--runs must be ≤"),
    ("cli", ACC + ["--samples", "1e9"], "--samples must be ≤"),
    ("cli", ACC + ["--networks", "1e9"], "--samples must be ≤"),  # deprecated spelling
    ("cli", ACC + ["--bootstrap", "1e9"], "--bootstrap must be ≤"),
    ("cli", ACC + ["--max-sweeps", "1e12"], "--max-sweeps must be ≤"),
    ("cli", ["learn", "--dataset", "synthetic", "--epochs", "1e20"],
     "--epochs must be ≤ 100000 (got 1e+20)"),
    ("cli", ["learn", "--dataset", "synthetic", "--epochs", "100000000000000000000"],
     "--epochs must be ≤ 100000"),
    ("cli", LEARN + ["--hidden", "1e6"], "--hidden must be ≤ 20000"),
    ("cli", LEARN + ["--hidden", "20000", "--layers", "2"], "hidden units in all"),
    ("cli", LEARN + ["--layers", "1e6"], "--layers must be ≤"),
    ("cli", LEARN + ["--batch", "1e7"], "--batch must be ≤"),
    ("cli", LEARN + ["--train-size", "1e9"], "--train-size must be ≤"),
    ("cli", LEARN + ["--test-size", "1e9"], "--test-size must be ≤"),
    ("cli", LEARN + ["--sweeps", "1e9"], "--sweeps must be ≤"),
    ("cli", LEARN + ["--eval-sweeps", "1e12"], "--eval-sweeps must be ≤"),
    ("cli", VC + ["--samples", "1e12"], "--samples must be ≤"),
    ("cli", VC + ["--layers", "1e9"], "--layers must be ≤"),
    ("cli", ["validate", "pairs", "--n", "6", "--jd", "0.1", "--samples", "1e12"],
     "--samples must be ≤"),
    ("cli", ["validate", "critical", "--bootstrap", "1e9"], "--bootstrap must be ≤"),
    ("cli", ["validate", "critical", "--n", "1e9"], "--n must be ≤"),
    ("cli", ["validate", "accessibility", "--runs", "1e9"], "--runs must be ≤"),
    ("cli", ["validate", "accessibility", "--max-sweeps", "1e12"], "--max-sweeps must be ≤"),
    ("cli", CEN + ["--starts", "1e9"], "--starts must be ≤"),
    ("cli", CEN + ["--steps", "1e12"], "--steps must be ≤"),
    ("cli", CEN + ["--transient", "1e12"], "--transient must be ≤"),
    ("cli", LYA + ["--k", "1e9"], "--k must be ≤"),
    ("cli", FP + ["--workers", "1e6"], "--workers must be ≤"),
    ("cli", FP + ["--starts", "2.5"], "not an integer"),
    ("cli", ["figures", "entropy", "--workers", "0"], "--workers must be a positive integer"),
    ("cli", ["reproduce", "--workers", "0"], "--workers must be a positive integer"),
    # --- output paths, checked (for real) before any work (item 6) ---------------------------
    ("cli", ENT + ["--csv", "{d}/file.txt/x.csv"], "is a file, not a directory"),
    ("cli", ENT + ["--csv", "/proc/x.csv"], "cannot write '/proc/x.csv'"),
    ("cli", ENT + ["--csv", "/sys/x.csv"], "cannot write '/sys/x.csv'"),
    ("cli", ENT + ["--csv", "{d}/missing/x.csv"], "does not exist"),
    ("cli", ENT + ["--csv", "{d}/adir"], "is a directory"),
    ("cli", ENT + ["--csv", ""], "output path is empty"),
    ("cli", ENT + ["--csv", "{d}/" + "x" * 300 + ".csv"], "cannot write"),
    ("cli", ["theory", "critical", "--criterion", "gap", "--evidence", "/proc/ev.csv"],
     "cannot write"),
    ("cli", ["theory", "critical", "--criterion", "energetic", "--evidence",
             "{d}/missing/ev.csv"], "does not exist"),
    ("cli", CPL + ["--save-states", "/proc/s.npy"], "cannot write"),
    ("cli", CPL + ["--save-states", "{d}/file.txt/s.npy"], "is a file"),
    ("cli", EN + ["--checkpoint", "/proc/ck"], "cannot create --checkpoint directory"),
    ("cli", EN + ["--checkpoint", "{d}/file.txt"], "a file is in the way"),
    ("cli", EN + ["--checkpoint", "{d}/file.txt/ck"], "is a file, not a directory"),
    ("cli", LEARN + ["--checkpoint", "/proc/ck"], "cannot create --checkpoint directory"),
    ("cli", ["reproduce", "--quick", "--out", "/proc/out"], "cannot create --out directory"),
    ("cli", ["reproduce", "--quick", "--out", "{d}/file.txt"], "cannot create"),
    ("cli", ["figures", "entropy", "--quick", "--out", "/sys/out"], "cannot create"),
    ("cli", ["figures", "entropy", "--quick", "--csv", "/proc/f.csv"], "cannot write"),
    ("cli", CEN + ["--csv", "/proc/x.csv"], "cannot write"),
    ("cli", DYN + ["--csv", "/proc/x.csv"], "cannot write"),
    ("cli", BP + ["--csv", "/proc/x.csv"], "cannot write"),
    ("cli", ACC + ["--csv", "/proc/x.csv"], "cannot write"),
    ("cli", LEARN + ["--csv", "/proc/x.csv"], "cannot write"),
    ("cli", VC + ["--csv", "/proc/x.csv"], "cannot write"),
    ("cli", CPL + ["--csv", "/sys/x.csv"], "cannot write"),
    # --- numbers, choices and missing arguments --------------------------------------------
    ("cli", [], "required"),
    ("cli", ["bogus"], "invalid choice"),
    ("cli", ["theory"], "required"),
    ("cli", ["theory", "entropy"], "--jd"),
    ("cli", ENT + ["--bogus"], "unrecognized arguments"),
    ("cli", ["theory", "entropy", "--jd", "nan"], "not a finite number"),
    ("cli", ["theory", "entropy", "--jd", "inf"], "not a finite number"),
    ("cli", ["theory", "entropy", "--jd", "abc"], "not a number"),
    ("cli", ["theory", "entropy", "--jd", "1e999"], "not a finite number"),
    ("cli", ENT + ["--layers", "0"], "layers"),
    ("cli", ENT + ["--layers=-inf"], "layers"),
    ("cli", ENT + ["--layers", "2.5"], "layers"),
    ("cli", ["theory", "moments", "--n", "-3", "--jd", "0.1"], "N must be a positive integer"),
    ("cli", ["theory", "moments", "--n", "0", "--jd", "0.1"], "N must be a positive integer"),
    ("cli", ["theory", "moments", "--n", "2.5", "--jd", "0.1"], "not an integer"),
    ("cli", ["theory", "moments", "--n", "1:2:3", "--jd", "0.1"], "not an integer"),
    ("cli", ["theory", "local-entropy", "--jd", "0.1", "--kind", "bogus"], "invalid choice"),
    ("cli", ["theory", "local-entropy", "--jd", "0.1", "--kappa", "abc"], "kappa"),
    ("cli", ["theory", "critical", "--criterion", "nope"], "invalid choice"),
    ("cli", ["theory", "critical", "--criterion", "gap", "--bracket", "nan", "1"],
     "not a finite number"),
    ("cli", ["theory", "critical", "--criterion", "gap", "--bracket", "0.1"], "expected 2"),
    ("cli", ["theory", "isolation-radius", "--jd", "abc"], "not a number"),
    ("cli", ["enumerate", "--jd", "0"], "required"),
    ("cli", CPL + ["--n", "8"], "not allowed"),
    ("cli", CPL + ["--seed", "1"], "--seed applies to random networks"),
    ("cli", CPL + ["--samples", "2"], "--samples applies to random networks"),
    ("cli", CPL + ["--method", "gray"], "invalid choice"),
    ("cli", CPL + ["--local", "3"], "invalid choice"),
    ("cli", CPL + ["--save-states", "{d}/s.txt"], "must name a .npy file"),
    ("cli", EN + ["--save-states", "{d}/s.npy"], "--save-states applies to --couplings"),
    ("cli", EN + ["--local", "1"], "--local applies to --couplings"),
    ("cli", ["enumerate", "--n", "65", "--jd", "0", "--seed", "1"], "64"),
    ("cli", ["enumerate", "--n", "33", "--layers", "2", "--jd", "0", "--seed", "1"], "64"),
    ("cli", ["enumerate", "--n", "8", "--jd", "0", "--seed", "1.5"], "not an integer"),
    ("cli", ["enumerate", "--n", "8", "--seed", "1"], "--jd is required"),
    ("cli", EN[:-1] + ["-1"], "--seed must be a non-negative integer"),
    ("cli", DYN + ["--rule", "bogus"], "unknown algorithm"),
    ("cli", DYN + ["--eta", "3"], "--eta must lie in [-1, 1]"),
    ("cli", DYN + ["--max-sweeps", "-1"], "--max-sweeps must be >= 0"),
    ("cli", DYN + ["--order", "bogus"], "invalid choice"),
    ("cli", DYN + ["--runs", "0"], "--runs must be a positive integer"),
    ("cli", ["dynamics", "--n", "0", "--jd", "0.5", "--seed", "0"], "--n must be a positive"),
    ("cli", ["dynamics", "--n", "10", "--jd", "0.5", "--seed", "-2"], "--seed"),
    ("cli", ["bp-entropy", "--n", "1", "--jd", "0.5"], "--n must be at least 2"),
    ("cli", ["bp-entropy", "--n", "10"], "--jd is required"),
    ("cli", BP + ["--seed", "-1"], "--seed must be"),
    ("cli", ["bp-entropy", "--couplings", "{d}/J.npy", "--eta", "0.5"], "--eta applies"),
    ("cli", ["accessibility", "--n", "10", "x", "--jd", "0.5", "--seed", "0"], "not an integer"),
    ("cli", ["accessibility", "--n", "10", "10", "--jd", "0.5", "--seed", "0"], "repeated"),
    ("cli", ["accessibility", "--n", "0", "--jd", "0.5", "--seed", "0"], "positive integer"),
    ("cli", ["accessibility", "--n", "10,20", "--jd", "0.5", "--seed", "0"], "space-separated"),
    ("cli", ["accessibility", "--n", "10", "--jd", "1:0:0.1", "--seed", "0"], "START:STOP:NUM"),
    ("cli", ["accessibility", "--n", "10", "--jd", "0:1:-0.1", "--seed", "0"], "NUM must be"),
    ("cli", ["accessibility", "--n", "10", "--jd", "0:1:0", "--seed", "0"], "at least 1"),
    ("cli", ["accessibility", "--n", "10", "--jd", "0:1", "--seed", "0"], "START:STOP:NUM"),
    ("cli", ACC + ["--rules", "async", "nope"], "unknown algorithm"),
    ("cli", ACC + ["--rules", "async,sync"], "space-separated"),
    ("cli", ACC + ["--extrapolation", "cubic"], "invalid choice"),
    ("cli", ACC + ["--runs", "0"], "--runs must be"),
    ("cli", ACC + ["--samples", "0"], "--samples must be"),
    ("cli", ACC + ["--networks", "0"], "--samples must be"),  # deprecated spelling
    ("cli", ACC + ["--bootstrap", "-1"], "--bootstrap must be"),
    ("cli", ACC + ["--eta", "nan"], "not a finite number"),
    ("cli", ["learn", "--dataset", "synthetic", "--epochs", "x"], "--epochs"),
    ("cli", ["learn", "--dataset", "nope", "--epochs", "1"], "invalid choice"),
    ("cli", SYN + ["--epochs", "-1"], "--epochs must be"),
    ("cli", LEARN + ["--hidden", "0"], "--hidden must be"),
    ("cli", LEARN + ["--layers", "0"], "--layers must be"),
    ("cli", LEARN + ["--batch", "0"], "--batch must be"),
    ("cli", LEARN + ["--sweeps", "-1"], "--sweeps must be"),
    ("cli", LEARN + ["--seed", "-1"], "--seed must be"),
    ("cli", LEARN + ["--update-prob", "0"], "--update-prob"),
    ("cli", LEARN + ["--update-prob", "1.5"], "--update-prob"),
    ("cli", LEARN + ["--lam", "-1"], "--lam must be >= 0"),
    ("cli", LEARN + ["--lr-j", "nan"], "not a finite number"),
    ("cli", LEARN + ["--lr-j", "-1"], "lr_j"),
    ("cli", LEARN + ["--noise", "0.7"], "noise"),
    ("cli", LEARN + ["--mode", "bogus"], "invalid choice"),
    ("cli", LEARN + ["--lr-scale", "sqrt"], "invalid choice"),
    ("cli", LEARN + ["--baseline", "perceptron", "--resume"], "--baseline"),
    ("cli", LEARN + ["--warmup", "first"], "invalid choice"),
    ("cli", LEARN + ["--feedback-from", "label"], "invalid choice"),
    ("cli", LEARN + ["--feedback-from", "readout", "--mode", "async"], "--mode sync"),
    ("cli", LEARN + ["--free-sweeps", "-1"], "--free-sweeps must be"),
    ("cli", LEARN + ["--eval-update-prob", "0"], "--eval-update-prob"),
    ("cli", LAM + ["--lam", "-1"], "--lam must be >= 0"),
    ("cli", LAM + ["--lam-in", "nan"], "not a finite number"),
    ("cli", LAM + ["--settings", "author"], "--settings"),
    ("cli", LAM + ["--samples", "0"], "--samples must be"),
    ("cli", LAM + ["--hidden", "0"], "--hidden must be"),
    ("cli", LAM + ["--workers", "0"], "--workers must be"),
    ("cli", CAP + ["--patience", "0"], "--patience must be"),
    ("cli", CAP + ["--level", "1"], "--level must lie"),
    ("cli", ["learn", "capacity", "--hidden", "8", "--patterns", "4"], "two different loads"),
    ("cli", CAP + ["--layers", "0"], "--layers must be"),
    ("cli", PRB + ["--layers", "0"], "--layers"),
    ("cli", PRB + ["--samples", "0"], "--samples"),
    ("cli", PRB + ["--update-prob", "2"], "--update-prob"),
    ("cli", LEARN + ["--baseline", "perceptron", "--checkpoint", "{d}/ck"], "--baseline"),
    ("cli", ["learn", "--dataset", "emnist5k", "--noise", "0.1", "--epochs", "1"],
     "apply to --dataset synthetic"),
    ("cli", ["learn", "--dataset", "mnist-file", "--epochs", "1"], "--data-path"),
    ("cli", ["learn", "--dataset", "mnist-file", "--data-path", "{d}/none", "--epochs", "1"],
     "none"),
    ("cli", ["learn", "--dataset", "emnist5k", "--data-path", "{d}/data.csv.gz", "--epochs",
             "1"], "data.csv.gz"),
    ("cli", ["attractors"], "required"),
    ("cli", ["attractors", "fixed-points"], "--weights"),
    ("cli", ["attractors", "fixed-points", "--weights", "{d}/missing.npy"], "does not exist"),
    ("cli", ["attractors", "fixed-points", "--weights", "{d}/adir"], "is a directory"),
    ("cli", ["attractors", "census", "--weights", "{d}/rect.npy"], "square"),
    ("cli", ["attractors", "census", "--weights", "{d}/notzip.npz"], "not a valid .npz"),
    ("cli", FP + ["--phi", "softsign"], "invalid choice"),
    ("cli", FP + ["--model", "bogus"], "invalid choice"),
    ("cli", FP + ["--starts", "0"], "--starts"),
    ("cli", FP + ["--seed", "-1"], "--seed"),
    ("cli", FP + ["--box", "1", "0", "--certified"], "LO < HI"),
    ("cli", FP + ["--phi", "relu", "--certified"], "box"),
    ("cli", FP + ["--model", "leaky", "--tau", "0"], "tau"),
    ("cli", FP + ["--model", "leaky", "--tau", "-1"], "tau"),
    ("cli", CEN + ["--input", "{d}/u.csv"], "input matrix U"),
    ("cli", ["attractors", "census", "--weights", "{d}/net.npz", "--input", "{d}/u3.csv"],
     "length"),
    ("cli", ["attractors", "census", "--weights", "{d}/net.npz", "--input",
             "{d}/missing.csv"], "does not exist"),
    ("cli", CEN + ["--k", "0"], "--k"),
    ("cli", CEN + ["--steps", "0"], "--steps"),
    ("cli", CEN + ["--transient", "0"], "--transient"),
    ("cli", LYA + ["--model", "sign"], "SignNetwork"),
    ("cli", LYA + ["--x0", "{d}/missing.npy"], "does not exist"),
    ("cli", LYA + ["--x0", "{d}/x0nan.npy"], "non-finite"),
    ("cli", ["attractors", "diagnose", "--weights", "{d}/W.npy", "--exact-max-n", "-1"],
     "--exact-max-n"),
    ("cli", ["figures", "nope", "--out", "{d}/figs"], "unknown figure"),
    ("cli", ["figures", "--out", "{d}/figs"], "--all"),
    ("cli", ["figures", "--all", "entropy", "--out", "{d}/figs"], "not both"),
    ("cli", ["figures", "entropy", "--seed", "-1"], "--seed"),
    ("cli", ["reproduce", "--seed", "-1"], "--seed"),
    ("cli", ["reproduce", "--seed", "x"], "not an integer"),
    ("cli", ["accessibility", "--n", "10", "20", "--jd", "0:1:100000", "--seed", "0"],
     "400000 cells"),
    ("cli", ["theory", "moments", "--n", "abc", "--jd", "0.1"], "not an integer"),
    ("cli", DYN + ["--runs", "many"], "not an integer"),
    ("cli", ["dynamics", "--n", "10", "--jd", "0.5", "--seed", "abc"], "not an integer"),
    ("cli", FP + ["--model", "leaky", "--tau", "abc"], "not a number"),
    ("cli", FP + ["--box", "a", "b", "--certified"], "not a number"),
    ("cli", BP + ["--damping", "x"], "not a number"),
    ("cli", ENT + ["--eta", "0:1:3", "--layers", "2"], "eta = 0 only"),
    ("cli", ["theory", "critical", "--criterion", "gap", "--evidence", "{d}/adir"],
     "is a directory"),
    ("cli", CPL + ["--save-states", "{d}/adir"], "is a directory"),
    ("cli", ["learn", "--dataset", "emnist5k", "--data-path", "{d}/adir", "--epochs", "1"],
     "adir"),
    ("cli", ["attractors", "fixed-points", "--weights", "{d}/W.npy", "--csv", "{d}/adir"],
     "is a directory"),
    # --- attractors: the leaky integrator's time constant (fixed points do not depend on tau;
    #     today an absurd tau changes their number, and the census never ends) --------------
    ("attractors", FP + ["--model", "leaky", "--tau", "1e300"], "tau"),
    ("attractors", FP + ["--model", "leaky", "--tau", "1e-300"], "tau"),
    ("attractors", FP + ["--precision", "half"], "invalid choice"),
    ("attractors", FP + ["--deflation-starts", "-1"], "--deflation-starts"),
    # --- the FEP network (fplandscape fep) -------------------------------------------------
    ("fep", ["fep", "demo", "--beta", "0"], "--beta"),
    ("fep", ["fep", "demo", "--presentations", "1e12"], "--presentations"),
    ("fep", ["fep", "demo", "--out", "{d}/J.txt"], ".npz"),
    ("fep", ["fep", "train", "--digits", "1", "12"], "digit classes 0-9"),
    ("fep", ["fep", "relax", "--weights", "{d}/missing.npy", "--start", "{d}/missing.csv"],
     "does not exist"),
    ("fep", ["fep", "analyse", "--weights", "{d}/adir"], "is a directory"),
    # --- coupling files (model.load_couplings) ---------------------------------------------
    ("model", ["enumerate", "--couplings", "{d}/bigint.npy"], "2^53"),
    ("model", ["enumerate", "--couplings", "{d}/longdouble.npy"], "float64"),
    ("model", ["bp-entropy", "--couplings", "{d}/bigint.npy"], "2^53"),
    ("model", ["enumerate", "--couplings", "{d}/bigint.txt"], "integer 9007199254740993 is beyond 2^53"),
    ("model", ["enumerate", "--couplings", "{d}/notzip.npz"], "not a valid .npz"),
    ("model", ["enumerate", "--couplings", "{d}/empty.csv"], "empty"),
    ("model", ["enumerate", "--couplings", "{d}/nokey.npz"], "J"),
    ("model", ["enumerate", "--couplings", "{d}/rect.npy"], "square"),
    ("model", ["enumerate", "--couplings", "{d}/nan.csv"], "non-finite"),
    ("model", ["enumerate", "--couplings", "{d}/big.npy"], "64"),
    ("model", ["enumerate", "--couplings", "{d}/junk.npy"], "cannot read"),
    ("model", ["enumerate", "--couplings", "{d}/obj.npy"], "obj.npy"),
    ("model", ["enumerate", "--couplings", "{d}/words.txt"], "words.txt"),
    ("model", ["enumerate", "--couplings", "{d}/missing.npy"], "does not exist"),
    ("model", ["enumerate", "--couplings", "{d}/adir"], "is a directory"),
    ("model", ["bp-entropy", "--couplings", "{d}/missing.npy"], "does not exist"),
    # --- theory ------------------------------------------------------------------------------
    ("theory", ["theory", "critical", "--criterion", "gap", "--bracket", "0.5", "0.1"],
     "LO < HI"),
    ("theory", ["theory", "critical", "--criterion", "gap", "--tol", "-1"], "tol"),
    ("theory", ["theory", "critical", "--criterion", "gap", "--tol", "0"], "tol"),
    ("theory", ENT + ["--eta", "1.5"], "eta"),
    ("theory", ENT + ["--lam=-1"], "lambda"),
    ("theory", ["theory", "pair-entropy", "--jd", "0.1", "--q", "1.2"], "q"),
    ("theory", ["theory", "local-entropy", "--jd", "0.1", "--kind", "franz-parisi",
                "--kappa", "0.2"], "kappa"),
    ("theory", ["theory", "local-entropy", "--jd", "0.1", "--kind", "annealed", "--d",
                "0.7"], "d"),
    ("theory", ["theory", "local-entropy", "--jd", "0.1", "--kind", "annealed", "--d", "0"],
     "d"),
    ("theory", ["theory", "local-entropy", "--jd", "0.1", "--kind", "large-deviation",
                "--y=-1"], "y"),
    ("theory", ["theory", "local-entropy", "--jd", "1e300"], "J_D"),
    ("theory", ["theory", "local-entropy", "--jd", "0.1", "--kind", "large-deviation",
                "--y", "1e300"], "y"),
    # --- validate ----------------------------------------------------------------------------
    ("validate", VC + ["--samples", "0"], "--samples must be a positive integer"),
    ("validate", VC + ["--seed", "-1"], "--seed"),
    ("validate", ["validate", "counts", "--n", "100", "--jd", "0.1", "--samples", "2"], "64"),
    ("validate", VC + ["--eta", "2"], "eta"),
    ("validate", ["validate", "pairs", "--n", "65", "--jd", "0.1"], "--n must be in 1..64"),
    ("validate", ["validate", "critical", "--bootstrap", "-1"], "--bootstrap must be >= 0"),
    ("validate", ["validate", "critical", "--samples", "1"], "samples"),
    ("validate", ["validate", "critical", "--n", "41"], "N ≤ 40"),
    ("validate", ["validate", "critical", "--n", "40", "--jd", "0", "1"],
     "lists and pairs every fixed point"),
    ("validate", ["validate", "accessibility", "--criteria", "bogus"], "unknown criterion"),
    ("validate", ["validate", "accessibility", "--rules", "nope"], "nope"),
    # --- parallel: schedulers, checkpoints ---------------------------------------------------
    ("parallel", EN + ["--scheduler", "garbage"], "scheduler"),
    ("parallel", EN + ["--scheduler", "http://x"], "scheduler"),
    ("parallel", VC + ["--samples", "2", "--scheduler", "garbage"], "scheduler"),
    ("parallel", CEN + ["--scheduler", "tcp://"], "scheduler"),
]


def _row_id(row):
    owner, argv, _ = row
    text = " ".join(str(a).replace("{d}/", "") for a in argv)
    if len(text) > 90:
        text = text[:40] + "..." + text[-47:]
    return f"{owner}: {text}"


@pytest.mark.parametrize("owner, argv, match",
                         [pytest.param(*row, id=_row_id(row)) for row in ERROR_ROWS])
def test_bad_command_line_is_one_clear_error(capsys, files, owner, argv, match):
    with bounded():
        rc, out, err = run(capsys, *_expand(argv, files))
    assert "Traceback" not in err, err
    assert rc == 2, (rc, err)
    assert err.startswith("error: "), err
    assert err.strip().count("\n") <= 1, err  # the message, and at most a "(see ... --help)"
    assert match.format(d=files) in err, err
    assert out == "", out


# --------------------------------------------------------------------------------------------
# the same promise for the Python functions: InputError (a ValueError) at once


def _J(n=10, seed=0):
    return np.random.default_rng(seed).standard_normal((n, n)) / np.sqrt(n)


def _train(epochs):
    from fplandscape.learn.data import synthetic
    from fplandscape.learn.network import Architecture
    from fplandscape.learn.train import train

    data = synthetic(n_train=20, n_test=10)
    arch = Architecture(n_in=data.n_in, hidden=8, classes=data.classes)
    return train(data, arch, epochs=epochs)


def _api(name):
    import fplandscape.attractors as att
    import fplandscape.sim.accessibility as acc
    import fplandscape.sim.bp as bp
    import fplandscape.sim.disorder as dis
    import fplandscape.sim.dynamics as dyn
    from fplandscape import model, theory

    return {
        "disorder_average": lambda d: dis.disorder_average(model.Ensemble(n=8, jd=0.0),
                                                           10 ** 12, 0),
        "run_dynamics": lambda d: dyn.run_dynamics(_J(), runs=10 ** 11),
        "anneal": lambda d: dyn.anneal(_J(), runs=1, max_sweeps=10 ** 12),
        "accessibility_scan": lambda d: acc.accessibility_scan([10], [0.5], runs=10 ** 12),
        "bethe_entropy": lambda d: bp.bethe_entropy(_J(), max_iter=10 ** 12),
        "train": lambda d: _train(10 ** 20),
        "find_fixed_points": lambda d: att.find_fixed_points(att.RateMap(_J()),
                                                             n_starts=10 ** 9),
        "census": lambda d: att.census(att.RateMap(_J()), steps=10 ** 12),
        "lyapunov_spectrum": lambda d: att.lyapunov_spectrum(att.RateMap(_J()),
                                                             np.zeros((1, 10)), 2,
                                                             steps=10 ** 12),
        "check_count": lambda d: errors.check_count(10 ** 12, "samples", minimum=1),
        "check_writable /proc": lambda d: tables.check_writable("/proc/x.csv"),
        "check_writable /sys": lambda d: tables.check_writable("/sys/x.csv"),
        "check_dir_writable /proc": lambda d: tables.check_dir_writable("/proc/ck"),
        "load_couplings bigint": lambda d: model.load_couplings(d / "bigint.npy"),
        "load_couplings longdouble": lambda d: model.load_couplings(d / "longdouble.npy"),
        "load_couplings notzip": lambda d: model.load_couplings(d / "notzip.npz"),
        "load_couplings empty csv": lambda d: model.load_couplings(d / "empty.csv"),
        "critical_self_coupling bracket": lambda d: theory.critical_self_coupling(
            "gap", bracket=(0.5, 0.1)),
        "log_expected_pairs huge N": lambda d: theory.log_expected_pairs(10 ** 12, 0.1),
        "finite_size_critical samples": lambda d: __import__(
            "fplandscape.validate.critical", fromlist=["x"]).finite_size_critical(
            [6], [0.1, 0.2], 10 ** 12),
        "validate_counts samples": lambda d: __import__(
            "fplandscape.validate.counts", fromlist=["x"]).validate_counts([6], [0.1, 0.2], 10 ** 12),
    }[name]


API_ROWS = [
    ("cli", "disorder_average", "samples must be ≤"),
    ("cli", "run_dynamics", "runs must be ≤"),
    ("cli", "anneal", "max_sweeps must be ≤"),
    ("cli", "accessibility_scan", "runs must be ≤"),
    ("cli", "bethe_entropy", "max_iter must be ≤"),
    ("cli", "train", "epochs must be ≤"),
    ("cli", "find_fixed_points", "n_starts must be ≤"),
    ("cli", "census", "steps must be ≤"),
    ("cli", "lyapunov_spectrum", "steps must be ≤"),
    ("cli", "check_count", "samples must be ≤ 100000 (got 1000000000000)"),
    ("cli", "check_writable /proc", "cannot write"),
    ("cli", "check_writable /sys", "cannot write"),
    ("cli", "check_dir_writable /proc", "cannot create"),
    ("model", "load_couplings bigint", "2^53"),
    ("model", "load_couplings longdouble", "float64"),
    ("model", "load_couplings notzip", "not a valid .npz"),
    ("model", "load_couplings empty csv", "empty"),
    ("theory", "critical_self_coupling bracket", "bracket"),
    ("theory", "log_expected_pairs huge N", "N"),
    ("validate", "finite_size_critical samples", "samples must be ≤"),
    ("validate", "validate_counts samples", "samples must be ≤"),
]


@pytest.mark.parametrize("owner, name, match",
                         [pytest.param(*row, id=f"{row[0]}: {row[1]}") for row in API_ROWS])
def test_bad_python_call_is_an_input_error(files, owner, name, match):
    call = _api(name)
    with bounded():
        with pytest.raises(InputError, match=None) as info:
            call(files)
    assert match in str(info.value), str(info.value)


# --------------------------------------------------------------------------------------------
# inputs that must be accepted (regressions, values at the limits)


@pytest.mark.parametrize("argv, dest, value", [
    (EN + ["--samples", "100000"], "samples", 100000),  # exactly at the limit
    (EN + ["--samples", "1e5"], "samples", 100000),  # an integral value in any notation
    (EN + ["--samples", "2.0e1"], "samples", 20),
    (EN + ["--samples", "1_000"], "samples", 1000),
    (EN + ["--seed", "99999999999999999999"], "seed", 99999999999999999999),  # seeds: no limit
    (["dynamics", "--n", "20000", "--jd", "0", "--seed", "0"], "n", 20000),
    (["theory", "moments", "--n", "1e3", "--jd", "0.1"], "n", [1000]),
    (["theory", "moments", "--n", "9007199254740993", "--jd", "0.1"], "n",
     [9007199254740993]),  # parsed exactly (then refused by the limit; see the error table)
    (ENT + ["--layers", "inf"], "layers", [float("inf")]),
    (["learn", "--dataset", "synthetic", "--epochs", "1e5"], "epochs", 100000),
])
def test_accepted_values_parse_exactly(argv, dest, value):
    parser = build_parser()
    if value == [9007199254740993]:
        with pytest.raises(common.CLIError, match="got 9007199254740993"):
            parser.parse_args(argv)
        return
    args = parser.parse_args(argv)
    assert getattr(args, dest) == value


def test_every_count_option_states_its_limit():
    """Every option with a limit says so in its --help, and the same concept has the same
    limit in every command."""
    import argparse

    seen = {}

    def walk(p, path):
        for a in p._actions:
            if isinstance(a, argparse._SubParsersAction):
                for name, sub in a.choices.items():
                    walk(sub, path + [name])
            elif getattr(a, "limit", None) is not None and a.help is not argparse.SUPPRESS:
                # (hidden deprecated spellings share the dest, limit and check of the option)
                assert f"at most {a.limit}" in a.help, (path, a.option_strings)
                seen.setdefault(a.dest, set()).add(a.limit)

    walk(build_parser(), [])
    for dest in ("samples", "runs", "epochs", "n", "max_sweeps", "bootstrap", "starts",
                 "steps", "workers"):
        assert dest in seen, dest
    assert all(len(v) == 1 for v in seen.values()), seen
    # no int option escapes the strict parser
    for p in (build_parser(),):
        assert p._registry_get("type", int) is common.integer


def test_probe_leaves_nothing_behind(tmp_path):
    target = tmp_path / "out.csv"
    assert tables.check_writable(target) == target
    assert not target.exists()
    existing = tmp_path / "keep.csv"
    existing.write_text("content")
    tables.check_writable(existing)
    assert existing.read_text() == "content"
    tables.check_dir_writable(tmp_path / "a" / "b")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keep.csv"]


def test_multi_cell_named_checkpoint_succeeds(capsys, tmp_path):
    """validate counts with several (N, J_D) cells and a named --checkpoint: exit 0, and the
    same rows again with --resume."""
    ck = tmp_path / "named-ck"
    argv = ["validate", "counts", "--n", "6", "8", "--jd", "0", "0.1", "--samples", "3",
            "--checkpoint", ck, "--workers", "1", "--no-progress", "--json"]
    with bounded(60):
        rc, out, err = run(capsys, *argv)
    assert rc == 0 and "Traceback" not in err, err
    with bounded(60):
        rc2, out2, err2 = run(capsys, *argv, "--resume")
    assert rc2 == 0 and "Traceback" not in err2, err2
    import json

    rows = [{k: v for k, v in r.items() if k != "seconds"} for r in json.loads(out)["rows"]]
    rows2 = [{k: v for k, v in r.items() if k != "seconds"} for r in json.loads(out2)["rows"]]
    assert rows == rows2 and len(rows) == 4


def test_csv_to_dev_null_is_fine(capsys):
    rc, out, err = run(capsys, *ENT, "--csv", os.devnull)
    assert rc == 0, err


def test_validate_critical_degenerate_fit_succeeds_with_a_flag(capsys, monkeypatch):
    """No finite-N crossing in the grid: a degenerate 1/N fit is reported (fit_ok False with a
    reason), not an error and not a number. The N → ∞ theory values are given (solving the
    energetic criterion takes a minute)."""
    import json

    import fplandscape.validate.critical as crit

    known = {"gap": 0.0427228, "energetic": 0.1054102}
    monkeypatch.setattr(crit, "theory_critical_value", known.get)
    with bounded(60):
        rc, out, err = run(capsys, "validate", "critical", "--n", "6", "8", "--jd", "0.5",
                           "0.6", "--samples", "3", "--bootstrap", "2", "--workers", "1",
                           "--no-progress", "--json")
    assert rc == 0 and "Traceback" not in err, err
    table = json.loads(out)["table"]
    assert table and all(r["fit_ok"] is False and r["fit_reason"] for r in table)
    assert all(r["extrapolated"] is None for r in table)
