"""Algorithmic accessibility of fixed points (spec §3 "algorithmic thresholds", §4, §6 figs 6–7).

Two studies on random networks of the spec §1 ensemble (off-diagonal ``J_ij ~ N(0, 1/N)``,
reciprocity η, self-coupling ``J_D``; conventions of :mod:`fplandscape.model`):

* :func:`accessibility_scan` — for every cell (N, J_D, algorithm, network) run the algorithm
  ``runs`` times from uniform random initial states with a budget of ``max_sweeps`` sweeps and
  record whether it *reached a fixed point* (final state strictly stable, ``Δ_i = σ_i h_i > 0``
  for every i) and in how many sweeps. Per (N, J_D, algorithm): the success probability

      p̂ = k / m,   SE(p̂) = √(p̂ (1 − p̂) / m)     (k successes of m = runs × networks runs),

  and the sweeps of the successful runs. Per (algorithm, N): the finite-size 50 % threshold
  ``J_50(N)`` from a binomial logistic fit (:func:`fit_threshold`) of the rising edge of
  p̂(J_D) (cells after the first maximum are left out when p̂ falls below the level again,
  flagged ``non_monotone``); per algorithm: the
  extrapolation ``J_50(∞)`` from ``J_50(N) = J_50(∞) + c·N^(−1/2)`` (or ``c/N``,
  :func:`extrapolate_threshold`).
* :func:`compare_reached_vs_uniform` — what the algorithms find: margin κ(σ) = min_i Δ_i, mean
  stability (1/N) Σ_i Δ_i and the number of fixed points at Hamming distance 1 and 2 (exact
  local flip checks, :func:`fplandscape.sim.local.local_stats`) of the reached fixed points
  versus a uniform sample of all fixed points (exact enumeration with a seeded bottom-k sample,
  :func:`fplandscape.sim.enumerate.enumerate_fixed_points`, N ≤ 64), next to the typical mean
  stability ``J_D + φ(J_D)/Φ(J_D)`` (:func:`fplandscape.theory.typical_mean_stability`).

Algorithms are looked up by name in a registry (:func:`register_algorithm`); ``"async"``,
``"sync"`` (:func:`fplandscape.sim.dynamics.run_dynamics`) and ``"anneal"``
(:func:`fplandscape.sim.dynamics.anneal`) are built in. A runner has the signature
``runner(J, *, runs, max_sweeps, seed, **options) -> dict`` with per-run arrays ``reached``
(bool), ``sweeps`` (int), ``converged`` (bool), ``states`` (int8 runs × N), ``margin`` and
``mean_stability`` (float64). ``"fbp"`` (focusing BP) is resolved lazily: the first request
imports :mod:`fplandscape.sim.bp`, which may call :func:`register_algorithm` itself or expose
an ``accessibility_runner`` with that signature.

Seeds (reproducible whatever the number of workers, the split into tasks or the grid). With
``root = SeedSequence(seed)``, network k of size N is drawn from
``SeedSequence(root.entropy, spawn_key=(0, N, k))`` and the runs on it use
``SeedSequence(root.entropy, spawn_key=(1, N, k))`` (run r: its child r, see
:func:`fplandscape.sim.dynamics.run_seeds`). The off-diagonal couplings do not depend on
``J_D`` (:func:`fplandscape.model.gaussian_couplings` draws them first and then sets the
diagonal), so a cell's result is a function of (seed, N, J_D, algorithm, k) only, and all
J_D values and algorithms see the *same* networks and the *same* initial states (common random
numbers: smoother p(J_D) curves and paired comparisons between algorithms). Adding grid points
never changes the existing cells.

Parallelism: one task = one cell (N, J_D, algorithm, network) with all its runs, run through
:func:`fplandscape.parallel.run_tasks` on threads (the kernels release the GIL), with the
checkpoint/resume/progress options of :func:`fplandscape.sim.disorder.disorder_average`.
"""
from __future__ import annotations

import importlib
import math
import struct
import time
import zlib
from dataclasses import dataclass, field
from typing import Callable, Optional

import numpy as np

from .. import model, parallel
from . import stop
from ..errors import InputError, check_count
from ..provenance import run_info
from ..theory import typical_mean_stability
from .dynamics import anneal, run_dynamics

__all__ = ["AccessibilityResult", "ComparisonResult", "accessibility_scan",
           "compare_reached_vs_uniform", "fit_threshold", "extrapolate_threshold",
           "register_algorithm", "get_algorithm", "algorithm_names", "cell_seeds",
           "EXTRAPOLATIONS"]

EXTRAPOLATIONS = ("sqrt", "linear")  # J_50(N) = J_50(∞) + c·N^(-1/2), or + c·N^(-1)

# --------------------------------------------------------------------------------------------
# algorithm registry


@dataclass(frozen=True)
class Algorithm:
    """A named solver: ``runner(J, *, runs, max_sweeps, seed, **options) -> dict`` (module
    docstring), with its default ``options``."""

    name: str
    runner: Callable
    description: str = ""
    options: dict = field(default_factory=dict)


_REGISTRY: dict = {}
_LAZY = {"fbp": "fplandscape.sim.bp"}  # algorithms provided by modules imported on demand


def register_algorithm(name: str, runner: Callable, *, description: str = "",
                       options: Optional[dict] = None, replace: bool = False) -> None:
    """Make ``runner`` available to :func:`accessibility_scan` under ``name`` (module docstring
    for the signature and the returned per-run arrays)."""
    if not isinstance(name, str) or not name or not callable(runner):
        raise InputError("register_algorithm needs a non-empty name and a callable runner")
    if name in _REGISTRY and not replace:
        raise InputError(f"algorithm {name!r} is already registered (pass replace=True)")
    _REGISTRY[name] = Algorithm(name, runner, description, dict(options or {}))


def get_algorithm(name: str) -> Algorithm:
    """The registered algorithm ``name`` (importing its provider module on first use)."""
    if name not in _REGISTRY and name in _LAZY:
        try:
            mod = importlib.import_module(_LAZY[name])
        except Exception:  # noqa: BLE001 (missing or broken provider: reported below)
            mod = None
        if name not in _REGISTRY and mod is not None and \
                callable(getattr(mod, "accessibility_runner", None)):
            register_algorithm(name, mod.accessibility_runner,
                               description=(mod.__doc__ or "").strip().split("\n")[0])
        if name not in _REGISTRY:
            raise InputError(f"algorithm {name!r} is not available yet ({_LAZY[name]} provides "
                             f"no accessibility runner); available: {', '.join(algorithm_names())}")
    if name not in _REGISTRY:
        raise InputError(f"unknown algorithm {name!r}; available: {', '.join(algorithm_names())}")
    return _REGISTRY[name]


def algorithm_names() -> list:
    """Names of the registered algorithms (built-in first)."""
    return list(_REGISTRY)


def _dynamics_outcome(res) -> dict:
    return {"reached": res.is_fixed_point, "sweeps": res.sweeps, "converged": res.converged,
            "states": res.states, "margin": res.margin, "mean_stability": res.mean_stability,
            "cycle2": res.cycle2}


def _run_async(J, *, runs, max_sweeps, seed, order="random"):
    return _dynamics_outcome(run_dynamics(J, rule="async", runs=runs, max_sweeps=max_sweeps,
                                          order=order, seed=seed, return_stability=False))


def _run_sync(J, *, runs, max_sweeps, seed):
    return _dynamics_outcome(run_dynamics(J, rule="sync", runs=runs, max_sweeps=max_sweeps,
                                          seed=seed, return_stability=False))


def _run_anneal(J, *, runs, max_sweeps, seed, beta0=0.5, beta1=5.0, schedule="linear"):
    res = anneal(J, runs=runs, max_sweeps=max_sweeps, beta0=beta0, beta1=beta1,
                 schedule=schedule, seed=seed, return_stability=False)
    return {"reached": res.reached, "sweeps": res.sweeps, "converged": res.reached,
            "states": res.states, "margin": res.margin, "mean_stability": res.mean_stability,
            "energy": res.energy}


register_algorithm("async", _run_async, description="asynchronous sign dynamics, a random "
                   "order per sweep; reached = final state is a strict fixed point",
                   options={"order": "random"})
register_algorithm("sync", _run_sync, description="synchronous sign dynamics s <- sign(J s) "
                   "(stops at a fixed point of the update or a 2-cycle)")
register_algorithm("anneal", _run_anneal, description="simulated annealing on E = #{i: "
                   "Delta_i <= 0}, linear beta schedule 0.5 -> 5 over max_sweeps",
                   options={"beta0": 0.5, "beta1": 5.0, "schedule": "linear"})


# --------------------------------------------------------------------------------------------
# seeds and validation


def _entropy(seed):
    if isinstance(seed, np.random.SeedSequence):
        if seed.spawn_key:
            raise InputError("give an integer seed or a root SeedSequence (without spawn_key)")
        return seed.entropy
    return model.check_int_seed(seed)


def _float_key(x: float) -> int:
    """A J_D value as an integer spawn key (its IEEE-754 bits)."""
    return struct.unpack("<Q", struct.pack("<d", float(x)))[0]


def _name_key(name: str) -> int:
    return zlib.crc32(name.encode())


def cell_seeds(seed, n: int, network: int):
    """(network seed, runs seed) of network ``network`` of size ``n`` (module docstring)."""
    ent = _entropy(seed)
    return (np.random.SeedSequence(ent, spawn_key=(0, int(n), int(network))),
            np.random.SeedSequence(ent, spawn_key=(1, int(n), int(network))))


def _positive_int(value, name):
    return check_count(value, name, minimum=1)


def _n_list(values, name="n_values"):
    vals = np.atleast_1d(np.asarray(values)).tolist() if not isinstance(values, (list, tuple)) \
        else list(values)
    if not vals:
        raise InputError(f"{name} must not be empty")
    out = [_positive_int(v, f"every N in {name}") for v in vals]
    if len(set(out)) != len(out):
        raise InputError(f"{name} has repeated values: {out}")
    return out


def _jd_list(values):
    vals = np.atleast_1d(np.asarray(values, dtype=object)).tolist()
    if not vals:
        raise InputError("jd_values must not be empty")
    out = []
    for v in vals:
        if isinstance(v, bool) or not isinstance(v, (int, float, np.integer, np.floating)) \
                or not math.isfinite(v):
            raise InputError(f"every J_D must be a finite real number, got {v!r}")
        out.append(float(v))
    if len(set(out)) != len(out):
        raise InputError(f"jd_values has repeated values: {out}")
    return out


def _rules(rules):
    if isinstance(rules, str):
        rules = [r for r in rules.split(",") if r]
    rules = list(rules)
    if not rules:
        raise InputError("rules must name at least one algorithm")
    if len(set(rules)) != len(rules):
        raise InputError(f"rules has repeated names: {rules}")
    for r in rules:
        get_algorithm(r)
    return rules


def _options(rules, options):
    """Per-algorithm options: registered defaults updated by ``options[rule]``."""
    options = dict(options or {})
    unknown = set(options) - set(rules)
    if unknown:
        raise InputError(f"options given for algorithms not in rules: {', '.join(sorted(unknown))}")
    out = {}
    for r in rules:
        opt = dict(get_algorithm(r).options)
        extra = options.get(r) or {}
        if not isinstance(extra, dict):
            raise InputError(f"options[{r!r}] must be a dict")
        opt.update(extra)
        out[r] = opt
    return out


# --------------------------------------------------------------------------------------------
# statistics: logistic threshold and its extrapolation


def _logistic_mle(x, k, m, max_iter=100):
    """Binomial MLE of logit p = a + b x by damped Newton; returns (a, b, cov) or None."""
    beta = np.zeros(2)
    X = np.column_stack([np.ones_like(x), x])

    def nll(bt):
        eta = X @ bt
        return float(np.sum(m * np.logaddexp(0.0, eta) - k * eta))

    f = nll(beta)
    for _ in range(max_iter):
        p = 0.5 * (1.0 + np.tanh(0.5 * (X @ beta)))
        w = m * p * (1 - p)
        grad = X.T @ (k - m * p)
        info = X.T @ (w[:, None] * X)
        try:
            step = np.linalg.solve(info, grad)
        except np.linalg.LinAlgError:
            return None
        t = 1.0
        while True:
            new = beta + t * step
            fn = nll(new)
            if fn <= f + 1e-12:
                break
            t *= 0.5
            if t < 1e-10:  # no descent left: at the optimum to rounding
                new, fn = beta, f
                break
        beta, f_old, f = new, f, fn
        if np.max(np.abs(t * step)) < 1e-11 or abs(f_old - f) < 1e-14 * max(1.0, abs(f)):
            break
    p = 0.5 * (1.0 + np.tanh(0.5 * (X @ beta)))
    info = X.T @ ((m * p * (1 - p))[:, None] * X)
    try:
        cov = np.linalg.inv(info)
    except np.linalg.LinAlgError:
        return None
    if not np.all(np.isfinite(cov)):
        return None
    return beta[0], beta[1], cov, p


def _interpolated(x, p, level):
    """Linear interpolation of the first crossing of ``level`` by p(x) (x ascending), with the
    uncertainty of a value uniform on the bracketing interval: (x_hi − x_lo)/√12."""
    above = np.nonzero(p >= level)[0]
    i = int(above[0])
    if i == 0:
        return None, None, (None, None)
    x0, x1, p0, p1 = x[i - 1], x[i], p[i - 1], p[i]
    j = x0 + (level - p0) * (x1 - x0) / (p1 - p0) if p1 != p0 else 0.5 * (x0 + x1)
    return float(j), float((x1 - x0) / math.sqrt(12.0)), (float(x0), float(x1))


def fit_threshold(jd, successes, trials, *, level: float = 0.5, overdispersion: bool = True,
                  bootstrap: int = 0, seed=0) -> dict:
    """Threshold ``J_level`` where the success probability p(J_D) crosses ``level``.

    Model: ``k_i ~ Binomial(m_i, p(x_i))`` with ``logit p = a + b x``, ``x = (J_D − J̄)/s``
    (centred and scaled grid, for conditioning), fitted by maximum likelihood (Newton's method
    on the convex binomial log-likelihood). Then

        J_level = J̄ + s·(logit(level) − a)/b,
        Var(J_level) = s² gᵀ C g,   g = (−1/b, −x_level/b),   C = φ·I(a, b)⁻¹,

    with the Fisher information ``I = Σ_i m_i p_i (1 − p_i) (1, x_i)(1, x_i)ᵀ`` (delta method) and
    the dispersion ``φ = max(1, D/(n_points − 2))`` (D the binomial deviance; quasi-binomial
    inflation, absorbing network-to-network and lack-of-fit variance; φ = 1 when
    ``overdispersion`` is False or there are only 2 points). The width of the transition is
    ``1/b`` in units of s (``width`` = s/b: p goes from 27 % to 73 % over 2·width).

    Special cases (``status``): ``"ok"``; ``"below grid"`` / ``"above grid"`` (p̂ ≥ level, or
    p̂ < level, at every grid point: ``j50`` None); ``"separated"`` (every failure at smaller
    J_D than every success, so the MLE does not exist): ``j50`` from linear interpolation of p̂
    between the two grid points bracketing the crossing, with error (Δx)/√12 (``method =
    "interpolation"``); ``"outside grid"`` (the fitted crossing lies outside the scanned J_D
    range: given, but an extrapolation); ``"decreasing"`` (fitted b ≤ 0).

    ``bootstrap`` > 0: parametric bootstrap (``k*_i ~ Binomial(m_i, p̂_fit(x_i))``, refit,
    ``j50_err_bootstrap`` = standard deviation of the replicates, seeded by ``seed``).

    Returns a dict: ``j50``, ``j50_err``, ``method`` (logistic/interpolation), ``status``,
    ``width``, ``width_err``, ``dispersion``, ``deviance``, ``points``, ``trials``, and with
    bootstrap ``j50_err_bootstrap``.
    """
    x = np.asarray(jd, dtype=np.float64).ravel()
    k = np.asarray(successes, dtype=np.float64).ravel()
    m = np.asarray(trials, dtype=np.float64).ravel()
    if not (x.size == k.size == m.size) or x.size == 0:
        raise InputError("jd, successes and trials must be non-empty and of equal length")
    if np.any(m < 0) or np.any(k < 0) or np.any(k > m):
        raise InputError("need 0 <= successes <= trials")
    if not 0.0 < level < 1.0:
        raise InputError(f"level must lie in (0, 1), got {level}")
    keep = m > 0
    x, k, m = x[keep], k[keep], m[keep]
    order = np.argsort(x, kind="stable")
    x, k, m = x[order], k[order], m[order]
    out = {"j50": None, "j50_err": None, "method": None, "status": None, "width": None,
           "width_err": None, "dispersion": None, "deviance": None, "points": int(x.size),
           "trials": int(m.sum()), "level": level}
    if x.size == 0:
        out["status"] = "no data"
        return out
    p_hat = k / m
    if np.all(p_hat >= level):
        out["status"] = "below grid"
        return out
    if np.all(p_hat < level):
        out["status"] = "above grid"
        return out
    fail_x = x[k < m]
    succ_x = x[k > 0]
    separated = fail_x.size == 0 or succ_x.size == 0 or fail_x.max() <= succ_x.min() \
        or np.unique(x).size < 2
    fit = None
    if not separated:
        xbar = float(x.mean())
        s = float(x.std()) or 1.0
        fit = _logistic_mle((x - xbar) / s, k, m)
    if fit is None:
        j, err, _ = _interpolated(x, p_hat, level)
        out.update(j50=j, j50_err=err, method="interpolation", status="separated")
        return out
    a, b, cov, p = fit
    with np.errstate(divide="ignore", invalid="ignore"):
        dev = 2.0 * np.sum(np.where(k > 0, k * np.log(k / (m * p)), 0.0)
                           + np.where(m - k > 0, (m - k) * np.log((m - k) / (m * (1 - p))), 0.0))
    dof = x.size - 2
    phi = max(1.0, dev / dof) if (overdispersion and dof > 0) else 1.0
    cov = cov * phi
    t = math.log(level / (1 - level))
    x50 = (t - a) / b
    g = np.array([-1.0 / b, -x50 / b])
    var = float(g @ cov @ g)
    j50 = xbar + s * x50
    width = s / b
    width_err = s * math.sqrt(cov[1, 1]) / b ** 2
    status = "ok"
    if b <= 0:
        status = "decreasing"
    elif not x.min() <= j50 <= x.max():
        status = "outside grid"
    out.update(j50=float(j50), j50_err=float(s * math.sqrt(max(var, 0.0))), method="logistic",
               status=status, width=float(width), width_err=float(width_err),
               dispersion=float(phi), deviance=float(dev))
    if bootstrap:
        rng = np.random.default_rng(seed)
        reps = []
        for _ in range(int(bootstrap)):
            kb = rng.binomial(m.astype(np.int64), p)
            r = fit_threshold(x, kb, m, level=level, overdispersion=False)
            if r["j50"] is not None:
                reps.append(r["j50"])
        out["j50_err_bootstrap"] = float(np.std(reps, ddof=1)) if len(reps) > 1 else None
        out["bootstrap_ok"] = len(reps)
    return out


def extrapolate_threshold(n_values, j50, j50_err, *, form: str = "sqrt") -> dict:
    """Weighted least-squares extrapolation of finite-size thresholds to N → ∞.

    ``form = "sqrt"``: ``J_50(N) = J_50(∞) + c·N^(−1/2)``; ``"linear"``: ``J_50(N) = J_50(∞) +
    c/N``. Weights ``1/err²`` (errors ≤ 0 or missing are replaced by the smallest positive
    one); the covariance of (J_50(∞), c) is ``(Xᵀ W X)⁻¹``, multiplied by ``χ²/dof`` when that
    exceeds 1 (errors too small for the scatter about the line). Needs ≥ 2 distinct N (with 2 the
    line passes through both points and dof = 0). Returns ``j50_inf``, ``j50_inf_err``,
    ``slope``, ``slope_err``, ``chi2``, ``dof``, ``form``, ``n_used``.
    """
    if form not in EXTRAPOLATIONS:
        raise InputError(f"form must be one of {', '.join(EXTRAPOLATIONS)}, got {form!r}")
    n = np.asarray(n_values, dtype=np.float64)
    y = np.asarray(j50, dtype=np.float64)
    e = np.asarray([np.nan if v is None else v for v in j50_err], dtype=np.float64)
    out = {"form": form, "j50_inf": None, "j50_inf_err": None, "slope": None, "slope_err": None,
           "chi2": None, "dof": None, "n_used": [int(v) for v in n]}
    if n.size < 2 or np.unique(n).size < 2:
        return out
    pos = e[np.isfinite(e) & (e > 0)]
    e = np.where(np.isfinite(e) & (e > 0), e, pos.min() if pos.size else 1.0)
    xv = n ** -0.5 if form == "sqrt" else 1.0 / n
    X = np.column_stack([np.ones_like(xv), xv])
    W = 1.0 / e ** 2
    A = X.T @ (W[:, None] * X)
    cov = np.linalg.inv(A)
    beta = cov @ (X.T @ (W * y))
    chi2 = float(np.sum(W * (y - X @ beta) ** 2))
    dof = int(n.size - 2)
    if dof > 0 and chi2 / dof > 1.0:
        cov = cov * (chi2 / dof)
    out.update(j50_inf=float(beta[0]), j50_inf_err=float(math.sqrt(cov[0, 0])),
               slope=float(beta[1]), slope_err=float(math.sqrt(cov[1, 1])), chi2=chi2, dof=dof)
    return out


# --------------------------------------------------------------------------------------------
# the scan


@dataclass(frozen=True)
class AccessibilityResult:
    """Result of :func:`accessibility_scan`.

    ``rows``: one dict per (N, J_D, algorithm) — ``n``, ``jd``, ``rule``, ``networks``,
    ``runs`` (m = runs × networks), ``reached`` (k), ``p_reach`` = k/m, ``p_reach_se`` =
    √(p(1−p)/m), ``p_reach_se_networks`` (standard error of the per-network fractions, ≥ 2
    networks, else None), ``converged`` (runs whose last sweep changed nothing), ``median_sweeps``,
    ``mean_sweeps``, ``max_sweeps_reached`` (sweeps of the successful runs; None if none),
    ``margin_mean`` and ``mean_stability`` (means over the reached fixed points),
    ``typical_mean_stability`` (J_D + s φ(J_D/s)/Φ(J_D/s), s² = (N−1)/N), ``seconds`` (sum over
    the cell tasks). ``thresholds``: one dict per (algorithm, N) with ``kind = "finite_n"`` and
    the :func:`fit_threshold` fields, then one per (algorithm, extrapolation form) with
    ``kind = "extrapolated"`` and the :func:`extrapolate_threshold` fields (``headline`` True
    for the form requested). ``cells``: the raw per-cell results (per-run lists) in task order.
    ``info``: version, seed, parameters, wall time.
    """

    rows: list
    thresholds: list
    cells: list = field(default_factory=list)
    info: dict = field(default_factory=dict)

    def threshold(self, rule: str, n=None) -> Optional[dict]:
        """The finite-N threshold row of ``rule`` at ``n``, or its headline extrapolation."""
        for t in self.thresholds:
            if t["rule"] != rule:
                continue
            if n is None and t["kind"] == "extrapolated" and t.get("headline"):
                return t
            if n is not None and t["kind"] == "finite_n" and t["n"] == n:
                return t
        return None

    def as_rows(self) -> list:
        """Tidy rows for CSV: ``kind = "cell"`` rows, then the threshold rows; each carries
        version and seed."""
        meta = {"version": self.info.get("version"), "seed": self.info.get("seed")}
        out = [{"kind": "cell", **meta, **r} for r in self.rows]
        out += [{**meta, **t} for t in self.thresholds]
        return out


def _cell_task(n, jd, rule, network, eta, net_ss, run_ss, runs, max_sweeps, options,
               keep_states):
    """One cell (runs in a worker thread): draw network ``network`` of size n (off-diagonal
    independent of J_D), set the diagonal to J_D, run the algorithm ``runs`` times."""
    t0 = time.perf_counter()
    J = model.gaussian_couplings(n, jd, eta=eta, rng=np.random.default_rng(net_ss))
    res = get_algorithm(rule).runner(J, runs=runs, max_sweeps=max_sweeps, seed=run_ss,
                                     **options)
    out = {"reached": [bool(v) for v in res["reached"]],
           "converged": [bool(v) for v in res["converged"]],
           "sweeps": [int(v) for v in res["sweeps"]],
           "margin": [float(v) for v in res["margin"]],
           "mean_stability": [float(v) for v in res["mean_stability"]]}
    if keep_states:
        out["states"] = np.asarray(res["states"], dtype=np.int8)
    out["seconds"] = time.perf_counter() - t0
    return out


def _se_binomial(k, m):
    if m == 0:
        return None
    p = k / m
    return math.sqrt(p * (1 - p) / m)


def _aggregate(n, jd, rule, cells, eta):
    m = sum(len(c["reached"]) for c in cells)
    k = sum(sum(c["reached"]) for c in cells)
    ok = [(s, mg, ms) for c in cells for r, s, mg, ms in
          zip(c["reached"], c["sweeps"], c["margin"], c["mean_stability"]) if r]
    sweeps = np.array([o[0] for o in ok], dtype=np.float64)
    per_net = [sum(c["reached"]) / len(c["reached"]) for c in cells if c["reached"]]
    se_net = float(np.std(per_net, ddof=1) / math.sqrt(len(per_net))) \
        if len(per_net) > 1 else None
    return {"n": n, "jd": jd, "rule": rule, "eta": eta, "networks": len(cells), "runs": m,
            "reached": k, "p_reach": k / m if m else None, "p_reach_se": _se_binomial(k, m),
            "p_reach_se_networks": se_net,
            "converged": sum(sum(c["converged"]) for c in cells),
            "median_sweeps": float(np.median(sweeps)) if ok else None,
            "mean_sweeps": float(sweeps.mean()) if ok else None,
            "max_sweeps_reached": int(sweeps.max()) if ok else None,
            "margin_mean": float(np.mean([o[1] for o in ok])) if ok else None,
            "mean_stability": float(np.mean([o[2] for o in ok])) if ok else None,
            "typical_mean_stability": float(typical_mean_stability(jd, n)),
            "seconds": float(sum(c["seconds"] for c in cells))}


def accessibility_scan(n_values, jd_values, rules=("async", "sync"), *, runs: int = 20,
                       networks: int = 1, max_sweeps: int = 1000, seed=0, eta: float = 0.0,
                       options: Optional[dict] = None, extrapolation: str = "sqrt",
                       level: float = 0.5, bootstrap: int = 0, keep_states: bool = False,
                       workers=None, scheduler=None, checkpoint=None, resume: bool = False,
                       progress=False) -> AccessibilityResult:
    """P(reach a fixed point) and time to reach it versus J_D, for each N and algorithm.

    For every N in ``n_values``, J_D in ``jd_values``, algorithm in ``rules`` (registry names:
    ``"async"``, ``"sync"``, ``"anneal"``, later ``"fbp"``) and network k < ``networks``: draw
    network k (spec §1 ensemble with reciprocity ``eta``; the same off-diagonal couplings for
    every J_D and algorithm, module docstring), and run the algorithm ``runs`` times from
    uniform random initial states with at most ``max_sweeps`` sweeps (synchronous: steps;
    annealing: the length of its β schedule). A run *reaches* a fixed point when its final
    state is strictly stable (Δ_i > 0 for all i; for the dynamics this is the converged run
    minus the rare ties, for annealing E = 0); its time is the number of sweeps reported by the
    algorithm (dynamics: including the final sweep that changed nothing).

    Rows (:class:`AccessibilityResult`): p̂ = k/m with SE √(p̂(1−p̂)/m), sweeps of the successful
    runs, stabilities of the reached fixed points. Thresholds: per (algorithm, N),
    :func:`fit_threshold` (logistic MLE of p̂ vs J_D, delta-method error with quasi-binomial
    dispersion; ``bootstrap`` > 0 adds a parametric bootstrap error); per algorithm,
    :func:`extrapolate_threshold` over the N with a finite threshold (status ok/separated),
    both forms (``1/√N`` and ``1/N``), the form ``extrapolation`` flagged as the headline.

    ``options``: per-algorithm keyword arguments, e.g. ``{"anneal": {"beta1": 10}}``.
    ``keep_states``: also keep the final states of every run in ``cells`` (int8 arrays).

    Parallel: one task per (N, J_D, algorithm, network) through
    :func:`fplandscape.parallel.run_tasks` on ``workers`` threads (default all cores) or a Dask
    ``scheduler``; ``checkpoint`` (a directory, or True for an automatic one removed after
    success) and ``resume`` as in :func:`fplandscape.sim.disorder.disorder_average`;
    ``progress`` shows a progress bar. The result (all but the ``seconds`` fields) does not
    depend on any of them.
    """
    n_list = _n_list(n_values)
    jd_list = _jd_list(jd_values)
    rules = _rules(rules)
    runs = _positive_int(runs, "runs")
    networks = _positive_int(networks, "networks")
    max_sweeps = check_count(max_sweeps, "max_sweeps")
    model.Ensemble(n=1, jd=0.0, eta=eta)  # validates eta
    eta = float(eta)
    if extrapolation not in EXTRAPOLATIONS:
        raise InputError(f"extrapolation must be one of {', '.join(EXTRAPOLATIONS)}, "
                         f"got {extrapolation!r}")
    opts = _options(rules, options)
    entropy = _entropy(seed)
    workers = parallel.check_workers(workers)
    t_start = time.perf_counter()

    keys, tasks = [], []
    for n in n_list:
        for jd in jd_list:
            for rule in rules:
                for k in range(networks):
                    net_ss, run_ss = cell_seeds(entropy, n, k)
                    keys.append((n, jd, rule, k))
                    tasks.append((n, jd, rule, k, eta, net_ss, run_ss, runs, max_sweeps,
                                  opts[rule], bool(keep_states)))
    # biggest cells first (better load balance); the result does not depend on the order
    order = sorted(range(len(tasks)), key=lambda i: (-keys[i][0], i))
    params = {"n_values": n_list, "jd_values": [repr(v) for v in jd_list], "rules": rules,
              "runs": runs, "networks": networks, "max_sweeps": max_sweeps,
              "seed": str(entropy), "eta": repr(eta), "options": opts,
              "keep_states": bool(keep_states)}
    ckpt = parallel.open_checkpoint(checkpoint, "accessibility", params, len(tasks),
                                    resume=resume)
    stop.clear_stop()
    out = parallel.run_tasks(_cell_task, [tasks[i] for i in order], workers=workers,
                             scheduler=scheduler, progress=progress, desc="accessibility cells",
                             checkpoint=ckpt, backend="threads", cancel=stop.request_stop)
    if ckpt is not None:
        ckpt.finish()
    cells = [None] * len(tasks)
    for pos, i in enumerate(order):
        cells[i] = out[pos]
    by_key = {keys[i]: cells[i] for i in range(len(tasks))}

    rows = []
    for n in n_list:
        for jd in jd_list:
            for rule in rules:
                rows.append(_aggregate(n, jd, rule, [by_key[(n, jd, rule, k)]
                                                     for k in range(networks)], eta))
    thresholds = _thresholds(rows, n_list, jd_list, rules, level, bootstrap, entropy,
                             extrapolation)
    cell_rows = [{"n": key[0], "jd": key[1], "rule": key[2], "network": key[3], **c}
                 for key, c in zip(keys, cells)]
    info = run_info(seed=entropy, n_values=n_list, jd_values=jd_list, rules=rules, runs=runs,
                    networks=networks, max_sweeps=max_sweeps, eta=eta, options=opts,
                    extrapolation=extrapolation, level=level)
    info["seconds"] = time.perf_counter() - t_start
    return AccessibilityResult(rows=rows, thresholds=thresholds, cells=cell_rows, info=info)


def _rising_edge(sel, level):
    """The cells (sorted by J_D) up to the first maximum of p̂, when p̂ later falls below
    ``level`` again (e.g. focusing BP failing at large J_D within its budget): J_50 is the
    threshold of the rising edge, and the logistic model only describes that part. Returns
    (cells used, whether the curve was non-monotone)."""
    p = [r["reached"] / r["runs"] if r["runs"] else 0.0 for r in sel]
    if not p:
        return sel, False
    top = int(np.argmax(p))
    if top + 1 < len(p) and min(p[top + 1:]) < level and top >= 1:
        return sel[:top + 1], True
    return sel, False


def _thresholds(rows, n_list, jd_list, rules, level, bootstrap, entropy, extrapolation):
    out = []
    for rule in rules:
        finite = []
        for n in n_list:
            sel = sorted((r for r in rows if r["rule"] == rule and r["n"] == n),
                         key=lambda r: r["jd"])
            sel, non_monotone = _rising_edge(sel, level)
            bs_seed = np.random.SeedSequence(entropy, spawn_key=(3, n, _name_key(rule)))
            fit = fit_threshold([r["jd"] for r in sel], [r["reached"] for r in sel],
                                [r["runs"] for r in sel], level=level, bootstrap=bootstrap,
                                seed=bs_seed)
            row = {"kind": "finite_n", "rule": rule, "n": n, **fit,
                   "non_monotone": non_monotone}
            out.append(row)
            if fit["j50"] is not None and fit["status"] in ("ok", "separated"):
                err = fit.get("j50_err_bootstrap") or fit["j50_err"]
                finite.append((n, fit["j50"], err))
        for form in EXTRAPOLATIONS:
            ex = extrapolate_threshold([f[0] for f in finite], [f[1] for f in finite],
                                       [f[2] for f in finite], form=form)
            out.append({"kind": "extrapolated", "rule": rule, "n": None,
                        "headline": form == extrapolation, **ex})
    return out


# --------------------------------------------------------------------------------------------
# what the algorithms find


_NEIGHBOR_TOL = 1e-9


def _d1_neighbors_dense(J, S):
    """Number of fixed points at Hamming distance 1 of each state (any N; O(N²) per state):
    flipping j gives Δ'_j = 2 J_jj − Δ_j and Δ'_i = Δ_i − 2 σ_i σ_j J_ij; candidates that pass
    with a tolerance are confirmed with the exact predicate (:func:`model.is_fixed_point`)."""
    S = np.atleast_2d(S)
    out = np.zeros(S.shape[0], dtype=np.int64)
    diag = np.diag(J)
    # slack: 1e-9 absolute, or more than the rounding of Δ (field_bands) plus the one update
    # (≤ 3 u Σ_j |J_ij|), so that no neighbour the exact predicate accepts is dropped here
    slack = np.maximum(_NEIGHBOR_TOL, 2.0 * model.field_bands(J)
                       + 8.0 * 2.0**-53 * np.abs(J).sum(axis=1))
    for q, s in enumerate(S):
        sf = s.astype(np.float64)
        delta = sf * (J @ sf)
        M = delta[:, None] - 2.0 * (sf[:, None] * J * sf[None, :])  # column j: flip j
        np.fill_diagonal(M, 2.0 * diag - delta)
        # a candidate unless some value is certainly negative (NaN, e.g. inf − inf on rows with
        # Σ|J| > 1e300, stays a candidate and goes to the exact check)
        cand = np.nonzero(~np.any(M <= -slack[:, None], axis=0))[0]
        for j in cand:
            t = s.copy()
            t[j] = -t[j]
            out[q] += bool(model.is_fixed_point(J, t))
    return out


def _describe(values):
    v = np.asarray(values, dtype=np.float64)
    if v.size == 0:
        return None, None
    return float(v.mean()), (float(v.std(ddof=1) / math.sqrt(v.size)) if v.size > 1 else None)


@dataclass(frozen=True)
class ComparisonResult:
    """Result of :func:`compare_reached_vs_uniform`.

    ``rows``: tidy dicts, one per (J_D, source, network) with ``kind = "network"`` and one
    per (J_D, source) pooled over the networks with ``kind = "pooled"``. ``source`` is
    ``"uniform"`` (a uniform sample of all fixed points) or an algorithm name. Columns: ``n``,
    ``jd``, ``source``, ``network``, ``states`` (fixed points described: sampled ones, or runs
    that reached one), ``runs`` (algorithms), ``fp_count`` (uniform: exact number of fixed
    points of the network), ``truncated`` (uniform: the sample is a bottom-k sample),
    ``margin_mean``/``margin_se``/``margin_min``/``margin_median``,
    ``mean_stability``/``mean_stability_se``, ``neighbors_d1``/``neighbors_d1_se``,
    ``isolated_d1`` (fraction with no fixed point at distance 1), ``neighbors_d2``/``_se``
    (None where not computed), ``typical_mean_stability`` (J_D + s φ(J_D/s)/Φ(J_D/s)); pooled
    algorithm rows add ``delta_mean_stability`` and ``delta_margin`` (algorithm − uniform).
    ``samples``: per (J_D, source) the pooled per-state arrays (``margin``, ``mean_stability``,
    ``neighbors`` (states × radius), ``codes`` for N ≤ 64), for histograms (figure 7).
    """

    rows: list
    samples: dict
    info: dict = field(default_factory=dict)

    def as_rows(self) -> list:
        meta = {"version": self.info.get("version"), "seed": self.info.get("seed")}
        return [{**meta, **r} for r in self.rows]

    def as_state_rows(self) -> list:
        """One tidy row per described fixed point (jd, source, margin, mean stability,
        neighbours at distance 1 and 2)."""
        out = []
        for (jd, source), s in self.samples.items():
            nb = s["neighbors"]
            for i in range(s["margin"].size):
                row = {"n": self.info.get("n"), "jd": jd, "source": source,
                       "margin": float(s["margin"][i]),
                       "mean_stability": float(s["mean_stability"][i])}
                for r in range(nb.shape[1]):
                    row[f"neighbors_d{r + 1}"] = int(nb[i, r]) if nb[i, r] >= 0 else None
                out.append(row)
        return out


def _compare_task(n, jd, source, network, eta, net_ss, run_ss, runs, max_sweeps, options,
                  uniform_samples, sample_seed, radius):
    from .enumerate import enumerate_fixed_points
    from .local import local_stats

    t0 = time.perf_counter()
    J = model.gaussian_couplings(n, jd, eta=eta, rng=np.random.default_rng(net_ss))
    out = {}
    if source == "uniform":
        res = enumerate_fixed_points(J, return_states=True, max_states=uniform_samples,
                                     seed=sample_seed, workers=1)
        codes = np.asarray(res.states, dtype=np.uint64)
        out.update(fp_count=int(res.count), truncated=bool(res.truncated), runs=None)
    else:
        res = get_algorithm(source).runner(J, runs=runs, max_sweeps=max_sweeps, seed=run_ss,
                                           **options)
        ok = np.asarray(res["reached"], dtype=bool)
        states = np.asarray(res["states"], dtype=np.int8)[ok]
        out.update(fp_count=None, truncated=None, runs=int(ok.size))
        if n <= model.MAX_PACKED_N:
            codes = model.pack_states(states) if states.shape[0] else np.zeros(0, np.uint64)
        else:
            codes = None
            out["margin"] = np.asarray(res["margin"], dtype=np.float64)[ok]
            out["mean_stability"] = np.asarray(res["mean_stability"], dtype=np.float64)[ok]
            nb = np.full((states.shape[0], max(radius, 1)), -1, dtype=np.int64)
            if radius >= 1 and states.shape[0]:
                nb[:, 0] = _d1_neighbors_dense(J, states)
            out["neighbors"] = nb[:, :radius] if radius else nb[:, :0]
    if codes is not None:
        st = local_stats(J, codes, radius=radius, n_threads=1)
        out.update(margin=st.margin, mean_stability=st.mean_stability, neighbors=st.neighbors,
                   codes=codes)
    out["seconds"] = time.perf_counter() - t0
    return out


def _describe_row(d, radius):
    margin = np.asarray(d["margin"], dtype=np.float64)
    ms = np.asarray(d["mean_stability"], dtype=np.float64)
    nb = np.asarray(d["neighbors"], dtype=np.int64).reshape(margin.size, radius)
    row = {"states": int(margin.size)}
    row["margin_mean"], row["margin_se"] = _describe(margin)
    row["margin_min"] = float(margin.min()) if margin.size else None
    row["margin_median"] = float(np.median(margin)) if margin.size else None
    row["mean_stability"], row["mean_stability_se"] = _describe(ms)
    for r in range(2):
        key = f"neighbors_d{r + 1}"
        col = nb[:, r] if r < min(radius, nb.shape[1]) else None
        if col is not None and np.any(col < 0):  # -1: not computed (distance 2 at N > 64)
            col = None
        if col is None or col.size == 0:
            row[key] = row[key + "_se"] = None
        else:
            row[key], row[key + "_se"] = _describe(col)
        if r == 0:
            row["isolated_d1"] = float(np.mean(col == 0)) if col is not None and col.size \
                else None
    return row


def compare_reached_vs_uniform(n: int, jd_values, rules=("async", "sync"), *, runs: int = 50,
                               networks: int = 4, max_sweeps: int = 1000, seed=0,
                               eta: float = 0.0, options: Optional[dict] = None,
                               uniform_samples: int = 2000, radius: int = 2, workers=None,
                               scheduler=None, checkpoint=None, resume: bool = False,
                               progress=False) -> ComparisonResult:
    """Properties of the fixed points the algorithms reach versus uniformly drawn fixed points.

    For each J_D in ``jd_values`` and network k < ``networks`` (the networks and initial states
    of :func:`accessibility_scan` with the same seed: :func:`cell_seeds`):

    * ``"uniform"`` (N ≤ 64): all fixed points are enumerated exactly and at most
      ``uniform_samples`` of them kept as a seeded bottom-k sample (uniform without
      replacement over the network's fixed points; all of them when there are fewer);
    * each algorithm of ``rules``: ``runs`` runs from random initial states; every run that
      reaches a fixed point contributes its final state (so a fixed point found by several runs
      counts with its multiplicity: the distribution over *runs*).

    For each described fixed point σ: margin κ = min_i Δ_i, mean stability (1/N) Σ_i Δ_i and
    the number of fixed points at Hamming distance 1..``radius`` (≤ 2) by exact local flip
    checks (:func:`fplandscape.sim.local.local_stats`). For N > 64 there is no uniform sample
    (its row gives only the theory) and neighbours are counted at distance 1 only (dense
    O(N²) check per state). The typical mean stability of a fixed point is
    ``J_D + s φ(J_D/s)/Φ(J_D/s)``, s² = (N − 1)/N
    (:func:`fplandscape.theory.typical_mean_stability`).

    Tasks: one per (J_D, source, network), parallel and checkpointed as in
    :func:`accessibility_scan` (result independent of workers).
    """
    n = _positive_int(n, "n")
    jd_list = _jd_list(jd_values)
    rules = _rules(rules)
    runs = _positive_int(runs, "runs")
    networks = _positive_int(networks, "networks")
    uniform_samples = _positive_int(uniform_samples, "uniform_samples")
    if isinstance(radius, bool) or radius not in (0, 1, 2):
        raise InputError(f"radius must be 0, 1 or 2, got {radius!r}")
    max_sweeps = check_count(max_sweeps, "max_sweeps")
    model.Ensemble(n=1, jd=0.0, eta=eta)
    eta = float(eta)
    opts = _options(rules, options)
    entropy = _entropy(seed)
    workers = parallel.check_workers(workers)
    t_start = time.perf_counter()
    sources = (["uniform"] if n <= model.MAX_PACKED_N else []) + rules
    keys, tasks = [], []
    for jd in jd_list:
        for source in sources:
            for k in range(networks):
                net_ss, run_ss = cell_seeds(entropy, n, k)
                sample_seed = int(np.random.SeedSequence(
                    entropy, spawn_key=(2, n, k, _float_key(jd))).generate_state(1)[0])
                keys.append((jd, source, k))
                tasks.append((n, jd, source, k, eta, net_ss, run_ss, runs, int(max_sweeps),
                              opts.get(source, {}), uniform_samples, sample_seed, int(radius)))
    params = {"n": n, "jd_values": [repr(v) for v in jd_list], "rules": rules, "runs": runs,
              "networks": networks, "max_sweeps": int(max_sweeps), "seed": str(entropy),
              "eta": repr(eta), "options": opts, "uniform_samples": uniform_samples,
              "radius": int(radius)}
    ckpt = parallel.open_checkpoint(checkpoint, "compare-reached", params, len(tasks),
                                    resume=resume)
    stop.clear_stop()
    results = parallel.run_tasks(_compare_task, tasks, workers=workers, scheduler=scheduler,
                                 progress=progress, desc=f"reached vs uniform N={n}",
                                 checkpoint=ckpt, backend="threads", cancel=stop.request_stop)
    if ckpt is not None:
        ckpt.finish()
    by_key = dict(zip(keys, results))
    rows, samples = [], {}
    for jd in jd_list:
        typ = float(typical_mean_stability(jd, n))
        pooled_uniform = None
        for source in (["uniform"] + rules):
            if source == "uniform" and source not in sources:
                rows.append({"kind": "pooled", "n": n, "jd": jd, "source": "uniform",
                             "network": None, "states": 0, "typical_mean_stability": typ})
                continue
            parts = [by_key[(jd, source, k)] for k in range(networks)]
            for k, d in enumerate(parts):
                rows.append({"kind": "network", "n": n, "jd": jd, "source": source,
                             "network": k, "runs": d["runs"], "fp_count": d["fp_count"],
                             "truncated": d["truncated"], **_describe_row(d, radius),
                             "typical_mean_stability": typ, "seconds": d["seconds"]})
            pooled = {key: np.concatenate([np.asarray(d[key]) for d in parts])
                      for key in ("margin", "mean_stability")}
            pooled["neighbors"] = np.concatenate(
                [np.asarray(d["neighbors"], dtype=np.int64).reshape(len(d["margin"]), radius)
                 for d in parts])
            if all(d.get("codes") is not None for d in parts):
                pooled["codes"] = np.concatenate([np.asarray(d["codes"], dtype=np.uint64)
                                                  for d in parts])
            samples[(jd, source)] = pooled
            row = {"kind": "pooled", "n": n, "jd": jd, "source": source, "network": None,
                   "runs": None if source == "uniform" else sum(d["runs"] for d in parts),
                   "fp_count": sum(d["fp_count"] for d in parts) if source == "uniform"
                   else None,
                   "truncated": any(d["truncated"] for d in parts) if source == "uniform"
                   else None,
                   **_describe_row(pooled, radius), "typical_mean_stability": typ,
                   "seconds": float(sum(d["seconds"] for d in parts))}
            if source == "uniform":
                pooled_uniform = row
            elif pooled_uniform is not None:
                for col in ("mean_stability", "margin_mean"):
                    a, b = row[col], pooled_uniform[col]
                    row["delta_" + ("margin" if col == "margin_mean" else col)] = \
                        None if a is None or b is None else a - b
            rows.append(row)
    info = run_info(seed=entropy, n=n, jd_values=jd_list, rules=rules, runs=runs,
                    networks=networks, max_sweeps=int(max_sweeps), eta=eta, options=opts,
                    uniform_samples=uniform_samples, radius=int(radius))
    info["seconds"] = time.perf_counter() - t_start
    return ComparisonResult(rows=rows, samples=samples, info=info)
