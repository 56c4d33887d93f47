"""The hierarchy probe (fplandscape.learn.probe, ``fplandscape learn probe``; issue 17 item 2):
the metrics on hand-made inputs with known answers, the representations, the study end to end
on a tiny synthetic task (rows, workers, resume), the command line. A few seconds in all."""
import json
import math
import subprocess
import sys

import numpy as np
import pytest

from cli_runner import run_error, run_json
from fplandscape.errors import InputError, Interrupted
from fplandscape.learn import Architecture, Schedule, init_network, load_dataset, predict, train
from fplandscape.learn import probe
from fplandscape.learn.network import readout_fields
from fplandscape.learn.probe import (METRICS, hierarchy, linear_cka, linear_probe,
                                     participation_ratio, representations, separability,
                                     unit_correlation, magnetisation)


@pytest.fixture(scope="module")
def data():
    return load_dataset("synthetic", n_train=120, n_test=60, seed=0)


# --------------------------------------------------------------------------------------------
# metrics with known answers


def test_participation_ratio_isotropic_rank_one_and_constant():
    rng = np.random.default_rng(0)
    iso = rng.standard_normal((20000, 10))
    # a finite sample of M examples: about d / (1 + d/M) = 9.995; sampling spread ~ 0.1
    assert abs(participation_ratio(iso) - 10.0) < 0.2
    assert participation_ratio(3.5 * iso + 7.0) == pytest.approx(participation_ratio(iso))
    line = np.outer(rng.standard_normal(500), rng.standard_normal(8))
    assert participation_ratio(line) == pytest.approx(1.0, abs=1e-9)
    assert participation_ratio(np.ones((50, 4))) == 0.0
    wide = rng.standard_normal((30, 200))   # d > M: the Gram route, PR ≤ rank = M − 1
    assert 1.0 <= participation_ratio(wide) <= 29.0 + 1e-9


def test_separability_closed_form_and_perfect_clusters():
    a, r = 3.0, 0.5
    X = np.array([[a, r], [a, -r], [-a, r], [-a, -r]])
    y = np.array([0, 0, 1, 1])
    assert separability(X, y) == pytest.approx(2 * a / r)
    assert separability(10 * X, y) == pytest.approx(2 * a / r)   # scale-invariant
    assert separability(np.array([[1.0, 0], [1, 0], [0, 1], [0, 1]]), y) == math.inf
    # three classes: centroid distances 2, 2, 2√2 → between (4 + 2√2)/3; within r
    X3 = np.array([[1, 0, r], [1, 0, -r], [-1, 0, r], [-1, 0, -r], [0, 2, r], [0, 2, -r]])
    between = (2 + 2 * math.sqrt(5)) / 3
    assert separability(X3, np.array([0, 0, 1, 1, 2, 2])) == pytest.approx(between / r)
    with pytest.raises(InputError, match="two classes"):
        separability(X, np.zeros(4, dtype=int))


def test_cka_identity_invariances_and_independence():
    rng = np.random.default_rng(1)
    a = rng.standard_normal((3000, 12))
    b = a @ rng.standard_normal((12, 7)) + 0.5 * rng.standard_normal((3000, 7))
    assert linear_cka(a, a) == pytest.approx(1.0)
    Q, _ = np.linalg.qr(rng.standard_normal((12, 12)))
    base = linear_cka(a, b)
    assert 0.2 < base < 1.0
    assert linear_cka(a @ Q, b) == pytest.approx(base)
    assert linear_cka(4.2 * a, 0.1 * b) == pytest.approx(base)
    assert linear_cka(a + 3.0, b) == pytest.approx(base)        # centred
    assert linear_cka(a, rng.standard_normal((3000, 7))) < 0.02
    assert math.isnan(linear_cka(a, np.ones((3000, 2))))
    with pytest.raises(InputError, match="examples"):
        linear_cka(a, b[:10])


def test_unit_correlation_and_magnetisation():
    rng = np.random.default_rng(2)
    s = np.where(rng.random((4000, 30)) < 0.5, -1.0, 1.0)
    t = np.where(rng.random((4000, 30)) < 0.5, -1.0, 1.0)
    assert unit_correlation(s, s) == pytest.approx(1.0)
    assert unit_correlation(s, -s) == pytest.approx(1.0)
    assert unit_correlation(s, t) < 4 / math.sqrt(4000)   # mean |ρ| ≈ √(2/πM) = 0.0126
    # strongly biased but unrelated units: raw overlap ≈ m², correlation still ≈ 0
    u = np.where(rng.random((4000, 30)) < 0.9, 1.0, -1.0)
    v = np.where(rng.random((4000, 30)) < 0.9, 1.0, -1.0)
    assert np.mean(np.abs(np.mean(u * v, axis=0))) > 0.5
    assert unit_correlation(u, v) < 4 / math.sqrt(4000)
    assert magnetisation(u) == pytest.approx(0.8, abs=0.03)
    assert magnetisation(np.ones((5, 3))) == 1.0
    const = s.copy()
    const[:, 0] = 1.0   # a constant unit counts as ρ = 0
    assert unit_correlation(const, s) == pytest.approx(29 / 30)
    with pytest.raises(InputError, match="same number of units"):
        unit_correlation(s, t[:, :5])


def test_linear_probe_separable_chance_and_scale():
    rng = np.random.default_rng(3)
    C, d = 5, 8
    y_tr, y_te = rng.integers(0, C, 400), rng.integers(0, C, 200)
    centres = 3.0 * np.eye(C, d)
    f_tr = centres[y_tr] + 0.1 * rng.standard_normal((400, d))
    f_te = centres[y_te] + 0.1 * rng.standard_normal((200, d))
    assert linear_probe(f_tr, y_tr, f_te, y_te) == (1.0, 1.0)
    assert linear_probe(50 * f_tr, y_tr, 50 * f_te, y_te) == (1.0, 1.0)
    # random labels: test accuracy at chance 1/10, |z| < 4 with n_test = 2000 (fixed seed)
    g_tr, g_te = rng.standard_normal((2000, 20)), rng.standard_normal((2000, 20))
    l_tr, l_te = rng.integers(0, 10, 2000), rng.integers(0, 10, 2000)
    _, acc = linear_probe(g_tr, l_tr, g_te, l_te)
    assert abs(acc - 0.1) / math.sqrt(0.1 * 0.9 / 2000) < 4
    # constant features: the most frequent class
    tr, te = linear_probe(np.ones((6, 3)), np.array([1, 1, 1, 0, 2, 2]), np.ones((2, 3)),
                          np.array([1, 0]))
    assert tr == 0.5 and te == 0.5
    with pytest.raises(InputError, match="features"):
        linear_probe(f_tr, y_tr, f_te[:, :3], y_te)
    with pytest.raises(InputError, match="class labels"):
        linear_probe(f_tr, y_tr.astype(float), f_te, y_te)


# --------------------------------------------------------------------------------------------
# representations and the study


def test_representations_are_the_states_predict_reads(data):
    arch = Architecture(n_in=data.n_in, hidden=12, classes=data.classes, layers=2)
    net = train(data, arch, epochs=1, seed=0, progress=False).network
    R = representations(net, data.x_test)
    assert len(R) == 3 and np.array_equal(R[0], data.x_test)
    assert all(r.shape == (60, 12) and set(np.unique(r)) <= {-1.0, 1.0} for r in R[1:])
    pred = np.argmax(readout_fields(net, np.stack(R[1:])), axis=1)
    assert np.array_equal(pred, predict(net, data.x_test))


def test_hierarchy_rows(data):
    res = hierarchy(data, layers=(1, 2), hidden=12, epochs=2, seed=5, samples=2, workers=1)
    rows = res.as_rows()
    assert len(rows) == 2 * 2 * (2 + 3)   # seeds x trained x modules (input + L) over L = 1, 2
    for r in rows:
        assert r["version"] and r["dataset"] == "synthetic" and r["hidden"] == 12
        assert set(METRICS) <= set(r) and r["seed"] in (5, 6)
        assert r["epochs"] == (2 if r["trained"] else 0)
        assert 0 <= r["probe_test_accuracy"] <= 1
        if r["module"] == -1:
            assert r["module_name"] == "input" and r["dim"] == data.n_in
            assert r["cka_prev"] is None and r["stable_fraction"] is None
        else:
            assert r["dim"] == 12 and 0 <= r["cka_prev"] <= 1 + 1e-12
            assert (r["unit_corr_prev"] is None) == (r["module"] == 0)
    mods = [(r["layers"], r["seed"], r["trained"], r["module"]) for r in rows]
    assert mods[:5] == [(1, 5, False, -1), (1, 5, False, 0), (1, 5, True, -1), (1, 5, True, 0),
                        (1, 6, False, -1)]
    # the trained network is train()'s, the untrained one its initial couplings
    arch = Architecture(n_in=data.n_in, hidden=12, classes=data.classes, layers=2)
    ref = train(data, arch, epochs=2, seed=6, progress=False)
    two = [r for r in rows if r["layers"] == 2 and r["seed"] == 6]
    assert all(r["test_accuracy"] == ref.test_accuracy for r in two if r["trained"])
    acc0 = np.mean(predict(init_network(arch, probe.seeds(6)[0]), data.x_test) == data.y_test)
    assert all(r["test_accuracy"] == acc0 for r in two if not r["trained"])
    # the input rows do not depend on the network
    inputs = {json.dumps({k: r[k] for k in METRICS}) for r in rows if r["module"] == -1}
    assert len(inputs) == 1
    summary = res.summary()
    assert len(summary) == 2 * (2 + 3) and all(s["samples"] == 2 for s in summary)
    s0 = next(s for s in summary if (s["layers"], s["trained"], s["module"]) == (2, True, 1))
    vals = [r["separability"] for r in rows if (r["layers"], r["trained"], r["module"])
            == (2, True, 1)]
    assert s0["separability"] == pytest.approx(np.mean(vals))
    assert s0["separability_se"] == pytest.approx(np.std(vals, ddof=1) / math.sqrt(2))


def test_hierarchy_workers_and_resume(data, tmp_path, monkeypatch):
    kw = dict(layers=(2,), hidden=10, epochs=1, seed=0, samples=2,
              arch_kwargs={"lam": 1.0, "skip": True}, schedule=Schedule(update_prob=0.85))
    one = hierarchy(data, workers=1, **kw).as_rows()
    assert hierarchy(data, workers=2, **kw).as_rows() == one
    real = probe._task

    def first_only(*task):
        if task[-1] != 0:
            raise KeyboardInterrupt
        return real(*task)

    ck = tmp_path / "ck"
    monkeypatch.setattr(probe, "_task", first_only)
    with pytest.raises(Interrupted, match="resume"):
        hierarchy(data, workers=1, checkpoint=ck, **kw)

    def never_first(*task):
        assert task[-1] != 0, "a finished network was recomputed"
        return real(*task)

    monkeypatch.setattr(probe, "_task", never_first)
    assert hierarchy(data, workers=1, checkpoint=ck, resume=True, **kw).as_rows() == one


def test_hierarchy_bad_input(data):
    with pytest.raises(InputError, match="layers"):
        hierarchy(data, layers=(0,))
    with pytest.raises(InputError, match="samples"):
        hierarchy(data, layers=(2,), samples=0)
    with pytest.raises(InputError, match="arch_kwargs"):
        hierarchy(data, layers=(2,), arch_kwargs={"hidden": 5})
    with pytest.raises(InputError, match="Dataset"):
        hierarchy(data.x_train)


# --------------------------------------------------------------------------------------------
# command line


SYNTH = ["learn", "probe", "--dataset", "synthetic", "--train-size", 80, "--test-size", 40,
         "--hidden", 10, "--epochs", 1, "--workers", 1, "--no-progress"]


def test_cli_probe_json_and_csv(capsys, tmp_path):
    csv_path = tmp_path / "rows.csv"
    obj = run_json(capsys, *SYNTH, "--layers", 2, "--samples", 2, "--lam", 1, "--csv", csv_path)
    assert len(obj["rows"]) == 2 * 2 * 3 and len(obj["summary"]) == 2 * 3
    assert obj["params"]["architecture"]["lam"] == 1.0 and obj["version"]
    assert {r["seed"] for r in obj["rows"]} == {0, 1}
    assert csv_path.read_text().count("\n") == len(obj["rows"]) + 1
    data = load_dataset("synthetic", n_train=80, n_test=40, seed=0)
    api = hierarchy(data, layers=(2,), hidden=10, epochs=1, samples=2,
                    arch_kwargs={"lam": 1.0}).as_rows()
    assert [r["probe_test_accuracy"] for r in obj["rows"]] == \
        [r["probe_test_accuracy"] for r in api]


@pytest.mark.parametrize("extra,match", [
    (["--layers", 0], "--layers"), (["--samples", 0], "--samples"),
    (["--epochs", -1], "--epochs"), (["--hidden", 0], "--hidden"),
    (["--update-prob", 0], "--update-prob"), (["--lam", -1], "--lam"),
    (["--workers", 0], "--workers"), (["--test-size", 1], "--test-size")])
def test_cli_probe_bad_input(capsys, extra, match):
    run_error(capsys, *SYNTH, *extra, match=match)


def test_cli_probe_synthetic_options_need_synthetic(capsys):
    run_error(capsys, "learn", "probe", "--dataset", "emnist5k", "--noise", 0.1,
              match="--dataset synthetic")


def test_cli_probe_help_imports_no_numpy():
    code = ("import sys\nfrom fplandscape.cli import main\n"
            "try:\n    main(['learn', 'probe', '--help'])\nexcept SystemExit:\n    pass\n"
            "assert 'numpy' not in sys.modules, 'numpy imported'\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert "fplandscape.learn.probe.hierarchy" in " ".join(out.stdout.split())


def test_reference_setting_uses_the_reference_schedule_per_depth():
    from fplandscape.learn.probe import hierarchy

    data = load_dataset("synthetic", n_train=40, n_test=20, seed=0, classes=3, n_in=12)
    res = hierarchy(data, (2, 3), hidden=8, epochs=1, reference=True,
                    arch_kwargs={"lam": 1.0, "jd": 0.0}, workers=1)
    rows = res.as_rows()
    assert {r["warmup"] for r in rows} == {"all"} and all(r["skip"] for r in rows)
    assert {(r["layers"], r["eval_sweeps"]) for r in rows} == {(2, 5), (3, 4)}
    assert res.params["plasticity"]["kappa_h"] == 1.9
