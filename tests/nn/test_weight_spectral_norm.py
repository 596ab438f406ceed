"""weight_norm and spectral_norm: PyTorch's state layout, forwards and gradients (float64, the same
weights and power-iteration start), and remove_* giving back a plain weight."""

import numpy as np
import pytest

import minidl
from minidl import nn
from minidl.nn.utils import remove_spectral_norm, remove_weight_norm, spectral_norm, weight_norm

torch = pytest.importorskip("torch", reason='parity needs PyTorch: pip install -e ".[torch]"')
pytestmark = pytest.mark.filterwarnings("ignore::FutureWarning")  # PyTorch deprecates its hook API

RNG = np.random.default_rng(11)


def linear_pair(in_features=3, out_features=4):
    ours = nn.Linear(in_features, out_features).to(minidl.float64)
    theirs = torch.nn.Linear(in_features, out_features).double()
    with torch.no_grad():
        theirs.weight.copy_(torch.tensor(ours.weight.array))
        theirs.bias.copy_(torch.tensor(ours.bias.array))
    return ours, theirs


def conv_pair():
    ours = nn.Conv1d(2, 3, 2).to(minidl.float64)
    theirs = torch.nn.Conv1d(2, 3, 2).double()
    with torch.no_grad():
        theirs.weight.copy_(torch.tensor(ours.weight.array))
        theirs.bias.copy_(torch.tensor(ours.bias.array))
    return ours, theirs


def forward_and_grads(ours, theirs, x, names):
    out_ours, out_theirs = ours(minidl.tensor(x)), theirs(torch.tensor(x))
    np.testing.assert_allclose(out_ours.array, out_theirs.detach().numpy(), rtol=1e-10, atol=1e-12)
    (out_ours * out_ours).sum().backward()
    (out_theirs * out_theirs).sum().backward()
    for name in names:
        np.testing.assert_allclose(getattr(ours, name).grad.array, getattr(theirs, name).grad.numpy(),
                                   rtol=1e-9, atol=1e-12, err_msg=name)


@pytest.mark.parametrize("dim", [0, 1, None, -1])
def test_weight_norm_matches_torch(dim):
    ours, theirs = conv_pair()
    weight_norm(ours, dim=dim)
    torch.nn.utils.weight_norm(theirs, dim=dim)
    assert list(ours.state_dict()) == list(theirs.state_dict()) == ["bias", "weight_g", "weight_v"]
    assert tuple(ours.weight_g.shape) == tuple(theirs.weight_g.shape)
    np.testing.assert_allclose(ours.weight_g.array, theirs.weight_g.detach().numpy(), rtol=1e-12)
    forward_and_grads(ours, theirs, RNG.standard_normal((2, 2, 5)), ["weight_g", "weight_v", "bias"])


def test_weight_norm_follows_g_and_remove_restores_a_parameter():
    ours, theirs = linear_pair()
    weight_norm(ours)
    ours.weight_g.array[...] *= 2
    ours(minidl.tensor(RNG.standard_normal((2, 3))))
    np.testing.assert_allclose(ours.weight.array, 2 * theirs.weight.detach().numpy(), rtol=1e-12)
    remove_weight_norm(ours)
    assert list(ours.state_dict()) == ["bias", "weight"]
    assert isinstance(ours.weight, nn.Parameter) and not ours._forward_pre_hooks
    np.testing.assert_allclose(ours.weight.array, 2 * theirs.weight.detach().numpy(), rtol=1e-12)


def test_weight_norm_bad_input():
    module = weight_norm(nn.Linear(2, 2))
    with pytest.raises(RuntimeError, match="two weight_norm hooks"):
        weight_norm(module)
    with pytest.raises(ValueError, match="weight_norm of 'weight' not found"):
        remove_weight_norm(nn.Linear(2, 2))
    with pytest.raises(IndexError, match="dim 3"):
        weight_norm(nn.Linear(2, 2), dim=3)


def copy_power_iteration_start(ours, theirs):
    for name in ("weight_u", "weight_v"):
        getattr(ours, name).array[...] = getattr(theirs, name).numpy()


@pytest.mark.parametrize("make, n_power_iterations", [(linear_pair, 1), (conv_pair, 3)])
def test_spectral_norm_matches_torch(make, n_power_iterations):
    ours, theirs = make()
    spectral_norm(ours, n_power_iterations=n_power_iterations)
    torch.nn.utils.spectral_norm(theirs, n_power_iterations=n_power_iterations)
    assert list(ours.state_dict()) == list(theirs.state_dict()) == ["bias", "weight_orig", "weight_u", "weight_v"]
    assert [name for name, _ in ours.named_parameters()] == ["bias", "weight_orig"]
    copy_power_iteration_start(ours, theirs)
    shape = (2, 3) if make is linear_pair else (2, 2, 5)
    for _ in range(3):
        ours.zero_grad(), theirs.zero_grad()
        forward_and_grads(ours, theirs, RNG.standard_normal(shape), ["weight_orig", "bias"])
        np.testing.assert_allclose(ours.weight_u.array, theirs.weight_u.numpy(), rtol=1e-10, atol=1e-12)
    ours.eval(), theirs.eval()
    forward_and_grads(ours, theirs, RNG.standard_normal(shape), [])
    np.testing.assert_allclose(ours.weight_v.array, theirs.weight_v.numpy(), rtol=1e-10, atol=1e-12)
    remove_spectral_norm(ours)
    torch.nn.utils.remove_spectral_norm(theirs)
    assert list(ours.state_dict()) == ["bias", "weight"] and isinstance(ours.weight, nn.Parameter)
    np.testing.assert_allclose(ours.weight.array, theirs.weight.detach().numpy(), rtol=1e-10, atol=1e-12)


def test_spectral_norm_bounds_the_largest_singular_value():
    module = spectral_norm(nn.Linear(6, 5).to(minidl.float64), n_power_iterations=30)
    module(minidl.tensor(np.ones((1, 6))))
    assert np.linalg.svd(module.weight.array, compute_uv=False)[0] == pytest.approx(1.0, rel=1e-3)


def test_spectral_norm_transposed_convolution_uses_dim_1():
    ours = spectral_norm(nn.ConvTranspose2d(2, 3, 2))
    theirs = torch.nn.utils.spectral_norm(torch.nn.ConvTranspose2d(2, 3, 2))
    assert ours.weight_u.shape == theirs.weight_u.shape and ours.weight_v.shape == theirs.weight_v.shape


def test_spectral_norm_bad_input():
    module = spectral_norm(nn.Linear(2, 2))
    with pytest.raises(RuntimeError, match="two spectral_norm hooks"):
        spectral_norm(module)
    with pytest.raises(ValueError, match="spectral_norm of 'weight' not found"):
        remove_spectral_norm(nn.Linear(2, 2))
    with pytest.raises(ValueError, match="n_power_iterations=0"):
        spectral_norm(nn.Linear(2, 2), n_power_iterations=0)


def test_weight_and_spectral_norm_run_on_the_strict_device():
    x = minidl.tensor(RNG.standard_normal((2, 3))).to("strict")
    for wrap in (weight_norm, spectral_norm):
        module = wrap(nn.Linear(3, 4).to(minidl.float64).to("strict"))
        module(x).sum().backward()
        assert all(p.grad is not None and p.grad.device == "strict" for p in module.parameters())
