"""Sampling an image at given points (``grid_sample``) and the grids of affine maps (``affine_grid``),
as PyTorch's.

A grid point (gx, gy) in [-1, 1]² (-1 the left/top edge, 1 the right/bottom one) becomes a source position
in pixels, along each side of size S:
    align_corners:  p = (g + 1)/2 · (S - 1)          (±1 are the corner pixels' centres),  dp/dg = (S - 1)/2
    otherwise:      p = ((g + 1)·S - 1)/2             (±1 are the corner pixels' outer edges), dp/dg = S/2
'border' clamps p to [0, S - 1] (slope 0 where clamped); 'reflection' first mirrors p at the edges
(the centres with align_corners, else the outer edges; the slope changes sign with each mirror), then
clamps; 'zeros' reads 0 outside the image. With x0 = ⌊px⌋, y0 = ⌊py⌋, u = px - x0, v = py - y0,
    bilinear:  out = (1-u)(1-v)·I[y0, x0] + u(1-v)·I[y0, x0+1] + (1-u)v·I[y0+1, x0] + uv·I[y0+1, x0+1]
               ∂out/∂I[corner] = its weight;
               ∂out/∂px = (1-v)(I[y0, x0+1] - I[y0, x0]) + v(I[y0+1, x0+1] - I[y0+1, x0])  (likewise for py)
    nearest:   out = I[round(py), round(px)] (halves to even),  ∂out/∂I = 1 there,  ∂out/∂p = 0

``affine_grid`` maps the base grid of normalised pixel positions (x, y[, z], 1) by θ: grid = base · θᵀ,
a matmul, so its gradient comes from the matmul's.
"""

from __future__ import annotations

import numpy as np

from minidl.core import Function, arguments
from minidl.core.backend import array_module, scatter_add
from minidl.core.creation import tensor
from minidl.core.errors import ShapeError
from minidl.ops.common import is_tensor, tensor_argument

MODES = ("bilinear", "nearest")
PADDING_MODES = ("zeros", "border", "reflection")


def _clamped(p, size):
    """p clamped to [0, size - 1], and the slope of that (0 where clamped, PyTorch's choice at the ends)."""
    xp = array_module(p)
    return xp.clip(p, 0, size - 1), ((p > 0) & (p < size - 1)).astype(p.dtype)


def _reflected(p, twice_low, twice_high):
    """p mirrored into [low, high] at both ends as often as needed, and the slope (±1) of that."""
    xp = array_module(p)
    if twice_low == twice_high:
        return xp.zeros_like(p), xp.zeros_like(p)
    low, span = twice_low / 2, (twice_high - twice_low) / 2
    shifted = p - low
    sign = xp.where(shifted < 0, -1.0, 1.0).astype(p.dtype)
    distance = xp.abs(shifted)
    extra, flips = xp.fmod(distance, span), xp.floor(distance / span)
    even = flips % 2 == 0
    return xp.where(even, extra + low, span - extra + low), xp.where(even, sign, -sign)


def source_positions(g, size, padding_mode, align_corners):
    """Pixel positions p for normalised grid coordinates g along a side of ``size``, and dp/dg."""
    if align_corners:
        p, slope = (g + 1) / 2 * (size - 1), (size - 1) / 2
    else:
        p, slope = ((g + 1) * size - 1) / 2, size / 2
    if padding_mode == "zeros":
        return p, slope
    if padding_mode == "reflection":
        p, mirror = _reflected(p, 0, 2 * (size - 1)) if align_corners else _reflected(p, -1, 2 * size - 1)
        slope = slope * mirror
    p, kept = _clamped(p, size)
    return p, slope * kept


class GridSample(Function):
    """out[n, c, i, j] = I[n, c] read at grid[n, i, j] (bilinear or nearest); gradients for I and the grid
    (formulas in the module doc)."""

    name = "grid_sample"

    def forward(self, x, grid, mode, padding_mode, align_corners):
        xp = array_module(x)
        height, width = x.shape[2:]
        px, slope_x = source_positions(grid[..., 0], width, padding_mode, align_corners)
        py, slope_y = source_positions(grid[..., 1], height, padding_mode, align_corners)
        self.mode, self.image_shape = mode, x.shape
        image = x.transpose(0, 2, 3, 1)  # (N, H, W, C): a read at (n, y, x) gives the C values
        if mode == "nearest":
            corner = _corner(xp.rint(px), xp.rint(py), height, width)
            self.save(*corner)
            return _mixed(image, [corner], [corner[3]])
        x0, y0 = xp.floor(px), xp.floor(py)
        u, v = px - x0, py - y0
        corners = [_corner(x0 + dx, y0 + dy, height, width) for dy in (0, 1) for dx in (0, 1)]
        self.save(image, u, v, slope_x, slope_y, *[a for corner in corners for a in corner])
        return _mixed(image, corners, _bilinear_weights(u, v, corners))

    def backward(self, g):
        xp = array_module(g)
        g_last = g.transpose(0, 2, 3, 1)  # (N, Ho, Wo, C)
        if self.mode == "nearest":
            corners, weights = [self.saved], [self.saved[3]]
        else:
            image, u, v, slope_x, slope_y, *flat = self.saved
            corners = [flat[i:i + 4] for i in range(0, 16, 4)]
            weights = _bilinear_weights(u, v, corners)
        grad_image = _image_gradient(g_last, self.image_shape, corners, weights) if self.needs_grad[0] else None
        if not self.needs_grad[1]:
            return grad_image, None
        if self.mode == "nearest":
            return grad_image, xp.zeros(g.shape[:1] + g.shape[2:] + (2,), dtype=g.dtype)
        return grad_image, _grid_gradient(g_last, image, u, v, slope_x, slope_y, corners)


def _image_gradient(g_last, shape, corners, weights):
    """dL/dI: each output's gradient added, with its weight, to the pixels it read (as (N, C, H, W))."""
    xp = array_module(g_last)
    n, c, height, width = shape
    grad = xp.zeros((n, height, width, c), dtype=g_last.dtype)
    for (b, y, x, _), weight in zip(corners, weights):
        scatter_add(grad, (b, y, x), g_last * weight[..., None])
    return xp.ascontiguousarray(grad.transpose(0, 3, 1, 2))


def _grid_gradient(g_last, image, u, v, slope_x, slope_y, corners):
    """dL/dgrid = (Σ_c g·∂out/∂px · dpx/dgx, Σ_c g·∂out/∂py · dpy/dgy); corners outside the image read 0."""
    xp = array_module(g_last)
    v00, v01, v10, v11 = [image[b, y, x] * inside[..., None] for b, y, x, inside in corners]
    d_px = (1 - v)[..., None] * (v01 - v00) + v[..., None] * (v11 - v10)
    d_py = (1 - u)[..., None] * (v10 - v00) + u[..., None] * (v11 - v01)
    grad = xp.stack([(d_px * g_last).sum(-1) * slope_x, (d_py * g_last).sum(-1) * slope_y], axis=-1)
    return grad.astype(g_last.dtype)


def _corner(xs, ys, height, width):
    """One corner per point: its batch, row and column indices (clipped into the image) and 1.0 where it
    lies inside the image, 0.0 outside."""
    xp = array_module(xs)
    inside = ((xs >= 0) & (xs <= width - 1) & (ys >= 0) & (ys <= height - 1)).astype(xs.dtype)
    batch = xp.arange(xs.shape[0]).reshape(-1, 1, 1) + xp.zeros(xs.shape, dtype=np.int64)
    return (batch, xp.clip(ys, 0, height - 1).astype(np.int64), xp.clip(xs, 0, width - 1).astype(np.int64),
            inside)


def _bilinear_weights(u, v, corners):
    """The weights (1-u)(1-v), u(1-v), (1-u)v, uv of the corners (y0, x0), (y0, x1), (y1, x0), (y1, x1)."""
    return [(u if k % 2 else 1 - u) * (v if k // 2 else 1 - v) * corner[3] for k, corner in enumerate(corners)]


def _mixed(image, corners, weights):
    """Σ weight · image[corner], as (N, C, Ho, Wo)."""
    out = sum(image[b, y, x] * w[..., None] for (b, y, x, _), w in zip(corners, weights))  # (N, Ho, Wo, C)
    return array_module(out).ascontiguousarray(out.transpose(0, 3, 1, 2))


def grid_sample(input, grid, mode="bilinear", padding_mode="zeros", align_corners=None):  # noqa: A002
    """``input`` (N, C, H, W) read at the points of ``grid`` (N, Ho, Wo, 2), (x, y) in [-1, 1]: (N, C, Ho, Wo)."""
    op = "grid_sample"
    arguments.choice(mode, op, "mode", MODES + ("bicubic",))
    arguments.choice(padding_mode, op, "padding_mode", PADDING_MODES)
    if mode == "bicubic":
        raise NotImplementedError(f"{op}: mode 'bicubic' is not implemented in minidl (use 'bilinear' or 'nearest')")
    tensor_argument(input, op)
    tensor_argument(grid, op, "grid")
    if input.ndim != 4 or grid.ndim != 4 or grid.shape[-1] != 2 or grid.shape[0] != input.shape[0]:
        raise ShapeError(f"{op}: expected input (N, C, H, W) and grid (N, H_out, W_out, 2) with the same N, got "
                         f"input {tuple(input.shape)} and grid {tuple(grid.shape)} (only 4-D input is supported)")
    if input.dtype != grid.dtype:
        raise TypeError(f"{op}: input and grid must have the same dtype, got {input.dtype} and {grid.dtype}")
    if min(input.shape[2:]) < 1:
        raise ShapeError(f"{op}: input's height and width must be positive, got shape {tuple(input.shape)}")
    return GridSample.apply(input, grid, mode=mode, padding_mode=padding_mode, align_corners=bool(align_corners))


def _base_coordinates(size, align_corners):
    """The normalised centres of ``size`` pixels: from -1 to 1 (align_corners) or half a pixel inside; 0 for 1."""
    if size <= 1:
        return np.zeros(size)
    if align_corners:
        return np.linspace(-1.0, 1.0, size)
    return (np.arange(size) * 2 + 1) / size - 1


def affine_grid(theta, size, align_corners=None):
    """The sampling grid (N, H, W, 2), or (N, D, H, W, 3), of the affine maps ``theta`` (N, 2, 3) or (N, 3, 4)
    for an output of ``size`` (N, C, H, W) or (N, C, D, H, W): grid = (x, y[, z], 1) · θᵀ."""
    op = "affine_grid"
    size = tuple(int(s) for s in size)
    if len(size) not in (4, 5):
        raise ValueError(f"{op}: size must be (N, C, H, W) or (N, C, D, H, W), got {size}")
    spatial = len(size) - 2
    if not is_tensor(theta) or tuple(theta.shape) != (size[0], spatial, spatial + 1) or theta.dtype.kind != "f":
        raise ShapeError(f"{op}: expected a batch of {spatial}-D affine matrices of shape ({size[0]}, {spatial}, "
                         f"{spatial + 1}) for size {size}, got "
                         f"{tuple(theta.shape) if is_tensor(theta) else type(theta).__name__}")
    if min(size) < 0 or min(size[2:]) < 1:
        raise ValueError(f"{op}: size must hold positive spatial sizes, got {size}")
    axes = [_base_coordinates(s, bool(align_corners)) for s in reversed(size[2:])]  # x, y[, z]
    mesh = list(np.meshgrid(*reversed(axes), indexing="ij"))[::-1]  # each (D,) H, W; x first
    base = np.stack(mesh + [np.ones(size[2:])], axis=-1).reshape(1, -1, spatial + 1)
    base = tensor(base, device=theta.device).to(theta.dtype)
    grid = base.matmul(theta.transpose(1, 2))  # (N, D·H·W, spatial)
    return grid.reshape(size[:1] + size[2:] + (spatial,))
