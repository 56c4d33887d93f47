"""Reached versus typical: the theory beside the fixed points the algorithms reach.

The engine (:func:`fplandscape.sim.accessibility.accessibility_scan`,
:func:`fplandscape.sim.reached.compare_reached_vs_uniform`) returns counts and moments only.
This module adds the theory's value to compare them with: the mean stability of a *typical*
fixed point of the ensemble,

    E[(1/N) Σ_i Δ_i | σ is a fixed point] = J_D + s φ(J_D/s)/Φ(J_D/s),   s² = (N − 1)/N

(:func:`fplandscape.theory.typical_mean_stability`; s = 1 at N = ∞), the mean of a Gaussian
stability ``J_D + z``, z ~ N(0, s²), conditioned on being positive. Algorithms that reach
more stable fixed points than the typical ones find a biased part of the landscape.
"""
from __future__ import annotations

import dataclasses

from ..theory import typical_mean_stability

__all__ = ["with_typical_mean_stability", "typical_mean_stability_column"]


def typical_mean_stability_column(rows) -> list:
    """Copies of ``rows`` (dicts with ``n`` and ``jd``) with the column
    ``typical_mean_stability`` = J_D + s φ(J_D/s)/Φ(J_D/s), s² = (N − 1)/N (module docstring),
    inserted before ``seconds`` (at the end for rows without it)."""
    out = []
    for row in rows:
        typ = float(typical_mean_stability(row["jd"], row["n"]))
        new = {}
        for key, value in row.items():
            if key == "seconds":
                new["typical_mean_stability"] = typ
            new[key] = value
        new.setdefault("typical_mean_stability", typ)
        out.append(new)
    return out


def with_typical_mean_stability(result):
    """``result`` (an :class:`~fplandscape.sim.accessibility.AccessibilityResult` or a
    :class:`~fplandscape.sim.reached.ComparisonResult`) with the theory column
    ``typical_mean_stability`` added to every row (:func:`typical_mean_stability_column`);
    everything else is shared with ``result``."""
    return dataclasses.replace(result, rows=typical_mean_stability_column(result.rows))
