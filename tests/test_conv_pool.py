"""conv2d, max_pool2d, avg_pool2d and adaptive_avg_pool2d: NumPy references, gradchecks, PyTorch parity.

Every op is checked three ways on configurations drawn by hypothesis:

* the forward against a plain NumPy reference written here with explicit loops
  over output positions (independent of minidl's im2col and strided views), for
  contiguous and non-contiguous inputs, batched and unbatched;
* ``gradcheck`` in float64 on the CPU and on the "strict" device (an array type
  that refuses implicit host conversion, as CuPy does);
* forward, every gradient and (for max pooling) ``return_indices`` against
  PyTorch with the same inputs, weights and upstream gradient.

Then the edge cases named in conventions.md, the errors a learner should see,
and the ``nn`` modules (parameter names, shapes, initialisation, padding modes, repr).
"""

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import minidl
from minidl import nn
from minidl.core.backend import to_numpy
from minidl.core.errors import ShapeError
from minidl.testing.harness import distinct
from minidl.nn import functional as F
from minidl.kernels import conv as conv_ops
from minidl.core.tensor import Tensor
from minidl.testing import gradcheck

DEVICES = ["cpu", "strict"]
SETTINGS = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])


# --- helpers ----------------------------------------------------------------------------------------------

def ours(array, device="cpu", requires_grad=True):
    """A float64 minidl tensor holding ``array`` on ``device`` (moved with ``.to``)."""
    tensor = minidl.tensor(np.array(array, dtype=np.float64), requires_grad=requires_grad)
    return tensor if device == "cpu" else tensor.to(device)


def strided(array):
    """The same values as a non-contiguous view (every other element of a wider buffer), wrapped as is."""
    buffer = np.zeros(array.shape[:-1] + (2 * array.shape[-1],))
    buffer[..., ::2] = array
    return Tensor(buffer[..., ::2])


def host(tensor):
    """The values of a minidl tensor as a NumPy array (from any device)."""
    return to_numpy(tensor.detach().array)


def as_pair(value):
    return (value, value) if isinstance(value, int) else tuple(value)


def values(seed, shape):
    return np.random.default_rng(seed).standard_normal(shape)


def batched(function):
    """Run a reference written for (N, C, H, W) on an unbatched (C, H, W) input too."""
    def wrapper(x, *args, **kwargs):
        if x.ndim == 3:
            out = function(x[None], *args, **kwargs)
            return tuple(o[0] for o in out) if isinstance(out, tuple) else out[0]
        return function(x, *args, **kwargs)
    return wrapper


def pool_out_size(size, kernel, stride, padding, dilation, ceil_mode):
    """PyTorch's pooling output size: floor (or ceil) of (size + 2p - d(k-1) - 1)/s, plus one;
    in ceil mode a last window starting inside the right padding is dropped."""
    numerator = size + 2 * padding - dilation * (kernel - 1) - 1 + (stride - 1 if ceil_mode else 0)
    out = numerator // stride + 1  # Python's // rounds toward -inf, like PyTorch's div_rtn
    if ceil_mode and (out - 1) * stride >= size + padding:
        out -= 1
    return out


def both(torch, *arrays):
    """The same float64 arrays as minidl and as PyTorch leaf tensors that require grad."""
    return [ours(a) for a in arrays], [torch.tensor(a, requires_grad=True) for a in arrays]


def compare_with_torch(out, expected, mine, theirs, seed):
    """Forward equal, then every input gradient equal for the same random upstream gradient."""
    np.testing.assert_allclose(host(out), expected.detach().numpy(), rtol=1e-9, atol=1e-10)
    upstream = values(seed + 1, tuple(expected.shape))
    out.backward(minidl.tensor(upstream))
    expected.backward(expected.new_tensor(upstream))
    for index, (a, b) in enumerate(zip(mine, theirs)):
        np.testing.assert_allclose(host(a.grad), b.grad.numpy(), rtol=1e-9, atol=1e-10,
                                   err_msg=f"gradient of input {index}")


@pytest.fixture(scope="module")
def torch():
    return pytest.importorskip("torch", reason='parity needs PyTorch: pip install -e ".[torch]"')


# --- NumPy references (explicit loops over output positions) -----------------------------------------

def conv_pads(padding, kernel, dilation):
    """(top, bottom, left, right) from conv2d's padding argument; 'same' puts the odd zero bottom/right."""
    if padding == "valid":
        return (0, 0, 0, 0)
    if padding == "same":
        (th, tw) = (dilation[0] * (kernel[0] - 1), dilation[1] * (kernel[1] - 1))
        return (th // 2, th - th // 2, tw // 2, tw - tw // 2)
    ph, pw = as_pair(padding)
    return (ph, ph, pw, pw)


@batched
def conv2d_reference(x, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """out[n, o, i, j] = b[o] + Σ_{c in o's group, p, q} w[o, c, p, q] · padded[n, c, i·s + p·d, j·s + q·d]."""
    stride, dilation = as_pair(stride), as_pair(dilation)
    n, c, h, w = x.shape
    out_channels, per_group, kh, kw = weight.shape
    top, bottom, left, right = conv_pads(padding, (kh, kw), dilation)
    padded = np.zeros((n, c, h + top + bottom, w + left + right))
    padded[:, :, top:top + h, left:left + w] = x
    ho = (h + top + bottom - dilation[0] * (kh - 1) - 1) // stride[0] + 1
    wo = (w + left + right - dilation[1] * (kw - 1) - 1) // stride[1] + 1
    out = np.zeros((n, out_channels, ho, wo))
    outputs_per_group = out_channels // groups
    for o in range(out_channels):
        group = o // outputs_per_group
        channels = slice(group * per_group, (group + 1) * per_group)
        for i in range(ho):
            for j in range(wo):
                for p in range(kh):
                    for q in range(kw):
                        pixel = padded[:, channels, i * stride[0] + p * dilation[0], j * stride[1] + q * dilation[1]]
                        out[:, o, i, j] += pixel @ weight[o, :, p, q]
        if bias is not None:
            out[:, o] += bias[o]
    return out


def window_positions(i, size, kernel, stride, padding, dilation):
    """The in-bounds input positions of window i along one dim (padding positions left out)."""
    start = i * stride - padding
    return [start + a * dilation for a in range(kernel) if 0 <= start + a * dilation < size]


@batched
def max_pool2d_reference(x, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False):
    """(output, indices): the maximum of each window and the flat H·W index of its first maximum in
    row-major order (padding never wins); a window holding NaN has the maximum NaN at its last NaN."""
    kernel, padding, dilation = as_pair(kernel_size), as_pair(padding), as_pair(dilation)
    stride = kernel if stride is None else as_pair(stride)
    n, c, h, w = x.shape
    ho, wo = (pool_out_size(size, *args, ceil_mode) for size, *args in zip((h, w), kernel, stride, padding, dilation))
    out, indices = np.full((n, c, ho, wo), -np.inf), np.zeros((n, c, ho, wo), dtype=np.int64)
    for i in range(ho):
        rows = window_positions(i, h, kernel[0], stride[0], padding[0], dilation[0])
        for j in range(wo):
            cols = window_positions(j, w, kernel[1], stride[1], padding[1], dilation[1])
            flat = [r * w + s for r in rows for s in cols]  # row-major order inside the window
            if not flat:
                continue
            window = x.reshape(n, c, h * w)[:, :, flat]
            first = window.argmax(axis=-1)  # argmax returns the first maximum
            last_nan = len(flat) - 1 - np.isnan(window[:, :, ::-1]).argmax(axis=-1)
            first = np.where(np.isnan(window).any(axis=-1), last_nan, first)
            out[:, :, i, j] = window.max(axis=-1)
            indices[:, :, i, j] = np.asarray(flat)[first]
    return out, indices


@batched
def avg_pool2d_reference(x, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
                         divisor_override=None):
    """Window sums over divisors, PyTorch's rule: with count_include_pad the window clipped to the padded
    input counts (never the overhang beyond it), otherwise only the input elements it covers."""
    kernel, padding = as_pair(kernel_size), as_pair(padding)
    stride = kernel if stride is None else as_pair(stride)
    n, c, h, w = x.shape
    ho, wo = (pool_out_size(size, k, s, p, 1, ceil_mode) for size, k, s, p in zip((h, w), kernel, stride, padding))
    out = np.zeros((n, c, ho, wo))
    for i in range(ho):
        top = i * stride[0] - padding[0]
        bottom = min(top + kernel[0], h + padding[0])
        for j in range(wo):
            left = j * stride[1] - padding[1]
            right = min(left + kernel[1], w + padding[1])
            inside = x[:, :, max(top, 0):min(bottom, h), max(left, 0):min(right, w)]
            if divisor_override is not None:
                divisor = divisor_override
            elif count_include_pad:
                divisor = (bottom - top) * (right - left)
            else:
                divisor = inside.shape[2] * inside.shape[3]
            out[:, :, i, j] = inside.sum(axis=(2, 3)) / divisor
    return out


@batched
def adaptive_avg_pool2d_reference(x, output_size):
    """Output (i, j) averages rows floor(i·H/Ho) .. ceil((i+1)·H/Ho) - 1 and likewise for columns."""
    n, c, h, w = x.shape
    ho, wo = (output_size, output_size) if isinstance(output_size, int) else output_size
    ho, wo = h if ho is None else ho, w if wo is None else wo
    out = np.zeros((n, c, ho, wo))
    for i in range(ho):
        r0, r1 = (i * h) // ho, -(-((i + 1) * h) // ho)
        for j in range(wo):
            c0, c1 = (j * w) // wo, -(-((j + 1) * w) // wo)
            out[:, :, i, j] = x[:, :, r0:r1, c0:c1].mean(axis=(2, 3))
    return out


# --- hypothesis strategies ------------------------------------------------------------------------------

def pairs(low, high):
    return st.tuples(st.integers(low, high), st.integers(low, high))


def int_or_pair(draw, pair):
    """Pass a pair with equal entries as a plain int half of the time (both forms are accepted)."""
    return pair[0] if pair[0] == pair[1] and draw(st.booleans()) else pair


def input_shape(draw, channels, minimum):
    """(N, C, H, W) or unbatched (C, H, W), with H and W at least ``minimum`` (a pair)."""
    h, w = (draw(st.integers(max(1, m), max(1, m) + 3)) for m in minimum)
    if draw(st.booleans()):
        return (channels, h, w)
    return (draw(st.integers(1, 2)), channels, h, w)


@st.composite
def conv_examples(draw):
    """Inputs of conv2d: groups, channels, kernel, stride, padding (int, pair, 'same', 'valid'), dilation."""
    groups = draw(st.integers(1, 2))
    in_channels, out_channels = groups * draw(st.integers(1, 2)), groups * draw(st.integers(1, 2))
    kernel, dilation = draw(pairs(1, 3)), draw(pairs(1, 2))
    mode = draw(st.sampled_from(["int", "pair", "same", "valid"]))
    stride = (1, 1) if mode == "same" else draw(pairs(1, 3))
    padding = {"int": lambda: draw(st.integers(0, 2)), "pair": lambda: draw(pairs(0, 2)),
               "same": lambda: "same", "valid": lambda: "valid"}[mode]()
    top, bottom, left, right = conv_pads(padding, kernel, dilation)
    # the smallest input with one output: may be smaller than the kernel when padding makes up the rest
    minimum = (dilation[0] * (kernel[0] - 1) + 1 - top - bottom, dilation[1] * (kernel[1] - 1) + 1 - left - right)
    return {"x": input_shape(draw, in_channels, minimum), "weight": (out_channels, in_channels // groups, *kernel),
            "bias": draw(st.booleans()), "stride": int_or_pair(draw, stride), "padding": padding,
            "dilation": int_or_pair(draw, dilation), "groups": groups, "seed": draw(st.integers(0, 2 ** 16))}


@st.composite
def max_pool_examples(draw):
    """max_pool2d arguments; padding at most half the kernel (PyTorch's limit), at least one window."""
    kernel, dilation = draw(pairs(1, 3)), draw(pairs(1, 2))
    stride = draw(st.one_of(st.none(), pairs(1, 3)))
    padding = tuple(draw(st.integers(0, k // 2)) for k in kernel)
    minimum = tuple(d * (k - 1) + 1 - 2 * p for k, d, p in zip(kernel, dilation, padding))
    return {"x": input_shape(draw, draw(st.integers(1, 2)), minimum), "kernel_size": int_or_pair(draw, kernel),
            "stride": stride if stride is None else int_or_pair(draw, stride),
            "padding": int_or_pair(draw, padding), "dilation": int_or_pair(draw, dilation),
            "ceil_mode": draw(st.booleans()), "seed": draw(st.integers(0, 2 ** 16))}


@st.composite
def avg_pool_examples(draw):
    """avg_pool2d arguments, count_include_pad and divisor_override; padding at most half the kernel."""
    kernel = draw(pairs(1, 3))
    stride = draw(st.one_of(st.none(), pairs(1, 3)))
    padding = tuple(draw(st.integers(0, k // 2)) for k in kernel)
    minimum = tuple(k - 2 * p for k, p in zip(kernel, padding))
    return {"x": input_shape(draw, draw(st.integers(1, 2)), minimum), "kernel_size": int_or_pair(draw, kernel),
            "stride": stride if stride is None else int_or_pair(draw, stride),
            "padding": int_or_pair(draw, padding), "ceil_mode": draw(st.booleans()),
            "count_include_pad": draw(st.booleans()),
            "divisor_override": draw(st.one_of(st.none(), st.integers(1, 5))),
            "seed": draw(st.integers(0, 2 ** 16))}


@st.composite
def adaptive_examples(draw):
    """An input and an output size: an int, a pair, or a pair with None (keep that dim), smaller or larger."""
    x = input_shape(draw, draw(st.integers(1, 2)), (1, 1))
    sizes = st.integers(1, 6)
    output_size = draw(st.one_of(sizes, st.tuples(sizes, sizes), st.tuples(st.none(), sizes)))
    return {"x": x, "output_size": output_size, "seed": draw(st.integers(0, 2 ** 16))}


# --- conv2d ---------------------------------------------------------------------------------------------

def conv_arrays(example):
    rng = np.random.default_rng(example["seed"])
    x, weight = rng.standard_normal(example["x"]), rng.standard_normal(example["weight"])
    bias = rng.standard_normal(example["weight"][0]) if example["bias"] else None
    return x, weight, bias


def conv_options(example):
    return {k: example[k] for k in ("stride", "padding", "dilation", "groups")}


@pytest.mark.parametrize("device", DEVICES)
@SETTINGS
@given(example=conv_examples())
def test_conv2d_forward_matches_numpy(example, device):
    x, weight, bias = conv_arrays(example)
    expected = conv2d_reference(x, weight, bias, **conv_options(example))
    for dtype, tolerance in ((np.float64, 1e-10), (np.float32, 1e-4)):
        inputs = [None if a is None else ours(a, device, False).to(dtype=dtype) for a in (x, weight, bias)]
        out = F.conv2d(*inputs, **conv_options(example))
        assert out.shape == expected.shape and out.dtype == dtype and out.device == device
        np.testing.assert_allclose(host(out), expected, rtol=tolerance, atol=tolerance)
    if device == "cpu":  # a non-contiguous input view gives the same result
        inputs = [None if a is None else strided(a) for a in (x, weight, bias)]
        np.testing.assert_allclose(host(F.conv2d(*inputs, **conv_options(example))), expected, atol=1e-10)


@pytest.mark.parametrize("device", DEVICES)
@SETTINGS
@given(example=conv_examples())
def test_conv2d_gradcheck(example, device):
    arrays = [a for a in conv_arrays(example) if a is not None]
    gradcheck(lambda *t: F.conv2d(*t, **conv_options(example)), [ours(a, device) for a in arrays])


def columns_bytes_per_image(x, weight, bias, options):
    """The bytes of one image's im2col columns, read off a forward with one image per chunk."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(conv_ops, "CHUNK_BYTES", 1)
        out = F.conv2d(*[None if a is None else ours(a) for a in (x, weight, bias)], **options)
    return out._node.saved[2].nbytes  # the first kept columns, after x and the weight


# (images per chunk, images whose columns fit the keep budget); batches have 3 images
KEEPING = {"columns-rebuilt": (1, 0), "columns-kept": (1, 3), "first-chunk-kept": (1, 1),
           "kept-only-while-they-fit": (2, 1)}  # chunks of 2 and 1 images: the first does not fit, so none kept


@pytest.mark.parametrize("keeping", KEEPING)
@SETTINGS
@given(example=conv_examples())
def test_conv2d_in_chunks_matches_the_reference(example, keeping):
    """The batch split into chunks of one or two images (forward and backward), with the columns of
    all, some or none of the chunks kept for the backward and the others rebuilt there."""
    shape = example["x"] if len(example["x"]) == 4 else (1, *example["x"])
    example = {**example, "x": (3, *shape[1:])}
    x, weight, bias = conv_arrays(example)
    per_image = columns_bytes_per_image(x, weight, bias, conv_options(example))
    chunk_images, kept_images = KEEPING[keeping]
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(conv_ops, "CHUNK_BYTES", chunk_images * per_image)
        patch.setattr(conv_ops, "KEEP_COLUMNS_BYTES", kept_images * per_image)
        out = F.conv2d(*[None if a is None else ours(a, requires_grad=False) for a in (x, weight, bias)],
                       **conv_options(example))
        np.testing.assert_allclose(host(out), conv2d_reference(x, weight, bias, **conv_options(example)),
                                   atol=1e-10)
        gradcheck(lambda *t: F.conv2d(*t, **conv_options(example)),
                  [ours(a) for a in (x, weight, bias) if a is not None])


@SETTINGS
@given(example=conv_examples())
def test_conv2d_matches_pytorch(example, torch):
    mine, theirs = both(torch, *[a for a in conv_arrays(example) if a is not None])
    out = F.conv2d(*mine, **conv_options(example))
    expected = torch.nn.functional.conv2d(*theirs, **conv_options(example))
    compare_with_torch(out, expected, mine, theirs, example["seed"])


# --- max_pool2d -----------------------------------------------------------------------------------------

POOL_ARGS = ("kernel_size", "stride", "padding", "dilation", "ceil_mode")


def max_pool_call(example):
    return {k: example[k] for k in POOL_ARGS}


def max_pool_input(example):
    """Distinct values (0.05 apart): a single maximum per window, so the max is differentiable."""
    x = distinct(np.random.default_rng(example["seed"]), example["x"])
    expected, indices = max_pool2d_reference(x, **max_pool_call(example))
    assume(np.isfinite(expected).all())  # a dilated window may hold padding only; PyTorch misbehaves there
    return x, expected, indices


@pytest.mark.parametrize("device", DEVICES)
@SETTINGS
@given(example=max_pool_examples())
def test_max_pool2d_forward_matches_numpy(example, device):
    x, expected, indices = max_pool_input(example)
    out, found = F.max_pool2d(ours(x, device, False), **max_pool_call(example), return_indices=True)
    assert out.shape == expected.shape and out.device == device
    np.testing.assert_array_equal(host(out), expected)
    np.testing.assert_array_equal(host(found), indices)
    if device == "cpu":
        np.testing.assert_array_equal(host(F.max_pool2d(strided(x), **max_pool_call(example))), expected)


@pytest.mark.parametrize("device", DEVICES)
@SETTINGS
@given(example=max_pool_examples())
def test_max_pool2d_gradcheck(example, device):
    x, _, _ = max_pool_input(example)
    gradcheck(lambda t: F.max_pool2d(t, **max_pool_call(example)), [ours(x, device)])


@SETTINGS
@given(example=max_pool_examples())
def test_max_pool2d_matches_pytorch(example, torch):
    x, _, _ = max_pool_input(example)
    mine, theirs = ours(x), torch.tensor(x, requires_grad=True)
    out, indices = F.max_pool2d(mine, **max_pool_call(example), return_indices=True)
    expected, expected_indices = torch.nn.functional.max_pool2d(theirs, **max_pool_call(example),
                                                                 return_indices=True)
    np.testing.assert_array_equal(host(indices), expected_indices.numpy())
    compare_with_torch(out, expected, [mine], [theirs], example["seed"])


# --- avg_pool2d -----------------------------------------------------------------------------------------

AVG_ARGS = ("kernel_size", "stride", "padding", "ceil_mode", "count_include_pad", "divisor_override")


def avg_pool_call(example):
    return {k: example[k] for k in AVG_ARGS}


@pytest.mark.parametrize("device", DEVICES)
@SETTINGS
@given(example=avg_pool_examples())
def test_avg_pool2d_forward_matches_numpy(example, device):
    x = values(example["seed"], example["x"])
    out = F.avg_pool2d(ours(x, device, False), **avg_pool_call(example))
    expected = avg_pool2d_reference(x, **avg_pool_call(example))
    assert out.shape == expected.shape and out.device == device
    np.testing.assert_allclose(host(out), expected, rtol=1e-12, atol=1e-12)
    if device == "cpu":
        np.testing.assert_allclose(host(F.avg_pool2d(strided(x), **avg_pool_call(example))), expected, atol=1e-12)


@pytest.mark.parametrize("device", DEVICES)
@SETTINGS
@given(example=avg_pool_examples())
def test_avg_pool2d_gradcheck(example, device):
    x = values(example["seed"], example["x"])
    gradcheck(lambda t: F.avg_pool2d(t, **avg_pool_call(example)), [ours(x, device)])


@SETTINGS
@given(example=avg_pool_examples())
def test_avg_pool2d_matches_pytorch(example, torch):
    x = values(example["seed"], example["x"])
    mine, theirs = ours(x), torch.tensor(x, requires_grad=True)
    compare_with_torch(F.avg_pool2d(mine, **avg_pool_call(example)),
                       torch.nn.functional.avg_pool2d(theirs, **avg_pool_call(example)), [mine], [theirs],
                       example["seed"])


# --- adaptive_avg_pool2d --------------------------------------------------------------------------------

@pytest.mark.parametrize("device", DEVICES)
@SETTINGS
@given(example=adaptive_examples())
def test_adaptive_avg_pool2d_forward_matches_numpy(example, device):
    x = values(example["seed"], example["x"])
    out = F.adaptive_avg_pool2d(ours(x, device, False), example["output_size"])
    expected = adaptive_avg_pool2d_reference(x, example["output_size"])
    assert out.shape == expected.shape and out.device == device
    np.testing.assert_allclose(host(out), expected, rtol=1e-12, atol=1e-12)
    if device == "cpu":
        np.testing.assert_allclose(host(F.adaptive_avg_pool2d(strided(x), example["output_size"])), expected,
                                   atol=1e-12)


@pytest.mark.parametrize("device", DEVICES)
@SETTINGS
@given(example=adaptive_examples())
def test_adaptive_avg_pool2d_gradcheck(example, device):
    x = values(example["seed"], example["x"])
    gradcheck(lambda t: F.adaptive_avg_pool2d(t, example["output_size"]), [ours(x, device)])


@SETTINGS
@given(example=adaptive_examples())
def test_adaptive_avg_pool2d_matches_pytorch(example, torch):
    x = values(example["seed"], example["x"])
    mine, theirs = ours(x), torch.tensor(x, requires_grad=True)
    compare_with_torch(F.adaptive_avg_pool2d(mine, example["output_size"]),
                       torch.nn.functional.adaptive_avg_pool2d(theirs, example["output_size"]), [mine], [theirs],
                       example["seed"])


# --- edge cases -----------------------------------------------------------------------------------------

def check_conv_everywhere(x_shape, w_shape, torch, **options):
    """One conv2d configuration: NumPy reference, gradcheck on both devices, PyTorch forward and gradients."""
    x, weight, bias = values(1, x_shape), values(2, w_shape), values(3, w_shape[0])
    expected = conv2d_reference(x, weight, bias, **options)
    np.testing.assert_allclose(host(F.conv2d(ours(x), ours(weight), ours(bias), **options)), expected, atol=1e-12)
    for device in DEVICES:
        gradcheck(lambda *t: F.conv2d(*t, **options), [ours(a, device) for a in (x, weight, bias)])
    mine, theirs = both(torch, x, weight, bias)
    compare_with_torch(F.conv2d(*mine, **options), torch.nn.functional.conv2d(*theirs, **options), mine, theirs, 0)
    return expected.shape


def check_pool_everywhere(x, torch, kind, **options):
    """One pooling configuration: reference, gradcheck on both devices, PyTorch (indices too for max)."""
    ours_fn, reference = {"max": (F.max_pool2d, max_pool2d_reference),
                          "avg": (F.avg_pool2d, avg_pool2d_reference)}[kind]
    theirs_fn = getattr(torch.nn.functional, f"{kind}_pool2d")
    expected = reference(x, **options)
    expected = expected[0] if kind == "max" else expected
    np.testing.assert_allclose(host(ours_fn(ours(x, requires_grad=False), **options)), expected, atol=1e-12)
    for device in DEVICES:
        gradcheck(lambda t: ours_fn(t, **options), [ours(x, device)])
    mine, theirs = ours(x), torch.tensor(x, requires_grad=True)
    compare_with_torch(ours_fn(mine, **options), theirs_fn(theirs, **options), [mine], [theirs], 0)
    if kind == "max":
        np.testing.assert_array_equal(host(F.max_pool2d(ours(x), **options, return_indices=True)[1]),
                                      theirs_fn(theirs, **options, return_indices=True)[1].numpy())
    return expected.shape


def test_conv2d_kernel_larger_than_unpadded_input(torch):
    # a 2x3 image with a 4x4 kernel: only the padding makes room for a window
    assert check_conv_everywhere((2, 3, 2, 3), (4, 3, 4, 4), torch, padding=(1, 1)) == (2, 4, 1, 2)
    assert check_conv_everywhere((1, 2, 1, 1), (3, 2, 3, 3), torch, padding="same") == (1, 3, 1, 1)
    assert check_conv_everywhere((1, 2, 2, 2), (2, 1, 3, 3), torch, padding=2, dilation=2, groups=2) == (1, 2, 2, 2)


def test_pool_kernel_larger_than_unpadded_input(torch):
    x = distinct(np.random.default_rng(0), (2, 2, 2, 3))
    assert check_pool_everywhere(x, torch, "max", kernel_size=4, stride=1, padding=2) == (2, 2, 3, 4)
    assert check_pool_everywhere(x, torch, "avg", kernel_size=(4, 4), stride=2, padding=2,
                                 count_include_pad=False) == (2, 2, 2, 2)


@pytest.mark.parametrize("kind", ["max", "avg"])
def test_ceil_mode_drops_window_starting_in_right_padding(kind, torch):
    # size 5, kernel 2, stride 2, padding 1: ceil((5 + 2 - 2)/2) + 1 = 4 windows, but the 4th would start at
    # padded position 6 = inside the right padding, so it is dropped (PyTorch's rule): 3 windows
    x = distinct(np.random.default_rng(1), (1, 2, 5, 5))
    assert pool_out_size(5, 2, 2, 1, 1, True) == 3
    assert check_pool_everywhere(x, torch, kind, kernel_size=2, stride=2, padding=1, ceil_mode=True) == (1, 2, 3, 3)


@pytest.mark.parametrize("kind", ["max", "avg"])
def test_ceil_mode_keeps_window_overhanging_the_input(kind, torch):
    # size 5, kernel 2, stride 2, no padding: the 3rd window starts at 4 (inside the input) and overhangs it
    x = distinct(np.random.default_rng(2), (1, 1, 5, 7))
    shape = check_pool_everywhere(x, torch, kind, kernel_size=2, ceil_mode=True)
    assert shape == (1, 1, 3, 4)


@pytest.mark.parametrize("kind", ["max", "avg"])
def test_ceil_mode_window_larger_than_padded_input(kind, torch):
    # size 2, kernel 3, stride 2, no padding: floor mode has no window, ceil mode has one (PyTorch: (1, 1)),
    # which starts inside the input and overhangs its end
    x = distinct(np.random.default_rng(3), (1, 2, 2, 2))
    assert pool_out_size(2, 3, 2, 0, 1, True) == 1
    assert check_pool_everywhere(x, torch, kind, kernel_size=3, stride=2, ceil_mode=True) == (1, 2, 1, 1)


def test_stride_larger_than_kernel(torch):
    assert check_conv_everywhere((2, 2, 7, 8), (3, 2, 2, 2), torch, stride=(3, 4)) == (2, 3, 2, 2)
    x = distinct(np.random.default_rng(4), (1, 2, 7, 8))
    check_pool_everywhere(x, torch, "max", kernel_size=2, stride=3)
    check_pool_everywhere(x, torch, "avg", kernel_size=2, stride=(3, 4), padding=1)
    # the rows and columns that no window reads get no gradient
    t = ours(x)
    F.max_pool2d(t, 2, 3).sum().backward()
    assert not host(t.grad)[:, :, 2::3, :].any() and not host(t.grad)[:, :, :, 2::3].any()


@pytest.mark.parametrize("options", [
    {"kernel_size": 2}, {"kernel_size": 3, "stride": 1}, {"kernel_size": 3, "stride": 2, "padding": 1},
    {"kernel_size": 2, "stride": 1, "dilation": 2}, {"kernel_size": 3, "stride": 2, "ceil_mode": True}],
    ids=str)
def test_max_pool2d_ties_send_gradient_to_first_maximum(options, torch):
    """All-equal input: every element of a window is a maximum. What we assert: each window's whole
    gradient goes to exactly one position, the first in row-major order among the window's in-bounds
    elements (padding never wins); that is also PyTorch's CPU index. So the input gradient is the
    upstream gradient scattered to those indices, and sums to the upstream total."""
    x = np.full((2, 3, 6, 7), 0.5)
    _, first = max_pool2d_reference(x, **options)
    upstream = values(5, first.shape)
    t = ours(x)
    out, indices = F.max_pool2d(t, **options, return_indices=True)
    out.backward(minidl.tensor(upstream))
    expected = np.zeros((2, 3, 6 * 7))
    for n in range(2):
        for c in range(3):
            np.add.at(expected[n, c], first[n, c].ravel(), upstream[n, c].ravel())
    np.testing.assert_array_equal(host(indices), first)
    np.testing.assert_allclose(host(t.grad), expected.reshape(x.shape), atol=1e-12)
    assert host(t.grad).sum() == pytest.approx(upstream.sum())
    their_x = torch.tensor(x, requires_grad=True)
    their_out, their_indices = torch.nn.functional.max_pool2d(their_x, **options, return_indices=True)
    their_out.backward(torch.tensor(upstream))
    np.testing.assert_array_equal(host(indices), their_indices.numpy())
    np.testing.assert_allclose(host(t.grad), their_x.grad.numpy(), atol=1e-12)


def test_max_pool2d_partial_tie_picks_the_first():
    x = np.zeros((1, 1, 2, 2))
    x[0, 0, 0, 1] = x[0, 0, 1, 0] = 3.0  # two maxima in the one window: (0, 1) comes first in row-major order
    t = ours(x)
    out, indices = F.max_pool2d(t, 2, return_indices=True)
    out.sum().backward()
    assert host(indices).item() == 1
    np.testing.assert_array_equal(host(t.grad)[0, 0], [[0, 1], [0, 0]])


def test_unbatched_inputs(torch):
    x, weight, bias = values(6, (3, 5, 6)), values(7, (4, 3, 3, 3)), values(8, 4)
    out = F.conv2d(ours(x), ours(weight), ours(bias), padding=1, stride=(1, 2))
    assert out.shape == (4, 5, 3)
    mine, theirs = both(torch, x, weight, bias)
    compare_with_torch(F.conv2d(*mine, padding=1, stride=(1, 2)),
                       torch.nn.functional.conv2d(*theirs, padding=1, stride=(1, 2)), mine, theirs, 6)
    y = distinct(np.random.default_rng(9), (2, 5, 6))
    pooled, indices = F.max_pool2d(ours(y), 2, return_indices=True)
    their_pooled, their_indices = torch.nn.functional.max_pool2d(torch.tensor(y), 2, return_indices=True)
    assert pooled.shape == (2, 2, 3) and indices.shape == (2, 2, 3)
    np.testing.assert_array_equal(host(indices), their_indices.numpy())
    np.testing.assert_array_equal(host(pooled), their_pooled.numpy())
    assert F.avg_pool2d(ours(y), 3, 1, 1).shape == (2, 5, 6)
    assert F.adaptive_avg_pool2d(ours(y), (1, 4)).shape == (2, 1, 4)
    module_out = nn.Conv2d(3, 2, 3)(minidl.tensor(values(1, (3, 5, 5)).astype(np.float32)))
    assert module_out.shape == (2, 3, 3)


# --- errors a learner should see ------------------------------------------------------------------------

def conv_call(x_shape=(1, 4, 5, 5), w_shape=(6, 4, 3, 3), **options):
    return lambda: F.conv2d(minidl.zeros(*x_shape), minidl.zeros(*w_shape), **options)


def pool_call(function, shape, *args, **options):
    return lambda: function(minidl.zeros(*shape), *args, **options)


# id: (the call, the error class, words its message must contain)
INVALID = {
    "groups-not-dividing-in": (conv_call(groups=3), ValueError, ["groups=3", "4", "6"]),
    "groups-not-dividing-out": (conv_call((1, 3, 5, 5), (6, 3, 3, 3), groups=3), ValueError, ["groups", "6"]),
    "weight-channels": (conv_call((1, 4, 5, 5), (6, 3, 3, 3)), ShapeError, ["(6, 3, 3, 3)", "(1, 4, 5, 5)"]),
    "same-strided": (conv_call(padding="same", stride=2), ValueError, ["same", "stride"]),
    "unknown-padding": (conv_call(padding="full"), ValueError, ["padding", "'same'", "'valid'"]),
    "output-below-1": (conv_call((1, 4, 2, 2), (6, 4, 5, 5)), ShapeError, ["output size", "(2, 2)", "(5, 5)"]),
    "conv-2d-input": (conv_call((4, 5)), ShapeError, ["conv2d", "(4, 5)"]),
    "conv-5d-input": (conv_call((1, 1, 4, 5, 5)), ShapeError, ["conv2d", "(1, 1, 4, 5, 5)"]),
    "conv-negative-padding": (conv_call(padding=-1), ValueError, ["padding", "-1"]),
    "conv-zero-stride": (conv_call(stride=0), ValueError, ["stride", "0"]),
    "max-output-below-1": (pool_call(F.max_pool2d, (1, 1, 2, 2), 3), ShapeError,
                           ["max_pool2d", "output size", "(1, 1, 2, 2)"]),
    "avg-output-below-1": (pool_call(F.avg_pool2d, (1, 1, 2, 2), 3), ShapeError, ["avg_pool2d", "output size"]),
    "max-2d-input": (pool_call(F.max_pool2d, (5, 5), 2), ShapeError, ["max_pool2d", "(5, 5)"]),
    "max-5d-input": (pool_call(F.max_pool2d, (1, 1, 1, 5, 5), 2), ShapeError, ["max_pool2d", "(1, 1, 1, 5, 5)"]),
    "avg-2d-input": (pool_call(F.avg_pool2d, (5, 5), 2), ShapeError, ["avg_pool2d", "(5, 5)"]),
    "adaptive-5d-input": (pool_call(F.adaptive_avg_pool2d, (1, 1, 1, 5, 5), 2), ShapeError,
                          ["adaptive_avg_pool2d", "(1, 1, 1, 5, 5)"]),
    "adaptive-zero-size": (pool_call(F.adaptive_avg_pool2d, (1, 1, 5, 5), 0), ValueError, ["output_size", "0"]),
    "max-negative-padding": (pool_call(F.max_pool2d, (1, 1, 5, 5), 2, padding=-1), ValueError, ["padding", "-1"]),
    "max-padding-over-half": (pool_call(F.max_pool2d, (1, 1, 5, 5), 2, padding=2), ValueError,
                              ["padding", "half", "(2, 2)"]),
    "avg-padding-over-half": (pool_call(F.avg_pool2d, (1, 1, 5, 5), 3, padding=2), ValueError, ["padding", "half"]),
    # PyTorch limits padding to half of kernel_size itself, dilated or not: here 2 > 3 // 2
    "max-dilated-padding-over-half-kernel": (pool_call(F.max_pool2d, (1, 1, 9, 9), 3, padding=2, dilation=2),
                                             ValueError, ["padding", "half"]),
    "module-groups": (lambda: nn.Conv2d(4, 6, 3, groups=4), ValueError,
                      ["groups=4", "in_channels=4", "out_channels=6"]),
    "module-same-strided": (lambda: nn.Conv2d(4, 6, 3, padding="same", stride=2), ValueError, ["same", "stride"]),
    "module-padding-mode": (lambda: nn.Conv2d(4, 6, 3, padding_mode="mirror"), ValueError,
                            ["padding_mode", "mirror"]),
}


@pytest.mark.parametrize("name", INVALID)
def test_invalid_configurations_raise_clear_errors(name):
    call, error, words = INVALID[name]
    with pytest.raises(error) as info:
        call()
    for word in words:
        assert word in str(info.value), f"{word!r} missing from: {info.value}"


# --- nn modules -----------------------------------------------------------------------------------------

CONV_CONFIGS = [
    dict(in_channels=3, out_channels=8, kernel_size=3, padding=1),
    dict(in_channels=4, out_channels=6, kernel_size=(3, 5), stride=2, groups=2, bias=False),
    dict(in_channels=2, out_channels=4, kernel_size=3, padding="same", dilation=2),
    dict(in_channels=2, out_channels=4, kernel_size=2, padding="valid"),
    dict(in_channels=3, out_channels=3, kernel_size=3, padding=(1, 2), padding_mode="reflect", groups=3),
]


@pytest.mark.parametrize("config", CONV_CONFIGS, ids=str)
def test_conv2d_module_parameters_and_repr_match_pytorch(config, torch):
    mine, theirs = nn.Conv2d(**config), torch.nn.Conv2d(**config)
    assert [(name, tuple(p.shape)) for name, p in mine.named_parameters()] == \
        [(name, tuple(p.shape)) for name, p in theirs.named_parameters()]
    assert list(mine.state_dict()) == list(theirs.state_dict())
    assert repr(mine) == repr(theirs)


@pytest.mark.parametrize("name, args, kwargs", [
    ("MaxPool2d", (3, 2, 1), {"ceil_mode": True}), ("MaxPool2d", (2,), {}), ("AvgPool2d", (3, 1, 1), {}),
    ("AvgPool2d", ((2, 3),), {}), ("AdaptiveAvgPool2d", ((2, None),), {}), ("AdaptiveAvgPool2d", (1,), {})])
def test_pool_module_repr_matches_pytorch(name, args, kwargs, torch):
    assert repr(getattr(nn, name)(*args, **kwargs)) == repr(getattr(torch.nn, name)(*args, **kwargs))


@pytest.mark.parametrize("groups, kernel", [(1, 3), (2, (3, 5)), (4, 1)])
def test_conv2d_init_bounds(groups, kernel):
    """kaiming_uniform(a=√5): gain √(2/(1+5)) and bound gain·√(3/fan_in) = 1/√fan_in for the weight;
    the bias ~ U(-1/√fan_in, 1/√fan_in) too. A uniform distribution on ±b has standard deviation b/√3."""
    minidl.manual_seed(0)
    layer = nn.Conv2d(16, 256, kernel, groups=groups)
    fan_in = 16 // groups * math.prod(as_pair(kernel))
    bound = 1 / math.sqrt(fan_in)
    for name, size in (("weight", layer.weight.numel()), ("bias", 256)):
        data = host(getattr(layer, name))
        assert np.abs(data).max() <= bound, name
        assert np.abs(data).max() > 0.95 * bound, name  # the whole range is used
        assert data.std() == pytest.approx(bound / math.sqrt(3), rel=5 / math.sqrt(size) + 0.01), name


@pytest.mark.parametrize("padding_mode", ["zeros", "reflect", "replicate", "circular"])
@pytest.mark.parametrize("options", [{"padding": 1}, {"padding": (2, 1), "stride": 2}, {"padding": "same"},
                                     {"padding": 1, "dilation": 2, "groups": 2}], ids=str)
def test_conv2d_padding_modes_match_pytorch(padding_mode, options, torch):
    theirs = torch.nn.Conv2d(4, 6, 3, padding_mode=padding_mode, dtype=torch.float64, **options)
    mine = nn.Conv2d(4, 6, 3, padding_mode=padding_mode, dtype=minidl.float64, **options)
    mine.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    x = values(10, (2, 4, 5, 6))
    x_mine, x_theirs = ours(x), torch.tensor(x, requires_grad=True)
    out, expected = mine(x_mine), theirs(x_theirs)
    compare_with_torch(out, expected, [x_mine, mine.weight, mine.bias], [x_theirs, theirs.weight, theirs.bias], 10)


def test_pool_modules_match_functional_and_pytorch(torch):
    x = distinct(np.random.default_rng(11), (2, 3, 7, 6))
    pairs_of_modules = [(nn.MaxPool2d(3, 2, 1, ceil_mode=True), torch.nn.MaxPool2d(3, 2, 1, ceil_mode=True)),
                        (nn.AvgPool2d(2, 1, 1, count_include_pad=False),
                         torch.nn.AvgPool2d(2, 1, 1, count_include_pad=False)),
                        (nn.AdaptiveAvgPool2d((3, 2)), torch.nn.AdaptiveAvgPool2d((3, 2)))]
    for mine, theirs in pairs_of_modules:
        np.testing.assert_allclose(host(mine(ours(x))), theirs(torch.tensor(x)).numpy(), atol=1e-12)
    out, indices = nn.MaxPool2d(2, return_indices=True)(ours(x))
    _, their_indices = torch.nn.MaxPool2d(2, return_indices=True)(torch.tensor(x))
    np.testing.assert_array_equal(host(indices), their_indices.numpy())


@pytest.mark.parametrize("shape", [(2, 3, 8, 6), (1, 1, 2, 2), (3, 2, 4, 10)])
def test_max_pool2d_2x2_tiles_with_many_ties_match_pytorch(shape, torch):
    """2x2 windows with stride 2 that tile the input take the pairwise path; with values drawn
    from {0, 1, 2} most windows hold tied maxima, and the gradient must still go to the first."""
    x = np.random.default_rng(11).integers(0, 3, shape).astype(np.float64)
    upstream = values(12, (shape[0], shape[1], shape[2] // 2, shape[3] // 2))
    t = ours(x)
    out, indices = F.max_pool2d(t, 2, return_indices=True)
    out.backward(minidl.tensor(upstream))
    their_x = torch.tensor(x, requires_grad=True)
    their_out, their_indices = torch.nn.functional.max_pool2d(their_x, 2, return_indices=True)
    their_out.backward(torch.tensor(upstream))
    np.testing.assert_array_equal(host(out), their_out.detach().numpy())
    np.testing.assert_array_equal(host(indices), their_indices.numpy())
    np.testing.assert_array_equal(host(t.grad), their_x.grad.numpy())


NAN_POOLING = [dict(kernel_size=2), dict(kernel_size=3, stride=2, padding=1), dict(kernel_size=2, stride=1),
               dict(kernel_size=3, stride=1, dilation=2, ceil_mode=True), dict(kernel_size=2, ceil_mode=True)]


def nan_input(seed, shape):
    """Values from {-2, ..., 2} (many ties), about 15% NaN and, for odd seeds, some infinities."""
    rng = np.random.default_rng(seed)
    x = rng.integers(-2, 3, shape).astype(np.float64)
    x[rng.random(shape) < 0.15] = np.nan
    if seed % 2:
        x[rng.random(shape) < 0.2] = np.inf
    return x


@pytest.mark.parametrize("options", NAN_POOLING)
@pytest.mark.parametrize("seed", range(4))
def test_max_pool2d_nan_is_the_maximum_and_its_last_occurrence_gets_the_gradient(options, seed):
    """NaN beats every number: a window holding NaN has the maximum NaN, its index is the window's
    last NaN in row-major order, and the window's gradient goes there (on the pairwise 2x2 path,
    kernel_size=2, and on the general one). Checked against the loop reference: the gradient is
    the upstream gradient added at the reference's indices."""
    x = nan_input(seed, (2, 3, 6, 8))
    expected, indices = max_pool2d_reference(x, **options)
    assert np.isnan(expected).any()  # the example does exercise NaN windows
    t = ours(x)
    out, found = F.max_pool2d(t, **options, return_indices=True)
    upstream = values(seed, expected.shape)
    out.backward(minidl.tensor(upstream))
    np.testing.assert_array_equal(host(out), expected)
    np.testing.assert_array_equal(host(found), indices)
    grad = np.zeros((2, 3, 6 * 8))
    for n, c in np.ndindex(2, 3):
        np.add.at(grad[n, c], indices[n, c].ravel(), upstream[n, c].ravel())
    np.testing.assert_allclose(host(t.grad), grad.reshape(x.shape), atol=1e-12)


@pytest.mark.parametrize("options", NAN_POOLING)
def test_max_pool2d_with_nan_and_inf_matches_pytorch(options, torch):
    x = nan_input(7, (2, 3, 6, 8))
    t = ours(x)
    out, found = F.max_pool2d(t, **options, return_indices=True)
    upstream = values(8, out.shape)
    out.backward(minidl.tensor(upstream))
    their_x = torch.tensor(x, requires_grad=True)
    their_out, their_indices = torch.nn.functional.max_pool2d(their_x, **options, return_indices=True)
    their_out.backward(torch.tensor(upstream))
    np.testing.assert_array_equal(host(out), their_out.detach().numpy())
    np.testing.assert_array_equal(host(found), their_indices.numpy())
    np.testing.assert_allclose(host(t.grad), their_x.grad.numpy(), atol=1e-12)


def test_max_pool2d_2x2_backward_needs_only_its_winners_so_its_output_may_change_in_place():
    """The pairwise 2x2 path keeps the winner masks, not its output: changing the output in place
    (under no_grad) leaves the gradient as it was. The general path compares the input with the
    saved output in its backward, so there the same change is refused."""
    x = values(21, (2, 3, 4, 6))
    expected = ours(x)
    F.max_pool2d(expected, 2).sum().backward()
    t = ours(x)
    out = F.max_pool2d(t, 2)
    loss = out.sum()
    with minidl.no_grad():
        out.zero_()
    loss.backward()
    np.testing.assert_array_equal(host(t.grad), host(expected.grad))
    general = F.max_pool2d(ours(x), 3, stride=1)
    loss = general.sum()
    with minidl.no_grad():
        general.zero_()
    with pytest.raises(minidl.AutogradError, match="max_pool2d: .*modified by an in-place operation"):
        loss.backward()
