"""Matrix product with NumPy's ``matmul`` semantics (1-D, 2-D and batched with broadcasting)."""
from __future__ import annotations

from ..autograd import Function, unbroadcast


class Matmul(Function):
    """``a @ b``. For 2-D: d/da = g @ b^T and d/db = a^T @ g.

    1-D operands are promoted to matrices (a row vector for ``a``, a column for ``b``) for the
    backward, and batch dimensions that were broadcast are summed back by ``unbroadcast``.
    """

    def forward(self, a, b):
        if a.ndim == 0 or b.ndim == 0:
            raise RuntimeError(f"matmul: both arguments need to be at least 1-D, got shapes {a.shape} and {b.shape}")
        if a.shape[-1] != b.shape[-2 if b.ndim > 1 else 0]:
            raise RuntimeError(f"matmul: shapes {a.shape} and {b.shape} cannot be multiplied "
                               f"({a.shape[-1]} != {b.shape[-2 if b.ndim > 1 else 0]})")
        self.save_for_backward(a, b)
        return a @ b

    def backward(self, g):
        a, b = self.saved_tensors
        a2 = a.reshape(1, -1) if a.ndim == 1 else a
        b2 = b.reshape(-1, 1) if b.ndim == 1 else b
        # restore the dimensions that 1-D operands dropped from the output
        if a.ndim == 1 and b.ndim == 1:
            g = g.reshape(1, 1)
        elif a.ndim == 1:
            g = g[..., None, :]
        elif b.ndim == 1:
            g = g[..., None]
        ga = gb = None
        if self.needs_input_grad[0]:
            ga = unbroadcast(g @ b2.swapaxes(-1, -2), a2.shape).reshape(a.shape)
        if self.needs_input_grad[1]:
            gb = unbroadcast(a2.swapaxes(-1, -2) @ g, b2.shape).reshape(b.shape)
        return ga, gb
