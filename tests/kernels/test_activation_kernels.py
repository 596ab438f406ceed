"""The activation kernels (minidl/kernels/activation.py) equal their textbook ops: ReLU exactly,
softmax and log-softmax within float tolerances (a shared shift and BLAS row sums add in another order)."""

import numpy as np
import pytest

import minidl
import minidl.nn.functional as F
from minidl.kernels import activation as kernels
from minidl.testing.harness import compare_paths
from conftest import strided

SHAPES = [(0, 5), (1,), (1, 1), (7, 13), (4, 3, 9), (64, 32, 16)]
#: a shared shift and BLAS row sums add in another order; the backward's y·(g - Σ g·y) cancels
TOLERANCE = {np.float64: dict(rtol=1e-12, atol=1e-14), np.float32: dict(rtol=2e-5, atol=2e-6)}


def values(shape, dtype, seed=0, noncontiguous=False, spread=3.0):
    rng = np.random.default_rng(seed)
    array = (rng.standard_normal(shape) * spread).astype(dtype)
    return strided(array) if noncontiguous else array


@pytest.mark.parametrize("noncontiguous", [False, True], ids=["contiguous", "strided"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["float64", "float32"])
@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_relu_kernel_equals_textbook_exactly(shape, dtype, noncontiguous, thread_modes):
    x = values(shape, dtype, noncontiguous=noncontiguous)
    if x.size:
        x.flat[0] = 0.0  # the gradient at exactly 0 is 0 on both paths
    ran = compare_paths(minidl.relu, [x], what="relu")
    assert ran == {kernels.ReLU}


@pytest.mark.parametrize("function", [F.softmax, F.log_softmax], ids=["softmax", "log_softmax"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["float64", "float32"])
@pytest.mark.parametrize("shape, dim", [((1,), 0), ((7, 13), -1), ((7, 13), 0), ((4, 3, 9), 1), ((0, 4), 1),
                                        ((32, 4, 16, 16), -1)], ids=str)
def test_softmax_kernels_equal_textbook(function, shape, dim, dtype, thread_modes):
    x = values(shape, dtype, noncontiguous=len(shape) > 1)
    ran = compare_paths(lambda t: function(t, dim=dim), [x], **TOLERANCE[dtype], what=function.__name__)
    assert ran == ({kernels.Softmax} if function is F.softmax else {kernels.LogSoftmax})


@pytest.mark.parametrize("function", [F.softmax, F.log_softmax], ids=["softmax", "log_softmax"])
def test_softmax_kernels_fall_back_to_row_maxima_for_wide_ranges(function):
    """Values 300 apart: a shared shift would underflow whole rows, so the kernel shifts each row."""
    x = values((6, 5), np.float64, spread=300.0)
    compare_paths(lambda t: function(t, dim=1), [x], **TOLERANCE[np.float64], what=function.__name__)


def test_the_textbook_op_runs_with_kernels_off():
    x = minidl.tensor([[-1.0, 2.0]], requires_grad=True)
    assert type(minidl.relu(x).grad_fn) is kernels.ReLU
    with minidl.use_kernels(False):
        assert type(minidl.relu(x).grad_fn) is minidl.ops.activation.ReLU
        assert type(F.softmax(x, dim=1).grad_fn) is minidl.ops.activation.Softmax
