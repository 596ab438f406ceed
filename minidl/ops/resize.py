"""Resizing images and sequences: ``interpolate`` (nearest, nearest-exact, linear, bilinear, area).

The modes are separable: each resized dim is resized on its own. Along one dim, output
position i reads at most two input positions i0, i1 with weights λ0, λ1::

    y_i = λ0_i·x_{i0} + λ1_i·x_{i1}

a linear map y = A x whose (out × in) matrix A holds those two entries in row i. With
``scale`` = in/out (or 1/scale_factor when a scale factor is given, PyTorch's rule):

* nearest:        i0 = min(⌊i·scale⌋, in - 1),  λ0 = 1  (i0 = i when out = in, i//2 when out = 2·in)
* nearest-exact:  i0 = min(⌊s + ½⌋, in - 1) with s as for linear below (the pixel centre's nearest)
* linear:         the source coordinate s = scale·(i + ½) - ½, clamped at 0
                  (align_corners: s = i·(in - 1)/(out - 1), the corner pixels' centres line up);
                  i0 = ⌊s⌋, i1 = min(i0 + 1, in - 1), λ1 = s - i0, λ0 = 1 - λ1
* bilinear:       linear along W, then along H:
                  y = λ0ʰ(λ0ʷ x00 + λ1ʷ x01) + λ1ʰ(λ0ʷ x10 + λ1ʷ x11)
* area:           adaptive average pooling to the output size (``minidl/ops/pool.py``).

The backward is the transposed map, dL/dx = Aᵀ g per dim: every output's gradient goes
back to its (at most two) sources, with their weights. The index arithmetic follows
PyTorch's CPU kernels, float32 rounding included, so the same pixels are picked. (For
'nearest', PyTorch's 3-D forward alone skips the two special cases out = in and out = 2·in
that its 4-D forward and every backward make, so its 3-D gradient is not the adjoint of its
forward when a scale factor such as 1.2 rounds to out = in; minidl uses the special cases
throughout, forward and backward.)
"""

from __future__ import annotations

import math
import numbers

import numpy as np

from minidl.core import Function
from minidl.core.backend import device_of, to_device
from minidl.core.errors import ShapeError
from minidl.ops.pool import adaptive_avg_pool2d

MODES = {"nearest": (3, 4), "nearest-exact": (3, 4), "linear": (3,), "bilinear": (4,), "area": (3, 4)}
NOT_SUPPORTED = ("bicubic", "trilinear")  # PyTorch modes minidl does not implement


class Resize(Function):
    """y = A x along each resized dim (last dim first), as y_i = λ0_i·x[i0_i] + λ1_i·x[i1_i];
    dL/dx = Aᵀ g along each dim (first dim first): the gradient of y_i goes to i0_i and i1_i, weighted"""

    def forward(self, x, sizes=(), scales=(), mode="nearest", align_corners=False):
        self.settings = (x.shape, sizes, scales, mode, align_corners)
        for axis in range(-1, -len(sizes) - 1, -1):
            x = _mix(x, axis, *sources(x.shape[axis], sizes[axis], scales[axis], mode, align_corners, x.dtype))
        return x

    def backward(self, g):
        shape, sizes, scales, mode, align_corners = self.settings
        for axis in range(-len(sizes), 0):
            matrix = _matrix(shape[axis], *sources(shape[axis], sizes[axis], scales[axis], mode, align_corners,
                                                   g.dtype))
            matrix = to_device(matrix.astype(g.dtype), device_of(g))
            g = g @ matrix if axis == -1 else matrix.T @ g                 # Aᵀ g along this dim
        return (g,)


def sources(in_size, out_size, scale_factor, mode, align_corners, dtype=np.float64):
    """(i0, i1, λ0, λ1) for each output position of one dim (i1 and λs None for the nearest modes).

    The arithmetic follows PyTorch's CPU kernels: positions in the input's precision (float32 for
    float32 inputs), each rounded to float32 before it is floored.
    """
    if mode == "nearest":
        return nearest_sources(in_size, out_size, scale_factor), None, None, None
    real = np.float32 if np.dtype(dtype).itemsize < 8 else np.float64
    positions = np.arange(out_size)
    if mode != "nearest-exact" and out_size == in_size:  # linear, bilinear
        return positions, positions, np.ones(out_size), np.zeros(out_size)  # the identity, whatever the scale
    if align_corners:  # the corners' centres line up: s = i·(in - 1)/(out - 1)
        scale = real(in_size - 1) / real(out_size - 1) if out_size > 1 else real(0)
        source = positions.astype(real) * scale
    else:              # s = scale·(i + ½) - ½, clamped at 0
        scale = real(1.0 / scale_factor) if scale_factor else real(in_size) / real(out_size)
        source = np.maximum(scale * (positions.astype(real) + real(0.5)) - real(0.5), real(0))
    if mode == "nearest-exact":
        index = np.floor((source + real(0.5)).astype(np.float32))
        return np.minimum(index.astype(np.int64), in_size - 1), None, None, None
    index0 = np.minimum(np.floor(source.astype(np.float32)).astype(np.int64), in_size - 1)
    lambda1 = np.clip(source - index0, 0, 1)
    return index0, np.minimum(index0 + 1, in_size - 1), 1 - lambda1, lambda1


def nearest_sources(in_size, out_size, scale_factor):
    """i0 = min(⌊i·scale⌋, in - 1) in float32 arithmetic; i itself when out = in and i//2 when
    out = 2·in, whatever the scale factor (PyTorch's rule for 'nearest', in its backward and its
    4-D forward)."""
    positions = np.arange(out_size)
    if out_size == in_size:
        return positions
    if out_size == 2 * in_size:
        return positions // 2
    scale = np.float32(1.0 / scale_factor) if scale_factor else np.float32(in_size) / np.float32(out_size)
    return np.minimum(np.floor(positions.astype(np.float32) * scale).astype(np.int64), in_size - 1)


def _mix(x, axis, index0, index1, lambda0, lambda1):
    """y_i = λ0_i·x[i0_i] + λ1_i·x[i1_i] along ``axis`` (-1 or -2); y_i = x[i0_i] for the nearest modes."""
    def take(index):
        return x[..., index] if axis == -1 else x[..., index, :]
    if lambda0 is None:
        return take(index0)
    shape = (-1,) if axis == -1 else (-1, 1)
    weight0, weight1 = (to_device(w.astype(x.dtype).reshape(shape), device_of(x)) for w in (lambda0, lambda1))
    return take(index0) * weight0 + take(index1) * weight1


def _matrix(in_size, index0, index1, lambda0, lambda1):
    """The (out × in) matrix A of one dim: λ0_i at (i, i0_i), plus λ1_i at (i, i1_i)."""
    rows = np.arange(len(index0))
    matrix = np.zeros((len(index0), in_size))
    matrix[rows, index0] = 1.0 if lambda0 is None else lambda0
    if lambda1 is not None:
        matrix[rows, index1] += lambda1
    return matrix


def interpolate(input, size=None, scale_factor=None, mode="nearest", align_corners=None,  # noqa: A002
                recompute_scale_factor=None, antialias=False):
    """Resize (N, C, L) or (N, C, H, W) input to ``size`` or by ``scale_factor`` (exactly one of them),
    as ``torch.nn.functional.interpolate``: modes 'nearest', 'nearest-exact' and 'area' (3-D and 4-D),
    'linear' (3-D) and 'bilinear' (4-D); ``align_corners`` only for the last two (default False).

    With ``scale_factor`` the output size is ⌊in·scale_factor⌋ and the source positions use
    1/scale_factor (unless ``recompute_scale_factor=True``: in/out), as in PyTorch.
    """
    op = "interpolate"
    if not isinstance(mode, str) or mode not in MODES:
        if mode in NOT_SUPPORTED:
            raise NotImplementedError(f"{op}: mode {mode!r} is not implemented in minidl; supported modes: "
                                      f"{', '.join(map(repr, MODES))}")
        raise ValueError(f"{op}: mode must be one of {', '.join(map(repr, MODES))}, got {mode!r}")
    if input.ndim not in MODES[mode]:
        ranks = " or ".join(f"{n}-D" for n in MODES[mode])
        raise ShapeError(f"{op}: mode {mode!r} needs {ranks} input ((N, C, L) is 3-D, (N, C, H, W) 4-D), got "
                         f"input of shape {input.shape}")
    if mode in ("nearest", "nearest-exact", "area"):
        if align_corners is not None:
            raise ValueError(f"{op}: align_corners can only be set with the interpolating modes 'linear' and "
                             f"'bilinear', got align_corners={align_corners!r} with mode {mode!r}")
    elif align_corners is None:
        align_corners = False
    if antialias:
        raise NotImplementedError(f"{op}: antialias=True is not implemented in minidl")
    spatial = tuple(input.shape[2:])
    if min(spatial) < 1:
        raise ShapeError(f"{op}: input sizes must be greater than 0, got input of shape {input.shape}")
    sizes, scales = _sizes_and_scales(size, scale_factor, recompute_scale_factor, spatial)
    if mode == "area":
        if input.ndim == 3:
            return adaptive_avg_pool2d(input.unsqueeze(2), (1,) + sizes).squeeze(2)
        return adaptive_avg_pool2d(input, sizes)
    return Resize.apply(input, sizes=sizes, scales=scales, mode=mode, align_corners=bool(align_corners))


def _sizes_and_scales(size, scale_factor, recompute_scale_factor, spatial):
    """The output size of each spatial dim and the scale factor its source positions use (None: in/out)."""
    op, dims = "interpolate", len(spatial)
    if size is not None and scale_factor is not None:
        raise ValueError(f"{op}: only one of size or scale_factor should be defined, got size={size!r} and "
                         f"scale_factor={scale_factor!r}")
    if size is None and scale_factor is None:
        raise ValueError(f"{op}: either size or scale_factor should be defined")
    if size is not None:
        if recompute_scale_factor:
            raise ValueError(f"{op}: recompute_scale_factor is not meaningful with an explicit size")
        sizes = _per_dim(size, "size", spatial)
        for n in sizes:
            if isinstance(n, bool) or not isinstance(n, numbers.Integral) or n < 1:
                raise ValueError(f"{op}: size must be positive ints, got size={size!r}")
        return tuple(int(n) for n in sizes), (None,) * dims
    factors = _per_dim(scale_factor, "scale_factor", spatial)
    for factor in factors:
        if isinstance(factor, bool) or not isinstance(factor, numbers.Real) or not factor > 0 or \
                not math.isfinite(factor):
            raise ValueError(f"{op}: scale_factor must be positive numbers, got scale_factor={scale_factor!r}")
    sizes = tuple(int(math.floor(n * float(f))) for n, f in zip(spatial, factors))
    if min(sizes, default=1) < 1:
        raise ShapeError(f"{op}: scale_factor={scale_factor!r} makes input size {spatial} empty (output size "
                         f"{sizes})")
    scales = (None,) * dims if recompute_scale_factor else tuple(float(f) for f in factors)
    return sizes, scales


def _per_dim(value, name, spatial):
    """``value`` repeated for every spatial dim, or checked to have one entry per spatial dim."""
    if isinstance(value, (list, tuple)):
        if len(value) != len(spatial):
            raise ShapeError(f"interpolate: input and {name} must have the same number of spatial dims: input "
                             f"spatial size {spatial}, {name} {tuple(value)}")
        return tuple(value)
    return (value,) * len(spatial)
