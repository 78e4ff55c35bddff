"""Adadelta, with weight decay, as ``torch.optim.Adadelta``."""
from __future__ import annotations

from ..backend import get_array_module
from .optimizer import Optimizer, check_flag, check_real, count_step, required, zeros_state

__all__ = ["Adadelta"]


def _check_adadelta(group):
    if group["lr"] is not required:
        check_real(group["lr"], "lr", "learning rate")
    check_real(group["rho"], "rho", "rho value", 0.0, 1.0, high_open=False)
    check_real(group["eps"], "eps", "epsilon value")
    check_real(group["weight_decay"], "weight_decay", "weight_decay value")
    check_flag(group["maximize"], "maximize")


class Adadelta(Optimizer):
    r"""Adadelta with PyTorch's update rule (``torch.optim.Adadelta``)::

        g = -grad if maximize else grad
        if weight_decay != 0:  g = g + weight_decay * p
        v = rho * v + (1 - rho) * g * g                       (square_avg)
        delta = sqrt(u + eps) / sqrt(v + eps) * g             (u: acc_delta, the mean squared update)
        u = rho * u + (1 - rho) * delta * delta
        p = p - lr * delta

    State: ``step``, ``square_avg``, ``acc_delta``. ``foreach`` and ``capturable`` are accepted
    and ignored.
    """

    def __init__(self, params, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0, foreach=None, *, capturable=False,
                 maximize=False, differentiable=False):
        defaults = dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay, maximize=maximize,
                        capturable=capturable, foreach=foreach, differentiable=differentiable)
        _check_adadelta(defaults)
        super().__init__(params, defaults)

    def _check_group(self, group):
        super()._check_group(group)
        _check_adadelta(group)

    def _update(self, p, g, group):
        lr, rho, eps, weight_decay = group["lr"], group["rho"], group["eps"], group["weight_decay"]
        xp = get_array_module(p.array)
        w, state = p.array, self.state[p]
        zeros_state(state, p, "square_avg", "acc_delta")
        count_step(state)
        v, u = state["square_avg"].array, state["acc_delta"].array
        if group["maximize"]:
            g = -g
        if weight_decay != 0:
            g = g + weight_decay * w
        v[...] = rho * v + (1 - rho) * g * g
        delta = xp.sqrt(u + eps) / xp.sqrt(v + eps) * g
        u[...] = rho * u + (1 - rho) * delta * delta
        w[...] = w - lr * delta
