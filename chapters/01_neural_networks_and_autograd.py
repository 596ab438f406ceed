# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
# ---

# %% [markdown]
# # Neural networks and autograd
#
# *Tensors, forward propagation a = σ(Wa + b), backprop derived by hand and checked against autograd and gradcheck.*
#
# A neural network is a chain of simple functions. Layer $l$ takes the activations
# $a^{(l-1)}$ of the layer before and computes
#
# $$z^{(l)} = W^{(l)} a^{(l-1)} + b^{(l)}, \qquad a^{(l)} = \sigma\big(z^{(l)}\big).$$
#
# Training needs the gradient of a loss with respect to every $W^{(l)}$ and $b^{(l)}$.
# **Backpropagation** computes them layer by layer from the output back, with the
# error signal $\delta^{(l)} = \partial L / \partial z^{(l)}$:
#
# $$\delta^{(L)} = \nabla_{a^{(L)}} L \odot \sigma'\big(z^{(L)}\big), \qquad
# \delta^{(l)} = \big(W^{(l+1)}\big)^{\top} \delta^{(l+1)} \odot \sigma'\big(z^{(l)}\big),$$
#
# $$\frac{\partial L}{\partial W^{(l)}} = \delta^{(l)} \big(a^{(l-1)}\big)^{\top}, \qquad
# \frac{\partial L}{\partial b^{(l)}} = \delta^{(l)},$$
#
# and gradient descent moves every parameter against its gradient:
# $\Delta W = -\eta\, \delta^{(l)} (a^{(l-1)})^{\top}$, $\Delta b = -\eta\, \delta^{(l)}$.
#
# In this chapter we derive these by hand for a two-layer network, then let minidl's
# autograd engine compute the same numbers, and prove both right with a gradient check.
# (Chapter 00 builds such an engine from scratch, step by step, and shows where minidl's does the same.)

# %%
import numpy as np

import minidl
from minidl.course.chapter import Chapter
from minidl.testing import gradcheck
from minidl.course.figures import render, to_dot

chapter = Chapter(1, "Neural networks and autograd")
minidl.manual_seed(0)

# %% [markdown]
# ## Tensors
#
# A `minidl.Tensor` holds an array (`.array`, NumPy here), and remembers the operation that
# produced it when one of its inputs has `requires_grad=True`.

# %%
x = minidl.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
y = (x * x).sum()
y.backward()
print("x =", x)
print("y = sum(x²) =", y.item())
print("dy/dx = 2x =", x.grad)
chapter.check(np.allclose(x.grad.numpy(), 2 * x.detach().numpy()), "autograd gives d(sum x²)/dx = 2x")

# %% [markdown]
# ## Activations and their derivatives
#
# $\sigma(z) = 1/(1+e^{-z})$ with $\sigma' = \sigma(1-\sigma)$; $\mathrm{ReLU}(z) = \max(0, z)$
# with derivative $[z > 0]$; $\tanh$ with $\tanh' = 1 - \tanh^2$. Autograd computes each
# derivative; we compare with the formulas.

# %%
from matplotlib.figure import Figure  # noqa: E402

z = minidl.linspace(-4, 4, 201, dtype=minidl.float64, requires_grad=True)
figure = Figure(figsize=(10, 3))
formulas = {"sigmoid": lambda s: s * (1 - s), "relu": lambda r: (r > 0).astype(float), "tanh": lambda t: 1 - t * t}
for column, name in enumerate(formulas, start=1):
    z.grad = None
    out = getattr(z, name)()
    out.sum().backward()
    by_formula = formulas[name](out.detach().numpy())
    chapter.check(np.allclose(z.grad.numpy(), by_formula), f"autograd's {name}' equals the formula")
    axes = figure.add_subplot(1, 3, column)
    axes.plot(z.detach().numpy(), out.detach().numpy(), label=name)
    axes.plot(z.detach().numpy(), z.grad.numpy(), "--", label=f"{name}' (autograd)")
    axes.set_title(name)
    axes.legend()
figure.tight_layout()
figure.savefig(chapter.figure("activations.png"), dpi=110)

# %% [markdown]
# ## Forward propagation and backprop by hand
#
# A 2-layer network with sigmoid activations and the squared error
# $L = \tfrac12 \lVert a^{(2)} - y \rVert^2$, for one input column vector.

# %%
rng = np.random.default_rng(0)
W1, b1 = rng.standard_normal((4, 3)), rng.standard_normal((4, 1))
W2, b2 = rng.standard_normal((2, 4)), rng.standard_normal((2, 1))
a0, target = rng.standard_normal((3, 1)), np.array([[0.0], [1.0]])


def sigmoid(v):
    return 1 / (1 + np.exp(-v))


z1 = W1 @ a0 + b1
a1 = sigmoid(z1)
z2 = W2 @ a1 + b2
a2 = sigmoid(z2)
loss = 0.5 * np.sum((a2 - target) ** 2)

delta2 = (a2 - target) * a2 * (1 - a2)       # δ(2) = ∇a L ⊙ σ'(z2)
delta1 = (W2.T @ delta2) * a1 * (1 - a1)      # δ(1) = W2ᵀ δ(2) ⊙ σ'(z1)
by_hand = {"W2": delta2 @ a1.T, "b2": delta2, "W1": delta1 @ a0.T, "b1": delta1}
chapter.record("loss", float(loss))

# %% [markdown]
# The same network in minidl: the engine records every operation and `backward()` walks
# the graph in reverse, applying each op's local derivative.

# %%
params = {name: minidl.tensor(value, requires_grad=True) for name, value in
          {"W1": W1, "b1": b1, "W2": W2, "b2": b2}.items()}


def network(W1, b1, W2, b2):
    hidden = (W1 @ minidl.tensor(a0) + b1).sigmoid()
    output = (W2 @ hidden + b2).sigmoid()
    return 0.5 * ((output - minidl.tensor(target)) ** 2).sum()


engine_loss = network(**params)
engine_loss.backward()
for name, value in by_hand.items():
    difference = float(np.abs(params[name].grad.numpy() - value).max())
    chapter.check(difference < 1e-12, f"engine gradient of {name} equals the hand-derived one (|diff| {difference:.1e})")

# %% [markdown]
# ## Proving the gradients: a gradient check
#
# `minidl.testing.gradcheck` compares `backward()` with central finite differences
# $\big(f(x+\epsilon) - f(x-\epsilon)\big)/2\epsilon$, for random output vectors (the full
# Jacobian when small), in float64.

# %%
fresh = [minidl.tensor(value, requires_grad=True) for value in (W1, b1, W2, b2)]
chapter.check(gradcheck(network, fresh), "gradcheck passes for the 2-layer network")

# %% [markdown]
# ## The computational graph
#
# Ops are boxes, tensors ellipses (green: parameters that require grad, grey: constants).
# The DOT text is always written; with Graphviz installed it is also rendered to PNG.

# %%
dot = to_dot(engine_loss, names={**params, "loss": engine_loss})
image = render(dot, chapter.figure("graph.dot"))
print(dot[:300], "...")
chapter.record("graph_rendered", image is not None)

# %% [markdown]
# ## One step of gradient descent
#
# With learning rate $\eta$, $W \leftarrow W - \eta\, \partial L/\partial W$ lowers the loss.

# %%
eta = 0.5
with minidl.no_grad():
    for tensor in params.values():
        tensor -= eta * tensor.grad
after = network(**params).item()
chapter.record("loss_after_one_step", after)
chapter.check(after < float(loss), "one gradient-descent step lowers the loss")

chapter.finish()
