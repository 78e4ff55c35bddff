"""Optimizer: the base class of SGD and Adam, laid out like ``torch.optim.Optimizer``.

An optimizer holds

* ``param_groups``: a list of dicts, each with ``"params"`` (a list of tensors) and every
  hyperparameter of the optimizer (the constructor's values fill in what a group leaves out);
* ``state``: a dict from parameter tensor to that parameter's own dict (momentum buffers, Adam's
  moments and step count), created lazily on the parameter's first step.

``step()`` updates every parameter whose ``.grad`` is not None, in place on its ``.array``, with
plain array calls (``xp`` is NumPy or CuPy, whichever holds the parameter): no graph is recorded,
nothing is copied to the host, and each update uses at most two temporary arrays.

Differences from PyTorch, all deliberate:

* hyperparameters are checked for every parameter group (PyTorch checks only the constructor's
  defaults, so ``{"params": ..., "lr": -1}`` slips through there);
* ``load_state_dict`` copies the loaded state (PyTorch may alias the tensors of the dict it was
  given), checks that each state array has its parameter's shape, and changes nothing when any
  check fails;
* there are no hooks, and no ``foreach``/``fused``/``capturable``/``differentiable`` options;
  learning rates and other hyperparameters are Python numbers, not tensors.
"""
from __future__ import annotations

import copy
import warnings
from collections import defaultdict

from ..autograd import enable_grad
from ..backend import get_array_module, to_device
from ..tensor import Tensor

__all__ = ["Optimizer", "required"]


class _RequiredParameter:
    """Marks a hyperparameter that has no default: every parameter group must give one."""

    def __repr__(self):
        return "<required parameter>"


required = _RequiredParameter()


def _typename(obj):
    return type(obj).__module__ + "." + type(obj).__qualname__


class Optimizer:
    """Base class: keeps the parameter groups and the per-parameter state.

    Subclasses pass their hyperparameters as ``defaults``, may check a group's values in
    ``_check_group(group)``, and implement ``step(closure=None)``.
    """

    def __init__(self, params, defaults):
        self.defaults = dict(defaults)
        if isinstance(params, Tensor):
            raise TypeError("params argument given to the optimizer should be an iterable of Tensors "
                            "or dicts, but got " + _typename(params))
        self.state = defaultdict(dict)
        self.param_groups = []
        param_groups = list(params)
        if len(param_groups) == 0:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(param_groups[0], dict):
            param_groups = [{"params": param_groups}]
        for group in param_groups:
            self.add_param_group(group)

    # ------------------------------------------------------------------ groups
    def add_param_group(self, param_group):
        """Add a group of parameters with its own hyperparameters (for example a new layer to train).

        ``param_group`` is a dict with ``"params"`` (a tensor, or an ordered collection of tensors
        or of ``(name, tensor)`` pairs as ``named_parameters()`` gives) and any hyperparameters;
        the rest come from the optimizer's defaults. The dict is copied, not kept.
        """
        if not isinstance(param_group, dict):
            raise TypeError(f"param_group must be a dict, but got {type(param_group)}")
        group = dict(param_group)
        if "params" not in group:
            raise ValueError("parameter group must have a 'params' entry")
        params = group["params"]
        if isinstance(params, Tensor):
            params = [params]
        elif isinstance(params, (set, frozenset)):
            raise TypeError("optimizer parameters need to be organized in ordered collections, but the "
                            "ordering of tensors in sets will change between runs. Please use a list instead.")
        else:
            params = list(params)

        tensors, names = [], []
        for p in params:
            if isinstance(p, tuple):
                names.append(p[0])
                tensors.append(p[1])
            else:
                tensors.append(p)
        group["params"] = tensors
        if names:
            if len(names) != len(tensors):
                raise ValueError("all optimizer params should be with/without names. Some param names are missing")
            group["param_names"] = names

        for p in tensors:
            if not isinstance(p, Tensor):
                raise TypeError("optimizer can only optimize Tensors, but one of the params is " + _typename(p))
            if not (p.is_leaf or p.retains_grad):
                raise ValueError("can't optimize a non-leaf Tensor")

        for name, default in self.defaults.items():
            if default is required and name not in group:
                raise ValueError(f"parameter group didn't specify a value of required optimization parameter {name}")
            group.setdefault(name, default)
        self._check_group(group)

        if len({id(p) for p in tensors}) != len(tensors):
            warnings.warn("optimizer contains a parameter group with duplicate parameters; in future, this "
                          "will cause an error; see github.com/pytorch/pytorch/issues/40967 for more information",
                          stacklevel=3)
        seen = set()
        for other in self.param_groups:
            seen.update(id(p) for p in other["params"])
            if ("param_names" in group) != ("param_names" in other):
                which = "with names" if "param_names" in group else "without names"
                raise ValueError("all optimizer param groups should be with/without names. "
                                 f"cannot add param group {which} to the optimizer")
        if any(id(p) in seen for p in tensors):
            raise ValueError("some parameters appear in more than one parameter group")
        self.param_groups.append(group)

    def _check_group(self, group):
        """Raise ValueError for an invalid hyperparameter of ``group`` (subclasses override)."""

    # ------------------------------------------------------------------ gradients and steps
    def zero_grad(self, set_to_none=True):
        """Reset the gradients: ``.grad = None`` (the default), or fill them with zeros in place."""
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                if set_to_none:
                    p.grad = None
                else:
                    if p.grad.grad_fn is not None:
                        p.grad = p.grad.detach()
                    else:
                        p.grad.requires_grad_(False)
                    p.grad.array.fill(0)

    def step(self, closure=None):
        """One update of every parameter that has a gradient; returns ``closure()``'s loss, if given.

        Subclasses define ``_update(p, grad_array, group)``, the rule for one parameter.
        """
        loss = self._run_closure(closure)
        index = 0
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is not None:
                    self._update(p, self._grad_of(p, index), group)
                index += 1
        return loss

    @staticmethod
    def _run_closure(closure):
        if closure is None:
            return None
        with enable_grad():
            return closure()

    @staticmethod
    def _direction(xp, w, g, weight_decay, maximize):
        """(d, scratch): the gradient as the update rules use it, ``d = (+-g) + weight_decay * w``.

        ``scratch`` is the array holding ``d`` when it had to be allocated (else None, and ``d`` is
        the gradient itself, which must then not be modified); the rules reuse it as workspace.
        """
        if weight_decay != 0:
            scratch = xp.multiply(w, weight_decay)
            if maximize:
                scratch -= g
            else:
                scratch += g
            return scratch, scratch
        if maximize:
            scratch = xp.negative(g)
            return scratch, scratch
        return g, None

    @staticmethod
    def _grad_of(p, index):
        """``p.grad``'s array, checked against the parameter (a cheap check made every step)."""
        g = p.grad.array
        if g.shape != p.array.shape or g.dtype != p.array.dtype or type(g) is not type(p.array):
            raise RuntimeError(
                f"optimizer: the gradient of parameter {index} (shape {tuple(g.shape)}, {g.dtype}, "
                f"on {p.grad.device}) does not match the parameter (shape {tuple(p.array.shape)}, "
                f"{p.array.dtype}, on {p.device})")
        return g

    # ------------------------------------------------------------------ state_dict
    def state_dict(self):
        """The optimizer's state as ``{"state": {index: {...}}, "param_groups": [{..., "params": [indices]}]}``.

        The layout is PyTorch's: parameters are numbered in the order of ``param_groups``, state
        entries that are arrays are our Tensors, shared with the optimizer (not copied), and the
        parameters themselves are not saved.
        """
        index_of = {}
        start = 0
        packed_groups = []
        for group in self.param_groups:
            packed = {k: copy.copy(v) for k, v in group.items() if k != "params"}
            index_of.update({id(p): i for i, p in enumerate(group["params"], start) if id(p) not in index_of})
            packed["params"] = [index_of[id(p)] for p in group["params"]]
            start += len(packed["params"])
            packed_groups.append(packed)
        packed_state = {(index_of[id(p)] if isinstance(p, Tensor) else p): dict(s) for p, s in self.state.items()}
        return {"state": packed_state, "param_groups": packed_groups}

    def load_state_dict(self, state_dict):
        """Load a state saved by :meth:`state_dict` (from an optimizer over parameters of the same shapes).

        Hyperparameters come from the saved groups; parameters stay this optimizer's own. Saved
        arrays are copied onto each parameter's device (and dtype, for floating parameters), except
        Adam's ``step`` counter, which stays a host float32 scalar as in PyTorch. Every check runs
        before anything changes.
        """
        if not isinstance(state_dict, dict) or "state" not in state_dict or "param_groups" not in state_dict:
            raise ValueError("optimizer state_dict must be a dict with 'state' and 'param_groups' entries")
        groups = self.param_groups
        saved_groups = copy.deepcopy(state_dict["param_groups"])
        if len(groups) != len(saved_groups):
            raise ValueError("loaded state dict has a different number of parameter groups")
        if any(len(g["params"]) != len(s["params"]) for g, s in zip(groups, saved_groups)):
            raise ValueError("loaded state dict contains a parameter group that doesn't match the size of "
                             "optimizer's group")
        param_of = {}
        for g, s in zip(groups, saved_groups):
            param_of.update(zip(s["params"], g["params"]))

        new_state = defaultdict(dict)
        for key, value in state_dict["state"].items():
            if key not in param_of:
                new_state[key] = copy.deepcopy(value)
                continue
            p = param_of[key]
            if not isinstance(value, dict):
                raise ValueError(f"loaded state of parameter {key} must be a dict, got {type(value).__name__}")
            new_state[p] = {k: self._load_value(p, key, k, v) for k, v in value.items()}

        for g, s in zip(groups, saved_groups):
            for name, default in self.defaults.items():  # a state saved before an option existed
                if default is not required:
                    s.setdefault(name, default)
            s["params"] = g["params"]
            if "param_names" in g and "param_names" not in s:
                s["param_names"] = g["param_names"]
            self._check_group(s)
        self.state = new_state
        self.param_groups = saved_groups

    @staticmethod
    def _load_value(p, index, key, value):
        if not isinstance(value, Tensor):
            return copy.deepcopy(value)
        array = value.array
        if key == "step":  # a host scalar, as PyTorch keeps it
            return Tensor(to_device(array, "cpu").copy())
        if tuple(array.shape) != tuple(p.array.shape):
            raise ValueError(f"loaded state {key!r} of parameter {index} has shape {tuple(array.shape)}, "
                             f"but the parameter has shape {tuple(p.array.shape)}")
        xp = get_array_module(p.array)
        array = to_device(array, p.device)
        dtype = p.array.dtype if p.array.dtype.kind == "f" else array.dtype
        return Tensor(xp.array(array, dtype=dtype, copy=True))

    # ------------------------------------------------------------------ display
    def __repr__(self):
        lines = [type(self).__name__ + " ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            for key in sorted(group):
                if key != "params":
                    lines.append(f"    {key}: {group[key]}")
        lines.append(")")
        return "\n".join(lines)
