"""``set_num_threads`` / ``get_num_threads``: the threads of the BLAS and OpenMP pools behind NumPy."""
from __future__ import annotations

import numbers

__all__ = ["set_num_threads", "get_num_threads", "set_num_interop_threads", "get_num_interop_threads"]

_controller = None


def _pools():
    global _controller
    if _controller is None:
        from threadpoolctl import ThreadpoolController
        _controller = ThreadpoolController()
    return _controller


def set_num_threads(n):
    """Use ``n`` threads in NumPy's BLAS (and OpenMP) pools, as ``torch.set_num_threads``."""
    if isinstance(n, bool) or not isinstance(n, numbers.Integral):
        raise RuntimeError(f"set_num_threads(): expected an int, got {type(n).__name__} ({n!r})")  # torch's type
    if n <= 0:
        raise RuntimeError(f"set_num_threads(): number of threads must be positive, got {n}")
    _pools().limit(limits=int(n))


def get_num_threads():
    """The threads NumPy's BLAS uses (the largest of its pools; 1 when there is none)."""
    counts = [info["num_threads"] for info in _pools().info()]
    return max(counts) if counts else 1


_interop = [1]


def set_num_interop_threads(n):
    """Accepted and remembered: the engine runs one op at a time."""
    if isinstance(n, bool) or not isinstance(n, numbers.Integral) or n <= 0:
        raise RuntimeError(f"set_num_interop_threads(): expected a positive int, got {n!r}")
    _interop[0] = int(n)


def get_num_interop_threads():
    return _interop[0]
