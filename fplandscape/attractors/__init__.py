"""Attractors of any recurrent network (binary, discrete-time rate RNNs, leaky integrators,
user callables): fixed points and their stability, cycles, tori and chaos, basins, symmetry.

* systems (:mod:`.systems`): :class:`SignNetwork`, :class:`RateMap`, :class:`LeakyIntegrator`,
  :class:`System`; transfer functions in :mod:`.phi`; files and PyTorch in :mod:`.load`;
* :func:`find_fixed_points` → :class:`FixedPoints` (multistart + Newton; ``certified=True``
  proves completeness in a box, :mod:`.certify`);
* :func:`census` → :class:`Census` of :class:`Attractor` objects (fixed point, periodic,
  quasi-periodic, chaotic, divergent; basins; Lyapunov spectra), exact for binary networks
  with N ≤ 20 (:mod:`.binary`);
* :func:`lyapunov_spectrum` (QR method, :mod:`.lyapunov`);
* :func:`diagnose` → :class:`Diagnosis` (symmetry, attractor overlaps, and for the sign
  version the exact number of fixed points beside the random-network theory).

Convention: ``W[i, j]`` is the weight from unit j to unit i; states are rows of (B, N) arrays.
"""
# Eager imports: ``census`` and ``diagnose`` are also submodule names, and a lazy attribute
# would be replaced by the submodule on its first import. Every submodule imports only NumPy at
# load time (SciPy, the enumeration and the theory are imported inside the functions).
from .binary import binary_census
from .census import census
from .diagnose import Diagnosis, diagnose
from .fixed_points import find_fixed_points
from .load import load_arrays, load_system, rate_map_from_torch
from .lyapunov import LyapunovSpectrum, lyapunov_spectrum
from .phi import PHI_NAMES, Activation, get_phi
from .results import ATTRACTOR_KINDS, Attractor, Census, FixedPoints
from .systems import LeakyIntegrator, RateMap, SignNetwork, System

__all__ = ["SignNetwork", "RateMap", "LeakyIntegrator", "System", "find_fixed_points",
           "census", "lyapunov_spectrum", "diagnose", "binary_census", "FixedPoints", "Census",
           "Attractor", "Diagnosis", "LyapunovSpectrum", "ATTRACTOR_KINDS", "PHI_NAMES",
           "Activation", "get_phi", "load_arrays", "load_system", "rate_map_from_torch"]
