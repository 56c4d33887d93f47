"""Tidy tables (:mod:`fplandscape.tables`): the readable table every command prints, the JSON
conversion, and an import that costs no NumPy."""
import math
import subprocess
import sys

import numpy as np
import pytest

from fplandscape import tables
from fplandscape.cli import common


@pytest.mark.parametrize("value,text", [
    (True, "yes"), (np.bool_(False), "no"), (3, "3"), (np.int64(-7), "-7"),
    (2**70, str(2**70)), (0.1, "0.1"), (np.float32(0.5), "0.5"), (1 / 3, "0.3333333333"),
    (math.nan, "nan"), (math.inf, "inf"), (-math.inf, "-inf"), (None, "-"),
    ([1, 2.5, None], "[1, 2.5, -]"), (np.arange(3), "[0, 1, 2]"),
    (list(range(8)), "[0, 1, 2, ..., 6, 7]"), ("word", "word"),
])
def test_format_value(value, text):
    assert tables.format_value(value) == text


def test_format_table_aligns_numbers_right_and_words_left():
    rows = [{"version": "x", "name": "a", "n": 1, "ok": True},
            {"version": "x", "name": "bbb", "n": 100, "ok": False}]
    assert tables.format_table(rows).splitlines() == [
        "name    n  ok ",   # the header keeps its padding (as it always has)
        "----  ---  ---",
        "a       1  yes",
        "bbb   100  no",
    ]
    assert tables.format_table(rows, ["n"]).splitlines()[2:] == ["  1", "100"]
    assert tables.format_table([]) == "(no rows)"


def test_the_command_line_uses_the_one_home():
    assert common.format_table is tables.format_table
    assert common.format_value is tables.format_value


def test_to_jsonable():
    obj = {"a": np.arange(2), "b": (np.float64(math.nan), np.bool_(True)), 3: np.int32(4)}
    assert tables.to_jsonable(obj) == {"a": [0, 1], "b": [None, True], "3": 4}
    assert tables.dumps({"x": math.inf}) == '{"x": null}'


def test_import_does_not_import_numpy():
    code = "import sys, fplandscape.tables; print('numpy' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "False"
