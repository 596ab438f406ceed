"""Functional forms of the layers, with the names of ``torch.nn.functional``."""

from minidl.core.arguments import probability
from minidl.core.creation import default_generator
from minidl.ops.activation import gelu, leaky_relu, log_softmax, relu, sigmoid, silu, softmax, tanh
from minidl.ops.common import wrap
from minidl.ops.attention import scaled_dot_product_attention
from minidl.ops.conv import conv2d
from minidl.ops.embedding import embedding
from minidl.ops.linalg import linear
from minidl.ops.loss import (binary_cross_entropy, binary_cross_entropy_with_logits, cross_entropy, l1_loss,
                             mse_loss, nll_loss)
from minidl.ops.norm import batch_norm, layer_norm
from minidl.ops.pool import adaptive_avg_pool2d, avg_pool2d, max_pool2d
from minidl.ops.shape import pad
from minidl.core.backend import array_module, to_device


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


def one_hot(tensor, num_classes=-1):
    """Class indices (int64) as one-hot int64 vectors along a new last dim of ``num_classes``
    (default: the largest index + 1), as PyTorch's; not differentiable."""
    from minidl.core.creation import tensor as make_tensor
    if tensor.dtype.kind not in "iu":
        raise TypeError(f"one_hot: expects an integer (class index) tensor, got dtype {tensor.dtype}")
    indices = tensor.data
    classes = int(indices.max()) + 1 if num_classes == -1 and indices.size else max(num_classes, 0)
    if indices.size and (int(indices.min()) < 0 or int(indices.max()) >= classes):
        raise IndexError(f"one_hot: class values must be in [0, {classes}), got {int(indices.min())} to "
                         f"{int(indices.max())}")
    eye = (indices[..., None] == array_module(indices).arange(classes)).astype("int64")
    return make_tensor(eye, device=tensor.device)


__all__ = ["binary_cross_entropy", "binary_cross_entropy_with_logits", "cross_entropy", "l1_loss", "mse_loss",
           "nll_loss", "one_hot", "silu",
           "scaled_dot_product_attention", "adaptive_avg_pool2d", "avg_pool2d", "conv2d", "max_pool2d", "batch_norm", "layer_norm", "dropout", "embedding", "gelu", "leaky_relu", "linear", "log_softmax", "pad", "relu", "sigmoid",
           "softmax", "tanh"]
