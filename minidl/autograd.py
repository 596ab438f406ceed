"""Reverse-mode automatic differentiation: graph nodes, grad mode and backward.

Every differentiable op is a :class:`Function` subclass with ``forward`` and
``backward`` side by side, both working on raw arrays::

    class Mul(Function):
        '''z = x * y;  dz/dx = y,  dz/dy = x'''
        def forward(self, x, y):
            self.save(x, y)
            return x * y
        def backward(self, g):
            x, y = self.saved
            return g * y, g * x

``Mul.apply(a, b)`` runs the forward on ``a.data`` and ``b.data``, wraps the
result in a Tensor and, when grad mode is on and an input requires grad,
records the node. :func:`run_backward` then visits the nodes in reverse
topological order. Four things happen centrally, so no op repeats them:

* broadcasting is undone: a gradient is summed back to its input's shape;
* type promotion is undone: a float32 input of a float64 result gets float32;
* each gradient is checked for its input's shape, dtype and device (the error
  names the op, which catches mistakes in new ops);
* in-place edits of tensors a node saved are detected by version counters.
"""

from __future__ import annotations

import contextlib
import contextvars
import re
import traceback

import numpy as np

from minidl import profiler as profiler_module
from minidl import tensor as tensor_module  # Tensor is read at call time: tensor.py imports this module
from minidl.backend import array_module, device_of
from minidl.errors import AutogradError, DeviceError, MinidlError, ShapeError

# --- grad mode -----------------------------------------------------------------

_grad_enabled = contextvars.ContextVar("minidl_grad_enabled", default=True)
_anomaly_enabled = contextvars.ContextVar("minidl_anomaly_enabled", default=False)


def is_grad_enabled():
    """True when new operations are recorded for backward."""
    return _grad_enabled.get()


class _GradMode(contextlib.ContextDecorator):
    """Sets grad mode for a ``with`` block or a decorated function, then restores the previous mode."""

    def __init__(self, mode):
        self.mode = bool(mode)
        self._tokens = []  # a stack, so one object can be entered again while in use

    def __enter__(self):
        self._tokens.append(_grad_enabled.set(self.mode))

    def __exit__(self, *exc):
        _grad_enabled.reset(self._tokens.pop())
        return False

    def _recreate_cm(self):
        return _GradMode(self.mode)  # a fresh one per call: decorated functions may recurse or run in threads


class no_grad(_GradMode):
    """``with minidl.no_grad():`` (or ``@minidl.no_grad``) runs ops without recording them."""

    def __new__(cls, function=None):
        self = super().__new__(cls)
        self.__init__()
        return self(function) if callable(function) else self  # also usable as a bare decorator

    def __init__(self, function=None):
        super().__init__(False)


class enable_grad(no_grad):
    """Turns recording back on inside a ``no_grad`` block."""

    def __init__(self, function=None):
        _GradMode.__init__(self, True)


class set_grad_enabled(_GradMode):
    """``set_grad_enabled(False)`` switches recording off now; as ``with`` or a decorator it does so
    for that block only and then restores the previous mode (PyTorch semantics)."""

    def __init__(self, mode):
        super().__init__(mode)
        self._previous = _grad_enabled.get()
        _grad_enabled.set(self.mode)

    def __call__(self, function):
        _grad_enabled.set(self._previous)  # decorating a function does not change the mode now
        return super().__call__(function)

    def __exit__(self, *exc):
        _grad_enabled.set(self._previous)
        return False


class detect_anomaly(contextlib.ContextDecorator):
    """Report the op whose backward produced NaN or Inf, with the traceback of its forward call.

    Slow: every op records its Python stack. Use it to hunt a NaN, not to train.
    """

    def __init__(self, check_nan=True):
        self.check_nan = check_nan
        self._tokens = []

    def __enter__(self):
        self._tokens.append(_anomaly_enabled.set(self.check_nan))

    def __exit__(self, *exc):
        _anomaly_enabled.reset(self._tokens.pop())
        return False


# --- graph nodes -----------------------------------------------------------------

def _snake_case(name):
    return re.sub(r"(?<!^)(?=[A-Z][a-z])", "_", name).lower()


class Function:
    """One node of the graph: an op's forward and backward on raw arrays.

    Subclasses implement ``forward(*arrays, **params)`` (returns one array) and
    ``backward(grad)`` (returns one gradient per array input, or None where no
    gradient flows). ``self.needs_grad`` tells backward which inputs need one; it
    is set before forward when the node is recorded (empty otherwise), so forward
    can skip saving what no gradient will use.
    Set ``returns_view = True`` (on the class, or on the node in forward) when
    the output may share memory with input 0, so that both share one version
    counter and an in-place edit of either is seen through the other.
    """

    name = "function"
    returns_view = False

    # instance attributes, set by apply
    inputs = ()        # the input Tensors (kept while the graph lives)
    needs_grad = ()    # per input: does it require grad
    saved = ()         # arrays saved by forward for backward
    _saved_versions = ()
    _stack = None      # forward traceback under detect_anomaly
    _freed = False

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if "name" not in cls.__dict__:
            cls.name = _snake_case(cls.__name__)

    def forward(self, *arrays, **params):
        raise NotImplementedError(f"{type(self).__name__}.forward is not implemented")

    def backward(self, grad):
        raise NotImplementedError(f"{self.name}: backward is not implemented")

    def save(self, *arrays):
        """Keep arrays for backward (their tensors' versions are checked before use)."""
        self.saved = arrays

    def shape_error(self, arrays, error):
        """The error to raise when forward rejects its inputs (ops may override): names op and shapes."""
        shapes = " and ".join(str(tuple(a.shape)) for a in arrays)
        if isinstance(error, ValueError) and "broadcast" in str(error):
            return ShapeError(f"{self.name}: shapes {shapes} cannot be broadcast together")
        return type(error)(f"{self.name}: {error} (input shapes {shapes})")

    @classmethod
    def apply(cls, *inputs, **params):
        """Run the op on Tensors: forward on their arrays, record the node if needed."""
        node = cls.__new__(cls)
        arrays = [t.data for t in inputs]
        array_type = type(arrays[0])
        for array in arrays:
            if type(array) is not array_type:
                _raise_device_mix(cls.name, arrays)
        needs_grad = [t._requires_grad for t in inputs]
        record = True in needs_grad and _grad_enabled.get()
        if record:
            node.needs_grad = needs_grad  # known in forward too, so it can skip saving what no gradient needs
        profiler = profiler_module.active()
        started = profiler.start(arrays) if profiler else None
        try:
            out = node.forward(*arrays, **params)
        except (ValueError, IndexError) as error:
            if isinstance(error, MinidlError):
                raise
            raise node.shape_error(arrays, error) from None
        if type(out) is not type(arrays[0]) and isinstance(out, np.generic):
            out = np.asarray(out)
        if profiler:
            profiler.stop(started, cls.name, tuple(a.shape for a in arrays), out)
        result = tensor_module.Tensor._from_op(out, node if record else None)
        if record:
            node.inputs = inputs
            if node.saved:
                node._remember_versions(result)
            if _anomaly_enabled.get():
                node._stack = traceback.format_stack()[:-1]
        if node.returns_view:
            result._version = inputs[0]._version
        return result

    def _remember_versions(self, result):
        """Note the version of every tensor whose array was saved, to detect in-place edits later."""
        candidates = self.inputs + (result,)
        self._saved_versions = [(t, t._version[0]) for t in candidates
                                if any(t.data is a for a in self.saved)]

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
        self._freed = True

    def __repr__(self):
        return f"<{type(self).__name__} backward>"


def _raise_device_mix(op_name, arrays):
    devices = " and ".join(dict.fromkeys(str(device_of(x)) for x in arrays))
    raise DeviceError(f"{op_name}: expected all tensors on the same device, got tensors on {devices}")


# --- backward ---------------------------------------------------------------------

def sum_to(grad, shape):
    """Sum ``grad`` over broadcast dimensions so that it gets ``shape`` (undoes broadcasting)."""
    extra = grad.ndim - len(shape)
    if extra < 0:
        raise ValueError(f"gradient of shape {grad.shape} has fewer dims than its input {shape}")
    if extra:
        grad = grad.sum(axis=tuple(range(extra)))
    axes = tuple(i for i, size in enumerate(shape) if size == 1 and grad.shape[i] != 1)
    if axes:
        grad = grad.sum(axis=axes, keepdims=True)
    if grad.shape != shape:
        raise ValueError(f"gradient of shape {grad.shape} cannot be summed to {shape}")
    return grad


def _topological_order(root):
    """Nodes reachable from ``root`` such that each node comes after every node that uses it."""
    order, visited, stack = [], set(), [(root, False)]
    while stack:
        node, expanded = stack.pop()
        if expanded:
            order.append(node)
            continue
        if node in visited:
            continue
        visited.add(node)
        stack.append((node, True))
        for tensor in node.inputs:
            parent = tensor._node
            if parent is not None and parent not in visited:
                stack.append((parent, False))
    order.reverse()
    return order


def _checked_gradient(node, index, grad, tensor, out_dtype):
    """Bring one input gradient to its input's shape and dtype, or explain what is wrong."""
    data = tensor.data
    if type(grad) is not type(data):
        if isinstance(grad, np.generic) and isinstance(data, np.ndarray):
            grad = np.asarray(grad)
        else:
            raise DeviceError(f"{node.name}: backward returned a {type(grad).__name__} gradient for input {index}, "
                              f"which lives on {device_of(data)} as {type(data).__name__}")
    if grad.shape != data.shape:
        try:
            grad = sum_to(grad, data.shape)
        except ValueError:
            raise ShapeError(f"{node.name}: backward returned a gradient of shape {tuple(grad.shape)} "
                             f"for input {index} of shape {tuple(data.shape)}") from None
    if grad.dtype != data.dtype:
        if out_dtype == data.dtype:
            raise AutogradError(f"{node.name}: backward returned a {grad.dtype} gradient for input {index} "
                                f"of dtype {data.dtype}")
        grad = grad.astype(data.dtype)  # the forward promoted this input; undo it
    return grad


def _check_anomaly(node, grads):
    for index, grad in enumerate(grads):
        if grad is not None and not bool(array_module(grad).isfinite(grad).all()):
            where = "".join(node._stack or ["(forward traceback not recorded)\n"])
            raise AutogradError(f"{node.name}: backward produced NaN or Inf in the gradient of input {index}.\n"
                                f"Traceback of the forward call that created this node:\n{where}")


def run_backward(root, grad, retain_graph=False):
    """Backpropagate ``grad`` (an array shaped like ``root``) to every leaf that requires grad."""
    if root._node is None or root._retains_grad:
        root._accumulate(grad, copy=True)
    if root._node is None:
        return
    anomaly = _anomaly_enabled.get()
    profiler = profiler_module.active()
    pending = {root._node: grad}
    for node in _topological_order(root._node):
        grad_out = pending.pop(node, None)
        if grad_out is None:
            continue
        if node._freed:
            raise AutogradError(
                f"{node.name}: trying to backward through the graph a second time (or to use values "
                "already freed by backward()); pass retain_graph=True to the first backward() if you need to")
        if node._saved_versions:
            node._check_versions()
        started = profiler.start(grad_out) if profiler else None
        grads = node.backward(grad_out)
        if profiler:
            profiler.stop(started, node.name + "_backward", tuple(t.data.shape for t in node.inputs), grads)
        if type(grads) is not tuple:
            grads = (grads,)
        if len(grads) != len(node.inputs):
            raise AutogradError(f"{node.name}: backward returned {len(grads)} gradients for {len(node.inputs)} inputs")
        if anomaly:
            _check_anomaly(node, grads)
        out_dtype = grad_out.dtype
        for index, (tensor, input_grad) in enumerate(zip(node.inputs, grads)):
            if input_grad is None or not node.needs_grad[index]:
                continue
            data = tensor.data
            if type(input_grad) is not type(data) or input_grad.shape != data.shape or input_grad.dtype != data.dtype:
                input_grad = _checked_gradient(node, index, input_grad, tensor, out_dtype)
            parent = tensor._node
            if parent is None or tensor._retains_grad:
                shared = input_grad is grad_out or input_grad.base is not None or \
                    sum(g is input_grad for g in grads) > 1
                # a retained non-leaf grad must not share memory with the gradient still flowing upstream
                tensor._accumulate(input_grad, copy=shared or parent is not None)
            if parent is not None:
                previous = pending.get(parent)
                pending[parent] = input_grad if previous is None else previous + input_grad
        if not retain_graph:
            node.release()


