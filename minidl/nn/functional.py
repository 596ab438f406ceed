"""Functional forms of the layers, with the names of ``torch.nn.functional``."""

from minidl.core.arguments import probability
from minidl.core.creation import default_generator
from minidl.ops.activation import gelu, leaky_relu, log_softmax, relu, sigmoid, softmax, tanh
from minidl.ops.common import wrap
from minidl.ops.attention import scaled_dot_product_attention
from minidl.ops.conv import conv2d
from minidl.ops.embedding import embedding
from minidl.ops.linalg import linear
from minidl.ops.loss import (binary_cross_entropy, binary_cross_entropy_with_logits, cross_entropy, mse_loss,
                             nll_loss)
from minidl.ops.norm import batch_norm, layer_norm
from minidl.ops.pool import adaptive_avg_pool2d, avg_pool2d, max_pool2d
from minidl.ops.shape import pad
from minidl.core.backend import to_device


def dropout(input, p=0.5, training=True):  # noqa: A002  (PyTorch's names)
    """Zero each element with probability ``p`` and scale the rest by 1/(1-p) (only when training)."""
    p = probability(p, "dropout", "p")
    if not training or p == 0:
        return input
    if p == 1:
        return input * 0.0
    keep = default_generator().random(input.shape) >= p
    mask = to_device((keep / (1 - p)).astype(input.dtype), input.device)
    return input * wrap(mask)


__all__ = ["binary_cross_entropy", "binary_cross_entropy_with_logits", "cross_entropy", "mse_loss", "nll_loss",
           "scaled_dot_product_attention", "adaptive_avg_pool2d", "avg_pool2d", "conv2d", "max_pool2d", "batch_norm", "layer_norm", "dropout", "embedding", "gelu", "leaky_relu", "linear", "log_softmax", "pad", "relu", "sigmoid",
           "softmax", "tanh"]
