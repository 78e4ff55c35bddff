"""2-D max and average pooling (PyTorch's ``max_pool2d`` / ``avg_pool2d``) on NCHW tensors.

Both read the windows (``shapes.Window2d``, from ``shapes.pool_window``) of the padded input as a
(N, C, OH, OW, KH*KW) array. Max-pool pads with -inf, so padding never wins, and sends each
output's gradient to the one input element it picked: a ``scatter_add`` of the gradients at
those positions (two windows that picked the same element add up). Average-pool spreads each
output's gradient evenly over its window: col2im (``Fold``) of the gradient divided by the
window's divisor.

Which element max-pool picks is PyTorch's: the first maximum of the window in row-major order; a
NaN always wins, the last NaN if there are several; a window whose elements are all -inf picks
its first element inside the input. ``fast/pool.py`` computes the same in the input's memory
layout, and with a CUDA kernel on the GPU.
"""
from __future__ import annotations

from ..autograd.function import Op
from ..backend import get_array_module, sliding_windows
from .conv import Fold


def windows(x, window, fill):
    """(N, C, OH, OW, KH*KW): the windows of ``x`` padded with ``fill`` (a copy)."""
    xp = get_array_module(x)
    x_pad = xp.pad(x, ((0, 0), (0, 0)) + window.padding, constant_values=fill)
    (dh, dw), (oh, ow) = window.dilation, window.out
    view = sliding_windows(x_pad, window.span, window.stride)[:, :, :oh, :ow, ::dh, ::dw]
    return view.reshape(view.shape[:4] + (-1,))


def first_inside(window, xp):
    """(OH, OW): the kernel offset of each window's first element inside the input (not padding)."""
    inside = windows(xp.ones((1, 1) + window.size, dtype=bool), window, False)[0, 0]
    return inside.argmax(-1)


class MaxPool2d(Op):
    """out = max over each window; with ``return_indices``, also the indices, flat in each H*W plane."""

    @staticmethod
    def forward(ctx, x, window, return_indices=False):
        xp = get_array_module(x)
        win = windows(x, window, -xp.inf)
        k = win.argmax(-1)                                              # the first maximum
        nan = xp.isnan(win)
        if nan.any():                                                   # a NaN wins: the last one
            k = xp.where(nan.any(-1), win.shape[-1] - 1 - nan[..., ::-1].argmax(-1), k)
        best = xp.take_along_axis(win, k[..., None], -1)[..., 0]
        k = xp.where(best == -xp.inf, first_inside(window, xp), k)      # all -inf: first inside
        (kh, kw), (sh, sw), (dh, dw), (oh, ow) = window.kernel, window.stride, window.dilation, window.out
        (pt, _), (pl, _) = window.padding
        rows = (xp.arange(oh)[:, None] * sh - pt + (k // kw) * dh)
        cols = (xp.arange(ow)[None, :] * sw - pl + (k % kw) * dw)
        indices = (rows * window.size[1] + cols).astype(xp.int64)       # where in the H*W plane
        ctx.save_for_backward(indices)
        ctx.in_shape = x.shape
        return (best, indices) if return_indices else best

    @staticmethod
    def backward(ctx, g, *_):
        (indices,) = ctx.saved_tensors
        return to_argmax(g, indices, ctx.in_shape)


def to_argmax(g, indices, in_shape):
    """d max / d x = 1 at the element each window picked, 0 elsewhere: place each gradient there
    (two windows that picked the same element add up)."""
    n, c, h, w = in_shape
    return g.new_zeros((n, c, h * w)).scatter_add(2, indices.reshape(n, c, -1), g.reshape(n, c, -1)) \
        .reshape(n, c, h, w)


class AvgPool2d(Op):
    """out = sum over each window / divisor (the window size, or PyTorch's variants of it)."""

    @staticmethod
    def forward(ctx, x, window, count_include_pad=True, divisor_override=None):
        xp = get_array_module(x)
        divisor = pool_divisor(xp, window, count_include_pad, divisor_override, x.dtype)
        ctx.save_for_backward(divisor)
        ctx.window, ctx.channels = window, x.shape[1]
        return windows(x, window, 0).sum(-1) / divisor

    @staticmethod
    def backward(ctx, g):
        (divisor,) = ctx.saved_tensors
        n, c, oh, ow = g.shape
        k = ctx.window.kernel[0] * ctx.window.kernel[1]
        share = (g / divisor).reshape(n, c, 1, oh * ow).expand(n, c, k, oh * ow)  # d out / d x = 1 / divisor
        return Fold.apply(share.reshape(n, c * k, oh * ow), window=ctx.window, channels=c)


def pool_divisor(xp, window, count_include_pad, divisor_override, dtype):
    """(OH, OW) divisors, PyTorch's rule: the window clipped to the padded input (padding counts)
    or to the input itself (``count_include_pad=False``); ``divisor_override`` replaces both."""
    if divisor_override is not None:
        return xp.asarray(divisor_override, dtype=dtype)
    counts = []
    for n, out, k, s, (p, _) in zip(window.size, window.out, window.kernel, window.stride, window.padding):
        start = xp.arange(out) * s - p
        end = xp.minimum(start + k, n + p)                               # ceil_mode overhang never counts
        if not count_include_pad:
            start, end = xp.maximum(start, 0), xp.minimum(end, n)
        counts.append(end - start)
    return (counts[0][:, None] * counts[1][None, :]).astype(dtype)


def adaptive_bins(size, out):
    """PyTorch's adaptive-pooling bins along one dimension: output i reads input
    [floor(i * size / out), ceil((i + 1) * size / out)). Host integers (shapes only)."""
    starts = [(i * size) // out for i in range(out)]
    ends = [-((-(i + 1) * size) // out) for i in range(out)]
    return starts, ends


def bin_positions(size, out, xp):
    """(out, L) input positions of each bin, L the longest bin, shorter bins padded by repeating
    their last position; and the (out, L) mask of the positions that are real."""
    starts, ends = adaptive_bins(size, out)
    longest = max(e - s for s, e in zip(starts, ends))
    offsets = xp.arange(longest)[None, :]
    first, last = xp.asarray(starts)[:, None], xp.asarray(ends)[:, None] - 1
    return xp.minimum(first + offsets, last), first + offsets <= last


class AdaptiveMaxPool2d(Op):
    """The maximum of each adaptive bin (see ``adaptive_bins``), with PyTorch's choice of element:
    the first maximum in row-major order, the last NaN if there is one. Returns the values and
    the indices, flat in each H*W plane; the gradient goes to the chosen element."""

    @staticmethod
    def forward(ctx, x, output_size):
        xp = get_array_module(x)
        (h, w), (oh, ow) = x.shape[2:], output_size
        rows, _ = bin_positions(h, oh, xp)                              # (OH, LH)
        cols, _ = bin_positions(w, ow, xp)                              # (OW, LW)
        r, c = rows[:, None, :, None], cols[None, :, None, :]           # (OH, OW, LH, LW) after broadcast
        win = x[:, :, r, c].reshape(x.shape[:2] + (oh, ow, -1))        # a repeated position never changes the pick
        k = win.argmax(-1)
        nan = xp.isnan(win)
        if nan.any():
            k = xp.where(nan.any(-1), win.shape[-1] - 1 - nan[..., ::-1].argmax(-1), k)
        best = xp.take_along_axis(win, k[..., None], -1)[..., 0]
        flat = xp.broadcast_to(r * w + c, (oh, ow) + (rows.shape[1], cols.shape[1])).reshape(oh, ow, -1)
        indices = xp.take_along_axis(xp.broadcast_to(flat, k.shape + flat.shape[-1:]), k[..., None], -1)[..., 0]
        indices = indices.astype(xp.int64)
        ctx.save_for_backward(indices)
        ctx.in_shape = x.shape
        return best, indices

    @staticmethod
    def backward(ctx, g, *_):
        (indices,) = ctx.saved_tensors
        return to_argmax(g, indices, ctx.in_shape)
