"""Checks of the arguments users pass (sizes, rates, choices), with messages that name the function
or layer, the argument and the value: one place, so every layer words its errors alike.

    integer(value, "tril", "diagonal")                 an int of any sign (bools refused)
    size(value, "Linear", "in_features")               a non-negative int (bools refused)
    positive_size(value, "Conv2d", "stride")           an int ≥ 1
    number(value, "Adam", "lr", minimum=0.0)           a real number, optionally ≥ minimum
    probability(value, "Dropout", "p")                 a real number in [0, 1]
    choice(value, "Conv2d", "padding_mode", choices)   one of the choices
"""

from __future__ import annotations

import numbers


def integer(value, where, name):
    """``value`` as an int (any sign; bools refused)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{where}: {name} must be an int, got {value!r} ({type(value).__name__})")
    return int(value)


def size(value, where, name):
    """``value`` as an int ≥ 0; TypeError for a non-integer, ValueError for a negative one."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{where}: {name} must be an int, got {value!r} ({type(value).__name__})")
    if value < 0:
        raise ValueError(f"{where}: {name} must be non-negative, got {value}")
    return int(value)


def positive_size(value, where, name):
    """``value`` as an int ≥ 1."""
    value = size(value, where, name)
    if value < 1:
        raise ValueError(f"{where}: {name} must be at least 1, got {value}")
    return value


def number(value, where, name, minimum=None, above=None):
    """``value`` as a float; ``minimum`` bounds it from below (inclusive), ``above`` strictly."""
    if type(value).__name__ == "Tensor" and value.numel() == 1:  # a one-element tensor, as PyTorch allows
        value = value.item()
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{where}: {name} must be a number, got {value!r} ({type(value).__name__})")
    value = float(value)
    if value != value:
        raise ValueError(f"{where}: {name} must be a number, got nan")
    if minimum is not None and value < minimum:
        raise ValueError(f"{where}: {name} must be at least {minimum}, got {value}")
    if above is not None and value <= above:
        raise ValueError(f"{where}: {name} must be greater than {above}, got {value}")
    return value


def probability(value, where, name):
    """``value`` as a float in [0, 1]."""
    value = number(value, where, name)
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"{where}: {name} must be between 0 and 1, got {value}")
    return value


def choice(value, where, name, choices):
    """``value`` itself, when it is one of ``choices``."""
    if not isinstance(value, str) or value not in choices:
        listed = ", ".join(repr(c) for c in choices)
        raise ValueError(f"{where}: {name} must be one of {listed}, got {value!r}")
    return value
