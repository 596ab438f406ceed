"""Channel dropout of volumes (Dropout3d, ``dropout3d``) and channel-wise alpha dropout
(FeatureAlphaDropout, ``feature_alpha_dropout``), as PyTorch's.

Both draw one keep-or-drop per (sample, channel) and apply it to the whole feature map, as
dropout1d/dropout2d do (minidl/nn/dropout_layers.py). Dropout3d zeroes a dropped channel and scales
the kept ones by 1/(1 - p); feature alpha dropout sets a dropped channel to SELU's saturation
value and maps the result back by a·x + b so that SELU activations keep mean 0 and variance 1.
Both are the identity in evaluation.
"""

from __future__ import annotations

import warnings

from minidl.core.arguments import probability
from minidl.core.errors import ShapeError
from minidl.ops.activation import inplace_result
from minidl.nn.dropout_layers import _channel_dropout_of, _DropoutNd, _keep_mask, alpha_dropped


def dropout3d(input, p=0.5, training=True, inplace=False):  # noqa: A002  (PyTorch's names)
    """Zero whole channels of (N, C, D, H, W) or unbatched (C, D, H, W) input with probability p (training
    only), scaling the kept channels by 1/(1-p). Other ranks are read as unbatched, with a warning, as
    PyTorch does."""
    p = probability(p, "dropout3d", "p")
    if input.ndim not in (4, 5):
        warnings.warn(f"dropout3d: received a {input.ndim}-D input; dropout3d drops channels of 4-D (C, D, H, W) "
                      "or 5-D (N, C, D, H, W) inputs", stacklevel=2)
    return _channel_dropout_of(input, p, training, inplace, input.ndim == 5, "dropout3d")


def feature_alpha_dropout(input, p=0.5, training=False, inplace=False):  # noqa: A002
    """Alpha dropout of whole channels of (N, C, ...) input (training only; PyTorch's default is
    training=False): a dropped channel becomes α' = -1.7581, then a·x + b keeps mean and variance."""
    p = probability(p, "feature_alpha_dropout", "p")
    if input.ndim < 2:
        raise ShapeError(f"feature_alpha_dropout: feature dropout requires at least 2 dimensions (N, C, ...) in the "
                         f"input, got shape {tuple(input.shape)}")
    if not training or p == 0 or input.numel() == 0:
        return input
    if p == 1:
        return inplace_result(input, lambda x: x * 0.0, inplace, "feature_alpha_dropout")
    keep = _keep_mask(input, tuple(input.shape[:2]) + (1,) * (input.ndim - 2), p)
    return inplace_result(input, lambda x: alpha_dropped(x, keep, p), inplace, "feature_alpha_dropout")


class Dropout3d(_DropoutNd):
    """Zeroes whole channels of (N, C, D, H, W) or (C, D, H, W) input with probability p in training; identity
    in eval."""

    def forward(self, x):
        return dropout3d(x, self.p, self.training, self.inplace)


class FeatureAlphaDropout(_DropoutNd):
    """Channel-wise alpha dropout (for SELU networks) in training; identity in eval."""

    def forward(self, x):
        return feature_alpha_dropout(x, self.p, self.training, self.inplace)
