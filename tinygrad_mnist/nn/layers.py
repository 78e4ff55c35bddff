"""Layers (``nn.Linear``, ``nn.Conv2d``, ...) and loss modules, with PyTorch's arguments and reprs.

Each layer holds its parameters and settings and calls the function of the same name in
``nn.functional`` in ``forward``. Layers check their input first and name themselves in the
error ("Conv2d(3, 8, kernel_size=(5, 5)): expected input with 3 channels, got input of shape
(2, 1, 28, 28)"), which is where a shape bug in a model is easiest to find.

``reset_parameters`` follows PyTorch's defaults exactly: weight ~ kaiming_uniform_(a=sqrt(5)),
i.e. U(-1/sqrt(fan_in), 1/sqrt(fan_in)), and bias ~ U(-1/sqrt(fan_in), 1/sqrt(fan_in)), drawn
from the engine's generator (``tinygrad_mnist.manual_seed``).

Constructors check their size arguments, naming the layer, the argument and the value: a
float, bool or string where an int belongs raises TypeError (``Conv2d(1, 8, kernel_size=2.5)``),
and an int out of range raises RuntimeError, as PyTorch's own errors for these cases do
(``kernel_size=0``, ``stride=-1``, padding above half the pooling window). PyTorch finds some of
these only in ``forward`` (kernel 0, stride 0) or never (``Conv2d(1, 0, 3)``, ``Linear(0, 3)``,
``Dropout(nan)``); here a layer with zero features or channels is refused too: it computes nothing.
"""
from __future__ import annotations

import math
import numbers

from .. import creation, dtypes
from . import functional as F
from . import init
from .module import Module, Parameter

__all__ = ["Linear", "Conv2d", "ReLU", "MaxPool2d", "AvgPool2d", "Flatten", "Dropout", "Identity",
           "Softmax", "LogSoftmax", "Tanh", "Sigmoid", "CrossEntropyLoss", "NLLLoss", "MSELoss"]


def _pair(v):
    return tuple(v) if isinstance(v, (tuple, list)) else (v, v)


def _int(layer, name, value, minimum):
    """``value`` checked to be an int (not a bool) >= ``minimum``; errors name ``layer`` and ``name``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{layer}: argument '{name}' must be an int, got {value!r} ({type(value).__name__})")
    if value < minimum:
        what = "positive" if minimum == 1 else "non-negative" if minimum == 0 else f">= {minimum}"
        raise RuntimeError(f"{layer}: argument '{name}' must be {what}, got {value}")
    return int(value)


def _ints(layer, name, value, minimum):
    """An int or a pair of ints (or one int in a sequence, as PyTorch allows), each checked as
    :func:`_int` does; returns the pair."""
    if isinstance(value, (tuple, list)):
        if len(value) == 1:
            value = (value[0], value[0])
        if len(value) != 2:
            raise TypeError(f"{layer}: argument '{name}' must be an int or a pair of ints, got {value!r}")
        return tuple(_int(layer, f"{name}[{i}]", v, minimum) for i, v in enumerate(value))
    return (_int(layer, name, value, minimum),) * 2


def _empty(shape, device, dtype):
    return creation.empty(*shape, dtype=dtype or dtypes.default_float, device=device)


def _reset_bias(bias, weight):
    fan_in, _ = init._calculate_fan_in_and_fan_out(weight)
    bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
    init.uniform_(bias, -bound, bound)


# ---------------------------------------------------------------------- parameterised layers
class Linear(Module):
    """y = x W^T + b; x (..., in_features) -> (..., out_features). weight (out, in), bias (out,)."""

    def __init__(self, in_features, out_features, bias=True, device=None, dtype=None):
        super().__init__()
        self.in_features = _int("Linear", "in_features", in_features, 1)
        self.out_features = _int("Linear", "out_features", out_features, 1)
        self.weight = Parameter(_empty((out_features, in_features), device, dtype))
        if bias:
            self.bias = Parameter(_empty((out_features,), device, dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self):
        # kaiming_uniform_(a=sqrt(5)) is U(-1/sqrt(fan_in), 1/sqrt(fan_in)), PyTorch's default
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            _reset_bias(self.bias, self.weight)

    def forward(self, input):
        if input.ndim == 0 or input.shape[-1] != self.in_features:
            raise RuntimeError(f"{self!r}: expected input with {self.in_features} features in its last "
                               f"dimension, got input of shape {tuple(input.shape)}")
        return F.linear(input, self.weight, self.bias)

    def extra_repr(self):
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"


class Conv2d(Module):
    """2-D convolution over NCHW input; weight (out, in/groups, kH, kW), bias (out,).

    ``kernel_size``, ``stride``, ``padding`` and ``dilation`` are ints or pairs; ``padding`` may
    also be 'valid' or 'same'. Only ``padding_mode='zeros'`` is supported.
    """

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1,
                 groups=1, bias=True, padding_mode="zeros", device=None, dtype=None):
        super().__init__()
        in_channels = _int("Conv2d", "in_channels", in_channels, 1)
        out_channels = _int("Conv2d", "out_channels", out_channels, 1)
        if isinstance(groups, bool) or not isinstance(groups, numbers.Integral) or groups <= 0:
            raise ValueError(f"groups must be a positive integer, got {groups!r}")
        if in_channels % groups != 0:
            raise ValueError("in_channels must be divisible by groups")
        if out_channels % groups != 0:
            raise ValueError("out_channels must be divisible by groups")
        if padding_mode != "zeros":
            raise NotImplementedError(f"Conv2d: padding_mode={padding_mode!r} is not supported (only 'zeros')")
        if isinstance(padding, str):
            if padding not in ("valid", "same"):
                raise ValueError(f"Conv2d: argument 'padding': invalid padding string {padding!r}, should be one of "
                                 f"['valid', 'same']")
        self.kernel_size = _ints("Conv2d", "kernel_size", kernel_size, 1)
        self.stride = _ints("Conv2d", "stride", stride, 1)
        self.padding = padding if isinstance(padding, str) else _ints("Conv2d", "padding", padding, 0)
        self.dilation = _ints("Conv2d", "dilation", dilation, 1)
        if padding == "same" and self.stride != (1, 1):
            raise ValueError("padding='same' is not supported for strided convolutions")
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.transposed = False
        self.output_padding = (0, 0)
        self.groups = groups
        self.padding_mode = padding_mode
        self.weight = Parameter(_empty((out_channels, in_channels // groups) + self.kernel_size, device, dtype))
        if bias:
            self.bias = Parameter(_empty((out_channels,), device, dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self):
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            _reset_bias(self.bias, self.weight)

    def _short_name(self):
        s = f"Conv2d({self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}"
        if self.stride != (1, 1):
            s += f", stride={self.stride}"
        if self.padding not in ((0, 0), "valid"):
            s += f", padding={self.padding}"
        if self.dilation != (1, 1):
            s += f", dilation={self.dilation}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        return s + ")"

    def _check_input(self, input):
        shape = tuple(input.shape)
        if input.ndim not in (3, 4):
            raise RuntimeError(f"{self._short_name()}: expected a 4-D input (N, C, H, W) or a 3-D "
                               f"unbatched input (C, H, W), got input of shape {shape}")
        if shape[-3] != self.in_channels:
            raise RuntimeError(f"{self._short_name()}: expected input with {self.in_channels} channels, "
                               f"got input of shape {shape}")
        if isinstance(self.padding, str):
            padded = shape[-2:] if self.padding == "valid" else None
        else:
            padded = (shape[-2] + 2 * self.padding[0], shape[-1] + 2 * self.padding[1])
        if padded is not None:
            span = tuple(d * (k - 1) + 1 for d, k in zip(self.dilation, self.kernel_size))
            if padded[0] < span[0] or padded[1] < span[1]:
                raise RuntimeError(f"{self._short_name()}: input of shape {shape} is too small: its padded "
                                   f"size {padded} is smaller than the (dilated) kernel {span}")

    def forward(self, input):
        self._check_input(input)
        return F.conv2d(input, self.weight, self.bias, self.stride, self.padding, self.dilation, self.groups)

    def extra_repr(self):
        s = f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}"
        if self.padding != (0, 0):
            s += f", padding={self.padding}"
        if self.dilation != (1, 1):
            s += f", dilation={self.dilation}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        if self.bias is None:
            s += ", bias=False"
        return s


# ---------------------------------------------------------------------- pooling
class _Pool2d(Module):
    def _check_arguments(self, kernel_size, stride, padding, dilation=1):
        name = type(self).__name__
        k = _ints(name, "kernel_size", kernel_size, 1)
        if stride is not None:
            _ints(name, "stride", stride, 1)
        p = _ints(name, "padding", padding, 0)
        _ints(name, "dilation", dilation, 1)
        if p[0] > k[0] // 2 or p[1] > k[1] // 2:
            raise RuntimeError(f"{name}: argument 'padding' must be at most half of kernel_size, "
                               f"got padding={padding!r} with kernel_size={kernel_size!r}")
        # ints and pairs are kept as given (as PyTorch shows them); a one-element list becomes a pair
        return tuple(_pair(v[0]) if isinstance(v, (tuple, list)) and len(v) == 1 else v
                     for v in (kernel_size, stride, padding, dilation))

    def _check_input(self, input):
        shape = tuple(input.shape)
        if input.ndim not in (3, 4):
            raise RuntimeError(f"{self!r}: expected a 4-D input (N, C, H, W) or a 3-D unbatched input "
                               f"(C, H, W), got input of shape {shape}")
        k, p = _pair(self.kernel_size), _pair(self.padding)
        d = _pair(getattr(self, "dilation", 1))
        span = tuple(di * (ki - 1) + 1 for di, ki in zip(d, k))
        padded = (shape[-2] + 2 * p[0], shape[-1] + 2 * p[1])
        if padded[0] < span[0] or padded[1] < span[1]:
            raise RuntimeError(f"{self!r}: input of shape {shape} is too small: its padded size {padded} "
                               f"is smaller than the pooling window {span}")


class MaxPool2d(_Pool2d):
    """Max over windows; ``stride`` defaults to ``kernel_size``."""

    def __init__(self, kernel_size, stride=None, padding=0, dilation=1, return_indices=False, ceil_mode=False):
        super().__init__()
        kernel_size, stride, padding, dilation = self._check_arguments(kernel_size, stride, padding, dilation)
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding = padding
        self.dilation = dilation
        self.return_indices = return_indices
        self.ceil_mode = ceil_mode

    def forward(self, input):
        self._check_input(input)
        return F.max_pool2d(input, self.kernel_size, self.stride, self.padding, self.dilation,
                            ceil_mode=self.ceil_mode, return_indices=self.return_indices)

    def extra_repr(self):
        return (f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
                f"dilation={self.dilation}, ceil_mode={self.ceil_mode}")


class AvgPool2d(_Pool2d):
    """Mean over windows; ``stride`` defaults to ``kernel_size``."""

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
                 divisor_override=None):
        super().__init__()
        kernel_size, stride, padding, _ = self._check_arguments(kernel_size, stride, padding)
        if divisor_override is not None and (isinstance(divisor_override, bool) or
                                             not isinstance(divisor_override, numbers.Integral)
                                             or divisor_override == 0):
            raise (TypeError if not isinstance(divisor_override, numbers.Integral) else RuntimeError)(
                f"AvgPool2d: argument 'divisor_override' must be a non-zero int or None, got {divisor_override!r}")
        self.kernel_size = kernel_size
        self.stride = stride if (stride is not None) else kernel_size
        self.padding = padding
        self.ceil_mode = ceil_mode
        self.count_include_pad = count_include_pad
        self.divisor_override = divisor_override

    def forward(self, input):
        self._check_input(input)
        return F.avg_pool2d(input, self.kernel_size, self.stride, self.padding, self.ceil_mode,
                            self.count_include_pad, self.divisor_override)

    def extra_repr(self):
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


# ---------------------------------------------------------------------- stateless layers
class ReLU(Module):
    """max(x, 0). ``inplace`` is accepted (and shown in the repr) but ignored: a new tensor is returned."""

    def __init__(self, inplace=False):
        super().__init__()
        self.inplace = inplace

    def forward(self, input):
        return F.relu(input)

    def extra_repr(self):
        return "inplace=True" if self.inplace else ""


class Flatten(Module):
    """Merge dims ``start_dim``..``end_dim`` (default: everything but the batch dimension)."""

    def __init__(self, start_dim=1, end_dim=-1):
        super().__init__()
        _int("Flatten", "start_dim", start_dim, -2 ** 63)
        _int("Flatten", "end_dim", end_dim, -2 ** 63)
        self.start_dim = start_dim
        self.end_dim = end_dim

    def forward(self, input):
        return input.flatten(self.start_dim, self.end_dim)

    def extra_repr(self):
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class Dropout(Module):
    """Inverted dropout while training (zero with probability p, scale the rest by 1/(1-p));
    the identity in eval mode. ``inplace`` is accepted but ignored."""

    def __init__(self, p=0.5, inplace=False):
        super().__init__()
        if isinstance(p, bool) or not isinstance(p, numbers.Real):
            raise TypeError(f"Dropout: argument 'p' must be a number, got {p!r} ({type(p).__name__})")
        if not 0.0 <= p <= 1.0:  # also refuses nan, which PyTorch accepts
            raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
        self.p = p
        self.inplace = inplace

    def forward(self, input):
        return F.dropout(input, self.p, self.training)

    def extra_repr(self):
        return f"p={self.p}, inplace={self.inplace}"


class Identity(Module):
    """Returns its input; any constructor arguments are ignored, as in PyTorch."""

    def __init__(self, *args, **kwargs):
        super().__init__()

    def forward(self, input):
        return input


class Softmax(Module):
    def __init__(self, dim=None):
        super().__init__()
        self.dim = dim

    def forward(self, input):
        return F.softmax(input, self.dim, _stacklevel=5)

    def extra_repr(self):
        return f"dim={self.dim}"


class LogSoftmax(Module):
    def __init__(self, dim=None):
        super().__init__()
        self.dim = dim

    def forward(self, input):
        return F.log_softmax(input, self.dim, _stacklevel=5)

    def extra_repr(self):
        return f"dim={self.dim}"


class Tanh(Module):
    def forward(self, input):
        return input.tanh()


class Sigmoid(Module):
    def forward(self, input):
        return input.sigmoid()


# ---------------------------------------------------------------------- losses
class _Loss(Module):
    def __init__(self, size_average=None, reduce=None, reduction="mean"):
        super().__init__()
        from .functional import legacy_reduction
        self.reduction = legacy_reduction(size_average, reduce, reduction, type(self).__name__)


class _WeightedLoss(_Loss):
    def __init__(self, weight=None, size_average=None, reduce=None, reduction="mean"):
        super().__init__(size_average, reduce, reduction)
        self.register_buffer("weight", weight)


class CrossEntropyLoss(_WeightedLoss):
    """``F.cross_entropy`` (fused log-softmax + NLL) as a module; ``weight`` is a buffer."""

    def __init__(self, weight=None, size_average=None, ignore_index=-100, reduce=None, reduction="mean",
                 label_smoothing=0.0):
        super().__init__(weight, size_average, reduce, reduction)
        self.ignore_index = ignore_index
        self.label_smoothing = label_smoothing

    def forward(self, input, target):
        return F.cross_entropy(input, target, weight=self.weight, ignore_index=self.ignore_index,
                               reduction=self.reduction, label_smoothing=self.label_smoothing)


class NLLLoss(_WeightedLoss):
    def __init__(self, weight=None, size_average=None, ignore_index=-100, reduce=None, reduction="mean"):
        super().__init__(weight, size_average, reduce, reduction)
        self.ignore_index = ignore_index

    def forward(self, input, target):
        return F.nll_loss(input, target, weight=self.weight, ignore_index=self.ignore_index,
                          reduction=self.reduction)


class MSELoss(_Loss):
    def forward(self, input, target):
        return F.mse_loss(input, target, reduction=self.reduction)
