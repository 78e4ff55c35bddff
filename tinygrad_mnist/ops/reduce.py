"""Reductions: sum, mean, max/min (whole tensor or along dims), amax/amin.

Backward of a reduction broadcasts the output gradient back over the reduced dimensions: the
gradient is reshaped to the kept-dims shape (``keepdim=True`` form) and broadcast to the input.
"""
from __future__ import annotations

from ..autograd import Function
from ..backend import get_array_module


def _keepdims_shape(in_shape, axes):
    if axes is None:
        return (1,) * len(in_shape)
    return tuple(1 if i in axes else n for i, n in enumerate(in_shape))


def _expand_back(g, in_shape, axes):
    """The gradient of a reduction, broadcast back to the input shape (a read-only view)."""
    return get_array_module(g).broadcast_to(g.reshape(_keepdims_shape(in_shape, axes)), in_shape)


class Sum(Function):
    def forward(self, a, axes=None, keepdim=False):
        self.in_shape, self.axes = a.shape, axes
        return a.sum(axis=axes, keepdims=keepdim)

    def backward(self, g):
        return _expand_back(g, self.in_shape, self.axes)             # d sum / d a_i = 1


class Mean(Function):
    def forward(self, a, axes=None, keepdim=False):
        self.in_shape, self.axes = a.shape, axes
        out = a.mean(axis=axes, keepdims=keepdim)
        self.count = a.size // max(out.size, 1) if a.size else 0
        return out

    def backward(self, g):
        return _expand_back(g / self.count, self.in_shape, self.axes)  # d mean / d a_i = 1/n


class _Extreme(Function):
    """max/min over the whole tensor or over ``axes``; ties share the gradient evenly.

    That is what PyTorch does for ``max()``/``min()`` without ``dim`` and for ``amax``/``amin``.
    """

    reducer = None  # "max" or "min"

    def forward(self, a, axes=None, keepdim=False):
        if a.size == 0:
            raise RuntimeError(f"{self.reducer}(): expected a non-empty tensor, got shape {a.shape}")
        out = getattr(a, self.reducer)(axis=axes, keepdims=True)
        self.save_for_backward(a == out)
        self.in_shape, self.axes = a.shape, axes
        return out if keepdim else out.reshape([n for i, n in enumerate(out.shape)
                                                if axes is not None and i not in axes])

    def backward(self, g):
        (hit,) = self.saved_tensors
        g = g.reshape(_keepdims_shape(self.in_shape, self.axes))
        count = hit.sum(axis=self.axes, keepdims=True).astype(g.dtype)
        return hit * (g / count)


class Max(_Extreme):
    reducer = "max"


class Min(_Extreme):
    reducer = "min"


class _ExtremeDim(Function):
    """``max(dim)``/``min(dim)`` values: the gradient goes to the one index that was returned.

    The caller passes the indices (``argmax``/``argmin``: the first extreme along ``dim``, which
    is also the index PyTorch returns and sends the gradient to), kept-dims shaped.
    """

    def forward(self, a, indices, dim, keepdim=False):
        self.save_for_backward(indices)
        self.in_shape, self.dim = a.shape, dim
        out = get_array_module(a).take_along_axis(a, indices, axis=dim)
        return out if keepdim else out.squeeze(dim)

    def backward(self, g):
        (indices,) = self.saved_tensors
        xp = get_array_module(g)
        shape = [1] * len(self.in_shape)
        shape[self.dim] = self.in_shape[self.dim]
        positions = xp.arange(self.in_shape[self.dim]).reshape(shape)
        if g.ndim < len(self.in_shape):
            g = xp.expand_dims(g, self.dim)
        return (positions == indices) * g                            # one-hot at the chosen index


class MaxDim(_ExtremeDim):
    pass


class MinDim(_ExtremeDim):
    pass
