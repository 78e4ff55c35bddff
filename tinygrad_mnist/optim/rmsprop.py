"""RMSprop, plain or centered, with momentum and weight decay, as ``torch.optim.RMSprop``."""
from __future__ import annotations

from ..backend import get_array_module
from .optimizer import Optimizer, check_flag, check_real, count_step, lerp, required, zeros_state

__all__ = ["RMSprop"]


def _check_rmsprop(group):
    if group["lr"] is not required:
        check_real(group["lr"], "lr", "learning rate")
    check_real(group["eps"], "eps", "epsilon value")
    check_real(group["momentum"], "momentum", "momentum value")
    check_real(group["weight_decay"], "weight_decay", "weight_decay value")
    check_real(group["alpha"], "alpha", "alpha value", 0.0, 1.0, high_open=False)
    for name in ("centered", "maximize"):
        check_flag(group[name], name)


class RMSprop(Optimizer):
    r"""RMSprop with PyTorch's update rule (``torch.optim.RMSprop``)::

        g = -grad if maximize else grad
        if weight_decay != 0:  g = g + weight_decay * p
        v = alpha * v + (1 - alpha) * g * g                    (square_avg)
        if centered:
            m = lerp(m, g, 1 - alpha)                          (grad_avg: the mean gradient)
            avg = sqrt(v - m * m) + eps                        (the standard deviation)
        else:
            avg = sqrt(v) + eps
        if momentum > 0:
            b = momentum * b + g / avg;  p = p - lr * b
        else:
            p = p - lr * g / avg

    State: ``step``, ``square_avg``, ``momentum_buffer`` (momentum > 0), ``grad_avg`` (centered).
    Beyond PyTorch's checks, ``alpha`` must lie in [0, 1] (PyTorch accepts any alpha >= 0, and
    an alpha above 1 makes ``square_avg`` negative). ``foreach`` and ``capturable`` are accepted
    and ignored.
    """

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0, centered=False,
                 capturable=False, foreach=None, maximize=False, differentiable=False):
        defaults = dict(lr=lr, momentum=momentum, alpha=alpha, eps=eps, centered=centered, weight_decay=weight_decay,
                        capturable=capturable, foreach=foreach, maximize=maximize, differentiable=differentiable)
        _check_rmsprop(defaults)
        super().__init__(params, defaults)

    def _check_group(self, group):
        super()._check_group(group)
        _check_rmsprop(group)

    def _update(self, p, g, group):
        lr, alpha, eps, momentum = group["lr"], group["alpha"], group["eps"], group["momentum"]
        weight_decay, centered = group["weight_decay"], group["centered"]
        xp = get_array_module(p.array)
        w, state = p.array, self.state[p]
        zeros_state(state, p, "square_avg", *(("momentum_buffer",) if momentum > 0 else ()),
                    *(("grad_avg",) if centered else ()))
        count_step(state)
        v = state["square_avg"].array
        if group["maximize"]:
            g = -g
        if weight_decay != 0:
            g = g + weight_decay * w
        v[...] = alpha * v + (1 - alpha) * g * g
        if centered:
            m = state["grad_avg"].array
            m[...] = lerp(m, g, 1 - alpha)
            avg = xp.sqrt(v - m * m) + eps
        else:
            avg = xp.sqrt(v) + eps
        if momentum > 0:
            b = state["momentum_buffer"].array
            b[...] = momentum * b + g / avg
            w[...] = w - lr * b
        else:
            w[...] = w - lr * g / avg
