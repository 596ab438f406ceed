"""Discrete distributions over classes, given by probabilities or by logits (unnormalised log-probs):

    Bernoulli(p), logit l = log p − log(1 − p):   log P(x) = x l − softplus(l)      H = softplus(l) − p l
    Categorical(p) over K classes:                log P(k) = logits_k,  logits = l − logsumexp(l)
                                                  H = −Σ_k p_k logits_k
    OneHotCategorical: a Categorical whose samples are one-hot vectors (event_shape (K,)).

Probabilities given to Categorical are normalised along the last dim; logits are normalised to
log-probabilities by subtracting their logsumexp, as PyTorch does. Whichever of the two is not given
is computed from the other on first use.
"""

from __future__ import annotations

import math
from functools import cached_property

from minidl.core.creation import arange, full
from minidl.core.dtypes import int64
from minidl.core.grad_mode import no_grad
from minidl.core.sampling import bernoulli, multinomial
from minidl.core.size import Size
from minidl.core.tensor import Tensor
from minidl.core.type_info import finfo
from minidl.distributions import constraints
from minidl.distributions.distribution import Distribution, broadcast_all, logits_to_probs, probs_to_logits
from minidl.ops import broadcast_tensors, clamp, gather, logsumexp, where
from minidl.ops.more_activations import softplus

__all__ = ["Bernoulli", "Categorical", "OneHotCategorical"]


def _one_of(probs, logits, name):
    if (probs is None) == (logits is None):
        raise ValueError(f"{name}: either `probs` or `logits` must be specified, but not both")


class Bernoulli(Distribution):
    """1 with probability ``probs`` (or sigmoid(``logits``)), else 0."""

    arg_constraints = {"probs": constraints.unit_interval, "logits": constraints.real}
    support = constraints.boolean

    def __init__(self, probs=None, logits=None, validate_args=None):
        _one_of(probs, logits, "Bernoulli")
        if probs is not None:
            (self.probs,) = broadcast_all(probs)
        else:
            (self.logits,) = broadcast_all(logits)
        super().__init__(self._param.shape, validate_args=validate_args)

    @property
    def _param(self):
        return self.__dict__["probs"] if "probs" in self.__dict__ else self.__dict__["logits"]

    @cached_property
    def probs(self):
        return logits_to_probs(self.logits, is_binary=True)

    @cached_property
    def logits(self):
        return probs_to_logits(self.probs, is_binary=True)

    @property
    def param_shape(self):
        return self._param.shape

    @property
    def mean(self):
        return self.probs

    @property
    def mode(self):
        mode = (self.probs >= 0.5).to(self.probs.dtype)
        return where(self.probs == 0.5, full(mode.shape, math.nan, dtype=mode.dtype, device=mode.device), mode)

    @property
    def variance(self):
        return self.probs * (1 - self.probs)

    def sample(self, sample_shape=Size()):
        with no_grad():
            return bernoulli(self.probs.expand(self._extended_shape(sample_shape)))

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        logits, value = broadcast_all(self.logits, value)
        return value * logits - softplus(logits)

    def entropy(self):
        return softplus(self.logits) - self.probs * self.logits


class Categorical(Distribution):
    """One of K classes (the last dim of ``probs`` or ``logits``), class k with probability probs[..., k]."""

    arg_constraints = {"probs": constraints.simplex, "logits": constraints.real_vector}
    has_enumerate_support = True

    def __init__(self, probs=None, logits=None, validate_args=None):
        _one_of(probs, logits, type(self).__name__)
        given = probs if probs is not None else logits
        if not isinstance(given, Tensor) or given.ndim < 1:
            raise ValueError(f"{type(self).__name__}: `{'probs' if probs is not None else 'logits'}` must be a "
                             f"tensor of at least one dim (the classes), got "
                             f"{given.shape if isinstance(given, Tensor) else type(given).__name__}")
        if probs is not None:
            self.probs = probs / probs.sum(-1, keepdim=True)
        else:
            self.logits = logits - logsumexp(logits, dim=-1, keepdim=True)
        self._num_events = given.shape[-1]
        super().__init__(given.shape[:-1], validate_args=validate_args)

    @property
    def _param(self):
        return self.__dict__["probs"] if "probs" in self.__dict__ else self.__dict__["logits"]

    @cached_property
    def probs(self):
        return logits_to_probs(self.logits)

    @cached_property
    def logits(self):
        return probs_to_logits(self.probs)

    @property
    def param_shape(self):
        return self._param.shape

    @property
    def support(self):
        return constraints.integer_interval(0, self._num_events - 1)

    @property
    def mean(self):
        return full(self._extended_shape(), math.nan, dtype=self._param.dtype, device=self._param.device)

    @property
    def mode(self):
        return self.probs.argmax(-1)

    variance = mean

    def sample(self, sample_shape=Size()):
        shape = self._extended_shape(sample_shape)
        draws = max(shape[:len(shape) - len(self._batch_shape)].numel(), 1)
        with no_grad():
            rows = self.probs.reshape(-1, self._num_events)
            if rows.shape[0] == 0 or shape.numel() == 0:
                return full(shape, 0, dtype=int64, device=self._param.device)
            return multinomial(rows, draws, replacement=True).transpose(0, 1).reshape(shape)

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        value, log_pmf = broadcast_tensors(value.long().unsqueeze(-1), self.logits)
        return gather(log_pmf, -1, value[..., :1]).squeeze(-1)

    def entropy(self):
        logits = clamp(self.logits, min=finfo(self.logits.dtype).min)
        return -(logits * self.probs).sum(-1)

    def enumerate_support(self, expand=True):
        """The classes 0..K-1 along a new first dim, expanded over the batch when ``expand``."""
        values = arange(self._num_events, device=self._param.device).reshape((-1,) + (1,) * len(self._batch_shape))
        return values.expand((-1,) + tuple(self._batch_shape)) if expand else values


class OneHotCategorical(Distribution):
    """A Categorical whose values are one-hot vectors of the K classes."""

    arg_constraints = {"probs": constraints.simplex, "logits": constraints.real_vector}
    support = constraints.one_hot
    has_enumerate_support = True

    def __init__(self, probs=None, logits=None, validate_args=None):
        self._categorical = Categorical(probs, logits, validate_args=validate_args)
        super().__init__(self._categorical.batch_shape, self._categorical.param_shape[-1:],
                         validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = object.__new__(type(self))
        new._categorical = self._categorical.expand(batch_shape)
        Distribution.__init__(new, new._categorical.batch_shape, self._event_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    @property
    def probs(self):
        return self._categorical.probs

    @property
    def logits(self):
        return self._categorical.logits

    @property
    def param_shape(self):
        return self._categorical.param_shape

    @property
    def mean(self):
        return self.probs

    @property
    def mode(self):
        return self._one_hot(self.probs.argmax(-1))

    @property
    def variance(self):
        return self.probs * (1 - self.probs)

    def _one_hot(self, indices):
        classes = arange(self._event_shape[0], device=indices.device)
        return (indices.unsqueeze(-1) == classes).to(self.probs.dtype)

    def sample(self, sample_shape=Size()):
        return self._one_hot(self._categorical.sample(sample_shape))

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        return self._categorical.log_prob(value.argmax(-1))

    def entropy(self):
        return self._categorical.entropy()

    def enumerate_support(self, expand=True):
        values = self._one_hot(arange(self._event_shape[0], device=self.probs.device))
        values = values.reshape((self._event_shape[0],) + (1,) * len(self._batch_shape) + self._event_shape)
        return values.expand((-1,) + tuple(self._batch_shape) + tuple(self._event_shape)) if expand else values
