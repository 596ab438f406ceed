"""A small training loop for classifiers: progress bar, evaluation, resumable checkpoints, plots.

``fit`` runs epochs of (zero_grad, forward, loss, backward, step) with a tqdm
progress bar. With ``checkpoint=path`` it saves everything a run depends on
after every epoch — model, optimizer, scheduler, data loader order, minidl's
random generator and the history so far — and ``resume=True`` continues from
that file, so an interrupted run ends with exactly the losses of an
uninterrupted one.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from minidl.core import no_grad
from minidl.core.creation import get_rng_state, set_rng_state
from minidl.io import load, save
from minidl.nn import functional as F


def evaluate(model, loader, device=None):
    """Classification accuracy of ``model`` on the batches of ``loader`` (eval mode, no graph)."""
    was_training = model.training
    model.eval()
    correct = total = 0
    with no_grad():
        for inputs, targets in loader:
            if device is not None:
                inputs, targets = inputs.to(device), targets.to(device)
            predictions = model(inputs).argmax(dim=-1)
            correct += int((predictions == targets).sum().item())
            total += targets.shape[0]
    model.train(was_training)
    return correct / max(total, 1)


def fit(model, train_loader, optimizer, epochs, loss_fn=F.cross_entropy, scheduler=None, test_loader=None,
        checkpoint=None, resume=False, progress=True, device=None, description="train", scheduler_interval="epoch"):
    """Train for ``epochs`` epochs; returns the history dict.

    History: ``step_loss`` (every step), ``epoch_loss`` (mean per epoch), ``test_accuracy``
    (per epoch, when ``test_loader`` is given) and ``lr`` (per epoch). ``scheduler.step()``
    is called once per epoch, or after every optimizer step with ``scheduler_interval="step"``
    (for schedules counted in steps, such as a linear warmup).
    """
    if scheduler_interval not in ("epoch", "step"):
        raise ValueError(f"fit: scheduler_interval must be 'epoch' or 'step', got {scheduler_interval!r}")
    history = {"step_loss": [], "epoch_loss": [], "test_accuracy": [], "lr": []}
    start = 0
    if resume and checkpoint is not None and os.path.exists(checkpoint):
        start, history = _restore(checkpoint, model, optimizer, scheduler, train_loader)
    bar = tqdm(total=(epochs - start) * len(train_loader), desc=description, disable=not progress,
               unit="step", leave=False)
    model.train()
    for epoch in range(start, epochs):
        losses = []
        for inputs, targets in train_loader:
            if device is not None:
                inputs, targets = inputs.to(device), targets.to(device)
            optimizer.zero_grad()
            loss = loss_fn(model(inputs), targets)
            loss.backward()
            optimizer.step()
            if scheduler is not None and scheduler_interval == "step":
                scheduler.step()
            losses.append(loss.item())
            bar.update(1)
            bar.set_postfix(epoch=epoch + 1, loss=f"{losses[-1]:.4f}", refresh=False)
        history["step_loss"].extend(losses)
        history["epoch_loss"].append(float(np.mean(losses)))
        history["lr"].append(optimizer.param_groups[0]["lr"])
        if test_loader is not None:
            history["test_accuracy"].append(evaluate(model, test_loader, device))
        if scheduler is not None and scheduler_interval == "epoch":
            scheduler.step()
        if checkpoint is not None:
            _store(checkpoint, epoch + 1, history, model, optimizer, scheduler, train_loader)
    bar.close()
    return history


def _store(path, epoch, history, model, optimizer, scheduler, loader):
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    save({"epoch": epoch, "history": history, "model": model.state_dict(), "optimizer": optimizer.state_dict(),
          "scheduler": None if scheduler is None else scheduler.state_dict(), "loader": loader.state_dict(),
          "rng": get_rng_state()}, path)


def _restore(path, model, optimizer, scheduler, loader):
    """Load every part of the checkpoint, or none: on any failure the model, optimizer, scheduler,
    loader and random generator are put back as they were and the error names the checkpoint."""
    state = load(path)
    missing = [key for key in ("epoch", "history", "model", "optimizer", "scheduler", "loader", "rng")
               if key not in state] if isinstance(state, dict) else ["every key"]
    if missing:
        raise ValueError(f"fit: cannot resume from {path}: it is not a checkpoint of fit() (missing {missing})")
    parts = [(model, state["model"]), (optimizer, state["optimizer"]), (loader, state["loader"])]
    if scheduler is not None and state["scheduler"] is not None:
        parts.append((scheduler, state["scheduler"]))
    before = [(part, _snapshot(part.state_dict())) for part, _ in parts]
    rng_before = get_rng_state()
    try:
        for part, saved in parts:
            part.load_state_dict(saved)
        set_rng_state(state["rng"])
        history = {key: list(values) for key, values in state["history"].items()}
        epoch = int(state["epoch"])
    except Exception as error:
        for part, saved in before:
            part.load_state_dict(saved)
        set_rng_state(rng_before)
        raise RuntimeError(f"fit: cannot resume from {path}; nothing was changed. "
                           f"{type(error).__name__}: {error}") from error
    return epoch, history


def _snapshot(state):
    """A copy of a state dict that later training steps cannot change."""
    if isinstance(state, dict):
        return type(state)((key, _snapshot(value)) for key, value in state.items())
    if isinstance(state, (list, tuple)):
        return type(state)(_snapshot(value) for value in state)
    if hasattr(state, "detach"):
        return state.detach().clone()
    return state.copy() if hasattr(state, "copy") else state


def plot_history(history, path, title="training"):
    """Save the loss curve (and test accuracy, if recorded) as a PNG; returns the path."""
    from matplotlib.figure import Figure
    figure = Figure(figsize=(8, 3.2))
    loss_axes = figure.add_subplot(1, 2, 1)
    steps = np.arange(1, len(history["step_loss"]) + 1)
    loss_axes.plot(steps, history["step_loss"], linewidth=0.6, alpha=0.5, label="step")
    per_epoch = len(history["step_loss"]) // max(len(history["epoch_loss"]), 1)
    loss_axes.plot(np.arange(1, len(history["epoch_loss"]) + 1) * per_epoch, history["epoch_loss"], marker="o",
                   label="epoch mean")
    loss_axes.set(xlabel="step", ylabel="loss", title=f"{title}: loss", yscale="log")
    loss_axes.legend()
    if history.get("test_accuracy"):
        accuracy_axes = figure.add_subplot(1, 2, 2)
        accuracy_axes.plot(np.arange(1, len(history["test_accuracy"]) + 1), history["test_accuracy"], marker="o")
        accuracy_axes.set(xlabel="epoch", ylabel="accuracy", title=f"{title}: test accuracy")
    figure.tight_layout()
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=110)
    return path
