"""Synchronous sweeps of the learning network with incremental fields and certified signs.

One phase of ``sweeps`` synchronous sweeps of :func:`fplandscape.learn.network.relax` on a
batch of states S (L, B, H): every sweep sets s ← sign(h) (sign(0) = +1,
:func:`fplandscape.model.sign_update`) from the fields h of the previous state,
h = :func:`~fplandscape.learn.network.hidden_fields` (S, ext_in, back); with ``update_prob``
p < 1 a unit takes its new sign only when its uniform u < p, the uniforms drawn as
``rng.random(S.shape)`` once per sweep, in sweep order (drawn here in one call of shape
(sweeps, L, B, H), which is the same stream).

**Same decisions as the dense code.** :func:`sync_phase` gives exactly the states of the dense
loop ``for _ in range(sweeps): S = sign(hidden_fields(S))`` (with the same masks), while
computing the fields densely only once per phase:

* The phase starts from the dense fields h⁰ = ``hidden_fields(net, S, ext_in, back)``, the
  very array the dense loop computes, so the first sweep's signs are the dense ones.
  (Throughout, a NumPy/BLAS call is taken to give the same result for the same input values
  and shapes, as the dense loop would make it; nothing else about its summation order is
  assumed.)
* Afterwards only the flips are applied: with the state as one vector of n = L·H units, a sweep
  in which sample b flips unit j = (m, j') by d = s_new − s_old ∈ {±1, ±2} adds to every field
  h_bi of a unit i = (l, i') the exact products J^l_{i'j'}·d (m = l), K^up_{l−1,i'j'}·d
  (m = l − 1), K^down_{l,i'j'}·d (m = l + 1), and the exact λ·d to the units (m ± 1, j') (the
  one-to-one couplings, never added to K: no rounded λ + K_jj). The compiled kernel
  :mod:`fplandscape.learn._sweeps` works on the blocks J, K, λ (no n × n matrix is built); the
  flipped columns of J are read either from a transposed copy of J made once per relaxation
  (no K couplings: one contiguous row of Jᵀ per flipped unit, shared by the samples that flip
  it) or gathered row by row. A sample that has not flipped anything since the last dense
  evaluation keeps the dense values bit for bit.
* Otherwise its fields differ from the dense ones by rounding only, and a sign is taken only
  when it is certified. Let h* be the exact real field of the stored numbers (couplings, ±1
  states, and the external fields ext_in, back as the stored float64 arrays both codes use).
  The dense code sums at most n_d = 3H + 4 terms whose absolute values add up to
  D_bi ≤ A_i + |ext_in_bi| + |back_bi| (+ 2λ per neighbouring module, covering its separate
  terms λ s_j), A_i = Σ_j |J^l_ij| + Σ_j |K^up_{l−1,ij}| + Σ_j |K^down_{l,ij}|; in any
  summation order (blocked, pairwise, with or without FMA) |h_dense − h*| ≤ γ_{n_d} D_bi,
  γ_m = m u/(1 − m u), u = 2⁻⁵³ (Higham, Accuracy and Stability, section 3.1; a subnormal
  addition is exact, covered by an additive m·2⁻¹⁰²²; an addition of an exact 0 is exact). The
  incremental value is one summation tree whose leaves are the dense terms and the increments:
  k_b terms since the dense evaluation (a flip gives a unit at most one term, or two — λ·d and
  K_jj·d — with both λ and K), each at most 2 R_i in size, R_i = λ + the largest |entry| of
  unit i's rows of J and K, so |h_inc − h*| ≤ γ_{n_d + k_b}(D_bi + 2 k_b R_i). Hence if
  |h_inc| > γ_{n_d + k_b}(2 D_bi + 2 k_b R_i) (the kernel's band, with a relative slack of
  2⁻²⁰ for the rounding of the band itself), h* ≠ 0 has the sign of h_inc and h_dense, lying
  within γ_{n_d} D_bi < |h*| of h*, has it too: sign(h_inc) = sign(h_dense).
* If a unit that updates in a sweep has its field inside the band (a near-tie, or an exact tie
  such as fields on a dyadic grid), the kernel stops before that sweep and the fields are
  computed densely, by the same ``hidden_fields`` call as the dense loop, from the current
  state; the sweep then proceeds on them. So every decision is the dense code's decision.

**Feedback that changes between sweeps** (:func:`readout_steer`, the steered phase of
``feedback_from="readout"``: the feedback of sweep t is back_t = λ_back W^back ŷ(Y_{t−1}) of the
readout state of the previous sweep, which moves to the target independently of S). The
readout's masks and states of every sweep are drawn first, in the dense loop's order (S's
uniforms, then Y's, sweep by sweep), and back_t computed by the same call
(``network._readout_feedback`` on the whole batch) as the dense loop. Between sweeps t and t+1
the kernel adds fl(back_{t+1} − back_t) to the fields of the feedback modules of every sample
whose row of back changed (few: Y changes in ≤ C units per sample, in the first sweeps only).
In the summation tree above these are two more leaves, +back_{t+1} and −back_t, per change and
unit (the kernel adds 2 to k_b); their exact sum telescopes, so the exact value of the leaves is
still h* with the *current* stored back_t, and their absolute values are added to the external
part of D_bi, which the kernel keeps as a running sum eabs_bi = |ext_in_bi| + |back_{t0}|
+ Σ (|back_{t+1}| + |back_t|) (+ 2λ …) — at least the dense code's |ext_in_bi| + |back_t|, one
of its terms. The band γ_m(2 A_i + 2 eabs_bi + 2 k_b R_i) with m = n_d + k_b thus covers both
errors as before. The free sweeps after the steered phase run in the same kernel call, with
back = 0 (one last change, to the stored zeros the dense code never adds: the same h*), so no
dense evaluation is needed between the phases.

**Warm-up** (:func:`warmup_all`, ``warmup="all"``): L sweeps from the zero state, of which the
first flips (almost) every unit and the second most of those — nothing to gain from increments.
The first sweep's fields, on the zero state, are ``ext_in`` (0 in modules without input): the
dense code sums only exact zeros (±0) besides ext_in, so its fields are ext_in up to the sign of
a zero, and sign(±0) = +1 — the same signs without the product. The other sweeps are dense.

Cost per relaxation (the reference schedule, L = 2): one dense evaluation in the warm-up, one
at the start of the steered phase (plus one per near-tie, which does not happen with
continuous couplings except on exact ties), one copy Jᵀ that also yields A and R, and per sweep
O(n·B) for the decisions plus O(H·Σ_b |F_b|) for the updates (on the 5k MNIST subset with
update probability 0.85 about 13 %, 9 %, 6 %, 4 %, 3 % of the units flip in the steered sweeps
and 3 % to 0.6 % in the free ones). Batches of more than :data:`DENSE_FROM_BATCH` samples
(inference) run the dense loops: BLAS on a big batch is faster there.
"""
from __future__ import annotations

import threading

import numpy as np

from ._sweeps import sync_sweeps, transpose_blocks

#: hidden units per module from which the kernel adds the flipped columns from a transposed
#: copy of J (read once per relaxation; no K couplings) instead of gathering them row by row
TRANSPOSE_FROM_HIDDEN = 1
#: batches larger than this run the dense loops (BLAS on a big batch beats the kernel)
DENSE_FROM_BATCH = 512

__all__ = ["sync_phase", "dense_phase", "readout_steer", "dense_readout_steer", "warmup_all",
           "dense_warmup_all", "hidden_matrix"]


def hidden_matrix(net) -> np.ndarray:
    """The (n × n) hidden coupling matrix M over the units ``(l, i) → l·H + i`` (C-contiguous):
    J^l on the diagonal blocks, λ·I + K^up_{l−1} below and λ·I + K^down_l above, so that
    ``hidden_fields`` = M s + ext. For one module this is ``net.J[0]`` itself (no copy). (The
    kernel works on the blocks themselves; this matrix is the formula's.)"""
    arch = net.arch
    L, H = arch.layers, arch.hidden
    if L == 1:
        return np.ascontiguousarray(net.J[0])
    M = np.zeros((L * H, L * H))
    eye = np.eye(H)
    for l in range(L):
        r = slice(l * H, (l + 1) * H)
        M[r, r] = net.J[l]
        if l > 0:
            M[r, (l - 1) * H:l * H] = arch.lam * eye + (net.K_up[l - 1] if net.K_up is not None
                                                         else 0.0)
        if l < L - 1:
            M[r, (l + 1) * H:(l + 2) * H] = arch.lam * eye + (net.K_down[l]
                                                               if net.K_down is not None
                                                               else 0.0)
    return M


def _feedback_modules(net) -> np.ndarray:
    """int8 (L,): 1 for the modules the feedback enters (L − 1, or all with ``skip``)."""
    L = net.arch.layers
    fb = np.zeros(L, dtype=np.int8)
    fb[:] = 1 if net.arch.skip else 0
    fb[L - 1] = 1
    return fb


def _ext_abs(net, ext_in, back, B) -> np.ndarray:
    """|ext_in| + |back| (+ 2λ per neighbouring module) per unit, (B, n): the external part of
    the bound D_bi (module docstring)."""
    arch = net.arch
    L, H = arch.layers, arch.hidden
    ext_in = np.asarray(ext_in)
    if ext_in.ndim == 2:
        ext_in = ext_in[None]
    if L == 1:
        e = np.abs(ext_in[0])
        if back is not None:
            e += np.abs(back)
        return e
    e = np.zeros((B, L, H))
    e[:, :ext_in.shape[0]] = np.abs(ext_in).transpose(1, 0, 2)
    if back is not None:
        ab = np.abs(back)
        for l in (range(L) if arch.skip else (L - 1,)):
            e[:, l] += ab
    if arch.lam:
        e[:, 1:-1] += 4.0 * arch.lam
        e[:, 0] += 2.0 * arch.lam
        e[:, -1] += 2.0 * arch.lam
    return e.reshape(B, L * H)


def _flat(A):
    """(L, B, H) → contiguous (B, L·H)."""
    L, B, H = A.shape
    return np.ascontiguousarray(A.transpose(1, 0, 2)).reshape(B, L * H)


def _blocks(net):
    """The kernel's coupling blocks (J, K^up, K^down, λ), C-contiguous; K arrays with a zero
    first axis when there are none."""
    H = net.arch.hidden
    J = np.ascontiguousarray(net.J)
    if net.K_up is not None and net.arch.layers > 1:
        Ku, Kd = np.ascontiguousarray(net.K_up), np.ascontiguousarray(net.K_down)
    else:
        Ku = Kd = np.zeros((0, H, H))
    return J, Ku, Kd, float(net.arch.lam)


_local = threading.local()


def _buffer(shape) -> np.ndarray:
    """A float64 scratch array of this shape, reused by the relaxations of one thread (a fresh
    40 MB array per relaxation costs its page faults every time)."""
    buf = getattr(_local, "buf", None)
    if buf is None or buf.shape != tuple(shape):
        buf = _local.buf = np.empty(shape)
    return buf


def _phase(net, S, ext_in, back_of, sweeps, U, update_prob, cache, stack=None, changed=None):
    """The sweeps of one phase through the kernel (module docstring): dense fields at the start
    and after a stop, with the feedback ``back_of(t)`` of sweep t (None: off); ``stack`` /
    ``changed``: a feedback that changes from sweep to sweep (the kernel's ``back``)."""
    from .network import hidden_fields

    L, B, H = S.shape
    n = L * H
    blocks = cache.get("blocks") if cache is not None else None
    if blocks is None:
        blocks = _blocks(net)
        A, R = np.empty(n), np.empty(n)
        have = 0
        JT = None
        if H >= TRANSPOSE_FROM_HIDDEN and blocks[1].shape[0] == 0:
            JT = _buffer(blocks[0].shape)
            transpose_blocks(blocks[0], JT, A, R, blocks[3])
            have = 1
    else:
        A, R, have, JT = cache["A"], cache["R"], cache["have"], cache["JT"]
    one = L == 1 and S[0].flags.c_contiguous      # S[0]: a (B, H) view, no copies
    s = S[0] if one else _flat(S)
    k = np.zeros(B, dtype=np.int64)
    n_terms = 3 * H + 8
    fb = _feedback_modules(net) if stack is not None else None
    t = 0
    while t < sweeps:                     # a stop before sweep t: near-tie, dense fields
        back = back_of(t)
        if one:
            h = hidden_fields(net, S, ext_in, back)[0]
        else:
            h = _flat(hidden_fields(net, np.ascontiguousarray(
                s.reshape(B, L, H).transpose(1, 0, 2)), ext_in, back))
        eabs = _ext_abs(net, ext_in, back, B)
        k[:] = 0
        t, have = sync_sweeps(*blocks, s, h, eabs, k, R, A, have, n_terms, t, sweeps, U,
                              float(update_prob), stack, fb, changed, JT)
    if cache is not None:
        cache.update(blocks=blocks, A=A, R=R, have=have, JT=JT)
    if not one:
        S[...] = s.reshape(B, L, H).transpose(1, 0, 2)
    return S


def _flat_uniforms(draws, B, n):
    """Per-sweep uniforms (sweeps, L, B, H) → the kernel's (sweeps, B, n) layout."""
    U = np.asarray(draws)
    return np.ascontiguousarray(U.transpose(0, 2, 1, 3)).reshape(U.shape[0], B, n)


def dense_phase(net, S, ext_in, ext_back, sweeps: int, update_prob: float = 1.0, rng=None, *,
                cache=None):
    """The plain loop that :func:`sync_phase` reproduces (the relaxation's code before this
    module): ``sweeps`` times S ← sign(hidden_fields(S)), units kept where
    ``rng.random(S.shape) >= update_prob`` (``cache`` unused). Kept as the reference of the
    tests and benchmarks."""
    from .. import model
    from .network import hidden_fields

    for _ in range(int(sweeps)):
        new = model.sign_update(hidden_fields(net, S, ext_in, ext_back))
        if update_prob < 1.0:
            keep = rng.random(S.shape) >= update_prob
            new = np.where(keep, S, new)
        S[...] = new
    return S


def sync_phase(net, S, ext_in, ext_back, sweeps: int, update_prob: float = 1.0, rng=None, *,
               cache=None):
    """Run ``sweeps`` synchronous sweeps on the hidden states S (L, B, H, float64, updated in
    place) with input fields ``ext_in`` and feedback ``ext_back`` (None: off), exactly as the dense
    loop of :func:`fplandscape.learn.network.relax` (module docstring); ``rng`` (consumed as
    there) is needed when ``update_prob`` < 1. ``cache``: a dict shared by the phases of one
    relaxation of the same network (the row sums A and maxima R are computed once). Returns S."""
    sweeps = int(sweeps)
    if sweeps <= 0:
        return S
    L, B, H = S.shape
    if B > DENSE_FROM_BATCH:
        return dense_phase(net, S, ext_in, ext_back, sweeps, update_prob, rng)
    U = None
    if update_prob < 1.0:
        U = _flat_uniforms(rng.random((sweeps,) + S.shape), B, L * H)
    return _phase(net, S, ext_in, lambda t: ext_back, sweeps, U, update_prob, cache)


def dense_readout_steer(net, S, ext_in, Y, y, sweeps: int, update_prob: float = 1.0,
                        rng=None, *, free: int = 0, cache=None):
    """The plain loops of the steered phase with ``feedback_from="readout"`` (and of the
    ``free`` sweeps after it) that :func:`readout_steer` reproduces (the relaxation's code
    before it): ``sweeps`` times S ← sign(hidden_fields(S, back = λ_back W^back ŷ(Y))), then
    Y ← y (the targets, ±1), each with its mask (``rng.random(S.shape)``, then ``rng.random(Y.shape)``);
    then :func:`dense_phase` without feedback. S and Y updated in place."""
    from .. import model
    from .network import _masked, _readout_feedback, hidden_fields

    for _ in range(int(sweeps)):
        new = model.sign_update(hidden_fields(net, S, ext_in, _readout_feedback(net, Y)))
        S[...] = _masked(S, new, update_prob, rng)
        Y[...] = _masked(Y, y, update_prob, rng)
    return dense_phase(net, S, ext_in, None, free, update_prob, rng)


def readout_steer(net, S, ext_in, Y, y, sweeps: int, update_prob: float = 1.0, rng=None,
                  *, free: int = 0, cache=None):
    """The steered phase with the feedback driven by the readout state Y (``feedback_from=
    "readout"`` of :func:`fplandscape.learn.network.relax`) and the ``free`` sweeps after it,
    exactly as :func:`dense_readout_steer` (module docstring): the readout's trajectory does not
    depend on S, so its masks are drawn first, in the dense loop's order (S's, then Y's, sweep
    by sweep, then the free sweeps' in one call as :func:`sync_phase` draws them), the feedback
    of every sweep computed by the same call as there (0 in the free sweeps), and all the hidden
    sweeps run through the kernel in one go, the feedback changing where Y did (and to 0 at the
    first free sweep: no dense evaluation between the phases). S and Y updated in place."""
    from .network import _masked, _readout_feedback

    sweeps, free = int(sweeps), int(free)
    L, B, H = S.shape
    if B > DENSE_FROM_BATCH:
        return dense_readout_steer(net, S, ext_in, Y, y, sweeps, update_prob, rng,
                                   free=free)
    if sweeps <= 0:
        return sync_phase(net, S, ext_in, None, free, update_prob, rng, cache=cache)
    backs, draws = [], []
    for _ in range(sweeps):
        backs.append(_readout_feedback(net, Y))
        if update_prob < 1.0:
            draws.append(rng.random(S.shape))
        Y[...] = _masked(Y, y, update_prob, rng)
    total = sweeps + max(free, 0)
    stack = np.zeros((total, B, H))
    stack[:sweeps] = backs
    changed = np.zeros((total, B), dtype=np.int8)
    changed[1:] = np.any(stack[1:] != stack[:-1], axis=2)
    U = None
    if update_prob < 1.0:
        U = np.empty((total, B, L * H))
        U[:sweeps] = _flat_uniforms(draws, B, L * H)
        if total > sweeps:
            U[sweeps:] = _flat_uniforms(rng.random((total - sweeps,) + S.shape), B, L * H)
    return _phase(net, S, ext_in, lambda t: stack[t] if t < sweeps else None, total, U,
                  update_prob, cache, stack, changed)


def _warmup_all(net, S, ext_in, update_prob, rng, Y, skip_first):
    """L sweeps of every module with masks (a readout state Y follows sgn of its free field,
    sgn 0 = 0); ``skip_first``: the first sweep's fields are ``ext_in`` (S the zero state)."""
    from .. import model
    from .network import _masked, hidden_fields, readout_fields

    for t in range(net.arch.layers):
        if Y is not None:
            newY = np.sign(readout_fields(net, S))
        if t == 0 and skip_first:
            h = np.zeros_like(S)
            e = np.asarray(ext_in)
            e = e[None] if e.ndim == 2 else e
            h[:e.shape[0]] = e
        else:
            h = hidden_fields(net, S, ext_in, None)
        S[...] = _masked(S, model.sign_update(h), update_prob, rng)
        if Y is not None:
            Y[...] = _masked(Y, newY, update_prob, rng)
    return S


def dense_warmup_all(net, S, ext_in, update_prob: float = 1.0, rng=None, Y=None):
    """The plain loop of the ``warmup="all"`` warm-up (L sweeps of every module from the
    state S, with masks; a readout state Y follows sgn of its free field, sgn 0 = 0) that
    :func:`warmup_all` reproduces. S and Y updated in place."""
    return _warmup_all(net, S, ext_in, update_prob, rng, Y, skip_first=False)


def warmup_all(net, S, ext_in, update_prob: float = 1.0, rng=None, Y=None):
    """:func:`dense_warmup_all` with the first sweep's product skipped when S is the zero
    state (module docstring): its fields are then ``ext_in`` (0 in the modules without input),
    with the same signs as the dense ones. The other sweeps are dense: each follows a sweep in
    which most units changed."""
    return _warmup_all(net, S, ext_in, update_prob, rng, Y, skip_first=not S.any())
