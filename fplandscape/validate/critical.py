"""Critical self-couplings from both sides: theory (docs/critical.md) and finite-N estimators from
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
from ..sim.disorder import ordered_pairs, pair_histogram
from ..sim.enumerate import enumerate_fixed_points
from ..sim.stability import stabilities_packed
from ..stats import (FiniteSizeFit, crossing, crossing_info, extrapolate_finite_size,
                     usable_error)
from .counts import _grid

__all__ = ["finite_size_critical", "critical_table", "ESTIMATORS", "crossing", "crossing_info",
           "extrapolate_inverse_n", "InverseNFit", "gap_exact_finite_n", "EXACT_N",
           "theory_critical_value"]

EXACT_N = (50, 100, 400, 1000, 4000)  # sizes at which J_D^gap(N) from (E4) is also reported
#: largest N of ``validate critical`` (each network enumerated exactly: about 1–4 s at N = 40)
MAX_N = 40
#: largest mean number of fixed points per network (E1) of a cell: every fixed point is listed
#: and all pairs are histogrammed, O(#FP²) per network
MAX_EXPECTED_COUNT = 2e5


def gap_exact_finite_n(n: int):
    """Root in J_D of g_E4(N, J_D) = min_{1 ≤ k ≤ N/2} (1/N) ln E[P_k] (exact (E4) means):
    the finite-N counterpart of J_D^gap. brentq on [0, 1], xtol 1e-10; N ≥ 2 (InputError
    otherwise); None if g_E4 has no sign change on [0, 1]."""
    from scipy.optimize import brentq

    n = check_count(n, "N", minimum=2)

    def g(jd):
        le = np.asarray(theory.log_expected_pairs(n, jd), dtype=float)
        return float(le[1: n // 2 + 1].min() / n)

    try:
        return float(brentq(g, 0.0, 1.0, xtol=1e-10))
    except ValueError:  # no sign change on [0, 1]
        return None

ESTIMATORS = ("gap", "energetic")


def _network_task(n, jd, seed_seq):
    """Per network: ordered pair histogram and the distance histogram from robust references."""
    J = model.gaussian_couplings(n, jd, seed=np.random.default_rng(seed_seq))
    # every fixed point is needed (pair and reference histograms): never a bottom-k sample
    res = enumerate_fixed_points(J, return_states=True, all_states=True, workers=1)
    codes = res.states
    pairs = np.zeros(n + 1, dtype=np.int64)
    ref_hist = np.zeros(n + 1, dtype=np.int64)
    refs = 0
    if codes.size:
        h = pair_histogram(codes, n)  # bounded memory (no 4·2^N cube per thread at N = 30)
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


#: the finite-size fit and its result under their names in this module (one home:
#: :mod:`fplandscape.stats`; here v(N) = v∞ + a/N, ``power`` = 1)
InverseNFit = FiniteSizeFit
extrapolate_inverse_n = extrapolate_finite_size


def finite_size_critical(n_values, jd_values, samples: int, seed: int = 0, *,
                         bootstrap: int = 200, workers=None, scheduler=None, checkpoint=None,
                         resume: bool = False, progress=False, critical=None) -> list:
    """Rows: ``kind = "curve"`` (per N, J_D: g_gap, g_energetic, robust references per
    network), ``kind = "finite_n"`` (per estimator and N: J_D*(N) ± bootstrap error, with
    ``crossing`` (:func:`crossing_info` status), ``estimate_ok`` and ``reason``) and
    ``kind = "extrapolated"`` (per estimator: J_D*(∞) ± error, slope, χ²/dof, ``points``,
    ``fit_ok`` and ``reason``: a degenerate fit is flagged, never raised, see
    :func:`extrapolate_inverse_n`), each with the theory value of the criterion. Network ν of
    cell (i, j) uses ``SeedSequence(seed, spawn_key=(i, j, ν))``.

    One task checkpoint (``checkpoint``/``resume``, :func:`fplandscape.parallel.run_study`)
    holds every network; an automatic one is removed only after the analysis has finished, so
    an error or Ctrl-C in the bootstrap or the extrapolation loses no network.

    ``critical``: the caller's N → ∞ values ``{criterion: J_D or None}`` for the theory
    column; a criterion missing from it is solved (:func:`theory_critical_value`)."""
    ns = _grid(n_values, "n_values", int)
    jds = sorted(_grid(jd_values, "jd_values"))
    if len(set(jds)) < 2:
        raise InputError("need at least one N and two different J_D values")
    if max(ns) > MAX_N or min(ns) < 2:
        raise InputError(f"validate critical enumerates every network: 2 ≤ N ≤ {MAX_N}, got "
                         f"{max(ns) if max(ns) > MAX_N else min(ns)}")
    for n in ns:  # every fixed point is listed and paired: refuse cells that cannot finish
        for jd in jds:
            expected = math.exp(float(theory.log_expected_count(n, jd)))
            if expected > MAX_EXPECTED_COUNT:
                raise InputError(
                    f"validate critical lists and pairs every fixed point: at N = {n}, "
                    f"J_D = {jd:g} a network has E[#FP] = {expected:.3g} (E1) > "
                    f"{MAX_EXPECTED_COUNT:.0e}; use smaller N or J_D")
    samples = check_count(samples, "samples", minimum=2)
    bootstrap = check_count(bootstrap, "bootstrap", minimum=0)
    seed = model.check_int_seed(seed)
    t0 = time.perf_counter()
    tasks = [(n, jd, np.random.SeedSequence(seed, spawn_key=(i, j, v)))
             for i, n in enumerate(ns) for j, jd in enumerate(jds) for v in range(samples)]
    # the analysis runs as the study's ``finish``: an error or Ctrl-C there keeps the networks
    return parallel.run_study(
        _network_task, tasks, kind="critical",
        params={"n": ns, "jd": jds, "samples": samples, "seed": seed},
        checkpoint=checkpoint, resume=resume, workers=workers, scheduler=scheduler,
        progress=progress, desc="critical: networks", stop=stop,
        finish=lambda out: _analyse(out, ns, jds, samples, seed, bootstrap, t0, critical))


def _analyse(out, ns, jds, samples, seed, bootstrap, t0, critical=None) -> list:
    """The rows of :func:`finite_size_critical` from the per-network results ``out``."""
    critical = critical or {}
    theory_vals = {k: critical[k] if k in critical else theory_critical_value(k)
                   for k in ESTIMATORS}
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
            est, status, reason = crossing_info(jds, g)
            boot = []
            for _ in range(bootstrap):
                pick = rng.integers(0, samples, samples)
                gb = [_g(k, n, P[pick].sum(0), R[pick].sum(), H[pick].sum(0), samples)
                      for P, R, H in cell_data]
                b = crossing(jds, gb)
                if b is not None:
                    boot.append(b)
            err = float(np.std(boot, ddof=1)) if len(boot) > 1 else None
            ok = status == "interpolated"
            if est is not None and not usable_error(err, est):
                ok = False
                why = ("no bootstrap resamples" if bootstrap == 0 else
                       f"crossing in only {len(boot)} of {bootstrap} bootstrap resamples"
                       if len(boot) < 2 else "bootstrap error ~0 (every resample gives the "
                                             "same crossing)")
                reason = why if reason is None else f"{reason}; {why}"
            if est is None:
                err = None
            per_n[k].append((n, est, err))
            rows.append(run_info(seed=seed, kind="finite_n", estimator=k, n=n, jd_star=est,
                                 jd_star_err=err, bootstrap=len(boot), crossing=status,
                                 estimate_ok=ok, reason=reason, theory=theory_vals[k],
                                 exact_finite_n=gap_exact_finite_n(n) if k == "gap" else None))
    for n in EXACT_N:
        rows.append(run_info(seed=seed, kind="exact_finite_n", estimator="gap", n=n,
                             jd_star=gap_exact_finite_n(n), theory=theory_vals["gap"]))
    for k in ESTIMATORS:
        fit = extrapolate_inverse_n(*zip(*per_n[k]))
        rows.append(run_info(seed=seed, kind="extrapolated", estimator=k, n="inf",
                             jd_star=fit.value, jd_star_err=fit.error, slope=fit.slope,
                             chi2=fit.chi2, dof=fit.dof, points=fit.points, fit_ok=fit.fit_ok,
                             reason=fit.reason, theory=theory_vals[k],
                             seconds=time.perf_counter() - t0))
    return rows


def theory_critical_value(criterion: str):
    """The N → ∞ critical self-coupling of ``criterion``
    (:func:`fplandscape.theory.critical_self_coupling`, no evidence curve); None if the solver
    does not converge. A plain solve: callers that need a value several times (the study,
    ``figures NAME…``) solve it once and pass it on explicitly (``critical=``)."""
    try:
        return theory.critical_self_coupling(criterion, evidence=False).jd
    except ConvergenceError:
        return None


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
        row.update(extrapolated=ext["jd_star"], extrapolated_err=ext["jd_star_err"],
                   fit_ok=ext.get("fit_ok"), fit_reason=ext.get("reason"))
        for r in rows:
            if r["kind"] == "exact_finite_n" and r["estimator"] == k:
                row[f"N={r['n']} (E4)"] = r["jd_star"]
        table.append(row)
    return table
