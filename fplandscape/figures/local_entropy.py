"""Figure 4 (docs/figures.md): local-entropy curves φ(d) around a reference fixed point.

One panel per J_D (on both sides of the critical values): the annealed local entropy around a
typical FP (E5), the Franz–Parisi local entropy around a typical FP (E6, κ = 0) and around a
typical FP of margin κ = J_D, and the large-deviation local entropy around the densest
references (E7; the quick run draws it in the panel of the largest J_D only, at 4
distances: it is the slowest curve). φ(d) < 0 at small d means the
reference is isolated; a curve that stays positive down to d → 0 means it sits in a dense
cluster. Points whose saddle point did not converge (or left the continued branch, see
:func:`fplandscape.theory.saddle.solve_curve`) are flagged in the CSV, left out of the curves
(which break there) and marked × on the lower edge of the panel.
The curves are independent tasks run in parallel on local processes
(:func:`fplandscape.parallel.run_tasks`, backend "processes") or a Dask cluster.
"""
from __future__ import annotations


from .. import parallel, theory
from .common import critical_values
from .style import new_figure

NAME = "local-entropy"
TITLE = "Local entropy around typical, robust and densest fixed points"
JD_VALUES = (0.05, 0.1, 0.2, 0.5)
KINDS = (("annealed", "annealed", 0.0), ("franz-parisi", "FP kappa=0", 0.0),
         ("franz-parisi", "FP kappa=J_D", None), ("large-deviation", "LD densest", 0.0))
LABELS = {"annealed": "annealed (E5)", "FP kappa=0": "typical FP, $\\kappa = 0$ (E6)",
          "FP kappa=J_D": "FP of margin $\\kappa = J_D$ (E6)",
          "LD densest": "densest FPs (E7)"}


def parameters(quick: bool = False) -> dict:
    # every curve the legend names, quick or not; the slow E7 curve of the quick run only in
    # the panel of the largest J_D (the legend lists the curves that are drawn)
    return {"jd_values": list(JD_VALUES),
            "curves": [k[1] for k in KINDS],
            "ld_jd_values": [max(JD_VALUES)] if quick else list(JD_VALUES),
            "d": {"num": 8 if quick else 40, "d_min": 0.01 if quick else 0.002,
                  "d_max": 0.5, "ld_num": 4 if quick else 40},
            "critical": ["gap", "energetic"] if quick else ["gap", "ld", "energetic",
                                                            "entropic"]}


def _curve_task(jd, kind, label, kappa, d):
    curve = theory.local_entropy(jd, kind, d=d, kappa=kappa)
    return [{**row, "curve": label} for row in curve.as_rows()]


def compute(quick: bool = False, seed: int = 0, params=None, **options) -> list:
    p = params or parameters(quick)
    d = theory.default_distances(p["d"]["num"], p["d"]["d_min"], p["d"]["d_max"])
    d_ld = theory.default_distances(p["d"].get("ld_num", p["d"]["num"]), p["d"]["d_min"],
                                    p["d"]["d_max"])  # E7 (slowest) on its own grid
    tasks = []
    for jd in p["jd_values"]:
        for kind, label, kappa in KINDS:
            if label == "LD densest" and jd not in p.get("ld_jd_values", p["jd_values"]):
                continue
            if label in p["curves"]:
                tasks.append((jd, kind, label, jd if kappa is None else kappa,
                              d_ld if label == "LD densest" else d))
    results = parallel.run_tasks(_curve_task, tasks, workers=options.get("workers"),
                                 scheduler=options.get("scheduler"),
                                 progress=options.get("progress"), desc="local-entropy curves",
                                 backend="processes")
    rows = [row for res in results for row in res]
    crit = critical_values(names=tuple(p["critical"]), known=options.get("critical"))
    for r in rows:
        r.update({f"jd_{k}": v for k, v in crit.items()})
    return rows


def _segments(rr):
    """Runs of consecutive converged points (sorted by d): a curve breaks at a failed point."""
    runs, run = [], []
    for r in sorted(rr, key=lambda r: r["d"]):
        if r["converged"]:
            run.append(r)
        elif run:
            runs.append(run)
            run = []
    return runs + ([run] if run else [])


def plot(rows: list):
    from matplotlib.lines import Line2D

    jds = sorted({r["jd"] for r in rows})
    fig, axes = new_figure(2, (len(jds) + 1) // 2, sharex=True)
    styles = {"annealed": ("0.4", "--"), "FP kappa=0": ("tab:blue", "-"),
              "FP kappa=J_D": ("tab:green", "-"), "LD densest": ("tab:red", "-.")}
    crit = {k[3:]: v for k, v in rows[0].items() if k.startswith("jd_") and v is not None}
    failed_any, failed, handles = False, [], {}
    for ax, jd in zip(axes, jds):
        for c, (label, (color, ls)) in enumerate(styles.items()):
            rr = [r for r in rows if r["jd"] == jd and r["curve"] == label]
            for k, seg in enumerate(_segments(rr)):
                ax.plot([r["d"] for r in seg], [r["local_entropy"] for r in seg], color=color,
                        ls=ls, marker="." if len(seg) == 1 else None)
            if rr:
                handles[LABELS[label]] = Line2D([], [], color=color, ls=ls)
            bad = [r["d"] for r in rr if not r["converged"]]
            if bad:
                failed.append((c, color, bad))
        ax.axhline(0.0, color="0.7", lw=0.8)
        if failed:  # a strip below the curves for the × marks, one row per curve
            lo, hi = ax.get_ylim()
            ax.set_ylim(lo - 0.14 * (hi - lo), hi)
            for c, color, bad in failed:
                ax.plot(bad, [0.015 + 0.03 * (c - 1)] * len(bad), "x", color=color, ms=4,
                        mew=0.9, transform=ax.get_xaxis_transform(), clip_on=False)
            failed_any, failed = True, []
        ax.set_xscale("log")
        above = [k for k, v in crit.items() if jd > v]
        below = [k for k, v in crit.items() if jd <= v]
        side = (f"above {', '.join(above)}" if above else "") + \
            ("; " if above and below else "") + (f"below {', '.join(below)}" if below else "")
        ax.set_title(f"$J_D$ = {jd:g}\n({side})", fontsize=7.5)
        ax.set_ylabel("local entropy $\\phi(d)$")
    for ax in axes[-2:]:
        ax.set_xlabel("distance $d$ from the reference")
    if failed_any:  # a grey stand-in for the per-curve coloured × marks
        handles["saddle point not converged (left out)"] = Line2D(
            [], [], ls="", marker="x", color="0.3", ms=4, mew=0.9)
    # below the panels, outside every axes: it cannot cover a curve
    fig.legend(list(handles.values()), list(handles), loc="outside lower center", ncol=3,
               fontsize=6.5, frameon=False)
    return fig
