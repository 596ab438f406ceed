"""Tensor's in-place operations (``x += 1``, ``x[mask] = v``, ``zero_()`` ...), a mixin of Tensor.

Outside recording (no_grad, or nothing requires grad) an edit writes into the array and bumps the
version counter, which nodes that saved the array check at backward. While recording, an edit of
a non-leaf tensor (or one that assigns a tensor requiring grad) is recorded as PyTorch records it:
see :meth:`InPlaceMethods._record_edit`.
"""

from __future__ import annotations

import numpy as np

from minidl.core import tensor_methods
from minidl.core.backend import array_module, is_writeable
from minidl.core.errors import AutogradError, DeviceError, ShapeError
from minidl.core.grad_mode import is_grad_enabled
from minidl.core.random import numpy_stream


class InPlaceMethods:
    """The in-place half of :class:`minidl.Tensor`."""

    __slots__ = ()

    # --- in-place operations ------------------------------------------------------
    # Outside recording (no_grad, or nothing requires grad) an edit writes into the array and bumps
    # the version counter, which nodes that saved the array check at backward. While recording,
    # an edit of a non-leaf tensor (or one that assigns a tensor requiring grad) is recorded as
    # PyTorch records it: the new values come from the out-of-place op on a copy of the old ones,
    # are written into the same array, and the tensor moves to the end of its history (earlier
    # uses of it keep their edge to the old values: nodes record their parents when they run).
    def _records_edit(self, op, *operands):
        """True when the edit ``op`` must be recorded; refuses edits that cannot be."""
        if not is_grad_enabled():
            return False
        operand_grad = any(isinstance(o, InPlaceMethods) and o._requires_grad for o in operands)
        if not (self._requires_grad or operand_grad):
            return False
        tensor = self
        while tensor._node is not None and tensor._node.returns_view and tensor._node.inputs:  # a view's edit edits what it views
            if not is_writeable(tensor.array):
                raise AutogradError(f"{op}: this tensor is a read-only view ({tensor._node.name}) of another "
                                    "tensor; modify a clone() of it")
            tensor = tensor._node.inputs[0]
        if tensor._requires_grad and tensor._node is None:
            what = "a leaf tensor" if tensor is self else "a view of a leaf tensor"
            raise AutogradError(f"{op}: {what} that requires grad cannot be modified in place while gradients "
                                "are recorded; update it inside `with minidl.no_grad():` (as optimizers do), "
                                "or modify a clone() of it")
        return True

    def _record_edit(self, new_values, operand=None):
        """Make this tensor hold ``new_values(old, operand)``, a recorded op on a copy of its old values
        (``operand`` is the old copy too where it is this tensor itself, as in ``x *= x``). A view
        passes the edit on: the tensor it views records the write-back of the view's new values."""
        view_node = self._node if self._node is not None and self._node.returns_view and self._node.inputs else None
        old = type(self)._from_op(self.array.copy(), self._node, self._output)
        old._requires_grad = self._requires_grad
        new = new_values(old, old if operand is self else operand)
        self.array[...] = new.array
        self._node, self._output, self._requires_grad = new._node, new._output, new._requires_grad
        if view_node is not None:
            base = view_node.inputs[0]
            if np.may_share_memory(base.array, self.array):
                base._record_edit(lambda old_base, view: view_node.write_back(old_base, view), self)
        return self._modified()

    def _modified(self):
        self._version[0] += 1
        return self

    def _on_device(self, other, op):
        """The other operand's array; a tensor on another device is refused, naming the op."""
        if isinstance(other, InPlaceMethods):
            if type(other.array) is not type(self.array):
                raise DeviceError(f"{op}: the other tensor lives on {other.device}, this one on {self.device}")
            return other.array
        return other

    def _value(self, other, op):
        """The other operand's array, checked: same device, and broadcastable to this tensor's shape."""
        other = self._on_device(other, op)
        shape = getattr(other, "shape", ())
        try:
            fits = np.broadcast_shapes(self.shape, tuple(shape)) == self.shape
        except ValueError:
            fits = False
        if not fits:
            raise ShapeError(f"{op}: shapes {self.shape} and {tuple(shape)} do not fit: the other operand must "
                             f"broadcast to {self.shape}")
        return other

    def zero_(self):
        return self.fill_(0)

    def fill_(self, value):
        array = self._value(value, "fill_")
        if self._records_edit("fill_", value):
            everywhere = type(self)(array_module(self.array).ones(self.shape, dtype=bool))
            return self._record_edit(lambda old, value: tensor_methods.ops.masked_fill(old, everywhere, value), value)
        self.array[...] = array
        return self._modified()

    def normal_(self, mean=0.0, std=1.0, *, generator=None):
        """Fill with samples of N(mean, std²) from the default stream or ``generator``."""
        return self._fill_random(lambda stream: stream.normal(mean, std, self.shape), "normal_", generator)

    def uniform_(self, a=0.0, b=1.0, *, generator=None):  # PyTorch names them from and to
        """Fill with samples of U[a, b) from the default stream or ``generator``."""
        return self._fill_random(lambda stream: stream.uniform(a, b, self.shape), "uniform_", generator)

    def _fill_random(self, draw, op, generator):
        if self.dtype.kind != "f":
            raise TypeError(f"{op}: needs a floating tensor, got dtype {self.dtype}")
        values = draw(numpy_stream(generator, op)).astype(self.array.dtype)
        return self.copy_(type(self)(values))

    def copy_(self, source):
        if isinstance(source, InPlaceMethods) and type(source.array) is not type(self.array):
            source = source.to(self.device)  # copy_ may cross devices, as in PyTorch
        array = self._value(source, "copy_")
        if self._records_edit("copy_", source):
            everywhere = type(self)(array_module(self.array).ones(self.shape, dtype=bool))
            return self._record_edit(lambda old, source: tensor_methods.ops.where(everywhere, source, old).to(self.dtype),
                                     source)
        self.array[...] = array
        return self._modified()

    def add_(self, other, alpha=1):
        array = self._value(other, "add_")
        if self._records_edit("add_", other):
            return self._record_edit(lambda old, other: old + (other if alpha == 1 else other * alpha), other)
        self.array += array if alpha == 1 else array * alpha
        return self._modified()

    def sub_(self, other, alpha=1):
        return self.add_(other, alpha=-alpha)

    def mul_(self, other):
        array = self._value(other, "mul_")
        if self._records_edit("mul_", other):
            return self._record_edit(lambda old, other: old * other, other)
        self.array *= array
        return self._modified()

    def div_(self, other):
        array = self._value(other, "div_")
        if self._records_edit("div_", other):
            return self._record_edit(lambda old, other: old / other, other)
        self.array /= array
        return self._modified()

    def clamp_(self, min=None, max=None):  # noqa: A002
        if self._records_edit("clamp_"):
            return self._record_edit(lambda old, _: old.clamp(min, max))
        if min is None and max is None:
            raise ValueError("clamp_: at least one of min and max must be given")
        array_module(self.array).clip(self.array, min, max, out=self.array)
        return self._modified()

    def masked_fill_(self, mask, value):
        if self._records_edit("masked_fill_", value):
            return self._record_edit(lambda old, value: tensor_methods.ops.masked_fill(old, mask, value), value)
        self.array[...] = tensor_methods.ops.masked_fill(self.detach(), mask, value).array
        return self._modified()

    def _edit_with(self, function, op):
        """Make this tensor hold ``function(self)`` (an out-of-place op of the same shape and dtype), as an
        in-place edit named ``op``: the ``inplace=True`` of activations and dropouts."""
        if self._records_edit(op):
            return self._record_edit(lambda old, _: function(old))
        self.array[...] = function(self.detach()).array
        return self._modified()

    def __setitem__(self, index, value):
        if self._records_edit("setitem", value):
            self._record_edit(lambda old, value: tensor_methods.ops.set_item(old, index, value), value)
            return
        self.array[tensor_methods.ops.as_index(index)] = self._on_device(value, "setitem")
        self._modified()

    def __iadd__(self, other):
        return self.add_(other)

    def __isub__(self, other):
        return self.sub_(other)

    def __imul__(self, other):
        return self.mul_(other)

    def __itruediv__(self, other):
        return self.div_(other)
