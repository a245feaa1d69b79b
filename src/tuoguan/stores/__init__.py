"""Sellers, their stores and the stores' modes (M1-M3)."""
