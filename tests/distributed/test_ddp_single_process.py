"""DistributedDataParallel in one process: PyTorch's interface (state dict, no_sync, errors), buckets in
reverse parameter order started from the gradient hooks during backward, and the layout check across
ranks (through an in-process twin communicator)."""

import numpy as np
import pytest

import minidl
import minidl.distributed as dist
from minidl import nn
from minidl.nn.parallel import DistributedDataParallel as DDP
from minidl.nn.parallel.reducer import build_buckets

from fake_world import twin_group

needs_mpi4py = pytest.mark.skipif(not dist.is_mpi_available(), reason=f"needs MPI: {dist.INSTALL}")


@pytest.fixture
def world_of_one():
    dist.init_process_group("mpi")
    yield
    dist.destroy_process_group()


def mlp():
    return nn.Sequential(nn.Linear(5, 7), nn.Tanh(), nn.Linear(7, 3)).double()


def batch(seed=0, rows=8):
    rng = np.random.default_rng(seed)
    return minidl.tensor(rng.normal(size=(rows, 5))), minidl.tensor(rng.integers(0, 3, size=rows))


def test_ddp_needs_a_process_group_and_a_module():
    with pytest.raises(ValueError, match="DistributedDataParallel: .*init_process_group"):
        DDP(mlp())


def test_ddp_arguments_are_checked(world_of_one):
    with pytest.raises(TypeError, match="module must be a minidl Module, got function"):
        DDP(lambda x: x)
    with pytest.raises(ValueError, match="bucket_cap_mb must be a positive number, got 0"):
        DDP(mlp(), bucket_cap_mb=0)
    with pytest.raises(ValueError, match="no parameter that requires grad"):
        DDP(nn.Tanh())


def test_ddp_in_a_world_of_one_trains_exactly_as_the_module(world_of_one):
    minidl.manual_seed(0)
    model, reference = mlp(), mlp()
    reference.load_state_dict(model.state_dict())
    ddp = DDP(model)
    optimizers = [minidl.optim.SGD(m.parameters(), lr=0.1, momentum=0.9) for m in (ddp, reference)]
    for step in range(5):
        x, y = batch(step)
        for net, optimizer in zip((ddp, reference), optimizers):
            optimizer.zero_grad()
            nn.functional.cross_entropy(net(x), y).backward()
            optimizer.step()
    for (name, mine), theirs in zip(model.state_dict().items(), reference.state_dict().values()):
        np.testing.assert_array_equal(mine.numpy(), theirs.numpy(), err_msg=name)


def test_state_dict_keys_have_the_module_prefix_and_forward_passes_through(world_of_one):
    model = nn.Sequential(nn.Linear(5, 4), nn.BatchNorm1d(4))
    ddp = DDP(model)
    assert ddp.module is model
    assert list(ddp.state_dict()) == ["module." + key for key in model.state_dict()]
    ddp.load_state_dict({"module." + k: v for k, v in model.state_dict().items()})
    x = minidl.randn(6, 5)
    np.testing.assert_array_equal(ddp(x).detach().numpy(), model(x).detach().numpy())
    with pytest.raises(RuntimeError, match='missing key.*"module.0.weight"'):
        ddp.load_state_dict(model.state_dict())
    assert repr(ddp).startswith("DistributedDataParallel(\n  (module): Sequential(")


def test_state_dict_keys_equal_pytorchs(tmp_path):
    torch = pytest.importorskip("torch", reason='parity needs PyTorch: pip install -e ".[torch]"')
    import torch.distributed as torch_dist
    # gloo's file store removes its file itself when the group ends: give it a path, not an open file
    torch_dist.init_process_group("gloo", init_method=f"file://{tmp_path / 'store'}", rank=0, world_size=1)
    try:
        theirs = list(torch.nn.parallel.DistributedDataParallel(
            torch.nn.Sequential(torch.nn.Linear(5, 4), torch.nn.BatchNorm1d(4))).state_dict())
    finally:
        torch_dist.destroy_process_group()
    dist.init_process_group("mpi")
    try:
        ours = list(DDP(nn.Sequential(nn.Linear(5, 4), nn.BatchNorm1d(4))).state_dict())
    finally:
        dist.destroy_process_group()
    assert ours == theirs


def test_no_sync_restores_syncing_even_after_an_error(world_of_one):
    ddp = DDP(mlp())
    with pytest.raises(KeyError):
        with ddp.no_sync():
            assert not ddp.require_backward_grad_sync
            raise KeyError("stop")
    assert ddp.require_backward_grad_sync


def test_buckets_hold_parameters_in_reverse_order_up_to_the_cap():
    params = [(f"p{i}", nn.Parameter(minidl.zeros(n, dtype=minidl.float64))) for i, n in enumerate((10, 30, 20, 5))]
    buckets = build_buckets(params, cap_bytes=8 * 39)
    assert [b.names for b in buckets] == [["p3", "p2"], ["p1"], ["p0"]]
    mixed = params[:2] + [("half", nn.Parameter(minidl.zeros(4, dtype=minidl.float32)))]
    assert [b.names for b in build_buckets(mixed, cap_bytes=2**20)] == [["half"], ["p1", "p0"]]


@needs_mpi4py
def test_buckets_start_during_backward_in_order_and_are_averaged():
    minidl.manual_seed(0)
    model = mlp()
    seen_first_layer_grad = []
    group = twin_group(on_reduce=lambda buffer: seen_first_layer_grad.append(model[0].weight.grad is not None))
    ddp = DDP(model, process_group=group, bucket_cap_mb=8 * 21 / 2**20)  # one Linear's weight per bucket
    assert [b.names for b in ddp.reducer.buckets] == [["2.bias"], ["2.weight"], ["0.bias"], ["0.weight"]]
    x, y = batch()
    nn.functional.cross_entropy(ddp(x), y).backward()
    sizes = [size for name, size in group.comm.calls if name == "Iallreduce"]
    assert sizes == [3, 21, 7, 35]
    # the last layer's two buckets left before backward had reached the first layer
    assert seen_first_layer_grad == [False, False, True, True]
    reference = mlp()
    reference.load_state_dict(model.state_dict())
    nn.functional.cross_entropy(reference(x), y).backward()
    for (name, mine), theirs in zip(model.named_parameters(), reference.parameters()):
        np.testing.assert_allclose(mine.grad.numpy(), theirs.grad.numpy(), rtol=0, atol=1e-15, err_msg=name)


@needs_mpi4py
def test_no_sync_sends_nothing_and_the_next_backward_sends_the_sum():
    model = mlp()
    group = twin_group()
    ddp = DDP(model, process_group=group)
    group.comm.calls.clear()
    x, y = batch()
    with ddp.no_sync():
        nn.functional.cross_entropy(ddp(x), y).backward()
    assert not [c for c in group.comm.calls if c[0] == "Iallreduce"]
    local = model[0].weight.grad.numpy().copy()
    nn.functional.cross_entropy(ddp(x), y).backward()
    assert [c for c in group.comm.calls if c[0] == "Iallreduce"] == [("Iallreduce", 21 + 3 + 35 + 7)]
    np.testing.assert_allclose(model[0].weight.grad.numpy(), 2 * local, rtol=1e-15)


@needs_mpi4py
def test_a_model_that_differs_on_another_rank_is_named():
    model = nn.Sequential(nn.Linear(5, 4), nn.BatchNorm1d(4))
    layout = [(kind, name, tuple(t.shape), str(t.dtype))
              for kind, members in (("parameter", model.named_parameters()), ("buffer", model.named_buffers()))
              for name, t in members]
    cases = {
        "shape": (layout[:1] + [("parameter", "0.bias", (5,), layout[1][3])] + layout[2:],
                  r"parameter '0.bias' has shape \(4,\) minidl.float32 on rank 0 but shape \(5,\)"),
        "missing": (layout[:-1], r"rank 1 lacks buffer '1.num_batches_tracked' of rank 0"),
        "extra": (layout + [("parameter", "2.weight", (1,), "minidl.float32")],
                  r"rank 1 has an extra parameter '2.weight' that rank 0 does not have"),
        "renamed": (layout[:1] + [("parameter", "0.b", (4,), layout[1][3])] + layout[2:],
                    r"parameter 1 is '0.bias' on rank 0 but parameter '0.b' on rank 1"),
    }
    for other, message in cases.values():
        with pytest.raises(ValueError, match="every rank must wrap the same model, but " + message):
            DDP(model, process_group=twin_group(others=other))
