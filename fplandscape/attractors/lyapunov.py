"""Lyapunov exponents by the QR (Benettin) method, batched over trajectories.

Maps: with Q_0 an N × k orthonormal frame, ``V_t = J(x_t) Q_t``, ``V_t = Q_{t+1} R_t``
(thin QR, R with positive diagonal), ``x_{t+1} = f(x_t)``; the top-k exponents per step are
``λ_i = (1/T) Σ_t ln R_t[i, i]``. Flows: the state and the frame are integrated together,
``dx/dt = F(x)``, ``dQ/dt = J(x) Q``, by RK4 at step ``dt`` and re-orthonormalised after
every step, ``λ_i = (1/(T dt)) Σ_t ln R_t[i, i]`` per unit time.

Errors. The T steps after the transient are cut into ``blocks`` consecutive blocks; the
standard error of each exponent is the standard deviation of its block means over √blocks
(the blocks are long compared with the correlation time of ln R, so they are nearly
independent). A trajectory whose state becomes non-finite or exceeds ``diverge_at`` in
max-norm is *divergent*: its exponents are NaN and it is flagged.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

import numpy as np

from .._version import __version__
from ..errors import InputError, check_count, check_positive
from ..model import as_generator, seed_repr
from .systems import SignNetwork, as_batch

__all__ = ["lyapunov_spectrum", "LyapunovSpectrum", "qr_positive", "lyapunov_batch",
           "default_steps"]

DIVERGE_AT = 1e8


@dataclass
class LyapunovSpectrum:
    """Top-k Lyapunov exponents (largest first) of one or more trajectories.

    ``exponents`` and ``se`` have shape (k,) for one start, (B, k) for a batch; ``state`` the
    final state(s); ``divergent`` flags trajectories that blew up (their exponents are NaN).
    Units: per step for maps, per unit time for flows (``kind``)."""

    exponents: np.ndarray
    se: np.ndarray
    state: np.ndarray
    divergent: np.ndarray
    kind: str
    steps: int
    transient: int
    dt: float
    params: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {"version": __version__, "kind": self.kind, "exponents": self.exponents.tolist(),
                "se": self.se.tolist(), "divergent": np.asarray(self.divergent).tolist(),
                "steps": self.steps, "transient": self.transient, "dt": self.dt,
                "params": self.params}

    def as_rows(self) -> list:
        ex = np.atleast_2d(self.exponents)
        se = np.atleast_2d(self.se)
        return [{"start": b, "index": i, "exponent": float(ex[b, i]), "se": float(se[b, i])}
                for b in range(ex.shape[0]) for i in range(ex.shape[1])]


def qr_positive(V):
    """Batched thin QR by modified Gram–Schmidt, applied twice for orthogonality to rounding:
    V (B, N, k) → Q (B, N, k) orthonormal columns and the diagonal of R (B, k), ≥ 0."""
    Q = np.array(V, dtype=np.float64)
    B, N, k = Q.shape
    diag = np.empty((B, k))
    for j in range(k):
        v = Q[:, :, j]
        for _ in range(2):
            for i in range(j):
                r = np.einsum("bn,bn->b", Q[:, :, i], v)
                v -= r[:, None] * Q[:, :, i]
        nrm = np.sqrt(np.einsum("bn,bn->b", v, v))
        diag[:, j] = nrm
        with np.errstate(invalid="ignore", divide="ignore"):
            Q[:, :, j] = v / nrm[:, None]
    return Q, diag


def default_steps(system) -> tuple[int, int]:
    """(transient, steps) defaults: 1000 and 5000 steps for maps; for flows 2000 and 20 000
    RK4 steps of ``system.dt`` (100 τ and 1000 τ for the leaky integrator's dt = τ/20)."""
    return (1000, 5000) if system.kind == "map" else (2000, 20000)


def _advance_frame(system, X, Q, h):
    """One step of state and tangent frame: the map, or RK4 on (x, Q) for flows."""
    if system.kind == "map":
        return system.rhs(X), system.jvp(X, Q)
    k1x = system.rhs(X)
    k1q = system.jvp(X, Q)
    X2 = X + 0.5 * h * k1x
    k2x = system.rhs(X2)
    k2q = system.jvp(X2, Q + 0.5 * h * k1q)
    X3 = X + 0.5 * h * k2x
    k3x = system.rhs(X3)
    k3q = system.jvp(X3, Q + 0.5 * h * k2q)
    X4 = X + h * k3x
    k4x = system.rhs(X4)
    k4q = system.jvp(X4, Q + h * k3q)
    return (X + (h / 6.0) * (k1x + 2 * k2x + 2 * k3x + k4x),
            Q + (h / 6.0) * (k1q + 2 * k2q + 2 * k3q + k4q))


def lyapunov_batch(system, X, k: int, steps: int, *, dt: Optional[float] = None,
                   blocks: int = 10, rng=None, record_every: int = 0, diverge_at=DIVERGE_AT,
                   stop=None):
    """Exponents of every row of X (no transient: X should already be on the attractor).

    ``rng``: the NumPy Generator that draws the initial orthonormal frame (advanced by this
    call); None draws from fresh OS entropy. An int or SeedSequence is refused (a seed goes
    through :func:`lyapunov_spectrum`'s ``seed``).

    Returns ``(exponents (B,k), se (B,k), X_end, divergent (B,), samples)``; ``samples`` is a
    (B, m, N) array of states every ``record_every`` steps (m = steps // record_every), or None.
    """
    if rng is not None and not isinstance(rng, np.random.Generator):
        raise InputError(f"rng must be a numpy Generator or None, got {rng!r} "
                         "(pass a seed as np.random.default_rng(seed))")
    X = np.array(X, dtype=np.float64)
    B, N = X.shape
    h = (system.dt if dt is None else dt) if system.kind == "flow" else 1.0
    rng = as_generator(rng)
    Q, _ = qr_positive(rng.standard_normal((B, N, k)))
    blocks = max(1, min(blocks, steps))
    edges = np.linspace(0, steps, blocks + 1).astype(int)
    sums = np.zeros((blocks, B, k))
    divergent = np.zeros(B, dtype=bool)
    samples = None
    if record_every:
        samples = np.zeros((B, steps // record_every, N))
    b = 0
    with np.errstate(all="ignore"):
        for t in range(steps):
            X, V = _advance_frame(system, X, Q, h)
            Q, d = qr_positive(V)
            bad = ~np.all(np.isfinite(X), axis=1) | (np.abs(X).max(axis=1) > diverge_at) | \
                ~np.all(np.isfinite(d), axis=1)
            if bad.any():
                divergent |= bad
                X[bad] = 0.0
                Q[bad] = np.eye(N, k)[None]
                d[bad] = 1.0
            while t >= edges[b + 1]:
                b += 1
            sums[b] += np.log(d)
            if record_every and (t + 1) % record_every == 0:
                samples[:, (t + 1) // record_every - 1] = X
            if stop is not None and t % 64 == 0:
                stop()
    lengths = np.diff(edges).astype(float) * h
    means = sums / lengths[:, None, None]
    exponents = sums.sum(axis=0) / (steps * h)
    se = means.std(axis=0, ddof=1) / np.sqrt(blocks) if blocks > 1 else np.full((B, k), np.nan)
    exponents[divergent] = np.nan
    se[divergent] = np.nan
    return exponents, se, X, divergent, samples


def lyapunov_spectrum(system, x0, k: Optional[int] = None, *, steps: Optional[int] = None,
                      transient: Optional[int] = None, dt: Optional[float] = None,
                      blocks: int = 10, seed=0, inputs=None):
    """Top-k Lyapunov exponents along the trajectory from ``x0`` (module docstring).

    Parameters
    ----------
    system : a :class:`RateMap`, :class:`LeakyIntegrator` or :class:`System` (binary networks
        have no tangent dynamics: their map is locally constant).
    x0 : one start (length N) or a batch (B, N).
    k : number of exponents (default min(N, 3)).
    steps, transient : measured and discarded steps (default :func:`default_steps`).
    dt : RK4 step of a flow (default ``system.dt``).
    blocks : number of blocks for the standard errors.
    seed : seed of the random initial frame.
    inputs : None or one input vector (a frozen input; see :func:`find_fixed_points`).
    """
    if isinstance(system, SignNetwork):
        raise InputError("Lyapunov exponents are not defined for a SignNetwork (its map is "
                         "locally constant: every perturbation below the field margin dies at "
                         "once)")
    from .fixed_points import _check_system, per_input

    _check_system(system)
    entries, many = per_input(system, inputs)
    if many:
        return [lyapunov_spectrum(s, x0, k, steps=steps, transient=transient, dt=dt,
                                  blocks=blocks, seed=seed) for _, s in entries]
    system = entries[0][1]
    X, single = as_batch(x0, system.dim, "x0")
    if not np.all(np.isfinite(X)):
        raise InputError("x0 has non-finite entries (NaN or inf)")
    k = min(system.dim, 3) if k is None else check_count(k, "k", minimum=1)
    if k > system.dim:
        raise InputError(f"k must be at most the dimension N = {system.dim}, got {k}")
    t_def, s_def = default_steps(system)
    transient = t_def if transient is None else check_count(transient, "transient")
    steps = s_def if steps is None else check_count(steps, "steps", minimum=2)
    blocks = check_count(blocks, "blocks", minimum=1)
    if dt is not None:
        check_positive(dt, "dt")
    with np.errstate(all="ignore"):
        X = system.advance(X, transient, dt)
    ex, se, Xe, div, _ = lyapunov_batch(system, X, k, steps, dt=dt, blocks=blocks,
                                        rng=as_generator(seed))
    h = (system.dt if dt is None else dt) if system.kind == "flow" else 1.0
    if single:
        ex, se, Xe, div = ex[0], se[0], Xe[0], div[0]
    return LyapunovSpectrum(exponents=ex, se=se, state=Xe, divergent=div, kind=system.kind,
                            steps=steps, transient=transient, dt=h,
                            params={"seed": seed_repr(seed), "k": k, "blocks": blocks,
                                    "system": system.describe()})
