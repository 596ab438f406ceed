"""The normalisation kernels (BLAS statistics, x - μ kept per channel, threads) equal the textbook ops,
batch statistics included; batch_norm's running averages come from the node's outputs."""

import numpy as np
import pytest

import minidl
import minidl.nn.functional as F
from minidl.kernels import compiled, norm as kernels
from minidl.testing.harness import compare_paths
from conftest import strided

TOLERANCE = {np.float64: dict(rtol=1e-10, atol=1e-12), np.float32: dict(rtol=2e-4, atol=2e-5)}


def values(shape, dtype, seed=0, noncontiguous=False):
    array = (np.random.default_rng(seed).standard_normal(shape) * 2 + 1).astype(dtype)
    return strided(array) if noncontiguous else array


def batch_norm_with_statistics(x, *params):
    """The op's three outputs: y and the batch statistics (which carry no gradient)."""
    return minidl.ops.norm.Normalize.apply(x, *params, axes=(0,) + tuple(range(2, x.ndim)),
                                           param_shape=(1, x.shape[1]) + (1,) * (x.ndim - 2), eps=1e-5)


@pytest.mark.parametrize("affine", [True, False], ids=["affine", "plain"])
@pytest.mark.parametrize("noncontiguous", [False, True], ids=["contiguous", "strided"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["float64", "float32"])
@pytest.mark.parametrize("shape", [(2, 1), (6, 3), (2, 3, 1, 1), (4, 3, 5, 5), (64, 8, 16, 16)], ids=str)
def test_batch_norm_kernel_equals_textbook(shape, dtype, noncontiguous, affine, thread_modes):
    x = values(shape, dtype, noncontiguous=noncontiguous)
    params = [values((shape[1],), dtype, 1), values((shape[1],), dtype, 2)] if affine else []
    ran = compare_paths(batch_norm_with_statistics, [x, *params], **TOLERANCE[dtype], what="batch_norm")
    assert ran == {kernels.Normalize}


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["float64", "float32"])
@pytest.mark.parametrize("shape", [(3, 1), (5, 4), (2, 3, 4, 4)], ids=str)
def test_eval_mode_batch_norm_kernel_equals_textbook(shape, dtype, thread_modes):
    x, weight, bias = values(shape, dtype), values((shape[1],), dtype, 1), values((shape[1],), dtype, 2)
    mean, var = minidl.tensor(values((shape[1],), dtype, 3)), minidl.tensor(np.abs(values((shape[1],), dtype, 4)))
    ran = compare_paths(lambda *t: F.batch_norm(t[0], mean, var, t[1], t[2], training=False), [x, weight, bias],
                        **TOLERANCE[dtype], what="batch_norm (eval)")
    assert ran == {kernels.NormalizeFixed}


@pytest.mark.parametrize("affine", [True, False], ids=["affine", "plain"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["float64", "float32"])
@pytest.mark.parametrize("shape, normalized", [((1, 1), (1,)), ((4, 7), (7,)), ((3, 5, 8), (8,)),
                                               ((3, 5, 8), (5, 8)), ((32, 64, 128), (128,))], ids=str)
def test_layer_norm_kernel_equals_textbook(shape, normalized, dtype, affine, thread_modes, loop_modes):
    x = values(shape, dtype, noncontiguous=len(shape) == 3)
    params = [values(normalized, dtype, 1), values(normalized, dtype, 2)] if affine else []
    ran = compare_paths(lambda t, *p: F.layer_norm(t, normalized, *p), [x, *params], **TOLERANCE[dtype],
                        what="layer_norm")
    assert ran == {kernels.Normalize}


def test_layer_norm_runs_compiled_loops_exactly_when_they_are_on(loop_modes):
    x = minidl.tensor(values((4, 6), np.float32), requires_grad=True)
    assert F.layer_norm(x, (6,)).grad_fn.compiled_rows == (loop_modes == "compiled")
    batch = minidl.tensor(values((4, 6), np.float32), requires_grad=True)  # batch norm keeps its NumPy passes
    assert not F.batch_norm(batch, None, None, training=True).grad_fn.compiled_rows


def test_compiled_loops_refuse_to_switch_on_without_numba(monkeypatch):
    monkeypatch.setattr(compiled, "_NUMBA", False)
    with pytest.raises(ModuleNotFoundError, match=r"use_compiled: Numba is not installed; pip install"):
        compiled.use_compiled(True)


@pytest.mark.parametrize("kernels_on", [True, False], ids=["kernels", "textbook"])
@pytest.mark.parametrize("grad", [True, False], ids=["recorded", "no_grad"])
def test_running_statistics_come_from_the_batch_statistics_outputs(kernels_on, grad):
    x = values((8, 3, 2, 2), np.float64)
    running_mean, running_var = minidl.zeros(3, dtype=minidl.float64), minidl.ones(3, dtype=minidl.float64)
    with minidl.use_kernels(kernels_on), minidl.set_grad_enabled(grad):
        F.batch_norm(minidl.tensor(x, requires_grad=True), running_mean, running_var, training=True, momentum=0.5)
    batch_mean, batch_var = x.mean(axis=(0, 2, 3)), x.var(axis=(0, 2, 3), ddof=1)
    np.testing.assert_allclose(running_mean.numpy(), 0.5 * batch_mean, rtol=1e-12)
    np.testing.assert_allclose(running_var.numpy(), 0.5 + 0.5 * batch_var, rtol=1e-12)


def test_the_textbook_ops_run_with_kernels_off():
    x = minidl.tensor(values((4, 3), np.float64), requires_grad=True)
    assert type(F.layer_norm(x, (3,)).grad_fn) is kernels.Normalize
    with minidl.use_kernels(False):
        assert type(F.layer_norm(x, (3,)).grad_fn) is minidl.ops.norm.Normalize
