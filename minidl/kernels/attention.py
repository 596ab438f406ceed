"""Kernels of the attention family (being written)."""
