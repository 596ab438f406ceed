"""The character tokenizer: vocabulary building, encode/decode round trips, padding, JSON files."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from minidl.data.tokenizer import SPECIAL_TOKENS, CharTokenizer

CORPUS = ["今天天气很好", "这个手机很好用", "hello world", "天气不好"]


def test_vocabulary_starts_with_special_tokens_then_by_frequency():
    tokenizer = CharTokenizer.from_corpus(CORPUS)
    assert tokenizer.tokens[:5] == list(SPECIAL_TOKENS)
    assert tokenizer.tokens[5:8] == ["l", "天", "好"]  # 3 times each; ties in character order
    assert (tokenizer.pad_id, tokenizer.unk_id, tokenizer.cls_id, tokenizer.sep_id, tokenizer.mask_id) == (0, 1, 2, 3, 4)


def test_min_freq_and_max_size():
    tokenizer = CharTokenizer.from_corpus(CORPUS, min_freq=2)
    assert set(tokenizer.tokens[5:]) == {"好", "天", "很", "气", "l", "o"}
    assert len(CharTokenizer.from_corpus(CORPUS, max_size=8)) == 8
    with pytest.raises(ValueError, match="min_freq"):
        CharTokenizer.from_corpus(CORPUS, min_freq=0)


@settings(max_examples=50, deadline=None)
@given(st.text(alphabet="今天气很好这个手机用不 helowrd", max_size=30))
def test_encode_decode_round_trip(text):
    tokenizer = CharTokenizer.from_corpus(CORPUS)
    assert tokenizer.decode(tokenizer.encode(text)) == text
    assert tokenizer.decode(tokenizer.encode(text, add_special_tokens=True)) == text


def test_unknown_characters_and_special_tokens():
    tokenizer = CharTokenizer.from_corpus(CORPUS)
    ids = tokenizer.encode("好X", add_special_tokens=True)
    assert ids == [tokenizer.cls_id, tokenizer.ids["好"], tokenizer.unk_id, tokenizer.sep_id]
    assert tokenizer.decode(ids, skip_special_tokens=False) == "[CLS]好[UNK][SEP]"


def test_batch_encode_pads_truncates_and_masks():
    tokenizer = CharTokenizer.from_corpus(CORPUS)
    ids, mask = tokenizer.batch_encode(["天气", "今天天气很好这个"], max_length=6)
    assert ids.shape == mask.shape == (2, 6) and ids.dtype == np.int64
    assert ids[0].tolist()[:4] == [tokenizer.cls_id, tokenizer.ids["天"], tokenizer.ids["气"], tokenizer.sep_id]
    assert mask[0].tolist() == [1, 1, 1, 1, 0, 0] and mask[1].tolist() == [1] * 6
    assert ids[1, -1] == tokenizer.sep_id  # truncated text still ends with [SEP]


def test_a_failed_save_leaves_the_old_file_and_no_temporary(tmp_path, monkeypatch):
    path = tmp_path / "vocab.json"
    CharTokenizer.from_corpus(CORPUS).save(path)
    before = path.read_bytes()

    def failing_dump(*args, **kwargs):
        raise OSError(28, "No space left on device")
    monkeypatch.setattr("json.dump", failing_dump)
    with pytest.raises(OSError, match=r"CharTokenizer.save: cannot write .*vocab.json.*disk or your quota"):
        CharTokenizer.from_corpus(["其他"]).save(path)
    assert path.read_bytes() == before and [p.name for p in tmp_path.iterdir()] == ["vocab.json"]


def test_save_and_load_round_trip(tmp_path):
    tokenizer = CharTokenizer.from_corpus(CORPUS, lowercase=True)
    path = tmp_path / "vocab.json"
    tokenizer.save(path)
    loaded = CharTokenizer.load(path)
    assert loaded.tokens == tokenizer.tokens and loaded.lowercase
    assert loaded.encode("HELLO") == tokenizer.encode("hello")
    (tmp_path / "bad.json").write_text("[1, 2")
    with pytest.raises(ValueError, match="bad.json"):
        CharTokenizer.load(tmp_path / "bad.json")


def test_vocabulary_must_start_with_special_tokens():
    with pytest.raises(ValueError, match="special tokens"):
        CharTokenizer(["a", "b"])
