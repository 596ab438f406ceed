"""PyTorch's module layout and device checks, answered truthfully; missing names said plainly."""

import importlib.util

import pytest

import minidl


def test_cuda_answers_from_cupy():
    has_cupy = importlib.util.find_spec("cupy") is not None
    assert minidl.cuda.is_available() in ((True, False) if has_cupy else (False,))
    if not minidl.cuda.is_available():
        assert minidl.cuda.device_count() == 0
        with pytest.raises(minidl.DeviceError, match="cuda.current_device: no GPU"):
            minidl.cuda.current_device()
    assert minidl.cuda.is_bf16_supported() is False
    minidl.cuda.manual_seed_all(3)
    first = minidl.randn(2).tolist()
    minidl.manual_seed(3)
    assert minidl.randn(2).tolist() == first  # one generator for every device


def test_backends_switches_and_amp_run_unchanged():
    minidl.backends.cudnn.benchmark = True
    minidl.backends.cuda.matmul.allow_tf32 = True
    assert minidl.backends.mps.is_available() is False
    scaler = minidl.amp.GradScaler("cuda", enabled=True)
    w = minidl.nn.Parameter(minidl.ones(2))
    optimizer = minidl.optim.SGD([w], lr=0.5)
    with minidl.amp.autocast(device_type="cpu", dtype=minidl.float32):
        loss = (w * w).sum()
    scaler.scale(loss).backward()
    scaler.step(optimizer)
    scaler.update()
    assert w.tolist() == [0.0, 0.0] and not scaler.is_enabled()


def test_utils_data_is_torchs_layout():
    from minidl.utils.data import DataLoader, TensorDataset
    batches = list(DataLoader(TensorDataset(minidl.arange(6).float()), batch_size=4))
    assert [b[0].tolist() for b in batches] == [[0.0, 1.0, 2.0, 3.0], [4.0, 5.0]]


def test_is_tensor_compile_and_small_tensor_methods():
    model = minidl.nn.Linear(2, 2)
    assert minidl.compile(model) is model
    assert minidl.is_tensor(model.weight) and not minidl.is_tensor([1.0])
    x = minidl.ones(2, 3)
    assert x.t().shape == (3, 2) and x.contiguous() is x and x.nelement() == 6
    with pytest.raises(ValueError, match=r"^t: expects a tensor of at most 2 dims"):
        minidl.ones(2, 2, 2).t()


@pytest.mark.parametrize("name, says", [("complex64", "no complex tensors"), ("jit", "no TorchScript"),
                                        ("fft", "does not provide this one")])
def test_a_missing_pytorch_name_is_said_plainly(name, says):
    with pytest.raises(AttributeError, match=says):
        getattr(minidl, name)


def test_the_tensor_class_builds_from_a_list_in_the_default_float_dtype():
    x = minidl.Tensor([[1, 2], [3, 4]])
    assert x.dtype == minidl.float32 and x.tolist() == [[1.0, 2.0], [3.0, 4.0]]


def test_one_hot_any_all_and_type_as_in_pytorch():
    import numpy as np
    F = minidl.nn.functional
    labels = minidl.tensor([0, 2, 1, 2])
    assert F.one_hot(labels).tolist() == np.eye(3, dtype=int)[[0, 2, 1, 2]].tolist()
    assert F.one_hot(labels, num_classes=4).shape == (4, 4) and F.one_hot(labels).dtype == minidl.int64
    with pytest.raises(IndexError, match=r"one_hot: class values must be in \[0, 2\)"):
        F.one_hot(labels, num_classes=2)
    x = minidl.tensor([[0.0, 1.0], [2.0, 3.0]])
    assert x.any().item() and not x.all().item() and x.all(dim=1).tolist() == [False, True]
    with pytest.raises(IndexError, match=r"^all: dim 5 is out of range"):
        x.all(dim=5)
    assert x.type() == "minidl.FloatTensor" and x.type(minidl.int64).dtype == minidl.int64


def test_one_hot_any_all_match_pytorch():
    torch = pytest.importorskip("torch", reason='parity needs PyTorch: pip install -e ".[torch]"')
    labels = [[0, 3], [2, 1]]
    assert minidl.nn.functional.one_hot(minidl.tensor(labels)).tolist() == \
        torch.nn.functional.one_hot(torch.tensor(labels)).tolist()
    values = [[0.0, 1.0], [2.0, 3.0]]
    for library_dim in (None, 0, 1):
        ours, theirs = minidl.tensor(values), torch.tensor(values)
        if library_dim is None:
            assert ours.any().item() == theirs.any().item() and ours.all().item() == theirs.all().item()
        else:
            assert ours.all(dim=library_dim).tolist() == theirs.all(dim=library_dim).tolist()


def test_accelerator_answers_from_cuda():
    assert minidl.accelerator.is_available() == minidl.cuda.is_available()
    if not minidl.cuda.is_available():
        assert minidl.accelerator.current_accelerator() is None
        assert minidl.accelerator.device_count() == 0 and minidl.accelerator.current_device_index() == -1
        with pytest.raises(minidl.DeviceError, match="set_device_index: no GPU is usable"):
            minidl.accelerator.set_device_index(0)
    else:
        assert minidl.accelerator.current_accelerator() == "cuda"


@pytest.mark.parametrize("factory", ["zeros", "ones", "empty", "rand", "randn"])
def test_factories_take_the_size_as_arguments_a_tuple_or_size_keyword(factory):
    make = getattr(minidl, factory)
    assert make(2, 3).shape == make((2, 3)).shape == make([2, 3]).shape == make(size=(2, 3)).shape == (2, 3)
    assert make(size=()).shape == ()
    with pytest.raises(TypeError, match=f"{factory}: got a size both"):
        make(2, size=(3,))
