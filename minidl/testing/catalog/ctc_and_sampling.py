"""The CTC loss, grid_sample and affine_grid in the catalogue (``minidl/ops/ctc.py``,
``minidl/ops/grid_sample.py``), with references written from each definition.

The CTC case feeds ``log_softmax(x)`` to the loss: PyTorch's gradient for log_probs assumes they are
normalised (see ``minidl/ops/ctc.py``), and through log_softmax it is the exact gradient for x, so the
gradcheck and the parity check both hold. Its reference sums the probabilities of every path of
labels over the frames that collapses (repeats merged, then blanks dropped) to the target; targets are
kept short enough to be reachable (infinite losses are tested in tests/nn/test_ctc_and_grid_sample.py).
"""

from __future__ import annotations

import itertools

import numpy as np
from hypothesis import strategies as st

from minidl.testing.catalog import references as ref
from minidl.testing.harness import Example, OpCase, functional, library, normal


def _example(draw, shapes, params):
    return Example(shapes, params, seed=draw(st.integers(0, 2**31)), noncontiguous=draw(st.booleans()))


def _frames_needed(labels):
    """The fewest frames that spell ``labels``: one each, plus a blank between equal neighbours."""
    return len(labels) + sum(a == b for a, b in zip(labels, labels[1:]))


@st.composite
def _ctc_examples(draw):
    """Scores (T, N, C) or (T, C); per sample a reachable target and lengths; padded or concatenated targets."""
    steps, classes = draw(st.integers(1, 6)), draw(st.integers(2, 4))
    batched = draw(st.booleans())
    batch = draw(st.integers(1, 2)) if batched else 1
    blank = draw(st.integers(0, classes - 1))
    labels_drawn = st.integers(0, classes - 2).map(lambda c: c + (c >= blank))  # any class but the blank
    targets, input_lengths = [], []
    for _ in range(batch):
        labels = draw(st.lists(labels_drawn, max_size=3))
        while _frames_needed(labels) > steps:
            labels.pop()
        targets.append(labels)
        input_lengths.append(draw(st.integers(max(_frames_needed(labels), 1), steps)))
    target_lengths = [len(labels) for labels in targets]
    if draw(st.booleans()):  # concatenated (for one unbatched sample: exactly its labels)
        flat = [label for labels in targets for label in labels]
    else:  # padded (N, S), or (1, S) for an unbatched sample
        width = max(target_lengths) + draw(st.integers(0, 1))
        flat = [labels + [draw(st.integers(0, classes - 1)) for _ in range(width - len(labels))] for labels in targets]
    params = {"targets": flat, "input_lengths": input_lengths, "target_lengths": target_lengths, "blank": blank,
              "reduction": draw(st.sampled_from(["mean", "sum", "none"])), "zero_infinity": draw(st.booleans())}
    return _example(draw, ((steps, batch, classes) if batched else (steps, classes),), params)


@st.composite
def _grid_sample_examples(draw):
    n, c, h, w = (draw(st.integers(1, 2)), draw(st.integers(1, 2)), draw(st.integers(1, 4)), draw(st.integers(1, 4)))
    out_h, out_w = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    params = {"mode": draw(st.sampled_from(["bilinear", "nearest"])),
              "padding_mode": draw(st.sampled_from(["zeros", "border", "reflection"])),
              "align_corners": draw(st.booleans())}
    return _example(draw, ((n, c, h, w), (n, out_h, out_w, 2)), params)


@st.composite
def _affine_grid_examples(draw):
    n, spatial = draw(st.integers(1, 2)), draw(st.sampled_from([2, 3]))
    align_corners = draw(st.booleans())
    smallest = 2 if align_corners else 1  # PyTorch warns about one-pixel sides with align_corners
    sides = tuple(draw(st.integers(smallest, 4)) for _ in range(spatial))
    params = {"size": (n, draw(st.integers(1, 3))) + sides, "align_corners": align_corners}
    return _example(draw, ((n, spatial, spatial + 1),), params)


def grid_values(rng, shape):
    """Grid coordinates a little beyond [-1, 1], so every padding mode has work to do."""
    return rng.uniform(-1.4, 1.4, shape)


# --- references ---------------------------------------------------------------------------------------

def _collapsed(path, blank):
    merged = [label for k, label in enumerate(path) if k == 0 or label != path[k - 1]]
    return [label for label in merged if label != blank]


def ctc_loss(x, targets, input_lengths, target_lengths, blank, reduction, zero_infinity):
    log_p = x - np.log(np.exp(x - x.max(-1, keepdims=True)).sum(-1, keepdims=True)) - x.max(-1, keepdims=True)
    batched = x.ndim == 3
    log_p = log_p if batched else log_p[:, None]
    flat = np.asarray(targets).reshape(-1)
    starts = np.cumsum([0] + list(target_lengths))
    losses = []
    for n, (steps, length) in enumerate(zip(input_lengths, target_lengths)):
        if np.ndim(targets) == 1:
            label = list(flat[starts[n]:starts[n] + length])
        else:
            label = list(np.reshape(targets, (len(target_lengths), -1))[n][:length])
        total = sum(np.exp(sum(log_p[t, n, c] for t, c in enumerate(path)))
                    for path in itertools.product(range(x.shape[-1]), repeat=steps) if _collapsed(path, blank) == label)
        losses.append(-np.log(total))
    losses = np.array(losses)
    if reduction == "mean":
        return np.mean(losses / np.maximum(target_lengths, 1))
    return ref.reduced_loss(losses if batched else losses[0], reduction)


def _position(g, size, padding_mode, align_corners):
    """The pixel position of normalised coordinate g, with the padding mode's folding and clamping."""
    p = (g + 1) / 2 * (size - 1) if align_corners else ((g + 1) * size - 1) / 2
    if padding_mode == "reflection":
        if align_corners:  # mirror at the centres 0 and size - 1: a period of 2(size - 1)
            period = 2 * (size - 1)
            p = 0.0 if period == 0 else min(abs(p) % period, period - abs(p) % period)
        else:  # mirror at the outer edges -½ and size - ½
            q = abs(p + 0.5) % (2 * size)
            p = min(q, 2 * size - q) - 0.5
    if padding_mode in ("border", "reflection"):
        p = min(max(p, 0.0), size - 1.0)
    return p


def grid_sample(image, grid, mode, padding_mode, align_corners):
    n, c, h, w = image.shape
    out = np.zeros((n, c) + grid.shape[1:3])

    def read(b, y, x):
        return image[b, :, y, x] if 0 <= y < h and 0 <= x < w else np.zeros(c)

    for b, i, j in itertools.product(range(n), range(grid.shape[1]), range(grid.shape[2])):
        px = _position(grid[b, i, j, 0], w, padding_mode, align_corners)
        py = _position(grid[b, i, j, 1], h, padding_mode, align_corners)
        if mode == "nearest":
            out[b, :, i, j] = read(b, int(np.rint(py)), int(np.rint(px)))
            continue
        x0, y0 = int(np.floor(px)), int(np.floor(py))
        u, v = px - x0, py - y0
        out[b, :, i, j] = ((1 - u) * (1 - v) * read(b, y0, x0) + u * (1 - v) * read(b, y0, x0 + 1)
                           + (1 - u) * v * read(b, y0 + 1, x0) + u * v * read(b, y0 + 1, x0 + 1))
    return out


def affine_grid(theta, size, align_corners):
    def centres(s):
        return np.linspace(-1, 1, s) if align_corners else (2 * np.arange(s) + 1) / s - 1

    spatial = size[2:]
    out = np.zeros((size[0],) + spatial + (len(spatial),))
    for index in itertools.product(*(range(s) for s in spatial)):
        point = np.array([centres(s)[k] for s, k in zip(spatial[::-1], index[::-1])] + [1.0])  # x, y[, z], 1
        out[(slice(None),) + index] = theta @ point
    return out


def _ctc(x, targets, **params):
    lib = library(x)
    labels = lib.tensor(targets, dtype=lib.int64, device=x.device)
    return functional(x).ctc_loss(x.log_softmax(-1), labels, **params)


CASES = [
    OpCase("ctc_loss", _ctc, ctc_loss, _ctc_examples(), atol=1e-8),
    OpCase("grid_sample", lambda x, g, **p: functional(x).grid_sample(x, g, **p), grid_sample,
           _grid_sample_examples(), make=(normal, grid_values)),
    OpCase("affine_grid", lambda theta, **p: functional(theta).affine_grid(theta, **p), affine_grid,
           _affine_grid_examples()),
]
