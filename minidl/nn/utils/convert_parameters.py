"""All parameters as one flat vector and back, as ``torch.nn.utils.parameters_to_vector`` /
``vector_to_parameters`` (used by second-order optimizers, evolution strategies, weight averaging)."""

from __future__ import annotations

from minidl.core.errors import DeviceError, ShapeError
from minidl.core.tensor import Tensor
from minidl.ops import cat


def _parameter_list(parameters, where):
    parameters = [parameters] if isinstance(parameters, Tensor) else list(parameters)
    devices = {str(p.device) for p in parameters}
    if len(devices) > 1:
        raise DeviceError(f"{where}: all parameters must be on one device, got {sorted(devices)}")
    return parameters


def parameters_to_vector(parameters):
    """One 1-D tensor of every parameter's values, flattened and concatenated in order (differentiable)."""
    parameters = _parameter_list(parameters, "parameters_to_vector")
    return cat([p.reshape(-1) for p in parameters])


def vector_to_parameters(vec, parameters):
    """Give the parameters, in order, the consecutive slices of the 1-D tensor ``vec`` (as ``p.data = ...``).

    The parameters then share memory with ``vec``, as in PyTorch; ``vec`` must hold exactly as many
    values as the parameters together.
    """
    if not isinstance(vec, Tensor):
        raise TypeError(f"vector_to_parameters: vec must be a Tensor, got {type(vec).__name__}")
    if vec.ndim != 1:
        raise ShapeError(f"vector_to_parameters: vec must be 1-D, got shape {tuple(vec.shape)}")
    parameters = _parameter_list(parameters, "vector_to_parameters")
    total = sum(p.numel() for p in parameters)
    if vec.numel() != total:
        shapes = ", ".join(str(tuple(p.shape)) for p in parameters)
        raise ShapeError(f"vector_to_parameters: vec has {vec.numel()} values but the parameters (shapes {shapes}) "
                         f"hold {total}")
    start = 0
    for p in parameters:
        p.data = vec.array[start:start + p.numel()].reshape(p.array.shape)
        start += p.numel()
