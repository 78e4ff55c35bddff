"""The affine map of a fully connected layer, as one op: ``y = x @ W^T + b``.

One fused Function instead of ``Transpose``, ``Matmul`` and a broadcast ``Add``: three graph nodes
become one, no transposed copy of ``W`` is kept, and the bias gradient is a plain column sum.
"""
from __future__ import annotations

from ..autograd import Function


class Linear(Function):
    """``x`` (..., in), ``W`` (out, in), optional ``b`` (out,) -> (..., out).

    Backward, with the batch dimensions of ``x`` and ``g`` flattened into one (rows):
    dx = g @ W, dW = g^T @ x, db = sum of g over the rows.
    """

    def forward(self, x, w, b=None):
        self.save_for_backward(x, w)
        self.has_bias = b is not None
        out = x @ w.T
        if b is not None:
            out += b                                                 # out is a fresh array
        return out

    def backward(self, g):
        x, w = self.saved_tensors
        needs = self.needs_input_grad
        gx = g @ w if needs[0] else None                             # (..., out) @ (out, in)
        gw = gb = None
        if needs[1] or (self.has_bias and needs[2]):
            g2 = g.reshape(-1, g.shape[-1]) if g.ndim != 2 else g    # rows x out
            if needs[1]:
                x2 = x.reshape(-1, x.shape[-1]) if x.ndim != 2 else x
                gw = g2.T @ x2                                       # (out, rows) @ (rows, in)
            if self.has_bias and needs[2]:
                gb = g2.sum(axis=0)
        return (gx, gw, gb) if self.has_bias else (gx, gw)
