# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
# ---

# %% [markdown]
# # Losses and training
#
# *MSE regression, cross-entropy classification, and SGD against Adam on the 8×8 digits.*
#
# Training a network means choosing its parameters $\theta$ so that a single number, the
# **loss**, becomes small. The loss compares the predictions $\hat y_i$ with the targets
# $y_i$ over $n$ examples. Two losses cover most of this course:
#
# * the **mean squared error** for regression (predicting numbers),
#
# $$L_{\text{MSE}} = \frac{1}{n} \sum_{i=1}^{n} (y_i - \hat y_i)^2,$$
#
# * the **cross-entropy** for classification (predicting one of $C$ classes), where
#   $y_i$ is the one-hot target and $\hat y_i$ the predicted class probabilities,
#
# $$L_{\text{CE}} = -\frac{1}{n} \sum_{i=1}^{n} \sum_{c=1}^{C} y_{ic} \log \hat y_{ic}.$$
#
# **Gradient descent** then lowers the loss step by step, moving every parameter a little
# against its gradient, with a learning rate $\eta$:
#
# $$\theta_{t+1} = \theta_t - \eta\, \nabla_\theta L(\theta_t).$$
#
# This chapter computes both losses by hand and with minidl, checks their gradients, shows
# why the cross-entropy must be computed from logits in one fused step, runs gradient descent
# on a problem small enough to understand completely, and compares two optimisers, plain SGD
# and Adam, on handwritten digits.

# %%

import numpy as np
from matplotlib.figure import Figure

import minidl
from minidl import nn
from minidl.course.chapter import Chapter
from minidl.data import DataLoader
from minidl.course.demos.digits_mlp import digits_split, make_model
from minidl.nn import functional as F
from minidl.testing import gradcheck
from minidl.training import fit

chapter = Chapter(2, "Losses and training")
minidl.manual_seed(0)
rng = np.random.default_rng(0)

# %% [markdown]
# ## The mean squared error, by hand and by minidl
#
# With tensor operations the formula is one line: subtract, square, average. minidl's
# `F.mse_loss` (and the module `nn.MSELoss`) must give the same number.

# %%
prediction = minidl.tensor(rng.standard_normal(6), dtype=minidl.float64, requires_grad=True)
target = minidl.tensor(rng.standard_normal(6), dtype=minidl.float64)

by_hand = ((target - prediction) ** 2).sum() / prediction.shape[0]
by_minidl = F.mse_loss(prediction, target)
print(f"by hand {by_hand.item():.12f}   F.mse_loss {by_minidl.item():.12f}   "
      f"nn.MSELoss {nn.MSELoss()(prediction, target).item():.12f}")
chapter.check(abs(by_hand.item() - by_minidl.item()) < 1e-12, "F.mse_loss equals (1/n) Σ (y - ŷ)² written by hand")

# %% [markdown]
# Differentiating the sum term by term gives the gradient with respect to each prediction:
#
# $$\frac{\partial L_{\text{MSE}}}{\partial \hat y_i} = \frac{2}{n}\,(\hat y_i - y_i).$$
#
# It is proportional to the error: big mistakes are pushed hard, small ones gently. We compare
# autograd's gradient with this formula, then let `gradcheck` compare it with finite differences.

# %%
by_minidl.backward()
formula = 2 * (prediction.detach().numpy() - target.numpy()) / prediction.shape[0]
print("autograd:", np.round(prediction.grad.numpy(), 6))
print("2(ŷ-y)/n:", np.round(formula, 6))
chapter.check(np.allclose(prediction.grad.numpy(), formula, atol=1e-12), "autograd's MSE gradient is 2(ŷ - y)/n")
chapter.check(gradcheck(lambda p: F.mse_loss(p, target), [prediction]), "gradcheck passes for F.mse_loss")

# %% [markdown]
# ## Gradient descent on a problem we can solve on paper
#
# Linear regression $\hat y = w x + b$ with the MSE. The gradients follow from the chain rule:
#
# $$\frac{\partial L}{\partial w} = \frac{2}{n}\sum_i (\hat y_i - y_i)\,x_i, \qquad
# \frac{\partial L}{\partial b} = \frac{2}{n}\sum_i (\hat y_i - y_i).$$
#
# The loss is a bowl (a quadratic) in $(w, b)$ with the constant curvature matrix
# (Hessian) $H = \frac{2}{n} X^\top X$, where the rows of $X$ are $(x_i, 1)$. Gradient descent
# on a quadratic converges exactly when every step shrinks the error along every eigenvector
# of $H$, which needs $|1 - \eta\lambda| < 1$ for each eigenvalue $\lambda$, that is
#
# $$\eta < \frac{2}{\lambda_{\max}}.$$
#
# Below that bound, a larger $\eta$ converges faster; above it, each step overshoots further
# than the last and the loss explodes. We run the update
# $w \leftarrow w - \eta\,\partial L/\partial w$ ourselves, with autograd supplying the gradients,
# for three learning rates.

# %%
x_line = rng.uniform(-1, 1, 64)
y_line = 3 * x_line - 1 + 0.2 * rng.standard_normal(64)
X = np.stack([x_line, np.ones_like(x_line)], axis=1)
lambda_max = float(np.linalg.eigvalsh(2 * X.T @ X / len(x_line)).max())
eta_limit = 2 / lambda_max
chapter.record("gd_learning_rate_limit", eta_limit)

inputs, targets = minidl.tensor(x_line, dtype=minidl.float64), minidl.tensor(y_line, dtype=minidl.float64)


def descend(eta, steps=60):
    """Plain gradient descent on (w, b) from (0, 0); returns the loss before every step and the path of (w, b)."""
    w = minidl.tensor(0.0, dtype=minidl.float64, requires_grad=True)
    b = minidl.tensor(0.0, dtype=minidl.float64, requires_grad=True)
    losses, path = [], [(0.0, 0.0)]
    for _ in range(steps):
        w.grad = b.grad = None
        loss = F.mse_loss(w * inputs + b, targets)
        loss.backward()
        losses.append(loss.item())
        with minidl.no_grad():
            w -= eta * w.grad
            b -= eta * b.grad
        path.append((w.item(), b.item()))
    return np.array(losses), np.array(path)


# the first gradient, by autograd and by the formulas above (at w = b = 0, ŷ = 0)
w0 = minidl.tensor(0.0, dtype=minidl.float64, requires_grad=True)
b0 = minidl.tensor(0.0, dtype=minidl.float64, requires_grad=True)
F.mse_loss(w0 * inputs + b0, targets).backward()
chapter.check(np.isclose(w0.grad.item(), 2 * np.mean((0 - y_line) * x_line))
              and np.isclose(b0.grad.item(), 2 * np.mean(0 - y_line)),
              "autograd's ∂L/∂w and ∂L/∂b equal (2/n)Σ(ŷ-y)x and (2/n)Σ(ŷ-y)")

runs = {eta: descend(eta) for eta in (0.1 * eta_limit, 0.5 * eta_limit, 1.05 * eta_limit)}
best = np.linalg.lstsq(X, y_line, rcond=None)[0]
best_loss = float(np.mean((X @ best - y_line) ** 2))
for eta, (losses, path) in runs.items():
    print(f"η = {eta:.3f}: loss {losses[0]:.3f} → {losses[-1]:.3g}, w = {path[-1, 0]:.3f}, b = {path[-1, 1]:.3f}")
print(f"least squares: w = {best[0]:.3f}, b = {best[1]:.3f}, loss {best_loss:.4f}")
slow, good, too_big = (runs[eta][0] for eta in runs)
chapter.check(abs(good[-1] - best_loss) < 1e-6, "with η = half the limit, gradient descent reaches the least-squares loss")
chapter.check(good[20] < 1.01 * best_loss and slow[20] > 5 * best_loss,
              "after 20 steps η = half the limit is within 1% of the minimum, a 5× smaller η still 5× above it")
chapter.check(too_big[-1] > too_big[0], "with η just above 2/λ_max the loss grows instead of falling")

# %%
figure = Figure(figsize=(10, 3.6))
axes = figure.add_subplot(1, 2, 1)
for (eta, (losses, _)), label in zip(runs.items(), ("0.1 × limit", "0.5 × limit", "1.05 × limit")):
    axes.plot(np.arange(len(losses)), losses, label=f"η = {eta:.2f} ({label})")
axes.axhline(best_loss, color="grey", linestyle=":", label="least-squares loss")
axes.set(yscale="log", xlabel="step", ylabel="MSE", title=f"Gradient descent, limit 2/λmax = {eta_limit:.2f}")
axes.legend(fontsize=8)
axes = figure.add_subplot(1, 2, 2)
w_grid, b_grid = np.meshgrid(np.linspace(-1, 5, 121), np.linspace(-3, 2, 101))
bowl = ((w_grid[..., None] * x_line + b_grid[..., None] - y_line) ** 2).mean(-1)
axes.contour(w_grid, b_grid, bowl, levels=np.geomspace(0.05, 30, 12), colors="lightgrey", linewidths=0.8)
for (eta, (_, path)), label in zip(runs.items(), ("0.1 × limit", "0.5 × limit", "1.05 × limit")):
    shown = path[:13] if label == "1.05 × limit" else path
    axes.plot(shown[:, 0], shown[:, 1], marker="o", markersize=2.5, linewidth=1, label=f"η = {label}")
axes.plot(*best, "k*", markersize=12, label="least squares")
axes.set(xlim=(-1, 5), ylim=(-3, 2), xlabel="w", ylabel="b", title="Paths in parameter space (contours: loss)")
axes.legend(fontsize=8, loc="upper left")
figure.tight_layout()
figure.savefig(chapter.figure("gradient_descent.png"), dpi=110)

# %% [markdown]
# ## Regression with a small network
#
# A straight line cannot follow $y = \sin x$. A network with two hidden tanh layers can: we fit
# 128 noisy samples with the MSE. In practice one uses an optimiser object instead of the
# hand-written update; `minidl.optim.Adam` (explained below) keeps the code to four lines per step.
# The noise has variance $0.1^2 = 0.01$, so a good fit reaches a training MSE near 0.01; going
# much lower would mean memorising the noise.

# %%
x_wave = np.sort(rng.uniform(-3, 3, 128)).astype(np.float32)[:, None]
y_wave = (np.sin(x_wave) + 0.1 * rng.standard_normal(x_wave.shape)).astype(np.float32)
x_tensor, y_tensor = minidl.tensor(x_wave), minidl.tensor(y_wave)

regressor = nn.Sequential(nn.Linear(1, 32), nn.Tanh(), nn.Linear(32, 32), nn.Tanh(), nn.Linear(32, 1))
optimizer = minidl.optim.Adam(regressor.parameters(), lr=0.01)
regression_losses = []
for step in range(300 if chapter.quick else 1500):
    optimizer.zero_grad()
    loss = F.mse_loss(regressor(x_tensor), y_tensor)
    loss.backward()
    optimizer.step()
    regression_losses.append(loss.item())
chapter.record("regression_mse_first", regression_losses[0])
chapter.record("regression_mse_last", regression_losses[-1])
chapter.check(regression_losses[-1] < regression_losses[0] / 10, "the MLP's MSE falls at least tenfold")
chapter.check(regression_losses[-1] < 0.03, "the MLP fits sin(x) to within a few times the noise variance (MSE < 0.03)")

# %%
figure = Figure(figsize=(10, 3.6))
axes = figure.add_subplot(1, 2, 1)
axes.plot(regression_losses)
axes.axhline(0.01, color="grey", linestyle=":", label="noise variance 0.01")
axes.set(yscale="log", xlabel="step", ylabel="MSE", title="Training loss")
axes.legend()
axes = figure.add_subplot(1, 2, 2)
grid = np.linspace(-3, 3, 200, dtype=np.float32)[:, None]
with minidl.no_grad():
    fitted = regressor(minidl.tensor(grid)).numpy()
axes.scatter(x_wave, y_wave, s=10, color="grey", label="noisy samples")
axes.plot(grid, np.sin(grid), "k:", label="sin x")
axes.plot(grid, fitted, label="MLP")
axes.set(xlabel="x", ylabel="y", title="Fit")
axes.legend()
figure.tight_layout()
figure.savefig(chapter.figure("mse_regression.png"), dpi=110)

# %% [markdown]
# ## Cross-entropy: softmax, then $-\sum y \log \hat y$
#
# A classifier outputs one real number per class, the **logits** $z_{ic}$. The softmax turns
# them into probabilities,
#
# $$\hat y_{ic} = \frac{e^{z_{ic}}}{\sum_{j} e^{z_{ij}}},$$
#
# and the cross-entropy with one-hot targets keeps only the log-probability of the true class
# $t_i$: $L = -\frac1n \sum_i \log \hat y_{i t_i}$. `F.cross_entropy` takes the logits and the
# class indices directly. Its gradient with respect to the logits is remarkably simple,
#
# $$\frac{\partial L}{\partial z_{ic}} = \frac{1}{n}\left(\hat y_{ic} - y_{ic}\right),$$
#
# "predicted probabilities minus one-hot target". We check the value and the gradient.

# %%
logits = minidl.tensor(rng.standard_normal((5, 4)), dtype=minidl.float64, requires_grad=True)
labels = minidl.tensor(np.array([0, 3, 1, 1, 2]))
one_hot = minidl.tensor(np.eye(4)[labels.numpy()])


def naive_cross_entropy(z, y):
    """softmax, log, -Σ y log ŷ averaged over rows, written with tensor ops."""
    probabilities = z.exp() / z.exp().sum(dim=1, keepdim=True)
    return -(y * probabilities.log()).sum() / z.shape[0]


by_hand = naive_cross_entropy(logits, one_hot)
by_minidl = F.cross_entropy(logits, labels)
print(f"by hand {by_hand.item():.12f}   F.cross_entropy {by_minidl.item():.12f}")
chapter.check(abs(by_hand.item() - by_minidl.item()) < 1e-12, "F.cross_entropy(logits) equals softmax + -Σ y log ŷ by hand")

by_minidl.backward()
softmax_minus_target = (np.exp(logits.detach().numpy()) / np.exp(logits.detach().numpy()).sum(1, keepdims=True)
                        - one_hot.numpy()) / 5
chapter.check(np.allclose(logits.grad.numpy(), softmax_minus_target, atol=1e-12),
              "the cross-entropy gradient is (softmax - one-hot)/n")
chapter.check(gradcheck(lambda z: F.cross_entropy(z, labels), [logits]), "gradcheck passes for F.cross_entropy")

# %% [markdown]
# ## Why the fused form is stable
#
# Written naively, the formula fails for confident networks. In float32, $e^{z}$ overflows to
# $\infty$ once $z > 88.7$, and then $\infty/\infty$ is NaN. And when the true class's logit
# is far below the others, its probability underflows to exactly 0, and $\log 0 = -\infty$.
#
# `F.cross_entropy` never forms the probabilities. It computes the log-probabilities directly
# with the **log-sum-exp** trick, subtracting the row's largest logit $m_i$ first:
#
# $$\log \hat y_{ic} = z_{ic} - m_i - \log \sum_j e^{z_{ij} - m_i}.$$
#
# Every exponent is now $\le 0$, so nothing overflows, and the sum contains $e^0 = 1$, so
# the log never sees 0. The result is the same number, computed safely.

# %%
confident = minidl.tensor([[100.0, 0.0, -100.0],    # e^100 overflows float32: inf / inf
                           [100.0, 0.0, -100.0]])   # the true class (2) gets probability 0
confident_labels = minidl.tensor(np.array([0, 2]))
with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
    naive = naive_cross_entropy(confident, minidl.tensor(np.eye(3, dtype=np.float32)[[0, 2]]))
fused = F.cross_entropy(confident, confident_labels, reduction="none")
print("naive:", naive.item(), "  fused per row:", fused.numpy() + 0.0, "  fused mean:", fused.mean().item())
chapter.record("naive_ce_large_logits", naive.item())
chapter.record("fused_ce_large_logits", fused.mean().item())
chapter.check(not np.isfinite(naive.item()), "the naive softmax-then-log gives inf/nan for logits of ±100 in float32")
chapter.check(np.allclose(fused.numpy(), [0.0, 200.0]), "F.cross_entropy stays finite and exact: losses 0 and 200")

# %% [markdown]
# How large must the logits be before the naive form breaks? We scale the logits
# $s \cdot (1, 0, -1)$ and take the third class, the least likely one, as the true class: the
# exact loss is $2s + \log(1 + e^{-s} + e^{-2s})$, a straight line for large $s$. The naive
# form already fails near $s = 52$, long before $e^{s}$ overflows: the true class's probability,
# about $e^{-2s}$, drops below the smallest positive float32 ($1.4 \cdot 10^{-45}$) and rounds to 0.

# %%
scales = np.linspace(1, 100, 199, dtype=np.float32)
base = np.array([1.0, 0.0, -1.0], dtype=np.float32)
scaled = minidl.tensor(scales[:, None] * base)
target_last = minidl.tensor(np.full(len(scales), 2))
with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
    naive_rows = -(scaled.exp() / scaled.exp().sum(dim=1, keepdim=True)).log().numpy()[:, 2]
fused_rows = F.cross_entropy(scaled, target_last, reduction="none").numpy()
first_bad = float(scales[~np.isfinite(naive_rows)].min())
chapter.record("naive_ce_breaks_at_scale", first_bad)
chapter.check(np.isfinite(fused_rows).all(), "F.cross_entropy is finite for every scale up to 100")

figure = Figure(figsize=(6, 3.6))
axes = figure.add_subplot(1, 1, 1)
axes.plot(scales, fused_rows, linewidth=3, alpha=0.5, label="F.cross_entropy (log-sum-exp)")
shown = np.where(np.isfinite(naive_rows), naive_rows, np.nan)
axes.plot(scales, shown, "--", label="naive softmax, then log")
axes.axvline(first_bad, color="red", linestyle=":", label=f"naive becomes inf/nan (s = {first_bad:.1f})")
axes.set(xlabel="logit scale s", ylabel="loss", title="Cross-entropy of logits s·(1, 0, -1), true class 3")
axes.legend(fontsize=8)
figure.tight_layout()
figure.savefig(chapter.figure("cross_entropy_stability.png"), dpi=110)

# %% [markdown]
# ## Stochastic gradient descent and Adam
#
# On a real dataset the gradient over all $n$ examples is expensive, so each step uses a random
# **mini-batch** $B$ of examples instead; its gradient is a noisy but unbiased estimate of the
# full one. That is **stochastic gradient descent** (SGD):
#
# $$\theta \leftarrow \theta - \eta\, g_t, \qquad g_t = \nabla_\theta \frac{1}{|B|}\sum_{i \in B} \ell_i(\theta).$$
#
# One learning rate for all parameters is a compromise: some directions need big steps,
# others small ones. **Adam** keeps two running averages per parameter, of the gradient
# (the direction) and of its square (the scale), corrects their bias towards 0 at the start,
# and divides one by the square root of the other:
#
# $$m_t = \beta_1 m_{t-1} + (1-\beta_1)\, g_t, \qquad v_t = \beta_2 v_{t-1} + (1-\beta_2)\, g_t^2,$$
#
# $$\theta \leftarrow \theta - \eta\, \frac{m_t / (1-\beta_1^t)}{\sqrt{v_t / (1-\beta_2^t)} + \epsilon}.$$
#
# Each parameter's step is thus about $\eta$ in size, whatever the scale of its gradient.
# We train the same MLP (64 → 128 → 128 → 10, ReLU) on the 8×8 digits from the same initial
# weights and with the same batches, once with SGD ($\eta = 0.1$) and once with Adam
# ($\eta = 10^{-3}$, the usual default).

# %%
train_set, test_set = digits_split(seed=0)
epochs = 10 if chapter.quick else 40
histories = {}
for name in ("SGD", "Adam"):
    minidl.manual_seed(0)
    model = make_model()
    optimizer = (minidl.optim.SGD(model.parameters(), lr=0.1) if name == "SGD"
                 else minidl.optim.Adam(model.parameters(), lr=1e-3))
    train_loader = DataLoader(train_set, batch_size=64, shuffle=True, seed=0)
    test_loader = DataLoader(test_set, batch_size=512)
    histories[name] = fit(model, train_loader, optimizer, epochs, test_loader=test_loader, progress=False,
                          description=name)
    chapter.record(f"{name.lower()}_test_accuracy", histories[name]["test_accuracy"][-1])

early = 3
early_loss = {name: history["epoch_loss"][early - 1] for name, history in histories.items()}
faster = min(early_loss, key=early_loss.get)
print(f"mean training loss in epoch {early}: SGD {early_loss['SGD']:.3f}, Adam {early_loss['Adam']:.3f}")
chapter.record("faster_in_first_epochs", faster)
needed = 0.5 if chapter.quick else 0.9
for name, history in histories.items():
    chapter.check(history["test_accuracy"][-1] > needed, f"{name} learns the digits (test accuracy > {needed})")
chapter.check(faster == "Adam" and early_loss["Adam"] < 0.6 * early_loss["SGD"],
              f"Adam converges faster in the first epochs (epoch-{early} loss well below SGD's)")

# %%
figure = Figure(figsize=(10, 3.6))
loss_axes = figure.add_subplot(1, 2, 1)
accuracy_axes = figure.add_subplot(1, 2, 2)
for name, history in histories.items():
    steps_per_epoch = len(history["step_loss"]) // epochs
    line, = loss_axes.plot(np.arange(1, len(history["step_loss"]) + 1) / steps_per_epoch, history["step_loss"],
                           linewidth=0.6, alpha=0.4)
    loss_axes.plot(np.arange(1, epochs + 1), history["epoch_loss"], marker="o", markersize=3,
                   color=line.get_color(), label=f"{name} (epoch mean)")
    accuracy_axes.plot(np.arange(1, epochs + 1), history["test_accuracy"], marker="o", markersize=3,
                       label=f"{name}: final {history['test_accuracy'][-1]:.3f}")
loss_axes.set(yscale="log", xlabel="epoch", ylabel="cross-entropy", title="Training loss (faint: every step)")
loss_axes.legend()
accuracy_axes.set(xlabel="epoch", ylabel="test accuracy", title="Test accuracy", ylim=(0, 1))
accuracy_axes.legend(loc="lower right")
figure.tight_layout()
figure.savefig(chapter.figure("sgd_vs_adam.png"), dpi=110)

# %% [markdown]
# Adam's loss falls much faster in the first epochs. Plain SGD with a single learning rate
# gets there too, only later; with enough epochs both reach a similar test accuracy. Adam's
# head start is why it is the usual first choice, while well-tuned SGD (often with momentum)
# remains competitive for long training runs.

# %%
chapter.finish()
