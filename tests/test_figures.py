"""Each figure of docs/figures.md renders headless (Agg, no display) on tiny inputs, writes PNG,
PDF, CSV and JSON, and its data agree with the theory functions they plot."""
import json
import math

import pytest
from scipy.stats import norm

from fplandscape.errors import InputError
from fplandscape.figures import FIGURES, make_figure
from fplandscape.figures.phase_diagram import boundary

TINY = {
    "entropy": {"n_values": [6, 8], "jd_values": [0.0, 1.0], "samples": 5, "eta_n": 6,
                "theory_jd": {"start": -0.5, "stop": 1.5, "num": 9}},
    "pair-histograms": {"n": 6, "jd_values": [0.5, 1.0], "samples": 5},
    "pair-entropy": {"jd_values": ["0", "gap"], "q": {"num": 11},
                     "d_log": {"start": -3.0, "stop": -0.31, "num": 7}},
    "local-entropy": {"jd_values": [0.2, 0.5], "curves": ["annealed", "FP kappa=0"],
                      "d": {"num": 4, "d_min": 0.05, "d_max": 0.5}, "critical": ["gap"]},
    "phase-diagram": {"jd": {"start": 0.2, "stop": 0.5, "num": 2},
                      "d": {"num": 4, "d_min": 0.05, "d_max": 0.5}, "critical": ["gap"]},
    "accessibility": {"n_values": [30, 40], "jd": {"start": 0.4, "stop": 1.2, "step": 0.4},
                      "rules": ["async"], "runs": 3, "max_sweeps": 60, "fbp_n_values": [20],
                      "fbp_runs": 2, "scale": {"n_values": [100], "runs": 2, "fit_from": 100},
                      "critical": ["gap"]},
    "reached-vs-typical": {"n": 8, "jd_values": [0.8], "rules": ["async"], "runs": 4,
                           "samples": 1, "uniform_samples": 50, "large_n": 30},
    "learning": {"hidden": [20], "epochs": 2, "scan_epochs": 1, "jd_values": [0.0, 0.5],
                 "lam_values": [0.0, 1.0], "lam_in_values": [5.0], "lam_samples": 1,
                 "capacity_hidden": 10, "capacity_patterns": [5, 10], "capacity_layers": [1],
                 "capacity_samples": 1, "capacity_epochs": 3, "capacity_patience": 2,
                 "probe_layers": [2], "probe_hidden": 10, "probe_epochs": 1,
                 "critical": ["gap"]},
    "modular": {"jd_values": [0.5], "layers": ["1", "2", "inf"],
                "lam_theory": {"start": 0.0, "stop": 1.0, "num": 5}, "sim_lam": [0.0, 1.0],
                "sim_layers": [2], "sim_n": 4, "samples": 5},
    "attractors": {"demo": {"n": 30, "patterns": 2, "strength": 2.0, "noise": 0.3,
                            "starts": 256, "trajectories": 4, "pca_starts": 16, "steps": 30,
                            "directions": 2, "arrow": 0.3},
                   "census": {"n": 20, "gains": [0.5, 2.0], "samples": 2, "starts": 8,
                              "steps": 200, "transient": 100, "k": 2}},
    "fep": {"sweep": {"learning_rates": [0.01], "betas": [0.1], "repeats": 1,
                      "presentations": 100},
            "digits": {"presentations": 200, "trials": 4},
            "symmetry": {"seeds": 1, "presentations": 300, "checkpoints": 2},
            "landscape": {"demo_seeds": 1, "census_starts": 0, "census_steps": 100,
                          "census_transient": 50}},
}


def test_every_figure_has_tiny_parameters():
    assert set(TINY) == set(FIGURES)


@pytest.mark.parametrize("name", [n for n in TINY])
def test_figure_renders_headless(name, tmp_path, monkeypatch):
    monkeypatch.setenv("MPLBACKEND", "TkAgg")  # must not matter: figures never use pyplot
    monkeypatch.setenv("FPLANDSCAPE_CHECKPOINTS", str(tmp_path / "ck"))
    res = make_figure(name, tmp_path / "out", seed=3, params=TINY[name], workers=1)
    for key in ("png", "pdf", "csv", "json"):
        path = res.paths[key]
        with open(path, "rb") as fh:
            head = fh.read(8)
        assert head, path
    assert open(res.paths["png"], "rb").read(4) == b"\x89PNG"
    assert open(res.paths["pdf"], "rb").read(4) == b"%PDF"
    meta = json.loads(open(res.paths["json"]).read())
    assert meta["figure"] == name and meta["seed"] == 3 and meta["rows"] == len(res.rows)
    assert meta["parameters"] == json.loads(json.dumps(TINY[name]))
    assert res.rows


def test_entropy_figure_data_match_theory(tmp_path):
    res = make_figure("entropy", tmp_path, params=TINY["entropy"], workers=1)
    for r in res.rows:
        if r["series"] == "theory" and r["eta"] == 0.0:
            assert r["entropy"] == pytest.approx(math.log(2) + norm.logcdf(r["jd"]), rel=1e-12)
        if r["series"] == "finite-n":
            n = r["n"]
            expected = math.log(2) + norm.logcdf(r["jd"] / math.sqrt((n - 1) / n))
            assert r["entropy"] == pytest.approx(expected, rel=1e-10)
        if r["series"] == "enumeration":
            assert r["samples"] == 5 and r["mean_count"] >= 0


def test_same_seed_same_data_and_resume_keeps(tmp_path):
    a = make_figure("pair-histograms", tmp_path / "a", seed=5, params=TINY["pair-histograms"])
    b = make_figure("pair-histograms", tmp_path / "b", seed=5, params=TINY["pair-histograms"],
                    workers=1)
    strip = lambda rows: [{k: v for k, v in r.items() if k != "seconds"} for r in rows]
    assert strip(a.rows) == strip(b.rows)
    kept = make_figure("pair-histograms", tmp_path / "a", seed=5,
                       params=TINY["pair-histograms"], resume=True)
    assert kept.reused and kept.rows is None
    redo = make_figure("pair-histograms", tmp_path / "a", seed=6,
                       params=TINY["pair-histograms"], resume=True)
    assert not redo.reused  # another seed is another figure


def test_phase_boundary_helper():
    d = [0.01, 0.02, 0.04, 0.08]
    assert boundary(d, [-0.2, -0.1, 0.1, 0.2], [True] * 4) == pytest.approx(0.03)
    assert boundary(d, [0.1, 0.2, 0.3, 0.4], [True] * 4) is None
    assert boundary(d, [-0.1, -0.2, -0.3, -0.4], [True] * 4) == 0.08
    # a non-converged point is skipped
    assert boundary(d, [-0.2, 5.0, 0.1, 0.2], [True, False, True, True]) == \
        pytest.approx(0.01 + 0.03 * 2 / 3)


def test_bad_figure_requests(tmp_path):
    with pytest.raises(InputError, match="unknown figure"):
        make_figure("nope", tmp_path)
    with pytest.raises(InputError, match="seed"):
        make_figure("pair-entropy", tmp_path, seed=-1)
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(InputError, match="cannot create"):
        make_figure("pair-entropy", blocker / "sub", params=TINY["pair-entropy"])


def test_replot_from_saved_data(tmp_path, capsys):
    from fplandscape.figures import replot_figure

    res = make_figure("pair-entropy", tmp_path, params=TINY["pair-entropy"])
    png = tmp_path / "pair-entropy.png"
    png.unlink()
    again = replot_figure("pair-entropy", tmp_path)
    assert png.is_file() and again.reused
    assert len(again.rows) == len(res.rows)
    assert [r["pair_entropy"] for r in again.rows] == pytest.approx(
        [r["pair_entropy"] for r in res.rows], rel=1e-12)
    with pytest.raises(InputError, match="no data"):
        replot_figure("entropy", tmp_path)
    from cli_runner import run

    rc, out, err = run(capsys, "figures", "entropy", "--replot", "--out", tmp_path)
    assert rc == 2 and "no data" in err


def test_entropy_typical_points_honest_and_labelled():
    # issue 13 item 4: a cell where some network has no FP must not get a typical square
    # (ln 0 = -inf); it is marked on the lower edge and P(#FP = 0) is drawn in panel (c)
    from fplandscape.figures import entropy

    base = {"series": "enumeration", "panel": "jd", "n": 10, "samples": 30, "eta": 0.0,
            "se_mean_entropy": 0.01, "se_typical_entropy": 0.01}
    rows = [{"series": "theory", "panel": "jd", "n": None, "jd": 0.0, "eta": 0.0, "entropy": 0.0},
            {**base, "jd": 0.0, "mean_entropy": 0.0125, "typical_entropy": 0.098,
             "zero_samples": 18},  # data written before the fix: conditional mean
            {**base, "jd": 1.0, "mean_entropy": 0.53, "typical_entropy": 0.52, "zero_samples": 0}]
    assert entropy.honest_typical(rows[1]) == (None, None)
    assert entropy.honest_typical(rows[2])[0] == 0.52
    fig = entropy.plot(rows)
    a, _, c = fig.axes[:3]
    labels = [t.get_text() for t in a.get_legend().get_texts()]
    assert any("all networks have a FP" in t for t in labels)
    assert any("-\\infty" in t for t in labels)
    squares = [line for line in a.get_lines() if line.get_marker() == "s" and len(line.get_xdata())]
    assert [list(s.get_xdata()) for s in squares] == [[1.0]]
    pz = [line for line in c.get_lines() if len(line.get_xdata())]
    assert list(pz[0].get_ydata()) == [0.6, 0.0]


def test_local_entropy_quick_has_every_legend_curve():
    # issue 13 item 5: the quick run dropped the densest-reference (E7) curve
    from fplandscape.figures import local_entropy as le

    quick = le.parameters(quick=True)
    assert "LD densest" in quick["curves"]
    assert set(quick["curves"]) == set(le.LABELS)
    assert quick["ld_jd_values"] and set(quick["ld_jd_values"]) <= set(quick["jd_values"])
    rows = []
    for label in le.LABELS:
        for i, d in enumerate([0.01, 0.05, 0.2, 0.5]):
            rows.append({"jd": 0.2, "curve": label, "d": d, "local_entropy": 0.1 * d - 0.01,
                         "converged": not (label == "FP kappa=0" and i == 1), "jd_gap": 0.04})
    fig = le.plot(rows)
    texts = [t.get_text() for t in fig.legends[0].get_texts()]
    assert set(le.LABELS.values()) <= set(texts)
    assert "saddle point not converged (left out)" in texts
    blue = [line for line in fig.axes[0].get_lines() if line.get_color() == "tab:blue"
            and line.get_linestyle() == "-"]
    assert sorted(len(line.get_xdata()) for line in blue) == [1, 2]  # broken at the failure


def test_accessibility_scale_rows_fit_only_the_large_sizes(monkeypatch):
    """Panel (c) of figure 6: each N scanned on its own fine window, thresholds passed through,
    and the 1/√N line fitted on N ≥ fit_from only (two points: the line through both,
    J_50(∞) = (y_a √N_a − y_b √N_b)/(√N_a − √N_b))."""
    from types import SimpleNamespace

    from fplandscape.figures import accessibility as fig
    from fplandscape.sim.accessibility import threshold_window

    j50 = {(100, "async"): 0.30, (400, "async"): 0.50, (1600, "async"): 0.60,
           (100, "sync"): 0.40, (400, "sync"): 0.55, (1600, "sync"): None}
    seen = []

    def fake_scan(n_values, jd_values, rules, **kw):
        (n,) = n_values
        seen.append((n, list(jd_values)))
        return SimpleNamespace(rows=[{"n": n}], thresholds=[
            {"kind": "finite_n", "rule": r, "n": n, "j50": j50[n, r], "j50_err": 0.01,
             "status": "ok" if j50[n, r] is not None else "no_crossing"} for r in rules])

    monkeypatch.setattr(fig, "accessibility_scan", fake_scan)
    p = {"rules": ["async", "sync"], "max_sweeps": 10,
         "scale": {"n_values": [100, 400, 1600], "runs": 2, "fit_from": 400}}
    rows = fig._scale_rows(p, 0, {})
    assert seen == [(n, threshold_window(n)) for n in (100, 400, 1600)]
    assert threshold_window(400)[0] == 0.40 and threshold_window(400)[-1] == 0.62
    assert len(threshold_window(400)) == 12
    thr = {(r["n"], r["rule"]): r["j50"] for r in rows if r["kind"] == "scale_threshold"}
    assert thr == j50
    ext = {r["rule"]: r for r in rows if r["kind"] == "scale_extrapolated"}
    assert set(ext) == {"async"}          # sync has one usable size ≥ 400 only
    ya, yb, ra, rb = 0.50, 0.60, 400 ** 0.5, 1600 ** 0.5
    assert ext["async"]["j50"] == pytest.approx((ya * ra - yb * rb) / (ra - rb))
    assert ext["async"]["fit_from"] == 400
    with pytest.raises(InputError, match="no J_D window for N = 300"):
        threshold_window(300)
