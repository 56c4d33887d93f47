"""Analytic theory of docs/formulas.md and docs/critical.md: free entropies of fixed points and
of their overlap structure, and the critical self-couplings.

Formula → function (each label is defined, with its formula, at docs/formulas.md#e1 …
docs/formulas.md#e-rs; the criteria at docs/critical.md):

=========  =================================================================
(E1)       :func:`log_expected_count`, :func:`expected_count`
(E2)/(E2η) :func:`annealed_entropy`
(E2λ)      :func:`modular_entropy`, :func:`log_expected_count_modular`
(E3)       :func:`pair_entropy`
(E4)       :func:`log_expected_pairs`, :func:`expected_pairs`
(E5)       :func:`annealed_local_entropy`, :func:`annealed_local_entropy_small_d`,
           :func:`isolation_radius`
(E6)/(E7)  :func:`local_entropy` (kinds ``annealed``, ``franz-parisi``, ``large-deviation``)
(E-RS)     :func:`quenched_entropy_rs`
           :func:`typical_mean_stability` (mean stability of a typical fixed point)
critical   :func:`critical_self_coupling` (criteria ``gap``, ``energetic``, ``entropic``, ``ld``)
=========  =================================================================
"""
from .counts import (
    annealed_entropy,
    expected_count,
    expected_pairs,
    log_expected_count,
    log_expected_count_modular,
    log_expected_pairs,
    modular_entropy,
    typical_mean_stability,
)
from .critical import CRITERIA, CriticalValue, critical_self_coupling, criterion_evidence
from .local_entropy import (
    KINDS,
    LocalEntropyCurve,
    default_distances,
    franz_parisi,
    large_deviation,
    local_entropy,
)
from .pairs import (
    annealed_local_entropy,
    annealed_local_entropy_small_d,
    isolation_radius,
    min_pair_entropy,
    pair_entropy,
    small_d_coefficient,
)
from .replica import RSEntropy, quenched_entropy_rs
from .saddle import Quadrature

__all__ = [
    "annealed_entropy", "expected_count", "expected_pairs", "log_expected_count",
    "log_expected_count_modular", "log_expected_pairs", "modular_entropy", "typical_mean_stability",
    "CRITERIA",
    "CriticalValue", "critical_self_coupling", "criterion_evidence", "KINDS",
    "LocalEntropyCurve", "default_distances", "franz_parisi", "large_deviation", "local_entropy",
    "annealed_local_entropy", "annealed_local_entropy_small_d", "isolation_radius",
    "min_pair_entropy", "pair_entropy", "small_d_coefficient", "RSEntropy", "quenched_entropy_rs",
    "Quadrature",
]
