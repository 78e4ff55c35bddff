"""Elementwise ops: arithmetic with broadcasting, unary math, activations, softmax.

Forward computes on arrays (``xp`` is numpy or cupy); backward on Tensors, with Tensor ops, so
that it can be differentiated again. ``g`` is the gradient of the loss with respect to the op's
output; each backward returns one gradient per input, for that input's shape (``sum_to_size``
sums a broadcast gradient back). Where a derivative is zero on part of the input (a ReLU's
negative side, outside a clamp), the gradient is *selected* (``masked_fill``), never multiplied by
a 0/1 mask: an infinite or NaN upstream gradient then still gives 0 there, as in PyTorch.
"""
from __future__ import annotations

from ..autograd.function import Op
from ..backend import get_array_module, quiet as _quiet


class Add(Op):
    @staticmethod
    def forward(ctx, a, b):
        ctx.shapes = a.shape, b.shape
        return a + b

    @staticmethod
    def backward(ctx, g):
        a_shape, b_shape = ctx.shapes
        return g.sum_to_size(a_shape), g.sum_to_size(b_shape)


class Sub(Op):
    @staticmethod
    def forward(ctx, a, b):
        ctx.shapes = a.shape, b.shape
        return a - b

    @staticmethod
    def backward(ctx, g):
        a_shape, b_shape = ctx.shapes
        return g.sum_to_size(a_shape), (-g).sum_to_size(b_shape)


class Mul(Op):
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return a * b

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        ga = (g * b).sum_to_size(a.shape) if ctx.needs_input_grad[0] else None
        gb = (g * a).sum_to_size(b.shape) if ctx.needs_input_grad[1] else None
        return ga, gb


class Div(Op):
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        with _quiet(get_array_module(a)):
            return a / b

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        ga = (g / b).sum_to_size(a.shape) if ctx.needs_input_grad[0] else None           # d(a/b)/da = 1/b
        gb = (-g * a / (b * b)).sum_to_size(b.shape) if ctx.needs_input_grad[1] else None  # = -a/b^2
        return ga, gb


class Pow(Op):
    """``a ** b`` for two tensors (broadcasting)."""

    @staticmethod
    def forward(ctx, a, b):
        with _quiet(get_array_module(a)):
            out = a ** b
        ctx.save_for_backward(a, b, out)
        return out

    @staticmethod
    def backward(ctx, g):
        a, b, out = ctx.saved_tensors
        ga = gb = None
        if ctx.needs_input_grad[0]:
            # d/da = b a^(b-1), defined as 0 where b == 0 (PyTorch's choice: never 0 * inf)
            ga = (g * (b * a ** (b - 1))).masked_fill(b == 0, 0).sum_to_size(a.shape)
        if ctx.needs_input_grad[1]:
            # d/db = a^b log a, defined as 0 where a == 0 and b >= 0 (then times g, as PyTorch)
            gb = (g * (out * a.log()).masked_fill((a == 0) & (b >= 0), 0)).sum_to_size(b.shape)
        return ga, gb


class PowScalar(Op):
    """``a ** exponent`` with a Python number as exponent."""

    @staticmethod
    def forward(ctx, a, exponent):
        ctx.save_for_backward(a)
        ctx.exponent = exponent
        with _quiet(get_array_module(a)):
            return a ** exponent

    @staticmethod
    def backward(ctx, g):
        (a,) = ctx.saved_tensors
        e = ctx.exponent
        if e == 0:                                                    # a^0 = 1: no gradient at all
            return g.new_zeros(a.shape)
        return g * (e * a ** (e - 1))                                 # d(a^e)/da = e a^(e-1)


class RPowScalar(Op):
    """``base ** a`` with a Python number as base."""

    @staticmethod
    def forward(ctx, a, base):
        with _quiet(get_array_module(a)):
            out = base ** a
        ctx.save_for_backward(a, out)
        ctx.base = base
        return out

    @staticmethod
    def backward(ctx, g):
        a, out = ctx.saved_tensors
        d = out * float(_log(ctx.base))                               # d(c^a)/da = c^a ln c
        if ctx.base == 0:
            d = d.masked_fill(a >= 0, 0)                              # 0^a is flat for a >= 0
        return g * d


def _log(c):
    import math
    return math.log(c) if c > 0 else (-math.inf if c == 0 else math.nan)


class Neg(Op):
    @staticmethod
    def forward(ctx, a):
        return -a

    @staticmethod
    def backward(ctx, g):
        return -g


class Exp(Op):
    @staticmethod
    def forward(ctx, a):
        with _quiet(get_array_module(a)):
            out = get_array_module(a).exp(a)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, g):
        (out,) = ctx.saved_tensors
        return g * out                                                # d exp(a) = exp(a)


class Log(Op):
    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        with _quiet(get_array_module(a)):
            return get_array_module(a).log(a)

    @staticmethod
    def backward(ctx, g):
        (a,) = ctx.saved_tensors
        return g / a                                                  # d log(a) = 1/a


class Sqrt(Op):
    @staticmethod
    def forward(ctx, a):
        with _quiet(get_array_module(a)):
            out = get_array_module(a).sqrt(a)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, g):
        (out,) = ctx.saved_tensors
        return g / (2 * out)                                          # d sqrt(a) = 1 / (2 sqrt(a))


class Tanh(Op):
    @staticmethod
    def forward(ctx, a):
        out = get_array_module(a).tanh(a)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, g):
        (out,) = ctx.saved_tensors
        return g * (1 - out * out)                                    # d tanh = 1 - tanh^2


class Sigmoid(Op):
    @staticmethod
    def forward(ctx, a):
        xp = get_array_module(a)
        e = xp.exp(-xp.abs(a))                                        # never overflows; exact in both tails
        out = xp.where(a >= 0, 1 / (1 + e), e / (1 + e))
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, g):
        (out,) = ctx.saved_tensors
        return g * (1 - out) * out                                    # d sigma = sigma (1 - sigma)


class ReLU(Op):
    @staticmethod
    def forward(ctx, a):
        out = get_array_module(a).maximum(a, 0)                       # NaN stays NaN
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, g):
        (out,) = ctx.saved_tensors
        return g.masked_fill(out <= 0, 0)        # relu'(a) = 1 for a > 0 (and a NaN passes), 0 at and below 0


class Sign(Op):
    """-1, 0 or 1; a NaN gives 0, as PyTorch's ``sign``. Its derivative is 0 everywhere it exists."""

    @staticmethod
    def forward(ctx, a):
        xp = get_array_module(a)
        ctx.shape = a.shape
        out = xp.sign(a)
        return xp.where(xp.isnan(a), 0, out).astype(a.dtype, copy=False) if a.dtype.kind == "f" else out

    @staticmethod
    def backward(ctx, g):
        return g.new_zeros(ctx.shape)


class Abs(Op):
    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return get_array_module(a).abs(a)

    @staticmethod
    def backward(ctx, g):
        (a,) = ctx.saved_tensors
        return g * a.sign()                                           # abs' = sign (0 at 0 and at NaN)


class Clamp(Op):
    """``clamp(a, min, max)``; the gradient passes where ``min <= a <= max`` (ends included)."""

    @staticmethod
    def forward(ctx, a, min=None, max=None):
        xp = get_array_module(a)
        if min is None and max is None:
            raise RuntimeError("clamp: at least one of 'min' or 'max' must not be None")
        ctx.save_for_backward(a)
        ctx.bounds = min, max
        out = a
        if min is not None:
            out = xp.maximum(out, xp.asarray(min, dtype=a.dtype))
        if max is not None:
            out = xp.minimum(out, xp.asarray(max, dtype=a.dtype))
        return out

    @staticmethod
    def backward(ctx, g):
        (a,) = ctx.saved_tensors
        lo, hi = ctx.bounds
        inside = (a >= lo) if lo is not None else None
        if hi is not None:
            inside = (a <= hi) if inside is None else inside & (a <= hi)
        return g.masked_fill(~inside, 0)                              # NaN is inside neither bound: 0


class Maximum(Op):
    """``maximum(a, b)``: NaN wins; where a == b each side gets half the gradient (PyTorch's rule)."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return get_array_module(a).maximum(a, b)

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        shared = (g / 2).where(a == b, g)
        return shared.masked_fill(a < b, 0).sum_to_size(a.shape), shared.masked_fill(a > b, 0).sum_to_size(b.shape)


class Minimum(Op):
    """``minimum(a, b)``: NaN wins; ties split the gradient in half."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return get_array_module(a).minimum(a, b)

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        shared = (g / 2).where(a == b, g)
        return shared.masked_fill(a > b, 0).sum_to_size(a.shape), shared.masked_fill(a < b, 0).sum_to_size(b.shape)


class Where(Op):
    """``where(cond, a, b)``: the condition is a constant (no gradient)."""

    @staticmethod
    def forward(ctx, cond, a, b):
        ctx.save_for_backward(cond)
        ctx.shapes = a.shape, b.shape
        return get_array_module(a).where(cond, a, b)

    @staticmethod
    def backward(ctx, g):
        (cond,) = ctx.saved_tensors
        a_shape, b_shape = ctx.shapes
        return None, g.masked_fill(~cond, 0).sum_to_size(a_shape), g.masked_fill(cond, 0).sum_to_size(b_shape)


class MaskedFill(Op):
    """``a`` with ``value`` where ``mask`` is true (mask broadcasts); the gradient passes elsewhere."""

    @staticmethod
    def forward(ctx, a, mask, value):
        ctx.save_for_backward(mask)
        xp = get_array_module(a)
        return xp.where(mask, xp.asarray(value, dtype=a.dtype), a)

    @staticmethod
    def backward(ctx, g):
        (mask,) = ctx.saved_tensors
        return g.masked_fill(mask, 0), None


class Cast(Op):
    """Change dtype; the gradient is cast back to the input's dtype."""

    @staticmethod
    def forward(ctx, a, dtype):
        ctx.in_dtype = a.dtype
        return a.astype(dtype)

    @staticmethod
    def backward(ctx, g):
        return g.to(ctx.in_dtype)


class Clone(Op):
    """A copy: in ``a``'s own memory layout (``clone``), or row-major (``contiguous``, order="C")."""

    @staticmethod
    def forward(ctx, a, order="K"):
        return a.copy(order=order)

    @staticmethod
    def backward(ctx, g):
        return g


class Softmax(Op):
    """softmax(a)_i = exp(a_i - max) / sum_j exp(a_j - max), along ``dim``."""

    @staticmethod
    def forward(ctx, a, dim):
        ctx.dim = dim
        if a.shape[dim] == 0:
            out = a.copy()
        else:
            e = get_array_module(a).exp(a - a.max(axis=dim, keepdims=True))
            out = e / e.sum(axis=dim, keepdims=True)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, g):
        (out,) = ctx.saved_tensors
        # the Jacobian is diag(s) - s s^T, so J^T g = s * (g - <g, s>)
        return out * (g - (g * out).sum(ctx.dim, keepdim=True))


class LogSoftmax(Op):
    """log_softmax(a)_i = (a_i - max) - log sum_j exp(a_j - max), along ``dim``."""

    @staticmethod
    def forward(ctx, a, dim):
        ctx.dim = dim
        if a.shape[dim] == 0:
            out = a.copy()
        else:
            xp = get_array_module(a)
            shifted = a - a.max(axis=dim, keepdims=True)
            with _quiet(xp):
                out = shifted - xp.log(xp.exp(shifted).sum(axis=dim, keepdims=True))
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, g):
        (out,) = ctx.saved_tensors
        return g - out.exp() * g.sum(ctx.dim, keepdim=True)          # g - softmax * sum(g)


class Dropout(Op):
    """``a * mask``, the mask a constant of 0 and 1/(1-p) drawn by ``F.dropout``."""

    @staticmethod
    def forward(ctx, a, mask):
        ctx.save_for_backward(mask)
        return a * mask

    @staticmethod
    def backward(ctx, g):
        (mask,) = ctx.saved_tensors
        return g * mask, None                                         # as PyTorch: a multiply


