"""Parameter, Module and the containers (Sequential, ModuleList, ModuleDict), as in ``torch.nn``.

A Module registers what is assigned to it: ``self.fc1 = nn.Linear(...)`` lands in
``self._modules``, ``self.w = nn.Parameter(...)`` in ``self._parameters``, and
``self.register_buffer("running", t)`` in ``self._buffers``, each in assignment order. Every
traversal (``parameters``, ``named_modules``, ``state_dict``, ``train``, ``to``, ``__repr__``)
walks those three ordered dicts, so names and order are PyTorch's: ``conv1.weight``,
``conv1.bias``, ``fc1.weight``, ... and ``0.weight`` for Sequential children.

Differences from PyTorch, deliberate:
* ``load_state_dict`` checks every key and shape first and copies only when all is well, so a
  failed load leaves the model untouched (PyTorch may have copied some tensors before raising).
* ``to()``/``double()``/``cuda()`` change each parameter's array in place, keeping the very same
  Parameter objects (PyTorch does the same for parameters through ``.data``); buffers too.
* Module hooks: forward (pre-)hooks and full backward (pre-)hooks, as PyTorch's; no global
  module hooks, no legacy ``register_backward_hook``, no ``state_dict`` hooks, no ``_metadata``
  on the returned OrderedDict.
"""
from __future__ import annotations

import itertools
import operator
import warnings
from collections import OrderedDict, namedtuple

import numpy as np

from .. import dtypes
from ..autograd import Function, grad_mode, no_grad
from ..backend import Device, get_array_module, to_device
from ..tensor import Tensor, parse_to_args

__all__ = ["Parameter", "Module", "Sequential", "ModuleList", "ModuleDict", "ParameterList", "ParameterDict"]


# ---------------------------------------------------------------------- Parameter
class Parameter(Tensor):
    """A leaf tensor that a Module registers as one of its parameters (``requires_grad=True``).

    ``Parameter(t)`` shares ``t``'s array (no copy), as ``torch.nn.Parameter`` shares storage.
    ``Parameter(ndarray)`` wraps the array. The results of ops on a Parameter are plain Tensors.
    """

    __slots__ = ()

    def __init__(self, data=None, requires_grad=True):
        if data is None:
            data = np.empty((0,), dtype=dtypes.default_float.np)  # host: an empty placeholder
        elif isinstance(data, Tensor):
            data = data.array
        super().__init__(data, requires_grad=requires_grad)

    def __repr__(self):
        return "Parameter containing:\n" + super().__repr__()

    def __deepcopy__(self, memo):
        if id(self) in memo:
            return memo[id(self)]
        result = Parameter(self.array.copy(), requires_grad=self.requires_grad)
        if self.grad is not None:
            result.grad = Tensor(self.grad.array.copy())
        memo[id(self)] = result
        return result


class _IncompatibleKeys(namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])):
    """What ``load_state_dict`` returns: the keys it missed and the keys it did not use."""

    __slots__ = ()

    def __repr__(self):
        if not self.missing_keys and not self.unexpected_keys:
            return "<All keys matched successfully>"
        return super().__repr__()

    __str__ = __repr__


def _addindent(s, num_spaces):
    lines = s.split("\n")
    if len(lines) == 1:
        return s
    first = lines.pop(0)
    return first + "\n" + "\n".join((num_spaces * " ") + line if line.strip() else "" for line in lines)


def _parse_to(args, kwargs):
    """Tensor.to's arguments, checked before anything moves: a usable device, a floating dtype."""
    device, dtype = parse_to_args(args, kwargs)
    if device is not None:
        device = Device(device)
        get_array_module(device)  # fail now (CuPy missing, no GPU), before anything moves
    if dtype is not None:
        dtype = dtypes.to_dtype(dtype)
        if not dtype.is_floating_point:
            raise TypeError(f"nn.Module.to only accepts floating point dtypes, but got desired dtype={dtype}")
    return device, dtype


# ---------------------------------------------------------------------- Module
class Module:
    """Base class of every layer and model; subclasses define ``forward``.

    Assigning a Parameter, a Module, or (after ``register_buffer``) a Tensor to an attribute
    registers it; ``model(x)`` calls ``model.forward(x)`` (and the forward hooks, if any).
    """

    _version = 1
    training: bool

    def __init__(self, *args, **kwargs):
        if args or kwargs:
            raise TypeError(f"{type(self).__name__}.__init__() got unexpected arguments: "
                            f"Module.__init__ takes none (did a subclass pass its own arguments up?)")
        object.__setattr__(self, "training", True)
        object.__setattr__(self, "_parameters", OrderedDict())
        object.__setattr__(self, "_buffers", OrderedDict())
        object.__setattr__(self, "_non_persistent_buffers_set", set())
        object.__setattr__(self, "_modules", OrderedDict())
        for name in ("_forward_pre_hooks", "_forward_hooks", "_backward_pre_hooks", "_backward_hooks",
                     "_forward_pre_hooks_with_kwargs", "_forward_hooks_with_kwargs", "_forward_hooks_always_called"):
            object.__setattr__(self, name, OrderedDict())

    # ------------------------------------------------------------------ forward
    def forward(self, *args, **kwargs):
        raise NotImplementedError(f'Module [{type(self).__name__}] is missing the required "forward" function')

    def __call__(self, *args, **kwargs):
        if not (self._forward_pre_hooks or self._forward_hooks or self._backward_hooks or self._backward_pre_hooks):
            return self.forward(*args, **kwargs)
        return self._call_with_hooks(args, kwargs)

    def _call_with_hooks(self, args, kwargs):
        """PyTorch's order: forward pre-hooks, the backward hooks' input node, forward, forward hooks,
        the backward hooks' output node. Hooks registered with ``always_call`` also run (with
        output None) when forward raises."""
        for hook_id, hook in list(self._forward_pre_hooks.items()):
            if hook_id in self._forward_pre_hooks_with_kwargs:
                result = hook(self, args, kwargs)
                if result is not None:
                    if not (isinstance(result, tuple) and len(result) == 2):
                        raise RuntimeError(f"forward pre-hook must return None or a tuple of (new_args, new_kwargs), "
                                           f"but got {result}.")
                    args, kwargs = result
            else:
                result = hook(self, args)
                if result is not None:
                    args = result if isinstance(result, tuple) else (result,)
        backward_hook = None
        if self._backward_hooks or self._backward_pre_hooks:
            backward_hook = _BackwardHook(self, list(self._backward_hooks.values()),
                                          list(self._backward_pre_hooks.values()))
            args = backward_hook.setup_input_hook(args)
        result, called = None, set()
        try:
            result = self.forward(*args, **kwargs)
            for hook_id, hook in list(self._forward_hooks.items()):
                called.add(hook_id)
                if hook_id in self._forward_hooks_with_kwargs:
                    hook_result = hook(self, args, kwargs, result)
                else:
                    hook_result = hook(self, args, result)
                if hook_result is not None:
                    result = hook_result
        except Exception:
            for hook_id, hook in list(self._forward_hooks.items()):
                if hook_id in self._forward_hooks_always_called and hook_id not in called:
                    try:
                        if hook_id in self._forward_hooks_with_kwargs:
                            hook_result = hook(self, args, kwargs, result)
                        else:
                            hook_result = hook(self, args, result)
                        if hook_result is not None:
                            result = hook_result
                    except Exception as exc:
                        warnings.warn(f"module forward hook with ``always_call=True`` raised an exception that "
                                      f"was silenced as another error was raised in forward: {exc}")
            raise
        if backward_hook is not None:
            result = backward_hook.setup_output_hook(result)
        return result

    def register_forward_pre_hook(self, hook, *, prepend=False, with_kwargs=False):
        """``hook(module, args)`` runs before forward and may return replacement args (a tuple, or
        one value); with ``with_kwargs``, ``hook(module, args, kwargs)`` may return (args, kwargs)."""
        handle = _HookHandle(self._forward_pre_hooks, hook, prepend, self._forward_pre_hooks_with_kwargs)
        if with_kwargs:
            self._forward_pre_hooks_with_kwargs[handle.id] = True
        return handle

    def register_forward_hook(self, hook, *, prepend=False, with_kwargs=False, always_call=False):
        """``hook(module, args, output)`` runs after forward and may return a replacement output;
        with ``with_kwargs``, ``hook(module, args, kwargs, output)``; with ``always_call`` it also
        runs when forward raises."""
        handle = _HookHandle(self._forward_hooks, hook, prepend, self._forward_hooks_with_kwargs,
                             self._forward_hooks_always_called)
        if with_kwargs:
            self._forward_hooks_with_kwargs[handle.id] = True
        if always_call:
            self._forward_hooks_always_called[handle.id] = True
        return handle

    def register_full_backward_pre_hook(self, hook, prepend=False):
        """``hook(module, grad_output)`` runs when the gradients of the module's outputs are known,
        before they flow into the module; it may return replacement grad_output."""
        return _HookHandle(self._backward_pre_hooks, hook, prepend)

    def register_full_backward_hook(self, hook, prepend=False):
        """``hook(module, grad_input, grad_output)`` runs when the gradients of the module's
        positional tensor inputs are computed (None for the others); it may return replacement
        grad_input. Where no input requires grad it runs with grad_input all None, as PyTorch."""
        return _HookHandle(self._backward_hooks, hook, prepend)

    # ------------------------------------------------------------------ registration
    def __setattr__(self, name, value):
        params = self.__dict__.get("_parameters")
        if isinstance(value, Parameter):
            if params is None:
                raise AttributeError("cannot assign parameters before Module.__init__() call")
            _remove_from(name, self.__dict__, self._buffers, self._modules, self._non_persistent_buffers_set)
            self.register_parameter(name, value)
        elif params is not None and name in params:
            if value is not None:
                raise TypeError(f"cannot assign '{type(value).__name__}' as parameter '{name}' "
                                f"(nn.Parameter or None expected)")
            self.register_parameter(name, value)
        else:
            modules = self.__dict__.get("_modules")
            if isinstance(value, Module):
                if modules is None:
                    raise AttributeError("cannot assign module before Module.__init__() call")
                _remove_from(name, self.__dict__, self._parameters, self._buffers,
                             self._non_persistent_buffers_set)
                modules[name] = value
            elif modules is not None and name in modules:
                if value is not None:
                    raise TypeError(f"cannot assign '{type(value).__name__}' as child module '{name}' "
                                    f"(nn.Module or None expected)")
                modules[name] = value
            else:
                buffers = self.__dict__.get("_buffers")
                if buffers is not None and name in buffers:
                    if value is not None and not isinstance(value, Tensor):
                        raise TypeError(f"cannot assign '{type(value).__name__}' as buffer '{name}' "
                                        f"(Tensor or None expected)")
                    buffers[name] = value
                else:
                    object.__setattr__(self, name, value)

    def __getattr__(self, name):
        # only called when normal lookup fails: look in the registries
        d = self.__dict__
        for registry in ("_parameters", "_buffers", "_modules"):
            if registry in d and name in d[registry]:
                return d[registry][name]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __delattr__(self, name):
        for registry in (self._parameters, self._buffers, self._modules):
            if name in registry:
                del registry[name]
                self._non_persistent_buffers_set.discard(name)
                return
        object.__delattr__(self, name)

    def __dir__(self):
        return sorted(set(itertools.chain(super().__dir__(), self._parameters, self._buffers, self._modules)))

    def register_parameter(self, name, param):
        if "_parameters" not in self.__dict__:
            raise AttributeError("cannot assign parameter before Module.__init__() call")
        _check_name(name, "parameter", self)
        if hasattr(self, name) and name not in self._parameters:
            raise KeyError(f"attribute '{name}' already exists")
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(f"cannot assign '{type(param).__name__}' object to parameter '{name}' "
                            f"(nn.Parameter or None required)")
        if param is not None and not param.is_leaf:
            raise ValueError(f"Cannot assign non-leaf Tensor to parameter '{name}'. Model parameters "
                             f"must be created explicitly: use .detach() first.")
        self._parameters[name] = param

    def register_buffer(self, name, tensor, persistent=True):
        """A tensor that is state but not a parameter (in ``state_dict`` unless persistent=False)."""
        if "_buffers" not in self.__dict__:
            raise AttributeError("cannot assign buffer before Module.__init__() call")
        _check_name(name, "buffer", self)
        if hasattr(self, name) and name not in self._buffers:
            raise KeyError(f"attribute '{name}' already exists")
        if tensor is not None and not isinstance(tensor, Tensor):
            raise TypeError(f"cannot assign '{type(tensor).__name__}' object to buffer '{name}' "
                            f"(Tensor or None required)")
        self._buffers[name] = tensor
        if persistent:
            self._non_persistent_buffers_set.discard(name)
        else:
            self._non_persistent_buffers_set.add(name)

    def add_module(self, name, module):
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"{type(module).__name__} is not a Module subclass")
        _check_name(name, "module", self)
        if hasattr(self, name) and name not in self._modules:
            raise KeyError(f"attribute '{name}' already exists")
        self._modules[name] = module

    register_module = add_module

    def get_submodule(self, target):
        module = self
        if target == "":
            return module
        for item in target.split("."):
            if item not in module._modules:
                raise AttributeError(f"{module._get_name()} has no attribute `{item}`")
            module = module._modules[item]
        return module

    def get_buffer(self, target):
        module_path, _, name = target.rpartition(".")
        module = self.get_submodule(module_path)
        if name not in module._buffers:
            raise AttributeError(f"{module._get_name()} has no buffer `{name}`")
        return module._buffers[name]

    def get_parameter(self, target):
        module_path, _, name = target.rpartition(".")
        module = self.get_submodule(module_path)
        if name not in module._parameters:
            raise AttributeError(f"{module._get_name()} has no parameter `{name}`")
        return module._parameters[name]

    # ------------------------------------------------------------------ traversal
    def named_modules(self, memo=None, prefix="", remove_duplicate=True):
        if memo is None:
            memo = set()
        if id(self) in memo:
            return
        if remove_duplicate:
            memo.add(id(self))
        yield prefix, self
        for name, module in self._modules.items():
            if module is None:
                continue
            yield from module.named_modules(memo, prefix + ("." if prefix else "") + name, remove_duplicate)

    def modules(self):
        for _, module in self.named_modules():
            yield module

    def named_children(self):
        seen = set()
        for name, module in self._modules.items():
            if module is not None and id(module) not in seen:
                seen.add(id(module))
                yield name, module

    def children(self):
        for _, module in self.named_children():
            yield module

    def _named_members(self, registry, prefix, recurse, remove_duplicate):
        seen = set()  # ids: a tensor's == is elementwise, so never put tensors themselves in a set
        modules = self.named_modules(prefix=prefix, remove_duplicate=remove_duplicate) if recurse \
            else [(prefix, self)]
        for module_prefix, module in modules:
            for name, value in getattr(module, registry).items():
                if value is None or id(value) in seen:
                    continue
                if remove_duplicate:
                    seen.add(id(value))
                yield module_prefix + ("." if module_prefix else "") + name, value

    def named_parameters(self, prefix="", recurse=True, remove_duplicate=True):
        yield from self._named_members("_parameters", prefix, recurse, remove_duplicate)

    def parameters(self, recurse=True):
        for _, p in self.named_parameters(recurse=recurse):
            yield p

    def named_buffers(self, prefix="", recurse=True, remove_duplicate=True):
        yield from self._named_members("_buffers", prefix, recurse, remove_duplicate)

    def buffers(self, recurse=True):
        for _, b in self.named_buffers(recurse=recurse):
            yield b

    # ------------------------------------------------------------------ modes
    def train(self, mode=True):
        if not isinstance(mode, bool):
            raise ValueError("training mode is expected to be boolean")
        self.training = mode
        for module in self.children():
            module.train(mode)
        return self

    def eval(self):
        return self.train(False)

    def requires_grad_(self, requires_grad=True):
        for p in self.parameters():
            p.requires_grad_(requires_grad)
        return self

    def zero_grad(self, set_to_none=True):
        """Reset every parameter's ``.grad``: to None (the default), or to zeros in place."""
        for p in self.parameters():
            if p.grad is not None:
                if set_to_none:
                    p.grad = None
                else:
                    p.grad.array[...] = 0

    def apply(self, fn):
        """Call ``fn`` on every submodule (children first) and then on self; returns self."""
        for module in self.children():
            module.apply(fn)
        fn(self)
        return self

    # ------------------------------------------------------------------ device and dtype
    def _convert(self, device=None, dtype=None):
        """Move/cast every parameter, gradient and buffer array in place (same Tensor objects).

        Everything is converted first and assigned after, so a failure leaves nothing half-moved.
        Only floating point tensors change dtype (integer buffers keep theirs), as in PyTorch.
        """
        def convert(array):
            out = array
            if dtype is not None and out.dtype.kind == "f" and out.dtype != dtype.np:
                out = out.astype(dtype.np)
            if device is not None:
                out = to_device(out, device)
            return out

        tensors = {}  # id -> tensor: a tensor shared by two modules is converted once
        for module in self.modules():
            for registry in (module._parameters, module._buffers):
                for t in registry.values():
                    if t is not None:
                        tensors[id(t)] = t
        new = [(t, convert(t.array), None if t.grad is None else convert(t.grad.array))
               for t in tensors.values()]
        for t, array, grad in new:
            t.array = array
            if grad is not None:
                t.grad.array = grad
        return self

    def to(self, *args, **kwargs):
        """``to(device)``, ``to(dtype)``, ``to(device, dtype)`` or ``to(tensor)``; in place, returns self."""
        device, dtype = _parse_to(args, dict(kwargs))
        return self._convert(device, dtype)

    def cuda(self, device=None):
        return self._convert(Device("cuda" if device is None else device if isinstance(device, (str, Device))
                                    else f"cuda:{device}"), None)

    def cpu(self):
        return self._convert(Device("cpu"), None)

    def double(self):
        return self._convert(None, dtypes.float64)

    def float(self):
        return self._convert(None, dtypes.float32)

    def type(self, dst_type):
        return self._convert(None, dtypes.to_dtype(dst_type))

    # ------------------------------------------------------------------ state_dict
    def _local_state(self):
        state = OrderedDict((n, p) for n, p in self._parameters.items() if p is not None)
        state.update((n, b) for n, b in self._buffers.items()
                     if b is not None and n not in self._non_persistent_buffers_set)
        return state

    def state_dict(self, *args, destination=None, prefix="", keep_vars=False):
        """An OrderedDict name -> tensor: parameters, then persistent buffers, module by module.

        The tensors are detached and share their arrays with the model (no copy), as in PyTorch;
        ``keep_vars=True`` gives the Parameter objects themselves.
        """
        if args:  # the old positional form state_dict(destination, prefix, keep_vars)
            destination = args[0]
            prefix = args[1] if len(args) > 1 else prefix
            keep_vars = args[2] if len(args) > 2 else keep_vars
        if destination is None:
            destination = OrderedDict()
        for name, value in self._local_state().items():
            destination[prefix + name] = value if keep_vars else value.detach()
        for name, module in self._modules.items():
            if module is not None:
                module.state_dict(destination=destination, prefix=prefix + name + ".", keep_vars=keep_vars)
        return destination

    def load_state_dict(self, state_dict, strict=True, assign=False):
        """Copy ``state_dict``'s values into the parameters and buffers, in place.

        Everything is checked before anything is copied: keys the model expects but the dict
        lacks (missing), keys the model does not have (unexpected; both only when strict), and
        shape mismatches (always). Any problem raises one RuntimeError listing them all, in
        PyTorch's words, and leaves the model unchanged. Values may be Tensors or arrays (NumPy,
        CuPy or anything ``numpy.asarray`` takes); they are cast to each parameter's dtype and
        moved to its device. ``assign=True`` is not supported (the copy is always in place).
        Returns ``(missing_keys, unexpected_keys)``.
        """
        if assign:
            raise NotImplementedError("load_state_dict(assign=True) is not supported: values are copied in place")
        if not hasattr(state_dict, "keys") or not hasattr(state_dict, "__getitem__"):
            raise TypeError(f"Expected state_dict to be dict-like, got {type(state_dict)}.")
        own = self.state_dict(keep_vars=True)
        missing = [k for k in own if k not in state_dict]
        unexpected = [k for k in state_dict.keys() if k not in own]
        errors, updates = [], []
        for key, target in own.items():
            if key not in state_dict:
                continue
            value = state_dict[key]
            try:
                array = _value_array(value)
            except (TypeError, ValueError) as exc:
                errors.append(f'While copying the parameter named "{key}", expected a Tensor or an array '
                              f"from checkpoint but received {type(value)} ({exc})")
                continue
            shape = tuple(array.shape)
            if target.ndim == 0 and shape == (1,):
                array = array.reshape(())  # PyTorch's allowance for old checkpoints
                shape = ()
            if shape != tuple(target.shape):
                errors.append(f"size mismatch for {key}: copying a param with shape {shape} from checkpoint, "
                              f"the shape in current model is {tuple(target.shape)}.")
                continue
            try:
                array = to_device(array, target.device).astype(target.array.dtype, copy=False)
            except (TypeError, ValueError) as exc:
                errors.append(f'While copying the parameter named "{key}": {exc}')
                continue
            updates.append((target, array))
        if strict:
            if unexpected:
                errors.insert(0, "Unexpected key(s) in state_dict: {}. ".format(
                    ", ".join(f'"{k}"' for k in unexpected)))
            if missing:
                errors.insert(0, "Missing key(s) in state_dict: {}. ".format(
                    ", ".join(f'"{k}"' for k in missing)))
        if errors:
            raise RuntimeError("Error(s) in loading state_dict for {}:\n\t{}".format(
                type(self).__name__, "\n\t".join(errors)))
        with no_grad():
            for target, array in updates:
                if array is not target.array:
                    target.array[...] = array
        return _IncompatibleKeys(missing, unexpected)

    # ------------------------------------------------------------------ repr
    def extra_repr(self):
        """The layer's own settings, shown inside its repr (override in layers)."""
        return ""

    def _get_name(self):
        return type(self).__name__

    def __repr__(self):
        extra = self.extra_repr()
        extra_lines = extra.split("\n") if extra else []
        child_lines = ["(" + key + "): " + _addindent(repr(module), 2) for key, module in self._modules.items()]
        lines = extra_lines + child_lines
        main = self._get_name() + "("
        if lines:
            if len(extra_lines) == 1 and not child_lines:
                main += extra_lines[0]
            else:
                main += "\n  " + "\n  ".join(lines) + "\n"
        return main + ")"


def _value_array(value):
    """The ndarray behind a state_dict value (our Tensor, a NumPy/CuPy array, or array-like)."""
    if isinstance(value, Tensor):
        return value.array
    if hasattr(value, "__cuda_array_interface__") and type(value).__module__.startswith("cupy"):
        return value
    if hasattr(value, "detach") and hasattr(value, "cpu") and hasattr(value, "numpy"):  # a torch tensor
        return value.detach().cpu().numpy()
    shown = repr(value) if len(repr(value)) <= 60 else repr(value)[:57] + "..."
    if value is None or isinstance(value, (str, bytes, dict)):
        raise TypeError(shown)  # np.asarray would make a 0-d array of it, reported as a shape mismatch
    array = np.asarray(value)  # host: Python data or a NumPy array given by the user
    if array.dtype.kind not in "biuf":
        raise TypeError(f"dtype {array.dtype}, not a number type" if isinstance(value, np.ndarray) else
                        f"{shown}: not numeric")
    return array


def _check_name(name, kind, module):
    if not isinstance(name, str):
        raise TypeError(f"{kind} name should be a string, got {type(name).__name__}")
    if name == "":
        raise KeyError(f'{kind} name can\'t be empty string ""')
    if "." in name:
        raise KeyError(f'{kind} name can\'t contain ".", got: {name}')


def _remove_from(name, *registries):
    for registry in registries:
        if isinstance(registry, set):
            registry.discard(name)
        elif name in registry:
            del registry[name]


class _HookHandle:
    """What ``register_*_hook`` returns (PyTorch's RemovableHandle): ``remove()`` takes the hook off."""

    _next_id = 0

    def __init__(self, hooks, hook, prepend=False, *extra_dicts):
        self.hooks_dict = hooks
        self.extra_dicts = extra_dicts
        self.id = _HookHandle._next_id
        _HookHandle._next_id += 1
        hooks[self.id] = hook
        if prepend:
            hooks.move_to_end(self.id, last=False)

    def remove(self):
        self.hooks_dict.pop(self.id, None)
        for extra in self.extra_dicts:
            extra.pop(self.id, None)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()


# ---------------------------------------------------------------------- full backward hooks
class BackwardHookFunction(Function):
    """The identity on a module's input (or output) tensors: its graph node is where a module's
    backward hooks catch the gradients of those tensors (PyTorch builds them the same way)."""

    @staticmethod
    def forward(ctx, *tensors):
        ctx.mark_non_differentiable(*[t for t in tensors if not t.requires_grad])
        return tensors

    @staticmethod
    def backward(ctx, *grads):
        return grads


class _BackwardHook:
    """One forward's worth of a module's full backward hooks.

    The module's tensor inputs and outputs each pass through a ``BackwardHookFunction``. When
    the output node runs (a post-hook on it), the gradients of the outputs are known: the backward
    pre-hooks run and may replace them. When the input node runs, the gradients of the inputs are
    known: the backward hooks run with (module, grad_input, grad_output) and may replace grad_input.
    Positions that are not tensors get None.
    """

    def __init__(self, module, hooks, pre_hooks):
        self.module, self.hooks, self.pre_hooks = module, hooks, pre_hooks
        self.grad_outputs = None
        self.n_inputs = self.n_outputs = -1
        self.input_index = self.output_index = None

    @staticmethod
    def _pack(indices, values, size):
        out = [None] * size
        for i, v in zip(indices, values):
            out[i] = v
        return tuple(out)

    def _wrap(self, args, on_node):
        """Pass the tensors among ``args`` through one identity node; call ``on_node`` with it."""
        index = [i for i, a in enumerate(args) if isinstance(a, Tensor)]
        tensors = [args[i] for i in index]
        if not (grad_mode.is_grad_enabled() and any(t.requires_grad for t in tensors)):
            return args, None
        wrapped = BackwardHookFunction.apply(*tensors)
        wrapped = wrapped if isinstance(wrapped, tuple) else (wrapped,)
        on_node(next(t.grad_fn for t in wrapped if t.grad_fn is not None))
        out = list(args)
        for i, t in zip(index, wrapped):
            out[i] = t
        return tuple(out), index

    def setup_input_hook(self, args):
        def on_node(node):
            def hook(grad_inputs, _):
                if self.grad_outputs is None:
                    return None
                result = self._pack(self.input_index, grad_inputs, self.n_inputs)
                for user_hook in self.hooks:
                    out = user_hook(self.module, result, self.grad_outputs)
                    if out is None:
                        continue
                    if len(out) != len(result):
                        raise RuntimeError(f"Backward hook returned an invalid number of grad_input, got "
                                           f"{len(out)}, but expected {len(result)}")
                    result = tuple(out)
                self.grad_outputs = None
                return tuple(result[i] for i in self.input_index)
            node.register_hook(hook)
        out, self.input_index = self._wrap(args, on_node)
        self.n_inputs = len(args)
        return out

    def setup_output_hook(self, result):
        def on_node(node):
            def hook(_, grad_outputs):
                self.grad_outputs = self._pack(self.output_index, grad_outputs, self.n_outputs)
                for pre_hook in self.pre_hooks:
                    out = pre_hook(self.module, self.grad_outputs)
                    if out is None:
                        continue
                    if len(out) != len(self.grad_outputs):
                        raise RuntimeError(f"Backward pre hook returned an invalid number of grad_output, got "
                                           f"{len(out)}, but expected {len(self.grad_outputs)}")
                    self.grad_outputs = tuple(out)
                local = self.grad_outputs
                if self.input_index is None:  # no input requires grad: the hooks fire here, inputs None
                    warnings.warn("Full backward hook is firing when gradients are computed with respect to "
                                  "module outputs since no inputs require gradients.", stacklevel=2)
                    grad_inputs = (None,) * self.n_inputs
                    for user_hook in self.hooks:
                        out = user_hook(self.module, grad_inputs, self.grad_outputs)
                        if out is not None and not (isinstance(out, tuple) and all(o is None for o in out)):
                            raise RuntimeError("Backward hook for Modules where no input requires gradient "
                                               "should always return None or None for all gradients.")
                    self.grad_outputs = None
                return tuple(local[i] for i in self.output_index)
            node.register_hook(hook)
        single = not isinstance(result, tuple)
        out, self.output_index = self._wrap((result,) if single else result, on_node)
        self.n_outputs = 1 if single else len(result)
        return out[0] if single else out


# ---------------------------------------------------------------------- containers
class Sequential(Module):
    """Modules called in order: ``Sequential(a, b, c)`` or ``Sequential(OrderedDict(name=module))``.

    Children are named "0", "1", ... (or by the OrderedDict's keys), so their parameters are
    ``0.weight``, ``0.bias``, ... in the state_dict, as in PyTorch.
    """

    def __init__(self, *args):
        super().__init__()
        if len(args) == 1 and isinstance(args[0], OrderedDict):
            for key, module in args[0].items():
                self.add_module(key, module)
        else:
            for idx, module in enumerate(args):
                self.add_module(str(idx), module)

    def _index(self, idx):
        size = len(self)
        idx = operator.index(idx)
        if not -size <= idx < size:
            raise IndexError(f"index {idx} is out of range")
        return idx % size

    def __getitem__(self, idx):
        if isinstance(idx, slice):
            return self.__class__(OrderedDict(list(self._modules.items())[idx]))
        return list(self._modules.values())[self._index(idx)]

    def __setitem__(self, idx, module):
        key = list(self._modules.keys())[self._index(idx)]
        setattr(self, key, module)

    def __delitem__(self, idx):
        if isinstance(idx, slice):
            for key in list(self._modules.keys())[idx]:
                delattr(self, key)
        else:
            delattr(self, list(self._modules.keys())[self._index(idx)])
        # renumber, as PyTorch does
        modules = list(self._modules.values())
        if all(k.isdigit() for k in self._modules):
            self._modules.clear()
            for i, m in enumerate(modules):
                self._modules[str(i)] = m

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())

    def __add__(self, other):
        if not isinstance(other, Sequential):
            raise ValueError(f"add operator supports only objects of Sequential class, but "
                             f"{type(other)} is given.")
        return Sequential(*self, *other)

    def append(self, module):
        self.add_module(str(len(self)), module)
        return self

    def extend(self, modules):
        for m in modules:
            self.append(m)
        return self

    def insert(self, index, module):
        if not isinstance(module, Module):
            raise AssertionError(f"module should be of type: {Module}")
        n = len(self._modules)
        if not -n <= index <= n:
            raise IndexError(f"Index out of range: {index}")
        if index < 0:
            index += n
        modules = list(self._modules.values())
        modules.insert(index, module)
        self._modules.clear()
        for i, m in enumerate(modules):
            self._modules[str(i)] = m
        return self

    def forward(self, input):
        for module in self:
            input = module(input)
        return input


class ModuleList(Module):
    """A list of modules, registered (so their parameters are found) but not called in order."""

    def __init__(self, modules=None):
        super().__init__()
        if modules is not None:
            self.extend(modules)

    def _index(self, idx):
        size = len(self)
        idx = operator.index(idx)
        if not -size <= idx < size:
            raise IndexError(f"index {idx} is out of range")
        return idx % size

    def __getitem__(self, idx):
        if isinstance(idx, slice):
            return self.__class__(list(self._modules.values())[idx])
        return self._modules[str(self._index(idx))]

    def __setitem__(self, idx, module):
        self.add_module(str(self._index(idx)), module)

    def __delitem__(self, idx):
        if isinstance(idx, slice):
            for k in range(len(self._modules))[idx]:
                del self._modules[str(k)]
        else:
            del self._modules[str(self._index(idx))]
        modules = list(self._modules.values())
        self._modules.clear()
        for i, m in enumerate(modules):
            self._modules[str(i)] = m

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())

    def __iadd__(self, modules):
        return self.extend(modules)

    def __add__(self, other):
        return ModuleList(list(self) + list(other))

    def append(self, module):
        self.add_module(str(len(self)), module)
        return self

    def extend(self, modules):
        for m in modules:
            self.append(m)
        return self

    def insert(self, index, module):
        modules = list(self._modules.values())
        modules.insert(index, module)
        self._modules.clear()
        for i, m in enumerate(modules):
            self.add_module(str(i), m)

    def __repr__(self):
        """PyTorch's compressed form: runs of identical children print once, as "(0-2): 3 x ..."."""
        reprs = [repr(m) for m in self]
        if not reprs:
            return self._get_name() + "()"
        blocks = []  # [start, end, repr]
        for i, r in enumerate(reprs):
            if blocks and blocks[-1][2] == r:
                blocks[-1][1] = i
            else:
                blocks.append([i, i, r])
        lines = []
        for start, end, r in blocks:
            line = f"({start}): {r}" if start == end else f"({start}-{end}): {end - start + 1} x {r}"
            lines.append(_addindent(line, 2))
        return self._get_name() + "(\n  " + "\n  ".join(lines) + "\n)"


class ModuleDict(Module):
    """A dict of modules, registered under their keys (in insertion order)."""

    def __init__(self, modules=None):
        super().__init__()
        if modules is not None:
            self.update(modules)

    def __getitem__(self, key):
        return self._modules[key]

    def __setitem__(self, key, module):
        self.add_module(key, module)

    def __delitem__(self, key):
        del self._modules[key]

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules)

    def __contains__(self, key):
        return key in self._modules

    def keys(self):
        return self._modules.keys()

    def items(self):
        return self._modules.items()

    def values(self):
        return self._modules.values()

    def pop(self, key):
        return self._modules.pop(key)

    def clear(self):
        self._modules.clear()

    def update(self, modules):
        items = modules.items() if hasattr(modules, "items") else modules
        for key, module in items:
            self[key] = module



def _as_parameter(value):
    """A plain Tensor put in a ParameterList/Dict becomes a Parameter (sharing its array), as PyTorch."""
    if isinstance(value, Tensor) and not isinstance(value, Parameter):
        return Parameter(value, requires_grad=value.requires_grad)
    return value


def _parameter_line(p, typename=False):
    """PyTorch's line for one entry of a ParameterList (dtype) or ParameterDict (tensor type name)."""
    if not isinstance(p, Tensor):
        return f"Object of type: {type(p).__name__}"
    size = "x".join(str(n) for n in p.shape)
    cuda = p.device.type == "cuda"
    name = str(p.dtype).rsplit(".", 1)[-1]
    if typename:
        kind = _TYPENAMES.get(name, name)
        what = f"torch.cuda.{kind}" if cuda else f"torch.{kind}"
    else:
        what = f"torch.{name}"
    device = f" ({p.device})" if cuda else ""
    return f"{'Parameter' if isinstance(p, Parameter) else 'Tensor'} containing: [{what} of size {size}{device}]"


_TYPENAMES = {"float32": "FloatTensor", "float64": "DoubleTensor", "float16": "HalfTensor", "int64": "LongTensor",
              "int32": "IntTensor", "int16": "ShortTensor", "int8": "CharTensor", "uint8": "ByteTensor",
              "bool": "BoolTensor"}


class ParameterList(Module):
    """A list of parameters, registered as "0", "1", ... (so ``parameters()`` and the state_dict find them)."""

    def __init__(self, values=None):
        super().__init__()
        self._size = 0
        if values is not None:
            self += values

    def _index(self, idx):
        idx = operator.index(idx)
        if not -len(self) <= idx < len(self):
            raise IndexError(f"index {idx} is out of range")
        return idx % len(self)

    def __getitem__(self, idx):
        if isinstance(idx, slice):
            out = ParameterList()
            for i in range(len(self))[idx]:
                out.append(self[i])
            return out
        return getattr(self, str(self._index(idx)))

    def __setitem__(self, idx, param):
        idx = self._index(idx)
        param = _as_parameter(param)
        if isinstance(param, Parameter) or param is None:
            self.register_parameter(str(idx), param)
        else:
            setattr(self, str(idx), param)

    def __len__(self):
        return self._size

    def __iter__(self):
        return iter(self[i] for i in range(len(self)))

    def __iadd__(self, parameters):
        return self.extend(parameters)

    def __dir__(self):
        return [k for k in super().__dir__() if not k.isdigit()]

    def append(self, value):
        self._size += 1
        self[self._size - 1] = value
        return self

    def extend(self, values):
        for v in values:
            self.append(v)
        return self

    def extra_repr(self):
        return "\n".join(f"  ({k}): {_parameter_line(p)}" for k, p in enumerate(self))

    def __call__(self, *args, **kwargs):
        raise RuntimeError("ParameterList should not be called.")


class ParameterDict(Module):
    """A dict of parameters, registered under their keys (in insertion order)."""

    def __init__(self, parameters=None):
        super().__init__()
        self._keys = {}
        if parameters is not None:
            self.update(parameters)

    def __getitem__(self, key):
        return getattr(self, key)

    def __setitem__(self, key, value):
        self._keys[key] = None
        value = _as_parameter(value)
        if isinstance(value, Parameter) or value is None:
            self.register_parameter(key, value)
        else:
            setattr(self, key, value)

    def __delitem__(self, key):
        del self._keys[key]
        delattr(self, key)

    def __len__(self):
        return len(self._keys)

    def __iter__(self):
        return iter(self._keys)

    def __reversed__(self):
        return reversed(list(self._keys))

    def __contains__(self, key):
        return key in self._keys

    def keys(self):
        return self._keys.keys()

    def items(self):
        return ((k, self[k]) for k in self._keys)

    def values(self):
        return (self[k] for k in self._keys)

    def get(self, key, default=None):
        return self[key] if key in self else default

    def setdefault(self, key, default=None):
        if key not in self:
            self[key] = default
        return self[key]

    def pop(self, key):
        value = self[key]
        del self[key]
        return value

    def popitem(self):
        key = next(reversed(self))
        return key, self.pop(key)

    def clear(self):
        for key in list(self._keys):
            del self[key]

    def copy(self):
        return ParameterDict(OrderedDict((k, self[k]) for k in self._keys))

    def fromkeys(self, keys, default=None):
        return ParameterDict((k, default) for k in keys)

    def update(self, parameters):
        if hasattr(parameters, "keys") and hasattr(parameters, "__getitem__"):
            items = [(k, parameters[k]) for k in parameters.keys()]
        else:
            items = []
            for j, pair in enumerate(parameters):
                if len(pair) != 2:
                    raise ValueError(f"ParameterDict update sequence element #{j} has length {len(pair)}; 2 is required")
                items.append(tuple(pair))
        for k, v in items:
            self[k] = v

    def __or__(self, other):
        out = self.copy()
        out.update(other)
        return out

    def extra_repr(self):
        return "\n".join(f"  ({k}): {_parameter_line(p, typename=True)}" for k, p in self.items())

    def __call__(self, *args, **kwargs):
        raise RuntimeError("ParameterDict should not be called.")
