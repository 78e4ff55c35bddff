"""Derivatives of whole functions: ``vjp``, ``jvp``, ``jacobian``, ``hessian``, ``hvp``, ``vhp``,
with the signatures of ``torch.autograd.functional``.

``func`` takes a tensor or a tuple of tensors and returns a tensor or a tuple of tensors; results
come back in the same shape (a tuple where the argument was one). Everything here is reverse mode
built on ``autograd.grad``:

* ``vjp``: one backward pass, ``v^T J``.
* ``jvp``: ``J v`` by the double-vjp construction: ``g(u) = u^T J`` is linear in ``u``, so
  ``J v = d/du <g(u), v>``, a backward pass through the first one (``create_graph``). It costs
  two reverse passes where forward mode would cost one; the values are the same.
* ``jacobian``: one vjp per output element, with a one-hot ``v``.
* ``hessian``: the Jacobian of the gradient.
* ``vhp``: ``v^T H``, the gradient of ``<grad f, v>``; ``hvp``: ``H v``, by the double-vjp
  construction on the gradient (for the usual twice-differentiable f, H is symmetric and the two
  agree).

``create_graph=True`` keeps the results differentiable; otherwise they are detached.
``strict=True`` raises when an output does not depend on an input (where the result would be
zeros), as PyTorch does.
"""
from __future__ import annotations

from ..tensor import Tensor
from .engine import grad as _grad
from .grad_mode import enable_grad

__all__ = ["vjp", "jvp", "jacobian", "hessian", "hvp", "vhp"]


def _as_tuple(x, arg, fn):
    if isinstance(x, Tensor):
        return False, (x,)
    if not isinstance(x, (tuple, list)) or not all(isinstance(t, Tensor) for t in x):
        raise TypeError(f"The {arg} given to {fn} must be either a Tensor or a tuple of Tensors but the value "
                        f"got is of type {type(x).__name__}.")
    return True, tuple(x)


def _prepare(inputs, create_graph):
    """Inputs the function is differentiated at: new leaves, or (create_graph) views that keep the graph."""
    return tuple(t.view_as(t) if create_graph and t.requires_grad else t.detach().requires_grad_(True)
                 for t in inputs)


def _finish(values, create_graph):
    return tuple(None if v is None else (v if create_graph else v.detach()) for v in values)


def _fill(grads, like, strict, fn, what):
    """Zeros where an input got no gradient (or the error strict mode asks for)."""
    out = []
    for i, (g, t) in enumerate(zip(grads, like)):
        if g is None:
            if strict:
                raise RuntimeError(f"The {what} of the user-provided function is independent of input {i}. "
                                   f"This is not allowed in strict mode.")
            g = t.detach().new_zeros(t.shape)
        out.append(g)
    return tuple(out)


def _check_v(v, like, fn):
    for i, (a, b) in enumerate(zip(v, like)):
        if tuple(a.shape) != tuple(b.shape):
            raise RuntimeError(f"Mismatch in shape in {fn}: entry {i} of v has shape {tuple(a.shape)}, "
                               f"which should be {tuple(b.shape)}")


def _default_v(outs, fn, what):
    if any(o.numel() != 1 for o in outs):
        raise RuntimeError(f"The vector v can only be None if the {what} of the user-provided function is a "
                           f"single Tensor with a single element.")
    return tuple(o.detach().new_ones(o.shape) for o in outs)


def _grads(outputs, inputs, grad_outputs, create_graph):
    outputs = [o for o in outputs]
    pairs = [(o, g) for o, g in zip(outputs, grad_outputs) if o.requires_grad]
    if not pairs:
        return (None,) * len(inputs)
    return _grad([o for o, _ in pairs], list(inputs), [g for _, g in pairs], create_graph=True, allow_unused=True) \
        if create_graph else _grad([o for o, _ in pairs], list(inputs), [g for _, g in pairs], retain_graph=True,
                                   allow_unused=True)


def vjp(func, inputs, v=None, create_graph=False, strict=False):
    """``(func(inputs), v^T J)``: the vector-Jacobian product, one backward pass."""
    tuple_in, inputs = _as_tuple(inputs, "inputs", "vjp")
    with enable_grad():
        xs = _prepare(inputs, create_graph)
        tuple_out, outs = _as_tuple(func(*xs), "outputs of the user-provided function", "vjp")
        if v is None:
            vs = _default_v(outs, "vjp", "output")
        else:
            vs = _as_tuple(v, "v", "vjp")[1]
            _check_v(vs, outs, "vjp")
        result = _fill(_grads(outs, xs, vs, create_graph), xs, strict, "vjp", "output")
    outs, result = _finish(outs, create_graph), _finish(result, create_graph)
    return (outs if tuple_out else outs[0]), (result if tuple_in else result[0])


def jvp(func, inputs, v=None, create_graph=False, strict=False):
    """``(func(inputs), J v)``: the Jacobian-vector product, by the double-vjp construction."""
    tuple_in, inputs = _as_tuple(inputs, "inputs", "jvp")
    if v is None:
        if any(t.numel() != 1 for t in inputs):
            raise RuntimeError("The vector v can only be None if the input to the user-provided function is a "
                               "single Tensor with a single element.")
        vs = tuple(t.detach().new_ones(t.shape) for t in inputs)
    else:
        vs = _as_tuple(v, "v", "jvp")[1]
        _check_v(vs, inputs, "jvp")
    with enable_grad():
        xs = _prepare(inputs, create_graph)
        tuple_out, outs = _as_tuple(func(*xs), "outputs of the user-provided function", "jvp")
        # g(u) = u^T J is linear in u: J v = d <g(u), v> / du, for any u (zeros, that require grad)
        us = tuple(o.detach().new_zeros(o.shape).requires_grad_(True) for o in outs)
        first = _grad([o for o in outs if o.requires_grad], list(xs),
                      [u for o, u in zip(outs, us) if o.requires_grad], create_graph=True, allow_unused=True) \
            if any(o.requires_grad for o in outs) else (None,) * len(xs)
        terms = [(g * w).sum() for g, w in zip(first, vs) if g is not None and g.requires_grad]
        if terms:
            total = terms[0]
            for t in terms[1:]:
                total = total + t
            got = _grad(total, list(us), create_graph=create_graph, allow_unused=True)
        else:
            got = (None,) * len(us)
        result = _fill(got, outs, strict, "jvp", "output")
    outs, result = _finish(outs, create_graph), _finish(result, create_graph)
    return (outs if tuple_out else outs[0]), (result if tuple_out else result[0])


def jacobian(func, inputs, create_graph=False, strict=False, vectorize=False, strategy="reverse-mode"):
    """The Jacobian of ``func`` at ``inputs``: for each output i and input j, a tensor of shape
    ``output_i.shape + input_j.shape`` (nested tuples as PyTorch, by how many there are of each).

    ``vectorize`` is accepted and changes nothing (it is a speed option); only reverse mode exists.
    """
    if strategy != "reverse-mode":
        raise NotImplementedError("jacobian: only strategy='reverse-mode' is available here")
    tuple_in, inputs = _as_tuple(inputs, "inputs", "jacobian")
    with enable_grad():
        xs = _prepare(inputs, create_graph)
        tuple_out, outs = _as_tuple(func(*xs), "outputs of the user-provided function", "jacobian")
        rows = []
        for i, out in enumerate(outs):
            flat_rows = [[] for _ in xs]
            for k in range(out.numel()):
                seed = out.detach().new_zeros(out.numel())
                seed.array[k] = 1
                gs = _grads([out], xs, [seed.reshape(out.shape)], create_graph) if out.requires_grad else (None,) * len(xs)
                for j, (g, x) in enumerate(zip(gs, xs)):
                    if g is None:
                        if strict:
                            raise RuntimeError(f"Output {i} of the user-provided function is independent of input "
                                               f"{j}. This is not allowed in strict mode.")
                        g = x.detach().new_zeros(x.shape)
                    flat_rows[j].append(g if create_graph else g.detach())
            from ..functions import stack
            row = tuple((stack(r) if r else xs[j].detach().new_zeros((0,) + tuple(xs[j].shape)))
                        .reshape(tuple(out.shape) + tuple(xs[j].shape)) for j, r in enumerate(flat_rows))
            rows.append(row)
    if tuple_out:
        return tuple(r if tuple_in else r[0] for r in rows)
    return rows[0] if tuple_in else rows[0][0]


def hessian(func, inputs, create_graph=False, strict=False, vectorize=False, outer_jacobian_strategy="reverse-mode"):
    """The Hessian of a scalar ``func``: for inputs i and j, a tensor of shape ``input_i.shape + input_j.shape``."""
    tuple_in, inputs = _as_tuple(inputs, "inputs", "hessian")

    def gradient(*xs):
        out = func(*xs)
        if not isinstance(out, Tensor) or out.numel() != 1:
            raise RuntimeError("The Tensor returned by the function given to hessian should contain a single element")
        gs = _grad(out.reshape(()), list(xs), create_graph=True, allow_unused=True)
        return tuple(_fill(gs, xs, strict, "hessian", "output"))

    result = jacobian(gradient, inputs, create_graph=create_graph, strict=strict)
    return result if tuple_in else result[0][0]


def vhp(func, inputs, v=None, create_graph=False, strict=False):
    """``(func(inputs), v^T H)`` for a scalar ``func``: the gradient of <grad func, v>."""
    tuple_in, inputs = _as_tuple(inputs, "inputs", "vhp")
    vs = _hessian_vector(v, inputs, "vhp")
    with enable_grad():
        xs = _prepare(inputs, create_graph)
        out = _scalar_output(func(*xs), "vhp")
        gs = _fill(_grad(out, list(xs), create_graph=True, allow_unused=True), xs, strict, "vhp", "output")
        terms = [(g * w).sum() for g, w in zip(gs, vs) if g.requires_grad]
        got = _grad(_total(terms), list(xs), create_graph=create_graph, allow_unused=True) if terms else (None,) * len(xs)
        result = _fill(got, xs, strict, "vhp", "backward")
    result = _finish(result, create_graph)
    return (out if create_graph else out.detach()), (result if tuple_in else result[0])


def hvp(func, inputs, v=None, create_graph=False, strict=False):
    """``(func(inputs), H v)`` for a scalar ``func``, by the double-vjp construction on the gradient."""
    tuple_in, inputs = _as_tuple(inputs, "inputs", "hvp")
    vs = _hessian_vector(v, inputs, "hvp")
    with enable_grad():
        xs = _prepare(inputs, create_graph)
        out = _scalar_output(func(*xs), "hvp")
        gs = _fill(_grad(out, list(xs), create_graph=True, allow_unused=True), xs, strict, "hvp", "output")
        # u^T H is the gradient of <grad f, u>; H v = d <u^T H, v> / du
        us = tuple(x.detach().new_zeros(x.shape).requires_grad_(True) for x in xs)
        terms = [(g * u).sum() for g, u in zip(gs, us) if g.requires_grad]
        if terms:
            u_h = _grad(_total(terms), list(xs), create_graph=True, allow_unused=True)
            inner = [(a * w).sum() for a, w in zip(u_h, vs) if a is not None and a.requires_grad]
            got = _grad(_total(inner), list(us), create_graph=create_graph, allow_unused=True) if inner \
                else (None,) * len(us)
        else:
            got = (None,) * len(xs)
        result = _fill(got, xs, strict, "hvp", "backward")
    result = _finish(result, create_graph)
    return (out if create_graph else out.detach()), (result if tuple_in else result[0])


def _hessian_vector(v, inputs, fn):
    if v is None:
        if any(t.numel() != 1 for t in inputs):
            raise RuntimeError("The vector v can only be None if the input to the user-provided function is a "
                               "single Tensor with a single element.")
        return tuple(t.detach().new_ones(t.shape) for t in inputs)
    vs = _as_tuple(v, "v", fn)[1]
    _check_v(vs, inputs, fn)
    return vs


def _scalar_output(out, fn):
    if not isinstance(out, Tensor) or out.numel() != 1:
        raise RuntimeError(f"The function given to {fn} should return a Tensor with a single element, got "
                           f"{tuple(out.shape) if isinstance(out, Tensor) else type(out).__name__}")
    return out.reshape(())


def _total(terms):
    total = terms[0]
    for t in terms[1:]:
        total = total + t
    return total
