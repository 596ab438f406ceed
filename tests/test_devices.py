"""Devices: the strict array type (a CPU stand-in for CuPy), tensors on "strict", Device, array_module."""

import numpy as np
import pytest

import minidl
from minidl.core import backend, strict
from minidl.core.backend import Device, array_module, device_of, to_device, to_numpy
from minidl.core.errors import DeviceError
from minidl.core.strict import StrictArray


@pytest.fixture
def s():
    return strict.asarray(np.arange(4.0))


# --- StrictArray refuses what CuPy refuses --------------------------------------------------------

@pytest.mark.parametrize("convert", [np.asarray, np.array, np.ascontiguousarray],
                         ids=["asarray", "array", "ascontiguousarray"])
def test_strict_refuses_implicit_numpy_conversion(s, convert):
    with pytest.raises(TypeError, match="Implicit conversion"):
        convert(s)


def test_strict_does_not_expose_the_array_interface(s):
    # NumPy converts anything with __array_interface__ / __array_struct__ without calling __array__
    assert not hasattr(s, "__array_interface__")
    assert not hasattr(s, "__array_struct__")


def test_strict_refuses_mixing_with_numpy_in_ufuncs(s):
    host = np.ones(4)
    for mix in (lambda: s + host, lambda: host + s, lambda: s * host, lambda: np.add(s, host),
                lambda: np.maximum(host, s), lambda: s > host):
        with pytest.raises(TypeError, match="cannot be mixed"):
            mix()


def test_strict_refuses_mixing_with_numpy_in_functions(s):
    host = np.ones(4)
    for mix in (lambda: np.concatenate([s, host]), lambda: np.where(s > 1, s, host),
                lambda: np.stack([host, s]), lambda: strict.concatenate([s, host])):
        with pytest.raises(TypeError, match="cannot be mixed"):
            mix()
    with pytest.raises(TypeError, match="cannot be mixed"):
        s[0:2] = np.ones(2)


def test_strict_allows_explicit_transfers_scalars_and_host_indices(s):
    host = s.get()
    assert type(host) is np.ndarray and host.tolist() == [0.0, 1.0, 2.0, 3.0]
    host[0] = 100.0                          # .get() is a copy
    assert s.tolist()[0] == 0.0
    back = strict.asarray(np.ones(2))
    assert isinstance(back, StrictArray)
    assert isinstance(s * np.float64(2.0), StrictArray) and (s * 2.0).tolist() == [0.0, 2.0, 4.0, 6.0]
    assert s[np.array([0, 3])].tolist() == [0.0, 3.0]
    assert s[np.array([True, False, True, False])].tolist() == [0.0, 2.0]
    assert float(s[1]) == 1.0 and s[1].item() == 1.0


def test_strict_module_mirrors_numpy_and_returns_strict_arrays(s):
    assert isinstance(strict.exp(s), StrictArray)
    assert isinstance(strict.zeros((2, 2)), StrictArray)
    total = np.sum(s)                        # reductions give 0-d device arrays, as in CuPy
    assert isinstance(total, StrictArray) and total.shape == () and total.item() == 6.0
    assert isinstance(s.reshape(2, 2), StrictArray) and s.reshape(2, 2).shape == (2, 2)
    assert isinstance(s.T, StrictArray)


def test_strict_array_is_not_a_python_index(s):
    with pytest.raises(TypeError):
        [1, 2, 3][s[0].astype(np.int64)]


# --- tensors on the strict device -----------------------------------------------------------------------

def test_to_strict_round_trip():
    x = minidl.tensor([[1.0, 2.0], [3.0, 4.0]])
    y = x.to("strict")
    assert y.device == "strict" and isinstance(y.array, StrictArray)
    z = y.to("cpu")
    assert z.device == "cpu" and isinstance(z.array, np.ndarray)
    assert z.tolist() == x.tolist()
    assert y.cpu().tolist() == x.tolist()


def test_ops_stay_on_strict():
    x = minidl.randn(2, 3, device="strict")
    w = minidl.randn(3, 4, device="strict")
    results = [x + 1.0, x * x, (x @ w).relu(), x.sum(dim=1), x.max(), x.softmax(dim=-1), x.reshape(3, 2),
               x.T, x[0], x[minidl.tensor([0, 0, 1])], minidl.cat([x, x]), x.exp().log(), x > 0,
               minidl.where(x > 0, x, 0.0), x.argmax(dim=1), x.clamp(-0.1, 0.1)]
    for result in results:
        assert result.device == "strict", result
        assert isinstance(result.array, StrictArray)


def test_grad_lives_on_strict():
    x = minidl.randn(2, 3, device="strict", requires_grad=True)
    w = minidl.randn(3, device="strict", requires_grad=True)
    ((x * w).sum(dim=1) ** 2).mean().backward()
    assert x.grad.device == "strict" and isinstance(x.grad.array, StrictArray)
    assert w.grad.device == "strict" and w.grad.shape == (3,)


def test_strict_gradients_equal_cpu_gradients():
    rng = np.random.default_rng(0)
    a0, b0 = rng.standard_normal((3, 4)), rng.standard_normal(4)
    grads = {}
    for device in ("cpu", "strict"):
        a = minidl.tensor(a0, device=device, requires_grad=True)
        b = minidl.tensor(b0, device=device, requires_grad=True)
        ((a * b).tanh().sum(dim=0) / b.exp()).sum().backward()
        grads[device] = (a.grad.cpu().numpy(), b.grad.cpu().numpy())
    for cpu, dev in zip(grads["cpu"], grads["strict"]):
        np.testing.assert_allclose(cpu, dev, rtol=1e-12)


def test_numpy_on_strict_tensor_raises_with_hint():
    y = minidl.tensor([1.0, 2.0], device="strict")
    with pytest.raises(TypeError, match=r"\.cpu\(\)"):
        y.numpy()
    with pytest.raises(TypeError, match=r"\.cpu\(\)"):
        np.asarray(y)
    assert y.cpu().numpy().tolist() == [1.0, 2.0]
    assert y.tolist() == [1.0, 2.0] and y.sum().item() == 3.0


def test_backward_of_to_strict_brings_gradient_back_to_cpu():
    x = minidl.tensor([1.0, 2.0], requires_grad=True)
    y = x.to("strict")
    assert y.grad_fn is not None and y.requires_grad
    (y * y).sum().backward()
    assert x.grad.device == "cpu" and isinstance(x.grad.array, np.ndarray)
    assert x.grad.tolist() == [2.0, 4.0]


def test_backward_through_strict_and_back():
    x = minidl.tensor([1.0, 2.0], device="strict", requires_grad=True)
    y = (x.to("cpu") * 3).sum()
    y.backward()
    assert x.grad.device == "strict" and x.grad.tolist() == [3.0, 3.0]


def test_scalar_operands_go_to_the_tensor_device():
    x = minidl.tensor([1.0, 2.0], device="strict")
    for result in (x + 1, 2.0 * x, x / np.float32(2), 1 - x, x ** 2):
        assert result.device == "strict" and result.dtype == np.float32


def test_copy_across_devices_like_pytorch():
    # PyTorch: copy_ "may be of a different data type or reside on a different device"
    target = minidl.zeros(3)
    target.copy_(minidl.tensor([1.0, 2.0, 3.0], device="strict"))
    assert target.device == "cpu" and target.tolist() == [1.0, 2.0, 3.0]
    device_target = minidl.zeros(2, device="strict")
    device_target.copy_(minidl.tensor([4.0, 5.0]))
    assert device_target.device == "strict" and device_target.tolist() == [4.0, 5.0]


def test_inplace_ops_on_strict():
    x = minidl.zeros(3, device="strict")
    x.add_(1.0)
    x.mul_(minidl.full((3,), 2.0, device="strict"))
    x[0] = 7.0
    x[minidl.tensor([1])] = 5.0
    assert x.device == "strict" and x.tolist() == [7.0, 5.0, 2.0]


# --- Device ---------------------------------------------------------------------------------------------

def test_device_equality_str_repr():
    assert Device("cpu") == "cpu" and Device("cpu") == Device("cpu")
    assert Device("cpu") != "strict" and Device("strict") == "strict"
    assert Device("cpu") != "not a device"
    assert Device("cpu") != 3
    assert str(Device("cpu")) == "cpu" and str(Device("cuda:1")) == "cuda:1"
    assert repr(Device("cpu")) == "device(type='cpu')"
    assert repr(Device("cuda:1")) == "device(type='cuda', index=1)"
    assert Device("cuda:1") != "cuda:0"
    assert Device("cuda", 2) == "cuda:2"
    assert Device(Device("strict")) == "strict"
    assert minidl.device("cpu") == Device("cpu")
    assert hash(Device("cpu")) == hash(Device("cpu"))
    assert Device("cuda:1").type == "cuda" and Device("cuda:1").index == 1 and Device("cpu").index is None


def test_device_repr_matches_pytorch():
    torch = pytest.importorskip("torch", reason='parity needs PyTorch: pip install -e ".[torch]"')
    for spec in ("cpu", "cuda:1"):
        assert repr(Device(spec)) == repr(torch.device(spec))
        assert str(Device(spec)) == str(torch.device(spec))


def test_device_xp():
    assert Device("cpu").xp is np
    assert Device("strict").xp is strict


# --- backend helpers --------------------------------------------------------------------------------------

def test_array_module(s):
    assert array_module(np.ones(2)) is np
    assert array_module(s) is strict
    assert array_module(np.float32(1.0)) is np
    assert array_module(1.5) is np
    with pytest.raises(TypeError, match="list"):
        array_module([1.0, 2.0])
    assert minidl.core.backend.array_module is array_module


def test_device_of_to_device_to_numpy(s):
    assert device_of(np.ones(1)) == "cpu" and device_of(s) == "strict"
    host = np.arange(3.0)
    moved = to_device(host, "strict")
    assert isinstance(moved, StrictArray) and moved.tolist() == [0.0, 1.0, 2.0]
    assert to_device(host, "cpu") is host
    assert to_device(moved, "strict") is moved
    assert type(to_device(moved, "cpu")) is np.ndarray
    assert type(to_numpy(moved)) is np.ndarray and to_numpy(host) is host


def test_scatter_add_accumulates_repeated_indices_on_every_backend():
    for xp in (np, strict):
        target = xp.zeros(3)
        backend.scatter_add(target, np.array([0, 0, 2]), xp.asarray(np.array([1.0, 2.0, 3.0])))
        assert target.tolist() == [3.0, 0.0, 3.0]


def test_broadcast_arrays_are_read_only_on_every_backend():
    """NumPy says so by its flag; an array without that flag (CuPy's) is read-only where it is broadcast."""
    import types
    assert backend.is_writeable(np.zeros((2, 3))) and not backend.is_writeable(np.broadcast_to(np.zeros(3), (2, 3)))
    assert not backend.is_writeable(strict.broadcast_to(strict.zeros(3), (2, 3)))

    def flagless(array):
        return types.SimpleNamespace(flags=types.SimpleNamespace(c_contiguous=True), strides=array.strides,
                                     shape=array.shape)
    assert backend.is_writeable(flagless(np.zeros((2, 3))))
    assert backend.is_writeable(flagless(np.broadcast_to(np.zeros((1, 3)), (1, 3))))
    assert not backend.is_writeable(flagless(np.broadcast_to(np.zeros(3), (2, 3))))


def test_cuda_error_is_a_device_error_without_gpu():
    try:
        import cupy  # noqa: F401
        pytest.skip("CuPy is installed")
    except ImportError:
        pass
    with pytest.raises(DeviceError):
        Device("cuda").xp
