"""Local observables by exact flip checks (fplandscape.sim.local, compiled sim._local).

Reference written here: the brute-force fixed-point set (all 2^N states, fields by a plain
Python double loop in index order, strict predicate), then neighbours by set membership of
every state at distance 1 and 2 — for every state, not only fixed points."""
import itertools

import numpy as np
import pytest

from fplandscape import model
from fplandscape.errors import InputError
from fplandscape.sim import enumerate_fixed_points
from fplandscape.sim.local import (finish_local_summary, local_stats, merge_local_summaries,
                                   summarize_local)


def ref_stabilities(J, code):
    n = J.shape[0]
    s = [1.0 if (code >> i) & 1 else -1.0 for i in range(n)]
    out = []
    for i in range(n):
        h = 0.0
        for j in range(n):
            h += J[i, j] * s[j]
        out.append(s[i] * h)
    return out


def ref_all(J):
    n = J.shape[0]
    stab = {c: ref_stabilities(J, c) for c in range(2**n)}
    fps = {c for c, d in stab.items() if min(d) > 0}
    return stab, fps


def _matrices():
    rng = np.random.default_rng(77)
    out = []
    for n in (1, 2, 5, 8, 10):
        out.append(model.gaussian_couplings(n, 0.6, seed=rng))
        out.append(rng.integers(-2, 3, size=(n, n)).astype(float))  # exact ties
        J = model.gaussian_couplings(n, 0.0, eta=0.7, seed=rng)
        J[np.diag_indices(n)] = rng.uniform(-0.5, 1.5, size=n)  # heterogeneous diagonal
        out.append(J)
    return out


@pytest.mark.parametrize("J", _matrices(), ids=lambda J: f"n{J.shape[0]}")
def test_local_stats_match_bruteforce_on_every_state(J):
    n = J.shape[0]
    stab, fps = ref_all(J)
    codes = np.arange(2**n, dtype=np.uint64)
    radius = 2 if n >= 2 else 1
    res = local_stats(J, codes, radius=radius)
    for c in range(2**n):
        assert res.margin[c] == min(stab[c])  # same summation order: bit-identical
        assert res.mean_stability[c] == pytest.approx(sum(stab[c]) / n, rel=1e-12, abs=1e-15)
        n1 = sum((c ^ (1 << j)) in fps for j in range(n))
        assert res.neighbors[c, 0] == n1
        if radius == 2:
            n2 = sum((c ^ (1 << j) ^ (1 << k)) in fps
                     for j, k in itertools.combinations(range(n), 2))
            assert res.neighbors[c, 1] == n2


def test_threads_and_radius_do_not_change_results():
    J = model.gaussian_couplings(20, 0.9, seed=np.random.default_rng(5))
    codes = enumerate_fixed_points(J, return_states=True).states
    assert codes.size > 1000
    one = local_stats(J, codes, radius=2, workers=1)
    two = local_stats(J, codes, radius=2, workers=2)
    np.testing.assert_array_equal(one.neighbors, two.neighbors)
    np.testing.assert_array_equal(one.margin, two.margin)
    r1 = local_stats(J, codes, radius=1)
    np.testing.assert_array_equal(r1.neighbors[:, 0], one.neighbors[:, 0])
    assert r1.neighbors.shape == (codes.size, 1)
    assert local_stats(J, codes, radius=0).neighbors.shape == (codes.size, 0)
    assert np.all(one.margin > 0)  # they are fixed points


def _same_summary(a, b):
    for key in ("states", "margin_min", "margin_max", "margin_hist", "neighbor_hist",
                "neighbor_sum"):
        assert a[key] == b[key], key
    assert a["margin_mean"] == pytest.approx(b["margin_mean"], rel=1e-12)
    assert a["mean_stability"] == pytest.approx(b["mean_stability"], rel=1e-12)


def test_streamed_summary_equals_summary_of_the_full_list():
    J = model.gaussian_couplings(18, 0.7, seed=np.random.default_rng(8))
    full = enumerate_fixed_points(J, return_states=True)
    ref = finish_local_summary(summarize_local(local_stats(J, full.states, radius=2)))
    for split, workers in ((1, 1), (4, 1), (6, 2)):
        res = enumerate_fixed_points(J, local_radius=2, split_depth=split, workers=workers)
        assert res.states is None and res.count == full.count
        _same_summary(res.local, ref)
    # with a small sample kept, the summary still covers every fixed point
    res = enumerate_fixed_points(J, local_radius=2, split_depth=4, return_states=True,
                                 max_states=10, seed=1)
    assert res.truncated and res.states.size == 10
    _same_summary(res.local, ref)
    bf = enumerate_fixed_points(J, local_radius=2, method="bruteforce")
    _same_summary(bf.local, ref)
    # each edge of the distance-1 (and distance-2) graph of fixed points is counted twice
    assert ref["neighbor_sum"][0] % 2 == 0 and ref["neighbor_sum"][1] % 2 == 0


def test_merge_is_a_union():
    J = model.gaussian_couplings(14, 0.8, seed=np.random.default_rng(2))
    codes = enumerate_fixed_points(J, return_states=True).states
    a, b = codes[: codes.size // 3], codes[codes.size // 3:]
    merged = finish_local_summary(merge_local_summaries(
        summarize_local(local_stats(J, a, radius=2)), summarize_local(local_stats(J, b, radius=2))))
    _same_summary(merged, finish_local_summary(summarize_local(local_stats(J, codes, radius=2))))
    empty = finish_local_summary(summarize_local(local_stats(J, codes[:0], radius=1)))
    assert empty["states"] == 0 and empty["margin_mean"] is None


def test_bad_input():
    J = np.eye(4)
    with pytest.raises(InputError, match="radius"):
        local_stats(J, [1], radius=3)
    with pytest.raises(InputError, match="bits beyond"):
        local_stats(J, [16])
    with pytest.raises(InputError, match="non-negative"):
        local_stats(J, np.array([-1]))
    with pytest.raises(InputError, match="integers"):
        local_stats(J, np.array([0.5]))
    with pytest.raises(InputError, match="square"):
        local_stats(np.zeros((2, 3)), [0])
    with pytest.raises(InputError, match="radius"):
        enumerate_fixed_points(J, local_radius=-1)
