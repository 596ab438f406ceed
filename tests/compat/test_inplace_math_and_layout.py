"""In-place math methods and memory queries as PyTorch's: same values, same gradients through the
recorded edit, and the layout answers PyTorch gives for the same shapes."""

import numpy as np
import pytest

import minidl

torch = pytest.importorskip("torch", reason='parity needs PyTorch: pip install -e ".[torch]"')

X = np.random.default_rng(0).uniform(0.2, 2.0, (3, 4))

EDITS = {
    "exp_": lambda t, lib: t.exp_(),
    "log_": lambda t, lib: t.log_(),
    "sqrt_": lambda t, lib: t.sqrt_(),
    "pow_": lambda t, lib: t.pow_(3),
    "abs_neg_": lambda t, lib: t.neg_().abs_(),
    "sigmoid_": lambda t, lib: t.sigmoid_(),
    "tanh_": lambda t, lib: t.tanh_(),
    "relu_": lambda t, lib: (t - 1).relu_(),
    "clamp_min_max_": lambda t, lib: t.clamp_min_(0.5).clamp_max_(1.5),
    "lerp_": lambda t, lib: t.lerp_(lib.full((3, 4), 2.0, dtype=lib.float64), 0.25),
    "addcmul_addcdiv_": lambda t, lib: t.addcmul_(t.detach(), t.detach(), value=0.5).addcdiv_(
        lib.ones(3, 4, dtype=lib.float64), t.detach() + 1, value=2),
    "index_add_": lambda t, lib: t.index_add_(0, lib.tensor([2, 0, 2]), lib.ones(3, 4, dtype=lib.float64), alpha=3),
    "index_fill_": lambda t, lib: t.index_fill_(1, lib.tensor([0, 3]), -1.0),
    "scatter_add_": lambda t, lib: t.scatter_add_(1, lib.tensor([[0, 0], [1, 3], [2, 2]]),
                                                  lib.ones(3, 2, dtype=lib.float64)),
    "fill_diagonal_": lambda t, lib: t.fill_diagonal_(7.0),
}


@pytest.mark.parametrize("name", EDITS)
def test_in_place_math_matches_pytorch_in_values_and_gradients(name):
    results = []
    for lib in (minidl, torch):
        leaf = lib.tensor(X, dtype=lib.float64, requires_grad=True)
        edited = leaf * 1
        EDITS[name](edited, lib)
        weights = lib.tensor(np.arange(12.0).reshape(3, 4) / 7, dtype=lib.float64)
        (edited * weights).sum().backward()
        results.append((edited.detach().numpy(), leaf.grad.numpy()))
    np.testing.assert_allclose(results[0][0], results[1][0], rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(results[0][1], results[1][1], rtol=1e-12, atol=1e-12)


def test_in_place_edit_outside_the_graph_and_on_a_leaf():
    x = minidl.tensor(X)
    assert x.exp_() is x and np.allclose(x.numpy(), np.exp(X))
    leaf = minidl.tensor(X, requires_grad=True)
    with pytest.raises(minidl.AutogradError, match="exp_: a leaf tensor that requires grad"):
        leaf.exp_()
    tall = minidl.zeros(7, 3)
    tall.fill_diagonal_(5.0, wrap=True)
    theirs = torch.zeros(7, 3)
    theirs.fill_diagonal_(5.0, wrap=True)
    assert np.array_equal(tall.numpy(), theirs.numpy())


@pytest.mark.parametrize("make", [lambda lib: lib.zeros(2, 3, 4), lambda lib: lib.zeros(2, 3, 4).transpose(0, 2),
                                  lambda lib: lib.zeros(5, 6)[:, 1:4], lambda lib: lib.zeros(4, dtype=lib.float64)])
def test_layout_answers_equal_pytorchs(make):
    ours, theirs = make(minidl), make(torch)
    assert ours.stride() == theirs.stride() and ours.is_contiguous() == theirs.is_contiguous()
    assert ours.element_size() == theirs.element_size() and ours.ndimension() == theirs.ndimension()
    assert ours.is_cuda == theirs.is_cuda and ours.get_device() == theirs.get_device()
    assert ours.pin_memory() is ours and not ours.is_pinned() and ours.share_memory_() is ours


def test_random_fills_and_small_casts():
    g = minidl.Generator().manual_seed(0)
    coins = minidl.empty(20_000).bernoulli_(0.25, generator=g)
    assert set(np.unique(coins.numpy())) <= {0.0, 1.0} and abs(float(coins.mean()) - 0.25) < 0.02
    waits = minidl.empty(20_000).exponential_(2.0, generator=g)
    assert abs(float(waits.mean()) - 0.5) < 0.02
    dice = minidl.empty(1000).random_(1, 7, generator=g)
    assert set(np.unique(dice.numpy())) == {1, 2, 3, 4, 5, 6}
    x = minidl.tensor([1.5, -2.0])
    assert x.byte().dtype is minidl.uint8 and x.char().dtype is minidl.int8 and x.short().dtype is minidl.int16
    with pytest.raises(TypeError, match="bfloat16.*use minidl.float32"):
        x.bfloat16()
    y = (x * 2).detach_()
    assert y.grad_fn is None and not y.requires_grad
