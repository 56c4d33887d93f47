"""Tests of the dynamics and annealing kernels (fplandscape.sim.dynamics, compiled sim._dynamics).

References are written here with NumPy: fields summed in index order j = 0..N-1 (the canonical
order), the strict predicate s_i h_i > 0, and the brute-force fixed-point set of
:func:`fplandscape.sim.stability.count_fixed_points_bruteforce` (packed codes, bit i set iff
s_i = +1).
"""
import numpy as np
import pytest

from fplandscape import model
from fplandscape.errors import InputError
from fplandscape.sim.dynamics import anneal, beta_schedule, run_dynamics, run_seeds
from fplandscape.sim.stability import count_fixed_points_bruteforce

# --------------------------------------------------------------------------------------------
# references


def ordered_fields(J, S):
    """h_i = Σ_j J_ij s_j summed in index order j = 0, 1, …, N-1 (float64), one row per state."""
    S = np.atleast_2d(S).astype(np.float64)
    h = np.zeros((S.shape[0], J.shape[0]))
    for j in range(J.shape[0]):
        h = h + S[:, j : j + 1] * J[:, j][None, :]
    return h


def strict_fp(J, S):
    S = np.atleast_2d(S)
    return np.all(S * ordered_fields(J, S) > 0, axis=1)


def sign_stable(J, S):
    """s_i = sign(h_i) with sign(0) = +1 for every i: a sweep would change nothing."""
    S = np.atleast_2d(S)
    return np.all(model.sign_update(ordered_fields(J, S)) == S, axis=1)


def network(n, jd, seed, eta=0.0):
    return model.gaussian_couplings(n, jd, eta=eta, seed=np.random.default_rng(seed))


ALL_FIELDS = ("converged", "sweeps", "flips", "reached", "cycle2", "states", "margin",
              "mean_stability", "stability")
ANNEAL_FIELDS = ("reached", "sweeps", "flips", "energy", "states", "margin", "mean_stability",
                 "stability")


def assert_same(a, b, names):
    for name in names:
        x, y = getattr(a, name), getattr(b, name)
        np.testing.assert_array_equal(x, y, err_msg=name)


# --------------------------------------------------------------------------------------------
# correctness against brute force (N = 10, every start)


@pytest.mark.parametrize("jd", [0.0, 0.5, 1.0])
@pytest.mark.parametrize("rule,order", [("async", "random"), ("async", "fixed"), ("sync", "random")])
def test_all_starts_reach_only_true_fixed_points(jd, rule, order):
    n = 10
    J = network(n, jd, seed=11 + int(10 * jd))
    _, fps = count_fixed_points_bruteforce(J, return_states=True)
    starts = model.all_states(n)
    res = run_dynamics(J, starts, rule=rule, order=order, max_sweeps=200, seed=3)
    assert res.states.dtype == np.int8 and res.states.shape == (2**n, n)
    # flags recomputed independently, from scratch, in canonical order
    np.testing.assert_array_equal(res.reached, strict_fp(J, res.states))
    np.testing.assert_array_equal(res.converged, sign_stable(J, res.states))
    # every fixed point reached is in the brute-force set, and every FP start stays put
    reached = res.codes()[res.reached]
    assert np.all(np.isin(reached, fps))
    start_codes = model.pack_states(starts)
    at_fp = np.isin(start_codes, fps)
    np.testing.assert_array_equal(res.codes()[at_fp], start_codes[at_fp])
    # stabilities are exactly s_i h_i with canonical fields
    exact = res.states * ordered_fields(J, res.states)
    np.testing.assert_array_equal(res.stability, exact)
    np.testing.assert_array_equal(res.margin, exact.min(axis=1))
    np.testing.assert_allclose(res.mean_stability, exact.mean(axis=1), rtol=1e-12, atol=1e-12)
    if rule == "async":
        assert not res.cycle2.any()
        # no ties with Gaussian couplings: converged <=> fixed point
        np.testing.assert_array_equal(res.converged, res.reached)
        assert res.converged.any()
    else:
        assert not (res.converged & res.cycle2).any()


def test_async_reaches_every_fixed_point_basin():
    # with enough self-coupling every FP is absorbing and is reached at least from itself;
    # the set of reached FPs is exactly the brute-force set
    n = 10
    J = network(n, 1.0, seed=5)
    count, fps = count_fixed_points_bruteforce(J, return_states=True)
    res = run_dynamics(J, model.all_states(n), max_sweeps=100, seed=1)
    assert res.converged.all()
    np.testing.assert_array_equal(np.unique(res.codes()), fps)
    assert count == fps.size


@pytest.mark.parametrize("rule", ["async", "sync"])
@pytest.mark.parametrize("order", ["random", "fixed"])
def test_fixed_point_is_absorbing(rule, order):
    n = 10
    J = network(n, 0.5, seed=21)
    count, fps = count_fixed_points_bruteforce(J, return_states=True)
    assert count > 0
    starts = model.unpack_states(fps, n)
    res = run_dynamics(J, starts, rule=rule, order=order, seed=9)
    assert res.converged.all() and res.reached.all()
    assert (res.sweeps == 1).all() and (res.flips == 0).all()
    np.testing.assert_array_equal(res.states, starts)
    assert (res.margin > 0).all()


def test_anneal_reaches_only_true_fixed_points():
    n = 10
    for jd, seed in ((0.5, 2), (0.0, 4)):
        J = network(n, jd, seed=seed)
        _, fps = count_fixed_points_bruteforce(J, return_states=True)
        res = anneal(J, runs=64, max_sweeps=200, seed=7)
        np.testing.assert_array_equal(res.reached, strict_fp(J, res.states))
        np.testing.assert_array_equal(res.energy,
                                      np.sum(res.states * ordered_fields(J, res.states) <= 0,
                                             axis=1))
        assert np.all(np.isin(res.codes()[res.reached], fps))
        if fps.size:
            assert res.reached.mean() > 0.5
        np.testing.assert_array_equal(res.stability, res.states * ordered_fields(J, res.states))


def test_anneal_at_fixed_point_does_nothing():
    n = 10
    J = network(n, 0.5, seed=21)
    _, fps = count_fixed_points_bruteforce(J, return_states=True)
    starts = model.unpack_states(fps, n)
    res = anneal(J, starts, seed=1)
    assert res.reached.all() and (res.sweeps == 0).all() and (res.flips == 0).all()
    assert (res.energy == 0).all()
    np.testing.assert_array_equal(res.states, starts)


def test_larger_network_flags_are_exact():
    # N = 300: many flips, incremental fields and refreshes; flags must match a from-scratch check
    n = 300
    J = network(n, 1.0, seed=8)
    res = run_dynamics(J, runs=6, max_sweeps=300, seed=2)
    np.testing.assert_array_equal(res.reached, strict_fp(J, res.states))
    np.testing.assert_array_equal(res.converged, sign_stable(J, res.states))
    np.testing.assert_array_equal(res.stability, res.states * ordered_fields(J, res.states))
    assert res.converged.all() and (res.flips > 0).all()
    sync = run_dynamics(J, runs=6, rule="sync", max_sweeps=300, seed=2)
    np.testing.assert_array_equal(sync.reached, strict_fp(J, sync.states))
    ann = anneal(J, runs=3, max_sweeps=300, beta0=1.0, beta1=8.0, seed=2)
    np.testing.assert_array_equal(ann.reached, strict_fp(J, ann.states))
    assert ann.reached.any()


def sync_reference(update, x, steps):
    """Plain synchronous trajectory from x with the sign rule ``update``: (outcome, final
    state, number of flips of every step); outcome = ("conv" | "cycle2" | "max", steps)."""
    x, prev, outcome, changes = x.copy(), None, ("max", steps), []
    for t in range(1, steps + 1):
        new = update(x)
        changes.append(int(np.sum(new != x)))
        if changes[-1] == 0:
            return ("conv", t), x, changes
        if prev is not None and np.array_equal(new, prev):
            return ("cycle2", t), new, changes
        prev, x = x, new
    return outcome, x, changes


def assert_sync_run(res, r, outcome, x):
    got = ("conv" if res.converged[r] else "cycle2" if res.cycle2[r] else "max", res.sweeps[r])
    assert got == outcome, r
    np.testing.assert_array_equal(res.states[r], x)


def test_sync_matches_reference_trajectories():
    n = 7
    J = network(n, 0.2, seed=1)
    starts = run_dynamics(J, runs=150, rule="sync", max_sweeps=0, seed=5).states
    res = run_dynamics(J, starts, rule="sync", max_sweeps=40)
    for r in range(starts.shape[0]):
        outcome, x, _ = sync_reference(lambda v: model.sign_update(ordered_fields(J, v)[0]),
                                       starts[r], 40)
        assert_sync_run(res, r, outcome, x)


def _exact_sign_update(J, x):
    """sign of the exact field of the stored numbers (math.fsum is correctly rounded, so its
    sign is the exact sign), sign(0) = +1."""
    import math

    return np.array([1 if math.fsum(J[i] * x) >= 0 else -1 for i in range(J.shape[0])],
                    dtype=np.int8)


@pytest.mark.parametrize("kind", ["gauss", "integer", "cancelling"])
def test_sync_long_runs_match_exact_reference(kind):
    """Long synchronous runs, where most steps flip few spins (the kernel then updates its
    fields incrementally and re-sums them from scratch every 4N updates), follow the
    trajectory of exact signs step for step: Gaussian couplings; integer couplings (exact
    zero fields, sign(0) = +1); rows with a huge cancelling pair ±2^33 beside small terms, so
    that a rounded field is often of the wrong sign and only the exact decision is right."""
    n, steps = 48, 120
    rng = np.random.default_rng(11)
    if kind == "gauss":
        J = network(n, 0.4, seed=3)
    elif kind == "integer":
        J = rng.integers(-2, 3, (n, n)).astype(np.float64)
        np.fill_diagonal(J, 3.0)  # slow enough for long runs of small steps
    else:  # spins a, b frozen and equal: their ±2^33 cancel exactly, after rounding the rest
        J = network(n, 0.4, seed=3) * 1e-7
        a, b = n // 2, n - 1
        J[:, a], J[:, b] = 2.0 ** 33, -(2.0 ** 33)
        J[a], J[b] = 0.0, 0.0
        J[a, a] = J[b, b] = 2.0 ** 45
    starts = run_dynamics(J, runs=12, rule="sync", max_sweeps=0, seed=7).states
    if kind == "cancelling":
        starts[:, b] = starts[:, a]
        x = starts[0].astype(np.float64)
        h_float = J @ x
        assert np.any(np.sign(h_float) != _exact_sign_update(J, x))  # rounding misleads
    res = run_dynamics(J, starts, rule="sync", max_sweeps=steps)
    small_steps = 0
    for r in range(starts.shape[0]):
        outcome, x, changes = sync_reference(lambda v: _exact_sign_update(J, v), starts[r], steps)
        assert_sync_run(res, r, outcome, x)
        small_steps += sum(0 < c and 4 * c <= n for c in changes[1:])
    assert small_steps >= 20  # the incremental path was taken (precondition of the test)


def test_async_fixed_order_matches_reference():
    n = 9
    J = network(n, 0.3, seed=4)
    starts = model.all_states(n)[::7]
    res = run_dynamics(J, starts, order="fixed", max_sweeps=30)
    for r in range(starts.shape[0]):
        x, sweeps, flips, conv = starts[r].copy(), 0, 0, False
        while sweeps < 30 and not conv:
            sweeps += 1
            changed = 0
            for i in range(n):
                new = 1 if ordered_fields(J, x)[0, i] >= 0 else -1
                if new != x[i]:
                    x[i] = new
                    changed += 1
            flips += changed
            conv = changed == 0
        assert (res.sweeps[r], res.flips[r], res.converged[r]) == (sweeps, flips, conv)
        np.testing.assert_array_equal(res.states[r], x)


# --------------------------------------------------------------------------------------------
# ties: converged (no update would change anything) vs strict fixed point


def tie_network():
    """Integer couplings. Neuron 0: h0 = s0 + s1 (zero when s0 = -s1). Neuron 3: h3 = s3 - s1
    (zero when s3 = s1). Neurons 1, 2: self-coupling 3 (always stable)."""
    J = np.zeros((4, 4))
    J[0, 0], J[0, 1] = 1.0, 1.0
    J[1, 1] = 3.0
    J[2, 2] = 3.0
    J[3, 3], J[3, 1] = 1.0, -1.0
    return J


@pytest.mark.parametrize("rule", ["async", "sync"])
def test_tie_converged_but_not_fixed_point(rule):
    J = tie_network()
    # (+, -, +, +): h0 = 0 with s0 = +1 (sign(0) = +1 keeps it), h3 = 2: converged, not a FP
    s = np.array([1, -1, 1, 1], dtype=np.int8)
    res = run_dynamics(J, s, rule=rule, seed=0)
    assert res.converged[0] and not res.reached[0]
    assert res.sweeps[0] == 1 and res.flips[0] == 0
    assert res.margin[0] == 0.0
    np.testing.assert_array_equal(res.stability[0], [0.0, 3.0, 3.0, 2.0])
    _, fps = count_fixed_points_bruteforce(J, return_states=True)
    assert model.pack_states(s)[0] not in set(fps.tolist())


@pytest.mark.parametrize("rule", ["async", "sync"])
def test_tie_with_minus_spin_flips_up(rule):
    J = tie_network()
    # (-, -, +, -): h3 = s3 - s1 = 0 with s3 = -1 -> sign(0) = +1 flips it; h0 = -2 stable
    s = np.array([-1, -1, 1, -1], dtype=np.int8)
    res = run_dynamics(J, s, rule=rule, seed=0)
    np.testing.assert_array_equal(res.states[0], [-1, -1, 1, 1])
    assert res.converged[0] and res.reached[0]
    assert res.flips[0] == 1 and res.sweeps[0] == 2


def test_tie_one_neuron_zero_coupling():
    J = np.zeros((1, 1))
    res = run_dynamics(J, np.array([[1], [-1]]), seed=0)
    np.testing.assert_array_equal(res.states[:, 0], [1, 1])
    assert res.converged.all() and not res.reached.any()
    np.testing.assert_array_equal(res.flips, [0, 1])
    assert count_fixed_points_bruteforce(J) == 0


def test_tie_anneal_counts_zero_field_as_unstable():
    J = tie_network()
    s = np.array([1, -1, 1, 1], dtype=np.int8)  # converged for the dynamics, E = 1
    res = anneal(J, s, max_sweeps=50, seed=3)
    assert res.reached[0] and res.energy[0] == 0 and res.sweeps[0] >= 1
    assert strict_fp(J, res.states)[0]
    none = anneal(J, s, max_sweeps=0, seed=3)
    assert not none.reached[0] and none.energy[0] == 1 and none.sweeps[0] == 0


# --------------------------------------------------------------------------------------------
# synchronous cycles


def test_sync_two_cycle_detected():
    J = np.array([[0.0, -1.0], [-1.0, 0.0]])
    res = run_dynamics(J, np.array([1, 1]), rule="sync", max_sweeps=100)
    assert res.cycle2[0] and not res.converged[0] and not res.reached[0]
    assert res.sweeps[0] == 2 and res.flips[0] == 4
    np.testing.assert_array_equal(res.states[0], [1, 1])
    # one self-inhibited neuron: + -> - -> +
    one = run_dynamics(np.array([[-1.0]]), np.array([[1], [-1]]), rule="sync")
    assert one.cycle2.all() and (one.sweeps == 2).all()
    # asynchronous dynamics on the same network reaches a fixed point
    asy = run_dynamics(J, np.array([1, 1]), rule="async", order="fixed")
    assert asy.converged[0] and asy.reached[0] and not asy.cycle2[0]
    np.testing.assert_array_equal(asy.states[0], [-1, 1])


def test_sync_four_cycle_is_not_a_two_cycle():
    J = np.array([[0.0, 1.0], [-1.0, 0.0]])  # s -> (s2, -s1): period 4
    res = run_dynamics(J, np.array([1, 1]), rule="sync", max_sweeps=11)
    assert not res.cycle2[0] and not res.converged[0]
    assert res.sweeps[0] == 11


# --------------------------------------------------------------------------------------------
# determinism and seeds


def test_seeds_are_spawned_children():
    kids = np.random.SeedSequence(42).spawn(7)
    mine = run_seeds(42, 4, first_run=3)
    for a, b in zip(kids[3:], mine):
        np.testing.assert_array_equal(a.generate_state(4), b.generate_state(4))


@pytest.mark.parametrize("rule,order", [("async", "random"), ("async", "fixed"), ("sync", "random")])
def test_same_seed_same_output_and_split_runs(rule, order):
    J = network(40, 0.3, seed=1)
    a = run_dynamics(J, rule=rule, order=order, runs=10, max_sweeps=50, seed=123)
    b = run_dynamics(J, rule=rule, order=order, runs=10, max_sweeps=50, seed=123)
    assert_same(a, b, ALL_FIELDS)
    first = run_dynamics(J, rule=rule, order=order, runs=4, max_sweeps=50, seed=123)
    rest = run_dynamics(J, rule=rule, order=order, runs=6, first_run=4, max_sweeps=50, seed=123)
    for name in ALL_FIELDS:
        np.testing.assert_array_equal(
            np.concatenate([getattr(first, name), getattr(rest, name)]), getattr(a, name),
            err_msg=name)
    c = run_dynamics(J, rule=rule, order=order, runs=10, max_sweeps=50, seed=124)
    assert not np.array_equal(a.states, c.states)
    assert len({r["run"] for r in a.as_rows()}) == 10


def test_random_order_depends_on_seed_with_given_start():
    J = network(60, 0.0, seed=3)
    s0 = np.ones(60, dtype=np.int8)
    a = run_dynamics(J, s0, runs=5, max_sweeps=3, seed=1)
    assert a.states.shape == (5, 60)
    assert len({row.tobytes() for row in a.states}) > 1  # each run has its own update order
    fixed = run_dynamics(J, s0, runs=3, max_sweeps=3, order="fixed", seed=1)
    assert (fixed.states == fixed.states[0]).all()


def test_anneal_deterministic_and_split():
    J = network(30, 0.3, seed=6)
    a = anneal(J, runs=6, max_sweeps=40, seed=5)
    b = anneal(J, runs=6, max_sweeps=40, seed=5)
    assert_same(a, b, ANNEAL_FIELDS)
    first = anneal(J, runs=2, max_sweeps=40, seed=5)
    rest = anneal(J, runs=4, first_run=2, max_sweeps=40, seed=5)
    for name in ANNEAL_FIELDS:
        np.testing.assert_array_equal(
            np.concatenate([getattr(first, name), getattr(rest, name)]), getattr(a, name),
            err_msg=name)


def test_beta_schedules():
    np.testing.assert_allclose(beta_schedule(5, 1.0, 3.0), [1.0, 1.5, 2.0, 2.5, 3.0])
    np.testing.assert_allclose(beta_schedule(3, 1.0, 4.0, "geometric"), [1.0, 2.0, 4.0])
    np.testing.assert_allclose(beta_schedule(1, 0.7, 3.0), [0.7])
    assert beta_schedule(0).size == 0
    J = network(12, 0.5, seed=2)
    res = anneal(J, runs=2, schedule=np.full(30, 2.0), seed=1)
    assert res.betas.size == 30 and res.params["schedule"] == "array"
    assert (res.sweeps <= 30).all()


def test_zero_runs_and_zero_sweeps():
    J = network(8, 0.5, seed=2)
    empty = run_dynamics(J, runs=0)
    assert empty.states.shape == (0, 8) and empty.converged.shape == (0,)
    assert empty.codes().size == 0
    idle = run_dynamics(J, runs=3, max_sweeps=0, seed=4)
    assert (idle.sweeps == 0).all() and not idle.converged.any()
    np.testing.assert_array_equal(idle.reached, strict_fp(J, idle.states))
    no_profile = run_dynamics(J, runs=3, return_stability=False, seed=4)
    assert no_profile.stability is None and no_profile.margin.shape == (3,)


def test_jd_replaces_diagonal():
    J = network(10, 0.0, seed=2)
    a = run_dynamics(J, runs=4, jd=0.8, seed=1)
    b = run_dynamics(model.with_self_coupling(J, 0.8), runs=4, seed=1)
    assert_same(a, b, ALL_FIELDS)


# --------------------------------------------------------------------------------------------
# bad input


@pytest.mark.parametrize("call", [
    lambda: run_dynamics(np.ones((3, 4))),
    lambda: run_dynamics(np.array([[1.0, np.nan], [0.0, 1.0]])),
    lambda: run_dynamics(np.array([[1.0, np.inf], [0.0, 1.0]])),
    lambda: run_dynamics(np.eye(3), rule="parallel"),
    lambda: run_dynamics(np.eye(3), order="backwards"),
    lambda: run_dynamics(np.eye(3), runs=-1),
    lambda: run_dynamics(np.eye(3), runs=1.5),
    lambda: run_dynamics(np.eye(3), max_sweeps=-2),
    lambda: run_dynamics(np.eye(3), seed=-1),
    lambda: run_dynamics(np.eye(3), seed="x"),
    lambda: run_dynamics(np.eye(3), np.ones(4)),
    lambda: run_dynamics(np.eye(3), np.ones((2, 4))),
    lambda: run_dynamics(np.eye(3), np.array([1, 0, -1])),
    lambda: run_dynamics(np.eye(3), np.array([1.0, 0.5, -1.0])),
    lambda: run_dynamics(np.eye(3), np.ones((2, 2, 3))),
    lambda: run_dynamics(np.eye(3), np.array(["a", "b", "c"])),
    lambda: run_dynamics(np.eye(3), np.ones((2, 3)), runs=3),
    lambda: run_dynamics(np.eye(3), first_run=-1),
    lambda: run_dynamics(np.eye(3), jd=[1.0, 2.0]),
    lambda: anneal(np.ones((2, 3))),
    lambda: anneal(np.eye(3), runs=-1),
    lambda: anneal(np.eye(3), max_sweeps=-1),
    lambda: anneal(np.eye(3), beta0=-1.0),
    lambda: anneal(np.eye(3), beta1=np.nan),
    lambda: anneal(np.eye(3), schedule="cosine"),
    lambda: anneal(np.eye(3), schedule="geometric", beta0=0.0),
    lambda: anneal(np.eye(3), schedule=np.array([1.0, -1.0])),
    lambda: anneal(np.eye(3), np.array([[1, 1, 2]])),
])
def test_bad_input(call):
    with pytest.raises(InputError):
        call()


def test_error_messages_name_the_problem():
    with pytest.raises(InputError, match="square"):
        run_dynamics(np.ones((2, 3)))
    with pytest.raises(InputError, match="rule"):
        run_dynamics(np.eye(2), rule="x")
    with pytest.raises(InputError, match="initial"):
        run_dynamics(np.eye(2), np.array([1, 2]))
    with pytest.raises(InputError, match="runs"):
        run_dynamics(np.eye(2), runs=-3)
    with pytest.raises(InputError, match="max_sweeps"):
        run_dynamics(np.eye(2), max_sweeps=-3)


# --------------------------------------------------------------------------------------------
# Ctrl-C


class _Alarm(Exception):
    pass


@pytest.mark.parametrize("kind", ["async", "sync", "anneal"])
def test_kernels_poll_for_signals(kind):
    import signal
    import time

    if not hasattr(signal, "setitimer"):
        pytest.skip("needs signal.setitimer")

    def handler(signum, frame):
        raise _Alarm()

    J = np.zeros((300, 300))
    J[0, 1], J[1, 0] = 1.0, -1.0  # neurons 0, 1 rotate with period 4: no fixed point, no 2-cycle
    old = signal.signal(signal.SIGALRM, handler)
    try:
        signal.setitimer(signal.ITIMER_REAL, 0.2)
        t0 = time.perf_counter()
        with pytest.raises(_Alarm):
            if kind == "anneal":
                anneal(J, runs=1, max_sweeps=10**7, schedule=np.zeros(10**6), seed=0)
            else:
                run_dynamics(J, runs=1, rule=kind, max_sweeps=10**7, seed=0)  # the MAX_STEPS limit
        assert time.perf_counter() - t0 < 10.0
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)
