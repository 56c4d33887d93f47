"""Tidy tables: one row (a flat dict) per parameter point, written as CSV or JSON.

Output paths are checked *before* any computation (:func:`check_writable`), so a long run never
ends in an unwritable path.
"""
from __future__ import annotations

import csv
import json
import math
import os
from pathlib import Path

import numpy as np

from .errors import InputError


def check_writable(path) -> Path:
    """Return ``path`` as a Path if a file can be created there, else raise InputError."""
    p = Path(path)
    parent = p.parent if str(p.parent) else Path(".")
    if p.is_dir():
        raise InputError(f"output path {str(p)!r} is a directory, expected a file name")
    if not parent.exists():
        raise InputError(f"cannot write {str(p)!r}: directory {str(parent)!r} does not exist")
    if not parent.is_dir():
        raise InputError(f"cannot write {str(p)!r}: {str(parent)!r} is a file, not a directory")
    if not os.access(parent, os.W_OK) or (p.exists() and not os.access(p, os.W_OK)):
        raise InputError(f"cannot write {str(p)!r}: permission denied")
    return p


def check_readable(path, what: str) -> Path:
    """Return ``path`` as a Path if it is an existing file, else InputError naming ``what``
    (e.g. ``"coupling"`` → "coupling file '…' does not exist")."""
    p = Path(path)
    if not p.exists():
        raise InputError(f"{what} file {str(p)!r} does not exist")
    if p.is_dir():
        raise InputError(f"{what} file {str(p)!r} is a directory")
    return p


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
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return to_jsonable(value.tolist())
    if isinstance(value, (np.bool_, bool)):
        return bool(value)
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        v = float(value)
        return v if math.isfinite(v) else None
    return value


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
    if isinstance(value, (list, tuple, np.ndarray)):
        return json.dumps(to_jsonable(value))
    value = to_jsonable(value)
    return "" if value is None else value
