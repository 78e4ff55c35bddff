"""Loss functions: fused cross-entropy, negative log-likelihood, mean squared error.

``cross_entropy`` is ONE op (log-softmax and NLL fused), computed the stable way: with
``z = x - max(x)`` over the classes, ``log_softmax(x) = z - log(sum(exp(z)))``, so no ``exp``
ever overflows, and its gradient is the classic ``(softmax(x) - onehot(target)) * upstream / N``
(for ``reduction='mean'`` without weights) without going through ``exp(log(.))`` twice.

Class-index targets on the CPU are validated BEFORE any array is indexed with them (NumPy would
raise an unhelpful IndexError mid-op). On the GPU a per-call check would cost a device-to-host
sync every step, so there the labels are validated on the host where they enter (the MNIST reader
checks every label is 0-9; ``tg.tensor`` data comes from the host) and the op itself guards the
rest on the device: an out-of-range target gets a NaN loss and NaN gradients, never another
class's (CuPy would otherwise wrap the index around silently).

Shapes, as in PyTorch: input (N, C) with target (N,); input (N, C, d1, ..., dk) with target
(N, d1, ..., dk) (the class dimension is dim 1); an unbatched input (C,) with a 0-d target.
Differences from PyTorch: probability ("soft") targets and ``label_smoothing`` are not supported
(a clear error says so); integer targets of any integer dtype are accepted (PyTorch wants int64).
"""
from __future__ import annotations

import warnings

import numpy as np

from ..autograd import Function, unbroadcast
from ..backend import get_array_module, to_device
from ..tensor import Tensor, _binary_operands
from .elementwise import _quiet

__all__ = ["CrossEntropy", "NLLLoss", "MSELoss", "cross_entropy", "nll_loss", "mse_loss",
           "legacy_reduction", "REDUCTIONS"]

REDUCTIONS = ("mean", "sum", "none")


# ---------------------------------------------------------------------- the ops
def _class_last(x):
    """View an (N, C, d1, ...) array as (N, d1, ..., C): the class axis last."""
    return x if x.ndim == 2 else get_array_module(x).moveaxis(x, 1, -1)


def _class_first(g):
    """Inverse of :func:`_class_last`."""
    return g if g.ndim == 2 else get_array_module(g).moveaxis(g, -1, 1)


class _TargetLoss(Function):
    """Shared part of NLL and cross-entropy: per-position weights and the reduction.

    ``target`` is an integer array of shape (N, d1, ...); ``weight`` (C,) or None; positions
    whose target equals ``ignore_index`` weigh 0. ``w_t[i] = weight[target[i]]`` (1 without
    weights), and the 'mean' reduction divides by ``sum(w_t)``, as PyTorch does.
    """

    def _weights(self, xl, target, weight, ignore_index):
        xp = get_array_module(xl)
        ignored = target == ignore_index
        on_gpu = xp is not get_array_module("cpu")
        if on_gpu:  # not checked on the host: keep out-of-range targets from wrapping around
            invalid = ~ignored & ((target < 0) | (target >= xl.shape[-1]))
            ignored = ignored | invalid
        safe = xp.where(ignored, 0, target)  # ignored positions index class 0, then weigh 0
        if weight is None:
            w_t = (~ignored).astype(xl.dtype)
        else:
            w_t = xp.where(ignored, 0, weight.astype(xl.dtype, copy=False)[safe])
        if on_gpu:
            w_t = xp.where(invalid, float("nan"), w_t)                # NaN loss and gradient
        return safe, w_t

    def _reduce(self, losses, w_t, reduction):
        self.reduction = reduction
        if reduction == "none":
            return losses
        if reduction == "sum":
            return losses.sum()
        self.denominator = w_t.sum()
        with _quiet(get_array_module(losses)):
            return losses.sum() / self.denominator                   # nan when every target is ignored

    def _scale(self, g, w_t):
        """d loss / d loss_i for every position: the upstream gradient times the weight."""
        if self.reduction == "none":
            return g * w_t
        if self.reduction == "sum":
            return w_t * g
        xp = get_array_module(w_t)
        with _quiet(xp):  # when every target is ignored, the loss is nan but the gradient 0 (as PyTorch)
            return xp.where(w_t == 0, 0, w_t * (g / self.denominator))


class CrossEntropy(_TargetLoss):
    """Fused log-softmax + NLL over the class dimension (dim 1).

    loss_i = -w_t[i] * log_softmax(x_i)[t_i];  d loss_i / d x_i = w_t[i] * (softmax(x_i) - onehot(t_i)).
    """

    def forward(self, x, target, weight=None, ignore_index=-100, reduction="mean"):
        xp = get_array_module(x)
        xl = _class_last(x)
        z = xl - xl.max(axis=-1, keepdims=True)                      # max subtraction: exp(z) <= 1
        log_probs = z - xp.log(xp.exp(z).sum(axis=-1, keepdims=True))
        safe, w_t = self._weights(xl, target, weight, ignore_index)
        picked = xp.take_along_axis(log_probs, safe[..., None], axis=-1)[..., 0]
        self.save_for_backward(log_probs, safe, w_t)
        return self._reduce(-picked * w_t, w_t, reduction)

    def backward(self, g):
        log_probs, safe, w_t = self.saved_tensors
        xp = get_array_module(log_probs)
        onehot = xp.arange(log_probs.shape[-1]) == safe[..., None]
        grad = xp.exp(log_probs)                                     # softmax
        grad -= onehot                                               # softmax - onehot
        grad *= self._scale(g, w_t)[..., None]
        return _class_first(grad), None


class NLLLoss(_TargetLoss):
    """loss_i = -w_t[i] * x_i[t_i] for log-probabilities ``x``; the gradient is -w_t[i] at t_i."""

    def forward(self, x, target, weight=None, ignore_index=-100, reduction="mean"):
        xp = get_array_module(x)
        xl = _class_last(x)
        safe, w_t = self._weights(xl, target, weight, ignore_index)
        picked = xp.take_along_axis(xl, safe[..., None], axis=-1)[..., 0]
        self.save_for_backward(safe, w_t)
        self.n_classes, self.dtype = xl.shape[-1], xl.dtype
        return self._reduce(-picked * w_t, w_t, reduction)

    def backward(self, g):
        safe, w_t = self.saved_tensors
        xp = get_array_module(safe)
        onehot = (xp.arange(self.n_classes) == safe[..., None]).astype(self.dtype)
        onehot *= -self._scale(g, w_t)[..., None]
        return _class_first(onehot), None


class MSELoss(Function):
    """mean/sum/none of (a - b)^2 (a and b broadcast); d/da = 2 (a - b), d/db = -2 (a - b)."""

    def forward(self, a, b, reduction="mean"):
        diff = a - b
        self.save_for_backward(diff)
        self.shapes, self.reduction = (a.shape, b.shape), reduction
        sq = diff * diff
        if reduction == "none":
            return sq
        return sq.sum() if reduction == "sum" else sq.mean()

    def backward(self, g):
        (diff,) = self.saved_tensors
        scale = 2 * g if self.reduction != "mean" else g * (2.0 / max(diff.size, 1))
        ga = diff * scale
        return (unbroadcast(ga, self.shapes[0]) if self.needs_input_grad[0] else None,
                unbroadcast(-ga, self.shapes[1]) if self.needs_input_grad[1] else None)


# ---------------------------------------------------------------------- checks shared by the wrappers
def legacy_reduction(size_average, reduce, reduction, op):
    """PyTorch's handling of the deprecated ``size_average``/``reduce`` arguments."""
    if size_average is None and reduce is None:
        return check_reduction(reduction, op)
    size_average = True if size_average is None else size_average
    reduce = True if reduce is None else reduce
    result = "none" if not reduce else "mean" if size_average else "sum"
    warnings.warn(f"size_average and reduce args will be deprecated, please use reduction='{result}' "
                  f"instead.", UserWarning, stacklevel=3)
    return result


def check_reduction(reduction, op="loss"):
    if reduction not in REDUCTIONS:
        raise ValueError(f"{op}: {reduction!r} is not a valid value for reduction "
                         f"(expected one of {', '.join(map(repr, REDUCTIONS))})")
    return reduction


def _check_target_loss_args(op, input, target, weight, ignore_index):
    """Validate shapes, dtypes, devices and target values (on the host) for nll / cross-entropy."""
    if not isinstance(input, Tensor) or not isinstance(target, Tensor):
        raise TypeError(f"{op}: expected input and target to be Tensors, got "
                        f"{type(input).__name__} and {type(target).__name__}")
    if not input.is_floating_point():
        raise RuntimeError(f"{op}: expected a floating point input, got {input.dtype} "
                           f"of shape {tuple(input.shape)}")
    if target.array.dtype.kind == "f":
        raise TypeError(f"{op}: expected target of integer class indices (int64), got {target.dtype} of "
                        f"shape {tuple(target.shape)}; probability targets are not supported here")
    if target.array.dtype.kind not in "iu":
        raise TypeError(f"{op}: expected target of integer class indices (int64), got {target.dtype}")
    if input.device != target.device:
        raise RuntimeError(f"{op}: expected input and target on the same device, got input on "
                           f"{input.device} and target on {target.device}")
    if input.ndim == 0:
        raise ValueError(f"{op}: expected input of shape (N, C), (N, C, d1, ...) or (C,), got a 0-d tensor")
    if input.ndim == 1:
        expected = ()
        n_classes = input.shape[0]
    else:
        expected = (input.shape[0],) + tuple(input.shape[2:])
        n_classes = input.shape[1]
    if tuple(target.shape) != expected:
        layout = "(N,)" if input.ndim == 2 else "()" if input.ndim == 1 else "(N, d1, ...)"
        raise ValueError(f"{op}: input of shape {tuple(input.shape)} needs a target of shape "
                         f"{layout} = {expected}, got target of shape {tuple(target.shape)}")
    weight_array = None
    if weight is not None:
        weight_array = weight.array if isinstance(weight, Tensor) else weight
        if tuple(weight_array.shape) != (n_classes,):
            raise ValueError(f"{op}: weight must have one entry per class: expected shape ({n_classes},) "
                             f"for input of shape {tuple(input.shape)}, got {tuple(weight_array.shape)}")
        weight_array = to_device(weight_array, input.device)
    t = target.array
    if t.size and input.device.type == "cpu":
        # the host check, before any indexing (on the GPU the op guards instead: see the module doc)
        bad = (t != ignore_index) & ((t < 0) | (t >= n_classes))
        if bool(bad.any()):
            first = int(t[bad].ravel()[0])
            raise IndexError(f"{op}: target {first} is out of bounds for {n_classes} classes "
                             f"(valid: 0 to {n_classes - 1}, or ignore_index={ignore_index})")
    return weight_array


def _target_loss(op_name, fn, input, target, weight, ignore_index, reduction):
    weight_array = _check_target_loss_args(op_name, input, target, weight, ignore_index)
    if input.ndim == 1:  # unbatched: one sample
        out = fn.apply(input.unsqueeze(0), Tensor._from_op(target.array.reshape(1), None),
                       weight=weight_array, ignore_index=ignore_index, reduction=reduction)
        return out.reshape(()) if reduction == "none" else out
    return fn.apply(input, target, weight=weight_array, ignore_index=ignore_index, reduction=reduction)


# ---------------------------------------------------------------------- the functions
def cross_entropy(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None,
                  reduction="mean", label_smoothing=0.0):
    """Cross-entropy between logits ``input`` (N, C[, d...]) and class indices ``target`` (N[, d...]).

    One fused, numerically stable op (see the module docstring). ``weight`` (C,) rescales each
    class; targets equal to ``ignore_index`` contribute nothing, and 'mean' divides by the sum
    of the weights of the targets that count (N without weights).
    """
    reduction = legacy_reduction(size_average, reduce, reduction, "cross_entropy")
    if label_smoothing:
        raise NotImplementedError(f"cross_entropy: label_smoothing={label_smoothing} is not supported "
                                  f"(only 0.0)")
    return _target_loss("cross_entropy", CrossEntropy, input, target, weight, ignore_index, reduction)


def nll_loss(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None,
             reduction="mean"):
    """Negative log-likelihood of log-probabilities ``input`` (N, C[, d...]) at ``target``."""
    reduction = legacy_reduction(size_average, reduce, reduction, "nll_loss")
    return _target_loss("nll_loss", NLLLoss, input, target, weight, ignore_index, reduction)


def mse_loss(input, target, size_average=None, reduce=None, reduction="mean"):
    """Mean squared error; input and target broadcast (with a warning when their shapes differ)."""
    reduction = legacy_reduction(size_average, reduce, reduction, "mse_loss")
    if not isinstance(input, Tensor) or not isinstance(target, Tensor):
        raise TypeError(f"mse_loss: expected input and target to be Tensors, got "
                        f"{type(input).__name__} and {type(target).__name__}")
    if tuple(input.shape) != tuple(target.shape):
        try:
            np.broadcast_shapes(input.shape, target.shape)  # host: shapes only
        except ValueError:
            raise RuntimeError(f"mse_loss: the shape of input {tuple(input.shape)} and of target "
                               f"{tuple(target.shape)} cannot be broadcast together") from None
        warnings.warn(f"Using a target size ({tuple(target.shape)}) that is different to the input size "
                      f"({tuple(input.shape)}). This will likely lead to incorrect results due to "
                      f"broadcasting. Please ensure they have the same size.", UserWarning, stacklevel=2)
    a, b = _binary_operands(input, target)
    if a.array.dtype.kind != "f":
        raise RuntimeError(f"mse_loss: expected floating point input or target, got {input.dtype} "
                           f"and {target.dtype}")
    return MSELoss.apply(a, b, reduction=reduction)

