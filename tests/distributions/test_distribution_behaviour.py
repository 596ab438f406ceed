"""minidl.distributions on its own (no PyTorch needed): reproducible sampling with manual_seed, sample
statistics within a few standard errors of the moments, gradients through rsample only, log_prob
broadcasting, properties drawn by hypothesis, and clear errors for bad parameters and values."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minidl
import minidl.distributions as D
from minidl.distributions import constraints

N = 20000


def float64(values):
    return minidl.tensor(np.asarray(values, dtype=np.float64))


def test_distributions_is_an_attribute_of_the_package():
    assert minidl.distributions is D
    assert D.Normal(0.0, 1.0).batch_shape == minidl.Size([])


@pytest.mark.parametrize("make", [lambda: D.Normal(float64([0.0, 1.0]), 2.0),
                                  lambda: D.Categorical(float64([0.2, 0.8])),
                                  lambda: D.Bernoulli(float64([0.3])), lambda: D.Laplace(0.0, 1.0)])
def test_manual_seed_makes_sampling_reproducible(make):
    minidl.manual_seed(11)
    first = make().sample((5,)).numpy()
    minidl.manual_seed(11)
    assert np.array_equal(first, make().sample((5,)).numpy())


MOMENTS = [(D.Normal(float64([-1.0, 2.0]), float64([0.5, 3.0])),),
           (D.Uniform(float64([0.0, -2.0]), float64([1.0, 5.0])),),
           (D.Exponential(float64([0.5, 4.0])),),
           (D.Laplace(float64([1.0, -1.0]), float64([0.3, 2.0])),),
           (D.Bernoulli(float64([0.1, 0.7])),),
           (D.OneHotCategorical(float64([0.1, 0.6, 0.3])),),
           (D.MultivariateNormal(float64([1.0, -1.0]), covariance_matrix=float64([[2.0, 0.5], [0.5, 1.0]])),)]


@pytest.mark.parametrize("distribution", [m[0] for m in MOMENTS], ids=lambda d: type(d).__name__)
def test_sample_mean_lies_within_five_standard_errors(distribution):
    minidl.manual_seed(0)
    samples = distribution.sample((N,)).numpy()
    standard_error = np.sqrt(distribution.variance.numpy() / N)
    assert np.all(np.abs(samples.mean(0) - distribution.mean.numpy()) < 5 * standard_error)
    assert np.allclose(samples.var(0), distribution.variance.numpy(), rtol=0.1)


def test_categorical_samples_follow_the_probabilities():
    probs = np.array([[0.1, 0.2, 0.7], [0.5, 0.25, 0.25]])
    minidl.manual_seed(1)
    samples = D.Categorical(probs=float64(probs)).sample((N,)).numpy()
    assert samples.shape == (N, 2) and samples.dtype == np.int64
    frequencies = np.stack([np.bincount(samples[:, row], minlength=3) / N for row in range(2)])
    assert np.all(np.abs(frequencies - probs) < 5 * np.sqrt(probs * (1 - probs) / N))


def test_covariance_of_multivariate_normal_samples():
    covariance = np.array([[2.0, 0.5], [0.5, 1.0]])
    minidl.manual_seed(2)
    samples = D.MultivariateNormal(float64([0.0, 0.0]), covariance_matrix=float64(covariance)).sample((N,)).numpy()
    assert np.allclose(np.cov(samples.T), covariance, atol=0.08)


def test_sample_has_no_gradient_and_rsample_reaches_the_parameters():
    loc, scale = float64([0.5, -0.5]), float64([1.0, 2.0])
    loc.requires_grad_(True), scale.requires_grad_(True)
    normal = D.Normal(loc, scale)
    assert not normal.sample((3,)).requires_grad
    minidl.manual_seed(4)
    sample = normal.rsample((3,))
    sample.sum().backward()
    assert np.allclose(loc.grad.numpy(), [3.0, 3.0])
    noise = (sample.detach().numpy() - loc.detach().numpy()) / scale.detach().numpy()
    assert np.allclose(scale.grad.numpy(), noise.sum(0))


def test_distributions_without_a_reparametrisation_refuse_rsample():
    with pytest.raises(NotImplementedError, match="Categorical has no rsample"):
        D.Categorical(logits=float64([0.0, 1.0])).rsample()


def test_categorical_log_prob_broadcasts_sample_shape_over_the_batch():
    logits = np.log(np.array([[0.2, 0.3, 0.5], [0.6, 0.3, 0.1]]))
    categorical = D.Categorical(logits=float64(logits * 3 + 1))  # unnormalised logits are normalised
    actions = np.array([[0, 2], [1, 1], [2, 0], [0, 0]])
    log_prob = categorical.log_prob(minidl.tensor(actions)).numpy()
    assert np.allclose(log_prob, np.log(np.array([[0.2, 0.3, 0.5], [0.6, 0.3, 0.1]]) ** 3 / np.array(
        [[0.16], [0.244]]))[[0, 1], actions])
    assert np.allclose(categorical.logits.exp().sum(-1).numpy(), 1.0)


@settings(max_examples=25, deadline=None)
@given(st.lists(st.integers(1, 3), min_size=0, max_size=2), st.integers(2, 5), st.lists(st.integers(1, 3), max_size=2),
       st.integers(0, 2 ** 31 - 1))
def test_categorical_log_prob_matches_a_numpy_reference(batch, classes, sample_shape, seed):
    rng = np.random.default_rng(seed)
    logits = rng.standard_normal(tuple(batch) + (classes,))
    categorical = D.Categorical(logits=float64(logits))
    value = categorical.sample(tuple(sample_shape))
    assert value.shape == tuple(sample_shape) + tuple(batch)
    log_probs = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
    expected = np.take_along_axis(np.broadcast_to(log_probs, value.shape + (classes,)), value.numpy()[..., None], -1)
    assert np.allclose(categorical.log_prob(value).numpy(), expected[..., 0])


@settings(max_examples=25, deadline=None)
@given(st.floats(-3, 3), st.floats(0.2, 3), st.floats(-3, 3), st.floats(0.2, 3), st.floats(0.01, 0.99))
def test_normal_properties(loc, scale, other_loc, other_scale, probability):
    p, q = D.Normal(float64(loc), float64(scale)), D.Normal(float64(other_loc), float64(other_scale))
    assert D.kl_divergence(p, q).item() >= -1e-12
    assert abs(D.kl_divergence(p, p).item()) < 1e-12
    assert abs(p.cdf(p.icdf(float64(probability))).item() - probability) < 1e-9
    density = math.exp(-0.5 * ((other_loc - loc) / scale) ** 2) / (scale * math.sqrt(2 * math.pi))
    assert math.isclose(p.log_prob(float64(other_loc)).exp().item(), density, rel_tol=1e-9)


@settings(max_examples=20, deadline=None)
@given(st.lists(st.floats(0.05, 1.0), min_size=2, max_size=5), st.lists(st.floats(0.05, 1.0), min_size=2, max_size=5))
def test_categorical_kl_is_non_negative_and_zero_for_equal_distributions(first, second):
    size = min(len(first), len(second))
    p, q = D.Categorical(float64(first[:size])), D.Categorical(float64(second[:size]))
    assert D.kl_divergence(p, q).item() >= -1e-12
    assert abs(D.kl_divergence(p, p).item()) < 1e-12


def test_register_kl_adds_a_pair_and_subclasses_use_it():
    class Shifted(D.Normal):
        pass

    @D.register_kl(Shifted, D.Laplace)
    def _kl_shifted_laplace(p, q):
        return p.loc * 0 + 7.0

    assert D.kl_divergence(Shifted(0.0, 1.0), D.Laplace(0.0, 1.0)).item() == 7.0
    assert D.kl_divergence(Shifted(0.0, 1.0), D.Normal(0.0, 1.0)).item() == 0.0  # Normal-Normal by inheritance
    with pytest.raises(NotImplementedError, match="Normal and q = Laplace"):
        D.kl_divergence(D.Normal(0.0, 1.0), D.Laplace(0.0, 1.0))
    with pytest.raises(NotImplementedError, match="reinterpreted_batch_ndims"):
        D.kl_divergence(D.Independent(D.Normal(minidl.zeros(2, 3), 1.0), 1),
                        D.Independent(D.Normal(minidl.zeros(2, 3), 1.0), 2))


def test_independent_and_expand_reshape_batches_into_events():
    diagonal = D.Independent(D.Normal(minidl.zeros(4, 3), minidl.ones(4, 3)), 1)
    assert (diagonal.batch_shape, diagonal.event_shape) == ((4,), (3,))
    assert diagonal.rsample((2,)).shape == (2, 4, 3) and diagonal.log_prob(minidl.zeros(4, 3)).shape == (4,)
    expanded = diagonal.expand((5, 4))
    assert (expanded.batch_shape, expanded.event_shape) == ((5, 4), (3,))
    bernoulli = D.Bernoulli(logits=minidl.zeros(3)).expand((2, 3))
    assert bernoulli.sample().shape == (2, 3) and bernoulli.entropy().shape == (2, 3)


@pytest.mark.parametrize("make, message", [
    (lambda: D.Normal(0.0, -1.0), "Normal: expected parameter scale"),
    (lambda: D.Normal(float64([0.0, 1.0]), float64([1.0, 0.0])), "GreaterThan"),
    (lambda: D.Laplace(0.0, -2.0), "Laplace: expected parameter scale"),
    (lambda: D.Exponential(-1.0), "Exponential: expected parameter rate"),
    (lambda: D.Uniform(1.0, 0.0), "Uniform: expected low < high"),
    (lambda: D.Bernoulli(probs=1.5), "Bernoulli: expected parameter probs"),
    (lambda: D.Bernoulli(), "either `probs` or `logits`"),
    (lambda: D.Bernoulli(probs=0.5, logits=0.0), "either `probs` or `logits`"),
    (lambda: D.Categorical(probs=float64([-0.1, 1.1])), "Categorical: expected parameter probs"),
    (lambda: D.Categorical(probs=float64([0.0, 0.0])), "Simplex"),
    (lambda: D.Categorical(logits=float64(1.0)), "at least one dim"),
    (lambda: D.MultivariateNormal(float64([0.0, 0.0]), covariance_matrix=float64([[1.0, 2.0], [2.0, 1.0]])),
     "PositiveDefinite"),
    (lambda: D.MultivariateNormal(float64([0.0, 0.0]), scale_tril=float64([[1.0, 1.0], [0.0, 1.0]])), "LowerCholesky"),
    (lambda: D.MultivariateNormal(float64([0.0, 0.0]), scale_tril=float64(np.eye(3))), r"shape \(..., 2, 2\)"),
    (lambda: D.MultivariateNormal(float64([0.0, 0.0])), "exactly one of"),
    (lambda: D.Independent(D.Normal(0.0, 1.0), 1), "reinterpreted_batch_ndims"),
])
def test_bad_parameters_raise_clear_errors(make, message):
    with pytest.raises(ValueError, match=message):
        make()


@pytest.mark.parametrize("distribution, value, message", [
    (D.Normal(0.0, 1.0), 1.0, "must be a Tensor"),
    (D.Normal(minidl.zeros(3), 1.0), minidl.zeros(2), r"value of shape \(2,\) does not broadcast"),
    (D.Categorical(logits=minidl.zeros(3)), minidl.tensor([3]), "within the support"),
    (D.Bernoulli(0.3), minidl.tensor([0.5]), "within the support"),
    (D.Exponential(1.0), minidl.tensor(-1.0), "within the support"),
    (D.Uniform(0.0, 1.0), minidl.tensor(1.0), "within the support"),
    (D.MultivariateNormal(minidl.zeros(2), scale_tril=minidl.eye(2)), minidl.zeros(3), "event_shape"),
])
def test_bad_values_for_log_prob_raise_clear_errors(distribution, value, message):
    with pytest.raises(ValueError, match=message):
        distribution.log_prob(value)


def test_validation_can_be_turned_off():
    assert D.Uniform(0.0, 1.0, validate_args=False).log_prob(minidl.tensor(2.0)).item() == -math.inf
    D.Distribution.set_default_validate_args(False)
    try:
        D.Normal(0.0, -1.0)
    finally:
        D.Distribution.set_default_validate_args(True)
    assert constraints.positive.check(minidl.tensor([1.0, -1.0])).numpy().tolist() == [True, False]


ON_A_DEVICE = {
    "normal": lambda t: D.Normal(t([0.0, 1.0]), t([1.0, 2.0])).log_prob(t([0.5, 0.2])),
    "normal_cdf": lambda t: D.Normal(t([0.0, 1.0]), 2.0).cdf(t([0.5, 0.2])),
    "laplace_entropy": lambda t: D.Laplace(t([0.0]), t([3.0])).entropy(),
    "bernoulli": lambda t: D.Bernoulli(logits=t([0.3, -2.0])).log_prob(t([1.0, 0.0])),
    "categorical": lambda t: D.Categorical(t([[0.3, 0.7], [0.5, 0.5]])).log_prob(t([1, 0]).long()),
    "multivariate_normal": lambda t: D.MultivariateNormal(t([0.0, 0.0]), covariance_matrix=t([[2.0, 0.5], [0.5, 1.0]]))
    .log_prob(t([[1.0, 1.0]])),
    "kl_categorical": lambda t: D.kl_divergence(D.Categorical(t([0.3, 0.7])), D.Categorical(t([0.5, 0.5]))),
    "kl_uniform": lambda t: D.kl_divergence(D.Uniform(t([0.0]), t([1.0])), D.Uniform(t([-1.0]), t([2.0]))),
}


@pytest.mark.parametrize("case", ON_A_DEVICE)
def test_formulas_run_on_the_strict_device_and_agree_with_the_cpu(case):
    on_cpu = ON_A_DEVICE[case](float64).numpy()
    on_device = ON_A_DEVICE[case](lambda values: float64(values).to("strict"))
    assert on_device.device.type == "strict"
    assert np.allclose(on_device.to("cpu").numpy(), on_cpu)


@pytest.mark.parametrize("make", [lambda t: D.Normal(t([0.0]), t([1.0])), lambda t: D.Categorical(t([0.3, 0.7])),
                                  lambda t: D.Bernoulli(t([0.3])), lambda t: D.Exponential(t([2.0]))])
def test_samples_stay_on_the_parameters_device(make):
    sample = make(lambda values: float64(values).to("strict")).sample((3,))
    assert sample.device.type == "strict" and sample.shape[0] == 3
