"""Tidy tables: one row (a flat dict) per parameter point, written as CSV, JSON or an aligned
plain-text table (:func:`format_table`, what the command line prints).

Output paths are checked *before* any computation (:func:`check_writable`), so a long run never
ends in an unwritable path.

This module is on the ground floor and cheap to import: NumPy (and ``tempfile``) are imported
only inside the functions that need them, so the command line starts without them.
"""
from __future__ import annotations

import csv
import json
import math
import os
from pathlib import Path

from .errors import InputError


def _probe_error(exc: OSError) -> str:
    return exc.strerror or str(exc)


def check_writable(path) -> Path:
    """Return ``path`` as a Path if a file can be written there, else raise InputError.

    The check is real, not only permission bits (which do not stop root, and say nothing of
    /proc, /sys or read-only file systems): an existing regular file is opened for appending
    (its content untouched), a missing one is created and removed again."""
    if not str(path).strip():
        raise InputError("output path is empty")
    try:
        return _check_writable(Path(path))
    except OSError as exc:  # e.g. a name too long, a loop of symbolic links
        raise InputError(f"cannot write {str(path)!r}: {_probe_error(exc)}") from None


def _check_writable(p: Path) -> Path:
    parent = p.parent if str(p.parent) else Path(".")
    if p.is_dir():
        raise InputError(f"output path {str(p)!r} is a directory, expected a file name")
    if not parent.exists():
        raise InputError(f"cannot write {str(p)!r}: directory {str(parent)!r} does not exist")
    if not parent.is_dir():
        raise InputError(f"cannot write {str(p)!r}: {str(parent)!r} is a file, not a directory")
    if not os.access(parent, os.W_OK) or (p.exists() and not os.access(p, os.W_OK)):
        raise InputError(f"cannot write {str(p)!r}: permission denied")
    try:
        if p.exists():
            if p.is_file():
                with open(p, "ab"):
                    pass
        else:
            fd = os.open(p, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
            os.close(fd)
            os.unlink(p)
    except OSError as exc:
        raise InputError(f"cannot write {str(p)!r}: {_probe_error(exc)}") from None
    return p


def check_dir_writable(path, what: str = "output directory") -> Path:
    """Return ``path`` as a Path if files can be written in it (it exists as a directory, or can
    be created), else InputError; creates nothing (a probe file or directory is removed)."""
    if not str(path).strip():
        raise InputError(f"{what} path is empty")
    try:
        return _check_dir_writable(Path(path), what)
    except OSError as exc:
        raise InputError(f"cannot create {what} {str(path)!r}: {_probe_error(exc)}") from None


def _check_dir_writable(d: Path, what: str) -> Path:
    if d.exists() and not d.is_dir():
        raise InputError(f"cannot create {what} {str(d)!r}: a file is in the way")
    base = d
    while not base.exists():  # the nearest existing ancestor
        if base.parent == base:
            break
        base = base.parent
    if base.exists() and not base.is_dir():
        raise InputError(f"cannot create {what} {str(d)!r}: {str(base)!r} is a file, not a "
                         "directory")
    import tempfile

    try:
        probe = tempfile.mkdtemp(prefix=".fplandscape-probe-", dir=base)
        os.rmdir(probe)
    except OSError as exc:
        verb = "write into" if base == d else "create"
        raise InputError(f"cannot {verb} {what} {str(d)!r}: {_probe_error(exc)}") from None
    return d


def check_readable(path, what: str) -> Path:
    """Return ``path`` as a Path if it is an existing file, else InputError naming ``what``
    (e.g. ``"coupling"`` → "coupling file '…' does not exist")."""
    p = Path(path)
    if not p.exists():
        raise InputError(f"{what} file {str(p)!r} does not exist")
    if p.is_dir():
        raise InputError(f"{what} file {str(p)!r} is a directory")
    return p


def read_text_matrix(path, *, delimiter=None, ndmin: int = 2):
    """Numbers of a text file (whitespace- or ``delimiter``-separated) as a float64 array.

    Decimal fractions are read as their nearest float64, as every text reader does. An integer
    literal (digits only, no point or exponent) must be held *exactly*: one beyond 2^53 in
    magnitude (e.g. 9007199254740993, which float64 rounds to …992) is refused with
    :class:`InputError` naming the first one, instead of being rounded silently. ``ValueError``
    and ``OSError`` of the reader pass through (callers word them for their file)."""
    import re
    import warnings

    import numpy as np

    from .model import _EXACT_INT as EXACT_INT   # the one home of the 2^53 bound

    with warnings.catch_warnings():   # an empty file is reported by the caller, not warned
        warnings.filterwarnings("ignore", message="loadtxt: input contained no data")
        arr = np.loadtxt(path, delimiter=delimiter, dtype=np.float64, ndmin=ndmin)
    if arr.size and np.any(np.abs(arr) >= EXACT_INT):   # only then can an integer be rounded
        integer = re.compile(r"[+-]?\d+")
        with open(path, encoding="utf-8", errors="replace") as fh:
            for line_no, line in enumerate(fh, 1):
                text = line.split("#", 1)[0]
                for token in (text.split(delimiter) if delimiter else text.split()):
                    token = token.strip()
                    if integer.fullmatch(token) and abs(int(token)) > EXACT_INT:
                        raise InputError(
                            f"{str(path)!r} line {line_no}: the integer {token} is beyond 2^53 "
                            "in magnitude, which float64 cannot hold exactly (it would be read "
                            f"as {float(int(token)):.17g}); write it as a decimal number if "
                            "rounding is intended")
    return arr


def ensure_dir(path) -> Path:
    """Create directory ``path`` (and parents) if needed; InputError if that is impossible."""
    d = Path(path)
    try:
        d.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise InputError(f"cannot create output directory {str(d)!r}: a file is in the way") \
            from None
    except OSError as exc:
        raise InputError(f"cannot create output directory {str(d)!r}: "
                         f"{exc.strerror or exc}") from None
    if not os.access(d, os.W_OK):
        raise InputError(f"cannot write into output directory {str(d)!r}: permission denied")
    return d


def to_jsonable(value):
    """Convert NumPy scalars/arrays to Python types; non-finite floats become None (JSON null)."""
    import numpy as np

    def convert(value):
        if isinstance(value, dict):
            return {str(k): convert(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [convert(v) for v in value]
        if isinstance(value, np.ndarray):
            return convert(value.tolist())
        if isinstance(value, (np.bool_, bool)):
            return bool(value)
        if isinstance(value, (np.integer,)):
            return int(value)
        if isinstance(value, (float, np.floating)):
            v = float(value)
            return v if math.isfinite(v) else None
        return value

    return convert(value)


def dumps(obj) -> str:
    """Strict JSON (no NaN/Infinity tokens)."""
    return json.dumps(to_jsonable(obj), allow_nan=False)


def write_csv(path, rows) -> Path:
    """Write ``rows`` (list of flat dicts) as CSV; the header is the union of keys in order."""
    p = check_writable(path)
    header = []
    for row in rows:
        for key in row:
            if key not in header:
                header.append(key)
    with open(p, "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=header)
        writer.writeheader()
        for row in rows:
            writer.writerow({k: _csv_cell(row.get(k)) for k in header})
    return p


def read_csv(path) -> list:
    """Rows written by :func:`write_csv`, with the cell types recovered: "" → None,
    "True"/"False" → bool, numbers → int or float, JSON lists → lists, anything else a string."""
    def parse(v):
        if v == "":
            return None
        if v in ("True", "False"):
            return v == "True"
        try:
            x = float(v)
        except ValueError:
            try:
                return json.loads(v)
            except ValueError:
                return v
        return int(x) if x.is_integer() and "." not in v and "e" not in v.lower() else x

    with open(path, newline="") as fh:
        return [{k: parse(v) for k, v in row.items()} for row in csv.DictReader(fh)]


def _csv_cell(value):
    import numpy as np

    if isinstance(value, (list, tuple, np.ndarray)):
        return json.dumps(to_jsonable(value))
    value = to_jsonable(value)
    return "" if value is None else value


# --------------------------------------------------------------------------------------------
# readable tables


def format_value(value) -> str:
    """One table cell: booleans as yes/no, integers exactly, floats with 10 significant digits
    (``nan``, ``inf``, ``-inf`` spelled out), None as ``-``, lists (and arrays) as ``[a, b, …]``
    with at most six items shown (first three, ``...``, last two)."""
    import numpy as np

    if isinstance(value, (bool, np.bool_)):
        return "yes" if value else "no"
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        v = float(value)
        if math.isnan(v):
            return "nan"
        if math.isinf(v):
            return "inf" if v > 0 else "-inf"
        return f"{v:.10g}"
    if value is None:
        return "-"
    if isinstance(value, (list, tuple, np.ndarray)):
        items = [format_value(v) for v in value]
        if len(items) > 6:
            items = items[:3] + ["..."] + items[-2:]
        return "[" + ", ".join(items) + "]"
    return str(value)


def format_table(rows: list, columns=None) -> str:
    """An aligned plain-text table of ``rows`` (flat dicts): the given ``columns`` (default the
    union of the rows' keys in order, without ``version``), cells by :func:`format_value`,
    numeric columns right-aligned, the others left-aligned; ``(no rows)`` for no rows."""
    import numpy as np

    if not rows:
        return "(no rows)"
    if columns is None:
        columns = []
        for row in rows:
            columns += [k for k in row if k not in columns and k != "version"]
    cells = [[format_value(row.get(c)) for c in columns] for row in rows]
    widths = [max(len(c), *(len(r[i]) for r in cells)) for i, c in enumerate(columns)]

    def numeric(i):
        return all(isinstance(row.get(columns[i]), (int, float, np.integer, np.floating))
                   and not isinstance(row.get(columns[i]), (bool, np.bool_)) for row in rows)

    right = [numeric(i) for i in range(len(columns))]
    lines = ["  ".join(c.rjust(w) if r else c.ljust(w) for c, w, r in zip(columns, widths, right))]
    lines.append("  ".join("-" * w for w in widths))
    for r in cells:
        lines.append("  ".join(c.rjust(w) if al else c.ljust(w)
                               for c, w, al in zip(r, widths, right)).rstrip())
    return "\n".join(lines)
