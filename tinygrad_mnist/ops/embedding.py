"""Embedding: a lookup of rows of a weight matrix by integer indices (``F.embedding``).

out[..., :] = weight[indices[...], :]. The backward adds each output row's gradient into the row
it came from (``index_put`` with accumulate: a row used twice gets both), except for
``padding_idx``, whose row gets no gradient at all (PyTorch's rule), and, with
``scale_grad_by_freq``, divided by how often that index occurs in the batch.
"""
from __future__ import annotations

from ..autograd.function import Op
from ..backend import get_array_module


class Embedding(Op):
    @staticmethod
    def forward(ctx, weight, indices, padding_idx=None, scale_grad_by_freq=False):
        xp = get_array_module(weight)
        ctx.weight_shape, ctx.padding_idx = weight.shape, padding_idx
        freq = None
        if scale_grad_by_freq:     # a constant: each position's count of its index in this batch
            counts = xp.bincount(indices.ravel(), minlength=weight.shape[0])
            freq = counts[indices].astype(weight.dtype)[..., None]
        ctx.save_for_backward(indices, freq)
        return weight[indices]

    @staticmethod
    def backward(ctx, g):
        indices, freq = ctx.saved_tensors
        if ctx.padding_idx is not None:
            g = g.masked_fill((indices == ctx.padding_idx).unsqueeze(-1), 0)
        if freq is not None:
            g = g / freq
        return g.new_zeros(ctx.weight_shape).index_put((indices,), g, accumulate=True), None
