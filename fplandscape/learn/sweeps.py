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
* Afterwards only the flips are applied: with the state as one vector of n = L·H units and
  M the (n × n) hidden coupling matrix (J^l on the diagonal blocks, λ·I + K on the neighbouring
  ones; J^0 itself when L = 1), a sweep in which sample b flips the units F_b adds
  Σ_{j ∈ F_b} M_ij (s_j^new − s_j^old) to every field h_bi (compiled kernel
  :mod:`fplandscape.learn._sweeps`; the products with s^new − s^old ∈ {±1, ±2} are exact).
  A sample that has not flipped anything since the last dense evaluation keeps the dense
  values bit for bit.
* Otherwise its fields differ from the dense ones by rounding only, and a sign is taken only
  when it is certified. Let h* be the exact real field of the stored numbers (couplings, ±1
  states, and the external fields ext_in, back as the stored float64 arrays both codes use).
  The dense code sums at most n_d = 3H + 4 terms whose absolute values add up to
  D_bi ≤ A_i + |ext_in_bi| + |back_bi| (+ 2λ per neighbouring module, since it adds λ s_j and
  K_jj s_j separately), A_i = Σ_j |M_ij|; in any summation order (blocked, pairwise, with or
  without FMA) |h_dense − h*| ≤ γ_{n_d} D_bi, γ_m = m u/(1 − m u), u = 2⁻⁵³ (Higham, Accuracy
  and Stability, section 3.1; a subnormal addition is exact, covered by an additive m·2⁻¹⁰²²). The
  incremental value is one summation of the dense terms plus k_b increments, each at most
  2 R_i = 2 max_j |M_ij| in size, so |h_inc − h*| ≤ γ_{n_d + k_b}(D_bi + 2 k_b R_i). Hence if
  |h_inc| > γ_{n_d + k_b}(2 D_bi + 2 k_b R_i) (the kernel's band, with a relative slack of
  2⁻²⁰ for the rounding of the band itself), h* ≠ 0 has the sign of h_inc and h_dense, lying
  within γ_{n_d} D_bi < |h*| of h*, has it too: sign(h_inc) = sign(h_dense).
* If a unit that updates in a sweep has its field inside the band (a near-tie, or an exact tie
  such as fields on a dyadic grid), the kernel stops before that sweep and the fields are
  computed densely, by the same ``hidden_fields`` call as the dense loop, from the current
  state; the sweep then proceeds on them. So every decision is the dense code's decision.

Cost per phase: one dense field evaluation (plus one per near-tie, which does not happen with
continuous couplings except on exact ties), one pass over M for A and R, and per sweep O(n·B)
for the decisions plus O(n·Σ_b |F_b|) for the updates; after the first sweeps few units flip
(measured on the 5k MNIST subset: ~4 % in the first steered sweep, < 0.5 % from the third).
"""
from __future__ import annotations

import numpy as np

from ._sweeps import sync_sweeps

__all__ = ["sync_phase", "dense_phase", "hidden_matrix"]


def hidden_matrix(net) -> np.ndarray:
    """The (n × n) hidden coupling matrix M over the units ``(l, i) → l·H + i`` (C-contiguous):
    J^l on the diagonal blocks, λ·I + K^up_{l−1} below and λ·I + K^down_l above, so that
    ``hidden_fields`` = M s + ext. For one module this is ``net.J[0]`` itself (no copy)."""
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


def dense_phase(net, S, ext_in, ext_back, sweeps: int, update_prob: float = 1.0, rng=None):
    """The plain loop that :func:`sync_phase` reproduces (the relaxation's code before this
    module): ``sweeps`` times S ← sign(hidden_fields(S)), units kept where
    ``rng.random(S.shape) >= update_prob``. Kept as the reference of the tests and benchmarks."""
    from .. import model
    from .network import hidden_fields

    for _ in range(int(sweeps)):
        new = model.sign_update(hidden_fields(net, S, ext_in, ext_back))
        if update_prob < 1.0:
            keep = rng.random(S.shape) >= update_prob
            new = np.where(keep, S, new)
        S[...] = new
    return S


def sync_phase(net, S, ext_in, ext_back, sweeps: int, update_prob: float = 1.0, rng=None):
    """Run ``sweeps`` synchronous sweeps on the hidden states S (L, B, H, float64, updated in
    place) with input fields ``ext_in`` and feedback ``ext_back`` (None: off), exactly as the dense
    loop of :func:`fplandscape.learn.network.relax` (module docstring); ``rng`` (consumed as
    there) is needed when ``update_prob`` < 1. Returns S."""
    from .network import hidden_fields

    sweeps = int(sweeps)
    if sweeps <= 0:
        return S
    L, B, H = S.shape
    n = L * H
    U = None
    if update_prob < 1.0:
        U = rng.random((sweeps,) + S.shape)
        U = np.ascontiguousarray(U.transpose(0, 2, 1, 3)).reshape(sweeps, B, n)
    M = hidden_matrix(net)
    eabs = _ext_abs(net, ext_in, ext_back, B)
    one = L == 1 and S[0].flags.c_contiguous      # S[0]: a (B, H) view, no copies
    s = S[0] if one else _flat(S)
    k = np.zeros(B, dtype=np.int64)
    A = np.empty(n)
    R = np.empty(n)
    have = 0
    n_terms = 3 * H + 8
    t = 0
    while t < sweeps:                     # a stop before sweep t: near-tie, dense fields
        if one:
            h = hidden_fields(net, S, ext_in, ext_back)[0]
        else:
            h = _flat(hidden_fields(net, np.ascontiguousarray(
                s.reshape(B, L, H).transpose(1, 0, 2)), ext_in, ext_back))
        k[:] = 0
        t, have = sync_sweeps(M, s, h, eabs, k, R, A, have, n_terms, t, sweeps, U,
                              float(update_prob))
    if one:
        return S
    S[...] = s.reshape(B, L, H).transpose(1, 0, 2)
    return S
