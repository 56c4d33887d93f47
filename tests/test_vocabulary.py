"""One vocabulary (issue 14): every public parameter name of fplandscape.theory, sim, validate,
learn (with learn.fep) and attractors, and of the ground-floor module fplandscape.model, is a
word of one explicit list, and no concept has two names. Result dataclasses are included through their ``__init__`` (their fields).

The concepts and their one name (see the README's vocabulary):

* ``seed`` — reproducibility (int or SeedSequence; a Generator where documented). The one
  default rule: a public ``seed`` parameter defaults to ``0`` (deterministic, as every CLI
  ``--seed``) or is required; never ``None``. A second independent stream in one call is
  ``<purpose>_seed``.
* ``rng`` — a NumPy Generator the caller owns and the function advances (``rng_<purpose>`` for
  two of them); never a parameter that takes a seed, so it never defaults to an integer.
* ``workers`` — parallelism (processes or OpenMP threads).
* ``samples`` — number of networks drawn from an ensemble (disorder samples).
* ``runs`` — number of runs of a dynamics on one network (``first_run``: index of the first).
* ``reached`` — ended at a strict fixed point (dynamics, annealing, focusing BP): result
  field and row column; ``converged`` is the different "the iteration stopped changing".
* ``n_starts`` — number of initial conditions of a continuous-state search (``starts``: the
  array itself).
"""
import dataclasses
import importlib
import inspect
import pkgutil
import sys

import pytest

ROOTS = ("fplandscape.theory", "fplandscape.sim", "fplandscape.validate", "fplandscape.learn",
         "fplandscape.attractors")
#: single modules (not packages) checked with the same rules
MODULES = ("fplandscape.model",)
#: converters from a seed to a Generator: ``seed=None`` is their input "fresh OS entropy", not
#: an API default (see as_generator), so the seed-default rule does not apply to them
SEED_CONVERTERS = {("fplandscape.model", "as_generator")}

#: banned synonym -> the vocabulary's name for it
BANNED = {
    # parallelism
    "n_threads": "workers", "threads": "workers", "n_jobs": "workers", "jobs": "workers",
    "num_threads": "workers", "nthreads": "workers", "n_workers": "workers",
    "processes": "workers", "n_procs": "workers", "cores": "workers",
    # reproducibility
    "random_state": "seed", "random_seed": "seed", "rng_seed": "seed", "seeds": "seed",
    "generator": "rng", "gen": "rng",
    # networks drawn from an ensemble
    "networks": "samples", "n_networks": "samples", "num_networks": "samples",
    "n_samples": "samples", "realisations": "samples", "realizations": "samples",
    "instances": "samples", "disorder_samples": "samples",
    # runs of a dynamics
    "n_runs": "runs", "num_runs": "runs", "nruns": "runs", "n_trials": "runs",
    # ended at a strict fixed point
    "is_fixed_point": "reached", "at_fixed_point": "reached", "solved": "reached",
    "success": "reached", "fixed": "reached",
    # one spelling of the iteration cap, the initial-condition count, list-valued grids
    "max_iters": "max_iter", "maxiter": "max_iter", "n_iter": "max_iter",
    "num_starts": "n_starts", "n_init": "n_starts",
    "jds": "jd_values", "lams": "lam_values", "hiddens": "hidden_values", "ns": "n_values",
}

#: the allowed parameter names, by theme (a new public parameter must be added here, after
#: checking that the concept has no name yet)
ALLOWED = set("""
    seed rng rng_init rng_train async_seed entangle_seed split_seed
    workers scheduler checkpoint resume progress on_result desc stop
    samples runs first_run n_starts starts census_starts deflation_starts uniform_samples
    reached converged
    n n_in n_train n_test n_grid n_points n_values jd_values d_values hidden_values lam_values
    jd eta lam layers dilution ensemble kappa d d_min d_max y y_max y_start p q q0 lam0 lam1 lam2
    kappa_h kappa_out lam_in lam_back windows
    J W X S G I R U V K_up K_down W_in W_out W_back W_skip a b f df h s u x x0 z
    max_iter max_steps max_sweeps max_states max_boxes max_period max_step steps sweeps
    transient census_steps census_transient eval_sweeps free steer epochs presentations
    snapshots record_every evaluate_every
    tol q_tol root_tol unique_tol merge_tol section_tol zero_tol min_width newton_q rtol_y
    tolerance diverge_at
    damping dgamma gamma0 gamma_final init_scale beta beta0 beta1 betas schedule
    learning_rate learning_rates lr lr_in lr_j lr_out lr_scale weight_decay fan_in learn_in
    learn_j batch update update_prob mode order unit_order stochastic noise start_scale
    rule rules method kind model name options runner replace description
    codes states state initial inputs input labels patterns images data classes
    per_class_train per_class_test x_train y_train x_test y_test f_train f_test
    arch arch_kwargs net network system phi gain tau dt dim box vector_field jacobian step
    step0 vectorized smooth lo hi rnn precision certified exact exact_max_n k blocks
    return_stability return_states keep_states all_states split_depth local_radius radius r
    pairs margins bootstrap level extrapolation
    hist count counts size stats bin_width quad criterion bracket evidence fallback guess
    factor growth avg nx nz nw modules symbolic dps
    path digits_path out_dir stream figures quick verbose warn reason rows results summary
    values value param params arrays info details notes message version seconds
    trajectory_fraction record record_states free_run retrieval generalisation decimals
    diagonal drop_duplicates repeats hidden input_to inter skip feedback feedback_code readout
    ext_in ext_back pixels async_first_run stop_when_stable func tasks
    cells thresholds critical
    entropy annealed annealed_rows iterations max_change magnetisations cavity_mean
    cavity_var eta_hat unsatisfied margin mean_stability stability sweeps flips cycle2
    energy truncated nodes_visited local neighbors sizes n_clusters
    roots midpoints undecided boxes_examined complete eigenvalues residuals stable
    n_unstable slow_states slow_q certificate basin basin_se basin_size period lyapunov
    lyapunov_se multipliers strict attractors exponents divergent se eig
    antisymmetry_ratio attractor_source diag_max diag_mean diag_min diag_std
    diagonal_constant eta_se eta_theory expected_count jd_eff log_count log_expected_count
    n_attractors offdiag_mean offdiag_std orthogonality scaled_variance gram
    history train_accuracy test_accuracy seconds_per_epoch samples_per_second accuracy
    complexity vfe weight_change sigma
    local_entropy phi_ld sigma_ext slope residual result pooled
    arr terms bias bands H key max_n copy
    warmup feedback_from eval_update_prob readout_code weight_decay_in patience capacities
    lam_in_values jd_one one_module settings reference
    Y cache
""".split())

#: PENDING (the lead empties this): (module, public name, parameter) outside the vocabulary
#: in modules owned by other helpers, with the rename that fixes each.
PENDING = set()  # emptied: accessibility_scan / compare_reached_vs_uniform networks -> samples


def _modules():
    mods = []
    for root in ROOTS:
        pkg = importlib.import_module(root)
        mods.append(root)
        for info in pkgutil.walk_packages(pkg.__path__, root + "."):
            if any(part.startswith("_") for part in info.name.split(".")):
                continue
            importlib.import_module(info.name)
            mods.append(info.name)
    for name in MODULES:
        importlib.import_module(name)
        mods.append(name)
    return sorted(set(mods))


def _public(mod):
    names = getattr(mod, "__all__", None) or [n for n in vars(mod) if not n.startswith("_")]
    for name in names:
        obj = getattr(mod, name, None)
        if getattr(obj, "__module__", None) != mod.__name__:
            continue  # re-exports are checked in their home module
        if inspect.isclass(obj):
            yield name, obj
            for attr, raw in vars(obj).items():
                if not attr.startswith("_") and (inspect.isfunction(raw)
                                                 or isinstance(raw, (staticmethod, classmethod))):
                    yield f"{name}.{attr}", getattr(obj, attr)
        elif inspect.isfunction(obj):
            yield name, obj


def _parameters():
    """(module, qualified public name, inspect.Parameter) of every public signature."""
    out = []
    for mn in _modules():
        for qual, obj in _public(sys.modules[mn]):
            try:
                sig = inspect.signature(obj)
            except (TypeError, ValueError):
                continue
            for p in sig.parameters.values():
                if p.name in ("self", "cls") or p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
                    continue
                out.append((mn, qual, p))
    return out


PARAMETERS = _parameters()


def _pending(mn, qual, name):
    return (mn, qual.split(".")[0], name) in PENDING or (mn, qual, name) in PENDING


def test_survey_sees_the_packages():
    mods = {mn for mn, _, _ in PARAMETERS}
    for expected in ("fplandscape.theory.counts", "fplandscape.sim.dynamics",
                     "fplandscape.validate.counts", "fplandscape.learn.train",
                     "fplandscape.learn.fep.network", "fplandscape.attractors.census",
                     "fplandscape.model"):
        assert expected in mods
    assert len(PARAMETERS) > 500


def test_no_banned_synonym():
    bad = [f"{mn}.{qual}({p.name}=): use {BANNED[p.name]!r}" for mn, qual, p in PARAMETERS
           if p.name in BANNED and not _pending(mn, qual, p.name)]
    assert bad == []


def test_every_parameter_is_in_the_vocabulary():
    bad = sorted({f"{mn}.{qual}({p.name}=)" for mn, qual, p in PARAMETERS
                  if p.name not in ALLOWED and not _pending(mn, qual, p.name)})
    assert bad == [], "new names: add them to ALLOWED (after checking for a synonym)"


def test_allowed_and_banned_do_not_overlap():
    assert ALLOWED & set(BANNED) == set()
    assert set(BANNED.values()) <= ALLOWED


def test_seed_default_is_0_or_required():
    bad = [f"{mn}.{qual}(seed={p.default!r})" for mn, qual, p in PARAMETERS
           if p.name == "seed" and p.default is not inspect.Parameter.empty
           and not (type(p.default) is int and p.default == 0)
           and (mn, qual) not in SEED_CONVERTERS]
    assert bad == []


def test_rng_is_a_generator_parameter():
    """``rng`` takes a Generator: required or None, never a seed-like integer default."""
    bad = [f"{mn}.{qual}({p.name}={p.default!r})" for mn, qual, p in PARAMETERS
           if (p.name == "rng" or p.name.startswith("rng_"))
           and p.default is not inspect.Parameter.empty and p.default is not None]
    assert bad == []


def test_lyapunov_batch_rng_refuses_a_seed():
    """``lyapunov_batch(rng=)`` takes a Generator (or None), not an int seed."""
    import numpy as np

    from fplandscape.attractors import RateMap
    from fplandscape.attractors.lyapunov import lyapunov_batch
    from fplandscape.errors import InputError

    m = RateMap(0.5 * np.eye(3))
    ex = lyapunov_batch(m, np.zeros((1, 3)), 2, 10, rng=np.random.default_rng(0))[0]
    assert ex == pytest.approx(np.log(0.5))
    for bad in (3, np.random.SeedSequence(3)):
        with pytest.raises(InputError, match="Generator"):
            lyapunov_batch(m, np.zeros((1, 3)), 2, 10, rng=bad)


def test_pending_entries_are_still_real():
    """A pending entry whose parameter was renamed must leave PENDING (so it empties)."""
    present = {(mn, qual.split(".")[0], p.name) for mn, qual, p in PARAMETERS} | \
        {(mn, qual, p.name) for mn, qual, p in PARAMETERS}
    assert PENDING - present == set()


def test_one_name_for_reached_across_dynamics_annealing_and_focusing_bp():
    from fplandscape.sim import bp, dynamics

    for cls in (dynamics.DynamicsResult, dynamics.AnnealResult, bp.FocusingResult):
        fields = {f.name for f in dataclasses.fields(cls)}
        assert "reached" in fields, cls.__name__
        assert not fields & {"is_fixed_point", "solved", "at_fixed_point"}, cls.__name__


MY_RESULTS = [
    ("fplandscape.sim.dynamics", "DynamicsResult"), ("fplandscape.sim.dynamics", "AnnealResult"),
    ("fplandscape.sim.bp", "BetheResult"), ("fplandscape.sim.bp", "FocusingResult"),
    ("fplandscape.sim.clusters", "ClusterResult"), ("fplandscape.sim.local", "LocalStats"),
    ("fplandscape.theory.critical", "CriticalValue"), ("fplandscape.theory.replica", "RSEntropy"),
    ("fplandscape.theory.saddle", "SaddlePoint"),
    ("fplandscape.theory.local_entropy", "LocalEntropyCurve"),
    ("fplandscape.attractors.results", "FixedPoints"), ("fplandscape.attractors.results", "Census"),
    ("fplandscape.attractors.results", "Attractor"), ("fplandscape.attractors.certify", "Certificate"),
    ("fplandscape.attractors.lyapunov", "LyapunovSpectrum"),
    ("fplandscape.attractors.diagnose", "Diagnosis"),
    ("fplandscape.learn.train", "TrainResult"), ("fplandscape.learn.fep.network", "TrainResult"),
    ("fplandscape.learn.fep.network", "RelaxResult"),
]


@pytest.mark.parametrize("module,name", MY_RESULTS, ids=[n for _, n in MY_RESULTS])
def test_result_dataclasses_have_as_rows(module, name):
    cls = getattr(importlib.import_module(module), name)
    assert dataclasses.is_dataclass(cls) and callable(getattr(cls, "as_rows", None))


#: public dataclasses that hold inputs or settings, not results (no rows to give)
SETTINGS = {"fplandscape.attractors.phi.Activation", "fplandscape.figures.spec.FigureSpec",
            "fplandscape.learn.data.Dataset", "fplandscape.learn.network.Architecture",
            "fplandscape.learn.rule.Plasticity", "fplandscape.learn.train.Schedule",
            "fplandscape.model.Ensemble", "fplandscape.provenance.Stopwatch",
            "fplandscape.sim.algorithms.Algorithm", "fplandscape.theory.saddle.Quadrature"}


def test_every_public_result_dataclass_has_as_rows():
    """One result shape: every public dataclass of the library that is not a settings object
    has ``as_rows()`` (found by walking the package, so a new result class cannot miss it)."""
    import pkgutil

    import fplandscape

    missing, settings_seen = [], set()
    for info in pkgutil.walk_packages(fplandscape.__path__, "fplandscape."):
        if ".cli" in info.name or info.name.endswith("__main__"):
            continue
        mod = importlib.import_module(info.name)
        for name, obj in vars(mod).items():
            if (inspect.isclass(obj) and dataclasses.is_dataclass(obj)
                    and obj.__module__ == mod.__name__ and not name.startswith("_")):
                full = f"{mod.__name__}.{name}"
                if full in SETTINGS:
                    settings_seen.add(full)
                elif not callable(getattr(obj, "as_rows", None)):
                    missing.append(full)
    assert missing == []
    assert settings_seen == SETTINGS  # the exemptions name classes that exist


def test_as_rows_of_an_enumeration_and_a_fit():
    import numpy as np

    from fplandscape import model, stats
    from fplandscape.sim import enumerate_fixed_points

    J = model.gaussian_couplings(10, 0.5, seed=3)
    res = enumerate_fixed_points(J, local_radius=1)
    states = model.unpack_states(np.arange(2**10, dtype=np.uint64), 10)
    fp = states[model.is_fixed_point(J, states)]          # from scratch, every state
    (row,) = res.as_rows()
    assert row["count"] == len(fp) == res.count and row["n"] == 10 and row["method"] == "dfs"
    # mean number of fixed points at Hamming distance 1, counted by hand
    d1 = [int(((fp != s).sum(axis=1) == 1).sum()) for s in fp]
    assert row["mean_neighbors_r1"] == pytest.approx(np.mean(d1), rel=1e-12)
    assert row["local_states"] == len(fp)
    fit = stats.extrapolate_finite_size([10, 20, 40], [1.1, 1.05, 1.025], [0.01, 0.01, 0.01])
    (frow,) = fit.as_rows()
    assert frow["value"] == fit.value and abs(frow["value"] - 1.0) < 1e-12   # exact 1 + 1/N
    assert frow["points"] == 3 and frow["power"] == 1.0
