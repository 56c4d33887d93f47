"""Initial states for the multistart analyses: half drawn uniformly from the state box, half
taken from trajectories (states the dynamics visits, where slow and fixed points lie)."""
from __future__ import annotations

import numpy as np

from ..errors import InputError, check_count
from .systems import as_batch


def state_box(system, starts=None):
    """The box the analyses draw starts from: ``system.box()`` where it exists; otherwise the
    range of short trajectories from standard-normal states, widened by half its size."""
    box = system.box()
    if box is not None:
        lo, hi = box
        return np.asarray(lo, dtype=float), np.asarray(hi, dtype=float)
    rng = np.random.default_rng(12345)
    X = rng.standard_normal((64, system.dim)) if starts is None else np.asarray(starts)
    pts = [X]
    with np.errstate(all="ignore"):
        for _ in range(20):
            X = system.advance(X, 5 if system.kind == "flow" else 1)
            pts.append(X)
    P = np.concatenate(pts)
    P = P[np.all(np.isfinite(P), axis=1) & (np.abs(P).max(axis=1) < 1e6)]
    if P.shape[0] == 0:
        return -np.ones(system.dim), np.ones(system.dim)
    lo, hi = P.min(axis=0), P.max(axis=0)
    pad = 0.5 * np.maximum(hi - lo, 1e-3)
    return lo - pad, hi + pad


def check_starts(starts, dim: int) -> np.ndarray:
    """Validate user starts: a length-N state or an (M, N) array of finite numbers."""
    try:
        X, _ = as_batch(starts, dim, "starts")
    except (TypeError, ValueError) as exc:
        if isinstance(exc, InputError):
            raise
        raise InputError(f"starts must be a real (M, {dim}) array ({exc})") from None
    if X.shape[0] == 0:
        raise InputError("starts must hold at least one state")
    if not np.all(np.isfinite(X)):
        raise InputError("starts has non-finite entries (NaN or inf)")
    return np.array(X, dtype=np.float64)


def draw_starts(system, n_starts: int, rng, *, trajectory_fraction: float = 0.5,
                max_steps: int = 100) -> np.ndarray:
    """``n_starts`` states: ``(1 − trajectory_fraction)`` uniform in :func:`state_box`, the rest
    states of trajectories from uniform box states after a random number (0..max_steps) of
    steps (RK4 steps of size ``system.dt`` for flows). Non-finite trajectory states are
    replaced by box states."""
    n_starts = check_count(n_starts, "n_starts", minimum=1)
    lo, hi = state_box(system)
    n = system.dim
    X = lo + (hi - lo) * rng.random((n_starts, n))
    n_traj = int(round(trajectory_fraction * n_starts))
    if n_traj:
        T = rng.integers(0, max_steps + 1, size=n_traj)
        Y = X[:n_traj].copy()
        out = Y.copy()
        with np.errstate(all="ignore"):
            for t in range(1, int(T.max()) + 1):
                Y = system.advance(Y, 1)
                hit = T == t
                out[hit] = Y[hit]
        ok = np.all(np.isfinite(out), axis=1) & (np.abs(out).max(axis=1) < 1e6)
        out[~ok] = X[:n_traj][~ok]
        X[:n_traj] = out
    return X
