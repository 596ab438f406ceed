"""minidl.io.save / load: round trips, devices, atomic writes and refusal of damaged files."""

import io
import json
import math
import os
import zipfile
from collections import OrderedDict

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import minidl
from minidl import nn
from minidl.io import STRUCTURE_KEY, load, save

# --- comparing loaded objects ----------------------------------------------------------------------


def assert_same(expected, actual):
    """Equal values and equal types all the way down (nan equals nan)."""
    if isinstance(expected, minidl.Tensor):
        assert type(actual) is minidl.Tensor and not actual.requires_grad
        assert actual.device == expected.device and actual.dtype == expected.dtype
        np.testing.assert_array_equal(actual.cpu().numpy(), expected.detach().cpu().numpy())
    elif isinstance(expected, (np.ndarray, np.generic)):
        assert type(actual) is type(expected) and actual.dtype == expected.dtype
        assert np.shape(actual) == np.shape(expected)
        np.testing.assert_array_equal(actual, expected)
    elif isinstance(expected, dict):
        assert type(actual) is type(expected) and list(actual) == list(expected)
        for key in expected:
            assert type(key) is type(next(k for k in actual if k == key))
            assert_same(expected[key], actual[key])
    elif isinstance(expected, (list, tuple)):
        assert type(actual) is type(expected) and len(actual) == len(expected)
        for e, a in zip(expected, actual):
            assert_same(e, a)
    elif isinstance(expected, float) and math.isnan(expected):
        assert isinstance(actual, float) and math.isnan(actual)
    else:
        assert type(actual) is type(expected) and actual == expected


def round_trip(obj, path, **kwargs):
    save(obj, path)
    return load(path, **kwargs)


# --- property test ------------------------------------------------------------------------------

DTYPES = st.sampled_from([np.float32, np.float64, np.int64, np.int8, np.uint8, np.bool_, np.complex64])
ARRAYS = DTYPES.flatmap(lambda dtype: hnp.arrays(dtype, hnp.array_shapes(min_dims=0, max_dims=3, max_side=3)))
SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-2 ** 200, 2 ** 200), st.text(max_size=8),
                    st.floats(allow_nan=True, allow_infinity=True))
LEAVES = st.one_of(
    SCALARS,
    ARRAYS,
    ARRAYS.map(lambda a: a[()] if a.ndim == 0 else a),  # NumPy scalars
    ARRAYS.filter(lambda a: a.dtype != np.complex64).map(minidl.tensor),
)
KEYS = st.one_of(st.text(max_size=6), st.integers(-5, 5), st.booleans(), st.none())
TREES = st.recursive(
    LEAVES,
    lambda children: st.one_of(st.lists(children, max_size=3),
                               st.lists(children, max_size=3).map(tuple),
                               st.dictionaries(KEYS, children, max_size=3),
                               st.dictionaries(st.text(max_size=4), children, max_size=3).map(OrderedDict)),
    max_leaves=12,
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(obj=TREES)
def test_round_trip_of_nested_structures(tmp_path, obj):
    assert_same(obj, round_trip(obj, tmp_path / "ckpt.npz"))


# --- typical checkpoints ---------------------------------------------------------------------------

def test_training_checkpoint_round_trip(tmp_path):
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    generator = np.random.default_rng(123)
    generator.standard_normal(5)
    checkpoint = {
        "model": model.state_dict(),
        "optimizer": {"state": {0: {"step": 3, "exp_avg": np.ones((4, 3), np.float32)}},
                      "param_groups": [{"params": [0, 1], "lr": 1e-3, "betas": (0.9, 0.999), "foreach": None}]},
        "step": 1234,
        "rng": generator.bit_generator.state,
        "torch_like_rng": minidl.get_rng_state(),
        "name": "run-1",
    }
    loaded = round_trip(checkpoint, tmp_path / "ckpt.pt")
    assert_same({**checkpoint, "model": OrderedDict((k, v.detach()) for k, v in checkpoint["model"].items())},
                loaded)
    assert loaded["rng"]["state"]["state"] > 2 ** 64  # 128-bit ints survive
    restored = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    restored.load_state_dict(loaded["model"])
    x = minidl.randn(5, 3)
    assert np.array_equal(restored(x).detach().numpy(), model(x).detach().numpy())
    resumed = np.random.default_rng()
    resumed.bit_generator.state = loaded["rng"]
    assert np.array_equal(resumed.standard_normal(4), generator.standard_normal(4))


def test_tensors_come_back_detached_and_independent(tmp_path):
    weight = minidl.randn(2, 2, requires_grad=True)
    loaded = round_trip({"w": weight, "p": nn.Parameter(minidl.ones(2))}, tmp_path / "c")
    assert type(loaded["w"]) is minidl.Tensor and not loaded["w"].requires_grad
    assert type(loaded["p"]) is minidl.Tensor
    loaded["w"].array[0, 0] = 100.0
    assert weight.array[0, 0] != 100.0


def test_path_is_used_as_given_and_the_file_is_one_npz(tmp_path):
    save({"a": np.arange(3)}, tmp_path / "model.ckpt")
    assert sorted(os.listdir(tmp_path)) == ["model.ckpt"]
    with np.load(tmp_path / "model.ckpt", allow_pickle=False) as archive:
        assert sorted(archive.files) == [STRUCTURE_KEY, "a0"]
        document = json.loads(archive[STRUCTURE_KEY].tobytes())
    assert document["root"]["values"][0] == {"type": "ndarray", "key": "a0", "dtype": "<i8", "shape": [3]}


# --- devices ---------------------------------------------------------------------------------------

def test_tensors_return_to_their_device_or_map_location(tmp_path):
    obj = {"gpu_like": minidl.arange(3.0).to("strict"), "cpu": minidl.arange(2)}
    save(obj, tmp_path / "c")
    assert load(tmp_path / "c")["gpu_like"].device == "strict"
    assert load(tmp_path / "c", map_location="cpu")["gpu_like"].device == "cpu"
    assert load(tmp_path / "c", map_location={"strict": "cpu"})["gpu_like"].device == "cpu"
    assert load(tmp_path / "c", map_location="strict")["cpu"].device == "strict"


def test_unavailable_device_suggests_map_location(tmp_path, monkeypatch):
    save({"w": minidl.ones(2)}, tmp_path / "c")
    archive = dict(np.load(tmp_path / "c", allow_pickle=False))
    document = json.loads(archive[STRUCTURE_KEY].tobytes())
    document["root"]["values"][0]["device"] = "cuda:0"
    archive[STRUCTURE_KEY] = np.frombuffer(json.dumps(document).encode(), np.uint8)
    np.savez(tmp_path / "gpu.npz", **archive)
    monkeypatch.setattr("minidl.core.backend._load_cupy", lambda: (_ for _ in ()).throw(minidl.DeviceError("no GPU")))
    with pytest.raises(minidl.DeviceError, match="map_location='cpu'"):
        load(tmp_path / "gpu.npz")
    assert load(tmp_path / "gpu.npz", map_location="cpu")["w"].device == "cpu"


# --- refusing bad input ------------------------------------------------------------------------------

def test_unsupported_object_names_its_key_path(tmp_path):
    obj = {"optimizer": {"state": {0: {"momentum_buffer": object()}}}}
    with pytest.raises(TypeError, match=r"optimizer\.state\.0\.momentum_buffer of type object"):
        save(obj, tmp_path / "c")
    with pytest.raises(ValueError, match=r"key layers\.1.*pickle"):
        save({"layers": [np.zeros(1), np.array([None])]}, tmp_path / "c")
    with pytest.raises(ValueError, match="dict keys"):
        save({(1, 2): 3}, tmp_path / "c")
    cycle = []
    cycle.append(cycle)
    with pytest.raises(ValueError, match="contains itself"):
        save(cycle, tmp_path / "c")
    assert os.listdir(tmp_path) == []  # nothing written, no temporary left


def test_failed_write_keeps_the_old_file_and_leaves_no_temporary(tmp_path, monkeypatch):
    save({"v": 1}, tmp_path / "c")

    def broken_savez(file, **entries):
        file.write(b"partial")
        raise OSError("disk full")

    monkeypatch.setattr(np, "savez", broken_savez)
    with pytest.raises(OSError, match="disk full"):
        save({"v": 2}, tmp_path / "c")
    monkeypatch.undo()
    assert os.listdir(tmp_path) == ["c"] and load(tmp_path / "c") == {"v": 1}


def _checkpoint_bytes(obj):
    buffer = io.BytesIO()
    np.savez(buffer, **obj)
    return buffer.getvalue()


def _valid_file(tmp_path):
    save({"w": np.arange(100.0), "n": 3}, tmp_path / "good")
    return (tmp_path / "good").read_bytes()


@pytest.mark.parametrize("cut", [0, 3, 100, -1, -30, -200])
def test_truncated_files_are_refused(tmp_path, cut):
    data = _valid_file(tmp_path)
    (tmp_path / "bad").write_bytes(data[:cut])
    with pytest.raises(ValueError, match="bad"):
        load(tmp_path / "bad")


def test_flipped_bytes_are_refused(tmp_path):
    data = bytearray(_valid_file(tmp_path))
    position = data.index(np.arange(100.0).tobytes()[8:16])
    data[position] ^= 0xFF  # inside the array: the zip CRC no longer matches
    (tmp_path / "bad").write_bytes(bytes(data))
    with pytest.raises(ValueError, match="corrupted"):
        load(tmp_path / "bad")


def _with_structure(tmp_path, document, arrays=None):
    entries = dict(arrays or {})
    text = document if isinstance(document, str) else json.dumps(document)
    entries[STRUCTURE_KEY] = np.frombuffer(text.encode(), np.uint8)
    (tmp_path / "bad").write_bytes(_checkpoint_bytes(entries))
    return tmp_path / "bad"


def _document(root):
    return {"format": "minidl.checkpoint", "version": 1, "root": root}


@pytest.mark.parametrize("document, message", [
    ("{not json", "bad structure document"),
    ({"format": "other"}, "bad structure document"),
    (_document({"type": "ndarray", "key": "a9", "dtype": "<f8", "shape": [2]}), "missing array entry 'a9'"),
    (_document({"type": "ndarray", "key": "a0", "dtype": "<f4", "shape": [2]}), "the structure says <f4"),
    (_document({"type": "list", "items": [1]}), r"unknown node 1 at key 0"),
    (_document({"type": "int", "value": "12x"}), "bad int value"),
    (_document({"type": "dict", "keys": [], "values": [{"type": "none"}]}), "keys and values"),
    (_document({"type": "tensor", "key": "a0", "dtype": "<f8", "shape": [2], "device": "tpu"}), "bad device"),
    ({"format": "minidl.checkpoint", "version": 99, "root": {"type": "none"}}, "version 99"),
])
def test_inconsistent_structure_is_refused(tmp_path, document, message):
    path = _with_structure(tmp_path, document, {"a0": np.zeros(2)})
    with pytest.raises(ValueError, match=message):
        load(path)


def test_missing_structure_object_arrays_and_foreign_files_are_refused(tmp_path):
    (tmp_path / "plain.npz").write_bytes(_checkpoint_bytes({"a0": np.zeros(2)}))
    with pytest.raises(ValueError, match="no __structure__"):
        load(tmp_path / "plain.npz")
    (tmp_path / "objects.npz").write_bytes(_checkpoint_bytes({"a0": np.array([{}], dtype=object)}))
    with pytest.raises(ValueError, match="objects.npz holds object arrays, which need pickle"):
        load(tmp_path / "objects.npz")
    np.save(tmp_path / "array.npy", np.zeros(2))
    with pytest.raises(ValueError, match="not a .npz archive"):
        load(tmp_path / "array.npy")
    with zipfile.ZipFile(tmp_path / "other.zip", "w") as archive:
        archive.writestr("readme.txt", "hello")
    with pytest.raises(ValueError, match="other.zip"):
        load(tmp_path / "other.zip")
    with pytest.raises(FileNotFoundError):
        load(tmp_path / "absent")
