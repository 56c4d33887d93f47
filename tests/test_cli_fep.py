"""``fplandscape fep ...``: the JSON contracts of ``demo`` and ``sequence``, agreement with the
Python API, the files ``train`` writes, ``relax`` and ``analyse`` through the attractor engine,
and clean errors for bad input (``error:`` + exit 2, before any work)."""
import csv
from pathlib import Path

import numpy as np
import pytest

import cli_runner
from fplandscape.attractors import RateMap, load_system
from fplandscape.learn.fep import studies
from fplandscape.learn.fep.data import demo_patterns

REF = np.load(Path(__file__).parent / "data" / "fep_reference_parity.npz")


def run(capsys, *argv):
    """``fplandscape fep ...`` through the one CLI entry point (tests/cli_runner.py)."""
    return cli_runner.run(capsys, "fep", *argv)


def run_json(capsys, *argv):
    return cli_runner.run_json(capsys, "fep", *argv)


def run_error(capsys, *argv, match=None):
    return cli_runner.run_error(capsys, "fep", *argv, match=match)


@pytest.fixture(scope="module")
def digits_file(tmp_path_factory):
    """The first ten digits (0-9) of scikit-learn's set, as stored with the reference arrays."""
    p = tmp_path_factory.mktemp("digits") / "digits.npz"
    np.savez(p, data=REF["digits_raw"], target=REF["digits_target"])
    return p


def test_demo_json_contract_and_claim(capsys):
    obj = run_json(capsys, "demo")
    keys = ("pattern_correlation", "attractor_correlation", "n_attractors", "eta", "seconds")
    assert list(obj)[:5] == list(keys)
    assert isinstance(obj["n_attractors"], int) and obj["seconds"] > 0
    assert obj["pattern_correlation"] == pytest.approx(0.7706, abs=1e-4)
    assert obj["attractor_correlation"] < obj["pattern_correlation"] - 0.5
    ref = studies.demo(0)
    for k in keys[:4]:
        assert obj[k] == pytest.approx(ref[k], abs=1e-12)
    assert obj["params"]["evidence"] == 30 and obj["params"]["presentations"] == 500
    other = run_json(capsys, "demo", "--order", "sequential", "--seed", "3")
    assert other["params"]["order"] == "sequential" and other["seed"] == 3
    assert other["eta"] != obj["eta"]


def test_sequence_json_contract_random_vs_sequential(capsys, digits_file):
    seq = run_json(capsys, "sequence", "--digits-file", digits_file, "--snapshots", 2)
    assert list(seq)[:3] == ["eta", "asymmetry", "seconds"]
    assert seq["asymmetry"] > 0.9 and seq["eta"] < 0.7
    assert len(seq["trace"]) == 2 and seq["forward_fraction"] > 0.9
    rnd = run_json(capsys, "sequence", "--digits-file", digits_file, "--order", "random")
    assert rnd["eta"] > seq["eta"] + 0.3 and rnd["asymmetry"] < 0.5
    # the same as the Python API with the reference's preprocessed digits
    api = studies.sequence(0, patterns=REF["digits_pre"][1:4], free_run=False)
    assert seq["eta"] == pytest.approx(api["eta"], abs=1e-12)


def test_train_writes_the_demo_network_readable_by_the_attractor_engine(capsys, tmp_path):
    out = tmp_path / "J.npz"
    obj = run_json(capsys, "train", "--demo-patterns", "--seed", 2, "--out", out,
                   "--presentations", 100)
    assert obj["out"] == str(out) and obj["n"] == 25
    J = np.load(out)["J"]
    assert np.allclose(J, studies.demo(2, presentations=100)["J"], atol=0)
    system = load_system(out, phi="langevin")
    assert isinstance(system, RateMap) and np.array_equal(system.W, J)
    assert obj["eta"] == pytest.approx(
        np.corrcoef(J[np.triu_indices(25, 1)], J.T[np.triu_indices(25, 1)])[0, 1])
    # patterns from a file, deterministic, asynchronous
    pats = tmp_path / "p.csv"
    np.savetxt(pats, demo_patterns(), delimiter=",")
    obj2 = run_json(capsys, "train", "--patterns", pats, "--deterministic", "--update",
                    "async", "--presentations", 20, "--steps", 2)
    assert obj2["params"]["update"] == "async" and obj2["params"]["stochastic"] is False


def test_relax_reaches_fixed_points_and_writes_csv(capsys, tmp_path):
    Jf = tmp_path / "J.npz"
    run_json(capsys, "train", "--demo-patterns", "--out", Jf)
    pats = tmp_path / "p.npy"
    np.save(pats, demo_patterns())
    rows = tmp_path / "rows.csv"
    obj = run_json(capsys, "relax", "--weights", Jf, "--patterns", pats, "--csv", rows)
    assert obj["n_starts"] == 2 and obj["n_converged"] == 2
    S = np.array(obj["states"])
    assert np.abs(RateMap(np.load(Jf)["J"], phi="langevin").residual(S)).max() < 1e-8
    with open(rows) as fh:
        assert len(list(csv.DictReader(fh))) == 2
    # a too small step budget is reported, not hidden
    obj = run_json(capsys, "relax", "--weights", Jf, "--patterns", pats, "--max-steps", 2)
    assert obj["n_converged"] == 0 and all(np.isfinite(np.array(obj["states"])).ravel())
    rc, out, _ = run(capsys, "relax", "--weights", Jf, "--patterns", pats)
    assert rc == 0 and "2 of 2 start(s) converged" in out


def test_analyse_counts_fixed_points_beside_the_random_prediction(capsys, tmp_path):
    Jf = tmp_path / "J.npz"
    run_json(capsys, "train", "--demo-patterns", "--out", Jf)
    pats = tmp_path / "p.npy"
    np.save(pats, demo_patterns())
    obj = run_json(capsys, "analyse", "--weights", Jf, "--patterns", pats, "--starts", 64,
                   "--census-starts", 8, "--exact-max-n", 25)
    assert obj["n"] == 25 and obj["n_stable"] >= 2
    d = obj["diagnosis"]
    assert isinstance(d["count"], int) and d["count"] >= 2
    assert d["expected_count"] > 0
    # the learned landscape: far fewer sign fixed points than a random matrix at the same eta
    assert d["count"] < d["expected_count"]
    assert obj["census"]["fractions"]["fixed_point"] == pytest.approx(1.0)
    # each stable fixed point resembles one pattern or its negative
    best = np.max(np.abs(np.array(obj["overlaps"])), axis=1)
    assert np.all(best > 0.5)


@pytest.mark.parametrize("argv, match", [
    (["demo", "--beta", "0"], "--beta"),
    (["demo", "--presentations", "0"], "--presentations"),
    (["demo", "--learning-rate", "-1"], "--learning-rate"),
    (["demo", "--beta", "nan"], "not a finite number"),
    (["demo", "--order", "shuffled"], "invalid choice"),
    (["sequence", "--seed", "-1"], "--seed"),
    (["train", "--digits", "1,12"], "--digits"),
    (["train", "--digits", "1", "12"], "digit classes 0-9"),
    (["train"], "one of the arguments"),
    (["relax", "--weights", "/nonexistent/J.npy", "--start", "/nonexistent/s.csv"],
     "does not exist"),
    (["analyse", "--weights", "/nonexistent/J.npy"], "does not exist"),
])
def test_bad_input_is_refused(capsys, argv, match):
    run_error(capsys, *argv, match=match)


def test_bad_files_are_refused(capsys, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("1,nan,0\n0,1,0\n")
    run_error(capsys, "train", "--patterns", bad, match="non-finite")
    J = tmp_path / "J.npy"
    np.save(J, np.zeros((4, 4)))
    s = tmp_path / "s.csv"
    np.savetxt(s, np.zeros((2, 3)), delimiter=",")
    run_error(capsys, "relax", "--weights", J, "--start", s, match="length 3")
    run_error(capsys, "train", "--demo-patterns", "--out", tmp_path / "J.txt", match=".npz")
    run_error(capsys, "demo", "--out", tmp_path / "missing" / "dir" / "J.npz")
    rect = tmp_path / "R.npy"
    np.save(rect, np.zeros((3, 4)))
    run_error(capsys, "analyse", "--weights", rect, match="square")
