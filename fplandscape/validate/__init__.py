"""Theory/simulation overlays (issue: validation)."""
