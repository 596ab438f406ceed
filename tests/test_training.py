"""The training loop: it learns, and a run resumed from a checkpoint equals an uninterrupted one."""

import numpy as np
import pytest

import minidl
from minidl import nn
from minidl.data import DataLoader, TensorDataset
from minidl.training import evaluate, fit, plot_history


def _problem(seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((240, 6)).astype(np.float32)
    y = (x[:, 0] + x[:, 1] * x[:, 2] > 0).astype(np.int64)
    return TensorDataset(x[:200], y[:200]), TensorDataset(x[200:], y[200:])


def _setup():
    minidl.manual_seed(0)
    train, test = _problem()
    model = nn.Sequential(nn.Linear(6, 32), nn.ReLU(), nn.Dropout(0.2), nn.Linear(32, 2))
    optimizer = minidl.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    scheduler = minidl.optim.lr_scheduler.StepLR(optimizer, step_size=2, gamma=0.5)
    loader = DataLoader(train, batch_size=16, shuffle=True, seed=3)
    return model, optimizer, scheduler, loader, DataLoader(test, batch_size=64)


def test_fit_learns_and_records_history(tmp_path):
    model, optimizer, scheduler, loader, test_loader = _setup()
    history = fit(model, loader, optimizer, 6, scheduler=scheduler, test_loader=test_loader, progress=False)
    assert len(history["epoch_loss"]) == 6 and len(history["step_loss"]) == 6 * len(loader)
    assert history["epoch_loss"][-1] < 0.6 * history["epoch_loss"][0]
    assert evaluate(model, test_loader) > 0.8
    assert history["lr"] == [0.1, 0.1, 0.05, 0.05, 0.025, 0.025]
    figure = plot_history(history, tmp_path / "curve.png")
    assert figure.exists() and figure.stat().st_size > 1000


def test_resumed_run_reproduces_uninterrupted_losses_exactly(tmp_path):
    model, optimizer, scheduler, loader, _ = _setup()
    uninterrupted = fit(model, loader, optimizer, 5, scheduler=scheduler, progress=False)

    checkpoint = tmp_path / "run.npz"
    model, optimizer, scheduler, loader, _ = _setup()
    fit(model, loader, optimizer, 2, scheduler=scheduler, checkpoint=checkpoint, progress=False)
    minidl.manual_seed(12345)  # a "new process": every piece of state must come from the checkpoint
    model, optimizer, scheduler, loader, _ = _setup()
    minidl.manual_seed(999)
    resumed = fit(model, loader, optimizer, 5, scheduler=scheduler, checkpoint=checkpoint, resume=True,
                  progress=False)
    assert resumed["step_loss"] == uninterrupted["step_loss"]
    assert resumed["epoch_loss"] == uninterrupted["epoch_loss"]


def test_resume_without_checkpoint_file_starts_fresh(tmp_path):
    model, optimizer, scheduler, loader, _ = _setup()
    history = fit(model, loader, optimizer, 1, checkpoint=tmp_path / "none-yet.npz", resume=True, progress=False)
    assert len(history["epoch_loss"]) == 1
    assert (tmp_path / "none-yet.npz").exists()


@pytest.mark.parametrize("epochs", [40])
def test_digits_mlp_reaches_97_percent(epochs):
    pytest.importorskip("sklearn", reason="the digits come from scikit-learn's data files")
    from minidl.course.demos import digits_mlp
    result = digits_mlp.run(epochs=epochs, out_dir=None, progress=False)
    assert result["test_accuracy"] >= 0.97


def test_scheduler_can_step_after_every_optimizer_step():
    model, optimizer, _, loader, _ = _setup()
    steps = 3 * len(loader)
    scheduler = minidl.optim.lr_scheduler.LambdaLR(optimizer, lambda step: 1 - step / steps)
    history = fit(model, loader, optimizer, 3, scheduler=scheduler, scheduler_interval="step", progress=False)
    # lr is recorded at the end of each epoch: after len(loader), 2·len(loader), 3·len(loader) steps
    np.testing.assert_allclose(history["lr"], [0.1 * (1 - k / 3) for k in (1, 2, 3)], atol=1e-12)
    with pytest.raises(ValueError, match="scheduler_interval"):
        fit(model, loader, optimizer, 1, scheduler=scheduler, scheduler_interval="batch", progress=False)
