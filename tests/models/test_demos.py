"""The sequence-to-sequence, GPT and attention-map demos (quick settings and small pieces)."""

import contextlib
import math
from pathlib import Path

import numpy as np
import pytest

import minidl
from minidl.course.demos import attention_maps, gpt, seq2seq
from minidl.models.gpt import MiniGPT

try:
    from threadpoolctl import threadpool_limits
except ImportError:  # installed with scikit-learn; without it BLAS keeps its own thread count
    threadpool_limits = None


def one_blas_thread():
    """The quick demo multiplies small matrices (at most 704 x 192), which need no second BLAS thread;
    one thread also stays fast when other processes compete for the cores, where OpenBLAS's
    spinning threads made the same run about 9x slower (measured: 13 s with one, 116 s with two)."""
    return threadpool_limits(1, user_api="blas") if threadpool_limits else contextlib.nullcontext()


@pytest.fixture(scope="module")
def reversal(tmp_path_factory):
    with one_blas_thread():
        return seq2seq.run(quick=True, out_dir=tmp_path_factory.mktemp("seq2seq"), progress=False)


def test_quick_seq2seq_demo_learns_to_reverse(reversal):
    assert reversal["exact_match"] >= 0.8
    assert Path(reversal["figure"]).stat().st_size > 0
    assert reversal["history"]["step_loss"][-1] < reversal["history"]["step_loss"][0] / 10
    assert not set(reversal["test_strings"]) & set(seq2seq.training_strings(np.random.default_rng(0), 2000,
                                                                             set(reversal["test_strings"])))


def test_seq2seq_encoding():
    src, tgt_in, tgt_out = seq2seq.encode([(4, 0, 7), (1, 2, 3, 4)])
    d = seq2seq.FIRST_DIGIT
    np.testing.assert_array_equal(src[0], [d + 4, d + 0, d + 7, seq2seq.EOS, seq2seq.PAD])
    np.testing.assert_array_equal(tgt_in[0], [seq2seq.BOS, d + 7, d + 0, d + 4, seq2seq.PAD])
    np.testing.assert_array_equal(tgt_out[1], [d + 4, d + 3, d + 2, d + 1, seq2seq.EOS])
    np.testing.assert_array_equal(seq2seq.encode([(3, 1, 2)], task="sort")[2][0], [d + 1, d + 2, d + 3, seq2seq.EOS])


def test_attention_maps_of_the_trained_model(reversal, tmp_path):
    result = attention_maps.run(model=reversal["model"], out_dir=tmp_path, example=(1, 2, 3, 4, 5))
    assert len(result["figures"]) == 4 and all(Path(p).stat().st_size > 0 for p in result["figures"].values())
    for weights in result["encoder"] + result["cross"]:
        np.testing.assert_allclose(weights.sum(axis=-1), 1.0, atol=1e-5)
    assert result["encoder"][0].shape == (4, 6, 6) and result["cross"][0].shape == (4, 6, 6)
    # reversal: the query writing the k-th output digit looks at the k-th source digit from the end,
    # with on average well over twice the weight of a uniform spread over the 6 source tokens
    anti_diagonal = result["cross"][-1].mean(axis=0)[np.arange(5), 4 - np.arange(5)]
    assert anti_diagonal.mean() > 2 / 6


def test_plot_attention_checks_shapes(tmp_path):
    path = attention_maps.plot_attention(np.full((3, 4), 0.25), list("abc"), list("wxyz"), tmp_path / "a.png")
    assert Path(path).stat().st_size > 0
    with pytest.raises(ValueError, match="do not fit"):
        attention_maps.plot_attention(np.full((2, 3, 4), 0.25), list("ab"), list("wxyz"), tmp_path / "b.png")


def test_unigram_perplexity_uses_add_one_smoothing():
    train, val = np.array([5, 5, 6]), np.array([5, 7])
    p5, p7 = (2 + 1) / (3 + 8), (0 + 1) / (3 + 8)
    assert gpt.unigram_perplexity(train, val, 8) == pytest.approx(math.exp(-(math.log(p5) + math.log(p7)) / 2))


def test_gpt_perplexity_of_an_untrained_model_is_near_the_vocabulary_size():
    """Tiny embeddings give almost uniform predictions: perplexity ≈ V, over every id but the first."""
    minidl.manual_seed(0)
    model = MiniGPT(50, d_model=16, nhead=2, num_layers=1, dim_feedforward=32, max_len=8, dropout=0.0)
    ids = np.random.default_rng(0).integers(0, 50, size=42)
    assert gpt.scored_length(ids, 8) == 40
    assert gpt.gpt_perplexity(model, ids, context=8, batch_size=2) == pytest.approx(50, rel=0.1)


def test_gpt_text_encoding():
    tokenizer = minidl.data.tokenizer.CharTokenizer.from_corpus(["新华社", "中国"])
    ids = gpt.encode_text(tokenizer, "新华\n中国社")
    assert ids.tolist().count(tokenizer.sep_id) == 2 and ids.tolist()[2] == tokenizer.sep_id
    assert tokenizer.decode(ids) == "新华中国社"
