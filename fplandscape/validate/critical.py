"""Critical self-couplings from both sides: theory (spec §3) and finite-N estimators from
exactly enumerated fixed points, with a finite-size extrapolation (``validate critical``).

Finite-N estimators. For each (N, J_D) of a grid, ``samples`` random networks (η = 0) are
enumerated exactly; from network ν with fixed points F_ν:

* ``gap`` — the analogue of S₂(q) (E3): ŝ₂(k) = (1/N) ln ⟨P_k⟩, with P_k the number of ordered
  pairs of fixed points at Hamming distance k and ⟨·⟩ the mean over networks (what (E4)
  averages). The gap criterion of the theory, "S₂(q) ≥ 0 for all q", becomes
  g_gap(N, J_D) = min_{1 ≤ k ≤ N/2} ŝ₂(k) (−∞ when some ⟨P_k⟩ = 0).
* ``energetic`` — the local entropy around the most robust references: the fixed points of
  margin κ(σ) = min_i σ_i h_i ≥ J_D (all other-neuron fields aligned, the κ = J_D references
  of (E6)), φ̂(k) = (1/N) ln(Σ_ν Σ_{ref ∈ R_ν} #{τ ∈ F_ν : |σ_ref − τ| = k} / Σ_ν |R_ν|), and
  g_energetic(N, J_D) = min_{1 ≤ k ≤ N/2} φ̂(k) (no negative interval ⇔ g ≥ 0).

J_D*(N) is the first upward zero crossing of g on the J_D grid (linear interpolation; None if
g has no sign change there); its uncertainty comes from a bootstrap over networks (resampled
with a fixed seed). The extrapolation is a weighted least-squares fit J_D*(N) = J_D*(∞) + a/N
(errors from the fit covariance, scaled by √(χ²/dof) when that exceeds 1).

For ``gap`` the same functional applied to the exact finite-N means (E4),
g_E4(N, J_D) = min_{1 ≤ k ≤ N/2} (1/N) ln E[P_k], has its root J_D^gap(N) computed exactly
(:func:`gap_exact_finite_n`, brentq) at the simulated N — where the simulation must agree with
it — and at larger N (50 … 4000), where it visibly converges to the N → ∞ value J_D^gap.

These estimators approach the theory slowly: at N ≤ 24 the smallest non-zero distance is
d = 1/N ≈ 0.04, the same scale as the gap of S₂ near J_D^gap, and ln-prefactors make O(ln N/N)
corrections. The table puts theory and simulation side by side; read the finite-N numbers as
trends with N, not as precise estimates.
"""
from __future__ import annotations

import math
import time

import numpy as np

from .. import model, parallel, theory
from ..errors import ConvergenceError, InputError, check_count
from ..provenance import run_info
from ..sim import stop
from ..sim.clusters import pair_distance_histogram
from ..sim.disorder import ordered_pairs
from ..sim.enumerate import enumerate_fixed_points
from ..sim.stability import stabilities_packed

__all__ = ["finite_size_critical", "critical_table", "ESTIMATORS", "crossing",
           "extrapolate_inverse_n", "gap_exact_finite_n", "EXACT_N", "theory_critical_value",
           "remember_theory_critical_value"]

EXACT_N = (50, 100, 400, 1000, 4000)  # sizes at which J_D^gap(N) from (E4) is also reported


def gap_exact_finite_n(n: int) -> float:
    """Root in J_D of g_E4(N, J_D) = min_{1 ≤ k ≤ N/2} (1/N) ln E[P_k] (exact (E4) means):
    the finite-N counterpart of J_D^gap. brentq on [0, 1], xtol 1e-10."""
    from scipy.optimize import brentq

    def g(jd):
        le = np.asarray(theory.log_expected_pairs(n, jd), dtype=float)
        return float(le[1: n // 2 + 1].min() / n)

    return float(brentq(g, 0.0, 1.0, xtol=1e-10))

ESTIMATORS = ("gap", "energetic")


def _network_task(n, jd, seed_seq):
    """Per network: ordered pair histogram and the distance histogram from robust references."""
    J = model.gaussian_couplings(n, jd, rng=np.random.default_rng(seed_seq))
    res = enumerate_fixed_points(J, return_states=True, workers=1)
    codes = res.states
    pairs = np.zeros(n + 1, dtype=np.int64)
    ref_hist = np.zeros(n + 1, dtype=np.int64)
    refs = 0
    if codes.size:
        h = pair_distance_histogram(codes, n, n_threads=1)
        pairs = ordered_pairs(h, codes.size).astype(np.int64)
        kappa = stabilities_packed(J, codes).min(axis=1)
        robust = codes[kappa >= jd]
        refs = int(robust.size)
        for c in robust:
            d = _popcount(np.bitwise_xor(codes, c))
            ref_hist += np.bincount(d, minlength=n + 1)
    return {"count": int(res.count), "pairs": pairs, "refs": refs, "ref_hist": ref_hist}


def _popcount(x: np.ndarray) -> np.ndarray:
    x = x.astype(np.uint64)
    out = np.zeros(x.shape, dtype=np.int64)
    for shift in range(0, 64, 8):
        out += _POP8[((x >> np.uint64(shift)) & np.uint64(255)).astype(np.int64)]
    return out


_POP8 = np.array([bin(i).count("1") for i in range(256)], dtype=np.int64)


def _g(kind, n, pairs_sum, refs_sum, ref_hist_sum, networks):
    ks = np.arange(1, n // 2 + 1)
    if kind == "gap":
        mean = pairs_sum[ks] / networks
    else:
        if refs_sum == 0:
            return None
        mean = ref_hist_sum[ks] / refs_sum
    if np.any(mean <= 0):
        return -math.inf
    return float(np.min(np.log(mean)) / n)


def crossing(x, g):
    """First upward zero crossing of g(x) on a grid (linear interpolation): the x where g goes
    from < 0 to ≥ 0; None if there is none. Non-finite or None g values count as < 0 / skip."""
    prev = None
    for xi, gi in zip(x, g):
        if gi is None:
            continue
        if prev is not None and prev[1] < 0 <= gi:
            x0, g0 = prev
            if not math.isfinite(g0):
                return float(xi)
            return float(x0 + (xi - x0) * (-g0) / (gi - g0))
        prev = (xi, gi)
    return None


def extrapolate_inverse_n(ns, values, errors):
    """Weighted fit v(N) = v∞ + a/N; returns (v∞, err, a, chi2, dof) or None (< 2 points)."""
    pts = [(n, v, e) for n, v, e in zip(ns, values, errors) if v is not None and e]
    if len(pts) < 2:
        return None
    x = np.array([1.0 / p[0] for p in pts])
    y = np.array([p[1] for p in pts])
    w = 1.0 / np.array([max(p[2], 1e-9) for p in pts]) ** 2
    A = np.vstack([np.ones_like(x), x]).T
    cov = np.linalg.inv(A.T @ (A * w[:, None]))
    beta = cov @ (A.T @ (w * y))
    chi2 = float(np.sum(w * (y - A @ beta) ** 2))
    dof = len(pts) - 2
    scale = max(1.0, chi2 / dof) if dof > 0 else 1.0
    return float(beta[0]), float(math.sqrt(cov[0, 0] * scale)), float(beta[1]), chi2, dof


def finite_size_critical(n_values, jd_values, samples: int, seed: int = 0, *,
                         bootstrap: int = 200, workers=None, scheduler=None, checkpoint=None,
                         resume: bool = False, progress=False) -> list:
    """Rows: ``kind = "curve"`` (per N, J_D: g_gap, g_energetic, robust references per
    network), ``kind = "finite_n"`` (per estimator and N: J_D*(N) ± bootstrap error) and
    ``kind = "extrapolated"`` (per estimator: J_D*(∞) ± error, slope, χ²/dof), each with the
    theory value of the criterion. Network ν of cell (i, j) uses
    ``SeedSequence(seed, spawn_key=(i, j, ν))``."""
    ns = [int(v) for v in np.atleast_1d(n_values)]
    jds = sorted(float(v) for v in np.atleast_1d(jd_values))
    if not ns or len(jds) < 2:
        raise InputError("need at least one N and two J_D values")
    if max(ns) > 30:
        raise InputError(f"validate critical enumerates every network: N ≤ 30, got {max(ns)}")
    samples = check_count(samples, "samples", minimum=2)
    seed = model.check_int_seed(seed)
    t0 = time.perf_counter()
    tasks = [(n, jd, np.random.SeedSequence(seed, spawn_key=(i, j, v)))
             for i, n in enumerate(ns) for j, jd in enumerate(jds) for v in range(samples)]
    ckpt = parallel.open_checkpoint(checkpoint, "critical",
                                    {"n": ns, "jd": jds, "samples": samples, "seed": seed},
                                    len(tasks), resume=resume)
    stop.clear_stop()
    out = parallel.run_tasks(_network_task, tasks, workers=workers, scheduler=scheduler,
                             progress=progress, desc="critical: networks", checkpoint=ckpt,
                             backend="threads", cancel=stop.request_stop)
    if ckpt is not None:
        ckpt.finish()
    theory_vals = {k: theory_critical_value(k) for k in ESTIMATORS}
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(10**6,)))
    rows, per_n = [], {k: [] for k in ESTIMATORS}
    idx = 0
    for n in ns:
        cell_data = []
        for jd in jds:
            nets = out[idx: idx + samples]
            idx += samples
            P = np.array([r["pairs"] for r in nets], dtype=np.float64)
            R = np.array([r["refs"] for r in nets], dtype=np.float64)
            H = np.array([r["ref_hist"] for r in nets], dtype=np.float64)
            cell_data.append((P, R, H))
            g = {k: _g(k, n, P.sum(0), R.sum(), H.sum(0), samples) for k in ESTIMATORS}
            rows.append(run_info(seed=seed, kind="curve", n=n, jd=jd, samples=samples,
                                 g_gap=g["gap"], g_energetic=g["energetic"],
                                 refs_per_network=float(R.mean()),
                                 mean_count=float(np.mean([r["count"] for r in nets]))))
        for k in ESTIMATORS:
            g = [_g(k, n, P.sum(0), R.sum(), H.sum(0), samples) for P, R, H in cell_data]
            est = crossing(jds, g)
            boot = []
            for _ in range(bootstrap):
                pick = rng.integers(0, samples, samples)
                gb = [_g(k, n, P[pick].sum(0), R[pick].sum(), H[pick].sum(0), samples)
                      for P, R, H in cell_data]
                b = crossing(jds, gb)
                if b is not None:
                    boot.append(b)
            err = float(np.std(boot, ddof=1)) if len(boot) > 1 else None
            per_n[k].append((n, est, err))
            rows.append(run_info(seed=seed, kind="finite_n", estimator=k, n=n, jd_star=est,
                                 jd_star_err=err, bootstrap=len(boot), theory=theory_vals[k],
                                 exact_finite_n=gap_exact_finite_n(n) if k == "gap" else None))
    for n in EXACT_N:
        rows.append(run_info(seed=seed, kind="exact_finite_n", estimator="gap", n=n,
                             jd_star=gap_exact_finite_n(n), theory=theory_vals["gap"]))
    for k in ESTIMATORS:
        fit = extrapolate_inverse_n(*zip(*per_n[k])) if per_n[k] else None
        rows.append(run_info(seed=seed, kind="extrapolated", estimator=k, n="inf",
                             jd_star=None if fit is None else fit[0],
                             jd_star_err=None if fit is None else fit[1],
                             slope=None if fit is None else fit[2],
                             chi2=None if fit is None else fit[3],
                             dof=None if fit is None else fit[4], theory=theory_vals[k],
                             seconds=time.perf_counter() - t0))
    return rows


_THEORY_VALUES: dict = {}  # criterion -> J_D (or None), per process


def theory_critical_value(criterion: str):
    """The N → ∞ critical self-coupling of ``criterion``
    (:func:`fplandscape.theory.critical_self_coupling`, no evidence curve), computed once per
    process (or taken from :func:`remember_theory_critical_value`); None if the solver does
    not converge. Shared by the validation tables and the figures."""
    if criterion not in _THEORY_VALUES:
        try:
            _THEORY_VALUES[criterion] = theory.critical_self_coupling(criterion,
                                                                      evidence=False).jd
        except ConvergenceError:
            _THEORY_VALUES[criterion] = None
    return _THEORY_VALUES[criterion]


def remember_theory_critical_value(criterion: str, jd) -> None:
    """Record a critical value computed elsewhere in this process (e.g. with its evidence
    curve by :func:`fplandscape.validate.reproduce.reproduce`), so it is not solved again."""
    _THEORY_VALUES[criterion] = jd


def critical_table(rows: list) -> list:
    """One row per criterion: theory value, finite-N estimates per N and the extrapolation."""
    table = []
    for k in ESTIMATORS:
        fin = [r for r in rows if r["kind"] == "finite_n" and r["estimator"] == k]
        ext = next(r for r in rows if r["kind"] == "extrapolated" and r["estimator"] == k)
        row = {"criterion": k, "theory": ext["theory"]}
        for r in fin:
            row[f"N={r['n']}"] = r["jd_star"]
            if r.get("exact_finite_n") is not None:
                row[f"N={r['n']} (E4)"] = r["exact_finite_n"]
        row.update(extrapolated=ext["jd_star"], extrapolated_err=ext["jd_star_err"])
        for r in rows:
            if r["kind"] == "exact_finite_n" and r["estimator"] == k:
                row[f"N={r['n']} (E4)"] = r["jd_star"]
        table.append(row)
    return table
