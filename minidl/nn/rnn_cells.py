"""One time step of a recurrent network: the step functions and the cells RNNCell, LSTMCell, GRUCell.

Each step function takes the input's projection W_ih x + b_ih (computed beforehand: the layers in
recurrent.py compute it for every time step in one matrix product) and the state, and returns the
next state. The gates of a step are one product W_hh h + b_hh of 4 (LSTM) or 3 (GRU) blocks of
hidden_size rows, in PyTorch's order (i, f, g, o for LSTM and r, z, n for GRU), so a PyTorch
state dict loads unchanged. They are written with minidl's differentiable ops only (linear,
sigmoid, tanh, arithmetic): autograd gives their gradients.
"""

from __future__ import annotations

import math

from minidl.core import creation
from minidl.core.arguments import choice, positive_size
from minidl.core.errors import ShapeError
from minidl.nn import functional as F
from minidl.nn import init
from minidl.nn.module import Module, Parameter

NONLINEARITIES = ("tanh", "relu")


def gates(x, count):
    """The ``count`` equal blocks of x's last dim (the gates stacked in one projection), as tensors."""
    return x.reshape(x.shape[:-1] + (count, x.shape[-1] // count)).unbind(-2)


def rnn_step(projection, h, weight_hh, bias_hh, nonlinearity="tanh"):
    """The Elman RNN step: h' = act(W_ih x + b_ih + W_hh h + b_hh), act = tanh or relu.

    ``projection`` is W_ih x + b_ih."""
    pre_activation = projection + F.linear(h, weight_hh, bias_hh)
    return F.tanh(pre_activation) if nonlinearity == "tanh" else F.relu(pre_activation)


def lstm_step(projection, state, weight_hh, bias_hh, weight_hr=None):
    """The LSTM step, on ``state`` = (h, c) and ``projection`` = W_ih x + b_ih:

        i = σ(W_ii x + b_ii + W_hi h + b_hi)      input gate
        f = σ(W_if x + b_if + W_hf h + b_hf)      forget gate
        g = tanh(W_ig x + b_ig + W_hg h + b_hg)   candidate cell
        o = σ(W_io x + b_io + W_ho h + b_ho)      output gate
        c' = f ⊙ c + i ⊙ g
        h' = o ⊙ tanh(c')                         (with proj_size: h' = W_hr (o ⊙ tanh(c')))

    Returns (h', c')."""
    h, c = state
    i, f, g, o = gates(projection + F.linear(h, weight_hh, bias_hh), 4)
    c = F.sigmoid(f) * c + F.sigmoid(i) * F.tanh(g)
    h = F.sigmoid(o) * F.tanh(c)
    return (h if weight_hr is None else F.linear(h, weight_hr)), c


def gru_step(projection, h, weight_hh, bias_hh):
    """The GRU step, on ``projection`` = W_ih x + b_ih:

        r = σ(W_ir x + b_ir + W_hr h + b_hr)          reset gate
        z = σ(W_iz x + b_iz + W_hz h + b_hz)          update gate
        n = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn))  candidate (the reset gate scales W_hn h + b_hn)
        h' = (1 - z) ⊙ n + z ⊙ h
    """
    x_r, x_z, x_n = gates(projection, 3)
    h_r, h_z, h_n = gates(F.linear(h, weight_hh, bias_hh), 3)
    r = F.sigmoid(x_r + h_r)
    z = F.sigmoid(x_z + h_z)
    n = F.tanh(x_n + r * h_n)
    return (1 - z) * n + z * h


def check_state(state, expected, where, what):
    """An initial state (h_0, c_0, hx) must have the ``expected`` shape: a ShapeError naming both."""
    if tuple(state.shape) != tuple(expected):
        raise ShapeError(f"{where}: expected {what} of shape {tuple(expected)}, got {tuple(state.shape)}")


def zeros_state(shape, like):
    """A zero initial state of ``like``'s dtype and device (no gradient)."""
    return creation.zeros(*shape, dtype=like.dtype, device=like.device)


class RNNCellBase(Module):
    """What the cells share: ``weight_ih`` (chunks·hidden_size, input_size), ``weight_hh`` (chunks·hidden_size,
    hidden_size), ``bias_ih`` and ``bias_hh`` (chunks·hidden_size,), every one ~ U(-1/√hidden_size,
    1/√hidden_size) as in PyTorch; the input checks and the zero default state."""

    def __init__(self, input_size, hidden_size, bias, num_chunks, device=None, dtype=None):
        super().__init__()
        name = type(self).__name__
        self.input_size = positive_size(input_size, name, "input_size")
        self.hidden_size = positive_size(hidden_size, name, "hidden_size")
        self.bias = bool(bias)
        rows = num_chunks * self.hidden_size
        self.weight_ih = Parameter(creation.empty(rows, self.input_size, dtype=dtype, device=device))
        self.weight_hh = Parameter(creation.empty(rows, self.hidden_size, dtype=dtype, device=device))
        if bias:
            self.bias_ih = Parameter(creation.empty(rows, dtype=dtype, device=device))
            self.bias_hh = Parameter(creation.empty(rows, dtype=dtype, device=device))
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()

    def reset_parameters(self):
        bound = 1.0 / math.sqrt(self.hidden_size)
        for weight in self.parameters():
            init.uniform_(weight, -bound, bound)

    def _input(self, x):
        """x as (batch, input_size) and whether it came batched; clear errors for other shapes."""
        name = type(self).__name__
        if x.ndim not in (1, 2):
            raise ShapeError(f"{name}: expected input to be 1-D (input_size,) or 2-D (batch, input_size), got "
                             f"{x.ndim}-D input of shape {tuple(x.shape)}")
        if x.shape[-1] != self.input_size:
            raise ShapeError(f"{name}: expected input with last dim input_size={self.input_size}, got shape "
                             f"{tuple(x.shape)}")
        if x.dtype != self.weight_ih.dtype:
            raise TypeError(f"{name}: input dtype {x.dtype} does not match weight dtype {self.weight_ih.dtype}")
        return (x, True) if x.ndim == 2 else (x.unsqueeze(0), False)

    def _state(self, state, x, batched, what):
        """A given state checked against (batch, hidden_size) ((hidden_size,) unbatched) and made 2-D, or zeros."""
        if state is None:
            return zeros_state((x.shape[0], self.hidden_size), x)
        expected = (x.shape[0], self.hidden_size) if batched else (self.hidden_size,)
        check_state(state, expected, type(self).__name__, what)
        return state if batched else state.unsqueeze(0)

    def _projection(self, x):
        return F.linear(x, self.weight_ih, self.bias_ih)

    def extra_repr(self):
        text = f"{self.input_size}, {self.hidden_size}"
        if not self.bias:
            text += ", bias=False"
        if getattr(self, "nonlinearity", "tanh") != "tanh":
            text += f", nonlinearity={self.nonlinearity}"
        return text


class RNNCell(RNNCellBase):
    """One Elman RNN step, h' = act(W_ih x + b_ih + W_hh h + b_hh) with act = tanh or relu.

    ``forward(input, hx=None)``: input (batch, input_size) or (input_size,), hx of the matching shape
    (batch, hidden_size) or (hidden_size,), zeros by default; returns h'."""

    def __init__(self, input_size, hidden_size, bias=True, nonlinearity="tanh", device=None, dtype=None):
        choice(nonlinearity, "RNNCell", "nonlinearity", NONLINEARITIES)
        super().__init__(input_size, hidden_size, bias, 1, device, dtype)
        self.nonlinearity = nonlinearity

    def forward(self, input, hx=None):  # noqa: A002  (PyTorch's names)
        x, batched = self._input(input)
        h = rnn_step(self._projection(x), self._state(hx, x, batched, "hx"), self.weight_hh, self.bias_hh,
                     self.nonlinearity)
        return h if batched else h.squeeze(0)


class LSTMCell(RNNCellBase):
    """One LSTM step (gates i, f, g, o: see :func:`lstm_step`).

    ``forward(input, hx=None)``: hx = (h, c), each (batch, hidden_size) or (hidden_size,), zeros by
    default; returns (h', c')."""

    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__(input_size, hidden_size, bias, 4, device, dtype)

    def forward(self, input, hx=None):  # noqa: A002
        x, batched = self._input(input)
        if hx is not None and (not isinstance(hx, (tuple, list)) or len(hx) != 2):
            raise TypeError(f"LSTMCell: hx must be a pair (h, c) of tensors, got {type(hx).__name__}")
        h, c = (None, None) if hx is None else hx
        state = (self._state(h, x, batched, "h (hx[0])"), self._state(c, x, batched, "c (hx[1])"))
        h, c = lstm_step(self._projection(x), state, self.weight_hh, self.bias_hh)
        return (h, c) if batched else (h.squeeze(0), c.squeeze(0))


class GRUCell(RNNCellBase):
    """One GRU step (gates r, z, n: see :func:`gru_step`).

    ``forward(input, hx=None)``: hx (batch, hidden_size) or (hidden_size,), zeros by default; returns h'."""

    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__(input_size, hidden_size, bias, 3, device, dtype)

    def forward(self, input, hx=None):  # noqa: A002
        x, batched = self._input(input)
        h = gru_step(self._projection(x), self._state(hx, x, batched, "hx"), self.weight_hh, self.bias_hh)
        return h if batched else h.squeeze(0)
