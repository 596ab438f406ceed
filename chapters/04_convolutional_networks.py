# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
# ---

# %% [markdown]
# # Convolutional networks
#
# *Convolution and pooling worked on a small image, a CNN on Fashion-MNIST, its filters and feature maps.*
#
# A dense layer connects every pixel to every unit. Images have structure a dense layer ignores:
# nearby pixels belong together, and an edge means the same thing wherever it appears.
# A **convolution** slides one small kernel over the whole image, so it looks only at a local
# neighbourhood and uses the same weights everywhere. The source text writes it as
#
# $$(f * g)(x) = \sum_{y} f(y)\, g(x - y),$$
#
# with $f$ the kernel and $g$ the image. **Pooling** then shrinks each feature map by taking the
# maximum, $p(x) = \max_{y} g(y)$, or the mean, $p(x) = \frac{1}{k^2}\sum_{y} g(y)$, over small windows.
#
# We compute both by hand on tiny arrays, compare with minidl, check the gradients, and train a CNN.

# %%
import shutil

import numpy as np
from matplotlib.figure import Figure

import minidl
from minidl.course.chapter import Chapter
from minidl.course.demos import cnn
from minidl.nn import functional as F
from minidl.ops.conv import output_size
from minidl.testing import gradcheck

chapter = Chapter(4, "Convolutional networks")
minidl.manual_seed(0)

# %% [markdown]
# ## A convolution by hand
#
# In deep learning, "convolution" is computed without flipping the kernel, i.e. as
# **cross-correlation**. For a $k \times k$ kernel $w$ and bias $b$, output pixel $(i, j)$ is
#
# $$\text{out}[i, j] = b + \sum_{p=0}^{k-1} \sum_{q=0}^{k-1} w[p, q]\; x[i + p,\ j + q].$$
#
# Our image is 6x6, dark on the left and bright on the right; the kernel responds to a
# change from left to right (a vertical edge).

# %%
image = np.zeros((6, 6))
image[:, 3:] = 1.0
kernel = np.array([[-1.0, 0.0, 1.0],
                   [-1.0, 0.0, 1.0],
                   [-1.0, 0.0, 1.0]])


def cross_correlate(x, w):
    k = w.shape[0]
    out = np.zeros((x.shape[0] - k + 1, x.shape[1] - k + 1))
    for i in range(out.shape[0]):
        for j in range(out.shape[1]):
            out[i, j] = np.sum(w * x[i:i + k, j:j + k])
    return out


by_loops = cross_correlate(image, kernel)
by_minidl = F.conv2d(minidl.tensor(image[None, None]), minidl.tensor(kernel[None, None])).numpy()[0, 0]
print(by_loops)
chapter.check(np.allclose(by_loops, by_minidl), "F.conv2d equals the loop formula on the 6x6 edge image")
chapter.check(by_loops[:, 1:3].min() == 3 and by_loops[:, [0, 3]].max() == 0,
              "the edge kernel answers 3 where its window straddles the edge and 0 on flat regions")

# %%
figure = Figure(figsize=(10, 3.2), layout="constrained")
panels = [("input 6x6", image, "gray"), ("kernel 3x3", kernel, "RdBu_r"), ("output 4x4", by_loops, "viridis")]
for axes, (title, array, colours) in zip(figure.subplots(1, 3), panels):
    picture = axes.imshow(array, cmap=colours)
    for (r, c), value in np.ndenumerate(array):
        axes.text(c, r, f"{value:g}", ha="center", va="center", fontsize=8, color="tab:orange")
    axes.set_title(title)
    axes.set_xticks([])
    axes.set_yticks([])
    figure.colorbar(picture, ax=axes, shrink=0.8)
figure.savefig(chapter.figure("edge_convolution.png"), dpi=110)

# %% [markdown]
# ## Cross-correlation versus the textbook convolution
#
# The source formula $\sum_y f(y) g(x-y)$ walks the kernel backwards: it is a cross-correlation
# with the kernel flipped in both directions. With $k \times k$ kernel and "valid" output,
# $\text{conv}[i, j] = \sum_{p,q} w[p, q]\, x[i + k - 1 - p,\ j + k - 1 - q]$.
# Since a network learns its kernels, both give the same family of layers; the flip does not
# matter for learning. We check that `conv2d` with the flipped kernel is the textbook convolution.

# %%
rng = np.random.default_rng(0)
x_random, w_random = rng.standard_normal((6, 6)), rng.standard_normal((3, 3))


def true_convolution(x, w):
    k = w.shape[0]
    out = np.zeros((x.shape[0] - k + 1, x.shape[1] - k + 1))
    for i in range(out.shape[0]):
        for j in range(out.shape[1]):
            out[i, j] = sum(w[p, q] * x[i + k - 1 - p, j + k - 1 - q] for p in range(k) for q in range(k))
    return out


flipped = w_random[::-1, ::-1].copy()
via_conv2d = F.conv2d(minidl.tensor(x_random[None, None]), minidl.tensor(flipped[None, None])).numpy()[0, 0]
chapter.check(np.allclose(true_convolution(x_random, w_random), via_conv2d),
              "conv2d with the flipped kernel equals the textbook convolution")
chapter.check(not np.allclose(true_convolution(x_random, w_random), cross_correlate(x_random, w_random)),
              "without the flip the two differ for a non-symmetric kernel")

# %% [markdown]
# ## Output size, padding and stride
#
# **Padding** $p$ adds zeros around the image, **stride** $s$ moves the window $s$ pixels at a
# time, **dilation** $d$ spreads the kernel taps $d$ pixels apart. Along one side of length $H$:
#
# $$H_{\text{out}} = \left\lfloor \frac{H + 2p - d(k-1) - 1}{s} \right\rfloor + 1.$$

# %%
for h, k, p, s, d in [(6, 3, 0, 1, 1), (6, 3, 1, 1, 1), (6, 3, 1, 2, 1), (7, 3, 0, 2, 1), (28, 5, 2, 1, 1),
                      (10, 3, 0, 1, 2)]:
    formula = (h + 2 * p - d * (k - 1) - 1) // s + 1
    shape = F.conv2d(minidl.zeros(1, 1, h, h), minidl.zeros(1, 1, k, k), padding=p, stride=s, dilation=d).shape
    print(f"H={h:2d} k={k} p={p} s={s} d={d}: formula {formula}, conv2d {shape[-1]}")
    chapter.check(shape[-1] == formula == output_size(h, k, s, 2 * p, d),
                  f"output size {formula} for H={h}, k={k}, p={p}, s={s}, d={d}")

# %%
padded = F.conv2d(minidl.tensor(image[None, None]), minidl.tensor(kernel[None, None]), padding=1).numpy()[0, 0]
strided = F.conv2d(minidl.tensor(image[None, None]), minidl.tensor(kernel[None, None]), padding=1,
                   stride=2).numpy()[0, 0]
chapter.check(np.allclose(strided, padded[::2, ::2]), "stride 2 keeps every second output of stride 1")
figure = Figure(figsize=(10, 3.4), layout="constrained")
panels = [("input with padding 1 (8x8)", np.pad(image, 1)), ("padding 1, stride 1: 6x6", padded),
          ("padding 1, stride 2: 3x3", strided)]
for axes, (title, array) in zip(figure.subplots(1, 3), panels):
    axes.imshow(array, cmap="viridis")
    for (r, c), value in np.ndenumerate(array):
        axes.text(c, r, f"{value:g}", ha="center", va="center", fontsize=7, color="white")
    axes.set_title(title, fontsize=10)
    axes.set_xticks([])
    axes.set_yticks([])
figure.savefig(chapter.figure("padding_and_stride.png"), dpi=110)

# %% [markdown]
# With padding 1 a 3x3 kernel keeps the size ("same" padding); the zeros create responses at
# the border too (the outer columns see the jump from padding to the bright half).
# Stride 2 halves the size by skipping every second window.
#
# ## Max pooling and average pooling by hand
#
# A 2x2 window with stride 2 over a 4x4 map gives a 2x2 result. Max pooling keeps the largest
# value of each window; average pooling the mean. In the backward pass the mean shares the
# gradient equally ($1/k^2$ to each of the window's pixels), while the maximum sends all of it to
# the one pixel that held the maximum: $\partial \max / \partial g(y) = [y = \arg\max]$.

# %%
grid = np.array([[1.0, 3.0, 2.0, 0.0],
                 [4.0, 2.0, 1.0, 5.0],
                 [0.0, 1.0, 7.0, 2.0],
                 [6.0, 2.0, 3.0, 1.0]])
windows = grid.reshape(2, 2, 2, 2).transpose(0, 2, 1, 3)   # (window row, window col, 2, 2)
max_by_hand, mean_by_hand = windows.max(axis=(2, 3)), windows.mean(axis=(2, 3))
pooled_input = minidl.tensor(grid[None, None], requires_grad=True)
max_pooled = F.max_pool2d(pooled_input, 2)
print("max pool:\n", max_by_hand, "\naverage pool:\n", mean_by_hand)
chapter.check(np.allclose(max_pooled.detach().numpy()[0, 0], max_by_hand), "F.max_pool2d equals the hand result")
chapter.check(np.allclose(F.avg_pool2d(minidl.tensor(grid[None, None]), 2).numpy()[0, 0], mean_by_hand),
              "F.avg_pool2d equals the hand result")

max_pooled.sum().backward()
max_gradient = pooled_input.grad.numpy()[0, 0]
print("gradient of sum(max_pool2d(x)) with respect to x:\n", max_gradient)
expected = np.zeros_like(grid)
expected[[1, 1, 2, 3], [0, 3, 2, 0]] = 1.0            # the positions of 4, 5, 7 and 6
chapter.check(np.array_equal(max_gradient, expected), "the max-pool gradient goes to the single argmax of each window")

averaged_input = minidl.tensor(grid[None, None], requires_grad=True)
F.avg_pool2d(averaged_input, 2).sum().backward()
chapter.check(np.allclose(averaged_input.grad.numpy(), 0.25), "the average-pool gradient is 1/4 everywhere")

# %%
figure = Figure(figsize=(10, 3.2), layout="constrained")
panels = [("input 4x4", grid), ("max pool 2x2", max_by_hand), ("average pool 2x2", mean_by_hand),
          ("gradient of max pool", max_gradient)]
for axes, (title, array) in zip(figure.subplots(1, 4), panels):
    axes.imshow(array, cmap="viridis")
    for (r, c), value in np.ndenumerate(array):
        axes.text(c, r, f"{value:g}", ha="center", va="center", fontsize=9, color="white")
    axes.set_title(title, fontsize=10)
    axes.set_xticks([])
    axes.set_yticks([])
figure.savefig(chapter.figure("pooling.png"), dpi=110)

# %% [markdown]
# ## im2col: convolution as one matrix product
#
# Loops over output pixels are slow in Python. **im2col** copies every receptive field (the
# $C \cdot k \cdot k$ input values one output pixel reads) into a column of a matrix. With all
# kernels as the rows of a matrix $W$ of shape $(C_{\text{out}}, C k^2)$, the whole convolution
# becomes one matrix product $W \cdot \text{cols}$, which a BLAS library computes fast. minidl's
# `conv2d` works this way (with a strided view instead of a Python loop).

# %%
batch = rng.standard_normal((2, 3, 5, 5))
weights = rng.standard_normal((4, 3, 3, 3))
columns = np.stack([batch[n, :, i:i + 3, j:j + 3].ravel()
                    for n in range(2) for i in range(3) for j in range(3)], axis=1)   # (27, 2·3·3)
product = (weights.reshape(4, -1) @ columns).reshape(4, 2, 3, 3).transpose(1, 0, 2, 3)
print("cols:", columns.shape, " W:", weights.reshape(4, -1).shape, " output:", product.shape)
chapter.check(np.allclose(product, F.conv2d(minidl.tensor(batch), minidl.tensor(weights)).numpy()),
              "the im2col matrix product equals F.conv2d")

# %% [markdown]
# ## Gradient checks
#
# Finite differences in float64 confirm the backward passes of `conv2d` (input, weight and bias,
# with padding and stride) and of both pools.

# %%
x64 = minidl.tensor(rng.standard_normal((2, 2, 6, 6)), requires_grad=True)
w64 = minidl.tensor(rng.standard_normal((3, 2, 3, 3)), requires_grad=True)
b64 = minidl.tensor(rng.standard_normal(3), requires_grad=True)
chapter.check(gradcheck(lambda x, w, b: F.conv2d(x, w, b, stride=2, padding=1), [x64, w64, b64]),
              "gradcheck passes for conv2d (padding 1, stride 2)")
chapter.check(gradcheck(lambda x: F.max_pool2d(x, 2), [x64]), "gradcheck passes for max_pool2d")
chapter.check(gradcheck(lambda x: F.avg_pool2d(x, 3, stride=2, padding=1), [x64]),
              "gradcheck passes for avg_pool2d (3x3, stride 2, padding 1)")

# %% [markdown]
# ## A CNN on real images
#
# The quick mode trains LeNet (two 5x5 convolutions with max pooling, then three dense layers)
# on the 8x8 handwritten digits. The full mode trains SmallVGG (two blocks of two 3x3
# convolutions with batch norm, each ending in max pooling) on the 28x28 Fashion-MNIST images,
# 60 000 for training and 10 000 for testing, which takes several minutes.

# %%
folder = chapter.folder / "cnn"
if chapter.quick:
    result = cnn.run(dataset="digits", epochs=15, out_dir=folder, progress=False)
    needed = 0.97
else:
    result = cnn.run(dataset="fashion", out_dir=folder, progress=False)
    needed = 0.90
dataset = "digits" if chapter.quick else "fashion"
chapter.record(f"{dataset}_test_accuracy", float(result["test_accuracy"]))
chapter.record(f"{dataset}_seconds", round(result["seconds"], 1))
chapter.record(f"{dataset}_accuracy_per_epoch", [round(a, 4) for a in result["history"]["test_accuracy"]])
chapter.check(result["test_accuracy"] >= needed, f"{dataset}: test accuracy at least {needed}")

# %% [markdown]
# The first layer's filters are small weight patterns; many look like edge or blob detectors.
# The feature maps show how one test image looks after each conv block: fewer pixels, more
# channels, each channel lighting up where its pattern occurs.

# %%
for name in ("loss", "filters", "feature_maps"):
    shutil.copy(result["figures"][name], chapter.figure(f"{dataset}_{name}.png"))

chapter.finish()
