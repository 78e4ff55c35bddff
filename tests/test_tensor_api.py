"""The Tensor API of issue 17 against real PyTorch: values, gradients and second derivatives.

Each op runs in both engines on identical inputs (``assert_matches_torch``: float64 to 1e-10,
float32 to 1e-5, plus a Hessian-vector product), over hypothesis-drawn shapes (broadcasting,
size-1 and empty dimensions) and values, and at the edges the op defines: ties, exact zeros,
NaN and infinities. Bad arguments raise the exception type torch raises.
"""
import math

import numpy as np
import pytest
import torch
from hypothesis import given, strategies as st
from hypothesis.extra import numpy as hnp

import tinygrad_mnist as tg
from tinygrad_mnist.testing import assert_matches_torch
from tinygrad_mnist.testing.strategies import (FLOAT_DTYPES, arrays, away_from, broadcastable_shapes,
                                               distinct_arrays, shapes)

DTYPES = pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=["float64", "float32"])


def same_error(ours, ref):
    """Both calls raise, and the same exception type (torch's)."""
    with pytest.raises(Exception) as theirs:
        ref()
    with pytest.raises(type(theirs.value)):
        ours()


def on_both(fn):
    """A function of the engine (tg or torch) as two functions for assert_matches_torch."""
    return (lambda *xs: fn(tg, *xs)), (lambda *xs: fn(torch, *xs))


# ---------------------------------------------------------------------- elementwise math
UNARY = {
    "sin": (lambda x: x.sin(), (-6, 6)),
    "cos": (lambda x: x.cos(), (-6, 6)),
    "log1p": (lambda x: x.log1p(), (-0.9, 5)),
    "expm1": (lambda x: x.expm1(), (-3, 3)),
    "log2": (lambda x: x.log2(), (0.1, 10)),
    "log10": (lambda x: x.log10(), (0.1, 10)),
    "rsqrt": (lambda x: x.rsqrt(), (0.1, 10)),
    "reciprocal": (lambda x: x.reciprocal(), (0.5, 10)),
    "erf": (lambda x: x.erf(), (-3, 3)),
    "floor": (lambda x: x.floor(), (-5, 5)),
    "ceil": (lambda x: x.ceil(), (-5, 5)),
    "trunc": (lambda x: x.trunc(), (-5, 5)),
    "round": (lambda x: x.round(), (-5, 5)),
    "round_decimals": (lambda x: x.round(decimals=2), (-5, 5)),
    "round_negative_decimals": (lambda x: x.round(decimals=-1), (-500, 500)),
    "clamp_min": (lambda x: x.clamp_min(0.5), (-3, 3)),
    "clamp_max": (lambda x: x.clamp_max(0.5), (-3, 3)),
    "rpow": (lambda x: 3.0 ** x, (-2, 2)),
    "pow_function_scalar_base": (lambda x: (tg if isinstance(x, tg.Tensor) else torch).pow(2.5, x), (-2, 2)),
}


@DTYPES
@pytest.mark.parametrize("name", list(UNARY))
@given(data=st.data())
def test_unary_math(name, dtype, data):
    fn, (lo, hi) = UNARY[name]
    x = data.draw(arrays(shapes(max_dims=3), dtype, lo, hi))
    assert_matches_torch(fn, fn, x, dtype=dtype)


def test_unary_math_module_functions_and_edges():
    x = np.array([-np.inf, -2.5, -1.0, -0.0, 0.0, 0.5, 1.5, 2.5, np.inf, np.nan])
    for name in ("sin", "cos", "log1p", "expm1", "log2", "log10", "rsqrt", "reciprocal", "erf", "floor", "ceil",
                 "trunc", "round", "fix", "absolute", "negative"):
        ours, ref = getattr(tg, name), getattr(torch, name)
        assert_matches_torch(ours, ref, x)
    # integer tensors: the rounding functions keep the dtype, the others compute in float32
    ints = np.array([-3, 0, 4])
    for name in ("floor", "ceil", "trunc", "round", "sin", "rsqrt", "erf"):
        assert_matches_torch(getattr(tg, name), getattr(torch, name), ints)
    same_error(lambda: tg.tensor([1, 2]).round(decimals=1), lambda: torch.tensor([1, 2]).round(decimals=1))


@DTYPES
@pytest.mark.parametrize("name", ["remainder", "fmod", "div_floor", "div_trunc"])
@given(data=st.data())
def test_division_family(name, dtype, data):
    sa, sb = data.draw(broadcastable_shapes(2, max_dims=3))
    a = data.draw(arrays(sa, dtype, -10, 10))
    b = away_from(data.draw(arrays(sb, dtype, -4, 4)), (0.0,), 0.5)
    fns = {"remainder": lambda x, y: x % y, "fmod": lambda x, y: x.fmod(y),
           "div_floor": lambda x, y: x.div(y, rounding_mode="floor"),
           "div_trunc": lambda x, y: x.div(y, rounding_mode="trunc")}
    # keep a/b off integers: the quotient's jumps are where the gradient with respect to b changes
    q = a / b
    a = np.where(np.abs(q - np.round(q)) < 1e-3, a + 0.01 * b, a).astype(dtype)
    assert_matches_torch(fns[name], fns[name], a, b, dtype=dtype)


@given(data=st.data())
def test_floor_division_and_remainder_of_negatives_follow_python(data):
    sa, sb = data.draw(broadcastable_shapes(2, max_dims=2))
    a = data.draw(arrays(sa, np.int64, elements=st.integers(-20, 20)))
    b = data.draw(arrays(sb, np.int64, elements=st.integers(-5, 5).filter(bool)))
    for fn in (lambda x, y: x // y, lambda x, y: x % y, lambda x, y: x.fmod(y),
               lambda x, y: x.div(y, rounding_mode="trunc"), lambda x, y: x.div(y, rounding_mode="floor"),
               lambda x, y: 7 // x if x.numel() and bool((x != 0).all()) else x, lambda x, y: 7 % y):
        assert_matches_torch(fn, fn, a, b)
    f = np.array([5.0, -5.0, 3.5, -3.5, 0.0, np.inf, 7.0])
    g = np.array([3.0, 3.0, -2.0, -2.0, 2.0, 2.0, 0.0])
    assert_matches_torch(lambda x, y: x // y, lambda x, y: x // y, f, g, grad=False)
    assert_matches_torch(lambda x, y: x % y, lambda x, y: x % y, f, g, grad=False)
    same_error(lambda: tg.tensor([1]) // 0, lambda: torch.tensor([1]) // 0)
    same_error(lambda: tg.tensor([1]) % tg.tensor([0]), lambda: torch.tensor([1]) % torch.tensor([0]))
    # floor division has no derivative in torch: backward raises in both
    x, tx = tg.tensor([1.5], requires_grad=True), torch.tensor([1.5], requires_grad=True)
    same_error(lambda: (x // 2).sum().backward(), lambda: (tx // 2).sum().backward())


@DTYPES
@pytest.mark.parametrize("bounds", ["both", "min", "max"])
@given(data=st.data())
def test_clamp_with_tensor_bounds(bounds, dtype, data):
    s, slo, shi = data.draw(broadcastable_shapes(3, max_dims=3))
    # torch's own backward fails when the bounds broadcast self to a larger shape: self has it all
    x = data.draw(arrays(np.broadcast_shapes(s, slo, shi), dtype, -3, 3))
    lo = data.draw(arrays(slo, dtype, -2, 1))
    hi = data.draw(arrays(shi, dtype, -1, 2))   # sometimes below lo: then the result is max
    if x.size and lo.size:                      # a tie with the lower bound
        x.flat[0] = lo.flat[0]
    fns = {"both": lambda a, b, c: a.clamp(b, c), "min": lambda a, b, c: a.clamp(min=b) + c,
           "max": lambda a, b, c: a.clamp(max=c) * b}
    assert_matches_torch(fns[bounds], fns[bounds], x, lo, hi, dtype=dtype)


def test_clamp_edges():
    x = np.array([np.nan, -np.inf, np.inf, 1.0, 2.0])
    assert_matches_torch(lambda a, b: a.clamp(b, b + 1), lambda a, b: a.clamp(b, b + 1), x, np.full(5, 1.0))
    assert_matches_torch(lambda a: tg.clamp(a, max=tg.tensor(0.5, dtype=tg.float64)),
                         lambda a: torch.clamp(a, max=torch.tensor(0.5, dtype=torch.float64)), x)
    assert_matches_torch(lambda a: tg.clip(a, -1, 1), lambda a: torch.clip(a, -1, 1), x)
    same_error(lambda: tg.ones(2).clamp(), lambda: torch.ones(2).clamp())
    same_error(lambda: tg.ones(2).clamp(0.5, tg.ones(2)), lambda: torch.ones(2).clamp(0.5, torch.ones(2)))
    ints = np.array([-3, 0, 5])
    assert_matches_torch(lambda a: a.clamp(-1, 2), lambda a: a.clamp(-1, 2), ints)
    assert_matches_torch(lambda a: a.clamp(-1.5), lambda a: a.clamp(-1.5), ints)  # promotes to float


@DTYPES
@given(data=st.data())
def test_lerp_addcmul_addcdiv(dtype, data):
    sa, sb, sc = data.draw(broadcastable_shapes(3, max_dims=3))
    a, b = data.draw(arrays(sa, dtype)), data.draw(arrays(sb, dtype))
    c = away_from(data.draw(arrays(sc, dtype, -3, 3)), (0.0,), 0.5)
    w = data.draw(st.floats(-1, 2))
    for fn in (lambda x, y, z: x.lerp(y, w) + z, lambda x, y, z: x.lerp(y, z),
               lambda x, y, z: x.addcmul(y, z, value=0.5), lambda x, y, z: x.addcdiv(y, z, value=-2),
               lambda x, y, z: x.addcdiv(y, z)):
        assert_matches_torch(fn, fn, a, b, c, dtype=dtype)
    assert_matches_torch(*on_both(lambda m, x, y, z: m.lerp(x, y, 0.25)), a, b, c, dtype=dtype)


# ---------------------------------------------------------------------- reductions
@DTYPES
@given(data=st.data())
def test_prod_with_and_without_zeros(dtype, data):
    x = away_from(data.draw(arrays(shapes(max_dims=3, max_side=4), dtype, -2, 2)), (0.0,), 0.1)
    zeros = data.draw(st.integers(0, 3))
    flat = x.reshape(-1)
    for k in data.draw(st.permutations(range(flat.size)))[:zeros]:
        flat[k] = 0.0
    dim = data.draw(st.none() | st.integers(-max(x.ndim, 1), max(x.ndim, 1) - 1))
    keepdim = data.draw(st.booleans())
    if dim is None:
        assert_matches_torch(lambda t: t.prod(), lambda t: t.prod(), x, dtype=dtype)
    else:
        assert_matches_torch(lambda t: t.prod(dim, keepdim=keepdim), lambda t: t.prod(dim, keepdim=keepdim), x,
                             dtype=dtype)


def test_prod_integers_and_dtypes():
    for x in (np.array([[1, 2], [3, 4]]), np.array([True, False]), np.array([[2, 3]], dtype=np.int32)):
        assert_matches_torch(lambda t: t.prod(), lambda t: t.prod(), x)
        assert_matches_torch(lambda t: tg.prod(t, 0, keepdim=True), lambda t: torch.prod(t, 0, keepdim=True), x)
    assert_matches_torch(lambda t: t.prod(dtype=tg.float64), lambda t: t.prod(dtype=torch.float64),
                         np.array([1.5, 2.0], dtype=np.float32), dtype=np.float32)


@DTYPES
@given(data=st.data())
def test_cumsum(dtype, data):
    x = data.draw(arrays(shapes(max_dims=3, min_side=0), dtype))
    dim = data.draw(st.integers(-max(x.ndim, 1), max(x.ndim, 1) - 1))
    assert_matches_torch(lambda t: t.cumsum(dim), lambda t: t.cumsum(dim), x, dtype=dtype)
    ints = x.astype(np.int32)
    assert_matches_torch(lambda t: tg.cumsum(t, dim), lambda t: torch.cumsum(t, dim), ints)


NORM_PS = [2, 1, math.inf, -math.inf, 0, 3, 1.5, 0.5, "fro"]


@DTYPES
@pytest.mark.parametrize("p", NORM_PS, ids=str)
@given(data=st.data())
def test_norm(p, dtype, data):
    x = data.draw(distinct_arrays(shapes(min_dims=1, max_dims=3), dtype, -3, 3))
    if p not in (1, 0) or data.draw(st.booleans()):
        x = away_from(x, (0.0,), 0.1)   # |a|^(p-1) blows up near 0 (exact zeros: the next test)
    dim = data.draw(st.none() | st.integers(-x.ndim, x.ndim - 1) |
                    st.lists(st.integers(0, x.ndim - 1), min_size=1, max_size=x.ndim, unique=True).map(tuple))
    keepdim = data.draw(st.booleans())
    if p == "fro" and dim is None:
        assert_matches_torch(lambda t: t.norm(), lambda t: t.norm(), x, dtype=dtype)
        return
    if p == "fro" and isinstance(dim, tuple) and len(dim) > 2:   # a matrix norm needs two dims
        same_error(lambda: tg.tensor(x).norm(p, dim), lambda: torch.tensor(x).norm(p, dim))
        return
    assert_matches_torch(lambda t: t.norm(p, dim, keepdim), lambda t: t.norm(p, dim, keepdim), x, dtype=dtype)


def test_norm_subgradient_at_zero_and_ties():
    for p in (2, 1, math.inf, 3, 1.5, 0.5, 0):
        # torch's second derivative of the 2-norm at a zero vector is NaN; ours is 0 (see Norm)
        second = p != 2
        assert_matches_torch(lambda t: t.norm(p), lambda t: t.norm(p), np.zeros(4), second_order=second)
        assert_matches_torch(lambda t: t.norm(p, dim=1), lambda t: t.norm(p, dim=1), np.array([[0.0, 0.0], [3.0, -4.0]]),
                             second_order=second)
    assert_matches_torch(lambda t: t.norm(math.inf), lambda t: t.norm(math.inf), np.array([2.0, -2.0, 1.0]))
    assert_matches_torch(lambda t: tg.norm(t, dim=0), lambda t: torch.norm(t, dim=0), np.array([[1.0, np.nan], [2.0, 1.0]]))
    same_error(lambda: tg.tensor([1, 2]).norm(), lambda: torch.tensor([1, 2]).norm())


@DTYPES
@given(data=st.data())
def test_logsumexp(dtype, data):
    x = data.draw(arrays(shapes(min_dims=1, max_dims=3), dtype, -50, 50))
    dim = data.draw(st.integers(-x.ndim, x.ndim - 1) |
                    st.lists(st.integers(0, x.ndim - 1), min_size=1, max_size=x.ndim, unique=True).map(tuple))
    keepdim = data.draw(st.booleans())
    assert_matches_torch(lambda t: t.logsumexp(dim, keepdim), lambda t: t.logsumexp(dim, keepdim), x, dtype=dtype)


def test_logsumexp_is_stable_and_handles_infinities():
    big = np.array([[1000.0, 1000.0], [-1000.0, -np.inf], [-np.inf, -np.inf], [np.inf, 1.0]])
    assert_matches_torch(lambda t: tg.logsumexp(t, 1), lambda t: torch.logsumexp(t, 1), big)
    assert_matches_torch(lambda t: t.logsumexp(0), lambda t: t.logsumexp(0), np.zeros((0, 3)))
    assert_matches_torch(lambda t: t.logsumexp(0), lambda t: t.logsumexp(0), np.array([1, 2]))


@DTYPES
@given(data=st.data())
def test_std_mean_var_mean(dtype, data):
    # well separated values: near zero spread std's derivatives blow up, and rounding decides them
    x = data.draw(hnp.arrays(dtype, shapes(min_dims=1, max_dims=3, min_side=2), unique=True,
                             elements=st.integers(-60, 60).map(lambda k: k / 4)))
    dim = data.draw(st.none() | st.integers(-x.ndim, x.ndim - 1))
    keepdim, correction = data.draw(st.booleans()), data.draw(st.sampled_from([0, 1]))
    for name in ("std_mean", "var_mean"):
        assert_matches_torch(*on_both(lambda m, t: getattr(m, name)(t, dim, correction=correction, keepdim=keepdim)),
                             x, dtype=dtype)
    # std's second derivative with keepdim=False (a saved reshaped copy used to be a constant)
    assert_matches_torch(lambda t: t.std(dim), lambda t: t.std(dim), x, dtype=dtype)


def test_std_of_a_constant_slice_has_zero_gradient_as_torch():
    x = np.full((4, 5), 1.9263097)   # its float64 mean is not exactly 1.9263097: the spread must still be 0
    for correction in (0, 1):
        assert_matches_torch(lambda t: tg.std_mean(t, 1, correction=correction),
                             lambda t: torch.std_mean(t, 1, correction=correction), x)


def test_all_any():
    x = np.array([[0.0, 1.0, np.nan], [2.0, 3.0, 4.0]])
    for fn in (lambda m, t: m.all(t), lambda m, t: m.any(t), lambda m, t: t.all(1), lambda m, t: t.any(0, keepdim=True),
               lambda m, t: t.all(dim=(0, 1)), lambda m, t: (t > 1).any(-1), lambda m, t: t[:0].all()):
        assert_matches_torch(*on_both(fn), x, grad=False)
    assert_matches_torch(lambda t: t.all(), lambda t: t.all(), np.array([1, 2], dtype=np.uint8))


# ---------------------------------------------------------------------- sorting
@DTYPES
@given(data=st.data())
def test_sort_argsort_topk_distinct(dtype, data):
    x = data.draw(distinct_arrays(shapes(min_dims=1, max_dims=3), dtype))
    dim = data.draw(st.integers(-x.ndim, x.ndim - 1))
    descending = data.draw(st.booleans())
    assert_matches_torch(lambda t: list(t.sort(dim, descending)), lambda t: list(t.sort(dim, descending)), x,
                         dtype=dtype)
    assert_matches_torch(lambda t: tg.argsort(t, dim, descending), lambda t: torch.argsort(t, dim, descending), x,
                         dtype=dtype)
    k = data.draw(st.integers(0, x.shape[dim]))
    largest = data.draw(st.booleans())
    assert_matches_torch(lambda t: list(t.topk(k, dim, largest)), lambda t: list(t.topk(k, dim, largest)), x,
                         dtype=dtype)


def test_sort_ties_and_nan_follow_torch_stable_order():
    x = np.array([[1.0, 3.0, 1.0, 3.0, np.nan, 2.0, np.nan], [0.0, -0.0, 5.0, 5.0, 5.0, -np.inf, np.inf]])
    for descending in (False, True):
        assert_matches_torch(lambda t: list(t.sort(descending=descending, stable=True)),
                             lambda t: list(t.sort(descending=descending, stable=True)), x)
        assert_matches_torch(lambda t: t.argsort(1, descending),
                             lambda t: t.argsort(dim=1, descending=descending, stable=True), x)
    ints = np.array([3, 1, 3, 2, 1])
    assert_matches_torch(lambda t: list(tg.sort(t, descending=True)),
                         lambda t: list(torch.sort(t, descending=True, stable=True)), ints)
    # topk's values with ties and NaN (torch's choice among tied indices is its own)
    vals = np.array([1.0, 3.0, 3.0, np.nan, 3.0])
    assert_matches_torch(lambda t: t.topk(3).values, lambda t: t.topk(3).values, vals, grad=False)
    out = tg.tensor(vals).topk(2)
    assert out.indices[0].item() == 3 and type(out).__name__ == "topk"
    assert_matches_torch(lambda t: list(t.sort()), lambda t: list(t.sort()), np.array(2.5))
    same_error(lambda: tg.ones(3).topk(4), lambda: torch.ones(3).topk(4))
    same_error(lambda: tg.ones(3).sort(1), lambda: torch.ones(3).sort(1))


# ---------------------------------------------------------------------- shape and indexing
@DTYPES
@given(data=st.data())
def test_repeat_tile_repeat_interleave(dtype, data):
    x = data.draw(arrays(shapes(max_dims=3, max_side=3), dtype))
    reps = tuple(data.draw(st.lists(st.integers(0, 3), min_size=x.ndim, max_size=x.ndim + 2)))
    assert_matches_torch(lambda t: t.repeat(reps), lambda t: t.repeat(reps), x, dtype=dtype)
    few = reps[:max(0, x.ndim - 1)]
    assert_matches_torch(lambda t: t.tile(few), lambda t: t.tile(few), x, dtype=dtype)
    r = data.draw(st.integers(0, 3))
    dim = data.draw(st.none() | st.integers(-max(x.ndim, 1), max(x.ndim, 1) - 1)) if x.ndim else None
    assert_matches_torch(lambda t: t.repeat_interleave(r, dim), lambda t: t.repeat_interleave(r, dim), x, dtype=dtype)
    if x.ndim:
        d = dim if dim is not None else 0
        n = x.shape[d] if dim is not None else x.size
        counts = np.array(data.draw(st.lists(st.integers(0, 3), min_size=n, max_size=n)), dtype=np.int64)
        assert_matches_torch(lambda t, c: t.repeat_interleave(c, dim), lambda t, c: t.repeat_interleave(c, dim),
                             x, counts, dtype=dtype)
    assert_matches_torch(lambda c: tg.repeat_interleave(c), lambda c: torch.repeat_interleave(c),
                         np.array([2, 0, 1]))


@DTYPES
@given(data=st.data())
def test_flip_roll(dtype, data):
    x = data.draw(arrays(shapes(min_dims=1, max_dims=3, min_side=0), dtype))
    dims = data.draw(st.lists(st.integers(-x.ndim, x.ndim - 1), min_size=1, max_size=x.ndim,
                              unique_by=lambda d: d % x.ndim))
    assert_matches_torch(lambda t: t.flip(dims), lambda t: t.flip(dims), x, dtype=dtype)
    shifts = [data.draw(st.integers(-7, 7)) for _ in dims]
    assert_matches_torch(lambda t: t.roll(shifts, dims), lambda t: t.roll(shifts, dims), x, dtype=dtype)
    s = data.draw(st.integers(-5, 5))
    assert_matches_torch(lambda t: tg.roll(t, s), lambda t: torch.roll(t, s), x, dtype=dtype)
    if x.ndim >= 2:
        assert_matches_torch(lambda t: t.fliplr() + t.flipud(), lambda t: t.fliplr() + t.flipud(), x, dtype=dtype)


def test_flip_is_a_copy():
    x = tg.arange(4.0)
    y = x.flip(0)
    y.add_(1)
    assert x.tolist() == [0.0, 1.0, 2.0, 3.0]


@DTYPES
@given(data=st.data())
def test_split_chunk_unbind(dtype, data):
    x = data.draw(arrays(shapes(min_dims=1, max_dims=3, max_side=6), dtype))
    dim = data.draw(st.integers(-x.ndim, x.ndim - 1))
    n = x.shape[dim]
    size = data.draw(st.integers(1, n + 1))
    assert_matches_torch(lambda t: list(t.split(size, dim)), lambda t: list(t.split(size, dim)), x, dtype=dtype)
    cuts = sorted(data.draw(st.lists(st.integers(0, n), max_size=3)))
    sections = [b - a for a, b in zip([0] + cuts, cuts + [n])]
    assert_matches_torch(lambda t: list(tg.split(t, sections, dim)), lambda t: list(torch.split(t, sections, dim)), x,
                         dtype=dtype)
    chunks = data.draw(st.integers(1, n + 2))
    assert_matches_torch(lambda t: list(t.chunk(chunks, dim)), lambda t: list(t.chunk(chunks, dim)), x, dtype=dtype)
    assert_matches_torch(lambda t: list(t.unbind(dim)), lambda t: list(t.unbind(dim)), x, dtype=dtype)


def test_split_chunk_errors_and_empty():
    assert [tuple(p.shape) for p in tg.zeros(0, 2).chunk(3)] == [tuple(p.shape) for p in torch.zeros(0, 2).chunk(3)]
    assert [tuple(p.shape) for p in tg.zeros(0, 2).split(2)] == [tuple(p.shape) for p in torch.zeros(0, 2).split(2)]
    same_error(lambda: tg.ones(5).split([2, 2]), lambda: torch.ones(5).split([2, 2]))
    same_error(lambda: tg.ones(5).chunk(0), lambda: torch.ones(5).chunk(0))
    same_error(lambda: tg.ones(5).split(0), lambda: torch.ones(5).split(0))
    same_error(lambda: tg.tensor(1.0).unbind(), lambda: torch.tensor(1.0).unbind())


@DTYPES
@given(data=st.data())
def test_movedim_swapaxes_unflatten(dtype, data):
    x = data.draw(arrays(shapes(min_dims=1, max_dims=4, max_side=4), dtype))
    src = data.draw(st.lists(st.integers(0, x.ndim - 1), min_size=1, max_size=x.ndim, unique=True))
    dst = data.draw(st.permutations(range(x.ndim)))[:len(src)]
    assert_matches_torch(lambda t: t.movedim(src, dst), lambda t: t.movedim(src, dst), x, dtype=dtype)
    assert_matches_torch(lambda t: tg.moveaxis(t, src[0], -1), lambda t: torch.moveaxis(t, src[0], -1), x, dtype=dtype)
    a, b = data.draw(st.integers(-x.ndim, x.ndim - 1)), data.draw(st.integers(-x.ndim, x.ndim - 1))
    assert_matches_torch(lambda t: t.swapaxes(a, b), lambda t: t.swapaxes(a, b), x, dtype=dtype)
    assert_matches_torch(lambda t: tg.swapdims(t, a, b), lambda t: torch.swapdims(t, a, b), x, dtype=dtype)
    d = data.draw(st.integers(-x.ndim, x.ndim - 1))
    n = x.shape[d]
    for sizes in ((n,), (1, n), (n, 1), (-1, 1), (1, -1)):
        assert_matches_torch(lambda t: t.unflatten(d, sizes), lambda t: t.unflatten(d, sizes), x, dtype=dtype)


def test_shape_errors_match_torch():
    x, tx = tg.zeros(2, 3, 4), torch.zeros(2, 3, 4)
    same_error(lambda: x.movedim(0, 5), lambda: tx.movedim(0, 5))
    same_error(lambda: x.movedim((0, 0), (1, 2)), lambda: tx.movedim((0, 0), (1, 2)))
    same_error(lambda: x.unflatten(1, (2, 2)), lambda: tx.unflatten(1, (2, 2)))
    same_error(lambda: x.repeat(2, 2), lambda: tx.repeat(2, 2))
    same_error(lambda: x.diagonal(0, 1, 1), lambda: tx.diagonal(0, 1, 1))
    same_error(lambda: x.flip(3), lambda: tx.flip(3))
    same_error(lambda: x.roll((1, 2), (0,)), lambda: tx.roll((1, 2), (0,)))
    same_error(lambda: tg.ones(3).tril(), lambda: torch.ones(3).tril())


@DTYPES
@given(data=st.data())
def test_tril_triu_diagonal_diag(dtype, data):
    x = data.draw(arrays(shapes(min_dims=2, max_dims=4, max_side=4), dtype))
    k = data.draw(st.integers(-4, 4))
    for fn in (lambda t: t.tril(k), lambda t: t.triu(k)):
        assert_matches_torch(fn, fn, x, dtype=dtype)
    d1, d2 = data.draw(st.permutations(range(x.ndim)))[:2]
    assert_matches_torch(lambda t: t.diagonal(k, d1, d2), lambda t: t.diagonal(k, d1, d2), x, dtype=dtype)
    v = x.reshape(-1)[:4]
    assert_matches_torch(lambda t: t.diag(k), lambda t: t.diag(k), v, dtype=dtype)
    assert_matches_torch(lambda t: tg.diag(t[0] if t.ndim > 2 else t, k),
                         lambda t: torch.diag(t[0] if t.ndim > 2 else t, k), x[..., :, :] if x.ndim == 2 else x[0],
                         dtype=dtype)
    ints = (x * 3).astype(np.int64)
    assert_matches_torch(lambda t: tg.tril(t) + tg.triu(t, 1), lambda t: torch.tril(t) + torch.triu(t, 1), ints)


@DTYPES
@given(data=st.data())
def test_index_select_masked_select_nonzero(dtype, data):
    x = data.draw(arrays(shapes(min_dims=1, max_dims=3), dtype))
    dim = data.draw(st.integers(-x.ndim, x.ndim - 1))
    idx = np.array(data.draw(st.lists(st.integers(-x.shape[dim], x.shape[dim] - 1), max_size=6)), dtype=np.int64)
    idx = idx % x.shape[dim]   # torch's index_select takes no negative indices
    assert_matches_torch(lambda t, i: t.index_select(dim, i), lambda t, i: t.index_select(dim, i), x, idx, dtype=dtype)
    mask_shape = data.draw(st.sampled_from([x.shape, x.shape[1:], (1,) * x.ndim]))
    mask = data.draw(arrays(mask_shape, np.bool_, elements=st.booleans()))
    assert_matches_torch(lambda t, m: t.masked_select(m), lambda t, m: t.masked_select(m), x, mask, dtype=dtype)
    assert_matches_torch(lambda t: (t > 0).nonzero(), lambda t: (t > 0).nonzero(), x, dtype=dtype)
    assert_matches_torch(lambda t: list(tg.nonzero(t > 0, as_tuple=True)),
                         lambda t: list(torch.nonzero(t > 0, as_tuple=True)), x, dtype=dtype)
    assert_matches_torch(lambda t: list(tg.where(t > 0)), lambda t: list(torch.where(t > 0)), x, dtype=dtype)
    value = data.draw(st.floats(-2, 2))
    assert_matches_torch(lambda t, i: t.index_fill(dim, i, value), lambda t, i: t.index_fill(dim, i, value), x, idx,
                         dtype=dtype)
    src_shape = list(x.shape)
    src_shape[dim] = idx.size
    src = data.draw(arrays(tuple(src_shape), dtype))
    assert_matches_torch(lambda t, i, s: t.index_add(dim, i, s, alpha=2.0), lambda t, i, s: t.index_add(dim, i, s, alpha=2.0),
                         x, idx, src, dtype=dtype)


def test_indexing_edges_and_errors():
    assert_matches_torch(lambda t: t.nonzero(), lambda t: t.nonzero(), np.array(3.0), grad=False)
    assert_matches_torch(lambda t: t.nonzero(), lambda t: t.nonzero(), np.zeros((2, 0)), grad=False)
    assert_matches_torch(lambda t: t.masked_select(t > 1), lambda t: t.masked_select(t > 1), np.array(2.0))
    assert_matches_torch(lambda t, i: t.index_select(0, i), lambda t, i: t.index_select(0, i), np.array(2.0),
                         np.array([0]))
    same_error(lambda: tg.tensor(2.0).index_select(0, tg.tensor([0, 0])),
               lambda: torch.tensor(2.0).index_select(0, torch.tensor([0, 0])))
    x, tx = tg.ones(3, 2), torch.ones(3, 2)
    same_error(lambda: x.index_select(0, tg.tensor([3])), lambda: tx.index_select(0, torch.tensor([3])))
    same_error(lambda: x.index_select(0, tg.tensor([0.0])), lambda: tx.index_select(0, torch.tensor([0.0])))
    same_error(lambda: x.masked_select(tg.ones(3, 2)), lambda: tx.masked_select(torch.ones(3, 2)))
    same_error(lambda: x.masked_select(tg.ones(4, dtype=tg.bool)), lambda: tx.masked_select(torch.ones(4, dtype=torch.bool)))


# ---------------------------------------------------------------------- gather and scatter
@DTYPES
@given(data=st.data())
def test_gather_scatter_forms(dtype, data):
    x = data.draw(arrays(shapes(min_dims=1, max_dims=3, max_side=4), dtype))
    dim = data.draw(st.integers(-x.ndim, x.ndim - 1))
    ishape = tuple(data.draw(st.integers(0, n)) for n in x.shape)
    index = data.draw(arrays(ishape, np.int64, elements=st.integers(0, x.shape[dim] - 1)))
    src = data.draw(arrays(ishape, dtype))
    assert_matches_torch(lambda t, i: t.gather(dim, i), lambda t, i: t.gather(dim, i), x, index, dtype=dtype)
    assert_matches_torch(lambda t, i, s: t.scatter_add(dim, i, s), lambda t, i, s: t.scatter_add(dim, i, s),
                         x, index, src, dtype=dtype)
    assert_matches_torch(lambda t, i: t.scatter(dim, i, value=1.5), lambda t, i: t.scatter(dim, i, value=1.5),
                         x, index, dtype=dtype)
    for reduce in ("add", "multiply"):
        assert_matches_torch(lambda t, i, s: t.scatter(dim, i, s, reduce=reduce),
                             lambda t, i, s: t.scatter(dim, i, s, reduce=reduce), x, index, src, dtype=dtype, grad=False)
    # the in-place forms, outside a graph, as torch (scatter_ with unique positions: repeats overwrite in any order)
    unique = np.argsort(data.draw(arrays(x.shape, np.float64, elements=st.floats(0, 1))), axis=dim)
    for name, args in (("scatter_add_", (src,)), ("scatter_", ()), ("scatter_add_", ())):
        index_ = unique if name == "scatter_" else index
        source = data.draw(arrays(index_.shape, dtype))
        ours, ref = tg.tensor(x), torch.tensor(x)
        getattr(ours, name)(dim, tg.tensor(index_), tg.tensor(source))
        getattr(ref, name)(dim, torch.tensor(index_), torch.tensor(source))
        np.testing.assert_allclose(ours.numpy(), ref.numpy(), rtol=1e-6)
        assert ours._version == 1


def test_scatter_reduce_has_no_derivative_and_checks_reduce():
    x, i, s = tg.zeros(3, requires_grad=True), tg.tensor([0, 0]), tg.ones(2)
    tx, ti, ts = torch.zeros(3, requires_grad=True), torch.tensor([0, 0]), torch.ones(2)
    same_error(lambda: x.scatter(0, i, s, reduce="add").sum().backward(),
               lambda: tx.scatter(0, ti, ts, reduce="add").sum().backward())
    same_error(lambda: x.scatter(0, i, s, reduce="max"), lambda: tx.scatter(0, ti, ts, reduce="max"))


# ---------------------------------------------------------------------- products
@DTYPES
@given(data=st.data())
def test_bmm_mv_dot_outer_addmm(dtype, data):
    b, n, m, p = (data.draw(st.integers(1, 4)) for _ in range(4))
    a3, b3 = data.draw(arrays((b, n, m), dtype)), data.draw(arrays((b, m, p), dtype))
    assert_matches_torch(lambda x, y: x.bmm(y), lambda x, y: x.bmm(y), a3, b3, dtype=dtype)
    u, v = data.draw(arrays((m,), dtype)), data.draw(arrays((m,), dtype))
    assert_matches_torch(lambda x, y: x.dot(y) + tg.inner(x, y), lambda x, y: x.dot(y) + torch.inner(x, y), u, v,
                         dtype=dtype)
    assert_matches_torch(lambda x, y: tg.outer(x, y), lambda x, y: torch.outer(x, y), u, data.draw(arrays((p,), dtype)),
                         dtype=dtype)
    assert_matches_torch(lambda x, y: x.mv(y), lambda x, y: x.mv(y), a3[0], u, dtype=dtype)
    c = data.draw(arrays(data.draw(st.sampled_from([(n, p), (p,), (1, p), (n, 1), ()])), dtype))
    beta, alpha = data.draw(st.sampled_from([0, 1, 0.5])), data.draw(st.sampled_from([1, -2.0]))
    assert_matches_torch(lambda z, x, y: tg.addmm(z, x, y, beta=beta, alpha=alpha),
                         lambda z, x, y: torch.addmm(z, x, y, beta=beta, alpha=alpha), c, a3[0], b3[0], dtype=dtype)


EINSUMS = [
    ("ij,jk->ik", [(2, 3), (3, 4)]), ("bij,bjk->bik", [(2, 2, 3), (2, 3, 2)]), ("i,i->", [(4,), (4,)]),
    ("i,j->ij", [(3,), (2,)]), ("ij->ji", [(2, 3)]), ("ii->i", [(3, 3)]), ("ii", [(3, 3)]), ("ij->", [(2, 3)]),
    ("ij,ij->ij", [(2, 3), (1, 3)]), ("...ij,...jk->...ik", [(2, 1, 2, 3), (4, 3, 2)]), ("ij", [(2, 3)]),
    ("ba,ab", [(2, 3), (3, 2)]), ("ijk,k->ij", [(2, 3, 4), (4,)]), ("ij,jk,kl->il", [(2, 3), (3, 2), (2, 2)]),
    ("iij->j", [(2, 2, 3)]), ("i,i,i->i", [(3,), (3,), (3,)]), ("bi, bj -> bij", [(2, 3), (2, 2)]),
    ("ijk->k", [(2, 3, 4)]), ("...->...", [(2, 3)]), ("i...->...", [(2, 3)]),
]


@DTYPES
@pytest.mark.parametrize("eq,shapes_", EINSUMS, ids=[e for e, _ in EINSUMS])
def test_einsum(eq, shapes_, dtype):
    rng = np.random.default_rng(len(eq))
    xs = [rng.standard_normal(s) for s in shapes_]
    assert_matches_torch(lambda *t: tg.einsum(eq, *t), lambda *t: torch.einsum(eq, *t), *xs, dtype=dtype)
    assert_matches_torch(lambda *t: tg.einsum(eq, list(t)), lambda *t: torch.einsum(eq, list(t)), *xs, dtype=dtype)


def test_einsum_errors():
    same_error(lambda: tg.einsum("ij,jk->ik", tg.ones(2, 3), tg.ones(4, 2)),
               lambda: torch.einsum("ij,jk->ik", torch.ones(2, 3), torch.ones(4, 2)))
    same_error(lambda: tg.einsum("ij->k", tg.ones(2, 3)), lambda: torch.einsum("ij->k", torch.ones(2, 3)))
    same_error(lambda: tg.einsum("ijk->", tg.ones(2, 3)), lambda: torch.einsum("ijk->", torch.ones(2, 3)))
    same_error(lambda: tg.ones(2, 2).dot(tg.ones(2)), lambda: torch.ones(2, 2).dot(torch.ones(2)))
    same_error(lambda: tg.ones(2).dot(tg.ones(3)), lambda: torch.ones(2).dot(torch.ones(3)))
    same_error(lambda: tg.ones(2, 2, 2).bmm(tg.ones(3, 2, 2)), lambda: torch.ones(2, 2, 2).bmm(torch.ones(3, 2, 2)))


# ---------------------------------------------------------------------- comparisons of whole tensors
def test_isclose_allclose_equal():
    a = np.array([1.0, np.nan, np.inf, -np.inf, 1e-9, 1.0])
    b = np.array([1.0 + 1e-6, np.nan, np.inf, np.inf, 0.0, 1.1])
    for kw in ({}, {"equal_nan": True}, {"rtol": 0.2}, {"atol": 0.0, "rtol": 0.0}):
        assert_matches_torch(lambda x, y: x.isclose(y, **kw), lambda x, y: x.isclose(y, **kw), a, b, grad=False)
        assert tg.allclose(tg.tensor(a), tg.tensor(b), **kw) == torch.allclose(torch.tensor(a), torch.tensor(b), **kw)
    assert tg.equal(tg.tensor([1, 2]), tg.tensor([1, 2])) and not tg.tensor([1, 2]).equal(tg.tensor([1, 3]))
    assert not tg.equal(tg.ones(2), tg.ones(1, 2))
    same_error(lambda: tg.ones(2).isclose(tg.ones(2, dtype=tg.int64)),
               lambda: torch.ones(2).isclose(torch.ones(2, dtype=torch.int64)))
