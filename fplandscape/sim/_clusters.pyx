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
* :func:`pair_hist` with ``kernel=1`` / ``kernel=2`` — the same tiles on AVX-512 (``VPOPCNTDQ``),
  compiled with a GCC ``target`` attribute and used only if the CPU has it (:data:`HAVE_AVX512`,
  checked at import). Eight (``kernel=1``, 64-bit lanes) or sixteen (``kernel=2``, 32-bit lanes,
  codes < 2³²) pairs per vector: ``d = popcount(x ^ y)``, one-hot word ``1 << d`` (0 when ``d`` is
  the lane width), and a *positional popcount* of the one-hot words — a Harley–Seal carry-save
  adder tree over 32 vectors followed by a ripple-carry bit-sliced counter (``FPL_K`` levels,
  decoded into the int64 histogram before it can overflow). The top bin (d = 64, resp. 32) is
  ``#pairs − Σ other bins``. Integers throughout, so the same result as ``kernel=0``.
* :func:`cube_weight_sums` — ``W(w) = Σ_{|u| = w} F(u)²`` for the Walsh–Hadamard transform ``F`` of
  the indicator of the set on {0,1}ⁿ (int32 in-place fast transform, exact since |F| ≤ M;
  uint64 sums, exact since Σ_u F(u)² = 2ⁿ M < 2⁶⁴ for n ≤ 31), for the cube method of
  :func:`fplandscape.sim.clusters.pair_distance_histogram`.
* :func:`neighbor_counts` / :func:`component_roots` — every code ``x ^ m`` with ``popcount(m)``
  in 1..r is looked up in an open-addressing hash table of the set (load ≤ 1/2, linear probing,
  splitmix64 finaliser as hash), i.e. O(M · Σ_{d ≤ r} C(n, d)) expected time;
  :func:`component_roots` unites each code with the neighbours it finds (union–find with path
  halving and union by size) and returns each code's root, for
  :func:`fplandscape.sim.clusters.find_clusters`.
"""
import numpy as np

cimport numpy as cnp
cimport cython
from cython.parallel cimport prange, threadid
from libc.stdint cimport int32_t, int64_t, uint32_t, uint64_t
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

    /* ---------------------------------------------------------------------------------
       AVX-512 VPOPCNTDQ tiles (runtime dispatch, see fpl_have_avx512). */
    #if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__)
    #define FPL_X86_AVX512 1
    #include <immintrin.h>
    #define FPL_AVX512 __attribute__((target("popcnt,avx512f,avx512vpopcntdq")))
    #else
    #define FPL_X86_AVX512 0
    #endif

    #define FPL_K 8                              /* ripple-counter levels (units of 32) */
    #define FPL_MAXG ((1L << FPL_K) - 1)         /* groups of 32 vectors between flushes */
    /* per-thread state: ones, twos, fours, eights, sixteens, c[0..K-1] (8 words each), then
       groups, pairs */
    #define FPL_STATE_WORDS ((5 + FPL_K) * 8 + 8)

    static int fpl_have_avx512(void) {
    #if FPL_X86_AVX512
        __builtin_cpu_init();
        return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vpopcntdq");
    #else
        return 0;
    #endif
    }

    /* Add weight * (bit b of lane) to hs[b] for each set bit of the 512-bit vector v (8 words);
       lanebits = 64 (bin = bit) or 32 (two lanes per word, bin = bit & 31). */
    static void fpl_decode(const uint64_t *v, int64_t weight, int lanebits, int64_t *hs) {
        int w;
        uint64_t x;
        const int mask = lanebits - 1;
        for (w = 0; w < 8; w++) {
            x = v[w];
            while (x) {
                hs[__builtin_ctzll(x) & mask] += weight;
                x &= x - 1;
            }
        }
    }

    /* Decode (and clear) everything still held in a thread's state. */
    static void fpl_state_flush(uint64_t *st, int lanebits, int64_t *hs) {
        int k;
        for (k = 0; k < 5; k++) fpl_decode(st + 8 * k, (int64_t) 1 << k, lanebits, hs);
        for (k = 0; k < FPL_K; k++) fpl_decode(st + 40 + 8 * k, (int64_t) 32 << k, lanebits, hs);
        for (k = 0; k < (5 + FPL_K) * 8; k++) st[k] = 0;
        st[(5 + FPL_K) * 8] = 0;
    }

    #if FPL_X86_AVX512
    #define FPL_CSA(h, l, a, b, c) do {                                          \
            const __m512i a_ = (a), b_ = (b), c_ = (c);                          \
            h = _mm512_ternarylogic_epi64(a_, b_, c_, 0xE8);                     \
            l = _mm512_ternarylogic_epi64(a_, b_, c_, 0x96);                     \
        } while (0)
    #define FPL_RIP(k) do { t_ = _mm512_and_si512(c##k, carry_);                 \
            c##k = _mm512_xor_si512(c##k, carry_); carry_ = t_; } while (0)
    #define FPL_FLUSH1(k) do { _mm512_storeu_si512((void *) tmp_, c##k);         \
            fpl_decode(tmp_, (int64_t) 32 << k, LANEBITS, hs);                   \
            c##k = _mm512_setzero_si512(); } while (0)

    /* Body shared by the 64- and 32-bit lane kernels: IN(q) is the one-hot vector of the q-th
       vector of the current group (q = 0..31), G the number of codes b[j] per group. */
    #define FPL_TILE_BODY(SCALAR_POPCNT)                                                     \
        __m512i ones = _mm512_loadu_si512((const void *) (st + 0));                          \
        __m512i twos = _mm512_loadu_si512((const void *) (st + 8));                          \
        __m512i fours = _mm512_loadu_si512((const void *) (st + 16));                        \
        __m512i eights = _mm512_loadu_si512((const void *) (st + 24));                       \
        __m512i sixteens = _mm512_loadu_si512((const void *) (st + 32));                     \
        __m512i c0 = _mm512_loadu_si512((const void *) (st + 40));                           \
        __m512i c1 = _mm512_loadu_si512((const void *) (st + 48));                           \
        __m512i c2 = _mm512_loadu_si512((const void *) (st + 56));                           \
        __m512i c3 = _mm512_loadu_si512((const void *) (st + 64));                           \
        __m512i c4 = _mm512_loadu_si512((const void *) (st + 72));                           \
        __m512i c5 = _mm512_loadu_si512((const void *) (st + 80));                           \
        __m512i c6 = _mm512_loadu_si512((const void *) (st + 88));                           \
        __m512i c7 = _mm512_loadu_si512((const void *) (st + 96));                           \
        long groups = (long) st[104];                                                        \
        uint64_t pairs = st[105];                                                            \
        uint64_t tmp_[8];                                                                    \
        long i, j;                                                                           \
        for (i = 0; i < na; i++) {                                                           \
            SET_X(a[i]);                                                                     \
            j = diag ? i + 1 : 0;                                                            \
            for (; j + G <= nb; j += G) {                                                    \
                __m512i twosA, twosB, foursA, foursB, eightsA, eightsB, sixteensA,          \
                        sixteensB, carry_, t_;                                               \
                const TYPE *bj = b + j;                                                      \
                FPL_CSA(twosA, ones, ones, IN(0), IN(1));                                    \
                FPL_CSA(twosB, ones, ones, IN(2), IN(3));                                    \
                FPL_CSA(foursA, twos, twos, twosA, twosB);                                   \
                FPL_CSA(twosA, ones, ones, IN(4), IN(5));                                    \
                FPL_CSA(twosB, ones, ones, IN(6), IN(7));                                    \
                FPL_CSA(foursB, twos, twos, twosA, twosB);                                   \
                FPL_CSA(eightsA, fours, fours, foursA, foursB);                              \
                FPL_CSA(twosA, ones, ones, IN(8), IN(9));                                    \
                FPL_CSA(twosB, ones, ones, IN(10), IN(11));                                  \
                FPL_CSA(foursA, twos, twos, twosA, twosB);                                   \
                FPL_CSA(twosA, ones, ones, IN(12), IN(13));                                  \
                FPL_CSA(twosB, ones, ones, IN(14), IN(15));                                  \
                FPL_CSA(foursB, twos, twos, twosA, twosB);                                   \
                FPL_CSA(eightsB, fours, fours, foursA, foursB);                              \
                FPL_CSA(sixteensA, eights, eights, eightsA, eightsB);                        \
                FPL_CSA(twosA, ones, ones, IN(16), IN(17));                                  \
                FPL_CSA(twosB, ones, ones, IN(18), IN(19));                                  \
                FPL_CSA(foursA, twos, twos, twosA, twosB);                                   \
                FPL_CSA(twosA, ones, ones, IN(20), IN(21));                                  \
                FPL_CSA(twosB, ones, ones, IN(22), IN(23));                                  \
                FPL_CSA(foursB, twos, twos, twosA, twosB);                                   \
                FPL_CSA(eightsA, fours, fours, foursA, foursB);                              \
                FPL_CSA(twosA, ones, ones, IN(24), IN(25));                                  \
                FPL_CSA(twosB, ones, ones, IN(26), IN(27));                                  \
                FPL_CSA(foursA, twos, twos, twosA, twosB);                                   \
                FPL_CSA(twosA, ones, ones, IN(28), IN(29));                                  \
                FPL_CSA(twosB, ones, ones, IN(30), IN(31));                                  \
                FPL_CSA(foursB, twos, twos, twosA, twosB);                                   \
                FPL_CSA(eightsB, fours, fours, foursA, foursB);                              \
                FPL_CSA(sixteensB, eights, eights, eightsA, eightsB);                        \
                FPL_CSA(carry_, sixteens, sixteens, sixteensA, sixteensB);                   \
                FPL_RIP(0); FPL_RIP(1); FPL_RIP(2); FPL_RIP(3);                              \
                FPL_RIP(4); FPL_RIP(5); FPL_RIP(6); FPL_RIP(7);                              \
                pairs += G;                                                                  \
                if (++groups == FPL_MAXG) {                                                  \
                    FPL_FLUSH1(0); FPL_FLUSH1(1); FPL_FLUSH1(2); FPL_FLUSH1(3);              \
                    FPL_FLUSH1(4); FPL_FLUSH1(5); FPL_FLUSH1(6); FPL_FLUSH1(7);              \
                    groups = 0;                                                              \
                }                                                                            \
            }                                                                                \
            for (; j < nb; j++) h[SCALAR_POPCNT(a[i] ^ b[j])]++;                             \
        }                                                                                    \
        _mm512_storeu_si512((void *) (st + 0), ones);                                        \
        _mm512_storeu_si512((void *) (st + 8), twos);                                        \
        _mm512_storeu_si512((void *) (st + 16), fours);                                      \
        _mm512_storeu_si512((void *) (st + 24), eights);                                     \
        _mm512_storeu_si512((void *) (st + 32), sixteens);                                   \
        _mm512_storeu_si512((void *) (st + 40), c0);                                         \
        _mm512_storeu_si512((void *) (st + 48), c1);                                         \
        _mm512_storeu_si512((void *) (st + 56), c2);                                         \
        _mm512_storeu_si512((void *) (st + 64), c3);                                         \
        _mm512_storeu_si512((void *) (st + 72), c4);                                         \
        _mm512_storeu_si512((void *) (st + 80), c5);                                         \
        _mm512_storeu_si512((void *) (st + 88), c6);                                         \
        _mm512_storeu_si512((void *) (st + 96), c7);                                         \
        st[104] = (uint64_t) groups;                                                         \
        st[105] = pairs;

    /* Pairs (a[i], b[j]) (j > i if diag): full groups of 16 vectors go to the bit-sliced
       state st (decoded into hs, top bin excluded), the ragged rest to h directly. */
    FPL_AVX512 static void fpl_pair_tile_avx64(const uint64_t *restrict a, long na,
                                               const uint64_t *restrict b, long nb, int diag,
                                               int64_t *restrict h, uint64_t *restrict st,
                                               int64_t *restrict hs) {
        #define TYPE uint64_t
        #define G 256L
        #define LANEBITS 64
        #define SET_X(v) const __m512i x_ = _mm512_set1_epi64((long long) (v))
        #define IN(q) _mm512_sllv_epi64(one_, _mm512_popcnt_epi64(_mm512_xor_si512(x_,   \
                          _mm512_loadu_si512((const void *) (bj + 8 * (q))))))
        const __m512i one_ = _mm512_set1_epi64(1);
        FPL_TILE_BODY(__builtin_popcountll)
        #undef TYPE
        #undef G
        #undef LANEBITS
        #undef SET_X
        #undef IN
    }

    FPL_AVX512 static void fpl_pair_tile_avx32(const uint32_t *restrict a, long na,
                                               const uint32_t *restrict b, long nb, int diag,
                                               int64_t *restrict h, uint64_t *restrict st,
                                               int64_t *restrict hs) {
        #define TYPE uint32_t
        #define G 512L
        #define LANEBITS 32
        #define SET_X(v) const __m512i x_ = _mm512_set1_epi32((int) (v))
        #define IN(q) _mm512_sllv_epi32(one_, _mm512_popcnt_epi32(_mm512_xor_si512(x_,   \
                          _mm512_loadu_si512((const void *) (bj + 16 * (q))))))
        const __m512i one_ = _mm512_set1_epi32(1);
        FPL_TILE_BODY(__builtin_popcount)
        #undef TYPE
        #undef G
        #undef LANEBITS
        #undef SET_X
        #undef IN
    }
    #else
    static void fpl_pair_tile_avx64(const uint64_t *a, long na, const uint64_t *b, long nb,
                                    int diag, int64_t *h, uint64_t *st, int64_t *hs) {}
    static void fpl_pair_tile_avx32(const uint32_t *a, long na, const uint32_t *b, long nb,
                                    int diag, int64_t *h, uint64_t *st, int64_t *hs) {}
    #endif

    /* ---------------------------------------------------------------------------------
       Walsh-Hadamard transform of an int32 vector of length 2^n (|values| <= M, exact). */

    /* all levels s = 1 .. len/2 inside one block of len entries (in cache) */
    static void fpl_wht_block(int32_t *f, long len) {
        long s, i, j;
        for (i = 0; i + 2 <= len; i += 2) {
            const int32_t u = f[i], v = f[i + 1];
            f[i] = u + v; f[i + 1] = u - v;
        }
        for (s = 2; s < len; s <<= 1)
            for (i = 0; i < len; i += 2 * s) {
                int32_t *restrict p = f + i, *restrict q = f + i + s;
                for (j = 0; j < s; j++) {
                    const int32_t u = p[j], v = q[j];
                    p[j] = u + v; q[j] = u - v;
                }
            }
    }

    /* two levels (strides s and 2s) on entries p[j + t s], j < cnt, t = 0..3 */
    static void fpl_wht_pass4(int32_t *f, long s, long cnt) {
        int32_t *restrict p0 = f, *restrict p1 = f + s, *restrict p2 = f + 2 * s,
                *restrict p3 = f + 3 * s;
        long j;
        for (j = 0; j < cnt; j++) {
            const int32_t a = p0[j], b = p1[j], c = p2[j], d = p3[j];
            const int32_t ab = a + b, amb = a - b, cd = c + d, cmd = c - d;
            p0[j] = ab + cd; p1[j] = amb + cmd; p2[j] = ab - cd; p3[j] = amb - cmd;
        }
    }

    static void fpl_wht_pass2(int32_t *f, long s, long cnt) {
        int32_t *restrict p0 = f, *restrict p1 = f + s;
        long j;
        for (j = 0; j < cnt; j++) {
            const int32_t a = p0[j], b = p1[j];
            p0[j] = a + b; p1[j] = a - b;
        }
    }

    /* W[wbase + popcount(k)] += F[k]^2 for k < cnt (cnt = 2^lowbits, tab = popcount table) */
    static void fpl_weight_chunk(const int32_t *F, long cnt, int wbase,
                                 const unsigned char *tab, uint64_t *W) {
        uint64_t S[33] = {0};
        long k;
        int w;
        for (k = 0; k < cnt; k++) {
            const int64_t v = F[k];
            S[tab[k]] += (uint64_t) (v * v);
        }
        for (w = 0; w <= 32; w++) W[wbase + w] += S[w];
    }
    """
    int fpl_popcount64(uint64_t x) nogil
    uint64_t fpl_mix64(uint64_t z) nogil
    void fpl_pair_tile(const uint64_t *a, long na, const uint64_t *b, long nb,
                       int diag, int64_t *h) nogil
    int fpl_have_avx512() nogil
    int FPL_STATE_WORDS
    void fpl_state_flush(uint64_t *st, int lanebits, int64_t *hs) nogil
    void fpl_pair_tile_avx64(const uint64_t *a, long na, const uint64_t *b, long nb,
                             int diag, int64_t *h, uint64_t *st, int64_t *hs) nogil
    void fpl_pair_tile_avx32(const uint32_t *a, long na, const uint32_t *b, long nb,
                             int diag, int64_t *h, uint64_t *st, int64_t *hs) nogil
    void fpl_wht_block(int32_t *f, long len) nogil
    void fpl_wht_pass4(int32_t *f, long s, long cnt) nogil
    void fpl_wht_pass2(int32_t *f, long s, long cnt) nogil
    void fpl_weight_chunk(const int32_t *F, long cnt, int wbase, const unsigned char *tab,
                          uint64_t *W) nogil

cdef enum:
    NBINS = 65          # distances 0..64
    NSUB = 4            # interleaved sub-histograms per thread
    STRIDE = 272        # per-thread stride (>= NSUB*NBINS = 260, multiple of 8: own cache lines)
    HSTRIDE = 72        # per-thread stride of the AVX-512 / cube bins (>= 65 and >= 31 + 33)

BLOCK = 2048            # codes per tile (16 KiB)


HAVE_AVX512 = bool(fpl_have_avx512())   # AVX-512F + VPOPCNTDQ usable (CPU and OS)


@cython.boundscheck(False)
@cython.wraparound(False)
def pair_hist(const uint64_t[::1] codes, int n_threads, long block=2048, int kernel=0):
    """int64 array (65,): number of unordered pairs i < j with popcount(codes[i]^codes[j]) = k.

    ``kernel``: 0 = portable scalar popcount; 1 = AVX-512 with 64-bit lanes; 2 = AVX-512 with
    32-bit lanes (every code must be < 2³², i.e. n ≤ 32). 1 and 2 need :data:`HAVE_AVX512`
    (ValueError otherwise). All give the same integers."""
    cdef long M = codes.shape[0]
    cdef long T = (M + block - 1) // block
    cdef long bi, bj, i0, j0, na, nb
    cdef int tid, q, k, lanebits
    cdef int sw = FPL_STATE_WORDS
    cdef int64_t *buf
    cdef int64_t *hsb = NULL
    cdef uint64_t *stb = NULL
    cdef const uint64_t *p
    cdef const uint32_t *p32 = NULL
    cdef uint32_t[::1] c32
    cdef uint64_t simd_pairs = 0
    cdef int64_t simd_sum = 0
    if kernel not in (0, 1, 2):
        raise ValueError(f"kernel must be 0, 1 or 2, got {kernel}")
    if kernel and not HAVE_AVX512:
        raise ValueError("the AVX-512 VPOPCNTDQ kernels are not available on this CPU")
    out = np.zeros(NBINS, dtype=np.int64)
    cdef int64_t[::1] o = out
    if M < 2:
        return out
    if n_threads < 1:
        n_threads = 1
    lanebits = 32 if kernel == 2 else 64
    if kernel == 2:
        arr = np.asarray(codes)
        if int(arr.max()) >> 32:
            raise ValueError("kernel=2 needs codes < 2**32")
        c32 = arr.astype(np.uint32)
        p32 = &c32[0]
    buf = <int64_t *> calloc(<size_t> n_threads * STRIDE, sizeof(int64_t))
    if kernel:
        hsb = <int64_t *> calloc(<size_t> n_threads * HSTRIDE, sizeof(int64_t))
        stb = <uint64_t *> calloc(<size_t> n_threads * sw, sizeof(uint64_t))
    if buf == NULL or (kernel and (hsb == NULL or stb == NULL)):
        free(buf)
        free(hsb)
        free(stb)
        raise MemoryError()
    p = &codes[0]
    try:
        with nogil:
            for bi in prange(T, num_threads=n_threads, schedule="dynamic", chunksize=1):
                tid = threadid()
                i0 = bi * block
                na = block if i0 + block <= M else M - i0
                for bj in range(bi, T):
                    j0 = bj * block
                    nb = block if j0 + block <= M else M - j0
                    if kernel == 0:
                        fpl_pair_tile(p + i0, na, p + j0, nb, bj == bi, buf + tid * STRIDE)
                    elif kernel == 1:
                        fpl_pair_tile_avx64(p + i0, na, p + j0, nb, bj == bi, buf + tid * STRIDE,
                                            stb + tid * sw, hsb + tid * HSTRIDE)
                    else:
                        fpl_pair_tile_avx32(p32 + i0, na, p32 + j0, nb, bj == bi,
                                            buf + tid * STRIDE, stb + tid * sw,
                                            hsb + tid * HSTRIDE)
        for tid in range(n_threads):
            for q in range(NSUB):
                for k in range(NBINS):
                    o[k] += buf[tid * STRIDE + q * NBINS + k]
        if kernel:
            # bins 0..lanebits-1 of the bit-sliced counters; the top bin (one-hot word 0) is
            # what is left of the pairs they saw
            for tid in range(n_threads):
                simd_pairs += stb[tid * sw + 105]
                fpl_state_flush(stb + tid * sw, lanebits, hsb + tid * HSTRIDE)
                for k in range(lanebits):
                    o[k] += hsb[tid * HSTRIDE + k]
                    simd_sum += hsb[tid * HSTRIDE + k]
            o[lanebits] += <int64_t> simd_pairs - simd_sum
    finally:
        free(buf)
        free(hsb)
        free(stb)
    return out


@cython.boundscheck(False)
@cython.wraparound(False)
def cube_weight_sums(const uint64_t[::1] codes, int n, int n_threads):
    """List of n+1 Python ints ``W[w] = Σ_{u : popcount(u) = w} F(u)²`` where
    ``F(u) = Σ_{x in codes} (−1)^{popcount(u & x)}`` (Walsh–Hadamard transform of the indicator
    of the set on {0,1}ⁿ, 1 ≤ n ≤ 30; needs 4·2ⁿ bytes). Exact: int32 transform (|F| ≤ M < 2³¹),
    uint64 sums (Σ_u F² = 2ⁿ M ≤ 4ⁿ)."""
    cdef long M = codes.shape[0]
    cdef long N, B, s, units, ch, nchunks, qq, pp, i, blk
    cdef int level, b, lowbits, tid, w
    cdef int32_t *fp
    cdef uint64_t *Wb
    cdef unsigned char *tab
    if not 1 <= n <= 30:
        raise ValueError(f"cube_weight_sums needs 1 ≤ n ≤ 30, got {n}")
    if n_threads < 1:
        n_threads = 1
    N = (<long> 1) << n
    f = np.zeros(N, dtype=np.int32)
    cdef int32_t[::1] fv = f
    fp = &fv[0]
    b = n if n < 14 else 14
    B = (<long> 1) << b
    lowbits = n if n < 10 else 10
    tab_arr = np.array([bin(t).count("1") for t in range(1 << lowbits)], dtype=np.uint8)
    cdef unsigned char[::1] tabv = tab_arr
    tab = &tabv[0]
    Wb = <uint64_t *> calloc(<size_t> n_threads * HSTRIDE, sizeof(uint64_t))
    if Wb == NULL:
        raise MemoryError()
    try:
        with nogil:
            for i in range(M):
                fp[codes[i]] = 1
            # levels 0..b-1 inside blocks of 2^b entries
            for blk in prange(N // B, num_threads=n_threads, schedule="static"):
                fpl_wht_block(fp + blk * B, B)
            # the remaining levels two at a time, in chunks of ch consecutive j (same base)
            level = b
            while level < n:
                s = (<long> 1) << level
                ch = s if s < 4096 else 4096
                if level + 2 <= n:
                    units = N // 4
                    nchunks = units // ch
                    for qq in prange(nchunks, num_threads=n_threads, schedule="static"):
                        pp = qq * ch
                        fpl_wht_pass4(fp + (pp // s) * 4 * s + pp % s, s, ch)
                    level = level + 2
                else:
                    units = N // 2
                    nchunks = units // ch
                    for qq in prange(nchunks, num_threads=n_threads, schedule="static"):
                        pp = qq * ch
                        fpl_wht_pass2(fp + (pp // s) * 2 * s + pp % s, s, ch)
                    level = level + 1
            # W[w]: chunks of 2^lowbits entries, u = (qq << lowbits) | k
            nchunks = N >> lowbits
            for qq in prange(nchunks, num_threads=n_threads, schedule="static"):
                tid = threadid()
                fpl_weight_chunk(fp + (qq << lowbits), (<long> 1) << lowbits,
                                 fpl_popcount64(<uint64_t> qq), tab, Wb + tid * HSTRIDE)
        W = [0] * (n + 1)
        for tid in range(n_threads):
            for w in range(n + 1):
                W[w] += int(Wb[tid * HSTRIDE + w])
    finally:
        free(Wb)
    return W


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
