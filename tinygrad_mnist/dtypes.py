"""The engine's dtypes: thin named wrappers around NumPy dtypes (CuPy uses the same ones).

PyTorch's type-promotion rules, in the part this engine needs:

* tensor with tensor: the higher category wins (bool < integer < floating), and within a
  category the wider type, except that a 0-dim tensor does not widen a dimensioned tensor of the
  same category (``float32 vector + float64 scalar tensor`` stays float32);
* tensor with a Python or NumPy scalar: the scalar only matters when its category is higher, and
  then the result is the default float32 (for a float scalar) or int64 (for an int scalar).
"""
from __future__ import annotations

import numpy as np


class dtype:
    """A tensor element type, e.g. ``tinygrad_mnist.float32``."""

    __slots__ = ("name", "np", "is_floating_point", "itemsize", "_category")

    def __init__(self, name, np_dtype, category):
        self.name = name
        self.np = np.dtype(np_dtype)
        self.is_floating_point = category == 2
        self.itemsize = self.np.itemsize
        self._category = category  # 0 bool, 1 integer, 2 floating

    def __repr__(self):
        return f"tinygrad_mnist.{self.name}"

    def __reduce__(self):  # dtypes are singletons
        return (to_dtype, (self.name,))


float32 = dtype("float32", np.float32, 2)
float64 = dtype("float64", np.float64, 2)
int64 = dtype("int64", np.int64, 1)
int32 = dtype("int32", np.int32, 1)
uint8 = dtype("uint8", np.uint8, 1)
bool_ = dtype("bool", np.bool_, 0)

_ALL = (float32, float64, int64, int32, uint8, bool_)
_BY_NP = {d.np: d for d in _ALL}
_BY_NAME = {d.name: d for d in _ALL}
_BY_NAME.update(float=float32, double=float64, long=int64, int=int32)

default_float = float32


def from_numpy_dtype(np_dtype):
    """The engine dtype of a NumPy dtype, or a TypeError naming it."""
    try:
        return _BY_NP[np.dtype(np_dtype)]
    except KeyError:
        raise TypeError(
            f"unsupported dtype {np.dtype(np_dtype)}: tinygrad_mnist supports "
            + ", ".join(d.name for d in _ALL)) from None


def to_dtype(spec):
    """Accept an engine dtype, a NumPy dtype or type, or a name ("float32", "long", ...)."""
    if isinstance(spec, dtype):
        return spec
    if isinstance(spec, str):
        if spec in _BY_NAME:
            return _BY_NAME[spec]
        raise TypeError(f"unknown dtype name {spec!r}")
    return from_numpy_dtype(spec)


def _category_of_np(np_dtype):
    return 2 if np_dtype.kind == "f" else 0 if np_dtype.kind == "b" else 1


def promote_arrays(a, b, a_is_scalar_tensor, b_is_scalar_tensor):
    """The NumPy dtype of a binary op between two tensors, by PyTorch's rules."""
    da, db = a.dtype, b.dtype
    if da == db:
        return da
    ca, cb = _category_of_np(da), _category_of_np(db)
    if ca != cb:
        # the higher category wins; a 0-dim tensor of the higher category keeps its own width
        return da if ca > cb else db
    if a_is_scalar_tensor != b_is_scalar_tensor:
        return b.dtype if a_is_scalar_tensor else a.dtype
    return np.promote_types(da, db)


def promote_scalar(np_dtype, value):
    """The NumPy dtype of ``tensor op scalar`` by PyTorch's rules."""
    if isinstance(value, (bool, np.bool_)):
        scalar_category = 0
    elif isinstance(value, (int, np.integer)):
        scalar_category = 1
    elif isinstance(value, (float, np.floating)):
        scalar_category = 2
    else:
        raise TypeError(f"unsupported scalar operand of type {type(value).__name__}")
    if scalar_category <= _category_of_np(np_dtype):
        return np_dtype
    return default_float.np if scalar_category == 2 else np.dtype(np.int64)
