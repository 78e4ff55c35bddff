"""Tensor: an n-dimensional array (NumPy or CuPy) that can record the ops applied to it.

A tensor holds its data in ``.array`` (a ``numpy.ndarray`` on "cpu", a ``cupy.ndarray`` on
"cuda"). Ops on tensors that require grad build the backward graph: the result's ``grad_fn`` is
the op (a :class:`~tinygrad_mnist.autograd.Function`), whose ``next_functions`` lead to the
inputs' own ``grad_fn``s, down to the leaves' ``AccumulateGrad`` nodes.

Every tensor has a version (``t._version``), shared with the views of its memory and with
``detach()``; in-place ops raise it. A tensor saved for backward remembers its version, so that a
backward through data changed in place raises instead of computing a wrong gradient (PyTorch's
check). ``.data`` shares memory but not the version, as in PyTorch.

``.shape`` and ``.size()`` are a :class:`~tinygrad_mnist.Size`, a tuple like ``torch.Size``.
In-place forms (``add_``, ``exp_``, ``masked_fill_``, ...) change the tensor's memory and raise
its version; as in PyTorch a result of a higher dtype category is refused ("result type Float
can't be cast to the desired output type Long").

Differences from PyTorch, all deliberate:
* ``view`` never fails on non-contiguous data (it is ``reshape``); in-place ops are allowed only
  on tensors that are not recorded in a graph.
* One GPU: "cuda" and "cuda:0" are the same device.
"""
from __future__ import annotations

import collections
import math
import numbers

import numpy as np

from . import backend, dtypes
from .backend import Device, get_array_module, to_device, to_numpy
from .dtypes import promote_arrays, promote_scalar
from .shapes import Size, accepts_axis, canonical_dim, canonical_dims

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
        try:
            arr = np.array(data)  # host: Python data (lists, numbers)
        except (RuntimeError, TypeError):  # tensors inside that refuse __array__ (grad, GPU): their values
            arr = np.array(_host_values(data))  # host: Python data
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


def _host_values(data):
    """Nested lists and tuples with each Tensor replaced by a host copy of its values."""
    if isinstance(data, Tensor):
        return to_numpy(data.array)
    if isinstance(data, (list, tuple)):
        return [_host_values(x) for x in data]
    return data


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
        """The sizes of the dimensions, a :class:`~tinygrad_mnist.Size` (a tuple, as ``torch.Size``)."""
        return tuple.__new__(Size, self.array.shape)   # an array's shape is already a tuple of ints

    def size(self, dim=None):
        if dim is None:
            return tuple.__new__(Size, self.array.shape)
        return self.array.shape[_dim(dim, self.ndim, "size")] if self.ndim else _no_dims("size", dim)

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
        _backward(self, None if gradient is None else [gradient], retain_graph=retain_graph,
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

    def cuda(self, device=None, non_blocking=False, memory_format=None):
        if device is not None and Device(device if not isinstance(device, int) else f"cuda:{device}").type != "cuda":
            raise RuntimeError(f"cuda(): invalid device {device!r}: expected a CUDA device")
        return self.to("cuda")

    def type(self, dtype=None, non_blocking=False):
        """No argument: PyTorch's type string, ``'torch.FloatTensor'`` (``'torch.cuda.FloatTensor'``
        on the GPU), so that programs comparing it work unchanged. With a type string
        (``'torch.LongTensor'``), a typed class (``tg.LongTensor``) or a dtype: this tensor converted."""
        from . import legacy
        if dtype is None:
            return legacy.type_name(self.dtype, self.device.type)
        target, device = legacy.parse_type(dtype)
        out = self.to(target)
        return out.to(device) if device is not None else out

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
        from .printing import tensor_repr
        return tensor_repr(self, to_numpy(self.array))  # host: a copy to print

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
    pow = __pow__
    neg = __neg__

    def matmul(self, other):
        if not isinstance(other, Tensor):
            raise TypeError(f"matmul: expected a Tensor, got {type(other).__name__}")
        _check_same_device("matmul", self, other)
        if self.array.dtype != other.array.dtype:
            raise RuntimeError(f"matmul: expected both operands to have the same dtype, "
                               f"but got {self.dtype} and {other.dtype}")
        a, b = tuple(self.shape), tuple(other.shape)
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
    def sum(self, dim=None, keepdim=False, dtype=None):
        t = self if dtype is None else self.to(dtype)
        if t.array.dtype.kind in "biu" and t.array.dtype != np.int64:
            t = t.to(dtypes.int64)  # PyTorch sums bool and integer tensors as int64
        return Sum.apply(t, axes=_dims(dim, t.ndim, "sum"), keepdim=keepdim)

    def mean(self, dim=None, keepdim=False, dtype=None):
        t = self if dtype is None else self.to(dtype)
        if t.array.dtype.kind != "f":
            raise RuntimeError(f"mean(): could not infer output dtype. Input dtype must be floating point, got {t.dtype}")
        return Mean.apply(t, axes=_dims(dim, t.ndim, "mean"), keepdim=keepdim)

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

    def _var_args(self, op, dim, unbiased, correction):
        if correction is None:
            correction = 1 if unbiased is None or unbiased is True else 0
        if self.array.dtype.kind != "f":
            raise RuntimeError(f"{op}(): input dtype should be floating point, got {self.dtype}")
        return _dims(dim, self.ndim, op), correction

    def var(self, dim=None, unbiased=None, keepdim=False, *, correction=None):
        axes, correction = self._var_args("var", dim, unbiased, correction)
        return Var.apply(self, axes=axes, keepdim=keepdim, correction=correction)

    def std(self, dim=None, unbiased=None, keepdim=False, *, correction=None):
        axes, correction = self._var_args("std", dim, unbiased, correction)
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

    def argmax(self, dim=None, keepdim=False):
        return _argextreme(self, "argmax", dim, keepdim)

    def argmin(self, dim=None, keepdim=False):
        return _argextreme(self, "argmin", dim, keepdim)

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
        have = self.array.shape
        lead = len(sizes) - len(have)
        if lead < 0:
            raise RuntimeError(f"expand: the number of sizes provided ({len(sizes)}) must be greater "
                               f"or equal to the number of dimensions in the tensor ({self.ndim})")
        shape = []
        for i, n in enumerate(sizes):
            if n == -1:
                if i < lead:
                    raise RuntimeError("expand: -1 is not allowed in a leading, non-existing dimension")
                n = have[i - lead]
            elif i >= lead and have[i - lead] not in (1, n):
                raise RuntimeError(f"expand: the expanded size of the tensor ({n}) must match the existing "
                                   f"size ({have[i - lead]}) at non-singleton dimension {i}; "
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
        if self.array.ndim == 0 and isinstance(index, numbers.Integral) and not isinstance(index, bool):
            raise IndexError("invalid index of a 0-dim tensor. Use `tensor.item()` in Python or "
                             "`tensor.item<T>()` in C++ to convert a 0-dim tensor to a number")
        return Index.apply(self, index=_index_arg(index, self))

    def __array__(self, dtype=None, copy=None):
        """``np.asarray(t)`` (and so ``plt.imshow(t)``): the data as a NumPy array, refused where
        PyTorch refuses (a tensor that requires grad; a GPU tensor)."""
        if self.requires_grad:
            raise RuntimeError("Can't call numpy() on Tensor that requires grad. Use tensor.detach().numpy() instead.")
        if self.device.type != "cpu":
            raise TypeError("can't convert cuda:0 device type tensor to numpy. Use Tensor.cpu() to copy the tensor "
                            "to host memory first.")
        arr = self.array
        if dtype is not None and np.dtype(dtype) != arr.dtype:
            return arr.astype(dtype)
        return arr.copy() if copy else arr

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
        d = self._check_scatter_index("scatter", dim, index)
        if src is None:
            if value is None:
                raise TypeError("scatter(): expected a src tensor or a value")
            src = value
        elif value is not None:
            raise TypeError("scatter(): pass either src or value, not both")
        if not isinstance(src, Tensor):
            src = Tensor._from_op(get_array_module(self.array).full(index.shape, src, dtype=self.array.dtype), None)
        self._check_scatter_src("scatter", src, index, d)
        if reduce is not None:
            if reduce not in ("add", "multiply"):
                raise RuntimeError(f"reduce argument must be either add or multiply, got {reduce}")
            return ScatterReduce.apply(self, index, src, dim=d, reduce=reduce)
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

    # ------------------------------------------------------------------ more math (ops/math.py)
    def sin(self):
        return Sin.apply(self._float_for("sin"))

    def cos(self):
        return Cos.apply(self._float_for("cos"))

    def log1p(self):
        return Log1p.apply(self._float_for("log1p"))

    def expm1(self):
        return Expm1.apply(self._float_for("expm1"))

    def log2(self):
        return Log2.apply(self._float_for("log2"))

    def log10(self):
        return Log10.apply(self._float_for("log10"))

    def rsqrt(self):
        return Rsqrt.apply(self._float_for("rsqrt"))

    def reciprocal(self):
        return Reciprocal.apply(self._float_for("reciprocal"))

    def erf(self):
        return Erf.apply(self._float_for("erf"))

    def floor(self):
        return Round.apply(self, mode="floor")

    def ceil(self):
        return Round.apply(self, mode="ceil")

    def trunc(self):
        return Round.apply(self, mode="trunc")

    fix = trunc

    def round(self, decimals=0):
        """Round half to even; ``decimals`` digits after the point (negative: before it)."""
        if isinstance(decimals, bool) or not isinstance(decimals, numbers.Integral):
            raise TypeError(f"round(): argument 'decimals' must be int, not {type(decimals).__name__}")
        if decimals != 0 and self.array.dtype.kind != "f":
            raise NotImplementedError(f"round(): decimals is not supported for integer tensors ({self.dtype})")
        return Round.apply(self, mode="round", decimals=int(decimals))

    def absolute(self):
        return self.abs()

    def negative(self):
        return -self

    def floor_divide(self, other):
        """``self // other``, rounded towards minus infinity (no derivative, as in PyTorch)."""
        a, b = _binary_operands(self, other)
        _check_integer_divisor("floor_divide", b)
        return FloorDivide.apply(a, b)

    def remainder(self, other):
        """``self % other``, with the sign of ``other`` (Python's rule)."""
        a, b = _binary_operands(self, other)
        _check_integer_divisor("remainder", b)
        return Remainder.apply(a, b)

    def fmod(self, other):
        """C's ``fmod``: the remainder with the sign of ``self``."""
        a, b = _binary_operands(self, other)
        _check_integer_divisor("fmod", b)
        return Fmod.apply(a, b)

    def __floordiv__(self, other):
        try:
            return self.floor_divide(other)
        except TypeError:
            return NotImplemented

    def __rfloordiv__(self, other):
        return _as_tensor_like(other, self).floor_divide(self)

    def __mod__(self, other):
        try:
            return self.remainder(other)
        except TypeError:
            return NotImplemented

    def __rmod__(self, other):
        return _as_tensor_like(other, self).remainder(self)

    def div(self, other, *, rounding_mode=None):
        """``self / other``; ``rounding_mode`` "trunc" or "floor" rounds the quotient (gradient
        ``g * 0``, as PyTorch's)."""
        if rounding_mode is None:
            return self / other
        if rounding_mode not in ("trunc", "floor"):
            raise ValueError(f"div expected rounding_mode to be one of None, 'trunc', or 'floor' but found "
                             f"'{rounding_mode}'")
        a, b = _binary_operands(self, other)
        _check_integer_divisor("div", b)
        return DivRounding.apply(a, b, mode=rounding_mode)

    divide = true_divide = div

    def clamp(self, min=None, max=None):
        """Values limited to [min, max]; the bounds may be numbers or tensors (broadcasting)."""
        if min is None and max is None:
            raise RuntimeError("clamp: At least one of 'min' or 'max' must not be None")
        if isinstance(min, Tensor) or isinstance(max, Tensor):
            if not all(b is None or isinstance(b, Tensor) for b in (min, max)):
                raise TypeError("clamp(): min and max must both be Tensors or both numbers (or None), got "
                                f"{type(min).__name__} and {type(max).__name__}")
            lo = None if min is None else _as_tensor_like(min, self)
            hi = None if max is None else _as_tensor_like(max, self)
            dt = self.array.dtype
            for bound in (lo, hi):
                if bound is not None:
                    _check_same_device("clamp", self, bound)
                    dt = promote_arrays(np.empty(self.shape if dt == self.array.dtype else (1,), dt),  # host: dtypes
                                        bound.array, self.ndim == 0, bound.ndim == 0) if bound.array.dtype != dt else dt
            cast = [None if t is None else (t if t.array.dtype == dt else t.to(dt)) for t in (self, lo, hi)]
            return ClampTensor.apply(*cast)
        for name, bound in (("min", min), ("max", max)):
            if bound is not None and not isinstance(bound, _SCALAR_TYPES):
                raise TypeError(f"clamp(): argument '{name}' must be a number or a Tensor, not {type(bound).__name__}")
        t = self
        for bound in (min, max):
            if bound is not None and promote_scalar(t.array.dtype, bound) != t.array.dtype:
                t = t.to(promote_scalar(t.array.dtype, bound))
        return Clamp.apply(t, min=min, max=max)

    clip = clamp

    def clamp_min(self, min):
        return self.clamp(min=min)

    def clamp_max(self, max):
        return self.clamp(max=max)

    def lerp(self, end, weight):
        """``self + weight * (end - self)``; ``weight`` a number or a tensor."""
        if not isinstance(end, Tensor):
            raise TypeError(f"lerp(): argument 'end' must be Tensor, not {type(end).__name__}")
        if end.array.dtype != self.array.dtype or (isinstance(weight, Tensor) and weight.array.dtype != self.array.dtype):
            raise RuntimeError(f"lerp(): expected dtype {self.dtype} for `end` and `weight`, but got "
                               f"{end.dtype} and {weight.dtype if isinstance(weight, Tensor) else type(weight).__name__}")
        return self + weight * (end - self)

    def addcmul(self, tensor1, tensor2, *, value=1):
        """``self + value * tensor1 * tensor2``."""
        return self + value * (tensor1 * tensor2) if value != 1 else self + tensor1 * tensor2

    def addcdiv(self, tensor1, tensor2, *, value=1):
        """``self + value * tensor1 / tensor2``."""
        if tensor1.array.dtype.kind != "f" and tensor2.array.dtype.kind != "f":
            raise RuntimeError("Integer division with addcdiv is no longer supported, and in a future release "
                               "addcdiv will perform a true division of tensor1 and tensor2.")
        return self + value * (tensor1 / tensor2) if value != 1 else self + tensor1 / tensor2

    def type_as(self, other):
        return self.to(other.dtype)

    # ------------------------------------------------------------------ comparisons of whole tensors
    def isclose(self, other, rtol=1e-05, atol=1e-08, equal_nan=False):
        """``|self - other| <= atol + rtol * |other|`` elementwise (equal infinities are close)."""
        if not isinstance(other, Tensor):
            raise TypeError(f"isclose(): argument 'other' must be Tensor, not {type(other).__name__}")
        if self.array.dtype != other.array.dtype:
            raise RuntimeError(f"{self.dtype} did not match {other.dtype}")
        _check_same_device("isclose", self, other)
        xp = get_array_module(self.array)
        return Tensor._from_op(xp.asarray(xp.isclose(self.array, other.array, rtol=rtol, atol=atol,
                                                     equal_nan=equal_nan)), None)

    def allclose(self, other, rtol=1e-05, atol=1e-08, equal_nan=False):
        """Whether every element is close (``isclose``): a Python bool."""
        return bool(self.isclose(other, rtol, atol, equal_nan).array.all())

    def equal(self, other):
        """True when both tensors have the same shape and elements (a Python bool)."""
        if not isinstance(other, Tensor):
            raise TypeError(f"equal(): argument 'other' must be Tensor, not {type(other).__name__}")
        _check_same_device("equal", self, other)
        return self.shape == other.shape and bool((self.array == other.array).all())

    # ------------------------------------------------------------------ more reductions
    def all(self, dim=None, keepdim=False):
        """Whether every element is nonzero (over ``dim``): a bool tensor (uint8 for uint8 input)."""
        return self._logical_reduce("all", dim, keepdim)

    def any(self, dim=None, keepdim=False):
        return self._logical_reduce("any", dim, keepdim)

    def _logical_reduce(self, op, dim, keepdim):
        axes = _dims(dim, self.ndim, op)
        xp = get_array_module(self.array)
        out = getattr(xp, op)(self.array, axis=axes, keepdims=keepdim)
        out = xp.asarray(out)
        if self.array.dtype == np.uint8:
            out = out.astype(np.uint8)
        return Tensor._from_op(out, None)

    def prod(self, dim=None, keepdim=False, dtype=None):
        """The product of all elements, or over one ``dim`` (integers multiply as int64)."""
        t = self if dtype is None else self.to(dtype)
        if t.array.dtype.kind in "biu" and t.array.dtype != np.int64:
            t = t.to(dtypes.int64)
        axes = None if dim is None else (_dim(dim, t.ndim, "prod"),) if t.ndim else None
        return Prod.apply(t, axes=axes, keepdim=bool(keepdim) and axes is not None)

    def cumsum(self, dim, dtype=None):
        """Running sums along ``dim`` (integers and bools sum as int64)."""
        t = self if dtype is None else self.to(dtype)
        if t.array.dtype.kind in "biu" and t.array.dtype != np.int64:
            t = t.to(dtypes.int64)
        d = _dim(dim, t.ndim, "cumsum")
        if t.ndim == 0:
            return t.clone()
        return Cumsum.apply(t, dim=d)

    def norm(self, p="fro", dim=None, keepdim=False, dtype=None):
        """The vector p-norm over ``dim`` (all elements by default): "fro" and 2 are the Euclidean
        norm, also inf, -inf, 0 and any other number. The gradient where the norm is 0 is 0."""
        t = self if dtype is None else self.to(dtype)
        if t.array.dtype.kind != "f":
            raise RuntimeError(f"linalg.vector_norm: Expected a floating point or complex tensor as input. "
                               f"Got {_TORCH_NAMES[t.array.dtype.name]}")
        if p == "fro" or p is None:
            if p == "fro" and isinstance(dim, (tuple, list)) and len(dim) > 2:
                raise RuntimeError(f"linalg.matrix_norm: dim must be a 2-tuple. Got {' '.join(map(str, dim))}")
            p = 2
        elif isinstance(p, str):
            raise RuntimeError(f"norm(): p={p!r} is not supported here (vector norms only: a number or 'fro')")
        axes = _dims(dim, t.ndim, "norm")
        p = float(p)
        if p < 0 and t.array.size == 0 or (p in (math.inf,) and t.array.size == 0 and axes is None):
            raise RuntimeError(f"linalg.vector_norm cannot compute the {p} norm on an empty tensor because the "
                               f"operation does not have an identity")
        return Norm.apply(t, p=p, axes=axes, keepdim=keepdim)

    def logsumexp(self, dim, keepdim=False):
        """log(sum(exp(self))) over ``dim``, computed stably (the largest value subtracted first)."""
        t = self._float_for("logsumexp")
        axes = _dims(dim, t.ndim, "logsumexp")
        if t.array.size == 0:
            return t.exp().sum(axes, keepdim=keepdim).log()
        top = t.detach().amax(axes if axes is not None else (), keepdim=True)
        top = top.masked_fill(top.abs() == math.inf, 0)  # all -inf (or an inf) : shift by 0
        out = (t - top).exp().sum(axes, keepdim=True).log() + top
        return out if keepdim else out.reshape(_reduced_shape(t.shape, axes))

    # ------------------------------------------------------------------ sorting
    def sort(self, dim=-1, descending=False, stable=False):
        """(values, indices) sorted along ``dim``; equal values keep their order; NaN counts as the
        largest value. The gradient goes back to where each value came from."""
        d = _dim(dim, self.ndim, "sort")
        if self.ndim == 0:
            return return_types_sort(self.clone(), _zeros_int64(self, ()))
        indices = _sort_indices(self.array, d, descending)
        return return_types_sort(Gather.apply(self, Tensor._from_op(indices, None), dim=d),
                                 Tensor._from_op(indices, None))

    def argsort(self, dim=-1, descending=False, stable=False):
        d = _dim(dim, self.ndim, "argsort")
        if self.ndim == 0:
            return _zeros_int64(self, ())
        return Tensor._from_op(_sort_indices(self.array, d, descending), None)

    def topk(self, k, dim=-1, largest=True, sorted=True):
        """The ``k`` largest (``largest=False``: smallest) values along ``dim`` and their indices,
        in sorted order. Among equal values, which indices come back may differ from PyTorch's."""
        d = _dim(dim, self.ndim, "topk")
        size = self.shape[d] if self.ndim else 1
        if isinstance(k, bool) or not isinstance(k, numbers.Integral) or not 0 <= k <= size:
            raise RuntimeError(f"topk(): selected index k={k} out of range for dimension {d} of size {size}")
        if self.ndim == 0:
            return return_types_topk(self.clone(), _zeros_int64(self, ()))
        order = _sort_indices(self.array, d, largest)
        indices = order[(slice(None),) * d + (slice(0, int(k)),)]
        index = Tensor._from_op(indices, None)
        return return_types_topk(Gather.apply(self, index, dim=d), index)

    # ------------------------------------------------------------------ more shape and indexing
    def repeat(self, *sizes):
        """The tensor tiled ``sizes[i]`` times along each dimension (new leading dims when there
        are more sizes than dimensions)."""
        sizes = _shape_arg(sizes)
        if len(sizes) < self.ndim:
            raise RuntimeError("Number of dimensions of repeat dims can not be smaller than number of dimensions "
                               "of tensor")
        if any(n < 0 for n in sizes):
            raise RuntimeError(f"Trying to create tensor with negative dimension: repeat{tuple(sizes)}")
        shape = (1,) * (len(sizes) - self.ndim) + tuple(self.shape)
        spread = tuple(x for pair in zip((1,) * len(shape), shape) for x in pair)   # (1, s0, 1, s1, ...)
        copies = tuple(x for pair in zip(sizes, shape) for x in pair)              # (r0, s0, r1, s1, ...)
        return self.reshape(spread).expand(copies).reshape(tuple(r * n for r, n in zip(sizes, shape)))

    def tile(self, *dims):
        dims = _shape_arg(dims)
        return self.repeat((1,) * (self.ndim - len(dims)) + tuple(dims))

    def repeat_interleave(self, repeats, dim=None, *, output_size=None):
        """Each element repeated ``repeats`` times (an int, or a tensor with one count per element)
        along ``dim`` (None: of the flattened tensor)."""
        t = self.flatten() if dim is None else self
        d = 0 if dim is None else _dim(dim, t.ndim, "repeat_interleave")
        if t.ndim == 0:
            t = t.reshape(1)
        if isinstance(repeats, Tensor) and repeats.ndim == 0:
            repeats = int(repeats.item())
        if isinstance(repeats, Tensor):
            if repeats.array.dtype.kind not in "iu" or repeats.ndim != 1 or repeats.shape[0] not in (1, t.shape[d]):
                raise RuntimeError(f"repeat_interleave(): repeats must be an integer 0-dim or 1-dim tensor of "
                                   f"size 1 or {t.shape[d]}, got {repeats.dtype} of shape {tuple(repeats.shape)}")
            xp = get_array_module(t.array)
            counts = to_numpy(repeats.array).tolist()  # host: the output's size depends on the counts
            if any(c < 0 for c in counts):
                raise RuntimeError("repeat_interleave(): repeats can not be negative")
            index = xp.repeat(xp.arange(t.shape[d]), counts if len(counts) > 1 else counts[0])
            return Index.apply(t, index=(slice(None),) * d + (index,))
        if isinstance(repeats, bool) or not isinstance(repeats, numbers.Integral) or repeats < 0:
            raise RuntimeError(f"repeat_interleave(): repeats must be a non-negative int or a tensor, got {repeats!r}")
        shape = tuple(t.shape)
        wide = t.unsqueeze(d + 1).expand(shape[:d + 1] + (int(repeats),) + shape[d + 1:])
        return wide.reshape(shape[:d] + (shape[d] * int(repeats),) + shape[d + 1:])

    def flip(self, *dims):
        """The elements in reverse order along each of ``dims`` (a copy, as in PyTorch)."""
        dims = _dims(_shape_arg(dims) if dims else (), self.ndim, "flip") or ()
        out = self
        xp = get_array_module(self.array)
        for d in dims:
            out = Index.apply(out, index=(slice(None),) * d + (xp.arange(self.shape[d] - 1, -1, -1),))
        return out if dims else self.clone()

    def fliplr(self):
        if self.ndim < 2:
            raise RuntimeError("Input must be >= 2-d.")
        return self.flip(1)

    def flipud(self):
        if self.ndim < 1:
            raise RuntimeError("Input must be >= 1-d.")
        return self.flip(0)

    def roll(self, shifts, dims=None):
        """Elements shifted by ``shifts`` along ``dims``, wrapping around (no dims: the flattened
        tensor, shape kept)."""
        if dims is None:
            if isinstance(shifts, (tuple, list)) and len(shifts) != 1:
                raise RuntimeError(f"roll(): shifts {tuple(shifts)} need the matching dims")
            shift = shifts[0] if isinstance(shifts, (tuple, list)) else shifts
            return self.flatten().roll(shift, 0).reshape(self.shape)
        shifts = tuple(shifts) if isinstance(shifts, (tuple, list)) else (shifts,)
        dims = tuple(dims) if isinstance(dims, (tuple, list)) else (dims,)
        if len(shifts) != len(dims):
            raise RuntimeError(f"shifts and dimensions must align. shifts: {len(shifts)}, dims:{len(dims)}")
        xp = get_array_module(self.array)
        out = self
        for shift, dim in zip(shifts, dims):
            d = _dim(dim, self.ndim, "roll")
            n = self.shape[d] if self.ndim else 1
            if n == 0:
                continue
            source = (xp.arange(n) - int(shift)) % n                  # out[i] = in[(i - shift) mod n]
            out = Index.apply(out, index=(slice(None),) * d + (source,))
        return out

    def split(self, split_size_or_sections, dim=0):
        """Pieces of ``split_size`` along ``dim`` (the last may be smaller), or of the listed sizes."""
        d = _dim(dim, self.ndim, "split")
        n = self.shape[d]
        if isinstance(split_size_or_sections, (list, tuple)):
            sizes = [int(s) for s in split_size_or_sections]
            if sum(sizes) != n or any(s < 0 for s in sizes):
                raise RuntimeError(f"split_with_sizes expects split_sizes to sum exactly to {n} (input tensor's "
                                   f"size at dimension {d}), but got split_sizes={sizes}")
        else:
            size = int(split_size_or_sections)
            if size < 0 or (size == 0 and n != 0):
                raise RuntimeError(f"split(): split_size can only be 0 if dimension size is 0, but got dimension "
                                   f"size of {n}" if size == 0 else f"split expects split_size be non-negative, "
                                   f"but got split_size={size}")
            sizes = [min(size, n - start) for start in range(0, n, size)] if n else [0]
        pieces, start = [], 0
        for s in sizes:
            pieces.append(self.narrow(d, start, s))
            start += s
        return tuple(pieces)

    def split_with_sizes(self, split_sizes, dim=0):
        return self.split(list(split_sizes), dim)

    def chunk(self, chunks, dim=0):
        """At most ``chunks`` pieces of equal size ceil(n / chunks) along ``dim`` (the last may be
        smaller, and there may be fewer), as PyTorch."""
        if isinstance(chunks, bool) or not isinstance(chunks, numbers.Integral) or chunks <= 0:
            raise RuntimeError(f"chunk expects `chunks` to be greater than 0, got: {chunks}")
        d = _dim(dim, self.ndim, "chunk")
        n = self.shape[d]
        return self.split(max(1, -(-n // int(chunks))) if n else 0, d) if n else \
            tuple(self.narrow(d, 0, 0) for _ in range(int(chunks)))

    def unbind(self, dim=0):
        """The slices along ``dim``, that dimension removed."""
        if self.ndim == 0:
            _no_dims("unbind", dim)
        d = _dim(dim, self.ndim, "unbind")
        return tuple(self.select(d, i) for i in range(self.shape[d]))

    def movedim(self, source, destination):
        """Dimensions ``source`` moved to positions ``destination``; the others keep their order."""
        src = (source,) if isinstance(source, numbers.Integral) else tuple(source)
        dst = (destination,) if isinstance(destination, numbers.Integral) else tuple(destination)
        if len(src) != len(dst):
            raise RuntimeError(f"movedim: Invalid source or destination dims: source ({list(src)} dims) should "
                               f"contain the same number of dims as destination ({list(dst)} dims)")
        src = [_dim(s, self.ndim, "movedim") for s in src]
        dst = [_dim(s, self.ndim, "movedim") for s in dst]
        if len(set(src)) != len(src) or len(set(dst)) != len(dst):
            raise RuntimeError(f"movedim: repeated dim in `source` ({list(src)}) or `destination` ({list(dst)})")
        order = [None] * max(self.ndim, 1)
        for s, t in zip(src, dst):
            order[t] = s
        rest = iter(i for i in range(self.ndim) if i not in src)
        order = [next(rest) if o is None else o for o in order][:self.ndim]
        return self.permute(*order) if self.ndim else self.clone()

    moveaxis = movedim

    def swapaxes(self, axis0, axis1):
        return self.transpose(axis0, axis1)

    swapdims = swapaxes

    def unflatten(self, dim, sizes):
        """Dimension ``dim`` split into ``sizes`` (one entry may be -1)."""
        d = _dim(dim, self.ndim, "unflatten")
        sizes = tuple(int(s) for s in sizes)
        if not sizes:
            raise RuntimeError("unflatten: sizes must be non-empty")
        n = self.shape[d]
        if sizes.count(-1) > 1:
            raise RuntimeError("unflatten: only one dimension can be inferred")
        known = math.prod(s for s in sizes if s != -1)
        if -1 in sizes:
            if known == 0 or n % known:
                raise RuntimeError(f"unflatten: Provided sizes {list(sizes)} don't multiply up to the size of dim "
                                   f"{dim} ({n}) in the input tensor")
            sizes = tuple(n // known if s == -1 else s for s in sizes)
        elif known != n:
            raise RuntimeError(f"unflatten: Provided sizes {list(sizes)} don't multiply up to the size of dim "
                               f"{dim} ({n}) in the input tensor")
        return self.reshape(tuple(self.shape[:d]) + sizes + tuple(self.shape[d + 1:]))

    def tril(self, diagonal=0):
        """The lower triangle of the last two dimensions (on and below ``diagonal``); zeros above."""
        return self._triangle("tril", diagonal, lower=True)

    def triu(self, diagonal=0):
        """The upper triangle of the last two dimensions (on and above ``diagonal``); zeros below."""
        return self._triangle("triu", diagonal, lower=False)

    def _triangle(self, op, diagonal, lower):
        if self.ndim < 2:
            raise RuntimeError(f"{op}: input tensor must have at least 2 dimensions")
        xp = get_array_module(self.array)
        m, n = self.shape[-2:]
        keep = xp.tri(m, n, int(diagonal), dtype=bool) if lower else ~xp.tri(m, n, int(diagonal) - 1, dtype=bool)
        return self.masked_fill(Tensor._from_op(~keep, None), 0)

    def diagonal(self, offset=0, dim1=0, dim2=1):
        """The diagonal of the ``(dim1, dim2)`` matrices (``offset`` above it, negative below),
        as a last dimension."""
        a, b = _dim(dim1, self.ndim, "diagonal"), _dim(dim2, self.ndim, "diagonal")
        if a == b:
            raise RuntimeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
        rest = [i for i in range(self.ndim) if i not in (a, b)]
        t = self.permute(*rest, a, b)
        m, n = t.shape[-2:]
        off = int(offset)
        length = max(0, min(m, n - off) if off >= 0 else min(m + off, n))
        xp = get_array_module(self.array)
        rows = xp.arange(length) + max(-off, 0)
        return Index.apply(t, index=(Ellipsis, rows, rows + off))

    def diag(self, diagonal=0):
        """A 1-D tensor's square diagonal matrix, or a matrix's diagonal."""
        if self.ndim == 1:
            n = self.shape[0] + abs(int(diagonal))
            xp = get_array_module(self.array)
            rows = xp.arange(self.shape[0]) + max(-int(diagonal), 0)
            return IndexPut.apply(self.new_zeros((n, n)), self, index=(rows, rows + int(diagonal)))
        if self.ndim == 2:
            return self.diagonal(diagonal)
        raise RuntimeError(f"diag(): Supports 1D or 2D tensors. Got {self.ndim}D")

    def index_select(self, dim, index):
        """The slices at ``index`` (1-D int64) along ``dim``."""
        d = _dim(dim, self.ndim, "index_select")
        idx = _index_vector("index_select", index, self, d)
        if self.ndim == 0:
            if idx.size != 1:
                raise RuntimeError(f"index_select(): Index to scalar can have only 1 value, got {idx.size} value(s)")
            return Index.apply(self.reshape(1), index=idx).reshape(())
        return Index.apply(self, index=(slice(None),) * d + (idx,))

    def index_fill(self, dim, index, value):
        """A copy with ``value`` in the slices at ``index`` along ``dim``."""
        d = _dim(dim, self.ndim, "index_fill")
        idx = _index_vector("index_fill", index, self, d)
        if isinstance(value, Tensor):
            if value.ndim != 0:
                raise RuntimeError(f"index_fill_ only supports a 0-dimensional value tensor, but got tensor with "
                                   f"{value.ndim} dimension(s).")
            value = value.item()
        mask = get_array_module(self.array).zeros(self.shape[d] if self.ndim else 1, dtype=bool)
        mask[idx] = True
        mask = mask.reshape((-1,) + (1,) * (self.ndim - d - 1)) if self.ndim else mask.reshape(())
        return self.masked_fill(Tensor._from_op(mask, None), value)

    def index_add(self, dim, index, source, *, alpha=1):
        """A copy with ``alpha * source`` added at ``index`` along ``dim`` (repeats add up)."""
        d = _dim(dim, self.ndim, "index_add")
        idx = _index_vector("index_add", index, self, d)
        if not isinstance(source, Tensor):
            raise TypeError(f"index_add(): argument 'source' must be Tensor, not {type(source).__name__}")
        expected = tuple(self.shape[:d]) + (idx.shape[0],) + tuple(self.shape[d + 1:]) if self.ndim else ()
        if tuple(source.shape) != expected and not (self.ndim == 0 and source.numel() == 1):
            raise RuntimeError(f"index_add_(): source of shape {tuple(source.shape)} does not match the expected "
                               f"shape {expected}")
        placed = IndexPut.apply(self.new_zeros(self.shape) if self.ndim else self.new_zeros((1,)),
                                (source if alpha == 1 else source * alpha).reshape(expected or (1,)),
                                index=(slice(None),) * d + (idx,), accumulate=True)
        return self + (placed if self.ndim else placed.reshape(()))

    def masked_select(self, mask):
        """The elements where the boolean ``mask`` (broadcast with self) is true, as a 1-D tensor."""
        if not isinstance(mask, Tensor) or mask.array.dtype.kind != "b":
            raise RuntimeError(f"masked_select: expected BoolTensor for mask, got "
                               f"{mask.dtype if isinstance(mask, Tensor) else type(mask).__name__}")
        _check_same_device("masked_select", self, mask)
        try:
            shape = np.broadcast_shapes(tuple(self.shape), tuple(mask.shape))  # host: shapes only
        except ValueError:
            raise RuntimeError(f"masked_select: the mask of shape {tuple(mask.shape)} cannot be broadcast with the "
                               f"tensor's shape {tuple(self.shape)}") from None
        xp = get_array_module(self.array)
        full = self.expand(shape) if tuple(self.shape) != tuple(shape) else self
        if not shape:  # both 0-d: the element, or nothing
            return Index.apply(full.reshape(1), index=xp.zeros(int(bool(mask.array)), dtype=np.int64))
        return Index.apply(full, index=tuple(xp.broadcast_to(mask.array, shape).nonzero()))

    def nonzero(self, *, as_tuple=False):
        """The indices of the nonzero elements: an (n, ndim) int64 tensor, or (``as_tuple``) one 1-D
        tensor per dimension."""
        xp = get_array_module(self.array)
        arr = self.array if self.ndim else self.array.reshape(1)
        found = [p.astype(np.int64, copy=False) for p in arr.nonzero()]
        if as_tuple:
            return tuple(Tensor._from_op(p, None) for p in found)
        if self.ndim == 0:
            return Tensor._from_op(xp.zeros((len(found[0]), 0), dtype=np.int64), None)
        return Tensor._from_op(xp.stack(found, axis=1), None)

    def argwhere(self):
        return self.nonzero()

    # ------------------------------------------------------------------ more products
    def bmm(self, mat2):
        """Batched matrix product: (b, n, m) @ (b, m, p) -> (b, n, p)."""
        if self.ndim != 3 or not isinstance(mat2, Tensor) or mat2.ndim != 3:
            raise RuntimeError(f"bmm: expected 3-D tensors, got shapes {tuple(self.shape)} and "
                               f"{tuple(getattr(mat2, 'shape', ()))}")
        if self.shape[0] != mat2.shape[0] or self.shape[2] != mat2.shape[1]:
            raise RuntimeError(f"bmm: Expected size for first two dimensions of batch2 tensor to be: "
                               f"[{self.shape[0]}, {self.shape[2]}] but got: [{mat2.shape[0]}, {mat2.shape[1]}].")
        return self.matmul(mat2)

    def mv(self, vec):
        if self.ndim != 2 or not isinstance(vec, Tensor) or vec.ndim != 1:
            raise RuntimeError(f"mv: expected a matrix and a vector, got shapes {tuple(self.shape)} and "
                               f"{tuple(getattr(vec, 'shape', ()))}")
        return self.matmul(vec)

    def dot(self, other):
        """The inner product of two 1-D tensors of the same size and dtype."""
        if not isinstance(other, Tensor):
            raise TypeError(f"dot(): argument 'tensor' must be Tensor, not {type(other).__name__}")
        if self.ndim != 1 or other.ndim != 1:
            raise RuntimeError(f"1D tensors expected, but got {self.ndim}D and {other.ndim}D tensors")
        if self.shape[0] != other.shape[0]:
            raise RuntimeError(f"inconsistent tensor size, expected tensor [{self.shape[0]}] and src "
                               f"[{other.shape[0]}] to have the same number of elements, but got {self.shape[0]} "
                               f"and {other.shape[0]} elements respectively")
        if self.array.dtype != other.array.dtype:
            raise RuntimeError(f"dot : expected both vectors to have same dtype, but found "
                               f"{_TORCH_NAMES[self.array.dtype.name]} and {_TORCH_NAMES[other.array.dtype.name]}")
        return self.matmul(other)

    inner = dot

    def outer(self, vec2):
        """``self[i] * vec2[j]`` for two 1-D tensors."""
        if not isinstance(vec2, Tensor) or self.ndim != 1 or vec2.ndim != 1:
            raise RuntimeError(f"outer: expected two 1-D tensors, got shapes {tuple(self.shape)} and "
                               f"{tuple(getattr(vec2, 'shape', ()))}")
        return self.unsqueeze(1) * vec2.unsqueeze(0)

    ger = outer

    def addmm(self, mat1, mat2, *, beta=1, alpha=1):
        """``beta * self + alpha * (mat1 @ mat2)``; with ``beta=0`` self is ignored (its NaNs too)."""
        if getattr(mat1, "ndim", 0) != 2 or getattr(mat2, "ndim", 0) != 2:
            raise RuntimeError("addmm: mat1 and mat2 must be matrices")
        product = mat1.mm(mat2)
        product = product if alpha == 1 else product * alpha
        try:
            np.broadcast_shapes(tuple(self.shape), tuple(product.shape))  # host: shapes only
        except ValueError:
            raise RuntimeError(f"addmm: self of shape {tuple(self.shape)} cannot be broadcast to the product's "
                               f"shape {tuple(product.shape)}") from None
        if beta == 0:
            return product  # PyTorch ignores self then (its NaNs and infinities too)
        return (self if beta == 1 else self * beta) + product

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

    def _inplace(self, op, fn, other, true_division=False):
        """``self op= other`` with the ufunc ``fn`` writing into self's memory (no temporary)."""
        self._check_inplace(op)
        if isinstance(other, Tensor):
            _check_same_device(op, self, other)
            value = other.array
            result = promote_arrays(self.array, value, self.array.ndim == 0, value.ndim == 0)
        elif isinstance(other, _SCALAR_TYPES):
            value, result = other, promote_scalar(self.array.dtype, other)
        elif _is_ndarray(other):
            value = to_device(other, self.device)
            result = np.promote_types(self.array.dtype, value.dtype)  # host: dtypes only
        else:
            raise TypeError(f"{op}(): expected a Tensor or a number, got {type(other).__name__}")
        if true_division and result.kind != "f":
            result = dtypes.default_float.np
        _check_cast(op, result, self.array.dtype)
        _check_writable_shape(op, self.shape, getattr(value, "shape", ()))
        with backend.quiet(get_array_module(self.array)):  # inf and NaN are results
            fn(self.array, value, out=self.array)
        self._bump_version()
        return self

    def _assign(self, op, compute):
        """Compute ``compute()`` out of place (outside the graph), then write it into self."""
        self._check_inplace(op)
        from .autograd import no_grad
        with no_grad():
            result = compute()
        _check_cast(op, result.array.dtype, self.array.dtype)
        _check_writable_shape(op, self.shape, result.shape)
        self.array[...] = result.array
        self._bump_version()
        return self

    def add_(self, other, alpha=1):
        return self._inplace("add_", get_array_module(self.array).add, other if alpha == 1 else _scaled(other, alpha))

    def sub_(self, other, alpha=1):
        return self._inplace("sub_", get_array_module(self.array).subtract,
                             other if alpha == 1 else _scaled(other, alpha))

    def mul_(self, other):
        return self._inplace("mul_", get_array_module(self.array).multiply, other)

    def div_(self, other, rounding_mode=None):
        if rounding_mode is not None:
            return self._assign("div_", lambda: self.div(other, rounding_mode=rounding_mode))
        return self._inplace("div_", get_array_module(self.array).true_divide, other, true_division=True)

    __iadd__, __isub__, __imul__, __itruediv__ = add_, sub_, mul_, div_
    subtract_, multiply_, divide_, true_divide_ = sub_, mul_, div_, div_

    def __ifloordiv__(self, other):
        return self.floor_divide_(other)

    def __imod__(self, other):
        return self.remainder_(other)

    def __ipow__(self, other):
        return self.pow_(other)

    def zero_(self):
        return self.fill_(0)

    def fill_(self, value):
        self._check_inplace("fill_")
        if isinstance(value, Tensor):
            if value.ndim != 0:
                raise RuntimeError(f"fill_ only supports 0-dimension value tensor but got tensor with "
                                   f"{value.ndim} dimensions.")
            value = value.item()
        self.array[...] = value
        self._bump_version()
        return self

    def copy_(self, src, non_blocking=False):
        """Copy ``src`` (broadcast to self's shape, cast to self's dtype, moved to its device)."""
        self._check_inplace("copy_")
        src_array = src.array if isinstance(src, Tensor) else src
        _check_writable_shape("copy_", self.shape, getattr(src_array, "shape", ()))
        self.array[...] = to_device(src_array, self.device) if _is_ndarray(src_array) else src_array
        self._bump_version()
        return self

    def clamp_(self, min=None, max=None):
        return self._assign("clamp_", lambda: self.clamp(min, max))

    clip_ = clamp_

    def clamp_min_(self, min):
        return self._assign("clamp_min_", lambda: self.clamp_min(min))

    def clamp_max_(self, max):
        return self._assign("clamp_max_", lambda: self.clamp_max(max))

    def relu_(self):
        return self._assign("relu_", self.relu)

    def addcmul_(self, tensor1, tensor2, value=1):
        return self._assign("addcmul_", lambda: self.addcmul(tensor1, tensor2, value=value))

    def addcdiv_(self, tensor1, tensor2, value=1):
        return self._assign("addcdiv_", lambda: self.addcdiv(tensor1, tensor2, value=value))

    def pow_(self, exponent):
        return self._assign("pow_", lambda: self ** exponent)

    def masked_fill_(self, mask, value):
        return self._assign("masked_fill_", lambda: self.masked_fill(mask, value))

    def index_fill_(self, dim, index, value):
        return self._assign("index_fill_", lambda: self.index_fill(dim, index, value))

    def index_add_(self, dim, index, source, *, alpha=1):
        return self._assign("index_add_", lambda: self.index_add(dim, index, source, alpha=alpha))

    def scatter_(self, dim, index, src=None, *, value=None, reduce=None):
        return self._assign("scatter_", lambda: self.scatter(dim, index, src, value=value, reduce=reduce))

    def scatter_add_(self, dim, index, src):
        return self._assign("scatter_add_", lambda: self.scatter_add(dim, index, src))

    def lerp_(self, end, weight):
        return self._assign("lerp_", lambda: self.lerp(end, weight))

    def floor_divide_(self, other):
        return self._assign("floor_divide_", lambda: self.floor_divide(other))

    def remainder_(self, other):
        return self._assign("remainder_", lambda: self.remainder(other))

    def fmod_(self, other):
        return self._assign("fmod_", lambda: self.fmod(other))

    def round_(self, decimals=0):
        return self._assign("round_", lambda: self.round(decimals=decimals))

    def tril_(self, diagonal=0):
        return self._assign("tril_", lambda: self.tril(diagonal))

    def triu_(self, diagonal=0):
        return self._assign("triu_", lambda: self.triu(diagonal))

    def uniform_(self, a=0.0, b=1.0, generator=None):
        rng = backend.numpy_rng(generator)
        return self.copy_(rng.uniform(a, b, size=self.shape).astype(self.array.dtype))

    def normal_(self, mean=0.0, std=1.0, generator=None):
        rng = backend.numpy_rng(generator)
        return self.copy_(rng.normal(mean, std, size=self.shape).astype(self.array.dtype))

    def bernoulli_(self, p=0.5, generator=None):
        """1 with probability ``p`` (a number, or a tensor of probabilities broadcast to self), else 0."""
        rng = backend.numpy_rng(generator)
        prob = to_numpy(p.array) if isinstance(p, Tensor) else p  # host: the draw is on the host
        return self.copy_((rng.random(size=self.shape) < prob).astype(self.array.dtype))

    def exponential_(self, lambd=1.0, generator=None):
        rng = backend.numpy_rng(generator)
        return self.copy_(rng.exponential(1.0 / lambd, size=self.shape).astype(self.array.dtype))

    def random_(self, from_=0, to=None, generator=None):
        """Integers uniform on [from_, to) (``random_(to)`` : [0, to))."""
        if to is None:
            from_, to = 0, from_
        rng = backend.numpy_rng(generator)
        return self.copy_(rng.integers(from_, to, size=self.shape).astype(self.array.dtype))

    # in-place shape changes (metadata only, as in PyTorch)
    def _reshape_in_place(self, op, out):
        self._check_inplace(op)
        self.array = out.array
        self._bump_version()
        return self

    def unsqueeze_(self, dim):
        return self._reshape_in_place("unsqueeze_", self.detach().unsqueeze(dim))

    def squeeze_(self, dim=None):
        return self._reshape_in_place("squeeze_", self.detach().squeeze(dim))

    def t_(self):
        return self._reshape_in_place("t_", self.detach().t())

    def transpose_(self, dim0, dim1):
        return self._reshape_in_place("transpose_", self.detach().transpose(dim0, dim1))

    # unary in-place forms: the op computed out of place, written back
    def exp_(self):
        return self._assign("exp_", self.exp)

    def log_(self):
        return self._assign("log_", self.log)

    def sqrt_(self):
        return self._assign("sqrt_", self.sqrt)

    def abs_(self):
        return self._assign("abs_", self.abs)

    def neg_(self):
        return self._assign("neg_", self.neg)

    def sigmoid_(self):
        return self._assign("sigmoid_", self.sigmoid)

    def tanh_(self):
        return self._assign("tanh_", self.tanh)

    def floor_(self):
        return self._assign("floor_", self.floor)

    def ceil_(self):
        return self._assign("ceil_", self.ceil)

    def trunc_(self):
        return self._assign("trunc_", self.trunc)

    def sign_(self):
        return self._assign("sign_", self.sign)

    def reciprocal_(self):
        return self._assign("reciprocal_", self.reciprocal)

    def rsqrt_(self):
        return self._assign("rsqrt_", self.rsqrt)

    def sin_(self):
        return self._assign("sin_", self.sin)

    def cos_(self):
        return self._assign("cos_", self.cos)

    def log1p_(self):
        return self._assign("log1p_", self.log1p)

    def expm1_(self):
        return self._assign("expm1_", self.expm1)

    def log2_(self):
        return self._assign("log2_", self.log2)

    def log10_(self):
        return self._assign("log10_", self.log10)

    def erf_(self):
        return self._assign("erf_", self.erf)

    def square_(self):
        return self._assign("square_", self.square)

    absolute_, negative_, fix_ = abs_, neg_, trunc_


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


_TORCH_NAMES = {"float32": "Float", "float64": "Double", "int64": "Long", "int32": "Int", "uint8": "Byte",
                "bool": "Bool"}
return_types_sort = collections.namedtuple("sort", ["values", "indices"])
return_types_topk = collections.namedtuple("topk", ["values", "indices"])


def _check_cast(op, result, target):
    """PyTorch's rule for writing a result in place: never to a lower category (float -> int -> bool)."""
    if dtypes._category_of_np(np.dtype(result)) > dtypes._category_of_np(np.dtype(target)):
        raise RuntimeError(f"{op}(): result type {_TORCH_NAMES[np.dtype(result).name]} can't be cast to the "
                           f"desired output type {_TORCH_NAMES[np.dtype(target).name]}")


def _check_writable_shape(op, shape, result_shape):
    """An in-place result must broadcast to the tensor's own shape (it cannot grow it)."""
    try:
        out = np.broadcast_shapes(tuple(shape), tuple(result_shape))  # host: shapes only
    except ValueError:
        out = None
    if out != tuple(shape):
        raise RuntimeError(f"{op}(): output with shape {list(shape)} doesn't match the broadcast shape "
                           f"{list(out) if out is not None else list(result_shape)}")


def _scaled(other, alpha):
    """``other * alpha`` for add_/sub_'s ``alpha``, outside the graph."""
    if isinstance(other, Tensor):
        from .autograd import no_grad
        with no_grad():
            return other * alpha
    return other * alpha


def _check_integer_divisor(op, b):
    """Integer division by zero is an error in PyTorch (NumPy would give 0 with a warning)."""
    if b.array.dtype.kind in "iub" and b.array.size and bool((b.array == 0).any()):
        raise RuntimeError(f"{op}(): ZeroDivisionError: integer division by zero")


def _reduced_shape(shape, axes):
    return tuple(n for i, n in enumerate(shape) if axes is not None and i not in axes)


def _sort_indices(arr, dim, descending):
    """int64 indices sorting ``arr`` along ``dim``, equal values in their original order, NaN last
    (first when descending: NaN counts as the largest value, as in PyTorch)."""
    xp = get_array_module(arr)
    kind = {"kind": "stable"} if xp is np else {}
    if not descending:
        return xp.argsort(arr, axis=dim, **kind).astype(np.int64, copy=False)
    # ascending order of the reversed array, read backwards: descending, ties in original order
    order = xp.argsort(xp.flip(arr, axis=dim), axis=dim, **kind)
    return (arr.shape[dim] - 1 - xp.flip(order, axis=dim)).astype(np.int64, copy=False)


def _zeros_int64(like, shape):
    return Tensor._from_op(get_array_module(like.array).zeros(shape, dtype=np.int64), None)


def _index_vector(op, index, t, dim):
    """A 1-D (or 0-d) integer index for dimension ``dim`` of ``t``, checked, as an array on t's device."""
    if not isinstance(index, Tensor):
        raise TypeError(f"{op}(): argument 'index' must be Tensor, not {type(index).__name__}")
    if index.array.dtype.kind not in "iu":
        raise RuntimeError(f"{op}(): Expected dtype int32/int64 for index, got {index.dtype}")
    if index.ndim > 1:
        raise IndexError(f"{op}(): Index is supposed to be a vector, got {index.ndim}-D")
    _check_same_device(op, t, index)
    idx = index.array.reshape(-1)
    size = t.shape[dim] if t.ndim else 1
    if idx.size:
        lo, hi = int(idx.min()), int(idx.max())
        if lo < -size or hi >= size:
            raise IndexError(f"{op}(): index {hi if hi >= size else lo} is out of range for dimension {dim} "
                             f"with size {size}")
    return idx % size if idx.size and size else idx


def _no_dims(op, dim):
    raise IndexError(f"{op}(): dimension specified as {dim} but tensor has no dimensions")


def _dim(dim, ndim, op):
    return canonical_dim(dim, ndim, op)


def _dims(dim, ndim, op):
    return canonical_dims(dim, ndim, op)


def _shape_arg(shape):
    """Accept ``f(2, 3)``, ``f((2, 3))`` and ``f([2, 3])``; every entry an int (2.5, True, "2" are refused)."""
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = shape[0]
    out = []
    for position, n in enumerate(shape):
        if type(n) is int:  # the common case, before the slower checks
            out.append(n)
            continue
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


def where(condition, input=None, other=None):
    """Elements of ``input`` where ``condition`` is true, else of ``other`` (broadcasting);
    ``where(condition)`` alone is ``condition.nonzero(as_tuple=True)``."""
    if input is None and other is None:
        if not isinstance(condition, Tensor):
            raise TypeError(f"where(): argument 'condition' must be Tensor, not {type(condition).__name__}")
        return condition.nonzero(as_tuple=True)
    if input is None or other is None:
        raise TypeError("where(): expected both input and other, or neither")
    if not isinstance(condition, Tensor) or condition.array.dtype.kind != "b":
        raise TypeError("where: condition must be a bool tensor")
    input, other = _binary_operands(input, other)
    return Where.apply(condition, input, other)


# PyTorch takes NumPy's ``axis=`` for ``dim=`` in these (one wrapper, shapes.accepts_axis).
for _name in ("sum", "mean", "var", "std", "argmax", "argmin", "max", "min", "amax", "amin", "prod", "cumsum",
              "logsumexp", "softmax", "log_softmax", "all", "any", "sort", "argsort", "squeeze", "unsqueeze"):
    setattr(Tensor, _name, accepts_axis(getattr(Tensor, _name)))
del _name

# The ops import Op from autograd, which imports Tensor from this module: import them last.
from .autograd.engine import backward as _backward  # noqa: E402
from .ops.elementwise import (Abs, Add, Cast, Clamp, Clone, Div, Exp, Log, LogSoftmax,  # noqa: E402
                              MaskedFill, Maximum, Minimum, Mul, Neg, Pow, PowScalar, ReLU,
                              RPowScalar, Sigmoid, Sign, Softmax, Sqrt, Sub, Tanh, Where)
from .ops.math import (ClampTensor, Cos, DivRounding, Erf, Expm1, FloorDivide, Fmod, Log1p,  # noqa: E402
                       Log2, Log10, Reciprocal, Remainder, Round, Rsqrt, Sin)
from .ops.matmul import Matmul  # noqa: E402
from .ops.movement import (Expand, Flatten, Gather, Index, IndexPut, Permute, Reshape,  # noqa: E402
                           Scatter, ScatterAdd, ScatterReduce, Squeeze, ToDevice, Transpose, Unsqueeze,
                           View)
from .ops.reduce import (Amax, Amin, Cumsum, MaxAll, MaxDim, Mean, MinAll, MinDim, Norm, Prod,  # noqa: E402
                         Std, Sum, Var)
