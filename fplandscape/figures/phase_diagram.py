"""Figure 5 (docs/figures.md): phase diagram in the (J_D, d) plane.

For each J_D of a grid: the Franz–Parisi local entropy φ(d) around a typical fixed point
(E6, κ = 0) on a d grid, and the annealed one (E5). The map shows where φ(d) < 0 (no other
fixed points at distance d·N around a typical one: isolation), with the boundary d*(J_D) (the
largest grid distance below which φ < 0, refined by linear interpolation of the sign change)
and the annealed isolation radius d₀(J_D) (:func:`fplandscape.theory.isolation_radius`); the
critical self-couplings of docs/critical.md are marked. The J_D columns are independent tasks run in
parallel (:func:`fplandscape.parallel.run_tasks`, processes) or on a Dask cluster.
"""
from __future__ import annotations

import math

import numpy as np

from .. import parallel, theory
from ..provenance import run_info
from .common import critical_values
from .style import mark_critical, new_figure

NAME = "phase-diagram"
TITLE = "Phase diagram (J_D, d): where the local entropy around typical FPs is negative"


def parameters(quick: bool = False) -> dict:
    return {"jd": {"start": 0.02, "stop": 0.5, "num": 6 if quick else 16},
            "d": {"num": 8 if quick else 30, "d_min": 0.01 if quick else 0.002,
                  "d_max": 0.5},
            "critical": ["gap", "energetic"] if quick else ["gap", "ld", "energetic",
                                                            "entropic"]}


def _column_task(jd, d):
    fp = theory.local_entropy(jd, "franz-parisi", d=d, kappa=0.0)
    ann = np.atleast_1d(theory.annealed_local_entropy(jd, d))
    return [run_info(jd=float(jd), d=float(dd), fp=float(v), fp_converged=bool(c),
                     annealed=float(a))
            for dd, v, c, a in zip(d, fp.local_entropy, fp.converged, ann)]


def boundary(d, phi, converged) -> float | None:
    """Largest d at which φ changes sign from − (below) to + (above), linearly interpolated
    between converged grid points; None if φ ≥ 0 at every converged point."""
    pts = [(x, y) for x, y, c in zip(d, phi, converged) if c and math.isfinite(y)]
    last = None
    for (x0, y0), (x1, y1) in zip(pts, pts[1:]):
        if y0 < 0 <= y1:
            last = x0 + (x1 - x0) * (-y0) / (y1 - y0)
    if last is None and pts and all(y < 0 for _, y in pts):
        return pts[-1][0]
    return last


def compute(quick: bool = False, seed: int = 0, params=None, **options) -> list:
    p = params or parameters(quick)
    jds = np.linspace(p["jd"]["start"], p["jd"]["stop"], p["jd"]["num"])
    d = theory.default_distances(p["d"]["num"], p["d"]["d_min"], p["d"]["d_max"])
    cols = parallel.run_tasks(_column_task, [(float(x), d) for x in jds],
                              workers=options.get("workers"), scheduler=options.get("scheduler"),
                              progress=options.get("progress"), desc="phase-diagram columns",
                              backend="processes")
    rows = []
    crit = critical_values(names=tuple(p["critical"]), known=options.get("critical"))
    for col in cols:
        jd = col[0]["jd"]
        dstar = boundary([r["d"] for r in col], [r["fp"] for r in col],
                         [r["fp_converged"] for r in col])
        d0 = float(theory.isolation_radius(jd))
        for r in col:
            rows.append({**r, "kind": "grid", "fp_boundary": dstar, "annealed_radius": d0,
                         **{f"jd_{k}": v for k, v in crit.items()}})
    return rows


def plot(rows: list):
    fig, (ax,) = new_figure(1, width=4.4, height=3.2)
    jds = sorted({r["jd"] for r in rows})
    ds = sorted({r["d"] for r in rows})
    Z = np.full((len(ds), len(jds)), np.nan)
    for r in rows:
        if r["fp_converged"]:
            Z[ds.index(r["d"]), jds.index(r["jd"])] = r["fp"]
    neg = np.ma.masked_invalid(np.where(np.isnan(Z), np.nan, (Z < 0).astype(float)))
    import matplotlib

    # grey: grid points where the RS saddle did not converge
    cmap = matplotlib.colormaps["Blues"].with_extremes(bad="0.8")
    ax.pcolormesh(jds, ds, neg, shading="nearest", cmap=cmap, vmin=0, vmax=2.5, alpha=0.8)
    if np.ma.count_masked(neg):
        from matplotlib.patches import Patch

        ax.add_artist(ax.legend(handles=[Patch(color="0.8", label="not converged")],
                                loc="lower left", fontsize=6.5))
    first = {jd: next(r for r in rows if r["jd"] == jd) for jd in jds}
    bx = [jd for jd in jds if first[jd]["fp_boundary"] is not None]
    ax.plot(bx, [first[jd]["fp_boundary"] for jd in bx], "o-", color="tab:blue",
            label="$\\phi_{FP}(d) = 0$, typical FP (E6)")
    ax.plot(jds, [first[jd]["annealed_radius"] for jd in jds], "s--", color="0.35",
            label="annealed radius $d_0$ (E5)")
    crit = {k[3:]: v for k, v in rows[0].items() if k.startswith("jd_")}
    mark_critical(ax, crit)
    ax.set_yscale("log")
    ax.set_xlabel("self-coupling $J_D$")
    ax.set_ylabel("distance $d$")
    ax.set_title("shaded: $\\phi(d) < 0$ around a typical fixed point")
    ax.legend(loc="upper right", fontsize=6.5)
    return fig
