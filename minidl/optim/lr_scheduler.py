"""Learning-rate schedulers, named and behaving as in ``torch.optim.lr_scheduler``.

Create the scheduler after the optimizer and call ``scheduler.step()`` once per
epoch (or per iteration), **after** ``optimizer.step()``::

    optimizer = SGD(model.parameters(), lr=0.1)
    scheduler = StepLR(optimizer, step_size=30, gamma=0.1)
    for epoch in range(100):
        train_one_epoch(model, optimizer)   # calls optimizer.step()
        scheduler.step()

The base class is in :mod:`minidl.optim.scheduler_base`. This module holds the
step-wise schedulers (``StepLR``, ``MultiStepLR``, ``ExponentialLR``,
``ConstantLR``, ``LinearLR``: they update the current rate multiplicatively, as
PyTorch does, so they chain with another scheduler on the same optimizer),
``LambdaLR``, and the combinations ``SequentialLR`` and ``ChainedScheduler``;
the curves (cosine, warm restarts, one cycle, polynomial) come from
:mod:`minidl.optim.annealing` and ``ReduceLROnPlateau`` from
:mod:`minidl.optim.plateau`.
"""

from __future__ import annotations

import bisect

from minidl.optim.annealing import CosineAnnealingLR, CosineAnnealingWarmRestarts, OneCycleLR, PolynomialLR
from minidl.optim.cyclic import CyclicLR, MultiplicativeLR
from minidl.optim.plateau import ReduceLROnPlateau
from minidl.optim.scheduler_base import LambdaScheduler, LRScheduler

__all__ = ["LRScheduler", "StepLR", "MultiStepLR", "ExponentialLR", "ConstantLR", "LinearLR", "LambdaLR",
           "SequentialLR", "ChainedScheduler", "CosineAnnealingLR", "CosineAnnealingWarmRestarts", "OneCycleLR",
           "PolynomialLR", "ReduceLROnPlateau", "linear_warmup", "MultiplicativeLR", "CyclicLR"]


class StepLR(LRScheduler):
    """Multiply the lr by ``gamma`` every ``step_size`` epochs: lr_t = base_lr · gamma^⌊t / step_size⌋."""

    def __init__(self, optimizer, step_size, gamma=0.1, last_epoch=-1):
        if not isinstance(step_size, int) or step_size < 1:
            raise ValueError(f"StepLR: invalid step_size {step_size!r}; step_size must be an integer >= 1")
        self.step_size = step_size
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        if self.last_epoch == 0 or self.last_epoch % self.step_size != 0:
            return self._current_lrs()
        return [lr * self.gamma for lr in self._current_lrs()]

    def closed_form(self, t):
        return [base_lr * self.gamma ** (t // self.step_size) for base_lr in self.base_lrs]


class MultiStepLR(LRScheduler):
    """Multiply the lr by ``gamma`` at each of the ``milestones``: lr_t = base_lr · gamma^(milestones ≤ t)."""

    def __init__(self, optimizer, milestones, gamma=0.1, last_epoch=-1):
        if any(isinstance(m, bool) or not isinstance(m, int) for m in milestones):
            raise ValueError(f"MultiStepLR: milestones must be integers, got {list(milestones)!r}")
        self.milestones = sorted(milestones)  # a repeated milestone multiplies by gamma twice, as in PyTorch
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        hits = self.milestones.count(self.last_epoch)
        return [lr * self.gamma ** hits for lr in self._current_lrs()]

    def closed_form(self, t):
        return [base_lr * self.gamma ** bisect.bisect_right(self.milestones, t) for base_lr in self.base_lrs]


class ExponentialLR(LRScheduler):
    """Multiply the lr by ``gamma`` every step: lr_t = base_lr · gamma^t."""

    def __init__(self, optimizer, gamma, last_epoch=-1):
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        if self.last_epoch == 0:
            return self._current_lrs()
        return [lr * self.gamma for lr in self._current_lrs()]

    def closed_form(self, t):
        return [base_lr * self.gamma ** t for base_lr in self.base_lrs]


class ConstantLR(LRScheduler):
    """lr = base_lr · ``factor`` for the first ``total_iters`` steps, then base_lr."""

    def __init__(self, optimizer, factor=1.0 / 3, total_iters=5, last_epoch=-1):
        if not 0 <= factor <= 1:
            raise ValueError(f"ConstantLR: constant multiplicative factor expected to be between 0 and 1, got {factor}")
        self.factor, self.total_iters = factor, total_iters
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        if self.last_epoch == 0:
            return [lr * self.factor for lr in self._current_lrs()]
        if self.last_epoch != self.total_iters:
            return self._current_lrs()
        return [lr / self.factor for lr in self._current_lrs()]

    def closed_form(self, t):
        return [base_lr * (self.factor if t < self.total_iters else 1.0) for base_lr in self.base_lrs]


class LambdaLR(LambdaScheduler):
    """lr_t = base_lr · lr_lambda(t); ``lr_lambda`` is one function or a list with one per group.

    ``state_dict()`` saves plain functions as None (they cannot be pickled
    reliably) and the attributes of callable objects, as PyTorch does.
    """

    def get_lr(self):
        return self.closed_form(self.last_epoch)

    def closed_form(self, t):
        return [base_lr * function(t) for function, base_lr in zip(self.lr_lambdas, self.base_lrs)]


class LinearLR(LRScheduler):
    """Linear warm-up of the lr's factor: lr_t = base_lr · (s + (e − s)·min(t, total_iters) / total_iters).

    ``s = start_factor`` in (0, 1], ``e = end_factor`` in [0, 1]. Updated
    multiplicatively from the current lr exactly as PyTorch does (so it chains).
    """

    def __init__(self, optimizer, start_factor=1.0 / 3, end_factor=1.0, total_iters=5, last_epoch=-1):
        if not 0 < start_factor <= 1:
            raise ValueError(f"LinearLR: invalid start_factor {start_factor!r}; start_factor must be in (0, 1]")
        if not 0 <= end_factor <= 1:
            raise ValueError(f"LinearLR: invalid end_factor {end_factor!r}; end_factor must be in [0, 1]")
        if not isinstance(total_iters, int) or total_iters < 1:
            raise ValueError(f"LinearLR: invalid total_iters {total_iters!r}; total_iters must be an integer >= 1")
        self.start_factor = start_factor
        self.end_factor = end_factor
        self.total_iters = total_iters
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        t, s, e = self.last_epoch, self.start_factor, self.end_factor
        if t == 0:
            return [lr * s for lr in self._current_lrs()]
        if self._initial or t > self.total_iters:
            return self._current_lrs()
        # factor(t) / factor(t − 1), with factor(t) = s + (e − s)·t / total_iters
        ratio = 1.0 + (e - s) / (self.total_iters * s + (t - 1) * (e - s))
        return [lr * ratio for lr in self._current_lrs()]

    def closed_form(self, t):
        s, e = self.start_factor, self.end_factor
        return [base_lr * (s + (e - s) * min(self.total_iters, t) / self.total_iters) for base_lr in self.base_lrs]


class SequentialLR(LRScheduler):
    """One scheduler after another: ``schedulers[i]`` runs from ``milestones[i-1]`` on (typically a warm-up,
    then a decay). At a milestone the next scheduler starts from its own step 0."""

    def __init__(self, optimizer, schedulers, milestones, last_epoch=-1):
        if len(schedulers) < 1:
            raise ValueError("SequentialLR: expects at least one scheduler")
        for number, scheduler in enumerate(schedulers):
            if getattr(scheduler, "optimizer", None) is not optimizer:
                raise ValueError(f"SequentialLR: scheduler {number} ({type(scheduler).__name__}) belongs to another "
                                 "optimizer; every scheduler must share the one given")
        if len(milestones) != len(schedulers) - 1:
            raise ValueError(f"SequentialLR: expects {len(schedulers) - 1} milestones (one fewer than the schedulers), "
                             f"got {len(milestones)}")
        self.optimizer, self._schedulers, self._milestones = optimizer, list(schedulers), list(milestones)
        self.last_epoch = last_epoch + 1
        for group in optimizer.param_groups:  # undo the first steps the schedulers took when they were built
            group["lr"] = group["initial_lr"]
        for scheduler in self._schedulers:
            scheduler.last_epoch -= 1
        first = self._schedulers[0]
        first._initial, first._step_count = True, 0
        first.step()
        first._initial = False
        self._last_lr = first.get_last_lr()

    def step(self):
        self.last_epoch += 1
        index = bisect.bisect_right(self._milestones, self.last_epoch)
        scheduler = self._schedulers[index]
        if index > 0 and self._milestones[index - 1] == self.last_epoch:
            scheduler._update_lr(0)
        else:
            scheduler.step()
        self._last_lr = scheduler.get_last_lr()

    def state_dict(self):
        state = {key: value for key, value in vars(self).items() if key not in ("optimizer", "_schedulers")}
        state["_schedulers"] = [scheduler.state_dict() for scheduler in self._schedulers]
        return state

    def load_state_dict(self, state_dict):
        state = dict(state_dict)
        for scheduler, saved in zip(self._schedulers, state.pop("_schedulers")):
            scheduler.load_state_dict(saved)
        self.__dict__.update(state)


class ChainedScheduler(LRScheduler):
    """Several schedulers stepped together on one optimizer, each changing the current rate in turn."""

    def __init__(self, schedulers, optimizer=None):
        if len(schedulers) < 1:
            raise ValueError("ChainedScheduler: expects at least one scheduler")
        optimizer = optimizer or schedulers[0].optimizer
        for number, scheduler in enumerate(schedulers):
            if scheduler.optimizer is not optimizer:
                raise ValueError(f"ChainedScheduler: scheduler {number} ({type(scheduler).__name__}) belongs to "
                                 "another optimizer")
        self.optimizer, self._schedulers = optimizer, list(schedulers)
        self._last_lr = self._current_lrs()

    def step(self):
        for scheduler in self._schedulers:
            scheduler.step()
        self._last_lr = self._current_lrs()

    state_dict, load_state_dict = SequentialLR.state_dict, SequentialLR.load_state_dict


def linear_warmup(optimizer, warmup_steps, total_steps):
    """A LambdaLR that warms up linearly from 0 and then decays linearly to 0.

    The lr factor at step t is ``t / warmup_steps`` for t < warmup_steps, then
    ``max(0, (total_steps − t) / (total_steps − warmup_steps))``: 0 at t = 0,
    1 at t = warmup_steps, 0 from t = total_steps on (the same schedule as
    Hugging Face's ``get_linear_schedule_with_warmup``). Call ``step()`` once
    per optimizer step; ``warmup_steps=0`` starts at the full lr.
    """
    if not isinstance(warmup_steps, int) or warmup_steps < 0:
        raise ValueError(f"linear_warmup: invalid warmup_steps {warmup_steps!r}; warmup_steps must be an "
                         "integer >= 0")
    if not isinstance(total_steps, int) or total_steps < max(warmup_steps, 1):
        raise ValueError(f"linear_warmup: invalid total_steps {total_steps!r}; total_steps must be an integer "
                         f">= warmup_steps ({warmup_steps}) and >= 1")

    def factor(step):
        if step < warmup_steps:
            return step / warmup_steps
        return max(0.0, (total_steps - step) / max(1, total_steps - warmup_steps))

    return LambdaLR(optimizer, factor)
