"""Tensor factories: from data, filled, ranges and random (the engine's seeded generator).

Random numbers are drawn on the host from ``backend.default_generator`` (or the ``generator``
passed in) and then moved to the device, so a seed means the same numbers on CPU and GPU.
"""
from __future__ import annotations

import math
import operator

import numpy as np

from . import backend, dtypes
from .backend import get_array_module, to_device
from .tensor import Tensor, _as_array

_MAX_ELEMENTS = 2 ** 63 - 1  # PyTorch's limit too: sizes whose product overflows int64 are refused


def _int_arg(fname, name, value, minimum=None):
    """``value`` as a Python int (ints, NumPy integers, integer 0-d tensors; never bools), checked.

    A wrong type raises TypeError and a value below ``minimum`` RuntimeError, as PyTorch does,
    each naming the function, the argument and the value.
    """
    if isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{fname}(): argument '{name}' must be int, not bool ({value!r})")
    try:
        number = operator.index(value)
    except TypeError:
        raise TypeError(f"{fname}(): argument '{name}' must be int, not {type(value).__name__} "
                        f"({value!r})") from None
    if minimum is not None and number < minimum:
        raise RuntimeError(f"{fname}(): argument '{name}' must be {'non-negative' if minimum == 0 else f'>= {minimum}'}"
                           f", got {number}")
    return number


def _size(fname, size):
    """The shape tuple of ``f(2, 3)``, ``f((2, 3))``, ``f([2, 3])`` or ``f(torch.Size)``, checked.

    Every entry must be a non-negative integer (``2.0``, ``True``, ``"2"`` and ``-1`` are refused,
    naming the position), and the number of elements must fit in int64.
    """
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = size[0]
    elif len(size) == 1 and size[0] is None:
        raise TypeError(f"{fname}(): argument 'size' must be a tuple of ints, not None")
    shape = []
    for position, n in enumerate(size):
        if isinstance(n, (bool, np.bool_)) or not _is_index(n):
            raise TypeError(f"{fname}(): argument 'size' must be a tuple of ints, but found {n!r} "
                            f"({type(n).__name__}) at position {position}")
        shape.append(operator.index(n))
    negative = [n for n in shape if n < 0]
    if negative:
        raise RuntimeError(f"{fname}(): trying to create a tensor with negative dimension {negative[0]}: "
                           f"size {tuple(shape)}")
    if math.prod(shape) > _MAX_ELEMENTS:
        raise RuntimeError(f"{fname}(): size {tuple(shape)} has more elements than int64 can count")
    return tuple(shape)


def _is_index(value):
    try:
        operator.index(value)
    except TypeError:
        return False
    return True


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


def _filled(shape, value, dtype, device, requires_grad):
    np_dtype = dtypes.to_dtype(dtype).np if dtype is not None else dtypes.default_float.np
    xp = get_array_module(device or "cpu")
    return Tensor(xp.full(shape, value, dtype=np_dtype), requires_grad=requires_grad)


def zeros(*size, dtype=None, device=None, requires_grad=False):
    return _filled(_size("zeros", size), 0, dtype, device, requires_grad)


def ones(*size, dtype=None, device=None, requires_grad=False):
    return _filled(_size("ones", size), 1, dtype, device, requires_grad)


def empty(*size, dtype=None, device=None, requires_grad=False):
    """Here the same as zeros: uninitialised memory would only make results irreproducible."""
    return _filled(_size("empty", size), 0, dtype, device, requires_grad)


def full(size, fill_value, dtype=None, device=None, requires_grad=False):
    if dtype is None:  # inferred from the fill value, as in PyTorch
        dtype = dtypes.bool_ if isinstance(fill_value, bool) else \
            dtypes.int64 if isinstance(fill_value, (int, np.integer)) else dtypes.default_float
    # PyTorch wants a tuple here; a single int is accepted too (a shape of one dimension)
    shape = _size("full", (size,) if _is_index(size) and not isinstance(size, (bool, np.bool_)) else
                  size if isinstance(size, (tuple, list)) else (size,))
    return _filled(shape, fill_value, dtype, device, requires_grad)


def _like(t, value, dtype, device, requires_grad):
    return _filled(t.shape, value, dtype or t.dtype, device or t.device, requires_grad)


def zeros_like(input, dtype=None, device=None, requires_grad=False):
    return _like(input, 0, dtype, device, requires_grad)


def ones_like(input, dtype=None, device=None, requires_grad=False):
    return _like(input, 1, dtype, device, requires_grad)


def full_like(input, fill_value, dtype=None, device=None, requires_grad=False):
    return _like(input, fill_value, dtype, device, requires_grad)


def empty_like(input, dtype=None, device=None, requires_grad=False):
    """Here the same as zeros_like (see :func:`empty`)."""
    return _like(input, 0, dtype, device, requires_grad)


def randn_like(input, dtype=None, device=None, requires_grad=False):
    """Standard normal samples of ``input``'s shape, dtype and device."""
    return randn(*input.shape, dtype=dtype or input.dtype, device=device or input.device, requires_grad=requires_grad)


def rand_like(input, dtype=None, device=None, requires_grad=False):
    """Uniform samples on [0, 1) of ``input``'s shape, dtype and device."""
    return rand(*input.shape, dtype=dtype or input.dtype, device=device or input.device, requires_grad=requires_grad)


def randint_like(input, low=0, high=None, dtype=None, device=None, requires_grad=False):
    """Integers uniform on [low, high) (``randint_like(t, high)``: [0, high)) of ``input``'s shape,
    in its dtype and on its device."""
    if high is None:
        low, high = 0, low
    t = randint(low, high, tuple(input.shape), dtype=dtype or input.dtype, device=device or input.device)
    return t.requires_grad_(True) if requires_grad else t


def eye(n, m=None, dtype=None, device=None, requires_grad=False):
    n = _int_arg("eye", "n", n, minimum=0)
    m = None if m is None else _int_arg("eye", "m", m, minimum=0)
    return _finish(np.eye(n, m, dtype=(dtypes.to_dtype(dtype) if dtype else dtypes.default_float).np),
                   None, device, requires_grad)


def arange(start, end=None, step=1, dtype=None, device=None, requires_grad=False):
    """int64 when start, end and step are all ints, else float32 (PyTorch's inference)."""
    if end is None:
        start, end = 0, start
    for name, value in (("start", start), ("end", end), ("step", step)):
        try:
            if isinstance(value, (bool, np.bool_, str, bytes)):
                raise TypeError
            number = float(value)
        except (TypeError, ValueError):
            raise TypeError(f"arange(): argument '{name}' must be a number, not {type(value).__name__} "
                            f"({value!r})") from None
        if not math.isfinite(number):
            raise RuntimeError(f"arange(): unsupported range: argument '{name}' is {value}")
    if step == 0:
        raise RuntimeError("arange(): step must be nonzero")
    if (end - start) * step < 0:
        raise RuntimeError(f"arange(): upper bound and lower bound inconsistent with step sign: start={start}, "
                           f"end={end}, step={step}")
    if dtype is None:
        ints = all(isinstance(v, (int, np.integer)) for v in (start, end, step))
        dtype = dtypes.int64 if ints else dtypes.default_float
    return _finish(np.arange(start, end, step), dtype, device, requires_grad)


def linspace(start, end, steps, dtype=None, device=None, requires_grad=False):
    steps = _int_arg("linspace", "steps", steps, minimum=0)
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
    return _finish(_rng(generator).standard_normal(_size("randn", size), dtype=_float_dtype(dtype)),
                   None, device, requires_grad)


def rand(*size, generator=None, dtype=None, device=None, requires_grad=False):
    """Uniform samples on [0, 1)."""
    return _finish(_rng(generator).random(_size("rand", size), dtype=_float_dtype(dtype)), None, device, requires_grad)


def randint(low, high=None, size=None, generator=None, dtype=None, device=None):
    """Integers uniform on [low, high) (``randint(high, size)`` also works, as in PyTorch)."""
    form = f"randint({low}, {high}, ({size!r},))"
    if size is None:
        if high is None:
            raise TypeError("randint(): argument 'size' is missing: write randint(high, (n,)) or "
                            "randint(low, high, (n,))")
        low, high, size = 0, low, high
        form = f"randint({high}, ({size!r},))"
    if not isinstance(size, (tuple, list)):
        raise TypeError(f"randint(): argument 'size' must be a tuple of ints, not {type(size).__name__} "
                        f"({size!r}); for {size!r} numbers write {form}")
    shape = _size("randint", size)
    low, high = _int_arg("randint", "low", low), _int_arg("randint", "high", high)
    if low >= high:
        raise RuntimeError(f"randint(): expected low < high, but got low={low} >= high={high}")
    if not (-2 ** 63 <= low and high - 1 < 2 ** 63):
        raise RuntimeError(f"randint(): the range [{low}, {high}) does not fit in int64")
    return _finish(_rng(generator).integers(low, high, size=shape), dtype or dtypes.int64, device, False)


def randperm(n, generator=None, dtype=None, device=None):
    n = _int_arg("randperm", "n", n, minimum=0)
    return _finish(_rng(generator).permutation(n), dtype or dtypes.int64, device, False)


def manual_seed(seed):
    """Seed the engine's global generator; returns it (a ``Generator``)."""
    return backend.manual_seed(seed)


def initial_seed():
    """The global generator's seed: drawn at random when the process started (as PyTorch does),
    or the one last given to ``manual_seed``."""
    return backend.initial_seed()


def seed():
    """Reseed the global generator from the operating system's entropy; returns the new seed."""
    return backend.seed()
