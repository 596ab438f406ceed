# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
# ---

# %% [markdown]
# # Building the engine
#
# *A scalar autograd engine and then a tensor engine built from scratch, each step mapped onto minidl's own core.*
#
# Every later chapter calls `loss.backward()` and trusts the gradients it gets. This
# chapter opens that box: we build an automatic-differentiation engine ourselves, first
# for single numbers, then for arrays, and at every step name the place in minidl's core
# that does the same thing (`minidl/core/function.py`, `backward.py`, `tensor.py`,
# `grad_mode.py`). At the end you can read minidl's autograd line by line.
#
# The whole idea fits in one sentence. Every operation knows its **local derivatives**
# (for $z = xy$: $\partial z/\partial x = y$, $\partial z/\partial y = x$); the engine records which
# operation made which value, and the **chain rule** multiplies local derivatives along
# every path from the output back to an input and adds up the paths:
#
# $$\frac{\partial L}{\partial x} = \sum_{\text{paths } x \to L} \;\prod_{\text{edges } u \to v} \frac{\partial v}{\partial u}.$$

# %%
import contextlib
import contextvars
import inspect
import math

import numpy as np
from matplotlib.figure import Figure

import minidl
import minidl.core.backward as core_backward
import minidl.core.function as core_function
import minidl.core.grad_mode as core_grad_mode
import minidl.core.tensor as core_tensor
from minidl.course.chapter import Chapter
from minidl.course.figures import draw_graph, graph_of

chapter = Chapter(0, "Building the engine")
rng = np.random.default_rng(0)

# %% [markdown]
# ## A value that remembers where it came from
#
# A `Value` holds a number (`data`), the gradient of the final output with respect to it
# (`grad`, filled in by the backward pass), and its **parents**: the values it was computed
# from, each with the local derivative of this value with respect to that parent,
# computed right away in the forward pass. That is all a graph node needs.
#
# | op | value | local derivatives |
# | --- | --- | --- |
# | $a + b$ | $a + b$ | $1$, $1$ |
# | $a \cdot b$ | $ab$ | $b$, $a$ |
# | $a^n$ | $a^n$ | $n a^{n-1}$ |
# | $e^a$ | $e^a$ | $e^a$ |
# | $\tanh a$ | $t = \tanh a$ | $1 - t^2$ |

# %%


class Value:
    """A number, its gradient, and the values it was computed from with their local derivatives."""

    def __init__(self, data, parents=(), op=""):
        self.data, self.grad = float(data), 0.0
        self.parents = parents          # ((parent Value, d self / d parent), ...)
        self.op = op

    def __add__(self, other):
        other = other if isinstance(other, Value) else Value(other)
        return Value(self.data + other.data, ((self, 1.0), (other, 1.0)), "+")

    def __mul__(self, other):
        other = other if isinstance(other, Value) else Value(other)
        return Value(self.data * other.data, ((self, other.data), (other, self.data)), "×")

    def __pow__(self, n):
        return Value(self.data ** n, ((self, n * self.data ** (n - 1)),), f"^{n}")

    def exp(self):
        e = math.exp(self.data)
        return Value(e, ((self, e),), "exp")

    def tanh(self):
        t = math.tanh(self.data)
        return Value(t, ((self, 1 - t * t),), "tanh")

    def __neg__(self):
        return self * -1.0

    def __sub__(self, other):
        return self + (-other)

    __radd__ = __add__
    __rmul__ = __mul__

    def __repr__(self):
        return f"Value({self.data:.4f}, grad={self.grad:.4f})"


# %% [markdown]
# In minidl the same record is a `Function` node (`minidl/core/function.py`): its
# `forward` computes the value, and `Function.apply` stores the node's `inputs` (our
# `parents`) on the output tensor as its `grad_fn`. One difference: minidl does not
# store local derivatives but a `backward` method that multiplies the incoming
# gradient by them, which for arrays is far cheaper than a Jacobian matrix.
#
# ## The chain rule, node by node
#
# Going backwards, each node hands its gradient to its parents, multiplied by the local
# derivative: `parent.grad += local * node.grad`. Two things matter.
#
# **Order.** A node may pass its gradient on only when it is complete, that is after
# every node that *uses* it has passed its share. Listing the nodes so that each comes
# after its parents (a **topological order**) and walking that list backwards
# guarantees it.
#
# **Accumulation.** A value used twice receives a gradient along both paths, and the
# two must be *added*, hence `+=`. With `=` instead, `b = a + a` would give
# $\partial b/\partial a = 1$ instead of 2. The first topological sort is the textbook recursion:

# %%


def topological_order_recursive(root):
    order, seen = [], set()

    def visit(node):
        if id(node) not in seen:
            seen.add(id(node))
            for parent, _ in node.parents:
                visit(parent)
            order.append(node)
    visit(root)
    return order


def backward(root, order_of=topological_order_recursive):
    """Fill .grad of every value that root depends on (root.grad = 1)."""
    root.grad = 1.0
    for node in reversed(order_of(root)):
        for parent, local in node.parents:
            parent.grad += local * node.grad      # chain rule; += sums the paths


a = Value(3.0)
b = a + a
backward(b)
chapter.check(a.grad == 2.0, "a value used twice gets the sum of both paths (d(a + a)/da = 2)")

# %% [markdown]
# Recursion has a limit: Python stops at about 1,000 nested calls, and a recurrent
# network unrolled over a long sequence, or just a long chain of small ops, is deeper.
# minidl's `_topological_order` (`minidl/core/backward.py`) is **iterative**: a list is
# the stack, and each node is pushed twice, once to expand its parents and once to be
# placed after them.

# %%


def topological_order(root):
    """Every node reachable from root, each after all of its parents; no recursion."""
    order, placed, stack = [], set(), [(root, False)]
    while stack:
        node, expanded = stack.pop()
        if expanded:                       # its parents are placed: place it
            if id(node) not in placed:
                placed.add(id(node))
                order.append(node)
        elif id(node) not in placed:
            stack.append((node, True))
            stack.extend((parent, False) for parent, _ in node.parents if id(parent) not in placed)
    return order


deep = start = Value(0.5)
for _ in range(5000):
    deep = deep * 1.0001 + 0.0
try:
    backward(deep)
    recursion_failed = False
except RecursionError:
    recursion_failed = True
start.grad = 0.0
backward(deep, order_of=topological_order)
chapter.record("chain_depth", 10000)
chapter.check(recursion_failed and abs(start.grad - 1.0001 ** 5000) < 1e-9,
              "a 10,000-node chain breaks the recursive sort but not the iterative one")

# %% [markdown]
# ## Checking the engine: finite differences, and minidl
#
# A gradient can always be checked from the forward alone, with central differences
# $\partial f/\partial x \approx \big(f(x + \epsilon) - f(x - \epsilon)\big)/2\epsilon$. Here is an
# expression that uses every op and reuses $a$ three times:
#
# $$f(a, b, c) = \tanh(ab + c^2)\, e^{a} + a - b.$$

# %%


def f(a, b, c):
    return (a * b + c ** 2).tanh() * a.exp() + a - b


inputs = {"a": 0.7, "b": -1.3, "c": 0.4}
values = {name: Value(x) for name, x in inputs.items()}
out = f(**values)
backward(out, order_of=topological_order)
ours = {name: value.grad for name, value in values.items()}

epsilon = 1e-6
numerical = {}
for name in inputs:
    plus, minus = dict(inputs), dict(inputs)
    plus[name] += epsilon
    minus[name] -= epsilon
    numerical[name] = (f(**{k: Value(v) for k, v in plus.items()}).data -
                       f(**{k: Value(v) for k, v in minus.items()}).data) / (2 * epsilon)

tensors = {name: minidl.tensor(x, dtype=minidl.float64, requires_grad=True) for name, x in inputs.items()}
minidl_out = f(**tensors)
minidl_out.backward(retain_graph=True)  # keep the graph: it is drawn below
theirs = {name: tensor.grad.item() for name, tensor in tensors.items()}
for name in inputs:
    print(f"d f/d{name}: ours {ours[name]: .10f}   finite differences {numerical[name]: .10f}   "
          f"minidl {theirs[name]: .10f}")
gap_numerical = max(abs(ours[n] - numerical[n]) for n in inputs)
gap_minidl = max(abs(ours[n] - theirs[n]) for n in inputs)
chapter.record("max_gap_to_finite_differences", gap_numerical)
chapter.check(gap_numerical < 1e-8, "the scalar engine's gradients equal finite differences")
chapter.check(gap_minidl < 1e-12, "the scalar engine's gradients equal minidl's")

# %% [markdown]
# ## The recorded graph
#
# Left, the graph our scalar engine recorded for $f$ (each node shows its value and, after
# the backward pass, its gradient); right, the graph minidl recorded for the same
# expression, drawn from `grad_fn` and each node's `inputs` (`minidl.course.figures.graph_of`).
# Orange boxes are operations, green the inputs that require a gradient, grey constants.

# %%


def value_graph(root, names):
    """(nodes, edges) of a Value graph for minidl.course.figures.draw_graph."""
    labels = {id(value): name for name, value in names.items()}
    nodes, edges = {}, []
    for node in topological_order(root):
        kind = "leaf" if id(node) in labels else "output" if node is root else "op" if node.op else "constant"
        name = labels.get(id(node), node.op or "const")
        nodes[id(node)] = (f"{name}\n{node.data:.3g} | ∂ {node.grad:.3g}", kind)
        edges += [(id(parent), id(node)) for parent, _ in node.parents]
    return nodes, edges


figure = Figure(figsize=(13, 4.2))
left, right = figure.subplots(1, 2, width_ratios=[1.15, 1])
draw_graph(*value_graph(out, values), left, title="our scalar engine: value | gradient")
minidl_nodes, minidl_edges = graph_of(minidl_out, names=tensors)
draw_graph(minidl_nodes, minidl_edges, right, title="minidl's graph of the same f (tensor shapes)")
figure.tight_layout()
figure.savefig(chapter.figure("recorded_graph.png"), dpi=110)
chapter.record("graph_nodes_minidl", len(minidl_nodes))

# %% [markdown]
# ## A tiny neural network on the scalar engine
#
# Nothing more is needed to train a network. A neuron computes
# $\tanh(\sum_i w_i x_i + b)$ from `Value`s; a layer is a list of neurons; the loss is the
# mean squared error to targets $\pm 1$; gradient descent moves every weight against its
# gradient. The data: points of two interleaved half-moons.

# %%


class Neuron:
    def __init__(self, inputs):
        self.w = [Value(rng.uniform(-1, 1)) for _ in range(inputs)]
        self.b = Value(0.0)

    def __call__(self, x):
        return sum((w * xi for w, xi in zip(self.w, x)), self.b).tanh()

    def parameters(self):
        return self.w + [self.b]


class ScalarMLP:
    def __init__(self, sizes):
        self.layers = [[Neuron(n_in) for _ in range(n_out)] for n_in, n_out in zip(sizes, sizes[1:])]

    def __call__(self, x):
        for layer in self.layers:
            x = [neuron(x) for neuron in layer]
        return x[0]

    def parameters(self):
        return [p for layer in self.layers for neuron in layer for p in neuron.parameters()]


def moons(count, noise=0.1):
    angle = rng.uniform(0, np.pi, count)
    label = rng.integers(0, 2, count)
    x = np.where(label, 1 - np.cos(angle), np.cos(angle)) + rng.normal(0, noise, count)
    y = np.where(label, 0.5 - np.sin(angle), np.sin(angle)) + rng.normal(0, noise, count)
    return np.stack([x, y], axis=1), 2.0 * label - 1.0


points, targets = moons(24 if chapter.quick else 60)
network = ScalarMLP([2, 8, 1])
losses = []
for step in range(60 if chapter.quick else 200):
    predictions = [network(list(p)) for p in points]
    loss = sum(((p - t) ** 2 for p, t in zip(predictions, targets)), Value(0.0)) * (1.0 / len(points))
    for parameter in network.parameters():
        parameter.grad = 0.0                       # gradients accumulate: reset them before each backward
    backward(loss, order_of=topological_order)
    for parameter in network.parameters():
        parameter.data -= 0.3 * parameter.grad
    losses.append(loss.data)
accuracy = float(np.mean([(network(list(p)).data > 0) == (t > 0) for p, t in zip(points, targets)]))
chapter.record("scalar_mlp_loss_first", losses[0])
chapter.record("scalar_mlp_loss_last", losses[-1])
chapter.record("scalar_mlp_train_accuracy", accuracy)
chapter.check(losses[-1] < 0.5 * losses[0] and accuracy >= 0.8,
              f"the scalar engine trains a 2-8-1 network (loss {losses[0]:.3f} → {losses[-1]:.3f}, "
              f"accuracy {accuracy:.2f})")

# %% [markdown]
# ## From numbers to arrays
#
# The scalar engine makes one graph node per multiplication: a 64×64 matrix product
# would be 262,144 nodes. A tensor engine keeps the same rules but lets one node stand
# for a whole array operation, with NumPy doing the arithmetic. Three things change.
#
# 1. **A node is an object with `forward` and `backward` side by side.** Local derivatives
#    of array ops are huge Jacobians, so instead of storing them, `backward(g)` returns the
#    vector-Jacobian product directly: for $Z = XY$ (matrix product), $G_X = G Y^\top$ and
#    $G_Y = X^\top G$. Whatever backward needs from the forward is kept with `save`.
#    (minidl: `Function`, `Function.save`, `Function.apply` in `minidl/core/function.py`;
#    every op in `minidl/ops/`, such as `Mul` in `ops/arithmetic.py`, is one such class.)
# 2. **Broadcasting must be undone.** $X + b$ with $X$ of shape (3, 4) and $b$ of shape (4,)
#    adds $b$ to each of the 3 rows: $b$ was used 3 times, so its gradient is the *sum* of
#    the 3 rows of $G$, shape (4,). In general the incoming gradient is summed over the
#    dimensions broadcasting added or stretched: `sum_to`. Done once in the engine, no op
#    has to think about it. (minidl: `sum_to` in `minidl/core/backward.py`, called from
#    `_checked_gradient`, which also checks each gradient's shape and names the op if wrong.)
# 3. **Grad mode.** Evaluation and optimizer updates should not record anything; a
#    context variable says whether to record. (minidl: `grad_enabled` and `no_grad` in
#    `minidl/core/grad_mode.py`; a `ContextVar` is private to each thread.)

# %%
grad_enabled = contextvars.ContextVar("grad_enabled", default=True)


@contextlib.contextmanager
def no_grad():
    token = grad_enabled.set(False)
    try:
        yield
    finally:
        grad_enabled.reset(token)


def sum_to(grad, shape):
    """Sum grad over the dimensions that broadcasting added (leading) or stretched (size 1)."""
    extra = grad.ndim - len(shape)
    if extra:
        grad = grad.sum(axis=tuple(range(extra)))
    stretched = tuple(axis for axis, size in enumerate(shape) if size == 1 and grad.shape[axis] != 1)
    return grad.sum(axis=stretched, keepdims=True) if stretched else grad


class Function:
    """One node: forward and backward on arrays; apply() records it when a gradient is needed."""

    saved, inputs, freed = (), (), False

    def save(self, *arrays):
        self.saved = arrays

    @classmethod
    def apply(cls, *inputs):
        node = cls()
        out = node.forward(*(t.data for t in inputs))
        if grad_enabled.get() and any(t.requires_grad for t in inputs):
            node.inputs = inputs
            return Tensor(out, node=node)
        return Tensor(out)                 # nothing to differentiate: no node, nothing saved

    def release(self):
        self.saved, self.inputs, self.freed = (), (), True


class Tensor:
    def __init__(self, data, requires_grad=False, node=None):
        self.data = np.asarray(data, dtype=np.float64)
        self.grad, self.node = None, node
        self.requires_grad = requires_grad or node is not None

    def __add__(self, other):
        return Add.apply(self, as_tensor(other))

    def __sub__(self, other):
        return Sub.apply(self, as_tensor(other))

    def __mul__(self, other):
        return Mul.apply(self, as_tensor(other))

    def __matmul__(self, other):
        return MatMul.apply(self, other)

    def tanh(self):
        return Tanh.apply(self)

    def sum(self):
        return Sum.apply(self)

    def backward(self):
        run_backward(self)


def as_tensor(x):
    return x if isinstance(x, Tensor) else Tensor(x)


class Add(Function):
    def forward(self, x, y):
        return x + y

    def backward(self, g):
        return g, g


class Sub(Function):
    def forward(self, x, y):
        return x - y

    def backward(self, g):
        return g, -g


class Mul(Function):
    def forward(self, x, y):
        self.save(x, y)
        return x * y

    def backward(self, g):
        x, y = self.saved
        return g * y, g * x


class MatMul(Function):
    def forward(self, x, y):
        self.save(x, y)
        return x @ y

    def backward(self, g):
        x, y = self.saved
        return g @ y.T, x.T @ g


class Tanh(Function):
    def forward(self, x):
        y = np.tanh(x)
        self.save(y)                        # the output is all the backward needs
        return y

    def backward(self, g):
        (y,) = self.saved
        return (g * (1 - y * y),)


class Sum(Function):
    def forward(self, x):
        self.shape = x.shape
        return x.sum()

    def backward(self, g):
        return (np.broadcast_to(g, self.shape),)


# %% [markdown]
# The backward pass is the scalar one with arrays: a topological order of the nodes,
# one pending gradient per node (summed when it is used twice), each gradient brought
# back to its input's shape by `sum_to`, leaves accumulating into `.grad`. After a node's
# backward has run, what it saved is freed, so memory does not grow with every step; a
# second backward through the same graph is then an error, as in minidl (which offers
# `retain_graph=True` to keep it). (minidl: `run_backward`, `_add_gradient` and
# `Function.release` in `minidl/core/backward.py` and `function.py`; leaves accumulate in
# `Tensor._accumulate`, `minidl/core/tensor.py`.)

# %%


def node_order(root_node):
    """Topological order of nodes (the iterative sort above, over each node's input tensors)."""
    order, placed, stack = [], set(), [(root_node, False)]
    while stack:
        node, expanded = stack.pop()
        if expanded:
            if id(node) not in placed:
                placed.add(id(node))
                order.append(node)
        elif id(node) not in placed:
            stack.append((node, True))
            stack.extend((t.node, False) for t in node.inputs if t.node is not None)
    return order


def run_backward(root):
    pending = {id(root.node): np.ones_like(root.data)}
    for node in reversed(node_order(root.node)):
        if node.freed:
            raise RuntimeError("backward through a graph a second time: its saved arrays were freed")
        grads = node.backward(pending.pop(id(node)))
        for tensor, grad in zip(node.inputs, grads):
            if not tensor.requires_grad:
                continue
            grad = sum_to(grad, tensor.data.shape)          # undo broadcasting, in one place
            if tensor.node is None:                         # a leaf: accumulate, as PyTorch does
                tensor.grad = grad if tensor.grad is None else tensor.grad + grad
            else:                                           # used twice: sum the paths
                key = id(tensor.node)
                pending[key] = grad if key not in pending else pending[key] + grad
        node.release()


# %% [markdown]
# ### Checks against minidl
#
# First `sum_to` itself, on the shapes broadcasting produces, against minidl's
# `minidl.core.backward.sum_to`:

# %%
cases = [((2, 3, 4), (3, 1)), ((3, 4), (4,)), ((3, 4), (1, 4)), ((2, 1, 4), (1, 1)), ((5,), ()), ((3, 4), (3, 4)),
         ((4, 2, 3), (4, 1, 3))]
for big, small in cases:
    grad = rng.standard_normal(big)
    same = np.array_equal(sum_to(grad, small), core_backward.sum_to(grad, small))
    print(f"sum_to {big} -> {small}: {'equal' if same else 'DIFFERENT'}")
    chapter.check(same, f"our sum_to equals minidl's for {big} -> {small}")

# %% [markdown]
# Then a whole two-layer network with a broadcast bias and a squared error, in our
# engine and in minidl, on the same float64 weights: every gradient must agree.

# %%
arrays = {"x": rng.standard_normal((5, 3)), "W1": rng.standard_normal((3, 4)), "b1": rng.standard_normal(4),
          "W2": rng.standard_normal((4, 1)), "b2": rng.standard_normal(1), "y": rng.standard_normal((5, 1))}


def two_layers(t):
    error = ((t["x"] @ t["W1"] + t["b1"]).tanh() @ t["W2"] + t["b2"]) - t["y"]
    return (error * error).sum()


ours = {name: Tensor(value, requires_grad=name not in ("x", "y")) for name, value in arrays.items()}
two_layers(ours).backward()
theirs = {name: minidl.tensor(value, dtype=minidl.float64, requires_grad=name not in ("x", "y"))
          for name, value in arrays.items()}
two_layers(theirs).backward()
worst = max(float(np.abs(ours[n].grad - theirs[n].grad.numpy()).max()) for n in ("W1", "b1", "W2", "b2"))
chapter.record("tensor_engine_max_gap_to_minidl", worst)
chapter.check(worst < 1e-12, "the tensor engine's gradients (broadcast biases included) equal minidl's")

# %% [markdown]
# Freed graphs and grad mode behave as in minidl: a second backward raises, and under
# `no_grad` nothing is recorded.

# %%
ours = {name: Tensor(value, requires_grad=name not in ("x", "y")) for name, value in arrays.items()}
loss = two_layers(ours)
loss.backward()
try:
    loss.backward()
    ours_raised = False
except RuntimeError as error:
    ours_raised = True
    print("ours:  ", error)
loss = two_layers(theirs)
loss.backward()
try:
    loss.backward()
    minidl_raised = False
except minidl.AutogradError as error:
    minidl_raised = True
    print("minidl:", error)
chapter.check(ours_raised and minidl_raised, "a second backward through a freed graph raises, in both engines")

with no_grad():
    quiet = ours["x"] @ ours["W1"]
with minidl.no_grad():
    minidl_quiet = theirs["x"] @ theirs["W1"]
chapter.check(quiet.node is None and not quiet.requires_grad and minidl_quiet.grad_fn is None,
              "under no_grad neither engine records a node")

# %% [markdown]
# ## Where each piece lives in minidl
#
# | what we built | where minidl does it |
# | --- | --- |
# | a node with its inputs, recorded only when needed | `Function.apply`, `minidl/core/function.py` |
# | forward and backward side by side; `save` | `Function.forward`, `.backward`, `.save` (each op in `minidl/ops/`) |
# | topological order, without recursion | `_topological_order`, `minidl/core/backward.py` |
# | summing the paths of a node used twice | `_add_gradient`, `minidl/core/backward.py` |
# | leaves accumulate into `.grad` | `Tensor._accumulate`, `minidl/core/tensor.py` |
# | undoing broadcasting | `sum_to` (called by `_checked_gradient`), `minidl/core/backward.py` |
# | freeing the graph after backward | `Function.release`, `run_backward(retain_graph=...)` |
# | `no_grad` | `grad_enabled`, `no_grad`, `minidl/core/grad_mode.py` |
# | `loss.backward()` | `Tensor.backward` → `run_backward` |
#
# minidl adds what a real engine needs around the same core: several outputs per node,
# dtype and device checks on every gradient, version counters that catch an in-place
# edit of a saved array, `detect_anomaly`, and kernels that replace an op's class without
# changing the graph (chapter 08). Each place named above exists:

# %%
places = [(core_function.Function, ("apply", "forward", "backward", "save", "release")),
          (core_backward, ("_topological_order", "_add_gradient", "sum_to", "_checked_gradient",
                                  "run_backward")),
          (core_tensor.Tensor, ("_accumulate", "backward")),
          (core_grad_mode, ("grad_enabled", "no_grad"))]
missing = [f"{owner.__name__}.{name}" for owner, names in places for name in names if not hasattr(owner, name)]
print("read next:", inspect.getsourcefile(core_backward))
chapter.check(not missing, f"every place this chapter names exists in minidl (missing: {missing or 'none'})")

chapter.finish()
