"""Weights in and out: PyTorch state_dicts, and checkpoints as safetensors files.

PyTorch (imported only inside the functions that need it; the engine itself never needs torch):

* :func:`to_torch_state_dict` -- our module or state_dict as an OrderedDict of torch tensors;
* :func:`from_torch_state_dict` -- a torch state_dict as an OrderedDict of our Tensors;
* :func:`load_torch_state_dict` -- copy a ``torch.nn.Module``'s (or a torch state_dict's) weights
  into our module, key by key;
* :func:`copy_to_torch` -- copy our module's weights into a ``torch.nn.Module``.

Both copies check every key and every shape before they change anything (PyTorch's own
``load_state_dict`` copies the tensors that fit before it reports the ones that do not). Parameter
names are PyTorch's (``fc1.weight``, ``conv1.bias``), so the same architecture built in both
engines exchanges weights directly. Values are copied, never shared between the two engines.

Checkpoints: :func:`save`, :func:`load` and :func:`load_metadata` live in
:mod:`tinygrad_mnist.checkpoint` and are re-exported here (safetensors files, never pickle:
loading one runs no code). A file written there loads with ``safetensors.torch.load_file`` into
the same PyTorch architecture, and a file PyTorch writes with ``safetensors.torch.save_file``
loads there. A PyTorch ``.pt`` file is converted once with ``python -m tinygrad_mnist convert``
(:mod:`tinygrad_mnist.convert`).
"""
from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping

import numpy as np

from . import dtypes
from .backend import get_array_module
from .checkpoint import load, load_metadata, save
from .tensor import Tensor, _is_ndarray

__all__ = ["save", "load", "load_metadata", "to_torch_state_dict", "from_torch_state_dict",
           "load_torch_state_dict", "copy_to_torch"]

_SUPPORTED = ", ".join(d.name for d in dtypes._ALL)


def _import_torch():
    try:
        import torch
    except ImportError as exc:
        raise ImportError("this function exchanges weights with PyTorch, which is not installed: "
                          "pip install torch") from exc
    return torch


def _state_dict_of(obj, what):
    """``obj.state_dict()`` for a module, ``obj`` itself for a mapping."""
    if isinstance(obj, Mapping):
        return obj
    if callable(getattr(obj, "state_dict", None)):
        return obj.state_dict()
    raise TypeError(f"{what}: expected a module or a state_dict (a mapping name -> tensor), "
                    f"got {type(obj).__name__}")


def _array_of(name, value, what):
    """The ndarray behind a state_dict value (a Tensor or a NumPy/CuPy array), checked."""
    if isinstance(value, Tensor):
        array = value.array
    elif _is_ndarray(value):
        array = value
    else:
        raise TypeError(f"{what}: the value of {name!r} is a {type(value).__name__}, not a Tensor "
                        f"(a state_dict maps names to tensors)")
    try:
        dtypes.from_numpy_dtype(array.dtype)
    except TypeError:
        raise TypeError(f"{what}: {name!r} has dtype {array.dtype}, which tinygrad_mnist does not "
                        f"support ({_SUPPORTED})") from None
    return array


# ---------------------------------------------------------------------- PyTorch state_dicts
def _torch_tensor(torch, array):
    """A torch tensor holding a copy of ``array`` (on the GPU for a CuPy array)."""
    if get_array_module(array) is not np:
        return torch.from_dlpack(get_array_module(array).ascontiguousarray(array)).clone()
    return torch.from_numpy(np.array(array, copy=True, order="C"))


def to_torch_state_dict(module_or_state_dict):
    """Our module's state_dict (or a state_dict) as an OrderedDict name -> ``torch.Tensor``.

    The tensors are copies, on the CPU for CPU tensors and on CUDA for CuPy ones.
    """
    torch = _import_torch()
    state = _state_dict_of(module_or_state_dict, "to_torch_state_dict")
    arrays = [(name, _array_of(name, value, "to_torch_state_dict")) for name, value in state.items()]
    return OrderedDict((name, _torch_tensor(torch, array)) for name, array in arrays)


def from_torch_state_dict(torch_module_or_state_dict):
    """A ``torch.nn.Module``'s state_dict (or a torch state_dict) as an OrderedDict of our CPU Tensors (copies)."""
    torch = _import_torch()
    state = _state_dict_of(torch_module_or_state_dict, "from_torch_state_dict")
    out = OrderedDict()
    for name, value in state.items():
        if not isinstance(value, torch.Tensor):
            raise TypeError(f"from_torch_state_dict: the value of {name!r} is a {type(value).__name__}, "
                            f"not a torch.Tensor")
        value = value.detach().cpu().resolve_conj().resolve_neg()
        try:
            array = value.numpy()
            dtypes.from_numpy_dtype(array.dtype)
        except TypeError:
            raise TypeError(f"from_torch_state_dict: {name!r} has dtype {value.dtype}, which tinygrad_mnist "
                            f"does not support ({_SUPPORTED}); convert it first, e.g. with .float()") from None
        out[name] = Tensor(np.array(array, copy=True, order="C"))
    return out


def load_torch_state_dict(module, torch_module_or_state_dict, strict=True):
    """Copy the weights of a ``torch.nn.Module`` (or of a torch state_dict) into our ``module``.

    Keys are matched by name. Every value is converted, and every key and shape checked, before
    any weight changes (``module.load_state_dict`` validates everything first): a missing or
    unexpected key (when ``strict``) or a shape mismatch (always) raises a RuntimeError listing
    all of them, in PyTorch's words, and leaves ``module`` as it was. Values are cast to each
    parameter's dtype and moved to its device. Returns ``(missing_keys, unexpected_keys)``.
    """
    state = from_torch_state_dict(torch_module_or_state_dict)
    return module.load_state_dict(state, strict=strict)


def _compatibility_errors(target_shapes, source_shapes, strict):
    """PyTorch's load_state_dict messages for ``source`` going into ``target`` ({name: shape})."""
    errors = []
    if strict:
        missing = [k for k in target_shapes if k not in source_shapes]
        unexpected = [k for k in source_shapes if k not in target_shapes]
        if missing:
            errors.append("Missing key(s) in state_dict: {}. ".format(", ".join(f'"{k}"' for k in missing)))
        if unexpected:
            errors.append("Unexpected key(s) in state_dict: {}. ".format(", ".join(f'"{k}"' for k in unexpected)))
    for key, shape in source_shapes.items():
        if key not in target_shapes:
            continue
        target = target_shapes[key]
        if shape != target and not (target == () and shape == (1,)):
            errors.append(f"size mismatch for {key}: copying a param with shape {shape} from checkpoint, "
                          f"the shape in current model is {target}.")
    return errors


def copy_to_torch(module, torch_module, strict=True):
    """Copy the weights of our ``module`` (or of our state_dict) into a ``torch.nn.Module``, by key.

    The same checks as :func:`load_torch_state_dict`, all made before ``torch_module`` changes.
    Values are cast to the torch parameters' dtypes and devices. Returns what
    ``torch_module.load_state_dict`` returns.
    """
    torch = _import_torch()
    if not isinstance(torch_module, torch.nn.Module):
        raise TypeError(f"copy_to_torch: expected a torch.nn.Module, got {type(torch_module).__name__}")
    state = to_torch_state_dict(module)
    target_shapes = {k: tuple(v.shape) for k, v in torch_module.state_dict().items()
                     if isinstance(v, torch.Tensor)}
    errors = _compatibility_errors(target_shapes, {k: tuple(v.shape) for k, v in state.items()}, strict)
    if errors:
        raise RuntimeError("Error(s) in loading state_dict for {}:\n\t{}".format(
            type(torch_module).__name__, "\n\t".join(errors)))
    with torch.no_grad():
        return torch_module.load_state_dict(state, strict=strict)
