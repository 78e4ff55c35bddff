"""Adam (and AMSGrad), with L2 weight decay added to the gradient, as ``torch.optim.Adam``."""
from __future__ import annotations

import numpy as np

from .. import kernels
from ..backend import get_array_module
from ..tensor import Tensor
from .optimizer import Optimizer, required

__all__ = ["Adam"]


def _check_adam(group):
    lr, eps, betas, weight_decay = group["lr"], group["eps"], group["betas"], group["weight_decay"]
    if lr is not required and not 0.0 <= lr:
        raise ValueError(f"Invalid learning rate: {lr}")
    if not 0.0 <= eps:
        raise ValueError(f"Invalid epsilon value: {eps}")
    if not 0.0 <= betas[0] < 1.0:
        raise ValueError(f"Invalid beta parameter at index 0: {betas[0]}")
    if not 0.0 <= betas[1] < 1.0:
        raise ValueError(f"Invalid beta parameter at index 1: {betas[1]}")
    if not 0.0 <= weight_decay:
        raise ValueError(f"Invalid weight_decay value: {weight_decay}")


class Adam(Optimizer):
    r"""Adam, with PyTorch's update rule (``torch.optim.Adam``; ``t`` counts this parameter's steps)::

        g = -grad if maximize else grad
        if weight_decay != 0:  g = g + weight_decay * p        (L2 on the gradient: not AdamW)
        m = m + (1 - beta1) * (g - m)                          (m.lerp_(g, 1 - beta1))
        v = beta2 * v + (1 - beta2) * g * g
        if amsgrad:  v_max = maximum(v_max, v);  v_hat = v_max  else  v_hat = v
        denom = sqrt(v_hat) / sqrt(1 - beta2**t) + eps          (eps after the bias correction)
        p = p - (lr / (1 - beta1**t)) * m / denom

    State per parameter, as PyTorch names it: ``step`` (a host float32 scalar tensor),
    ``exp_avg`` (m), ``exp_avg_sq`` (v) and, with amsgrad, ``max_exp_avg_sq``. Each update
    computes in the same order as PyTorch's, in the parameter's dtype, in place, with at most two
    temporary arrays. ``maximize`` is keyword-only, as in PyTorch.
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, amsgrad=False, *,
                 maximize=False):
        defaults = dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay, amsgrad=amsgrad,
                        maximize=maximize)
        _check_adam(defaults)
        super().__init__(params, defaults)

    def _check_group(self, group):
        group["betas"] = tuple(group["betas"])
        _check_adam(group)

    def _state(self, p, amsgrad):
        state = self.state[p]
        xp = get_array_module(p.array)
        if len(state) == 0:
            state["step"] = Tensor(np.zeros((), dtype=np.float32))  # host: the step counter, as in PyTorch
            state["exp_avg"] = Tensor(xp.zeros_like(p.array))
            state["exp_avg_sq"] = Tensor(xp.zeros_like(p.array))
        if amsgrad and "max_exp_avg_sq" not in state:
            state["max_exp_avg_sq"] = Tensor(xp.zeros_like(p.array))
        return state

    def _update(self, p, g, group):
        lr, (beta1, beta2), eps = group["lr"], group["betas"], group["eps"]
        weight_decay, amsgrad, maximize = group["weight_decay"], group["amsgrad"], group["maximize"]
        xp = get_array_module(p.array)
        w = p.array
        state = self._state(p, amsgrad)
        step_t = state["step"].array
        step_t += 1
        step = float(step_t)  # a host array: no device sync
        m, v = state["exp_avg"].array, state["exp_avg_sq"].array

        bias_correction1 = 1 - beta1 ** step
        bias_correction2 = 1 - beta2 ** step
        step_size = lr / bias_correction1
        if kernels.use_kernels(w):  # the whole update below as one CUDA kernel
            kernels.adam_update(w, g, m, v, state["max_exp_avg_sq"].array if amsgrad else None,
                                weight_decay=weight_decay, maximize=maximize, beta1=beta1, beta2=beta2,
                                eps=eps, step_size=step_size, bias_correction2=bias_correction2)
            return

        d, scratch = self._direction(xp, w, g, weight_decay, maximize)

        # m.lerp_(d, 1 - beta1), with PyTorch's two formulas (the weight in the parameter's dtype)
        weight = w.dtype.type(1 - beta1)
        tmp = xp.subtract(d, m)
        if abs(weight) < 0.5:
            tmp *= weight
            m += tmp
        else:
            tmp *= 1 - weight
            xp.subtract(d, tmp, out=m)

        # v = beta2 * v + ((1 - beta2) * d) * d   (addcmul's order)
        v *= beta2
        xp.multiply(d, 1 - beta2, out=tmp)
        tmp *= d
        v += tmp

        if amsgrad:
            v_hat = state["max_exp_avg_sq"].array
            xp.maximum(v_hat, v, out=v_hat)
        else:
            v_hat = v

        denom = xp.sqrt(v_hat, out=tmp)  # denom = sqrt(v_hat) / sqrt(bias_correction2) + eps
        denom /= bias_correction2 ** 0.5
        denom += eps

        # w += (-step_size * m) / denom   (addcdiv's order)
        update = xp.multiply(m, -step_size, out=scratch)
        update /= denom
        w += update
