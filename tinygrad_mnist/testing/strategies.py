"""Hypothesis strategies for property tests of tensor ops against PyTorch.

Shapes include size-1 dimensions (where broadcasting bugs hide); values are bounded finite
floats without subnormals (subnormals differ between BLAS builds and prove nothing).
"""
from __future__ import annotations

import numpy as np
from hypothesis import settings, strategies as st
from hypothesis.extra import numpy as hnp

FLOAT_DTYPES = (np.float64, np.float32)


def register_profiles():
    """``ci``: derandomized and quick; ``dev``: explores more. Select with HYPOTHESIS_PROFILE."""
    settings.register_profile("ci", derandomize=True, max_examples=15, deadline=None, print_blob=True)
    settings.register_profile("dev", max_examples=200, deadline=None, print_blob=True)


def shapes(min_dims=0, max_dims=4, min_side=1, max_side=5):
    return hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=min_side, max_side=max_side)


def broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=4, max_side=5):
    """Tuples of shapes that broadcast together (``mutually_broadcastable_shapes``)."""
    return hnp.mutually_broadcastable_shapes(num_shapes=num_shapes, min_dims=min_dims,
                                             max_dims=max_dims, max_side=max_side).map(lambda bs: bs.input_shapes)


def floats(dtype=np.float64, min_value=-10.0, max_value=10.0):
    width = 32 if np.dtype(dtype) == np.float32 else 64
    if width == 32:  # bounds must be representable in float32: round them inwards
        min_value = float(np.nextafter(np.float32(min_value), np.float32(np.inf))) if float(np.float32(min_value)) < min_value else float(np.float32(min_value))
        max_value = float(np.nextafter(np.float32(max_value), np.float32(-np.inf))) if float(np.float32(max_value)) > max_value else float(np.float32(max_value))
    return st.floats(min_value=min_value, max_value=max_value, allow_nan=False, allow_infinity=False,
                     allow_subnormal=False, width=width)


def arrays(shape, dtype=np.float64, min_value=-10.0, max_value=10.0, elements=None):
    """Arrays of ``shape`` (a shape or a strategy of shapes) with bounded finite elements."""
    if elements is None:
        elements = floats(dtype, min_value, max_value)
    return hnp.arrays(np.dtype(dtype), shape, elements=elements)


def distinct_arrays(shape, dtype=np.float64, min_value=-10.0, max_value=10.0):
    """Arrays whose elements are pairwise distinct: no ties for max/min, no kinks hit by accident."""
    return hnp.arrays(np.dtype(dtype), shape, elements=floats(dtype, min_value, max_value), unique=True)


def away_from(values, points=(0.0,), margin=1e-3):
    """Move elements closer than ``margin`` to a kink point away from it (for finite differences)."""
    v = np.array(values, copy=True)
    for p in points:
        near = np.abs(v - p) < margin
        v[near] = p + np.where(v[near] >= p, margin, -margin)
    return v


@st.composite
def dims_and_keepdim(draw, ndim, allow_none=True, allow_tuple=True):
    """A ``dim`` argument for a reduction over an ``ndim`` tensor (int, tuple or None) and keepdim."""
    keepdim = draw(st.booleans())
    options = []
    if allow_none:
        options.append(st.none())
    if ndim > 0:
        options.append(st.integers(-ndim, ndim - 1))
        if allow_tuple:
            options.append(st.lists(st.integers(0, ndim - 1), min_size=1, max_size=ndim, unique=True)
                           .map(lambda ds: tuple(d - ndim if i % 2 else d for i, d in enumerate(ds))))
    return draw(st.one_of(*options)), keepdim


@st.composite
def conv_configs(draw, max_batch=3, max_channels=4, max_size=9):
    """A Conv2d problem: N, C_in, C_out, H, W (non-square), kernel, stride, padding, dilation."""
    kh, kw = draw(st.integers(1, 5)), draw(st.integers(1, 5))
    sh, sw = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    ph, pw = draw(st.integers(0, 2)), draw(st.integers(0, 2))
    dh, dw = draw(st.integers(1, 2)), draw(st.integers(1, 2))
    min_h = max(1, dh * (kh - 1) + 1 - 2 * ph)
    min_w = max(1, dw * (kw - 1) + 1 - 2 * pw)
    h = draw(st.integers(min_h, max(min_h, max_size)))
    w = draw(st.integers(min_w, max(min_w, max_size)))
    return dict(n=draw(st.integers(1, max_batch)), c_in=draw(st.integers(1, max_channels)),
                c_out=draw(st.integers(1, max_channels)), h=h, w=w, kernel_size=(kh, kw),
                stride=(sh, sw), padding=(ph, pw), dilation=(dh, dw), bias=draw(st.booleans()))


@st.composite
def pool_configs(draw, max_batch=3, max_channels=3, max_size=9, max_dilation=1):
    """A pooling problem: N, C, H, W (drawn independently), kernel, stride (None = kernel), padding <=
    kernel // 2 (PyTorch's limit), dilation (1 unless ``max_dilation`` > 1: max-pool only) and
    ceil_mode. H and W are at least the dilated kernel, so every configuration is valid."""
    kh, kw = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    stride = draw(st.one_of(st.none(), st.tuples(st.integers(1, 3), st.integers(1, 3))))
    ph, pw = draw(st.integers(0, kh // 2)), draw(st.integers(0, kw // 2))
    dh, dw = draw(st.integers(1, max_dilation)), draw(st.integers(1, max_dilation))
    span_h, span_w = dh * (kh - 1) + 1, dw * (kw - 1) + 1
    h = draw(st.integers(span_h, max(span_h, max_size)))
    w = draw(st.integers(span_w, max(span_w, max_size)))
    return dict(n=draw(st.integers(1, max_batch)), c=draw(st.integers(1, max_channels)), h=h, w=w,
                kernel_size=(kh, kw), stride=stride, padding=(ph, pw), dilation=(dh, dw),
                ceil_mode=draw(st.booleans()))
