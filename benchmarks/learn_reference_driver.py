"""Driver for the reference implementation's training (mattia-scardecchia/Biological-Learning,
``src/batch_me_if_u_can.py``), run by ``benchmarks/learn.py --vs-reference`` under a Python that
has torch. It trains the reference's classifier class ``BatchMeIfUCan`` directly (no hydra; built
by ``benchmarks/learn_reference.reference_model``, which the λ study and the parity tests use) on
the arrays of an .npz file written by the benchmark (``x_train`` ±1, ``y_train`` labels), with
the hyper-parameters of the reference's ``configs/baseline_1layer_mnist.yaml`` mapped to our
default protocol: one module, J_D = 0.5, λ_in = 5 (``lambda_input_skip``), λ_back = 0.9
(``lambda_wback``), thresholds κ_h + J_D = 1.4 and κ_out = 3, lr_J / lr_in / lr_out =
0.005 / 0.03 / 0.1, weight decay 0.005 (input 0, as the reference config), batch 16,
``double_dynamics`` with 5 sweeps (5 steered + 5 free), ``p_update`` 1, CPU, one torch thread,
float32 (the reference's DTYPE).

Usage: ``python learn_reference_driver.py --reference DIR --data FILE.npz --hidden H
--epochs E [--seed S]``. Prints one JSON line: ``{"hidden": H, "seconds": [...per epoch...],
"cpu_seconds": [...], "samples": M}`` (wall and process CPU seconds of the ``train_step``
calls of each epoch, as the reference's ``Handler.train_epoch`` makes them, logging excluded).
"""
from __future__ import annotations

import argparse
import json
import sys
import time


def main(argv=None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--reference", required=True)
    ap.add_argument("--data", required=True)
    ap.add_argument("--hidden", type=int, required=True)
    ap.add_argument("--epochs", type=int, default=1)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--sweeps", type=int, default=5)
    args = ap.parse_args(argv)
    import os

    import numpy as np
    import torch

    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from learn_reference import import_reference, reference_model

    ref = import_reference(args.reference, "float32")     # the reference's own DTYPE
    if ref is None:
        print(json.dumps({"error": f"reference not importable from {args.reference}"}))
        return 1
    torch.set_num_threads(1)
    d = np.load(args.data)
    x = torch.tensor(d["x_train"], dtype=torch.float32)
    labels = torch.tensor(d["y_train"], dtype=torch.int64)
    C = int(d["classes"])
    y = torch.nn.functional.one_hot(labels, C).to(torch.float32)
    M, N = x.shape
    H = args.hidden
    # one module: J_D = 0.5, lambda = 0, the reference's one-module thresholds and rates
    model = reference_model(ref, hidden=H, n_in=N, classes=C, layers=1, jd=0.5, lam=0.0,
                            lam_in=5.0, p_update=1.0, seed=args.seed)
    seconds, cpu = [], []
    B = args.batch
    for _ in range(args.epochs):
        t0, c0 = time.perf_counter(), time.process_time()
        perm = torch.randperm(M, generator=model.cpu_generator)
        lo = 0
        while lo < M - B + 1:               # as Handler.train_epoch (drops a short last batch)
            idx = perm[lo:lo + B]
            model.train_step(x[idx], y[idx], args.sweeps)
            lo += B
        seconds.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    print(json.dumps({"hidden": H, "seconds": seconds, "cpu_seconds": cpu, "samples": int(M)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
