"""``fplandscape enumerate``: JSON contract of both forms, hand-made matrices with known fixed
points, --jd override, CSV rows, and clean errors (``error:`` + exit status 2)."""
import csv
import math

import numpy as np
import pytest

import fplandscape
from fplandscape import model
from fplandscape.sim.disorder import child_seeds
from fplandscape.sim.enumerate import enumerate_fixed_points
from cli_runner import run, run_error, run_json





@pytest.fixture
def identity3(tmp_path):
    return model.save_couplings(tmp_path / "eye.npy", np.eye(3))


@pytest.mark.parametrize("suffix", [".npy", ".csv", ".txt", ".npz"])
def test_couplings_identity(capsys, tmp_path, suffix):
    # J = I: h_i = s_i, every one of the 2^3 states is a fixed point
    path = model.save_couplings(tmp_path / f"eye{suffix}", np.eye(3))
    obj = run_json(capsys, "enumerate", "--couplings", path, "--pairs")
    for key in ("n", "count", "pair_distance_hist", "seconds", "method", "version"):
        assert key in obj
    assert obj["n"] == 3 and obj["count"] == 8
    assert obj["pair_distance_hist"] == [0, 12, 12, 4]
    assert obj["method"] == "dfs" and obj["version"] == fplandscape.__version__
    obj = run_json(capsys, "enumerate", "--couplings", path, "--method", "bruteforce")
    assert obj["count"] == 8 and obj["method"] == "bruteforce"
    assert "pair_distance_hist" not in obj


def test_couplings_jd_override(capsys, tmp_path):
    # J = [[0, 1], [1, 0]]: s_1 s_2 > 0 needed -> 2 fixed points; J_D = 2 -> all 4; J_D = -2 -> 0
    path = model.save_couplings(tmp_path / "pair.csv", np.array([[0.0, 1.0], [1.0, 0.0]]))
    assert run_json(capsys, "enumerate", "--couplings", path)["count"] == 2
    obj = run_json(capsys, "enumerate", "--couplings", path, "--jd", 2, "--pairs")
    assert obj["count"] == 4 and obj["jd"] == 2 and obj["pair_distance_hist"] == [0, 4, 2]
    assert run_json(capsys, "enumerate", "--couplings", path, "--jd=-2")["count"] == 0
    # identity with zero diagonal: every field is 0, never stable (strict predicate)
    eye = model.save_couplings(tmp_path / "eye.npy", np.eye(3))
    assert run_json(capsys, "enumerate", "--couplings", eye, "--jd", 0)["count"] == 0


def test_couplings_save_states_and_csv(capsys, tmp_path, identity3):
    states = tmp_path / "fp.npy"
    table = tmp_path / "out.csv"
    obj = run_json(capsys, "enumerate", "--couplings", identity3, "--save-states", states,
                   "--csv", table)
    codes = np.load(states)
    assert codes.dtype == np.uint64 and codes.tolist() == list(range(8))
    assert obj["states_file"] == str(states)
    rows = list(csv.DictReader(open(table)))
    assert len(rows) == 1 and rows[0]["count"] == "8" and rows[0]["n"] == "3"


def test_couplings_readable_text(capsys, identity3):
    rc, out, err = run(capsys, "enumerate", "--couplings", identity3, "--pairs")
    assert rc == 0 and "8 fixed point(s)" in out


def test_ensemble_contract(capsys):
    obj = run_json(capsys, "enumerate", "--n", 9, "--jd", 0.4, "--seed", 11, "--samples", 25,
                   "--pairs")
    assert obj["n"] == 9 and obj["seed"] == 11 and obj["num_samples"] == 25
    assert len(obj["samples"]) == 25
    for i, row in enumerate(obj["samples"]):
        for key in ("n", "count", "pair_distance_hist", "seconds", "method", "version",
                    "ln_count", "sample"):
            assert key in row
        assert row["sample"] == i and len(row["pair_distance_hist"]) == 10
    for key in ("mean_count", "se_count", "expected_count", "z_count", "typical_entropy",
                "zero_samples", "expected_pairs", "z_pairs", "max_abs_z_pairs",
                "mean_ordered_pairs"):
        assert key in obj
    counts = [r["count"] for r in obj["samples"]]
    assert obj["mean_count"] == pytest.approx(np.mean(counts))
    assert obj["expected_count"] == pytest.approx(
        2**9 * (0.5 * math.erfc(-0.4 / math.sqrt(8 / 9) / math.sqrt(2))) ** 9)
    # per-sample counts are those of the documented child seeds
    ens = model.Ensemble(n=9, jd=0.4)
    direct = [enumerate_fixed_points(ens.sample(c)).count for c in child_seeds(11, 25)]
    assert counts == direct


def test_ensemble_options_and_csv(capsys, tmp_path):
    table = tmp_path / "runs.csv"
    obj = run_json(capsys, "enumerate", "--n", 5, "--jd", 0.2, "--layers", 2, "--lam", 0.5,
                   "--seed", 3, "--samples", 4, "--csv", table)
    assert obj["size"] == 10 and obj["layers"] == 2 and obj["expected_count"] > 0
    rows = list(csv.DictReader(open(table)))
    assert [r["kind"] for r in rows] == ["sample"] * 4 + ["summary"]
    assert rows[-1]["mean_count"] and rows[0]["count"] and rows[0]["seed"] == "3"
    obj = run_json(capsys, "enumerate", "--n", 8, "--jd", 0.2, "--eta", 0.5, "--dilution", 0.5,
                   "--seed", 3, "--samples", 4, "--pairs")
    assert obj["expected_count"] is None and obj["expected_pairs"] is None
    rc, out, err = run(capsys, "enumerate", "--n", 8, "--jd", 0.2, "--seed", 3)
    assert rc == 0 and "summary" in out


def test_same_seed_same_output(capsys):
    a = run_json(capsys, "enumerate", "--n", 10, "--jd", 0, "--seed", 5, "--samples", 10)
    b = run_json(capsys, "enumerate", "--n", 10, "--jd", 0, "--seed", 5, "--samples", 10)
    assert [r["count"] for r in a["samples"]] == [r["count"] for r in b["samples"]]


def test_errors_files(capsys, tmp_path):
    np.save(tmp_path / "rect.npy", np.ones((2, 3)))
    run_error(capsys, "enumerate", "--couplings", tmp_path / "rect.npy", match="square")
    (tmp_path / "nan.csv").write_text("1,nan\n0,1\n")
    run_error(capsys, "enumerate", "--couplings", tmp_path / "nan.csv", match="non-finite")
    np.save(tmp_path / "big.npy", np.eye(65))
    run_error(capsys, "enumerate", "--couplings", tmp_path / "big.npy", match="64")
    (tmp_path / "junk.npy").write_bytes(b"not a numpy file")
    run_error(capsys, "enumerate", "--couplings", tmp_path / "junk.npy", match="cannot read")
    run_error(capsys, "enumerate", "--couplings", tmp_path / "missing.npy", match="does not exist")
    (tmp_path / "words.txt").write_text("a b\nc d\n")
    run_error(capsys, "enumerate", "--couplings", tmp_path / "words.txt")


def test_errors_arguments(capsys, tmp_path, identity3):
    run_error(capsys, "enumerate", "--n", 8, "--jd", 0, "--seed", 1, "--samples", -1,
              match="samples")
    run_error(capsys, "enumerate", "--n", 8, "--jd", 0, "--seed", 1, "--samples", 0,
              match="samples")
    run_error(capsys, "enumerate", "--couplings", identity3, "--n", 8, match="not allowed")
    run_error(capsys, "enumerate", "--jd", 0)  # neither
    run_error(capsys, "enumerate", "--n", 65, "--jd", 0, "--seed", 1, match="64")
    run_error(capsys, "enumerate", "--n", 33, "--layers", 2, "--jd", 0, "--seed", 1, match="64")
    run_error(capsys, "enumerate", "--n", 8, "--jd", 0, "--eta", 1.5, "--seed", 1, match="eta")
    run_error(capsys, "enumerate", "--n", 8, "--jd", 0, "--seed", -1, match="--seed")
    run_error(capsys, "enumerate", "--n", 8, "--seed", 1, match="--jd")
    run_error(capsys, "enumerate", "--n", 8, "--jd", 0, "--seed", -1, match="seed")
    run_error(capsys, "enumerate", "--couplings", identity3, "--seed", 1, match="--seed")
    run_error(capsys, "enumerate", "--couplings", identity3, "--save-states",
              tmp_path / "x.txt", match=".npy")
    run_error(capsys, "enumerate", "--couplings", identity3, "--save-states",
              tmp_path / "nodir" / "x.npy", match="does not exist")
    run_error(capsys, "enumerate", "--couplings", identity3, "--method", "gray")
