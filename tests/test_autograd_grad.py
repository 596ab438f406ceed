"""minidl.autograd.grad / backward / functional.jacobian / gradcheck, against .backward() and PyTorch."""

import numpy as np
import pytest

import minidl
from minidl import autograd
from minidl.core.errors import AutogradError, ShapeError


def leaves(seed=0, n=3):
    rng = np.random.default_rng(seed)
    return [minidl.tensor(rng.standard_normal(n), requires_grad=True) for _ in range(2)]


def test_grad_equals_backward_and_leaves_grad_untouched():
    x, w = leaves()
    x.grad = minidl.ones(3)
    before = x.grad.numpy().copy()
    y = ((x * w).tanh() * x).sum()
    gx, gw = autograd.grad(y, [x, w], retain_graph=True)
    np.testing.assert_array_equal(x.grad.numpy(), before)
    assert w.grad is None
    x.grad = None
    y.backward()
    np.testing.assert_allclose(gx.numpy(), x.grad.numpy(), rtol=1e-6)
    np.testing.assert_allclose(gw.numpy(), w.grad.numpy(), rtol=1e-6)
    assert gx.grad_fn is None and not gx.requires_grad


def test_second_call_without_retain_graph_raises():
    x, w = leaves()
    y = (x * w).sum()
    autograd.grad(y, x)
    with pytest.raises(AutogradError, match="retain_graph=True"):
        autograd.grad(y, x)


def test_allow_unused_and_materialize_grads():
    x, z = leaves()
    y = (x * x).sum()
    with pytest.raises(AutogradError, match="input 1 .*allow_unused=True"):
        autograd.grad(y, [x, z], retain_graph=True)
    gx, gz = autograd.grad(y, [x, z], allow_unused=True, retain_graph=True)
    assert gz is None
    gx, gz = autograd.grad(y, [x, z], materialize_grads=True, retain_graph=True)
    np.testing.assert_array_equal(gz.numpy(), np.zeros(3))
    with pytest.raises(ValueError, match="allow_unused"):
        autograd.grad(y, [x], materialize_grads=True, allow_unused=False)


def test_non_leaf_inputs_and_hooks():
    x, w = leaves()
    seen = []
    h = x * w
    h.register_hook(lambda g: seen.append("h"))
    x.register_hook(lambda g: g * 2)  # a leaf hook's result is the gradient grad returns, as in PyTorch
    w.register_post_accumulate_grad_hook(lambda p: seen.append("post"))
    y = (h * h).sum()
    gx, gh = autograd.grad(y, [x, h])
    np.testing.assert_allclose(gh.numpy(), 2 * (x * w).detach().numpy(), rtol=1e-6)
    np.testing.assert_allclose(gx.numpy(), 2 * 2 * (x * w * w).detach().numpy(), rtol=1e-6)
    assert seen == ["h"] and x.grad is None and w.grad is None


def test_grad_outputs_are_checked():
    x, _ = leaves()
    y = x * 2
    with pytest.raises(AutogradError, match="scalar outputs"):
        autograd.grad(y, x, retain_graph=True)
    with pytest.raises(ShapeError, match=r"\(2,\).*\(3,\)"):
        autograd.grad(y, x, minidl.ones(2), retain_graph=True)
    with pytest.raises(AutogradError, match="2 outputs and 1 gradients"):
        autograd.grad([y, y], x, [minidl.ones(3)], retain_graph=True)
    with pytest.raises(AutogradError, match="does not require grad"):
        autograd.grad(y, x.detach(), minidl.ones(3), retain_graph=True)
    with pytest.raises(AutogradError, match="element 0"):
        autograd.grad(minidl.ones(2), x, minidl.ones(2))
    with pytest.raises(AutogradError, match="cannot be empty"):
        autograd.grad(y, [], minidl.ones(3))
    with pytest.raises(NotImplementedError, match="create_graph"):
        autograd.grad(y, x, minidl.ones(3), create_graph=True)
    g, = autograd.grad(y, x, minidl.full((3,), 3.0))
    np.testing.assert_allclose(g.numpy(), np.full(3, 6.0))


def test_several_outputs_and_batched_grads():
    x, _ = leaves()
    g, = autograd.grad([(x * x).sum(), (x * 3).sum()], x)
    np.testing.assert_allclose(g.numpy(), 2 * x.detach().numpy() + 3, rtol=1e-6)
    rows, = autograd.grad(x * x, x, minidl.eye(3), is_grads_batched=True)
    np.testing.assert_allclose(rows.numpy(), np.diag(2 * x.detach().numpy()), rtol=1e-6)


def test_backward_function_and_tensor_backward_inputs():
    x, w = leaves()
    autograd.backward([(x * w).sum()], inputs=[x])
    np.testing.assert_allclose(x.grad.numpy(), w.detach().numpy())
    assert w.grad is None
    (x * w).sum().backward(inputs=w)
    np.testing.assert_allclose(w.grad.numpy(), x.detach().numpy())
    np.testing.assert_allclose(x.grad.numpy(), w.detach().numpy())  # unchanged
    autograd.backward([x * w, (x * 2).sum()], [minidl.ones(3), None])
    np.testing.assert_allclose(x.grad.numpy(), 2 * w.detach().numpy() + 2, rtol=1e-6)
    with pytest.raises(AutogradError, match="cannot be empty"):
        autograd.backward((x * w).sum(), inputs=[])


def test_jacobian_and_gradcheck():
    x, w = leaves()
    jx, jw = autograd.functional.jacobian(lambda a, b: a * b, (x, w))
    np.testing.assert_allclose(jx.numpy(), np.diag(w.detach().numpy()), rtol=1e-6)
    np.testing.assert_allclose(jw.numpy(), np.diag(x.detach().numpy()), rtol=1e-6)
    assert autograd.functional.jacobian(lambda a: a.sum(), x).shape == (3,)
    with pytest.raises(RuntimeError, match="independent of input 1"):
        autograd.functional.jacobian(lambda a, b: a * 2, (x, w), strict=True)
    x64 = minidl.randn(4, dtype=minidl.float64, requires_grad=True)
    assert autograd.gradcheck(lambda a: (a * a).tanh(), (x64,), eps=1e-6, atol=1e-5)
    with pytest.raises(NotImplementedError):
        autograd.gradgradcheck(lambda a: a * a, (x64,))


def test_parity_with_torch_on_a_small_mlp():
    torch = pytest.importorskip("torch", reason='parity needs PyTorch: pip install -e ".[torch]"')
    rng = np.random.default_rng(1)
    arrays = [rng.standard_normal(s).astype(np.float32) for s in [(5, 4), (4, 6), (6,), (6, 2)]]
    ours = [minidl.tensor(a, requires_grad=True) for a in arrays]
    theirs = [torch.tensor(a, requires_grad=True) for a in arrays]

    def loss(lib, x, w1, b1, w2):
        hidden = lib.tanh(x @ w1 + b1)
        return (hidden @ w2).pow(2).mean(), hidden
    ours_loss, ours_hidden = loss(minidl, *ours)
    theirs_loss, theirs_hidden = loss(torch, *theirs)
    mine = autograd.grad(ours_loss, ours[1:] + [ours_hidden])
    reference = torch.autograd.grad(theirs_loss, theirs[1:] + [theirs_hidden])
    for a, b in zip(mine, reference):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-5, atol=1e-6)
