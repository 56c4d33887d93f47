"""Quick runs never overwrite the committed gallery in figures/: by default they write into
figures-quick/ (git-ignored); full runs write figures/; an explicit output directory wins."""
import shutil
import subprocess
from pathlib import Path

import pytest

import fplandscape.validate.critical as critical_mod
import fplandscape.reproduce as repro
from fplandscape.figures import FULL_OUT_DIR, QUICK_OUT_DIR, default_out_dir, make_figure
from cli_runner import run

REPO = Path(__file__).resolve().parents[1]
TINY_PAIRS = {"n": 6, "jd_values": [0.5], "samples": 3}


def test_default_out_dir_rule(tmp_path):
    assert default_out_dir(quick=False) == Path("figures") == Path(FULL_OUT_DIR)
    assert default_out_dir(quick=True) == Path("figures-quick") == Path(QUICK_OUT_DIR)
    quick = default_out_dir(quick=True).resolve()
    assert Path("figures").resolve() not in (quick, *quick.parents)   # not under figures/
    assert default_out_dir(quick=True, out_dir=tmp_path) == tmp_path   # explicit wins
    assert default_out_dir(quick=False, out_dir="figures/x") == Path("figures/x")


def test_quick_figure_goes_to_its_own_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("FPLANDSCAPE_CHECKPOINTS", str(tmp_path / "ck"))
    res = make_figure("pair-histograms", quick=True, params=TINY_PAIRS, workers=1)
    assert Path(res.paths["png"]).resolve() == tmp_path / "figures-quick" / "pair-histograms.png"
    for p in res.paths.values():
        assert Path(p).is_file() and (tmp_path / "figures-quick") in Path(p).resolve().parents
    assert not (tmp_path / "figures").exists()


def _stub_reproduce(monkeypatch):
    monkeypatch.setattr(repro, "_critical", lambda criteria, say, timings, failures, tol=None: ([], [], {}))
    monkeypatch.setattr(critical_mod, "finite_size_critical", lambda *a, **k: [])
    monkeypatch.setattr(critical_mod, "critical_table", lambda rows: [])


@pytest.mark.parametrize("quick, folder", [(True, "figures-quick"), (False, "figures")])
def test_reproduce_default_folder(tmp_path, monkeypatch, capsys, quick, folder):
    """reproduce() without out_dir (figure step skipped: figures=[])."""
    monkeypatch.chdir(tmp_path)
    _stub_reproduce(monkeypatch)
    summary = repro.reproduce(quick=quick, figures=[], progress=False)
    assert Path(summary["out_dir"]) == Path(folder)
    assert (tmp_path / folder / "data" / "summary.json").is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == [folder]
    assert f"written to {folder}" in capsys.readouterr().out


@pytest.mark.parametrize("argv, folder", [
    (["reproduce", "--quick"], "figures-quick"),
    (["reproduce"], "figures"),
    (["reproduce", "--quick", "--out", "elsewhere"], "elsewhere"),
    (["figures", "pair-histograms", "--quick"], "figures-quick"),
    (["figures", "pair-histograms"], "figures"),
])
def test_cli_default_folder(tmp_path, monkeypatch, capsys, argv, folder):
    import fplandscape.figures as figures_mod
    from fplandscape.figures import FigureResult

    seen = {}

    def fake_reproduce(out_dir, **kw):
        seen["out"] = out_dir
        return {"failures": []}

    def fake_make_figure(name, out_dir, **kw):
        seen["out"] = out_dir
        return FigureResult(name, {"png": f"{out_dir}/{name}.png"}, [], 0.0)

    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(repro, "reproduce", fake_reproduce)
    monkeypatch.setattr(figures_mod, "make_figure", fake_make_figure)
    rc, _, err = run(capsys, *argv)
    assert rc == 0, err
    assert Path(seen["out"]) == Path(folder)


def test_help_names_the_quick_folder(capsys):
    rc, out, _ = run(capsys, "reproduce", "--help")
    assert rc == 0 and "figures-quick" in " ".join(out.split())


def test_quick_folder_is_git_ignored():
    assert "/figures-quick/" in (REPO / ".gitignore").read_text().splitlines()
    if shutil.which("git") is None or not (REPO / ".git").exists():
        pytest.skip("not a git checkout")
    r = subprocess.run(["git", "check-ignore", "-q", "figures-quick/entropy.png"], cwd=REPO)
    assert r.returncode == 0


def test_resume_reuses_critical_values_only_with_the_same_key(tmp_path):
    import json

    from fplandscape.reproduce import _critical_kept

    key = {"version": "x", "criteria": ["gap"], "tol": None}
    assert _critical_kept(tmp_path, key) is None                       # nothing stored
    (tmp_path / "critical.json").write_text("{not json")
    assert _critical_kept(tmp_path, key) is None                       # unreadable: solve
    (tmp_path / "critical.json").write_text(json.dumps(
        {"key": key, "critical_rows": [{"criterion": "gap"}], "evidence_rows": [],
         "found": {"gap": 0.0427}}))
    assert _critical_kept(tmp_path, key) == ([{"criterion": "gap"}], [], {"gap": 0.0427})
    assert _critical_kept(tmp_path, {**key, "tol": 2e-3}) is None      # other tolerance
    assert _critical_kept(tmp_path, {**key, "version": "y"}) is None   # other version


def test_summary_thresholds_prefer_the_fine_window_scan():
    """The summary's J_50 table: a rule with fine-window thresholds (figure 6c) reports those and
    their fit on N ≥ fit_from, not the coarse grid's; a rule without (fbp) keeps the coarse ones."""
    acc = [{"kind": "threshold", "rule": "async", "n": 200, "j50": 0.41, "j50_err": 0.01},
           {"kind": "extrapolated", "rule": "async", "form": "sqrt", "headline": True,
            "j50": 0.75, "j50_err": 0.02},
           {"kind": "threshold", "rule": "fbp", "n": 200, "j50": 0.14, "j50_err": 0.01},
           {"kind": "extrapolated", "rule": "fbp", "form": "sqrt", "headline": True,
            "j50": 0.10, "j50_err": 0.06},
           {"kind": "scale_threshold", "rule": "async", "n": 200, "j50": 0.399, "j50_err": 0.004},
           {"kind": "scale_threshold", "rule": "async", "n": 12800, "j50": 0.746,
            "j50_err": 0.006},
           {"kind": "scale_extrapolated", "rule": "async", "form": "sqrt", "fit_from": 1600,
            "j50": 0.803, "j50_err": 0.005}]
    out = repro._thresholds({"accessibility": acc}, {"gap": 0.0427})
    assert [(r["rule"], r["n"], r["j50"]) for r in out] == [
        ("fbp", 200, 0.14), ("fbp", "inf (sqrt fit)", 0.10),
        ("async", 200, 0.399), ("async", 12800, 0.746),
        ("async", "inf (sqrt fit, N >= 1600)", 0.803), ("theory:gap", "inf", 0.0427)]
