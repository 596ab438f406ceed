"""The harness and gradcheck can fail: deliberately broken ops are caught."""

import numpy as np
import pytest

import minidl
from minidl.harness import Example, OpCase, check_forward, check_gradient, examples, single
from minidl.ops.activation import Softmax
from minidl.ops.linalg import MatMul
from minidl.testing import GradcheckError, gradcheck


class ZeroGradSoftmax(Softmax):
    """A softmax whose backward forgets everything."""

    def backward(self, g):
        return g * 0


class ForgetfulMatMul(MatMul):
    """A matmul whose backward forgets a transpose: G @ B instead of G @ Bᵀ."""

    def backward(self, g):
        a, b = self.saved
        return g @ b, a.T @ g


def _softmax_reference(x, dim):
    e = np.exp(x - x.max(dim, keepdims=True))
    return e / e.sum(dim, keepdims=True)


EXAMPLE = Example(((3, 4),), {"dim": 1}, seed=1)


def test_zero_gradient_softmax_is_caught_by_random_vectors():
    case = OpCase("broken_softmax", lambda x, dim: ZeroGradSoftmax.apply(x, dim=dim), _softmax_reference,
                  examples(single()))
    with pytest.raises(GradcheckError, match=r"input 0, element \(\d+, \d+\): analytical -?0 vs numerical"):
        check_gradient(case, EXAMPLE)


def test_checking_only_the_sum_would_miss_the_broken_softmax():
    x = minidl.randn(3, 4, dtype=minidl.float64, requires_grad=True)
    # rows of a softmax always sum to 1, so d(sum)/dx is 0 for the correct and the broken op alike
    assert gradcheck(lambda t: ZeroGradSoftmax.apply(t, dim=1).sum(), [x])


def test_matmul_missing_a_transpose_is_caught():
    a, b = (minidl.randn(3, 3, dtype=minidl.float64, requires_grad=True) for _ in range(2))
    with pytest.raises(GradcheckError, match="input 0"):
        gradcheck(lambda x, y: ForgetfulMatMul.apply(x, y), [a, b])
    assert gradcheck(lambda x, y: x @ y, [a, b])


def test_wrong_forward_is_caught():
    case = OpCase("off_by_one", lambda x: x + 1e-3, lambda x: x, examples(single()))
    with pytest.raises(AssertionError, match="forward"):
        check_forward(case, Example(((2, 2),), seed=0))


def test_upcasting_float32_is_caught():
    case = OpCase("upcast", lambda x: x.double(), lambda x: x, examples(single()))
    with pytest.raises(AssertionError, match="float32 input gave a float64 output"):
        check_forward(case, Example(((2, 2),), seed=0))


def test_host_array_on_the_strict_device_is_caught():
    case = OpCase("host_mix", lambda x: x + minidl.Tensor(np.ones(x.shape, dtype=x.dtype)), lambda x: x + 1, examples(single()))
    check_forward(case, Example(((2, 2),), seed=0), device="cpu")
    with pytest.raises(minidl.DeviceError, match="add: expected all tensors on the same device.*strict.*cpu"):
        check_forward(case, Example(((2, 2),), seed=0), device="strict")


def test_implicit_numpy_conversion_on_the_strict_device_is_caught():
    case = OpCase("implicit_numpy", lambda x: minidl.Tensor(np.asarray(x.data) * 2), lambda x: 2 * x,
                  examples(single()))
    with pytest.raises(TypeError, match="Implicit conversion"):
        check_forward(case, Example(((2, 2),), seed=0), device="strict")


def test_gradcheck_refuses_float32_naming_the_input():
    x = minidl.randn(3, requires_grad=True)
    with pytest.raises(TypeError, match="input 0 has dtype float32"):
        gradcheck(lambda t: t * 2, [x])
