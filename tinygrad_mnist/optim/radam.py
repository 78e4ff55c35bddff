"""RAdam (rectified Adam), with L2 or decoupled weight decay, as ``torch.optim.RAdam``."""
from __future__ import annotations

from ..backend import get_array_module
from .optimizer import Optimizer, check_betas, check_flag, check_real, count_step, lerp, required, zeros_state

__all__ = ["RAdam"]


def _check_radam(group):
    if group["lr"] is not required:
        check_real(group["lr"], "lr", "learning rate")
    check_real(group["eps"], "eps", "epsilon value")
    group["betas"] = check_betas(group["betas"])
    check_real(group["weight_decay"], "weight_decay", "weight_decay value")
    for name in ("decoupled_weight_decay", "maximize"):
        check_flag(group[name], name)


class RAdam(Optimizer):
    r"""RAdam with PyTorch's update rule (``torch.optim.RAdam``; ``t`` counts this parameter's steps)::

        g = -grad if maximize else grad
        if weight_decay != 0:
            p = p * (1 - lr * weight_decay)  if decoupled_weight_decay  else  g = g + weight_decay * p
        m = lerp(m, g, 1 - beta1);  v = beta2 * v + (1 - beta2) * g * g
        rho_inf = 2 / (1 - beta2) - 1
        rho_t = rho_inf - 2 * t * beta2**t / (1 - beta2**t)      (the length of the approximated SMA)
        if rho_t > 5:    (the variance is tractable: an adaptive step, rectified)
            r = sqrt((rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t))
            p = p - m / (1 - beta1**t) * lr * (sqrt(1 - beta2**t) / (sqrt(v) + eps)) * r
        else:            (early steps: plain momentum SGD)
            p = p - m / (1 - beta1**t) * lr

    State: ``step``, ``exp_avg``, ``exp_avg_sq``. ``foreach`` and ``capturable`` are accepted and
    ignored.
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, decoupled_weight_decay=False,
                 *, foreach=None, maximize=False, capturable=False, differentiable=False):
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, maximize=maximize, foreach=foreach,
                        capturable=capturable, decoupled_weight_decay=decoupled_weight_decay,
                        differentiable=differentiable)
        _check_radam(defaults)
        super().__init__(params, defaults)

    def _check_group(self, group):
        super()._check_group(group)
        _check_radam(group)

    def _update(self, p, g, group):
        lr, (beta1, beta2), eps, weight_decay = group["lr"], group["betas"], group["eps"], group["weight_decay"]
        xp = get_array_module(p.array)
        w, state = p.array, self.state[p]
        zeros_state(state, p, "exp_avg", "exp_avg_sq")
        t = count_step(state)
        m, v = state["exp_avg"].array, state["exp_avg_sq"].array
        if group["maximize"]:
            g = -g
        if weight_decay != 0 and group["decoupled_weight_decay"]:
            w[...] = w * (1 - lr * weight_decay)
        elif weight_decay != 0:
            g = g + weight_decay * w
        m[...] = lerp(m, g, 1 - beta1)
        v[...] = beta2 * v + (1 - beta2) * g * g
        bias_correction2 = 1 - beta2 ** t
        rho_inf = 2 / (1 - beta2) - 1
        rho_t = rho_inf - 2 * t * (beta2 ** t) / bias_correction2
        if rho_t > 5.0:
            rect = ((rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t)) ** 0.5
            adaptive = bias_correction2 ** 0.5 / (xp.sqrt(v) + eps)
            w[...] = w - m / (1 - beta1 ** t) * lr * adaptive * rect
        else:
            w[...] = w - m / (1 - beta1 ** t) * lr
