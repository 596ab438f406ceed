"""Errors a learner sees: each names the op and the shapes or devices involved."""

import importlib.util
import re

import numpy as np
import pytest

import minidl
from minidl.core.errors import AutogradError, DeviceError, MinidlError, ShapeError
from minidl.testing import gradcheck


def exact(message):
    return "^" + re.escape(message) + "$"


# --- shapes -----------------------------------------------------------------------------------

def test_matmul_mismatch_message():
    with pytest.raises(ShapeError, match=exact("matmul: shapes (2, 3) and (4, 5) cannot be multiplied (3 != 4)")):
        minidl.randn(2, 3) @ minidl.randn(4, 5)


def test_matmul_mismatch_vector_and_batch():
    with pytest.raises(ShapeError, match=re.escape("matmul: shapes (3,) and (4, 5) cannot be multiplied (3 != 4)")):
        minidl.matmul(minidl.randn(3), minidl.randn(4, 5))
    with pytest.raises(ShapeError, match=r"^matmul: .*\(2, 2, 3\).*\(3, 3, 4\)"):
        minidl.randn(2, 2, 3) @ minidl.randn(3, 3, 4)
    with pytest.raises(ShapeError, match=r"^matmul: .*at least 1 dim"):
        minidl.tensor(2.0) @ minidl.randn(3)


def test_shape_errors_are_value_errors_and_minidl_errors():
    assert issubclass(ShapeError, ValueError) and issubclass(ShapeError, MinidlError)
    assert issubclass(DeviceError, RuntimeError) and issubclass(AutogradError, RuntimeError)


@pytest.mark.parametrize("op, name", [
    (lambda a, b: a + b, "add"), (lambda a, b: a - b, "sub"), (lambda a, b: a * b, "mul"),
    (lambda a, b: a / b, "div"), (lambda a, b: minidl.maximum(a, b), "maximum"),
], ids=lambda v: v if isinstance(v, str) else "")
def test_broadcast_mismatch_message(op, name):
    message = f"{name}: shapes (2, 3) and (4,) cannot be broadcast"
    with pytest.raises(ShapeError, match="^" + re.escape(message)):
        op(minidl.randn(2, 3), minidl.randn(4))


def test_cat_shape_mismatch():
    with pytest.raises(ShapeError, match=r"^cat: .*\(2, 3\).*\(2, 4\)"):
        minidl.cat([minidl.randn(2, 3), minidl.randn(2, 4)], dim=0)
    with pytest.raises(ShapeError, match=r"^cat: .*number of dims.*\(2, 3\).*\(3,\)"):
        minidl.cat([minidl.randn(2, 3), minidl.randn(3)])
    with pytest.raises(ShapeError, match=r"^stack: .*\(2,\).*\(3,\)"):
        minidl.stack([minidl.randn(2), minidl.randn(3)])


def test_reshape_to_wrong_size():
    with pytest.raises(ShapeError, match=r"^reshape: .*\(2, 3\)"):
        minidl.randn(2, 3).reshape(4, 2)
    with pytest.raises(ShapeError, match=r"^reshape: .*\(2, 3\)"):
        minidl.randn(2, 3).view(7)


def test_expand_to_incompatible_shape():
    with pytest.raises(ShapeError, match=r"^expand: .*\(2, 3\)"):
        minidl.randn(2, 3).expand(4, 3)


@pytest.mark.parametrize("call, name", [
    (lambda x: x.sum(dim=2), "sum"), (lambda x: x.mean(dim=-3), "mean"), (lambda x: x.max(dim=5), "max"),
    (lambda x: x.argmax(dim=2), "argmax"), (lambda x: x.softmax(dim=2), "softmax"),
    (lambda x: x.log_softmax(dim=-3), "log_softmax"), (lambda x: x.transpose(0, 2), "transpose"),
    (lambda x: x.squeeze(3), "squeeze"), (lambda x: x.unsqueeze(4), "unsqueeze"),
    (lambda x: minidl.cat([x, x], dim=2), "cat"), (lambda x: x.var(dim=2), "var"),
    (lambda x: x.logsumexp(dim=2), "logsumexp"), (lambda x: x.flatten(0, 5), "flatten"),
    (lambda x: x.split(1, dim=2), "split"), (lambda x: x.amax(dim=2), "amax"),
], ids=lambda v: v if isinstance(v, str) else "")
def test_dim_out_of_range_raises_index_error_naming_op(call, name):
    with pytest.raises(IndexError, match=f"^{name}: .*out of range"):
        call(minidl.randn(2, 3))


@pytest.mark.parametrize("dims", [(0, 5), (0, -3), (1, -3)])
def test_permute_dim_out_of_range_raises_index_error(dims):
    # PyTorch: IndexError "Dimension out of range"; a dim must not silently wrap around
    with pytest.raises(IndexError, match="^permute: .*out of range"):
        minidl.randn(2, 3).permute(*dims)


def test_permute_with_repeated_dim():
    with pytest.raises(ValueError, match=r"^permute: .*\(0, 0\)"):
        minidl.randn(2, 3).permute(0, 0)


def test_softmax_without_dim():
    with pytest.raises(TypeError, match=r"^softmax: dim is required"):
        minidl.randn(2, 3).softmax()
    with pytest.raises(TypeError, match=r"^log_softmax: dim is required"):
        minidl.log_softmax(minidl.randn(2, 3))


def test_getitem_with_float_tensor_index():
    with pytest.raises(IndexError, match=r"^getitem: .*long or bool.*float32"):
        minidl.randn(3)[minidl.tensor([0.0, 1.0])]
    with pytest.raises(IndexError, match=r"^getitem: .*\(3,\)"):
        minidl.randn(3)[5]


def test_mean_of_int_tensor():
    with pytest.raises(TypeError, match=r"^mean: .*int64"):
        minidl.tensor([1, 2]).mean()


def test_clamp_without_bounds():
    with pytest.raises(ValueError, match=r"^clamp: "):
        minidl.randn(3).clamp()


# --- devices --------------------------------------------------------------------------------------

@pytest.mark.parametrize("op, name", [
    (lambda a, b: a + b, "add"), (lambda a, b: a * b, "mul"), (lambda a, b: a @ b, "matmul"),
    (lambda a, b: minidl.cat([a, b]), "cat"), (lambda a, b: minidl.where(a > 0, a, b), "where"),
], ids=lambda v: v if isinstance(v, str) else "")
def test_device_mix_names_op_and_both_devices(op, name):
    cpu, strict = minidl.randn(3), minidl.randn(3, device="strict")
    with pytest.raises(DeviceError, match=rf"^{name}: .*cpu.*strict"):
        op(cpu, strict)
    with pytest.raises(DeviceError, match=rf"^{name}: .*strict.*cpu"):
        op(strict, cpu)


def test_inplace_device_mix_names_op_and_devices():
    x = minidl.zeros(3)
    with pytest.raises(DeviceError, match=r"^add_: .*(cpu.*strict|strict.*cpu)"):
        x.add_(minidl.ones(3, device="strict"))


def test_inplace_shape_mismatch_names_op_and_shapes():
    # not a bare NumPy broadcasting error
    x = minidl.zeros(3)
    with pytest.raises(ShapeError, match=r"^add_: .*\(3,\).*\(4,\)"):
        x.add_(minidl.ones(4))
    with pytest.raises(ShapeError, match=r"^mul_: .*\(3,\).*\(2, 3\)"):
        x.mul_(minidl.ones(2, 3))
    assert x.tolist() == [0.0, 0.0, 0.0]


@pytest.mark.skipif(importlib.util.find_spec("cupy") is not None, reason="CuPy is installed")
def test_cuda_without_cupy_tells_to_install_it():
    x = minidl.randn(2)
    with pytest.raises(DeviceError, match=r"CuPy.*pip install cupy"):
        x.to("cuda")
    with pytest.raises(DeviceError, match="pip install cupy"):
        minidl.zeros(2, device="cuda")


@pytest.mark.parametrize("spec", ["tpu", "gpu", "cuda:x", "strict:1", ""])
def test_invalid_device_string(spec):
    with pytest.raises(DeviceError, match=rf"^device: .*{re.escape(repr(spec))}"):
        minidl.Device(spec)


def test_device_of_wrong_type():
    with pytest.raises(TypeError, match="device"):
        minidl.Device(3.5)


# --- backward ---------------------------------------------------------------------------------------

def test_backward_errors():
    x = minidl.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(AutogradError, match=r"^backward: .*scalar.*\(2,\)"):
        (x * 2).backward()
    with pytest.raises(ShapeError, match=r"^backward: gradient has shape \(3,\) but the tensor has shape \(2,\)"):
        (x * 2).backward(minidl.ones(3))
    with pytest.raises(AutogradError, match=r"^backward: .*does not require grad"):
        minidl.tensor([1.0]).backward()
    with pytest.raises(AutogradError, match=r"^backward: .*strict.*cpu"):
        (x * 2).backward(minidl.ones(2, device="strict"))
    y = (x * x).sum()
    y.backward()
    with pytest.raises(AutogradError, match=r"^\w+: trying to backward through the graph a second time.*retain_graph"):
        y.backward()


def test_inplace_on_leaf_requiring_grad():
    w = minidl.tensor([1.0], requires_grad=True)
    with pytest.raises(AutogradError, match=r"^add_: a leaf tensor that requires grad.*no_grad"):
        w += 1
    with pytest.raises(AutogradError, match=r"^setitem: "):
        w[0] = 2.0


def test_setitem_of_tensor_requiring_grad_is_recorded():
    target, value = minidl.zeros(3), minidl.tensor(1.0, requires_grad=True)
    target[0] = value
    (target * 3).sum().backward()
    assert target.grad_fn is not None and value.grad.item() == 3.0


def test_numpy_of_tensor_requiring_grad():
    with pytest.raises(AutogradError, match=r"^numpy: .*detach"):
        minidl.tensor([1.0], requires_grad=True).numpy()


# --- gradcheck ----------------------------------------------------------------------------------------

def test_gradcheck_refuses_float32():
    a = minidl.tensor(np.ones(2), requires_grad=True)
    b = minidl.tensor([1.0, 2.0], requires_grad=True)  # float32
    with pytest.raises(TypeError, match=r"^gradcheck: input 1 has dtype minidl.float32.*float64"):
        gradcheck(lambda a, b: a * b, (a, b))


def test_gradcheck_without_inputs_requiring_grad():
    with pytest.raises(ValueError, match=r"^gradcheck: no input requires grad"):
        gradcheck(lambda a: a * 2, (minidl.tensor(np.ones(2)),))


# --- creation arguments --------------------------------------------------------------------------------

def test_bad_sizes_and_values():
    with pytest.raises(ValueError, match=r"size: .*\(2, -1\)"):
        minidl.zeros(2, -1)
    with pytest.raises(ValueError, match=r"^split: .*positive"):
        minidl.randn(4).split(0)
    with pytest.raises(ValueError, match=r"^chunk: .*positive"):
        minidl.randn(4).chunk(0)
    with pytest.raises(TypeError, match=r"^where: condition must be a bool tensor"):
        minidl.where(minidl.tensor([1.0]), minidl.tensor([1.0]), minidl.tensor([2.0]))


def test_padding_by_nothing_gives_a_new_array_in_every_mode():
    x = minidl.randn(2, 3)
    for mode in ("constant", "reflect", "replicate", "circular"):
        padded = minidl.nn.functional.pad(x, (0, 0), mode=mode)
        assert not np.shares_memory(padded.numpy(), x.numpy()), mode
