"""PyTorch's legacy loss flags (size_average, reduce), the mse/l1 ``weight``, Embedding's options and the
norms' ``bias``: signatures equal torch's, and the same results."""

import inspect

import numpy as np
import pytest

import minidl
import minidl.nn as nn
import minidl.nn.functional as F
from minidl.core.errors import ShapeError

torch = pytest.importorskip("torch")

LOSS_FUNCTIONS = ["mse_loss", "l1_loss", "binary_cross_entropy", "binary_cross_entropy_with_logits", "cross_entropy",
                  "nll_loss", "kl_div", "embedding"]
MODULES = ["MSELoss", "L1Loss", "BCELoss", "BCEWithLogitsLoss", "CrossEntropyLoss", "NLLLoss", "KLDivLoss",
           "Embedding", "GroupNorm", "SyncBatchNorm", "LazyBatchNorm1d", "LazyBatchNorm2d", "LazyBatchNorm3d"]


def _parameters(fn):
    return [(p.name, p.default) for p in inspect.signature(fn).parameters.values()]


@pytest.mark.parametrize("name", LOSS_FUNCTIONS)
def test_functional_signature_equals_torch(name):
    assert _parameters(getattr(F, name)) == _parameters(getattr(torch.nn.functional, name))


@pytest.mark.parametrize("name", MODULES)
def test_module_signature_equals_torch(name):
    assert _parameters(getattr(nn, name).__init__) == _parameters(getattr(torch.nn, name).__init__)


def test_from_pretrained_signature_equals_torch():
    assert _parameters(nn.Embedding.from_pretrained) == _parameters(torch.nn.Embedding.from_pretrained)


def _pair(rng, shape, low=None):
    data = rng.uniform(0.05, 0.95, shape) if low else rng.standard_normal(shape)
    return minidl.tensor(data), torch.tensor(data)


FLAGS = [(None, None), (False, None), (True, None), (None, False), (False, False), (True, True), (False, True)]


@pytest.mark.parametrize("size_average, reduce", FLAGS)
@pytest.mark.parametrize("name", ["mse_loss", "l1_loss", "binary_cross_entropy", "binary_cross_entropy_with_logits",
                                  "kl_div"])
def test_legacy_flags_elementwise_losses(name, size_average, reduce):
    rng = np.random.default_rng(0)
    (x, tx), (y, ty) = _pair(rng, (3, 4), low=name == "binary_cross_entropy"), _pair(rng, (3, 4), low=True)
    ours = getattr(F, name)(x, y, size_average=size_average, reduce=reduce)
    theirs = getattr(torch.nn.functional, name)(tx, ty, size_average=size_average, reduce=reduce)
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-10)


@pytest.mark.parametrize("size_average, reduce", FLAGS)
@pytest.mark.parametrize("name", ["cross_entropy", "nll_loss"])
def test_legacy_flags_class_losses(name, size_average, reduce):
    rng = np.random.default_rng(1)
    x, tx = _pair(rng, (5, 3))
    labels = np.array([0, 2, 1, -100, 2])
    weight = rng.uniform(0.5, 2.0, 3)
    # positionally, as old programs write it: weight, size_average, ignore_index, reduce
    ours = getattr(F, name)(x, minidl.tensor(labels), minidl.tensor(weight), size_average, -100, reduce)
    theirs = getattr(torch.nn.functional, name)(tx, torch.tensor(labels), torch.tensor(weight), size_average, -100,
                                               reduce)
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-10)


@pytest.mark.parametrize("size_average, reduce", FLAGS)
@pytest.mark.parametrize("name", ["MSELoss", "L1Loss", "BCELoss", "BCEWithLogitsLoss", "KLDivLoss"])
def test_legacy_flags_loss_modules(name, size_average, reduce):
    rng = np.random.default_rng(2)
    (x, tx), (y, ty) = _pair(rng, (2, 3), low=True), _pair(rng, (2, 3), low=True)
    ours = getattr(nn, name)(size_average=size_average, reduce=reduce)
    theirs = getattr(torch.nn, name)(size_average=size_average, reduce=reduce)
    assert ours.reduction == theirs.reduction
    np.testing.assert_allclose(ours(x, y).numpy(), theirs(tx, ty).numpy(), rtol=1e-10)


def test_legacy_flags_class_loss_modules():
    assert nn.CrossEntropyLoss(None, False).reduction == "sum"
    assert nn.CrossEntropyLoss(None, None, -100, False).reduction == "none"
    assert nn.NLLLoss(size_average=True, reduce=False).reduction == "none"
    assert nn.BCELoss(size_average=False).reduction == torch.nn.BCELoss(size_average=False).reduction
    with pytest.raises(ValueError, match="MSELoss.*reduction"):
        nn.MSELoss(reduction="average")


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("name", ["mse_loss", "l1_loss"])
def test_elementwise_weight_matches_torch(name, reduction):
    rng = np.random.default_rng(3)
    (x, tx), (y, ty), (w, tw) = _pair(rng, (3, 4)), _pair(rng, (3, 4)), _pair(rng, (3, 4), low=True)
    x.requires_grad_(), tx.requires_grad_(), w.requires_grad_(), tw.requires_grad_()
    ours = getattr(F, name)(x, y, reduction=reduction, weight=w)
    theirs = getattr(torch.nn.functional, name)(tx, ty, reduction=reduction, weight=tw)
    np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(), rtol=1e-10)
    ours.sum().backward()
    theirs.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-10)
    np.testing.assert_allclose(w.grad.numpy(), tw.grad.numpy(), rtol=1e-10)


def test_elementwise_weight_of_another_shape_is_refused():
    x = minidl.randn(2, 3)
    with pytest.raises(ShapeError, match=r"mse_loss: weight shape \(3,\) must equal input shape \(2, 3\)"):
        F.mse_loss(x, x, weight=minidl.ones(3))


IDS = np.array([[0, 2, 0, 4], [1, 1, 2, 0]])


@pytest.mark.parametrize("options", [dict(), dict(scale_grad_by_freq=True), dict(max_norm=1.0),
                                     dict(max_norm=0.5, norm_type=1.0, scale_grad_by_freq=True),
                                     dict(max_norm=0.7, norm_type=float("inf")), dict(padding_idx=2, sparse=True)])
def test_embedding_options_match_torch(options):
    rng = np.random.default_rng(4)
    table = rng.standard_normal((5, 3)) * 2
    ours, theirs = minidl.tensor(table, requires_grad=True), torch.tensor(table, requires_grad=True)
    upstream = rng.standard_normal(IDS.shape + (3,))
    out = F.embedding(minidl.tensor(IDS), ours, **options)
    expected = torch.nn.functional.embedding(torch.tensor(IDS), theirs, **options)
    np.testing.assert_allclose(out.detach().numpy(), expected.detach().numpy(), rtol=1e-10)
    np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(), rtol=1e-10)  # renormed in place
    out.backward(minidl.tensor(upstream))
    expected.backward(torch.tensor(upstream))
    their_grad = theirs.grad.to_dense() if theirs.grad.is_sparse else theirs.grad  # minidl's is always dense
    np.testing.assert_allclose(ours.grad.numpy(), their_grad.numpy(), rtol=1e-10)


def test_embedding_module_options_match_torch():
    weights = np.random.default_rng(5).standard_normal((6, 4)).astype(np.float32) * 3
    ours = nn.Embedding(6, 4, 1, 1.5, 2.0, True, False, _weight=minidl.tensor(weights))
    theirs = torch.nn.Embedding(6, 4, 1, 1.5, 2.0, True, False, _weight=torch.tensor(weights))
    assert repr(ours) == repr(theirs)
    ours(minidl.tensor(IDS)).sum().backward()
    theirs(torch.tensor(IDS)).sum().backward()
    np.testing.assert_allclose(ours.weight.detach().numpy(), theirs.weight.detach().numpy(), rtol=1e-6)
    np.testing.assert_allclose(ours.weight.grad.numpy(), theirs.weight.grad.numpy(), rtol=1e-6)
    assert not nn.Embedding(3, 2, _freeze=True).weight.requires_grad


def test_embedding_from_pretrained():
    table = minidl.tensor(np.arange(6.0).reshape(3, 2))
    frozen = nn.Embedding.from_pretrained(table)
    assert not frozen.weight.requires_grad and frozen.weight.shape == (3, 2)
    np.testing.assert_array_equal(frozen(minidl.tensor([2, 0])).numpy(), [[4.0, 5.0], [0.0, 1.0]])
    trainable = nn.Embedding.from_pretrained(table, freeze=False, padding_idx=0, max_norm=1.0)
    assert trainable.weight.requires_grad and trainable.padding_idx == 0 and trainable.max_norm == 1.0
    with pytest.raises(ShapeError, match="from_pretrained: embeddings must be 2-D"):
        nn.Embedding.from_pretrained(minidl.zeros(3))
    with pytest.raises(ShapeError, match=r"Embedding: _weight must have shape \(3, 2\), got \(2, 2\)"):
        nn.Embedding(3, 2, _weight=minidl.zeros(2, 2))
    with pytest.raises(ValueError, match="max_norm must be at least 0"):
        nn.Embedding(3, 2, max_norm=-1.0)


def _copy_parameters(ours, theirs):
    for name, parameter in theirs.named_parameters():
        getattr(ours, name).array[...] = parameter.detach().numpy()


@pytest.mark.parametrize("make, shape", [
    (lambda lib, bias: lib.nn.GroupNorm(2, 4, bias=bias), (3, 4, 5)),
    (lambda lib, bias: lib.nn.SyncBatchNorm(4, bias=bias), (3, 4, 5)),
    (lambda lib, bias: lib.nn.LazyBatchNorm1d(bias=bias), (3, 4, 5)),
    (lambda lib, bias: lib.nn.LazyBatchNorm2d(bias=bias), (3, 4, 2, 2)),
    (lambda lib, bias: lib.nn.LazyBatchNorm3d(bias=bias), (3, 4, 2, 2, 2)),
])
@pytest.mark.parametrize("bias", [True, False])
def test_norm_bias_matches_torch(make, shape, bias):
    data = np.random.default_rng(6).standard_normal(shape).astype(np.float32)
    ours, theirs = make(minidl, bias), make(torch, bias)
    x, tx = minidl.tensor(data, requires_grad=True), torch.tensor(data, requires_grad=True)
    out, expected = ours(x), theirs(tx)
    assert sorted(ours.state_dict()) == sorted(theirs.state_dict())
    assert ("bias" in ours.state_dict()) is bias and (ours.bias is None) is not bias
    with torch.no_grad():
        theirs.weight.uniform_(0.5, 1.5)
    _copy_parameters(ours, theirs)
    out, expected = ours(x), theirs(tx)
    np.testing.assert_allclose(out.detach().numpy(), expected.detach().numpy(), rtol=1e-5, atol=1e-5)
    (out * out).sum().backward()
    (expected * expected).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-4, atol=1e-4)
