"""Tensor.register_post_accumulate_grad_hook, which DistributedDataParallel starts its buckets from: the hook
runs once per backward, after the leaf's gradient is complete, as PyTorch's."""

import numpy as np
import pytest

import minidl
from minidl.core.errors import AutogradError


def test_the_hook_sees_the_complete_gradient_of_a_leaf_used_several_times():
    a = minidl.tensor([1.0, 2.0], requires_grad=True)
    b = minidl.tensor([3.0, 4.0], requires_grad=True)
    seen = []
    a.register_post_accumulate_grad_hook(lambda t: seen.append(("a", t.grad.tolist())))
    b.register_post_accumulate_grad_hook(lambda t: seen.append(("b", t.grad.tolist())))
    ((a * b + a * a).sum() * (2 * b).sum()).backward()
    # d/da = (b + 2a)·Σ2b = [5, 8]·14;  d/db = a·Σ2b + 2·Σ(ab + a²) = [14, 28] + 2·16
    assert sorted(seen) == [("a", [70.0, 112.0]), ("b", [46.0, 60.0])]


def test_hooks_run_in_backward_order_and_see_accumulated_gradients():
    first = minidl.tensor([1.0], dtype=minidl.float64, requires_grad=True)
    second = minidl.tensor([2.0], dtype=minidl.float64, requires_grad=True)
    order = []
    first.register_post_accumulate_grad_hook(lambda t: order.append(("first", t.grad.item())))
    second.register_post_accumulate_grad_hook(lambda t: order.append(("second", t.grad.item())))
    hidden = (first * 3).exp()
    loss = (hidden * second).sum()
    loss.backward(retain_graph=True)
    loss.backward()
    e3 = float(np.exp(3.0))
    assert order == [("second", e3), ("first", 6 * e3), ("second", 2 * e3), ("first", 12 * e3)]


def test_a_removed_hook_and_an_unreached_leaf_run_nothing():
    used = minidl.tensor([1.0], requires_grad=True)
    unused = minidl.tensor([1.0], requires_grad=True)
    calls = []
    handle = used.register_post_accumulate_grad_hook(calls.append)
    unused.register_post_accumulate_grad_hook(calls.append)
    (used * 2).sum().backward()
    assert calls == [used]
    handle.remove()
    (used * 2).sum().backward()
    assert calls == [used]
    with used.register_post_accumulate_grad_hook(calls.append):
        used.backward(minidl.ones(1))  # the leaf is its own root
    assert calls == [used, used] and used.grad.item() == 5.0


def test_hooks_only_on_leaves_that_require_grad():
    leaf = minidl.tensor([1.0], requires_grad=True)
    with pytest.raises(AutogradError, match="cannot be registered on non-leaf tensors"):
        (leaf * 2).register_post_accumulate_grad_hook(print)
    with pytest.raises(AutogradError, match="doesn't require gradient"):
        minidl.tensor([1.0]).register_post_accumulate_grad_hook(print)
    with pytest.raises(TypeError, match="hook must be callable, got int"):
        leaf.register_post_accumulate_grad_hook(3)


def test_pytorch_calls_the_hook_at_the_same_points():
    torch = pytest.importorskip("torch", reason='parity needs PyTorch: pip install -e ".[torch]"')
    calls = {}
    for lib in (torch, minidl):
        w = lib.tensor([0.5, -1.0], requires_grad=True)
        seen = []
        w.register_post_accumulate_grad_hook(lambda t: seen.append(t.grad.tolist()))
        for _ in range(2):
            ((w * w).sum() + (w * 3).sum()).backward()
        calls[lib.__name__] = seen
    assert calls["minidl"] == calls["torch"]
