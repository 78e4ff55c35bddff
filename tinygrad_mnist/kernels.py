"""Hand-written CUDA kernels for the GPU path, where profiling showed they pay (CuPy only).

Each one replaces a chain of small CuPy kernels whose launch overhead dominated a training step
on the GPU (``python -m benchmarks.profile_step --device cuda``):

* max-pool forward: one pass that finds each window's maximum and its kernel offset, with the
  NumPy path's exact tie, NaN and padding rules (the loop over kernel offsets in ``ops/pool.py``
  launches four kernels per offset);
* max-pool backward: one pass that adds each output's gradient at its argmax (atomicAdd, so
  overlapping windows add up).

(Adam's kernel lives with the other optimizer routes, in ``fast/optim.py``.)

The NumPy/CuPy array code stays the reference: the kernels are checked against it and against
PyTorch by the same tests on the GPU. ``TINYGRAD_MNIST_KERNELS=0`` turns them off. Each kernel
is compiled once, on first use, and cached by CuPy.
"""
from __future__ import annotations

import functools
import os

from . import backend


def use_kernels(array):
    """True when ``array`` lives on the GPU and the custom kernels are not switched off."""
    return backend.device_of(array).type == "cuda" and os.environ.get("TINYGRAD_MNIST_KERNELS", "1") != "0"


@functools.lru_cache(maxsize=None)
def _maxpool_forward_kernel():
    cupy = backend.get_array_module("cuda")
    return cupy.ElementwiseKernel(
        "raw T x, int32 H, int32 W, int32 OH, int32 OW, int32 KH, int32 KW, int32 SH, int32 SW, "
        "int32 PT, int32 PL, int32 DH, int32 DW",
        "T out, int32 arg",
        """
        const int ox = i % OW, oy = (i / OW) % OH;
        const long long plane = (long long)(i / ((long long)OW * OH)) * H * W;
        T best = -CUDART_INF;
        int k_best = -1;
        for (int a = 0; a < KH; ++a) {
            const int y = oy * SH - PT + a * DH;
            for (int b = 0; b < KW; ++b) {
                const int xx = ox * SW - PL + b * DW;
                const bool inside = y >= 0 && y < H && xx >= 0 && xx < W;
                if (!inside) continue;                  /* padding is -inf: it never wins */
                if (k_best < 0) k_best = a * KW + b;    /* an all -inf window picks its first element inside */
                const T v = x[plane + (long long)y * W + xx];
                if (v > best || isnan(v)) { best = v; k_best = a * KW + b; }  /* first max; NaN wins, the last */
            }
        }
        out = best;
        arg = k_best;
        """,
        "tg_maxpool2d_forward",
        preamble="#include <math_constants.h>",
    )


@functools.lru_cache(maxsize=None)
def _maxpool_backward_kernel():
    cupy = backend.get_array_module("cuda")
    return cupy.ElementwiseKernel(
        "T g, int32 arg, int32 H, int32 W, int32 OH, int32 OW, int32 KW, int32 SH, int32 SW, "
        "int32 PT, int32 PL, int32 DH, int32 DW",
        "raw T grad_x",
        """
        const int ox = i % OW, oy = (i / OW) % OH;
        const long long plane = (long long)(i / ((long long)OW * OH)) * H * W;
        const int y = oy * SH - PT + (arg / KW) * DH, xx = ox * SW - PL + (arg % KW) * DW;
        atomicAdd(&grad_x[plane + (long long)y * W + xx], g);
        """,
        "tg_maxpool2d_backward",
    )


def maxpool2d_forward(x, geometry):
    """(out, arg) for a contiguous (N, C, H, W) CuPy array: the window maxima and their offsets."""
    cupy = backend.get_array_module("cuda")
    n, c, h, w = x.shape
    (kh, kw), (sh, sw), (dh, dw), (oh, ow) = geometry.kernel, geometry.stride, geometry.dilation, geometry.out
    (pt, _), (pl, _) = geometry.pads
    out = cupy.empty((n, c, oh, ow), dtype=x.dtype)
    arg = cupy.empty((n, c, oh, ow), dtype=cupy.int32)
    _maxpool_forward_kernel()(cupy.ascontiguousarray(x), h, w, oh, ow, kh, kw, sh, sw, pt, pl, dh, dw, out, arg)
    return out, arg


def maxpool2d_backward(g, arg, in_shape, geometry):
    """The input gradient: each output's gradient added at its argmax."""
    cupy = backend.get_array_module("cuda")
    n, c, h, w = in_shape
    (_, kw), (sh, sw), (dh, dw), (oh, ow) = geometry.kernel, geometry.stride, geometry.dilation, geometry.out
    (pt, _), (pl, _) = geometry.pads
    grad_x = cupy.zeros(in_shape, dtype=g.dtype)
    _maxpool_backward_kernel()(cupy.ascontiguousarray(g), arg, h, w, oh, ow, kw, sh, sw, pt, pl, dh, dw, grad_x)
    return grad_x
