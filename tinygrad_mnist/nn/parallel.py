"""``nn.DataParallel``: split a batch across devices, run a replica of the module on each, gather.

As ``torch.nn.DataParallel(module, device_ids=None, output_device=None, dim=0)``:

* ``device_ids`` defaults to every GPU; with none (no GPU) or one device the module simply runs,
  as in PyTorch, so a tutorial that wraps its model works anywhere.
* With several devices, ``forward`` scatters the inputs along ``dim`` into one chunk per device,
  replicates the module (each replica's parameters are views of the original's, made by a
  differentiable op, so each replica's gradient flows back and the gradients land summed in the
  original parameters), runs the replicas in threads, and gathers the outputs on
  ``output_device`` along ``dim``. Buffers (BatchNorm's running statistics) are copied to the
  replicas; what a replica changes in them is lost except on the first device, as in PyTorch.
* ``.module`` is the wrapped module; ``state_dict()`` keys carry the ``module.`` prefix.

Differences from PyTorch: the engine has one GPU device, so several GPUs cannot be named (a list
of more than one GPU raises and says so). Several CPU entries (``device_ids=["cpu", "cpu"]``) run
the whole several-replica path on the host, which PyTorch does not offer: a way to see (and test)
what DataParallel does without GPUs.
"""
from __future__ import annotations

import threading

from ..backend import Device, cuda_is_available
from ..tensor import Tensor
from .module import Module

__all__ = ["DataParallel"]


def _device(entry):
    if isinstance(entry, int) and not isinstance(entry, bool):
        if entry < 0:
            raise ValueError(f"DataParallel: device ids must be non-negative, got {entry}")
        return Device("cuda")
    return Device(entry)


class DataParallel(Module):
    def __init__(self, module, device_ids=None, output_device=None, dim=0):
        super().__init__()
        if not isinstance(module, Module):
            raise TypeError(f"DataParallel expects an nn.Module, got {type(module).__name__}")
        if device_ids is None:
            device_ids = [0] if cuda_is_available() else []
        self.device_ids = list(device_ids)
        devices = [_device(d) for d in self.device_ids]
        gpus = [d for d in self.device_ids if _device(d).type == "cuda"]
        if len(gpus) > 1:
            raise NotImplementedError(f"DataParallel: device_ids={self.device_ids} names {len(gpus)} GPUs; this "
                                      f"engine has one GPU device (several CPU entries run the replica path "
                                      f"on the host)")
        self.devices = devices
        self.output_device = _device(output_device) if output_device is not None else \
            (devices[0] if devices else None)
        self.dim = dim
        self.module = module
        if devices:
            module.to(devices[0])

    def forward(self, *inputs, **kwargs):
        if len(self.devices) <= 1:
            if self.devices:
                inputs = _to(inputs, self.devices[0])
                kwargs = _to(kwargs, self.devices[0])
            return self.module(*inputs, **kwargs)
        chunks = _scatter(inputs, len(self.devices), self.dim)
        kw_chunks = _scatter(kwargs, len(chunks), self.dim) if kwargs else [{}] * len(chunks)
        replicas = [self.module] + [_replicate(self.module) for _ in chunks[1:]]
        outputs = [None] * len(chunks)
        errors = [None] * len(chunks)

        def run(i):
            try:
                outputs[i] = replicas[i](*chunks[i], **kw_chunks[i])
            except BaseException as exc:  # noqa: BLE001  re-raised below, in the caller's thread
                errors[i] = exc
        threads = [threading.Thread(target=run, args=(i,)) for i in range(1, len(chunks))]
        for t in threads:
            t.start()
        run(0)
        for t in threads:
            t.join()
        for i, exc in enumerate(errors):
            if exc is not None:
                raise type(exc)(f"DataParallel: replica {i} on {self.devices[i]} failed: {exc}") from exc
        return _gather(outputs, self.dim, self.output_device)

    def extra_repr(self):
        return f"device_ids={self.device_ids}, dim={self.dim}" if self.device_ids else ""


def _to(obj, device):
    if isinstance(obj, Tensor):
        return obj.to(device)
    if isinstance(obj, (tuple, list)):
        return type(obj)(_to(o, device) for o in obj)
    if isinstance(obj, dict):
        return {k: _to(v, device) for k, v in obj.items()}
    return obj


def _scatter(obj, n, dim):
    """``n`` chunks of every tensor in ``obj`` along ``dim`` (fewer when the batch is smaller)."""
    if isinstance(obj, Tensor):
        size = obj.shape[dim]
        step = -(-size // n)
        return [obj.narrow(dim, start, min(step, size - start)) for start in range(0, size, step)]
    if isinstance(obj, (tuple, list)) and obj:
        parts = [_scatter(o, n, dim) for o in obj]
        count = min(len(p) for p in parts if isinstance(p, list))
        return [type(obj)(p[i] if isinstance(p, list) else p for p in parts) for i in range(count)]
    if isinstance(obj, dict) and obj:
        parts = {k: _scatter(v, n, dim) for k, v in obj.items()}
        count = min(len(p) for p in parts.values() if isinstance(p, list))
        return [{k: p[i] if isinstance(p, list) else p for k, p in parts.items()} for i in range(count)]
    return [obj] * n if not isinstance(obj, (tuple, list)) else [obj]


def _replicate(module):
    """A replica sharing the original's parameters through a differentiable view (gradients flow
    back to them and add up) and holding copies of its buffers."""
    replica = object.__new__(type(module))
    replica.__dict__.update(module.__dict__)
    object.__setattr__(replica, "_parameters", {k: None if p is None else p.view_as(p)
                                                for k, p in module._parameters.items()})
    object.__setattr__(replica, "_buffers", {k: None if b is None else b.detach().clone()
                                             for k, b in module._buffers.items()})
    object.__setattr__(replica, "_modules", {k: None if m is None else _replicate(m)
                                             for k, m in module._modules.items()})
    return replica


def _gather(outputs, dim, device):
    from ..functions import cat
    first = outputs[0]
    if isinstance(first, Tensor):
        return cat([o.to(device) for o in outputs], dim=dim)
    if isinstance(first, (tuple, list)):
        return type(first)(_gather([o[i] for o in outputs], dim, device) for i in range(len(first)))
    if isinstance(first, dict):
        return {k: _gather([o[k] for o in outputs], dim, device) for k in first}
    return first
