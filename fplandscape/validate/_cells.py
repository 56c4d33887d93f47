"""Checkpoints of validation runs over a grid of cells (``validate counts``, ``validate pairs``).

Each cell of such a run is one :func:`fplandscape.sim.disorder_average` call with its own task
checkpoint (:class:`fplandscape.parallel.Checkpoint`). :class:`CellCheckpoint` is the
directory that holds them all, so that one ``checkpoint`` argument serves a whole grid:

* ``grid.json`` — what is being computed (kind, a JSON fingerprint of every input, the cells);
* ``cells.jsonl`` — one line per *finished* cell with its result rows, appended and flushed as
  soon as the cell is done: a resumed run takes finished cells from here and never recomputes
  them (not even from their task journal);
* ``cell-<key>/`` — the task checkpoint of each cell (finished samples of an unfinished cell).

``checkpoint=None``/``False``: none. A path: that directory, kept after success. ``True``: the
automatic directory :func:`fplandscape.parallel.default_checkpoint_dir` of the run's inputs
(found again by rerunning the same command), removed only after the *whole* run has
succeeded — never cell by cell, so that Ctrl-C + ``--resume`` loses no finished cell. As for
task checkpoints, finished work is never silently discarded (a directory holding finished cells
is only continued with ``resume=True``) and resuming with different inputs is refused.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import warnings
from pathlib import Path

import numpy as np

from .. import parallel
from .._version import __version__
from ..errors import InputError, Interrupted

_GRID = "grid.json"
_CELLS = "cells.jsonl"
_TASK_MANIFEST = getattr(parallel, "_MANIFEST", "manifest.json")  # a plain task checkpoint's


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
        if checkpoint is None or checkpoint is False:
            return
        if checkpoint is not True and not isinstance(checkpoint, (str, os.PathLike)):
            raise InputError(f"checkpoint must be a directory path, True (automatic) or None, "
                             f"got {checkpoint!r}")
        self.params = json.loads(json.dumps({"kind": kind, **params}, default=str))
        if checkpoint is True:
            path = parallel.default_checkpoint_dir(kind, self.params)
            try:
                self._open(path, resume)
            except InputError as exc:
                if "cannot write" not in str(exc):
                    raise
                warnings.warn(f"running without a checkpoint: {exc}", RuntimeWarning,
                              stacklevel=3)
                return
            self.auto = True
        else:
            self._open(Path(checkpoint), resume)

    # ----------------------------------------------------------------------------------------

    def _open(self, path: Path, resume: bool) -> None:
        grid = path / _GRID
        if path.exists() and not path.is_dir():
            raise InputError(f"checkpoint {path} exists and is not a directory")
        if grid.exists():
            try:
                old = json.loads(grid.read_text())
            except (OSError, ValueError) as exc:
                raise InputError(f"checkpoint {path} is unreadable ({exc}); "
                                 "delete it to start over") from None
            done = self._read_cells(path)
            if done and not resume:
                raise InputError(
                    f"checkpoint {path} already holds {len(done)} of {len(self.cells)} finished "
                    "cells: pass resume=True (--resume) to finish that run, or delete the "
                    "directory to start over")
            if resume and (old.get("params") != self.params or old.get("cells") != self.cells):
                oldp = old.get("params", {})
                diff = sorted(k for k in set(oldp) | set(self.params)
                              if oldp.get(k) != self.params.get(k))
                raise InputError(
                    f"checkpoint {path} was written for different inputs "
                    f"(differing: {', '.join(diff) or 'cells'}); cannot resume")
            self.path = path
            if resume:
                self.done = done
            else:
                self._reset()
        elif (path / _TASK_MANIFEST).exists():
            raise InputError(
                f"checkpoint {path} holds the task checkpoint of another run (not a grid of "
                "validation cells); choose another directory or delete it")
        else:
            self.path = path
            self._reset()

    def _reset(self) -> None:
        try:
            self.path.mkdir(parents=True, exist_ok=True)
            (self.path / _CELLS).write_text("")
            tmp = self.path / (_GRID + ".tmp")
            tmp.write_text(json.dumps({"version": __version__, "params": self.params,
                                       "cells": self.cells}, indent=1, sort_keys=True))
            os.replace(tmp, self.path / _GRID)
        except OSError as exc:
            raise InputError(f"cannot write checkpoint directory {self.path}: {exc}") from None

    def _read_cells(self, path: Path) -> dict:
        done = {}
        try:
            text = (path / _CELLS).read_text(encoding="utf-8")
        except OSError:
            return done
        for n, line in enumerate(text.splitlines(), 1):
            if not line.strip():
                continue
            try:
                entry = json.loads(line)
                key, rows = str(entry["cell"]), entry["rows"]
                ok = entry.get("check") == self._check(key, rows)
            except (ValueError, KeyError, TypeError, AttributeError):
                ok = False
            if not ok or key not in self.cells or not isinstance(rows, list):
                # torn by a kill, edited, or from another run: never trusted, that cell is redone
                parallel._warn(f"checkpoint cell entry {n} of {path / _CELLS} damaged; "
                               "recomputing that cell")
                continue
            done[key] = rows
        return done

    def _check(self, key: str, rows) -> str:
        """Checksum of one cell entry, bound to the run's inputs (as the task journal's)."""
        return hashlib.sha256(parallel._canonical(
            {"run": parallel.fingerprint(self.params), "cell": key, "rows": rows})).hexdigest()

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
        if self.path is None:
            return
        line = json.dumps({"cell": key, "rows": plain, "check": self._check(key, plain)})
        try:
            journal = self.path / _CELLS
            torn = journal.exists() and journal.stat().st_size > 0 and \
                journal.read_bytes()[-1:] != b"\n"
            with open(journal, "a", encoding="utf-8") as fh:
                fh.write(("\n" if torn else "") + line + "\n")
                fh.flush()
                os.fsync(fh.fileno())
        except OSError as exc:
            raise InputError(f"cannot write checkpoint directory {self.path}: {exc}") from None

    def interrupted(self, exc: KeyboardInterrupt) -> KeyboardInterrupt:
        """The exception to raise for Ctrl-C during the run: names the directory to resume
        from (the finished cells and the finished tasks of the current cell are in it)."""
        if self.path is None:
            return exc
        return Interrupted(
            f"interrupted after {len(self.done)} of {len(self.cells)} cells; the finished "
            f"cells and tasks are saved in {self.path}: rerun the same command with --resume "
            "(resume=True) to finish")

    def finish(self) -> None:
        """After the rows are delivered: remove an automatic checkpoint, keep a named one."""
        if self.auto and self.path is not None:
            shutil.rmtree(self.path, ignore_errors=True)


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
    ckpt.finish()
    return rows
