"""The backward pass: visit the graph's nodes in reverse topological order.

Four things happen here centrally, so no op repeats them:

* broadcasting is undone: a gradient is summed back to its input's shape;
* type promotion is undone: a float32 input of a float64 result gets float32;
* each gradient is checked for its input's shape, dtype and device (the error
  names the op, which catches mistakes in new ops);
* in-place edits of tensors a node saved are detected by version counters.

The order is computed iteratively (no recursion limit), gradients of a node used
twice are summed, and leaves accumulate into ``.grad`` (PyTorch semantics). A leaf's
post-accumulate hooks run once its last gradient of the pass is in (``minidl.core.hooks``).
"""

from __future__ import annotations

import numpy as np

from minidl.core import hooks, profiling
from minidl.core.backend import array_module, device_of
from minidl.core.errors import AutogradError, DeviceError, ShapeError
from minidl.core.grad_mode import anomaly_enabled

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


def _topological_order(*roots):
    """Nodes reachable from the ``roots`` such that each node comes after every node that uses it."""
    order, visited, stack = [], set(), [(root, False) for root in roots]
    while stack:
        node, expanded = stack.pop()
        if expanded:
            order.append(node)
            continue
        if node in visited:
            continue
        visited.add(node)
        stack.append((node, True))
        for parent, _ in node.parents:
            if parent is not None and parent not in visited:
                stack.append((parent, False))
    order.reverse()
    return order


def _checked_gradient(node, index, grad, tensor, out_dtype):
    """Bring one input gradient to its input's shape and dtype, or explain what is wrong."""
    data = tensor.array
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


def run_backward(root, grad, retain_graph=False, inputs=None, capture=False):
    """Backpropagate ``grad`` (an array shaped like ``root``) to every leaf that requires grad.

    ``root`` and ``grad`` may be lists (several outputs, one pass). With ``inputs`` (tensors, leaves or
    not) only the gradients of those tensors are computed, through the nodes that lead to them: they
    are added into their ``.grad``, or with ``capture=True`` returned as a list of arrays (None where no
    gradient reached) and no ``.grad`` changes (``minidl.autograd.grad``). Gradient hooks of those
    tensors run; post-accumulate hooks run only when their ``.grad`` changes.
    """
    roots, grads = (root, grad) if isinstance(root, (list, tuple)) else ([root], [grad])
    targets = None if inputs is None else {id(t): t for t in inputs}
    collected = {}  # id(target) -> the sum of its gradients so far
    pending = {}  # node -> the gradients of its outputs so far, one slot per output
    for root, grad in zip(roots, grads):
        if root._node is not None:
            if targets is None and root._retains_grad:
                root._accumulate(grad, copy=True)
            _add_gradient(pending, root._node, root._output, grad)
        elif targets is not None:
            if id(root) in targets:
                _collect(collected, root, grad)
        else:
            if root._grad_hooks:
                grad = hooks.run_grad_hooks(root._grad_hooks, grad, root)
            root._accumulate(grad, copy=True)
            if root._post_accumulate_hooks:
                hooks.run_hooks(root)
    order = _topological_order(*pending)
    anomaly = anomaly_enabled.get()
    profiler = profiling.current.get()
    needed, target_nodes = (None, {}) if targets is None else _nodes_to_targets(order, targets)
    hooked = hooks.hooked_leaf_edges(order) if targets is None else {}  # {} unless some leaf has a hook
    stash = {}  # id(leaf) -> the sum so far of a leaf whose gradient hooks wait for all its paths
    for node in order:
        grad_outs = pending.pop(node, None)
        if grad_outs is None:
            if hooked:
                hooks.count_down(node, hooked, stash)
            continue
        if node._grad_hooks:
            grad_outs = [g if g is None or output not in node._grad_hooks else
                         hooks.run_grad_hooks(node._grad_hooks[output], g, node.inputs[0] if node.inputs else None)
                         for output, g in enumerate(grad_outs)]
        for target in target_nodes.get(node, ()):
            if grad_outs[target._output] is not None:
                _collect(collected, target, grad_outs[target._output])
        if needed is not None and node not in needed:
            continue
        if node._freed:
            raise AutogradError(
                f"{node.name}: trying to backward through the graph a second time (or to use values "
                "already freed by backward()); pass retain_graph=True to the first backward() if you need to")
        if node._saved_versions:
            node._check_versions()
        started = profiler.start(grad_outs) if profiler else None
        grads = node.backward(*grad_outs)
        if profiler:
            profiler.stop(started, node.name + "_backward", tuple(t.array.shape for t in node.inputs), grads)
        if type(grads) is not tuple:
            grads = (grads,)
        if len(grads) != len(node.inputs):
            raise AutogradError(f"{node.name}: backward returned {len(grads)} gradients for {len(node.inputs)} inputs")
        if anomaly:
            _check_anomaly(node, grads)
        out_dtype = next(g for g in grad_outs if g is not None).dtype
        for index, (tensor, input_grad) in enumerate(zip(node.inputs, grads)):
            if input_grad is None or not node.needs_grad[index]:
                continue
            data = tensor.array
            if type(input_grad) is not type(data) or input_grad.shape != data.shape or input_grad.dtype != data.dtype:
                input_grad = _checked_gradient(node, index, input_grad, tensor, out_dtype)
            parent, output = node.parents[index]
            if targets is not None:
                if parent is None and id(tensor) in targets:
                    _collect(collected, tensor, input_grad)
            elif parent is None and tensor._grad_hooks:
                stash[id(tensor)] = input_grad.copy() if id(tensor) not in stash else stash[id(tensor)] + input_grad
            elif parent is None or tensor._retains_grad:
                shared = any(input_grad is g for g in grad_outs) or input_grad.base is not None or \
                    sum(g is input_grad for g in grads) > 1
                # a retained non-leaf grad must not share memory with the gradient still flowing upstream
                tensor._accumulate(input_grad, copy=shared or parent is not None)
            if parent is not None and (needed is None or parent in needed or parent in target_nodes):
                _add_gradient(pending, parent, output, input_grad)
        if hooked:
            hooks.count_down(node, hooked, stash)
        if not retain_graph:
            node.release()
    if targets is not None:
        return _deliver(targets, collected, inputs, capture)


def _nodes_to_targets(order, targets):
    """(the nodes whose backward leads to a target, node -> the non-leaf targets it made)."""
    target_nodes = {}
    for target in targets.values():
        if target._node is not None:
            target_nodes.setdefault(target._node, []).append(target)
    needed = set()
    for node in reversed(order):  # parents before the nodes that use them
        if node._freed or any((parent is None and id(tensor) in targets) or (parent is not None and (
                parent in needed or parent in target_nodes)) for tensor, (parent, _) in zip(node.inputs, node.parents)):
            needed.add(node)  # a freed node is kept so that visiting it explains that it was freed
    return needed, target_nodes


def _collect(collected, tensor, grad):
    key = id(tensor)
    collected[key] = grad.copy() if key not in collected else collected[key] + grad


def _deliver(targets, collected, inputs, capture):
    """The targets' gradients after their leaves' gradient hooks: returned, or added into ``.grad``."""
    final = {}
    for key, tensor in targets.items():
        grad = collected.get(key)
        if grad is not None and tensor._node is None and tensor._grad_hooks:
            grad = hooks.run_grad_hooks(tensor._grad_hooks, grad, tensor)
        final[key] = grad
        if not capture and grad is not None:
            tensor._accumulate(grad, copy=False)
            if tensor._node is None and tensor._post_accumulate_hooks:
                hooks.run_hooks(tensor)
    return [final[id(t)] for t in inputs]


def _add_gradient(pending, node, output, grad):
    """Add ``grad`` to what output ``output`` of ``node`` has received so far."""
    slots = pending.get(node)
    if slots is None:
        slots = pending[node] = [None] * node.outputs
    slots[output] = grad if slots[output] is None else slots[output] + grad
