"""The Tensor: an array, its gradient, and the node that produced it.

A Tensor wraps a NumPy, CuPy or strict array (``.array``). Operators and methods
call the differentiable ops in ``minidl.ops`` (through the hook in
``tensor_methods``, so the core imports nothing above it); each op records one node of the
graph (``.grad_fn``), and ``backward()`` walks that graph to fill ``.grad`` of
every leaf that requires grad. Names and semantics follow PyTorch.
"""

from __future__ import annotations

import numpy as np

from minidl.core import hooks, tensor_methods
from minidl.core.backend import Device, array_module, device_of, to_device, to_numpy
from minidl.core.backward import run_backward
from minidl.core.size import Size
from minidl.core.dtypes import as_dtype, dtype_of, get_default_dtype
from minidl.core.errors import AutogradError, ShapeError
from minidl.core.inplace import InPlaceMethods
from minidl.core.inplace_math import InPlaceMathMethods
from minidl.core.printing import array_text  # laid out as minidl.set_printoptions says
from minidl.core.tensor_math_methods import MathMethods
from minidl.core.storage_methods import StorageMethods
from minidl.core.tensor_methods import TensorMethods


class Tensor(InPlaceMethods, InPlaceMathMethods, TensorMethods, MathMethods, StorageMethods):
    """A multi-dimensional array that records the operations applied to it for backward().

    Build one with :func:`minidl.tensor`, :func:`minidl.zeros`, :func:`minidl.randn` ...
    """

    __slots__ = ("array", "grad", "_requires_grad", "_node", "_output", "_version", "_retains_grad",
                 "_post_accumulate_hooks", "_grad_hooks", "__weakref__")
    __array_ufunc__ = None  # numpy defers to Tensor's reflected operators (ndarray + Tensor -> Tensor)

    def __init__(self, data, requires_grad=False):
        if isinstance(data, np.generic):
            data = np.asarray(data)
        elif isinstance(data, (list, tuple)):  # Tensor([...]) as in PyTorch: the default float dtype
            data = tensor_methods.ops.as_tensor(data).array.astype(get_default_dtype(), copy=False)
        elif isinstance(data, np.ndarray) and type(data) is not np.ndarray:
            data = data.view(np.ndarray)  # np.memmap and other subclasses: the same memory as a plain array
        array_module(data)  # rejects anything that is not a numpy, cupy or strict array
        self.array = data
        self.grad = None
        self._node = None
        self._output = 0
        self._version = [0]
        self._retains_grad = False
        self._post_accumulate_hooks = None
        self._grad_hooks = None
        self._requires_grad = False
        if requires_grad:
            self.requires_grad_(True)

    @classmethod
    def _from_op(cls, data, node, output=0):
        """Fast constructor used by Function.apply: output number ``output`` of ``node``."""
        tensor = cls.__new__(cls)
        tensor.array = data
        tensor.grad = None
        tensor._node = node
        tensor._output = output
        tensor._requires_grad = node is not None
        tensor._version = [0]
        tensor._retains_grad = False
        tensor._post_accumulate_hooks = None
        tensor._grad_hooks = None
        return tensor

    # --- attributes ---------------------------------------------------------
    @property
    def requires_grad(self):
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, flag):
        self.requires_grad_(flag)

    def requires_grad_(self, requires_grad=True):
        """Start (or stop) recording operations on this leaf tensor; returns self."""
        if self._node is not None and not requires_grad:
            raise AutogradError("requires_grad_: you can only change requires_grad of leaf tensors; "
                                "use .detach() to get a tensor that does not require grad")
        if requires_grad and self.array.dtype.kind not in "fc":
            raise AutogradError(f"requires_grad_: only floating point tensors can require gradients, "
                                f"got dtype {self.array.dtype}")
        self._requires_grad = bool(requires_grad)
        return self

    @property
    def data(self):
        """The values as a tensor outside the graph, as PyTorch's ``.data``: it shares this tensor's array,
        so ``p.data.add_(...)`` or ``p.data.normal_()`` change ``p`` and are not recorded (and not checked
        by backward: prefer ``with minidl.no_grad():``). ``.array`` is the NumPy (or CuPy) array itself."""
        return Tensor._from_op(self.array, None)

    @data.setter
    def data(self, value):
        """``p.data = t`` gives ``p`` the values of ``t`` (any shape, as in PyTorch), keeping ``p`` itself."""
        array = value.array if isinstance(value, Tensor) else value
        array_module(array)  # rejects anything that is not a numpy, cupy or strict array
        self.array = array

    shape = property(lambda self: Size(self.array.shape), doc="The tensor's shape, a ``minidl.Size`` (a tuple).")
    dtype = property(lambda self: dtype_of(self.array), doc="The element type (``minidl.float32``: a NumPy dtype inside).")
    ndim = property(lambda self: self.array.ndim, doc="Number of dimensions.")
    device = property(lambda self: device_of(self.array), doc="The Device the data lives on.")
    grad_fn = property(lambda self: self._node, doc="The node that produced this tensor (None for leaves).")
    is_leaf = property(lambda self: self._node is None, doc="True for tensors not produced by a recorded op.")

    def size(self, dim=None):
        return self.shape if dim is None else self.shape[dim]

    def dim(self):
        return self.ndim

    def numel(self):
        return int(self.array.size)

    def __len__(self):
        if self.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.shape[0]

    # --- conversion -----------------------------------------------------------
    def numpy(self):
        """The data as a NumPy array (CPU tensors only, like PyTorch; shares memory)."""
        if self._requires_grad:
            raise AutogradError("numpy: can't call numpy() on a tensor that requires grad; use .detach().numpy()")
        if not isinstance(self.array, np.ndarray):
            raise TypeError(f"numpy: the tensor lives on {self.device}; call .cpu() first "
                            "(or .to('cpu')) to copy it to host memory")
        return self.array

    def __array__(self, dtype=None, copy=None):
        if not isinstance(self.array, np.ndarray):
            raise TypeError(f"can't convert a tensor on {self.device} to a NumPy array; call .cpu() first")
        return self.array if dtype is None else self.array.astype(dtype)

    def item(self):
        """The value of a one-element tensor as a Python number."""
        if self.array.size != 1:
            raise ValueError(f"item: only one-element tensors can be converted to Python scalars, "
                             f"got shape {self.shape}")
        return self.array.item()

    def __format__(self, spec):
        """A 0-d tensor formats as its number (``f"{loss:.4f}"``), as in PyTorch."""
        if self.ndim == 0:
            return format(self.item(), spec)
        if spec:
            raise TypeError(f"format: only a 0-d tensor takes a format spec ({spec!r}); this one has shape "
                            f"{tuple(self.shape)}: format x.item() or x.tolist() instead")
        return repr(self)

    def tolist(self):
        return to_numpy(self.array).tolist()

    def any(self, dim=None, keepdim=False):
        """True where any element (over ``dim``, or all) is nonzero; a bool tensor, not differentiable."""
        return Tensor(array_module(self.array).asarray(self._reduce_flags("any", dim, keepdim)))

    def all(self, dim=None, keepdim=False):
        """True where every element (over ``dim``, or all) is nonzero; a bool tensor, not differentiable."""
        return Tensor(array_module(self.array).asarray(self._reduce_flags("all", dim, keepdim)))

    def _reduce_flags(self, op, dim, keepdim):
        try:
            return getattr(self.array, op)(axis=dim, keepdims=keepdim)
        except (IndexError, ValueError, TypeError):
            raise IndexError(f"{op}: dim {dim!r} is out of range for a tensor of shape {self.shape}") from None

    def type(self, dtype=None):
        """With a dtype: this tensor converted to it (as ``to(dtype)``); without: its type's name,
        ``'minidl.FloatTensor'`` as PyTorch names them."""
        if dtype is not None:
            return self.to(dtype=dtype)
        names = {"float32": "Float", "float64": "Double", "float16": "Half", "int64": "Long", "int32": "Int",
                 "int16": "Short", "int8": "Char", "uint8": "Byte", "bool": "Bool"}
        return f"minidl.{names.get(self.dtype.name, self.dtype.name)}Tensor"

    def __float__(self):
        return float(self.item())

    def __int__(self):
        return int(self.item())

    def __bool__(self):
        if self.array.size != 1:
            raise ValueError(f"the truth value of a tensor with {self.array.size} elements is ambiguous")
        return bool(self.item())

    def __index__(self):
        if self.array.dtype.kind not in "iu" or self.array.size != 1:
            raise TypeError("only integer tensors of a single element can be converted to an index")
        return int(self.item())

    def detach(self):
        """A new leaf tensor sharing this tensor's data, cut from the graph."""
        tensor = Tensor(self.array)
        tensor._version = self._version
        return tensor

    def to(self, *args, **kwargs):
        """``to(device)``, ``to(dtype)``, ``to(device, dtype)`` or ``to(other_tensor)``; differentiable.
        PyTorch's ``non_blocking``, ``copy`` and ``memory_format`` are accepted (copies are synchronous and
        the layout is NumPy's, so only ``copy=True`` changes anything: the result is always a new tensor)."""
        device, dtype = kwargs.pop("device", None), kwargs.pop("dtype", None)
        copy = kwargs.pop("copy", False)
        for ignored in ("non_blocking", "memory_format"):
            kwargs.pop(ignored, None)
        if kwargs:
            raise TypeError(f"to: unexpected arguments {sorted(kwargs)}")
        for arg in args:
            if isinstance(arg, Tensor):
                device, dtype = arg.device, arg.dtype
            elif isinstance(arg, (str, Device)):
                device = arg
            elif isinstance(arg, bool):  # to(device, dtype, non_blocking, copy) positionally
                continue
            elif arg is not None:
                try:
                    dtype = as_dtype(arg, "to")
                except TypeError:
                    if hasattr(arg, "instead"):  # a dtype minidl does not have (bfloat16)
                        raise
                    raise TypeError(f"to: expected a device such as 'cpu' or 'cuda', a dtype such as minidl.float32 "
                                    f"or a tensor, got {arg!r} ({type(arg).__name__})") from None
        result = self
        if dtype is not None:
            dtype = as_dtype(dtype, "to")
            if dtype != self.dtype:
                result = tensor_methods.ops.cast(result, dtype)
        if device is not None and Device(device) != self.device:
            result = tensor_methods.ops.transfer(result, Device(device))
        return result.clone() if copy and result is self else result

    def cpu(self, memory_format=None):
        return self.to("cpu")

    def cuda(self, device=None, non_blocking=False, memory_format=None):
        return self.to("cuda" if device is None else device if isinstance(device, (str, Device)) else f"cuda:{device}")

    def float(self):
        return self.to(np.float32)

    def double(self):
        return self.to(np.float64)

    def half(self):
        return self.to(np.float16)

    def long(self):
        return self.to(np.int64)

    def int(self):
        return self.to(np.int32)

    def bool(self):
        return self.to(np.bool_)

    def type_as(self, other):
        return self.to(other.dtype)

    # --- autograd -------------------------------------------------------------
    def backward(self, gradient=None, retain_graph=None, create_graph=False, inputs=None):
        """Accumulate d(self)/d(leaf) into ``leaf.grad`` for every leaf that requires grad.

        ``gradient`` is the vector of the vector-Jacobian product and must have
        this tensor's shape; it may be omitted only for a one-element tensor.
        ``inputs`` (a tensor or a sequence) limits the accumulation to those tensors.
        ``create_graph=True`` raises: minidl's backward works on arrays, so it records no graph.
        """
        if create_graph:
            raise NotImplementedError("backward: create_graph=True is not supported; minidl's backward works on "
                                      "arrays and records no graph, so higher-order gradients are not available")
        if not self._requires_grad:
            raise AutogradError("backward: this tensor does not require grad and has no grad_fn; "
                                "did you forget requires_grad=True on an input, or run under no_grad()?")
        if inputs is not None:
            inputs = (inputs,) if isinstance(inputs, Tensor) else tuple(inputs)
            if not inputs:
                raise AutogradError("backward: the inputs argument cannot be empty (pass None to reach every leaf)")
        run_backward(self, self._seed_gradient(gradient, "backward"), retain_graph=bool(retain_graph), inputs=inputs)

    def _seed_gradient(self, gradient, where):
        """The array a backward pass starts from: ``gradient`` checked against this tensor, or ones for a scalar."""
        if gradient is None:
            if self.array.size != 1:
                raise AutogradError(f"{where}: grad can be implicitly created only for scalar outputs; this "
                                    f"tensor has shape {self.shape}, so pass a gradient of that shape, "
                                    "e.g. y.backward(minidl.ones_like(y))")
            return array_module(self.array).ones_like(self.array)
        grad = gradient.array if isinstance(gradient, Tensor) else to_device(np.asarray(gradient), self.device)
        if type(grad) is not type(self.array):
            raise AutogradError(f"{where}: the gradient lives on {device_of(grad)} but the tensor on {self.device}")
        if tuple(grad.shape) != self.shape:
            raise ShapeError(f"{where}: gradient has shape {tuple(grad.shape)} but the tensor has shape "
                             f"{self.shape}; pass a gradient of the tensor's shape")
        return grad.astype(self.dtype, copy=False)

    def retain_grad(self):
        """Keep ``.grad`` for this non-leaf tensor too after backward()."""
        self._retains_grad = self._node is not None
        return self

    @staticmethod
    def _plain(array):
        """A tensor of ``array`` without history (a plain Tensor, whichever subclass asks)."""
        return Tensor._from_op(array, None)

    def register_hook(self, hook):
        """Call ``hook(grad)`` with this tensor's gradient in every backward(), before the gradient is used:
        a leaf's once per backward with the sum of all its paths, before it is added into ``.grad``. A
        tensor the hook returns replaces the gradient. Returns a handle whose ``remove()`` unregisters it."""
        if not self._requires_grad:
            raise AutogradError("register_hook: cannot register a hook on a tensor that doesn't require gradient")
        if not callable(hook):
            raise TypeError(f"register_hook: hook must be callable, got {type(hook).__name__}")
        if self._node is None:
            if self._grad_hooks is None:
                self._grad_hooks = {}
            return hooks.add_hook(self._grad_hooks, hook)
        if self._node._grad_hooks is None:
            self._node._grad_hooks = {}
        return hooks.add_hook(self._node._grad_hooks.setdefault(self._output, {}), hook)

    def register_post_accumulate_grad_hook(self, hook):
        """Call ``hook(self)`` in every backward() after this leaf's gradient is complete in ``.grad``;
        returns a handle whose ``remove()`` unregisters it."""
        if self._node is not None:
            raise AutogradError("register_post_accumulate_grad_hook: post accumulate grad hooks cannot be "
                                "registered on non-leaf tensors")
        if not self._requires_grad:
            raise AutogradError("register_post_accumulate_grad_hook: cannot register a hook on a tensor that "
                                "doesn't require gradient")
        if not callable(hook):
            raise TypeError(f"register_post_accumulate_grad_hook: hook must be callable, got {type(hook).__name__}")
        if self._post_accumulate_hooks is None:
            self._post_accumulate_hooks = {}
        return hooks.add_hook(self._post_accumulate_hooks, hook)

    def _accumulate(self, grad, copy):
        """Add a gradient array into ``.grad`` (PyTorch semantics: grads accumulate until zeroed)."""
        if self.grad is None:
            self.grad = Tensor(grad.copy() if copy else grad)
        else:
            self.grad.array += grad

    # --- printing ---------------------------------------------------------------
    def __repr__(self):
        body = array_text(to_numpy(self.array), prefix="tensor(")
        extras = []
        if self.device != "cpu":
            extras.append(f"device='{self.device}'")
        if self.dtype not in (np.float32, np.int64, np.bool_):
            extras.append(f"dtype={self.dtype!r}")
        if self._node is not None:
            extras.append(f"grad_fn={self._node!r}")
        elif self._requires_grad:
            extras.append("requires_grad=True")
        return "tensor(" + body + "".join(", " + e for e in extras) + ")"

    __hash__ = object.__hash__
