"""Kernels of the loss family (being written)."""
