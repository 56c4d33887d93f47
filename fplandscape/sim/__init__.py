"""Compiled enumeration, dynamics and sampling of fixed points (conventions:
:mod:`fplandscape.model`)."""
#: public name -> the submodule that defines it (imported on first use, PEP 562, so that
#: importing one submodule, e.g. by the command line, does not import them all)
_EXPORTS = {
    "DisorderResult": "disorder",
    "disorder_average": "disorder",
    "ClusterResult": "clusters",
    "find_clusters": "clusters",
    "local_entropy_per_state": "clusters",
    "neighbor_counts": "clusters",
    "overlap_distribution": "clusters",
    "overlap_gap": "clusters",
    "pair_distance_histogram": "clusters",
    "AnnealResult": "dynamics",
    "DynamicsResult": "dynamics",
    "anneal": "dynamics",
    "run_dynamics": "dynamics",
    "EnumerationResult": "enumerate",
    "enumerate_fixed_points": "enumerate",
    "LocalStats": "local",
    "local_stats": "local",
    "BetheResult": "bp",
    "FocusingResult": "bp",
    "bethe_entropy": "bp",
    "focusing_bp": "bp",
    "AccessibilityResult": "accessibility",
    "accessibility_scan": "accessibility",
    "ComparisonResult": "reached",
    "compare_reached_vs_uniform": "reached",
    "count_fixed_points_bruteforce": "stability",
    "fixed_point_mask_packed": "stability",
    "stabilities_packed": "stability",
}


def __getattr__(name):
    import importlib

    if name in _EXPORTS:
        value = getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
    elif name in _SUBMODULES:
        value = importlib.import_module(f".{name}", __name__)
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(_EXPORTS) | set(_SUBMODULES))


_SUBMODULES = ("accessibility", "algorithms", "bp", "clusters", "disorder", "dynamics",
               "enumerate", "local", "reached", "stability", "stop")

__all__ = list(_EXPORTS)
