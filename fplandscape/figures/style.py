"""One figure style for the study, and the one way figures are written to disk.

Figures are built on :class:`matplotlib.figure.Figure` directly (no pyplot, no GUI backend:
rendering is headless with Agg whatever the user's matplotlib configuration). Every figure is
saved as ``<out>/<name>.png`` (150 dpi) and ``<out>/<name>.pdf`` with its data as
``<out>/data/<name>.csv`` (tidy rows, one per plotted point, with the run metadata) and
``<out>/data/<name>.json`` (parameters, seed, version, wall time).
"""
from __future__ import annotations

import json
from pathlib import Path

import matplotlib

from .. import tables

__all__ = ["STYLE", "new_figure", "save_figure", "series_colors", "mark_critical"]

STYLE = {
    "font.size": 9,
    "axes.titlesize": 9,
    "axes.labelsize": 9,
    "legend.fontsize": 7.5,
    "legend.frameon": False,
    "xtick.labelsize": 8,
    "ytick.labelsize": 8,
    "lines.linewidth": 1.4,
    "lines.markersize": 4,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "savefig.bbox": "tight",
    "pdf.fonttype": 42,
}

PANEL_W, PANEL_H = 3.3, 2.6  # inches per panel


def new_figure(ncols: int = 1, nrows: int = 1, *, width=None, height=None, **subplot_kw):
    """A headless figure with ``nrows × ncols`` axes (constrained layout, study style).
    Returns ``(fig, axes)``; ``axes`` is a flat list."""
    from matplotlib.figure import Figure

    with matplotlib.rc_context(STYLE):
        fig = Figure(figsize=(width or PANEL_W * ncols, height or PANEL_H * nrows),
                     layout="constrained")
        axes = fig.subplots(nrows, ncols, squeeze=False, **subplot_kw).ravel().tolist()
    fig._fpl_style = STYLE
    return fig, axes


def series_colors(n: int, cmap: str = "viridis"):
    """``n`` distinguishable colours from a perceptually uniform colour map."""
    cm = matplotlib.colormaps[cmap]
    if n <= 1:
        return [cm(0.35)]
    return [cm(0.05 + 0.8 * i / (n - 1)) for i in range(n)]


def mark_critical(ax, critical: dict, *, labels: bool = True):
    """Vertical dotted lines at the critical self-couplings ``{name: J_D}`` (None skipped)."""
    styles = {"gap": ("tab:gray", ":"), "ld": ("tab:purple", "-."),
              "energetic": ("tab:red", "--"), "entropic": ("tab:orange", ":")}
    for name, value in critical.items():
        if value is None:
            continue
        color, ls = styles.get(name, ("k", ":"))
        ax.axvline(value, color=color, ls=ls, lw=1.0,
                   label=f"$J_D^{{\\mathrm{{{name}}}}}$ = {value:.3g}" if labels else None)


def save_figure(fig, name: str, out_dir, rows: list, meta: dict) -> dict:
    """Write ``name``.png/.pdf into ``out_dir`` and the data rows (CSV) and metadata (JSON)
    into ``out_dir/data``. Paths are checked before writing. Returns the written paths."""
    out = Path(out_dir)
    data = out / "data"
    paths = {"png": out / f"{name}.png", "pdf": out / f"{name}.pdf",
             "csv": data / f"{name}.csv", "json": data / f"{name}.json"}
    for p in paths.values():
        tables.check_writable(p)
    with matplotlib.rc_context(STYLE):
        fig.savefig(paths["png"], dpi=150)
        fig.savefig(paths["pdf"])
    tables.write_csv(paths["csv"], rows)
    with open(paths["json"], "w") as fh:
        fh.write(json.dumps(tables.to_jsonable(meta), indent=1, allow_nan=False) + "\n")
    return {k: str(v) for k, v in paths.items()}
