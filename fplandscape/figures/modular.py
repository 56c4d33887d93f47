"""Figure 8 (docs/figures.md): the modular chain — entropy per neuron vs the inter-module
coupling λ.

Lines: the N → ∞ annealed entropy per neuron of L modules (E2λ,
:func:`fplandscape.theory.modular_entropy`, L = ∞ by the transfer matrix) for several L and
J_D. Points: exact enumeration of random chains of L modules of N neurons, mean entropy
(1/(LN)) ln⟨#FP⟩ ± SE, beside the exact finite-N expectation (dashes;
:func:`fplandscape.theory.log_expected_count_modular`). Data:
:func:`fplandscape.validate.counts.validate_counts` with ``layers`` and ``lam``.
"""
from __future__ import annotations

import math

import numpy as np

from .. import theory
from ..provenance import run_info
from ..validate.counts import validate_counts
from .common import parallel_options
from .style import new_figure, series_colors

NAME = "modular"
TITLE = "Modular chain: entropy per neuron vs inter-module coupling lambda"
JD_VALUES = (0.0, 0.5)
LAYERS = (1, 2, 3, math.inf)


def parameters(quick: bool = False) -> dict:
    return {"jd_values": list(JD_VALUES), "layers": ["1", "2", "3", "inf"],
            "lam_theory": {"start": 0.0, "stop": 1.5, "num": 61},
            "sim_lam": [0.0, 0.5, 1.0] if quick else [0.0, 0.25, 0.5, 0.75, 1.0, 1.5],
            "sim_layers": [2, 3], "sim_n": 6 if quick else 8,
            "samples": 30 if quick else 300}


def compute(quick: bool = False, seed: int = 0, params=None, **options) -> list:
    p = params or parameters(quick)
    lam = np.linspace(p["lam_theory"]["start"], p["lam_theory"]["stop"],
                      p["lam_theory"]["num"])
    rows = []
    for jd in p["jd_values"]:
        for L in LAYERS:
            for x in lam:
                rows.append(run_info(series="theory", jd=jd, layers=str(L), lam=float(x),
                                     entropy=float(theory.modular_entropy(jd, float(x), L))))
    k = 0
    for jd in p["jd_values"]:
        for L in p["sim_layers"]:
            for x in p["sim_lam"]:
                k += 1
                r = validate_counts([p["sim_n"]], [jd], p["samples"], seed + k, layers=L,
                                    lam=x, **parallel_options(options))[0]
                rows.append({**r, "series": "enumeration", "layers": str(L)})
    return rows


def plot(rows: list):
    jds = sorted({r["jd"] for r in rows})
    fig, axes = new_figure(len(jds), sharey=True)
    layers = ["1", "2", "3", "inf"]
    colors = dict(zip(layers, series_colors(len(layers))))
    for ax, jd in zip(axes, jds):
        for L in layers:
            t = [r for r in rows if r["series"] == "theory" and r["jd"] == jd and r["layers"] == L]
            if t:
                ax.plot([r["lam"] for r in t], [r["entropy"] for r in t], color=colors[L],
                        label=f"L = {'∞' if L == 'inf' else L} (E2$\\lambda$)")
            sim = [r for r in rows if r["series"] == "enumeration" and r["jd"] == jd and
                   r["layers"] == L and r["mean_entropy"] is not None]
            if sim:
                ax.errorbar([r["lam"] for r in sim], [r["mean_entropy"] for r in sim],
                            yerr=[r["se_mean_entropy"] or 0 for r in sim], fmt="o",
                            color=colors[L], mec="k", mew=0.4,
                            label=f"L = {L}, N = {sim[0]['n']} ({sim[0]['samples']} networks)")
                ax.plot([r["lam"] for r in sim], [r["finite_n_entropy"] for r in sim], "_",
                        color=colors[L], ms=10, mew=1.5)
        ax.set_xlabel("inter-module coupling $\\lambda$")
        ax.set_title(f"$J_D$ = {jd:g}")
    axes[0].set_ylabel("entropy per neuron (nats)")
    axes[-1].plot([], [], "k_", ms=10, mew=1.5, label="exact finite N")
    axes[-1].set_ylim(bottom=-0.1)
    axes[-1].legend(loc="lower right", fontsize=6.5)
    return fig
