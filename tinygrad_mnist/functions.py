"""Module-level tensor functions, PyTorch style: ``tg.cat``, ``tg.exp``, ``tg.max`` ...

The ones with several tensor inputs are defined here; the others are the Tensor method of the
same name (``tg.exp(t)`` is ``t.exp()``), each written out below so that grep finds it.
"""
from __future__ import annotations

import builtins
import string

from .ops.matmul import Einsum
from .ops.movement import Cat, Pad, Stack
from .shapes import accepts_axis, canonical_dim
from .tensor import Tensor, _binary_operands, _check_same_device, maximum, minimum, where

__all__ = [
    "cat", "concat", "concatenate", "stack", "pad", "where", "maximum", "minimum",
    "exp", "log", "sqrt", "tanh", "sigmoid", "relu", "abs", "sign", "clamp", "clip", "square",
    "matmul", "mm", "sum", "mean", "var", "std", "max", "min", "amax", "amin", "argmax", "argmin",
    "softmax", "log_softmax", "reshape", "flatten", "squeeze", "unsqueeze", "transpose", "permute",
    "t", "narrow", "select", "gather", "scatter", "scatter_add", "masked_fill", "eq", "ne", "lt",
    "le", "gt", "ge", "neg", "add", "sub", "mul", "div", "pow", "clone", "detach", "numel",
    "sin", "cos", "log1p", "expm1", "log2", "log10", "rsqrt", "reciprocal", "erf", "floor", "ceil",
    "round", "trunc", "fix", "absolute", "negative", "floor_divide", "remainder", "fmod", "true_divide",
    "divide", "multiply", "subtract", "clamp_min", "clamp_max", "lerp", "addcmul", "addcdiv",
    "isclose", "allclose", "equal", "all", "any", "prod", "cumsum", "norm", "logsumexp", "std_mean",
    "var_mean", "sort", "argsort", "topk", "repeat_interleave", "tile", "flip", "fliplr", "flipud",
    "roll", "split", "chunk", "unbind", "movedim", "moveaxis", "swapaxes", "swapdims", "unflatten",
    "tril", "triu", "diagonal", "diag", "index_select", "index_fill", "index_add", "masked_select",
    "nonzero", "argwhere", "bmm", "mv", "dot", "inner", "outer", "ger", "addmm", "einsum",
    "is_tensor", "is_floating_point",
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


def cat(tensors, dim=0):
    tensors = _common(tensors, "cat")
    ref = tensors[0]
    d = canonical_dim(dim, ref.ndim, "cat")
    for i, t in enumerate(tensors):
        if t.ndim != ref.ndim or builtins.any(a != b for j, (a, b) in enumerate(zip(t.shape, ref.shape)) if j != d):
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


def clamp_min(input, min):  # noqa: A002
    return _tensor(input, "clamp_min").clamp_min(min)


def clamp_max(input, max):  # noqa: A002
    return _tensor(input, "clamp_max").clamp_max(max)


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


def scatter(input, dim, index, src=None, *, value=None, reduce=None):
    return _tensor(input, "scatter").scatter(dim, index, src, value=value, reduce=reduce)


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


def div(input, other, *, rounding_mode=None):
    return _tensor(input, "div").div(other, rounding_mode=rounding_mode)


true_divide = divide = div


def multiply(input, other):
    return _tensor(input, "multiply") * other


def subtract(input, other, *, alpha=1):
    return sub(input, other, alpha=alpha)


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


def sin(input):
    return _tensor(input, "sin").sin()


def cos(input):
    return _tensor(input, "cos").cos()


def log1p(input):
    return _tensor(input, "log1p").log1p()


def expm1(input):
    return _tensor(input, "expm1").expm1()


def log2(input):
    return _tensor(input, "log2").log2()


def log10(input):
    return _tensor(input, "log10").log10()


def rsqrt(input):
    return _tensor(input, "rsqrt").rsqrt()


def reciprocal(input):
    return _tensor(input, "reciprocal").reciprocal()


def erf(input):
    return _tensor(input, "erf").erf()


def floor(input):
    return _tensor(input, "floor").floor()


def ceil(input):
    return _tensor(input, "ceil").ceil()


def round(input, *, decimals=0):  # noqa: A001
    return _tensor(input, "round").round(decimals=decimals)


def trunc(input):
    return _tensor(input, "trunc").trunc()


fix = trunc


def absolute(input):
    return _tensor(input, "absolute").abs()


def negative(input):
    return -_tensor(input, "negative")


def floor_divide(input, other):
    if not isinstance(input, Tensor):
        return _tensor(other, "floor_divide").__rfloordiv__(input)
    return input.floor_divide(other)


def remainder(input, other):
    if not isinstance(input, Tensor):
        return _tensor(other, "remainder").__rmod__(input)
    return input.remainder(other)


def fmod(input, other):
    return _tensor(input, "fmod").fmod(other)


def lerp(input, end, weight):
    return _tensor(input, "lerp").lerp(end, weight)


def addcmul(input, tensor1, tensor2, *, value=1):
    return _tensor(input, "addcmul").addcmul(tensor1, tensor2, value=value)


def addcdiv(input, tensor1, tensor2, *, value=1):
    return _tensor(input, "addcdiv").addcdiv(tensor1, tensor2, value=value)


def isclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    return _tensor(input, "isclose").isclose(other, rtol, atol, equal_nan)


def allclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    return _tensor(input, "allclose").allclose(other, rtol, atol, equal_nan)


def equal(input, other):
    return _tensor(input, "equal").equal(other)


def all(input, dim=None, keepdim=False):  # noqa: A001
    return _tensor(input, "all").all(dim, keepdim)


def any(input, dim=None, keepdim=False):  # noqa: A001
    return _tensor(input, "any").any(dim, keepdim)


def prod(input, dim=None, keepdim=False, *, dtype=None):
    return _tensor(input, "prod").prod(dim, keepdim, dtype=dtype)


def cumsum(input, dim, *, dtype=None):
    return _tensor(input, "cumsum").cumsum(dim, dtype=dtype)


def norm(input, p="fro", dim=None, keepdim=False, dtype=None):
    return _tensor(input, "norm").norm(p, dim, keepdim, dtype)


def logsumexp(input, dim, keepdim=False):
    return _tensor(input, "logsumexp").logsumexp(dim, keepdim)


def std_mean(input, dim=None, *, correction=1, keepdim=False, unbiased=None):
    """(std, mean) over ``dim``, in one call."""
    t = _tensor(input, "std_mean")
    correction = correction if unbiased is None else int(bool(unbiased))
    return t.std(dim, keepdim=keepdim, correction=correction), t.mean(dim, keepdim=keepdim)


def var_mean(input, dim=None, *, correction=1, keepdim=False, unbiased=None):
    """(var, mean) over ``dim``, in one call."""
    t = _tensor(input, "var_mean")
    correction = correction if unbiased is None else int(bool(unbiased))
    return t.var(dim, keepdim=keepdim, correction=correction), t.mean(dim, keepdim=keepdim)


def sort(input, dim=-1, descending=False, stable=False):
    return _tensor(input, "sort").sort(dim, descending, stable)


def argsort(input, dim=-1, descending=False, stable=False):
    return _tensor(input, "argsort").argsort(dim, descending, stable)


def topk(input, k, dim=-1, largest=True, sorted=True):  # noqa: A002
    return _tensor(input, "topk").topk(k, dim, largest, sorted)


def repeat_interleave(input, repeats=None, dim=None, *, output_size=None):
    """``repeat_interleave(t, repeats, dim)``; ``repeat_interleave(counts)`` alone gives each index
    ``counts[i]`` times."""
    t = _tensor(input, "repeat_interleave")
    if repeats is None:
        from .creation import arange
        return arange(t.shape[0], device=t.device).repeat_interleave(t)
    return t.repeat_interleave(repeats, dim, output_size=output_size)


def tile(input, dims):
    return _tensor(input, "tile").tile(dims)


def flip(input, dims):
    return _tensor(input, "flip").flip(dims)


def fliplr(input):
    return _tensor(input, "fliplr").fliplr()


def flipud(input):
    return _tensor(input, "flipud").flipud()


def roll(input, shifts, dims=None):
    return _tensor(input, "roll").roll(shifts, dims)


def split(tensor, split_size_or_sections, dim=0):
    return _tensor(tensor, "split").split(split_size_or_sections, dim)


def chunk(input, chunks, dim=0):
    return _tensor(input, "chunk").chunk(chunks, dim)


def unbind(input, dim=0):
    return _tensor(input, "unbind").unbind(dim)


def movedim(input, source, destination):
    return _tensor(input, "movedim").movedim(source, destination)


moveaxis = movedim


def swapaxes(input, axis0, axis1):
    return _tensor(input, "swapaxes").swapaxes(axis0, axis1)


swapdims = swapaxes


def unflatten(input, dim, sizes):
    return _tensor(input, "unflatten").unflatten(dim, sizes)


def tril(input, diagonal=0):
    return _tensor(input, "tril").tril(diagonal)


def triu(input, diagonal=0):
    return _tensor(input, "triu").triu(diagonal)


def diagonal(input, offset=0, dim1=0, dim2=1):
    return _tensor(input, "diagonal").diagonal(offset, dim1, dim2)


def diag(input, diagonal=0):
    return _tensor(input, "diag").diag(diagonal)


def index_select(input, dim, index):
    return _tensor(input, "index_select").index_select(dim, index)


def index_fill(input, dim, index, value):
    return _tensor(input, "index_fill").index_fill(dim, index, value)


def index_add(input, dim, index, source, *, alpha=1):
    return _tensor(input, "index_add").index_add(dim, index, source, alpha=alpha)


def masked_select(input, mask):
    return _tensor(input, "masked_select").masked_select(mask)


def nonzero(input, *, as_tuple=False):
    return _tensor(input, "nonzero").nonzero(as_tuple=as_tuple)


def argwhere(input):
    return _tensor(input, "argwhere").argwhere()


def bmm(input, mat2):
    return _tensor(input, "bmm").bmm(mat2)


def mv(input, vec):
    return _tensor(input, "mv").mv(vec)


def dot(input, tensor):
    return _tensor(input, "dot").dot(tensor)


inner = dot


def outer(input, vec2):
    return _tensor(input, "outer").outer(vec2)


ger = outer


def addmm(input, mat1, mat2, *, beta=1, alpha=1):
    return _tensor(input, "addmm").addmm(mat1, mat2, beta=beta, alpha=alpha)


def is_tensor(obj):
    return isinstance(obj, Tensor)


def is_floating_point(input):
    return _tensor(input, "is_floating_point").is_floating_point()


def einsum(equation, *operands):
    """Einstein summation, ``einsum("bij,bjk->bik", a, b)``: letters name dimensions; those absent
    from the output (after ``->``; without it, the letters used once, in alphabetical order) are
    summed. ``...`` stands for the remaining dimensions (broadcast), a letter repeated within one
    operand takes its diagonal, and size-1 dimensions broadcast. Operands may come as one list."""
    if not isinstance(equation, str):
        raise TypeError(f"einsum(): argument 'equation' must be str, not {type(equation).__name__}")
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    tensors = _common(operands, "einsum")
    eq = equation.replace(" ", "")
    lhs, arrow, rhs = eq.partition("->")
    inputs = lhs.split(",")
    if len(inputs) != len(tensors):
        raise RuntimeError(f"einsum(): {len(inputs)} operands in the equation {equation!r} but {len(tensors)} given")
    letters = set(c for c in eq if c.isalpha())
    spare = [c for c in string.ascii_letters if c not in letters]
    bad = set(eq) - set(string.ascii_letters) - set(",->.")
    if bad:
        raise RuntimeError(f"einsum(): invalid subscript {sorted(bad)[0]!r} in the equation {equation!r}: "
                           f"subscripts must be letters")
    # "..." becomes letters of its own, right-aligned across operands (NumPy's broadcasting)
    n_ell = 0
    for subs, t in zip(inputs, tensors):
        named = len(subs.replace("...", ""))
        if "..." in subs:
            n_ell = builtins.max(n_ell, t.ndim - named)
        elif named != t.ndim:
            raise RuntimeError(f"einsum(): the number of subscripts in the equation ({named}) does not match the "
                               f"number of dimensions ({t.ndim}) for operand {inputs.index(subs)} and no ellipsis "
                               f"was given")
    ell = "".join(spare[:n_ell])
    expanded = []
    for subs, t in zip(inputs, tensors):
        if "..." in subs:
            k = t.ndim - len(subs.replace("...", ""))
            subs = subs.replace("...", ell[n_ell - k:] if k else "")
        expanded.append(subs)
    if arrow:
        output = rhs.replace("...", ell)
        for c in output:
            if c not in "".join(expanded):
                raise RuntimeError(f"einsum(): output subscript {c} does not appear in the equation for any input "
                                   f"operand")
        if len(set(output)) != len(output):
            raise RuntimeError(f"einsum(): output subscript appears more than once in the output: {equation!r}")
    else:
        counts = "".join(expanded)
        output = ell + "".join(sorted(c for c in set(counts) if counts.count(c) == 1 and c not in ell))
    # a letter repeated within an operand: its diagonal
    operands_ = []
    for subs, t in zip(expanded, tensors):
        while len(set(subs)) != len(subs):
            c = next(c for c in subs if subs.count(c) > 1)
            i = subs.index(c)
            j = subs.index(c, i + 1)
            if t.shape[i] != t.shape[j]:
                raise RuntimeError(f"einsum(): subscript {c} is repeated for operand but the sizes don't match, "
                                   f"{t.shape[i]} != {t.shape[j]}")
            t = t.diagonal(0, i, j)
            subs = "".join(x for k, x in enumerate(subs) if k not in (i, j)) + c
        operands_.append((subs, t))
    # sizes per letter; size-1 dimensions broadcast
    sizes = {}
    for subs, t in operands_:
        for c, n in zip(subs, t.shape):
            if sizes.get(c, 1) not in (1, n) and n != 1:
                raise RuntimeError(f"einsum(): operands do not broadcast with remapped shapes (original->remapped): "
                                   f"subscript {c} has sizes {sizes[c]} and {n}")
            sizes[c] = builtins.max(sizes.get(c, 1), n)
    final = [t.expand(tuple(sizes[c] for c in subs)) if tuple(t.shape) != tuple(sizes[c] for c in subs) else t
             for subs, t in operands_]
    return Einsum.apply(*final, inputs=[subs for subs, _ in operands_], output=output)


# ``axis=`` for ``dim=``, as PyTorch's functions take it (max and min pass it on to the method).
amax, amin, softmax, log_softmax, squeeze, unsqueeze, stack, all, any, prod, cumsum, logsumexp, sort, argsort, cat = (  # noqa: A001
    accepts_axis(f) for f in (amax, amin, softmax, log_softmax, squeeze, unsqueeze, stack, all, any, prod,
                              cumsum, logsumexp, sort, argsort, cat))
concat = concatenate = cat
