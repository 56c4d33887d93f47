"""Shared inputs of the figure functions: the critical self-couplings (computed once per
process) and the options every figure's ``compute`` accepts."""
from __future__ import annotations

from ..validate.critical import theory_critical_value

__all__ = ["critical_values", "parallel_options"]


def critical_values(quick: bool = False, names=None) -> dict:
    """``{criterion: J_D}`` of spec §3 (:func:`fplandscape.theory.critical_self_coupling`):
    ``names``, by default gap and energetic (the headline), plus large deviations and entropic
    unless ``quick``. Cached per process; a criterion whose solver fails maps to None."""
    if names is None:
        names = ("gap", "energetic") if quick else ("gap", "ld", "energetic", "entropic")
    return {name: theory_critical_value(name) for name in names}


def parallel_options(options: dict) -> dict:
    """The parallel/checkpoint keyword arguments passed through to the simulations."""
    keys = ("workers", "scheduler", "checkpoint", "resume", "progress")
    return {k: options[k] for k in keys if k in options}
