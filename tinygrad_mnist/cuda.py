"""``tg.cuda``: the few ``torch.cuda`` helpers a training script reaches for."""
from __future__ import annotations

from . import backend


def is_available():
    """True when CuPy is installed and sees a GPU."""
    return backend.cuda_is_available()


def synchronize():
    """Wait for every queued GPU kernel to finish (a no-op without a GPU)."""
    if backend.cuda_is_available():
        backend.get_array_module("cuda").cuda.Device().synchronize()


def device_count():
    return 1 if backend.cuda_is_available() else 0
