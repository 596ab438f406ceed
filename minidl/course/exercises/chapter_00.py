"""Exercises of chapter 00, building the engine: the topological sort, sum_to, a broadcasting backward."""

from __future__ import annotations

import numpy as np

from minidl.core.backward import sum_to as minidl_sum_to
from minidl.course.exercises.grading import Exercise, compare, expect, numerical_gradient, parts, random

TITLE = "Building the engine"
PREAMBLE = "import numpy as np"


def topological_order(root):
    """The nodes of the graph that ends at ``root``, each once, every node after all of its inputs.

    A node has ``node.parents``: the list of nodes it was computed from (empty for a
    leaf; a node may list the same parent twice, as in ``b = a + a``). Return a list
    that holds every node reachable from ``root`` exactly once, such that each node
    comes after all of its parents; ``root`` is then last, and walking the list
    backwards is the order of the backward pass.

    Graphs can be thousands of nodes deep: use a list as a stack, not recursion
    (minidl does the same in ``minidl/core/backward.py``, ``_topological_order``).
    """
    order, placed, stack = [], set(), [(root, False)]
    while stack:
        node, expanded = stack.pop()
        if expanded:
            if id(node) not in placed:
                placed.add(id(node))
                order.append(node)
            continue
        if id(node) in placed:
            continue
        stack.append((node, True))
        stack.extend((parent, False) for parent in node.parents if id(parent) not in placed)
    return order


def sum_to(grad, shape):
    """``grad`` summed over the dimensions that broadcasting added or stretched, so it gets ``shape``.

    When an input of shape ``shape`` was broadcast in the forward, the gradient that
    arrives has the output's shape. Sum it over the leading dimensions the input did
    not have, then (keeping them) over the dimensions where the input had size 1.
    Example: ``sum_to(np.ones((2, 3, 4)), (3, 1))`` is ``np.full((3, 1), 8.0)``.
    (minidl: ``minidl/core/backward.py``, ``sum_to``.)
    """
    extra = grad.ndim - len(shape)
    if extra:
        grad = grad.sum(axis=tuple(range(extra)))
    stretched = tuple(axis for axis, size in enumerate(shape) if size == 1 and grad.shape[axis] != 1)
    if stretched:
        grad = grad.sum(axis=stretched, keepdims=True)
    return grad


def mul_backward(x, y, g):
    """The gradients ``(dL/dx, dL/dy)`` of ``z = x * y`` (NumPy broadcasting), given ``g = dL/dz``.

    dz/dx = y and dz/dy = x, element by element; ``g`` has the shape of ``z``, and each
    gradient must have the shape of its own input: use your ``sum_to``.
    """
    return sum_to(g * y, x.shape), sum_to(g * x, y.shape)


# ---------------------------------------------------------------- grading

class Node:
    """A graph node for grading topological_order: a name and the nodes it was computed from."""

    def __init__(self, name, *parents):
        self.name, self.parents = name, list(parents)

    def __repr__(self):
        return f"Node({self.name!r})"


def _graphs():
    a = Node("a")
    b = Node("b", a, a)                       # a used twice
    c, d = Node("c", a), Node("d", b)
    diamond = Node("e", c, d, b)
    x, w = Node("x"), Node("w")
    chain = Node("h0", x, w)
    for i in range(1, 3000):                  # deeper than Python's recursion limit
        chain = Node(f"h{i}", chain, w)
    return [("the diamond graph e(c(a), d(b(a, a)), b)", diamond, 5), ("a chain 3,000 nodes deep", chain, 3002)]


def _grade_topological_order(answer):
    hint = "place a node only after all of its parents; keep a set of the nodes already placed"
    for label, root, count in _graphs():
        order = answer(root)
        expect(isinstance(order, (list, tuple)), f"the order of {label}", "a list of nodes", type(order).__name__, hint)
        position = {}
        for index, node in enumerate(order):
            expect(id(node) not in position, f"the order of {label}", f"node {node.name!r} once",
                   f"it again at position {index} (first at {position.get(id(node))})",
                   "a node used twice must still appear once: skip nodes already placed", element=(index,))
            position[id(node)] = index
        expect(len(order) == count, f"the order of {label}", f"{count} nodes", f"{len(order)} nodes",
               "every node reachable from the root, leaves included, must be listed")
        for index, node in enumerate(order):
            for parent in node.parents:
                expect(position.get(id(parent), len(order)) < index, f"the order of {label}",
                       f"its input {parent.name!r} before it", f"{node.name!r} at position {index}, "
                       f"{parent.name!r} at {position.get(id(parent), 'nowhere')}", hint, element=(index,))
        expect(order[-1] is root, f"the order of {label}", "the root last", f"{order[-1].name!r} last", hint,
               element=(len(order) - 1,))


SUM_TO_CASES = [((2, 3, 4), (3, 1)), ((3, 4), (4,)), ((3, 4), (1, 4)), ((2, 1, 4), (1, 1)), ((5,), ()),
                ((3, 4), (3, 4)), ((2, 3, 4), (2, 1, 4))]


def _grade_sum_to(answer):
    for seed, (big, small) in enumerate(SUM_TO_CASES):
        grad = random(seed, *big)
        compare(answer(grad.copy(), small), minidl_sum_to(grad, small), f"sum_to(grad of shape {big}, {small})",
                "sum the leading dims away first, then sum with keepdims=True where the input had size 1")


def _grade_mul_backward(answer):
    hint = "dz/dx = y and dz/dy = x, times g; then sum each back to its input's shape"
    for seed, (x_shape, y_shape) in enumerate([((3, 3), (3, 3)), ((2, 3, 4), (3, 1)), ((4,), (2, 3, 4))]):
        x, y = random(seed, *x_shape), random(seed + 10, *y_shape)
        g = random(seed + 20, *np.broadcast_shapes(x_shape, y_shape))
        result = parts(answer(x.copy(), y.copy(), g.copy()), 2, f"mul_backward for x {x_shape}, y {y_shape}", hint)
        for index, name in enumerate(("dL/dx", "dL/dy")):
            expected = numerical_gradient(lambda a, b: a * b, [x, y], index, g)
            compare(result[index], expected, f"{name} for x {x_shape}, y {y_shape} (by finite differences)", hint)


EXERCISES = [
    Exercise(topological_order, _grade_topological_order,
             "an explicit stack of (node, expanded) pairs: push a node's parents, place it when it comes back"),
    Exercise(sum_to, _grade_sum_to, "grad.sum(axis=...) over the leading dims, then keepdims=True over size-1 dims"),
    Exercise(mul_backward, _grade_mul_backward, "g * y for x and g * x for y, each through sum_to"),
]
