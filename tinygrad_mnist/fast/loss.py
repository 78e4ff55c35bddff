"""Cross-entropy, fast route: the backward on arrays, from the log-probabilities the forward computed
(kept, so softmax is one ``exp``, not recomputed from the logits through Tensor ops as the
reference's differentiable backward does).

The reference goes through NLL's gradient (``-s`` at the target, 0 elsewhere) and then
log-softmax's, ``g - softmax * sum(g)``; the sum of that one-entry row is ``-s``, so this route
writes the result directly: ``softmax * s`` everywhere, minus ``s`` at the target. The same
values, inf and NaN included (only a zero's sign may differ: an ignored position's target gets
+0.0, as in PyTorch, where the reference's scatter leaves -0.0).
"""
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
        _, safe, w_t, ignored = ctx.saved_values
        xp = get_array_module(log_probs)
        scale = g / ctx.denominator if ctx.reduction == "mean" else g   # (the engine runs backward quiet)
        scale = xp.where(ignored, 0, w_t * scale)                        # s per position
        grad = xp.ascontiguousarray(xp.exp(log_probs) * scale[..., None])   # softmax * s
        rows = grad.reshape(-1, grad.shape[-1])                          # a view: grad is contiguous
        rows[xp.arange(rows.shape[0]), safe.reshape(-1)] -= scale.reshape(-1)   # minus s at the target
        return (grad if grad.ndim == 2 else xp.moveaxis(grad, -1, 1)), None
