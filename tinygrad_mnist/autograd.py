"""Reverse-mode automatic differentiation: Function, the backward graph walk, grad mode.

How it fits together:

* Every differentiable op is a subclass of :class:`Function` with ``forward(self, *arrays)``
  and ``backward(self, grad)``. ``Op.apply(*tensors, **params)`` runs ``forward`` on the raw
  arrays and, when a gradient is wanted, returns a tensor whose ``grad_fn`` is that Function
  instance. The instance remembers whatever ``backward`` needs (``save_for_backward``) and, in
  ``next_functions``, where the gradient of each input goes next.
* A leaf tensor that requires grad is represented in the graph by its :class:`AccumulateGrad`
  node, which adds the incoming gradient into ``tensor.grad``.
* ``tensor.backward()`` calls :func:`run_backward`: it counts, for every node reachable from the
  root, how many gradients it will receive, then processes nodes in reverse topological order with
  an explicit stack (no recursion, so a chain of any length works).

Not supported, unlike PyTorch: higher-order gradients (``create_graph``) and in-place ops on
tensors that are part of a graph.
"""
from __future__ import annotations

import collections
import functools
import time
import traceback
import weakref

from .backend import get_array_module

from .tensor import Tensor

__all__ = [
    "Function", "AccumulateGrad", "no_grad", "enable_grad", "set_grad_enabled", "is_grad_enabled",
    "unbroadcast", "run_backward", "grad", "backward", "gradcheck", "GradcheckError",
    "set_detect_anomaly", "detect_anomaly", "is_anomaly_enabled", "AnomalyError", "trace",
]

_grad_enabled = True
_observed = False  # True while anomaly detection, a profiler or a backward trace is active


def is_grad_enabled():
    return _grad_enabled


class set_grad_enabled:
    """Turn gradient recording on or off; a context manager and a function call, as in PyTorch."""

    def __init__(self, mode):
        global _grad_enabled
        self.prev = _grad_enabled
        _grad_enabled = bool(mode)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        global _grad_enabled
        _grad_enabled = self.prev
        return False


class _GradMode:
    """Base of ``no_grad`` / ``enable_grad``: usable as ``with`` block and as a decorator."""

    mode = True

    def __enter__(self):
        global _grad_enabled
        self.prev = _grad_enabled
        _grad_enabled = self.mode
        return self

    def __exit__(self, *exc):
        global _grad_enabled
        _grad_enabled = self.prev
        return False

    def __call__(self, func):
        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            with self.__class__():
                return func(*args, **kwargs)
        return wrapper


class no_grad(_GradMode):
    """Ops inside record no graph: results have ``requires_grad=False``."""

    mode = False


class enable_grad(_GradMode):
    mode = True


def unbroadcast(grad, shape):
    """Sum ``grad`` over the dimensions that broadcasting added or stretched, back to ``shape``.

    This is the one place where broadcast gradients are reduced: an input of shape (3, 1) used
    in an op with output (2, 3, 4) receives the output gradient summed over axis 0 and axis 2.
    """
    if grad.shape == shape:
        return grad
    lead = grad.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(
        lead + i for i, n in enumerate(shape) if n == 1 and grad.shape[lead + i] != 1)
    if axes:
        grad = grad.sum(axis=axes, keepdims=True)
    return grad.reshape(shape)


class Node:
    """What the backward graph is made of: a Function, or an AccumulateGrad for a leaf."""

    next_functions = ()

    def name(self):
        return type(self).__name__

    def __repr__(self):
        return f"<{self.name()} object at {id(self):#x}>"

    def register_prehook(self, hook):
        """``hook(grad_tensor)`` runs on the gradient arriving at this node; it may return a new one."""
        hooks = self.__dict__.setdefault("_pre_hooks", [])
        hooks.append(hook)
        return _RemovableHandle(hooks, hook)


class _RemovableHandle:
    def __init__(self, hooks, hook):
        self._hooks, self._hook = hooks, hook

    def remove(self):
        if self._hook in self._hooks:
            self._hooks.remove(self._hook)


class Function(Node):
    """Base class of every differentiable op.

    Subclasses implement ``forward(self, *arrays, **params)`` returning an array, and
    ``backward(self, grad)`` returning one gradient array per tensor input (or ``None`` for an
    input that needs none), each already reduced to that input's shape. ``self.needs_input_grad``
    tells backward which inputs want one. Arrays that backward needs are kept with
    ``self.save_for_backward(...)`` so that they are released after backward; small metadata
    (shapes, axes) may live in plain attributes.

    ``grad_fn.name()`` is the op's name followed by ``Backward`` (``MulBackward``), as PyTorch
    shows it (PyTorch also appends a number: ``MulBackward0``).
    """

    saved_tensors = ()
    needs_input_grad = ()
    differentiable = True

    @classmethod
    def apply(cls, *inputs, **params):
        if _observed:
            return _apply_observed(cls, inputs, params)
        fn = cls()
        return fn._wrap(fn._forward(inputs, params), inputs)

    def _forward(self, inputs, params):
        try:
            return self.forward(*[t.array for t in inputs], **params)
        except ValueError as exc:  # NumPy/CuPy shape errors: name the op and the shapes
            shapes = " and ".join(str(tuple(t.shape)) for t in inputs)
            raise RuntimeError(f"{type(self).__name__.lower()}: invalid input shapes {shapes}: {exc}") from None

    def _wrap(self, out, inputs):
        """The output tensor, linked into the graph when any input wants a gradient."""
        if _grad_enabled and self.differentiable and any(t.requires_grad for t in inputs):
            self.needs_input_grad = tuple(t.requires_grad for t in inputs)
            self.next_functions = tuple((t._grad_node(), 0) for t in inputs)
            self.output_meta = (out.shape, out.dtype)  # for graph inspection (tg.viz)
            return Tensor._from_op(out, self)
        return Tensor._from_op(out, None)

    def save_for_backward(self, *arrays):
        self.saved_tensors = arrays

    def forward(self, *arrays, **params):
        raise NotImplementedError(f"{type(self).__name__} must define forward")

    def backward(self, grad):
        raise NotImplementedError(f"{type(self).__name__} must define backward")

    def name(self):
        return type(self).__name__ + "Backward"


class AccumulateGrad(Node):
    """The graph node of a leaf tensor: adds the arriving gradient into ``variable.grad``."""

    def __init__(self, variable):
        self._variable = weakref.ref(variable)

    @property
    def variable(self):
        return self._variable()

    def accumulate(self, grad):
        t = self._variable()
        if t is None:
            return
        if t.grad is None:
            # A fresh copy: the incoming array may be shared with another input's gradient or be a
            # broadcast view, and later accumulation writes into it in place.
            t.grad = Tensor(grad.copy())
        else:
            t.grad.array += grad


def _run_hooks(node, grad):
    hooks = node.__dict__.get("_pre_hooks", ())
    # retain_grad's hook runs after the tensor's other hooks, so it stores their final result (PyTorch)
    ordered = [h for h in hooks if not getattr(h, "retains_grad", False)] + \
              [h for h in hooks if getattr(h, "retains_grad", False)]
    for hook in ordered:
        result = hook(Tensor(grad))
        if result is not None:
            grad = result.array if isinstance(result, Tensor) else result
    return grad


def run_backward(roots, grads, retain_graph=False, inputs=None):
    """Backpropagate ``grads`` (arrays) from ``roots`` (tensors) through the graph.

    Leaves accumulate into ``.grad``. When ``inputs`` (tensors) is given, nothing accumulates and
    the gradients reaching those tensors are returned instead (what ``autograd.grad`` needs).
    """
    # 1. Count how many gradients each reachable node will receive (iterative DFS).
    pending = {}
    stack = []
    for r in roots:
        node = r.grad_fn
        if node is not None and node not in pending:
            pending[node] = 0
            stack.append(node)
    while stack:
        node = stack.pop()
        for nxt, _ in node.next_functions:
            if nxt is None:
                continue
            if nxt in pending:
                pending[nxt] += 1
            else:
                pending[nxt] = 1
                stack.append(nxt)

    capture = None
    if inputs is not None:
        capture = {t._grad_node(): i for i, t in enumerate(inputs)}
        captured = [None] * len(inputs)

    # 2. Seed the roots. A leaf root goes straight to its accumulator.
    arriving = {}
    ready = []
    for r, g in zip(roots, grads):
        node = r._grad_node()
        if node is None:
            raise RuntimeError("element 0 of tensors does not require grad and does not have a grad_fn")
        if node in arriving:
            arriving[node] = arriving[node] + g
        else:
            arriving[node] = g
            if pending.get(node, 0) == 0:  # not also reachable from another root
                ready.append(node)

    # 3. Process a node once every gradient bound for it has arrived (reverse topological order).
    #    A node that received none still runs its bookkeeping so that its inputs are not left waiting.
    while ready:
        node = ready.pop()
        grad = arriving.pop(node, None)
        if grad is not None:
            if "_pre_hooks" in node.__dict__:
                grad = _run_hooks(node, grad)
            if capture is not None and node in capture:
                captured[capture[node]] = grad
        if isinstance(node, AccumulateGrad):
            if grad is not None and capture is None:
                node.accumulate(grad)
            continue
        if grad is None:
            input_grads = (None,) * len(node.next_functions)
        else:
            if node.saved_tensors is None:
                raise RuntimeError(
                    f"Trying to backward through the graph a second time: the tensors saved by "
                    f"{node.name()} were freed by the first backward. Pass retain_graph=True to the "
                    f"first backward() if you need to backward through the graph again.")
            input_grads = node.backward(grad) if not _observed else _backward_observed(node, grad)
            if not isinstance(input_grads, tuple):
                input_grads = (input_grads,)
            if not retain_graph and node.saved_tensors:
                node.saved_tensors = None
        for (nxt, _), g in zip(node.next_functions, input_grads):
            if nxt is None:
                continue
            if g is not None:
                prev = arriving.get(nxt)
                arriving[nxt] = g if prev is None else prev + g
            pending[nxt] -= 1
            if pending[nxt] == 0:
                ready.append(nxt)
    return captured if capture is not None else None


def _as_grad_arrays(outputs, grad_outputs):
    arrays = []
    for i, out in enumerate(outputs):
        g = grad_outputs[i] if grad_outputs is not None else None
        if g is None:
            if out.array.size != 1:
                raise RuntimeError(
                    f"grad can be implicitly created only for scalar outputs, got an output of shape "
                    f"{tuple(out.shape)}: pass gradient= (or grad_outputs=) of that shape")
            arrays.append(out.array * 0 + 1)  # ones of the same shape, dtype and device
            continue
        g = g.array if isinstance(g, Tensor) else g
        if tuple(g.shape) != tuple(out.shape):
            raise RuntimeError(f"gradient has shape {tuple(g.shape)} but the output has shape {tuple(out.shape)}")
        arrays.append(g.astype(out.array.dtype, copy=False))
    return arrays


def backward(tensors, grad_tensors=None, retain_graph=False):
    """Accumulate into the leaves the gradients of ``tensors`` (``torch.autograd.backward``)."""
    tensors = [tensors] if isinstance(tensors, Tensor) else list(tensors)
    if isinstance(grad_tensors, Tensor):
        grad_tensors = [grad_tensors]
    run_backward(tensors, _as_grad_arrays(tensors, grad_tensors), retain_graph=bool(retain_graph))


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, allow_unused=False):
    """The gradients of ``outputs`` with respect to ``inputs``, returned (not accumulated).

    As ``torch.autograd.grad``: ``.grad`` fields are left untouched; ``retain_graph`` defaults to
    False; an input the outputs do not depend on raises unless ``allow_unused=True`` (then None).
    """
    single = isinstance(inputs, Tensor)
    outputs = [outputs] if isinstance(outputs, Tensor) else list(outputs)
    inputs = [inputs] if single else list(inputs)
    if isinstance(grad_outputs, Tensor):
        grad_outputs = [grad_outputs]
    for t in inputs:
        if not t.requires_grad:
            raise RuntimeError("One of the differentiated Tensors does not require grad")
    got = run_backward(outputs, _as_grad_arrays(outputs, grad_outputs),
                       retain_graph=bool(retain_graph), inputs=inputs)
    result = []
    for i, g in enumerate(got):
        if g is None and not allow_unused:
            raise RuntimeError(
                f"input {i} was not used in the graph of the outputs; pass allow_unused=True to get None")
        result.append(None if g is None else Tensor(g))
    return tuple(result)


# ---------------------------------------------------------------------------------------------
# Instruments: anomaly detection, and observers (the profiler, the backward trace).
# While none is active, Function.apply and the graph walk pay one global check for them.

_anomaly = False
_observers = []  # objects with on_forward(fn, seconds) and on_backward(node, seconds, grad, grads)


def _refresh_observed():
    global _observed
    _observed = _anomaly or bool(_observers)


def add_observer(observer):
    _observers.append(observer)
    _refresh_observed()


def remove_observer(observer):
    if observer in _observers:
        _observers.remove(observer)
    _refresh_observed()


class AnomalyError(RuntimeError):
    """A NaN or Inf appeared; the message names the op and where user code created it."""


def _sync(array):
    """Wait for the GPU (if the array lives there) so that wall-clock times mean something."""
    if type(array).__module__.startswith("cupy"):
        from .cuda import synchronize
        synchronize()


def _creation_site(stack):
    """The innermost frame outside this package: the user code line that created the op."""
    import os
    here = os.path.dirname(os.path.abspath(__file__))
    for frame in reversed(stack):
        path = os.path.abspath(frame.filename)
        if not path.startswith(here + os.sep):
            return frame
    return stack[-1] if stack else None


def _nonfinite(array):
    return array.dtype.kind == "f" and not bool(get_array_module(array).isfinite(array).all())


def _describe_nonfinite(array):
    """'3 of 64 elements are NaN or Inf, the first at index (0, 2): -inf' (a host copy: error path only)."""
    import numpy as np

    from .backend import to_numpy
    a = to_numpy(array)
    bad = ~np.isfinite(a)  # host: a to_numpy copy, error path only
    first = tuple(int(i) for i in np.argwhere(bad)[0]) if a.ndim else ()  # host
    return (f"{int(bad.sum())} of {a.size} elements are NaN or Inf, the first at index {first}: "
            f"{a[first].item()!r}")


def _anomaly_message(node, what):
    lines = [f"Function '{node.name()}' (op {type(node).__name__}) {what}."]
    stack = getattr(node, "creation_stack", None)
    site = _creation_site(stack) if stack else None
    if site is not None:
        lines.append(f"The op was created at {site.filename}:{site.lineno}, in {site.name}:")
        lines.append(f"    {site.line}")
        lines.append("Traceback of the op's creation (most recent call last):")
        lines.extend("  " + line.rstrip("\n") for line in traceback.format_list(stack[-8:]))
    else:
        lines.append("Where the op was created is unknown: anomaly detection was off during the forward "
                     "pass. Turn it on before the forward (with tg.autograd.detect_anomaly(): around "
                     "forward and backward) to see the line of code.")
    return "\n".join(lines)


def _apply_observed(cls, inputs, params):
    fn = cls()
    if _anomaly:
        fn.creation_stack = traceback.extract_stack()[:-2]
    start = time.perf_counter()
    out = fn._forward(inputs, params)
    if _observers:
        _sync(out)
        elapsed = time.perf_counter() - start
        for obs in _observers:
            obs.on_forward(fn, elapsed)
    # Blame only the op that turned finite inputs into a non-finite output (not every op after it).
    if _anomaly and _nonfinite(out) and not any(_nonfinite(t.array) for t in inputs):
        raise AnomalyError(_anomaly_message(
            fn, f"produced NaN or Inf in its forward output of shape {tuple(out.shape)}: "
                f"{_describe_nonfinite(out)}"))
    return fn._wrap(out, inputs)


def _backward_observed(node, grad):
    if _anomaly and _nonfinite(grad):
        # Every op's backward is checked below, so this gradient came from elsewhere.
        raise AnomalyError(_anomaly_message(
            node, f"received a gradient that already holds NaN or Inf ({_describe_nonfinite(grad)}); "
                  f"no op's backward produced it: it came from the gradient passed to backward() or "
                  f"autograd.grad(), from a hook, or from two finite gradients whose sum overflowed"))
    start = time.perf_counter()
    grads = node.backward(grad)
    grads = grads if isinstance(grads, tuple) else (grads,)
    if _observers:
        for g in grads:
            if g is not None:
                _sync(g)
        elapsed = time.perf_counter() - start
        for obs in _observers:
            obs.on_backward(node, elapsed, grad, grads)
    if _anomaly:
        for i, g in enumerate(grads):
            if g is not None and _nonfinite(g):
                raise AnomalyError(_anomaly_message(
                    node, f"returned NaN or Inf in its backward, in the gradient for its input {i} of "
                          f"shape {tuple(g.shape)}: {_describe_nonfinite(g)}"))
    return grads


class set_detect_anomaly:
    """``set_detect_anomaly(True)``: check every forward output and backward gradient for NaN/Inf.

    Usable as a call or a context manager. While on, each op also records the stack where it was
    created, so the error can point at the line of user code (this costs time: debug only).
    """

    def __init__(self, mode=True):
        global _anomaly
        self.prev = _anomaly
        _anomaly = bool(mode)
        _refresh_observed()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        global _anomaly
        _anomaly = self.prev
        _refresh_observed()
        return False


def detect_anomaly():
    """``with tg.autograd.detect_anomaly():`` anomaly detection for a block."""
    return set_detect_anomaly(True)


def is_anomaly_enabled():
    return _anomaly


class trace:
    """Record every backward step, in order: ``with tg.autograd.trace() as t: loss.backward()``.

    Each step is the op, the shape of the gradient it received (d loss / d output), the shapes of
    the gradients it passed on (d loss / d each input), the norm of the gradient it received, and
    the time its backward took (leaves' AccumulateGrad nodes only add into ``.grad``: not steps).
    ``print(t)`` shows them as a table. Nodes also keep ``grad_norm`` and the shapes of the tensors
    they had saved (``saved_shapes``, as backward frees the tensors), which ``tg.viz.graph`` shows.
    """

    Step = collections.namedtuple("Step", "index op grad_output grad_inputs grad_output_norm ms")

    def __init__(self):
        self.steps = []

    def __enter__(self):
        add_observer(self)
        return self

    def __exit__(self, *exc):
        remove_observer(self)
        return False

    def on_forward(self, fn, seconds):
        pass

    def on_backward(self, node, seconds, grad, grads):
        norm = float(get_array_module(grad).linalg.norm(grad.astype("float64").ravel()))
        node.grad_norm = norm
        if node.saved_tensors:  # about to be freed: keep their shapes for tg.viz.graph
            node.saved_shapes = tuple(tuple(getattr(a, "shape", ())) for a in node.saved_tensors)
        self.steps.append(self.Step(len(self.steps), node.name(), tuple(grad.shape),
                                    tuple(None if g is None else tuple(g.shape) for g in grads),
                                    norm, seconds * 1e3))

    def __len__(self):
        return len(self.steps)

    def __iter__(self):
        return iter(self.steps)

    def table(self):
        rows = [("#", "op", "grad in (d/d output)", "grads out (d/d inputs)", "|grad in|", "ms")]
        for s in self.steps:
            outs = ", ".join("-" if g is None else str(g) for g in s.grad_inputs)
            rows.append((str(s.index), s.op, str(s.grad_output), outs, f"{s.grad_output_norm:.4g}", f"{s.ms:.3f}"))
        widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
        lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in rows]
        lines.insert(1, "  ".join("-" * w for w in widths))
        lines.append(f"{len(self.steps)} backward steps, {sum(s.ms for s in self.steps):.3f} ms in total")
        return "\n".join(lines)

    __str__ = table


class GradcheckError(AssertionError):
    """Raised by :func:`gradcheck` when analytical and numerical gradients disagree."""


def gradcheck(fn, inputs, eps=1e-6, atol=1e-5, rtol=1e-3, raise_exception=True):
    """Compare backprop's gradients with central finite differences, in float64.

    ``fn(*inputs)`` returns a tensor (or a tuple of tensors). For every output element, the
    vector-Jacobian product from ``backward`` is compared with ``(f(x + eps) - f(x - eps)) / 2eps``
    for every element of every input that requires grad. Inputs must be float64 (finite
    differences in float32 are too coarse to tell a right gradient from a wrong one).
    Returns True, or raises :class:`GradcheckError` naming the input, element and both values.
    """
    import numpy as np

    from .backend import to_numpy

    inputs = tuple(inputs) if isinstance(inputs, (tuple, list)) else (inputs,)
    diff = [t for t in inputs if isinstance(t, Tensor) and t.requires_grad]
    for t in diff:
        if t.array.dtype != np.float64:
            raise GradcheckError(f"gradcheck: inputs must be float64, got {t.dtype} for an input of shape {tuple(t.shape)}")

    def outputs():
        out = fn(*inputs)
        return list(out) if isinstance(out, (tuple, list)) else [out]

    def flat_outputs():
        with no_grad():
            return np.concatenate([to_numpy(o.array).astype(np.float64).ravel() for o in outputs()])

    # numerical Jacobian, one column per input element
    base = flat_outputs()
    numerical = []
    for t in diff:
        flat = t.array.reshape(-1)  # a view: perturb in place, then restore
        cols = np.zeros((base.size, flat.size))
        for j in range(flat.size):
            orig = flat[j].item()
            flat[j] = orig + eps
            plus = flat_outputs()
            flat[j] = orig - eps
            minus = flat_outputs()
            flat[j] = orig
            cols[:, j] = (plus - minus) / (2 * eps)
        numerical.append(cols)

    # analytical Jacobian, one row per output element (a backward pass with a one-hot gradient)
    analytical = [np.zeros_like(c) for c in numerical]
    outs = outputs()
    row = 0
    for o in outs:
        for k in range(o.array.size):
            seed = o.array.reshape(-1) * 0
            seed[k] = 1
            got = grad([o], diff, grad_outputs=[Tensor(seed.reshape(o.array.shape))],
                       retain_graph=True, allow_unused=True)
            for a, g in zip(analytical, got):
                if g is not None:
                    a[row] = to_numpy(g.array).ravel()
            row += 1

    for i, (a, n) in enumerate(zip(analytical, numerical)):
        bad = ~np.isclose(a, n, rtol=rtol, atol=atol)
        if bad.any():
            r, c = np.argwhere(bad)[0]
            msg = (f"gradcheck: Jacobian mismatch for differentiable input {i} (shape "
                   f"{tuple(diff[i].shape)}) at output element {r}, input element {c}: "
                   f"analytical {a[r, c]!r} vs numerical {n[r, c]!r} "
                   f"({int(bad.sum())} of {bad.size} entries differ; atol={atol}, rtol={rtol})")
            if raise_exception:
                raise GradcheckError(msg)
            return False
    return True
