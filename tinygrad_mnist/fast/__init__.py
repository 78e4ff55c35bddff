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

A route is a subclass of its reference op, registered with ``@route(Op)``: it has a static
``accepts(*args, **params)`` (whether it applies to these inputs: a device, a layout), and
overrides ``forward`` and/or defines ``fast_backward(ctx, *grad_arrays)`` on arrays. Its forward
saves with ``ctx.save_for_backward`` what the reference ``backward`` needs, so that a
``create_graph=True`` backward (which always takes the reference, on Tensors) works after a fast
forward; its own arrays go to ``ctx.save_arrays``. Its graph node carries the op's name.

The routes (``load_routes`` imports them, once the ops exist):

* ``conv``: Conv2d with the batch innermost in memory and cache-sized GEMM blocks (CPU and GPU);
* ``pool``: max-pooling's argmax in whole-array passes, in the input's memory layout (CPU), or
  in one CUDA kernel each way (GPU); average pooling in the input's layout;
* ``elementwise``: ReLU in 64K-element runs and a multiply for its backward (CPU);
* ``linear``, ``loss``: Linear and the fused cross-entropy with their backward on arrays, which
  skips the Tensor bookkeeping of the reference's backward;
* ``allocator``: keep freed memory in the process (glibc), opt-in (``enable_host_allocator``).
"""
from __future__ import annotations

import os

__all__ = ["is_enabled", "set_enabled", "route", "load_routes"]


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


def route(op):
    """Register the decorated class as a fast route of ``op`` (tried in registration order)."""
    def register(cls):
        cls._op_name = op._op_name
        op._fast_routes = op._fast_routes + (cls,)
        return cls
    return register


_loaded = False


def load_routes():
    """Import the route modules (they register themselves); called once the ops are defined."""
    global _loaded
    if not _loaded:
        _loaded = True
        from . import conv, elementwise, linear, loss, pool  # noqa: F401
