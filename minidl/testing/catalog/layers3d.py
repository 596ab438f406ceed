"""3-D convolution and pooling, shrinkage activations, power-average pooling and max unpooling in the
catalogue, with references written from each definition: every output position reads its window of the
padded input, one position at a time. Sizes stay small (batch ≤ 2, channels ≤ 3, sides ≤ 5) so that
the float64 gradient checks stay quick.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
from hypothesis import strategies as st

from minidl.testing.harness import Example, OpCase, avoiding, distinct, functional, positive


def _example(draw, shapes, params):
    return Example(shapes, params, seed=draw(st.integers(0, 2**31)), noncontiguous=draw(st.booleans()))


def _triple(draw, low, high):
    """An int or a 3-tuple of ints in [low, high]."""
    values = tuple(draw(st.integers(low, high)) for _ in range(3))
    return values[0] if draw(st.booleans()) else values


def _per_dim(value):
    return value if isinstance(value, tuple) else (value,) * 3


def _batch(draw):
    """(N,) or () for unbatched input."""
    return (draw(st.integers(1, 2)),) if draw(st.booleans()) else ()


@st.composite
def _conv3d_examples(draw):
    """conv3d inputs: groups, kernel, stride, padding (int, 3-tuple, 'same', 'valid'), dilation, bias."""
    groups, per_group, out_per_group = draw(st.integers(1, 2)), draw(st.integers(1, 2)), draw(st.integers(1, 2))
    kernel, dilation = _triple(draw, 1, 2), _triple(draw, 1, 2)
    padding = draw(st.sampled_from([0, 1, (0, 1, 0), "same", "valid"]))
    stride = 1 if padding == "same" else _triple(draw, 1, 2)
    pads = (0,) * 3 if isinstance(padding, str) else _per_dim(padding)
    sides = tuple(draw(st.integers(max(1, d * (k - 1) + 1 - 2 * p), 4))
                  for k, d, p in zip(_per_dim(kernel), _per_dim(dilation), pads))
    shapes = (_batch(draw) + (groups * per_group,) + sides, (groups * out_per_group, per_group) + _per_dim(kernel),
              (groups * out_per_group,))
    return _example(draw, shapes, {"stride": stride, "padding": padding, "dilation": dilation, "groups": groups})


def _pool_settings(draw, dilated):
    kernel = _triple(draw, 1, 3)
    stride = draw(st.sampled_from([None, 1, 2, (2, 1, 2)]))
    padding = tuple(draw(st.integers(0, k // 2)) for k in _per_dim(kernel))
    dilation = _triple(draw, 1, 2) if dilated else 1
    ceil_mode = draw(st.booleans())
    # every window holds an input element (none lies wholly in the padding, whose maximum is -inf)
    sides = tuple(draw(st.integers(d * (k - 1) + 1, 5)) for k, d in zip(_per_dim(kernel), _per_dim(dilation)))
    return kernel, stride, padding, dilation, ceil_mode, sides


@st.composite
def _max_pool3d_examples(draw):
    kernel, stride, padding, dilation, ceil_mode, sides = _pool_settings(draw, dilated=True)
    shape = _batch(draw) + (draw(st.integers(1, 2)),) + sides
    return _example(draw, (shape,), {"kernel_size": kernel, "stride": stride, "padding": padding,
                                     "dilation": dilation, "ceil_mode": ceil_mode})


@st.composite
def _avg_pool3d_examples(draw):
    kernel, stride, padding, _, ceil_mode, sides = _pool_settings(draw, dilated=False)
    shape = _batch(draw) + (draw(st.integers(1, 2)),) + sides
    return _example(draw, (shape,), {"kernel_size": kernel, "stride": stride, "padding": padding,
                                     "ceil_mode": ceil_mode, "count_include_pad": draw(st.booleans()),
                                     "divisor_override": draw(st.sampled_from([None, None, 3]))})


@st.composite
def _adaptive3d_examples(draw):
    shape = _batch(draw) + (draw(st.integers(1, 2)),) + tuple(draw(st.integers(1, 5)) for _ in range(3))
    output = draw(st.sampled_from([1, 2, (3, None, 2), (2, 4, 1)]))
    return _example(draw, (shape,), {"output_size": output})


@st.composite
def _shrink_examples(draw):
    shape = tuple(draw(st.lists(st.integers(1, 4), max_size=3)))
    return _example(draw, (shape,), {"lambd": draw(st.sampled_from([0.5, 0.0, 1.2]))})


@st.composite
def _lp_pool_examples(draw, spatial):
    kernel = draw(st.integers(1, 3)) if spatial == 1 or draw(st.booleans()) else (draw(st.integers(1, 3)),
                                                                                  draw(st.integers(1, 3)))
    stride = draw(st.sampled_from([None, 1, 2]))
    sides = tuple(draw(st.integers(k, 5)) for k in (kernel if isinstance(kernel, tuple) else (kernel,) * spatial))
    shape = _batch(draw) + (draw(st.integers(1, 3)),) + sides
    return _example(draw, (shape,), {"norm_type": draw(st.sampled_from([1.0, 2.0, 3.5])), "kernel_size": kernel,
                                     "stride": stride, "ceil_mode": draw(st.booleans())})


@st.composite
def _unpool_examples(draw, spatial):
    """A pooled input x (for the indices, via max pooling) and the values v to unpool, of the pooled size."""
    kernel = draw(st.integers(1, 3))
    stride = draw(st.sampled_from([None, kernel]))  # windows that do not overlap: every index used once
    step = kernel
    counts = tuple(draw(st.integers(1, 3)) for _ in range(spatial))
    sides = tuple((c - 1) * step + kernel for c in counts)
    batch = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    return _example(draw, (batch + sides, batch + counts), {"kernel_size": kernel, "stride": stride})


# --- references --------------------------------------------------------------------------------------------

def _unbatched(reference):
    """Run a reference on unbatched (C, *spatial) input by adding and removing the batch dim."""
    def run(x, *args, spatial=3, **params):
        if x.ndim == spatial + 1:
            return run(x[None], *args, spatial=spatial, **params)[0]
        return reference(x, *args, **params)
    return run


def _windows(x, kernel, stride, padding, dilation, ceil_mode, fill):
    """Output size and, per output position, its window of x padded with ``fill`` (positions past the
    right padding that a ceil_mode window reaches read ``fill`` too)."""
    sizes = []
    for n, k, s, p, d in zip(x.shape[2:], kernel, stride, padding, dilation):
        span = n + 2 * p - d * (k - 1) - 1
        count = (math.ceil(span / s) if ceil_mode else span // s) + 1
        if ceil_mode and (count - 1) * s >= n + p:      # a last window starting in the right padding is dropped
            count -= 1
        sizes.append(count)
    extra = [max(0, (o - 1) * s + d * (k - 1) + 1 - n - 2 * p)
             for n, o, k, s, p, d in zip(x.shape[2:], sizes, kernel, stride, padding, dilation)]
    padded = np.pad(x, [(0, 0), (0, 0)] + [(p, p + e) for p, e in zip(padding, extra)], constant_values=fill)
    for position in itertools.product(*(range(o) for o in sizes)):
        slices = tuple(slice(i * s, i * s + d * (k - 1) + 1, d) for i, k, s, d in zip(position, kernel, stride,
                                                                                       dilation))
        yield tuple(sizes), position, padded[(Ellipsis,) + slices]


def _pool_args(kernel_size, stride, padding, dilation=1):
    kernel = _per_dim(kernel_size)
    return kernel, kernel if stride is None else _per_dim(stride), _per_dim(padding), _per_dim(dilation)


@_unbatched
def conv3d(x, w, b, stride, padding, dilation, groups):
    kernel, dilation = w.shape[2:], _per_dim(dilation)
    if padding == "same":
        totals = [d * (k - 1) for k, d in zip(kernel, dilation)]
        pads = [(t // 2, t - t // 2) for t in totals]
    else:
        pads = [(p, p) for p in _per_dim(0 if padding == "valid" else padding)]
    padded = np.pad(x, [(0, 0), (0, 0)] + pads)
    stride = _per_dim(stride)
    sizes = [(n - d * (k - 1) - 1) // s + 1 for n, k, s, d in zip(padded.shape[2:], kernel, stride, dilation)]
    out = np.zeros((x.shape[0], w.shape[0]) + tuple(sizes))
    per_group, out_per_group = x.shape[1] // groups, w.shape[0] // groups
    for position in itertools.product(*(range(o) for o in sizes)):
        slices = tuple(slice(i * s, i * s + d * (k - 1) + 1, d) for i, k, s, d in zip(position, kernel, stride,
                                                                                       dilation))
        for g in range(groups):
            patch = padded[(slice(None), slice(g * per_group, (g + 1) * per_group)) + slices]
            weights = w[g * out_per_group:(g + 1) * out_per_group]
            out[(slice(None), slice(g * out_per_group, (g + 1) * out_per_group)) + position] = \
                np.einsum("ncijk,ocijk->no", patch, weights)
    return out + b.reshape(1, -1, 1, 1, 1)


@_unbatched
def max_pool3d(x, kernel_size, stride, padding, dilation, ceil_mode):
    kernel, stride, padding, dilation = _pool_args(kernel_size, stride, padding, dilation)
    results = list(_windows(x, kernel, stride, padding, dilation, ceil_mode, -np.inf))
    out = np.zeros(x.shape[:2] + results[0][0])
    for _, position, window in results:
        out[(Ellipsis,) + position] = window.max(axis=(2, 3, 4))
    return out


@_unbatched
def avg_pool3d(x, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override):
    kernel, stride, padding, _ = _pool_args(kernel_size, stride, padding)
    results = list(_windows(x, kernel, stride, padding, (1, 1, 1), ceil_mode, 0.0))
    out = np.zeros(x.shape[:2] + results[0][0])
    for _, position, window in results:
        starts = [i * s - p for i, s, p in zip(position, stride, padding)]
        if divisor_override:
            divisor = divisor_override
        elif count_include_pad:   # the window clipped to the padded input, padding counted
            divisor = math.prod(min(a + k, n + p) - a for a, k, n, p in zip(starts, kernel, x.shape[2:], padding))
        else:                     # only the input's own elements
            divisor = math.prod(min(a + k, n) - max(a, 0) for a, k, n in zip(starts, kernel, x.shape[2:]))
        out[(Ellipsis,) + position] = window.sum(axis=(2, 3, 4)) / divisor
    return out


def _adaptive(reduce):
    @_unbatched
    def reference(x, output_size):
        sizes = _per_dim(output_size)
        sizes = tuple(n if o is None else o for n, o in zip(x.shape[2:], sizes))
        out = np.zeros(x.shape[:2] + sizes)
        for position in itertools.product(*(range(o) for o in sizes)):
            slices = tuple(slice(i * n // o, -(-(i + 1) * n // o)) for i, n, o in zip(position, x.shape[2:], sizes))
            out[(Ellipsis,) + position] = reduce(x[(Ellipsis,) + slices], axis=(2, 3, 4))
        return out
    return reference


def softshrink(x, lambd):
    return np.where(x > lambd, x - lambd, np.where(x < -lambd, x + lambd, 0.0))


def _lp_pool(spatial):
    def reference(x, norm_type, kernel_size, stride, ceil_mode):
        if x.ndim == spatial + 1:
            return reference(x[None], norm_type, kernel_size, stride, ceil_mode)[0]
        kernel = kernel_size if isinstance(kernel_size, tuple) else (kernel_size,) * spatial
        stride = kernel if stride is None else (stride,) * spatial
        # (Σ xᵖ)^(1/p) per window; a partial (ceil_mode) window's sum is scaled up to the full kernel, as PyTorch
        padded = x.reshape(x.shape[:2] + (1,) * (3 - spatial) + x.shape[2:])  # as a volume
        full = (1,) * (3 - spatial) + kernel
        steps = (1,) * (3 - spatial) + stride
        results = list(_windows(padded ** norm_type, full, steps, (0, 0, 0), (1, 1, 1), ceil_mode, 0.0))
        out = np.zeros(x.shape[:2] + results[0][0])
        for _, position, window in results:
            covered = math.prod(min(k, n - i * s) for i, k, s, n in zip(position, full, steps, padded.shape[2:]))
            out[(Ellipsis,) + position] = window.sum(axis=(2, 3, 4)) * math.prod(full) / covered
        return (out ** (1.0 / norm_type)).reshape(x.shape[:2] + results[0][0][3 - spatial:])
    return reference


def _max_unpool(spatial):
    def reference(x, values, kernel_size, stride):
        step = kernel_size if stride is None else stride
        out = np.zeros(x.shape)
        for position in itertools.product(*(range(o) for o in values.shape[2:])):
            slices = tuple(slice(i * step, i * step + kernel_size) for i in position)
            for n, c in itertools.product(range(x.shape[0]), range(x.shape[1])):
                window = x[(n, c) + slices]
                winner = np.unravel_index(np.argmax(window), window.shape)
                out[(n, c) + tuple(i * step + w for i, w in zip(position, winner))] = values[(n, c) + position]
        return out
    return reference


def _unpool_call(spatial):
    def call(x, v, kernel_size, stride):
        F = functional(x)
        pool, unpool = getattr(F, f"max_pool{spatial}d"), getattr(F, f"max_unpool{spatial}d")
        _, indices = pool(x, kernel_size, stride, return_indices=True)
        return unpool(v, indices, kernel_size, stride, output_size=x.shape[2:])
    return call


CASES = [
    OpCase("conv3d", lambda x, w, b, **p: functional(x).conv3d(x, w, b, **p), conv3d, _conv3d_examples()),
    OpCase("max_pool3d", lambda x, **p: functional(x).max_pool3d(x, **p), max_pool3d, _max_pool3d_examples(),
           make=distinct),
    OpCase("avg_pool3d", lambda x, **p: functional(x).avg_pool3d(x, **p), avg_pool3d, _avg_pool3d_examples()),
    OpCase("adaptive_avg_pool3d", lambda x, **p: functional(x).adaptive_avg_pool3d(x, **p), _adaptive(np.mean),
           _adaptive3d_examples()),
    OpCase("adaptive_max_pool3d", lambda x, **p: functional(x).adaptive_max_pool3d(x, **p), _adaptive(np.max),
           _adaptive3d_examples(), make=distinct),
    OpCase("hardshrink", lambda x, **p: functional(x).hardshrink(x, **p),
           lambda x, lambd: np.where(np.abs(x) > lambd, x, 0.0), _shrink_examples(),
           make=avoiding(0.5, -0.5, 0.0, 1.2, -1.2)),
    OpCase("softshrink", lambda x, **p: functional(x).softshrink(x, **p), softshrink, _shrink_examples(),
           make=avoiding(0.5, -0.5, 0.0, 1.2, -1.2)),
    OpCase("lp_pool1d", lambda x, **p: functional(x).lp_pool1d(x, **p), _lp_pool(1), _lp_pool_examples(1),
           make=positive),
    OpCase("lp_pool2d", lambda x, **p: functional(x).lp_pool2d(x, **p), _lp_pool(2), _lp_pool_examples(2),
           make=positive),
    OpCase("max_unpool1d", _unpool_call(1), _max_unpool(1), _unpool_examples(1), make=distinct, grad_inputs=(1,)),
    OpCase("max_unpool2d", _unpool_call(2), _max_unpool(2), _unpool_examples(2), make=distinct, grad_inputs=(1,)),
]
