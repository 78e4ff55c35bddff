"""Every engine interface the explain page reads, each behind one small function.

The page needs to see inside the autograd graph: node names, edges, saved tensors, the values
each op produced, and the gradients that backward passed along each edge. Those are engine
internals that may change shape (saved tensors as arrays or as Tensors, graph nodes as Function
instances or as separate backward objects). Everything in ``tinygrad_mnist/explain`` reaches them
through this module only, so a change in the engine is mended here, in one place.
"""
from __future__ import annotations

import contextlib
import inspect
import re
from pathlib import Path

import numpy as np

import tinygrad_mnist as tg
from tinygrad_mnist.backend import to_numpy

# --------------------------------------------------------------------------------- graph nodes


def grad_fn(tensor):
    """The node that produced ``tensor`` (None for a leaf)."""
    return tensor.grad_fn


def node_name(node):
    """``grad_fn.name()``, e.g. ``Conv2dBackward``."""
    return node.name()


def op_name(node):
    """The op behind a node, as docs/backprop.md names it: ``Conv2dBackward`` -> ``Conv2d``."""
    return re.sub(r"Backward\d*$", "", node_name(node)) or node_name(node)


def next_functions(node):
    """``((child node or None, index), ...)``: where the gradient of each input goes next."""
    return tuple(node.next_functions)


def is_accumulator(node):
    """True for a leaf's AccumulateGrad node."""
    return node_name(node) == "AccumulateGrad"


def accumulated_variable(node):
    """The leaf tensor an AccumulateGrad node adds into (None when it is gone)."""
    return getattr(node, "variable", None)


def _dtype_name(item):
    return str(item.dtype).split(".")[-1]  # "float32" from numpy, "tinygrad_mnist.float32" or "torch.float32"


def _nbytes(item):
    array = getattr(item, "array", item)  # a Tensor, or an ndarray
    nbytes = getattr(array, "nbytes", None)
    if nbytes is None:
        nbytes = int(np.prod(item.shape)) * np.dtype(_dtype_name(item)).itemsize
    return int(nbytes)


def saved_tensors(node):
    """What ``node`` saved for backward (and a fast route's own arrays): ``[{shape, dtype, bytes}]``
    (call before backward frees them)."""
    from tinygrad_mnist.viz import saved_arrays
    items = list(saved_arrays(node)) + list(getattr(node, "_arrays", ()))
    out = []
    for item in items:
        if item is None or not hasattr(item, "shape"):
            continue
        out.append({"shape": [int(n) for n in item.shape], "dtype": _dtype_name(item),
                    "bytes": _nbytes(item)})
    return out


def source_of(node):
    """Where the node's op is implemented: ``(path, first line, source text)`` or None.

    A fast route's node points at its reference op (the one docs/backprop.md derives)."""
    cls = next((k for k in type(node).__mro__ if k.__name__ == getattr(node, "_op_name", None)), type(node))
    try:
        path = inspect.getsourcefile(cls)
        lines, first = inspect.getsourcelines(cls)
    except (OSError, TypeError):
        return None
    return Path(path).resolve(), first, "".join(lines)


# ------------------------------------------------------------------------- forward values


@contextlib.contextmanager
def capture_outputs():
    """Record the array each op produced, keyed by its graph node: ``{node: host ndarray}``.

    An observer of the engine (``tg.autograd.add_observer``): every op's ``on_forward`` hands it
    the op's outputs; the first output that has the node as its ``grad_fn`` is kept.
    """
    captured = {}

    class Outputs:
        def on_forward(self, fn, seconds, outputs):
            for out in outputs:
                node = getattr(out, "grad_fn", None)
                if node is not None and node not in captured:
                    captured[node] = out.array

        def on_backward(self, node, seconds, grads, input_grads):
            pass

    observer = Outputs()
    tg.autograd.add_observer(observer)
    try:
        yield captured
    finally:
        tg.autograd.remove_observer(observer)
        for node, array in captured.items():
            captured[node] = np.array(to_numpy(array))  # host copies, after the forward


# ------------------------------------------------------------------------------ the backward


class BackwardRecorder(tg.autograd.trace):
    """``tg.autograd.trace`` that also keeps, for every step, the node and the gradient arrays.

    ``records[i] = (node, grad_in, grads_out)``, host copies made at once (backward may add into
    an arriving gradient in place when a node has several parents); ``steps[i]`` is the trace's own.
    """

    def __init__(self):
        super().__init__()
        self.records = []

    def on_backward(self, node, seconds, grads, input_grads):
        super().on_backward(node, seconds, grads, input_grads)
        grad = next(g for g in grads if g is not None)
        self.records.append((node, np.array(to_numpy(grad.array)),
                             tuple(None if g is None else np.array(to_numpy(g.array)) for g in input_grads)))


def trace_steps(recorder):
    """The trace's steps as dicts: index, op, grad_output, grad_inputs, grad_output_norm, ms."""
    return [{"index": s.index, "op": s.op, "grad_output": list(s.grad_output),
             "grad_inputs": [None if g is None else list(g) for g in s.grad_inputs],
             "grad_output_norm": s.grad_output_norm, "ms": s.ms} for s in recorder.steps]


def profiler():
    """A ``tg.profile()`` context manager."""
    return tg.profile()


def profile_rows(prof):
    return [r._asdict() for r in prof.rows()]


# --------------------------------------------------------------------------- tensors, torch


def host(tensor_or_array):
    """A NumPy copy of a Tensor's values (or of an array)."""
    array = getattr(tensor_or_array, "array", tensor_or_array)
    return np.array(to_numpy(array))


def copy_weights_to_torch(model, torch_model):
    from tinygrad_mnist import interop
    interop.copy_to_torch(model, torch_model)


def get_element(tensor, index):
    """One element of a (host) tensor, as a Python number."""
    return tensor.array[index].item()


def set_element(tensor, index, value):
    """Overwrite one element of a (host) tensor in place, outside any graph (finite differences)."""
    tensor.array[index] = value
