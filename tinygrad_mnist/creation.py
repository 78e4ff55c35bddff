"""Tensor factories: from data, filled, ranges and random (the engine's seeded generator).

Random numbers are drawn on the host from ``backend.default_generator`` (or the ``generator``
passed in) and then moved to the device, so a seed means the same numbers on CPU and GPU.
"""
from __future__ import annotations

import numpy as np

from . import backend, dtypes
from .backend import get_array_module, to_device
from .tensor import Tensor, _as_array, _shape_arg


def _finish(array, dtype, device, requires_grad):
    if dtype is not None:
        array = array.astype(dtypes.to_dtype(dtype).np, copy=False)
    if device is not None:
        array = to_device(array, device)
    return Tensor(array, requires_grad=requires_grad)


def tensor(data, dtype=None, device=None, requires_grad=False):
    """A new tensor holding a copy of ``data`` (Python numbers, nested lists, arrays, tensors).

    Python floats become float32 and ints int64, as in PyTorch; NumPy arrays keep their dtype.
    """
    return Tensor(_as_array(data, dtype, device), requires_grad=requires_grad)


def as_tensor(data, dtype=None, device=None):
    """Like :func:`tensor`, but shares ``data``'s memory when it already has the dtype and device."""
    if isinstance(data, Tensor):
        return data.to(*[x for x in (device, dtype) if x is not None])
    if hasattr(data, "dtype") and hasattr(data, "shape") and dtype is None and device is None:
        return Tensor(data if not isinstance(data, np.generic) else np.asarray(data))
    return tensor(data, dtype=dtype, device=device)


def from_numpy(array):
    """Wrap a NumPy array without copying (changes to one show in the other)."""
    if not isinstance(array, np.ndarray):
        raise TypeError(f"from_numpy expects a numpy.ndarray, got {type(array).__name__}")
    return Tensor(array)


def _filled(size, value, dtype, device, requires_grad):
    np_dtype = dtypes.to_dtype(dtype).np if dtype is not None else dtypes.default_float.np
    xp = get_array_module(device or "cpu")
    return Tensor(xp.full(_shape_arg(size), value, dtype=np_dtype), requires_grad=requires_grad)


def zeros(*size, dtype=None, device=None, requires_grad=False):
    return _filled(size, 0, dtype, device, requires_grad)


def ones(*size, dtype=None, device=None, requires_grad=False):
    return _filled(size, 1, dtype, device, requires_grad)


def empty(*size, dtype=None, device=None, requires_grad=False):
    """Here the same as zeros: uninitialised memory would only make results irreproducible."""
    return _filled(size, 0, dtype, device, requires_grad)


def full(size, fill_value, dtype=None, device=None, requires_grad=False):
    if dtype is None:  # inferred from the fill value, as in PyTorch
        dtype = dtypes.bool_ if isinstance(fill_value, bool) else \
            dtypes.int64 if isinstance(fill_value, (int, np.integer)) else dtypes.default_float
    return _filled((size,) if isinstance(size, int) else size, fill_value, dtype, device, requires_grad)


def _like(t, value, dtype, device, requires_grad):
    return _filled(t.shape, value, dtype or t.dtype, device or t.device, requires_grad)


def zeros_like(input, dtype=None, device=None, requires_grad=False):
    return _like(input, 0, dtype, device, requires_grad)


def ones_like(input, dtype=None, device=None, requires_grad=False):
    return _like(input, 1, dtype, device, requires_grad)


def full_like(input, fill_value, dtype=None, device=None, requires_grad=False):
    return _like(input, fill_value, dtype, device, requires_grad)


def eye(n, m=None, dtype=None, device=None, requires_grad=False):
    return _finish(np.eye(n, m, dtype=(dtypes.to_dtype(dtype) if dtype else dtypes.default_float).np),
                   None, device, requires_grad)


def arange(start, end=None, step=1, dtype=None, device=None, requires_grad=False):
    """int64 when start, end and step are all ints, else float32 (PyTorch's inference)."""
    if end is None:
        start, end = 0, start
    if dtype is None:
        ints = all(isinstance(v, (int, np.integer)) for v in (start, end, step))
        dtype = dtypes.int64 if ints else dtypes.default_float
    return _finish(np.arange(start, end, step), dtype, device, requires_grad)


def linspace(start, end, steps, dtype=None, device=None, requires_grad=False):
    return _finish(np.linspace(start, end, steps), dtype or dtypes.default_float, device, requires_grad)


def _rng(generator):
    return backend.numpy_rng(generator)


def _float_dtype(dtype):
    d = dtypes.to_dtype(dtype) if dtype is not None else dtypes.default_float
    if not d.is_floating_point:
        raise TypeError(f"expected a floating point dtype for random floats, got {d}")
    return d.np


def randn(*size, generator=None, dtype=None, device=None, requires_grad=False):
    """Standard normal samples."""
    return _finish(_rng(generator).standard_normal(_shape_arg(size), dtype=_float_dtype(dtype)),
                   None, device, requires_grad)


def rand(*size, generator=None, dtype=None, device=None, requires_grad=False):
    """Uniform samples on [0, 1)."""
    return _finish(_rng(generator).random(_shape_arg(size), dtype=_float_dtype(dtype)), None, device, requires_grad)


def randint(low, high=None, size=None, generator=None, dtype=None, device=None):
    """Integers uniform on [low, high) (``randint(high, size)`` also works, as in PyTorch)."""
    if size is None:
        if high is None or not isinstance(high, (tuple, list)):
            raise TypeError("randint() requires a size tuple")
        low, high, size = 0, low, high
    return _finish(_rng(generator).integers(low, high, size=tuple(size)), dtype or dtypes.int64, device, False)


def randperm(n, generator=None, dtype=None, device=None):
    return _finish(_rng(generator).permutation(n), dtype or dtypes.int64, device, False)


def manual_seed(seed):
    """Seed the engine's global generator; returns it (a ``Generator``)."""
    return backend.manual_seed(seed)
