"""The finite-N typical entropy ⟨ln #FP⟩/N (issue 13 item 4): honest when networks have no FP."""
import math

import numpy as np
import pytest

from fplandscape.errors import InputError
from fplandscape.sim.disorder import typical_summary
from fplandscape.validate.counts import validate_counts


def test_typical_summary_known_answer():
    # ln counts 0, 2, 4 over size 2: typical = mean/2 = 1, SE = std(ddof=1)/sqrt(3)/2
    s = typical_summary([1.0, math.exp(2), math.exp(4)], 2)
    assert s["typical_entropy"] == pytest.approx(1.0)
    assert s["se_typical_entropy"] == pytest.approx(2.0 / math.sqrt(3) / 2)
    assert s["zero_samples"] == 0 and s["p_zero"] == 0.0
    assert s["conditional_typical_entropy"] == pytest.approx(1.0)


def test_typical_summary_with_zero_counts_is_minus_infinity_not_the_rest():
    s = typical_summary([0, 0, math.exp(2), math.exp(4)], 2)
    assert s["typical_entropy"] is None and s["se_typical_entropy"] is None  # ln 0 = -inf
    assert s["zero_samples"] == 2 and s["p_zero"] == 0.5
    assert s["mean_ln_count"] == pytest.approx(3.0)  # raw column kept
    assert s["conditional_typical_entropy"] == pytest.approx(1.5)
    # the conditional mean exceeds the mean entropy ln<#>/N here: why it is not "typical"
    assert s["conditional_typical_entropy"] > math.log(np.mean([0, 0, math.exp(2), math.exp(4)])) / 2
    with pytest.raises(InputError):
        typical_summary([], 3)
    with pytest.raises(InputError):
        typical_summary([1, -1], 3)


def test_typical_entropy_never_exceeds_mean_entropy_on_enumeration():
    # Jensen: <ln #>/N <= (1/N) ln <#>. Fixed seed; the old estimator (mean of ln # over the
    # networks with # > 0) broke it at J_D <= 0 (e.g. 0.098 vs 0.0125 at N = 10, J_D = 0)
    rows = validate_counts([8, 10], [-0.25, 0.0, 0.5, 1.0], 30, seed=0, workers=1)
    defined = broken_before = 0
    for r in rows:
        assert r["p_zero"] == r["zero_samples"] / r["samples"]
        if r["zero_samples"]:
            assert r["typical_entropy"] is None
            if r["conditional_typical_entropy"] is not None and r["mean_entropy"] is not None \
                    and r["conditional_typical_entropy"] > r["mean_entropy"]:
                broken_before += 1
        else:
            defined += 1
            assert r["typical_entropy"] == pytest.approx(r["conditional_typical_entropy"])
            assert r["typical_entropy"] <= r["mean_entropy"] + 1e-12
    assert defined >= 4 and broken_before >= 1
