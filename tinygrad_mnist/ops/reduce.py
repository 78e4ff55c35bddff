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
