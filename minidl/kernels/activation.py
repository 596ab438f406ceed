"""Kernels of the activation family (being written)."""
