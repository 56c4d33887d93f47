"""Censuses of binary (sign) networks: every attractor of ``s ← sign(J s + b)`` and its basin.

The network (:class:`~fplandscape.attractors.systems.SignNetwork`) is a map ``f`` of the finite
set {±1}^N onto itself: ``update="sync"`` sets ``s_i ← sign(h_i)``, ``h = J s + b``, for all i
at once; ``update="async"`` is one sweep in ``net.order``, unit i seeing the latest states
(exactly :meth:`SignNetwork.rhs`); ``sign(0) = +1`` (:mod:`fplandscape.model`). Every orbit of a
map of a finite set ends on a cycle, so the attractors are its cycles: period 1 (kind
``"fixed_point"``) or period p ≥ 2 (kind ``"periodic"``). The map is locally constant, so every
attractor is superstable: Jacobian 0, multipliers 0, Lyapunov exponent −∞.

Packed codes (as :func:`fplandscape.model.pack_states`): bit i of the code is set iff
s_i = +1. For N > 64 a state is a row of ⌈N/64⌉ uint64 words (word k holds units 64k..64k+63)
and codes are compared as the integer Σ_k word_k 2^{64k}.

Exact census (N ≤ 24; default for N ≤ 20). The successor ``succ[c]`` of every code
c ∈ {0, …, 2^N − 1} is computed in chunks (``net.rhs`` on a chunk of states, packed back).
The functional graph is then analysed by pointer doubling, with no loop over states:

* ``g_k = succ^(2^k)`` by ``g_{k+1} = g_k[g_k]``, and the running minimum
  ``m_k(c) = min{c, f(c), …, f^(2^k − 1)(c)}`` by ``m_{k+1}(c) = min(m_k(c), m_k(g_k(c)))``.
  A tail has at most 2^N − p states and a period is at most 2^N, so after K = N doublings
  ``g_N(c)`` lies on the cycle that c falls into and ``m_N`` of a cycle state is the cycle's
  smallest code: the cycle label of c is ``m_N(g_N(c))``.
* The cycle states are the image of ``g_N`` (a bijection on the cycles); the period of a cycle
  is the number of cycle states with its label, its basin size the number of codes with its
  label (``bincount``); basin = size / 2^N exactly, ``basin_se = 0``.
* Orbit order: list ranking (Wyllie) on the cycles cut before their smallest code gives each
  cycle state its position ``0..p−1`` from the smallest code in ⌈log₂ p⌉ doublings.

Sampled census (any N). M uniformly random ±1 starts (``model.as_generator(seed)``) are iterated
together; each run's cycle is found with Brent's method (a checkpoint state saved at steps
1, 3, 7, …, 2^k − 1, compared with every later state; the first return to a checkpoint on the
cycle gives the period λ exactly, after at most ~2·max(μ, λ) + λ steps, μ the transient). A
run's cycle is then represented by its smallest code over one period (so the same cycle reached
in a different phase is merged), basin = count/M with ``basin_se = √(p̂(1 − p̂)/M)``. Runs that
have not closed a cycle within ``max_steps`` steps are counted in ``params["unresolved"]`` and
belong to no attractor (the basins then sum to 1 − unresolved/M).
"""
from __future__ import annotations

import time

import numpy as np

from .. import model
from ..errors import InputError, check_count
from .results import Attractor, Census
from .systems import SignNetwork

__all__ = ["binary_census", "EXACT_MAX_N", "EXACT_DEFAULT_MAX_N"]

EXACT_MAX_N = 24          # exact=True allowed up to here (2^24 successors)
EXACT_DEFAULT_MAX_N = 20  # exact=None means exact for N ≤ 20
_CHUNK_BITS = 14          # 2^14 states per successor chunk in the exact census


# --------------------------------------------------------------------------------------------
# packing


def _n_words(n: int) -> int:
    return (n + 63) // 64


def _pack_words(S) -> np.ndarray:
    """(M, N) ±1 states → (M, W) uint64 words, bit i of word k set iff s_{64k+i} = +1."""
    S = np.asarray(S)
    m, n = S.shape
    nw = _n_words(n)
    raw = np.packbits(S > 0, axis=1, bitorder="little")           # (M, ⌈N/8⌉) bytes
    buf = np.zeros((m, 8 * nw), dtype=np.uint8)
    buf[:, :raw.shape[1]] = raw
    return buf.view("<u8").astype(np.uint64, copy=False).reshape(m, nw)


def _unpack_words(words, n: int) -> np.ndarray:
    """Inverse of :func:`_pack_words`: (M, W) uint64 → (M, N) float64 ±1."""
    words = np.ascontiguousarray(words, dtype="<u8")
    bits = np.unpackbits(words.view(np.uint8).reshape(words.shape[0], -1), axis=1,
                         bitorder="little")[:, :n]
    return 2.0 * bits - 1.0


def _lex_less(a, b) -> np.ndarray:
    """Row-wise a < b for (M, W) word arrays, as integers Σ_k w_k 2^{64k}."""
    less = np.zeros(a.shape[0], dtype=bool)
    decided = np.zeros(a.shape[0], dtype=bool)
    for k in range(a.shape[1] - 1, -1, -1):
        lt = ~decided & (a[:, k] < b[:, k])
        gt = ~decided & (a[:, k] > b[:, k])
        less |= lt
        decided |= lt | gt
    return less


def _codes_to_states(codes, n: int) -> np.ndarray:
    """int codes (N ≤ 62) → (M, N) float64 ±1 (bit i ↔ unit i)."""
    codes = np.asarray(codes, dtype=np.int64)
    bits = (codes[:, None] >> np.arange(n, dtype=np.int64)) & 1
    return 2.0 * bits - 1.0


# --------------------------------------------------------------------------------------------
# validation


def _check_args(net, exact, n_starts, seed, max_steps):
    if not isinstance(net, SignNetwork):
        raise InputError(f"binary_census needs a SignNetwork, got {type(net).__name__}")
    if exact is not None and not isinstance(exact, (bool, np.bool_)):
        raise InputError(f"exact must be True, False or None, got {exact!r}")
    n = net.dim
    if exact is None:
        exact = n <= EXACT_DEFAULT_MAX_N
    exact = bool(exact)
    if exact and n > EXACT_MAX_N:
        raise InputError(f"exact census needs N ≤ {EXACT_MAX_N} (2^N states), got N = {n}; "
                         "use exact=False (sampled starts)")
    n_starts = check_count(n_starts, "n_starts", minimum=1)
    max_steps = check_count(max_steps, "max_steps", minimum=1)
    rng = model.as_generator(seed)  # validates the seed
    return exact, n_starts, rng, max_steps


def _seed_record(seed):
    if isinstance(seed, np.random.Generator):
        return "generator"
    return model.seed_repr(seed) if seed is None or isinstance(seed, np.random.SeedSequence) \
        else int(seed)


def _attractor(states, size, total, strict, se):
    p = states.shape[0]
    n = states.shape[1]
    return Attractor(kind="fixed_point" if p == 1 else "periodic", period=int(p),
                     states=states, basin=size / total, basin_se=se,
                     lyapunov=np.array([-np.inf]), lyapunov_se=None,
                     multipliers=np.zeros(n), n_starts=int(total), basin_size=int(size),
                     strict=strict)


# --------------------------------------------------------------------------------------------
# exact census


def _successors(net: SignNetwork) -> np.ndarray:
    """succ[c] = code of f(state c) for every code c < 2^N (int64): ``net.rhs`` on chunks of
    2^min(N, 14) consecutive codes (the low bits of a chunk run through all patterns, the high
    bits are constant), packed back."""
    n = net.dim
    total = 1 << n
    low_bits = min(n, _CHUNK_BITS)
    X = np.empty((1 << low_bits, n))
    X[:, :low_bits] = _codes_to_states(np.arange(1 << low_bits), low_bits)
    succ = np.empty(total, dtype=np.int64)
    for k in range(total >> low_bits):
        if n > low_bits:
            X[:, low_bits:] = _codes_to_states([k], n - low_bits)
        start = k << low_bits
        succ[start:start + X.shape[0]] = _pack_words(net.rhs(X))[:, 0].astype(np.int64)
    return succ


def _exact(net: SignNetwork):
    n = net.dim
    total = 1 << n
    succ = _successors(net)
    # pointer doubling with a min-combine: g = succ^(2^N), m = min over 2^N steps
    g = succ.copy()
    m = np.arange(total, dtype=np.int64)
    for _ in range(n):
        m = np.minimum(m, m[g])
        g = g[g]
    on_cycle = np.zeros(total, dtype=bool)
    on_cycle[g] = True
    label = m[g]                                      # smallest code of the cycle reached
    basin = np.bincount(label, minlength=total)
    cyc = np.flatnonzero(on_cycle)                    # cycle states, ascending
    cyc_label = m[cyc]
    reps = np.flatnonzero(basin)                      # cycle labels = their smallest codes
    period = np.bincount(cyc_label, minlength=total)[reps]
    # list ranking: distance of each cycle state to the state just before its label
    idx = np.searchsorted(cyc, succ[cyc])
    last = succ[cyc] == cyc_label                     # successor is the smallest code
    nxt = np.where(last, np.arange(cyc.size), idx)
    d = np.where(last, 0, 1).astype(np.int64)
    for _ in range(max(int(period.max()), 1).bit_length()):
        d = d + d[nxt]
        nxt = nxt[nxt]
    pos = period[np.searchsorted(reps, cyc_label)] - 1 - d
    order = np.lexsort((pos, cyc_label))              # cycles by label, each in orbit order
    orbit_codes = cyc[order]
    offsets = np.concatenate([[0], np.cumsum(period)])
    states = _codes_to_states(orbit_codes, n)
    sizes = basin[reps]
    rank = np.lexsort((reps, -sizes))                 # decreasing basin, ties smallest code
    fp = period == 1
    strict = np.zeros(reps.size, dtype=bool)
    if np.any(fp):
        strict[fp] = net.is_fixed_point(_codes_to_states(reps[fp], n))
    out = []
    for r in rank:
        st = states[offsets[r]:offsets[r + 1]]
        out.append(_attractor(st, int(sizes[r]), total, bool(strict[r]) if fp[r] else None, 0.0))
    return out, total, {"mode": "exact", "n_states": total,
                        "n_cycle_states": int(cyc.size)}


# --------------------------------------------------------------------------------------------
# sampled census


def _sampled(net: SignNetwork, m: int, rng, max_steps: int):
    n = net.dim
    X = np.where(rng.random((m, n)) < 0.5, -1.0, 1.0)
    active = np.arange(m)
    ckpt = _pack_words(X)
    ckpt_t, power, t = 0, 1, 0
    period = np.zeros(m, dtype=np.int64)
    found = np.zeros(m, dtype=bool)
    on_cycle = np.empty((m, n))
    while active.size and t < max_steps:          # Brent's cycle detection, all runs at once
        X = net.rhs(X)
        t += 1
        w = _pack_words(X)
        hit = np.all(w == ckpt, axis=1)
        if np.any(hit):
            runs = active[hit]
            period[runs] = t - ckpt_t
            found[runs] = True
            on_cycle[runs] = X[hit]
            keep = ~hit
            active, X, w, ckpt = active[keep], X[keep], w[keep], ckpt[keep]
        if t - ckpt_t == power:
            ckpt, ckpt_t, power = w, t, 2 * power
    unresolved = int(m - found.sum())
    runs = np.flatnonzero(found)
    attractors = []
    if runs.size:
        # smallest code over one period of each run's cycle
        Y = on_cycle[runs]
        lam = period[runs]
        best = _pack_words(Y)
        for s in range(1, int(lam.max())):
            sel = np.flatnonzero(lam > s)
            Y[sel] = net.rhs(Y[sel])
            w = _pack_words(Y[sel])
            better = _lex_less(w, best[sel])
            best[sel[better]] = w[better]
        keys, first, counts = np.unique(best, axis=0, return_index=True, return_counts=True)
        per = lam[first]
        rank = np.lexsort(tuple(keys[:, k] for k in range(keys.shape[1])) + (-counts,))
        keys, per, counts = keys[rank], per[rank], counts[rank]
        # orbits from the smallest code, all cycles advanced together
        offsets = np.concatenate([[0], np.cumsum(per)])
        orbit = np.empty((int(offsets[-1]), n))
        Z = _unpack_words(keys, n)
        for s in range(int(per.max())):
            sel = np.flatnonzero(per > s)
            orbit[offsets[sel] + s] = Z[sel]
            if s + 1 < per.max():
                Z[sel] = net.rhs(Z[sel])
        fp = per == 1
        strict = np.zeros(per.size, dtype=bool)
        if np.any(fp):
            strict[fp] = net.is_fixed_point(orbit[offsets[:-1][fp]])
        for r in range(per.size):
            p_hat = counts[r] / m
            attractors.append(_attractor(orbit[offsets[r]:offsets[r + 1]], int(counts[r]), m,
                                         bool(strict[r]) if fp[r] else None,
                                         float(np.sqrt(p_hat * (1.0 - p_hat) / m))))
    return attractors, m, {"mode": "sampled", "max_steps": max_steps, "unresolved": unresolved,
                           "steps": t}


# --------------------------------------------------------------------------------------------


def binary_census(net: SignNetwork, *, exact: bool | None = None, n_starts: int = 1000, seed=0,
                  max_steps: int = 10_000) -> Census:
    """Every attractor of a binary network with its basin (module docstring for the methods).

    Parameters
    ----------
    net : a :class:`~fplandscape.attractors.systems.SignNetwork` (J, b, update, order).
    exact : True: follow all 2^N states (N ≤ 24); False: ``n_starts`` random starts;
        None (default): exact for N ≤ 20.
    n_starts : number M of uniformly random ±1 starts of the sampled census (ignored if exact).
    seed : int, SeedSequence or Generator for the starts (same seed → same census).
    max_steps : steps after which a sampled run that has not closed a cycle is unresolved.

    Returns a :class:`~fplandscape.attractors.results.Census` (``kind="map"``) whose attractors
    (largest basin first, ties by the smallest code) have ``kind`` ``"fixed_point"`` (period 1)
    or ``"periodic"`` (period p ≥ 2), ``states`` the p orbit states (p × N, ±1 floats) from the
    smallest code in orbit order, ``basin = basin_size / n_starts`` (exact: size/2^N,
    ``basin_se = 0``; sampled: count/M, ``basin_se = √(p̂(1 − p̂)/M)``), ``lyapunov = [−∞]``,
    ``multipliers = 0`` (length N) and, for fixed points, ``strict``: whether
    ``s_i h_i > 0`` for every i (a period-1 state with a zero field ``h_i = 0`` on a unit with
    s_i = +1 is a fixed point of the update but not a strict fixed point); None for cycles.
    ``params``: ``update``, ``seed``, ``mode`` and, when sampled, ``max_steps``,
    ``unresolved`` (runs with no cycle within ``max_steps``) and ``steps`` (steps iterated).
    Bad input raises :class:`~fplandscape.errors.InputError`.
    """
    from ..blas import single_thread

    t0 = time.perf_counter()
    exact, n_starts, rng, max_steps = _check_args(net, exact, n_starts, seed, max_steps)
    with single_thread():  # the products are small: a multi-threaded BLAS only synchronises
        if exact:
            attractors, total, extra = _exact(net)
        else:
            attractors, total, extra = _sampled(net, n_starts, rng, max_steps)
    params = {"update": net.update, "seed": _seed_record(seed), **extra}
    if net.update == "async":
        params["order"] = net.order.tolist()
    return Census(attractors=attractors, n_starts=int(total), kind="map", exact=exact,
                  system=net.describe(), params=params, seconds=time.perf_counter() - t0)
