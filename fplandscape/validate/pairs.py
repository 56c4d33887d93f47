"""Pair-distance histograms from exact enumeration against (E4) (``validate pairs``).

For each J_D, ``samples`` random networks of N neurons (η = 0, one module) are enumerated with
their unordered pair-distance histograms (:func:`fplandscape.sim.disorder_average`,
``pairs=True``). Per distance k = 0..N the row gives the mean number of *ordered* pairs (σ, τ)
of fixed points at distance k (the pairs (σ, σ) at k = 0 and the flip pairs at k = N
included, :func:`fplandscape.sim.disorder.ordered_pairs`) ± SE, the exact finite-N
expectation (E4) and z = (mean − E4)/SE, plus the finite-N pair entropy (1/N) ln E4 and the
N → ∞ pair entropy S₂(q) (E3) at q = 1 − 2k/N for the overlay.

Seeds: J_D index j uses ``SeedSequence(seed, spawn_key=(j,))``.
"""
from __future__ import annotations

import math

import numpy as np

from .. import model, theory
from ..errors import InputError
from ..provenance import run_info
from ..sim.disorder import disorder_average

__all__ = ["validate_pairs"]


def validate_pairs(n: int, jd_values, samples: int, seed: int = 0, *, workers=None,
                   scheduler=None, checkpoint=None, resume: bool = False,
                   progress=False) -> list:
    """Rows (one per (J_D, k)): ``n``, ``jd``, ``k``, ``q``, ``samples``, ``mean_pairs``,
    ``se_pairs``, ``expected_pairs`` (E4), ``z``, ``finite_n_pair_entropy`` = ln E4 / N,
    ``pair_entropy`` = S₂(q) (E3), ``max_abs_z`` (over k, for this J_D), run metadata."""
    seed = model.check_int_seed(seed)
    jds = [float(x) for x in np.atleast_1d(np.asarray(jd_values, dtype=float))]
    if not jds:
        raise InputError("jd_values must contain at least one value")
    rows = []
    for j, jd in enumerate(jds):
        res = disorder_average(model.Ensemble(n=n, jd=jd), samples,
                               np.random.SeedSequence(seed, spawn_key=(j,)), pairs=True,
                               workers=workers, scheduler=scheduler, checkpoint=checkpoint,
                               resume=resume, progress=progress)
        s = res.summary
        se = s["se_ordered_pairs"] or [None] * (n + 1)
        log_e4 = np.asarray(theory.log_expected_pairs(n, jd), dtype=float)
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
