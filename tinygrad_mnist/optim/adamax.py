"""Adamax (Adam with the infinity norm), with weight decay, as ``torch.optim.Adamax``."""
from __future__ import annotations

from ..backend import get_array_module
from .optimizer import Optimizer, check_betas, check_flag, check_real, count_step, lerp, required, zeros_state

__all__ = ["Adamax"]


def _check_adamax(group):
    if group["lr"] is not required:
        check_real(group["lr"], "lr", "learning rate")
    check_real(group["eps"], "eps", "epsilon value")
    group["betas"] = check_betas(group["betas"])
    check_real(group["weight_decay"], "weight_decay", "weight_decay value")
    check_flag(group["maximize"], "maximize")


class Adamax(Optimizer):
    r"""Adamax with PyTorch's update rule (``torch.optim.Adamax``; ``t`` counts this parameter's steps)::

        g = -grad if maximize else grad
        if weight_decay != 0:  g = g + weight_decay * p
        m = lerp(m, g, 1 - beta1)                             (exp_avg)
        u = maximum(beta2 * u, |g| + eps)                     (exp_inf: eps inside the maximum)
        p = p - lr / (1 - beta1**t) * m / u

    State: ``step``, ``exp_avg``, ``exp_inf``. ``foreach`` and ``capturable`` are accepted and
    ignored.
    """

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, foreach=None, *,
                 maximize=False, differentiable=False, capturable=False):
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, foreach=foreach, maximize=maximize,
                        differentiable=differentiable, capturable=capturable)
        _check_adamax(defaults)
        super().__init__(params, defaults)

    def _check_group(self, group):
        super()._check_group(group)
        _check_adamax(group)

    def _update(self, p, g, group):
        lr, (beta1, beta2), eps, weight_decay = group["lr"], group["betas"], group["eps"], group["weight_decay"]
        xp = get_array_module(p.array)
        w, state = p.array, self.state[p]
        zeros_state(state, p, "exp_avg", "exp_inf")
        t = count_step(state)
        m, u = state["exp_avg"].array, state["exp_inf"].array
        if group["maximize"]:
            g = -g
        if weight_decay != 0:
            g = g + weight_decay * w
        m[...] = lerp(m, g, 1 - beta1)
        u[...] = xp.maximum(beta2 * u, xp.abs(g) + eps)
        w[...] = w - lr / (1 - beta1 ** t) * m / u
