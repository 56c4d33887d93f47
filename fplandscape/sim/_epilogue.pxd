# The epilogue shared by the compiled kernels (_dfs, _dynamics, _stability): the stop flag and
# the Ctrl-C polls of the long kernels, and the copy of a C result buffer into a NumPy array.
# ``cimport`` this file to get the inline helpers below; they do no arithmetic on the kernels'
# numbers, so they leave every exact decision of ``_exact.pxd`` untouched.
#
# Stop flag. Signals (Ctrl-C) reach only the main thread, so a kernel running without the GIL in
# a worker thread also polls a flag that request_stop() sets from the main thread. The flag is a
# ``static`` C variable: every module that cimports this file has its own one, set and cleared by
# its own request_stop()/clear_stop() (fplandscape.sim.stop sets them all).
#
# Polls. ``fpl_poll`` takes the GIL, and reports a stop (KeyboardInterrupt with the kernel's
# message) or the exception of a pending signal (PyErr_CheckSignals); the kernel then leaves its
# nogil section and calls ``fpl_reraise()``, which propagates that exception. ``fpl_poll_due``
# is the polling epilogue of a unit of work: it polls once ``period`` elementary operations have
# been counted since the last poll.

from libc.stdint cimport uint64_t
from libc.string cimport memcpy

cimport numpy as cnp

cdef extern from "Python.h":
    int PyErr_CheckSignals()
    void PyErr_SetString(object exc_type, const char *message)

cdef extern from *:
    """
    #ifndef FPL_EPILOGUE_H
    #define FPL_EPILOGUE_H
    /* stop flag set by request_stop() (from the main thread on Ctrl-C) and polled by kernels
       running in worker threads, which never see the signal themselves */
    static volatile int fpl_stop_flag = 0;
    static inline int fpl_stop_get(void) { return fpl_stop_flag; }
    static inline void fpl_stop_set(int v) { fpl_stop_flag = v; }
    #endif
    """
    int fpl_stop_get() noexcept nogil
    void fpl_stop_set(int v) noexcept nogil


cdef inline int fpl_poll(const char *message) noexcept with gil:
    """Nonzero, with KeyboardInterrupt(message) set, after request_stop(); otherwise the result
    of PyErr_CheckSignals() (nonzero, with its exception set, after a pending signal)."""
    if fpl_stop_get():
        PyErr_SetString(KeyboardInterrupt, message)
        return -1
    return PyErr_CheckSignals()


cdef inline bint fpl_poll_due(uint64_t *work, uint64_t period, const char *message) noexcept nogil:
    """The polling epilogue of every unit of work: once ``period`` elementary operations have
    been counted in ``work`` since the last poll, reset the count and poll (:func:`fpl_poll`).
    True (with the exception set) when the kernel must stop."""
    if work[0] < period:
        return False
    work[0] = 0
    return fpl_poll(message) != 0


cdef inline int fpl_reraise() except -1:
    """Propagate the exception set by a poll (call it with the GIL, after the nogil section)."""
    return -1


cdef inline cnp.ndarray fpl_u64_array(const uint64_t *buf, Py_ssize_t m):
    """The storing epilogue: a new uint64 NumPy array (m,) holding buf[0..m-1] (the module must
    have called ``cnp.import_array()``)."""
    cdef cnp.npy_intp dim = m
    cdef cnp.ndarray out = cnp.PyArray_EMPTY(1, &dim, cnp.NPY_UINT64, 0)
    if m > 0:
        memcpy(cnp.PyArray_DATA(out), buf, <size_t> m * sizeof(uint64_t))
    return out
