"""The ``Distribution`` base class of ``minidl.distributions`` (PyTorch's ``torch.distributions``) and
the small helpers its subclasses share.

A distribution holds tensors of parameters whose leading dims are its ``batch_shape`` (independent,
differently parametrised distributions side by side) and whose samples have trailing dims
``event_shape`` (one draw of a vector-valued distribution). A draw of ``sample_shape`` has the shape
``sample_shape + batch_shape + event_shape``; ``log_prob`` of such a value has shape
``sample_shape + batch_shape``.

Every formula is written with minidl's differentiable ops, so gradients of ``log_prob``, ``entropy``
and of ``rsample`` (the reparametrisation trick: a sample = a differentiable function of the
parameters and parameter-free noise) flow to the parameters on their own. ``sample`` is drawn with
grad mode off.
"""

from __future__ import annotations

import math
import numbers

from minidl.core.creation import as_tensor
from minidl.core.dtypes import get_default_dtype
from minidl.core.grad_mode import no_grad
from minidl.core.size import Size
from minidl.core.tensor import Tensor
from minidl.core.type_info import finfo
from minidl.ops import broadcast_tensors, clamp, log, log1p, sigmoid, softmax

_validate_default = __debug__


class Distribution:
    """Base class: shapes, ``sample`` from ``rsample``, parameter and sample validation, ``expand``."""

    has_rsample = False
    has_enumerate_support = False
    arg_constraints = {}
    support = None

    @staticmethod
    def set_default_validate_args(value):
        """Turn argument validation on or off for distributions made from now on (default: on)."""
        global _validate_default
        if value not in (True, False):
            raise ValueError(f"set_default_validate_args: value must be True or False, got {value!r}")
        _validate_default = value

    def __init__(self, batch_shape=Size(), event_shape=Size(), validate_args=None):
        self._batch_shape, self._event_shape = Size(batch_shape), Size(event_shape)
        self._validate_args = _validate_default if validate_args is None else bool(validate_args)
        if self._validate_args:
            for name, constraint in self.arg_constraints.items():
                value = self.__dict__.get(name)  # only the parameters given; those computed from them are valid
                if value is None or not isinstance(value, Tensor):
                    continue
                if not bool(constraint.check(value).all()):
                    raise ValueError(f"{type(self).__name__}: expected parameter {name} (a tensor of shape "
                                     f"{value.shape}) to satisfy the constraint {constraint!r}, but found invalid "
                                     f"values:\n{value}")

    @property
    def batch_shape(self):
        return self._batch_shape

    @property
    def event_shape(self):
        return self._event_shape

    def _extended_shape(self, sample_shape=Size()):
        return Size(_as_shape(sample_shape)) + self._batch_shape + self._event_shape

    def expand(self, batch_shape, _instance=None):
        """The same distribution with its parameters broadcast (not copied) to a larger ``batch_shape``."""
        batch_shape = Size(_as_shape(batch_shape))
        new = object.__new__(type(self))
        new.__dict__.update(self.__dict__)
        for name in self.arg_constraints:
            value = self.__dict__.get(name)
            if isinstance(value, Tensor):
                setattr(new, name, value.expand(batch_shape + value.shape[len(self._batch_shape):]))
        Distribution.__init__(new, batch_shape, self._event_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    def sample(self, sample_shape=Size()):
        """A draw of shape ``sample_shape + batch_shape + event_shape``, with no gradient."""
        with no_grad():
            return self.rsample(sample_shape)

    def rsample(self, sample_shape=Size()):
        raise NotImplementedError(f"{type(self).__name__} has no rsample (no reparametrised sampling); "
                                  "use sample(), which gives no gradient")

    def sample_n(self, n):
        return self.sample(Size([n]))

    def log_prob(self, value):
        raise NotImplementedError(f"{type(self).__name__}.log_prob is not implemented")

    def cdf(self, value):
        raise NotImplementedError(f"{type(self).__name__}.cdf is not implemented")

    def icdf(self, value):
        raise NotImplementedError(f"{type(self).__name__}.icdf is not implemented")

    def entropy(self):
        raise NotImplementedError(f"{type(self).__name__}.entropy is not implemented")

    def perplexity(self):
        return self.entropy().exp()

    @property
    def mean(self):
        raise NotImplementedError(f"{type(self).__name__}.mean is not implemented")

    @property
    def mode(self):
        raise NotImplementedError(f"{type(self).__name__}.mode is not implemented")

    @property
    def variance(self):
        raise NotImplementedError(f"{type(self).__name__}.variance is not implemented")

    @property
    def stddev(self):
        return self.variance.sqrt()

    def _validate_sample(self, value):
        """With validation on: ``value`` must be a tensor whose shape broadcasts with ``batch_shape +
        event_shape`` and whose entries lie in the support."""
        name = type(self).__name__
        if not isinstance(value, Tensor):
            raise ValueError(f"{name}: the value argument to log_prob must be a Tensor, got {type(value).__name__}")
        event_dims = len(self._event_shape)
        if tuple(value.shape[len(value.shape) - event_dims:]) != tuple(self._event_shape) or \
                len(value.shape) < event_dims:
            raise ValueError(f"{name}: the right-most dims of value {value.shape} must equal event_shape "
                             f"{self._event_shape}")
        wanted = self._batch_shape + self._event_shape
        for have, need in zip(reversed(value.shape), reversed(wanted)):
            if have != 1 and need != 1 and have != need:
                raise ValueError(f"{name}: value of shape {value.shape} does not broadcast with batch_shape + "
                                 f"event_shape {wanted}")
        support = self.support
        if support is not None and not bool(support.check(value).all()):
            raise ValueError(f"{name}: expected value argument (a tensor of shape {value.shape}) to be within "
                             f"the support ({support!r}) of the distribution, but found invalid values:\n{value}")

    def __repr__(self):
        names = [n for n in self.arg_constraints if n in self.__dict__]
        shown = ", ".join(f"{n}: {self.__dict__[n].shape if self.__dict__[n].numel() > 1 else self.__dict__[n]}"
                          for n in names)
        return f"{type(self).__name__}({shown})"


def _as_shape(shape):
    if isinstance(shape, numbers.Integral):
        return (int(shape),)
    return tuple(int(s) for s in shape)


def broadcast_all(*values):
    """Numbers and tensors broadcast to one shape (numbers become tensors of the tensors' dtype, or of the
    default dtype when all are numbers)."""
    tensors = [v for v in values if isinstance(v, Tensor)]
    for v in values:
        if not isinstance(v, (Tensor, numbers.Number)):
            raise ValueError(f"broadcast_all: expected tensors or numbers, got {type(v).__name__}")
    dtype = tensors[0].dtype if tensors else get_default_dtype()
    device = tensors[0].device if tensors else None
    values = [v if isinstance(v, Tensor) else as_tensor(float(v), dtype=dtype, device=device) for v in values]
    return broadcast_tensors(*values)


def sum_rightmost(value, dims):
    """``value`` summed over its ``dims`` last dims."""
    return value.sum(dim=tuple(range(-dims, 0))) if dims > 0 else value


def clamp_probs(probs):
    """Probabilities kept inside [eps, 1 - eps] of their dtype, so their logs stay finite."""
    eps = finfo(probs.dtype).eps
    return clamp(probs, eps, 1 - eps)


def probs_to_logits(probs, is_binary=False):
    """Log-probabilities (categorical) or log-odds log p − log(1 − p) (binary) of clamped probabilities."""
    clamped = clamp_probs(probs)
    return log(clamped) - log1p(-clamped) if is_binary else log(clamped)


def logits_to_probs(logits, is_binary=False):
    """sigmoid(logits) (binary) or softmax(logits) over the last dim (categorical)."""
    return sigmoid(logits) if is_binary else softmax(logits, dim=-1)


LOG_SQRT_2PI = 0.5 * math.log(2 * math.pi)
