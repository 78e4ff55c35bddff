"""Elementwise math beyond the core arithmetic: trigonometric and logarithmic functions, powers,
erf, rounding, floor division and remainder, and clamp with tensor bounds.

As in ``elementwise.py``: forward on arrays, backward on Tensors (so it differentiates again), a
derivative that is zero on a region is selected (``masked_fill``), never multiplied by a mask.
"""
from __future__ import annotations

import math

from ..autograd.function import Op
from ..backend import erf, get_array_module
from .elementwise import _quiet


class Sin(Op):
    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        with _quiet(get_array_module(a)):
            return get_array_module(a).sin(a)

    @staticmethod
    def backward(ctx, g):
        (a,) = ctx.saved_tensors
        return g * a.cos()


class Cos(Op):
    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        with _quiet(get_array_module(a)):
            return get_array_module(a).cos(a)

    @staticmethod
    def backward(ctx, g):
        (a,) = ctx.saved_tensors
        return g * -a.sin()


class Log1p(Op):
    """log(1 + a), accurate for small a."""

    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        with _quiet(get_array_module(a)):
            return get_array_module(a).log1p(a)

    @staticmethod
    def backward(ctx, g):
        (a,) = ctx.saved_tensors
        return g / (a + 1)                                            # d log(1+a) = 1/(1+a)


class Expm1(Op):
    """exp(a) - 1, accurate for small a."""

    @staticmethod
    def forward(ctx, a):
        with _quiet(get_array_module(a)):
            out = get_array_module(a).expm1(a)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, g):
        (out,) = ctx.saved_tensors
        return g * (out + 1)                                          # d(e^a - 1) = e^a


class Log2(Op):
    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        with _quiet(get_array_module(a)):
            return get_array_module(a).log2(a)

    @staticmethod
    def backward(ctx, g):
        (a,) = ctx.saved_tensors
        return g / (a * math.log(2.0))                                # d log2(a) = 1/(a ln 2)


class Log10(Op):
    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        with _quiet(get_array_module(a)):
            return get_array_module(a).log10(a)

    @staticmethod
    def backward(ctx, g):
        (a,) = ctx.saved_tensors
        return g / (a * math.log(10.0))                               # d log10(a) = 1/(a ln 10)


class Rsqrt(Op):
    """1 / sqrt(a)."""

    @staticmethod
    def forward(ctx, a):
        xp = get_array_module(a)
        with _quiet(xp):
            out = 1 / xp.sqrt(a)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, g):
        (out,) = ctx.saved_tensors
        return -0.5 * g * out ** 3                                    # d a^(-1/2) = -a^(-3/2) / 2


class Reciprocal(Op):
    @staticmethod
    def forward(ctx, a):
        with _quiet(get_array_module(a)):
            out = 1 / a
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, g):
        (out,) = ctx.saved_tensors
        return -g * (out * out)                                       # d(1/a) = -1/a^2


class Erf(Op):
    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return erf(a)

    @staticmethod
    def backward(ctx, g):
        (a,) = ctx.saved_tensors
        return g * (2 / math.sqrt(math.pi)) * (-(a * a)).exp()        # d erf = 2/sqrt(pi) e^(-a^2)


class Round(Op):
    """floor, ceil, trunc, round (half to even, optionally at ``decimals`` digits): their derivative
    is 0 wherever it exists, and PyTorch returns 0 everywhere."""

    @staticmethod
    def forward(ctx, a, mode, decimals=0):
        xp = get_array_module(a)
        ctx.shape = a.shape
        if a.dtype.kind != "f":
            return a.copy()
        if mode != "round" or decimals == 0:
            return {"floor": xp.floor, "ceil": xp.ceil, "trunc": xp.trunc, "round": xp.rint}[mode](a)
        with _quiet(xp):
            if decimals > 0:
                scale = a.dtype.type(10.0 ** decimals)
                return xp.rint(a * scale) / scale
            scale = a.dtype.type(10.0 ** -decimals)
            return xp.rint(a / scale) * scale

    @staticmethod
    def backward(ctx, g):
        return g.new_zeros(ctx.shape)


class FloorDivide(Op):
    """``a // b``: the quotient rounded towards minus infinity (Python's and PyTorch's rule for
    negative operands). PyTorch gives it no derivative; backward raises, as there."""

    @staticmethod
    def forward(ctx, a, b):
        with _quiet(get_array_module(a)):
            return get_array_module(a).floor_divide(a, b)

    @staticmethod
    def backward(ctx, g):
        raise RuntimeError("the derivative for 'floor_divide' is not implemented")


class Remainder(Op):
    """``a % b`` with the sign of ``b`` (Python's and PyTorch's ``remainder``); ``a - (a // b) * b``.

    d/da = 1; d/db = -floor(a / b), whose own derivative is 0.
    """

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        with _quiet(get_array_module(a)):
            return get_array_module(a).remainder(a, b)

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        ga = g.sum_to_size(a.shape) if ctx.needs_input_grad[0] else None
        gb = (-g * _quotient(a, b, "floor")).sum_to_size(b.shape) if ctx.needs_input_grad[1] else None
        return ga, gb


class Fmod(Op):
    """C's ``fmod``: ``a - trunc(a / b) * b``, with the sign of ``a``. d/db = -trunc(a / b)."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        with _quiet(get_array_module(a)):
            return get_array_module(a).fmod(a, b)

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        ga = g.sum_to_size(a.shape) if ctx.needs_input_grad[0] else None
        gb = (-g * _quotient(a, b, "trunc")).sum_to_size(b.shape) if ctx.needs_input_grad[1] else None
        return ga, gb


def _quotient(a, b, mode):
    """The rounded quotient of two tensors, as a constant (its derivative is 0)."""
    return DivRounding.apply(a.detach(), b.detach(), mode=mode)


class DivRounding(Op):
    """``div(a, b, rounding_mode="floor" | "trunc")``; PyTorch's gradient is ``g * 0`` (a multiply,
    so a NaN or infinite upstream gives NaN)."""

    @staticmethod
    def forward(ctx, a, b, mode):
        xp = get_array_module(a)
        ctx.shapes = a.shape, b.shape
        with _quiet(xp):
            if mode == "floor":
                return xp.floor_divide(a, b)
            if a.dtype.kind == "f":
                return xp.trunc(a / b)
            q = xp.floor_divide(a, b)                                 # integers: round towards zero
            return q + ((q < 0) & (q * b != a))

    @staticmethod
    def backward(ctx, g):
        a_shape, b_shape = ctx.shapes
        zero = g * 0
        return zero.sum_to_size(a_shape), zero.sum_to_size(b_shape)


class ClampTensor(Op):
    """``clamp(a, min, max)`` with tensor bounds (either may be None), all broadcasting together:
    ``minimum(maximum(a, min), max)``.

    PyTorch's gradient rules: ``a`` gets the gradient where ``min <= a <= max`` (ends included);
    ``min`` where ``a < min`` (and ``min < max``, when both are given); ``max`` where ``a > max``
    (or ``max < min``, when both are given: then the result is ``max``).
    """

    @staticmethod
    def forward(ctx, a, lo, hi):
        xp = get_array_module(a)
        ctx.save_for_backward(a, lo, hi)
        out = a
        if lo is not None:
            out = xp.maximum(out, lo)
        if hi is not None:
            out = xp.minimum(out, hi)
        return a.copy() if out is a else out

    @staticmethod
    def backward(ctx, g):
        a, lo, hi = ctx.saved_tensors
        needs = ctx.needs_input_grad
        inside = None
        if lo is not None:
            inside = a >= lo
        if hi is not None:
            inside = (a <= hi) if inside is None else inside & (a <= hi)
        ga = g.masked_fill(~inside, 0).sum_to_size(a.shape) if needs[0] else None
        g_lo = g_hi = None
        if lo is not None and needs[1]:
            below = a < lo
            if hi is not None:
                below = below & (lo < hi)
            g_lo = g.masked_fill(~below, 0).sum_to_size(lo.shape)
        if hi is not None and needs[2]:
            above = a > hi
            if lo is not None:
                above = above | (hi < lo)
            g_hi = g.masked_fill(~above, 0).sum_to_size(hi.shape)
        return ga, g_lo, g_hi
