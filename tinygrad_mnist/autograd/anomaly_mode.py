"""Instruments that watch the graph at work: anomaly detection, and observers (trace, profiler).

``detect_anomaly()`` checks every forward output and every backward gradient for NaN and Inf; the
error names the op and the line of user code that created it (each op records its creation stack
while anomaly detection is on, which costs time: debug only). Observers (``trace`` here,
``tg.profile``) are told the time of every forward and backward. While none of these is on, an op
pays one attribute check for them.
"""
from __future__ import annotations

import collections
import os
import time
import traceback

from ..backend import get_array_module, to_numpy
from .function import instruments

__all__ = ["set_detect_anomaly", "detect_anomaly", "is_anomaly_enabled", "AnomalyError", "trace",
           "add_observer", "remove_observer"]


def add_observer(observer):
    """``observer.on_forward(fn, seconds, outputs)`` (``outputs``: the op's result Tensors) and
    ``observer.on_backward(node, seconds, grads, input_grads)`` (gradient Tensors, or None)."""
    instruments.observers.append(observer)
    instruments.refresh()


def remove_observer(observer):
    if observer in instruments.observers:
        instruments.observers.remove(observer)
    instruments.refresh()


class AnomalyError(RuntimeError):
    """A NaN or Inf appeared; the message names the op and where user code created it."""


def _sync(array):
    """Wait for the GPU (if the array lives there) so that wall-clock times mean something."""
    if type(array).__module__.startswith("cupy"):
        from ..cuda import synchronize
        synchronize()


def _creation_site(stack):
    """The innermost frame outside this package: the user code line that created the op."""
    package = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    for frame in reversed(stack):
        if not os.path.abspath(frame.filename).startswith(package + os.sep):
            return frame
    return stack[-1] if stack else None


def _nonfinite(array):
    return array.dtype.kind == "f" and not bool(get_array_module(array).isfinite(array).all())


def _describe_nonfinite(array):
    """'3 of 64 elements are NaN or Inf, the first at index (0, 2): -inf' (a host copy: error path only)."""
    import numpy as np
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


def _arrays_of(values):
    from ..tensor import Tensor
    items = values if isinstance(values, (tuple, list)) else (values,)
    return [v.array for v in items if isinstance(v, Tensor)]


def apply_observed(cls, args, kwargs):
    """``Function.apply`` while an instrument is on: timing, the creation stack, the NaN check."""
    from ..tensor import Tensor
    stack = traceback.extract_stack()[:-2] if instruments.anomaly else None
    start = time.perf_counter()
    out = cls._apply(args, kwargs)
    outs = _arrays_of(out)
    node = next((o.grad_fn for o in (out if isinstance(out, tuple) else (out,))
                 if isinstance(o, Tensor) and o.grad_fn is not None), None)
    if node is not None and stack is not None:
        node.creation_stack = stack
    if instruments.observers:
        for a in outs:
            _sync(a)
        elapsed = time.perf_counter() - start
        shown = node if node is not None else cls.__new__(cls)
        for obs in list(instruments.observers):
            obs.on_forward(shown, elapsed, out if isinstance(out, tuple) else (out,))
    # Blame only the op that turned finite inputs into a non-finite output (not every op after it).
    if instruments.anomaly and any(_nonfinite(a) for a in outs) and not any(
            _nonfinite(a.array) for a in args if isinstance(a, Tensor)):
        bad = next(a for a in outs if _nonfinite(a))
        shown = node if node is not None else cls.__new__(cls)
        if stack is not None:
            shown.creation_stack = stack
        raise AnomalyError(_anomaly_message(
            shown, f"produced NaN or Inf in its forward output of shape {tuple(bad.shape)}: "
                   f"{_describe_nonfinite(bad)}"))
    return out


def backward_observed(node, grads, create_graph):
    """One node's backward while an instrument is on."""
    if instruments.anomaly:
        for g in grads:
            if g is not None and _nonfinite(g.array):
                # every op's backward is checked below, so this gradient came from elsewhere
                raise AnomalyError(_anomaly_message(
                    node, f"received a gradient that already holds NaN or Inf ({_describe_nonfinite(g.array)}); "
                          f"no op's backward produced it: it came from the gradient passed to backward() or "
                          f"autograd.grad(), from a hook, or from two finite gradients whose sum overflowed"))
    saved_shapes = None
    if instruments.observers and (node._saved or node._arrays):  # about to be freed: keep their shapes
        saved_shapes = tuple(tuple((s.tensor.array if s.tensor is not None else s.array).shape)
                             for s in node._saved if s is not None) + tuple(tuple(a.shape) for a in node._arrays)
    start = time.perf_counter()
    instruments.active = False  # the Tensor ops inside a backward are part of it, not ops of their own
    try:
        input_grads = node._run_backward(grads, create_graph)
    finally:
        instruments.refresh()
    if instruments.observers:
        for g in input_grads:
            if g is not None:
                _sync(g.array)
        elapsed = time.perf_counter() - start
        if saved_shapes is not None:
            node.saved_shapes = saved_shapes
        for obs in list(instruments.observers):
            obs.on_backward(node, elapsed, tuple(grads), tuple(input_grads))
    if instruments.anomaly:
        for i, g in enumerate(input_grads):
            if g is not None and _nonfinite(g.array):
                raise AnomalyError(_anomaly_message(
                    node, f"returned NaN or Inf in its backward, in the gradient for its input {i} of "
                          f"shape {tuple(g.shape)}: {_describe_nonfinite(g.array)}"))
    return input_grads


class set_detect_anomaly:
    """``set_detect_anomaly(True)``: check every forward output and backward gradient for NaN/Inf.

    Usable as a call or a context manager. ``check_nan`` is accepted, as in PyTorch (True: the
    checks above; False: only the creation stacks are recorded).
    """

    def __init__(self, mode=True, check_nan=True):
        self.prev = instruments.anomaly
        instruments.anomaly = bool(mode)
        instruments.refresh()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        instruments.anomaly = self.prev
        instruments.refresh()
        return False


def detect_anomaly(check_nan=True):
    """``with tg.autograd.detect_anomaly():`` anomaly detection for a block."""
    return set_detect_anomaly(True, check_nan)


def is_anomaly_enabled():
    return instruments.anomaly


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

    def on_forward(self, fn, seconds, outputs):
        pass

    def on_backward(self, node, seconds, grads, input_grads):
        grad = next(g for g in grads if g is not None)
        norm = float(get_array_module(grad.array).linalg.norm(grad.array.astype("float64").ravel()))
        node.grad_norm = norm
        self.steps.append(self.Step(len(self.steps), node.name(), tuple(grad.shape),
                                    tuple(None if g is None else tuple(g.shape) for g in input_grads),
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
