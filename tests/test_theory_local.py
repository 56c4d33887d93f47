"""Franz–Parisi (E6), large deviations (E7) and the shared RS saddle point.

Every check here is against an independent quantity: a closed form (s(J_D), S₂(q), the
small-d cluster count), a finite difference of the functional being extremised, or the same
computation on a finer quadrature.
"""
import math

import numpy as np
import pytest

from fplandscape.errors import InputError
from fplandscape.theory import (
    Quadrature,
    annealed_entropy,
    annealed_local_entropy,
    local_entropy,
    pair_entropy,
)
from fplandscape.theory.saddle import RSProblem, solve_curve, solve_densest


def Phi(x):
    return 0.5 * math.erfc(-x / math.sqrt(2.0))


def H2(x):
    return -x * math.log(x) - (1 - x) * math.log(1 - x)


D_GRID = np.array([0.45, 0.3, 0.2, 0.1, 0.05, 0.02, 0.01])


@pytest.mark.parametrize("jd", [0.1, 0.5, 1.0])
def test_franz_parisi_typical_lies_below_annealed(jd):
    # docs/formulas.md#e6: the kappa = 0 curve lies below phi_ann (quenched average <= annealed)
    curve = local_entropy(jd, "franz-parisi", D_GRID, kappa=0.0)
    assert curve.converged.all()
    ann = annealed_local_entropy(jd, D_GRID)
    assert np.all(curve.local_entropy <= ann + 1e-9)
    assert np.any(curve.local_entropy < ann - 1e-4)  # and strictly below somewhere


@pytest.mark.parametrize("kappa_is_jd", [False, True])
def test_franz_parisi_limits(kappa_is_jd):
    jd = 0.4
    kappa = jd if kappa_is_jd else 0.0
    s = annealed_entropy(jd)
    small = 1e-4 if kappa_is_jd else 2e-3
    curve = local_entropy(jd, "franz-parisi", [0.5, 0.4999, small], kappa=kappa)
    assert curve.converged.all()
    # p -> 0: the constraint disappears, all FPs count: s(J_D)
    assert curve.local_entropy[0] == pytest.approx(s, abs=1e-12)
    assert curve.local_entropy[1] == pytest.approx(s, abs=1e-6)
    # p -> 1: robust references sit in a small cluster, phi -> 0+ like d ln(1/d); typical
    # references are isolated, phi -> 0- below the annealed -c sqrt(d) (RS is only used
    # down to d ~ 1e-3 there: its parameters diverge in the isolated regime)
    if kappa_is_jd:
        assert 0 < curve.local_entropy[2] < 3e-3
    else:
        ann = annealed_local_entropy(jd, small)
        assert ann < 0
        assert 2 * ann < curve.local_entropy[2] < ann


@pytest.mark.parametrize("d", [1e-3, 1e-4])
def test_robust_reference_small_d_cluster(d):
    # kappa = J_D: flipping a neuron with stability x in (0, J_D) keeps a FP; a fraction
    # a = 2Phi(J_D) - 1 of neurons can flip, so phi ~ a H2(d/a) ~ d(-ln d + 1 + ln a) for small d
    jd = 0.5
    a = 2 * Phi(jd) - 1
    curve = local_entropy(jd, "franz-parisi", [d], kappa=jd)
    assert curve.converged[0]
    assert curve.local_entropy[0] == pytest.approx(a * H2(d / a), rel=1e-2)
    assert curve.local_entropy[0] > 0


@pytest.mark.parametrize("y", [0.0, 2.0])
@pytest.mark.parametrize("kappa", [0.0, 0.3])
def test_saddle_equations_are_stationarity_conditions(y, kappa):
    """The fixed-point equations p=<M>, q=<M^2>, lam2=<(d_g lnF)^2> (derived with Stein's lemma)
    must make the functional stationary: check all three partial derivatives by central
    differences of the functional itself."""
    jd, d = 0.3, 0.08
    prob = RSProblem(jd, kappa, y, 1 - 2 * d)
    pt = prob.solve()
    assert pt.converged
    h = 1e-5
    x0 = np.array([pt.q, pt.lam1, pt.lam2])
    for i in range(3):
        e = np.zeros(3)
        e[i] = h
        grad = (prob.functional(*(x0 + e)) - prob.functional(*(x0 - e))) / (2 * h)
        assert abs(grad) < 1e-6, f"d functional / d param {i} = {grad}"
    # and a non-solution is not stationary (the check above can fail)
    grad_off = (prob.functional(pt.q, pt.lam1 + 0.1 + h, pt.lam2)
                - prob.functional(pt.q, pt.lam1 + 0.1 - h, pt.lam2)) / (2 * h)
    assert abs(grad_off) > 1e-3


def test_slope_matches_finite_difference():
    jd, kappa = 0.15, 0.15
    d = np.array([0.3, 0.1, 0.02])
    h = 1e-5
    mid, up, dn = (solve_curve(jd, kappa, 0.0, x) for x in (d, d + h, d - h))
    for a, b, c in zip(mid, up, dn):
        fd = (b.value - c.value) / (2 * h)
        assert a.slope == pytest.approx(fd, abs=1e-6)


def test_quadrature_converged():
    d = np.array([0.3, 0.1, 0.03, 0.01])
    for kappa in (0.0, 0.5):
        base = solve_curve(0.5, kappa, 0.0, d)
        fine = solve_curve(0.5, kappa, 0.0, d, Quadrature().refined(1.75))
        for a, b in zip(base, fine):
            assert a.converged and b.converged
            assert a.value == pytest.approx(b.value, abs=1e-7)


def test_large_deviation_y1_is_pair_entropy():
    # docs/formulas.md#e7: y = 1 reproduces S2(p) exactly (Phi_LD at y = 1, typical references)
    jd = 0.3
    d = np.array([0.4, 0.2, 0.1, 0.05, 0.02])
    pts = solve_curve(jd, 0.0, 1.0, d)
    for pt in pts:
        assert pt.converged
        assert pt.phi_ld == pytest.approx(pair_entropy(jd, pt.p), abs=1e-10)


def test_large_deviation_small_y_is_franz_parisi():
    jd = 0.3
    d = np.array([0.3, 0.1, 0.03])
    fp = local_entropy(jd, "franz-parisi", d)
    for y in (1e-3, 1e-4):
        ld = local_entropy(jd, "large-deviation", d, y=y)
        assert ld.converged.all()
        # S_I(y) = phi_FP + O(y)
        assert np.max(np.abs(ld.local_entropy - fp.local_entropy)) < 20 * y


def test_local_entropy_is_y_derivative():
    # S_I = dPhi_LD/dy at fixed d (checked by differentiating Phi_LD numerically)
    jd, d, y, h = 0.2, 0.05, 3.0, 1e-4
    vals = [solve_curve(jd, 0.0, yy, [d])[0] for yy in (y - h, y, y + h)]
    assert all(v.converged for v in vals)
    fd = (vals[2].phi_ld - vals[0].phi_ld) / (2 * h)
    assert vals[1].value == pytest.approx(fd, abs=1e-6)
    assert vals[1].sigma_ext == pytest.approx(vals[1].phi_ld - y * vals[1].value, abs=1e-12)


def test_densest_references():
    jd = 0.3
    d = np.array([0.05, 0.1])
    dense = solve_densest(jd, 0.0, d)
    typical = solve_curve(jd, 0.0, 0.0, d)
    for a, b in zip(dense, typical):
        assert a.converged
        assert abs(a.sigma_ext) < 1e-5  # the defining condition
        assert a.y > 0
        assert a.value > b.value  # denser than typical references
    # and d = 1/2 has no densest reference: reported, not faked
    half = solve_densest(jd, 0.0, [0.5])[0]
    assert not half.converged and half.message


def test_failed_solver_is_reported(monkeypatch):
    """A solver that stagnates (returns its starting point) must be flagged as failed."""
    monkeypatch.setattr(RSProblem, "newton", lambda self, q, l1, l2: (q, l1, l2))
    monkeypatch.setattr(RSProblem, "iterate", lambda self, q, l1, l2, **kw: (q, l1, l2))
    curve = local_entropy(0.3, "franz-parisi", [0.1, 0.2])
    assert not curve.converged.any()


def test_local_entropy_bad_input():
    with pytest.raises(InputError, match="kind"):
        local_entropy(0.3, "bogus", [0.1])
    with pytest.raises(InputError, match="kappa"):
        local_entropy(0.3, "franz-parisi", [0.1], kappa=0.5)
    with pytest.raises(InputError, match="kappa"):
        local_entropy(0.3, "franz-parisi", [0.1], kappa=-0.1)
    with pytest.raises(InputError, match="d"):
        local_entropy(0.3, "annealed", [0.7])
    with pytest.raises(InputError, match="d"):
        local_entropy(0.3, "annealed", [0.0])
    with pytest.raises(InputError, match="y"):
        local_entropy(0.3, "large-deviation", [0.1], y=-1.0)
    with pytest.raises(InputError):
        local_entropy(float("nan"), "annealed", [0.1])



@pytest.mark.slow
@pytest.mark.parametrize("jd", [0.05, 0.2])
def test_franz_parisi_curve_smooth_where_converged(jd):
    # issue 13 item 5: at J_D = 0.05 a solution off the continued branch (phi = -0.089 at
    # d = 0.0038, between -0.041 and -0.047; lambda_2 = 1393 against ~16-50 around it) was
    # reported as converged and drawn as a spike. On a grid uniform in sqrt(d) over the small-d
    # region (the spacing of the figure's grid), neighbouring converged points must differ
    # little and bend little; failed points are allowed (they are flagged and left out).
    d = np.linspace(np.sqrt(0.002), np.sqrt(0.05), 10) ** 2
    curve = local_entropy(jd, "franz-parisi", d, kappa=0.0)
    v, ok = curve.local_entropy, curve.converged
    assert ok.sum() >= 6 and ok[-4:].all()
    first = [abs(v[i + 1] - v[i]) for i in range(len(v) - 1) if ok[i] and ok[i + 1]]
    second = [abs(v[i - 1] - 2 * v[i] + v[i + 1]) for i in range(1, len(v) - 1)
              if ok[i - 1] and ok[i] and ok[i + 1]]
    assert max(first) < 0.01 and max(second) < 0.003
    assert np.all(v[ok] <= annealed_local_entropy(jd, d[ok]) + 1e-9)
    bad = [p for p in curve.details if not p["converged"]]
    assert all(p["message"] for p in bad)  # a failed point says why


def test_branch_check_flags_the_committed_spike():
    # the saddle points of the J_D = 0.05, kappa = 0 curve around the former spike (from the
    # committed figure data): continuing from d = 0.0127, 0.0092, the solution found at
    # d = 0.0038 (lambda_2 = 1393) is off the branch; a neighbour on it (d = 0.0085) is not
    from fplandscape.theory.saddle import SaddlePoint, _check_branch

    def pt(d, q, lam1, lam2):
        return SaddlePoint(0.05, 0.0, 0.0, d, 1 - 2 * d, q, lam1, lam2, 0.0, 0.0, 0.0, 0.0,
                           True, 0.0)

    history = [pt(0.012691898388212665, 0.9813412551247769, 4.576059944460334, 6.930253000997784),
               pt(0.009153530404972845, 0.9903012278046164, 7.29529982577873, 16.110210209846677)]
    spike = pt(0.0038075812108665148, 0.9994689732197012, 80.43614532248804, 1393.256797707655)
    _check_branch(spike, history, RSProblem(0.05, 0.0, 0.0, spike.p))
    assert not spike.converged and "off the continued branch" in spike.message
    near = pt(0.0085, 0.9917161204379682, 8.178327893324786, 19.815960616117664)
    _check_branch(near, history, RSProblem(0.05, 0.0, 0.0, near.p))
    assert near.converged and near.message == ""
