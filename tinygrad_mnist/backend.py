"""The one place that knows NumPy from CuPy.

Everything else asks this module for ``xp`` (the array module of the device at hand) and for the
few operations whose spelling differs between the two libraries: moving arrays between host and
device, scatter-add, strided windows and the random number generator.

CuPy is imported lazily, on the first request for "cuda", so the CPU engine never needs it.
"""
from __future__ import annotations

import os

import numpy as np

__all__ = [
    "axes_outer_first", "device", "Device", "gemm_block_bytes", "get_array_module", "memory_order_flat",
    "relu", "to_device", "to_numpy", "device_of",
    "cuda_is_available", "scatter_add", "sliding_windows", "Generator", "default_generator",
    "manual_seed", "numpy_rng",
]


class Device:
    """A device: ``Device("cpu")`` or ``Device("cuda")`` (``"cuda:0"`` is accepted: one GPU only).

    Compares equal to another Device of the same type and to its string (``t.device == "cpu"``).
    """

    __slots__ = ("type", "index")

    def __init__(self, spec="cpu"):
        if isinstance(spec, Device):
            self.type, self.index = spec.type, spec.index
            return
        if not isinstance(spec, str):
            raise TypeError(f"device must be a string or a Device, got {type(spec).__name__}")
        kind, _, index = spec.partition(":")
        if kind not in ("cpu", "cuda"):
            raise ValueError(f"unknown device {spec!r}: expected 'cpu' or 'cuda'")
        if index and not index.isdigit():
            raise ValueError(f"bad device index in {spec!r}")
        self.type = kind
        self.index = int(index) if index else None

    def __eq__(self, other):
        if isinstance(other, str):
            try:
                other = Device(other)
            except (TypeError, ValueError):
                return False
        return isinstance(other, Device) and self.type == other.type

    def __hash__(self):
        return hash(self.type)

    def __str__(self):
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __repr__(self):
        return f"device(type='{self.type}')" if self.index is None else \
            f"device(type='{self.type}', index={self.index})"


device = Device
CPU = Device("cpu")
CUDA = Device("cuda")

_cupy = None


def _import_cupy():
    """Import CuPy once, or raise a RuntimeError that says what is missing."""
    global _cupy
    if _cupy is None:
        try:
            import cupy
        except ImportError as exc:
            raise RuntimeError(
                "device 'cuda' needs CuPy, which is not installed: pip install 'tinygrad_mnist[gpu]' "
                "(cupy-cuda13x) on a machine with an NVIDIA GPU") from exc
        try:
            count = cupy.cuda.runtime.getDeviceCount()
        except Exception as exc:  # CUDA driver missing or broken
            raise RuntimeError(f"device 'cuda' is not usable: CuPy found no CUDA driver ({exc})") from exc
        if count == 0:
            raise RuntimeError("device 'cuda' is not usable: CuPy sees no GPU")
        _cupy = cupy
    return _cupy


def cuda_is_available():
    """True when CuPy imports and sees at least one GPU (never raises)."""
    try:
        _import_cupy()
        return True
    except RuntimeError:
        return False


def _is_cupy_array(x):
    # By the type's module, so that a CuPy array made before the engine touched "cuda" is recognised.
    if type(x).__module__.startswith("cupy"):
        _import_cupy()
        return True
    return False


def device_of(array):
    """The Device an ndarray lives on."""
    return CUDA if _is_cupy_array(array) else CPU


def get_array_module(x):
    """``numpy`` or ``cupy`` for an ndarray, a Tensor, a Device or a device string."""
    if isinstance(x, (str, Device)):
        return _import_cupy() if Device(x).type == "cuda" else np
    array = getattr(x, "array", x)  # a Tensor holds its ndarray in .array
    return _cupy if _is_cupy_array(array) else np


def to_device(array, dev):
    """Move an ndarray to ``dev``, copying only when it is not there already."""
    dev = Device(dev)
    if dev.type == "cuda":
        cupy = _import_cupy()
        return array if isinstance(array, cupy.ndarray) else cupy.asarray(array)
    return to_numpy(array)


def to_numpy(array):
    """A NumPy array for ``array`` (a device-to-host copy for a CuPy array: never in hot paths)."""
    if _is_cupy_array(array):
        return array.get()
    return np.asarray(array)


def scatter_add(target, indices, values):
    """``target[indices] += values`` where repeated indices add up (unbuffered), in place."""
    if _is_cupy_array(target):
        import cupyx
        cupyx.scatter_add(target, indices, values)
    else:
        np.add.at(target, indices, values)
    return target


def sliding_windows(x, window, step):
    """A read-only strided view of ``x`` (N, C, H, W) as (N, C, OH, OW, KH, KW) windows.

    ``window`` is ``(KH_span, KW_span)`` in input pixels; ``step`` is ``(stride_h, stride_w)``.
    No data is copied: the view aliases ``x``, so callers that write must copy first.
    """
    n, c, h, w = x.shape
    kh, kw = window
    sh, sw = step
    oh, ow = (h - kh) // sh + 1, (w - kw) // sw + 1
    s = x.strides
    shape = (n, c, oh, ow, kh, kw)
    strides = (s[0], s[1], s[2] * sh, s[3] * sw, s[2], s[3])
    if _is_cupy_array(x):
        return _cupy.lib.stride_tricks.as_strided(x, shape, strides)
    return np.lib.stride_tricks.as_strided(x, shape, strides, writeable=False)


def axes_outer_first(a):
    """``a``'s axes from the largest stride to the smallest: its memory layout, as a transpose."""
    return sorted(range(a.ndim), key=lambda axis: -a.strides[axis])


def memory_order_flat(a):
    """A 1-D view of ``a``'s elements in memory order, or None when ``a`` is not one dense block
    (a slice with gaps, a broadcast). Every C-, F- or permuted-contiguous array has one."""
    in_memory_order = a.transpose(axes_outer_first(a))
    return in_memory_order.reshape(-1) if in_memory_order.flags.c_contiguous else None


# NumPy 2.x runs ``maximum(a, 0)`` in a scalar loop (the scalar operand has stride 0), but
# ``maximum`` of two contiguous arrays in its SIMD loop. On a 1.6M-element float32 map here:
# 0.53 ms against a scalar, 0.18 ms in runs of 64K elements against one block of zeros.
_RELU_RUN = 1 << 16
_zero_runs = {}


def relu(a):
    """``maximum(a, 0)`` as a new array in ``a``'s memory layout (NaN stays NaN, -0.0 gives 0.0)."""
    flat = memory_order_flat(a) if not _is_cupy_array(a) and a.size > _RELU_RUN else None
    if flat is None:
        return get_array_module(a).maximum(a, 0)
    out = np.empty_like(a)                                   # a's layout, so its flat view lines up
    out_flat = memory_order_flat(out)
    zeros = _zero_runs.get(a.dtype)
    if zeros is None:
        zeros = _zero_runs[a.dtype] = np.zeros(_RELU_RUN, dtype=a.dtype)
    for start in range(0, flat.size, _RELU_RUN):
        stop = min(flat.size, start + _RELU_RUN)
        np.maximum(flat[start:stop], zeros[:stop - start], out=out_flat[start:stop])
    return out


# Bytes of im2col columns per GEMM on the CPU (None: one GEMM for the whole batch). A convolution
# whose columns are larger is done by blocks of output rows: each block's columns are written and
# then read by BLAS while still in cache, instead of one copy out to DRAM and one GEMM streaming it
# back. Measured on the 32-filter CNN (batch 64, one thread, forward + backward): its 32->32 layer
# on 28x28 41.2 -> 36-37 ms with 1-4 MiB blocks, the one on 14x14 10.4 -> 9.1-9.5 ms, the whole
# step 69 -> 55-57 ms (Zen 5). Blocks of 8 MiB lost the whole gain; with 1-2 MiB, LeNet's second
# layer (3.8 MB of columns, 16-row GEMMs) was split too and got 10-20% slower. Columns of at most
# twice this size stay one block (conv.row_blocks): LeNet's first layer (5.0 MB) then keeps its
# columns for the weight gradient instead of rebuilding them in two blocks, backward 1.00 -> 0.70 ms
# with its forward unchanged (0.86 ms, one thread, on an AMD EPYC Zen 3). A GPU has no such cache
# to fit and pays a launch per block: one GEMM there.
CPU_GEMM_BLOCK_BYTES = 4 << 20


def gemm_block_bytes(array):
    """How many bytes of im2col columns to give one GEMM for ``array``'s device (None: no limit)."""
    return None if _is_cupy_array(array) else CPU_GEMM_BLOCK_BYTES


class Generator:
    """A seeded random number generator, like ``torch.Generator``.

    Random numbers are always drawn on the host (NumPy's PCG64) and then moved, so one seed gives
    the same initial weights and the same shuffles on the CPU and on the GPU.
    """

    def __init__(self, seed=None):
        self.numpy_rng = np.random.default_rng(seed)
        self._seed = seed

    def manual_seed(self, seed):
        if not isinstance(seed, (int, np.integer)):
            raise TypeError(f"manual_seed expects an int, got {type(seed).__name__}")
        self._seed = int(seed)
        self.numpy_rng = np.random.default_rng(self._seed)
        return self

    def initial_seed(self):
        return self._seed


default_generator = Generator(0)


def manual_seed(seed):
    """Reseed the engine's global generator (weights init, ``randn``, shuffles, dropout)."""
    return default_generator.manual_seed(seed)


def numpy_rng(generator=None):
    """The ``numpy.random.Generator`` behind ``generator`` (a ``tg.Generator``, or a NumPy generator
    itself), or behind the engine's default one when None: every random draw goes through here."""
    if generator is None:
        return default_generator.numpy_rng
    if isinstance(generator, np.random.Generator):
        return generator
    if not isinstance(generator, Generator):
        raise TypeError(f"generator must be a tinygrad_mnist.Generator or None, got {type(generator).__name__}")
    return generator.numpy_rng


def _keep_freed_memory_in_process():
    """Ask glibc's malloc to reuse freed memory instead of handing it back to the kernel.

    A training step allocates and frees the same large arrays every time (im2col matrices,
    activations, gradients). By default glibc serves each array over 128 KiB-32 MiB with a fresh
    mmap and unmaps it on free, so every step page-faults its whole working set in again
    (measured: about 3,000 faults and 15% of a CNN step). With mmap off and trimming raised, freed
    blocks stay in the heap and the next step reuses them: the process keeps its peak footprint,
    as PyTorch's caching allocators do. Linux/glibc only; TINYGRAD_MNIST_MALLOC=default opts out.
    """
    if os.environ.get("TINYGRAD_MNIST_MALLOC", "") == "default" or not os.uname().sysname == "Linux":
        return False
    try:
        import ctypes
        libc = ctypes.CDLL("libc.so.6")
    except OSError:  # not glibc (musl, ...): leave the allocator alone
        return False
    m_trim_threshold, m_top_pad, m_mmap_max = -1, -2, -4
    return bool(libc.mallopt(m_mmap_max, 0) and libc.mallopt(m_trim_threshold, 1 << 36)
                and libc.mallopt(m_top_pad, 64 << 20))


host_allocator_tuned = _keep_freed_memory_in_process()
