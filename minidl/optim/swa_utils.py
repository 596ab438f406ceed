"""Stochastic weight averaging, as ``torch.optim.swa_utils``: the averaging rules (a running mean of the
weights, or an exponential moving average) and ``SWALR``, which anneals each group's lr to a constant
``swa_lr``."""

from __future__ import annotations

import math

from minidl.core import no_grad
from minidl.optim.annealing import _per_group
from minidl.optim.scheduler_base import LRScheduler

__all__ = ["SWALR", "get_ema_multi_avg_fn", "get_swa_multi_avg_fn", "get_ema_avg_fn", "get_swa_avg_fn"]


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
