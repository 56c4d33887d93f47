"""Tests of the model conventions (fplandscape.model) and the compiled stability kernels.

Every expected value below is either worked out by hand in a comment or computed by an
independent plain-NumPy reference written in this file; nothing is copied from running the
code under test.
"""
import numpy as np
import pytest

from fplandscape import model
from fplandscape.errors import InputError
from fplandscape.sim import stability

# --------------------------------------------------------------------------------------------
# independent reference (written here, not imported from the package)


def ref_states(n, codes=None):
    """±1 states (float64) for the given codes (default all 2^n), bit i set <=> s_i = +1."""
    if codes is None:
        codes = np.arange(2**n, dtype=np.uint64)
    codes = np.asarray(codes, dtype=np.uint64)
    s = np.empty((codes.size, n))
    for i in range(n):
        bit = (codes >> np.uint64(i)) & np.uint64(1)
        s[:, i] = np.where(bit == 1, 1.0, -1.0)
    return s


def ref_stabilities(J, s):
    return s * (s @ J.T)


def ref_mask(J, s):
    return np.all(s * (s @ J.T) > 0, axis=1)


def gaussian_J(n, rng):
    return rng.standard_normal((n, n)) / np.sqrt(n)


def symmetric_J(n, rng):
    A = rng.standard_normal((n, n)) / np.sqrt(n)
    J = (A + A.T) / np.sqrt(2)
    np.fill_diagonal(J, 0.0)
    return J


def integer_tie_J(n, rng):
    """Entries from {-2, ..., 2}, zero diagonal: fields are often exactly 0 (ties)."""
    J = rng.integers(-2, 3, size=(n, n)).astype(np.float64)
    np.fill_diagonal(J, 0.0)
    return J


def integer_tie_diag_J(n, rng):
    """Entries from {-2, ..., 2}, diagonal 2: Δ_i = 2 + (integer), ties at -2, more fixed points."""
    J = integer_tie_J(n, rng)
    np.fill_diagonal(J, 2.0)
    return J


def gaussian_jd_J(n, rng):
    J = gaussian_J(n, rng)
    np.fill_diagonal(J, 0.8)
    return J


def hetero_diag_J(n, rng):
    J = gaussian_J(n, rng)
    np.fill_diagonal(J, rng.uniform(-0.3, 2.0, size=n))
    return J


ENSEMBLES = {
    "gaussian": gaussian_J,
    "gaussian_jd": gaussian_jd_J,
    "symmetric": symmetric_J,
    "integer_ties": integer_tie_J,
    "integer_ties_diag": integer_tie_diag_J,
    "hetero_diag": hetero_diag_J,
}
SIZES = [1, 2, 3, 5, 8, 11, 16]


# --------------------------------------------------------------------------------------------
# compiled kernels vs the plain reference, on every state


@pytest.mark.parametrize("kind", sorted(ENSEMBLES))
@pytest.mark.parametrize("n", SIZES)
def test_kernels_match_reference_on_all_states(kind, n):
    rng = np.random.default_rng(1000 * n + sorted(ENSEMBLES).index(kind))
    J = ENSEMBLES[kind](n, rng)
    codes = np.arange(2**n, dtype=np.uint64)
    s = ref_states(n)
    want_delta = ref_stabilities(J, s)
    want_mask = ref_mask(J, s)

    delta = stability.stabilities_packed(J, codes)
    assert delta.shape == (2**n, n) and delta.dtype == np.float64
    if kind == "integer_ties":
        # integer arithmetic is exact in float64, whatever the summation order
        np.testing.assert_array_equal(delta, want_delta)
    else:
        np.testing.assert_allclose(delta, want_delta, rtol=1e-12, atol=1e-12)

    mask = stability.fixed_point_mask_packed(J, codes)
    assert mask.dtype == np.bool_ and mask.shape == (2**n,)
    np.testing.assert_array_equal(mask, want_mask)

    count, fps = stability.count_fixed_points_bruteforce(J, return_states=True)
    assert isinstance(count, int)
    assert count == int(want_mask.sum())
    assert fps.dtype == np.uint64
    np.testing.assert_array_equal(fps, codes[want_mask])
    assert stability.count_fixed_points_bruteforce(J) == count
    if n >= 5 and kind not in ("gaussian", "integer_ties"):
        assert 0 < count < 2**n  # the comparison is not trivially all-False / all-True


@pytest.mark.parametrize("kind", ["integer_ties", "integer_ties_diag"])
def test_integer_test_data_really_contains_ties(kind):
    # The tie tests are only meaningful if some stabilities are exactly 0, including "weak"
    # states whose stabilities are all >= 0 with at least one == 0 (a non-strict rule would
    # call them fixed points). Same seeds as test_kernels_match_reference_on_all_states.
    for n in (3, 5, 8, 11, 16):
        rng = np.random.default_rng(1000 * n + sorted(ENSEMBLES).index(kind))
        J = integer_tie_J(n, rng) if kind == "integer_ties" else integer_tie_diag_J(n, rng)
        delta = ref_stabilities(J, ref_states(n))
        weak = np.all(delta >= 0, axis=1) & np.any(delta == 0, axis=1)
        assert np.any(weak), (kind, n)
        # the compiled kernels must reject every such state
        codes = np.flatnonzero(weak).astype(np.uint64)
        assert not np.any(stability.fixed_point_mask_packed(J, codes))
        assert np.all(stability.stabilities_packed(J, codes).min(axis=1) == 0)


def test_weak_fixed_point_is_rejected_by_all_kernels():
    # J = [[1, 1], [1, 1]]: state (+1, -1) has h = (0, 0), so Δ = (0, 0) -> not a fixed point.
    # (+1, +1): h = (2, 2) -> fixed point; (-1, -1) likewise. Codes: (+,+) = 3, (-,-) = 0.
    J = np.ones((2, 2))
    assert list(stability.fixed_point_mask_packed(J, np.array([0, 1, 2, 3], np.uint64))) == [
        True, False, False, True,
    ]
    count, fps = stability.count_fixed_points_bruteforce(J, return_states=True)
    assert count == 2 and list(fps) == [0, 3]


@pytest.mark.parametrize("kind", ["gaussian_jd", "integer_ties_diag", "hetero_diag"])
def test_mask_n20_all_states(kind):
    n = 20
    rng = np.random.default_rng(1000 * n + sorted(ENSEMBLES).index(kind))
    J = ENSEMBLES[kind](n, rng)
    codes = np.arange(2**n, dtype=np.uint64)
    mask = stability.fixed_point_mask_packed(J, codes)
    want = np.empty(2**n, dtype=bool)
    chunk = 2**16
    for start in range(0, 2**n, chunk):
        c = codes[start:start + chunk]
        want[start:start + chunk] = ref_mask(J, ref_states(n, c))
    assert want.sum() > 0  # the check is non-trivial
    if kind == "integer_ties_diag":  # and it contains exact ties (Δ_i == 0, all others > 0)
        weak = codes[:2**16][np.all(ref_stabilities(J, ref_states(n, codes[:2**16])) >= 0, axis=1)
                             & ~want[:2**16]]
        assert weak.size > 0 and not np.any(mask[weak.astype(np.int64)])
    np.testing.assert_array_equal(mask, want)
    count, fps = stability.count_fixed_points_bruteforce(J, return_states=True)
    assert count == int(want.sum())
    np.testing.assert_array_equal(fps, codes[want])


def test_stabilities_on_random_subset_n64():
    n = 64
    rng = np.random.default_rng(64)
    J = hetero_diag_J(n, rng)
    codes = rng.integers(0, 2**63, size=300, dtype=np.uint64) * np.uint64(2) + rng.integers(
        0, 2, size=300, dtype=np.uint64
    )
    codes[0] = np.uint64(2**64 - 1)  # all +1
    codes[1] = np.uint64(0)  # all -1
    s = ref_states(n, codes)
    np.testing.assert_allclose(stability.stabilities_packed(J, codes), ref_stabilities(J, s),
                               rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(stability.fixed_point_mask_packed(J, codes), ref_mask(J, s))


def test_empty_code_list():
    J = np.eye(3)
    assert stability.stabilities_packed(J, np.zeros(0, np.uint64)).shape == (0, 3)
    assert stability.fixed_point_mask_packed(J, np.zeros(0, np.uint64)).shape == (0,)


def test_wrapper_rejects_bad_codes_and_matrices():
    J = np.eye(4)
    with pytest.raises(InputError, match="N = 4"):
        stability.fixed_point_mask_packed(J, np.array([16], np.uint64))  # bit 4 set, N = 4
    with pytest.raises(InputError, match="N = 4"):
        stability.stabilities_packed(J, np.array([1, 2, 2**63], np.uint64))
    with pytest.raises(InputError, match="1-D"):
        stability.fixed_point_mask_packed(J, np.zeros((2, 2), np.uint64))
    with pytest.raises(InputError, match="dtype"):
        stability.fixed_point_mask_packed(J, np.array([1.0, 2.0]))
    with pytest.raises(InputError, match="non-negative"):
        stability.fixed_point_mask_packed(J, np.array([-1]))
    with pytest.raises(InputError, match="square"):
        stability.stabilities_packed(np.ones((3, 4)), np.array([0], np.uint64))
    with pytest.raises(InputError, match="too large"):
        stability.stabilities_packed(np.eye(65), np.array([0], np.uint64))
    # plain Python ints within range are accepted; bit 3 is the highest allowed for N = 4
    assert list(stability.fixed_point_mask_packed(J, [0, 15])) == [True, True]


def test_bruteforce_rejects_large_n():
    with pytest.raises(InputError, match="too large") as exc:
        stability.count_fixed_points_bruteforce(np.zeros((31, 31)))
    assert "31" in str(exc.value)


# --------------------------------------------------------------------------------------------
# model.is_fixed_point / stabilities / margin on hand-made cases


def test_identity_every_state_is_fixed_point():
    # J = I: h_i = s_i, Δ_i = 1 for every state.
    n = 6
    s = ref_states(n).astype(np.int8)
    assert np.all(model.is_fixed_point(np.eye(n), s))
    np.testing.assert_array_equal(model.stabilities(np.eye(n), s), np.ones((2**n, n)))
    np.testing.assert_array_equal(model.margin(np.eye(n), s), np.ones(2**n))
    assert stability.count_fixed_points_bruteforce(np.eye(n)) == 2**n


def test_zero_couplings_no_fixed_point():
    # J = 0: every field is exactly 0, and ties are unstable.
    n = 5
    s = ref_states(n).astype(np.int8)
    assert not np.any(model.is_fixed_point(np.zeros((n, n)), s))
    np.testing.assert_array_equal(model.margin(np.zeros((n, n)), s), np.zeros(2**n))
    assert stability.count_fixed_points_bruteforce(np.zeros((n, n))) == 0


def test_two_neuron_by_hand():
    # J = [[0.5, 1], [1, -0.25]]
    # (+,+): h = (1.5, 0.75),  Δ = (1.5, 0.75)   fixed point, margin 0.75
    # (+,-): h = (-0.5, 1.25), Δ = (-0.5, -1.25) margin -1.25
    # (-,+): h = (0.5, -1.25), Δ = (-0.5, -1.25) margin -1.25
    # (-,-): h = (-1.5, -0.75), Δ = (1.5, 0.75)  fixed point
    J = np.array([[0.5, 1.0], [1.0, -0.25]])
    s = np.array([[1, 1], [1, -1], [-1, 1], [-1, -1]])
    want = np.array([[1.5, 0.75], [-0.5, -1.25], [-0.5, -1.25], [1.5, 0.75]])
    np.testing.assert_array_equal(model.stabilities(J, s), want)
    np.testing.assert_array_equal(model.margin(J, s), [0.75, -1.25, -1.25, 0.75])
    assert list(model.is_fixed_point(J, s)) == [True, False, False, True]
    assert bool(model.is_fixed_point(J, [1, 1]))
    assert not model.is_fixed_point(J, [1, -1])
    # packed: (+,+) = 0b11 = 3, (+,-) = 0b01 = 1, (-,+) = 0b10 = 2, (-,-) = 0
    codes = np.array([3, 1, 2, 0], np.uint64)
    np.testing.assert_array_equal(stability.stabilities_packed(J, codes), want)
    assert stability.count_fixed_points_bruteforce(J, return_states=True)[1].tolist() == [0, 3]


def test_diagonal_is_included_in_the_field():
    # J = [[1, -0.5], [-0.5, 1]]: (+,+): h = (0.5, 0.5) FP; (+,-): h = (1.5, -1.5) FP;
    # so all four states are fixed points. With the diagonal zeroed:
    # (+,+): h = (-0.5, -0.5) not FP; (+,-): h = (0.5, -0.5) FP -> only codes 1 and 2.
    J = np.array([[1.0, -0.5], [-0.5, 1.0]])
    assert np.all(model.is_fixed_point(J, [[1, 1], [1, -1], [-1, 1], [-1, -1]]))
    assert stability.count_fixed_points_bruteforce(J, return_states=True)[1].tolist() == [0, 1, 2, 3]
    J0 = J.copy()
    np.fill_diagonal(J0, 0.0)
    assert list(model.is_fixed_point(J0, [[1, 1], [1, -1], [-1, 1], [-1, -1]])) == [
        False, True, True, False,
    ]
    assert stability.count_fixed_points_bruteforce(J0, return_states=True)[1].tolist() == [1, 2]


def test_model_predicate_matches_reference_with_ties():
    n = 9
    rng = np.random.default_rng(9)
    J = integer_tie_J(n, rng)
    s = ref_states(n)
    np.testing.assert_array_equal(model.is_fixed_point(J, s.astype(np.int8)), ref_mask(J, s))
    np.testing.assert_array_equal(model.margin(J, s.astype(np.int8)),
                                  ref_stabilities(J, s).min(axis=1))


def test_sign_update_zero_goes_to_plus():
    np.testing.assert_array_equal(model.sign_update([-2.0, -0.0, 0.0, 3.0]), [-1, 1, 1, 1])


# --------------------------------------------------------------------------------------------
# packed states


def test_bit_convention_by_hand():
    # s = (+1, -1, -1, +1, +1): bits 0, 3, 4 set -> 1 + 8 + 16 = 25
    s = np.array([1, -1, -1, 1, 1])
    assert model.pack_states(s).tolist() == [25]
    np.testing.assert_array_equal(model.unpack_states(25, 5), [s])
    assert model.pack_states([[-1] * 7]).tolist() == [0]
    assert model.pack_states([[1] * 7]).tolist() == [127]


@pytest.mark.parametrize("n", [1, 7, 63, 64])
def test_pack_unpack_round_trip(n):
    rng = np.random.default_rng(n)
    s = rng.choice(np.array([-1, 1], dtype=np.int8), size=(50, n))
    s[0] = 1
    s[1] = -1
    codes = model.pack_states(s)
    assert codes.dtype == np.uint64
    assert codes[0] == np.uint64(2**n - 1) and codes[1] == 0
    np.testing.assert_array_equal(model.unpack_states(codes, n), s)
    # and the code agrees with an independent computation of Σ_i [s_i = +1] 2^i
    want = [sum(1 << i for i in range(n) if row[i] == 1) for row in s]
    assert [int(c) for c in codes] == want
    # unpack of the reference states agrees too
    np.testing.assert_array_equal(model.unpack_states(codes, n), ref_states(n, codes))


# --------------------------------------------------------------------------------------------
# ensembles


def offdiag(J):
    return J[~np.eye(J.shape[0], dtype=bool)]


@pytest.mark.parametrize("eta", [-0.5, 0.0, 0.5, 1.0])
def test_gaussian_ensemble_moments(eta):
    n = 400
    J = model.gaussian_couplings(n, 0.3, eta=eta, seed=12345)
    x = offdiag(J) * np.sqrt(n)  # should be unit-variance, zero-mean
    m = x.size
    # Bounds are 5 standard errors; entries come in correlated pairs (J_ij, J_ji), which at
    # most doubles the variance of an average over all off-diagonal entries -> factor 2.
    assert abs(x.mean()) < 5 * np.sqrt(2 / m)
    assert abs(x.var() - 1.0) < 5 * np.sqrt(2 * 2 / m)  # Var of sample variance ≈ 2σ⁴/m
    iu = np.triu_indices(n, 1)
    r = np.corrcoef(J[iu], J.T[iu])[0, 1]
    # SE of a sample correlation over P independent pairs ≈ (1 - η²)/√P
    assert abs(r - eta) < 5 * (1 - eta**2) / np.sqrt(iu[0].size) + 1e-12
    assert np.all(np.diag(J) == 0.3)
    if eta == 1.0:
        np.testing.assert_array_equal(J, J.T)


def test_antisymmetric_limit():
    J = model.gaussian_couplings(30, 0.0, eta=-1.0, seed=3)
    np.testing.assert_allclose(J, -J.T, atol=1e-15)


@pytest.mark.parametrize("jd", [0.0, 0.7, -1.3])
def test_diagonal_exact(jd):
    J = model.gaussian_couplings(50, jd, eta=0.5, dilution=0.4, seed=1)
    assert np.all(np.diag(J) == jd)


def test_dilution():
    n, c = 400, 0.3
    J = model.gaussian_couplings(n, 0.0, dilution=c, seed=777)
    x = offdiag(J) * np.sqrt(n)
    m = x.size
    zero_frac = np.mean(x == 0)
    # fraction of removed entries ~ Binomial(m, 1-c)/m: SE = sqrt(c(1-c)/m); 5 SE bound
    assert abs(zero_frac - (1 - c)) < 5 * np.sqrt(c * (1 - c) / m)
    # overall variance of N·J² is 1: N J_ij² has mean 1 and variance 3/c - 1; 5 SE bound
    assert abs(np.mean(x**2) - 1.0) < 5 * np.sqrt((3 / c - 1) / m)
    # kept entries have variance 1/(cN)
    kept = x[x != 0]
    assert abs(np.mean(kept**2) - 1 / c) < 5 * np.sqrt(2 / kept.size) / c


def test_modular_block_structure():
    n, layers, jd, lam = 6, 4, 0.25, 0.7
    J = model.modular_couplings(n, layers, jd, lam, seed=5)
    assert J.shape == (n * layers, n * layers)
    for a in range(layers):
        for b in range(layers):
            blk = J[a * n:(a + 1) * n, b * n:(b + 1) * n]
            if a == b:
                assert np.all(np.diag(blk) == jd)
                assert np.all(offdiag(blk) != 0)
            elif abs(a - b) == 1:
                np.testing.assert_array_equal(blk, lam * np.eye(n))
            else:
                assert np.all(blk == 0)
    # diagonal blocks are independent draws
    assert not np.array_equal(J[:n, :n], J[n:2 * n, n:2 * n])
    # a single module is just the Gaussian ensemble drawn from the same stream
    np.testing.assert_array_equal(model.modular_couplings(n, 1, jd, lam, seed=5),
                                  model.gaussian_couplings(n, jd, seed=5))


def test_seeds_reproducible():
    a = model.gaussian_couplings(20, 0.1, eta=0.3, seed=42)
    b = model.gaussian_couplings(20, 0.1, eta=0.3, seed=42)
    c = model.gaussian_couplings(20, 0.1, eta=0.3, seed=43)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    e = model.Ensemble(n=5, jd=0.2, layers=3, lam=0.5)
    np.testing.assert_array_equal(e.sample(9), e.sample(9))
    assert not np.array_equal(e.sample(9), e.sample(10))
    assert e.sample(9).shape == (15, 15)


def test_coupling_seed_forms_give_the_same_numbers():
    """``seed`` (issue 14: was ``rng``) is an int, a SeedSequence or a Generator (advanced in
    place); default 0. An int draws exactly what ``default_rng(int)`` draws."""
    for draw in (lambda **kw: model.gaussian_couplings(12, 0.3, eta=0.4, dilution=0.6, **kw),
                 lambda **kw: model.modular_couplings(5, 3, 0.2, 0.5, eta=-0.3, **kw)):
        ref = draw(seed=11)
        np.testing.assert_array_equal(draw(seed=np.int64(11)), ref)
        np.testing.assert_array_equal(draw(seed=np.random.SeedSequence(11)), ref)
        np.testing.assert_array_equal(draw(seed=np.random.default_rng(11)), ref)
        np.testing.assert_array_equal(draw(), draw(seed=0))
        g = np.random.default_rng(11)
        first, second = draw(seed=g), draw(seed=g)  # the Generator is advanced in place
        np.testing.assert_array_equal(first, ref)
        assert not np.array_equal(first, second)
    J = np.random.default_rng(11).standard_normal((12, 12)) * (1.0 / np.sqrt(12))
    np.fill_diagonal(J, 0.3)
    np.testing.assert_array_equal(model.gaussian_couplings(12, 0.3, seed=11), J)
    with pytest.raises(TypeError):
        model.gaussian_couplings(12, 0.3, rng=11)


def test_ensemble_rejects_bad_parameters():
    for kwargs in ({"n": 0}, {"n": 5, "eta": 1.5}, {"n": 5, "dilution": 0.0},
                   {"n": 5, "layers": 0}, {"n": 5, "lam": -1.0}, {"n": 5, "jd": np.nan}):
        with pytest.raises(InputError):
            model.Ensemble(**kwargs)


def test_as_generator_validation():
    for bad in (-1, np.int64(-5), "42", 1.5):
        with pytest.raises(InputError, match="seed"):
            model.as_generator(bad)
    g = np.random.default_rng(0)
    assert model.as_generator(g) is g
    assert isinstance(model.as_generator(0), np.random.Generator)
    assert model.as_generator(7).random() == np.random.default_rng(7).random()


# --------------------------------------------------------------------------------------------
# coupling files


@pytest.mark.parametrize("suffix", [".npy", ".npz", ".txt", ".csv"])
def test_couplings_file_round_trip_exact(tmp_path, suffix):
    rng = np.random.default_rng(11)
    J = rng.standard_normal((7, 7)) / 3.0
    J[0, 1] = 1.0 / 3.0
    J[1, 0] = 1e-300
    J[2, 3] = -5e-324  # subnormal
    J[3, 2] = 1.7976931348623157e308
    path = model.save_couplings(tmp_path / f"J{suffix}", J)
    back = model.load_couplings(path)
    assert back.dtype == np.float64 and back.shape == J.shape
    np.testing.assert_array_equal(back, J)
    assert back.tobytes() == J.tobytes()


def test_load_single_neuron_text(tmp_path):
    p = tmp_path / "one.txt"
    p.write_text("2.5\n")
    np.testing.assert_array_equal(model.load_couplings(p), [[2.5]])


def _expect(path, *words, **kw):
    with pytest.raises(InputError) as exc:
        model.load_couplings(path, **kw)
    msg = str(exc.value).lower()
    for w in words:
        assert w.lower() in msg, (w, msg)


def test_load_errors(tmp_path):
    np.save(tmp_path / "nonsq.npy", np.ones((3, 4)))
    _expect(tmp_path / "nonsq.npy", "square")
    np.save(tmp_path / "vec.npy", np.ones(4))
    _expect(tmp_path / "vec.npy", "2-d")
    a = np.eye(3)
    a[1, 2] = np.nan
    np.save(tmp_path / "nan.npy", a)
    _expect(tmp_path / "nan.npy", "non-finite", "row 1")
    (tmp_path / "inf.txt").write_text("1 2\ninf 4\n")
    _expect(tmp_path / "inf.txt", "non-finite")
    np.save(tmp_path / "cplx.npy", np.eye(2) * (1 + 1j))
    _expect(tmp_path / "cplx.npy", "complex")
    np.save(tmp_path / "empty.npy", np.zeros((0, 0)))
    _expect(tmp_path / "empty.npy", "empty")
    _expect(tmp_path / "missing.npy", "does not exist")
    (tmp_path / "adir.npy").mkdir()
    _expect(tmp_path / "adir.npy", "directory")
    (tmp_path / "J.json").write_text("[[1]]")
    _expect(tmp_path / "J.json", "unknown", ".json")
    np.savez(tmp_path / "nokey.npz", K=np.eye(2))
    _expect(tmp_path / "nokey.npz", "'J'", "K")
    (tmp_path / "garbage.txt").write_text("hello world\nfoo bar\n")
    _expect(tmp_path / "garbage.txt", "cannot read")
    (tmp_path / "ragged.csv").write_text("1,2\n3\n")
    _expect(tmp_path / "ragged.csv", "cannot read")
    np.save(tmp_path / "big.npy", np.zeros((31, 31)))
    _expect(tmp_path / "big.npy", "too large", max_n=30)


@pytest.mark.filterwarnings("ignore::UserWarning")  # numpy warns about an empty input file
def test_load_empty_text_file(tmp_path):
    p = tmp_path / "empty.txt"
    p.write_text("")
    _expect(p, "empty")


def test_as_couplings_errors():
    for bad, word in ((np.ones((2, 3)), "square"), (np.ones(3), "2-d"), ([["a", "b"], ["c", "d"]], "numeric"),
                      (np.array([[1 + 2j]]), "complex"), (np.zeros((0, 0)), "empty"),
                      ([[1.0, np.inf], [0.0, 1.0]], "non-finite"), (np.ones((2, 2, 2)), "2-d")):
        with pytest.raises(InputError) as exc:
            model.as_couplings(bad)
        assert word in str(exc.value).lower(), (word, str(exc.value))
    out = model.as_couplings(np.eye(3, dtype=np.int64)[:, ::-1])
    assert out.dtype == np.float64 and out.flags.c_contiguous
