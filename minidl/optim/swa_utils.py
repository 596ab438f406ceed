"""Stochastic weight averaging, as ``torch.optim.swa_utils``: the averaging rules (a running mean of the
weights, or an exponential moving average), ``AveragedModel`` (a copy of a model that keeps the average),
``update_bn`` (batch-norm statistics recomputed for averaged weights) and ``SWALR``, which anneals each
group's lr to a constant ``swa_lr``."""

from __future__ import annotations

import copy
import itertools
import math

import numpy as np

from minidl.core import creation, no_grad
from minidl.nn.module import Module
from minidl.nn.norm import _BatchNorm
from minidl.optim.annealing import _per_group
from minidl.optim.scheduler_base import LRScheduler

__all__ = ["AveragedModel", "SWALR", "update_bn", "get_ema_multi_avg_fn", "get_swa_multi_avg_fn", "get_ema_avg_fn",
           "get_swa_avg_fn"]


def _check_decay(decay, where):
    if not 0.0 <= decay <= 1.0:
        raise ValueError(f"{where}: invalid decay {decay!r}; decay must be in [0, 1]")


def get_ema_avg_fn(decay=0.999):
    """The exponential moving average of one tensor: ``avg_fn(ema, current, n) = decay·ema + (1 − decay)·current``."""
    _check_decay(decay, "get_ema_avg_fn")

    def ema_update(ema_param, current_param, num_averaged):
        with no_grad():
            return decay * ema_param + (1 - decay) * current_param
    return ema_update


def get_swa_avg_fn():
    """The running mean of one tensor: ``avg_fn(avg, current, n) = avg + (current − avg)/(n + 1)``."""

    def swa_update(averaged_param, current_param, num_averaged):
        with no_grad():
            return averaged_param + (current_param - averaged_param) / (num_averaged + 1)
    return swa_update


def get_ema_multi_avg_fn(decay=0.999):
    """The exponential moving average over lists of tensors, in place: ema ← ema + (1 − decay)·(current − ema)
    (integer tensors: ema ← decay·ema + (1 − decay)·current, truncated, as PyTorch)."""
    _check_decay(decay, "get_ema_multi_avg_fn")

    def ema_update(ema_param_list, current_param_list, _num_averaged):
        with no_grad():
            for ema, current in zip(ema_param_list, current_param_list):
                if ema.is_floating_point():
                    ema.lerp_(current, 1 - decay)
                else:
                    ema.copy_(ema * decay + current * (1 - decay))
    return ema_update


def get_swa_multi_avg_fn():
    """The running mean over lists of tensors, in place: avg ← avg + (current − avg)/(n + 1)."""

    def swa_update(averaged_param_list, current_param_list, num_averaged):
        with no_grad():
            for averaged, current in zip(averaged_param_list, current_param_list):
                averaged.copy_(averaged + (current - averaged) / (num_averaged + 1))
    return swa_update


class AveragedModel(Module):
    """A deep copy of ``model`` whose weights are the average of the weights it was shown.

    ``update_parameters(model)``: the first call copies; later calls average in place, by
    ``multi_avg_fn(averaged_list, current_list, n)`` or ``avg_fn(averaged, current, n)`` (default: the
    running mean, ``get_swa_multi_avg_fn``), ``n`` being ``n_averaged``, the count kept as a buffer. With
    ``use_buffers=False`` the buffers (batch-norm statistics) are copied from ``model``, not averaged.
    ``forward`` calls the averaged copy.
    """

    def __init__(self, model, device=None, avg_fn=None, multi_avg_fn=None, use_buffers=False):
        super().__init__()
        if not isinstance(model, Module):
            raise TypeError(f"AveragedModel: model must be an nn.Module, got {type(model).__name__}")
        self.module = copy.deepcopy(model)
        if device is not None:
            self.module.to(device)
        self.register_buffer("n_averaged", creation.tensor(0, dtype=np.int64, device=device or "cpu"))
        self.avg_fn, self.multi_avg_fn, self.use_buffers = avg_fn, multi_avg_fn, use_buffers

    def forward(self, *args, **kwargs):
        return self.module(*args, **kwargs)

    def _averaged_tensors(self, model):
        if self.use_buffers:
            return itertools.chain(model.parameters(), model.buffers())
        return model.parameters()

    def update_parameters(self, model):
        averaged = [tensor.detach() for tensor in self._averaged_tensors(self.module)]
        current = [tensor.detach() for tensor in self._averaged_tensors(model)]
        if len(current) != len(averaged):
            raise ValueError(f"AveragedModel.update_parameters: the model has {len(current)} tensors to average, "
                             f"the averaged copy {len(averaged)}; pass the model this AveragedModel was built from")
        current = [tensor.to(mine.device) for tensor, mine in zip(current, averaged)]
        count = int(self.n_averaged.item())
        with no_grad():
            if count == 0:
                for mine, theirs in zip(averaged, current):
                    mine.copy_(theirs)
            elif self.multi_avg_fn is not None or self.avg_fn is None:
                (self.multi_avg_fn or get_swa_multi_avg_fn())(averaged, current, self.n_averaged)
            else:
                for mine, theirs in zip(averaged, current):
                    mine.copy_(self.avg_fn(mine, theirs, self.n_averaged))
            if not self.use_buffers:
                for mine, theirs in zip(self.module.buffers(), model.buffers()):
                    mine.detach().copy_(theirs.detach().to(mine.device))
            self.n_averaged.add_(1)


def update_bn(loader, model, device=None):
    """Recompute every batch norm's running statistics of ``model`` with one pass over ``loader``: the
    statistics are reset and averaged over all batches (momentum None), then the momenta restored.
    A batch that is a list or tuple contributes its first element."""
    momenta = {module: module.momentum for module in model.modules() if isinstance(module, _BatchNorm)}
    if not momenta:
        return
    was_training = model.training
    model.train()
    for module in momenta:
        module.reset_running_stats()
        module.momentum = None
    with no_grad():
        for batch in loader:
            inputs = batch[0] if isinstance(batch, (list, tuple)) else batch
            model(inputs if device is None else inputs.to(device))
    for module, momentum in momenta.items():
        module.momentum = momentum
    model.train(was_training)


class SWALR(LRScheduler):
    """``SWALR(optimizer, swa_lr, anneal_epochs=10, anneal_strategy='cos', last_epoch=-1)``.

    Moves each group's lr from its current value to ``swa_lr`` over ``anneal_epochs`` steps and keeps it
    there. At step k, with t_k = clamp(k / max(1, anneal_epochs), 0, 1) and α(t) = (1 − cos πt)/2 ('cos')
    or t ('linear'), the lr the annealing started from is recovered from the current one,
    lr₀ = (lr − α(t_{k−1})·swa_lr)/(1 − α(t_{k−1})), and the new lr is swa_lr·α(t_k) + lr₀·(1 − α(t_k))
    (PyTorch's rule: it follows changes other schedulers make to the lr).
    """

    def __init__(self, optimizer, swa_lr, anneal_epochs=10, anneal_strategy="cos", last_epoch=-1):
        for value, group in zip(_per_group(swa_lr, optimizer.param_groups, "swa_lr"), optimizer.param_groups):
            group["swa_lr"] = value
        if anneal_strategy not in ("cos", "linear"):
            raise ValueError(f"SWALR: invalid anneal_strategy {anneal_strategy!r}; anneal_strategy must be 'cos' "
                             "or 'linear'")
        if isinstance(anneal_epochs, bool) or not isinstance(anneal_epochs, int) or anneal_epochs < 0:
            raise ValueError(f"SWALR: invalid anneal_epochs {anneal_epochs!r}; anneal_epochs must be an integer "
                             ">= 0")
        self._anneal_strategy, self.anneal_epochs = anneal_strategy, anneal_epochs
        super().__init__(optimizer, last_epoch)

    def anneal_func(self, t):
        """α(t): how far along the way to swa_lr, at the fraction t of the annealing."""
        return (1 - math.cos(math.pi * t)) / 2 if self._anneal_strategy == "cos" else t

    def get_lr(self):
        step = self._step_count - 1
        if self.anneal_epochs == 0:
            step = max(1, step)
        previous_alpha = self.anneal_func(max(0, min(1, (step - 1) / max(1, self.anneal_epochs))))
        alpha = self.anneal_func(max(0, min(1, step / max(1, self.anneal_epochs))))
        rates = []
        for group in self.optimizer.param_groups:
            start = group["swa_lr"] if previous_alpha == 1 else \
                (group["lr"] - previous_alpha * group["swa_lr"]) / (1 - previous_alpha)
            rates.append(group["swa_lr"] * alpha + start * (1 - alpha))
        return rates

    def closed_form(self, t):
        """No closed form: ``step(epoch)`` (SequentialLR at its milestones) takes the next annealing step,
        which counts the calls to ``step()``, as PyTorch."""
        return self.get_lr()
