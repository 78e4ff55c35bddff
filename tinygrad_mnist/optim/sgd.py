"""Stochastic gradient descent, with momentum, dampening, Nesterov momentum and weight decay."""
from __future__ import annotations

from ..backend import get_array_module
from ..tensor import Tensor
from .optimizer import Optimizer, required

__all__ = ["SGD"]


def _check_sgd(group):
    if group["lr"] is not required and group["lr"] < 0.0:
        raise ValueError(f"Invalid learning rate: {group['lr']}")
    if group["momentum"] < 0.0:
        raise ValueError(f"Invalid momentum value: {group['momentum']}")
    if group["weight_decay"] < 0.0:
        raise ValueError(f"Invalid weight_decay value: {group['weight_decay']}")
    if group["nesterov"] and (group["momentum"] <= 0 or group["dampening"] != 0):
        raise ValueError("Nesterov momentum requires a momentum and zero dampening")


class SGD(Optimizer):
    r"""Stochastic gradient descent, with PyTorch's update rule (``torch.optim.SGD``)::

        g = -grad if maximize else grad
        if weight_decay != 0:  g = g + weight_decay * p
        if momentum != 0:
            b = g                                      on the first step (not dampened)
            b = momentum * b + (1 - dampening) * g     on later steps
            g = g + momentum * b  if nesterov else  b
        p = p - lr * g

    The momentum buffer is ``state[p]["momentum_buffer"]``. ``nesterov`` requires ``momentum > 0``
    and ``dampening == 0``. Parameters whose ``.grad`` is None are skipped. As in PyTorch,
    ``maximize`` is keyword-only, and the default learning rate is 1e-3.
    """

    def __init__(self, params, lr=1e-3, momentum=0, dampening=0, weight_decay=0, nesterov=False, *,
                 maximize=False):
        defaults = dict(lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay,
                        nesterov=nesterov, maximize=maximize)
        _check_sgd(defaults)
        super().__init__(params, defaults)

    def _check_group(self, group):
        _check_sgd(group)

    def _update(self, p, g, group):
        lr, momentum, dampening = group["lr"], group["momentum"], group["dampening"]
        weight_decay, nesterov, maximize = group["weight_decay"], group["nesterov"], group["maximize"]
        xp = get_array_module(p.array)
        w = p.array
        # ``d`` is the step direction; ``scratch``, the one temporary array, is allocated only when
        # ``d`` cannot be one of the existing arrays (the gradient, which is never modified, or
        # the momentum buffer).
        d, scratch = self._direction(xp, w, g, weight_decay, maximize)

        if momentum != 0:
            state = self.state[p]
            buf = state.get("momentum_buffer")
            if buf is None:  # first step: the buffer is d itself, not dampened
                buf = state["momentum_buffer"] = Tensor(d.copy())
                b = buf.array
            else:  # b = momentum * b + (1 - dampening) * d
                b = buf.array
                b *= momentum
                if dampening == 0:
                    b += d
                elif nesterov:  # (an invalid combination, unless set after construction) keep d intact
                    b += xp.multiply(d, 1 - dampening)
                else:  # d is not needed after this: it may be scaled in place
                    if scratch is None:
                        scratch = xp.multiply(d, 1 - dampening)
                    else:
                        scratch *= 1 - dampening
                    b += scratch
            if nesterov:  # d = d + momentum * b
                if scratch is None:
                    scratch = xp.multiply(b, momentum)
                    scratch += d
                else:
                    scratch += xp.multiply(b, momentum)
                d = scratch
            else:
                d = b

        # w = w - lr * d
        if d is scratch:
            scratch *= lr
        else:
            scratch = xp.multiply(d, lr, out=scratch)
        w -= scratch
