"""Adagrad, with learning-rate decay and weight decay, as ``torch.optim.Adagrad``."""
from __future__ import annotations

from ..backend import get_array_module
from ..tensor import Tensor
from .optimizer import Optimizer, check_flag, check_real, count_step, host_scalar, required

__all__ = ["Adagrad"]


def _check_adagrad(group):
    if group["lr"] is not required:
        check_real(group["lr"], "lr", "learning rate")
    check_real(group["lr_decay"], "lr_decay", "lr_decay value")
    check_real(group["weight_decay"], "weight_decay", "weight_decay value")
    check_real(group["initial_accumulator_value"], "initial_accumulator_value", "initial_accumulator_value value")
    check_real(group["eps"], "eps", "epsilon value")
    check_flag(group["maximize"], "maximize")


class Adagrad(Optimizer):
    r"""Adagrad with PyTorch's update rule (``torch.optim.Adagrad``; ``t`` counts this parameter's steps)::

        g = -grad if maximize else grad
        if weight_decay != 0:  g = g + weight_decay * p
        clr = lr / (1 + (t - 1) * lr_decay)
        s = s + g * g                                  (sum, starting at initial_accumulator_value)
        p = p - clr * g / (sqrt(s) + eps)

    State: ``step`` and ``sum``, created for every parameter when the optimizer is built (as in
    PyTorch, so a ``state_dict`` taken before the first step already has them). Dense gradients
    only. ``foreach`` and ``fused`` are accepted and ignored.
    """

    def __init__(self, params, lr=1e-2, lr_decay=0, weight_decay=0, initial_accumulator_value=0, eps=1e-10,
                 foreach=None, *, maximize=False, differentiable=False, fused=None):
        defaults = dict(lr=lr, lr_decay=lr_decay, eps=eps, weight_decay=weight_decay,
                        initial_accumulator_value=initial_accumulator_value, foreach=foreach, maximize=maximize,
                        differentiable=differentiable, fused=fused)
        _check_adagrad(defaults)
        super().__init__(params, defaults)
        for group in self.param_groups:
            for p in group["params"]:
                self._init_state(p, group)

    def _check_group(self, group):
        super()._check_group(group)
        _check_adagrad(group)

    def _init_state(self, p, group):
        state = self.state[p]
        if "sum" not in state:
            xp = get_array_module(p.array)
            state["step"] = host_scalar(0.0)
            state["sum"] = Tensor(xp.full_like(p.array, group["initial_accumulator_value"]))
        return state

    def _update(self, p, g, group):
        lr, lr_decay, eps, weight_decay = group["lr"], group["lr_decay"], group["eps"], group["weight_decay"]
        xp = get_array_module(p.array)
        w, state = p.array, self._init_state(p, group)
        t = count_step(state)
        s = state["sum"].array
        if group["maximize"]:
            g = -g
        if weight_decay != 0:
            g = g + weight_decay * w
        clr = lr / (1 + (t - 1) * lr_decay)
        s[...] = s + g * g
        w[...] = w - clr * g / (xp.sqrt(s) + eps)
