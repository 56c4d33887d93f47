"""Figures 6 and 7 (docs/figures.md): algorithmic accessibility and what the algorithms find.

Figure 6 ``accessibility``: (a) the probability that an algorithm reaches a strict fixed point
from a random initial state within the sweep budget vs J_D, for several N (asynchronous and
synchronous dynamics; focusing BP at the smaller sizes); (b) the median number of sweeps of the
successful runs; (c) the finite-size thresholds J_50(N) (logistic fits) against N^(−1/2) with
the extrapolation J_50(∞) = J_50 + c·N^(−1/2) and the thermodynamic critical self-couplings
of the theory (docs/critical.md) as horizontal lines. Panel (c) takes the async and sync
thresholds from a second scan on fine J_D windows (step 0.02) up to N = 12800, the cells of
``benchmarks/accessibility_scale.py``, fitted on N ≥ 1600 (the fit over all N is pulled down by
the curvature at small N, paper_notes §8); focusing BP keeps the coarse grid's. Data:
:func:`fplandscape.sim.accessibility_scan` with
:func:`fplandscape.validate.reached.with_typical_mean_stability`.

Figure 7 ``reached-vs-typical``: fixed points reached by the dynamics against uniformly drawn
ones at small N (exact enumeration), per J_D: (a) mean stability (1/N) Σ_i σ_i h_i with the
typical value J_D + φ(J_D)/Φ(J_D) at large N (line; finite-N version dotted) and the reached
FPs of the large-N scan; (b) the mean number of fixed points at Hamming distance 1 and 2.
Data: :func:`fplandscape.sim.compare_reached_vs_uniform` and the theory of
:mod:`fplandscape.validate.reached`.
"""
from __future__ import annotations

import math

import numpy as np

from ..provenance import run_info
from ..sim.accessibility import accessibility_scan, threshold_window
from ..sim.reached import compare_reached_vs_uniform
from ..stats import extrapolate_threshold
from ..theory import typical_mean_stability
from ..validate.reached import with_typical_mean_stability
from .common import critical_values, parallel_options
from .spec import FigureSpec
from .style import new_figure, series_colors

RULE_STYLE = {"async": "-", "sync": "--", "fbp": ":", "anneal": "-."}


def _acc_parameters(quick: bool = False) -> dict:
    if quick:
        return {"n_values": [100, 200], "jd": {"start": 0.1, "stop": 1.0, "step": 0.1},
                "rules": ["async", "sync"], "runs": 10, "max_sweeps": 1000,
                "fbp_n_values": [100], "fbp_runs": 4, "fbp_max_sweeps": 3000,
                "scale": {"n_values": [100, 200], "runs": 6, "fit_from": 100},
                "critical": ["gap", "energetic"]}
    return {"n_values": [200, 400, 800, 1600], "jd": {"start": 0.05, "stop": 1.0, "step": 0.05},
            "rules": ["async", "sync"], "runs": 20, "max_sweeps": 1000,
            "fbp_n_values": [200, 400], "fbp_runs": 10, "fbp_max_sweeps": 4000,
            # panel (c): J_50(N) of async and sync on fine windows up to N = 12800 (the scan of
            # benchmarks/accessibility_scale.py, same cells), 1/√N fit on N ≥ fit_from
            "scale": {"n_values": [200, 400, 800, 1600, 3200, 6400, 12800], "runs": 20,
                      "fit_from": 1600},
            "critical": ["gap", "ld", "energetic", "entropic"]}


def _jd_grid(spec) -> list:
    k = int(round((spec["stop"] - spec["start"]) / spec["step"]))
    return [round(spec["start"] + i * spec["step"], 10) for i in range(k + 1)]


def _acc_compute(quick: bool = False, seed: int = 0, params=None, **options) -> list:
    p = params or _acc_parameters(quick)
    jds = _jd_grid(p["jd"])
    par = parallel_options(options)
    scans = [accessibility_scan(p["n_values"], jds, rules=tuple(p["rules"]), runs=p["runs"],
                                max_sweeps=p["max_sweeps"], seed=seed, **par)]
    if p.get("fbp_n_values"):
        # focusing BP: one iteration counts as a sweep; its reinforcement reaches gamma = 1
        # after 1000 iterations (d gamma = 1e-3), so it gets a larger budget
        scans.append(accessibility_scan(p["fbp_n_values"], jds, rules=("fbp",),
                                        runs=p["fbp_runs"],
                                        max_sweeps=p.get("fbp_max_sweeps", p["max_sweeps"]),
                                        seed=seed, **par))
    rows = []
    for scan in map(with_typical_mean_stability, scans):
        rows += [{**r, "kind": "cell"} for r in scan.rows]
        for t in scan.thresholds:
            if t.get("kind") == "finite_n":
                rows.append(run_info(seed=seed, kind="threshold", rule=t["rule"], n=t["n"],
                                     j50=t["j50"], j50_err=t["j50_err"], status=t["status"]))
            elif t.get("kind") == "extrapolated":
                rows.append(run_info(seed=seed, kind="extrapolated", rule=t["rule"],
                                     form=t.get("form"), headline=t.get("headline"),
                                     j50=t.get("j50_inf"), j50_err=t.get("j50_inf_err"),
                                     slope=t.get("slope")))
    if p.get("scale"):
        rows += _scale_rows(p, seed, par)
    for name, value in critical_values(names=tuple(p["critical"]),
                                       known=options.get("critical")).items():
        rows.append(run_info(kind="critical", criterion=name, jd=value))
    return rows


def _scale_rows(p: dict, seed: int, par: dict) -> list:
    """Panel (c)'s thresholds: async and sync J_50(N) on the fine J_D windows of
    :data:`fplandscape.sim.accessibility.THRESHOLD_WINDOWS` (each N its own scan; a cell
    depends on (seed, N, network) only), and per rule the fit J_50(N) = J_50(∞) + c·N^(−1/2)
    on N ≥ ``fit_from`` (the asymptotic regime, paper_notes §8)."""
    sc = p["scale"]
    rows, thr = [], []
    for n in sc["n_values"]:
        res = accessibility_scan([n], threshold_window(n), rules=tuple(p["rules"]),
                                 runs=sc["runs"], max_sweeps=p["max_sweeps"], seed=seed, **par)
        rows += [{**r, "kind": "scale_cell"} for r in res.rows]
        thr += [t for t in res.thresholds if t.get("kind") == "finite_n"]
    for t in thr:
        rows.append(run_info(seed=seed, kind="scale_threshold", rule=t["rule"], n=t["n"],
                             j50=t["j50"], j50_err=t["j50_err"], status=t["status"]))
    for rule in p["rules"]:
        fit = [t for t in thr if t["rule"] == rule and t["n"] >= sc["fit_from"] and
               t["j50"] is not None and t["status"] in ("ok", "separated")]
        if len(fit) < 2:
            continue
        ex = extrapolate_threshold([t["n"] for t in fit], [t["j50"] for t in fit],
                                   [t["j50_err"] for t in fit], form="sqrt")
        rows.append(run_info(seed=seed, kind="scale_extrapolated", rule=rule, form="sqrt",
                             fit_from=sc["fit_from"], j50=ex["j50_inf"],
                             j50_err=ex["j50_inf_err"], slope=ex["slope"], chi2=ex["chi2"],
                             dof=ex["dof"]))
    return rows


def panel_c_rows(rows: list):
    """The rows figure 6 (c) shows, per rule: the fine-window thresholds and their fit on
    N ≥ fit_from where the rule has a fine-window scan (async, sync), otherwise the coarse grid's
    thresholds and its headline 1/√N extrapolation (focusing BP). Returns
    ``(thresholds, extrapolations)``, lists of the rows in their original order."""
    fine = {r["rule"] for r in rows if r.get("kind") == "scale_threshold"}
    thr = [r for r in rows if r.get("kind") == "scale_threshold" or
           (r.get("kind") == "threshold" and r.get("rule") not in fine)]
    ext = [r for r in rows if r.get("kind") == "scale_extrapolated" or
           (r.get("kind") == "extrapolated" and r.get("rule") not in fine and
            r.get("form") == "sqrt" and r.get("headline"))]
    return thr, ext


def _acc_plot(rows: list):
    fig, (a, b, c) = new_figure(3, height=2.9, width=12.5)
    cells = [r for r in rows if r["kind"] == "cell"]
    ns = sorted({r["n"] for r in cells})
    colors = dict(zip(ns, series_colors(len(ns))))
    for (rule, n) in sorted({(r["rule"], r["n"]) for r in cells}):
        rr = sorted((r for r in cells if r["rule"] == rule and r["n"] == n),
                    key=lambda r: r["jd"])
        ls = RULE_STYLE.get(rule, "-")
        runs = rr[0]["runs"]  # m = runs per network × samples
        a.errorbar([r["jd"] for r in rr], [r["p_reach"] for r in rr],
                   yerr=[r["p_reach_se"] or 0 for r in rr], ls=ls, marker="o", ms=2.5,
                   color=colors[n], label=f"{rule}, N = {n} ({runs} runs)", elinewidth=0.8)
        ok = [r for r in rr if r["median_sweeps"] is not None]
        b.plot([r["jd"] for r in ok], [r["median_sweeps"] for r in ok], ls=ls, marker="o",
               ms=2.5, color=colors[n])
    a.set_xlabel("self-coupling $J_D$")
    a.set_ylabel("P(reach a fixed point)")
    a.set_title("(a) accessibility")
    # one legend for the colours (N) and one for the line styles (rule), below panels (a)–(b),
    # so that no legend sits on the data
    from matplotlib.lines import Line2D

    handles = [Line2D([], [], color=colors[n], lw=1.4, label=f"N = {n}") for n in ns]
    for rule in sorted({r["rule"] for r in cells}):
        runs = sorted({r["runs"] for r in cells if r["rule"] == rule})
        handles.append(Line2D([], [], color="0.25", lw=1.4, ls=RULE_STYLE.get(rule, "-"),
                              label=f"{rule} ({'/'.join(map(str, runs))} runs)"))
    fig.legend(handles=handles, loc="outside lower left", ncol=min(len(handles), 7),
               fontsize=7.5, handlelength=2.4)
    b.set_yscale("log")
    b.set_xlabel("self-coupling $J_D$")
    b.set_ylabel("median sweeps (successful runs)")
    b.set_title("(b) time to reach a fixed point")
    # thresholds of the fine windows where present (async, sync up to N = 12800), else those
    # of the coarse grid of panel (a) (focusing BP)
    thr, exts = panel_c_rows(rows)
    thr = [r for r in thr if r["j50"] is not None]
    for rule in sorted({r["rule"] for r in thr}):
        tt = sorted((r for r in thr if r["rule"] == rule), key=lambda r: r["n"])
        x = [r["n"] ** -0.5 for r in tt]
        ns_rule = f"N = {tt[0]['n']}–{tt[-1]['n']}" if len(tt) > 1 else f"N = {tt[0]['n']}"
        eb = c.errorbar(x, [r["j50"] for r in tt], yerr=[r["j50_err"] or 0 for r in tt],
                        fmt="o", ms=4, ls="none", label=f"{rule}: $J_{{50}}(N)$, {ns_rule}")
        color = eb[0].get_color()
        ext = [r for r in exts if r["rule"] == rule and r["j50"] is not None]
        where = f", $N \\geq$ {ext[0]['fit_from']}" if ext and ext[0].get("fit_from") else ""
        if ext and ext[0].get("slope") is not None:
            xx = np.linspace(0, max(x), 20)
            c.plot(xx, ext[0]["j50"] + ext[0]["slope"] * xx, ls=RULE_STYLE.get(rule, "-"),
                   lw=0.9, color=color,
                   label=f"{rule}: $J_{{50}}(\\infty)$ = {ext[0]['j50']:.3f} ± "
                         f"{ext[0]['j50_err'] or 0:.3f} (1/√N fit{where})")
    crit = [r for r in rows if r["kind"] == "critical" and r["jd"] is not None]
    # dark greys and distinct dash patterns: each theory line visible, each legend handle too
    styles = [(0, (1, 1.5)), (0, (4, 1.5)), (0, (4, 1.5, 1, 1.5)), (0, (8, 2))]
    for i, r in enumerate(sorted(crit, key=lambda r: r["jd"])):
        c.axhline(r["jd"], color=("0.15", "0.35", "0.5")[i % 3], lw=1.1,
                  ls=styles[i % len(styles)],
                  label=f"theory $J_D^{{{r['criterion']}}}$ = {r['jd']:.3g}")
    c.set_xlabel("$N^{-1/2}$")
    c.set_ylabel("threshold $J_{50}$")
    c.set_xlim(left=0)
    c.set_title("(c) algorithmic vs thermodynamic")
    c.legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), fontsize=6)
    return fig


def _reached_parameters(quick: bool = False) -> dict:
    if quick:
        return {"n": 16, "jd_values": [0.4, 0.7, 1.0], "rules": ["async", "sync"], "runs": 20,
                "samples": 2, "uniform_samples": 2000, "large_n": 200}
    return {"n": 24, "jd_values": [0.4, 0.5, 0.6, 0.7, 0.8, 1.0, 1.2], "rules": ["async", "sync"],
            "runs": 50, "samples": 8, "uniform_samples": 5000, "large_n": 1600}


def _reached_compute(quick: bool = False, seed: int = 0, params=None, **options) -> list:
    p = params or _reached_parameters(quick)
    par = parallel_options(options)
    res = with_typical_mean_stability(compare_reached_vs_uniform(
        p["n"], p["jd_values"], rules=tuple(p["rules"]), runs=p["runs"], samples=p["samples"],
        seed=seed, uniform_samples=p["uniform_samples"], **par))
    rows = [{**r, "series": "small-n"} for r in res.rows if r["kind"] == "pooled"]
    big = with_typical_mean_stability(accessibility_scan(
        [p["large_n"]], p["jd_values"], rules=tuple(p["rules"]), runs=max(4, p["runs"] // 5),
        seed=seed, **par))
    rows += [{**r, "series": "large-n", "source": r["rule"]} for r in big.rows]
    for jd in np.linspace(min(p["jd_values"]) - 0.1, max(p["jd_values"]) + 0.1, 41):
        rows.append(run_info(series="theory", jd=float(jd),
                             typical_mean_stability=float(typical_mean_stability(jd)),
                             finite_n_typical=float(typical_mean_stability(jd, n=p["n"]))))
    return rows


def _reached_plot(rows: list):
    fig, (a, b) = new_figure(2, height=2.9)
    th = [r for r in rows if r["series"] == "theory"]
    a.plot([r["jd"] for r in th], [r["typical_mean_stability"] for r in th], "k-", lw=1.0,
           label="typical FP, $J_D + \\varphi(J_D)/\\Phi(J_D)$")
    small = [r for r in rows if r["series"] == "small-n"]
    n_small = small[0]["n"] if small else None
    a.plot([r["jd"] for r in th], [r["finite_n_typical"] for r in th], "k:", lw=0.9,
           label=f"typical FP at N = {n_small}")
    sources = sorted({r["source"] for r in small}, key=lambda s: (s != "uniform", s))
    colors = dict(zip(sources, ["0.3"] + series_colors(max(len(sources) - 1, 1), "plasma")))
    shift = {s: 0.012 * (i - (len(sources) - 1) / 2) for i, s in enumerate(sources)}
    for s in sources:
        rr = sorted((r for r in small if r["source"] == s and r["mean_stability"] is not None),
                    key=lambda r: r["jd"])
        lab = "uniform FPs (enumeration)" if s == "uniform" else f"reached by {s}"
        a.errorbar([r["jd"] + shift[s] for r in rr], [r["mean_stability"] for r in rr],
                   yerr=[r["mean_stability_se"] or 0 for r in rr], fmt="o" if s == "uniform"
                   else "s", color=colors[s], label=f"{lab}, N = {n_small}")
        for key, mk in (("neighbors_d1", "o"), ("neighbors_d2", "^")):
            ok = [r for r in rr if r.get(key) is not None]
            b.errorbar([r["jd"] + shift[s] for r in ok], [r[key] for r in ok],
                       yerr=[r.get(key + "_se") or 0 for r in ok], fmt=mk, color=colors[s],
                       mfc="none" if key == "neighbors_d2" else None,
                       label=f"{lab}, d = {key[-1]}")
    large = [r for r in rows if r["series"] == "large-n" and r.get("mean_stability") is not None
             and not (isinstance(r["mean_stability"], float) and math.isnan(r["mean_stability"]))]
    for s in sorted({r["source"] for r in large}):
        rr = sorted((r for r in large if r["source"] == s), key=lambda r: r["jd"])
        a.plot([r["jd"] for r in rr], [r["mean_stability"] for r in rr], "D", ms=3,
               mfc="none", color=colors.get(s, "k"), label=f"reached by {s}, N = {rr[0]['n']}")
    a.set_xlabel("self-coupling $J_D$")
    a.set_ylabel("mean stability $\\frac{1}{N}\\sum_i \\sigma_i h_i$")
    a.set_title("(a) reached fixed points are more stable")
    a.legend(loc="lower right", fontsize=5.5)
    b.set_yscale("log")
    b.set_xlabel("self-coupling $J_D$")
    b.set_ylabel("fixed points at distance 1 (o), 2 ($\\triangle$)")
    b.set_title(f"(b) close fixed points, N = {n_small}")
    b.legend(loc="lower right", fontsize=5.0)
    return fig


ACCESSIBILITY = FigureSpec("accessibility",
                           "Algorithmic accessibility: P(reach a FP) and time vs J_D, thresholds",
                           _acc_parameters, _acc_compute, _acc_plot)
REACHED = FigureSpec("reached-vs-typical",
                     "Fixed points reached by dynamics vs uniformly drawn ones",
                     _reached_parameters, _reached_compute, _reached_plot)
