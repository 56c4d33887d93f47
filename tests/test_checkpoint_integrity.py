"""Checkpoint integrity (issue 12, item 7): every journal entry and task file is checked on
resume (a SHA-256 over the entry's canonical JSON, its .npy files and the run's inputs); a
damaged or undecodable entry is recomputed with a warning on stderr, never trusted, so the
resumed result is always that of an uninterrupted run."""
import json

import numpy as np
import pytest

from cli_runner import run
from fplandscape import model, parallel
from fplandscape.sim import disorder_average, enumerate_fixed_points

ENS = model.Ensemble(n=10, jd=0.5)
SAMPLES, SEED = 6, 3


@pytest.fixture(autouse=True)
def _checkpoint_home(tmp_path, monkeypatch):
    monkeypatch.setenv("FPLANDSCAPE_CHECKPOINTS", str(tmp_path / "auto-checkpoints"))


def _strip(rows):
    return [{k: v for k, v in r.items() if k != "seconds"} for r in rows]


@pytest.fixture(scope="module")
def reference():
    return disorder_average(ENS, SAMPLES, SEED, pairs=True, workers=1)


def _edit_line(journal, k, edit):
    """Replace journal line k (0-based) by edit(entry) (a dict) or by raw bytes."""
    lines = journal.read_bytes().splitlines(keepends=True)
    new = edit(json.loads(lines[k]))
    lines[k] = new if isinstance(new, bytes) else (json.dumps(new) + "\n").encode()
    journal.write_bytes(b"".join(lines))


def _set(key, value):
    def edit(entry):
        entry["result"][key] = value
        return entry
    return edit


def _result(value):
    def edit(entry):
        entry["result"] = value
        return entry
    return edit


def _raw(transform):
    def edit(entry):
        line = (json.dumps(entry) + "\n").encode()
        return transform(line)
    return edit


def _drop_check(entry):
    del entry["check"]
    return entry


TAMPERING = {
    "count 14 -> 999": _set("count", 999),
    "negative count": _set("count", -5),
    "NaN count": _set("count", float("nan")),
    "count as a string": _set("count", "14"),
    "result {}": _result({}),
    "result null": _result(None),
    "non-UTF-8 byte": _raw(lambda b: b[:20] + b"\xff\xfe" + b[22:]),
    "torn line": _raw(lambda b: b[: len(b) // 2] + b"\n"),
    "no checksum": _drop_check,
    "pair histogram edited": lambda e: {**e, "result": {**e["result"], "pair_distance_hist":
                                                         [0] * 11}},
}


@pytest.mark.parametrize("case", list(TAMPERING))
def test_tampered_journal_entry_is_recomputed(tmp_path, capsys, reference, case):
    path = tmp_path / "ck"
    disorder_average(ENS, SAMPLES, SEED, pairs=True, workers=1, checkpoint=path)
    _edit_line(path / "journal.jsonl", 2, TAMPERING[case])
    capsys.readouterr()
    res = disorder_average(ENS, SAMPLES, SEED, pairs=True, workers=1, checkpoint=path,
                           resume=True)
    err = capsys.readouterr().err
    assert _strip(res.rows) == _strip(reference.rows)
    assert res.summary == reference.summary
    assert "warning: checkpoint entry 3 " in err and "damaged" in err and "recomputing" in err
    # the damaged line was dropped and the task journalled again: a second resume is clean
    res = disorder_average(ENS, SAMPLES, SEED, pairs=True, workers=1, checkpoint=path,
                           resume=True)
    assert capsys.readouterr().err == ""
    assert res.summary == reference.summary


def test_entry_of_another_run_is_not_trusted(tmp_path, capsys, reference):
    """A journal line copied from a run with other inputs does not verify (the checksum is
    bound to the run's input fingerprint)."""
    other = tmp_path / "other"
    disorder_average(ENS, SAMPLES, SEED + 1, pairs=True, workers=1, checkpoint=other)
    path = tmp_path / "ck"
    disorder_average(ENS, SAMPLES, SEED, pairs=True, workers=1, checkpoint=path)
    foreign = (other / "journal.jsonl").read_bytes().splitlines(keepends=True)[4]
    _edit_line(path / "journal.jsonl", 4, lambda e: foreign)
    capsys.readouterr()
    res = disorder_average(ENS, SAMPLES, SEED, pairs=True, workers=1, checkpoint=path,
                           resume=True)
    assert "checkpoint entry 5 " in capsys.readouterr().err
    assert _strip(res.rows) == _strip(reference.rows)


@pytest.fixture(scope="module")
def j31():
    J = model.gaussian_couplings(31, 0.5, seed=np.random.default_rng(11))
    return J, enumerate_fixed_points(J, return_states=True, workers=2)


def _replace(f):
    np.save(f, np.load(f)[:-1])  # a valid .npy file with other contents


def _truncate(f):
    f.write_bytes(f.read_bytes()[:-5])


def _garble(f):
    b = bytearray(f.read_bytes())
    b[-3] ^= 0xFF
    f.write_bytes(bytes(b))


@pytest.mark.parametrize("damage", [_replace, _truncate, _garble, lambda f: f.unlink()],
                         ids=["replaced", "truncated", "garbled", "missing"])
def test_damaged_task_file_is_recomputed(tmp_path, capsys, j31, damage):
    J, ref = j31
    path = tmp_path / "ck"
    enumerate_fixed_points(J, return_states=True, workers=2, checkpoint=path)
    files = sorted(path.glob("task-*-0.npy"))
    assert files
    damage(files[len(files) // 2])
    capsys.readouterr()
    res = enumerate_fixed_points(J, return_states=True, workers=2, checkpoint=path,
                                 resume=True)
    err = capsys.readouterr().err
    assert "damaged" in err and "recomputing" in err and files[len(files) // 2].name in err
    assert (res.count, res.nodes_visited) == (ref.count, ref.nodes_visited)
    np.testing.assert_array_equal(res.states, ref.states)


def test_task_file_changed_after_opening_is_recomputed(tmp_path, capsys):
    path = tmp_path / "ck"
    tasks = [(i,) for i in range(6)]
    ck = parallel.Checkpoint(path, {"t": 1}, 6)
    parallel.run_tasks(_arange, tasks, workers=1, checkpoint=ck, progress=False)
    ck = parallel.Checkpoint(path, {"t": 1}, 6, resume=True)  # scanned: all verify
    np.save(path / "task-4-0.npy", np.zeros(3, dtype=np.int64))
    capsys.readouterr()
    out = parallel.run_tasks(_arange, tasks, workers=1, checkpoint=ck, progress=False)
    assert "task 4" in capsys.readouterr().err
    for i, r in enumerate(out):
        np.testing.assert_array_equal(r, np.arange(i + 1))


def _arange(i):
    return np.arange(i + 1)


def test_damaged_manifest_is_rewritten_on_resume(tmp_path, capsys, reference):
    path = tmp_path / "ck"
    disorder_average(ENS, SAMPLES, SEED, pairs=True, workers=1, checkpoint=path)
    (path / "manifest.json").write_bytes(b"\xff{not json")
    capsys.readouterr()
    res = disorder_average(ENS, SAMPLES, SEED, pairs=True, workers=1, checkpoint=path,
                           resume=True)
    assert "manifest damaged" in capsys.readouterr().err
    assert res.summary == reference.summary
    json.loads((path / "manifest.json").read_text())  # rewritten


def test_cli_edited_count_is_recomputed(tmp_path, capsys):
    """The reported case: a count edited by hand used to change the mean silently."""
    ck = tmp_path / "ck"
    argv = ["enumerate", "--n", 10, "--jd", 0.5, "--seed", 4, "--samples", 6, "--checkpoint",
            ck, "--json", "--no-progress"]
    rc, out, err = run(capsys, *argv)
    assert rc == 0, err
    ref = json.loads(out)
    _edit_line(ck / "journal.jsonl", 1, _set("count", 999))
    rc, out, err = run(capsys, *argv, "--resume")
    assert rc == 0, err
    assert json.loads(out)["mean_count"] == ref["mean_count"]
    assert "warning: checkpoint entry 2 " in err and "recomputing" in err


# --- snapshots (the latest state of a sequential run, parallel.Snapshot) ---------------------

P = {"kind": "demo", "n": 3}


def _save(path, k, **kw):
    snap = parallel.Snapshot(path, P, **kw)
    snap.save({"x": np.arange(5.0) * k, "m": np.eye(2, dtype=np.int64)}, {"step": k, "v": [k]})
    return snap


def _flip(f, where=0.5):
    b = bytearray(f.read_bytes())
    b[int(len(b) * where)] ^= 0x40
    f.write_bytes(bytes(b))


def test_snapshot_is_replaced_and_read_back(tmp_path):
    ck = tmp_path / "ck"
    fresh = parallel.Snapshot(ck, P)
    assert fresh.arrays is None and fresh.meta is None and not fresh.legacy
    for k in (1, 2):
        fresh.save({"x": np.arange(5.0) * k, "m": np.eye(2, dtype=np.int64)},
                   {"step": k, "v": [k]})
    assert sorted(f.name for f in ck.iterdir()) == ["manifest.json", "state.npz"]
    man = json.loads((ck / "manifest.json").read_text())
    assert man["params"] == P
    assert set(man) == {"version", "params", "run_key", "snapshot", "sha256"}
    back = parallel.Snapshot(ck, P, resume=True)
    assert back.meta == {"step": 2, "v": [2]} and sorted(back.arrays) == ["m", "x"]
    assert np.array_equal(back.arrays["x"], np.arange(5.0) * 2)
    assert back.arrays["m"].dtype == np.int64
    with pytest.raises(ValueError, match="reserved"):
        back.save({"meta": np.zeros(1)}, {})


def test_snapshot_refuses_overwrite_and_other_inputs(tmp_path):
    ck = tmp_path / "ck"
    _save(ck, 1)
    with pytest.raises(parallel.InputError, match=r"already holds a run: pass resume=True "
                                                  r"\(--resume\)"):
        parallel.Snapshot(ck, P)
    with pytest.raises(parallel.InputError, match=r"different inputs \(differing: n\)"):
        parallel.Snapshot(ck, {**P, "n": 4}, resume=True)

    def upgrade(old):  # an older manifest without "n" meant n = 4
        old["params"].setdefault("n", 4)

    old = tmp_path / "old"
    _save(old, 1, upgrade=upgrade)
    man = json.loads((old / "manifest.json").read_text())
    del man["params"]["n"]
    (old / "manifest.json").write_text(json.dumps(man))
    with pytest.raises(parallel.InputError, match="different inputs"):
        parallel.Snapshot(old, P, resume=True, upgrade=upgrade)
    # the snapshot is bound to the manifest's params as written: editing them is noticed
    with pytest.raises(parallel.InputError, match="damaged .*checksum mismatch"):
        parallel.Snapshot(old, {**P, "n": 4}, resume=True, upgrade=upgrade)


def _truncate_half(f):
    f.write_bytes(f.read_bytes()[:len(f.read_bytes()) // 2])


def _resave_edited(f):  # a valid .npz whose array was changed but whose checksum was kept
    with np.load(f) as z:
        st = {k: z[k] for k in z.files}
    st["x"] = st["x"] + 1
    np.savez(f, **st)


def _drop_checksum(f):
    with np.load(f) as z:
        st = {k: z[k] for k in z.files if k != "check"}
    np.savez(f, **st)


@pytest.mark.parametrize("damage", [_flip, lambda f: _flip(f, 0.1), lambda f: _flip(f, 0.97),
                                    _truncate_half, lambda f: f.write_bytes(b""),
                                    _resave_edited, _drop_checksum],
                         ids=["flip", "flip-early", "flip-late", "truncated", "empty",
                              "edited", "no-checksum"])
def test_damaged_snapshot_is_refused(tmp_path, damage):
    ck = tmp_path / "ck"
    _save(ck, 1)
    damage(ck / "state.npz")
    with pytest.raises(parallel.InputError,
                       match=r"snapshot state.npz damaged \(.*\); cannot resume from it"):
        parallel.Snapshot(ck, P, resume=True)


def test_interrupted_save_keeps_the_previous_snapshot(tmp_path, monkeypatch):
    ck = tmp_path / "ck"
    snap = _save(ck, 1)
    real = parallel.os.replace

    def stop(src, dst):  # Ctrl-C after the manifest records the new file, before the rename
        if str(dst).endswith("state.npz"):
            raise KeyboardInterrupt
        real(src, dst)

    monkeypatch.setattr(parallel.os, "replace", stop)
    with pytest.raises(KeyboardInterrupt):
        snap.save({"x": np.zeros(5)}, {"step": 2, "v": [2]})
    monkeypatch.setattr(parallel.os, "replace", real)
    assert len(json.loads((ck / "manifest.json").read_text())["sha256"]) == 2
    back = parallel.Snapshot(ck, P, resume=True)
    assert back.meta == {"step": 1, "v": [1]}
    back.save({"x": np.ones(5)}, {"step": 2, "v": [2]})
    assert parallel.Snapshot(ck, P, resume=True).meta["step"] == 2


def test_snapshot_of_another_run_is_refused(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    _save(a, 1)
    parallel.Snapshot(b, {**P, "n": 9}).save({"x": np.arange(5.0)}, {"step": 1, "v": [1]})
    (b / "state.npz").replace(a / "state.npz")
    with pytest.raises(parallel.InputError, match="checksum mismatch"):
        parallel.Snapshot(a, P, resume=True)


def test_snapshot_damaged_manifest_is_rewritten(tmp_path, capsys):
    ck = tmp_path / "ck"
    _save(ck, 3)
    (ck / "manifest.json").write_bytes(b"\xff{")
    back = parallel.Snapshot(ck, P, resume=True)
    assert back.meta["step"] == 3
    assert "manifest damaged" in capsys.readouterr().err
    assert json.loads((ck / "manifest.json").read_text())["params"] == P
    (ck / "manifest.json").write_bytes(b"[]")
    with pytest.raises(parallel.InputError, match="checksum mismatch"):  # not its snapshot
        parallel.Snapshot(ck, {**P, "n": 4}, resume=True)


def test_legacy_snapshot_is_read_and_converted(tmp_path):
    ck = tmp_path / "ck"
    ck.mkdir()
    (ck / "manifest.json").write_text(json.dumps({"version": "0.1", "params": P}))
    np.savez(ck / "state.npz", meta=np.array(json.dumps({"step": 1})), x=np.arange(3.0))
    old = parallel.Snapshot(ck, P, resume=True)
    assert old.legacy and old.meta == {"step": 1}
    assert np.array_equal(old.arrays["x"], np.arange(3.0))
    old.save({"x": np.arange(3.0) + 1}, {"step": 2})
    man = json.loads((ck / "manifest.json").read_text())
    assert "run_key" in man and man["version"] == "0.1" and man["params"] == P
    new = parallel.Snapshot(ck, P, resume=True)
    assert not new.legacy and new.meta == {"step": 2}
    _flip(ck / "state.npz")
    with pytest.raises(parallel.InputError, match="damaged"):
        parallel.Snapshot(ck, P, resume=True)
