"""``tg.accelerator``: device discovery as ``torch.accelerator`` spells it.

The engine knows one kind of accelerator, an NVIDIA GPU through CuPy ("cuda"), and uses one of
them: ``device_count()`` is 1 or 0.
"""
from __future__ import annotations

from . import backend

__all__ = ["is_available", "current_accelerator", "device_count", "current_device_index",
           "set_device_index", "synchronize"]


def is_available():
    """True when a GPU can be used (CuPy installed and a GPU seen)."""
    return backend.cuda_is_available()


def current_accelerator(check_available=False):
    """``device(type='cuda')`` when a GPU can be used, else None (PyTorch's answer without one)."""
    return backend.Device("cuda") if backend.cuda_is_available() else None


def device_count():
    return 1 if backend.cuda_is_available() else 0


def current_device_index():
    """0 with a GPU (the only one the engine uses), -1 without, as PyTorch."""
    return 0 if backend.cuda_is_available() else -1


def set_device_index(device):
    """Accepted for index 0 (the only GPU used); any other index is refused."""
    index = device.index if isinstance(device, backend.Device) else device
    if index not in (None, 0, -1):
        raise RuntimeError(f"set_device_index(): the engine uses one GPU (index 0), got {device!r}")


def synchronize(device=None):
    """Wait for the GPU's queued work (a no-op without one)."""
    from . import cuda
    cuda.synchronize()
