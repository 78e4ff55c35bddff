"""Movement ops: change shape, select or place elements, without arithmetic.

Their backward sends each output element's gradient back to where that element came from:
reshape back, permute back, sum over broadcast copies (expand), or place into zeros (indexing,
gather, padding, cat). Selecting and placing are each other's backward, so second derivatives
follow: the backward of ``a[index]`` places into zeros (``IndexPut``), whose backward selects
``g[index]`` again; ``gather`` and ``scatter_add`` likewise.
"""
from __future__ import annotations

from ..autograd.function import Op
from ..backend import device_of, get_array_module, scatter_add, scatter_multiply, to_device


class Reshape(Op):
    _view = True

    @staticmethod
    def forward(ctx, a, shape):
        ctx.in_shape = a.shape
        return a.reshape(shape)

    @staticmethod
    def backward(ctx, g):
        return g.reshape(ctx.in_shape)


class View(Reshape):
    """``view``: the same as reshape here (a NumPy array need not be contiguous to be viewed)."""


class Flatten(Reshape):
    pass


class Squeeze(Reshape):
    pass


class Unsqueeze(Reshape):
    pass


class Permute(Op):
    _view = True

    @staticmethod
    def forward(ctx, a, dims):
        ctx.inverse = tuple(sorted(range(len(dims)), key=dims.__getitem__))
        return a.transpose(dims)

    @staticmethod
    def backward(ctx, g):
        return g.permute(ctx.inverse)


class Transpose(Permute):
    pass


class Expand(Op):
    _view = True

    @staticmethod
    def forward(ctx, a, shape):
        ctx.in_shape = a.shape
        return get_array_module(a).broadcast_to(a, shape)

    @staticmethod
    def backward(ctx, g):
        return g.sum_to_size(ctx.in_shape)                            # the copies' gradients add up


class Index(Op):
    """``a[index]`` with ints, slices, None, Ellipsis, integer arrays or boolean masks (as positions)."""

    _view = True

    @staticmethod
    def forward(ctx, a, index):
        ctx.in_shape, ctx.index = a.shape, index
        return a[index]

    @staticmethod
    def backward(ctx, g):
        # place into zeros; an element picked twice (a repeated index) gets both gradients
        return IndexPut.apply(g.new_zeros(ctx.in_shape), g, index=ctx.index, accumulate=True)


class IndexPut(Op):
    """``base`` with ``values`` written at ``index`` (``accumulate``: added, repeats adding up)."""

    @staticmethod
    def forward(ctx, base, values, index, accumulate=False):
        ctx.index, ctx.accumulate, ctx.values_shape = index, accumulate, values.shape
        out = base.copy()
        if accumulate:
            scatter_add(out, index, values)
        else:
            out[index] = values
        return out

    @staticmethod
    def backward(ctx, g):
        grad_base = None
        if ctx.needs_input_grad[0]:
            # overwritten positions got no gradient through base
            grad_base = g if ctx.accumulate else IndexPut.apply(g, g.new_zeros(()), index=ctx.index)
        grad_values = Index.apply(g, index=ctx.index).sum_to_size(ctx.values_shape) \
            if ctx.needs_input_grad[1] else None
        return grad_base, grad_values


def _along(index, dim):
    """The full index tuple addressing ``a[..., index[...], ...]`` along ``dim`` (gather/scatter)."""
    xp = get_array_module(index)
    grids = xp.indices(index.shape, sparse=True)
    return tuple(index if d == dim else grids[d] for d in range(index.ndim))


def _leading(shape, index_shape, dim):
    """The part of an array of ``shape`` that an index of ``index_shape`` covers (all of ``dim``)."""
    return tuple(slice(None) if d == dim else slice(0, index_shape[d]) for d in range(len(shape)))


class Gather(Op):
    """``out[i][j] = a[index[i][j]][j]`` along ``dim`` (torch.gather); index is a constant."""

    @staticmethod
    def forward(ctx, a, index, dim):
        ctx.save_for_backward(index)
        ctx.dim, ctx.in_shape = dim, a.shape
        return a[_along(index, dim)]

    @staticmethod
    def backward(ctx, g):
        (index,) = ctx.saved_tensors
        return g.new_zeros(ctx.in_shape).scatter_add(ctx.dim, index, g), None


class Scatter(Op):
    """``base`` with ``src[i][j]`` written at ``[index[i][j]][j]`` along ``dim`` (torch.scatter)."""

    @staticmethod
    def forward(ctx, base, index, src, dim):
        ctx.save_for_backward(index)
        ctx.dim, ctx.src_shape = dim, src.shape
        out = base.copy()
        out[_along(index, dim)] = src[_leading(src.shape, index.shape, dim)]
        return out

    @staticmethod
    def backward(ctx, g):
        (index,) = ctx.saved_tensors
        grad_base = g.scatter(ctx.dim, index, g.new_zeros(index.shape)) if ctx.needs_input_grad[0] else None
        grad_src = _src_grad(g, index, ctx.dim, ctx.src_shape) if ctx.needs_input_grad[2] else None
        return grad_base, None, grad_src


class ScatterAdd(Op):
    """``base`` with ``src[i][j]`` added at ``[index[i][j]][j]`` along ``dim``; repeats add up."""

    @staticmethod
    def forward(ctx, base, index, src, dim):
        ctx.save_for_backward(index)
        ctx.dim, ctx.src_shape = dim, src.shape
        out = base.copy()
        scatter_add(out, _along(index, dim), src[_leading(src.shape, index.shape, dim)])
        return out

    @staticmethod
    def backward(ctx, g):
        (index,) = ctx.saved_tensors
        grad_src = _src_grad(g, index, ctx.dim, ctx.src_shape) if ctx.needs_input_grad[2] else None
        return g, None, grad_src


def _src_grad(g, index, dim, src_shape):
    """The gradient of a scatter's ``src``: the output gradient gathered back (zero where unused)."""
    picked = g.gather(dim, index)
    if tuple(picked.shape) == tuple(src_shape):
        return picked
    return IndexPut.apply(g.new_zeros(src_shape), picked, index=_leading(src_shape, index.shape, dim))


class Pad(Op):
    """Constant padding; ``pad`` is PyTorch's flat tuple (last dim first: left, right, top, bottom...).

    Negative amounts crop, as in PyTorch; so the backward is the same op with the amounts negated.
    """

    @staticmethod
    def forward(ctx, a, pad, value=0.0):
        xp = get_array_module(a)
        before, after = [0] * a.ndim, [0] * a.ndim
        for i in range(len(pad) // 2):
            before[a.ndim - 1 - i], after[a.ndim - 1 - i] = pad[2 * i], pad[2 * i + 1]
        out_shape = tuple(n + b + e for n, b, e in zip(a.shape, before, after))
        if any(n < 0 for n in out_shape):
            raise RuntimeError(f"pad: padding {tuple(pad)} gives a negative output size {out_shape} "
                               f"for input of shape {a.shape}")
        ctx.pad = pad
        out = xp.full(out_shape, value, dtype=a.dtype)
        # where the input lands in the output, and which part of the input survives cropping
        out_region = tuple(slice(max(b, 0), max(b, 0) + n + min(b, 0) + min(e, 0))
                           for n, b, e in zip(a.shape, before, after))
        in_region = tuple(slice(max(-b, 0), n - max(-e, 0)) for n, b, e in zip(a.shape, before, after))
        out[out_region] = a[in_region]
        return out

    @staticmethod
    def backward(ctx, g):
        return Pad.apply(g, pad=tuple(-p for p in ctx.pad), value=0.0)  # crop what was padded, and back


class Cat(Op):
    @staticmethod
    def forward(ctx, *arrays, dim):
        ctx.sizes, ctx.dim = [a.shape[dim] for a in arrays], dim
        return get_array_module(arrays[0]).concatenate(arrays, axis=dim)

    @staticmethod
    def backward(ctx, g):
        grads, start = [], 0
        for size in ctx.sizes:
            grads.append(g.narrow(ctx.dim, start, size))
            start += size
        return tuple(grads)


class Stack(Op):
    @staticmethod
    def forward(ctx, *arrays, dim):
        ctx.dim, ctx.count = dim, len(arrays)
        return get_array_module(arrays[0]).stack(arrays, axis=dim)

    @staticmethod
    def backward(ctx, g):
        return tuple(g.select(ctx.dim, i) for i in range(ctx.count))


class ToDevice(Op):
    """Move to another device; the gradient moves back."""

    @staticmethod
    def forward(ctx, a, device):
        ctx.source = device_of(a)
        return to_device(a, device)

    @staticmethod
    def backward(ctx, g):
        return g.to(ctx.source)


class ScatterReduce(Op):
    """``scatter(..., reduce="add" | "multiply")``: ``src`` added to or multiplied into ``base`` at
    ``index`` along ``dim``. PyTorch defines no derivative for it; backward raises, as there."""

    @staticmethod
    def forward(ctx, base, index, src, dim, reduce):
        out = base.copy()
        where = _along(index, dim)
        values = src[_leading(src.shape, index.shape, dim)]
        if reduce == "add":
            scatter_add(out, where, values)
        else:
            scatter_multiply(out, where, values)
        return out

    @staticmethod
    def backward(ctx, g):
        raise RuntimeError("the derivative for 'scatter' with reduce= is not implemented")
