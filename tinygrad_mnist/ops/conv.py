"""2-D convolution (PyTorch's ``conv2d``: a cross-correlation on NCHW tensors), by im2col.

Notation: input x (N, C, H, W), weight w (O, C, KH, KW), stride (sh, sw), dilation (dh, dw),
xpad the input zero-padded to (Hp, Wp). Output (N, O, OH, OW) with
``OH = (H + pad_top + pad_bottom - dh*(KH-1) - 1) // sh + 1`` (likewise OW) and

    out[n, o, y, x] = bias[o] + sum_{c, i, j} w[o, c, i, j] * xpad[n, c, y*sh + i*dh, x*sw + j*dw]

im2col lays the input patches out as the columns of one matrix, so that the whole convolution is
one matrix product (one BLAS/cuBLAS call):

    cols[(c, i, j), (y, x, n)] = xpad[n, c, y*sh + i*dh, x*sw + j*dw]   (C*KH*KW, OH*OW*N)
    out2 = w2 @ cols,  w2 = w.reshape(O, C*KH*KW)                        (O, OH*OW*N)

``cols`` is one copy out of a strided window view of xpad (``backend.sliding_windows``).

Blocks of rows, on the CPU: when ``cols`` would be more than twice ``backend.CPU_GEMM_BLOCK_BYTES``
(4 MiB), the product is done in blocks of output rows y with about 4 MiB of columns each: the
columns of one block are copied and multiplied while they are still in cache, and each block's
GEMM writes its slice of out2. The arithmetic is the same product split along its columns. It
pays on the 32-filter CNN (its 32->32 layer on 28x28: 41 -> 37 ms forward + backward, one
thread, Zen 5), whose columns are 58 MB; on the GPU and for smaller layers it is one GEMM.

Memory layout: the batch is the innermost axis. The padded input is stored as (C, Hp, Wp, N), and
the output is returned as an (N, O, OH, OW) *view* of the GEMM's (O, OH, OW, N) result, with no
copy back to NCHW. Values, shapes and gradients are those of NCHW; only the strides differ. Every
copy below then moves runs of N (or W*N) contiguous elements, where NCHW would give runs of
OW, only 7 or 8 on the small MNIST maps: NumPy's per-run overhead then dominates. On the CPU,
elementwise ops and pooling keep the layout of their input (pooling its input gradient too), so
the next convolution usually finds its input already batch-innermost (the GPU's max-pool kernel
reads and writes row-major). Measured on the tutorial shapes
(CPU, batch 64, forward + backward, one thread): 1.35-2.5x faster than (C, N, H, W) on the LeNet
and stride-2 CNN layers, 1.2x on the 32-filter CNN's largest layer.

With ``groups`` G, w2 and cols are split into G blocks of rows and the GEMM is batched over G
(weight is then (O, C/G, KH, KW)).

Backward, with g2 the output gradient as (O, OH*OW*N):

    grad_w    = g2 @ cols^T                     one GEMM (cols kept from the forward; with
                                                several blocks, recomputed block by block;
                                                on the route below, from g's columns)
    grad_bias = g2.sum over (y, x, n)
    grad_cols = w2^T @ g2                       one GEMM, back to column space
    grad_xpad[n, c, y*sh + i*dh, x*sw + j*dw] += grad_cols[(c, i, j), (y, x, n)]

The last line is col2im: for each kernel offset (i, j) the (C, OH, OW, N) slab of grad_cols is
added into a strided slice of a zero buffer, a loop over the KH*KW offsets only (each iteration
is one vectorised add over the whole batch); overlapping windows add up by construction.

Input gradient by convolution (stride 1 only). Then

    grad_x[n, c, y, x] = sum_{o, i, j} w[o, c, i, j] * g[n, o, y + pt - i*dh, x + pl - j*dw]

is itself a convolution: of g zero-padded by dh*(KH-1) - pt rows on top and dh*(KH-1) - pb below
(likewise columns), with the kernel flipped along both spatial axes and its two channel axes
swapped. That is im2col of g plus one GEMM whose inner dimension is O*KH*KW, which BLAS runs far
faster than grad_cols' GEMM with inner dimension O, and no col2im. It is taken when the padding
fits inside the kernel's extent and g's columns (O*H*W per image) are no larger than grad_cols
(C*OH*OW): the 32-filter CNN's layers (its step at 2 threads on a Zen 5: 58 -> 45 ms), not
LeNet's second layer, whose 16 output channels from 6 input channels would make the columns 6x
larger.

On that route the weight gradient comes from the same columns. Column (y, x, n) of g's columns
holds, in row (o, i', j'), the output gradient that input pixel (y, x) of image n reached through
weight w[o, :, KH-1-i', KW-1-j'] (zero where none did), so

    grad_w[o, c, KH-1-i', KW-1-j'] = sum_{y, x, n} cols_g[(o, i', j'), (y, x, n)] * x[n, c, y, x]

a GEMM of the columns with x itself, as (G, C/G, H*W*N): a view when x is batch-innermost. The
forward then keeps x instead of its columns (58 MB on the CNN's 28x28 layer, or the padded input
to rebuild them from), and a layer done in blocks makes one im2col in its backward, not two, each
block's columns serving both products while in cache (that layer's backward on a Zen 3: 30.6 ->
26.8 ms with one thread, 18.9 -> 15.9 ms with two). With less padding than 'same' this product
sums over H*W input positions instead of OH*OW output ones, at most C/O times the work by the
route's condition; the tutorials' layers pad 'same'.

Differences from PyTorch: a layer that fits one block and takes the col2im route keeps its
``cols`` for the backward, C*KH*KW times the output's spatial size in memory (PyTorch recomputes
it); one on the route above keeps x itself, so changing x in place between forward and backward
changes its weight gradient, as for every op here that keeps its input (there is no version
counter, ``tensor.py``); padding modes other than zeros live in ``nn.Conv2d``.
"""
from __future__ import annotations

import numbers

from ..autograd import Function
from ..backend import gemm_block_bytes, get_array_module, sliding_windows
from ..tensor import Tensor, _check_same_device

__all__ = ["Conv2d", "conv2d"]


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


def im2col(x_pad, kernel, stride, dilation):
    """The (C*KH*KW, OH*OW*N) columns of a (C, Hp, Wp, N) array, and (OH, OW): one copy."""
    (kh, kw), (dh, dw) = kernel, dilation
    c, _, _, n = x_pad.shape
    # (N, C, OH, OW, KH, KW) view: window [n, c, y, x] starts at (y*sh, x*sw); taking every
    # dh-th / dw-th element of a window of span dh*(KH-1)+1 applies the dilation.
    windows = sliding_windows(x_pad.transpose(3, 0, 1, 2), (dh * (kh - 1) + 1, dw * (kw - 1) + 1),
                              stride)[..., ::dh, ::dw]
    oh, ow = windows.shape[2:4]
    return windows.transpose(1, 4, 5, 2, 3, 0).reshape(c * kh * kw, oh * ow * n), (oh, ow)


def offset_slice(offset, step, count):
    """The slice of input positions ``offset + step * k`` for ``k`` in ``range(count)``."""
    return slice(offset, offset + step * (count - 1) + 1, step)


def row_blocks(rows, bytes_per_row, block_bytes):
    """Split ``range(rows)`` into (start, stop) runs of about ``block_bytes`` each (at least one
    row); one run when the whole is at most twice ``block_bytes`` (``backend.CPU_GEMM_BLOCK_BYTES``)."""
    if block_bytes is None or rows * bytes_per_row <= 2 * block_bytes:
        return [(0, rows)]
    step = max(1, min(rows, block_bytes // max(1, bytes_per_row)))
    return [(y, min(rows, y + step)) for y in range(0, rows, step)]


class Conv2d(Function):
    """``conv2d`` on arrays: x (N, C, H, W) or unbatched (C, H, W), weight (O, C, KH, KW).

    ``padding`` is ((top, bottom), (left, right)); ``stride`` and ``dilation`` are (h, w) pairs;
    weight has C // groups input channels.
    The tensor-level :func:`conv2d` validates the arguments; this class does the arithmetic.
    """

    def forward(self, x, weight, bias=None, stride=(1, 1), padding=((0, 0), (0, 0)), dilation=(1, 1), groups=1):
        self.unbatched = x.ndim == 3
        if self.unbatched:
            x = x[None]
        n, c, h, w = x.shape
        o, cg, kh, kw = weight.shape                                     # cg = C // groups
        dh, dw = dilation
        (pt, pb), (pl, pr) = padding
        xp = get_array_module(x)

        x_pad = padded_chwn(x, padding)
        oh = (x_pad.shape[1] - dh * (kh - 1) - 1) // stride[0] + 1
        ow = (x_pad.shape[2] - dw * (kw - 1) - 1) // stride[1] + 1
        # groups: group g's output channels see only its input channels, i.e. its block of rows of
        # cols: one batched GEMM (G, O/G, C/G*KH*KW) @ (G, C/G*KH*KW, cols), a plain GEMM for G=1
        w3 = weight.reshape(groups, o // groups, cg * kh * kw)
        out3 = xp.empty((groups, o // groups, oh * ow * n), dtype=x.dtype)
        bias3 = None if bias is None else bias.reshape(groups, o // groups, 1)
        self.blocks = row_blocks(oh, c * kh * kw * ow * n * x.itemsize, gemm_block_bytes(x))
        for y0, y1 in self.blocks:                                       # one block: one GEMM
            cols = self.block_cols(x_pad, (kh, kw), stride, dilation, y0, y1, groups)
            block = out3[..., y0 * ow * n:y1 * ow * n]
            xp.matmul(w3, cols, out=block)
            if bias3 is not None:
                block += bias3

        self.x_pad_shape = x_pad.shape
        self.has_bias = bias is not None
        self.geometry = (n, c, h, w), (o, kh, kw), (oh, ow), stride, padding, dilation
        # input gradient as a convolution of the output gradient (see the module docstring) when
        # the stride is 1, the padding fits in the kernel, and its columns are no larger than col2im's
        self.reach = reach_h, reach_w = dh * (kh - 1), dw * (kw - 1)    # dilated kernel extent - 1
        self.input_grad_by_conv = (tuple(stride) == (1, 1) and max(pt, pb) <= reach_h and
                                   max(pl, pr) <= reach_w and o * h * w <= c * oh * ow)
        if self.input_grad_by_conv:
            # grad_w comes from the output gradient's columns and x itself: keep x as
            # (G, C/G, H*W*N), a view when x is batch-innermost already (on the CPU, the output of
            # a convolution, ReLU or pool)
            x_chwn = xp.ascontiguousarray(x.transpose(1, 2, 3, 0))
            self.save_for_backward(x_chwn.reshape(groups, cg, h * w * n), w3)
        else:
            # one block: keep its columns for grad_w; several: keep x_pad and recompute the columns
            # block by block (cheap next to the GEMM, and x_pad is KH*KW times smaller than them all)
            self.cols_kept = len(self.blocks) == 1
            self.save_for_backward(cols if self.cols_kept else x_pad, w3)
        out = out3.reshape(o, oh, ow, n).transpose(3, 0, 1, 2)          # (N, O, OH, OW), a view
        return out[0] if self.unbatched else out

    @staticmethod
    def block_cols(x_pad, kernel, stride, dilation, y0, y1, groups):
        """im2col of the output rows [y0, y1): (G, C/G*KH*KW, (y1-y0)*OW*N), from the input rows they read."""
        (kh, _), (sh, _), (dh, _) = kernel, stride, dilation
        cols, _ = im2col(x_pad[:, y0 * sh:(y1 - 1) * sh + dh * (kh - 1) + 1], kernel, stride, dilation)
        return cols.reshape(groups, cols.shape[0] // groups, cols.shape[1])

    def backward(self, g):
        saved, w3 = self.saved_tensors
        groups = w3.shape[0]
        (n, c, h, w), (o, kh, kw), (oh, ow), stride, padding, dilation = self.geometry
        (sh, sw), (dh, dw) = stride, dilation
        (pt, pb), (pl, pr) = padding
        xp = get_array_module(g)
        if self.unbatched:
            g = g[None]
        g3 = g.transpose(1, 2, 3, 0).reshape(groups, o // groups, oh * ow * n)  # free when batch-innermost

        grad_x = grad_w = grad_b = None
        needs_x, needs_w = self.needs_input_grad[:2]
        if self.input_grad_by_conv:
            # g's columns serve both gradients (module docstring), block by block while in cache:
            # grad_x = w_flip @ cols_g and grad_w_flip = cols_g @ x^T
            reach_h, reach_w = self.reach
            g_pad = padded_chwn(g, ((reach_h - pt, reach_h - pb), (reach_w - pl, reach_w - pr)))
            if needs_x:
                w_flip = w3.reshape(groups, o // groups, c // groups, kh, kw)[..., ::-1, ::-1]
                w_flip = w_flip.transpose(0, 2, 1, 3, 4).reshape(groups, c // groups, o // groups * kh * kw)
                grad3 = xp.empty((groups, c // groups, h * w * n), dtype=g.dtype)
            if needs_w:
                grad_w_flip = xp.zeros((groups, o // groups * kh * kw, c // groups), dtype=g.dtype)
            for y0, y1 in row_blocks(h, o * kh * kw * w * n * g.itemsize, gemm_block_bytes(g)):
                cols_g = self.block_cols(g_pad, (kh, kw), (1, 1), dilation, y0, y1, groups)
                if needs_x:
                    xp.matmul(w_flip, cols_g, out=grad3[..., y0 * w * n:y1 * w * n])
                if needs_w:
                    grad_w_flip += cols_g @ saved[..., y0 * w * n:y1 * w * n].transpose(0, 2, 1)
            if needs_x:
                grad_x = grad3.reshape(c, h, w, n).transpose(3, 0, 1, 2)  # an (N, C, H, W) view
            if needs_w:
                grad_w = grad_w_flip.reshape(groups, o // groups, kh, kw, c // groups)[:, :, ::-1, ::-1]
                grad_w = grad_w.transpose(0, 1, 4, 2, 3).reshape(o, c // groups, kh, kw)
        else:
            if needs_x:
                w_t = w3.transpose(0, 2, 1)
                grad_pad = xp.zeros(self.x_pad_shape, dtype=g.dtype)     # (C, Hp, Wp, N), as x_pad
                for y0, y1 in self.blocks:
                    # d out / d cols for output rows [y0, y1), then col2im: overlapping windows add up
                    grad_cols = (w_t @ g3[..., y0 * ow * n:y1 * ow * n]).reshape(c, kh, kw, y1 - y0, ow, n)
                    for i in range(kh):
                        rows = offset_slice(y0 * sh + i * dh, sh, y1 - y0)
                        for j in range(kw):
                            grad_pad[:, rows, offset_slice(j * dw, sw, ow)] += grad_cols[:, i, j]
                grad_x = grad_pad[:, pt:pt + h, pl:pl + w].transpose(3, 0, 1, 2)  # an (N, C, H, W) view
            if needs_w:                                                  # d out / d w = cols^T
                if self.cols_kept:
                    grad_w = g3 @ saved.transpose(0, 2, 1)
                else:
                    grad_w = xp.zeros(w3.shape, dtype=g.dtype)
                    for y0, y1 in self.blocks:
                        cols = self.block_cols(saved, (kh, kw), stride, dilation, y0, y1, groups)
                        grad_w += g3[..., y0 * ow * n:y1 * ow * n] @ cols.transpose(0, 2, 1)
                grad_w = grad_w.reshape(o, c // groups, kh, kw)
        if grad_x is not None and self.unbatched:
            grad_x = grad_x[0]
        if self.has_bias and self.needs_input_grad[2]:
            # d out / d bias = 1. einsum's row sums run SIMD with several accumulators: 0.06 ms on
            # the CNN's (32, 50176) gradient against sum(axis=1)'s 0.23 ms, errors both ~1e-8 of sum|g|
            grad_b = xp.einsum("op->o", g3.reshape(o, oh * ow * n))
        return (grad_x, grad_w, grad_b) if self.has_bias else (grad_x, grad_w)


# ---------------------------------------------------------------------------- argument checks

def int_pair(value, name, op):
    """An int or a sequence of two ints, as a (h, w) tuple; PyTorch's error otherwise."""
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        return int(value), int(value)
    if isinstance(value, (tuple, list)) and len(value) in (1, 2) and all(
            isinstance(v, numbers.Integral) and not isinstance(v, bool) for v in value):
        return (int(value[0]),) * 2 if len(value) == 1 else (int(value[0]), int(value[1]))
    raise RuntimeError(f"{op}: {name} must be a single int or a tuple of two ints, got {name}={value!r}")


def _shape(t):
    return tuple(t.shape)


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """2-D cross-correlation of ``input`` (N, C, H, W) or (C, H, W) with ``weight`` (O, C/groups, KH, KW).

    As ``torch.nn.functional.conv2d``: ``stride``, ``padding`` and ``dilation`` are an int or a
    pair; ``padding`` may also be ``"valid"`` (none) or ``"same"`` (output as large as the input,
    stride 1 only; an odd total goes to the bottom/right, as PyTorch). Zero padding. Returns
    (N, O, OH, OW), or (O, OH, OW) for an unbatched input. With ``groups`` G, input channels and
    output channels are split into G groups and group g of the output sees only group g of the input.
    """
    op = "conv2d"
    if not isinstance(input, Tensor) or not isinstance(weight, Tensor) or (
            bias is not None and not isinstance(bias, Tensor)):
        raise TypeError(f"{op}: input, weight and bias must be tensors, got {type(input).__name__}, "
                        f"{type(weight).__name__} and {type(bias).__name__}")
    if not isinstance(groups, numbers.Integral) or isinstance(groups, bool) or groups <= 0:
        raise RuntimeError(f"{op}: non-positive groups is not supported, got groups={groups!r}")
    groups = int(groups)
    if weight.ndim != 4:
        raise RuntimeError(f"{op}: expected a 4-D weight (out_channels, in_channels, kH, kW), "
                           f"got weight of shape {_shape(weight)}")
    if input.ndim not in (3, 4):
        raise RuntimeError(f"{op}: expected a 3-D (unbatched) or 4-D (batched) input to match weight "
                           f"of shape {_shape(weight)}, got input of shape {_shape(input)}")
    _check_same_device(op, input, weight)
    if bias is not None:
        _check_same_device(op, input, bias)
    if input.array.dtype.kind != "f":
        raise RuntimeError(f"{op}: expected a floating-point input, got input of dtype {input.dtype}")
    if input.array.dtype != weight.array.dtype:
        raise RuntimeError(f"{op}: expected input and weight to have the same dtype, got input "
                           f"{input.dtype} (shape {_shape(input)}) and weight {weight.dtype} "
                           f"(shape {_shape(weight)})")
    out_ch, in_ch, kh, kw = weight.shape
    c, h, w = input.shape[-3:]
    if out_ch % groups:
        raise RuntimeError(f"{op}: expected weight of shape {_shape(weight)} to have a number of output "
                           f"channels divisible by groups={groups}")
    if c != in_ch * groups:
        with_groups = f" and groups={groups}" if groups != 1 else ""
        raise RuntimeError(f"{op}: expected input with {in_ch * groups} channels to match weight of shape "
                           f"{_shape(weight)}{with_groups}, got input of shape {_shape(input)}")
    if bias is not None:
        if bias.ndim != 1 or bias.shape[0] != out_ch:
            raise RuntimeError(f"{op}: expected bias of shape ({out_ch},) to match weight of shape "
                               f"{_shape(weight)}, got bias of shape {_shape(bias)}")
        if bias.array.dtype != weight.array.dtype:
            raise RuntimeError(f"{op}: expected bias and weight to have the same dtype, got bias "
                               f"{bias.dtype} and weight {weight.dtype}")

    sh, sw = int_pair(stride, "stride", op)
    dh, dw = int_pair(dilation, "dilation", op)
    if sh <= 0 or sw <= 0:
        raise RuntimeError(f"{op}: non-positive stride is not supported, got stride={stride!r}")
    if dh <= 0 or dw <= 0:
        raise RuntimeError(f"{op}: dilation should be greater than zero, got dilation={dilation!r}")
    span_h, span_w = dh * (kh - 1) + 1, dw * (kw - 1) + 1
    if isinstance(padding, str):
        if padding == "valid":
            pads = ((0, 0), (0, 0))
        elif padding == "same":
            if (sh, sw) != (1, 1):
                raise RuntimeError(f"{op}: padding='same' is not supported for strided convolutions, "
                                   f"got stride={stride!r}")
            pads = tuple((t // 2, t - t // 2) for t in (span_h - 1, span_w - 1))
        else:
            raise ValueError(f"{op}: invalid padding string {padding!r}, should be one of 'valid' or 'same'")
    else:
        ph, pw = int_pair(padding, "padding", op)
        if ph < 0 or pw < 0:
            raise RuntimeError(f"{op}: negative padding is not supported, got padding={padding!r}")
        pads = ((ph, ph), (pw, pw))
    hp, wp = h + sum(pads[0]), w + sum(pads[1])
    if hp < span_h or wp < span_w:
        raise RuntimeError(f"{op}: input of shape {_shape(input)} (padded to {hp}x{wp}) is smaller than "
                           f"the dilated kernel size {span_h}x{span_w} of weight of shape {_shape(weight)}")

    tensors = (input, weight) if bias is None else (input, weight, bias)
    return Conv2d.apply(*tensors, stride=(sh, sw), padding=pads, dilation=(dh, dw), groups=groups)
