"""``minidl demo``: train a small MLP on a 2-D spiral, with every step written out.

The network is 2 -> 64 -> 64 -> 3 with ReLU::

    h1 = relu(x W1 + b1),  h2 = relu(h1 W2 + b2),  logits = h2 W3 + b3

The loss is the cross-entropy written from log-softmax and indexing::

    loss = -(1/n) sum_i log_softmax(logits)_i[y_i]

and the update is minibatch SGD with momentum (PyTorch's form)::

    v <- mu v + grad,   p <- p - lr v

``python -m minidl demo`` runs :func:`run` with its defaults and saves a
figure of the decision regions and the loss curve into ``runs/demo/``.
"""

from __future__ import annotations

import os
import time

import numpy as np
from tqdm import tqdm

import minidl

EPOCHS = 300
OUT_DIR = os.path.join("runs", "demo")
SIZES = (2, 64, 64, 3)
POINT_COLORS = ("#1f77b4", "#ff7f0e", "#2ca02c")   # one per class: points ...
REGION_COLORS = ("#c6dbef", "#fdd0a2", "#c7e9c0")  # ... and the lighter regions they fall in


# ---------------------------------------------------------------- data

def spiral(points_per_class=200, classes=3, turns=1.5, noise=0.2, seed=0):
    """A 2-D spiral with ``classes`` arms: float32 points (N, 2) and int64 labels (N,).

    Arm k at radius r in [0, 1] has angle 2*pi*(k/classes + turns*r) plus Gaussian noise.
    """
    rng = np.random.default_rng(seed)
    radius = np.tile(np.linspace(0.0, 1.0, points_per_class), classes)
    labels = np.repeat(np.arange(classes), points_per_class)
    angle = 2 * np.pi * (labels / classes + turns * radius) + noise * rng.standard_normal(radius.shape)
    points = np.stack([radius * np.sin(angle), radius * np.cos(angle)], axis=1)
    return points.astype(np.float32), labels.astype(np.int64)


def split(points, labels, test_fraction=0.2, seed=0):
    """Shuffle and split into (train_x, train_y), (test_x, test_y)."""
    order = np.random.default_rng(seed).permutation(len(labels))
    n_test = int(round(test_fraction * len(labels)))
    test, train = order[:n_test], order[n_test:]
    return (points[train], labels[train]), (points[test], labels[test])


# ---------------------------------------------------------------- model

def init_params(sizes=SIZES):
    """He-initialised weights W (fan_in, fan_out) and zero biases, as leaf tensors that require grad."""
    params = []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
        weight = minidl.randn(fan_in, fan_out) * float(np.sqrt(2.0 / fan_in))
        params += [weight.requires_grad_(), minidl.zeros(fan_out, requires_grad=True)]
    return params


def forward(params, x):
    """The MLP's logits: ReLU after every layer but the last."""
    h = x
    for layer in range(0, len(params), 2):
        weight, bias = params[layer], params[layer + 1]
        h = h @ weight + bias
        if layer + 2 < len(params):
            h = h.relu()
    return h


def cross_entropy(logits, labels):
    """-(1/n) sum_i log_softmax(logits)_i[labels_i]."""
    logp = logits.log_softmax(dim=1)
    return -logp[minidl.arange(len(labels)), labels].mean()


def sgd_momentum_step(params, velocities, lr, momentum):
    """v <- momentum * v + grad;  p <- p - lr * v;  then clear the gradients."""
    with minidl.no_grad():
        for param, velocity in zip(params, velocities):
            velocity.mul_(momentum).add_(param.grad)
            param.sub_(velocity, alpha=lr)
            param.grad = None


def predict(params, x):
    """Class predictions (NumPy int array) for float32 points ``x`` (NumPy, (N, 2))."""
    with minidl.no_grad():
        return forward(params, minidl.tensor(x)).argmax(dim=1).numpy()


def accuracy(params, x, y):
    """Fraction of points in ``x`` whose predicted class is ``y``."""
    return float((predict(params, x) == y).mean())


# ---------------------------------------------------------------- training

def train(params, x, y, epochs, lr, momentum, batch_size, seed, progress=True):
    """Minibatch SGD with momentum; returns the mean loss of each epoch."""
    rng = np.random.default_rng(seed)
    velocities = [minidl.zeros(*param.shape) for param in params]
    losses = []
    bar = tqdm(range(epochs), desc="demo", unit="epoch", disable=not progress)
    for _ in bar:
        order = rng.permutation(len(y))
        total = 0.0
        for start in range(0, len(y), batch_size):
            batch = order[start:start + batch_size]
            loss = cross_entropy(forward(params, minidl.tensor(x[batch])), minidl.tensor(y[batch]))
            loss.backward()
            sgd_momentum_step(params, velocities, lr, momentum)
            total += loss.item() * len(batch)
        losses.append(total / len(y))
        bar.set_postfix(loss=f"{losses[-1]:.4f}")
    return losses


def run(epochs=EPOCHS, seed=0, lr=0.05, momentum=0.9, batch_size=32, out_dir=OUT_DIR, progress=True,
        verbose=True):
    """Train the demo MLP on the spiral; print and return the accuracies.

    Returns a dict with ``train_accuracy``, ``test_accuracy``, ``losses`` (one per
    epoch), ``seconds`` and ``figure`` (the PNG's path, or None when ``out_dir`` is None).
    """
    if not isinstance(epochs, int) or epochs < 1:
        raise ValueError(f"demo: epochs must be a positive integer, got {epochs!r}")
    minidl.manual_seed(seed)
    (train_x, train_y), (test_x, test_y) = split(*spiral(seed=seed), seed=seed)
    params = init_params()
    start = time.perf_counter()
    losses = train(params, train_x, train_y, epochs, lr, momentum, batch_size, seed, progress)
    result = {
        "train_accuracy": accuracy(params, train_x, train_y),
        "test_accuracy": accuracy(params, test_x, test_y),
        "losses": losses,
        "seconds": time.perf_counter() - start,
        "figure": None,
    }
    if verbose:
        print(f"train accuracy {result['train_accuracy']:.3f}, test accuracy {result['test_accuracy']:.3f} "
              f"({len(train_y)} / {len(test_y)} points, {epochs} epochs, {result['seconds']:.1f} s)")
    if out_dir is not None:
        result["figure"] = save_figure(params, train_x, train_y, losses, out_dir)
        if verbose:
            print(f"figure saved to {result['figure']}")
    return result


# ---------------------------------------------------------------- figure

def save_figure(params, x, y, losses, out_dir, name="demo.png"):
    """Save the decision regions with the training points, and the loss curve, as a PNG."""
    from matplotlib.colors import ListedColormap
    from matplotlib.figure import Figure  # no pyplot: no global backend state, renders with Agg

    os.makedirs(out_dir, exist_ok=True)
    grid = np.linspace(-1.2, 1.2, 300, dtype=np.float32)
    gx, gy = np.meshgrid(grid, grid)
    regions = predict(params, np.stack([gx.ravel(), gy.ravel()], axis=1)).reshape(gx.shape)

    figure = Figure(figsize=(10, 4.5), layout="constrained")
    left, right = figure.subplots(1, 2)
    left.contourf(gx, gy, regions, levels=np.arange(-0.5, SIZES[-1]), cmap=ListedColormap(REGION_COLORS))
    left.scatter(x[:, 0], x[:, 1], c=np.array(POINT_COLORS)[y], s=10, edgecolors="k", linewidths=0.3)
    left.set(title="decision regions (training points)", aspect="equal")
    right.plot(np.arange(1, len(losses) + 1), losses)
    right.set(title="training loss", xlabel="epoch", ylabel="cross-entropy", yscale="log")
    path = os.path.join(out_dir, name)
    figure.savefig(path, dpi=100)
    return path
