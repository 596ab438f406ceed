"""Pruning: setting chosen weights to zero through a mask, with ``torch.nn.utils.prune``'s functions and layout.

Pruning parameter ``name`` of a module (say ``weight``) moves it to the Parameter ``weight_orig``,
stores a 0/1 buffer ``weight_mask`` and registers a forward pre-hook that sets the plain attribute

    weight = weight_orig ⊙ weight_mask

before every forward. The optimizer keeps training ``weight_orig`` (the same Parameter object as
before), the masked entries get zero gradient, and the state dict holds ``weight_orig`` and
``weight_mask`` instead of ``weight``: key for key what PyTorch writes. Pruning the same parameter
again prunes among the entries still kept (a :class:`PruningContainer` combines the masks);
:func:`remove` makes it permanent: ``weight`` becomes a Parameter again, holding the zeros.

Which entries go:

* :func:`l1_unstructured`: the ``amount`` entries of smallest |w| (ties: the earlier position first);
* :func:`random_unstructured`: ``amount`` entries drawn at random (minidl's generator);
* :func:`ln_structured`: whole slices along ``dim`` (output channels for dim 0) of smallest Lₙ norm;
* :func:`random_structured`: ``amount`` slices along ``dim`` drawn at random;
* :func:`custom_from_mask`: where a given mask is 0;
* :func:`global_unstructured`: the smallest |w| over several parameters together, one threshold for all.

``amount`` is a fraction in [0, 1] (rounded to a count as Python's ``round`` does) or a count.
"""

from __future__ import annotations

import math
import numbers

import numpy as np

from minidl.core import creation, no_grad
from minidl.core.backend import array_module
from minidl.core.tensor import Tensor


# --- the methods ------------------------------------------------------------------------------------------------

class BasePruningMethod:
    """A way to choose a mask; an instance is also the forward pre-hook that applies it to one parameter."""

    PRUNING_TYPE = "unstructured"
    _tensor_name = None

    def __call__(self, module, inputs):
        setattr(module, self._tensor_name, self.apply_mask(module))

    def compute_mask(self, t, default_mask):
        """The new mask (a Tensor) for importance scores ``t``, given the mask so far; 0 = pruned."""
        mask = self._mask(_array(t), _array(default_mask))
        return creation.as_tensor(mask, device=getattr(t, "device", None))

    def _mask(self, t, default_mask):
        raise NotImplementedError(f"{type(self).__name__} must define _mask(t, default_mask) on arrays")

    def apply_mask(self, module):
        """weight = weight_orig ⊙ weight_mask (differentiable in weight_orig)."""
        orig = getattr(module, self._tensor_name + "_orig")
        mask = getattr(module, self._tensor_name + "_mask")
        return orig * (mask if mask.dtype == orig.dtype else mask.to(orig.dtype))

    @classmethod
    def apply(cls, module, name, *args, importance_scores=None, **kwargs):
        """Prune ``module.<name>`` with a new ``cls(*args, **kwargs)``, combined with earlier pruning of it.
        A failure (a bad amount, dim or shape) leaves the module as it was."""
        method, old_keys = _composite_method(cls, module, name, *args, **kwargs)
        orig = getattr(module, name)
        if not isinstance(orig, Tensor):
            raise AttributeError(f"prune: module {type(module).__name__} has no parameter {name!r}")
        if importance_scores is not None and tuple(importance_scores.shape) != tuple(orig.shape):
            raise ValueError(f"prune: importance_scores of shape {tuple(importance_scores.shape)} must have the "
                             f"shape of {name}, {tuple(orig.shape)}")
        scores = orig if importance_scores is None else importance_scores
        if old_keys:
            default_mask = getattr(module, name + "_mask").array
        else:
            default_mask = array_module(orig.array).ones_like(orig.array)
        mask = method._mask(_array(scores), default_mask)  # may raise: nothing has changed yet
        if not old_keys:
            module.register_parameter(name + "_orig", orig)
            del module._parameters[name]
        module.register_buffer(name + "_mask", creation.as_tensor(mask.astype(orig.dtype), device=orig.device))
        setattr(module, name, method.apply_mask(module))
        for key in old_keys:
            del module._forward_pre_hooks[key]
        module.register_forward_pre_hook(method)
        return method

    def prune(self, t, default_mask=None, importance_scores=None):
        """``t`` times the mask this method computes from ``importance_scores`` (default: ``t``)."""
        scores = t if importance_scores is None else importance_scores
        default = array_module(_array(t)).ones_like(_array(t)) if default_mask is None else _array(default_mask)
        return t * creation.as_tensor(self._mask(_array(scores), default).astype(_array(t).dtype), device=t.device)

    def remove(self, module):
        """Make the pruning permanent: ``name`` becomes a Parameter holding orig ⊙ mask; _orig and _mask go."""
        with no_grad():
            weight = self.apply_mask(module)
        if self._tensor_name in module.__dict__:
            delattr(module, self._tensor_name)
        orig = module._parameters.pop(self._tensor_name + "_orig")
        orig.array = weight.array
        del module._buffers[self._tensor_name + "_mask"]
        setattr(module, self._tensor_name, orig)


class PruningContainer(BasePruningMethod):
    """Several pruning methods applied one after another to one parameter: each later one prunes
    among the entries (or, for structured methods, the slices) the earlier ones kept."""

    def __init__(self, *methods):
        self._pruning_methods = ()
        for method in methods:
            self.add_pruning_method(method)

    def add_pruning_method(self, method):
        if not isinstance(method, BasePruningMethod):
            raise TypeError(f"PruningContainer: {type(method).__name__} is not a pruning method")
        if self._tensor_name is not None and method._tensor_name != self._tensor_name:
            raise ValueError(f"PruningContainer: can only combine methods for {self._tensor_name!r}, got one "
                             f"for {method._tensor_name!r}")
        self._tensor_name = method._tensor_name
        self._pruning_methods += (method,)

    def __len__(self):
        return len(self._pruning_methods)

    def __iter__(self):
        return iter(self._pruning_methods)

    def __getitem__(self, index):
        return self._pruning_methods[index]

    def _mask(self, t, default_mask):
        method = self._pruning_methods[-1]
        new_mask = default_mask.copy()
        if method.PRUNING_TYPE == "unstructured":
            kept = default_mask == 1
        elif method.PRUNING_TYPE == "global":  # a method that sees the whole parameter (custom_from_mask)
            kept = (slice(None),) * t.ndim
        elif method.PRUNING_TYPE == "structured":
            dim = _dim(method.dim, t.ndim)
            keep_slices = default_mask.sum(axis=tuple(d for d in range(t.ndim) if d != dim)) != 0
            kept = [slice(None)] * t.ndim
            kept[dim] = keep_slices
            kept = tuple(kept)
        else:
            raise ValueError(f"PruningContainer: unknown PRUNING_TYPE {method.PRUNING_TYPE!r}")
        new_mask[kept] = method._mask(t[kept], new_mask[kept])
        return new_mask


class Identity(BasePruningMethod):
    """Prunes nothing: a mask of ones (the layout without a change)."""

    def _mask(self, t, default_mask):
        return default_mask


class _UnstructuredByScore(BasePruningMethod):
    """Prunes the ``amount`` entries with the lowest scores (``_scores``; ties: first in row-major order)."""

    def __init__(self, amount):
        self.amount = _checked_amount(amount)

    def _mask(self, t, default_mask):
        count = _count(self.amount, t.size)
        mask = default_mask.copy()
        if count:
            mask.reshape(-1)[array_module(t).argsort(self._scores(t), kind="stable")[:count]] = 0
        return mask


class RandomUnstructured(_UnstructuredByScore):
    """Prunes ``amount`` entries chosen at random (uniformly, from minidl's generator)."""

    def _scores(self, t):
        return -array_module(t).asarray(creation.default_generator().random(t.size))


class L1Unstructured(_UnstructuredByScore):
    """Prunes the ``amount`` entries of smallest absolute value."""

    def _scores(self, t):
        return abs(t).reshape(-1)


class RandomStructured(BasePruningMethod):
    """Prunes ``amount`` slices along ``dim`` chosen at random."""

    PRUNING_TYPE = "structured"

    def __init__(self, amount, dim=-1):
        self.amount, self.dim = _checked_amount(amount), dim

    def _mask(self, t, default_mask):
        dim = _dim(self.dim, t.ndim)
        count = _count(self.amount, t.shape[dim])
        if not count:
            return default_mask
        scores = creation.default_generator().random(t.shape[dim])
        return default_mask * _slices_kept(t, dim, np.argsort(-scores, kind="stable")[count:])


class LnStructured(BasePruningMethod):
    """Prunes the ``amount`` slices along ``dim`` of smallest Lₙ norm (n: a number, inf, -inf or 'fro')."""

    PRUNING_TYPE = "structured"

    def __init__(self, amount, n, dim=-1):
        self.amount = _checked_amount(amount)
        if n == "fro":
            n = 2
        if isinstance(n, bool) or not isinstance(n, numbers.Real):
            raise ValueError(f"ln_structured: n must be a number, inf, -inf or 'fro', got {n!r}")
        self.n, self.dim = n, dim

    def _mask(self, t, default_mask):
        dim = _dim(self.dim, t.ndim)
        size = t.shape[dim]
        count = _count(self.amount, size)
        if not count:
            return default_mask
        xp = array_module(t)
        flat = xp.moveaxis(abs(t), dim, 0).reshape(size, -1)
        if math.isinf(self.n):
            norms = flat.max(axis=1) if self.n > 0 else flat.min(axis=1)
        else:
            norms = (flat ** self.n).sum(axis=1) ** (1 / self.n)
        return default_mask * _slices_kept(t, dim, xp.argsort(-norms, kind="stable")[:size - count])


class CustomFromMask(BasePruningMethod):
    """Prunes where a given mask is 0."""

    PRUNING_TYPE = "global"

    def __init__(self, mask):
        self.mask = mask

    def _mask(self, t, default_mask):
        if tuple(self.mask.shape) != tuple(default_mask.shape):
            raise ValueError(f"custom_from_mask: mask of shape {tuple(self.mask.shape)} must have the parameter's "
                             f"shape {tuple(default_mask.shape)}")
        return default_mask * _array(self.mask).astype(default_mask.dtype)


# --- the functions --------------------------------------------------------------------------------------

def identity(module, name):
    """The pruning layout (``name_orig``, ``name_mask`` of ones, the hook) without pruning anything."""
    Identity.apply(module, name)
    return module


def random_unstructured(module, name, amount):
    """Prune ``amount`` (a fraction or a count) of the entries of ``module.<name>``, chosen at random."""
    RandomUnstructured.apply(module, name, amount)
    return module


def l1_unstructured(module, name, amount, importance_scores=None):
    """Prune the ``amount`` entries of ``module.<name>`` with the smallest |importance score| (default: |w|)."""
    L1Unstructured.apply(module, name, amount=amount, importance_scores=importance_scores)
    return module


def random_structured(module, name, amount, dim):
    """Prune ``amount`` slices along ``dim`` of ``module.<name>``, chosen at random."""
    RandomStructured.apply(module, name, amount, dim)
    return module


def ln_structured(module, name, amount, n, dim, importance_scores=None):
    """Prune the ``amount`` slices along ``dim`` of ``module.<name>`` with the smallest Lₙ norm."""
    LnStructured.apply(module, name, amount, n, dim, importance_scores=importance_scores)
    return module


def custom_from_mask(module, name, mask):
    """Prune ``module.<name>`` where ``mask`` is 0."""
    CustomFromMask.apply(module, name, mask=mask)
    return module


def global_unstructured(parameters, pruning_method, importance_scores=None, **kwargs):
    """Prune the (module, name) pairs of ``parameters`` together: ``pruning_method(**kwargs)`` (e.g.
    ``L1Unstructured, amount=0.8``) chooses over all their entries at once, so layers lose different shares."""
    parameters = list(parameters)
    if not parameters:
        raise ValueError("global_unstructured: parameters must list (module, name) pairs; got none")
    importance_scores = importance_scores or {}
    scores, masks = [], []
    for module, name in parameters:
        scores.append(_array(importance_scores.get((module, name), getattr(module, name))).reshape(-1))
        mask = getattr(module, name + "_mask", None)
        masks.append(array_module(scores[-1]).ones_like(scores[-1]) if mask is None else _array(mask).reshape(-1))
    xp = array_module(scores[0])
    method = pruning_method(**kwargs)
    if method.PRUNING_TYPE != "unstructured":
        raise TypeError(f"global_unstructured: {pruning_method.__name__} is not unstructured; only methods that "
                        "choose single entries can compare entries of different parameters")
    method._tensor_name = "temp"
    final_mask = PruningContainer(method)._mask(xp.concatenate(scores), xp.concatenate(masks))
    start = 0
    for (module, name), score in zip(parameters, scores):
        piece = final_mask[start:start + score.size].reshape(getattr(module, name).shape)
        custom_from_mask(module, name, piece)
        start += score.size


def remove(module, name):
    """Make the pruning of ``module.<name>`` permanent: the hook, ``name_orig`` and ``name_mask`` go, and
    ``name`` is a Parameter again (registered last, as in PyTorch), with the pruned entries at zero."""
    for key, hook in module._forward_pre_hooks.items():
        if isinstance(hook, BasePruningMethod) and hook._tensor_name == name:
            hook.remove(module)
            del module._forward_pre_hooks[key]
            return module
    raise ValueError(f"prune.remove: parameter {name!r} of module {type(module).__name__} has to be pruned before "
                     "pruning can be removed")


def is_pruned(module):
    """Whether ``module`` or any module inside it has a pruned parameter."""
    return any(isinstance(hook, BasePruningMethod)
               for sub in module.modules() for hook in sub._forward_pre_hooks.values())


# --- helpers ----------------------------------------------------------------------------------------------------

def _composite_method(cls, module, name, *args, **kwargs):
    """(the method to hook, the keys of the hooks it replaces): the new method alone, or a container
    of the methods that pruned ``name`` before and the new one."""
    old = [(key, hook) for key, hook in module._forward_pre_hooks.items()
           if isinstance(hook, BasePruningMethod) and hook._tensor_name == name]
    method = cls(*args, **kwargs)
    method._tensor_name = name
    if not old:
        return method, []
    previous = old[0][1]
    earlier = tuple(previous) if isinstance(previous, PruningContainer) else (previous,)
    return PruningContainer(*earlier, method), [key for key, _ in old]


def _array(value):
    return value.array if isinstance(value, Tensor) else value


def _dim(dim, ndim):
    if not -ndim <= dim < ndim:
        raise IndexError(f"prune: dim {dim} is out of range for a parameter with {ndim} dims")
    return dim % ndim


def _slices_kept(t, dim, kept):
    """A 0/1 array that broadcasts against ``t``: 1 for the slices ``kept`` along ``dim``."""
    xp = array_module(t)
    keep = xp.zeros(t.shape[dim], dtype=t.dtype)
    keep[kept] = 1
    shape = [1] * t.ndim
    shape[dim] = t.shape[dim]
    return keep.reshape(shape)


def _checked_amount(amount):
    if isinstance(amount, bool) or not isinstance(amount, numbers.Real):
        raise TypeError(f"prune: amount must be an int or a float, got {amount!r} ({type(amount).__name__})")
    if (isinstance(amount, numbers.Integral) and amount < 0) or (
            not isinstance(amount, numbers.Integral) and not 0.0 <= float(amount) <= 1.0):
        raise ValueError(f"prune: amount={amount} should either be a float in the range [0, 1] or a non-negative "
                         "integer")
    return amount


def _count(amount, size):
    """How many of ``size`` entries (or slices) ``amount`` prunes."""
    if isinstance(amount, numbers.Integral):
        if amount > size:
            raise ValueError(f"prune: amount={amount} should be smaller than the number of parameters to prune "
                             f"({size})")
        return int(amount)
    return round(amount * size)
