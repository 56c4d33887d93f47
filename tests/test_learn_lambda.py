"""The λ study (``learn.lambda_study.lambda_advantage``, ``fplandscape learn lambda``) on a tiny
configuration: the settings it builds, its rows, workers-independence, resuming, the CLI and
bad input. The study's numbers themselves come from benchmarks/learn_reference.py."""
from __future__ import annotations

import math

import numpy as np
import pytest

from cli_runner import run_error, run_json
from fplandscape.errors import InputError
from fplandscape.learn import synthetic
from fplandscape.learn.lambda_study import lambda_advantage, setting
from fplandscape.learn.train import Schedule

DATA = synthetic(classes=3, n_in=16, n_train=48, n_test=24, seed=2)
KW = dict(lam_in_values=[5.0], samples=2, hidden=12, epochs=2)


def _strip(rows):
    return [{k: v for k, v in r.items() if k != "seconds_per_epoch"} for r in rows]


def test_settings_are_the_reference_experiment():
    arch, rule, sched = setting("reference", DATA, hidden=12, lam=2.5, lam_in=2.0)
    assert (arch.layers, arch.jd, arch.lam, arch.lam_in, arch.lam_back) == (2, 0.0, 2.5, 2.0,
                                                                              0.9)
    assert arch.skip and arch.input_to == "all"
    assert sched == Schedule.reference(2)
    assert rule.kappa_h == pytest.approx(3.4) and rule.readout_code == "reference"
    arch2, rule2, sched2 = setting("ours", DATA, hidden=12, lam=2.5, lam_in=2.0)
    assert arch2 == arch and sched2.warmup == "front" and rule2.readout_code == "pm1"
    with pytest.raises(InputError):
        setting("author", DATA, hidden=12, lam=1.0, lam_in=5.0)


def test_rows_summary_workers_and_resume(tmp_path):
    res = lambda_advantage(DATA, [0.0, 2.0], workers=1, **KW)
    rows = res.as_rows()
    # 2 λ × 1 λ_in × 2 samples two-module runs, then 2 one-module runs
    assert len(rows) == 6
    assert [r["setting"] for r in rows] == ["reference"] * 4 + ["one-module"] * 2
    assert [r["seed"] for r in rows] == [0, 1, 0, 1, 0, 1]
    assert {r["layers"] for r in rows[:4]} == {2} and rows[4]["layers"] == 1
    assert rows[4]["jd"] == 0.5 and rows[0]["jd"] == 0.0
    for r in rows:
        assert 0 <= r["test_accuracy"] <= r["max_test_accuracy"] <= 1
        assert r["epochs"] == 2 and r["version"]
    summ = res.summary()
    assert len(summ) == 3 and all(s["samples"] == 2 for s in summ)
    first = [r["test_accuracy"] for r in rows[:2]]
    assert summ[0]["test_accuracy"] == pytest.approx(np.mean(first))
    assert summ[0]["test_accuracy_se"] == pytest.approx(np.std(first, ddof=1) / math.sqrt(2))
    # the same rows with two workers, and after resuming a journalled run
    two = lambda_advantage(DATA, [0.0, 2.0], workers=2, **KW)
    assert _strip(two.as_rows()) == _strip(rows)
    ck = tmp_path / "ck"
    lambda_advantage(DATA, [0.0, 2.0], workers=1, checkpoint=ck, **KW)
    again = lambda_advantage(DATA, [0.0, 2.0], workers=1, checkpoint=ck, resume=True, **KW)
    assert _strip(again.as_rows()) == _strip(rows)


@pytest.mark.parametrize("kw, match", [
    (dict(lam_values=[-1.0]), "lambda"), (dict(lam_values=[]), "lambda"),
    (dict(lam_values=[1.0], samples=0), "samples"), (dict(lam_values=[1.0], hidden=0), "hidden"),
    (dict(lam_values=[1.0], settings=("x",)), "setting")])
def test_bad_input(kw, match):
    args = {**KW, **kw}
    lam = args.pop("lam_values")
    with pytest.raises(InputError, match=match):
        lambda_advantage(DATA, lam, workers=1, **args)


def test_cli(capsys):
    base = ("learn", "lambda", "--dataset", "synthetic", "--train-size", "48", "--test-size",
            "24", "--hidden", "12", "--epochs", "1", "--lam-in", "5", "--samples", "1",
            "--workers", "1")
    obj = run_json(capsys, *base, "--lam", "0", "3", "--settings", "reference", "ours")
    assert {(s["setting"], s["lam"]) for s in obj["summary"]} == {
        ("reference", 0.0), ("reference", 3.0), ("ours", 0.0), ("ours", 3.0),
        ("one-module", 0.0)}
    assert len(obj["rows"]) == 5 and obj["params"]["hidden"] == 12
    run_error(capsys, *base, "--lam", "-1", match="--lam")
    run_error(capsys, *base, "--settings", "author", match="--settings")
    run_error(capsys, *base, "--samples", "0", match="--samples")
