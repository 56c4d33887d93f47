"""Wall-clock benchmark of the attractor analyses (``fplandscape.attractors``): fixed points of a
tanh RNN, an attractor census of a ReLU RNN, and FixedPointFinder side by side.

Usage::

    python benchmarks/attractors.py [--quick] [--n N] [--starts M] [--census-starts M]
        [--workers W] [--precision mixed|double|both] [--gain G] [--seed S] [--census-hard] [--no-fpf] [--fpf-path DIR]
        [--fpf-python PY] [--fpf-threads T] [--fpf-dtype float32|float64] [--fpf-max-iters K]

Rows (wall clock, ``time.perf_counter``; default N = 250):

1. ``find_fixed_points`` of the tanh RNN ``x_{t+1} = tanh(W x_t)``, ``W = g·Z/√N`` (Z standard
   normal from ``default_rng([1, seed])``, g = 1.5), from M = 1024 starts
   ``draw_starts(system, M, default_rng(seed))`` passed as ``starts=`` (so FixedPointFinder gets
   the very same starts), ``workers`` threads. Columns: fixed points, stable ones, largest
   residual max|f(x) − x|; below the table the labels, the starts that did not converge and
   the ± partners missing (φ = tanh with b = 0 is odd: −x is a fixed point whenever x is).
   ``--precision``: the L-BFGS phase in float32 (``mixed``, the default of
   ``find_fixed_points``) or float64 (``double``), or one row each (``both``).
   Target < 10 s on 2 cores.
2. ``census`` of the ReLU RNN ``x_{t+1} = relu(W x_t + b)`` with ``W = Z/√N + 0.3·I − 3/N``
   (Z from ``default_rng([2, seed])``; self-excitation 0.3, uniform inhibition 3/N) and b = 1:
   the inhibition keeps the activity bounded, and for the default seed a stable fixed point and
   period-2 cycles share the starts (other seeds: other mixtures). 1000 starts, k = 3 Lyapunov
   exponents, ``workers`` threads. Target < 30 s. The fractions per kind are printed.
   ``--census-hard`` adds the same census of ``W = 1.1·Z/√N + 0.5·I − 4/N``, b = 1 (same Z):
   a stable focus with leading multiplier |μ| ≈ 0.998 (slow: not settled after the default
   transient), an orbit with λ₁ ≈ 0 and period-2 cycles; no target (it takes minutes).
3. FixedPointFinder (Golub & Sussillo 2018, PyTorch version; imported from ``--fpf-path``,
   default ``$FPF_PATH`` or /work/scratch-fpf/fpf, never part of this repository) on the same
   network and the same starts: ``torch.nn.RNN(1, N, nonlinearity="tanh")`` with
   ``weight_hh = W`` and the input weights and biases 0, under the input u = 0 (the adapter is
   checked against ``RateMap.rhs``). FPF's default hyper-parameters (Adam from lr 1.0 with
   ReduceLROnPlateau, tol_q = 1e-12, tol_dq = 1e-20, max_iters = 5000, tol_unique = 1e-3,
   float32, distance-outlier exclusion, Jacobians and their eigendecomposition); torch runs on
   ``--fpf-threads`` threads (default: ``--workers``) against our ``--workers`` threads. FPF's
   one-time lazy initialisation (torch's first optimizer step) is excluded by a warm-up call.
   The seconds are FPF's whole ``find_fixed_points``; the optimisation and the Jacobian stage are
   shown separately below the table. Matching (2-norm distances): an FPF point and one of our
   fixed points are the same when they are within ``MATCH_TOL`` = 1e-3 (FPF's own tol_unique);
   in addition every FPF point is polished by our Newton method (float64) and counts as a fixed
   point found by FPF when it converges (max residual ≤ 1e-10) to a root within MATCH_TOL of
   it. Target for us: every fixed point FPF finds is among ours, and ≥ 10× faster.

FPF needs torch: when this interpreter cannot import it, ``--fpf-python PY`` (default
``$FPF_PYTHON``) runs the FPF part in that interpreter (a virtualenv with torch and
fplandscape) through a temporary file; otherwise the row is skipped with the reason. The header
prints nproc and the load average; each row the 1-minute load at its start and end ("load1")
and the CPU seconds of the process during the call ("cpu s", all its threads: about threads ×
seconds when the cores were free, much less when other jobs took them). Timings depend on the
machine's load; a FAIL is information, not an error, and the exit status is 0 whatever the
timings.
"""
from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import subprocess
import sys
import tempfile
import time
import warnings
from collections import Counter

import numpy as np

from fplandscape.attractors import RateMap
from fplandscape.attractors.census import census
from fplandscape.attractors.fixed_points import find_fixed_points, newton_polish
from fplandscape.attractors.starts import draw_starts
from fplandscape.cli.common import format_table
from fplandscape.provenance import benchmark_header

FP_TARGET_SECONDS = 10.0
CENSUS_TARGET_SECONDS = 30.0
SPEEDUP_TARGET = 10.0
MATCH_TOL = 1e-3
DEFAULT_FPF_PATH = "/work/scratch-fpf/fpf"
RELU_SELF, RELU_INHIBITION, RELU_BIAS, RELU_GAIN = 0.3, 3.0, 1.0, 1.0
HARD_RELU = (1.1, 0.5, 4.0)  # gain, self-excitation, inhibition of --census-hard
COLUMNS = ("analysis", "network", "starts", "load1", "seconds", "cpu s", "found", "stable",
           "max residual", "target", "status")


def _load1() -> str:
    try:
        return f"{os.getloadavg()[0]:.2f}"
    except OSError:
        return "n/a"


def tanh_network(n: int, gain: float, seed: int) -> np.ndarray:
    return gain * np.random.default_rng([1, seed]).standard_normal((n, n)) / np.sqrt(n)


def relu_network(n: int, seed: int, gain=RELU_GAIN, self_exc=RELU_SELF, inhib=RELU_INHIBITION):
    Z = np.random.default_rng([2, seed]).standard_normal((n, n)) / np.sqrt(n)
    W = gain * Z + self_exc * np.eye(n) - inhib / n
    return W, np.full(n, RELU_BIAS)


def label_summary(fp) -> str:
    counts = Counter(fp.labels)
    order = sorted(counts, key=lambda lab: (int(lab.split("-")[1]) if lab.startswith("saddle-")
                                            else (-1 if lab.startswith("stable") else 10**9), lab))
    return ", ".join(f"{lab} x{counts[lab]}" for lab in order) or "-"


def missing_partners(states, tol: float = 1e-6) -> int:
    """Fixed points x whose negation −x (also a fixed point of an odd map) is not in the list."""
    missing = 0
    for x in states:
        if not np.any(np.linalg.norm(states + x, axis=1) <= tol * (1 + np.linalg.norm(x))):
            missing += 1
    return missing


# -- our analyses ------------------------------------------------------------------------

def run_fixed_points(W, starts, workers, precision="mixed"):
    system = RateMap(W)
    load = _load1()
    t, c0 = time.perf_counter(), time.process_time()
    fp = find_fixed_points(system, starts=starts, seed=0, workers=workers, precision=precision)
    secs, cpu = time.perf_counter() - t, time.process_time() - c0
    row = {"analysis": f"find_fixed_points ({workers} threads, {precision})",
           "network": f"tanh RNN N={W.shape[0]}", "starts": int(starts.shape[0]),
           "load1": f"{load}-{_load1()}", "seconds": round(secs, 2), "cpu s": round(cpu, 1),
           "found": len(fp), "stable": int(fp.stable.sum()),
           "max residual": f"{fp.residuals.max():.1e}" if len(fp) else "-",
           "target": f"< {FP_TARGET_SECONDS:.0f} s",
           "status": "PASS" if secs < FP_TARGET_SECONDS else "FAIL"}
    return row, fp, secs


def run_census(W, b, n_starts, workers, seed, tag="", target=CENSUS_TARGET_SECONDS):
    system = RateMap(W, b, phi="relu")
    load = _load1()
    t, c0 = time.perf_counter(), time.process_time()
    c = census(system, n_starts=n_starts, k=3, seed=seed, workers=workers)
    secs, cpu = time.perf_counter() - t, time.process_time() - c0
    kinds = sum(1 for v in c.fractions().values() if v > 0)
    row = {"analysis": f"census k=3{tag} ({workers} threads)",
           "network": f"ReLU RNN N={W.shape[0]}", "starts": n_starts,
           "load1": f"{load}-{_load1()}", "seconds": round(secs, 2), "cpu s": round(cpu, 1),
           "found": len(c),
           "stable": f"{kinds} kinds", "max residual": "-",
           "target": "-" if target is None else f"< {target:.0f} s",
           "status": "-" if target is None else ("PASS" if secs < target else "FAIL")}
    return row, c, secs


def format_census(c) -> str:
    fr = c.fractions()
    lines = ["census fractions per kind: " + ", ".join(f"{k} {v:.3f}" for k, v in fr.items()),
             f"census attractors ({len(c)}; unresolved starts {c.params.get('unresolved', 0)}; "
             f"transient {c.params['transient']}, steps {c.params['steps']}):"]
    for i, a in enumerate(c.attractors[:10]):
        lam = ", ".join(f"{x:.4f}" for x in np.asarray(a.lyapunov, float))
        per = "" if a.period is None else f" period {a.period}"
        lines.append(f"  {i}: {a.kind}{per}, basin {a.basin:.3f} +- {a.basin_se:.3f} "
                     f"({a.n_starts} starts), top exponents [{lam}]")
    if len(c) > 10:
        lines.append(f"  ... {len(c) - 10} more")
    return "\n".join(lines)


# -- FixedPointFinder ------------------------------------------------------------------------

def fpf_status(fpf_path):
    """(ok, reason) for importing torch and FixedPointFinderTorch in this interpreter."""
    try:
        import torch  # noqa: F401
    except ImportError as exc:
        return False, f"torch is not importable ({exc})"
    if not os.path.isfile(os.path.join(fpf_path, "FixedPointFinderTorch.py")):
        return False, f"no FixedPointFinderTorch.py in {fpf_path} (--fpf-path / $FPF_PATH)"
    return True, ""


def fpf_rnn(W, b, dtype: str):
    """The adapter: ``torch.nn.RNN`` computing h ← tanh(W h + b) under the input u = 0."""
    import torch

    n = W.shape[0]
    rnn = torch.nn.RNN(input_size=1, hidden_size=n, num_layers=1, nonlinearity="tanh",
                       bias=True, batch_first=True)
    with torch.no_grad():
        rnn.weight_hh_l0.copy_(torch.as_tensor(W))
        rnn.weight_ih_l0.zero_()
        rnn.bias_ih_l0.copy_(torch.as_tensor(b))
        rnn.bias_hh_l0.zero_()
    return rnn.to(getattr(torch, dtype))


def run_fpf(W, b, starts, fpf_path, threads, dtype="float32", max_iters=None) -> dict:
    """FixedPointFinder's ``find_fixed_points`` from ``starts``; returns its unique points,
    q values, stability, iteration count and the times of the whole call and of its stages."""
    import torch

    if fpf_path not in sys.path:
        sys.path.insert(0, fpf_path)
    from FixedPointFinderTorch import FixedPointFinderTorch

    torch.set_num_threads(threads)

    class Timed(FixedPointFinderTorch):
        t_opt = 0.0
        t_jac = 0.0

        def _run_joint_optimization(self, *a, **k):
            t = time.perf_counter()
            out = super()._run_joint_optimization(*a, **k)
            self.t_opt += time.perf_counter() - t
            return out

        def _compute_recurrent_jacobians(self, *a, **k):
            t = time.perf_counter()
            out = super()._compute_recurrent_jacobians(*a, **k)
            self.t_jac += time.perf_counter() - t
            return out

    kwargs = {} if max_iters is None else {"max_iters": int(max_iters)}
    rnn = fpf_rnn(W, b, dtype)
    with torch.no_grad():
        probe = starts[:8]
        _, h = rnn(torch.zeros(probe.shape[0], 1, 1, dtype=getattr(torch, dtype)),
                   torch.as_tensor(probe, dtype=getattr(torch, dtype))[None])
    adapter_err = float(np.abs(h[0].double().numpy() - RateMap(W, b).rhs(probe)).max())
    inputs = np.zeros((1, 1), dtype=dtype)
    x0 = np.asarray(starts, dtype=dtype)
    log = io.StringIO()
    with warnings.catch_warnings(), contextlib.redirect_stdout(log):
        warnings.simplefilter("ignore")
        # warm-up: torch's lazy initialisation on the first optimizer step (imports, ~seconds)
        Timed(rnn, max_iters=3, do_compute_jacobians=False, verbose=False,
              dtype=dtype).find_fixed_points(x0[:2], inputs)
        log.truncate(0)
        fpf = Timed(rnn, dtype=dtype, **kwargs)
        t, c0 = time.perf_counter(), time.process_time()
        unique, all_fps = fpf.find_fixed_points(x0, inputs)
        secs, cpu = time.perf_counter() - t, time.process_time() - c0
    lead = np.abs(unique.eigval_J_xstar[:, 0]) if unique.n else np.zeros(0)
    return {"xstar": np.asarray(unique.xstar, dtype=np.float64),
            "qstar": np.asarray(unique.qstar, dtype=np.float64),
            "is_stable": np.asarray(unique.is_stable, dtype=bool),
            "lead_abs_eig": np.asarray(lead, dtype=np.float64),
            "all_qstar": np.asarray(all_fps.qstar, dtype=np.float64),
            "n_iters": int(np.max(all_fps.n_iters)) if all_fps.n else 0,
            "seconds": secs, "cpu_seconds": cpu, "t_opt": fpf.t_opt, "t_jac": fpf.t_jac,
            "tol_q": fpf.tol_q, "tol_unique": fpf.tol_unique, "max_iters": fpf.max_iters,
            "dtype": dtype, "threads": torch.get_num_threads(), "torch": torch.__version__,
            "adapter_err": adapter_err, "log": log.getvalue()}


def run_fpf_subprocess(python, W, b, starts, fpf_path, threads, dtype, max_iters) -> dict:
    with tempfile.TemporaryDirectory(prefix="fpf-bench-") as tmp:
        src, dst = os.path.join(tmp, "in.npz"), os.path.join(tmp, "out.npz")
        np.savez(src, W=W, b=b, starts=starts,
                 settings=json.dumps({"fpf_path": fpf_path, "threads": threads, "dtype": dtype,
                                      "max_iters": max_iters}))
        proc = subprocess.run([python, os.path.abspath(__file__), "--fpf-worker", src, dst],
                              capture_output=True, text=True)
        if proc.returncode != 0 or not os.path.exists(dst):
            tail = (proc.stderr or proc.stdout).strip().splitlines()[-3:]
            raise RuntimeError(f"{python} failed: " + " | ".join(tail))
        with np.load(dst, allow_pickle=False) as z:
            out = {k: z[k] for k in z.files}
    meta = json.loads(str(out.pop("meta")))
    out.update(meta)
    return out


def fpf_worker(src, dst) -> int:
    with np.load(src, allow_pickle=False) as z:
        W, b, starts = z["W"], z["b"], z["starts"]
        s = json.loads(str(z["settings"]))
    ok, reason = fpf_status(s["fpf_path"])
    if not ok:
        print(reason, file=sys.stderr)
        return 1
    res = run_fpf(W, b, starts, s["fpf_path"], s["threads"], s["dtype"], s["max_iters"])
    arrays = {k: v for k, v in res.items() if isinstance(v, np.ndarray)}
    meta = {k: v for k, v in res.items() if not isinstance(v, np.ndarray)}
    np.savez(dst, meta=json.dumps(meta), **arrays)
    return 0


def _nearest(A, B):
    """Distance (2-norm) from every row of A to its nearest row of B (inf when B is empty)."""
    if A.shape[0] == 0:
        return np.zeros(0)
    if B.shape[0] == 0:
        return np.full(A.shape[0], np.inf)
    d2 = (A * A).sum(1)[:, None] + (B * B).sum(1)[None, :] - 2.0 * A @ B.T
    return np.sqrt(np.maximum(d2, 0.0)).min(axis=1)


def _distinct(X, tol=1e-7):
    keep = []
    for i, x in enumerate(X):
        if not keep or np.min(np.abs(X[keep] - x).max(axis=1)) > tol * (1 + np.abs(x).max()):
            keep.append(i)
    return X[keep]


def compare(fp, fpf, W, tol=MATCH_TOL) -> dict:
    ours, theirs = fp.states, np.asarray(fpf["xstar"], dtype=np.float64)
    d_fpf = _nearest(theirs, ours)  # every FPF point → nearest of ours
    d_ours = _nearest(ours, theirs)  # every one of ours → nearest FPF point
    # FPF points that Newton (float64) turns into a root within tol: FPF's fixed points
    t = time.perf_counter()
    Xp, r = newton_polish(RateMap(W), theirs) if theirs.shape[0] else (theirs, np.zeros(0))
    conv = r <= 1e-10
    ok = conv & (np.linalg.norm(Xp - theirs, axis=1) <= tol)
    anywhere = _distinct(Xp[conv]) if conv.any() else np.zeros((0, W.shape[0]))
    roots = _distinct(Xp[ok]) if ok.any() else np.zeros((0, W.shape[0]))
    d_roots = _nearest(roots, ours)
    polish_secs = time.perf_counter() - t
    return {"n_fpf": int(theirs.shape[0]), "n_ours": int(ours.shape[0]),
            "fpf_in_ours": int(np.sum(d_fpf <= tol)), "ours_in_fpf": int(np.sum(d_ours <= tol)),
            "d_fpf": d_fpf, "d_ours": d_ours, "fpf_converging": int(ok.sum()),
            "fpf_roots": int(roots.shape[0]), "fpf_roots_in_ours": int(np.sum(d_roots <= 1e-6)),
            "newton_conv": int(conv.sum()), "newton_roots": int(anywhere.shape[0]),
            "newton_roots_in_ours": int(np.sum(_nearest(anywhere, ours) <= 1e-6)),
            "roots_new_to_us": roots[d_roots > 1e-6], "polish_secs": polish_secs}


def _q(a, qs=(0.0, 0.5, 1.0)) -> str:
    if a.size == 0:
        return "-"
    return " / ".join(f"{np.quantile(a, q):.1e}" for q in qs)


def format_fpf(fpf, cmp, ours_secs, W) -> str:
    q = np.asarray(fpf["qstar"])
    allq = np.asarray(fpf["all_qstar"])
    lines = [
        f"FPF settings: torch {fpf['torch']}, {fpf['threads']} threads, dtype {fpf['dtype']}, "
        f"max_iters {fpf['max_iters']}, tol_q {fpf['tol_q']:g}, tol_unique {fpf['tol_unique']:g}"
        f", other hyper-parameters FPF's defaults; adapter torch.nn.RNN vs RateMap.rhs: max "
        f"difference {fpf['adapter_err']:.1e}",
        f"FPF: {fpf['seconds']:.1f} s = optimisation {fpf['t_opt']:.1f} s ({fpf['n_iters']} "
        f"Adam iterations) + Jacobians {fpf['t_jac']:.1f} s + dedupe/eig "
        f"{fpf['seconds'] - fpf['t_opt'] - fpf['t_jac']:.1f} s; "
        f"starts with q < tol_q: {int(np.sum(allq < fpf['tol_q']))}/{allq.size}",
        f"FPF unique points: {q.size}; q min / median / max {_q(q)}; stable (FPF: "
        f"|lambda_1| < 1): {int(np.sum(fpf['is_stable']))}",
        f"speed: ours {ours_secs:.1f} s vs FPF {fpf['seconds']:.1f} s "
        f"(x{fpf['seconds'] / ours_secs:.1f}), vs FPF optimisation alone "
        f"x{fpf['t_opt'] / ours_secs:.1f}",
        f"matching (2-norm, tol {MATCH_TOL:g}): FPF points within tol of one of our "
        f"{cmp['n_ours']} fixed points: {cmp['fpf_in_ours']}/{cmp['n_fpf']}; ours within tol "
        f"of an FPF point: {cmp['ours_in_fpf']}/{cmp['n_ours']}",
        f"  nearest distance FPF point -> ours, min / median / max: {_q(cmp['d_fpf'])}",
        "  nearest distance ours -> FPF point, per fixed point: "
        + (", ".join(f"{d:.1e}" for d in cmp["d_ours"]) or "-"),
        f"  FPF points that our Newton polish (float64) turns into a root within tol: "
        f"{cmp['fpf_converging']} -> {cmp['fpf_roots']} distinct fixed points, "
        f"{cmp['fpf_roots_in_ours']} of them among ours ({cmp['polish_secs']:.1f} s)",
        f"  (Newton from FPF's points converges at all for {cmp['newton_conv']}/{cmp['n_fpf']}"
        f", to {cmp['newton_roots']} distinct fixed points, {cmp['newton_roots_in_ours']} of "
        f"them among ours)",
    ]
    new = cmp["roots_new_to_us"]
    if new.shape[0]:
        fp_new = RateMap(W).jacobian(new)
        labs = []
        from fplandscape.attractors.fixed_points import classify_eigenvalues
        for J in fp_new:
            labs.append(classify_eigenvalues(np.linalg.eigvals(J), "map")[3])
        lines.append("  fixed points FPF found and we did not: "
                     + ", ".join(f"{lab} (|x| {np.linalg.norm(x):.3f})"
                                 for lab, x in zip(labs, new)))
    return "\n".join(lines)


def fpf_row(fpf, cmp, ours_secs, W, m, load):
    """The FPF row; its max residual is max|f(x) − x| (max-norm, float64) over FPF's points."""
    n = W.shape[0]
    X = np.asarray(fpf["xstar"], dtype=np.float64)
    res = np.abs(RateMap(W).residual(X)).max(axis=1) if X.shape[0] else np.zeros(0)
    speed = fpf["seconds"] / ours_secs
    ok = cmp["fpf_roots_in_ours"] == cmp["fpf_roots"] and speed >= SPEEDUP_TARGET
    return {"analysis": f"FixedPointFinder torch ({fpf['threads']} threads, {fpf['dtype']})",
            "network": f"tanh RNN N={n}", "starts": m, "load1": f"{load}-{_load1()}",
            "seconds": round(float(fpf["seconds"]), 2),
            "cpu s": round(float(fpf["cpu_seconds"]), 1),
            "found": int(np.asarray(fpf["qstar"]).size),
            "stable": int(np.sum(fpf["is_stable"])),
            "max residual": f"{res.max():.1e}" if res.size else "-",
            "target": f"ours >= FPF's, x{SPEEDUP_TARGET:.0f} faster",
            "status": f"{'PASS' if ok else 'FAIL'} (x{speed:.1f})"}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=None, help="units of both networks (default 250)")
    ap.add_argument("--starts", type=int, default=None,
                    help="starts of the fixed-point search and FPF (default 1024)")
    ap.add_argument("--census-starts", type=int, default=None, help="census starts (default 1000)")
    ap.add_argument("--workers", type=int, default=2, help="threads of our analyses (default 2)")
    ap.add_argument("--gain", type=float, default=1.5, help="gain g of the tanh RNN (default 1.5)")
    ap.add_argument("--seed", type=int, default=0, help="seed of networks and starts (default 0)")
    ap.add_argument("--quick", action="store_true",
                    help="smoke run: N = 100, 256 starts, 200 census starts")
    ap.add_argument("--census-hard", action="store_true",
                    help="add a census of a second ReLU RNN (W = %g Z/sqrt(N) + %g I - %g/N, "
                         "b = 1: slow foci, tori and cycles; minutes)" % HARD_RELU)
    ap.add_argument("--precision", choices=("mixed", "double", "both"), default="mixed",
                    help="precision of find_fixed_points' L-BFGS phase (default mixed; both: "
                         "one row each)")
    ap.add_argument("--no-fpf", action="store_true", help="leave out the FixedPointFinder row")
    ap.add_argument("--fpf-path", default=os.environ.get("FPF_PATH", DEFAULT_FPF_PATH),
                    help="FixedPointFinder checkout (default $FPF_PATH or "
                         f"{DEFAULT_FPF_PATH})")
    ap.add_argument("--fpf-python", default=os.environ.get("FPF_PYTHON"),
                    help="interpreter with torch to run FPF in when this one has no torch "
                         "(default $FPF_PYTHON)")
    ap.add_argument("--fpf-threads", type=int, default=None,
                    help="torch threads (default: --workers)")
    ap.add_argument("--fpf-dtype", choices=("float32", "float64"), default="float32",
                    help="FPF dtype (default float32, FPF's default)")
    ap.add_argument("--fpf-max-iters", type=int, default=None,
                    help="FPF max_iters (default: FPF's default, 5000)")
    ap.add_argument("--fpf-worker", nargs=2, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.fpf_worker:
        return fpf_worker(*args.fpf_worker)
    n = args.n or (100 if args.quick else 250)
    m = args.starts or (256 if args.quick else 1024)
    mc = args.census_starts or (200 if args.quick else 1000)
    threads = args.fpf_threads or args.workers
    if args.workers < 1 or threads < 1:
        ap.error("--workers and --fpf-threads must be positive")
    if n < 2 or m < 1 or mc < 1:
        ap.error("--n must be at least 2, --starts and --census-starts positive")
    if not args.gain > 0:
        ap.error("--gain must be positive")
    print(benchmark_header("fplandscape attractors benchmark (fixed points, census, "
                           "FixedPointFinder)", f"N = {n}, seed {args.seed}"), flush=True)
    say = lambda msg: print(msg, file=sys.stderr, flush=True)
    rows, notes = [], []

    W = tanh_network(n, args.gain, args.seed)
    system = RateMap(W)
    t = time.perf_counter()
    starts = draw_starts(system, m, np.random.default_rng(args.seed))
    t_starts = time.perf_counter() - t
    find_fixed_points(RateMap(W[:8, :8]), n_starts=4, seed=0, workers=1)  # warm-up (imports)
    precisions = ("mixed", "double") if args.precision == "both" else (args.precision,)
    for precision in reversed(precisions):  # the first precision's result is compared with FPF
        row, fp, fp_secs = run_fixed_points(W, starts, args.workers, precision)
        rows.insert(0, row)
        say(f"  done: find_fixed_points ({precision}), {fp_secs:.1f} s")
    notes.append(
        f"tanh RNN: W = {args.gain:g} Z/sqrt(N), b = 0; starts = draw_starts(system, {m}, "
        f"default_rng({args.seed})) ({t_starts:.2f} s, not in the row), passed as starts=\n"
        f"fixed points: {label_summary(fp)}; slow points {fp.slow_states.shape[0]}; starts "
        f"not converged {fp.params.get('unconverged_starts')}/{m}; +-partners missing "
        f"{missing_partners(fp.states)}/{len(fp)}")

    Wr, br = relu_network(n, args.seed)
    row, c, _ = run_census(Wr, br, mc, args.workers, args.seed)
    rows.append(row)
    say(f"  done: census, {row['seconds']:.1f} s")
    notes.append(f"ReLU RNN: W = {RELU_GAIN:g} Z/sqrt(N) + {RELU_SELF:g} I - "
                 f"{RELU_INHIBITION:g}/N, b = {RELU_BIAS:g}\n" + format_census(c))
    if args.census_hard:
        g, a, j0 = HARD_RELU
        Wh, bh = relu_network(n, args.seed, g, a, j0)
        row, c, _ = run_census(Wh, bh, mc, args.workers, args.seed, tag=" hard", target=None)
        rows.append(row)
        say(f"  done: census (hard), {row['seconds']:.1f} s")
        notes.append(f"hard ReLU RNN: W = {g:g} Z/sqrt(N) + {a:g} I - {j0:g}/N, b = {RELU_BIAS:g}"
                     "\n" + format_census(c))

    if args.no_fpf:
        notes.append("FixedPointFinder: skipped (--no-fpf)")
    else:
        ok, reason = fpf_status(args.fpf_path)
        fpf, why = None, reason
        load = _load1()
        try:
            if ok:
                fpf = run_fpf(W, np.zeros(n), starts, args.fpf_path, threads, args.fpf_dtype,
                              args.fpf_max_iters)
            elif args.fpf_python:
                fpf = run_fpf_subprocess(args.fpf_python, W, np.zeros(n), starts, args.fpf_path,
                                         threads, args.fpf_dtype, args.fpf_max_iters)
            elif reason.startswith("torch"):
                why = reason + "; run this script with an interpreter that has torch, or " \
                               "pass --fpf-python"
        except Exception as exc:  # FPF is foreign code: report, do not crash the table
            fpf, why = None, f"FPF failed: {type(exc).__name__}: {exc}"
        if fpf is None:
            notes.append(f"FixedPointFinder: skipped ({why})")
        else:
            say(f"  done: FixedPointFinder, {float(fpf['seconds']):.1f} s")
            cmp = compare(fp, fpf, W)
            rows.append(fpf_row(fpf, cmp, fp_secs, W, m, load))
            notes.append(format_fpf(fpf, cmp, fp_secs, W))
    print()
    print(format_table(rows, list(COLUMNS)))
    for note in notes:
        print()
        print(note)
    return 0


if __name__ == "__main__":
    sys.exit(main())
