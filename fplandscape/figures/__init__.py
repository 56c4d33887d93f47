"""Figures of the study (spec §6), rendered into figures/."""
