"""Disorder averages (fplandscape.sim.disorder) against the exact finite-N theory.

Stated bounds: at a fixed seed, the sample mean of the count is within |z| < 4.5 standard errors
of (E1) (or of the modular formula), and the mean ordered pair count at every distance k is
within |z| < 4.5 of (E4) (Bonferroni-style: 4.5σ for N + 1 ≈ 11 simultaneous tests still
leaves a per-run false-alarm probability below 1e-4 under a Gaussian approximation).
"""
import math

import numpy as np
import pytest

from fplandscape import model, theory
from fplandscape.errors import InputError
from fplandscape.sim.disorder import child_seeds, disorder_average, ordered_pairs
from fplandscape.sim.enumerate import enumerate_fixed_points
from fplandscape.sim.stability import stabilities_packed
from fplandscape.validate.counts import compare_with_theory

Z_BOUND = 4.5


def _with_theory(ens, samples, **kw):
    """The disorder average with the theory columns (fplandscape.validate.counts)."""
    return compare_with_theory(disorder_average(ens, samples, **kw), ens)


@pytest.mark.parametrize("jd", [0.0, 0.5])
def test_mean_count_matches_E1(jd):
    res = _with_theory(model.Ensemble(n=10, jd=jd), 2000, seed=12345)
    s = res.summary
    assert s["samples"] == 2000 and len(res.rows) == 2000
    assert s["expected_count"] == pytest.approx(math.exp(theory.log_expected_count(10, jd)))
    assert s["se_count"] > 0
    assert abs(s["z_count"]) < Z_BOUND, s
    counts = np.array([r["count"] for r in res.rows], dtype=float)
    assert s["mean_count"] == pytest.approx(counts.mean())
    assert s["se_count"] == pytest.approx(counts.std(ddof=1) / math.sqrt(counts.size))
    positive = counts[counts > 0]
    assert s["zero_samples"] == int(np.sum(counts == 0))
    assert s["mean_ln_count"] == pytest.approx(np.log(positive).mean())
    assert s["conditional_typical_entropy"] == pytest.approx(np.log(positive).mean() / 10)
    assert s["p_zero"] == s["zero_samples"] / 2000
    # the typical entropy is <ln #>/N over all networks: -inf (None) when one has no FP
    if s["zero_samples"]:
        assert s["typical_entropy"] is None
    else:
        assert s["typical_entropy"] == pytest.approx(np.log(counts).mean() / 10)
    for r in res.rows:
        assert r["ln_count"] is None if r["count"] == 0 else r["ln_count"] == pytest.approx(
            math.log(r["count"]))


def test_modular_mean_matches_formula():
    ens = model.Ensemble(n=5, jd=0.3, layers=2, lam=0.5)
    res = _with_theory(ens, 2000, seed=7)
    s = res.summary
    assert s["log_expected_count"] == pytest.approx(
        theory.log_expected_count_modular(5, 0.3, 0.5, 2))
    assert abs(s["z_count"]) < Z_BOUND, s
    assert s["conditional_typical_entropy"] == pytest.approx(s["mean_ln_count"] / 10)


@pytest.mark.parametrize("jd", [0.0, 0.5])
def test_pair_histogram_matches_E4(jd):
    n = 10
    res = _with_theory(model.Ensemble(n=n, jd=jd), 2000, seed=2024, pairs=True)
    s = res.summary
    e4 = theory.expected_pairs(n, jd)
    assert np.allclose(s["expected_pairs"], e4)
    assert len(s["z_pairs"]) == n + 1
    assert s["max_abs_z_pairs"] < Z_BOUND, s["z_pairs"]
    # k = 0 and k = N are the count itself (pairs (σ, σ) and flip pairs (σ, −σ))
    assert s["mean_ordered_pairs"][0] == pytest.approx(s["mean_count"])
    assert s["mean_ordered_pairs"][n] == pytest.approx(s["mean_count"])
    for r in res.rows:
        hist = r["pair_distance_hist"]
        assert len(hist) == n + 1 and hist[0] == 0
        assert sum(hist) == r["count"] * (r["count"] - 1) // 2
        assert hist[n] == r["count"] // 2
    if jd == 0.0:  # no fixed points at distance 1 when J_D ≤ 0: E4 = 0 exactly, z = 0
        assert e4[1] == 0.0 and s["mean_ordered_pairs"][1] == 0.0 and s["z_pairs"][1] == 0.0


def test_ordered_pairs_convention():
    assert ordered_pairs([0, 12, 12, 4], 8).tolist() == [8, 24, 24, 8]


def test_same_seed_identical_and_prefix_stable():
    ens = model.Ensemble(n=12, jd=0.2, eta=0.4, dilution=0.7)
    a = disorder_average(ens, 30, seed=99)
    b = disorder_average(ens, 30, seed=99)
    c = disorder_average(ens, 10, seed=99)
    ca = [r["count"] for r in a.rows]
    assert ca == [r["count"] for r in b.rows]
    assert ca[:10] == [r["count"] for r in c.rows]  # sample i does not depend on the total
    d = disorder_average(ens, 30, seed=100)
    assert ca != [r["count"] for r in d.rows]
    assert a.info["seed"] == 99 and a.info["version"] and a.info["seconds"] >= 0
    assert a.info["eta"] == 0.4 and a.info["dilution"] == 0.7


@pytest.mark.parametrize("ens", [model.Ensemble(n=12, jd=0.3),
                                 model.Ensemble(n=10, jd=0.1, eta=-0.5),
                                 model.Ensemble(n=6, jd=0.2, layers=3, lam=0.4, dilution=0.5)])
def test_counts_equal_direct_enumeration(ens):
    res = disorder_average(ens, 15, seed=3, method="dfs")
    for row, child in zip(res.rows, child_seeds(3, 15)):
        J = ens.sample(child)
        assert row["count"] == enumerate_fixed_points(J, method="bruteforce").count


def test_margins():
    ens = model.Ensemble(n=10, jd=0.5)
    res = disorder_average(ens, 20, seed=5, margins=True)
    for row, child in zip(res.rows, child_seeds(5, 20)):
        J = ens.sample(child)
        r = enumerate_fixed_points(J, return_states=True)
        if r.count == 0:
            assert row["margin_min"] is None
            continue
        kappa = stabilities_packed(J, r.states).min(axis=1)
        assert row["margin_min"] == kappa.min() > 0
        assert row["margin_mean"] == pytest.approx(kappa.mean())


def test_theory_omitted_outside_exact_cases():
    """No exact finite-N mean for η ≠ 0 with dilution, nor for modular chains with η ≠ 0:
    the theory columns are None there (η ≠ 0 alone and dilution alone are covered by
    tests/test_expected_count_ensembles.py)."""
    s = _with_theory(model.Ensemble(n=8, jd=0.2, eta=0.5, dilution=0.5), 20, seed=1).summary
    assert s["expected_count"] is None and s["z_count"] is None
    s = _with_theory(model.Ensemble(n=6, jd=0.2, layers=2, lam=0.4, eta=0.5), 20,
                     seed=1).summary
    assert s["expected_count"] is None
    s = _with_theory(model.Ensemble(n=8, jd=0.2, eta=0.5), 20, seed=1).summary
    assert s["expected_count"] is not None and s["z_count"] is not None


def test_single_sample_has_no_se():
    s = _with_theory(model.Ensemble(n=8, jd=0.2), 1, seed=1).summary
    assert s["se_count"] is None and s["z_count"] is None


def test_engine_returns_moments_only_and_theory_keeps_the_key_order():
    """sim returns counts and moments; validate.counts adds the theory columns (E1)/(E4) and
    the z-scores, in the order the command line prints them."""
    ens = model.Ensemble(n=8, jd=0.3)
    res = disorder_average(ens, 5, seed=2, pairs=True)
    theory_keys = {"log_expected_count", "expected_count", "z_count", "expected_pairs",
                   "z_pairs", "max_abs_z_pairs"}
    assert not theory_keys & set(res.summary)
    full = compare_with_theory(res, ens)
    assert full.rows is res.rows and full.info == res.info
    keys = list(full.summary)
    assert keys.index("z_count") < keys.index("mean_ordered_pairs") < keys.index("expected_pairs")
    assert {k: full.summary[k] for k in res.summary} == res.summary
    with pytest.raises(InputError, match="result"):
        compare_with_theory(res.summary, ens)


@pytest.mark.parametrize("samples", [-1, 0, 2.5, True])
def test_bad_samples(samples):
    with pytest.raises(InputError, match="samples"):
        disorder_average(model.Ensemble(n=8), samples, seed=1)


def test_bad_input():
    with pytest.raises(InputError, match="64"):
        disorder_average(model.Ensemble(n=65), 1, seed=1)
    with pytest.raises(InputError, match="64"):
        disorder_average(model.Ensemble(n=33, layers=2, lam=0.1), 1, seed=1)
    with pytest.raises(InputError, match="eta"):
        disorder_average(model.Ensemble(n=8, eta=1.5), 1, seed=1)
    with pytest.raises(InputError, match="seed"):
        disorder_average(model.Ensemble(n=8), 1, seed=-3)
    with pytest.raises(InputError, match="method"):
        disorder_average(model.Ensemble(n=8), 1, seed=1, method="gray")
    with pytest.raises(InputError, match="Ensemble"):
        disorder_average({"n": 8}, 1, seed=1)
