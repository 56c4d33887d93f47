"""The registry of algorithms that look for a fixed point from random initial states.

An *algorithm* is a name, a runner and its default options (:class:`Algorithm`). A runner has
the signature ``runner(J, *, runs, max_sweeps, seed, **options) -> dict`` and returns per-run
arrays (one entry per run):

* ``reached`` (bool): the final state is a strict fixed point, ``Δ_i = σ_i h_i > 0`` for
  every i (the one name of "ended at a strict fixed point" for every algorithm);
* ``sweeps`` (int): sweeps used (synchronous dynamics: steps; annealing: sweeps of its β
  schedule; focusing BP: iterations);
* ``converged`` (bool): the algorithm stopped by itself (dynamics: the last sweep changed
  nothing; annealing and focusing BP: the same as ``reached``);
* ``states`` (int8, runs × N), ``margin`` = min_i Δ_i and ``mean_stability`` = (1/N) Σ_i Δ_i
  (float64) of the final states;

and optionally ``cycle2`` (synchronous 2-cycles), ``energy`` (annealing: final
#{i : Δ_i ≤ 0}), ``flips`` (accepted flips) and ``seconds``.

Built in: ``"async"`` and ``"sync"`` (:func:`fplandscape.sim.dynamics.run_dynamics`),
``"anneal"`` (:func:`fplandscape.sim.dynamics.anneal`). ``"fbp"`` (focusing BP,
:func:`fplandscape.sim.bp.focusing_bp`) is registered on first request: :func:`get_algorithm`
imports :mod:`fplandscape.sim.bp` and registers its ``accessibility_runner``. Other algorithms
plug in with :func:`register_algorithm`. Used by the accessibility scan
(:mod:`fplandscape.sim.accessibility`), the reached-vs-uniform comparison
(:mod:`fplandscape.sim.reached`) and ``fplandscape dynamics``.
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import Callable, Optional

from ..errors import InputError
from .dynamics import anneal, run_dynamics

__all__ = ["Algorithm", "register_algorithm", "get_algorithm", "algorithm_names",
           "check_rules", "algorithm_options"]


@dataclass(frozen=True)
class Algorithm:
    """A named solver: ``runner(J, *, runs, max_sweeps, seed, **options) -> dict`` (module
    docstring), with its default ``options``."""

    name: str
    runner: Callable
    description: str = ""
    options: dict = field(default_factory=dict)


_REGISTRY: dict = {}
_LAZY = {"fbp": "fplandscape.sim.bp"}  # algorithms provided by modules imported on demand


def register_algorithm(name: str, runner: Callable, *, description: str = "",
                       options: Optional[dict] = None, replace: bool = False) -> None:
    """Make ``runner`` available under ``name`` (module docstring for the signature and the
    returned per-run arrays)."""
    if not isinstance(name, str) or not name or not callable(runner):
        raise InputError("register_algorithm needs a non-empty name and a callable runner")
    if name in _REGISTRY and not replace:
        raise InputError(f"algorithm {name!r} is already registered (pass replace=True)")
    _REGISTRY[name] = Algorithm(name, runner, description, dict(options or {}))


def get_algorithm(name: str) -> Algorithm:
    """The registered algorithm ``name`` (importing its provider module on first use)."""
    if name not in _REGISTRY and name in _LAZY:
        try:
            mod = importlib.import_module(_LAZY[name])
        except Exception:  # noqa: BLE001 (missing or broken provider: reported below)
            mod = None
        if name not in _REGISTRY and mod is not None and \
                callable(getattr(mod, "accessibility_runner", None)):
            register_algorithm(name, mod.accessibility_runner,
                               description=(mod.__doc__ or "").strip().split("\n")[0])
        if name not in _REGISTRY:
            raise InputError(f"algorithm {name!r} is not available ({_LAZY[name]} could not be "
                             "imported or provides no accessibility runner); available: "
                             f"{', '.join(algorithm_names())}")
    if name not in _REGISTRY:
        raise InputError(f"unknown algorithm {name!r}; available: {', '.join(algorithm_names())}")
    return _REGISTRY[name]


def algorithm_names() -> list:
    """Names of the registered algorithms (built-in first)."""
    return list(_REGISTRY)


def check_rules(rules) -> list:
    """``rules`` (a list of names, or one comma-separated string) as a list of distinct
    registered algorithm names; InputError otherwise."""
    if isinstance(rules, str):
        rules = [r for r in rules.split(",") if r]
    rules = list(rules)
    if not rules:
        raise InputError("rules must name at least one algorithm")
    if len(set(rules)) != len(rules):
        raise InputError(f"rules has repeated names: {rules}")
    for r in rules:
        get_algorithm(r)
    return rules


def algorithm_options(rules, options) -> dict:
    """Per-algorithm options: the registered defaults of each of ``rules`` updated by
    ``options[rule]`` (a dict per algorithm; algorithms not in ``rules``: InputError)."""
    options = dict(options or {})
    unknown = set(options) - set(rules)
    if unknown:
        raise InputError(f"options given for algorithms not in rules: {', '.join(sorted(unknown))}")
    out = {}
    for r in rules:
        opt = dict(get_algorithm(r).options)
        extra = options.get(r) or {}
        if not isinstance(extra, dict):
            raise InputError(f"options[{r!r}] must be a dict")
        opt.update(extra)
        out[r] = opt
    return out


# --------------------------------------------------------------------------------------------
# the built-in adapters


def _dynamics_outcome(res) -> dict:
    return {"reached": res.reached, "sweeps": res.sweeps, "converged": res.converged,
            "states": res.states, "margin": res.margin, "mean_stability": res.mean_stability,
            "cycle2": res.cycle2, "flips": res.flips, "seconds": res.seconds}


def _run_async(J, *, runs, max_sweeps, seed, order="random"):
    return _dynamics_outcome(run_dynamics(J, rule="async", runs=runs, max_sweeps=max_sweeps,
                                          order=order, seed=seed, return_stability=False))


def _run_sync(J, *, runs, max_sweeps, seed):
    return _dynamics_outcome(run_dynamics(J, rule="sync", runs=runs, max_sweeps=max_sweeps,
                                          seed=seed, return_stability=False))


def _run_anneal(J, *, runs, max_sweeps, seed, beta0=0.5, beta1=5.0, schedule="linear"):
    res = anneal(J, runs=runs, max_sweeps=max_sweeps, beta0=beta0, beta1=beta1,
                 schedule=schedule, seed=seed, return_stability=False)
    return {"reached": res.reached, "sweeps": res.sweeps, "converged": res.reached,
            "states": res.states, "margin": res.margin, "mean_stability": res.mean_stability,
            "energy": res.energy, "flips": res.flips, "seconds": res.seconds}


register_algorithm("async", _run_async, description="asynchronous sign dynamics, a random "
                   "order per sweep; reached = final state is a strict fixed point",
                   options={"order": "random"})
register_algorithm("sync", _run_sync, description="synchronous sign dynamics s <- sign(J s) "
                   "(stops at a fixed point of the update or a 2-cycle)")
register_algorithm("anneal", _run_anneal, description="simulated annealing on E = #{i: "
                   "Delta_i <= 0}, linear beta schedule 0.5 -> 5 over max_sweeps",
                   options={"beta0": 0.5, "beta1": 5.0, "schedule": "linear"})
