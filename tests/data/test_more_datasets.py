"""ConcatDataset, StackDataset, IterableDataset / ChainDataset, WeightedRandomSampler, BatchSampler."""

import numpy as np
import pytest

import minidl
from minidl.utils.data import (BatchSampler, ChainDataset, ConcatDataset, DataLoader, IterableDataset,
                               SequentialSampler, StackDataset, TensorDataset, WeightedRandomSampler,
                               get_worker_info)


class Numbers(IterableDataset):
    def __init__(self, start, stop):
        self.start, self.stop = start, stop

    def __iter__(self):
        return iter(range(self.start, self.stop))

    def __len__(self):
        return self.stop - self.start


def test_concat_dataset_indices():
    data = ConcatDataset([list(range(3)), list(range(10, 12))])
    assert data.cumulative_sizes == [3, 5] and len(data) == 5
    assert [data[i] for i in range(5)] == [0, 1, 2, 10, 11]
    assert data[-1] == 11 and data[-5] == 0
    with pytest.raises(ValueError, match="should not exceed"):
        data[-6]
    with pytest.raises(IndexError, match="index 5"):
        data[5]
    with pytest.raises(ValueError, match="empty"):
        ConcatDataset([])
    with pytest.raises(TypeError, match="ChainDataset"):
        ConcatDataset([Numbers(0, 2)])


def test_adding_datasets_concatenates_them():
    first, second = TensorDataset(minidl.arange(3)), TensorDataset(minidl.arange(10, 12))
    both = first + second
    assert isinstance(both, ConcatDataset) and len(both) == 5
    assert [int(both[i][0]) for i in range(5)] == [0, 1, 2, 10, 11]


def test_stack_dataset_tuple_and_dict():
    assert StackDataset([1, 2], "ab")[1] == (2, "b")
    assert StackDataset(x=[1, 2], y="ab")[0] == {"x": 1, "y": "a"}
    with pytest.raises(ValueError, match="size mismatch"):
        StackDataset([1, 2], "abc")
    with pytest.raises(ValueError, match="not both"):
        StackDataset([1], y=[2])


def test_iterable_dataset_in_a_loader():
    loader = DataLoader(Numbers(0, 5), batch_size=2)
    assert [b.tolist() for b in loader] == [[0, 1], [2, 3], [4]]
    assert len(loader) == 3
    assert [b.tolist() for b in DataLoader(Numbers(0, 5), batch_size=2, drop_last=True)] == [[0, 1], [2, 3]]
    for option in ({"shuffle": True}, {"sampler": [0, 1]}, {"batch_sampler": [[0]]}):
        with pytest.raises(ValueError, match="IterableDataset: expected unspecified"):
            DataLoader(Numbers(0, 5), **option)
    chained = Numbers(0, 2) + Numbers(5, 7)
    assert isinstance(chained, ChainDataset) and list(chained) == [0, 1, 5, 6] and len(chained) == 4
    with pytest.raises(TypeError, match="only supports IterableDataset"):
        ChainDataset([[1, 2]])
    assert get_worker_info() is None


def test_weighted_random_sampler():
    sampler = WeightedRandomSampler([0.0, 1.0, 3.0], 4000, generator=minidl.Generator().manual_seed(0))
    counts = np.bincount(list(sampler), minlength=3)
    assert counts[0] == 0 and len(sampler) == 4000 and 2.6 < counts[2] / counts[1] < 3.4
    picked = list(WeightedRandomSampler(minidl.tensor([1.0, 1.0, 1.0]), 3, replacement=False))
    assert sorted(picked) == [0, 1, 2]
    with pytest.raises(ValueError, match="num_samples"):
        WeightedRandomSampler([1.0], 0)
    with pytest.raises(ValueError, match="1d sequence"):
        WeightedRandomSampler([[1.0]], 1)
    with pytest.raises(ValueError, match="without replacement"):
        WeightedRandomSampler([1.0, 0.0], 2, replacement=False)


def test_batch_sampler_and_loader_batch_sampler():
    batches = BatchSampler(SequentialSampler(range(5)), batch_size=2, drop_last=False)
    assert list(batches) == [[0, 1], [2, 3], [4]] and len(batches) == 3
    assert len(BatchSampler(range(5), 2, True)) == 2
    with pytest.raises(ValueError, match="batch_size"):
        BatchSampler(range(5), 0, False)
    data = TensorDataset(minidl.arange(5))
    loader = DataLoader(data, batch_sampler=BatchSampler(range(5), 2, True))
    assert [x.tolist() for x, in loader] == [[0, 1], [2, 3]]
    with pytest.raises(ValueError, match="mutually exclusive"):
        DataLoader(data, batch_size=2, batch_sampler=batches)


def test_parity_with_torch_concat():
    torch_data = pytest.importorskip("torch.utils.data", reason='parity needs PyTorch: pip install -e ".[torch]"')
    parts = [list(range(4)), list(range(7, 9)), list(range(20, 23))]
    theirs, ours = torch_data.ConcatDataset(parts), ConcatDataset(parts)
    assert ours.cumulative_sizes == theirs.cumulative_sizes
    assert [ours[i] for i in range(-9, 9)] == [theirs[i] for i in range(-9, 9)]
