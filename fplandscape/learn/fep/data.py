"""Training patterns of the reference simulations.

* :func:`demo_patterns` — the two correlated 5 × 5 images of the demonstration (notebook
  ``03-simulation-demo``): a vertical and a horizontal bar through the centre, the centre
  pixel 4 and the other bar pixels 1, each image standardised over its 25 pixels (population
  standard deviation). Their Pearson correlation is 0.7706.
* :func:`load_digits` — scikit-learn's 8 × 8 handwritten digits (1797 images, bundled with
  scikit-learn, read offline). scikit-learn is an optional dependency: without it a clear
  :class:`~fplandscape.errors.InputError` says how to install it, or a ``.npz`` file with arrays
  ``data`` (1797 × 64, or any M × 64) and ``target`` can be given instead.
* :func:`preprocess_digits` — the reference's preprocessing (``simulation/utils.py``
  ``preprocess_digits_data``): square every pixel (evidence peaks where the ink is darkest),
  then standardise each image over its 64 pixels (population std). The reference trains on the
  first ten images (the digits 0, 1, …, 9, one example each) and tests on the other 1787;
  the sequence simulation uses the first examples of 1, 2, 3 (rows 1–3).
"""
from __future__ import annotations

import numpy as np

from ...errors import InputError

__all__ = ["demo_patterns", "load_digits", "preprocess_digits", "digit_patterns",
           "standardize"]


def standardize(X) -> np.ndarray:
    """Each row minus its mean, divided by its population standard deviation."""
    X = np.asarray(X, dtype=np.float64)
    sd = X.std(axis=-1, keepdims=True)
    if np.any(sd == 0):
        raise InputError("a pattern is constant: it cannot be standardised")
    return (X - X.mean(axis=-1, keepdims=True)) / sd


def demo_patterns() -> np.ndarray:
    """(2, 25) standardised bar images of the demonstration (module docstring)."""
    a = np.zeros((5, 5))
    a[:, 2] = 1.0
    a[2, 2] = 4.0
    c = np.zeros((5, 5))
    c[2, :] = 1.0
    c[2, 2] = 4.0
    return standardize(np.stack([a.ravel(), c.ravel()]))


def load_digits(path=None) -> tuple[np.ndarray, np.ndarray]:
    """``(data, target)``: the digits images as an (M, 64) float array and their labels.

    ``path``: a ``.npz`` file with arrays ``data`` and ``target``; default scikit-learn's
    bundled copy (``sklearn.datasets.load_digits``, no download)."""
    if path is not None:
        from ...tables import check_readable

        p = check_readable(path, "digits file")
        try:
            with np.load(p, allow_pickle=False) as f:
                data = np.asarray(f["data"], dtype=np.float64)
                target = np.asarray(f["target"]).astype(np.int64)
        except (OSError, ValueError, KeyError) as exc:
            raise InputError(f"cannot read digits from {str(p)!r} (a .npz with arrays 'data' "
                             f"and 'target'): {exc}") from None
    else:
        try:
            from sklearn.datasets import load_digits as _sk
        except ImportError:
            raise InputError("the digits data come with scikit-learn, which is not installed: "
                             "pip install scikit-learn (or pip install 'fplandscape[fep]'), or "
                             "give a .npz file with arrays 'data' and 'target'") from None
        d = _sk()
        data, target = np.asarray(d.data, dtype=np.float64), np.asarray(d.target, np.int64)
    if data.ndim != 2 or data.shape[1] != 64 or data.shape[0] != target.shape[0] or \
            data.shape[0] < 1:
        raise InputError(f"digits data must be an (M, 64) array with M labels, got "
                         f"{data.shape} and {target.shape}")
    if not np.all(np.isfinite(data)):
        raise InputError("digits data have non-finite entries")
    return data, target


def preprocess_digits(data) -> np.ndarray:
    """Square the pixels, then standardise each image (module docstring)."""
    return standardize(np.power(np.asarray(data, dtype=np.float64), 2))


def digit_patterns(classes=(1, 2, 3), path=None) -> np.ndarray:
    """The preprocessed first example of each digit in ``classes`` (rows in that order): the
    reference's training images (rows 0–9 of the data set are the digits 0–9)."""
    data, target = load_digits(path)
    X = preprocess_digits(data)
    rows = []
    for c in classes:
        hits = np.flatnonzero(target == int(c))
        if hits.size == 0:
            raise InputError(f"no digit {c} in the data")
        rows.append(X[hits[0]])
    return np.array(rows)
