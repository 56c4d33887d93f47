"""fplandscape.stats: each estimator against a value computed by hand or in closed form."""
import math

import numpy as np
import pytest

from fplandscape import stats
from fplandscape.errors import InputError


def test_mean_se_by_hand():
    # mean 2.5, s² = (2.25 + 0.25 + 0.25 + 2.25)/3 = 5/3, SE = s/√4 = √(5/12)
    mean, se = stats.mean_se([1, 2, 3, 4])
    assert mean == 2.5
    assert se == pytest.approx(math.sqrt(5 / 12), rel=1e-15)
    assert stats.mean_se([]) == (None, None)
    assert stats.mean_se([7]) == (7.0, None)  # SE undefined for one value
    mean, se = stats.mean_se(np.full(5, 0.25))
    assert (mean, se) == (0.25, 0.0)


def test_z_score_cases():
    assert stats.z_score(3.0, 0.5, 2.0) == 2.0
    assert stats.z_score(1.0, 0.25, 2.0) == -4.0
    assert stats.z_score(2.0, 0.0, 2.0) == 0.0  # exact agreement without scatter
    assert stats.z_score(3.0, 0.0, 2.0) == math.inf
    assert stats.z_score(1.0, 0.0, 2.0) == -math.inf
    assert stats.z_score(None, 1.0, 2.0) is None
    assert stats.z_score(1.0, None, 2.0) is None
    assert stats.z_score(1.0, 1.0, None) is None


def test_crossing_interpolates_linearly():
    # g = -0.5 at 1 and 0.5 at 2: x* = 1 + (2 - 1)·0.5/1 = 1.5
    x, status, reason = stats.crossing_info([0, 1, 2], [-1.0, -0.5, 0.5])
    assert (x, status, reason) == (1.5, "interpolated", None)
    # g = -0.2 at 0.1 and 0.6 at 0.3: x* = 0.1 + 0.2·0.2/0.8 = 0.15
    assert stats.crossing([0.1, 0.3], [-0.2, 0.6]) == pytest.approx(0.15, rel=1e-15)
    # None and NaN are skipped: from (0, -1) to (3, 1), x* = 0 + 3·1/2 = 1.5
    assert stats.crossing([0, 1, 2, 3], [-1.0, None, math.nan, 1.0]) == 1.5
    # only the first upward crossing counts
    assert stats.crossing([0, 1, 2, 3], [-1.0, 1.0, -1.0, 1.0]) == 0.5


def test_crossing_bounds_and_brackets():
    x, status, reason = stats.crossing_info([0, 1, 2], [-math.inf, 1.0, 2.0])
    assert (x, status) == (1.0, "upper_bound") and "J_D* <= 1" in reason
    x, status, reason = stats.crossing_info([0, 1, 2], [1.0, 2.0, 3.0])
    assert (x, status) == (None, "not_bracketed") and "below" in reason
    x, status, reason = stats.crossing_info([0, 1, 2], [-3.0, -2.0, -1.0])
    assert (x, status) == (None, "not_bracketed") and "above" in reason
    assert stats.crossing_info([0, 1], [None, None])[:2] == (None, "not_bracketed")
    assert stats.crossing([0, 1], [None, None]) is None


def test_extrapolation_two_points_closed_form():
    # two points: the line through both (dof 0, χ² 0); with x_i = 1/N_i and equal errors σ,
    # var(v∞) = σ² (x1² + x2²)/(x1 − x2)²
    fit = stats.extrapolate_finite_size([10, 20], [0.3, 0.2], [0.01, 0.01])
    assert fit.value == pytest.approx(0.1, rel=1e-12)  # 0.3 = v∞ + a/10, 0.2 = v∞ + a/20
    assert fit.slope == pytest.approx(2.0, rel=1e-12)
    assert fit.error == pytest.approx(0.01 * math.sqrt(0.1 ** 2 + 0.05 ** 2) / 0.05, rel=1e-12)
    assert fit.dof == 0 and fit.points == 2 and fit.fit_ok and fit.reason is None
    assert fit.chi2 == pytest.approx(0.0, abs=1e-20) and fit.power == 1.0


def test_extrapolation_scales_the_error_by_chi2_per_dof():
    # x = 1/N = 0.625, 0.375, 0.125 (x̄ = 0.375, Sxx = 0.125), unit errors, y = 3, 0, 3:
    # slope 0, v∞ = 2, residuals 1, -2, 1 → χ² = 6, dof 1;
    # var(v∞) = (1/3 + x̄²/Sxx)·χ²/dof = (1/3 + 1.125)·6 = 35/4
    fit = stats.extrapolate_finite_size([1.6, 8 / 3, 8.0], [3.0, 0.0, 3.0], [1.0] * 3)
    assert fit.value == pytest.approx(2.0, rel=1e-12)
    assert fit.slope == pytest.approx(0.0, abs=1e-12)
    assert fit.chi2 == pytest.approx(6.0, rel=1e-12) and fit.dof == 1
    assert fit.error == pytest.approx(math.sqrt(35 / 4), rel=1e-12)
    # y = 1, 0, 1: χ² = 2/3 < dof, no scaling: var(v∞) = 1/3 + 1.125 = 35/24
    fit = stats.extrapolate_finite_size([1.6, 8 / 3, 8.0], [1.0, 0.0, 1.0], [1.0] * 3)
    assert fit.value == pytest.approx(2 / 3, rel=1e-12)
    assert fit.chi2 == pytest.approx(2 / 3, rel=1e-12)
    assert fit.error == pytest.approx(math.sqrt(35 / 24), rel=1e-12)


def test_extrapolation_in_inverse_square_root():
    # v = 1 + 3/√N at N = 4, 16, 64 (x = 0.5, 0.25, 0.125): exact line
    ns = [4, 16, 64]
    fit = stats.extrapolate_finite_size(ns, [1 + 3 / math.sqrt(n) for n in ns], [0.1] * 3,
                                        power=0.5)
    assert fit.value == pytest.approx(1.0, rel=1e-12)
    assert fit.slope == pytest.approx(3.0, rel=1e-12)
    assert fit.power == 0.5 and fit.fit_ok
    # the same data read as 1/N is not a line: χ² > 0
    assert stats.extrapolate_finite_size(ns, [1 + 3 / math.sqrt(n) for n in ns],
                                         [0.1] * 3).chi2 > 1.0


def test_extrapolation_degenerate_inputs_are_flagged():
    fit = stats.extrapolate_finite_size([10, 20, 40], [0.3, 0.2, 0.15], [None, 0.0, 0.01])
    # unweighted: still the exact line v = 0.1 + 2/N, but flagged, no χ²
    assert fit.value == pytest.approx(0.1, rel=1e-12) and fit.chi2 is None
    assert not fit.fit_ok and "unweighted" in fit.reason and "N = 10, 20" in fit.reason
    one = stats.extrapolate_finite_size([10], [0.2], [0.01])
    assert one.value is None and not one.fit_ok and "fewer than 2" in one.reason
    same = stats.extrapolate_finite_size([12, 12], [0.1, 0.2], [0.01, 0.01])
    assert same.value is None and "one N" in same.reason
    skip = stats.extrapolate_finite_size([10, 20, 30], [0.3, None, math.inf], [0.01] * 3)
    assert skip.points == 1 and skip.value is None
    for bad in (0, -1, math.nan, True, "1"):
        with pytest.raises(InputError, match="power"):
            stats.extrapolate_finite_size([10, 20], [0.3, 0.2], [0.01, 0.01], power=bad)


def test_extrapolate_threshold_wraps_extrapolate_finite_size():
    """extrapolate_threshold = error fill-in + extrapolate_finite_size(power 0.5 or 1) + a dict;
    its slope_err is the fit's slope_error: √([(AᵀA)⁻¹]₁₁ · max(1, χ²/dof))."""
    ns, y = [50, 100, 200, 400], [0.95, 0.9, 0.8, 0.78]
    errs = [0.02, None, 0.0, 0.01]  # None and 0 -> the smallest usable error, 0.01
    for form, power in (("sqrt", 0.5), ("linear", 1.0)):
        ex = stats.extrapolate_threshold(ns, y, errs, form=form)
        fit = stats.extrapolate_finite_size(ns, y, [0.02, 0.01, 0.01, 0.01], power=power)
        assert fit.fit_ok and fit.slope_error > 0
        assert (ex["j50_inf"], ex["j50_inf_err"], ex["slope"], ex["slope_err"], ex["chi2"],
                ex["dof"]) == (fit.value, fit.error, fit.slope, fit.slope_error, fit.chi2,
                               fit.dof)
        # the normal equations, by hand
        x = np.array(ns, float) ** -power
        X = np.column_stack([np.ones(4), x])
        W = 1 / np.array([0.02, 0.01, 0.01, 0.01]) ** 2
        cov = np.linalg.inv(X.T @ (W[:, None] * X))
        beta = cov @ (X.T @ (W * np.array(y)))
        chi2 = float(np.sum(W * (np.array(y) - X @ beta) ** 2))
        cov *= max(1.0, chi2 / 2)
        assert ex["j50_inf"] == pytest.approx(beta[0], rel=1e-10)
        assert ex["slope"] == pytest.approx(beta[1], rel=1e-10)
        assert ex["slope_err"] == pytest.approx(np.sqrt(cov[1, 1]), rel=1e-10)
        assert ex["j50_inf_err"] == pytest.approx(np.sqrt(cov[0, 0]), rel=1e-10)
    assert stats.extrapolate_threshold([100, 100], [0.5, 0.6], [0.01, 0.01])["j50_inf"] is None


def test_crossings_share_one_interpolation():
    assert stats.crossing_info([0, 1], [-1.0, 3.0])[0] == stats._linear_crossing(0, 1, -1.0, 3.0)
    j, _, _ = stats._interpolated_crossing(np.array([0.0, 1.0]), np.array([0.2, 0.6]), 0.5)
    assert j == stats._linear_crossing(0.0, 1.0, 0.2, 0.6, 0.5) == pytest.approx(0.75)


def test_usable_error():
    assert stats.usable_error(0.01, 0.2)
    assert not stats.usable_error(0.0, 0.2)
    assert not stats.usable_error(1e-10, 0.2)  # below 1e-9·max(1, |v|)
    assert not stats.usable_error(1e-7, 1e3)  # relative to |v| when |v| > 1
    assert not stats.usable_error(None, 0.2)
    assert not stats.usable_error(True, 0.2)
    assert not stats.usable_error(math.nan, 0.2)
    assert not stats.usable_error(math.inf, 0.2)
