"""Tensor basics: dtype rules (PyTorch's), attributes, conversions, repr and creation functions."""

import numpy as np
import pytest

import minidl
from minidl.core.errors import AutogradError


@pytest.fixture
def float64_default():
    minidl.set_default_dtype(minidl.float64)
    try:
        yield
    finally:
        minidl.set_default_dtype(minidl.float32)


# --- dtype rules ------------------------------------------------------------------------------

def test_default_dtypes_from_python_data():
    assert minidl.tensor(1.5).dtype == np.float32
    assert minidl.tensor([1.0, 2.0]).dtype == np.float32
    assert minidl.tensor([1, 2.5]).dtype == np.float32
    assert minidl.tensor([[1, 2], [3, 4]]).dtype == np.int64
    assert minidl.tensor(3).dtype == np.int64
    assert minidl.tensor([True, False]).dtype == np.bool_


def test_numpy_arrays_keep_their_dtype():
    for dtype in (np.float64, np.float32, np.float16, np.int32, np.int64, np.uint8, np.bool_):
        assert minidl.tensor(np.zeros(3, dtype=dtype)).dtype == dtype
    assert minidl.tensor(np.float64(1.0)).dtype == np.float64
    assert minidl.tensor(np.zeros(2), dtype=minidl.float32).dtype == np.float32


def test_tensor_copies_its_data():
    array = np.zeros(3)
    t = minidl.tensor(array)
    array[0] = 5.0
    assert t.tolist() == [0.0, 0.0, 0.0]
    shared = minidl.from_numpy(array)
    array[1] = 7.0
    assert shared.tolist() == [5.0, 7.0, 0.0]


def test_explicit_float64_keeps_full_precision():
    # Python floats must not pass through float32 when float64 is asked for
    assert minidl.tensor([0.1, 0.3], dtype=minidl.float64).tolist() == [0.1, 0.3]
    assert minidl.tensor(0.1, dtype=minidl.float64).item() == 0.1
    assert minidl.full((2,), 0.1, dtype=minidl.float64).tolist() == [0.1, 0.1]
    np.testing.assert_array_equal(minidl.arange(0.0, 0.5, 0.1, dtype=minidl.float64).numpy(),
                                  np.arange(0.0, 0.5, 0.1))
    np.testing.assert_array_equal(minidl.linspace(0, 0.3, 4, dtype=minidl.float64).numpy(),
                                  np.linspace(0, 0.3, 4))


@pytest.mark.parametrize("expression", [
    lambda x: x * 2.0, lambda x: 2.0 - x, lambda x: x / 3, lambda x: x ** 2, lambda x: 2 ** x,
    lambda x: x + np.float64(1), lambda x: np.float64(1) + x, lambda x: x * np.float64(0.5),
    lambda x: x + 1, lambda x: x.clamp(0.0, 1.0), lambda x: minidl.maximum(x, 0.5),
    lambda x: minidl.where(x > 0, x, 0.0),
], ids=["mul", "rsub", "div", "pow", "rpow", "add_np64", "radd_np64", "mul_np64", "add_int", "clamp",
        "maximum", "where"])
def test_python_scalars_never_upcast_float32(expression):
    x = minidl.tensor([1.0, 2.0])
    assert expression(x).dtype == np.float32


def test_python_scalars_keep_float16_and_float64():
    assert (minidl.ones(2, dtype=minidl.float16) * 2.0).dtype == np.float16
    assert (minidl.ones(2, dtype=minidl.float64) * 2.0).dtype == np.float64


def test_int_tensor_with_float_scalar_gives_default_float():
    i = minidl.tensor([1, 2, 3])
    result = i * 2.5
    assert result.dtype == np.float32 and result.tolist() == [2.5, 5.0, 7.5]
    assert (i + 1).dtype == np.int64
    assert (i ** 2.0).dtype == np.float32


def test_int_true_division_gives_float32():
    i, j = minidl.tensor([1, 2, 3]), minidl.tensor([2, 2, 2])
    assert (i / j).dtype == np.float32 and (i / j).tolist() == [0.5, 1.0, 1.5]
    assert (i / 2).dtype == np.float32
    assert (1 / i).dtype == np.float32


def test_bool_sum_is_int64_and_bool_arithmetic():
    b = minidl.tensor([True, False, True])
    assert b.sum().dtype == np.int64 and b.sum().item() == 2
    assert (b + 1).dtype == np.int64
    assert (b * 1.5).dtype == np.float32
    assert minidl.tensor([1, 2], dtype=minidl.int32).sum().dtype == np.int64


def test_dtype_rules_match_pytorch():
    torch = pytest.importorskip("torch", reason='parity needs PyTorch: pip install -e ".[torch]"')
    cases = [
        (lambda m: m.tensor([1, 2]) * 2.5, lambda t: t.tensor([1, 2]) * 2.5),
        (lambda m: m.tensor([1, 2]) / m.tensor([2, 2]), lambda t: t.tensor([1, 2]) / t.tensor([2, 2])),
        (lambda m: m.tensor([True, False]).sum(), lambda t: t.tensor([True, False]).sum()),
        (lambda m: m.tensor([1.0]) + m.tensor([1.0], dtype=m.float64),
         lambda t: t.tensor([1.0]) + t.tensor([1.0], dtype=t.float64)),
        (lambda m: m.tensor([1.0]) * 2.0, lambda t: t.tensor([1.0]) * 2.0),
        (lambda m: m.tensor([1, 2]) + m.tensor([0.5]), lambda t: t.tensor([1, 2]) + t.tensor([0.5])),
        (lambda m: m.arange(3), lambda t: t.arange(3)),
        (lambda m: m.arange(0.0, 1.0, 0.5), lambda t: t.arange(0.0, 1.0, 0.5)),
        (lambda m: m.full((2,), 3), lambda t: t.full((2,), 3)),
        (lambda m: m.full((2,), 3.0), lambda t: t.full((2,), 3.0)),
        (lambda m: m.randint(0, 5, (3,)), lambda t: t.randint(0, 5, (3,))),
        (lambda m: m.eye(2), lambda t: t.eye(2)),
        (lambda m: m.linspace(0, 1, 3), lambda t: t.linspace(0, 1, 3)),
    ]
    for ours, theirs in cases:
        assert str(ours(minidl).dtype).replace("minidl.", "") == str(theirs(torch).dtype).replace("torch.", "")


def test_set_default_dtype(float64_default):
    assert minidl.get_default_dtype() == np.float64
    assert minidl.tensor([1.0]).dtype == np.float64
    assert minidl.zeros(2).dtype == np.float64
    assert minidl.randn(2).dtype == np.float64
    assert minidl.arange(0.0, 1.0, 0.5).dtype == np.float64
    assert (minidl.tensor([1, 2]) * 0.5).dtype == np.float64
    assert (minidl.ones(2, dtype=minidl.float32) * 2.0).dtype == np.float32


def test_default_dtype_restored_and_non_float_refused():
    assert minidl.get_default_dtype() == np.float32
    with pytest.raises(TypeError, match="floating"):
        minidl.set_default_dtype(minidl.int64)
    assert minidl.get_default_dtype() == np.float32


# --- attributes and conversions -------------------------------------------------------------------

def test_shape_ndim_dtype_device_size_numel_len():
    x = minidl.zeros(2, 3, 4)
    assert x.shape == (2, 3, 4) and isinstance(x.shape, tuple)
    assert x.ndim == 3 and x.dim() == 3
    assert x.dtype == np.float32
    assert x.device == "cpu" and str(x.device) == "cpu"
    assert x.size() == (2, 3, 4) and x.size(1) == 3 and x.size(-1) == 4
    assert x.numel() == 24
    assert len(x) == 2
    with pytest.raises(TypeError, match="0-d"):
        len(minidl.tensor(1.0))


def test_numpy_conversion():
    x = minidl.tensor([1.0, 2.0])
    array = x.numpy()
    assert isinstance(array, np.ndarray) and array.dtype == np.float32
    array[0] = 9.0                       # shares memory, like PyTorch
    assert x.tolist() == [9.0, 2.0]
    assert np.asarray(x).tolist() == [9.0, 2.0]


def test_numpy_on_requires_grad_raises_and_tells_to_detach():
    x = minidl.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(AutogradError, match=r"detach\(\)"):
        x.numpy()
    assert x.detach().numpy().tolist() == [1.0, 2.0]


def test_item_and_python_numbers():
    assert minidl.tensor(2.5).item() == 2.5 and isinstance(minidl.tensor(2.5).item(), float)
    assert minidl.tensor([[7]]).item() == 7 and isinstance(minidl.tensor([[7]]).item(), int)
    assert float(minidl.tensor([1.5])) == 1.5 and int(minidl.tensor(3)) == 3
    assert bool(minidl.tensor([1.0])) is True
    with pytest.raises(ValueError, match=r"item: .*\(3,\)"):
        minidl.tensor([1.0, 2.0, 3.0]).item()
    with pytest.raises(ValueError, match="ambiguous"):
        bool(minidl.tensor([1.0, 2.0]))


def test_tolist():
    assert minidl.tensor([[1, 2], [3, 4]]).tolist() == [[1, 2], [3, 4]]
    assert minidl.tensor(2.0).tolist() == 2.0


def test_to_dtype_and_casting_methods():
    x = minidl.tensor([1.7, -1.7])
    assert x.to(minidl.float64).dtype == np.float64
    assert x.to(dtype=np.float16).dtype == np.float16
    assert x.double().dtype == np.float64 and x.float() is x
    assert x.long().dtype == np.int64 and x.long().tolist() == [1, -1]   # truncation, as in PyTorch
    assert x.int().dtype == np.int32
    assert minidl.tensor([1, 2]).float().dtype == np.float32
    assert x.to(x) is x
    assert x.to(minidl.zeros(1, dtype=minidl.float64)).dtype == np.float64
    assert x.type_as(minidl.tensor([1])).dtype == np.int64
    with pytest.raises(TypeError, match="unexpected"):
        x.to(colour="red")


def test_to_strict_and_back():
    x = minidl.tensor([1.0, 2.0])
    s = x.to("strict")
    assert s.device == "strict" and s.dtype == np.float32
    assert s.to("strict") is s
    back = s.to("cpu")
    assert back.device == "cpu" and back.tolist() == [1.0, 2.0]
    assert x.cpu() is x
    both = x.to("strict", minidl.float64)
    assert both.device == "strict" and both.dtype == np.float64
    assert x.to(device=minidl.Device("strict")).device == "strict"


def test_detach_shares_data_and_version():
    x = minidl.tensor([1.0, 2.0], requires_grad=True)
    d = x.detach()
    assert not d.requires_grad and d.is_leaf
    d.array[1] = 5.0
    assert x.tolist() == [1.0, 5.0]


def test_repr_looks_like_pytorch():
    assert repr(minidl.tensor([1.0, 2.0, 3.0])) == "tensor([1., 2., 3.])"
    assert repr(minidl.tensor([1, 2, 3])) == "tensor([1, 2, 3])"
    assert repr(minidl.tensor([True, False])) == "tensor([ True, False])"
    assert repr(minidl.tensor([1.0, 2.0], requires_grad=True)) == "tensor([1., 2.], requires_grad=True)"
    assert repr(minidl.tensor([1.0], dtype=minidl.float64)) == "tensor([1.], dtype=minidl.float64)"
    assert repr(minidl.tensor([1.0]).to("strict")) == "tensor([1.], device='strict')"
    y = minidl.tensor([1.0, 2.0], requires_grad=True).sum()
    text = repr(y)
    assert text.startswith("tensor(3., grad_fn=<") and text.endswith(">)")
    assert "Sum" in text and "requires_grad" not in text
    assert repr(minidl.zeros(2, 2)) == "tensor([[0., 0.],\n        [0., 0.]])"


def test_repr_matches_pytorch_for_simple_values():
    torch = pytest.importorskip("torch", reason='parity needs PyTorch: pip install -e ".[torch]"')
    for values in ([1.0, 2.0, 3.0], [[1, 2], [3, 4]], [True, False], [1.0, -2.0], [1e-5, 0.12345678]):
        assert repr(minidl.tensor(values)) == repr(torch.tensor(values))


# --- creation ---------------------------------------------------------------------------------------

def test_zeros_ones_full():
    assert minidl.zeros(2, 3).tolist() == [[0.0] * 3] * 2
    assert minidl.zeros((2, 3)).shape == (2, 3)
    assert minidl.ones(3).tolist() == [1.0, 1.0, 1.0] and minidl.ones(3).dtype == np.float32
    f = minidl.full((2,), 7)
    assert f.dtype == np.int64 and f.tolist() == [7, 7]
    assert minidl.full((2, 2), 0.5).dtype == np.float32
    assert minidl.zeros(2, dtype=minidl.int64).dtype == np.int64
    assert minidl.zeros(2, requires_grad=True).requires_grad
    assert minidl.zeros(0, 3).shape == (0, 3)


def test_arange_int_and_float():
    a = minidl.arange(5)
    assert a.dtype == np.int64 and a.tolist() == [0, 1, 2, 3, 4]
    assert minidl.arange(2, 8, 3).tolist() == [2, 5]
    f = minidl.arange(0.0, 1.0, 0.25)
    assert f.dtype == np.float32 and f.tolist() == [0.0, 0.25, 0.5, 0.75]
    assert minidl.arange(3, dtype=minidl.float32).tolist() == [0.0, 1.0, 2.0]


def test_linspace_and_eye():
    assert minidl.linspace(0, 1, 5).tolist() == [0.0, 0.25, 0.5, 0.75, 1.0]
    assert minidl.linspace(0, 1, 5).dtype == np.float32
    e = minidl.eye(3)
    assert e.dtype == np.float32 and e.tolist() == np.eye(3).tolist()
    assert minidl.eye(2, 3).shape == (2, 3)


def test_like_functions():
    x = minidl.tensor([[1.0, 2.0]], dtype=minidl.float64)
    for make in (minidl.zeros_like, minidl.ones_like, minidl.randn_like, minidl.rand_like):
        y = make(x)
        assert y.shape == (1, 2) and y.dtype == np.float64 and y.device == "cpu" and not y.requires_grad
    assert minidl.zeros_like(x).tolist() == [[0.0, 0.0]]
    assert minidl.ones_like(x).tolist() == [[1.0, 1.0]]
    assert minidl.full_like(x, 3.0).tolist() == [[3.0, 3.0]]
    assert minidl.ones_like(x, dtype=minidl.float32).dtype == np.float32
    assert minidl.zeros_like(x, requires_grad=True).requires_grad
    s = x.to("strict")
    assert minidl.zeros_like(s).device == "strict" and minidl.randn_like(s).device == "strict"


def test_random_shapes_ranges_and_dtypes():
    minidl.manual_seed(1)
    r = minidl.rand(1000)
    assert r.dtype == np.float32 and 0.0 <= r.numpy().min() and r.numpy().max() < 1.0
    n = minidl.randn(2000, dtype=minidl.float64)
    assert n.dtype == np.float64 and abs(n.numpy().mean()) < 0.1 and abs(n.numpy().std() - 1) < 0.1
    i = minidl.randint(3, 6, (500,))
    assert i.dtype == np.int64 and set(i.tolist()) == {3, 4, 5}
    assert set(minidl.randint(2, size=(100,)).tolist()) <= {0, 1}
    assert minidl.randn(2, 3).shape == (2, 3) and minidl.randn((4,)).shape == (4,)
    assert minidl.randn(3, requires_grad=True).requires_grad
    with pytest.raises(TypeError, match="floating"):
        minidl.randn(2, dtype=minidl.int64)


def test_manual_seed_makes_random_reproducible():
    minidl.manual_seed(123)
    a, b, c = minidl.randn(5), minidl.rand(3), minidl.randint(0, 100, (4,))
    minidl.manual_seed(123)
    assert minidl.randn(5).tolist() == a.tolist()
    assert minidl.rand(3).tolist() == b.tolist()
    assert minidl.randint(0, 100, (4,)).tolist() == c.tolist()
    minidl.manual_seed(124)
    assert minidl.randn(5).tolist() != a.tolist()


def test_seed_gives_same_values_on_every_device():
    minidl.manual_seed(7)
    cpu = minidl.randn(4)
    minidl.manual_seed(7)
    strict = minidl.randn(4, device="strict")
    assert strict.device == "strict" and strict.tolist() == cpu.tolist()


def test_rng_state_round_trip():
    state = minidl.get_rng_state()
    a = minidl.randn(3)
    minidl.set_rng_state(state)
    assert minidl.randn(3).tolist() == a.tolist()


def test_negative_size_refused():
    with pytest.raises(ValueError, match="size"):
        minidl.zeros(-1)
