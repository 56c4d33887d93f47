"""``fplandscape attractors ...``: JSON contracts, agreement with the Python API, inputs, CSV
rows, and clean errors for bad input (``error:`` + exit 2, before any work)."""
import csv
import importlib.util

import numpy as np
import pytest

from fplandscape.attractors import RateMap, census, find_fixed_points, load_system
from cli_runner import run, run_error, run_json


@pytest.fixture
def net(tmp_path):
    rng = np.random.default_rng(0)
    n = 12
    W = 1.4 * rng.standard_normal((n, n)) / np.sqrt(n)
    U = rng.standard_normal((n, 2))
    np.save(tmp_path / "W.npy", W)
    np.savez(tmp_path / "net.npz", W=W, U=U, b=0.1 * np.ones(n))
    np.savetxt(tmp_path / "W.csv", W, delimiter=",")
    np.savetxt(tmp_path / "u.csv", [[0.0, 0.0], [1.0, -1.0]], delimiter=",")
    return tmp_path, W, U


def test_fixed_points_precision_and_deflation_options_reach_the_api(capsys, net):
    d, W, _ = net
    obj = run_json(capsys, "attractors", "fixed-points", "--weights", d / "W.npy",
                   "--starts", 32, "--seed", 1, "--precision", "double",
                   "--deflation-starts", 0)["results"][0]
    fp = find_fixed_points(RateMap(W), n_starts=32, seed=1, precision="double",
                           deflation_starts=0)
    assert obj["params"]["precision"] == "double" and obj["params"]["deflation_starts"] == 0
    assert obj["n_fixed_points"] == len(fp) and np.allclose(np.array(obj["states"]), fp.states)
    run_error(capsys, "attractors", "fixed-points", "--weights", d / "W.npy",
              "--precision", "half", match="invalid choice")


def test_fixed_points_json_contract_matches_the_api(capsys, net):
    d, W, _ = net
    top = run_json(capsys, "attractors", "fixed-points", "--weights", d / "W.npy",
                   "--starts", 64, "--seed", 3)
    assert sorted(top) == ["results", "version"] and len(top["results"]) == 1
    obj = top["results"][0]
    for key in ("states", "residuals", "eigenvalues", "stable", "n_unstable", "labels",
                "complete", "slow_states", "version", "n_fixed_points"):
        assert key in obj
    fp = find_fixed_points(RateMap(W), n_starts=64, seed=3)
    assert obj["n_fixed_points"] == len(fp)
    assert np.allclose(np.array(obj["states"]), fp.states)
    assert obj["labels"] == fp.labels
    # every reported state is a fixed point of x -> tanh(W x)
    S = np.array(obj["states"])
    assert np.abs(np.tanh(S @ W.T) - S).max() < 1e-12
    # the CSV file and the .csv weights give the same answer
    out = d / "fp.csv"
    obj2 = run_json(capsys, "attractors", "fixed-points", "--weights", d / "W.csv",
                    "--starts", 64, "--seed", 3, "--csv", out)["results"][0]
    assert obj2["n_fixed_points"] == obj["n_fixed_points"]
    with open(out) as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == obj["n_fixed_points"] and "label" in rows[0]


def test_census_with_inputs_reports_per_input(capsys, net):
    d, W, U = net
    obj = run_json(capsys, "attractors", "census", "--weights", d / "net.npz", "--input",
                   d / "u.csv", "--starts", 10, "--steps", 500, "--transient", 300)
    assert len(obj["results"]) == 2
    system = load_system(d / "net.npz")
    for u, res in zip([[0.0, 0.0], [1.0, -1.0]], obj["results"]):
        assert res["input"] == u
        assert abs(sum(res["fractions"].values()) - 1) < 1e-12
        for a in res["attractors"]:
            assert a["kind"] in ("fixed_point", "periodic", "quasi_periodic", "chaotic",
                                 "divergent")
    direct = census(system, 10, inputs=[[1.0, -1.0]], steps=500, transient=300, seed=0)
    assert [a.kind for a in direct[0].attractors] == \
        [a["kind"] for a in obj["results"][1]["attractors"]]


def test_census_of_a_sign_network_is_exact(capsys, net):
    d, W, _ = net
    obj = run_json(capsys, "attractors", "census", "--weights", d / "W.npy",
                   "--model", "sign")["results"][0]
    assert obj["exact"] is True and obj["n_starts"] == 2**12
    assert sum(a["basin_size"] for a in obj["attractors"]) == 2**12


def test_lyapunov_and_diagnose(capsys, net):
    d, W, _ = net
    obj = run_json(capsys, "attractors", "lyapunov", "--weights", d / "W.npy", "--starts", 2,
                   "--steps", 500, "--k", 2)
    assert np.array(obj["exponents"]).shape == (2, 2)
    dg = run_json(capsys, "attractors", "diagnose", "--weights", d / "W.npy")
    brute = 0
    S = np.array(np.meshgrid(*[[-1, 1]] * 12)).reshape(12, -1).T
    brute = int(np.sum(np.all(S * (S @ W.T) > 0, axis=1)))
    assert dg["count"] == brute
    assert dg["eta_hat"] == pytest.approx(np.corrcoef(W[np.triu_indices(12, 1)],
                                                      W.T[np.triu_indices(12, 1)])[0, 1])


def test_leaky_model_and_text_output(capsys, net):
    d, W, _ = net
    rc, out, err = run(capsys, "attractors", "fixed-points", "--weights", d / "W.npy",
                       "--model", "leaky", "--starts", 32)
    assert rc == 0 and "fixed point(s) of the LeakyIntegrator" in out


@pytest.mark.parametrize("args, match", [
    (["fixed-points", "--weights", "{d}/missing.npy"], "does not exist"),
    (["fixed-points", "--weights", "{d}/W.npy", "--phi", "softsign"], "invalid choice"),
    (["fixed-points", "--weights", "{d}/W.npy", "--starts", "0"], "--starts"),
    (["fixed-points", "--weights", "{d}/W.npy", "--seed", "-1"], "--seed"),
    (["census", "--weights", "{d}/W.npy", "--input", "{d}/u.csv"], "input matrix U"),
    (["census", "--weights", "{d}/net.npz", "--input", "{d}/bad_u.csv"], "length"),
    (["census", "--weights", "{d}/nonsquare.npy"], "square"),
    (["census", "--weights", "{d}/nan.npy"], "non-finite"),
    (["census", "--weights", "{d}/fake.npz"], "not a valid .npz"),
    (["census", "--weights", "{d}/W.npy", "--k", "0"], "--k"),
    (["lyapunov", "--weights", "{d}/W.npy", "--model", "sign"], "SignNetwork"),
    (["fixed-points", "--weights", "{d}/W.npy", "--phi", "relu", "--certified"], "box"),
    (["fixed-points", "--weights", "{d}/W.npy", "--box", "1", "0", "--certified"], "LO < HI"),
    (["census", "--weights", "{d}/W.npy", "--csv", "{d}/W.npy/out.csv"], "is a file"),
])
def test_bad_input_gives_one_clear_error(capsys, net, args, match):
    d, W, _ = net
    np.save(d / "nonsquare.npy", np.ones((2, 3)))
    np.save(d / "nan.npy", np.array([[1.0, np.nan], [0.0, 1.0]]))
    (d / "fake.npz").write_text("not a zip")
    np.savetxt(d / "bad_u.csv", [[1.0, 2.0, 3.0]], delimiter=",")
    run_error(capsys, "attractors", *[a.format(d=d) for a in args], match=match)


@pytest.mark.skipif(importlib.util.find_spec("torch") is not None, reason="torch is installed")
def test_state_dict_without_torch_is_a_clear_error(capsys, tmp_path):
    (tmp_path / "rnn.pt").write_bytes(b"\x80\x02not really a torch file")
    run_error(capsys, "attractors", "fixed-points", "--weights", tmp_path / "rnn.pt",
              match="needs torch")


@pytest.mark.skipif(importlib.util.find_spec("torch") is None, reason="torch not installed")
def test_torch_rnn_round_trip(tmp_path):  # pragma: no cover - only where torch is installed
    import torch

    from fplandscape.attractors import rate_map_from_torch

    torch.manual_seed(0)
    rnn = torch.nn.RNN(3, 8, batch_first=True)
    torch.save(rnn.state_dict(), tmp_path / "rnn.pt")
    s = load_system(tmp_path / "rnn.pt")
    s2 = rate_map_from_torch(rnn)
    x = torch.randn(1, 5, 3)
    h0 = torch.randn(1, 1, 8)
    out, _ = rnn(x, h0)
    h = h0[0, 0].detach().numpy().astype(float)
    for t in range(5):
        h = s.with_input(x[0, t].numpy().astype(float)).rhs(h)
    assert np.allclose(h, out[0, -1].detach().numpy(), atol=1e-5)
    assert np.allclose(s.W, s2.W)
