"""``minidl.autograd.grad`` and ``minidl.autograd.backward``: PyTorch's functional entries to the backward pass.

``grad(outputs, inputs)`` returns d(outputs)/d(inputs) as a tuple of new tensors and changes no
``.grad``; ``backward(tensors, grad_tensors, inputs=...)`` accumulates into ``.grad`` as
``Tensor.backward`` does, for several outputs in one pass. Both run
:func:`minidl.core.backward.run_backward`. minidl's backward works on arrays and records no graph,
so ``create_graph=True`` (higher-order gradients) raises ``NotImplementedError``.
"""

from __future__ import annotations

from minidl.core.backend import array_module
from minidl.core.backward import run_backward
from minidl.core.errors import AutogradError, ShapeError
from minidl.core.tensor import Tensor


def _tensors(value, where, argument):
    """A tuple of tensors from one tensor or a sequence of them."""
    items = (value,) if isinstance(value, Tensor) else tuple(value)
    for index, item in enumerate(items):
        if not isinstance(item, Tensor):
            raise TypeError(f"{where}: {argument} must be tensors, got {type(item).__name__} at index {index}")
    return items


def _no_create_graph(create_graph, where):
    if create_graph:
        raise NotImplementedError(f"{where}: create_graph=True is not supported; minidl's backward works on arrays "
                                  "and records no graph, so higher-order gradients are not available")


def _seeds(outputs, grad_outputs, where, batched=False):
    """One starting gradient array per output (ones for a scalar output whose gradient is None)."""
    if grad_outputs is None:
        grad_outputs = (None,) * len(outputs)
    elif isinstance(grad_outputs, Tensor):
        grad_outputs = (grad_outputs,)
    else:
        grad_outputs = tuple(grad_outputs)
    if len(grad_outputs) != len(outputs):
        raise AutogradError(f"{where}: got {len(outputs)} outputs and {len(grad_outputs)} gradients")
    for index, output in enumerate(outputs):
        if not output.requires_grad:
            raise AutogradError(f"{where}: element {index} of the outputs does not require grad and has no grad_fn")
    if not batched:
        return [output._seed_gradient(g, f"{where} (output {index})")
                for index, (output, g) in enumerate(zip(outputs, grad_outputs))]
    for index, (output, g) in enumerate(zip(outputs, grad_outputs)):
        if g is None or tuple(g.shape[1:]) != output.shape:
            shape = None if g is None else tuple(g.shape)
            raise ShapeError(f"{where}: with is_grads_batched=True grad_outputs[{index}] must have shape "
                             f"(batch, *{output.shape}), got {shape}")
    return [[o._seed_gradient(g[b], where) for o, g in zip(outputs, grad_outputs)]
            for b in range(grad_outputs[0].shape[0])]


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False, allow_unused=None,
         is_grads_batched=False, materialize_grads=False):
    """The vector-Jacobian products vᵀ·d(outputs)/d(inputs), one new tensor per input, as a tuple.

    ``grad_outputs`` holds the vectors v (one per output, shaped like it; None means ones for a
    one-element output). No ``.grad`` changes; gradient hooks of the tensors on the way run.
    ``inputs`` may be leaves or intermediate tensors. An input the outputs do not depend on raises,
    unless ``allow_unused=True`` (its gradient is then None) or ``materialize_grads=True`` (zeros).
    ``is_grads_batched=True`` reads the first dimension of every ``grad_outputs`` tensor as a batch
    of vectors and returns a batch of gradients (one backward pass per vector).
    """
    _no_create_graph(create_graph, "grad")
    if materialize_grads and allow_unused is False:
        raise ValueError("grad: allow_unused must be True or not passed when materialize_grads=True, "
                         "got allow_unused=False")
    allow_unused = materialize_grads if allow_unused is None else allow_unused
    outputs, inputs = _tensors(outputs, "grad", "outputs"), _tensors(inputs, "grad", "inputs")
    if not inputs:
        raise AutogradError("grad: the inputs argument cannot be empty")
    for index, tensor in enumerate(inputs):
        if not tensor.requires_grad:
            raise AutogradError(f"grad: input {index} (shape {tensor.shape}) does not require grad")
    retain_graph = bool(retain_graph)
    if is_grads_batched:
        batches = _seeds(outputs, grad_outputs, "grad", batched=True)
        rows = [run_backward(list(outputs), seeds, retain_graph or b < len(batches) - 1, inputs, capture=True)
                for b, seeds in enumerate(batches)]
        arrays = [None if rows[0][i] is None else array_module(rows[0][i]).stack([row[i] for row in rows])
                  for i in range(len(inputs))]
    else:
        arrays = run_backward(list(outputs), _seeds(outputs, grad_outputs, "grad"), retain_graph, inputs,
                              capture=True)
    results = []
    for index, (tensor, array) in enumerate(zip(inputs, arrays)):
        if array is None and not allow_unused:
            raise AutogradError(f"grad: input {index} (shape {tensor.shape}) was not used in the graph of the "
                                "outputs; pass allow_unused=True to get None for it")
        if array is None and materialize_grads:
            array = array_module(tensor.array).zeros_like(tensor.array)
        results.append(None if array is None else Tensor(array))
    return tuple(results)


def backward(tensors, grad_tensors=None, retain_graph=None, create_graph=False, inputs=None):
    """Accumulate the gradients of several ``tensors`` (one pass) into ``.grad``, as ``Tensor.backward``.

    ``grad_tensors`` holds one gradient per tensor (None for a one-element tensor); ``inputs``
    (a tensor or a sequence) limits the accumulation to those tensors.
    """
    _no_create_graph(create_graph, "backward")
    tensors = _tensors(tensors, "backward", "tensors")
    if inputs is not None:
        inputs = _tensors(inputs, "backward", "inputs")
        if not inputs:
            raise AutogradError("backward: the inputs argument cannot be empty (pass None to reach every leaf)")
    run_backward(list(tensors), _seeds(tensors, grad_tensors, "backward"), bool(retain_graph), inputs)
