"""What weight norm and spectral norm share: finding and removing the forward pre-hook that recomputes
a module's weight from other parameters before each call."""

from __future__ import annotations

from minidl.nn.module import Parameter


def parameter_to_reparametrize(module, name, hook_type, function_name):
    """``module.<name>``, checked: a Parameter without a ``hook_type`` hook on it yet."""
    for hook in module._forward_pre_hooks.values():
        if isinstance(hook, hook_type) and hook.name == name:
            raise RuntimeError(f"Cannot register two {function_name} hooks on the same parameter {name}")
    weight = getattr(module, name)
    if not isinstance(weight, Parameter):
        raise TypeError(f"{function_name}: {type(module).__name__}.{name} must be a Parameter, got "
                        f"{type(weight).__name__}")
    return weight


def remove_reparametrization(module, name, hook_type, function_name):
    """Remove ``module``'s ``hook_type`` hook for ``name`` (its ``remove`` turns ``name`` back into a plain
    Parameter); a ValueError naming ``function_name`` when there is none. Returns the module."""
    for key, hook in module._forward_pre_hooks.items():
        if isinstance(hook, hook_type) and hook.name == name:
            hook.remove(module)
            del module._forward_pre_hooks[key]
            return module
    raise ValueError(f"{function_name} of '{name}' not found in {module}")
