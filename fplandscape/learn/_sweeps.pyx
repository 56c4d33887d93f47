# cython: boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""Compiled kernel of :mod:`fplandscape.learn.sweeps`: synchronous sign sweeps of a batch with
incrementally updated fields and certified sign decisions (the argument is in the docstring of
:mod:`fplandscape.learn.sweeps`; this file only implements it).

``sync_sweeps(J, Ku, Kd, lam, s, h, eabs, k, R, A, have_AR, n_terms, start, stop, U, p,
back=None, fb=None, changed=None, JT=None)`` runs sweeps ``start..stop−1`` on the batch states
``s`` (B × n, n = L·H, float64, unit (l, i) at column l·H + i, updated in place) whose fields ``h``
(B × n) are maintained in place. The hidden couplings are given by blocks, never as one n × n
matrix: ``J`` (L, H, H), ``Ku`` / ``Kd`` (L−1, H, H) the learnable couplings from module l to
l+1 / from l+1 to l (arrays with a zero first axis when there are none) and the one-to-one λ.
After a sweep, the flips of sample b (unit (m, j) by d = s_new − s_old ∈ {±1, ±2}) add to
``h[b, (l, i)]`` the exact products J^l_ij·d (m = l), K^up_{l−1,ij}·d (m = l − 1),
K^down_{l,ij}·d (m = l + 1), summed per unit and added once, and separately λ·d to the units
(m ± 1, j). With ``JT`` (L, H, H) = the transposed blocks J^lᵀ (no K couplings; ``A``, ``R``
given, :func:`transpose_blocks`) the products are instead added one by one from the contiguous
row j of JT[m], read once per sweep for all the samples that flip (m, j) (the same terms in
another order: the same bound). ``k[b]`` bounds the number of floating terms added to a field of
sample b since it was last computed by the dense code (0: ``h[b]`` *is* the dense value, its
signs are taken as they are; a flip adds 1, or 2 with both λ and K couplings, a feedback change
2). For k[b] > 0 a unit's sign is accepted only when ``|h| > tol = γ_m (2 A_i + 2 eabs[b, i] + 2
k[b] R_i) + m·2^-1022`` with ``m = n_terms + k[b]``, ``γ_m = m u / (1 − m u)`` (u = 2^-53, times
1 + 2^-20 for the rounding of tol itself), ``A_i`` = Σ_j |J^l_ij| + Σ_j |K^up_{l−1,ij}| + Σ_j
|K^down_{l,ij}| and ``R_i`` = λ + the largest |entry| of those rows (computed in the first
update pass when ``have_AR`` is 0). A unit updates when ``U is None`` (p = 1) or ``U[t, b, i] <
p``.

Feedback that changes from sweep to sweep (``back`` (sweeps, B, H): the stored feedback field of
every sweep, entering the modules l with ``fb[l]`` ≠ 0; ``changed[t, b]`` ≠ 0 when sample b's
row differs from that of sweep t − 1): at the end of sweep t the kernel adds
``back[t+1, b] − back[t, b]`` to the fields of the feedback modules of every changed sample,
adds ``|back[t+1, b]| + |back[t, b]|`` to their ``eabs`` and 2 to ``k[b]``.

Returns ``(t, have_AR)``: t the number of the first sweep not done, ``stop`` when all were
done, or the sweep at which some updating unit's field lay inside its band (then ``s`` and ``h``
are those before sweep t — including the feedback of sweep t — and the caller recomputes the
fields densely and calls again from t); ``have_AR`` whether ``A`` and ``R`` now hold the row
sums and maxima.
"""
import numpy as np

from libc.math cimport fabs
from libc.stdint cimport int64_t
from libc.stdlib cimport calloc, free, malloc

cdef extern from *:
    """
    #define FPL_PREFETCH(p) __builtin_prefetch((p), 0, 3)
    """
    void FPL_PREFETCH(const void *p) noexcept nogil


def sync_sweeps(const double[:, :, ::1] J, const double[:, :, ::1] Ku,
                const double[:, :, ::1] Kd, double lam, double[:, ::1] s, double[:, ::1] h,
                double[:, ::1] eabs, int64_t[::1] k, double[::1] R, double[::1] A,
                int have_AR, int64_t n_terms, int start, int stop, U, double p,
                back=None, fb=None, changed=None, JT=None):
    cdef Py_ssize_t B = s.shape[0], n = s.shape[1]
    cdef Py_ssize_t L = J.shape[0], H = J.shape[1]
    cdef const double[:, :, ::1] Uv
    cdef const double[:, :, ::1] bv
    cdef const signed char[::1] fbv
    cdef const signed char[:, ::1] chv
    cdef const double *Up = NULL
    cdef const double *bp = NULL
    cdef const signed char *fbp = NULL
    cdef const signed char *chp = NULL
    cdef int use_u = U is not None
    cdef int has_K = Ku.shape[0] > 0
    cdef const double[:, :, ::1] JTv = J
    cdef int use_T = JT is not None
    if use_T:
        JTv = JT
        if has_K or JTv.shape[0] != L or JTv.shape[1] != H or JTv.shape[2] != H \
                or not have_AR:
            raise ValueError("sync_sweeps: the transposed blocks need A, R and no K couplings")
    if J.shape[2] != H or n != L * H or h.shape[0] != B or h.shape[1] != n \
            or eabs.shape[0] != B or eabs.shape[1] != n or k.shape[0] != B \
            or R.shape[0] != n or A.shape[0] != n \
            or (has_K and (Ku.shape[0] != L - 1 or Kd.shape[0] != L - 1 or Ku.shape[1] != H
                           or Ku.shape[2] != H or Kd.shape[1] != H or Kd.shape[2] != H)):
        raise ValueError("sync_sweeps: inconsistent shapes")
    if use_u:
        Uv = U
        if Uv.shape[0] < stop or Uv.shape[1] != B or Uv.shape[2] != n:
            raise ValueError("sync_sweeps: uniforms of the wrong shape")
        if Uv.shape[0] * B * n > 0:
            Up = &Uv[0, 0, 0]
    if back is not None:
        bv = back
        fbv = fb
        chv = changed
        if bv.shape[0] < stop or bv.shape[1] != B or bv.shape[2] != H or fbv.shape[0] != L \
                or chv.shape[0] < stop or chv.shape[1] != B:
            raise ValueError("sync_sweeps: feedback arrays of the wrong shape")
        if bv.shape[0] * B * H > 0:
            bp = &bv[0, 0, 0]
            chp = &chv[0, 0]
        fbp = &fbv[0]
    # scratch (malloc: cheaper than NumPy arrays for the small batches of training)
    cdef int64_t *fj = <int64_t *> malloc(max(B * n, 1) * sizeof(int64_t))
    cdef double *fd = <double *> malloc(max(B * n, 1) * sizeof(double))
    cdef int64_t *nf = <int64_t *> calloc(max(B, 1), sizeof(int64_t))
    cdef int64_t *off = <int64_t *> calloc(max(B * (L + 1), 1), sizeof(int64_t))
    # buckets of the flips by unit (transposed path): counts / starts (n + 1), sample ids
    cdef int64_t *cs = <int64_t *> calloc(n + 1, sizeof(int64_t))
    cdef int64_t *bb = <int64_t *> malloc(max(B * n, 1) * sizeof(int64_t))
    cdef double *bd = <double *> malloc(max(B * n, 1) * sizeof(double))
    if fj == NULL or fd == NULL or nf == NULL or off == NULL or cs == NULL or bb == NULL \
            or bd == NULL:
        free(fj)
        free(fd)
        free(nf)
        free(off)
        free(cs)
        free(bb)
        free(bd)
        raise MemoryError()
    try:
        return _run(J, Ku, Kd, has_K, lam, s, h, eabs, k, R, A, have_AR, n_terms, start, stop,
                    Up, use_u, p, bp, fbp, chp, fj, fd, nf, off, use_T, JTv, cs, bb, bd)
    finally:
        free(fj)
        free(fd)
        free(nf)
        free(off)
        free(cs)
        free(bb)
        free(bd)


cdef inline void _row_AR(const double[:, :, ::1] J, const double[:, :, ::1] Ku,
                         const double[:, :, ::1] Kd, int has_K, double lam, Py_ssize_t l,
                         Py_ssize_t i, double[::1] R, double[::1] A) noexcept nogil:
    """A and R of unit (l, i) (4 partial sums / maxima per row: no latency chain)."""
    cdef Py_ssize_t L = J.shape[0], H = J.shape[1], j, q
    cdef double a0 = 0.0, a1 = 0.0, a2 = 0.0, a3 = 0.0
    cdef double r0 = 0.0, r1 = 0.0, r2 = 0.0, r3 = 0.0, x0, x1, x2, x3
    cdef const double *row
    cdef int nrows = 1, rr
    for rr in range(3):
        if rr == 0:
            row = &J[l, i, 0]
        elif rr == 1:
            if not (has_K and l > 0):
                continue
            row = &Ku[l - 1, i, 0]
        else:
            if not (has_K and l < L - 1):
                continue
            row = &Kd[l, i, 0]
        j = 0
        while j + 4 <= H:
            x0 = fabs(row[j])
            x1 = fabs(row[j + 1])
            x2 = fabs(row[j + 2])
            x3 = fabs(row[j + 3])
            a0 += x0
            a1 += x1
            a2 += x2
            a3 += x3
            r0 = x0 if x0 > r0 else r0
            r1 = x1 if x1 > r1 else r1
            r2 = x2 if x2 > r2 else r2
            r3 = x3 if x3 > r3 else r3
            j += 4
        while j < H:
            x0 = fabs(row[j])
            a0 += x0
            r0 = x0 if x0 > r0 else r0
            j += 1
    q = l * H + i
    A[q] = (a0 + a1) + (a2 + a3)
    r0 = r1 if r1 > r0 else r0
    r2 = r3 if r3 > r2 else r2
    R[q] = (r2 if r2 > r0 else r0) + lam


cdef inline double _dot(const double *row, Py_ssize_t base, const int64_t *fj,
                        const double *fd, Py_ssize_t lo, Py_ssize_t hi) noexcept nogil:
    """Σ_{f = lo..hi−1} row[fj[f] − base]·fd[f] (4 partial sums: no latency chain)."""
    cdef double a0 = 0.0, a1 = 0.0, a2 = 0.0, a3 = 0.0
    cdef Py_ssize_t f = lo
    while f + 4 <= hi:
        a0 += row[fj[f] - base] * fd[f]
        a1 += row[fj[f + 1] - base] * fd[f + 1]
        a2 += row[fj[f + 2] - base] * fd[f + 2]
        a3 += row[fj[f + 3] - base] * fd[f + 3]
        f += 4
    while f < hi:
        a0 += row[fj[f] - base] * fd[f]
        f += 1
    return (a0 + a1) + (a2 + a3)


cdef tuple _run(const double[:, :, ::1] J, const double[:, :, ::1] Ku,
                const double[:, :, ::1] Kd, int has_K, double lam, double[:, ::1] s,
                double[:, ::1] h, double[:, ::1] eabs, int64_t[::1] k, double[::1] R,
                double[::1] A, int have_AR, int64_t n_terms, int start, int stop,
                const double *Up, int use_u, double p, const double *bp,
                const signed char *fbp, const signed char *chp,
                int64_t *fj, double *fd, int64_t *nf, int64_t *off, int use_T,
                const double[:, :, ::1] JT, int64_t *cs, int64_t *bb, double *bd):
    cdef Py_ssize_t B = s.shape[0], n = s.shape[1]
    cdef Py_ssize_t L = J.shape[0], H = J.shape[1]
    cdef Py_ssize_t b, i, j, l, q, t, f, nf_b, F, base, lo, hi
    cdef double hv, nv, tol, acc, bn, bo, d
    cdef double *hb
    cdef const double *row
    cdef double m = 0.0, g = 0.0
    cdef double u = 1.1102230246251565e-16           # 2^-53
    cdef double tiny = 2.2250738585072014e-308       # 2^-1022
    cdef int64_t per_flip = 2 if (lam != 0.0 and has_K) else 1
    for t in range(start, stop):
        # pass 1: decisions of every sample (nothing is changed before all are certified)
        for b in range(B):
            nf_b = 0
            if k[b] > 0:
                m = <double>(n_terms + k[b])
                g = m * u / (1.0 - m * u) * (1.0 + 9.5367431640625e-07)
            for l in range(L):
                off[b * (L + 1) + l] = nf_b
                for i in range(l * H, (l + 1) * H):
                    if use_u and not (Up[(t * B + b) * n + i] < p):
                        continue
                    hv = h[b, i]
                    if k[b] > 0:
                        tol = g * (2.0 * A[i] + 2.0 * eabs[b, i] + 2.0 * <double>k[b] * R[i]) \
                            + m * tiny
                        if not (fabs(hv) > tol):
                            return t, have_AR
                    nv = 1.0 if hv >= 0.0 else -1.0
                    if nv != s[b, i]:
                        fj[b * n + nf_b] = i
                        fd[b * n + nf_b] = nv - s[b, i]
                        nf_b += 1
            off[b * (L + 1) + L] = nf_b
            nf[b] = nf_b
        # pass 2: apply the flips to the states and add their columns to the fields
        F = 0
        for b in range(B):
            F += nf[b]
            for j in range(nf[b]):
                s[b, fj[b * n + j]] += fd[b * n + j]
        if F > 0 and use_T:
            # transposed path: per flipped unit (m, j), column j of J^m (row j of JT[m]) read
            # once and added, times d, to the fields of module m of every sample flipping it
            for q in range(n + 1):
                cs[q] = 0
            for b in range(B):
                for j in range(nf[b]):
                    cs[fj[b * n + j] + 1] += 1
            for q in range(n):
                cs[q + 1] += cs[q]
            for b in range(B):                # samples in increasing order within a bucket
                for j in range(nf[b]):
                    q = fj[b * n + j]
                    bb[cs[q]] = b
                    bd[cs[q]] = fd[b * n + j]
                    cs[q] += 1
            lo = 0
            for q in range(n):                # cs[q] is now the end of bucket q
                hi = cs[q]
                if hi == lo:
                    continue
                l = q // H
                row = &JT[l, q - l * H, 0]
                for f in range(lo, hi):
                    d = bd[f]
                    hb = &h[bb[f], l * H]
                    for i in range(H):
                        hb[i] += d * row[i]
                lo = hi
        elif F > 0:
            for l in range(L):
                for i in range(H):
                    q = l * H + i
                    if i + 1 < H:             # the next row into the cache, line by line:
                        j = 0                 # the gathers below hit it in random order
                        while j < H:
                            FPL_PREFETCH(&J[l, i + 1, j])
                            j += 8
                    if not have_AR:
                        _row_AR(J, Ku, Kd, has_K, lam, l, i, R, A)
                    for b in range(B):
                        if nf[b] == 0:
                            continue
                        base = b * (L + 1)
                        acc = _dot(&J[l, i, 0], l * H, fj + b * n, fd + b * n,
                                   off[base + l], off[base + l + 1])
                        if has_K:
                            if l > 0:
                                acc += _dot(&Ku[l - 1, i, 0], (l - 1) * H, fj + b * n,
                                            fd + b * n, off[base + l - 1], off[base + l])
                            if l < L - 1:
                                acc += _dot(&Kd[l, i, 0], (l + 1) * H, fj + b * n, fd + b * n,
                                            off[base + l + 1], off[base + l + 2])
                        h[b, q] += acc
            have_AR = 1
        if F > 0:
            if lam != 0.0 and L > 1:          # the one-to-one couplings: λ·d to (m ± 1, j)
                for b in range(B):
                    for j in range(nf[b]):
                        q = fj[b * n + j]
                        if q >= H:
                            h[b, q - H] += lam * fd[b * n + j]
                        if q < n - H:
                            h[b, q + H] += lam * fd[b * n + j]
            for b in range(B):
                k[b] += per_flip * nf[b]
        # the feedback of sweep t + 1, where it differs from that of sweep t
        if bp != NULL and t + 1 < stop:
            for b in range(B):
                if chp[(t + 1) * B + b] == 0:
                    continue
                if not have_AR:
                    for l in range(L):
                        for i in range(H):
                            _row_AR(J, Ku, Kd, has_K, lam, l, i, R, A)
                    have_AR = 1
                for l in range(L):
                    if fbp[l] == 0:
                        continue
                    for i in range(H):
                        q = l * H + i
                        bn = bp[((t + 1) * B + b) * H + i]
                        bo = bp[(t * B + b) * H + i]
                        h[b, q] += bn - bo
                        eabs[b, q] += fabs(bn) + fabs(bo)
                k[b] += 2
    return stop, have_AR


def transpose_blocks(const double[:, :, ::1] J, double[:, :, ::1] JT, double[::1] A,
                     double[::1] R, double lam):
    """JT[l] = J[l]ᵀ (cache-blocked copy) and, from the same reads, the row sums
    A[l·H + i] = Σ_j |J^l_ij| and R[l·H + i] = λ + max_j |J^l_ij| of the kernel's band (no K
    couplings)."""
    cdef Py_ssize_t L = J.shape[0], H = J.shape[1], l, i, j, i0, j0, i1, j1
    cdef Py_ssize_t T = 32
    cdef double x, a, r
    if J.shape[2] != H or JT.shape[0] != L or JT.shape[1] != H or JT.shape[2] != H \
            or A.shape[0] != L * H or R.shape[0] != L * H:
        raise ValueError("transpose_blocks: inconsistent shapes")
    with nogil:
        for l in range(L):
            for i in range(H):
                A[l * H + i] = 0.0
                R[l * H + i] = 0.0
            i0 = 0
            while i0 < H:
                i1 = i0 + T if i0 + T < H else H
                j0 = 0
                while j0 < H:
                    j1 = j0 + T if j0 + T < H else H
                    for i in range(i0, i1):
                        a = 0.0
                        r = R[l * H + i]
                        for j in range(j0, j1):
                            x = J[l, i, j]
                            JT[l, j, i] = x
                            x = fabs(x)
                            a += x
                            r = x if x > r else r
                        A[l * H + i] += a
                        R[l * H + i] = r
                    j0 = j1
                i0 = i1
            for i in range(H):
                R[l * H + i] += lam
    return None
