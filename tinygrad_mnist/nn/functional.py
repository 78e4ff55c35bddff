"""``tinygrad_mnist.nn.functional``: the stateless layer functions, as ``torch.nn.functional``.

    import tinygrad_mnist.nn.functional as F
    x = F.max_pool2d(F.relu(F.conv2d(x, w, b)), 2)
    loss = F.cross_entropy(logits, target)

Convolution and pooling live in ``ops/conv.py`` and ``ops/pool.py``; the losses (one fused,
stable cross-entropy op among them) in ``ops/loss.py``; the affine map of ``linear`` is one op,
``ops/linear.py``. Wherever PyTorch takes an int or a pair (kernel_size, stride, padding,
dilation), so do these functions.

Differences from PyTorch: ``inplace=True`` is accepted and ignored (a new tensor is returned;
in-place ops on recorded tensors are not supported by this engine); dropout masks come from the
engine's generator (``tinygrad_mnist.manual_seed``), drawn on the host, so they differ from
PyTorch's for the same seed.
"""
from __future__ import annotations

import warnings

import numpy as np

from .. import backend
from ..autograd import Function
from ..backend import to_device
from ..functions import cat, pad
from ..ops.conv import conv2d as _conv2d
from ..ops.linear import Linear
from ..ops.loss import cross_entropy, mse_loss, nll_loss
from ..ops.pool import avg_pool2d, max_pool2d  # the functions themselves: same signatures as PyTorch's
from ..tensor import Tensor

__all__ = ["linear", "conv2d", "relu", "max_pool2d", "avg_pool2d", "dropout", "pad", "softmax",
           "log_softmax", "cross_entropy", "nll_loss", "mse_loss", "flatten", "sigmoid", "tanh",
           "one_hot"]


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
    """2-D convolution (cross-correlation, as PyTorch) of NCHW ``input`` with (out, in/groups, kH, kW) ``weight``.

    ``padding`` may also be 'valid' or 'same' (stride 1 only). The op itself is ``ops.conv``
    (groups included: one batched GEMM over the groups).
    """
    return _conv2d(input, weight, bias, stride=stride, padding=padding, dilation=dilation, groups=groups)


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
class _Dropout(Function):
    """``x * mask`` with a constant mask of 0 and 1/(1-p); the gradient is masked the same way."""

    def forward(self, a, mask):
        self.save_for_backward(mask)
        return a * mask

    def backward(self, g):
        (mask,) = self.saved_tensors
        return g * mask

    def name(self):
        return "DropoutBackward"


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
    return _Dropout.apply(input, mask=to_device(mask, input.device))


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
