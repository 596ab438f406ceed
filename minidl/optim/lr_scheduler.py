"""Learning-rate schedulers, named and behaving as in ``torch.optim.lr_scheduler``.

Create the scheduler after the optimizer and call ``scheduler.step()`` once per
epoch (or per iteration), **after** ``optimizer.step()``::

    optimizer = SGD(model.parameters(), lr=0.1)
    scheduler = StepLR(optimizer, step_size=30, gamma=0.1)
    for epoch in range(100):
        train_one_epoch(model, optimizer)   # calls optimizer.step()
        scheduler.step()

A scheduler writes ``group["lr"]`` of every parameter group; ``last_epoch``
counts its steps (0 right after construction) and ``get_last_lr()`` lists the
rates it set last. On construction each group gets ``"initial_lr"`` (its lr
then), from which ``base_lrs`` is read. ``StepLR`` and ``LinearLR`` update the
current rate multiplicatively, as PyTorch does, so they can be chained with
another scheduler on the same optimizer; ``CosineAnnealingLR`` and ``LambdaLR``
compute the rate from ``base_lrs`` in closed form.
"""

from __future__ import annotations

import math
import types

from minidl.optim.optimizer import Optimizer


class LRScheduler:
    """Base class: subclasses implement ``get_lr()``, the rates for ``self.last_epoch``."""

    def __init__(self, optimizer, last_epoch=-1):
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"{type(self).__name__}: {type(optimizer).__name__} is not an Optimizer")
        self.optimizer = optimizer
        for number, group in enumerate(optimizer.param_groups):
            if last_epoch == -1:
                group.setdefault("initial_lr", group["lr"])
            elif "initial_lr" not in group:
                raise KeyError(f"param 'initial_lr' is not specified in param_groups[{number}] when resuming a "
                               f"scheduler with last_epoch={last_epoch}; load the optimizer's state dict first "
                               "(or leave last_epoch at -1 for a fresh run)")
        self.base_lrs = [group["initial_lr"] for group in optimizer.param_groups]
        self.last_epoch = last_epoch
        self._step_count = 0
        self._initial = True
        self.step()
        self._initial = False

    def get_lr(self):
        raise NotImplementedError(f"{type(self).__name__} must implement get_lr()")

    def step(self):
        """Advance ``last_epoch`` by one and set every group's lr for it."""
        self._step_count += 1
        self.last_epoch += 1
        for group, lr in zip(self.optimizer.param_groups, self.get_lr()):
            group["lr"] = lr
        self._last_lr = [group["lr"] for group in self.optimizer.param_groups]

    def get_last_lr(self):
        """The learning rates set by the last ``step()``, one per parameter group."""
        return list(self._last_lr)

    def _current_lrs(self):
        return [group["lr"] for group in self.optimizer.param_groups]

    def state_dict(self):
        """Every attribute except the optimizer (numbers and lists of numbers)."""
        return {key: (list(value) if isinstance(value, list) else value)
                for key, value in vars(self).items() if key not in ("optimizer", "_initial")}

    def load_state_dict(self, state_dict):
        self.__dict__.update({key: (list(value) if isinstance(value, list) else value)
                              for key, value in state_dict.items()})


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


class CosineAnnealingLR(LRScheduler):
    """Cosine annealing: lr_t = eta_min + (base_lr − eta_min)·(1 + cos(π·t / T_max)) / 2.

    Reaches ``eta_min`` at t = T_max and then rises again (period 2·T_max), as in
    PyTorch. Computed in closed form from ``base_lrs``: equal to PyTorch's
    recursive values to rounding, but a change made to ``group["lr"]`` by hand
    or by another scheduler is not carried forward.
    """

    def __init__(self, optimizer, T_max, eta_min=0.0, last_epoch=-1):
        if T_max <= 0:
            raise ValueError(f"CosineAnnealingLR: invalid T_max {T_max!r}; T_max must be > 0")
        self.T_max = T_max
        self.eta_min = eta_min
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        if self._initial:  # construction keeps the current rates, as PyTorch (also when resuming)
            return self._current_lrs()
        cosine = (1 + math.cos(math.pi * self.last_epoch / self.T_max)) / 2
        return [self.eta_min + (base_lr - self.eta_min) * cosine for base_lr in self.base_lrs]


class LambdaLR(LRScheduler):
    """lr_t = base_lr · lr_lambda(t); ``lr_lambda`` is one function or a list with one per group.

    ``state_dict()`` saves plain functions as None (they cannot be pickled
    reliably) and the attributes of callable objects, as PyTorch does.
    """

    def __init__(self, optimizer, lr_lambda, last_epoch=-1):
        groups = len(optimizer.param_groups) if isinstance(optimizer, Optimizer) else 0
        if isinstance(lr_lambda, (list, tuple)):
            if len(lr_lambda) != groups:
                raise ValueError(f"LambdaLR: expected {groups} lr_lambdas (one per parameter group), "
                                 f"but got {len(lr_lambda)}")
            self.lr_lambdas = list(lr_lambda)
        else:
            self.lr_lambdas = [lr_lambda] * groups
        for function in self.lr_lambdas:
            if not callable(function):
                raise TypeError(f"LambdaLR: lr_lambda must be callable, got {type(function).__name__}")
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        return [base_lr * function(self.last_epoch) for function, base_lr in zip(self.lr_lambdas, self.base_lrs)]

    def state_dict(self):
        state = {key: value for key, value in super().state_dict().items() if key != "lr_lambdas"}
        state["lr_lambdas"] = [None if isinstance(function, types.FunctionType) else dict(vars(function))
                               for function in self.lr_lambdas]
        return state

    def load_state_dict(self, state_dict):
        state = dict(state_dict)
        saved = state.pop("lr_lambdas", [None] * len(self.lr_lambdas))
        super().load_state_dict(state)
        for function, attributes in zip(self.lr_lambdas, saved):
            if attributes is not None:
                vars(function).update(attributes)


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
