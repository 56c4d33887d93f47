"""Figure ``attractors``: the attractor landscape of rate networks (:mod:`fplandscape.attractors`).

(a) A demonstration network ``x ← tanh(W x)`` of N = 50 units whose couplings are two
stored ±1 patterns plus random couplings, ``W = (a/N) Σ_μ ξ^μ ξ^μᵀ + g_r G`` (G standard
normal / √N; a = 2, g_r = 0.3): its fixed points (:func:`fplandscape.attractors.find_fixed_points`) in the
plane of the first two principal components of trajectory samples and the fixed points; stable
points filled, unstable ones open, coloured by the number of unstable directions (|λ| > 1),
with arrows along the leading unstable eigenvectors (real part, both signs, projected) and
sample trajectories from random starts (grey). tanh is odd and W has no bias, so −x* is a fixed
point whenever x* is: the multistart list is completed by that symmetry. The typical landscape:
the four stable states ±ξ¹, ±ξ², four saddles with one unstable direction between neighbouring
stable states (the mixture states) and the origin, a saddle with two.

(b) Census (:func:`fplandscape.attractors.census`) of random networks ``x ← tanh(g G x)``
(G standard normal / √N; network ν has the same G at every gain g): basin-weighted fractions of
fixed points, cycles, tori (quasi-periodic), chaos (and divergence, never seen for bounded
tanh) vs g, averaged over the networks, with g = 1 marked (for g‖G‖₂ < 1 the map is a
contraction and the origin the only, globally stable fixed point; the origin loses stability at
g = 1/ρ(G) → 1 as N → ∞, and the large-N theory puts the onset of chaos there). At finite N
a network whose leading eigenvalue is real gains a pair of stable fixed points there
(pitchfork) that can persist well above g = 1; a complex pair gives a torus instead.
(c) The basin-weighted mean largest Lyapunov exponent (per step) vs g, mean ± SE over networks.

Seeds: the demonstration network uses ``SeedSequence(seed, spawn_key=(0, attempt))`` (the first
attempt with more than 3 fixed points, at least 2 stable and 1 saddle is shown; normally the
first), its starts and trajectories ``(0, attempt, 1)``, ``(0, attempt, 2)``; network ν of the
census ``(1, ν)`` (:func:`census_couplings`) and the census at gain i of network ν ``(2, i, ν)``.
"""
from __future__ import annotations

import numpy as np

from .. import parallel
from ..provenance import run_info
from ..stats import mean_se
from .common import parallel_options
from .style import STYLE

NAME = "attractors"
TITLE = "Attractor landscape of rate networks: fixed points and saddles; census vs gain"

KINDS = ("fixed_point", "periodic", "quasi_periodic", "chaotic", "divergent")
KIND_LABEL = {"fixed_point": "fixed point", "periodic": "periodic", "quasi_periodic":
              "quasi-periodic", "chaotic": "chaotic", "divergent": "divergent"}
KIND_COLOR = {"fixed_point": "tab:blue", "periodic": "tab:green",
              "quasi_periodic": "tab:orange", "chaotic": "tab:red", "divergent": "0.5"}
UNSTABLE_COLOR = ("tab:blue", "tab:orange", "tab:red", "tab:purple", "tab:brown")
MAX_ATTEMPTS = 8  # demonstration networks tried before keeping the last one


def parameters(quick: bool = False) -> dict:
    demo = {"n": 50, "patterns": 2, "strength": 2.0, "noise": 0.3,
            "starts": 1024 if quick else 2048, "trajectories": 8, "pca_starts": 64,
            "steps": 40, "directions": 2, "arrow": 0.3}
    if quick:
        cen = {"n": 40, "gains": [0.5, 0.9, 1.1, 1.5, 2.0, 3.0], "samples": 1, "starts": 20,
               "steps": 1000, "transient": 500, "k": 3}
    else:
        cen = {"n": 100, "gains": [0.5, 0.7, 0.9, 1.0, 1.1, 1.25, 1.5, 1.75, 2.0, 2.25, 2.5, 3.0],
               "samples": 3, "starts": 50, "steps": None, "transient": None, "k": 3}
    return {"demo": demo, "census": cen}


# -- (a) the demonstration network ----------------------------------------------------------

def demo_couplings(seed: int, n: int, patterns: int, strength: float, noise: float,
                   attempt: int = 0):
    """``(W, ξ)`` of the demonstration network: ``W = (a/N) ξᵀξ + g_r G`` (module docstring)."""
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(0, attempt)))
    xi = np.where(rng.random((patterns, n)) < 0.5, -1.0, 1.0)
    G = rng.standard_normal((n, n)) / np.sqrt(n)
    return strength / n * (xi.T @ xi) + noise * G, xi


def _odd_completion(system, fp, seed_seq, workers):
    """The fixed points of ``fp`` and their negations (exact for odd φ without bias), re-polished
    and classified by one more :func:`find_fixed_points` from those states."""
    from ..attractors import find_fixed_points

    if len(fp) == 0:
        return fp
    S = np.concatenate([fp.states, -fp.states])
    return find_fixed_points(system, starts=S, seed=seed_seq, workers=workers)


def _group(stable: bool, n_unstable: int, label: str, n: int) -> str:
    if stable:
        return "stable"
    if label == "marginal":
        return "marginal"
    return "unstable node" if n_unstable == n else f"saddle-{n_unstable}"


def _trajectories(system, X0, steps):
    """States of ``steps`` iterations from each row of X0: (B, steps + 1, N)."""
    out = np.empty((X0.shape[0], steps + 1, X0.shape[1]))
    out[:, 0] = X = X0
    for t in range(steps):
        X = system.rhs(X)
        out[:, t + 1] = X
    return out


def _demo_rows(seed: int, p: dict, options: dict) -> list:
    from ..attractors import RateMap, find_fixed_points

    par = parallel_options(options)
    workers = par.get("workers", 1)
    n = p["n"]
    for attempt in range(MAX_ATTEMPTS):
        W, xi = demo_couplings(seed, n, p["patterns"], p["strength"], p["noise"], attempt)
        system = RateMap(W)
        ss = np.random.SeedSequence(seed, spawn_key=(0, attempt, 1))
        first = find_fixed_points(system, p["starts"], seed=ss, **par)
        fp = _odd_completion(system, first, ss, workers)
        n_saddle = int(np.sum(~fp.stable & (fp.n_unstable > 0) & (fp.n_unstable < n)))
        ok = len(fp) > 3 and int(fp.stable.sum()) >= 2 and n_saddle >= 1
        if ok:
            break
    # trajectories from uniform starts in the box: the PCA basis from `pca_starts` of them
    # (plus the fixed points), `trajectories` of them drawn (see below)
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(0, attempt, 2)))
    m = max(p["pca_starts"], p["trajectories"])
    T = _trajectories(system, rng.uniform(-1.0, 1.0, (m, n)), p["steps"])
    data = np.concatenate([T.reshape(-1, n), fp.states])
    mean = data.mean(axis=0)
    _, sv, Vt = np.linalg.svd(data - mean, full_matrices=False)
    basis = Vt[:2]
    basis *= np.where(basis[np.arange(2), np.abs(basis).argmax(axis=1)] < 0, -1.0, 1.0)[:, None]
    var = sv**2 / np.sum(sv**2)

    def proj(X):
        return (np.atleast_2d(X) - mean) @ basis.T

    base = dict(seed=seed, panel="landscape", n=n, patterns=p["patterns"],
                strength=p["strength"], noise=p["noise"], attempt=attempt)
    rows = [run_info(**base, series="pca", pc1_variance=float(var[0]),
                     pc2_variance=float(var[1]), pca_points=int(data.shape[0]),
                     n_fixed_points=len(fp), n_stable=int(fp.stable.sum()),
                     n_saddles=n_saddle, criterion_met=bool(ok), starts=p["starts"],
                     multistart_fixed_points=len(first),
                     unconverged_starts=first.params.get("unconverged_starts"))]
    P = proj(fp.states) if len(fp) else np.zeros((0, 2))
    J = system.jacobian(fp.states) if len(fp) else np.zeros((0, n, n))
    scale = p["arrow"] * float(np.max(np.linalg.norm(fp.states, axis=1))) if len(fp) else 0.0
    for i in range(len(fp)):
        grp = _group(bool(fp.stable[i]), int(fp.n_unstable[i]), fp.labels[i], n)
        overlaps = (xi @ fp.states[i]) / n
        rows.append(run_info(**base, series="fixed_point", index=i, pc1=float(P[i, 0]),
                             pc2=float(P[i, 1]), stable=bool(fp.stable[i]),
                             n_unstable=int(fp.n_unstable[i]), label=fp.labels[i], group=grp,
                             norm=float(np.linalg.norm(fp.states[i])),
                             leading_modulus=float(np.abs(fp.eigenvalues[i, 0])),
                             residual=float(fp.residuals[i]),
                             overlaps=[round(float(o), 6) for o in overlaps]))
        if fp.n_unstable[i] == 0:
            continue
        lam, vec = np.linalg.eig(J[i])
        taken: list = []
        for j in np.argsort(-np.abs(lam), kind="stable"):
            if abs(lam[j]) <= 1.0 or len(taken) >= p["directions"]:
                break
            if lam[j].imag != 0 and any(abs(lam[j] - np.conj(t)) <= 1e-9 * abs(t) for t in taken):
                continue  # the conjugate of a drawn direction: same real part
            v = vec[:, j].real
            v = v / np.linalg.norm(v)
            for sign in (1.0, -1.0):
                end = proj(fp.states[i] + sign * scale * v)[0]
                rows.append(run_info(**base, series="unstable_direction", index=i,
                                     direction=len(taken), sign=int(sign),
                                     n_unstable=int(fp.n_unstable[i]), group=grp,
                                     pc1=float(P[i, 0]), pc2=float(P[i, 1]),
                                     pc1_end=float(end[0]), pc2_end=float(end[1]),
                                     eigenvalue_modulus=float(abs(lam[j])), length=scale))
            taken.append(lam[j])
    # the drawn trajectories: round-robin over the fixed points they end on, so that every
    # attractor reached by the sampled starts gets one (in the order of the starts)
    ends = np.abs(T[:, -1][:, None, :] - fp.states[None]).max(axis=2).argmin(axis=1) \
        if len(fp) else np.zeros(m, dtype=int)
    by_end: dict = {}
    for k in range(m):
        by_end.setdefault(int(ends[k]), []).append(k)
    chosen: list = []
    while len(chosen) < min(p["trajectories"], m):
        for lst in by_end.values():
            if lst and len(chosen) < p["trajectories"]:
                chosen.append(lst.pop(0))
    for k in chosen:
        Y = proj(T[k])
        # drop the tail once the trajectory has settled (no visible motion)
        move = np.abs(np.diff(T[k], axis=0)).max(axis=1)
        last = int(np.flatnonzero(move > 1e-4)[-1]) + 2 if np.any(move > 1e-4) else 1
        for t in range(min(last, Y.shape[0])):
            rows.append(run_info(**base, series="trajectory", trajectory=k, step=t,
                                 end_index=int(ends[k]), pc1=float(Y[t, 0]),
                                 pc2=float(Y[t, 1])))
    return rows


# -- (b) census vs gain ----------------------------------------------------------------------

def census_couplings(seed: int, n: int, network: int) -> np.ndarray:
    """G = randn(N, N)/√N of census network ``network`` (the same at every gain)."""
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(1, network)))
    return rng.standard_normal((n, n)) / np.sqrt(n)


def _census_task(seed, i, g, network, n, starts, steps, transient, k):
    """Census of ``tanh(g G x)`` for one (gain, network): fractions per kind, the basin-weighted
    largest Lyapunov exponent, the attractor count and the norms of G."""
    import time

    from ..attractors import RateMap, census
    from ..blas import single_thread

    t0 = time.perf_counter()
    with single_thread():
        G = census_couplings(seed, n, network)
        ss = np.random.SeedSequence(seed, spawn_key=(2, i, network))
        c = census(RateMap(g * G), starts, seed=ss, steps=steps, transient=transient, k=k,
                   workers=1)
        fr = c.fractions()
        w = lam = se2 = 0.0
        for a in c.attractors:
            if a.kind != "divergent" and a.lyapunov.size and np.isfinite(a.lyapunov[0]):
                w += a.basin
                lam += a.basin * float(a.lyapunov[0])
                if a.lyapunov_se is not None and a.lyapunov_se.size:
                    se2 += (a.basin * float(a.lyapunov_se[0])) ** 2
        norm2 = float(np.linalg.norm(G, 2))
        rho = float(np.max(np.abs(np.linalg.eigvals(G))))
    return {"fractions": {kk: float(fr.get(kk, 0.0)) for kk in KINDS},
            "lambda_max": lam / w if w > 0 else None,
            "lambda_max_se": float(np.sqrt(se2)) / w if w > 0 else None,
            "attractors": len(c.attractors), "unresolved": int(c.params.get("unresolved", 0)),
            "steps": int(c.params["steps"]), "transient": int(c.params["transient"]),
            "spectral_norm": norm2, "spectral_radius": rho,
            "seconds": time.perf_counter() - t0}


def _census_rows(seed: int, p: dict, options: dict) -> list:
    gains = [float(g) for g in p["gains"]]
    nets = int(p["samples"])
    tasks = [(seed, i, g, v, p["n"], p["starts"], p["steps"], p["transient"], p["k"])
             for i, g in enumerate(gains) for v in range(nets)]
    # expensive (chaotic, large-g) tasks first, so the workers finish together
    order = sorted(range(len(tasks)), key=lambda t: -tasks[t][2])
    ck = parallel.open_checkpoint(options.get("checkpoint"), "figure-attractors-census",
                                  {"seed": seed, **p},
                                  len(tasks), resume=bool(options.get("resume")))
    res = parallel.run_tasks(_census_task, [tasks[t] for t in order],
                             workers=options.get("workers"), scheduler=options.get("scheduler"),
                             progress=options.get("progress"), desc="attractor census",
                             checkpoint=ck, backend="processes")
    if ck is not None:
        ck.finish()
    out = [None] * len(tasks)
    for t, r in zip(order, res):
        out[t] = r
    base = dict(seed=seed, panel="census", n=p["n"], starts=p["starts"], samples=nets)
    rows = []
    for i, g in enumerate(gains):
        rr = out[i * nets:(i + 1) * nets]
        for v, r in enumerate(rr):
            rows.append(run_info(**base, series="network", g=g, network=v,
                                 **{f"fraction_{kk}": r["fractions"][kk] for kk in KINDS},
                                 lambda_max=r["lambda_max"], lambda_max_se=r["lambda_max_se"],
                                 attractors=r["attractors"], unresolved=r["unresolved"],
                                 steps=r["steps"], transient=r["transient"],
                                 spectral_norm=r["spectral_norm"],
                                 spectral_radius=r["spectral_radius"], seconds=r["seconds"]))
        for kk in KINDS:
            fraction, fraction_se = mean_se([r["fractions"][kk] for r in rr])
            rows.append(run_info(**base, series="fraction", g=g, kind=kk,
                                 fraction=fraction, fraction_se=fraction_se))
        lam = [r["lambda_max"] for r in rr if r["lambda_max"] is not None]
        lam_mean, se = mean_se(lam)
        if len(lam) == 1:  # one network: its own (census) standard error
            se = [r["lambda_max_se"] for r in rr if r["lambda_max"] is not None][0]
        rows.append(run_info(**base, series="lyapunov", g=g,
                             lambda_max=lam_mean, lambda_max_se=se, count=len(lam),
                             spectral_radius=float(np.mean([r["spectral_radius"] for r in rr]))))
    return rows


def compute(quick: bool = False, seed: int = 0, params=None, **options) -> list:
    p = params or parameters(quick)
    return _demo_rows(seed, p["demo"], options) + _census_rows(seed, p["census"], options)


# -- drawing ---------------------------------------------------------------------------------

def _num(v):
    return None if v is None or v == "" else float(v)


def _draw_landscape(ax, rows):
    from matplotlib.lines import Line2D

    land = [r for r in rows if r.get("panel") == "landscape"]
    for k in sorted({r["trajectory"] for r in land if r["series"] == "trajectory"}):
        tr = sorted((r for r in land if r["series"] == "trajectory" and r["trajectory"] == k),
                    key=lambda r: r["step"])
        x, y = [_num(r["pc1"]) for r in tr], [_num(r["pc2"]) for r in tr]
        ax.plot(x, y, "-", color="0.6", lw=0.7, zorder=1)
        ax.plot(x[:1], y[:1], ".", color="0.45", ms=3, zorder=1)
    for r in land:
        if r["series"] != "unstable_direction":
            continue
        c = UNSTABLE_COLOR[min(int(r["n_unstable"]), len(UNSTABLE_COLOR) - 1)]
        ax.annotate("", xy=(_num(r["pc1_end"]), _num(r["pc2_end"])),
                    xytext=(_num(r["pc1"]), _num(r["pc2"])), zorder=2,
                    arrowprops=dict(arrowstyle="-|>", color=c, lw=1.0, mutation_scale=7,
                                    shrinkA=0, shrinkB=0))
    fps = [r for r in land if r["series"] == "fixed_point"]
    groups: dict = {}
    for r in fps:
        groups.setdefault((int(r["n_unstable"]), r["group"]), []).append(r)
    handles = []
    for (k, grp), rr in sorted(groups.items()):
        c = UNSTABLE_COLOR[min(k, len(UNSTABLE_COLOR) - 1)]
        stable = bool(rr[0]["stable"])
        ax.plot([_num(r["pc1"]) for r in rr], [_num(r["pc2"]) for r in rr], "o", ms=6,
                color=c, mfc=c if stable else "white", mew=1.4, zorder=3, ls="none")
        handles.append(Line2D([], [], marker="o", ms=6, color=c, mfc=c if stable else "white",
                              mew=1.4, ls="none", label=f"{grp} ({len(rr)})"))
    handles.append(Line2D([], [], color="0.6", lw=0.7, marker=".", ms=3, mfc="0.45",
                          mec="0.45", markevery=[0], label="trajectories (• start)"))
    if any(r["series"] == "unstable_direction" for r in land):
        handles.append(Line2D([], [], color="k", lw=1.0, marker=">", ms=3, markevery=[1],
                              label="unstable eigenvectors"))
    pts = [(_num(r["pc1"]), _num(r["pc2"])) for r in land if r["series"] != "pca"] + \
        [(_num(r["pc1_end"]), _num(r["pc2_end"])) for r in land
         if r["series"] == "unstable_direction"]
    if pts:
        xs, ys = zip(*pts)
        half = 0.55 * max(max(xs) - min(xs), max(ys) - min(ys))
        cx, cy = 0.5 * (max(xs) + min(xs)), 0.5 * (max(ys) + min(ys))
        ax.set_xlim(cx - half, cx + half)
        ax.set_ylim(cy - half, cy + half)
    ax.set_aspect("equal", adjustable="box")
    pca = [r for r in land if r["series"] == "pca"]
    if pca:
        q = pca[0]
        ax.set_xlabel(f"PC 1 ({100 * _num(q['pc1_variance']):.0f}% of variance)")
        ax.set_ylabel(f"PC 2 ({100 * _num(q['pc2_variance']):.0f}% of variance)")
        ax.set_title(f"(a) fixed points of $x \\leftarrow \\tanh(Wx)$, N = {q['n']}:\n"
                     f"$W = ({_num(q['strength']):g}/N)\\sum_{{\\mu=1}}^{{{q['patterns']}}}"
                     f"\\xi^\\mu\\xi^{{\\mu\\top}} + {_num(q['noise']):g}\\,G$", fontsize=8.5)
    else:
        ax.set_xlabel("PC 1")
        ax.set_ylabel("PC 2")
        ax.set_title("(a) fixed points")
    ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=3,
              fontsize=6.5, handletextpad=0.5, columnspacing=1.0)


def _edges(gains, pad: float = 0.1):
    """Bin edges around sorted gains: the midpoints, and the outer edges at most ``pad``
    beyond the outer gains."""
    g = np.asarray(gains, dtype=float)
    if g.size == 1:
        return np.array([g[0] - pad, g[0] + pad])
    mid = 0.5 * (g[1:] + g[:-1])
    return np.concatenate([[g[0] - min(mid[0] - g[0], pad)], mid,
                           [g[-1] + min(g[-1] - mid[-1], pad)]])


def _draw_census(ax, axl, rows):
    from matplotlib.lines import Line2D

    cen = [r for r in rows if r.get("panel") == "census"]
    fr = [r for r in cen if r["series"] == "fraction"]
    gains = sorted({_num(r["g"]) for r in fr})
    by = {(_num(r["g"]), r["kind"]): _num(r["fraction"]) or 0.0 for r in fr}
    edges = _edges(gains) if gains else np.array([0.5, 3.0])
    lower = np.zeros(len(gains))
    for kind in KINDS:
        f = np.array([by.get((g, kind), 0.0) for g in gains])
        if not np.any(f > 0):
            continue
        ax.stairs(lower + f, edges, baseline=lower, fill=True, color=KIND_COLOR[kind],
                  alpha=0.8, lw=0, label=KIND_LABEL[kind])
        lower = lower + f
    for a in (ax, axl):
        a.axvline(1.0, color="k", ls="--", lw=0.9)
    nets = [r for r in cen if r["series"] == "network"]
    info = ""
    if nets:
        k = int(nets[0]["samples"])
        info = (f"N = {nets[0]['n']}, {k} network{'s' if k > 1 else ''} × "
                f"{nets[0]['starts']} starts")
    ax.set_ylim(0, 1)
    ax.set_xlim(edges[0], edges[-1])
    ax.set_xticks(gains, minor=True)
    ax.set_xticks(np.arange(np.ceil(2 * edges[0]) / 2, edges[-1] + 1e-9, 0.5))
    ax.tick_params(axis="x", which="minor", length=2.5)
    ax.set_ylabel("mean basin fraction")
    ax.set_title(f"(b) census of $x \\leftarrow \\tanh(gGx)$: {info}", fontsize=8.5)
    handles, _ = ax.get_legend_handles_labels()
    handles.append(Line2D([], [], color="k", ls="--", lw=0.9, label="g = 1 (chaos, N → ∞)"))
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=6.5)
    ly = sorted((r for r in cen if r["series"] == "lyapunov" and r["lambda_max"] is not None),
                key=lambda r: _num(r["g"]))
    if ly:
        axl.errorbar([_num(r["g"]) for r in ly], [_num(r["lambda_max"]) for r in ly],
                     yerr=[_num(r["lambda_max_se"]) or 0.0 for r in ly], fmt="o-", ms=3,
                     color="k", capsize=2, lw=1.0, label="census (mean ± SE)")
    rho = sorted({(r["network"], _num(r["spectral_radius"])) for r in nets})
    if rho:
        # the origin's exponent ln(g ρ(G)), mean over the networks, while it is stable for all
        top = 1.0 / max(v for _, v in rho)
        gg = np.linspace(edges[0], min(top, edges[-1]), 50)
        axl.plot(gg, np.mean([np.log(gg * v) for _, v in rho], axis=0), ":",
                 color="tab:blue", lw=1.4, label="origin: ln(g ρ(G))")
    axl.axhline(0.0, color="0.5", lw=0.8)
    axl.set_xlabel("gain g")
    axl.set_ylabel("$\\lambda_1$ (per step)")
    axl.set_title("(c) largest Lyapunov exponent (basin-weighted)", fontsize=8.5)
    axl.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=6.5)


def plot(rows: list):
    import matplotlib
    from matplotlib.figure import Figure

    with matplotlib.rc_context(STYLE):
        fig = Figure(figsize=(7.6, 4.4), layout="constrained")
        axd = fig.subplot_mosaic([["a", "b"], ["a", "c"]], width_ratios=[1.1, 1.0],
                                 height_ratios=[1.25, 1.0])
        axd["c"].sharex(axd["b"])
        _draw_landscape(axd["a"], rows)
        _draw_census(axd["b"], axd["c"], rows)
    fig._fpl_style = STYLE
    return fig
