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

import numbers
import warnings

import numpy as np

from .. import backend
from ..backend import to_device
from ..functions import cat, pad
from ..ops.conv import Conv2d, Fold, Unfold
from ..ops.elementwise import Dropout
from ..ops.loss import CrossEntropy, MSELoss, NLLLoss
from ..ops.matmul import Linear
from ..ops.pool import AvgPool2d, MaxPool2d
from ..shapes import Window2d, int_pair, pool_window
from ..tensor import Tensor, _binary_operands, _check_same_device

__all__ = ["linear", "conv2d", "unfold", "fold", "relu", "max_pool2d", "avg_pool2d", "dropout", "pad",
           "softmax", "log_softmax", "cross_entropy", "nll_loss", "mse_loss", "flatten", "sigmoid", "tanh",
           "one_hot", "cat"]

REDUCTIONS = ("mean", "sum", "none")


def _shape_of(t):
    return tuple(t.shape)

# ---------------------------------------------------------------------- linear
def linear(input, weight, bias=None):
    """``input @ weight.T + bias``: input (..., in), weight (out, in), bias (out,) -> (..., out)."""
    if not isinstance(input, Tensor) or not isinstance(weight, Tensor):
        raise TypeError(f"linear: expected Tensors for input and weight, got {type(input).__name__} "
                        f"and {type(weight).__name__}")
    if weight.ndim != 2:
        raise RuntimeError(f"linear: weight must be 2-D (out_features, in_features), got shape {tuple(weight.shape)}")
    if input.ndim == 0 or input.shape[-1] != weight.shape[1]:
        raise RuntimeError(f"linear: input of shape {tuple(input.shape)} cannot be multiplied by weight of "
                           f"shape {tuple(weight.shape)}: expected {weight.shape[1]} features in the last "
                           f"dimension of the input")
    tensors = [input, weight] if bias is None else [input, weight, bias]
    for t in tensors[1:]:
        if t.array.dtype != input.array.dtype:
            raise RuntimeError(f"linear: expected input and parameters of the same dtype, got input "
                               f"{input.dtype} and {'weight' if t is weight else 'bias'} {t.dtype} "
                               f"(convert the input, e.g. x.float(), or the model, e.g. model.double())")
        if t.device != input.device:
            raise RuntimeError(f"linear: expected all tensors on the same device, got input on "
                               f"{input.device} and {'weight' if t is weight else 'bias'} on {t.device}")
    if not input.is_floating_point():
        raise RuntimeError(f"linear: expected a floating point input, got {input.dtype}")
    if bias is not None and tuple(bias.shape) != (weight.shape[0],):
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
        out = fn.apply(input.unsqueeze(0), target.reshape(1), weight=weight_array, ignore_index=ignore_index,
                       reduction=reduction)
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

