"""Every core op against real PyTorch: forward values and gradients, float64 and float32.

Each test draws shapes (with size-1 dims and broadcasting) and values with hypothesis, runs the
op in both engines on identical inputs, backpropagates the same random upstream gradient and
compares outputs and input gradients (``assert_matches_torch``: float64 rtol 1e-10, float32 1e-5).
"""
import numpy as np
import pytest
import torch
from hypothesis import assume, given, strategies as st

import tinygrad_mnist as tg
from tinygrad_mnist.testing import assert_matches_torch
from tinygrad_mnist.testing.strategies import (FLOAT_DTYPES, arrays, away_from, broadcastable_shapes,
                                               dims_and_keepdim, distinct_arrays, shapes)

DTYPES = pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=["float64", "float32"])

# name -> (ours, torch, (low, high) input range)
UNARY = {
    "neg": (lambda x: -x, lambda x: -x, (-10, 10)),
    "exp": (lambda x: x.exp(), torch.exp, (-5, 5)),
    "log": (lambda x: x.log(), torch.log, (0.1, 10)),
    "sqrt": (lambda x: x.sqrt(), torch.sqrt, (0.1, 10)),
    "tanh": (lambda x: x.tanh(), torch.tanh, (-5, 5)),
    "sigmoid": (lambda x: x.sigmoid(), torch.sigmoid, (-20, 20)),
    "relu": (lambda x: x.relu(), torch.relu, (-10, 10)),
    "abs": (lambda x: x.abs(), torch.abs, (-10, 10)),
    "clamp": (lambda x: x.clamp(-1.5, 2.0), lambda x: x.clamp(-1.5, 2.0), (-5, 5)),
    "clamp_min": (lambda x: x.clamp(min=0.5), lambda x: x.clamp(min=0.5), (-5, 5)),
    "clamp_max": (lambda x: x.clamp(max=0.5), lambda x: x.clamp(max=0.5), (-5, 5)),
    "pow_scalar": (lambda x: x ** 3, lambda x: x ** 3, (-3, 3)),
    "pow_fractional": (lambda x: x ** 0.5, lambda x: x ** 0.5, (0.1, 10)),
    "rpow_scalar": (lambda x: 2.0 ** x, lambda x: 2.0 ** x, (-3, 3)),
    "square": (lambda x: x.square(), torch.square, (-5, 5)),
}


@DTYPES
@pytest.mark.parametrize("name", list(UNARY))
@given(data=st.data())
def test_unary(name, dtype, data, device):
    ours, ref, (lo, hi) = UNARY[name]
    x = data.draw(arrays(shapes(), dtype, lo, hi))
    assert_matches_torch(ours, ref, x, dtype=dtype, device=device)


BINARY = {
    "add": (lambda a, b: a + b, lambda a, b: a + b, None),
    "sub": (lambda a, b: a - b, lambda a, b: a - b, None),
    "mul": (lambda a, b: a * b, lambda a, b: a * b, None),
    "div": (lambda a, b: a / b, lambda a, b: a / b, "nonzero"),
    "pow": (lambda a, b: a ** b, lambda a, b: a ** b, "positive"),
}


@DTYPES
@pytest.mark.parametrize("name", list(BINARY))
@given(data=st.data())
def test_binary_broadcasting(name, dtype, data, device):
    ours, ref, domain = BINARY[name]
    shape_a, shape_b = data.draw(broadcastable_shapes(2))
    a = data.draw(arrays(shape_a, dtype, 0.5 if domain == "positive" else -10, 3 if domain == "positive" else 10))
    b = data.draw(arrays(shape_b, dtype, -3 if domain == "positive" else -10, 3 if domain == "positive" else 10))
    if domain == "nonzero":
        b = away_from(b, (0.0,), margin=0.5)
    assert_matches_torch(ours, ref, a, b, dtype=dtype, device=device)


@DTYPES
@pytest.mark.parametrize("name", ["add", "sub", "mul", "div"])
@given(data=st.data())
def test_binary_with_python_scalar_both_sides(name, dtype, data, device):
    ours, ref, _ = BINARY[name]
    x = away_from(data.draw(arrays(shapes(), dtype)), (0.0,), 0.5)
    c = data.draw(st.floats(-5, 5).filter(lambda v: abs(v) > 0.1))
    assert_matches_torch(lambda t: ours(t, c) + ours(c, t), lambda t: ref(t, c) + ref(c, t), x,
                         dtype=dtype, device=device)


MATMUL_SHAPES = st.sampled_from([
    ((4,), (4,)), ((4,), (4, 3)), ((2, 4), (4,)), ((2, 4), (4, 3)), ((1, 1), (1, 1)),
    ((5, 2, 4), (4, 3)), ((2, 4), (5, 4, 3)), ((5, 2, 4), (5, 4, 3)), ((3, 1, 2, 4), (5, 4, 3)),
    ((4,), (2, 4, 3)), ((2, 3, 4), (4,)),
])


@DTYPES
@given(data=st.data())
def test_matmul(dtype, data, device):
    sa, sb = data.draw(MATMUL_SHAPES)
    a, b = data.draw(arrays(sa, dtype)), data.draw(arrays(sb, dtype))
    assert_matches_torch(lambda x, y: x @ y, lambda x, y: x @ y, a, b, dtype=dtype, device=device)


REDUCTIONS = {
    "sum": (lambda x, d, k: x.sum(d, keepdim=k), lambda x, d, k: x.sum(d, keepdim=k)),
    "mean": (lambda x, d, k: x.mean(d, keepdim=k), lambda x, d, k: x.mean(d, keepdim=k)),
    "amax": (lambda x, d, k: x.amax(d if d is not None else (), keepdim=k),
             lambda x, d, k: x.amax(d if d is not None else (), keepdim=k)),
    "amin": (lambda x, d, k: x.amin(d if d is not None else (), keepdim=k),
             lambda x, d, k: x.amin(d if d is not None else (), keepdim=k)),
}


@DTYPES
@pytest.mark.parametrize("name", list(REDUCTIONS))
@given(data=st.data())
def test_reduction(name, dtype, data, device):
    ours, ref = REDUCTIONS[name]
    x = data.draw(distinct_arrays(shapes(min_dims=1), dtype))
    dim, keepdim = data.draw(dims_and_keepdim(x.ndim))
    assert_matches_torch(lambda t: ours(t, dim, keepdim), lambda t: ref(t, dim, keepdim), x, dtype=dtype, device=device)


@DTYPES
@pytest.mark.parametrize("name", ["max", "min"])
@given(data=st.data())
def test_max_min_full(name, dtype, data, device):
    x = data.draw(distinct_arrays(shapes(), dtype))
    assert_matches_torch(lambda t: getattr(t, name)(), lambda t: getattr(t, name)(), x, dtype=dtype, device=device)


@DTYPES
@pytest.mark.parametrize("name", ["max", "min"])
@given(data=st.data())
def test_max_min_dim(name, dtype, data, device):
    x = data.draw(distinct_arrays(shapes(min_dims=1), dtype))
    dim, keepdim = data.draw(dims_and_keepdim(x.ndim, allow_none=False, allow_tuple=False))
    assert_matches_torch(lambda t: tuple(getattr(t, name)(dim, keepdim)),
                         lambda t: tuple(getattr(t, name)(dim, keepdim)), x, dtype=dtype, device=device)


@DTYPES
@pytest.mark.parametrize("name", ["max", "min"])
@given(data=st.data())
def test_ties_max_min_dim_pick_torch_index(name, dtype, data, device):
    """Tied extremes along dim: same index as torch, and the gradient goes to that one element."""
    x = data.draw(arrays(shapes(min_dims=1, min_side=2), dtype, elements=st.integers(-1, 1).map(float)))
    dim = data.draw(st.integers(-x.ndim, x.ndim - 1))
    assert_matches_torch(lambda t: tuple(getattr(t, name)(dim)), lambda t: tuple(getattr(t, name)(dim)),
                         x, dtype=dtype, device=device)


@DTYPES
@pytest.mark.parametrize("name", ["max", "min", "amax", "amin"])
@given(data=st.data())
def test_ties_full_reduction_split_gradient_evenly(name, dtype, data, device):
    x = data.draw(arrays(shapes(min_side=2), dtype, elements=st.integers(-1, 1).map(float)))
    assert_matches_torch(lambda t: getattr(t, name)(), lambda t: getattr(t, name)(), x, dtype=dtype, device=device)


@DTYPES
@given(data=st.data())
def test_argmax_argmin(dtype, data, device):
    x = data.draw(arrays(shapes(min_dims=1), dtype, elements=st.integers(-2, 2).map(float)))
    dim = data.draw(st.one_of(st.none(), st.integers(-x.ndim, x.ndim - 1)))
    keepdim = data.draw(st.booleans())
    assert_matches_torch(lambda t: (t.argmax(dim, keepdim), t.argmin(dim, keepdim)),
                         lambda t: (t.argmax(dim, keepdim), t.argmin(dim, keepdim)), x, dtype=dtype,
                         device=device, grad=False)


@DTYPES
@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
@given(data=st.data())
def test_softmax(name, dtype, data, device):
    x = data.draw(arrays(shapes(min_dims=1), dtype, -30, 30))
    dim = data.draw(st.integers(-x.ndim, x.ndim - 1))
    assert_matches_torch(lambda t: getattr(t, name)(dim), lambda t: getattr(t, name)(dim), x, dtype=dtype, device=device)


@DTYPES
@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_softmax_is_stable_for_huge_logits(name, dtype, device):
    x = np.array([[1e4, -1e4, 0.0], [800.0, 800.0, -800.0]])
    assert_matches_torch(lambda t: getattr(t, name)(1), lambda t: getattr(t, name)(1), x, dtype=dtype, device=device)


# ---------------------------------------------------------------- movement
def _reshape_target(shape, data):
    size = int(np.prod(shape))
    divisors = [d for d in range(1, size + 1) if size % d == 0]
    d = data.draw(st.sampled_from(divisors))
    return (d, -1) if data.draw(st.booleans()) else (d, size // d)


@DTYPES
@pytest.mark.parametrize("name", ["reshape", "view"])
@given(data=st.data())
def test_reshape_view(name, dtype, data, device):
    x = data.draw(arrays(shapes(), dtype))
    target = _reshape_target(x.shape, data)
    assert_matches_torch(lambda t: getattr(t, name)(*target), lambda t: getattr(t, name)(*target), x,
                         dtype=dtype, device=device)


@DTYPES
@given(data=st.data())
def test_flatten(dtype, data, device):
    x = data.draw(arrays(shapes(min_dims=1), dtype))
    start = data.draw(st.integers(0, x.ndim - 1))
    end = data.draw(st.integers(start, x.ndim - 1))
    assert_matches_torch(lambda t: t.flatten(start, end), lambda t: t.flatten(start, end), x, dtype=dtype, device=device)


@DTYPES
@given(data=st.data())
def test_squeeze_unsqueeze(dtype, data, device):
    x = data.draw(arrays(shapes(max_side=2), dtype))
    d = data.draw(st.integers(-x.ndim - 1, x.ndim))
    sq = data.draw(st.one_of(st.none(), st.integers(-max(x.ndim, 1), max(x.ndim, 1) - 1)))
    def both(t):
        return (t.squeeze() if sq is None else t.squeeze(sq)), t.unsqueeze(d)

    assert_matches_torch(both, both, x, dtype=dtype, device=device)


@DTYPES
@given(data=st.data())
def test_transpose_permute_T(dtype, data, device):
    x = data.draw(arrays(shapes(min_dims=2), dtype))
    d0, d1 = data.draw(st.integers(-x.ndim, x.ndim - 1)), data.draw(st.integers(-x.ndim, x.ndim - 1))
    perm = data.draw(st.permutations(range(x.ndim)))
    ref_T = (lambda t: t.T) if x.ndim == 2 else (lambda t: t.permute(*reversed(range(t.ndim))))
    assert_matches_torch(lambda t: (t.transpose(d0, d1), t.permute(*perm), t.T),
                         lambda t: (t.transpose(d0, d1), t.permute(*perm), ref_T(t)), x, dtype=dtype, device=device)


@DTYPES
@given(data=st.data())
def test_expand(dtype, data, device):
    small, big = data.draw(broadcastable_shapes(2, max_dims=3))
    target = tuple(np.broadcast_shapes(small, big))
    x = data.draw(arrays(small, dtype))
    spec = tuple(-1 if i >= len(target) - len(small) and data.draw(st.booleans()) else n for i, n in enumerate(target))
    assert_matches_torch(lambda t: t.expand(spec), lambda t: t.expand(spec), x, dtype=dtype, device=device)


@st.composite
def _basic_index(draw, shape):
    index = []
    for n in shape[:draw(st.integers(0, len(shape)))]:
        kind = draw(st.sampled_from(["int", "slice", "all"]))
        if kind == "int":
            index.append(draw(st.integers(-n, n - 1)))
        elif kind == "slice":
            start = draw(st.integers(-n, n - 1))
            step = draw(st.integers(1, 3))
            index.append(slice(start, None, step))
        else:
            index.append(slice(None))
    return tuple(index)


@DTYPES
@given(data=st.data())
def test_getitem_ints_and_slices(dtype, data, device):
    x = data.draw(arrays(shapes(min_dims=1), dtype))
    index = data.draw(_basic_index(x.shape))
    assert_matches_torch(lambda t: t[index], lambda t: t[index], x, dtype=dtype, device=device)


@DTYPES
@given(data=st.data())
def test_getitem_integer_arrays_with_repeats(dtype, data, device):
    """Repeated indices must add their gradients up."""
    x = data.draw(arrays(shapes(min_dims=1), dtype))
    idx = np.array(data.draw(st.lists(st.integers(-x.shape[0], x.shape[0] - 1), min_size=1, max_size=6)))
    assert_matches_torch(lambda t, i: t[i], lambda t, i: t[i], x, idx, dtype=dtype, device=device)
    if x.ndim >= 2:
        idx2 = np.array(data.draw(st.lists(st.integers(0, x.shape[1] - 1), min_size=len(idx), max_size=len(idx))))
        assert_matches_torch(lambda t, i, j: t[i, j], lambda t, i, j: t[i, j], x, idx, idx2, dtype=dtype, device=device)


@DTYPES
@given(data=st.data())
def test_getitem_boolean_mask(dtype, data, device):
    x = data.draw(arrays(shapes(min_dims=1), dtype))
    assert_matches_torch(lambda t: t[t > 0], lambda t: t[t > 0], x, dtype=dtype, device=device)


@DTYPES
@given(data=st.data())
def test_pad_constant(dtype, data, device):
    x = data.draw(arrays(shapes(min_dims=1), dtype))
    n_dims = data.draw(st.integers(1, x.ndim))
    pads = []
    for d in range(n_dims):
        size = x.shape[x.ndim - 1 - d]
        left = data.draw(st.integers(-(size - 1) // 2, 3))
        right = data.draw(st.integers(-(size - 1) // 2, 3))
        pads += [left, right]
    value = data.draw(st.sampled_from([0.0, -1.5]))
    assert_matches_torch(lambda t: tg.pad(t, pads, value=value),
                         lambda t: torch.nn.functional.pad(t, pads, value=value), x, dtype=dtype, device=device)


@DTYPES
@pytest.mark.parametrize("name", ["cat", "stack"])
@given(data=st.data())
def test_cat_stack(name, dtype, data, device):
    shape = data.draw(shapes(min_dims=1, max_dims=3))
    k = data.draw(st.integers(1, 3))
    dim = data.draw(st.integers(-len(shape), len(shape) - 1))
    arrs = []
    for _ in range(k):
        s = list(shape)
        if name == "cat":
            s[dim] = data.draw(st.integers(1, 3))
        arrs.append(data.draw(arrays(tuple(s), dtype)))
    assert_matches_torch(lambda *ts: getattr(tg, name)(list(ts), dim), lambda *ts: getattr(torch, name)(list(ts), dim),
                         *arrs, dtype=dtype, device=device)


@DTYPES
@pytest.mark.parametrize("name", ["eq", "ne", "lt", "le", "gt", "ge"])
@given(data=st.data())
def test_comparisons(name, dtype, data, device):
    sa, sb = data.draw(broadcastable_shapes(2))
    small = st.integers(-2, 2).map(float)  # a small range makes equal elements common
    a, b = data.draw(arrays(sa, dtype, elements=small)), data.draw(arrays(sb, dtype, elements=small))
    assert_matches_torch(lambda x, y: (getattr(x, name)(y), getattr(x, name)(1.0)),
                         lambda x, y: (getattr(x, name)(y), getattr(x, name)(1.0)), a, b, dtype=dtype,
                         device=device, grad=False)


@DTYPES
@given(data=st.data())
def test_where(dtype, data, device):
    sc, sa, sb = data.draw(broadcastable_shapes(3, max_dims=3))
    cond = data.draw(arrays(sc, np.bool_, elements=st.booleans()))
    a, b = data.draw(arrays(sa, dtype)), data.draw(arrays(sb, dtype))
    assert_matches_torch(lambda c, x, y: tg.where(c, x, y), lambda c, x, y: torch.where(c, x, y), cond, a, b,
                         dtype=dtype, device=device)


# ---------------------------------------------------------------- kinks
@DTYPES
@pytest.mark.parametrize("name", ["relu", "abs", "clamp"])
def test_kinks_follow_torch_at_exact_zero_and_clamp_bounds(name, dtype, device):
    """relu'(0) = 0, abs'(0) = 0, clamp passes the gradient at its bounds: exactly as torch."""
    x = np.array([-1.0, 0.0, -0.0, 0.0, 1.0, -1.5, 2.0, 3.0])
    ours = {"relu": lambda t: t.relu(), "abs": lambda t: t.abs(), "clamp": lambda t: t.clamp(-1.5, 2.0)}[name]
    ref = {"relu": torch.relu, "abs": torch.abs, "clamp": lambda t: t.clamp(-1.5, 2.0)}[name]
    assert_matches_torch(ours, ref, x, dtype=dtype, device=device)


@DTYPES
def test_reverse_operators_and_numpy_scalars_keep_dtype(dtype):
    t = tg.ones(3, dtype=tg.dtypes.from_numpy_dtype(dtype))
    for value in (2, 2.5, np.float64(2.5), np.float32(2.5), np.int64(2)):
        for result in (value * t, t * value, value - t, t - value, value / t, t / value, value + t, t ** value):
            assert result.dtype == t.dtype, (value, result.dtype)
    ref = torch.ones(3, dtype=getattr(torch, np.dtype(dtype).name))
    np.testing.assert_array_equal((1 - t * 2.5).numpy(), (1 - ref * 2.5).numpy())
