"""Stop flags of the compiled kernels, for stopping work that runs in worker threads.

Signals (Ctrl-C) reach only the main thread; :func:`fplandscape.parallel.run_tasks` calls its
``cancel`` callback there, and :func:`request_stop` sets the stop flag that every compiled
search and dynamics kernel polls (about every 0.1 s of work), so running thread tasks end with
KeyboardInterrupt instead of running to completion. :func:`clear_stop` is called before a new
parallel run starts.
"""
from __future__ import annotations

import threading

from . import _dfs, _dynamics

__all__ = ["request_stop", "clear_stop"]


def request_stop() -> None:
    """Ask every running compiled kernel (search, dynamics) to stop at its next poll."""
    _dfs.request_stop()
    _dynamics.request_stop()


def clear_stop() -> None:
    """Let compiled kernels run again (before starting a new parallel run). Only the main
    thread clears the flags: a task starting in a worker thread while a stop is pending must
    not undo it."""
    if threading.current_thread() is threading.main_thread():
        _dfs.clear_stop()
        _dynamics.clear_stop()
