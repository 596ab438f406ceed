"""Module and Parameter: the building blocks of networks.

A Module owns parameters (tensors that an optimizer updates), buffers (state
that is saved but not trained, such as BatchNorm's running mean) and
sub-modules, all in registration order, so ``parameters()`` and
``state_dict()`` are deterministic and named exactly as in PyTorch
(``encoder.layers.0.linear1.weight``). Assigning a Parameter, Module or
buffer as an attribute registers it.
"""

from __future__ import annotations

import numbers

from collections import OrderedDict, namedtuple

import numpy as np

from minidl.core import no_grad
from minidl.core.backend import Device, to_device
from minidl.core.hooks import add_hook
from minidl.core.tensor import Tensor

IncompatibleKeys = namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])


class Parameter(Tensor):
    """A tensor that is a trainable parameter of a Module (requires grad by default)."""

    __slots__ = ()

    def __init__(self, data=None, requires_grad=True):
        if data is None:
            data = np.empty(0, dtype=np.float32)
        super().__init__(data.array if isinstance(data, Tensor) else data, requires_grad=requires_grad)

    def __repr__(self):
        return "Parameter containing:\n" + super().__repr__()


class Buffer(Tensor):
    """A tensor that becomes a buffer of the Module it is assigned to (``self.mean = nn.Buffer(t)``), as
    ``register_buffer(name, t, persistent)`` would make it; it shares t's array. ``persistent=False`` keeps
    it out of the state dict."""

    __slots__ = ("persistent",)

    def __init__(self, data=None, *, persistent=True):
        if data is None:
            data = np.empty(0, dtype=np.float32)
        requires_grad = data.requires_grad if isinstance(data, Tensor) else False
        super().__init__(data.array if isinstance(data, Tensor) else data, requires_grad=requires_grad)
        self.persistent = bool(persistent)


class Module:
    """Base class of every layer and model: subclass it and define ``forward``."""

    def __init__(self):
        object.__setattr__(self, "training", True)
        object.__setattr__(self, "_parameters", OrderedDict())
        object.__setattr__(self, "_buffers", OrderedDict())
        object.__setattr__(self, "_non_persistent", set())
        object.__setattr__(self, "_modules", OrderedDict())
        object.__setattr__(self, "_forward_pre_hooks", OrderedDict())

    def forward(self, *args, **kwargs):
        raise NotImplementedError(f"{type(self).__name__} must define forward()")

    def __call__(self, *args, **kwargs):
        for hook in tuple(self._forward_pre_hooks.values()):
            result = hook(self, args)
            if result is not None:
                args = result if isinstance(result, tuple) else (result,)
        return self.forward(*args, **kwargs)

    def register_forward_pre_hook(self, hook):
        """Call ``hook(module, args)`` before every forward (args: the positional inputs); a result
        other than None replaces them (a tuple, or one value). Returns a handle: ``handle.remove()``."""
        return add_hook(self._forward_pre_hooks, hook)

    # --- registration ---------------------------------------------------------
    def _registries(self):
        if "_parameters" not in self.__dict__:
            raise AttributeError(f"cannot assign to {type(self).__name__} before Module.__init__() is called; "
                                 "call super().__init__() first")
        return self._parameters, self._buffers, self._modules

    def __setattr__(self, name, value):
        params, buffers, modules = self._registries()
        if isinstance(value, Buffer):
            self.__dict__.pop(name, None)
            params.pop(name, None)
            modules.pop(name, None)
            self.register_buffer(name, value, value.persistent)
        elif isinstance(value, (Parameter, Module)):
            target = params if isinstance(value, Parameter) else modules
            self.__dict__.pop(name, None)
            for registry in (params, buffers, modules):
                if registry is not target:
                    registry.pop(name, None)
            target[name] = value  # a replaced entry keeps its place in the registration order
        elif name in params or name in modules:
            if value is not None:
                kind = "parameter" if name in params else "module"
                raise TypeError(f"cannot assign {type(value).__name__} as {kind} {name!r} "
                                f"(a {'Parameter' if kind == 'parameter' else 'Module'} or None is expected)")
            (params if name in params else modules)[name] = None
        elif name in buffers:
            if value is not None and not isinstance(value, Tensor):
                raise TypeError(f"cannot assign {type(value).__name__} as buffer {name!r} (a Tensor or None is expected)")
            buffers[name] = value
        else:
            object.__setattr__(self, name, value)

    def __getattr__(self, name):
        for registry in ("_parameters", "_buffers", "_modules"):
            entries = self.__dict__.get(registry)
            if entries is not None and name in entries:
                return entries[name]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __delattr__(self, name):
        for registry in (self._parameters, self._buffers, self._modules):
            if name in registry:
                del registry[name]
                return
        object.__delattr__(self, name)

    def register_parameter(self, name, param):
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(f"register_parameter: {name!r} must be a Parameter or None, got {type(param).__name__}")
        self._check_name(name)
        self._parameters[name] = param

    def register_buffer(self, name, tensor, persistent=True):
        """A tensor saved in the state dict (unless ``persistent=False``) but not trained."""
        if tensor is not None and not isinstance(tensor, Tensor):
            raise TypeError(f"register_buffer: {name!r} must be a Tensor or None, got {type(tensor).__name__}")
        self._check_name(name)
        self._buffers[name] = tensor
        (self._non_persistent.discard if persistent else self._non_persistent.add)(name)

    def add_module(self, name, module):
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"add_module: {name!r} must be a Module or None, got {type(module).__name__}")
        self._check_name(name)
        self._modules[name] = module

    register_module = add_module

    def _check_name(self, name):
        if not isinstance(name, str) or not name or "." in name:
            raise KeyError(f"invalid name {name!r}: a non-empty string without '.' is required")

    # --- traversal -------------------------------------------------------------------
    def named_modules(self, prefix="", memo=None, remove_duplicate=True):
        """(name, module) for self and every sub-module; a shared module once, unless remove_duplicate=False."""
        memo = set() if memo is None else memo
        if remove_duplicate:
            if id(self) in memo:
                return
            memo.add(id(self))
        yield prefix, self
        for name, child in self._modules.items():
            if child is not None:
                yield from child.named_modules(f"{prefix}.{name}" if prefix else name, memo, remove_duplicate)

    def modules(self):
        return (module for _, module in self.named_modules())

    def named_children(self):
        seen = set()
        for name, child in self._modules.items():
            if child is not None and id(child) not in seen:
                seen.add(id(child))
                yield name, child

    def children(self):
        return (child for _, child in self.named_children())

    def _named_members(self, registry, prefix, recurse):
        seen = set()
        modules = self.named_modules(prefix) if recurse else [(prefix, self)]
        for module_prefix, module in modules:
            for name, value in getattr(module, registry).items():
                if value is None or id(value) in seen:
                    continue
                seen.add(id(value))
                yield (f"{module_prefix}.{name}" if module_prefix else name), value

    def named_parameters(self, prefix="", recurse=True):
        """(name, parameter) pairs in registration order; a shared parameter is listed once."""
        return self._named_members("_parameters", prefix, recurse)

    def parameters(self, recurse=True):
        return (param for _, param in self.named_parameters(recurse=recurse))

    def named_buffers(self, prefix="", recurse=True):
        return self._named_members("_buffers", prefix, recurse)

    def buffers(self, recurse=True):
        return (buffer for _, buffer in self.named_buffers(recurse=recurse))

    def apply(self, fn):
        """Call ``fn`` on every sub-module (children first), then on self; returns self."""
        for child in self.children():
            child.apply(fn)
        fn(self)
        return self

    # --- modes, devices, gradients -------------------------------------------------------
    def train(self, mode=True):
        """Training mode (dropout active, BatchNorm uses batch statistics); returns self."""
        for module in self.modules():
            object.__setattr__(module, "training", bool(mode))
        return self

    def eval(self):
        """Evaluation mode: the same as ``train(False)``."""
        return self.train(False)

    def requires_grad_(self, requires_grad=True):
        for param in self.parameters():
            param.requires_grad_(requires_grad)
        return self

    def zero_grad(self, set_to_none=True):
        """Reset the gradients of all parameters (to None by default, as PyTorch does)."""
        for param in self.parameters():
            if set_to_none or param.grad is None:
                param.grad = None
            else:
                param.grad.array[...] = 0

    def to(self, *args, **kwargs):
        """Move (``to("cuda")``) and/or cast floating parameters and buffers (``to(minidl.float64)``), in place."""
        device, dtype = kwargs.pop("device", None), kwargs.pop("dtype", None)
        for ignored in ("non_blocking", "memory_format"):  # PyTorch's; copies here are synchronous
            kwargs.pop(ignored, None)
        for arg in args:
            if isinstance(arg, (str, Device)):
                device = arg
            elif isinstance(arg, Tensor):  # to(tensor): its device and dtype
                device, dtype = arg.device, arg.dtype
            elif not isinstance(arg, bool):  # a bool is non_blocking given positionally
                dtype = arg
        if kwargs:
            raise TypeError(f"to: unexpected arguments {sorted(kwargs)}")

        def convert(array, floating_only=True):
            if dtype is not None and (array.dtype.kind == "f" or not floating_only):
                array = array.astype(dtype, copy=False)
            return to_device(array, device) if device is not None else array

        for tensor in list(self.parameters()) + [b for b in self.buffers()]:
            tensor.array = convert(tensor.array) if tensor.array.dtype.kind == "f" else (
                to_device(tensor.array, device) if device is not None else tensor.array)
            if tensor.grad is not None:
                tensor.grad.array = convert(tensor.grad.array)
        return self

    def cpu(self):
        return self.to("cpu")

    def cuda(self, index=None):
        return self.to("cuda" if index is None else f"cuda:{index}")

    def float(self):
        return self.to(np.float32)

    def double(self):
        return self.to(np.float64)

    # --- state dict -----------------------------------------------------------------------------
    def state_dict(self, destination=None, prefix="", keep_vars=False):
        """An ordered dict name -> tensor of every parameter and persistent buffer (detached)."""
        state = OrderedDict() if destination is None else destination
        for module_prefix, module in self.named_modules(prefix.rstrip("."), remove_duplicate=False):
            head = f"{module_prefix}." if module_prefix else ""
            for name, param in module._parameters.items():
                if param is not None:
                    state[head + name] = param if keep_vars else param.detach()
            for name, buffer in module._buffers.items():
                if buffer is not None and name not in module._non_persistent:
                    state[head + name] = buffer if keep_vars else buffer.detach()
        return state

    def load_state_dict(self, state_dict, strict=True):
        """Copy values (tensors, NumPy arrays or numbers) into the parameters and buffers, in place.

        With ``strict=True`` (the default) missing and unexpected keys are errors; a value of the
        wrong shape or of a type that holds no numbers always is. Every entry is checked and
        converted before any is assigned, so a failed load leaves the module as it was (except that
        the uninitialised parameters of lazy modules, minidl/nn/lazy.py, take the shapes they are given).
        """
        if not hasattr(state_dict, "keys") or not hasattr(state_dict, "__getitem__"):
            raise TypeError(f"load_state_dict: expected a dict of tensors, got {type(state_dict).__name__}")
        for name, module in self.named_modules():
            if hasattr(module, "materialize_from"):  # a lazy module: its tensors take the loaded shapes
                module.materialize_from(state_dict, f"{name}." if name else "")
        own = self.state_dict(keep_vars=True)
        missing = [key for key in own if key not in state_dict]
        unexpected = [key for key in state_dict if key not in own]
        problems, converted = [], {}
        for key, target in own.items():
            if key in state_dict:
                array, problem = _loadable(key, state_dict[key], target)
                if problem:
                    problems.append(problem)
                else:
                    converted[key] = array
        if strict:
            if missing:
                problems.append("missing key(s) in state_dict: " + ", ".join(f'"{k}"' for k in missing))
            if unexpected:
                problems.append("unexpected key(s) in state_dict: " + ", ".join(f'"{k}"' for k in unexpected))
        if problems:
            raise RuntimeError(f"Error(s) in loading state_dict for {type(self).__name__}:\n\t" +
                               "\n\t".join(problems))
        with no_grad():
            for key, array in converted.items():
                own[key].array[...] = array
                own[key]._modified()
        return IncompatibleKeys(missing, unexpected)

    # --- printing --------------------------------------------------------------------------------
    def extra_repr(self):
        """The part inside the parentheses of this module's repr (layers override it)."""
        return ""

    def __repr__(self):
        lines = []
        extra = self.extra_repr()
        if extra:
            lines.extend(extra.split("\n"))
        for name, child in self._modules.items():
            child_lines = repr(child).split("\n")
            lines.append(f"({name}): " + "\n  ".join(child_lines))
        if not lines:
            return f"{type(self).__name__}()"
        if len(lines) == 1 and not self._modules:
            return f"{type(self).__name__}({lines[0]})"
        return f"{type(self).__name__}(\n  " + "\n  ".join(lines) + "\n)"

    def __dir__(self):
        return sorted(set(super().__dir__()) | set(self._parameters) | set(self._buffers) | set(self._modules))


def _loadable(key, value, target):
    """(the value as an array of the target's dtype on its device, None) or (None, what is wrong)."""
    if isinstance(value, Tensor):
        array = value.array
    elif isinstance(value, (np.ndarray, np.generic, numbers.Number)) and not isinstance(value, (str, bytes)):
        array = np.asarray(value)
    else:
        return None, f"{key}: expected a tensor or an array, got {type(value).__name__}"
    if array.dtype.kind not in "biuf":
        return None, f"{key}: cannot load values of dtype {array.dtype} (numbers or bools are needed)"
    if tuple(array.shape) != target.shape:
        return None, (f"size mismatch for {key}: copying a param with shape {tuple(array.shape)} from the "
                      f"checkpoint, the shape in the current model is {target.shape}")
    try:
        return to_device(array, target.device).astype(target.dtype, copy=False), None
    except (TypeError, ValueError, RuntimeError) as error:
        return None, f"{key}: cannot convert to {target.dtype} on {target.device} ({error})"
