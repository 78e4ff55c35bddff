"""``tg.cuda``: the ``torch.cuda`` helpers a training script reaches for.

The engine uses one GPU (index 0) through CuPy. Random numbers are drawn on the host from the one
global generator for every device, so ``manual_seed``/``manual_seed_all`` here only check their
argument: ``tg.manual_seed`` seeds everything (as ``torch.manual_seed`` seeds CUDA too).
"""
from __future__ import annotations

from . import backend

__all__ = ["is_available", "device_count", "current_device", "set_device", "get_device_name",
           "synchronize", "empty_cache", "manual_seed", "manual_seed_all", "is_initialized", "FloatTensor",
           "DoubleTensor", "LongTensor", "IntTensor", "ByteTensor", "BoolTensor"]


def is_available():
    """True when CuPy is installed and sees a GPU."""
    return backend.cuda_is_available()


def device_count():
    return 1 if backend.cuda_is_available() else 0


def is_initialized():
    return backend._cupy is not None


def _require(op):
    if not backend.cuda_is_available():
        raise RuntimeError(f"cuda.{op}(): no GPU is available (CuPy missing or no device found)")


def current_device():
    """0: the engine uses the first GPU. Raises without one, as PyTorch does."""
    _require("current_device")
    return 0


def set_device(device):
    """Accepted for the first GPU (the only one used); another index is refused."""
    index = device.index if isinstance(device, backend.Device) else device
    if isinstance(device, str):
        index = backend.Device(device).index
    if index not in (None, 0, -1):
        raise RuntimeError(f"cuda.set_device(): the engine uses one GPU (index 0), got {device!r}")


def get_device_name(device=None):
    """The GPU's name, as the CUDA driver reports it."""
    _require("get_device_name")
    cupy = backend.get_array_module("cuda")
    name = cupy.cuda.runtime.getDeviceProperties(0)["name"]
    return name.decode() if isinstance(name, bytes) else name


def synchronize(device=None):
    """Wait for every queued GPU kernel to finish (a no-op without a GPU)."""
    if backend.cuda_is_available():
        backend.get_array_module("cuda").cuda.Device().synchronize()


def empty_cache():
    """Hand the GPU memory CuPy keeps for reuse back to the driver (a no-op without a GPU)."""
    if backend._cupy is not None:
        backend._cupy.get_default_memory_pool().free_all_blocks()
        backend._cupy.get_default_pinned_memory_pool().free_all_blocks()


def _check_seed(op, seed):
    import numbers
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral):
        raise TypeError(f"cuda.{op}(): expected an int seed, got {type(seed).__name__}")


def manual_seed(seed):
    """Accepted (the seed is checked): the GPU draws from the global generator, ``tg.manual_seed``."""
    _check_seed("manual_seed", seed)


def manual_seed_all(seed):
    """Accepted (the seed is checked): see :func:`manual_seed`."""
    _check_seed("manual_seed_all", seed)


def __getattr__(name):  # tg.cuda.FloatTensor and friends, defined with the CPU ones
    from . import legacy
    if name in legacy.CUDA_TYPES:
        return legacy.CUDA_TYPES[name]
    raise AttributeError(f"module 'tinygrad_mnist.cuda' has no attribute {name!r}")
