"""``fplandscape enumerate ...``: exact enumeration of fixed points, thin layer over
:func:`fplandscape.sim.enumerate.enumerate_fixed_points` (one given network, ``--couplings``)
and :func:`fplandscape.sim.disorder.disorder_average` (random networks, ``--n``).
"""
from __future__ import annotations

import sys

import numpy as np

from .. import model, tables
from ..provenance import run_info
from ..sim.enumerate import METHODS, enumerate_fixed_points
from . import common
from .common import Output, add_output_options, require


def register(subparsers) -> None:
    """Add the ``enumerate`` command to the top-level subparsers."""
    text = ("count (and list) every fixed point of one network (--couplings FILE) "
            "[fplandscape.sim.enumerate_fixed_points], or of --samples random networks of the "
            "spec §1 ensemble (--n N) with means and the exact theory (E1)/(E4) alongside "
            "[fplandscape.sim.disorder.disorder_average]")
    p = subparsers.add_parser("enumerate", help=text, description=text + ".",
                              epilog="--csv with --n writes one row per sample (kind = sample) "
                                     "followed by one summary row (kind = summary); with "
                                     "--couplings one row.")
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
    ens.add_argument("--seed", type=int, default=None, metavar="S",
                     help="non-negative integer seed (required with --n); sample i uses "
                          "numpy.random.SeedSequence(S).spawn(M)[i]")
    ens.add_argument("--samples", type=int, default=None, metavar="M",
                     help="number of random networks M >= 1 (default 1)")
    p.add_argument("--save-states", metavar="PATH.npy",
                   help="with --couplings: write the fixed points as packed uint64 codes "
                        "(bit i set iff s_i = +1, ascending) to PATH.npy")
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
    for flag in ("eta", "dilution", "layers", "lam", "seed", "samples"):
        require(getattr(args, flag) is None,
                f"--{flag} applies to random networks (--n), not to --couplings")
    if args.save_states is not None:
        require(args.save_states.lower().endswith(".npy"),
                f"--save-states must name a .npy file, got {args.save_states!r}")
    J = model.load_couplings(args.couplings, max_n=model.MAX_PACKED_N)
    if args.jd is not None:
        J = model.with_self_coupling(J, args.jd)
    n = J.shape[0]
    keep = args.pairs or args.save_states is not None
    res = enumerate_fixed_points(J, method=args.method, return_states=keep,
                                 local_radius=args.local, **common.parallel_kwargs(args))
    obj = run_info(couplings=str(args.couplings), jd=args.jd, n=n, count=res.count)
    if args.pairs:
        require(not res.truncated, f"{res.count} fixed points are too many to keep for the pair "
                                   "histogram")
        from ..sim.clusters import pair_distance_histogram
        obj["pair_distance_hist"] = np.asarray(pair_distance_histogram(res.states, n)).tolist()
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
    from ..sim.disorder import disorder_average

    require(args.save_states is None, "--save-states applies to --couplings only")
    require(args.local is None, "--local applies to --couplings only")
    require(args.jd is not None, "--jd is required with --n")
    require(args.seed is not None, "--seed is required with --n")
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
    res = disorder_average(ensemble, samples, args.seed, pairs=args.pairs, method=args.method,
                           **common.parallel_kwargs(args))
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
