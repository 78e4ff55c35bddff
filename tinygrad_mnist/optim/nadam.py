"""NAdam (Adam with Nesterov momentum), as ``torch.optim.NAdam``."""
from __future__ import annotations

from ..backend import get_array_module
from .optimizer import (Optimizer, check_betas, check_flag, check_real, count_step, host_scalar, lerp, required,
                        zeros_state)

__all__ = ["NAdam"]


def _check_nadam(group):
    if group["lr"] is not required:
        check_real(group["lr"], "lr", "learning rate")
    check_real(group["eps"], "eps", "epsilon value")
    group["betas"] = check_betas(group["betas"])
    check_real(group["weight_decay"], "weight_decay", "weight_decay value")
    check_real(group["momentum_decay"], "momentum_decay", "momentum_decay value")
    for name in ("decoupled_weight_decay", "maximize"):
        check_flag(group[name], name)


class NAdam(Optimizer):
    r"""NAdam with PyTorch's update rule (``torch.optim.NAdam``; ``t`` counts this parameter's steps)::

        g = -grad if maximize else grad
        if weight_decay != 0:
            p = p * (1 - lr * weight_decay)  if decoupled_weight_decay  else  g = g + weight_decay * p
        mu_t = beta1 * (1 - 0.5 * 0.96**(t * momentum_decay))           (the momentum schedule)
        mu_next = beta1 * (1 - 0.5 * 0.96**((t + 1) * momentum_decay))
        prod = prod * mu_t                                              (mu_product: mu_1 ... mu_t)
        m = lerp(m, g, 1 - beta1);  v = beta2 * v + (1 - beta2) * g * g
        denom = sqrt(v / (1 - beta2**t)) + eps
        p = p - lr * (1 - mu_t) / (1 - prod) * g / denom
        p = p - lr * mu_next / (1 - prod * mu_next) * m / denom

    State: ``step``, ``mu_product`` (both host float32 scalars, as PyTorch keeps them: the product
    is rounded to float32 each step; after ``load_state_dict`` the product is in the parameter's
    dtype, as PyTorch's loading casts it), ``exp_avg``, ``exp_avg_sq``. ``foreach`` and ``capturable``
    are accepted and ignored.
    """

    _host_scalars = ("step", "mu_product")

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, momentum_decay=4e-3,
                 decoupled_weight_decay=False, *, foreach=None, maximize=False, capturable=False,
                 differentiable=False):
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, momentum_decay=momentum_decay,
                        decoupled_weight_decay=decoupled_weight_decay, maximize=maximize, foreach=foreach,
                        capturable=capturable, differentiable=differentiable)
        _check_nadam(defaults)
        super().__init__(params, defaults)

    def _check_group(self, group):
        super()._check_group(group)
        _check_nadam(group)

    def _update(self, p, g, group):
        lr, (beta1, beta2), eps = group["lr"], group["betas"], group["eps"]
        weight_decay, momentum_decay = group["weight_decay"], group["momentum_decay"]
        xp = get_array_module(p.array)
        w, state = p.array, self.state[p]
        if "mu_product" not in state:
            state["mu_product"] = host_scalar(1.0)
        zeros_state(state, p, "exp_avg", "exp_avg_sq")
        t = count_step(state)
        m, v, prod = state["exp_avg"].array, state["exp_avg_sq"].array, state["mu_product"].array
        if group["maximize"]:
            g = -g
        if weight_decay != 0 and group["decoupled_weight_decay"]:
            w[...] = w * (1 - lr * weight_decay)
        elif weight_decay != 0:
            g = g + weight_decay * w
        mu = beta1 * (1.0 - 0.5 * 0.96 ** (t * momentum_decay))
        mu_next = beta1 * (1.0 - 0.5 * 0.96 ** ((t + 1) * momentum_decay))
        prod *= mu  # on the host, in float32 (or the dtype it was loaded in)
        m[...] = lerp(m, g, 1 - beta1)
        v[...] = beta2 * v + (1 - beta2) * g * g
        denom = xp.sqrt(v / (1 - beta2 ** t)) + eps
        w[...] = w - lr * (1.0 - mu) / (1.0 - float(prod)) * g / denom
        w[...] = w - lr * mu_next / (1.0 - float(prod) * mu_next) * m / denom
