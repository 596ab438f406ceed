"""Pixel and channel shuffles, as PyTorch's: pure rearrangements, built from reshape and permute, so their
gradients are the inverse rearrangements (the engine gets them from reshape's and permute's backward).

pixel_shuffle with factor r moves channel blocks into space:
    out[n, c, h·r + i, w·r + j] = x[n, c·r² + i·r + j, h, w]      (C·r², H, W) → (C, H·r, W·r)
pixel_unshuffle is its inverse, and channel_shuffle with g groups reads the channels as a (g, C/g) grid and
transposes it: out[:, k·g + j] = x[:, j·(C/g) + k].
"""

from __future__ import annotations

from minidl.core import arguments
from minidl.core.errors import ShapeError


def _checked(input, factor, name, argument):  # noqa: A002 (PyTorch's names)
    factor = arguments.positive_size(factor, name, argument)
    if input.ndim < 3:
        raise ShapeError(f"{name}: expected an input with at least 3 dims (*, C, H, W), got shape "
                         f"{tuple(input.shape)}")
    return factor


def pixel_shuffle(input, upscale_factor):  # noqa: A002
    """(*, C·r², H, W) → (*, C, H·r, W·r) with r = ``upscale_factor`` (sub-pixel convolution's rearrangement)."""
    r = _checked(input, upscale_factor, "pixel_shuffle", "upscale_factor")
    *batch, channels, h, w = input.shape
    if channels % (r * r):
        raise ShapeError(f"pixel_shuffle: the channel dim ({channels}) of input {tuple(input.shape)} must be "
                         f"divisible by upscale_factor² = {r * r}")
    lead = len(batch)
    x = input.reshape(*batch, channels // (r * r), r, r, h, w)
    x = x.permute(*range(lead), lead, lead + 3, lead + 1, lead + 4, lead + 2)
    return x.reshape(*batch, channels // (r * r), h * r, w * r)


def pixel_unshuffle(input, downscale_factor):  # noqa: A002
    """(*, C, H·r, W·r) → (*, C·r², H, W) with r = ``downscale_factor``: the inverse of pixel_shuffle."""
    r = _checked(input, downscale_factor, "pixel_unshuffle", "downscale_factor")
    *batch, channels, h, w = input.shape
    if h % r or w % r:
        raise ShapeError(f"pixel_unshuffle: height {h} and width {w} of input {tuple(input.shape)} must be "
                         f"divisible by downscale_factor={r}")
    lead = len(batch)
    x = input.reshape(*batch, channels, h // r, r, w // r, r)
    x = x.permute(*range(lead), lead, lead + 2, lead + 4, lead + 1, lead + 3)
    return x.reshape(*batch, channels * r * r, h // r, w // r)


def channel_shuffle(input, groups):  # noqa: A002
    """(N, C, *) with the channels read as a (groups, C/groups) grid and transposed (ShuffleNet's shuffle)."""
    groups = arguments.positive_size(groups, "channel_shuffle", "groups")
    if input.ndim < 3:
        raise ShapeError(f"channel_shuffle: expected an input with at least 3 dims (N, C, *), got shape "
                         f"{tuple(input.shape)}")
    n, channels, *rest = input.shape
    if channels % groups:
        raise ShapeError(f"channel_shuffle: the number of channels ({channels}) of input {tuple(input.shape)} "
                         f"must be divisible by groups={groups}")
    x = input.reshape(n, groups, channels // groups, *rest).transpose(1, 2)
    return x.reshape(n, channels, *rest)
