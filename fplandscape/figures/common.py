"""Shared inputs of the figure functions: the critical self-couplings (computed once per
process) and the options every figure's ``compute`` accepts."""
from __future__ import annotations

import functools

from .. import theory
from ..errors import ConvergenceError

__all__ = ["critical_values", "parallel_options"]


@functools.lru_cache(maxsize=None)
def _critical(criterion: str):
    try:
        return theory.critical_self_coupling(criterion, evidence=False).jd
    except ConvergenceError:
        return None


def critical_values(quick: bool = False, names=None) -> dict:
    """``{criterion: J_D}`` of spec §3 (:func:`fplandscape.theory.critical_self_coupling`):
    ``names``, by default gap and energetic (the headline), plus large deviations and entropic
    unless ``quick``. Cached per process; a criterion whose solver fails maps to None."""
    if names is None:
        names = ("gap", "energetic") if quick else ("gap", "ld", "energetic", "entropic")
    return {name: _critical(name) for name in names}


def parallel_options(options: dict) -> dict:
    """The parallel/checkpoint keyword arguments passed through to the simulations."""
    keys = ("workers", "scheduler", "checkpoint", "resume", "progress")
    return {k: options[k] for k in keys if k in options}
