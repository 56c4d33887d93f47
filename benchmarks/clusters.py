"""Wall-clock benchmark of the cluster analysis (``fplandscape.sim.clusters``).

Usage::

    python benchmarks/clusters.py [--seed S] [--threads T] [--max-m M]

What it measures (``time.perf_counter``, wall clock, one run each) on M distinct uniformly random
codes of n = 32 bits (seeded):

* pair_distance_histogram, method="pairs" (exact O(M²) popcount; AVX-512 VPOPCNTDQ with 32-bit
  lanes when the CPU has it, the header line says which kernel): M = 10⁴, 10⁵, and 10⁶ only if
  M = 10⁵ took < 10 s (otherwise the 10⁶ time is extrapolated as 100 × the 10⁵ time). Target of
  issue 3: pair statistics for 10⁶ FPs under 60 s. Columns: seconds, pairs per second.
* pair_distance_histogram, method="cube" (Walsh–Hadamard transform over {0,1}ⁿ, O(n 2ⁿ),
  independent of M) for M = 10⁶ random codes of n = 24 and n = 26 bits (what method="auto"
  picks there); rate = pairs per second. Checked against method="pairs" on a 2·10⁴ subset.
* neighbor_counts (r = 1, 2, 3) and clusters (r = 1, 3) for M = 10⁵.

Random codes are the worst case for neither kernel (the pair histogram does the same work on any
set; neighbour look-ups mostly miss). The header prints nproc and the load average: timings
depend on the machine's load, a FAIL is information, and the exit status is always 0.
"""
from __future__ import annotations

import argparse
import os
import time

import numpy as np

from fplandscape.provenance import benchmark_header
from fplandscape.sim import _clusters
from fplandscape.sim.clusters import find_clusters, neighbor_counts, pair_distance_histogram


def random_codes(M, n, seed):
    rng = np.random.default_rng(seed)
    if 2**n < 64 * M:  # small cube: draw without replacement (exactly M codes)
        return rng.choice(2**n, size=M, replace=False).astype(np.uint64)
    c = np.unique(rng.integers(0, 2**n, size=int(M * 1.01) + 16, dtype=np.uint64))
    rng.shuffle(c)
    return np.ascontiguousarray(c[:M])


def timed(f, *a, **k):
    t = time.perf_counter()
    out = f(*a, **k)
    return out, time.perf_counter() - t


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=None, help="default: all cores")
    p.add_argument("--max-m", type=int, default=10**6)
    a = p.parse_args(argv)
    n = 32
    print(benchmark_header("fplandscape cluster-analysis benchmark (random codes, n = 32)",
                           f"threads {a.threads or os.cpu_count()}"))
    kern = "AVX-512 VPOPCNTDQ" if _clusters.HAVE_AVX512 else "scalar popcount (no AVX-512 VPOPCNTDQ)"
    print(f"# pair kernel: {kern}")
    print(f"{'task':<34}{'M':>9}{'seconds':>10}{'rate':>16}")
    t5 = None
    for M in (10**4, 10**5, 10**6):
        if M > a.max_m:
            break
        if M == 10**6 and (t5 is None or t5 >= 10):
            print(f"{'pair_distance_histogram (extrap.)':<34}{M:>9}{100 * t5:>10.1f}{'':>16}")
            break
        c = random_codes(M, n, a.seed)
        h, t = timed(pair_distance_histogram, c, n, workers=a.threads, method="pairs")
        assert h.sum() == M * (M - 1) // 2
        pairs = M * (M - 1) / 2
        print(f"{'pair_distance_histogram':<34}{M:>9}{t:>10.2f}{pairs / t:>12.3g} p/s")
        if M == 10**5:
            t5 = t
        if M == 10**6:
            print(f"# target 10^6 pairs statistics < 60 s: {'PASS' if t < 60 else 'FAIL'}")
    M = min(10**6, a.max_m)
    for nc in (24, 26):
        c = random_codes(M, nc, a.seed)
        h, t = timed(pair_distance_histogram, c, nc, workers=a.threads, method="cube")
        assert h.sum() == M * (M - 1) // 2
        sub = c[:20000]
        assert np.array_equal(pair_distance_histogram(sub, nc, method="cube", workers=a.threads),
                              pair_distance_histogram(sub, nc, method="pairs", workers=a.threads))
        label = f"pair_distance_histogram cube n={nc}"
        print(f"{label:<34}{M:>9}{t:>10.2f}{M * (M - 1) / 2 / t:>12.3g} p/s")
    M = min(10**5, a.max_m)
    c = random_codes(M, n, a.seed)
    for r in (1, 2, 3):
        _, t = timed(neighbor_counts, c, n, r, workers=a.threads)
        look = M * sum(__import__("math").comb(n, d) for d in range(1, r + 1))
        print(f"{f'neighbor_counts r={r}':<34}{M:>9}{t:>10.2f}{look / t:>12.3g} l/s")
    for r in (1, 3):
        res, t = timed(find_clusters, c, n, r)
        print(f"{f'clusters r={r} ({res.n_clusters} clusters)':<34}{M:>9}{t:>10.2f}{'':>16}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
