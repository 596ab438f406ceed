"""Checkpoints: ``save(obj, path)`` and ``load(path)`` without pickle.

``obj`` is a nesting of dicts, lists and tuples whose leaves are Tensors,
NumPy arrays and scalars, Python numbers, bools, strings and None: a model's
``state_dict()``, an optimizer's, a step counter, RNG states with big ints.

The file is an uncompressed ``.npz`` archive (a zip of ``.npy`` files):

* every array is one entry, named ``a0``, ``a1``, ...;
* the entry ``__structure__`` is a uint8 array holding UTF-8 JSON that
  describes the nesting. Each node is a small dict with a ``"type"``:
  ``dict`` (keys and values as node lists, ``ordered`` for OrderedDict),
  ``list``, ``tuple``, ``none``, ``bool``, ``int`` (decimal string: any size),
  ``float`` (``repr`` string: exact, also nan and inf), ``str``, ``bytes`` (hex),
  ``dtype`` (NumPy's type string), ``ndarray``
  and ``scalar`` (NumPy scalar) with the entry's key, dtype and shape, and
  ``tensor`` with key, dtype, shape and device.

Loading always uses ``np.load(path, allow_pickle=False)``, so a checkpoint can
never run code. Writing is atomic (temporary file, fsync, ``os.replace``); a
damaged file is refused with a ``ValueError`` naming it, before anything is built.
"""

from __future__ import annotations

import io
import json
import os
import zipfile
from collections import OrderedDict
from dataclasses import is_dataclass

import numpy as np

from minidl.core.atomic_write import write_atomically
from minidl.core.backend import Device, to_device, to_numpy
from minidl.core.dtypes import DType
from minidl.core.tensor import Tensor

FORMAT = "minidl.checkpoint"
VERSION = 1
STRUCTURE_KEY = "__structure__"
_ARRAY_NODES = ("ndarray", "scalar", "tensor")


# --- save -------------------------------------------------------------------------------------

class _Packer:
    """Turns an object into a JSON node tree plus a dict of arrays to store."""

    def __init__(self):
        self.arrays = {}
        self._open = set()  # ids of the containers on the current path (cycle check)

    def pack(self, obj, where):
        if obj is None:
            return {"type": "none"}
        if isinstance(obj, (bool, str)):
            return {"type": type(obj).__name__, "value": obj}
        if isinstance(obj, Tensor):
            array = to_numpy(obj.array)
            return dict(self._array(array, where), type="tensor", device=str(obj.device))
        if isinstance(obj, (np.ndarray, np.generic)):
            node = self._array(np.asarray(obj), where)
            return dict(node, type="ndarray" if isinstance(obj, np.ndarray) else "scalar")
        if isinstance(obj, int):
            return {"type": "int", "value": _int_text(int(obj))}
        if isinstance(obj, float):
            return {"type": "float", "value": repr(float(obj))}
        if isinstance(obj, bytes):
            return {"type": "bytes", "value": obj.hex()}
        if isinstance(obj, DType):
            return {"type": "dtype", "value": obj.numpy.str}
        if isinstance(obj, (dict, list, tuple)):
            return self._container(obj, where)
        if hasattr(obj, "state_dict") and hasattr(obj, "load_state_dict"):
            raise TypeError(f"save: can't save {_name(where)}, a {type(obj).__name__} itself (that would need "
                            "pickle); save its state_dict() and load that into a new one with load_state_dict()")
        raise TypeError(f"save: can't save {_name(where)} of type {type(obj).__name__}; supported are "
                         "dicts, lists, tuples, Tensors, NumPy arrays and scalars, numbers, str, bytes, bool, dtypes and None"
                        + ("; save dataclasses.asdict(obj) instead" if is_dataclass(obj) else
                           "; save vars(obj) instead" if hasattr(obj, "__dict__") and not callable(obj) else ""))

    def _array(self, array, where):
        if array.dtype.hasobject:
            raise ValueError(f"save: can't save {_name(where)}: NumPy arrays of dtype object would need pickle")
        key = f"a{len(self.arrays)}"
        self.arrays[key] = array
        return {"key": key, "dtype": array.dtype.str, "shape": list(array.shape)}

    def _container(self, obj, where):
        if id(obj) in self._open:
            raise ValueError(f"save: {_name(where)} contains itself")
        self._open.add(id(obj))
        try:
            if isinstance(obj, dict):
                return {"type": "dict", "ordered": isinstance(obj, OrderedDict),
                        "keys": [self._key(key, where) for key in obj],
                        "values": [self.pack(value, where + (key,)) for key, value in obj.items()]}
            kind = "tuple" if isinstance(obj, tuple) else "list"
            return {"type": kind, "items": [self.pack(item, where + (i,)) for i, item in enumerate(obj)]}
        finally:
            self._open.discard(id(obj))

    def _key(self, key, where):
        if key is None or isinstance(key, (str, int, float)) and not isinstance(key, np.generic):
            return self.pack(key, where)
        raise ValueError(f"save: dict keys must be str, int, float, bool or None; "
                         f"{_name(where)} has a key of type {type(key).__name__}")


def _int_text(number):
    """Decimal text, or hex beyond Python's limit on decimal conversions; ``int(text, 0)`` reads both."""
    return str(number) if number.bit_length() < 10_000 else hex(number)


def _name(where):
    """A key path for messages: ``optimizer.state.0.momentum_buffer``."""
    return "the object" if not where else "key " + ".".join(str(part) for part in where)


def save(obj, f, pickle_module=None, pickle_protocol=None, _use_new_zipfile_serialization=True):
    """Save ``obj`` (nested dicts/lists/tuples of Tensors, arrays, numbers, str ...) to ``f``: a path or a
    binary file object (``io.BytesIO``, an ``open(..., "wb")`` file), as PyTorch's ``torch.save``.

    A path is written exactly there (no suffix is added), atomically: a reader sees either the old file
    or the complete new one. A file object gets the whole archive in one write, after everything has been
    packed. PyTorch's pickle options are accepted and have no effect: minidl never pickles.
    """
    packer = _Packer()
    root = packer.pack(obj, ())
    document = json.dumps({"format": FORMAT, "version": VERSION, "root": root}, separators=(",", ":"))
    entries = dict(packer.arrays)
    entries[STRUCTURE_KEY] = np.frombuffer(document.encode("utf-8"), dtype=np.uint8)
    if hasattr(f, "write"):
        archive = io.BytesIO()
        np.savez(archive, allow_pickle=False, **entries)
        f.write(archive.getvalue())
        return
    write_atomically(_path(f, "save"), lambda file: np.savez(file, allow_pickle=False, **entries), "save")


def _path(f, where):
    """``f`` as a path string; a TypeError naming ``where`` for anything else."""
    try:
        return os.fspath(f)
    except TypeError:
        raise TypeError(f"{where}: expected a path (str or pathlib.Path) or a binary file object, got "
                        f"{type(f).__name__}") from None


# --- load -------------------------------------------------------------------------------------

def load(f, map_location=None, pickle_module=None, *, weights_only=None, mmap=None):
    """Load what :func:`save` wrote to ``f``: a path or a binary file object opened for reading.

    Tensors come back on the device they were saved from (requires_grad
    False), or on ``map_location``: a device (``"cpu"``, ``"cuda:0"``) or a
    dict mapping saved device names to new ones (``{"cuda:0": "cpu"}``), or a
    function ``(tensor, saved_device) -> tensor`` given each tensor on the CPU.
    Arrays come back as NumPy arrays, dicts as dicts (OrderedDicts stay
    OrderedDicts), tuples as tuples. A checkpoint holds data only, so ``weights_only`` is always
    satisfied; ``pickle_module`` and ``mmap`` are accepted as PyTorch's and change nothing.
    """
    if hasattr(f, "read"):
        path = getattr(f, "name", None) or "the file object"
        entries = _read_entries(path, io.BytesIO(f.read()))
    else:
        path = _path(f, "load")
        entries = _read_entries(path)
    root = _parse_structure(path, entries)
    _check(root, entries, path, ())
    _check_devices(root, map_location)
    return _build(root, entries, map_location)


def _read_entries(path, content=None):
    """Every entry of the archive at ``path`` (or in the bytes buffer ``content``), read fully into memory."""
    def opened():
        return open(path, "rb") if content is None else _unclosed(content)
    with opened() as file:  # FileNotFoundError etc. pass through unchanged
        head = file.read(4)
        file.seek(0)
    if head != b"PK\x03\x04":
        raise ValueError(f"load: {path} is not a minidl checkpoint (empty, truncated or not a .npz archive)")
    try:
        with opened() as file, np.load(file, allow_pickle=False) as archive:  # the handle closes on errors too
            entries = {name: archive[name] for name in archive.files}
    except ValueError as error:
        if "allow_pickle" in str(error):
            raise ValueError(f"load: {path} holds object arrays, which need pickle to load; "
                             "minidl never unpickles") from error
        raise ValueError(f"load: {path} is corrupted or truncated ({error})") from error
    except (zipfile.BadZipFile, OSError, EOFError, KeyError) as error:
        raise ValueError(f"load: {path} is corrupted or truncated ({error})") from error
    strays = sorted(name for name, value in entries.items() if not isinstance(value, np.ndarray))
    if strays:
        raise ValueError(f"load: {path} is not a minidl checkpoint (entries {strays} are not .npy arrays)")
    return entries


class _unclosed:
    """A with-block over an in-memory buffer that leaves it open."""

    def __init__(self, buffer):
        self.buffer = buffer

    def __enter__(self):
        return self.buffer

    def __exit__(self, *exc):
        return False


def _parse_structure(path, entries):
    if STRUCTURE_KEY not in entries:
        raise ValueError(f"load: {path} is not a minidl checkpoint (no {STRUCTURE_KEY} entry)")
    raw = entries[STRUCTURE_KEY]
    try:
        if raw.dtype != np.uint8 or raw.ndim != 1:
            raise ValueError(f"the {STRUCTURE_KEY} entry is {raw.dtype} {raw.shape}, not bytes")
        document = json.loads(raw.tobytes().decode("utf-8"))
        if not isinstance(document, dict) or document.get("format") != FORMAT or "root" not in document:
            raise ValueError("the structure is not a minidl checkpoint description")
    except ValueError as error:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        raise ValueError(f"load: {path} is corrupted: bad structure document ({error})") from error
    if document.get("version") != VERSION:
        raise ValueError(f"load: {path} has checkpoint format version {document.get('version')}; "
                         f"this minidl reads version {VERSION}")
    return document["root"]


_SCALAR_CHECKS = {"bool": lambda v: isinstance(v, bool), "str": lambda v: isinstance(v, str),
                  "int": lambda v: isinstance(v, str) and _parses(int, v, 0),
                  "float": lambda v: isinstance(v, str) and _parses(float, v),
                  "bytes": lambda v: isinstance(v, str) and _parses(bytes.fromhex, v),
                  "dtype": lambda v: isinstance(v, str) and _parses(DType, v)}


def _parses(convert, text, *args):
    try:
        convert(text, *args)
    except ValueError:
        return False
    return True


def _check(node, entries, path, where):
    """Validate the whole node tree against the arrays before anything is built."""
    def fail(problem):
        raise ValueError(f"load: {path} is corrupted: {problem} at {_name(where)}")

    kind = node.get("type") if isinstance(node, dict) else None
    if kind == "none":
        return
    if kind in _SCALAR_CHECKS:
        if not _SCALAR_CHECKS[kind](node.get("value")):
            fail(f"bad {kind} value {node.get('value')!r}")
    elif kind in _ARRAY_NODES:
        _check_array(node, entries, fail)
    elif kind in ("list", "tuple"):
        if not isinstance(node.get("items"), list):
            fail(f"a {kind} without items")
        for i, item in enumerate(node["items"]):
            _check(item, entries, path, where + (i,))
    elif kind == "dict":
        keys, values = node.get("keys"), node.get("values")
        if not isinstance(keys, list) or not isinstance(values, list) or len(keys) != len(values):
            fail("a dict whose keys and values don't match")
        for key in keys:
            if not isinstance(key, dict) or key.get("type") not in ("none", "bool", "str", "int", "float"):
                fail(f"bad dict key {key!r}")
            _check(key, entries, path, where)
        for key, value in zip(keys, values):
            _check(value, entries, path, where + (_build(key, entries, None),))
    else:
        fail(f"unknown node {node!r:.80}")


def _check_array(node, entries, fail):
    key = node.get("key")
    if key not in entries or key == STRUCTURE_KEY:
        fail(f"missing array entry {key!r}")
    array = entries[key]
    if array.dtype.str != node.get("dtype") or list(array.shape) != node.get("shape"):
        fail(f"array {key} is {array.dtype.str} {list(array.shape)}, "
             f"the structure says {node.get('dtype')} {node.get('shape')}")
    if node["type"] == "scalar" and array.ndim != 0:
        fail(f"NumPy scalar {key} has shape {array.shape}")
    if node["type"] == "tensor":
        try:
            Device(node.get("device"))
        except Exception:
            fail(f"bad device {node.get('device')!r}")


def _target_device(saved, map_location):
    """Where a tensor saved on ``saved`` goes."""
    if map_location is None:
        return saved
    if callable(map_location):  # PyTorch's map_location(storage, location): called on the CPU tensor in _build
        return "cpu"
    if isinstance(map_location, dict):  # keys like "cuda:0", or a device type like "cuda"
        return str(map_location.get(saved, map_location.get(Device(saved).type, saved)))
    return str(Device(map_location))


def _tensor_devices(node):
    kind = node["type"]
    if kind == "tensor":
        yield node["device"]
    children = node.get("values", []) if kind == "dict" else node.get("items", [])
    for child in children:
        yield from _tensor_devices(child)


def _check_devices(root, map_location):
    """Fail before building anything when a target device is unavailable."""
    for saved in sorted(set(_tensor_devices(root))):
        target = _target_device(saved, map_location)
        try:
            Device(target).xp
        except Exception as error:
            raise type(error)(f"load: tensors saved on {saved} can't be loaded onto {target} ({error}); "
                              "pass map_location='cpu' to load them onto the CPU") from error


def _build(node, entries, map_location):
    """The Python object a (validated) node describes."""
    kind = node["type"]
    if kind == "none":
        return None
    if kind in ("bool", "str"):
        return node["value"]
    if kind == "int":
        return int(node["value"], 0)
    if kind == "float":
        return float(node["value"])
    if kind == "bytes":
        return bytes.fromhex(node["value"])
    if kind == "dtype":
        return DType(node["value"])
    if kind == "ndarray":
        return entries[node["key"]]
    if kind == "scalar":
        return entries[node["key"]][()]
    if kind == "tensor":
        device = _target_device(node["device"], map_location)
        tensor = Tensor(to_device(entries[node["key"]], device))
        if callable(map_location):
            moved = map_location(tensor, node["device"])
            return moved if isinstance(moved, Tensor) else tensor
        return tensor
    if kind == "dict":
        pairs = [(_build(key, entries, map_location), _build(value, entries, map_location))
                 for key, value in zip(node["keys"], node["values"])]
        return OrderedDict(pairs) if node.get("ordered") else dict(pairs)
    items = [_build(item, entries, map_location) for item in node["items"]]
    return tuple(items) if kind == "tuple" else items
