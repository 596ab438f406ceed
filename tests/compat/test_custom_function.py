"""Custom gradients in PyTorch's style (``ctx``), as PyTorch's own tutorial teaches them: the same
class body runs on minidl and on PyTorch, with the same results and gradients."""

import numpy as np
import pytest

import minidl
from minidl.testing.gradients import gradcheck


def make_functions(library):
    class LegendrePolynomial3(library.autograd.Function):
        """P3(x) = (5x³ - 3x)/2, PyTorch's tutorial example."""

        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return 0.5 * (5 * x ** 3 - 3 * x)

        @staticmethod
        def backward(ctx, grad_output):
            (x,) = ctx.saved_tensors
            return grad_output * 1.5 * (5 * x ** 2 - 1)

    class ScaledReLU(library.autograd.Function):
        """A non-tensor argument (its gradient None), an in-place edit of a clone, needs_input_grad."""

        @staticmethod
        def forward(ctx, x, scale, y):
            ctx.save_for_backward(x, y)
            ctx.scale = scale
            return x.clamp(min=0) * scale + y * y

        @staticmethod
        def backward(ctx, grad_output):
            x, y = ctx.saved_tensors
            grad_x = grad_output.clone()
            grad_x[x < 0] = 0
            grad_y = 2 * y * grad_output if ctx.needs_input_grad[2] else None
            return grad_x * ctx.scale, None, grad_y

    class SplitHalves(library.autograd.Function):
        """Two outputs, one of them unused: its gradient arrives as zeros."""

        @staticmethod
        def forward(ctx, x):
            half = x.shape[0] // 2
            return x[:half] * 2, x[half:] * 3

        @staticmethod
        def backward(ctx, grad_first, grad_second):
            return library.cat([grad_first * 2, grad_second * 3])

    return LegendrePolynomial3, ScaledReLU, SplitHalves


def run(library):
    legendre, scaled_relu, split = make_functions(library)
    x = library.tensor([-1.5, -0.2, 0.3, 2.0], requires_grad=True)
    y = library.tensor([0.5, -1.0, 2.0, 1.0], requires_grad=True)
    out = legendre.apply(x).sum() + scaled_relu.apply(x, 2.5, y).sum() + split.apply(x)[0].sum()
    out.backward()
    return [out.item(), x.grad.tolist(), y.grad.tolist()]


def test_pytorch_style_functions_give_the_derived_gradients():
    value, x_grad, y_grad = run(minidl)
    x = np.array([-1.5, -0.2, 0.3, 2.0])
    expected_x = 1.5 * (5 * x ** 2 - 1) + 2.5 * (x > 0) + np.array([2, 2, 0, 0])
    np.testing.assert_allclose(x_grad, expected_x, rtol=1e-6)
    np.testing.assert_allclose(y_grad, 2 * np.array([0.5, -1.0, 2.0, 1.0]), rtol=1e-6)


def test_pytorch_style_functions_match_pytorch():
    torch = pytest.importorskip("torch", reason='parity needs PyTorch: pip install -e ".[torch]"')
    np.testing.assert_allclose(np.hstack([np.ravel(v) for v in run(minidl)]),
                               np.hstack([np.ravel(v) for v in run(torch)]), rtol=1e-5)


def test_a_pytorch_style_function_passes_a_float64_gradient_check():
    legendre, _, _ = make_functions(minidl)
    x = minidl.tensor(np.random.default_rng(0).standard_normal(5), requires_grad=True)
    assert gradcheck(lambda t: legendre.apply(t), [x])


def test_backward_with_the_wrong_number_of_gradients_is_named():
    class Bad(minidl.autograd.Function):
        @staticmethod
        def forward(ctx, x, scale):
            return x * scale

        @staticmethod
        def backward(ctx, grad_output):
            return grad_output  # forgot the None for scale

    x = minidl.ones(2, requires_grad=True)
    with pytest.raises(TypeError, match=r"Bad.backward returned 1 gradients, but forward took 2 arguments"):
        Bad.apply(x, 2.0).sum().backward()
