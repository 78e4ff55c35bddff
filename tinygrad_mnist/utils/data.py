"""Datasets, samplers and the DataLoader, like ``torch.utils.data`` (single process).

The pieces and how a batch is made::

    sampler        the order of one epoch: SequentialSampler, or RandomSampler (a fresh
                   permutation per epoch, from ``generator`` or the engine's global RNG)
    batch_sampler  cuts that order into batches of ``batch_size`` (``drop_last`` drops a short
                   last batch)
    fetch          a TensorDataset batch is gathered with one fancy index per tensor
                   (``tensor.array[indices]``) on the tensor's own device; any other dataset
                   is indexed sample by sample and the samples collated by ``default_collate``

Randomness follows the engine's rule: indices are drawn on the host with NumPy's generator
(``tg.manual_seed(s)`` or ``tg.Generator().manual_seed(s)`` fix the order) and moved to the
device where the data lives, so one seed gives the same batches on the CPU and on the GPU.

Differences from PyTorch: there are no worker processes (``num_workers``, ``pin_memory`` and the
other multiprocessing options are accepted for compatibility and ignored), and the random order
for a seed differs from PyTorch's (another generator), though it is just as reproducible.
"""
from __future__ import annotations

import collections.abc
import itertools
import math

import numpy as np  # host-side index arithmetic only; tensor data goes through backend/xp

from .. import backend
from ..tensor import Tensor

__all__ = [
    "Dataset", "TensorDataset", "Subset", "random_split", "Sampler", "SequentialSampler",
    "RandomSampler", "SubsetRandomSampler", "BatchSampler", "DataLoader", "default_collate",
    "default_convert",
]


# --------------------------------------------------------------------------------------------
# Datasets
# --------------------------------------------------------------------------------------------

class Dataset:
    """A map-style dataset: subclasses define ``__getitem__(index)`` and ``__len__()``."""

    def __getitem__(self, index):
        raise NotImplementedError(f"{type(self).__name__} must implement __getitem__")

    def __len__(self):
        raise NotImplementedError(f"{type(self).__name__} must implement __len__")


class TensorDataset(Dataset):
    """Samples are the i-th rows of the given tensors: ``dataset[i] == (t[i] for t in tensors)``.

    All tensors must have the same size in their first dimension. A DataLoader over a
    TensorDataset gathers a whole batch with one indexing operation per tensor.
    """

    def __init__(self, *tensors):
        if not tensors:
            raise ValueError("TensorDataset needs at least one tensor")
        for i, t in enumerate(tensors):
            if not isinstance(t, Tensor):
                raise TypeError(f"TensorDataset: argument {i} is a {type(t).__name__}, "
                                "not a Tensor")
            if len(t.shape) == 0:
                raise ValueError(f"TensorDataset: argument {i} is a 0-dim tensor; every tensor "
                                 "needs a first dimension to index samples by")
        sizes = [t.shape[0] for t in tensors]
        if any(size != sizes[0] for size in sizes):
            shapes = ", ".join(str(tuple(t.shape)) for t in tensors)
            raise ValueError(f"Size mismatch between tensors: TensorDataset needs the same first "
                             f"dimension in every tensor, got sizes {sizes} (shapes {shapes})")
        self.tensors = tensors

    def __getitem__(self, index):
        return tuple(t[index] for t in self.tensors)

    def __len__(self):
        return self.tensors[0].shape[0]


class Subset(Dataset):
    """The samples of ``dataset`` at ``indices``, in that order."""

    def __init__(self, dataset, indices):
        self.dataset = dataset
        self.indices = indices

    def __getitem__(self, idx):
        if isinstance(idx, list):
            return self.dataset[[self.indices[i] for i in idx]]
        return self.dataset[self.indices[idx]]

    def __len__(self):
        return len(self.indices)


def random_split(dataset, lengths, generator=None):
    """Split ``dataset`` into non-overlapping random ``Subset``s of the given lengths.

    ``lengths`` are sample counts summing to ``len(dataset)``, or fractions summing to 1 (then
    ``floor(n * f)`` each and the remainder handed out one by one, as PyTorch does).
    """
    n = len(dataset)
    lengths = list(lengths)
    if math.isclose(sum(lengths), 1) and sum(lengths) <= 1:
        for i, frac in enumerate(lengths):
            if frac < 0 or frac > 1:
                raise ValueError(f"Fraction at index {i} is not between 0 and 1, got {frac}")
        counts = [int(math.floor(n * frac)) for frac in lengths]
        for i in range(n - sum(counts)):
            counts[i % len(counts)] += 1
        lengths = counts
    if sum(lengths) != n:
        raise ValueError(f"Sum of input lengths {lengths} ({sum(lengths)}) does not equal the "
                         f"length of the input dataset ({n})")
    perm = backend.numpy_rng(generator).permutation(n).tolist()
    return [Subset(dataset, perm[end - length:end])
            for end, length in zip(itertools.accumulate(lengths), lengths)]


# --------------------------------------------------------------------------------------------
# Samplers: the order of an epoch, and its cut into batches
# --------------------------------------------------------------------------------------------

class Sampler:
    """An iterable of dataset indices, with a ``len``. Subclasses define ``__iter__``."""

    def __iter__(self):
        raise NotImplementedError(f"{type(self).__name__} must implement __iter__")


class _ArraySampler(Sampler):
    """A sampler that makes each epoch's order as one int64 NumPy array (``index_array()``),
    which the DataLoader slices into batches without a Python loop over samples."""

    def index_array(self):
        raise NotImplementedError(f"{type(self).__name__} must implement index_array")

    def __iter__(self):
        return iter(self.index_array().tolist())


def _is_array_sampler(sampler):
    """Whether ``sampler`` makes its epoch as one array (and no subclass replaced ``__iter__``)."""
    return isinstance(sampler, _ArraySampler) and type(sampler).__iter__ is _ArraySampler.__iter__


class SequentialSampler(_ArraySampler):
    """0, 1, ..., len(data_source) - 1."""

    def __init__(self, data_source):
        self.data_source = data_source

    def index_array(self):
        return np.arange(len(self.data_source), dtype=np.int64)

    def __len__(self):
        return len(self.data_source)


class RandomSampler(_ArraySampler):
    """A fresh random order each epoch (each ``iter()``), drawn from ``generator``.

    Without replacement: a permutation (repeated, then cut, when ``num_samples`` exceeds the
    dataset size, as in PyTorch). With replacement: ``num_samples`` uniform draws.
    ``generator=None`` uses the engine's global generator (``tg.manual_seed``).
    """

    def __init__(self, data_source, replacement=False, num_samples=None, generator=None):
        if not isinstance(replacement, bool):
            raise TypeError(f"replacement should be a boolean value, but got "
                            f"replacement={replacement}")
        self.data_source = data_source
        self.replacement = replacement
        self._num_samples = num_samples
        self.generator = generator
        if not isinstance(self.num_samples, int) or isinstance(self.num_samples, bool) \
                or self.num_samples <= 0:
            raise ValueError(f"num_samples should be a positive integer value, but got "
                             f"num_samples={self.num_samples}")

    @property
    def num_samples(self):
        return len(self.data_source) if self._num_samples is None else self._num_samples

    def index_array(self):
        n, rng = len(self.data_source), backend.numpy_rng(self.generator)
        if self.replacement:
            return rng.integers(0, n, size=self.num_samples, dtype=np.int64)
        repeats = -(-self.num_samples // n)  # ceil
        order = np.concatenate([rng.permutation(n) for _ in range(repeats)])
        return order[:self.num_samples].astype(np.int64, copy=False)

    def __len__(self):
        return self.num_samples


class SubsetRandomSampler(_ArraySampler):
    """The given ``indices`` in a fresh random order each epoch."""

    def __init__(self, indices, generator=None):
        self.indices = indices
        self.generator = generator

    def index_array(self):
        indices = np.asarray(self.indices, dtype=np.int64)
        return indices[backend.numpy_rng(self.generator).permutation(len(indices))]

    def __len__(self):
        return len(self.indices)


class BatchSampler(Sampler):
    """Cut the indices of ``sampler`` into lists of ``batch_size``; ``drop_last`` drops a short
    last batch. ``len`` is ``n // batch_size`` with ``drop_last``, else ``ceil(n / batch_size)``.
    """

    def __init__(self, sampler, batch_size, drop_last):
        if not isinstance(batch_size, int) or isinstance(batch_size, bool) or batch_size <= 0:
            raise ValueError(f"batch_size should be a positive integer value, but got "
                             f"batch_size={batch_size}")
        if not isinstance(drop_last, bool):
            raise ValueError(f"drop_last should be a boolean value, but got drop_last={drop_last}")
        self.sampler = sampler
        self.batch_size = batch_size
        self.drop_last = drop_last

    def index_batches(self, device=None):
        """Yield each batch as an int64 index array, on ``device`` (host when None).

        When the sampler gives its epoch as one array, that array is moved to the device once
        and the batches are slices (views) of it; otherwise each batch is built and moved.
        """
        if _is_array_sampler(self.sampler):
            order = self.sampler.index_array()
            if device is not None:
                order = backend.to_device(order, device)
            n = len(order)
            stop = n - n % self.batch_size if self.drop_last else n
            for start in range(0, stop, self.batch_size):
                yield order[start:start + self.batch_size]
            return
        for batch in self._lists():
            index = np.asarray(batch, dtype=np.int64)
            yield index if device is None else backend.to_device(index, device)

    def _lists(self):
        batch = []
        for index in self.sampler:
            batch.append(index)
            if len(batch) == self.batch_size:
                yield batch
                batch = []
        if batch and not self.drop_last:
            yield batch

    def __iter__(self):
        if _is_array_sampler(self.sampler):
            return (b.tolist() for b in self.index_batches())
        return self._lists()

    def __len__(self):
        if self.drop_last:
            return len(self.sampler) // self.batch_size
        return -(-len(self.sampler) // self.batch_size)


# --------------------------------------------------------------------------------------------
# Collation
# --------------------------------------------------------------------------------------------

def _is_ndarray(x):
    return isinstance(x, np.ndarray) or backend.device_of(x) != "cpu"


def _stack(arrays, what):
    """Stack same-shaped arrays of one device into one new array (PyTorch's error otherwise)."""
    first = arrays[0]
    for i, a in enumerate(arrays):
        if a.shape != first.shape:
            raise RuntimeError(f"stack expects each tensor to be equal size, but got "
                               f"{list(first.shape)} at entry 0 and {list(a.shape)} at entry {i}")
        if backend.device_of(a) != backend.device_of(first):
            raise RuntimeError(f"default_collate: {what} at entry 0 is on "
                               f"{backend.device_of(first)} but entry {i} is on "
                               f"{backend.device_of(a)}")
    return backend.get_array_module(first).stack(arrays)


def default_collate(batch):
    """Merge a list of samples into a batch, as ``torch.utils.data.default_collate`` does.

    * Tensors and ndarrays -> one Tensor, stacked along a new first dimension
    * Python ints -> int64 Tensor; floats -> float64 Tensor; bools -> bool Tensor;
      NumPy scalars -> Tensor of their dtype
    * str / bytes -> the list as is
    * dicts -> dict of collated values; namedtuples -> the same namedtuple of collated fields;
      other tuples and lists -> a list of collated fields (PyTorch returns a list for tuples too)
    """
    elem = batch[0]
    if isinstance(elem, Tensor):
        return Tensor(_stack([t.array for t in batch], "tensor"))
    if _is_ndarray(elem):
        if elem.dtype.kind in "USO":
            raise TypeError(f"default_collate: batch must contain tensors, numpy arrays, numbers, "
                            f"dicts or lists; found an array of dtype {elem.dtype}")
        return Tensor(_stack(list(batch), "array"))
    if isinstance(elem, np.generic):
        return Tensor(np.asarray(batch, dtype=elem.dtype))
    if isinstance(elem, bool):
        return Tensor(np.asarray(batch, dtype=np.bool_))
    if isinstance(elem, int):
        return Tensor(np.asarray(batch, dtype=np.int64))
    if isinstance(elem, float):
        return Tensor(np.asarray(batch, dtype=np.float64))
    if isinstance(elem, (str, bytes)):
        return batch
    if isinstance(elem, collections.abc.Mapping):
        return {key: default_collate([d[key] for d in batch]) for key in elem}
    if isinstance(elem, tuple) and hasattr(elem, "_fields"):  # namedtuple
        return type(elem)(*(default_collate(list(s)) for s in zip(*batch)))
    if isinstance(elem, collections.abc.Sequence):
        size = len(elem)
        if any(len(e) != size for e in batch):
            raise RuntimeError("each element in list of batch should be of equal size")
        return [default_collate(list(samples)) for samples in zip(*batch)]
    raise TypeError(f"default_collate: batch must contain tensors, numpy arrays, numbers, dicts "
                    f"or lists; found {type(elem)}")


def default_convert(data):
    """Without batching: turn ndarrays (also inside dicts, tuples, lists) into Tensors."""
    if isinstance(data, Tensor):
        return data
    if _is_ndarray(data) and data.dtype.kind not in "USO":
        return Tensor(data)
    if isinstance(data, collections.abc.Mapping):
        return {key: default_convert(value) for key, value in data.items()}
    if isinstance(data, tuple) and hasattr(data, "_fields"):
        return type(data)(*(default_convert(d) for d in data))
    if isinstance(data, (tuple, list)):
        return [default_convert(d) for d in data]
    return data


# --------------------------------------------------------------------------------------------
# DataLoader
# --------------------------------------------------------------------------------------------

class DataLoader:
    """Iterate over ``dataset`` in batches, like ``torch.utils.data.DataLoader``.

    Args:
        dataset: a map-style dataset (``__getitem__`` and ``__len__``).
        batch_size: samples per batch; None turns batching off (one sample at a time).
        shuffle: a fresh random order each epoch, drawn from ``generator``, or from the engine's
            global generator when ``generator`` is None (so ``tg.manual_seed`` fixes it).
        sampler: an iterable of indices with a ``len`` (excludes ``shuffle``).
        batch_sampler: an iterable of index lists (excludes batch_size, shuffle, sampler,
            drop_last).
        collate_fn: merges a list of samples into a batch (default ``default_collate``).
        drop_last: drop the last batch when it is shorter than ``batch_size``.
        generator: a ``tg.Generator`` for the shuffle.
        num_workers, pin_memory, timeout, worker_init_fn, multiprocessing_context,
        prefetch_factor, persistent_workers: accepted for PyTorch compatibility and ignored;
            batches are always made in the calling process.

    ``len(loader)`` is the number of batches: ``ceil(n / batch_size)``, or ``n // batch_size``
    with ``drop_last``. With a ``TensorDataset`` (and the default collate) each batch is a list of
    Tensors gathered with one fancy index per tensor, on the tensor's own device.
    """

    def __init__(self, dataset, batch_size=1, shuffle=False, sampler=None, batch_sampler=None,
                 num_workers=0, collate_fn=None, pin_memory=False, drop_last=False, timeout=0,
                 worker_init_fn=None, multiprocessing_context=None, generator=None, *,
                 prefetch_factor=None, persistent_workers=False):
        if not isinstance(num_workers, int) or num_workers < 0:
            raise ValueError("num_workers option should be non-negative; use num_workers=0 to "
                             "disable multiprocessing.")
        if timeout < 0:
            raise ValueError("timeout option should be non-negative")
        if sampler is not None and shuffle:
            raise ValueError("sampler option is mutually exclusive with shuffle")
        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError("batch_sampler option is mutually exclusive with batch_size, "
                                 "shuffle, sampler, and drop_last")
            batch_size, drop_last = None, False
        elif batch_size is None and drop_last:
            raise ValueError("batch_size=None option disables auto-batching and is mutually "
                             "exclusive with drop_last")

        if sampler is None:
            sampler = RandomSampler(dataset, generator=generator) if shuffle \
                else SequentialSampler(dataset)
        if batch_size is not None and batch_sampler is None:
            batch_sampler = BatchSampler(sampler, batch_size, drop_last)

        self.dataset = dataset
        self.batch_size = batch_size
        self.drop_last = drop_last
        self.sampler = sampler
        self.batch_sampler = batch_sampler
        self.generator = generator
        self.num_workers = num_workers
        self.pin_memory = pin_memory
        self.timeout = timeout
        self.worker_init_fn = worker_init_fn
        self.multiprocessing_context = multiprocessing_context
        self.prefetch_factor = prefetch_factor
        self.persistent_workers = persistent_workers
        if collate_fn is None:
            collate_fn = default_collate if self._auto_collation else default_convert
        self.collate_fn = collate_fn

    @property
    def _auto_collation(self):
        return self.batch_sampler is not None

    @property
    def _index_sampler(self):
        return self.batch_sampler if self._auto_collation else self.sampler

    def __len__(self):
        return len(self._index_sampler)

    def _gather_tensors(self):
        """The TensorDataset's tensors when batches can be gathered directly, else None."""
        ds = self.dataset
        if (isinstance(ds, TensorDataset) and type(ds).__getitem__ is TensorDataset.__getitem__
                and self.collate_fn is default_collate):
            return ds.tensors
        return None

    def _index_batches(self, device):
        """Each batch's indices as an int64 array on ``device`` (host when None)."""
        if type(self.batch_sampler).__iter__ is BatchSampler.__iter__:
            yield from self.batch_sampler.index_batches(device)
            return
        for batch in self.batch_sampler:
            index = np.asarray(batch, dtype=np.int64)
            yield index if device is None else backend.to_device(index, device)

    def __iter__(self):
        if not self._auto_collation:
            for index in self.sampler:
                yield self.collate_fn(self.dataset[index])
            return

        tensors = self._gather_tensors()
        if tensors is None:
            # Any other dataset: index it sample by sample, then collate.
            for batch in self.batch_sampler:
                yield self.collate_fn([self.dataset[i] for i in batch])
            return

        # TensorDataset: one fancy index per tensor, done where the tensor lives. With all the
        # tensors on one device the epoch's order is moved there once, and batches are slices.
        devices = {str(t.device) for t in tensors}
        device = devices.pop() if len(devices) == 1 else None
        for index in self._index_batches(device):
            yield [Tensor(t.array[index if device is not None
                                  else backend.to_device(index, t.device)])
                   for t in tensors]

    def __repr__(self):
        return (f"{type(self).__name__}(dataset={type(self.dataset).__name__}, "
                f"batch_size={self.batch_size}, drop_last={self.drop_last}, "
                f"sampler={type(self.sampler).__name__})")
