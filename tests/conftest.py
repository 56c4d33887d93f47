"""Test isolation shared by every test file."""
import pytest


@pytest.fixture(autouse=True)
def _private_checkpoint_dir(tmp_path_factory, monkeypatch):
    """Every test gets its own default checkpoint directory ($FPLANDSCAPE_CHECKPOINTS), so no
    test resumes from another's leftovers and parallel test workers (pytest -n) never share
    a journal. A test that sets the variable itself overrides this."""
    monkeypatch.setenv("FPLANDSCAPE_CHECKPOINTS", str(tmp_path_factory.mktemp("checkpoints")))
