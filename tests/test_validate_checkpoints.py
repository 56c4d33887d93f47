"""Checkpoints of the ``validate`` commands over a grid of cells (issue 12): a named checkpoint
works for several cells, ``--resume`` continues it, and after Ctrl-C + ``--resume`` no finished
cell (and no finished sample of the interrupted cell) is computed again — for named and for
automatic checkpoints. Ctrl-C is simulated in-process at a chosen task (``--workers 1``)."""
import pytest

from fplandscape.sim import disorder
from fplandscape.validate import critical
from cli_runner import run, run_json

JDS = ("0.2", "0.5", "0.8")
_REAL_SAMPLE_TASK = disorder._sample_task


@pytest.fixture(autouse=True)
def _checkpoint_home(tmp_path, monkeypatch):
    """Automatic checkpoints go to a temporary directory, never to the user's cache."""
    monkeypatch.setenv("FPLANDSCAPE_CHECKPOINTS", str(tmp_path / "auto"))


def _spy_samples(monkeypatch, stop_at=None):
    """Record (J_D, sample) of every disorder sample computed; Ctrl-C at ``stop_at``."""
    calls = []

    def task(ensemble, child, i, *rest):
        if stop_at is not None and (ensemble.jd, i) == stop_at:
            raise KeyboardInterrupt
        calls.append((ensemble.jd, i))
        return _REAL_SAMPLE_TASK(ensemble, child, i, *rest)

    monkeypatch.setattr(disorder, "_sample_task", task)
    return calls


def _strip(rows):
    return [{k: v for k, v in r.items() if k != "seconds"} for r in rows]


def _command(what, extra=()):
    return ["validate", what, "--n", 8, "--jd", *JDS, "--samples", 6, "--seed", 1,
            "--workers", 1, "--no-progress", *extra]


@pytest.mark.parametrize("what", ["counts", "pairs"])
@pytest.mark.parametrize("named", [True, False], ids=["named", "automatic"])
def test_ctrl_c_then_resume_never_recomputes_finished_cells(capsys, monkeypatch, tmp_path,
                                                            what, named):
    path = tmp_path / "ck"
    extra = ["--checkpoint", path] if named else []
    ref = run_json(capsys, *_command(what))["rows"]  # uninterrupted, no named checkpoint

    # Ctrl-C in the second cell (J_D = 0.5) after 3 of its 6 samples
    _spy_samples(monkeypatch, stop_at=(0.5, 3))
    rc, out, err = run(capsys, *_command(what, extra))
    assert rc == 130 and out == "" and "Traceback" not in err, err
    assert "interrupted after 1 of 3 cells" in err and "--resume" in err
    where = path if named else next((tmp_path / "auto").iterdir())
    assert str(where) in err

    # finished work is never silently discarded
    rc, _, err = run(capsys, *_command(what, extra))
    assert rc == 2 and "--resume" in err, err

    calls = _spy_samples(monkeypatch)
    obj = run_json(capsys, *_command(what, [*extra, "--resume"]))
    assert calls == [(0.5, 3), (0.5, 4), (0.5, 5)] + [(0.8, i) for i in range(6)]
    assert _strip(obj["rows"]) == _strip(ref)
    if named:
        assert path.is_dir()  # a named checkpoint is kept; resuming again computes nothing
        calls.clear()
        again = run_json(capsys, *_command(what, [*extra, "--resume"]))
        assert calls == [] and again["rows"] == obj["rows"]
    else:
        assert not any((tmp_path / "auto").iterdir())  # removed once the whole run is done


def test_named_checkpoint_multi_cell_run_and_resume(capsys, tmp_path):
    """The command of issue 12: exit 0 with a named checkpoint and two cells; --resume accepted;
    different inputs refused."""
    path = tmp_path / "x"
    cmd = ["validate", "counts", "--n", 8, "--jd", 0.3, 0.6, "--samples", 5, "--seed", 1,
           "--checkpoint", path, "--workers", 1, "--no-progress"]
    first = run_json(capsys, *cmd)["rows"]
    assert len(first) == 2
    assert run_json(capsys, *cmd, "--resume")["rows"] == first
    rc, _, err = run(capsys, *cmd[:6], 0.7, *cmd[7:], "--resume")
    assert rc == 2 and "different inputs" in err and "jd_values" in err, err


def test_critical_ctrl_c_in_analysis_keeps_the_networks(capsys, monkeypatch):
    """Ctrl-C after every network is enumerated (during the bootstrap/extrapolation) names the
    checkpoint, and --resume recomputes no network."""
    known = {"gap": 0.0427, "energetic": 0.105}  # skip the slow theory solves
    monkeypatch.setattr(critical, "theory_critical_value", known.get)
    cmd = ["validate", "critical", "--n", 6, 8, "--jd", "0:0.3:4", "--samples", 4,
           "--bootstrap", 3, "--seed", 2, "--workers", 1, "--no-progress"]
    real_exact = critical.gap_exact_finite_n

    def stop(n):
        raise KeyboardInterrupt

    monkeypatch.setattr(critical, "gap_exact_finite_n", stop)
    rc, out, err = run(capsys, *cmd)
    assert rc == 130 and out == "" and "--resume" in err and "Traceback" not in err, err

    monkeypatch.setattr(critical, "gap_exact_finite_n", real_exact)
    calls = []
    real_task = critical._network_task

    def task(*args):
        calls.append(args[:2])
        return real_task(*args)

    monkeypatch.setattr(critical, "_network_task", task)
    obj = run_json(capsys, *cmd, "--resume")
    assert calls == [] and {r["criterion"] for r in obj["table"]} == {"gap", "energetic"}


def test_a_tampered_cell_entry_is_recomputed_not_trusted(capsys, monkeypatch, tmp_path):
    # issue 12.7 for the cell journal: an edited row (a count changed by hand) fails its
    # checksum, is reported and recomputed, and the result equals the uninterrupted run's
    import json

    path = tmp_path / "ck"
    ref = run_json(capsys, *_command("counts", ["--checkpoint", path]))["rows"]
    journal = path / "journal.jsonl"  # the grid's journal: one entry per finished cell
    lines = journal.read_text().splitlines()
    entry = json.loads(lines[0])
    entry["result"][0]["mean_count"] = 999.0
    lines[0] = json.dumps(entry)
    journal.write_text("\n".join(lines) + "\n")
    calls = _spy_samples(monkeypatch)
    rc, out, err = run(capsys, *_command("counts", ["--checkpoint", path, "--resume", "--json"]))
    assert rc == 0, err
    assert "damaged" in err and "recomputing" in err
    assert _strip(json.loads(out)["rows"]) == _strip(ref)
    # the tampered cell is rebuilt from its own (verified) task journal: no sample recomputed
    assert calls == []


def test_stale_cell_directories_do_not_survive_a_fresh_start(capsys, tmp_path):
    """A fresh grid checkpoint removes the cell-* task checkpoints left in its directory (here
    one written for other inputs, which used to block the cell with "different inputs"), and
    a fresh start without --resume refuses to discard finished samples found there."""
    from fplandscape import model

    path = tmp_path / "ck"
    stale = path / "cell-0-0"
    disorder.disorder_average(model.Ensemble(n=8, jd=0.1), 4, 99, workers=1, checkpoint=stale)
    assert (stale / "journal.jsonl").stat().st_size > 0
    cmd = ["validate", "counts", "--n", 8, "--jd", 0.3, 0.6, "--samples", 5, "--seed", 1,
           "--workers", 1, "--no-progress"]
    rc, _, err = run(capsys, *cmd, "--checkpoint", path)
    assert rc == 2 and "--resume" in err and "cell-0-0" in err, err
    ref = run_json(capsys, *cmd)["rows"]
    obj = run_json(capsys, *cmd, "--checkpoint", path, "--resume")
    assert _strip(obj["rows"]) == _strip(ref)
    assert sorted(p.name for p in path.glob("cell-*")) == ["cell-0-0", "cell-0-1"]
