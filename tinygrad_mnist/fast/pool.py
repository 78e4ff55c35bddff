"""Pooling, fast routes: in the input's memory layout (CPU), or one CUDA kernel each way (GPU).

They compute the reference's results (``ops/pool.py``: the same window maximum, the same element
picked on ties, NaNs and all -inf windows, the same average).

* **CPU, max-pool.** Instead of copying the (N, C, OH, OW, KH*KW) windows and taking an argmax,
  three whole-array passes per kernel offset over strided slices of the padded input: the
  NaN-propagating maximum, then the first offset reaching it (the largest ``K - k`` among the
  offsets that do, with a bool's 0/1 bytes as weights), then the two exceptions when they can
  occur. The offsets are kept as uint8 (a quarter of the input's size), not as int64 indices.
* **CPU, layout.** Padding and gradient buffers keep the input's memory layout (batch innermost
  after a convolution, ``fast/conv.py``), and the gradient arriving from above (row-major after a
  flatten) is converted once, on the small pooled map, so the ops around the pool see one layout.
  The backward writes each offset's gradient into the matching strided slice of the buffer (added
  where windows overlap), and does not zero the buffer when the windows tile the input exactly.
  Max-pool's backward multiplies by the offset's 0/1 mask, which equals the select for a finite
  gradient; a gradient holding inf or NaN takes the select.
* **GPU, max-pool.** One kernel finds each window's maximum and offset with the same rules; one
  adds each gradient at its argmax (atomicAdd: overlapping windows add up). The NumPy-style passes
  above would launch four kernels per offset.
"""
from __future__ import annotations

import functools

from ..backend import get_array_module, is_cupy_array, scatter_add
from ..tensor import Tensor
from ..ops.pool import AvgPool2d, MaxPool2d, pool_divisor, to_argmax
from . import route
from .elementwise import axes_outer_first


def offset_slice(offset, step, count):
    """The slice of input positions ``offset + step * k`` for ``k`` in ``range(count)``."""
    return slice(offset, offset + step * (count - 1) + 1, step)


def full_in_layout(xp, layout, shape, value, dtype):
    """An array of ``shape`` filled with ``value`` (uninitialised when None), its axes in memory in
    the order ``layout`` (outermost first, ``axes_outer_first``)."""
    outer_shape = [shape[axis] for axis in layout]
    buffer = xp.empty(outer_shape, dtype=dtype) if value is None else xp.full(outer_shape, value, dtype=dtype)
    return buffer.transpose([layout.index(axis) for axis in range(len(layout))])


def in_layout(a, layout):
    """``a`` with its axes in memory in the order ``layout``: ``a`` itself when they already are."""
    if axes_outer_first(a) == layout:
        return a
    out = full_in_layout(get_array_module(a), layout, a.shape, None, a.dtype)
    out[...] = a
    return out


def padded(x, window, value):
    """``x`` with the window's border of ``value``, in ``x``'s memory layout (``x`` itself if none)."""
    (pt, pb), (pl, pr) = window.padding
    if not (pt or pb or pl or pr):
        return x
    n, c, h, w = x.shape
    out = full_in_layout(get_array_module(x), axes_outer_first(x), (n, c, h + pt + pb, w + pl + pr), value, x.dtype)
    out[:, :, pt:pt + h, pl:pl + w] = x
    return out


def offsets(window):
    """(k, rows, cols): kernel offset number k = i*KW + j and the padded-input slices it reads."""
    (kh, kw), (sh, sw), (dh, dw), (oh, ow) = window.kernel, window.stride, window.dilation, window.out
    for i in range(kh):
        for j in range(kw):
            yield i * kw + j, offset_slice(i * dh, sh, oh), offset_slice(j * dw, sw, ow)


def overlapping(window):
    """Whether windows share input elements (stride < dilated kernel): their gradients must add up."""
    return any(s < span for s, span in zip(window.stride, window.span))


def tiling(window):
    """Whether the windows cover the input exactly once (2x2 / stride 2 on an even map)."""
    return (window.stride == window.kernel and window.dilation == (1, 1) and window.padding == ((0, 0), (0, 0))
            and all(o * s == n for o, s, n in zip(window.out, window.stride, window.size)))


def first_inside(xp, out, stride, pad, dilation):
    """For each output row (or column): the first kernel offset that lands inside the input."""
    start = xp.arange(out) * stride - pad
    return xp.maximum(-start + dilation - 1, 0) // dilation          # ceil(-start / dilation), >= 0


def window_max(x_pad, window):
    """Max of each window and its kernel offset k = i*KW + j, with the reference's choice on ties."""
    xp = get_array_module(x_pad)
    views = [x_pad[:, :, rows, cols] for _, rows, cols in offsets(window)]
    count = len(views)
    best = views[0].copy(order="K")
    for v in views[1:]:
        xp.maximum(best, v, out=best)                                # NaN-propagating max
    in_bytes = count < 256
    arg = xp.zeros_like(best, dtype=xp.uint8 if in_bytes else xp.int32)  # best's layout
    for k, v in enumerate(views):
        hit = v == best
        weight = hit.view(xp.uint8) if in_bytes else hit.astype(xp.int32)  # a bool's bytes are 0/1 already
        weight *= arg.dtype.type(count - k)
        xp.maximum(arg, weight, out=arg)
    xp.subtract(count, arg, out=arg)           # the first offset that reached the max (NaN: count, fixed below)
    (ph, _), (pw, _) = window.padding
    if ph or pw:                               # all -inf windows: the first offset inside the input
        (oh, ow), (sh, sw), (dh, dw), kw = window.out, window.stride, window.dilation, window.kernel[1]
        first = first_inside(xp, oh, sh, ph, dh)[:, None] * kw + first_inside(xp, ow, sw, pw, dw)[None, :]
        xp.copyto(arg, first, where=best == float("-inf"), casting="unsafe")
    if xp.isnan(best).any():                   # NaN windows: the last NaN
        for k, v in enumerate(views):
            xp.copyto(arg, arg.dtype.type(k), where=xp.isnan(v))
    return best, arg


def flat_indices(arg, window):
    """The reference's indices: each window's kernel offset as ``row * W + col`` in the input plane."""
    xp = get_array_module(arg)
    (_, kw), (sh, sw), (dh, dw), (oh, ow) = window.kernel, window.stride, window.dilation, window.out
    (ph, _), (pw, _) = window.padding
    arg = arg.astype(xp.int64)
    rows = xp.arange(oh, dtype=xp.int64)[:, None] * sh - ph + (arg // kw) * dh
    cols = xp.arange(ow, dtype=xp.int64)[None, :] * sw - pw + (arg % kw) * dw
    return rows * window.size[1] + cols


def _scatter_to_argmax(g, indices, in_shape):
    """The reference's backward on arrays: each gradient added at the element its window picked."""
    xp = get_array_module(g)
    n, c, h, w = in_shape
    grad = xp.zeros((n, c, h * w), dtype=g.dtype)
    scatter_add(grad, (xp.arange(n)[:, None, None], xp.arange(c)[None, :, None], indices.reshape(n, c, -1)),
                g.reshape(n, c, -1))
    return grad.reshape(in_shape)


class _MaxPoolOffsets(MaxPool2d):
    """Shared by both max-pool routes: forward keeps each window's kernel offset (``ctx.save_arrays``)."""

    @staticmethod
    def backward(ctx, g, *_):
        # under create_graph: the reference's backward, from the offsets as flat indices
        (arg,) = ctx.saved_arrays
        return to_argmax(g, Tensor(flat_indices(arg, ctx.window)), ctx.in_shape)


@route(MaxPool2d)
class MaxPool2dCuda(_MaxPoolOffsets):
    @staticmethod
    def accepts(x, window, return_indices=False):
        return is_cupy_array(x.array)

    @staticmethod
    def forward(ctx, x, window, return_indices=False):
        cupy = get_array_module(x)
        n, c, h, w = x.shape
        (kh, kw), (sh, sw), (dh, dw), (oh, ow) = window.kernel, window.stride, window.dilation, window.out
        (pt, _), (pl, _) = window.padding
        out = cupy.empty((n, c, oh, ow), dtype=x.dtype)
        arg = cupy.empty((n, c, oh, ow), dtype=cupy.int32)
        _maxpool_forward_kernel()(cupy.ascontiguousarray(x), h, w, oh, ow, kh, kw, sh, sw, pt, pl, dh, dw, out, arg)
        ctx.save_arrays(arg)
        ctx.window, ctx.in_shape = window, x.shape
        return (out, flat_indices(arg, window)) if return_indices else out

    @staticmethod
    def fast_backward(ctx, g, *_):
        cupy = get_array_module(g)
        (arg,) = ctx.saved_arrays
        n, c, h, w = ctx.in_shape
        (_, kw), (sh, sw), (dh, dw), (oh, ow) = ctx.window.kernel, ctx.window.stride, ctx.window.dilation, ctx.window.out
        (pt, _), (pl, _) = ctx.window.padding
        grad_x = cupy.zeros(ctx.in_shape, dtype=g.dtype)
        _maxpool_backward_kernel()(cupy.ascontiguousarray(g), arg, h, w, oh, ow, kw, sh, sw, pt, pl, dh, dw, grad_x)
        return grad_x


@route(MaxPool2d)
class MaxPool2dInLayout(_MaxPoolOffsets):
    @staticmethod
    def accepts(x, window, return_indices=False):
        return True

    @staticmethod
    def forward(ctx, x, window, return_indices=False):
        x_pad = padded(x, window, float("-inf"))
        best, arg = window_max(x_pad, window)
        ctx.save_arrays(arg)
        ctx.window, ctx.in_shape, ctx.pad_shape, ctx.layout = window, x.shape, x_pad.shape, axes_outer_first(x)
        return (best, flat_indices(arg, window)) if return_indices else best

    @staticmethod
    def fast_backward(ctx, g, *_):
        (arg,) = ctx.saved_arrays
        xp = get_array_module(g)
        window = ctx.window
        g = in_layout(g, ctx.layout)           # after a flatten, g comes back row-major: one small copy
        if not bool(xp.isfinite(g).all()):     # inf or NaN: the exact select, as the reference
            return _scatter_to_argmax(g, flat_indices(arg, window), ctx.in_shape)
        grad_pad = full_in_layout(xp, ctx.layout, ctx.pad_shape, None if tiling(window) else 0, g.dtype)
        for k, rows, cols in offsets(window):  # d max / d x = 1 at the argmax
            if overlapping(window):
                grad_pad[:, :, rows, cols] += g * (arg == k)
            else:                              # each element in one window
                xp.multiply(g, arg == k, out=grad_pad[:, :, rows, cols])
        (pt, _), (pl, _) = window.padding
        h, w = ctx.in_shape[2:]
        return grad_pad[:, :, pt:pt + h, pl:pl + w]


@route(AvgPool2d)
class AvgPool2dInLayout(AvgPool2d):
    @staticmethod
    def accepts(x, window, count_include_pad=True, divisor_override=None):
        return True

    @staticmethod
    def forward(ctx, x, window, count_include_pad=True, divisor_override=None):
        xp = get_array_module(x)
        x_pad = padded(x, window, 0)
        total = None
        for _, rows, cols in offsets(window):
            v = x_pad[:, :, rows, cols]
            total = v.copy(order="K") if total is None else xp.add(total, v, out=total)
        divisor = pool_divisor(xp, window, count_include_pad, divisor_override, x.dtype)
        ctx.save_for_backward(divisor)
        ctx.window, ctx.channels, ctx.pad_shape, ctx.layout = window, x.shape[1], x_pad.shape, axes_outer_first(x)
        ctx.in_shape = x.shape
        return total / divisor

    @staticmethod
    def fast_backward(ctx, g):
        divisor = ctx.saved_values[0]
        xp = get_array_module(g)
        window = ctx.window
        g_each = in_layout(g, ctx.layout) / divisor                     # d out / d x = 1 / divisor
        grad_pad = full_in_layout(xp, ctx.layout, ctx.pad_shape, None if tiling(window) else 0, g_each.dtype)
        for _, rows, cols in offsets(window):
            if overlapping(window):
                grad_pad[:, :, rows, cols] += g_each
            else:
                grad_pad[:, :, rows, cols] = g_each
        (pt, _), (pl, _) = window.padding
        h, w = ctx.in_shape[2:]
        return grad_pad[:, :, pt:pt + h, pl:pl + w]


# ---------------------------------------------------------------------------------------- CUDA
@functools.lru_cache(maxsize=None)
def _maxpool_forward_kernel():
    cupy = get_array_module("cuda")
    return cupy.ElementwiseKernel(
        "raw T x, int32 H, int32 W, int32 OH, int32 OW, int32 KH, int32 KW, int32 SH, int32 SW, "
        "int32 PT, int32 PL, int32 DH, int32 DW",
        "T out, int32 arg",
        """
        const int ox = i % OW, oy = (i / OW) % OH;
        const long long plane = (long long)(i / ((long long)OW * OH)) * H * W;
        T best = -CUDART_INF;
        int k_best = -1;
        for (int a = 0; a < KH; ++a) {
            const int y = oy * SH - PT + a * DH;
            for (int b = 0; b < KW; ++b) {
                const int xx = ox * SW - PL + b * DW;
                const bool inside = y >= 0 && y < H && xx >= 0 && xx < W;
                if (!inside) continue;                  /* padding is -inf: it never wins */
                if (k_best < 0) k_best = a * KW + b;    /* an all -inf window picks its first element inside */
                const T v = x[plane + (long long)y * W + xx];
                if (v > best || isnan(v)) { best = v; k_best = a * KW + b; }  /* first max; NaN wins, the last */
            }
        }
        out = best;
        arg = k_best;
        """,
        "tg_maxpool2d_forward",
        preamble="#include <math_constants.h>",
    )


@functools.lru_cache(maxsize=None)
def _maxpool_backward_kernel():
    cupy = get_array_module("cuda")
    return cupy.ElementwiseKernel(
        "T g, int32 arg, int32 H, int32 W, int32 OH, int32 OW, int32 KW, int32 SH, int32 SW, "
        "int32 PT, int32 PL, int32 DH, int32 DW",
        "raw T grad_x",
        """
        const int ox = i % OW, oy = (i / OW) % OH;
        const long long plane = (long long)(i / ((long long)OW * OH)) * H * W;
        const int y = oy * SH - PT + (arg / KW) * DH, xx = ox * SW - PL + (arg % KW) * DW;
        atomicAdd(&grad_x[plane + (long long)y * W + xx], g);
        """,
        "tg_maxpool2d_backward",
    )
