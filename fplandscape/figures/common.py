"""Shared inputs of the figure functions: the critical self-couplings (passed in by the caller,
solved only when missing) and the options every figure's ``compute`` accepts."""
from __future__ import annotations

from ..validate.critical import theory_critical_value

__all__ = ["critical_values", "parallel_options"]


def critical_values(quick: bool = False, names=None, known=None) -> dict:
    """``{criterion: J_D}`` of docs/critical.md (:func:`fplandscape.theory.critical_self_coupling`):
    ``names``, by default gap and energetic (the headline), plus large deviations and entropic
    unless ``quick``; a criterion whose solver fails maps to None. ``known``: the caller's
    dict ``{criterion: J_D or None}`` (a figure's ``critical`` option); a criterion missing
    from it is solved and added to it, so a caller making several figures solves each once."""
    if names is None:
        names = ("gap", "energetic") if quick else ("gap", "ld", "energetic", "entropic")
    known = {} if known is None else known
    for name in names:
        if name not in known:
            known[name] = theory_critical_value(name)
    return {name: known[name] for name in names}


def parallel_options(options: dict) -> dict:
    """The parallel/checkpoint keyword arguments passed through to the simulations."""
    keys = ("workers", "scheduler", "checkpoint", "resume", "progress")
    return {k: options[k] for k in keys if k in options}
