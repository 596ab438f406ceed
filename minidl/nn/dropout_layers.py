"""Channel dropout (Dropout1d, Dropout2d) and alpha dropout, with their functional forms, as PyTorch's.

Channel dropout zeroes whole channels: in training each channel x[n, c] (a row of a sequence, a
feature map of an image) is kept with probability 1 - p and scaled by 1/(1 - p), or zeroed, one draw
per (sample, channel) broadcast over the positions. Neighbouring positions of a feature map are
strongly correlated, so zeroing single elements would regularise little.

Alpha dropout keeps the mean and variance of SELU activations (mean 0, variance 1): a dropped element
becomes α' = -λα ≈ -1.7581 (the value SELU saturates at) instead of 0, and the result is mapped
back by a·x + b with a = 1/√((α'²p + 1)(1 - p)), b = -a·α'·p.

Every form is the identity in evaluation (``training=False``); p = 1 zeroes everything.
"""

from __future__ import annotations

import math
import warnings

from minidl.core.arguments import probability
from minidl.core.backend import to_device
from minidl.core.creation import default_generator
from minidl.core.errors import ShapeError
from minidl.nn.module import Module
from minidl.ops.activation import inplace_result
from minidl.ops.common import wrap

SELU_SATURATION = 1.7580993408473766  # λ·α of SELU: SELU(x) → -λα as x → -∞


def _keep_mask(input, shape, p):  # noqa: A002
    """A constant tensor of ``shape`` on input's device: 1 with probability 1 - p, else 0, in input's dtype."""
    keep = default_generator().random(shape) >= p
    return wrap(to_device(keep.astype(input.dtype), input.device))


def _channel_dropout(input, p, training):  # noqa: A002
    """Zero whole channels of batched (N, C, *) input: one keep-or-drop per (n, c), survivors scaled by 1/(1-p)."""
    if not training or p == 0:
        return input
    if p == 1:
        return input * 0.0
    keep = _keep_mask(input, input.shape[:2] + (1,) * (input.ndim - 2), p)
    return input * (keep * (1.0 / (1.0 - p)))


def _channel_dropout_of(input, p, training, inplace, batched, name):  # noqa: A002
    """:func:`_channel_dropout` of a batched input, or of an unbatched one given a batch dim of 1; with
    ``inplace``, written into ``input``."""
    if not training or p == 0:
        return input
    if batched:
        return inplace_result(input, lambda x: _channel_dropout(x, p, training), inplace, name)
    return inplace_result(input, lambda x: _channel_dropout(x.unsqueeze(0), p, training).squeeze(0), inplace, name)


def dropout1d(input, p=0.5, training=True, inplace=False):  # noqa: A002  (PyTorch's names)
    """Zero whole channels of (N, C, L) or unbatched (C, L) input with probability p (training only), scaling
    the kept channels by 1/(1-p)."""
    p = probability(p, "dropout1d", "p")
    if input.ndim not in (2, 3):
        raise ShapeError(f"dropout1d: expected 2-D (C, L) or 3-D (N, C, L) input, got shape {tuple(input.shape)}; "
                         "dropout1d drops channels of inputs with one spatial dim")
    return _channel_dropout_of(input, p, training, inplace, input.ndim == 3, "dropout1d")


def dropout2d(input, p=0.5, training=True, inplace=False):  # noqa: A002
    """Zero whole channels (feature maps) of (N, C, H, W) input with probability p (training only), scaling the
    kept ones by 1/(1-p). A 3-D input is read as (N, C, L), and a 2-D or 5-D one too has its (n, c) entries
    dropped whole, each with a warning, as PyTorch does."""
    p = probability(p, "dropout2d", "p")
    if input.ndim < 2:
        raise ShapeError(f"dropout2d: expected 3-D or 4-D (N, C, H, W) input, got shape {tuple(input.shape)}; "
                         "dropout2d drops channels of inputs with two spatial dims")
    if input.ndim not in (3, 4):  # PyTorch still drops the entries of dims 0 and 1 (each entry of a 2-D input)
        warnings.warn(f"dropout2d: received a {input.ndim}-D input; it drops channels of (N, C, H, W) inputs, so "
                      "each (n, c) entry is dropped as a whole, as PyTorch does (use dropout for a 2-D input)",
                      stacklevel=2)
    elif input.ndim == 3:
        warnings.warn("dropout2d: received a 3-D input, read as (N, C, L) (channel-wise 1-D dropout), as PyTorch "
                      "does; use dropout1d for that, or add the batch dim to drop channels of one (C, H, W) "
                      "image", stacklevel=2)
    return _channel_dropout_of(input, p, training, inplace, True, "dropout2d")


def alpha_dropout(input, p=0.5, training=False, inplace=False):  # noqa: A002
    """Alpha dropout (training only; note PyTorch's default training=False): each element dropped with
    probability p is set to the SELU saturation value α' = -1.7581, then a·x + b keeps mean and variance."""
    p = probability(p, "alpha_dropout", "p")
    if not training or p == 0:
        return input
    if p == 1:
        return inplace_result(input, lambda x: x * 0.0, inplace, "alpha_dropout")
    keep = _keep_mask(input, input.shape, p)
    return inplace_result(input, lambda x: alpha_dropped(x, keep, p), inplace, "alpha_dropout")


def alpha_dropped(input, keep, p):  # noqa: A002
    """a·(x·keep + α'·(1 - keep)) + b with α' = -SELU_SATURATION, a = 1/√((α'²p + 1)(1 - p)), b = -a·α'·p;
    ``keep`` (0 or 1) broadcasts against the input."""
    a = 1.0 / math.sqrt((SELU_SATURATION ** 2 * p + 1) * (1 - p))
    return input * (keep * a) + ((keep - 1.0) * (SELU_SATURATION * a) + SELU_SATURATION * a * p)


class _DropoutNd(Module):
    def __init__(self, p=0.5, inplace=False):
        super().__init__()
        self.p = probability(p, type(self).__name__, "p")
        self.inplace = inplace

    def extra_repr(self):
        return f"p={self.p}, inplace={self.inplace}"


class Dropout1d(_DropoutNd):
    """Zeroes whole channels of (N, C, L) or (C, L) input with probability p in training; identity in eval."""

    def forward(self, x):
        return dropout1d(x, self.p, self.training, self.inplace)


class Dropout2d(_DropoutNd):
    """Zeroes whole channels of (N, C, H, W) input with probability p in training; identity in eval."""

    def forward(self, x):
        return dropout2d(x, self.p, self.training, self.inplace)


class AlphaDropout(_DropoutNd):
    """Alpha dropout (for SELU networks) in training; identity in eval."""

    def forward(self, x):
        return alpha_dropout(x, self.p, self.training, self.inplace)
