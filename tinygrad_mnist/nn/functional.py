"""``tinygrad_mnist.nn.functional``: the stateless layer functions, as ``torch.nn.functional``.

    import tinygrad_mnist.nn.functional as F
    x = F.max_pool2d(F.relu(F.conv2d(x, w, b)), 2)
    loss = F.cross_entropy(logits, target)

This module is the one home of these functions' argument checks: each checks what it is given
(types, shapes, dtypes, devices, sizes) and names the bad value, then calls one op of
``tinygrad_mnist/ops/`` (a Function, which only computes). Wherever PyTorch takes an int or a
pair (kernel_size, stride, padding, dilation), so do these functions.

Differences from PyTorch: ``inplace=True`` is accepted and ignored (a new tensor is returned;
in-place ops on recorded tensors are not supported by this engine); dropout masks come from the
engine's generator (``tinygrad_mnist.manual_seed``), drawn on the host, so they differ from
PyTorch's for the same seed.
"""
from __future__ import annotations

import math
import numbers
import warnings

import numpy as np

from .. import backend, dtypes
from ..backend import to_device
from ..functions import cat, pad as _constant_pad
from ..ops.activation import ELU as ELUOp, Erf, LogSigmoid as LogSigmoidOp, Softplus as SoftplusOp
from ..ops.conv import Conv2d, Fold, Unfold
from ..ops.elementwise import Dropout
from ..ops.embedding import Embedding as EmbeddingOp
from ..ops.loss import BinaryCrossEntropy, CrossEntropy, MSELoss, NLLLoss
from ..ops.matmul import Linear
from ..ops.pool import AdaptiveMaxPool2d as AdaptiveMaxPool2dOp, AvgPool2d, MaxPool2d, bin_positions
from ..shapes import Window2d, canonical_dim, int_pair, pool_window
from ..tensor import Tensor, _binary_operands, _check_same_device

__all__ = ["linear", "conv2d", "unfold", "fold", "relu", "max_pool2d", "avg_pool2d", "dropout", "pad",
           "softmax", "log_softmax", "cross_entropy", "nll_loss", "mse_loss", "flatten", "sigmoid", "tanh",
           "one_hot", "cat",
           "leaky_relu", "elu", "selu", "celu", "gelu", "silu", "mish", "softplus", "logsigmoid", "hardtanh",
           "relu6", "hardsigmoid", "hardswish", "softsign", "tanhshrink", "prelu", "softmin",
           "l1_loss", "smooth_l1_loss", "huber_loss", "binary_cross_entropy", "binary_cross_entropy_with_logits",
           "kl_div", "cosine_similarity", "normalize", "batch_norm", "layer_norm", "group_norm", "instance_norm",
           "embedding", "dropout1d", "dropout2d", "dropout3d", "conv1d", "max_pool1d", "avg_pool1d",
           "conv_transpose1d", "conv_transpose2d", "adaptive_avg_pool1d", "adaptive_avg_pool2d",
           "adaptive_max_pool1d", "adaptive_max_pool2d", "interpolate"]

REDUCTIONS = ("mean", "sum", "none")


def _shape_of(t):
    return tuple(t.shape)

# ---------------------------------------------------------------------- linear
def linear(input, weight, bias=None):
    """``input @ weight.T + bias``: input (..., in), weight (out, in), bias (out,) -> (..., out)."""
    if not isinstance(input, Tensor) or not isinstance(weight, Tensor):
        raise TypeError(f"linear: expected Tensors for input and weight, got {type(input).__name__} "
                        f"and {type(weight).__name__}")
    x, w = input.array, weight.array   # the checks read the arrays: this runs for every layer call
    if w.ndim != 2:
        raise RuntimeError(f"linear: weight must be 2-D (out_features, in_features), got shape {tuple(weight.shape)}")
    if x.ndim == 0 or x.shape[-1] != w.shape[1]:
        raise RuntimeError(f"linear: input of shape {tuple(input.shape)} cannot be multiplied by weight of "
                           f"shape {tuple(weight.shape)}: expected {weight.shape[1]} features in the last "
                           f"dimension of the input")
    tensors = [input, weight] if bias is None else [input, weight, bias]
    for t in tensors[1:]:
        if t.array.dtype != x.dtype:
            raise RuntimeError(f"linear: expected input and parameters of the same dtype, got input "
                               f"{input.dtype} and {'weight' if t is weight else 'bias'} {t.dtype} "
                               f"(convert the input, e.g. x.float(), or the model, e.g. model.double())")
        if backend.is_cupy_array(t.array) != backend.is_cupy_array(x):  # the engine's two devices
            raise RuntimeError(f"linear: expected all tensors on the same device, got input on "
                               f"{input.device} and {'weight' if t is weight else 'bias'} on {t.device}")
    if x.dtype.kind != "f":
        raise RuntimeError(f"linear: expected a floating point input, got {input.dtype}")
    if bias is not None and bias.array.shape != (w.shape[0],):
        raise RuntimeError(f"linear: bias must have shape ({weight.shape[0]},) for weight of shape "
                           f"{tuple(weight.shape)}, got {tuple(bias.shape)}")
    return Linear.apply(*tensors)


# ---------------------------------------------------------------------- convolution and pooling
def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """2-D cross-correlation of ``input`` (N, C, H, W) or (C, H, W) with ``weight`` (O, C/groups, KH, KW).

    As ``torch.nn.functional.conv2d``: ``stride``, ``padding`` and ``dilation`` are an int or a
    pair; ``padding`` may also be ``"valid"`` (none) or ``"same"`` (output as large as the input,
    stride 1 only; an odd total goes to the bottom/right, as PyTorch). Zero padding. Returns
    (N, O, OH, OW), or (O, OH, OW) for an unbatched input. With ``groups`` G, input channels and
    output channels are split into G groups and group g of the output sees only group g of the input.
    """
    op = "conv2d"
    if not isinstance(input, Tensor) or not isinstance(weight, Tensor) or (
            bias is not None and not isinstance(bias, Tensor)):
        raise TypeError(f"{op}: input, weight and bias must be tensors, got {type(input).__name__}, "
                        f"{type(weight).__name__} and {type(bias).__name__}")
    if not isinstance(groups, numbers.Integral) or isinstance(groups, bool) or groups <= 0:
        raise RuntimeError(f"{op}: non-positive groups is not supported, got groups={groups!r}")
    groups = int(groups)
    if weight.ndim != 4:
        raise RuntimeError(f"{op}: expected a 4-D weight (out_channels, in_channels, kH, kW), "
                           f"got weight of shape {_shape_of(weight)}")
    if input.ndim not in (3, 4):
        raise RuntimeError(f"{op}: expected a 3-D (unbatched) or 4-D (batched) input to match weight "
                           f"of shape {_shape_of(weight)}, got input of shape {_shape_of(input)}")
    _check_same_device(op, input, weight)
    if bias is not None:
        _check_same_device(op, input, bias)
    if input.array.dtype.kind != "f":
        raise RuntimeError(f"{op}: expected a floating-point input, got input of dtype {input.dtype}")
    if input.array.dtype != weight.array.dtype:
        raise RuntimeError(f"{op}: expected input and weight to have the same dtype, got input "
                           f"{input.dtype} (shape {_shape_of(input)}) and weight {weight.dtype} "
                           f"(shape {_shape_of(weight)})")
    out_ch, in_ch, kh, kw = weight.shape
    if kh == 0 or kw == 0:
        raise RuntimeError(f"{op}: kernel size should be greater than zero, but got weight of shape "
                           f"{_shape_of(weight)} (kH: {kh} kW: {kw})")
    c, h, w = input.shape[-3:]
    if out_ch % groups:
        raise RuntimeError(f"{op}: expected weight of shape {_shape_of(weight)} to have a number of output "
                           f"channels divisible by groups={groups}")
    if c != in_ch * groups:
        with_groups = f" and groups={groups}" if groups != 1 else ""
        raise RuntimeError(f"{op}: expected input with {in_ch * groups} channels to match weight of shape "
                           f"{_shape_of(weight)}{with_groups}, got input of shape {_shape_of(input)}")
    if bias is not None:
        if bias.ndim != 1 or bias.shape[0] != out_ch:
            raise RuntimeError(f"{op}: expected bias of shape ({out_ch},) to match weight of shape "
                               f"{_shape_of(weight)}, got bias of shape {_shape_of(bias)}")
        if bias.array.dtype != weight.array.dtype:
            raise RuntimeError(f"{op}: expected bias and weight to have the same dtype, got bias "
                               f"{bias.dtype} and weight {weight.dtype}")

    sh, sw = int_pair(stride, "stride", op)
    dh, dw = int_pair(dilation, "dilation", op)
    if sh <= 0 or sw <= 0:
        raise RuntimeError(f"{op}: non-positive stride is not supported, got stride={stride!r}")
    if dh <= 0 or dw <= 0:
        raise RuntimeError(f"{op}: dilation should be greater than zero, got dilation={dilation!r}")
    span_h, span_w = dh * (kh - 1) + 1, dw * (kw - 1) + 1
    if isinstance(padding, str):
        if padding == "valid":
            pads = ((0, 0), (0, 0))
        elif padding == "same":
            if (sh, sw) != (1, 1):
                raise RuntimeError(f"{op}: padding='same' is not supported for strided convolutions, "
                                   f"got stride={stride!r}")
            pads = tuple((t // 2, t - t // 2) for t in (span_h - 1, span_w - 1))
        else:
            raise ValueError(f"{op}: invalid padding string {padding!r}, should be one of 'valid' or 'same'")
    else:
        ph, pw = int_pair(padding, "padding", op)
        if ph < 0 or pw < 0:
            raise RuntimeError(f"{op}: negative padding is not supported, got padding={padding!r}")
        pads = ((ph, ph), (pw, pw))
    hp, wp = h + sum(pads[0]), w + sum(pads[1])
    if hp < span_h or wp < span_w:
        raise RuntimeError(f"{op}: input of shape {_shape_of(input)} (padded to {hp}x{wp}) is smaller than "
                           f"the dilated kernel size {span_h}x{span_w} of weight of shape {_shape_of(weight)}")

    window = Window2d.of((h, w), (kh, kw), (sh, sw), pads, (dh, dw))
    if input.ndim == 3:  # unbatched: one image
        return Conv2d.apply(input.unsqueeze(0), weight, bias, window=window, groups=groups).squeeze(0)
    return Conv2d.apply(input, weight, bias, window=window, groups=groups)


def _window_args(op, kernel_size, dilation, padding, stride):
    kh, kw = int_pair(kernel_size, "kernel_size", op)
    dh, dw = int_pair(dilation, "dilation", op)
    ph, pw = int_pair(padding, "padding", op)
    sh, sw = int_pair(stride, "stride", op)
    if min(kh, kw) <= 0 or min(dh, dw) <= 0 or min(sh, sw) <= 0 or min(ph, pw) < 0:
        raise RuntimeError(f"{op}: kernel_size, dilation and stride must be positive and padding non-negative, "
                           f"got kernel_size={kernel_size!r}, dilation={dilation!r}, padding={padding!r}, "
                           f"stride={stride!r}")
    return (kh, kw), (dh, dw), ((ph, ph), (pw, pw)), (sh, sw)


def unfold(input, kernel_size, dilation=1, padding=0, stride=1):
    """im2col: (N, C, H, W) -> (N, C*kH*kW, L), one column per sliding window (``torch.nn.functional.unfold``)."""
    op = "unfold"
    if not isinstance(input, Tensor) or input.ndim not in (3, 4):
        raise RuntimeError(f"{op}: expected a 3-D or 4-D input tensor, got "
                           f"{_shape_of(input) if isinstance(input, Tensor) else type(input).__name__}")
    kernel, dilation, pads, stride = _window_args(op, kernel_size, dilation, padding, stride)
    window = Window2d.of(input.shape[-2:], kernel, stride, pads, dilation)
    if min(window.out) <= 0:
        raise RuntimeError(f"{op}: input of shape {_shape_of(input)} is too small for kernel_size "
                           f"{kernel} (dilated {window.span}) with padding {padding!r}")
    x = input.unsqueeze(0) if input.ndim == 3 else input
    out = Unfold.apply(x, window=window)
    return out.squeeze(0) if input.ndim == 3 else out


def fold(input, output_size, kernel_size, dilation=1, padding=0, stride=1):
    """col2im, the adjoint of ``unfold``: (N, C*kH*kW, L) -> (N, C, H, W), overlapping windows added up."""
    op = "fold"
    if not isinstance(input, Tensor) or input.ndim not in (2, 3):
        raise RuntimeError(f"{op}: expected a 2-D or 3-D input tensor, got "
                           f"{_shape_of(input) if isinstance(input, Tensor) else type(input).__name__}")
    size = int_pair(output_size, "output_size", op)
    kernel, dilation, pads, stride = _window_args(op, kernel_size, dilation, padding, stride)
    window = Window2d.of(size, kernel, stride, pads, dilation)
    x = input.unsqueeze(0) if input.ndim == 2 else input
    k = kernel[0] * kernel[1]
    if x.shape[1] % k:
        raise RuntimeError(f"{op}: expected size of input's dimension 1 to be divisible by the product of "
                           f"kernel_size ({k}), but got input.size(1)={x.shape[1]}")
    if x.shape[2] != window.out[0] * window.out[1]:
        raise RuntimeError(f"{op}: given output_size={size}, kernel_size={kernel}, dilation={dilation}, "
                           f"padding={padding!r}, stride={stride}, expected size of input's dimension 2 to match "
                           f"the calculated number of sliding blocks {window.out[0]} * {window.out[1]} = "
                           f"{window.out[0] * window.out[1]}, but got input.size(2)={x.shape[2]}")
    out = Fold.apply(x, window=window, channels=x.shape[1] // k)
    return out.squeeze(0) if input.ndim == 2 else out

def _check_input(op, input):
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}: expected a tensor input, got {type(input).__name__}")
    if input.array.dtype.kind != "f":
        raise RuntimeError(f"{op}: expected a floating-point input, got input of shape "
                           f"{tuple(input.shape)} and dtype {input.dtype}")


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    """Max over (KH, KW) windows of an (N, C, H, W) or (C, H, W) input, as PyTorch's.

    ``stride`` defaults to ``kernel_size``; padding (at most half the kernel) never wins. With
    ``return_indices=True`` returns ``(values, indices)``, the indices flat in each H*W plane.
    """
    op = "max_pool2d"
    _check_input(op, input)
    window = pool_window(op, input.shape, kernel_size, stride, padding, dilation, bool(ceil_mode))
    x = input.unsqueeze(0) if input.ndim == 3 else input
    if not return_indices:
        out = MaxPool2d.apply(x, window=window)
        return out.squeeze(0) if input.ndim == 3 else out
    values, indices = MaxPool2d.apply(x, window=window, return_indices=True)
    return (values.squeeze(0), indices.squeeze(0)) if input.ndim == 3 else (values, indices)


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
               divisor_override=None):
    """Mean over (KH, KW) windows of an (N, C, H, W) or (C, H, W) input, as PyTorch's.

    ``count_include_pad=True`` (the default) divides by the window size including zero padding,
    False by the number of input elements in the window; ``divisor_override`` divides by that
    number instead.
    """
    op = "avg_pool2d"
    _check_input(op, input)
    if divisor_override is not None:
        if not isinstance(divisor_override, numbers.Real) or isinstance(divisor_override, bool):
            raise TypeError(f"{op}: divisor_override must be a number, got {divisor_override!r}")
        if divisor_override == 0:
            raise RuntimeError(f"{op}: divisor must be not zero")
    window = pool_window(op, input.shape, kernel_size, stride, padding, 1, bool(ceil_mode))
    x = input.unsqueeze(0) if input.ndim == 3 else input
    out = AvgPool2d.apply(x, window=window, count_include_pad=bool(count_include_pad),
                          divisor_override=divisor_override)
    return out.squeeze(0) if input.ndim == 3 else out


# ---------------------------------------------------------------------- losses
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
    shape = input.array.shape
    if not shape:
        raise ValueError(f"{op}: expected input of shape (N, C), (N, C, d1, ...) or (C,), got a 0-d tensor")
    if len(shape) == 1:
        expected = ()
        n_classes = shape[0]
    else:
        expected = (shape[0],) + shape[2:]
        n_classes = shape[1]
    if target.array.shape != expected:
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
    if t.size and not backend.is_cupy_array(t):
        # the host check, before any indexing (on the GPU the op guards instead: see the module doc);
        # all in range is the common case and two reductions tell it (ignore_index may lie outside)
        bad = None if t.min() >= 0 and t.max() < n_classes else (t != ignore_index) & ((t < 0) | (t >= n_classes))
        if bad is not None and bool(bad.any()):
            first = int(t[bad].ravel()[0])
            raise IndexError(f"{op}: target {first} is out of bounds for {n_classes} classes "
                             f"(valid: 0 to {n_classes - 1}, or ignore_index={ignore_index})")
    return weight_array


def _target_loss(op_name, fn, input, target, weight, ignore_index, reduction):
    weight_array = _check_target_loss_args(op_name, input, target, weight, ignore_index)
    if input.ndim == 1:  # unbatched: one sample
        out = fn.apply(input.unsqueeze(0), target.reshape(1), weight=weight_array, ignore_index=ignore_index,
                       reduction=reduction)
        return out.reshape(()) if reduction == "none" else out
    return fn.apply(input, target, weight=weight_array, ignore_index=ignore_index, reduction=reduction)


# ---------------------------------------------------------------------- the functions
def cross_entropy(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None,
                  reduction="mean", label_smoothing=0.0):
    """Cross-entropy between logits ``input`` (N, C[, d...]) and class indices ``target`` (N[, d...]),
    or class probabilities ``target`` of the input's shape (a floating-point target).

    With class indices and no smoothing: one fused, numerically stable op (see the module
    docstring). ``weight`` (C,) rescales each class; targets equal to ``ignore_index`` contribute
    nothing, and 'mean' divides by the sum of the weights of the targets that count (N without
    weights). ``label_smoothing`` ε mixes in the uniform distribution, PyTorch's way:
    (1 - ε) * nll + ε/C * sum_c -w_c log p_c, the second term reduced with the same denominator.
    With probabilities: -sum_c w_c t_c log p_c per sample ('mean' divides by the number of
    samples), the targets smoothed first to (1 - ε) t + ε/C.
    """
    reduction = legacy_reduction(size_average, reduce, reduction, "cross_entropy")
    if not 0.0 <= label_smoothing <= 1.0:
        raise RuntimeError(f"label_smoothing must be between 0.0 and 1.0. Got: {label_smoothing}")
    if isinstance(target, Tensor) and isinstance(input, Tensor) and target.is_floating_point() \
            and tuple(target.shape) == tuple(input.shape):   # PyTorch's rule: same shape, probabilities
        return _cross_entropy_probabilities(input, target, weight, ignore_index, reduction, label_smoothing)
    if not label_smoothing:
        return _target_loss("cross_entropy", CrossEntropy, input, target, weight, ignore_index, reduction)
    return _cross_entropy_smoothed(input, target, weight, ignore_index, reduction, label_smoothing)


def _class_weight_view(weight, input, class_dim):
    """``weight`` (C,) as a constant tensor shaped to broadcast along the class dimension."""
    shape = [1] * input.ndim
    shape[class_dim] = input.shape[class_dim]
    array = weight.array if isinstance(weight, Tensor) else weight
    return Tensor(to_device(array, input.device).astype(input.array.dtype, copy=False).reshape(shape))


def _cross_entropy_probabilities(input, target, weight, ignore_index, reduction, label_smoothing):
    op = "cross_entropy"
    if ignore_index >= 0:
        raise RuntimeError("ignore_index is not supported for floating point target")
    if target.array.dtype != input.array.dtype:
        raise RuntimeError(f"{op}: expected target of the input's dtype {input.dtype}, got {target.dtype}")
    class_dim = 1 if input.ndim >= 2 else 0
    n_classes = input.shape[class_dim]
    log_p = input.log_softmax(class_dim)
    if label_smoothing:
        target = target * (1 - label_smoothing) + label_smoothing / n_classes
    terms = log_p * target
    if weight is not None:
        terms = terms * _class_weight_view(weight, input, class_dim)
    if reduction == "none":
        return -terms.sum(class_dim)
    if reduction == "sum":
        return -terms.sum()
    return -terms.sum() / (input.numel() // n_classes if n_classes else 0)


def _cross_entropy_smoothed(input, target, weight, ignore_index, reduction, label_smoothing):
    weight_array = _check_target_loss_args("cross_entropy", input, target, weight, ignore_index)
    class_dim = 1 if input.ndim >= 2 else 0
    n_classes = input.shape[class_dim]
    log_p = input.log_softmax(class_dim)
    nll = nll_loss(log_p, target, weight=None if weight_array is None else Tensor(weight_array),
                   ignore_index=ignore_index, reduction=reduction)
    if weight_array is not None:
        log_p = log_p * _class_weight_view(weight_array, input, class_dim)
    ignored = target == ignore_index
    smooth = (-log_p.sum(class_dim)).masked_fill(ignored, 0)
    if reduction == "sum":
        smooth = smooth.sum()
    elif reduction == "mean":  # the nll term's denominator: the weight of the targets that count
        t, kept = target.array, ~ignored.array
        denominator = kept.sum() if weight_array is None else \
            weight_array.astype(input.array.dtype)[t[kept]].sum()
        smooth = smooth.sum() / Tensor(backend.get_array_module(t).asarray(denominator, dtype=input.array.dtype))
    return nll * (1 - label_smoothing) + smooth * (label_smoothing / n_classes)


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


# ---------------------------------------------------------------------- activations
def relu(input, inplace=False):
    """max(x, 0); relu'(0) = 0. ``inplace`` is accepted and ignored (a new tensor is returned)."""
    return input.relu()


def sigmoid(input):
    return input.sigmoid()


def tanh(input):
    return input.tanh()


def _softmax_dim(name, ndim, stacklevel):
    warnings.warn(f"Implicit dimension choice for {name} has been deprecated. Change the call to "
                  f"include dim=X as an argument.", UserWarning, stacklevel=stacklevel)
    return 0 if ndim in (0, 1, 3) else 1


def softmax(input, dim=None, _stacklevel=3, dtype=None):
    """exp(x_i - max) / sum_j exp(x_j - max) along ``dim`` (PyTorch's implicit dim if None, with its warning)."""
    if dim is None:
        dim = _softmax_dim("softmax", input.ndim, _stacklevel)
    if dtype is not None:
        input = input.to(dtype)
    return input.softmax(dim)


def log_softmax(input, dim=None, _stacklevel=3, dtype=None):
    """(x_i - max) - log sum_j exp(x_j - max) along ``dim``."""
    if dim is None:
        dim = _softmax_dim("log_softmax", input.ndim, _stacklevel)
    if dtype is not None:
        input = input.to(dtype)
    return input.log_softmax(dim)


# ---------------------------------------------------------------------- dropout
def dropout(input, p=0.5, training=True, inplace=False):
    """Inverted dropout: zero each element with probability ``p`` and scale the rest by 1/(1-p).

    The identity when ``training`` is False (or p == 0). The mask is drawn on the host from the
    engine's generator and moved to the input's device. ``inplace`` is accepted and ignored.
    """
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    if not training or p == 0.0:
        return input
    if not input.is_floating_point():
        raise RuntimeError(f"dropout: expected a floating point input, got {input.dtype}")
    dtype = input.array.dtype
    if p == 1.0:
        mask = np.zeros(input.shape, dtype=dtype)  # host: masks are drawn on the host, then moved
    else:
        keep = backend.numpy_rng().random(input.shape, dtype=np.float32) >= p
        mask = keep.astype(dtype) * dtype.type(1.0 / (1.0 - p))
    return Dropout.apply(input, Tensor(to_device(mask, input.device)))


# ---------------------------------------------------------------------- shape and encoding helpers
def flatten(input, start_dim=0, end_dim=-1):
    """``torch.flatten``: merge dims start_dim..end_dim into one (note: nn.Flatten starts at 1)."""
    return input.flatten(start_dim, end_dim)


def one_hot(tensor, num_classes=-1):
    """int64 one-hot encoding of an integer tensor: shape (*, num_classes).

    ``num_classes=-1`` uses max(tensor) + 1. Values are checked (on the host) to lie in range.
    """
    if not isinstance(tensor, Tensor) or tensor.array.dtype.kind not in "iu":
        raise RuntimeError("one_hot is only applicable to index tensor (an integer Tensor)")
    arr = tensor.array
    xp = backend.get_array_module(arr)
    if num_classes == -1:
        if arr.size == 0:
            raise RuntimeError("one_hot: can not infer total number of classes from empty tensor")
        num_classes = int(arr.max()) + 1
    if arr.size:
        lo, hi = int(arr.min()), int(arr.max())
        if lo < 0:
            raise RuntimeError(f"one_hot: class values must be non-negative, got {lo}")
        if hi >= num_classes:
            raise RuntimeError(f"one_hot: class value {hi} is out of range for num_classes={num_classes}")
    out = (arr[..., None] == xp.arange(num_classes)).astype(np.int64)
    return Tensor._from_op(out, None)



# ====================================================================== the rest of torch.nn.functional
# Compositions of differentiable Tensor ops where that is exact and reads as the math (so second
# derivatives come for free); the ops of ops/activation.py, ops/embedding.py and ops/loss.py where
# a composition would be unstable or wrong at the edges.

# ---------------------------------------------------------------------- activations
def _float_input(op, input):
    _check_input(op, input)
    return input


def leaky_relu(input, negative_slope=0.01, inplace=False):
    """x for x > 0, else negative_slope * x (the slope at 0 is negative_slope, as PyTorch)."""
    x = _float_input("leaky_relu", input)
    return x.where(x > 0, x * negative_slope)


def elu(input, alpha=1.0, inplace=False):
    """x for x > 0, else alpha * (exp(x) - 1)."""
    return ELUOp.apply(_float_input("elu", input), alpha=float(alpha))


def selu(input, inplace=False):
    """scale * elu(x, alpha) with the self-normalising constants of Klambauer et al."""
    return ELUOp.apply(_float_input("selu", input), alpha=1.6732632423543772848170429916717,
                       scale=1.0507009873554804934193349852946)


def celu(input, alpha=1.0, inplace=False):
    """x for x > 0, else alpha * (exp(x / alpha) - 1)."""
    if alpha == 0:
        raise RuntimeError("ZeroDivisionError: celu: alpha cannot be 0")
    return ELUOp.apply(_float_input("celu", input), alpha=float(alpha), input_scale=1.0 / alpha)


_SQRT1_2 = 0.7071067811865476
_SQRT_2_OVER_PI = 0.7978845608028654


def gelu(input, approximate="none"):
    """x * Phi(x), Phi the standard normal CDF: 0.5 x (1 + erf(x / sqrt 2)); with
    ``approximate='tanh'``, 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))."""
    x = _float_input("gelu", input)
    if approximate == "none":
        return x * 0.5 * (1 + Erf.apply(x * _SQRT1_2))
    if approximate == "tanh":
        return x * 0.5 * (1 + ((x + x * x * x * 0.044715) * _SQRT_2_OVER_PI).tanh())
    raise RuntimeError("approximate argument must be either none or tanh.")


def silu(input, inplace=False):
    """x * sigmoid(x) (the swish)."""
    x = _float_input("silu", input)
    return x * x.sigmoid()


def mish(input, inplace=False):
    """x * tanh(softplus(x))."""
    x = _float_input("mish", input)
    return x * softplus(x).tanh()


def softplus(input, beta=1.0, threshold=20.0):
    """log(1 + exp(beta x)) / beta; x itself where beta * x > threshold."""
    return SoftplusOp.apply(_float_input("softplus", input), beta=float(beta), threshold=float(threshold))


def logsigmoid(input):
    """log(sigmoid(x)), computed without overflow: min(x, 0) - log(1 + exp(-|x|))."""
    return LogSigmoidOp.apply(_float_input("logsigmoid", input))


def hardtanh(input, min_val=-1.0, max_val=1.0, inplace=False):
    """x clamped to [min_val, max_val]; the gradient is 0 at the ends too (PyTorch's rule)."""
    if min_val > max_val:
        raise ValueError("min_val cannot be greater than max_val")
    x = _float_input("hardtanh", input)
    return x.masked_fill(x <= min_val, min_val).masked_fill(x >= max_val, max_val)


def relu6(input, inplace=False):
    """min(max(x, 0), 6): ``hardtanh(x, 0, 6)``."""
    return hardtanh(input, 0.0, 6.0)


def hardsigmoid(input, inplace=False):
    """0 for x <= -3, 1 for x >= 3, x/6 + 1/2 between."""
    x = _float_input("hardsigmoid", input)
    return (x / 6 + 0.5).masked_fill(x <= -3, 0).masked_fill(x >= 3, 1)


def hardswish(input, inplace=False):
    """x * hardsigmoid(x): 0 for x <= -3, x for x >= 3, x (x + 3) / 6 between."""
    x = _float_input("hardswish", input)
    return x.where(x >= 3, x * (x + 3) / 6).masked_fill(x <= -3, 0)


def softsign(input):
    """x / (1 + |x|)."""
    x = _float_input("softsign", input)
    return x / (1 + x.abs())


def tanhshrink(input):
    """x - tanh(x)."""
    x = _float_input("tanhshrink", input)
    return x - x.tanh()


def prelu(input, weight):
    """x for x > 0, else a * x, with a learnt slope ``weight``: one for all channels, or one per channel
    (dimension 1 of the input, dimension 0 of a 1-D input)."""
    x = _float_input("prelu", input)
    if not isinstance(weight, Tensor) or weight.ndim > 1:
        raise RuntimeError("prelu: weight must be a 1-D tensor (one slope, or one per channel)")
    n = weight.numel()
    if n != 1:
        channel = 1 if x.ndim >= 2 else 0
        if x.ndim == 0 or x.shape[channel] != n:
            raise RuntimeError(f"Mismatch of parameter numbers and input channel size. Found parameter "
                               f"numbers = {n} and channel size = {x.shape[channel] if x.ndim else 1}.")
        shape = [1] * x.ndim
        shape[channel] = n
        a = weight.reshape(shape)
    else:
        a = weight.reshape(())
    return x.where(x > 0, a * x)


def softmin(input, dim=None, _stacklevel=3, dtype=None):
    """softmax(-x) along ``dim``."""
    if dim is None:
        dim = _softmax_dim("softmin", input.ndim, _stacklevel)
    if dtype is not None:
        input = input.to(dtype)
    return (-input).softmax(dim)


# ---------------------------------------------------------------------- losses
def _reduce(losses, reduction):
    if reduction == "none":
        return losses
    return losses.sum() if reduction == "sum" else losses.mean()


def _pointwise_operands(op, input, target):
    """input and target for an elementwise loss: tensors, floating, broadcast (with PyTorch's warning)."""
    if not isinstance(input, Tensor) or not isinstance(target, Tensor):
        raise TypeError(f"{op}: expected input and target to be Tensors, got "
                        f"{type(input).__name__} and {type(target).__name__}")
    if tuple(input.shape) != tuple(target.shape):
        try:
            np.broadcast_shapes(input.shape, target.shape)  # host: shapes only
        except ValueError:
            raise RuntimeError(f"{op}: the shape of input {tuple(input.shape)} and of target "
                               f"{tuple(target.shape)} cannot be broadcast together") from None
        warnings.warn(f"Using a target size ({tuple(target.shape)}) that is different to the input size "
                      f"({tuple(input.shape)}). This will likely lead to incorrect results due to "
                      f"broadcasting. Please ensure they have the same size.", UserWarning, stacklevel=3)
    a, b = _binary_operands(input, target)
    if a.array.dtype.kind != "f":
        raise RuntimeError(f"{op}: expected floating point input and target, got {input.dtype} and {target.dtype}")
    return a, b


def _weighted(op, losses, weight, input):
    if weight is None:
        return losses
    if tuple(weight.shape) != tuple(input.shape):
        raise ValueError("Weights and input must have the same size.")
    return losses * weight


def l1_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    """mean/sum/none of |input - target| (|x|' = sign(x), 0 at 0); ``weight`` (input's shape) scales
    each term, and then 'mean' is the weighted mean (divided by the sum of the weights)."""
    reduction = legacy_reduction(size_average, reduce, reduction, "l1_loss")
    a, b = _pointwise_operands("l1_loss", input, target)
    losses = _weighted("l1_loss", (a - b).abs(), weight, input)
    if weight is not None and reduction == "mean":
        return losses.sum() / weight.sum()
    return _reduce(losses, reduction)


def smooth_l1_loss(input, target, size_average=None, reduce=None, reduction="mean", beta=1.0):
    """0.5 d^2 / beta where |d| < beta, else |d| - 0.5 beta (d = input - target); the L1 loss for beta = 0."""
    reduction = legacy_reduction(size_average, reduce, reduction, "smooth_l1_loss")
    if beta < 0:
        raise RuntimeError("smooth_l1_loss does not support negative values for beta.")
    a, b = _pointwise_operands("smooth_l1_loss", input, target)
    d = a - b
    if beta == 0:
        return _reduce(d.abs(), reduction)
    ad = d.abs()
    return _reduce((d * d * (0.5 / beta)).where(ad < beta, ad - 0.5 * beta), reduction)


def huber_loss(input, target, reduction="mean", delta=1.0, weight=None):
    """0.5 d^2 where |d| < delta, else delta (|d| - 0.5 delta): smooth_l1_loss(beta=delta) times delta."""
    check_reduction(reduction, "huber_loss")
    if delta <= 0:
        raise RuntimeError("huber_loss does not support non-positive values for delta.")
    a, b = _pointwise_operands("huber_loss", input, target)
    d = a - b
    ad = d.abs()
    losses = (d * d * 0.5).where(ad < delta, (ad - 0.5 * delta) * delta)
    return _reduce(_weighted("huber_loss", losses, weight, input), reduction)


def binary_cross_entropy(input, target, weight=None, size_average=None, reduce=None, reduction="mean"):
    """-w (t log x + (1 - t) log(1 - x)) for probabilities ``input`` in [0, 1], each log at least -100.

    ``weight`` broadcasts to the input's shape. The values of input and target are checked on
    the host (CPU tensors), as PyTorch's CPU kernel does.
    """
    op = "binary_cross_entropy"
    reduction = legacy_reduction(size_average, reduce, reduction, op)
    if not isinstance(input, Tensor) or not isinstance(target, Tensor):
        raise TypeError(f"{op}: expected input and target to be Tensors, got "
                        f"{type(input).__name__} and {type(target).__name__}")
    if tuple(target.shape) != tuple(input.shape):
        raise ValueError(f"Using a target size ({tuple(target.shape)}) that is different to the input size "
                         f"({tuple(input.shape)}) is deprecated. Please ensure they have the same size.")
    _check_input(op, input)
    if target.array.dtype != input.array.dtype:
        raise RuntimeError(f"{op}: expected target of the input's dtype {input.dtype}, got {target.dtype}")
    _check_same_device(op, input, target)
    if input.device.type == "cpu" and input.array.size:
        for name, t in (("input", input), ("target", target)):
            if bool(((t.array < 0) | (t.array > 1)).any()):
                raise RuntimeError(f"all elements of {name} should be between 0 and 1")
    w = None
    if weight is not None:
        try:
            np.broadcast_shapes(weight.shape, input.shape)  # host: shapes only
        except ValueError:
            raise RuntimeError(f"{op}: weight of shape {tuple(weight.shape)} cannot be broadcast to the "
                               f"input's shape {tuple(input.shape)}") from None
        w = weight.detach().to(input.dtype)
    return BinaryCrossEntropy.apply(input, target, w, reduction=reduction)


def binary_cross_entropy_with_logits(input, target, weight=None, size_average=None, reduce=None,
                                     reduction="mean", pos_weight=None):
    """binary_cross_entropy(sigmoid(input), target), computed stably from the logits:
    (1 - t) x - l log sigmoid(x), with l = 1 + (pos_weight - 1) t (l = 1 without ``pos_weight``),
    times ``weight``. ``pos_weight`` (one per class, broadcasting along the last dimension)
    weighs the positive targets."""
    op = "binary_cross_entropy_with_logits"
    reduction = legacy_reduction(size_average, reduce, reduction, op)
    if not isinstance(input, Tensor) or not isinstance(target, Tensor):
        raise TypeError(f"{op}: expected input and target to be Tensors, got "
                        f"{type(input).__name__} and {type(target).__name__}")
    if tuple(target.shape) != tuple(input.shape):
        raise ValueError(f"Target size ({tuple(target.shape)}) must be the same as input size ({tuple(input.shape)})")
    _check_input(op, input)
    x, t = _binary_operands(input, target)
    log_weight = 1 if pos_weight is None else (pos_weight - 1) * t + 1
    losses = (1 - t) * x - log_weight * logsigmoid(x)
    if weight is not None:
        losses = losses * weight
    return _reduce(losses, reduction)


def kl_div(input, target, size_average=None, reduce=None, reduction="mean", log_target=False):
    """KL(target || exp(input)) pointwise: target (log target - input), 0 where target is 0; with
    ``log_target`` the target is given as log-probabilities: exp(target) (target - input).

    'batchmean' divides the sum by the batch size (the KL divergence per sample); 'mean' divides
    by the number of elements (with PyTorch's warning about it).
    """
    op = "kl_div"
    if size_average is not None or reduce is not None:
        reduction = legacy_reduction(size_average, reduce, reduction, op)
    else:
        if reduction not in REDUCTIONS + ("batchmean",):
            raise ValueError(f"{reduction} is not a valid value for reduction")
        if reduction == "mean":
            warnings.warn("reduction: 'mean' divides the total loss by both the batch size and the support size."
                          "'batchmean' divides only by the batch size, and aligns with the KL div math definition."
                          "'mean' will be changed to behave the same as 'batchmean' in the next major release.",
                          UserWarning, stacklevel=2)
    x, t = _binary_operands(input, target)
    if log_target:
        losses = t.exp() * (t - x)
    else:
        zero = t == 0
        losses = t * t.masked_fill(zero, 1).log() - t * x             # xlogy(t, t): 0 at t = 0
    if reduction == "batchmean":
        total = losses.sum()
        return total / input.shape[0] if input.ndim else total
    return _reduce(losses, reduction)


def _norm(x, p, dim):
    """The p-norm of ``x`` along ``dim`` (kept), with a zero gradient where the norm is 0 (PyTorch's)."""
    if p == 2:
        sq = (x * x).sum(dim, keepdim=True)
        zero = sq == 0
        return sq.masked_fill(zero, 1).sqrt().masked_fill(zero, 0)
    if p == float("inf"):
        return x.abs().amax(dim, keepdim=True)
    if p == 1:
        return x.abs().sum(dim, keepdim=True)
    s = (x.abs() ** p).sum(dim, keepdim=True)
    zero = s == 0
    return (s.masked_fill(zero, 1) ** (1.0 / p)).masked_fill(zero, 0)


def cosine_similarity(x1, x2, dim=1, eps=1e-8):
    """<x1, x2> / (max(||x1||, eps) max(||x2||, eps)) along ``dim`` (x1, x2 broadcast).

    As PyTorch: each vector is divided by its norm first (no overflow of the product), and the
    norms are floored at eps without that floor being differentiated.
    """
    for name, t in (("x1", x1), ("x2", x2)):
        if not isinstance(t, Tensor):
            raise TypeError(f"cosine_similarity(): argument '{name}' must be Tensor, not {type(t).__name__}")
    try:
        shape = np.broadcast_shapes(x1.shape, x2.shape)  # host: shapes only
    except ValueError:
        raise RuntimeError(f"cosine_similarity: the shapes of x1 {tuple(x1.shape)} and x2 {tuple(x2.shape)} "
                           f"cannot be broadcast together") from None
    a, b = _binary_operands(x1, x2)
    if a.array.dtype.kind != "f":
        a, b = a.to(dtypes.default_float), b.to(dtypes.default_float)
    a, b = a.expand(shape), b.expand(shape)
    d = canonical_dim(dim, len(shape), "cosine_similarity")

    def floored(n):  # max(n, eps) in value; the gradient of n itself
        return n + (n.clamp(min=eps) - n).detach()
    return ((a / floored(_norm(a, 2, d))) * (b / floored(_norm(b, 2, d)))).sum(d)


def normalize(input, p=2.0, dim=1, eps=1e-12, out=None):
    """input / max(||input||_p, eps) along ``dim``."""
    if out is not None:
        raise NotImplementedError("normalize(out=...) is not supported: use the returned tensor")
    x = _float_input("normalize", input)
    d = canonical_dim(dim, x.ndim, "normalize")
    return x / _norm(x, p, d).clamp(min=eps).expand_as(x)


# ---------------------------------------------------------------------- normalization
def _verify_batch_size(size):
    count = size[0]
    for n in size[2:]:
        count *= n
    if count == 1:
        raise ValueError(f"Expected more than 1 value per channel when training, got input size {tuple(size)}")


def _channel_shape(x):
    return (1, x.shape[1]) + (1,) * (x.ndim - 2)


def _affine(out, weight, bias, shape):
    if weight is not None:
        out = out * weight.reshape(shape)
    if bias is not None:
        out = out + bias.reshape(shape)
    return out


def batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False, momentum=0.1,
               eps=1e-5):
    """Normalise each channel (dimension 1) of ``input`` (N, C, ...) and scale/shift it by weight/bias.

    training: by the batch's mean and biased variance over N and the spatial dimensions, and, when
    the running statistics are given, update them in place (outside the graph):
    running = (1 - momentum) * running + momentum * batch, with the unbiased variance.
    Otherwise by the running statistics.
    """
    op = "batch_norm"
    x = _float_input(op, input)
    if x.ndim < 2:
        raise ValueError(f"{op}: expected an input of at least 2 dimensions (N, C, ...), got {tuple(x.shape)}")
    c = x.shape[1]
    for name, t in (("running_mean", running_mean), ("running_var", running_var), ("weight", weight),
                    ("bias", bias)):
        if t is not None and tuple(t.shape) != (c,):
            raise RuntimeError(f"{op}: expected {name} of shape ({c},) for input of shape {tuple(x.shape)}, "
                               f"got {tuple(t.shape)}")
    shape = _channel_shape(x)
    if training:
        _verify_batch_size(tuple(x.shape))
        axes = (0,) + tuple(range(2, x.ndim))
        mean = x.mean(axes, keepdim=True)
        var = x.var(axes, keepdim=True, correction=0)
        if running_mean is not None or running_var is not None:
            _update_running_stats(x.array, mean.array, axes, running_mean, running_var, momentum)
    else:
        if running_mean is None or running_var is None:
            raise RuntimeError("running_mean must be defined in evaluation mode")
        mean, var = running_mean.reshape(shape), running_var.reshape(shape)
    return _affine((x - mean) / (var + eps).sqrt(), weight, bias, shape)


def _update_running_stats(x, mean, axes, running_mean, running_var, momentum):
    """running = momentum * batch + (1 - momentum) * running, in place (unbiased batch variance)."""
    n = x.size // x.shape[1]
    if running_mean is not None:
        running_mean.array[...] = momentum * mean.reshape(-1) + (1 - momentum) * running_mean.array
        running_mean._bump_version()
    if running_var is not None:
        centred = x - mean
        unbiased = (centred * centred).sum(axis=axes) / (n - 1)
        running_var.array[...] = momentum * unbiased + (1 - momentum) * running_var.array
        running_var._bump_version()


def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5):
    """Normalise over the last len(normalized_shape) dimensions (mean, biased variance), then
    weight * x + bias (each of ``normalized_shape``)."""
    op = "layer_norm"
    x = _float_input(op, input)
    shape = (normalized_shape,) if isinstance(normalized_shape, numbers.Integral) else tuple(normalized_shape)
    k = len(shape)
    if k == 0 or x.ndim < k or tuple(x.shape[x.ndim - k:]) != shape:
        raise RuntimeError(f"Given normalized_shape={list(shape)}, expected input with shape "
                           f"[*, {', '.join(map(str, shape))}], but got input of size{list(x.shape)}")
    for name, t in (("weight", weight), ("bias", bias)):
        if t is not None and tuple(t.shape) != shape:
            raise RuntimeError(f"{op}: expected {name} of shape {shape}, got {tuple(t.shape)}")
    dims = tuple(range(x.ndim - k, x.ndim))
    mean = x.mean(dims, keepdim=True)
    var = x.var(dims, keepdim=True, correction=0)
    out = (x - mean) / (var + eps).sqrt()
    return _affine(out, weight, bias, shape)


def group_norm(input, num_groups, weight=None, bias=None, eps=1e-5):
    """Split the channels of ``input`` (N, C, ...) into ``num_groups`` groups and normalise each
    group of each sample (mean, biased variance); then a per-channel weight and bias."""
    op = "group_norm"
    x = _float_input(op, input)
    if x.ndim < 2:
        raise RuntimeError(f"Expected at least 2 dimensions for input tensor but received {x.ndim}")
    n, c = x.shape[:2]
    if num_groups <= 0 or c % num_groups:
        raise RuntimeError(f"Expected number of channels in input to be divisible by num_groups, but got "
                           f"input of shape {list(x.shape)} and num_groups={num_groups}")
    _verify_batch_size((n * c // num_groups, num_groups) + tuple(x.shape[2:]))
    for name, t in (("weight", weight), ("bias", bias)):
        if t is not None and tuple(t.shape) != (c,):
            raise RuntimeError(f"{op}: expected {name} of shape ({c},), got {tuple(t.shape)}")
    groups = x.reshape(n, num_groups, -1)
    mean = groups.mean(2, keepdim=True)
    var = groups.var(2, keepdim=True, correction=0)
    out = ((groups - mean) / (var + eps).sqrt()).reshape(x.shape)
    return _affine(out, weight, bias, _channel_shape(x))


def instance_norm(input, running_mean=None, running_var=None, weight=None, bias=None,
                  use_input_stats=True, momentum=0.1, eps=1e-5):
    """Normalise each channel of each sample over its spatial dimensions (``group_norm`` with one
    channel per group). Running statistics are not supported here."""
    if running_mean is not None or running_var is not None or not use_input_stats:
        raise NotImplementedError("instance_norm: running statistics are not supported (only use_input_stats=True)")
    x = _float_input("instance_norm", input)
    if x.ndim < 3 or math.prod(x.shape[2:]) == 1:
        raise ValueError(f"Expected more than 1 spatial element when training, got input size {tuple(x.shape)}")
    dims = tuple(range(2, x.ndim))
    mean = x.mean(dims, keepdim=True)
    var = x.var(dims, keepdim=True, correction=0)
    return _affine((x - mean) / (var + eps).sqrt(), weight, bias, _channel_shape(x))


# ---------------------------------------------------------------------- embedding
def embedding(input, weight, padding_idx=None, max_norm=None, norm_type=2.0, scale_grad_by_freq=False,
              sparse=False):
    """Rows of ``weight`` (num_embeddings, dim) at the integer ``input``: shape input.shape + (dim,).

    ``padding_idx``: that row gets no gradient. ``max_norm``: the rows looked up whose
    ``norm_type``-norm exceeds it are first rescaled in place to norm max_norm (outside the
    graph, as PyTorch). ``scale_grad_by_freq``: each row's gradient is divided by how often its
    index occurs in ``input``. ``sparse=True`` is accepted; the gradient is dense here.
    """
    op = "embedding"
    if not isinstance(input, Tensor) or input.array.dtype.kind not in "iu":
        got = input.dtype if isinstance(input, Tensor) else type(input).__name__
        raise RuntimeError(f"Expected tensor for argument #1 'indices' to have one of the following scalar "
                           f"types: Long, Int; but got {got} instead (while checking arguments for embedding)")
    if not isinstance(weight, Tensor) or weight.ndim != 2:
        raise RuntimeError(f"{op}: weight must be a 2-D tensor (num_embeddings, embedding_dim)")
    _check_same_device(op, input, weight)
    num = weight.shape[0]
    if padding_idx is not None:
        if padding_idx > 0:
            if padding_idx >= num:
                raise AssertionError("Padding_idx must be within num_embeddings")
        elif padding_idx < 0:
            if padding_idx < -num:
                raise AssertionError("Padding_idx must be within num_embeddings")
            padding_idx += num
    idx = input.array
    if idx.size and input.device.type == "cpu" and (int(idx.min()) < 0 or int(idx.max()) >= num):
        raise IndexError("index out of range in self")
    if max_norm is not None:
        _embedding_renorm(weight, idx, max_norm, norm_type)
    return EmbeddingOp.apply(weight, input.long() if idx.dtype != np.int64 else input,
                             padding_idx=padding_idx, scale_grad_by_freq=bool(scale_grad_by_freq))


def _embedding_renorm(weight, idx, max_norm, norm_type):
    """Rescale, in place, the rows at ``idx`` whose norm exceeds max_norm to norm max_norm (+1e-7 guard)."""
    xp = backend.get_array_module(weight.array)
    rows = xp.unique(idx)
    w = weight.array[rows]
    norms = (xp.abs(w) ** norm_type).sum(axis=1) ** (1.0 / norm_type)
    scale = xp.where(norms > max_norm, max_norm / (norms + 1e-7), 1.0).astype(w.dtype)
    weight.array[rows] = w * scale[:, None]
    weight._bump_version()


# ---------------------------------------------------------------------- dropout over whole channels
def _feature_dropout(op, input, p, training):
    """Zero whole channels: one draw per (sample, channel), shared by all positions of the channel."""
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    if not training or p == 0.0:
        return input
    _check_input(op, input)
    dtype = input.array.dtype
    shape = tuple(input.shape[:2]) + (1,) * (input.ndim - 2)
    if p == 1.0:
        mask = np.zeros(shape, dtype=dtype)  # host: masks are drawn on the host, then moved
    else:
        keep = backend.numpy_rng().random(shape, dtype=np.float32) >= p
        mask = keep.astype(dtype) * dtype.type(1.0 / (1.0 - p))
    return Dropout.apply(input, Tensor(to_device(mask, input.device)))


def dropout1d(input, p=0.5, training=True, inplace=False):
    """Channel dropout of (N, C, L) or unbatched (C, L) input."""
    if input.ndim not in (2, 3):
        raise RuntimeError(f"dropout1d: Expected 2D or 3D input, but received a {input.ndim}D input. "
                           f"Note that dropout1d exists to provide channel-wise dropout on inputs with 1 "
                           f"spatial dimension, a channel dimension, and an optional batch dimension "
                           f"(i.e. 2D or 3D inputs).")
    if input.ndim == 2:
        return _feature_dropout("dropout1d", input.unsqueeze(0), p, training).squeeze(0)
    return _feature_dropout("dropout1d", input, p, training)


def dropout2d(input, p=0.5, training=True, inplace=False):
    """Channel dropout of (N, C, H, W) input. A 3-D input is taken as (N, C, L), with PyTorch's warning."""
    if input.ndim not in (3, 4):
        warnings.warn(f"dropout2d: Received a {input.ndim}-D input to dropout2d, which is deprecated and will "
                      f"result in an error in a future release. To retain the behavior and silence this "
                      f"warning, please use dropout instead. Note that dropout2d exists to provide "
                      f"channel-wise dropout on inputs with 2 spatial dimensions, a channel dimension, and an "
                      f"optional batch dimension (i.e. 3D or 4D inputs).", UserWarning, stacklevel=2)
    if input.ndim == 3:
        warnings.warn("dropout2d: Received a 3D input to dropout2d and assuming that channel-wise 1D dropout "
                      "behavior is desired - input is interpreted as shape (N, C, L), where C is the channel "
                      "dim. This behavior will change in a future release to interpret the input as one "
                      "without a batch dimension, i.e. shape (C, H, W). To maintain the 1D channel-wise "
                      "dropout behavior, please switch to using dropout1d instead.", UserWarning, stacklevel=2)
    return _feature_dropout("dropout2d", input, p, training)


def dropout3d(input, p=0.5, training=True, inplace=False):
    """Channel dropout of (N, C, D, H, W) or unbatched (C, D, H, W) input."""
    if input.ndim == 4:
        return _feature_dropout("dropout3d", input.unsqueeze(0), p, training).squeeze(0)
    return _feature_dropout("dropout3d", input, p, training)


# ---------------------------------------------------------------------- 1-D convolution and pooling
def _single(value, name, op):
    """An int or a one-element sequence of ints, as an int."""
    if isinstance(value, (tuple, list)):
        if len(value) != 1:
            raise RuntimeError(f"{op}: {name} must be an int or a tuple of one int, got {name}={value!r}")
        value = value[0]
    if not isinstance(value, numbers.Integral) or isinstance(value, bool):
        raise TypeError(f"{op}: {name} must be an int or a tuple of one int, got {name}={value!r}")
    return int(value)


def _check_1d(op, input, what="input"):
    if not isinstance(input, Tensor) or input.ndim not in (2, 3):
        got = list(input.shape) if isinstance(input, Tensor) else type(input).__name__
        raise RuntimeError(f"{op}: Expected 2D (unbatched) or 3D (batch mode) tensor for {what}, but got: {got}")


def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """1-D cross-correlation of ``input`` (N, C, L) or (C, L) with ``weight`` (O, C/groups, K):
    ``conv2d`` on a height of 1. ``padding`` may be 'valid' or 'same'."""
    op = "conv1d"
    _check_1d(op, input)
    if not isinstance(weight, Tensor) or weight.ndim != 3:
        raise RuntimeError(f"{op}: expected a 3-D weight (out_channels, in_channels/groups, kW), got "
                           f"{tuple(weight.shape) if isinstance(weight, Tensor) else type(weight).__name__}")
    s, d = _single(stride, "stride", op), _single(dilation, "dilation", op)
    pad2 = padding if isinstance(padding, str) else (0, _single(padding, "padding", op))
    out = conv2d(input.unsqueeze(-2), weight.unsqueeze(2), bias, (1, s), pad2, (1, d), groups)
    return out.squeeze(-2)


def _pool1d_args(op, kernel_size, stride, padding, dilation=1):
    k = _single(kernel_size, "kernel_size", op)
    s = k if stride is None or stride == () or stride == [] else _single(stride, "stride", op)
    return (1, k), (1, s), (0, _single(padding, "padding", op)), (1, _single(dilation, "dilation", op))


def max_pool1d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    """Max over windows of (N, C, L) or (C, L) input; indices along L."""
    op = "max_pool1d"
    _check_1d(op, input)
    k, s, p, d = _pool1d_args(op, kernel_size, stride, padding, dilation)
    out = max_pool2d(input.unsqueeze(-2), k, s, p, d, ceil_mode, return_indices)
    if return_indices:
        return out[0].squeeze(-2), out[1].squeeze(-2)
    return out.squeeze(-2)


def avg_pool1d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True):
    """Mean over windows of (N, C, L) or (C, L) input."""
    op = "avg_pool1d"
    _check_1d(op, input)
    k, s, p, _ = _pool1d_args(op, kernel_size, stride, padding)
    return avg_pool2d(input.unsqueeze(-2), k, s, p, ceil_mode, count_include_pad).squeeze(-2)


# ---------------------------------------------------------------------- transposed convolution
def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """The transposed 2-D convolution (the gradient of ``conv2d`` with respect to its input) of
    ``input`` (N, C_in, H, W) or (C_in, H, W) with ``weight`` (C_in, C_out/groups, kH, kW).

    Output size (H - 1) stride - 2 padding + dilation (k - 1) + output_padding + 1. Computed as
    col2im of weight^T @ input: each input pixel spreads its kernel-weighted values over a window of
    the output, overlapping windows adding up (``Fold``), then the padding is cut away.
    """
    op = "conv_transpose2d"
    if not isinstance(input, Tensor) or not isinstance(weight, Tensor):
        raise TypeError(f"{op}: input and weight must be tensors, got {type(input).__name__} and "
                        f"{type(weight).__name__}")
    if input.ndim not in (3, 4):
        raise RuntimeError(f"{op}: expected a 3-D (unbatched) or 4-D (batched) input, got {tuple(input.shape)}")
    if weight.ndim != 4:
        raise RuntimeError(f"{op}: expected a 4-D weight (in_channels, out_channels/groups, kH, kW), got "
                           f"{tuple(weight.shape)}")
    if not isinstance(groups, numbers.Integral) or groups <= 0:
        raise RuntimeError(f"{op}: non-positive groups is not supported, got groups={groups!r}")
    _check_input(op, input)
    _check_same_device(op, input, weight)
    if input.array.dtype != weight.array.dtype:
        raise RuntimeError(f"{op}: expected input and weight to have the same dtype, got {input.dtype} "
                           f"and {weight.dtype}")
    x = input.unsqueeze(0) if input.ndim == 3 else input
    n, c, h, w = x.shape
    c_in, c_out_g, kh, kw = weight.shape
    if c != c_in or c_in % groups:
        raise RuntimeError(f"{op}: expected input with {c_in} channels (divisible by groups={groups}) to match "
                           f"weight of shape {tuple(weight.shape)}, got input of shape {tuple(input.shape)}")
    c_out = c_out_g * groups
    if bias is not None and tuple(bias.shape) != (c_out,):
        raise RuntimeError(f"{op}: expected bias of shape ({c_out},), got {tuple(bias.shape)}")
    (sh, sw), (ph, pw) = int_pair(stride, "stride", op), int_pair(padding, "padding", op)
    (oph, opw), (dh, dw) = int_pair(output_padding, "output_padding", op), int_pair(dilation, "dilation", op)
    if min(sh, sw, dh, dw) <= 0 or min(ph, pw, oph, opw) < 0:
        raise RuntimeError(f"{op}: stride and dilation must be positive, padding and output_padding "
                           f"non-negative, got stride={stride!r}, dilation={dilation!r}, padding={padding!r}, "
                           f"output_padding={output_padding!r}")
    if not (oph < sh or oph < dh) or not (opw < sw or opw < dw):
        raise RuntimeError(f"output padding must be smaller than either stride or dilation, but got "
                           f"output_padding_height: {oph} output_padding_width: {opw} stride_height: {sh} "
                           f"stride_width: {sw} dilation_height: {dh} dilation_width: {dw}")
    oh = (h - 1) * sh - 2 * ph + dh * (kh - 1) + oph + 1
    ow = (w - 1) * sw - 2 * pw + dw * (kw - 1) + opw + 1
    if oh <= 0 or ow <= 0:
        raise RuntimeError(f"{op}: the output size {oh}x{ow} is too small for input of shape "
                           f"{tuple(input.shape)} with padding={padding!r}")
    # the window of the convolution whose input gradient this is: output (OH, OW) -> input (H, W)
    window = Window2d((kh, kw), (sh, sw), ((ph, ph), (pw, pw)), (dh, dw), (oh, ow), (h, w))
    w3 = weight.reshape(groups, c_in // groups, c_out_g * kh * kw)               # (G, C_in/G, C_out/G*kH*kW)
    cols = (w3.mT @ x.reshape(n, groups, c_in // groups, h * w)).reshape(n, c_out * kh * kw, h * w)
    out = Fold.apply(cols, window=window, channels=c_out)
    if bias is not None:
        out = out + bias.reshape(1, c_out, 1, 1)
    return out.squeeze(0) if input.ndim == 3 else out


def conv_transpose1d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """The transposed 1-D convolution: ``conv_transpose2d`` on a height of 1."""
    op = "conv_transpose1d"
    _check_1d(op, input)
    if not isinstance(weight, Tensor) or weight.ndim != 3:
        raise RuntimeError(f"{op}: expected a 3-D weight (in_channels, out_channels/groups, kW)")
    args = [(1, _single(v, name, op)) for v, name in ((stride, "stride"), (dilation, "dilation"))]
    out = conv_transpose2d(input.unsqueeze(-2), weight.unsqueeze(2), bias, args[0],
                           (0, _single(padding, "padding", op)), (0, _single(output_padding, "output_padding", op)),
                           groups, args[1])
    return out.squeeze(-2)


# ---------------------------------------------------------------------- adaptive pooling
def _adaptive_size(op, output_size, spatial):
    sizes = (output_size,) * len(spatial) if not isinstance(output_size, (tuple, list)) else tuple(output_size)
    if len(sizes) != len(spatial):
        raise ValueError(f"{op}: output_size must have {len(spatial)} elements, got {output_size!r}")
    out = tuple(n if s is None else s for s, n in zip(sizes, spatial))
    if any(not isinstance(s, numbers.Integral) or s <= 0 for s in out):
        raise RuntimeError(f"{op}: output_size must be positive integers, got {output_size!r}")
    return tuple(int(s) for s in out)


def _check_3d_4d(op, input):
    _check_input(op, input)
    if input.ndim not in (3, 4) or any(n == 0 for n in input.shape[-2:]):
        raise RuntimeError(f"{op}(): Expected 3D or 4D tensor, but got {list(input.shape)}")


def adaptive_avg_pool2d(input, output_size):
    """Mean over PyTorch's adaptive bins: output (i, j) averages rows floor(i H / OH) to
    ceil((i + 1) H / OH) - 1, and likewise the columns. ``output_size`` entries may be None (keep)."""
    op = "adaptive_avg_pool2d"
    _check_3d_4d(op, input)
    x = input.unsqueeze(0) if input.ndim == 3 else input
    (h, w), (oh, ow) = x.shape[2:], _adaptive_size(op, output_size, tuple(x.shape[2:]))
    rows, row_real = bin_positions(h, oh, np)                      # host: index arithmetic only
    cols, col_real = bin_positions(w, ow, np)                      # host
    # every bin padded to the longest with a repeated position, masked out of the sum
    win = x[:, :, rows[:, None, :, None], cols[None, :, None, :]]  # (N, C, OH, OW, LH, LW)
    real = row_real[:, None, :, None] & col_real[None, :, None, :]
    counts = real.sum((2, 3)).astype(x.array.dtype)
    total = win.masked_fill(Tensor(to_device(~real, x.device)), 0).sum((-2, -1))
    out = total / Tensor(to_device(counts, x.device))
    return out.squeeze(0) if input.ndim == 3 else out


def adaptive_max_pool2d(input, output_size, return_indices=False):
    """Max over PyTorch's adaptive bins (see ``adaptive_avg_pool2d``); with ``return_indices``
    also the indices, flat in each H*W plane."""
    op = "adaptive_max_pool2d"
    _check_3d_4d(op, input)
    x = input.unsqueeze(0) if input.ndim == 3 else input
    size = _adaptive_size(op, output_size, tuple(x.shape[2:]))
    values, indices = AdaptiveMaxPool2dOp.apply(x, output_size=size)
    if input.ndim == 3:
        values, indices = values.squeeze(0), indices.squeeze(0)
    return (values, indices) if return_indices else values


def adaptive_avg_pool1d(input, output_size):
    op = "adaptive_avg_pool1d"
    _check_1d(op, input)
    return adaptive_avg_pool2d(input.unsqueeze(-2), (1, _single(output_size, "output_size", op))).squeeze(-2)


def adaptive_max_pool1d(input, output_size, return_indices=False):
    op = "adaptive_max_pool1d"
    _check_1d(op, input)
    out = adaptive_max_pool2d(input.unsqueeze(-2), (1, _single(output_size, "output_size", op)), return_indices)
    if return_indices:
        return out[0].squeeze(-2), out[1].squeeze(-2)
    return out.squeeze(-2)


# ---------------------------------------------------------------------- padding
_PAD_MODES = ("constant", "reflect", "replicate", "circular")


def pad(input, pad, mode="constant", value=None):
    """Pad with PyTorch's ``pad`` tuple (left, right[, top, bottom[, front, back]]), last dimension
    first. ``mode``: 'constant' (``value``, default 0; negative amounts crop), 'reflect' (mirror
    without repeating the edge), 'replicate' (repeat the edge), 'circular' (wrap around).

    The other modes are an index along each padded dimension (``x[..., idx]``), so their gradient
    adds up at the source positions. As PyTorch, they pad the last 1, 2 or 3 dimensions of an
    input with one or two leading dimensions.
    """
    if not isinstance(input, Tensor):
        raise TypeError(f"pad(): argument 'input' must be Tensor, not {type(input).__name__}")
    if mode not in _PAD_MODES:
        raise NotImplementedError(f"Unrecognised padding mode {mode}")
    pad = tuple(pad)
    if len(pad) % 2 or len(pad) // 2 > input.ndim:
        raise RuntimeError(f"Padding length must be divisible by 2 and at most twice the number of dimensions "
                           f"of the input, got padding length {len(pad)} for input of shape {tuple(input.shape)}")
    if mode == "constant":
        return _constant_pad(input, pad, value=value)
    if value is not None and value != 0:
        raise ValueError(f'Padding mode "{mode}" doesn\'t take in value argument')
    k = len(pad) // 2
    if k not in (1, 2, 3) or input.ndim not in (k + 1, k + 2):
        raise NotImplementedError(f"Padding size {len(pad)} is not supported for {input.ndim}D input tensor "
                                  f"(non-constant padding pads the last 1, 2 or 3 dimensions of an input "
                                  f"with 1 or 2 more dimensions)")
    out = input
    for i in range(k):
        d = input.ndim - 1 - i
        before, after, n = int(pad[2 * i]), int(pad[2 * i + 1]), input.shape[d]
        out = out[(slice(None),) * d + (_pad_positions(mode, n, before, after, d, input.shape, pad),)]
    return out


def _pad_positions(mode, n, before, after, d, shape, pad):
    """Host indices of the source element of each output position along one dimension."""
    if mode == "reflect" and (before >= n or after >= n):
        raise RuntimeError(f"Argument #4: Padding size should be less than the corresponding input dimension, "
                           f"but got: padding ({before}, {after}) at dimension {d} of input {list(shape)}")
    if mode == "circular" and (before > n or after > n):
        raise RuntimeError("Padding value causes wrapping around more than once.")
    if n == 0 or n + before + after <= 0:
        raise RuntimeError(f"pad: padding {pad} with mode {mode!r} gives an empty output for input of shape "
                           f"{tuple(shape)}")
    j = np.arange(-before, n + after)                        # host: index arithmetic only
    if mode == "replicate":
        return np.clip(j, 0, n - 1)                          # host
    if mode == "circular":
        return j % n
    period = 2 * (n - 1)                                     # reflect: ... 2 1 [0 1 2 ... n-1] n-2 ...
    if period == 0:
        return np.zeros_like(j)                              # host
    m = j % period
    return np.where(m > n - 1, period - m, m)                # host


# ---------------------------------------------------------------------- interpolation
_INTERP_MODES = ("nearest", "nearest-exact", "linear", "bilinear", "bicubic", "trilinear", "area")


def interpolate(input, size=None, scale_factor=None, mode="nearest", align_corners=None,
                recompute_scale_factor=None, antialias=False):
    """Resize the spatial dimensions of (N, C, L) or (N, C, H, W) input, as PyTorch.

    ``mode``: 'nearest' (PyTorch's: source floor(dst * in/out)), 'nearest-exact' (floor((dst +
    0.5) * in/out)), 'linear' (3-D) / 'bilinear' (4-D), with ``align_corners`` (the corner pixels'
    centres aligned: src = dst * (in - 1)/(out - 1); else src = (dst + 0.5) * in/out - 0.5,
    floored at 0), and 'area' (adaptive average pooling). Give ``size`` or ``scale_factor``; with
    a scale factor the output is floor(in * scale) and, unless ``recompute_scale_factor``, the
    source positions use 1/scale as PyTorch does. Not supported: 'bicubic', 'trilinear', 5-D
    input, ``antialias``.
    """
    op = "interpolate"
    _check_input(op, input)
    if mode not in _INTERP_MODES:
        raise NotImplementedError(f"Input Error: Only 3D, 4D and 5D input Tensors supported (got {input.ndim}D) "
                                  f"for the modes: nearest | linear | bilinear | bicubic | trilinear | area | "
                                  f"nearest-exact (got {mode})")
    if align_corners is not None and mode not in ("linear", "bilinear", "bicubic", "trilinear"):
        raise ValueError("align_corners option can only be set with the interpolating modes: "
                         "linear | bilinear | bicubic | trilinear")
    align_corners = bool(align_corners)
    if input.ndim not in (3, 4):
        if input.ndim == 5:
            raise NotImplementedError(f"interpolate: 5-D input (mode {mode!r}) is not supported here")
        raise NotImplementedError(f"Input Error: Only 3D, 4D and 5D input Tensors supported (got {input.ndim}D) "
                                  f"for the modes: nearest | linear | bilinear | bicubic | trilinear | area | "
                                  f"nearest-exact (got {mode})")
    dim = input.ndim - 2
    if mode in ("linear", "bilinear") and dim != (1 if mode == "linear" else 2):
        raise NotImplementedError(f"Got {input.ndim}D input, but {mode} mode needs {3 if mode == 'linear' else 4}D input")
    if mode in ("bicubic", "trilinear") or antialias:
        raise NotImplementedError(f"interpolate: mode={mode!r}" + (" with antialias" if antialias else "")
                                  + " is not supported here (nearest, nearest-exact, linear, bilinear, area)")
    spatial = tuple(input.shape[2:])
    out_size, scales = _interpolate_sizes(spatial, size, scale_factor, recompute_scale_factor)
    if mode == "area":
        return adaptive_avg_pool1d(input, out_size[0]) if dim == 1 else adaptive_avg_pool2d(input, out_size)
    x = input
    for i, (n, o, scale) in enumerate(zip(spatial, out_size, scales)):
        d = 2 + i
        lead = (slice(None),) * d
        if mode in ("nearest", "nearest-exact"):
            x = x[lead + (_nearest_positions(n, o, scale, mode == "nearest-exact"),)]
        else:
            i0, i1, l0, l1 = _linear_weights(n, o, scale, align_corners, x.array.dtype)
            shape = (o,) + (1,) * (x.ndim - d - 1)
            w0 = Tensor(to_device(l0.reshape(shape), x.device))
            w1 = Tensor(to_device(l1.reshape(shape), x.device))
            x = x[lead + (i0,)] * w0 + x[lead + (i1,)] * w1            # the two neighbours, weighted
    return x


def _interpolate_sizes(spatial, size, scale_factor, recompute_scale_factor):
    """(output sizes, the scale factors the source positions use: None to use in/out)."""
    dim = len(spatial)
    if size is not None and scale_factor is not None:
        raise ValueError("only one of size or scale_factor should be defined")
    if size is not None:
        sizes = tuple(size) if isinstance(size, (tuple, list)) else (size,) * dim
        if len(sizes) != dim:
            raise ValueError(f"Input and output must have the same number of spatial dimensions, but got input "
                             f"with spatial dimensions of {list(spatial)} and output size of {size}. Please "
                             f"provide input tensor in (N, C, d1, d2, ...,dK) format and output size in "
                             f"(o1, o2, ...,oK) format.")
        if any(not isinstance(s, numbers.Integral) or s <= 0 for s in sizes):
            raise ValueError(f"interpolate: size must be positive integers, got {size!r}")
        return tuple(int(s) for s in sizes), (None,) * dim
    if scale_factor is None:
        raise ValueError("either size or scale_factor should be defined")
    factors = tuple(scale_factor) if isinstance(scale_factor, (tuple, list)) else (scale_factor,) * dim
    if len(factors) != dim:
        raise ValueError(f"Input and scale_factor must have the same number of spatial dimensions, but got "
                         f"input with spatial dimensions of {list(spatial)} and scale_factor of shape "
                         f"{scale_factor}. Please provide input tensor in (N, C, d1, d2, ...,dK) format and "
                         f"scale_factor in (s1, s2, ...,sK) format.")
    sizes = tuple(int(math.floor(float(n) * f)) for n, f in zip(spatial, factors))
    if any(s <= 0 for s in sizes):
        raise RuntimeError(f"interpolate: scale_factor {scale_factor} gives an empty output for input "
                           f"of spatial size {list(spatial)}")
    return sizes, (None,) * dim if recompute_scale_factor else tuple(float(f) for f in factors)


def _nearest_positions(n, o, scale, exact):
    """Host source index of each of ``o`` outputs along a dimension of ``n`` (PyTorch's float32 rule)."""
    dst = np.arange(o)                                       # host: index arithmetic only
    if not exact and o == n:
        return dst
    if not exact and o == 2 * n:
        return dst >> 1
    ratio = np.float32(1.0 / scale) if scale else np.float32(n) / np.float32(o)   # host
    pos = (dst + 0.5) * np.float64(ratio) if exact else dst.astype(np.float32) * ratio  # host
    return np.minimum(np.floor(pos.astype(np.float32)).astype(np.int64), n - 1)   # host


def _linear_weights(n, o, scale, align_corners, dtype):
    """Host (i0, i1, lambda0, lambda1): output k = lambda0[k] x[i0[k]] + lambda1[k] x[i1[k]], PyTorch's
    source positions computed in the input's precision."""
    t = np.dtype(dtype).type
    dst = np.arange(o).astype(t)                             # host: index arithmetic only
    if o == n:
        idx = np.arange(o)                                   # host
        return idx, idx, np.ones(o, dtype=t), np.zeros(o, dtype=t)  # host
    if align_corners:
        ratio = t(n - 1) / t(o - 1) if o > 1 else t(0)
        src = ratio * dst
    else:
        ratio = t(1.0 / scale) if scale else t(n) / t(o)
        src = np.maximum(ratio * (dst + t(0.5)) - t(0.5), t(0))     # host
    i0 = np.minimum(np.floor(src.astype(np.float32)).astype(np.int64), n - 1)  # host
    l1 = np.clip(src - i0.astype(t), t(0), t(1)).astype(t)   # host
    i1 = i0 + (i0 < n - 1)
    return i0, i1, (t(1) - l1).astype(t), l1
