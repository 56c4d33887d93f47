"""Running lists of independent tasks: in-process, on local processes, or on a Dask cluster,
with a progress bar, a checkpoint journal and a clean stop on Ctrl-C.

This is the one place where fplandscape runs work in parallel; every parallel study
(enumeration prefix tasks, disorder samples, parameter grids) goes through :func:`run_tasks`.
We do not implement a distributed system: local work uses the standard
:mod:`concurrent.futures` executors, cluster work uses ``dask.distributed`` (optional
dependency, ``pip install fplandscape[dask]``) when a scheduler address is given.

Local backends. ``"processes"``: a :class:`~concurrent.futures.ProcessPoolExecutor` with the
``spawn`` start method (safe next to OpenMP and threads; a script that calls it must guard its
entry point with ``if __name__ == "__main__":``, as for any spawn-based pool). ``"threads"``: a
:class:`~concurrent.futures.ThreadPoolExecutor`, for tasks whose time is spent in compiled
kernels that release the GIL (the enumeration search, the dynamics): all cores work in parallel
with no start-up cost, no pickling of the couplings, and it works from any script or notebook.
Each caller picks the backend that fits its tasks.

Determinism. A task is a picklable module-level function applied to its own argument tuple;
tasks carry their own seeds (e.g. child ``SeedSequence``\\ s), and :func:`run_tasks` returns the
results in task order, so the answer never depends on the number of workers or on the order in
which tasks finish.

Checkpoints. :class:`Checkpoint` is a directory holding ``manifest.json`` (what is being
computed: a JSON fingerprint of every input that matters) and ``journal.jsonl`` (one line per
finished task, appended and flushed as soon as the task finishes; NumPy arrays of a result go
to ``task-<i>-<key>.npy`` files written atomically before their journal line). A run that is
interrupted (Ctrl-C, a killed process, a crashed machine up to the last flushed line) loses at
most the tasks that were running; a rerun with ``resume=True`` skips the journalled tasks and
gives exactly the result of an uninterrupted run. Resuming with different inputs is refused.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import sys
import time
from pathlib import Path
from typing import Callable, Optional, Sequence

import numpy as np

from ._version import __version__
from .errors import InputError, Interrupted

__all__ = ["run_tasks", "Checkpoint", "open_checkpoint", "default_workers",
           "default_checkpoint_dir", "fingerprint", "array_digest"]

_MANIFEST = "manifest.json"
_JOURNAL = "journal.jsonl"
_FSYNC_EVERY = 1.0  # seconds between fsyncs of the journal (every line is flushed at once)
DASK_CONNECT_TIMEOUT = 10.0  # seconds to reach a Dask scheduler before giving up


def default_workers() -> int:
    """Number of usable local cores (``os.sched_getaffinity`` where available)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def check_workers(workers) -> Optional[int]:
    """Validate a ``workers`` argument: None (all local cores) or a positive integer."""
    if workers is None:
        return None
    if isinstance(workers, bool) or not isinstance(workers, (int, np.integer)) or workers < 1:
        raise InputError(f"workers must be a positive integer (or None for all cores), "
                         f"got {workers!r}")
    return int(workers)


def array_digest(a) -> str:
    """SHA-256 of an array's dtype, shape and bytes (C order): identifies a coupling matrix."""
    a = np.ascontiguousarray(a)
    h = hashlib.sha256()
    h.update(str(a.dtype).encode())
    h.update(str(a.shape).encode())
    h.update(a.tobytes())
    return h.hexdigest()


def fingerprint(params: dict) -> str:
    """SHA-256 of the canonical JSON of ``params`` (sorted keys)."""
    return hashlib.sha256(json.dumps(params, sort_keys=True, default=str).encode()).hexdigest()


def default_checkpoint_dir(kind: str, params: dict) -> Path:
    """Default checkpoint directory of a run: ``$FPLANDSCAPE_CHECKPOINTS`` (or
    ``$XDG_CACHE_HOME/fplandscape/checkpoints``, or ``~/.cache/fplandscape/checkpoints``)
    ``/<kind>-<first 16 hex digits of fingerprint(params)>``, so rerunning the same command
    finds it."""
    root = os.environ.get("FPLANDSCAPE_CHECKPOINTS")
    if not root:
        cache = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
        root = os.path.join(cache, "fplandscape", "checkpoints")
    return Path(root) / f"{kind}-{fingerprint(params)[:16]}"


def _jsonable(value, arrays: dict, prefix: str):
    if isinstance(value, np.ndarray):
        name = f"{prefix}-{len(arrays)}.npy"
        arrays[name] = value
        return {"__npy__": name}
    if isinstance(value, dict):
        return {k: _jsonable(v, arrays, prefix) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v, arrays, prefix) for v in value]
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    if isinstance(value, np.bool_):
        return bool(value)
    return value


class Checkpoint:
    """Journal of finished tasks in a directory (module docstring).

    ``Checkpoint(path, params, n_tasks, resume=False)``: ``params`` is a JSON-able dict of every
    input that determines the results (it is stored and compared on resume). An existing
    checkpoint with finished tasks is only continued with ``resume=True`` (otherwise
    :class:`~fplandscape.errors.InputError`, so finished work is never silently discarded);
    ``resume=True`` without a checkpoint starts a fresh one. ``done`` maps task index → result.
    """

    def __init__(self, path, params: dict, n_tasks: int, *, resume: bool = False,
                 auto: bool = False):
        self.path = Path(path)
        self.auto = bool(auto)
        self.params = json.loads(json.dumps(params, default=str))
        self.n_tasks = int(n_tasks)
        self.done: dict = {}
        manifest = self.path / _MANIFEST
        if manifest.exists():
            try:
                old = json.loads(manifest.read_text())
            except (OSError, ValueError) as exc:
                raise InputError(f"checkpoint {self.path} is unreadable ({exc}); "
                                 "delete it to start over") from None
            done = self._read_journal()
            if done and not resume:
                raise InputError(
                    f"checkpoint {self.path} already holds {len(done)} of "
                    f"{old.get('n_tasks', '?')} finished tasks: pass resume=True (--resume) "
                    "to finish that run, or delete the directory to start over")
            if resume and (old.get("params") != self.params or old.get("n_tasks") != self.n_tasks):
                diff = sorted(k for k in set(old.get("params", {})) | set(self.params)
                              if old.get("params", {}).get(k) != self.params.get(k))
                raise InputError(
                    f"checkpoint {self.path} was written for different inputs "
                    f"(differing: {', '.join(diff) or 'number of tasks'}); cannot resume")
            self.done = done if resume else {}
            if not resume:
                self._reset()
        else:
            self._reset()
        journal = self.path / _JOURNAL
        torn = journal.exists() and journal.stat().st_size > 0 and \
            journal.read_bytes()[-1:] != b"\n"
        self._fh = open(journal, "a", encoding="utf-8")
        if torn:  # end a torn last line so that the next record starts on its own line
            self._fh.write("\n")
        self._last_sync = time.monotonic()

    def _reset(self):
        try:
            self.path.mkdir(parents=True, exist_ok=True)
            for f in self.path.glob("task-*.npy"):
                f.unlink()
            (self.path / _JOURNAL).write_text("")
            tmp = self.path / (_MANIFEST + ".tmp")
            tmp.write_text(json.dumps({"version": __version__, "n_tasks": self.n_tasks,
                                       "params": self.params}, indent=1, sort_keys=True))
            os.replace(tmp, self.path / _MANIFEST)
        except OSError as exc:
            raise InputError(f"cannot write checkpoint directory {self.path}: {exc}") from None

    def _read_journal(self) -> dict:
        done = {}
        journal = self.path / _JOURNAL
        if not journal.exists():
            return done
        for line in journal.read_text(encoding="utf-8").splitlines():
            try:
                entry = json.loads(line)
                done[int(entry["task"])] = self._load(entry["result"])
            except (ValueError, KeyError, TypeError, OSError):
                continue  # a torn last line (killed mid-write) or a missing array: redo the task
        return done

    def _load(self, value):
        if isinstance(value, dict):
            if set(value) == {"__npy__"}:
                return np.load(self.path / value["__npy__"], allow_pickle=False)
            return {k: self._load(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self._load(v) for v in value]
        return value

    def record(self, index: int, result) -> None:
        """Journal one finished task (arrays first, atomically, then the flushed JSON line)."""
        arrays: dict = {}
        obj = _jsonable(result, arrays, f"task-{index}")
        for name, arr in arrays.items():
            tmp = self.path / (name + ".tmp")
            with open(tmp, "wb") as fh:
                np.save(fh, arr, allow_pickle=False)
            os.replace(tmp, self.path / name)
        self._fh.write(json.dumps({"task": int(index), "result": obj}) + "\n")
        self._fh.flush()
        now = time.monotonic()
        if now - self._last_sync >= _FSYNC_EVERY:
            os.fsync(self._fh.fileno())
            self._last_sync = now
        self.done[int(index)] = result

    def close(self) -> None:
        if not self._fh.closed:
            self._fh.flush()
            os.fsync(self._fh.fileno())
            self._fh.close()

    def finish(self) -> None:
        """After the results are delivered: remove an automatic checkpoint, keep a named one."""
        if self.auto:
            self.remove()
        else:
            self.close()

    def remove(self) -> None:
        """Delete the checkpoint directory (after the results have been delivered)."""
        self.close()
        shutil.rmtree(self.path, ignore_errors=True)


def open_checkpoint(checkpoint, kind: str, params: dict, n_tasks: int, *,
                    resume: bool = False) -> Optional[Checkpoint]:
    """The checkpoint of a run from a user's ``checkpoint`` argument: None/False → none; a path →
    that directory (kept after success); True → :func:`default_checkpoint_dir` (removed after
    success by :meth:`Checkpoint.finish`; if it cannot be created the run goes on without one,
    with a warning). Runs of a single task get no checkpoint."""
    if checkpoint is None or checkpoint is False or n_tasks <= 1:
        return None
    params = {"kind": kind, **params}
    if checkpoint is True:
        path = default_checkpoint_dir(kind, params)
        try:
            return Checkpoint(path, params, n_tasks, resume=resume, auto=True)
        except InputError as exc:
            if path.exists() and (path / _MANIFEST).exists() and "cannot write" not in str(exc):
                raise
            import warnings

            warnings.warn(f"running without a checkpoint: {exc}", RuntimeWarning, stacklevel=3)
            return None
    return Checkpoint(checkpoint, params, n_tasks, resume=resume)


def _ignore_sigint():  # worker initializer: Ctrl-C is handled by the parent, which stops us
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _progress_bar(total, initial, desc, progress):
    from tqdm.auto import tqdm

    disable = (not sys.stderr.isatty()) if progress is None else (not progress)
    return tqdm(total=total, initial=initial, desc=desc, unit="task", disable=disable,
                file=sys.stderr, dynamic_ncols=True, smoothing=0.05)


def run_tasks(func: Callable, tasks: Sequence[tuple], *, workers: Optional[int] = None,
              scheduler=None, progress: Optional[bool] = None, desc: str = "tasks",
              checkpoint: Optional[Checkpoint] = None,
              on_result: Optional[Callable] = None, backend: str = "processes",
              cancel: Optional[Callable] = None) -> list:
    """Run ``func(*tasks[i])`` for every i and return the results in task order.

    Parameters
    ----------
    func : picklable module-level function (it runs in other processes).
    tasks : argument tuples, one per task. Each task must be self-contained (its own seed).
    workers : local processes (default: all usable cores); ``1`` runs in this process. With a
        single pending task nothing is started.
    scheduler : Dask scheduler address (``"tcp://host:8786"``) or a ``distributed.Client``;
        then the tasks run on that cluster and ``workers`` is ignored.
    progress : show a tqdm progress bar with ETA on stderr (None: only if stderr is a terminal).
    checkpoint : a :class:`Checkpoint`; its finished tasks are not rerun, and every task that
        finishes is journalled at once.
    on_result : optional ``on_result(i, result) -> kept``: called in the parent as each task
        finishes (in completion order); the list returned holds what it returns (to reduce
        memory, e.g. drop large arrays after merging them). Journalled tasks pass through it too.
    backend : ``"processes"`` or ``"threads"`` for local work (module docstring).
    cancel : called on Ctrl-C to make running thread tasks stop early (compiled kernels poll a
        stop flag; threads other than the main one never see the signal themselves).

    Ctrl-C (or any exception) cancels the pending tasks and stops the local workers; finished
    tasks stay in the checkpoint, and :class:`~fplandscape.errors.Interrupted` (a
    ``KeyboardInterrupt``) says how to resume.
    """
    workers = check_workers(workers)
    if backend not in ("processes", "threads"):
        raise InputError(f"backend must be 'processes' or 'threads', got {backend!r}")
    n = len(tasks)
    results: list = [None] * n
    have = [False] * n
    keep = on_result if on_result is not None else (lambda i, r: r)
    if checkpoint is not None:
        for i, r in sorted(checkpoint.done.items()):
            if 0 <= i < n:
                results[i] = keep(i, r)
                have[i] = True
    pending = [i for i in range(n) if not have[i]]
    bar = _progress_bar(n, n - len(pending), desc, progress)

    def finish(i, r):
        if checkpoint is not None:
            checkpoint.record(i, r)
        results[i] = keep(i, r)
        have[i] = True
        bar.update(1)

    try:
        if not pending:
            pass
        elif scheduler is not None:
            _run_dask(func, tasks, pending, scheduler, finish)
        elif (workers or default_workers()) == 1 or len(pending) == 1:
            for i in pending:
                finish(i, func(*tasks[i]))
        else:
            _run_local(func, tasks, pending, workers or default_workers(), finish, backend,
                       cancel)
    except KeyboardInterrupt:
        done = sum(have)
        where = (f"; the finished ones are saved in {checkpoint.path}: rerun the same command "
                 "with --resume (resume=True) to finish") if checkpoint is not None else ""
        raise Interrupted(f"interrupted after {done} of {n} tasks{where}") from None
    finally:
        bar.close()
        if checkpoint is not None:
            checkpoint.close()
    return results


class _DeferredSigint:
    """While active (main thread, default handler only), Ctrl-C sets a flag instead of raising
    at an arbitrary point: a KeyboardInterrupt raised inside ``concurrent.futures.wait`` can
    leave the futures' locks held, and the workers then block for ever when they report. The
    wait loop raises the KeyboardInterrupt itself, between two waits (:meth:`check`)."""

    def __init__(self):
        self.hit = False
        self._old = None

    def __enter__(self):
        import threading

        if threading.current_thread() is threading.main_thread() and \
                signal.getsignal(signal.SIGINT) is signal.default_int_handler:
            self._old = signal.signal(signal.SIGINT, self._handler)
        return self

    def _handler(self, signum, frame):
        self.hit = True

    def check(self):
        if self.hit:
            raise KeyboardInterrupt

    def __exit__(self, *exc):
        if self._old is not None:
            signal.signal(signal.SIGINT, self._old)
        return False


def _run_local(func, tasks, pending, workers, finish, backend, cancel):
    import multiprocessing
    from concurrent.futures import (FIRST_COMPLETED, ProcessPoolExecutor, ThreadPoolExecutor,
                                    wait)
    from concurrent.futures.process import BrokenProcessPool

    nw = min(workers, len(pending))
    if backend == "threads":
        ex = ThreadPoolExecutor(max_workers=nw, thread_name_prefix="fplandscape")
    else:
        ex = ProcessPoolExecutor(max_workers=nw, mp_context=multiprocessing.get_context("spawn"),
                                 initializer=_ignore_sigint)
    ok = False
    futures: dict = {}
    sigint = _DeferredSigint()
    try:
        with sigint:
            futures = {ex.submit(func, *tasks[i]): i for i in pending}
        remaining = set(futures)
        while remaining:
            with sigint:
                done, remaining = wait(remaining, timeout=0.25, return_when=FIRST_COMPLETED)
            sigint.check()
            for fut in sorted(done, key=futures.get):
                try:
                    r = fut.result()
                except BrokenProcessPool:
                    raise RuntimeError(
                        "a local worker process died or could not start; when calling "
                        "fplandscape from a script, put the call under "
                        "'if __name__ == \"__main__\":' (spawned workers re-import the "
                        "script), or pass workers=1") from None
                finish(futures[fut], r)
        ok = True
    finally:
        if not ok:
            for fut in futures:
                fut.cancel()
            if cancel is not None:
                cancel()
            for proc in list((getattr(ex, "_processes", None) or {}).values()):
                proc.terminate()
        ex.shutdown(wait=True, cancel_futures=not ok)


def _run_dask(func, tasks, pending, scheduler, finish):
    try:
        from distributed import Client, as_completed
    except ImportError:
        raise InputError("a Dask scheduler was given but dask.distributed is not installed: "
                         "pip install 'fplandscape[dask]'") from None
    own = not isinstance(scheduler, Client)
    try:
        client = Client(scheduler, set_as_default=False, timeout=DASK_CONNECT_TIMEOUT) \
            if own else scheduler
    except (OSError, ValueError, TypeError) as exc:
        raise InputError(f"cannot connect to the Dask scheduler {scheduler!r}: {exc}") from None
    futures = []
    try:
        index = {}
        for i in pending:
            fut = client.submit(func, *tasks[i], pure=False)
            index[fut.key] = i
            futures.append(fut)
        for fut in as_completed(futures, loop=client.loop):
            finish(index[fut.key], fut.result())
    finally:
        unfinished = [f for f in futures if not f.done()]
        if unfinished:
            client.cancel(unfinished)
        if own:
            client.close()
