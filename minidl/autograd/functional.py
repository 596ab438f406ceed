"""``minidl.autograd.functional``: whole Jacobians, built row by row from vector-Jacobian products.

Row i of the Jacobian of y = f(x) is eᵢᵀ·dy/dx: one :func:`minidl.autograd.grad` call per output
element, with the one-hot vector eᵢ as ``grad_outputs`` (reverse mode, as PyTorch's default).
"""

from __future__ import annotations

from minidl.autograd.gradients import grad
from minidl.core.backend import array_module
from minidl.core.tensor import Tensor


def _as_tuple(value, where, argument):
    items = (value,) if isinstance(value, Tensor) else tuple(value)
    if not all(isinstance(item, Tensor) for item in items):
        raise TypeError(f"{where}: {argument} must be a tensor or a tuple of tensors")
    return items


def jacobian(func, inputs, create_graph=False, strict=False, vectorize=False, strategy="reverse-mode"):
    """d func(inputs) / d inputs: for output y and input x, a tensor of shape ``y.shape + x.shape``.

    With a tuple of inputs (or outputs) the result is a tuple over them; with both, a tuple (per output)
    of tuples (per input). ``strict=True`` raises when an output does not depend on an input (its
    block is zeros otherwise). ``vectorize`` changes nothing (the rows are computed one by one).
    """
    if strategy != "reverse-mode":
        raise NotImplementedError(f"jacobian: strategy={strategy!r} is not supported; minidl has reverse mode only")
    if create_graph:
        raise NotImplementedError("jacobian: create_graph=True is not supported; minidl's backward records no graph")
    several_inputs = not isinstance(inputs, Tensor)
    inputs = tuple(x.detach().requires_grad_() for x in _as_tuple(inputs, "jacobian", "inputs"))
    result = func(*inputs)
    several_outputs = not isinstance(result, Tensor)
    outputs = _as_tuple(result, "jacobian", "the outputs of func")
    blocks = []
    for out_index, output in enumerate(outputs):
        rows = [[] for _ in inputs]
        xp = array_module(output.array)
        for element in range(output.numel()):
            vector = xp.zeros(output.numel(), dtype=output.array.dtype)
            vector[element] = 1
            grads = (grad(output, inputs, Tensor(vector.reshape(output.shape)), retain_graph=True, allow_unused=True)
                     if output.requires_grad else (None,) * len(inputs))
            for in_index, (x, g) in enumerate(zip(inputs, grads)):
                if g is None and strict:
                    raise RuntimeError(f"jacobian: output {out_index} is independent of input {in_index}; "
                                       "strict=True does not allow that")
                rows[in_index].append(xp.zeros_like(x.array) if g is None else g.array)
        blocks.append(tuple(Tensor(xp.stack(row).reshape(output.shape + x.shape) if row else
                                   xp.zeros(output.shape + x.shape, dtype=x.array.dtype))
                            for x, row in zip(inputs, rows)))
    blocks = [block if several_inputs else block[0] for block in blocks]
    return tuple(blocks) if several_outputs else blocks[0]
