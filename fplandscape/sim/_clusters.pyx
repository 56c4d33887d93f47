"""Compiled kernels of :mod:`fplandscape.sim.clusters` (Hamming geometry of sets of packed states).

Conventions are those of :mod:`fplandscape.model`: a state is a ``uint64`` code, bit ``i`` set iff
``s_i = +1``; the Hamming distance of two codes is ``popcount(x ^ y)``. The inputs are validated
by :mod:`fplandscape.sim.clusters` (1-D C-contiguous uint64, distinct codes, no bit ≥ n, n ≤ 64,
1 ≤ r ≤ 3); these kernels do no checking.

* :func:`pair_hist` — unordered pairs i < j counted by distance, cache-blocked (tiles of
  ``BLOCK`` codes, so the inner loop streams one tile from L1), ``int64`` accumulators, one
  private histogram per thread (four interleaved sub-histograms each, so that consecutive pairs
  at the same distance do not serialise on one counter), summed at the end. Integer sums are
  exact, so the result does not depend on the number of threads or on the schedule. The
  popcount kernel is compiled twice (``popcnt`` instruction and baseline ISA) and chosen at load
  time (GCC function multi-versioning), both giving the same integers.
* :func:`neighbor_counts` / :func:`union_neighbors` — every code ``x ^ m`` with ``popcount(m)``
  in 1..r is looked up in an open-addressing hash table of the set (load ≤ 1/2, linear probing,
  splitmix64 finaliser as hash), i.e. O(M · Σ_{d ≤ r} C(n, d)) expected time.
"""
import numpy as np

cimport numpy as cnp
cimport cython
from cython.parallel cimport prange, threadid
from libc.stdint cimport int64_t, uint64_t
from libc.stdlib cimport calloc, free

cnp.import_array()

cdef extern from *:
    """
    #include <stdint.h>
    static inline int fpl_popcount64(uint64_t x) { return __builtin_popcountll(x); }

    static inline uint64_t fpl_mix64(uint64_t z) {
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
        return z ^ (z >> 31);
    }

    /* Distances of all pairs (a[i], b[j]) (j > i when diag, i.e. a == b) added to h, which
       holds 4 interleaved histograms of 65 int64 bins each (h[65*q + k]). */
    #if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__)
    __attribute__((target_clones("popcnt", "default")))
    #endif
    static void fpl_pair_tile(const uint64_t *restrict a, long na,
                              const uint64_t *restrict b, long nb,
                              int diag, int64_t *restrict h) {
        long i, j;
        for (i = 0; i < na; i++) {
            const uint64_t x = a[i];
            j = diag ? i + 1 : 0;
            for (; j + 4 <= nb; j += 4) {
                h[fpl_popcount64(x ^ b[j])]++;
                h[65 + fpl_popcount64(x ^ b[j + 1])]++;
                h[130 + fpl_popcount64(x ^ b[j + 2])]++;
                h[195 + fpl_popcount64(x ^ b[j + 3])]++;
            }
            for (; j < nb; j++) h[fpl_popcount64(x ^ b[j])]++;
        }
    }
    """
    int fpl_popcount64(uint64_t x) nogil
    uint64_t fpl_mix64(uint64_t z) nogil
    void fpl_pair_tile(const uint64_t *a, long na, const uint64_t *b, long nb,
                       int diag, int64_t *h) nogil

cdef enum:
    NBINS = 65          # distances 0..64
    NSUB = 4            # interleaved sub-histograms per thread
    STRIDE = 272        # per-thread stride (>= NSUB*NBINS = 260, multiple of 8: own cache lines)

BLOCK = 2048            # codes per tile (16 KiB)


@cython.boundscheck(False)
@cython.wraparound(False)
def pair_hist(const uint64_t[::1] codes, int n_threads, long block=2048):
    """int64 array (65,): number of unordered pairs i < j with popcount(codes[i]^codes[j]) = k."""
    cdef long M = codes.shape[0]
    cdef long T = (M + block - 1) // block
    cdef long bi, bj, i0, j0, na, nb
    cdef int tid, q, k
    cdef int64_t *buf
    cdef const uint64_t *p
    out = np.zeros(NBINS, dtype=np.int64)
    cdef int64_t[::1] o = out
    if M < 2:
        return out
    if n_threads < 1:
        n_threads = 1
    buf = <int64_t *> calloc(<size_t> n_threads * STRIDE, sizeof(int64_t))
    if buf == NULL:
        raise MemoryError()
    p = &codes[0]
    try:
        with nogil:
            for bi in prange(T, num_threads=n_threads, schedule="dynamic", chunksize=1):
                tid = threadid()
                i0 = bi * block
                na = block if i0 + block <= M else M - i0
                fpl_pair_tile(p + i0, na, p + i0, na, 1, buf + tid * STRIDE)
                for bj in range(bi + 1, T):
                    j0 = bj * block
                    nb = block if j0 + block <= M else M - j0
                    fpl_pair_tile(p + i0, na, p + j0, nb, 0, buf + tid * STRIDE)
        for tid in range(n_threads):
            for q in range(NSUB):
                for k in range(NBINS):
                    o[k] += buf[tid * STRIDE + q * NBINS + k]
    finally:
        free(buf)
    return out


# --------------------------------------------------------------------------------------------
# hash set of the codes (index lookup)


cdef inline long _lookup(const uint64_t *keys, const long *vals, uint64_t mask,
                         uint64_t key) noexcept nogil:
    """Index of ``key`` in the set, or -1."""
    cdef uint64_t h = fpl_mix64(key) & mask
    while vals[h] >= 0:
        if keys[h] == key:
            return vals[h]
        h = (h + 1) & mask
    return -1


cdef class _HashSet:
    cdef uint64_t *keys
    cdef long *vals
    cdef uint64_t mask

    def __cinit__(self, const uint64_t[::1] codes):
        cdef long M = codes.shape[0], i
        cdef uint64_t size = 2, h
        while size < 2 * <uint64_t> M:
            size <<= 1
        self.mask = size - 1
        self.keys = <uint64_t *> calloc(size, sizeof(uint64_t))
        self.vals = <long *> calloc(size, sizeof(long))
        if self.keys == NULL or self.vals == NULL:
            raise MemoryError()
        with nogil:
            for i in range(<long> size):
                self.vals[i] = -1
            for i in range(M):
                h = fpl_mix64(codes[i]) & self.mask
                while self.vals[h] >= 0:
                    h = (h + 1) & self.mask
                self.keys[h] = codes[i]
                self.vals[h] = i

    def __dealloc__(self):
        free(self.keys)
        free(self.vals)


@cython.boundscheck(False)
@cython.wraparound(False)
def neighbor_counts(const uint64_t[::1] codes, int n, int r, int n_threads):
    """int64 array (M, r): column d-1 = number of codes of the set at distance exactly d."""
    cdef long M = codes.shape[0]
    out = np.zeros((M, r), dtype=np.int64)
    if M == 0:
        return out
    cdef int64_t[:, ::1] o = out
    cdef _HashSet hs = _HashSet(codes)
    cdef const uint64_t *keys = hs.keys
    cdef const long *vals = hs.vals
    cdef uint64_t mask = hs.mask
    cdef long i
    cdef int a, b, c
    cdef uint64_t x, xa, xab
    cdef int64_t c1, c2, c3
    if n_threads < 1:
        n_threads = 1
    with nogil:
        for i in prange(M, num_threads=n_threads, schedule="static", chunksize=256):
            x = codes[i]
            c1 = 0
            c2 = 0
            c3 = 0
            for a in range(n):
                xa = x ^ ((<uint64_t> 1) << a)
                if _lookup(keys, vals, mask, xa) >= 0:
                    c1 = c1 + 1
                if r >= 2:
                    for b in range(a + 1, n):
                        xab = xa ^ ((<uint64_t> 1) << b)
                        if _lookup(keys, vals, mask, xab) >= 0:
                            c2 = c2 + 1
                        if r >= 3:
                            for c in range(b + 1, n):
                                if _lookup(keys, vals, mask, xab ^ ((<uint64_t> 1) << c)) >= 0:
                                    c3 = c3 + 1
            o[i, 0] = c1
            if r >= 2:
                o[i, 1] = c2
            if r >= 3:
                o[i, 2] = c3
    return out


cdef inline Py_ssize_t _find(Py_ssize_t *parent, Py_ssize_t i) noexcept nogil:
    while parent[i] != i:
        parent[i] = parent[parent[i]]
        i = parent[i]
    return i


cdef inline void _union(Py_ssize_t *parent, Py_ssize_t *size, Py_ssize_t i,
                        Py_ssize_t j) noexcept nogil:
    cdef Py_ssize_t a = _find(parent, i), b = _find(parent, j), t
    if a == b:
        return
    if size[a] < size[b]:
        t = a
        a = b
        b = t
    parent[b] = a
    size[a] += size[b]


@cython.boundscheck(False)
@cython.wraparound(False)
def component_roots(const uint64_t[::1] codes, int n, int r):
    """int64 array (M,): union–find root of each code, for the graph 'distance ≤ r'.

    Only neighbours with a larger index are united (each edge once)."""
    cdef long M = codes.shape[0]
    roots = np.arange(M, dtype=np.int64)
    if M == 0:
        return roots
    cdef _HashSet hs = _HashSet(codes)
    cdef const uint64_t *keys = hs.keys
    cdef const long *vals = hs.vals
    cdef uint64_t mask = hs.mask
    par_arr = np.arange(M, dtype=np.intp)
    siz_arr = np.ones(M, dtype=np.intp)
    cdef cnp.intp_t[::1] par_v = par_arr
    cdef cnp.intp_t[::1] siz_v = siz_arr
    cdef Py_ssize_t *parent = <Py_ssize_t *> &par_v[0]
    cdef Py_ssize_t *size = <Py_ssize_t *> &siz_v[0]
    cdef int64_t[::1] ro = roots
    cdef long i, j
    cdef int a, b, c
    cdef uint64_t x, xa, xab
    with nogil:
        for i in range(M):
            x = codes[i]
            for a in range(n):
                xa = x ^ ((<uint64_t> 1) << a)
                j = _lookup(keys, vals, mask, xa)
                if j > i:
                    _union(parent, size, i, j)
                if r >= 2:
                    for b in range(a + 1, n):
                        xab = xa ^ ((<uint64_t> 1) << b)
                        j = _lookup(keys, vals, mask, xab)
                        if j > i:
                            _union(parent, size, i, j)
                        if r >= 3:
                            for c in range(b + 1, n):
                                j = _lookup(keys, vals, mask, xab ^ ((<uint64_t> 1) << c))
                                if j > i:
                                    _union(parent, size, i, j)
        for i in range(M):
            ro[i] = _find(parent, i)
    return roots
