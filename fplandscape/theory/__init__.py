"""Analytic theory of spec §2–§3 (annealed/replica free entropies, critical self-couplings)."""
