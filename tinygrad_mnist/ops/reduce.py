"""Reductions: sum, mean, var, std, max/min (of the whole tensor, over dims, along one dim).

``axes`` is None (every dimension) or a sorted tuple of dimensions. A reduction's backward puts
the output gradient back into the reduced dimensions: reshaped to the kept-dims shape
(``keepdim=True`` form), then broadcast over the input (``expand``).
"""
from __future__ import annotations

import math

from ..autograd.function import Op
from ..backend import get_array_module
from ..shapes import keepdim_shape
from .elementwise import _quiet


def _reduced_out(out, axes, keepdim):
    """``out`` (computed with keepdims=True) in the requested shape."""
    if keepdim:
        return out
    return out.reshape([n for i, n in enumerate(out.shape) if axes is not None and i not in axes])


def _spread(g, in_shape, axes):
    """The output gradient back over the reduced dimensions: (kept-dims shape) -> the input's shape."""
    return g.reshape(keepdim_shape(in_shape, axes)).expand(in_shape)


class Sum(Op):
    @staticmethod
    def forward(ctx, a, axes=None, keepdim=False):
        ctx.in_shape, ctx.axes = a.shape, axes
        return a.sum(axis=axes, keepdims=keepdim)

    @staticmethod
    def backward(ctx, g):
        return _spread(g, ctx.in_shape, ctx.axes)                     # d sum / d a_i = 1


class Mean(Op):
    @staticmethod
    def forward(ctx, a, axes=None, keepdim=False):
        ctx.in_shape, ctx.axes = a.shape, axes
        ctx.count = math.prod(a.shape) if axes is None else math.prod(a.shape[i] for i in axes)
        with _quiet(get_array_module(a)):
            return a.sum(axis=axes, keepdims=keepdim) / a.dtype.type(ctx.count)   # NaN for no elements

    @staticmethod
    def backward(ctx, g):
        return _spread(g / ctx.count, ctx.in_shape, ctx.axes)         # d mean / d a_i = 1/n


class Var(Op):
    """sum((a - mean)^2) / (n - correction) over ``axes``."""

    @staticmethod
    def forward(ctx, a, axes=None, keepdim=False, correction=1):
        xp = get_array_module(a)
        ctx.save_for_backward(a)
        ctx.axes, ctx.correction = axes, correction
        n = math.prod(a.shape) if axes is None else math.prod(a.shape[i] for i in axes)
        ctx.dof = n - correction
        with _quiet(xp):
            centred = a - a.mean(axis=axes, keepdims=True)
            centred = centred - centred.mean(axis=axes, keepdims=True)  # the mean's rounding error out:
            # a constant slice then has exactly zero spread, so std's gradient there is 0, as torch's
            out = (centred * centred).sum(axis=axes, keepdims=True) / max(ctx.dof, 0)
        return _reduced_out(out, axes, keepdim)

    @staticmethod
    def backward(ctx, g):
        (a,) = ctx.saved_tensors
        return var_backward(g, a, ctx.axes, ctx.dof)


def var_backward(g, a, axes, dof):
    """d var / d a_i = 2 (a_i - mean) / (n - correction)."""
    g = g.reshape(keepdim_shape(a.shape, axes))
    return (2.0 / dof if dof else float("inf")) * g * (a - a.mean(axes, keepdim=True))


class Std(Op):
    """sqrt(var); where the spread is 0 the gradient is 0 (PyTorch's choice), not 0/0."""

    @staticmethod
    def forward(ctx, a, axes=None, keepdim=False, correction=1):
        xp = get_array_module(a)
        var = Var.forward(ctx, a, axes, True, correction)
        with _quiet(xp):
            out = _reduced_out(xp.sqrt(var), axes, keepdim)
        ctx.save_for_backward(a, out)            # the output itself: its graph is part of the derivative
        return out

    @staticmethod
    def backward(ctx, g):
        a, out = ctx.saved_tensors
        keep = keepdim_shape(a.shape, ctx.axes)
        g, out = g.reshape(keep), out.reshape(keep)
        return var_backward((g / (2 * out)).masked_fill(out == 0, 0), a, ctx.axes, ctx.dof)  # d sqrt(v) = dv / 2 sqrt(v)


class Amax(Op):
    """Largest values over ``axes``; ties share the gradient evenly (``amax``/``amin``, PyTorch's rule)."""

    reducer = "max"

    @staticmethod
    def forward(ctx, a, axes=None, keepdim=False):
        out = getattr(a, ctx.reducer)(axis=axes, keepdims=True)
        ctx.save_for_backward(a, out)
        ctx.axes, ctx.keepdim = axes, keepdim
        return _reduced_out(out, axes, keepdim)

    @staticmethod
    def backward(ctx, g):
        a, out = ctx.saved_tensors
        hit = (a == out).to(g.dtype)
        return _spread(g, a.shape, ctx.axes) / hit.sum(ctx.axes, keepdim=True) * hit   # as PyTorch: a multiply


class Amin(Amax):
    reducer = "min"


class MaxAll(Op):
    """``max()`` of the whole tensor: ties share the gradient evenly; with NaNs, the NaNs share it."""

    reducer = "max"

    @staticmethod
    def forward(ctx, a):
        xp = get_array_module(a)
        out = getattr(a, ctx.reducer)()
        nan = xp.isnan(a) if a.dtype.kind == "f" else None
        ctx.save_for_backward(nan if nan is not None and bool(nan.any()) else a == out)
        return out

    @staticmethod
    def backward(ctx, g):
        (chosen,) = ctx.saved_tensors
        share = g / chosen.sum().to(g.dtype)
        return share.expand(chosen.shape).masked_fill(~chosen, 0)


class MinAll(MaxAll):
    reducer = "min"


class MaxDim(Op):
    """``max(dim)``: (values, indices); the gradient goes to the index returned (the first maximum,
    or the first NaN)."""

    arg = "argmax"

    @staticmethod
    def forward(ctx, a, dim, keepdim=False):
        xp = get_array_module(a)
        indices = xp.expand_dims(getattr(a, ctx.arg)(axis=dim), dim)
        values = xp.take_along_axis(a, indices, axis=dim)
        ctx.save_for_backward(indices)
        ctx.in_shape, ctx.dim = a.shape, dim
        indices = indices.astype(xp.int64, copy=False)
        return (values, indices) if keepdim else (values.squeeze(dim), indices.squeeze(dim))

    @staticmethod
    def backward(ctx, g, _):
        (indices,) = ctx.saved_tensors
        g = g.reshape(indices.shape)
        return g.new_zeros(ctx.in_shape).scatter(ctx.dim, indices, g)  # one gradient per slice, at its index


class MinDim(MaxDim):
    arg = "argmin"


class Prod(Op):
    """The product over ``axes`` (None: all elements).

    d prod / d a_i is the product of the other elements. Without zeros that is ``prod / a_i``
    (PyTorch's formula). With zeros, per slice: one zero at k gives the product P of the
    nonzero elements at k and 0 elsewhere; two or more zeros give 0 everywhere. Written so that
    those zeros keep their own derivatives (``zs``, the sum of a slice's zeros, is 0 but grows
    with each zero), the second derivative is right too (and equals PyTorch's).
    """

    @staticmethod
    def forward(ctx, a, axes=None, keepdim=False):
        ctx.save_for_backward(a)
        ctx.axes = axes
        with _quiet(get_array_module(a)):
            return a.prod(axis=axes, keepdims=keepdim)

    @staticmethod
    def backward(ctx, g):
        (a,) = ctx.saved_tensors
        axes = ctx.axes
        g = g.reshape(keepdim_shape(a.shape, axes))
        if a.ndim == 0:
            return g
        zero = a == 0                                                 # a constant mask
        count = zero.sum(axes, keepdim=True)
        nonzero = a.masked_fill(zero, 1)
        p = Prod.apply(nonzero, axes=axes, keepdim=True)              # product of the nonzero elements
        zs = a.masked_fill(~zero, 0).sum(axes, keepdim=True)          # 0, with derivative 1 per zero
        others = p / nonzero                                          # no zero in the slice: prod / a_i
        one_zero = p.where(zero, zs * others)                         # P at the zero, 0 * (P / a_i) elsewhere
        two_zeros = ((zs - a) * p).where(zero, 0)                     # 0, but P times the other zero's change
        others = others.where(count == 0, one_zero.where(count == 1, two_zeros.where(count == 2, 0)))
        return g * others


class Cumsum(Op):
    """Running sums along ``dim``; the gradient is the running sum of g from the other end."""

    @staticmethod
    def forward(ctx, a, dim):
        ctx.dim = dim
        return get_array_module(a).cumsum(a, axis=dim)

    @staticmethod
    def backward(ctx, g):
        return g.flip(ctx.dim).cumsum(ctx.dim).flip(ctx.dim)


class Norm(Op):
    """The vector p-norm over ``axes`` (None: all elements): (sum |a|^p)^(1/p); p = inf: max |a|,
    -inf: min |a|, 0: the count of nonzeros.

    The gradients (PyTorch's, subgradient 0 where the norm is 0): p = 2: a / norm; p = 1:
    sign(a); p = ±inf: sign(a), shared evenly among the elements reaching the norm (a multiply,
    as PyTorch); other p: sign(a) |a|^(p-1) / norm^(p-1); p = 0: 0. (At a zero vector the
    2-norm's second derivative is 0 here; PyTorch's is NaN.)
    """

    @staticmethod
    def forward(ctx, a, p, axes=None, keepdim=False):
        xp = get_array_module(a)
        ctx.p, ctx.axes = p, axes
        mag = xp.abs(a)
        with _quiet(xp):
            if p == 2:
                out = xp.sqrt((a * a).sum(axis=axes, keepdims=True))
            elif p == 1:
                out = mag.sum(axis=axes, keepdims=True)
            elif p == math.inf:
                out = mag.max(axis=axes, keepdims=True)
            elif p == -math.inf:
                out = mag.min(axis=axes, keepdims=True)
            elif p == 0:
                out = (a != 0).sum(axis=axes, keepdims=True).astype(a.dtype)
            else:
                out = (mag ** p).sum(axis=axes, keepdims=True) ** (1.0 / p)
        out = _reduced_out(out, axes, keepdim)
        ctx.save_for_backward(a, out)
        return out

    @staticmethod
    def backward(ctx, g):
        a, out = ctx.saved_tensors
        p, shape = ctx.p, keepdim_shape(a.shape, ctx.axes)
        g, out = g.reshape(shape), out.reshape(shape)
        if p == 0:
            return g.new_zeros(a.shape)
        if p == 1:
            return a.sign() * g
        if p == 2:
            return a * (g / out).masked_fill(out == 0, 0)
        if p in (math.inf, -math.inf):
            mag = a.abs()
            hit = ((mag == out) | (mag != mag)).to(g.dtype)           # the extreme elements (and NaNs)
            return a.sign() * (g / hit.sum(ctx.axes, keepdim=True) * hit)
        if p < 1:
            scaled = a.sign() * (a.abs() ** (p - 1)).masked_fill(a == 0, 0)
            return scaled * g * out ** (1 - p)
        scaled = a.sign() * a.abs() ** (p - 1) if p < 2 else a * a.abs() ** (p - 2)
        return scaled * (g / out ** (p - 1)).masked_fill(out == 0, 0)
