"""Shape arithmetic shared by the ops and their entry points (a leaf module: it imports no other).

Dimensions (``canonical_dim``), reduced shapes, the (h, w) pairs that convolution and pooling
take, and :class:`Window2d`, the geometry of a sliding 2-D window (kernel, stride, padding,
dilation, input and output size) that im2col, col2im, convolution and pooling all use.
"""
from __future__ import annotations

import functools
import numbers
from typing import NamedTuple

__all__ = ["Size", "accepts_axis", "canonical_dim", "canonical_dims", "keepdim_shape", "broadcast_shapes", "int_pair",
           "Window2d", "pool_window", "window_out_size"]


class Size(tuple):
    """A tensor's shape (``t.shape``, ``t.size()``): a tuple of ints, as ``torch.Size``.

    It equals the plain tuple of the same sizes, indexes and unpacks like one, and prints as
    ``tinygrad_mnist.Size([2, 3])``; a slice of it, or a Size joined with a tuple, is a Size again.
    """

    __slots__ = ()

    def __new__(cls, sizes=()):
        return super().__new__(cls, (int(n) for n in sizes))

    def __repr__(self):
        return f"tinygrad_mnist.Size({list(self)})"

    __str__ = __repr__

    def __getitem__(self, index):
        out = tuple.__getitem__(self, index)
        return Size(out) if isinstance(index, slice) else out

    def __add__(self, other):
        if not isinstance(other, tuple):
            return NotImplemented
        return Size(tuple.__add__(self, other))

    def __radd__(self, other):
        if not isinstance(other, tuple):
            return NotImplemented
        return Size(tuple.__add__(other, self))

    def __mul__(self, count):
        return Size(tuple.__mul__(self, count))

    __rmul__ = __mul__

    def numel(self):
        """The number of elements a tensor of this shape holds."""
        n = 1
        for size in self:
            n *= size
        return n

    def __reduce__(self):
        return (Size, (tuple(self),))


def accepts_axis(fn):
    """Let ``fn``, which takes ``dim``, also take NumPy's ``axis=`` keyword, as PyTorch's
    reductions and shape functions do (``x.max(axis=1)``, ``torch.softmax(x, axis=0)``)."""
    @functools.wraps(fn)
    def with_axis(*args, **kwargs):
        if "axis" in kwargs:
            if "dim" in kwargs:
                raise TypeError(f"{fn.__name__}(): got both dim= and axis=; pass one of them")
            kwargs["dim"] = kwargs.pop("axis")
        return fn(*args, **kwargs)
    return with_axis


def canonical_dim(dim, ndim, op="op"):
    """A dimension index in [0, ndim) from a possibly negative one (0-d tensors accept 0 and -1)."""
    if not isinstance(dim, numbers.Integral) or isinstance(dim, bool):
        raise TypeError(f"{op}: dim must be an int, got {type(dim).__name__} ({dim!r})")
    size = max(ndim, 1)
    if not -size <= dim < size:
        raise IndexError(f"{op}: dimension out of range (expected to be in range of "
                         f"[{-size}, {size - 1}], but got {dim})")
    return int(dim) % size


def canonical_dims(dim, ndim, op="op"):
    """None (all dimensions) or a sorted tuple of distinct non-negative dimensions."""
    if dim is None:
        return None
    dims = (dim,) if isinstance(dim, numbers.Integral) else tuple(dim)
    out = tuple(sorted({canonical_dim(d, ndim, op) for d in dims}))
    if len(out) != len(dims):
        raise RuntimeError(f"{op}: dim {dims} appears multiple times in the list of dims")
    if ndim == 0 or not dims:
        return None
    return out


def keepdim_shape(shape, axes):
    """``shape`` with the reduced ``axes`` (None: all) kept as size 1."""
    if axes is None:
        return (1,) * len(shape)
    return tuple(1 if i in axes else n for i, n in enumerate(shape))


def broadcast_shapes(*shapes):
    """The broadcast of ``shapes`` (NumPy's rule, PyTorch's too), or ValueError naming them."""
    ndim = max((len(s) for s in shapes), default=0)
    out = []
    for i in range(ndim):
        sizes = {s[len(s) - ndim + i] for s in shapes if len(s) - ndim + i >= 0} - {1}
        if len(sizes) > 1:
            raise ValueError(f"shapes {', '.join(str(tuple(s)) for s in shapes)} cannot be broadcast together")
        out.append(sizes.pop() if sizes else 1)
    return tuple(out)


def int_pair(value, name, op):
    """An int or a sequence of one or two ints, as an (h, w) tuple.

    A value that is not an int (2.5, True, "2") is a TypeError naming the argument; a sequence of
    ints of another length a RuntimeError, as PyTorch's.
    """
    def is_int(v):
        return isinstance(v, numbers.Integral) and not isinstance(v, bool)
    if is_int(value):
        return int(value), int(value)
    if isinstance(value, (tuple, list)) and all(is_int(v) for v in value):
        if len(value) in (1, 2):
            return (int(value[0]),) * 2 if len(value) == 1 else (int(value[0]), int(value[1]))
        raise RuntimeError(f"{op}: {name} must be a single int or a tuple of two ints, got {name}={value!r}")
    raise TypeError(f"{op}: {name} must be a single int or a tuple of two ints, got {name}={value!r} "
                    f"({type(value).__name__})")


class Window2d(NamedTuple):
    """A sliding window over the last two dimensions of an (N, C, H, W) tensor.

    ``padding`` is ((top, bottom), (left, right)); the window at output position (y, x) reads
    input rows ``y*sh - top + i*dh`` and columns ``x*sw - left + j*dw`` for kernel offsets (i, j).
    """

    kernel: tuple
    stride: tuple
    padding: tuple
    dilation: tuple
    size: tuple     # (H, W) of the input
    out: tuple      # (OH, OW)

    @property
    def span(self):
        """The dilated kernel's extent in input pixels, (dh*(KH-1)+1, dw*(KW-1)+1)."""
        return tuple(d * (k - 1) + 1 for k, d in zip(self.kernel, self.dilation))

    @property
    def padded_size(self):
        return tuple(n + a + b for n, (a, b) in zip(self.size, self.padding))

    @classmethod
    def of(cls, size, kernel, stride, padding, dilation):
        """The window whose output size follows from the input size (convolution, unfold)."""
        out = tuple(window_out_size(n, k, s, a + b, d) for n, k, s, (a, b), d in
                    zip(size, kernel, stride, padding, dilation))
        return cls(tuple(kernel), tuple(stride), tuple(map(tuple, padding)), tuple(dilation), tuple(size), out)


def window_out_size(size, kernel, stride, total_padding, dilation):
    """How many windows fit: ``(size + padding - dilation*(kernel-1) - 1) // stride + 1``."""
    return (size + total_padding - dilation * (kernel - 1) - 1) // stride + 1


def pool_window(op, shape, kernel_size, stride, padding, dilation, ceil_mode):
    """The validated window of a pooling call, with PyTorch's output size and ceil_mode rule.

    With ``ceil_mode`` the last window may hang over the bottom/right edge (it must start inside
    the input or its left padding); the overhang is extra bottom/right padding here.
    """
    kh, kw = int_pair(kernel_size, "kernel_size", op)
    sh, sw = (kh, kw) if stride is None or stride == () or stride == [] else int_pair(stride, "stride", op)
    ph, pw = int_pair(padding, "padding", op)
    dh, dw = int_pair(dilation, "dilation", op)
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

    def out_size(n, k, s, p, d):
        span = d * (k - 1) + 1
        o = (n + 2 * p - span + (s - 1 if ceil_mode else 0)) // s + 1
        if ceil_mode and (o - 1) * s >= n + p:  # the last window must start inside input or left pad
            o -= 1
        return o

    oh, ow = out_size(h, kh, sh, ph, dh), out_size(w, kw, sw, pw, dw)
    if oh < 1 or ow < 1:
        raise RuntimeError(f"{op}: input of shape {tuple(shape)} (padded to {h + 2 * ph}x{w + 2 * pw}) is "
                           f"too small for kernel size {dh * (kh - 1) + 1}x{dw * (kw - 1) + 1} (dilated): "
                           f"calculated output size {oh}x{ow}")
    pads = ((ph, max(ph, (oh - 1) * sh + dh * (kh - 1) + 1 - h - ph)),
            (pw, max(pw, (ow - 1) * sw + dw * (kw - 1) + 1 - w - pw)))
    return Window2d((kh, kw), (sh, sw), pads, (dh, dw), (h, w), (oh, ow))
