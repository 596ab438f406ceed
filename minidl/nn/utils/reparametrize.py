"""What weight norm and spectral norm share: finding and removing the forward pre-hook that recomputes
a module's weight from other parameters before each call."""

from __future__ import annotations


def remove_reparametrization(module, name, hook_type, function_name):
    """Remove ``module``'s ``hook_type`` hook for ``name`` (its ``remove`` turns ``name`` back into a plain
    Parameter); a ValueError naming ``function_name`` when there is none. Returns the module."""
    for key, hook in module._forward_pre_hooks.items():
        if isinstance(hook, hook_type) and hook.name == name:
            hook.remove(module)
            del module._forward_pre_hooks[key]
            return module
    raise ValueError(f"{function_name} of '{name}' not found in {module}")
