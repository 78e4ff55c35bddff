"""Elementwise ops: arithmetic with broadcasting, unary math, activations, softmax.

Each op keeps its forward and backward side by side. ``g`` is the gradient of the loss with
respect to the op's output; backward returns the gradient for each input, reduced to that input's
shape by :func:`unbroadcast`. ``xp`` stands for numpy or cupy: the arrays' own methods and
operators are used, so the same code runs on both.
"""
from __future__ import annotations

from ..autograd import Function, unbroadcast
from ..backend import get_array_module, relu


class Add(Function):
    def forward(self, a, b):
        self.shapes = a.shape, b.shape
        return a + b

    def backward(self, g):
        return unbroadcast(g, self.shapes[0]), unbroadcast(g, self.shapes[1])


class Sub(Function):
    def forward(self, a, b):
        self.shapes = a.shape, b.shape
        return a - b

    def backward(self, g):
        return unbroadcast(g, self.shapes[0]), unbroadcast(-g, self.shapes[1])


class Mul(Function):
    def forward(self, a, b):
        self.save_for_backward(a, b)
        return a * b

    def backward(self, g):
        a, b = self.saved_tensors
        ga = unbroadcast(g * b, a.shape) if self.needs_input_grad[0] else None
        gb = unbroadcast(g * a, b.shape) if self.needs_input_grad[1] else None
        return ga, gb


class Div(Function):
    def forward(self, a, b):
        out = a / b
        self.save_for_backward(b, out)
        self.a_shape = a.shape
        return out

    def backward(self, g):
        b, out = self.saved_tensors
        ga = g / b                                                   # d(a/b)/da = 1/b
        gb = unbroadcast(-ga * out, b.shape) if self.needs_input_grad[1] else None  # = -a/b^2
        return unbroadcast(ga, self.a_shape), gb


class Pow(Function):
    """``a ** b`` for two tensors (broadcasting)."""

    def forward(self, a, b):
        out = a ** b
        self.save_for_backward(a, b, out)
        return out

    def backward(self, g):
        a, b, out = self.saved_tensors
        xp = get_array_module(a)
        ga = gb = None
        if self.needs_input_grad[0]:
            # d/da = b * a^(b-1); where b == 0 the derivative is 0 (PyTorch's choice, avoids 0 * inf)
            ga = unbroadcast(xp.where(b == 0, 0, g * b * a ** (b - 1)), a.shape)
        if self.needs_input_grad[1]:
            # d/db = a^b * log(a); PyTorch defines it as 0 where a == 0 and b >= 0
            with _quiet(xp):
                gb = xp.where((a == 0) & (b >= 0), 0, g * out * xp.log(a))
            gb = unbroadcast(gb, b.shape)
        return ga, gb


class PowScalar(Function):
    """``a ** exponent`` with a Python number as exponent."""

    def forward(self, a, exponent):
        self.save_for_backward(a)
        self.exponent = exponent
        return a ** exponent

    def backward(self, g):
        (a,) = self.saved_tensors
        e = self.exponent
        if e == 0:
            return g * 0
        return g * e * a ** (e - 1)                                  # d(a^e)/da = e a^(e-1)


class RPowScalar(Function):
    """``base ** a`` with a Python number as base."""

    def forward(self, a, base):
        out = base ** a
        self.save_for_backward(out)
        self.base = base
        return out

    def backward(self, g):
        (out,) = self.saved_tensors
        xp = get_array_module(out)
        if self.base == 0:
            return g * 0
        return g * out * xp.log(xp.asarray(self.base, dtype=out.dtype))  # d(c^a)/da = c^a ln c


class Neg(Function):
    def forward(self, a):
        return -a

    def backward(self, g):
        return -g


class Exp(Function):
    def forward(self, a):
        out = get_array_module(a).exp(a)
        self.save_for_backward(out)
        return out

    def backward(self, g):
        (out,) = self.saved_tensors
        return g * out                                               # d exp(a) = exp(a)


class Log(Function):
    def forward(self, a):
        self.save_for_backward(a)
        xp = get_array_module(a)
        with _quiet(xp):
            return xp.log(a)

    def backward(self, g):
        (a,) = self.saved_tensors
        with _quiet(get_array_module(a)):
            return g / a                                             # d log(a) = 1/a


class Sqrt(Function):
    def forward(self, a):
        xp = get_array_module(a)
        with _quiet(xp):
            out = xp.sqrt(a)
        self.save_for_backward(out)
        return out

    def backward(self, g):
        (out,) = self.saved_tensors
        with _quiet(get_array_module(out)):
            return g / (2 * out)                                     # d sqrt(a) = 1 / (2 sqrt(a))


class Tanh(Function):
    def forward(self, a):
        out = get_array_module(a).tanh(a)
        self.save_for_backward(out)
        return out

    def backward(self, g):
        (out,) = self.saved_tensors
        return g * (1 - out * out)                                   # d tanh = 1 - tanh^2


class Sigmoid(Function):
    def forward(self, a):
        xp = get_array_module(a)
        e = xp.exp(-xp.abs(a))  # never overflows; exact in both tails
        out = xp.where(a >= 0, 1 / (1 + e), e / (1 + e))
        self.save_for_backward(out)
        return out

    def backward(self, g):
        (out,) = self.saved_tensors
        return g * out * (1 - out)                                   # d sigma = sigma (1 - sigma)


class ReLU(Function):
    def forward(self, a):
        out = relu(a)
        # the gradient passes where out != 0: a > 0, or a NaN (whose out is NaN), as PyTorch's;
        # relu'(0) = 0
        self.save_for_backward(out != 0)
        return out

    def backward(self, g):
        (mask,) = self.saved_tensors
        return g * mask


class Abs(Function):
    def forward(self, a):
        xp = get_array_module(a)
        self.save_for_backward(xp.sign(a))                           # abs'(0) = sign(0) = 0
        return xp.abs(a)

    def backward(self, g):
        (sign,) = self.saved_tensors
        return g * sign


class Clamp(Function):
    """``clamp(a, min, max)``; the gradient passes where ``min <= a <= max`` (ends included)."""

    def forward(self, a, min=None, max=None):
        xp = get_array_module(a)
        out = a
        inside = None
        if min is not None:
            out = xp.maximum(out, xp.asarray(min, dtype=a.dtype))
            inside = a >= min
        if max is not None:
            out = xp.minimum(out, xp.asarray(max, dtype=a.dtype))
            inside = (a <= max) if inside is None else inside & (a <= max)
        if inside is None:
            raise RuntimeError("clamp: at least one of 'min' or 'max' must not be None")
        self.save_for_backward(inside)
        return out

    def backward(self, g):
        (inside,) = self.saved_tensors
        return g * inside


class Where(Function):
    """``where(cond, a, b)``: the condition is a constant (no gradient)."""

    def forward(self, cond, a, b):
        self.save_for_backward(cond)
        self.shapes = a.shape, b.shape
        return get_array_module(a).where(cond, a, b)

    def backward(self, g):
        (cond,) = self.saved_tensors
        return None, unbroadcast(g * cond, self.shapes[0]), unbroadcast(g * ~cond, self.shapes[1])


class Cast(Function):
    """Change dtype; the gradient is cast back to the input's dtype."""

    def forward(self, a, dtype):
        self.in_dtype = a.dtype
        return a.astype(dtype)

    def backward(self, g):
        return g.astype(self.in_dtype)


class Clone(Function):
    """A copy: in ``a``'s own memory layout (``clone``), or row-major (``contiguous``, order="C")."""

    def forward(self, a, order="K"):
        return a.copy(order=order)

    def backward(self, g):
        return g


class Softmax(Function):
    """softmax(a)_i = exp(a_i - max) / sum_j exp(a_j - max), along ``dim``."""

    def forward(self, a, dim):
        xp = get_array_module(a)
        e = xp.exp(a - a.max(axis=dim, keepdims=True))
        out = e / e.sum(axis=dim, keepdims=True)
        self.save_for_backward(out)
        self.dim = dim
        return out

    def backward(self, g):
        (out,) = self.saved_tensors
        # d softmax: J = diag(s) - s s^T, so J^T g = s * (g - <g, s>)
        return out * (g - (g * out).sum(axis=self.dim, keepdims=True))


class LogSoftmax(Function):
    """log_softmax(a)_i = (a_i - max) - log sum_j exp(a_j - max), along ``dim``."""

    def forward(self, a, dim):
        xp = get_array_module(a)
        shifted = a - a.max(axis=dim, keepdims=True)
        out = shifted - xp.log(xp.exp(shifted).sum(axis=dim, keepdims=True))
        self.save_for_backward(out)
        self.dim = dim
        return out

    def backward(self, g):
        (out,) = self.saved_tensors
        xp = get_array_module(out)
        # d log_softmax: g - softmax * sum(g)
        return g - xp.exp(out) * g.sum(axis=self.dim, keepdims=True)


class _quiet:
    """Silence NumPy's divide/overflow/invalid warnings: like PyTorch, inf and nan are results."""

    def __init__(self, xp):
        self.state = xp.errstate(divide="ignore", over="ignore", invalid="ignore") if hasattr(xp, "errstate") else None

    def __enter__(self):
        if self.state is not None:
            self.state.__enter__()

    def __exit__(self, *exc):
        if self.state is not None:
            self.state.__exit__(*exc)
        return False
