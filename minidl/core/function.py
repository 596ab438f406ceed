"""Graph nodes: every differentiable op is a :class:`Function` with forward and backward side by side.

Both work on raw arrays (NumPy, CuPy or strict)::

    class Mul(Function):
        '''z = x * y;  dz/dx = y,  dz/dy = x'''
        def forward(self, x, y):
            self.save(x, y)
            return x * y
        def backward(self, g):
            x, y = self.saved
            return g * y, g * x

``Mul.apply(a, b)`` runs the forward on ``a.array`` and ``b.array``, wraps the
result in a Tensor and, when grad mode is on and an input requires grad,
records the node; :func:`minidl.core.backward.run_backward` later calls its
backward. A forward may return several arrays (a tuple): each becomes a Tensor,
and backward then receives one gradient per output, None where none flowed.
"""

from __future__ import annotations

import re
import traceback

import numpy as np

from minidl.core import dispatch, profiling
from minidl.core.backend import device_of
from minidl.core.errors import AutogradError, DeviceError, MinidlError, ShapeError
from minidl.core.grad_mode import anomaly_enabled, grad_enabled
from minidl.core.tensor import Tensor


def _snake_case(name):
    return re.sub(r"(?<!^)(?=[A-Z][a-z])", "_", name).lower()


class Function:
    """One node of the graph: an op's forward and backward on raw arrays.

    Subclasses implement ``forward(*arrays, **params)``, returning one array or a tuple
    of arrays, and ``backward(*grads)``, which takes one gradient per output (None for an
    output no gradient reached) and returns one gradient per array input (None where no
    gradient flows). ``self.needs_grad`` tells both which inputs need a gradient; it is
    set before forward when the node is recorded (empty otherwise), so forward can skip
    saving what no gradient will use.

    Arrays that backward needs go through :meth:`save` only: they are checked against
    in-place edits and dropped after backward. Plain attributes hold settings, never arrays.

    Class settings: ``returns_view = True`` when output 0 may share memory with input 0
    (both then share one version counter); ``non_differentiable``, the indices of outputs
    that carry no gradient (integer outputs never do): they become plain tensors.
    """

    name = "function"
    returns_view = False
    non_differentiable = ()

    # instance attributes, set by apply
    inputs = ()        # the input Tensors (kept while the graph lives)
    parents = ()       # per input: (the node that made it, its output number) when this node ran
    needs_grad = ()    # per input: does it require grad
    saved = ()         # arrays saved by forward for backward
    outputs = 1        # how many outputs forward returned
    _saved_versions = ()
    _stack = None      # forward traceback under detect_anomaly
    _freed = False
    _grad_hooks = None  # output index -> {key: hook}: Tensor.register_hook on this node's outputs

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if "name" not in cls.__dict__:
            cls.name = _snake_case(cls.__name__)
        if isinstance(cls.__dict__.get("forward"), staticmethod):  # PyTorch's style: forward(ctx, ...)
            cls.apply = classmethod(_apply_with_context)

    def forward(self, *arrays, **params):
        raise NotImplementedError(f"{type(self).__name__}.forward is not implemented")

    def backward(self, *grads):
        raise NotImplementedError(f"{self.name}: backward is not implemented")

    def save(self, *arrays):
        """Keep arrays (or None) for backward; the tensors they belong to are checked for in-place edits."""
        self.saved = arrays

    def shape_error(self, arrays, error):
        """The error to raise when forward rejects its inputs (ops may override): names op and shapes."""
        shapes = " and ".join(str(tuple(a.shape)) for a in arrays)
        if isinstance(error, ValueError) and "broadcast" in str(error):
            return ShapeError(f"{self.name}: shapes {shapes} cannot be broadcast together")
        return type(error)(f"{self.name}: {error} (input shapes {shapes})")

    @classmethod
    def apply(cls, *inputs, **params):
        """Run the op on Tensors: forward on their arrays, record the node if needed.

        The node is of the class :func:`minidl.core.dispatch.choose` picks: this textbook op,
        or the kernel registered against it while kernels are on.
        """
        implementation = dispatch.choose(cls)
        node = implementation.__new__(implementation)
        arrays = [t.array for t in inputs]
        array_type = type(arrays[0])
        for array in arrays:
            if type(array) is not array_type:
                _raise_device_mix(cls.name, arrays)
        needs_grad = [t._requires_grad for t in inputs]
        record = True in needs_grad and grad_enabled.get()
        if record:
            node.needs_grad = needs_grad  # known in forward too, so it can skip saving what no gradient needs
        profiler = profiling.current.get()
        started = profiler.start(arrays) if profiler else None
        try:
            out = node.forward(*arrays, **params)
        except (ValueError, IndexError) as error:
            if isinstance(error, MinidlError):
                raise
            raise node.shape_error(arrays, error) from None
        several = type(out) is tuple
        outs = tuple(_as_array(o, array_type) for o in out) if several else (_as_array(out, array_type),)
        if profiler:
            profiler.stop(started, cls.name, tuple(a.shape for a in arrays), outs[0] if not several else outs)
        if record:
            node.outputs = len(outs)
            results = tuple(Tensor._from_op(o, node if node._differentiable(i, o) else None, i)
                            for i, o in enumerate(outs))
            node.inputs = inputs
            node.parents = [(t._node, t._output) for t in inputs]  # an in-place edit may move a tensor on later
            if node.saved:
                node._remember_versions(results)
            if anomaly_enabled.get():
                node._stack = traceback.format_stack()[:-1]
        else:
            results = tuple(Tensor._from_op(o, None) for o in outs)
        if node.returns_view:
            results[0]._version = inputs[0]._version
        return results if several else results[0]

    def _differentiable(self, index, array):
        return index not in self.non_differentiable and array.dtype.kind in "fc"

    def _remember_versions(self, results):
        """Note the version of every tensor whose array was saved, to detect in-place edits later."""
        candidates = self.inputs + results
        self._saved_versions = [(t, t._version[0]) for t in candidates
                                if any(t.array is a for a in self.saved)]

    def _check_versions(self):
        for tensor, version in self._saved_versions:
            if tensor._version[0] != version:
                raise AutogradError(
                    f"{self.name}: a tensor of shape {tuple(tensor.shape)} that this op saved for backward "
                    f"was modified by an in-place operation (version {version} -> {tensor._version[0]}); "
                    "clone it before modifying it, or modify it after backward()")

    def release(self):
        """Drop what forward saved; a later backward through this node raises."""
        self.saved = ()
        self._saved_versions = ()
        self.inputs = ()  # a tensor edited in place after this node ran may lead back here: no cycle stays
        self._freed = True

    def __repr__(self):
        return f"<{type(self).__name__} backward>"


#: set by minidl.core.context_function when it loads (the core's modules import downwards only)
context_style = {"apply": None}


def _apply_with_context(user, *arguments):
    """``apply`` of a Function written in PyTorch's style: minidl.core.context_function runs it."""
    return context_style["apply"](user, *arguments)


def _as_array(out, array_type):
    """A NumPy scalar result (from a reduction to 0-d) as a 0-d array."""
    if type(out) is not array_type and isinstance(out, np.generic):
        return np.asarray(out)
    return out


def _raise_device_mix(op_name, arrays):
    devices = " and ".join(dict.fromkeys(str(device_of(x)) for x in arrays))
    raise DeviceError(f"{op_name}: expected all tensors on the same device, got tensors on {devices}")
