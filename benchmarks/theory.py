"""Wall-clock benchmark of the analytic theory (``fplandscape.theory``).

Usage::

    python benchmarks/theory.py [--quick] [--csv PATH]

What it measures (``time.perf_counter``, wall clock, one process):

1. ``annealed_entropy(jd)`` on 10**6 points, jd = linspace(-3, 3, 10**6)   target < 0.1 s
2. ``annealed_entropy(jd, eta=0.5)`` on 10**5 points                       report only
3. ``pair_entropy(0.5, q)`` on a 10**5-point q grid on [-1, 1]             report only
4. ``log_expected_pairs(N=10**4, jd=0.5)``                                 report only
5. a 50-point Franz–Parisi curve, ``local_entropy(0.5, "franz-parisi",
   default_distances(50), kappa=...)`` for kappa = 0 and kappa = 0.5      target < 5 s each
   (note: how many of the 50 saddle points converged)
6. each critical self-coupling, ``critical_self_coupling(c, evidence=False)``
   for c in gap, energetic, entropic, ld                                   target < 60 s each
   (note: the value found and its tolerance on J_D)

Timing protocol: the fast array tasks (1–4) get one untimed warm-up call; every task is then
timed once, and a task that took under 1 s is timed twice more and the best of the 3 runs is
reported. The Franz–Parisi rows get a cheap one-point warm-up (quadrature rules, imports); the
critical values are timed cold.

``--quick`` skips the two slowest rows (``entropic`` and ``ld`` critical values) for a smoke run.
``--csv PATH`` also writes the rows as CSV (:func:`fplandscape.tables.write_csv`).

Speed goals live here, not in the test suite: timings depend on the machine and its load (the
header prints ``nproc``, the load average and the library versions so a run can be judged), so
a FAIL row is information, not an error. The exit status is 0 whatever the timings; only a
command-line error (unknown option, unwritable ``--csv`` path, checked before any timing)
exits with status 2.
"""
from __future__ import annotations

import argparse
import math
import sys
import time

import numpy as np

from fplandscape.errors import InputError
from fplandscape.provenance import benchmark_header, environment
from fplandscape.tables import check_writable, write_csv
from fplandscape.theory import (
    annealed_entropy,
    critical_self_coupling,
    default_distances,
    local_entropy,
    log_expected_pairs,
    pair_entropy,
)

COLUMNS = ("task", "size", "seconds", "target", "status", "note")
FAST = 1.0  # tasks faster than this (s) are timed best of 3


def _time(fn, *, warmup=None):
    """(best seconds, result of the last run, number of timed runs)."""
    if warmup is not None:
        warmup()
    t0 = time.perf_counter()
    result = fn()
    best = time.perf_counter() - t0
    runs = 1
    if best < FAST:
        for _ in range(2):
            t0 = time.perf_counter()
            result = fn()
            best = min(best, time.perf_counter() - t0)
            runs += 1
    return best, result, runs


def _fmt_tol(tol: float) -> str:
    mant, exp = f"{tol:.0e}".split("e")
    return f"{mant}e{int(exp)}"


def _critical_note(cv) -> str:
    digits = max(5, math.ceil(-math.log10(cv.tolerance)) + 1)
    note = f"J_D = {cv.jd:.{digits}f} ± {_fmt_tol(cv.tolerance)}"
    return note if cv.converged else note + " (brentq NOT converged)"


def _tasks(quick: bool):
    """(task, size, target seconds or None, callable, warm-up or None, note(result) or None)."""
    jd6 = np.linspace(-3.0, 3.0, 10**6)
    jd5 = np.linspace(-3.0, 3.0, 10**5)
    q5 = np.linspace(-1.0, 1.0, 10**5)
    d50 = default_distances(50)
    tasks = [
        ("annealed_entropy", "10^6 jd", 0.1, lambda: annealed_entropy(jd6),
         lambda: annealed_entropy(jd6[:1000]), None),
        ("annealed_entropy eta=0.5", "10^5 jd", None, lambda: annealed_entropy(jd5, eta=0.5),
         lambda: annealed_entropy(jd5[:1000], eta=0.5), None),
        ("pair_entropy jd=0.5", "10^5 q", None, lambda: pair_entropy(0.5, q5),
         lambda: pair_entropy(0.5, q5[:1000]), None),
        ("log_expected_pairs jd=0.5", "N=10^4", None, lambda: log_expected_pairs(10**4, 0.5),
         lambda: log_expected_pairs(100, 0.5), None),
    ]
    for kappa in (0.0, 0.5):
        tasks.append((
            f"franz-parisi jd=0.5 kappa={kappa:g}", "50 d", 5.0,
            lambda kappa=kappa: local_entropy(0.5, "franz-parisi", d50, kappa=kappa),
            lambda kappa=kappa: local_entropy(0.5, "franz-parisi", [0.1], kappa=kappa),
            lambda curve: f"{int(np.sum(curve.converged))}/{curve.converged.size} converged",
        ))
    criteria = ("gap", "energetic") if quick else ("gap", "energetic", "entropic", "ld")
    for c in criteria:
        tasks.append((f"critical {c}", "-", 60.0,
                      lambda c=c: critical_self_coupling(c, evidence=False), None, _critical_note))
    return tasks


def run(quick: bool = False, echo=print) -> list[dict]:
    rows = []
    for name, size, target, fn, warmup, note_fn in _tasks(quick):
        try:
            seconds, result, runs = _time(fn, warmup=warmup)
        except Exception as exc:  # report, never gate
            rows.append({"task": name, "size": size, "seconds": None,
                         "target": "-" if target is None else f"< {target:g} s",
                         "status": "ERROR", "note": f"{type(exc).__name__}: {exc}"})
        else:
            note = note_fn(result) if note_fn else ""
            if runs > 1:
                note = (note + "; " if note else "") + f"best of {runs}"
            status = "-" if target is None else ("PASS" if seconds < target else "FAIL")
            rows.append({"task": name, "size": size, "seconds": round(seconds, 4),
                         "target": "-" if target is None else f"< {target:g} s",
                         "status": status, "note": note})
        echo(f"  done: {name} ({rows[-1]['seconds']} s)", file=sys.stderr, flush=True)
    return rows


def format_table(rows) -> str:
    cells = [[("-" if r[c] is None else (f"{r[c]:.4f}" if c == "seconds" else str(r[c])))
              for c in COLUMNS] for r in rows]
    widths = [max(len(c), *(len(row[i]) for row in cells)) for i, c in enumerate(COLUMNS)]
    line = lambda vals: " | ".join(v.ljust(w) for v, w in zip(vals, widths)).rstrip()
    out = [line(COLUMNS), "-+-".join("-" * w for w in widths)]
    out += [line(row) for row in cells]
    return "\n".join(out)


def header() -> str:
    return benchmark_header("fplandscape theory benchmark", f"scipy {environment()['scipy']}")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true",
                    help="skip the entropic and ld critical values (fast smoke run)")
    ap.add_argument("--csv", metavar="PATH", help="also write the rows as CSV")
    args = ap.parse_args(argv)
    if args.csv:
        try:
            check_writable(args.csv)
        except InputError as exc:
            ap.error(str(exc))
    print(header(), flush=True)
    rows = run(quick=args.quick)
    print()
    print(format_table(rows))
    if args.csv:
        print(f"\nwrote {write_csv(args.csv, rows)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
