"""``fplandscape dynamics`` and ``fplandscape accessibility``: JSON contracts, agreement with the
Python API (same network and initial states as the scan's network 0), value-list parsing,
CSV rows and clean errors (``error:`` + exit status 2)."""
import csv

import numpy as np
import pytest

import fplandscape
from fplandscape import model
from fplandscape.sim import accessibility as acc
from fplandscape.sim.dynamics import run_dynamics
from fplandscape.validate.reached import with_typical_mean_stability
from cli_runner import run, run_error, run_json



@pytest.mark.parametrize("rule", ["async", "sync", "anneal"])
def test_dynamics_json_contract(capsys, rule):
    obj = run_json(capsys, "dynamics", "--n", 40, "--jd", 0.7, "--rule", rule, "--runs", 5,
                   "--seed", 3, "--max-sweeps", 400)
    for key in ("n", "jd", "rule", "p_converged", "median_sweeps", "runs", "version", "seed",
                "p_fixed_point", "typical_mean_stability"):
        assert key in obj
    assert (obj["n"], obj["jd"], obj["rule"]) == (40, 0.7, rule)
    assert obj["version"] == fplandscape.__version__
    assert len(obj["runs"]) == 5
    for r in obj["runs"]:
        for key in ("converged", "sweeps", "is_fixed_point", "margin", "mean_stability"):
            assert key in r
        assert (r["margin"] > 0) == r["is_fixed_point"]
    conv = [r["converged"] for r in obj["runs"]]
    assert obj["p_converged"] == pytest.approx(np.mean(conv))
    ok = [r["sweeps"] for r in obj["runs"] if r["converged"]]
    assert obj["median_sweeps"] == (float(np.median(ok)) if ok else None)


def test_dynamics_is_network_zero_of_the_scan(capsys):
    obj = run_json(capsys, "dynamics", "--n", 30, "--jd", 0.4, "--rule", "sync", "--runs", 8,
                   "--seed", 9, "--max-sweeps", 300)
    net_ss, run_ss = acc.cell_seeds(9, 30, 0)
    J = model.gaussian_couplings(30, 0.4, seed=np.random.default_rng(net_ss))
    ref = run_dynamics(J, rule="sync", runs=8, max_sweeps=300, seed=run_ss)
    assert [r["sweeps"] for r in obj["runs"]] == ref.sweeps.tolist()
    assert [r["margin"] for r in obj["runs"]] == ref.margin.tolist()
    scan = acc.accessibility_scan([30], [0.4], rules=("sync",), runs=8, max_sweeps=300, seed=9,
                                  workers=1)
    assert scan.rows[0]["p_reach"] == obj["p_fixed_point"]


def test_dynamics_text_and_csv(capsys, tmp_path):
    path = tmp_path / "runs.csv"
    rc, out, err = run(capsys, "dynamics", "--n", 20, "--jd", 1.0, "--runs", 3, "--seed", 0,
                       "--csv", path)
    assert rc == 0, err
    assert "runs converged" in out and "wrote 3 row(s)" in err
    rows = list(csv.DictReader(open(path)))
    assert len(rows) == 3 and rows[0]["rule"] == "async" and rows[0]["version"]


def test_accessibility_json_contract(capsys, tmp_path):
    path = tmp_path / "acc.csv"
    obj = run_json(capsys, "accessibility", "--n", 20, 40, "--jd", "0.2:0.8:4",
                   "--rules", "async", "sync", "--runs", 4, "--seed", 5, "--max-sweeps", 200,
                   "--no-progress", "--workers", 1, "--csv", path)
    assert {"rows", "thresholds", "version", "seed"} <= set(obj)
    assert len(obj["rows"]) == 2 * 4 * 2
    assert sorted({r["jd"] for r in obj["rows"]}) == pytest.approx([0.2, 0.4, 0.6, 0.8])
    for key in ("n", "jd", "rule", "p_reach", "p_reach_se", "median_sweeps", "runs", "reached",
                "seconds"):
        assert key in obj["rows"][0]
    fin = [t for t in obj["thresholds"] if t["kind"] == "finite_n"]
    ext = [t for t in obj["thresholds"] if t["kind"] == "extrapolated"]
    assert {(t["rule"], t["n"]) for t in fin} == {(r, n) for r in ("async", "sync")
                                                  for n in (20, 40)}
    for t in fin:
        assert {"j50", "j50_err", "status", "method"} <= set(t)
    assert {t["form"] for t in ext} == {"sqrt", "linear"}
    assert all("j50_inf" in t and "j50_inf_err" in t for t in ext)
    ref = with_typical_mean_stability(acc.accessibility_scan(
        [20, 40], [float(x) for x in np.linspace(0.2, 0.8, 4)], rules=("async", "sync"),
        runs=4, seed=5, max_sweeps=200, workers=1))
    strip = lambda rows: [{k: v for k, v in r.items() if k != "seconds"} for r in rows]
    assert strip(obj["rows"]) == strip(ref.rows)
    rows = list(csv.DictReader(open(path)))
    assert len(rows) == len(ref.rows) + len(ref.thresholds)
    assert {r["kind"] for r in rows} == {"cell", "finite_n", "extrapolated"}


def test_jd_value_forms():
    """accessibility --jd: the CLI-wide forms (space-separated list, START:STOP:NUM)."""
    from fplandscape.cli import build_parser

    def jd(*tokens):
        return build_parser().parse_args(["accessibility", "--n", "10", "--jd", *tokens]).jd

    assert jd("0:1:3") == [0.0, 0.5, 1.0]
    assert jd("0.1", "0.2") == [0.1, 0.2]
    assert jd("0.5") == [0.5]


@pytest.mark.parametrize("argv, match", [
    (["dynamics", "--n", 10, "--jd", 0.5, "--rule", "bogus", "--seed", 0], "unknown algorithm"),
    (["dynamics", "--n", 0, "--jd", 0.5, "--seed", 0], "--n must be a positive integer"),
    (["dynamics", "--n", 10, "--jd", 0.5, "--seed", -1], "--seed must be"),
    (["dynamics", "--n", 10, "--jd", 0.5, "--seed", 0, "--runs", 0], "--runs must be"),
    (["dynamics", "--n", 10, "--jd", "nan", "--seed", 0], "not a finite number"),
    (["dynamics", "--n", 10, "--jd", 0.5, "--seed", 0, "--eta", 3], "--eta must lie"),
    (["dynamics", "--n", 10, "--jd", 0.5, "--seed", "x"], "--seed"),
    (["accessibility", "--n", 10, "x", "--jd", 0.5, "--seed", 0], "not an integer"),
    (["accessibility", "--n", 10, 10, "--jd", 0.5, "--seed", 0], "repeated"),
    (["accessibility", "--n", "10,20", "--jd", 0.5, "--seed", 0], "space-separated"),
    (["accessibility", "--n", 10, "--jd", "1:0:0.1", "--seed", 0], "START:STOP:NUM"),
    (["accessibility", "--n", 10, "--jd", "0:1:-0.1", "--seed", 0], "NUM must be"),
    (["accessibility", "--n", 10, "--jd", "0:1", "--seed", 0], "START:STOP:NUM"),
    (["accessibility", "--n", 10, "--jd", 0.5, "--seed", 0, "--rules", "async", "nope"],
     "unknown algorithm"),
    (["accessibility", "--n", 10, "--jd", 0.5, "--seed", 0, "--runs", 0], "--runs must be"),
    (["accessibility", "--n", 10, "--jd", 0.5, "--seed", 0, "--samples", 0],
     "--samples must be a positive integer"),
    # the deprecated spelling: the message names the one option, --samples
    (["accessibility", "--n", 10, "--jd", 0.5, "--seed", 0, "--networks", 0],
     "--samples must be a positive integer"),
    (["accessibility", "--n", 10, "--jd", 0.5, "--seed", 0, "--csv", "/nonexistent/x.csv"],
     "does not exist"),
])
def test_bad_input_exits_2(capsys, argv, match):
    run_error(capsys, *argv, match=match)


def test_accessibility_samples_and_deprecated_networks_spelling():
    """--samples (the one name, as enumerate/validate --samples); --networks still parses to
    the same option but is not in --help (issue 14)."""
    from fplandscape.cli import build_parser

    def parse(*argv):
        return build_parser().parse_args(["accessibility", "--n", "10", "--jd", "0.5", *argv])

    assert parse().samples == 1
    assert parse("--samples", "3").samples == 3
    assert parse("--networks", "3").samples == 3
    assert not hasattr(parse("--networks", "3"), "networks")
    sub = build_parser()._subparsers._group_actions[0].choices["accessibility"]
    help_text = sub.format_help()
    assert "--samples M" in help_text and "--networks" not in help_text


def test_bp_entropy_command(capsys, tmp_path):
    """Contract keys; --n builds network 0 of 'dynamics' with the same seed (same value as the
    Python function on that matrix and as --couplings with the saved matrix); clean errors."""
    from fplandscape.sim.bp import bethe_entropy

    obj = run_json(capsys, "bp-entropy", "--n", 60, "--jd", 0.5, "--seed", 3)
    assert {"bethe_entropy", "converged"} <= set(obj) and obj["converged"] is True
    net_ss, _ = acc.cell_seeds(3, 60, 0)
    J = model.gaussian_couplings(60, 0.5, seed=np.random.default_rng(net_ss))
    assert obj["bethe_entropy"] == bethe_entropy(J, seed=3).entropy
    f = tmp_path / "J.npy"
    np.save(f, J)
    obj2 = run_json(capsys, "bp-entropy", "--couplings", f, "--seed", 3)
    assert obj2["bethe_entropy"] == obj["bethe_entropy"]
    rc, _, err = run(capsys, "bp-entropy", "--n", 60, "--seed", 3)
    assert rc == 2 and "--jd" in err
    rc, _, err = run(capsys, "bp-entropy", "--couplings", tmp_path / "missing.npy")
    assert rc == 2 and err.startswith("error:")


def test_fbp_rule_reaches_fixed_points(capsys):
    obj = run_json(capsys, "dynamics", "--n", 80, "--jd", 0.3, "--rule", "fbp", "--runs", 2,
                   "--seed", 1, "--max-sweeps", 3000)
    from fplandscape.sim.bp import accessibility_runner

    net_ss, run_ss = acc.cell_seeds(1, 80, 0)
    J = model.gaussian_couplings(80, 0.3, seed=np.random.default_rng(net_ss))
    assert obj["rule"] == "fbp" and len(obj["runs"]) == 2
    for r in obj["runs"]:
        if r["is_fixed_point"]:
            assert r["margin"] > 0
    assert obj["p_fixed_point"] > 0  # focusing BP solves this easy instance
    # the command runs the Python runner on network 0 of the scan: same outcome, true FPs
    out = accessibility_runner(J, runs=2, max_sweeps=3000, seed=run_ss)
    assert [r["is_fixed_point"] for r in obj["runs"]] == out["reached"].tolist()
    for state, reached in zip(out["states"], out["reached"]):
        assert bool(model.is_fixed_point(J, state)) == bool(reached)


def test_dynamics_runs_every_algorithm_through_the_registry(capsys):
    """``dynamics --rule R`` runs the registered runner of R (fplandscape.sim.algorithms) with
    the command's options that R takes: per-run columns in one order for every algorithm
    (optional cycle2 / energy / flips where the runner gives them)."""
    from fplandscape.sim import algorithms

    cols = {"async": ["run", "converged", "is_fixed_point", "cycle2", "sweeps", "flips",
                      "margin", "mean_stability"],
            "anneal": ["run", "converged", "is_fixed_point", "energy", "sweeps", "flips",
                       "margin", "mean_stability"]}
    net_ss, run_ss = acc.cell_seeds(2, 24, 0)
    J = model.gaussian_couplings(24, 0.5, seed=np.random.default_rng(net_ss))
    for rule, extra in (("async", ["--order", "fixed"]), ("anneal", ["--beta1", 4])):
        obj = run_json(capsys, "dynamics", "--n", 24, "--jd", 0.5, "--rule", rule, "--runs", 3,
                       "--seed", 2, "--max-sweeps", 200, *extra)
        assert [list(r) for r in obj["runs"]] == [cols[rule]] * 3
        opts = {"order": "fixed"} if rule == "async" else {"beta0": 0.5, "beta1": 4.0,
                                                           "schedule": "linear"}
        ref = algorithms.get_algorithm(rule).runner(J, runs=3, max_sweeps=200, seed=run_ss,
                                                    **opts)
        assert [r["sweeps"] for r in obj["runs"]] == ref["sweeps"].tolist()
        assert [r["is_fixed_point"] for r in obj["runs"]] == ref["reached"].tolist()

    def half(J, *, runs, max_sweeps, seed):
        n = J.shape[0]
        reached = np.arange(runs) % 2 == 0
        return {"reached": reached, "converged": reached, "sweeps": np.full(runs, 7),
                "states": np.ones((runs, n), np.int8), "margin": np.zeros(runs),
                "mean_stability": np.ones(runs)}

    algorithms.register_algorithm("test-half", half, replace=True)
    obj = run_json(capsys, "dynamics", "--n", 10, "--jd", 0.5, "--rule", "test-half",
                   "--runs", 4, "--seed", 0)
    assert [list(r) for r in obj["runs"]] == [["run", "converged", "is_fixed_point", "sweeps",
                                               "margin", "mean_stability"]] * 4
    assert obj["p_fixed_point"] == 0.5 and obj["seconds"] is None
    assert obj["median_sweeps"] == 7.0
