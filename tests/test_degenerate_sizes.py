"""Empty batches, zero-length sequences and zero-size layers flow through as in PyTorch: empty
outputs, gradients of the right (empty or zero) shape, NaN for the mean of nothing.

Each program runs on minidl and, where installed, on PyTorch, with ``L`` the library; the
output shape, every parameter gradient's shape and values, and NaN-ness are compared.
"""

import numpy as np
import pytest

import minidl

PROGRAMS = {
    "conv2d_batch_0": "m = L.nn.Conv2d(3, 4, 3, padding=1); x = L.randn(0, 3, 5, 5, requires_grad=True); y = m(x)",
    "max_pool_batch_0": "m = L.nn.Sequential(L.nn.Conv2d(1, 2, 1), L.nn.MaxPool2d(2)); "
                        "x = L.randn(0, 1, 4, 4, requires_grad=True); y = m(x)",
    "avg_pool_batch_0": "m = L.nn.Sequential(L.nn.Conv2d(1, 2, 1), L.nn.AvgPool2d(2)); "
                        "x = L.randn(0, 1, 4, 4, requires_grad=True); y = m(x)",
    "linear_batch_0": "m = L.nn.Linear(3, 2); x = L.randn(0, 3, requires_grad=True); y = m(x)",
    "linear_of_no_inputs": "m = L.nn.Linear(0, 3); x = L.randn(2, 0, requires_grad=True); y = m(x)",
    "linear_of_no_outputs": "m = L.nn.Linear(3, 0); x = L.randn(2, 3, requires_grad=True); y = m(x)",
    "attention_batch_0": "m = L.nn.MultiheadAttention(8, 2, batch_first=True); x = L.randn(0, 3, 8, "
                         "requires_grad=True); y = m(x, x, x)[0]",
    "attention_length_0": "m = L.nn.MultiheadAttention(8, 2); x = L.randn(0, 2, 8, requires_grad=True); "
                          "y = m(x, x, x)[0]",
    "encoder_layer_batch_0": "m = L.nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0, batch_first=True); "
                             "x = L.randn(0, 3, 8, requires_grad=True); y = m(x)",
    "encoder_layer_length_0": "m = L.nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0, batch_first=True); "
                              "x = L.randn(2, 0, 8, requires_grad=True); y = m(x)",
    "decoder_layer_length_0": "m = L.nn.TransformerDecoderLayer(8, 2, 16, dropout=0.0, batch_first=True); "
                              "x = L.randn(2, 0, 8, requires_grad=True); y = m(x, L.randn(2, 3, 8))",
    "batch_norm_1d_batch_0": "m = L.nn.BatchNorm1d(4); x = L.randn(0, 4, requires_grad=True); y = m(x)",
    "batch_norm_2d_batch_0": "m = L.nn.BatchNorm2d(2); x = L.randn(0, 2, 3, 3, requires_grad=True); y = m(x)",
    "layer_norm_batch_0": "m = L.nn.LayerNorm(4); x = L.randn(0, 4, requires_grad=True); y = m(x)",
    "embedding_of_no_ids": "m = L.nn.Embedding(5, 3); x = L.randn(0, requires_grad=True); "
                           "y = m(L.zeros(2, 0, dtype=L.int64))",
    "softmax_batch_0": "m = L.nn.Linear(5, 5); x = L.randn(0, 5, requires_grad=True); y = m(x).softmax(-1)",
    "cross_entropy_batch_0": "m = L.nn.Linear(3, 4); x = L.randn(0, 3, requires_grad=True); "
                             "y = L.nn.functional.cross_entropy(m(x), L.zeros(0, dtype=L.int64))",
    "mse_batch_0": "m = L.nn.Linear(3, 1); x = L.randn(0, 3, requires_grad=True); "
                   "y = L.nn.functional.mse_loss(m(x), L.zeros(0, 1))",
    "mean_of_nothing": "m = L.nn.Linear(3, 1); x = L.randn(0, 3, requires_grad=True); y = m(x).mean()",
    "sum_of_nothing": "m = L.nn.Linear(3, 1); x = L.randn(0, 3, requires_grad=True); y = m(x).sum()",
}


def run(program, library):
    """Output shape, whether it is all NaN, and each parameter's gradient after backward."""
    library.manual_seed(0)
    namespace = {"L": library}
    exec(program, namespace)
    model, y = namespace["m"], namespace["y"]
    y.sum().backward()
    outputs = np.asarray(y.detach().tolist(), dtype=float)
    grads = {name: None if p.grad is None else np.asarray(p.grad.tolist(), dtype=float)
             for name, p in model.named_parameters()}
    return tuple(y.shape), bool(outputs.size and np.isnan(outputs).all()), grads


@pytest.mark.parametrize("name", PROGRAMS)
def test_degenerate_sizes_run_and_give_empty_or_zero_gradients(name):
    shape, all_nan, grads = run(PROGRAMS[name], minidl)
    for grad in grads.values():
        assert grad is None or np.isnan(grad).all() or not np.any(grad[~np.isnan(grad)]) or "no_inputs" in name
    if name in ("mean_of_nothing", "cross_entropy_batch_0", "mse_batch_0"):
        assert shape == () and all_nan  # the mean of nothing is NaN, as in PyTorch
    elif name == "sum_of_nothing":
        assert shape == () and not all_nan


@pytest.mark.parametrize("name", PROGRAMS)
def test_degenerate_sizes_behave_as_in_pytorch(name):
    torch = pytest.importorskip("torch", reason='parity needs PyTorch: pip install -e ".[torch]"')
    ours, theirs = run(PROGRAMS[name], minidl), run(PROGRAMS[name], torch)
    assert ours[:2] == theirs[:2]
    assert ours[2].keys() == theirs[2].keys()
    for key in ours[2]:
        a, b = ours[2][key], theirs[2][key]
        assert (a is None) == (b is None), key
        if a is not None:
            assert a.shape == b.shape, key
            if "no_inputs" not in name:  # Linear(0, 3) weights are empty; its bias grads are checked
                np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6, err_msg=key)


def test_arange_of_nothing_and_empty_creation():
    assert minidl.arange(0).shape == (0,) and minidl.zeros(0, 3).shape == (0, 3)
    assert minidl.randint(0, 5, (0,)).shape == (0,)
