"""Tests of the exact enumerator (fplandscape.sim.enumerate, compiled kernel sim._dfs).

The reference is written here, independently of the package: all 2^N states, fields from
scratch with NumPy, the strict predicate ``s_i h_i > 0`` for every i. Every DFS result must give
exactly the same *set* of packed states (bit i set iff s_i = +1), not only the same count.
Where float64 rounding could matter, the reference sums the stored numbers exactly (Fractions
scaled to Python integers): the predicate is exact on the stored values.
"""
from fractions import Fraction

import numpy as np
import pytest

from fplandscape import model
from fplandscape.errors import InputError
from fplandscape.sim import enumerate_fixed_points
from fplandscape.sim import enumerate as enum_mod
from fplandscape.sim.stability import count_fixed_points_bruteforce

# --------------------------------------------------------------------------------------------
# independent reference


def ref_states(n):
    """All 2^n states as float64 ±1 rows; row r has s_i = +1 iff bit i of r is set."""
    codes = np.arange(2**n, dtype=np.uint64)
    s = np.empty((codes.size, n))
    for i in range(n):
        s[:, i] = np.where((codes >> np.uint64(i)) & np.uint64(1), 1.0, -1.0)
    return codes, s


def ref_fixed_points(J):
    """Codes (ascending) of all s with s_i (J s)_i > 0 for every i (matrix product)."""
    codes, s = ref_states(J.shape[0])
    return codes[np.all(s * (s @ J.T) > 0, axis=1)]


def ref_fields_ordered(J, s):
    """h_i = Σ_j J_ij s_j summed in index order j = 0, 1, …, N-1 (the canonical order)."""
    h = np.zeros((s.shape[0], J.shape[0]))
    for j in range(J.shape[0]):
        h = h + s[:, j : j + 1] * J[:, j][None, :]
    return h


def ref_fixed_points_ordered(J):
    codes, s = ref_states(J.shape[0])
    return codes[np.all(s * ref_fields_ordered(J, s) > 0, axis=1)]


def ref_fields_exact(J, s):
    """Exact fields of the stored numbers, as Python ints in units of 2^-1074 (object array)."""
    K = np.array([[int(Fraction(float(x)) * 2**1074) for x in row] for row in J], dtype=object)
    return s.astype(np.int64).astype(object).dot(K.T)


def ref_fixed_points_exact(J):
    codes, s = ref_states(J.shape[0])
    d = s.astype(np.int64).astype(object) * ref_fields_exact(J, s)
    return codes[np.all(np.array(d > 0, dtype=bool), axis=1)]


def dfs_states(J, **kw):
    res = enumerate_fixed_points(J, method="dfs", return_states=True, **kw)
    assert res.method == "dfs"
    assert res.states.dtype == np.uint64
    assert res.count == res.states.size and not res.truncated
    assert np.all(np.diff(res.states.astype(np.float64)) > 0)  # strictly ascending
    return res.states


def check_equal(J, **kw):
    got = dfs_states(J, **kw)
    want = ref_fixed_points(J)
    np.testing.assert_array_equal(got, want)
    return want


# --------------------------------------------------------------------------------------------
# matrix families, N = 1..16


def _families():
    rng = np.random.default_rng(20240601)
    cases = []
    for n in range(1, 17):
        reps = 6 if n <= 10 else 2
        for r in range(reps):
            for jd in (0.0, 0.5, 1.5):
                cases.append(("gauss", model.gaussian_couplings(n, jd, seed=rng)))
            cases.append(("symmetric", model.gaussian_couplings(n, 0.5, eta=1.0, seed=rng)))
            eta = float(rng.choice([-0.7, -0.3, 0.4, 0.8]))
            cases.append(("eta", model.gaussian_couplings(n, 0.3, eta=eta, seed=rng)))
            cases.append(("diluted", model.gaussian_couplings(n, 0.5, dilution=0.3, seed=rng)))
            d = rng.normal(0.4, 0.8, n)
            cases.append(("hetero-diag", model.with_self_coupling(
                model.gaussian_couplings(n, 0.0, seed=rng), d)))
            J = rng.integers(-2, 3, size=(n, n)).astype(np.float64)
            np.fill_diagonal(J, r % 2)
            cases.append(("integer", J))
    return cases


FAMILIES = _families()


def test_dfs_equals_reference_on_all_families():
    for kind, J in FAMILIES:
        check_equal(J)


def test_integer_couplings_have_exact_ties():
    """The integer family really exercises the strict inequality: zero fields are common, and
    some states are fixed points under s_i h_i >= 0 but not under s_i h_i > 0."""
    zero_fields = 0
    weak_only = 0
    for kind, J in FAMILIES:
        if kind != "integer":
            continue
        _, s = ref_states(J.shape[0])
        d = s * (s @ J.T)
        zero_fields += int(np.sum(d == 0))
        weak_only += int(np.sum(np.all(d >= 0, axis=1) & ~np.all(d > 0, axis=1)))
    assert zero_fields > 1000
    assert weak_only > 100


def test_gaussian_reference_orders_agree():
    """Sanity of the reference itself: matrix product and index-order sums agree on Gaussian
    matrices (fields of order 1, nowhere near rounding)."""
    for kind, J in FAMILIES[::7]:
        np.testing.assert_array_equal(ref_fixed_points(J), ref_fixed_points_ordered(J))


def test_rounding_level_ties_follow_exact_sums():
    """Decimal couplings such as 0.1 + 0.2 - 0.3 give fields of ~1e-17 whose float64 sign
    depends on the summation order; the enumerator and the brute force must both agree with
    the exact sum of the stored numbers, whatever the DFS spin order."""
    rng = np.random.default_rng(7)
    values = np.array([0.1, 0.2, 0.3, -0.1, -0.2, -0.3, 0.7, -0.7])
    tiny = differ = 0
    for trial in range(60):
        n = int(rng.integers(3, 13))
        J = rng.choice(values, size=(n, n))
        np.fill_diagonal(J, rng.choice([0.0, 0.1, 0.3], size=n))
        codes, s = ref_states(n)
        h = ref_fields_ordered(J, s)
        tiny += int(np.sum((np.abs(h) < 1e-12) & (h != 0)))
        want = ref_fixed_points_exact(J)
        differ += not np.array_equal(want, codes[np.all(s * h > 0, axis=1)])
        for order in (None, np.arange(n)[::-1], rng.permutation(n)):
            np.testing.assert_array_equal(dfs_states(J, order=order), want)
        _, bf = count_fixed_points_bruteforce(J, return_states=True)
        np.testing.assert_array_equal(bf, want)
    assert tiny > 100  # rounding-level fields really occur
    assert differ > 0  # and canonical float64 sums get some fixed-point sets wrong


def test_zero_and_identity():
    for n in (1, 2, 5, 12, 16):
        res = enumerate_fixed_points(np.zeros((n, n)), return_states=True)
        assert res.count == 0 and res.states.size == 0
        res = enumerate_fixed_points(np.eye(n), return_states=True)
        assert res.count == 2**n
        np.testing.assert_array_equal(res.states, np.arange(2**n, dtype=np.uint64))
    assert enumerate_fixed_points(np.eye(24)).count == 2**24


def test_one_neuron():
    assert enumerate_fixed_points([[0.3]]).count == 2
    assert enumerate_fixed_points([[0.0]]).count == 0
    assert enumerate_fixed_points([[-1.0]]).count == 0


def test_n20_against_bruteforce():
    rng = np.random.default_rng(11)
    mats = [model.gaussian_couplings(20, 0.5, seed=rng), model.gaussian_couplings(20, 0.0, seed=rng),
            model.gaussian_couplings(20, 1.0, eta=0.5, seed=rng)]
    J = rng.integers(-2, 3, size=(20, 20)).astype(np.float64)
    np.fill_diagonal(J, 1.0)
    mats.append(J)
    for J in mats:
        count, codes = count_fixed_points_bruteforce(J, return_states=True)
        res = enumerate_fixed_points(J, return_states=True)
        assert res.count == count
        np.testing.assert_array_equal(res.states, codes)
        assert enumerate_fixed_points(J).count == count  # count-only path


def test_explicit_orders_give_the_same_set():
    rng = np.random.default_rng(3)
    picks = [FAMILIES[i] for i in rng.choice(len(FAMILIES), 40, replace=False)]
    for kind, J in picks:
        n = J.shape[0]
        want = ref_fixed_points(J)
        for order in (np.arange(n), np.arange(n)[::-1], rng.permutation(n),
                      list(rng.permutation(n)), rng.permutation(n).astype(np.float64)):
            np.testing.assert_array_equal(dfs_states(J, order=order), want)


def test_default_order_is_a_permutation():
    rng = np.random.default_rng(0)
    for n in (1, 2, 7, 40, 64):
        o = enum_mod.default_order(model.gaussian_couplings(n, 0.5, seed=rng))
        assert o.dtype == np.int64
        np.testing.assert_array_equal(np.sort(o), np.arange(n))


def test_bruteforce_method_and_jd_override():
    rng = np.random.default_rng(5)
    for n in (3, 9, 14):
        J = model.gaussian_couplings(n, 0.0, seed=rng)
        for jd in (0.0, 0.7, rng.normal(0.5, 0.5, n)):
            Jd = model.with_self_coupling(J, jd)
            want = ref_fixed_points(Jd)
            for method in ("auto", "dfs", "bruteforce"):
                res = enumerate_fixed_points(J, jd=jd, method=method, return_states=True)
                np.testing.assert_array_equal(res.states, want)
                assert res.count == want.size
                assert res.method == ("bruteforce" if method == "bruteforce" else "dfs")


def test_result_fields():
    import fplandscape

    J = model.gaussian_couplings(10, 0.5, seed=np.random.default_rng(1))
    res = enumerate_fixed_points(J, seed=3)
    assert res.n == 10 and res.states is None and res.truncated is False
    assert res.version == fplandscape.__version__ and res.seed == 3
    assert res.seconds >= 0 and 0 < res.nodes_visited < 2**11
    assert isinstance(res.count, int)
    bf = enumerate_fixed_points(J, method="bruteforce")
    assert bf.nodes_visited == 2**10 and bf.count == res.count


# --------------------------------------------------------------------------------------------
# reservoir sample


def test_reservoir_sample():
    J = model.gaussian_couplings(16, 1.0, seed=np.random.default_rng(2))
    full = ref_fixed_points(J)
    assert full.size > 500
    for cap in (1, 7, 100, full.size - 1):
        res = enumerate_fixed_points(J, return_states=True, max_states=cap, seed=42)
        assert res.count == full.size and res.truncated
        assert res.states.size == cap and np.unique(res.states).size == cap
        assert np.all(np.isin(res.states, full))
        again = enumerate_fixed_points(J, return_states=True, max_states=cap, seed=42)
        np.testing.assert_array_equal(again.states, res.states)
    a = enumerate_fixed_points(J, return_states=True, max_states=100, seed=1).states
    b = enumerate_fixed_points(J, return_states=True, max_states=100, seed=2).states
    assert not np.array_equal(a, b)
    # cap exactly the count: everything, not truncated
    res = enumerate_fixed_points(J, return_states=True, max_states=full.size)
    assert not res.truncated
    np.testing.assert_array_equal(res.states, full)
    # max_states = 0: nothing kept, still exact
    res = enumerate_fixed_points(J, return_states=True, max_states=0)
    assert res.count == full.size and res.truncated and res.states.size == 0


def test_reservoir_is_roughly_uniform():
    """Each fixed point is kept with probability cap/count: over 200 seeds every state's
    inclusion frequency is within 5 binomial standard errors of cap/count."""
    J = model.gaussian_couplings(12, 1.0, seed=np.random.default_rng(9))
    full = ref_fixed_points(J)
    cap = full.size // 4
    hits = np.zeros(full.size)
    seeds = 200
    for seed in range(seeds):
        st = enumerate_fixed_points(J, return_states=True, max_states=cap, seed=seed).states
        hits += np.isin(full, st)
    freq = hits / seeds
    p = cap / full.size
    sigma = np.sqrt(p * (1 - p) / seeds)  # binomial standard error of one state's frequency
    assert np.all(np.abs(freq - p) < 5 * sigma)
    # and the spread across states is binomial, not wider (a biased sampler spreads it)
    assert np.std(freq) < 1.3 * sigma


# --------------------------------------------------------------------------------------------
# bad input


def test_bad_input():
    with pytest.raises(InputError, match="square"):
        enumerate_fixed_points(np.zeros((3, 4)))
    bad = np.eye(4)
    bad[1, 2] = np.nan
    with pytest.raises(InputError, match="non-finite"):
        enumerate_fixed_points(bad)
    with pytest.raises(InputError, match="65"):
        enumerate_fixed_points(np.eye(65))
    with pytest.raises(InputError, match="bruteforce"):
        enumerate_fixed_points(np.eye(31), method="bruteforce")
    with pytest.raises(InputError, match="method"):
        enumerate_fixed_points(np.eye(3), method="fast")
    with pytest.raises(InputError, match="permutation"):
        enumerate_fixed_points(np.eye(3), order=[0, 1, 1])
    with pytest.raises(InputError, match="permutation"):
        enumerate_fixed_points(np.eye(3), order=[0, 1])
    with pytest.raises(InputError):
        enumerate_fixed_points(np.eye(3), order=[0.5, 1, 2])
    with pytest.raises(InputError, match="max_states"):
        enumerate_fixed_points(np.eye(3), max_states=-1)
    with pytest.raises(InputError, match="seed"):
        enumerate_fixed_points(np.eye(3), seed=-2)
    with pytest.raises(InputError, match="self-coupling"):
        enumerate_fixed_points(np.eye(3), jd=[1.0, 2.0])
    with pytest.raises(InputError):
        enumerate_fixed_points(np.eye(3), jd=np.inf)


def test_huge_entries_do_not_break_exactness():
    """Rows with Σ|J_ij| near DBL_MAX are never cut on and always decided exactly at the leaf."""
    rng = np.random.default_rng(4)
    J = rng.integers(-2, 3, size=(8, 8)).astype(np.float64)
    np.fill_diagonal(J, 1.0)
    J[2] *= 1e307
    np.testing.assert_array_equal(dfs_states(J), ref_fixed_points_exact(J))
    J = model.gaussian_couplings(8, 0.5, seed=rng) * 1e-310  # subnormal couplings
    np.testing.assert_array_equal(dfs_states(J), ref_fixed_points_exact(J))
