"""Hand-written CUDA kernels for the GPU path, where profiling showed they pay (CuPy only).

Each one replaces a chain of small CuPy kernels whose launch overhead dominated a training step
on the GPU (``python -m benchmarks.profile_step --device cuda``):

* max-pool forward: one pass that finds each window's maximum and its kernel offset, with the
  NumPy path's exact tie, NaN and padding rules (the loop over kernel offsets in ``ops/pool.py``
  launches four kernels per offset);
* max-pool backward: one pass that adds each output's gradient at its argmax (atomicAdd, so
  overlapping windows add up);
* Adam: the whole update of one parameter in one kernel, in the order of ``optim/adam.py``'s
  array code (about ten kernels there).

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


@functools.lru_cache(maxsize=None)
def _adam_kernel():
    cupy = backend.get_array_module("cuda")
    return cupy.ElementwiseKernel(
        "T g, T weight_decay, T sign, T lerp_weight, T beta2, T one_minus_beta2, T sqrt_bc2, T eps, "
        "T neg_step_size, bool amsgrad",
        "T w, T m, T v, raw T v_max",
        """
        T d = sign * g;                                   /* -g when maximizing */
        if (weight_decay != (T)0) d = d + weight_decay * w;
        const T diff = d - m;                             /* m.lerp_(d, 1 - beta1), both of PyTorch's forms */
        if (fabs(lerp_weight) < (T)0.5) m = m + lerp_weight * diff;
        else m = d - diff * ((T)1 - lerp_weight);
        v = v * beta2 + (d * one_minus_beta2) * d;        /* addcmul's order */
        T v_hat = v;
        if (amsgrad) { v_max[i] = max(v_max[i], v); v_hat = v_max[i]; }
        const T denom = sqrt(v_hat) / sqrt_bc2 + eps;     /* eps after the bias correction */
        w = w + (m * neg_step_size) / denom;              /* addcdiv's order */
        """,
        "tg_adam_update",
    )


def adam_update(w, g, m, v, v_max, *, weight_decay, maximize, beta1, beta2, eps, step_size, bias_correction2):
    """One Adam step on CuPy arrays, in place (``v_max`` is None unless amsgrad)."""
    dtype = w.dtype.type
    _adam_kernel()(g, dtype(weight_decay), dtype(-1 if maximize else 1), dtype(1 - beta1), dtype(beta2),
                   dtype(1 - beta2), dtype(bias_correction2 ** 0.5), dtype(eps), dtype(-step_size),
                   v_max is not None, w, m, v, v if v_max is None else v_max)
