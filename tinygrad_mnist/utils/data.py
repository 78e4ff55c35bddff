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

Differences from PyTorch: there are no worker processes. ``num_workers``, ``pin_memory``,
``timeout``, ``worker_init_fn``, ``multiprocessing_context``, ``prefetch_factor`` and
``persistent_workers`` are checked as PyTorch checks them (the same conflicts raise the same
errors) and otherwise have no effect: batches are made in the calling process, on demand, so
``worker_init_fn`` is never called and ``get_worker_info()`` is always None (as in PyTorch's main
process). ``pin_memory`` does nothing: host arrays are ordinary NumPy arrays, and a TensorDataset
already on the GPU is batched there. The random order for a seed differs from PyTorch's (another
generator), though it is just as reproducible.
"""
from __future__ import annotations

import bisect
import collections.abc
import itertools
import math
import numbers
import warnings

import numpy as np  # host-side index arithmetic only; tensor data goes through backend/xp

from .. import backend
from ..tensor import Tensor

__all__ = [
    "Dataset", "TensorDataset", "Subset", "ConcatDataset", "random_split", "Sampler",
    "SequentialSampler", "RandomSampler", "SubsetRandomSampler", "WeightedRandomSampler",
    "BatchSampler", "DataLoader", "default_collate", "default_convert", "get_worker_info",
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

    def __add__(self, other):
        return ConcatDataset([self, other])


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


def _is_int(x):
    return isinstance(x, numbers.Integral) and not isinstance(x, bool)


class Subset(Dataset):
    """The samples of ``dataset`` at ``indices``, in that order: ``subset[i] == dataset[indices[i]]``."""

    def __init__(self, dataset, indices):
        self.dataset = dataset
        self.indices = indices

    def __getitem__(self, idx):
        if isinstance(idx, list):
            return self.dataset[[self.indices[i] for i in idx]]
        return self.dataset[self.indices[idx]]

    def __getitems__(self, indices):
        """A batch of samples at once (the DataLoader calls this when it exists, as PyTorch's does)."""
        if callable(getattr(self.dataset, "__getitems__", None)):
            return self.dataset.__getitems__([self.indices[i] for i in indices])
        return [self.dataset[self.indices[i]] for i in indices]

    def __len__(self):
        return len(self.indices)


class ConcatDataset(Dataset):
    """Several datasets one after the other: indices ``0 .. len(a) - 1`` are ``a``'s, the next
    ``len(b)`` are ``b``'s, and so on. Negative indices count from the end, as in PyTorch.

    Attributes: ``datasets`` (a list) and ``cumulative_sizes`` (the running total of lengths).
    """

    def __init__(self, datasets):
        self.datasets = list(datasets)
        if not self.datasets:
            raise ValueError("ConcatDataset: datasets should not be an empty iterable")
        self.cumulative_sizes = list(itertools.accumulate(len(d) for d in self.datasets))

    def __len__(self):
        return self.cumulative_sizes[-1]

    def __getitem__(self, idx):
        if not _is_int(idx):
            raise TypeError(f"ConcatDataset indices must be integers, got {type(idx).__name__}")
        n = len(self)
        if idx < 0:
            if -idx > n:
                raise ValueError(f"ConcatDataset: absolute value of index {idx} should not exceed "
                                 f"dataset length {n}")
            idx += n
        if idx >= n:
            raise IndexError(f"ConcatDataset: index {idx} is out of range for length {n}")
        which = bisect.bisect_right(self.cumulative_sizes, idx)
        start = self.cumulative_sizes[which - 1] if which else 0
        return self.datasets[which][idx - start]


def random_split(dataset, lengths, generator=None):
    """Split ``dataset`` into non-overlapping random ``Subset``s of the given lengths.

    ``lengths`` are sample counts summing to ``len(dataset)``, or fractions summing to 1: then
    each split gets ``floor(n * f)`` samples and the remainder is handed out one by one from the
    first split on, as PyTorch does (with its warning for a split that ends up empty). The order
    is one permutation drawn from ``generator`` (default: the engine's global one).
    Unlike PyTorch, a negative length is an error rather than a strange split.
    """
    n = len(dataset)
    lengths = list(lengths)
    if not lengths:
        raise ValueError("random_split: lengths is empty")
    for i, length in enumerate(lengths):
        if isinstance(length, bool) or not isinstance(length, numbers.Real) or length < 0 \
                or not math.isfinite(length):
            raise ValueError(f"random_split: length at index {i} must be a non-negative count or "
                             f"fraction, got {length!r}")
    if math.isclose(sum(lengths), 1) and sum(lengths) <= 1:
        for i, frac in enumerate(lengths):
            if frac > 1:
                raise ValueError(f"Fraction at index {i} is not between 0 and 1, got {frac}")
        counts = [int(math.floor(n * frac)) for frac in lengths]
        for i in range(n - sum(counts)):
            counts[i % len(counts)] += 1
        for i, count in enumerate(counts):
            if count == 0:
                warnings.warn(f"Length of split at index {i} is 0. This might result in an empty "
                              "dataset.", stacklevel=2)
        lengths = counts
    elif any(not _is_int(length) for length in lengths):
        raise ValueError(f"random_split: lengths {lengths} are neither integer counts nor "
                         "fractions summing to 1")
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


class WeightedRandomSampler(_ArraySampler):
    """``num_samples`` indices in ``0 .. len(weights) - 1``, index ``i`` drawn with probability
    ``weights[i] / sum(weights)`` (the weights need not sum to 1), as ``torch.multinomial`` draws.

    With ``replacement=False`` each index appears at most once (successive draws, each among the
    indices not drawn yet). Errors as PyTorch's: weights must be 1-D, finite, non-negative, with
    a positive sum. Unlike PyTorch, drawing more samples without replacement than there are
    positive weights is an error (PyTorch then returns zero-weight indices).
    """

    def __init__(self, weights, num_samples, replacement=True, generator=None):
        if not _is_int(num_samples) or num_samples <= 0:
            raise ValueError(f"num_samples should be a positive integer value, but got "
                             f"num_samples={num_samples}")
        if not isinstance(replacement, bool):
            raise ValueError(f"replacement should be a boolean value, but got "
                             f"replacement={replacement}")
        if isinstance(weights, Tensor):
            weights = backend.to_numpy(weights.array)
        weights = np.asarray(weights, dtype=np.float64)
        if weights.ndim != 1:
            raise ValueError(f"weights should be a 1d sequence but given weights have shape "
                             f"{tuple(weights.shape)}")
        if not np.isfinite(weights).all():
            raise RuntimeError("invalid multinomial distribution (encountering probability entry "
                               "= infinity or NaN)")
        if (weights < 0).any():
            raise RuntimeError("invalid multinomial distribution (encountering probability entry "
                               f"< 0): weights[{int(np.flatnonzero(weights < 0)[0])}] = "
                               f"{weights[weights < 0][0]}")
        if weights.sum() <= 0:
            raise RuntimeError("invalid multinomial distribution (sum of probabilities <= 0)")
        positive = int(np.count_nonzero(weights))
        if not replacement and num_samples > positive:
            raise RuntimeError(f"cannot sample n_sample > prob_dist.size(-1) samples without "
                               f"replacement: num_samples={num_samples}, but only {positive} of "
                               f"the {weights.size} weights are positive")
        self.weights = weights
        self.num_samples = num_samples
        self.replacement = replacement
        self.generator = generator

    def index_array(self):
        rng = backend.numpy_rng(self.generator)
        return rng.choice(self.weights.size, size=self.num_samples, replace=self.replacement,
                          p=self.weights / self.weights.sum()).astype(np.int64, copy=False)

    def __len__(self):
        return self.num_samples


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
        prefetch_factor, persistent_workers: checked as PyTorch checks them (``prefetch_factor``,
            ``persistent_workers`` and ``multiprocessing_context`` need ``num_workers > 0``),
            then without effect: batches are always made in the calling process, when asked
            for, so ``worker_init_fn`` is never called; ``pin_memory`` does nothing (there is no
            page-locked staging: host batches are NumPy arrays, GPU datasets are batched on the
            GPU).

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
        if num_workers == 0 and prefetch_factor is not None:
            raise ValueError("prefetch_factor option could only be specified in multiprocessing."
                             "let num_workers > 0 to enable multiprocessing, otherwise set "
                             "prefetch_factor to None.")
        if prefetch_factor is not None and prefetch_factor < 0:
            raise ValueError("prefetch_factor option should be non-negative")
        if persistent_workers and num_workers == 0:
            raise ValueError("persistent_workers option needs num_workers > 0")
        if multiprocessing_context is not None and num_workers == 0:
            raise ValueError(f"multiprocessing_context can only be used with multi-process "
                             f"loading (num_workers > 0), but got num_workers={num_workers}")
        if collate_fn is not None and not callable(collate_fn):
            raise TypeError(f"collate_fn should be callable, got {type(collate_fn).__name__}")
        if worker_init_fn is not None and not callable(worker_init_fn):
            raise TypeError(f"worker_init_fn should be callable, got "
                            f"{type(worker_init_fn).__name__}")
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
            getitems = getattr(self.dataset, "__getitems__", None)
            for batch in self.batch_sampler:
                samples = getitems(list(batch)) if callable(getitems) \
                    else [self.dataset[i] for i in batch]
                yield self.collate_fn(samples)
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


def get_worker_info():
    """None: batches are made in the calling process, which is what PyTorch's main process sees."""
    return None
