"""Dask edge cases of fplandscape.parallel (issue 12, item 8): malformed scheduler addresses
fail at once, a listener that is not a Dask scheduler fails within the connect timeout, and a
scheduler lost during a run ends with one clear error that says where the journal is and how
to resume (on this machine too). Each test runs in a few seconds (in-process clusters)."""
import os
import socket
import subprocess
import sys
import threading
import time

import numpy as np
import pytest

from cli_runner import run
from fplandscape import model, parallel
from fplandscape.errors import InputError
from fplandscape.sim import enumerate_fixed_points

distributed = pytest.importorskip("distributed")


@pytest.fixture(autouse=True)
def _checkpoint_home(tmp_path, monkeypatch):
    monkeypatch.setenv("FPLANDSCAPE_CHECKPOINTS", str(tmp_path / "auto-checkpoints"))


def _in_thread(func, timeout):
    """Run func() in a daemon thread; (finished, result or exception, seconds)."""
    out = {}

    def target():
        try:
            out["value"] = func()
        except BaseException as exc:  # noqa: BLE001
            out["value"] = exc

    t0 = time.monotonic()
    t = threading.Thread(target=target, daemon=True)
    t.start()
    t.join(timeout)
    return not t.is_alive(), out.get("value"), time.monotonic() - t0


BAD_ADDRESSES = ["garbage", "http://127.0.0.1:8786", "tcp://127.0.0.1", "tcp://:8786",
                 "tcp://127.0.0.1:0", "tcp://127.0.0.1:99999", "", "tcp://a b:1",
                 "127.0.0.1:port"]


@pytest.mark.parametrize("address", BAD_ADDRESSES)
def test_malformed_address_fails_at_once(address):
    J = model.gaussian_couplings(31, 0.5, seed=np.random.default_rng(0))
    done, value, secs = _in_thread(lambda: enumerate_fixed_points(J, scheduler=address), 15)
    assert done and secs < 2, f"{address!r}: took {secs:.1f} s"
    assert isinstance(value, InputError), value
    assert "Dask scheduler address" in str(value) and "tcp://HOST:PORT" in str(value)


def test_check_scheduler_accepts_what_distributed_accepts():
    for address in ["tcp://127.0.0.1:8786", " tcp://127.0.0.1:8786 ", "127.0.0.1:8786",
                    "tls://scheduler.example.org:8786", "tcp://[::1]:8786", "ws://host:1",
                    "ucx://10.0.0.1:13337", "inproc://192.0.2.2/1234/1", "TCP://h-1.x:65535"]:
        assert parallel.check_scheduler(address) == address.strip()
    assert parallel.check_scheduler(None) is None
    with pytest.raises(InputError, match="distributed.Client"):
        parallel.check_scheduler(8786)


def test_malformed_address_cli_one_error_line(tmp_path):
    """In a real process: no 20 s stall at exit and no 'Exception ignored' traceback."""
    env = dict(os.environ, FPLANDSCAPE_CHECKPOINTS=str(tmp_path / "ck"))
    t0 = time.monotonic()
    proc = subprocess.run([sys.executable, "-m", "fplandscape", "enumerate", "--n", "8", "--jd",
                           "0.5", "--seed", "1", "--samples", "4", "--scheduler", "garbage"],
                          capture_output=True, text=True, env=env, timeout=60)
    secs = time.monotonic() - t0
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.startswith("error: not a Dask scheduler address: 'garbage'")
    assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    assert secs < 15, f"took {secs:.1f} s"


@pytest.fixture
def silent_server():
    """A plain TCP server that accepts connections and never answers."""
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(8)
    conns = []
    stop = threading.Event()

    def accept():
        srv.settimeout(0.1)
        while not stop.is_set():
            try:
                conns.append(srv.accept()[0])
            except OSError:
                pass

    t = threading.Thread(target=accept, daemon=True)
    t.start()
    yield f"tcp://127.0.0.1:{srv.getsockname()[1]}"
    stop.set()
    t.join()
    for c in conns:
        c.close()
    srv.close()


def test_non_dask_listener_fails_within_timeout(monkeypatch, silent_server):
    monkeypatch.setattr(parallel, "DASK_CONNECT_TIMEOUT", 1.0)
    J = model.gaussian_couplings(31, 0.5, seed=np.random.default_rng(0))
    done, value, secs = _in_thread(lambda: enumerate_fixed_points(J, scheduler=silent_server),
                                   20)
    assert done, "hangs on a listener that is not a Dask scheduler"
    assert secs < 6
    assert isinstance(value, InputError), value
    assert "Dask scheduler" in str(value) and "1 s" in str(value)


def test_dask_worker_address_is_not_a_scheduler(monkeypatch):
    monkeypatch.setattr(parallel, "DASK_CONNECT_TIMEOUT", 2.0)
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=False,
                                  dashboard_address=None) as cluster:
        worker = next(iter(cluster.scheduler.workers))
        with pytest.raises(InputError, match="not a Dask scheduler"):
            parallel.run_tasks(pow, [(2, 3), (2, 4)], scheduler=worker)


def _slow_square(x):
    time.sleep(0.05)
    return {"x": x, "arr": np.arange(x, dtype=np.int64)}


def _close_when_journalled(cluster, journal, timeout=20.0):
    """Close the cluster as soon as the journal has a line (in a background thread)."""
    def watch():
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if journal.exists() and journal.stat().st_size > 0:
                break
            time.sleep(0.01)
        cluster.close()

    t = threading.Thread(target=watch, daemon=True)
    t.start()
    return t


def test_lost_scheduler_says_how_to_resume(tmp_path):
    tasks = [(i,) for i in range(40)]
    path = tmp_path / "ck"
    cluster = distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=False,
                                       dashboard_address=None)
    watcher = _close_when_journalled(cluster, path / "journal.jsonl")
    ck = parallel.Checkpoint(path, {"what": "slow squares"}, len(tasks))
    with pytest.raises(parallel.SchedulerLost) as info:
        parallel.run_tasks(_slow_square, tasks, scheduler=cluster.scheduler_address,
                           checkpoint=ck, progress=False)
    watcher.join()
    msg = str(info.value)
    assert "\n" not in msg
    assert "lost the Dask scheduler" in msg and str(path) in msg and "--resume" in msg
    assert "this machine" in msg and " of 40 tasks" in msg
    assert isinstance(info.value, ConnectionError)
    # the journal is kept: resume locally, same answer as an uninterrupted run
    ck = parallel.Checkpoint(path, {"what": "slow squares"}, len(tasks), resume=True)
    assert 1 <= len(ck.done) < 40
    out = parallel.run_tasks(_slow_square, tasks, workers=2, backend="threads", checkpoint=ck,
                             progress=False)
    assert [r["x"] for r in out] == list(range(40))
    for i, r in enumerate(out):
        np.testing.assert_array_equal(r["arr"], np.arange(i))


def test_lost_scheduler_cli_one_error_line(tmp_path, capsys):
    J = model.gaussian_couplings(35, 0.0, seed=np.random.default_rng(7))  # 256 short tasks
    f = tmp_path / "J.npy"
    np.save(f, J)
    ck = tmp_path / "ck"
    cluster = distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=False,
                                       dashboard_address=None)
    watcher = _close_when_journalled(cluster, ck / "journal.jsonl")
    rc, out, err = run(capsys, "enumerate", "--couplings", f, "--scheduler",
                       cluster.scheduler_address, "--checkpoint", ck, "--no-progress")
    watcher.join()
    lines = [line for line in err.splitlines() if line.strip()]
    assert rc == 1, err
    assert len(lines) == 1 and lines[0].startswith("error: lost the Dask scheduler"), err
    assert "--resume" in err and str(ck) in err and "Traceback" not in err
    done = len((ck / "journal.jsonl").read_text().splitlines())
    assert 1 <= done < 256
    # resume on this machine: the uninterrupted answer
    rc, out, err = run(capsys, "enumerate", "--couplings", f, "--checkpoint", ck, "--resume",
                       "--json", "--no-progress")
    assert rc == 0, err
    import json

    obj = json.loads(out)
    ref = enumerate_fixed_points(J, workers=2)
    assert (obj["count"], obj["nodes_visited"]) == (ref.count, ref.nodes_visited)
