"""Regenerate ``tests/data/fep_reference_parity.npz`` from the reference implementation of the
free-energy attractor network (Spisak & Friston; public repository pni-lab/fep-attractor-network,
never part of this repository).

Usage::

    python benchmarks/fep_reference_arrays.py [--reference DIR] [--out FILE]

``--reference`` (default ``$FEP_REFERENCE`` or /work/scratch-fep/fep) is a checkout holding
``simulation/network.py`` and ``simulation/utils.py``. Its plotting-only imports (seaborn,
networkx, netgraph, pingouin, pandas) are replaced by empty stand-in modules when they are not
installed; they are not used by anything called here. scikit-learn is needed for the digits.

Every array in the file comes from the reference code (inputs drawn here with fixed seeds):

* ``det_*`` — deterministic ("least action") training of N = 12 units from a random J0 with a
  non-zero diagonal and random initial states: 40 presentations (pattern indices ``det_order``
  of 3 random patterns, evidence 2) × 5 steps of ``AttractorNetwork.update(β = 0.5,
  least_action=True, learning_rate=0.05)``; ``det_states`` after every step, ``det_J`` at the
  end. Then ``relax_*``: ``relax`` of the trained J from L(0.1 x) of pattern 0, zero bias,
  β = 1, tol 1e-12 (``relax_state``, ``relax_steps``), and ``vfe_*``: complexity, accuracy and
  VFE of the trained network at states ``vfe_sigma`` and biases ``vfe_b``.
* ``sto_*`` — stochastic training through the reference's own
  ``continous_inference_and_learning`` with the network's generator ``default_rng(7)``: same
  J0, patterns and order, zero initial states; states, VFE, accuracy, complexity and weight
  change after every step and the final J.
* ``demo_*`` — the demonstration's 25-unit patterns trained deterministically (evidence 30,
  β = 0.1, learning rate 0.01, 60 presentations of 10 steps, order ``demo_order``): final J.
* ``digits_raw`` / ``digits_pre`` — the first ten images of scikit-learn's digits before and
  after the reference's ``preprocess_digits_data``.
"""
from __future__ import annotations

import argparse
import importlib.util
import os
import sys
import types
from pathlib import Path

import numpy as np

DEFAULT_REFERENCE = os.environ.get("FEP_REFERENCE", "/work/scratch-fep/fep")
OUT = Path(__file__).resolve().parent.parent / "tests" / "data" / "fep_reference_parity.npz"
_STUBS = ("seaborn", "networkx", "netgraph", "pingouin", "pandas")


def load_reference(path=DEFAULT_REFERENCE, *, utils: bool = False):
    """``(network, utils)`` modules of the reference at ``path`` (utils None unless asked);
    raises ImportError when they cannot be imported. Plotting-only dependencies that are
    missing are stubbed during the import and removed from ``sys.modules`` afterwards."""
    root = Path(path)
    net_file = root / "simulation" / "network.py"
    if not net_file.exists():
        raise ImportError(f"no reference implementation at {root}")
    added = []
    for name in _STUBS:
        if name in sys.modules:
            continue
        if importlib.util.find_spec(name) is None:
            mod = types.ModuleType(name)
            mod.__getattr__ = lambda attr: (lambda *a, **k: None)  # every name: a no-op
            sys.modules[name] = mod
            added.append(name)
    import matplotlib

    matplotlib.use("Agg")
    try:
        spec = importlib.util.spec_from_file_location("fep_reference_network", net_file)
        network = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(network)
        ut = None
        if utils:
            # utils.py does `from simulation.network import ...`: give it this module
            pkg = types.ModuleType("simulation")
            pkg.__path__ = [str(root / "simulation")]
            saved = {k: sys.modules.get(k) for k in ("simulation", "simulation.network")}
            sys.modules["simulation"], sys.modules["simulation.network"] = pkg, network
            try:
                spec = importlib.util.spec_from_file_location("fep_reference_utils",
                                                              root / "simulation" / "utils.py")
                ut = importlib.util.module_from_spec(spec)
                spec.loader.exec_module(ut)
            finally:
                for k, v in saved.items():
                    if v is None:
                        sys.modules.pop(k, None)
                    else:
                        sys.modules[k] = v
    finally:
        for name in added:
            sys.modules.pop(name, None)
    return network, ut


def det_inputs():
    rng = np.random.default_rng(20250522)
    n = 12
    return {"J0": 0.3 * rng.standard_normal((n, n)), "sigma0": rng.uniform(-1, 1, n),
            "data": rng.standard_normal((3, n)), "order": rng.integers(0, 3, 40),
            "evidence": 2.0, "beta": 0.5, "learning_rate": 0.05, "steps": 5}


def reference_det(network, inp):
    """Deterministic training with the reference's update (module docstring)."""
    n = inp["J0"].shape[0]
    nw = network.AttractorNetwork(inp["J0"].copy(), np.zeros(n))
    for i, node in enumerate(nw.sigmas):
        node.activation = float(inp["sigma0"][i])
    states = []
    for di in inp["order"]:
        for i, node in enumerate(nw.sigmas):
            node.bias = inp["evidence"] * inp["data"][di, i]
        for _ in range(inp["steps"]):
            nw.update(inverse_temperature=inp["beta"], least_action=True,
                      learning_rate=inp["learning_rate"])
            states.append([node.activation for node in nw.sigmas])
        for node in nw.sigmas:
            node.bias = 0
    return nw.get_J(), np.array(states)


def reference_sto(network, inp, seed=7, helper=None):
    """Stochastic training with generator ``default_rng(seed)``: through the reference's
    ``continous_inference_and_learning`` when ``helper`` is given, else the same loop
    written out (set biases, update, record, reset biases)."""
    n = inp["J0"].shape[0]
    nw = network.AttractorNetwork(inp["J0"].copy(), np.zeros(n),
                                  rng=np.random.default_rng(seed))
    out = {k: [] for k in ("states", "weight_change", "accuracy", "complexity", "vfe")}
    for di in inp["order"]:
        data = inp["evidence"] * inp["data"][di]
        if helper is not None:
            a, w, acc, comp, v = helper(nw, data, inverse_temperature=inp["beta"],
                                        learning_rate=inp["learning_rate"],
                                        num_steps=inp["steps"])
        else:
            for i, node in enumerate(nw.sigmas):
                node.bias = data[i]
            a, w, acc, comp, v = [], [], [], [], []
            prev = nw.get_J()
            for _ in range(inp["steps"]):
                nw.update(inverse_temperature=inp["beta"], learning_rate=inp["learning_rate"],
                          least_action=False)
                a.append([node.activation for node in nw.sigmas])
                w.append(np.sum((nw.get_J() - prev) ** 2))
                prev = nw.get_J()
                acc.append(nw.accuracy())
                comp.append(nw.complexity())
                v.append(comp[-1] - acc[-1])
            for node in nw.sigmas:
                node.bias = 0
        out["states"] += a
        out["weight_change"] += w
        out["accuracy"] += acc
        out["complexity"] += comp
        out["vfe"] += v
    res = {k: np.array(v, dtype=np.float64) for k, v in out.items()}
    res["J"] = nw.get_J()
    return res


def reference_relax(network, J, start):
    nw = network.AttractorNetwork(J.copy(), np.zeros(J.shape[0]))
    state, steps = network.relax(nw, input=start, bias=np.zeros(J.shape[0]),
                                 inverse_temperature=1.0, least_action=True, max_steps=1000,
                                 tol=1e-12)
    return state, steps


def reference_vfe(network, J, sigma, b):
    nw = network.AttractorNetwork(J.copy(), np.asarray(b, dtype=np.float64))
    for i, node in enumerate(nw.sigmas):
        node.activation = float(sigma[i])
    return nw.complexity(), nw.accuracy(), nw.vfe()


def demo_inputs():
    """The two bar images as notebook 03 builds them, and a random presentation order."""
    d1 = np.array([[0, 0, 1, 0, 0], [0, 0, 1, 0, 0], [0, 0, 4, 0, 0], [0, 0, 1, 0, 0],
                   [0, 0, 1, 0, 0]], dtype=np.float64)
    d2 = np.array([[0, 0, 0, 0, 0], [0, 0, 0, 0, 0], [1, 1, 4, 1, 1], [0, 0, 0, 0, 0],
                   [0, 0, 0, 0, 0]], dtype=np.float64)
    d1 = (d1 - d1.mean()) / d1.std()
    d2 = (d2 - d2.mean()) / d2.std()
    rng = np.random.default_rng(3)
    return {"data": np.vstack([d1.ravel(), d2.ravel()]), "order": rng.integers(0, 2, 60),
            "evidence": 30.0,
            "beta": 0.1, "learning_rate": 0.01, "steps": 10}


def reference_demo_det(network, inp):
    n = inp["data"].shape[1]
    nw = network.AttractorNetwork(np.zeros((n, n)), np.zeros(n))
    for di in inp["order"]:
        for i, node in enumerate(nw.sigmas):
            node.bias = inp["evidence"] * inp["data"][di, i]
        for _ in range(inp["steps"]):
            nw.update(inverse_temperature=inp["beta"], least_action=True,
                      learning_rate=inp["learning_rate"])
    return nw.get_J()


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--reference", default=DEFAULT_REFERENCE)
    ap.add_argument("--out", default=str(OUT))
    args = ap.parse_args(argv)
    network, ut = load_reference(args.reference, utils=True)
    inp = det_inputs()
    arrays = {f"det_{k}": np.asarray(v) for k, v in inp.items()}
    J, states = reference_det(network, inp)
    arrays.update(det_J=J, det_states=states)
    start = network.Langevin(0.1 * inp["data"][0])
    state, steps = reference_relax(network, J, start)
    arrays.update(relax_start=start, relax_state=state, relax_steps=np.int64(steps))
    rng = np.random.default_rng(11)
    sigma, b = rng.uniform(-1, 1, J.shape[0]), 2.0 * rng.standard_normal(J.shape[0])
    b[0] = 0.0  # a zero bias (the reference's b → tiny guard)
    c, a, v = reference_vfe(network, J, sigma, b)
    arrays.update(vfe_sigma=sigma, vfe_b=b, vfe_complexity=np.float64(c),
                  vfe_accuracy=np.float64(a), vfe_vfe=np.float64(v))
    sto = reference_sto(network, inp, 7, helper=ut.continous_inference_and_learning)
    arrays.update({f"sto_{k}": v for k, v in sto.items()})
    arrays["sto_seed"] = np.int64(7)
    dinp = demo_inputs()
    arrays.update({f"demo_{k}": np.asarray(v) for k, v in dinp.items()})
    arrays["demo_J"] = reference_demo_det(network, dinp)
    from sklearn import datasets

    digits = datasets.load_digits(as_frame=False)

    class _Frame:  # the reference reads digits.data.values (a DataFrame)
        def __init__(self, a):
            self.values = a

    class _Digits:
        data = _Frame(np.asarray(digits.data, dtype=np.float64))

    import matplotlib.pyplot as plt

    train, _ = ut.preprocess_digits_data(_Digits())
    plt.close("all")
    arrays.update(digits_raw=np.asarray(digits.data[:10], dtype=np.float64),
                  digits_target=np.asarray(digits.target[:10]), digits_pre=train)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(out, **arrays)
    print(f"wrote {out} ({out.stat().st_size} bytes, {len(arrays)} arrays)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
