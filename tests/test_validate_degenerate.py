"""Degenerate finite-size fits of ``validate critical`` (issue 12): zero or tiny errors,
all-equal points, too few points and unbracketed crossings give a defined, flagged answer,
never an exception; plus bad user input to the validate API raises InputError."""
import math

import pytest

from fplandscape.errors import InputError
from fplandscape.validate import critical
from fplandscape.validate.counts import validate_counts
from fplandscape.validate.critical import extrapolate_inverse_n, finite_size_critical
from fplandscape.validate.pairs import validate_pairs
from cli_runner import run_json

NS = [10, 12, 16]


@pytest.mark.parametrize("values,errors,reason", [
    # the case of issue 12: a bootstrap error of 2.8e-17 (every resample on one grid point)
    ([0.1399, 0.2], [0.0424, 2.8476619731297836e-17], "unweighted"),
    ([0.14, 0.2, 0.18], [0.02, 0.0, 0.01], "unweighted"),
    ([0.14, 0.2, 0.18], [0.02, None, 0.01], "unweighted"),
    ([0.14, 0.2, 0.18], [None, None, None], "unweighted"),
    ([0.14, 0.2, 0.18], [0.02, float("nan"), 0.01], "unweighted"),
    ([0.2, 0.2, 0.2], [0.0, 0.0, 0.0], "unweighted"),
    ([0.14, None, None], [0.01, None, None], "fewer than 2"),
    ([None, None, None], [None, None, None], "fewer than 2"),
    ([0.14, float("nan"), float("inf")], [0.01, 0.01, 0.01], "fewer than 2"),
])
def test_degenerate_fits_are_flagged_not_raised(values, errors, reason):
    ns = NS[:len(values)]
    fit = extrapolate_inverse_n(ns, values, errors)
    assert not fit.fit_ok and reason in fit.reason
    assert fit.value is None or math.isfinite(fit.value)
    assert fit.error is None or (math.isfinite(fit.error) and fit.error >= 0)
    if reason == "unweighted":
        assert fit.value is not None and fit.chi2 is None


def test_degenerate_fit_special_cases():
    same_n = extrapolate_inverse_n([12, 12], [0.1, 0.2], [0.01, 0.01])
    assert not same_n.fit_ok and same_n.value is None and "one N" in same_n.reason
    empty = extrapolate_inverse_n([], [], [])
    assert not empty.fit_ok and empty.points == 0
    # all-equal points with proper errors: a good fit, slope 0
    flat = extrapolate_inverse_n(NS, [0.2] * 3, [0.01] * 3)
    assert flat.fit_ok and flat.value == pytest.approx(0.2) and abs(flat.slope) < 1e-12
    assert flat.chi2 == pytest.approx(0.0, abs=1e-20) and flat.error > 0
    # wildly different (but valid) errors: no negative variance, no exception
    wild = extrapolate_inverse_n(NS, [0.1, 0.2, 0.15], [1e-8, 1.0, 1e-3])
    assert wild.fit_ok and math.isfinite(wild.error) and wild.error >= 0
    # unweighted with 3 points: the error comes from the scatter
    scatter = extrapolate_inverse_n(NS, [0.1, 0.2, 0.15], [0.0, 0.0, 0.0])
    assert scatter.error is not None and scatter.error > 0


def test_crossing_status():
    assert critical.crossing_info([0, 1, 2], [-1.0, -0.5, 0.5])[:2] == (pytest.approx(1.5), "interpolated")
    x, status, why = critical.crossing_info([0, 1, 2], [-math.inf, 1.0, 2.0])
    assert (x, status) == (1.0, "upper_bound") and "not interpolated" in why
    x, status, why = critical.crossing_info([0, 1, 2], [1.0, 2.0, 3.0])
    assert x is None and status == "not_bracketed" and "below" in why
    x, status, why = critical.crossing_info([0, 1, 2], [-3.0, -2.0, -1.0])
    assert x is None and status == "not_bracketed" and "above" in why
    assert critical.crossing_info([0, 1], [None, None])[:2] == (None, "not_bracketed")


def test_cli_degenerate_extrapolation_is_flagged(capsys, monkeypatch):
    """The command of issue 12 (exit 2, "math domain error" before): now exit 0, with the
    extrapolation flagged."""
    known = {"gap": 0.0427, "energetic": 0.105}  # skip the slow theory solves
    monkeypatch.setattr(critical, "theory_critical_value", known.get)
    obj = run_json(capsys, "validate", "critical", "--n", 10, 12, "--jd", "0:0.3:4",
                   "--samples", 20, "--bootstrap", 20, "--seed", 1, "--workers", 1,
                   "--no-progress")
    table = {r["criterion"]: r for r in obj["table"]}
    assert table["gap"]["fit_ok"] is False and "unweighted" in table["gap"]["fit_reason"]
    assert table["energetic"]["fit_ok"] is False and table["energetic"]["extrapolated"] is None
    fin = {(r["estimator"], r["n"]): r for r in obj["rows"] if r["kind"] == "finite_n"}
    assert fin[("gap", 10)]["crossing"] == "interpolated" and fin[("gap", 10)]["estimate_ok"]
    assert fin[("gap", 12)]["crossing"] == "upper_bound" and not fin[("gap", 12)]["estimate_ok"]
    assert fin[("energetic", 12)]["crossing"] == "not_bracketed"
    assert fin[("energetic", 12)]["reason"]
    ext = [r for r in obj["rows"] if r["kind"] == "extrapolated"]
    assert all(r["fit_ok"] is False and r["reason"] for r in ext)


BAD_VALIDATE = [
    (lambda: validate_counts([8.5], [0.1], 5), "n_values"),
    (lambda: validate_counts(["a"], [0.1], 5), "n_values"),
    (lambda: validate_counts([8], ["x"], 5), "jd_values"),
    (lambda: validate_counts([8], [0.1], 5.0), "samples"),
    (lambda: validate_counts([8], [0.1], 5, checkpoint=3), "checkpoint"),
    (lambda: validate_pairs(8, ["x"], 5), "jd_values"),
    (lambda: validate_pairs(8.5, [0.1], 5), "n"),
    (lambda: finite_size_critical([8], [0, "x"], 5), "jd_values"),
    (lambda: finite_size_critical([8.5], [0, 0.3], 5), "n_values"),
    (lambda: finite_size_critical([1], [0, 0.3], 5), "N ≤ 40"),
    (lambda: finite_size_critical([8], [0, 0.3], 5, bootstrap=2.5), "bootstrap"),
    (lambda: finite_size_critical([8], [0.3, 0.3], 5), "two different J_D"),
    (lambda: critical.gap_exact_finite_n(1), "N"),
]


@pytest.mark.parametrize("call,message", BAD_VALIDATE, ids=[str(i) for i in range(len(BAD_VALIDATE))])
def test_validate_bad_input_raises_input_error(call, message, tmp_path, monkeypatch):
    monkeypatch.setenv("FPLANDSCAPE_CHECKPOINTS", str(tmp_path))
    with pytest.raises(InputError, match=message):
        call()
