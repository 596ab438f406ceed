"""Kernels of the im2col family (being written)."""
