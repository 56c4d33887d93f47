"""Theory against simulation (fplandscape.validate): counts vs (E1), pairs vs (E4), the finite-N
critical estimators and their extrapolation, and the ``validate`` commands."""
import math

import numpy as np
import pytest

from fplandscape import theory
from fplandscape.errors import InputError
from fplandscape.validate.counts import validate_counts
from fplandscape.validate.critical import (crossing, extrapolate_inverse_n,
                                           finite_size_critical, gap_exact_finite_n)
from fplandscape.validate.pairs import validate_pairs
from cli_runner import run, run_json

Z = 4.5  # stated z-score bound for the statistical checks (fixed seeds)


def test_counts_agree_with_exact_mean():
    rows = validate_counts([8, 10], [0.0, 0.5], 300, seed=11, workers=1)
    assert len(rows) == 4
    for r in rows:
        assert abs(r["z_count"]) < Z
        n = r["n"]
        assert r["finite_n_entropy"] == pytest.approx(
            math.log(2) + math.log(0.5 * math.erfc(-r["jd"] / math.sqrt(2 * (n - 1) / n))),
            rel=1e-10)
        assert r["asymptotic_entropy"] == pytest.approx(float(theory.annealed_entropy(r["jd"])))


def test_pairs_agree_with_e4():
    rows = validate_pairs(8, [0.5], 400, seed=2, workers=1)
    assert [r["k"] for r in rows] == list(range(9))
    zs = [abs(r["z"]) for r in rows if r["z"] is not None and math.isfinite(r["z"])]
    assert zs and max(zs) < Z
    assert rows[0]["expected_pairs"] == pytest.approx(math.exp(theory.log_expected_count(8, 0.5)))


def test_crossing_and_extrapolation_helpers():
    assert crossing([0, 1, 2], [-1.0, -0.5, 0.5]) == pytest.approx(1.5)
    assert crossing([0, 1, 2], [-math.inf, 1.0, 2.0]) == 1.0
    assert crossing([0, 1, 2], [1.0, 2.0, 3.0]) is None
    assert crossing([0, 1, 2], [-1.0, None, 1.0]) == pytest.approx(1.0)  # None skipped
    # exact line J(N) = 0.1 + 2/N is recovered
    ns = [10, 20, 40, 80]
    fit = extrapolate_inverse_n(ns, [0.1 + 2 / n for n in ns], [0.01] * 4)
    assert fit.fit_ok and fit.reason is None and fit.points == 4 and fit.dof == 2
    assert fit.value == pytest.approx(0.1, abs=1e-12) and fit.slope == pytest.approx(2.0)
    assert fit.chi2 < 1e-20 and fit.error > 0
    one = extrapolate_inverse_n([10], [0.2], [0.01])
    assert one.value is None and not one.fit_ok and "fewer than 2" in one.reason


def test_exact_finite_n_gap_converges_to_theory():
    """The gap functional on the exact (E4) means tends to J_D^gap as N grows."""
    jgap = theory.critical_self_coupling("gap", evidence=False).jd
    seq = [gap_exact_finite_n(n) for n in (20, 100, 1000, 4000)]
    assert all(a > b for a, b in zip(seq, seq[1:]))  # decreasing towards the limit
    assert seq[-1] == pytest.approx(jgap, abs=2e-3)


# the N → ∞ theory values handed to the finite-N table (its theory column), so that these
# tests do not spend a minute in the energetic solve (tested in test_theory_critical.py)
KNOWN_CRITICAL = {"gap": 0.0427228, "energetic": 0.1054}


def test_finite_size_critical_rows_and_agreement_with_e4():
    rows = finite_size_critical([10], np.linspace(0.0, 0.3, 7), 60, seed=4, bootstrap=30,
                                workers=2, critical=KNOWN_CRITICAL)
    fin = [r for r in rows if r["kind"] == "finite_n"]
    assert {r["estimator"] for r in fin} == {"gap", "energetic"}
    gap = next(r for r in fin if r["estimator"] == "gap")
    # the simulated estimator and its exact finite-N counterpart agree within the bootstrap
    # error (with a floor for the grid resolution 0.05)
    assert gap["jd_star"] is not None
    assert abs(gap["jd_star"] - gap["exact_finite_n"]) < 4 * max(gap["jd_star_err"] or 0, 0.05)
    assert any(r["kind"] == "curve" for r in rows)
    again = finite_size_critical([10], np.linspace(0.0, 0.3, 7), 60, seed=4, bootstrap=30,
                                 workers=1, critical=KNOWN_CRITICAL)
    strip = lambda rr: [{k: v for k, v in r.items() if k != "seconds"} for r in rr]
    assert strip(again) == strip(rows)  # workers do not change the answer
    with pytest.raises(InputError, match="N ≤ 40"):
        finite_size_critical([41], [0, 0.3], 5)
    # N = 40 is allowed, but not at a J_D where a network has ~10^9 fixed points: (E1) gives
    # E[#FP] = 2^40 Φ(√(40/39))^40 = 1.27e9 at N = 40, J_D = 1 (field variance (N−1)/N)
    with pytest.raises(InputError, match=r"N = 40, J_D = 1 a network has E\[#FP\] = 1\.27e\+09"):
        finite_size_critical([40], [0, 1], 5)
    with pytest.raises(InputError, match="samples"):
        finite_size_critical([8], [0, 1], 1)


def test_validate_commands(capsys, monkeypatch):
    import fplandscape.validate.critical as critical_mod

    monkeypatch.setattr(critical_mod, "theory_critical_value", KNOWN_CRITICAL.get)
    obj = run_json(capsys, "validate", "counts", "--n", 8, "--jd", 0.5, "--samples", 50,
                   "--no-progress")
    assert obj["rows"][0]["n"] == 8 and "z_count" in obj["rows"][0]
    obj = run_json(capsys, "validate", "pairs", "--n", 6, "--jd", 0.5, "1.0", "--samples", 20,
                   "--no-progress")
    assert len(obj["rows"]) == 2 * 7
    obj = run_json(capsys, "validate", "critical", "--n", 8, "--jd", "0:0.3:4", "--samples", 10,
                   "--bootstrap", 5, "--no-progress")
    assert {r["criterion"] for r in obj["table"]} == {"gap", "energetic"}
    obj = run_json(capsys, "validate", "accessibility", "--n", 40, "--jd", "0.4:1.2:3",
                   "--runs", 3, "--max-sweeps", 100, "--criteria", "gap", "--no-progress")
    assert any(r["source"] == "theory: gap" for r in obj["table"])
    rc, _, err = run(capsys, "validate", "accessibility", "--criteria", "nope")
    assert rc == 2 and "unknown criterion" in err
    rc, _, err = run(capsys, "validate", "counts", "--n", 8, "--jd", 0.5, "--samples", 0)
    assert rc == 2 and "--samples" in err
