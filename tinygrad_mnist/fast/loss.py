"""Cross-entropy, fast route: the backward (NLL's, then log-softmax's: the reference's formula) on arrays, from
the log-probabilities the forward computed (kept, so softmax is one ``exp``, not recomputed from
the logits through Tensor ops as the reference's differentiable backward does)."""
from __future__ import annotations

from ..backend import get_array_module
from ..ops.loss import CrossEntropy, cross_entropy_forward
from . import route


@route(CrossEntropy)
class CrossEntropyArrays(CrossEntropy):
    @staticmethod
    def accepts(x, target, weight=None, ignore_index=-100, reduction="mean"):
        return True

    @staticmethod
    def forward(ctx, x, target, weight=None, ignore_index=-100, reduction="mean"):
        out, log_probs = cross_entropy_forward(ctx, x, target, weight, ignore_index, reduction)
        ctx.save_arrays(log_probs)
        return out

    @staticmethod
    def fast_backward(ctx, g):
        (log_probs,) = ctx.saved_arrays                                  # classes last
        _, safe, w_t = ctx.saved_values
        xp = get_array_module(log_probs)
        scale = g / ctx.denominator if ctx.reduction == "mean" else g   # (the engine runs backward quiet)
        scale = xp.where(w_t == 0, 0, w_t * scale)
        g_logp = xp.zeros(log_probs.shape, log_probs.dtype)              # NLL's gradient: -scale at the target
        rows = g_logp.reshape(-1, g_logp.shape[-1])
        rows[xp.arange(rows.shape[0]), safe.reshape(-1)] = -scale.reshape(-1)
        grad = g_logp - xp.exp(log_probs) * g_logp.sum(axis=-1, keepdims=True)   # log_softmax's
        return (grad if grad.ndim == 2 else xp.moveaxis(grad, -1, 1)), None
