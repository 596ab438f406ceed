"""nn.utils.parametrize: layout, forward and gradients as PyTorch's, right_inverse, caching, removal."""

import numpy as np
import pytest

import minidl
from minidl import nn
from minidl.nn.utils import parametrize

torch = pytest.importorskip("torch", reason='parity needs PyTorch: pip install -e ".[torch]"')


class Symmetric(nn.Module):
    def forward(self, X):
        return X.triu() + X.triu(1).transpose(-1, -2)

    def right_inverse(self, A):
        return A.triu()


class TorchSymmetric(torch.nn.Module):
    def forward(self, X):
        return X.triu() + X.triu(1).transpose(-1, -2)

    def right_inverse(self, A):
        return A.triu()


class Scale(nn.Module):
    def forward(self, X):
        return X * 3.0


class TorchScale(torch.nn.Module):
    def forward(self, X):
        return X * 3.0


def _pair():
    ours, theirs = nn.Linear(4, 4), torch.nn.Linear(4, 4)
    with torch.no_grad():
        theirs.weight.copy_(torch.tensor(ours.weight.detach().numpy()))
        theirs.bias.copy_(torch.tensor(ours.bias.detach().numpy()))
    return ours, theirs


@pytest.mark.parametrize("chain", [False, True], ids=["symmetric", "symmetric-then-scale"])
def test_layout_forward_and_gradients_match_pytorch(chain):
    ours, theirs = _pair()
    weight = ours.weight
    parametrize.register_parametrization(ours, "weight", Symmetric())
    torch.nn.utils.parametrize.register_parametrization(theirs, "weight", TorchSymmetric())
    if chain:
        parametrize.register_parametrization(ours, "weight", Scale())
        torch.nn.utils.parametrize.register_parametrization(theirs, "weight", TorchScale())
    assert list(ours.state_dict()) == list(theirs.state_dict()) == ["bias", "parametrizations.weight.original"]
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    assert ours.parametrizations.weight.original is weight  # the same Parameter: optimizers keep working
    assert type(ours).__name__ == "ParametrizedLinear" and isinstance(ours, nn.Linear)
    assert parametrize.type_before_parametrizations(ours) is nn.Linear
    np.testing.assert_allclose(ours.weight.detach().numpy(), theirs.weight.detach().numpy(), rtol=1e-6)
    x = np.random.default_rng(0).standard_normal((3, 4)).astype(np.float32)
    out, expected = ours(minidl.tensor(x)), theirs(torch.tensor(x))
    np.testing.assert_allclose(out.detach().numpy(), expected.detach().numpy(), rtol=1e-5, atol=1e-6)
    (out ** 2).sum().backward()
    (expected ** 2).sum().backward()
    np.testing.assert_allclose(ours.parametrizations.weight.original.grad.numpy(),
                               theirs.parametrizations.weight.original.grad.numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(ours.bias.grad.numpy(), theirs.bias.grad.numpy(), rtol=1e-5, atol=1e-6)


def test_state_dict_loads_from_pytorch():
    ours, theirs = _pair()
    parametrize.register_parametrization(ours, "weight", Symmetric())
    torch.nn.utils.parametrize.register_parametrization(theirs, "weight", TorchSymmetric())
    with torch.no_grad():
        theirs.parametrizations.weight.original.mul_(2)
    ours.load_state_dict({k: minidl.tensor(v.numpy()) for k, v in theirs.state_dict().items()})
    np.testing.assert_allclose(ours.weight.detach().numpy(), theirs.weight.detach().numpy(), rtol=1e-6)


def test_assignment_goes_through_right_inverse():
    layer = nn.Linear(3, 3)
    parametrize.register_parametrization(layer, "weight", Symmetric())
    target = np.array([[1, 2, 3], [2, 4, 5], [3, 5, 6]], dtype=np.float32)
    layer.weight = minidl.tensor(target)
    np.testing.assert_array_equal(layer.parametrizations.weight.original.detach().numpy(), np.triu(target))
    np.testing.assert_array_equal(layer.weight.detach().numpy(), target)
    parametrize.register_parametrization(layer, "weight", Scale())
    with pytest.raises(RuntimeError, match="Scale does not implement right_inverse"):
        layer.weight = minidl.tensor(target)


def test_cached_computes_each_tensor_once_per_block():
    layer = nn.Linear(3, 3)
    parametrize.register_parametrization(layer, "weight", Symmetric())
    assert layer.weight is not layer.weight
    with parametrize.cached():
        assert layer.weight is layer.weight
    assert layer.weight is not layer.weight


@pytest.mark.parametrize("leave_parametrized", [True, False])
def test_remove_parametrizations_matches_pytorch(leave_parametrized):
    ours, theirs = _pair()
    parametrize.register_parametrization(ours, "weight", Symmetric())
    torch.nn.utils.parametrize.register_parametrization(theirs, "weight", TorchSymmetric())
    assert parametrize.is_parametrized(ours) and parametrize.is_parametrized(ours, "weight")
    assert not parametrize.is_parametrized(ours, "bias")
    parametrize.remove_parametrizations(ours, "weight", leave_parametrized=leave_parametrized)
    torch.nn.utils.parametrize.remove_parametrizations(theirs, "weight", leave_parametrized=leave_parametrized)
    assert type(ours) is nn.Linear and not parametrize.is_parametrized(ours)
    assert list(ours.state_dict()) == list(theirs.state_dict()) == ["bias", "weight"]
    assert isinstance(ours.weight, nn.Parameter)
    np.testing.assert_allclose(ours.weight.detach().numpy(), theirs.weight.detach().numpy(), rtol=1e-6)


def test_a_buffer_stays_a_buffer():
    norm = nn.BatchNorm1d(3)
    parametrize.register_parametrization(norm, "running_var", Scale())
    assert "parametrizations.running_var.original" in norm.state_dict()
    np.testing.assert_allclose(norm.running_var.numpy(), 3.0)
    parametrize.remove_parametrizations(norm, "running_var")
    assert "running_var" in dict(norm.named_buffers())


def test_bad_inputs_are_clear_errors():
    layer = nn.Linear(3, 2)
    with pytest.raises(ValueError, match="no parameter or buffer with name 'weights'"):
        parametrize.register_parametrization(layer, "weights", Scale())
    with pytest.raises(TypeError, match="parametrization must be a Module"):
        parametrize.register_parametrization(layer, "weight", lambda w: w)

    class Flatten(nn.Module):
        def forward(self, X):
            return X.reshape(-1)
    with pytest.raises(ValueError, match=r"may not change the dtype or shape .* shape \(6,\)"):
        parametrize.register_parametrization(layer, "weight", Flatten())
    assert not parametrize.is_parametrized(layer) and type(layer) is nn.Linear
    parametrize.register_parametrization(layer, "weight", Flatten(), unsafe=True)
    assert layer.weight.shape == (6,)
    with pytest.raises(ValueError, match="does not have a parametrization on bias"):
        parametrize.remove_parametrizations(layer, "bias")
