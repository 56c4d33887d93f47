"""Figures of the study (docs/figures.md), rendered into ``figures/`` (quick runs: ``figures-quick/``).

Each figure is a module with ``NAME``, ``TITLE``, ``parameters(quick)`` (the grids, recorded
with the data), ``compute(quick, seed, **options) -> rows`` (tidy rows, one per plotted point)
and ``plot(rows) -> matplotlib Figure``; :func:`make_figure` runs both and writes PNG, PDF,
CSV and a JSON sidecar (:func:`fplandscape.figures.style.save_figure`). ``options`` are the
parallel/checkpoint options of the simulations (``workers``, ``scheduler``, ``checkpoint``,
``resume``, ``progress``) and ``critical``, the caller's dict of critical self-couplings
``{criterion: J_D or None}`` (:func:`fplandscape.reproduce.reproduce` fills it first), which
the figure reads and completes: a caller making several figures solves each criterion once,
with no state kept between calls.

Importing this package is cheap: the figure modules (matplotlib, the simulations) are imported
when :data:`FIGURES` is first used; :data:`NAMES` lists the figures without importing them.
"""
from __future__ import annotations

import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from .. import tables
from .._version import __version__
from ..errors import InputError
from ..provenance import environment

__all__ = ["FIGURES", "NAMES", "FigureResult", "make_figure", "figure_names", "replot_figure",
           "default_out_dir", "FULL_OUT_DIR", "QUICK_OUT_DIR"]

# Default output folders, relative to the current directory. The full run writes the gallery
# (the figures committed in ``figures/``); quick runs get their own folder so that they never
# overwrite it (``figures-quick/`` is git-ignored). An explicit output directory always wins.
FULL_OUT_DIR = "figures"
QUICK_OUT_DIR = "figures-quick"


def default_out_dir(quick: bool = False, out_dir=None) -> Path:
    """``out_dir`` when given, else :data:`QUICK_OUT_DIR` for quick runs and
    :data:`FULL_OUT_DIR` for full ones."""
    if out_dir is not None:
        return Path(out_dir)
    return Path(QUICK_OUT_DIR if quick else FULL_OUT_DIR)


def _modules() -> dict:
    from . import entropy, local_entropy, modular, pairs, phase_diagram

    mods = [entropy, pairs.HISTOGRAMS, pairs.PAIR_ENTROPY, local_entropy, phase_diagram]
    try:
        from . import accessibility
        mods += [accessibility.ACCESSIBILITY, accessibility.REACHED]
    except ImportError:  # written with the dynamics study
        pass
    mods.append(modular)
    from . import learning
    mods.append(learning.LEARNING)
    from . import attractors
    mods.append(attractors)
    from . import fep
    mods.append(fep)
    return {m.NAME: m for m in mods}


#: Names of the figures, in the order of docs/figures.md: the keys of :data:`FIGURES`, known without
#: importing the figure modules (for ``--help``; tests/test_startup.py checks they agree).
NAMES = ("entropy", "pair-histograms", "pair-entropy", "local-entropy", "phase-diagram",
         "accessibility", "reached-vs-typical", "modular", "learning", "attractors", "fep")


def __getattr__(name):
    """``FIGURES`` (name -> figure module, in the order of docs/figures.md), imported on first use."""
    if name == "FIGURES":
        figures = _modules()
        globals()["FIGURES"] = figures
        return figures
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _figures() -> dict:
    """:data:`FIGURES` (through the module, so that a replaced one is seen)."""
    return sys.modules[__name__].FIGURES


def figure_names() -> list:
    """Names of the available figures, in the order of docs/figures.md."""
    return list(_figures())


@dataclass(frozen=True)
class FigureResult:
    """What :func:`make_figure` wrote: ``name``, ``paths`` (png, pdf, csv, json), ``rows``
    (the data; None when reused from a previous run with ``resume``), ``seconds``,
    ``reused`` (True when a finished figure with the same parameters was kept)."""

    name: str
    paths: dict
    rows: list | None
    seconds: float
    reused: bool = False

    def as_rows(self) -> list:
        """One row: the figure, its files, time and whether it was kept from a previous run
        (the data rows themselves are :attr:`rows`)."""
        return [{"name": self.name, **{k: str(v) for k, v in self.paths.items()},
                 "seconds": self.seconds, "reused": self.reused}]


def make_figure(name: str, out_dir=None, *, quick: bool = False, seed: int = 0,
                resume: bool = False, params=None, critical=None, **options) -> FigureResult:
    """Compute and render figure ``name`` into ``out_dir`` (data into ``out_dir/data``; default
    :func:`default_out_dir`: ``figures``, or ``figures-quick`` with ``quick``).

    With ``resume=True`` a figure already written by this version with the same parameters
    and seed (its JSON sidecar says so) is kept as is, and the simulations of an unfinished
    one resume from their checkpoints. ``params`` replaces the figure's default grids
    (``FIGURES[name].parameters(quick)``; same keys), e.g. for tiny test runs. ``critical``:
    critical self-couplings ``{criterion: J_D or None}`` already computed, passed to the
    figure's ``compute``, which reads it and adds those it computes (pass the same dict to
    several figures to solve each criterion once).
    """
    figures = _figures()
    if name not in figures:
        raise InputError(f"unknown figure {name!r}; choose from {', '.join(figures)}")
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise InputError(f"seed must be a non-negative integer, got {seed!r}")
    mod = figures[name]
    out = tables.ensure_dir(default_out_dir(quick, out_dir))
    tables.ensure_dir(out / "data")
    params = params or mod.parameters(quick)
    sidecar = out / "data" / f"{name}.json"
    if resume and sidecar.exists():
        try:
            old = json.loads(sidecar.read_text())
        except ValueError:
            old = {}
        if old.get("version") == __version__ and old.get("seed") == seed and \
                old.get("parameters") == json.loads(json.dumps(tables.to_jsonable(params))) and \
                all(Path(p).exists() for p in old.get("paths", {}).values()):
            return FigureResult(name, old["paths"], None, 0.0, reused=True)
    t0 = time.perf_counter()
    if critical is not None:
        options["critical"] = critical  # read and completed by the figure
    rows = mod.compute(quick=quick, seed=seed, params=params, resume=resume, **options)
    fig = mod.plot(rows)
    seconds = time.perf_counter() - t0
    paths = {k: str(out / f"{name}.{k}") for k in ("png", "pdf")}
    paths.update(csv=str(out / "data" / f"{name}.csv"), json=str(sidecar))
    meta = {"figure": name, "title": mod.TITLE, "version": __version__, "seed": seed,
            "quick": bool(quick), "parameters": params, "environment": environment(),
            "seconds": seconds, "rows": len(rows), "paths": paths}
    from .style import save_figure

    save_figure(fig, name, out, rows, meta)
    return FigureResult(name, paths, rows, seconds)


def replot_figure(name: str, out_dir=None, *, quick: bool = False) -> FigureResult:
    """Redraw figure ``name`` from its data already in ``out_dir/data`` (``<name>.csv`` and the
    JSON sidecar), without recomputing anything: for style changes. The sidecar is kept.
    Default ``out_dir``: :func:`default_out_dir` (``figures``, or ``figures-quick``)."""
    from .style import save_figure

    figures = _figures()
    if name not in figures:
        raise InputError(f"unknown figure {name!r}; choose from {', '.join(figures)}")
    out = default_out_dir(quick, out_dir)
    sidecar = out / "data" / f"{name}.json"
    csv_path = out / "data" / f"{name}.csv"
    if not (sidecar.exists() and csv_path.exists()):
        raise InputError(f"no data for figure {name!r} in {out / 'data'}; make it first")
    meta = json.loads(sidecar.read_text())
    rows = tables.read_csv(csv_path)
    t0 = time.perf_counter()
    fig = figures[name].plot(rows)
    save_figure(fig, name, out, rows, meta)
    return FigureResult(name, meta.get("paths", {}), rows, time.perf_counter() - t0, reused=True)
