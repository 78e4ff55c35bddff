"""Hand-written CUDA kernels for the GPU path, where profiling showed they pay (CuPy only).

Each one replaces a chain of small CuPy kernels whose launch overhead dominated a training step
on the GPU (``python -m benchmarks.profile_step --device cuda``):

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
