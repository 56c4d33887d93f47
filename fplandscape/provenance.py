"""Run provenance: what every result records (package version, parameters, seed, wall time).

Results are plain dictionaries/rows; :func:`run_info` gives the metadata columns shared by all
of them, :class:`Stopwatch` the wall time.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field

from ._version import __version__


def run_info(seed=None, **params) -> dict:
    """Metadata for one result: ``version``, ``seed`` (if any) and the given parameters."""
    info = {"version": __version__}
    if seed is not None:
        info["seed"] = seed
    info.update(params)
    return info


def environment() -> dict:
    """Python/NumPy/SciPy versions, for the header of long runs."""
    import platform

    import numpy
    import scipy

    return {
        "version": __version__,
        "python": platform.python_version(),
        "numpy": numpy.__version__,
        "scipy": scipy.__version__,
    }


def machine_line() -> str:
    """'nproc N | load average a b c | arch | ISO time': the context a benchmark table needs."""
    import datetime
    import os
    import platform

    try:
        nproc = len(os.sched_getaffinity(0))
    except AttributeError:
        nproc = os.cpu_count()
    try:
        load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        load = "n/a"
    now = datetime.datetime.now().astimezone().isoformat(timespec="seconds")
    return f"nproc {nproc} | load average {load} | {platform.machine()} | {now}"


def benchmark_header(title: str, detail: str = "") -> str:
    """The header of a benchmark table: title, versions (+ ``detail``), machine and load."""
    env = environment()
    versions = f"fplandscape {env['version']} | python {env['python']} | numpy {env['numpy']}"
    return "\n".join([
        title,
        versions + (f" | {detail}" if detail else ""),
        machine_line(),
        "wall-clock seconds; other jobs on the machine inflate them (see load average)",
    ])


@dataclass
class Stopwatch:
    """Wall-clock timer: ``with Stopwatch() as sw: ...; sw.seconds``."""

    start: float = field(default_factory=time.perf_counter)
    seconds: float = 0.0

    def __enter__(self):
        self.start = time.perf_counter()
        return self

    def __exit__(self, *exc):
        self.seconds = time.perf_counter() - self.start
        return False
