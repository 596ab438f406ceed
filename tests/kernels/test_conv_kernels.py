"""The convolution kernel (row-run and window column layouts, chunks of images, threads) equals the
textbook im2col + GEMM, outputs and all three gradients, over the geometry a convolution can have."""

import numpy as np
import pytest

import minidl
import minidl.nn.functional as F
from minidl.kernels import conv as kernels
from minidl.testing.harness import compare_paths
from conftest import strided

#: the kernel multiplies chunk by chunk and adds the weight gradient's parts in chunk order
TOLERANCE = {np.float64: dict(rtol=1e-10, atol=1e-11), np.float32: dict(rtol=2e-4, atol=2e-4)}
GEOMETRIES = {  # x shape, weight shape, options
    "3x3 same": ((2, 3, 8, 8), (4, 3, 3, 3), dict(padding=1)),
    "stride 2": ((2, 3, 9, 9), (4, 3, 3, 3), dict(stride=2, padding=1)),
    "asymmetric stride, dilation": ((2, 2, 9, 11), (3, 2, 3, 2), dict(stride=(2, 1), dilation=(2, 1))),
    "'same' with an even kernel": ((1, 2, 7, 6), (3, 2, 4, 2), dict(padding="same")),
    "1x1": ((3, 4, 5, 5), (2, 4, 1, 1), {}),
    "groups": ((2, 4, 6, 6), (6, 2, 3, 3), dict(groups=2, padding=1)),
    "one image, one channel": ((1, 1, 5, 5), (1, 1, 3, 3), dict(padding=(0, 2))),
    "no padding, stride 3": ((2, 2, 10, 10), (2, 2, 2, 2), dict(stride=3)),
}


def values(shape, dtype, seed, noncontiguous=False):
    array = np.random.default_rng(seed).standard_normal(shape).astype(dtype)
    return strided(array) if noncontiguous else array


def check(x_shape, w_shape, options, dtype, noncontiguous=False, bias=True):
    arrays = [values(x_shape, dtype, 0, noncontiguous), values(w_shape, dtype, 1)]
    if bias:
        arrays.append(values((w_shape[0],), dtype, 2))
    ran = compare_paths(lambda *t: F.conv2d(*t, **options), arrays, **TOLERANCE[dtype], what="conv2d")
    assert ran == {kernels.Conv2d}


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["float64", "float32"])
@pytest.mark.parametrize("geometry", GEOMETRIES)
def test_conv_kernel_equals_textbook(geometry, dtype, thread_modes):
    check(*GEOMETRIES[geometry], dtype)


@pytest.mark.parametrize("geometry", ["3x3 same", "stride 2"])
def test_conv_kernel_equals_textbook_on_strided_input_without_bias(geometry):
    check(*GEOMETRIES[geometry], np.float64, noncontiguous=True, bias=False)


# (images per chunk, images whose columns are kept); batches have 5 images
KEEPING = {"all kept": (1, 5), "some kept": (2, 2), "none kept": (2, 0), "one chunk": (5, 5)}


@pytest.mark.parametrize("keeping", KEEPING)
@pytest.mark.parametrize("geometry", ["3x3 same", "stride 2", "groups"])
def test_chunks_and_kept_columns_do_not_change_the_result(geometry, keeping, monkeypatch, thread_modes):
    x_shape, w_shape, options = GEOMETRIES[geometry]
    x = minidl.tensor(values((5,) + x_shape[1:], np.float64, 0))
    w = minidl.tensor(values(w_shape, np.float64, 1), requires_grad=True)
    with monkeypatch.context() as patch:  # one image per chunk: the first saved columns are one image's
        patch.setattr(kernels, "CHUNK_BYTES", 1)
        per_image = F.conv2d(x, w, **options).grad_fn.saved[2].nbytes
    chunk_images, kept_images = KEEPING[keeping]
    monkeypatch.setattr(kernels, "CHUNK_BYTES", chunk_images * per_image)
    monkeypatch.setattr(kernels, "KEEP_COLUMNS_BYTES", kept_images * per_image)
    node = F.conv2d(x, w, **options).grad_fn
    assert len(node.chunks) == -(-5 // chunk_images)
    assert len(node.saved) - 2 == min(len(node.chunks), kept_images // chunk_images)  # x, weight, kept columns
    check((5,) + x_shape[1:], w_shape, options, np.float64)


def test_the_textbook_op_runs_with_kernels_off():
    x, w = minidl.randn(1, 1, 4, 4, requires_grad=True), minidl.randn(1, 1, 3, 3)
    assert type(F.conv2d(x, w).grad_fn) is kernels.Conv2d
    with minidl.use_kernels(False):
        assert type(F.conv2d(x, w).grad_fn) is minidl.ops.conv.Conv2d
