"""RNN, LSTM, GRU and their cells: PyTorch parity with the same weights (float64, forward and every gradient
within 1e-10, over layers, directions, layouts, initial states and unbatched input), float64 gradchecks,
parameter names, shapes and initialisation, the errors, and nn.utils.rnn's padding helpers."""

import math

import numpy as np
import pytest

import minidl
from minidl import nn
from minidl.core.errors import ShapeError
from minidl.nn.utils.rnn import pack_padded_sequence, pack_sequence, pad_sequence, unpad_sequence
from minidl.ops.linalg import Linear as LinearNode
from minidl.testing import gradcheck
from minidl.testing.harness import graph_nodes
from conftest import as_numpy, copy_weights, leaf, with_params

try:
    import torch
except ImportError:  # the parity tests are skipped without PyTorch
    torch = None
needs_torch = pytest.mark.skipif(torch is None, reason="PyTorch is not installed: pip install torch")

T, B, IN, HIDDEN = 5, 3, 4, 6   # steps, batch, input_size, hidden_size
TOLERANCE = 1e-10

KINDS = {  # name: (class name, extra constructor arguments)
    "rnn_tanh": ("RNN", {}), "rnn_relu": ("RNN", {"nonlinearity": "relu"}), "gru": ("GRU", {}),
    "lstm": ("LSTM", {}), "lstm_proj": ("LSTM", {"proj_size": 3}),
}
CONFIGS = {
    "one_layer": {}, "two_layers": {"num_layers": 2}, "bidirectional": {"bidirectional": True},
    "two_layers_bidirectional_batch_first": {"num_layers": 2, "bidirectional": True, "batch_first": True},
    "batch_first": {"batch_first": True}, "no_bias_two_layers": {"bias": False, "num_layers": 2},
    "dropout_zero": {"num_layers": 3, "dropout": 0.0},
}


def make_pair(kind, **options):
    """A float64 torch layer and a minidl layer holding the same (random) weights."""
    name, extra = KINDS[kind]
    torch.manual_seed(0)
    theirs = getattr(torch.nn, name)(IN, HIDDEN, **extra, **options).double()
    ours = copy_weights(theirs, getattr(nn, name)(IN, HIDDEN, **extra, **options, dtype=np.float64))
    return theirs, ours


def state_shapes(layer, batched):
    """The shapes of h_0 (and c_0) the layer expects."""
    count = layer.num_layers * (2 if layer.bidirectional else 1)
    lead = (count, B) if batched else (count,)
    widths = [layer.proj_size or layer.hidden_size] + ([layer.hidden_size] if isinstance(layer, torch.nn.LSTM) else [])
    return [lead + (w,) for w in widths]


def run_both(theirs, ours, x, states, seed=0):
    """Forward both layers (states: arrays of h_0 (and c_0), or None), backward the same random upstream
    gradients into output and final states; returns [(what, torch array, minidl array)] for every output
    and every gradient (input, initial states, parameters)."""
    t_in = [torch.tensor(a, requires_grad=True) for a in [x] + (states or [])]
    m_in = [leaf(a) for a in [x] + (states or [])]
    lstm = isinstance(theirs, torch.nn.LSTM)

    def call(layer, inputs):
        hx = None if states is None else (tuple(inputs[1:]) if lstm else inputs[1])
        output, final = layer(inputs[0], hx)
        return [output] + (list(final) if lstm else [final])
    t_out, m_out = call(theirs, t_in), call(ours, m_in)
    rng = np.random.default_rng(seed)
    compared = []
    for index, (t, m) in enumerate(zip(t_out, m_out)):
        compared.append((f"output {index}", t.detach().numpy(), as_numpy(m)))
        upstream = rng.standard_normal(tuple(t.shape))
        t.backward(torch.tensor(upstream), retain_graph=True)
        m.backward(minidl.tensor(upstream), retain_graph=True)
    for index, (t, m) in enumerate(zip(t_in, m_in)):
        compared.append((f"gradient of input {index}", t.grad.numpy(), as_numpy(m.grad)))
    ours_params = dict(ours.named_parameters())
    for name, param in theirs.named_parameters():
        compared.append((f"gradient of {name}", param.grad.numpy(), as_numpy(ours_params[name].grad)))
    return compared


def assert_same(compared, tolerance=TOLERANCE):
    for what, expected, got in compared:
        assert got.shape == expected.shape, f"{what}: shape {got.shape}, PyTorch {expected.shape}"
        np.testing.assert_allclose(got, expected, rtol=0, atol=tolerance, err_msg=what)


# --- parity with PyTorch -------------------------------------------------------------------------------------

@needs_torch
@pytest.mark.parametrize("config", CONFIGS, ids=str)
@pytest.mark.parametrize("kind", KINDS, ids=str)
@pytest.mark.parametrize("batched", [True, False], ids=["batched", "unbatched"])
@pytest.mark.parametrize("with_state", [False, True], ids=["zero_state", "given_state"])
def test_layers_match_pytorch(kind, config, batched, with_state):
    theirs, ours = make_pair(kind, **CONFIGS[config])
    rng = np.random.default_rng(1)
    shape = ((B, T, IN) if ours.batch_first else (T, B, IN)) if batched else (T, IN)
    states = [rng.standard_normal(s) for s in state_shapes(theirs, batched)] if with_state else None
    assert_same(run_both(theirs, ours, rng.standard_normal(shape), states))


@needs_torch
@pytest.mark.parametrize("kind", KINDS, ids=str)
def test_dropout_between_layers_matches_pytorch_when_it_is_deterministic(kind):
    """dropout=1 zeroes the input of every layer but the first in training (in both); eval ignores dropout."""
    theirs, ours = make_pair(kind, num_layers=3, dropout=1.0, bidirectional=True)
    x = np.random.default_rng(2).standard_normal((T, B, IN))
    assert_same(run_both(theirs, ours, x, None))
    theirs.eval(), ours.eval()
    assert_same(run_both(theirs, ours, x, None, seed=3))


@needs_torch
@pytest.mark.parametrize("kind", KINDS, ids=str)
@pytest.mark.parametrize("config", ["one_layer", "two_layers_bidirectional_batch_first", "no_bias_two_layers"])
def test_parameter_names_shapes_and_repr_are_pytorchs(kind, config):
    theirs, ours = make_pair(kind, **CONFIGS[config])
    assert [(k, tuple(v.shape)) for k, v in ours.state_dict().items()] == \
           [(k, tuple(v.shape)) for k, v in theirs.state_dict().items()]
    assert repr(ours) == repr(theirs)
    assert [[tuple(p.shape) for p in weights] for weights in ours.all_weights] == \
           [[tuple(p.shape) for p in weights] for weights in theirs.all_weights]


@needs_torch
@pytest.mark.parametrize("name, extra", [("RNNCell", {}), ("RNNCell", {"nonlinearity": "relu"}), ("LSTMCell", {}),
                                         ("GRUCell", {})], ids=["rnn_tanh", "rnn_relu", "lstm", "gru"])
@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("batched", [True, False], ids=["batched", "unbatched"])
@pytest.mark.parametrize("with_state", [False, True], ids=["zero_state", "given_state"])
def test_cells_match_pytorch(name, extra, bias, batched, with_state):
    torch.manual_seed(0)
    theirs = getattr(torch.nn, name)(IN, HIDDEN, bias=bias, **extra).double()
    ours = copy_weights(theirs, getattr(nn, name)(IN, HIDDEN, bias=bias, dtype=np.float64, **extra))
    assert repr(ours) == repr(theirs)
    rng = np.random.default_rng(4)
    lead = (B,) if batched else ()
    arrays = [rng.standard_normal(lead + (IN,))]
    if with_state:
        arrays += [rng.standard_normal(lead + (HIDDEN,)) for _ in range(2 if name == "LSTMCell" else 1)]
    t_in = [torch.tensor(a, requires_grad=True) for a in arrays]
    m_in = [leaf(a) for a in arrays]

    def call(cell, inputs):
        hx = None if len(inputs) == 1 else (tuple(inputs[1:]) if name == "LSTMCell" else inputs[1])
        out = cell(inputs[0], hx)
        return list(out) if isinstance(out, tuple) else [out]
    compared = []
    for index, (t, m) in enumerate(zip(call(theirs, t_in), call(ours, m_in))):
        compared.append((f"output {index}", t.detach().numpy(), as_numpy(m)))
        upstream = rng.standard_normal(tuple(t.shape))
        t.backward(torch.tensor(upstream), retain_graph=True), m.backward(minidl.tensor(upstream), retain_graph=True)
    compared += [(f"gradient of input {i}", t.grad.numpy(), as_numpy(m.grad))
                 for i, (t, m) in enumerate(zip(t_in, m_in))]
    ours_params = dict(ours.named_parameters())
    compared += [(n, p.grad.numpy(), as_numpy(ours_params[n].grad)) for n, p in theirs.named_parameters()]
    assert_same(compared)


# --- gradient checks ---------------------------------------------------------------------------------------

def _small(cls, **options):
    minidl.manual_seed(3)
    return cls(3, 2, dtype=np.float64, **options)


@pytest.mark.parametrize("options", [{"num_layers": 2, "bidirectional": True}, {"proj_size": 1, "batch_first": True}],
                         ids=["two_layers_bidirectional", "projection"])
def test_gradcheck_lstm(options):
    lstm = _small(nn.LSTM, **options)
    names = [name for name, _ in lstm.named_parameters()]
    run = with_params(lstm, names)
    rng = np.random.default_rng(5)
    count = lstm.num_layers * lstm.num_directions
    x = leaf(rng.standard_normal((2, 4, 3) if lstm.batch_first else (4, 2, 3)))   # batch 2, 4 steps
    h0, c0 = leaf(rng.standard_normal((count, 2, lstm.proj_size or 2))), leaf(rng.standard_normal((count, 2, 2)))

    def fn(x, h0, c0, *params):
        output, (h_n, c_n) = run(lambda: lstm(x, (h0, c0)), *params)
        return output, h_n, c_n
    assert gradcheck(fn, [x, h0, c0, *(leaf(as_numpy(p).copy()) for p in lstm.parameters())])


@pytest.mark.parametrize("cls, options", [(nn.GRU, {"num_layers": 2, "bidirectional": True}),
                                          (nn.RNN, {"num_layers": 2, "nonlinearity": "tanh"})], ids=["gru", "rnn"])
def test_gradcheck_gru_and_rnn(cls, options):
    layer = _small(cls, **options)
    run = with_params(layer, [name for name, _ in layer.named_parameters()])
    rng = np.random.default_rng(6)
    x = leaf(rng.standard_normal((4, 2, 3)))
    h0 = leaf(rng.standard_normal((layer.num_layers * layer.num_directions, 2, 2)))
    assert gradcheck(lambda x, h0, *params: run(lambda: layer(x, h0), *params),
                     [x, h0, *(leaf(as_numpy(p).copy()) for p in layer.parameters())])


@pytest.mark.parametrize("cls", [nn.RNNCell, nn.LSTMCell, nn.GRUCell])
def test_gradcheck_cells(cls):
    cell = _small(cls)
    run = with_params(cell, [name for name, _ in cell.named_parameters()])
    rng = np.random.default_rng(7)
    x, h = leaf(rng.standard_normal((3, 3))), leaf(rng.standard_normal((3, 2)))
    state = (h, leaf(rng.standard_normal((3, 2)))) if cls is nn.LSTMCell else (h,)

    def fn(x, *rest):
        hx = tuple(rest[:len(state)]) if cls is nn.LSTMCell else rest[0]
        return run(lambda: cell(x, hx), *rest[len(state):])
    assert gradcheck(fn, [x, *state, *(leaf(as_numpy(p).copy()) for p in cell.parameters())])


# --- construction, speed-relevant structure, behaviour ---------------------------------------------------

@pytest.mark.parametrize("cls", [nn.RNN, nn.LSTM, nn.GRU, nn.RNNCell, nn.LSTMCell, nn.GRUCell])
def test_every_parameter_is_uniform_within_one_over_sqrt_hidden(cls):
    minidl.manual_seed(8)
    layer = cls(30, 64)
    bound = 1 / math.sqrt(64)
    values = np.concatenate([as_numpy(p).ravel() for p in layer.parameters()])
    assert values.min() >= -bound and values.max() <= bound
    assert abs(values.mean()) < 0.02 * bound and abs(values.std() - bound / math.sqrt(3)) < 0.02 * bound
    for p in layer.parameters():                                        # every tensor drawn, none left at zero
        assert np.abs(as_numpy(p)).max() > 0.5 * bound


def test_input_projections_of_all_steps_are_one_product():
    """Per layer and direction: one Linear node for W_ih x of all steps, plus one per step for W_hh h."""
    lstm = nn.LSTM(IN, HIDDEN, num_layers=2, bidirectional=True)
    output, _ = lstm(minidl.randn(T, B, IN, requires_grad=True))
    linear_nodes = [node for node in graph_nodes([output]) if isinstance(node, LinearNode)]
    assert len(linear_nodes) == 2 * 2 * (1 + T)


def test_output_shapes_and_flatten_parameters():
    lstm = nn.LSTM(IN, HIDDEN, num_layers=2, bidirectional=True, batch_first=True, proj_size=2)
    assert lstm.flatten_parameters() is None
    output, (h_n, c_n) = lstm(minidl.randn(B, T, IN))
    assert (output.shape, h_n.shape, c_n.shape) == ((B, T, 4), (4, B, 2), (4, B, HIDDEN))
    output, (h_n, c_n) = lstm(minidl.randn(T, IN))                       # unbatched: (T, input_size) always
    assert (output.shape, h_n.shape, c_n.shape) == ((T, 4), (4, 2), (4, HIDDEN))
    gru = nn.GRU(IN, HIDDEN, num_layers=3)
    output, h_n = gru(minidl.randn(T, B, IN))
    assert (output.shape, h_n.shape) == ((T, B, HIDDEN), (3, B, HIDDEN))
    np.testing.assert_array_equal(as_numpy(output[-1]), as_numpy(h_n[-1]))  # the last step's top layer


def test_float32_stays_float32_and_runs_on_the_strict_device():
    lstm = nn.LSTM(IN, HIDDEN, bidirectional=True).to("strict")
    x = minidl.randn(T, B, IN, device="strict", requires_grad=True)
    output, (h_n, _) = lstm(x)
    (output.sum() + h_n.sum()).backward()
    assert output.dtype == minidl.float32 and output.device == "strict" and x.grad.device == "strict"
    assert all(p.grad.device == "strict" for p in lstm.parameters())


# --- errors ----------------------------------------------------------------------------------------------

def test_wrong_input_size_names_expected_and_got():
    with pytest.raises(ShapeError, match=r"LSTM: input.size\(-1\) must be equal to input_size. Expected 4, got 3"):
        nn.LSTM(4, 5)(minidl.zeros(6, 2, 3))
    with pytest.raises(ShapeError, match=r"GRU: expected input to be 2-D \(T, input_size\) or 3-D "
                                         r"\(batch, T, input_size\), got 4-D input of shape \(1, 2, 3, 4\)"):
        nn.GRU(4, 5, batch_first=True)(minidl.zeros(1, 2, 3, 4))
    with pytest.raises(ShapeError, match=r"GRUCell: expected input with last dim input_size=4, got shape \(2, 3\)"):
        nn.GRUCell(4, 5)(minidl.zeros(2, 3))
    with pytest.raises(TypeError, match="RNN: input dtype minidl.float64 does not match weight dtype minidl.float32"):
        nn.RNN(4, 5)(minidl.zeros(6, 2, 4, dtype=np.float64))


def test_wrong_initial_state_names_expected_and_got():
    with pytest.raises(ShapeError, match=r"RNN: expected hx of shape \(2, 3, 5\), got \(1, 3, 5\)"):
        nn.RNN(4, 5, num_layers=2)(minidl.zeros(6, 3, 4), minidl.zeros(1, 3, 5))
    with pytest.raises(ShapeError, match=r"LSTM: expected c_0 \(hx\[1\]\) of shape \(2, 3, 5\), got \(2, 3, 2\)"):
        nn.LSTM(4, 5, bidirectional=True, proj_size=2)(minidl.zeros(6, 3, 4), (minidl.zeros(2, 3, 2),
                                                                                minidl.zeros(2, 3, 2)))
    with pytest.raises(ShapeError, match=r"GRU: for unbatched 2-D input, hx should also be 2-D but got 3-D"):
        nn.GRU(4, 5)(minidl.zeros(6, 4), minidl.zeros(1, 1, 5))
    with pytest.raises(ShapeError, match=r"GRU: for batched 3-D input, hx should also be 3-D but got 2-D"):
        nn.GRU(4, 5)(minidl.zeros(6, 2, 4), minidl.zeros(1, 5))
    with pytest.raises(ShapeError, match=r"LSTMCell: expected c \(hx\[1\]\) of shape \(2, 5\), got \(3, 5\)"):
        nn.LSTMCell(4, 5)(minidl.zeros(2, 4), (minidl.zeros(2, 5), minidl.zeros(3, 5)))
    with pytest.raises(TypeError, match="LSTM: hx must be a pair"):
        nn.LSTM(4, 5)(minidl.zeros(6, 2, 4), minidl.zeros(1, 2, 5))


def test_constructor_errors_and_the_single_layer_dropout_warning():
    with pytest.raises(ValueError, match=r"LSTM: proj_size \(5\) has to be smaller than hidden_size \(5\)"):
        nn.LSTM(4, 5, proj_size=5)
    with pytest.raises(ValueError, match="GRU: dropout should be a number in range"):
        nn.GRU(4, 5, num_layers=2, dropout=1.5)
    with pytest.raises(ValueError, match="RNN: nonlinearity must be one of 'tanh', 'relu', got 'sigmoid'"):
        nn.RNN(4, 5, nonlinearity="sigmoid")
    with pytest.raises(ValueError, match="RNNBase: proj_size is only supported for LSTM"):
        nn.RNNBase("GRU", 4, 5, proj_size=2)
    with pytest.raises(ValueError, match="LSTM: hidden_size must be at least 1, got 0"):
        nn.LSTM(4, 0)
    with pytest.warns(UserWarning, match="dropout=0.5 has no effect with num_layers=1"):
        nn.LSTM(4, 5, dropout=0.5)


# --- nn.utils.rnn ----------------------------------------------------------------------------------------

@needs_torch
@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("padding_side", ["right", "left"])
def test_pad_sequence_matches_pytorch_with_gradients(batch_first, padding_side):
    rng = np.random.default_rng(9)
    arrays = [rng.standard_normal((n, 2, 3)) for n in (3, 5, 1)]
    ours, theirs = [leaf(a) for a in arrays], [torch.tensor(a, requires_grad=True) for a in arrays]
    m_out = pad_sequence(ours, batch_first, -1.5, padding_side)
    t_out = torch.nn.utils.rnn.pad_sequence(theirs, batch_first, -1.5, padding_side)
    np.testing.assert_array_equal(as_numpy(m_out), t_out.detach().numpy())
    upstream = rng.standard_normal(tuple(t_out.shape))
    m_out.backward(minidl.tensor(upstream)), t_out.backward(torch.tensor(upstream))
    for m, t in zip(ours, theirs):
        np.testing.assert_array_equal(as_numpy(m.grad), t.grad.numpy())


def test_pad_then_unpad_gives_the_sequences_back_and_feeds_a_layer():
    sequences = [minidl.randn(n, IN) for n in (4, 2, 3)]
    padded = pad_sequence(sequences, batch_first=True)
    output, _ = nn.GRU(IN, HIDDEN, batch_first=True)(padded)
    assert output.shape == (3, 4, HIDDEN)
    for original, back in zip(sequences, unpad_sequence(padded, minidl.tensor([4, 2, 3]), batch_first=True)):
        np.testing.assert_array_equal(as_numpy(back), as_numpy(original))


def test_pad_sequence_errors_and_packing_says_to_pad_and_mask():
    with pytest.raises(ValueError, match="pad_sequence: received an empty list of sequences"):
        pad_sequence([])
    with pytest.raises(ShapeError, match=r"pad_sequence: sequences must have shapes \(L_i, \*\) with the same "
                                         r"trailing dims, got \(2, 3\), \(2, 4\)"):
        pad_sequence([minidl.zeros(2, 3), minidl.zeros(2, 4)])
    with pytest.raises(ValueError, match="pad_sequence: padding_side must be one of 'right', 'left'"):
        pad_sequence([minidl.zeros(2)], padding_side="middle")
    for call in (lambda: pack_padded_sequence(minidl.zeros(3, 2, 1), [3, 2]), lambda: pack_sequence([])):
        with pytest.raises(NotImplementedError, match="pad the batch with nn.utils.rnn.pad_sequence"):
            call()
    assert nn.utils.rnn.pad_sequence is pad_sequence
