"""Max unpooling, as PyTorch's max_unpool1d/2d/3d: the partial inverse of max pooling.

Max pooling with ``return_indices=True`` gives each maximum's flat position in its spatial plane
(or volume). Unpooling writes every input value back at that position of a zero output:

    out[n, c, indices[n, c, i]] = x[n, c, i],   dL/dx[n, c, i] = G[n, c, indices[n, c, i]]

so the gradient is a gather from the same positions. The default output size is the pooling's
input size: (in - 1)·stride - 2·padding + kernel_size per spatial dim.
"""

from __future__ import annotations

import math

from minidl.core import Function
from minidl.core.arguments import positive_size
from minidl.core.backend import array_module
from minidl.core.errors import ShapeError
from minidl.ops.conv import pair


class MaxUnpool(Function):
    """out = zeros with out[indices] = x (per (n, c) plane);  dL/dx = G[indices]"""

    def forward(self, x, indices, out_size):
        xp = array_module(x)
        planes = x.shape[0] * x.shape[1]
        flat_index = xp.asarray(indices).reshape(planes, -1)
        rows = xp.arange(planes)[:, None]
        out = xp.zeros((planes, math.prod(out_size)), dtype=x.dtype)
        out[rows, flat_index] = x.reshape(planes, -1)
        self.save(flat_index)
        self.x_shape = x.shape
        return out.reshape(x.shape[:2] + tuple(out_size))

    def backward(self, g):
        (flat_index,) = self.saved
        planes = flat_index.shape[0]
        rows = array_module(g).arange(planes)[:, None]
        return g.reshape(planes, -1)[rows, flat_index].reshape(self.x_shape)


def _output_size(x, spatial, kernel, stride, padding, output_size, op):
    """The output's spatial size: from ``output_size`` (spatial dims, or with N and C in front) or the default."""
    default = tuple((n - 1) * s - 2 * p + k for n, k, s, p in zip(x.shape[2:], kernel, stride, padding))
    if output_size is None:
        return default
    wanted = tuple(int(n) for n in output_size)
    if len(wanted) == spatial + 2:
        wanted = wanted[2:]
    if len(wanted) != spatial:
        raise ValueError(f"{op}: output_size must have {spatial} or {spatial + 2} entries, got {output_size!r}")
    for size, smallest, s in zip(wanted, default, stride):
        if not smallest - s < size < smallest + s:
            raise ValueError(f"{op}: output_size {wanted} is invalid: each size must lie strictly between "
                             f"{tuple(d - st for d, st in zip(default, stride))} and "
                             f"{tuple(d + st for d, st in zip(default, stride))} for input {tuple(x.shape)}")
    return wanted


def max_unpool(input, indices, kernel_size, stride, padding, output_size, spatial, op):  # noqa: A002
    """Max unpooling over ``spatial`` dims of batched or unbatched input; see the module docstring."""
    if input.ndim not in (spatial + 1, spatial + 2):
        raise ShapeError(f"{op}: expected {spatial + 1}-D (unbatched) or {spatial + 2}-D (batched) input, got "
                         f"shape {tuple(input.shape)}")
    if tuple(indices.shape) != tuple(input.shape):
        raise ShapeError(f"{op}: indices must have the input's shape {tuple(input.shape)}, got "
                         f"{tuple(indices.shape)}")
    if indices.dtype.kind not in "iu":
        raise TypeError(f"{op}: indices must be an integer tensor (from max_pool's return_indices), got dtype "
                        f"{indices.dtype}")
    if input.ndim == spatial + 1:
        out_size = None if output_size is None else tuple(output_size)[-spatial:]
        return max_unpool(input.unsqueeze(0), indices.unsqueeze(0), kernel_size, stride, padding, out_size,
                          spatial, op).squeeze(0)
    kernel = pair(kernel_size, "kernel_size", op, positive_size, spatial)
    stride = kernel if stride is None else pair(stride, "stride", op, positive_size, spatial)
    padding = pair(padding, "padding", op, count=spatial)
    out_size = _output_size(input, spatial, kernel, stride, padding, output_size, op)
    index = indices.array
    if index.size and (int(index.min()) < 0 or int(index.max()) >= math.prod(out_size)):
        raise IndexError(f"{op}: indices must lie in [0, {math.prod(out_size)}) for output size {out_size}, got "
                         f"values from {int(index.min())} to {int(index.max())}")
    return MaxUnpool.apply(input, indices=index, out_size=out_size)


def max_unpool1d(input, indices, kernel_size, stride=None, padding=0, output_size=None):  # noqa: A002
    """Partial inverse of max_pool1d: (N, C, L) or (C, L) values written back at their ``indices``."""
    return max_unpool(input, indices, kernel_size, stride, padding, output_size, 1, "max_unpool1d")


def max_unpool2d(input, indices, kernel_size, stride=None, padding=0, output_size=None):  # noqa: A002
    """Partial inverse of max_pool2d: (N, C, H, W) or (C, H, W) values written back at their ``indices``."""
    return max_unpool(input, indices, kernel_size, stride, padding, output_size, 2, "max_unpool2d")


def max_unpool3d(input, indices, kernel_size, stride=None, padding=0, output_size=None):  # noqa: A002
    """Partial inverse of max_pool3d: (N, C, D, H, W) or (C, D, H, W) values written back at their ``indices``."""
    return max_unpool(input, indices, kernel_size, stride, padding, output_size, 3, "max_unpool3d")
