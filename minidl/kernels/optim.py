"""Kernels of the optim family (being written)."""
