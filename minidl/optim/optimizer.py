"""The Optimizer base class: parameter groups, per-parameter state, state dicts.

An optimizer holds ``param_groups``, a list of dicts, each with a ``"params"``
list and the options (``lr``, ``momentum`` ...) for those parameters; options
given in a group override the constructor's defaults, as in PyTorch.

``state`` holds what an optimizer remembers between steps (momentum buffers,
Adam's moments). Unlike PyTorch it is keyed by the parameter's **position**
in the flattened group order (0, 1, 2 ... across groups), the same numbering
that ``state_dict()`` uses, never by ``id()``.

Subclasses implement ``_update(param, grad, state, group)``, the textbook update:
it changes the raw array ``param`` (the parameter's ``.array``) in place and keeps
its state arrays in ``state``, using the array module of the parameter (NumPy,
CuPy or minidl.core.strict), so parameters never get new arrays and nothing is
recorded by autograd. A fused kernel may be registered against it
(``minidl.core.dispatch.register``); ``step`` runs the kernel while kernels are on.
"""

from __future__ import annotations

import inspect
import numbers

import numpy as np

from minidl.core import arguments, dispatch, enable_grad
from minidl.core.backend import device_of, to_device, to_numpy
from minidl.core.errors import DeviceError, ShapeError
from minidl.core.tensor import Tensor
from minidl.kernels import plans


class Optimizer:
    """Base class of all optimizers: ``Optimizer(params, defaults)``.

    ``params`` is an iterable of Parameters (or tensors that require grad), or
    an iterable of dicts ``{"params": [...], "lr": ...}`` (parameter groups).
    """

    def __init__(self, params, defaults):
        self.defaults = dict(defaults)
        self._validate(self.defaults)
        self.param_groups = []
        self.state = {}      # position in the flattened group order -> dict of arrays and numbers
        self._scratch = {}   # work arrays of the fused updates (minidl/kernels/optim.py)
        if isinstance(params, Tensor):
            raise TypeError(f"{type(self).__name__}: params should be an iterable of Tensors or dicts, but got "
                            "a Tensor; pass [tensor] or model.parameters()")
        groups = list(params)
        if not groups:
            raise ValueError(f"{type(self).__name__} got an empty parameter list")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for group in groups:
            self.add_param_group(group)

    # --- groups ------------------------------------------------------------------
    def add_param_group(self, param_group):
        """Append a group ``{"params": [...], option: value ...}``; missing options come from the defaults."""
        if not isinstance(param_group, dict):
            raise TypeError(f"add_param_group: a parameter group must be a dict, got {type(param_group).__name__}")
        params = param_group.get("params")
        if params is None:
            raise ValueError('add_param_group: the parameter group has no "params" entry')
        if isinstance(params, set):
            raise TypeError("add_param_group: params must be an ordered collection (list or tuple), not a set; "
                            "the order of a set changes between runs")
        params = [params] if isinstance(params, Tensor) else list(params)
        for param in params:
            if not isinstance(param, Tensor):
                raise TypeError(f"{type(self).__name__} can only optimize Tensors, but one of the params is "
                                f"{type(param).__name__}")
            if not param.is_leaf:
                raise ValueError(f"{type(self).__name__}: can't optimize a non-leaf Tensor (one produced by an "
                                 "operation); optimize the leaf parameters it was computed from")
            owner = getattr(param, "uninitialized_owner", None)  # a lazy module's parameter without a shape yet
            if owner is not None:
                raise ValueError(f"{type(self).__name__}: parameter {owner()} is still uninitialized (its shape comes "
                                 "from the first input); run the model once on a sample batch (a dry run) before "
                                 "building the optimizer")
        ids = [id(param) for param in params]
        if len(set(ids)) != len(ids):
            repeated = next(index for index, key in enumerate(ids) if ids.index(key) != index)
            raise ValueError(f"{type(self).__name__}: parameter {repeated} of a parameter group appears more than "
                             "once in it; pass each parameter once")
        existing = {id(param) for group in self.param_groups for param in group["params"]}
        if existing.intersection(ids):
            raise ValueError("add_param_group: some parameters appear in more than one parameter group")
        group = {key: value for key, value in param_group.items() if key != "params"}
        for key, value in self.defaults.items():
            group.setdefault(key, value)
        self._validate(group)
        group["params"] = params
        self.param_groups.append(group)

    def _validate(self, options):
        """Check the options' types (a number where the default is a number), then their values."""
        name = type(self).__name__
        for key, default in _declared_defaults(type(self)).items():
            if key not in options:
                continue
            value = options[key]
            if isinstance(default, numbers.Real) and not isinstance(default, bool):
                arguments.number(value, name, key)
            elif isinstance(default, tuple):
                if not isinstance(value, (tuple, list)):
                    raise TypeError(f"{name}: {key} must be a tuple, got {value!r} ({type(value).__name__})")
                for index, item in enumerate(value):
                    arguments.number(item, name, f"{key}[{index}]")
        check_implementation_options(name, options)
        self._check_options(options)

    def _check_options(self, options):
        """Raise ValueError for invalid option values (subclasses override)."""

    def _indexed_params(self):
        """(position, group, param) for every parameter, in the flattened group order."""
        index = 0
        for group in self.param_groups:
            for param in group["params"]:
                yield index, group, param
                index += 1

    # --- stepping ------------------------------------------------------------------
    def zero_grad(self, set_to_none=True):
        """Reset every parameter's gradient: to None (the default, as PyTorch) or to zeros in place."""
        for group in self.param_groups:
            for param in group["params"]:
                if set_to_none:
                    param.grad = None
                elif param.grad is not None:
                    param.grad.array[...] = 0

    def step(self, closure=None):
        """Update every parameter that has a gradient (``.grad`` None: skipped); returns ``closure()``'s loss.

        ``closure``, if given, re-evaluates the model and returns the loss; it is
        called with gradients enabled before the update.
        """
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        update = dispatch.choose(type(self)._update)  # the textbook update, or its fused kernel
        for index, group, param in self._indexed_params():
            if param.grad is None:
                continue
            _check_grad(type(self).__name__, index, param)
            state = self.state.get(index)
            if state is None:
                state = self.state[index] = {}
            else:
                _check_state(type(self).__name__, index, param, state)
            update(self, param.array, param.grad.array, state, group)
            param._modified()
        plans.step_finished(param.array for _, _, param in self._indexed_params())  # times the thread plans
        return loss

    def _update(self, param, grad, state, group):
        """Update the array ``param`` in place from the array ``grad`` (subclasses implement)."""
        raise NotImplementedError(f"{type(self).__name__} must implement _update()")

    # --- state dicts ---------------------------------------------------------------------
    def state_dict(self):
        """A snapshot ``{"state": {position: {...}}, "param_groups": [{..., "params": [positions]}]}``.

        Arrays are copied to NumPy arrays on the host, so the snapshot does not
        change when training continues and can be pickled or saved with NumPy.
        """
        state = {index: {key: (to_numpy(value).copy() if _is_array(value) else value)
                         for key, value in entry.items()}
                 for index, entry in sorted(self.state.items()) if entry}
        groups, index = [], 0
        for group in self.param_groups:
            saved = {key: value for key, value in group.items() if key != "params"}
            saved["params"] = list(range(index, index + len(group["params"])))
            index += len(group["params"])
            groups.append(saved)
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict):
        """Restore group options and per-parameter state saved by ``state_dict()``.

        The groups must match this optimizer's in number and size; arrays are
        copied to each parameter's device and (floating ones) dtype.
        """
        name = type(self).__name__
        if not isinstance(state_dict, dict) or not {"state", "param_groups"} <= set(state_dict):
            keys = sorted(map(str, state_dict))[:4] if isinstance(state_dict, dict) else type(state_dict).__name__
            raise ValueError(f"{name}.load_state_dict: expected an optimizer's state dict, with 'state' and "
                             f"'param_groups', got {keys} (a model's state_dict goes to model.load_state_dict)")
        saved_groups = state_dict["param_groups"]
        if len(saved_groups) != len(self.param_groups):
            raise ValueError(f"{name}.load_state_dict: the state dict has {len(saved_groups)} parameter groups, "
                             f"this optimizer has {len(self.param_groups)}")
        for number, (saved, group) in enumerate(zip(saved_groups, self.param_groups)):
            if len(saved["params"]) != len(group["params"]):
                raise ValueError(f"{name}.load_state_dict: parameter group {number} has {len(saved['params'])} "
                                 f"parameters in the state dict but {len(group['params'])} in this optimizer")
        # saved position -> this optimizer's parameter, group by group
        params = {}
        for saved, group in zip(saved_groups, self.param_groups):
            params.update(zip(saved["params"], group["params"]))
        positions = {id(param): index for index, _, param in self._indexed_params()}
        state = {}
        for key, entry in state_dict["state"].items():
            if int(key) not in params:
                raise ValueError(f"{name}.load_state_dict: the state dict has state for parameter {key}, "
                                 "which is in none of its parameter groups")
            param = params[int(key)]
            state[positions[id(param)]] = {field: _restore(value, param, f"{name}.load_state_dict: state "
                                                                         f"{field!r} of parameter {key}")
                                           for field, value in entry.items()}
        options = [{**group, **{key: value for key, value in saved.items() if key != "params"}}
                   for saved, group in zip(saved_groups, self.param_groups)]
        for merged in options:
            self._validate(merged)   # every group checked before any changes
        for merged, group in zip(options, self.param_groups):
            group.update(merged)
        self.state = state

    def __repr__(self):
        lines = [f"{type(self).__name__} ("]
        for number, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {number}")
            lines.extend(f"    {key}: {value}" for key, value in sorted(group.items()) if key != "params")
        return "\n".join(lines) + "\n)"


def _check_grad(optimizer, index, param):
    grad = param.grad.array
    if type(grad) is not type(param.array):
        raise DeviceError(f"{optimizer}.step: parameter {index} lives on {param.device} but its grad on "
                          f"{device_of(grad)}")
    if grad.shape != param.array.shape:
        raise ShapeError(f"{optimizer}.step: parameter {index} has shape {param.shape} but its grad has shape "
                         f"{tuple(grad.shape)}")


def _declared_defaults(optimizer_class):
    """The options' defaults as the optimizer's constructor declares them (their types are the types
    the options must have)."""
    parameters = inspect.signature(optimizer_class.__init__).parameters.values()
    return {p.name: p.default for p in parameters if p.default is not inspect.Parameter.empty}


def _check_state(optimizer, index, param, state):
    """The parameter still has the shape of its state arrays (it may have been replaced since)."""
    for key, value in state.items():
        shape = getattr(value, "shape", None)
        if shape is not None and shape != () and tuple(shape) != param.shape:
            raise ShapeError(f"{optimizer}.step: parameter {index} has shape {param.shape} but its state "
                             f"{key!r} has shape {tuple(shape)}: the parameter changed shape after earlier steps; "
                             "build a new optimizer (or clear its state: optimizer.state.clear())")


#: PyTorch's switches between implementations of one update (a loop over tensors, for-each over lists of
#: tensors, one fused kernel, CUDA-graph capture): they change its speed, never its result. minidl accepts
#: them for PyTorch's signatures and ignores them: it has one textbook update per optimizer and, while
#: kernels are on, one fused kernel (minidl/kernels/optim.py).
IMPLEMENTATION_OPTIONS = ("foreach", "fused", "capturable")


def check_implementation_options(optimizer, options):
    """PyTorch's refusals for its implementation switches, and ``differentiable=True`` (autograd through
    the update itself), which minidl does not support: its updates work on raw arrays, outside the graph."""
    if options.get("fused") and options.get("foreach"):
        raise ValueError(f"{optimizer}: fused=True and foreach=True cannot be set together")
    if options.get("differentiable"):
        raise NotImplementedError(f"{optimizer}: differentiable=True is not supported: minidl's optimizer steps "
                                  "update raw arrays in place, outside the autograd graph")


def check_option(optimizer, name, value, valid, allowed):
    """Raise ``ValueError`` naming the option when ``valid`` is false, e.g. "SGD: invalid lr -1; lr must be >= 0"."""
    if not valid:
        raise ValueError(f"{optimizer}: invalid {name} {value!r}; {name} must be {allowed}")


def _is_array(value):
    return hasattr(value, "shape") and hasattr(value, "dtype") and not isinstance(value, np.generic)


def _restore(value, param, where):
    """A copy of a saved state value on ``param``'s device (floating arrays in its dtype)."""
    if isinstance(value, Tensor):
        value = to_numpy(value.array)
    if isinstance(value, numbers.Number) or value is None:
        return value
    if not _is_array(value):
        return value
    host = np.array(to_numpy(value), copy=True)
    if host.ndim > 0 and host.shape != param.shape:
        raise ValueError(f"{where} has shape {host.shape} but the parameter has shape {tuple(param.shape)}")
    if host.dtype.kind == "f":
        host = host.astype(param.dtype, copy=False)
    if host.ndim == 0 and len(param.shape) > 0:  # a step count saved as a 0-d tensor, as PyTorch does;
        return host.item()                          # a 0-d parameter's moments stay 0-d arrays
    return to_device(host, device_of(param.array))
