"""swa_utils.AveragedModel and update_bn against PyTorch's, from the same weights and batches."""

import numpy as np
import pytest

import minidl
from minidl.optim import swa_utils

torch = pytest.importorskip("torch", reason='PyTorch parity: pip install -e ".[torch]"')


def twin_models():
    """The same small network (with a batch norm) in minidl and in PyTorch."""
    minidl.manual_seed(0)
    ours = minidl.nn.Sequential(minidl.nn.Linear(4, 6), minidl.nn.BatchNorm1d(6), minidl.nn.ReLU(),
                                minidl.nn.Linear(6, 2))
    theirs = torch.nn.Sequential(torch.nn.Linear(4, 6), torch.nn.BatchNorm1d(6), torch.nn.ReLU(),
                                 torch.nn.Linear(6, 2)).double()
    theirs.load_state_dict({k: torch.from_numpy(v.numpy().astype(np.float64)) for k, v in ours.state_dict().items()})
    return ours.double(), theirs


def perturb(ours, theirs, rng):
    """Train-like changes: new weights and new batch-norm statistics, equal in both."""
    x = rng.standard_normal((8, 4))
    ours.train(), theirs.train()
    ours(minidl.tensor(x)), theirs(torch.from_numpy(x))
    with minidl.no_grad(), torch.no_grad():
        for (name, mine), their in zip(ours.named_parameters(), theirs.parameters()):
            step = rng.standard_normal(mine.shape)
            mine.add_(minidl.tensor(step)), their.add_(torch.from_numpy(step))


def assert_same_state(ours, theirs):
    mine, their = ours.state_dict(), theirs.state_dict()
    assert list(mine) == list(their)
    for key in mine:
        np.testing.assert_allclose(mine[key].numpy(), their[key].numpy(), rtol=1e-12, atol=1e-12, err_msg=key)


@pytest.mark.parametrize("use_buffers", [False, True])
@pytest.mark.parametrize("rule", ["swa", "ema", "avg_fn"])
def test_averaged_model_equals_pytorchs(rule, use_buffers):
    ours, theirs = twin_models()
    options = {"swa": ({}, {}),
               "ema": ({"multi_avg_fn": swa_utils.get_ema_multi_avg_fn(0.9)},
                       {"multi_avg_fn": torch.optim.swa_utils.get_ema_multi_avg_fn(0.9)}),
               "avg_fn": ({"avg_fn": swa_utils.get_ema_avg_fn(0.8)},
                          {"avg_fn": torch.optim.swa_utils.get_ema_avg_fn(0.8)})}[rule]
    averaged = swa_utils.AveragedModel(ours, use_buffers=use_buffers, **options[0])
    reference = torch.optim.swa_utils.AveragedModel(theirs, use_buffers=use_buffers, **options[1])
    rng = np.random.default_rng(1)
    for _ in range(4):
        perturb(ours, theirs, rng)
        averaged.update_parameters(ours)
        reference.update_parameters(theirs)
        assert_same_state(averaged, reference)
    x = rng.standard_normal((3, 4))
    averaged.eval(), reference.eval()
    np.testing.assert_allclose(averaged(minidl.tensor(x)).detach().numpy(),
                               reference(torch.from_numpy(x)).detach().numpy(), rtol=1e-12)


def test_update_bn_recomputes_the_statistics_as_pytorch():
    ours, theirs = twin_models()
    rng = np.random.default_rng(2)
    batches = [rng.standard_normal((5, 4)) for _ in range(3)]
    ours.eval(), theirs.eval()
    swa_utils.update_bn([(minidl.tensor(b), 0) for b in batches], ours)
    torch.optim.swa_utils.update_bn([(torch.from_numpy(b), 0) for b in batches], theirs)
    assert_same_state(ours, theirs)
    assert not ours.training and ours[1].momentum == 0.1


def test_averaged_model_refuses_a_different_model():
    averaged = swa_utils.AveragedModel(minidl.nn.Linear(2, 2))
    with pytest.raises(ValueError, match="update_parameters: the model has 4 tensors to average, the averaged copy 2"):
        averaged.update_parameters(minidl.nn.Sequential(minidl.nn.Linear(2, 2), minidl.nn.Linear(2, 2)))
    with pytest.raises(TypeError, match="AveragedModel: model must be an nn.Module"):
        swa_utils.AveragedModel(lambda x: x)
