"""Figures 2 and 3 (docs/figures.md): pairs of fixed points.

Figure 2 ``pair-histograms``: the mean number of ordered pairs (σ, τ) of fixed points at
Hamming distance k in random networks of N neurons (exact enumeration,
:func:`fplandscape.validate.pairs.validate_pairs`) against the exact finite-N expectation (E4),
with the largest |z| over k in the legend.
Figure 3 ``pair-entropy``: the annealed pair entropy S₂(q) (E3) for several J_D, against q and
against d = (1 − q)/2 near d = 0; below J_D^gap it is negative on an interval of small d
(the overlap gap: pairs at those distances are exponentially rare), which closes at J_D^gap.
"""
from __future__ import annotations

import numpy as np

from .. import theory
from ..provenance import run_info
from ..validate.pairs import validate_pairs
from .common import critical_values, parallel_options
from .spec import FigureSpec
from .style import new_figure, series_colors

HIST_JD = (0.0, 0.5, 1.0)
S2_JD = (0.0, 0.02, "gap", 0.1, 0.2, 0.5)


def _hist_parameters(quick: bool = False) -> dict:
    return {"n": 12 if quick else 20, "jd_values": list(HIST_JD),
            "samples": 40 if quick else 400}


def _hist_compute(quick: bool = False, seed: int = 0, params=None, **options) -> list:
    p = params or _hist_parameters(quick)
    return validate_pairs(p["n"], p["jd_values"], p["samples"], seed,
                          **parallel_options(options))


def _hist_plot(rows: list):
    fig, (ax,) = new_figure(1, width=5.6, height=3.0)
    jds = sorted({r["jd"] for r in rows})
    colors = dict(zip(jds, series_colors(len(jds))))
    for jd in jds:
        rr = [r for r in rows if r["jd"] == jd]
        n, m = rr[0]["n"], rr[0]["samples"]
        zs = [abs(r["z"]) for r in rr if r["z"] is not None and np.isfinite(r["z"])]
        zmax = max(zs, default=float("nan"))
        k = np.array([r["k"] for r in rr])
        e = np.array([r["expected_pairs"] for r in rr], dtype=float)
        ok = e > 0
        ax.plot(k[ok], e[ok], color=colors[jd], lw=1.0)
        mean = np.array([r["mean_pairs"] for r in rr], dtype=float)
        se = np.array([r["se_pairs"] or 0.0 for r in rr], dtype=float)
        pos = mean > 0
        ax.errorbar(k[pos], mean[pos], yerr=se[pos], fmt="o", color=colors[jd], ms=3.5,
                    label=f"$J_D$ = {jd:g} (max |z| = {zmax:.1f})")
    ax.plot([], [], "k-", lw=1.0, label="exact mean (E4)")
    ax.set_yscale("log")
    ax.set_xlabel("Hamming distance $k$")
    ax.set_ylabel("ordered pairs of fixed points")
    ax.set_title(f"N = {n}, {m} networks per $J_D$ (mean ± SE)")
    ax.legend(loc="upper left", bbox_to_anchor=(1.02, 1.0))
    return fig


def _s2_parameters(quick: bool = False) -> dict:
    return {"jd_values": [str(x) for x in S2_JD], "q": {"num": 201 if quick else 801},
            "d_log": {"start": -4.0, "stop": np.log10(0.5), "num": 120 if quick else 400}}


def _s2_compute(quick: bool = False, seed: int = 0, params=None, **options) -> list:
    p = params or _s2_parameters(quick)
    gap = critical_values(names=("gap",), known=options.get("critical"))["gap"]
    q = np.linspace(0.0, 1.0, p["q"]["num"])
    d = np.logspace(p["d_log"]["start"], p["d_log"]["stop"], p["d_log"]["num"])
    rows = []
    for x in S2_JD:
        jd = gap if x == "gap" else float(x)
        label = "gap" if x == "gap" else ""
        for qq, v in zip(q, np.atleast_1d(theory.pair_entropy(jd, q))):
            rows.append(run_info(jd=jd, label=label, axis="q", q=float(qq), d=(1 - qq) / 2,
                                 pair_entropy=float(v)))
        for dd, v in zip(d, np.atleast_1d(theory.pair_entropy(jd, 1 - 2 * d))):
            rows.append(run_info(jd=jd, label=label, axis="d", q=float(1 - 2 * dd), d=float(dd),
                                 pair_entropy=float(v)))
    return rows


def _s2_plot(rows: list):
    fig, (a, b) = new_figure(2)
    jds = sorted({r["jd"] for r in rows})
    colors = dict(zip(jds, series_colors(len(jds), "plasma")))
    for jd in jds:
        rr = [r for r in rows if r["jd"] == jd]
        gap = rr[0]["label"] == "gap"
        lab = f"$J_D^{{gap}}$ = {jd:.4f}" if gap else f"$J_D$ = {jd:g}"
        style = dict(color="k" if gap else colors[jd], lw=1.8 if gap else 1.2,
                     ls="--" if gap else "-")
        rq = [r for r in rr if r["axis"] == "q"]
        a.plot([r["q"] for r in rq], [r["pair_entropy"] for r in rq], label=lab, **style)
        rd = [r for r in rr if r["axis"] == "d"]
        b.plot([r["d"] for r in rd], [r["pair_entropy"] for r in rd], **style)
    for ax in (a, b):
        ax.axhline(0.0, color="0.6", lw=0.8)
        ax.set_ylabel("pair entropy $S_2$ (nats)")
    a.set_xlabel("overlap $q$")
    a.set_title("(a) $S_2(q)$ (E3)")
    fig.legend(*a.get_legend_handles_labels(), loc="outside right upper")
    b.set_xscale("log")
    b.set_xlabel("distance $d = (1-q)/2$")
    b.set_ylim(-0.06, 0.12)
    b.set_title("(b) near $d = 0$: the overlap gap ($S_2 < 0$)")
    return fig


HISTOGRAMS = FigureSpec("pair-histograms",
                        "Pair-distance histograms at finite N: enumeration vs (E4)",
                        _hist_parameters, _hist_compute, _hist_plot)
PAIR_ENTROPY = FigureSpec("pair-entropy",
                          "Pair entropy S2(q): the overlap gap and its closing at J_D^gap",
                          _s2_parameters, _s2_compute, _s2_plot)
