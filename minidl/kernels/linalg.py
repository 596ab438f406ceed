"""Kernels of the linalg family (being written)."""
