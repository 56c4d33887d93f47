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
import importlib

# names → submodule; imported on first use, so that importing one submodule (the command line
# reads phi.PHI_NAMES) does not load the whole package and its SciPy dependencies
_EXPORTS = {
    "SignNetwork": "systems", "RateMap": "systems", "LeakyIntegrator": "systems",
    "System": "systems", "find_fixed_points": "fixed_points", "census": "census",
    "lyapunov_spectrum": "lyapunov", "LyapunovSpectrum": "lyapunov", "diagnose": "diagnose",
    "Diagnosis": "diagnose", "binary_census": "binary", "FixedPoints": "results",
    "Census": "results", "Attractor": "results", "ATTRACTOR_KINDS": "results",
    "PHI_NAMES": "phi", "Activation": "phi", "get_phi": "phi", "load_arrays": "load",
    "load_system": "load", "rate_map_from_torch": "load",
}
__all__ = list(_EXPORTS)


def __getattr__(name):
    if name in _EXPORTS:
        value = getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_EXPORTS))
