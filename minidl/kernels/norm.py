"""Kernels of the norm family (being written)."""
