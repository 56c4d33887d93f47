# cython: boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""Compiled kernel of :mod:`fplandscape.learn.sweeps`: synchronous sign sweeps of a batch with
incrementally updated fields and certified sign decisions (the argument is in the docstring of
:mod:`fplandscape.learn.sweeps`; this file only implements it).

``sync_sweeps(M, s, h, eabs, k, R, A, have_AR, n_terms, start, stop, U, p)`` runs sweeps
``start..stop−1`` on the batch states ``s`` (B × n, float64 ±1, updated in place) whose fields
``h = M s + e`` (B × n) are maintained in place: after a sweep, the flips of sample b add
``Σ_{j flipped} M[i, j]·(s_j^new − s_j^old)`` to every ``h[b, i]`` (row-wise over M, one pass
over the rows that is shared by the whole batch). ``k[b]`` counts the floating additions
applied to sample b's fields since they were last computed by the dense code (0: ``h[b]`` *is*
the dense value, its signs are taken as they are). For k[b] > 0 a unit's sign is accepted only
when ``|h| > tol = γ_m (2 A_i + 2 eabs[b, i] + 2 k[b] R_i) + m·2^-1022`` with
``m = n_terms + k[b]``, ``γ_m = m u / (1 − m u)`` (u = 2^-53, times 1 + 2^-20 for the rounding
of tol itself), ``A_i = Σ_j |M_ij|``, ``R_i = max_j |M_ij|`` (computed in the first update pass
when ``have_AR`` is 0). A unit updates when ``U is None`` (p = 1) or ``U[t, b, i] < p``.

Returns ``(t, have_AR)``: t the number of the first sweep not done, ``stop`` when all were
done, or the sweep at which some updating unit's field lay inside its band (then ``s`` and ``h``
are those before sweep t, and the caller recomputes the fields densely and calls again from t);
``have_AR`` whether ``A`` and ``R`` now hold the row sums and maxima.
"""
import numpy as np

from libc.math cimport fabs
from libc.stdint cimport int64_t
from libc.stdlib cimport calloc, free, malloc


def sync_sweeps(const double[:, ::1] M, double[:, ::1] s, double[:, ::1] h,
                const double[:, ::1] eabs, int64_t[::1] k, double[::1] R, double[::1] A,
                int have_AR, int64_t n_terms, int start, int stop, U, double p):
    cdef Py_ssize_t B = s.shape[0], n = s.shape[1]
    cdef const double[:, :, ::1] Uv
    cdef const double *Up = NULL
    cdef int use_u = U is not None
    if M.shape[0] != n or M.shape[1] != n or h.shape[0] != B or h.shape[1] != n \
            or eabs.shape[0] != B or eabs.shape[1] != n or k.shape[0] != B \
            or R.shape[0] != n or A.shape[0] != n:
        raise ValueError("sync_sweeps: inconsistent shapes")
    if use_u:
        Uv = U
        if Uv.shape[0] < stop or Uv.shape[1] != B or Uv.shape[2] != n:
            raise ValueError("sync_sweeps: uniforms of the wrong shape")
        if Uv.shape[0] * B * n > 0:
            Up = &Uv[0, 0, 0]
    # scratch (malloc: cheaper than NumPy arrays for the small batches of training)
    cdef int64_t *fj = <int64_t *> malloc(max(B * n, 1) * sizeof(int64_t))
    cdef double *fd = <double *> malloc(max(B * n, 1) * sizeof(double))
    cdef int64_t *nf = <int64_t *> calloc(max(B, 1), sizeof(int64_t))
    if fj == NULL or fd == NULL or nf == NULL:
        free(fj)
        free(fd)
        free(nf)
        raise MemoryError()
    try:
        return _run(M, s, h, eabs, k, R, A, have_AR, n_terms, start, stop, Up, use_u, p,
                    fj, fd, nf)
    finally:
        free(fj)
        free(fd)
        free(nf)


cdef tuple _run(const double[:, ::1] M, double[:, ::1] s, double[:, ::1] h,
                const double[:, ::1] eabs, int64_t[::1] k, double[::1] R, double[::1] A,
                int have_AR, int64_t n_terms, int start, int stop,
                const double *Up, int use_u, double p,
                int64_t *fj, double *fd, int64_t *nf):
    cdef Py_ssize_t B = s.shape[0], n = s.shape[1]
    cdef Py_ssize_t b, i, j, f, t, nf_b, F
    cdef double hv, nv, tol, a0, a1, a2, a3, r0, r1, r2, r3, x0, x1, x2, x3
    cdef double m = 0.0, g = 0.0
    cdef double u = 1.1102230246251565e-16           # 2^-53
    cdef double tiny = 2.2250738585072014e-308       # 2^-1022
    for t in range(start, stop):
        # pass 1: decisions of every sample (nothing is changed before all are certified)
        for b in range(B):
            nf_b = 0
            if k[b] > 0:
                m = <double>(n_terms + k[b])
                g = m * u / (1.0 - m * u) * (1.0 + 9.5367431640625e-07)
            for i in range(n):
                if use_u and not (Up[(t * B + b) * n + i] < p):
                    continue
                hv = h[b, i]
                if k[b] > 0:
                    tol = g * (2.0 * A[i] + 2.0 * eabs[b, i] + 2.0 * <double>k[b] * R[i]) + m * tiny
                    if not (fabs(hv) > tol):
                        return t, have_AR
                nv = 1.0 if hv >= 0.0 else -1.0
                if nv != s[b, i]:
                    fj[b * n + nf_b] = i
                    fd[b * n + nf_b] = nv - s[b, i]
                    nf_b += 1
            nf[b] = nf_b
        # pass 2: apply the flips to the states and add their columns to the fields
        F = 0
        for b in range(B):
            F += nf[b]
            for j in range(nf[b]):
                s[b, fj[b * n + j]] += fd[b * n + j]
        if F == 0:
            continue
        for i in range(n):
            if not have_AR:                  # 4 partial sums / maxima: no latency chain
                a0 = a1 = a2 = a3 = 0.0
                r0 = r1 = r2 = r3 = 0.0
                j = 0
                while j + 4 <= n:
                    x0 = fabs(M[i, j])
                    x1 = fabs(M[i, j + 1])
                    x2 = fabs(M[i, j + 2])
                    x3 = fabs(M[i, j + 3])
                    a0 += x0
                    a1 += x1
                    a2 += x2
                    a3 += x3
                    r0 = x0 if x0 > r0 else r0
                    r1 = x1 if x1 > r1 else r1
                    r2 = x2 if x2 > r2 else r2
                    r3 = x3 if x3 > r3 else r3
                    j += 4
                while j < n:
                    x0 = fabs(M[i, j])
                    a0 += x0
                    r0 = x0 if x0 > r0 else r0
                    j += 1
                A[i] = (a0 + a1) + (a2 + a3)
                r0 = r1 if r1 > r0 else r0
                r2 = r3 if r3 > r2 else r2
                R[i] = r2 if r2 > r0 else r0
            for b in range(B):
                if nf[b] == 0:
                    continue
                a0 = a1 = a2 = a3 = 0.0          # 4 partial sums: no latency chain
                nf_b = nf[b]
                f = 0
                while f + 4 <= nf_b:
                    a0 += M[i, fj[b * n + f]] * fd[b * n + f]
                    a1 += M[i, fj[b * n + f + 1]] * fd[b * n + f + 1]
                    a2 += M[i, fj[b * n + f + 2]] * fd[b * n + f + 2]
                    a3 += M[i, fj[b * n + f + 3]] * fd[b * n + f + 3]
                    f += 4
                while f < nf_b:
                    a0 += M[i, fj[b * n + f]] * fd[b * n + f]
                    f += 1
                h[b, i] += (a0 + a1) + (a2 + a3)
        have_AR = 1
        for b in range(B):
            k[b] += nf[b]
    return stop, have_AR
