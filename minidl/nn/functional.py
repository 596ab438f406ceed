"""Functional forms of the layers, with the names of ``torch.nn.functional``."""

from minidl.ops.activation import gelu, leaky_relu, log_softmax, relu, sigmoid, softmax, tanh
from minidl.ops.shape import pad

__all__ = ["gelu", "leaky_relu", "log_softmax", "pad", "relu", "sigmoid", "softmax", "tanh"]
