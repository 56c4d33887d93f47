"""The reference's simulations and the attractor analysis of a learned network, as JSON-able
dictionaries (used by ``fplandscape fep`` and the figure ``fep``).

* :func:`demo` — notebook 03: two correlated 5 × 5 patterns (r = 0.77), evidence 30, β = 0.1,
  learning rate 0.01, 500 presentations × 10 stochastic steps in random order; attractors by
  deterministic relaxation at β = 1 and zero bias from the starts L(0.1 · pattern)
  (``get_deterministic_attractors``, ``simulation/utils.py`` l. 235–276: max 1000 steps,
  tol 1e-12). :func:`demo_sweep` runs the same for a grid of learning rates and inverse
  temperatures as one batch of networks.
* :func:`sequence` — notebook 05: the digits 1, 2, 3 (preprocessed), evidence 20, 2000
  presentations of one step, β = 1, learning rate 0.001, fixed cyclic (or random) order;
  symmetry of J over training time and the spontaneous (zero-bias) activity afterwards.
* :func:`digits` — notebook 04: one example of each digit class, retrieval of noisy training
  examples and reconstruction of noisy new ones (the reference's R² protocol,
  ``evaluate_reconstruction_accuracy`` l. 167–224, except that every trial starts from σ = 0
  where the reference carries the network's state over from the previous trial), attractors
  and their orthogonality.
* :func:`analyse` — a learned J through :mod:`fplandscape.attractors`: fixed points and census
  of x ← L(β (J x + b)), the symmetry diagnostics and, for N ≤ ``exact_max_n``, the exact
  number of fixed points of the sign version beside the random-matrix prediction at the same η̂.

Seeds: every function takes an integer ``seed``; network k of a batch gets
``SeedSequence(seed, spawn_key=(...))`` as documented per function.
"""
from __future__ import annotations

import time
from typing import Optional

import numpy as np

from ..._version import __version__
from ...errors import InputError, check_count, check_positive
from ...model import check_int_seed
from . import cb
from .data import demo_patterns, digit_patterns, load_digits, preprocess_digits
from .network import FEPNetwork

__all__ = ["DEMO", "SEQUENCE", "DIGITS", "demo", "demo_sweep", "sequence", "digits",
           "analyse", "pattern_attractors", "n_distinct", "angle_deviation", "correlation"]

#: the demonstration's parameters (notebook 03)
DEMO = {"evidence": 30.0, "beta": 0.1, "learning_rate": 0.01, "presentations": 500,
        "steps": 10, "relax_beta": 1.0, "start_scale": 0.1, "max_steps": 1000, "tol": 1e-12}
#: the sequence simulation's parameters (notebook 05)
SEQUENCE = {"classes": (1, 2, 3), "evidence": 20.0, "beta": 1.0, "learning_rate": 0.001,
            "presentations": 2000, "steps": 1, "free_steps": 100}
#: the digits simulation's balanced regime (notebook 04, its fig. D: evidence 11, β = 0.1668)
DIGITS = {"classes": tuple(range(10)), "evidence": 11.0, "beta": 0.1668,
          "learning_rate": 0.001, "presentations": 5000, "steps": 10, "relax_beta": 1.0,
          "start_scale": 0.1, "max_steps": 1000, "tol": 1e-12,
          "retrieval": {"trials": 100, "steps": 100, "signal": 0.1, "snr": 1.0, "beta": 1.0},
          "generalisation": {"trials": 100, "steps": 100, "signal": 0.2, "snr": 1.0,
                             "beta": 0.5}}


def _seq(seed, *key):
    return np.random.SeedSequence(check_int_seed(seed), spawn_key=tuple(int(k) for k in key))


def correlation(a, b) -> float:
    """Pearson correlation of two vectors (NaN when one is constant)."""
    a = np.asarray(a, dtype=np.float64).ravel()
    b = np.asarray(b, dtype=np.float64).ravel()
    da, db = a - a.mean(), b - b.mean()
    den = np.sqrt(np.dot(da, da) * np.dot(db, db))
    return float(np.dot(da, db) / den) if den > 0 else float("nan")


def n_distinct(states, decimals: int = 2) -> int:
    """Number of distinct rows after rounding to ``decimals`` (the reference's count,
    ``performance_metrics`` l. 368)."""
    S = np.atleast_2d(np.asarray(states, dtype=np.float64))
    return int(len(np.unique(np.round(S, decimals), axis=0)))


def angle_deviation(X, *, drop_duplicates: bool = False, diagonal: bool = False) -> float:
    """Mean |90° − angle| over the ordered pairs a ≠ b of rows of X (the reference's
    orthogonality measure in degrees, ``performance_metrics`` l. 370–377; with
    ``drop_duplicates`` the angles below 1° or above 179° — the same attractor reached twice —
    are left out, as it does for attractors). ``diagonal=True`` reproduces the reference's
    number for the *patterns*, whose mean also runs over the k zero entries a = b (each
    counting 90°): its 29.94° for the ten digits is 23.26° off the diagonal. NaN with fewer
    than two rows left."""
    X = np.atleast_2d(np.asarray(X, dtype=np.float64))
    norms = np.linalg.norm(X, axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        C = (X @ X.T) / np.outer(norms, norms)
    ang = np.degrees(np.arccos(np.clip(C, -1.0, 1.0)))
    vals = ang[~np.eye(len(X), dtype=bool)]
    vals = vals[np.isfinite(vals)]
    if drop_duplicates:
        vals = vals[(vals > 1.0) & (vals < 179.0)]
    if diagonal:
        vals = np.concatenate([vals, np.zeros(len(X))])
    return float(np.mean(np.abs(90.0 - vals))) if vals.size else float("nan")


def pattern_attractors(net: FEPNetwork, patterns, *, start_scale=0.1, beta=1.0,
                       max_steps=1000, tol=1e-12, noise=0.0, seed=0):
    """Relax deterministically from ``L(start_scale · x (+ noise))`` for each pattern x, zero
    bias (the reference's ``get_deterministic_attractors``; noise: N(0, (0.1·noise·std x)²)
    per pixel, drawn from ``default_rng(seed)``). Returns the
    :class:`~fplandscape.learn.fep.RelaxResult`."""
    X = np.atleast_2d(np.asarray(patterns, dtype=np.float64))
    starts = start_scale * X
    if noise:
        rng = np.random.default_rng(seed)
        starts = starts + rng.normal(0.0, 1.0, X.shape) * (0.1 * noise * X.std(axis=1,
                                                                                keepdims=True))
    return net.relax(cb.langevin(starts), b=0.0, beta=beta, max_steps=max_steps, tol=tol)


def _summary(r, seconds, seed, params, **extra) -> dict:
    out = {"version": __version__, "seed": seed}
    out.update(r)
    out.update(extra)
    out["params"] = params
    out["seconds"] = seconds
    return out


# --------------------------------------------------------------------------------------------
# demonstration


def demo(seed: int = 0, order: str = "random", *, patterns=None, progress=False,
         **overrides) -> dict:
    """The two-pattern demonstration (module docstring; ``overrides`` replace entries of
    :data:`DEMO`). The network uses ``default_rng(SeedSequence(seed, spawn_key=(0,)))``.

    Returns ``pattern_correlation`` (of the training patterns), ``attractor_correlation`` (of
    the two attractors reached from them), ``n_attractors`` (distinct after rounding to 0.01),
    ``eta`` (corr(J_ij, J_ji)), ``asymmetry`` (‖J − Jᵀ‖/‖J‖), ``converged``, ``relax_steps``,
    ``attractors``, ``orthogonality`` (mean |cos| of the attractors), ``J`` (the couplings, a
    nested list), ``seconds`` (training and relaxation)."""
    t0 = time.perf_counter()
    p = _params(DEMO, overrides)
    X = demo_patterns() if patterns is None else np.atleast_2d(np.asarray(patterns, float))
    net = FEPNetwork.zeros(X.shape[1], seed=np.random.default_rng(_seq(seed, 0)))
    net.train(X, presentations=p["presentations"], steps=p["steps"],
              learning_rate=p["learning_rate"], beta=p["beta"], evidence=p["evidence"],
              order=order, progress=progress)
    rel = pattern_attractors(net, X, start_scale=p["start_scale"], beta=p["relax_beta"],
                             max_steps=p["max_steps"], tol=p["tol"])
    A = rel.states
    sym = net.symmetry()
    res = {"pattern_correlation": correlation(X[0], X[1]) if len(X) == 2 else
           float(np.mean(_offdiag_corr(X))),
           "attractor_correlation": correlation(A[0], A[1]) if len(A) == 2 else
           float(np.mean(_offdiag_corr(A))),
           "n_attractors": n_distinct(A), "eta": sym["eta"], "asymmetry": sym["asymmetry"],
           "converged": rel.converged.tolist(), "relax_steps": rel.steps.tolist(),
           "orthogonality": _mean_abs_cos(A), "attractors": A.tolist(),
           "J": net.J.tolist()}
    return _summary(res, time.perf_counter() - t0, seed, dict(p, order=order))


def _offdiag_corr(X):
    C = np.corrcoef(X)
    return C[np.triu_indices(len(X), 1)]


def _mean_abs_cos(X) -> float:
    X = np.atleast_2d(X)
    if len(X) < 2:
        return float("nan")
    n = np.linalg.norm(X, axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        C = (X @ X.T) / np.outer(n, n)
    v = np.abs(C[np.triu_indices(len(X), 1)])
    v = v[np.isfinite(v)]
    return float(v.mean()) if v.size else float("nan")


def _params(defaults, overrides) -> dict:
    unknown = set(overrides) - set(defaults)
    if unknown:
        raise InputError(f"unknown parameter(s) {', '.join(sorted(unknown))}; known: "
                         f"{', '.join(defaults)}")
    p = dict(defaults)
    p.update(overrides)
    return p


def demo_sweep(learning_rates, betas, repeats: int = 3, seed: int = 0, *, order="random",
               presentations: Optional[int] = None, progress=False) -> list:
    """The demonstration for every (learning rate α_i, inverse temperature β_j, repeat r), all
    trained at once as one batch of networks (network (i, j, r) uses
    ``SeedSequence(seed, spawn_key=(1, i, j, r))``). One row per network: ``learning_rate``,
    ``beta``, ``repeat``, ``pattern_correlation``, ``attractor_correlation``, ``n_attractors``,
    ``eta``, ``asymmetry``, ``converged``."""
    lrs = [float(v) for v in np.atleast_1d(learning_rates)]
    bts = [check_positive(float(v), "beta") for v in np.atleast_1d(betas)]
    repeats = check_count(repeats, "repeats", minimum=1, maximum=10_000)
    keys = [(i, j, r) for i in range(len(lrs)) for j in range(len(bts)) for r in range(repeats)]
    X = demo_patterns()
    p = dict(DEMO)
    if presentations is not None:
        p["presentations"] = presentations
    net = FEPNetwork.zeros(X.shape[1], batch=len(keys),
                           seed=[np.random.default_rng(_seq(seed, 1, *k)) for k in keys])
    net.train(X, presentations=p["presentations"], steps=p["steps"],
              learning_rate=[lrs[i] for i, _, _ in keys], beta=[bts[j] for _, j, _ in keys],
              evidence=p["evidence"], order=order, progress=progress)
    rel = net.relax(cb.langevin(p["start_scale"] * X), b=0.0, beta=p["relax_beta"],
                    max_steps=p["max_steps"], tol=p["tol"])
    sym = net.symmetry()
    rows = []
    rX = correlation(X[0], X[1])
    for k, (i, j, r) in enumerate(keys):
        A = rel.states[k]
        rows.append({"learning_rate": lrs[i], "beta": bts[j], "repeat": r,
                     "pattern_correlation": rX, "attractor_correlation": correlation(A[0], A[1]),
                     "n_attractors": n_distinct(A), "eta": float(sym["eta"][k]),
                     "asymmetry": float(sym["asymmetry"][k]),
                     "converged": bool(rel.converged[k].all())})
    return rows


# --------------------------------------------------------------------------------------------
# sequence learning


def sequence(seed: int = 0, order: str = "sequential", *, patterns=None, digits_path=None,
             snapshots: int = 0, free_run: bool = True, progress=False,
             **overrides) -> dict:
    """The sequence simulation (module docstring; ``overrides`` replace entries of
    :data:`SEQUENCE`); network ``default_rng(SeedSequence(seed, spawn_key=(2,)))``.

    ``order``: "sequential" (1 → 2 → 3 → 1 …, the reference) or "random". Returns ``eta``,
    ``asymmetry``, with ``snapshots`` > 0 their values at that many equally spaced training
    times (``trace``), and with ``free_run`` the spontaneous activity at zero bias
    (``free_steps`` stochastic steps at β): the pattern each step resembles most
    (``free_run_labels``, the class with the largest correlation) and the fraction of
    label changes that go forward along the training cycle (``forward_fraction``)."""
    t0 = time.perf_counter()
    p = _params(SEQUENCE, overrides)
    X = digit_patterns(p["classes"], digits_path) if patterns is None else \
        np.atleast_2d(np.asarray(patterns, dtype=np.float64))
    P = X.shape[0]
    T = check_count(p["presentations"], "presentations", minimum=1)
    net = FEPNetwork.zeros(X.shape[1], seed=np.random.default_rng(_seq(seed, 2)))
    if order not in ("sequential", "random"):
        raise InputError(f"order must be 'sequential' or 'random', got {order!r}")
    rng_order = net._rngs[0]
    idx = np.arange(T) % P if order == "sequential" else rng_order.integers(0, P, size=T)
    bounds = [T] if not snapshots else \
        sorted({int(round(T * (k + 1) / snapshots)) for k in range(snapshots)})
    trace, start = [], 0
    for stop in bounds:
        net.train(X, order=idx[start:stop], steps=p["steps"], learning_rate=p["learning_rate"],
                  beta=p["beta"], evidence=p["evidence"], progress=progress)
        start = stop
        s = net.symmetry()
        trace.append({"presentations": stop, "eta": s["eta"], "asymmetry": s["asymmetry"]})
    sym = net.symmetry()
    res = {"eta": sym["eta"], "asymmetry": sym["asymmetry"]}
    if snapshots:
        res["trace"] = trace
    if free_run:
        labels = []
        for _ in range(int(p["free_steps"])):
            s = net.step(p["beta"], stochastic=True, b=0.0)
            labels.append(int(np.argmax([correlation(s, x) for x in X])))
        res["free_run_labels"] = labels
        changes = [(a, b) for a, b in zip(labels, labels[1:]) if a != b]
        fwd = sum(1 for a, b in changes if b == (a + 1) % P)
        res["label_changes"] = len(changes)
        res["forward_fraction"] = fwd / len(changes) if changes else float("nan")
    res["J"] = net.J.tolist()
    return _summary(res, time.perf_counter() - t0, seed,
                    dict(p, order=order, classes=list(p["classes"])))


# --------------------------------------------------------------------------------------------
# digits: retrieval, generalisation, orthogonality


def _reconstruction(J, targets, inputs, beta, steps, seed_seq):
    """Mean stochastic activity over ``steps`` steps at biases ``inputs`` (one network per
    row, from σ = 0, no learning) and the R² of input and output against ``targets``."""
    B = len(inputs)
    net = FEPNetwork(np.broadcast_to(J, (B,) + J.shape),
                     seed=[np.random.default_rng(c) for c in seed_seq.spawn(B)])
    net.b = inputs
    acc = np.zeros_like(inputs)
    for _ in range(steps):
        acc += net.step(beta, stochastic=True)
    mean = acc / steps
    r2_in = np.array([correlation(a, t) ** 2 for a, t in zip(inputs, targets)])
    r2_out = np.array([correlation(a, t) ** 2 for a, t in zip(mean, targets)])
    return r2_in, r2_out, mean


def digits(seed: int = 0, *, digits_path=None, progress=False, retrieval=None,
           generalisation=None, **overrides) -> dict:
    """The digits simulation in one regime (module docstring; ``overrides`` replace entries of
    :data:`DIGITS`, ``retrieval``/``generalisation`` entries of those protocols).

    Training: the first example of each class in ``classes``, network
    ``SeedSequence(seed, spawn_key=(3,))``. Retrieval: ``trials`` noisy versions
    ``signal · λ x + N(0, (std(signal · λ x)/snr)²)`` of training patterns (cycling through
    them), relaxed stochastically for ``steps`` steps at that bias from σ = 0; the R² of the
    noisy input and of the mean activity against the clean pattern. Generalisation: the same
    with patterns drawn at random from the images not used for training. Attractors: relaxed
    deterministically from L(start_scale · λ x) as in the reference's evaluation.

    Returns medians of R² (input, output) and of their difference, ``n_attractors``,
    ``orthogonality`` (mean |cos| of the distinct attractors) and ``angle_deviation`` (the
    reference's degrees measure) for the attractors and for the patterns, ``eta``,
    ``asymmetry``, the patterns, attractors and example reconstructions."""
    t0 = time.perf_counter()
    p = _params(DIGITS, overrides)
    ret = dict(DIGITS["retrieval"], **(retrieval or {}))
    gen = dict(DIGITS["generalisation"], **(generalisation or {}))
    data, target = load_digits(digits_path)
    Xall = preprocess_digits(data)
    used = [int(np.flatnonzero(target == int(c))[0]) for c in p["classes"]]
    X = Xall[used]
    test = np.delete(Xall, used, axis=0)
    lam = float(p["evidence"])
    net = FEPNetwork.zeros(64, seed=np.random.default_rng(_seq(seed, 3)))
    net.train(X, presentations=p["presentations"], steps=p["steps"],
              learning_rate=p["learning_rate"], beta=p["beta"], evidence=lam, progress=progress)
    J = net.J
    rng = np.random.default_rng(_seq(seed, 3, 1))

    def protocol(pool, q, sample, key):
        k = check_count(q["trials"], "trials", minimum=1, maximum=100_000)
        ids = rng.integers(0, len(pool), size=k) if sample else np.arange(k) % len(pool)
        target_ = q["signal"] * lam * pool[ids]
        noisy = target_ + rng.normal(size=target_.shape) * (target_.std(axis=1, keepdims=True)
                                                             / q["snr"])
        r2_in, r2_out, mean = _reconstruction(J, target_, noisy, q["beta"], int(q["steps"]),
                                              _seq(seed, 3, 2, key))
        return {"median_r2_input": float(np.median(r2_in)),
                "median_r2_output": float(np.median(r2_out)),
                "median_delta_r2": float(np.median(r2_out - r2_in)),
                "examples": {"input": noisy[:3].tolist(), "output": mean[:3].tolist(),
                             "target": target_[:3].tolist()}}

    rel = pattern_attractors(net, lam * X, start_scale=p["start_scale"], beta=p["relax_beta"],
                             max_steps=p["max_steps"], tol=p["tol"])
    A = rel.states
    _, first = np.unique(np.round(A, 2), axis=0, return_index=True)
    distinct = A[np.sort(first)]
    sym = net.symmetry()
    res = {"retrieval": protocol(X, ret, False, 0),
           "generalisation": protocol(test, gen, True, 1),
           "n_attractors": int(len(distinct)),
           "orthogonality_attractors": _mean_abs_cos(distinct),
           "orthogonality_patterns": _mean_abs_cos(X),
           "angle_deviation_attractors": angle_deviation(A, drop_duplicates=True),
           "angle_deviation_patterns": angle_deviation(X),
           "angle_deviation_patterns_reference": angle_deviation(X, diagonal=True),
           "mean_correlation_attractors": float(np.mean(_offdiag_corr(distinct)))
           if len(distinct) > 1 else float("nan"),
           "mean_correlation_patterns": float(np.mean(_offdiag_corr(X))),
           "converged": rel.converged.tolist(), "eta": sym["eta"],
           "asymmetry": sym["asymmetry"], "patterns": X.tolist(), "attractors": A.tolist(),
           "J": J.tolist()}
    return _summary(res, time.perf_counter() - t0, seed,
                    dict(p, classes=list(p["classes"]), retrieval=ret, generalisation=gen))


# --------------------------------------------------------------------------------------------
# the learned landscape through fplandscape.attractors


def analyse(J, *, beta: float = 1.0, b=0.0, n_starts: int = 256, census_starts: int = 32,
            census_steps: Optional[int] = None, census_transient: Optional[int] = None,
            exact_max_n: int = 30, seed: int = 0, patterns=None, k: int = 1) -> dict:
    """Fixed points, census and diagnostics of the learned network x ← L(β (J x + b)).

    ``n_starts`` multistart fixed-point search (:func:`~fplandscape.attractors.find_fixed_points`,
    0: skip), ``census_starts`` random starts of the census (0: skip; ``census_steps``,
    ``census_transient``, ``k`` Lyapunov exponents), ``exact_max_n`` the largest N whose sign
    version sign(J s) has its fixed points counted exactly beside the random-matrix
    prediction at the same η̂ (:func:`~fplandscape.attractors.diagnose`). ``patterns``: if
    given, the correlation of each stable fixed point with each pattern (``overlaps``)."""
    from ...attractors import census, diagnose, find_fixed_points

    t0 = time.perf_counter()
    net = FEPNetwork(J)
    system = net.as_system(beta, b=b)
    n_starts = check_count(n_starts, "n_starts")
    census_starts = check_count(census_starts, "starts")
    exact_max_n = check_count(exact_max_n, "exact_max_n")
    sym = net.symmetry()
    out = {"version": __version__, "n": net.n, "beta": float(beta), **sym}
    fp = None
    if n_starts:
        fp = find_fixed_points(system, n_starts=n_starts, seed=seed)
        out["n_fixed_points"] = len(fp)
        out["n_stable"] = int(np.sum(fp.stable))
        out["fixed_point_labels"] = list(fp.labels)
        if patterns is not None and len(fp):
            Xp = np.atleast_2d(np.asarray(patterns, dtype=np.float64))
            S = fp.states[np.asarray(fp.stable, dtype=bool)]
            out["overlaps"] = [[correlation(s, x) for x in Xp] for s in S]
    if census_starts:
        c = census(system, n_starts=census_starts, seed=seed, k=k, steps=census_steps,
                   transient=census_transient)
        out["census"] = {"fractions": c.fractions(), "n_attractors": len(c),
                         "kinds": [a.kind for a in c.attractors],
                         "periods": [getattr(a, "period", None) for a in c.attractors],
                         "basins": [float(a.basin) for a in c.attractors]}
    d = diagnose(net.J, fp if fp is not None and len(fp) else None,
                 exact_max_n=min(exact_max_n, 40))
    out["diagnosis"] = {key: getattr(d, key) for key in
                        ("eta_hat", "antisymmetry_ratio", "orthogonality", "count",
                         "log_count", "expected_count", "log_expected_count", "jd_eff",
                         "notes")}
    out["seconds"] = time.perf_counter() - t0
    return out
