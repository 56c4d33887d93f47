"""Exact pruned depth-first enumeration of fixed points (compiled kernel, float64).

Conventions are those of :mod:`fplandscape.model` (never re-defined here):

* ``J`` is an N×N float64 C-contiguous matrix, diagonal included (self-couplings), N ≤ 64.
* Packed state: bit ``i`` of a ``uint64`` code is set iff ``s_i = +1``.
* Fixed point iff ``s_i h_i > 0`` for every i (strict), ``h_i = Σ_j J_ij s_j``.

Search. Spins are fixed in the order ``π`` (``order``): at depth t the spin ``s_{π_t}`` is set to
±1. Internally neurons are relabelled by their position in ``π`` (label k = neuron π_k), so the
fixed neurons at depth t are the labels 0..t. Expanding a node at depth t computes both children
at once, ``H± = H + (±1)·J[π_k, π_t]`` for all k, into two fresh slots of a per-depth stack
(nothing is ever subtracted or undone, so the fields at a node do not depend on the path taken to
it), together with both children's cut tests (one pass over memory; the inner loop is compiled
for AVX2 and for the baseline ISA and chosen at load time, with the same IEEE operations). The
free-spin bounds ``R[t, k] = Σ_{m ≥ t} |J[π_k, π_m]|`` are fresh suffix sums computed once, in the
order m = N−1 … t (no subtraction, so they never drift).

Pruning. After fixing depth t the branch is cut iff some fixed label k ≤ t has
``s_k H[t+1, k] + rt[t+1, k] < 0`` (evaluated in float64), where ``rt = fl(R + tol_k)``,
``tol_k = 4 (N+2) ε S_k + (N+2)·2^-1074``, ``S_k = Σ_j |J_{π_k j}|``, ε = DBL_EPSILON = 2u.
Rigour: the products ``J_ij s_j`` are exact and a float64 sum of at most N such terms, in any
order, is within ``γ_N S_k ≈ N u S_k`` of the exact sum (additions are exact in the subnormal
range, hence the tiny absolute floor in tol). Since rounding is monotone, the cut test holds iff
``s_k H + rt < 0`` exactly, so ``s_k H^exact + R^exact < −tol_k + u (S_k + tol_k) + 2 γ_N S_k``;
for every completion of the free spins the exact field obeys ``s_k h_k ≤ s_k H^exact + R^exact``,
and the canonical float64 field (summed j = 0..N−1, the brute-force reference) is within another
``γ_N S_k``: ``s_k h_k^canonical < −tol_k + (3N + 1) u S_k (1 + O(Nu)) < 0``. A cut therefore never
discards a state that the from-scratch check would accept (it may keep a few hopeless ones).
Rows with ``S_k > 1e300`` get ``tol_k = ∞``: never cut on, always recomputed at the leaf.

Leaf (all spins fixed): a label with ``|H[N, k]| > tol_k`` has the sign of its canonical field
(both are within ``N ε S_k/2`` of the exact field); otherwise the field is recomputed from
scratch in canonical order j = 0..N−1 exactly as :mod:`fplandscape.sim._stability` does, and the
strict test ``s_k h_k > 0`` uses that value. The accepted set is therefore identical to the
brute force's, exact ties (integer couplings) included.

Global flip: ``s → −s`` maps fixed points to fixed points for every J (``s_i h_i`` is invariant,
and float64 round-to-nearest is odd-symmetric, so also for the computed fields). The kernel fixes
``s_{π_0} = +1`` and emits every accepted state together with its flip.

Output: the number of accepted states with ``s_{π_0} = +1`` (the count is twice that), the
number of search nodes (spin assignments tried, pruned ones included) and, optionally, the codes
(a growing buffer up to ``max_states``; beyond that a seeded reservoir sample of size
``max_states`` over the stream of emitted codes, algorithm R with a splitmix64 generator).
The search runs without the GIL and polls for signals (Ctrl-C) every 2^22 nodes.
"""
import numpy as np

cimport numpy as cnp
from libc.float cimport DBL_EPSILON
from libc.math cimport fabs, INFINITY
from libc.stdint cimport uint64_t, int64_t
from libc.stdlib cimport free, malloc, realloc
from libc.string cimport memset

cnp.import_array()

cdef extern from "Python.h":
    int PyErr_CheckSignals()

cdef extern from *:
    """
    static inline uint64_t fpl_splitmix64(uint64_t *x) {
        uint64_t z = (*x += 0x9E3779B97F4A7C15ULL);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
        return z ^ (z >> 31);
    }
    /* uniform integer in [0, range), range >= 1, unbiased (rejection) */
    static inline uint64_t fpl_bounded(uint64_t *x, uint64_t range) {
        uint64_t threshold = (0 - range) % range;
        for (;;) {
            uint64_t r = fpl_splitmix64(x);
            if (r >= threshold) return r % range;
        }
    }
    /* Expand one node at depth t: both children's partial fields Hp = Ho + col (s_t = +1)
       and Hm = Ho - col (s_t = -1) over all n labels, and the cut test of each child on the
       fixed labels k <= t: cut iff sg[k]*H[k] + rt[k] < 0 (sg[t] = +1 resp. -1). Returns
       bit 0 set iff the + child survives, bit 1 iff the - child survives. Compiled for AVX2
       and for the baseline ISA, chosen at load time (GCC function multi-versioning); both
       clones perform the same IEEE double operations (no FMA), so the result is identical. */
    #if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__)
    __attribute__((target_clones("avx2", "default")))
    #endif
    static int fpl_expand(const double *restrict Ho, double *restrict Hp, double *restrict Hm,
                         const double *restrict col, const double *restrict rt,
                         const double *restrict sg, long n, long t) {
        long k;
        int badp = 0, badm = 0;
        for (k = 0; k < t; k++) {
            double a = Ho[k], b = col[k];
            double hp = a + b, hm = a - b;
            Hp[k] = hp; Hm[k] = hm;
            badp |= (sg[k] * hp + rt[k] < 0.0);
            badm |= (sg[k] * hm + rt[k] < 0.0);
        }
        {
            double hp = Ho[t] + col[t], hm = Ho[t] - col[t];
            Hp[t] = hp; Hm[t] = hm;
            badp |= (hp + rt[t] < 0.0);
            badm |= (-hm + rt[t] < 0.0);
        }
        for (k = t + 1; k < n; k++) {
            double a = Ho[k], b = col[k];
            Hp[k] = a + b; Hm[k] = a - b;
        }
        return (badp ? 0 : 1) | (badm ? 0 : 2);
    }
    """
    int fpl_expand(const double *Ho, double *Hp, double *Hm, const double *col,
                  const double *rt, const double *sg, long n, long t) noexcept nogil
    uint64_t fpl_splitmix64(uint64_t *x) noexcept nogil
    uint64_t fpl_bounded(uint64_t *x, uint64_t range) noexcept nogil

cdef enum:
    _MAX_N = 64
    _SIGNAL_MASK = (1 << 22) - 1

# rows whose Σ|J_ij| exceeds this get tol = inf: no pruning on them and an exact canonical
# recomputation at the leaf (guards against overflow of the partial sums near DBL_MAX)
cdef double _HUGE_ROW = 1e300

cdef enum Status:
    ST_DONE = 0
    ST_OOM = 1
    ST_INTERRUPTED = 2


cdef struct Ctx:
    Py_ssize_t n
    const double *J        # original matrix, row-major (canonical recomputation)
    const Py_ssize_t *perm # label k -> neuron perm[k]
    double *col            # col[t*n + k] = J[perm[k], perm[t]]
    double *rt             # rt[t*n + k] = R[t, k] + tol[k], t = 0..n
    double *tol            # tol[k]
    double *H              # fields: root (zeros), then slots (t, +) and (t, -) per depth
    double *sgn            # sgn[k] = s_{perm[k]} for fixed labels
    uint64_t *code         # code[t] = packed code of the fixed prefix 0..t-1 (original bits)
    uint64_t *bit          # bit[k] = 1 << perm[k]
    uint64_t full          # mask of the n bits
    # output
    uint64_t found         # accepted states with s_{perm[0]} = +1
    uint64_t nodes
    uint64_t *depth_nodes  # depth_nodes[t] = nodes at depth t
    bint store
    uint64_t max_states
    uint64_t *buf
    uint64_t cap
    uint64_t stored
    uint64_t seen          # codes emitted so far (reservoir stream position)
    uint64_t rng


cdef int _check_signals() noexcept with gil:
    return PyErr_CheckSignals()


cdef int _reraise() except -1:
    """Propagate the exception set by PyErr_CheckSignals."""
    return -1


cdef inline bint _canonical_stable(const Ctx *c, Py_ssize_t i, uint64_t code) noexcept nogil:
    """Strict s_i h_i > 0 with h_i summed from scratch, j = 0..n-1 (as _stability.pyx)."""
    cdef double h = 0.0
    cdef Py_ssize_t j
    cdef Py_ssize_t n = c.n
    cdef const double *row = c.J + i * n
    for j in range(n):
        h += row[j] * (1.0 if (code >> <uint64_t>j) & <uint64_t>1 else -1.0)
    cdef double si = 1.0 if (code >> <uint64_t>i) & <uint64_t>1 else -1.0
    return si * h > 0.0


cdef inline bint _leaf_accept(const Ctx *c, const double *Hl, uint64_t code) noexcept nogil:
    cdef Py_ssize_t n = c.n
    cdef Py_ssize_t k
    cdef double x
    for k in range(n):
        x = c.sgn[k] * Hl[k]
        if x > c.tol[k]:
            continue
        if x < -c.tol[k]:
            return False
        if not _canonical_stable(c, c.perm[k], code):
            return False
    return True


cdef inline int _emit(Ctx *c, uint64_t code) noexcept nogil:
    """Store one code (buffer, then reservoir). Returns 1 on out-of-memory."""
    cdef uint64_t j
    cdef uint64_t newcap
    cdef uint64_t *tmp
    if c.stored < c.max_states:
        if c.stored == c.cap:
            newcap = 2 * c.cap if c.cap else 1024
            if newcap > c.max_states:
                newcap = c.max_states
            tmp = <uint64_t *> realloc(c.buf, newcap * sizeof(uint64_t))
            if tmp == NULL:
                return 1
            c.buf = tmp
            c.cap = newcap
        c.buf[c.stored] = code
        c.stored += 1
    elif c.max_states > 0:
        j = fpl_bounded(&c.rng, c.seen + 1)
        if j < c.max_states:
            c.buf[j] = code
    c.seen += 1
    return 0


cdef Status _search(Ctx *c) noexcept nogil:
    cdef Py_ssize_t n = c.n
    cdef Py_ssize_t t = 0
    cdef int pending[_MAX_N]
    cdef char expanded[_MAX_N]
    cdef double *cur[_MAX_N + 1]
    cdef int v
    cdef uint64_t code
    memset(expanded, 0, sizeof(expanded))
    memset(c.H, 0, n * sizeof(double))
    cur[0] = c.H
    c.code[0] = 0
    while t >= 0:
        if not expanded[t]:
            expanded[t] = 1
            pending[t] = fpl_expand(cur[t], c.H + (2 * t + 1) * n, c.H + (2 * t + 2) * n,
                                   c.col + t * n, c.rt + (t + 1) * n, c.sgn, n, t)
            if t == 0:
                pending[t] &= 1      # global flip: s_{perm[0]} = +1 only
                c.nodes += 1
                c.depth_nodes[t] += 1
            else:
                c.nodes += 2
                c.depth_nodes[t] += 2
            if (c.nodes & _SIGNAL_MASK) < 2:
                if _check_signals() != 0:
                    return ST_INTERRUPTED
        if pending[t] & 1:
            v = 0
            pending[t] &= 2
            c.sgn[t] = 1.0
            c.code[t + 1] = c.code[t] | c.bit[t]
        elif pending[t] & 2:
            v = 1
            pending[t] = 0
            c.sgn[t] = -1.0
            c.code[t + 1] = c.code[t]
        else:
            expanded[t] = 0
            t -= 1
            continue
        cur[t + 1] = c.H + (2 * t + 1 + v) * n
        if t == n - 1:
            code = c.code[n]
            if _leaf_accept(c, cur[n], code):
                c.found += 1
                if c.store:
                    if _emit(c, code) or _emit(c, (~code) & c.full):
                        return ST_OOM
            continue
        t += 1
    return ST_DONE


def dfs_enumerate(const double[:, ::1] J, const int64_t[::1] order, bint return_states=False,
                  uint64_t max_states=10**7, uint64_t seed=0):
    """Pruned DFS over all states of ``J`` in spin order ``order`` (a permutation of 0..N-1).

    Returns ``(count, states, truncated, nodes, profile)``: ``count`` the exact number of fixed
    points (Python int), ``states`` a uint64 array of codes (unsorted; all of them, or a uniform
    seeded reservoir sample of ``max_states`` when there are more) or ``None`` when
    ``return_states`` is false, ``truncated`` whether the states are a sample, ``nodes`` the
    number of search nodes (children generated, cut ones included), ``profile`` the nodes per
    depth (uint64, length N). Plain ``ValueError`` on shape/order errors (validation with
    InputError lives in :mod:`fplandscape.sim.enumerate`).
    """
    cdef Py_ssize_t n = J.shape[0]
    if J.shape[1] != n:
        raise ValueError(f"J must be square, got shape {J.shape[0]}x{J.shape[1]}")
    if n < 1 or n > _MAX_N:
        raise ValueError(f"N = {n} out of range for the DFS kernel (1 <= N <= {_MAX_N})")
    if order.shape[0] != n:
        raise ValueError(f"order must have length N = {n}, got {order.shape[0]}")
    cdef Py_ssize_t perm[_MAX_N]
    cdef uint64_t bits[_MAX_N]
    cdef char seen_idx[_MAX_N]
    cdef Py_ssize_t k, t, m
    memset(seen_idx, 0, sizeof(seen_idx))
    for k in range(n):
        if order[k] < 0 or order[k] >= n or seen_idx[order[k]]:
            raise ValueError("order must be a permutation of 0..N-1")
        seen_idx[order[k]] = 1
        perm[k] = <Py_ssize_t> order[k]
        bits[k] = (<uint64_t>1) << <uint64_t>perm[k]

    cdef Ctx c
    memset(&c, 0, sizeof(Ctx))
    c.n = n
    c.J = &J[0, 0]
    c.perm = perm
    c.bit = bits
    c.full = (~(<uint64_t>0)) if n == 64 else (((<uint64_t>1) << <uint64_t>n) - 1)
    c.store = return_states
    c.max_states = max_states if return_states else 0
    c.rng = seed
    cdef double *block = <double *> malloc((4 * n * n + 4 * n) * sizeof(double))
    cdef uint64_t *codes = <uint64_t *> malloc((2 * n + 1) * sizeof(uint64_t))
    if block == NULL or codes == NULL:
        free(block)
        free(codes)
        raise MemoryError()
    c.col = block                            # n*n
    c.rt = block + n * n                     # (n+1)*n
    c.tol = block + 2 * n * n + n            # n
    c.sgn = block + 2 * n * n + 2 * n        # n
    c.H = block + 2 * n * n + 3 * n          # (2n+1)*n: root, then 2 slots per depth
    c.code = codes
    c.depth_nodes = codes + n + 1
    memset(c.depth_nodes, 0, n * sizeof(uint64_t))
    cdef double rowsum, r
    cdef Status status
    cdef uint64_t[::1] out
    try:
        for k in range(n):
            rowsum = 0.0
            for m in range(n):
                rowsum += fabs(J[perm[k], m])
            if rowsum > _HUGE_ROW:
                c.tol[k] = INFINITY
            else:
                c.tol[k] = 4.0 * (n + 2) * DBL_EPSILON * rowsum + (n + 2) * 4.9406564584124654e-324
            # suffix sums of |J| over the free labels, fresh in the order m = n-1 .. t
            r = 0.0
            c.rt[n * n + k] = r + c.tol[k]
            for t in range(n - 1, -1, -1):
                r = r + fabs(J[perm[k], perm[t]])
                c.rt[t * n + k] = r + c.tol[k]
        for t in range(n):
            for k in range(n):
                c.col[t * n + k] = J[perm[k], perm[t]]
        with nogil:
            status = _search(&c)
        if status == ST_INTERRUPTED:
            _reraise()
        if status == ST_OOM:
            raise MemoryError("out of memory while storing fixed points")
        count = 2 * int(c.found)
        states = None
        if return_states:
            states = np.empty(<Py_ssize_t> c.stored, dtype=np.uint64)
            out = states
            for m in range(<Py_ssize_t> c.stored):
                out[m] = c.buf[m]
        truncated = bool(return_states and c.seen > c.stored)
        profile = np.empty(n, dtype=np.uint64)
        out = profile
        for m in range(n):
            out[m] = c.depth_nodes[m]
        return count, states, truncated, int(c.nodes), profile
    finally:
        free(block)
        free(codes)
        free(c.buf)
