"""Self-orthogonalising attractor networks from the free-energy principle (Spisak & Friston,
*Self-orthogonalizing attractor neural networks emerging from the free energy principle*,
arXiv:2505.22749): a fast, vectorised re-implementation connected to
:mod:`fplandscape.attractors`.

* :mod:`.cb` — the continuous-Bernoulli unit: Langevin mean, log-normaliser, entropy, KL,
  density, CDF and the overflow-free inverse-CDF sampler;
* :mod:`.network` — :class:`FEPNetwork` (synchronous as the reference, or asynchronous;
  deterministic or stochastic updates; the local Hebbian/anti-Hebbian rule; variational free
  energy; :meth:`~FEPNetwork.relax`, :meth:`~FEPNetwork.train`,
  :meth:`~FEPNetwork.as_system` → ``RateMap(J, b, phi="langevin", gain=β)``), and
  :func:`symmetry` (η̂ = corr(J_ij, J_ji), ‖J − Jᵀ‖/‖J‖);
* :mod:`.data` — the two-pattern demonstration and the digits (scikit-learn's ``load_digits``,
  an optional dependency) preprocessed as the reference does;
* :mod:`.studies` — the reference's simulations (demonstration, sequence learning, digits
  retrieval) and the attractor analysis of a learned network, as JSON-able dictionaries.
"""
from . import cb, data, studies  # (data and studies import scikit-learn only when called)
from .network import FEPNetwork, RelaxResult, TrainResult, symmetry

__all__ = ["FEPNetwork", "RelaxResult", "TrainResult", "symmetry", "cb", "data", "studies"]
