"""Fuzzing layer constructors and input shapes against PyTorch: for any arguments, minidl either
computes what PyTorch computes (same output shape, same values with the same weights) or, where
PyTorch refuses, refuses too, with an error that names the layer."""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

import minidl

torch = pytest.importorskip("torch", reason='fuzzing against PyTorch needs it: pip install -e ".[torch]"')

ERRORS = (TypeError, ValueError, IndexError, RuntimeError)


def outcome(library, build, shape):
    """('ok', output, module) or ('error', message)."""
    library.manual_seed(0)
    try:
        module = build(library)
        x = library.tensor(np.random.default_rng(1).standard_normal(shape).astype(np.float32))
        return "ok", module(x), module
    except ERRORS as error:
        return "error", f"{type(error).__name__}: {error}"


def compare(build, shape, layer_names):
    ours, theirs = outcome(minidl, build, shape), outcome(torch, build, shape)
    if theirs[0] == "error":
        assert ours[0] == "error", f"PyTorch refused ({theirs[1]}) but minidl computed {tuple(ours[1].shape)}"
        assert any(name in ours[1] for name in layer_names), f"the error does not name the layer: {ours[1]}"
        return
    assert ours[0] == "ok", f"minidl refused what PyTorch computes: {ours[1]}"
    assert tuple(ours[1].shape) == tuple(theirs[1].shape)
    state = {key: value.detach().numpy() for key, value in theirs[2].state_dict().items()}
    ours[2].load_state_dict(state)
    x = np.random.default_rng(1).standard_normal(shape).astype(np.float32)
    np.testing.assert_allclose(ours[2](minidl.tensor(x)).detach().numpy(),
                               theirs[2](torch.tensor(x)).detach().numpy(), rtol=1e-4, atol=1e-5)


FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
small = st.integers(-1, 5)


# batches and channels of size 0 are left to tests/test_degenerate_sizes.py: PyTorch skips its argument
# checks on empty inputs (a kernel of 0 passes there), minidl checks arguments when the layer is built
@FUZZ
@given(in_channels=st.integers(1, 3), out_channels=st.integers(1, 3), kernel=small, stride=small,
       padding=st.one_of(st.integers(-1, 3), st.sampled_from(["same", "valid"])), dilation=st.integers(1, 2),
       shape=st.tuples(st.integers(1, 2), st.integers(1, 3), st.integers(1, 6), st.integers(1, 6)))
def test_conv2d_matches_pytorch_or_refuses_like_it(in_channels, out_channels, kernel, stride, padding, dilation,
                                                   shape):
    compare(lambda lib: lib.nn.Conv2d(in_channels, out_channels, kernel, stride=stride, padding=padding,
                                      dilation=dilation), shape, ("Conv2d", "conv2d"))


@FUZZ
@given(kernel=small, stride=st.one_of(st.none(), small), padding=st.integers(0, 3),
       pool=st.sampled_from(["MaxPool2d", "AvgPool2d"]),
       shape=st.tuples(st.integers(1, 2), st.integers(1, 2), st.integers(1, 6), st.integers(1, 6)))
def test_pooling_matches_pytorch_or_refuses_like_it(kernel, stride, padding, pool, shape):
    compare(lambda lib: getattr(lib.nn, pool)(kernel, stride=stride, padding=padding), shape,
            (pool, pool.lower().replace("pool2d", "_pool2d")))


@FUZZ
@given(in_features=st.integers(-1, 4), out_features=st.integers(-1, 4),
       shape=st.lists(st.integers(1, 4), min_size=1, max_size=3).map(tuple))
def test_linear_matches_pytorch_or_refuses_like_it(in_features, out_features, shape):
    compare(lambda lib: lib.nn.Linear(in_features, out_features), shape, ("Linear", "linear"))


# sizes 0 left out: there PyTorch skips its own checks (BatchNorm1d(1) accepts a (0, 0) input) or fails
# inside (BatchNorm1d(0): "select(): index 0 out of range"); minidl gives a clear error or an empty result
@FUZZ
@given(features=st.sampled_from([-1, 1, 2, 3]), shape=st.lists(st.integers(1, 4), min_size=1, max_size=4).map(tuple),
       norm=st.sampled_from(["BatchNorm1d", "BatchNorm2d", "LayerNorm"]))
def test_normalisation_matches_pytorch_or_refuses_like_it(features, shape, norm):
    def build(lib):
        module = getattr(lib.nn, norm)(features)
        return module.eval() if norm.startswith("Batch") else module
    compare(build, shape, (norm, "batch_norm", "layer_norm"))
