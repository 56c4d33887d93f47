"""The model of docs/model.md, in one place: fixed-point convention, states, ensembles, coupling
files.

Conventions (imported everywhere else, never re-implemented):

* N neurons ``s_i = ±1``; coupling matrix ``J`` (N×N, float64); its diagonal holds the
  self-couplings. Local field ``h_i = Σ_j J_ij s_j`` (diagonal included).
* Stability ``Δ_i = s_i h_i``; ``s`` is a **fixed point** iff ``Δ_i > 0`` for every ``i``
  (strict: a field of exactly 0 is *not* stable). Margin ``κ(s) = min_i Δ_i``.
* Dynamics update ``s_i ← sign(h_i)`` with ``sign(0) = +1`` (:func:`sign_update`).
* Packed states (N ≤ 64): bit ``i`` of a ``uint64`` is set iff ``s_i = +1``.
* Random ensemble: off-diagonal ``J_ij ~ N(0, 1/N)``, reciprocity ``η = corr(J_ij, J_ji)``,
  constant diagonal ``J_D``, optional dilution ``c`` (entry kept with probability c, variance
  rescaled to 1/(cN)); modular chain of L modules with one-to-one couplings λ.

Exact means exact on the stored numbers. Every fixed-point (and update-sign) decision is the
sign of the *exact* sum of the stored float64 terms ``J_ij s_j`` (exact products, since
``s_j = ±1``), in every kernel and in this module alike. Fields are summed in float64 (fast);
a sum of n exact terms in any order (BLAS, blocked, pairwise, FMA) is within
``γ_{n−1} Σ_j |J_ij|`` of the exact sum, ``γ_k = k u / (1 − k u)``, ``u = 2^-53`` (an addition
whose result is subnormal is exact, so no absolute term is needed). Where a computed field is
within its band (:func:`field_bands`, ≥ 2 γ_n Σ_j |J_ij|) of zero, its sign is decided by an
exact summation of the stored terms (:func:`exact_sign`: ``math.fsum``, correctly rounded, so
its sign is exact; exact integer arithmetic after an intermediate overflow). An exact tie is
therefore never counted as stable, and a small term lost to rounding is never ignored.
Stability and margin *values* stay float64 (their sign can differ from the exact decision only
inside the band). Inputs that float64 cannot hold exactly (integers beyond 2^53, long double,
complex) are refused rather than rounded.
"""
from __future__ import annotations

import math
import zipfile
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from .errors import InputError, check_count

MAX_PACKED_N = 64

# --------------------------------------------------------------------------------------------
# validation


_EXACT_INT = 2**53  # integers of larger magnitude are not all representable in float64


def check_float64_exact(arr: np.ndarray, name: str) -> None:
    """Refuse (InputError naming ``name``) an array that float64 cannot hold exactly: complex,
    extended precision (long double / float128), integers beyond 2^53 in magnitude, or
    non-numeric dtypes. Booleans, (u)int up to 2^53 and float16/32/64 pass."""
    kind = arr.dtype.kind
    if kind == "c":
        raise InputError(f"{name} must be real, got a complex array (dtype {arr.dtype})")
    if kind == "O" and arr.size and all(isinstance(x, (int, np.integer)) and
                                        not isinstance(x, bool) for x in arr.flat):
        big = [abs(int(x)) > _EXACT_INT for x in arr.flat]
        if any(big):
            raise InputError(
                f"{name} has integer entries beyond 2^53 in magnitude (first at flat index "
                f"{big.index(True)}): float64 cannot represent them exactly; convert them "
                "deliberately (e.g. np.asarray(..., dtype=np.float64)) if rounding is intended")
    if kind not in "biuf":
        raise InputError(f"{name} must be real numeric, got dtype {arr.dtype}")
    if kind == "f" and arr.dtype.itemsize > 8:
        raise InputError(
            f"{name} has extended precision (dtype {arr.dtype}); the model computes on float64 "
            "and would round it: convert it deliberately with .astype(np.float64)")
    if kind in "iu" and arr.size and arr.dtype.itemsize >= 8:
        bad = (arr > _EXACT_INT) if kind == "u" else ((arr > _EXACT_INT) | (arr < -_EXACT_INT))
        if np.any(bad):
            pos = np.argwhere(bad)[0]
            raise InputError(
                f"{name} has integer entries beyond 2^53 in magnitude (first at index "
                f"{tuple(int(p) for p in pos)}: {arr[tuple(pos)]}): float64 cannot represent "
                "them exactly; convert them deliberately if rounding is intended")


def as_couplings(J, *, name: str = "J", max_n: int | None = None, copy: bool = False) -> np.ndarray:
    """Validate a coupling matrix and return it as a C-contiguous float64 array.

    Raises :class:`InputError` unless ``J`` is a real, finite, square 2-D matrix with N ≥ 1
    (and N ≤ ``max_n`` when given) whose entries float64 holds exactly
    (:func:`check_float64_exact`: no complex, long double, or integers beyond 2^53).
    """
    try:
        arr = np.asarray(J)
    except (TypeError, ValueError) as exc:
        raise InputError(f"{name} must be a real numeric matrix ({exc})") from None
    if arr.dtype.kind == "c":
        raise InputError(f"{name} must be real, got a complex matrix")
    if arr.dtype.kind not in "biufO":
        raise InputError(f"{name} must be a real numeric matrix, got dtype {arr.dtype}")
    check_float64_exact(arr, name)
    if copy:
        arr = np.array(arr, dtype=np.float64, copy=True)
    if arr.ndim != 2:
        raise InputError(f"{name} must be a 2-D N×N matrix, got an array of shape {arr.shape}")
    if arr.shape[0] != arr.shape[1]:
        raise InputError(f"{name} must be square, got shape {arr.shape[0]}×{arr.shape[1]}")
    if arr.shape[0] < 1:
        raise InputError(f"{name} must have N ≥ 1 neurons, got an empty matrix")
    arr = np.ascontiguousarray(arr, dtype=np.float64)
    if not np.all(np.isfinite(arr)):
        bad = np.argwhere(~np.isfinite(arr))[0]
        raise InputError(
            f"{name} has non-finite entries (NaN or inf), first at row {bad[0]}, column {bad[1]}"
        )
    if max_n is not None and arr.shape[0] > max_n:
        raise InputError(f"N = {arr.shape[0]} is too large for this method (at most {max_n})")
    return arr


def with_self_coupling(J, jd) -> np.ndarray:
    """Copy of ``J`` with its diagonal set to ``jd`` (a scalar or a length-N vector)."""
    J = as_couplings(J, copy=True)
    jd = np.asarray(jd)
    check_float64_exact(jd, "self-coupling")
    jd = jd.astype(np.float64)
    if jd.ndim > 1 or (jd.ndim == 1 and jd.shape[0] != J.shape[0]):
        raise InputError(f"self-coupling must be a scalar or a length-{J.shape[0]} vector")
    if not np.all(np.isfinite(jd)):
        raise InputError("self-coupling must be finite")
    np.fill_diagonal(J, jd)
    return J


def as_states(s, n: int | None = None, *, name: str = "s") -> np.ndarray:
    """Validate ±1 states (a vector of length N, or an (M, N) batch) and return them as int8."""
    arr = np.asarray(s)
    if arr.ndim not in (1, 2):
        raise InputError(f"{name} must be a ±1 vector or an (M, N) array of ±1 states")
    if arr.size and not np.all((arr == 1) | (arr == -1)):
        raise InputError(f"{name} must contain only +1 and -1")
    if n is not None and arr.shape[-1] != n:
        raise InputError(f"{name} has length {arr.shape[-1]}, expected N = {n}")
    return arr.astype(np.int8, copy=False)


# --------------------------------------------------------------------------------------------
# the fixed-point predicate


def local_fields(J, s) -> np.ndarray:
    """Local fields ``h_i = Σ_j J_ij s_j`` (diagonal included), float64; batched over rows of s."""
    J = as_couplings(J)
    s = as_states(s, J.shape[0])
    return s.astype(np.float64) @ J.T


def stabilities(J, s) -> np.ndarray:
    """Stabilities ``Δ_i = s_i h_i`` (float64 values, fields summed in float64). Their sign is
    the exact one except within the rounding band of 0 (:func:`field_bands`): decide stability
    with :func:`stable_mask` / :func:`is_fixed_point`, which are exact."""
    J = as_couplings(J)
    s = as_states(s, J.shape[0])
    return s * local_fields(J, s)


def field_bands(J, bias=None) -> np.ndarray:
    """Per-row half-width ``β_i`` of the band around 0 inside which the float64 value of
    ``h_i = Σ_j J_ij s_j (+ b_i)`` does not certify its sign.

    For any ±1 state and any summation order (BLAS, blocked, FMA) the computed field is within
    ``γ_{n−1} A_i`` of the exact sum of the stored terms (``n`` terms, ``A_i = Σ_j |J_ij|
    (+ |b_i|)``, ``γ_k = k u/(1 − k u)``, ``u = 2^-53``); ``β_i = 2 (n + 1) u fl(A_i) +
    (n + 1)·2^-1074`` exceeds that (the factor 2 and the floor absorb the rounding of fl(A_i)
    and of β_i itself). ``β_i = 0`` for rows whose every partial sum is representable (all terms
    multiples of ``2^e`` and ``A_i < 2^(52+e)``, e.g. integer couplings): their float sums are
    exact in any order. ``β_i = ∞`` for rows with ``A_i > 1e300`` (a partial sum could
    overflow), so every decision on them is exact.
    """
    J = np.asarray(J, dtype=np.float64)
    T = J if bias is None else np.column_stack([J, np.asarray(bias, dtype=np.float64)])
    n = T.shape[1]
    with np.errstate(over="ignore", invalid="ignore"):
        A = np.abs(T).sum(axis=1)
        bands = 2.0 * (n + 1) * 2.0**-53 * A + (n + 1) * 2.0**-1074
    bands[~(A <= 1e300)] = np.inf
    # rows whose float sums are exact whatever the order: every |term| a multiple of 2^e_i
    # (e_i = exponent of the lowest set bit over the row) and A_i < 2^(52 + e_i)
    m, e = np.frexp(T)
    mant = np.abs(np.ldexp(m, 53)).astype(np.int64)       # exact integers < 2^53
    nz = mant != 0
    if np.any(nz):
        low = np.where(nz, mant & -mant, 1)
        elow = np.where(nz, e - 54 + np.frexp(low.astype(np.float64))[1], 4096)
        emin = elow.min(axis=1)
        with np.errstate(over="ignore"):
            limit = np.ldexp(1.0, np.minimum(52 + emin, 1100).astype(np.int32))
        bands[(A < limit) & (A <= 1e300)] = 0.0
    bands[A == 0] = 0.0
    return bands


def exact_sign(terms) -> int:
    """Exact sign (−1, 0 or +1) of the sum of finite float64 numbers ``terms``.

    ``math.fsum`` returns the correctly rounded sum, whose sign is exactly that of the true sum
    (the true sum is a multiple of 2^-1074, so it never rounds to 0 unless it is 0); if fsum hits
    an intermediate overflow the sum is done in exact integer arithmetic in units of 2^-1074."""
    return _exact_sign_list(np.asarray(terms, dtype=np.float64).ravel().tolist())


def _exact_sign_list(vals: list) -> int:
    try:
        v = math.fsum(vals)
    except OverflowError:
        total = 0
        for x in vals:
            p, q = x.as_integer_ratio()          # q = 2^k, k ≤ 1074
            total += p << (1075 - q.bit_length())
        return (total > 0) - (total < 0)
    return (v > 0) - (v < 0)


def field_signs(J, S, H=None, *, bias=None, bands=None) -> np.ndarray:
    """Exact signs (int8 −1, 0, +1) of the fields ``h = S Jᵀ (+ b)`` of ±1 states ``S``.

    ``S``: (M, N) or (N,) ±1 (any numeric dtype); ``H``: their float64 fields computed in any
    order (computed here when None); ``bias``: optional length-N vector ``b`` (one more term per
    row); ``bands``: :func:`field_bands` of (J, bias), to reuse across calls. Entries with
    ``|H| > band`` take the float sign (certain); the others are summed exactly
    (:func:`exact_sign` of the stored terms ``J_ij s_j`` and ``b_i``). Trusts its inputs
    (validated ±1 states, finite J) — the public predicates validate.
    """
    J = np.asarray(J, dtype=np.float64)
    S = np.asarray(S)
    single = S.ndim == 1
    S2 = np.atleast_2d(S)
    b = None if bias is None else np.broadcast_to(np.asarray(bias, dtype=np.float64),
                                                  (J.shape[0],))
    if H is None:
        with np.errstate(over="ignore", invalid="ignore"):   # overflowed rows are decided exactly
            H = S2.astype(np.float64) @ J.T
            if b is not None:
                H = H + b
    H = np.atleast_2d(np.asarray(H, dtype=np.float64))
    if bands is None:
        bands = field_bands(J, b)
    sig = (H > 0).astype(np.int8) - (H < 0).astype(np.int8)
    with np.errstate(invalid="ignore"):
        close = (bands > 0) & ~(np.abs(H) > bands)
    if close.any():
        ms, rows = np.nonzero(close)
        terms = J[rows] * S2[ms].astype(np.float64)         # the exact terms J_ij s_j
        if b is not None:
            terms = np.column_stack([terms, b[rows]])
        sig[ms, rows] = [_exact_sign_list(t) for t in terms.tolist()]
    return sig[0] if single else sig


def stable_mask(J, s) -> np.ndarray:
    """Exact per-neuron strict stability ``s_i h_i > 0`` (bool, same shape as ``s``), decided
    on the stored numbers (:func:`field_signs`)."""
    J = as_couplings(J)
    s = as_states(s, J.shape[0])
    ok = (np.atleast_2d(s) * field_signs(J, np.atleast_2d(s))) > 0
    return ok[0] if s.ndim == 1 else ok


def is_fixed_point(J, s):
    """Strict fixed-point predicate: ``s_i h_i > 0`` for every i (a zero field is unstable),
    decided exactly on the stored float64 numbers (module docstring).

    Returns a bool for one state, a bool array for an (M, N) batch.
    """
    return np.all(stable_mask(J, s), axis=-1)


def margin(J, s):
    """Margin ``κ(s) = min_i s_i h_i`` (float64 value; positive iff s is a fixed point, except
    within the rounding band of 0, where :func:`is_fixed_point` decides exactly)."""
    return np.min(stabilities(J, s), axis=-1)


def sign_update(h) -> np.ndarray:
    """The dynamics' update rule ``sign(h)`` with ``sign(0) = +1`` (int8 ±1)."""
    return np.where(np.asarray(h) >= 0, 1, -1).astype(np.int8)


# --------------------------------------------------------------------------------------------
# packed states


def pack_states(s) -> np.ndarray:
    """Pack ±1 states (N ≤ 64) into uint64 codes: bit i set iff s_i = +1."""
    s = np.atleast_2d(as_states(s))
    n = s.shape[1]
    if n > MAX_PACKED_N:
        raise InputError(f"packed states need N ≤ {MAX_PACKED_N}, got N = {n}")
    bits = (s > 0).astype(np.uint64)
    weights = np.left_shift(np.uint64(1), np.arange(n, dtype=np.uint64))
    return (bits * weights).sum(axis=1, dtype=np.uint64)


def unpack_states(codes, n: int) -> np.ndarray:
    """Inverse of :func:`pack_states`: uint64 codes -> (M, n) int8 ±1 states."""
    if not 1 <= n <= MAX_PACKED_N:
        raise InputError(f"packed states need 1 ≤ N ≤ {MAX_PACKED_N}, got N = {n}")
    raw = np.atleast_1d(np.asarray(codes))
    if raw.dtype.kind not in "iu" or (raw.dtype.kind == "i" and np.any(raw < 0)):
        raise InputError("packed states must be non-negative integer codes")
    codes = raw.astype(np.uint64)
    if n < MAX_PACKED_N and np.any(codes >> np.uint64(n)):
        raise InputError(f"packed state has bits set at positions ≥ N = {n}")
    bits = (codes[:, None] >> np.arange(n, dtype=np.uint64)) & np.uint64(1)
    return (2 * bits.astype(np.int8) - 1).astype(np.int8)


def all_states(n: int, max_n: int = 24) -> np.ndarray:
    """All 2^n states as a (2^n, n) int8 array, row r = unpack_states(r, n)."""
    if not 1 <= n <= max_n:
        raise InputError(f"all_states needs 1 ≤ N ≤ {max_n}, got N = {n}")
    return unpack_states(np.arange(2**n, dtype=np.uint64), n)


# --------------------------------------------------------------------------------------------
# randomness


def as_generator(seed=None) -> np.random.Generator:
    """A NumPy Generator from an int seed, a SeedSequence or a Generator (returned as is)."""
    if isinstance(seed, np.random.Generator):
        return seed
    if isinstance(seed, bool) or (
        seed is not None and not isinstance(seed, (int, np.integer, np.random.SeedSequence))
    ):
        raise InputError(f"seed must be an integer, a SeedSequence or a Generator, got {seed!r}")
    if isinstance(seed, (int, np.integer)) and seed < 0:
        raise InputError(f"seed must be non-negative, got {seed}")
    return np.random.default_rng(seed)


def check_int_seed(seed) -> int:
    """Validate an integer seed (non-negative Python or NumPy integer; returned as int), for
    the studies that derive child seeds ``SeedSequence(seed, spawn_key=...)`` from it."""
    return check_count(seed, "seed")


def check_seed(seed):
    """Validate a seed: a non-negative integer (returned as int) or a SeedSequence (returned as
    is); anything else raises InputError. Seeds become generators via :func:`as_generator`."""
    if isinstance(seed, np.random.SeedSequence):
        return seed
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise InputError(f"seed must be a non-negative integer or a SeedSequence, got {seed!r}")
    return int(seed)


def seed_repr(seed):
    """A JSON-able record of a seed: the int itself, or ``"entropy/spawn_key"`` for a
    SeedSequence (children share the entropy, so the spawn key is part of its identity)."""
    if isinstance(seed, np.random.SeedSequence):
        return repr(seed.entropy) if not seed.spawn_key else f"{seed.entropy}/{tuple(seed.spawn_key)}"
    return seed


@dataclass(frozen=True)
class Ensemble:
    """A random-network ensemble of docs/model.md#ensembles (one parameter point).

    ``n`` neurons per module, ``jd`` self-coupling, ``eta`` reciprocity corr(J_ij, J_ji),
    ``dilution`` c (fraction of kept off-diagonal entries), ``layers`` L modules chained by
    one-to-one couplings ``lam`` (λ ≥ 0). ``layers = 1`` is the thesis's network.
    """

    n: int
    jd: float = 0.0
    eta: float = 0.0
    dilution: float = 1.0
    layers: int = 1
    lam: float = 0.0

    def __post_init__(self):
        for name in ("jd", "eta", "dilution", "lam"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
                raise InputError(f"{name} must be a real number, got {value!r}")
        if isinstance(self.n, bool) or not isinstance(self.n, (int, np.integer)) or self.n < 1:
            raise InputError(f"N must be a positive integer, got {self.n!r}")
        if not isinstance(self.layers, (int, np.integer)) or self.layers < 1:
            raise InputError(f"layers must be a positive integer, got {self.layers!r}")
        for name in ("jd", "eta", "dilution", "lam"):
            if not np.isfinite(getattr(self, name)):
                raise InputError(f"{name} must be finite")
        if not -1.0 <= self.eta <= 1.0:
            raise InputError(f"reciprocity eta must lie in [-1, 1], got {self.eta}")
        if not 0.0 < self.dilution <= 1.0:
            raise InputError(f"dilution c must lie in (0, 1], got {self.dilution}")
        if self.lam < 0:
            raise InputError(f"inter-module coupling lambda must be ≥ 0, got {self.lam}")

    @property
    def size(self) -> int:
        """Total number of neurons L·N."""
        return self.n * self.layers

    def sample(self, seed=0) -> np.ndarray:
        """Draw one coupling matrix (L·N × L·N, float64) from this ensemble (``seed``: int,
        SeedSequence or Generator, default 0)."""
        rng = as_generator(seed)
        if self.layers == 1:
            return gaussian_couplings(self.n, self.jd, eta=self.eta, dilution=self.dilution, seed=rng)
        return modular_couplings(
            self.n, self.layers, self.jd, self.lam, eta=self.eta, dilution=self.dilution, seed=rng
        )

    def as_dict(self) -> dict:
        return asdict(self)


def gaussian_couplings(n: int, jd: float = 0.0, *, eta: float = 0.0, dilution: float = 1.0, seed=0):
    """Random couplings of the ensemble of docs/model.md#ensembles.

    Off-diagonal ``J_ij ~ N(0, 1/N)``. For η ≠ 0, ``J = √((1+η)/2) S + √((1−η)/2) A`` with S
    symmetric and A antisymmetric (off-diagonal variance 1/N each), so corr(J_ij, J_ji) = η;
    η = 0 draws i.i.d. entries directly. Dilution keeps each off-diagonal entry independently
    with probability c and rescales kept entries by 1/√c (variance 1/(cN)); for η ≠ 0 the pair
    (i, j), (j, i) is kept or dropped together, so corr(J_ij, J_ji) = η still. Diagonal = ``jd``.

    ``seed``: int, SeedSequence or NumPy Generator (advanced in place); default 0 (``None``:
    fresh OS entropy).
    """
    Ensemble(n=n, jd=jd, eta=eta, dilution=dilution)  # validates the parameters
    rng = as_generator(seed)
    scale = 1.0 / np.sqrt(n)
    if eta == 0.0:
        J = rng.standard_normal((n, n))
        J *= scale                      # in place: one N×N array at the peak (same values)
    else:
        X = np.triu(rng.standard_normal((n, n)), 1) * scale
        Y = np.triu(rng.standard_normal((n, n)), 1) * scale
        J = np.sqrt((1 + eta) / 2) * (X + X.T) + np.sqrt((1 - eta) / 2) * (Y - Y.T)
    if dilution < 1.0:
        keep = rng.random((n, n)) < dilution
        if eta != 0.0:  # keep (i, j) and (j, i) together so that corr(J_ij, J_ji) stays η
            keep = np.triu(keep, 1)
            keep = keep | keep.T
        J = np.where(keep, J / np.sqrt(dilution), 0.0)
    np.fill_diagonal(J, jd)
    return np.ascontiguousarray(J, dtype=np.float64)


def modular_couplings(n: int, layers: int, jd: float, lam: float, *, eta=0.0, dilution=1.0, seed=0):
    """Block coupling matrix of the modular chain (docs/model.md#modular), shape (L·N, L·N).

    Diagonal blocks: independent :func:`gaussian_couplings` (each with self-coupling ``jd``);
    blocks (l, l±1): ``λ·I`` (neuron i of module l drives neuron i of modules l±1; open ends).
    Neuron i of module l has index ``l·N + i``. ``seed``: int, SeedSequence or NumPy Generator
    (advanced in place; one stream, the modules drawn in order); default 0.
    """
    Ensemble(n=n, jd=jd, eta=eta, dilution=dilution, layers=layers, lam=lam)
    rng = as_generator(seed)
    size = n * layers
    J = np.zeros((size, size))
    for l in range(layers):
        sl = slice(l * n, (l + 1) * n)
        J[sl, sl] = gaussian_couplings(n, jd, eta=eta, dilution=dilution, seed=rng)
        if l + 1 < layers:
            nxt = slice((l + 1) * n, (l + 2) * n)
            J[sl, nxt] = lam * np.eye(n)
            J[nxt, sl] = lam * np.eye(n)
    return J


# --------------------------------------------------------------------------------------------
# coupling files


def load_couplings(path, *, key: str = "J", max_n: int | None = None) -> np.ndarray:
    """Read a coupling matrix from ``.npy``, ``.npz`` (array under ``key``, default ``J``),
    ``.txt`` (whitespace-separated) or ``.csv`` (comma-separated), and validate it."""
    from .tables import check_readable, read_text_matrix

    p = check_readable(path, "coupling")
    suffix = p.suffix.lower()
    try:
        if suffix == ".npy":
            arr = np.load(p, allow_pickle=False)
        elif suffix == ".npz":
            if not zipfile.is_zipfile(p):
                raise InputError(f"{str(p)!r} is not a valid .npz archive (not a zip file)")
            try:
                data = np.load(p, allow_pickle=False)
            except zipfile.BadZipFile as exc:
                raise InputError(f"{str(p)!r} is not a valid .npz archive ({exc})") from None
            with data:
                if key not in data.files:
                    raise InputError(
                        f"{str(p)!r} has no array named {key!r} (it has: {', '.join(data.files) or 'none'})"
                    )
                arr = data[key]
        elif suffix in (".txt", ".csv"):
            arr = read_text_matrix(p, delimiter="," if suffix == ".csv" else None)
            if arr.size == 0:
                raise InputError(f"coupling file {str(p)!r} is empty (no numbers in it)")
        else:
            raise InputError(
                f"unknown coupling file type {suffix!r} for {str(p)!r}: use .npy, .npz, .txt or .csv"
            )
    except InputError:
        raise
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as exc:
        raise InputError(f"cannot read coupling matrix from {str(p)!r}: {exc}") from None
    return as_couplings(arr, name=f"coupling matrix in {p.name}", max_n=max_n)


def save_couplings(path, J, *, key: str = "J") -> Path:
    """Write a coupling matrix as ``.npy``, ``.npz`` (under ``key``), ``.txt`` or ``.csv``
    (full float64 precision, so reading it back gives the identical matrix)."""
    from .tables import check_writable

    J = as_couplings(J)
    p = check_writable(path)
    suffix = p.suffix.lower()
    if suffix == ".npy":
        np.save(p, J)
    elif suffix == ".npz":
        np.savez_compressed(p, **{key: J})
    elif suffix in (".txt", ".csv"):
        np.savetxt(p, J, delimiter="," if suffix == ".csv" else " ", fmt="%.17g")
    else:
        raise InputError(f"unknown coupling file type {suffix!r}: use .npy, .npz, .txt or .csv")
    return p
