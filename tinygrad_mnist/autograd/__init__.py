"""Reverse-mode automatic differentiation, laid out as ``torch.autograd``.

* ``function``: :class:`Function` (the graph's nodes, and the base of custom ops), ``Op`` (the
  engine's own ops), ``AccumulateGrad`` (a leaf's node), saved tensors and their versions;
* ``engine``: the backward pass (``backward``, ``grad``);
* ``grad_mode``: ``no_grad``, ``enable_grad``, ``set_grad_enabled``, ``inference_mode``;
* ``anomaly_mode``: ``detect_anomaly`` and the observers (``trace``; ``tg.profile`` is one too);
* ``gradcheck``: ``gradcheck`` and ``gradgradcheck`` by finite differences;
* ``functional``: ``vjp``, ``jvp``, ``jacobian``, ``hessian``, ``hvp``, ``vhp``.
"""
from . import anomaly_mode, engine, function, functional, grad_mode
from .anomaly_mode import (AnomalyError, add_observer, detect_anomaly, is_anomaly_enabled,
                           remove_observer, set_detect_anomaly, trace)
from .engine import backward, grad, run_backward
from .function import AccumulateGrad, Function, Node, Op, RemovableHandle, once_differentiable
from .grad_mode import (enable_grad, inference_mode, is_grad_enabled, is_inference_mode_enabled, no_grad,
                        set_grad_enabled)
from .gradcheck import GradcheckError, gradcheck, gradgradcheck


def Variable(data, requires_grad=False, volatile=False):  # noqa: N802  (PyTorch's old class name)
    """The pre-0.4 wrapper: returns the tensor itself (``requires_grad`` set when asked), as
    today's PyTorch does. ``volatile`` is accepted and ignored (use ``no_grad``)."""
    from ..tensor import Tensor
    if not isinstance(data, Tensor):
        raise TypeError(f"Variable data has to be a tensor, but got {type(data).__name__}")
    if requires_grad:
        data.requires_grad_(True)
    return data


__all__ = [
    "Function", "Op", "Node", "AccumulateGrad", "RemovableHandle", "once_differentiable",
    "backward", "grad", "run_backward",
    "no_grad", "enable_grad", "set_grad_enabled", "is_grad_enabled", "inference_mode",
    "is_inference_mode_enabled",
    "detect_anomaly", "set_detect_anomaly", "is_anomaly_enabled", "AnomalyError", "trace",
    "add_observer", "remove_observer",
    "gradcheck", "gradgradcheck", "GradcheckError", "Variable",
    "function", "functional", "engine", "grad_mode", "anomaly_mode",
]
