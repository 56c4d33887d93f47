"""Training loop, evaluation and checkpoints (docs/learning.md).

One **presentation** of a batch (x, label): targets y = one-vs-all ±1 codes;
:func:`fplandscape.learn.network.relax` from the zero state with warm-up (L sweeps), ``steer``
sweeps with input and feedback λ_back W^back ŷ on (readout clamped to y), ``free`` sweeps with
the feedback off (input and clamp kept; the clamped readout no longer acts on the hidden units),
then :func:`fplandscape.learn.rule.plasticity_step` on the final state. An **epoch** presents the
training set once in a fresh random order, in batches of ``batch`` (the last one may be smaller).

**Inference** (:func:`evaluate`): relax without feedback and label (warm-up + ``eval_sweeps``
sweeps; synchronous runs use every unit at every sweep, ``update_prob`` applies to training only)
and predict argmax_c h_c of the readout *fields* (ties → lowest class index). After every epoch
the whole training and test sets are evaluated this way (``train_accuracy``,
``test_accuracy``).

Seeds: ``SeedSequence(seed).spawn(2)`` → (couplings, training stream). The training stream
(a PCG64 Generator) draws the epoch permutations, the update masks (``update_prob`` < 1) and, in
asynchronous mode, one 63-bit seed per batch for the kernel's random orders. Asynchronous
evaluation uses ``run_dynamics(seed=seed)`` with the example index as run index, so it never
touches the training stream. Hence the same seed gives the same couplings after every epoch.

Timing: ``seconds`` of an epoch row is the wall time of the presentations and plasticity only
(evaluation separately in ``eval_seconds``); ``samples_per_second`` = training examples / seconds.

**Checkpoints** (``checkpoint=DIR``): a :class:`fplandscape.parallel.Snapshot`, the shared
checkpoint of sequential runs: ``DIR/manifest.json`` (version and every input that determines
the run — architecture, plasticity, schedule, seed and a SHA-256 of the data; not the number of
epochs, so a resumed run may go on longer; manifests of older versions keep their meaning, see
:func:`_upgrade_manifest`) and ``DIR/state.npz`` (the couplings, and as metadata the epoch
reached, the training stream's bit-generator state and the history, with a SHA-256 checksum),
replaced atomically after every epoch. ``resume=True`` continues from it, and the result is bit
for bit that of an uninterrupted run (couplings, predictions, accuracies; only wall times
differ). An existing checkpoint is never overwritten without ``resume``; resuming with other
inputs, or from a damaged ``state.npz``, is refused (InputError). Checkpoint directories of
earlier versions (a manifest without ``run_key``, a ``state.npz`` without checksum) resume as
they are (the Snapshot's legacy reader).
"""
from __future__ import annotations

import hashlib
import math
import sys
import time
from dataclasses import asdict, dataclass, field
from typing import Optional

import numpy as np

from .. import model
from .._version import __version__
from ..errors import InputError, Interrupted, check_count, check_choice
from ..blas import single_thread
from ..parallel import Snapshot
from .data import Dataset
from .network import (FEEDBACK_FROM, MODES, WARMUPS, Architecture, Network, init_network, one_vs_all,
                      readout_fields, relax)
from .rule import Plasticity, plasticity_step

__all__ = ["Schedule", "TrainResult", "train", "evaluate", "predict", "inference_states",
           "presentation_states",
           "seeds", "data_fingerprint"]

_EVAL_BATCH = 1000


@dataclass(frozen=True)
class Schedule:
    """Batch size, sweeps per phase, update mode. ``eval_sweeps`` None → ``steer + free``.

    ``warmup``: the order of the L warm-up sweeps (:func:`fplandscape.learn.network.relax`):
    ``"front"`` (default; sweep t updates modules 0..t) or ``"all"`` (every module at every
    sweep, with the training's ``update_prob``; the reference code's schedule).
    ``eval_update_prob``: the update probability of the synchronous inference sweeps
    (default 1: every unit at every sweep; :func:`inference_states`).
    ``feedback_from``: what drives the steering feedback in training presentations,
    ``"target"`` (default) or ``"readout"`` (a readout state that follows the dynamics and lags
    the target by a sweep, the reference code's; synchronous mode only).
    :meth:`reference` is the reference code's multi-module schedule.
    """

    batch: int = 16
    steer: int = 5
    free: int = 5
    eval_sweeps: Optional[int] = None
    mode: str = "sync"
    update_prob: float = 1.0
    warmup: str = "front"
    feedback_from: str = "target"
    eval_update_prob: float = 1.0

    @classmethod
    def reference(cls, layers: int, *, sweeps: int = 7, update_prob: float = 0.85,
                  batch: int = 16) -> "Schedule":
        """The reference code's schedule for ``layers`` modules (its ``double_dynamics`` with
        ``max_steps_train`` = ``sweeps``, default 7, and ``p_update`` = ``update_prob``):
        ``sweeps`` sweeps with the feedback on, of which the first L are the warm-up without
        feedback (every module at once, ``warmup="all"``; the feedback driven by the readout
        state, ``feedback_from="readout"``), then ``sweeps`` free sweeps — for two modules
        2 + 5 + 7. Inference: warm-up + ``sweeps`` − L sweeps (``eval_sweeps``),
        the reference's 7 sweeps in all, with the same update probability
        (``eval_update_prob``), as the reference's inference."""
        check_count(layers, "layers", minimum=1)
        check_count(sweeps, "sweeps", minimum=layers)
        return cls(batch=batch, steer=sweeps - layers, free=sweeps,
                   eval_sweeps=sweeps - layers, update_prob=update_prob, warmup="all",
                   feedback_from="readout", eval_update_prob=update_prob)

    def __post_init__(self):
        check_count(self.batch, "batch", minimum=1)
        for name in ("steer", "free", "eval_sweeps"):
            v = getattr(self, name)
            if v is None and name == "eval_sweeps":
                continue
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 0:
                raise InputError(f"{name} sweeps must be a non-negative integer, got {v!r}")
        check_choice(self.mode, "mode", MODES)
        for name in ("update_prob", "eval_update_prob"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not 0 < v <= 1:
                raise InputError(f"{name} must lie in (0, 1], got {v!r}")
        check_choice(self.warmup, "warmup", WARMUPS)
        check_choice(self.feedback_from, "feedback_from", FEEDBACK_FROM)
        if self.feedback_from == "readout" and self.mode != "sync":
            raise InputError("feedback_from='readout' needs synchronous updates (mode='sync')")

    @property
    def t_eval(self) -> int:
        return self.steer + self.free if self.eval_sweeps is None else self.eval_sweeps

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass
class TrainResult:
    """The trained network, one history row per epoch (tidy, with version/seed/parameters), the
    final accuracies and timings."""

    network: Network
    history: list
    train_accuracy: float
    test_accuracy: float
    epochs: int
    seconds_per_epoch: float
    samples_per_second: float
    params: dict = field(default_factory=dict)

    def summary(self) -> dict:
        n = self.params.get("n_train", 0)
        per60k = 60000.0 / self.samples_per_second if self.samples_per_second else None
        return {"version": __version__, **self.params, "epochs": self.epochs,
                "train_accuracy": self.train_accuracy, "test_accuracy": self.test_accuracy,
                "seconds_per_epoch": self.seconds_per_epoch,
                "samples_per_second": self.samples_per_second,
                "seconds_per_60k_samples": per60k, "n_train": n}

    def as_rows(self) -> list:
        """Tidy rows: the history, one dict per epoch (copies)."""
        return [dict(row) for row in self.history]


def seeds(seed):
    """(couplings SeedSequence, training SeedSequence) of a run."""
    return np.random.SeedSequence(model.check_int_seed(seed)).spawn(2)


def data_fingerprint(data: Dataset) -> str:
    h = hashlib.sha256()
    for a in (data.x_train, data.y_train, data.x_test, data.y_test):
        h.update(np.ascontiguousarray(a).tobytes())
        h.update(str(a.shape).encode())
    return h.hexdigest()[:20]


def inference_states(net: Network, x, schedule: Schedule = Schedule(), *,
                     seed: int = 0) -> np.ndarray:
    """The hidden states (L, M, H) of inference (module docstring): free relaxation without
    feedback and label, warm-up (``schedule.warmup``) + ``schedule.t_eval`` sweeps, in batches
    of 1000. Asynchronous runs use ``run_dynamics(seed=seed)`` with run index 2·(example
    index); with ``schedule.eval_update_prob`` p < 1 (synchronous) every unit updates with
    probability p at every sweep, masks from ``default_rng(SeedSequence(seed,
    spawn_key=(1,)))`` drawn batch after batch (never the training stream)."""
    x = np.asarray(x, dtype=np.float64)
    p = schedule.eval_update_prob
    rng = (np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(1,)))
           if p < 1.0 and schedule.mode == "sync" else None)
    S = np.empty((net.arch.layers, x.shape[0], net.arch.hidden))
    for lo in range(0, x.shape[0], _EVAL_BATCH):
        S[:, lo:lo + _EVAL_BATCH] = relax(
            net, x[lo:lo + _EVAL_BATCH], free=schedule.t_eval, mode=schedule.mode,
            async_seed=seed, async_first_run=2 * lo, warmup=schedule.warmup,
            update_prob=p if rng is not None else 1.0, rng=rng)
    return S


def predict(net: Network, x, schedule: Schedule = Schedule(), *, seed: int = 0) -> np.ndarray:
    """Predicted classes: argmax_c of the readout fields h_c on the :func:`inference_states`
    (ties → the lowest class index)."""
    S = inference_states(net, x, schedule, seed=seed)
    out = np.empty(S.shape[1], dtype=np.int64)
    for lo in range(0, S.shape[1], _EVAL_BATCH):
        out[lo:lo + _EVAL_BATCH] = np.argmax(readout_fields(net, S[:, lo:lo + _EVAL_BATCH]),
                                             axis=1)
    return out


def evaluate(net: Network, x, labels, schedule: Schedule = Schedule(), *, seed: int = 0) -> float:
    """Accuracy of :func:`predict` on (x, labels)."""
    labels = np.asarray(labels)
    if labels.size == 0:
        return float("nan")
    return float(np.mean(predict(net, x, schedule, seed=seed) == labels))


def presentation_states(net: Network, x, labels, schedule: Schedule = Schedule(), *, rng=None,
                        async_seed=None) -> np.ndarray:
    """Final hidden states (L, B, H) of training presentations (warm-up, steered, free) of a
    batch, without plasticity."""
    y = one_vs_all(labels, net.arch.classes)
    return relax(net, x, y=y, steer=schedule.steer, free=schedule.free, mode=schedule.mode,
                 update_prob=schedule.update_prob, rng=rng, async_seed=async_seed,
                 warmup=schedule.warmup, feedback_from=schedule.feedback_from)


# --------------------------------------------------------------------------------------------
# checkpoints


def _manifest_params(arch, rule, schedule, seed, data):
    return {"architecture": arch.as_dict(), "plasticity": rule.as_dict(),
            "schedule": schedule.as_dict(), "seed": int(seed), "data": data_fingerprint(data),
            "dataset": data.name}


def _upgrade_manifest(old, params):
    """Read manifests of older versions with the meaning they had: a missing ``input_to`` fed
    the input to module 0 only (``"first"``; for one module the wirings coincide, so as the
    requested value); a missing ``skip`` had no skip connections; a missing ``lr_scale`` applied
    the rates as given (``"none"``); a missing ``warmup`` was the ``"front"`` order, a missing
    ``feedback_from`` the ``"target"``."""
    p = old.get("params") or {}
    arch, rule, sched = p.get("architecture"), p.get("plasticity"), p.get("schedule")
    if isinstance(sched, dict):
        sched.setdefault("warmup", "front")
        sched.setdefault("feedback_from", "target")
        sched.setdefault("eval_update_prob", 1.0)
    if isinstance(arch, dict):
        if "input_to" not in arch:
            new = params["architecture"]
            arch["input_to"] = new["input_to"] if arch.get("layers") == 1 else "first"
        arch.setdefault("skip", False)
    if isinstance(rule, dict):
        rule.setdefault("lr_scale", "none")
        rule.setdefault("readout_code", "pm1")
        rule.setdefault("weight_decay_in", None)


def _open_checkpoint(path, params, resume) -> Snapshot:
    """The training checkpoint in ``path``: a :class:`~fplandscape.parallel.Snapshot` of the
    run ``params`` (:func:`_manifest_params`), older manifests read by
    :func:`_upgrade_manifest`."""
    return Snapshot(path, params, resume=resume,
                    upgrade=lambda old: _upgrade_manifest(old, params))


# --------------------------------------------------------------------------------------------
# training


def _progress(total, initial, progress):
    from tqdm.auto import tqdm

    disable = (not sys.stderr.isatty()) if progress is None else (not progress)
    return tqdm(total=total, initial=initial, desc="learn", unit="sample", disable=disable,
                file=sys.stderr, dynamic_ncols=True, smoothing=0.1)


def _best_unstable(history, M, arch):
    """(lowest number of unstable units of an epoch in ``history``, epochs since it), for
    ``patience``; the counts are recovered exactly from the rows' fractions."""
    best = since = None
    for row in history:
        n = round(row["hidden_unstable_fraction"] * M * arch.layers * arch.hidden) + \
            round(row["readout_unstable_fraction"] * M * arch.classes)
        best, since = (n, 0) if best is None or n < best else (best, since + 1)
    return best, since


def train(data: Dataset, arch: Architecture, rule: Plasticity = Plasticity(),
          schedule: Schedule = Schedule(), *, epochs: int, seed: int = 0, checkpoint=None,
          resume: bool = False, progress: Optional[bool] = None, stop_when_stable: bool = False,
          evaluate_every: int = 1, network: Optional[Network] = None,
          patience: Optional[int] = None) -> TrainResult:
    """Train ``arch`` on ``data`` for ``epochs`` epochs (module docstring).

    ``stop_when_stable``: stop after the first epoch in which no unit of any presentation was
    unstable (every trained example then ends its presentation at a fixed point with the
    margins honoured; meaningful with ``weight_decay = 0``). ``evaluate_every``: evaluate the
    accuracies every that many epochs (and always after the last). ``patience``: also stop
    when the number of unstable units of an epoch (hidden + readout, summed over the
    presentations) has not improved on its best (lowest) value for ``patience`` consecutive
    epochs (None: never; a resumed run recomputes the best from the history). ``network``:
    start from these couplings instead of the seeded initialisation (copied). BLAS runs
    single-threaded during training (:mod:`fplandscape.blas`).
    """
    with single_thread():
        return _train(data, arch, rule, schedule, epochs, seed, checkpoint, resume, progress,
                      stop_when_stable, evaluate_every, network, patience)


def _train(data, arch, rule, schedule, epochs, seed, checkpoint, resume, progress,
           stop_when_stable, evaluate_every, network, patience=None):
    epochs = check_count(epochs, "epochs")
    patience = None if patience is None else check_count(patience, "patience", minimum=1)
    if data.n_in != arch.n_in or data.classes != arch.classes:
        raise InputError(f"the data have N = {data.n_in} inputs and {data.classes} classes, the "
                         f"architecture N = {arch.n_in} and C = {arch.classes}")
    if resume and checkpoint is None:
        raise InputError("resume needs a checkpoint directory (--checkpoint DIR)")
    init_ss, train_ss = seeds(seed)
    net = network.copy() if network is not None else init_network(arch, init_ss)
    rng = np.random.Generator(np.random.PCG64(train_ss))
    params = {"seed": int(seed), "dataset": data.name, "n_in": arch.n_in,
              "hidden": arch.hidden, "layers": arch.layers, "input_to": arch.input_to,
              "skip": arch.skip, "jd": arch.jd, "lam": arch.lam, "lr_scale": rule.lr_scale,
              "mode": schedule.mode, "warmup": schedule.warmup,
              "feedback_from": schedule.feedback_from,
              "n_train": int(data.x_train.shape[0]),
              "n_test": int(data.x_test.shape[0])}
    history: list = []
    start = 0
    ckpt = None
    if checkpoint is not None:
        ckpt = _open_checkpoint(checkpoint, _manifest_params(arch, rule, schedule, seed, data),
                                resume)
        if ckpt.meta is not None:
            net = Network.from_arrays(arch, ckpt.arrays)
            try:
                rng.bit_generator.state = ckpt.meta["rng"]
                history = list(ckpt.meta["history"])
                start = int(ckpt.meta["epoch"])
            except (KeyError, TypeError, ValueError) as exc:  # a legacy state.npz, unchecked
                raise InputError(f"checkpoint state {ckpt.path / 'state.npz'} is unreadable "
                                 f"({type(exc).__name__}: {exc})") from None
    M = data.x_train.shape[0]
    B = schedule.batch
    bar = _progress(epochs * M, min(start, epochs) * M, progress)
    train_acc = test_acc = float("nan")
    if history:
        train_acc, test_acc = history[-1]["train_accuracy"], history[-1]["test_accuracy"]
    epoch = start
    best, since = _best_unstable(history, M, arch)
    try:
        for epoch in range(start + 1, epochs + 1):
            t0 = time.perf_counter()
            perm = rng.permutation(M)
            hid = out = 0
            for lo in range(0, M, B):
                idx = perm[lo:lo + B]
                xb = data.x_train[idx]
                y = one_vs_all(data.y_train[idx], arch.classes)
                aseed = int(rng.integers(2**63)) if schedule.mode == "async" else None
                S = relax(net, xb, y=y, steer=schedule.steer, free=schedule.free,
                          mode=schedule.mode, update_prob=schedule.update_prob, rng=rng,
                          async_seed=aseed, warmup=schedule.warmup,
                          feedback_from=schedule.feedback_from)
                counts = plasticity_step(net, xb, S, y, rule)
                hid += counts["hidden_unstable"]
                out += counts["readout_unstable"]
                bar.update(idx.size)
            seconds = time.perf_counter() - t0
            stable = hid == 0 and out == 0
            best, since = (hid + out, 0) if best is None or hid + out < best else (best, since + 1)
            stalled = patience is not None and since >= patience
            last = epoch == epochs or (stop_when_stable and stable) or stalled
            t1 = time.perf_counter()
            if last or epoch % evaluate_every == 0:
                train_acc = evaluate(net, data.x_train, data.y_train, schedule, seed=seed)
                test_acc = evaluate(net, data.x_test, data.y_test, schedule, seed=seed)
            else:
                train_acc = test_acc = float("nan")
            eval_seconds = time.perf_counter() - t1
            history.append({"version": __version__, **params, "epoch": epoch,
                            "train_accuracy": train_acc, "test_accuracy": test_acc,
                            "hidden_unstable_fraction": hid / (M * arch.layers * arch.hidden),
                            "readout_unstable_fraction": out / (M * arch.classes),
                            "seconds": seconds, "samples_per_second": M / seconds,
                            "eval_seconds": eval_seconds})
            if ckpt is not None:
                ckpt.save(net.arrays(), {"epoch": epoch, "rng": rng.bit_generator.state,
                                         "history": history, "version": __version__})
            if (stop_when_stable and stable) or stalled:
                break
    except KeyboardInterrupt:
        where = (f"; epochs up to {epoch - 1} are saved in {ckpt.path}: rerun with --resume "
                 "(resume=True) to continue") if ckpt is not None else ""
        raise Interrupted(f"interrupted during epoch {epoch}{where}") from None
    finally:
        bar.close()
    done = history[-1]["epoch"] if history else 0
    if not history and epochs == 0:
        train_acc = evaluate(net, data.x_train, data.y_train, schedule, seed=seed)
        test_acc = evaluate(net, data.x_test, data.y_test, schedule, seed=seed)
    secs = [r["seconds"] for r in history]
    sec = float(np.mean(secs)) if secs else float("nan")
    sps = float(M * len(secs) / np.sum(secs)) if secs else float("nan")
    if history and (math.isnan(train_acc) or history[-1]["epoch"] != epoch):
        train_acc, test_acc = history[-1]["train_accuracy"], history[-1]["test_accuracy"]
    return TrainResult(network=net, history=history, train_accuracy=train_acc,
                       test_accuracy=test_acc, epochs=done, seconds_per_epoch=sec,
                       samples_per_second=sps, params=params)
