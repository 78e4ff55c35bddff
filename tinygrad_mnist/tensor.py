"""Tensor: an n-dimensional array (NumPy or CuPy) that can record the ops applied to it.

A tensor holds its data in ``.array`` (a ``numpy.ndarray`` on "cpu", a ``cupy.ndarray`` on
"cuda"). Ops on tensors that require grad build the backward graph: the result's ``grad_fn`` is
the op (a :class:`~tinygrad_mnist.autograd.Function`), whose ``next_functions`` lead to the
inputs' own ``grad_fn``s, down to the leaves' ``AccumulateGrad`` nodes.

Every tensor has a version (``t._version``), shared with the views of its memory and with
``detach()``; in-place ops raise it. A tensor saved for backward remembers its version, so that a
backward through data changed in place raises instead of computing a wrong gradient (PyTorch's
check). ``.data`` shares memory but not the version, as in PyTorch.

Differences from PyTorch, all deliberate:
* ``.shape`` and ``.size()`` are plain tuples (PyTorch's ``torch.Size`` is a tuple subclass).
* ``view`` never fails on non-contiguous data (it is ``reshape``); in-place ops are allowed only
  on tensors that are not recorded in a graph.
* One GPU: "cuda" and "cuda:0" are the same device.
"""
from __future__ import annotations

import collections
import numbers

import numpy as np

from . import backend, dtypes
from .backend import Device, get_array_module, to_device, to_numpy
from .dtypes import promote_arrays, promote_scalar
from .shapes import canonical_dim, canonical_dims

_SCALAR_TYPES = (numbers.Number, np.generic)
_NDARRAY_TYPES = (np.ndarray,)  # cupy.ndarray is recognised through backend when CuPy loads

return_types_max = collections.namedtuple("max", ["values", "indices"])
return_types_min = collections.namedtuple("min", ["values", "indices"])


class VersionCounter:
    """How many in-place changes a tensor's memory has had; shared by the tensors that view it."""

    __slots__ = ("value",)

    def __init__(self):
        self.value = 0


def _is_ndarray(x):
    return isinstance(x, np.ndarray) or type(x).__module__.startswith("cupy")


def _as_array(data, dtype=None, device=None):
    """Build an ndarray from Python data, NumPy/CuPy arrays or tensors (always a fresh copy)."""
    if isinstance(data, Tensor):
        data = data.array
    if _is_ndarray(data) or isinstance(data, np.generic):
        arr = data
        target = dtypes.to_dtype(dtype).np if dtype is not None else dtypes.from_numpy_dtype(arr.dtype).np
    else:
        arr = np.array(data)  # host: Python data (lists, numbers)
        if arr.dtype == object:
            raise TypeError(f"could not convert {type(data).__name__} to a tensor (ragged or non-numeric data)")
        if dtype is not None:
            target = dtypes.to_dtype(dtype).np
        elif arr.dtype.kind == "f":
            target = dtypes.default_float.np  # Python floats become float32, as in PyTorch
        elif arr.dtype.kind in "iu":
            target = np.dtype(np.int64)
        else:
            target = dtypes.from_numpy_dtype(arr.dtype).np
    dev = Device(device) if device is not None else backend.device_of(arr)
    xp = get_array_module(dev)
    return xp.array(to_device(arr, dev) if xp is not np else to_numpy(arr), dtype=target, copy=True)


class Tensor:
    """A NumPy/CuPy array with autograd. ``Tensor(ndarray)`` wraps the array without copying.

    Use :func:`tinygrad_mnist.tensor` to build one from Python data (it copies and infers the
    dtype the way ``torch.tensor`` does).
    """

    __slots__ = ("array", "requires_grad", "grad", "grad_fn", "_accumulator", "_retains_grad", "_vc",
                 "_output_nr", "__weakref__")
    __array_ufunc__ = None  # make NumPy hand ``ndarray * tensor`` over to our reflected operators

    def __init__(self, data, requires_grad=False):
        if isinstance(data, np.generic):
            data = np.asarray(data)  # host: a NumPy scalar
        elif not _is_ndarray(data):
            data = _as_array(data)
        dtypes.from_numpy_dtype(data.dtype)  # validates
        self.array = data
        self.grad = None
        self.grad_fn = None
        self._accumulator = None
        self._retains_grad = False
        self._vc = None
        self._output_nr = 0
        self.requires_grad = False
        if requires_grad:
            self.requires_grad_(True)

    @classmethod
    def _from_op(cls, array, grad_fn):
        """The fast constructor used by ops: no validation."""
        t = object.__new__(cls)
        if isinstance(array, np.generic):  # NumPy turns 0-d results into scalars; keep arrays
            array = np.asarray(array)  # host: NumPy returned a scalar
        t.array = array
        t.grad = None
        t.grad_fn = grad_fn
        t._accumulator = None
        t._retains_grad = False
        t._vc = None
        t._output_nr = 0
        t.requires_grad = grad_fn is not None
        return t

    # ------------------------------------------------------------------ versions
    def _version_counter(self):
        if self._vc is None:
            self._vc = VersionCounter()
        return self._vc

    @property
    def _version(self):
        """How many in-place changes this tensor's memory has had (PyTorch's ``t._version``)."""
        return 0 if self._vc is None else self._vc.value

    def _bump_version(self):
        self._version_counter().value += 1

    # ------------------------------------------------------------------ properties
    @property
    def shape(self):
        return self.array.shape

    def size(self, dim=None):
        return self.array.shape if dim is None else self.array.shape[dim]

    @property
    def ndim(self):
        return self.array.ndim

    def dim(self):
        return self.array.ndim

    def numel(self):
        return int(self.array.size)

    @property
    def dtype(self):
        return dtypes.from_numpy_dtype(self.array.dtype)

    @property
    def device(self):
        return backend.device_of(self.array)

    @property
    def is_cuda(self):
        return self.device.type == "cuda"

    @property
    def is_leaf(self):
        return self.grad_fn is None

    def is_floating_point(self):
        return self.array.dtype.kind == "f"

    @property
    def data(self):
        """A tensor sharing this one's memory, outside the graph and outside its version count
        (PyTorch's ``.data``: an in-place change through it is not seen by autograd; ``detach()``
        is the safe way)."""
        return Tensor._from_op(self.array, None)

    @data.setter
    def data(self, value):
        self.array = value.array if isinstance(value, Tensor) else value

    @property
    def T(self):
        return self.permute(*reversed(range(self.ndim)))

    @property
    def mT(self):  # noqa: N802  (PyTorch's name)
        """The last two dimensions swapped (a batch of transposed matrices)."""
        if self.ndim < 2:
            raise RuntimeError(f"tensor.mT is only supported on matrices or batches of matrices. Got "
                               f"{self.ndim}-D tensor.")
        return self.transpose(-2, -1)

    # ------------------------------------------------------------------ autograd
    def requires_grad_(self, requires_grad=True):
        if not self.is_leaf:
            if not requires_grad:
                raise RuntimeError("you can only change requires_grad flags of leaf variables; "
                                   "use detach() to get a tensor that does not require grad")
            return self
        if requires_grad and self.array.dtype.kind != "f":
            raise RuntimeError(f"only tensors of floating point dtype can require gradients, "
                               f"got {self.dtype}")
        self.requires_grad = bool(requires_grad)
        return self

    def _grad_node(self):
        """The graph node that receives this tensor's gradient (None when it needs none)."""
        if self.grad_fn is not None:
            return self.grad_fn
        if not self.requires_grad:
            return None
        if self._accumulator is None:
            from .autograd import AccumulateGrad
            self._accumulator = AccumulateGrad(self)
        return self._accumulator

    def backward(self, gradient=None, retain_graph=None, create_graph=False, inputs=None):
        """Accumulate d(self)/d(leaf) into every leaf's ``.grad``.

        ``gradient`` is the upstream gradient (same shape as self); it may be omitted only for a
        one-element tensor (it is then 1). The graph's saved tensors are freed unless
        ``retain_graph`` (which defaults to ``create_graph``). ``create_graph=True`` records the
        backward itself, so that ``.grad`` has a graph of its own; ``inputs``: only those
        tensors' ``.grad`` change.
        """
        from .autograd import backward
        backward(self, None if gradient is None else [gradient], retain_graph=retain_graph,
                 create_graph=create_graph, inputs=inputs)

    def detach(self):
        """This tensor's memory, outside the graph; it shares the version count (unlike ``.data``)."""
        t = Tensor._from_op(self.array, None)
        t._vc = self._version_counter()
        return t

    def detach_(self):
        """Take this tensor out of the graph, in place (it becomes a leaf that needs no gradient)."""
        self.grad_fn = None
        self.requires_grad = False
        self._output_nr = 0
        return self

    def retain_grad(self):
        """Keep ``.grad`` for this non-leaf tensor too (leaves always keep theirs)."""
        if self.is_leaf:
            return
        if not self._retains_grad:
            import weakref
            ref = weakref.ref(self)

            def store(grad):
                t = ref()
                if t is not None:
                    if t.grad is None:
                        t.grad = grad if grad.requires_grad else Tensor(grad.array.copy())
                    else:
                        t.grad = t.grad + grad
                return None

            store.retains_grad = True  # runs after the tensor's other hooks (autograd/engine.py)
            self.grad_fn._add_tensor_hook(self._output_nr, store)
            self._retains_grad = True

    @property
    def retains_grad(self):
        return self._retains_grad

    def register_hook(self, hook):
        """``hook(grad)`` runs when this tensor's gradient is computed; returning a tensor replaces it."""
        if not self.requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        return self._grad_node()._add_tensor_hook(self._output_nr if self.grad_fn is not None else 0, hook)

    # ------------------------------------------------------------------ conversion
    def numpy(self):
        if self.requires_grad:
            raise RuntimeError("Can't call numpy() on Tensor that requires grad. Use tensor.detach().numpy() instead.")
        if self.device.type != "cpu":
            raise TypeError("can't convert cuda tensor to numpy: use Tensor.cpu() to copy it to the host first")
        return self.array

    def item(self):
        if self.array.size != 1:
            raise RuntimeError(f"a Tensor with {self.array.size} elements cannot be converted to Scalar")
        return self.array.item()

    def tolist(self):
        return to_numpy(self.array).tolist()

    def to(self, *args, **kwargs):
        """``to(device)``, ``to(dtype)``, ``to(device, dtype)`` or ``to(other_tensor)``."""
        device, dtype = parse_to_args(args, dict(kwargs))
        out = self
        if dtype is not None:
            np_dtype = dtypes.to_dtype(dtype).np
            if np_dtype != out.array.dtype:
                out = Cast.apply(out, dtype=np_dtype)
        if device is not None and Device(device) != out.device:
            out = ToDevice.apply(out, device=Device(device))
        return out

    def cpu(self):
        return self.to("cpu")

    def cuda(self):
        return self.to("cuda")

    def type(self, dtype=None):
        return self.dtype if dtype is None else self.to(dtype)

    def float(self):
        return self.to(dtypes.float32)

    def double(self):
        return self.to(dtypes.float64)

    def long(self):
        return self.to(dtypes.int64)

    def int(self):
        return self.to(dtypes.int32)

    def bool(self):
        return self.to(dtypes.bool_)

    def clone(self):
        return Clone.apply(self)

    def is_contiguous(self):
        """Whether the data is laid out in row-major order (a conv output, for one, is not)."""
        return bool(self.array.flags.c_contiguous)

    def contiguous(self):
        """``self`` when row-major already, else a row-major copy (recorded as a clone, as PyTorch)."""
        return self if self.is_contiguous() else Clone.apply(self, order="C")

    # ------------------------------------------------------------------ Python protocol
    def __len__(self):
        if self.array.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.array.shape[0]

    def __iter__(self):
        if self.array.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(self.array.shape[0]))

    def __bool__(self):
        if self.array.size != 1:
            raise RuntimeError("Boolean value of Tensor with more than one value is ambiguous")
        return bool(self.array.item())

    def __float__(self):
        return float(self.item())

    def __int__(self):
        return int(self.item())

    def __index__(self):
        if self.array.dtype.kind not in "iu" or self.array.size != 1:
            raise TypeError("only integer tensors of a single element can be converted to an index")
        return int(self.item())

    __hash__ = object.__hash__

    def __format__(self, spec):
        if self.array.ndim == 0:  # "{:.2f}".format(loss) works as in PyTorch
            return format(self.item(), spec)
        return format(str(self), spec)

    def __repr__(self):
        arr = to_numpy(self.array)
        body = np.array2string(arr, separator=", ", precision=4, prefix="tensor(",  # host: a copy
                               floatmode="maxprec_equal" if arr.dtype.kind == "f" else "maxprec")
        extras = []
        if arr.dtype not in (dtypes.float32.np, dtypes.int64.np, dtypes.bool_.np) or arr.size == 0:
            extras.append(f"dtype={self.dtype!r}")
        if self.device.type == "cuda":
            extras.append("device='cuda:0'")
        if self.grad_fn is not None:
            extras.append(f"grad_fn=<{self.grad_fn.name()}>")
        elif self.requires_grad:
            extras.append("requires_grad=True")
        return "tensor(" + ", ".join([body] + extras) + ")"

    # ------------------------------------------------------------------ arithmetic
    def __add__(self, other):
        return _binary(Add, self, other)

    def __radd__(self, other):
        return _binary(Add, other, self)

    def __sub__(self, other):
        return _binary(Sub, self, other)

    def __rsub__(self, other):
        return _binary(Sub, other, self)

    def __mul__(self, other):
        return _binary(Mul, self, other)

    def __rmul__(self, other):
        return _binary(Mul, other, self)

    def __truediv__(self, other):
        return _binary(Div, self, other, true_division=True)

    def __rtruediv__(self, other):
        return _binary(Div, other, self, true_division=True)

    def __pow__(self, exponent):
        if isinstance(exponent, _SCALAR_TYPES):
            base = self
            if promote_scalar(self.array.dtype, exponent) != self.array.dtype:
                base = self.to(promote_scalar(self.array.dtype, exponent))
            return PowScalar.apply(base, exponent=exponent.item() if isinstance(exponent, np.generic) else exponent)
        return _binary(Pow, self, exponent)

    def __rpow__(self, base):
        if isinstance(base, _SCALAR_TYPES):
            exponent = self
            if promote_scalar(self.array.dtype, base) != self.array.dtype:
                exponent = self.to(promote_scalar(self.array.dtype, base))
            return RPowScalar.apply(exponent, base=base.item() if isinstance(base, np.generic) else base)
        return _binary(Pow, base, self)

    def __neg__(self):
        return Neg.apply(self)

    def __abs__(self):
        return self.abs()

    def __pos__(self):
        return self

    def __matmul__(self, other):
        return self.matmul(other)

    def __rmatmul__(self, other):
        return _as_tensor_like(other, self).matmul(self)

    add = __add__
    sub = __sub__
    mul = __mul__
    div = __truediv__
    pow = __pow__
    neg = __neg__

    def matmul(self, other):
        if not isinstance(other, Tensor):
            raise TypeError(f"matmul: expected a Tensor, got {type(other).__name__}")
        _check_same_device("matmul", self, other)
        if self.array.dtype != other.array.dtype:
            raise RuntimeError(f"matmul: expected both operands to have the same dtype, "
                               f"but got {self.dtype} and {other.dtype}")
        a, b = self.shape, other.shape
        if not a or not b:
            raise RuntimeError(f"matmul: both arguments need to be at least 1-D, got shapes {a} and {b}")
        if a[-1] != b[-2 if len(b) > 1 else 0]:
            raise RuntimeError(f"matmul: shapes {a} and {b} cannot be multiplied ({a[-1]} != "
                               f"{b[-2 if len(b) > 1 else 0]})")
        return Matmul.apply(self, other)

    def mm(self, other):
        if self.ndim != 2 or getattr(other, "ndim", 0) != 2:
            raise RuntimeError(f"mm: expected 2-D tensors, got shapes {tuple(self.shape)} and {tuple(getattr(other, 'shape', ()))}")
        return self.matmul(other)

    # comparisons and logic: no gradient, boolean results
    def __eq__(self, other):
        return _compare("equal", self, other)

    def __ne__(self, other):
        return _compare("not_equal", self, other)

    def __lt__(self, other):
        return _compare("less", self, other)

    def __le__(self, other):
        return _compare("less_equal", self, other)

    def __gt__(self, other):
        return _compare("greater", self, other)

    def __ge__(self, other):
        return _compare("greater_equal", self, other)

    eq, ne, lt, le, gt, ge = __eq__, __ne__, __lt__, __le__, __gt__, __ge__

    def __and__(self, other):
        return _logical("bitwise_and", self, other)

    def __or__(self, other):
        return _logical("bitwise_or", self, other)

    def __xor__(self, other):
        return _logical("bitwise_xor", self, other)

    __rand__, __ror__, __rxor__ = __and__, __or__, __xor__

    def __invert__(self):
        if self.array.dtype.kind not in "biu":
            raise TypeError(f"~ (bitwise_not) is only supported for integer and boolean tensors, got {self.dtype}")
        return Tensor._from_op(~self.array, None)

    def logical_not(self):
        return Tensor._from_op(get_array_module(self.array).logical_not(self.array), None)

    def equal(self, other):
        """True when both tensors have the same shape and elements (a Python bool)."""
        return self.shape == other.shape and bool((self.array == other.array).all())

    # ------------------------------------------------------------------ unary math
    def exp(self):
        return Exp.apply(self._float_for("exp"))

    def log(self):
        return Log.apply(self._float_for("log"))

    def sqrt(self):
        return Sqrt.apply(self._float_for("sqrt"))

    def tanh(self):
        return Tanh.apply(self._float_for("tanh"))

    def sigmoid(self):
        return Sigmoid.apply(self._float_for("sigmoid"))

    def relu(self):
        return ReLU.apply(self)

    def abs(self):
        return Abs.apply(self)

    def sign(self):
        return Sign.apply(self)

    def clamp(self, min=None, max=None):
        if isinstance(min, Tensor) or isinstance(max, Tensor):
            raise TypeError("clamp: min and max must be numbers here (tensor bounds are not supported)")
        return Clamp.apply(self, min=min, max=max)

    clip = clamp

    def square(self):
        return self * self

    def maximum(self, other):
        return maximum(self, other)

    def minimum(self, other):
        return minimum(self, other)

    def _float_for(self, op):
        # PyTorch computes exp/log/... of integer tensors in the default float dtype
        return self if self.array.dtype.kind == "f" else self.to(dtypes.default_float)

    def softmax(self, dim):
        return Softmax.apply(self._float_for("softmax"), dim=_dim(dim, self.ndim, "softmax"))

    def log_softmax(self, dim):
        return LogSoftmax.apply(self._float_for("log_softmax"), dim=_dim(dim, self.ndim, "log_softmax"))

    def where(self, condition, other):
        """``where(condition, self, other)``."""
        return where(condition, self, other)

    def masked_fill(self, mask, value):
        """``self`` with ``value`` where the boolean ``mask`` (broadcastable to self) is true."""
        if not isinstance(mask, Tensor) or mask.array.dtype.kind != "b":
            raise RuntimeError(f"masked_fill only supports boolean masks, but got mask of "
                               f"{'dtype ' + str(mask.dtype) if isinstance(mask, Tensor) else type(mask).__name__}")
        if isinstance(value, Tensor):
            if value.ndim != 0:
                raise RuntimeError(f"masked_fill only supports a 0-dimensional value tensor, but got tensor "
                                   f"with {value.ndim} dimension(s).")
            value = value.item()
        _check_same_device("masked_fill", self, mask)
        try:
            np.broadcast_shapes(mask.shape, self.shape)  # host: shapes only
        except ValueError:
            raise RuntimeError(f"masked_fill: the mask of shape {tuple(mask.shape)} cannot be broadcast to the "
                               f"tensor's shape {tuple(self.shape)}") from None
        return MaskedFill.apply(self, mask, value=value)

    # ------------------------------------------------------------------ reductions
    def sum(self, dim=None, keepdim=False, dtype=None, *, axis=None):
        t = self if dtype is None else self.to(dtype)
        if t.array.dtype.kind in "biu" and t.array.dtype != np.int64:
            t = t.to(dtypes.int64)  # PyTorch sums bool and integer tensors as int64
        return Sum.apply(t, axes=_dims(_dim_or_axis(dim, axis), t.ndim, "sum"), keepdim=keepdim)

    def mean(self, dim=None, keepdim=False, dtype=None, *, axis=None):
        t = self if dtype is None else self.to(dtype)
        if t.array.dtype.kind != "f":
            raise RuntimeError(f"mean(): could not infer output dtype. Input dtype must be floating point, got {t.dtype}")
        return Mean.apply(t, axes=_dims(_dim_or_axis(dim, axis), t.ndim, "mean"), keepdim=keepdim)

    def sum_to_size(self, *size):
        """The sum of this tensor down to ``size``, which must broadcast to its shape (a broadcast
        gradient back to its input's shape); this tensor itself when the shape is already ``size``."""
        size = _shape_arg(size)
        if tuple(self.shape) == size:
            return self
        lead = self.ndim - len(size)
        if lead < 0 or any(n not in (1, m) for n, m in zip(size, self.shape[lead:])):
            raise RuntimeError(f"size {list(size)} is not expandable to size {list(self.shape)}.")
        axes = tuple(range(lead)) + tuple(lead + i for i, n in enumerate(size) if n == 1 and self.shape[lead + i] != 1)
        out = Sum.apply(self, axes=axes, keepdim=True) if axes else self
        return out.reshape(size) if tuple(out.shape) != size else out

    def _var_args(self, op, dim, unbiased, correction, axis):
        if correction is None:
            correction = 1 if unbiased is None or unbiased is True else 0
        if self.array.dtype.kind != "f":
            raise RuntimeError(f"{op}(): input dtype should be floating point, got {self.dtype}")
        return _dims(_dim_or_axis(dim, axis), self.ndim, op), correction

    def var(self, dim=None, unbiased=None, keepdim=False, *, correction=None, axis=None):
        axes, correction = self._var_args("var", dim, unbiased, correction, axis)
        return Var.apply(self, axes=axes, keepdim=keepdim, correction=correction)

    def std(self, dim=None, unbiased=None, keepdim=False, *, correction=None, axis=None):
        axes, correction = self._var_args("std", dim, unbiased, correction, axis)
        return Std.apply(self, axes=axes, keepdim=keepdim, correction=correction)

    def max(self, dim=None, keepdim=False):
        """``max()``: the largest value (ties, or NaNs, share the gradient); ``max(dim)``: (values, indices);
        ``max(other)``: ``maximum``."""
        if isinstance(dim, Tensor):
            return maximum(self, dim)
        if dim is None:
            return self._extreme_all(MaxAll, "max")
        return self._extreme_dim(MaxDim, "max", dim, keepdim, return_types_max)

    def min(self, dim=None, keepdim=False):
        if isinstance(dim, Tensor):
            return minimum(self, dim)
        if dim is None:
            return self._extreme_all(MinAll, "min")
        return self._extreme_dim(MinDim, "min", dim, keepdim, return_types_min)

    def _extreme_all(self, op, name):
        if self.array.size == 0:
            raise RuntimeError(f"{name}(): Expected reduction dim to be specified for input.numel() == 0. "
                               f"Specify the reduction dim with the 'dim' argument.")
        return op.apply(self)

    def _extreme_dim(self, op, name, dim, keepdim, result_type):
        d = _dim(dim, self.ndim, name)
        if self.ndim == 0:
            return result_type(self.clone(), Tensor._from_op(get_array_module(self.array).asarray(0), None))
        if self.array.shape[d] == 0:
            raise IndexError(f"{name}(): Expected reduction dim {d} to have non-zero size, got shape {tuple(self.shape)}")
        values, indices = op.apply(self, dim=d, keepdim=keepdim)
        return result_type(values, indices)

    def amax(self, dim=(), keepdim=False):
        """Largest values over ``dim`` (all dims by default); ties share the gradient evenly."""
        return self._amax(Amax, "amax", dim, keepdim)

    def amin(self, dim=(), keepdim=False):
        return self._amax(Amin, "amin", dim, keepdim)

    def _amax(self, op, name, dim, keepdim):
        axes = _dims(dim if dim != () else None, self.ndim, name)
        for d in (range(self.ndim) if axes is None else axes):
            if self.array.shape[d] == 0:
                raise IndexError(f"{name}(): Expected reduction dim {d} to have non-zero size.")
        return op.apply(self, axes=axes, keepdim=keepdim)

    def argmax(self, dim=None, keepdim=False, *, axis=None):
        return _argextreme(self, "argmax", _dim_or_axis(dim, axis), keepdim)

    def argmin(self, dim=None, keepdim=False, *, axis=None):
        return _argextreme(self, "argmin", _dim_or_axis(dim, axis), keepdim)

    # ------------------------------------------------------------------ shape
    def reshape(self, *shape):
        return Reshape.apply(self, shape=_shape_arg(shape))

    def view(self, *shape):
        if len(shape) == 1 and not isinstance(shape[0], (int, tuple, list, np.integer)):
            return self.to(shape[0])  # view(dtype) is not a reinterpretation here; it casts
        return View.apply(self, shape=_shape_arg(shape))

    def view_as(self, other):
        return self.view(other.shape)

    def reshape_as(self, other):
        return self.reshape(other.shape)

    def flatten(self, start_dim=0, end_dim=-1):
        """Merge dims ``start_dim..end_dim`` into one; the tensor itself when that changes nothing."""
        if self.ndim == 0:
            return Flatten.apply(self, shape=(1,))
        s = _dim(start_dim, self.ndim, "flatten")
        e = _dim(end_dim, self.ndim, "flatten")
        if s > e:
            raise RuntimeError(f"flatten() has invalid args: start_dim {start_dim} cannot come after end_dim {end_dim}")
        if s == e:
            return self  # PyTorch returns the input itself
        shape = self.shape[:s] + (int(np.prod(self.shape[s:e + 1])),) + self.shape[e + 1:]  # host: sizes
        return Flatten.apply(self, shape=shape)

    def squeeze(self, dim=None):
        if dim is None:
            shape = tuple(n for n in self.shape if n != 1)
        else:
            dims = _dims(dim, self.ndim, "squeeze") or ()
            shape = tuple(n for i, n in enumerate(self.shape) if not (i in dims and n == 1))
        return Squeeze.apply(self, shape=shape)

    def unsqueeze(self, dim):
        d = _dim(dim, self.ndim + 1, "unsqueeze")
        return Unsqueeze.apply(self, shape=self.shape[:d] + (1,) + self.shape[d:])

    def permute(self, *dims):
        dims = _shape_arg(dims)
        if len(dims) != self.ndim:
            raise RuntimeError(f"permute: number of dims {len(dims)} doesn't match the tensor's {self.ndim} dims")
        dims = tuple(_dim(d, self.ndim, "permute") for d in dims)
        if len(set(dims)) != len(dims):
            raise RuntimeError(f"permute: repeated dim in {dims}")
        return Permute.apply(self, dims=dims)

    def transpose(self, dim0, dim1):
        dims = list(range(self.ndim))
        a, b = _dim(dim0, self.ndim, "transpose"), _dim(dim1, self.ndim, "transpose")
        dims[a], dims[b] = dims[b], dims[a]
        return Transpose.apply(self, dims=tuple(dims))

    def t(self):
        """The transpose of a matrix; a 0-d or 1-D tensor comes back as a new view of itself."""
        if self.ndim > 2:
            raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is {self.ndim}D")
        return self.transpose(0, 1) if self.ndim == 2 else Transpose.apply(self, dims=tuple(range(self.ndim)))

    def expand(self, *sizes):
        sizes = _shape_arg(sizes)
        lead = len(sizes) - self.ndim
        if lead < 0:
            raise RuntimeError(f"expand: the number of sizes provided ({len(sizes)}) must be greater "
                               f"or equal to the number of dimensions in the tensor ({self.ndim})")
        shape = []
        for i, n in enumerate(sizes):
            if n == -1:
                if i < lead:
                    raise RuntimeError("expand: -1 is not allowed in a leading, non-existing dimension")
                n = self.shape[i - lead]
            elif i >= lead and self.shape[i - lead] not in (1, n):
                raise RuntimeError(f"expand: the expanded size of the tensor ({n}) must match the existing "
                                   f"size ({self.shape[i - lead]}) at non-singleton dimension {i}; "
                                   f"target sizes {tuple(sizes)}, tensor sizes {tuple(self.shape)}")
            shape.append(n)
        return Expand.apply(self, shape=tuple(shape))

    def expand_as(self, other):
        return self.expand(other.shape)

    def narrow(self, dim, start, length):
        """Elements ``start .. start+length-1`` along ``dim`` (a view)."""
        d = _dim(dim, self.ndim, "narrow")
        size = self.shape[d]
        start = int(start) + (size if int(start) < 0 else 0)
        if not 0 <= start <= size or length < 0 or start + length > size:
            raise IndexError(f"narrow(): start ({start}) + length ({length}) exceeds dimension size ({size}).")
        index = (slice(None),) * d + (slice(start, start + int(length)),)
        return Index.apply(self, index=index)

    def select(self, dim, index):
        """The slice at ``index`` along ``dim``, that dimension removed (a view)."""
        d = _dim(dim, self.ndim, "select")
        size = self.shape[d]
        if not -size <= int(index) < size:
            raise IndexError(f"select(): index {index} out of range for tensor of size {tuple(self.shape)} at "
                             f"dimension {d}")
        return Index.apply(self, index=(slice(None),) * d + (int(index),))

    def __getitem__(self, index):
        return Index.apply(self, index=_index_arg(index, self))

    def __setitem__(self, index, value):
        self._check_inplace("__setitem__")
        self.array[_index_arg(index, self)] = value.array if isinstance(value, Tensor) else value
        self._bump_version()

    # ------------------------------------------------------------------ gather / scatter
    def gather(self, dim, index):
        """``out[i][j] = self[index[i][j]][j]`` along ``dim`` (index int64, of the same number of dims)."""
        d = self._check_scatter_index("gather", dim, index)
        return Gather.apply(self, index, dim=d)

    def scatter(self, dim, index, src=None, *, value=None, reduce=None):
        """A copy of ``self`` with ``src`` (a tensor, or a number) written at ``index`` along ``dim``."""
        if reduce is not None:
            raise NotImplementedError("scatter(reduce=...) is not supported; use scatter_add or scatter_reduce")
        d = self._check_scatter_index("scatter", dim, index)
        if src is None:
            src = value
        if not isinstance(src, Tensor):
            src = Tensor._from_op(get_array_module(self.array).full(index.shape, src, dtype=self.array.dtype), None)
        self._check_scatter_src("scatter", src, index, d)
        return Scatter.apply(self, index, src, dim=d)

    def scatter_add(self, dim, index, src):
        """A copy of ``self`` with ``src`` added at ``index`` along ``dim`` (repeated indices add up)."""
        d = self._check_scatter_index("scatter_add", dim, index)
        self._check_scatter_src("scatter_add", src, index, d)
        return ScatterAdd.apply(self, index, src, dim=d)

    def _check_scatter_index(self, op, dim, index):
        d = _dim(dim, self.ndim, op)
        if not isinstance(index, Tensor) or index.array.dtype.kind not in "iu":
            raise RuntimeError(f"{op}(): Expected dtype int64 for index, got "
                               f"{index.dtype if isinstance(index, Tensor) else type(index).__name__}")
        if index.ndim != self.ndim and not (index.ndim <= 1 and self.ndim <= 1):
            raise RuntimeError(f"{op}(): Index tensor must have the same number of dimensions as input tensor "
                               f"({self.ndim}), got {index.ndim}")
        _check_same_device(op, self, index)
        if index.array.size:
            lo, hi = int(index.array.min()), int(index.array.max())
            if lo < 0 or hi >= max(self.shape[d] if self.ndim else 1, 1):
                raise RuntimeError(f"{op}(): index {lo if lo < 0 else hi} is out of bounds for dimension {d} "
                                   f"with size {self.shape[d] if self.ndim else 1}")
            for k, (n, m) in enumerate(zip(index.shape, self.shape)):
                if k != d and n > m:
                    raise RuntimeError(f"{op}(): Size does not match at dimension {k} expected index "
                                       f"{tuple(index.shape)} to be smaller than self {tuple(self.shape)} "
                                       f"apart from dimension {d}")
        return d

    def _check_scatter_src(self, op, src, index, d):
        if not isinstance(src, Tensor):
            raise TypeError(f"{op}(): src must be a Tensor, got {type(src).__name__}")
        if src.array.dtype != self.array.dtype:
            raise RuntimeError(f"{op}(): Expected self.dtype to be equal to src.dtype, got {self.dtype} and {src.dtype}")
        if src.ndim != index.ndim or any(n > m for n, m in zip(index.shape, src.shape)):
            raise RuntimeError(f"{op}(): Expected index {tuple(index.shape)} to be smaller than src "
                               f"{tuple(src.shape)} in every dimension")

    def index_put(self, indices, values, accumulate=False):
        """A copy of ``self`` with ``values`` written (``accumulate``: added) at ``self[indices]``."""
        if not isinstance(indices, tuple):
            raise TypeError("index_put(): indices must be a tuple of tensors")
        if not isinstance(values, Tensor):
            values = _as_tensor_like(values, self)
        return IndexPut.apply(self, values.to(self.dtype), index=_index_arg(indices, self), accumulate=bool(accumulate))

    # ------------------------------------------------------------------ new tensors like this one
    def new_zeros(self, *size, dtype=None, device=None, requires_grad=False):
        return self._new(size, 0, dtype, device, requires_grad)

    def new_ones(self, *size, dtype=None, device=None, requires_grad=False):
        return self._new(size, 1, dtype, device, requires_grad)

    def new_full(self, size, fill_value, dtype=None, device=None, requires_grad=False):
        return self._new((size,), fill_value, dtype, device, requires_grad)

    def new_empty(self, *size, dtype=None, device=None, requires_grad=False):
        return self._new(size, None, dtype, device, requires_grad)

    def new_tensor(self, data, dtype=None, device=None, requires_grad=False):
        """A new tensor from ``data`` (copied), with this tensor's dtype and device by default."""
        t = Tensor(_as_array(data, dtype if dtype is not None else self.dtype, device if device is not None else self.device))
        return t.requires_grad_(True) if requires_grad else t

    def _new(self, size, value, dtype, device, requires_grad):
        size = _shape_arg(size)
        xp = get_array_module(device if device is not None else self.array)
        np_dtype = dtypes.to_dtype(dtype).np if dtype is not None else self.array.dtype
        array = xp.empty(size, dtype=np_dtype) if value is None else xp.full(size, value, dtype=np_dtype)
        t = Tensor._from_op(array, None)
        return t.requires_grad_(True) if requires_grad else t

    # ------------------------------------------------------------------ in place (outside the graph)
    def _check_inplace(self, op):
        from .autograd import is_grad_enabled
        if self.requires_grad and is_grad_enabled():
            what = "a leaf Variable that requires grad" if self.is_leaf else "a tensor recorded in the graph"
            raise RuntimeError(f"{op}: {what} is being used in an in-place operation; "
                               f"wrap it in tinygrad_mnist.no_grad() or use .data")

    def _inplace(self, op, fn, other):
        self._check_inplace(op)
        value = other.array if isinstance(other, Tensor) else other
        fn(self.array, value, out=self.array)
        self._bump_version()
        return self

    def add_(self, other, alpha=1):
        return self._inplace("add_", get_array_module(self.array).add, other if alpha == 1 else other * alpha)

    def sub_(self, other, alpha=1):
        return self._inplace("sub_", get_array_module(self.array).subtract, other if alpha == 1 else other * alpha)

    def mul_(self, other):
        return self._inplace("mul_", get_array_module(self.array).multiply, other)

    def div_(self, other):
        return self._inplace("div_", get_array_module(self.array).divide, other)

    __iadd__, __isub__, __imul__, __itruediv__ = add_, sub_, mul_, div_

    def zero_(self):
        return self.fill_(0)

    def fill_(self, value):
        self._check_inplace("fill_")
        self.array[...] = value.item() if isinstance(value, Tensor) else value
        self._bump_version()
        return self

    def copy_(self, src, non_blocking=False):
        self._check_inplace("copy_")
        src_array = src.array if isinstance(src, Tensor) else src
        self.array[...] = to_device(src_array, self.device)
        self._bump_version()
        return self

    def clamp_(self, min=None, max=None):
        self._check_inplace("clamp_")
        get_array_module(self.array).clip(self.array, min, max, out=self.array)
        self._bump_version()
        return self

    def uniform_(self, a=0.0, b=1.0, generator=None):
        rng = backend.numpy_rng(generator)
        return self.copy_(rng.uniform(a, b, size=self.shape).astype(self.array.dtype))

    def normal_(self, mean=0.0, std=1.0, generator=None):
        rng = backend.numpy_rng(generator)
        return self.copy_(rng.normal(mean, std, size=self.shape).astype(self.array.dtype))


# ---------------------------------------------------------------------- helpers for the methods
def parse_to_args(args, kwargs):
    """(device, dtype) from ``to``'s arguments: ``to(device)``, ``to(dtype)``, ``to(device, dtype)``,
    ``to(other_tensor)``, keywords, and PyTorch's ignored ``non_blocking`` (keyword or positional bool).
    Either may be None; they are returned as given (strings, dtypes), unchecked."""
    device = kwargs.pop("device", None)
    dtype = kwargs.pop("dtype", None)
    kwargs.pop("non_blocking", None)
    kwargs.pop("copy", None)
    if kwargs:
        raise TypeError(f"to() got unexpected keyword arguments {sorted(kwargs)}")
    for a in args:
        if isinstance(a, Tensor):
            device, dtype = a.device, a.dtype
        elif isinstance(a, (str, Device)):
            device = a
        elif isinstance(a, bool):  # the old positional non_blocking flag
            continue
        else:
            dtype = a
    return device, dtype


def _dim(dim, ndim, op):
    return canonical_dim(dim, ndim, op)


def _dims(dim, ndim, op):
    return canonical_dims(dim, ndim, op)


def _dim_or_axis(dim, axis):
    """PyTorch accepts NumPy's ``axis=`` for ``dim=``."""
    if axis is not None:
        if dim is not None:
            raise TypeError("got both dim= and axis=; pass one of them")
        return axis
    return dim


def _shape_arg(shape):
    """Accept ``f(2, 3)``, ``f((2, 3))`` and ``f([2, 3])``; every entry an int (2.5, True, "2" are refused)."""
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = shape[0]
    out = []
    for position, n in enumerate(shape):
        if isinstance(n, (bool, np.bool_)) or not isinstance(n, (numbers.Integral, Tensor)):
            raise TypeError(f"size must be a tuple of ints, but found {n!r} ({type(n).__name__}) at position {position}")
        out.append(int(n))
    return tuple(out)


def _index_arg(index, t):
    """Tensors and lists in an index become arrays on the tensor's device; masks become positions."""
    items = index if isinstance(index, tuple) else (index,)
    xp = get_array_module(t.array)
    out = []
    for i in items:
        if isinstance(i, Tensor):
            i = i.array
        elif isinstance(i, list):
            i = xp.asarray(i) if i else xp.zeros(0, dtype=np.int64)  # x[[]] selects nothing
        if _is_ndarray(i):
            if i.dtype.kind not in "iub":
                raise IndexError(f"tensors used as indices must be long, int, byte or bool tensors, got {i.dtype}")
            if i.dtype.kind in "iu" and t.device.type == "cuda" and all(
                    x is not None and x is not Ellipsis for x in out):
                _check_index_range(i, t.shape, len(out))  # CuPy would wrap around silently
            i = to_device(i, t.device)
            if i.dtype.kind == "b":
                out.extend(i.nonzero())  # a boolean mask selects its true positions
                continue
        out.append(i)
    return tuple(out) if isinstance(index, tuple) or len(out) != 1 else out[0]


def _check_index_range(index, shape, dim):
    """Bounds of an integer index array for dimension ``dim``, checked on the host.

    NumPy raises for an out-of-range index but CuPy wraps it around, so GPU indexing checks here
    (a device-resident index costs one sync; the training loop's batches never come this way).
    """
    if index.size == 0 or dim >= len(shape):
        return
    lo, hi = int(index.min()), int(index.max())
    if lo < -shape[dim] or hi >= shape[dim]:
        bad = lo if lo < -shape[dim] else hi
        raise IndexError(f"index {bad} is out of bounds for dimension {dim} with size {shape[dim]}")


def _check_same_device(op, a, b):
    if type(a.array) is not type(b.array):
        raise RuntimeError(f"{op}: expected all tensors to be on the same device, but found at least two "
                           f"devices, {a.device} and {b.device}")


def _as_tensor_like(value, like):
    """A Python/NumPy scalar or array as a constant tensor on ``like``'s device."""
    if isinstance(value, Tensor):
        return value
    if isinstance(value, _SCALAR_TYPES):
        dt = promote_scalar(like.array.dtype, value)
        return Tensor._from_op(get_array_module(like.array).asarray(value, dtype=dt), None)
    if _is_ndarray(value):
        return Tensor(to_device(value, like.device))
    raise TypeError(f"unsupported operand type {type(value).__name__} for a tensor op")


def _binary_operands(a, b):
    """Turn the operands of a binary op into two tensors of one dtype on one device."""
    if not isinstance(a, Tensor):
        a = _as_tensor_like(a, b)
    if not isinstance(b, Tensor):
        b = _as_tensor_like(b, a)
    aa, ba = a.array, b.array
    if aa.dtype != ba.dtype:
        dt = promote_arrays(aa, ba, aa.ndim == 0, ba.ndim == 0)
        if aa.dtype != dt:
            a = a.to(dt)
        if ba.dtype != dt:
            b = b.to(dt)
    elif type(aa) is not type(ba):
        _check_same_device("binary op", a, b)
    return a, b


def _binary(op, a, b, true_division=False):
    try:
        a, b = _binary_operands(a, b)
    except TypeError:
        return NotImplemented
    if true_division and a.array.dtype.kind != "f":
        a, b = a.to(dtypes.default_float), b.to(dtypes.default_float)
    return op.apply(a, b)


def _compare(ufunc, a, b):
    """Elementwise comparison ``xp.<ufunc>(a, b)`` (a name: "equal", "less", ...); no gradient."""
    if not isinstance(b, (Tensor,) + _SCALAR_TYPES) and not _is_ndarray(b):
        return NotImplemented if ufunc in ("equal", "not_equal") else _raise_compare(a, b)
    b_array = b.array if isinstance(b, Tensor) else b
    if isinstance(b, Tensor):
        _check_same_device("comparison", a, b)
    xp = get_array_module(a.array)
    return Tensor._from_op(getattr(xp, ufunc)(a.array, b_array), None)


def _logical(ufunc, a, b):
    """``&``, ``|``, ``^`` of boolean or integer tensors (or with a Python bool/int); no gradient."""
    b_array = b.array if isinstance(b, Tensor) else b
    if a.array.dtype.kind not in "biu" or (isinstance(b, Tensor) and b.array.dtype.kind not in "biu"):
        raise TypeError(f"{ufunc}: only integer and boolean tensors, got {a.dtype}"
                        + (f" and {b.dtype}" if isinstance(b, Tensor) else ""))
    return Tensor._from_op(getattr(get_array_module(a.array), ufunc)(a.array, b_array), None)


def _raise_compare(a, b):
    raise TypeError(f"cannot compare a Tensor with {type(b).__name__}")


def _argextreme(t, arg, dim, keepdim):
    xp = get_array_module(t.array)
    if dim is None:
        if t.array.size == 0:
            raise RuntimeError(f"{arg}(): Expected reduction dim to be specified for input.numel() == 0.")
        out = xp.asarray(getattr(t.array, arg)())
        if keepdim:
            out = out.reshape((1,) * t.ndim)
    else:
        d = _dim(dim, t.ndim, arg)
        if t.ndim and t.array.shape[d] == 0:
            raise IndexError(f"{arg}(): Expected reduction dim {d} to have non-zero size.")
        out = getattr(t.array, arg)(axis=d, keepdims=keepdim) if t.ndim else xp.asarray(0)
    return Tensor._from_op(out.astype(np.int64, copy=False), None)


def maximum(a, b):
    """Elementwise maximum; NaN propagates; where the two are equal each gets half the gradient."""
    a, b = _binary_operands(a, b)
    return Maximum.apply(a, b)


def minimum(a, b):
    """Elementwise minimum; NaN propagates; ties share the gradient."""
    a, b = _binary_operands(a, b)
    return Minimum.apply(a, b)


def where(condition, input, other):
    """Elements of ``input`` where ``condition`` is true, else of ``other`` (broadcasting)."""
    if not isinstance(condition, Tensor) or condition.array.dtype.kind != "b":
        raise TypeError("where: condition must be a bool tensor")
    input, other = _binary_operands(input, other)
    return Where.apply(condition, input, other)


# The ops import Op from autograd, which imports Tensor from this module: import them last.
from .ops.elementwise import (Abs, Add, Cast, Clamp, Clone, Div, Exp, Log, LogSoftmax,  # noqa: E402
                              MaskedFill, Maximum, Minimum, Mul, Neg, Pow, PowScalar, ReLU,
                              RPowScalar, Sigmoid, Sign, Softmax, Sqrt, Sub, Tanh, Where)
from .ops.matmul import Matmul  # noqa: E402
from .ops.movement import (Expand, Flatten, Gather, Index, IndexPut, Permute, Reshape,  # noqa: E402
                           Scatter, ScatterAdd, Squeeze, ToDevice, Transpose, Unsqueeze, View)
from .ops.reduce import (Amax, Amin, MaxAll, MaxDim, Mean, MinAll, MinDim, Std, Sum,  # noqa: E402
                         Var)
