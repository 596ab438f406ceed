"""Activation checkpointing, as ``torch.utils.checkpoint``: trade compute for memory.

``y = checkpoint(block, x)`` runs ``block`` without recording a graph and keeps only its inputs;
when the backward pass reaches ``y`` it runs ``block`` again, this time recording, and
backpropagates through that fresh graph. The activations inside ``block`` therefore live only
during its own backward step instead of from the forward pass to the end of backward. The random
stream is put back to where it was for the recomputation (``preserve_rng_state``), so dropout
draws the same mask twice and the gradients equal those of ``block(x)``.

Gradients of tensors the block uses without taking them as arguments (a module's parameters) are
accumulated into their ``.grad`` during the recomputation, as PyTorch's reentrant checkpoint does,
so ask for them with ``loss.backward()`` rather than ``minidl.autograd.grad``.
"""

from __future__ import annotations

from minidl.core.backward import run_backward
from minidl.core.function import Function
from minidl.core.grad_mode import enable_grad, is_grad_enabled, no_grad
from minidl.core.tensor import Tensor
from minidl.nn.module import Module
from minidl.random import fork_rng, get_rng_state, initial_seed, manual_seed, set_rng_state

__all__ = ["checkpoint", "checkpoint_sequential"]


class Checkpoint(Function):
    """y = f(x) computed twice: in forward without a graph (keeping x), in backward with one, giving
    dL/dx = (dy/dx)ᵀ dL/dy by backpropagating dL/dy through the recomputed f.

    The inputs are f's tensor arguments followed by the parameters f was found to use; those extra
    inputs only make the node record when a parameter alone requires grad (their gradients reach
    their ``.grad`` during the recomputation, so backward returns None for them).
    """

    def forward(self, *arrays, call):
        self.call = call
        self.rng = (initial_seed(), get_rng_state()) if call.preserve_rng_state else None
        self.save(*arrays[:call.tensor_count])
        with no_grad():
            outputs = call.run([Tensor(array) for array in arrays[:call.tensor_count]])
        return tuple(out.array for out in outputs) if call.several else outputs[0].array

    def backward(self, *grads):
        flags = self.needs_grad[:self.call.tensor_count]
        inputs = [Tensor(array, requires_grad=flag) for array, flag in zip(self.saved, flags)]
        with fork_rng(enabled=self.rng is not None), enable_grad():
            if self.rng is not None:
                manual_seed(self.rng[0])
                set_rng_state(self.rng[1])
            outputs = self.call.run(inputs)
        pairs = [(out, grad) for out, grad in zip(outputs, grads) if grad is not None and out.requires_grad]
        if pairs:
            run_backward([out for out, _ in pairs], [grad for _, grad in pairs])
        extra = len(self.needs_grad) - len(inputs)
        return tuple(None if x.grad is None else x.grad.array for x in inputs) + (None,) * extra


class _Call:
    """The checkpointed call: the function, where its tensor arguments go among the others, its keywords."""

    def __init__(self, function, args, kwargs, preserve_rng_state):
        self.function, self.kwargs, self.preserve_rng_state = function, kwargs, preserve_rng_state
        self.slots = [isinstance(arg, Tensor) for arg in args]
        self.constants = [None if is_tensor else arg for arg, is_tensor in zip(args, self.slots)]
        self.tensor_count = sum(self.slots)
        self.several = False

    def run(self, tensors):
        """Call the function; its output (a tensor or a tuple/list of tensors) as a tuple."""
        tensors = iter(tensors)
        args = [next(tensors) if is_tensor else constant for constant, is_tensor in zip(self.constants, self.slots)]
        out = self.function(*args, **self.kwargs)
        self.several = isinstance(out, (tuple, list))
        outputs = tuple(out) if self.several else (out,)
        for index, item in enumerate(outputs):
            if not isinstance(item, Tensor):
                raise TypeError(f"checkpoint: the function must return a tensor or a tuple of tensors, got "
                                f"{type(item).__name__}" + (f" as output {index}" if self.several else ""))
        return outputs


def _modules_of(function):
    """The modules ``function`` is, is bound to, or closes over: the parameters it is seen to use."""
    owners = [function, getattr(function, "__self__", None)]
    return owners + [cell.cell_contents for cell in getattr(function, "__closure__", None) or ()]


def _checkpoint(function, args, kwargs, preserve_rng_state, owners):
    tensors = [arg for arg in args if isinstance(arg, Tensor)]
    parameters = {}
    for owner in owners:
        if isinstance(owner, Module):
            parameters.update((id(p), p) for p in owner.parameters() if p.requires_grad)
    if not is_grad_enabled() or not (parameters or any(t.requires_grad for t in tensors)):
        return function(*args, **kwargs)
    return Checkpoint.apply(*tensors, *parameters.values(), call=_Call(function, args, kwargs, preserve_rng_state))


def checkpoint(function, *args, use_reentrant=None, preserve_rng_state=True, **kwargs):
    """``function(*args, **kwargs)``, recomputed in the backward pass instead of keeping its activations.

    Tensors among ``args`` get gradients as in the plain call; keyword arguments are passed through as
    constants. ``use_reentrant`` is accepted for PyTorch's signature (minidl has one mechanism). When
    grad mode is off, or no tensor argument and no parameter of a module ``function`` belongs to
    requires grad, the function simply runs (its gradients, if any, then follow the ordinary graph).
    """
    if not callable(function):
        raise TypeError(f"checkpoint: function must be callable, got {type(function).__name__}")
    if use_reentrant not in (None, True, False):
        raise TypeError(f"checkpoint: use_reentrant must be True, False or None, got {use_reentrant!r}")
    return _checkpoint(function, args, kwargs, preserve_rng_state, _modules_of(function))


def checkpoint_sequential(functions, segments, input, use_reentrant=None, **kwargs):  # noqa: A002 (PyTorch's name)
    """Run ``functions`` (a Sequential or a list of modules/functions) one after another on ``input``,
    split into ``segments`` chunks of ``len(functions) // segments``; every chunk but the last is
    checkpointed. ``preserve_rng_state`` (default True) is the one keyword accepted, as in PyTorch."""
    preserve_rng_state = kwargs.pop("preserve_rng_state", True)
    if kwargs:
        raise ValueError(f"checkpoint_sequential: unexpected keyword arguments: {', '.join(kwargs)}")
    functions = list(functions.children()) if isinstance(functions, Module) else list(functions)
    if isinstance(segments, bool) or not isinstance(segments, int) or not 1 <= segments <= len(functions):
        raise ValueError(f"checkpoint_sequential: segments must be an int from 1 to the number of functions "
                         f"({len(functions)}), got {segments!r}")
    size = len(functions) // segments
    end = 0
    for start in range(0, size * (segments - 1), size):
        end = start + size
        chunk = functions[start:end]
        input = _checkpoint(_chained(chunk), (input,), {}, preserve_rng_state, chunk)
    return _chained(functions[end:])(input)


def _chained(steps):
    """A function applying ``steps`` one after another."""
    def run(x):
        for step in steps:
            x = step(x)
        return x
    return run
