"""One BLAS thread for code that multiplies small matrices or runs several numerical threads at
once (learning sweeps, attractor tasks on thread workers): the learning dynamics multiply small matrices
((16 × H) @ (H × H) per sweep), for which a multi-threaded BLAS only adds synchronisation; on a
shared 2-core machine we measured an epoch at H = 400 take 8.7 s with two OpenBLAS threads
against 0.66 s with one. :func:`single_thread` limits the BLAS of this process to one thread
for the duration of a ``with`` block and restores the previous count afterwards.

It uses threadpoolctl when installed, else the OpenBLAS entry points
(``openblas_set_num_threads`` and NumPy's ``scipy_openblas…64_`` variants) of the OpenBLAS
libraries already loaded in this process (found in ``/proc/self/maps``); elsewhere it does
nothing. Results do not depend on it (only speed).
"""
from __future__ import annotations

import contextlib
import ctypes

__all__ = ["single_thread"]

_PAIRS = (("scipy_openblas_get_num_threads64_", "scipy_openblas_set_num_threads64_"),
          ("openblas_get_num_threads64_", "openblas_set_num_threads64_"),
          ("openblas_get_num_threads", "openblas_set_num_threads"))
_handles = None


def _openblas():
    global _handles
    if _handles is not None:
        return _handles
    _handles = []
    try:
        with open("/proc/self/maps") as fh:
            paths = sorted({line.split()[-1] for line in fh
                            if "openblas" in line.lower() and ".so" in line})
    except OSError:
        return _handles
    for path in paths:
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            continue
        for get, set_ in _PAIRS:
            if hasattr(lib, get) and hasattr(lib, set_):
                g, s = getattr(lib, get), getattr(lib, set_)
                g.restype = ctypes.c_int
                s.argtypes = [ctypes.c_int]
                _handles.append((g, s))
                break
    return _handles


@contextlib.contextmanager
def single_thread():
    """Context manager: BLAS limited to one thread inside the block."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        threadpool_limits = None
    if threadpool_limits is not None:
        with threadpool_limits(limits=1, user_api="blas"):
            yield
        return
    handles = _openblas()
    old = []
    for g, s in handles:
        try:
            old.append(g())
            s(1)
        except Exception:  # pragma: no cover - a foreign library with another ABI
            old.append(None)
    try:
        yield
    finally:
        for (g, s), n in zip(handles, old):
            if n is not None and n > 0:
                s(n)
