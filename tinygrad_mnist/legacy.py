"""PyTorch's typed tensor classes (``tg.FloatTensor``, ``tg.LongTensor``, ``tg.cuda.FloatTensor``
...) and the type strings of ``Tensor.type()``.

Each class builds tensors as the pre-0.4 constructors did: ``FloatTensor(2, 3)`` (a shape: here
zero-filled, PyTorch leaves it uninitialised), ``FloatTensor([1, 2])`` (data), ``FloatTensor()``
(empty). ``isinstance(t, tg.FloatTensor)`` is true for a float32 tensor on the CPU, as in PyTorch.

``t.type()`` returns PyTorch's own strings (``'torch.FloatTensor'``, ``'torch.cuda.LongTensor'``),
so that the comparisons PyTorch programs write (``x.type() == 'torch.FloatTensor'``) hold
unchanged; ``t.type('torch.DoubleTensor')`` and ``t.type(tg.DoubleTensor)`` convert.
"""
from __future__ import annotations

import numbers

from . import dtypes

__all__ = ["FloatTensor", "DoubleTensor", "LongTensor", "IntTensor", "ByteTensor", "BoolTensor",
           "type_name", "parse_type"]

_NAMES = {"Float": dtypes.float32, "Double": dtypes.float64, "Long": dtypes.int64, "Int": dtypes.int32,
          "Byte": dtypes.uint8, "Bool": dtypes.bool_}
_BY_DTYPE = {d.name: name for name, d in _NAMES.items()}


class _TensorType(type):
    """The metaclass: calling the class builds a tensor; isinstance checks dtype and device."""

    def __instancecheck__(cls, obj):
        from .tensor import Tensor
        return isinstance(obj, Tensor) and obj.array.dtype == cls.dtype.np and obj.device.type == cls.device

    def __call__(cls, *args, device=None):
        from .creation import tensor, zeros
        where = cls.device if device is None else device
        if not args:
            return zeros(0, dtype=cls.dtype, device=where)
        from .shapes import Size
        if isinstance(args[0], Size) and len(args) == 1:
            return zeros(*args[0], dtype=cls.dtype, device=where)
        if all(isinstance(a, numbers.Integral) and not isinstance(a, bool) for a in args):
            return zeros(*args, dtype=cls.dtype, device=where)
        if len(args) != 1:
            raise TypeError(f"{cls.__name__}(): expected sizes (ints) or one sequence of data, got {args!r}")
        return tensor(args[0], dtype=cls.dtype, device=where)

    def __repr__(cls):
        return f"<class '{type_name(cls.dtype, cls.device)}'>"


def _make(name, device):
    return _TensorType(f"{name}Tensor", (), {"dtype": _NAMES[name], "device": device,
                                             "__doc__": f"{_NAMES[name].name} tensors on the {device}"})


FloatTensor, DoubleTensor, LongTensor, IntTensor, ByteTensor, BoolTensor = (
    _make(n, "cpu") for n in ("Float", "Double", "Long", "Int", "Byte", "Bool"))
CUDA_TYPES = {f"{n}Tensor": _make(n, "cuda") for n in _NAMES}


def type_name(dtype, device_type):
    """PyTorch's type string: ``'torch.FloatTensor'``, ``'torch.cuda.FloatTensor'``..."""
    return f"torch.{'cuda.' if device_type == 'cuda' else ''}{_BY_DTYPE[dtype.name]}Tensor"


def parse_type(spec):
    """(dtype, device type or None) from a type string, a typed class, or a dtype."""
    if isinstance(spec, _TensorType):
        return spec.dtype, spec.device
    if isinstance(spec, str) and spec.endswith("Tensor"):
        parts = spec.split(".")
        if parts[0] in ("torch", "tinygrad_mnist") and parts[-1][:-len("Tensor")] in _NAMES and (
                len(parts) == 2 or (len(parts) == 3 and parts[1] == "cuda")):
            return _NAMES[parts[-1][:-len("Tensor")]], "cuda" if len(parts) == 3 else "cpu"
        raise ValueError(f"invalid type: {spec!r}")
    return dtypes.to_dtype(spec), None
