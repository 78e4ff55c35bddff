"""Matrix products: ``a @ b`` with NumPy's ``matmul`` semantics, and the affine map of a linear layer."""
from __future__ import annotations

import math

from ..autograd.function import Op
from ..backend import get_array_module


class Matmul(Op):
    """``a @ b``. For matrices: d/da = g @ b^T and d/db = a^T @ g.

    1-D operands are treated as matrices (a row vector for ``a``, a column for ``b``) and the
    batch dimensions that were broadcast are summed back.
    """

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return a @ b

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        a2 = a.unsqueeze(0) if a.ndim == 1 else a
        b2 = b.unsqueeze(-1) if b.ndim == 1 else b
        if a.ndim == 1 and b.ndim == 1:        # put back the dimensions the 1-D operands dropped
            g = g.reshape(1, 1)
        elif a.ndim == 1:
            g = g.unsqueeze(-2)
        elif b.ndim == 1:
            g = g.unsqueeze(-1)
        ga = (g @ b2.mT).sum_to_size(a2.shape).reshape(a.shape) if ctx.needs_input_grad[0] else None
        gb = (a2.mT @ g).sum_to_size(b2.shape).reshape(b.shape) if ctx.needs_input_grad[1] else None
        return ga, gb


class Linear(Op):
    """``y = x @ W^T + b``: x (..., in), W (out, in), optional b (out,) -> (..., out).

    One node instead of a transpose, a product and a broadcast add. With the batch dimensions of
    x and g flattened into rows: dx = g @ W, dW = g^T @ x, db = the column sums of g.
    """

    @staticmethod
    def forward(ctx, x, w, b=None):
        ctx.save_for_backward(x, w)
        ctx.has_bias = b is not None
        out = x @ w.T
        return out if b is None else out + b

    @staticmethod
    def backward(ctx, g):
        x, w = ctx.saved_tensors
        needs = ctx.needs_input_grad
        n = math.prod(x.shape[:-1])
        rows = g.reshape(n, g.shape[-1])                                  # (rows, out)
        gx = g @ w if needs[0] else None                                  # (..., out) @ (out, in)
        gw = rows.mT @ x.reshape(n, x.shape[-1]) if needs[1] else None    # (out, rows) @ (rows, in)
        if not ctx.has_bias:
            return gx, gw
        return gx, gw, (rows.sum(0) if needs[2] else None)


class Einsum(Op):
    """``einsum("ij,jk->ik", a, b)`` on operands whose subscripts repeat no letter within one
    operand and whose sizes agree (``tg.einsum`` takes diagonals and broadcasts first).

    The gradient of operand k is itself an einsum: of g with the other operands, to operand k's
    subscripts. A letter only operand k has (summed away in the forward) gets the gradient
    broadcast over it.
    """

    @staticmethod
    def forward(ctx, *arrays, inputs, output):
        xp = get_array_module(arrays[0])
        ctx.save_for_backward(*arrays)
        ctx.inputs, ctx.output = inputs, output
        return xp.asarray(xp.einsum(",".join(inputs) + "->" + output, *arrays))

    @staticmethod
    def backward(ctx, g):
        operands = ctx.saved_tensors
        grads = []
        for k, (subs, t) in enumerate(zip(ctx.inputs, operands)):
            if not ctx.needs_input_grad[k]:
                grads.append(None)
                continue
            others = [(s, o) for j, (s, o) in enumerate(zip(ctx.inputs, operands)) if j != k]
            elsewhere = ctx.output + "".join(s for s, _ in others)
            kept = "".join(c for c in subs if c in elsewhere)
            grad = Einsum.apply(g, *[o for _, o in others], inputs=[ctx.output] + [s for s, _ in others], output=kept)
            if kept != subs:  # letters only this operand had: the gradient is the same along them
                grad = grad.reshape(tuple(n if c in kept else 1 for c, n in zip(subs, t.shape))).expand(t.shape)
            grads.append(grad)
        return tuple(grads)
