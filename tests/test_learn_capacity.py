"""Capacity versus depth (issue 17 item 1): fplandscape.learn.capacity and ``fplandscape learn
capacity`` end to end on a tiny configuration (N = 20 inputs, C = 3 labels, H = 12)."""
import numpy as np
import pytest

from cli_runner import run, run_error, run_json
from fplandscape.errors import InputError
from fplandscape.learn import capacity
from fplandscape.learn.capacity import (_associations, association_outcome, capacity_estimates,
                                        capacity_vs_depth)
from fplandscape.learn.network import Architecture
from fplandscape.learn.rule import Plasticity
from fplandscape.learn.train import train
from fplandscape.learn.data import Dataset

TINY = dict(n_in=20, classes=3, samples=2, epochs=60, patience=8)
LOADS = [2, 6, 24, 48]


@pytest.fixture(scope="module")
def result():
    return capacity_vs_depth(12, LOADS, layers=(1, 2), workers=1, **TINY)


def test_rows_columns_and_consistency(result):
    rows = result.rows
    assert len(rows) == 2 * len(LOADS) * 2
    assert [(r["layers"], r["patterns"], r["sample"]) for r in rows] == \
        [(L, P, v) for L in (1, 2) for P in LOADS for v in (0, 1)]
    for r in rows:
        assert r["alpha_input"] == r["patterns"] / 20
        assert r["alpha_unit"] == r["patterns"] / (r["layers"] * 12)
        assert 1 <= r["epochs"] <= 60 and r["version"] and r["seed"] == 0
        # stored ⇒ recalled: a strict fixed point with the readout at its target predicts it
        assert r["recalled_fraction"] >= r["stored_fraction"]
        assert not (r["converged"] and r["stalled"])
        assert r["converged"] or r["stalled"] or r["epochs"] == 60
    tiny = [r for r in rows if r["patterns"] == 2]
    assert all(r["stored_fraction"] == 1.0 and r["recalled_fraction"] == 1.0 and r["converged"]
               for r in tiny)
    big = [r for r in rows if r["patterns"] == 48]  # 48 associations, 20 inputs, 12 units
    assert all(r["stored_fraction"] < 1.0 for r in big)


def test_capacity_estimates(result):
    caps = result.capacities
    assert [(c["layers"], c["criterion"]) for c in caps] == \
        [(1, "stored"), (1, "recalled"), (2, "stored"), (2, "recalled")]
    for c in caps:
        assert c["status"] == "interpolated" and 2 < c["patterns_c"] < 48
        assert c["capacity_input"] == pytest.approx(c["patterns_c"] / 20)
        assert c["capacity_unit"] == pytest.approx(c["patterns_c"] / (12 * c["layers"]))
    for L in (1, 2):
        st, rc = [c for c in caps if c["layers"] == L]
        assert rc["patterns_c"] >= st["patterns_c"]  # stored ⇒ recalled, curve by curve
    # the formula by hand: the mean curve of layers 1, stored, at level 0.9
    fbar = [np.mean([r["stored_fraction"] for r in result.rows
                     if r["layers"] == 1 and r["patterns"] == P]) for P in LOADS]
    i = next(k for k, f in enumerate(fbar) if f <= 0.9)
    p0, p1, f0, f1 = LOADS[i - 1], LOADS[i], fbar[i - 1], fbar[i]
    assert caps[0]["patterns_c"] == pytest.approx(p0 + (p1 - p0) * (f0 - 0.9) / (f0 - f1))
    # grid that does not bracket the crossing
    low = capacity_estimates([r for r in result.rows if r["patterns"] >= 24])
    assert {c["status"] for c in low} == {"below grid"} and low[0]["patterns_c"] is None
    rows = result.as_rows()
    assert {r["kind"] for r in rows} == {"load", "capacity"} and len(rows) == 16 + 4


def test_workers_and_resume_do_not_change_rows(result, tmp_path, monkeypatch):
    def strip(rows):
        return [{k: v for k, v in r.items() if k != "seconds"} for r in rows]

    two = capacity_vs_depth(12, LOADS, layers=(1, 2), workers=2, **TINY)
    assert strip(two.rows) == strip(result.rows) and two.capacities == result.capacities
    ck = tmp_path / "ck"
    calls = {"n": 0}

    def stop_after_three(i, r):
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt
        return r

    from fplandscape import parallel

    orig = parallel.run_study

    def interrupted(*a, **kw):
        return orig(*a, **{**kw, "on_result": stop_after_three})

    monkeypatch.setattr(parallel, "run_study", interrupted)
    with pytest.raises(KeyboardInterrupt):
        capacity_vs_depth(12, LOADS, layers=(1, 2), workers=1, checkpoint=ck, **TINY)
    monkeypatch.setattr(parallel, "run_study", orig)
    assert calls["n"] == 3 and ck.exists()
    resumed = capacity_vs_depth(12, LOADS, layers=(1, 2), workers=1, checkpoint=ck,
                                resume=True, **TINY)
    assert strip(resumed.rows) == strip(result.rows)


def test_associations_are_nested_and_outcome_is_the_studies_one():
    x4, l4 = _associations(20, 3, 4, sample=1, seed=5)
    x9, l9 = _associations(20, 3, 9, sample=1, seed=5)
    assert np.array_equal(x9[:4], x4) and np.array_equal(l9[:4], l4)
    assert set(np.unique(x9)) == {-1.0, 1.0}
    from fplandscape.learn import studies

    row = studies.hetero_capacity(12, [6], n_in=20, classes=3, epochs=40, seed=2)[0]
    rng = np.random.default_rng(np.random.SeedSequence(2, spawn_key=(6,)))
    x = 2.0 * rng.integers(0, 2, size=(6, 20)) - 1.0
    lab = rng.integers(0, 3, size=6)
    out = association_outcome(x, lab, Architecture(n_in=20, hidden=12, classes=3, lam=1.0),
                              epochs=40, seed=2)
    assert {k: row[k] for k in out if k != "stalled"} == \
        {k: v for k, v in out.items() if k != "stalled"}


def test_patience_stops_training_and_is_checked():
    x, lab = _associations(20, 3, 60, sample=0)
    data = Dataset("a", x, lab, x[:0], lab[:0], 3)
    arch = Architecture(n_in=20, hidden=8, classes=3)
    rule = Plasticity(weight_decay=0.0, lr_scale="none")
    res = train(data, arch, rule, epochs=200, patience=3, stop_when_stable=True)
    assert res.epochs < 200
    n = [round(h["hidden_unstable_fraction"] * 60 * 8) + round(h["readout_unstable_fraction"]
                                                                * 60 * 3) for h in res.history]
    best = min(n[:-3])
    assert min(n[-3:]) >= best and n.index(best) == len(n) - 4
    full = train(data, arch, rule, epochs=res.epochs)  # same epochs without patience: same run
    assert np.array_equal(full.network.W_out, res.network.W_out)
    with pytest.raises(InputError, match="patience"):
        train(data, arch, rule, epochs=5, patience=0)


@pytest.mark.parametrize("kwargs,match", [
    ({"patterns": [0, 4]}, "patterns"), ({"hidden": []}, "hidden"),
    ({"samples": 0}, "samples"), ({"level": 1.0}, "level"), ({"patience": 0}, "patience"),
    ({"layers": (0,)}, "layers"), ({"seed": -1}, "seed"),
])
def test_bad_input_is_refused_before_work(kwargs, match):
    args = {"hidden": 12, "patterns": [2, 4], **TINY, **kwargs}
    with pytest.raises(InputError, match=match):
        capacity_vs_depth(args.pop("hidden"), args.pop("patterns"), **args)


CLI = ("learn", "capacity", "--hidden", "12", "--layers", "1", "2", "--patterns", "2", "6",
       "24", "48", "--n-in", "20", "--classes", "3", "--samples", "2", "--epochs", "60",
       "--patience", "8", "--workers", "1")


def test_cli_json_csv_and_text(capsys, tmp_path, result):
    path = tmp_path / "cap.csv"
    obj = run_json(capsys, *CLI, "--csv", path)
    assert set(obj) == {"rows", "capacities", "version"}
    assert [r["stored_fraction"] for r in obj["rows"]] == \
        [r["stored_fraction"] for r in result.rows]
    assert [c["patterns_c"] for c in obj["capacities"]] == \
        pytest.approx([c["patterns_c"] for c in result.capacities])
    assert path.read_text().count("\n") == 1 + 16 + 4
    rc, out, err = run(capsys, *CLI[:-2], "--workers", "1", "--samples", "1")
    assert rc == 0 and "capacity_unit" in out


@pytest.mark.parametrize("extra,match", [
    (("--patterns", "4"), "two different loads"), (("--patience", "0"), "--patience"),
    (("--level", "1.5"), "--level"), (("--samples", "0"), "--samples"),
    (("--hidden", "0"), "--hidden"), (("--lam", "-1"), "--lam"),
    (("--layers", "2", "--lam", "0", "--input-to", "first"), "--input-to"),
    (("--patterns", "1,2"), "space-separated"),
])
def test_cli_bad_input_exits_2(capsys, extra, match):
    base = ["learn", "capacity", "--hidden", "12", "--patterns", "2", "6", "--n-in", "20",
            "--classes", "3", "--epochs", "2", "--workers", "1"]
    run_error(capsys, *base, *extra, match=match)


def test_cli_defaults_are_the_library_ones():
    import inspect

    from fplandscape.cli import learn_capacity as cli

    sig = inspect.signature(capacity_vs_depth).parameters
    for key, value in cli.DEFAULTS.items():
        default = sig[key].default
        assert (list(default) if isinstance(default, tuple) else default) == value, key
    rule = capacity.CAPACITY_RULE
    assert {k: getattr(rule, k) for k in cli.RULE_DEFAULTS} == cli.RULE_DEFAULTS
    from fplandscape.learn import network, rule as rule_mod

    assert cli.INPUT_TO == tuple(network.INPUT_TO) and cli.LR_SCALES == tuple(rule_mod.LR_SCALES)
