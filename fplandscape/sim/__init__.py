"""Compiled enumeration, dynamics and sampling of fixed points (conventions:
:mod:`fplandscape.model`)."""
from .disorder import DisorderResult, disorder_average
from .clusters import (
    ClusterResult,
    find_clusters,
    local_entropy_per_state,
    neighbor_counts,
    overlap_distribution,
    overlap_gap,
    pair_distance_histogram,
)
from .dynamics import AnnealResult, DynamicsResult, anneal, run_dynamics
from .enumerate import EnumerationResult, enumerate_fixed_points
from .local import LocalStats, local_stats
from .bp import BetheResult, FocusingResult, bethe_entropy, focusing_bp
from .accessibility import (AccessibilityResult, accessibility_scan,
                            compare_reached_vs_uniform)
from .stability import count_fixed_points_bruteforce, fixed_point_mask_packed, stabilities_packed

__all__ = [
    "DisorderResult",
    "disorder_average",
    "stabilities_packed",
    "fixed_point_mask_packed",
    "count_fixed_points_bruteforce",
    "enumerate_fixed_points",
    "EnumerationResult",
    "pair_distance_histogram",
    "overlap_distribution",
    "neighbor_counts",
    "local_entropy_per_state",
    "find_clusters",
    "ClusterResult",
    "overlap_gap",
    "run_dynamics",
    "DynamicsResult",
    "anneal",
    "AnnealResult",
    "local_stats",
    "LocalStats",
    "bethe_entropy",
    "BetheResult",
    "focusing_bp",
    "FocusingResult",
    "accessibility_scan",
    "AccessibilityResult",
    "compare_reached_vs_uniform",
]
