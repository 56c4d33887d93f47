"""Pair-distance histograms from exact enumeration against (E4) (``validate pairs``).

For each J_D, ``samples`` random networks of N neurons (η = 0, one module) are enumerated with
their unordered pair-distance histograms (:func:`fplandscape.sim.disorder_average`,
``pairs=True``). Per distance k = 0..N the row gives the mean number of *ordered* pairs (σ, τ)
of fixed points at distance k (the pairs (σ, σ) at k = 0 and the flip pairs at k = N
included, :func:`fplandscape.sim.disorder.ordered_pairs`) ± SE, the exact finite-N
expectation (E4) and z = (mean − E4)/SE, plus the finite-N pair entropy (1/N) ln E4 and the
N → ∞ pair entropy S₂(q) (E3) at q = 1 − 2k/N for the overlay.

Seeds: J_D index j uses ``SeedSequence(seed, spawn_key=(j,))``. Checkpoints: one task
checkpoint per J_D under the run's directory (:mod:`fplandscape.validate._cells`).
"""
from __future__ import annotations

import functools
import math

import numpy as np

from .. import model, theory
from ..errors import check_count
from ..provenance import run_info
from ..sim.disorder import disorder_average
from ._cells import CellCheckpoint, run_cells
from .counts import _enumerable, _grid, compare_with_theory

__all__ = ["validate_pairs"]


def validate_pairs(n: int, jd_values, samples: int, seed: int = 0, *, workers=None,
                   scheduler=None, checkpoint=None, resume: bool = False,
                   progress=False) -> list:
    """Rows (one per (J_D, k)): ``n``, ``jd``, ``k``, ``q``, ``samples``, ``mean_pairs``,
    ``se_pairs``, ``expected_pairs`` (E4), ``z``, ``finite_n_pair_entropy`` = ln E4 / N,
    ``pair_entropy`` = S₂(q) (E3), ``max_abs_z`` (over k, for this J_D), run metadata.

    ``checkpoint``/``resume`` cover all the J_D values (one cell each, task checkpoints
    ``cell-<j>``), as in :func:`fplandscape.validate.counts.validate_counts`."""
    seed = model.check_int_seed(seed)
    n = check_count(n, "n", minimum=1)
    samples = check_count(samples, "samples", minimum=1)
    jds = _grid(jd_values, "jd_values")
    for jd in jds:  # bad parameters fail before a checkpoint is written
        _enumerable(model.Ensemble(n=n, jd=jd))
    cells = [(str(j), (j, jd)) for j, jd in enumerate(jds)]
    ckpt = CellCheckpoint(checkpoint, "validate-pairs",
                          {"n": n, "jd_values": jds, "samples": samples, "seed": seed},
                          [key for key, _ in cells], resume=resume)
    return run_cells(ckpt, cells, functools.partial(
        _pairs_cell, n=n, samples=samples, seed=seed, workers=workers, scheduler=scheduler,
        resume=resume, progress=progress))


def _pairs_cell(args, task_checkpoint, *, n, samples, seed, workers, scheduler, resume,
                progress):
    """The n + 1 rows of one J_D (see :func:`validate_pairs`)."""
    j, jd = args
    ens = model.Ensemble(n=n, jd=jd)
    res = disorder_average(ens, samples, np.random.SeedSequence(seed, spawn_key=(j,)),
                           pairs=True, workers=workers, scheduler=scheduler,
                           checkpoint=task_checkpoint, resume=resume, progress=progress)
    s = compare_with_theory(res, ens).summary
    se = s["se_ordered_pairs"] or [None] * (n + 1)
    log_e4 = np.asarray(theory.log_expected_pairs(n, jd), dtype=float)
    rows = []
    for k in range(n + 1):
        q = 1.0 - 2.0 * k / n
        rows.append(run_info(
            seed=seed, n=n, jd=jd, k=k, q=q, samples=samples,
            mean_pairs=s["mean_ordered_pairs"][k], se_pairs=se[k],
            expected_pairs=s["expected_pairs"][k], z=s["z_pairs"][k],
            finite_n_pair_entropy=float(log_e4[k]) / n if math.isfinite(log_e4[k]) else None,
            pair_entropy=float(theory.pair_entropy(jd, q)),
            max_abs_z=s["max_abs_z_pairs"]))
    return rows
