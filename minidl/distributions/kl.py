"""``kl_divergence(p, q)`` = KL(p ‖ q) = E_p[log p(x) − log q(x)], in closed form for the registered pairs
of distribution types (``register_kl`` adds more):

    Normal ‖ Normal          ½ (σp²/σq² + ((μp − μq)/σq)² − 1 − log(σp²/σq²))
    Categorical ‖ Categorical Σ_k p_k (log p_k − log q_k)   (+∞ where q_k = 0 < p_k)
    Bernoulli ‖ Bernoulli    p (softplus(−lq) − softplus(−lp)) + (1 − p)(softplus(lq) − softplus(lp))
    Uniform ‖ Uniform        log((bq − aq)/(bp − ap)) if [ap, bp] ⊆ [aq, bq], else +∞
    Exponential ‖ Exponential  λq/λp − 1 − log(λq/λp)
    Laplace ‖ Laplace        log(bq/bp) + |μp − μq|/bq + (bp/bq) exp(−|μp − μq|/bp) − 1
    MultivariateNormal ‖ MultivariateNormal  ½ (tr(Σq⁻¹Σp) + ‖Lq⁻¹(μq − μp)‖² − d) + Σ log diag Lq − Σ log diag Lp
    Independent ‖ Independent (same reinterpreted dims): the base KL summed over those dims
"""

from __future__ import annotations

import math

from minidl.core.creation import full_like
from minidl.distributions.continuous import Exponential, Laplace, Normal, Uniform
from minidl.distributions.discrete import Bernoulli, Categorical, OneHotCategorical
from minidl.distributions.independent import Independent
from minidl.distributions.multivariate_normal import MultivariateNormal
from minidl.distributions.distribution import sum_rightmost
from minidl.ops import abs as absolute
from minidl.ops import log, tril, where
from minidl.ops.linalg_functions import solve
from minidl.ops.more_activations import softplus

__all__ = ["kl_divergence", "register_kl"]

_KL_REGISTRY = {}


def register_kl(type_p, type_q):
    """Decorator: ``@register_kl(P, Q)`` makes ``fn(p, q)`` the KL divergence of P ‖ Q (and of subclasses,
    when no more specific pair is registered)."""
    if not (isinstance(type_p, type) and isinstance(type_q, type)):
        raise TypeError(f"register_kl: expected two distribution classes, got {type_p!r} and {type_q!r}")

    def decorator(fn):
        _KL_REGISTRY[type_p, type_q] = fn
        return fn
    return decorator


def _dispatch(type_p, type_q):
    matches = [(type_p.__mro__.index(p) + type_q.__mro__.index(q), fn) for (p, q), fn in _KL_REGISTRY.items()
               if issubclass(type_p, p) and issubclass(type_q, q)]
    return min(matches, key=lambda match: match[0])[1] if matches else None


def kl_divergence(p, q):
    """KL(p ‖ q), batched over the distributions' batch shape."""
    fn = _dispatch(type(p), type(q))
    if fn is None:
        raise NotImplementedError(f"kl_divergence: no KL(p || q) is registered for p = {type(p).__name__} and "
                                  f"q = {type(q).__name__}; add one with @register_kl({type(p).__name__}, "
                                  f"{type(q).__name__})")
    return fn(p, q)


def _infinite_where(condition, value):
    return where(condition, full_like(value, math.inf), value)


@register_kl(Normal, Normal)
def _kl_normal_normal(p, q):
    var_ratio = (p.scale / q.scale) ** 2
    mean_term = ((p.loc - q.loc) / q.scale) ** 2
    return 0.5 * (var_ratio + mean_term - 1 - log(var_ratio))


@register_kl(Categorical, Categorical)
def _kl_categorical_categorical(p, q):
    terms = p.probs * (p.logits - q.logits)
    terms = _infinite_where((q.probs == 0) & (p.probs > 0), terms)
    terms = where(p.probs == 0, full_like(terms, 0.0), terms)
    return terms.sum(-1)


@register_kl(OneHotCategorical, OneHotCategorical)
def _kl_onehot_onehot(p, q):
    return _kl_categorical_categorical(p._categorical, q._categorical)


@register_kl(Bernoulli, Bernoulli)
def _kl_bernoulli_bernoulli(p, q):
    first = p.probs * (softplus(-q.logits) - softplus(-p.logits))
    first = where(p.probs == 0, full_like(first, 0.0), first)
    second = (1 - p.probs) * (softplus(q.logits) - softplus(p.logits))
    second = where(p.probs == 1, full_like(second, 0.0), second)
    return first + second


@register_kl(Uniform, Uniform)
def _kl_uniform_uniform(p, q):
    result = log((q.high - q.low) / (p.high - p.low))
    return _infinite_where((q.low > p.low) | (q.high < p.high), result)


@register_kl(Exponential, Exponential)
def _kl_exponential_exponential(p, q):
    rate_ratio = q.rate / p.rate
    return rate_ratio - 1 - log(rate_ratio)


@register_kl(Laplace, Laplace)
def _kl_laplace_laplace(p, q):
    scale_ratio = p.scale / q.scale
    distance = absolute(p.loc - q.loc)
    return -log(scale_ratio) + distance / q.scale + scale_ratio * (-distance / p.scale).exp() - 1


@register_kl(MultivariateNormal, MultivariateNormal)
def _kl_mvn_mvn(p, q):
    if p.event_shape != q.event_shape:
        raise ValueError(f"kl_divergence: MultivariateNormals of different event shapes {p.event_shape} and "
                         f"{q.event_shape}")
    half_log_dets = p._half_log_det(), q._half_log_det()
    lower_q = tril(q._unbroadcasted_scale_tril)
    trace = (solve(lower_q, p._unbroadcasted_scale_tril) ** 2).sum(-1).sum(-1)  # tr(Σq⁻¹Σp) = ‖Lq⁻¹Lp‖²_F
    whitened = q._whiten(q.loc - p.loc)
    return half_log_dets[1] - half_log_dets[0] + 0.5 * (trace + (whitened ** 2).sum(-1) - p.event_shape[0])


@register_kl(Independent, Independent)
def _kl_independent_independent(p, q):
    if p.reinterpreted_batch_ndims != q.reinterpreted_batch_ndims:
        raise NotImplementedError("kl_divergence: Independents with different reinterpreted_batch_ndims "
                                  f"({p.reinterpreted_batch_ndims} and {q.reinterpreted_batch_ndims})")
    return sum_rightmost(kl_divergence(p.base_dist, q.base_dist), p.reinterpreted_batch_ndims)
