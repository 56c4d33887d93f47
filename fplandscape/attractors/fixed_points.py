"""Fixed points of a recurrent network, with their stability (``find_fixed_points``).

Method (continuous systems). A fixed point is a root of the residual F (``F(x) = f(x) − x``
for maps, the vector field for flows). From many starts we

1. minimise ``q(x) = ½ |F(x)|²`` by L-BFGS on the analytic gradient ``∇q = (∂F/∂x)ᵀ F``,
   vectorised over all starts (each start its own curvature pairs and Armijo line search); a
   start stops when ``q ≤ q_tol``, when its line search fails, when q fell by less than
   0.1 % over its last 25 iterations (a plateau), or after ``max_iter``. In the default
   ``precision="mixed"`` this phase runs in float32 where the system offers it (it only has
   to bring the starts near the roots; q of its end points is recomputed in float64);
2. merge the end points with ``q ≤ newton_q`` closer than ``merge_tol`` (they lead to the
   same root), and polish each by Newton's method ``x ← x − (∂F/∂x)⁻¹ F`` (least squares when
   singular) until the residual stops decreasing or the step is below float64 resolution;
   a polished point with ``max_i |F_i| ≤ root_tol`` is a fixed point;
3. for odd systems (an odd φ and no bias: f(−x) = −f(x)) add the negation of every root;
   remove duplicates: two fixed points are the same when ``max_i |x_i − y_i| ≤
   unique_tol·(1 + max_i |x_i|)`` (default ``unique_tol = 1e-7``);
4. search again by deflation (Farrell, Birkisson & Funke, SIAM J. Sci. Comput. 2015): from
   ``deflation_starts`` of the starts (default a quarter of them: first those whose end
   point is not within ``merge_tol`` of a root found, then the others, each group in start
   order), minimise ``q̃(x) = q(x) Π_k (1 + ρ²/|x − r_k|²)²`` over
   the K roots r_k found so far (1 ≤ K ≤ 64), which has poles where q had those zeros, so the
   search cannot converge to a known root (it keeps q's other minima, and may add stationary
   points where ∇q = −q ∇ln M: their end points are simply not roots); ρ is a quarter of the state space's length scale (the
   RMS distance of a uniform point of the system's bounded box from its centre, else the
   RMS spread of the starts). Its end points go through steps 2–3 (with q, not q̃, and the Newton gate
   100 · newton_q: few of them end near a root, and those slowly). Many starts of large
   random networks otherwise crawl into the same few roots (at N = 250 most head for the
   origin); deflation turns them to the others;
5. classify each by the eigenvalues λ of the Jacobian of f (maps: unstable direction when
   |λ| > 1) or of the vector field (flows: Re λ > 0); ``stable`` means no unstable and no
   marginal direction (|λ| within ``1e-9`` of 1, resp. Re λ within 1e-9 of 0).

End points of step 1 that Newton cannot turn into a root but where the gradient of q
vanishes (``|∇q| ≤ 1e-6·(1+|F|)``) with q > q_tol are **slow points** (local minima of q,
places the dynamics crosses slowly): reported separately, never as fixed points.

Labels: ``"stable node"`` / ``"stable focus"`` (the eigenvalue of largest modulus, for flows of
largest real part, is real / complex), ``"unstable node"`` / ``"unstable focus"`` (every
direction unstable), ``"saddle-k"`` (k unstable directions, 0 < k < N), ``"marginal"``.

Binary networks (:class:`~fplandscape.attractors.SignNetwork`). For N ≤ ``exact_max_n`` the
strict fixed points ``s_i (Σ_j J_ij s_j + b_i) > 0`` are listed exactly by the compiled
enumeration of :mod:`fplandscape.sim` (a bias b is folded in as an extra unit clamped at +1),
and ``complete`` is True; beyond, from the end states of synchronous dynamics from the starts.
Their Jacobian is 0 almost everywhere (eigenvalues 0: every fixed point is a stable node).
"""
from __future__ import annotations

import os
import time
from typing import Optional

import numpy as np

from .. import parallel
from ..blas import single_thread
from ..errors import InputError, check_count, check_positive, check_choice
from ..model import as_generator, seed_repr
from .results import FixedPoints
from .starts import check_starts, draw_starts
from .systems import SignNetwork, _Base

__all__ = ["find_fixed_points", "classify_eigenvalues", "newton_polish", "per_input"]

MARGINAL_TOL = 1e-9
STALL_EVERY, STALL_GAIN = 25, 1e-3  # L-BFGS stops a start whose q fell < 0.1 % in 25 steps
PRECISIONS = ("mixed", "double")
CHUNK = 256  # starts per task: fixed, so results never depend on the number of workers


def _check_system(system):
    if not isinstance(system, _Base):
        raise InputError("system must be a SignNetwork, RateMap, LeakyIntegrator or System, "
                         f"got {type(system).__name__}")
    return system


def per_input(system, inputs):
    """``[(u, system.with_input(u)), ...]`` and whether ``inputs`` was a list: None or one
    vector → one entry; a 2-D array or a list of vectors → one entry each."""
    if inputs is None:
        return [(None, system)], False
    if isinstance(inputs, (list, tuple)) and len(inputs) and np.ndim(inputs[0]) >= 1:
        return [(np.asarray(u, float), system.with_input(u)) for u in inputs], True
    arr = np.asarray(inputs, dtype=float) if not isinstance(inputs, np.ndarray) else inputs
    if arr.ndim == 2:
        return [(u, system.with_input(u)) for u in arr], True
    return [(arr, system.with_input(arr))], False


def input_seed(seed, key: int):
    """The seed of the analysis under input number ``key``: the child
    ``SeedSequence(seed, spawn_key=(key,))`` of an integer seed; a SeedSequence or Generator
    is used as given."""
    if isinstance(seed, (int, np.integer)) and not isinstance(seed, bool):
        return np.random.SeedSequence(seed, spawn_key=(key,))
    return seed


def classify_eigenvalues(eig: np.ndarray, kind: str, tol: float = MARGINAL_TOL):
    """Sort the eigenvalues (decreasing |λ| for maps, decreasing Re λ for flows) and return
    ``(sorted, stable, n_unstable, label)`` (labels: module docstring)."""
    eig = np.asarray(eig, dtype=complex)
    if kind == "map":
        key = np.abs(eig)
        eig = eig[np.argsort(-key, kind="stable")]
        grow = np.abs(eig) - 1.0
    else:
        eig = eig[np.lexsort((-eig.imag, -eig.real))]
        grow = eig.real
    n_unstable = int(np.sum(grow > tol))
    marginal = bool(np.any(np.abs(grow) <= tol))
    stable = n_unstable == 0 and not marginal
    n = eig.size
    lead_complex = bool(n and abs(eig[0].imag) > tol * max(1.0, abs(eig[0])))
    if marginal:
        label = "marginal"
    elif n_unstable == 0:
        label = "stable focus" if lead_complex else "stable node"
    elif n_unstable == n:
        label = "unstable focus" if lead_complex else "unstable node"
    else:
        label = f"saddle-{n_unstable}"
    return eig, stable, n_unstable, label


def classify_system_eigenvalues(system, eig):
    """:func:`classify_eigenvalues` of a system's Jacobian eigenvalues, flows' compared in their
    own time unit (``system.time_scale``: τ for a leaky integrator), so that the marginal
    tolerance and hence the labels do not depend on it; the eigenvalues are returned as given
    (sorted)."""
    scale = system.time_scale if system.kind == "flow" else 1.0
    e, stable, n_unstable, label = classify_eigenvalues(scale * np.asarray(eig, dtype=complex),
                                                        system.kind)
    return e / scale, stable, n_unstable, label


def _lbfgs(system, X, *, max_iter, q_tol, step0, memory: int = 8, dtype=np.float64):
    """Vectorised L-BFGS on q = ½|F|² (module docstring, step 1): one search direction per
    start from its own last ``memory`` pairs (two-loop recursion), Armijo backtracking per
    start; the working arrays hold only the starts still running (compacted as they stop).
    All arithmetic in ``dtype`` (the system must compute in it too). Returns (X, q, |∇q|)
    for every start."""
    X = np.array(X, dtype=dtype)
    B, N = X.shape
    tiny = np.finfo(dtype).tiny
    rag = system.residual_and_grad
    with np.errstate(all="ignore"):
        _, q, g = rag(X)
    out_g = np.sqrt(np.einsum("ij,ij->i", g, g))
    idx = np.flatnonzero(np.isfinite(q) & (q > q_tol))
    x, qa, ga = X[idx], q[idx], g[idx]
    # curvature pairs slot-major, (memory, starts, N): each slot is one contiguous block
    S = np.zeros((memory, idx.size, N), dtype=dtype)
    Y = np.zeros((memory, idx.size, N), dtype=dtype)
    rho = np.zeros((memory, idx.size), dtype=dtype)
    gamma = (step0 / np.maximum(np.abs(ga).max(axis=1), tiny)).astype(dtype) if idx.size \
        else np.zeros(0, dtype=dtype)
    n_pairs = 0
    q_mark = qa.copy()  # q at the last stall check (every STALL_EVERY iterations)
    fresh = np.ones(idx.size, dtype=bool)  # no curvature pairs yet (or just forgotten)
    dot = _rowdot
    with np.errstate(all="ignore"):
        for it in range(max_iter):
            if idx.size == 0:
                break
            # two-loop recursion: r = H g from the stored pairs, newest first
            r = ga.copy()
            slots = [(it - 1 - j) % memory for j in range(n_pairs)]
            alpha = {}
            for j in slots:
                a = rho[j] * dot(S[j], r)
                alpha[j] = a
                r -= a[:, None] * Y[j]
            r *= gamma[:, None]
            for j in reversed(slots):
                r += (alpha[j] - rho[j] * dot(Y[j], r))[:, None] * S[j]
            d = np.negative(r, out=r)
            slope = dot(d, ga)
            bad = ~(slope < 0)
            if bad.any():  # not a descent direction: steepest descent
                d[bad] = -gamma[bad, None] * ga[bad]
                slope[bad] = dot(d[bad], ga[bad])
            # Armijo backtracking: the full step for every start first, then the rejected ones
            xn = x + d
            _, qn, gn = rag(xn)
            accepted = np.isfinite(qn) & (qn <= qa + 1e-4 * slope)
            todo = np.flatnonzero(~accepted)
            if todo.size:
                xn[todo], qn[todo], gn[todo] = x[todo], qa[todo], ga[todo]
                t = np.ones(todo.size, dtype=dtype)
                for _ in range(29):
                    t *= 0.25
                    xt = x[todo] + t[:, None] * d[todo]
                    _, qt, gt = rag(xt)
                    ok = np.isfinite(qt) & (qt <= qa[todo] + 1e-4 * t * slope[todo])
                    hit = todo[ok]
                    xn[hit], qn[hit], gn[hit] = xt[ok], qt[ok], gt[ok]
                    accepted[hit] = True
                    todo, t = todo[~ok], t[~ok]
                    if todo.size == 0:
                        break
            slot = it % memory
            s_new = np.subtract(xn, x, out=S[slot])
            y_new = np.subtract(gn, ga, out=Y[slot])
            sy = dot(s_new, y_new)
            yy = dot(y_new, y_new)
            good = accepted & (sy > tiny)
            if not good.all():
                s_new[~good] = 0.0
                y_new[~good] = 0.0
            rho[slot] = np.where(good, 1.0 / np.where(good, sy, 1.0), 0.0)
            gamma = np.where(good, sy / np.where(yy > 0, yy, 1.0), gamma)
            n_pairs = min(n_pairs + 1, memory)
            x, qa, ga = xn, qn, gn
            # a failed line search first forgets the curvature pairs (the next step is a
            # steepest-descent step); failing again from there ends the start
            lost = ~accepted & ~fresh
            if lost.any():
                rho[:, lost] = 0.0
                gamma[lost] = step0 / np.maximum(np.abs(ga[lost]).max(axis=1), tiny)
            done = (~accepted & fresh) | ~np.isfinite(qn) | (qn <= q_tol)
            fresh = lost
            if (it + 1) % STALL_EVERY == 0:
                # a plateau (a slow point, or a valley too flat to finish): q fell by less
                # than 0.1 % over the last STALL_EVERY iterations
                done |= qn > (1.0 - STALL_GAIN) * q_mark
                q_mark = qn.copy()
            if done.any():
                fin = idx[done]
                X[fin], q[fin] = x[done], qa[done]
                out_g[fin] = np.sqrt(dot(ga[done], ga[done]))
                keep = ~done
                idx, x, qa, ga = idx[keep], x[keep], qa[keep], ga[keep]
                S, Y, rho, gamma = S[:, keep], Y[:, keep], rho[:, keep], gamma[keep]
                q_mark, fresh = q_mark[keep], fresh[keep]
    if idx.size:
        X[idx], q[idx] = x, qa
        out_g[idx] = np.sqrt(dot(ga, ga))
    return X, q, out_g


def _rowdot(A, B):
    """Row-wise dot products of two (M, N) arrays."""
    return np.einsum("ij,ij->i", A, B)


def _newton_step(JF, F):
    """One Newton step per point, ``(∂F/∂x)⁻¹ F``: one batched LAPACK solve (LU with partial
    pivoting) for all points; a point whose matrix is singular, or whose step is not finite,
    gets the least-squares step instead."""
    with np.errstate(all="ignore"):
        try:
            dx = np.linalg.solve(JF, F[..., None])[..., 0]
            bad = ~np.all(np.isfinite(dx), axis=1)
        except np.linalg.LinAlgError:  # some matrix exactly singular: one by one
            dx = np.empty_like(F)
            bad = np.zeros(F.shape[0], dtype=bool)
            for i in range(F.shape[0]):
                try:
                    dx[i] = np.linalg.solve(JF[i], F[i])
                    bad[i] = not np.all(np.isfinite(dx[i]))
                except np.linalg.LinAlgError:
                    bad[i] = True
        for i in np.flatnonzero(bad):
            dx[i] = np.linalg.lstsq(JF[i], F[i], rcond=None)[0]
    return dx


NEWTON_CHUNK = 64  # points per batched Newton solve (bounds the (B, N, N) Jacobian stack)


def newton_polish(system, X, *, max_iter: int = 50):
    """Newton's method ``x ← x − (∂F/∂x)⁻¹ F(x)`` from each row of X (module docstring,
    step 2). A point stops when its max-norm residual stops decreasing, or when its step is
    below the resolution of float64 (``max|Δx| ≤ 4ε·(1 + max|x|)``: further steps cannot move it,
    and near a root at 0 they would only walk down through the subnormal numbers). Returns
    ``(X, max_i |F_i|)``."""
    X = np.array(X, dtype=np.float64)
    if X.shape[0] == 0:
        return X, np.zeros(0)
    eps = np.finfo(np.float64).eps
    with np.errstate(all="ignore"):
        F = system.residual(X)
        res = np.abs(F).max(axis=1)
        active = np.flatnonzero(np.isfinite(res) & (res > 0))
        for _ in range(max_iter):
            if active.size == 0:
                break
            dx = np.concatenate([
                _newton_step(system.residual_jacobian(X[a]), F[a])
                for a in np.array_split(active, -(-active.size // NEWTON_CHUNK))])
            Xn = X[active] - dx
            Fn = system.residual(Xn)
            rn = np.abs(Fn).max(axis=1)
            better = np.isfinite(rn) & (rn < res[active])
            idx = active[better]
            X[idx], F[idx], res[idx] = Xn[better], Fn[better], rn[better]
            tiny = np.abs(dx[better]).max(axis=1) <= 4.0 * eps * (1.0 + np.abs(Xn[better]).max(axis=1))
            active = idx[(res[idx] > 0) & ~tiny]
    return X, res


def _merge(X, tol, order=None):
    """Greedy de-duplication: indices of representatives, visiting rows in ``order``; a row
    within ``tol·(1 + max|x|)`` (max-norm) of an earlier representative is dropped."""
    if order is None:
        order = np.arange(X.shape[0])
    reps: list = []
    for i in order:
        x = X[i]
        if reps:
            d = np.abs(X[reps] - x).max(axis=1)
            if np.any(d <= tol * (1.0 + np.abs(x).max())):
                continue
        reps.append(i)
    return np.array(reps, dtype=np.intp)


def _optimise_chunk(system, X, max_iter, q_tol, step0, precision="mixed"):
    """L-BFGS from the starts X; in ``"mixed"`` precision the iterations run on the system's
    float32 copy when it has one (:meth:`_Base.single_precision`) and q and |∇q| of the end
    points are then re-evaluated in float64 (the Newton polish and every decision after it
    are float64)."""
    low = system.single_precision() if precision == "mixed" else None
    if low is None:
        return _lbfgs(system, np.array(X, dtype=np.float64), max_iter=max_iter, q_tol=q_tol,
                      step0=step0)
    X32, _, _ = _lbfgs(low, np.asarray(X, dtype=np.float32), max_iter=max_iter,
                       q_tol=q_tol, step0=step0, dtype=np.float32)
    X = X32.astype(np.float64)
    with np.errstate(all="ignore"):
        _, q, g = system.residual_and_grad(X)
    return X, q, np.sqrt(_rowdot(g, g))


def _sign_fixed_points(net: SignNetwork, starts, n_starts, rng, exact_max_n, workers):
    n = net.dim
    if n <= exact_max_n and starts is None:
        from ..sim import enumerate_fixed_points

        J, drop_extra = net.J, False
        if np.any(net.b != 0):
            # fold the bias into an extra unit clamped at +1 (its self-coupling exceeds the
            # sum of everything else, so both of its signs are stable; the states with it at
            # −1 are the negations of those at +1, and are dropped)
            big = 2.0 * (np.abs(net.J).sum() + np.abs(net.b).sum()) + 1.0
            J = np.zeros((n + 1, n + 1))
            J[:n, :n] = net.J
            J[:n, n] = net.b
            J[n, n] = big
            drop_extra = True
        res = enumerate_fixed_points(J, return_states=True, max_states=10**6, workers=workers)
        from ..model import unpack_states

        S = unpack_states(res.states, J.shape[0]).astype(np.float64)
        if drop_extra:
            S = S[S[:, n] > 0][:, :n]
        complete = not res.truncated
        return S, complete
    X = check_starts(starts, n) if starts is not None else \
        np.where(rng.random((n_starts, n)) < 0.5, -1.0, 1.0)
    X = np.where(X >= 0, 1.0, -1.0)
    sync = SignNetwork(net.J, net.b, update="sync")
    for _ in range(10 * n + 100):
        Y = sync.rhs(X)
        if np.array_equal(Y, X):
            break
        X = Y
    ok = net.is_fixed_point(X)
    S = np.unique(X[ok], axis=0)
    return S, False


def find_fixed_points(system, n_starts: int = 512, starts=None, inputs=None, seed=0, *,
                      certified: bool = False, box=None, max_iter: int = 300,
                      q_tol: float = 1e-12, root_tol: float = 1e-10, merge_tol: float = 1e-3,
                      unique_tol: float = 1e-7, newton_q: float = 1e-6, step0: float = 0.1,
                      exact_max_n: int = 32, precision: str = "mixed",
                      deflation_starts: Optional[int] = None,
                      workers: Optional[int] = 1, scheduler=None, progress: Optional[bool] = False,
                      checkpoint=None, resume: bool = False):
    """Fixed points of ``system`` with their Jacobian eigenvalues and stability.

    Parameters
    ----------
    system : a :class:`SignNetwork`, :class:`RateMap`, :class:`LeakyIntegrator` or
        :class:`System`.
    n_starts : number of starts drawn when ``starts`` is None: half uniform in the state box,
        half states of short trajectories (:func:`fplandscape.attractors.starts.draw_starts`).
    starts : optional (M, N) array of starts (replaces the drawn ones).
    inputs : None, one input vector, or a list / 2-D array of them: the analysis runs on the
        autonomous system under each frozen input and returns one :class:`FixedPoints` per
        input (a list when a list was given).
    seed : seed of the drawn starts (same seed → same answer, whatever ``workers``).
    certified : prove completeness in the box (interval Krawczyk test,
        :mod:`fplandscape.attractors.certify`; small N only). The fixed points are then those
        of the certificate, ``complete`` says whether every sub-box was decided.
    box : ``(lo, hi)`` for the certified search when the system has no bounded box of its own.
    max_iter, q_tol, step0 : L-BFGS iterations, stopping value of q, size (max-norm) of
        the first step.
    newton_q : end points with q ≤ newton_q are merged and polished by Newton's method.
    root_tol : a polished point is a fixed point when ``max_i |F_i| ≤ root_tol``.
    merge_tol, unique_tol : relative max-norm distances for merging optimiser end points
        before polishing and for de-duplicating polished roots (module docstring).
    exact_max_n : sign networks up to this N are enumerated exactly.
    deflation_starts : starts of the second, deflated search (module docstring, step 4;
        default a quarter of the starts, 0 turns it off).
    precision : ``"mixed"`` (default): the L-BFGS phase runs in float32 when the system offers
        it (:class:`RateMap` with tanh, hard_tanh or logistic φ, and :class:`LeakyIntegrator`
        with one of them whose fixed points lie within ±100; unbounded states would put
        float32's resolution above the Newton gate), about twice as fast; its end points are re-evaluated, merged,
        polished and classified in float64, so the fixed points and their residuals are
        float64 results either way. ``"double"``: float64 throughout.
    workers, scheduler, progress, checkpoint, resume : the starts are split into tasks of 256
        run by :func:`fplandscape.parallel.run_tasks` (threads locally, or a Dask cluster).

    Returns
    -------
    :class:`FixedPoints` (or a list of them, one per input). Fixed points are sorted by
    number of unstable directions, then by norm.
    """
    _check_system(system)
    n_starts = check_count(n_starts, "n_starts", minimum=1)
    max_iter = check_count(max_iter, "max_iter")
    exact_max_n = check_count(exact_max_n, "exact_max_n")
    for name, value in (("q_tol", q_tol), ("root_tol", root_tol), ("merge_tol", merge_tol),
                        ("unique_tol", unique_tol), ("newton_q", newton_q), ("step0", step0)):
        check_positive(value, name)
    check_choice(precision, "precision", PRECISIONS)
    if starts is not None:
        starts = check_starts(starts, system.dim)
    n_total = n_starts if starts is None else int(starts.shape[0])
    deflation_starts = -(-n_total // 4) if deflation_starts is None else \
        check_count(deflation_starts, "deflation_starts")
    entries, many = per_input(system, inputs)
    params = {"n_starts": n_starts if starts is None else int(starts.shape[0]),
              "seed": seed_repr(seed), "certified": bool(certified), "max_iter": max_iter,
              "q_tol": q_tol, "root_tol": root_tol, "unique_tol": unique_tol,
              "precision": precision}
    out = []
    for k, (u, sys_u) in enumerate(entries):
        rng = as_generator(input_seed(seed, k))
        t0 = time.perf_counter()
        if isinstance(sys_u, SignNetwork):
            S, complete = _sign_fixed_points(sys_u, starts, n_starts, rng, exact_max_n, workers)
            fp = _result(sys_u, S, np.zeros(len(S)), complete, u, params)
            fp.eigenvalues = np.zeros((len(S), sys_u.dim), dtype=complex)
        else:
            fp = _continuous(sys_u, starts, n_starts, rng, u, params, certified=certified,
                             box=box, max_iter=max_iter, q_tol=q_tol, root_tol=root_tol,
                             merge_tol=merge_tol, unique_tol=unique_tol, step0=step0, workers=workers,
                             scheduler=scheduler, progress=progress, checkpoint=checkpoint,
                             resume=resume, task_key=k, newton_q=newton_q,
                             precision=precision, deflation_starts=deflation_starts)
        fp.seconds = time.perf_counter() - t0
        out.append(fp)
    return out if many else out[0]


def _result(system, S, residuals, complete, u, params, slow=None, slow_q=None, cert=None):
    n = system.dim
    if len(S):
        J = system.jacobian(S)
        eigs, stable, nun, labels = [], [], [], []
        for Ji in J:
            e, st, k, lab = classify_system_eigenvalues(system, np.linalg.eigvals(Ji))
            eigs.append(e)
            stable.append(st)
            nun.append(k)
            labels.append(lab)
        order = np.lexsort((np.linalg.norm(S, axis=1), np.asarray(nun)))
        S, residuals = S[order], np.asarray(residuals)[order]
        eigs = np.array(eigs)[order]
        stable = np.array(stable, dtype=bool)[order]
        nun = np.array(nun, dtype=np.int64)[order]
        labels = [labels[i] for i in order]
    else:
        S = np.zeros((0, n))
        eigs = np.zeros((0, n), dtype=complex)
        stable = np.zeros(0, dtype=bool)
        nun = np.zeros(0, dtype=np.int64)
        labels = []
        residuals = np.zeros(0)
    return FixedPoints(states=S, residuals=np.asarray(residuals, dtype=float), eigenvalues=eigs,
                       stable=stable, n_unstable=nun, labels=labels, kind=system.kind,
                       complete=bool(complete),
                       slow_states=np.zeros((0, n)) if slow is None else slow,
                       slow_q=np.zeros(0) if slow_q is None else slow_q, input=u,
                       system=system.describe(), params=dict(params), certificate=cert)


class _Deflated:
    """The deflated objective of a second search (Farrell, Birkisson & Funke 2015): the residual
    times the deflation operator ``Π_k (1 + ρ²/|x − r_k|²)`` of the known roots r_k, i.e.
    ``q̃(x) = q(x) · M(x)``, ``M = Π_k (1 + ρ²/|x − r_k|²)²``. Near a known root F is O(d), so
    the deflated residual is O(1/d): a pole where q had a zero, so a minimiser of q̃ cannot
    converge to a known root; far from all of them (d ≫ ρ) q̃ ≈ q.
    ``∇q̃ = M (∇q + q ∇ln M)``, ``∇ln M = −4 Σ_k w_k/((1 + w_k) d_k²) · (x − r_k)``,
    ``w_k = ρ²/d_k²``. Only ``residual_and_grad`` (what the L-BFGS phase uses) is deflated; the
    returned F is the system's own."""

    def __init__(self, system, roots, radius: float):
        self.system, self.roots = system, roots
        self.radius = float(radius)
        self.dim = system.dim
        self._r2 = _rowdot(roots, roots)

    def single_precision(self):
        low = self.system.single_precision()
        if low is None:
            return None
        return _Deflated(low, self.roots, self.radius)

    def residual_and_grad(self, X):
        F, q, g = self.system.residual_and_grad(X)
        R = self.roots
        # the factor in float64 whatever the system computes in (it is cheap: K ≪ N), the
        # squared distances to every root by two products (B × K)
        X64 = np.asarray(X, dtype=np.float64)
        d2 = _rowdot(X64, X64)[:, None] + self._r2[None, :] - 2.0 * (X64 @ R.T)
        d2 = np.maximum(d2, np.finfo(np.float64).tiny)
        w = self.radius * self.radius / d2
        M = np.exp(2.0 * np.sum(np.log1p(w), axis=1))
        c = 4.0 * w / ((1.0 + w) * d2)  # ∇ln M = −Σ_k c_k (x − r_k)
        glog = c @ R - np.sum(c, axis=1)[:, None] * X64
        M, glog = M.astype(X.dtype), glog.astype(X.dtype)
        return F, M * q, M[:, None] * (g + q[:, None] * glog)


DEFLATION_MAX_ROOTS = 64  # more known roots than this: no deflated search (cost ∝ roots)
DEFLATION_RADIUS = 0.25   # ρ relative to the length scale of the state space (_spread)
DEFLATION_CHUNK = 64      # starts per task of the (smaller) deflated search


def _spread(system, X0) -> float:
    """Length scale of the state space: the RMS distance from the centre of a uniform point of
    the system's box, ``√(Σ_i (hi_i − lo_i)²/12)``, when the box is bounded; otherwise the RMS
    spread of the starts about their mean."""
    box = system.box()
    if box is not None:
        lo, hi = (np.asarray(b, dtype=float) for b in box)
        if np.all(np.isfinite(lo)) and np.all(np.isfinite(hi)):
            return float(np.sqrt(np.sum((hi - lo) ** 2) / 12.0)) or 1.0
    spread = float(np.sqrt(np.mean(np.sum((X0 - X0.mean(axis=0)) ** 2, axis=1))))
    return spread if spread > 0 else 1.0


def _roots_of(system, X, q, *, newton_q, merge_tol, root_tol, unique_tol):
    """Fixed points from optimiser end points (module docstring, steps 2–3): the end points
    with q ≤ newton_q are merged, polished by Newton and kept when they converge; for odd
    systems the negations are added; duplicates removed. Returns (roots, residuals, indices
    of the end points whose representative became a root)."""
    near = np.flatnonzero(q <= newton_q)
    reps = near[_merge(X[near], merge_tol, np.argsort(q[near], kind="stable"))]
    Xp, r = newton_polish(system, X[reps])
    is_root = r <= root_tol
    roots, rres = Xp[is_root], r[is_root]
    if system.odd and roots.shape[0]:
        # f(−x) = −f(x): the negation of every root is a root (exactly, rounding is symmetric)
        neg, nres = newton_polish(system, -roots)
        ok = nres <= root_tol
        roots, rres = np.concatenate([roots, neg[ok]]), np.concatenate([rres, nres[ok]])
    keep = _merge(roots, unique_tol, np.argsort(rres, kind="stable"))
    return roots[keep], rres[keep], reps[is_root]


def _near_roots(X, roots, tol):
    """Indices of the rows of X within ``tol·(1 + max|x|)`` (max-norm) of one of ``roots``."""
    if X.shape[0] == 0 or roots.shape[0] == 0:
        return np.zeros(0, dtype=np.intp)
    near = np.zeros(X.shape[0], dtype=bool)
    scale = tol * (1.0 + np.abs(X).max(axis=1))
    for r in roots:
        near |= np.abs(X - r).max(axis=1) <= scale
    return np.flatnonzero(near)


def _end_points(res):
    X = np.concatenate([r[0] for r in res])
    q = np.concatenate([r[1] for r in res])
    gnorm = np.concatenate([r[2] for r in res])
    return X, q, gnorm, np.isfinite(q) & np.all(np.isfinite(X), axis=1)


def _continuous(system, starts, n_starts, rng, u, params, *, certified, box, max_iter, q_tol,
                root_tol, merge_tol, unique_tol, step0, workers, scheduler, progress, checkpoint,
                resume, task_key, newton_q, precision, deflation_starts):
    from .tasks import run_start_tasks

    X0 = starts if starts is not None else draw_starts(system, n_starts, rng)
    tasks = [(system, X0[i:i + CHUNK], max_iter, q_tol, step0, precision)
             for i in range(0, X0.shape[0], CHUNK)]
    run = dict(system=system, workers=workers, scheduler=scheduler, progress=progress,
               resume=resume)
    res = run_start_tasks(_optimise_chunk, tasks, kind="attractors-fixed-points", starts=X0,
                          params={"input": task_key, **params}, checkpoint=checkpoint,
                          desc="fixed-point starts", **run)
    X, q, gnorm, finite = _end_points(res)
    start_of = np.flatnonzero(finite)  # end point → its start
    X, q, gnorm = X[finite], q[finite], gnorm[finite]
    tol = dict(newton_q=newton_q, merge_tol=merge_tol, root_tol=root_tol, unique_tol=unique_tol)
    with single_thread():  # small dense solves: BLAS threads only add contention
        roots, rres, used = _roots_of(system, X, q, **tol)
    n_first = roots.shape[0]
    # second search, from the starts that found no root first, on the objective deflated at
    # the roots found so far (so the starts cannot fall back onto them)
    rooted = np.zeros(X0.shape[0], dtype=bool)
    rooted[start_of[_near_roots(X, roots, merge_tol)]] = True  # ended at (or by) a root
    picks = np.concatenate([np.flatnonzero(~rooted), np.flatnonzero(rooted)])[:deflation_starts]
    params = {**params, "deflation_starts": 0, "deflation_new_roots": 0}
    if picks.size and 0 < n_first <= DEFLATION_MAX_ROOTS:
        defl = _Deflated(system, roots, DEFLATION_RADIUS * _spread(system, X0))
        tasks = [(defl, X0[picks[i:i + DEFLATION_CHUNK]], max_iter, q_tol, step0, precision)
                 for i in range(0, picks.size, DEFLATION_CHUNK)]
        ck = checkpoint if checkpoint in (None, False, True) else \
            os.path.join(os.fspath(checkpoint), "deflation")
        res = run_start_tasks(
            _optimise_chunk, tasks, kind="attractors-fixed-points-deflation",
            starts=X0[picks], checkpoint=ck, desc="deflated starts",
            params={"input": task_key, **params, "roots": parallel.array_digest(roots)}, **run)
        X2, _, _, ok2 = _end_points(res)
        X2 = X2[ok2]
        with np.errstate(all="ignore"):
            _, q2, _ = system.residual_and_grad(X2)
        with single_thread():  # few end points get near a root: a wider Newton gate
            new, nres, _ = _roots_of(system, X2, q2, **{**tol, "newton_q": 100.0 * newton_q})
        both = np.concatenate([roots, new])
        allres = np.concatenate([rres, nres])
        keep = _merge(both, unique_tol, np.arange(both.shape[0]))  # the first search's first
        roots, rres = both[keep], allres[keep]
        params.update(deflation_starts=int(picks.size),
                      deflation_new_roots=int(roots.shape[0] - n_first))
    with single_thread():
        return _polish_and_classify(system, X, q, gnorm, finite, used, roots, rres, u, params,
                                    certified=certified, box=box, q_tol=q_tol,
                                    merge_tol=merge_tol, newton_q=newton_q)


def _polish_and_classify(system, X, q, gnorm, finite, used, roots, rres, u, params, *,
                         certified, box, q_tol, merge_tol, newton_q):
    # slow points: not a representative that became a root, and not next to a root either (a
    # float32 end point stalls at its noise floor near a root, where |∇q| is tiny too)
    far = np.setdiff1d(np.arange(q.size), np.union1d(used, _near_roots(X, roots, merge_tol)))
    Fc = np.sqrt(2.0 * np.maximum(q[far], 0.0))
    slow_mask = (gnorm[far] <= 1e-6 * (1.0 + Fc)) & (q[far] > q_tol)
    slow = X[far][slow_mask]
    slow_q = q[far][slow_mask]
    params = {**params, "unconverged_starts": int(np.sum(q[far][~slow_mask] > newton_q)),
              "non_finite_starts": int(np.sum(~finite))}
    if slow.shape[0]:
        ks = _merge(slow, merge_tol, np.argsort(slow_q, kind="stable"))
        slow, slow_q = slow[ks], slow_q[ks]
    cert = None
    complete = False
    if certified:
        from .certify import certify_fixed_points

        c = certify_fixed_points(system, box)
        cert = c.to_dict()
        complete = bool(c.complete)
        # the certificate is authoritative: its roots, each represented by the multistart root
        # inside its enclosure (up to the rounding of the float root, 1e-12 relative) if any
        boxes = c.roots
        pad = 1e-12 * (1.0 + np.abs(boxes).max(axis=2, keepdims=True)) if len(boxes) else 0.0
        lo_b, hi_b = (boxes[:, :, 0] - pad[..., 0], boxes[:, :, 1] + pad[..., 0]) \
            if len(boxes) else (np.zeros((0, system.dim)), np.zeros((0, system.dim)))
        inside = np.all((roots[:, None, :] >= lo_b[None]) & (roots[:, None, :] <= hi_b[None]),
                        axis=2)  # (multistart root, certified box)
        found = [roots[np.flatnonzero(inside[:, j])[0]] if inside[:, j].any() else mid
                 for j, mid in enumerate(c.midpoints)]
        cert["multistart_roots"] = int(roots.shape[0])
        cert["multistart_roots_outside_certified_boxes"] = int(np.sum(~inside.any(axis=1)))
        roots = np.array(found).reshape(-1, system.dim)
        rres = np.abs(system.residual(roots)).max(axis=1) if roots.shape[0] else np.zeros(0)
    return _result(system, roots, rres, complete, u, params, slow, slow_q, cert)
