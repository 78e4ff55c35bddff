"""``tg.backends``: the switches PyTorch programs set and ask about (``torch.backends``).

Nothing here changes how the engine computes: there is no cuDNN, no MPS and no TF32 here, and the
engine's results are deterministic already. The flags are kept so that programs which set them
(``torch.backends.cudnn.deterministic = True``) or read them run unchanged.
"""
from __future__ import annotations

from . import backend

__all__ = ["mps", "cuda", "cudnn"]


class _Mps:
    """Apple's GPUs: never available here."""

    @staticmethod
    def is_available():
        return False

    @staticmethod
    def is_built():
        return False


class _Matmul:
    allow_tf32 = False                       # the engine never rounds matmuls to TF32
    allow_fp16_reduced_precision_reduction = True
    allow_bf16_reduced_precision_reduction = True


class _Cuda:
    matmul = _Matmul()

    @staticmethod
    def is_built():
        """True when CuPy, the engine's GPU library, is installed (a GPU need not be present)."""
        try:
            import cupy  # noqa: F401
        except ImportError:
            return False
        return True


class _Cudnn:
    """cuDNN's switches: accepted and stored; the engine has no cuDNN and is deterministic."""

    enabled = True
    benchmark = False
    deterministic = False
    allow_tf32 = True

    @staticmethod
    def is_available():
        return backend.cuda_is_available()

    @staticmethod
    def version():
        return None


mps = _Mps()
cuda = _Cuda()
cudnn = _Cudnn()
