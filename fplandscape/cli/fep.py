"""``fplandscape fep demo|sequence|train|relax|analyse``: the free-energy attractor network of
:mod:`fplandscape.learn.fep` (Spisak & Friston), thin layers over its functions.

* ``demo`` — the two-pattern demonstration (:func:`fplandscape.learn.fep.studies.demo`);
* ``sequence`` — sequence learning of the digits 1, 2, 3 (:func:`~.studies.sequence`);
* ``train`` — train on patterns from a file, the demonstration's or digits, write J (.npz);
* ``relax`` — relax a network from starts to its attractors (:meth:`FEPNetwork.relax`);
* ``analyse`` — fixed points, census and diagnostics of a learned J (:func:`~.studies.analyse`).

``--json`` prints one object (contract keys first); without it a readable table. Weights files
are read by :func:`fplandscape.attractors.load_arrays` (.npy/.csv: J; .npz: array ``J`` or
``W``), pattern files by rows (.npy, .csv, whitespace-separated text).
"""
from __future__ import annotations

import argparse

from ..errors import InputError
from . import common
from .common import Output, add_output_options, require

#: The training protocols of :data:`fplandscape.learn.fep.studies.DEMO` and ``SEQUENCE`` (the
#: keys that are options), written out so that ``--help`` does not import the FEP package
#: (tests/test_startup.py checks that they are equal).
DEMO = {"presentations": 500, "steps": 10, "learning_rate": 0.01, "beta": 0.1, "evidence": 30.0}
SEQUENCE = {"presentations": 2000, "steps": 1, "learning_rate": 0.001, "beta": 1.0,
            "evidence": 20.0}

_DIGITS_HELP = ("digits: scikit-learn's bundled copy (pip install scikit-learn), or --digits-file "
                "FILE.npz with arrays data (M x 64) and target")


def register(subparsers) -> None:
    """Add the ``fep`` group to the top-level subparsers."""
    text = ("self-orthogonalising attractor network from the free-energy principle (Spisak & "
            "Friston): demonstration, sequence learning, training, relaxation and attractor "
            "analysis [fplandscape.learn.fep]")
    p = subparsers.add_parser("fep", help=text, description=text + ".")
    sub = p.add_subparsers(dest="what", metavar="WHAT", required=True)

    seed_option = common.add_seed

    def progress_option(q):
        q.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                       help="progress bar on stderr (default: when stderr is a terminal)")

    def training_options(q, d, *, order_choices, order_default):
        g = q.add_argument_group("training")
        g.add_argument("--order", choices=order_choices, default=order_default,
                       help=f"presentation order (default {order_default})")
        g.add_argument("--presentations", type=int, default=d["presentations"], metavar="T",
                       help=f"number of presentations (default {d['presentations']})")
        g.add_argument("--steps", type=int, default=d["steps"], metavar="K",
                       help=f"updates per presentation (default {d['steps']})")
        g.add_argument("--learning-rate", type=common._float, default=d["learning_rate"],
                       metavar="A", help=f"learning rate (default {d['learning_rate']})")
        g.add_argument("--beta", type=common._float, default=d["beta"], metavar="B",
                       help=f"inverse temperature during training (default {d['beta']})")
        g.add_argument("--evidence", type=common._float, default=d["evidence"], metavar="L",
                       help=f"evidence level: biases = L x pattern (default {d['evidence']})")
        g.add_argument("--out", metavar="FILE", default=None,
                       help="also write the learned couplings to FILE (.npz with arrays J and "
                            "b = 0; readable by 'fplandscape attractors --weights')")
        seed_option(q)
        progress_option(q)
        common.output_paths(q, "out")

    d = sub.add_parser("demo", help="the two-pattern demonstration: correlation of the "
                                    "learned attractors vs that of the training patterns "
                                    "[fplandscape.learn.fep.studies.demo]",
                       description="Two correlated 5x5 patterns (r = 0.77), evidence 30, "
                                   "beta 0.1, learning rate 0.01, 500 presentations x 10 "
                                   "stochastic steps; attractors by deterministic relaxation "
                                   "at beta 1 from L(0.1 x pattern).",
                       epilog="--json: pattern_correlation, attractor_correlation, "
                              "n_attractors, eta, seconds, and more.")
    training_options(d, DEMO, order_choices=("random", "sequential"), order_default="random")
    add_output_options(d, csv_help="also write the summary row as CSV to PATH")
    d.set_defaults(handler=run_demo)

    s = sub.add_parser("sequence", help="sequence learning of the digits 1, 2, 3: symmetry of "
                                        "the couplings and spontaneous replay "
                                        "[fplandscape.learn.fep.studies.sequence]",
                       description="Digits 1, 2, 3 (preprocessed as the reference), evidence "
                                   "20, 2000 presentations of one step, beta 1, learning rate "
                                   "0.001, fixed cyclic or random order. " + _DIGITS_HELP + ".",
                       epilog="--json: eta, asymmetry, seconds, and the free run's "
                              "label_changes and forward_fraction.")
    training_options(s, SEQUENCE, order_choices=("sequential", "random"),
                     order_default="sequential")
    s.add_argument("--digits-file", metavar="FILE", default=None, help=_DIGITS_HELP)
    s.add_argument("--snapshots", type=int, default=0, metavar="C",
                   help="also report eta and asymmetry at C equally spaced training times "
                        "(default 0)")
    add_output_options(s, csv_help="also write the summary row as CSV to PATH")
    s.set_defaults(handler=run_sequence)

    t = sub.add_parser("train", help="train a network on patterns and write its couplings "
                                     "[fplandscape.learn.fep.FEPNetwork.train]",
                       description="Continuous inference and learning from J = 0.")
    src = t.add_argument_group("patterns (one of)").add_mutually_exclusive_group(required=True)
    src.add_argument("--patterns", metavar="FILE", help="patterns, one per row (.npy/.csv/.txt)")
    src.add_argument("--demo-patterns", action="store_true",
                     help="the demonstration's two 5x5 bars")
    src.add_argument("--digits", metavar="CLASS", type=int, nargs="+", default=None,
                     help="digit classes 0-9, space-separated (first example of each, "
                          "preprocessed as the reference); " + _DIGITS_HELP)
    t.add_argument("--digits-file", metavar="FILE", default=None, help="--digits: " + _DIGITS_HELP)
    training_options(t, DEMO, order_choices=("random", "sequential"), order_default="random")
    t.add_argument("--deterministic", action="store_true",
                   help="least-action (mean) updates instead of samples")
    t.add_argument("--update", choices=("sync", "async"), default="sync",
                   help="all units at once (default, the reference) or a sweep")
    add_output_options(t, csv_help="also write the summary row as CSV to PATH")
    t.set_defaults(handler=run_train)

    r = sub.add_parser("relax", help="relax a network from starts to its attractors "
                                     "[fplandscape.learn.fep.FEPNetwork.relax]",
                       description="Updates without learning until the VFE changes by less "
                                   "than --tol (each start on its own).")
    r.add_argument("--weights", required=True, metavar="FILE",
                   help="couplings J (.npy/.csv, or .npz with array J or W)")
    st = r.add_mutually_exclusive_group(required=True)
    st.add_argument("--start", metavar="FILE", help="start states in [-1, 1], one per row")
    st.add_argument("--patterns", metavar="FILE",
                    help="patterns x, one per row: start from L(--start-scale x), the "
                         "reference's way of finding their attractors")
    r.add_argument("--start-scale", type=common._float, default=0.1, metavar="C",
                   help="--patterns: scale inside the Langevin function (default 0.1)")
    r.add_argument("--bias", type=common._float, default=0.0, metavar="B",
                   help="bias of every unit (default 0)")
    r.add_argument("--beta", type=common._float, default=1.0, metavar="B",
                   help="inverse temperature (default 1)")
    r.add_argument("--max-steps", type=int, default=1000, metavar="K",
                   help="largest number of updates (default 1000)")
    r.add_argument("--tol", type=common._float, default=1e-12, metavar="T",
                   help="stop when the VFE changes by less than T (default 1e-12)")
    r.add_argument("--stochastic", action="store_true", help="sample instead of the mean")
    seed_option(r)
    add_output_options(r, csv_help="also write one row per start as CSV to PATH")
    r.set_defaults(handler=run_relax)

    a = sub.add_parser("analyse", help="fixed points, census and diagnostics of a learned "
                                       "network, with the sign version's exact fixed-point "
                                       "count beside the random-matrix prediction "
                                       "[fplandscape.learn.fep.studies.analyse]",
                       description="The deterministic update x <- L(beta (J x + b)) as a "
                                   "RateMap through fplandscape.attractors.")
    a.add_argument("--weights", required=True, metavar="FILE",
                   help="couplings J (.npy/.csv, or .npz with array J or W)")
    a.add_argument("--beta", type=common._float, default=1.0, metavar="B",
                   help="inverse temperature (gain; default 1)")
    a.add_argument("--starts", type=int, default=256, metavar="M",
                   help="starts of the fixed-point search (default 256; 0: skip)")
    a.add_argument("--census-starts", type=int, default=32, metavar="M",
                   help="starts of the census (default 32; 0: skip)")
    a.add_argument("--census-steps", type=int, default=None, metavar="T",
                   help="measured steps of the census (default: the census's)")
    a.add_argument("--exact-max-n", type=int, default=30, metavar="N",
                   help="count the sign version's fixed points exactly up to this N "
                        "(default 30)")
    a.add_argument("--patterns", metavar="FILE", default=None,
                   help="patterns (rows): report the correlation of each stable fixed point "
                        "with each")
    seed_option(a)
    add_output_options(a, csv_help="also write the summary row as CSV to PATH")
    a.set_defaults(handler=run_analyse)


# --------------------------------------------------------------------------------------------


def _rows(path, what):
    import numpy as np

    from .attractors import _read_vectors

    return np.atleast_2d(_read_vectors(path, what))


def _weights(path):
    import numpy as np

    from ..attractors import load_arrays

    arrays = load_arrays(path)
    J = np.asarray(arrays["W"], dtype=np.float64)
    require(J.ndim == 2 and J.shape[0] == J.shape[1],
            f"weights must be a square matrix, got shape {J.shape}")
    require(np.all(np.isfinite(J)), "weights have non-finite entries")
    return J


def _check_training(args):
    require(args.seed >= 0, f"--seed must be a non-negative integer, got {args.seed}")
    require(args.presentations >= 1, "--presentations must be a positive integer")
    require(args.steps >= 1, "--steps must be a positive integer")
    require(args.beta > 0, f"--beta must be positive, got {args.beta}")
    require(args.learning_rate >= 0, f"--learning-rate must be >= 0, got {args.learning_rate}")


def _overrides(args) -> dict:
    return {"presentations": args.presentations, "steps": args.steps,
            "learning_rate": args.learning_rate, "beta": args.beta, "evidence": args.evidence}


def _check_out(args) -> None:
    """``--out`` names a .npz file: refused before any training otherwise."""
    out = getattr(args, "out", None)
    if out is not None and not str(out).lower().endswith(".npz"):
        raise InputError(f"--out must name a .npz file, got {str(out)!r}")


def _save(path, J) -> str:
    import numpy as np

    from ..tables import check_writable

    p = check_writable(path)
    if p.suffix.lower() != ".npz":
        raise InputError(f"--out must name a .npz file, got {str(p)!r}")
    np.savez(p, J=np.asarray(J), b=np.zeros(len(J)))
    return str(p)


_SKIP = ("J", "attractors", "params", "trace", "free_run_labels")


def _summary_output(res: dict, first: tuple, out_path=None, J=None) -> Output:
    if out_path is not None:
        res["out"] = _save(out_path, J if J is not None else res["J"])
    obj = {k: res[k] for k in first}
    obj.update({k: v for k, v in res.items() if k not in first and k != "J"})
    row = {k: v for k, v in obj.items() if k not in _SKIP and not isinstance(v, (list, dict))}
    text = common.format_table([{"quantity": k, "value": v} for k, v in row.items()
                                if k != "version"])
    return Output(json=obj, rows=[row], text=text)


def run_demo(args) -> Output:
    _check_out(args)
    from ..learn.fep import studies

    _check_training(args)
    res = studies.demo(args.seed, args.order, progress=args.progress, **_overrides(args))
    return _summary_output(res, ("pattern_correlation", "attractor_correlation", "n_attractors",
                                 "eta", "seconds"), args.out)


def run_sequence(args) -> Output:
    _check_out(args)
    from ..learn.fep import studies

    _check_training(args)
    require(args.snapshots >= 0, "--snapshots must be a non-negative integer")
    res = studies.sequence(args.seed, args.order, digits_path=args.digits_file,
                           snapshots=args.snapshots, progress=args.progress,
                           **_overrides(args))
    return _summary_output(res, ("eta", "asymmetry", "seconds"), args.out)


def _patterns(args):
    from ..learn.fep.data import demo_patterns, digit_patterns

    if args.demo_patterns:
        return demo_patterns()
    if args.digits is not None:
        classes = list(args.digits)
        require(classes and all(0 <= c <= 9 for c in classes),
                f"--digits must be digit classes 0-9, got {' '.join(map(str, classes))}")
        return digit_patterns(classes, args.digits_file)
    return _rows(args.patterns, "patterns")


def run_train(args) -> Output:
    import time

    import numpy as np

    from ..learn.fep import FEPNetwork

    _check_out(args)
    _check_training(args)
    X = _patterns(args)
    t0 = time.perf_counter()
    # the generator of `fep demo` with the same seed (same patterns and options, same J)
    rng = np.random.default_rng(np.random.SeedSequence(args.seed, spawn_key=(0,)))
    net = FEPNetwork.zeros(X.shape[1], seed=rng, update=args.update)
    net.train(X, presentations=args.presentations, steps=args.steps,
              learning_rate=args.learning_rate, beta=args.beta, evidence=args.evidence,
              order=args.order, stochastic=not args.deterministic, progress=args.progress)
    from .._version import __version__

    res = {"version": __version__, "seed": args.seed, "n": net.n, "patterns": int(len(X)),
           **net.symmetry(), "seconds": time.perf_counter() - t0,
           "params": {**_overrides(args), "order": args.order, "update": args.update,
                      "stochastic": not args.deterministic}}
    return _summary_output(res, ("n", "eta", "asymmetry", "seconds"), args.out, J=net.J)


def run_relax(args) -> Output:
    import numpy as np

    from .._version import __version__
    from ..learn.fep import FEPNetwork, cb

    require(args.seed >= 0, f"--seed must be a non-negative integer, got {args.seed}")
    require(args.beta > 0, f"--beta must be positive, got {args.beta}")
    require(args.max_steps >= 1, "--max-steps must be a positive integer")
    require(args.tol > 0, f"--tol must be positive, got {args.tol}")
    J = _weights(args.weights)
    if args.start is not None:
        X = _rows(args.start, "start")
    else:
        X = cb.langevin(args.start_scale * _rows(args.patterns, "patterns"))
    require(X.shape[1] == J.shape[0], f"starts have length {X.shape[1]}, the network has "
                                      f"{J.shape[0]} units")
    net = FEPNetwork(J, seed=args.seed)
    res = net.relax(X, b=args.bias, beta=args.beta, stochastic=args.stochastic,
                    max_steps=args.max_steps, tol=args.tol)
    obj = {"version": __version__, "n_starts": int(len(X)),
           "n_converged": int(np.sum(res.converged)), **res.to_dict()}
    rows = [{"start": i, "steps": int(s), "converged": bool(c), "vfe": float(v)}
            for i, (s, c, v) in enumerate(zip(res.steps, res.converged, res.vfe))]
    text = (f"{obj['n_converged']} of {obj['n_starts']} start(s) converged\n"
            + common.format_table(rows))
    return Output(json=obj, rows=rows, text=text)


def run_analyse(args) -> Output:
    from ..learn.fep import studies

    require(args.seed >= 0, f"--seed must be a non-negative integer, got {args.seed}")
    require(args.beta > 0, f"--beta must be positive, got {args.beta}")
    for name in ("starts", "census_starts", "exact_max_n"):
        require(getattr(args, name) >= 0, f"--{name.replace('_', '-')} must be >= 0")
    require(args.census_steps is None or args.census_steps >= 1,
            "--census-steps must be a positive integer")
    J = _weights(args.weights)
    patterns = _rows(args.patterns, "patterns") if args.patterns else None
    res = studies.analyse(J, beta=args.beta, n_starts=args.starts,
                          census_starts=args.census_starts, census_steps=args.census_steps,
                          exact_max_n=args.exact_max_n, seed=args.seed, patterns=patterns)
    row = {k: v for k, v in res.items() if not isinstance(v, (list, dict))}
    for k, v in res["diagnosis"].items():
        if not isinstance(v, (list, dict)):
            row[f"sign_{k}"] = v
    if "census" in res:
        for k, v in res["census"]["fractions"].items():
            row[f"census_{k}"] = v
    text = common.format_table([{"quantity": k, "value": v} for k, v in row.items()
                                if k != "version"])
    return Output(json=res, rows=[row], text=text)
