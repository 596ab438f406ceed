"""Gradient checking: compare backward() with central finite differences.

:func:`gradcheck` is public, so learners can prove the gradients of their own
ops. It works in float64 only and compares *vector-Jacobian products for random
output vectors* (plus the full Jacobian when the problem is small): checking
only the gradient of ``out.sum()`` would pass a softmax whose backward returns
zeros, since the rows of a softmax always sum to one.

The declarative op-test harness built on it lives in ``minidl.testing.harness``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from minidl.core import no_grad
from minidl.core.backend import to_device, to_numpy
from minidl.core.tensor import Tensor


class GradcheckError(AssertionError):
    """Analytical and numerical gradients disagree; the message names the worst element."""


@dataclass
class Mismatch:
    """The worst disagreement found: where it is and both values."""

    input_index: int
    element: tuple
    analytical: float
    numerical: float
    what: str

    def report(self, atol, rtol):
        error = abs(self.analytical - self.numerical)
        return (f"gradcheck failed ({self.what}): input {self.input_index}, element {self.element}: "
                f"analytical {self.analytical:.8g} vs numerical {self.numerical:.8g} "
                f"(|difference| {error:.3g} > atol {atol:g} + rtol {rtol:g} * |numerical|)")


def gradcheck(fn, inputs, eps=1e-6, atol=1e-5, rtol=1e-3, *, vectors=3, full_jacobian_max=512,
              directional_above=4096, seed=0, raise_exception=True):
    """Check ``fn``'s backward against central differences at ``inputs``.

    ``fn`` takes the tensors in ``inputs`` (a tensor or a sequence; other values
    are passed through) and returns a tensor or a tuple of tensors. Every
    float64 tensor input with ``requires_grad=True`` is checked:

    * for ``vectors`` random output vectors v, the vector-Jacobian product
      vᵀJ from backward() against vᵀ(f(x + eps·eᵢ) - f(x - eps·eᵢ)) / 2eps;
    * when outputs × inputs ≤ ``full_jacobian_max``, the full Jacobian, one
      backward() per output element;
    * an input with more than ``directional_above`` elements is probed along
      random directions u instead: vᵀJu from both sides.

    An element passes when |analytical - numerical| ≤ atol + rtol·|numerical|.
    Returns True, or raises :class:`GradcheckError` describing the worst element
    (or returns False with ``raise_exception=False``).
    """
    inputs = tuple(inputs) if isinstance(inputs, (tuple, list)) else (inputs,)
    checked = [i for i, x in enumerate(inputs) if isinstance(x, Tensor) and x.requires_grad]
    if not checked:
        raise ValueError("gradcheck: no input requires grad; pass tensors with requires_grad=True")
    for i in checked:
        if inputs[i].dtype != np.float64:
            raise TypeError(f"gradcheck: input {i} has dtype {inputs[i].dtype}; gradcheck needs float64 inputs "
                            "because central differences in lower precision are too inaccurate (use .double())")
    # checked inputs become fresh leaves (same array, same layout), so backward fills their .grad
    inputs = tuple(Tensor(x.array, requires_grad=True) if i in checked else x for i, x in enumerate(inputs))
    rng = np.random.default_rng(seed)
    outputs = _as_outputs(fn(*inputs))
    out_sizes = [o.array.size for o in outputs]
    n_out = sum(out_sizes)

    worst = None
    probes = [rng.standard_normal(n_out) for _ in range(vectors)]
    in_total = sum(inputs[i].array.size for i in checked)
    if n_out * in_total <= full_jacobian_max:
        probes += list(np.eye(n_out))
    analytical = [_vjp(fn, inputs, checked, v, out_sizes) for v in probes]
    for position, i in enumerate(checked):
        size = inputs[i].array.size
        if size > directional_above:
            found = _check_directions(fn, inputs, i, position, probes, analytical, eps, atol, rtol, rng)
        else:
            found = _check_elements(fn, inputs, i, position, probes, analytical, eps, atol, rtol)
        if found is not None and (worst is None or _excess(found, atol, rtol) > _excess(worst, atol, rtol)):
            worst = found
    if worst is None:
        return True
    if raise_exception:
        raise GradcheckError(worst.report(atol, rtol))
    return False


def _as_outputs(result):
    outputs = result if isinstance(result, (tuple, list)) else (result,)
    outputs = tuple(o for o in outputs if isinstance(o, Tensor))
    if not outputs:
        raise TypeError("gradcheck: fn must return a tensor or a tuple of tensors")
    return outputs


def _flat_output(fn, inputs):
    with no_grad():
        outputs = _as_outputs(fn(*inputs))
    return np.concatenate([to_numpy(o.array).astype(np.float64).ravel() for o in outputs])


def _vjp(fn, inputs, checked, vector, out_sizes):
    """vᵀJ for every checked input, by backward() through a fresh graph (one call per output)."""
    for i in checked:
        inputs[i].grad = None
    outputs = _as_outputs(fn(*inputs))
    start = 0
    for output, size in zip(outputs, out_sizes):
        if output.requires_grad:
            weights = vector[start:start + size].reshape(output.shape).astype(output.dtype)
            output.backward(Tensor(to_device(weights, output.device)), retain_graph=True)
        start += size
    grads = []
    for i in checked:
        grad = inputs[i].grad
        grads.append(np.zeros(inputs[i].shape) if grad is None else to_numpy(grad.array).astype(np.float64))
        inputs[i].grad = None
    return grads


def _perturbed(inputs, i, array):
    """The inputs with input i replaced by a constant tensor holding ``array``."""
    replaced = list(inputs)
    replaced[i] = Tensor(to_device(array, inputs[i].device))
    return replaced


def _check_elements(fn, inputs, i, position, probes, analytical, eps, atol, rtol):
    """Central differences for every element of input i, against every probe's vᵀJ."""
    host = np.array(to_numpy(inputs[i].array), dtype=np.float64)
    flat = host.reshape(-1)
    worst = None
    for k in range(flat.size):
        original = flat[k]
        flat[k] = original + eps
        plus = _flat_output(fn, _perturbed(inputs, i, host.copy()))
        flat[k] = original - eps
        minus = _flat_output(fn, _perturbed(inputs, i, host.copy()))
        flat[k] = original
        column = (plus - minus) / (2 * eps)  # column k of the Jacobian
        for probe, grads in zip(probes, analytical):
            numerical = float(probe @ column)
            value = float(grads[position].reshape(-1)[k])
            candidate = Mismatch(i, tuple(int(n) for n in np.unravel_index(k, host.shape)), value, numerical, _probe_name(probe))
            if _excess(candidate, atol, rtol) > 0 and (worst is None or _excess(candidate, atol, rtol) >
                                                       _excess(worst, atol, rtol)):
                worst = candidate
    return worst


def _check_directions(fn, inputs, i, position, probes, analytical, eps, atol, rtol, rng, directions=4):
    """For a large input: vᵀJu along random directions u."""
    host = np.array(to_numpy(inputs[i].array), dtype=np.float64)
    worst = None
    for _ in range(directions):
        u = rng.standard_normal(host.shape)
        plus = _flat_output(fn, _perturbed(inputs, i, host + eps * u))
        minus = _flat_output(fn, _perturbed(inputs, i, host - eps * u))
        derivative = (plus - minus) / (2 * eps)
        for probe, grads in zip(probes, analytical):
            candidate = Mismatch(i, ("direction",), float((grads[position] * u).sum()), float(probe @ derivative),
                                 _probe_name(probe) + ", random input direction")
            if _excess(candidate, atol, rtol) > 0 and (worst is None or _excess(candidate, atol, rtol) >
                                                       _excess(worst, atol, rtol)):
                worst = candidate
    return worst


def _probe_name(probe):
    ones = np.flatnonzero(probe)
    if ones.size == 1 and probe[ones[0]] == 1.0:
        return f"full Jacobian, output element {int(ones[0])}"
    return "random output vector"


def _excess(mismatch, atol, rtol):
    """How far beyond the tolerance a mismatch lies; NaN or Inf on either side always fails."""
    if not (np.isfinite(mismatch.analytical) and np.isfinite(mismatch.numerical)):
        return float("inf")
    return abs(mismatch.analytical - mismatch.numerical) - (atol + rtol * abs(mismatch.numerical))
