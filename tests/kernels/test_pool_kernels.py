"""The max-pooling kernel (no copied windows; 2x2 windows on their corners, on threads) equals the
textbook windows-plus-argmax op: values, indices and gradients, with ties, NaN and ceil_mode."""

import numpy as np
import pytest

import minidl
import minidl.nn.functional as F
from minidl.kernels import pool as kernels
from minidl.testing.harness import compare_paths

CONFIGURATIONS = {  # input shape, options
    "2x2 (corner path)": ((3, 2, 8, 6), dict(kernel_size=2)),
    "2x2 on odd sizes": ((2, 2, 7, 5), dict(kernel_size=2)),
    "3x3 stride 2 padding 1": ((2, 3, 9, 9), dict(kernel_size=3, stride=2, padding=1)),
    "ceil_mode": ((2, 2, 7, 7), dict(kernel_size=3, stride=2, ceil_mode=True)),
    "dilation": ((1, 2, 9, 9), dict(kernel_size=2, stride=1, dilation=2)),
    "overlapping 3x3 stride 1": ((2, 1, 6, 6), dict(kernel_size=3, stride=1, padding=1)),
    "one image, one channel": ((1, 1, 4, 4), dict(kernel_size=2)),
}


def values(shape, dtype, kind, seed=0):
    rng = np.random.default_rng(seed)
    if kind == "ties":
        return rng.integers(-2, 3, shape).astype(dtype)
    array = rng.standard_normal(shape).astype(dtype)
    if kind == "nan":
        array[rng.random(shape) < 0.15] = np.nan
        array[rng.random(shape) < 0.1] = np.inf
    return array


def pool(options, return_indices):
    return lambda t: F.max_pool2d(t, **options, return_indices=return_indices)


@pytest.mark.parametrize("return_indices", [False, True], ids=["values", "indices"])
@pytest.mark.parametrize("kind", ["distinct", "ties", "nan"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["float64", "float32"])
@pytest.mark.parametrize("configuration", CONFIGURATIONS)
def test_max_pool_kernel_equals_textbook_exactly(configuration, dtype, kind, return_indices, thread_modes):
    shape, options = CONFIGURATIONS[configuration]
    x = values(shape, dtype, kind)
    ran = compare_paths(pool(options, return_indices), [x], what=f"max_pool2d {configuration}")
    assert ran == {kernels.MaxPool2d}


def test_max_pool_kernel_equals_textbook_on_a_strided_input():
    x = values((2, 2, 8, 16), np.float64, "distinct")[..., ::2]
    compare_paths(pool(dict(kernel_size=2), True), [x], what="max_pool2d")


def test_indices_come_back_only_when_asked_for():
    x = minidl.randn(1, 1, 4, 4, requires_grad=True)
    assert isinstance(F.max_pool2d(x, 2), minidl.Tensor)
    out, indices = F.max_pool2d(x, 2, return_indices=True)
    assert indices.dtype == np.int64 and not indices.requires_grad and out.requires_grad


def test_the_textbook_op_runs_with_kernels_off():
    x = minidl.randn(1, 1, 4, 4, requires_grad=True)
    assert type(F.max_pool2d(x, 2).grad_fn) is kernels.MaxPool2d
    with minidl.use_kernels(False):
        assert type(F.max_pool2d(x, 2).grad_fn) is minidl.ops.pool.MaxPool2d
