"""Module-level tensor functions, PyTorch style: ``tg.cat``, ``tg.exp``, ``tg.max`` ...

Most are the Tensor method of the same name; the ones with several tensor inputs live here.
"""
from __future__ import annotations

from .ops import canonical_dim
from .ops.movement import Cat, Pad, Stack
from .tensor import Tensor, _binary_operands, _check_same_device, maximum, minimum, where


def _common(tensors, op):
    tensors = list(tensors)
    if not tensors:
        raise RuntimeError(f"{op}: expected a non-empty list of tensors")
    for t in tensors:
        if not isinstance(t, Tensor):
            raise TypeError(f"{op}: expected a sequence of tensors, got {type(t).__name__}")
        _check_same_device(op, tensors[0], t)
    first = tensors[0]
    for i, t in enumerate(tensors[1:], 1):
        if t.array.dtype != first.array.dtype:  # promote everything to the common dtype
            first, _ = _binary_operands(first, t)
    dt = first.array.dtype
    return [t if t.array.dtype == dt else t.to(dt) for t in tensors]


def cat(tensors, dim=0):
    tensors = _common(tensors, "cat")
    ref = tensors[0]
    d = canonical_dim(dim, ref.ndim, "cat")
    for i, t in enumerate(tensors):
        if t.ndim != ref.ndim or any(a != b for j, (a, b) in enumerate(zip(t.shape, ref.shape)) if j != d):
            raise RuntimeError(f"cat: sizes of tensors must match except in dimension {d}: expected "
                               f"{tuple(ref.shape)} (but for dim {d}), got {tuple(t.shape)} for tensor {i}")
    return Cat.apply(*tensors, dim=d)


concat = concatenate = cat


def stack(tensors, dim=0):
    tensors = _common(tensors, "stack")
    ref = tensors[0]
    for i, t in enumerate(tensors):
        if t.shape != ref.shape:
            raise RuntimeError(f"stack expects each tensor to be equal size, but got {tuple(ref.shape)} "
                               f"at entry 0 and {tuple(t.shape)} at entry {i}")
    return Stack.apply(*tensors, dim=canonical_dim(dim, ref.ndim + 1, "stack"))


def pad(input, pad, mode="constant", value=None):
    """Constant padding with PyTorch's ``pad`` tuple: (left, right[, top, bottom[, ...]])."""
    if mode != "constant":
        raise ValueError(f"pad: only mode='constant' is supported, got mode={mode!r}")
    if len(pad) % 2 or len(pad) // 2 > input.ndim:
        raise RuntimeError(f"pad: padding length {len(pad)} must be even and at most twice the number "
                           f"of dimensions ({input.ndim}) of an input of shape {tuple(input.shape)}")
    return Pad.apply(input, pad=tuple(int(p) for p in pad), value=0 if value is None else value)


_METHODS = ("exp", "log", "sqrt", "tanh", "sigmoid", "relu", "abs", "clamp", "clip", "square",
            "matmul", "mm", "sum", "mean", "var", "std", "max", "min", "amax", "amin", "argmax",
            "argmin", "softmax", "log_softmax", "reshape", "flatten", "squeeze", "unsqueeze",
            "transpose", "permute", "t", "eq", "ne", "lt", "le", "gt", "ge", "neg", "add", "sub",
            "mul", "div", "pow", "clone", "detach", "numel")
__all__ = ["cat", "concat", "concatenate", "stack", "pad", "where", "maximum", "minimum", *_METHODS]


def _method(name):
    def fn(input, *args, **kwargs):
        return getattr(input, name)(*args, **kwargs)
    fn.__name__ = name
    fn.__doc__ = f"``tg.{name}(t, ...)`` is ``t.{name}(...)``."
    return fn


for _name in _METHODS:
    globals()[_name] = _method(_name)
del _name
