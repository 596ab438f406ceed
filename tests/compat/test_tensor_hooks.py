"""Tensor.register_hook as PyTorch's: hooks see a tensor's gradient (a leaf's summed over its paths,
once per backward), may replace it, and are removed by their handle."""

import numpy as np
import pytest

import minidl

torch = pytest.importorskip("torch", reason='parity needs PyTorch: pip install -e ".[torch]"')


def _run(lib):
    seen = []
    x = lib.tensor([1.0, -2.0, 3.0], dtype=lib.float64, requires_grad=True)
    w = lib.tensor([0.5, 0.25, 2.0], dtype=lib.float64, requires_grad=True)
    x.register_hook(lambda g: seen.append(("x", g.tolist())))
    handle = w.register_hook(lambda g: g * 10)
    h = x * w
    h.register_hook(lambda g: seen.append(("h", g.tolist())) or g + 1)
    y = (h * x).sum() + (x * 3).sum()  # x is used on three paths: its hook sees the sum once
    y.backward()
    first = (x.grad.numpy().copy(), w.grad.numpy().copy())
    handle.remove()
    x.grad, w.grad = None, None
    (x * w).sum().backward()
    return seen, first, (x.grad.numpy(), w.grad.numpy())


def test_hooks_see_and_replace_gradients_as_pytorchs():
    ours, theirs = _run(minidl), _run(torch)
    assert ours[0] == theirs[0]
    for mine, reference in zip(ours[1] + ours[2], theirs[1] + theirs[2]):
        np.testing.assert_allclose(mine, reference, rtol=1e-12)


def test_a_hook_on_a_leaf_runs_before_post_accumulate_hooks_and_errors_are_clear():
    order = []
    x = minidl.ones(2, requires_grad=True)
    x.register_hook(lambda g: order.append("grad") or g * 2)
    x.register_post_accumulate_grad_hook(lambda t: order.append(("after", t.grad.tolist())))
    (x + x).sum().backward()
    assert order == ["grad", ("after", [4.0, 4.0])]
    with pytest.raises(minidl.AutogradError, match="register_hook: cannot register a hook on a tensor that "
                                                   "doesn't require gradient"):
        minidl.ones(2).register_hook(print)
    x.register_hook(lambda g: minidl.ones(3))
    with pytest.raises(ValueError, match=r"hook: a gradient hook returned shape \(3,\) for a gradient of shape "
                                         r"\(2,\)"):
        (x * 1).sum().backward()
