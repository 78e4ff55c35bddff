"""2-D convolution (PyTorch's ``conv2d``: a cross-correlation) on NCHW tensors, by im2col.

Notation: input x (N, C, H, W), weight w (O, C/G, KH, KW) with G groups, and a window
(``shapes.Window2d``): stride (sh, sw), padding, dilation (dh, dw), output size (OH, OW).

    out[n, o, y, x] = b[o] + sum_{c, i, j} w[o, c, i, j] * xpad[n, c, y*sh + i*dh, x*sw + j*dw]

im2col lays each output position's window out as one column, so that the convolution is one
matrix product:

    cols[n, (c, i, j), (y, x)] = xpad[n, c, y*sh + i*dh, x*sw + j*dw]     (N, C*KH*KW, OH*OW)
    out[n] = w2 @ cols[n],   w2 = w.reshape(O, C*KH*KW)

and its backward is two more products and col2im, the adjoint of im2col (each column's gradient
added back where its window was; where windows overlap, the contributions add up):

    grad_w    = sum_n g2[n] @ cols[n]^T
    grad_cols = w2^T @ g2[n]
    grad_x    = col2im(grad_cols)

im2col and col2im are Ops of their own (``Unfold``, ``Fold``: ``F.unfold``/``F.fold``), each the
other's backward, so the backward above is made of differentiable Tensor ops. With G groups, the
channels split into G blocks and group g's outputs see only group g's inputs: the same products,
batched over the groups.

``fast/conv.py`` computes the same with the batch innermost in memory and in cache-sized blocks.
"""
from __future__ import annotations

from ..autograd.function import Op
from ..backend import get_array_module, sliding_windows


def im2col(x, window):
    """(N, C, H, W) -> (N, C*KH*KW, OH*OW): column (y, x) holds the window of output position (y, x)."""
    (pt, pb), (pl, pr) = window.padding
    x_pad = get_array_module(x).pad(x, ((0, 0), (0, 0), (pt, pb), (pl, pr)))
    (dh, dw), (oh, ow) = window.dilation, window.out
    # (N, C, OH, OW, KH, KW): window (y, x) starts at (y*sh, x*sw); every dh-th row, dw-th column
    windows = sliding_windows(x_pad, window.span, window.stride)[:, :, :oh, :ow, ::dh, ::dw]
    n, c, _, _, kh, kw = windows.shape
    return windows.transpose(0, 1, 4, 5, 2, 3).reshape(n, c * kh * kw, oh * ow)


def col2im(cols, window, channels):
    """The adjoint of im2col: (N, C*KH*KW, OH*OW) -> (N, C, H, W), each column added back in place."""
    (kh, kw), (sh, sw), (dh, dw), (oh, ow) = window.kernel, window.stride, window.dilation, window.out
    (pt, _), (pl, _) = window.padding
    h, w = window.size
    n = cols.shape[0]
    cols = cols.reshape(n, channels, kh, kw, oh, ow)
    out = get_array_module(cols).zeros((n, channels) + window.padded_size, dtype=cols.dtype)
    for i in range(kh):
        for j in range(kw):                    # kernel offset (i, j) of every window at once
            out[:, :, i * dh:i * dh + sh * (oh - 1) + 1:sh, j * dw:j * dw + sw * (ow - 1) + 1:sw] += cols[:, :, i, j]
    return out[:, :, pt:pt + h, pl:pl + w]


class Unfold(Op):
    """im2col as an op (``F.unfold``); its backward is col2im."""

    @staticmethod
    def forward(ctx, x, window):
        ctx.window, ctx.channels = window, x.shape[1]
        return im2col(x, window)

    @staticmethod
    def backward(ctx, g):
        return Fold.apply(g, window=ctx.window, channels=ctx.channels)


class Fold(Op):
    """col2im as an op (``F.fold``); its backward is im2col."""

    @staticmethod
    def forward(ctx, cols, window, channels):
        ctx.window = window
        return col2im(cols, window, channels)

    @staticmethod
    def backward(ctx, g):
        return Unfold.apply(g, window=ctx.window)


class Conv2d(Op):
    """x (N, C, H, W), w (O, C/groups, KH, KW), optional b (O,) -> (N, O, OH, OW)."""

    @staticmethod
    def forward(ctx, x, w, b, window, groups):
        n, c = x.shape[:2]
        o, (oh, ow) = w.shape[0], window.out
        cols = im2col(x, window).reshape(n, groups, -1, oh * ow)       # (N, G, C/G*KH*KW, L)
        out = (w.reshape(groups, o // groups, -1) @ cols).reshape(n, o, oh, ow)
        ctx.save_for_backward(x, w)
        ctx.window, ctx.groups, ctx.has_bias = window, groups, b is not None
        return out if b is None else out + b.reshape(1, o, 1, 1)

    @staticmethod
    def backward(ctx, g):
        x, w = ctx.saved_tensors
        n, c = x.shape[:2]
        o, groups, (oh, ow) = w.shape[0], ctx.groups, ctx.window.out
        g3 = g.reshape(n, groups, o // groups, oh * ow)                 # (N, G, O/G, L)
        w3 = w.reshape(groups, o // groups, -1)                        # (G, O/G, C/G*KH*KW)
        grad_x = grad_w = grad_b = None
        if ctx.needs_input_grad[0]:
            grad_cols = (w3.mT @ g3).reshape(n, -1, oh * ow)            # d out / d cols = w2^T
            grad_x = Fold.apply(grad_cols, window=ctx.window, channels=c)
        if ctx.needs_input_grad[1]:
            cols = Unfold.apply(x, window=ctx.window).reshape(n, groups, -1, oh * ow)
            grad_w = (g3 @ cols.mT).sum(0).reshape(w.shape)            # d out / d w2 = cols^T
        if ctx.has_bias and ctx.needs_input_grad[2]:
            grad_b = g.sum((0, 2, 3))                                  # d out / d b = 1
        return grad_x, grad_w, grad_b
