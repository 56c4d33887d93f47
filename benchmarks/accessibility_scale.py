"""Benchmark: accessibility at scale (issue 15 goal 3), the finite-size thresholds J_50(N) of
asynchronous and synchronous dynamics up to N = 12800 and what their extrapolation supports.

For each N, :func:`fplandscape.sim.accessibility.accessibility_scan` on a J_D window around that
N's threshold (``sim.accessibility.THRESHOLD_WINDOWS``, step 0.02; the networks and initial
states of a cell depend on (seed, N, network) only, so scanning each N on its own window gives
exactly the cells of one joint scan), ``--runs`` runs per cell, ≤ ``--max-sweeps`` sweeps, one network per N (``--samples``).
Then J_50(N) (logistic MLE, :func:`fplandscape.stats.fit_threshold`) per rule and N, and the
extrapolation to N → ∞ in three forms, each with its χ²/dof:

* ``sqrt``:   J_50(N) = J_50(∞) + c·N^(−1/2)      (:func:`fplandscape.stats.extrapolate_threshold`)
* ``linear``: J_50(N) = J_50(∞) + c·N^(−1)         (same)
* ``power``:  J_50(N) = J_50(∞) + c·N^(−ν), ν free (weighted least squares, scipy curve_fit)
* ``log``:    J_50(N) = a + b·ln N (no finite limit; the alternative "it keeps growing")

each fitted on all N and on the largest ``--last`` sizes (the asymptotic regime), so the table
shows whether the forms agree once the small sizes are left out.

Memory: a cell holds J and its transpose (8 N² bytes each: 2.6 GB at N = 12800 on each worker;
the scan refuses before any work if the workers would not fit, :func:`fplandscape.parallel.
check_memory`). The kernels stay exact at every N: every sign is the exact sign of the stored
numbers (rounding band ∝ N·u·Σ_j|J_ij|, exact summation inside it; fplandscape/sim/_dynamics.pyx).

Resumable: every N has its checkpoint folder under ``--checkpoint`` (default
``benchmarks/out/accessibility_scale``); Ctrl-C stops cleanly and a rerun with the same options
resumes with every finished cell kept. Progress bars on stderr.

Usage::

    python benchmarks/accessibility_scale.py [--n 200 400 800 1600 3200 6400 12800]
        [--rules async sync] [--runs 20] [--samples 1] [--max-sweeps 1000] [--seed 0]
        [--workers W] [--last 4] [--window N:LO:HI ...] [--checkpoint DIR] [--json PATH]
        [--quick]

``--quick``: N = 100, 200, 400 with 6 runs (seconds; checks the script end to end).
"""
from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

import numpy as np

from fplandscape.cli.common import format_table
from fplandscape.sim.accessibility import THRESHOLD_WINDOWS, accessibility_scan, threshold_window
from fplandscape.stats import extrapolate_threshold
from fplandscape.tables import dumps

WINDOWS = dict(THRESHOLD_WINDOWS)   # --window N:LO:HI overrides an entry


def window(n: int) -> list:
    return threshold_window(n, WINDOWS)


def _chi2(y, f, e):
    return float(np.sum(((np.asarray(y) - np.asarray(f)) / np.asarray(e)) ** 2))


def fit_forms(n, y, e) -> list:
    """Rows: one per extrapolation form, J_50(∞) ± error, its other parameters, χ², dof."""
    from scipy.optimize import curve_fit

    n, y, e = (np.asarray(v, dtype=float) for v in (n, y, e))
    rows = []
    for form in ("sqrt", "linear"):
        ex = extrapolate_threshold(n, y, e, form=form)
        rows.append({"form": form, "j50_inf": ex["j50_inf"], "j50_inf_err": ex["j50_inf_err"],
                     "param": f"c = {ex['slope']:.3g}" if ex["slope"] is not None else None,
                     "chi2": ex["chi2"], "dof": ex["dof"]})
    if len(n) >= 4:
        try:
            p, cov = curve_fit(lambda x, a, c, nu: a + c * x ** (-nu), n, y, p0=(y[-1], -1.0, 0.5),
                               sigma=e, absolute_sigma=True, maxfev=20000)
            chi2 = _chi2(y, p[0] + p[1] * n ** (-p[2]), e)
            rows.append({"form": "power", "j50_inf": float(p[0]),
                         "j50_inf_err": float(math.sqrt(cov[0, 0])),
                         "param": f"ν = {p[2]:.2f} ± {math.sqrt(cov[2, 2]):.2f}",
                         "chi2": chi2, "dof": len(n) - 3})
        except (RuntimeError, ValueError) as exc:
            rows.append({"form": "power", "j50_inf": None, "j50_inf_err": None,
                         "param": f"no fit ({type(exc).__name__})", "chi2": None,
                         "dof": len(n) - 3})
    if len(n) >= 3:
        X = np.column_stack([np.ones_like(n), np.log(n)])
        W = 1.0 / e ** 2
        A = X.T @ (W[:, None] * X)
        coef = np.linalg.solve(A, X.T @ (W * y))
        err = np.sqrt(np.diag(np.linalg.inv(A)))
        rows.append({"form": "log", "j50_inf": None, "j50_inf_err": None,
                     "param": f"b = {coef[1]:.4f} ± {err[1]:.4f} per e-fold of N",
                     "chi2": _chi2(y, X @ coef, e), "dof": len(n) - 2})
    for r in rows:
        r["chi2_dof"] = (r["chi2"] / r["dof"]) if r["chi2"] is not None and r["dof"] else None
    return rows


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, nargs="+", default=[200, 400, 800, 1600, 3200, 6400, 12800])
    ap.add_argument("--rules", nargs="+", default=["async", "sync"])
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--samples", type=int, default=1)
    ap.add_argument("--max-sweeps", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--workers", type=int, default=None)
    ap.add_argument("--last", type=int, default=4)
    ap.add_argument("--checkpoint", default="benchmarks/out/accessibility_scale")
    ap.add_argument("--json", default=None)
    ap.add_argument("--window", nargs="+", default=[], metavar="N:LO:HI",
                    help="replace the J_D window of size N (step 0.02), e.g. 12800:0.66:0.78")
    ap.add_argument("--quick", action="store_true")
    a = ap.parse_args(argv)
    if a.quick:
        a.n, a.runs = [100, 200, 400], 6
    for w in a.window:
        try:
            n, lo, hi = w.split(":")
            WINDOWS[int(n)] = (float(lo), float(hi))
        except ValueError:
            print(f"error: --window wants N:LO:HI, got {w!r}", file=sys.stderr)
            return 2
    for n in a.n:
        if n not in WINDOWS:
            print(f"error: no J_D window for N = {n}; choose from {sorted(WINDOWS)}",
                  file=sys.stderr)
            return 2
    t0 = time.perf_counter()
    cells, finite, timing = [], [], []
    for n in sorted(a.n):
        t = time.perf_counter()
        res = accessibility_scan([n], window(n), a.rules, runs=a.runs, samples=a.samples,
                                 max_sweeps=a.max_sweeps, seed=a.seed, workers=a.workers,
                                 checkpoint=str(Path(a.checkpoint) / f"n{n}"), resume=True,
                                 progress=True)
        timing.append({"n": n, "cells": len(res.rows), "seconds": round(time.perf_counter() - t, 1),
                       "cpu_seconds_in_cells": round(sum(r["seconds"] for r in res.rows), 1)})
        cells += res.rows
        finite += [t for t in res.thresholds if t["kind"] == "finite_n"]
    wall = time.perf_counter() - t0
    print(format_table(timing, ["n", "cells", "seconds", "cpu_seconds_in_cells"]))
    thr = [{"rule": t["rule"], "n": t["n"], "j50": t["j50"], "j50_err": t["j50_err"],
            "status": t["status"]} for t in finite]
    print(format_table([{k: (round(v, 4) if isinstance(v, float) else v) for k, v in r.items()}
                        for r in thr], ["rule", "n", "j50", "j50_err", "status"]))
    fits = []
    for rule in a.rules:
        ok = [t for t in thr if t["rule"] == rule and t["j50"] is not None and
              t["status"] in ("ok", "separated")]
        subsets = [("all N", ok)] + ([(f"largest {a.last}", ok[-a.last:])]
                                     if len(ok) > a.last else [])
        for subset, sel in subsets:
            if len(sel) < 2:
                continue
            for r in fit_forms([t["n"] for t in sel], [t["j50"] for t in sel],
                               [t["j50_err"] for t in sel]):
                fits.append({"rule": rule, "sizes": f"{subset} ({sel[0]['n']}–{sel[-1]['n']})",
                             **r})
    print(format_table([{k: (round(v, 4) if isinstance(v, float) else v) for k, v in r.items()}
                        for r in fits], ["rule", "sizes", "form", "j50_inf", "j50_inf_err",
                                         "param", "chi2", "dof", "chi2_dof"]))
    print(f"wall time {wall:.0f} s", file=sys.stderr)
    if a.json:
        Path(a.json).parent.mkdir(parents=True, exist_ok=True)
        Path(a.json).write_text(dumps({"cells": cells, "thresholds": thr, "fits": fits,
                                       "timing": timing, "wall_seconds": wall,
                                       "options": vars(a)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
