"""How the attractor analyses run their start tasks: one call into
:func:`fplandscape.parallel.run_study` (checkpoint → tasks → finish, with
:func:`fplandscape.parallel.run_tasks`: thread workers locally, or a Dask cluster) and, while
several local threads compute, a single BLAS thread each (the threads' own parallelism replaces
BLAS's; two levels at once oversubscribe the cores)."""
from __future__ import annotations

import contextlib

from .. import parallel
from ..blas import single_thread


def run_start_tasks(func, tasks, *, kind: str, system, starts, params: dict, workers,
                    scheduler, progress, checkpoint, resume, desc, on_result=None) -> list:
    """Run ``func(*task)`` for every task; results in task order (independent of workers).

    The checkpoint (:func:`fplandscape.parallel.open_checkpoint`) is keyed by ``kind``, the
    system's :meth:`describe`, a digest of ``starts`` and ``params`` (computed only when a
    checkpoint is asked for)."""
    if checkpoint is not None and checkpoint is not False:
        params = {"system": repr(sorted(system.describe().items())),
                  "starts": parallel.array_digest(starts), **params}
    threaded = scheduler is None and len(tasks) > 1 and \
        (workers or parallel.default_workers()) > 1
    with single_thread() if threaded else contextlib.nullcontext():
        return parallel.run_study(func, tasks, kind=kind, params=params, checkpoint=checkpoint,
                                  resume=resume, workers=workers, scheduler=scheduler,
                                  progress=progress, desc=desc, backend="threads",
                                  on_result=on_result)
