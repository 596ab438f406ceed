"""PyTorch-style programs that run unchanged on minidl: the same code runs once with ``torch`` and
once with ``minidl`` as ``torch`` (and ``nn``, ``F``, ``DataLoader`` from the same places), with the
same initial weights, and must give the same losses.

Each program is a function of the library; it builds its model, copies in the weights it is given
(PyTorch's initial ones) and returns the losses of a short training run.
"""

import numpy as np
import pytest

import minidl


def mlp_quickstart(torch, weights=None):
    """The shape of PyTorch's quickstart: device checks, utils.data, a Sequential MLP, SGD."""
    from importlib import import_module
    nn = torch.nn
    data = import_module(f"{torch.__name__}.utils.data")
    device = "cuda" if torch.cuda.is_available() else "cpu"
    if torch.backends.mps.is_available():
        device = "mps"
    torch.manual_seed(0)
    features = torch.tensor(np.random.default_rng(0).standard_normal((64, 10)).astype(np.float32))
    labels = torch.tensor(np.random.default_rng(1).integers(0, 3, 64))
    loader = data.DataLoader(data.TensorDataset(features, labels), batch_size=16, shuffle=False)
    model = nn.Sequential(nn.Linear(10, 32), nn.ReLU(), nn.Linear(32, 3)).to(device)
    if weights is not None:
        model.load_state_dict({key: torch.tensor(value) for key, value in weights.items()})
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    scaler = torch.amp.GradScaler("cuda", enabled=False)
    losses = []
    for epoch in range(3):
        for x, y in loader:
            x, y = x.to(device), y.to(device)
            with torch.amp.autocast(device_type="cpu", enabled=False):
                loss = nn.functional.cross_entropy(model(x), y)
            optimizer.zero_grad()
            scaler.scale(loss).backward()
            scaler.step(optimizer)
            scaler.update()
            losses.append(f"{loss.item():.5f}")
    return losses, {key: value.detach().numpy() for key, value in model.state_dict().items()}


def positional_features(torch, weights=None):
    """Sinusoidal features, a causal mask from tril and masked_fill, t() and contiguous()."""
    nn = torch.nn
    torch.manual_seed(0)
    positions = torch.arange(0, 8).float().unsqueeze(1)
    scale = torch.exp(torch.arange(0, 4, 2).float() * (-np.log(10000.0) / 4))
    encoding = torch.cat([torch.sin(positions * scale), torch.cos(positions * scale)], dim=1)
    layer = nn.Linear(4, 4)
    if weights is not None:
        layer.load_state_dict({key: torch.tensor(value) for key, value in weights.items()})
    optimizer = torch.optim.Adam(layer.parameters(), lr=0.01)
    causal = torch.tril(torch.ones(8, 8)) == 0
    losses = []
    for _ in range(5):
        h = layer(encoding)
        scores = (h @ h.t().contiguous()).masked_fill(causal, float("-inf"))
        loss = (scores.softmax(-1) @ h).pow(2).mean() + h.sinh().cosh().mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(f"{loss.item():.5f}")
    return losses, {key: value.detach().numpy() for key, value in layer.state_dict().items()}


PROGRAMS = {"mlp_quickstart": mlp_quickstart, "positional_features": positional_features}


@pytest.mark.parametrize("name", PROGRAMS)
def test_the_program_runs_on_minidl(name):
    losses, _ = PROGRAMS[name](minidl)
    assert len(losses) > 1 and all(np.isfinite(float(loss)) for loss in losses)


@pytest.mark.parametrize("name", PROGRAMS)
def test_the_program_gives_pytorchs_losses(name):
    torch = pytest.importorskip("torch", reason='parity needs PyTorch: pip install -e ".[torch]"')
    program = PROGRAMS[name]
    start = program(torch)[1]  # one set of weights (PyTorch's after a run) as the common start
    theirs, _ = program(torch, weights=start)
    ours, _ = program(minidl, weights=start)
    np.testing.assert_allclose(np.array(ours, float), np.array(theirs, float), rtol=2e-4, atol=2e-5)
