"""fplandscape.attractors: systems, fixed points, Lyapunov exponents, census.

Every expected value is derived here from the mathematics of the test system (closed forms,
scipy root finding or integration), never from the code under test."""
import numpy as np
import pytest
from scipy.integrate import solve_ivp
from scipy.linalg import hadamard
from scipy.optimize import brentq

from fplandscape.attractors import (LeakyIntegrator, RateMap, SignNetwork, System, census,
                                    find_fixed_points, get_phi, lyapunov_spectrum)
from fplandscape.attractors.phi import PHI_NAMES
from fplandscape.errors import InputError


def _fd_jacobian(f, x, h=1e-6):
    n = x.size
    J = np.empty((n, n))
    for j in range(n):
        e = np.zeros(n)
        e[j] = h
        J[:, j] = (f(x + e) - f(x - e)) / (2 * h)
    return J


# --------------------------------------------------------------------------------------------
# transfer functions and systems


@pytest.mark.parametrize("name", PHI_NAMES)
def test_phi_derivative_matches_finite_differences(name):
    phi = get_phi(name)
    z = np.array([-3.1, -0.7, -0.2, 0.13, 0.45, 1.7, 2.9])  # away from the kinks
    fd = (phi.f(z + 1e-6) - phi.f(z - 1e-6)) / 2e-6
    assert np.allclose(phi.df(z), fd, atol=1e-8)
    lo, hi = phi.lo, phi.hi
    vals = phi.f(np.linspace(-50, 50, 1001))
    assert np.all(vals >= lo) and np.all(vals <= hi)
    assert np.all(np.diff(vals) >= 0)  # monotone: the certified search relies on it


def test_langevin_against_mpmath():
    import mpmath as mp

    mp.mp.dps = 50
    phi = get_phi("langevin")
    for z in (1e-12, 1e-5, 0.01, 0.5, 0.999, 1.0, 3.0, 19.99, 20.01, 300.0, -2.5):
        L = mp.coth(mp.mpf(z)) - 1 / mp.mpf(z)
        dL = 1 / mp.mpf(z) ** 2 - 1 / mp.sinh(mp.mpf(z)) ** 2
        assert abs(float((phi.f(z) - L) / L)) < 1e-14
        assert abs(float((phi.df(z) - dL) / dL)) < 1e-14
    assert phi.f(0.0) == 0.0 and phi.df(0.0) == pytest.approx(1 / 3, abs=1e-16)


def test_unknown_phi_is_refused():
    with pytest.raises(InputError, match="unknown phi"):
        RateMap(np.eye(2), phi="softsign")


@pytest.mark.parametrize("make", [
    lambda W: RateMap(W, b=0.1, phi="tanh"),
    lambda W: RateMap(W, phi="logistic", gain=1.7),
    lambda W: RateMap(W, phi="langevin", gain=3.0),
    lambda W: LeakyIntegrator(W, I=0.2, phi="tanh", tau=2.0),
    lambda W: LeakyIntegrator(W, phi="logistic"),
])
def test_analytic_jacobians_and_products(make):
    rng = np.random.default_rng(1)
    W = rng.standard_normal((5, 5))
    s = make(W)
    X = rng.standard_normal((3, 5))
    J = s.jacobian(X)
    for b in range(3):
        assert np.allclose(J[b], _fd_jacobian(lambda x: s.rhs(x), X[b]), atol=1e-7)
    V = rng.standard_normal((3, 5, 2))
    assert np.allclose(s.jvp(X, V), J @ V)
    G = rng.standard_normal((3, 5))
    assert np.allclose(s.vjp(X, G), np.einsum("bij,bi->bj", J, G))
    F, q, g = s.residual_and_grad(X)
    assert np.allclose(F, s.residual(X))
    assert np.allclose(q, 0.5 * (F**2).sum(1))
    assert np.allclose(g, np.einsum("bij,bi->bj", s.residual_jacobian(X), F))


def test_user_system_finite_difference_jacobian_is_flagged():
    f = lambda x: np.array([np.sin(x[0]) + x[1] ** 2, x[0] * x[1]])  # noqa: E731
    s = System(step=f, dim=2)
    x = np.array([0.3, -0.8])
    exact = np.array([[np.cos(0.3), 2 * -0.8], [-0.8, 0.3]])
    assert np.allclose(s.jacobian(x[None])[0], exact, atol=1e-8)
    assert s.describe()["jacobian"] == "finite_differences"
    assert System(step=f, dim=2, jacobian=lambda x: exact).describe()["jacobian"] == "analytic"


@pytest.mark.parametrize("bad, match", [
    (lambda: RateMap(np.ones((2, 3))), "square"),
    (lambda: RateMap(np.array([[1.0, np.nan], [0, 1]])), "non-finite"),
    (lambda: LeakyIntegrator(np.eye(2), tau=0), "tau"),
    (lambda: RateMap(np.eye(2), U=np.ones((3, 1))), "U must"),
    (lambda: RateMap(np.eye(2), b=[1, 2, 3]), "length 2"),
    (lambda: System(dim=2), "exactly one"),
    (lambda: System(step=len, dim=0), "dim"),
    (lambda: RateMap(np.eye(2)).with_input([1.0]), "no input matrix"),
    (lambda: RateMap(np.eye(2), U=np.ones((2, 2))).with_input([1.0]), "length 2"),
    (lambda: SignNetwork(np.eye(3), update="random"), "update"),
])
def test_bad_systems_are_refused(bad, match):
    with pytest.raises(InputError, match=match):
        bad()


def test_frozen_input_shifts_the_bias():
    rng = np.random.default_rng(2)
    W, U = rng.standard_normal((4, 4)), rng.standard_normal((4, 2))
    s = RateMap(W, b=0.5, U=U)
    u = np.array([0.3, -1.0])
    x = rng.standard_normal(4)
    assert np.allclose(s.with_input(u).rhs(x), np.tanh(W @ x + U @ u + 0.5))


# --------------------------------------------------------------------------------------------
# fixed points


def _tanh_root(w, I=0.0):  # noqa: E741
    """Roots of x = tanh(w x + I) by bracketing on a fine grid (decoupled unit)."""
    g = lambda x: np.tanh(w * x + I) - x  # noqa: E731
    xs = np.linspace(-1.0001, 1.00013, 20000)  # no grid point is a root
    v = g(xs)
    return [brentq(g, a, b) for a, b, va, vb in zip(xs[:-1], xs[1:], v[:-1], v[1:]) if va * vb < 0]


def test_decoupled_units_all_27_fixed_points_with_stability():
    w = 2.0
    roots = _tanh_root(w)
    assert len(roots) == 3
    fp = find_fixed_points(RateMap(w * np.eye(3)), seed=0)
    assert len(fp) == 27
    expected = np.array(np.meshgrid(roots, roots, roots)).reshape(3, -1).T
    for x in expected:
        assert np.min(np.abs(fp.states - x).max(axis=1)) < 1e-12
    # unit at 0: multiplier w = 2 (unstable); at ±x*: w (1 − x*²) < 1 (stable)
    for x, k, st, lab in zip(fp.states, fp.n_unstable, fp.stable, fp.labels):
        zeros = int(np.sum(np.abs(x) < 1e-9))
        assert k == zeros and st == (zeros == 0)
        assert lab == {0: "stable node", 3: "unstable node"}.get(zeros, f"saddle-{zeros}")
    assert fp.residuals.max() < 1e-14
    assert not fp.complete


def test_leaky_decoupled_units_with_bias():
    w, I = 2.0, 0.3  # noqa: E741
    # fixed points: u = w tanh(u) + I, i.e. roots of w tanh(u) + I − u
    g = lambda u: w * np.tanh(u) + I - u  # noqa: E731
    us = np.linspace(-5, 5.00013, 100000)
    v = g(us)
    roots = [brentq(g, a, b) for a, b, va, vb in zip(us[:-1], us[1:], v[:-1], v[1:]) if va * vb < 0]
    assert len(roots) == 3
    fp = find_fixed_points(LeakyIntegrator(w * np.eye(2), I=I), seed=1)
    assert len(fp) == 9
    for r1 in roots:
        for r2 in roots:
            assert np.min(np.abs(fp.states - [r1, r2]).max(axis=1)) < 1e-12
    # flow Jacobian per unit: −1 + w (1 − tanh² u): stable iff w (1 − tanh² u) < 1
    for x, st in zip(fp.states, fp.stable):
        assert st == bool(np.all(w * (1 - np.tanh(x) ** 2) < 1))


def test_linear_map_single_fixed_point_and_eigenvalues():
    rng = np.random.default_rng(3)
    W = 0.4 * rng.standard_normal((6, 6)) / np.sqrt(6)
    b = rng.standard_normal(6)
    fp = find_fixed_points(RateMap(W, b, phi="linear"), n_starts=64, seed=0)
    assert len(fp) == 1
    assert np.allclose(fp.states[0], np.linalg.solve(np.eye(6) - W, b), atol=1e-12)
    assert np.allclose(np.sort(np.abs(fp.eigenvalues[0])), np.sort(np.abs(np.linalg.eigvals(W))))
    assert fp.stable[0] == bool(np.abs(np.linalg.eigvals(W)).max() < 1)


def test_small_gain_tanh_network_has_one_stable_fixed_point():
    rng = np.random.default_rng(4)
    n = 40
    W = 0.5 * rng.standard_normal((n, n)) / np.sqrt(n)
    for s in (RateMap(W), LeakyIntegrator(W)):
        fp = find_fixed_points(s, n_starts=128, seed=0)
        assert len(fp) == 1 and fp.stable[0]
        assert np.abs(fp.states[0]).max() < 1e-12  # the origin (no bias)


def test_hopfield_orthogonal_patterns_are_stable_fixed_points():
    n, gain = 16, 2.0
    xi = hadamard(n)[1:3].astype(float)  # two orthogonal ±1 patterns
    W = gain * xi.T @ xi / n
    m = max(_tanh_root(gain))  # x = m ξ with m = tanh(gain m)
    fp = find_fixed_points(RateMap(W), seed=0)
    for p in np.concatenate([xi, -xi]):
        d = np.abs(fp.states - m * p).max(axis=1)
        i = int(np.argmin(d))
        assert d[i] < 1e-12 and fp.stable[i]
    origin = int(np.argmin(np.abs(fp.states).max(axis=1)))
    assert np.abs(fp.states[origin]).max() < 1e-12
    assert fp.labels[origin] == "saddle-2"  # W has eigenvalue 2 twice, 0 otherwise


def test_slow_point_is_not_a_fixed_point():
    # f(x) = x + x² + 0.1 has no fixed point; q = ½(x² + 0.1)² has its minimum at x = 0
    s = System(step=lambda X: X + X**2 + 0.1, dim=1, vectorized=True, box=([-1.0], [1.0]))
    fp = find_fixed_points(s, n_starts=32, seed=0)
    assert len(fp) == 0
    assert len(fp.slow_q) == 1
    assert abs(fp.slow_states[0, 0]) < 1e-5 and fp.slow_q[0] == pytest.approx(0.005, rel=1e-6)


def test_sign_network_fixed_points_are_exact_and_complete():
    rng = np.random.default_rng(5)
    n = 10
    J = rng.standard_normal((n, n)) / np.sqrt(n)
    np.fill_diagonal(J, 0.4)
    b = 0.3 * rng.standard_normal(n)
    S = np.array(np.meshgrid(*[[-1, 1]] * n)).reshape(n, -1).T.astype(float)
    for bias in (0.0, b):
        h = S @ J.T + bias
        brute = S[np.all(S * h > 0, axis=1)]
        fp = find_fixed_points(SignNetwork(J, bias))
        assert fp.complete and len(fp) == len(brute)
        assert {tuple(r) for r in fp.states} == {tuple(r) for r in brute}


def test_inputs_give_one_result_each_and_same_seed_same_answer():
    rng = np.random.default_rng(6)
    W, U = 1.5 * rng.standard_normal((5, 5)) / np.sqrt(5), rng.standard_normal((5, 1))
    s = RateMap(W, U=U)
    res = find_fixed_points(s, n_starts=64, inputs=[[0.0], [2.0]], seed=3)
    assert isinstance(res, list) and len(res) == 2
    for u, fp in zip([0.0, 2.0], res):
        assert np.abs(np.tanh(fp.states @ W.T + U[:, 0] * u) - fp.states).max() < 1e-12
    again = find_fixed_points(s, n_starts=64, inputs=[[0.0], [2.0]], seed=3, workers=2)
    for a, b in zip(res, again):
        assert np.array_equal(a.states, b.states)
    with pytest.raises(InputError, match="length 1"):
        find_fixed_points(s, inputs=[1.0, 2.0])


def test_fixed_point_arguments_are_checked():
    s = RateMap(np.eye(2))
    for kwargs, match in (({"n_starts": 0}, "n_starts"), ({"starts": np.ones((3, 5))}, "length 2"),
                          ({"starts": [[np.inf, 0]]}, "non-finite"), ({"q_tol": -1}, "q_tol"),
                          ({"precision": "half"}, "precision")):
        with pytest.raises(InputError, match=match):
            find_fixed_points(s, **kwargs)
    with pytest.raises(InputError, match="system must be"):
        find_fixed_points(np.eye(2))


@pytest.mark.parametrize("phi", ["tanh", "hard_tanh", "logistic"])
@pytest.mark.parametrize("cls", [RateMap, LeakyIntegrator])
def test_single_precision_copy_computes_the_same_residual_in_float32(cls, phi):
    rng = np.random.default_rng(3)
    s = cls(rng.normal(size=(6, 6)), 0.2, phi=phi)
    low = s.single_precision()
    X = rng.normal(size=(4, 6)).astype(np.float32)
    F, q, g = low.residual_and_grad(X)
    F64, q64, g64 = s.residual_and_grad(X.astype(np.float64))
    assert F.dtype == q.dtype == g.dtype == np.float32
    scale = 1.0 + np.abs(F64).max() + np.abs(g64).max()
    assert np.abs(F - F64).max() < 1e-5 * scale and np.abs(g - g64).max() < 1e-5 * scale
    assert s.W.dtype == np.float64  # the copy leaves the original alone
    assert RateMap(np.eye(2), phi="langevin").single_precision() is None


def test_single_precision_only_for_bounded_states_and_the_class_itself():
    assert RateMap(np.eye(2), phi="relu").single_precision() is None  # unbounded states
    assert LeakyIntegrator(np.eye(2), I=500.0).single_precision() is None  # box beyond ±100

    class Mine(RateMap):
        def residual_and_grad(self, X):
            return super().residual_and_grad(X)

    assert Mine(np.eye(2)).single_precision() is None  # a subclass keeps its own equations
    assert RateMap(np.eye(2)).single_precision() is not None


def test_deflation_starts_with_the_starts_that_found_no_root():
    # 12 starts next to a root (merged into one representative) and 4 far away that cannot
    # converge within 2 iterations: the 4 must be the deflated search's first picks
    from fplandscape.attractors import fixed_points as fpm

    s = RateMap(2.0 * np.eye(3))
    x = _tanh_root(2.0)[-1]
    X = np.vstack([x + 1e-9 * np.arange(12)[:, None] * np.ones(3), np.full((4, 3), 5.0)])
    q = np.concatenate([np.zeros(12), np.ones(4)])
    roots, _, used = fpm._roots_of(s, X, q, newton_q=1e-6, merge_tol=1e-3, root_tol=1e-10,
                                   unique_tol=1e-7)
    assert len(used) == 1  # one representative for the 12
    assert list(fpm._near_roots(X, roots, 1e-3)) == list(range(12))


def test_mixed_and_double_precision_find_the_same_fixed_points():
    # decoupled units with w = 2: exactly the 27 combinations of tanh's three roots
    roots = np.array(np.meshgrid(*[_tanh_root(2.0)] * 3)).reshape(3, -1).T
    for precision in ("mixed", "double"):
        fp = find_fixed_points(RateMap(2.0 * np.eye(3)), seed=0, precision=precision)
        assert len(fp) == 27 and fp.params["precision"] == precision
        assert all(np.min(np.abs(fp.states - x).max(axis=1)) < 1e-12 for x in roots)
        assert fp.residuals.max() < 1e-14


def test_deflated_objective_gradient_matches_finite_differences():
    from fplandscape.attractors.fixed_points import _Deflated

    rng = np.random.default_rng(5)
    s = RateMap(1.5 * rng.normal(size=(5, 5)) / np.sqrt(5), 0.1)
    d = _Deflated(s, rng.normal(size=(3, 5)), radius=0.7)
    x = rng.normal(size=(1, 5))
    _, q, g = d.residual_and_grad(x)
    h = 1e-6
    fd = [(d.residual_and_grad(x + h * e)[1] - d.residual_and_grad(x - h * e)[1])[0] / (2 * h)
          for e in np.eye(5)]
    assert np.allclose(g[0], fd, rtol=1e-6, atol=1e-9)
    # far from every known root the deflated q is q itself (to (ρ/d)² per root)
    far = d.roots.mean(axis=0) + 1e4
    _, qf, _ = d.residual_and_grad(far[None])
    assert abs(qf[0] / s.residual_and_grad(far[None])[1][0] - 1) < 2 * 3 * (0.7 / 1e4) ** 2 * 10


def test_deflation_finds_roots_the_starts_did_not_lead_to():
    # every start sits next to one root of three decoupled bistable units (27 roots); the
    # plain search finds that root (and its negation: the map is odd), the deflated one more
    s = RateMap(2.0 * np.eye(3))
    x = _tanh_root(2.0)[-1]
    starts = x + 1e-3 * np.random.default_rng(0).normal(size=(16, 3))
    plain = find_fixed_points(s, starts=starts, deflation_starts=0)
    assert len(plain) == 2 and plain.params["deflation_starts"] == 0
    fp = find_fixed_points(s, starts=starts)
    assert fp.params["deflation_starts"] == 4  # a quarter of the starts
    assert fp.params["deflation_new_roots"] == len(fp) - 2 > 0
    assert fp.residuals.max() < 1e-14
    roots = np.array(np.meshgrid(*[_tanh_root(2.0)] * 3)).reshape(3, -1).T
    assert all(np.min(np.abs(roots - y).max(axis=1)) < 1e-12 for y in fp.states)


def test_leaky_integrator_analyses_do_not_depend_on_the_time_constant():
    # τ only rescales time: the same fixed points and labels (eigenvalues ∝ 1/τ), the same
    # census with periods ∝ τ, for time constants many orders of magnitude apart
    W = 2.0 * np.random.default_rng(1).normal(size=(6, 6)) / np.sqrt(6)
    ref = find_fixed_points(LeakyIntegrator(W), n_starts=64, seed=0)
    for tau in (1e-80, 1e-3, 1e3, 1e80):
        fp = find_fixed_points(LeakyIntegrator(W, tau=tau), n_starts=64, seed=0)
        assert len(fp) == len(ref) and fp.labels == ref.labels
        assert np.abs(fp.states - ref.states).max() < 1e-10
        assert np.allclose(fp.eigenvalues * tau, ref.eigenvalues, rtol=1e-8)
    c1 = census(LeakyIntegrator(W), n_starts=8, seed=0)
    c2 = census(LeakyIntegrator(W, tau=1e60), n_starts=8, seed=0)
    assert [a.kind for a in c1.attractors] == [a.kind for a in c2.attractors] == ["periodic"]
    assert abs(c2.attractors[0].period / 1e60 - c1.attractors[0].period) < 1e-6
    with pytest.raises(InputError, match="tau must be between"):
        LeakyIntegrator(W, tau=1e300)


def test_newton_polish_stops_at_float_resolution_near_a_root_at_zero():
    # a contracting tanh map has its root at 0; Newton converges cubically there and must stop
    # once its steps are below float64 resolution instead of walking down the subnormals
    from fplandscape.attractors.fixed_points import newton_polish

    class Counting(RateMap):
        calls = 0

        def residual_jacobian(self, X):
            Counting.calls += len(X)
            return super().residual_jacobian(X)

    rng = np.random.default_rng(0)
    s = Counting(0.5 * rng.normal(size=(20, 20)) / np.sqrt(20))
    X, r = newton_polish(s, 1e-3 * rng.normal(size=(3, 20)))
    assert r.max() < 1e-15 and np.abs(X).max() < 1e-15
    assert Counting.calls <= 3 * 6  # about 3 steps each (1e-3 → 1e-9 → 1e-27 → stop)


# --------------------------------------------------------------------------------------------
# Lyapunov exponents


def _logistic(r):
    return System(step=lambda X: r * X * (1 - X), dim=1, vectorized=True,
                  jacobian=lambda X: (r - 2 * r * X)[:, :, None], box=([0.0], [1.0]))


HENON = System(step=lambda X: np.stack([1 - 1.4 * X[:, 0] ** 2 + X[:, 1], 0.3 * X[:, 0]], 1),
               dim=2, vectorized=True, box=([-1.5, -0.45], [1.5, 0.45]),
               jacobian=lambda X: np.stack([np.stack([-2.8 * X[:, 0], np.ones(len(X))], 1),
                                            np.stack([0.3 * np.ones(len(X)),
                                                      np.zeros(len(X))], 1)], 1))


def test_logistic_map_at_r4_has_exponent_ln2():
    r = lyapunov_spectrum(_logistic(4.0), [0.3], steps=50_000, seed=0)
    assert abs(r.exponents[0] - np.log(2)) < 4 * r.se[0] + 1e-3


def test_henon_map_exponents():
    r = lyapunov_spectrum(HENON, [0.1, 0.1], steps=60_000, seed=0)
    assert r.exponents[0] == pytest.approx(0.419, abs=0.005)
    # the Jacobian determinant is −0.3 everywhere: λ₁ + λ₂ = ln 0.3 exactly
    assert r.exponents.sum() == pytest.approx(np.log(0.3), abs=1e-9)


def test_linear_map_exponents_are_log_moduli():
    A = np.array([[0.9, 0.2, 0.0], [0.0, 0.5, 0.1], [0.0, 0.0, 0.3]])
    s = System(step=lambda X: X @ A.T, dim=3, vectorized=True, jacobian=lambda X: np.broadcast_to(A, (len(X), 3, 3)))
    r = lyapunov_spectrum(s, [1.0, 1.0, 1.0], k=3, steps=5000, transient=0)
    assert np.allclose(r.exponents, np.log([0.9, 0.5, 0.3]), atol=2e-3)


def test_lyapunov_refuses_sign_networks_and_bad_k():
    with pytest.raises(InputError, match="SignNetwork"):
        lyapunov_spectrum(SignNetwork(np.eye(3)), np.ones(3))
    with pytest.raises(InputError, match="at most"):
        lyapunov_spectrum(HENON, [0.1, 0.1], k=3)


# --------------------------------------------------------------------------------------------
# census


def test_census_logistic_chaos_and_period3_window():
    c = census(_logistic(4.0), 50, seed=0)
    assert [a.kind for a in c.attractors] == ["chaotic"]
    a = c.attractors[0]
    assert abs(a.lyapunov[0] - np.log(2)) < 4 * a.lyapunov_se[0] + 5e-3
    # r = 3.83: the stable 3-cycle; its points solve f³(x) = x with |(f³)'| < 1
    r = 3.83
    c3 = census(_logistic(r), 50, seed=0)
    assert [a.kind for a in c3.attractors] == ["periodic"] and c3.attractors[0].period == 3
    f = lambda x: r * x * (1 - x)  # noqa: E731
    x = c3.attractors[0].states[:, 0]
    assert np.allclose(f(f(f(x))), x, atol=1e-9)
    mult = np.prod(r - 2 * r * x)
    assert abs(mult) < 1
    assert c3.attractors[0].multipliers[0] == pytest.approx(mult, rel=1e-6)
    assert c3.attractors[0].lyapunov[0] == pytest.approx(np.log(abs(mult)) / 3, rel=1e-6)


def test_census_henon_chaos_and_divergent_starts():
    c = census(HENON, 200, seed=0)
    kinds = {a.kind: a for a in c.attractors}
    assert set(kinds) == {"chaotic", "divergent"}
    assert kinds["chaotic"].lyapunov[0] == pytest.approx(0.419, abs=0.02)
    assert sum(a.basin for a in c.attractors) == pytest.approx(1.0)
    for a in c.attractors:
        assert a.basin_se == pytest.approx(np.sqrt(a.basin * (1 - a.basin) / 200))


def test_census_saturating_rotation_limit_cycle_period_matches_solve_ivp():
    a, w = 2.0, 1.0
    W = np.array([[a, -w], [w, a]])
    c = census(LeakyIntegrator(W), 20, seed=0)
    assert [x.kind for x in c.attractors] == ["periodic"]
    T = c.attractors[0].period
    # independent period: upward crossings of u₂ = 0 with u₁ > 0, integrated by scipy
    ev = lambda t, u: u[1]  # noqa: E731
    ev.direction = 1
    sol = solve_ivp(lambda t, u: -u + W @ np.tanh(u), (0, 400), [0.1, 0.0], events=ev,
                    rtol=1e-11, atol=1e-12)
    times = sol.t_events[0]
    times = times[times > 200]
    assert T == pytest.approx(np.mean(np.diff(times)), rel=1e-5)
    # a limit cycle of a planar flow: one zero and one negative Floquet exponent
    lam = c.attractors[0].lyapunov
    assert abs(lam[0]) < 1e-4 and lam[1] < -0.1


def test_census_two_uncoupled_oscillators_make_a_torus():
    W = np.zeros((4, 4))
    W[:2, :2] = [[2.0, -1.0], [1.0, 2.0]]
    W[2:, 2:] = [[2.0, -np.sqrt(2)], [np.sqrt(2), 2.0]]
    c = census(LeakyIntegrator(W), 8, seed=0, k=4)
    assert [a.kind for a in c.attractors] == ["quasi_periodic"]
    lam = c.attractors[0].lyapunov
    assert np.all(np.abs(lam[:2]) < 5e-3) and np.all(lam[2:] < -0.1)


def test_census_random_tanh_small_gain_and_chaos():
    rng = np.random.default_rng(7)
    n = 60
    G = rng.standard_normal((n, n)) / np.sqrt(n)
    c = census(RateMap(0.5 * G), 20, seed=0)
    assert [a.kind for a in c.attractors] == ["fixed_point"] and c.attractors[0].basin == 1
    assert np.abs(c.attractors[0].states).max() < 1e-12
    chaos = census(RateMap(3.0 * G), 20, seed=0, steps=2000)
    assert [a.kind for a in chaos.attractors] == ["chaotic"]
    assert chaos.attractors[0].lyapunov[0] > 0.1


def test_census_hopfield_patterns_are_attractors_with_basins():
    n, gain = 16, 2.0
    xi = hadamard(n)[1:3].astype(float)
    c = census(RateMap(gain * xi.T @ xi / n), 200, seed=0)
    m = max(_tanh_root(gain))
    assert all(a.kind == "fixed_point" for a in c.attractors)
    targets = np.concatenate([xi, -xi]) * m
    found = [a for a in c.attractors if np.min(np.abs(targets - a.states[0]).max(axis=1)) < 1e-9]
    assert len(found) >= 4 and all(a.basin > 0 for a in found)


def test_census_divergent_system_is_reported_not_a_crash():
    c = census(RateMap(3 * np.eye(3), phi="linear"), 10, seed=0, transient=200)
    assert [a.kind for a in c.attractors] == ["divergent"] and c.attractors[0].basin == 1


def test_census_same_seed_same_answer_whatever_workers():
    c1 = census(HENON, 150, seed=4, steps=2000, workers=1)
    c2 = census(HENON, 150, seed=4, steps=2000, workers=2)
    assert [(a.kind, a.n_starts) for a in c1.attractors] == [(a.kind, a.n_starts) for a in c2.attractors]
    assert np.array_equal(c1.attractors[0].lyapunov, c2.attractors[0].lyapunov)


def test_census_of_sign_network_uses_the_exact_census():
    rng = np.random.default_rng(8)
    J = rng.standard_normal((8, 8))
    c = census(SignNetwork(J))
    assert c.exact and sum(a.basin_size for a in c.attractors) == 2**8


def test_certified_mode_proves_the_list_complete():
    # decoupled units u = 2 tanh(u) + I_i: the roots of each scalar equation, by brentq
    I = np.array([0.3, -0.1, 1.5])  # noqa: E741
    counts = []
    for Ii in I:
        g = lambda u: 2 * np.tanh(u) + Ii - u  # noqa: E731
        us = np.linspace(-6, 6.00013, 60000)
        v = g(us)
        counts.append(int(np.sum(v[:-1] * v[1:] < 0)))
    fp = find_fixed_points(LeakyIntegrator(2 * np.eye(3), I=I), certified=True, seed=0)
    assert fp.complete and len(fp) == int(np.prod(counts))
    assert fp.certificate["multistart_roots_outside_certified_boxes"] == 0
    F = -fp.states + 2 * np.tanh(fp.states) + I
    assert np.abs(F).max() < 1e-12
    # random multistable network: every multistart root lies in a certified box
    rng = np.random.default_rng(11)
    W = rng.standard_normal((4, 4)) / 2 + 2 * np.eye(4)
    dense = find_fixed_points(RateMap(W), n_starts=2048, seed=1)
    cert = find_fixed_points(RateMap(W), certified=True, seed=1)
    assert cert.complete and len(cert) >= len(dense)
    for x in dense.states:
        assert np.min(np.abs(cert.states - x).max(axis=1)) < 1e-10


def test_checkpointed_runs_resume_to_the_same_answer(tmp_path):
    rng = np.random.default_rng(9)
    W = 2.0 * rng.standard_normal((6, 6)) / np.sqrt(6)
    s = RateMap(W)
    ref = census(s, 130, seed=2, steps=500, transient=200)
    ck = tmp_path / "census"
    first = census(s, 130, seed=2, steps=500, transient=200, checkpoint=ck, workers=2)
    again = census(s, 130, seed=2, steps=500, transient=200, checkpoint=ck, resume=True)
    for c in (first, again):
        assert [(a.kind, a.n_starts, a.period) for a in c.attractors] == \
            [(a.kind, a.n_starts, a.period) for a in ref.attractors]
    fref = find_fixed_points(s, n_starts=600, seed=1)
    fck = tmp_path / "fp"
    find_fixed_points(s, n_starts=600, seed=1, checkpoint=fck)
    fres = find_fixed_points(s, n_starts=600, seed=1, checkpoint=fck, resume=True)
    assert np.array_equal(fres.states, fref.states)


def test_census_slow_focus_is_a_fixed_point_not_a_torus():
    # x ← tanh(ρ R(θ) x), ρ = 0.998: the origin is a stable focus with |μ| = ρ (λ = ln ρ =
    # −0.002 per step, inside the zero threshold): it must not be reported as quasi-periodic
    th = 0.3
    R = np.array([[np.cos(th), -np.sin(th)], [np.sin(th), np.cos(th)]])
    c = census(RateMap(0.998 * R), 20, seed=0)
    assert [a.kind for a in c.attractors] == ["fixed_point"]
    assert np.abs(c.attractors[0].states).max() < 1e-12
    assert np.abs(c.attractors[0].multipliers[0]) == pytest.approx(0.998, rel=1e-12)


def test_odd_systems_list_fixed_points_in_pairs():
    rng = np.random.default_rng(12)
    W = 1.8 * rng.standard_normal((30, 30)) / np.sqrt(30)
    for s in (RateMap(W), LeakyIntegrator(W, phi="langevin")):
        assert s.odd
        fp = find_fixed_points(s, n_starts=128, seed=0)
        for x in fp.states:  # −x is listed too (its residual is exactly that of x)
            assert np.min(np.abs(fp.states + x).max(axis=1)) < 1e-12
    assert not RateMap(W, b=0.1).odd and not RateMap(W, phi="logistic").odd


def test_package_exports_the_functions_even_after_submodule_imports():
    import importlib

    import fplandscape.attractors as pkg

    for name in ("census", "diagnose", "fixed_points", "lyapunov"):
        importlib.import_module(f"fplandscape.attractors.{name}")
    assert callable(pkg.census) and callable(pkg.diagnose)
    assert pkg.census.__module__.endswith(".census") and not isinstance(pkg.census, type(pkg))
