"""Bounded memory of runs that keep fixed-point states (issue 12, item 4): a task's result is
released once merged (no reference left in the executor's futures or in the checkpoint), the
merged sample and the journal stay bounded, runs that need every fixed point stop as soon as
there are too many, and the command line refuses such runs up front or early."""
import gc
import json
import time
import weakref

import numpy as np
import pytest

from cli_runner import run, run_error, run_json
from fplandscape import model, parallel
from fplandscape.errors import InputError
from fplandscape.sim import disorder, enumerate_fixed_points
from fplandscape.sim import enumerate as enum_mod
from fplandscape.sim.enumerate import sample_keys
from fplandscape.sim.clusters import pair_distance_histogram


@pytest.fixture(autouse=True)
def _checkpoint_home(tmp_path, monkeypatch):
    monkeypatch.setenv("FPLANDSCAPE_CHECKPOINTS", str(tmp_path / "auto-checkpoints"))


def _array_task(i):
    return {"i": i, "arr": np.full(1000, i, dtype=np.int64)}


@pytest.mark.parametrize("backend,workers,checkpointed", [
    ("threads", 1, False), ("threads", 2, False), ("threads", 2, True), ("threads", 1, True)])
def test_results_are_released_once_merged(tmp_path, backend, workers, checkpointed):
    """on_result drops the array; nothing else may keep it alive (the futures map of the
    local runner and Checkpoint.done used to hold every task's result until the end)."""
    refs = []
    alive_at_merge = []

    def merge(i, r):
        # every result merged before this one must be gone already (freed by reference
        # counting: no gc.collect() needed, and none hides a lingering reference)
        alive_at_merge.append(sum(ref() is not None for ref in refs))
        refs.append(weakref.ref(r["arr"]))
        return r["i"]

    ck = parallel.Checkpoint(tmp_path / "ck", {"t": 1}, 12) if checkpointed else None
    out = parallel.run_tasks(_array_task, [(i,) for i in range(12)], workers=workers,
                             backend=backend, checkpoint=ck, on_result=merge, progress=False)
    assert out == list(range(12))
    assert alive_at_merge == [0] * 12
    gc.collect()
    assert all(ref() is None for ref in refs)
    if checkpointed:  # the journal reads them back from disk, on demand
        ck2 = parallel.Checkpoint(tmp_path / "ck", {"t": 1}, 12, resume=True)
        np.testing.assert_array_equal(ck2.done[5]["arr"], np.full(1000, 5))


def test_resume_reads_journalled_results_one_at_a_time(tmp_path):
    ck = parallel.Checkpoint(tmp_path / "ck", {"t": 2}, 8)
    parallel.run_tasks(_array_task, [(i,) for i in range(8)], workers=1, checkpoint=ck,
                       progress=False)
    ck = parallel.Checkpoint(tmp_path / "ck", {"t": 2}, 8, resume=True)
    refs = []

    def merge(i, r):
        assert all(ref() is None for ref in refs)  # the previous ones are gone already
        refs.append(weakref.ref(r["arr"]))
        return int(r["arr"][0])

    assert parallel.run_tasks(_array_task, [(i,) for i in range(8)], workers=1, checkpoint=ck,
                              on_result=merge, progress=False) == list(range(8))


@pytest.fixture(scope="module")
def j33():
    return model.gaussian_couplings(33, 0.5, seed=np.random.default_rng(3))


@pytest.fixture(scope="module")
def j33_full(j33):
    return enumerate_fixed_points(j33, return_states=True, max_states=10**6, workers=2)


def test_sample_journal_is_bounded_and_resumes_exactly(tmp_path, j33, j33_full):
    """A checkpoint journals only the codes that can still be in the bottom-k sample (it used
    to keep up to max_states codes of every task)."""
    full = j33_full.states
    ref = np.sort(full[np.argsort(sample_keys(full, 9))[:300]])
    path = tmp_path / "ck"
    res = enumerate_fixed_points(j33, return_states=True, max_states=300, seed=9, workers=2,
                                 checkpoint=path)
    assert res.truncated and res.count == j33_full.count
    np.testing.assert_array_equal(res.states, ref)
    stored = sum(np.load(f).size for f in path.glob("task-*.npy"))
    assert stored <= 10 * 300 < min(res.count, 64 * 300)
    lines = (path / "journal.jsonl").read_text().splitlines()
    (path / "journal.jsonl").write_text("\n".join(lines[:20]) + "\n")
    again = enumerate_fixed_points(j33, return_states=True, max_states=300, seed=9,
                                   workers=2, checkpoint=path, resume=True)
    np.testing.assert_array_equal(again.states, ref)


def test_all_states_stops_as_soon_as_there_are_too_many(tmp_path, j33, j33_full):
    path = tmp_path / "ck"
    with pytest.raises(InputError, match="more than max_states = 100 fixed points"):
        enumerate_fixed_points(j33, return_states=True, all_states=True, max_states=100,
                               workers=1, checkpoint=path)
    done = len((path / "journal.jsonl").read_text().splitlines())
    assert done < 64  # stopped early, not after the whole search
    assert not any(path.glob("task-*.npy")) or done >= 1
    # enough room: the complete list, as without all_states
    res = enumerate_fixed_points(j33, return_states=True, all_states=True,
                                 max_states=j33_full.count, workers=2)
    np.testing.assert_array_equal(res.states, j33_full.states)
    # single task and brute force: same rule
    J = model.gaussian_couplings(14, 1.0, seed=np.random.default_rng(1))
    n_fp = enumerate_fixed_points(J).count
    for method in ("dfs", "bruteforce"):
        with pytest.raises(InputError, match="max_states"):
            enumerate_fixed_points(J, method=method, return_states=True, all_states=True,
                                   max_states=n_fp - 1)


def test_bruteforce_listing_is_bounded(monkeypatch):
    J = np.eye(12)  # every state is a fixed point
    monkeypatch.setattr(enum_mod, "BRUTEFORCE_LIST_MAX", 1000)
    with pytest.raises(InputError, match="method='dfs'"):
        enumerate_fixed_points(J, method="bruteforce", return_states=True, max_states=10)
    res = enumerate_fixed_points(J, method="bruteforce", return_states=True, max_states=5000)
    assert res.states.size == 4096
    dfs = enumerate_fixed_points(J, return_states=True, max_states=10, seed=2)
    assert dfs.truncated and dfs.states.size == 10


def test_pair_histogram_bounded_cube(monkeypatch):
    J = model.gaussian_couplings(16, 1.5, seed=np.random.default_rng(4))
    states = enumerate_fixed_points(J, return_states=True).states
    want = pair_distance_histogram(states, 16, method="pairs")
    monkeypatch.setattr(disorder, "PAIRS_CUBE_MAX_BYTES", 1)  # never the cube
    np.testing.assert_array_equal(disorder.pair_histogram(states, 16), want)
    monkeypatch.setattr(disorder, "PAIRS_CUBE_MAX_BYTES", 1 << 30)
    monkeypatch.setattr("fplandscape.sim.clusters._choose_method", lambda m, n: "cube")
    np.testing.assert_array_equal(disorder.pair_histogram(states, 16), want)


# --------------------------------------------------------------------------------------------
# the command line


def test_cli_pairs_refused_up_front_from_expected_count(capsys):
    t0 = time.perf_counter()
    err = run_error(capsys, "enumerate", "--n", 29, "--jd", 1.5, "--seed", 1, "--pairs",
                    match="--max-states")
    assert time.perf_counter() - t0 < 2  # before any enumeration (it took 12.6 s)
    assert "E1" in err and "1000000" in err and "8.03e+07" in err
    # a raised limit is accepted (small case: E1 = 56 > 50 refused, 100 accepted)
    run_error(capsys, "enumerate", "--n", 12, "--jd", 0.5, "--seed", 1, "--pairs",
              "--max-states", 50, match="--max-states 50")
    obj = run_json(capsys, "enumerate", "--n", 12, "--jd", 0.5, "--seed", 1, "--pairs",
                   "--max-states", 100, "--samples", 2)
    assert len(obj["samples"][0]["pair_distance_hist"]) == 13


def test_cli_couplings_pairs_stops_early(capsys, tmp_path):
    J = model.gaussian_couplings(31, 0.5, seed=np.random.default_rng(5))
    f = tmp_path / "J31.npy"
    np.save(f, J)
    ck = tmp_path / "ck"
    err = run_error(capsys, "enumerate", "--couplings", f, "--pairs", "--max-states", 200,
                    "--checkpoint", ck, "--workers", 1, match="--max-states 200")
    assert "--pairs needs every fixed point" in err
    assert len((ck / "journal.jsonl").read_text().splitlines()) < 16
    full = enumerate_fixed_points(J, return_states=True)
    assert full.count > 200
    obj = run_json(capsys, "enumerate", "--couplings", f, "--pairs", "--max-states",
                   full.count)
    assert obj["count"] == full.count
    assert obj["pair_distance_hist"] == pair_distance_histogram(full.states, 31).tolist()


def test_cli_save_states_sample_of_max_states(capsys, tmp_path):
    J = model.gaussian_couplings(16, 1.0, seed=np.random.default_rng(6))
    f = tmp_path / "J.npy"
    np.save(f, J)
    out = tmp_path / "fp.npy"
    rc, _, err = run(capsys, "enumerate", "--couplings", f, "--save-states", out,
                     "--max-states", 25)
    assert rc == 0 and "seeded sample" in err
    ref = enumerate_fixed_points(J, return_states=True, max_states=25)
    np.testing.assert_array_equal(np.load(out), ref.states)
    run_error(capsys, "enumerate", "--couplings", f, "--max-states", 25, match="--pairs")
    run_error(capsys, "enumerate", "--couplings", f, "--pairs", "--max-states", 0,
              match="--max-states")


def test_listing_workers_bounded():
    from fplandscape.cli.enumerate import LISTING_TASK_BUDGET, listing_workers

    assert listing_workers(64, 10**6, None) == min(64, LISTING_TASK_BUDGET // (16 * 10**6))
    assert listing_workers(2, 10**6, None) == 2
    assert listing_workers(8, 10**9, None) == 1
    assert listing_workers(8, 10**9, "tcp://127.0.0.1:8786") == 8


def test_json_of_journal_is_small(tmp_path):
    """The journal of a counting run holds no arrays and one short line per task."""
    J = model.gaussian_couplings(34, 0.0, seed=np.random.default_rng(8))
    path = tmp_path / "ck"
    enumerate_fixed_points(J, checkpoint=path, workers=2)
    lines = (path / "journal.jsonl").read_text().splitlines()
    assert len(lines) == 128 and not list(path.glob("task-*.npy"))
    assert all(len(line) < 400 and json.loads(line)["files"] == {} for line in lines)


def test_local_statistics_refuse_a_task_too_large_to_list(monkeypatch):
    # --local lists each task's fixed points: the list has room for LOCAL_TASK_MAX codes and a
    # task with more is refused (memory stays bounded)
    from fplandscape.sim import enumerate as enum_mod

    J = model.gaussian_couplings(12, 2.0, seed=0)  # J_D = 2: most of the 4096 states are FPs
    full = enum_mod.enumerate_fixed_points(J, local_radius=1)
    assert full.local is not None and full.count > 100
    monkeypatch.setattr(enum_mod, "LOCAL_TASK_MAX", 100)
    with pytest.raises(InputError, match="local statistics list each task"):
        enum_mod.enumerate_fixed_points(J, local_radius=1)
    assert enum_mod.enumerate_fixed_points(J).count == full.count  # counting is unaffected


def test_a_refused_run_leaves_no_automatic_checkpoint(tmp_path, monkeypatch):
    # a task that refuses its input (more fixed points than max_states where pairs need all)
    # makes the run impossible as given: its automatic checkpoint must not block the rerun
    monkeypatch.setenv("FPLANDSCAPE_CHECKPOINTS", str(tmp_path / "auto"))
    ens = model.Ensemble(n=10, jd=1.5)
    for _ in range(2):  # the rerun gives the same refusal, not a request to --resume
        with pytest.raises(InputError, match="max_states"):
            disorder.disorder_average(ens, 4, 0, pairs=True, max_states=3, checkpoint=True,
                                      workers=1)
        assert not any((tmp_path / "auto").glob("*"))
