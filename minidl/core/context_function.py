"""Custom gradients written as PyTorch writes them: ``forward(ctx, ...)`` and ``backward(ctx, ...)``
as static methods on Tensors, ``ctx.save_for_backward``, ``ctx.saved_tensors``,
``ctx.needs_input_grad``, ``MyFunction.apply(...)``::

    class MyReLU(minidl.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x.clamp(min=0)

        @staticmethod
        def backward(ctx, grad_output):
            (x,) = ctx.saved_tensors
            return grad_output * (x > 0)

A Function subclass whose ``forward`` is a staticmethod gets this ``apply`` (minidl's own ops
write forward and backward on arrays instead). One node of class :class:`ContextNode` runs it:
it is the ``ctx``. Both methods run with gradients off, on tensors that wrap the node's arrays,
so saved tensors are checked against in-place edits like any op's.
"""

from __future__ import annotations

from minidl.core.creation import zeros
from minidl.core import function
from minidl.core.function import Function
from minidl.core.grad_mode import no_grad
from minidl.core.tensor import Tensor


class ContextNode(Function):
    """The node (and ``ctx``) of a PyTorch-style Function; ``user`` is that Function's class."""

    user = None

    def forward(self, *arrays, layout):
        tensors = iter(Tensor(array) for array in arrays)
        arguments = [next(tensors) if slot is _TENSOR else slot for slot in layout]
        self.layout = tuple(slot is _TENSOR for slot in layout)
        with no_grad():
            out = self.user.forward(self, *arguments)
        several = isinstance(out, tuple)
        outs = out if several else (out,)
        for index, item in enumerate(outs):
            if not isinstance(item, Tensor):
                raise TypeError(f"{self.name}.forward must return tensors, got {type(item).__name__} "
                                f"as output {index}")
        self.out_shapes = [(item.shape, item.dtype, item.device) for item in outs]
        return tuple(item.array for item in outs) if several else outs[0].array

    def backward(self, *grads):
        grads = [Tensor(g) if g is not None else zeros(*shape, dtype=dtype, device=device)  # PyTorch's materialized
                 for g, (shape, dtype, device) in zip(grads, self.out_shapes)]
        with no_grad():
            result = self.user.backward(self, *grads)
        result = result if isinstance(result, tuple) else (result,)
        if len(result) != len(self.layout):
            raise TypeError(f"{self.user.__name__}.backward returned {len(result)} gradients, but forward took "
                            f"{len(self.layout)} arguments (return None for those without one)")
        return tuple(None if grad is None else grad.array for grad, is_tensor in zip(result, self.layout) if is_tensor)

    # --- what ctx offers ----------------------------------------------------------------------
    def save_for_backward(self, *tensors):
        self.save(*(None if tensor is None else tensor.array for tensor in tensors))

    @property
    def saved_tensors(self):
        return tuple(None if array is None else Tensor(array) for array in self.saved)

    @property
    def needs_input_grad(self):
        flags = iter(self.needs_grad or [False] * sum(self.layout))
        return tuple(next(flags) if is_tensor else False for is_tensor in self.layout)

    def mark_non_differentiable(self, *tensors):
        pass  # their gradients are simply never used

    def set_materialize_grads(self, value):
        pass  # missing output gradients always arrive as zeros, PyTorch's default


_TENSOR = object()  # marks where a tensor argument goes in forward's arguments


def apply(user, *arguments):
    """``user.apply(...)``: a node of a ContextNode subclass made for ``user`` runs it."""
    node_class = user.__dict__.get("_context_node")
    if node_class is None:
        node_class = type(user.__name__, (ContextNode,), {"user": user, "name": user.name})
        user._context_node = node_class
    tensors = [argument for argument in arguments if isinstance(argument, Tensor)]
    if not tensors:
        raise TypeError(f"{user.__name__}.apply: expected at least one tensor argument")
    layout = tuple(_TENSOR if isinstance(argument, Tensor) else argument for argument in arguments)
    return node_class.apply(*tensors, layout=layout)


function.context_style["apply"] = apply
