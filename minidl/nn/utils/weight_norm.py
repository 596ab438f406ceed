"""Weight normalization (the classic hook API of ``torch.nn.utils.weight_norm``).

``weight_norm(module, name="weight", dim=0)`` replaces the Parameter ``name`` by a magnitude
``name_g`` and a direction ``name_v`` and registers a forward pre-hook that sets the plain attribute

    w = g · v / ‖v‖

before every forward, the norm taken over every dim except ``dim`` (``dim=None`` or -1: over the
whole tensor, g a scalar). Gradients: ∂w/∂g = v/‖v‖, and autograd carries the rest to v (the
textbook result ∇_v = g/‖v‖ · (∇_w − (ŵ·∇_w) ŵ) per slice, ŵ = v/‖v‖). ``remove_weight_norm``
makes ``name`` a plain Parameter again holding the current w.
"""

from __future__ import annotations

from minidl.core import no_grad
from minidl.nn.module import Parameter
from minidl.nn.utils.reparametrize import parameter_to_reparametrize, remove_reparametrization


def _norm_except_dim(v, dim):
    """‖v‖ over every dim except ``dim`` (kept with size 1), or over all of v when ``dim`` is -1."""
    if dim == -1:
        return (v * v).sum().sqrt()
    return (v * v).sum(dim=tuple(d for d in range(v.dim()) if d != dim), keepdim=True).sqrt()


class WeightNorm:
    """The forward pre-hook of one weight-normalized parameter: sets ``name`` from ``name_g``, ``name_v``."""

    def __init__(self, name, dim):
        self.name, self.dim = name, dim

    def compute_weight(self, module):
        g, v = getattr(module, self.name + "_g"), getattr(module, self.name + "_v")
        return v * (g / _norm_except_dim(v, self.dim))

    @staticmethod
    def apply(module, name, dim):
        weight = parameter_to_reparametrize(module, name, WeightNorm, "weight_norm")
        if dim is None:
            dim = -1
        elif not -weight.dim() <= dim < weight.dim():
            raise IndexError(f"weight_norm: dim {dim} is out of range for {name} of shape {tuple(weight.shape)}")
        elif dim < -1:
            dim += weight.dim()
        hook = WeightNorm(name, dim)
        with no_grad():
            magnitude = _norm_except_dim(weight, dim)
        del module._parameters[name]
        module.register_parameter(name + "_g", Parameter(magnitude.array.copy()))
        module.register_parameter(name + "_v", Parameter(weight.array.copy()))
        setattr(module, name, hook.compute_weight(module))
        module.register_forward_pre_hook(hook)
        return hook

    def remove(self, module):
        with no_grad():
            weight = self.compute_weight(module)
        if self.name in module.__dict__:
            delattr(module, self.name)
        del module._parameters[self.name + "_g"]
        del module._parameters[self.name + "_v"]
        setattr(module, self.name, Parameter(weight.array.copy()))

    def __call__(self, module, inputs):
        setattr(module, self.name, self.compute_weight(module))


def weight_norm(module, name="weight", dim=0):
    """Reparametrize ``module.<name>`` as g · v/‖v‖ (see the module docstring); returns the module."""
    WeightNorm.apply(module, name, dim)
    return module


def remove_weight_norm(module, name="weight"):
    """Undo :func:`weight_norm`: ``name`` becomes a Parameter holding g · v/‖v‖; returns the module."""
    return remove_reparametrization(module, name, WeightNorm, "weight_norm")
