"""Figure ``fep``: the claims of Spisak & Friston's free-energy attractor network
(:mod:`fplandscape.learn.fep`), reproduced with the reference's protocols.

(a) Orthogonalisation: the two-pattern demonstration (training patterns r = 0.77, dashed) for
every learning rate and inverse temperature of the grid; the correlation of the two attractors
reached by deterministic relaxation (mean ± SD over repeats; :func:`~fplandscape.learn.fep.
studies.demo_sweep`, one batch of networks). (b) Digits: the training images (one per class,
preprocessed) and the attractors relaxed from them (:func:`~fplandscape.learn.fep.studies.
digits`, the reference's balanced regime). (c) Digits: median R² of the noisy input and of the
network's mean activity against the clean pattern, for retrieval of training patterns and
reconstruction of new examples; and the orthogonality score mean |cos| of the distinct
attractors beside that of the patterns. (d) Symmetry vs training time in the sequence
simulation (digits 1, 2, 3; 1 step per presentation): η̂ = corr(J_ij, J_ji) (solid) and
‖J − Jᵀ‖/‖J‖ (dashed) for random and fixed cyclic order, mean ± SD over seeds. (e) The
spontaneous activity (zero bias, stochastic) after training: the digit each state resembles
most — a replay 1 → 2 → 3 → 1 … after sequential training, one attractor after random. (f) The
learned landscape vs a random one: for the demonstration networks (N = 25) the exact number of
fixed points of the sign version sign(J s) beside the random-matrix prediction at the same η̂
(:func:`fplandscape.attractors.diagnose`), and the census of the deterministic map
x ← L(J x) of the sequence networks (basin fraction per kind).

Panels (b)–(e) need scikit-learn's bundled digits; without scikit-learn they say so and the
figure still renders (a) and (f).

Seeds: the sweep ``SeedSequence(seed, spawn_key=(1, i, j, r))`` (studies), the digits network
``(3,)``, sequence network of repeat r ``seed + r`` (studies' ``(2,)`` key), demonstration
network of repeat r ``seed + r`` (``(0,)`` key). Quick mode: smaller grids and fewer
presentations for the digits.
"""
from __future__ import annotations

import numpy as np

from ..provenance import run_info

NAME = "fep"
TITLE = "Free-energy attractor network: orthogonalisation, digits, symmetry vs order"

ORDERS = ("random", "sequential")
ORDER_COLOR = {"random": "tab:blue", "sequential": "tab:red"}


def parameters(quick: bool = False) -> dict:
    if quick:
        return {"sweep": {"learning_rates": [0.003, 0.01, 0.03], "betas": [0.03, 0.1, 0.3],
                          "repeats": 2, "presentations": 500},
                "digits": {"presentations": 3000, "trials": 40},
                "symmetry": {"seeds": 2, "presentations": 2000, "checkpoints": 8},
                "landscape": {"demo_seeds": 2, "census_starts": 4, "census_steps": 2000,
                              "census_transient": 1000}}
    return {"sweep": {"learning_rates": [0.001, 0.002, 0.005, 0.01, 0.02, 0.05],
                      "betas": [0.03, 0.1, 0.3, 1.0], "repeats": 5, "presentations": 500},
            "digits": {"presentations": 5000, "trials": 100},
            "symmetry": {"seeds": 5, "presentations": 2000, "checkpoints": 20},
            "landscape": {"demo_seeds": 4, "census_starts": 16, "census_steps": 4000,
                          "census_transient": 2000}}


def compute(quick: bool = False, seed: int = 0, params=None, **options) -> list:
    from ..attractors import census
    from ..errors import InputError
    from ..learn.fep import FEPNetwork, studies

    p = params or parameters(quick)
    rows = []
    base = {"seed": seed}
    # (a) orthogonalisation sweep
    sw = p["sweep"]
    for r in studies.demo_sweep(sw["learning_rates"], sw["betas"], sw["repeats"], seed,
                                presentations=sw["presentations"]):
        rows.append(run_info(**base, panel="orthogonalisation", series="network", **r))
    # (b–e) need the digits (scikit-learn's bundled copy): without them the panels say so
    try:
        from ..learn.fep.data import load_digits

        load_digits()
    except InputError as exc:
        rows.append(run_info(**base, panel="missing", series="note", text=str(exc)))
        return rows + _demo_counts(p["landscape"], seed, base)
    # (b, c) digits
    dg = p["digits"]
    q = {"trials": dg["trials"]}
    d = studies.digits(seed, presentations=dg["presentations"], retrieval=q, generalisation=q)
    classes = d["params"]["classes"]
    for kind, key in (("pattern", "patterns"), ("attractor", "attractors")):
        for k, x in enumerate(d[key]):
            rows.append(run_info(**base, panel="digits", series="image", kind=kind, index=k,
                                 label=classes[k], pixels=[round(v, 6) for v in x]))
    for proto in ("retrieval", "generalisation"):
        rows.append(run_info(**base, panel="digits", series="r2", protocol=proto,
                             r2_input=d[proto]["median_r2_input"],
                             r2_output=d[proto]["median_r2_output"],
                             delta_r2=d[proto]["median_delta_r2"]))
    for what in ("patterns", "attractors"):
        rows.append(run_info(**base, panel="digits", series="orthogonality", what=what,
                             mean_abs_cos=d[f"orthogonality_{what}"],
                             angle_deviation=d[f"angle_deviation_{what}"],
                             mean_correlation=d[f"mean_correlation_{what}"],
                             n_attractors=d["n_attractors"] if what == "attractors" else None))
    # (d, e, f) symmetry vs order, free run, census
    sy, ls = p["symmetry"], p["landscape"]
    for order in ORDERS:
        for r in range(sy["seeds"]):
            s = studies.sequence(seed + r, order, presentations=sy["presentations"],
                                 snapshots=sy["checkpoints"])
            for t in s["trace"]:
                rows.append(run_info(**base, panel="symmetry", series="trace", order=order,
                                     repeat=r, **t))
            if r == 0:
                for step, lab in enumerate(s["free_run_labels"]):
                    rows.append(run_info(**base, panel="free_run", series="label", order=order,
                                         step=step, label=int(lab)))
                rows.append(run_info(**base, panel="free_run", series="summary", order=order,
                                     label_changes=s["label_changes"],
                                     forward_fraction=s["forward_fraction"]))
                if ls["census_starts"]:
                    system = FEPNetwork(np.array(s["J"])).as_system(1.0)
                    c = census(system, n_starts=ls["census_starts"], seed=seed, k=1,
                               steps=ls["census_steps"], transient=ls["census_transient"])
                    for kind, frac in c.fractions().items():
                        rows.append(run_info(**base, panel="landscape", series="census",
                                             order=order, kind=kind, fraction=frac,
                                             n_attractors=len(c)))
    return rows + _demo_counts(ls, seed, base)


def _demo_counts(ls, seed, base) -> list:
    """(f): exact sign fixed-point counts of the demonstration networks vs the prediction."""
    from ..attractors import diagnose
    from ..learn.fep import studies

    rows = []
    for r in range(ls["demo_seeds"]):
        dm = studies.demo(seed + r)
        dx = diagnose(np.array(dm["J"]), exact_max_n=25)
        rows.append(run_info(**base, panel="landscape", series="sign_count", repeat=r,
                             count=dx.count, expected_count=dx.expected_count,
                             eta=dx.eta_hat, attractor_correlation=dm["attractor_correlation"]))
    return rows


# --------------------------------------------------------------------------------------------


def _mosaic(images, gap=1):
    """Side-by-side 8 × 8 images (NaN gaps) as one array."""
    tiles = [np.asarray(im, dtype=float).reshape(8, 8) for im in images]
    out = np.full((8, len(tiles) * (8 + gap) - gap), np.nan)
    for k, t in enumerate(tiles):
        out[:, k * (8 + gap):k * (8 + gap) + 8] = t
    return out


def _num(v) -> float:
    """A plotted number: None (a NaN written to CSV) becomes NaN."""
    return float("nan") if v is None else float(v)


def plot(rows: list):
    from .style import new_figure, series_colors

    fig, axes = new_figure(3, 2)
    ax_a, ax_b, ax_c, ax_d, ax_e, ax_f = axes

    # (a)
    net = [r for r in rows if r["panel"] == "orthogonalisation"]
    betas = sorted({r["beta"] for r in net})
    for beta, color in zip(betas, series_colors(len(betas))):
        lrs = sorted({r["learning_rate"] for r in net if r["beta"] == beta})
        vals = [[r["attractor_correlation"] for r in net if r["beta"] == beta and
                 r["learning_rate"] == lr and r["attractor_correlation"] is not None]
                for lr in lrs]
        m = [np.mean(v) if v else np.nan for v in vals]  # (None: a NaN read back from CSV)
        s = [np.std(v) if v else np.nan for v in vals]
        ax_a.errorbar(lrs, m, yerr=s, marker="o", color=color, capsize=2, label=f"β = {beta:g}")
    if net:
        ax_a.axhline(net[0]["pattern_correlation"], color="k", ls="--", lw=1,
                     label="training patterns")
    ax_a.axhline(0.0, color="0.6", lw=0.8)
    ax_a.set_xscale("log")
    lr_all = sorted({r["learning_rate"] for r in net})
    ax_a.set_xticks(lr_all, [f"{v:g}" for v in lr_all])
    ax_a.minorticks_off()
    ax_a.set_ylim(-1.05, 2.0)
    ax_a.set_yticks([-1, -0.5, 0, 0.5, 1])
    ax_a.set_xlabel("learning rate")
    ax_a.set_ylabel("correlation of the two attractors")
    ax_a.set_title("(a) orthogonalisation (5×5 demo)")
    ax_a.legend(loc="upper center", ncol=3, fontsize=6.5)

    # (b)
    imgs = {k: [r for r in rows if r["panel"] == "digits" and r["series"] == "image" and
                r["kind"] == k] for k in ("pattern", "attractor")}
    if imgs["pattern"]:
        top = _mosaic([r["pixels"] for r in sorted(imgs["pattern"], key=lambda r: r["index"])])
        bot = _mosaic([r["pixels"] for r in sorted(imgs["attractor"],
                                                   key=lambda r: r["index"])])
        top = top / np.nanmax(np.abs(top))
        both = np.vstack([top, np.full((2, top.shape[1]), np.nan), bot])
        ax_b.imshow(both, cmap="gray_r", vmin=-1, vmax=1, interpolation="nearest")
        ax_b.set_yticks([3.5, 13.5], ["patterns", "attractors"])
        ax_b.set_xticks([4 + 9 * k for k in range(len(imgs["pattern"]))],
                        [str(r["label"]) for r in sorted(imgs["pattern"],
                                                         key=lambda r: r["index"])])
    ax_b.set_title("(b) digits: patterns, attractors")

    # (c)
    r2 = {r["protocol"]: r for r in rows if r["panel"] == "digits" and r["series"] == "r2"}
    orth = {r["what"]: r for r in rows if r["panel"] == "digits" and
            r["series"] == "orthogonality"}
    labels, vin, vout = [], [], []
    for proto, name in (("retrieval", "retrieval\n(training)"),
                        ("generalisation", "new\nexamples")):
        if proto in r2:
            labels.append(name)
            vin.append(_num(r2[proto]["r2_input"]))
            vout.append(_num(r2[proto]["r2_output"]))
    x = np.arange(len(labels))
    ax_c.bar(x - 0.2, vin, 0.4, color="0.7", label="noisy input")
    ax_c.bar(x + 0.2, vout, 0.4, color="tab:green", label="network")
    if orth:
        xo = len(labels) + 0.5
        ax_c.bar(xo - 0.2, _num(orth["patterns"]["mean_abs_cos"]), 0.4, color="0.4",
                 label="mean |cos|: patterns")
        ax_c.bar(xo + 0.2, _num(orth["attractors"]["mean_abs_cos"]), 0.4, color="tab:purple",
                 label=f"… {orth['attractors']['n_attractors']} attractors")
        x = list(x) + [xo]
        labels.append("orthogonality")
    ax_c.set_xticks(x, labels)
    ax_c.set_ylim(0, 1.45)
    ax_c.set_yticks([0, 0.25, 0.5, 0.75, 1.0])
    ax_c.set_ylabel("median R² / mean |cos|")
    ax_c.set_title("(c) digits: reconstruction, orthogonality")
    ax_c.legend(loc="upper center", ncol=2, fontsize=6.5)

    # (d)
    tr = [r for r in rows if r["panel"] == "symmetry"]
    twin = ax_d.twinx()
    for order in ORDERS:
        pts = sorted({r["presentations"] for r in tr if r["order"] == order})
        for key, axis, ls in (("eta", ax_d, "-"), ("asymmetry", twin, "--")):
            v = [[r[key] for r in tr if r["order"] == order and r["presentations"] == t]
                 for t in pts]
            v = [[_num(x) for x in a] for a in v]
            m = np.array([np.mean(a) for a in v])
            s = np.array([np.std(a) for a in v])
            axis.plot(pts, m, ls, color=ORDER_COLOR[order],
                      label=f"{order}" if key == "eta" else None)
            axis.fill_between(pts, m - s, m + s, color=ORDER_COLOR[order], alpha=0.2, lw=0)
    ax_d.set_xlabel("presentations (1 step each)")
    ax_d.set_ylabel("η̂ = corr(J_ij, J_ji)  (solid)")
    twin.set_ylabel("‖J − Jᵀ‖/‖J‖  (dashed)")
    twin.spines["right"].set_visible(True)
    ax_d.set_title("(d) symmetry vs presentation order")
    ax_d.legend(loc="center left")

    # (e)
    fr = [r for r in rows if r["panel"] == "free_run" and r["series"] == "label"]
    summ = {r["order"]: r for r in rows if r["panel"] == "free_run" and r["series"] == "summary"}
    for k, order in enumerate(ORDERS):
        pts = sorted((r["step"], r["label"]) for r in fr if r["order"] == order)
        if pts:
            t, lab = zip(*pts)
            ax_e.step(t, np.array(lab) + 4 * k, where="post", color=ORDER_COLOR[order],
                      label=f"{order}: {summ[order]['label_changes']} changes" if order in summ
                      else order)
    ax_e.set_yticks([0, 1, 2, 4, 5, 6], ["1", "2", "3", "1", "2", "3"])
    ax_e.set_ylim(-0.5, 9.0)
    ax_e.set_xlabel("step (zero bias, stochastic)")
    ax_e.set_ylabel("closest digit")
    ax_e.set_title("(e) spontaneous activity")
    if fr:
        ax_e.legend(loc="upper center", ncol=1, fontsize=6.5)

    # (f)
    sc = sorted([r for r in rows if r["panel"] == "landscape" and r["series"] == "sign_count"],
                key=lambda r: r["repeat"])
    xs = np.arange(len(sc))
    ax_f.bar(xs - 0.2, [_num(r["count"]) for r in sc], 0.4, color="tab:green",
             label="learned (exact)")
    ax_f.bar(xs + 0.2, [_num(r["expected_count"]) for r in sc], 0.4, color="0.6",
             label="random, same η̂")
    ax_f.set_yscale("log")
    ax_f.set_xticks(xs, [f"η̂={r['eta']:.2f}" for r in sc])
    ax_f.set_ylabel("fixed points of sign(J s)")
    cen = [r for r in rows if r["panel"] == "landscape" and r["series"] == "census"]
    txt = []
    for order in ORDERS:
        fr_ = {r["kind"]: r["fraction"] for r in cen if r["order"] == order}
        if fr_:
            main = max(fr_, key=fr_.get)
            txt.append(f"{order}: {main.replace('_', '-')} {fr_[main]:.0%}")
    if sc:
        top = max([r["expected_count"] or 1 for r in sc] + [r["count"] or 1 for r in sc])
        top = top if np.isfinite(top) else 1
        ax_f.set_ylim(1, top * 30)
    if txt:
        ax_f.text(0.98, 0.70, "census of L(J x), digits 1-3:\n" + "\n".join(txt),
                  transform=ax_f.transAxes, fontsize=6.5, va="top", ha="right")
    ax_f.set_title("(f) fixed points of sign(J s), N = 25")
    ax_f.legend(loc="upper left", ncol=2, fontsize=6.5)
    for r in rows:
        if r["panel"] == "missing":
            for ax in (ax_b, ax_c, ax_d, ax_e):
                ax.text(0.5, 0.5, "needs the digits data:\npip install scikit-learn",
                        transform=ax.transAxes, ha="center", va="center", fontsize=8)
    return fig
