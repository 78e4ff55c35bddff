"""Module-level tensor functions, PyTorch style: ``tg.cat``, ``tg.exp``, ``tg.max`` ...

The ones with several tensor inputs are defined here; the others are the Tensor method of the
same name (``tg.exp(t)`` is ``t.exp()``), each written out below so that grep finds it.
"""
from __future__ import annotations

from .ops.movement import Cat, Pad, Stack
from .shapes import canonical_dim
from .tensor import Tensor, _binary_operands, _check_same_device, maximum, minimum, where

__all__ = [
    "cat", "concat", "concatenate", "stack", "pad", "where", "maximum", "minimum",
    "exp", "log", "sqrt", "tanh", "sigmoid", "relu", "abs", "sign", "clamp", "clip", "square",
    "matmul", "mm", "sum", "mean", "var", "std", "max", "min", "amax", "amin", "argmax", "argmin",
    "softmax", "log_softmax", "reshape", "flatten", "squeeze", "unsqueeze", "transpose", "permute",
    "t", "narrow", "select", "gather", "scatter", "scatter_add", "masked_fill", "eq", "ne", "lt",
    "le", "gt", "ge", "neg", "add", "sub", "mul", "div", "pow", "clone", "detach", "numel",
]


def _common(tensors, op):
    tensors = list(tensors)
    if not tensors:
        raise RuntimeError(f"{op}: expected a non-empty list of tensors")
    for t in tensors:
        if not isinstance(t, Tensor):
            raise TypeError(f"{op}: expected a sequence of tensors, got {type(t).__name__}")
        _check_same_device(op, tensors[0], t)
    first = tensors[0]
    for t in tensors[1:]:
        if t.array.dtype != first.array.dtype:  # promote everything to the common dtype
            first, _ = _binary_operands(first, t)
    dt = first.array.dtype
    return [t if t.array.dtype == dt else t.to(dt) for t in tensors]


def cat(tensors, dim=0, *, axis=None):
    tensors = _common(tensors, "cat")
    ref = tensors[0]
    d = canonical_dim(dim if axis is None else axis, ref.ndim, "cat")
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
    """Constant padding with PyTorch's ``pad`` tuple: (left, right[, top, bottom[, ...]]), last
    dimension first; negative amounts crop."""
    if mode != "constant":
        raise ValueError(f"pad: only mode='constant' is supported, got mode={mode!r}")
    if len(pad) % 2 or len(pad) // 2 > input.ndim:
        raise RuntimeError(f"pad: padding length {len(pad)} must be even and at most twice the number "
                           f"of dimensions ({input.ndim}) of an input of shape {tuple(input.shape)}")
    return Pad.apply(input, pad=tuple(int(p) for p in pad), value=0 if value is None else value)


def _tensor(input, op):
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}(): argument 'input' must be a Tensor, not {type(input).__name__}")
    return input


def exp(input):
    return _tensor(input, "exp").exp()


def log(input):
    return _tensor(input, "log").log()


def sqrt(input):
    return _tensor(input, "sqrt").sqrt()


def tanh(input):
    return _tensor(input, "tanh").tanh()


def sigmoid(input):
    return _tensor(input, "sigmoid").sigmoid()


def relu(input):
    return _tensor(input, "relu").relu()


def abs(input):  # noqa: A001
    return _tensor(input, "abs").abs()


def sign(input):
    return _tensor(input, "sign").sign()


def clamp(input, min=None, max=None):  # noqa: A002
    return _tensor(input, "clamp").clamp(min, max)


clip = clamp


def square(input):
    return _tensor(input, "square").square()


def matmul(input, other):
    return _tensor(input, "matmul").matmul(other)


def mm(input, mat2):
    return _tensor(input, "mm").mm(mat2)


def sum(input, *args, **kwargs):  # noqa: A001
    return _tensor(input, "sum").sum(*args, **kwargs)


def mean(input, *args, **kwargs):
    return _tensor(input, "mean").mean(*args, **kwargs)


def var(input, *args, **kwargs):
    return _tensor(input, "var").var(*args, **kwargs)


def std(input, *args, **kwargs):
    return _tensor(input, "std").std(*args, **kwargs)


def max(input, *args, **kwargs):  # noqa: A001
    return _tensor(input, "max").max(*args, **kwargs)


def min(input, *args, **kwargs):  # noqa: A001
    return _tensor(input, "min").min(*args, **kwargs)


def amax(input, dim=(), keepdim=False):
    return _tensor(input, "amax").amax(dim, keepdim)


def amin(input, dim=(), keepdim=False):
    return _tensor(input, "amin").amin(dim, keepdim)


def argmax(input, *args, **kwargs):
    return _tensor(input, "argmax").argmax(*args, **kwargs)


def argmin(input, *args, **kwargs):
    return _tensor(input, "argmin").argmin(*args, **kwargs)


def softmax(input, dim):
    return _tensor(input, "softmax").softmax(dim)


def log_softmax(input, dim):
    return _tensor(input, "log_softmax").log_softmax(dim)


def reshape(input, shape):
    return _tensor(input, "reshape").reshape(shape)


def flatten(input, start_dim=0, end_dim=-1):
    return _tensor(input, "flatten").flatten(start_dim, end_dim)


def squeeze(input, dim=None):
    return _tensor(input, "squeeze").squeeze(dim)


def unsqueeze(input, dim):
    return _tensor(input, "unsqueeze").unsqueeze(dim)


def transpose(input, dim0, dim1):
    return _tensor(input, "transpose").transpose(dim0, dim1)


def permute(input, dims):
    return _tensor(input, "permute").permute(dims)


def t(input):
    return _tensor(input, "t").t()


def narrow(input, dim, start, length):
    return _tensor(input, "narrow").narrow(dim, start, length)


def select(input, dim, index):
    return _tensor(input, "select").select(dim, index)


def gather(input, dim, index):
    return _tensor(input, "gather").gather(dim, index)


def scatter(input, dim, index, src=None, *, value=None):
    return _tensor(input, "scatter").scatter(dim, index, src, value=value)


def scatter_add(input, dim, index, src):
    return _tensor(input, "scatter_add").scatter_add(dim, index, src)


def masked_fill(input, mask, value):
    return _tensor(input, "masked_fill").masked_fill(mask, value)


def eq(input, other):
    return _tensor(input, "eq").eq(other)


def ne(input, other):
    return _tensor(input, "ne").ne(other)


def lt(input, other):
    return _tensor(input, "lt").lt(other)


def le(input, other):
    return _tensor(input, "le").le(other)


def gt(input, other):
    return _tensor(input, "gt").gt(other)


def ge(input, other):
    return _tensor(input, "ge").ge(other)


def neg(input):
    return -_tensor(input, "neg")


def add(input, other, *, alpha=1):
    return _tensor(input, "add") + (other if alpha == 1 else other * alpha)


def sub(input, other, *, alpha=1):
    return _tensor(input, "sub") - (other if alpha == 1 else other * alpha)


def mul(input, other):
    return _tensor(input, "mul") * other


def div(input, other):
    return _tensor(input, "div") / other


def pow(input, exponent):  # noqa: A001
    if not isinstance(input, Tensor):
        return input ** exponent  # pow(scalar, tensor)
    return input ** exponent


def clone(input):
    return _tensor(input, "clone").clone()


def detach(input):
    return _tensor(input, "detach").detach()


def numel(input):
    return _tensor(input, "numel").numel()
