"""Tests of the Hamming geometry of fixed-point sets (fplandscape.sim.clusters, kernel sim._clusters).

References are written here from scratch: Hamming distances by Python ``bin(x ^ y).count("1")``
(small sets) or a NumPy SWAR popcount on the full M×M matrix (larger sets), neighbour counts and
local entropies from that matrix, clusters by breadth-first search in Python. Packed states
follow fplandscape.model: bit i set iff s_i = +1.
"""
import importlib
from collections import deque
from math import comb, log

import numpy as np
import pytest

from fplandscape import model
from fplandscape.errors import InputError
from fplandscape.sim import enumerate_fixed_points

cl = importlib.import_module("fplandscape.sim.clusters")

# --------------------------------------------------------------------------------------------
# independent references


def swar_popcount(x):
    """Popcount of a uint64 array by the classic SWAR bit trick (no np.bitwise_count)."""
    x = x.astype(np.uint64)
    m1, m2, m4 = np.uint64(0x5555555555555555), np.uint64(0x3333333333333333), np.uint64(0x0F0F0F0F0F0F0F0F)
    x = x - ((x >> np.uint64(1)) & m1)
    x = (x & m2) + ((x >> np.uint64(2)) & m2)
    x = (x + (x >> np.uint64(4))) & m4
    return ((x * np.uint64(0x0101010101010101)) >> np.uint64(56)).astype(np.int64)


def ref_dist_matrix(codes):
    c = np.asarray(codes, dtype=np.uint64)
    return swar_popcount(c[:, None] ^ c[None, :])


def ref_pair_hist_py(codes, n):
    c = [int(x) for x in codes]
    h = [0] * (n + 1)
    for a in range(len(c)):
        for b in range(a + 1, len(c)):
            h[bin(c[a] ^ c[b]).count("1")] += 1
    return np.array(h, dtype=np.int64)


def ref_pair_hist_np(codes, n):
    D = ref_dist_matrix(codes)
    iu = np.triu_indices(D.shape[0], 1)
    return np.bincount(D[iu], minlength=n + 1).astype(np.int64)


def ref_neighbor_counts(codes, r):
    D = ref_dist_matrix(codes)
    return np.stack([(D == d).sum(axis=1) for d in range(1, r + 1)], axis=1).astype(np.int64)


def ref_components(codes, r):
    """List of sets of indices (BFS on the graph 1 ≤ d ≤ r)."""
    D = ref_dist_matrix(codes)
    M = len(codes)
    seen = [False] * M
    comps = []
    for s in range(M):
        if seen[s]:
            continue
        seen[s] = True
        comp, queue = {s}, deque([s])
        while queue:
            u = queue.popleft()
            for v in np.flatnonzero((D[u] >= 1) & (D[u] <= r)):
                v = int(v)
                if not seen[v]:
                    seen[v] = True
                    comp.add(v)
                    queue.append(v)
        comps.append(comp)
    return comps


def random_codes(rng, n, M):
    """M distinct random codes of n bits (shuffled, not sorted)."""
    if n <= 20:
        M = min(M, 2**n)
        c = rng.choice(2**n, size=M, replace=False).astype(np.uint64)
    else:
        hi = rng.integers(0, 2**32, size=2 * M, dtype=np.uint64)
        lo = rng.integers(0, 2**32, size=2 * M, dtype=np.uint64)
        c = (hi << np.uint64(32)) | lo
        if n < 64:
            c &= np.uint64((1 << n) - 1)
        c = np.unique(c)[:M]
        rng.shuffle(c)
    return c


def clustered_codes(rng, n, M, centers=4, radius=2):
    """Codes concentrated near a few centres (so there are neighbours and several clusters)."""
    cen = random_codes(rng, n, centers)
    out = set()
    for _ in range(50 * M):  # bounded: the balls may hold fewer than M codes (small n)
        if len(out) >= M:
            break
        x = int(cen[rng.integers(centers)])
        for b in rng.choice(n, size=rng.integers(0, radius + 1), replace=False):
            x ^= 1 << int(b)
        out.add(x)
    c = np.array(sorted(out), dtype=np.uint64)
    rng.shuffle(c)
    return c


def fixed_point_sets():
    rng = np.random.default_rng(1234)
    out = []
    # (J_D = 1.5, N = 16 gives ~2·10^4 FPs: too many for the M×M references)
    for jd, sizes in ((0.5, (8, 12, 16)), (1.5, (8, 12))):
        for n in sizes:
            for _ in range(2):
                J = rng.normal(0.0, 1.0 / np.sqrt(n), size=(n, n))
                np.fill_diagonal(J, jd)
                st = enumerate_fixed_points(J, return_states=True).states
                out.append((n, jd, st))
    return out


FP_SETS = fixed_point_sets()

# --------------------------------------------------------------------------------------------
# 1. pair histogram and overlaps


@pytest.mark.parametrize("n", [5, 17, 33, 64])
def test_pair_hist_random_small_python(n):
    rng = np.random.default_rng(n)
    for M in (0, 1, 2, 3, 50, 200):
        c = random_codes(rng, n, M)
        h = cl.pair_distance_histogram(c, n)
        assert h.dtype == np.int64 and h.shape == (n + 1,)
        np.testing.assert_array_equal(h, ref_pair_hist_py(c, n))
        assert h.sum() == len(c) * (len(c) - 1) // 2
        assert h[0] == 0


@pytest.mark.parametrize("n", [17, 33, 64])
def test_pair_hist_random_large_numpy(n):
    rng = np.random.default_rng(100 + n)
    for M in (2000, 4097):  # > two tiles of 2048, ragged last tile
        c = random_codes(rng, n, M)
        ref = ref_pair_hist_np(c, n)
        for threads in (1, 2, 3):
            h = cl.pair_distance_histogram(c, n, workers=threads)
            np.testing.assert_array_equal(h, ref)
        assert ref.sum() == M * (M - 1) // 2
    c = clustered_codes(rng, n, 1500)
    np.testing.assert_array_equal(cl.pair_distance_histogram(c, n), ref_pair_hist_np(c, n))


def test_pair_hist_threads_identical_on_bigger_set():
    rng = np.random.default_rng(7)
    c = random_codes(rng, 40, 20000)
    h1 = cl.pair_distance_histogram(c, 40, workers=1)
    h2 = cl.pair_distance_histogram(c, 40, workers=2)
    np.testing.assert_array_equal(h1, h2)
    assert h1.sum() == 20000 * 19999 // 2


@pytest.mark.parametrize("n", [1, 4, 10, 14])
def test_pair_hist_full_cube(n):
    c = np.arange(2**n, dtype=np.uint64)
    h = cl.pair_distance_histogram(c, n)
    expect = np.array([0] + [2**n * comb(n, k) // 2 for k in range(1, n + 1)], dtype=np.int64)
    np.testing.assert_array_equal(h, expect)


def test_pair_hist_full_64_bit_codes():
    c = np.array([0, 2**64 - 1, 2**63, 1], dtype=np.uint64)
    h = cl.pair_distance_histogram(c, 64)
    np.testing.assert_array_equal(h, ref_pair_hist_py(c, 64))
    assert h[64] == 1 and h[63] == 2 and h[1] == 2


def test_pair_hist_fixed_points():
    for n, jd, st in FP_SETS:
        ref = ref_pair_hist_py(st, n) if st.size <= 300 else ref_pair_hist_np(st, n)
        np.testing.assert_array_equal(cl.pair_distance_histogram(st, n), ref)


def codes_with_complements(rng, n, M):
    """Random codes plus the complements of some of them (pairs at the top distance d = n)."""
    c = random_codes(rng, n, M)
    full = (1 << n) - 1
    extra = [full ^ int(x) for x in c[: max(1, M // 10)]] if M else []
    c = np.array(sorted(set(int(x) for x in c) | set(extra)), dtype=np.uint64)
    rng.shuffle(c)
    return c


PAIR_KERNELS = [0] + ([1, 2] if cl._clusters.HAVE_AVX512 else [])


@pytest.mark.parametrize("kernel", PAIR_KERNELS)
@pytest.mark.parametrize("n", [1, 5, 17, 31, 32, 33, 64])
def test_pair_kernels_against_reference(kernel, n):
    """Every compiled pair kernel (scalar, AVX-512 64-bit and 32-bit lanes) on its own."""
    if kernel == 2 and n > 32:
        pytest.skip("32-bit lanes need n ≤ 32")
    rng = np.random.default_rng(500 + 7 * n + kernel)
    for M in (0, 1, 2, 3, 64, 257, 3000):
        c = codes_with_complements(rng, n, M)
        ref = ref_pair_hist_py(c, n) if len(c) <= 300 else ref_pair_hist_np(c, n)
        for threads in (1, 2, 3):
            h = cl._clusters.pair_hist(c, threads, cl._clusters.BLOCK, kernel)
            np.testing.assert_array_equal(h[: n + 1], ref)
            assert not h[n + 1:].any()
    if n > 2:  # the top bin alone (complementary pairs only) and a set spanning many tiles
        c = np.array([x for a in range(min(300, 2 ** (n - 1))) for x in (a, ((1 << n) - 1) ^ a)],
                     dtype=np.uint64)
        c = np.unique(c)
        np.testing.assert_array_equal(cl._clusters.pair_hist(c, 2, 256, kernel)[: n + 1],
                                      ref_pair_hist_np(c, n))


@pytest.mark.skipif(not cl._clusters.HAVE_AVX512, reason="no AVX-512 VPOPCNTDQ on this CPU")
def test_avx512_kernels_long_runs_and_threads():
    """Enough pairs per thread for many flushes of the bit-sliced counters, ragged last tile."""
    rng = np.random.default_rng(11)
    for n, kernel in ((32, 2), (32, 1), (40, 1), (64, 1)):
        c = codes_with_complements(rng, n, 9000)
        ref = cl._clusters.pair_hist(c, 1, cl._clusters.BLOCK, 0)
        for threads in (1, 2, 4):
            np.testing.assert_array_equal(cl._clusters.pair_hist(c, threads, cl._clusters.BLOCK, kernel), ref)
    with pytest.raises(ValueError):
        cl._clusters.pair_hist(np.array([1, 2**32], dtype=np.uint64), 1, 2048, 2)


@pytest.mark.parametrize("n", [1, 2, 3, 7, 12, 16, 20])
def test_pair_hist_methods_agree(n):
    """method='pairs' and method='cube' against the references, for any number of threads."""
    rng = np.random.default_rng(600 + n)
    sets = [random_codes(rng, n, M) for M in (0, 1, 2, 5, 64, 700)]
    sets.append(np.arange(2 ** min(n, 11), dtype=np.uint64))
    if n >= 3:
        sets.append(clustered_codes(rng, n, min(500, 2 ** n)))
    for c in sets:
        ref = ref_pair_hist_py(c, n) if len(c) <= 300 else ref_pair_hist_np(c, n)
        for method in ("pairs", "cube", "auto"):
            for threads in (1, 2, 3):
                h = cl.pair_distance_histogram(c, n, workers=threads, method=method)
                assert h.dtype == np.int64 and h.shape == (n + 1,)
                np.testing.assert_array_equal(h, ref)


def test_pair_hist_cube_full_cube_and_fixed_points():
    for n in (1, 4, 10, 15):
        c = np.arange(2**n, dtype=np.uint64)
        expect = np.array([0] + [2**n * comb(n, k) // 2 for k in range(1, n + 1)], dtype=np.int64)
        np.testing.assert_array_equal(cl.pair_distance_histogram(c, n, method="cube"), expect)
    for n, jd, st in FP_SETS:
        np.testing.assert_array_equal(cl.pair_distance_histogram(st, n, method="cube"),
                                      cl.pair_distance_histogram(st, n, method="pairs"))


def test_pair_hist_cube_bigger_set_threads():
    rng = np.random.default_rng(21)
    n = 22
    c = random_codes(rng, n, 30000)
    h1 = cl.pair_distance_histogram(c, n, workers=1, method="cube")
    h2 = cl.pair_distance_histogram(c, n, workers=2, method="cube")
    h3 = cl.pair_distance_histogram(c, n, workers=3, method="pairs")
    np.testing.assert_array_equal(h1, h2)
    np.testing.assert_array_equal(h1, h3)
    assert h1.sum() == 30000 * 29999 // 2


def test_pair_hist_without_avx512(monkeypatch):
    """The wrapper falls back to the scalar kernel when the CPU lacks AVX-512 VPOPCNTDQ."""
    rng = np.random.default_rng(31)
    c = codes_with_complements(rng, 32, 3000)
    with_simd = cl.pair_distance_histogram(c, 32, method="pairs")
    monkeypatch.setattr(cl._clusters, "HAVE_AVX512", False)
    assert cl._pair_kernel(32) == 0 and cl._pair_kernel(64) == 0
    np.testing.assert_array_equal(cl.pair_distance_histogram(c, 32, method="pairs"), with_simd)
    np.testing.assert_array_equal(with_simd, ref_pair_hist_np(c, 32))


def test_pair_hist_method_choice():
    assert cl._choose_method(10**6, 24) == "cube"
    assert cl._choose_method(10**6, 26) == "cube"
    assert cl._choose_method(10**6, 32) == "pairs"  # 2^32 int32 > CUBE_MAX_BYTES
    assert cl._choose_method(100, 20) == "pairs"
    assert cl._choose_method(1, 3) == "pairs"
    with pytest.raises(InputError, match="method"):
        cl.pair_distance_histogram([1, 2], 4, method="fft")
    with pytest.raises(InputError, match="cube"):
        cl.pair_distance_histogram([1, 2], 40, method="cube")


def test_overlap_distribution():
    rng = np.random.default_rng(3)
    n = 17
    c = random_codes(rng, n, 300)
    q, p = cl.overlap_distribution(c, n)
    h = ref_pair_hist_py(c, n)
    np.testing.assert_allclose(q, [1 - 2 * k / n for k in range(n + 1)])
    np.testing.assert_allclose(p, h / h.sum())
    assert abs(p.sum() - 1) < 1e-12
    q, p = cl.overlap_distribution(c[:1], n)
    assert q.shape == (n + 1,) and np.all(p == 0)
    # global-flip symmetric sets (fixed points): the distances d and n−d pair up, p(q) has a peak at −1
    for n, jd, st in FP_SETS:
        q, p = cl.overlap_distribution(st, n)
        if st.size >= 2:
            assert p[n] > 0  # each FP and its flip are at distance n


# --------------------------------------------------------------------------------------------
# 2. neighbours and local entropy


@pytest.mark.parametrize("n", [5, 17, 33, 64])
def test_neighbor_counts_random(n):
    rng = np.random.default_rng(200 + n)
    for c in (random_codes(rng, n, 500), clustered_codes(rng, n, min(2000, 2 ** min(n, 12)), radius=3)):
        for r in (1, 2, 3):
            ref = ref_neighbor_counts(c, r)
            for threads in (1, 2):
                got = cl.neighbor_counts(c, n, r, workers=threads)
                assert got.shape == (len(c), r) and got.dtype == np.int64
                np.testing.assert_array_equal(got, ref)


def test_neighbor_counts_fixed_points_and_entropy():
    for n, jd, st in FP_SETS:
        for r in (1, 2, 3):
            ref = ref_neighbor_counts(st, r)
            np.testing.assert_array_equal(cl.neighbor_counts(st, n, r), ref)
            S = cl.local_entropy_per_state(st, n, r)
            expect = np.array([log(1 + int(row.sum())) / n for row in ref])
            np.testing.assert_allclose(S, expect, rtol=0, atol=1e-15)


def test_hamming_ball():
    n, r = 12, 3
    center = 0b101100111010
    ball = [center ^ sum(1 << b for b in bits) for d in range(r + 1)
            for bits in __import__("itertools").combinations(range(n), d)]
    c = np.array(ball, dtype=np.uint64)
    assert len(set(ball)) == sum(comb(n, d) for d in range(r + 1))
    counts = cl.neighbor_counts(c, n, r)
    # the centre sees the whole ball
    np.testing.assert_array_equal(counts[0], [comb(n, 1), comb(n, 2), comb(n, 3)])
    np.testing.assert_array_equal(counts, ref_neighbor_counts(c, r))
    S = cl.local_entropy_per_state(c, n, r)
    assert S[0] == pytest.approx(log(len(ball)) / n)
    res = cl.find_clusters(c, n, 1)
    assert res.n_clusters == 1 and res.sizes.tolist() == [len(ball)]


def test_full_cube_neighbors():
    n = 9
    c = np.arange(2**n, dtype=np.uint64)
    counts = cl.neighbor_counts(c, n, 3)
    assert np.all(counts == np.array([comb(n, 1), comb(n, 2), comb(n, 3)]))
    assert np.allclose(cl.local_entropy_per_state(c, n, 3), log(1 + n + comb(n, 2) + comb(n, 3)) / n)


# --------------------------------------------------------------------------------------------
# 3. clusters


def check_clusters(c, n, r):
    res = cl.find_clusters(c, n, r)
    comps = ref_components(c, r)
    assert res.n_clusters == len(comps)
    assert res.labels.shape == (len(c),) and res.labels.dtype == np.int64
    assert sorted(res.sizes.tolist(), reverse=True) == res.sizes.tolist()
    assert sorted(res.sizes.tolist()) == sorted(len(s) for s in comps)
    # same partition
    got = {}
    for i, lab in enumerate(res.labels.tolist()):
        got.setdefault(lab, set()).add(i)
    assert sorted(map(sorted, got.values())) == sorted(map(sorted, comps))
    np.testing.assert_array_equal(np.bincount(res.labels, minlength=res.n_clusters), res.sizes)
    # ties in size: ordered by first appearance
    first = {lab: min(s) for lab, s in got.items()}
    for a in range(res.n_clusters - 1):
        if res.sizes[a] == res.sizes[a + 1]:
            assert first[a] < first[a + 1]
    return res


@pytest.mark.parametrize("n", [5, 17, 33, 64])
def test_clusters_random(n):
    rng = np.random.default_rng(300 + n)
    for c in (random_codes(rng, n, 300), clustered_codes(rng, n, min(800, 2 ** min(n, 10)), centers=6, radius=3)):
        for r in (1, 2, 3):
            check_clusters(c, n, r)


def test_clusters_fixed_points():
    for n, jd, st in FP_SETS:
        for r in (1, 2, 3):
            check_clusters(st, n, r)


def test_two_clusters_with_gap():
    n = 20
    a = [0, 1, 2, 3, 0b111]  # near 0
    b = [((1 << n) - 1) ^ x for x in a]  # their global flips, near all-ones
    c = np.array(a + b, dtype=np.uint64)
    res = cl.find_clusters(c, n, 1)
    assert res.n_clusters == 2 and res.sizes.tolist() == [5, 5]
    assert res.labels.tolist() == [0] * 5 + [1] * 5
    res3 = cl.find_clusters(c, n, 3)
    assert res3.n_clusters == 2
    h = cl.pair_distance_histogram(c, n)
    np.testing.assert_array_equal(h, ref_pair_hist_py(c, n))
    assert h[1:4].tolist() == [10, 8, 2] and h[4:17].sum() == 0 and h[17:].tolist() == [2, 8, 10, 5]
    # here the close peak is the maximum (h[1] = h[19] = 10, first maximum wins): no gap reported
    assert cl.overlap_gap(h)["gap_width"] == 0
    # bulk: 8 words of a repetition code (bit b of x in 0..7 copied to bits 8b..8b+7, pairwise
    # distances 8·d(x, y)), plus two states at distance 1 from the word 0 (bits 30, 31)
    n = 40
    words = [sum(((x >> b) & 1) * (0xFF << (8 * b)) for b in range(3)) for x in range(8)]
    c3 = np.array(words + [1 << 30, 1 << 31], dtype=np.uint64)
    res = cl.find_clusters(c3, n, 3)
    assert res.n_clusters == 8 and res.sizes.tolist() == [3] + [1] * 7
    assert res.labels[0] == res.labels[8] == res.labels[9] == 0
    h = cl.pair_distance_histogram(c3, n)
    np.testing.assert_array_equal(h, ref_pair_hist_py(c3, n))
    # close: d=1 (2 pairs), d=2 (1); bulk: d=8 (12), 16 (12), 24 (4), and 9, 17, 25 from the extras
    assert h[:9].tolist() == [0, 2, 1, 0, 0, 0, 0, 0, 12] and h.sum() == 45
    assert h[9] == 6 and h[16] == 12 and h[17] == 6 and h[24] == 4 and h[25] == 2
    g = cl.overlap_gap(h)
    assert g["has_gap"] and g["k_first"] == 1 and g["k_max"] == 8
    assert (g["k_close_end"], g["k_bulk_start"], g["gap_width"]) == (2, 8, 5)


def test_clusters_isolated_and_empty():
    c = np.array([0, 3, 12, 48], dtype=np.uint64)  # pairwise distance ≥ 2
    res = cl.find_clusters(c, 6, 1)
    assert res.n_clusters == 4 and res.labels.tolist() == [0, 1, 2, 3]
    assert cl.find_clusters(c, 6, 2).n_clusters == 1
    e = cl.find_clusters(np.zeros(0, dtype=np.uint64), 6)
    assert e.n_clusters == 0 and e.labels.shape == (0,)
    assert cl.neighbor_counts(np.zeros(0, dtype=np.uint64), 6, 2).shape == (0, 2)


# --------------------------------------------------------------------------------------------
# 4. overlap gap


def test_overlap_gap_cases():
    g = cl.overlap_gap([0, 3, 0, 0, 5, 9, 2])
    assert (g["k_first"], g["k_max"], g["k_close_end"], g["k_bulk_start"], g["gap_width"]) == (1, 5, 1, 4, 2)
    g = cl.overlap_gap([0, 3, 4, 9, 2, 0, 0, 1])  # empty bins only after the maximum: no gap
    assert g["gap_width"] == 0 and not g["has_gap"] and g["k_close_end"] is None
    g = cl.overlap_gap([0, 0, 0])
    assert g["k_first"] is None and g["gap_width"] == 0
    g = cl.overlap_gap([0, 1, 0, 1, 0, 0, 7])  # first run only
    assert (g["k_close_end"], g["k_bulk_start"], g["gap_width"]) == (1, 3, 1)
    g = cl.overlap_gap([0, 9, 0, 1])  # maximum is the close peak
    assert g["gap_width"] == 0
    with pytest.raises(InputError):
        cl.overlap_gap([[1, 2]])
    with pytest.raises(InputError):
        cl.overlap_gap([1, -1])


# --------------------------------------------------------------------------------------------
# validation


def test_bad_inputs():
    good = np.array([1, 2, 4], dtype=np.uint64)
    with pytest.raises(InputError, match="distinct"):
        cl.pair_distance_histogram(np.array([5, 1, 5], dtype=np.uint64), 4)
    with pytest.raises(InputError, match="bit"):
        cl.neighbor_counts(np.array([1, 16], dtype=np.uint64), 4, 1)
    with pytest.raises(InputError, match="n must"):
        cl.pair_distance_histogram(good, 65)
    with pytest.raises(InputError, match="n must"):
        cl.pair_distance_histogram(good, 0)
    with pytest.raises(InputError):
        cl.pair_distance_histogram(good, True)
    with pytest.raises(InputError, match="r must"):
        cl.neighbor_counts(good, 4, 4)
    with pytest.raises(InputError, match="r must"):
        cl.find_clusters(good, 4, 0)
    with pytest.raises(InputError, match="1-D"):
        cl.find_clusters(good.reshape(3, 1), 4)
    with pytest.raises(InputError, match="unsigned"):
        cl.pair_distance_histogram(np.array([1.0, 2.0]), 4)
    with pytest.raises(InputError, match="non-negative"):
        cl.pair_distance_histogram(np.array([-1, 2]), 4)
    with pytest.raises(InputError, match="workers"):
        cl.pair_distance_histogram(good, 4, workers=0)
    # plain Python ints and signed non-negative arrays are accepted
    np.testing.assert_array_equal(cl.pair_distance_histogram([1, 2, 4], 4), [0, 0, 3, 0, 0])
    assert cl.local_entropy_per_state(np.array([0, 1], dtype=np.int64), 3, 1).tolist() == [log(2) / 3] * 2
    assert model.MAX_PACKED_N == 64
