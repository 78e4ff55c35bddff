"""Keep freed memory in the process (glibc's malloc), opt-in: ``enable_host_allocator()``.

A training step allocates and frees the same large arrays every step (im2col columns,
activations, gradients). By default glibc serves each array over 128 KiB-32 MiB with a fresh
mmap and unmaps it on free, so every step page-faults its whole working set in again (about
3,000 faults and 15% of a CNN step, ``docs/performance.md``). With mmap off and trimming raised,
freed blocks stay in the heap and the next step reuses them: the process keeps its peak
footprint, as PyTorch's caching allocators do.

It changes the allocator of the whole process, so the library never does it on import: the
training command and the benchmarks turn it on (``train`` and ``benchmarks.step``); a program of
your own may call it. Linux with glibc only; elsewhere it does nothing and returns False.
"""
from __future__ import annotations

import os

__all__ = ["enable_host_allocator", "host_allocator_enabled"]

_enabled = False


def enable_host_allocator():
    """Tell glibc to keep freed memory for reuse; True when it took effect."""
    global _enabled
    if _enabled:
        return True
    if os.uname().sysname != "Linux":
        return False
    try:
        import ctypes
        libc = ctypes.CDLL("libc.so.6")
    except OSError:  # not glibc (musl, ...): leave the allocator alone
        return False
    m_trim_threshold, m_top_pad, m_mmap_max = -1, -2, -4
    _enabled = bool(libc.mallopt(m_mmap_max, 0) and libc.mallopt(m_trim_threshold, 1 << 36)
                    and libc.mallopt(m_top_pad, 64 << 20))
    return _enabled


def host_allocator_enabled():
    return _enabled
