"""The frontier table of ``benchmarks/enumerate.py --frontier`` (issue 15 goal 1) on tiny sizes:
counts against the from-scratch brute force, growth factors recomputed from the nodes, and the
rule that predicts instead of running a size expected to exceed ``--max-seconds``."""
import importlib.util
from pathlib import Path

import numpy as np
import pytest

from fplandscape import model
from fplandscape.sim import count_fixed_points_bruteforce

_PATH = Path(__file__).resolve().parent.parent / "benchmarks" / "enumerate.py"
_spec = importlib.util.spec_from_file_location("bench_enumerate", _PATH)
bench = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bench)

SERIES = [(0.5, (8, 10, 12), {10: 1e9, 12: 0.0})]


def _quiet(*args, **kwargs):
    pass


def test_frontier_rows_are_exact_and_growth_is_per_neuron():
    rows = bench.frontier(series=SERIES, max_seconds=1e9, echo=_quiet)
    assert [r["N"] for r in rows] == [8, 10, 12]
    for r in rows:
        J = model.gaussian_couplings(r["N"], 0.5, seed=bench.FRONTIER_SEED)
        assert r["count"] == count_fixed_points_bruteforce(J)
        assert r["nodes/FP"] == pytest.approx(r["nodes"] / r["count"])
    assert rows[0]["nodes ×/neuron"] is None and rows[0]["status"] == "-"
    for a, b in zip(rows, rows[1:]):
        assert b["nodes ×/neuron"] == pytest.approx(np.sqrt(b["nodes"] / a["nodes"]))
        assert b["time ×/neuron"] == pytest.approx(np.sqrt(b["seconds"] / a["seconds"]))
    assert rows[1]["status"] == "PASS" and rows[2]["status"] == "FAIL"  # targets 1e9 s and 0 s


def test_frontier_predicts_instead_of_running_past_the_limit():
    rows = bench.frontier(series=SERIES, max_seconds=1e-12, echo=_quiet)
    first, second, third = rows
    assert first["count"] is not None and first["status"] == "-"
    # before any growth is measured: 8× per four neurons, so 8^(2/4) for two neurons
    assert second["status"] == "PREDICTED" and second["count"] is None
    assert second["seconds"] == pytest.approx(first["seconds"] * 8.0 ** 0.5)
    assert third["status"] == "PREDICTED"
    assert third["seconds"] == pytest.approx(first["seconds"] * 8.0)


def test_growth_helpers():
    assert bench.growth_per_neuron(2.0, 32.0, 4) == pytest.approx(2.0)
    assert bench.growth_per_neuron(0, 5.0, 4) is None
    assert bench.predicted_seconds(3.0, 2.0, 3) == pytest.approx(24.0)
