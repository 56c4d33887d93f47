"""Parallel, resumable runs (fplandscape.parallel) and their use by the enumeration and the
disorder averages: same answer whatever the split, the number of workers or the executor
(threads, processes, a local Dask cluster); checkpoints that resume to exactly the result of an
uninterrupted run; a clean stop on Ctrl-C."""
import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from fplandscape import model, parallel
from fplandscape.errors import InputError, Interrupted
from fplandscape.sim import disorder_average, enumerate_fixed_points
from fplandscape.sim.enumerate import default_split_depth, sample_keys
from fplandscape.sim.stability import count_fixed_points_bruteforce


@pytest.fixture(autouse=True)
def _checkpoint_home(tmp_path, monkeypatch):
    """Automatic checkpoints go to a temporary directory, never to the user's cache."""
    monkeypatch.setenv("FPLANDSCAPE_CHECKPOINTS", str(tmp_path / "auto-checkpoints"))


# --------------------------------------------------------------------------------------------
# run_tasks and Checkpoint on plain functions

CALLS = []


def _square(x):
    CALLS.append(x)
    return {"x": x, "sq": x * x, "arr": np.arange(x, dtype=np.int64)}


def _square_then_stop(x, stop_at):
    if x == stop_at:
        raise KeyboardInterrupt
    return _square(x)


@pytest.mark.parametrize("backend,workers", [("threads", 1), ("threads", 3), ("processes", 2)])
def test_run_tasks_order_and_results(backend, workers):
    tasks = [(3, i) for i in range(12)]
    out = parallel.run_tasks(pow, tasks, workers=workers, backend=backend, progress=False)
    assert out == [3**i for i in range(12)]


def test_checkpoint_resume_skips_finished_tasks(tmp_path):
    params = {"what": "squares", "n": 10}
    path = tmp_path / "ck"
    tasks = [(i, 6) for i in range(10)]
    CALLS.clear()
    ck = parallel.Checkpoint(path, params, len(tasks))
    with pytest.raises(Interrupted, match="6 of 10 tasks.*--resume"):
        parallel.run_tasks(_square_then_stop, tasks, workers=1, checkpoint=ck, progress=False)
    assert CALLS == [0, 1, 2, 3, 4, 5]
    # an existing checkpoint is never silently overwritten
    with pytest.raises(InputError, match="resume"):
        parallel.Checkpoint(path, params, len(tasks))
    # different inputs cannot resume it
    with pytest.raises(InputError, match="different inputs.*n"):
        parallel.Checkpoint(path, {"what": "squares", "n": 11}, len(tasks), resume=True)
    # a torn last line (killed mid-write) is ignored: that task is redone
    with open(path / "journal.jsonl", "a") as fh:
        fh.write('{"task": 7, "resu')
    CALLS.clear()
    ck = parallel.Checkpoint(path, params, len(tasks), resume=True)
    assert sorted(ck.done) == [0, 1, 2, 3, 4, 5]
    out = parallel.run_tasks(_square, [(i,) for i in range(10)], workers=1, checkpoint=ck,
                             progress=False)
    assert CALLS == [6, 7, 8, 9]  # finished tasks were not rerun
    assert [r["sq"] for r in out] == [i * i for i in range(10)]
    for i, r in enumerate(out):  # arrays round-trip through the .npy files
        np.testing.assert_array_equal(r["arr"], np.arange(i))
    # the journal now holds every task, and resuming again recomputes nothing
    CALLS.clear()
    ck = parallel.Checkpoint(path, params, len(tasks), resume=True)
    parallel.run_tasks(_square, [(i,) for i in range(10)], workers=1, checkpoint=ck,
                       progress=False)
    assert CALLS == []


def test_bad_parallel_arguments(tmp_path):
    with pytest.raises(InputError, match="workers"):
        parallel.run_tasks(pow, [(1, 1)], workers=0)
    with pytest.raises(InputError, match="backend"):
        parallel.run_tasks(pow, [(1, 1)], backend="mpi")
    with pytest.raises(InputError, match="workers"):
        enumerate_fixed_points(np.eye(3), workers=-2)
    with pytest.raises(InputError, match="split_depth"):
        enumerate_fixed_points(np.eye(3), split_depth=5)
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(InputError, match="cannot write checkpoint"):
        parallel.Checkpoint(blocker / "ck", {}, 4)


# --------------------------------------------------------------------------------------------
# enumeration split into prefix tasks


def _random_matrices():
    rng = np.random.default_rng(2024)
    out = []
    for n in (6, 9, 12, 14):
        for jd in (0.0, 0.4, 1.0):
            out.append(model.gaussian_couplings(n, jd, seed=rng))
        out.append(model.gaussian_couplings(n, 0.3, eta=0.5, seed=rng))
        ints = rng.integers(-2, 3, size=(n, n)).astype(float)  # exact ties
        out.append(ints)
    return out


def test_prefix_split_is_exact():
    """Every split depth gives the brute-force set, the serial node count and the same
    bottom-k sample."""
    for J in _random_matrices():
        n = J.shape[0]
        count, codes = count_fixed_points_bruteforce(J, return_states=True)
        serial = enumerate_fixed_points(J, return_states=True, split_depth=1, workers=1)
        cap = max(1, count // 3)
        ref_sample = enumerate_fixed_points(J, return_states=True, max_states=cap, seed=3,
                                            method="bruteforce").states
        for d in sorted({2, 3, min(6, n)} | ({n} if n <= 9 else set())):
            for workers in (1, 2):
                res = enumerate_fixed_points(J, return_states=True, split_depth=d,
                                             workers=workers)
                assert res.tasks == 2 ** (d - 1)
                assert res.count == count
                np.testing.assert_array_equal(res.states, np.sort(codes))
                assert res.nodes_visited == serial.nodes_visited
            sample = enumerate_fixed_points(J, return_states=True, split_depth=d,
                                            max_states=cap, seed=3, workers=2)
            np.testing.assert_array_equal(sample.states, ref_sample)


def test_sample_is_bottom_k_of_sample_keys():
    J = model.gaussian_couplings(16, 1.0, seed=np.random.default_rng(2))
    full = enumerate_fixed_points(J, return_states=True).states
    res = enumerate_fixed_points(J, return_states=True, max_states=50, seed=11)
    keys = sample_keys(full, 11)
    np.testing.assert_array_equal(res.states, np.sort(full[np.argsort(keys)[:50]]))
    assert np.unique(keys).size == full.size  # a bijection: no ties


@pytest.fixture(scope="module")
def j33():
    return model.gaussian_couplings(33, 0.5, seed=np.random.default_rng(3))


@pytest.fixture(scope="module")
def j33_serial(j33):
    return enumerate_fixed_points(j33, workers=1, split_depth=1, return_states=True,
                                  max_states=500, seed=5)


def test_default_split_workers_independent(j33, j33_serial):
    for workers in (1, 2, 3):
        res = enumerate_fixed_points(j33, workers=workers, return_states=True, max_states=500,
                                     seed=5)
        assert res.tasks == 2 ** (default_split_depth(33) - 1)
        assert (res.count, res.nodes_visited) == (j33_serial.count, j33_serial.nodes_visited)
        np.testing.assert_array_equal(res.states, j33_serial.states)
        assert res.truncated == j33_serial.truncated


@pytest.mark.parametrize("processes", [False, True])
def test_dask_local_cluster_same_answer(j33, j33_serial, processes):
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=processes,
                                  dashboard_address=None) as cluster:
        res = enumerate_fixed_points(j33, scheduler=cluster.scheduler_address,
                                     return_states=True, max_states=500, seed=5)
        with distributed.Client(cluster, set_as_default=False) as client:
            dis_d = disorder_average(model.Ensemble(n=10, jd=0.5), 6, 4, pairs=True,
                                     scheduler=client)
    assert (res.count, res.nodes_visited) == (j33_serial.count, j33_serial.nodes_visited)
    np.testing.assert_array_equal(res.states, j33_serial.states)
    dis_1 = disorder_average(model.Ensemble(n=10, jd=0.5), 6, 4, pairs=True, workers=1)
    assert _strip(dis_d.rows) == _strip(dis_1.rows)
    assert dis_d.summary == dis_1.summary


def test_bad_scheduler_address(monkeypatch):
    pytest.importorskip("distributed")
    monkeypatch.setattr(parallel, "DASK_CONNECT_TIMEOUT", 1.0)
    J = model.gaussian_couplings(31, 0.5, seed=np.random.default_rng(0))
    with pytest.raises(InputError, match="Dask scheduler"):
        enumerate_fixed_points(J, scheduler="tcp://127.0.0.1:9", workers=1)


def test_enumeration_checkpoint_resume(tmp_path, j33, j33_serial):
    path = tmp_path / "ck"
    full = enumerate_fixed_points(j33, checkpoint=path, return_states=True, max_states=500,
                                  seed=5)
    assert path.is_dir()  # a named checkpoint is kept
    lines = (path / "journal.jsonl").read_text().splitlines()
    assert len(lines) == full.tasks
    # simulate an interruption after 9 tasks: keep 9 journal lines, then resume
    (path / "journal.jsonl").write_text("\n".join(lines[:9]) + "\n")
    res = enumerate_fixed_points(j33, checkpoint=path, resume=True, return_states=True,
                                 max_states=500, seed=5)
    assert (res.count, res.nodes_visited) == (j33_serial.count, j33_serial.nodes_visited)
    np.testing.assert_array_equal(res.states, j33_serial.states)
    # a different sample size is a different run: refused
    with pytest.raises(InputError, match="different inputs.*max_states"):
        enumerate_fixed_points(j33, checkpoint=path, resume=True, return_states=True,
                               max_states=400, seed=5)


def test_automatic_checkpoint_removed_after_success(tmp_path, j33, j33_serial):
    res = enumerate_fixed_points(j33, checkpoint=True, workers=2)
    assert res.count == j33_serial.count
    auto = tmp_path / "auto-checkpoints"
    assert not auto.exists() or not any(auto.iterdir())


def _strip(rows):
    return [{k: v for k, v in r.items() if k != "seconds"} for r in rows]


def test_disorder_workers_and_resume(tmp_path):
    ens = model.Ensemble(n=11, jd=0.4)
    ref = disorder_average(ens, 8, 21, pairs=True, margins=True, workers=1)
    two = disorder_average(ens, 8, 21, pairs=True, margins=True, workers=2)
    assert _strip(two.rows) == _strip(ref.rows) and two.summary == ref.summary
    path = tmp_path / "dis"
    disorder_average(ens, 8, 21, pairs=True, margins=True, checkpoint=path)
    lines = (path / "journal.jsonl").read_text().splitlines()
    (path / "journal.jsonl").write_text("\n".join(lines[:3]) + "\n")
    res = disorder_average(ens, 8, 21, pairs=True, margins=True, checkpoint=path, resume=True)
    assert _strip(res.rows) == _strip(ref.rows) and res.summary == ref.summary


# --------------------------------------------------------------------------------------------
# the command line: Ctrl-C, then --resume


def test_cli_ctrl_c_then_resume(tmp_path):
    """A real SIGINT stops the run within a few seconds with exit status 130 and a message
    naming the checkpoint; rerunning with --resume gives the uninterrupted result."""
    J = model.gaussian_couplings(38, 0.3, seed=np.random.default_rng(1))
    f = tmp_path / "J.npy"
    np.save(f, J)
    env = dict(os.environ, FPLANDSCAPE_CHECKPOINTS=str(tmp_path / "ck"))
    cmd = [sys.executable, "-m", "fplandscape", "enumerate", "--couplings", str(f), "--json",
           "--no-progress", "--workers", "2"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=env, preexec_fn=lambda: signal.signal(signal.SIGINT,
                                                                      signal.SIG_DFL))
    journal = None
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and proc.poll() is None:  # wait for finished tasks
        found = list((tmp_path / "ck").glob("*/journal.jsonl"))
        if found and found[0].stat().st_size > 0:
            journal = found[0]
            break
        time.sleep(0.05)
    assert journal is not None, "no task finished"
    proc.send_signal(signal.SIGINT)
    t0 = time.monotonic()
    out, err = proc.communicate(timeout=60)
    assert time.monotonic() - t0 < 10
    assert proc.returncode == 130, err
    assert "interrupted after" in err and "--resume" in err and str(journal.parent) in err
    assert "Traceback" not in err and out == ""
    done = len(journal.read_text().splitlines())
    assert 1 <= done < 1024
    rerun = subprocess.run(cmd, capture_output=True, text=True, env=env)
    assert rerun.returncode == 2 and "--resume" in rerun.stderr  # finished work is never lost
    resumed = subprocess.run(cmd + ["--resume"], capture_output=True, text=True, env=env)
    assert resumed.returncode == 0, resumed.stderr
    obj = json.loads(resumed.stdout)
    ref = enumerate_fixed_points(J, workers=2)
    assert (obj["count"], obj["nodes_visited"], obj["tasks"]) == \
        (ref.count, ref.nodes_visited, ref.tasks)
    assert not journal.parent.exists()  # automatic checkpoint removed after success


def test_stop_flag_stops_compiled_kernels():
    """request_stop() (what Ctrl-C triggers for worker threads) makes the search and the
    dynamics kernels raise KeyboardInterrupt at their next poll; clear_stop() re-enables them
    (from the main thread only)."""
    import threading

    from fplandscape.sim import _dfs, run_dynamics, stop
    from fplandscape.sim.enumerate import default_order

    J = model.gaussian_couplings(34, 0.5, seed=np.random.default_rng(0))
    big = model.gaussian_couplings(2000, 0.0, seed=np.random.default_rng(0))
    try:
        stop.request_stop()
        with pytest.raises(KeyboardInterrupt):  # the kernel itself (the API clears the flag
            _dfs.dfs_enumerate(J, default_order(J))  # when a new run starts)
        with pytest.raises(KeyboardInterrupt):
            run_dynamics(big, rule="async", runs=2, max_sweeps=400, seed=0)
        t = threading.Thread(target=stop.clear_stop)  # a worker thread must not clear it
        t.start()
        t.join()
        with pytest.raises(KeyboardInterrupt):
            run_dynamics(big, rule="sync", runs=2, max_sweeps=400, seed=0)
    finally:
        stop.clear_stop()
    assert enumerate_fixed_points(J, split_depth=1, workers=1).count >= 0
    assert run_dynamics(big[:50, :50], rule="async", runs=1, seed=0).n == 50


def test_ctrl_c_is_deferred_to_a_safe_point_of_the_wait_loop():
    """A SIGINT while the runner waits on futures must not raise inside
    concurrent.futures.wait (it could leave the futures' locks held and hang the workers,
    as a stress run showed); it is raised by check() between two waits."""
    from fplandscape.parallel import _DeferredSigint

    # the guard acts only over Python's default handler (what a command line has)
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    guard = _DeferredSigint()
    with guard:
        os.kill(os.getpid(), signal.SIGINT)
        # the handler runs here and must not raise. When the kernel hands the signal to another
        # thread of this process (earlier tests leave tqdm's monitor thread, for one), Python
        # runs the handler in the main thread only at its next check, e.g. the next call: wait
        # in short calls rather than one sleep (a single sleep made this test flaky)
        for _ in range(200):
            if guard.hit:
                break
            time.sleep(0.01)
    assert guard.hit
    with pytest.raises(KeyboardInterrupt):
        guard.check()
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    signal.signal(signal.SIGINT, previous)


def test_a_dead_worker_process_is_a_clear_os_error():
    # a worker killed mid-run (here it exits at once) is reported as WorkerDied, an OSError the
    # command line prints as one error line, never a traceback
    with pytest.raises(parallel.WorkerDied, match="worker process died") as exc:
        parallel.run_tasks(os._exit, [(3,), (3,), (3,)], workers=2, backend="processes")
    assert isinstance(exc.value, OSError) and "of 3 tasks" in str(exc.value)
