"""nn.utils.parameters_to_vector / vector_to_parameters, as in PyTorch."""

import numpy as np
import pytest

import minidl
from minidl import nn
from minidl.core.errors import ShapeError
from minidl.nn.utils import parameters_to_vector, vector_to_parameters


def test_round_trip_and_order():
    model = nn.Sequential(nn.Linear(3, 2), nn.Linear(2, 1))
    vec = parameters_to_vector(model.parameters())
    expected = np.concatenate([p.detach().numpy().ravel() for p in model.parameters()])
    np.testing.assert_array_equal(vec.detach().numpy(), expected)
    vector_to_parameters(minidl.arange(vec.numel(), dtype=minidl.float32), model.parameters())
    np.testing.assert_array_equal(parameters_to_vector(model.parameters()).detach().numpy(), np.arange(11, dtype=np.float32))
    assert model[0].weight.shape == (2, 3) and model[0].weight.requires_grad


def test_gradient_flows_through_the_vector():
    model = nn.Linear(2, 2)
    (parameters_to_vector(model.parameters()) ** 2).sum().backward()
    np.testing.assert_allclose(model.weight.grad.numpy(), 2 * model.weight.detach().numpy())


def test_bad_vectors():
    params = [nn.Parameter(minidl.zeros(2, 3)), nn.Parameter(minidl.zeros(4))]
    with pytest.raises(ShapeError, match="vec has 5 values .*hold 10"):
        vector_to_parameters(minidl.zeros(5), params)
    with pytest.raises(ShapeError, match="1-D"):
        vector_to_parameters(minidl.zeros(2, 5), params)
    with pytest.raises(TypeError, match="must be a Tensor"):
        vector_to_parameters([0.0] * 10, params)


def test_parity_with_torch():
    torch = pytest.importorskip("torch", reason='parity needs PyTorch: pip install -e ".[torch]"')
    theirs = torch.nn.Linear(3, 2)
    ours = nn.Linear(3, 2)
    ours.load_state_dict({k: minidl.tensor(v.detach().numpy()) for k, v in theirs.state_dict().items()})
    np.testing.assert_array_equal(parameters_to_vector(ours.parameters()).detach().numpy(),
                                  torch.nn.utils.parameters_to_vector(theirs.parameters()).detach().numpy())
