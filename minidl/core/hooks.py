"""Gradient hooks: code that sees a tensor's gradient during ``backward()``.

``tensor.register_hook(hook)`` (PyTorch's name) calls ``hook(grad)`` with the tensor's gradient
before it is used; a tensor it returns replaces the gradient. For a non-leaf tensor the hooks
live on the node that made it and run when that node's output gradients are complete; for a
leaf they run on the sum of all its paths, once per backward, before the sum is added into
``.grad`` (the contributions wait in a stash until the leaf's last edge is done).

``leaf.register_post_accumulate_grad_hook(hook)`` (PyTorch's name) calls ``hook(leaf)``
during ``backward()``, right after the last gradient of that backward pass has been
added into ``leaf.grad``. Data-parallel training uses it to start reducing a bucket of
gradients while the backward pass is still running on the earlier layers.

A leaf used by several nodes receives several gradients, so the backward pass counts,
before it starts, how many edges of the graph lead to each hooked leaf
(:func:`hooked_leaf_edges`) and counts them down as it visits the nodes
(:func:`count_down`): the hooks run when the count reaches zero.
"""

from __future__ import annotations


class RemovableHandle:
    """What registering a hook returns: ``remove()`` unregisters it (also as a ``with`` block)."""

    def __init__(self, hooks, key):
        self.hooks, self.id = hooks, key

    def remove(self):
        self.hooks.pop(self.id, None)

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.remove()


def add_hook(hooks, hook):
    """Put ``hook`` into the dict ``hooks`` under a new key; returns its handle."""
    key = max(hooks, default=-1) + 1
    hooks[key] = hook
    return RemovableHandle(hooks, key)


def hooked_leaf_edges(order):
    """id(leaf) -> how many edges from the nodes in ``order`` reach that leaf, for leaves with hooks."""
    edges = {}
    for node in order:
        for tensor, (parent, _) in zip(node.inputs, node.parents):
            if parent is None and (tensor._post_accumulate_hooks or tensor._grad_hooks):
                edges[id(tensor)] = edges.get(id(tensor), 0) + 1
    return edges


def count_down(node, edges, stash):
    """``node`` is done: count its edges to hooked leaves down; at a leaf's last edge, add its stashed
    gradient (through its gradient hooks) into ``.grad`` and run its post-accumulate hooks."""
    for tensor, (parent, _) in zip(node.inputs, node.parents):
        if parent is None and id(tensor) in edges:
            edges[id(tensor)] -= 1
            if edges[id(tensor)] == 0:
                if id(tensor) in stash:
                    tensor._accumulate(run_grad_hooks(tensor._grad_hooks, stash.pop(id(tensor)), tensor), copy=True)
                if tensor._post_accumulate_hooks:
                    run_hooks(tensor)


def run_grad_hooks(grad_hooks, grad, tensor):
    """``grad`` (an array) after each of ``grad_hooks`` has seen it as a tensor; a returned tensor replaces it."""
    for hook in tuple(grad_hooks.values()):
        result = hook(tensor._plain(grad))
        if result is not None:
            if tuple(result.shape) != tuple(grad.shape):
                raise ValueError(f"hook: a gradient hook returned shape {tuple(result.shape)} for a gradient of "
                                 f"shape {tuple(grad.shape)}; return a tensor of the gradient's shape (or None)")
            grad = result.array
    return grad


def run_hooks(leaf):
    """Call every post-accumulate hook of ``leaf`` (in registration order) if it has a gradient."""
    if leaf.grad is not None:
        for hook in tuple(leaf._post_accumulate_hooks.values()):
            hook(leaf)
