"""Grading one exercise: the learner's answer against a reference or against finite differences.

A grader is a function ``grade(answer)`` that calls the learner's function on a few fixed
inputs and hands each result to :func:`compare` (an array against the expected one) or
:func:`expect` (one value or a property). The first disagreement raises :class:`Mistake`,
which says *where* (which output, which element), what was expected, what came back, and
one hint. Gradients are checked against central finite differences of the forward
(:func:`numerical_gradient`), the same test ``minidl.testing.gradcheck`` runs on minidl's ops.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


class Mistake(AssertionError):
    """An answer disagrees with the expected one: where, expected versus got, and one hint."""

    def __init__(self, what, expected, got, hint, element=None):
        self.what, self.expected, self.got, self.hint, self.element = what, expected, got, hint, element
        super().__init__(self.describe())

    def describe(self):
        where = self.what if self.element is None else f"{self.what}, element {self.element}"
        return f"{where}: expected {self.expected}, got {self.got}"


@dataclass(frozen=True)
class Exercise:
    """One exercise: the reference ``solution`` (its name, signature and docstring make the learner's
    stub, so the docstring is written to the learner), the ``grade`` function, and the ``hint`` shown
    when the answer raises an error instead of returning."""

    solution: object
    grade: object
    hint: str

    @property
    def name(self):
        return self.solution.__name__


def _shown(value):
    if isinstance(value, (bool, np.bool_)):
        return str(bool(value))
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        return f"{float(value):.6g}"
    return repr(value)


def _element(index):
    return tuple(int(i) for i in index) if len(index) != 1 else (int(index[0]),)


def as_array(got, what, expected, hint):
    """The answer as a NumPy array, or a Mistake that says what came back instead."""
    if got is None:
        raise Mistake(what, f"an array of shape {expected.shape}", "None (did the function forget to return?)", hint)
    try:
        array = np.asarray(got)
    except Exception:  # noqa: BLE001  (whatever the learner returned, say what it was)
        raise Mistake(what, f"an array of shape {expected.shape}", f"a {type(got).__name__}", hint) from None
    if array.dtype == object:
        raise Mistake(what, f"an array of shape {expected.shape}", f"a {type(got).__name__} that is not numeric", hint)
    return array


def compare(got, expected, what, hint, atol=1e-6, rtol=1e-5):
    """Raise a Mistake at the worst element where ``got`` differs from ``expected`` (exactly for integer
    and boolean arrays); the hint is replaced by a diagnosis when the answer is a sign flip, a
    constant multiple or the transpose of the expected one."""
    expected = np.asarray(expected)
    got = as_array(got, what, expected, hint)
    if got.shape != expected.shape:
        transposed = got.shape == expected.shape[::-1] and got.ndim > 1
        raise Mistake(f"{what} (its shape)", expected.shape, got.shape,
                      "the shape is the transpose of the expected one: a missing or extra transpose?" if transposed
                      else hint)
    if expected.dtype.kind in "biu":
        wrong = got != expected
        if wrong.any():
            index = np.unravel_index(int(np.argmax(wrong)), wrong.shape) if wrong.ndim else ()
            raise Mistake(what, _shown(expected[index]), _shown(got[index]), hint, _element(index) if index else None)
        return
    got = got.astype(np.float64)
    with np.errstate(all="ignore"):
        gap = np.abs(got - expected)
        wrong = ~(gap <= atol + rtol * np.abs(expected))  # NaN anywhere fails
    if not wrong.any():
        return
    worst = np.unravel_index(int(np.argmax(np.where(wrong, np.nan_to_num(gap, nan=np.inf), -1.0))), wrong.shape)
    raise Mistake(what, _shown(expected[worst]), _shown(got[worst]), diagnosis(got, expected, atol) or hint,
                  _element(worst) if wrong.ndim else None)


def diagnosis(got, expected, atol=1e-6):
    """A hint for the common slips: the sign, a constant factor (a forgotten 1/n), a transpose."""
    if not np.all(np.isfinite(got)):
        return "the answer holds NaN or infinity: an overflowing exp, a log of 0 or a division by 0?"
    if not np.any(got):
        return "every value is 0: a missing term, or a result computed but never written or returned?"
    if np.allclose(got, -expected, atol=atol, rtol=1e-5):
        return "every value has the wrong sign: check the sign of each term of the formula"
    if got.ndim == 2 and got.shape[0] == got.shape[1] and np.allclose(got, expected.T, atol=atol, rtol=1e-5):
        return "the answer is the transpose of the expected one: a missing or extra transpose?"
    big = np.abs(expected) > 1e-3
    if big.sum() >= 2:
        ratios = got[big] / expected[big]
        factor = float(np.median(ratios))
        if np.allclose(ratios, factor, rtol=1e-4) and not np.isclose(factor, 1.0):
            return (f"every value is {factor:.6g} times the expected one: a forgotten or extra constant factor "
                    "(1/n, a mean instead of a sum, a 2, a scale)?")
    return None


def expect(condition, what, expected, got, hint, element=None):
    """Raise a Mistake unless ``condition`` holds (for answers that are single values or properties)."""
    if not condition:
        raise Mistake(what, expected if isinstance(expected, str) else _shown(expected),
                      got if isinstance(got, str) else _shown(got), hint, element)


def numerical_gradient(function, arrays, index, g, eps=1e-6):
    """d/d arrays[index] of Σ g · function(*arrays), by central differences in float64.

    The vector-Jacobian product that a backward with output gradient ``g`` must return,
    computed from the forward alone.
    """
    arrays = [np.array(a, dtype=np.float64) for a in arrays]
    target = arrays[index]
    gradient = np.zeros_like(target)
    for position in np.ndindex(target.shape):
        original = target[position]
        target[position] = original + eps
        plus = np.sum(g * function(*arrays))
        target[position] = original - eps
        minus = np.sum(g * function(*arrays))
        target[position] = original
        gradient[position] = (plus - minus) / (2 * eps)
    return gradient


def random(seed, *shape, low=-1.0, high=1.0):
    """A float64 array of the given shape, uniform in [low, high), the same for the same seed."""
    return np.random.default_rng(seed).uniform(low, high, shape)


def parts(result, count, what, hint):
    """A tuple answer of ``count`` parts, or a Mistake that says what came back."""
    if not isinstance(result, (tuple, list)) or len(result) != count:
        got = f"a {type(result).__name__}" + (f" of {len(result)}" if isinstance(result, (tuple, list)) else "")
        raise Mistake(what, f"a tuple of {count} arrays", got, hint)
    return result
