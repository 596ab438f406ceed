# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
# ---

# %% [markdown]
# # Batch normalisation
#
# *The four batch-norm formulas step by step, train against eval mode, training with and without BatchNorm.*
#
# In a deep network every layer receives the outputs of the layer before, and their scale
# drifts as training changes the earlier weights. If the inputs of a tanh or sigmoid grow large
# the unit saturates; if they shrink layer after layer the signal and its gradient fade away.
# **Batch normalisation** standardises the inputs of a layer over the current mini-batch,
# feature by feature. For the $m$ values $x_1, \dots, x_m$ of one feature in a batch:
#
# $$\mu_B = \frac{1}{m} \sum_{i=1}^{m} x_i, \qquad
# \sigma_B^2 = \frac{1}{m} \sum_{i=1}^{m} (x_i - \mu_B)^2,$$
#
# $$\hat x_i = \frac{x_i - \mu_B}{\sqrt{\sigma_B^2 + \epsilon}}, \qquad
# y_i = \gamma \hat x_i + \beta.$$
#
# $\hat x$ has mean 0 and variance (almost) 1 in every batch; $\epsilon$ (here $10^{-5}$) keeps
# the division safe when a feature is constant. The learnable scale $\gamma$ and shift $\beta$
# (one per feature, starting at 1 and 0) give the network back the freedom to choose any mean
# and spread, including undoing the normalisation.
#
# We compute the four formulas step by step and compare them with minidl, follow the running
# statistics used at test time, check the gradient, and train a deep network with and without it.

# %%

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

import minidl
from minidl import nn
from minidl.course.chapter import Chapter
from minidl.data import DataLoader
from minidl.course.demos.digits_mlp import digits_split
from minidl.nn import functional as F
from minidl.testing import gradcheck
from minidl.training import fit

chapter = Chapter(3, "Batch normalisation")
minidl.manual_seed(0)
rng = np.random.default_rng(0)

# %% [markdown]
# ## The four formulas, step by step
#
# A batch of $m = 8$ examples with 3 features on very different scales (means 5, −2, 0 and
# standard deviations 3, 0.5, 10). Each formula is one tensor operation over dimension 0,
# the batch dimension.

# %%
m = 8
x = minidl.tensor(rng.normal([5.0, -2.0, 0.0], [3.0, 0.5, 10.0], size=(m, 3)), dtype=minidl.float64)
gamma = minidl.tensor([1.5, 0.5, 2.0], dtype=minidl.float64)
beta = minidl.tensor([0.0, 1.0, -1.0], dtype=minidl.float64)
eps = 1e-5

mu = x.sum(dim=0) / m                                # μ_B
var = ((x - mu) ** 2).sum(dim=0) / m                 # σ²_B (divide by m: the biased variance)
x_hat = (x - mu) / (var + eps).sqrt()                # x̂
y = gamma * x_hat + beta                             # y = γ x̂ + β
print("μ_B  =", np.round(mu.numpy(), 4))
print("σ²_B =", np.round(var.numpy(), 4))
print("mean of x̂ per feature:", np.round(x_hat.numpy().mean(0), 12))
print("variance of x̂ per feature:", np.round(x_hat.numpy().var(0), 6))
chapter.check(np.allclose(x_hat.numpy().mean(0), 0, atol=1e-12) and np.allclose(x_hat.numpy().var(0), 1, atol=1e-3),
              "x̂ has mean 0 and variance 1 (up to ε) in every feature")

# %% [markdown]
# minidl offers the same computation as a function, `F.batch_norm(x, running_mean,
# running_var, weight=γ, bias=β, training=True)`, and as a layer, `nn.BatchNorm1d`, whose
# `weight` and `bias` are $\gamma$ and $\beta$. In training mode both use the batch statistics.

# %%
functional = F.batch_norm(x, None, None, gamma, beta, training=True, eps=eps)
layer = nn.BatchNorm1d(3, eps=eps, dtype=minidl.float64)
with minidl.no_grad():
    layer.weight.copy_(gamma)
    layer.bias.copy_(beta)
layer.train()
by_layer = layer(x)
for name, result in (("F.batch_norm", functional), ("nn.BatchNorm1d", by_layer)):
    difference = float(np.abs(result.detach().numpy() - y.numpy()).max())
    chapter.check(difference < 1e-6, f"{name} in train mode equals the four formulas (|diff| {difference:.1e})")

# %% [markdown]
# ## Running statistics
#
# At test time there may be a single example, or a batch that should not influence its own
# predictions, so the layer needs fixed statistics. During training it keeps exponential moving
# averages of the batch statistics, with `momentum` $\alpha = 0.1$ (the weight of the newest batch,
# the convention of PyTorch):
#
# $$\hat\mu \leftarrow (1-\alpha)\,\hat\mu + \alpha\,\mu_B, \qquad
# \hat\sigma^2 \leftarrow (1-\alpha)\,\hat\sigma^2 + \alpha\,\frac{m}{m-1}\,\sigma_B^2.$$
#
# They start at $\hat\mu = 0$, $\hat\sigma^2 = 1$. The factor $m/(m-1)$ turns the biased batch
# variance into the unbiased estimate of the population variance: measured around the batch's
# own mean, the squared deviations are on average too small by exactly $(m-1)/m$.
# We feed three batches to a fresh layer and repeat the update by hand.

# %%
layer = nn.BatchNorm1d(3, eps=eps, dtype=minidl.float64)
alpha = layer.momentum
batches = [rng.normal([5.0, -2.0, 0.0], [3.0, 0.5, 10.0], size=(m, 3)) for _ in range(3)]
running_mean, running_var = np.zeros(3), np.ones(3)
for batch in batches:
    layer(minidl.tensor(batch, dtype=minidl.float64))
    running_mean = (1 - alpha) * running_mean + alpha * batch.mean(0)
    running_var = (1 - alpha) * running_var + alpha * batch.var(0) * m / (m - 1)
print("running_mean: layer", np.round(layer.running_mean.numpy(), 6), " by hand", np.round(running_mean, 6))
print("running_var:  layer", np.round(layer.running_var.numpy(), 6), " by hand", np.round(running_var, 6))
biased = (1 - alpha) ** 3 + sum(alpha * (1 - alpha) ** (2 - k) * b.var(0) for k, b in enumerate(batches))
chapter.check(np.allclose(layer.running_mean.numpy(), running_mean, atol=1e-12),
              "running_mean follows (1-α)·running + α·μ_B over 3 batches")
chapter.check(np.allclose(layer.running_var.numpy(), running_var, atol=1e-12)
              and not np.allclose(layer.running_var.numpy(), biased, atol=1e-6),
              "running_var uses the unbiased batch variance m/(m-1)·σ²_B, not σ²_B")
chapter.check(int(layer.num_batches_tracked.item()) == 3, "num_batches_tracked counts the 3 batches")

# %% [markdown]
# PyTorch's `torch.nn.BatchNorm1d`, when installed, gives the same numbers (minidl keeps its names
# and conventions).

# %%
try:
    import torch
except ImportError:
    torch = None
if torch is not None:
    reference = torch.nn.BatchNorm1d(3, eps=eps).double()
    for batch in batches:
        reference(torch.from_numpy(batch))
    same = (np.allclose(reference.running_mean.numpy(), layer.running_mean.numpy(), atol=1e-12)
            and np.allclose(reference.running_var.numpy(), layer.running_var.numpy(), atol=1e-12))
    chapter.check(same, "PyTorch's BatchNorm1d has the same running statistics after the same batches")
chapter.record("compared_with_pytorch", torch is not None)

# %% [markdown]
# With many batches from the same distribution the averages settle on the population values
# (here mean 5 and variance 9 for the first feature). The first few batches matter less and less:
# after $t$ batches the starting values still weigh $(1-\alpha)^t$.

# %%
layer = nn.BatchNorm1d(3, eps=eps, dtype=minidl.float64)
trace = []
for _ in range(60):
    batch = rng.normal([5.0, -2.0, 0.0], [3.0, 0.5, 10.0], size=(32, 3))
    layer(minidl.tensor(batch, dtype=minidl.float64))
    trace.append((batch[:, 0].mean(), batch[:, 0].var(ddof=1), layer.running_mean.numpy()[0],
                  layer.running_var.numpy()[0]))
trace = np.array(trace)
chapter.record("running_mean_after_60", float(trace[-1, 2]))
chapter.record("running_var_after_60", float(trace[-1, 3]))
chapter.check(abs(trace[-1, 2] - 5) < 0.5 and abs(trace[-1, 3] - 9) < 2.5,
              "after 60 batches the running stats are near the population mean 5 and variance 9")

figure = Figure(figsize=(10, 3.4))
for column, (batch_index, running_index, true, name) in enumerate(((0, 2, 5, "mean"), (1, 3, 9, "variance"))):
    axes = figure.add_subplot(1, 2, column + 1)
    steps = np.arange(1, len(trace) + 1)
    axes.plot(steps, trace[:, batch_index], ".", color="grey", label=f"batch {name} (unbiased)" if name == "variance"
              else f"batch {name}")
    axes.plot(steps, trace[:, running_index], label=f"running {name}, α = 0.1")
    axes.axhline(true, color="black", linestyle=":", label=f"population {name} = {true}")
    axes.set(xlabel="batch", title=f"Running {name} of feature 1")
    axes.legend(fontsize=8)
figure.tight_layout()
figure.savefig(chapter.figure("running_statistics.png"), dpi=110)

# %% [markdown]
# ## Training mode versus evaluation mode
#
# `layer.eval()` switches to the running statistics:
#
# $$y_i = \gamma\, \frac{x_i - \hat\mu}{\sqrt{\hat\sigma^2 + \epsilon}} + \beta.$$
#
# So the same batch gives different outputs in the two modes, as long as the running statistics
# differ from the batch's own (after only three small batches they certainly do). In evaluation mode
# the layer is a fixed affine map per feature: an example's output no longer depends on the other
# examples of its batch, a single example can be processed, and the running statistics stay frozen.
# In training mode one example's output changes when its neighbours change, and a batch of one
# has no variance at all.

# %%
layer = nn.BatchNorm1d(3, eps=eps, dtype=minidl.float64)
for batch in batches:
    layer(minidl.tensor(batch, dtype=minidl.float64))
frozen = layer.running_mean.numpy().copy(), layer.running_var.numpy().copy()

layer.eval()
with minidl.no_grad():
    eval_out = layer(x).numpy()
    alone = layer(x[:1]).numpy()
by_formula = (x.numpy() - frozen[0]) / np.sqrt(frozen[1] + eps)   # γ = 1, β = 0
layer.train()
with minidl.no_grad():
    train_out = layer(x).numpy()
    train_changed = layer(minidl.tensor(np.concatenate([x.numpy()[:1], 3 * x.numpy()[1:]]),
                                        dtype=minidl.float64)).numpy()
gap = float(np.abs(train_out - eval_out).max())
print("first example, train mode:", np.round(train_out[0], 4))
print("first example, eval mode: ", np.round(eval_out[0], 4))
print("first example, train mode, other examples tripled:", np.round(train_changed[0], 4))
chapter.record("train_eval_max_difference", gap)
chapter.check(np.allclose(eval_out, by_formula, atol=1e-12), "eval mode normalises with the running statistics")
chapter.check(gap > 0.1, "the same batch gives different outputs in train and eval mode")
chapter.check(np.allclose(alone[0], eval_out[0], atol=1e-12),
              "in eval mode an example's output does not depend on the rest of its batch")
chapter.check(not np.allclose(train_changed[0], train_out[0], atol=1e-3),
              "in train mode an example's output changes when the rest of its batch changes")
try:
    layer(x[:1])
    single_refused = False
except ValueError as error:
    single_refused = True
    print("train mode, batch of one:", error)
chapter.check(single_refused, "train mode refuses a batch of one example (its variance is undefined)")

# %% [markdown]
# ## The gradient
#
# Because $\mu_B$ and $\sigma_B^2$ are computed from the batch, every output depends on every
# input of its feature, and the gradient has three parts: the direct path through $x_i$ and the
# paths through $\mu_B$ and $\sigma_B^2$. With $g_i = \partial L/\partial y_i$ they combine into
#
# $$\frac{\partial L}{\partial x_i} = \frac{\gamma}{m\sqrt{\sigma_B^2 + \epsilon}}
# \Big(m\, g_i - \sum_j g_j - \hat x_i \sum_j g_j \hat x_j\Big), \qquad
# \frac{\partial L}{\partial \gamma} = \sum_i g_i \hat x_i, \qquad
# \frac{\partial L}{\partial \beta} = \sum_i g_i.$$
#
# The gradient with respect to $x$ sums to 0 over the batch and is orthogonal to $\hat x$:
# shifting or scaling a whole feature changes nothing after normalisation. We compare autograd with
# this formula for a random upstream gradient, then run `gradcheck` on $x$, $\gamma$ and $\beta$.

# %%
inputs = [minidl.tensor(t.numpy(), dtype=minidl.float64, requires_grad=True) for t in (x, gamma, beta)]
upstream = rng.standard_normal((m, 3))
out = F.batch_norm(inputs[0], None, None, inputs[1], inputs[2], training=True, eps=eps)
(out * minidl.tensor(upstream)).sum().backward()
x_hat_np = x_hat.numpy()
formula_x = (gamma.numpy() / (m * np.sqrt(var.numpy() + eps))
             * (m * upstream - upstream.sum(0) - x_hat_np * (upstream * x_hat_np).sum(0)))
chapter.check(np.allclose(inputs[0].grad.numpy(), formula_x, atol=1e-10)
              and np.allclose(inputs[1].grad.numpy(), (upstream * x_hat_np).sum(0), atol=1e-10)
              and np.allclose(inputs[2].grad.numpy(), upstream.sum(0), atol=1e-10),
              "autograd's batch-norm gradients equal the formulas for ∂L/∂x, ∂L/∂γ, ∂L/∂β")
chapter.check(np.allclose(inputs[0].grad.numpy().sum(0), 0, atol=1e-10), "∂L/∂x sums to 0 over the batch")
chapter.check(gradcheck(lambda a, g, b: F.batch_norm(a, None, None, g, b, training=True, eps=eps), inputs),
              "gradcheck passes for batch norm in training mode (x, γ, β)")
chapter.check(gradcheck(lambda a, g, b: F.batch_norm(a, layer.running_mean, layer.running_var, g, b,
                                                     training=False, eps=eps), inputs),
              "gradcheck passes for batch norm in evaluation mode")

# %% [markdown]
# ## A deep network with and without batch normalisation
#
# Six linear layers (64 → 64 → 64 → 64 → 64 → 64 → 10) with tanh between them, trained on the
# 8×8 digits with SGD (learning rate 0.02, momentum 0.9, batches of 64). The second network is
# identical except for a `BatchNorm1d` before each tanh. (The bias of a linear layer followed
# by batch norm is redundant, since $\beta$ does its job; we keep it so that the two networks
# differ only by the normalisation.)
#
# First, why would it matter? minidl initialises a linear layer like PyTorch, with weights and
# biases drawn uniformly from $\pm 1/\sqrt{\text{fan-in}}$, a variance of $1/(3\,\text{fan-in})$.
# Summed over the fan-in inputs, each layer therefore divides the variance of the signal by about 3,
# while the random biases add a constant variance of $1/(3 \cdot 64) \approx 0.005$. After a few
# layers what reaches the tanh units is small (a spread near 0.1) and consists mostly of the random
# biases rather than of information about the input, and the gradients that flow back are small as
# well. We measure the spread of every tanh output and the size of every weight gradient on one
# batch, before any training.

# %%
def deep_mlp(batch_norm, width=64, hidden_layers=5):
    layers, features = [], 64
    for _ in range(hidden_layers):
        layers.append(nn.Linear(features, width))
        if batch_norm:
            layers.append(nn.BatchNorm1d(width))
        layers.append(nn.Tanh())
        features = width
    layers.append(nn.Linear(features, 10))
    return nn.Sequential(*layers)


train_set, test_set = digits_split(seed=0)
probe_inputs, probe_labels = next(iter(DataLoader(train_set, batch_size=256, shuffle=True, seed=0)))
spread = {}
for batch_norm in (False, True):
    minidl.manual_seed(0)
    network = deep_mlp(batch_norm)
    signal, stds = probe_inputs, []
    for module in network:
        signal = module(signal)
        if isinstance(module, nn.Tanh):
            stds.append(float(signal.detach().numpy().std()))
    F.cross_entropy(signal, probe_labels).backward()
    grads = [float(np.linalg.norm(module.weight.grad.numpy())) for module in network if isinstance(module, nn.Linear)]
    spread[batch_norm] = stds, grads
    print(f"{'with' if batch_norm else 'without'} batch norm: tanh output std per layer",
          np.round(stds, 4), " weight-gradient norm per layer", np.round(grads, 4))
gradient_ratio = spread[True][1][0] / spread[False][1][0]
chapter.record("first_layer_gradient_ratio_bn_vs_plain", gradient_ratio)
chapter.check(spread[False][0][-1] < 0.5 * spread[False][0][0] and min(spread[True][0]) > 0.5,
              "at initialisation the signal shrinks through the plain network, but keeps a spread > 0.5 with batch norm")
chapter.check(gradient_ratio > 10, "the first layer's weight gradient is more than 10 times larger with batch norm")

# %% [markdown]
# Now we train both networks, from three different random initialisations each, and compare the
# training loss and the test accuracy (measured in evaluation mode, i.e. with the running statistics).

# %%
epochs = 5 if chapter.quick else 30
seeds = (0, 1, 2)
histories = {False: [], True: []}
for seed in seeds:
    for batch_norm in (False, True):
        minidl.manual_seed(seed)
        network = deep_mlp(batch_norm)
        optimizer = minidl.optim.SGD(network.parameters(), lr=0.02, momentum=0.9)
        train_loader = DataLoader(train_set, batch_size=64, shuffle=True, seed=seed)
        test_loader = DataLoader(test_set, batch_size=512)
        histories[batch_norm].append(fit(network, train_loader, optimizer, epochs, test_loader=test_loader,
                                         progress=False))

loss = {bn: np.array([h["epoch_loss"] for h in histories[bn]]) for bn in (False, True)}
accuracy = {bn: np.array([h["test_accuracy"] for h in histories[bn]]) for bn in (False, True)}
for bn, label in ((False, "plain"), (True, "batchnorm")):
    chapter.record(f"{label}_loss_epoch_3", [round(float(v), 3) for v in loss[bn][:, 2]])
    chapter.record(f"{label}_test_accuracy_epoch_2", [round(float(v), 3) for v in accuracy[bn][:, 1]])
    chapter.record(f"{label}_final_test_accuracy", [round(float(v), 3) for v in accuracy[bn][:, -1]])
chapter.check(bool((loss[True][:, 2] < 0.5 * loss[False][:, 2]).all()),
              "for every seed, batch norm's training loss in epoch 3 is less than half the plain network's")
chapter.check(bool((accuracy[True][:, 1] > accuracy[False][:, 1] + 0.2).all()),
              "for every seed, batch norm's test accuracy after 2 epochs is higher by more than 0.2")
if not chapter.quick:
    chapter.check(bool((accuracy[True][:, -1] > 0.95).all()), "with batch norm every run ends above 0.95 test accuracy")

# %%
figure = Figure(figsize=(10, 7))
for index, (values, ylabel, title) in enumerate(((0, "std of tanh output", "Signal at initialisation"),
                                                 (1, "norm of weight gradient", "Gradients at initialisation"))):
    axes = figure.add_subplot(2, 2, index + 1)
    for bn, label in ((False, "plain"), (True, "with batch norm")):
        axes.plot(np.arange(1, len(spread[bn][values]) + 1), spread[bn][values], marker="o", label=label)
    axes.set(yscale="log", xlabel="hidden layer" if values == 0 else "linear layer", ylabel=ylabel, title=title,
             xticks=np.arange(1, len(spread[False][values]) + 1))
    axes.legend(fontsize=8)
epochs_axis = np.arange(1, epochs + 1)
for index, (values, ylabel, title) in enumerate(((loss, "training loss", "Training loss (mean per epoch)"),
                                                 (accuracy, "test accuracy", "Test accuracy (eval mode)"))):
    axes = figure.add_subplot(2, 2, index + 3)
    for bn, colour, label in ((False, "C0", "plain"), (True, "C1", "with batch norm")):
        for run in values[bn]:
            axes.plot(epochs_axis, run, color=colour, linewidth=0.8, alpha=0.35)
        axes.plot(epochs_axis, values[bn].mean(0), color=colour, marker="o", markersize=3,
                  label=f"{label} (mean of {len(seeds)} seeds)")
    axes.set(xlabel="epoch", ylabel=ylabel, title=title)
    if values is loss:
        axes.set_yscale("log")
    else:
        axes.set_ylim(0, 1)
    axes.xaxis.set_major_locator(MaxNLocator(integer=True))
    axes.legend(fontsize=8, loc="lower right" if values is accuracy else "lower left")
figure.tight_layout()
figure.savefig(chapter.figure("deep_mlp_batchnorm.png"), dpi=110)

# %% [markdown]
# Without normalisation the plain network sits on a plateau near $\log 10 \approx 2.30$ (guessing
# uniformly) for the first epochs, until the updates have grown the weights enough to pass a usable
# signal through all layers. With batch norm every tanh receives inputs of unit spread from the first
# step, the early layers get useful gradients, and the loss falls at once. Given enough epochs the
# plain network learns too; batch normalisation mainly removes the slow, fragile start, and lets deep
# networks train with larger learning rates and less careful initialisation.

# %%
chapter.finish()
