"""Transfer functions φ of rate networks, each with its derivative and its range.

Every activation is monotone non-decreasing, which the certified fixed-point search relies on
(an interval [a, b] maps onto [φ(a), φ(b)]). Names (``phi=`` of the systems):

======================  ==============================  ===============================
name                    φ(z)                            φ'(z)
======================  ==============================  ===============================
``tanh``                tanh z                          1 − tanh² z
``relu``                max(z, 0)                       1 for z > 0, else 0
``hard_tanh``           clip(z, −1, 1)                  1 for |z| < 1, else 0
``logistic``            1 / (1 + e^{−z})                φ(1 − φ)
``linear``              z                               1
``langevin``            L(z) = coth z − 1/z             1/z² − 1/sinh² z  (L'(0) = 1/3)
======================  ==============================  ===============================

The Langevin function is the mean of the continuous-Bernoulli distribution on [−1, 1] with
density ∝ e^{z x} (the unit of the free-energy attractor network). Near z = 0 both L and L'
suffer cancellation, so for |z| < 1 they are evaluated from the exactly rearranged series
``z cosh z − sinh z = Σ_{k≥1} 2k z^{2k+1}/(2k+1)!`` and ``sinh z − z = Σ_{k≥1} z^{2k+1}/(2k+1)!``
(relative error a few ulp); for |z| > 20, coth z = sign z to double precision.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import numpy as np

from ..errors import InputError

__all__ = ["Activation", "get_phi", "PHI_NAMES", "langevin", "langevin_derivative"]


@dataclass(frozen=True)
class Activation:
    """A transfer function: ``f`` and its derivative ``df`` (elementwise on arrays), the closed
    range ``[lo, hi]`` of f (±inf when unbounded) and ``smooth`` (False for the piecewise-linear
    ones, whose derivative jumps at the kinks)."""

    name: str
    f: Callable
    df: Callable
    lo: float
    hi: float
    smooth: bool = True

    @property
    def bounded(self) -> bool:
        return math.isfinite(self.lo) and math.isfinite(self.hi)

    def __call__(self, z):
        return self.f(z)

    def f_and_df(self, z):
        """``(φ(z), φ'(z))`` in one pass (shares tanh / the logistic between the two)."""
        if self.name == "tanh":
            t = np.tanh(z)
            return t, 1.0 - t * t
        if self.name == "logistic":
            p = _logistic(z)
            return p, p * (1.0 - p)
        return self.f(z), self.df(z)


_SERIES_K = np.arange(1, 12)
_FACT = np.array([math.factorial(2 * k + 1) for k in _SERIES_K], dtype=np.float64)


def _series(z, coeff):
    """Σ_k coeff_k z^{2k+1}/(2k+1)! for small |z| (Horner in z²)."""
    z2 = z * z
    acc = np.zeros_like(z)
    for c, f in zip(coeff[::-1], _FACT[::-1]):
        acc = acc * z2 + c / f
    return acc * z * z2  # lowest term is k = 1: z³


def _regions(z):
    """(z as float64, output buffer, masks |z| < 1, 1 ≤ |z| ≤ 20, |z| > 20)."""
    z = np.asarray(z, dtype=np.float64)
    a = np.abs(z)
    small, big = a < 1.0, a > 20.0
    return z, np.empty_like(z), small, ~small & ~big, big


def langevin(z):
    """Langevin function L(z) = coth z − 1/z (odd, L(0) = 0, |L| < 1)."""
    z, out, small, mid, big = _regions(z)
    zs = z[small]
    # L = (z cosh z − sinh z)/(z sinh z); numerator and sinh z from their series
    num = _series(zs, 2.0 * _SERIES_K)
    sinh = zs + _series(zs, np.ones_like(_SERIES_K, dtype=np.float64))
    with np.errstate(invalid="ignore", divide="ignore"):
        vals = num / (zs * sinh)
    tiny = np.abs(zs) < 1e-150
    vals[tiny] = zs[tiny] / 3.0
    out[small] = vals
    zm = z[mid]
    out[mid] = 1.0 / np.tanh(zm) - 1.0 / zm
    zb = z[big]
    out[big] = np.sign(zb) - 1.0 / zb
    return out if out.ndim else float(out)


def langevin_derivative(z):
    """L'(z) = 1/z² − 1/sinh² z (even, L'(0) = 1/3, decreasing in |z|)."""
    z, out, small, mid, big = _regions(z)
    zs = z[small]
    m = _series(zs, np.ones_like(_SERIES_K, dtype=np.float64))  # sinh z − z
    with np.errstate(invalid="ignore", divide="ignore"):
        # 1/z² − 1/sinh² z = (sinh z − z)(sinh z + z) / (z² sinh² z)
        vals = m * (m + 2.0 * zs) / (zs * zs * (zs + m) ** 2)
    tiny = np.abs(zs) < 1e-7
    vals[tiny] = 1.0 / 3.0 - zs[tiny] ** 2 / 15.0
    out[small] = vals
    zm = z[mid]
    out[mid] = 1.0 / zm**2 - 1.0 / np.sinh(zm) ** 2
    zb = z[big]
    out[big] = 1.0 / zb**2 - 4.0 * np.exp(-2.0 * np.abs(zb))
    return out if out.ndim else float(out)


def _tanh_d(z):
    t = np.tanh(z)
    return 1.0 - t * t


def _floats(z):
    """z as a float array: float32 stays float32 (the mixed-precision optimiser), anything
    else becomes float64."""
    z = np.asarray(z)
    return z if z.dtype in (np.float32, np.float64) else z.astype(np.float64)


def _logistic(z):
    z = _floats(z)
    # 1/(1+e^{-z}) without overflow for large negative z
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def _logistic_d(z):
    p = _logistic(z)
    return p * (1.0 - p)


def _relu(z):
    return np.maximum(z, 0.0)


def _relu_d(z):
    z = _floats(z)
    return (z > 0).astype(z.dtype)


def _hard_tanh(z):
    return np.clip(z, -1.0, 1.0)


def _hard_tanh_d(z):
    z = _floats(z)
    return (np.abs(z) < 1.0).astype(z.dtype)


def _linear(z):
    return _floats(z) * 1.0


def _linear_d(z):
    return np.ones_like(_floats(z))


_PHI = {
    "tanh": Activation("tanh", np.tanh, _tanh_d, -1.0, 1.0),
    "relu": Activation("relu", _relu, _relu_d, 0.0, math.inf, smooth=False),
    "hard_tanh": Activation("hard_tanh", _hard_tanh, _hard_tanh_d, -1.0, 1.0, smooth=False),
    "logistic": Activation("logistic", _logistic, _logistic_d, 0.0, 1.0),
    "linear": Activation("linear", _linear, _linear_d, -math.inf, math.inf),
    "langevin": Activation("langevin", langevin, langevin_derivative, -1.0, 1.0),
}
PHI_NAMES = tuple(_PHI)


def get_phi(phi) -> Activation:
    """The :class:`Activation` named ``phi`` (one of :data:`PHI_NAMES`), or ``phi`` itself."""
    if isinstance(phi, Activation):
        return phi
    if isinstance(phi, str) and phi in _PHI:
        return _PHI[phi]
    raise InputError(f"unknown phi {phi!r}: use one of {', '.join(PHI_NAMES)}")
