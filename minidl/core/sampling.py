"""Sampling from distributions, with PyTorch's names: ``normal``, ``multinomial``, ``bernoulli``.

The samples are not differentiable (PyTorch gives the parameters zero gradient; minidl returns
tensors without history). Values are drawn on the host from the default stream or from the
``Generator`` passed as ``generator=`` (see :mod:`minidl.core.random`), then copied to the
device of the parameters.
"""

from __future__ import annotations

import numbers

import numpy as np

from minidl.core.backend import to_device, to_numpy
from minidl.core.creation import _dtype, _finish, _shape
from minidl.core.dtypes import get_default_dtype
from minidl.core.random import numpy_stream
from minidl.core.tensor import Tensor


def normal(mean=0.0, std=1.0, size=None, *, generator=None, dtype=None, device=None, requires_grad=False):
    """Samples of N(mean, std²): ``normal(mean_tensor, std_tensor)`` (broadcast), ``normal(mean_tensor,
    1.0)``, ``normal(0.0, std_tensor)`` or ``normal(0.0, 1.0, size)``."""
    stream = numpy_stream(generator, "normal")
    tensors = [t for t in (mean, std) if isinstance(t, Tensor)]
    if not tensors:
        if size is None:
            raise TypeError("normal: with a number for both mean and std give a size, e.g. normal(0.0, 1.0, (2, 3))")
        shape = _shape((size,), "normal")
        _check_std(std)
        dtype = _dtype(dtype, "normal") or get_default_dtype()
        return _finish(stream.normal(float(mean), float(std), shape), dtype, device, requires_grad)
    if size is not None:
        raise TypeError("normal: size is only for a number mean and std; with tensors the shape is theirs")
    means, stds = (to_numpy(t.array) if isinstance(t, Tensor) else t for t in (mean, std))
    _check_std(stds)
    try:
        shape = np.broadcast_shapes(np.shape(means), np.shape(stds))
    except ValueError:
        raise ValueError(f"normal: mean of shape {tuple(np.shape(means))} and std of shape "
                         f"{tuple(np.shape(stds))} do not broadcast") from None
    values = stream.standard_normal(shape) * stds + means
    return _finish(values, tensors[0].dtype, device or tensors[0].device, requires_grad)


def _check_std(std):
    if isinstance(std, numbers.Number) and not std >= 0 or np.size(std) and not np.all(np.asarray(std) >= 0):
        raise ValueError(f"normal: std must be >= 0, got {np.min(std)}")


def multinomial(input, num_samples, replacement=False, *, generator=None):  # noqa: A002 (PyTorch's names)
    """Indices drawn from the categories of each row of ``input`` (non-negative weights, normalised per
    row): ``num_samples`` per row, with or without replacement; int64, shape (num_samples,) or
    (rows, num_samples).

    Without replacement the draw is sequential sampling in one step: each category gets the key
    −log(u)/w (u uniform) and the ``num_samples`` smallest keys win, which picks them with exactly the
    probabilities of drawing one at a time and renormalising.
    """
    if not isinstance(input, Tensor) or input.ndim not in (1, 2):
        shape = tuple(input.shape) if isinstance(input, Tensor) else type(input).__name__
        raise ValueError(f"multinomial: input must be a 1-D or 2-D tensor of weights, got {shape}")
    if isinstance(num_samples, bool) or not isinstance(num_samples, numbers.Integral) or num_samples <= 0:
        raise ValueError(f"multinomial: num_samples must be a positive int, got {num_samples!r}")
    weights = to_numpy(input.array).astype(np.float64).reshape(-1, input.shape[-1])
    categories = weights.shape[1]
    if not np.all(np.isfinite(weights)) or np.any(weights < 0):
        raise ValueError("multinomial: the weights must be finite and >= 0 (probabilities or unnormalised weights)")
    if np.any(weights.sum(axis=1) <= 0):
        raise ValueError("multinomial: every row needs a positive total weight; a row is all zeros")
    if not replacement and num_samples > int((weights > 0).sum(axis=1).min()):
        raise ValueError(f"multinomial: cannot draw {num_samples} samples without replacement from a row with "
                         f"{int((weights > 0).sum(axis=1).min())} categories of nonzero weight "
                         f"(of {categories}); pass replacement=True or draw fewer")
    stream = numpy_stream(generator, "multinomial")
    if replacement:
        cumulative = np.cumsum(weights, axis=1)
        targets = stream.random((len(weights), num_samples)) * cumulative[:, -1:]
        picks = np.stack([np.searchsorted(row, t, side="right") for row, t in zip(cumulative, targets)])
        picks = np.minimum(picks, categories - 1)
    else:
        with np.errstate(divide="ignore"):
            keys = -np.log(stream.random(weights.shape)) / weights  # weight 0: key inf, never drawn
        picks = np.argsort(keys, axis=1, kind="stable")[:, :num_samples]
    picks = picks.reshape(input.shape[:-1] + (num_samples,))
    return Tensor(to_device(picks.astype(np.int64), input.device))


def bernoulli(input, p=None, *, generator=None):  # noqa: A002 (PyTorch's names)
    """0 or 1 for each element, 1 with probability ``input`` (or ``p``); the dtype of ``input``."""
    probabilities = to_numpy(input.array) if p is None else np.broadcast_to(p, input.shape)
    if np.size(probabilities) and not (np.all(probabilities >= 0) and np.all(probabilities <= 1)):
        raise ValueError("bernoulli: probabilities must lie in [0, 1]")
    draws = numpy_stream(generator, "bernoulli").random(input.shape) < probabilities
    return Tensor(to_device(draws.astype(input.dtype), input.device))
