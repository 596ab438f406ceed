"""Lazy modules: layers whose input size is read from the first batch they see.

``nn.LazyLinear(10)`` does not know its ``in_features`` yet: its weight and bias are
:class:`UninitializedParameter` s, without a shape. The first call ``layer(x)`` reads the
size from x (its last dim for LazyLinear, its channel dim for the others), gives every
uninitialised parameter and buffer its shape, initialises them as the eager layer would,
and then turns the module into that layer: ``type(layer)`` becomes ``nn.Linear``
(``cls_to_become``), as PyTorch does. Loading a state dict gives them their shapes too.

Optimizers need the shapes, so build them after one forward pass with a sample batch (a
"dry run")::

    model = nn.Sequential(nn.LazyLinear(64), nn.ReLU(), nn.LazyLinear(10))
    model(sample_batch)                       # the parameters get their shapes here
    optimizer = optim.Adam(model.parameters())

An optimizer given a parameter that is still uninitialised raises an error naming its module.
"""

from __future__ import annotations

import weakref

import numpy as np

from minidl.core import creation, no_grad
from minidl.core.backend import device_of, to_device
from minidl.core.errors import ShapeError
from minidl.core.tensor import Tensor
from minidl.nn.conv import Conv1d, Conv2d
from minidl.nn.layers import Linear
from minidl.nn.module import Module, Parameter
from minidl.nn.norm import BatchNorm1d, BatchNorm2d
from minidl.nn.layers3d import BatchNorm3d

_OWNERS = {}  # id(uninitialised tensor) -> "LazyLinear.weight", while it lives and has no shape


class UninitializedTensorMixin:
    """A tensor without a shape yet (it holds an empty array of its dtype, on its device) until
    :meth:`materialize` gives it one and turns it into its ``cls_to_become``."""

    __slots__ = ()  # the same memory layout as Parameter and Tensor, so the class can change in place
    cls_to_become = Tensor

    def materialize(self, shape, device=None, dtype=None):
        """Give the tensor ``shape`` (new, uninitialised values) on its device and of its dtype unless
        ``device``/``dtype`` say otherwise; it becomes a plain ``cls_to_become`` (Parameter or Tensor)."""
        dtype = self.array.dtype if dtype is None else np.dtype(dtype)
        self.array = to_device(np.empty(tuple(shape), dtype=dtype), device if device is not None else
                              device_of(self.array))
        _OWNERS.pop(id(self), None)
        self.__class__ = self.cls_to_become

    def uninitialized_owner(self):
        """Which module's tensor this is, e.g. "LazyLinear.weight" (for errors)."""
        return _OWNERS.get(id(self), "a lazy module")

    def __repr__(self):
        return f"<{type(self).__name__}>"


class UninitializedParameter(UninitializedTensorMixin, Parameter):
    """A Parameter whose shape is not known yet (see the module docstring)."""

    __slots__ = ()
    cls_to_become = Parameter

    def __init__(self, requires_grad=True, device=None, dtype=None):
        super().__init__(creation.empty(0, dtype=dtype, device=device), requires_grad)


class UninitializedBuffer(UninitializedTensorMixin, Tensor):
    """A buffer whose shape is not known yet (see the module docstring)."""

    __slots__ = ()
    cls_to_become = Tensor

    def __init__(self, requires_grad=False, device=None, dtype=None):
        super().__init__(creation.empty(0, dtype=dtype, device=device).array, requires_grad)


class LazyModuleMixin:
    """Shapes from the first input: subclasses list their uninitialised tensors with :meth:`_uninitialized`,
    read the size in ``initialize_parameters(input)`` and set their size attribute from loaded shapes in
    ``_sizes_from_parameters()``; after the first call the module is a ``cls_to_become``."""

    cls_to_become = None

    def _uninitialized(self, name, kind, device=None, dtype=None):
        """Register an uninitialised parameter (or buffer) ``name``."""
        tensor = kind(device=device, dtype=dtype)
        key = id(tensor)
        _OWNERS[key] = f"{type(self).__name__}.{name}"
        weakref.finalize(tensor, _OWNERS.pop, key, None)
        if kind is UninitializedBuffer:
            self.register_buffer(name, tensor)
        else:
            self.register_parameter(name, tensor)

    def has_uninitialized_params(self):
        """True while a parameter or buffer of this module has no shape."""
        tensors = list(self._parameters.values()) + list(self._buffers.values())
        return any(isinstance(t, UninitializedTensorMixin) for t in tensors)

    def __call__(self, *args, **kwargs):
        if self.has_uninitialized_params():
            if not args:
                raise TypeError(f"{type(self).__name__}: the first call needs the input, to read its size")
            with no_grad():
                self.initialize_parameters(*args, **kwargs)
        self.__class__ = self.cls_to_become
        return Module.__call__(self, *args, **kwargs)

    def materialize_from(self, state_dict, prefix):
        """Give each uninitialised tensor the shape of its entry in ``state_dict`` (when there is one)."""
        tensors = dict(self._parameters)
        tensors.update(self._buffers)
        for name, tensor in tensors.items():
            value = state_dict.get(prefix + name) if hasattr(state_dict, "get") else None
            if isinstance(tensor, UninitializedTensorMixin) and hasattr(value, "shape"):
                tensor.materialize(value.shape)
        if not self.has_uninitialized_params():
            self._sizes_from_parameters()

    def reset_parameters(self):
        if not self.has_uninitialized_params() and self._size_known():
            super().reset_parameters()


def _size_of(input, dim, where, what):  # noqa: A002
    """``input.shape[dim]``, or a clear error when the input has too few dims."""
    if input.ndim < (dim + 1 if dim >= 0 else -dim):
        raise ShapeError(f"{where}: cannot read {what} from input of shape {tuple(input.shape)}")
    return input.shape[dim]


class LazyLinear(LazyModuleMixin, Linear):
    """``Linear`` whose ``in_features`` is the last dim of the first input; becomes a Linear then."""

    cls_to_become = Linear

    def __init__(self, out_features, bias=True, device=None, dtype=None):
        super().__init__(0, out_features, bias, device=device, dtype=dtype)
        self._uninitialized("weight", UninitializedParameter, device, dtype)
        if bias:
            self._uninitialized("bias", UninitializedParameter, device, dtype)

    def _size_known(self):
        return self.in_features != 0

    def initialize_parameters(self, input):  # noqa: A002
        self.in_features = _size_of(input, -1, "LazyLinear", "in_features (the last dim)")
        self.weight.materialize((self.out_features, self.in_features))
        if self.bias is not None:
            self.bias.materialize((self.out_features,))
        self.reset_parameters()

    def _sizes_from_parameters(self):
        self.in_features = self.weight.shape[1]


class _LazyNormBase(LazyModuleMixin):
    """``num_features`` from the channel dim (dim 1) of the first input."""

    def __init__(self, eps=1e-5, momentum=0.1, affine=True, track_running_stats=True, device=None, dtype=None,
                 bias=True):
        super().__init__(0, eps, momentum, affine, track_running_stats, device, dtype, bias=bias)
        if affine:
            self._uninitialized("weight", UninitializedParameter, device, dtype)
            if bias:
                self._uninitialized("bias", UninitializedParameter, device, dtype)
        if track_running_stats:
            self._uninitialized("running_mean", UninitializedBuffer, device, dtype)
            self._uninitialized("running_var", UninitializedBuffer, device, dtype)

    def _size_known(self):
        return self.num_features != 0

    def initialize_parameters(self, input):  # noqa: A002
        self.num_features = _size_of(input, 1, type(self).__name__, "num_features (dim 1)")
        for tensor in (self.weight, self.bias, self.running_mean, self.running_var):
            if tensor is not None:
                tensor.materialize((self.num_features,))
        self.reset_parameters()

    def _sizes_from_parameters(self):
        self.num_features = (self.weight if self.weight is not None else self.running_mean).shape[0]


class LazyBatchNorm1d(_LazyNormBase, BatchNorm1d):
    """``BatchNorm1d`` whose ``num_features`` is dim 1 of the first input; becomes a BatchNorm1d then."""

    cls_to_become = BatchNorm1d


class LazyBatchNorm2d(_LazyNormBase, BatchNorm2d):
    """``BatchNorm2d`` whose ``num_features`` is dim 1 of the first input; becomes a BatchNorm2d then."""

    cls_to_become = BatchNorm2d


class LazyBatchNorm3d(_LazyNormBase, BatchNorm3d):
    """``BatchNorm3d`` whose ``num_features`` is dim 1 of the first input; becomes a BatchNorm3d then."""

    cls_to_become = BatchNorm3d


class _LazyConvBase(LazyModuleMixin):
    """``in_channels`` from the channel dim of the first input (dim 1, or dim 0 when unbatched)."""

    def __init__(self, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1, bias=True,
                 padding_mode="zeros", device=None, dtype=None):
        super().__init__(0, out_channels, kernel_size, stride, padding, dilation, groups, bias, padding_mode,
                         device, dtype)
        self._uninitialized("weight", UninitializedParameter, device, dtype)
        if bias:
            self._uninitialized("bias", UninitializedParameter, device, dtype)

    def _in_channels(self, in_channels):
        return in_channels  # 0 until the first input is seen

    def _size_known(self):
        return self.in_channels != 0

    def initialize_parameters(self, input):  # noqa: A002
        name = type(self).__name__
        if input.ndim not in (self.spatial + 1, self.spatial + 2):
            raise ShapeError(f"{name}: expected {self.spatial + 1}-D (unbatched) or {self.spatial + 2}-D input, "
                             f"got shape {tuple(input.shape)}")
        in_channels = input.shape[1] if input.ndim == self.spatial + 2 else input.shape[0]
        if in_channels % self.groups:
            raise ValueError(f"{name}: in_channels ({in_channels}, from input of shape {tuple(input.shape)}) must "
                             f"be divisible by groups ({self.groups})")
        self.in_channels = in_channels
        self.weight.materialize((self.out_channels, in_channels // self.groups) + self.kernel_size)
        if self.bias is not None:
            self.bias.materialize((self.out_channels,))
        self.reset_parameters()

    def _sizes_from_parameters(self):
        self.in_channels = self.weight.shape[1] * self.groups


class LazyConv1d(_LazyConvBase, Conv1d):
    """``Conv1d`` whose ``in_channels`` is read from the first input; becomes a Conv1d then."""

    cls_to_become = Conv1d


class LazyConv2d(_LazyConvBase, Conv2d):
    """``Conv2d`` whose ``in_channels`` is read from the first input; becomes a Conv2d then."""

    cls_to_become = Conv2d
