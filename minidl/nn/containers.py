"""Containers: Sequential, ModuleList and ModuleDict."""

from __future__ import annotations

from collections import OrderedDict

from minidl.nn.module import Module


def _module(module, container, key):
    """``module`` when it is a Module; otherwise a TypeError naming the container and the entry."""
    if not isinstance(module, Module):
        raise TypeError(f"{container}: entry {key!r} must be a Module, got {type(module).__name__} ({module!r})")
    return module


def _position(index, length, container):
    """A list position for ``index`` (negative counts from the end), or an IndexError naming the container."""
    if not isinstance(index, int) or isinstance(index, bool):
        raise TypeError(f"{container}: indices must be ints or slices, got {type(index).__name__}")
    if not -length <= index < length:
        raise IndexError(f"{container}: index {index} is out of range for {length} modules")
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
