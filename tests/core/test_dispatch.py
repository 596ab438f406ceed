"""The kernel registry: a kernel replaces its textbook op while kernels are on, in one place."""

import numpy as np
import pytest

import minidl
from minidl.core import Function, dispatch


class Double(Function):
    """y = 2x;  dy/dx = 2"""

    def forward(self, x):
        return 2 * x

    def backward(self, g):
        return 2 * g


class FastDouble(Double):
    def forward(self, x):
        return x + x


@pytest.fixture
def registered_double(monkeypatch):
    monkeypatch.setattr(dispatch, "_kernels", {})
    dispatch.register(Double, FastDouble)


def test_the_kernel_runs_while_kernels_are_on_and_the_textbook_op_when_off(registered_double):
    x = minidl.tensor([1.0, 2.0], requires_grad=True)
    assert type(Double.apply(x).grad_fn) is FastDouble
    with minidl.use_kernels(False):
        assert type(Double.apply(x).grad_fn) is Double
        assert not minidl.kernels_enabled()
    assert minidl.kernels_enabled()
    assert type(Double.apply(x).grad_fn) is FastDouble


def test_use_kernels_as_a_call_switches_until_switched_back(registered_double):
    try:
        minidl.use_kernels(False)
        assert dispatch.choose(Double) is Double
    finally:
        minidl.use_kernels(True)
    assert dispatch.choose(Double) is FastDouble


def test_use_kernels_blocks_nest_and_restore(registered_double):
    with minidl.use_kernels(False):
        with minidl.use_kernels(True):
            assert dispatch.choose(Double) is FastDouble
        assert dispatch.choose(Double) is Double
    assert dispatch.choose(Double) is FastDouble


def test_a_kernel_keeps_its_ops_name(registered_double):
    assert FastDouble.name == Double.name == "double"


def test_a_kernel_must_subclass_the_op_it_replaces(monkeypatch):
    monkeypatch.setattr(dispatch, "_kernels", {})

    class Unrelated(Function):
        pass
    with pytest.raises(TypeError, match="must be a subclass"):
        dispatch.register(Double, Unrelated)


def test_an_op_gets_one_kernel(registered_double):
    class Another(Double):
        pass
    with pytest.raises(ValueError, match="already has the kernel"):
        dispatch.register(Double, Another)


def test_plain_functions_can_be_replaced_too(monkeypatch):
    monkeypatch.setattr(dispatch, "_kernels", {})

    def textbook(a):
        return a + 1

    def fused(a):
        return a + 1.0
    dispatch.register(textbook, fused)
    assert dispatch.choose(textbook) is fused
    with minidl.use_kernels(False):
        assert dispatch.choose(textbook) is textbook


def test_use_kernels_refuses_anything_but_a_bool():
    with pytest.raises(TypeError, match="True or False"):
        minidl.use_kernels("no")
    assert minidl.kernels_enabled()


def test_both_paths_compute_the_same_here(registered_double):
    x = minidl.tensor(np.arange(4.0), requires_grad=True)
    fast = Double.apply(x)
    fast.sum().backward()
    with minidl.use_kernels(False):
        plain = Double.apply(x)
    np.testing.assert_array_equal(fast.numpy() if not fast.requires_grad else fast.detach().numpy(),
                                  plain.detach().numpy())
