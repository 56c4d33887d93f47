"""Attractor census: the long-time fate of many starts, merged into distinct attractors.

For continuous systems every start is run for ``transient`` steps (maps) or RK4 steps
(flows), then classified:

* **divergent**: the state became non-finite or left ``|x|∞ ≤ 1e8``;
* **fixed point**: maps: ``|f(x) − x|∞ ≤ tol·(1 + |x|∞)``; flows: ``|F(x)|∞ ≤ tol·(1 + |x|∞)/τ``
  with τ the system's time scale (``tau``, else 1); the state is then polished by Newton's
  method and must be stable (all |λ| < 1, resp. Re λ < 0);
* **periodic** (maps): the smallest p ≤ ``max_period`` with ``|x_{t+p} − x_t|∞ ≤ tol·(1+|x|∞)``
  over a window of 2·max_period steps; multipliers = eigenvalues of the product of the
  Jacobians along the cycle, exponents ``ln|μ| / p``;
* **periodic** (flows): returns to a Poincaré section — the hyperplane through a point x₀ of the
  orbit normal to F(x₀), crossed in the direction of F — located by cubic Hermite
  interpolation between RK4 steps; the orbit is a cycle when the m-th next crossing point
  coincides with the present one to ``section_tol``·(1+|x|∞) (m ≤ 8 crossings per period); the
  period is the mean time between such returns; Floquet multipliers from the variational
  equation integrated over one period, exponents ``ln|μ| / T``;
* otherwise the top-k Lyapunov exponents are measured (:mod:`~fplandscape.attractors.lyapunov`)
  with standard errors from block means, and with the zero threshold
  ``θ_i = max(4·se_i, zero_tol)``: **chaotic** when λ₁ > θ₁; **quasi_periodic** when no
  exponent is positive beyond θ and at least as many are zero within θ as a torus needs
  (≥ 1 for maps, ≥ 2 for flows, whose flow direction always gives one zero) and the orbit does
  not recur — unless Newton's method from the end state lands, within 1e-3 relative, on a
  stable fixed point (a slowly converging focus, |μ| ≈ 1): then it is that **fixed point**; an
  orbit with λ₁ < −θ₁ that still has not settled is re-checked over a longer
  window (16·max_period) and counted ``periodic`` with ``period=None`` if it never closes
  (``params["unresolved"]``).

Merging. Fixed points are the same when their polished states agree to ``1e-6``·(1+|x|∞);
cycles of maps when they have the same period and a point of one lies within
``merge_tol``·(1+|x|∞) of a point of the other (equal up to phase); cycles of flows when their
periods agree to 1e-3 relative and a point of one lies within the step-size resolution of the
other's sampled orbit; chaotic and quasi-periodic attractors when every exponent agrees within
4 combined standard errors + ``zero_tol`` and the two sampled point clouds overlap: the median
distance from a point of one cloud to the other cloud is at most twice the median
nearest-neighbour distance within it, both ways. An attractor's ``basin`` is the fraction of
starts that reach it, ``basin_se = √(basin (1 − basin)/M)``; its exponents are the mean over
the starts that reached it (standard error √(Σ se²)/n).

Starts are drawn uniformly in the state box (:func:`~fplandscape.attractors.starts.state_box`),
so basins are fractions of that box's volume; user ``starts`` replace them. Binary networks go
to :func:`fplandscape.attractors.binary.binary_census` (exact for N ≤ 20).
"""
from __future__ import annotations

import time
from typing import Optional

import numpy as np

from ..errors import check_count, check_positive
from ..model import as_generator, seed_repr
from .fixed_points import (_check_system, classify_system_eigenvalues, input_seed, newton_polish,
                           per_input)
from .lyapunov import DIVERGE_AT, default_steps, lyapunov_batch
from .results import Attractor, Census
from .starts import check_starts, state_box
from .systems import SignNetwork

__all__ = ["census"]

CHUNK = 64  # starts per task (fixed: results never depend on the number of workers)
CLOUD = 64  # points kept to describe a chaotic or quasi-periodic attractor


def _scale(system) -> float:
    return float(getattr(system, "tau", 1.0))


def _diverged(X):
    return ~np.all(np.isfinite(X), axis=1) | (np.abs(X).max(axis=1) > DIVERGE_AT)


def _period_map(W, tol):
    """Smallest period p of each recorded orbit W (B, R, N) with every |x_{t+p} − x_t|∞ ≤
    tol·(1 + |x|∞) in the window; 0 where none."""
    B, R, N = W.shape
    out = np.zeros(B, dtype=np.int64)
    scale = 1.0 + np.abs(W).max(axis=(1, 2))
    for p in range(1, R // 2 + 1):
        todo = out == 0
        if not todo.any():
            break
        d = np.abs(W[todo, p:] - W[todo, :-p]).max(axis=(1, 2))
        hit = d <= tol * scale[todo]
        out[np.flatnonzero(todo)[hit]] = p
    return out


def _record(system, X, steps):
    """States of ``steps`` further steps: (B, steps+1, N), starting with X."""
    W = np.empty((X.shape[0], steps + 1, X.shape[1]))
    W[:, 0] = X
    with np.errstate(all="ignore"):
        for t in range(steps):
            X = system.advance(X, 1)
            W[:, t + 1] = X
    return W


def _map_cycle_multipliers(system, orbit):
    """Eigenvalues of J(x_{p−1}) ⋯ J(x_0) for a cycle of a map."""
    M = np.eye(system.dim)
    for J in system.jacobian(orbit):
        M = J @ M
    return np.linalg.eigvals(M)


def _hermite(x0, x1, f0, f1, h, s):
    """Cubic Hermite interpolation between (x0, f0) and (x1, f1) at fractions s (B, 1)."""
    h00 = 2 * s**3 - 3 * s**2 + 1
    h10 = s**3 - 2 * s**2 + s
    h01 = -2 * s**3 + 3 * s**2
    h11 = s**3 - s**2
    return h00 * x0 + h10 * h * f0 + h01 * x1 + h11 * h * f1


def _rk4_with_slope(system, X, F, h):
    """One RK4 step from X whose vector field F = rhs(X) is known; returns (X1, rhs(X1))."""
    k2 = system.rhs(X + 0.5 * h * F)
    k3 = system.rhs(X + 0.5 * h * k2)
    k4 = system.rhs(X + h * k3)
    X1 = X + (h / 6.0) * (F + 2.0 * k2 + 2.0 * k3 + k4)
    return X1, system.rhs(X1)


def _flow_periods(system, X, steps, tol):
    """Poincaré-section periods of a batch of flow trajectories (module docstring).

    Each row gets its own section through its start x₀ normal to F(x₀). Returns
    ``(periods (B,) with NaN where no cycle closed, X_end)``."""
    h = system.dt
    B, N = X.shape
    x0 = X.copy()
    F = system.rhs(X)
    nrm = np.linalg.norm(F, axis=1)
    n = F / np.where(nrm > 0, nrm, 1.0)[:, None]
    g = np.zeros(B)
    pts = [[] for _ in range(B)]
    times = [[] for _ in range(B)]
    scale = 1.0 + np.abs(X).max(axis=1)
    periods = np.full(B, np.nan)
    with np.errstate(all="ignore"):
        for t in range(steps):
            X1, F1 = _rk4_with_slope(system, X, F, h)
            g1 = np.einsum("bn,bn->b", X1 - x0, n)
            cross = np.flatnonzero((g < 0) & (g1 >= 0)) if t > 0 else np.zeros(0, np.intp)
            if cross.size:
                lo = np.zeros(cross.size)
                hi = np.ones(cross.size)
                for _ in range(40):  # bisection on the Hermite interpolant, all crossings at once
                    mid = 0.5 * (lo + hi)
                    P = _hermite(X[cross], X1[cross], F[cross], F1[cross], h, mid[:, None])
                    below = np.einsum("bn,bn->b", P - x0[cross], n[cross]) < 0
                    lo = np.where(below, mid, lo)
                    hi = np.where(below, hi, mid)
                s = 0.5 * (lo + hi)
                P = _hermite(X[cross], X1[cross], F[cross], F1[cross], h, s[:, None])
                for j, b in enumerate(cross):
                    pts[b].append(P[j])
                    times[b].append((t + s[j]) * h)
            X, F, g = X1, F1, g1
            scale = np.maximum(scale, 1.0 + np.abs(X).max(axis=1))
    for b in range(B):
        P = np.array(pts[b]).reshape(-1, N)
        T = np.array(times[b])
        for m in range(1, min(8, P.shape[0] - 2) + 1):
            d = np.abs(P[m:] - P[:-m]).max(axis=1)
            if np.all(d[-min(3, d.size):] <= tol * scale[b]):
                periods[b] = float(np.mean(T[m:] - T[:-m]))
                break
    return periods, X


def _orbit_samples(system, x, T, samples: int = 200):
    """About ``samples`` states along one period T of a flow from x (RK4 at ≤ system.dt)."""
    steps = max(samples, int(np.ceil(T / system.dt)))
    h = T / steps
    every = max(1, steps // samples)
    out = [x.copy()]
    X = x[None].copy()
    for t in range(steps):
        X = system.advance(X, 1, h)
        if (t + 1) % every == 0:
            out.append(X[0].copy())
    return np.array(out)


FULL_FLOQUET_MAX_N = 64


def _finalise(g, system, k, rng):
    """Expensive per-attractor quantities, once per distinct attractor: polished fixed points,
    eigenvalues/multipliers and their exponents, orbit samples and Floquet exponents."""
    kind = g["kind"]
    if kind == "fixed_point":
        xp, r = newton_polish(system, np.atleast_2d(g["states"])[:1])
        x = xp[0] if np.isfinite(r[0]) and r[0] <= 1e-9 else np.atleast_2d(g["states"])[0]
        eig = np.linalg.eigvals(system.jacobian(x[None])[0])
        eig, stable, _, _ = classify_system_eigenvalues(system, eig)
        with np.errstate(divide="ignore"):
            lam = np.log(np.abs(eig)) if system.kind == "map" else eig.real
        g.update(states=x[None], multipliers=eig, lyapunov=np.sort(lam)[::-1][:k],
                 residual=float(r[0]), stable=bool(stable))
        g["lyapunov_se"] = np.zeros_like(g["lyapunov"])
    elif kind == "periodic" and g.get("period") is not None and system.kind == "map":
        p = g["period"]
        mult = _map_cycle_multipliers(system, g["states"])
        with np.errstate(divide="ignore"):
            lam = np.sort(np.log(np.abs(mult)))[::-1][:k] / p
        g.update(multipliers=mult, lyapunov=lam, lyapunov_se=np.zeros_like(lam))
    elif kind == "periodic" and g.get("period") is not None:
        T = g["period"]
        x = np.atleast_2d(g["states"])[0]
        if system.dim <= FULL_FLOQUET_MAX_N:
            mult = _floquet(system, x, T, system.dt)
            with np.errstate(divide="ignore"):
                lam = np.sort(np.log(np.abs(mult)))[::-1][:k] / T
            g.update(multipliers=mult, lyapunov=lam, lyapunov_se=np.zeros_like(lam))
        else:  # top-k Floquet exponents by the QR method over ten periods
            steps = int(np.ceil(10 * T / system.dt))
            ex, se, _, _, _ = lyapunov_batch(system, x[None], k, steps, rng=rng)
            g.update(multipliers=None, lyapunov=ex[0], lyapunov_se=se[0])
    return g


def _floquet(system, x0, T, h):
    """Floquet multipliers: eigenvalues of the monodromy matrix over one period T (RK4 on the
    state and the full N × N frame)."""
    from .lyapunov import _advance_frame

    steps = max(1, int(round(T / h)))
    hh = T / steps
    X = x0[None].copy()
    Q = np.eye(system.dim)[None]
    for _ in range(steps):
        X, Q = _advance_frame(system, X, Q, hh)
    return np.linalg.eigvals(Q[0])


def _cycle_record(orbit, p):
    orbit = np.roll(orbit, -int(np.argmin(orbit[:, 0])), axis=0)
    return {"kind": "periodic" if p > 1 else "fixed_point", "period": p, "states": orbit,
            "count": 1}


def _classify_chunk(system, X0, transient, steps, k, max_period, tol, section_tol, zero_tol,
                    merge_tol, seed_seq):
    """Fate of every start of one task, merged within the task and finalised (a list of
    attractor records with their start counts)."""
    rng = as_generator(seed_seq)
    B, N = X0.shape
    fscale = _scale(system) if system.kind == "flow" else 1.0
    with np.errstate(all="ignore"):
        X = system.advance(X0, transient)
    recs: list = [None] * B
    div = _diverged(X)
    for i in np.flatnonzero(div):
        recs[i] = {"kind": "divergent", "count": 1}
    live = np.flatnonzero(~div)
    pending = live
    if live.size and system.kind == "map":
        W = _record(system, X[live], 2 * max_period)
        per = _period_map(W, tol)
        for j in np.flatnonzero(per):
            p = int(per[j])
            recs[live[j]] = _cycle_record(W[j, -p:], p)
        X[live] = W[:, -1]
        pending = live[per == 0]
    elif live.size:
        with np.errstate(all="ignore"):
            F = system.rhs(X[live])
        still = np.abs(F).max(axis=1) <= tol * (1 + np.abs(X[live]).max(axis=1)) / fscale
        for i in live[still]:
            recs[i] = {"kind": "fixed_point", "period": None, "states": X[i][None], "count": 1}
        rest = live[~still]
        if rest.size:
            T, Xe = _flow_periods(system, X[rest], max(steps // 4, 2000), section_tol)
            X[rest] = Xe
            for j in np.flatnonzero(np.isfinite(T)):
                recs[rest[j]] = {"kind": "periodic", "period": float(T[j]),
                                 "states": _orbit_samples(system, Xe[j], float(T[j])),
                                 "count": 1}
            pending = rest[~np.isfinite(T)]
        else:
            pending = rest
    if pending.size:
        kk = min(k, N)
        ex, se, Xe, dv, samples = lyapunov_batch(system, X[pending], kk, steps, rng=rng,
                                                 record_every=max(1, steps // CLOUD))
        recheck = []
        for j, i in enumerate(pending):
            if dv[j]:
                recs[i] = {"kind": "divergent", "count": 1}
                continue
            lam, s = ex[j], se[j]
            theta = np.maximum(4 * s, zero_tol)
            zeros = int(np.sum(np.abs(lam) <= theta))
            if lam[0] > theta[0]:
                kind = "chaotic"
            elif zeros >= (1 if system.kind == "map" else 2):
                kind = "quasi_periodic"
            else:
                kind = "periodic"
                if system.kind == "map":
                    recheck.append(j)
            recs[i] = {"kind": kind, "period": None, "states": samples[j], "lyapunov": lam,
                       "lyapunov_se": s, "count": 1, "unresolved": kind == "periodic"}
        # a slowly converging focus or node (|μ| ≈ 1, e.g. 0.998 per step) has λ₁ < 0 within
        # the zero threshold and may not have settled: if Newton from the end state lands on a
        # stable fixed point next to it, that is the attractor
        slow = [j for j, i in enumerate(pending)
                if recs[i]["kind"] in ("quasi_periodic", "periodic") and ex[j][0] < 0]
        if slow:
            xp, r = newton_polish(system, Xe[slow])
            for j, x, rj in zip(slow, xp, r):
                near = np.abs(x - Xe[j]).max() <= 1e-3 * (1.0 + np.abs(x).max())
                if rj <= 1e-9 and near:
                    eig = np.linalg.eigvals(system.jacobian(x[None])[0])
                    if classify_system_eigenvalues(system, eig)[1]:
                        recs[pending[j]] = {"kind": "fixed_point",
                                            "period": 1 if system.kind == "map" else None,
                                            "states": x[None], "count": 1}
                        if j in recheck:
                            recheck.remove(j)
        if recheck:
            W = _record(system, Xe[recheck], 16 * max_period)
            per = _period_map(W, tol)
            for j, p in zip(recheck, per):
                if p:
                    recs[pending[j]] = _cycle_record(W[recheck.index(j), -int(p):], int(p))
    groups = _merge_records(recs, system, merge_tol, zero_tol)
    return [_finalise(g, system, min(k, N), rng) for g in groups]


def _same(a, b, system, merge_tol, zero_tol):
    if a["kind"] != b["kind"]:
        return False
    kind = a["kind"]
    if kind == "divergent":
        return True
    A, B = np.atleast_2d(a["states"]), np.atleast_2d(b["states"])
    scale = 1.0 + max(np.abs(A).max(), np.abs(B).max())
    if kind == "fixed_point":
        return bool(np.abs(A[0] - B[0]).max() <= 1e-6 * scale)
    if kind == "periodic":
        pa, pb = a["period"], b["period"]
        if pa is None or pb is None:
            return False
        if system.kind == "map":
            if pa != pb:
                return False
            return bool(np.min(np.abs(B - A[0]).max(axis=1)) <= merge_tol * scale)
        if abs(pa - pb) > 1e-3 * max(pa, pb):
            return False
        step = np.abs(np.diff(B, axis=0)).max() if B.shape[0] > 1 else 0.0
        return bool(np.min(np.abs(B - A[0]).max(axis=1)) <= max(step, merge_tol * scale))
    # chaotic / quasi-periodic: exponents and point clouds (module docstring)
    la, lb = np.asarray(a["lyapunov"]), np.asarray(b["lyapunov"])
    sa, sb = np.asarray(a["lyapunov_se"]), np.asarray(b["lyapunov_se"])
    if np.any(np.abs(la - lb) > 4 * np.sqrt(sa**2 + sb**2) + zero_tol):
        return False

    def nn(P, R, same):
        D = np.sqrt(np.maximum(((P[:, None, :] - R[None, :, :]) ** 2).sum(-1), 0.0))
        if same:
            np.fill_diagonal(D, np.inf)
        return np.median(D.min(axis=1))

    within = max(nn(A, A, True), nn(B, B, True), 1e-12)
    return bool(nn(A, B, False) <= 2 * within and nn(B, A, False) <= 2 * within)


def _merge_records(recs, system, merge_tol, zero_tol):
    """Group records (in order) into attractors; returns the list of merged records."""
    groups: list = []
    for r in recs:
        for g in groups:
            if _same(g, r, system, merge_tol, zero_tol):
                n1, n2 = g["count"], r["count"]
                if g["kind"] in ("chaotic", "quasi_periodic") or g.get("unresolved"):
                    g["lyapunov"] = (n1 * np.asarray(g["lyapunov"]) + n2 * np.asarray(r["lyapunov"])) / (n1 + n2)
                    g["_se2"] = g.get("_se2", n1**2 * np.asarray(g["lyapunov_se"]) ** 2) + \
                        r.get("_se2", n2**2 * np.asarray(r["lyapunov_se"]) ** 2)
                    g["lyapunov_se"] = np.sqrt(g["_se2"]) / (n1 + n2)
                g["count"] = n1 + n2
                break
        else:
            groups.append(dict(r))
    return groups


def census(system, n_starts: int = 200, *, starts=None, inputs=None, seed=0,
           transient: Optional[int] = None, steps: Optional[int] = None, k: int = 3,
           max_period: int = 64, tol: float = 1e-8, section_tol: float = 1e-5,
           merge_tol: float = 1e-4, zero_tol: float = 5e-3, exact: Optional[bool] = None,
           workers: Optional[int] = 1, scheduler=None, progress: Optional[bool] = False,
           checkpoint=None, resume: bool = False):
    """Attractor census of ``system`` from ``n_starts`` starts (module docstring).

    Parameters
    ----------
    system : any system of :mod:`fplandscape.attractors`.
    n_starts, starts : number of uniform starts in the state box, or explicit (M, N) starts.
    inputs : None, one frozen input or a list of them (one :class:`Census` each).
    seed : seed of the starts and of the Lyapunov frames.
    transient, steps : discarded and measured steps (maps) or RK4 steps (flows); default
        :func:`fplandscape.attractors.lyapunov.default_steps`.
    k : number of Lyapunov exponents per attractor (at most N).
    max_period : longest cycle of a map detected directly.
    tol, section_tol, merge_tol, zero_tol : tolerances of the classification (docstring).
    exact : binary networks only: census of every state (default for N ≤ 20).
    workers, scheduler, progress, checkpoint, resume : starts run in tasks of 64 through
        :func:`fplandscape.parallel.run_tasks` (threads locally, or a Dask cluster).

    Returns
    -------
    :class:`Census` (a list of them for a list of inputs), attractors by decreasing basin.
    """
    _check_system(system)
    n_starts = check_count(n_starts, "n_starts", minimum=1)
    k = check_count(k, "k", minimum=1)
    max_period = check_count(max_period, "max_period", minimum=1)
    for name, value in (("tol", tol), ("section_tol", section_tol), ("merge_tol", merge_tol),
                        ("zero_tol", zero_tol)):
        check_positive(value, name)
    entries, many = per_input(system, inputs)
    if isinstance(system, SignNetwork):
        from .binary import binary_census

        out = [binary_census(s, exact=exact, n_starts=n_starts, seed=seed,
                             **({} if steps is None else {"max_steps": steps}))
               for _, s in entries]
        for (u, _), c in zip(entries, out):
            c.input = u
        return out if many else out[0]
    t_def, s_def = default_steps(system)
    transient = t_def if transient is None else check_count(transient, "transient")
    steps = s_def if steps is None else check_count(steps, "steps", minimum=2)
    if starts is not None:
        starts = check_starts(starts, system.dim)
    out = []
    for key, (u, sys_u) in enumerate(entries):
        t0 = time.perf_counter()
        out.append(_census_one(sys_u, n_starts, starts, seed, key, transient, steps,
                               min(k, sys_u.dim), max_period, tol, section_tol, merge_tol,
                               zero_tol, workers, scheduler, progress, checkpoint, resume))
        out[-1].input = u
        out[-1].seconds = time.perf_counter() - t0
    return out if many else out[0]


def _census_one(system, n_starts, starts, seed, key, transient, steps, k, max_period, tol,
                section_tol, merge_tol, zero_tol, workers, scheduler, progress, checkpoint,
                resume):
    from .tasks import run_start_tasks

    rng = as_generator(input_seed(seed, key))
    if starts is None:
        lo, hi = state_box(system)
        X0 = lo + (hi - lo) * rng.random((n_starts, system.dim))
    else:
        X0 = starts
    M = X0.shape[0]
    child = np.random.SeedSequence(rng.integers(2**63)).spawn((M + CHUNK - 1) // CHUNK)
    tasks = [(system, X0[i:i + CHUNK], transient, steps, k, max_period, tol, section_tol,
              zero_tol, merge_tol, child[j]) for j, i in enumerate(range(0, M, CHUNK))]
    params = {"n_starts": M, "seed": seed_repr(seed), "transient": transient, "steps": steps,
              "k": k, "max_period": max_period, "tol": tol, "section_tol": section_tol,
              "merge_tol": merge_tol, "zero_tol": zero_tol}
    results = run_start_tasks(_classify_chunk, tasks, kind="attractors-census",
                              system=system, starts=X0, params={"input": key, **params},
                              workers=workers, scheduler=scheduler, progress=progress,
                              checkpoint=checkpoint, resume=resume, desc="census starts")
    merged = _merge_records([g for r in results for g in r], system, merge_tol, zero_tol)
    attractors = []
    for g in merged:
        p = g["count"] / M
        kind = g["kind"]
        states = np.atleast_2d(g.get("states", np.zeros((0, system.dim))))
        if kind == "divergent":
            states = np.zeros((0, system.dim))
        lam = np.asarray(g.get("lyapunov", np.zeros(0)), dtype=float)
        se = g.get("lyapunov_se")
        attractors.append(Attractor(kind=kind, period=g.get("period"), states=states, basin=p,
                                    basin_se=float(np.sqrt(p * (1 - p) / M)), lyapunov=lam,
                                    lyapunov_se=None if se is None else np.asarray(se, float),
                                    multipliers=g.get("multipliers"), n_starts=g["count"]))
    attractors.sort(key=lambda a: -a.basin)
    params["unresolved"] = int(sum(g["count"] for g in merged if g.get("unresolved")))
    return Census(attractors=attractors, n_starts=M, kind=system.kind, exact=False,
                  system=system.describe(), params=params)
