"""Containers: Sequential, ModuleList, ModuleDict, ParameterList and ParameterDict."""

from __future__ import annotations

from collections import OrderedDict

from minidl.core.tensor import Tensor
from minidl.nn.module import Module, Parameter


def _module(module, container, key):
    """``module`` when it is a Module; otherwise a TypeError naming the container and the entry."""
    if not isinstance(module, Module):
        raise TypeError(f"{container}: entry {key!r} must be a Module, got {type(module).__name__} ({module!r})")
    return module


def _position(index, length, container, entries="modules"):
    """A list position for ``index`` (negative counts from the end), or an IndexError naming the container."""
    if not isinstance(index, int) or isinstance(index, bool):
        raise TypeError(f"{container}: indices must be ints or slices, got {type(index).__name__}")
    if not -length <= index < length:
        raise IndexError(f"{container}: index {index} is out of range for {length} {entries}")
    return index % length


class Sequential(Module):
    """Modules applied one after another: ``Sequential(Linear(4, 8), ReLU(), Linear(8, 2))``."""

    def __init__(self, *modules):
        super().__init__()
        if len(modules) == 1 and isinstance(modules[0], OrderedDict):
            for name, module in modules[0].items():
                self.add_module(name, _module(module, "Sequential", name))
        else:
            for index, module in enumerate(modules):
                self.add_module(str(index), _module(module, "Sequential", index))

    def forward(self, x):
        for module in self._modules.values():
            x = module(x)
        return x

    def __getitem__(self, index):
        if isinstance(index, slice):
            return Sequential(OrderedDict(list(self._modules.items())[index]))
        return list(self._modules.values())[_position(index, len(self), "Sequential")]

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())

    def append(self, module):
        self.add_module(str(len(self)), _module(module, "Sequential", len(self)))
        return self


class ModuleList(Module):
    """A list of modules whose parameters are registered (names "0", "1", ...)."""

    def __init__(self, modules=None):
        super().__init__()
        for module in modules or ():
            self.append(module)

    def append(self, module):
        self.add_module(str(len(self)), _module(module, "ModuleList", len(self)))
        return self

    def extend(self, modules):
        for module in modules:
            self.append(module)
        return self

    def __getitem__(self, index):
        items = list(self._modules.values())
        return ModuleList(items[index]) if isinstance(index, slice) else items[_position(index, len(items), "ModuleList")]

    def __setitem__(self, index, module):
        key = list(self._modules)[_position(index, len(self), "ModuleList")]
        self.add_module(key, _module(module, "ModuleList", index))

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())

    def forward(self, *args):
        raise NotImplementedError("ModuleList has no forward(); iterate over it instead")


class ModuleDict(Module):
    """A dict of modules whose parameters are registered under their keys."""

    def __init__(self, modules=None):
        super().__init__()
        for name, module in (modules.items() if hasattr(modules, "items") else modules or ()):
            self.add_module(name, _module(module, "ModuleDict", name))

    def __getitem__(self, key):
        if key not in self._modules:
            raise KeyError(f"ModuleDict: no module named {key!r}; it has {', '.join(map(repr, self._modules)) or 'none'}")
        return self._modules[key]

    def __setitem__(self, key, module):
        self.add_module(key, _module(module, "ModuleDict", key))

    def __delitem__(self, key):
        del self._modules[key]

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules)

    def __contains__(self, key):
        return key in self._modules

    def keys(self):
        return self._modules.keys()

    def values(self):
        return self._modules.values()

    def items(self):
        return self._modules.items()

    def forward(self, *args):
        raise NotImplementedError("ModuleDict has no forward(); index it instead")


def _parameter(value, container, key):
    """``value`` as a Parameter: a Parameter as it is, another tensor wrapped (sharing its values, as in PyTorch)."""
    if isinstance(value, Parameter):
        return value
    if isinstance(value, Tensor):
        return Parameter(value)
    raise TypeError(f"{container}: entry {key!r} must be a Parameter or a Tensor, got {type(value).__name__}")


def _shape_text(param):
    """``float32 of size 2x3``, as PyTorch prints a container's parameters."""
    return f"{param.dtype} of size {'x'.join(map(str, param.shape))}"


class ParameterList(Module):
    """A list of parameters registered under "0", "1", ... (so ``state_dict`` keys are PyTorch's); tensors
    that are not Parameters yet are wrapped in one."""

    def __init__(self, values=None):
        super().__init__()
        for value in values or ():
            self.append(value)

    def append(self, value):
        self.register_parameter(str(len(self)), _parameter(value, "ParameterList", len(self)))
        return self

    def extend(self, values):
        for value in values:
            self.append(value)
        return self

    def __iadd__(self, values):
        return self.extend(values)

    def __getitem__(self, index):
        items = list(self._parameters.values())
        if isinstance(index, slice):
            return ParameterList(items[index])
        return items[_position(index, len(items), "ParameterList", "parameters")]

    def __setitem__(self, index, value):
        key = list(self._parameters)[_position(index, len(self), "ParameterList", "parameters")]
        self._parameters[key] = _parameter(value, "ParameterList", index)

    def __len__(self):
        return len(self._parameters)

    def __iter__(self):
        return iter(self._parameters.values())

    def extra_repr(self):
        return "\n".join(f"({key}): Parameter containing: [{_shape_text(param)}]"
                         for key, param in self._parameters.items())

    def forward(self, *args):
        raise NotImplementedError("ParameterList has no forward(); iterate over it instead")


class ParameterDict(Module):
    """A dict of parameters registered under their (string) keys, in insertion order; tensors that are
    not Parameters yet are wrapped in one."""

    def __init__(self, parameters=None):
        super().__init__()
        if parameters is not None:
            self.update(parameters)

    def __getitem__(self, key):
        if key not in self._parameters:
            raise KeyError(f"ParameterDict: no parameter named {key!r}; it has "
                           f"{', '.join(map(repr, self._parameters)) or 'none'}")
        return self._parameters[key]

    def __setitem__(self, key, value):
        self.register_parameter(key, _parameter(value, "ParameterDict", key))

    def __delitem__(self, key):
        del self._parameters[key]

    def __len__(self):
        return len(self._parameters)

    def __iter__(self):
        return iter(self._parameters)

    def __contains__(self, key):
        return key in self._parameters

    def keys(self):
        return self._parameters.keys()

    def values(self):
        return self._parameters.values()

    def items(self):
        return self._parameters.items()

    def get(self, key, default=None):
        return self._parameters.get(key, default)

    def pop(self, key):
        value = self[key]
        del self._parameters[key]
        return value

    def clear(self):
        self._parameters.clear()

    def update(self, parameters):
        """Add or replace entries from a mapping or an iterable of (key, parameter) pairs."""
        for key, value in (parameters.items() if hasattr(parameters, "items") else parameters):
            self[key] = value

    def extra_repr(self):
        return "\n".join(f"({key}): Parameter containing: [{_shape_text(param)}]"
                         for key, param in self._parameters.items())

    def forward(self, *args):
        raise NotImplementedError("ParameterDict has no forward(); index it instead")
