"""The ops of smaller and cheaper models in the catalogue: the KL divergence, the distillation loss
built on it, and fake quantization (its gradient is the straight-through estimator, not the
derivative, so its cases check the forward here and tests/compression/ checks the STE rule)."""

from __future__ import annotations

import warnings

import numpy as np
from hypothesis import strategies as st

from minidl.compression import distillation_loss
from minidl.quantization import fake_quantize_per_channel_affine, fake_quantize_per_tensor_affine
from minidl.testing.catalog import references as ref
from minidl.testing.harness import OpCase, examples, functional, library, normal, positive, single

KL_REDUCTIONS = ["mean", "batchmean", "sum", "none"]


def _kl_div(x, t, reduction, log_target=False):
    """kl_div in either framework, without 'mean''s warning (both frameworks give it on every call)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return functional(x).kl_div(x, t, reduction=reduction, log_target=log_target)


def _kl_reference(x, t, reduction, log_target=False):
    pointwise = np.exp(t) * (t - x) if log_target else np.where(t == 0, 0.0, t * np.log(np.where(t == 0, 1, t))) - t * x
    if reduction == "batchmean":
        return pointwise.sum() / (x.shape[0] if x.ndim else 1)
    return ref.reduced_loss(pointwise, reduction)


def _every_third_zero(t):
    """t with every third element (in flat order) set to 0, as a constant: targets of probability 0."""
    keep = (np.arange(t.numel()).reshape(tuple(t.shape)) % 3 != 0).astype(np.float64)
    return (t * library(t).tensor(keep, dtype=t.dtype, device=t.device)).detach()


def _kl_params(shapes):
    return st.fixed_dictionaries({"reduction": st.sampled_from(KL_REDUCTIONS), "log_target": st.booleans()})


def _labels(x):
    """Class indices for logits x (N, C): row i gets class (2i + 1) mod C."""
    return library(x).tensor((2 * np.arange(x.shape[0]) + 1) % x.shape[1], device=x.device)


def _distillation_torch(s, t, temperature, alpha):
    """The distillation loss written out in PyTorch from its formula."""
    F = functional(s)
    soft = F.kl_div(F.log_softmax(s / temperature, dim=-1), F.softmax(t.detach() / temperature, dim=-1),
                    reduction="batchmean")
    return alpha * temperature ** 2 * soft + (1 - alpha) * F.cross_entropy(s, _labels(s))


def _distillation_reference(s, t, temperature, alpha):
    p_teacher = ref.softmax(t / temperature, -1)
    kl = (p_teacher * (np.log(p_teacher) - ref.log_softmax(s / temperature, -1))).sum() / s.shape[0]
    labels = (2 * np.arange(s.shape[0]) + 1) % s.shape[1]
    cross_entropy = -ref.log_softmax(s, -1)[np.arange(s.shape[0]), labels].mean()
    return alpha * temperature ** 2 * kl + (1 - alpha) * cross_entropy


STEP = 0.1  # the fake quantization cases' scale (per tensor), the first channel's scale (per channel)


def grid_units(rng, shape):
    """Values k + u in units of a quantization step, k in [-200, 300], |u| ≤ 0.3: far from the half-steps where
    float32 and float64 could round differently, and often beyond the int8 range (clamped)."""
    return rng.integers(-200, 301, size=shape) + rng.uniform(-0.3, 0.3, size=shape)


def _channel_scales(shape, axis):
    """One scale per index along ``axis``: 0.1, 0.2, 0.3, ... shaped to broadcast."""
    sizes = [1] * len(shape)
    sizes[axis] = shape[axis]
    return (STEP * np.arange(1, shape[axis] + 1)).reshape(sizes)


def _fake_quant_reference(x, scale, zero_point, quant_min, quant_max):
    return (np.clip(np.rint(x / scale) + zero_point, quant_min, quant_max) - zero_point) * scale


_RANGES = st.sampled_from([(0, 255, 0), (0, 255, 128), (-128, 127, 0), (-128, 127, -5), (0, 15, 3)])


def _per_tensor(x, quant_min, quant_max, zero_point):
    if library(x).__name__ == "torch":
        return library(x).fake_quantize_per_tensor_affine(x * STEP, STEP, zero_point, quant_min, quant_max)
    return fake_quantize_per_tensor_affine(x * STEP, STEP, zero_point, quant_min, quant_max)


def _per_channel(x, axis, quant_min, quant_max, zero_point):
    scales = _channel_scales(tuple(x.shape), axis)
    lib = library(x)
    values = x * lib.tensor(scales, dtype=x.dtype, device=x.device)
    scale_vector = lib.tensor(scales.reshape(-1), dtype=lib.float32, device=x.device)
    zero_points = lib.tensor(np.full(x.shape[axis], zero_point), dtype=lib.int32, device=x.device)
    if lib.__name__ == "torch":
        return lib.fake_quantize_per_channel_affine(values, scale_vector, zero_points, axis, quant_min, quant_max)
    return fake_quantize_per_channel_affine(values, scale_vector, zero_points, axis, quant_min, quant_max)


def _range_params(shapes, with_axis=False):
    def build(r):
        params = {"quant_min": r[0], "quant_max": r[1], "zero_point": r[2]}
        return st.just(params) if not with_axis else st.integers(0, len(shapes[0]) - 1).map(
            lambda axis: {**params, "axis": axis})  # PyTorch takes no negative axis here
    return _RANGES.flatmap(build)


_logit_pairs = st.tuples(st.integers(1, 5), st.integers(2, 5)).map(lambda s: (s, s))

CASES = [
    OpCase("kl_div", _kl_div, _kl_reference, examples(single().map(lambda s: (s[0], s[0])), _kl_params),
           make=(normal, positive)),
    OpCase("kl_div_zero_targets", lambda x, t, reduction: _kl_div(x, _every_third_zero(t), reduction),
           lambda x, t, reduction: _kl_reference(
               x, t * (np.arange(t.size).reshape(t.shape) % 3 != 0), reduction),
           examples(single(min_dims=1).map(lambda s: (s[0], s[0])),
                    lambda s: st.fixed_dictionaries({"reduction": st.sampled_from(KL_REDUCTIONS)})),
           make=(normal, positive), grad_inputs=(0,)),
    OpCase("distillation_loss", lambda s, t, temperature, alpha: distillation_loss(s, t, _labels(s), temperature,
                                                                                   alpha),
           _distillation_reference,
           examples(_logit_pairs, lambda s: st.fixed_dictionaries(
               {"temperature": st.sampled_from([1.0, 2.0, 4.0]), "alpha": st.sampled_from([0.0, 0.3, 1.0])})),
           torch_fn=_distillation_torch, grad_inputs=(0,)),
    OpCase("fake_quantize_per_tensor_affine", _per_tensor,
           lambda x, quant_min, quant_max, zero_point: _fake_quant_reference(
               x * STEP, STEP, zero_point, quant_min, quant_max),
           examples(single(), _range_params), make=grid_units, differentiable=False),
    OpCase("fake_quantize_per_channel_affine", _per_channel,
           lambda x, axis, quant_min, quant_max, zero_point: _fake_quant_reference(
               x * _channel_scales(x.shape, axis), _channel_scales(x.shape, axis), zero_point, quant_min, quant_max),
           examples(single(min_dims=1), lambda s: _range_params(s, with_axis=True)), make=grid_units,
           differentiable=False),
]
