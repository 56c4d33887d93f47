"""Accessibility study (fplandscape.sim.accessibility, .algorithms, .reached; the estimators of
fplandscape.stats; the theory column of fplandscape.validate.reached): threshold fits on
synthetic data with a known logistic curve, extrapolation, reproducibility (workers, checkpoint
resume, grid changes), reached fixed points vs the exact enumeration, and the reached-vs-uniform
rows."""
import math

import numpy as np
import pytest
from scipy.stats import norm

from fplandscape import model, stats
from fplandscape.errors import InputError
from fplandscape.sim import accessibility as acc
from fplandscape.sim import algorithms, reached
from fplandscape.sim.enumerate import enumerate_fixed_points
from fplandscape.sim.local import local_stats
from fplandscape.theory import typical_mean_stability
from fplandscape.validate.reached import with_typical_mean_stability


def logistic(x, j50, width):
    return 1.0 / (1.0 + np.exp(-(x - j50) / width))


# --------------------------------------------------------------------------------------------
# statistics on synthetic data


def test_fit_threshold_recovers_known_logistic_and_its_error():
    x = np.linspace(0.3, 1.0, 15)
    m = np.full(x.size, 100)
    p = logistic(x, 0.62, 0.05)
    rng = np.random.default_rng(123)
    hits, z = 0, []
    reps = 200
    for _ in range(reps):
        k = rng.binomial(m, p)
        fit = stats.fit_threshold(x, k, m, overdispersion=False)
        assert fit["status"] == "ok" and fit["method"] == "logistic"
        z.append((fit["j50"] - 0.62) / fit["j50_err"])
        hits += abs(fit["j50"] - 0.62) < fit["j50_err"]
    # the delta-method error is calibrated: ~68 % coverage, z-scores of unit spread
    assert 0.58 < hits / reps < 0.78
    assert 0.8 < np.std(z) < 1.2 and abs(np.mean(z)) < 0.25
    fit = stats.fit_threshold(x, rng.binomial(m, p), m, bootstrap=300, seed=1)
    assert abs(fit["width"] - 0.05) < 4 * fit["width_err"]
    assert 0.6 < fit["j50_err_bootstrap"] / fit["j50_err"] < 1.6


def test_fit_threshold_special_cases():
    x = [0.1, 0.2, 0.3, 0.4]
    assert stats.fit_threshold(x, [0, 0, 0, 1], [10] * 4)["status"] == "above grid"
    assert stats.fit_threshold(x, [6, 9, 10, 10], [10] * 4)["status"] == "below grid"
    # complete separation: no MLE, linear interpolation of the crossing, uniform-bin error
    sep = stats.fit_threshold(x, [0, 0, 10, 10], [10] * 4)
    assert sep["status"] == "separated" and sep["method"] == "interpolation"
    assert sep["j50"] == pytest.approx(0.25) and sep["j50_err"] == pytest.approx(0.1 / math.sqrt(12))
    # quasi-complete separation (one mixed point): interpolated too
    q = stats.fit_threshold(x, [0, 0, 5, 10], [10] * 4)
    assert q["status"] == "separated" and q["j50"] == pytest.approx(0.3)
    # order of the points does not matter
    a = stats.fit_threshold([0.4, 0.1, 0.3, 0.2], [9, 1, 6, 3], [10] * 4)
    b = stats.fit_threshold(x, [1, 3, 6, 9], [10] * 4)
    assert a["j50"] == pytest.approx(b["j50"], abs=1e-12)
    with pytest.raises(InputError):
        stats.fit_threshold(x, [11, 0, 0, 0], [10] * 4)
    with pytest.raises(InputError):
        stats.fit_threshold(x, [1, 2], [10, 10])


def test_extrapolation_recovers_known_line():
    n = np.array([200, 400, 800, 1600])
    y = 0.7 - 1.5 / np.sqrt(n)
    ex = stats.extrapolate_threshold(n, y, [0.01] * 4, form="sqrt")
    assert ex["j50_inf"] == pytest.approx(0.7, abs=1e-12)
    assert ex["slope"] == pytest.approx(-1.5, abs=1e-10) and ex["dof"] == 2
    assert ex["j50_inf_err"] > 0
    lin = stats.extrapolate_threshold(n, 0.6 + 20.0 / n, [0.01] * 4, form="linear")
    assert lin["j50_inf"] == pytest.approx(0.6, abs=1e-12)
    # noisy points: the estimate lies within a few errors of the truth
    rng = np.random.default_rng(5)
    zs = []
    for _ in range(200):
        e = stats.extrapolate_threshold(n, y + rng.normal(0, 0.01, 4), [0.01] * 4)
        zs.append((e["j50_inf"] - 0.7) / e["j50_inf_err"])
    assert np.mean(np.abs(zs) < 2) > 0.85
    assert stats.extrapolate_threshold([200], [0.5], [0.01])["j50_inf"] is None
    with pytest.raises(InputError):
        stats.extrapolate_threshold(n, y, [0.01] * 4, form="cubic")


# --------------------------------------------------------------------------------------------
# the scan: reproducibility


SCAN = dict(n_values=[24, 48], jd_values=[0.1, 0.3, 0.5, 0.8],
            rules=("async", "sync", "anneal"), runs=6, samples=2, max_sweeps=200, seed=7)


def _strip(rows):
    return [{k: v for k, v in r.items() if k != "seconds"} for r in rows]


@pytest.fixture(scope="module")
def serial_scan():
    return acc.accessibility_scan(**SCAN, workers=1)


def test_scan_rows_and_thresholds(serial_scan):
    res = with_typical_mean_stability(serial_scan)
    assert len(res.rows) == 2 * 4 * 3 and len(res.cells) == 2 * 4 * 3 * 2
    for row in res.rows:
        assert row["runs"] == 12 and 0 <= row["reached"] <= 12
        assert row["p_reach"] == row["reached"] / 12
        if row["reached"]:
            assert row["margin_mean"] > 0 and row["median_sweeps"] >= 1
        assert row["typical_mean_stability"] == pytest.approx(
            float(typical_mean_stability(row["jd"], row["n"])))
    fin = [t for t in res.thresholds if t["kind"] == "finite_n"]
    ext = [t for t in res.thresholds if t["kind"] == "extrapolated"]
    assert len(fin) == 6 and len(ext) == 6
    assert sum(t["headline"] for t in ext) == 3
    assert res.threshold("async", 24)["n"] == 24
    assert res.threshold("sync")["form"] == "sqrt"
    kinds = {r["kind"] for r in res.as_rows()}
    assert kinds == {"cell", "finite_n", "extrapolated"}


def test_scan_independent_of_workers(serial_scan):
    two = acc.accessibility_scan(**SCAN, workers=2)
    assert _strip(two.rows) == _strip(serial_scan.rows)
    assert _strip(two.cells) == _strip(serial_scan.cells)
    assert two.thresholds == serial_scan.thresholds


def test_scan_checkpoint_resume(tmp_path, serial_scan):
    path = tmp_path / "ck"
    acc.accessibility_scan(**SCAN, checkpoint=path, workers=2)
    lines = (path / "journal.jsonl").read_text().splitlines()
    assert len(lines) == len(serial_scan.cells)
    (path / "journal.jsonl").write_text("\n".join(lines[:5]) + "\n")
    res = acc.accessibility_scan(**SCAN, checkpoint=path, resume=True, workers=2)
    assert _strip(res.rows) == _strip(serial_scan.rows)
    assert res.thresholds == serial_scan.thresholds
    with pytest.raises(InputError, match="different inputs"):
        acc.accessibility_scan(**dict(SCAN, runs=5), checkpoint=path, resume=True)


def test_cells_do_not_depend_on_the_grid(serial_scan):
    sub = acc.accessibility_scan([48], [0.5, 0.3], rules=("sync",), runs=6, samples=2,
                                 max_sweeps=200, seed=7, workers=1)
    ref = {(r["n"], r["jd"], r["rule"]): r for r in _strip(serial_scan.rows)}
    for r in _strip(sub.rows):
        assert r == ref[(r["n"], r["jd"], r["rule"])]


def test_scan_reached_states_are_enumerated_fixed_points():
    n = 16
    res = acc.accessibility_scan([n], [0.2, 0.6], rules=("async", "sync", "anneal"), runs=8,
                                 samples=2, max_sweeps=300, seed=3, keep_states=True,
                                 workers=1)
    found = 0
    for cell in res.cells:
        net_ss, _ = acc.cell_seeds(3, n, cell["network"])
        J = model.gaussian_couplings(n, cell["jd"], seed=np.random.default_rng(net_ss))
        fps = set(enumerate_fixed_points(J, return_states=True).states.tolist())
        S = np.asarray(cell["states"])
        reached = np.asarray(cell["reached"])
        assert np.array_equal(reached, np.asarray(model.is_fixed_point(J, S)))
        codes = model.pack_states(S).tolist()
        for c, r in zip(codes, reached):
            assert (c in fps) == bool(r)
            found += bool(r)
    assert found > 0


def test_registry_and_bad_input():
    def never(J, *, runs, max_sweeps, seed):
        n = J.shape[0]
        return {"reached": np.zeros(runs, bool), "converged": np.zeros(runs, bool),
                "sweeps": np.full(runs, max_sweeps), "states": np.ones((runs, n), np.int8),
                "margin": np.zeros(runs), "mean_stability": np.zeros(runs)}

    algorithms.register_algorithm("test-never", never, replace=True)
    res = acc.accessibility_scan([10], [0.5, 1.0], rules=("test-never",), runs=3, seed=0,
                                 workers=1)
    assert all(r["p_reach"] == 0 for r in res.rows)
    assert res.threshold("test-never", 10)["status"] == "above grid"
    with pytest.raises(InputError, match="already registered"):
        algorithms.register_algorithm("async", never)
    with pytest.raises(InputError, match="unknown algorithm"):
        acc.accessibility_scan([10], [0.5], rules=("bogus",))
    for kw in (dict(runs=0), dict(samples=0), dict(max_sweeps=-1), dict(seed=-1),
               dict(eta=2.0), dict(extrapolation="cubic"), dict(options={"sync": {"x": 1}},
                                                               rules=("async",))):
        with pytest.raises(InputError):
            acc.accessibility_scan([10], [0.5], **{"rules": ("async",), **kw})
    with pytest.raises(InputError):
        acc.accessibility_scan([10, 10], [0.5])
    with pytest.raises(InputError):
        acc.accessibility_scan([10], [0.5, float("nan")])


# --------------------------------------------------------------------------------------------
# what the algorithms find


def test_compare_reached_vs_uniform_small_n():
    n, seed = 20, 11
    res = reached.compare_reached_vs_uniform(n, [0.4, 0.9], rules=("async", "sync"), runs=12,
                                         samples=2, max_sweeps=500, seed=seed,
                                         uniform_samples=200, workers=2)
    pooled = {(r["jd"], r["source"]): r for r in res.rows if r["kind"] == "pooled"}
    assert set(pooled) == {(jd, s) for jd in (0.4, 0.9) for s in ("uniform", "async", "sync")}
    for (jd, source), row in pooled.items():
        s = res.pooled[(jd, source)]
        assert np.all(s["margin"] > 0)  # every described state is a fixed point
        assert s["neighbors"].shape == (s["margin"].size, 2)
        if source != "uniform" and row["states"]:
            assert row["delta_mean_stability"] == pytest.approx(
                row["mean_stability"] - pooled[(jd, "uniform")]["mean_stability"])
    # per network: reached fixed points belong to the enumerated set; the uniform sample's
    # mean stability agrees with the mean over all fixed points (bottom-k sample, unbiased)
    for jd in (0.4, 0.9):
        for k in range(2):
            net_ss, _ = acc.cell_seeds(seed, n, k)
            J = model.gaussian_couplings(n, jd, seed=np.random.default_rng(net_ss))
            allfp = enumerate_fixed_points(J, return_states=True).states
            full = local_stats(J, allfp, radius=2)
            row = next(r for r in res.rows if r["kind"] == "network" and r["jd"] == jd
                       and r["network"] == k and r["source"] == "uniform")
            assert row["fp_count"] == allfp.size
            assert row["truncated"] == (allfp.size > 200)
            if not row["truncated"]:
                assert row["mean_stability"] == pytest.approx(full.mean_stability.mean())
                assert row["neighbors_d1"] == pytest.approx(full.neighbors[:, 0].mean())
            else:
                se = full.mean_stability.std() / math.sqrt(200)
                assert abs(row["mean_stability"] - full.mean_stability.mean()) < 5 * se
        for rule in ("async", "sync"):
            codes = res.pooled[(jd, rule)]["codes"]
            net_sets = []
            for k in range(2):
                net_ss, _ = acc.cell_seeds(seed, n, k)
                J = model.gaussian_couplings(n, jd, seed=np.random.default_rng(net_ss))
                net_sets.append(set(enumerate_fixed_points(J, return_states=True)
                                    .states.tolist()))
            rows = [r for r in res.rows if r["kind"] == "network" and r["jd"] == jd
                    and r["source"] == rule]
            split = np.cumsum([0] + [r["states"] for r in rows])
            for k in range(2):
                assert set(codes[split[k]:split[k + 1]].tolist()) <= net_sets[k]
    state_rows = res.as_state_rows()
    assert len(state_rows) == sum(s["margin"].size for s in res.pooled.values())


def test_compare_large_n_uses_theory_only_for_uniform():
    res = with_typical_mean_stability(reached.compare_reached_vs_uniform(
        80, [0.9], rules=("async",), runs=4, samples=1, seed=2, workers=1))
    uni = [r for r in res.rows if r["source"] == "uniform"]
    assert len(uni) == 1 and uni[0]["states"] == 0
    s = math.sqrt(79 / 80)  # E[J_D + z | J_D + z > 0], z ~ N(0, (N-1)/N)
    assert uni[0]["typical_mean_stability"] == pytest.approx(
        0.9 + s * norm.pdf(0.9 / s) / norm.cdf(0.9 / s), rel=1e-12)
    row = next(r for r in res.rows if r["source"] == "async" and r["kind"] == "pooled")
    assert row["states"] == 4 and row["margin_min"] > 0
    assert row["neighbors_d1"] is not None and row["neighbors_d2"] is None
    # distance-1 counts of the dense check agree with local_stats (N ≤ 64 path) on a small net
    J = model.gaussian_couplings(30, 0.8, seed=np.random.default_rng(4))
    fps = enumerate_fixed_points(J, return_states=True).states[:50]
    dense = reached._d1_neighbors_dense(J, model.unpack_states(fps, 30))
    np.testing.assert_array_equal(dense, local_stats(J, fps, radius=1).neighbors[:, 0])


def test_typical_mean_stability_matches_enumeration():
    """E[Σ_FP mean_i Δ_i] / E[#FP] = J_D + s φ(J_D/s)/Φ(J_D/s), s² = (N−1)/N, exactly for η = 0
    (the rows of J are independent given σ); checked on 400 networks with N = 10."""
    n, jd = 10, 0.3
    rng = np.random.default_rng(17)
    tot, cnt = 0.0, 0
    for _ in range(400):
        J = model.gaussian_couplings(n, jd, seed=rng)
        fps = enumerate_fixed_points(J, return_states=True).states
        if fps.size:
            tot += local_stats(J, fps, radius=0, workers=1).mean_stability.sum()
            cnt += fps.size
    assert cnt > 1000
    assert abs(tot / cnt - float(typical_mean_stability(jd, n))) < 0.02
    assert float(typical_mean_stability(jd)) == pytest.approx(jd + norm.pdf(jd) / norm.cdf(jd))


def test_threshold_uses_the_rising_edge_of_a_non_monotone_curve():
    """An algorithm that succeeds above J ≈ 0.25 but fails again at large J_D within its budget
    (as focusing BP does): J_50 is the rising edge, flagged non_monotone."""
    from fplandscape.sim.accessibility import _rising_edge
    from fplandscape.stats import fit_threshold

    jd = [0.1, 0.2, 0.3, 0.4, 0.8, 0.9, 1.0]
    k = [0, 3, 10, 10, 10, 2, 1]
    cells = [{"jd": x, "reached": kk, "runs": 10} for x, kk in zip(jd, k)]
    edge, flag = _rising_edge(cells, 0.5)
    assert flag and [c["jd"] for c in edge] == [0.1, 0.2, 0.3]
    fit = fit_threshold([c["jd"] for c in edge], [c["reached"] for c in edge], [10] * 3)
    assert 0.2 < fit["j50"] < 0.3
    mono = [{"jd": x, "reached": kk, "runs": 10} for x, kk in zip(jd, [0, 3, 10, 10, 10, 10, 9])]
    assert _rising_edge(mono, 0.5) == (mono, False)


# --------------------------------------------------------------------------------------------
# the theory beside the engine's rows (fplandscape.validate.reached)


def test_theory_column_is_added_by_validate():
    """The engine's rows carry counts and moments only; with_typical_mean_stability adds the
    theory column before ``seconds`` (at the end of rows without it) and changes nothing
    else."""
    scan = acc.accessibility_scan([12], [0.3, 0.7], rules=("async",), runs=3, seed=1,
                                  workers=1)
    assert all("typical_mean_stability" not in r for r in scan.rows)
    full = with_typical_mean_stability(scan)
    assert type(full) is type(scan) and full.thresholds is scan.thresholds
    for raw, row in zip(scan.rows, full.rows):
        keys = list(raw)
        i = keys.index("seconds")
        assert list(row) == keys[:i] + ["typical_mean_stability"] + keys[i:]
        assert row["typical_mean_stability"] == float(typical_mean_stability(row["jd"], 12))
        assert {k: v for k, v in row.items() if k != "typical_mean_stability"} == raw
    cmp = reached.compare_reached_vs_uniform(80, [0.5], rules=("async",), runs=2, samples=1,
                                             seed=0, workers=1)
    placeholder = with_typical_mean_stability(cmp).rows[0]
    assert placeholder["source"] == "uniform" and list(placeholder)[-1] == \
        "typical_mean_stability"


def test_binomial_se():
    assert stats.binomial_se(3, 10) == math.sqrt(0.3 * 0.7 / 10)
    assert stats.binomial_se(0, 0) is None and stats.binomial_se(5, 5) == 0.0


# --------------------------------------------------------------------------------------------
# memory: refused before any work when the concurrent cells would not fit


def test_task_memory_counts_the_matrices():
    assert acc._task_memory(12800) == 8 * 12800 ** 2 * 2            # J and its transpose
    assert acc._task_memory(100, eta=0.5) == 8 * 100 ** 2 * 5       # the η ≠ 0 draw's peak
    assert acc._task_memory(100, rules=("async", "fbp")) == 8 * 100 ** 2 * 4


def test_check_memory_refuses_with_a_hint():
    from fplandscape import parallel

    parallel.check_memory(10, 4, "x", available=40)                 # fits exactly
    with pytest.raises(InputError, match=r"with 4 workers.*use --workers 3"):
        parallel.check_memory(10, 4, "x", available=39)
    with pytest.raises(InputError, match="a single task does not fit"):
        parallel.check_memory(10, 1, "x", available=9)
    parallel.check_memory(10, 4, "x", available=1, scheduler="tcp://somewhere:8786")
    assert parallel.available_memory() is None or parallel.available_memory() > 0


def test_scan_refuses_before_any_work(monkeypatch):
    from fplandscape import parallel

    calls = []
    monkeypatch.setattr(parallel, "available_memory", lambda: 8 * 400 ** 2 * 3)
    monkeypatch.setattr(parallel, "run_study", lambda *a, **k: calls.append(1))
    with pytest.raises(InputError, match=r"N = 400 needs about .* use --workers 1"):
        acc.accessibility_scan([200, 400], [0.5], runs=1, workers=2)
    assert calls == []


def test_cli_refuses_a_scan_that_does_not_fit(monkeypatch, capsys):
    from fplandscape import parallel
    from fplandscape.cli import main

    monkeypatch.setattr(parallel, "available_memory", lambda: 1000)
    rc = main(["accessibility", "--n", "200", "--jd", "0.5", "--runs", "1"])
    err = capsys.readouterr().err
    assert rc == 2 and err.startswith("error:") and "GB of memory is available" in err
