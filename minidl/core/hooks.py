"""Post-accumulate gradient hooks: code that runs once a leaf's gradient is complete.

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
            if parent is None and tensor._post_accumulate_hooks:
                edges[id(tensor)] = edges.get(id(tensor), 0) + 1
    return edges


def count_down(node, edges):
    """``node`` is done: count its edges to hooked leaves down, and run the hooks of a leaf whose last
    edge this was (when the leaf has a gradient)."""
    for tensor, (parent, _) in zip(node.inputs, node.parents):
        if parent is None and id(tensor) in edges:
            edges[id(tensor)] -= 1
            if edges[id(tensor)] == 0:
                run_hooks(tensor)


def run_hooks(leaf):
    """Call every post-accumulate hook of ``leaf`` (in registration order) if it has a gradient."""
    if leaf.grad is not None:
        for hook in tuple(leaf._post_accumulate_hooks.values()):
            hook(leaf)
