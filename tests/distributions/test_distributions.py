"""minidl.distributions against torch.distributions: with the same parameters (float64), the same
log_prob, cdf, icdf, entropy, mean, mode, variance, stddev and KL divergence, and the same gradients of
log_prob, entropy, KL and of a loss on an rsample (computed in PyTorch from the same noise) with respect
to the parameters."""

import numpy as np
import pytest

import minidl
import minidl.distributions as D

torch = pytest.importorskip("torch", reason='parity needs PyTorch: pip install -e ".[torch]"')
TD = torch.distributions

RNG = np.random.default_rng(3)
LOWER = np.array([[[1.5, 0.0, 0.0], [0.3, 0.8, 0.0], [-0.4, 0.2, 1.1]], [[0.9, 0.0, 0.0], [0.1, 1.3, 0.0],
                                                                         [0.5, -0.6, 0.7]]])


def positive(*shape):
    return RNG.uniform(0.5, 2.0, shape)


def probs(*shape):
    values = RNG.uniform(0.1, 1.0, shape)
    return values / values.sum(-1, keepdims=True)


# name: (minidl class, torch class, {parameter: float64 values}, value for log_prob, value for icdf or None)
CASES = {
    "normal": (D.Normal, TD.Normal, dict(loc=RNG.standard_normal((2, 3)), scale=positive(2, 3)),
               RNG.standard_normal((4, 2, 3)), RNG.uniform(0.05, 0.95, (2, 3))),
    "uniform": (D.Uniform, TD.Uniform, dict(low=np.array([-1.0, 0.0, 2.0]), high=np.array([1.0, 0.5, 4.0])),
                np.array([[0.2, 0.1, 3.0], [-0.5, 0.4, 2.5]]), RNG.uniform(0.05, 0.95, 3)),
    "exponential": (D.Exponential, TD.Exponential, dict(rate=positive(5)), positive(3, 5), RNG.uniform(0.05, 0.95, 5)),
    "laplace": (D.Laplace, TD.Laplace, dict(loc=RNG.standard_normal(4), scale=positive(4)),
                RNG.standard_normal((2, 4)), RNG.uniform(0.05, 0.95, 4)),
    "bernoulli_probs": (D.Bernoulli, TD.Bernoulli, dict(probs=RNG.uniform(0.1, 0.9, (3, 2))),
                        RNG.integers(0, 2, (5, 3, 2)).astype(float), None),
    "bernoulli_logits": (D.Bernoulli, TD.Bernoulli, dict(logits=RNG.standard_normal((3, 2)) * 3),
                         RNG.integers(0, 2, (3, 2)).astype(float), None),
    "categorical_probs": (D.Categorical, TD.Categorical, dict(probs=RNG.uniform(0.1, 1.0, (3, 4))),
                          RNG.integers(0, 4, (5, 3)), None),
    "categorical_logits": (D.Categorical, TD.Categorical, dict(logits=RNG.standard_normal((2, 3, 5)) * 2),
                           RNG.integers(0, 5, (2, 3)), None),
    "one_hot_categorical": (D.OneHotCategorical, TD.OneHotCategorical, dict(logits=RNG.standard_normal((3, 4))),
                            np.eye(4)[RNG.integers(0, 4, (2, 3))], None),
    "mvn_scale_tril": (D.MultivariateNormal, TD.MultivariateNormal, dict(loc=RNG.standard_normal((2, 3)),
                                                                         scale_tril=LOWER),
                       RNG.standard_normal((4, 2, 3)), None),
    "mvn_covariance": (D.MultivariateNormal, TD.MultivariateNormal,
                       dict(loc=RNG.standard_normal(3), covariance_matrix=LOWER @ LOWER.swapaxes(1, 2)),
                       RNG.standard_normal((4, 2, 3)), None),
    "mvn_precision": (D.MultivariateNormal, TD.MultivariateNormal, dict(loc=RNG.standard_normal(3),
                                                                        precision_matrix=LOWER[0] @ LOWER[0].T),
                      RNG.standard_normal((5, 3)), None),
}


def make(case):
    """(minidl distribution, torch distribution, minidl parameters, torch parameters), parameters leaves."""
    cls, torch_cls, params, _, _ = CASES[case]
    ours = {k: minidl.tensor(v, requires_grad=True) for k, v in params.items()}
    theirs = {k: torch.tensor(v, requires_grad=True) for k, v in params.items()}
    return cls(**ours), torch_cls(**theirs), ours, theirs


def value_of(case, framework):
    value = CASES[case][3]
    integer = np.issubdtype(value.dtype, np.integer)
    return minidl.tensor(value) if framework == "minidl" else torch.tensor(value, dtype=torch.int64 if integer
                                                                          else torch.float64)


def assert_same_gradients(ours, theirs, out, torch_out):
    assert out.shape == tuple(torch_out.shape)
    np.testing.assert_allclose(out.detach().numpy(), torch_out.detach().numpy(), rtol=1e-9, atol=1e-12)
    weights = RNG.standard_normal(tuple(out.shape))
    (out * minidl.tensor(weights)).sum().backward()
    (torch_out * torch.tensor(weights)).sum().backward()
    for name in ours:  # no gradient (None) where the output does not depend on the parameter, as in PyTorch
        ours_grad, theirs_grad = ours[name].grad, theirs[name].grad
        assert (ours_grad is None) == (theirs_grad is None), f"gradient of {name}: {ours_grad} vs {theirs_grad}"
        if ours_grad is not None:
            np.testing.assert_allclose(ours_grad.numpy(), theirs_grad.numpy(), rtol=1e-7, atol=1e-10,
                                       err_msg=f"gradient of {name}")


@pytest.mark.parametrize("case", CASES)
def test_shapes_and_moments_match_pytorch(case):
    ours, theirs, _, _ = make(case)
    assert tuple(ours.batch_shape) == tuple(theirs.batch_shape)
    assert tuple(ours.event_shape) == tuple(theirs.event_shape)
    for name in ("mean", "mode", "variance", "stddev"):
        np.testing.assert_allclose(getattr(ours, name).detach().numpy(), getattr(theirs, name).detach().numpy(),
                                   rtol=1e-9, atol=1e-12, err_msg=name)
    for sample_shape in ((), (5,), (2, 3)):
        sample, expected = ours.sample(sample_shape), theirs.sample(sample_shape)
        assert sample.shape == tuple(expected.shape)
        assert str(sample.dtype).rpartition(".")[2] == str(expected.dtype).rpartition(".")[2]
        assert not sample.requires_grad


@pytest.mark.parametrize("case", CASES)
def test_log_prob_and_its_gradients_match_pytorch(case):
    ours, theirs, our_params, their_params = make(case)
    assert_same_gradients(our_params, their_params, ours.log_prob(value_of(case, "minidl")),
                          theirs.log_prob(value_of(case, "torch")))


@pytest.mark.parametrize("case", CASES)
def test_entropy_and_its_gradients_match_pytorch(case):
    ours, theirs, our_params, their_params = make(case)
    assert_same_gradients(our_params, their_params, ours.entropy(), theirs.entropy())


@pytest.mark.parametrize("case", [c for c, spec in CASES.items() if spec[4] is not None])
@pytest.mark.parametrize("method", ["cdf", "icdf"])
def test_cdf_and_icdf_match_pytorch(case, method):
    ours, theirs, our_params, their_params = make(case)
    value = CASES[case][4] if method == "icdf" else CASES[case][3]
    assert_same_gradients(our_params, their_params, getattr(ours, method)(minidl.tensor(value)),
                          getattr(theirs, method)(torch.tensor(value)))


def normal_noise(params, x):
    return (x - params["loc"]) / params["scale"]


# how each reparametrised sample is built from its noise: (noise from a sample, sample from noise), NumPy/torch
REPARAMETRISED = {
    "normal": (normal_noise, lambda p, e: p["loc"] + e * p["scale"]),
    "laplace": (normal_noise, lambda p, e: p["loc"] + e * p["scale"]),
    "uniform": (lambda p, x: (x - p["low"]) / (p["high"] - p["low"]),
                lambda p, u: p["low"] + u * (p["high"] - p["low"])),
    "exponential": (lambda p, x: x * p["rate"], lambda p, e: e / p["rate"]),
    "mvn_scale_tril": (lambda p, x: np.linalg.solve(p["scale_tril"], (x - p["loc"])[..., None])[..., 0],
                       lambda p, e: p["loc"] + (p["scale_tril"] @ e.unsqueeze(-1)).squeeze(-1)),
}


@pytest.mark.parametrize("case", REPARAMETRISED)
def test_rsample_gradients_match_pytorch_on_the_same_noise(case):
    ours, _, our_params, their_params = make(case)
    minidl.manual_seed(0)
    sample = ours.rsample((6,))
    assert sample.requires_grad
    noise_of, sample_of = REPARAMETRISED[case]
    noise = noise_of({k: v.detach().numpy() for k, v in our_params.items()}, sample.detach().numpy())
    their_sample = sample_of(their_params, torch.tensor(noise))
    assert_same_gradients(our_params, their_params, (sample * 1.5).sin(), (their_sample * 1.5).sin())


KL_PAIRS = [("normal", dict(loc=RNG.standard_normal((2, 3)), scale=positive(2, 3))),
            ("uniform", dict(low=np.array([-2.0, -0.5, 1.0]), high=np.array([1.5, 0.7, 4.5]))),
            ("exponential", dict(rate=positive(5))),
            ("laplace", dict(loc=RNG.standard_normal(4), scale=positive(4))),
            ("bernoulli_probs", dict(probs=RNG.uniform(0.1, 0.9, (3, 2)))),
            ("categorical_logits", dict(logits=RNG.standard_normal((2, 3, 5)))),
            ("one_hot_categorical", dict(logits=RNG.standard_normal((3, 4)))),
            ("mvn_scale_tril", dict(loc=RNG.standard_normal(3), scale_tril=LOWER[::-1].copy()))]


@pytest.mark.parametrize("case, q_params", KL_PAIRS, ids=[c for c, _ in KL_PAIRS])
def test_kl_divergence_and_its_gradients_match_pytorch(case, q_params):
    ours, theirs, our_params, their_params = make(case)
    q_ours = CASES[case][0](**{k: minidl.tensor(v) for k, v in q_params.items()})
    q_theirs = CASES[case][1](**{k: torch.tensor(v) for k, v in q_params.items()})
    assert_same_gradients(our_params, their_params, D.kl_divergence(ours, q_ours), TD.kl_divergence(theirs, q_theirs))


def test_kl_of_independent_normals_matches_pytorch():
    loc, scale = RNG.standard_normal((2, 3)), positive(2, 3)
    ours = D.Independent(D.Normal(minidl.tensor(loc), minidl.tensor(scale)), 1)
    theirs = TD.Independent(TD.Normal(torch.tensor(loc), torch.tensor(scale)), 1)
    q = D.Independent(D.Normal(minidl.zeros(3, dtype=minidl.float64), minidl.ones(3, dtype=minidl.float64)), 1)
    q_theirs = TD.Independent(TD.Normal(torch.zeros(3, dtype=torch.float64), torch.ones(3, dtype=torch.float64)), 1)
    np.testing.assert_allclose(D.kl_divergence(ours, q).numpy(), TD.kl_divergence(theirs, q_theirs).numpy(),
                               rtol=1e-12)
    value = RNG.standard_normal((4, 2, 3))
    np.testing.assert_allclose(ours.log_prob(minidl.tensor(value)).numpy(),
                               theirs.log_prob(torch.tensor(value)).numpy(), rtol=1e-12)
    np.testing.assert_allclose(ours.entropy().numpy(), theirs.entropy().numpy(), rtol=1e-12)
    assert (ours.batch_shape, ours.event_shape) == ((2,), (3,))


def test_kl_with_zero_probabilities_matches_pytorch():
    p, q = np.array([[0.0, 0.5, 0.5], [0.2, 0.3, 0.5]]), np.array([[0.5, 0.5, 0.0], [0.3, 0.3, 0.4]])
    ours = D.kl_divergence(D.Categorical(probs=minidl.tensor(p)), D.Categorical(probs=minidl.tensor(q)))
    theirs = TD.kl_divergence(TD.Categorical(probs=torch.tensor(p)), TD.Categorical(probs=torch.tensor(q)))
    np.testing.assert_allclose(ours.numpy(), theirs.numpy())
    bern = D.kl_divergence(D.Bernoulli(probs=minidl.tensor([0.0, 1.0, 0.3])), D.Bernoulli(minidl.tensor([0.2] * 3)))
    np.testing.assert_allclose(bern.numpy(), TD.kl_divergence(TD.Bernoulli(torch.tensor([0.0, 1.0, 0.3])),
                                                              TD.Bernoulli(torch.tensor([0.2] * 3))).numpy(), rtol=1e-5)
    inside = D.kl_divergence(D.Uniform(0.0, 1.0), D.Uniform(-1.0, 0.5))
    assert inside.item() == TD.kl_divergence(TD.Uniform(0.0, 1.0), TD.Uniform(-1.0, 0.5)).item() == float("inf")


def test_expand_matches_pytorch():
    ours, theirs, _, _ = make("categorical_probs")
    big, their_big = ours.expand((2, 3)), theirs.expand((2, 3))
    assert big.batch_shape == tuple(their_big.batch_shape)
    value = RNG.integers(0, 4, (2, 3))
    np.testing.assert_allclose(big.log_prob(minidl.tensor(value)).detach().numpy(),
                               their_big.log_prob(torch.tensor(value)).detach().numpy())
    assert big.sample((5,)).shape == (5, 2, 3)
    normal = D.Normal(minidl.tensor([0.0, 1.0]), 2.0).expand((4, 2))
    assert normal.batch_shape == (4, 2) and normal.rsample((3,)).shape == (3, 4, 2)
