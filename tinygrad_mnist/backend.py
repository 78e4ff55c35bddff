"""The one place that knows NumPy from CuPy.

Everything else asks this module for ``xp`` (the array module of the device at hand), whether an
array is a CuPy one (``is_cupy_array``), and for the few operations whose spelling differs between
the two libraries: moving arrays between host and device, scatter-add, strided windows and the
random number generator. (Speed tuning lives in ``tinygrad_mnist/fast/``.)

CuPy is imported lazily, on the first request for "cuda", so the CPU engine never needs it.
"""
from __future__ import annotations

import contextlib

import numpy as np

__all__ = [
    "device", "Device", "get_array_module", "is_cupy_array", "to_device", "to_numpy", "device_of",
    "cuda_is_available", "scatter_add", "sliding_windows", "Generator", "default_generator",
    "manual_seed", "initial_seed", "seed", "numpy_rng", "erf", "scatter_multiply", "quiet",
]


class Device:
    """A device: ``Device("cpu")``, ``Device("cuda")``, ``Device("cuda:0")`` or ``Device("cuda", 0)``
    (one GPU only: every index means that GPU), as ``torch.device``.

    Compares equal to another Device of the same type and to its string (``t.device == "cpu"``).
    """

    __slots__ = ("type", "index")

    def __init__(self, spec="cpu", index=None):
        if isinstance(spec, Device):
            if index is not None:
                raise TypeError("device(): an index goes with a device type string, not with a device")
            self.type, self.index = spec.type, spec.index
            return
        if isinstance(spec, int) and not isinstance(spec, bool) and index is None:
            spec = f"cuda:{spec}"  # torch.device(0) is the first GPU
        if not isinstance(spec, str):
            raise TypeError(f"device must be a string or a Device, got {type(spec).__name__}")
        kind, colon, text = spec.partition(":")
        if kind not in ("cpu", "cuda"):
            raise ValueError(f"unknown device {spec!r}: expected 'cpu' or 'cuda'")
        if colon and not text.isdigit():
            raise ValueError(f"bad device index in {spec!r}")
        if index is not None:
            if colon:
                raise RuntimeError(f"device(): type (string) must not include an index because index was passed "
                                   f"explicitly: {spec}")
            if isinstance(index, bool) or not isinstance(index, int) or index < 0:
                raise RuntimeError(f"device(): device index must be a non-negative integer, got {index!r}")
        self.type = kind
        self.index = int(text) if colon else index

    def __eq__(self, other):
        if other is self:
            return True
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


def is_cupy_array(x):
    # By the type's module, so that a CuPy array made before the engine touched "cuda" is recognised.
    kind = type(x)
    if kind is np.ndarray:
        return False
    if kind.__module__.startswith("cupy"):
        _import_cupy()
        return True
    return False


def device_of(array):
    """The Device an ndarray lives on."""
    return CUDA if is_cupy_array(array) else CPU


def get_array_module(x):
    """``numpy`` or ``cupy`` for an ndarray, a Tensor, a Device or a device string."""
    if type(x) is np.ndarray:  # the common case first: this runs in every op
        return np
    if isinstance(x, (str, Device)):
        return _import_cupy() if Device(x).type == "cuda" else np
    array = getattr(x, "array", x)  # a Tensor holds its ndarray in .array
    return _cupy if is_cupy_array(array) else np


def quiet(xp):
    """A block without NumPy's divide/overflow/invalid warnings: as in PyTorch, inf and NaN are
    results, not errors. (CuPy does not warn: nothing to switch off there.)"""
    if xp is np:
        return np.errstate(divide="ignore", over="ignore", invalid="ignore")
    return contextlib.nullcontext()


def to_device(array, dev):
    """Move an ndarray to ``dev``, copying only when it is not there already."""
    dev = Device(dev)
    if dev.type == "cuda":
        cupy = _import_cupy()
        return array if isinstance(array, cupy.ndarray) else cupy.asarray(array)
    return to_numpy(array)


def to_numpy(array):
    """A NumPy array for ``array`` (a device-to-host copy for a CuPy array: never in hot paths)."""
    if is_cupy_array(array):
        return array.get()
    return np.asarray(array)


def scatter_add(target, indices, values):
    """``target[indices] += values`` where repeated indices add up (unbuffered), in place."""
    if is_cupy_array(target):
        import cupyx
        cupyx.scatter_add(target, indices, values)
    else:
        np.add.at(target, indices, values)
    return target


def scatter_multiply(target, indices, values):
    """``target[indices] *= values`` where repeated indices multiply in turn (unbuffered), in place."""
    if is_cupy_array(target):  # CuPy has no multiply.at: done on the host (scatter(reduce=) only)
        host = target.get()
        np.multiply.at(host, tuple(i.get() if is_cupy_array(i) else i for i in indices)
                       if isinstance(indices, tuple) else indices, values.get())
        target[...] = _cupy.asarray(host)
    else:
        np.multiply.at(target, indices, values)
    return target


def erf(x):
    """The error function of a float array (NumPy has none: the C library's, element by element)."""
    if is_cupy_array(x):
        import cupyx.scipy.special
        return cupyx.scipy.special.erf(x)
    import math
    return np.asarray(np.frompyfunc(math.erf, 1, 1)(x), dtype=x.dtype)


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
    if is_cupy_array(x):
        return _cupy.lib.stride_tricks.as_strided(x, shape, strides)
    return np.lib.stride_tricks.as_strided(x, shape, strides, writeable=False)


#: the seed of a new ``Generator()``, as ``torch.Generator().initial_seed()``
DEFAULT_GENERATOR_SEED = 67280421310721


class Generator:
    """A seeded random number generator, like ``torch.Generator``.

    Random numbers are always drawn on the host (NumPy's PCG64) and then moved, so one seed gives
    the same initial weights and the same shuffles on the CPU and on the GPU. ``Generator()``
    starts from PyTorch's fixed default seed (67280421310721); the global ``default_generator``
    instead starts from a seed drawn at random when the process starts (see ``initial_seed``).
    """

    def __init__(self, device="cpu", seed=None):
        if not isinstance(device, (str, Device)):  # the old positional form Generator(seed)
            device, seed = "cpu", device
        self.device = Device(device)
        self.manual_seed(DEFAULT_GENERATOR_SEED if seed is None else seed)

    def manual_seed(self, seed):
        if not isinstance(seed, (int, np.integer)):
            raise TypeError(f"manual_seed expects an int, got {type(seed).__name__}")
        seed = int(seed)
        if not -2 ** 63 <= seed < 2 ** 64:
            raise RuntimeError(f"Overflow when unpacking long: manual_seed({seed}) needs a seed in "
                               f"[-2**63, 2**64)")
        self._seed = seed % 2 ** 64  # a negative seed is taken modulo 2**64, as torch does
        self.numpy_rng = np.random.default_rng(self._seed)
        return self

    def seed(self):
        """Reseed from the operating system's entropy; returns the new seed."""
        self.manual_seed(_fresh_seed())
        return self._seed

    def initial_seed(self):
        """The seed this generator was last seeded with."""
        return self._seed

    def get_state(self):
        """The generator's state (NumPy's bit-generator state dict; not torch's byte tensor)."""
        return self.numpy_rng.bit_generator.state

    def set_state(self, state):
        self.numpy_rng.bit_generator.state = state
        return self


def _fresh_seed():
    import secrets
    return secrets.randbits(64)


# As in PyTorch, every process starts from a different random seed (``initial_seed()`` reports it);
# ``manual_seed`` makes a run reproducible, and the command line always seeds explicitly.
default_generator = Generator(seed=_fresh_seed())


def manual_seed(seed):
    """Reseed the engine's global generator (weights init, ``randn``, shuffles, dropout)."""
    return default_generator.manual_seed(seed)


def initial_seed():
    """The seed of the global generator: drawn at random when the process started, or the last
    ``manual_seed``/``seed``."""
    return default_generator.initial_seed()


def seed():
    """Reseed the global generator from the operating system's entropy; returns the seed."""
    return default_generator.seed()


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
