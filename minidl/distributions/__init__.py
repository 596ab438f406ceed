"""``minidl.distributions``: PyTorch's ``torch.distributions`` for reinforcement learning and VAEs.

Parametrised probability distributions with ``sample`` (no gradient), ``rsample`` (reparametrised,
differentiable), ``log_prob``, ``entropy``, moments, and ``kl_divergence`` between pairs of them, all
built from minidl's differentiable ops so gradients reach the parameters.
"""

from minidl.distributions import constraints
from minidl.distributions.continuous import Exponential, Laplace, Normal, Uniform
from minidl.distributions.discrete import Bernoulli, Categorical, OneHotCategorical
from minidl.distributions.distribution import Distribution
from minidl.distributions.independent import Independent
from minidl.distributions.kl import kl_divergence, register_kl
from minidl.distributions.multivariate_normal import MultivariateNormal

__all__ = ["Bernoulli", "Categorical", "Distribution", "Exponential", "Independent", "Laplace",
           "MultivariateNormal", "Normal", "OneHotCategorical", "Uniform", "constraints", "kl_divergence",
           "register_kl"]
