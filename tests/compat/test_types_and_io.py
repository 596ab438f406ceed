"""Types, random streams and checkpoints as PyTorch programs meet them: Size, dtypes, format specs,
memmaps, Generator, normal/multinomial/bernoulli, inference_mode, save/load with file objects."""

import io
import math

import numpy as np
import pytest

import minidl
from minidl import info
from minidl.utils.data import DataLoader, RandomSampler, TensorDataset, random_split


# --- Size and dtypes -----------------------------------------------------------------------------

def test_shape_is_a_size_with_numel_and_reads_as_a_tuple():
    x = minidl.zeros(2, 3, 4)
    assert isinstance(x.shape, minidl.Size) and isinstance(x.shape, tuple)
    assert x.shape == (2, 3, 4) and x.size() == x.shape and x.size(1) == 3
    assert x.shape.numel() == 24 and minidl.Size([]).numel() == 1
    assert isinstance(x.shape[1:], minidl.Size) and x.shape[1:] == (3, 4) and x.shape[-1] == 4
    assert repr(x.shape) == "minidl.Size([2, 3, 4])" and f"{x.shape}" == "(2, 3, 4)"
    assert minidl.zeros(x.shape[:2]).shape == (2, 3) and np.zeros(x.shape).shape == (2, 3, 4)


def test_dtypes_print_as_minidl_names_and_equal_numpy_ones():
    x = minidl.ones(2)
    assert repr(x.dtype) == "minidl.float32" and str(minidl.int64) == "minidl.int64"
    assert str(minidl.bool) == "minidl.bool" and (x > 0).dtype is minidl.bool
    assert x.dtype is minidl.float32 and x.double().dtype is minidl.float64 and x.dtype is minidl.float
    assert x.dtype == np.float32 and np.float32 == x.dtype and np.dtype("float32") == x.dtype
    assert x.dtype != minidl.float64 and x.dtype != None and x.dtype != 0  # noqa: E711
    assert {np.dtype(np.float32): "yes"}[x.dtype] == "yes"
    assert x.dtype.is_floating_point and not minidl.int64.is_floating_point and x.dtype.itemsize == 4
    assert np.zeros(2, dtype=minidl.float64).dtype == np.float64  # NumPy takes a minidl dtype
    assert isinstance(minidl.float16, minidl.dtype) and minidl.get_default_dtype() is minidl.float32
    assert repr(minidl.ones(2, dtype=minidl.float64)) == "tensor([1., 1.], dtype=minidl.float64)"


def test_a_0d_tensor_takes_a_format_spec_and_others_say_what_to_do():
    loss = minidl.tensor(0.123456)
    assert f"{loss:.3f}" == "0.123" and f"{minidl.tensor(7):4d}" == "   7" and f"{loss}" == str(loss.item())  # as PyTorch
    with pytest.raises(TypeError, match=r"format: only a 0-d tensor .*shape \(2,\).*item\(\)"):
        f"{minidl.ones(2):.2f}"


def test_from_numpy_takes_a_memmap_and_shares_its_memory(tmp_path):
    path = tmp_path / "values.bin"
    np.arange(12, dtype=np.float32).tofile(path)
    memory = np.memmap(path, dtype=np.float32, mode="r+", shape=(3, 4))
    x = minidl.from_numpy(memory)
    assert type(x.array) is np.ndarray and float(x.sum()) == 66.0
    memory[0, 0] = 100.0
    assert float(x[0, 0]) == 100.0
    assert (minidl.nn.Linear(4, 2)(x)).shape == (3, 2)


# --- random streams ------------------------------------------------------------------------------

def test_a_generator_is_its_own_reproducible_stream():
    first = minidl.randn(4, generator=minidl.Generator().manual_seed(7))
    minidl.manual_seed(0)
    noise = minidl.randn(3)
    again = minidl.randn(4, generator=minidl.Generator().manual_seed(7))
    assert np.array_equal(first.numpy(), again.numpy())
    minidl.manual_seed(0)
    assert np.array_equal(minidl.randn(3).numpy(), noise.numpy())  # the generator did not touch the default stream
    g = minidl.Generator().manual_seed(3)
    assert g.initial_seed() == 3
    state = g.get_state()
    a = minidl.randperm(10, generator=g)
    g.set_state(state)
    assert np.array_equal(minidl.randperm(10, generator=g).numpy(), a.numpy())
    assert sorted(a.tolist()) == list(range(10))
    assert minidl.randint(5, (3,), generator=g).shape == (3,) and minidl.rand(2, generator=g).shape == (2,)
    with pytest.raises(TypeError, match="randn: generator must be a minidl.Generator"):
        minidl.randn(2, generator=42)


def test_data_takes_a_generator_as_pytorch_programs_pass_it():
    data = TensorDataset(minidl.arange(20))
    split = [random_split(data, [0.8, 0.2], generator=minidl.Generator().manual_seed(42))[0].indices
             for _ in range(2)]
    assert split[0] == split[1] and len(split[0]) == 16
    orders = [[int(i) for batch in DataLoader(data, 5, shuffle=True, generator=minidl.Generator().manual_seed(1))
               for i in batch[0]] for _ in range(2)]
    assert orders[0] == orders[1] and sorted(orders[0]) == list(range(20)) and orders[0] != list(range(20))
    assert list(RandomSampler(data, generator=minidl.Generator().manual_seed(5))) == \
        list(RandomSampler(data, generator=minidl.Generator().manual_seed(5)))


def test_normal_in_its_four_forms():
    g = minidl.Generator().manual_seed(0)
    assert minidl.normal(0.0, 1.0, (2, 3), generator=g).shape == (2, 3)
    mean = minidl.arange(4).double() * 100
    samples = minidl.normal(mean, 0.01, generator=g)
    assert samples.dtype is minidl.float64 and np.allclose(samples.numpy(), mean.numpy(), atol=0.1)
    assert minidl.normal(0.0, minidl.ones(5)).shape == (5,)
    assert minidl.normal(minidl.zeros(2, 1), minidl.ones(3)).shape == (2, 3)
    big = minidl.normal(2.0, 3.0, (200_000,), generator=g).numpy()
    assert abs(big.mean() - 2) < 0.03 and abs(big.std() - 3) < 0.03
    with pytest.raises(ValueError, match="normal: std must be >= 0"):
        minidl.normal(0.0, -1.0, (2,))
    with pytest.raises(TypeError, match="normal: .*give a size"):
        minidl.normal(0.0, 1.0)


def test_multinomial_draws_with_the_right_frequencies():
    g = minidl.Generator().manual_seed(0)
    weights = minidl.tensor([2.0, 3.0, 5.0])  # unnormalised, as PyTorch allows
    counts = np.bincount(minidl.multinomial(weights, 50_000, replacement=True, generator=g).numpy(), minlength=3)
    assert np.allclose(counts / 50_000, [0.2, 0.3, 0.5], atol=0.01)
    # without replacement the second pick follows the renormalised weights of those left
    second = np.bincount([minidl.multinomial(weights, 2, generator=g)[1].item() for _ in range(6000)], minlength=3)
    expected = [0.3 * 2 / 7 + 0.5 * 2 / 5, 0.2 * 3 / 8 + 0.5 * 3 / 5, 0.2 * 5 / 8 + 0.3 * 5 / 7]
    assert np.allclose(second / 6000, expected, atol=0.025)
    rows = minidl.multinomial(minidl.tensor([[0.0, 1.0, 1.0], [1.0, 0.0, 1.0]]), 2, generator=g)
    assert rows.shape == (2, 2) and rows.dtype is minidl.int64
    assert sorted(rows[0].tolist()) == [1, 2] and sorted(rows[1].tolist()) == [0, 2]
    with pytest.raises(ValueError, match="multinomial: cannot draw 2 samples without replacement .* 1 categories"):
        minidl.multinomial(minidl.tensor([0.0, 1.0, 0.0]), 2)
    with pytest.raises(ValueError, match="multinomial: the weights must be finite and >= 0"):
        minidl.multinomial(minidl.tensor([0.5, -0.1]), 1)
    with pytest.raises(ValueError, match="multinomial: input must be a 1-D or 2-D"):
        minidl.multinomial(minidl.ones(2, 2, 2), 1)


def test_bernoulli_and_random_fills():
    g = minidl.Generator().manual_seed(0)
    draws = minidl.bernoulli(minidl.full((100_000,), 0.3), generator=g).numpy()
    assert set(np.unique(draws)) <= {0.0, 1.0} and abs(draws.mean() - 0.3) < 0.01
    weight = minidl.nn.Linear(50, 40).weight
    with minidl.no_grad():
        weight.normal_(0.0, 0.02, generator=g)
    assert abs(float(weight.std()) - 0.02) < 0.002
    x = minidl.zeros(1000).uniform_(-2, 2)
    assert float(x.min()) >= -2 and float(x.max()) < 2 and float(x.max()) > 1.5
    with pytest.raises(minidl.AutogradError, match="copy_: a leaf tensor that requires grad"):
        weight.normal_()


def test_inference_mode_works_as_no_grad_in_every_form():
    x = minidl.ones(2, requires_grad=True)

    @minidl.inference_mode()
    def called(v):
        return v * 2

    @minidl.inference_mode
    def bare(v):
        return v * 2

    assert not called(x).requires_grad and not bare(x).requires_grad
    with minidl.inference_mode():
        assert not (x * 2).requires_grad
    with minidl.inference_mode(False):
        assert (x * 2).requires_grad
    assert minidl.autograd.inference_mode is minidl.inference_mode


# --- checkpoints -----------------------------------------------------------------------------------

def test_save_and_load_through_file_objects_with_what_programs_save(tmp_path):
    model = minidl.nn.Linear(3, 2)
    checkpoint = {"model": model.state_dict(), "iter_num": 1200, "best_val_loss": minidl.tensor(1.25),
                  "config": {"n_layer": 4, "dropout": 0.1, "bias": False, "dataset": "shakespeare_char",
                             "dtype": minidl.float32, "shape": minidl.zeros(2, 3).shape},
                  "vocab": b"abc"}
    buffer = io.BytesIO()
    minidl.save(checkpoint, buffer)
    buffer.seek(0)
    loaded = minidl.load(buffer, map_location="cpu", weights_only=True)
    assert loaded["iter_num"] == 1200 and loaded["config"]["dataset"] == "shakespeare_char"
    assert loaded["config"]["dtype"] is minidl.float32 and loaded["config"]["shape"] == (2, 3)
    assert loaded["vocab"] == b"abc" and float(loaded["best_val_loss"]) == 1.25
    assert np.array_equal(loaded["model"]["weight"].numpy(), model.weight.detach().numpy())
    with open(tmp_path / "ckpt.pt", "wb") as file:
        minidl.save(model.state_dict(), file)
    with open(tmp_path / "ckpt.pt", "rb") as file:
        assert list(minidl.load(file)) == ["weight", "bias"]


def test_saving_what_cannot_be_saved_says_what_to_save_instead():
    import argparse
    import dataclasses

    @dataclasses.dataclass
    class Config:
        n_layer: int = 2

    with pytest.raises(TypeError, match=r"save: .*type Config.*dataclasses.asdict\(obj\)"):
        minidl.save({"config": Config()}, io.BytesIO())
    with pytest.raises(TypeError, match=r"save: .*type Namespace.*vars\(obj\)"):
        minidl.save(argparse.Namespace(lr=0.1), io.BytesIO())
    with pytest.raises(TypeError, match="save: expected a path .* or a binary file object, got int"):
        minidl.save({}, 3)
    with pytest.raises(ValueError, match="load: the file object is not a minidl checkpoint"):
        minidl.load(io.BytesIO(b"not a checkpoint"))


# --- GPU wheels ----------------------------------------------------------------------------------

SMI_HEADER = "| NVIDIA-SMI 580.65.06   Driver Version: 580.65.06   CUDA Version: {} |"


@pytest.mark.parametrize("cuda,installed,says", [
    ("13.0", None, 'cupy-cuda13x fits it: pip install -e ".[gpu-cuda13]"'),
    ("12.4", None, 'cupy-cuda12x fits it: pip install -e ".[gpu]"'),
    ("13.1", "cupy-cuda12x", "cupy-cuda12x is installed but cupy-cuda13x fits it"),
    ("12.8", "cupy-cuda12x", "cupy-cuda12x fits and is installed"),
    ("10.2", None, "older than any CuPy wheel"),
])
def test_info_names_the_cupy_wheel_that_fits_the_driver(cuda, installed, says):
    version = info.driver_cuda_version(SMI_HEADER.format(cuda))
    assert version == tuple(int(part) for part in cuda.split("."))
    assert says in info.cupy_wheel_advice(version, installed)


def test_info_without_a_driver_says_so():
    assert info.driver_cuda_version("") is None and info.driver_cuda_version(None) is None
    assert "no NVIDIA driver" in info.cupy_wheel_advice(None, None)
    assert math.isfinite(1.0)


# --- names programs only mention -------------------------------------------------------------------

def test_bfloat16_can_be_named_but_not_used():
    table = {"float32": minidl.float32, "bfloat16": minidl.bfloat16, "float16": minidl.float16}
    assert table["float32"] is minidl.float32 and repr(minidl.bfloat16) == "minidl.bfloat16"
    with minidl.autocast(device_type="cpu", dtype=minidl.bfloat16):  # autocast changes nothing in minidl
        assert (minidl.ones(2) * 2).dtype is minidl.float32
    with pytest.raises(TypeError, match="zeros: dtype minidl.bfloat16: minidl computes in float32"):
        minidl.zeros(2, dtype=minidl.bfloat16)
    with pytest.raises(TypeError, match="to: dtype minidl.bfloat16: .*use minidl.float32"):
        minidl.ones(2).to(minidl.bfloat16)


def test_to_takes_pytorchs_copy_options():
    x = minidl.ones(2)
    assert x.to("cpu", non_blocking=True) is x and x.to("cpu", copy=True) is not x
    assert x.to("cpu", minidl.float64, True).dtype is minidl.float64  # (device, dtype, non_blocking)
    model = minidl.nn.Linear(2, 2)
    assert model.to("cpu", non_blocking=True) is model
    model.to(minidl.zeros(1, dtype=minidl.float64))
    assert model.weight.dtype is minidl.float64
    with pytest.raises(TypeError, match=r"to: unexpected arguments \['colour'\]"):
        x.to("cpu", colour="red")


def test_load_takes_a_map_location_function_and_save_refuses_whole_models():
    buffer = io.BytesIO()
    minidl.save({"w": minidl.ones(2)}, buffer)
    buffer.seek(0)
    seen = []
    loaded = minidl.load(buffer, map_location=lambda storage, location: seen.append(location) or storage * 2)
    assert loaded["w"].tolist() == [2.0, 2.0] and seen == ["cpu"]
    with pytest.raises(TypeError, match=r"save: can't save the object, a Linear itself .*state_dict\(\)"):
        minidl.save(minidl.nn.Linear(2, 2), io.BytesIO())


def test_data_is_a_tensor_sharing_the_values_outside_the_graph():
    layer = minidl.nn.Linear(3, 2)
    weight = layer.weight
    assert isinstance(weight.data, minidl.Tensor) and not isinstance(weight.data, minidl.nn.Parameter)
    assert not weight.data.requires_grad and weight.data.grad_fn is None
    assert type(weight.array) is np.ndarray and np.shares_memory(weight.data.array, weight.array)
    before = weight.array.copy()
    loss = layer(minidl.ones(1, 3)).sum()
    loss.backward()
    weight.data.add_(weight.grad, alpha=-0.5)  # manual SGD, as PyTorch's word-LM example does
    assert np.allclose(weight.array, before - 0.5 * weight.grad.array)
    weight.grad.data.zero_()
    assert not weight.grad.array.any()
    weight.data.normal_(0.0, 0.02)
    assert abs(float(weight.array.std()) - 0.02) < 0.02
    weight.data = minidl.zeros(4, 3)  # another shape, as PyTorch allows; the parameter stays itself
    assert layer.weight is weight and weight.shape == (4, 3) and isinstance(weight, minidl.nn.Parameter)
    with pytest.raises(TypeError, match="minidl works on numpy, cupy or strict arrays, not list"):
        weight.data = [1.0, 2.0]
