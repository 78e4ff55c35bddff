"""Function: the nodes of the backward graph, written the way PyTorch's custom Functions are.

Every differentiable op is a subclass of :class:`Function` with two static methods::

    class Exp(Op):
        @staticmethod
        def forward(ctx, a):                 # an Op's forward computes on arrays (numpy / cupy)
            out = xp(a).exp(a)
            ctx.save_for_backward(out)       # inputs, outputs, or constants (masks, indices)
            return out

        @staticmethod
        def backward(ctx, g):                # backward computes on Tensors, with Tensor ops
            (out,) = ctx.saved_tensors
            return g * out                   # d exp(a) = exp(a)

``Op.apply(*tensors, **params)`` runs ``forward`` and, when grad mode is on and an input requires
grad, returns tensors whose ``grad_fn`` is the ``ctx`` object itself: the node of the graph.
Its ``next_functions`` lead to the inputs' nodes, down to the leaves' :class:`AccumulateGrad`.

Two kinds of Function, one protocol:

* ``Op`` (the engine's own ops, ``tinygrad_mnist/ops/``): ``forward(ctx, *arrays, **params)``
  receives the inputs' arrays and returns an array (or a tuple of arrays). This is where values
  are computed, with plain ``xp`` array math.
* ``Function`` (a user's custom op, as on PyTorch's "Extending torch.autograd" page):
  ``forward(ctx, *args)`` receives the Tensors and other arguments as given and runs with grad
  mode off; or ``forward(*args)`` plus ``setup_context(ctx, inputs, output)``. It returns
  Tensors.

For both, ``backward(ctx, *grads)`` receives one gradient Tensor per output and returns one per
forward argument (None where there is none), each for that argument's shape: the engine sums a
broadcast gradient down to the input's shape, casts its dtype, and raises a RuntimeError for a
shape it cannot be summed to. Because backward is written with Tensor ops, it can itself be
recorded: under ``create_graph=True`` the engine runs it with grad mode on, so the gradient has a
graph of its own and can be differentiated again (a Hessian-vector product, a gradient penalty).

Saved tensors carry the version of the tensor at the time it was saved. Changing a saved tensor
in place before backward (an optimizer step, ``x.add_(1)`` under ``no_grad``, or through a view or
``detach()`` sharing its memory) makes backward raise instead of computing a wrong gradient, as
PyTorch does. ``.data`` shares memory but not the version, also as in PyTorch.

A fast route (``tinygrad_mnist/fast/``) is a subclass of an Op that computes the same values
another way. It may define ``fast_backward(ctx, *grad_arrays)``, which works on arrays; the engine
uses it for an ordinary backward and the Op's own ``backward`` (the reference, on Tensors) under
``create_graph``. Arrays only the fast backward reads are kept with ``ctx.save_arrays(...)``.
"""
from __future__ import annotations

import functools
import weakref

from .. import fast as _fast
from ..tensor import Tensor
from . import grad_mode

__all__ = ["Node", "Function", "Op", "AccumulateGrad", "once_differentiable", "RemovableHandle",
           "instruments"]


class _Instruments:
    """Anomaly detection and observers (profiler, trace): while none is on, ops pay one check."""

    anomaly = False
    observers = []
    active = False

    def refresh(self):
        self.active = self.anomaly or bool(self.observers)


instruments = _Instruments()


class RemovableHandle:
    """What ``register_hook`` returns: ``handle.remove()`` takes the hook off again."""

    def __init__(self, hooks, hook):
        self._hooks, self._hook = hooks, hook

    def remove(self):
        if self._hook in self._hooks:
            self._hooks.remove(self._hook)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()
        return False


class Node:
    """What the backward graph is made of: a Function, or an AccumulateGrad for a leaf.

    ``register_prehook(hook)``: ``hook(grad_outputs)`` runs before the node's backward and may
    return replacement gradients; ``register_hook(hook)``: ``hook(grad_inputs, grad_outputs)``
    runs after it and may return replacement gradients for the inputs (PyTorch's Node hooks).
    """

    next_functions = ()
    _num_outputs = 1
    _hooked = False     # any hook registered on this node (the engine skips the lookups otherwise)

    def name(self):
        return type(self).__name__

    def __repr__(self):
        return f"<{self.name()} object at {id(self):#x}>"

    def register_prehook(self, hook):
        hooks = self.__dict__.setdefault("_pre_hooks", [])
        hooks.append(hook)
        self._hooked = True
        return RemovableHandle(hooks, hook)

    def register_hook(self, hook):
        hooks = self.__dict__.setdefault("_post_hooks", [])
        hooks.append(hook)
        self._hooked = True
        return RemovableHandle(hooks, hook)

    def _add_tensor_hook(self, output_nr, hook):
        """A ``Tensor.register_hook`` hook, for the gradient of this node's output ``output_nr``."""
        hooks = self.__dict__.setdefault("_tensor_hooks", {}).setdefault(output_nr, [])
        hooks.append(hook)
        self._hooked = True
        return RemovableHandle(hooks, hook)


class AccumulateGrad(Node):
    """The graph node of a leaf tensor: adds the arriving gradient into ``variable.grad``."""

    def __init__(self, variable):
        self._variable = weakref.ref(variable)
        self._input_meta = ((variable.array.shape, variable.array.dtype, type(variable.array)),)

    @property
    def variable(self):
        return self._variable()

    def accumulate(self, grad, create_graph):
        t = self._variable()
        if t is None:
            return
        if t.grad is None:
            # Without create_graph a detached copy: the incoming array may be shared with another
            # input's gradient or be a broadcast view, and later accumulation adds into it.
            t.grad = grad if create_graph else Tensor._from_op(grad.array.copy(), None)
        elif create_graph or t.grad.requires_grad:
            t.grad = t.grad + grad
        else:
            t.grad.array += grad.array


class SavedTensor:
    """One entry of ``save_for_backward``: an input, an output, or a constant, and its version.

    An input is kept as the Tensor itself (its graph is what a second derivative follows); an
    output as its array, rebuilt as a Tensor of this node when unpacked (a Tensor kept here would
    make a reference cycle through its own grad_fn); a constant (a mask, an index array, an
    intermediate of a custom forward) as it is.
    """

    __slots__ = ("tensor", "array", "counter", "version", "node", "output_nr")

    def __init__(self, tensor=None, array=None, counter=None, node=None, output_nr=0):
        self.tensor, self.array, self.counter, self.node, self.output_nr = tensor, array, counter, node, output_nr
        self.version = self.current_version()

    def current_version(self):
        """The version of what was saved, now: a tensor's own count (its counter is made only once
        something changes it in place), an output's shared counter, None for a constant."""
        t = self.tensor
        if t is not None:
            return 0 if t._vc is None else t._vc.value
        return None if self.counter is None else self.counter.value

    def unpack(self, owner):
        if self.current_version() != self.version:
            t = self.tensor
            shape = tuple((t.array if t is not None else self.array).shape)
            dtype = (t.array if t is not None else self.array).dtype
            maker = t.grad_fn if t is not None else self.node
            made_by = f", which is output {self.output_nr if t is None else t._output_nr} of " \
                      f"{maker.name()}," if maker is not None else ""
            raise RuntimeError(
                f"one of the variables needed for gradient computation has been modified by an inplace "
                f"operation: [{dtype} tensor of shape {shape}]{made_by} is at version "
                f"{self.current_version()}; expected version {self.version} instead. It was saved by "
                f"{owner.name()} for its backward. Hint: do the in-place change after backward, or on "
                f"a clone(); tg.autograd.detect_anomaly() names the line that created {owner.name()}.")
        if self.tensor is not None:
            return self.tensor
        t = Tensor._from_op(self.array, self.node)
        if self.node is not None:
            t._output_nr = self.output_nr
            t._vc = self.counter
        return t


def _saved_entry(item, inputs, outs, results, node):
    """The SavedTensor for one ``save_for_backward`` item (see SavedTensor)."""
    if item is None:
        return None
    for t in inputs:
        if t is not None and (item is t or item is t.array):
            return SavedTensor(t)
    for k, o in enumerate(outs):
        r = results[k]
        if item is o or item is r:
            if isinstance(r, Tensor) and r.grad_fn is node:
                # the output's counter, made now and shared with it: an in-place change to it is seen
                return SavedTensor(None, r.array, r._version_counter(), node, k)
            break
    if isinstance(item, Tensor):
        return SavedTensor(item.detach() if item.grad_fn is node else item)   # detach() shares the count
    return SavedTensor(None, item)


class Function(Node):
    """A differentiable operation; subclass it with ``forward`` and ``backward`` static methods.

    The object passed as ``ctx`` is the graph node (``y.grad_fn``): it has ``save_for_backward``,
    ``saved_tensors``, ``needs_input_grad`` (one bool per forward argument),
    ``mark_non_differentiable``, ``set_materialize_grads`` and any attribute you set on it.
    """

    _array_forward = False          # Op: forward receives arrays
    _fast_routes = ()               # fast routes registered for this op (tinygrad_mnist.fast)
    _view = False                   # the output may be a view of input 0: they share a version
    fast_backward = None            # a fast route's backward on arrays
    _materialize = True
    _saved = ()
    _arrays = ()
    _released = False

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if "_op_name" not in cls.__dict__:
            cls._op_name = cls.__name__          # a fast route takes its op's name (fast/__init__.py)
        if "_fast_routes" not in cls.__dict__:
            cls._fast_routes = ()
        cls._separate_setup = cls.setup_context is not Function.setup_context

    def name(self):
        """``MulBackward``: the op's name and "Backward", as PyTorch shows it (PyTorch adds a number)."""
        return self._op_name + "Backward"

    # ------------------------------------------------------------------ what forward calls
    def save_for_backward(self, *items):
        """Keep these (inputs, outputs, or constants; None allowed) for ``backward``."""
        self._to_save = items

    def save_arrays(self, *arrays):
        """Keep arrays that only a fast route's ``fast_backward`` reads (freed with the saved tensors)."""
        self._arrays = arrays

    def mark_non_differentiable(self, *outputs):
        """These outputs get no ``grad_fn``; their gradients arrive at backward as zeros."""
        self._non_differentiable = {id(o) for o in outputs}

    def set_materialize_grads(self, value):
        """Whether missing output gradients reach backward as zeros (True, the default) or None."""
        self._materialize = bool(value)

    def mark_dirty(self, *tensors):
        """Accepted for PyTorch programs: inputs a custom forward changed in place (their version moves)."""
        for t in tensors:
            t._bump_version()

    @property
    def saved_tensors(self):
        """The saved items as Tensors, checked to be unchanged since they were saved."""
        if self._released:
            raise RuntimeError(
                f"Trying to backward through the graph a second time (or to read saved tensors after "
                f"they were freed): the tensors saved by {self.name()} were freed by the first backward. "
                f"Pass retain_graph=True to the first backward() or autograd.grad() if you need to "
                f"backward through the graph again.")
        return tuple(None if s is None else s.unpack(self) for s in self._saved)

    @property
    def saved_arrays(self):
        """A fast route's arrays (``save_arrays``): what its ``fast_backward`` reads."""
        return self._arrays

    @property
    def saved_values(self):
        """The ``save_for_backward`` items as arrays, for a fast route's backward (not wrapped as
        Tensors; the engine checked their versions, as ``saved_tensors`` does, before the call)."""
        return tuple([None if s is None else s.array if s.tensor is None else s.tensor.array for s in self._saved])

    def _check_saved(self):
        """Raise if the saved tensors were freed or have changed in place since they were saved."""
        if self._released:
            self.saved_tensors  # noqa: B018  raises "backward through the graph a second time"
        for s in self._saved:
            if s is not None and s.current_version() != s.version:
                s.unpack(self)  # raises, naming the tensor and its versions

    def _release(self):
        """Free what was saved for backward (a node that saved nothing can run again, as in PyTorch)."""
        if self._saved or self._arrays:
            self._saved = ()
            self._arrays = ()
            self._released = True

    # ------------------------------------------------------------------ the user-facing protocol
    @staticmethod
    def forward(ctx, *args, **kwargs):
        raise NotImplementedError("a Function subclass must define forward")

    @staticmethod
    def setup_context(ctx, inputs, output):
        """With a ``forward(*args)`` that takes no ctx: save what backward needs from inputs and output."""
        raise NotImplementedError("setup_context is not overridden")

    @staticmethod
    def backward(ctx, *grads):
        raise NotImplementedError("a Function subclass must define backward to be differentiated")

    @classmethod
    def apply(cls, *args, **kwargs):
        if cls._fast_routes and _fast._enabled:
            cls = _route(cls, args, kwargs)
        if instruments.active:
            from .anomaly_mode import apply_observed
            return apply_observed(cls, args, kwargs)
        return cls._apply(args, kwargs)

    @classmethod
    def _apply(cls, args, kwargs):
        ctx = cls.__new__(cls)
        record = grad_mode.state.enabled
        if cls._array_forward:
            arrays, needs = [], []
            for t in args:
                arrays.append(None if t is None else t.array)
                needs.append(record and t is not None and t.requires_grad)
            ctx.needs_input_grad = needs = tuple(needs)
            try:
                out = cls.forward(ctx, *arrays, **kwargs)
            except ValueError as exc:  # NumPy/CuPy shape errors: name the op and the shapes
                shapes = " and ".join(str(tuple(t.shape)) for t in args if t is not None)
                raise RuntimeError(f"{cls._op_name.lower()}: invalid input shapes {shapes}: {exc}") from None
            return ctx._finish_op(args, needs, out)
        tensors = tuple([a for a in args if isinstance(a, Tensor)])
        ctx.needs_input_grad = tuple([record and isinstance(a, Tensor) and a.requires_grad for a in args])
        with grad_mode.no_grad():
            if cls._separate_setup:
                out = cls.forward(*args, **kwargs)
                cls.setup_context(ctx, args, out)
            else:
                out = cls.forward(ctx, *args, **kwargs)
        ctx._positions = tuple([i for i, a in enumerate(args) if isinstance(a, Tensor)])
        return ctx._finish_function(tensors, tuple([t.requires_grad and record for t in tensors]), out)

    def _finish_op(self, inputs, needs, out):
        """An Op's outputs (arrays) as Tensors, linked to this node when a gradient is wanted."""
        single = type(out) is not tuple
        outs = (out,) if single else out
        results = [Tensor._from_op(out, None)] if single else [Tensor._from_op(o, None) for o in outs]
        if self._view:
            _share_version_if_view(results[0], inputs[0])
        if any(needs):
            non_diff = self.__dict__.get("_non_differentiable", ())
            for k, r in enumerate(results):
                if r.array.dtype.kind == "f" and id(outs[k]) not in non_diff:
                    r.grad_fn, r.requires_grad, r._output_nr = self, True, k
            self._link(inputs, outs, results)
        return results[0] if single else tuple(results)

    def _finish_function(self, inputs, needs, out):
        """A custom Function's outputs (Tensors, or anything else), linked to this node when a gradient is wanted."""
        single = type(out) is not tuple
        outs = (out,) if single else out
        record = any(needs)
        non_diff = self.__dict__.get("_non_differentiable", ())
        results = []
        for k, o in enumerate(outs):
            r = o
            if isinstance(o, Tensor) and record and any(o is t for t in inputs):
                r = o.view_as(o)  # an input returned as is: a new tensor, sharing its memory
            if record and isinstance(r, Tensor) and r.array.dtype.kind == "f" and id(o) not in non_diff:
                r.grad_fn, r.requires_grad, r._output_nr = self, True, k
            results.append(r)
        if record:
            self._link(inputs, outs, results)
        return results[0] if single else tuple(results)

    def _link(self, inputs, outs, results):
        """Make this node the graph's: edges to the inputs' nodes, what the checks need, the saved tensors."""
        edges, metas = [], []   # per input: (its node, its output number), and what its gradient must be
        for t in inputs:
            if t is not None and t.requires_grad:
                a = t.array
                edges.append((t._grad_node(), t._output_nr))
                metas.append((a.shape, a.dtype, type(a)))
            else:
                edges.append(_NO_EDGE)
                metas.append(None)
        self.next_functions = tuple(edges)
        self._input_meta = tuple(metas)
        self._num_outputs = len(outs)
        out_metas = []   # per output: what the zeros for it are, when no gradient reaches it
        for r in results:
            out_metas.append((r.array.shape, r.array.dtype) if isinstance(r, Tensor) else None)
        self._output_meta = tuple(out_metas)
        to_save = self.__dict__.pop("_to_save", None)
        if to_save:
            saved = []
            for item in to_save:
                saved.append(_saved_entry(item, inputs, outs, results, self))
            self._saved = tuple(saved)

    # ------------------------------------------------------------------ what the engine calls
    def _run_backward(self, grads, create_graph):
        """Gradients for ``next_functions`` (Tensors or None) from the output gradients ``grads``."""
        cls = type(self)
        if cls.fast_backward is not None and not create_graph:
            self._check_saved()
            arrays = []
            for g in grads:
                arrays.append(None if g is None else g.array)
            out = cls.fast_backward(self, *arrays)
            results = []
            for a in (out if type(out) is tuple else (out,)):
                results.append(None if a is None else Tensor._from_op(a, None))
            return results
        with grad_mode.set_grad_enabled(create_graph):
            out = cls.backward(self, *grads)
        out = out if type(out) is tuple else (out,)
        positions = self.__dict__.get("_positions")
        if positions is not None:  # a custom Function: one gradient per forward argument
            n_args = len(self.needs_input_grad)
            if len(out) < n_args or any(g is not None for g in out[n_args:]):
                raise RuntimeError(f"function {self.name()} returned an incorrect number of gradients "
                                   f"(expected {n_args}, got {len(out)})")
            out = tuple(out[i] for i in positions)
        elif len(out) != len(self.next_functions):
            raise RuntimeError(f"function {self.name()} returned an incorrect number of gradients "
                               f"(expected {len(self.next_functions)}, got {len(out)})")
        return out


class Op(Function):
    """An engine op (``tinygrad_mnist/ops/``): its forward receives the inputs' arrays.

    Positional arguments of ``apply`` are the tensor inputs (None for an absent optional one,
    such as a bias); keyword arguments are passed to forward as they are. Outputs that are not
    floating point (indices, masks) never require grad.
    """

    _array_forward = True


_NO_EDGE = (None, 0)     # an input that needs no gradient


def _route(op, args, kwargs):
    """The first fast route of ``op`` that accepts these arguments, else ``op`` itself."""
    for route in op._fast_routes:
        if route.accepts(*args, **kwargs):
            return route
    return op


def _root_of(array):
    base = array.base
    return array if base is None else base


def _share_version_if_view(result, source):
    """A view shares its source's version counter, so an in-place change to either is seen by both."""
    if source is not None and result.array.base is not None and _root_of(result.array) is _root_of(source.array):
        result._vc = source._version_counter()


def once_differentiable(backward):
    """Decorate a custom Function's backward that is not itself differentiable.

    It runs with grad mode off; under ``create_graph=True`` its results get a node that raises
    when something tries to differentiate through it.
    """
    @functools.wraps(backward)
    def wrapper(ctx, *grads):
        create_graph = grad_mode.state.enabled
        with grad_mode.no_grad():
            out = backward(ctx, *grads)
        if not create_graph or not any(g is not None and g.requires_grad for g in grads):
            return out
        single = not isinstance(out, tuple)
        outs = (out,) if single else out
        guarded = tuple(None if g is None else _OnceDifferentiable.apply(g, *grads) for g in outs)
        return guarded[0] if single else guarded
    return wrapper


class _OnceDifferentiable(Function):
    @staticmethod
    def forward(ctx, result, *grads):
        return result.clone()

    @staticmethod
    def backward(ctx, *grads):
        raise RuntimeError("trying to differentiate twice a function that was marked with "
                           "@once_differentiable")

