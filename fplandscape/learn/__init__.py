"""Learning by steering the dynamics (docs/learning.md): a supervised, gradient-free, local
rule that maps inputs to fixed points of a binary recurrent network.

Modules: :mod:`~fplandscape.learn.data` (entangled MNIST / Fashion-MNIST, synthetic data),
:mod:`~fplandscape.learn.network` (architecture, relaxation, the network as one coupling
matrix), :mod:`~fplandscape.learn.rule` (plasticity with margins), :mod:`~fplandscape.learn.train`
(training loop, evaluation, checkpoints), :mod:`~fplandscape.learn.sweeps` (incremental
synchronous sweeps with certified signs), :mod:`~fplandscape.learn.baselines` (fixed-feature
baselines), :mod:`~fplandscape.learn.studies` (tidy rows for the figures), and the studies of the
rule's claims: :mod:`~fplandscape.learn.lambda_study` (λ instead of J_D),
:mod:`~fplandscape.learn.capacity` (capacity vs depth), :mod:`~fplandscape.learn.probe`
(per-module representations).
"""
from .data import Dataset, load_dataset, synthetic
from .network import Architecture, Network, full_couplings, full_state, init_network, relax
from .rule import Plasticity, plasticity_step
from .train import Schedule, TrainResult, evaluate, predict, presentation_states, train

__all__ = ["Dataset", "load_dataset", "synthetic", "Architecture", "Network", "init_network",
           "relax", "full_couplings", "full_state", "Plasticity", "plasticity_step", "Schedule",
           "TrainResult", "train", "evaluate", "predict", "presentation_states"]
