"""Hierarchy of the learned representations: what each module's fixed point knows about the
class (issue 17, item 2: does the rule "leverage depth to develop hierarchical
representations"?).

**Representations** (:func:`representations`). The input x itself (row ``module = -1``,
``module_name = "input"``, a reference so that a reader sees what the modules add) and the state
s^l of every module l = 0..L−1 after free relaxation without feedback and label — warm-up and
``schedule.t_eval`` sweeps of :func:`fplandscape.learn.network.relax`, exactly the states
:func:`fplandscape.learn.train.predict` reads the readout from (same batches, same async run
indices). ``stable_fraction`` of a module says how many of these states are fixed points of
the free dynamics (one more synchronous sweep changes nothing in that module).

**Metrics**, one plain function each (formulas in their docstrings):

* :func:`linear_probe` — least-squares (ridge) linear classifier fitted on the training
  examples' representations, accuracy on the test examples' representations;
* :func:`separability` — mean distance between class centroids / mean distance of an example to
  its class centroid;
* :func:`participation_ratio` — effective dimension (Σλ)²/Σλ² of the covariance;
* :func:`linear_cka` — linear centred kernel alignment between two representations of the same
  examples (consecutive modules), and :func:`unit_correlation` — mean |correlation| of
  corresponding units (meaningful with the one-to-one coupling λ), with :func:`magnetisation`
  (mean |⟨s_i⟩|, how biased the units are).

Separability, participation ratio, CKA, correlation and magnetisation are computed on the **test** examples (held
out); the probe is fitted on the training examples.

**Study** (:func:`hierarchy`): one task per (L, network k) trains with
:func:`fplandscape.learn.train.train` (seed ``seed + k``, so each network is the one of
``fplandscape learn --layers L --seed seed+k``) and probes both the *untrained* initial network
(the couplings train() starts from; ``trained = False``, ``epochs = 0``: the control that
separates what learning adds from what a random recurrent network does) and the trained one.
Tasks run through :func:`fplandscape.parallel.run_study` (resumable; results do not depend on
``workers``).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from .. import model, parallel
from .._version import __version__
from ..blas import single_thread
from ..errors import InputError, check_count
from ..stats import mean_se
from .data import Dataset
from .network import Architecture, Network, hidden_fields, init_network, input_field, \
    readout_fields
from .rule import Plasticity
from .train import Schedule, data_fingerprint, inference_states, seeds, train

__all__ = ["PROBE_RIDGE", "METRICS", "representations", "stable_fractions", "linear_probe",
           "separability", "participation_ratio", "linear_cka", "unit_correlation",
           "magnetisation",
           "probe_network", "hierarchy", "HierarchyResult"]

#: the fixed ridge regulariser of :func:`linear_probe`, relative to the mean variance of the
#: features (ρ = PROBE_RIDGE · tr(XᵀX)/d on centred features)
PROBE_RIDGE = 1e-3

#: the per-module metric columns of the rows, in table order
METRICS = ("probe_test_accuracy", "probe_train_accuracy", "separability",
           "participation_ratio", "cka_prev", "unit_corr_prev", "magnetisation",
           "stable_fraction", "constant_units")

# --------------------------------------------------------------------------------------------
# representations


def representations(net: Network, x, schedule: Schedule = Schedule(), *, seed: int = 0) -> list:
    """``[x, s^0, …, s^{L−1}]``: the input (B × N, float64) and every module's state after free
    relaxation, the states inference reads (:func:`~fplandscape.learn.train.inference_states`),
    so ``argmax readout_fields(net, S)`` is exactly the prediction of
    :func:`~fplandscape.learn.train.predict`."""
    x = np.asarray(x, dtype=np.float64)
    S = inference_states(net, x, schedule, seed=seed)
    return [x] + [S[l] for l in range(net.arch.layers)]


def stable_fractions(net: Network, x, S) -> np.ndarray:
    """Per module l, the fraction of examples whose state s^l is unchanged by one more
    synchronous free sweep, s^l = sign(h^l(s)) (sign(0) = +1; fields without feedback,
    :func:`~fplandscape.learn.network.hidden_fields`): shape (L,)."""
    S = np.asarray(S, dtype=np.float64)
    new = model.sign_update(hidden_fields(net, S, input_field(net, x)))
    return np.mean(np.all(new == S, axis=2), axis=1)


# --------------------------------------------------------------------------------------------
# metrics


def _matrix(name, X, rows=None):
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2 or X.shape[0] < 2 or X.shape[1] < 1:
        raise InputError(f"{name} must be a 2-d array of at least 2 examples × 1 feature, got "
                         f"shape {X.shape}")
    if rows is not None and X.shape[0] != rows:
        raise InputError(f"{name} has {X.shape[0]} examples, expected {rows}")
    if not np.all(np.isfinite(X)):
        raise InputError(f"{name} must be finite")
    return X


def _labels(name, labels, n):
    labels = np.asarray(labels)
    if labels.shape != (n,) or not np.issubdtype(labels.dtype, np.integer) or \
            (n and labels.min() < 0):
        raise InputError(f"{name} must be {n} non-negative integer class labels, got shape "
                         f"{labels.shape} and dtype {labels.dtype}")
    return labels.astype(np.int64)


def linear_probe(f_train, y_train, f_test, y_test) -> tuple:
    """(train accuracy, test accuracy) of a closed-form ridge-regression linear probe.

    With centred training features X = F − μ (μ = training mean), one-hot targets T (M × C,
    C = 1 + the largest label of either set) and their mean t̄, the weights are

        W = (XᵀX + ρ I)⁻¹ Xᵀ (T − t̄),   ρ = :data:`PROBE_RIDGE` · tr(XᵀX) / d

    and an example f is assigned argmax_c [(f − μ) W + t̄]_c (ties → lowest class). The intercept
    is not penalised; ρ is relative to the mean feature variance, so the probe does not change
    when the features are scaled (and ρ = 1 when every training feature is constant: the probe
    then predicts the most frequent class).

    Why this is a fair linear probe across modules: it is the same deterministic estimator with
    the same relative regularisation for every representation (no learning rate, epochs or
    early stopping that could favour one module), it has d + 1 parameters per class — the
    same for the input and the modules when N = H — and its decision is invariant to scaling
    and (up to the small ρ) to any invertible linear map of the features, so it measures
    linear decodability and not the units' coordinate system. A least-squares classifier is not
    guaranteed to separate every linearly separable set (it is not a max-margin classifier);
    it is the standard cheap probe.
    """
    F = _matrix("f_train", f_train)
    G = _matrix("f_test", f_test) if np.asarray(f_test).size else \
        np.zeros((0, F.shape[1]))
    if G.shape[1] != F.shape[1]:
        raise InputError(f"f_train has {F.shape[1]} features and f_test {G.shape[1]}")
    ytr = _labels("y_train", y_train, F.shape[0])
    yte = _labels("y_test", y_test, G.shape[0])
    C = int(max(ytr.max(), yte.max() if yte.size else 0)) + 1
    T = np.zeros((F.shape[0], C))
    T[np.arange(F.shape[0]), ytr] = 1.0
    mu, tbar = F.mean(axis=0), T.mean(axis=0)
    X = F - mu
    A = X.T @ X
    tr = float(np.trace(A))
    rho = PROBE_RIDGE * tr / F.shape[1] if tr > 0 else 1.0
    W = np.linalg.solve(A + rho * np.eye(F.shape[1]), X.T @ (T - tbar))

    def acc(Z, y):
        if y.size == 0:
            return float("nan")
        return float(np.mean(np.argmax((Z - mu) @ W + tbar, axis=1) == y))

    return acc(F, ytr), acc(G, yte)


def separability(X, labels) -> float:
    """Class separability: mean between-class distance / mean within-class distance,

        between = mean over class pairs c < c' of ‖μ_c − μ_c'‖,
        within  = (1/M) Σ_i ‖x_i − μ_{y_i}‖,

    with μ_c the centroid of the examples of class c (Euclidean distances; only classes that
    occur count; at least two are needed). Scale-invariant; ∞ when every example sits on its
    centroid but the centroids differ, NaN for a constant representation (0/0). Two classes at ±a with every example at distance r from
    its centroid give 2a/r."""
    X = _matrix("X", X)
    labels = _labels("labels", labels, X.shape[0])
    classes = np.unique(labels)
    if classes.size < 2:
        raise InputError("separability needs examples of at least two classes")
    mu = np.stack([X[labels == c].mean(axis=0) for c in classes])
    idx = np.searchsorted(classes, labels)
    within = float(np.mean(np.linalg.norm(X - mu[idx], axis=1)))
    i, j = np.triu_indices(classes.size, k=1)
    between = float(np.mean(np.linalg.norm(mu[i] - mu[j], axis=1)))
    if within == 0.0:
        return math.inf if between > 0 else float("nan")
    return between / within


def participation_ratio(X) -> float:
    """Effective dimension PR = (Σ_k λ_k)² / Σ_k λ_k² = tr(C)² / tr(C²) of the covariance C of
    the examples (rows of X, centred; the normalisation cancels). 1 ≤ PR ≤ rank C; PR = d for
    an isotropic distribution in d dimensions (a finite sample of M examples gives about
    d/(1 + d/M)); 1 for data on a line; 0 by convention when X has no variance at all."""
    X = _matrix("X", X)
    Xc = X - X.mean(axis=0)
    A = Xc.T @ Xc if Xc.shape[1] <= Xc.shape[0] else Xc @ Xc.T   # same non-zero spectrum
    tr = float(np.trace(A))
    if tr == 0.0:
        return 0.0
    return tr * tr / float(np.sum(A * A))


def linear_cka(a, b) -> float:
    """Linear centred kernel alignment (Kornblith et al. 2019) of two representations of the
    same M examples (rows), a (M × d₁), b (M × d₂), both column-centred:

        CKA = ‖bᵀa‖_F² / (‖aᵀa‖_F ‖bᵀb‖_F)  ∈ [0, 1].

    1 for identical representations; invariant to orthogonal transforms and isotropic scaling
    of either; NaN when either has no variance."""
    a = _matrix("a", a)
    b = _matrix("b", b, rows=a.shape[0])
    a = a - a.mean(axis=0)
    b = b - b.mean(axis=0)
    den = float(np.linalg.norm(a.T @ a) * np.linalg.norm(b.T @ b))
    if den == 0.0:
        return float("nan")
    return float(np.linalg.norm(b.T @ a) ** 2) / den


def unit_correlation(a, b) -> float:
    """Mean absolute correlation of corresponding units of two representations of the same M
    examples with the same width d,

        (1/d) Σ_i |ρ_i|,   ρ_i = Σ_μ (a_μi − ā_i)(b_μi − b̄_i) / √(Σ_μ (a_μi − ā_i)² Σ_μ (b_μi − b̄_i)²),

    (a unit constant over the examples contributes ρ_i = 0): 1 when unit i of one module copies
    or inverts unit i of the other, ≈ 0 when they are unrelated. It measures the one-to-one
    alignment that the coupling λ imposes. Centred on purpose: the raw overlap (1/M) Σ_μ a_μi
    b_μi is ≈ m_i^a m_i^b for unrelated units with magnetisations m (:func:`magnetisation`), and
    trained units are strongly biased."""
    a = _matrix("a", a)
    b = _matrix("b", b, rows=a.shape[0])
    if a.shape[1] != b.shape[1]:
        raise InputError(f"unit_correlation needs the same number of units, got {a.shape[1]} "
                         f"and {b.shape[1]}")
    a = a - a.mean(axis=0)
    b = b - b.mean(axis=0)
    den = np.sqrt(np.sum(a * a, axis=0) * np.sum(b * b, axis=0))
    num = np.sum(a * b, axis=0)
    rho = np.divide(num, den, out=np.zeros_like(num), where=den > 0)
    return float(np.mean(np.abs(rho)))


def magnetisation(X) -> float:
    """Mean absolute magnetisation (1/d) Σ_i |(1/M) Σ_μ X_μi| of a ±1 representation: 0 for
    balanced units, 1 when every unit is constant over the examples."""
    X = _matrix("X", X)
    return float(np.mean(np.abs(X.mean(axis=0))))


# --------------------------------------------------------------------------------------------
# one network


def probe_network(net: Network, data: Dataset, schedule: Schedule = Schedule(), *,
                  seed: int = 0) -> list:
    """Rows, one per representation (the input, module 0 … L−1), of the metrics of the module
    docstring for ``net`` on ``data`` (probe fitted on the training set, the rest on the test
    set). Columns: ``module`` (−1 = input), ``module_name``, ``dim``, the :data:`METRICS`
    (``cka_prev``: with the previous row — module 0 with the input, None for the input;
    ``unit_corr_prev``: module l with module l − 1, None for the input and module 0, whose units
    correspond to no input unit), ``stable_fraction`` (None
    for the input), ``constant_units`` (fraction of units constant over the test set) and the
    network's own ``train_accuracy``/``test_accuracy`` (argmax of the readout, as
    :func:`~fplandscape.learn.train.evaluate`)."""
    if data.x_test.shape[0] < 2:
        raise InputError("probing needs at least 2 test examples")
    R_tr = representations(net, data.x_train, schedule, seed=seed)
    R_te = representations(net, data.x_test, schedule, seed=seed)
    S_tr, S_te = np.stack(R_tr[1:]), np.stack(R_te[1:])
    acc_tr = float(np.mean(np.argmax(readout_fields(net, S_tr), axis=1) == data.y_train))
    acc_te = float(np.mean(np.argmax(readout_fields(net, S_te), axis=1) == data.y_test))
    stable = stable_fractions(net, data.x_test, S_te)
    rows = []
    for k, (ftr, fte) in enumerate(zip(R_tr, R_te)):
        p_tr, p_te = linear_probe(ftr, data.y_train, fte, data.y_test)
        prev = R_te[k - 1] if k else None
        rows.append({
            "module": k - 1, "module_name": "input" if k == 0 else f"module {k - 1}",
            "dim": int(fte.shape[1]),
            "probe_test_accuracy": p_te, "probe_train_accuracy": p_tr,
            "separability": separability(fte, data.y_test),
            "participation_ratio": participation_ratio(fte),
            "cka_prev": None if prev is None else linear_cka(prev, fte),
            "unit_corr_prev": unit_correlation(prev, fte) if k >= 2 else None,
            "magnetisation": magnetisation(fte),
            "stable_fraction": None if k == 0 else float(stable[k - 1]),
            "constant_units": float(np.mean(np.all(fte == fte[0], axis=0))),
            "train_accuracy": acc_tr, "test_accuracy": acc_te})
    return rows


# --------------------------------------------------------------------------------------------
# the study


@dataclass(frozen=True)
class HierarchyResult:
    """Rows of :func:`hierarchy` (one per (L, seed, trained, module)) and the run's
    parameters; :meth:`summary` averages over the networks."""

    rows: list
    params: dict = field(default_factory=dict)

    def as_rows(self) -> list:
        """The per-network rows (copies)."""
        return [dict(r) for r in self.rows]

    def summary(self) -> list:
        """One row per (layers, trained, module): mean and standard error (ddof = 1; None for
        one network) over the networks of every metric, of the network's test accuracy, and
        ``samples`` (how many networks)."""
        groups: dict = {}
        for r in self.rows:
            groups.setdefault((r["layers"], r["trained"], r["module"]), []).append(r)
        out = []
        for (L, trained, module), rs in groups.items():
            row = {"version": __version__, "dataset": rs[0]["dataset"], "layers": L,
                   "trained": trained, "module": module, "module_name": rs[0]["module_name"],
                   "samples": len(rs)}
            for m in METRICS + ("test_accuracy",):
                v = np.array([r[m] for r in rs if r[m] is not None], dtype=np.float64)
                row[m], se = mean_se(v)
                row[m + "_se"] = se if np.all(np.isfinite(v)) else None
            out.append(row)
        return out


def _task(data, arch, rule, schedule, epochs, seed):
    """Train one network (seed ``seed``), probe it untrained and trained: its rows."""
    with single_thread():
        init_ss, _ = seeds(seed)
        net0 = init_network(arch, init_ss)     # the couplings train() starts from
        rows0 = probe_network(net0, data, schedule, seed=seed)
    res = train(data, arch, rule, schedule, epochs=epochs, seed=seed, progress=False,
                network=net0)
    with single_thread():
        rows1 = probe_network(res.network, data, schedule, seed=seed)
    out = []
    for trained, rows, ep in ((False, rows0, 0), (True, rows1, res.epochs)):
        for r in rows:
            out.append({"trained": trained, "epochs": ep, **r})
    return out


def hierarchy(data: Dataset, layers=(2, 3), *, hidden: int = 100, epochs: int = 10,
              seed: int = 0, samples: int = 1, arch_kwargs=None, rule: Plasticity = Plasticity(),
              schedule: Schedule = Schedule(), reference: bool = False, checkpoint=None,
              resume: bool = False, workers=None, scheduler=None,
              progress=False) -> HierarchyResult:
    """Per-module probe of networks with L ∈ ``layers`` modules of ``hidden`` units trained for
    ``epochs`` epochs on ``data`` (module docstring), ``samples`` networks per L with training
    seeds ``seed``, ``seed + 1``, … (each equal to ``fplandscape learn --layers L --seed s``
    with the same options), each probed untrained and trained.

    ``arch_kwargs``: further :class:`~fplandscape.learn.network.Architecture` fields (``jd``,
    ``lam``, ``input_to``, ``skip``, ``inter``, …; the reference code's multi-module wiring is
    ``{"skip": True}`` with ``Schedule(update_prob=0.85)``). ``reference``: the reference
    code's whole multi-module setting instead of ``rule`` and ``schedule``: ``skip=True``,
    :meth:`Schedule.reference(L) <fplandscape.learn.train.Schedule.reference>` and
    :meth:`Plasticity.reference(λ) <fplandscape.learn.rule.Plasticity.reference>` (the λ of
    ``arch_kwargs``). Rows (:class:`HierarchyResult`):
    one per (L, seed, trained, module) with version, seed, the parameters, the metrics of
    :func:`probe_network`. One task per (L, network) through
    :func:`fplandscape.parallel.run_study` (``checkpoint``: a directory, or True for an
    automatic one removed after success; ``resume``; local process ``workers`` or a Dask
    ``scheduler``); the rows do not depend on them (task order, own seeds, one BLAS thread).
    """
    if not isinstance(data, Dataset):
        raise InputError(f"data must be a fplandscape.learn.data.Dataset, got "
                         f"{type(data).__name__}")
    try:
        layers = [check_count(L, "layers", minimum=1) for L in layers]
    except TypeError:
        raise InputError(f"layers must be a list of positive integers, got {layers!r}") from None
    if not layers:
        raise InputError("layers must list at least one number of modules")
    hidden = check_count(hidden, "hidden", minimum=1)
    epochs = check_count(epochs, "epochs")
    samples = check_count(samples, "samples", minimum=1)
    seed = model.check_int_seed(seed)
    if data.x_train.shape[0] < 2 or data.x_test.shape[0] < 2:
        raise InputError("the hierarchy probe needs at least 2 training and 2 test examples")
    if not isinstance(rule, Plasticity) or not isinstance(schedule, Schedule):
        raise InputError("rule must be a Plasticity and schedule a Schedule")
    arch_kwargs = dict(arch_kwargs or {})
    bad = set(arch_kwargs) & {"n_in", "hidden", "classes", "layers"}
    if bad or set(arch_kwargs) - set(Architecture.__dataclass_fields__):
        raise InputError(f"arch_kwargs may hold Architecture fields other than n_in, hidden, "
                         f"classes and layers, got {sorted(arch_kwargs)}")
    if reference:
        arch_kwargs["skip"] = True
    archs = {L: Architecture(n_in=data.n_in, hidden=hidden, classes=data.classes, layers=L,
                             **arch_kwargs) for L in layers}
    if reference:
        rule = Plasticity.reference(archs[layers[0]].lam)
    scheds = {L: Schedule.reference(L) if reference else schedule for L in layers}
    workers = parallel.check_workers(workers)
    scheduler = parallel.check_scheduler(scheduler)
    tasks = [(data, archs[L], rule, scheds[L], epochs, seed + k)
             for L in layers for k in range(samples)]
    arch0 = archs[layers[0]].as_dict()
    params = {"dataset": data.name, "data": data_fingerprint(data), "layers": layers,
              "hidden": hidden, "epochs": epochs, "seed": seed, "samples": samples,
              "architecture": {k: v for k, v in arch0.items() if k != "layers"},
              "plasticity": rule.as_dict(),
              "schedule": ({L: scheds[L].as_dict() for L in layers} if reference
                           else schedule.as_dict()), "reference": bool(reference)}
    results = parallel.run_study(
        _task, tasks, kind="learn-probe", params=params, checkpoint=checkpoint, resume=resume,
        workers=workers, scheduler=scheduler, progress=progress, desc="probe: networks",
        backend="processes")
    base = {"version": __version__, "dataset": data.name, "n_train": int(data.x_train.shape[0]),
            "n_test": int(data.x_test.shape[0]), "hidden": hidden,
            "jd": arch0["jd"], "lam": arch0["lam"], "input_to": arch0["input_to"],
            "skip": arch0["skip"], "inter": arch0["inter"], "reference": bool(reference)}
    rows = []
    for (_, arch, _, sch, _, s), task_rows in zip(tasks, results):
        for r in task_rows:
            rows.append({**base, "mode": sch.mode, "update_prob": sch.update_prob,
                         "eval_sweeps": sch.t_eval, "warmup": sch.warmup, "seed": s,
                         "layers": arch.layers, **r})
    return HierarchyResult(rows=rows, params=params)
