"""In-process runner for the `fplandscape` command, shared by the CLI test modules."""
import json

from fplandscape.cli import main


def run(capsys, *argv):
    """Run the CLI in-process; return (exit status, stdout, stderr)."""
    rc = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return rc, out, err


def run_json(capsys, *argv):
    """Run with --json; the command must succeed and print exactly one JSON object (one line)."""
    rc, out, err = run(capsys, *argv, "--json")
    assert rc == 0, err
    assert out.count("\n") == 1
    return json.loads(out)


def run_error(capsys, *argv, match=None):
    """Run a command that must fail on bad input: exit 2, ``error: ...`` on stderr, no
    traceback, and ``match`` in the message. Returns stderr."""
    rc, out, err = run(capsys, *argv)
    assert rc == 2, (rc, out, err)
    assert err.startswith("error: ") and "Traceback" not in err
    if match:
        assert match in err, err
    return err
