"""User input to the theory API and ``theory critical`` (issue 12): brackets are validated (an
inverted one is refused, not replaced by a scan); the scalar formulas broadcast over arrays;
bad values raise InputError naming the argument (never NumPy's TypeError or a plain
ValueError)."""
import math

import numpy as np
import pytest

from fplandscape import theory
from fplandscape.errors import InputError
from fplandscape import special as gaussian
from cli_runner import run_error, run_json


@pytest.mark.parametrize("bracket,message", [
    ((0.5, 0.1), "lo < hi"),
    ((0.1, 0.1), "lo < hi"),
    ((float("nan"), 0.5), "finite"),
    ((0.01, float("inf")), "finite"),
    ((0.1,), "pair"),
    ("ab", "pair"),
    (0.3, "pair"),
    (("a", 0.5), "pair"),
])
def test_bad_bracket_raises_input_error(bracket, message):
    with pytest.raises(InputError, match=message):
        theory.critical_self_coupling("gap", bracket=bracket, evidence=False)


def test_bracket_and_tolerance_cli(capsys):
    run_error(capsys, "theory", "critical", "--criterion", "gap", "--bracket", 0.5, 0.1,
              match="--bracket LO HI needs LO < HI, got 0.5 0.1")
    run_error(capsys, "theory", "critical", "--criterion", "gap", "--tol", 0, match="--tol")
    obj = run_json(capsys, "theory", "critical", "--criterion", "gap", "--bracket", 0.01, 0.5)
    assert obj["bracket"] == [0.01, 0.5] and obj["jd"] == pytest.approx(0.04272, abs=1e-4)


def test_array_arguments_broadcast():
    jd = np.array([[0.1, -0.2, 0.6]])
    e = theory.log_expected_pairs(7, jd)
    assert e.shape == (1, 3, 8)
    for j in range(3):
        np.testing.assert_array_equal(e[0, j], theory.log_expected_pairs(7, float(jd[0, j])))
    np.testing.assert_allclose(theory.expected_pairs(7, [0.1, 0.6]),
                               np.exp(theory.log_expected_pairs(7, [0.1, 0.6])))
    assert theory.log_expected_pairs(1, [0.2, -0.2]).shape == (2, 2)
    d0 = theory.isolation_radius([0.1, 0.0, -0.1])
    assert d0.shape == (3,) and d0[0] == theory.isolation_radius(0.1) and d0[1] == 0.5
    assert math.isnan(d0[2]) and isinstance(theory.isolation_radius(0.3), float)
    s = theory.modular_entropy([0.1, 0.3], 0.2, [[2], [np.inf]])
    assert s.shape == (2, 2)
    assert s[1, 0] == theory.modular_entropy(0.1, 0.2) and s[0, 1] == theory.modular_entropy(0.3, 0.2, 2)
    assert isinstance(theory.modular_entropy(0.1, 0.2, 3), float)
    m = theory.log_expected_count_modular(4, [0.1, 0.3], [0.0, 0.2], 2)
    assert m[1] == theory.log_expected_count_modular(4, 0.3, 0.2, 2)
    v, q = theory.min_pair_entropy([0.05, 0.2])
    assert (v[1], q[1]) == theory.min_pair_entropy(0.2)


BAD_THEORY = [
    (lambda: theory.modular_entropy([0.1, 0.2], [0.1, 0.2, 0.3]), "broadcast"),
    (lambda: theory.log_expected_pairs([4, 5], 0.1), "N must be a positive integer"),
    (lambda: theory.expected_pairs(5, "abc"), "J_D"),
    (lambda: theory.annealed_entropy("abc"), "J_D"),
    (lambda: theory.annealed_entropy(1j), "J_D"),
    (lambda: theory.pair_entropy(0.2, "x"), "overlap q"),
    (lambda: theory.isolation_radius(0.1, n_grid=0), "n_grid"),
    (lambda: theory.isolation_radius([0.1, float("nan")]), "J_D must be finite"),
    (lambda: theory.local_entropy([0.1, 0.2], "annealed", [0.1]), "single number"),
    (lambda: theory.local_entropy(0.2, ["annealed"], [0.1]), "kind"),
    (lambda: theory.local_entropy(0.2, "annealed", ["x"]), "distances d"),
    (lambda: theory.local_entropy(0.2, "franz-parisi", [0.1], kappa="x"), "kappa"),
    (lambda: theory.local_entropy(0.2, "large-deviation", [0.1], y="x"), "tilt y"),
    (lambda: theory.default_distances(0), "n must be"),
    (lambda: theory.default_distances(10, 0.3, 0.1), "d_min"),
    (lambda: theory.quenched_entropy_rs([0.1, 0.2]), "single number"),
    (lambda: theory.quenched_entropy_rs(0.1, q0=1.5), "q0"),
    (lambda: theory.critical_self_coupling(["gap"]), "criterion"),
    (lambda: theory.critical_self_coupling("gap", tol="x"), "tolerance"),
    (lambda: theory.criterion_evidence("gap", [0.1, 0.2]), "single number"),
    (lambda: gaussian.log_Phi2_equal(0.3, 2.0), "rho"),
    (lambda: gaussian.log_Phi2_equal(0.3, "x"), "rho"),
]


@pytest.mark.parametrize("call,message", BAD_THEORY, ids=[str(i) for i in range(len(BAD_THEORY))])
def test_theory_bad_input_raises_input_error(call, message):
    with pytest.raises(InputError, match=message):
        call()
