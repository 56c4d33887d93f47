"""Tests of fplandscape.attractors.binary (censuses of sign networks).

References are written here, independently of the package: a plain-Python follower of every
state (dict of successors, fields summed in Python, sign(0) = +1), hand-derived networks (a
shift register, a network with a zero field, Hopfield networks with Hadamard patterns), the
convergence theorems of symmetric networks, and the exact enumerator of strict fixed points.
"""
from collections import Counter

import numpy as np
import pytest
from scipy.linalg import hadamard

from fplandscape import model
from fplandscape.attractors.binary import binary_census
from fplandscape.attractors.results import Census
from fplandscape.attractors.systems import SignNetwork
from fplandscape.errors import InputError
from fplandscape.sim import enumerate_fixed_points

# --------------------------------------------------------------------------------------------
# independent reference: follow every state in plain Python


def py_code(s):
    return sum(1 << i for i, x in enumerate(s) if x > 0)


def py_state(c, n):
    return tuple(1 if (c >> i) & 1 else -1 for i in range(n))


def py_step(J, b, s, update, order):
    n = len(s)
    if update == "sync":
        return tuple(1 if sum(J[i][j] * s[j] for j in range(n)) + b[i] >= 0 else -1
                     for i in range(n))
    s = list(s)
    for i in order:
        s[i] = 1 if sum(J[i][j] * s[j] for j in range(n)) + b[i] >= 0 else -1
    return tuple(s)


def py_census(J, b, update="sync", order=None):
    """{cycle (codes from the smallest, in orbit order): number of states ending there}."""
    n = len(J)
    J = [[float(v) for v in row] for row in np.asarray(J)]
    b = [float(v) for v in np.broadcast_to(b, (n,))]
    order = list(range(n)) if order is None else [int(i) for i in order]
    succ = {c: py_code(py_step(J, b, py_state(c, n), update, order)) for c in range(2 ** n)}
    basins = Counter()
    for c in range(2 ** n):
        seen, path, x = {}, [], c
        while x not in seen:
            seen[x] = len(path)
            path.append(x)
            x = succ[x]
        cyc = path[seen[x]:]
        k = cyc.index(min(cyc))
        basins[tuple(cyc[k:] + cyc[:k])] += 1
    return dict(basins)


def census_cycles(census):
    return {tuple(int(c) for c in model.pack_states(a.states)): a.basin_size
            for a in census.attractors}


def rand_net(n, seed, *, bias, update, dyadic=False, random_order=False):
    rng = np.random.default_rng(seed)
    if dyadic:  # multiples of 1/4: every field is exact, ties happen
        J = rng.integers(-4, 5, size=(n, n)) / 4.0
        b = rng.integers(-2, 3, size=n) / 4.0 if bias else 0.0
    else:
        J = rng.standard_normal((n, n)) / np.sqrt(n)
        b = 0.3 * rng.standard_normal(n) if bias else 0.0
    order = rng.permutation(n) if random_order else None
    return SignNetwork(J, b, update=update, order=order), J, b, order


# --------------------------------------------------------------------------------------------
# exact census vs the plain-Python follower


@pytest.mark.parametrize("update", ["sync", "async"])
@pytest.mark.parametrize("bias", [False, True])
@pytest.mark.parametrize("n,seed", [(3, 0), (5, 1), (7, 2), (8, 3), (10, 4)])
def test_exact_matches_python_bruteforce(n, seed, bias, update):
    net, J, b, order = rand_net(n, seed, bias=bias, update=update, random_order=(seed % 2 == 1))
    census = binary_census(net)
    assert census.exact and census.n_starts == 2 ** n
    want = py_census(J, b, update, order)
    got = census_cycles(census)
    assert got == want
    assert sum(a.basin_size for a in census.attractors) == 2 ** n


@pytest.mark.parametrize("update", ["sync", "async"])
@pytest.mark.parametrize("seed", [10, 11, 12])
def test_exact_matches_python_bruteforce_with_ties(seed, update):
    # dyadic couplings and biases: fields are exact, zero fields occur, sign(0) = +1 matters
    net, J, b, order = rand_net(8, seed, bias=True, update=update, dyadic=True)
    assert census_cycles(binary_census(net)) == py_census(J, b, update, order)


@pytest.mark.parametrize("bias", [True, False])
def test_exact_census_fields_orbits_and_order(bias):
    # without bias f(−s) = −f(s) (no zero fields for Gaussian J): basins come in equal pairs,
    # so the tie rule (smallest code first) is exercised
    net, *_ = rand_net(9, 9, bias=bias, update="sync")
    census = binary_census(net)
    n = 9
    keys = []
    for a in census.attractors:
        p = a.states.shape[0]
        assert a.period == p and a.kind == ("fixed_point" if p == 1 else "periodic")
        assert a.states.shape == (p, n) and set(np.unique(a.states)) <= {-1.0, 1.0}
        for t in range(p):  # orbit order: states[t+1] = f(states[t]), closing after p steps
            np.testing.assert_array_equal(net.rhs(a.states[t]), a.states[(t + 1) % p])
        codes = model.pack_states(a.states)
        assert codes[0] == codes.min() and np.unique(codes).size == p
        assert a.basin == a.basin_size / 2 ** n and a.basin_se == 0.0 and a.n_starts == 2 ** n
        np.testing.assert_array_equal(a.lyapunov, [-np.inf])
        np.testing.assert_array_equal(a.multipliers, np.zeros(n))
        assert (a.strict is None) == (p > 1)
        keys.append((-a.basin_size, int(codes[0])))
    assert keys == sorted(keys)  # decreasing basin, ties by the smallest code
    if not bias:
        sizes = [k[0] for k in keys]
        assert len(set(sizes)) < len(sizes)  # there are ties
    assert isinstance(census, Census) and census.kind == "map"
    assert census.system["system"] == "SignNetwork" and census.params["update"] == "sync"


def test_shift_register_necklaces():
    # s_i(t+1) = s_{i-1}(t): a permutation of the 2^6 states whose cycles are the binary
    # necklaces of length 6: (1/6) Σ_{d|6} φ(d) 2^{6/d} = (64 + 8 + 2·4 + 2·2)/6 = 14 cycles,
    # each cycle its own basin (no transients), period = smallest rotation period.
    n = 6
    J = np.zeros((n, n))
    J[np.arange(n), (np.arange(n) - 1) % n] = 1.0
    net = SignNetwork(J)
    census = binary_census(net)
    assert len(census) == 14
    for a in census.attractors:
        assert a.basin_size == a.period
        for t in range(a.period):
            np.testing.assert_array_equal(np.roll(a.states[t], 1), a.states[(t + 1) % a.period])
    periods = Counter(a.period for a in census.attractors)
    # period d necklaces: 2 of period 1, 1 of period 2, 2 of period 3, 9 of period 6
    assert periods == {1: 2, 2: 1, 3: 2, 6: 9}
    fps = [a for a in census.attractors if a.period == 1]
    assert all(a.strict for a in fps)  # h_i = s_{i-1} = s_i: s_i h_i = 1


# --------------------------------------------------------------------------------------------
# fixed points vs the exact enumerator; non-strict period-1 states


@pytest.mark.parametrize("update", ["sync", "async"])
@pytest.mark.parametrize("seed,jd", [(0, 0.0), (1, 0.5), (2, 1.0)])
def test_fixed_points_equal_enumerated(seed, jd, update):
    J = model.gaussian_couplings(12, jd, seed=seed)
    census = binary_census(SignNetwork(J, update=update))
    fps = [a for a in census.attractors if a.kind == "fixed_point"]
    assert all(a.strict for a in fps)  # Gaussian J: no zero field
    got = np.sort(np.array([model.pack_states(a.states)[0] for a in fps], dtype=np.uint64))
    want = enumerate_fixed_points(J, return_states=True, workers=1).states
    np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("update", ["sync", "async"])
def test_zero_field_period_one_is_not_strict(update):
    # J = [[1, 0], [0, 0]]: h_1 = s_1 keeps s_1, h_2 = 0 sets s_2 = +1. Period-1 states
    # (−, +) and (+, +), each with basin {(s_1, ±)} of size 2, and h_2 = 0 on both: fixed
    # points of the update, not strict ones (the enumerator finds none).
    net = SignNetwork([[1.0, 0.0], [0.0, 0.0]], update=update)
    census = binary_census(net)
    assert census_cycles(census) == {(py_code((-1, 1)),): 2, (py_code((1, 1)),): 2}
    assert [a.strict for a in census.attractors] == [False, False]
    assert all(a.kind == "fixed_point" for a in census.attractors)
    assert enumerate_fixed_points([[1.0, 0.0], [0.0, 0.0]]).count == 0


def test_integer_couplings_with_ties_strict_flags():
    n_nonstrict = 0
    for seed in range(8):
        rng = np.random.default_rng(100 + seed)
        J = rng.integers(-1, 2, size=(7, 7)).astype(float)
        census = binary_census(SignNetwork(J))
        fps = [a for a in census.attractors if a.kind == "fixed_point"]
        for a in fps:
            s = a.states[0]
            h = J @ s
            assert np.all(np.where(h >= 0, 1.0, -1.0) == s)  # a fixed point of the update
            assert a.strict == bool(np.all(s * h > 0))
        n_nonstrict += sum(not a.strict for a in fps)
        strict = sorted(int(model.pack_states(a.states)[0]) for a in fps if a.strict)
        want = enumerate_fixed_points(J, return_states=True, workers=1).states
        assert strict == [int(c) for c in want]
    assert n_nonstrict > 0  # the ties did produce non-strict period-1 states


# --------------------------------------------------------------------------------------------
# symmetric networks: the convergence theorems


def hebbian(n, p, seed):
    xi = np.random.default_rng(seed).choice([-1.0, 1.0], size=(p, n))
    W = xi.T @ xi / n
    np.fill_diagonal(W, 0.0)
    return W


@pytest.mark.parametrize("seed", range(5))
def test_symmetric_sync_only_fixed_points_and_two_cycles(seed):
    # Goles–Olivos: symmetric J, parallel update → every cycle has period 1 or 2
    rng = np.random.default_rng(seed)
    W = hebbian(11, 3, seed)
    for b in (0.0, 0.2 * rng.standard_normal(11)):
        census = binary_census(SignNetwork(W, b))
        assert {a.period for a in census.attractors} <= {1, 2}
        assert sum(a.basin_size for a in census.attractors) == 2 ** 11


@pytest.mark.parametrize("seed", range(5))
def test_symmetric_async_only_fixed_points(seed):
    # Hopfield: symmetric J with zero diagonal, sequential update → E = −½ sᵀJs − bᵀs
    # never increases, so only fixed points
    rng = np.random.default_rng(seed)
    W = hebbian(11, 3, seed)
    for b, order in ((0.0, None), (0.2 * rng.standard_normal(11), rng.permutation(11))):
        census = binary_census(SignNetwork(W, b, update="async", order=order))
        assert all(a.kind == "fixed_point" and a.period == 1 for a in census.attractors)


@pytest.mark.parametrize("update", ["sync", "async"])
@pytest.mark.parametrize("n,rows", [(8, [1, 2]), (16, [1, 2, 3]), (16, [3, 5, 6])])
def test_hadamard_patterns_are_fixed_points(n, rows, update):
    # W = ξᵀξ/N − (P/N) I for orthogonal ξ: W ξ^μ = (1 − P/N) ξ^μ, so ±ξ^μ are strict fixed
    # points; each is its own basin at least
    xi = hadamard(n)[rows].astype(float)
    W = xi.T @ xi / n
    np.fill_diagonal(W, 0.0)
    census = binary_census(SignNetwork(W, update=update))
    found = {int(model.pack_states(a.states)[0]): a for a in census.attractors if a.period == 1}
    for pattern in np.concatenate([xi, -xi]):
        a = found[int(model.pack_states(pattern)[0])]
        assert a.kind == "fixed_point" and a.strict and a.basin > 0 and a.basin_size >= 1


# --------------------------------------------------------------------------------------------
# sampled census


@pytest.mark.parametrize("case", ["gauss_sync", "gauss_async", "hopfield_sync", "bias_sync"])
def test_sampled_agrees_with_exact(case):
    n, m = 11, 4000
    if case == "hopfield_sync":
        net = SignNetwork(hebbian(n, 2, 3))
    else:
        J = model.gaussian_couplings(n, 0.2, eta=0.5, seed=7)
        b = 0.3 * np.random.default_rng(1).standard_normal(n) if case == "bias_sync" else 0.0
        net = SignNetwork(J, b, update="async" if case == "gauss_async" else "sync")
    exact = census_cycles(binary_census(net, exact=True))
    sampled = binary_census(net, exact=False, n_starts=m, seed=123)
    assert not sampled.exact and sampled.n_starts == m
    assert sampled.params["unresolved"] == 0
    got = census_cycles(sampled)
    assert set(got) <= set(exact)
    assert sum(got.values()) == m
    for cyc, size in exact.items():
        p = size / 2 ** n
        p_hat = got.get(cyc, 0) / m
        z = (p_hat - p) / np.sqrt(p * (1 - p) / m) if 0 < p < 1 else 0.0
        assert abs(z) < 4, (cyc, p, p_hat, z)
    for a in sampled.attractors:
        assert a.basin == a.basin_size / m and a.n_starts == m
        assert a.basin_se == pytest.approx(np.sqrt(a.basin * (1 - a.basin) / m), rel=1e-12)


def _strip(d):
    d = dict(d)
    d.pop("seconds")
    return d


def test_sampled_same_seed_same_census():
    net = SignNetwork(model.gaussian_couplings(30, 0.0, eta=0.6, seed=4))
    a = binary_census(net, exact=False, n_starts=300, seed=9)
    b = binary_census(net, exact=False, n_starts=300, seed=9)
    assert _strip(a.to_dict()) == _strip(b.to_dict())
    c = binary_census(net, exact=False, n_starts=300, seed=np.random.default_rng(9))
    assert [x.to_dict() for x in c.attractors] == [x.to_dict() for x in a.attractors]
    assert a.params["seed"] == 9


def test_sampled_shift_register_and_unresolved():
    n = 6
    J = np.zeros((n, n))
    J[np.arange(n), (np.arange(n) - 1) % n] = 1.0
    net = SignNetwork(J)
    full = binary_census(net, exact=False, n_starts=3000, seed=1)
    assert full.params["unresolved"] == 0
    # every necklace has basin ≥ 1/64: all 14 are hit (P(miss) < 14 (63/64)^3000 ≈ 1e-19)
    assert census_cycles(full).keys() == census_cycles(binary_census(net)).keys()
    # with one step only the fixed points (x_1 = x_0) close: everything else is unresolved
    short = binary_census(net, exact=False, n_starts=3000, seed=1, max_steps=1)
    assert all(a.kind == "fixed_point" for a in short.attractors)
    assert short.params["unresolved"] > 0
    assert short.params["unresolved"] + sum(a.basin_size for a in short.attractors) == 3000
    assert sum(a.basin for a in short.attractors) == pytest.approx(
        1 - short.params["unresolved"] / 3000)


def test_sampled_large_n_shift_register_multiword():
    # N = 70 > 64 (two words per state): random starts lie on cycles of the rotation whose
    # period is the smallest rotation period; the orbit starts at its smallest code
    n = 70
    J = np.zeros((n, n))
    J[np.arange(n), (np.arange(n) - 1) % n] = 1.0
    census = binary_census(SignNetwork(J), exact=False, n_starts=40, seed=2)
    assert census.params["unresolved"] == 0 and not census.exact
    assert sum(a.basin_size for a in census.attractors) == 40
    classes = set()
    for a in census.attractors:
        s0 = a.states[0]
        rots = [np.roll(s0, k) for k in range(n)]
        p = next(k for k in range(1, n + 1) if np.array_equal(rots[k % n], s0))
        assert a.period == p and a.states.shape == (p, n)
        for t in range(p):
            np.testing.assert_array_equal(np.roll(a.states[t], 1), a.states[(t + 1) % p])
        codes = [py_code(r) for r in rots]  # exact Python integers, 70 bits
        assert py_code(s0) == min(codes)
        classes.add(min(codes))
    assert len(classes) == len(census)  # distinct attractors are distinct necklaces


def test_sampled_long_cycles_multiword():
    # N = 80 (two words), η = 0.5, sync: cycles up to period ~60 whose detection needs
    # hundreds of steps (several Brent checkpoints); every attractor must be a true cycle of
    # minimal period, listed from its smallest code (exact Python integers)
    n = 80
    net = SignNetwork(model.gaussian_couplings(n, 0.0, eta=0.5, seed=2))
    census = binary_census(net, exact=False, n_starts=200, seed=0)
    assert census.params["unresolved"] == 0
    assert sum(a.basin_size for a in census.attractors) == 200
    assert max(a.period for a in census.attractors) > 20
    seen = set()
    for a in census.attractors:
        p = a.period
        for t in range(p):
            np.testing.assert_array_equal(net.rhs(a.states[t]), a.states[(t + 1) % p])
        codes = [py_code(x) for x in a.states]
        assert len(set(codes)) == p and codes[0] == min(codes)
        assert codes[0] not in seen
        seen.add(codes[0])


@pytest.mark.parametrize("update", ["sync", "async"])
def test_sampled_large_n_hopfield(update):
    n = 128
    xi = hadamard(n)[[1, 2, 3]].astype(float)
    W = xi.T @ xi / n
    np.fill_diagonal(W, 0.0)
    net = SignNetwork(W, update=update)
    census = binary_census(net, exact=False, n_starts=200, seed=3)
    assert census.params["unresolved"] == 0
    assert {a.period for a in census.attractors} <= ({1, 2} if update == "sync" else {1})
    for a in census.attractors:
        if a.period == 1:
            assert a.strict == bool(net.is_fixed_point(a.states[0]))
            np.testing.assert_array_equal(net.rhs(a.states[0]), a.states[0])


def test_default_exact_threshold():
    assert binary_census(SignNetwork(hebbian(10, 2, 0))).exact
    c = binary_census(SignNetwork(hebbian(21, 2, 0)), n_starts=20)
    assert not c.exact and c.n_starts == 20


# --------------------------------------------------------------------------------------------
# bad input


def test_bad_input():
    net = SignNetwork(np.eye(3))
    with pytest.raises(InputError):
        binary_census(np.eye(3))
    with pytest.raises(InputError):
        binary_census(SignNetwork(np.zeros((25, 25))), exact=True)
    for bad in (0, -1, 1.5, True, "10"):
        with pytest.raises(InputError):
            binary_census(net, exact=False, n_starts=bad)
        with pytest.raises(InputError):
            binary_census(net, exact=False, max_steps=bad)
    for bad in (-1, 1.5, "x"):
        with pytest.raises(InputError):
            binary_census(net, seed=bad)
    with pytest.raises(InputError):
        binary_census(net, exact="yes")
