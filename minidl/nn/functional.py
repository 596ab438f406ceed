"""Functional forms of the layers, with the names of ``torch.nn.functional``."""

from minidl.core.arguments import probability
from minidl.core.creation import default_generator
from minidl.ops.activation import gelu, leaky_relu, log_softmax, relu, sigmoid, silu, softmax, tanh
from minidl.ops.activation import inplace_result
from minidl.ops.common import wrap
from minidl.ops.attention import scaled_dot_product_attention
from minidl.ops.conv import conv1d, conv2d
from minidl.ops.conv_transpose import conv_transpose1d, conv_transpose2d
from minidl.ops.embedding import embedding
from minidl.ops.linalg import linear
from minidl.ops.loss import (binary_cross_entropy, binary_cross_entropy_with_logits, cross_entropy, kl_div,
                             l1_loss, mse_loss, nll_loss)
from minidl.ops.norm import batch_norm, group_norm, layer_norm, rms_norm
from minidl.ops.resize import interpolate
from minidl.ops.pool import adaptive_avg_pool2d, avg_pool2d, max_pool2d
from minidl.ops.pool1d import adaptive_avg_pool1d, adaptive_max_pool1d, avg_pool1d, max_pool1d
from minidl.ops.adaptive_pool import adaptive_max_pool2d
from minidl.ops.fold import fold, unfold
from minidl.nn.dropout_layers import alpha_dropout, dropout1d, dropout2d
from minidl.ops.more_activations import (celu, elu, glu, hardsigmoid, hardswish, hardtanh, logsigmoid, mish, prelu,
                                         relu6, selu, softmin, softplus, softsign, tanhshrink)
from minidl.ops.robust_loss import cosine_embedding_loss, huber_loss, smooth_l1_loss
from minidl.ops.ranking_losses import (hinge_embedding_loss, margin_ranking_loss, multi_margin_loss,
                                         multilabel_margin_loss, multilabel_soft_margin_loss, soft_margin_loss,
                                         triplet_margin_loss, triplet_margin_with_distance_loss)
from minidl.ops.likelihood_losses import gaussian_nll_loss, poisson_nll_loss
from minidl.ops.distance import cosine_similarity, pairwise_distance
from minidl.nn.embedding_bag import embedding_bag
from minidl.nn.instance_norm import instance_norm
from minidl.ops.conv3d import conv3d
from minidl.ops.pool3d import adaptive_avg_pool3d, adaptive_max_pool3d, avg_pool3d, max_pool3d
from minidl.ops.shrink import hardshrink, softshrink
from minidl.ops.lp_pool import lp_pool1d, lp_pool2d
from minidl.ops.unpool import max_unpool1d, max_unpool2d, max_unpool3d
from minidl.nn.feature_dropout import dropout3d, feature_alpha_dropout
from minidl.ops.padding import pad
from minidl.ops.vector_norm import normalize
from minidl.core.backend import array_module, to_device
from minidl.ops.shuffles import channel_shuffle, pixel_shuffle, pixel_unshuffle
from minidl.ops.more_layers_ops import (bilinear, gumbel_softmax, local_response_norm, pdist, rrelu, threshold,
                                        threshold_, upsample, upsample_bilinear, upsample_nearest)
from minidl.ops.ctc import ctc_loss
from minidl.ops.grid_sample import affine_grid, grid_sample


def dropout(input, p=0.5, training=True, inplace=False):  # noqa: A002  (PyTorch's names)
    """Zero each element with probability ``p`` and scale the rest by 1/(1-p) (only when training);
    ``inplace=True`` writes the result into ``input`` and returns it."""
    p = probability(p, "dropout", "p")
    if not training or p == 0:
        return input
    if p == 1:
        return inplace_result(input, lambda x: x * 0.0, inplace, "dropout")
    keep = default_generator().random(input.shape) >= p
    mask = to_device((keep / (1 - p)).astype(input.dtype), input.device)
    return inplace_result(input, lambda x: x * wrap(mask), inplace, "dropout")


# PyTorch's in-place functional forms: the activation with inplace=True (the result written into input)
def relu_(input):  # noqa: A002  (PyTorch's names)
    return relu(input, inplace=True)


def elu_(input, alpha=1.0):  # noqa: A002
    return elu(input, alpha, inplace=True)


def celu_(input, alpha=1.0):  # noqa: A002
    return celu(input, alpha, inplace=True)


def selu_(input):  # noqa: A002
    return selu(input, inplace=True)


def leaky_relu_(input, negative_slope=0.01):  # noqa: A002
    return leaky_relu(input, negative_slope, inplace=True)


def hardtanh_(input, min_val=-1.0, max_val=1.0):  # noqa: A002
    return hardtanh(input, min_val, max_val, inplace=True)


def rrelu_(input, lower=1.0 / 8, upper=1.0 / 3, training=False):  # noqa: A002
    return rrelu(input, lower, upper, training, inplace=True)


def one_hot(tensor, num_classes=-1):
    """Class indices (int64) as one-hot int64 vectors along a new last dim of ``num_classes``
    (default: the largest index + 1), as PyTorch's; not differentiable."""
    from minidl.core.creation import tensor as make_tensor
    if tensor.dtype.kind not in "iu":
        raise TypeError(f"one_hot: expects an integer (class index) tensor, got dtype {tensor.dtype}")
    indices = tensor.array
    classes = int(indices.max()) + 1 if num_classes == -1 and indices.size else max(num_classes, 0)
    if indices.size and (int(indices.min()) < 0 or int(indices.max()) >= classes):
        raise IndexError(f"one_hot: class values must be in [0, {classes}), got {int(indices.min())} to "
                         f"{int(indices.max())}")
    eye = (indices[..., None] == array_module(indices).arange(classes)).astype("int64")
    return make_tensor(eye, device=tensor.device)


__all__ = ["binary_cross_entropy", "binary_cross_entropy_with_logits", "cross_entropy", "kl_div", "l1_loss", "mse_loss",
           "nll_loss", "normalize", "one_hot", "silu",
           "scaled_dot_product_attention", "adaptive_avg_pool2d", "avg_pool2d", "conv2d", "max_pool2d", "batch_norm", "layer_norm", "dropout", "embedding", "gelu", "leaky_relu", "linear", "log_softmax", "pad", "relu", "sigmoid",
           "softmax", "tanh",
           "conv1d", "conv_transpose2d", "group_norm", "interpolate", "rms_norm"]
__all__ += ["adaptive_avg_pool1d", "adaptive_max_pool1d", "adaptive_max_pool2d", "alpha_dropout", "avg_pool1d",
            "dropout1d", "dropout2d", "embedding_bag", "fold", "instance_norm", "max_pool1d", "unfold"]
__all__ += ["celu", "elu", "glu", "hardsigmoid", "hardswish", "hardtanh", "logsigmoid", "mish", "prelu", "relu6",
            "selu", "softmin", "softplus", "softsign", "tanhshrink", "cosine_embedding_loss", "huber_loss",
            "smooth_l1_loss", "cosine_similarity", "pairwise_distance"]
__all__ += ["hinge_embedding_loss", "margin_ranking_loss", "multi_margin_loss", "multilabel_margin_loss",
            "multilabel_soft_margin_loss", "soft_margin_loss", "triplet_margin_loss",
            "triplet_margin_with_distance_loss", "gaussian_nll_loss", "poisson_nll_loss"]
__all__ += ["bilinear", "channel_shuffle", "conv_transpose1d", "gumbel_softmax", "local_response_norm", "pdist",
            "pixel_shuffle", "pixel_unshuffle", "rrelu", "threshold", "threshold_", "upsample", "upsample_bilinear",
            "upsample_nearest"]
__all__ += ["affine_grid", "ctc_loss", "grid_sample"]
__all__ += ["adaptive_avg_pool3d", "adaptive_max_pool3d", "avg_pool3d", "conv3d", "dropout3d",
            "feature_alpha_dropout", "hardshrink", "lp_pool1d", "lp_pool2d", "max_pool3d", "max_unpool1d",
            "max_unpool2d", "max_unpool3d", "softshrink"]
__all__ += ["celu_", "elu_", "hardtanh_", "leaky_relu_", "relu_", "rrelu_", "selu_"]
