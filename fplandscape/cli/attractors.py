"""``fplandscape attractors fixed-points|census|lyapunov|diagnose``: the attractor analyses of
:mod:`fplandscape.attractors` on a network read from a file (thin layers, one function each).

The network: ``--weights FILE`` (``.npy``/``.csv``: the recurrent matrix; ``.npz``: arrays W,
U, b, tau; ``.pt``/``.pth``: a one-layer ``nn.RNN`` state dict, needs torch), read by
:func:`fplandscape.attractors.load_system` as ``--model map`` (x ← φ(W x + U u + b)),
``leaky`` (τ du/dt = −u + W φ(u) + U u_in + I) or ``sign`` (s ← sign(W s + b)).
``--input FILE`` holds one frozen input vector (1-D) or one per row (2-D): the analysis runs
once per input: ``--json`` prints ``{"results": [one object per input], "version": ...}``
(one input, or none, included).
"""
from __future__ import annotations

from .._version import __version__
from ..errors import InputError
from . import common
from .common import Output, add_output_options, require

_MODELS = ("map", "leaky", "sign")
#: The choices of ``--phi``: :data:`fplandscape.attractors.phi.PHI_NAMES`, written out so that
#: ``--help`` does not import the attractor package (tests/test_startup.py checks they agree).
PHI_NAMES = ("tanh", "relu", "hard_tanh", "logistic", "linear", "langevin")


def register(subparsers) -> None:
    """Add the ``attractors`` group to the top-level subparsers."""
    text = ("fixed points, attractor census, Lyapunov exponents and symmetry diagnostics of a "
            "recurrent network read from a file [fplandscape.attractors]")
    p = subparsers.add_parser("attractors", help=text, description=text + ".")
    sub = p.add_subparsers(dest="what", metavar="WHAT", required=True)

    def network_options(q, *, starts_default):
        g = q.add_argument_group("network")
        g.add_argument("--weights", required=True, metavar="FILE",
                       help="weights file: .npy/.csv (recurrent matrix W, W[i, j] from unit j "
                            "to unit i), .npz (arrays W, U, b, tau) or .pt/.pth (a one-layer "
                            "torch nn.RNN state dict; needs torch)")
        g.add_argument("--model", choices=_MODELS, default="map",
                       help="map: x <- phi(W x + U u + b) (default); leaky: tau du/dt = -u + "
                            "W phi(u) + U u_in + I; sign: s <- sign(W s + b)")
        g.add_argument("--phi", choices=PHI_NAMES, default="tanh",
                       help="transfer function (default tanh)")
        g.add_argument("--tau", type=common._float, default=None, metavar="T",
                       help="leaky: time constant (default: the file's tau, else 1)")
        g.add_argument("--input", metavar="FILE", default=None,
                       help="frozen input(s) u (.npy/.csv/.txt): one vector, or one per row; "
                            "needs an input matrix U in the weights file")
        g.add_argument("--starts", type=int, default=starts_default, metavar="M",
                       help=f"number of starts (default {starts_default})")
        common.add_seed(g, "the starts", "same seed, same answer whatever --workers")

    def trajectory_options(q, *, k_help):
        q.add_argument("--k", type=int, default=3, metavar="K", help=k_help)
        q.add_argument("--transient", type=int, default=None, metavar="T",
                       help="discarded steps (default 1000 for maps, 2000 RK4 steps for flows)")
        q.add_argument("--steps", type=int, default=None, metavar="T",
                       help="measured steps (default 5000 for maps, 20000 RK4 steps for flows)")

    f = sub.add_parser("fixed-points", help="fixed points with Jacobian eigenvalues, stability "
                                            "and labels; slow points apart "
                                            "[fplandscape.attractors.find_fixed_points]",
                       description="Multistart minimisation of q = |F|^2/2, Newton polishing "
                                   "and de-duplication; --certified proves that the list is "
                                   "complete in the state box (small N).")
    network_options(f, starts_default=512)
    f.add_argument("--certified", action="store_true",
                   help="interval Krawczyk proof of completeness in the state box (small N)")
    f.add_argument("--box", type=common._float, nargs=2, default=None, metavar=("LO", "HI"),
                   help="--certified: box [LO, HI]^N when phi is unbounded (relu, linear)")
    f.add_argument("--precision", choices=("mixed", "double"), default="mixed",
                   help="arithmetic of the first (L-BFGS) phase: mixed = float32 where the "
                        "network allows it, then float64 polish (default); double = float64 "
                        "throughout")
    f.add_argument("--deflation-starts", type=int, default=None, metavar="M",
                   help="starts of the second, deflated search that avoids the roots found "
                        "so far (default: a quarter of --starts; 0: off)")
    common.add_parallel_options(f, what="start tasks")
    add_output_options(f, csv_help="also write one row per fixed point as CSV to PATH")
    f.set_defaults(handler=run_fixed_points)

    c = sub.add_parser("census", help="attractors reached from random starts: fixed points, "
                                      "cycles, tori, chaos, divergence, with basins and "
                                      "Lyapunov exponents [fplandscape.attractors.census]",
                       description="Classify the long-time behaviour of every start and merge "
                                   "identical attractors; sign networks with N <= 20 get the "
                                   "exact census of all 2^N states.")
    network_options(c, starts_default=200)
    trajectory_options(c, k_help="Lyapunov exponents per attractor (default 3)")
    common.add_parallel_options(c, what="start tasks")
    add_output_options(c, csv_help="also write one row per attractor as CSV to PATH")
    c.set_defaults(handler=run_census)

    ly = sub.add_parser("lyapunov", help="top-k Lyapunov exponents along trajectories, with "
                                         "standard errors [fplandscape.attractors."
                                         "lyapunov_spectrum]",
                        description="QR (Benettin) method from --starts random states of the "
                                    "state box (or the states in --x0 FILE).")
    network_options(ly, starts_default=1)
    ly.add_argument("--x0", metavar="FILE", default=None,
                    help="initial state(s) (.npy/.csv/.txt: one per row) instead of random starts")
    trajectory_options(ly, k_help="number of exponents (default 3, at most N)")
    add_output_options(ly, csv_help="also write one row per start and exponent as CSV to PATH")
    ly.set_defaults(handler=run_lyapunov)

    d = sub.add_parser("diagnose", help="symmetry of W, overlaps of the attractors found, and "
                                        "the exact fixed-point count of the sign version beside "
                                        "the random-network theory [fplandscape.attractors."
                                        "diagnose]",
                       description="With --starts > 0 the fixed points of the network (as "
                                   "--model) are found first and their overlaps reported.")
    network_options(d, starts_default=0)
    d.add_argument("--exact-max-n", type=int, default=40, metavar="N",
                   help="count the sign version's fixed points exactly up to this N "
                        "(default 40)")
    common.add_parallel_options(d, what="enumeration tasks", checkpoint_option=False)
    add_output_options(d, csv_help="also write the diagnosis row as CSV to PATH")
    d.set_defaults(handler=run_diagnose)


def _read_vectors(path, what):
    import numpy as np

    from ..tables import check_readable, read_text_matrix

    p = check_readable(path, what)
    try:
        if p.suffix.lower() == ".npy":
            arr = np.load(p, allow_pickle=False)
        else:
            arr = read_text_matrix(p, delimiter="," if p.suffix.lower() == ".csv" else None,
                                   ndmin=0)
    except (OSError, ValueError) as exc:
        raise InputError(f"cannot read {what} from {str(p)!r}: {exc}") from None
    arr = np.asarray(arr, dtype=np.float64)
    if arr.size == 0 or arr.ndim > 2:
        raise InputError(f"{what} file {str(p)!r} must hold one vector or a matrix of rows")
    if not np.all(np.isfinite(arr)):
        raise InputError(f"{what} file {str(p)!r} has non-finite entries")
    return arr


def _system(args):
    import numpy as np

    from ..attractors import load_system

    require(args.seed >= 0, f"--seed must be a non-negative integer, got {args.seed}")
    require(args.starts >= 0, f"--starts must be a non-negative integer, got {args.starts}")
    system = load_system(args.weights, model=args.model, phi=args.phi, tau=args.tau)
    inputs = None
    if args.input is not None:
        inputs = _read_vectors(args.input, "input")
        m = system.n_inputs
        require(m > 0, "--input needs an input matrix U in the weights file (.npz array U or "
                       "a state dict's weight_ih_l0)")
        if inputs.ndim == 1 and m > 1:
            require(inputs.size == m, f"--input has length {inputs.size}, expected {m}")
        if inputs.ndim == 1 and m == 1 and inputs.size > 1:
            inputs = inputs[:, None]  # one scalar input per line
        if inputs.ndim == 2:
            require(inputs.shape[1] == m, f"--input rows have length {inputs.shape[1]}, "
                                          f"expected {m}")
        for u in np.atleast_2d(inputs):
            system.with_input(u)  # validates before any work
    return system, inputs


def _check_trajectory(args):
    require(args.k >= 1, f"--k must be a positive integer, got {args.k}")
    for name in ("transient", "steps"):
        v = getattr(args, name)
        require(v is None or v >= 1, f"--{name} must be a positive integer, got {v}")


def _emit(results, rows_of, text_of) -> Output:
    """One result per frozen input (a single one without ``--input``): the JSON object is
    ``{"results": [...], "version": ...}`` however many inputs; the rows get an
    ``input_index`` column when there are several inputs."""
    items = results if isinstance(results, list) else [results]
    rows = []
    for i, r in enumerate(items):
        for row in rows_of(r):
            rows.append({"input_index": i, **row} if len(items) > 1 else row)
    obj = {"results": [r.to_dict() for r in items], "version": __version__}
    text = "\n\n".join((f"input {i}:\n" if len(items) > 1 else "") + text_of(r)
                       for i, r in enumerate(items))
    return Output(json=obj, rows=rows, text=text)


def run_fixed_points(args) -> Output:
    import numpy as np

    from ..attractors import find_fixed_points

    system, inputs = _system(args)
    require(args.starts >= 1, "--starts must be a positive integer")
    box = None
    if args.box is not None:
        lo, hi = args.box
        require(lo < hi, f"--box needs LO < HI, got {lo} {hi}")
        box = (np.full(system.dim, lo), np.full(system.dim, hi))
    require(args.deflation_starts is None or args.deflation_starts >= 0,
            "--deflation-starts must be a non-negative integer")
    res = find_fixed_points(system, n_starts=args.starts, inputs=inputs, seed=args.seed,
                            certified=args.certified, box=box, precision=args.precision,
                            deflation_starts=args.deflation_starts,
                            **common.parallel_kwargs(args))

    def text(fp):
        head = (f"{len(fp)} fixed point(s) of the {fp.system.get('system')} (N = "
                f"{fp.system.get('dim')}), {int(np.sum(fp.stable))} stable"
                + ("; the list is complete (proven)" if fp.complete else "")
                + (f"; {len(fp.slow_q)} slow point(s) apart" if len(fp.slow_q) else ""))
        return head + "\n" + common.format_table(fp.as_rows())

    return _emit(res, lambda fp: fp.as_rows(), text)


def run_census(args) -> Output:
    from ..attractors import census

    system, inputs = _system(args)
    require(args.starts >= 1, "--starts must be a positive integer")
    _check_trajectory(args)
    res = census(system, n_starts=args.starts, inputs=inputs, seed=args.seed, k=args.k,
                 transient=args.transient, steps=args.steps, **common.parallel_kwargs(args))

    def text(c):
        fr = ", ".join(f"{k} {v:.3g}" for k, v in c.fractions().items() if v)
        head = (f"{len(c)} attractor(s) from {c.n_starts} "
                f"{'states (exact census)' if c.exact else 'starts'}; basin fractions: "
                f"{fr or 'none'}")
        if c.params.get("unresolved"):
            head += (f"\n{c.params['unresolved']} start(s) unresolved (no cycle closed within "
                     "the step budget; raise --steps)")
        return head + "\n" + common.format_table(c.as_rows())

    return _emit(res, lambda c: c.as_rows(), text)


def run_lyapunov(args) -> Output:
    import numpy as np

    from ..attractors import lyapunov_spectrum
    from ..attractors.starts import state_box

    system, inputs = _system(args)
    _check_trajectory(args)
    require(inputs is None or np.ndim(inputs) == 1 or len(inputs) == 1,
            "lyapunov takes one frozen input")
    if inputs is not None:
        system = system.with_input(np.atleast_2d(inputs)[0])
    if args.x0 is not None:
        x0 = _read_vectors(args.x0, "x0")
    else:
        require(args.starts >= 1, "--starts must be a positive integer")
        lo, hi = state_box(system)
        x0 = lo + (hi - lo) * np.random.default_rng(args.seed).random((args.starts, system.dim))
    res = lyapunov_spectrum(system, x0, args.k, steps=args.steps, transient=args.transient,
                            seed=args.seed)

    unit = "per step" if res.kind == "map" else "per unit time"
    text = f"top-{args.k} Lyapunov exponents ({unit}):\n" + common.format_table(res.as_rows())
    return Output(json=res.to_dict(), rows=res.as_rows(), text=text)


def run_diagnose(args) -> Output:
    from ..attractors import diagnose, find_fixed_points

    system, inputs = _system(args)
    require(args.exact_max_n >= 0, f"--exact-max-n must be >= 0, got {args.exact_max_n}")
    common.check_workers(args)
    W = getattr(system, "W", getattr(system, "J", None))
    attractors = None
    if args.starts:
        attractors = find_fixed_points(system, n_starts=args.starts, seed=args.seed,
                                       workers=args.workers, scheduler=args.scheduler,
                                       progress=args.progress)
    d = diagnose(W, attractors, exact_max_n=args.exact_max_n, workers=args.workers)
    rows = d.as_rows()
    return Output(json=d.to_dict(), rows=rows, text=common.format_table(
        [{"quantity": k, "value": v} for k, v in rows[0].items() if k != "version"]))
