"""More activation modules, as ``torch.nn``'s: ELU, CELU, SELU, GLU, Hardtanh, ReLU6, Hardsigmoid,
Hardswish, LogSigmoid, Mish, Softplus, Softsign, Tanhshrink, Softmin and PReLU (whose slope is a
parameter named ``weight``). Each stores its options and calls the functional form in
``minidl.nn.functional``; ``inplace=True`` writes the result into the input, as in PyTorch.
"""

from __future__ import annotations

import warnings

from minidl.core import creation
from minidl.core.arguments import number, positive_size
from minidl.nn import functional as F
from minidl.nn.module import Module, Parameter


def _inplace_repr(inplace):
    return "inplace=True" if inplace else ""


class ELU(Module):
    """x for x > 0, α(eˣ - 1) otherwise."""

    def __init__(self, alpha=1.0, inplace=False):
        super().__init__()
        self.alpha, self.inplace = number(alpha, "ELU", "alpha"), inplace

    def forward(self, input):  # noqa: A002 (PyTorch's names)
        return F.elu(input, self.alpha, self.inplace)

    def extra_repr(self):
        return f"alpha={self.alpha}" + (", inplace=True" if self.inplace else "")


class CELU(ELU):
    """max(0, x) + min(0, α(e^(x/α) - 1))."""

    def forward(self, input):  # noqa: A002
        return F.celu(input, self.alpha, self.inplace)


class SELU(Module):
    """scale·elu(x, α) with the self-normalising constants."""

    def __init__(self, inplace=False):
        super().__init__()
        self.inplace = inplace

    def forward(self, input):  # noqa: A002
        return F.selu(input, self.inplace)

    def extra_repr(self):
        return _inplace_repr(self.inplace)


class GLU(Module):
    """a·σ(b), with a and b the halves of the input along ``dim``."""

    def __init__(self, dim=-1):
        super().__init__()
        self.dim = dim

    def forward(self, input):  # noqa: A002
        return F.glu(input, self.dim)

    def extra_repr(self):
        return f"dim={self.dim}"


class Hardtanh(Module):
    """x clamped to [min_val, max_val]."""

    def __init__(self, min_val=-1.0, max_val=1.0, inplace=False, min_value=None, max_value=None):
        super().__init__()
        if min_value is not None:
            warnings.warn("Hardtanh: keyword argument `min_value` is deprecated and renamed to `min_val`",
                          FutureWarning, stacklevel=2)
            min_val = min_value
        if max_value is not None:
            warnings.warn("Hardtanh: keyword argument `max_value` is deprecated and renamed to `max_val`",
                          FutureWarning, stacklevel=2)
            max_val = max_value
        self.min_val, self.max_val = number(min_val, "Hardtanh", "min_val"), number(max_val, "Hardtanh", "max_val")
        if self.min_val > self.max_val:
            raise ValueError(f"Hardtanh: min_val ({min_val}) cannot be greater than max_val ({max_val})")
        self.inplace = inplace

    def forward(self, input):  # noqa: A002
        return F.hardtanh(input, self.min_val, self.max_val, self.inplace)

    def extra_repr(self):
        return f"min_val={self.min_val}, max_val={self.max_val}" + (", inplace=True" if self.inplace else "")


class ReLU6(Hardtanh):
    """min(max(x, 0), 6)."""

    def __init__(self, inplace=False):
        super().__init__(0.0, 6.0, inplace)

    def extra_repr(self):
        return _inplace_repr(self.inplace)


class _Elementwise(Module):
    """An activation without options (but maybe ``inplace``): ``function`` of the input."""

    function = None
    takes_inplace = True
    prints_inplace = True  # PyTorch's Hardsigmoid and Hardswish leave it out of their repr

    def __init__(self, inplace=False):
        super().__init__()
        self.inplace = inplace

    def forward(self, input):  # noqa: A002
        function = type(self).function
        return function(input, inplace=self.inplace) if self.takes_inplace else function(input)

    def extra_repr(self):
        return _inplace_repr(self.inplace) if self.prints_inplace else ""


class Hardsigmoid(_Elementwise):
    """relu6(x + 3)/6."""

    function, prints_inplace = staticmethod(F.hardsigmoid), False


class Hardswish(_Elementwise):
    """x·relu6(x + 3)/6."""

    function, prints_inplace = staticmethod(F.hardswish), False


class Mish(_Elementwise):
    """x·tanh(softplus(x))."""

    function = staticmethod(F.mish)


class LogSigmoid(_Elementwise):
    """ln σ(x), stable for large |x|."""

    function, takes_inplace = staticmethod(F.logsigmoid), False

    def __init__(self):
        super().__init__()


class Softsign(LogSigmoid):
    """x / (1 + |x|)."""

    function = staticmethod(F.softsign)


class Tanhshrink(LogSigmoid):
    """x - tanh(x)."""

    function = staticmethod(F.tanhshrink)


class Softplus(Module):
    """ln(1 + e^(βx))/β; x itself where βx > threshold."""

    def __init__(self, beta=1.0, threshold=20.0):
        super().__init__()
        self.beta, self.threshold = number(beta, "Softplus", "beta"), number(threshold, "Softplus", "threshold")

    def forward(self, input):  # noqa: A002
        return F.softplus(input, self.beta, self.threshold)

    def extra_repr(self):
        return f"beta={self.beta}, threshold={self.threshold}"


class Softmin(Module):
    """softmax(-x) along ``dim``."""

    def __init__(self, dim=None):
        super().__init__()
        self.dim = dim

    def forward(self, input):  # noqa: A002
        return F.softmin(input, self.dim)

    def extra_repr(self):
        return f"dim={self.dim}"


class PReLU(Module):
    """x for x > 0, a·x otherwise, with the slope a learned: one for all channels (num_parameters=1)
    or one per channel (dim 1 of the input); ``weight`` starts at ``init`` (0.25)."""

    def __init__(self, num_parameters=1, init=0.25, device=None, dtype=None):
        super().__init__()
        self.num_parameters = positive_size(num_parameters, "PReLU", "num_parameters")
        self.init = number(init, "PReLU", "init")
        self.weight = Parameter(creation.full((self.num_parameters,), self.init, dtype=dtype, device=device))

    def reset_parameters(self):
        self.weight.array[...] = self.init

    def forward(self, input):  # noqa: A002
        return F.prelu(input, self.weight)

    def extra_repr(self):
        return f"num_parameters={self.num_parameters}"
