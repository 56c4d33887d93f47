"""Compiled enumeration of fixed points (conventions: :mod:`fplandscape.model`)."""
from .enumerate import EnumerationResult, enumerate_fixed_points
from .stability import count_fixed_points_bruteforce, fixed_point_mask_packed, stabilities_packed

__all__ = [
    "stabilities_packed",
    "fixed_point_mask_packed",
    "count_fixed_points_bruteforce",
    "enumerate_fixed_points",
    "EnumerationResult",
]
