"""Side by side with the reference code of the learning rule (the public repository
``mattia-scardecchia/Biological-Learning``): its two-module λ experiment
(``configs/lambda_advantage.yaml``) and our network with the same couplings.

The reference is imported from a checkout given by ``--reference PATH`` (or the environment
variable ``FPLANDSCAPE_LEARNING_REFERENCE``); it needs ``torch``. Its plotting module imports
seaborn, which the dynamics never use: a stub is put in its place when seaborn is missing.
The reference runs in float64 here (its ``DTYPE`` and torch's default dtype set before the
model is built), so that both codes decide every sign on the same numbers.

``python benchmarks/learn_reference.py --reference PATH [--write tests/data/...npz]``

1. **Schedule parity** (``parity``): a reference model with the λ-experiment settings (two
   modules, J_D = 0, λ, input strength λ_in into both modules, feedback into both, readout from
   both) but with update probability 1 (deterministic), its couplings copied into an
   :class:`fplandscape.learn.network.Network` (:func:`network_from_reference`), and one batch
   relaxed by both: the reference's ``double_relax`` (warm-up L sweeps without feedback, then
   feedback up to ``max_steps_train`` sweeps, then as many free sweeps) and ours with
   ``Schedule.reference(2)`` (``warmup="all"``, ``feedback_from="readout"``). Printed: the
   fraction of hidden units that differ after the steered and after the free phase, and the
   same with our default schedule (``warmup="front"``, ``feedback_from="target"``). With
   ``--write`` the couplings, the batch and the reference's states are stored for
   tests/test_learn_reference.py (which runs the reference live when it is importable).
"""
from __future__ import annotations

import argparse
import importlib.util
import os
import sys
import types

import numpy as np

from fplandscape.learn.network import Architecture, Network, relax

#: configs/lambda_advantage.yaml of the reference, as keyword arguments of its model class
#: (the experiment's values; H, L, J_D, λ, λ_in, p_update and the seed are arguments below)
LAMBDA_ADVANTAGE = dict(
    lambda_internal=1.0, lambda_fc=1.0, init_mode="zeros", init_noise=0.0, fc_left=False,
    fc_right=False, fc_input=False, symmetric_W=False, symmetric_J_init=False,
    double_dynamics=True, double_update=False, use_local_ce=False, beta_ce=10.0,
    lambda_cylinder=None, lambda_wback_skip=[0.9], lambda_wforth_skip=[1.0],
    lr_wforth_skip=[0.1], weight_decay_wforth_skip=[0.005], lambda_input_output_skip=0.0,
    lr_input_skip=0.03, weight_decay_input_skip=0.0, lr_input_output_skip=0.0,
    weight_decay_input_output_skip=0.005, symmetrize_fc=False,
    symmetric_threshold_internal_couplings=False, symmetric_update_internal_couplings=False,
    symmetrize_internal_couplings=False, zero_fc_init=True, bias_std=0.0,
    inference_ignore_right=4)
MAX_STEPS = 7           # max_steps_train of the experiment
LAMBDA_WBACK = 0.9
LAMBDA_Y = 1000.0


def import_reference(path=None, dtype="float64"):
    """The reference's model module (``src.batch_me_if_u_can``) computing in ``dtype`` (float64
    for the parity checks; its own float32 for training runs), or None when torch or the
    checkout is missing. One dtype per process (it is a module constant of the reference)."""
    path = path or os.environ.get("FPLANDSCAPE_LEARNING_REFERENCE")
    if not path or not os.path.isdir(os.path.join(path, "src")):
        return None
    try:
        import torch
    except ImportError:
        return None
    if path not in sys.path:
        sys.path.insert(0, path)
    if importlib.util.find_spec("seaborn") is None:   # imported by its plotting helpers only
        sys.modules["seaborn"] = types.ModuleType("seaborn")
    dt = getattr(torch, dtype)
    torch.set_default_dtype(dt)
    import src.utils as utils
    utils.DTYPE = dt
    import src.batch_me_if_u_can as model
    model.DTYPE = dt
    return model


def reference_model(ref, *, hidden, n_in=100, classes=10, layers=2, jd=0.0, lam=1.0,
                    lam_in=5.0, p_update=1.0, seed=0, kappa_h=0.9, kappa_out=3.0,
                    lr_j=0.005, lr_w=0.1, weight_decay=0.005):
    """A reference model with the λ experiment's settings (its ``parse_config``: hidden
    threshold κ_h + J_D + λ, readout threshold κ_out, lr of W_back set to 0)."""
    import torch

    L = layers
    lr = [lr_j] * L + [0.0, lr_w]
    wd = [weight_decay] * L + [weight_decay] * 2
    threshold = [kappa_h + jd + lam] * L + [kappa_out]
    kw = dict(LAMBDA_ADVANTAGE)
    kw.update(lambda_wback_skip=[LAMBDA_WBACK] * (L - 1), lambda_wforth_skip=[1.0] * (L - 1),
              lr_wforth_skip=[0.1] * (L - 1), weight_decay_wforth_skip=[0.005] * (L - 1),
              lambda_input_skip=[lam_in] * L)
    return ref.BatchMeIfUCan(
        num_layers=L, N=n_in, H=hidden, C=classes, J_D=jd,
        lambda_left=[0.0] + [lam] * (L - 1) + [1.0],
        lambda_right=[lam] * (L - 1) + [LAMBDA_WBACK, LAMBDA_Y],
        lr=torch.tensor(lr), threshold=torch.tensor(threshold),
        weight_decay=torch.tensor(wd), p_update=p_update, device="cpu", seed=seed, **kw)


def reference_arrays(m) -> dict:
    """The reference model's couplings as NumPy arrays (float64), by block."""
    H, C, L = m.H, m.C, m.L
    c = m.couplings.detach().cpu().numpy()
    return {"internal": np.stack([c[l, :, H:2 * H] for l in range(L)]),
            "left": np.stack([c[l, :, :H] for l in range(L)]),
            "right": np.stack([c[l, :, 2 * H:] for l in range(L)]),
            "W_forth": c[L, :C, :H].copy(),
            "Wback_skip": m.Wback_skip.detach().cpu().numpy(),
            "Wforth_skip": m.Wforth_skip.detach().cpu().numpy(),
            "input_skip": m.input_skip.detach().cpu().numpy()}


def network_from_reference(arrays: dict, *, lam: float, lam_in: float, jd: float,
                           lam_back: float = LAMBDA_WBACK) -> Network:
    """Our network with the reference's couplings (layout of :func:`reference_arrays`):
    J^l = internal block (diagonal J_D), λ_in W^{in,l} = input_skip[l], W^out = W_forth,
    W^{skip,l} = Wforth_skip[l], λ_back W^back = the last module's right block (first C
    columns); the reference's Wback_skip must be the same matrix (checked). The one-to-one
    blocks must be λ·I (checked)."""
    J = np.array(arrays["internal"], dtype=np.float64)
    L, H, _ = J.shape
    W_out = np.array(arrays["W_forth"], dtype=np.float64)
    C = W_out.shape[0]
    W_in = np.array(arrays["input_skip"], dtype=np.float64) / lam_in
    N = W_in.shape[2]
    back = np.array(arrays["right"][L - 1][:, :C], dtype=np.float64) / lam_back
    for l in range(L - 1):
        if not np.allclose(arrays["Wback_skip"][l] / lam_back, back, rtol=1e-12, atol=0):
            raise ValueError("the reference's Wback_skip is not the last module's W_back")
        if not (np.array_equal(arrays["right"][l][:, :H], lam * np.eye(H))
                and np.array_equal(arrays["left"][l + 1], lam * np.eye(H))):
            raise ValueError("the reference's inter-module couplings are not λ·I")
    if not np.allclose(np.diagonal(J, axis1=1, axis2=2), jd, rtol=0, atol=0):
        raise ValueError("the reference's self-couplings are not J_D")
    arch = Architecture(n_in=N, hidden=H, classes=C, layers=L, jd=jd, lam=lam, lam_in=lam_in,
                        lam_back=lam_back, skip=True, input_to="all")
    W_skip = np.array(arrays["Wforth_skip"], dtype=np.float64) if L > 1 else None
    return Network(arch, J, W_in, W_out, back, W_skip=W_skip)


def reference_relax(ref_model, x, labels, classes):
    """The reference's training dynamics (``double_relax``) on a batch: the hidden states after
    the steered phase and after the free phase, (L, B, H) each, as float64."""
    import torch

    onehot = np.zeros((len(labels), classes))
    onehot[np.arange(len(labels)), labels] = 1.0
    state = ref_model.initialize_state(torch.tensor(x), torch.tensor(onehot), "zeros")
    first, final, _, _, _ = ref_model.double_relax(state, MAX_STEPS)
    L = ref_model.L
    return (first[:, 1:L + 1].detach().cpu().numpy().transpose(1, 0, 2).copy(),
            final[:, 1:L + 1].detach().cpu().numpy().transpose(1, 0, 2).copy())


def our_relax(net, x, labels, schedule):
    """(states after the steered phase, after the free phase) of our relaxation."""
    from fplandscape.learn.network import one_vs_all

    y = one_vs_all(labels, net.arch.classes)
    kw = dict(y=y, steer=schedule.steer, mode="sync", update_prob=schedule.update_prob,
              rng=np.random.default_rng(0), warmup=schedule.warmup,
              feedback_from=schedule.feedback_from)
    return relax(net, x, free=0, **kw), relax(net, x, free=schedule.free, **kw)


def parity(ref, *, hidden=48, n_in=32, lam=2.5, lam_in=5.0, jd=0.0, batch=64, seed=0):
    """Schedule and plasticity parity on one batch of random ±1 inputs (module docstring): a
    dict with the arrays (the reference's couplings before and, prefixed ``step_``, after one
    training step on the first 16 examples), the batch, the reference's states and the
    mismatch fractions of our schedules."""
    import torch

    from fplandscape.learn.train import Schedule

    m = reference_model(ref, hidden=hidden, n_in=n_in, lam=lam, lam_in=lam_in, jd=jd,
                        p_update=1.0, seed=seed)
    arrays = reference_arrays(m)
    net = network_from_reference(arrays, lam=lam, lam_in=lam_in, jd=jd)
    rng = np.random.default_rng(seed)
    x = 2.0 * rng.integers(0, 2, size=(batch, net.arch.n_in)) - 1.0
    labels = rng.integers(0, net.arch.classes, size=batch)
    ref_steer, ref_free = reference_relax(m, x, labels, net.arch.classes)
    onehot = np.zeros((16, net.arch.classes))
    onehot[np.arange(16), labels[:16]] = 1.0
    m.train_step(torch.tensor(x[:16]), torch.tensor(onehot), MAX_STEPS)
    out = {"x": x, "labels": labels, "ref_steer": ref_steer, "ref_free": ref_free,
           "lam": lam, "lam_in": lam_in, "jd": jd, **arrays,
           **{f"step_{k}": v for k, v in reference_arrays(m).items()}}
    steer = MAX_STEPS - net.arch.layers
    for name, sched in (("reference", Schedule.reference(net.arch.layers, update_prob=1.0)),
                        ("warmup_only", Schedule(steer=steer, free=MAX_STEPS, warmup="all")),
                        ("default", Schedule(steer=steer, free=MAX_STEPS))):
        s1, s2 = our_relax(net, x, labels, sched)
        out[f"{name}_steer_mismatch"] = float(np.mean(s1 != ref_steer))
        out[f"{name}_free_mismatch"] = float(np.mean(s2 != ref_free))
    return out


def reference_train(ref, data, *, hidden, lam, lam_in, jd=0.0, epochs=10, seed=0,
                    p_update=0.85, layers=2):
    """Train the reference's model on ``data`` (a :class:`fplandscape.learn.data.Dataset`)
    as its ``Handler.train_epoch`` does (a fresh permutation per epoch from the model's CPU
    generator, full batches of 16 only, ``train_step`` with ``max_steps_train`` = 7) and
    evaluate the test set with its ``inference`` (7 sweeps, update masks included) after every
    epoch. The update masks use torch's global generator, seeded here with ``seed``. One torch
    thread. Returns the test accuracies per epoch and the seconds per epoch of training."""
    import time

    import torch

    torch.set_num_threads(1)
    torch.manual_seed(seed)
    m = reference_model(ref, hidden=hidden, n_in=data.n_in, classes=data.classes,
                        layers=layers, jd=jd, lam=lam, lam_in=lam_in, p_update=p_update,
                        seed=seed)
    dt = ref.DTYPE
    X = torch.tensor(data.x_train, dtype=dt)
    Y = torch.zeros((X.shape[0], data.classes), dtype=dt)
    Y[torch.arange(X.shape[0]), torch.tensor(data.y_train)] = 1.0
    Xt = torch.tensor(data.x_test, dtype=dt)
    yt = torch.tensor(data.y_test)
    acc, secs = [], []
    for _ in range(epochs):
        t0 = time.perf_counter()
        perm = torch.randperm(X.shape[0], generator=m.cpu_generator)
        for lo in range(0, X.shape[0] - 16 + 1, 16):
            idx = perm[lo:lo + 16]
            m.train_step(X[idx], Y[idx], MAX_STEPS)
        secs.append(time.perf_counter() - t0)
        pred = []
        for lo in range(0, Xt.shape[0], 1024):
            logits, _, _ = m.inference(Xt[lo:lo + 1024], MAX_STEPS)
            pred.append(torch.argmax(logits, dim=1))
        acc.append(float((torch.cat(pred) == yt).double().mean()))
    return {"test_accuracy": acc[-1], "max_test_accuracy": max(acc), "history": acc,
            "seconds_per_epoch": float(np.mean(secs))}


def lambda_side_by_side(ref, data, lam_values, lam_in_values, *, hidden=100, epochs=10,
                        samples=3):
    """The reference's λ experiment and ours (``lambda_study.lambda_advantage``, setting
    ``reference``) on the same data: rows per (λ, λ_in) with mean ± SE over the seeds
    0..samples−1 of the final and best test accuracy of both codes."""
    from fplandscape.learn.lambda_study import lambda_advantage
    from fplandscape.stats import mean_se

    ours = lambda_advantage(data, lam_values, lam_in_values=lam_in_values, samples=samples,
                            hidden=hidden, epochs=epochs, workers=1, progress=False)
    by = {(r["setting"], r["lam"], r["lam_in"]): r for r in ours.summary()}
    rows = []
    for lam in lam_values:
        for lam_in in lam_in_values:
            runs = [reference_train(ref, data, hidden=hidden, lam=lam, lam_in=lam_in,
                                    epochs=epochs, seed=s) for s in range(samples)]
            row = {"lam": lam, "lam_in": lam_in}
            for key in ("test_accuracy", "max_test_accuracy"):
                mean, se = mean_se([r[key] for r in runs])
                row["reference_" + key] = mean
                row["reference_" + key + "_se"] = float("nan") if se is None else se
                o = by[("reference", float(lam), float(lam_in))]
                row["ours_" + key], row["ours_" + key + "_se"] = o[key], o[key + "_se"]
            row["reference_seconds_per_epoch"] = float(np.mean([r["seconds_per_epoch"]
                                                                for r in runs]))
            rows.append(row)
            print(f"lambda {lam:4} lambda_in {lam_in:3}: reference "
                  f"{row['reference_test_accuracy']:.3f} ± {row['reference_test_accuracy_se']:.3f}"
                  f" (max {row['reference_max_test_accuracy']:.3f}) | ours "
                  f"{row['ours_test_accuracy']:.3f} ± {row['ours_test_accuracy_se']:.3f} "
                  f"(max {row['ours_max_test_accuracy']:.3f})", flush=True)
    for lam_in in lam_in_values:
        o = by[("one-module", 0.0, float(lam_in))]
        print(f"one module (J_D = 0.5, ours) lambda_in {lam_in}: {o['test_accuracy']:.3f} ± "
              f"{o['test_accuracy_se']:.3f} (max {o['max_test_accuracy']:.3f})")
        rows.append({"lam": None, "lam_in": lam_in, "one_module_test_accuracy":
                     o["test_accuracy"], "one_module_test_accuracy_se": o["test_accuracy_se"],
                     "one_module_max_test_accuracy": o["max_test_accuracy"]})
    return rows


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--reference", default=None, metavar="PATH")
    ap.add_argument("--write", default=None, metavar="NPZ")
    ap.add_argument("--hidden", type=int, default=48)
    ap.add_argument("--lambda-study", action="store_true",
                    help="train both codes on the 5k subset over lambda and lambda_in instead")
    ap.add_argument("--lam", type=float, nargs="+", default=[0.0, 1.0, 2.5, 4.0, 5.0])
    ap.add_argument("--lam-in", type=float, nargs="+", default=[2.0, 5.0])
    ap.add_argument("--epochs", type=int, default=10)
    ap.add_argument("--samples", type=int, default=3)
    ap.add_argument("--dataset", default="emnist5k")
    ap.add_argument("--json", default=None, metavar="PATH")
    args = ap.parse_args(argv)
    ref = import_reference(args.reference, "float32" if args.lambda_study else "float64")
    if ref is not None and args.lambda_study:
        import json

        from fplandscape.learn.data import load_dataset

        rows = lambda_side_by_side(ref, load_dataset(args.dataset), args.lam, args.lam_in,
                                   hidden=args.hidden, epochs=args.epochs,
                                   samples=args.samples)
        if args.json:
            with open(args.json, "w") as fh:
                json.dump(rows, fh, indent=1)
        return 0
    if ref is None:
        print("reference not available (needs torch and --reference PATH or "
              "FPLANDSCAPE_LEARNING_REFERENCE)")
        return 0
    rows = []
    for lam in (0.0, 1.0, 2.5, 5.0):
        for lam_in in (2.0, 5.0):
            r = parity(ref, hidden=args.hidden, lam=lam, lam_in=lam_in)
            rows.append(r)
            rows[-1]["lam"], rows[-1]["lam_in"] = lam, lam_in
    print("fraction of hidden units that differ from the reference's, after the steered / "
          "the free phase")
    print(f"{'lambda':>6} {'lambda_in':>9} | {'Schedule.reference':>18} | "
          f"{'warm-up all only':>18} | {'default schedule':>18}")
    for r in rows:
        cells = [f"{r[k + '_steer_mismatch']:.4f} / {r[k + '_free_mismatch']:.4f}"
                 for k in ("reference", "warmup_only", "default")]
        print(f"{r['lam']:>6} {r['lam_in']:>9} | " + " | ".join(f"{c:>18}" for c in cells))
    if args.write:
        keep = rows[2 * 2 + 1]          # λ = 2.5, λ_in = 5
        np.savez_compressed(args.write, **{k: np.asarray(v) for k, v in keep.items()})
        print(f"wrote {args.write}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
