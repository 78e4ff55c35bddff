"""Speed routes beside the reference ops, and the one switch that chooses between them.

``tinygrad_mnist/ops/`` is the reference: each op's forward and backward as its math, plain array
code on NCHW tensors. This package holds the faster ways to compute the same results (memory
layouts, cache blocking, fused CUDA kernels, in-place optimizer updates). Every route says what it
computes, why it is faster and on what, and a test holds it equal to its reference op and both to
PyTorch. No result depends on the switch beyond rounding.

The switch: the environment variable ``TINYGRAD_MNIST_FAST`` (``0`` runs the reference ops only;
anything else, or unset, takes the fast routes), read once at import, and at run time::

    tg.fast.set_enabled(False)          # from now on
    with tg.fast.set_enabled(False):    # for a block, then back
        ...
    tg.fast.is_enabled()
"""
from __future__ import annotations

import os

__all__ = ["is_enabled", "set_enabled"]


def _from_environment():
    return os.environ.get("TINYGRAD_MNIST_FAST", "1").strip().lower() not in ("0", "false", "no", "off")


_enabled = _from_environment()


def is_enabled():
    """True when the fast routes are in use (the default), False for the reference ops only."""
    return _enabled


class set_enabled:
    """Turn the fast routes on or off: a call that lasts, or a ``with`` block that restores."""

    def __init__(self, mode):
        global _enabled
        self.prev = _enabled
        _enabled = bool(mode)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        global _enabled
        _enabled = self.prev
        return False
