"""minidl.testing.gradcheck: passes for correct gradients, catches wrong ones, refuses misuse."""

import numpy as np
import pytest

import minidl
from minidl.testing import GradcheckError, gradcheck


def inputs(*shapes, seed=0, device="cpu", requires_grad=True):
    rng = np.random.default_rng(seed)
    return tuple(minidl.tensor(rng.standard_normal(s), device=device, requires_grad=requires_grad)
                 for s in shapes)


class SquareHalfGrad(minidl.Function):
    """z = x², with a wrong backward (x instead of 2x)."""

    def forward(self, x):
        self.save(x)
        return x * x

    def backward(self, g):
        (x,) = self.saved
        return g * x


class SoftmaxZeroGrad(minidl.Function):
    """softmax whose backward returns zeros: passes a check of out.sum() only."""

    def forward(self, x):
        e = np.exp(x - x.max(axis=-1, keepdims=True))
        return e / e.sum(axis=-1, keepdims=True)

    def backward(self, g):
        return g * 0


class MulSwappedGrads(minidl.Function):
    """z = x * y with the two gradients swapped (right only when x == y)."""

    def forward(self, x, y):
        self.save(x, y)
        return x * y

    def backward(self, g):
        x, y = self.saved
        return g * x, g * y


# --- passes ---------------------------------------------------------------------------------------

def test_passes_for_single_input():
    (x,) = inputs((3, 4))
    assert gradcheck(lambda x: (x * x.exp()).tanh(), x) is True   # a bare tensor is accepted


def test_passes_for_multiple_inputs_with_broadcasting():
    a, b, c = inputs((3, 1), (1, 4), (4,))
    assert gradcheck(lambda a, b, c: (a * b + c).sigmoid() / (1 + c * c), (a, b, c))


def test_passes_for_multiple_outputs():
    a, b = inputs((2, 3), (3,))
    assert gradcheck(lambda a, b: (a * b, (a - b).sum(dim=0), a.softmax(dim=1)), (a, b))


def test_passes_with_inputs_that_do_not_require_grad_and_non_tensors():
    (a,) = inputs((2, 3))
    (c,) = inputs((2, 3), seed=1, requires_grad=False)
    assert gradcheck(lambda a, c, k, name: (a * c).sum(dim=k) ** 2, (a, c, 1, "label"))


def test_passes_for_output_not_depending_on_an_input():
    a, b = inputs((3,), (3,))
    assert gradcheck(lambda a, b: (a.exp(), minidl.tensor(np.ones(2))), (a, b))


def test_large_input_uses_directional_mode():
    (x,) = inputs((5000,))
    assert gradcheck(lambda x: (x * x).tanh() * 0.5, (x,))


def test_passes_on_strict_device():
    a, b = inputs((2, 3), (3,), device="strict")
    assert a.device == "strict"
    assert gradcheck(lambda a, b: (a @ b).exp() + a.sum(), (a, b))


def test_does_not_touch_the_callers_grads():
    (a,) = inputs((3,))
    gradcheck(lambda a: a * a, (a,))
    assert a.grad is None


# --- failures -----------------------------------------------------------------------------------

def test_fails_for_a_wrong_custom_function():
    (x,) = inputs((3,))
    with pytest.raises(GradcheckError, match=r"input 0, element \(\d+,\).*analytical.*numerical"):
        gradcheck(lambda x: SquareHalfGrad.apply(x), (x,))
    assert issubclass(GradcheckError, AssertionError)


def test_fails_for_a_wrong_second_input():
    a, b = inputs((3,), (3,))
    with pytest.raises(GradcheckError, match=r"input [01]"):
        gradcheck(lambda a, b: MulSwappedGrads.apply(a, b), (a, b))


def test_fails_for_wrong_gradient_in_second_output():
    a, b = inputs((3,), (3,))
    with pytest.raises(GradcheckError):
        gradcheck(lambda a, b: (a * b, SquareHalfGrad.apply(b)), (a, b))


def test_catches_softmax_with_zero_backward():
    # out.sum() of a softmax is constant, so only random output vectors catch this
    (x,) = inputs((2, 3))
    with pytest.raises(GradcheckError):
        gradcheck(lambda x: SoftmaxZeroGrad.apply(x), (x,), full_jacobian_max=0)


def test_fails_in_directional_mode_for_large_input():
    (x,) = inputs((5000,))
    with pytest.raises(GradcheckError, match="direction"):
        gradcheck(lambda x: SquareHalfGrad.apply(x), (x,))


def test_fails_on_strict_device():
    (x,) = inputs((4,), device="strict")
    with pytest.raises(GradcheckError):
        gradcheck(lambda x: SquareHalfGrad.apply(x), (x,))


def test_raise_exception_false_returns_false():
    (x,) = inputs((3,))
    assert gradcheck(lambda x: SquareHalfGrad.apply(x), (x,), raise_exception=False) is False
    assert gradcheck(lambda x: x * x, (x,), raise_exception=False) is True


# --- misuse -------------------------------------------------------------------------------------

def test_refuses_float32_naming_the_input_index():
    (a,) = inputs((2,))
    b = minidl.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(TypeError, match=r"input 1 has dtype minidl.float32"):
        gradcheck(lambda a, b: a * b, (a, b))
    with pytest.raises(TypeError, match=r"input 0 has dtype minidl.float32"):
        gradcheck(lambda b: b * 2, (b,))


def test_float32_input_without_grad_is_allowed():
    (a,) = inputs((2,))
    c = minidl.tensor([1.0, 2.0])                # float32 but not checked
    assert gradcheck(lambda a, c: a * c.double(), (a, c))


def test_error_when_no_input_requires_grad():
    (a,) = inputs((2,), requires_grad=False)
    with pytest.raises(ValueError, match="no input requires grad"):
        gradcheck(lambda a: a * 2, (a,))


def test_error_when_fn_returns_no_tensor():
    (a,) = inputs((2,))
    with pytest.raises(TypeError, match="must return a tensor"):
        gradcheck(lambda a: 3.0, (a,))
