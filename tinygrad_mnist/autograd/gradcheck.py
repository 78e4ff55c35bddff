"""Finite-difference checks of backprop: ``gradcheck`` (first derivatives) and ``gradgradcheck``
(second derivatives), as ``torch.autograd.gradcheck`` / ``gradgradcheck``.

Both compare two Jacobians in float64: the analytical one, a row per output element, from one
backward pass with a one-hot upstream gradient each; and the numerical one, a column per input
element, from central differences ``(f(x + eps) - f(x - eps)) / 2 eps``. ``gradgradcheck`` applies
the same test to the function that computes the first derivatives with ``create_graph=True``.
"""
from __future__ import annotations

import numpy as np

from ..backend import to_numpy
from ..tensor import Tensor
from .engine import grad
from .grad_mode import no_grad

__all__ = ["gradcheck", "gradgradcheck", "GradcheckError"]


class GradcheckError(AssertionError):
    """Raised when analytical and numerical gradients disagree (a RuntimeError in PyTorch's naming:
    it subclasses AssertionError so test runners report it as a failed check)."""


def _as_tuple(x):
    return tuple(x) if isinstance(x, (tuple, list)) else (x,)


def _outputs(fn, inputs):
    return [o for o in _as_tuple(fn(*inputs)) if isinstance(o, Tensor)]


def _flat(outputs):
    with no_grad():
        return np.concatenate([to_numpy(o.array).astype(np.float64).ravel() for o in outputs]) \
            if outputs else np.zeros(0)


def _numerical(fn, inputs, diff, eps):
    """One column per element of each differentiable input, by perturbing that element in place.

    Elements are addressed by their N-d index, so an input of any memory layout (a transpose, a
    convolution's strided output) is perturbed where it lives, not in a reshaped copy.
    """
    base = _flat(_outputs(fn, inputs))
    columns = []
    for t in diff:
        if not t.array.flags.writeable:
            raise GradcheckError(f"gradcheck: an input of shape {tuple(t.shape)} is a read-only view (a "
                                 f"broadcast or expand); pass a copy (.clone()) so it can be perturbed")
        cols = np.zeros((base.size, t.array.size))
        for j, index in enumerate(np.ndindex(*t.array.shape)):
            orig = t.array[index].item()
            t.array[index] = orig + eps
            plus = _flat(_outputs(fn, inputs))
            t.array[index] = orig - eps
            minus = _flat(_outputs(fn, inputs))
            t.array[index] = orig
            cols[:, j] = (plus - minus) / (2 * eps)
        columns.append(cols)
    return base.size, columns


def _analytical(fn, inputs, diff, n_out):
    """One row per output element: the vector-Jacobian product with a one-hot upstream gradient."""
    rows = [np.zeros((n_out, t.array.size)) for t in diff]
    outs = _outputs(fn, inputs)
    row = 0
    for o in outs:
        for k in range(o.array.size):
            seed = o.array.copy()
            seed[...] = 0
            seed.reshape(-1)[k] = 1
            if not o.requires_grad:
                row += 1
                continue
            got = grad([o], diff, grad_outputs=[Tensor(seed)], retain_graph=True, allow_unused=True)
            for a, g in zip(rows, got):
                if g is not None:
                    a[row] = to_numpy(g.array).astype(np.float64).reshape(-1)
            row += 1
    return rows


def gradcheck(func, inputs, *, eps=1e-6, atol=1e-5, rtol=1e-3, raise_exception=True, nondet_tol=0.0,
              check_undefined_grad=True, check_grad_dtypes=False, check_batched_grad=False,
              check_batched_forward_grad=False, check_forward_ad=False, check_backward_ad=True,
              fast_mode=False, masked=None):
    """Compare backprop's gradients of ``func(*inputs)`` with central finite differences.

    Differentiable inputs (tensors that require grad) must be float64. Returns True, or raises
    :class:`GradcheckError` naming the input, the output and input elements and both values
    (returns False instead with ``raise_exception=False``). PyTorch's other keyword arguments are
    accepted; forward-mode and batched checks are not implemented and say so.
    """
    if check_forward_ad or check_batched_grad or check_batched_forward_grad:
        raise NotImplementedError("gradcheck: forward-mode AD and batched (vmap) checks are not implemented "
                                  "here; leave check_forward_ad / check_batched_grad False")
    inputs = _as_tuple(inputs)
    diff = [t for t in inputs if isinstance(t, Tensor) and t.requires_grad]
    if not diff:
        raise ValueError("gradcheck expects at least one input tensor to require gradient, but none of "
                         "them have requires_grad=True.")
    for t in diff:
        if t.array.dtype != np.float64:
            raise GradcheckError(f"gradcheck: inputs must be float64, got {t.dtype} for an input of shape "
                                 f"{tuple(t.shape)} (finite differences in float32 cannot tell a right "
                                 f"gradient from a wrong one)")
    n_out, numerical = _numerical(func, inputs, diff, eps)
    analytical = _analytical(func, inputs, diff, n_out) if check_backward_ad else numerical
    for i, (a, n) in enumerate(zip(analytical, numerical)):
        bad = ~np.isclose(a, n, rtol=rtol, atol=atol)
        if bad.any():
            r, c = np.argwhere(bad)[0]
            msg = (f"gradcheck: Jacobian mismatch for differentiable input {i} (shape {tuple(diff[i].shape)}) "
                   f"at output element {r}, input element {c}: analytical {a[r, c]!r} vs numerical "
                   f"{n[r, c]!r} ({int(bad.sum())} of {bad.size} entries differ; atol={atol}, rtol={rtol})")
            if raise_exception:
                raise GradcheckError(msg)
            return False
    return True


def gradgradcheck(func, inputs, grad_outputs=None, *, eps=1e-6, atol=1e-5, rtol=1e-3,
                  gen_non_contig_grad_outputs=False, raise_exception=True, nondet_tol=0.0,
                  check_undefined_grad=True, check_grad_dtypes=False, check_batched_grad=False,
                  check_fwd_over_rev=False, check_rev_over_rev=True, fast_mode=False, masked=None, seed=0):
    """Check second derivatives: ``gradcheck`` of the map (inputs, v) -> v^T J(inputs).

    ``grad_outputs`` (the vectors v, one per output) are random float64 tensors drawn from
    ``seed`` when not given; they are differentiated too, as in PyTorch.
    """
    from ..backend import get_array_module
    inputs = _as_tuple(inputs)
    outs = _outputs(func, inputs)
    if grad_outputs is None:
        rng = np.random.default_rng(seed)
        grad_outputs = []
        for o in outs:
            xp = get_array_module(o.array)
            v = xp.asarray(rng.standard_normal(o.shape))
            if gen_non_contig_grad_outputs and v.ndim:
                v = xp.asfortranarray(v)
            grad_outputs.append(Tensor(v, requires_grad=True))
    grad_outputs = list(_as_tuple(grad_outputs))
    n_in = len(inputs)
    diff_positions = [i for i, t in enumerate(inputs) if isinstance(t, Tensor) and t.requires_grad]

    def first_derivatives(*args):
        xs, vs = args[:n_in], args[n_in:]
        ys = [o for o in _outputs(func, xs)]
        pairs = [(y, v) for y, v in zip(ys, vs) if y.requires_grad]
        gs = grad([y for y, _ in pairs], [xs[i] for i in diff_positions], grad_outputs=[v for _, v in pairs],
                  create_graph=True, allow_unused=True)
        return tuple(g for g in gs if g is not None)

    return gradcheck(first_derivatives, inputs + tuple(grad_outputs), eps=eps, atol=atol, rtol=rtol,
                     raise_exception=raise_exception)
