"""Activations that need an op of their own: a composition of Tensor ops would be unstable or
wrong at the edges (overflow in a branch that ``where`` does not pick, the value of a derivative at
a kink, a missing ``erf``/``log1p``/``expm1``).

The others are compositions in ``nn/functional.py``, which read as the math: ``leaky_relu`` is a
``where``, ``hardtanh`` two ``masked_fill``s, ``silu`` is ``x * sigmoid(x)``, ``gelu`` uses
:class:`Erf` (or ``tanh``), ``mish`` ``x * tanh(softplus(x))``.

As everywhere in ``ops/``: forward on arrays, backward with Tensor ops (differentiable again), and
where a derivative is zero or one on a region the gradient is *selected* (``where``), so that an
infinite upstream gradient or an overflowing unused branch gives no NaN.
"""
from __future__ import annotations

import math

from ..autograd.function import Op
from ..backend import get_array_module
from ..tensor import where
from .elementwise import _quiet

_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)


def erf_array(a):
    """erf of a NumPy or CuPy array, in its dtype.

    NumPy has no erf, and this package does not depend on SciPy: on the host each element goes
    through ``math.erf`` (the C library's, correctly rounded in practice), which is exact but runs
    at Python speed; on the GPU CuPy's own kernel.
    """
    xp = get_array_module(a)
    if xp is get_array_module("cpu"):
        return xp.frompyfunc(math.erf, 1, 1)(a).astype(a.dtype)
    from cupyx.scipy.special import erf  # the GPU: CuPy's elementwise kernel
    return erf(a)


class Erf(Op):
    """erf(a) = 2/sqrt(pi) * integral_0^a exp(-t^2) dt (for ``gelu``; private to nn.functional)."""

    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return erf_array(a)

    @staticmethod
    def backward(ctx, g):
        (a,) = ctx.saved_tensors
        return g * ((-(a * a)).exp() * _TWO_OVER_SQRT_PI)              # erf'(a) = 2/sqrt(pi) exp(-a^2)


class ELU(Op):
    """scale * a for a > 0, else scale * alpha * (exp(input_scale * a) - 1): ``elu``, ``selu``, ``celu``.

    The negative side is computed with ``expm1`` (exact near 0) of min(a, 0) (no overflow on the
    positive side, where it is not used).
    """

    @staticmethod
    def forward(ctx, a, alpha=1.0, scale=1.0, input_scale=1.0):
        xp = get_array_module(a)
        ctx.save_for_backward(a)
        ctx.coefs = alpha, scale, input_scale
        negative = xp.expm1(xp.minimum(a, 0) * input_scale) * (alpha * scale)
        return xp.where(a > 0, a * scale, negative).astype(a.dtype, copy=False)

    @staticmethod
    def backward(ctx, g):
        (a,) = ctx.saved_tensors
        alpha, scale, input_scale = ctx.coefs
        # for a <= 0 (as PyTorch, a = 0 takes this side): d/da = scale * alpha * input_scale * exp(input_scale * a);
        # exp of a masked to 0 from a = 0 on, so the second derivative at 0 is 0, as PyTorch's
        negative = g * ((a.masked_fill(a >= 0, 0) * input_scale).exp() * (alpha * scale * input_scale))
        return where(a > 0, g * scale, negative)


class Softplus(Op):
    """log(1 + exp(beta a)) / beta, and ``a`` itself where beta * a > threshold (PyTorch's cut-over)."""

    @staticmethod
    def forward(ctx, a, beta=1.0, threshold=20.0):
        xp = get_array_module(a)
        ctx.save_for_backward(a)
        ctx.beta, ctx.threshold = beta, threshold
        z = a * beta
        with _quiet(xp):                                              # exp overflows where a is kept
            smooth = xp.log1p(xp.exp(z)) / beta
        return xp.where(z > threshold, a, smooth).astype(a.dtype, copy=False)

    @staticmethod
    def backward(ctx, g):
        (a,) = ctx.saved_tensors
        z = a * ctx.beta
        return where(z > ctx.threshold, g, g * z.sigmoid())           # d/da = sigmoid(beta a); 1 past the cut


class LogSigmoid(Op):
    """log(sigmoid(a)) = min(a, 0) - log(1 + exp(-|a|)): no overflow, exact in both tails."""

    @staticmethod
    def forward(ctx, a):
        xp = get_array_module(a)
        ctx.save_for_backward(a)
        return xp.minimum(a, 0) - xp.log1p(xp.exp(-xp.abs(a)))

    @staticmethod
    def backward(ctx, g):
        (a,) = ctx.saved_tensors
        return g * (-a).sigmoid()                                     # d log sigma(a) = 1 - sigma(a) = sigma(-a)
