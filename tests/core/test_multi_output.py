"""Functions with several outputs: each output is a Tensor of the one node, backward gets one
gradient per output (None where none flowed), and non-differentiable outputs stay plain."""

import numpy as np
import pytest

import minidl
from minidl.core import AutogradError, Function
from minidl.testing import gradcheck


class SplitHalves(Function):
    """(a, b) = (x[:n], 2·x[n:]);  dL/dx = [ga, 2·gb]"""

    def forward(self, x):
        self.half, self.rest = len(x) // 2, len(x) - len(x) // 2
        return x[:self.half].copy(), 2 * x[self.half:]

    def backward(self, grad_a, grad_b):
        a = np.zeros(self.half) if grad_a is None else grad_a
        b = np.zeros(self.rest) if grad_b is None else 2 * grad_b
        return np.concatenate([a, b])


class WithStatistics(Function):
    """(y, mean) = (x - mean, mean): mean is reported, not differentiated"""

    non_differentiable = (1,)

    def forward(self, x):
        mean = x.mean(keepdims=True)
        return x - mean, mean

    def backward(self, g, g_mean):
        assert g_mean is None
        return g - g.mean(keepdims=True)


class ArgmaxToo(Function):
    """(max, argmax): the integer output never carries a gradient"""

    def forward(self, x):
        index = x.argmax(keepdims=True)
        self.save(index)
        self.size = x.size
        return x.max(keepdims=True), index

    def backward(self, g, g_index):
        (index,) = self.saved
        grad = np.zeros(self.size)
        grad[index] = g
        return grad


def test_each_output_is_a_tensor_of_the_same_node():
    x = minidl.tensor([1.0, 2.0, 3.0, 4.0], dtype=minidl.float64, requires_grad=True)
    a, b = SplitHalves.apply(x)
    assert a.grad_fn is b.grad_fn is not None
    assert a.tolist() == [1.0, 2.0] and b.tolist() == [6.0, 8.0]


def test_backward_gets_one_gradient_per_output_and_none_for_unused_ones():
    x = minidl.tensor([1.0, 2.0, 3.0, 4.0], dtype=minidl.float64, requires_grad=True)
    a, b = SplitHalves.apply(x)
    (a * 3).sum().backward()
    assert x.grad.tolist() == [3.0, 3.0, 0.0, 0.0]
    x.grad = None
    a, b = SplitHalves.apply(x)
    (a.sum() + (b * b).sum()).backward()
    assert x.grad.tolist() == [1.0, 1.0, 2 * 2 * 6.0, 2 * 2 * 8.0]


def test_gradients_of_one_output_reached_twice_are_summed_before_backward():
    x = minidl.tensor([1.0, 2.0, 3.0, 4.0], dtype=minidl.float64, requires_grad=True)
    a, b = SplitHalves.apply(x)
    (a.sum() + (a * a).sum() + b.sum()).backward()
    assert x.grad.tolist() == [3.0, 5.0, 2.0, 2.0]


def test_gradcheck_through_every_output():
    x = minidl.tensor(np.random.default_rng(0).standard_normal(6), requires_grad=True)
    assert gradcheck(lambda t: SplitHalves.apply(t), (x,))


def test_a_non_differentiable_output_is_a_plain_tensor():
    x = minidl.tensor([1.0, 2.0, 6.0], dtype=minidl.float64, requires_grad=True)
    y, mean = WithStatistics.apply(x)
    assert y.requires_grad and not mean.requires_grad and mean.grad_fn is None
    assert mean.tolist() == [3.0]
    with pytest.raises(AutogradError, match="does not require grad"):
        mean.backward()
    y.backward(minidl.ones_like(y))
    np.testing.assert_allclose(x.grad.numpy(), [0.0, 0.0, 0.0], atol=1e-15)


def test_an_integer_output_carries_no_gradient():
    x = minidl.tensor([1.0, 5.0, 3.0], dtype=minidl.float64, requires_grad=True)
    values, index = ArgmaxToo.apply(x)
    assert index.dtype == np.int64 and not index.requires_grad
    values.sum().backward()
    assert x.grad.tolist() == [0.0, 1.0, 0.0]


def test_without_grad_the_outputs_come_back_unrecorded():
    x = minidl.tensor([1.0, 2.0, 3.0, 4.0], requires_grad=True)
    with minidl.no_grad():
        a, b = SplitHalves.apply(x)
    assert a.grad_fn is None and b.grad_fn is None and not a.requires_grad


def test_an_output_saved_for_backward_is_version_checked():
    class KeepsOutput(Function):
        def forward(self, x):
            y = 2 * x
            self.save(y)
            return y, x.sum(keepdims=True)

        def backward(self, g, g_total):
            (y,) = self.saved
            return 2 * g if g is not None else np.zeros_like(y)

    x = minidl.tensor([1.0, 2.0], requires_grad=True)
    y, total = KeepsOutput.apply(x)
    with minidl.no_grad():
        y.add_(1.0)
    with pytest.raises(AutogradError, match="modified by an in-place operation"):
        y.sum().backward()
