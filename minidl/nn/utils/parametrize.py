"""Parametrizations, as ``torch.nn.utils.parametrize``: ``module.weight`` computed from other tensors.

``register_parametrization(linear, "weight", Symmetric())`` keeps the trained tensor as
``linear.parametrizations.weight.original`` and makes ``linear.weight`` a property that returns
``Symmetric()(original)`` on every access, so gradients flow through the parametrization into
``original``. The state dict then holds ``parametrizations.weight.original``, as PyTorch's does.
A parametrization with a ``right_inverse`` maps the tensor it is registered on (and any tensor
later assigned to ``linear.weight``) back to ``original``.

The property lives on a class made for the module (``ParametrizedLinear``, a subclass of its own
class), the way PyTorch does it; :func:`remove_parametrizations` puts the original class back.
"""

from __future__ import annotations

import contextlib

from minidl.core.grad_mode import no_grad
from minidl.core.tensor import Tensor
from minidl.nn.containers import ModuleDict, ModuleList
from minidl.nn.module import Module, Parameter

__all__ = ["ParametrizationList", "cached", "is_parametrized", "register_parametrization",
           "remove_parametrizations", "type_before_parametrizations"]

_cache = {"depth": 0, "values": {}}  # cached(): how many blocks are open, and (module id, name) -> tensor


@contextlib.contextmanager
def cached():
    """Inside the block, each parametrized tensor is computed once and reused (one graph, shared by
    every use); the values are dropped when the outermost block ends."""
    _cache["depth"] += 1
    try:
        yield
    finally:
        _cache["depth"] -= 1
        if not _cache["depth"]:
            _cache["values"].clear()


def _set_like(module, name, tensor, original):
    """Register ``tensor`` on ``module`` as ``name``: a parameter if ``original`` was one, else a buffer."""
    if isinstance(original, Parameter):
        module.register_parameter(name, tensor if isinstance(tensor, Parameter) else Parameter(tensor))
    else:
        module.register_buffer(name, tensor)


class ParametrizationList(ModuleList):
    """The parametrizations of one tensor, applied in order to ``original`` (or to ``original0``,
    ``original1`` ... when the first one's ``right_inverse`` returns several tensors)."""

    def __init__(self, modules, original, unsafe=False):
        super().__init__(modules)
        self.unsafe = unsafe
        first = modules[0]
        with no_grad():
            new = first.right_inverse(original) if hasattr(first, "right_inverse") else original
        self.is_tensor = isinstance(new, Tensor)
        if self.is_tensor:
            if new is not original:
                if not unsafe:
                    _check_same(original, new, "right_inverse", "the tensor it is registered on")
                original.data = new
            _set_like(self, "original", original, original)
        else:
            for index, part in enumerate(new):
                if not isinstance(part, Tensor):
                    raise TypeError(f"register_parametrization: right_inverse must return a tensor or a sequence of "
                                    f"tensors, got {type(part).__name__} at position {index}")
                part = Parameter(part, requires_grad=original.requires_grad) if isinstance(original, Parameter) \
                    else part
                _set_like(self, f"original{index}", part, original)
            self.ntensors = len(new)

    def forward(self):
        originals = (self.original,) if self.is_tensor else tuple(getattr(self, f"original{i}")
                                                                   for i in range(self.ntensors))
        x = self[0](*originals)
        for index in range(1, len(self)):
            x = self[index](x)
        return x

    def right_inverse(self, value):
        """Set ``original`` so that the parametrized tensor becomes ``value``."""
        with no_grad():
            for module in reversed(list(self)):
                if not hasattr(module, "right_inverse"):
                    raise RuntimeError(f"parametrization {type(module).__name__} does not implement right_inverse")
                value = module.right_inverse(value)
            if self.is_tensor:
                if not isinstance(value, Tensor):
                    raise ValueError(f"right_inverse must return a tensor, got {type(value).__name__}")
                if value.dtype != self.original.dtype:
                    raise ValueError(f"the tensor returned by right_inverse has dtype {value.dtype} while "
                                     f"`original` has dtype {self.original.dtype}")
                self.original.data = value.clone()
            else:
                for index, part in enumerate(value):
                    getattr(self, f"original{index}").data = part.clone()


def _check_same(before, after, what, against):
    if after.dtype != before.dtype or tuple(after.shape) != tuple(before.shape):
        raise ValueError(f"register_parametrization: {what} may not change the dtype or shape of {against} unless "
                         f"unsafe=True: got dtype {after.dtype}, shape {tuple(after.shape)} from dtype "
                         f"{before.dtype}, shape {tuple(before.shape)}")


def _parametrized_value(module, name):
    if not _cache["depth"]:
        return module.parametrizations[name]()
    key = (id(module), name)
    if key not in _cache["values"]:
        _cache["values"][key] = module.parametrizations[name]()
    return _cache["values"][key]


def _setattr(module, name, value):
    """``module.name = value``: a parametrized name goes through its property (its right_inverse)."""
    if isinstance(getattr(type(module), name, None), property):
        object.__setattr__(module, name, value)
    else:
        Module.__setattr__(module, name, value)


def _inject_class(module):
    """Give ``module`` a class of its own (a subclass of its class) to hold the parametrized properties."""
    cls = type(module)
    parametrized = type(f"Parametrized{cls.__name__}", (cls,), {"__setattr__": _setattr})
    parametrized._type_before_parametrizations = cls
    module.__class__ = parametrized


def _inject_property(module, name):
    getter = lambda self: _parametrized_value(self, name)  # noqa: E731
    setter = lambda self, value: self.parametrizations[name].right_inverse(value)  # noqa: E731
    setattr(type(module), name, property(getter, setter))


def register_parametrization(module, tensor_name, parametrization, *, unsafe=False):
    """Make ``module.<tensor_name>`` be ``parametrization(original)``; a second call on the same name
    chains another parametrization after the first. ``unsafe=True`` allows a change of shape or dtype.
    Returns the module."""
    if not isinstance(parametrization, Module):
        raise TypeError(f"register_parametrization: parametrization must be a Module, got "
                        f"{type(parametrization).__name__}")
    if is_parametrized(module, tensor_name):
        if not unsafe:
            with no_grad():
                before = getattr(module, tensor_name)
                _check_same(before, parametrization(before), "the parametrization", f"{tensor_name}")
        module.parametrizations[tensor_name].append(parametrization)
        return module
    original = module._parameters.get(tensor_name, module._buffers.get(tensor_name))
    if not isinstance(original, Tensor):
        raise ValueError(f"register_parametrization: module '{type(module).__name__}' has no parameter or buffer "
                         f"with name '{tensor_name}'")
    before = original.detach()  # its dtype and shape, whatever right_inverse sets ``original`` to
    parametrizations = ParametrizationList([parametrization], original, unsafe=unsafe)
    if not unsafe:
        with no_grad():
            _check_same(before, parametrizations(), "the parametrization", f"{tensor_name}")
    delattr(module, tensor_name)
    if not is_parametrized(module):
        _inject_class(module)
        module.parametrizations = ModuleDict()
    _inject_property(module, tensor_name)
    module.parametrizations[tensor_name] = parametrizations
    return module


def is_parametrized(module, tensor_name=None):
    """Whether ``module`` has a parametrization (on ``tensor_name``, when given)."""
    parametrizations = module._modules.get("parametrizations") if isinstance(module, Module) else None
    if not isinstance(parametrizations, ModuleDict):
        return False
    return len(parametrizations) > 0 if tensor_name is None else tensor_name in parametrizations


def remove_parametrizations(module, tensor_name, leave_parametrized=True):
    """Turn ``module.<tensor_name>`` back into a plain parameter (or buffer): its current parametrized
    value (``leave_parametrized=True``) or its ``original``. Returns the module."""
    if not is_parametrized(module, tensor_name):
        raise ValueError(f"remove_parametrizations: module {type(module).__name__} does not have a parametrization "
                         f"on {tensor_name}")
    parametrizations = module.parametrizations[tensor_name]
    if parametrizations.is_tensor:
        original = parametrizations.original
        if leave_parametrized:
            with no_grad():
                value = getattr(module, tensor_name)
            if value.dtype != original.dtype:
                raise ValueError(f"remove_parametrizations: the parametrized {tensor_name} has dtype {value.dtype} "
                                 f"but its original has dtype {original.dtype}; use leave_parametrized=False")
            original.data = value.array
    else:
        if not leave_parametrized:
            raise ValueError("remove_parametrizations: cannot leave unparametrized (leave_parametrized=False) a "
                             "tensor that is parametrized in terms of a sequence of tensors")
        with no_grad():
            value = getattr(module, tensor_name)
        first = parametrizations.original0
        original = Parameter(value, requires_grad=first.requires_grad) if isinstance(first, Parameter) else value
    delattr(type(module), tensor_name)
    del module.parametrizations[tensor_name]
    _set_like(module, tensor_name, original, original)
    if not is_parametrized(module):
        delattr(module, "parametrizations")
        module.__class__ = type(module)._type_before_parametrizations
    return module


def type_before_parametrizations(module):
    """The module's class before any parametrization was registered on it."""
    return getattr(type(module), "_type_before_parametrizations", type(module))
