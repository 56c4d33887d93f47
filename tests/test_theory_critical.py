"""Critical self-couplings (docs/critical.md): each root must have the property its criterion names,
checked on an independent evaluation (a dense grid, finite differences of the curve) on both
sides of the reported value."""
import numpy as np
import pytest

from fplandscape.errors import InputError
from fplandscape.theory import critical_self_coupling, local_entropy, pair_entropy

MARGIN = 0.01  # distance from the root at which the property must be clearly on/off


def test_gap_threshold():
    res = critical_self_coupling("gap")
    assert res.converged and res.tolerance <= 1e-6
    q = np.linspace(0.0, 1.0, 20001)
    # at the threshold the minimum of S2 over [0, 1] touches zero (dense independent grid)
    assert abs(pair_entropy(res.jd, q).min()) < 1e-6
    assert pair_entropy(res.jd - MARGIN, q).min() < -1e-4  # gap: no pairs at some overlaps
    assert pair_entropy(res.jd + MARGIN, q).min() > 1e-4
    # evidence: the S2(q) curve at the threshold
    ev = res.evidence
    assert len(ev) > 100 and {"q", "pair_entropy"} <= set(ev[0])


D_MID = np.geomspace(3e-3, 0.3, 30)


def _robust_curve(jd):
    c = local_entropy(jd, "franz-parisi", D_MID, kappa=jd)
    assert c.converged.all()
    return c.local_entropy


@pytest.fixture(scope="module")
def thresholds():
    """Each expensive threshold computed once for the module (tolerance 2e-3 << MARGIN), from
    brackets narrower than the defaults (fewer solves; the sign change is still verified at
    both ends, and each root's property is checked independently below)."""
    brackets = {"energetic": (0.09, 0.125), "entropic": (0.115, 0.15)}
    return {c: critical_self_coupling(c, tol=2e-3, bracket=b, evidence=False)
            for c, b in brackets.items()}


def test_energetic_threshold(thresholds):
    res = thresholds["energetic"]
    assert res.converged and res.bracket[0] <= res.jd <= res.bracket[1]
    below, above = _robust_curve(res.jd - MARGIN), _robust_curve(res.jd + MARGIN)
    assert below.min() < 0  # a negative interval at intermediate d ...
    assert above.min() > 0  # ... which is gone above J_D^c


def test_entropic_threshold(thresholds):
    res = thresholds["entropic"]
    assert res.converged
    below, above = _robust_curve(res.jd - MARGIN), _robust_curve(res.jd + MARGIN)
    # monotonicity judged from the values themselves, not from the solver's slope
    assert np.any(np.diff(below) < 0)
    assert np.all(np.diff(above) > 0)


def test_threshold_ordering(thresholds):
    # the overlap gap closes before the robust clusters connect to the bulk, which happens
    # before the robust-reference curve becomes monotone (all separated by >> tolerances)
    gap = critical_self_coupling("gap", evidence=False).jd
    assert gap + 0.01 < thresholds["energetic"].jd < thresholds["entropic"].jd - 0.01


@pytest.mark.slow
def test_large_deviation_threshold():
    res = critical_self_coupling("ld", tol=2e-3, evidence=True)
    assert res.converged
    d = np.geomspace(0.02, 0.16, 6)
    below = local_entropy(res.jd - MARGIN, "large-deviation", d)
    above = local_entropy(res.jd + MARGIN, "large-deviation", d)
    assert below.converged.sum() >= 3 and above.converged.sum() >= 3
    assert below.local_entropy[below.converged].min() < 0
    assert above.local_entropy[above.converged].min() > 0
    # evidence rows carry the tilt and Sigma_ext = 0 at the converged points
    conv = [r for r in res.evidence if r["converged"]]
    assert conv and all(abs(r["sigma_ext"]) < 1e-5 for r in conv)


def test_bad_criterion():
    with pytest.raises(InputError, match="criterion"):
        critical_self_coupling("bogus")
    with pytest.raises(InputError, match="tolerance"):
        critical_self_coupling("gap", tol=-1.0)
