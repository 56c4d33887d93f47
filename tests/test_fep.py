"""``fplandscape.learn.fep``: the continuous-Bernoulli unit against closed forms, mpmath and
quadrature; parity with the reference implementation (live when it is importable, else the
arrays it produced, ``benchmarks/fep_reference_arrays.py``); the learning rule, relaxation,
the attractor engine; the paper's claims as properties that could fail; bad inputs."""
import math
import os
from pathlib import Path

import mpmath
import numpy as np
import pytest
from scipy import integrate, stats

from fplandscape.attractors import RateMap, diagnose, find_fixed_points
from fplandscape.attractors.phi import langevin as phi_langevin
from fplandscape.errors import InputError
from fplandscape.learn.fep import FEPNetwork, cb, studies, symmetry
from fplandscape.learn.fep.data import demo_patterns, preprocess_digits

DATA = Path(__file__).parent / "data" / "fep_reference_parity.npz"
REF = np.load(DATA)
REFERENCE_DIR = os.environ.get("FEP_REFERENCE", "/work/scratch-fep/fep")


def _reference():
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
    try:
        from fep_reference_arrays import load_reference

        return load_reference(REFERENCE_DIR)[0]
    except ImportError:
        return None
    finally:
        sys.path.pop(0)


REFERENCE = _reference()


def _inputs(prefix):
    return {k[len(prefix):]: REF[k][()] if REF[k].ndim == 0 else REF[k] for k in REF.files
            if k.startswith(prefix)}


# -- the continuous-Bernoulli unit --------------------------------------------------------------

Z = np.array([0.0, 1e-300, 1e-12, 1e-7, 1e-3, 0.0999, 0.1, 0.1001, 0.3, 0.7, 1.0, 3.0, 19.0,
              20.5, 60.0, 400.0, 1e6])
Z = np.concatenate([Z, -Z[1:]])


def _mp_langevin(z):
    if z == 0:
        return mpmath.mpf(0)
    # coth z − 1/z cancels ~2·log10(1/|z|) digits: work with enough of them
    with mpmath.workdps(40 + int(2 * max(0.0, -math.log10(abs(z))))):
        z = mpmath.mpf(z)
        return +(mpmath.coth(z) - 1 / z)


def test_langevin_matches_mpmath_small_and_large_arguments():
    exact = np.array([float(_mp_langevin(z)) for z in Z])
    got = cb.langevin(Z)
    assert np.all(np.abs(got - exact) <= 1e-15)
    small = (np.abs(Z) < 0.5) & (Z != 0)  # the series branch: a few ulp
    assert np.all(np.abs(got[small] - exact[small]) <= 4 * np.finfo(float).eps * np.abs(exact[small]))
    assert cb.langevin(0.0) == 0.0 and cb.langevin(1e-300) == pytest.approx(1e-300 / 3, rel=1e-14)
    # odd, bounded, and the engine's accurate version agrees
    assert np.array_equal(cb.langevin(-Z), -cb.langevin(Z))
    assert np.all(np.abs(got) < 1)
    assert np.abs(got - phi_langevin(Z)).max() < 1e-15


def test_cb_moments_normaliser_entropy_kl_against_quadrature():
    for b in (0.0, 1e-9, -0.4, 2.5, -7.0, 30.0):
        Zq = integrate.quad(lambda x: math.exp(b * x), -1, 1, epsabs=0, epsrel=1e-13)[0]
        assert cb.log_normalizer(b) == pytest.approx(math.log(Zq), abs=1e-13)
        p = lambda x: math.exp(b * x) / Zq  # noqa: E731
        m = integrate.quad(lambda x: x * p(x), -1, 1, epsabs=1e-14)[0]
        v = integrate.quad(lambda x: (x - m) ** 2 * p(x), -1, 1, epsabs=1e-14)[0]
        h = integrate.quad(lambda x: -p(x) * math.log(p(x)), -1, 1, epsabs=1e-13)[0]
        assert cb.langevin(b) == pytest.approx(m, abs=1e-12)
        assert cb.variance(b) == pytest.approx(v, abs=1e-12)
        assert cb.entropy(b) == pytest.approx(h, abs=1e-12)
        assert cb.pdf(0.3, b) == pytest.approx(p(0.3), rel=1e-12)
        for q in (0.0, -1.3, 4.0):
            Zq2 = integrate.quad(lambda x: math.exp(q * x), -1, 1, epsrel=1e-13)[0]
            kl = integrate.quad(lambda x: math.exp(q * x) / Zq2 * (
                q * x - math.log(Zq2) - b * x + math.log(Zq)), -1, 1, epsabs=1e-13)[0]
            assert cb.kl(q, b) == pytest.approx(kl, abs=1e-11)
    # no overflow where the reference's log(b / sinh b) form fails
    assert cb.log_normalizer(800.0) == pytest.approx(800 - math.log(800), abs=1e-12)
    assert np.isfinite(cb.kl(900.0, -900.0))


def test_sampler_inverts_the_cdf_and_equals_the_reference_formula():
    u = np.linspace(0.0, 1.0, 101)[:-1]
    for b in (0.0, 1e-10, 0.5, -3.0, 40.0, -40.0, 349.0, 351.0, -2000.0, 5000.0):
        x = cb.inverse_cdf(np.full_like(u, b), u)
        assert np.all((x >= -1) & (x <= 1)) and np.all(np.diff(x) >= 0)
        inner = (x > -1 + 1e-9) & (x < 1 - 1e-9)
        assert np.allclose(cb.cdf(x[inner], b), u[inner], atol=1e-12)
        if 1e-3 < abs(b) <= 300:  # the reference's form, where it neither cancels nor overflows
            ref = np.log(np.exp(-b) + u * (np.exp(b) - np.exp(-b))) / b
            assert np.allclose(x, ref, atol=1e-12)
    assert np.allclose(cb.inverse_cdf(np.zeros(5), np.linspace(0, 0.8, 5)),
                       2 * np.linspace(0, 0.8, 5) - 1)


@pytest.mark.parametrize("b", [0.0, 1e-9, -0.5, 2.0, -7.0, 60.0, 1000.0, -1000.0])
def test_sampler_distribution(b):
    n = 100_000
    x = cb.sample(np.full(n, b), np.random.default_rng(12345))
    mean, var = cb.langevin(b), cb.variance(b)
    z = (x.mean() - mean) / math.sqrt(var / n)
    assert abs(z) < 5, z  # a 5-sigma bound on the sample mean
    assert x.var() == pytest.approx(var, rel=0.03)
    assert stats.kstest(x, lambda t: cb.cdf(t, b)).pvalue > 1e-4


# -- variational free energy -------------------------------------------------------------------

def test_vfe_terms_against_direct_integration():
    rng = np.random.default_rng(5)
    n = 5
    J = rng.standard_normal((n, n))
    np.fill_diagonal(J, 0.0)  # the accuracy is E_q[b·σ + σᵀJσ] exactly off the diagonal
    b = rng.standard_normal(n)
    b[1] = 0.0
    sigma = rng.uniform(-1, 1, n)
    bq = b + J @ sigma

    def density(c):
        Zc = integrate.quad(lambda x: math.exp(c * x), -1, 1, epsrel=1e-13)[0]
        return lambda x: math.exp(c * x) / Zc

    comp = 0.0
    m = np.empty(n)
    for i in range(n):
        q, p = density(bq[i]), density(b[i])
        comp += integrate.quad(lambda x: q(x) * math.log(q(x) / p(x)), -1, 1, epsabs=1e-13)[0]
        m[i] = integrate.quad(lambda x: x * q(x), -1, 1, epsabs=1e-14)[0]
    acc = b @ m + m @ J @ m
    net = FEPNetwork(J, b, sigma=sigma)
    assert net.complexity() == pytest.approx(comp, abs=1e-10)
    assert net.accuracy() == pytest.approx(acc, abs=1e-10)
    assert net.vfe() == pytest.approx(comp - acc, abs=1e-10)


def test_vfe_matches_the_reference_values():
    v = _inputs("vfe_")
    net = FEPNetwork(REF["det_J"])
    assert net.complexity(v["sigma"], v["b"]) == pytest.approx(v["complexity"], rel=1e-11)
    assert net.accuracy(v["sigma"], v["b"]) == pytest.approx(v["accuracy"], rel=1e-11)
    assert net.vfe(v["sigma"], v["b"]) == pytest.approx(v["vfe"], rel=1e-11)


# -- parity with the reference ------------------------------------------------------------------

def _det(inp):
    net = FEPNetwork(inp["J0"], sigma=inp["sigma0"])
    res = net.train(inp["data"], order=inp["order"], steps=int(inp["steps"]),
                    learning_rate=inp["learning_rate"], beta=inp["beta"],
                    evidence=inp["evidence"], stochastic=False, record_states=True)
    return net, res


def test_deterministic_training_parity_with_stored_reference_arrays():
    inp = _inputs("det_")
    net, res = _det(inp)
    assert np.abs(net.J - inp["J"]).max() < 1e-10
    assert np.abs(res.states - inp["states"]).max() < 1e-10
    assert np.array_equal(np.diag(net.J), np.diag(inp["J0"]))  # self-couplings untrained
    assert np.abs(net.J - inp["J0"]).max() > 0.1  # and the rest did learn


def test_stochastic_training_follows_the_reference_stream():
    inp = _inputs("det_")
    sto = _inputs("sto_")
    net = FEPNetwork(inp["J0"], seed=np.random.default_rng(int(sto["seed"])))
    res = net.train(inp["data"], order=inp["order"], steps=int(inp["steps"]),
                    learning_rate=inp["learning_rate"], beta=inp["beta"],
                    evidence=inp["evidence"], record=True, record_states=True)
    assert np.abs(res.states - sto["states"]).max() < 1e-9
    assert np.abs(net.J - sto["J"]).max() < 1e-9
    for key in ("vfe", "accuracy", "complexity", "weight_change"):
        assert np.allclose(getattr(res, key), sto[key], rtol=1e-9, atol=1e-9), key


def test_demo_size_deterministic_parity_and_patterns():
    d = _inputs("demo_")
    assert np.allclose(demo_patterns(), d["data"], atol=1e-15)
    assert np.corrcoef(d["data"])[0, 1] == pytest.approx(0.7706422018, abs=1e-9)
    net = FEPNetwork.zeros(25)
    net.train(d["data"], order=d["order"], steps=int(d["steps"]), stochastic=False,
              learning_rate=d["learning_rate"], beta=d["beta"], evidence=d["evidence"])
    assert np.abs(net.J - d["J"]).max() < 1e-10


def test_relax_parity_with_reference():
    net = FEPNetwork(REF["det_J"])
    res = net.relax(REF["relax_start"], b=0.0, beta=1.0, max_steps=1000, tol=1e-12)
    assert res.converged and res.steps == int(REF["relax_steps"])
    # the reference's coth z − 1/z loses ~1e-16/|z| near z = 0; ours is accurate
    assert np.abs(res.states - REF["relax_state"]).max() < 1e-8


def test_digits_preprocessing_matches_reference():
    assert list(REF["digits_target"]) == list(range(10))
    assert np.abs(preprocess_digits(REF["digits_raw"]) - REF["digits_pre"]).max() < 1e-12


@pytest.mark.skipif(REFERENCE is None, reason="reference implementation not importable")
def test_live_parity_with_the_reference_code():
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
    try:
        import fep_reference_arrays as gen
    finally:
        sys.path.pop(0)
    rng = np.random.default_rng(99)
    n = 9
    inp = {"J0": 0.4 * rng.standard_normal((n, n)), "sigma0": rng.uniform(-1, 1, n),
           "data": rng.standard_normal((4, n)), "order": rng.integers(0, 4, 30),
           "evidence": 3.0, "beta": 0.7, "learning_rate": 0.03, "steps": 4}
    J_ref, S_ref = gen.reference_det(REFERENCE, inp)
    net, res = _det(inp)
    assert np.abs(net.J - J_ref).max() < 1e-10 and np.abs(res.states - S_ref).max() < 1e-10
    sto = gen.reference_sto(REFERENCE, inp, seed=3)
    net = FEPNetwork(inp["J0"], seed=np.random.default_rng(3))
    res = net.train(inp["data"], order=inp["order"], steps=4, learning_rate=0.03, beta=0.7,
                    evidence=3.0, record=True, record_states=True)
    assert np.abs(res.states - sto["states"]).max() < 1e-9
    assert np.allclose(res.vfe, sto["vfe"], rtol=1e-9, atol=1e-9)


# -- the rule, the updates, relaxation ----------------------------------------------------------

def test_one_step_against_a_loop_implementation():
    rng = np.random.default_rng(2)
    n = 4
    J = rng.standard_normal((n, n))
    b = rng.standard_normal(n)
    s = rng.uniform(-1, 1, n)
    beta, lr = 0.8, 0.1
    # deterministic, written unit by unit
    h = [sum(J[i, j] * s[j] for j in range(n)) for i in range(n)]
    new = [float(_mp_langevin(beta * (b[i] + h[i]))) for i in range(n)]
    Jn = J.copy()
    for i in range(n):
        for j in range(n):
            if i != j:
                Jn[i, j] += lr * (new[i] * new[j] - float(_mp_langevin(h[i])) * new[j])
    net = FEPNetwork(J, b, sigma=s)
    out = net.step(beta, stochastic=False, learning_rate=lr)
    assert np.allclose(out, new, atol=1e-14) and np.allclose(net.J, Jn, atol=1e-14)
    # asynchronous: unit i sees the units updated before it
    net = FEPNetwork(J, b, sigma=s, update="async", unit_order=[2, 0, 3, 1])
    x = s.copy()
    for i in (2, 0, 3, 1):
        x[i] = float(_mp_langevin(beta * (b[i] + J[i] @ x)))
    assert np.allclose(net.step(beta, stochastic=False), x, atol=1e-14)


def test_async_and_sync_share_fixed_points():
    net = FEPNetwork(REF["det_J"], update="async")
    res = net.relax(REF["relax_start"], b=0.0, max_steps=2000, tol=1e-14)
    assert res.converged
    F = RateMap(REF["det_J"], 0.0, phi="langevin").residual(res.states)
    assert np.abs(F).max() < 1e-6
    sysm = net.as_system()
    assert np.abs(sysm.rhs(res.states) - res.states).max() < 1e-6


def test_relax_reports_non_convergence_without_nan():
    net = FEPNetwork(REF["det_J"])
    res = net.relax(np.stack([REF["relax_start"], -REF["relax_start"]]), b=0.0, max_steps=3,
                    tol=1e-12)
    assert not res.converged.any() and np.all(res.steps == 3)
    assert np.all(np.isfinite(res.states)) and np.all(np.isfinite(res.vfe))
    assert not res.all_converged
    # the network itself is untouched
    assert np.array_equal(net.sigma, np.zeros(12))


def test_as_system_is_the_deterministic_update_and_finds_the_attractors():
    r = studies.demo(1, presentations=200)
    J = np.array(r["J"])
    net = FEPNetwork(J)
    system = net.as_system(1.0)
    assert isinstance(system, RateMap) and system.gain == 1.0 and system.phi.name == "langevin"
    X = np.random.default_rng(0).uniform(-1, 1, (5, 25))
    stepped = np.array([FEPNetwork(J, sigma=x).step(1.0, stochastic=False) for x in X])
    assert np.allclose(system.rhs(X), stepped, atol=1e-14)
    A = np.array(r["attractors"])
    assert np.abs(system.residual(A)).max() < 1e-8
    fp = find_fixed_points(system, starts=A, seed=0)
    assert len(fp) >= 1 and fp.stable.all()


def test_batch_members_equal_single_networks_and_seeds_reproduce():
    X = demo_patterns()
    seeds = [4, 5, 6]
    batch = FEPNetwork.zeros(25, batch=3, seed=seeds)
    batch.train(X, presentations=30, steps=5, learning_rate=[0.01, 0.02, 0.03],
                beta=[0.1, 0.2, 0.3], evidence=30)
    for k, s in enumerate(seeds):
        one = FEPNetwork.zeros(25, seed=s)
        one.train(X, presentations=30, steps=5, learning_rate=0.01 * (k + 1),
                  beta=0.1 * (k + 1), evidence=30)
        assert np.abs(batch.J[k] - one.J).max() < 1e-13
    again = FEPNetwork.zeros(25, batch=3, seed=seeds)
    again.train(X, presentations=30, steps=5, learning_rate=[0.01, 0.02, 0.03],
                beta=[0.1, 0.2, 0.3], evidence=30)
    assert np.array_equal(again.J, batch.J)
    assert np.abs(batch.J[0] - batch.J[1]).max() > 1e-3


def test_symmetry_matches_diagnose():
    J = np.random.default_rng(3).standard_normal((10, 10))
    s = symmetry(J)
    assert s["eta"] == pytest.approx(diagnose(J, exact_max_n=0).eta_hat, abs=1e-14)
    assert s["asymmetry"] == pytest.approx(np.linalg.norm(J - J.T) / np.linalg.norm(J))
    assert symmetry(J + J.T)["eta"] == pytest.approx(1.0) and symmetry(J + J.T)["asymmetry"] == 0


# -- the paper's claims ------------------------------------------------------------------------

@pytest.mark.parametrize("seed", [0, 1, 2])
def test_demo_attractors_are_orthogonalised(seed):
    r = studies.demo(seed)
    assert r["pattern_correlation"] == pytest.approx(0.7706, abs=1e-4)
    assert all(r["converged"])
    # the paper reports r = -0.19 for the attractors (reference runs: -0.16 … -0.21)
    assert -0.5 < r["attractor_correlation"] < 0.0
    assert r["n_attractors"] == 2
    assert 0.5 < r["eta"] < 0.9


def test_random_order_gives_more_symmetric_couplings_than_sequential():
    X = REF["digits_pre"][1:4]
    eta = {o: [studies.sequence(s, o, patterns=X, free_run=False)["eta"] for s in range(3)]
           for o in ("sequential", "random")}
    assert min(eta["random"]) > max(eta["sequential"]) + 0.3, eta
    assert min(eta["random"]) > 0.95 and max(eta["sequential"]) < 0.7


def test_sequence_network_replays_the_training_cycle():
    r = studies.sequence(0, patterns=REF["digits_pre"][1:4], snapshots=2)
    assert r["asymmetry"] > 0.9  # the notebook: 0.981
    assert r["trace"][0]["eta"] > r["trace"][1]["eta"]  # asymmetry grows with training time
    assert r["label_changes"] >= 10 and r["forward_fraction"] > 0.9


# -- bad inputs --------------------------------------------------------------------------------

@pytest.mark.parametrize("call, match", [
    (lambda: FEPNetwork(np.zeros((3, 4))), "square"),
    (lambda: FEPNetwork(np.full((3, 3), np.nan)), "non-finite"),
    (lambda: FEPNetwork(np.zeros((3, 3)), b=np.zeros(4)), "b must"),
    (lambda: FEPNetwork(np.zeros((3, 3)), sigma=[2, 0, 0]), "[-1, 1]"),
    (lambda: FEPNetwork(np.zeros((3, 3)), update="random"), "update"),
    (lambda: FEPNetwork(np.zeros((2, 3, 3)), seed=[1]), "seeds"),
    (lambda: FEPNetwork(np.zeros((3, 3))).step(0.0), "beta"),
    (lambda: FEPNetwork(np.zeros((3, 3))).step(-1.0), "beta"),
    (lambda: FEPNetwork(np.zeros((3, 3))).step(float("nan")), "beta"),
    (lambda: FEPNetwork(np.zeros((3, 3))).step(1.0, learning_rate=-0.1), "learning_rate"),
    (lambda: FEPNetwork(np.zeros((3, 3))).train(np.zeros((2, 4)), presentations=2), "data"),
    (lambda: FEPNetwork(np.zeros((3, 3))).train([[0, np.inf, 0]], presentations=2),
     "non-finite"),
    (lambda: FEPNetwork(np.zeros((3, 3))).train(np.zeros((2, 3))), "presentations"),
    (lambda: FEPNetwork(np.zeros((3, 3))).train(np.zeros((2, 3)), order="shuffled",
                                                presentations=3), "order"),
    (lambda: FEPNetwork(np.zeros((3, 3))).train(np.zeros((2, 3)), order=[0, 2]), "0..1"),
    (lambda: FEPNetwork(np.zeros((3, 3))).train(np.zeros((2, 3)), presentations=2, steps=0),
     "steps"),
    (lambda: FEPNetwork(np.zeros((3, 3))).relax(np.zeros(4)), "x0"),
    (lambda: FEPNetwork(np.zeros((3, 3))).relax(np.zeros(3), tol=0), "tol"),
    (lambda: FEPNetwork(np.zeros((3, 3))).as_system(beta=0), "beta"),
    (lambda: FEPNetwork(np.zeros((2, 3, 3))).as_system(), "batch"),
    (lambda: studies.demo(0, gain=2), "unknown"),
])
def test_bad_inputs_raise_input_error(call, match):
    with pytest.raises(InputError, match=None) as exc:
        call()
    assert match in str(exc.value)


@pytest.fixture
def no_sklearn(monkeypatch):
    """Imports of scikit-learn fail, as on a machine without it."""
    import builtins

    real = builtins.__import__

    def fake(name, *a, **k):
        if name.startswith("sklearn"):
            raise ImportError("no sklearn")
        return real(name, *a, **k)

    monkeypatch.setattr(builtins, "__import__", fake)


def test_digits_without_scikit_learn_say_how_to_get_them(no_sklearn):
    from fplandscape.learn.fep.data import load_digits

    with pytest.raises(InputError, match="scikit-learn"):
        load_digits()


# -- the figure --------------------------------------------------------------------------------

TINY = {"sweep": {"learning_rates": [0.01], "betas": [0.1], "repeats": 1, "presentations": 100},
        "digits": {"presentations": 200, "trials": 4},
        "symmetry": {"seeds": 1, "presentations": 300, "checkpoints": 2},
        "landscape": {"demo_seeds": 1, "census_starts": 0, "census_steps": 100,
                      "census_transient": 50}}


def test_figure_renders_from_tiny_parameters_and_replots(tmp_path):
    pytest.importorskip("sklearn")  # the digits panels read scikit-learn's bundled digits
    from fplandscape.figures import make_figure
    from fplandscape.figures import fep as fig_fep

    res = make_figure("fep", tmp_path, seed=1, params=TINY)
    assert open(res.paths["png"], "rb").read(4) == b"\x89PNG"
    panels = {r["panel"] for r in res.rows}
    assert panels == {"orthogonalisation", "digits", "symmetry", "free_run", "landscape"}
    assert all(r["seed"] == 1 and "version" in r for r in res.rows)
    sign = [r for r in res.rows if r["series"] == "sign_count"][0]
    assert sign["count"] >= 2 and sign["expected_count"] > 0
    # the plot needs only the CSV data (what replot_figure draws; not saved again here)
    from fplandscape import tables

    fig_fep.plot(tables.read_csv(res.paths["csv"]))
    assert set(fig_fep.parameters(True)) == set(TINY) == set(fig_fep.parameters(False))


def test_figure_without_scikit_learn_still_renders(no_sklearn):
    from fplandscape.figures import fep as fig_fep

    rows = fig_fep.compute(seed=0, params=TINY)
    assert {r["panel"] for r in rows} == {"orthogonalisation", "missing", "landscape"}
    assert "scikit-learn" in [r for r in rows if r["panel"] == "missing"][0]["text"]
    fig_fep.plot(rows)
