"""Recurrent layers RNN, LSTM and GRU: stacks of the steps in rnn_cells.py run over a sequence.

Arguments, parameter names and shapes, initialisation, input and output layouts are PyTorch's, so a
PyTorch state dict loads unchanged. Layer k (direction suffix ``_reverse`` for the backward
direction of a bidirectional layer) holds::

    weight_ih_l{k}  (gates·hidden_size, input size of layer k)   gates: 1 RNN, 3 GRU, 4 LSTM
    weight_hh_l{k}  (gates·hidden_size, hidden_size or proj_size)
    bias_ih_l{k}, bias_hh_l{k}  (gates·hidden_size,)              (when bias=True)
    weight_hr_l{k}  (proj_size, hidden_size)                      (LSTM with proj_size > 0)

all ~ U(-1/√hidden_size, 1/√hidden_size). Layer 0 reads the input; layer k > 0 reads the outputs of
layer k - 1 (both directions side by side), after dropout in training. The input projections
W_ih x + b_ih of all time steps are one matrix product before the loop over time; each step then
adds W_hh h + b_hh (see the step functions). Autograd differentiates the whole unrolled loop
(backpropagation through time).

Packed sequences are not supported: pad the batch (``nn.utils.rnn.pad_sequence``) and mask the
padded steps instead.
"""

from __future__ import annotations

import math
import numbers
import warnings

from minidl.core import creation
from minidl.core.arguments import choice, positive_size, size
from minidl.core.errors import ShapeError
from minidl.nn import functional as F
from minidl.nn import init
from minidl.nn.module import Module, Parameter
from minidl.nn.rnn_cells import NONLINEARITIES, check_state, gru_step, lstm_step, rnn_step, zeros_state
from minidl.ops.shape import cat, stack

GATES = {"RNN_TANH": 1, "RNN_RELU": 1, "LSTM": 4, "GRU": 3}


class RNNBase(Module):
    """The layers' common part: parameters, input and state checks, and the loop over layers, directions
    and time. Subclasses pass ``mode`` and define ``_step(projection, state, weight_hh, bias_hh, weight_hr)``,
    one time step (the step functions of rnn_cells.py)."""

    def __init__(self, mode, input_size, hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.0,
                 bidirectional=False, proj_size=0, device=None, dtype=None):
        super().__init__()
        name = type(self).__name__
        choice(mode, name, "mode", tuple(GATES))
        self.mode = mode
        self.input_size = positive_size(input_size, name, "input_size")
        self.hidden_size = positive_size(hidden_size, name, "hidden_size")
        self.num_layers = positive_size(num_layers, name, "num_layers")
        self.proj_size = size(proj_size, name, "proj_size")
        if self.proj_size and mode != "LSTM":
            raise ValueError(f"{name}: proj_size is only supported for LSTM, not RNN or GRU")
        if self.proj_size >= self.hidden_size:
            raise ValueError(f"{name}: proj_size ({proj_size}) has to be smaller than hidden_size ({hidden_size})")
        if isinstance(dropout, bool) or not isinstance(dropout, numbers.Real) or not 0 <= dropout <= 1:
            raise ValueError(f"{name}: dropout should be a number in range [0, 1] representing the probability "
                             f"of an element being zeroed, got {dropout!r}")
        if dropout > 0 and self.num_layers == 1:
            warnings.warn(f"{name}: dropout is applied between recurrent layers, so dropout={dropout} has no "
                          f"effect with num_layers=1", stacklevel=2)
        self.bias, self.batch_first, self.bidirectional = bool(bias), bool(batch_first), bool(bidirectional)
        self.dropout = float(dropout)
        gate_rows = GATES[mode] * self.hidden_size
        out_size = self.proj_size or self.hidden_size
        self._all_weights = []
        for layer in range(self.num_layers):
            layer_input = self.input_size if layer == 0 else out_size * self.num_directions
            for suffix in ("", "_reverse")[:self.num_directions]:
                shapes = {"weight_ih": (gate_rows, layer_input), "weight_hh": (gate_rows, out_size)}
                if self.bias:
                    shapes.update(bias_ih=(gate_rows,), bias_hh=(gate_rows,))
                if self.proj_size:
                    shapes["weight_hr"] = (self.proj_size, self.hidden_size)
                names = []
                for kind, shape in shapes.items():
                    names.append(f"{kind}_l{layer}{suffix}")
                    setattr(self, names[-1], Parameter(creation.empty(*shape, dtype=dtype, device=device)))
                self._all_weights.append(names)
        self.reset_parameters()

    @property
    def num_directions(self):
        return 2 if self.bidirectional else 1

    @property
    def all_weights(self):
        """The parameters, one list per layer and direction, as PyTorch's ``all_weights``."""
        return [[getattr(self, name) for name in names] for names in self._all_weights]

    def reset_parameters(self):
        bound = 1.0 / math.sqrt(self.hidden_size)
        for weight in self.parameters():
            init.uniform_(weight, -bound, bound)

    def flatten_parameters(self):
        """Nothing to do: PyTorch packs the weights into one buffer for cuDNN; minidl never needs to."""

    def _weights(self, layer, direction):
        """(weight_ih, bias_ih, weight_hh, bias_hh, weight_hr) of one layer and direction (None where absent)."""
        suffix = f"_l{layer}" + ("_reverse" if direction else "")
        return tuple(self._parameters.get(kind + suffix)
                     for kind in ("weight_ih", "bias_ih", "weight_hh", "bias_hh", "weight_hr"))

    # --- inputs ------------------------------------------------------------------------------------------
    def _time_major(self, input):  # noqa: A002
        """The input as (T, batch, input_size) and whether it came batched; clear errors for bad input."""
        name = type(self).__name__
        layout = "(batch, T, input_size)" if self.batch_first else "(T, batch, input_size)"
        if input.ndim not in (2, 3):
            raise ShapeError(f"{name}: expected input to be 2-D (T, input_size) or 3-D {layout}, got "
                             f"{input.ndim}-D input of shape {tuple(input.shape)}")
        if input.shape[-1] != self.input_size:
            raise ShapeError(f"{name}: input.size(-1) must be equal to input_size. Expected {self.input_size}, "
                             f"got {input.shape[-1]} (input of shape {tuple(input.shape)})")
        if input.dtype != self.weight_ih_l0.dtype:
            raise TypeError(f"{name}: input dtype {input.dtype} does not match weight dtype "
                            f"{self.weight_ih_l0.dtype}; convert one with .to()")
        if input.ndim == 2:
            x = input.unsqueeze(1)
        else:
            x = input.transpose(0, 1) if self.batch_first else input
        if x.shape[0] == 0:
            raise ShapeError(f"{name}: expected a sequence of at least one step, got input of shape "
                             f"{tuple(input.shape)}")
        return x, input.ndim == 3

    def _initial(self, state, x, batched, width, what):
        """One initial state per layer and direction, each (batch, width): the given one, checked, or zeros."""
        count, batch = self.num_layers * self.num_directions, x.shape[1]
        if state is None:
            return [zeros_state((batch, width), x) for _ in range(count)]
        name = type(self).__name__
        if state.ndim != (3 if batched else 2):
            kind = "batched 3-D" if batched else "unbatched 2-D"
            raise ShapeError(f"{name}: for {kind} input, {what} should also be {3 if batched else 2}-D but got "
                             f"{state.ndim}-D of shape {tuple(state.shape)}")
        check_state(state, (count, batch, width) if batched else (count, width), name, what)
        states = state.unbind(0)
        return list(states) if batched else [h.unsqueeze(0) for h in states]

    # --- the loop ----------------------------------------------------------------------------------------
    def _run(self, x, states):
        """Every layer and direction over the time-major x: (output (T, batch, directions·out), final states)."""
        finals = []
        for layer in range(self.num_layers):
            outputs = []
            for direction in range(self.num_directions):
                index = layer * self.num_directions + direction
                output, final = self._direction(x, states[index], self._weights(layer, direction), direction == 1)
                outputs.append(output)
                finals.append(final)
            x = outputs[0] if len(outputs) == 1 else cat(outputs, -1)
            if self.dropout and self.training and layer < self.num_layers - 1:
                x = F.dropout(x, self.dropout, True)
        return x, finals

    def _direction(self, x, state, weights, reverse):
        """One layer in one direction: all input projections in one product, then one step per time."""
        weight_ih, bias_ih, *recurrent = weights
        projections = F.linear(x, weight_ih, bias_ih).unbind(0)
        outputs = [None] * len(projections)
        for t in (reversed(range(len(projections))) if reverse else range(len(projections))):
            state = self._step(projections[t], state, *recurrent)
            outputs[t] = state[0] if isinstance(state, tuple) else state
        return stack(outputs), state

    def _output(self, output, batched):
        if not batched:
            return output.squeeze(1)
        return output.transpose(0, 1) if self.batch_first else output

    def _final(self, finals, batched):
        final = stack(finals)
        return final if batched else final.squeeze(1)

    def extra_repr(self):
        text = f"{self.input_size}, {self.hidden_size}"
        if self.proj_size:
            text += f", proj_size={self.proj_size}"
        for name, default in (("num_layers", 1), ("bias", True), ("batch_first", False), ("dropout", 0.0),
                              ("bidirectional", False)):
            if getattr(self, name) != default:
                text += f", {name}={getattr(self, name)}"
        return text


class _SingleStateRNN(RNNBase):
    """RNN and GRU: the state is h alone. ``forward(input, hx=None)`` -> (output, h_n)."""

    def forward(self, input, hx=None):  # noqa: A002  (PyTorch's names)
        """input (T, batch, input_size) ((batch, T, input_size) when batch_first) or unbatched (T, input_size);
        hx (num_layers·directions, batch, hidden_size) or unbatched (num_layers·directions, hidden_size),
        zeros by default. Returns output (T, batch, directions·hidden_size) (batch first when batch_first;
        (T, directions·hidden_size) unbatched) and h_n, shaped as hx."""
        x, batched = self._time_major(input)
        output, finals = self._run(x, self._initial(hx, x, batched, self.hidden_size, "hx"))
        return self._output(output, batched), self._final(finals, batched)


class RNN(_SingleStateRNN):
    """Elman RNN: h_t = act(W_ih x_t + b_ih + W_hh h_(t-1) + b_hh), act = tanh or relu (``nonlinearity``)."""

    def __init__(self, input_size, hidden_size, num_layers=1, nonlinearity="tanh", bias=True, batch_first=False,
                 dropout=0.0, bidirectional=False, device=None, dtype=None):
        choice(nonlinearity, "RNN", "nonlinearity", NONLINEARITIES)
        super().__init__("RNN_TANH" if nonlinearity == "tanh" else "RNN_RELU", input_size, hidden_size, num_layers,
                         bias, batch_first, dropout, bidirectional, 0, device, dtype)
        self.nonlinearity = nonlinearity

    def _step(self, projection, h, weight_hh, bias_hh, weight_hr):
        return rnn_step(projection, h, weight_hh, bias_hh, self.nonlinearity)


class GRU(_SingleStateRNN):
    """Gated recurrent unit; the gates r, z, n of each step are in :func:`minidl.nn.rnn_cells.gru_step`."""

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.0,
                 bidirectional=False, device=None, dtype=None):
        super().__init__("GRU", input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional, 0,
                         device, dtype)

    def _step(self, projection, h, weight_hh, bias_hh, weight_hr):
        return gru_step(projection, h, weight_hh, bias_hh)


class LSTM(RNNBase):
    """Long short-term memory; the gates i, f, g, o of each step are in :func:`minidl.nn.rnn_cells.lstm_step`.
    With ``proj_size`` > 0 the hidden state is projected to proj_size by ``weight_hr_l{k}`` after every step."""

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.0,
                 bidirectional=False, proj_size=0, device=None, dtype=None):
        super().__init__("LSTM", input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional,
                         proj_size, device, dtype)

    def _step(self, projection, state, weight_hh, bias_hh, weight_hr):
        return lstm_step(projection, state, weight_hh, bias_hh, weight_hr)

    def forward(self, input, hx=None):  # noqa: A002
        """As RNN's, with hx = (h_0, c_0) (h_0 of width proj_size when it is set, c_0 of hidden_size) and
        returns (output, (h_n, c_n))."""
        x, batched = self._time_major(input)
        if hx is not None and (not isinstance(hx, (tuple, list)) or len(hx) != 2):
            raise TypeError(f"LSTM: hx must be a pair (h_0, c_0) of tensors, got {type(hx).__name__}")
        h0, c0 = (None, None) if hx is None else hx
        hs = self._initial(h0, x, batched, self.proj_size or self.hidden_size, "h_0 (hx[0])")
        cs = self._initial(c0, x, batched, self.hidden_size, "c_0 (hx[1])")
        output, finals = self._run(x, list(zip(hs, cs)))
        h_n, c_n = zip(*finals)
        return self._output(output, batched), (self._final(h_n, batched), self._final(c_n, batched))
