"""The house plan holds: ``lint-imports`` (import-linter) keeps the contracts of ``.importlinter``
(each layer imports only the layers below it; theory and sim are independent).

Imports inside functions count too, so a dependency cannot hide from the plan in a function.
"""
import importlib.util
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def lint_imports_command() -> list:
    """``lint-imports`` of this interpreter's environment (the console script beside the
    interpreter, else the one on PATH)."""
    script = Path(sys.executable).with_name("lint-imports")
    if script.exists():
        return [str(script)]
    found = shutil.which("lint-imports")
    if found is None:
        pytest.skip("import-linter installed without its lint-imports script")
    return [found]


@pytest.mark.skipif(importlib.util.find_spec("importlinter") is None,
                    reason="import-linter not installed (pip install -e '.[test]')")
def test_import_contracts_are_kept():
    config = REPO / ".importlinter"
    assert config.is_file(), "the contracts live in .importlinter at the repository root"
    proc = subprocess.run([*lint_imports_command(), str(config), "--no-cache", "--no-logo"],
                          cwd=REPO, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, "lint-imports found a broken contract:\n" + proc.stdout + \
        proc.stderr
    assert " 0 broken" in proc.stdout, proc.stdout
