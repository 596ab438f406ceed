"""Exercises of chapter 04, convolutional networks: the output size, im2col, max pooling's backward with ties."""

from __future__ import annotations

import numpy as np

import minidl
from minidl.course.exercises.grading import Exercise, compare, expect, random
from minidl.ops.im2col import im2col as minidl_im2col

TITLE = "Convolutional networks"
PREAMBLE = "import numpy as np"


def conv2d_output_size(size, kernel_size, stride=1, padding=0, dilation=1):
    """The output height (or width) of a convolution: an int.

    floor((size + 2·padding − dilation·(kernel_size − 1) − 1) / stride) + 1, for an input
    of ``size`` rows, padded with ``padding`` zeros on each side. (minidl:
    ``minidl/ops/conv.py``, ``output_size``.)
    """
    return (size + 2 * padding - dilation * (kernel_size - 1) - 1) // stride + 1


def im2col(x, kernel_size, stride=1, padding=0):
    """Every receptive field of x (N, C, H, W) as a column: an array (C·k·k, N·Ho·Wo).

    Pad x with ``padding`` zeros around each image; output position (i, j) of image n
    reads the window of rows i·stride … i·stride + k − 1 and the same columns. Row
    (c, p, q) of the result, c·k·k + p·k + q, holds the value at kernel offset (p, q) of
    channel c; column n·Ho·Wo + i·Wo + j is output position (i, j) of image n. The
    convolution is then one product, W.reshape(O, −1) @ columns.
    (minidl: ``minidl/ops/im2col.py``, ``im2col``.)
    """
    n, c, h, w = x.shape
    k = kernel_size
    padded = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    ho, wo = (h + 2 * padding - k) // stride + 1, (w + 2 * padding - k) // stride + 1
    columns = np.empty((c, k, k, n, ho, wo))
    for p in range(k):
        for q in range(k):
            window = padded[:, :, p:p + stride * (ho - 1) + 1:stride, q:q + stride * (wo - 1) + 1:stride]
            columns[:, p, q] = window.transpose(1, 0, 2, 3)
    return columns.reshape(c * k * k, n * ho * wo)


def max_pool2d_backward(x, g, kernel_size):
    """dL/dx of max pooling with windows of k×k, stride k, no padding, given g = dL/dout.

    x is (N, C, H, W) with H and W multiples of k; g is (N, C, H/k, W/k). Each window's
    gradient goes to ONE position: its maximum. When several values tie for the
    maximum, the first one in row-major order inside the window (the top row first,
    left to right) takes it all, as in PyTorch. Every other position gets 0.
    (minidl: ``minidl/ops/pool.py``, ``MaxPool2d.backward``.)
    """
    n, c, h, w = x.shape
    k = kernel_size
    windows = x.reshape(n, c, h // k, k, w // k, k).transpose(0, 1, 2, 4, 3, 5).reshape(n, c, h // k, w // k, k * k)
    first = windows.argmax(axis=-1)                                    # argmax picks the first maximum
    grad = np.zeros_like(windows)
    np.put_along_axis(grad, first[..., None], g[..., None], axis=-1)
    return grad.reshape(n, c, h // k, w // k, k, k).transpose(0, 1, 2, 4, 3, 5).reshape(n, c, h, w)


# ---------------------------------------------------------------- grading

SIZES = [(5, 3, 1, 0, 1), (5, 3, 1, 1, 1), (7, 3, 2, 1, 1), (8, 2, 2, 0, 1), (9, 3, 1, 0, 2), (10, 4, 3, 1, 1),
         (28, 5, 1, 2, 1), (6, 3, 2, 0, 1)]


def _grade_conv2d_output_size(answer):
    from minidl.ops.conv import output_size
    for case, (size, k, s, p, d) in enumerate(SIZES):
        got = answer(size, k, stride=s, padding=p, dilation=d)
        expected = output_size(size, k, s, 2 * p, d)
        expect(got == expected, f"conv2d_output_size(size={size}, kernel_size={k}, stride={s}, padding={p}, "
               f"dilation={d})", expected, got, "padding counts twice (both sides); divide by the stride with floor "
               "(//), then add 1", element=(case,))


def _grade_im2col(answer):
    hint = "rows in the order (channel, kernel row p, kernel column q), columns in the order (image, i, j)"
    for seed, (shape, k, stride, padding) in enumerate([((1, 1, 3, 3), 2, 1, 0), ((2, 3, 5, 5), 3, 1, 1),
                                                        ((2, 2, 6, 6), 3, 2, 1)]):
        x = random(seed, *shape)
        ho = (shape[2] + 2 * padding - k) // stride + 1
        expected = minidl_im2col(x, (k, k), (stride, stride), (padding,) * 4, (1, 1), (ho, ho))
        compare(answer(x.copy(), k, stride=stride, padding=padding), expected,
                f"im2col of x {shape}, k={k}, stride={stride}, padding={padding} (minidl.ops.im2col)", hint)


def _reference_pool_backward(x, g, k):
    leaf = minidl.tensor(x, requires_grad=True)
    minidl.nn.functional.max_pool2d(leaf, k).backward(minidl.tensor(g))
    return leaf.grad.numpy()


def _grade_max_pool2d_backward(answer):
    rng = np.random.default_rng(4)
    cases = [("no ties", random(0, 2, 2, 4, 4), 2),
             ("ties inside windows", rng.integers(0, 2, (2, 3, 4, 4)).astype(np.float64), 2),
             ("a window of equal values", np.ones((1, 1, 3, 3)), 3),
             ("ties in 3x3 windows", rng.integers(0, 3, (1, 2, 6, 6)).astype(np.float64), 3)]
    for label, x, k in cases:
        g = random(len(label), x.shape[0], x.shape[1], x.shape[2] // k, x.shape[3] // k, low=0.5, high=1.5)
        compare(answer(x.copy(), g.copy(), k), _reference_pool_backward(x, g, k),
                f"dL/dx for {label}, x {x.shape}, k={k} (F.max_pool2d)",
                "only the FIRST maximum of each window, in row-major order, gets the gradient; ties get nothing")


EXERCISES = [
    Exercise(conv2d_output_size, _grade_conv2d_output_size, "return an int: (size + 2*padding - ...) // stride + 1"),
    Exercise(im2col, _grade_im2col, "np.pad, then one strided slice per kernel offset (p, q)"),
    Exercise(max_pool2d_backward, _grade_max_pool2d_backward,
             "reshape x into windows of k*k values; argmax returns the first maximum"),
]
