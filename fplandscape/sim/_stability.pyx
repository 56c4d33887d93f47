"""Compiled fixed-point kernels on packed states (reference, from-scratch evaluation).

Conventions are those of :mod:`fplandscape.model` (never re-defined here):

* ``J`` is an N×N float64 C-contiguous matrix, diagonal included (self-couplings).
* Packed state (N ≤ 64): bit ``i`` of a ``uint64`` code is set iff ``s_i = +1``.
* Local field ``h_i = Σ_{j=0..N-1} J[i, j] s_j``, summed in float64 in index order j = 0, 1, …,
  from scratch for every state (no incremental updates, so no accumulated rounding drift).
* Stability ``Δ_i = s_i h_i``; a state is a fixed point iff ``Δ_i > 0`` for every i
  (strict: ``Δ_i == 0`` is *not* stable), decided **exactly** on the stored float64 numbers.

Exact decisions (shared helper ``fplandscape/sim/_exact.pxd``). The canonical sum of the n
exact terms ``J_ij s_j`` makes at most n − 1 roundings, so ``|fl(h_i) − h_i| ≤ γ_{n−1} S_i``
with ``S_i = Σ_j |J_ij|``, ``γ_k = k u / (1 − k u)``, ``u = 2^-53`` (additions with subnormal
results are exact). The predicate takes the float sign when ``|s_i fl(h_i)| > tol_i =
fpl_row_tol(S_i, n)`` (≥ 2 γ_n S_i; infinite for rows with ``S_i > 1e300``; 0 for rows whose
float sums are exact in any order, ``fpl_row_exact``, e.g. integer couplings), and otherwise the
exact sign of the sum of the stored terms (integer super-accumulator, no rounding at all). So
an exact tie is never counted as stable and a small term lost to rounding is never ignored.
The values returned by :func:`stabilities_packed` stay the canonical float64 sums; their sign
can disagree with the exact decision only inside that band.

These kernels only check what they need for memory safety (square J, N range, no code bits
at positions ≥ N) and raise plain ``ValueError``; user-facing validation with
:class:`fplandscape.errors.InputError` lives in :mod:`fplandscape.sim.stability`.
"""
import numpy as np

cimport numpy as cnp
from libc.stdint cimport uint64_t, uint8_t
from libc.stdlib cimport free, malloc, realloc

from fplandscape.sim._epilogue cimport fpl_u64_array
from fplandscape.sim._exact cimport fpl_exact_sign_code, fpl_row_bands

cnp.import_array()

cdef enum:
    _MAX_BRUTEFORCE_N = 30


cdef inline double _spin(uint64_t code, Py_ssize_t j) noexcept nogil:
    """s_j = +1.0 if bit j of code is set, else -1.0."""
    return 1.0 if (code >> <uint64_t>j) & <uint64_t>1 else -1.0


cdef inline double _field(const double[:, ::1] J, Py_ssize_t i, uint64_t code,
                          Py_ssize_t n) noexcept nogil:
    """h_i = Σ_{j=0..n-1} J[i, j] s_j, float64, in index order."""
    cdef double h = 0.0
    cdef Py_ssize_t j
    for j in range(n):
        h += J[i, j] * _spin(code, j)
    return h


cdef inline bint _is_fixed_point(const double[:, ::1] J, const double *tol, uint64_t code,
                                 Py_ssize_t n) noexcept nogil:
    """Exact strict predicate: all s_i h_i > 0; returns at the first unstable neuron. The
    float value decides outside the band ``|Δ_i| ≤ tol[i]``, the exact sign inside it."""
    cdef Py_ssize_t i
    cdef double d, si
    for i in range(n):
        si = _spin(code, i)
        d = si * _field(J, i, code, n)
        if d > tol[i]:
            continue
        if d < -tol[i] or tol[i] == 0.0:      # band 0: the float value is exact (d = 0 here)
            return False
        if si * fpl_exact_sign_code(&J[i, 0], 1, n, code) <= 0:
            return False
    return True


cdef double *_tolerances(const double[:, ::1] J, Py_ssize_t n) except NULL:
    """tol[i] = fpl_row_tol(Σ_j |J_ij|, n), or 0 for rows whose float sums are exact
    (fpl_row_exact, e.g. integer couplings): ``fpl_row_bands`` of ``_exact.pxd`` (caller
    frees)."""
    cdef double *tol = <double *> malloc((n if n > 0 else 1) * sizeof(double))
    if tol == NULL:
        raise MemoryError()
    fpl_row_bands(&J[0, 0], n, 1, n, <double> n, 1, tol)
    return tol


cdef Py_ssize_t _check_square(const double[:, ::1] J, Py_ssize_t max_n) except -1:
    cdef Py_ssize_t n = J.shape[0]
    if J.shape[1] != n:
        raise ValueError(f"J must be square, got shape {J.shape[0]}x{J.shape[1]}")
    if n < 1 or n > max_n:
        raise ValueError(f"N = {n} out of range for this kernel (1 <= N <= {max_n})")
    return n


cdef int _check_codes(const uint64_t[::1] codes, Py_ssize_t n) except -1:
    cdef Py_ssize_t m
    cdef uint64_t high
    if n >= 64:
        return 0
    high = ~((<uint64_t>1 << <uint64_t>n) - <uint64_t>1)
    for m in range(codes.shape[0]):
        if codes[m] & high:
            raise ValueError(f"code at position {m} has bits set at positions >= N = {n}")
    return 0


def stabilities_packed(const double[:, ::1] J, const uint64_t[::1] codes):
    """Stabilities Δ_i = s_i h_i for each packed state: float64 array of shape (M, N)."""
    cdef Py_ssize_t n = _check_square(J, 64)
    _check_codes(codes, n)
    cdef Py_ssize_t M = codes.shape[0]
    out = np.empty((M, n), dtype=np.float64)
    cdef double[:, ::1] o = out
    cdef Py_ssize_t m, i
    cdef uint64_t code
    with nogil:
        for m in range(M):
            code = codes[m]
            for i in range(n):
                o[m, i] = _spin(code, i) * _field(J, i, code, n)
    return out


def fixed_point_mask_packed(const double[:, ::1] J, const uint64_t[::1] codes):
    """Boolean array (M,): True iff the packed state is a strict fixed point (all Δ_i > 0,
    decided exactly)."""
    cdef Py_ssize_t n = _check_square(J, 64)
    _check_codes(codes, n)
    cdef Py_ssize_t M = codes.shape[0]
    out = np.empty(M, dtype=np.bool_)
    cdef uint8_t[::1] o = out.view(np.uint8)
    cdef Py_ssize_t m
    cdef double *tol = _tolerances(J, n)
    try:
        with nogil:
            for m in range(M):
                o[m] = 1 if _is_fixed_point(J, tol, codes[m], n) else 0
    finally:
        free(tol)
    return out


def count_fixed_points_bruteforce(const double[:, ::1] J, bint return_states=False):
    """Enumerate all 2^N packed states (N ≤ 30) and count the strict fixed points (exact).

    Returns the count (a Python int), or ``(count, states)`` when ``return_states`` is true,
    with ``states`` a uint64 array of the fixed points' codes in increasing order.
    """
    cdef Py_ssize_t n = J.shape[0]
    if J.shape[1] != n:
        raise ValueError(f"J must be square, got shape {J.shape[0]}x{J.shape[1]}")
    if n < 1 or n > _MAX_BRUTEFORCE_N:
        raise ValueError(f"brute force needs 1 <= N <= {_MAX_BRUTEFORCE_N}, got N = {n}")
    cdef uint64_t total = (<uint64_t>1) << <uint64_t>n
    cdef uint64_t code
    cdef uint64_t count = 0
    cdef uint64_t cap = 0
    cdef uint64_t *buf = NULL
    cdef uint64_t *tmp = NULL
    cdef bint oom = False
    cdef double *tol = _tolerances(J, n)

    if return_states:
        cap = 1024
        buf = <uint64_t *> malloc(cap * sizeof(uint64_t))
        if buf == NULL:
            free(tol)
            raise MemoryError()
    try:
        with nogil:
            code = 0
            while code < total:
                if _is_fixed_point(J, tol, code, n):
                    if return_states:
                        if count == cap:
                            tmp = <uint64_t *> realloc(buf, 2 * cap * sizeof(uint64_t))
                            if tmp == NULL:
                                oom = True
                                break
                            buf = tmp
                            cap = 2 * cap
                        buf[count] = code
                    count += 1
                code += 1
        if oom:
            raise MemoryError("out of memory while storing fixed points")
        if not return_states:
            return int(count)
        return int(count), fpl_u64_array(buf, <Py_ssize_t> count)
    finally:
        free(buf)
        free(tol)
