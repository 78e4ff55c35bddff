"""Losses: fused cross-entropy, negative log-likelihood, mean squared error.

``CrossEntropy`` is one op, log-softmax and NLL fused and computed the stable way: with
``z = x - max(x)`` over the classes, ``log_softmax(x) = z - log(sum(exp(z)))``, so no ``exp`` ever
overflows, and its gradient is the classic ``(softmax(x) - onehot(target)) * w_t * upstream``
(divided by sum(w_t) for 'mean').

Class dimension and targets, as in PyTorch: input (N, C) with target (N,); input (N, C, d1, ...)
with target (N, d1, ...). The entry points (``nn/functional.py``) check shapes and target values
first. ``w_t[i] = weight[target[i]]`` (1 without weights); a position whose target is
``ignore_index`` weighs 0 and contributes exactly 0 to the loss and the gradient, whatever its
input holds (even -inf); 'mean' divides by sum(w_t) (NaN when every target is ignored, with a
zero gradient, as PyTorch). On the GPU an out-of-range target is not checked on the host (that
would cost a sync every step): it gets a NaN loss and gradient instead of another class's.
"""
from __future__ import annotations

from ..autograd.function import Op
from ..backend import get_array_module, is_cupy_array
from .elementwise import _quiet


def _class_last(x):
    """View an (N, C, d1, ...) array as (N, d1, ..., C): the class axis last."""
    return x if x.ndim == 2 else get_array_module(x).moveaxis(x, 1, -1)


def target_weights(x, target, weight, ignore_index):
    """(safe targets, w_t, ignored) for class-last logits ``x``: ignored positions index class 0
    and weigh 0; on the GPU an out-of-range target also indexes class 0, with w_t NaN."""
    xp = get_array_module(x)
    ignored = target == ignore_index
    unused = ignored
    invalid = None
    if is_cupy_array(x):  # not checked on the host: keep bad targets from wrapping
        invalid = ~ignored & ((target < 0) | (target >= x.shape[-1]))
        unused = ignored | invalid
    safe = xp.where(unused, 0, target)
    w_t = (~unused).astype(x.dtype) if weight is None else xp.where(unused, 0, weight.astype(x.dtype)[safe])
    if invalid is not None:
        w_t = xp.where(invalid, xp.nan, w_t)
    return safe, w_t, ignored


def pick(values, index):
    """``values[..., index]`` at each position: the entry of the last axis (the classes) that
    ``index`` names, one per position of ``index`` (shaped like it)."""
    rows = values.reshape(-1, values.shape[-1])
    return rows[get_array_module(values).arange(rows.shape[0]), index.reshape(-1)].reshape(index.shape)


def reduce_losses(ctx, losses, w_t, reduction):
    """'none', 'sum', or 'mean' weighted by w_t; remembers the denominator for backward."""
    ctx.reduction = reduction
    if reduction == "none":
        return losses
    if reduction == "sum":
        return losses.sum()
    ctx.denominator = w_t.sum()
    return losses.sum() / ctx.denominator   # NaN when every target is ignored (callers run it quiet)


def loss_scale(ctx, g, w_t, ignored):
    """d loss / d loss_i for every position (a Tensor): the upstream gradient times w_t; exactly 0
    at an ignored position, even for an inf upstream (a class weight of 0 is a product, as in
    PyTorch: 0 * inf is NaN)."""
    if ctx.reduction == "mean":
        g = g / float(ctx.denominator)
    return (g * w_t).masked_fill(ignored, 0)


def nll_gradient(ctx, g, safe, w_t, ignored, shape):
    """NLL's gradient for an input of ``shape`` (N, C, d...): -loss_scale at each position's target
    class, 0 at every other class (a scatter along dim 1: selected, never multiplied)."""
    return g.new_zeros(shape).scatter(1, safe.unsqueeze(1), (-loss_scale(ctx, g, w_t, ignored)).unsqueeze(1))


class CrossEntropy(Op):
    """loss_i = -w_t[i] * log_softmax(x_i)[t_i];  d loss_i / d x_i = w_t[i] (softmax(x_i) - onehot(t_i)),
    computed as PyTorch does, through NLL's gradient and then log-softmax's (the same NaN where an
    infinite upstream meets it)."""

    @staticmethod
    def forward(ctx, x, target, weight=None, ignore_index=-100, reduction="mean"):
        return cross_entropy_forward(ctx, x, target, weight, ignore_index, reduction)[0]

    @staticmethod
    def backward(ctx, g):
        x, safe, w_t, ignored = ctx.saved_tensors
        g_logp = nll_gradient(ctx, g, safe, w_t, ignored, x.shape)             # through NLL
        return g_logp - x.softmax(1) * g_logp.sum(1, keepdim=True), None   # through log_softmax


def cross_entropy_forward(ctx, x, target, weight, ignore_index, reduction):
    """(the loss, the class-last log-probabilities): CrossEntropy's forward, shared with its fast route."""
    xp = get_array_module(x)
    xl = _class_last(x)
    with _quiet(xp):
        z = xl - xl.max(axis=-1, keepdims=True)                 # max subtraction: exp(z) <= 1
        log_probs = z - xp.log(xp.exp(z).sum(axis=-1, keepdims=True))
        safe, w_t, ignored = target_weights(xl, target, weight, ignore_index)
        ctx.save_for_backward(x, safe, w_t, ignored)
        losses = xp.where(ignored, 0, -pick(log_probs, safe) * w_t)
        return reduce_losses(ctx, losses, w_t, reduction), log_probs


class NLLLoss(Op):
    """loss_i = -w_t[i] * x_i[t_i] for log-probabilities ``x``; the gradient is -w_t[i] at t_i, 0 elsewhere."""

    @staticmethod
    def forward(ctx, x, target, weight=None, ignore_index=-100, reduction="mean"):
        xp = get_array_module(x)
        xl = _class_last(x)
        safe, w_t, ignored = target_weights(xl, target, weight, ignore_index)
        ctx.save_for_backward(safe, w_t, ignored)
        ctx.in_shape = x.shape
        with _quiet(xp):
            return reduce_losses(ctx, xp.where(ignored, 0, -pick(xl, safe) * w_t), w_t, reduction)

    @staticmethod
    def backward(ctx, g):
        safe, w_t, ignored = ctx.saved_tensors
        return nll_gradient(ctx, g, safe, w_t, ignored, ctx.in_shape), None


class MSELoss(Op):
    """mean/sum/none of (a - b)^2 (a and b broadcast); d/da = 2 (a - b), d/db = -2 (a - b)."""

    @staticmethod
    def forward(ctx, a, b, reduction="mean"):
        ctx.save_for_backward(a, b)
        ctx.reduction = reduction
        diff = a - b
        sq = diff * diff
        if reduction == "none":
            return sq
        return sq.sum() if reduction == "sum" else sq.mean()

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        diff = a - b
        if ctx.reduction == "mean":
            g = g / diff.numel()
        ga = 2 * diff * g
        return (ga.sum_to_size(a.shape) if ctx.needs_input_grad[0] else None,
                (-ga).sum_to_size(b.shape) if ctx.needs_input_grad[1] else None)


class BinaryCrossEntropy(Op):
    """loss_i = -w_i (t_i log x_i + (1 - t_i) log(1 - x_i)) for probabilities x, each log at least
    -100 (PyTorch's floor: a saturated 0 or 1 gives a finite loss).

    d/dx = w (x - t) / max(x (1 - x), 1e-12) (PyTorch's guard, so a saturated x gives a finite
    gradient; its 1e-12 is a float32 constant, so is ours); d/dt = -w logit(x). The weight is a
    constant.
    """

    EPSILON = 9.999999960041972e-13                                   # float32(1e-12), as PyTorch

    @staticmethod
    def forward(ctx, x, t, w=None, reduction="mean"):
        xp = get_array_module(x)
        ctx.save_for_backward(x, t, w)
        ctx.reduction, ctx.count = reduction, x.size
        with _quiet(xp):
            losses = (t - 1) * xp.maximum(xp.log1p(-x), -100) - t * xp.maximum(xp.log(x), -100)
        if w is not None:
            losses = losses * w
        if reduction == "none":
            return losses
        return losses.sum() if reduction == "sum" else losses.mean()

    @staticmethod
    def backward(ctx, g):
        x, t, w = ctx.saved_tensors
        if ctx.reduction == "mean":
            g = g / ctx.count
        scale = g if w is None else g * w
        gx = scale * (x - t) / ((1 - x) * x).clamp(min=BinaryCrossEntropy.EPSILON) if ctx.needs_input_grad[0] else None
        gt = scale * -(x / (1 - x)).log() if ctx.needs_input_grad[1] else None
        return gx, gt, None
