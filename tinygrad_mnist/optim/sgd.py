"""Stochastic gradient descent, with momentum, dampening, Nesterov momentum and weight decay."""
from __future__ import annotations

from .. import fast
from ..fast import optim as fast_optim
from ..tensor import Tensor
from .optimizer import Optimizer, check_flag, check_real, required

__all__ = ["SGD"]


def _check_sgd(group):
    if group["lr"] is not required:
        check_real(group["lr"], "lr", "learning rate")
    check_real(group["momentum"], "momentum", "momentum value")
    check_real(group["dampening"], "dampening", "dampening value", 0.0, 1.0, high_open=False)
    check_real(group["weight_decay"], "weight_decay", "weight_decay value")
    check_flag(group["nesterov"], "nesterov")
    check_flag(group["maximize"], "maximize")
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
    ``maximize`` and the options after it are keyword-only, and the default learning rate is
    1e-3. ``foreach`` and ``fused`` are accepted and ignored (they choose PyTorch's kernels);
    beyond PyTorch's checks, ``dampening`` must lie in [0, 1].
    """

    def __init__(self, params, lr=1e-3, momentum=0, dampening=0, weight_decay=0, nesterov=False, *,
                 maximize=False, foreach=None, differentiable=False, fused=None):
        defaults = dict(lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay,
                        nesterov=nesterov, maximize=maximize, foreach=foreach, differentiable=differentiable,
                        fused=fused)
        _check_sgd(defaults)
        super().__init__(params, defaults)

    def _check_group(self, group):
        super()._check_group(group)
        _check_sgd(group)

    def _update(self, p, g, group):
        lr, momentum, dampening = group["lr"], group["momentum"], group["dampening"]
        weight_decay, nesterov, maximize = group["weight_decay"], group["nesterov"], group["maximize"]
        state = self.state[p] if momentum != 0 else {}
        buf = state.get("momentum_buffer")
        if fast.is_enabled():  # the same numbers, in place (fast/optim.py)
            b = fast_optim.sgd_(p.array, g, None if buf is None else buf.array, lr=lr, momentum=momentum,
                                dampening=dampening, weight_decay=weight_decay, nesterov=nesterov, maximize=maximize)
            if buf is None and b is not None:
                state["momentum_buffer"] = Tensor(b)
            return

        w = p.array
        d = -g if maximize else g
        if weight_decay != 0:
            d = d + weight_decay * w
        if momentum != 0:
            if buf is None:  # the first step starts the buffer at d, undamped
                b = d.copy()
                state["momentum_buffer"] = Tensor(b)
            else:
                b = momentum * buf.array + (1 - dampening) * d
                buf.array[...] = b
            d = d + momentum * b if nesterov else b
        w[...] = w - lr * d  # in place: the parameter keeps its array
