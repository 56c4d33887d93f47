"""Exact pruned depth-first enumeration of fixed points (compiled kernel, float64).

Conventions are those of :mod:`fplandscape.model` (never re-defined here):

* ``J`` is an N×N float64 C-contiguous matrix, diagonal included (self-couplings), N ≤ 64.
* Packed state: bit ``i`` of a ``uint64`` code is set iff ``s_i = +1``.
* Fixed point iff ``s_i h_i > 0`` for every i (strict), ``h_i = Σ_j J_ij s_j``, decided
  **exactly** on the stored float64 numbers (the predicate of :mod:`fplandscape.sim._stability`).

Search. Spins are fixed in the order ``π`` (``order``): at depth t the spin ``s_{π_t}`` is set to
±1. Internally neurons are relabelled by their position in ``π`` (label k = neuron π_k), so the
fixed neurons at depth t are the labels 0..t. Expanding a node at depth t computes both children
at once, ``H± = H + (±1)·J[π_k, π_t]`` for all k, into two fresh slots of a per-depth stack
(nothing is ever subtracted or undone, so the fields at a node do not depend on the path taken to
it), together with both children's cut tests (one pass over memory; the inner loop is compiled
for AVX2 and for the baseline ISA and chosen at load time, with the same IEEE operations). The
free-spin bounds ``R[t, k] = Σ_{m ≥ t} |J[π_k, π_m]|`` are fresh suffix sums computed once, in the
order m = N−1 … t (no subtraction, so they never drift).

Rounding bound. Every term ``J_ij s_j`` is exact (s_j = ±1), and a float64 sum of at most N such
terms, in any order, is within ``γ_N S_k`` of the exact sum, ``S_k = Σ_j |J_{π_k j}|``,
``γ_N = N u / (1 − N u)``, u = 2^-53 (an addition whose result is subnormal is exact, so no
absolute term is needed for the sums; the floor in tol only covers the rounding of tol itself).
Both the partial fields ``H`` (t + 1 terms along the path) and the suffix sums R obey this.
``tol_k = 4 (N+2) ε S_k + (N+2)·2^-1074`` (ε = DBL_EPSILON = 2u, so tol_k ≥ 8 (N+2) u S_k;
``fpl_row_tol`` of ``fplandscape/sim/_exact.pxd``).

Pruning. After fixing depth t the branch is cut iff some fixed label k ≤ t has
``s_k H[t+1, k] + rt[t+1, k] < 0`` (evaluated in float64), where ``rt = fl(R + tol_k)``.
Rigour w.r.t. the exact predicate: rounding is monotone and fl(x) < 0 only if x < 0, so the
cut test holds only if the real number ``s_k H + rt < 0``. With ``s_k H^exact ≤ s_k H + γ_N S_k``,
``R^exact ≤ R + γ_N S_k``, ``R + tol_k ≤ rt (1 + u)`` and ``rt ≤ (1 + u)(S_k (1 + γ_N) + tol_k)``:
``s_k H^exact + R^exact < −tol_k + 2 γ_N S_k + u (1 + u)(S_k (1 + γ_N) + tol_k) < 0``. For every
completion of the free spins the exact stability obeys ``s_k h_k ≤ s_k H^exact + R^exact``, so
it is **strictly negative** on the whole discarded subtree: a cut never discards a state the
exact (or the brute-force) check accepts (it may keep a few hopeless ones).
Rows with ``S_k > 1e300`` get ``tol_k = ∞``: never cut on, always decided exactly at the leaf.

Leaf (all spins fixed): a label with ``|H[N, k]| > tol_k`` has the sign of its exact field
(H is within ``γ_N S_k < tol_k`` of it); otherwise the sign of the exact sum of the stored terms
``J_{π_k j} s_j`` is computed with the integer super-accumulator of ``_exact.pxd`` (no
rounding), and the strict test uses it. The accepted set is therefore exactly the set of states
with every exact stability > 0, the same as the brute force's, ties and lost small terms
included.

Global flip: ``s → −s`` maps fixed points to fixed points for every J (``s_i h_i`` is invariant,
and float64 round-to-nearest is odd-symmetric, so also for the computed fields). The kernel fixes
``s_{π_0} = +1`` and emits every accepted state together with its flip.

Output: the number of accepted states with ``s_{π_0} = +1`` (the count is twice that), the
number of search nodes (spin assignments tried, pruned ones included) and, optionally, the codes
(a growing buffer up to ``max_states``; beyond that the ``max_states`` codes with the smallest
sample key ``fpl_key(code, seed)``, a bijective splitmix64 mix of the code, kept in a max-heap:
a bottom-k sample, which is a deterministic function of the fixed-point set and the seed, so it
is the same however the search is split into tasks and merged; see ``sample_keys``).

Prefix tasks: with ``prefix_depth = d > 1`` the search is restricted to the subtree whose spins
``s_{π_1}..s_{π_{d−1}}`` are fixed by the bits of ``prefix`` (bit t−1 set ⇔ ``s_{π_t} = −1``).
The 2^{d−1} prefixes partition the serial search tree, so counts and code sets add up exactly.
An expansion at depth t < d is shared by all prefixes that agree on depths 1..t−1; it is counted
in ``nodes`` only by the one whose bits for depths t..d−1 are 0 (``prefix >> (t−1) == 0``, i.e.
the first of them in the serial order), so node counts also add up to the serial ones.
The search runs without the GIL and polls for signals (Ctrl-C) and for the stop flag of
:func:`request_stop` every 2^22 nodes (``fpl_poll`` of ``fplandscape/sim/_epilogue.pxd``).
"""
import numpy as np

cimport numpy as cnp
from libc.math cimport fabs
from libc.stdint cimport uint64_t, int64_t
from libc.stdlib cimport free, malloc, realloc
from libc.string cimport memset

from fplandscape.sim._epilogue cimport (fpl_poll, fpl_reraise, fpl_stop_set,
                                         fpl_u64_array)
from fplandscape.sim._exact cimport fpl_exact_sign_code, fpl_row_band

cnp.import_array()

cdef extern from *:
    """
    static inline uint64_t fpl_splitmix64(uint64_t *x) {
        uint64_t z = (*x += 0x9E3779B97F4A7C15ULL);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
        return z ^ (z >> 31);
    }
    /* sample key of a code: splitmix64 finaliser of code ^ salt (a bijection of uint64) */
    static inline uint64_t fpl_key(uint64_t code, uint64_t salt) {
        uint64_t z = code ^ salt;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
        return z ^ (z >> 31);
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
    uint64_t fpl_key(uint64_t code, uint64_t salt) noexcept nogil

cdef enum:
    _MAX_N = 64
    _SIGNAL_MASK = (1 << 22) - 1

cdef enum Status:
    ST_DONE = 0
    ST_OOM = 1
    ST_INTERRUPTED = 2


cdef struct Ctx:
    Py_ssize_t n
    const double *J        # original matrix, row-major (exact leaf decisions)
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
    uint64_t *keys         # sample keys of buf once it is a heap (allocated when full)
    uint64_t cap
    uint64_t stored
    uint64_t seen          # codes emitted so far
    uint64_t salt          # fpl_key salt derived from the seed
    # prefix task
    Py_ssize_t prefix_depth
    uint64_t prefix


cdef inline bint _leaf_accept(const Ctx *c, const double *Hl, uint64_t code) noexcept nogil:
    """Exact strict predicate at a leaf: float sign outside the band |H| ≤ tol, exact inside."""
    cdef Py_ssize_t n = c.n
    cdef Py_ssize_t k, i
    cdef double x
    for k in range(n):
        x = c.sgn[k] * Hl[k]
        if x > c.tol[k]:
            continue
        if x < -c.tol[k]:
            return False
        i = c.perm[k]
        if c.sgn[k] * fpl_exact_sign_code(c.J + i * n, 1, n, code) <= 0:
            return False
    return True


cdef inline void _sift_down(uint64_t *keys, uint64_t *buf, uint64_t m, uint64_t i) noexcept nogil:
    """Restore the max-heap property (by key) below position i."""
    cdef uint64_t l, r, big, tk, tc
    while True:
        l = 2 * i + 1
        if l >= m:
            return
        r = l + 1
        big = r if (r < m and keys[r] > keys[l]) else l
        if keys[big] <= keys[i]:
            return
        tk = keys[i]; keys[i] = keys[big]; keys[big] = tk
        tc = buf[i]; buf[i] = buf[big]; buf[big] = tc
        i = big


cdef inline int _emit(Ctx *c, uint64_t code) noexcept nogil:
    """Store one code: a growing buffer up to max_states codes, then a bottom-k sample (the
    max_states codes of smallest key, a max-heap on the key). Returns 1 on out-of-memory."""
    cdef uint64_t newcap, k, i
    cdef uint64_t *tmp
    c.seen += 1
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
        return 0
    if c.max_states == 0:
        return 0
    if c.keys == NULL:
        # buffer just became full: build the heap
        c.keys = <uint64_t *> malloc(c.max_states * sizeof(uint64_t))
        if c.keys == NULL:
            return 1
        for i in range(c.max_states):
            c.keys[i] = fpl_key(c.buf[i], c.salt)
        i = c.max_states // 2
        while i > 0:
            i -= 1
            _sift_down(c.keys, c.buf, c.max_states, i)
    k = fpl_key(code, c.salt)
    if k < c.keys[0]:
        c.keys[0] = k
        c.buf[0] = code
        _sift_down(c.keys, c.buf, c.max_states, 0)
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
                if c.prefix == 0:
                    c.nodes += 1
                    c.depth_nodes[t] += 1
            else:
                if t < c.prefix_depth:   # prefix task: the spin is forced
                    pending[t] &= 2 if (c.prefix >> <uint64_t>(t - 1)) & 1 else 1
                if t >= c.prefix_depth or (c.prefix >> <uint64_t>(t - 1)) == 0:
                    c.nodes += 2
                    c.depth_nodes[t] += 2
            if (c.nodes & _SIGNAL_MASK) < 2 and fpl_poll(b"search stopped by request_stop()"):
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
                  uint64_t max_states=10**7, uint64_t seed=0, Py_ssize_t prefix_depth=1,
                  uint64_t prefix=0):
    """Pruned DFS over all states of ``J`` in spin order ``order`` (a permutation of 0..N-1).

    Returns ``(count, states, truncated, nodes, profile)``: ``count`` the exact number of fixed
    points (Python int), ``states`` a uint64 array of codes (unsorted; all of them, or a uniform
    bottom-k sample of ``max_states`` by :func:`sample_keys` when there are more) or ``None``
    when ``return_states`` is false, ``truncated`` whether the states are a sample, ``nodes`` the
    number of search nodes (children generated, cut ones included), ``profile`` the nodes per
    depth (uint64, length N). With ``prefix_depth`` d > 1 only the prefix task ``prefix``
    (0 ≤ prefix < 2^{d−1}) is searched (module docstring). Plain ``ValueError`` on shape/order errors (validation with
    InputError lives in :mod:`fplandscape.sim.enumerate`).
    """
    cdef Py_ssize_t n = J.shape[0]
    if J.shape[1] != n:
        raise ValueError(f"J must be square, got shape {J.shape[0]}x{J.shape[1]}")
    if n < 1 or n > _MAX_N:
        raise ValueError(f"N = {n} out of range for the DFS kernel (1 <= N <= {_MAX_N})")
    if order.shape[0] != n:
        raise ValueError(f"order must have length N = {n}, got {order.shape[0]}")
    if prefix_depth < 1 or prefix_depth > n:
        raise ValueError(f"prefix_depth must be in 1..N = {n}, got {prefix_depth}")
    if prefix_depth < 64 and prefix >= ((<uint64_t>1) << <uint64_t>(prefix_depth - 1)):
        raise ValueError(f"prefix must be below 2^(prefix_depth-1), got {prefix}")
    cdef Py_ssize_t perm[_MAX_N]
    cdef uint64_t bits[_MAX_N]
    cdef char seen_idx[_MAX_N]
    cdef Py_ssize_t k, t
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
    c.salt = _salt(seed)
    c.prefix_depth = prefix_depth
    c.prefix = prefix
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
    cdef double r
    cdef Status status
    try:
        for k in range(n):
            # the band of row perm[k] (no band-0 shortcut here); infinite for S_k > 1e300
            c.tol[k] = fpl_row_band(&J[perm[k], 0], 1, n, <double> n, -1)
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
            fpl_reraise()
        if status == ST_OOM:
            raise MemoryError("out of memory while storing fixed points")
        count = 2 * int(c.found)
        states = fpl_u64_array(c.buf, <Py_ssize_t> c.stored) if return_states else None
        truncated = bool(return_states and c.seen > c.stored)
        profile = fpl_u64_array(c.depth_nodes, n)
        return count, states, truncated, int(c.nodes), profile
    finally:
        free(block)
        free(codes)
        free(c.buf)
        free(c.keys)


def request_stop():
    """Make every running search stop at its next poll (within ~2^22 nodes) with
    KeyboardInterrupt; searches started afterwards stop at once until :func:`clear_stop`."""
    fpl_stop_set(1)


def clear_stop():
    """Allow searches to run again after :func:`request_stop`."""
    fpl_stop_set(0)


cdef uint64_t _salt(uint64_t seed) noexcept:
    cdef uint64_t x = seed
    return fpl_splitmix64(&x)


def sample_keys(const uint64_t[::1] codes, uint64_t seed=0):
    """Sample keys of packed codes (uint64): ``fpl_key(code, salt(seed))``, the splitmix64
    finaliser of ``code ^ salt``; a bijection of uint64, so distinct codes have distinct keys.
    When there are more fixed points than ``max_states``, the kept ones are those with the
    smallest keys (a bottom-k sample: uniform over k-subsets for a random-looking key)."""
    cdef Py_ssize_t m = codes.shape[0], i
    cdef uint64_t salt = _salt(seed)
    out = np.empty(m, dtype=np.uint64)
    cdef uint64_t[::1] o = out
    for i in range(m):
        o[i] = fpl_key(codes[i], salt)
    return out
