"""Validated wrappers around the compiled fixed-point kernels (:mod:`fplandscape.sim._stability`).

Conventions are those of :mod:`fplandscape.model`: packed state bit ``i`` set iff ``s_i = +1``;
local field ``h_i = Σ_j J_ij s_j`` (diagonal included, summed from scratch in float64, j in
index order); stability ``Δ_i = s_i h_i``; fixed point iff ``Δ_i > 0`` for all i (strict),
decided exactly on the stored numbers (the float value outside its rounding band, an exact sum
inside it: :mod:`fplandscape.sim._stability`). Stability values stay float64.
Bad input raises :class:`fplandscape.errors.InputError`.
"""
from __future__ import annotations

import numpy as np

from .. import model
from ..errors import InputError
from . import _stability

BRUTEFORCE_MAX_N = 30

__all__ = ["stabilities_packed", "fixed_point_mask_packed", "count_fixed_points_bruteforce"]


def _as_codes(codes, n: int) -> np.ndarray:
    """Validate packed states for N neurons: a 1-D array of non-negative integers with no bit
    set at positions ≥ N; returned as a C-contiguous uint64 array."""
    arr = np.asarray(codes)
    if arr.ndim != 1:
        raise InputError(f"codes must be a 1-D array of packed states, got shape {arr.shape}")
    if arr.dtype != np.uint64:
        if arr.dtype.kind not in "iu" or arr.dtype == np.bool_:
            if arr.size == 0:
                arr = arr.astype(np.uint64)
            else:
                raise InputError(f"codes must be unsigned 64-bit integers, got dtype {arr.dtype}")
        else:
            if arr.size and arr.min() < 0:
                raise InputError("codes must be non-negative (packed states are uint64)")
            arr = arr.astype(np.uint64)
    arr = np.ascontiguousarray(arr, dtype=np.uint64)
    if n < model.MAX_PACKED_N and arr.size:
        high = arr >> np.uint64(n)
        if np.any(high):
            bad = int(np.flatnonzero(high)[0])
            raise InputError(
                f"code {int(arr[bad])} at position {bad} has bits set at positions ≥ N = {n}"
            )
    return arr


def stabilities_packed(J, codes) -> np.ndarray:
    """Stabilities ``Δ_i = s_i h_i`` with ``h_i = Σ_j J_ij s_j`` for packed states.

    ``J``: N×N couplings (N ≤ 64); ``codes``: 1-D uint64 packed states (bit i set iff s_i = +1).
    Returns a float64 array of shape (M, N).
    """
    J = model.as_couplings(J, max_n=model.MAX_PACKED_N)
    codes = _as_codes(codes, J.shape[0])
    return _stability.stabilities_packed(J, codes)


def fixed_point_mask_packed(J, codes) -> np.ndarray:
    """Boolean mask (M,): True iff the packed state is a fixed point, ``s_i h_i > 0`` for all i
    (strict: a zero field is unstable)."""
    J = model.as_couplings(J, max_n=model.MAX_PACKED_N)
    codes = _as_codes(codes, J.shape[0])
    return _stability.fixed_point_mask_packed(J, codes)


def count_fixed_points_bruteforce(J, return_states: bool = False):
    """Count the fixed points (``s_i h_i > 0`` for all i) by enumerating all 2^N states (N ≤ 30).

    Returns the count (int), or ``(count, codes)`` with the fixed points' packed codes (uint64,
    increasing) when ``return_states`` is true. This is the plain reference implementation.
    """
    J = model.as_couplings(J, max_n=BRUTEFORCE_MAX_N)
    return _stability.count_fixed_points_bruteforce(J, bool(return_states))
