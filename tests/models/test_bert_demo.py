"""The pretraining / fine-tuning helpers of chapter 06, on tiny data."""

import numpy as np
import pytest

import minidl
from minidl.data.tokenizer import CharTokenizer
from minidl.course.demos import bert
from minidl.models.masking import mask_tokens

CONFIG = {"d_model": 16, "nhead": 2, "layers": 1, "dim_feedforward": 32, "max_length": 12, "dropout": 0.0}


@pytest.fixture
def tokenizer():
    return CharTokenizer.from_corpus(["今天天气很好", "这家店很差", "好吃不贵", "太差了不好"], min_freq=1)


def test_text_windows_cut_long_lines_into_pieces_and_drop_short_ones(tokenizer):
    ids = bert.text_windows(tokenizer, ["今天天气很好今天天气很好今天", "好"], max_length=8, min_chars=2)
    # 14 characters in steps of 6: pieces of 6, 6 and 2 characters; the 1-character line is dropped
    assert ids.shape == (3, 8)
    assert all(row[0] == tokenizer.cls_id for row in ids)
    assert tokenizer.decode(ids[2]) == "今天"


def test_word_windows_number_the_words_of_each_piece(tokenizer):
    ids, words = bert.word_windows(tokenizer, ["今天 天气 很 好 今天 天气 很 好 今天", "好"], max_length=8, min_chars=2)
    np.testing.assert_array_equal(ids, bert.text_windows(tokenizer, ["今天天气很好今天天气很好今天", "好"], 8, 2))
    # pieces 今天天气很好 | 今天天气很好 | 今天, each renumbered from word 1; [CLS], [SEP], padding are word 0
    np.testing.assert_array_equal(words, [[0, 1, 1, 2, 2, 3, 4, 0], [0, 1, 1, 2, 2, 3, 4, 0],
                                          [0, 1, 1, 0, 0, 0, 0, 0]])


def test_word_windows_renumber_a_word_cut_by_the_window(tokenizer):
    ids, words = bert.word_windows(tokenizer, ["今天天 气很好"], max_length=4, min_chars=1)
    # pieces 今天 | 天气 | 很好: the first word 今天天 is cut; 天 begins the second piece as its word 1
    np.testing.assert_array_equal(words[:, 1:3], [[1, 1], [1, 2], [1, 1]])


def test_segment_by_dictionary_takes_the_longest_word_from_the_left():
    dictionary = {"今天", "天气", "今天天气", "很好"}
    assert bert.segment_by_dictionary("今天天气很好吗", dictionary) == ["今天天气", "很好", "吗"]
    assert bert.segment_by_dictionary("天今天气", dictionary) == ["天", "今天", "气"]
    assert bert.segment_by_dictionary("", dictionary) == []
    assert bert.segment_by_dictionary("今天天气", dictionary, longest=2) == ["今天", "天气"]


def test_whole_word_pretraining_masks_words_whole(tokenizer, monkeypatch):
    selections = []

    def recording_mask_tokens(batch, tokenizer, rng, mask_prob, words):
        inputs, labels = mask_tokens(batch, tokenizer, rng, mask_prob=mask_prob, words=words)
        selections.append((labels != -100, words))
        return inputs, labels

    monkeypatch.setattr(bert, "mask_tokens", recording_mask_tokens)
    ids, words = bert.word_windows(tokenizer, ["今天 天气 很好", "这家 店 很 差"] * 4, 12, min_chars=2)
    bert.pretrain(bert.make_model(len(tokenizer), CONFIG), tokenizer, ids, steps=5, batch_size=8, mask_prob=0.5,
                  progress=False, words=words)
    for selected, numbers in selections:
        for row in range(len(numbers)):
            for word in range(1, numbers[row].max() + 1):
                chosen = selected[row][numbers[row] == word]
                assert chosen.all() or not chosen.any()
    assert any(selected.any() for selected, _ in selections)


def test_masked_lm_loss_at_selected_positions_equals_the_full_mlm_loss(tokenizer):
    minidl.manual_seed(0)
    model = bert.make_model(len(tokenizer), CONFIG).eval()
    ids, _ = tokenizer.batch_encode(["今天天气很好", "这家店很差", "好吃不贵"], 12)
    inputs, labels = mask_tokens(ids, tokenizer, np.random.default_rng(0), mask_prob=0.5)
    selected = bert.masked_lm_loss(model, inputs, labels).item()
    full = model.mlm_loss(inputs, labels).item()
    assert selected == pytest.approx(full, rel=1e-5)


def test_pretraining_lowers_the_masked_lm_loss(tokenizer):
    minidl.manual_seed(0)
    model = bert.make_model(len(tokenizer), CONFIG)
    ids = bert.text_windows(tokenizer, ["今天天气很好", "这家店很差", "好吃不贵", "太差了不好"] * 4, 12, min_chars=2)
    losses = bert.pretrain(model, tokenizer, ids, steps=60, batch_size=8, lr=1e-2, seed=0)
    assert len(losses) == 60
    assert losses[-10:].mean() < losses[:10].mean() - 0.5


def test_pretraining_masks_each_batch_with_the_given_probability(tokenizer, monkeypatch):
    shares = []

    def counting_mask_tokens(batch, tokenizer, rng, mask_prob, words):
        inputs, labels = mask_tokens(batch, tokenizer, rng, mask_prob=mask_prob, words=words)
        ordinary = ~np.isin(batch, [tokenizer.pad_id, tokenizer.cls_id, tokenizer.sep_id])
        shares.append((labels != -100).sum() / ordinary.sum())
        return inputs, labels

    monkeypatch.setattr(bert, "mask_tokens", counting_mask_tokens)
    model = bert.make_model(len(tokenizer), CONFIG)
    ids = bert.text_windows(tokenizer, ["今天天气很好", "这家店很差", "好吃不贵", "太差了不好"] * 8, 12, min_chars=2)
    bert.pretrain(model, tokenizer, ids, steps=20, batch_size=32, mask_prob=0.4, progress=False)
    assert len(shares) == 20 and abs(np.mean(shares) - 0.4) < 0.05


def test_character_counts_skip_special_ids():
    counts = bert.character_counts(np.array([[1, 5, 5, 0], [2, 3, 0, 0]]), vocab_size=6, skip=(0, 1))
    np.testing.assert_array_equal(counts, [[0, 0, 0, 0, 0, 2], [0, 0, 1, 1, 0, 0]])


def test_fine_tuning_and_the_baseline_learn_a_separable_task(tokenizer):
    positive, negative = ["很好", "好吃", "不贵很好", "好"], ["很差", "太差了", "差", "不好吃很差"]
    ids, _ = tokenizer.batch_encode(positive * 6 + negative * 6, 12)
    labels = np.array([1] * 24 + [0] * 24)
    minidl.manual_seed(0)
    model = bert.make_model(len(tokenizer), CONFIG)
    accuracy, losses = bert.finetune(model, ids, labels, ids, labels, epochs=8, batch_size=8, lr=5e-3)
    assert accuracy == 1.0 and losses[-1] < losses[0]
    special = (tokenizer.pad_id, tokenizer.cls_id, tokenizer.sep_id)
    assert bert.bag_of_characters_baseline(ids, labels, ids, labels, len(tokenizer), skip=special,
                                           epochs=20, batch_size=8, lr=0.1) == 1.0


def test_encoder_features_average_the_non_padding_positions(tokenizer):
    minidl.manual_seed(0)
    model = bert.make_model(len(tokenizer), CONFIG)
    short, _ = tokenizer.batch_encode(["今天天气很好", "太差了"], 8)
    long, _ = tokenizer.batch_encode(["今天天气很好", "太差了"], 12)  # the same reviews with more [PAD]
    features = bert.encoder_features(model, short)
    assert features.shape == (2, CONFIG["d_model"]) and features.dtype == np.float32
    np.testing.assert_allclose(bert.encoder_features(model, long), features, rtol=1e-4, atol=1e-5)
    hidden = model(short).detach().numpy()[0, :8]  # the first review fills all 8 positions
    np.testing.assert_allclose(features[0], hidden.mean(axis=0), rtol=1e-4, atol=1e-5)


def test_logistic_regression_separates_separable_features():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((200, 3)).astype(np.float32)
    y = (x[:, 0] - 2 * x[:, 2] > 0).astype(np.int64)
    assert bert.logistic_regression(x[:150], y[:150], x[150:], y[150:], 3, epochs=40, lr=0.05) >= 0.96
