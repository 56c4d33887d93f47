"""``fplandscape enumerate ...``: exact enumeration of fixed points, thin layer over
:func:`fplandscape.sim.enumerate.enumerate_fixed_points` (one given network, ``--couplings``)
and :func:`fplandscape.sim.disorder.disorder_average` (random networks, ``--n``).
"""
from __future__ import annotations

import sys

from .. import tables
from ..errors import InputError
from ..provenance import run_info
from . import common
from .common import Output, add_output_options, require

#: the choices of --method: :data:`fplandscape.sim.enumerate.METHODS`, written out so that
#: ``--help`` imports neither NumPy nor the engine (tests/test_startup.py checks they agree)
METHODS = ("auto", "dfs", "bruteforce")
#: default --max-states: fixed points kept in memory per network by a listing run (--pairs,
#: --save-states), about 16 MB per running task and 72 MB for the merged list
MAX_STATES = 10**6
#: memory allowed to the running tasks of a listing run on this machine (16 bytes per kept
#: fixed point each): fewer local workers when many cores would need more
LISTING_TASK_BUDGET = 512 * 2**20


def register(subparsers) -> None:
    """Add the ``enumerate`` command to the top-level subparsers."""
    text = ("count (and list) every fixed point of one network (--couplings FILE) "
            "[fplandscape.sim.enumerate_fixed_points], or of --samples random networks of the "
            "ensemble of docs/model.md#ensembles (--n N) with means and the exact theory "
            "(E1)/(E4) alongside [fplandscape.sim.disorder.disorder_average]")
    p = subparsers.add_parser("enumerate", help=text, description=text + ".",
                              epilog="--csv with --n writes one row per sample (kind = sample) "
                                     "followed by one summary row (kind = summary); with "
                                     "--couplings one row. A Dask cluster on this machine: "
                                     "'dask scheduler --host 127.0.0.1 --dashboard-address "
                                     "127.0.0.1' and 'dask worker tcp://127.0.0.1:8786', then "
                                     "--scheduler tcp://127.0.0.1:8786. A lost scheduler ends "
                                     "the run with exit status 1 and keeps the checkpoint: "
                                     "--resume finishes it (also without --scheduler).")
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--couplings", metavar="FILE",
                     help="coupling matrix file (.npy, .npz with array J, .txt, .csv), N <= 64")
    src.add_argument("--n", type=int, metavar="N",
                     help="neurons per module of the random ensemble (L*N <= 64)")
    p.add_argument("--jd", type=common._float, default=None, metavar="X",
                   help="self-coupling J_D (with --couplings: overrides the file's diagonal; "
                        "required with --n)")
    p.add_argument("--pairs", action="store_true",
                   help="also the unordered pair-distance histogram of distinct fixed points, "
                        "k = 0..N [fplandscape.sim.clusters.pair_distance_histogram]")
    p.add_argument("--local", type=int, choices=(0, 1, 2), default=None, metavar="R",
                   help="with --couplings: also summarise over all fixed points the margin "
                        "min_i s_i h_i, the mean stability and the number of fixed points at "
                        "distance 1..R (R = 0, 1, 2; exact local flip checks, streamed) "
                        "[fplandscape.sim.local.local_stats]")
    p.add_argument("--method", choices=METHODS, default="auto",
                   help="enumeration method (default auto = dfs; bruteforce needs N <= 30)")
    ens = p.add_argument_group("random ensemble (with --n)")
    ens.add_argument("--eta", type=common._float, default=None, metavar="E",
                     help="reciprocity eta in [-1, 1] (default 0)")
    ens.add_argument("--dilution", type=common._float, default=None, metavar="C",
                     help="fraction c in (0, 1] of kept couplings (default 1)")
    ens.add_argument("--layers", type=int, default=None, metavar="L",
                     help="number of modules of the modular chain (default 1)")
    ens.add_argument("--lam", type=common._float, default=None, metavar="LAMBDA",
                     help="inter-module coupling lambda >= 0 (default 0)")
    common.add_seed(ens, "the random networks",
                    "sample i uses numpy.random.SeedSequence(S).spawn(M)[i]")
    ens.add_argument("--samples", type=int, default=None, metavar="M",
                     help="number of random networks M >= 1 (default 1)")
    p.add_argument("--save-states", metavar="PATH.npy",
                   help="with --couplings: write the fixed points as packed uint64 codes "
                        "(bit i set iff s_i = +1, ascending) to PATH.npy (at most "
                        "--max-states of them: a seeded sample when there are more)")
    p.add_argument("--max-states", type=int, default=MAX_STATES, metavar="K",
                   help=f"most fixed points kept in memory per network (default {MAX_STATES}, "
                        "which keeps a listing run under 1 GB): --pairs needs all of them and "
                        "stops as soon as there are more (with --n: refused before any work "
                        "when the expected count (E1) is above K); --save-states writes a "
                        "sample of K. Memory about 16 bytes x K per running task + 72 bytes x K; "
                        "a pair histogram takes time proportional to count^2")
    common.add_parallel_options(p, what="prefix tasks of the search (--couplings, N > 30) or "
                                       "the samples (--n)")
    add_output_options(p, csv_help="also write the rows as CSV to PATH (with --n: one per "
                                   "sample, then a summary row)")
    common.output_paths(p, "save_states")
    p.set_defaults(handler=run_enumerate)


def run_enumerate(args) -> Output:
    if args.couplings is not None:
        return _run_couplings(args)
    return _run_ensemble(args)


def _run_couplings(args) -> Output:
    import numpy as np

    from .. import model
    from ..sim.enumerate import TooManyStates, enumerate_fixed_points

    for flag in ("eta", "dilution", "layers", "lam", "seed", "samples"):
        unset = 0 if flag == "seed" else None  # --seed defaults to 0, as in every command
        require(getattr(args, flag) == unset,
                f"--{flag} applies to random networks (--n), not to --couplings")
    if args.save_states is not None:
        require(args.save_states.lower().endswith(".npy"),
                f"--save-states must name a .npy file, got {args.save_states!r}")
    max_states = _check_max_states(args)
    J = model.load_couplings(args.couplings, max_n=model.MAX_PACKED_N)
    if args.jd is not None:
        J = model.with_self_coupling(J, args.jd)
    n = J.shape[0]
    keep = args.pairs or args.save_states is not None
    kw = common.parallel_kwargs(args)
    if keep:
        kw["workers"] = listing_workers(kw["workers"], max_states, kw["scheduler"])
    try:
        res = enumerate_fixed_points(J, method=args.method, return_states=keep,
                                     max_states=max_states, all_states=args.pairs,
                                     local_radius=args.local, **kw)
    except TooManyStates as exc:
        where = f" after {exc.tasks_done} of {exc.tasks} tasks" if exc.tasks else ""
        raise InputError(
            f"--pairs needs every fixed point, and there are more than --max-states "
            f"{max_states} (at least {exc.count} found{where}); raise --max-states (memory "
            "about 16 bytes per fixed point and running task; the pair histogram takes time "
            "proportional to count^2)") from None
    obj = run_info(couplings=str(args.couplings), jd=args.jd, n=n, count=res.count)
    if args.pairs:
        from ..sim.disorder import pair_histogram
        obj["pair_distance_hist"] = pair_histogram(res.states, n).tolist()
    obj.update(seconds=res.seconds, method=res.method, nodes_visited=res.nodes_visited,
               truncated=res.truncated, tasks=res.tasks)
    if res.local is not None:
        obj["local"] = {k: v for k, v in res.local.items() if not k.endswith("_sum")}
    if args.save_states is not None:
        path = tables.check_writable(args.save_states)
        np.save(path, res.states)
        obj["states_file"] = str(path)
        note = " (a seeded sample: too many to keep)" if res.truncated else ""
        print(f"wrote {res.states.size} fixed point(s) to {path}{note}", file=sys.stderr)
    text = f"N = {n}: {res.count} fixed point(s) [{res.method}, {common.format_value(res.seconds)} s]"
    if res.local is not None and res.count:
        loc = res.local
        text += (f"\nmargin: min {common.format_value(loc['margin_min'])}, mean "
                 f"{common.format_value(loc['margin_mean'])}; mean stability "
                 f"{common.format_value(loc['mean_stability'])}")
        for r, v in enumerate(loc["mean_neighbors"], start=1):
            text += f"\nmean number of fixed points at distance {r}: {common.format_value(v)}"
    if args.pairs:
        per_k = [{"k": k, "unordered_pairs": v} for k, v in enumerate(obj["pair_distance_hist"])]
        text += "\nunordered pairs of distinct fixed points at Hamming distance k:\n" \
                + common.format_table(per_k)
    return Output(json=obj, rows=[obj], text=text)


def _run_ensemble(args) -> Output:
    from .. import model
    from ..sim.disorder import disorder_average
    from ..validate.counts import compare_with_theory

    require(args.save_states is None, "--save-states applies to --couplings only")
    require(args.local is None, "--local applies to --couplings only")
    require(args.jd is not None, "--jd is required with --n")
    require(args.seed >= 0, f"--seed must be a non-negative integer, got {args.seed}")
    samples = 1 if args.samples is None else args.samples
    require(samples >= 1, f"--samples must be a positive integer, got {samples}")
    ensemble = model.Ensemble(
        n=args.n, jd=args.jd, eta=0.0 if args.eta is None else args.eta,
        dilution=1.0 if args.dilution is None else args.dilution,
        layers=1 if args.layers is None else args.layers,
        lam=0.0 if args.lam is None else args.lam)
    require(ensemble.size <= model.MAX_PACKED_N,
            f"L*N = {ensemble.size} neurons is too many for exact enumeration "
            f"(at most {model.MAX_PACKED_N})")
    max_states = _check_max_states(args)
    kw = common.parallel_kwargs(args)
    if args.pairs:
        _refuse_expected(ensemble, max_states)
        kw["workers"] = listing_workers(kw["workers"], max_states, kw["scheduler"])
    res = compare_with_theory(
        disorder_average(ensemble, samples, args.seed, pairs=args.pairs, method=args.method,
                         max_states=max_states, **kw), ensemble)
    sample_rows = [run_info(n=ensemble.n, size=ensemble.size, **row) for row in res.rows]
    obj = {**res.info, "size": ensemble.size, **res.summary, "num_samples": samples,
           "samples": sample_rows}
    s = res.summary
    cols = ["sample", "count", "ln_count", "seconds"]
    text = common.format_table(sample_rows[:20], cols)
    if len(sample_rows) > 20:
        text += f"\n... ({len(sample_rows) - 20} more samples; use --json or --csv)"
    summ = {k: s[k] for k in ("samples", "mean_count", "se_count", "expected_count", "z_count",
                              "typical_entropy", "zero_samples")}
    if args.pairs:
        summ["max_abs_z_pairs"] = s["max_abs_z_pairs"]
    text += "\n\nsummary:\n" + common.format_table([summ])
    return Output(json=obj, rows=res.as_rows(), text=text)


def _check_max_states(args) -> int:
    require(args.max_states >= 1, f"--max-states must be a positive integer, got "
                                  f"{args.max_states}")
    require(args.max_states < 2**62, f"--max-states must be below 2^62, got {args.max_states}")
    if args.max_states != MAX_STATES:
        require(args.pairs or args.save_states is not None,
                "--max-states applies to --pairs and --save-states (the runs that keep fixed "
                "points)")
    return int(args.max_states)


def listing_workers(workers, max_states: int, scheduler):
    """Local workers of a listing run: at most as many as keep the running tasks' kept fixed
    points (16 bytes each) within :data:`LISTING_TASK_BUDGET` (a Dask run is not limited)."""
    if scheduler is not None:
        return workers
    from ..parallel import default_workers

    cap = max(1, LISTING_TASK_BUDGET // (16 * max_states))
    return min(workers or default_workers(), cap)


def expected_count(ensemble) -> float | None:
    """E[#FP] of one network of the ensemble, (E1) and its exact extensions
    (:func:`fplandscape.validate.counts.ensemble_log_expected_count`), inf beyond e^700; None
    where no exact formula exists."""
    import math

    from ..validate.counts import ensemble_log_expected_count

    log_e = ensemble_log_expected_count(ensemble)
    if log_e is None:
        return None
    return math.exp(log_e) if log_e < 700 else math.inf


def _refuse_expected(ensemble, max_states: int) -> None:
    """--pairs with --n keeps every fixed point of each network: refuse before any work when
    the expected number (E1) is above --max-states."""
    e = expected_count(ensemble)
    if e is None or e <= max_states:
        return
    raise InputError(
        f"--pairs keeps every fixed point of each network, and N = {ensemble.size} at "
        f"J_D = {ensemble.jd:g} has {e:.3g} on average (E1), more than --max-states "
        f"{max_states}; raise --max-states (memory about 16 bytes per fixed point and running "
        "sample; the pair histogram takes time proportional to count^2) or use a smaller N or "
        "J_D")
