"""The interface of one figure (used when a module defines several figures)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable


@dataclass(frozen=True)
class FigureSpec:
    """``NAME``, ``TITLE``, ``parameters(quick) -> dict``, ``compute(quick, seed, **options)
    -> rows``, ``plot(rows) -> Figure``: the same attributes as a one-figure module."""

    NAME: str
    TITLE: str
    parameters: Callable
    compute: Callable
    plot: Callable
