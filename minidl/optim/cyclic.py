"""Two more schedulers of ``torch.optim.lr_scheduler``: ``MultiplicativeLR`` (the lr times a factor
each step) and ``CyclicLR`` (the lr cycling between two bounds, the momentum the opposite way)."""

from __future__ import annotations

import math

from minidl.optim.annealing import _per_group
from minidl.optim.scheduler_base import LambdaScheduler, LRScheduler, saved_callable


class MultiplicativeLR(LambdaScheduler):
    """lr_t = lr_{t−1} · lr_lambda(t) for t ≥ 1; ``lr_lambda`` is one function or a list with one per group.

    Updated from the current rates, so it chains with another scheduler on the same optimizer.
    """

    def get_lr(self):
        if self._initial:
            return self._current_lrs()
        return [lr * function(self.last_epoch) for function, lr in zip(self.lr_lambdas, self._current_lrs())]

    def closed_form(self, t):
        """No closed form: ``step(epoch)`` multiplies the current rates by the factors of ``epoch``, as PyTorch."""
        return self.get_lr()


class CyclicLR(LRScheduler):
    """Cyclical learning rates (Smith, 2017); call ``step()`` after every batch.

    With the cycle length L = step_size_up + step_size_down and r = step_size_up / L, at step t::

        cycle = ⌊1 + t/L⌋,   x = 1 + t/L − cycle                 (the position in the cycle, in [0, 1))
        h = x/r  if x ≤ r  else  (x − 1)/(r − 1)                  (rises 0 → 1, then falls back to 0)
        lr = base_lr + (max_lr − base_lr)·h·s,     momentum = max_momentum − (max_momentum − base_momentum)·h·s

    where s = scale_fn(cycle) (scale_mode 'cycle') or scale_fn(t) ('iterations'): 1 for ``mode='triangular'``,
    1/2^(cycle−1) for 'triangular2', gamma^t for 'exp_range', or the user's ``scale_fn``. With
    ``cycle_momentum`` the optimizer's momentum (or Adam's β1) moves opposite to the lr.
    """

    def __init__(self, optimizer, base_lr, max_lr, step_size_up=2000, step_size_down=None, mode="triangular",
                 gamma=1.0, scale_fn=None, scale_mode="cycle", cycle_momentum=True, base_momentum=0.8,
                 max_momentum=0.9, last_epoch=-1):
        groups = getattr(optimizer, "param_groups", [])
        base_lrs = _per_group(base_lr, groups, "base_lr")
        if last_epoch == -1:
            for lr, group in zip(base_lrs, groups):
                group["lr"] = lr
        self.max_lrs = _per_group(max_lr, groups, "max_lr")
        for name, size in (("step_size_up", step_size_up), ("step_size_down", step_size_down)):
            if size is not None and not size > 0:
                raise ValueError(f"CyclicLR: invalid {name} {size!r}; {name} must be > 0")
        up = float(step_size_up)
        down = float(step_size_down) if step_size_down is not None else up
        self.total_size = up + down
        self.step_ratio = up / self.total_size
        if mode not in ("triangular", "triangular2", "exp_range") and scale_fn is None:
            raise ValueError(f"CyclicLR: invalid mode {mode!r} and no scale_fn; mode must be 'triangular', "
                             "'triangular2' or 'exp_range', or give a scale_fn")
        if scale_fn is not None and scale_mode not in ("cycle", "iterations"):
            raise ValueError(f"CyclicLR: invalid scale_mode {scale_mode!r}; scale_mode must be 'cycle' or "
                             "'iterations'")
        self.mode, self.gamma = mode, gamma
        self._scale_fn_custom = scale_fn
        self.scale_mode = scale_mode if scale_fn is not None else \
            ("iterations" if mode == "exp_range" else "cycle")
        self.cycle_momentum = cycle_momentum
        if cycle_momentum:
            if "momentum" not in optimizer.defaults and "betas" not in optimizer.defaults:
                raise ValueError("CyclicLR: optimizer must support momentum or beta1 with `cycle_momentum` enabled")
            self.use_beta1 = "betas" in optimizer.defaults
            self.base_momentums = _per_group(base_momentum, groups, "base_momentum")
            self.max_momentums = _per_group(max_momentum, groups, "max_momentum")
            if last_epoch == -1:
                for high, low, group in zip(self.max_momentums, self.base_momentums, groups):
                    self._set_momentum(group, high)
                    group.update(max_momentum=high, base_momentum=low)
        super().__init__(optimizer, last_epoch)
        self.base_lrs = base_lrs

    def scale_fn(self, x):
        """The amplitude's scale at cycle (or iteration) x."""
        if self._scale_fn_custom is not None:
            return self._scale_fn_custom(x)
        if self.mode == "triangular":
            return 1.0
        if self.mode == "triangular2":
            return 1 / (2.0 ** (x - 1))
        return self.gamma ** x

    def _set_momentum(self, group, value):
        if self.use_beta1:
            group["betas"] = (value, *group["betas"][1:])
        else:
            group["momentum"] = value

    def get_lr(self):
        cycle = math.floor(1 + self.last_epoch / self.total_size)
        x = 1.0 + self.last_epoch / self.total_size - cycle
        height = x / self.step_ratio if x <= self.step_ratio else (x - 1) / (self.step_ratio - 1)
        scale = self.scale_fn(cycle if self.scale_mode == "cycle" else self.last_epoch)
        rates = [base + (peak - base) * height * scale for base, peak in zip(self.base_lrs, self.max_lrs)]
        if self.cycle_momentum:
            for group, low, high in zip(self.optimizer.param_groups, self.base_momentums, self.max_momentums):
                self._set_momentum(group, high - (high - low) * height * scale)
        return rates

    def closed_form(self, t):
        return self.get_lr()  # every rate follows from last_epoch alone

    def state_dict(self):
        state = super().state_dict()
        state["_scale_fn_custom"] = None if self._scale_fn_custom is None else saved_callable(self._scale_fn_custom)
        return state

    def load_state_dict(self, state_dict):
        state = dict(state_dict)
        saved = state.pop("_scale_fn_custom", None)
        super().load_state_dict(state)
        if saved is not None:
            vars(self._scale_fn_custom).update(saved)
