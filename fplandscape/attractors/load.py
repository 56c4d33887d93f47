"""Networks from files: ``.npy``, ``.npz``, ``.csv`` and PyTorch ``nn.RNN`` state dicts.

Array names (``.npz`` and state dicts). Recurrent weights: ``W`` (or ``J``,
``weight_hh_l0``); input matrix: ``U`` (or ``weight_ih_l0``); bias: ``b`` (or ``I`` for the
leaky integrator; a state dict contributes ``bias_ih_l0 + bias_hh_l0``); time constant ``tau``.
``.npy`` and ``.csv`` files hold the recurrent matrix alone. Every matrix follows the
convention ``W[i, j]`` = weight from unit j to unit i (:mod:`fplandscape.attractors.systems`),
which is also PyTorch's for ``weight_hh_l0``.

PyTorch is never required: it is imported only to read a ``.pt``/``.pth`` file or to convert
an ``nn.RNN`` object, and a clear error says so when it is missing.
"""
from __future__ import annotations

import numpy as np

from ..errors import InputError, check_choice
from ..tables import check_readable, read_text_matrix
from .systems import LeakyIntegrator, RateMap, SignNetwork

__all__ = ["load_arrays", "load_system", "rate_map_from_torch", "MODELS"]

MODELS = ("map", "leaky", "sign")
_W_NAMES = ("W", "J", "weight_hh_l0")
_U_NAMES = ("U", "weight_ih_l0")


def _to_numpy(value, name):
    if hasattr(value, "detach"):  # a torch tensor
        value = value.detach().cpu().numpy()
    try:
        return np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise InputError(f"{name} is not a real numeric array") from None


def _from_state_dict(sd) -> dict:
    """Arrays of a one-layer ``nn.RNN`` state dict (``weight_hh_l0`` etc.)."""
    if not hasattr(sd, "keys"):
        raise InputError("a PyTorch file must hold a state dict (a mapping of tensors)")
    keys = set(sd.keys())
    if "weight_hh_l0" not in keys:
        raise InputError("the state dict has no 'weight_hh_l0' (an nn.RNN's recurrent weights);"
                         f" it has: {', '.join(sorted(map(str, keys))) or 'nothing'}")
    if any(str(k).endswith("_l1") for k in keys):
        raise InputError("only one-layer nn.RNN state dicts are supported (found '_l1' keys)")
    out = {"W": _to_numpy(sd["weight_hh_l0"], "weight_hh_l0")}
    if "weight_ih_l0" in keys:
        out["U"] = _to_numpy(sd["weight_ih_l0"], "weight_ih_l0")
    b = 0.0
    for name in ("bias_ih_l0", "bias_hh_l0"):
        if name in keys:
            b = b + _to_numpy(sd[name], name)
    out["b"] = b
    return out


def load_arrays(path) -> dict:
    """The arrays of a network file, keyed ``W``, ``U``, ``b``, ``tau`` (module docstring)."""
    p = check_readable(path, "weights")
    suffix = p.suffix.lower()
    try:
        if suffix == ".npy":
            return {"W": np.load(p, allow_pickle=False)}
        if suffix == ".csv":
            W = read_text_matrix(p, delimiter=",")
            if W.size == 0:
                raise InputError(f"weights file {str(p)!r} is empty")
            return {"W": W}
        if suffix == ".npz":
            import zipfile

            if not zipfile.is_zipfile(p):
                raise InputError(f"{str(p)!r} is not a valid .npz archive (not a zip file)")
            try:
                data = np.load(p, allow_pickle=False)
            except zipfile.BadZipFile:
                raise InputError(f"{str(p)!r} is not a valid .npz archive") from None
            with data:
                arrays = {k: data[k] for k in data.files}
            out = {}
            for names, key in ((_W_NAMES, "W"), (_U_NAMES, "U")):
                for name in names:
                    if name in arrays:
                        out[key] = arrays[name]
                        break
            if "W" not in out:
                raise InputError(f"{str(p)!r} has no recurrent matrix named W, J or "
                                 f"weight_hh_l0 (it has: {', '.join(arrays) or 'none'})")
            if "bias_ih_l0" in arrays or "bias_hh_l0" in arrays:
                out["b"] = arrays.get("bias_ih_l0", 0.0) + arrays.get("bias_hh_l0", 0.0)
            for name in ("b", "I", "tau"):
                if name in arrays:
                    out["b" if name == "I" else name] = arrays[name]
            return out
        if suffix in (".pt", ".pth"):
            try:
                import torch
            except ImportError:
                raise InputError(f"reading the PyTorch file {str(p)!r} needs torch, which is "
                                 "not installed (pip install torch), or save the weights "
                                 "with numpy as .npz (W, U, b)") from None
            sd = torch.load(p, map_location="cpu", weights_only=True)
            return _from_state_dict(sd)
    except InputError:
        raise
    except (OSError, ValueError, EOFError) as exc:
        raise InputError(f"cannot read weights from {str(p)!r}: {exc}") from None
    raise InputError(f"unknown weights file type {suffix!r} for {str(p)!r}: use .npy, .npz, "
                     ".csv, or .pt/.pth (a PyTorch nn.RNN state dict)")


def _build(arrays: dict, model: str, phi: str, tau=None):
    check_choice(model, "model", MODELS)
    W = arrays["W"]
    b = arrays.get("b", 0.0)
    U = arrays.get("U")
    if model == "sign":
        if U is not None:
            raise InputError("a sign network takes no input matrix U")
        return SignNetwork(W, b)
    if model == "map":
        return RateMap(W, b, U, phi)
    t = tau if tau is not None else arrays.get("tau", 1.0)
    t = float(np.asarray(t).reshape(-1)[0]) if np.size(t) == 1 else t
    return LeakyIntegrator(W, b, U, phi, t)


def load_system(path, *, model: str = "map", phi: str = "tanh", tau=None):
    """A system from a weights file: ``model`` ``"map"`` (:class:`RateMap`), ``"leaky"``
    (:class:`LeakyIntegrator`, ``tau`` from the argument, the file, or 1) or ``"sign"``
    (:class:`SignNetwork`)."""
    return _build(load_arrays(path), model, phi, tau)


def rate_map_from_torch(rnn, phi=None) -> RateMap:
    """The :class:`RateMap` of a one-layer ``torch.nn.RNN`` (or its state dict):
    ``W = weight_hh_l0``, ``U = weight_ih_l0``, ``b = bias_ih_l0 + bias_hh_l0`` and
    ``phi`` = the module's ``nonlinearity`` (``tanh`` or ``relu``; give ``phi`` for a state
    dict, default tanh). ``h_t = φ(W h_{t−1} + U x_t + b)`` is then PyTorch's update."""
    if hasattr(rnn, "state_dict") and callable(rnn.state_dict):
        if getattr(rnn, "num_layers", 1) != 1 or getattr(rnn, "bidirectional", False):
            raise InputError("only one-layer, unidirectional nn.RNN modules are supported")
        if phi is None:
            phi = getattr(rnn, "nonlinearity", "tanh")
        sd = rnn.state_dict()
    else:
        sd = rnn
    arrays = _from_state_dict(sd)
    return RateMap(arrays["W"], arrays["b"], arrays.get("U"), phi or "tanh")
