"""2-D max and average pooling (PyTorch's ``max_pool2d`` / ``avg_pool2d``) on NCHW tensors.

Both work on a strided window view of the padded input (``backend.sliding_windows``: no copy)
and loop over the KH*KW kernel offsets only: each iteration handles the (i, j)-th element of
every window at once, a strided (N, C, OH, OW) slice of the input. The backward writes the
gradient of every offset into the matching strided slice of a zero buffer (not zeroed when the
windows tile the input exactly), adding it up where windows overlap (stride < kernel), so no
scatter is needed. Outputs and input gradients keep the
memory layout of the input (batch innermost after a convolution, ``ops/conv.py``), whatever the
layout of the gradient arriving from above (row-major after a flatten).

Window geometry (PyTorch's): ``OH = (H + 2*ph - dh*(KH-1) - 1 [+ sh-1 with ceil_mode]) // sh + 1``,
less one if ceil_mode made the last window start beyond the input and its left padding.

Max-pool pads with -inf, so padding never wins. Which element gets the gradient is PyTorch's
(checked against torch 2.13 on the CPU): the first maximum of the window in row-major order
(strictly greater values replace it); a NaN always wins, the last NaN if several; a window whose
elements are all -inf sends its gradient to its first element inside the input.

Differences from PyTorch: floating-point inputs only; an infinite upstream gradient gives NaN
(not 0) to the window elements that are not the maximum, as ``relu`` does here (the mask is a
multiply, ~10x faster than a select on the CPU).
"""
from __future__ import annotations

import numbers

from ..autograd import Function
from ..backend import axes_outer_first, get_array_module, sliding_windows
from ..tensor import Tensor
from .. import kernels
from .conv import int_pair, offset_slice

__all__ = ["MaxPool2d", "AvgPool2d", "max_pool2d", "avg_pool2d", "PoolGeometry"]


def full_in_layout(xp, layout, shape, value, dtype):
    """An array of ``shape`` filled with ``value`` (left uninitialised when ``value`` is None), its
    axes in memory in the order ``layout`` (outermost first, ``backend.axes_outer_first``).

    Padding and gradient buffers keep the layout of the pool's input (batch innermost after a
    convolution, ``ops/conv.py``), so the ops before and after the pool see one layout.
    """
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


def pad2d(x, top, bottom, left, right, value=0):
    """``x`` (N, C, H, W) with a border of ``value`` (in ``x``'s memory layout); ``x`` itself when
    there is no border."""
    if not (top or bottom or left or right):
        return x
    n, c, h, w = x.shape
    out = full_in_layout(get_array_module(x), axes_outer_first(x), (n, c, h + top + bottom, w + left + right),
                         value, x.dtype)
    out[:, :, top:top + h, left:left + w] = x
    return out


class PoolGeometry:
    """Kernel, stride, padding, dilation and output size of one pooling call (validated)."""

    def __init__(self, op, shape, kernel_size, stride, padding, dilation, ceil_mode):
        kh, kw = self.kernel = int_pair(kernel_size, "kernel_size", op)
        sh, sw = self.stride = (kh, kw) if stride is None or stride == () or stride == [] else \
            int_pair(stride, "stride", op)
        ph, pw = self.padding = int_pair(padding, "padding", op)
        dh, dw = self.dilation = int_pair(dilation, "dilation", op)
        if kh <= 0 or kw <= 0:
            raise RuntimeError(f"{op}: kernel size should be greater than zero, but got kH: {kh} kW: {kw}")
        if sh <= 0 or sw <= 0:
            raise RuntimeError(f"{op}: stride should be greater than zero, but got dH: {sh} dW: {sw}")
        if dh <= 0 or dw <= 0:
            raise RuntimeError(f"{op}: dilation should be greater than zero, but got dilationH: {dh} dilationW: {dw}")
        if ph < 0 or pw < 0:
            raise RuntimeError(f"{op}: pad must be non-negative, but got pad: {min(ph, pw)}")
        if ph > kh // 2 or pw > kw // 2:
            raise RuntimeError(f"{op}: pad should be smaller than or equal to half of kernel size, but got "
                               f"padW = {pw}, padH = {ph}, kW = {kw}, kH = {kh}")
        if len(shape) not in (3, 4) or any(n == 0 for n in shape[-3:]):
            raise RuntimeError(f"{op}: expected a 3-D (unbatched) or 4-D (batched) input with non-zero "
                               f"channels, height and width, got input of shape {tuple(shape)}")
        h, w = shape[-2:]
        self.out = (_out_size(h, kh, sh, ph, dh, ceil_mode), _out_size(w, kw, sw, pw, dw, ceil_mode))
        oh, ow = self.out
        if oh < 1 or ow < 1:
            raise RuntimeError(f"{op}: input of shape {tuple(shape)} (padded to {h + 2 * ph}x{w + 2 * pw}) is "
                               f"too small for kernel size {dh * (kh - 1) + 1}x{dw * (kw - 1) + 1} (dilated): "
                               f"calculated output size {oh}x{ow}")
        # windows that share input elements (stride < dilated kernel) must add their gradients up
        self.overlapping = sh < dh * (kh - 1) + 1 or sw < dw * (kw - 1) + 1
        # windows that cover the input exactly once (2x2 / stride 2 on an even map): every input
        # element gets one gradient write, so the gradient buffer needs no zeroing first
        self.tiling = ((sh, sw) == (kh, kw) and (dh, dw) == (1, 1) and (ph, pw) == (0, 0)
                       and (oh * sh, ow * sw) == tuple(shape[-2:]))
        # Bottom/right padding: ph, or more when ceil_mode lets the last window hang over the edge.
        self.pads = ((ph, max(ph, (oh - 1) * sh + dh * (kh - 1) + 1 - h - ph)),
                     (pw, max(pw, (ow - 1) * sw + dw * (kw - 1) + 1 - w - pw)))

    def windows(self, x, fill):
        """(N, C, OH, OW, KH, KW) view of ``x`` padded with ``fill``, and the padded array."""
        (pt, pb), (pl, pr) = self.pads
        x_pad = pad2d(x, pt, pb, pl, pr, value=fill)
        (kh, kw), (dh, dw), (oh, ow) = self.kernel, self.dilation, self.out
        view = sliding_windows(x_pad, (dh * (kh - 1) + 1, dw * (kw - 1) + 1), self.stride)
        return view[:, :, :oh, :ow, ::dh, ::dw], x_pad

    def offsets(self):
        """(k, i, j, rows, cols): kernel offset number k = i*KW + j and the input slices it reads."""
        (kh, kw), (sh, sw), (dh, dw), (oh, ow) = self.kernel, self.stride, self.dilation, self.out
        for i in range(kh):
            for j in range(kw):
                yield i * kw + j, i, j, offset_slice(i * dh, sh, oh), offset_slice(j * dw, sw, ow)


def _out_size(size, k, s, p, d, ceil_mode):
    """PyTorch's ``pooling_output_shape``."""
    span = d * (k - 1) + 1
    out = (size + 2 * p - span + (s - 1 if ceil_mode else 0)) // s + 1
    if ceil_mode and (out - 1) * s >= size + p:  # the last window must start inside input or left pad
        out -= 1
    return out


def _first_inside(xp, out, stride, pad, dilation):
    """For each output row (or column): the first kernel offset that lands inside the input."""
    start = xp.arange(out) * stride - pad                           # window start, in input coords
    return xp.maximum(-start + dilation - 1, 0) // dilation         # ceil(-start / dilation), >= 0


class MaxPool2d(Function):
    """out = max over each window; the gradient goes to the one element that was picked."""

    def forward(self, x, geometry):
        xp = get_array_module(x)
        self.unbatched = x.ndim == 3
        if self.unbatched:
            x = x[None]
        self.geometry, self.in_shape, self.layout = geometry, x.shape, axes_outer_first(x)
        if kernels.use_kernels(x):  # one CUDA kernel instead of four per kernel offset
            best, arg = kernels.maxpool2d_forward(x, geometry)
            self.pad_shape = None
        else:
            windows, x_pad = geometry.windows(x, float("-inf"))
            best, arg = _window_max(xp, windows, geometry)
            self.pad_shape = x_pad.shape
        self.save_for_backward(arg)
        return best[0] if self.unbatched else best

    def backward(self, g):
        (arg,) = self.saved_tensors
        xp = get_array_module(g)
        geometry = self.geometry
        if self.unbatched:
            g = g[None]
        if self.pad_shape is None:  # the forward ran the CUDA kernel
            grad_x = kernels.maxpool2d_backward(g, arg, self.in_shape, geometry)
            return grad_x[0] if self.unbatched else grad_x
        g = in_layout(g, self.layout)      # after a flatten, g comes back row-major: one small copy
        grad_pad = full_in_layout(xp, self.layout, self.pad_shape, None if geometry.tiling else 0, g.dtype)
        for k, _, _, rows, cols in geometry.offsets():                  # d max / d x = 1 at the argmax
            if geometry.overlapping:                                              # windows share elements: add up
                grad_pad[:, :, rows, cols] += g * (arg == k)
            else:                                                        # each element in one window
                xp.multiply(g, arg == k, out=grad_pad[:, :, rows, cols])
        (pt, _), (pl, _) = geometry.pads
        h, w = self.in_shape[2:]
        grad_x = grad_pad[:, :, pt:pt + h, pl:pl + w]
        return grad_x[0] if self.unbatched else grad_x


def _window_max(xp, windows, geometry):
    """Max of each window and its kernel offset k = i*KW + j, with PyTorch's choice on ties.

    PyTorch's CPU kernel keeps a running maximum in row-major order that an element replaces when
    strictly greater or when it is NaN. So the argmax is the first offset that reaches the maximum,
    or the last NaN of a window holding NaNs; an all -inf window picks its first element inside
    the input, so its gradient does not go into the padding. Here the same result in whole-array
    passes over the kernel offsets: the NaN-propagating maximum; then the first offset k that
    reaches it, as K minus the largest (K - k) over the offsets that do (no select: a multiply
    and a running maximum); then the two exceptions, each only when it can occur.
    """
    oh, ow = windows.shape[2:4]
    (kh, kw), (sh, sw), (ph, pw), (dh, dw) = geometry.kernel, geometry.stride, geometry.padding, geometry.dilation
    views = [windows[:, :, :, :, i, j] for _, i, j, _, _ in geometry.offsets()]
    count = len(views)
    best = views[0].copy(order="K")
    for v in views[1:]:
        xp.maximum(best, v, out=best)                                    # NaN-propagating max
    in_bytes = count < 256
    arg = xp.zeros_like(best, dtype=xp.uint8 if in_bytes else xp.int32)     # best's layout
    for k, v in enumerate(views):
        hit = v == best
        weight = hit.view(xp.uint8) if in_bytes else hit.astype(xp.int32)  # a bool's bytes are 0/1 already
        weight *= arg.dtype.type(count - k)
        xp.maximum(arg, weight, out=arg)
    xp.subtract(count, arg, out=arg)              # a NaN window matched nowhere: count, fixed below
    if ph or pw:                                  # all -inf windows: the first offset inside the input
        first = _first_inside(xp, oh, sh, ph, dh)[:, None] * kw + _first_inside(xp, ow, sw, pw, dw)[None, :]
        xp.copyto(arg, first, where=best == float("-inf"), casting="unsafe")
    if xp.isnan(best).any():                      # NaN windows: the last NaN
        for k, v in enumerate(views):
            xp.copyto(arg, arg.dtype.type(k), where=xp.isnan(v))
    return best, arg


def _flat_indices(xp, arg, geometry, width):
    """PyTorch's ``return_indices``: the argmax as ``row * W + col`` in the unpadded input plane."""
    (_, kw), (sh, sw), (ph, pw), (dh, dw) = geometry.kernel, geometry.stride, geometry.padding, geometry.dilation
    oh, ow = geometry.out
    arg = arg.astype(xp.int64)
    rows = xp.arange(oh, dtype=xp.int64)[:, None] * sh - ph + (arg // kw) * dh
    cols = xp.arange(ow, dtype=xp.int64)[None, :] * sw - pw + (arg % kw) * dw
    return rows * width + cols


class AvgPool2d(Function):
    """out = sum over each window / divisor (the window size, or PyTorch's variants of it)."""

    def forward(self, x, geometry, count_include_pad=True, divisor_override=None):
        xp = get_array_module(x)
        self.unbatched = x.ndim == 3
        if self.unbatched:
            x = x[None]
        windows, x_pad = geometry.windows(x, 0)
        total = None
        for _, i, j, _, _ in geometry.offsets():
            v = windows[:, :, :, :, i, j]
            total = v.copy(order="K") if total is None else xp.add(total, v, out=total)
        divisor = _divisor(xp, x.shape[2:], geometry, count_include_pad, divisor_override, x.dtype)
        self.divisor = divisor
        self.geometry, self.in_shape, self.pad_shape = geometry, x.shape, x_pad.shape
        self.layout = axes_outer_first(x)
        out = total / divisor
        return out[0] if self.unbatched else out

    def backward(self, g):
        xp = get_array_module(g)
        if self.unbatched:
            g = g[None]
        g_each = in_layout(g, self.layout) / self.divisor                # d out / d x = 1 / divisor
        grad_pad = full_in_layout(xp, self.layout, self.pad_shape, None if self.geometry.tiling else 0,
                                  g_each.dtype)
        for _, _, _, rows, cols in self.geometry.offsets():
            if self.geometry.overlapping:                                # windows share elements: add up
                grad_pad[:, :, rows, cols] += g_each
            else:                                                        # each element in one window
                grad_pad[:, :, rows, cols] = g_each
        (pt, _), (pl, _) = self.geometry.pads
        h, w = self.in_shape[2:]
        grad_x = grad_pad[:, :, pt:pt + h, pl:pl + w]
        return grad_x[0] if self.unbatched else grad_x


def _divisor(xp, size, geometry, count_include_pad, divisor_override, dtype):
    """(OH, OW) divisors, PyTorch's rule: the window clipped to the padded input (padding counts)
    or to the input itself (``count_include_pad=False``); ``divisor_override`` replaces both."""
    if divisor_override is not None:
        return xp.asarray(divisor_override, dtype=dtype)
    counts = []
    for n, out, k, s, p in zip(size, geometry.out, geometry.kernel, geometry.stride, geometry.padding):
        start = xp.arange(out) * s - p
        end = xp.minimum(start + k, n + p)                               # ceil_mode overhang never counts
        if not count_include_pad:
            start, end = xp.maximum(start, 0), xp.minimum(end, n)
        counts.append(end - start)
    return (counts[0][:, None] * counts[1][None, :]).astype(dtype)


def _check_input(op, input):
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}: expected a tensor input, got {type(input).__name__}")
    if input.array.dtype.kind != "f":
        raise RuntimeError(f"{op}: expected a floating-point input, got input of shape "
                           f"{tuple(input.shape)} and dtype {input.dtype}")


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    """Max over (KH, KW) windows of an (N, C, H, W) or (C, H, W) input, as PyTorch's.

    ``stride`` defaults to ``kernel_size``; padding (at most half the kernel) never wins. With
    ``return_indices=True`` returns ``(values, indices)``, the indices flat in each H*W plane
    (they are computed by a second pass over the windows).
    """
    op = "max_pool2d"
    _check_input(op, input)
    geometry = PoolGeometry(op, input.shape, kernel_size, stride, padding, dilation, bool(ceil_mode))
    values = MaxPool2d.apply(input, geometry=geometry)
    if not return_indices:
        return values
    x = input.array if input.ndim == 4 else input.array[None]
    xp = get_array_module(x)
    _, arg = _window_max(xp, geometry.windows(x, float("-inf"))[0], geometry)
    indices = _flat_indices(xp, arg, geometry, x.shape[3])
    return values, Tensor._from_op(indices if input.ndim == 4 else indices[0], None)


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
               divisor_override=None):
    """Mean over (KH, KW) windows of an (N, C, H, W) or (C, H, W) input, as PyTorch's.

    ``count_include_pad=True`` (the default) divides by the window size including zero padding,
    False by the number of input elements in the window; ``divisor_override`` divides by that
    number instead.
    """
    op = "avg_pool2d"
    _check_input(op, input)
    if divisor_override is not None:
        if not isinstance(divisor_override, numbers.Real) or isinstance(divisor_override, bool):
            raise TypeError(f"{op}: divisor_override must be a number, got {divisor_override!r}")
        if divisor_override == 0:
            raise RuntimeError(f"{op}: divisor must be not zero")
    geometry = PoolGeometry(op, input.shape, kernel_size, stride, padding, 1, bool(ceil_mode))
    return AvgPool2d.apply(input, geometry=geometry, count_include_pad=bool(count_include_pad),
                           divisor_override=divisor_override)
