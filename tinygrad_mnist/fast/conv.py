"""Conv2d, fast route: the batch innermost in memory, in cache-sized blocks of output rows.

Computes exactly the reference's product (``ops/conv.py``: im2col, one GEMM, col2im), with three
changes, each measured on the tutorial CNNs (``docs/performance.md``):

* **Batch innermost.** The padded input is stored as (C, Hp, Wp, N) and the output returned as an
  (N, O, OH, OW) *view* of the GEMM's (O, OH, OW, N) result. Every im2col / col2im copy then moves
  runs of N (or W*N) elements instead of rows of OW = 7-28, where NumPy's per-run overhead
  dominates on the MNIST maps. Elementwise ops and pooling keep their input's layout, so the next
  convolution usually finds its input batch-innermost already. Values are NCHW's; only strides differ.
* **Blocks of output rows** (CPU). When the columns would be more than twice ``BLOCK_BYTES``,
  the product runs in blocks of output rows with about that many bytes of columns each: each
  block's columns are written and read by BLAS while still in cache. A GPU has no such cache to
  fit and pays a launch per block: one GEMM there.
* **Stride 1: the input gradient as a convolution.** Then
      grad_x[n, c, y, x] = sum_{o, i, j} w[o, c, i, j] g[n, o, y + pt - i*dh, x + pl - j*dw]
  is a convolution of g, zero-padded by dh*(KH-1) - pt on top (likewise each side), with the
  kernel flipped in both spatial axes and its channel axes swapped: im2col of g and one GEMM with
  inner dimension O*KH*KW, which BLAS runs far faster than grad_cols' (inner dimension O), and no
  col2im. Taken when the padding fits inside the kernel's extent and g's columns (O*H*W per
  image) are no larger than grad_cols (C*OH*OW). The weight gradient then comes from the same
  columns: row (o, i', j') of g's columns at input pixel (y, x) of image n is the gradient that
  reached the output through weight w[o, :, KH-1-i', KW-1-j'], so
      grad_w[o, c, KH-1-i', KW-1-j'] = sum_{y, x, n} cols_g[(o, i', j'), (y, x, n)] x[n, c, y, x]
  a GEMM of those columns with x itself (a view when x is batch-innermost): the forward keeps x
  instead of its columns, and a blocked layer makes one im2col in its backward, not two.

A layer that fits one block and takes the col2im route keeps its columns for the weight gradient
(C*KH*KW times the output's spatial size); one on the route above keeps x itself.
"""
from __future__ import annotations

from ..backend import get_array_module, is_cupy_array, sliding_windows
from ..ops.conv import Conv2d
from . import route

# Bytes of im2col columns per GEMM on the CPU (None on the GPU: one GEMM). Columns of at most
# twice this size stay one block (and are kept for the weight gradient on the col2im route).
BLOCK_BYTES = 4 << 20


def block_bytes(array):
    return None if is_cupy_array(array) else BLOCK_BYTES


def padded_chwn(a, padding):
    """``a`` (N, C, H, W) as a (C, Hp, Wp, N) array zero-padded by ((top, bottom), (left, right)):
    a view of ``a`` itself when it is laid out so already and needs no padding, else one copy."""
    (pt, pb), (pl, pr) = padding
    n, c, h, w = a.shape
    chwn = a.transpose(1, 2, 3, 0)
    if not (pt or pb or pl or pr) and chwn.flags.c_contiguous:
        return chwn
    out = get_array_module(a).zeros((c, h + pt + pb, w + pl + pr, n), dtype=a.dtype)
    out[:, pt:pt + h, pl:pl + w] = chwn
    return out


def im2col_chwn(x_pad, kernel, stride, dilation):
    """The (C*KH*KW, OH*OW*N) columns of a (C, Hp, Wp, N) array: one copy."""
    (kh, kw), (dh, dw) = kernel, dilation
    c, _, _, n = x_pad.shape
    windows = sliding_windows(x_pad.transpose(3, 0, 1, 2), (dh * (kh - 1) + 1, dw * (kw - 1) + 1),
                              stride)[..., ::dh, ::dw]
    oh, ow = windows.shape[2:4]
    return windows.transpose(1, 4, 5, 2, 3, 0).reshape(c * kh * kw, oh * ow * n)


def row_blocks(rows, bytes_per_row, block):
    """Split ``range(rows)`` into (start, stop) runs of about ``block`` bytes each (at least one
    row); one run when the whole is at most twice ``block``."""
    if block is None or rows * bytes_per_row <= 2 * block:
        return [(0, rows)]
    step = max(1, min(rows, block // max(1, bytes_per_row)))
    return [(y, min(rows, y + step)) for y in range(0, rows, step)]


def offset_slice(offset, step, count):
    """The slice of input positions ``offset + step * k`` for ``k`` in ``range(count)``."""
    return slice(offset, offset + step * (count - 1) + 1, step)


def block_cols(x_pad, kernel, stride, dilation, y0, y1, groups):
    """im2col of output rows [y0, y1): (G, C/G*KH*KW, (y1-y0)*OW*N), from the input rows they read."""
    (kh, _), (sh, _), (dh, _) = kernel, stride, dilation
    cols = im2col_chwn(x_pad[:, y0 * sh:(y1 - 1) * sh + dh * (kh - 1) + 1], kernel, stride, dilation)
    return cols.reshape(groups, cols.shape[0] // groups, cols.shape[1])


@route(Conv2d)
class Conv2dBatchInnermost(Conv2d):
    """The reference's convolution with the batch innermost and blocked GEMMs (module docstring)."""

    @staticmethod
    def accepts(x, w, b, window, groups):
        return True

    @staticmethod
    def forward(ctx, x, w, b, window, groups):
        n, c, h, wd = x.shape
        o, cg, kh, kw = w.shape
        (oh, ow), stride, padding, dilation = window.out, window.stride, window.padding, window.dilation
        (pt, pb), (pl, pr) = padding
        xp = get_array_module(x)
        x_pad = padded_chwn(x, padding)
        w3 = w.reshape(groups, o // groups, cg * kh * kw)
        out3 = xp.empty((groups, o // groups, oh * ow * n), dtype=x.dtype)
        bias3 = None if b is None else b.reshape(groups, o // groups, 1)
        blocks = row_blocks(oh, c * kh * kw * ow * n * x.itemsize, block_bytes(x))
        for y0, y1 in blocks:                                            # one block: one GEMM
            cols = block_cols(x_pad, (kh, kw), stride, dilation, y0, y1, groups)
            block = out3[..., y0 * ow * n:y1 * ow * n]
            xp.matmul(w3, cols, out=block)
            if bias3 is not None:
                block += bias3
        ctx.save_for_backward(x, w)                                      # what the reference backward needs
        ctx.window, ctx.groups, ctx.has_bias, ctx.blocks = window, groups, b is not None, blocks
        ctx.x_pad_shape = x_pad.shape
        reach_h, reach_w = dilation[0] * (kh - 1), dilation[1] * (kw - 1)
        ctx.by_conv = (tuple(stride) == (1, 1) and max(pt, pb) <= reach_h and max(pl, pr) <= reach_w
                       and o * h * wd <= c * oh * ow)
        if ctx.by_conv:   # keep x as (G, C/G, H*W*N): a view when x is batch-innermost already
            x_chwn = xp.ascontiguousarray(x.transpose(1, 2, 3, 0))
            ctx.save_arrays(x_chwn.reshape(groups, cg, h * wd * n), w3)
        else:             # one block: its columns; several: x_pad, to rebuild them block by block
            ctx.cols_kept = len(blocks) == 1
            ctx.save_arrays(cols if ctx.cols_kept else x_pad, w3)
        return out3.reshape(o, oh, ow, n).transpose(3, 0, 1, 2)          # (N, O, OH, OW), a view

    @staticmethod
    def fast_backward(ctx, g):
        saved, w3 = ctx.saved_arrays
        groups, window = ctx.groups, ctx.window
        (oh, ow), stride, padding, dilation = window.out, window.stride, window.padding, window.dilation
        o, kh, kw = w3.shape[0] * w3.shape[1], window.kernel[0], window.kernel[1]
        n = g.shape[0]
        c, (h, wd) = ctx.x_pad_shape[0], window.size
        (sh, sw), (dh, dw) = stride, dilation
        (pt, pb), (pl, pr) = padding
        xp = get_array_module(g)
        g3 = g.transpose(1, 2, 3, 0).reshape(groups, o // groups, oh * ow * n)  # free when batch-innermost
        grad_x = grad_w = grad_b = None
        needs_x, needs_w = ctx.needs_input_grad[:2]
        if ctx.by_conv:
            # g's columns serve both gradients, block by block while in cache:
            # grad_x = w_flip @ cols_g and grad_w_flip = cols_g @ x^T
            reach_h, reach_w = dh * (kh - 1), dw * (kw - 1)
            g_pad = padded_chwn(g, ((reach_h - pt, reach_h - pb), (reach_w - pl, reach_w - pr)))
            if needs_x:
                w_flip = w3.reshape(groups, o // groups, c // groups, kh, kw)[..., ::-1, ::-1]
                w_flip = w_flip.transpose(0, 2, 1, 3, 4).reshape(groups, c // groups, o // groups * kh * kw)
                grad3 = xp.empty((groups, c // groups, h * wd * n), dtype=g.dtype)
            if needs_w:
                grad_w_flip = xp.zeros((groups, o // groups * kh * kw, c // groups), dtype=g.dtype)
            for y0, y1 in row_blocks(h, o * kh * kw * wd * n * g.itemsize, block_bytes(g)):
                cols_g = block_cols(g_pad, (kh, kw), (1, 1), dilation, y0, y1, groups)
                if needs_x:
                    xp.matmul(w_flip, cols_g, out=grad3[..., y0 * wd * n:y1 * wd * n])
                if needs_w:
                    grad_w_flip += cols_g @ saved[..., y0 * wd * n:y1 * wd * n].transpose(0, 2, 1)
            if needs_x:
                grad_x = grad3.reshape(c, h, wd, n).transpose(3, 0, 1, 2)  # an (N, C, H, W) view
            if needs_w:
                grad_w = grad_w_flip.reshape(groups, o // groups, kh, kw, c // groups)[:, :, ::-1, ::-1]
                grad_w = grad_w.transpose(0, 1, 4, 2, 3).reshape(o, c // groups, kh, kw)
        else:
            if needs_x:
                w_t = w3.transpose(0, 2, 1)
                grad_pad = xp.zeros(ctx.x_pad_shape, dtype=g.dtype)      # (C, Hp, Wp, N), as x_pad
                for y0, y1 in ctx.blocks:
                    # d out / d cols for output rows [y0, y1), then col2im: overlapping windows add up
                    grad_cols = (w_t @ g3[..., y0 * ow * n:y1 * ow * n]).reshape(c, kh, kw, y1 - y0, ow, n)
                    for i in range(kh):
                        rows = offset_slice(y0 * sh + i * dh, sh, y1 - y0)
                        for j in range(kw):
                            grad_pad[:, rows, offset_slice(j * dw, sw, ow)] += grad_cols[:, i, j]
                grad_x = grad_pad[:, pt:pt + h, pl:pl + wd].transpose(3, 0, 1, 2)  # an (N, C, H, W) view
            if needs_w:                                                  # d out / d w = cols^T
                if ctx.cols_kept:
                    grad_w = g3 @ saved.transpose(0, 2, 1)
                else:
                    grad_w = xp.zeros(w3.shape, dtype=g.dtype)
                    for y0, y1 in ctx.blocks:
                        cols = block_cols(saved, (kh, kw), stride, dilation, y0, y1, groups)
                        grad_w += g3[..., y0 * ow * n:y1 * ow * n] @ cols.transpose(0, 2, 1)
                grad_w = grad_w.reshape(o, c // groups, kh, kw)
        if ctx.has_bias and ctx.needs_input_grad[2]:
            # einsum's row sums run SIMD with several accumulators (0.06 ms against sum(axis=1)'s
            # 0.23 ms on the CNN's (32, 50176) gradient, both within ~1e-8 of sum |g|)
            grad_b = xp.einsum("op->o", g3.reshape(o, oh * ow * n))
        return grad_x, grad_w, grad_b
