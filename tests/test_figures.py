"""Each figure of spec §6 renders headless (Agg, no display) on tiny inputs, writes PNG, PDF,
CSV and JSON, and its data agree with the theory functions they plot."""
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
                      "fbp_runs": 2, "critical": ["gap"]},
    "reached-vs-typical": {"n": 8, "jd_values": [0.8], "rules": ["async"], "runs": 4,
                           "networks": 1, "uniform_samples": 50, "large_n": 30},
    "learning": {"hidden": [20], "epochs": 2, "scan_epochs": 1, "jd_values": [0.0, 0.5],
                 "lam_values": [0.0, 1.0], "capacity_hidden": 10, "capacity_alpha": [0.5],
                 "capacity_layers": [1], "capacity_epochs": 3, "critical": ["gap"]},
    "modular": {"jd_values": [0.5], "layers": ["1", "2", "inf"],
                "lam_theory": {"start": 0.0, "stop": 1.0, "num": 5}, "sim_lam": [0.0, 1.0],
                "sim_layers": [2], "sim_n": 4, "samples": 5},
    "attractors": {"demo": {"n": 30, "patterns": 2, "strength": 2.0, "noise": 0.3,
                            "starts": 256, "trajectories": 4, "pca_starts": 16, "steps": 30,
                            "directions": 2, "arrow": 0.3},
                   "census": {"n": 20, "gains": [0.5, 2.0], "networks": 2, "starts": 8,
                              "steps": 200, "transient": 100, "k": 2}},
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
