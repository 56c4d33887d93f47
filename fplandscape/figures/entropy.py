"""Figure 1 (docs/figures.md): s(J_D) and s(η, J_D) with finite-N enumeration points.

Panel (a): the annealed entropy s(J_D) = ln 2 + ln Φ(J_D) (E2) for N → ∞, the exact finite-N
(1/N) ln E[#FP] (E1, dashed, one per N), and from exact enumeration of random networks the
mean entropy (1/N) ln⟨#FP⟩ (filled) and the typical entropy ⟨ln #FP⟩/N over *all* networks
(open squares). A network without fixed points has ln 0 = −∞, so where any sampled network has
none the typical entropy is −∞ at that N: it is then drawn as an open triangle on the lower
edge, never as the mean over the other networks (which is kept in the CSV as
``conditional_typical_entropy`` and can exceed the mean entropy). Where drawn, the typical
value never exceeds the mean one (Jensen, on the sample itself).
Panel (b): s(η, J_D) (E2η) for several reciprocities η, with enumeration points (mean entropy)
at one N for η = ±0.5 and the exact finite-N E[#FP] where implemented.
Panel (c): the fraction of sampled networks with no fixed point, P(#FP = 0), per N.
Data: :func:`fplandscape.validate.counts.validate_counts`.
"""
from __future__ import annotations

import numpy as np

from .. import theory
from ..provenance import run_info
from ..validate.counts import validate_counts
from .common import parallel_options
from .style import new_figure, series_colors

NAME = "entropy"
TITLE = "Entropy of fixed points s(J_D), s(η, J_D): theory and enumeration"
ETAS = (-0.5, 0.0, 0.5, 1.0)
SIM_ETAS = (-0.5, 0.5)


def parameters(quick: bool = False) -> dict:
    return {
        "n_values": [10, 14, 18] if quick else [12, 16, 20, 24],
        "jd_values": [-0.5, 0.0, 0.5, 1.0, 1.5] if quick else
        [float(x) for x in np.arange(-0.5, 2.01, 0.25)],
        "samples": 30 if quick else 300,
        "eta_n": 12 if quick else 16,
        "theory_jd": {"start": -0.6, "stop": 2.2, "num": 141},
    }


def compute(quick: bool = False, seed: int = 0, params=None, **options) -> list:
    """Tidy rows: ``series`` ∈ {theory, finite-n, enumeration}, with n, jd, eta and values."""
    p = params or parameters(quick)
    par = parallel_options(options)
    rows = []
    jd = np.linspace(p["theory_jd"]["start"], p["theory_jd"]["stop"], p["theory_jd"]["num"])
    for eta in ETAS:
        s = np.atleast_1d(theory.annealed_entropy(jd, eta))
        rows += [run_info(series="theory", panel="eta" if eta else "jd", n=None, jd=float(x),
                          eta=eta, entropy=float(v)) for x, v in zip(jd, s)]
    for n in p["n_values"]:
        e1 = np.asarray(theory.log_expected_count(n, jd), dtype=float) / n
        rows += [run_info(series="finite-n", panel="jd", n=n, jd=float(x), eta=0.0,
                          entropy=float(v)) for x, v in zip(jd, e1)]
    for r in validate_counts(p["n_values"], p["jd_values"], p["samples"], seed, **par):
        rows.append({**r, "series": "enumeration", "panel": "jd"})
    for k, eta in enumerate(SIM_ETAS):
        n = p["eta_n"]
        for r in validate_counts([n], p["jd_values"], p["samples"], seed + 1 + k, eta=eta, **par):
            rows.append({**r, "series": "enumeration", "panel": "eta"})
    return rows


def honest_typical(row: dict):
    """(typical entropy, SE) of an enumeration row: ⟨ln #⟩/N over all its networks, or None
    when some network has no fixed point (ln 0 = −∞). Also right for data written before the
    ``typical_entropy`` column was made honest (it then held the mean over # > 0 only, which
    equals the full mean exactly when ``zero_samples`` = 0)."""
    if row.get("zero_samples") or row.get("typical_entropy") is None:
        return None, None
    return row["typical_entropy"], row.get("se_typical_entropy")


def plot(rows: list):
    fig, (a, b, c) = new_figure(3, height=3.2)
    theory_rows = [r for r in rows if r["series"] == "theory"]
    t0 = [r for r in theory_rows if r["eta"] == 0.0]
    a.plot([r["jd"] for r in t0], [r["entropy"] for r in t0], color="k",
           label="$s(J_D)$, $N\\to\\infty$ (E2)")
    sim = [r for r in rows if r["series"] == "enumeration" and r["panel"] == "jd"]
    ns = sorted({r["n"] for r in sim})
    colors = dict(zip(ns, series_colors(len(ns))))
    bottom = -0.8
    for k, n in enumerate(ns):
        fin = [r for r in rows if r["series"] == "finite-n" and r["n"] == n]
        a.plot([r["jd"] for r in fin], [r["entropy"] for r in fin], ls="--", lw=0.9,
               color=colors[n])
        pts = [r for r in sim if r["n"] == n and r["mean_entropy"] is not None]
        m = pts[0]["samples"] if pts else 0
        a.errorbar([r["jd"] for r in pts], [r["mean_entropy"] for r in pts],
                   yerr=[r["se_mean_entropy"] or 0 for r in pts], fmt="o", color=colors[n])
        cells = sorted((r for r in sim if r["n"] == n), key=lambda r: r["jd"])
        typ = [(r["jd"], *honest_typical(r)) for r in cells if honest_typical(r)[0] is not None]
        if typ:
            a.errorbar([t[0] for t in typ], [t[1] for t in typ], yerr=[t[2] or 0 for t in typ],
                       fmt="s", mfc="none", color=colors[n])
        minus_inf = [r["jd"] for r in cells if r.get("zero_samples")]
        shift = 0.035 * (k - 0.5 * (len(ns) - 1))  # side by side, one per N
        a.plot([x + shift for x in minus_inf], [bottom + 0.03] * len(minus_inf), "v", mfc="none",
               color=colors[n], ms=5, clip_on=False)
        c.plot([r["jd"] for r in cells], [r["zero_samples"] / r["samples"] for r in cells],
               "o-", ms=3.5, lw=0.9, color=colors[n], label=f"N = {n} ({m} networks)")
    a.plot([], [], "ko", label="mean $\\frac{1}{N}\\ln\\langle\\#\\rangle$ (colour: N, see c)")
    a.plot([], [], "ks", mfc="none",
           label="typical $\\langle\\ln\\#\\rangle/N$, all networks have a FP")
    a.plot([], [], "kv", mfc="none", ms=5,
           label="typical $= -\\infty$: some network has none (c)")
    a.plot([], [], "k--", lw=0.9, label="exact finite $N$ (E1)")
    a.set_xlabel("self-coupling $J_D$")
    a.set_ylabel("entropy per neuron (nats)")
    a.set_title("(a) fixed points of asymmetric networks")
    a.set_xlim(-0.6, 2.2)
    a.set_ylim(bottom=bottom)
    a.legend(loc="lower right", bbox_to_anchor=(1.0, 0.09), fontsize=6)  # above the ▽ row
    etas = sorted({r["eta"] for r in theory_rows})
    ecol = dict(zip(etas, series_colors(len(etas), "plasma")))
    for eta in etas:
        t = [r for r in theory_rows if r["eta"] == eta]
        b.plot([r["jd"] for r in t], [r["entropy"] for r in t], color=ecol[eta],
               label=f"$\\eta$ = {eta:g} (E2$\\eta$)")
    esim = [r for r in rows if r["series"] == "enumeration" and r["panel"] == "eta"]
    for eta in sorted({r["eta"] for r in esim}):
        pts = [r for r in esim if r["eta"] == eta and r["mean_entropy"] is not None]
        if not pts:
            continue
        b.errorbar([r["jd"] for r in pts], [r["mean_entropy"] for r in pts],
                   yerr=[r["se_mean_entropy"] or 0 for r in pts], fmt="o",
                   color=ecol.get(eta, "k"), mec="k", mew=0.5,
                   label=f"$\\eta$ = {eta:g}, N = {pts[0]['n']} ({pts[0]['samples']} networks)")
    b.set_xlabel("self-coupling $J_D$")
    b.set_ylabel("entropy per neuron (nats)")
    b.set_title("(b) reciprocity $\\eta$ = corr$(J_{ij}, J_{ji})$")
    b.set_xlim(-0.6, 2.2)
    b.set_ylim(bottom=-1.0)
    b.legend(loc="lower right", fontsize=6.5)
    c.set_xlabel("self-coupling $J_D$")
    c.set_ylabel("fraction of networks with no FP")
    c.set_title("(c) $P(\\#\\mathrm{FP} = 0)$, enumeration")
    c.set_xlim(-0.6, 2.2)
    c.set_ylim(-0.03, 1.03)
    c.legend(loc="upper right", fontsize=6.5)
    return fig
