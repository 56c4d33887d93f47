"""Checkpoints of validation runs over a grid of cells (``validate counts``, ``validate pairs``).

Each cell of such a run is one :func:`fplandscape.sim.disorder_average` call with its own task
checkpoint. :class:`CellCheckpoint` is the directory that holds them all, so that one
``checkpoint`` argument serves a whole grid. It is a :class:`fplandscape.parallel.Checkpoint`
whose tasks are the cells (the same journal, the same SHA-256-checked entries):

* ``manifest.json`` — what is being computed (kind, a JSON fingerprint of every input, the
  number of cells);
* ``journal.jsonl`` — one line per *finished* cell (task index = the cell's position in the
  grid) with its result rows, appended and synced as soon as the cell is done: a resumed run
  takes finished cells from here and never recomputes them (not even from their task journal);
* ``cell-<key>/`` — the task checkpoint of each cell (finished samples of an unfinished cell).

``checkpoint=None``/``False``: none. A path: that directory, kept after success. ``True``: the
automatic directory :func:`fplandscape.parallel.default_checkpoint_dir` of the run's inputs
(found again by rerunning the same command), removed only after the *whole* run has
succeeded — never cell by cell, so that Ctrl-C + ``--resume`` loses no finished cell. As for
task checkpoints, finished work is never silently discarded (a directory holding finished cells,
or finished samples of an unfinished cell, is only continued with ``resume=True``), resuming
with different inputs is refused, and a fresh start removes every ``cell-*`` directory of an
earlier run with it.
"""
from __future__ import annotations

import json
import os
import shutil
import warnings
from pathlib import Path

import numpy as np

from .. import parallel
from ..errors import InputError, Interrupted

_MANIFEST = getattr(parallel, "_MANIFEST", "manifest.json")
_JOURNAL = getattr(parallel, "_JOURNAL", "journal.jsonl")
_OLD_GRID = "grid.json"  # the cell journal of earlier versions (grid.json + cells.jsonl)


def _plain(value):
    """JSON encoder fallback for the NumPy values of result rows."""
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    if isinstance(value, np.bool_):
        return bool(value)
    raise TypeError(f"not JSON-serialisable: {type(value).__name__}")


def _has_finished_tasks(task_dir: Path) -> bool:
    try:
        return (task_dir / _JOURNAL).stat().st_size > 0
    except OSError:
        return False


class _CellJournal(parallel.Checkpoint):
    """The grid's journal: a task checkpoint whose fresh start also clears the cells' own
    task checkpoints (``cell-*``), refusing when one holds finished work and ``resume`` is
    off."""

    def __init__(self, path, params, n_cells, *, resume, auto):
        self._resume_requested = bool(resume)
        super().__init__(path, params, n_cells, resume=resume, auto=auto, unit="cells")

    def _reset(self):
        stale = sorted(p for p in self.path.glob("cell-*") if p.is_dir()) \
            if self.path.is_dir() else []
        busy = [p.name for p in stale if _has_finished_tasks(p)]
        if busy and not self._resume_requested:
            raise InputError(
                f"checkpoint {self.path} holds finished samples of an unfinished cell "
                f"({', '.join(busy)}): pass resume=True (--resume) to finish that run, or "
                "delete the directory to start over")
        super()._reset()
        for p in stale:
            shutil.rmtree(p, ignore_errors=True)


class CellCheckpoint:
    """Checkpoint of a grid of cells (module docstring).

    ``CellCheckpoint(checkpoint, kind, params, cells, resume=False)``: ``params`` is a JSON-able
    dict of every input that determines the rows, ``cells`` the list of cell keys (strings).
    ``path`` is None when checkpointing is off; ``done`` maps a finished cell's key to its rows.
    """

    def __init__(self, checkpoint, kind: str, params: dict, cells, *, resume: bool = False):
        self.path = None
        self.auto = False
        self.done: dict = {}
        self.cells = [str(c) for c in cells]
        self._journal = None
        if checkpoint is None or checkpoint is False:
            return
        if checkpoint is not True and not isinstance(checkpoint, (str, os.PathLike)):
            raise InputError(f"checkpoint must be a directory path, True (automatic) or None, "
                             f"got {checkpoint!r}")
        self.kind = kind
        self.params = json.loads(json.dumps({"kind": kind, **params}, default=str))
        if checkpoint is True:
            path = parallel.default_checkpoint_dir(kind, self.params)
            try:
                self._open(path, resume, auto=True)
            except InputError as exc:
                if "cannot write" not in str(exc):
                    raise
                warnings.warn(f"running without a checkpoint: {exc}", RuntimeWarning,
                              stacklevel=3)
                return
            self.auto = True
        else:
            self._open(Path(checkpoint), resume, auto=False)

    def _open(self, path: Path, resume: bool, *, auto: bool) -> None:
        if path.exists() and not path.is_dir():
            raise InputError(f"checkpoint {path} exists and is not a directory")
        if (path / _OLD_GRID).exists() and not (path / _MANIFEST).exists():
            raise InputError(f"checkpoint {path} was written by an earlier version of "
                             "fplandscape (grid.json); delete it to start over")
        self._refuse_other_kind(path)
        journal = _CellJournal(path, self.params, len(self.cells), resume=resume, auto=auto)
        self._journal = journal
        self.path = path
        try:
            for i in list(journal.done):
                try:
                    self.done[self.cells[i]] = journal.load(i)
                except parallel.DamagedEntry as exc:
                    parallel._warn(f"checkpoint cell entry of {self.cells[i]} in {path} "
                                   f"damaged ({exc}); recomputing that cell")
                    journal.forget(i)
        except BaseException:
            journal.close()
            raise

    def _refuse_other_kind(self, path: Path) -> None:
        """A directory holding the task checkpoint of another run (e.g. a single disorder
        average) is never taken over."""
        try:
            old = json.loads((path / _MANIFEST).read_text(encoding="utf-8"))
            kind = old["params"]["kind"]
        except (OSError, ValueError, KeyError, TypeError):
            return
        if kind != self.kind:
            raise InputError(
                f"checkpoint {path} holds the checkpoint of another run ({kind!r}, not a grid "
                f"of {self.kind!r} cells); choose another directory or delete it")

    # ----------------------------------------------------------------------------------------

    def task_checkpoint(self, key):
        """The ``checkpoint`` argument for the cell's own tasks: its sub-directory (kept until
        the whole run is finished), or None without checkpointing."""
        return None if self.path is None else self.path / f"cell-{key}"

    def record(self, key, rows: list) -> None:
        """Journal a finished cell's rows (one flushed and synced line). ``done[key]`` holds
        them as read back from JSON (NumPy scalars become Python numbers, tuples lists), so a
        resumed run returns exactly what an uninterrupted one does."""
        key = str(key)
        plain = json.loads(json.dumps(rows, default=_plain))
        self.done[key] = plain
        if self._journal is None:
            return
        try:
            self._journal.record(self.cells.index(key), plain)
            self._journal.sync()
        except OSError as exc:
            raise parallel.unwritable(self.path, exc) from None

    def interrupted(self, exc: KeyboardInterrupt) -> KeyboardInterrupt:
        """The exception to raise for Ctrl-C during the run: names the directory to resume
        from (the finished cells and the finished tasks of the current cell are in it)."""
        self.close()
        if self.path is None:
            return exc
        return Interrupted(
            f"interrupted after {len(self.done)} of {len(self.cells)} cells; the finished "
            f"cells and tasks are saved in {self.path}: rerun the same command with --resume "
            "(resume=True) to finish")

    def close(self) -> None:
        """Close the journal (it stays on disk)."""
        if self._journal is not None:
            self._journal.close()

    def finish(self) -> None:
        """After the rows are delivered: remove an automatic checkpoint, keep a named one."""
        if self._journal is not None:
            self._journal.finish()


def run_cells(ckpt: CellCheckpoint, cells, compute) -> list:
    """Rows of every cell in order: ``cells`` is a list of ``(key, args)``, ``compute(args,
    task_checkpoint)`` returns a cell's rows. Finished cells come from the checkpoint; each
    newly finished cell is journalled at once; Ctrl-C raises :class:`Interrupted` naming the
    checkpoint."""
    rows = []
    try:
        for key, args in cells:
            key = str(key)
            if key not in ckpt.done:
                ckpt.record(key, compute(args, ckpt.task_checkpoint(key)))
            rows.extend(ckpt.done[key])
    except KeyboardInterrupt as exc:
        raise ckpt.interrupted(exc) from None
    except BaseException:
        ckpt.close()
        raise
    ckpt.finish()
    return rows
