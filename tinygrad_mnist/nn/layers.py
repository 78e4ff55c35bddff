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
from .activation import LogSoftmax, ReLU, Sigmoid, Softmax, Tanh  # noqa: F401  (their home until nn.activation)
from .module import Module, Parameter

__all__ = ["Linear", "Conv1d", "Conv2d", "ConvTranspose1d", "ConvTranspose2d", "MaxPool1d", "MaxPool2d",
           "AvgPool1d", "AvgPool2d", "AdaptiveAvgPool1d", "AdaptiveAvgPool2d", "AdaptiveMaxPool1d",
           "AdaptiveMaxPool2d", "Flatten", "Unflatten", "Dropout", "Dropout1d", "Dropout2d", "Dropout3d",
           "Identity", "Embedding", "Upsample", "UpsamplingNearest2d", "UpsamplingBilinear2d", "ZeroPad1d",
           "ZeroPad2d", "ConstantPad1d", "ConstantPad2d", "ReflectionPad1d", "ReflectionPad2d", "ReplicationPad1d",
           "ReplicationPad2d", "CircularPad1d", "CircularPad2d", "CosineSimilarity", "CrossEntropyLoss", "NLLLoss",
           "MSELoss", "L1Loss", "SmoothL1Loss", "HuberLoss", "KLDivLoss", "BCELoss", "BCEWithLogitsLoss"]


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


def _ints(layer, name, value, minimum, n=2):
    """An int or ``n`` ints (a pair by default; or one int in a sequence, as PyTorch allows), each
    checked as :func:`_int` does; returns the n-tuple."""
    if isinstance(value, (tuple, list)):
        if len(value) == 1:
            value = (value[0],) * n
        if len(value) != n:
            what = "an int" if n == 1 else "a pair of ints" if n == 2 else f"{n} ints"
            raise TypeError(f"{layer}: argument '{name}' must be an int or {what}, got {value!r}")
        return tuple(_int(layer, f"{name}[{i}]", v, minimum) for i, v in enumerate(value))
    return (_int(layer, name, value, minimum),) * n


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


_PADDING_MODES = ("zeros", "reflect", "replicate", "circular")


class _ConvNd(Module):
    """What Conv1d/Conv2d/ConvTranspose1d/ConvTranspose2d share: PyTorch's arguments, checks,
    parameters (weight (out, in/groups, *k), or (in, out/groups, *k) when transposed) and
    initialisation (kaiming-uniform a=sqrt(5), bias U(-1/sqrt(fan_in), 1/sqrt(fan_in)))."""

    _n = 2

    def __init__(self, in_channels, out_channels, kernel_size, stride, padding, dilation, transposed,
                 output_padding, groups, bias, padding_mode, device=None, dtype=None):
        super().__init__()
        layer = type(self).__name__
        in_channels = _int(layer, "in_channels", in_channels, 1)
        out_channels = _int(layer, "out_channels", out_channels, 1)
        if isinstance(groups, bool) or not isinstance(groups, numbers.Integral) or groups <= 0:
            raise ValueError(f"groups must be a positive integer, got {groups!r}")
        if in_channels % groups != 0:
            raise ValueError("in_channels must be divisible by groups")
        if out_channels % groups != 0:
            raise ValueError("out_channels must be divisible by groups")
        if isinstance(padding, str):
            if padding not in ("valid", "same"):
                raise ValueError(f"{layer}: argument 'padding': invalid padding string {padding!r}, should be one of "
                                 f"['valid', 'same']")
        if padding_mode not in _PADDING_MODES:
            raise ValueError(f"padding_mode must be one of {set(_PADDING_MODES)}, but got padding_mode='{padding_mode}'")
        n = self._n
        self.kernel_size = _ints(layer, "kernel_size", kernel_size, 1, n)
        self.stride = _ints(layer, "stride", stride, 1, n)
        self.padding = padding if isinstance(padding, str) else _ints(layer, "padding", padding, 0, n)
        self.dilation = _ints(layer, "dilation", dilation, 1, n)
        if padding == "same" and any(s != 1 for s in self.stride):
            raise ValueError("padding='same' is not supported for strided convolutions")
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.transposed = transposed
        self.output_padding = _ints(layer, "output_padding", output_padding, 0, n)
        self.groups = groups
        self.padding_mode = padding_mode
        shape = (in_channels, out_channels // groups) if transposed else (out_channels, in_channels // groups)
        self.weight = Parameter(_empty(shape + self.kernel_size, device, dtype))
        if bias:
            self.bias = Parameter(_empty((out_channels,), device, dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self):
        # kaiming_uniform_(a=sqrt(5)) is U(-1/sqrt(fan_in), 1/sqrt(fan_in)), PyTorch's default
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            _reset_bias(self.bias, self.weight)

    def _mode_padding(self):
        """F.pad's amounts (last dimension first) for a padding_mode other than 'zeros'."""
        if self.padding == "valid":
            return (0,) * (2 * self._n)
        if self.padding == "same":
            totals = [d * (k - 1) for d, k in zip(self.dilation, self.kernel_size)]
            pairs = [(t // 2, t - t // 2) for t in totals]
        else:
            pairs = [(p, p) for p in self.padding]
        return tuple(a for pair in reversed(pairs) for a in pair)

    def extra_repr(self):
        zeros = (0,) * self._n
        s = f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}"
        if self.padding != zeros:
            s += f", padding={self.padding}"
        if self.dilation != (1,) * self._n:
            s += f", dilation={self.dilation}"
        if self.output_padding != zeros:
            s += f", output_padding={self.output_padding}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        if self.bias is None:
            s += ", bias=False"
        if self.padding_mode != "zeros":
            s += f", padding_mode={self.padding_mode}"
        return s


class Conv2d(_ConvNd):
    """2-D convolution over NCHW input; weight (out, in/groups, kH, kW), bias (out,).

    ``kernel_size``, ``stride``, ``padding`` and ``dilation`` are ints or pairs; ``padding`` may
    also be 'valid' or 'same'; ``padding_mode`` 'zeros', 'reflect', 'replicate' or 'circular'.
    """

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1,
                 groups=1, bias=True, padding_mode="zeros", device=None, dtype=None):
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, False, 0, groups,
                         bias, padding_mode, device, dtype)

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
        if self.padding_mode != "zeros":
            return F.conv2d(F.pad(input, self._mode_padding(), mode=self.padding_mode), self.weight, self.bias,
                            self.stride, 0, self.dilation, self.groups)
        return F.conv2d(input, self.weight, self.bias, self.stride, self.padding, self.dilation, self.groups)


class Conv1d(_ConvNd):
    """1-D convolution over (N, C, L) input; weight (out, in/groups, k), bias (out,)."""

    _n = 1

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1,
                 groups=1, bias=True, padding_mode="zeros", device=None, dtype=None):
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, False, 0, groups,
                         bias, padding_mode, device, dtype)

    def forward(self, input):
        if input.ndim not in (2, 3) or input.shape[-2] != self.in_channels:
            raise RuntimeError(f"{self!r}: expected a 3-D input (N, {self.in_channels}, L) or a 2-D unbatched "
                               f"input ({self.in_channels}, L), got input of shape {tuple(input.shape)}")
        if self.padding_mode != "zeros":
            return F.conv1d(F.pad(input, self._mode_padding(), mode=self.padding_mode), self.weight, self.bias,
                            self.stride, 0, self.dilation, self.groups)
        return F.conv1d(input, self.weight, self.bias, self.stride, self.padding, self.dilation, self.groups)


class _ConvTransposeNd(_ConvNd):
    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, output_padding=0, groups=1,
                 bias=True, dilation=1, padding_mode="zeros", device=None, dtype=None):
        if padding_mode != "zeros":
            raise ValueError(f'Only "zeros" padding mode is supported for {type(self).__name__}')
        if isinstance(padding, str):
            raise ValueError(f"{type(self).__name__}: padding must be an int or a tuple, got {padding!r}")
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, True, output_padding,
                         groups, bias, padding_mode, device, dtype)

    def _output_padding(self, input, output_size):
        """``output_padding``, or the one that gives ``output_size`` (PyTorch's rule and message)."""
        if output_size is None:
            return self.output_padding
        n = self._n
        lead = 2 if input.ndim == n + 2 else 1
        output_size = tuple(output_size)
        if len(output_size) == n + lead:
            output_size = output_size[lead:]
        if len(output_size) != n:
            raise ValueError(f"ConvTranspose{n}D: for {input.ndim}D input, output_size must have {n} or "
                             f"{n + lead} elements (got {len(output_size)})")
        spatial = tuple(input.shape[lead:])
        smallest = [(spatial[d] - 1) * self.stride[d] - 2 * self.padding[d] + self.dilation[d] *
                    (self.kernel_size[d] - 1) + 1 for d in range(n)]
        largest = [m + s - 1 for m, s in zip(smallest, self.stride)]
        for size, lo, hi in zip(output_size, smallest, largest):
            if not lo <= size <= hi:
                raise ValueError(f"requested an output size of {list(output_size)}, but valid sizes range from "
                                 f"{smallest} to {largest} (for an input of {list(spatial)})")
        return tuple(size - lo for size, lo in zip(output_size, smallest))


class ConvTranspose2d(_ConvTransposeNd):
    """Transposed 2-D convolution (the gradient of a Conv2d with respect to its input); weight
    (in, out/groups, kH, kW). ``forward(input, output_size=None)`` as PyTorch's."""

    def forward(self, input, output_size=None):
        output_padding = self._output_padding(input, output_size)
        return F.conv_transpose2d(input, self.weight, self.bias, self.stride, self.padding, output_padding,
                                  self.groups, self.dilation)


class ConvTranspose1d(_ConvTransposeNd):
    """Transposed 1-D convolution; weight (in, out/groups, k)."""

    _n = 1

    def forward(self, input, output_size=None):
        output_padding = self._output_padding(input, output_size)
        return F.conv_transpose1d(input, self.weight, self.bias, self.stride, self.padding, output_padding,
                                  self.groups, self.dilation)


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


class MaxPool1d(Module):
    """Max over windows of (N, C, L) input; ``stride`` defaults to ``kernel_size``."""

    def __init__(self, kernel_size, stride=None, padding=0, dilation=1, return_indices=False, ceil_mode=False):
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding = padding
        self.dilation = dilation
        self.return_indices = return_indices
        self.ceil_mode = ceil_mode

    def forward(self, input):
        return F.max_pool1d(input, self.kernel_size, self.stride, self.padding, self.dilation,
                            ceil_mode=self.ceil_mode, return_indices=self.return_indices)

    def extra_repr(self):
        return (f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
                f"dilation={self.dilation}, ceil_mode={self.ceil_mode}")


def _single(v):
    return tuple(v) if isinstance(v, (tuple, list)) else (v,)


class AvgPool1d(Module):
    """Mean over windows of (N, C, L) input; ``stride`` defaults to ``kernel_size``."""

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True):
        super().__init__()
        self.kernel_size = _single(kernel_size)
        self.stride = _single(stride if stride is not None else kernel_size)
        self.padding = _single(padding)
        self.ceil_mode = ceil_mode
        self.count_include_pad = count_include_pad

    def forward(self, input):
        return F.avg_pool1d(input, self.kernel_size, self.stride, self.padding, self.ceil_mode,
                            self.count_include_pad)

    def extra_repr(self):
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class _AdaptivePool(Module):
    def __init__(self, output_size):
        super().__init__()
        self.output_size = output_size

    def extra_repr(self):
        return f"output_size={self.output_size}"


class AdaptiveAvgPool1d(_AdaptivePool):
    def forward(self, input):
        return F.adaptive_avg_pool1d(input, self.output_size)


class AdaptiveAvgPool2d(_AdaptivePool):
    """Mean over PyTorch's adaptive bins, to an ``output_size`` (an int, or a pair with None = keep)."""

    def forward(self, input):
        return F.adaptive_avg_pool2d(input, self.output_size)


class AdaptiveMaxPool1d(_AdaptivePool):
    def __init__(self, output_size, return_indices=False):
        super().__init__(output_size)
        self.return_indices = return_indices

    def forward(self, input):
        return F.adaptive_max_pool1d(input, self.output_size, self.return_indices)


class AdaptiveMaxPool2d(AdaptiveMaxPool1d):
    """Max over PyTorch's adaptive bins; ``return_indices`` also gives the flat indices."""

    def forward(self, input):
        return F.adaptive_max_pool2d(input, self.output_size, self.return_indices)


# ---------------------------------------------------------------------- embedding
class Embedding(Module):
    """A lookup table of ``num_embeddings`` vectors of size ``embedding_dim``: weight ~ N(0, 1), the
    ``padding_idx`` row zeros (and it gets no gradient). See ``F.embedding`` for the rest."""

    def __init__(self, num_embeddings, embedding_dim, padding_idx=None, max_norm=None, norm_type=2.0,
                 scale_grad_by_freq=False, sparse=False, _weight=None, _freeze=False, device=None, dtype=None):
        super().__init__()
        self.num_embeddings = num_embeddings
        self.embedding_dim = embedding_dim
        if padding_idx is not None:
            if padding_idx > 0:
                if padding_idx >= num_embeddings:
                    raise AssertionError("Padding_idx must be within num_embeddings")
            elif padding_idx < 0:
                if padding_idx < -num_embeddings:
                    raise AssertionError("Padding_idx must be within num_embeddings")
                padding_idx = num_embeddings + padding_idx
        self.padding_idx = padding_idx
        self.max_norm = max_norm
        self.norm_type = norm_type
        self.scale_grad_by_freq = scale_grad_by_freq
        self.sparse = sparse
        if _weight is None:
            self.weight = Parameter(_empty((num_embeddings, embedding_dim), device, dtype), requires_grad=not _freeze)
            self.reset_parameters()
        else:
            if tuple(_weight.shape) != (num_embeddings, embedding_dim):
                raise AssertionError("Shape of weight does not match num_embeddings and embedding_dim")
            self.weight = Parameter(_weight, requires_grad=not _freeze)

    def reset_parameters(self):
        init.normal_(self.weight)
        if self.padding_idx is not None:
            self.weight.array[self.padding_idx] = 0
            self.weight._bump_version()

    def forward(self, input):
        return F.embedding(input, self.weight, self.padding_idx, self.max_norm, self.norm_type,
                           self.scale_grad_by_freq, self.sparse)

    @classmethod
    def from_pretrained(cls, embeddings, freeze=True, padding_idx=None, max_norm=None, norm_type=2.0,
                        scale_grad_by_freq=False, sparse=False):
        """An Embedding holding ``embeddings`` (2-D); ``freeze`` (the default): no gradient."""
        if embeddings.ndim != 2:
            raise AssertionError("Embeddings parameter is expected to be 2-dimensional")
        rows, cols = embeddings.shape
        return cls(rows, cols, padding_idx, max_norm, norm_type, scale_grad_by_freq, sparse,
                   _weight=embeddings, _freeze=freeze)

    def extra_repr(self):
        s = f"{self.num_embeddings}, {self.embedding_dim}"
        if self.padding_idx is not None:
            s += f", padding_idx={self.padding_idx}"
        if self.max_norm is not None:
            s += f", max_norm={self.max_norm}"
        if self.norm_type != 2:
            s += f", norm_type={self.norm_type}"
        if self.scale_grad_by_freq is not False:
            s += f", scale_grad_by_freq={self.scale_grad_by_freq}"
        if self.sparse is not False:
            s += ", sparse=True"
        return s


# ---------------------------------------------------------------------- channel dropout
class Dropout1d(Dropout):
    """Zero whole channels of (N, C, L) input while training (see ``F.dropout1d``)."""

    def forward(self, input):
        return F.dropout1d(input, self.p, self.training)


class Dropout2d(Dropout):
    """Zero whole channels of (N, C, H, W) input while training (see ``F.dropout2d``)."""

    def forward(self, input):
        return F.dropout2d(input, self.p, self.training)


class Dropout3d(Dropout):
    def forward(self, input):
        return F.dropout3d(input, self.p, self.training)


# ---------------------------------------------------------------------- shape, padding, resizing
class Unflatten(Module):
    """Split dimension ``dim`` into ``unflattened_size`` (one entry may be -1)."""

    def __init__(self, dim, unflattened_size):
        super().__init__()
        if not isinstance(dim, int):
            raise TypeError(f"invalid argument dim: an int is expected (named dimensions are not supported), got {dim!r}")
        if not isinstance(unflattened_size, (tuple, list)) or not all(isinstance(n, int) for n in unflattened_size):
            raise TypeError(f"unflattened_size must be a tuple of ints, but found type {type(unflattened_size).__name__}")
        self.dim = dim
        self.unflattened_size = unflattened_size

    def forward(self, input):
        d = self.dim % input.ndim if input.ndim else 0
        sizes = list(self.unflattened_size)
        if sizes.count(-1) > 1:
            raise RuntimeError("unflatten: only one dimension can be inferred")
        n = input.shape[d]
        known = math.prod(k for k in sizes if k != -1)
        if -1 in sizes:
            if known == 0 or n % known:
                raise RuntimeError(f"unflatten: Provided sizes {self.unflattened_size} don't multiply up to the "
                                   f"size of dim {self.dim} ({n}) in the input tensor")
            sizes[sizes.index(-1)] = n // known
        elif known != n:
            raise RuntimeError(f"unflatten: Provided sizes {self.unflattened_size} don't multiply up to the size "
                               f"of dim {self.dim} ({n}) in the input tensor")
        return input.reshape(tuple(input.shape[:d]) + tuple(sizes) + tuple(input.shape[d + 1:]))

    def extra_repr(self):
        return f"dim={self.dim}, unflattened_size={self.unflattened_size}"


class Upsample(Module):
    """``F.interpolate`` as a layer: to ``size``, or by ``scale_factor``, with ``mode``."""

    def __init__(self, size=None, scale_factor=None, mode="nearest", align_corners=None,
                 recompute_scale_factor=None):
        super().__init__()
        self.name = type(self).__name__
        self.size = size
        if isinstance(scale_factor, tuple):
            self.scale_factor = tuple(float(f) for f in scale_factor)
        else:
            self.scale_factor = float(scale_factor) if scale_factor else None
        self.mode = mode
        self.align_corners = align_corners
        self.recompute_scale_factor = recompute_scale_factor

    def forward(self, input):
        return F.interpolate(input, self.size, self.scale_factor, self.mode, self.align_corners,
                             recompute_scale_factor=self.recompute_scale_factor)

    def extra_repr(self):
        info = f"scale_factor={self.scale_factor!r}" if self.scale_factor is not None else f"size={self.size!r}"
        return info + f", mode={self.mode!r}"


class UpsamplingNearest2d(Upsample):
    def __init__(self, size=None, scale_factor=None):
        super().__init__(size, scale_factor, mode="nearest")


class UpsamplingBilinear2d(Upsample):
    """Bilinear upsampling with ``align_corners=True`` (this layer's definition in PyTorch)."""

    def __init__(self, size=None, scale_factor=None):
        super().__init__(size, scale_factor, mode="bilinear", align_corners=True)


class _PadNd(Module):
    _n = 2
    _mode = "constant"

    def __init__(self, padding):
        super().__init__()
        self.padding = (padding,) * (2 * self._n) if isinstance(padding, int) else tuple(padding)

    def forward(self, input):
        return F.pad(input, self.padding, self._mode)

    def extra_repr(self):
        return f"{self.padding}"


class ConstantPad1d(_PadNd):
    _n = 1

    def __init__(self, padding, value):
        super().__init__(padding)
        self.value = value

    def forward(self, input):
        return F.pad(input, self.padding, "constant", self.value)

    def extra_repr(self):
        return f"padding={self.padding}, value={self.value}"


class ConstantPad2d(ConstantPad1d):
    _n = 2


class ZeroPad1d(ConstantPad1d):
    def __init__(self, padding):
        super().__init__(padding, 0.0)

    def extra_repr(self):
        return f"{self.padding}"


class ZeroPad2d(ZeroPad1d):
    _n = 2


class ReflectionPad1d(_PadNd):
    _n, _mode = 1, "reflect"


class ReflectionPad2d(_PadNd):
    _n, _mode = 2, "reflect"


class ReplicationPad1d(_PadNd):
    _n, _mode = 1, "replicate"


class ReplicationPad2d(_PadNd):
    _n, _mode = 2, "replicate"


class CircularPad1d(_PadNd):
    _n, _mode = 1, "circular"


class CircularPad2d(_PadNd):
    _n, _mode = 2, "circular"


class CosineSimilarity(Module):
    def __init__(self, dim=1, eps=1e-8):
        super().__init__()
        self.dim = dim
        self.eps = eps

    def forward(self, x1, x2):
        return F.cosine_similarity(x1, x2, self.dim, self.eps)


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


class L1Loss(_Loss):
    def forward(self, input, target):
        return F.l1_loss(input, target, reduction=self.reduction)


class SmoothL1Loss(_Loss):
    def __init__(self, size_average=None, reduce=None, reduction="mean", beta=1.0):
        super().__init__(size_average, reduce, reduction)
        self.beta = beta

    def forward(self, input, target):
        return F.smooth_l1_loss(input, target, reduction=self.reduction, beta=self.beta)


class HuberLoss(_Loss):
    def __init__(self, reduction="mean", delta=1.0):
        super().__init__(reduction=reduction)
        self.delta = delta

    def forward(self, input, target):
        return F.huber_loss(input, target, reduction=self.reduction, delta=self.delta)


class KLDivLoss(_Loss):
    """``F.kl_div``: input log-probabilities, target probabilities (log-probabilities with
    ``log_target``); reduction 'batchmean' gives the KL divergence per sample."""

    def __init__(self, size_average=None, reduce=None, reduction="mean", log_target=False):
        if size_average is None and reduce is None and reduction == "batchmean":
            super().__init__()
            self.reduction = "batchmean"
        else:
            super().__init__(size_average, reduce, reduction)
        self.log_target = log_target

    def forward(self, input, target):
        return F.kl_div(input, target, reduction=self.reduction, log_target=self.log_target)


class BCELoss(_WeightedLoss):
    """``F.binary_cross_entropy`` of probabilities; ``weight`` (a buffer) rescales each element."""

    def forward(self, input, target):
        return F.binary_cross_entropy(input, target, weight=self.weight, reduction=self.reduction)


class BCEWithLogitsLoss(_Loss):
    """``F.binary_cross_entropy_with_logits``; ``weight`` and ``pos_weight`` are buffers."""

    def __init__(self, weight=None, size_average=None, reduce=None, reduction="mean", pos_weight=None):
        super().__init__(size_average, reduce, reduction)
        self.register_buffer("weight", weight)
        self.register_buffer("pos_weight", pos_weight)

    def forward(self, input, target):
        return F.binary_cross_entropy_with_logits(input, target, self.weight, pos_weight=self.pos_weight,
                                                  reduction=self.reduction)
