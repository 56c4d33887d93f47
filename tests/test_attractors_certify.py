"""Certified fixed points (fplandscape.attractors.certify): every expected root below is derived
independently of the code under test — by hand, by scipy's brentq on the scalar equation of a
decoupled unit, by linear algebra, or by a dense float Newton multistart written here."""
import itertools
import json
import math

import numpy as np
import pytest
from scipy.optimize import brentq, fsolve

from fplandscape.attractors.certify import Certificate, certify_fixed_points
from fplandscape.attractors.systems import LeakyIntegrator, RateMap, SignNetwork, System
from fplandscape.errors import InputError

TOL = 1e-9  # float reference roots are accurate to ~1e-15; certified boxes are ulp-tight


# -- helpers (independent of the module under test) ------------------------------------------

def scalar_roots(g, lo, hi, n=20001):
    """All sign changes of g on a fine grid of [lo, hi], refined by brentq (plus exact zeros)."""
    x = np.linspace(lo, hi, n)
    y = np.array([g(t) for t in x])
    out = [float(t) for t, v in zip(x, y) if v == 0.0]
    for i in range(n - 1):
        if y[i] * y[i + 1] < 0:
            out.append(brentq(g, x[i], x[i + 1], xtol=1e-15, rtol=1e-15))
    return sorted(out)


def boxes_containing(cert, x, tol=TOL):
    lo, hi = cert.roots[:, :, 0], cert.roots[:, :, 1]
    return int(np.sum(np.all((lo - tol <= x) & (x <= hi + tol), axis=1)))


def check_exact_roots(cert, expected):
    """complete, one certified box per expected root and each expected root in exactly one."""
    expected = np.atleast_2d(np.asarray(expected, dtype=float))
    assert isinstance(cert, Certificate)
    assert cert.complete and cert.undecided.shape[0] == 0
    assert cert.roots.shape == (len(expected), expected.shape[1], 2)
    assert np.all(cert.roots[:, :, 0] <= cert.roots[:, :, 1])
    for x in expected:
        assert boxes_containing(cert, x) == 1, x
    # midpoints: inside their boxes and at the true roots
    assert np.all(cert.roots[:, :, 0] <= cert.midpoints)
    assert np.all(cert.midpoints <= cert.roots[:, :, 1])
    for m in cert.midpoints:
        assert np.min(np.max(np.abs(expected - m), axis=1)) < 1e-9


def product_roots(per_unit):
    return [list(p) for p in itertools.product(*per_unit)]


def tanh_star(w):
    """The positive root of x = tanh(w x) (w > 1)."""
    return brentq(lambda x: math.tanh(w * x) - x, 1e-3, 1.0, xtol=1e-15, rtol=1e-15)


# -- decoupled units --------------------------------------------------------------------------

@pytest.mark.parametrize("N", [1, 2, 3])
def test_decoupled_tanh_three_roots_per_unit(N):
    xs = tanh_star(2.0)
    assert 0.95 < xs < 0.96
    cert = certify_fixed_points(RateMap(2.0 * np.eye(N)))
    check_exact_roots(cert, product_roots([[-xs, 0.0, xs]] * N))
    assert cert.roots.shape[0] == 3 ** N
    assert np.allclose(cert.box, [[-1.0, 1.0]] * N)


@pytest.mark.parametrize("N", [1, 2, 3])
def test_decoupled_tanh_weak_coupling_only_origin(N):
    cert = certify_fixed_points(RateMap(0.5 * np.eye(N)))
    check_exact_roots(cert, [np.zeros(N)])


def test_gain_multiplies_the_preactivation():
    xs = tanh_star(2.0)
    cert = certify_fixed_points(RateMap(np.eye(2), gain=2.0))
    check_exact_roots(cert, product_roots([[-xs, 0.0, xs]] * 2))


def test_decoupled_leaky_integrator_with_bias():
    w = 2.0
    biases = [0.3, -0.1, 1.5]
    per_unit = []
    for I in biases:
        r = scalar_roots(lambda u: w * math.tanh(u) + I - u, I - w - 1, I + w + 1)
        per_unit.append(r)
    assert [len(r) for r in per_unit] == [3, 3, 1]
    expected = product_roots(per_unit)
    sys_ = LeakyIntegrator(w * np.eye(3), I=biases, tau=2.5)
    cert = certify_fixed_points(sys_)
    check_exact_roots(cert, expected)
    assert cert.roots.shape[0] == 9
    # the roots do not depend on τ
    cert2 = certify_fixed_points(LeakyIntegrator(w * np.eye(3), I=biases, tau=0.1))
    assert np.allclose(cert2.midpoints, cert.midpoints, atol=1e-12)


# -- piecewise linear and linear ----------------------------------------------------------------

def test_affine_map_single_root():
    W = np.array([[0.5, 0.2, 0.0], [-0.3, 0.4, 0.1], [0.2, -0.1, -0.6]])
    b = np.array([1.0, -0.5, 0.25])
    root = np.linalg.solve(np.eye(3) - W, b)
    cert = certify_fixed_points(RateMap(W, b, phi="linear"), box=(-10.0, 10.0))
    check_exact_roots(cert, [root])
    # a box that misses the root: certified empty
    far = certify_fixed_points(RateMap(W, b, phi="linear"), box=(root + 1.0, root + 2.0))
    assert far.complete and far.roots.shape[0] == 0


def test_affine_leaky_integrator():
    W = np.array([[0.5, 0.2], [-0.3, 0.4]])
    I = np.array([1.0, -0.5])
    cert = certify_fixed_points(LeakyIntegrator(W, I, phi="linear"), box=(-10, 10))
    check_exact_roots(cert, [np.linalg.solve(np.eye(2) - W, I)])


def test_relu_decoupled_hand_roots():
    # x = relu(2x − 1/2): x = 0 (a = −1/2) or x = 2x − 1/2, x = 1/2 (a = 1/2)
    cert = certify_fixed_points(RateMap(2.0 * np.eye(2), -0.5, phi="relu"), box=(-5, 5))
    check_exact_roots(cert, product_roots([[0.0, 0.5]] * 2))


def test_relu_mutual_inhibition_hand_roots():
    # x1 = relu(1 − 2 x2), x2 = relu(1 − 2 x1): (1, 0), (0, 1) and x = 1 − 2x, x = 1/3
    W = np.array([[0.0, -2.0], [-2.0, 0.0]])
    cert = certify_fixed_points(RateMap(W, 1.0, phi="relu"), box=np.array([[-2, 2], [-2, 2]]))
    check_exact_roots(cert, [[1.0, 0.0], [0.0, 1.0], [1 / 3, 1 / 3]])


def test_hard_tanh_hand_roots_on_the_box_faces():
    # x = clip(2x + c): x = −1, x = 1 (saturated, on the faces of the default box [−1, 1]^N)
    # and the linear branch x = −c
    cert = certify_fixed_points(RateMap(2.0 * np.eye(2), [0.25, -0.25], phi="hard_tanh"))
    check_exact_roots(cert, product_roots([[-1.0, -0.25, 1.0], [-1.0, 0.25, 1.0]]))


def pwl_roots(W, b, phi):
    """Every fixed point of x = φ(W x + b), φ = relu or hard_tanh, by enumerating the pieces:
    for each unit low (0 or −1), linear, or high (hard_tanh: +1), solve the linear system of
    the linear units and keep the solution if every pre-activation lies in its piece."""
    N = len(b)
    pieces = ("lo", "lin") if phi == "relu" else ("lo", "lin", "hi")
    low = 0.0 if phi == "relu" else -1.0
    out = []
    for pat in itertools.product(pieces, repeat=N):
        L = [i for i, p in enumerate(pat) if p == "lin"]
        S = [i for i, p in enumerate(pat) if p != "lin"]
        x = np.array([low if p == "lo" else 1.0 for p in pat])
        if L:
            x[L] = np.linalg.solve(np.eye(len(L)) - W[np.ix_(L, L)],
                                   W[np.ix_(L, S)] @ x[S] + b[L])
        a = W @ x + b
        ok = all((a[i] <= low if p == "lo" else a[i] >= 1.0 if p == "hi"
                  else (a[i] >= 0.0 if phi == "relu" else -1.0 <= a[i] <= 1.0))
                 for i, p in enumerate(pat))
        if ok and not any(np.allclose(x, r) for r in out):
            out.append(x)
    return out


@pytest.mark.parametrize("phi,seed,count", [("relu", 0, 2), ("relu", 1, 0), ("relu", 2, 2),
                                            ("hard_tanh", 1, 15), ("hard_tanh", 2, 11)])
def test_piecewise_linear_random_against_enumeration(phi, seed, count):
    rng = np.random.default_rng(seed)
    N = 3
    W = 1.5 * rng.standard_normal((N, N)) / np.sqrt(N) + 1.5 * np.eye(N)
    b = 0.5 * rng.standard_normal(N)
    expected = pwl_roots(W, b, phi)
    assert len(expected) == count  # (fixes the seeds' meaning; counted by enumeration)
    cert = certify_fixed_points(RateMap(W, b, phi=phi), box=(-10.0, 10.0))
    if count == 0:  # proven: no fixed point at all in the box
        assert cert.complete and cert.roots.shape == (0, N, 2)
    else:
        check_exact_roots(cert, expected)


def test_root_on_outer_face_of_a_given_box():
    xs = tanh_star(2.0)
    cert = certify_fixed_points(RateMap(2.0 * np.eye(1)), box=(0.0, 1.0))
    check_exact_roots(cert, [[0.0], [xs]])
    cert = certify_fixed_points(RateMap(2.0 * np.eye(2)), box=([0.0, -1.0], [xs, 0.0]))
    check_exact_roots(cert, [[0.0, -xs], [0.0, 0.0], [xs, -xs], [xs, 0.0]])


# -- smooth activations other than tanh -------------------------------------------------------

def logistic(z):
    return 1.0 / (1.0 + math.exp(-z))


def langevin(z):
    return 1.0 / math.tanh(z) - 1.0 / z if z != 0 else 0.0


def test_logistic_decoupled():
    W = np.diag([8.0, 6.0])
    b = np.array([-4.0, -2.8])
    per_unit = [scalar_roots(lambda x, w=w, c=c: logistic(w * x + c) - x, -0.01, 1.01)
                for w, c in zip(np.diag(W), b)]
    assert [len(r) for r in per_unit] == [3, 3]
    assert abs(per_unit[0][1] - 0.5) < 1e-12  # σ(0) = 1/2
    cert = certify_fixed_points(RateMap(W, b, phi="logistic"))
    check_exact_roots(cert, product_roots(per_unit))


def test_langevin_decoupled_and_leaky():
    xs = brentq(lambda x: langevin(6.0 * x) - x, 0.1, 1.0, xtol=1e-15)
    cert = certify_fixed_points(RateMap(6.0 * np.eye(2), phi="langevin"))
    check_exact_roots(cert, product_roots([[-xs, 0.0, xs]] * 2))
    # u = 6 L(u) + I per unit (the Langevin function near 0 is the delicate part)
    biases = [0.05, -0.3]
    per_unit = [scalar_roots(lambda u, I=I: 6.0 * langevin(u) + I - u, I - 7, I + 7)
                for I in biases]
    assert [len(r) for r in per_unit] == [3, 3]
    cert = certify_fixed_points(LeakyIntegrator(6.0 * np.eye(2), biases, phi="langevin"))
    check_exact_roots(cert, product_roots(per_unit))


def test_langevin_coupled_pair():
    # mutual inhibition x1 = L(a x2 + c), x2 = L(a x1 + c), a < 0: the symmetric roots
    # x = L(a x + c) by brentq, the asymmetric ones by an fsolve multistart
    a, c = -5.0, 0.1
    W = np.array([[0.0, a], [a, 0.0]])
    sym = scalar_roots(lambda x: langevin(a * x + c) - x, -1.0, 1.0)
    cert = certify_fixed_points(RateMap(W, c, phi="langevin"))
    assert cert.complete
    for x in sym:
        assert boxes_containing(cert, np.array([x, x])) == 1

    def G(x):
        return [langevin(a * x[1] + c) - x[0], langevin(a * x[0] + c) - x[1]]
    found = []
    for x0 in itertools.product(np.linspace(-0.95, 0.95, 20), repeat=2):
        x, info, ier, _ = fsolve(G, x0, full_output=True, xtol=1e-14)
        if ier == 1 and max(abs(v) for v in G(x)) < 1e-12 and \
                not any(np.max(np.abs(x - r)) < 1e-7 for r in found):
            found.append(x)
    assert len(found) > len(sym)  # asymmetric roots exist too
    for x in found:
        assert boxes_containing(cert, x) == 1, x
    assert cert.roots.shape[0] == len(found)
    res = np.array([G(x) for x in cert.midpoints])
    assert np.max(np.abs(res)) < 1e-12


# -- agreement with a dense multistart --------------------------------------------------------

def newton_multistart(F, J, lo, hi, rng, n_random=2500, grid=7, iters=60):
    N = lo.size
    axes = [np.linspace(l, h, grid) for l, h in zip(lo, hi)]
    X = np.concatenate([lo + (hi - lo) * rng.random((n_random, N)),
                        np.array(list(itertools.product(*axes)))])
    with np.errstate(all="ignore"):
        for _ in range(iters):
            Fx, Jx = F(X), J(X)
            ok = np.isfinite(Jx).all(axis=(1, 2)) & (np.abs(np.linalg.det(Jx)) > 1e-14)
            step = np.zeros_like(X)
            step[ok] = np.linalg.solve(Jx[ok], Fx[ok][..., None])[..., 0]
            X = X - np.clip(step, -1.0, 1.0)
        res = np.max(np.abs(F(X)), axis=1)
    good = X[(res < 1e-12) & np.all((X >= lo - 1e-9) & (X <= hi + 1e-9), axis=1)]
    roots = []
    for x in good:
        if not any(np.max(np.abs(x - r)) < 1e-7 for r in roots):
            roots.append(x)
    return np.array(roots)


def rate_FJ(W, b):
    N = W.shape[0]

    def F(X):
        return np.tanh(X @ W.T + b) - X

    def J(X):
        t = np.tanh(X @ W.T + b)
        return (1 - t * t)[:, :, None] * W[None] - np.eye(N)[None]
    return F, J


def leaky_FJ(W, I):
    N = W.shape[0]

    def F(X):
        return -X + np.tanh(X) @ W.T + I

    def J(X):
        t = np.tanh(X)
        return W[None] * (1 - t * t)[:, None, :] - np.eye(N)[None]
    return F, J


CASES = [("rate", 2, 1), ("rate", 3, 3), ("rate", 4, 3), ("rate", 4, 6), ("rate", 5, 0),
         ("leaky", 2, 4), ("leaky", 3, 4), ("leaky", 4, 1), ("leaky", 4, 6), ("leaky", 5, 2)]


@pytest.mark.parametrize("kind,N,seed", CASES)
def test_never_misses_a_multistart_root(kind, N, seed):
    rng = np.random.default_rng(1234 + seed)  # W = randn/√N + 2 I: several roots
    W = 1.0 * rng.standard_normal((N, N)) / np.sqrt(N) + 2.0 * np.eye(N)
    b = 0.2 * rng.standard_normal(N)
    if kind == "rate":
        system = RateMap(W, b)
        F, J = rate_FJ(W, b)
        lo, hi = -np.ones(N), np.ones(N)
    else:
        system = LeakyIntegrator(W, b, tau=3.0)
        F, J = leaky_FJ(W, b)
        lo = b - np.abs(W).sum(axis=1)
        hi = b + np.abs(W).sum(axis=1)
    ms = newton_multistart(F, J, lo, hi, rng)
    assert len(ms) >= 3  # a multistable case
    cert = certify_fixed_points(system)
    assert cert.complete
    for x in ms:
        assert boxes_containing(cert, x) == 1, x
    assert cert.roots.shape[0] == len(ms)
    # the certified midpoints are roots too
    assert np.max(np.abs(F(cert.midpoints))) < 1e-12


# -- budget, output, bad input ----------------------------------------------------------------

def test_budget_exhausted_is_reported_incomplete():
    cert = certify_fixed_points(RateMap(2.0 * np.eye(2)), max_boxes=3)
    assert not cert.complete
    assert cert.undecided.shape[0] > 0 and cert.undecided.shape[1:] == (2, 2)
    assert cert.boxes_examined <= 3
    assert cert.roots.shape[0] < 9


def test_width_limit_is_reported_incomplete():
    # x = x + 0 (linear, W = I): a continuum of fixed points, never provable
    cert = certify_fixed_points(RateMap(np.eye(1), phi="linear"), box=(-1, 1), min_width=1e-2,
                                max_boxes=10_000)
    assert not cert.complete and cert.roots.shape[0] == 0
    assert cert.undecided.shape[0] > 0
    assert cert.boxes_examined < 10_000


def test_to_dict_is_json():
    cert = certify_fixed_points(RateMap(2.0 * np.eye(2)), max_boxes=5)
    d = json.loads(json.dumps(cert.to_dict()))
    assert d["n_roots"] == cert.roots.shape[0]
    assert d["n_undecided"] == cert.undecided.shape[0] == len(d["undecided"])
    assert d["complete"] is False and d["boxes_examined"] == cert.boxes_examined
    assert np.allclose(d["box"], cert.box) and d["seconds"] >= 0


def test_bad_systems():
    with pytest.raises(InputError, match="RateMap and LeakyIntegrator"):
        certify_fixed_points(SignNetwork(np.array([[0.0, 1.0], [1.0, 0.0]])))
    with pytest.raises(InputError, match="RateMap and LeakyIntegrator"):
        certify_fixed_points(System(step=lambda x: np.tanh(2 * x), dim=1, box=([-1], [1])))
    with pytest.raises(InputError):
        certify_fixed_points(np.eye(2))


def test_unbounded_activation_needs_a_box():
    with pytest.raises(InputError, match="box"):
        certify_fixed_points(RateMap(np.eye(2) * 0.5, phi="relu"))
    with pytest.raises(InputError, match="box"):
        certify_fixed_points(LeakyIntegrator(np.eye(2) * 0.5, phi="linear"))


@pytest.mark.parametrize("box", [
    ([-1, -1], [1]),                       # wrong length
    ([1, 1], [-1, -1]),                    # lo > hi
    ([-1, np.nan], [1, 1]),                # NaN
    ([-1, -np.inf], [1, 1]),               # inf
    np.zeros((3, 2)),                      # wrong shape
    np.array([[1.0, -1.0], [0.0, 1.0]]),   # (N, 2) with lo > hi
    "box",
    ([-1, "a"], [1, 1]),
    ([-1, -1], [1, 1], [2, 2]),
    [[-1, 1], [-1, 1]],                    # a list of two pairs: ambiguous for N = 2
    3.0,
])
def test_malformed_box(box):
    with pytest.raises(InputError):
        certify_fixed_points(RateMap(2.0 * np.eye(2)), box=box)


def test_box_forms_agree():
    system = RateMap(2.0 * np.eye(3))
    forms = [(-1.0, 1.0), ([-1.0] * 3, [1.0] * 3), np.array([[-1.0, 1.0]] * 3),
             [[-1.0, 1.0]] * 3, np.array([[-1.0] * 3, [1.0] * 3])]
    certs = [certify_fixed_points(system, box=b) for b in forms]
    for c in certs:
        assert np.array_equal(c.box, [[-1.0, 1.0]] * 3)
        assert np.array_equal(c.roots, certs[0].roots)


@pytest.mark.parametrize("kw", [{"max_boxes": 0}, {"max_boxes": True}, {"max_boxes": 2.5},
                                {"min_width": 0.0}, {"min_width": -1.0},
                                {"min_width": float("nan")}])
def test_bad_limits(kw):
    with pytest.raises(InputError):
        certify_fixed_points(RateMap(2.0 * np.eye(1)), **kw)
