"""fplandscape: fixed points ("attractors") of random binary recurrent networks.

Subpackages:

* :mod:`fplandscape.theory`   analytic free entropies and critical self-couplings;
* :mod:`fplandscape.sim`      compiled enumeration and sampling of fixed points;
* :mod:`fplandscape.validate` theory/simulation overlays;
* :mod:`fplandscape.figures`  the study's figures;
* :mod:`fplandscape.reproduce` the whole study in one call (what ``fplandscape reproduce`` runs).

The model conventions (fixed-point predicate, ensembles, coupling files) live in
:mod:`fplandscape.model`. Importing the package imports none of them (nor NumPy): the command
line's ``--version`` and ``--help`` stay fast.
"""
from ._version import __version__
from .errors import ConvergenceError, InputError

__all__ = ["__version__", "InputError", "ConvergenceError"]
