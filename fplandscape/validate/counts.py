"""Fixed-point counts from exact enumeration against the theory (``fplandscape validate counts``).

For each (N, J_D) cell, ``samples`` random networks of the ensemble are enumerated exactly
(:func:`fplandscape.sim.disorder_average`); the cell's row puts side by side

* the mean count ⟨#FP⟩ ± SE and the exact finite-N expectation E[#FP] (E1, and its exact
  extensions to η ≠ 0, dilution and the modular chain where implemented) with the z-score
  z = (⟨#FP⟩ − E[#FP]) / SE;
* the *mean* entropy (1/N) ln⟨#FP⟩ (SE by the delta method, SE/(N⟨#FP⟩)) next to
  (1/N) ln E[#FP] and the N → ∞ annealed entropy s(J_D) (E2, E2η, E2λ);
* the *typical* entropy ⟨ln #FP⟩/N ± SE over all samples, defined (not None) only when every
  sample has a FP (ln 0 = −∞ otherwise); then it never exceeds the mean entropy (Jensen). The
  fraction P(#FP = 0) and the conditional ⟨ln #FP | #FP > 0⟩/N are reported alongside
  (:func:`fplandscape.sim.disorder.typical_summary`).

Cell (i, j) of the grid (N index i, J_D index j) uses the seed
``SeedSequence(seed, spawn_key=(i, j))`` and its sample k the child ``spawn_key=(i, j, k)``:
the numbers do not depend on the grid's other cells, the number of workers or the order of
execution. N counts neurons per module (L·N ≤ 64 in all).
"""
from __future__ import annotations

import dataclasses
import functools
import math
import numbers
import time

import numpy as np

from .. import model, theory
from ..errors import InputError, check_count
from ..provenance import run_info
from ..sim.disorder import DisorderResult, disorder_average
from ..stats import z_score
from ._cells import CellCheckpoint, run_cells

__all__ = ["validate_counts", "asymptotic_entropy", "compare_with_theory",
           "ensemble_log_expected_count"]


def ensemble_log_expected_count(ensemble: model.Ensemble):
    """ln E[#FP] of one network of ``ensemble``, exact at finite N: (E1)
    :func:`fplandscape.theory.log_expected_count` for one module (any η without dilution, and
    dilution at η = 0), (E2λ) :func:`fplandscape.theory.log_expected_count_modular` for
    ``layers > 1`` at η = 0 without dilution; None where no exact finite-N formula is
    implemented (η ≠ 0 with dilution; modular with η ≠ 0 or dilution)."""
    if ensemble.layers == 1:
        try:  # exact for η ≠ 0 (no dilution) and for dilution at η = 0 too
            return float(theory.log_expected_count(ensemble.n, ensemble.jd, ensemble.eta,
                                                   ensemble.dilution))
        except NotImplementedError:  # η ≠ 0 with dilution
            return None
    if ensemble.eta == 0.0 and ensemble.dilution == 1.0:
        return float(theory.log_expected_count_modular(ensemble.n, ensemble.jd, ensemble.lam,
                                                       ensemble.layers))
    return None


_PAIR_MOMENTS = ("mean_ordered_pairs", "se_ordered_pairs")


def compare_with_theory(result: DisorderResult, ensemble: model.Ensemble) -> DisorderResult:
    """The disorder average ``result`` of ``ensemble`` (:func:`fplandscape.sim.disorder_average`)
    with the theory columns added to its summary (a new result; the rows are unchanged):

    * ``log_expected_count`` = ln E[#FP] (:func:`ensemble_log_expected_count`, None where no
      exact finite-N formula exists), ``expected_count`` = E[#FP] and
      ``z_count`` = (mean_count − E[#FP])/se_count (:func:`fplandscape.stats.z_score`);
    * when the result has pair moments (``pairs=True``): ``expected_pairs[k]`` = (E4)
      :func:`fplandscape.theory.expected_pairs` (ordered pairs at distance k), per-k
      ``z_pairs[k]`` = (mean_ordered_pairs[k] − E4[k])/se_ordered_pairs[k] and
      ``max_abs_z_pairs`` = max_k |z_pairs[k]|. (E4) is only defined for η = 0, one module and no
      dilution: these are None otherwise. A z-score is 0 where SE = 0 and the mean equals the
      expectation exactly (e.g. no pairs at k = 1 for J_D ≤ 0), ±inf where SE = 0 otherwise.

    The summary keeps the key order of the command-line output: count moments, count theory,
    then pair moments and pair theory."""
    if not isinstance(result, DisorderResult):
        raise InputError(f"result must be a fplandscape.sim.DisorderResult, got "
                         f"{type(result).__name__}")
    if not isinstance(ensemble, model.Ensemble):
        raise InputError(f"ensemble must be a fplandscape.model.Ensemble, got "
                         f"{type(ensemble).__name__}")
    summary = dict(result.summary)
    pair_moments = {k: summary.pop(k) for k in _PAIR_MOMENTS if k in summary}
    log_e1 = ensemble_log_expected_count(ensemble)
    summary["log_expected_count"] = log_e1
    summary["expected_count"] = None if log_e1 is None else float(np.exp(log_e1))
    summary["z_count"] = z_score(summary["mean_count"], summary["se_count"],
                                 summary["expected_count"])
    if pair_moments:
        summary.update(pair_moments)
        mean_p, se_p = pair_moments["mean_ordered_pairs"], pair_moments["se_ordered_pairs"]
        if ensemble.eta == 0.0 and ensemble.dilution == 1.0 and ensemble.layers == 1:
            e4 = np.exp(np.asarray(theory.log_expected_pairs(ensemble.n, ensemble.jd),
                                   dtype=float))
            z = [z_score(float(m), None if se_p is None else float(s), float(e))
                 for m, s, e in zip(mean_p, se_p if se_p is not None else mean_p, e4)]
            summary["expected_pairs"] = e4.tolist()
            summary["z_pairs"] = z
            finite = [abs(v) for v in z if v is not None]
            summary["max_abs_z_pairs"] = max(finite) if finite else None
        else:
            summary["expected_pairs"] = summary["z_pairs"] = summary["max_abs_z_pairs"] = None
    return dataclasses.replace(result, summary=summary)


def asymptotic_entropy(jd: float, *, eta: float = 0.0, layers: int = 1, lam: float = 0.0):
    """s = lim (1/N) ln E[#FP] for the ensemble: (E2)/(E2η) :func:`theory.annealed_entropy`
    for one module, (E2λ) :func:`theory.modular_entropy` per neuron for L modules; None for
    combinations without a formula (modular with η ≠ 0). Dilution at fixed c does not change
    it (the field is a sum of ≈ cN terms of variance 1/(cN): Gaussian with variance 1)."""
    if layers == 1:
        return float(theory.annealed_entropy(jd, eta))
    if eta != 0.0:
        return None
    return float(theory.modular_entropy(jd, lam, layers))


def _grid(values, name, kind=float):
    """A non-empty list of finite reals (``kind=float``) or of positive integers (``kind=int``)
    from a scalar or a sequence; InputError naming ``name`` otherwise."""
    try:
        vals = list(np.atleast_1d(np.asarray(values, dtype=object)).ravel())
    except (TypeError, ValueError):
        raise InputError(f"{name} must be a number or a list of numbers, got {values!r}") from None
    if not vals:
        raise InputError(f"{name} must contain at least one value")
    if kind is int:
        return [check_count(v.item() if isinstance(v, np.generic) else v, f"{name} entry",
                            minimum=1) for v in vals]
    out = []
    for v in vals:
        if isinstance(v, (bool, np.bool_)) or not isinstance(v, numbers.Real) or \
                not math.isfinite(v):
            raise InputError(f"{name} must hold finite real numbers, got {v!r}")
        out.append(float(v))
    return out


def _enumerable(ens):
    """``ens`` if its networks can be enumerated exactly (L·N ≤ 64), else InputError."""
    if ens.size > model.MAX_PACKED_N:
        raise InputError(f"L·N = {ens.size} neurons is too many for exact enumeration "
                         f"(at most {model.MAX_PACKED_N})")
    return ens


def _counts_cell(args, task_checkpoint, *, samples, eta, dilution, layers, lam, seed, workers,
                 scheduler, resume, progress):
    """The row of one (N, J_D) cell (see :func:`validate_counts`)."""
    i, j, n, jd = args
    ens = model.Ensemble(n=n, jd=jd, eta=eta, dilution=dilution, layers=layers, lam=lam)
    t0 = time.perf_counter()
    res = disorder_average(ens, samples, np.random.SeedSequence(seed, spawn_key=(i, j)),
                           workers=workers, scheduler=scheduler, checkpoint=task_checkpoint,
                           resume=resume, progress=progress)
    s = compare_with_theory(res, ens).summary
    size = ens.size
    mean, se = s["mean_count"], s["se_count"]
    mean_ent = math.log(mean) / size if mean and mean > 0 else None
    se_ent = se / (mean * size) if (se is not None and mean) else None
    log_e = s["log_expected_count"]
    return [run_info(
        seed=seed, n=n, size=size, jd=jd, eta=eta, dilution=dilution, layers=layers,
        lam=lam, samples=samples, mean_count=mean, se_count=se,
        expected_count=s["expected_count"], z_count=s["z_count"],
        mean_entropy=mean_ent, se_mean_entropy=se_ent,
        finite_n_entropy=None if log_e is None else log_e / size,
        asymptotic_entropy=asymptotic_entropy(jd, eta=eta, layers=layers, lam=lam),
        typical_entropy=s["typical_entropy"], se_typical_entropy=s["se_typical_entropy"],
        zero_samples=s["zero_samples"], p_zero=s["p_zero"],
        conditional_typical_entropy=s["conditional_typical_entropy"],
        se_conditional_typical_entropy=s["se_conditional_typical_entropy"],
        seconds=time.perf_counter() - t0)]


def validate_counts(n_values, jd_values, samples: int, seed: int = 0, *, eta: float = 0.0,
                    dilution: float = 1.0, layers: int = 1, lam: float = 0.0,
                    workers=None, scheduler=None, checkpoint=None, resume: bool = False,
                    progress=False) -> list:
    """Rows (one per (N, J_D)) comparing enumerated counts with (E1)/(E2) (module docstring).

    Columns: ``n``, ``size`` (L·N), ``jd``, ``eta``, ``dilution``, ``layers``, ``lam``,
    ``samples``, ``mean_count``, ``se_count``, ``expected_count``, ``z_count``,
    ``mean_entropy`` = ln⟨#⟩/(LN), ``se_mean_entropy``, ``finite_n_entropy`` = ln E[#]/(LN),
    ``asymptotic_entropy`` (N → ∞), ``typical_entropy``, ``se_typical_entropy`` (None when
    some sample has no FP), ``zero_samples``, ``p_zero``, ``conditional_typical_entropy``,
    ``se_conditional_typical_entropy`` (over the samples with # > 0), ``seconds`` and the run metadata (version, seed). Parallel options are
    those of :func:`fplandscape.sim.disorder_average` (per cell).

    ``checkpoint`` covers the whole grid (:class:`fplandscape.validate._cells.CellCheckpoint`):
    a directory (kept) holding the finished cells' rows and one task checkpoint per cell
    (``cell-<i>-<j>``), or ``True`` for an automatic one removed once every cell is done;
    ``resume=True`` continues an interrupted run without recomputing any finished cell or
    sample.
    """
    ns = _grid(n_values, "n_values", int)
    jds = _grid(jd_values, "jd_values")
    seed = model.check_int_seed(seed)
    samples = check_count(samples, "samples", minimum=1)
    cells = [(f"{i}-{j}", (i, j, n, jd)) for i, n in enumerate(ns) for j, jd in enumerate(jds)]
    for _, (_, _, n, jd) in cells:  # bad parameters fail before a checkpoint is written
        ens = _enumerable(model.Ensemble(n=n, jd=jd, eta=eta, dilution=dilution,
                                         layers=layers, lam=lam))
    eta, dilution, layers, lam = ens.eta, ens.dilution, ens.layers, ens.lam
    ckpt = CellCheckpoint(checkpoint, "validate-counts",
                          {"n_values": ns, "jd_values": jds, "samples": samples, "seed": seed,
                           "eta": eta, "dilution": dilution, "layers": layers, "lam": lam},
                          [key for key, _ in cells], resume=resume)
    return run_cells(ckpt, cells, functools.partial(
        _counts_cell, samples=samples, eta=eta, dilution=dilution, layers=layers, lam=lam,
        seed=seed, workers=workers, scheduler=scheduler, resume=resume, progress=progress))
