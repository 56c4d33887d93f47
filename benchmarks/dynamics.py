"""Wall-clock benchmark of the dynamics kernels (``fplandscape.sim.dynamics``).

Usage::

    python benchmarks/dynamics.py [--n N] [--seed S] [--quick] [--skip-scan | --scan-only]
        [--workers W]

What it measures (``time.perf_counter``, wall clock, one process, one thread; default N = 3200):

* async, visit loop: a network whose dynamics never stop but flip only ~2 spins per sweep
  (self-couplings 3 on all neurons but two, which rotate with period 4: J_01 = 1, J_10 = −1),
  so the time is the O(1) neuron visit itself plus the per-sweep random permutation. Rate =
  neuron visits (sweeps × N) per second; target of issue 4: ≥ 1e8 per second per core with the
  random order. The fixed index order is shown for comparison.
* async, Gaussian networks (docs/model.md#ensembles, η = 0, J_D = 0.5, 1, 2) from random starts:
  visits/s and flips/s. Each flip adds a column of J to all fields (N float64 read from memory,
  ≈ N·8 bytes of memory traffic), so these runs are memory-bound and the visit rate is set by the
  flips.
* sync: steps s ← sign(J s) per second (runs × steps / s), one run and 16 runs in lock step
  (the kernel reads J once per step for a group of 16 runs when it sums fields from scratch:
  at the first step, after a step that flipped more than N/4 spins and every 4N incremental
  updates; in between it adds the columns of the flipped spins; exact decisions throughout).
* anneal: Metropolis proposals and accepted flips per second (each proposal costs O(N)).
* scan (issue 4, :func:`fplandscape.sim.accessibility.accessibility_scan`): J_D ∈ {0.3, 0.35,
  …, 1.0} × N ∈ {200, 400, 800, 1600} × 20 runs (≤ 1000 sweeps) for async and sync, one network
  per N, on ``--workers`` threads (default 2); target < 5 min on 2 cores. It is the long part:
  ``--skip-scan`` leaves it out, ``--scan-only`` runs only it, ``--quick`` shrinks it to
  N ∈ {200, 400}. Rate = sweeps done (all runs) per second of the whole scan; the measured
  thresholds J_50(N) and their extrapolations are printed below the table.

"setup" is the time of the same call with max_sweeps = 0 (validation, the transposed copy of J,
the initial and final exact fields; best of two after a warm-up call); rates are computed on
(seconds − setup), and the column "rate (whole call)" on the whole call. Rates count what was
actually done (sweeps and flips performed; runs that converge stop early). The header prints nproc and the load average:
timings depend on the machine's load, a FAIL is information, not an error, and the exit status
is 0 whatever the timings.
"""
from __future__ import annotations

import argparse
import sys
import time

import numpy as np

from fplandscape import model
from fplandscape.provenance import benchmark_header
from fplandscape.sim.dynamics import anneal, run_dynamics

VISIT_TARGET = 1e8
SCAN_TARGET_SECONDS = 300.0
SCAN_JD = [round(0.3 + 0.05 * i, 10) for i in range(15)]
SCAN_N = (200, 400, 800, 1600)
COLUMNS = ("kernel", "network", "runs", "sweeps", "flips", "seconds", "setup s", "rate",
           "unit", "rate (whole call)", "target", "status")


def visit_network(n: int) -> np.ndarray:
    J = 3.0 * np.eye(n)
    J[0, 0] = J[1, 1] = 0.0
    J[0, 1], J[1, 0] = 1.0, -1.0
    return J


def _timed(f, *a, **k):
    t = time.perf_counter()
    out = f(*a, **k)
    return out, time.perf_counter() - t


def _setup(f, *a, **k):
    """Fixed cost of a call (max_sweeps = 0): best of 2 after a warm-up call."""
    k = dict(k, max_sweeps=0)
    f(*a, **k)
    return min(_timed(f, *a, **k)[1] for _ in range(2))


def _row(kernel, network, res, secs, setup, work, unit, target=None):
    busy = max(secs - setup, 1e-9)
    rate = work / busy
    status = "-" if target is None else ("PASS" if rate >= target else "FAIL")
    return {"kernel": kernel, "network": network, "runs": res.runs,
            "sweeps": int(res.sweeps.sum()), "flips": int(res.flips.sum()), "seconds": secs,
            "setup s": setup, "rate": rate, "unit": unit, "rate (whole call)": work / secs,
            "target": "-" if target is None else f">= {target:.0e}", "status": status}


def run_scan(seed: int = 0, quick: bool = False, workers: int = 2, echo=print):
    """The accessibility scan of issue 4; returns (benchmark row, AccessibilityResult)."""
    from fplandscape.sim.accessibility import accessibility_scan

    n_values = SCAN_N[:2] if quick else SCAN_N
    t = time.perf_counter()
    res = accessibility_scan(n_values, SCAN_JD, rules=("async", "sync"), runs=20, samples=1,
                             max_sweeps=1000, seed=seed, workers=workers, progress=False)
    secs = time.perf_counter() - t
    sweeps = sum(sum(c["sweeps"]) for c in res.cells)
    runs = sum(len(c["sweeps"]) for c in res.cells)
    row = {"kernel": f"scan async+sync ({workers} threads)",
           "network": f"N {n_values[0]}-{n_values[-1]} x {len(SCAN_JD)} J_D x 20 runs",
           "runs": runs, "sweeps": sweeps, "flips": None, "seconds": secs, "setup s": None,
           "rate": sweeps / secs, "unit": "run-sweeps/s", "rate (whole call)": sweeps / secs,
           "target": f"< {SCAN_TARGET_SECONDS:.0f} s",
           "status": "PASS" if secs < SCAN_TARGET_SECONDS else "FAIL"}
    echo(f"  done: accessibility scan, {secs:.1f} s", file=sys.stderr, flush=True)
    return row, res


def format_thresholds(res) -> str:
    lines = ["thresholds J_50(N) (logistic fit of P(reach) vs J_D) and J_50(inf):"]
    for t in res.thresholds:
        if t["kind"] == "finite_n":
            j = "-" if t["j50"] is None else f"{t['j50']:.4f} +- {t['j50_err']:.4f}"
            lines.append(f"  {t['rule']:6s} N = {t['n']:5d}: J_50 = {j}  [{t['status']}, "
                         f"{t['method']}]")
        else:
            j = "-" if t["j50_inf"] is None else f"{t['j50_inf']:.4f} +- {t['j50_inf_err']:.4f}"
            fit = "" if t["chi2"] is None else f"  chi2 = {t['chi2']:.2f} / dof {t['dof']}"
            lines.append(f"  {t['rule']:6s} N -> inf ({t['form']}): J_50 = {j}{fit}"
                         f"{'  (headline)' if t['headline'] else ''}")
    return "\n".join(lines)


def run(n: int = 3200, seed: int = 0, quick: bool = False, echo=print, scan: bool = True,
        kernels: bool = True, workers: int = 2):
    rows = []
    say = lambda msg: echo(msg, file=sys.stderr, flush=True)
    scan_result = None
    if not kernels:
        if scan:
            row, scan_result = run_scan(seed, quick, workers, echo)
            rows.append(row)
        return rows, scan_result

    # async: visit loop
    J = visit_network(n)
    sweeps = 2000 if quick else 20000
    for order in ("random", "fixed"):
        setup = _setup(run_dynamics, J, runs=1, order=order, seed=seed, return_stability=False)
        res, secs = _timed(run_dynamics, J, runs=1, max_sweeps=sweeps, order=order, seed=seed,
                           return_stability=False)
        rows.append(_row(f"async {order}", "visit loop", res, secs, setup,
                         res.sweeps.sum() * n, "visits/s",
                         VISIT_TARGET if order == "random" else None))
        say(f"  done: async {order} visit loop, {secs:.2f} s")

    # async and sync on Gaussian networks
    gauss = {jd: model.Ensemble(n=n, jd=jd).sample(np.random.SeedSequence([seed, n, int(10 * jd)]))
             for jd in ((1.0,) if quick else (0.5, 1.0, 2.0))}
    for jd, J in gauss.items():
        runs, max_sweeps = (1, 20) if quick else (2, 100)
        setup = _setup(run_dynamics, J, runs=runs, seed=seed, return_stability=False)
        res, secs = _timed(run_dynamics, J, runs=runs, max_sweeps=max_sweeps, seed=seed,
                           return_stability=False)
        net = f"gauss J_D={jd:g} ({int(res.converged.sum())}/{runs} conv.)"
        rows.append(_row("async random", net, res, secs, setup, res.sweeps.sum() * n, "visits/s"))
        rows.append(_row("async random", net, res, secs, setup, res.flips.sum(), "flips/s"))
        say(f"  done: async J_D = {jd:g}, {secs:.2f} s")

    J = gauss[1.0]
    for runs in ((1,) if quick else (1, 16)):
        steps = 5 if quick else 20
        setup = _setup(run_dynamics, J, runs=runs, rule="sync", seed=seed,
                       return_stability=False)
        res, secs = _timed(run_dynamics, J, runs=runs, rule="sync", max_sweeps=steps, seed=seed,
                           return_stability=False)
        rows.append(_row("sync", f"gauss J_D=1 ({int(res.converged.sum())}/{runs} conv.)", res,
                         secs, setup, res.sweeps.sum(), "run-steps/s"))
        say(f"  done: sync, {runs} runs, {secs:.2f} s")

    # anneal
    sweeps = 3 if quick else 20
    setup = _setup(anneal, J, runs=1, seed=seed, return_stability=False)
    res, secs = _timed(anneal, J, runs=1, max_sweeps=sweeps, beta0=1.0, beta1=10.0, seed=seed,
                       return_stability=False)
    net = f"gauss J_D=1 (E_final={int(res.energy[0])})"
    rows.append(_row("anneal", net, res, secs, setup, res.sweeps.sum() * n, "proposals/s"))
    rows.append(_row("anneal", net, res, secs, setup, res.flips.sum(), "flips/s"))
    say(f"  done: anneal, {secs:.2f} s")
    if scan:
        row, scan_result = run_scan(seed, quick, workers, echo)
        rows.append(row)
    return rows, scan_result


def _fmt(col, v) -> str:
    if v is None:
        return "-"
    if col in ("seconds", "setup s"):
        return f"{v:.3f}"
    if col in ("rate", "rate (whole call)"):
        return f"{v:.3g}"
    return str(v)


def format_table(rows, columns=COLUMNS) -> str:
    cells = [[_fmt(c, r[c]) for c in columns] for r in rows]
    widths = [max(len(c), *(len(row[i]) for row in cells)) if cells else len(c)
              for i, c in enumerate(columns)]
    line = lambda vals: " | ".join(v.rjust(w) for v, w in zip(vals, widths)).rstrip()
    return "\n".join([line(columns), "-+-".join("-" * w for w in widths)] + [line(r) for r in cells])


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=3200, help="number of neurons (default 3200)")
    ap.add_argument("--seed", type=int, default=0, help="seed (default 0)")
    ap.add_argument("--quick", action="store_true", help="fewer sweeps and networks")
    scan = ap.add_mutually_exclusive_group()
    scan.add_argument("--skip-scan", action="store_true",
                      help="leave out the (long) accessibility scan of issue 4")
    scan.add_argument("--scan-only", action="store_true",
                      help="run only the accessibility scan")
    ap.add_argument("--workers", type=int, default=2,
                    help="threads of the accessibility scan (default 2)")
    args = ap.parse_args(argv)
    if args.workers < 1:
        ap.error("--workers must be positive")
    if args.n < 4:
        ap.error("--n must be at least 4")
    if args.seed < 0:
        ap.error("--seed must be non-negative")
    print(benchmark_header("fplandscape dynamics benchmark (async / sync / anneal, one thread)",
                           f"N = {args.n}"), flush=True)
    try:
        rows, scan_result = run(n=args.n, seed=args.seed, quick=args.quick,
                                scan=not args.skip_scan, kernels=not args.scan_only,
                                workers=args.workers)
    except MemoryError:
        print(f"out of memory for N = {args.n}")
        return 0
    print()
    print(format_table(rows))
    if scan_result is not None:
        print()
        print(format_thresholds(scan_result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
