"""Local observables of given states by exact flip checks (compiled kernel, float64, OpenMP).

Conventions are those of :mod:`fplandscape.model`: packed code bit ``i`` set iff ``s_i = +1``,
``h_i = Σ_j J_ij s_j`` (diagonal included), stability ``Δ_i = s_i h_i``, fixed point iff
``Δ_i > 0`` for every i (strict).

For each state: its stabilities from scratch (summed j = 0..N−1, exactly as
:mod:`fplandscape.sim._stability`), the margin ``κ = min_i Δ_i`` and mean stability, and the
number of its neighbours at Hamming distance 1 and 2 that are fixed points. A neighbour is
checked locally, without summing its fields from scratch:

* flip j: ``Δ'_j = 2 J_jj − Δ_j``, ``Δ'_i = Δ_i − 2 s_i s_j J_ij`` (i ≠ j);
* flip j, k: ``Δ'_j = 2 J_jj − Δ_j + 2 s_j s_k J_jk`` (and j ↔ k),
  ``Δ'_i = Δ_i − 2 s_i s_j J_ij − 2 s_i s_k J_ik`` (i ∉ {j, k}).

Exactness (decisions on the stored float64 numbers, as :mod:`fplandscape.sim._stability`).
Each computed ``Δ'_i`` is within ``(N + 16) u S_i`` of the exact stability of the neighbour
(``S_i = Σ_j |J_ij|``, u = 2^-53: the from-scratch Δ_i carries ``γ_{N−1} S_i``; the updates —
products by ±2 are exact — add at most three roundings of values below ``5 S_i``). A neuron with
``|Δ'_i| ≤ tol_i = 4 (N+2) ε S_i + (N+2)·2^-1074`` (ε = 2u, the same band as the DFS,
``fpl_row_tol`` of ``fplandscape/sim/_exact.pxd``; infinite for rows with ``S_i > 1e300``) is
decided by the exact sign of the neighbour's field, summed without rounding by the integer
super-accumulator of ``_exact.pxd``; outside that band the float sign is certain. Rows whose
values here are all exact (``fpl_row_exact`` with room for 8 S_i: integer couplings, say) get
band 0, so their ties cost nothing. So a
neighbour counts iff every exact stability of it is > 0 (the brute-force check), ties included.
"""
import numpy as np

cimport numpy as cnp
from cython.parallel cimport prange
from libc.math cimport INFINITY
from libc.stdint cimport uint64_t, int64_t
from libc.stdlib cimport free, malloc

from fplandscape.sim._exact cimport fpl_band_stable_code, fpl_row_bands

cnp.import_array()


cdef inline double _spin(uint64_t code, Py_ssize_t j) noexcept nogil:
    return 1.0 if (code >> <uint64_t>j) & <uint64_t>1 else -1.0


cdef inline int _decide(double d, double tol, const double *J, Py_ssize_t n, Py_ssize_t i,
                        uint64_t code) noexcept nogil:
    """1 if neuron i of state ``code`` is stable, 0 if not (d = computed stability): the float
    sign outside the band |d| ≤ tol, the exact sign of the stored terms inside it."""
    if d > tol:
        return 1
    if d < -tol:
        return 0
    return fpl_band_stable_code(d, tol, J + i * n, n, code, i)   # in the band: out of line


cdef void _one(const double *J, const double *tol, Py_ssize_t n, uint64_t code, int r,
               double *delta, double *s, double *margin, double *mean, int64_t *n1,
               int64_t *n2) noexcept nogil:
    cdef Py_ssize_t i, j, k
    cdef double h, m = INFINITY, tot = 0.0, sj, sk, d
    cdef uint64_t c1, c2
    cdef int ok
    cdef int64_t cnt1 = 0, cnt2 = 0
    for i in range(n):
        s[i] = _spin(code, i)
    for i in range(n):
        h = 0.0
        for j in range(n):
            h += J[i * n + j] * s[j]
        delta[i] = s[i] * h
        tot += delta[i]
        if delta[i] < m:
            m = delta[i]
    margin[0] = m
    mean[0] = tot / n
    if r >= 1:
        for j in range(n):
            sj = s[j]
            c1 = code ^ ((<uint64_t>1) << <uint64_t>j)
            if not _decide(2.0 * J[j * n + j] - delta[j], tol[j], J, n, j, c1):
                continue
            ok = 1
            for i in range(n):
                if i == j:
                    continue
                if not _decide(delta[i] - 2.0 * s[i] * sj * J[i * n + j], tol[i], J, n, i, c1):
                    ok = 0
                    break
            cnt1 += ok
    if r >= 2:
        for j in range(n):
            sj = s[j]
            for k in range(j + 1, n):
                sk = s[k]
                c2 = code ^ ((<uint64_t>1) << <uint64_t>j) ^ ((<uint64_t>1) << <uint64_t>k)
                d = 2.0 * J[j * n + j] - delta[j] + 2.0 * sj * sk * J[j * n + k]
                if not _decide(d, tol[j], J, n, j, c2):
                    continue
                d = 2.0 * J[k * n + k] - delta[k] + 2.0 * sj * sk * J[k * n + j]
                if not _decide(d, tol[k], J, n, k, c2):
                    continue
                ok = 1
                for i in range(n):
                    if i == j or i == k:
                        continue
                    d = delta[i] - 2.0 * s[i] * sj * J[i * n + j] - 2.0 * s[i] * sk * J[i * n + k]
                    if not _decide(d, tol[i], J, n, i, c2):
                        ok = 0
                        break
                cnt2 += ok
    n1[0] = cnt1
    n2[0] = cnt2


def local_observables(const double[:, ::1] J, const uint64_t[::1] codes, int radius=1,
                      int n_threads=1):
    """Margin, mean stability and fixed-point neighbours at distance 1 and 2 of each code.

    Returns ``(margin, mean_stability, neighbors)``: float64 arrays of length M and an int64
    array (M, 2) whose column r−1 counts the neighbours at distance r that are fixed points
    (zero beyond ``radius``). ``radius`` in 0..2; ``n_threads`` ≥ 1 OpenMP threads. Results
    do not depend on the number of threads. Plain ValueError on bad shapes (validation with
    InputError lives in :mod:`fplandscape.sim.local`).
    """
    cdef Py_ssize_t n = J.shape[0], m = codes.shape[0], a
    if J.shape[1] != n or n < 1 or n > 64:
        raise ValueError("J must be square with 1 <= N <= 64")
    if radius < 0 or radius > 2:
        raise ValueError("radius must be 0, 1 or 2")
    if n_threads < 1:
        raise ValueError("n_threads must be >= 1")
    margin = np.empty(m, dtype=np.float64)
    meanst = np.empty(m, dtype=np.float64)
    nbr = np.zeros((m, 2), dtype=np.int64)
    failed = np.zeros(m, dtype=np.uint8)     # out of memory (a margin may itself be -inf)
    cdef double[::1] mv = margin, av = meanst
    cdef int64_t[:, ::1] nv = nbr
    cdef unsigned char[::1] fv = failed
    cdef double *tol = <double *> malloc(n * sizeof(double))
    if tol == NULL:
        raise MemoryError()
    # band 0 when every value computed here (< 8 S_i) is exact: integer couplings etc.
    fpl_row_bands(&J[0, 0], n, 1, n, <double> n, 4, tol)
    cdef int nt = n_threads
    cdef double *work
    cdef const double *Jp = &J[0, 0]
    try:
        with nogil:
            for a in prange(m, schedule="dynamic", chunksize=64, num_threads=nt):
                work = <double *> malloc(2 * n * sizeof(double))
                if work != NULL:
                    _one(Jp, tol, n, codes[a], radius, work, work + n, &mv[a], &av[a],
                         &nv[a, 0], &nv[a, 1])
                    free(work)
                else:
                    fv[a] = 1
    finally:
        free(tol)
    if m and failed.any():
        raise MemoryError("out of memory in local_observables")
    return margin, meanst, nbr
