"""Incremental synchronous sweeps (fplandscape.learn.sweeps): the states are bit for bit those of
a plain from-scratch evaluation, ties and update masks included, and training is unchanged."""
import numpy as np
import pytest

import fplandscape.learn.sweeps as sweeps
from fplandscape.learn import Architecture, Plasticity, train
from fplandscape.learn.data import synthetic
from fplandscape.learn.network import (feedback_field, init_network, input_field, one_vs_all,
                                       relax)
from fplandscape.learn.train import Schedule


def plain_fields(net, S, x, y_back):
    """h^l_i from scratch, one Python-level float64 sum per unit in index order (no BLAS)."""
    arch = net.arch
    L, B, H = S.shape
    h = np.zeros_like(S)
    for l in range(L):
        for b in range(B):
            for i in range(H):
                t = 0.0
                for j in range(H):
                    t += net.J[l, i, j] * S[l, b, j]
                if l < net.W_in.shape[0]:
                    t += arch.lam_in * sum(float(net.W_in[l, i, n]) * x[b, n]
                                           for n in range(x.shape[1]))
                if y_back is not None and (l == L - 1 or arch.skip):
                    t += y_back[b, i]
                for m, K in ((l - 1, net.K_up[l - 1] if net.K_up is not None and l > 0 else None),
                             (l + 1, net.K_down[l] if net.K_down is not None and l < L - 1
                              else None)):
                    if 0 <= m < L:
                        t += arch.lam * S[m, b, i]
                        if K is not None:
                            t += sum(float(K[i, j]) * S[m, b, j] for j in range(H))
                h[l, b, i] = t
    return h


def plain_relax(net, x, y, steer, free, update_prob, rng, counter):
    """Warm-up, steer and free sweeps from scratch (sign(0) = +1); counter[0] counts the fields
    of updating units that were exactly 0."""
    L, H = net.arch.layers, net.arch.hidden
    B = x.shape[0]
    S = np.zeros((L, B, H))
    for t in range(L):
        h = plain_fields(net, S, x, None)
        S[:t + 1] = np.where(h[:t + 1] >= 0, 1.0, -1.0)
    back = feedback_field(net, y)
    for sw, yb in ((steer, back), (free, None)):
        for _ in range(sw):
            h = plain_fields(net, S, x, yb)
            new = np.where(h >= 0, 1.0, -1.0)
            upd = np.ones(S.shape, bool)
            if update_prob < 1.0:
                upd = rng.random(S.shape) < update_prob
                new = np.where(upd, new, S)
            counter[0] += int(np.sum((h == 0) & upd))
            S = new
    return S


def dyadic(net, rng, scale=4):
    """Put every coupling on the grid {−2..2}/scale (exact float sums, frequent zero fields)."""
    for name, a in net.arrays().items():
        if name == "J":
            for l in range(a.shape[0]):
                d = np.diag(a[l]).copy()
                a[l] = rng.integers(-2, 3, a[l].shape) / scale
                np.fill_diagonal(a[l], d)
        else:
            a[...] = rng.integers(-2, 3, a.shape) / scale


CASES = [
    dict(layers=1, hidden=9),
    dict(layers=1, hidden=23, lam_back=0.5),
    dict(layers=2, hidden=8, lam=0.75),
    dict(layers=2, hidden=7, lam=0.5, inter=True, input_to="first"),
    dict(layers=3, hidden=6, lam=1.0, skip=True),
    dict(layers=3, hidden=5, lam=0.0, inter=True, skip=True),
]


@pytest.mark.parametrize("grid", [False, True])
@pytest.mark.parametrize("update_prob", [1.0, 0.6])
@pytest.mark.parametrize("case", range(len(CASES)))
def test_relax_matches_plain_from_scratch(monkeypatch, case, update_prob, grid):
    stops = [0]
    kernel = sweeps.sync_sweeps

    def counting(*args):
        t, have = kernel(*args)
        stops[0] += t < args[13]                   # stopped before a sweep (stop): near-tie
        return t, have

    monkeypatch.setattr(sweeps, "sync_sweeps", counting)
    kw = dict(CASES[case])
    if grid:       # exact arithmetic everywhere: λ_in = 1 and ±1 feedback codes on the grid
        kw.update(lam_in=1.0, lam_back=0.5, feedback_code="pm1", jd=0.5)
    arch = Architecture(n_in=6, classes=3, **kw)
    gen = np.random.default_rng(100 + case)
    ties = [0]
    for trial in range(4):
        net = init_network(arch, seed=10 * case + trial)
        if grid:
            dyadic(net, gen)
        x = np.where(gen.random((5, 6)) < 0.5, -1.0, 1.0)
        y = one_vs_all(gen.integers(0, 3, 5), 3)
        r1, r2 = np.random.default_rng(trial), np.random.default_rng(trial)
        got = relax(net, x, y=y, steer=4, free=3, update_prob=update_prob, rng=r1)
        want = plain_relax(net, x, y, 4, 3, update_prob, r2, ties)
        assert np.array_equal(got, want)
        assert r1.random() == r2.random()           # same random stream consumption
    if grid:
        assert ties[0] > 0 and stops[0] > 0        # exact zeros, handled by the dense fallback


@pytest.mark.parametrize("zeros", [False, True])
@pytest.mark.parametrize("layers,lam,inter", [(1, 0.0, False), (2, 0.8, True)])
@pytest.mark.parametrize("update_prob", [1.0, 0.7])
def test_sync_phase_equals_dense_loop(layers, lam, inter, update_prob, zeros):
    """Also from states with units still 0 (a warm-up whose masks never let them update)."""
    arch = Architecture(n_in=20, hidden=60, classes=4, layers=layers, lam=lam, inter=inter)
    gen = np.random.default_rng(1)
    for seed in range(3):
        net = init_network(arch, seed=seed)
        x = np.where(gen.random((16, 20)) < 0.5, -1.0, 1.0)
        y = one_vs_all(gen.integers(0, 4, 16), 4)
        ext_in, back = input_field(net, x), feedback_field(net, y)
        start = np.where(gen.random((layers, 16, 60)) < 0.5, -1.0, 1.0)
        if zeros:
            start[gen.random(start.shape) < 0.3] = 0.0
        out = []
        for f in (sweeps.dense_phase, sweeps.sync_phase):
            S, rng = start.copy(), np.random.default_rng(seed)
            f(net, S, ext_in, back, 6, update_prob, rng)
            f(net, S, ext_in, None, 4, update_prob, rng)
            out.append((S, rng.random()))
        assert np.array_equal(out[0][0], out[1][0]) and out[0][1] == out[1][1]


def test_hidden_matrix_gives_the_fields():
    arch = Architecture(n_in=5, hidden=4, classes=2, layers=3, lam=0.3, inter=True)
    net = init_network(arch, seed=2)
    S = np.where(np.random.default_rng(0).random((3, 2, 4)) < 0.5, -1.0, 1.0)
    from fplandscape.learn.network import hidden_fields

    h = hidden_fields(net, S, np.zeros((3, 2, 4)))
    flat = S.transpose(1, 0, 2).reshape(2, 12) @ sweeps.hidden_matrix(net).T
    assert np.allclose(flat.reshape(2, 3, 4).transpose(1, 0, 2), h, rtol=0, atol=1e-12)


@pytest.mark.parametrize("update_prob", [1.0, 0.8])
def test_training_identical_to_dense_loop(monkeypatch, update_prob):
    data = synthetic(classes=4, n_in=30, n_train=96, n_test=40, seed=3)
    arch = Architecture(n_in=30, hidden=40, classes=4)
    sch = Schedule(batch=16, update_prob=update_prob)
    fast = train(data, arch, Plasticity(), sch, epochs=3, seed=5, progress=False)
    monkeypatch.setattr(sweeps, "sync_phase", sweeps.dense_phase)
    dense = train(data, arch, Plasticity(), sch, epochs=3, seed=5, progress=False)
    for k, a in dense.network.arrays().items():
        assert np.array_equal(a, fast.network.arrays()[k]), k
    for r1, r2 in zip(dense.history, fast.history):
        assert r1["test_accuracy"] == r2["test_accuracy"]
        assert r1["hidden_unstable_fraction"] == r2["hidden_unstable_fraction"]


# --------------------------------------------------------------------------------------------
# the reference setting: warm-up "all" and the steered phase driven by the readout state


def on_grid(net, rng, denom):
    """Put every coupling on the grid {−3..3}/denom (J_D kept): denom 1 or 4 makes every sum
    exact (exact zero fields: ties), denom 3 makes them inexact (fields that are 0 in exact
    arithmetic come out as ±tiny, their sign depending on the summation order)."""
    for name, a in net.arrays().items():
        if name == "J":
            for l in range(a.shape[0]):
                d = np.diag(a[l]).copy()
                a[l] = rng.integers(-3, 4, a[l].shape) / denom
                np.fill_diagonal(a[l], d)
        else:
            a[...] = rng.integers(-3, 4, a.shape) / denom


REF_CASES = [dict(layers=1), dict(layers=2, lam=1.0, skip=True), dict(layers=2, lam=2.0),
             dict(layers=3, lam=1.0, skip=True, inter=True), dict(layers=3, lam=0.0)]


def _reference_net(case, denom, seed, gen):
    kw = dict(REF_CASES[case])
    arch = Architecture(n_in=12, hidden=10, classes=4, jd=0.0, lam_in=1.0, lam_back=1.0,
                        feedback_code="pm1", **kw)
    net = init_network(arch, seed=seed)
    if denom:
        on_grid(net, gen, denom)
    return net


def _counting_kernel(monkeypatch):
    stops = [0]
    kernel = sweeps.sync_sweeps

    def counting(*args):
        t, have = kernel(*args)
        stops[0] += t < args[13]
        return t, have

    monkeypatch.setattr(sweeps, "sync_sweeps", counting)
    return stops


@pytest.mark.parametrize("path", ["transposed", "rows", "dense"])
@pytest.mark.parametrize("denom", [0, 1, 3])
@pytest.mark.parametrize("update_prob", [1.0, 0.85])
@pytest.mark.parametrize("case", range(len(REF_CASES)))
def test_readout_steer_equals_dense_loop(monkeypatch, case, update_prob, denom, path):
    """State for state (S and the readout state Y), same random stream, from warm-up states
    with units still 0 and readout states in {−1, 0, 1}, with and without free sweeps after
    the steered ones; with integer couplings (exact zero fields) the near-tie fallback must have
    run. ``path``: the kernel's two ways of adding the flipped columns, and the dense loops
    of big batches."""
    from fplandscape.learn.network import input_field

    if path == "rows":
        monkeypatch.setattr(sweeps, "TRANSPOSE_FROM_HIDDEN", 10**9)
    if path == "dense":
        monkeypatch.setattr(sweeps, "DENSE_FROM_BATCH", 4)
    stops = _counting_kernel(monkeypatch)
    gen = np.random.default_rng(7 + case)
    zeros = 0
    for seed in range(4):
        net = _reference_net(case, denom, seed, gen)
        L, H, C = net.arch.layers, net.arch.hidden, net.arch.classes
        B = 8
        x = np.where(gen.random((B, 12)) < 0.5, -1.0, 1.0)
        target = one_vs_all(gen.integers(0, C, B), C)
        ext_in = input_field(net, x)
        S0 = gen.integers(-1, 2, (L, B, H)).astype(float)
        Y0 = gen.integers(-1, 2, (B, C)).astype(float)
        out = []
        for f in (sweeps.dense_readout_steer, sweeps.readout_steer):
            S, Y, rng = S0.copy(), Y0.copy(), np.random.default_rng(seed)
            f(net, S, ext_in, Y, target, 5, update_prob, rng)
            f(net, S, ext_in, Y, target, 2, update_prob, rng)     # a second phase, Y = target
            f(net, S, ext_in, Y, target, 3, update_prob, rng, free=4)     # + free sweeps
            f(net, S, ext_in, Y, target, 0, update_prob, rng, free=2)
            out.append((S, Y, rng.random()))
            if f is sweeps.dense_readout_steer:
                from fplandscape.learn.network import _readout_feedback, hidden_fields
                h = hidden_fields(net, S, ext_in, _readout_feedback(net, Y))
                zeros += int(np.sum(h == 0))
        assert np.array_equal(out[0][0], out[1][0])
        assert np.array_equal(out[0][1], out[1][1])
        assert out[0][2] == out[1][2]
    if denom == 1 and path != "dense":
        assert zeros > 0 and stops[0] > 0


@pytest.mark.parametrize("denom", [0, 1, 3])
@pytest.mark.parametrize("update_prob", [1.0, 0.85])
@pytest.mark.parametrize("case", range(len(REF_CASES)))
def test_reference_relax_equals_dense_loops(monkeypatch, case, update_prob, denom):
    """The whole reference relaxation (warm-up "all", steered phase from the readout state,
    free phase) against the dense loops of every phase."""
    from fplandscape.learn.network import input_field

    gen = np.random.default_rng(70 + case)
    for seed in range(4):
        net = _reference_net(case, denom, seed, gen)
        C = net.arch.classes
        x = np.where(gen.random((9, 12)) < 0.5, -1.0, 1.0)
        y = one_vs_all(gen.integers(0, C, 9), C)
        kw = dict(y=y, steer=5, free=4, update_prob=update_prob, warmup="all",
                  feedback_from="readout")
        r1 = np.random.default_rng(seed)
        got = relax(net, x, rng=r1, **kw)
        with monkeypatch.context() as m:
            for name in ("readout_steer", "warmup_all"):
                m.setattr(sweeps, name, getattr(sweeps, "dense_" + name))
            m.setattr(sweeps, "sync_phase", sweeps.dense_phase)
            r2 = np.random.default_rng(seed)
            want = relax(net, x, rng=r2, **kw)
        assert np.array_equal(got, want)
        assert r1.random() == r2.random()
        if update_prob < 1.0:                    # inference: warm-up + free sweeps with masks
            r1, r2 = np.random.default_rng(seed), np.random.default_rng(seed)
            got = relax(net, x, free=3, update_prob=update_prob, rng=r1, warmup="all")
            S = np.zeros_like(got)
            sweeps.dense_warmup_all(net, S, input_field(net, x), update_prob, r2)
            sweeps.dense_phase(net, S, input_field(net, x), None, 3, update_prob, r2)
            assert np.array_equal(got, S) and r1.random() == r2.random()


@pytest.mark.parametrize("update_prob", [1.0, 0.85])
@pytest.mark.parametrize("layers", [1, 2, 3])
def test_warmup_all_equals_dense_loop(layers, update_prob):
    """From the zero state (the first product skipped) and from another state (all dense),
    with a readout state following its free field."""
    from fplandscape.learn.network import input_field

    gen = np.random.default_rng(layers)
    for seed in range(4):
        net = _reference_net({1: 0, 2: 1, 3: 3}[layers], 1, seed, gen)
        L, H, C = net.arch.layers, net.arch.hidden, net.arch.classes
        x = np.where(gen.random((6, 12)) < 0.5, -1.0, 1.0)
        x[0] = 0.0                                  # an input field exactly 0: sign(0) = +1
        ext_in = input_field(net, x)
        for start in (np.zeros((L, 6, H)), gen.integers(-1, 2, (L, 6, H)).astype(float)):
            out = []
            for f in (sweeps.dense_warmup_all, sweeps.warmup_all):
                S, Y, rng = start.copy(), np.zeros((6, C)), np.random.default_rng(seed)
                f(net, S, ext_in, update_prob, rng, Y)
                out.append((S, Y, rng.random()))
            assert np.array_equal(out[0][0], out[1][0])
            assert np.array_equal(out[0][1], out[1][1]) and out[0][2] == out[1][2]


@pytest.mark.parametrize("update_prob", [1.0, 0.85])
def test_reference_training_identical_to_dense_loops(monkeypatch, update_prob):
    from fplandscape.learn.lambda_study import setting

    data = synthetic(classes=4, n_in=30, n_train=64, n_test=32, seed=4)
    arch, rule, sch = setting("reference", data, hidden=24, lam=2.0, lam_in=2.0)
    sch = Schedule.reference(2, update_prob=update_prob)
    fast = train(data, arch, rule, sch, epochs=2, seed=3, progress=False)
    for name in ("readout_steer", "warmup_all"):
        monkeypatch.setattr(sweeps, name, getattr(sweeps, "dense_" + name))
    monkeypatch.setattr(sweeps, "sync_phase", sweeps.dense_phase)
    dense = train(data, arch, rule, sch, epochs=2, seed=3, progress=False)
    for k, a in dense.network.arrays().items():
        assert np.array_equal(a, fast.network.arrays()[k]), k
    for r1, r2 in zip(dense.history, fast.history):
        assert r1["test_accuracy"] == r2["test_accuracy"]
        assert r1["hidden_unstable_fraction"] == r2["hidden_unstable_fraction"]
