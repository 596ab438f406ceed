"""More layers' ops in the catalogue: bilinear, pixel and channel shuffles, transposed 1-D convolution, local
response norm, threshold, rrelu (eval: its mean slope) and pdist, with references written from each formula.
The random ones (rrelu in training, gumbel_softmax) are tested with fixed noise in tests/nn/test_more_layers2.py.
"""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

from minidl.testing.harness import Example, OpCase, avoiding, distinct, functional


def _example(draw, shapes, params):
    return Example(shapes, params, seed=draw(st.integers(0, 2**31)), noncontiguous=draw(st.booleans()))


@st.composite
def _bilinear_examples(draw):
    """x1 (*, in1), x2 (*, in2), weight (out, in1, in2), bias (out,): leading dims none, one or two."""
    batch = tuple(draw(st.lists(st.integers(1, 3), max_size=2)))
    in1, in2, out = (draw(st.integers(1, 3)) for _ in range(3))
    return _example(draw, (batch + (in1,), batch + (in2,), (out, in1, in2), (out,)), {})


@st.composite
def _shuffle_examples(draw, kind):
    """(*, C, H, W) inputs that the factor (pixel shuffles) or the groups (channel shuffle) divides."""
    factor = draw(st.integers(1, 3))
    batch = tuple(draw(st.lists(st.integers(1, 2), max_size=2 if kind != "channel" else 1)))
    if kind == "channel":
        shape = (draw(st.integers(1, 2)), factor * draw(st.integers(1, 3)), draw(st.integers(1, 3)))
        return _example(draw, (shape,), {"groups": factor})
    channels, h, w = draw(st.integers(1, 2)), draw(st.integers(1, 3)), draw(st.integers(1, 3))
    if kind == "pixel":
        return _example(draw, (batch + (channels * factor * factor, h, w),), {"upscale_factor": factor})
    return _example(draw, (batch + (channels, h * factor, w * factor),), {"downscale_factor": factor})


@st.composite
def _conv_transpose1d_examples(draw):
    """(N, C_in, L) or (C_in, L) input, weight (C_in, C_out/groups, K), bias; stride, padding, output_padding."""
    groups, n, per_group, out_per_group = (draw(st.integers(1, 2)) for _ in range(4))
    kernel, stride, dilation, length = draw(st.integers(1, 3)), draw(st.integers(1, 3)), draw(st.integers(1, 2)), \
        draw(st.integers(1, 4))
    output_padding = draw(st.integers(0, max(stride, dilation) - 1))
    smallest = (length - 1) * stride + dilation * (kernel - 1) + output_padding + 1
    padding = draw(st.integers(0, min(2, (smallest - 1) // 2)))
    batch = (n,) if draw(st.booleans()) else ()
    shapes = (batch + (groups * per_group, length), (groups * per_group, out_per_group, kernel),
              (groups * out_per_group,))
    return _example(draw, shapes, {"stride": stride, "padding": padding, "output_padding": output_padding,
                                   "groups": groups, "dilation": dilation})


@st.composite
def _local_response_norm_examples(draw):
    shape = (draw(st.integers(1, 2)), draw(st.integers(1, 5))) + tuple(draw(st.lists(st.integers(1, 3), min_size=1,
                                                                                       max_size=2)))
    params = {"size": draw(st.integers(1, 4)), "alpha": draw(st.sampled_from([1e-4, 0.5])),
              "beta": draw(st.sampled_from([0.75, 0.3])), "k": draw(st.sampled_from([1.0, 2.0]))}
    return _example(draw, (shape,), params)


def _any_shape(draw):
    return tuple(draw(st.lists(st.integers(1, 4), max_size=3)))


@st.composite
def _threshold_examples(draw):
    params = {"threshold": draw(st.sampled_from([0.0, 0.5, -1.0])), "value": draw(st.sampled_from([0.0, -2.0, 3.0]))}
    return _example(draw, (_any_shape(draw),), params)


@st.composite
def _rrelu_examples(draw):
    lower = draw(st.sampled_from([0.0, 0.1, 1.0 / 8]))
    return _example(draw, (_any_shape(draw),), {"lower": lower, "upper": lower + draw(st.sampled_from([0.0, 0.2]))})


@st.composite
def _pdist_examples(draw):
    shape = (draw(st.integers(1, 5)), draw(st.integers(1, 3)))  # no 0 rows: PyTorch's pdist backward crashes there
    return _example(draw, (shape,), {"p": draw(st.sampled_from([1.0, 2.0, 3.0, 0.5]))})


# --- references --------------------------------------------------------------------------------------------

def bilinear(x1, x2, w, b):
    return np.einsum("...i,oij,...j->...o", x1, w, x2) + b


def pixel_shuffle(x, upscale_factor):
    r = upscale_factor
    *batch, channels, h, w = x.shape
    out = np.zeros((*batch, channels // (r * r), h * r, w * r))
    for c in range(out.shape[-3]):
        for i in range(r):
            for j in range(r):
                out[..., c, i::r, j::r] = x[..., c * r * r + i * r + j, :, :]
    return out


def pixel_unshuffle(x, downscale_factor):
    r = downscale_factor
    *batch, channels, h, w = x.shape
    out = np.zeros((*batch, channels * r * r, h // r, w // r))
    for c in range(channels):
        for i in range(r):
            for j in range(r):
                out[..., c * r * r + i * r + j, :, :] = x[..., c, i::r, j::r]
    return out


def channel_shuffle(x, groups):
    per_group = x.shape[1] // groups
    order = [j * per_group + k for k in range(per_group) for j in range(groups)]
    return x[:, order]


def conv_transpose1d(x, w, b, stride, padding, output_padding, groups, dilation):
    """x[n, c, i] adds x·w[c, o, p] at output position i·s + p·d - padding of each output channel o of its group."""
    if x.ndim == 2:
        return conv_transpose1d(x[None], w, b, stride, padding, output_padding, groups, dilation)[0]
    n, channels, length = x.shape
    per_group, out_per_group, kernel = channels // groups, w.shape[1], w.shape[2]
    full = np.zeros((n, out_per_group * groups, (length - 1) * stride + dilation * (kernel - 1) + 1 + output_padding))
    for c in range(channels):
        outputs = slice(c // per_group * out_per_group, (c // per_group + 1) * out_per_group)
        for i in range(length):
            for p in range(kernel):
                full[:, outputs, i * stride + p * dilation] += x[:, c, i][:, None] * w[c, :, p][None, :]
    return full[:, :, padding:full.shape[2] - padding] + b[None, :, None]


def local_response_norm(x, size, alpha, beta, k):
    channels = x.shape[1]
    squares = x * x
    sums = np.zeros_like(x)
    for c in range(channels):
        sums[:, c] = squares[:, max(0, c - size // 2):min(channels, c + (size - 1) // 2 + 1)].sum(axis=1)
    return x / (k + alpha / size * sums) ** beta


def pdist(x, p):
    return np.array([np.sum(np.abs(x[i] - x[j]) ** p) ** (1 / p)
                     for i in range(len(x)) for j in range(i + 1, len(x))]).reshape(-1)


CASES = [
    OpCase("bilinear", lambda a, b, w, c: functional(a).bilinear(a, b, w, c), bilinear, _bilinear_examples()),
    OpCase("pixel_shuffle", lambda x, **p: functional(x).pixel_shuffle(x, **p), pixel_shuffle,
           _shuffle_examples("pixel")),
    OpCase("pixel_unshuffle", lambda x, **p: functional(x).pixel_unshuffle(x, **p), pixel_unshuffle,
           _shuffle_examples("unpixel")),
    OpCase("channel_shuffle", lambda x, **p: functional(x).channel_shuffle(x, **p), channel_shuffle,
           _shuffle_examples("channel")),
    OpCase("conv_transpose1d", lambda x, w, b, **p: functional(x).conv_transpose1d(x, w, b, **p), conv_transpose1d,
           _conv_transpose1d_examples()),
    OpCase("local_response_norm", lambda x, **p: functional(x).local_response_norm(x, **p), local_response_norm,
           _local_response_norm_examples()),
    OpCase("threshold", lambda x, **p: functional(x).threshold(x, **p),
           lambda x, threshold, value: np.where(x > threshold, x, value), _threshold_examples(),
           make=avoiding(0.0, 0.5, -1.0)),
    OpCase("rrelu_eval", lambda x, **p: functional(x).rrelu(x, **p, training=False),
           lambda x, lower, upper: np.where(x >= 0, x, (lower + upper) / 2 * x), _rrelu_examples(),
           make=avoiding(0.0)),
    OpCase("pdist", lambda x, **p: functional(x).pdist(x, **p), pdist, _pdist_examples(), make=distinct),
]
