"""Running lists of independent tasks: in-process, on local processes, or on a Dask cluster,
with a progress bar, a checkpoint journal and a clean stop on Ctrl-C.

This is the one place where fplandscape runs work in parallel; every parallel study
(enumeration prefix tasks, disorder samples, parameter grids) goes through :func:`run_tasks`,
and the studies share one runner, :func:`run_study` (checkpoint → stop flag → tasks → finish).
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
Every journal line carries a SHA-256 checksum over its canonical JSON, the checksums of its
``.npy`` files and the run's input fingerprint: an entry that does not verify (edited, torn,
not UTF-8, a replaced task file, another run's line) is never trusted: its task is recomputed,
with ``warning: checkpoint entry N ... damaged (...); recomputing`` on stderr.

Snapshots. A *sequential* run (training epochs, each building on the last) is not a list of
independent tasks: :class:`Snapshot` keeps only its latest state (named arrays + JSON metadata
in ``state.npz``), replaced atomically at every save, with the same manifest, parameter check
and messages as the journal and a SHA-256 of the snapshot recorded in the manifest: a damaged
snapshot is refused (:class:`~fplandscape.errors.InputError`), never resumed from.

Memory. A task's result is referenced only until it is journalled and handed to the caller's
``on_result`` (which keeps what it returns, e.g. the result without its large arrays once
merged); journalled results are read back from disk one at a time on resume.

Dask. ``scheduler`` is an address (checked at once by :func:`check_scheduler`:
``tcp://HOST:PORT``, ``HOST:PORT``, ``tls://``, ``ws://``, ``wss://``, ``ucx://``, ``inproc://``)
or a ``distributed.Client``. Before connecting, the address is asked who it is (the Dask
``identity`` call, :data:`DASK_CONNECT_TIMEOUT` seconds): nothing there, or a server that is not
a Dask scheduler, is an :class:`~fplandscape.errors.InputError` at once. A scheduler lost during
the run raises :class:`SchedulerLost` (a ``ConnectionError``; the command line prints one
``error:`` line and exits with status 1), saying where the finished tasks are journalled and
that ``--resume`` (``resume=True``) finishes the run, on this machine too. A cluster on this
machine only (the dashboard on the loopback interface as well)::

    dask scheduler --host 127.0.0.1 --port 8786 --dashboard-address 127.0.0.1 &
    dask worker tcp://127.0.0.1:8786 --nthreads 2 &
    fplandscape enumerate --couplings J.npy --scheduler tcp://127.0.0.1:8786

or in Python ``distributed.LocalCluster(dashboard_address="127.0.0.1:0")``.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
import shutil
import signal
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Callable, Optional, Sequence

import numpy as np

from ._version import __version__
from .errors import InputError, Interrupted

__all__ = ["run_tasks", "run_study", "Checkpoint", "Snapshot", "open_checkpoint", "default_workers",
           "default_checkpoint_dir", "fingerprint", "array_digest", "check_scheduler",
           "SchedulerLost", "DamagedEntry"]

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


def available_memory() -> Optional[int]:
    """Bytes of memory available to new allocations without swapping: ``MemAvailable`` of
    ``/proc/meminfo`` (Linux), else free physical pages × page size; None when unknown."""
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return int(os.sysconf("SC_AVPHYS_PAGES")) * int(os.sysconf("SC_PAGE_SIZE"))
    except (AttributeError, ValueError, OSError):
        return None


def check_memory(per_task: float, workers, what: str, *, scheduler=None,
                 available: Optional[int] = None) -> None:
    """Refuse a study before any work when its concurrent tasks would not fit in memory:
    ``tasks_at_once × per_task > available`` raises InputError naming the need, the memory
    available and the number of workers that would fit. ``tasks_at_once`` = ``workers``
    (None: :func:`default_workers`); with a Dask ``scheduler`` the cluster's workers hold the
    data, so nothing is checked here. ``available`` defaults to :func:`available_memory`
    (nothing is checked when that is unknown)."""
    if scheduler is not None:
        return
    avail = available_memory() if available is None else available
    if avail is None:
        return
    at_once = default_workers() if workers is None else int(workers)
    need = at_once * float(per_task)
    if need <= avail:
        return
    fit = int(avail // per_task)        # per_task > 0 here (need > avail ≥ 0)
    gb = 1024.0 ** 3
    hint = (f"use --workers {fit} (or a Dask --scheduler)" if fit >= 1 else
            "a single task does not fit: use a machine with more memory or a Dask --scheduler")
    raise InputError(f"{what} needs about {per_task / gb:.1f} GB per task, "
                     f"{need / gb:.1f} GB with {at_once} worker{'s' if at_once != 1 else ''}, "
                     f"but only {avail / gb:.1f} GB of memory is available; {hint}")


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


class DamagedEntry(Exception):
    """A checkpoint entry (journal line or task file) that fails its integrity check."""


def _canonical(obj) -> bytes:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()


def _entry_check(run_key: str, task: int, result, files: dict) -> str:
    """Checksum of one journal entry: SHA-256 of the canonical JSON of the run's key (the
    fingerprint of its inputs), the task index, the JSON result and the SHA-256 of each of its
    ``.npy`` files."""
    return hashlib.sha256(_canonical({"run": run_key, "task": task, "result": result,
                                      "files": files})).hexdigest()


def _file_digest(fh) -> str:
    """SHA-256 of an open binary file from its current position, read in 1 MiB chunks."""
    h = hashlib.sha256()
    for chunk in iter(lambda: fh.read(1 << 20), b""):
        h.update(chunk)
    return h.hexdigest()


def _write_atomic(target: Path, write: Callable, *, durable: bool = False,
                  before_replace: Optional[Callable[[str], None]] = None) -> str:
    """Write ``target`` atomically: ``write(fh)`` fills ``<target>.tmp`` (an open binary file),
    which then replaces ``target`` (``os.replace``: a reader sees the old file or the new one,
    never a part of either). ``durable``: fsync before the replace. ``before_replace(digest)``
    runs just before the replace. Returns the SHA-256 of the bytes written."""
    tmp = target.with_name(target.name + ".tmp")
    with open(tmp, "w+b") as fh:
        write(fh)
        fh.flush()
        if durable:
            os.fsync(fh.fileno())
        fh.seek(0)
        digest = _file_digest(fh)
    if before_replace is not None:
        before_replace(digest)
    os.replace(tmp, target)
    return digest


def _write_manifest(path: Path, manifest: dict) -> None:
    """Write ``path/manifest.json`` atomically (indented JSON, sorted keys)."""
    text = json.dumps(manifest, indent=1, sort_keys=True)
    _write_atomic(path / _MANIFEST, lambda fh: fh.write(text.encode()))


def _read_manifest(path: Path):
    """The manifest of checkpoint directory ``path``: ``(dict, None)``, or ``(None, why)`` when
    it is missing, not UTF-8 JSON or not a JSON object."""
    manifest = path / _MANIFEST
    try:
        if not manifest.exists():
            return None, "missing"
        old = json.loads(manifest.read_bytes().decode("utf-8"))
    except (OSError, ValueError) as exc:
        return None, " ".join(str(exc).split())
    if not isinstance(old, dict):
        return None, "not a JSON object"
    return old, None


def _different_inputs(path: Path, old_params, params: dict, *,
                      otherwise: str = "number of tasks") -> InputError:
    """The refusal to resume checkpoint ``path`` with other inputs, naming the input keys
    whose stored and requested values differ (``otherwise`` when none does)."""
    oldp = old_params if isinstance(old_params, dict) else {}
    diff = sorted(k for k in set(oldp) | set(params) if oldp.get(k) != params.get(k))
    return InputError(f"checkpoint {path} was written for different inputs "
                      f"(differing: {', '.join(diff) or otherwise}); cannot resume")


class _Done(Mapping):
    """``Checkpoint.done``: task index → result, read from disk (and checked) on access, so
    that finished results are never all held in memory."""

    def __init__(self, ck):
        self._ck = ck

    def __getitem__(self, index):
        if index not in self._ck._index:
            raise KeyError(index)
        return self._ck.load(index)

    def __contains__(self, index):
        return index in self._ck._index

    def __iter__(self):
        return iter(sorted(self._ck._index))

    def __len__(self):
        return len(self._ck._index)


def _warn(message: str) -> None:
    print(f"warning: {message}", file=sys.stderr, flush=True)


def unwritable(path, exc: OSError) -> InputError:
    """The one error for a checkpoint directory that cannot be written (``raise ... from
    None`` at the call site)."""
    return InputError(f"cannot write checkpoint directory {path}: {exc}")


class Checkpoint:
    """Journal of finished tasks in a directory (module docstring).

    ``Checkpoint(path, params, n_tasks, resume=False)``: ``params`` is a JSON-able dict of every
    input that determines the results (it is stored and compared on resume). An existing
    checkpoint with finished tasks is only continued with ``resume=True`` (otherwise
    :class:`~fplandscape.errors.InputError`, so finished work is never silently discarded);
    ``resume=True`` without a checkpoint starts a fresh one. ``done`` maps task index → result
    (a read-only mapping that loads each result from disk when it is asked for: results are
    not kept in memory once journalled). ``unit`` names the tasks in messages (``"cells"`` for
    the grid of :mod:`fplandscape.validate._cells`).

    Integrity: every journal line carries ``check``, the SHA-256 of the canonical JSON of the
    run's key (:func:`fingerprint` of ``params`` and ``n_tasks``), the task index, the result
    and the SHA-256 of each of its ``.npy`` files. On resume an entry that does not verify (a
    hand edit, a torn or non-UTF-8 line, a replaced, truncated or missing task file, a line of
    another run) is reported on stderr (``warning: checkpoint entry N ... damaged ...;
    recomputing``), dropped from the journal and its task is run again: a damaged entry is
    never trusted.
    """

    def __init__(self, path, params: dict, n_tasks: int, *, resume: bool = False,
                 auto: bool = False, unit: str = "tasks"):
        self.path = Path(path)
        self.auto = bool(auto)
        self.unit = str(unit)  # what a task is called in messages ("tasks", "cells")
        self.params = json.loads(json.dumps(params, default=str))
        self.n_tasks = int(n_tasks)
        self.run_key = fingerprint({"params": self.params, "n_tasks": self.n_tasks})
        self._index: dict = {}  # task → (offset, length) of its journal line
        self.done = _Done(self)
        manifest = self.path / _MANIFEST
        journal = self.path / _JOURNAL
        if manifest.exists() or journal.exists():
            old, bad_manifest = _read_manifest(self.path)
            if resume and old is not None and \
                    (old.get("params") != self.params or old.get("n_tasks") != self.n_tasks):
                raise _different_inputs(self.path, old.get("params"), self.params)
            damaged = self._scan()
            if self._index and not resume:
                total = old.get("n_tasks", "?") if old is not None else "?"
                raise InputError(
                    f"checkpoint {self.path} already holds {len(self._index)} of {total} "
                    f"finished {self.unit}: pass resume=True (--resume) to finish that run, or "
                    "delete the directory to start over")
            if resume:
                self._report(damaged)
                if old is None:
                    _warn(f"checkpoint {self.path}: manifest damaged ({bad_manifest}); "
                          "rewriting it (the journal entries are checked on their own)")
                    self._write_manifest()
                if damaged:
                    self._compact()
            else:
                self._reset()
        else:
            self._reset()
        try:
            size = journal.stat().st_size
            torn = size > 0 and self._tail_byte(journal) != b"\n"
            self._fh = open(journal, "ab")
        except OSError as exc:
            raise unwritable(self.path, exc) from None
        if torn:  # end a torn last line so that the next record starts on its own line
            self._fh.write(b"\n")
            size += 1
        self._size = size
        self._last_sync = time.monotonic()

    @staticmethod
    def _tail_byte(journal) -> bytes:
        with open(journal, "rb") as fh:
            fh.seek(-1, os.SEEK_END)
            return fh.read(1)

    def _write_manifest(self):
        _write_manifest(self.path, {"version": __version__, "n_tasks": self.n_tasks,
                                    "run_key": self.run_key, "params": self.params})

    def _reset(self):
        try:
            self.path.mkdir(parents=True, exist_ok=True)
            for f in self.path.glob("task-*.npy"):
                f.unlink()
            (self.path / _JOURNAL).write_text("")
            self._write_manifest()
        except OSError as exc:
            raise unwritable(self.path, exc) from None
        self._index = {}

    # -- reading and checking ----------------------------------------------------------------

    def _parse(self, raw: bytes):
        """(task, result JSON, files) of one journal line; DamagedEntry unless it verifies."""
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise DamagedEntry("not UTF-8") from None
        try:
            entry = json.loads(text)
        except ValueError:
            raise DamagedEntry("not valid JSON (an incomplete or edited line)") from None
        if not isinstance(entry, dict) or set(entry) != {"task", "result", "files", "check"}:
            raise DamagedEntry("not a journal entry of this version")
        task, files, check = entry["task"], entry["files"], entry["check"]
        if type(task) is not int or not 0 <= task < self.n_tasks:
            raise DamagedEntry(f"task index {task!r} out of range")
        if not isinstance(files, dict) or not all(
                isinstance(k, str) and isinstance(v, str) and
                re.fullmatch(rf"task-{task}-\d+\.npy", k) for k, v in files.items()):
            raise DamagedEntry("bad list of task files")
        if not isinstance(check, str) or not hmac.compare_digest(
                check, _entry_check(self.run_key, task, entry["result"], files)):
            raise DamagedEntry("checksum mismatch: edited, or written for other inputs")
        return task, entry["result"], files

    def _open_file(self, name: str, digest: str):
        """An open task file whose SHA-256 is ``digest`` (positioned at its start)."""
        try:
            fh = open(self.path / name, "rb")
        except OSError as exc:
            raise DamagedEntry(f"task file {name}: {exc.strerror or exc}") from None
        try:
            if not hmac.compare_digest(_file_digest(fh), digest):
                raise DamagedEntry(f"task file {name} changed (checksum mismatch)")
            fh.seek(0)
        except BaseException:
            fh.close()
            raise
        return fh

    def _scan(self) -> list:
        """Index the verified journal entries (first one per task); return the damaged ones
        as (line number, task or None, reason)."""
        self._index = {}
        damaged = []
        journal = self.path / _JOURNAL
        if not journal.exists():
            return damaged
        try:
            fh = open(journal, "rb")
        except OSError as exc:
            raise InputError(f"checkpoint {self.path} is unreadable ({exc})") from None
        with fh:
            offset = 0
            for lineno, raw in enumerate(fh, start=1):
                if raw.strip():
                    try:
                        task, _result, files = self._parse(raw)
                        for name, digest in files.items():
                            self._open_file(name, digest).close()
                        self._index.setdefault(task, (offset, len(raw)))
                    except DamagedEntry as exc:
                        damaged.append((lineno, str(exc)))
                offset += len(raw)
        return damaged

    def _report(self, damaged: list, show: int = 5) -> None:
        for lineno, reason in damaged[:show]:
            _warn(f"checkpoint entry {lineno} of {self.path / _JOURNAL} damaged ({reason}); "
                  "recomputing")
        if len(damaged) > show:
            _warn(f"... and {len(damaged) - show} more damaged checkpoint entries; recomputing")

    def _compact(self) -> None:
        """Rewrite the journal with the verified entries only (atomically)."""
        journal = self.path / _JOURNAL
        tmp = self.path / (_JOURNAL + ".tmp")
        index = {}
        try:
            with open(journal, "rb") as src, open(tmp, "wb") as dst:
                pos = 0
                for task, (offset, length) in sorted(self._index.items(), key=lambda t: t[1]):
                    src.seek(offset)
                    raw = src.read(length)
                    if not raw.endswith(b"\n"):
                        raw += b"\n"
                    dst.write(raw)
                    index[task] = (pos, len(raw))
                    pos += len(raw)
                dst.flush()
                os.fsync(dst.fileno())
            os.replace(tmp, journal)
        except OSError as exc:
            raise unwritable(self.path, exc) from None
        self._index = index

    def load(self, index: int):
        """The journalled result of task ``index``, read from disk and checked again
        (:class:`DamagedEntry` if it no longer verifies)."""
        offset, length = self._index[index]
        try:
            with open(self.path / _JOURNAL, "rb") as fh:
                fh.seek(offset)
                raw = fh.read(length)
        except OSError as exc:
            raise DamagedEntry(f"journal unreadable: {exc}") from None
        task, result, files = self._parse(raw)
        if task != index:
            raise DamagedEntry("journal changed while running")
        arrays = {}
        for name, digest in files.items():
            with self._open_file(name, digest) as fh:
                try:
                    arrays[name] = np.load(fh, allow_pickle=False)
                except (OSError, ValueError) as exc:
                    raise DamagedEntry(f"task file {name}: {exc}") from None
        return self._restore(result, arrays)

    def forget(self, index: int) -> None:
        """Drop a (damaged) entry from the index: its task will be run again."""
        self._index.pop(index, None)

    def _restore(self, value, arrays):
        if isinstance(value, dict):
            if set(value) == {"__npy__"}:
                try:
                    return arrays[value["__npy__"]]
                except (KeyError, TypeError):
                    raise DamagedEntry(f"missing task file {value['__npy__']!r}") from None
            return {k: self._restore(v, arrays) for k, v in value.items()}
        if isinstance(value, list):
            return [self._restore(v, arrays) for v in value]
        return value

    # -- writing -----------------------------------------------------------------------------

    def record(self, index: int, result) -> None:
        """Journal one finished task (arrays first, atomically, then the flushed JSON line with
        its checksum). The result is not kept: :attr:`done` reads it back from disk."""
        index = int(index)
        arrays: dict = {}
        obj = _jsonable(result, arrays, f"task-{index}")
        files = {}
        for name, arr in arrays.items():
            files[name] = _write_atomic(
                self.path / name, lambda fh, arr=arr: np.save(fh, arr, allow_pickle=False))
        obj = json.loads(json.dumps(obj))  # the form it is read back in (checksummed as such)
        entry = {"task": index, "result": obj, "files": files,
                 "check": _entry_check(self.run_key, index, obj, files)}
        line = (json.dumps(entry, sort_keys=True) + "\n").encode()
        self._fh.write(line)
        self._fh.flush()
        self._index[index] = (self._size, len(line))
        self._size += len(line)
        now = time.monotonic()
        if now - self._last_sync >= _FSYNC_EVERY:
            os.fsync(self._fh.fileno())
            self._last_sync = now

    def sync(self) -> None:
        """Flush and fsync the journal now (:meth:`record` fsyncs at most once a second)."""
        if not self._fh.closed:
            self._fh.flush()
            os.fsync(self._fh.fileno())
            self._last_sync = time.monotonic()

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


_SNAPSHOT = "state.npz"
_RESERVED = ("meta", "check")  # members of a snapshot file that are not the run's arrays


def _snapshot_key(params: dict) -> str:
    """Run key of a snapshot: :func:`fingerprint` of the manifest's ``params``."""
    return fingerprint({"params": params, "snapshot": _SNAPSHOT})


def _snapshot_check(run_key: str, meta, arrays: dict) -> str:
    """Checksum of a snapshot: SHA-256 of the canonical JSON of the run key, the metadata and
    the :func:`array_digest` of each array."""
    return hashlib.sha256(_canonical({
        "run": run_key, "meta": meta,
        "arrays": {k: array_digest(v) for k, v in sorted(arrays.items())}})).hexdigest()


class Snapshot:
    """The latest state of a *sequential* run (a training run, epoch after epoch) in a
    directory: :class:`Checkpoint` is for independent tasks, one journal entry each; a run
    whose steps build on each other keeps only its last state, replaced at every
    :meth:`save`.

    ``Snapshot(path, params, resume=False, upgrade=None)``: ``params`` is a JSON-able dict of
    every input that determines the run (as for :class:`Checkpoint`). The directory holds
    ``manifest.json`` (``version``, ``params``, ``run_key`` = :func:`fingerprint` of the
    params, ``snapshot`` = ``"state.npz"`` and ``sha256``, the SHA-256 of the snapshot file)
    and ``state.npz``: the named arrays, ``meta`` (the JSON metadata, as a string) and
    ``check``, the SHA-256 of the canonical JSON of the run key, the metadata and the
    :func:`array_digest` of every array. :meth:`save` writes the new ``state.npz`` to a
    temporary file (fsynced), records its SHA-256 in the manifest (atomically, next to that of
    the snapshot it replaces, so that a crash between the two steps leaves a directory that
    verifies), then renames it over the old one: a snapshot is always whole, the previous one
    or the new one.

    Opening: no ``state.npz`` starts a fresh run (the manifest is written; with or without
    ``resume``). A ``state.npz`` without ``resume`` is refused (``already holds a run: pass
    resume=True (--resume)``), so finished work is never silently discarded. With ``resume``
    the manifest's ``params`` (after ``upgrade(manifest)``, which may rewrite a manifest of an
    older version in place so that it means what it meant then) must equal ``params``
    (otherwise ``written for different inputs (differing: ...)``), and the snapshot must
    verify (its SHA-256 is one the manifest recorded, its ``check`` matches the manifest's
    params): a damaged, truncated, edited or foreign ``state.npz`` is an
    :class:`~fplandscape.errors.InputError` (``snapshot state.npz damaged ...``), never a wrong
    resume. A damaged manifest is rewritten from ``params`` (a warning) when the snapshot's
    ``check`` verifies against them. Then :attr:`arrays` (name → array) and :attr:`meta` hold
    the snapshot; both are None for a fresh run.

    Legacy layout: directories written by fplandscape before snapshots had checksums hold a
    manifest ``{"version", "params"}`` (no ``run_key``) and a ``state.npz`` of ``meta`` + arrays
    (no ``check``). They are read as they are (parameter check, no integrity check;
    :attr:`legacy` is True); the first :meth:`save` converts the directory to the current
    layout (keeping the manifest's ``version`` and ``params`` as written).
    """

    def __init__(self, path, params: dict, *, resume: bool = False,
                 upgrade: Optional[Callable[[dict], None]] = None):
        self.path = Path(path)
        self.params = json.loads(json.dumps(params, default=str))
        self.arrays: Optional[dict] = None
        self.meta = None
        self.legacy = False
        self._digest: Optional[str] = None  # SHA-256 of the current state.npz
        self._manifest = {"version": __version__, "params": self.params, "sha256": [],
                          "run_key": _snapshot_key(self.params), "snapshot": _SNAPSHOT}
        if self.path.exists() and not self.path.is_dir():
            raise InputError(f"checkpoint {str(self.path)!r} is a file, expected a directory")
        if not (self.path / _SNAPSHOT).exists():
            try:
                self.path.mkdir(parents=True, exist_ok=True)
                _write_manifest(self.path, self._manifest)
            except OSError as exc:
                raise unwritable(self.path, exc) from None
            return
        if not resume:
            raise InputError(f"checkpoint {self.path} already holds a run: pass resume=True "
                             "(--resume) to continue it, or delete the directory")
        old, bad_manifest = _read_manifest(self.path)
        recorded = None  # the snapshot digests the manifest accepts (None: no file check)
        if old is not None:
            self.legacy = "run_key" not in old
            stored = old.get("params")
            sha = old.get("sha256")
            if not self.legacy:
                recorded = sha if isinstance(sha, list) else []
            if upgrade is not None and isinstance(stored, dict):
                old = json.loads(json.dumps(old))  # the stored params stay as written
                upgrade(old)
            if old.get("params") != self.params:
                raise _different_inputs(self.path, old.get("params"), self.params,
                                        otherwise="parameters")
            self._manifest.update(version=old.get("version", __version__), params=stored,
                                  run_key=_snapshot_key(stored))
        self.arrays, self.meta = self._load(recorded, need_check=old is None,
                                            use_check=not self.legacy)
        if old is None:
            _warn(f"checkpoint {self.path}: manifest damaged ({bad_manifest}); rewriting it "
                  "(the snapshot is checked on its own)")
            self._write_manifest([self._digest])

    def _damaged(self, reason: str) -> InputError:
        return InputError(f"checkpoint {self.path}: snapshot {_SNAPSHOT} damaged ({reason}); "
                          "cannot resume from it: delete the directory to start over")

    def _load(self, recorded, need_check: bool, use_check: bool):
        """(arrays, meta) of ``state.npz``; InputError unless it verifies: its SHA-256 must be
        one of ``recorded`` (unless None), its ``check`` must match the run key (if present
        and ``use_check``; it must be present if ``need_check``)."""
        try:
            with open(self.path / _SNAPSHOT, "rb") as fh:
                self._digest = _file_digest(fh)
        except OSError as exc:
            raise self._damaged(f"unreadable: {exc.strerror or exc}") from None
        if recorded is not None and not any(
                isinstance(d, str) and hmac.compare_digest(d, self._digest) for d in recorded):
            raise self._damaged("file checksum mismatch: changed after it was written")
        try:
            with np.load(self.path / _SNAPSHOT, allow_pickle=False) as z:
                members = {k: z[k] for k in z.files}
        except Exception as exc:  # noqa: BLE001 - any failure to read it: truncated, torn, ...
            raise self._damaged(" ".join(str(exc).split()) or type(exc).__name__) from None
        try:
            meta = json.loads(str(members.pop("meta")))
        except KeyError:
            raise self._damaged("no metadata") from None
        except ValueError:
            raise self._damaged("metadata not valid JSON") from None
        check = members.pop("check", None)
        if use_check and (check is not None or need_check):
            if check is None or check.shape != () or not hmac.compare_digest(
                    str(check), _snapshot_check(self._manifest["run_key"], meta, members)):
                raise self._damaged("checksum mismatch: edited, or written for other inputs")
        return members, meta

    def _write_manifest(self, digests) -> None:
        self._manifest["sha256"] = [d for d in digests if d is not None]
        try:
            _write_manifest(self.path, self._manifest)
        except OSError as exc:
            raise unwritable(self.path, exc) from None

    def save(self, arrays: Mapping, meta) -> None:
        """Replace the snapshot by ``arrays`` (name → NumPy array) and ``meta`` (JSON-able),
        atomically and durably (class docstring)."""
        arrays = {str(k): np.ascontiguousarray(v) for k, v in arrays.items()}
        if any(k in _RESERVED for k in arrays):
            raise ValueError(f"snapshot array names {_RESERVED} are reserved")
        text = json.dumps(meta)
        check = _snapshot_check(self._manifest["run_key"], json.loads(text), arrays)

        def write(fh):
            np.savez(fh, meta=np.array(text), check=np.array(check), **arrays)

        def record(digest):  # before the rename: both the old and the new file verify
            self._write_manifest([self._digest, digest])

        try:
            self._digest = _write_atomic(self.path / _SNAPSHOT, write, durable=True,
                                         before_replace=record)
        except OSError as exc:
            raise unwritable(self.path, exc) from None
        self.legacy = False


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


def run_study(func: Callable, tasks: Sequence[tuple], *, kind: str, params: dict,
              checkpoint=None, resume: bool = False, workers: Optional[int] = None,
              scheduler=None, progress: Optional[bool] = False, desc: str = "tasks",
              backend: str = "threads", stop=None, on_result: Optional[Callable] = None,
              reduce: Optional[Callable] = None, finish: Optional[Callable] = None):
    """One study: checkpoint → stop flag → tasks → finish. The run plumbing every study shares
    (disorder samples, enumeration prefix tasks, critical networks, accessibility cells).

    1. ``checkpoint``/``resume`` → :func:`open_checkpoint` ``(checkpoint, kind, params,
       len(tasks), resume=resume)`` (None/False: none; a path: kept; True: automatic, removed
       after success; a single task: none). ``params`` is every input that determines the
       results (JSON-able; ``kind`` is added to it).
    2. ``stop``: an object with ``clear_stop()`` and ``request_stop()`` (the compiled kernels'
       stop flags, :mod:`fplandscape.sim.stop`), or None. ``clear_stop()`` runs before the
       tasks start, ``request_stop`` is the ``cancel`` of :func:`run_tasks` (Ctrl-C stops the
       running thread tasks at their next poll).
    3. :func:`run_tasks` ``(func, tasks, workers=, scheduler=, progress=, desc=, checkpoint=,
       backend=, cancel=, on_result=, reduce=)``: the results in task order.
    4. ``finish(results) -> value`` (default: the results themselves), the analysis of the
       results; only after it has returned is an automatic checkpoint removed (a named one is
       closed), so an error or Ctrl-C there loses no task: Ctrl-C raises
       :class:`~fplandscape.errors.Interrupted` naming the checkpoint to resume from.

    Returns what ``finish`` returns. Errors of the tasks are those of :func:`run_tasks`
    (Ctrl-C → Interrupted, a refused input removes an automatic checkpoint, ...). The result
    does not depend on ``workers``, ``scheduler``, ``progress`` or on resuming.
    """
    ckpt = open_checkpoint(checkpoint, kind, params, len(tasks), resume=resume)
    if stop is not None:
        stop.clear_stop()
    results = run_tasks(func, tasks, workers=workers, scheduler=scheduler, progress=progress,
                        desc=desc, checkpoint=ckpt, on_result=on_result, backend=backend,
                        cancel=None if stop is None else stop.request_stop, reduce=reduce)
    if finish is not None:
        try:
            results = finish(results)
        except KeyboardInterrupt:
            if ckpt is None:
                raise
            raise Interrupted(f"interrupted after all {len(tasks)} tasks had finished; they are "
                              f"saved in {ckpt.path}: rerun the same command with --resume "
                              "(resume=True) to finish") from None
    if ckpt is not None:  # only now: an error or Ctrl-C in ``finish`` keeps the tasks
        ckpt.finish()
    return results


def _ignore_sigint():  # worker initializer: Ctrl-C is handled by the parent, which stops us
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _progress_bar(total, initial, desc, progress):
    from tqdm.auto import tqdm

    disable = (not sys.stderr.isatty()) if progress is None else (not progress)
    return tqdm(total=total, initial=initial, desc=desc, unit="task", disable=disable,
                file=sys.stderr, dynamic_ncols=True, smoothing=0.05)


class WorkerDied(ChildProcessError):
    """A local worker process died (killed, e.g. by the out-of-memory killer) or could not start
    (an OSError: the command line reports it as ``error: ...`` with exit status 1; the message
    says what was saved and how to resume)."""


class SchedulerLost(ConnectionError):
    """The Dask scheduler went away during a run (the message says what was saved and how to
    resume; the command line reports it as ``error: ...`` with exit status 1)."""


_SCHEMES = ("tcp", "tls", "ws", "wss", "ucx")
_ADDRESS_FORMS = ("tcp://HOST:PORT (e.g. tcp://127.0.0.1:8786), HOST:PORT, tls://, ws://, "
                  "wss:// or ucx://HOST:PORT, or inproc://...")


def check_scheduler(scheduler):
    """Validate a ``scheduler`` argument before any work: None, a ``distributed.Client``, or
    a Dask scheduler address of a form ``distributed`` accepts (``tcp://HOST:PORT``, plain
    ``HOST:PORT`` meaning tcp, ``tls://``, ``ws://``, ``wss://``, ``ucx://HOST:PORT`` with a port
    in 1..65535, ``inproc://...``). Returns it (an address stripped of surrounding blanks);
    InputError for anything else, or when ``dask.distributed`` is not installed."""
    if scheduler is None:
        return None
    if not isinstance(scheduler, str):
        dist = sys.modules.get("distributed")  # a Client exists only once it is imported
        if dist is not None and isinstance(scheduler, dist.Client):
            return scheduler
        raise InputError("scheduler must be a Dask scheduler address or a distributed.Client, "
                         f"got {type(scheduler).__name__}")
    import importlib.util

    if importlib.util.find_spec("distributed") is None:
        raise InputError("a Dask scheduler was given but dask.distributed is not installed: "
                         "pip install 'fplandscape[dask]'")
    address = scheduler.strip()
    m = re.fullmatch(r"(?:([A-Za-z][A-Za-z0-9+.-]*)://)?(.*)", address, flags=re.S)
    scheme, location = (m.group(1) or "tcp").lower(), m.group(2)
    if scheme == "inproc" and location and not location.isspace():
        return address
    if scheme in _SCHEMES:
        hp = re.fullmatch(r"(\[[0-9A-Fa-f:.%]+\]|[A-Za-z0-9_](?:[A-Za-z0-9_.-]*[A-Za-z0-9_])?)"
                          r":([0-9]{1,5})", location)
        if hp and 1 <= int(hp.group(2)) <= 65535:
            return address
    raise InputError(f"not a Dask scheduler address: {scheduler!r} (expected {_ADDRESS_FORMS})")


def run_tasks(func: Callable, tasks: Sequence[tuple], *, workers: Optional[int] = None,
              scheduler=None, progress: Optional[bool] = None, desc: str = "tasks",
              checkpoint: Optional[Checkpoint] = None,
              on_result: Optional[Callable] = None, backend: str = "processes",
              cancel: Optional[Callable] = None, reduce: Optional[Callable] = None) -> list:
    """Run ``func(*tasks[i])`` for every i and return the results in task order.

    Parameters
    ----------
    func : picklable module-level function (it runs in other processes).
    tasks : argument tuples, one per task. Each task must be self-contained (its own seed).
    workers : local processes (default: all usable cores); ``1`` runs in this process. With a
        single pending task nothing is started.
    scheduler : Dask scheduler address (``"tcp://host:8786"``, checked by
        :func:`check_scheduler` before anything runs) or a ``distributed.Client``; then the
        tasks run on that cluster and ``workers`` is ignored.
    progress : show a tqdm progress bar with ETA on stderr (None: only if stderr is a terminal).
    checkpoint : a :class:`Checkpoint`; its finished tasks are not rerun, and every task that
        finishes is journalled at once.
    on_result : optional ``on_result(i, result) -> kept``: called in the parent as each task
        finishes (in completion order); the list returned holds what it returns (to reduce
        memory, e.g. drop large arrays after merging them). Journalled tasks pass through it too,
        read back from disk one at a time. It may raise to stop the run (the pending tasks are
        cancelled, the finished ones stay journalled).
    reduce : optional ``reduce(i, result) -> result`` applied first, before the result is
        journalled and passed to ``on_result`` (e.g. to drop parts that can no longer matter;
        journalled results are not reduced again).
    backend : ``"processes"`` or ``"threads"`` for local work (module docstring).
    cancel : called on Ctrl-C to make running thread tasks stop early (compiled kernels poll a
        stop flag; threads other than the main one never see the signal themselves).

    Memory: a result is referenced only until it has been journalled and handed to
    ``on_result``; what stays is what ``on_result`` returns.

    Ctrl-C (or any exception) cancels the pending tasks and stops the local workers; finished
    tasks stay in the checkpoint, and :class:`~fplandscape.errors.Interrupted` (a
    ``KeyboardInterrupt``) says how to resume. A Dask scheduler that goes away raises
    :class:`SchedulerLost` (a ``ConnectionError``) saying the same.
    """
    workers = check_workers(workers)
    if backend not in ("processes", "threads"):
        raise InputError(f"backend must be 'processes' or 'threads', got {backend!r}")
    scheduler = check_scheduler(scheduler)
    n = len(tasks)
    results: list = [None] * n
    have = [False] * n
    keep = on_result if on_result is not None else (lambda i, r: r)
    bar = None

    def replay():  # the journalled tasks of a resumed run, one result in memory at a time
        for i in list(checkpoint.done):
            if 0 <= i < n:
                try:
                    r = checkpoint.load(i)
                except DamagedEntry as exc:
                    _warn(f"checkpoint entry of task {i} in {checkpoint.path} damaged ({exc}); "
                          "recomputing")
                    checkpoint.forget(i)
                    continue
                results[i] = keep(i, r)
                have[i] = True
                del r

    def finish(i, r):
        if reduce is not None:
            r = reduce(i, r)
        if checkpoint is not None:
            checkpoint.record(i, r)
        results[i] = keep(i, r)
        have[i] = True
        bar.update(1)

    def saved():
        return (f"; the finished ones are saved in {checkpoint.path}: rerun the same command "
                "with --resume (resume=True) to finish") if checkpoint is not None else ""

    try:  # the replay too: an error or Ctrl-C there still closes the journal
        if checkpoint is not None:
            replay()
        pending = [i for i in range(n) if not have[i]]
        bar = _progress_bar(n, n - len(pending), desc, progress)
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
        raise Interrupted(f"interrupted after {sum(have)} of {n} tasks{saved()}") from None
    except InputError:
        # a task refused its input (too many states to keep, ...): the run cannot finish as
        # given, so an automatic checkpoint would only block the rerun with a --resume request
        if checkpoint is not None and checkpoint.auto:
            checkpoint.remove()
        raise
    except WorkerDied as exc:
        raise WorkerDied(f"{exc} (after {sum(have)} of {n} tasks{saved()})") from None
    except SchedulerLost as exc:
        where = saved()
        if where:
            where += " on this machine (without --scheduler) or on a new cluster"
        raise SchedulerLost(f"{exc} after {sum(have)} of {n} tasks{where}") from None
    finally:
        if bar is not None:
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
    futures: dict = {}  # the unfinished ones only: a result is released once handed on
    sigint = _DeferredSigint()
    try:
        with sigint:
            futures = {ex.submit(func, *tasks[i]): i for i in pending}
        remaining = set(futures)
        while remaining:
            with sigint:
                done, remaining = wait(remaining, timeout=0.25, return_when=FIRST_COMPLETED)
            sigint.check()
            batch = sorted(done, key=futures.get, reverse=True)
            done = None
            while batch:
                fut = batch.pop()  # no reference left to a merged task's future
                try:
                    r = fut.result()
                except BrokenProcessPool:
                    raise WorkerDied(
                        "a local worker process died (killed, e.g. out of memory) or could not "
                        "start; when calling "
                        "fplandscape from a script, put the call under "
                        "'if __name__ == \"__main__\":' (spawned workers re-import the "
                        "script), or pass workers=1") from None
                finish(futures.pop(fut), r)
                r = fut = None
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


def _probe_scheduler(address: str, timeout: float) -> None:
    """Ask the server at ``address`` who it is (the Dask ``identity`` call) within ``timeout``
    seconds: a listener that is not a Dask scheduler (or a wrong port) fails here at once
    instead of hanging ``distributed.Client`` in its handshake."""
    import asyncio
    import threading

    from distributed.comm import connect
    from distributed.security import Security

    out: dict = {}

    async def ask():
        comm = await connect(address, timeout=timeout,
                             **Security().get_connection_args("client"))
        try:
            await comm.write({"op": "identity"})
            return await comm.read()
        finally:
            comm.abort()

    def run():
        try:
            out["reply"] = asyncio.run(asyncio.wait_for(ask(), timeout))
        except BaseException as exc:  # noqa: BLE001 - reported below
            out["error"] = exc

    t = threading.Thread(target=run, name="fplandscape-dask-probe", daemon=True)
    t.start()
    t.join(timeout + 2.0)
    err = out.get("error")
    if t.is_alive() or isinstance(err, (asyncio.TimeoutError, TimeoutError)):
        raise InputError(f"cannot connect to the Dask scheduler {address!r}: nothing answered "
                         f"as a Dask server within {timeout:g} s (is a Dask scheduler "
                         "listening at this address?)")
    if err is not None:
        text = " ".join(str(err).split()) or type(err).__name__
        raise InputError(f"cannot connect to the Dask scheduler {address!r}: {text}")
    reply = out.get("reply")
    kind = reply.get("type") if isinstance(reply, dict) else None
    if kind != "Scheduler":
        raise InputError(f"cannot connect to the Dask scheduler {address!r}: the server there "
                         f"is not a Dask scheduler{f' (it is a Dask {kind})' if kind else ''}")


def _lost(scheduler, exc) -> SchedulerLost:
    where = scheduler if isinstance(scheduler, str) else getattr(scheduler, "scheduler", None)
    where = getattr(where, "address", where)
    reason = " ".join(str(exc).split()) or type(exc).__name__
    return SchedulerLost(f"lost the Dask scheduler {where} ({type(exc).__name__}: {reason})")


def _run_dask(func, tasks, pending, scheduler, finish):
    import contextlib
    import logging

    from distributed import Client, as_completed

    own = not isinstance(scheduler, Client)
    with contextlib.ExitStack() as stack:
        if own:
            _probe_scheduler(scheduler, DASK_CONNECT_TIMEOUT)
            try:
                client = Client(scheduler, set_as_default=False, timeout=DASK_CONNECT_TIMEOUT)
            except (OSError, ValueError, TypeError) as exc:
                raise InputError(f"cannot connect to the Dask scheduler {scheduler!r}: "
                                 f"{' '.join(str(exc).split())}") from None
            stack.callback(client.close)
            # our client logs a lost connection as a traceback: the error says it once
            log = logging.getLogger("distributed.client")
            stack.callback(log.setLevel, log.level)
            log.setLevel(logging.CRITICAL)
        else:
            client = scheduler
        futures: dict = {}  # key → (task index, future), the unfinished ones only
        try:
            for i in pending:
                fut = client.submit(func, *tasks[i], pure=False)
                futures[fut.key] = (i, fut)
            ac = as_completed([f for _, f in futures.values()], loop=client.loop)
            fut = None
            while True:
                try:
                    fut = next(ac)
                except StopIteration:
                    break
                except Exception as exc:  # noqa: BLE001 - the cluster failed, not a task
                    raise _lost(scheduler, exc) from None
                try:
                    r = fut.result()
                except Exception as exc:
                    if fut.status == "error":  # the task's own exception, re-raised here
                        raise
                    raise _lost(scheduler, exc) from None
                i, _ = futures.pop(fut.key)
                fut.release()  # the cluster may drop it: the result is ours now
                fut = None
                finish(i, r)
                del r
        finally:
            if futures:
                with contextlib.suppress(Exception):
                    client.cancel([f for _, f in futures.values()])
