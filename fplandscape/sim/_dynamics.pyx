"""Compiled dynamics kernels: asynchronous and synchronous sign dynamics, simulated annealing.

Conventions are those of :mod:`fplandscape.model` (never re-defined here):

* ``h_i = Σ_j J_ij s_j`` (diagonal included), stability ``Δ_i = s_i h_i``; fixed point iff
  ``Δ_i > 0`` for every i (strict: a zero field is not stable), decided exactly on the stored
  float64 numbers (as :mod:`fplandscape.sim._stability`).
* Update rule ``s_i ← sign(h_i)`` with ``sign(0) = +1``, the sign of the exact field.

Every kernel takes the **transposed** couplings ``JT = J.T`` (C-contiguous), so that column j of
J, which a flip of spin j adds to all fields, is the contiguous row ``JT[j]``.

Canonical fields. ``_fields`` computes ``h = Σ_{j=0..N-1} s_j J[:, j]`` from scratch, looping
over j in index order and adding ``s_j · JT[j, i]`` to every ``h_i``: for each i this is the
same sequence of IEEE float64 operations ``((0 + J_i0 s_0) + J_i1 s_1) + …`` as the canonical
index-order sum of :mod:`fplandscape.sim._stability` (the products with ``s_j = ±1`` are exact;
the loop over i vectorises without reordering any single sum; the build uses no FMA
contraction), so reported stabilities agree bit for bit with the brute-force enumerator's.
Incrementally maintained fields (``h += 2 s_j' JT[j]`` after a flip) accumulate rounding; they
are replaced by canonical fields every 4N flips (the refresh costs as much as N flips, so this
bounds its overhead at 25 % of the flip cost).

Exact decisions. Every sign decision — the update ``sign(h_i)``, convergence, the strict
fixed-point flag, the energy ``E`` of the annealer and its Metropolis proposals — is taken on the
exact field of the stored numbers. Rounding bound: a from-scratch field carries at most N − 1
roundings, each incremental update one more (``2 s_j' J_ij`` is exact), and a field sees at most
4N updates before the next refresh (one more inside a proposal), so with ``u = 2^-53`` and
``S_i = Σ_j |J_ij|`` the computed field is within ``(5N + 1) u S_i (1 + O(N u))`` of the exact
one (an addition with a subnormal result is exact). The kernels use the band
``tol_i = fpl_row_tol(S_i, 5N + 2) = 4 (5N + 4) ε S_i + (5N + 4)·2^-1074`` (ε = 2u; more than
twice that bound; infinite for rows with ``S_i > 1e300``; 0 for rows whose float sums are exact
whatever the order, ``fpl_row_exact``, e.g. integer couplings, whose incremental fields then
stay exact too): outside it the float sign is the exact sign, inside it the field is summed
again from scratch, exactly, by the integer super-accumulator of ``fplandscape/sim/_exact.pxd``
(O(N), only for values within ~1e-13 S_i of zero, so the common case stays on the float path).
The annealer's O(N) proposal loop also counts the values within ``max_i tol_i`` of zero (two
counts, below −max tol and up to +max tol, instead of one) and, if there is any, re-evaluates
that proposal with exact decisions (always, when some row's band is infinite; never, when every
row sums exactly). Reported values (Δ profile, margin, mean) stay the canonical float64 ones;
only their sign can disagree with the exact flags, and only inside the band.

Randomness comes from NumPy bit generators (``bitgen_t``, one per run, owned by the caller and
used by one run only): Fisher–Yates permutations and uniform neuron choices use Lemire's
unbiased bounded integers on 32-bit draws, Metropolis tests use ``next_double``.

The kernels release the GIL and poll for Ctrl-C (``PyErr_CheckSignals``) about every 2^26
elementary operations; an interrupt raises ``KeyboardInterrupt`` from the kernel. They only check
what memory safety needs and raise plain ``ValueError``; user-facing validation with
:class:`fplandscape.errors.InputError` lives in :mod:`fplandscape.sim.dynamics`.
"""
import numpy as np

cimport numpy as cnp
from cpython.pycapsule cimport PyCapsule_GetPointer
from libc.math cimport exp, fabs, INFINITY
from libc.stdint cimport int8_t, int64_t, uint8_t, uint32_t, uint64_t
from libc.stdlib cimport free, malloc
from libc.string cimport memcpy
from numpy.random cimport bitgen_t

from fplandscape.sim._epilogue cimport fpl_poll_due, fpl_reraise, fpl_stop_set
from fplandscape.sim._exact cimport fpl_exact_sign_spins, fpl_row_bands

cnp.import_array()

cdef extern from *:
    """
    /* Inner loops, compiled for AVX2 and for the baseline ISA and chosen at load time (GCC
       function multi-versioning, as in _dfs.pyx). Both clones perform the same IEEE double
       operations in the same order for every element (multiply, then add; AVX2 does not
       enable FMA contraction), so results are identical. */
    #if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__)
    #define FPL_DYN_CLONES __attribute__((target_clones("avx2", "default")))
    #else
    #define FPL_DYN_CLONES
    #endif
    /* h[i] = h[i] + c * row[i], i < n */
    FPL_DYN_CLONES
    static void fpl_dyn_axpy(double *restrict h, const double *restrict row, double c, long n) {
        long i;
        for (i = 0; i < n; i++) h[i] = h[i] + c * row[i];
    }
    /* #{i < n : sd[i] * (h[i] + c * row[i]) <= 0} */
    FPL_DYN_CLONES
    static long fpl_dyn_count_after(const double *restrict sd, const double *restrict h,
                                    const double *restrict row, double c, long n) {
        long i, cnt = 0;
        for (i = 0; i < n; i++) cnt += (sd[i] * (h[i] + c * row[i]) <= 0.0);
        return cnt;
    }
    /* the same values v_i: returns #{v_i < -tmax}; *unc = #{-tmax <= v_i <= tmax} (finite tmax:
       no value is NaN) */
    FPL_DYN_CLONES
    static long fpl_dyn_count_after_band(const double *restrict sd, const double *restrict h,
                                         const double *restrict row, double c, double tmax,
                                         long n, long *unc) {
        long i, lo = 0, hi = 0;
        for (i = 0; i < n; i++) {
            double v = sd[i] * (h[i] + c * row[i]);
            lo += (v < -tmax);
            hi += (v <= tmax);
        }
        *unc = hi - lo;
        return lo;
    }
    /* Fields of m runs at once on the columns [i0, i1): for j = 0..n-1 in index order and each
       run q, H[q][i] = H[q][i] + S[q][j] * JT[j][i]. The column tile keeps the m field tiles in
       L1; each H[q][i] receives exactly the canonical sequence of operations. */
    FPL_DYN_CLONES
    static void fpl_dyn_fields_tile(const double *restrict JT, double *const *H,
                                    const double *const *S, long m, long n, long i0, long i1) {
        long j, q, i;
        for (q = 0; q < m; q++)
            for (i = i0; i < i1; i++) H[q][i] = 0.0;
        for (j = 0; j < n; j++) {
            const double *restrict row = JT + j * n;
            for (q = 0; q < m; q++) {
                double *restrict hq = H[q];
                double c = S[q][j];
                for (i = i0; i < i1; i++) hq[i] = hq[i] + c * row[i];
            }
        }
    }
    """
    void fpl_dyn_axpy(double *h, const double *row, double c, long n) noexcept nogil
    long fpl_dyn_count_after(const double *sd, const double *h, const double *row, double c,
                             long n) noexcept nogil
    long fpl_dyn_count_after_band(const double *sd, const double *h, const double *row,
                                  double c, double tmax, long n, long *unc) noexcept nogil
    void fpl_dyn_fields_tile(const double *JT, double **H, const double **S, long m, long n,
                             long i0, long i1) noexcept nogil

cdef enum:
    _TILE_BYTES = 16384      # L1 budget of the field tiles in the synchronous kernel
    _POLL_WORK = 1 << 26     # elementary operations between two Ctrl-C polls
    _REFRESH = 4             # incremental fields are replaced by exact ones every _REFRESH·N flips


# --------------------------------------------------------------------------------------------
# helpers

cdef inline bint _poll_due(uint64_t *work) noexcept nogil:
    """The polling epilogue of every unit of work: ``fpl_poll_due`` of ``_epilogue.pxd`` (poll
    once ``_POLL_WORK`` elementary operations have been counted in ``work``). True (with
    KeyboardInterrupt set) when the kernel must stop."""
    return fpl_poll_due(work, _POLL_WORK, b"stopped by request_stop()")


def request_stop():
    """Make every running kernel stop at its next poll with KeyboardInterrupt; kernels started
    afterwards stop at their first poll until :func:`clear_stop`."""
    fpl_stop_set(1)


def clear_stop():
    """Allow kernels to run again after :func:`request_stop`."""
    fpl_stop_set(0)


cdef inline uint32_t _bounded(bitgen_t *bg, uint32_t rng) noexcept nogil:
    """Uniform integer in [0, rng), rng ≥ 1 (Lemire's multiply-shift with rejection, unbiased)."""
    cdef uint32_t x = bg.next_uint32(bg.state)
    cdef uint64_t m = <uint64_t>x * <uint64_t>rng
    cdef uint32_t low = <uint32_t>m
    cdef uint32_t t
    if low < rng:
        t = (<uint32_t>0 - rng) % rng
        while low < t:
            x = bg.next_uint32(bg.state)
            m = <uint64_t>x * <uint64_t>rng
            low = <uint32_t>m
    return <uint32_t>(m >> 32)


cdef inline void _shuffle(bitgen_t *bg, Py_ssize_t *perm, Py_ssize_t n) noexcept nogil:
    """Fisher–Yates: a uniform random permutation (whatever perm held before)."""
    cdef Py_ssize_t k, j, tmp
    for k in range(n - 1, 0, -1):
        j = <Py_ssize_t>_bounded(bg, <uint32_t>(k + 1))
        tmp = perm[k]
        perm[k] = perm[j]
        perm[j] = tmp


cdef void _fields(const double *JT, const double *sd, double *h, Py_ssize_t n) noexcept nogil:
    """Exact fields from scratch, canonical index order: h_i = Σ_{j=0..n-1} J_ij s_j."""
    cdef Py_ssize_t i, j
    for i in range(n):
        h[i] = 0.0
    for j in range(n):
        fpl_dyn_axpy(h, JT + j * n, sd[j], n)


cdef inline void _axpy(double *h, const double *row, double c, Py_ssize_t n) noexcept nogil:
    """h += c · row (the incremental field update after a flip, c = 2 s_j')."""
    fpl_dyn_axpy(h, row, c, n)


cdef double *_tolerances(const double *JT, Py_ssize_t n, double *tmax) noexcept nogil:
    """tol[i] = fpl_row_tol(S_i, 5N + 2), S_i = Σ_j |J_ij| = Σ_j |JT[j, i]| (module docstring),
    or 0 for rows whose float sums are exact (``fpl_row_exact``: every field value, canonical
    or incremental, is then exact); tmax = the largest nonzero band, −1 if there is none. NULL
    when out of memory (caller frees)."""
    cdef double *tol = <double *> malloc(n * sizeof(double))
    cdef Py_ssize_t i
    if tol == NULL:
        return NULL
    fpl_row_bands(JT, 1, n, n, 5.0 * n + 2.0, 1, tol)    # row i of J = column i of JT
    tmax[0] = -1.0
    for i in range(n):
        if tol[i] != 0.0 and not (tol[i] <= tmax[0]):      # a nonzero band is > 0 (or ∞)
            tmax[0] = tol[i]
    return tol


cdef inline int _exact_sign(const double *JT, const double *sd, Py_ssize_t i, Py_ssize_t n,
                            uint64_t *work) noexcept nogil:
    """Exact sign (−1, 0, +1) of h_i = Σ_j J_ij s_j = Σ_j JT[j, i] s_j of the stored numbers
    (O(N), counted in work for the Ctrl-C polls)."""
    work[0] += <uint64_t> (4 * n)
    return fpl_exact_sign_spins(JT + i, n, sd, n)


cdef inline bint _up(const double *JT, const double *tol, const double *sd, const double *h,
                     Py_ssize_t i, Py_ssize_t n, uint64_t *work) noexcept nogil:
    """sign(h_i) = +1 (sign(0) = +1) for the exact field h_i of state sd (h = computed fields)."""
    if fabs(h[i]) > tol[i]:
        return h[i] >= 0.0
    if tol[i] == 0.0:                # band 0: h_i is exact, and 0 here
        return True
    return _exact_sign(JT, sd, i, n, work) >= 0


cdef inline bint _stable(const double *JT, const double *tol, const double *sd, const double *h,
                         Py_ssize_t i, Py_ssize_t n, uint64_t *work) noexcept nogil:
    """Exact strict stability s_i h_i > 0 of neuron i of state sd (h = computed fields)."""
    cdef double d = sd[i] * h[i]
    if d > tol[i]:
        return True
    if d < -tol[i] or tol[i] == 0.0:
        return False
    return sd[i] * _exact_sign(JT, sd, i, n, work) > 0


cdef inline bint _sign_stable(const double *JT, const double *tol, const double *sd,
                              const double *h, Py_ssize_t n, uint64_t *work) noexcept nogil:
    """True iff s_i = sign(h_i) (sign(0) = +1, exact fields) for every i: a full sweep would
    change nothing."""
    cdef Py_ssize_t i
    for i in range(n):
        if _up(JT, tol, sd, h, i, n, work) != (sd[i] > 0.0):
            return False
    return True


cdef inline Py_ssize_t _unstable(const double *JT, const double *tol, const double *sd,
                                 const double *h, Py_ssize_t n, uint64_t *work) noexcept nogil:
    """E = number of neurons with exact Δ_i = s_i h_i ≤ 0."""
    cdef Py_ssize_t i
    cdef Py_ssize_t e = 0
    for i in range(n):
        e += not _stable(JT, tol, sd, h, i, n, work)
    return e


cdef Py_ssize_t _unstable_after(const double *JT, const double *tol, double *sd, const double *h,
                                Py_ssize_t j, double c, Py_ssize_t n,
                                uint64_t *work) noexcept nogil:
    """Exact E of the state sd with spin j flipped, from the fields h of sd (h' = h + c JT[j])."""
    cdef Py_ssize_t i
    cdef Py_ssize_t e = 0
    cdef const double *row = JT + j * n
    cdef double d
    sd[j] = -sd[j]
    for i in range(n):
        d = sd[i] * (h[i] + c * row[i])
        if d > tol[i]:
            continue
        if d < -tol[i] or tol[i] == 0.0 or sd[i] * _exact_sign(JT, sd, i, n, work) <= 0:
            e += 1
    sd[j] = -sd[j]
    return e


cdef inline void _profile(const double *JT, const double *tol, const double *sd, const double *h,
                          Py_ssize_t n, double *delta, double *mn, double *mean,
                          uint8_t *fp, uint64_t *work) noexcept nogil:
    """Stabilities Δ_i = s_i h_i (into delta if not NULL), their min and mean (float values),
    and the exact strict fixed-point flag."""
    cdef Py_ssize_t i
    cdef double d
    cdef double lo = sd[0] * h[0]
    cdef double tot = 0.0
    cdef bint ok = True
    for i in range(n):
        d = sd[i] * h[i]
        if delta != NULL:
            delta[i] = d
        if d < lo:
            lo = d
        if ok and not _stable(JT, tol, sd, h, i, n, work):
            ok = False
        tot += d
    mn[0] = lo
    mean[0] = tot / n
    fp[0] = 1 if ok else 0


cdef bitgen_t **_bitgens(list gens, Py_ssize_t runs) except NULL:
    """Pointers to the bitgen_t structs of ``runs`` NumPy bit generators (caller frees)."""
    if len(gens) != runs:
        raise ValueError(f"need one bit generator per run ({runs}), got {len(gens)}")
    cdef bitgen_t **out = <bitgen_t **> malloc((runs if runs > 0 else 1) * sizeof(bitgen_t *))
    if out == NULL:
        raise MemoryError()
    cdef Py_ssize_t r
    try:
        for r in range(runs):
            out[r] = <bitgen_t *> PyCapsule_GetPointer(gens[r].capsule, "BitGenerator")
    except BaseException:
        free(out)
        raise
    return out


cdef inline void _store_run(const double *JT, const double *tol, const double *sd,
                            const double *h, Py_ssize_t n, int8_t *s_out, double *delta,
                            double *mn, double *mean, uint8_t *fp,
                            uint64_t *work) noexcept nogil:
    """The storing epilogue of every run: its final state sd as ±1 into ``s_out`` and its
    stability profile from the exact fields h (:func:`_profile`: Δ into delta if not NULL, min,
    mean, strict-FP flag)."""
    cdef Py_ssize_t i
    for i in range(n):
        s_out[i] = 1 if sd[i] > 0.0 else -1
    _profile(JT, tol, sd, h, n, delta, mn, mean, fp, work)


cdef Py_ssize_t _check(const double[:, ::1] JT, int8_t[:, ::1] S) except -1:
    cdef Py_ssize_t n = JT.shape[0]
    if JT.shape[1] != n or n < 1:
        raise ValueError(f"JT must be square and non-empty, got shape {JT.shape[0]}x{JT.shape[1]}")
    if n >= (<Py_ssize_t>1 << 31):
        raise ValueError("N too large")
    if S.shape[1] != n:
        raise ValueError(f"states have {S.shape[1]} columns, expected N = {n}")
    return n


cdef int _check_out(Py_ssize_t runs, Py_ssize_t n, double[:, ::1] delta_out, object outs) except -1:
    for o in outs:
        if o.shape[0] != runs:
            raise ValueError("output arrays must have one entry per run")
    if delta_out is not None and (delta_out.shape[0] != runs or delta_out.shape[1] != n):
        raise ValueError("delta_out must have shape (runs, N)")
    return 0


# --------------------------------------------------------------------------------------------
# asynchronous dynamics


def async_runs(const double[:, ::1] JT, int8_t[:, ::1] S, list gens, Py_ssize_t max_sweeps,
               bint random_order, int64_t[::1] sweeps_out, int64_t[::1] flips_out,
               uint8_t[::1] conv_out, uint8_t[::1] fp_out, double[::1] margin_out,
               double[::1] mean_out, double[:, ::1] delta_out=None):
    """Asynchronous dynamics for each row of ``S`` (±1 int8, overwritten by the final states).

    A sweep visits every neuron once (a fresh Fisher–Yates permutation per sweep drawn from the
    run's bit generator ``gens[r]``, or index order 0..N-1 when ``random_order`` is false) and
    sets ``s_i ← sign(h_i)`` (sign of the exact field, module docstring); a flip of j adds
    ``2 s_j' JT[j]`` to the fields (O(N)), a visit without flip is O(1). Fields are replaced by
    canonical ones after every 4N flips. When a sweep flips nothing, the fields are made
    canonical and the run has converged iff ``s_i = sign(h_i)`` holds for every i (exact signs;
    otherwise the sweeps go on). At most ``max_sweeps`` sweeps. Outputs per run: sweeps done,
    flips, converged, exact strict FP flag, min and mean of Δ (and the full Δ profile into
    ``delta_out`` when given), from canonical fields of the final state.
    """
    cdef Py_ssize_t n = _check(JT, S)
    cdef Py_ssize_t runs = S.shape[0]
    _check_out(runs, n, delta_out, (sweeps_out, flips_out, conv_out, fp_out, margin_out, mean_out))
    if max_sweeps < 0:
        raise ValueError("max_sweeps must be >= 0")
    cdef bitgen_t **bgs = NULL
    if random_order:
        bgs = _bitgens(gens, runs)
    cdef double *buf = <double *> malloc(2 * n * sizeof(double))
    cdef Py_ssize_t *perm = <Py_ssize_t *> malloc(n * sizeof(Py_ssize_t))
    cdef double *sd = buf
    cdef double *h = buf + n
    cdef const double *jt = &JT[0, 0]
    cdef double *dl = NULL
    cdef double tmax, d
    cdef double *tol = _tolerances(jt, n, &tmax)
    cdef Py_ssize_t r, i, k, sweep, nflip, since
    cdef int64_t flips
    cdef bint exact, conv, interrupted = False
    cdef uint64_t work = 0
    if buf == NULL or perm == NULL or tol == NULL:
        free(buf); free(perm); free(bgs); free(tol)
        raise MemoryError()
    try:
        with nogil:
            for r in range(runs):
                for i in range(n):
                    sd[i] = 1.0 if S[r, i] > 0 else -1.0
                    perm[i] = i
                _fields(jt, sd, h, n)
                work += <uint64_t>(n * n)
                exact = True
                since = 0
                flips = 0
                conv = False
                sweep = 0
                while sweep < max_sweeps:
                    sweep += 1
                    if random_order:
                        _shuffle(bgs[r], perm, n)
                    nflip = 0
                    for k in range(n):
                        i = perm[k]
                        d = sd[i] * h[i]
                        if d > tol[i]:                # certainly sign(h_i) = s_i: no flip
                            continue
                        if not (d < -tol[i]) and \
                                _up(jt, tol, sd, h, i, n, &work) == (sd[i] > 0.0):
                            continue                  # in the band: the exact sign says stay
                        sd[i] = -sd[i]
                        _axpy(h, jt + i * n, 2.0 * sd[i], n)
                        nflip += 1
                        since += 1
                        exact = False
                        if since >= _REFRESH * n:
                            _fields(jt, sd, h, n)
                            work += <uint64_t>(n * n)
                            exact = True
                            since = 0
                    flips += nflip
                    work += <uint64_t>(n + nflip * n)
                    if nflip == 0:
                        if not exact:
                            _fields(jt, sd, h, n)
                            work += <uint64_t>(n * n)
                            exact = True
                            since = 0
                        if _sign_stable(jt, tol, sd, h, n, &work):
                            conv = True
                            break
                    if _poll_due(&work):
                        interrupted = True
                        break
                if interrupted:
                    break
                if not exact:
                    _fields(jt, sd, h, n)
                    work += <uint64_t>(n * n)
                if delta_out is not None:
                    dl = &delta_out[r, 0]
                _store_run(jt, tol, sd, h, n, &S[r, 0], dl, &margin_out[r], &mean_out[r],
                           &fp_out[r], &work)
                sweeps_out[r] = sweep
                flips_out[r] = flips
                conv_out[r] = 1 if conv else 0
                work += <uint64_t>(4 * n)
                if _poll_due(&work):
                    interrupted = True
                    break
        if interrupted:
            fpl_reraise()
    finally:
        free(buf)
        free(perm)
        free(bgs)
        free(tol)


# --------------------------------------------------------------------------------------------
# synchronous dynamics


def sync_runs(const double[:, ::1] JT, int8_t[:, ::1] S, Py_ssize_t max_steps, Py_ssize_t block,
              int64_t[::1] steps_out, int64_t[::1] flips_out, uint8_t[::1] conv_out,
              uint8_t[::1] cycle_out, uint8_t[::1] fp_out, double[::1] margin_out,
              double[::1] mean_out, double[:, ::1] delta_out=None):
    """Synchronous dynamics ``s ← sign(J s)`` for each row of ``S`` (overwritten by final states).

    Every sign is that of the exact field (module docstring). Fields are canonical (from
    scratch, index order) at the first step; afterwards a step whose set F of flipped spins is
    small (4|F| ≤ N) updates them incrementally, ``h += Σ_{j∈F} 2 s_j' JT[j]`` (O(N|F|) instead
    of O(N²)), until 4N updates have accumulated since the last canonical fields, when (as after
    a large step) the next step's fields are summed from scratch again. So a field carries at
    most N + 4N roundings, the bound the band ``tol`` of :func:`_tolerances` is made for
    (module docstring), and every decision — hence every state, step count, flip count and
    flag — is the same as with canonical fields at every step. Canonical fields are computed
    for runs in groups of ``block`` in lock step so that each row ``JT[j]`` is read once for the
    whole group (results do not depend on ``block``). A run stops when a step changes nothing
    (converged) or when the new state equals the state two steps back (a 2-cycle, ``cycle_out``;
    the final state is the one after that step), or after ``max_steps`` steps. The reported
    stabilities are the canonical fields of the final state, as before.
    """
    cdef Py_ssize_t n = _check(JT, S)
    cdef Py_ssize_t runs = S.shape[0]
    _check_out(runs, n, delta_out,
               (steps_out, flips_out, conv_out, cycle_out, fp_out, margin_out, mean_out))
    if max_steps < 0:
        raise ValueError("max_steps must be >= 0")
    if block < 1:
        block = 1
    cdef double *sd = <double *> malloc((3 * block + 1) * n * sizeof(double))
    cdef double tmax
    cdef double *tol = _tolerances(&JT[0, 0], n, &tmax)
    cdef Py_ssize_t *act = <Py_ssize_t *> malloc(block * sizeof(Py_ssize_t))
    cdef uint8_t *done = <uint8_t *> malloc(block * sizeof(uint8_t))
    cdef uint8_t *hexact = <uint8_t *> malloc(block * sizeof(uint8_t))
    cdef uint8_t *need = <uint8_t *> malloc(block * sizeof(uint8_t))    # canonical fields next
    cdef Py_ssize_t *upd = <Py_ssize_t *> malloc(block * sizeof(Py_ssize_t))
    cdef Py_ssize_t *fl = <Py_ssize_t *> malloc((n if n > 0 else 1) * sizeof(Py_ssize_t))
    cdef double **Hp = <double **> malloc(block * sizeof(double *))
    cdef const double **Sp = <const double **> malloc(block * sizeof(double *))
    if sd == NULL or act == NULL or done == NULL or hexact == NULL or Hp == NULL or Sp == NULL \
            or tol == NULL or need == NULL or upd == NULL or fl == NULL:
        free(sd); free(act); free(done); free(hexact); free(Hp); free(Sp); free(tol)
        free(need); free(upd); free(fl)
        raise MemoryError()
    cdef double *prev = sd + block * n
    cdef double *H = sd + 2 * block * n
    cdef double *nxt = sd + 3 * block * n     # the new state of one run (exact signs)
    cdef const double *jt = &JT[0, 0]
    cdef double *ha
    cdef double *sa
    cdef double *pa
    cdef double *dl = NULL
    cdef double v
    cdef Py_ssize_t q2
    cdef Py_ssize_t b0, nb, a, q, nact, nref, i, t, changes, tile, i0, i1
    cdef bint same_prev, interrupted = False
    cdef uint64_t work = 0
    try:
        with nogil:
            b0 = 0
            while b0 < runs and not interrupted:
                nb = block if runs - b0 > block else runs - b0
                for a in range(nb):
                    for i in range(n):
                        sd[a * n + i] = 1.0 if S[b0 + a, i] > 0 else -1.0
                        prev[a * n + i] = 0.0       # no state two steps back yet
                    done[a] = 0
                    hexact[a] = 0
                    need[a] = 1
                    upd[a] = 0
                    steps_out[b0 + a] = 0
                    flips_out[b0 + a] = 0
                    conv_out[b0 + a] = 0
                    cycle_out[b0 + a] = 0
                t = 0
                while t < max_steps:
                    nact = 0
                    for a in range(nb):
                        if not done[a]:
                            act[nact] = a
                            nact += 1
                    if nact == 0:
                        break
                    t += 1
                    # canonical fields of the active runs that need them: H[a] = Σ_j s_j JT[j],
                    # j in index order (the others carry incrementally updated fields)
                    nref = 0
                    for q in range(nact):
                        if need[act[q]]:
                            Hp[nref] = H + act[q] * n
                            Sp[nref] = sd + act[q] * n
                            need[act[q]] = 0
                            upd[act[q]] = 0
                            nref += 1
                    if nref > 0:
                        tile = _TILE_BYTES // (8 * nref)
                        if tile < 64:
                            tile = 64
                        i0 = 0
                        while i0 < n:
                            i1 = i0 + tile if n - i0 > tile else n
                            fpl_dyn_fields_tile(jt, Hp, Sp, nref, n, i0, i1)
                            i0 = i1
                        work += <uint64_t>(nref * n * n)
                    for q in range(nact):
                        a = act[q]
                        ha = H + a * n
                        sa = sd + a * n
                        pa = prev + a * n
                        steps_out[b0 + a] = t
                        changes = 0
                        same_prev = True
                        for i in range(n):
                            v = 1.0 if _up(jt, tol, sa, ha, i, n, &work) else -1.0
                            nxt[i] = v
                            if v != sa[i]:
                                fl[changes] = i
                                changes += 1
                            if v != pa[i]:
                                same_prev = False
                        if changes == 0:
                            conv_out[b0 + a] = 1
                            done[a] = 1
                            hexact[a] = upd[a] == 0   # H canonical: the final state's fields
                            continue
                        flips_out[b0 + a] += changes
                        memcpy(pa, sa, n * sizeof(double))
                        memcpy(sa, nxt, n * sizeof(double))
                        if same_prev:
                            cycle_out[b0 + a] = 1
                            done[a] = 1
                        elif 4 * changes <= n and upd[a] + changes <= _REFRESH * n:
                            for q2 in range(changes):      # fields of the new state, O(N|F|)
                                i = fl[q2]
                                _axpy(ha, jt + i * n, 2.0 * nxt[i], n)
                            upd[a] += changes
                            work += <uint64_t>(changes * n)
                        else:
                            need[a] = 1
                    if _poll_due(&work):
                        interrupted = True
                        break
                if interrupted:
                    break
                for a in range(nb):
                    ha = H + a * n
                    sa = sd + a * n
                    if not hexact[a]:
                        _fields(jt, sa, ha, n)
                    if delta_out is not None:
                        dl = &delta_out[b0 + a, 0]
                    _store_run(jt, tol, sa, ha, n, &S[b0 + a, 0], dl, &margin_out[b0 + a],
                               &mean_out[b0 + a], &fp_out[b0 + a], &work)
                b0 += nb
        if interrupted:
            fpl_reraise()
    finally:
        free(sd)
        free(act)
        free(done)
        free(hexact)
        free(Hp)
        free(Sp)
        free(tol)
        free(need)
        free(upd)
        free(fl)


# --------------------------------------------------------------------------------------------
# simulated annealing


def anneal_runs(const double[:, ::1] JT, int8_t[:, ::1] S, list gens, const double[::1] betas,
                int64_t[::1] sweeps_out, int64_t[::1] flips_out, int64_t[::1] energy_out,
                uint8_t[::1] reached_out, double[::1] margin_out, double[::1] mean_out,
                double[:, ::1] delta_out=None):
    """Simulated annealing on E(s) = #{i : s_i h_i ≤ 0} for each row of ``S`` (overwritten).

    Sweep t (t = 0 .. len(betas)-1) makes N proposals at inverse temperature ``betas[t]``: a
    uniformly random neuron j, the energy after flipping it computed in O(N) from the current
    fields and column j (``h_i' = h_i − 2 s_j JT[j, i]``), accepted with probability
    ``min(1, exp(−β ΔE))``. E and every proposal's E are counted with exact decisions (module
    docstring). Fields are made canonical every 4N accepted flips (and E recounted). When E
    reaches 0 the fields are made canonical and E recounted: the run stops if it is still 0 (a
    strict fixed point). A state with E = 0 from the start does no sweep. Outputs per run: sweeps
    done (a sweep cut short by success counts), accepted flips, final E, reached (E = 0), min and
    mean of Δ (and the profile into ``delta_out``), from canonical fields of the final state.
    """
    cdef Py_ssize_t n = _check(JT, S)
    cdef Py_ssize_t runs = S.shape[0]
    _check_out(runs, n, delta_out,
               (sweeps_out, flips_out, energy_out, reached_out, margin_out, mean_out))
    cdef Py_ssize_t nsweeps = betas.shape[0]
    cdef bitgen_t **bgs = _bitgens(gens, runs)
    cdef double *buf = <double *> malloc(2 * n * sizeof(double))
    cdef double tmax
    cdef double *tol = _tolerances(&JT[0, 0], n, &tmax)
    if buf == NULL or tol == NULL:
        free(bgs); free(buf); free(tol)
        raise MemoryError()
    cdef double *sd = buf
    cdef double *h = buf + n
    cdef const double *jt = &JT[0, 0]
    cdef const double *row
    cdef const double *bt = &betas[0] if nsweeps > 0 else NULL
    cdef double *dl = NULL
    cdef double beta, c, hj
    cdef Py_ssize_t r, i, j, k, sweep, since, E, Enew, dE
    cdef long unc
    cdef int64_t flips
    cdef bint accept, found, interrupted = False
    cdef uint64_t work = 0
    cdef bitgen_t *bg
    try:
        with nogil:
            for r in range(runs):
                bg = bgs[r]
                for i in range(n):
                    sd[i] = 1.0 if S[r, i] > 0 else -1.0
                _fields(jt, sd, h, n)
                work += <uint64_t>(n * n)
                E = _unstable(jt, tol, sd, h, n, &work)
                found = E == 0
                since = 0
                flips = 0
                sweep = 0
                while not found and sweep < nsweeps:
                    beta = bt[sweep]
                    sweep += 1
                    for k in range(n):
                        j = <Py_ssize_t>_bounded(bg, <uint32_t>n)
                        row = jt + j * n
                        c = -2.0 * sd[j]              # 2 s_j' with s_j' = -s_j
                        if tmax < 0.0:                # every row sums exactly: float = exact
                            unc = 0
                            Enew = fpl_dyn_count_after(sd, h, row, c, n)
                        elif tmax == INFINITY:        # a row could overflow: always exact
                            unc = 1
                            Enew = 0
                        else:
                            Enew = fpl_dyn_count_after_band(sd, h, row, c, tmax, n, &unc)
                        hj = h[j] + c * row[j]        # neuron j itself also flips its spin
                        Enew += (-sd[j] * hj <= 0.0) - (sd[j] * hj <= 0.0)
                        if unc:                       # a value near 0: decide them exactly
                            Enew = _unstable_after(jt, tol, sd, h, j, c, n, &work)
                        dE = Enew - E
                        if dE <= 0:
                            accept = True
                        else:
                            accept = bg.next_double(bg.state) < exp(-beta * <double>dE)
                        if not accept:
                            continue
                        sd[j] = -sd[j]
                        _axpy(h, row, c, n)
                        E = Enew
                        flips += 1
                        since += 1
                        if since >= _REFRESH * n or E == 0:
                            _fields(jt, sd, h, n)
                            work += <uint64_t>(n * n)
                            since = 0
                            E = _unstable(jt, tol, sd, h, n, &work)
                            if E == 0:
                                found = True
                                break
                    work += <uint64_t>(2 * n * n)
                    if _poll_due(&work):
                        interrupted = True
                        break
                if interrupted:
                    break
                if since != 0:
                    _fields(jt, sd, h, n)
                    work += <uint64_t>(n * n)
                if delta_out is not None:
                    dl = &delta_out[r, 0]
                _store_run(jt, tol, sd, h, n, &S[r, 0], dl, &margin_out[r], &mean_out[r],
                           &reached_out[r], &work)
                energy_out[r] = _unstable(jt, tol, sd, h, n, &work)
                sweeps_out[r] = sweep
                flips_out[r] = flips
                work += <uint64_t>(4 * n)
                if _poll_due(&work):
                    interrupted = True
                    break
        if interrupted:
            fpl_reraise()
    finally:
        free(buf)
        free(bgs)
        free(tol)
