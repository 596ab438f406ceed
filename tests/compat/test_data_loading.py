"""DataLoader with PyTorch's sampler, batch_sampler, num_workers and pin_memory arguments."""

import warnings

import pytest

import minidl
from minidl.data import loader as loader_module
from minidl.utils.data import (DataLoader, RandomSampler, SequentialSampler, SubsetRandomSampler,
                               TensorDataset)


def dataset(n=10):
    return TensorDataset(minidl.arange(n).float(), minidl.arange(n))


def labels(loader):
    return [batch[1].tolist() for batch in loader]


def test_samplers_give_pytorchs_orders_and_lengths():
    data = dataset()
    assert labels(DataLoader(data, batch_size=4, sampler=SequentialSampler(data))) == \
        [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
    minidl.manual_seed(0)
    drawn = sum(labels(DataLoader(data, batch_size=3, sampler=RandomSampler(data))), [])
    assert sorted(drawn) == list(range(10))                       # a permutation
    with_replacement = RandomSampler(data, replacement=True, num_samples=25)
    assert len(with_replacement) == 25 and len(list(with_replacement)) == 25
    assert sorted(SubsetRandomSampler([7, 2, 5])) == [2, 5, 7]
    loader = DataLoader(data, batch_size=4, sampler=RandomSampler(data, num_samples=6), drop_last=True)
    assert len(loader) == 1 and len(labels(loader)) == 1


def test_a_batch_sampler_chooses_each_batch():
    assert labels(DataLoader(dataset(), batch_sampler=[[0, 1], [5, 9, 3]])) == [[0, 1], [5, 9, 3]]


@pytest.mark.parametrize("options, message", [
    (dict(shuffle=True, sampler=[0, 1]), "sampler option is mutually exclusive with shuffle"),
    (dict(batch_size=2, batch_sampler=[[0]]), "batch_sampler option is mutually exclusive"),
    (dict(num_workers=-1), "num_workers must be a non-negative int, got -1"),
    (dict(sampler=5), "sampler must be iterable"),
])
def test_conflicting_loader_options_are_refused_by_name(options, message):
    with pytest.raises((ValueError, TypeError), match=message):
        DataLoader(dataset(), **options)


def test_worker_options_run_in_process_with_one_note(monkeypatch):
    monkeypatch.setattr(loader_module, "_noted", set())
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for _ in range(3):
            loader = DataLoader(dataset(), batch_size=5, num_workers=4, pin_memory=True, persistent_workers=True,
                                prefetch_factor=2)
    notes = [w for w in caught if "num_workers=4 loads batches in this process" in str(w.message)]
    assert len(notes) == 1
    assert labels(loader) == [[0, 1, 2, 3, 4], [5, 6, 7, 8, 9]]


def test_sequential_loading_matches_pytorch():
    torch = pytest.importorskip("torch", reason='parity needs PyTorch: pip install -e ".[torch]"')
    ours = labels(DataLoader(dataset(7), batch_size=3, sampler=SequentialSampler(range(7))))
    data = torch.utils.data.TensorDataset(torch.arange(7).float(), torch.arange(7))
    theirs = [batch[1].tolist() for batch in torch.utils.data.DataLoader(
        data, batch_size=3, sampler=torch.utils.data.SequentialSampler(range(7)))]
    assert ours == theirs
