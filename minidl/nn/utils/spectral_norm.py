"""Spectral normalization (the classic hook API of ``torch.nn.utils.spectral_norm``).

``spectral_norm(module, name="weight", n_power_iterations=1, eps=1e-12, dim=None)`` moves the
Parameter ``name`` to ``name_orig``, keeps two buffers ``name_u`` and ``name_v`` (unit vectors, started
at random) and registers a forward pre-hook that sets the plain attribute

    w = W / σ,   σ = uᵀ W_mat v

with W_mat the weight with ``dim`` moved first and flattened to (size of dim, rest). In training mode
each forward first runs power iteration, without gradient::

    v ← normalize(W_matᵀ u),   u ← normalize(W_mat v)        (n_power_iterations times)

with normalize(x) = x / max(‖x‖, eps), so σ approximates W's largest singular value. Gradients flow
through W and σ (u and v are constants). ``dim`` defaults to 1 for transposed convolutions, else 0.
``remove_spectral_norm`` makes ``name`` a plain Parameter again holding the current W/σ.
"""

from __future__ import annotations

from minidl.core import creation, no_grad
from minidl.core.backend import array_module
from minidl.core.random import default_generator
from minidl.nn.conv import ConvTranspose1d, ConvTranspose2d
from minidl.nn.module import Parameter
from minidl.nn.utils.reparametrize import parameter_to_reparametrize, remove_reparametrization


def _normalize(x, eps):
    xp = array_module(x)
    return x / xp.maximum(xp.sqrt((x * x).sum()), eps)


class SpectralNorm:
    """The forward pre-hook of one spectrally normalized parameter."""

    def __init__(self, name="weight", n_power_iterations=1, dim=0, eps=1e-12):
        if n_power_iterations <= 0:
            raise ValueError("Expected n_power_iterations to be positive, but got "
                             f"n_power_iterations={n_power_iterations}")
        self.name, self.n_power_iterations, self.dim, self.eps = name, n_power_iterations, dim, eps

    def reshape_weight_to_matrix(self, weight):
        if self.dim != 0:
            weight = weight.permute(self.dim, *[d for d in range(weight.dim()) if d != self.dim])
        return weight.reshape(weight.shape[0], -1)

    def compute_weight(self, module, do_power_iteration):
        weight = getattr(module, self.name + "_orig")
        u, v = getattr(module, self.name + "_u"), getattr(module, self.name + "_v")
        matrix = self.reshape_weight_to_matrix(weight)
        if do_power_iteration:
            w = matrix.array
            for _ in range(self.n_power_iterations):
                v.array[...] = _normalize(w.T @ u.array, self.eps)
                u.array[...] = _normalize(w @ v.array, self.eps)
            u._modified(), v._modified()
        u_now, v_now = u.detach().clone(), v.detach().clone()
        sigma = (u_now * (matrix @ v_now)).sum()
        return weight / sigma

    @staticmethod
    def apply(module, name, n_power_iterations, dim, eps):
        weight = parameter_to_reparametrize(module, name, SpectralNorm, "spectral_norm")
        if not -weight.dim() <= dim < weight.dim():
            raise IndexError(f"spectral_norm: dim {dim} is out of range for {name} of shape {tuple(weight.shape)}")
        hook = SpectralNorm(name, n_power_iterations, dim % weight.dim(), eps)
        height, width = hook.reshape_weight_to_matrix(weight).shape
        xp = array_module(weight.array)
        start_u, start_v = (xp.asarray(default_generator().standard_normal(size)).astype(weight.dtype)
                            for size in (height, width))
        del module._parameters[name]
        module.register_parameter(name + "_orig", weight)
        setattr(module, name, weight.detach())
        module.register_buffer(name + "_u", creation.as_tensor(_normalize(start_u, eps), device=weight.device))
        module.register_buffer(name + "_v", creation.as_tensor(_normalize(start_v, eps), device=weight.device))
        module.register_forward_pre_hook(hook)
        return hook

    def remove(self, module):
        with no_grad():
            weight = self.compute_weight(module, do_power_iteration=False)
        if self.name in module.__dict__:
            delattr(module, self.name)
        del module._parameters[self.name + "_orig"]
        del module._buffers[self.name + "_u"]
        del module._buffers[self.name + "_v"]
        module.register_parameter(self.name, Parameter(weight.array.copy()))

    def __call__(self, module, inputs):
        setattr(module, self.name, self.compute_weight(module, do_power_iteration=module.training))


_TRANSPOSED_CONVOLUTIONS = (ConvTranspose1d, ConvTranspose2d)


def spectral_norm(module, name="weight", n_power_iterations=1, eps=1e-12, dim=None):
    """Divide ``module.<name>`` by its largest singular value, estimated by power iteration (see the
    module docstring); returns the module."""
    if dim is None:
        dim = 1 if isinstance(module, _TRANSPOSED_CONVOLUTIONS) else 0
    SpectralNorm.apply(module, name, n_power_iterations, dim, eps)
    return module


def remove_spectral_norm(module, name="weight"):
    """Undo :func:`spectral_norm`: ``name`` becomes a Parameter holding W/σ; returns the module."""
    return remove_reparametrization(module, name, SpectralNorm, "spectral_norm")
