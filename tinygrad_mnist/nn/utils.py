"""``torch.nn.utils``: gradient clipping and flattening parameters into one vector.

They work on the gradients' and parameters' arrays, outside the graph (as PyTorch's run under
``no_grad``), in place.
"""
from __future__ import annotations

from ..autograd import no_grad
from ..backend import get_array_module
from ..functions import cat, stack
from ..tensor import Tensor

__all__ = ["clip_grad_norm_", "clip_grad_norm", "clip_grad_value_", "get_total_norm", "clip_grads_with_norm_",
           "parameters_to_vector", "vector_to_parameters"]


def _tensors(parameters):
    return [parameters] if isinstance(parameters, Tensor) else list(parameters)


def _vector_norm(array, norm_type):
    xp = get_array_module(array)
    a = xp.abs(array)
    if norm_type == float("inf"):
        return a.max() if a.size else xp.zeros((), array.dtype)
    if norm_type == float("-inf"):
        return a.min()
    if norm_type == 0:
        return (a != 0).sum().astype(array.dtype)
    if norm_type == 1:
        return a.sum()
    if norm_type == 2:
        return xp.sqrt((a * a).sum())
    return (a ** norm_type).sum() ** (1.0 / norm_type)


def get_total_norm(tensors, norm_type=2.0, error_if_nonfinite=False, foreach=None):
    """The ``norm_type``-norm of all the tensors together (the norm of their norms), a 0-d tensor."""
    tensors = [t for t in _tensors(tensors) if t is not None]
    norm_type = float(norm_type)
    if not tensors:
        return Tensor(get_array_module("cpu").zeros((), "float32"))
    with no_grad():
        norms = [Tensor(_vector_norm(t.array, norm_type)) for t in tensors]
        stacked = stack([n.to(norms[0].dtype) for n in norms])
        total = Tensor(_vector_norm(stacked.array, norm_type))
    if error_if_nonfinite and not bool(get_array_module(total.array).isfinite(total.array)):
        raise RuntimeError(f"The total norm of order {norm_type} for gradients from `parameters` is non-finite, "
                           f"so it cannot be clipped. To disable this error and scale the gradients by the "
                           f"non-finite norm anyway, set `error_if_nonfinite=False`")
    return total


def clip_grads_with_norm_(parameters, max_norm, total_norm, foreach=None):
    """Scale every gradient by min(1, max_norm / (total_norm + 1e-6)), in place."""
    grads = [p.grad for p in _tensors(parameters) if p.grad is not None]
    if not grads:
        return
    coef = float(max_norm) / (total_norm.array + 1e-6)
    xp = get_array_module(coef)
    coef = xp.minimum(coef, 1.0)
    for g in grads:
        g.array *= coef.astype(g.array.dtype)
        g._bump_version()


def clip_grad_norm_(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False, foreach=None):
    """Scale the gradients so that their total ``norm_type``-norm is at most ``max_norm``
    (by max_norm / (total + 1e-6) when it is larger); returns the total norm before clipping."""
    parameters = _tensors(parameters)
    grads = [p.grad for p in parameters if p.grad is not None]
    if not grads:
        return Tensor(get_array_module("cpu").zeros((), "float32"))
    total = get_total_norm(grads, norm_type, error_if_nonfinite)
    clip_grads_with_norm_(parameters, max_norm, total)
    return total


def clip_grad_norm(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False, foreach=None):
    """The deprecated name of ``clip_grad_norm_`` (with PyTorch's warning)."""
    import warnings
    warnings.warn("`torch.nn.utils.clip_grad_norm` is now deprecated in favor of `torch.nn.utils.clip_grad_norm_`.",
                  FutureWarning, stacklevel=2)
    return clip_grad_norm_(parameters, max_norm, norm_type, error_if_nonfinite, foreach)


def clip_grad_value_(parameters, clip_value, foreach=None):
    """Clamp every gradient to [-clip_value, clip_value], in place."""
    clip_value = float(clip_value)
    for p in _tensors(parameters):
        if p.grad is not None:
            xp = get_array_module(p.grad.array)
            xp.clip(p.grad.array, -clip_value, clip_value, out=p.grad.array)
            p.grad._bump_version()


def parameters_to_vector(parameters):
    """All parameters flattened and concatenated into one 1-D tensor (differentiable, as PyTorch)."""
    params = _tensors(parameters)
    for p in params:
        if not isinstance(p, Tensor):
            raise TypeError(f"expected torch.Tensor, but got: {type(p).__name__}")
    return cat([p.reshape(-1) for p in params])


def vector_to_parameters(vec, parameters):
    """Put consecutive slices of the 1-D ``vec`` into the parameters' data (views of vec, as PyTorch)."""
    if not isinstance(vec, Tensor):
        raise TypeError(f"expected torch.Tensor, but got: {type(vec).__name__}")
    pointer = 0
    for p in _tensors(parameters):
        n = p.numel()
        p.data = vec.detach()[pointer:pointer + n].reshape(tuple(p.shape))
        pointer += n
