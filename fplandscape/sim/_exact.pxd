# Exact sign of a sum of float64 terms, shared by the compiled kernels (_stability, _dfs,
# _dynamics, _local): ``cimport`` this file to get the inline C helpers below, among them the
# band set-up of every kernel, ``fpl_row_band``/``fpl_row_bands`` (one row / all rows).
#
# Why. A field h_i = Σ_j J_ij s_j (s_j = ±1, so every term J_ij s_j is an exact double) summed
# in float64, in any order, is within γ_{n−1} Σ_j |J_ij| of the exact sum of the stored terms
# (γ_k = k u / (1 − k u), u = 2^-53; an addition whose result is subnormal is exact, so the
# bound needs no absolute term; a multiplication by ±1 or ±2 is exact short of overflow). The
# kernels take the fast float decision when the computed value is farther from 0 than a bound
# ``fpl_row_tol(S_i, m)`` ≥ 2 γ_m S_i (m = number of roundings the value went through, S_i =
# Σ_j |J_ij| computed in float64), and otherwise decide the sign exactly with the
# accumulator below. Rows with S_i > 1e300 (or not finite) get an infinite band: partial sums
# could overflow, so every decision on them is exact. Rows whose float sums are exact anyway
# (``fpl_row_exact``: integer or dyadic couplings) get band 0 in the kernels that use it: the
# float value is the exact value, ties included (a value of exactly 0 is then a true tie).
#
# How. ``fpl_acc`` is a fixed-point super-accumulator: the exact sum as Σ_k d[k] 2^(32k − 1074)
# with signed 64-bit limbs holding 32-bit digits. A double is ±m 2^(e − 1074) with an integer
# m < 2^53 and 0 ≤ e ≤ 2045, so it adds into three consecutive limbs; 68 limbs (2176 bits)
# hold any sum of up to 2^31 doubles (|sum| < 2^1055) without overflow of a limb or of the top.
# The sign is read after one carry-propagation pass. No floating-point operation is involved,
# so the result is exact for every finite input, subnormals and huge values included.

from libc.stdint cimport uint64_t

cdef extern from *:
    """
    #ifndef FPL_EXACT_SIGN_H
    #define FPL_EXACT_SIGN_H
    #include <stdint.h>
    #include <string.h>
    #include <math.h>
    #include <float.h>

    /* the exact paths are rare slow paths: keep them out of the kernels' hot loops */
    #if defined(__GNUC__)
    #define FPL_COLD __attribute__((noinline, cold, unused))
    #else
    #define FPL_COLD
    #endif

    #define FPL_ACC_LIMBS 68
    typedef struct { int64_t d[FPL_ACC_LIMBS]; } fpl_acc;

    static inline void fpl_acc_init(fpl_acc *a) { memset(a->d, 0, sizeof(a->d)); }

    /* a += x exactly (x finite) */
    static inline void fpl_acc_add(fpl_acc *a, double x) {
        uint64_t b, m, t;
        long p, k;
        int sh;
        int64_t c0, c1, c2;
        memcpy(&b, &x, sizeof b);
        m = b & 0xFFFFFFFFFFFFFULL;
        p = (long) ((b >> 52) & 0x7FF);
        if (p) m |= 1ULL << 52; else p = 1;       /* subnormal: same scale as the smallest normal */
        if (!m) return;
        p -= 1;                                   /* x = ±m 2^(p − 1074) */
        k = p >> 5;
        sh = (int) (p & 31);
        t = m << sh;                              /* low 64 bits of m·2^sh (< 2^84) */
        c0 = (int64_t) (t & 0xFFFFFFFFULL);
        c1 = (int64_t) (t >> 32);
        c2 = sh ? (int64_t) (m >> (64 - sh)) : 0;
        if (b >> 63) { a->d[k] -= c0; a->d[k + 1] -= c1; a->d[k + 2] -= c2; }
        else         { a->d[k] += c0; a->d[k + 1] += c1; a->d[k + 2] += c2; }
    }

    /* sign (−1, 0, +1) of the exact sum held in a (a is normalised in place) */
    static inline int fpl_acc_sign(fpl_acc *a) {
        int64_t carry = 0, v;
        int k, nonzero = 0;
        for (k = 0; k < FPL_ACC_LIMBS; k++) {
            v = a->d[k] + carry;
            a->d[k] = v & 0xFFFFFFFFLL;           /* digit in [0, 2^32) */
            carry = (v - a->d[k]) / 4294967296LL; /* exact: v − digit is a multiple of 2^32 */
            nonzero |= (a->d[k] != 0);
        }
        if (carry < 0) return -1;                 /* value = carry·2^(32L) + digits < 0 */
        return nonzero || carry > 0 ? 1 : 0;
    }

    /* exact sign of Σ_{j<n} row[j·stride] s_j, s_j = +1 iff bit j of code is set */
    static FPL_COLD int fpl_exact_sign_code(const double *row, long stride, long n,
                                            uint64_t code) {
        fpl_acc a;
        long j;
        fpl_acc_init(&a);
        for (j = 0; j < n; j++) {
            double x = row[j * stride];
            fpl_acc_add(&a, ((code >> j) & 1ULL) ? x : -x);
        }
        return fpl_acc_sign(&a);
    }

    /* exact sign of Σ_{j<n} row[j·stride] sd[j], sd[j] = ±1.0 */
    static FPL_COLD int fpl_exact_sign_spins(const double *row, long stride, const double *sd,
                                             long n) {
        fpl_acc a;
        long j;
        fpl_acc_init(&a);
        for (j = 0; j < n; j++) {
            double x = row[j * stride];
            fpl_acc_add(&a, sd[j] > 0.0 ? x : -x);
        }
        return fpl_acc_sign(&a);
    }

    /* The slow half of a strict-stability decision, once the fast test d > tol has failed:
       d = computed stability s_i h_i of the state ``code`` (within tol of the exact one, or
       exact when tol = 0); returns 1 iff the exact stability is > 0. */
    static inline int fpl_band_stable_code(double d, double tol, const double *row, long n,
                                             uint64_t code, long i) {
        if (d < -tol || tol == 0.0) return 0;
        return (((code >> i) & 1ULL) ? 1 : -1) * fpl_exact_sign_code(row, 1, n, code) > 0;
    }

    /* 1 iff the float64 sums of this row are exact whatever the order, the signs and the
       subset of terms, with room for values up to 2^(slack_bits − 1) times Σ|row|: every
       nonzero |row[j]| is a multiple of 2^e (e = the lowest set bit over the row) and
       Σ|row[j]| < 2^(53 − slack_bits + e), so every such value is k·2^e with |k| < 2^53
       (integer couplings, dyadic ones, subnormal ones). The float64 row sum used here is
       itself exact in that case, and otherwise at least (1 − γ_n) times the true one, so
       the test never accepts an inexact row. */
    static inline int fpl_row_exact(const double *row, long stride, long n, int slack_bits) {
        long j, e, emin = 100000;
        double S = 0.0;
        for (j = 0; j < n; j++) {
            double x = fabs(row[j * stride]);
            uint64_t b, m;
            long p;
            if (x == 0.0) continue;
            memcpy(&b, &x, sizeof b);
            m = b & 0xFFFFFFFFFFFFFULL;
            p = (long) (b >> 52);
            if (p) m |= 1ULL << 52; else p = 1;
            e = p - 1075 + __builtin_ctzll(m);  /* x = odd · 2^e */
            if (e < emin) emin = e;
            S += x;
        }
        if (emin == 100000) return 1;            /* an all-zero row */
        if (!(S <= 1e300)) return 0;
        return S < ldexp(1.0, (int) (53 - slack_bits + (emin < 2000 ? emin : 2000)));
    }

    /* Band half-width for a value that went through at most m roundings, row sum S = Σ|J_ij|
       (float64): 4 (m + 2) ε S + (m + 2)·2^-1074 with ε = DBL_EPSILON = 2u, i.e. ≥ 8 (m+2) u S
       ≥ 2 γ_m S_exact (the factor 2 and the floor absorb the rounding of S and of this formula,
       also in the subnormal range); infinite when S > 1e300 or S is not finite. */
    static inline double fpl_row_tol(double S, double m) {
        if (!(S <= 1e300)) return INFINITY;
        return 4.0 * (m + 2.0) * DBL_EPSILON * S + (m + 2.0) * 4.9406564584124654e-324;
    }

    /* The band of one row, the set-up every kernel shares: fpl_row_tol(S, m) with
       S = Σ_{j<n} |row[j·stride]| summed in float64 in index order j = 0, 1, …; or 0 when
       slack_bits ≥ 0 and fpl_row_exact(row, stride, n, slack_bits) (the float values of the
       kernel are then exact, ties included). slack_bits < 0: always the fpl_row_tol band. */
    static inline double fpl_row_band(const double *row, long stride, long n, double m,
                                      int slack_bits) {
        long j;
        double S = 0.0;
        if (slack_bits >= 0 && fpl_row_exact(row, stride, n, slack_bits)) return 0.0;
        for (j = 0; j < n; j++) S += fabs(row[j * stride]);
        return fpl_row_tol(S, m);
    }

    /* tol[i] = fpl_row_band(A + i·rs, cs, n, m, slack_bits) for the n rows i < n of A (row i,
       entry j at A[i·rs + j·cs]). When the rows are strided (rs = 1: the rows of J stored as
       the columns of JT), the sums S_i are accumulated column by column (contiguous reads);
       each S_i still receives the same additions in the same order j = 0, 1, …, so the bands
       are bit for bit those of fpl_row_band. */
    static inline void fpl_row_bands(const double *A, long rs, long cs, long n, double m,
                                     int slack_bits, double *tol) {
        long i, j;
        if (rs != 1 || n == 1) {
            for (i = 0; i < n; i++) tol[i] = fpl_row_band(A + i * rs, cs, n, m, slack_bits);
            return;
        }
        for (i = 0; i < n; i++) tol[i] = 0.0;
        for (j = 0; j < n; j++)
            for (i = 0; i < n; i++) tol[i] += fabs(A[i + j * cs]);
        for (i = 0; i < n; i++)
            tol[i] = (slack_bits >= 0 && fpl_row_exact(A + i, cs, n, slack_bits))
                     ? 0.0 : fpl_row_tol(tol[i], m);
    }
    #endif
    """
    ctypedef struct fpl_acc:
        pass
    void fpl_acc_init(fpl_acc *a) noexcept nogil
    void fpl_acc_add(fpl_acc *a, double x) noexcept nogil
    int fpl_acc_sign(fpl_acc *a) noexcept nogil
    int fpl_exact_sign_code(const double *row, long stride, long n, uint64_t code) noexcept nogil
    int fpl_exact_sign_spins(const double *row, long stride, const double *sd,
                             long n) noexcept nogil
    double fpl_row_tol(double S, double m) noexcept nogil
    int fpl_row_exact(const double *row, long stride, long n, int slack_bits) noexcept nogil
    int fpl_band_stable_code(double d, double tol, const double *row, long n, uint64_t code,
                             long i) noexcept nogil
    double fpl_row_band(const double *row, long stride, long n, double m,
                        int slack_bits) noexcept nogil
    void fpl_row_bands(const double *A, long rs, long cs, long n, double m, int slack_bits,
                       double *tol) noexcept nogil
