"""The backward pass: walk the graph from the outputs to the leaves, in reverse topological order.

``run_backward`` first counts, for every node reachable from the roots, how many gradients will
arrive at it (one per edge). A node runs once all of them have arrived, summed: so every node
runs once, after everything that uses its outputs (an explicit stack: no recursion, so a chain of
any length works). For each node:

1. the gradients of its outputs (a missing one becomes zeros), after the hooks of the tensors
   they belong to (``Tensor.register_hook``, then ``retain_grad``) and the node's pre-hooks;
2. its backward: one gradient per input, each checked against that input's shape, dtype and
   device (a broadcast shape is summed back; a shape that cannot be is an error naming the op);
3. its post-hooks; then its saved tensors are freed unless ``retain_graph``.

A leaf's ``AccumulateGrad`` node adds into ``.grad``. ``autograd.grad`` captures the gradients of
its inputs instead and touches no ``.grad``, running only the nodes that lead to an input.

With ``create_graph=True`` every backward runs with grad mode on, so the gradients it returns are
recorded: they have a graph of their own, which a second backward can walk.
"""
from __future__ import annotations

import numpy as np

from ..backend import get_array_module, to_device
from ..tensor import Tensor
from . import grad_mode
from .function import AccumulateGrad, instruments

__all__ = ["run_backward", "backward", "grad"]


def _expandable(shape, to):
    """Whether ``shape`` broadcasts to ``to`` (a gradient of shape ``to`` sums back to ``shape``)."""
    if len(shape) > len(to):
        return False
    return all(s == 1 or s == t for s, t in zip(reversed(shape), reversed(to)))


def _validate(node, index, g, meta):
    """``g`` as the gradient of input ``index`` of ``node``: summed to its shape, cast to its dtype."""
    shape, dtype, array_type = meta
    if type(g.array) is not array_type:
        device = "cuda" if array_type.__module__.startswith("cupy") else "cpu"
        raise RuntimeError(f"Function {node.name()} returned an invalid gradient at index {index} - "
                           f"expected device {device} but got {g.device}")
    if g.array.shape != shape:
        if not _expandable(shape, g.array.shape):
            raise RuntimeError(f"Function {node.name()} returned an invalid gradient at index {index} - "
                               f"got {list(g.array.shape)} but expected shape compatible with {list(shape)}")
        g = g.sum_to_size(shape)
    if g.array.dtype != dtype:
        g = g.to(dtype)
    return g


def _run_tensor_hooks(node, grads):
    hooks = node.__dict__.get("_tensor_hooks")
    if hooks:
        for k, fns in hooks.items():
            retain = [h for h in fns if getattr(h, "retains_grad", False)]
            for hook in [h for h in fns if not getattr(h, "retains_grad", False)] + retain:
                if grads[k] is None:
                    continue
                result = hook(grads[k])
                if result is not None:
                    grads[k] = result if isinstance(result, Tensor) else Tensor(result)
    pre = node.__dict__.get("_pre_hooks")
    if pre:
        for hook in pre:
            result = hook(tuple(grads))
            if result is not None:
                grads[:] = list(result)
    return grads


def _needed_nodes(roots, targets):
    """The nodes whose backward must run for gradients to reach ``targets``: those with a path to one.

    A depth-first walk lists the nodes in post-order (every node after all the nodes below it),
    so one pass over that list decides each node from its children.
    """
    visited, post = set(), []
    for root in roots:
        if root is None or root in visited:
            continue
        visited.add(root)
        stack = [(root, iter(root.next_functions))]
        while stack:
            node, children = stack[-1]
            for child, _ in children:
                if child is not None and child not in visited:
                    visited.add(child)
                    stack.append((child, iter(child.next_functions)))
                    break
            else:
                stack.pop()
                post.append(node)
    needed = set()
    for node in post:
        if any(c is not None and (c in targets or c in needed) for c, _ in node.next_functions):
            needed.add(node)
    return needed


def run_backward(roots, root_grads, retain_graph=False, create_graph=False, inputs=None, accumulate=True):
    """Backpropagate ``root_grads`` (Tensors) from ``roots`` (Tensors) through the graph.

    Leaves accumulate into ``.grad``. With ``inputs`` (tensors), the gradients reaching them are
    returned, and with ``accumulate`` they are also added into their ``.grad`` while every other
    leaf is left alone (``backward(inputs=...)``); without ``accumulate`` no ``.grad`` changes.
    """
    # 1. How many gradients will reach each node: one per edge from a reachable node.
    pending = {}
    stack = []
    root_nodes = [r._grad_node() for r in roots]
    for node in root_nodes:
        if node is None:
            raise RuntimeError("element 0 of tensors does not require grad and does not have a grad_fn")
        if node not in pending:
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

    capture = needed = targets = None
    if inputs is not None:
        capture = {}
        for i, t in enumerate(inputs):
            capture.setdefault((t._grad_node(), t._output_nr if t.grad_fn is not None else 0), []).append(i)
        captured = [None] * len(inputs)
        targets = {n for n, _ in capture}
        needed = _needed_nodes(root_nodes, targets)

    # 2. Seed the roots.
    arriving = {}
    for r, node, g in zip(roots, root_nodes, root_grads):
        slots = arriving.get(node)
        if slots is None:
            slots = arriving[node] = [None] * node._num_outputs
        k = r._output_nr if r.grad_fn is not None else 0
        slots[k] = g if slots[k] is None else _sum(slots[k], g, create_graph)
    ready = [n for n in arriving if pending[n] == 0]

    # 3. Run each node once all its gradients are in.
    observed = instruments.active
    # inf and NaN are results, as in PyTorch: no NumPy warnings from the backward's arithmetic
    with grad_mode.set_grad_enabled(create_graph), np.errstate(divide="ignore", over="ignore", invalid="ignore"):  # host: a flag
        while ready:
            node = ready.pop()
            grads = arriving.pop(node, None)
            edges = node.next_functions
            input_grads = None
            # a node has an entry in ``arriving`` only once a gradient (not None) has reached it
            if grads is not None and (needed is None or node in needed or node in targets):
                if node._hooked:
                    grads = _run_tensor_hooks(node, grads)
                if capture is not None:
                    for k, g in enumerate(grads):
                        for i in capture.get((node, k), ()):
                            captured[i] = g
                if isinstance(node, AccumulateGrad):
                    if grads[0] is not None and (capture is None or accumulate and (node, 0) in capture):
                        node.accumulate(grads[0], create_graph)
                elif needed is None or node in needed:
                    input_grads = _call(node, grads, create_graph, retain_graph, observed)
            if input_grads is None:
                input_grads = (None,) * len(edges)
            for (nxt, nr), g in zip(edges, input_grads):
                if nxt is None:
                    continue
                if g is not None:
                    slots = arriving.get(nxt)
                    if slots is None:
                        slots = arriving[nxt] = [None] * nxt._num_outputs
                    slots[nr] = g if slots[nr] is None else _sum(slots[nr], g, create_graph)
                pending[nxt] -= 1
                if pending[nxt] == 0:
                    ready.append(nxt)
    if capture is not None:
        if accumulate:
            for (node, k), positions in capture.items():
                if not isinstance(node, AccumulateGrad):
                    t = inputs[positions[0]]
                    g = captured[positions[0]]
                    if g is not None:
                        t.grad = (g if create_graph else g.detach().clone()) if t.grad is None else t.grad + g
        return captured
    return None


def _sum(a, b, create_graph):
    """Two gradients for the same tensor, added: recorded under create_graph, else plain arrays."""
    if create_graph:
        return a + b
    return Tensor._from_op(a.array + b.array, None)


def _call(node, grads, create_graph, retain_graph, observed):
    """Run one node's backward: zeros for missing output grads, the backward, checks, hooks."""
    if node._released:
        node.saved_tensors  # noqa: B018  raises "backward through the graph a second time"
    if node._num_outputs > 1 and node._materialize and any(g is None for g in grads):  # one output: it arrived
        for k, meta in enumerate(node._output_meta):
            if grads[k] is None and meta is not None:
                grads[k] = _zeros(grads, meta)
    if observed:
        from .anomaly_mode import backward_observed
        input_grads = backward_observed(node, grads, create_graph)
    else:
        input_grads = node._run_backward(grads, create_graph)
    metas = node._input_meta
    checked = list(input_grads)
    if len(checked) < len(metas):   # a fast route may leave out trailing inputs that need no gradient
        checked += [None] * (len(metas) - len(checked))
    for i, g in enumerate(checked):
        if g is None:
            continue
        if not isinstance(g, Tensor):
            raise RuntimeError(f"Function {node.name()} returned a {type(g).__name__} as the gradient at "
                               f"index {i}: expected a Tensor or None")
        meta = metas[i]
        if meta is None:
            checked[i] = None  # that input needs no gradient
            continue
        a = g.array
        if a.shape != meta[0] or a.dtype != meta[1] or type(a) is not meta[2]:
            checked[i] = _validate(node, i, g, meta)
    post = node.__dict__.get("_post_hooks") if node._hooked else None
    if post:
        for hook in post:
            result = hook(tuple(checked), tuple(grads))
            if result is not None:
                if len(result) != len(checked):
                    raise RuntimeError(f"hook '{getattr(hook, '__name__', hook)}' has returned an incorrect number "
                                       f"of values (got {len(result)}, but expected {len(checked)})")
                checked = list(result)
    if not retain_graph:
        node._release()
    return checked


def _zeros(grads, meta):
    like = next(g for g in grads if g is not None)
    return Tensor._from_op(get_array_module(like.array).zeros(meta[0], dtype=meta[1]), None)


# --------------------------------------------------------------------------------------------
# The two entry points: torch.autograd.backward and torch.autograd.grad.

def _as_list(x):
    if x is None:
        return None
    return [x] if isinstance(x, Tensor) else list(x)


def _root_grads(outputs, grad_outputs, what):
    """The gradient each output starts with: the given one, or 1 for a one-element output."""
    grads = []
    for i, out in enumerate(outputs):
        g = grad_outputs[i] if grad_outputs is not None and i < len(grad_outputs) else None
        if g is None:
            if out.array.size != 1:
                raise RuntimeError(f"grad can be implicitly created only for scalar outputs: output {i} has "
                                   f"shape {tuple(out.shape)}; pass {what}= with a gradient of that shape")
            if out.array.dtype.kind != "f":
                raise RuntimeError(f"grad can be implicitly created only for real scalar outputs but got "
                                   f"{out.dtype}")
            # ones, whatever the output's value: a NaN or infinite loss still seeds 1 (not out*0+1)
            grads.append(Tensor._from_op(get_array_module(out.array).ones(out.array.shape, out.array.dtype), None))
            continue
        if not isinstance(g, Tensor):
            g = Tensor(to_device(g, out.device) if hasattr(g, "shape") else get_array_module(out.array).asarray(
                g, dtype=out.array.dtype))
        if tuple(g.shape) != tuple(out.shape):
            raise RuntimeError(f"Mismatch in shape: {what}[{i}] has a shape of {tuple(g.shape)} and output[{i}] "
                               f"has a shape of {tuple(out.shape)}.")
        if g.array.dtype != out.array.dtype:
            g = g.to(out.array.dtype)
        grads.append(g)
    return grads


def backward(tensors, grad_tensors=None, retain_graph=None, create_graph=False, inputs=None):
    """Accumulate into the leaves' ``.grad`` the gradients of ``tensors`` (``torch.autograd.backward``).

    ``retain_graph`` defaults to ``create_graph``. ``inputs``: only these tensors' ``.grad`` change.
    """
    tensors = _as_list(tensors)
    grad_tensors = _as_list(grad_tensors)
    if retain_graph is None:
        retain_graph = create_graph
    if inputs is not None:
        inputs = _as_list(inputs)
        if not inputs:
            raise RuntimeError("'inputs' argument to backward() cannot be empty.")
        for t in inputs:
            if not t.requires_grad:
                raise RuntimeError("One of the differentiated Tensors does not require grad")
    run_backward(tensors, _root_grads(tensors, grad_tensors, "grad_tensors"), retain_graph=bool(retain_graph),
                 create_graph=bool(create_graph), inputs=inputs, accumulate=True)


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False, only_inputs=True,
         allow_unused=None, is_grads_batched=False, materialize_grads=False):
    """The gradients of ``outputs`` with respect to ``inputs``, returned (``torch.autograd.grad``).

    No ``.grad`` changes. ``retain_graph`` defaults to ``create_graph``. An input that the outputs
    do not depend on raises, unless ``allow_unused=True`` (then None, or zeros with
    ``materialize_grads=True``, which implies ``allow_unused``).
    """
    if is_grads_batched:
        raise NotImplementedError("autograd.grad: is_grads_batched=True (vmap over grad_outputs) is not "
                                  "supported; loop over the rows of grad_outputs instead")
    if materialize_grads and allow_unused is False:
        raise ValueError("Expected allow_unused to be True or not passed when materialize_grads=True, "
                         "but got: allow_unused=False.")
    allow_unused = materialize_grads if allow_unused is None else allow_unused
    single = isinstance(inputs, Tensor)
    outputs = _as_list(outputs)
    inputs = _as_list(inputs)
    grad_outputs = _as_list(grad_outputs)
    if retain_graph is None:
        retain_graph = create_graph
    for t in inputs:
        if not isinstance(t, Tensor):
            raise TypeError(f"autograd.grad: inputs must be Tensors, got {type(t).__name__}")
        if not t.requires_grad:
            raise RuntimeError("One of the differentiated Tensors does not require grad")
    got = run_backward(outputs, _root_grads(outputs, grad_outputs, "grad_outputs"),
                       retain_graph=bool(retain_graph), create_graph=bool(create_graph), inputs=inputs,
                       accumulate=False)
    result = []
    for i, g in enumerate(got):
        if g is None:
            if not allow_unused:
                raise RuntimeError(f"One of the differentiated Tensors appears to not have been used in the "
                                   f"graph (input {i}). Set allow_unused=True if this is the desired behavior.")
            if materialize_grads:
                g = inputs[i].detach().new_zeros(inputs[i].shape)
        elif not create_graph:
            g = g.detach()
        result.append(g)
    return tuple(result)
