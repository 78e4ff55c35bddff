"""Adam (and AMSGrad), with L2 weight decay or decoupled weight decay (AdamW), as ``torch.optim.Adam``."""
from __future__ import annotations

from .. import fast
from ..backend import get_array_module
from ..fast import optim as fast_optim
from .optimizer import Optimizer, check_betas, check_flag, check_real, count_step, lerp, required, zeros_state

__all__ = ["Adam", "AdamW"]


def _check_adam(group):
    if group["lr"] is not required:
        check_real(group["lr"], "lr", "learning rate")
    check_real(group["eps"], "eps", "epsilon value")
    group["betas"] = check_betas(group["betas"])
    check_real(group["weight_decay"], "weight_decay", "weight_decay value")
    for name in ("amsgrad", "maximize", "decoupled_weight_decay"):
        check_flag(group[name], name)


class Adam(Optimizer):
    r"""Adam, with PyTorch's update rule (``torch.optim.Adam``; ``t`` counts this parameter's steps)::

        g = -grad if maximize else grad
        if weight_decay != 0:
            p = p * (1 - lr * weight_decay)  if decoupled_weight_decay (AdamW)  else  g = g + weight_decay * p
        m = lerp(m, g, 1 - beta1)                              m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g * g
        if amsgrad:  v_max = maximum(v_max, v);  v_hat = v_max  else  v_hat = v
        denom = sqrt(v_hat) / sqrt(1 - beta2**t) + eps          (eps after the bias correction)
        p = p - lr / (1 - beta1**t) * m / denom

    State per parameter, as PyTorch names it: ``step`` (a host float32 scalar tensor),
    ``exp_avg`` (m), ``exp_avg_sq`` (v) and, with amsgrad, ``max_exp_avg_sq``. Arithmetic in the
    parameter's dtype, in PyTorch's order. ``maximize`` and the options after it are
    keyword-only; ``foreach``, ``capturable`` and ``fused`` are accepted and ignored.
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, amsgrad=False, *,
                 foreach=None, maximize=False, capturable=False, differentiable=False, fused=None,
                 decoupled_weight_decay=False):
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, amsgrad=amsgrad,
                        maximize=maximize, foreach=foreach, capturable=capturable, differentiable=differentiable,
                        fused=fused, decoupled_weight_decay=decoupled_weight_decay)
        _check_adam(defaults)
        super().__init__(params, defaults)

    def _check_group(self, group):
        super()._check_group(group)
        _check_adam(group)

    def _update(self, p, g, group):
        lr, (beta1, beta2), eps = group["lr"], group["betas"], group["eps"]
        weight_decay, amsgrad, maximize = group["weight_decay"], group["amsgrad"], group["maximize"]
        decoupled = group["decoupled_weight_decay"]
        state = self.state[p]
        zeros_state(state, p, "exp_avg", "exp_avg_sq", *(("max_exp_avg_sq",) if amsgrad else ()))
        t = count_step(state)
        m, v = state["exp_avg"].array, state["exp_avg_sq"].array
        v_max = state["max_exp_avg_sq"].array if amsgrad else None
        if fast.is_enabled():  # the same numbers, in place (fast/optim.py)
            fast_optim.adam_(p.array, g, m, v, v_max, step=t, lr=lr, beta1=beta1, beta2=beta2, eps=eps,
                             weight_decay=weight_decay, maximize=maximize, decoupled_weight_decay=decoupled)
            return

        xp = get_array_module(p.array)
        w = p.array
        if maximize:
            g = -g
        if weight_decay != 0 and decoupled:
            w[...] = w * (1 - lr * weight_decay)
        elif weight_decay != 0:
            g = g + weight_decay * w
        m[...] = lerp(m, g, 1 - beta1)
        v[...] = beta2 * v + (1 - beta2) * g * g
        if amsgrad:
            v_max[...] = xp.maximum(v_max, v)
        v_hat = v_max if amsgrad else v
        denom = xp.sqrt(v_hat) / (1 - beta2 ** t) ** 0.5 + eps
        w[...] = w - lr / (1 - beta1 ** t) * m / denom  # in place: the parameter keeps its array


class AdamW(Adam):
    r"""Adam with decoupled weight decay (``torch.optim.AdamW``): ``Adam(..., decoupled_weight_decay=True)``.

    The decay shrinks the parameter directly, ``p = p * (1 - lr * weight_decay)``, before the Adam
    step, instead of adding ``weight_decay * p`` to the gradient (where the moment estimates would
    rescale it). The default ``weight_decay`` is 1e-2, as in PyTorch.
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2, amsgrad=False, *,
                 maximize=False, foreach=None, capturable=False, differentiable=False, fused=None):
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, foreach=foreach, maximize=maximize,
                         capturable=capturable, differentiable=differentiable, fused=fused,
                         decoupled_weight_decay=True)
