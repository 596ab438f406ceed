"""nn.SyncBatchNorm in one process: exactly BatchNorm (forward, gradients, running statistics, eval mode),
its own backward gradchecked in float64, PyTorch's SyncBatchNorm on the same weights, and
convert_sync_batchnorm. (Two ranks: tests/distributed/test_multi_process.py.)"""

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import minidl
import minidl.distributed as dist
from minidl import nn
from minidl.nn.sync_batchnorm import SyncNormalize
from minidl.testing import gradcheck

from fake_world import twin_group


def pair(shape, momentum=0.1, seed=0):
    """A BatchNorm and a SyncBatchNorm with the same random affine parameters (float64)."""
    layer = nn.BatchNorm2d if len(shape) == 4 else nn.BatchNorm1d
    plain, synced = layer(shape[1], momentum=momentum).double(), nn.SyncBatchNorm(shape[1], momentum=momentum).double()
    rng = np.random.default_rng(seed)
    state = {"weight": rng.normal(size=shape[1]), "bias": rng.normal(size=shape[1])}
    plain.load_state_dict(state, strict=False)
    synced.load_state_dict(state, strict=False)
    return plain, synced


@settings(max_examples=15, deadline=None)
@given(shape=st.sampled_from([(5, 3), (4, 2, 3), (3, 2, 4, 2), (2, 4, 1, 1)]),
       momentum=st.sampled_from([0.1, 0.5, None]), seed=st.integers(0, 2**16))
def test_sync_batchnorm_is_batchnorm_in_one_process(shape, momentum, seed):
    plain, synced = pair(shape, momentum, seed)
    rng = np.random.default_rng(seed + 1)
    for step in range(2):
        x = rng.normal(3.0, 2.0, size=shape)
        upstream = minidl.tensor(rng.normal(size=shape))
        xs = [minidl.tensor(x, requires_grad=True) for _ in range(2)]
        outs = [plain(xs[0]), synced(xs[1])]
        for out in outs:
            (out * upstream).sum().backward()
        np.testing.assert_allclose(outs[1].detach().numpy(), outs[0].detach().numpy(), rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(xs[1].grad.numpy(), xs[0].grad.numpy(), rtol=1e-10, atol=1e-12)
        for name in ("weight", "bias"):
            np.testing.assert_allclose(getattr(synced, name).grad.numpy(), getattr(plain, name).grad.numpy(),
                                       rtol=1e-12, atol=1e-12)
    for name, buffer in plain.state_dict().items():
        np.testing.assert_allclose(synced.state_dict()[name].numpy(), buffer.numpy(), rtol=1e-12, err_msg=name)
    plain.eval(), synced.eval()
    x = minidl.tensor(rng.normal(size=shape))
    np.testing.assert_allclose(synced(x).detach().numpy(), plain(x).detach().numpy(), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("shape", [(6, 3), (3, 2, 3, 2)])
@pytest.mark.parametrize("affine", [True, False])
def test_sync_normalize_passes_gradcheck(shape, affine):
    rng = np.random.default_rng(1)
    channels = shape[1]
    x = minidl.tensor(rng.normal(size=shape), requires_grad=True)
    params = [minidl.tensor(rng.normal(size=channels), requires_grad=True) for _ in range(2)] if affine else []
    axes = (0,) + tuple(range(2, len(shape)))
    param_shape = (1, channels) + (1,) * (len(shape) - 2)
    assert gradcheck(lambda *t: SyncNormalize.apply(*t, axes=axes, param_shape=param_shape, eps=1e-5)[0],
                     [x, *params])


def test_two_identical_ranks_normalise_as_one():
    """Through an in-process twin of this rank, every sum doubles: the global statistics equal the local ones,
    so the output and gradients must too, while every all-reduce really ran."""
    pytest.importorskip("mpi4py", reason=f"needs MPI: {dist.INSTALL}")
    plain, synced = pair((4, 3))
    synced.process_group = group = twin_group()
    x = np.random.default_rng(2).normal(size=(4, 3))
    xs = [minidl.tensor(x, requires_grad=True) for _ in range(2)]
    outs = [plain(xs[0]), synced(xs[1])]
    for out in outs:
        (out * minidl.tensor(x)).sum().backward()
    assert [name for name, _ in group.comm.calls] == ["Allreduce"] * 3
    np.testing.assert_allclose(outs[1].detach().numpy(), outs[0].detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(xs[1].grad.numpy(), xs[0].grad.numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(synced.running_var.numpy(), plain.running_var.numpy() + 0.1 * (8 / 7 - 4 / 3)
                               * x.var(0), rtol=1e-12)  # the unbiased factor counts both ranks: M = 8


def test_matches_pytorchs_sync_batchnorm():
    torch = pytest.importorskip("torch", reason='parity needs PyTorch: pip install -e ".[torch]"')
    rng = np.random.default_rng(3)
    theirs = torch.nn.SyncBatchNorm(4).double()
    with torch.no_grad():
        theirs.weight.copy_(torch.from_numpy(rng.normal(size=4)))
        theirs.bias.copy_(torch.from_numpy(rng.normal(size=4)))
    ours = nn.SyncBatchNorm(4).double()
    ours.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
    x, upstream = rng.normal(size=(5, 4, 3)), rng.normal(size=(5, 4, 3))
    x_theirs = torch.tensor(x, requires_grad=True)
    x_ours = minidl.tensor(x, requires_grad=True)
    (theirs(x_theirs) * torch.from_numpy(upstream)).sum().backward()
    (ours(x_ours) * minidl.tensor(upstream)).sum().backward()
    np.testing.assert_allclose(x_ours.grad.numpy(), x_theirs.grad.numpy(), rtol=1e-10, atol=1e-12)
    for name, value in theirs.state_dict().items():
        np.testing.assert_allclose(ours.state_dict()[name].numpy(), value.numpy(), rtol=1e-12, err_msg=name)
    np.testing.assert_allclose(ours.weight.grad.numpy(), theirs.weight.grad.numpy(), rtol=1e-12)


def test_convert_sync_batchnorm_keeps_parameters_buffers_and_names():
    model = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4, momentum=0.3),
                          nn.Sequential(nn.BatchNorm1d(4, affine=False), nn.Tanh()))
    model[1](minidl.randn(5, 4))
    model.eval()
    before = model.state_dict()
    weight = model[1].weight
    converted = nn.SyncBatchNorm.convert_sync_batchnorm(model)
    assert converted is model
    assert isinstance(model[1], nn.SyncBatchNorm) and isinstance(model[2][0], nn.SyncBatchNorm)
    assert model[1].weight is weight and model[1].momentum == 0.3 and model[2][0].weight is None
    assert not model[1].training
    assert list(model.state_dict()) == list(before)
    for name, value in before.items():
        np.testing.assert_array_equal(model.state_dict()[name].numpy(), value.numpy())
    single = nn.BatchNorm2d(2)
    assert isinstance(nn.SyncBatchNorm.convert_sync_batchnorm(single), nn.SyncBatchNorm)


def test_bad_inputs_are_named():
    layer = nn.SyncBatchNorm(3)
    with pytest.raises(ValueError, match=r"SyncBatchNorm: expected at least 2D input, got shape \(3,\)"):
        layer(minidl.ones(3))
    with pytest.raises(ValueError, match=r"expected 3 channels in dim 1, got input of shape \(2, 4\)"):
        layer(minidl.ones(2, 4))
    with pytest.raises(ValueError, match="Expected more than 1 value per channel when training, got 1"):
        layer(minidl.ones(1, 3))
