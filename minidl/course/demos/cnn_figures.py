"""Pictures of what a CNN learned: first-layer filters and the feature maps of one image.

Both functions draw with matplotlib's object API (``matplotlib.figure.Figure``,
no pyplot state), save a PNG and return its path. Filters share one symmetric
colour scale (blue negative, red positive, white zero) so their weights compare
at a glance; each conv block's feature maps share one scale with its colorbar.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from minidl import nn
from minidl.core import no_grad
from minidl.core.backend import to_numpy
from minidl.core.tensor import Tensor


def first_conv(model):
    """The first ``nn.Conv2d`` of ``model`` (in module order)."""
    for module in model.modules():
        if isinstance(module, nn.Conv2d):
            return module
    raise ValueError(f"{type(model).__name__} has no Conv2d layer")


def _grid(count, columns=8):
    columns = min(count, columns)
    return math.ceil(count / columns), columns


def _save(figure, path):
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=110)
    return path


def plot_filters(model, path):
    """The first conv layer's filters as a grid of kH x kW images (averaged over input channels when
    there are several), on one symmetric colour scale; returns the PNG path."""
    from matplotlib.figure import Figure

    conv = first_conv(model)
    weights = to_numpy(conv.weight.detach().array).astype(np.float64)
    filters = weights.mean(axis=1)  # (out_channels, kH, kW)
    limit = float(np.abs(filters).max()) or 1.0
    rows, columns = _grid(len(filters))
    figure = Figure(figsize=(1.3 * columns + 1.2, 1.35 * rows + 0.8), layout="constrained")
    axes = figure.subplots(rows, columns, squeeze=False)
    for index, ax in enumerate(axes.flat):
        ax.set_axis_off()
        if index < len(filters):
            image = ax.imshow(filters[index], cmap="RdBu_r", vmin=-limit, vmax=limit)
            ax.set_title(f"filter {index}", fontsize=8)
    figure.colorbar(image, ax=axes, shrink=0.8, label="weight")
    channels = "" if weights.shape[1] == 1 else f", mean over {weights.shape[1]} input channels"
    figure.suptitle(f"first conv layer: {len(filters)} filters of {filters.shape[1]}x{filters.shape[2]}{channels}")
    return _save(figure, path)


def block_outputs(model, image):
    """[(name, activations)] for one image: the input, then the output of every conv block, i.e. of
    each MaxPool2d (or of the last ReLU when a block has no pooling) of ``model.features``."""
    features = getattr(model, "features", model)
    x = image if isinstance(image, Tensor) else Tensor(np.asarray(image, dtype=np.float32))
    x = x.reshape(1, *x.shape[-3:]) if x.ndim >= 3 else x.reshape(1, 1, *x.shape)
    outputs, block = [("input", x)], 1
    layers = list(features.children()) if isinstance(features, nn.Sequential) else [features]
    was_training = model.training
    model.eval()
    with no_grad():
        for position, layer in enumerate(layers):
            x = layer(x)
            following = layers[position + 1] if position + 1 < len(layers) else None
            if isinstance(layer, nn.MaxPool2d) or (isinstance(layer, nn.ReLU) and following is None):
                outputs.append((f"block {block}: {type(layer).__name__}", x))
                block += 1
    model.train(was_training)
    return [(name, to_numpy(a.array)[0].astype(np.float64)) for name, a in outputs]


def predict(model, image):
    """The class ``model`` predicts for one (C, H, W) image (eval mode, no graph)."""
    was_training = model.training
    model.eval()
    with no_grad():
        x = image if isinstance(image, Tensor) else Tensor(np.asarray(image, dtype=np.float32))
        label = int(model(x.reshape(1, *x.shape[-3:])).argmax(dim=-1).item())
    model.train(was_training)
    return label


def plot_feature_maps(model, image, path, max_channels=8):
    """The input image and the activations after each conv block (up to ``max_channels`` channels per
    block, one row each, a colorbar per row); returns the PNG path."""
    from matplotlib.figure import Figure

    stages = block_outputs(model, image)
    columns = max(min(len(a), max_channels) for _, a in stages)
    figure = Figure(figsize=(1.45 * columns + 1.2, 1.75 * len(stages) + 0.5), layout="constrained")
    for row, ((name, activations), panel) in enumerate(zip(stages, figure.subfigures(len(stages), 1))):
        shown = activations[:max_channels]
        low, high = float(shown.min()), float(shown.max())
        axes = panel.subplots(1, columns, squeeze=False)[0]
        for column, ax in enumerate(axes):
            ax.set_axis_off()
            if column < len(shown):
                picture = ax.imshow(shown[column], cmap="gray" if row == 0 else "viridis", vmin=low,
                                    vmax=high if high > low else low + 1)
                ax.set_title(f"channel {column}", fontsize=8)
        panel.colorbar(picture, ax=axes.tolist(), shrink=0.85)
        count = f"{activations.shape[0]} channel{'s' if activations.shape[0] > 1 else ''}"
        panel.suptitle(f"{name}: {count} of {activations.shape[1]}x{activations.shape[2]}"
                       + (f" (first {len(shown)} shown)" if len(shown) < len(activations) else ""),
                       fontsize=9, x=0.02, ha="left")
    figure.suptitle(f"feature maps of one image after each conv block (predicted class {predict(model, image)})")
    return _save(figure, path)
