"""Tests of fplandscape.attractors.diagnose.

Expected values are derived here: small matrices whose statistics are worked out by hand in the
comments, the sampling error of the reciprocity estimate, fixed points counted from scratch over
all states, and the theory called at parameters computed in the test.
"""
import json
import math
from types import SimpleNamespace

import numpy as np
import pytest
from scipy.linalg import hadamard
from scipy.stats import norm

from fplandscape import model, theory
from fplandscape.attractors.binary import binary_census
from fplandscape.attractors.diagnose import Diagnosis, diagnose
from fplandscape.attractors.results import Attractor, Census
from fplandscape.attractors.systems import SignNetwork
from fplandscape.errors import InputError
from fplandscape.sim import count_fixed_points_bruteforce


def scratch_count(W):
    """Strict fixed points of sign(W s) over all 2^N states (NumPy, from scratch)."""
    n = W.shape[0]
    codes = np.arange(2 ** n)
    S = np.where((codes[:, None] >> np.arange(n)) & 1, 1.0, -1.0)
    return int(np.sum(np.all(S * (S @ W.T) > 0, axis=1)))


# --------------------------------------------------------------------------------------------
# symmetry and scale


@pytest.mark.parametrize("eta,seed", [(-0.6, 0), (0.0, 1), (0.4, 2), (0.9, 3)])
def test_eta_estimate_within_sampling_error(eta, seed):
    n = 200
    W = model.gaussian_couplings(n, 0.0, eta=eta, seed=seed)
    d = diagnose(W)
    se = (1 - eta ** 2) / math.sqrt(n * (n - 1) / 2)
    assert abs(d.eta_hat - eta) < 4 * se
    assert d.eta_se == pytest.approx((1 - d.eta_hat ** 2) / math.sqrt(n * (n - 1) / 2))
    # off-diagonal variance 1/N: N var ≈ 1 (sampling error ≈ √(2(1+η²)/(N(N−1))) < 0.011)
    assert abs(d.scaled_variance - 1.0) < 0.06
    assert d.count is None and d.log_count is None  # N > exact_max_n
    # ‖A‖/‖S‖ from the definition, and ≈ √((1−η)/(1+η)) for the ensemble
    off = ~np.eye(n, dtype=bool)
    S, A = (W + W.T) / 2, (W - W.T) / 2
    assert d.antisymmetry_ratio == pytest.approx(
        np.linalg.norm(A[off]) / np.linalg.norm(S[off]), rel=1e-12)
    assert d.antisymmetry_ratio == pytest.approx(math.sqrt((1 - eta) / (1 + eta)), abs=0.05)


def test_hand_computed_3x3():
    # pairs (W01, W10) = (1, 2), (W02, W20) = (2, 4), (W12, W21) = (3, 5):
    # x = (1, 2, 3), y = (2, 4, 5); dx = (−1, 0, 1), dy = (−5/3, 1/3, 4/3);
    # Σ dx dy = 3, Σ dx² = 2, Σ dy² = 14/3 → η̂ = 3/√(28/3) = √(27/28).
    # off-diagonal entries 1, 2, 2, 3, 4, 5: mean 17/6, var 59/6 − (17/6)² = 65/36,
    # N var = 65/12. S off-diagonal 1.5, 3, 4 (twice each): ‖S‖² = 54.5;
    # A off-diagonal ∓0.5, ∓1, ∓1: ‖A‖² = 4.5; ratio √(4.5/54.5) = 3/√109.
    W = np.array([[0.5, 1.0, 2.0], [2.0, -1.0, 3.0], [4.0, 5.0, 2.0]])
    d = diagnose(W)
    assert d.n == 3
    assert d.eta_hat == pytest.approx(math.sqrt(27 / 28), rel=1e-14)
    assert d.offdiag_mean == pytest.approx(17 / 6, rel=1e-14)
    assert d.offdiag_std == pytest.approx(math.sqrt(65 / 36), rel=1e-14)
    assert d.scaled_variance == pytest.approx(65 / 12, rel=1e-14)
    assert d.antisymmetry_ratio == pytest.approx(3 / math.sqrt(109), rel=1e-14)
    # diagonal 0.5, −1, 2: mean 0.5, var (0 + 2.25 + 2.25)/3 = 1.5
    assert d.diag_mean == pytest.approx(0.5) and d.diag_std == pytest.approx(math.sqrt(1.5))
    assert (d.diag_min, d.diag_max) == (-1.0, 2.0)
    assert not d.diagonal_constant
    assert any("diagonal" in note for note in d.notes)
    # theory at the mean diagonal: J_D_eff = 0.5 / (√(65/36) · √3)
    assert d.jd_eff == pytest.approx(0.5 / (math.sqrt(65 / 36) * math.sqrt(3)), rel=1e-13)


def test_symmetric_and_antisymmetric():
    rng = np.random.default_rng(0)
    M = rng.standard_normal((30, 30))
    d = diagnose(M + M.T, exact_max_n=0)
    assert d.eta_hat == pytest.approx(1.0, abs=1e-12) and d.antisymmetry_ratio == 0.0
    A = M - M.T  # antisymmetric: S = 0 off the diagonal
    d = diagnose(A, exact_max_n=0)
    assert d.eta_hat == pytest.approx(-1.0, abs=1e-12) and d.antisymmetry_ratio == math.inf
    assert -1.0 <= d.eta_theory <= 1.0  # clipped before the theory
    assert np.isfinite(d.log_expected_count) or d.log_expected_count == -math.inf


# --------------------------------------------------------------------------------------------
# exact count of the sign version and the theory beside it


@pytest.mark.parametrize("n,jd,eta,seed", [(10, 0.0, 0.0, 0), (12, 0.5, 0.3, 1),
                                            (13, -0.3, -0.4, 2), (14, 1.0, 0.7, 3)])
def test_exact_count_equals_bruteforce(n, jd, eta, seed):
    W = model.gaussian_couplings(n, jd, eta=eta, seed=seed)
    d = diagnose(W)
    assert d.count == count_fixed_points_bruteforce(W) == scratch_count(W)
    assert d.log_count == (math.log(d.count) if d.count else -math.inf)
    assert d.diagonal_constant and d.diag_std == 0.0 and d.diag_mean == jd


@pytest.mark.parametrize("scale", [1.0, 3.7, 0.01])
def test_theory_at_hand_computed_parameters(scale):
    n, jd, eta = 12, 0.4, 0.5
    W = scale * model.gaussian_couplings(n, jd, eta=eta, seed=5)
    d = diagnose(W)
    iu = np.triu_indices(n, 1)
    eta_hat = np.corrcoef(W[iu], W.T[iu])[0, 1]
    sigma = np.std(W[~np.eye(n, dtype=bool)])
    jd_eff = scale * jd / (sigma * math.sqrt(n))
    assert d.eta_hat == pytest.approx(eta_hat, rel=1e-12)
    assert d.jd_eff == pytest.approx(jd_eff, rel=1e-12)
    assert d.log_expected_count == pytest.approx(theory.log_expected_count(n, jd_eff, eta_hat),
                                                 rel=1e-10)
    assert d.expected_count == pytest.approx(theory.expected_count(n, jd_eff, eta_hat), rel=1e-10)
    # the predicate is scale invariant: the count does not depend on the scale
    assert d.count == scratch_count(W / scale)


def test_theory_closed_form_uncorrelated():
    # pairs x = (W01, W02, W12) = (1, 0, −1), y = (W10, W20, W21) = (1, −2, 1): ȳ = 0,
    # Σ (x − x̄)(y − ȳ) = 1·1 + 0 − 1·1 = 0 → η̂ = 0 exactly. Off-diagonal entries 1, 0, −1, 1,
    # −2, 1: mean 0, σ² = 8/6 = 4/3, σ√N = 2. Diagonal 0.5 → J_D_eff = 0.25, and (E1):
    # ln E = 3 ln 2 + 3 ln Φ(0.25/√(2/3)).
    W = np.array([[0.5, 1.0, 0.0], [1.0, 0.5, -1.0], [-2.0, 1.0, 0.5]])
    d = diagnose(W)
    assert d.eta_hat == pytest.approx(0.0, abs=1e-15)
    assert d.jd_eff == pytest.approx(0.25, rel=1e-14)
    want = 3 * math.log(2) + 3 * math.log(norm.cdf(0.25 / math.sqrt(2 / 3)))
    assert d.log_expected_count == pytest.approx(want, rel=1e-12)
    assert d.expected_count == pytest.approx(math.exp(want), rel=1e-12)
    assert d.count == scratch_count(W)


def test_exact_max_n_and_workers():
    W = model.gaussian_couplings(12, 0.3, seed=7)
    d = diagnose(W, exact_max_n=11)
    assert d.count is None and d.log_count is None and np.isfinite(d.expected_count)
    d2 = diagnose(W, exact_max_n=12, workers=2)
    assert d2.count == scratch_count(W)


def test_small_n_edge_cases():
    # N = 1: the only field is W_11 s: 2 fixed points if W_11 > 0, none otherwise (0: a tie)
    for w, count in ((2.0, 2), (-1.0, 0), (0.0, 0)):
        d = diagnose([[w]])
        assert math.isnan(d.eta_hat) and math.isnan(d.offdiag_std)
        assert d.count == count and d.expected_count == pytest.approx(count)
        assert d.log_count == (math.log(2) if count else -math.inf)
    # N = 2: one pair, η̂ undefined; W = [[.5, 1], [−1, .5]]: h = (.5 s1 + s2, −s1 + .5 s2);
    # s1 h1 = .5 + s1 s2 and s2 h2 = .5 − s1 s2 cannot both be > 0 → no fixed point
    d = diagnose([[0.5, 1.0], [-1.0, 0.5]])
    assert math.isnan(d.eta_hat) and d.count == 0 and math.isnan(d.expected_count)
    assert d.antisymmetry_ratio == math.inf  # S off-diagonal = 0
    # constant off-diagonal: σ = 0, no rescaled theory
    d = diagnose(np.ones((4, 4)))
    assert math.isnan(d.jd_eff) and math.isnan(d.expected_count) and d.count == 2


# --------------------------------------------------------------------------------------------
# attractor geometry


def test_orthogonality_scores():
    H = hadamard(16).astype(float)
    d = diagnose(np.eye(16), H[[1, 2, 5, 9]], exact_max_n=0)
    np.testing.assert_allclose(d.gram, np.eye(4), atol=1e-15)
    assert d.orthogonality == pytest.approx(0.0, abs=1e-15) and d.n_attractors == 4
    xi = H[3]
    d = diagnose(np.eye(16), np.stack([xi, xi]), exact_max_n=0)
    assert d.orthogonality == pytest.approx(1.0)
    d = diagnose(np.eye(16), np.stack([xi, -xi]), exact_max_n=0)
    assert d.orthogonality == pytest.approx(1.0) and d.gram[0, 1] == pytest.approx(-1.0)
    # one attractor (or none): no pair
    assert math.isnan(diagnose(np.eye(16), xi, exact_max_n=0).orthogonality)
    assert math.isnan(diagnose(np.eye(16), np.zeros((0, 16)), exact_max_n=0).orthogonality)
    # an object with .states (a FixedPoints-like result)
    d = diagnose(np.eye(16), SimpleNamespace(states=H[[1, 2]]), exact_max_n=0)
    assert d.attractor_source == "states" and d.orthogonality == pytest.approx(0.0, abs=1e-15)


def _att(kind, states):
    states = np.asarray(states, dtype=float)
    return Attractor(kind=kind, period=len(states), states=states, basin=0.5, basin_se=0.0,
                     lyapunov=np.array([-np.inf]))


def test_census_uses_state_or_orbit_mean():
    # fixed point (1, 1, −1, −1); 2-cycle (1, 1, 1, −1) ↔ (1, 1, −1, −1), orbit mean
    # (1, 1, 0, −1): cos = (1 + 1 + 0 + 1)/(2 √3) = √3/2
    census = Census([_att("fixed_point", [[1, 1, -1, -1]]),
                     _att("periodic", [[1, 1, 1, -1], [1, 1, -1, -1]])], n_starts=16)
    d = diagnose(np.eye(4), census)
    assert d.gram[0, 1] == pytest.approx(math.sqrt(3) / 2, rel=1e-14)
    assert d.orthogonality == pytest.approx(math.sqrt(3) / 2, rel=1e-14)
    assert d.attractor_source.startswith("census")
    # a cycle (s, −s) has orbit mean 0: NaN cosines, left out of the score
    census.attractors.append(_att("periodic", [[1, -1, 1, -1], [-1, 1, -1, 1]]))
    d = diagnose(np.eye(4), census)
    assert np.all(np.isnan(d.gram[2])) and d.orthogonality == pytest.approx(math.sqrt(3) / 2)


def test_hopfield_census_patterns_orthogonal():
    # Hopfield network with 2 Hadamard patterns, async: ±ξ^1, ±ξ^2 are among its fixed points
    xi = hadamard(16)[[1, 2]].astype(float)
    W = xi.T @ xi / 16
    np.fill_diagonal(W, 0.0)
    census = binary_census(SignNetwork(W, update="async"))
    d = diagnose(W, census)
    assert d.n_attractors == len(census) and d.gram.shape == (len(census),) * 2
    pats = [a.states[0] for a in census.attractors
            if any(np.array_equal(a.states[0], s * p) for p in xi for s in (1, -1))]
    assert len(pats) == 4
    d = diagnose(W, np.array(pats))
    # ±ξ^1, ±ξ^2: two pairs with |cos| = 1 and four orthogonal pairs → score 2/6
    assert d.orthogonality == pytest.approx(1 / 3, abs=1e-15)


# --------------------------------------------------------------------------------------------
# output and bad input


def test_rows_and_dict():
    d = diagnose(model.gaussian_couplings(8, 0.2, eta=0.3, seed=1), hadamard(8)[[1, 2]])
    assert isinstance(d, Diagnosis)
    rows = d.as_rows()
    assert len(rows) == 1 and all(not isinstance(v, (np.ndarray, list)) for v in rows[0].values())
    assert rows[0]["count"] == d.count and rows[0]["eta_hat"] == d.eta_hat
    obj = d.to_dict()
    assert obj["gram"] == d.gram.tolist() and "version" in obj
    json.dumps(obj)  # JSON-able (NaN allowed)


@pytest.mark.parametrize("bad", [np.ones((2, 3)), np.ones(4), np.ones((2, 2, 2)),
                                 [[1.0, np.nan], [0.0, 1.0]], [[np.inf]], "abc",
                                 [["a", "b"], ["c", "d"]], np.zeros((0, 0)),
                                 np.array([[1j, 0], [0, 1]])])
def test_bad_matrix(bad):
    with pytest.raises(InputError):
        diagnose(bad)


def test_bad_arguments():
    W = np.eye(4)
    for bad in (np.ones((2, 3)), np.ones(5), [[np.nan] * 4], "x", SimpleNamespace(states="x")):
        with pytest.raises(InputError):
            diagnose(W, bad)
    for bad in (-1, 1.5, True, None):
        with pytest.raises(InputError):
            diagnose(W, exact_max_n=bad)
    for bad in (0, -2, 1.5):
        with pytest.raises(InputError):
            diagnose(W, workers=bad)
