"""Movement ops: change shape or select elements without arithmetic.

Their backward routes the gradient to where each output element came from: reshape back,
permute back, sum over broadcast (expand), or write into a zero tensor (indexing, padding, cat).
"""
from __future__ import annotations

from ..autograd import Function, unbroadcast
from ..backend import device_of, get_array_module, scatter_add, to_device


class Reshape(Function):
    def forward(self, a, shape):
        self.in_shape = a.shape
        return a.reshape(shape)

    def backward(self, g):
        return g.reshape(self.in_shape)


class View(Reshape):
    """``view``: here the same as reshape (NumPy arrays need not be contiguous to be viewed)."""


class Flatten(Reshape):
    pass


class Squeeze(Reshape):
    pass


class Unsqueeze(Reshape):
    pass


class Permute(Function):
    def forward(self, a, dims):
        self.inverse = tuple(sorted(range(len(dims)), key=dims.__getitem__))
        return a.transpose(dims)

    def backward(self, g):
        return g.transpose(self.inverse)


class Transpose(Permute):
    pass


class Expand(Function):
    def forward(self, a, shape):
        self.in_shape = a.shape
        return get_array_module(a).broadcast_to(a, shape)

    def backward(self, g):
        return unbroadcast(g, self.in_shape)                         # copies summed back


def _has_array_index(index):
    return any(hasattr(i, "shape") and i.ndim > 0 or isinstance(i, (list, tuple))
               for i in (index if isinstance(index, tuple) else (index,)))


class Index(Function):
    """``a[index]`` with ints, slices, None, Ellipsis, integer arrays or boolean masks."""

    def forward(self, a, index):
        self.in_shape, self.in_dtype, self.index = a.shape, a.dtype, index
        self.advanced = _has_array_index(index)
        return a[index]

    def backward(self, g):
        xp = get_array_module(g)
        ga = xp.zeros(self.in_shape, dtype=self.in_dtype)
        if self.advanced:
            scatter_add(ga, self.index, g)                           # repeated indices add up
        else:
            ga[self.index] = g                                       # basic slicing never repeats
        return ga


class Pad(Function):
    """Constant padding; ``pad`` is PyTorch's flat tuple (last dim first: left, right, top, bottom...).

    Negative amounts crop, as in PyTorch.
    """

    def forward(self, a, pad, value=0.0):
        xp = get_array_module(a)
        ndim = a.ndim
        before = [0] * ndim
        after = [0] * ndim
        for i in range(len(pad) // 2):
            before[ndim - 1 - i], after[ndim - 1 - i] = pad[2 * i], pad[2 * i + 1]
        out_shape = tuple(n + b + e for n, b, e in zip(a.shape, before, after))
        if any(n < 0 for n in out_shape):
            raise RuntimeError(f"pad: padding {tuple(pad)} gives a negative output size {out_shape} "
                               f"for input of shape {a.shape}")
        # where the input lands in the output, and which part of the input survives cropping
        self.out_region = tuple(slice(max(b, 0), max(b, 0) + n + min(b, 0) + min(e, 0))
                                for n, b, e in zip(a.shape, before, after))
        self.in_region = tuple(slice(max(-b, 0), n - max(-e, 0))
                               for n, b, e in zip(a.shape, before, after))
        self.in_shape = a.shape
        self.cropped = any(b < 0 or e < 0 for b, e in zip(before, after))
        out = xp.full(out_shape, value, dtype=a.dtype)
        out[self.out_region] = a[self.in_region]
        return out

    def backward(self, g):
        if not self.cropped:
            return g[self.out_region]
        ga = get_array_module(g).zeros(self.in_shape, dtype=g.dtype)
        ga[self.in_region] = g[self.out_region]
        return ga


class Cat(Function):
    def forward(self, *arrays, dim):
        self.sizes = [a.shape[dim] for a in arrays]
        self.dim = dim
        return get_array_module(arrays[0]).concatenate(arrays, axis=dim)

    def backward(self, g):
        grads, start = [], 0
        for size in self.sizes:
            index = [slice(None)] * g.ndim
            index[self.dim] = slice(start, start + size)
            grads.append(g[tuple(index)])
            start += size
        return tuple(grads)


class Stack(Function):
    def forward(self, *arrays, dim):
        self.dim = dim
        return get_array_module(arrays[0]).stack(arrays, axis=dim)

    def backward(self, g):
        xp = get_array_module(g)
        return tuple(xp.take(g, i, axis=self.dim) for i in range(g.shape[self.dim]))


class ToDevice(Function):
    """Move to another device; the gradient moves back."""

    def forward(self, a, device):
        self.source = device_of(a)
        return to_device(a, device)

    def backward(self, g):
        return to_device(g, self.source)
