"""Optimizer: the base class of every optimizer here, laid out like ``torch.optim.Optimizer``.

An optimizer holds

* ``param_groups``: a list of dicts, each with ``"params"`` (a list of tensors) and every
  hyperparameter of the optimizer (the constructor's values fill in what a group leaves out);
* ``state``: a dict from parameter tensor to that parameter's own dict (momentum buffers, moment
  estimates, step counts), created on the parameter's first step.

``step()`` updates every parameter whose ``.grad`` is not None, in place on its ``.array``, with
plain array code (``xp`` is NumPy or CuPy, whichever holds the parameter): no graph is recorded,
nothing is copied to the host, and each in-place change counts as one for the tensor's version
counter. Each optimizer writes its update rule once, as PyTorch documents it, in
``_update(p, grad_array, group)``; SGD and Adam also have faster in-place routes in
``tinygrad_mnist/fast/optim.py``, chosen by ``tinygrad_mnist.fast``.

Differences from PyTorch, all deliberate:

* hyperparameters are checked for every parameter group (PyTorch checks only the constructor's
  defaults, so ``{"params": ..., "lr": -1}`` slips through there), and more strictly: they must
  be finite real numbers (``lr="0.1"`` is a TypeError that names ``lr``; ``lr=inf`` and
  ``lr=nan`` are refused), flags must be booleans, and ``betas`` a pair;
* ``load_state_dict`` copies the loaded state (PyTorch may alias the tensors of the dict it was
  given), checks that each state array has its parameter's shape, and changes nothing when any
  check fails;
* ``foreach``, ``fused`` and ``capturable`` are accepted and ignored: in PyTorch they choose how
  fast the same update runs (several tensors per kernel, one fused kernel, the step count kept
  on the GPU for CUDA graphs); here each optimizer has one way to run (and the fast routes of
  ``tinygrad_mnist.fast``). ``differentiable=True`` (an update that autograd can differentiate
  through) is not supported and raises; there are no hooks; learning rates and other
  hyperparameters are Python numbers, not tensors.
"""
from __future__ import annotations

import copy
import functools
import math
import numbers
import warnings
from collections import defaultdict

import numpy as np

from ..autograd import enable_grad
from ..backend import get_array_module, to_device
from ..tensor import Tensor

__all__ = ["Optimizer", "required", "check_real", "check_flag", "check_betas", "lerp"]


class _RequiredParameter:
    """Marks a hyperparameter that has no default: every parameter group must give one."""

    def __repr__(self):
        return "<required parameter>"


required = _RequiredParameter()


def _typename(obj):
    return type(obj).__module__ + "." + type(obj).__qualname__


# ---------------------------------------------------------------------- argument checks
def check_real(value, name, label, low=0.0, high=None, *, low_open=False, high_open=True):
    """Raise unless ``value`` is a finite real number in [low, high) (ends as flagged).

    A value that is not a real number (a string, a tensor, None, a bool) is a TypeError; a
    non-finite or out-of-range number a ValueError. Both messages begin as PyTorch's do,
    ``Invalid <label>: <value>``, and the TypeError names the argument ``name``.
    """
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"Invalid {label}: {value!r} ({name} must be a real number, not {type(value).__name__})")
    ok = math.isfinite(value) and (value > low if low_open else value >= low)
    if high is not None:
        ok = ok and (value < high if high_open else value <= high)
    if not ok:
        raise ValueError(f"Invalid {label}: {value}")
    return value


def check_flag(value, name, allow_none=False):
    """Raise TypeError unless ``value`` is True or False (or None, where allowed)."""
    if isinstance(value, (bool, np.bool_)) or (allow_none and value is None):
        return value
    allowed = "True, False or None" if allow_none else "True or False"
    raise TypeError(f"Invalid {name}: {value!r} ({name} must be {allowed})")


def check_betas(betas):
    """``betas`` as a tuple of two numbers in [0, 1), or the error PyTorch gives (and clearer ones)."""
    if not isinstance(betas, (tuple, list)) or len(betas) != 2:
        raise ValueError(f"Invalid betas: {betas!r} (betas must be a pair (beta1, beta2) of numbers in [0, 1))")
    for i, beta in enumerate(betas):
        check_real(beta, f"betas[{i}]", f"beta parameter at index {i}", 0.0, 1.0)
    return tuple(betas)


def check_speed_options(group):
    """The options PyTorch uses to pick a faster implementation: accepted, checked, ignored."""
    for name in ("foreach", "fused"):
        if name in group:
            check_flag(group[name], name, allow_none=True)
    for name in ("capturable", "differentiable"):
        if name in group:
            check_flag(group[name], name)
    if group.get("fused") and group.get("foreach"):
        raise RuntimeError("`fused` and `foreach` cannot be `True` together.")
    if group.get("differentiable"):
        if group.get("fused"):
            raise RuntimeError("`fused` does not support `differentiable`")
        raise NotImplementedError("differentiable=True is not supported: tinygrad_mnist's optimizers update "
                                  "parameters outside autograd, so the step cannot be differentiated through")


def host_scalar(value):
    """A 0-d float32 tensor on the host: how PyTorch keeps step counters and NAdam's ``mu_product``."""
    return Tensor(np.array(value, dtype=np.float32))  # host: a counter, never tensor data


def count_step(state):
    """Add one to ``state["step"]`` (a host float32 scalar, as PyTorch keeps it) and return it as a float."""
    step = state.get("step")
    if not isinstance(step, Tensor):  # a state saved as a plain number
        step = state["step"] = host_scalar(0.0 if step is None else step)
    step.array[()] = float(step.array) + 1   # rounded to float32 on store: the same value as += 1
    return float(step.array)  # a host array: no device sync


def zeros_state(state, p, *keys):
    """Create the state entries ``keys`` as zeros shaped like ``p`` where they are missing."""
    for key in keys:
        if key not in state:
            state[key] = Tensor(get_array_module(p.array).zeros_like(p.array))


def lerp(start, end, weight):
    """``start + weight * (end - start)`` as ``torch.lerp`` computes it: exact at both ends.

    PyTorch uses a second formula for ``weight >= 0.5``, ``end - (end - start) * (1 - weight)``,
    with the weight in the arrays' dtype; the rules that call ``lerp_`` in PyTorch call this.
    """
    weight = start.dtype.type(weight)
    if abs(weight) < 0.5:
        return start + weight * (end - start)
    return end - (end - start) * (1 - weight)


def _marks_step(step):
    """Wrap an optimizer's ``step`` so that schedulers can tell it has been called (PyTorch's check)."""
    @functools.wraps(step)
    def wrapper(self, *args, **kwargs):
        self._opt_called = True
        return step(self, *args, **kwargs)
    wrapper._marks_step = True
    return wrapper


class Optimizer:
    """Base class: keeps the parameter groups and the per-parameter state.

    Subclasses pass their hyperparameters as ``defaults``, check a group's values in
    ``_check_group(group)``, and implement ``_update(p, grad_array, group)`` (or all of
    ``step(closure=None)``).
    """

    #: state entries kept as host float32 scalars (PyTorch's layout), not on the parameter's device
    _host_scalars = ("step",)

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        step = cls.__dict__.get("step")
        if step is not None and not getattr(step, "_marks_step", False):
            cls.step = _marks_step(step)

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
        """Raise TypeError / ValueError for an invalid hyperparameter of ``group`` (subclasses extend)."""
        check_speed_options(group)

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

    @_marks_step
    def step(self, closure=None):
        """One update of every parameter that has a gradient; returns ``closure()``'s loss, if given.

        Subclasses define ``_update(p, grad_array, group)``, the rule for one parameter, which
        changes ``p.array`` in place; each such change bumps the parameter's version counter.
        """
        loss = self._run_closure(closure)
        index = 0
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is not None:
                    self._update(p, self._grad_of(p, index), group)
                    bump = getattr(p, "_bump_version", None)
                    if bump is not None:
                        bump()
                index += 1
        return loss

    def _update(self, p, g, group):
        raise NotImplementedError(f"{type(self).__name__} must define _update(p, grad_array, group) or step()")

    @staticmethod
    def _run_closure(closure):
        if closure is None:
            return None
        with enable_grad():
            return closure()

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
        arrays are copied onto each parameter's device and, for floating parameters, into its
        dtype (as PyTorch casts them), except the scalar counters: ``step`` stays a host float32
        scalar as in PyTorch, and NAdam's ``mu_product`` stays on the host (in the parameter's
        dtype, as PyTorch's cast leaves it). Every check runs before anything changes.
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

    def _load_value(self, p, index, key, value):
        if key in self._host_scalars:  # a host scalar: the step count stays float32, as in PyTorch; the
            # others take the parameter's floating dtype, as PyTorch casts every loaded state but "step"
            host = to_device(value.array, "cpu") if isinstance(value, Tensor) else value
            dtype = np.float32 if key == "step" or p.array.dtype.kind != "f" else p.array.dtype
            return Tensor(np.array(host, dtype=dtype).reshape(()))  # host: a counter, never tensor data
        if not isinstance(value, Tensor):
            return copy.deepcopy(value)
        array = value.array
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
