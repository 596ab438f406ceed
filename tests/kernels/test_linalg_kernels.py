"""The matrix-product kernels (products shared out over minidl's threads) equal the textbook @."""

import numpy as np
import pytest

import minidl
import minidl.nn.functional as F
from minidl.kernels import linalg as kernels
from minidl.testing.harness import compare_paths

#: splitting the inner dimension over threads adds partial products in another order
TOLERANCE = {np.float64: dict(rtol=1e-11, atol=1e-12), np.float32: dict(rtol=2e-5, atol=2e-5)}
MATMUL_SHAPES = [((4,), (4,)), ((3,), (3, 5)), ((2, 3, 4), (4,)), ((6, 4), (4, 5)), ((2, 6, 4), (2, 4, 5)),
                 ((1, 6, 4), (3, 4, 5)), ((6, 4), (3, 4, 5)), ((2, 3, 6, 4), (4, 5)), ((0, 4), (4, 5)),
                 ((6, 0), (0, 5)), ((128, 64), (64, 96)), ((4, 2048), (2048, 3))]


def values(shape, dtype, seed):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["float64", "float32"])
@pytest.mark.parametrize("a_shape, b_shape", MATMUL_SHAPES, ids=str)
def test_matmul_kernel_equals_textbook(a_shape, b_shape, dtype, thread_modes):
    ran = compare_paths(minidl.matmul, [values(a_shape, dtype, 0), values(b_shape, dtype, 1)], **TOLERANCE[dtype],
                        what="matmul")
    assert ran == {kernels.MatMul}


def test_matmul_kernel_equals_textbook_on_transposed_and_strided_operands(thread_modes):
    a = values((8, 6), np.float64, 0).T                    # (6, 8), Fortran order
    b = values((8, 10), np.float64, 1)[:, ::2]             # (8, 5), strided
    compare_paths(minidl.matmul, [a, b], **TOLERANCE[np.float64], what="matmul")


@pytest.mark.parametrize("bias", [True, False], ids=["bias", "no bias"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["float64", "float32"])
@pytest.mark.parametrize("x_shape, out_features", [((5,), 4), ((1, 5), 4), ((7, 5), 4), ((2, 3, 5), 4), ((0, 5), 4),
                                                  ((256, 5), 4), ((3, 0), 4), ((3, 5), 0)], ids=str)
def test_linear_kernel_equals_textbook(x_shape, out_features, dtype, bias, thread_modes):
    arrays = [values(x_shape, dtype, 0), values((out_features, x_shape[-1]), dtype, 1)] + \
        ([values((out_features,), dtype, 2)] if bias else [])
    ran = compare_paths(F.linear, arrays, **TOLERANCE[dtype], what="linear")
    assert ran == {kernels.Linear}


def test_only_the_needed_gradients_are_computed_on_both_paths():
    x, w = values((3, 5), np.float64, 0), values((4, 5), np.float64, 1)
    compare_paths(F.linear, [x, w], requires_grad=[False, True], what="linear")


def test_the_textbook_ops_run_with_kernels_off():
    a = minidl.randn(2, 2, requires_grad=True)
    assert type((a @ a).grad_fn) is kernels.MatMul
    with minidl.use_kernels(False):
        assert type((a @ a).grad_fn) is minidl.ops.linalg.MatMul
        assert type(F.linear(a, a).grad_fn) is minidl.ops.linalg.Linear


def test_a_bias_of_another_dtype_is_refused_on_both_paths():
    x, w, b = minidl.randn(3, 2), minidl.randn(4, 2), minidl.randn(4).double()
    for kernels in (True, False):
        with minidl.use_kernels(kernels), pytest.raises(TypeError, match="bias dtype minidl.float64"):
            F.linear(x, w, b)
