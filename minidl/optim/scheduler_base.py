"""The base of every learning-rate scheduler (``torch.optim.lr_scheduler.LRScheduler``).

A scheduler writes ``group["lr"]`` of every parameter group; ``last_epoch`` counts its steps (0 right
after construction) and ``get_last_lr()`` lists the rates it set last. On construction each group
gets ``"initial_lr"`` (its lr then), from which ``base_lrs`` is read. A subclass gives ``get_lr()``,
the rates for ``self.last_epoch`` (often updated from the current ones, so schedulers chain), and
where it has one ``closed_form(t)``: the rates at step t from ``base_lrs`` alone, which
``step(epoch)`` and :class:`SequentialLR` use to jump to a step.
"""

from __future__ import annotations

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

    def closed_form(self, t):
        """The rates at step ``t`` computed from ``base_lrs`` alone (subclasses that have one)."""
        raise NotImplementedError(f"{type(self).__name__} has no closed form; call step() without an epoch")

    def step(self, epoch=None):
        """Advance ``last_epoch`` by one and set every group's lr for it; ``step(epoch)`` jumps to
        step ``epoch`` (PyTorch's older form)."""
        self._step_count += 1
        self._update_lr(epoch)

    def _update_lr(self, epoch=None):
        """Set the rates of the next step, or of step ``epoch``, without counting a ``step()`` call
        (SequentialLR restarts a scheduler at its milestone this way)."""
        if epoch is None:
            self.last_epoch += 1
            rates = self.get_lr()
        else:
            self.last_epoch = epoch
            rates = self.closed_form(epoch)
        for group, lr in zip(self.optimizer.param_groups, rates):
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


def saved_callable(function):
    """What a state dict keeps of a user's function: None for a plain function (it cannot be pickled
    reliably), the attributes of a callable object, as PyTorch does."""
    return None if isinstance(function, types.FunctionType) else dict(vars(function))


class LambdaScheduler(LRScheduler):
    """A scheduler driven by user functions of the step, ``lr_lambda``: one function, or a list with one
    per parameter group (LambdaLR, MultiplicativeLR). Their state dicts keep what ``saved_callable``
    keeps of each function, and loading one restores a callable object's attributes."""

    def __init__(self, optimizer, lr_lambda, last_epoch=-1):
        where = type(self).__name__
        groups = len(optimizer.param_groups) if isinstance(optimizer, Optimizer) else 0
        if isinstance(lr_lambda, (list, tuple)):
            if len(lr_lambda) != groups:
                raise ValueError(f"{where}: expected {groups} lr_lambdas (one per parameter group), "
                                 f"but got {len(lr_lambda)}")
            self.lr_lambdas = list(lr_lambda)
        else:
            self.lr_lambdas = [lr_lambda] * groups
        for function in self.lr_lambdas:
            if not callable(function):
                raise TypeError(f"{where}: lr_lambda must be callable, got {type(function).__name__}")
        super().__init__(optimizer, last_epoch)

    def state_dict(self):
        state = {key: value for key, value in super().state_dict().items() if key != "lr_lambdas"}
        state["lr_lambdas"] = [saved_callable(function) for function in self.lr_lambdas]
        return state

    def load_state_dict(self, state_dict):
        state = dict(state_dict)
        saved = state.pop("lr_lambdas", [None] * len(self.lr_lambdas))
        super().load_state_dict(state)
        for function, attributes in zip(self.lr_lambdas, saved):
            if attributes is not None:
                vars(function).update(attributes)
