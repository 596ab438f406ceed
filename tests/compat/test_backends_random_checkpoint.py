"""torch.backends switches, torch.random, the default device and activation checkpointing, run on minidl."""

import numpy as np
import pytest

import minidl
import minidl.backends.cudnn as cudnn
from minidl import nn
from minidl.core.errors import DeviceError
from minidl.utils.checkpoint import checkpoint, checkpoint_sequential


# --- backends ----------------------------------------------------------------------------------
def test_backend_switches_have_pytorchs_cpu_build_defaults_and_can_be_set():
    assert (cudnn.enabled, cudnn.benchmark, cudnn.deterministic, cudnn.allow_tf32) == (True, False, False, True)
    assert minidl.backends.cudnn is cudnn and cudnn.is_available() is False
    assert minidl.backends.cuda.matmul.allow_tf32 is False and minidl.backends.cuda.is_built() is False
    for module in (minidl.backends.mps, minidl.backends.openmp, minidl.backends.mkldnn):
        assert module.is_available() is False
    assert minidl.backends.mps.is_built() is False
    saved = cudnn.benchmark, cudnn.deterministic
    try:
        minidl.backends.cudnn.benchmark = True
        minidl.backends.cudnn.deterministic = True
        assert (cudnn.benchmark, cudnn.deterministic) == (True, True)
    finally:
        cudnn.benchmark, cudnn.deterministic = saved


def test_cudnn_flags_sets_the_switches_inside_the_block_only():
    with cudnn.flags(enabled=False, deterministic=True):
        assert (cudnn.enabled, cudnn.deterministic) == (False, True)
    assert (cudnn.enabled, cudnn.deterministic) == (True, False)


def test_mps_module_reports_no_device():
    assert minidl.mps.is_available() is False and minidl.mps.device_count() == 0
    assert minidl.mps.manual_seed(0) is None


# --- minidl.random ------------------------------------------------------------------------------
def test_manual_seed_and_initial_seed_and_seed():
    minidl.random.manual_seed(1234)
    assert minidl.initial_seed() == minidl.random.initial_seed() == 1234
    fresh = minidl.seed()
    assert isinstance(fresh, int) and 0 <= fresh < 2**64 and minidl.initial_seed() == fresh
    minidl.manual_seed(fresh)
    first = minidl.rand(4).numpy()
    minidl.manual_seed(fresh)
    assert np.array_equal(minidl.rand(4).numpy(), first)


def test_rng_state_round_trips():
    minidl.manual_seed(0)
    state = minidl.random.get_rng_state()
    first = minidl.randn(5).numpy()
    minidl.random.set_rng_state(state)
    assert np.array_equal(minidl.randn(5).numpy(), first)


def test_fork_rng_puts_the_stream_and_its_seed_back():
    minidl.manual_seed(7)
    expected = minidl.rand(3).numpy()
    minidl.manual_seed(7)
    with minidl.random.fork_rng():
        minidl.manual_seed(99)
        minidl.rand(10)
    assert minidl.initial_seed() == 7
    assert np.array_equal(minidl.rand(3).numpy(), expected)
    with minidl.random.fork_rng(enabled=False):
        minidl.rand(1)  # not forked: the stream moves on


# --- default device -----------------------------------------------------------------------------
@pytest.fixture
def restore_default_device():
    before = minidl.get_default_device()
    yield
    minidl.set_default_device(before)


def test_default_device_is_cpu_and_setting_cpu_works(restore_default_device):
    assert minidl.get_default_device() == "cpu"
    minidl.set_default_device("cpu")
    assert minidl.get_default_device() == "cpu" and minidl.zeros(2).device == "cpu"
    minidl.set_default_device(None)
    assert minidl.get_default_device() == "cpu"


def test_factories_create_on_the_default_device(restore_default_device):
    minidl.set_default_device("strict")  # the CPU test device: stands in for a GPU here
    made = [minidl.zeros(2), minidl.ones(2, 3), minidl.empty(1), minidl.full((2,), 1.5), minidl.rand(2),
            minidl.randn(2), minidl.randint(0, 3, (2,)), minidl.arange(3), minidl.linspace(0, 1, 4),
            minidl.eye(2), minidl.tensor([1.0, 2.0])]
    assert all(t.device == "strict" for t in made)
    assert minidl.zeros(2, device="cpu").device == "cpu"  # an explicit device wins
    assert minidl.zeros_like(minidl.zeros(2, device="cpu")).device == "cpu"  # *_like follow their input


def test_cuda_default_device_without_a_gpu_is_a_clear_error(restore_default_device):
    if minidl.cuda.is_available():
        pytest.skip("a GPU is usable here")
    with pytest.raises(DeviceError, match="set_default_device.*cuda"):
        minidl.set_default_device("cuda")
    assert minidl.get_default_device() == "cpu"
    with pytest.raises(DeviceError, match="unknown device"):
        minidl.set_default_device("tpu")


# --- checkpoint ---------------------------------------------------------------------------------
def _mlp():
    minidl.manual_seed(0)
    return nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Dropout(0.5), nn.Linear(8, 8), nn.Tanh(),
                         nn.Dropout(0.3), nn.Linear(8, 2))


def _run(call, inputs_require_grad):
    """Output, input gradient and parameter gradients of ``call(model, x)`` with dropout active."""
    model = _mlp()
    x = minidl.tensor(np.linspace(-1, 1, 20, dtype=np.float32).reshape(5, 4), requires_grad=inputs_require_grad)
    minidl.manual_seed(1)
    out = call(model, x)
    minidl.rand(7)  # the stream moves on before backward: the recomputation must not see it
    (out * out).sum().backward()
    grads = [p.grad.numpy() for p in model.parameters()]
    return out.detach().numpy(), None if x.grad is None else x.grad.numpy(), grads


@pytest.mark.parametrize("inputs_require_grad", [True, False])
@pytest.mark.parametrize("call", [
    lambda model, x: checkpoint(model, x, use_reentrant=False),
    lambda model, x: checkpoint(lambda v: model(v), x),                    # the model reached through a closure
    lambda model, x: checkpoint_sequential(model, 3, x, use_reentrant=False),
    lambda model, x: checkpoint_sequential(list(model.children()), 7, x),
], ids=["module", "closure", "sequential-3", "sequential-list-7"])
def test_checkpoint_gradients_equal_the_plain_calls(call, inputs_require_grad):
    plain = _run(lambda model, x: model(x), inputs_require_grad)
    checked = _run(call, inputs_require_grad)
    np.testing.assert_allclose(checked[0], plain[0], rtol=1e-6)
    if inputs_require_grad:
        np.testing.assert_allclose(checked[1], plain[1], rtol=1e-5, atol=1e-7)
    else:
        assert checked[1] is None
    for got, expected in zip(checked[2], plain[2]):
        np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-7)


def test_checkpoint_keeps_no_graph_inside_and_recomputes_in_backward():
    model = _mlp().eval()
    calls = []
    model.register_forward_pre_hook(lambda module, args: calls.append(1))
    x = minidl.randn(3, 4, requires_grad=True)
    out = checkpoint(model, x, use_reentrant=False)
    assert type(out._node).__name__ == "Checkpoint" and len(out._node.inputs) == 1 + len(list(model.parameters()))
    out.sum().backward()
    assert len(calls) == 2 and x.grad is not None


def test_checkpoint_with_several_outputs_and_non_tensor_arguments():
    a = minidl.randn(3, requires_grad=True)
    b = minidl.randn(3, requires_grad=True)
    first, second = checkpoint(lambda x, scale, y: (x * scale, (x * y).sum()), a, 2.0, b, use_reentrant=False)
    (first.sum() + second).backward()
    np.testing.assert_allclose(a.grad.numpy(), 2.0 + b.detach().numpy(), rtol=1e-6)
    np.testing.assert_allclose(b.grad.numpy(), a.detach().numpy(), rtol=1e-6)


def test_checkpoint_under_no_grad_just_runs_the_function():
    x = minidl.randn(2, requires_grad=True)
    with minidl.no_grad():
        out = checkpoint(lambda v: v * 2, x, use_reentrant=False)
    assert not out.requires_grad


def test_checkpoint_bad_inputs():
    with pytest.raises(TypeError, match="checkpoint: function must be callable"):
        checkpoint(3, minidl.zeros(1))
    with pytest.raises(TypeError, match="checkpoint: the function must return a tensor"):
        checkpoint(lambda v: "no", minidl.zeros(1, requires_grad=True))
    with pytest.raises(ValueError, match=r"checkpoint_sequential: segments .* \(2\), got 3"):
        checkpoint_sequential([nn.ReLU(), nn.ReLU()], 3, minidl.zeros(1))
    with pytest.raises(ValueError, match="unexpected keyword arguments: foo"):
        checkpoint_sequential([nn.ReLU()], 1, minidl.zeros(1), foo=1)
