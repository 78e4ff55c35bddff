"""conv2d, max_pool2d and avg_pool2d against torch: values and the gradients of every input
(hypothesis, float64 and float32), max-pool ties, NaN and -inf, overlapping windows, avg-pool
divisors, unbatched inputs, float64 finite-difference gradchecks, and the error messages.

Every test runs twice: on the reference ops (``TINYGRAD_MNIST_FAST=0``) and on the fast routes
(``fast/conv.py``, ``fast/pool.py``), which also run with their GEMMs in blocks of one output row."""
import contextlib

import numpy as np
import pytest
import torch
import torch.nn.functional as TF
from hypothesis import given, strategies as st

import tinygrad_mnist as tg
from tinygrad_mnist.backend import to_numpy
from tinygrad_mnist.fast import conv as fast_conv
from tinygrad_mnist.fast.conv import row_blocks
from tinygrad_mnist.fast.elementwise import axes_outer_first
from tinygrad_mnist.fast.pool import tiling
from tinygrad_mnist.nn.functional import avg_pool2d, conv2d, max_pool2d
from tinygrad_mnist.shapes import pool_window
from tinygrad_mnist.testing import assert_matches_torch, strategies as tst

DTYPES = pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["float64", "float32"])
SEEDS = st.integers(0, 2**16)


@pytest.fixture(autouse=True, params=["fast", "reference"])
def route(request):
    """Each test on the fast routes and on the reference ops."""
    with tg.fast.set_enabled(request.param == "fast"):
        yield request.param


@pytest.fixture(autouse=True, scope="module")
def _no_tf32_in_torch():
    """On a GPU, torch's cuDNN convolutions default to TF32 (10-bit mantissa): compare in full float32."""
    saved = torch.backends.cudnn.allow_tf32
    torch.backends.cudnn.allow_tf32 = False
    yield
    torch.backends.cudnn.allow_tf32 = saved


# CPU GEMM block sizes: unlimited (one GEMM), one output row per block, a few rows per block
BLOCK_BYTES = st.sampled_from([None, 1, 3000])


@contextlib.contextmanager
def gemm_blocks(nbytes):
    """Run the fast route's CPU convolutions by blocks of ``nbytes`` of columns (``fast.conv.BLOCK_BYTES``)."""
    saved, fast_conv.BLOCK_BYTES = fast_conv.BLOCK_BYTES, nbytes
    try:
        yield
    finally:
        fast_conv.BLOCK_BYTES = saved


def _normal(seed, *shapes):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(shape) for shape in shapes]


def _maybe_int(pair, as_int):
    """A (h, w) argument, or the plain int PyTorch also accepts when h == w."""
    return pair[0] if as_int and pair is not None and pair[0] == pair[1] else pair


def _pool_args(cfg, as_int, with_dilation=True):
    args = {k: _maybe_int(cfg[k], as_int) for k in ("kernel_size", "stride", "padding")}
    if with_dilation:
        args["dilation"] = _maybe_int(cfg["dilation"], as_int)
    return dict(args, ceil_mode=cfg["ceil_mode"])


# ============================================================================ conv2d vs torch
@DTYPES
@given(cfg=tst.conv_configs(), seed=SEEDS, as_int=st.booleans(), block_bytes=BLOCK_BYTES)
def test_conv2d_matches_torch(cfg, seed, as_int, block_bytes, dtype, device):
    kh, kw = cfg["kernel_size"]
    shapes = [(cfg["n"], cfg["c_in"], cfg["h"], cfg["w"]), (cfg["c_out"], cfg["c_in"], kh, kw)]
    if cfg["bias"]:
        shapes.append((cfg["c_out"],))
    args = {k: _maybe_int(cfg[k], as_int) for k in ("stride", "padding", "dilation")}
    with gemm_blocks(block_bytes):
        assert_matches_torch(lambda *t: conv2d(*t, **args), lambda *t: TF.conv2d(*t, **args),
                             *_normal(seed, *shapes), dtype=dtype, device=device)


@DTYPES
@given(cfg=tst.conv_configs(max_channels=2), groups=st.integers(2, 3), seed=SEEDS, block_bytes=BLOCK_BYTES)
def test_conv2d_groups_match_torch(cfg, groups, seed, block_bytes, dtype, device):
    c_in, c_out = cfg["c_in"] * groups, cfg["c_out"] * groups
    args = {k: cfg[k] for k in ("stride", "padding", "dilation")}
    x, w, b = _normal(seed, (cfg["n"], c_in, cfg["h"], cfg["w"]), (c_out, cfg["c_in"], *cfg["kernel_size"]),
                      (c_out,))
    with gemm_blocks(block_bytes):
        assert_matches_torch(lambda *t: conv2d(*t, groups=groups, **args),
                             lambda *t: TF.conv2d(*t, groups=groups, **args), x, w, b, dtype=dtype, device=device)


@pytest.mark.filterwarnings("ignore:Using padding='same'")  # torch's note about its own copy
@DTYPES
def test_conv2d_unbatched_string_padding_and_overlap(dtype, device):
    x, w, b = _normal(1, (3, 11, 8), (4, 3, 4, 5), (4,))
    for args in [dict(), dict(padding="same"), dict(padding="valid", stride=(2, 3)),
                 dict(padding="same", dilation=(2, 1)), dict(stride=1, padding=2)]:  # overlapping windows
        assert_matches_torch(lambda *t: conv2d(*t, **args), lambda *t: TF.conv2d(*t, **args),
                             x, w, b, dtype=dtype, device=device)
        assert_matches_torch(lambda *t: conv2d(*t, **args), lambda *t: TF.conv2d(*t, **args),
                             x[None], w, dtype=dtype, device=device)


@pytest.mark.filterwarnings("ignore:Using padding='same'")
@pytest.mark.parametrize("c_in, c_out, kernel, args, by_conv", [
    (4, 4, (3, 3), dict(padding=1), True),                       # the tutorial CNN's layers
    (3, 2, (3, 3), dict(padding=2, dilation=2), True),           # padding = the dilated extent
    (4, 3, (4, 5), dict(padding="same"), True),                  # uneven padding (1, 2) x (2, 2)
    (4, 4, (3, 3), dict(padding=1, groups=2), True),
    (4, 2, (1, 1), dict(padding=1), False),                      # padding beyond the kernel
    (2, 6, (3, 3), dict(padding=1), False),                      # more output than input channels
    (4, 4, (3, 3), dict(padding=1, stride=(1, 2)), False),       # strided
], ids=["cnn", "dilated", "same", "groups", "wide-pad", "widening", "strided"])
@pytest.mark.parametrize("block_bytes", [None, 1], ids=["one-gemm", "row-blocks"])
def test_conv2d_both_input_gradient_paths_match_torch(c_in, c_out, kernel, args, by_conv, block_bytes, device, route):
    """The input gradient by col2im or by a convolution of the output gradient (module docstring),
    each in one GEMM and by blocks of one output row (``backend.CPU_GEMM_BLOCK_BYTES``)."""
    groups = args.get("groups", 1)
    x, w, b = _normal(4, (3, c_in, 7, 6), (c_out, c_in // groups, *kernel), (c_out,))
    out = conv2d(tg.tensor(x, device=device, requires_grad=True), tg.tensor(w, device=device), **args)
    assert route == "reference" or out.grad_fn.by_conv is by_conv
    for inputs in [(x, w, b), (x[0], w)]:                         # batched with bias, unbatched
        with gemm_blocks(block_bytes):
            assert_matches_torch(lambda *t: conv2d(*t, **args), lambda *t: TF.conv2d(*t, **args), *inputs,
                                 dtype=np.float64, device=device)


@pytest.mark.parametrize("block_bytes", [None, 1], ids=["one-gemm", "row-blocks"])
def test_conv2d_by_conv_route_on_a_convolution_output_and_with_a_frozen_weight(block_bytes, device, route):
    """The stride-1 route keeps its input itself: a view when that input is a convolution's
    batch-innermost output (the tutorial CNN's case). Its gradients against torch there, and the
    input's gradient alone when the weight is frozen."""
    x, w1, w2 = _normal(6, (3, 4, 7, 6), (4, 4, 3, 3), (4, 4, 3, 3))

    def net(conv, x, w1, w2):
        return conv(conv(x, w1, padding=1).relu(), w2, padding=1)
    with gemm_blocks(block_bytes):
        hidden = conv2d(tg.tensor(x, device=device), tg.tensor(w1, device=device), padding=1).relu()
        out = conv2d(hidden, tg.tensor(w2, device=device, requires_grad=True), padding=1)
        assert route == "reference" or out.grad_fn.by_conv
        assert route == "reference" or device != "cpu" or not hidden.is_contiguous()  # batch-innermost
        assert_matches_torch(lambda *t: net(conv2d, *t), lambda *t: net(TF.conv2d, *t), x, w1, w2,
                             dtype=np.float64, device=device)
        xt, ref = tg.tensor(x, device=device, requires_grad=True), torch.tensor(x, requires_grad=True)
        (conv2d(xt, tg.tensor(w2, device=device), padding=1) ** 2).sum().backward()
        (TF.conv2d(ref, torch.tensor(w2), padding=1) ** 2).sum().backward()
        np.testing.assert_allclose(to_numpy(xt.grad.array), ref.grad.numpy(), rtol=1e-10, atol=1e-10)


@given(rows=st.integers(1, 40), bytes_per_row=st.integers(1, 5000), block_bytes=st.integers(1, 20000))
def test_row_blocks_cover_the_rows_in_blocks_of_about_the_block_size(rows, bytes_per_row, block_bytes):
    """Blocks of rows tile range(rows) in order; one block when the whole is at most twice the
    block size, else blocks of at most the block size (or one row, if a row is larger)."""
    blocks = row_blocks(rows, bytes_per_row, block_bytes)
    assert [y for y0, y1 in blocks for y in range(y0, y1)] == list(range(rows))
    if rows * bytes_per_row <= 2 * block_bytes:
        assert blocks == [(0, rows)]
    else:
        assert all((y1 - y0) * bytes_per_row <= max(block_bytes, bytes_per_row) for y0, y1 in blocks)
    assert row_blocks(rows, bytes_per_row, None) == [(0, rows)]


def test_conv2d_mnist_shapes_and_noncontiguous(device):
    """The tutorial shapes, a transposed (non-contiguous) input and a broadcast upstream gradient."""
    x, w1, b1, w2 = _normal(2, (4, 1, 28, 28), (8, 1, 3, 3), (8,), (6, 8, 5, 5))

    def net(conv, pool, x, w1, b1, w2):
        xt = x.transpose(2, 3)
        h = pool(conv(xt, w1, b1, padding=1).relu(), 2)
        return conv(h, w2, stride=2).sum() + pool(conv(xt, w1, b1, dilation=2), 3, 2, 1).sum()
    assert_matches_torch(lambda *t: net(conv2d, max_pool2d, *t), lambda *t: net(TF.conv2d, TF.max_pool2d, *t),
                         x, w1, b1, w2, dtype=np.float32, device=device)


def test_conv2d_output_is_a_batch_innermost_view_and_contiguous_copies_it(device, route):
    """Values and shapes are NCHW; the fast route's memory is (O, OH, OW, N) (``fast/conv.py``), and
    ``contiguous()`` gives a row-major copy that passes the gradient through, as PyTorch's."""
    if route == "reference":
        pytest.skip("the batch-innermost layout belongs to the fast route")
    x, w = _normal(5, (3, 2, 6, 5), (4, 2, 3, 3))
    xt = tg.tensor(x, device=device, requires_grad=True)
    out = conv2d(xt, tg.tensor(w, device=device), padding=1)
    assert out.shape == (3, 4, 6, 5) and not out.is_contiguous()
    dense = out.contiguous()
    assert dense.is_contiguous() and dense.grad_fn.name() == "CloneBackward" and dense.contiguous() is dense
    np.testing.assert_array_equal(to_numpy(dense.array), to_numpy(out.array))
    (dense * dense).sum().backward()
    ref = torch.tensor(x, requires_grad=True)
    (TF.conv2d(ref, torch.tensor(w), padding=1) ** 2).sum().backward()
    np.testing.assert_allclose(to_numpy(xt.grad.array), ref.grad.numpy(), rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("c_in, args, by_conv", [(1, dict(stride=2), False), (4, dict(padding=1), True)],
                         ids=["col2im", "by-conv"])
def test_conv2d_gradient_only_where_needed(c_in, args, by_conv, device, route):
    """A first layer: the input needs no gradient; weight and bias still get theirs (by either
    route of the backward: the weight gradient from the input's or from the output gradient's columns)."""
    x, w, b = _normal(3, (2, c_in, 7, 6), (3, c_in, 3, 3), (3,))
    xt, wt, bt = torch.tensor(x), torch.tensor(w, requires_grad=True), torch.tensor(b, requires_grad=True)
    ours_w, ours_b = tg.tensor(w, device=device, requires_grad=True), tg.tensor(b, device=device, requires_grad=True)
    out = conv2d(tg.tensor(x, device=device), ours_w, ours_b, **args)
    assert out.grad_fn.name() == "Conv2dBackward" and len(out.grad_fn.next_functions) == 3
    assert route == "reference" or out.grad_fn.by_conv is by_conv
    (out * out).sum().backward()
    (TF.conv2d(xt, wt, bt, **args) ** 2).sum().backward()
    np.testing.assert_allclose(to_numpy(ours_w.grad.array), wt.grad.numpy(), rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(to_numpy(ours_b.grad.array), bt.grad.numpy(), rtol=1e-10, atol=1e-10)


# ============================================================================ pools vs torch
@DTYPES
@given(cfg=tst.pool_configs(max_dilation=2), seed=SEEDS, as_int=st.booleans())
def test_max_pool2d_matches_torch(cfg, seed, as_int, dtype, device):
    (x,) = _normal(seed, (cfg["n"], cfg["c"], cfg["h"], cfg["w"]))
    args = _pool_args(cfg, as_int)
    assert_matches_torch(lambda t: max_pool2d(t, **args, return_indices=True),
                         lambda t: TF.max_pool2d(t, **args, return_indices=True), x, dtype=dtype, device=device)


@DTYPES
@given(cfg=tst.pool_configs(max_dilation=2), seed=SEEDS, low=st.sampled_from([-3, 0]))
def test_max_pool2d_ties_go_where_torch_sends_them(cfg, seed, low, dtype, device):
    """Integer values from a tiny range: most windows hold several equal maxima."""
    shape = (cfg["n"], cfg["c"], cfg["h"], cfg["w"])
    x = np.random.default_rng(seed).integers(low, low + 3, shape).astype(np.float64)
    args = _pool_args(cfg, as_int=False)
    assert_matches_torch(lambda t: max_pool2d(t, **args, return_indices=True),
                         lambda t: TF.max_pool2d(t, **args, return_indices=True), x, dtype=dtype, device=device)


@pytest.mark.filterwarnings("ignore:invalid value encountered")  # NaN - NaN inside the comparison
@pytest.mark.parametrize("args", [dict(kernel_size=2), dict(kernel_size=3, stride=1, padding=1),
                                  dict(kernel_size=(3, 2), stride=(2, 1), padding=1, dilation=(1, 2)),
                                  dict(kernel_size=2, stride=3, padding=1, ceil_mode=True)],
                         ids=["2x2", "3x3s1p1", "dilated", "ceil"])
def test_max_pool2d_constant_nan_and_inf_windows(args, device):
    """All-equal windows (the first element wins), all-negative windows next to the padding (which
    never wins), NaN (propagates; the last NaN of a window gets the gradient) and -inf windows."""
    rng = np.random.default_rng(4)
    cases = [np.full((2, 2, 7, 6), 1.5), np.full((1, 2, 7, 6), -2.0), np.full((1, 1, 5, 5), -np.inf)]
    with_nan = rng.integers(0, 3, (2, 2, 7, 6)).astype(np.float64)
    with_nan[rng.random(with_nan.shape) < 0.2] = np.nan
    with_inf = rng.integers(0, 3, (2, 2, 7, 6)).astype(np.float64)
    with_inf[rng.random(with_inf.shape) < 0.5] = -np.inf
    for x in cases + [with_nan, with_inf]:
        for dtype in (np.float64, np.float32):
            assert_matches_torch(lambda t: max_pool2d(t, **args, return_indices=True),
                                 lambda t: TF.max_pool2d(t, **args, return_indices=True), x, dtype=dtype,
                                 device=device)


@DTYPES
@given(cfg=tst.pool_configs(), seed=SEEDS, as_int=st.booleans(), count_include_pad=st.booleans(),
       divisor_override=st.one_of(st.none(), st.integers(1, 5)))
def test_avg_pool2d_matches_torch(cfg, seed, as_int, count_include_pad, divisor_override, dtype, device):
    (x,) = _normal(seed, (cfg["n"], cfg["c"], cfg["h"], cfg["w"]))
    args = dict(_pool_args(cfg, as_int, with_dilation=False), count_include_pad=count_include_pad,
                divisor_override=divisor_override)
    assert_matches_torch(lambda t: avg_pool2d(t, **args), lambda t: TF.avg_pool2d(t, **args), x,
                         dtype=dtype, device=device)


@DTYPES
def test_pools_overlapping_and_unbatched(dtype, device):
    (x,) = _normal(5, (3, 10, 7))
    for k, s, p in [(3, 1, 1), (4, 2, 2), ((3, 2), (1, 2), (1, 0))]:          # stride < kernel
        for count_include_pad in (True, False):
            args = dict(kernel_size=k, stride=s, padding=p, count_include_pad=count_include_pad)
            for inp in (x, x[None]):
                assert_matches_torch(lambda t: avg_pool2d(t, **args), lambda t: TF.avg_pool2d(t, **args),
                                     inp, dtype=dtype, device=device)
        for inp in (x, x[None]):
            assert_matches_torch(lambda t: max_pool2d(t, k, s, p, return_indices=True),
                                 lambda t: TF.max_pool2d(t, k, s, p, return_indices=True),
                                 inp, dtype=dtype, device=device)


@pytest.mark.parametrize("layout", ["row_major", "batch_innermost"])
def test_pools_whose_windows_tile_the_input(layout, device, route):
    """Windows that cover the input exactly once write every gradient element (no zero fill):
    the tutorials' 2x2 pools on even maps, in the layout a convolution hands them; ties included.
    Then a 16x16 window, whose 256 offsets no longer fit the byte-sized argmax."""
    rng = np.random.default_rng(8)
    x = rng.integers(0, 3, (3, 4, 8, 6)).astype(np.float64)
    if layout == "batch_innermost":
        x = np.ascontiguousarray(x.transpose(1, 2, 3, 0)).transpose(3, 0, 1, 2)
    for args in [dict(kernel_size=2), dict(kernel_size=(4, 3)), dict(kernel_size=2, ceil_mode=True)]:
        assert tiling(pool_window("test", x.shape, args["kernel_size"], None, 0, 1, args.get("ceil_mode", False)))
        assert_matches_torch(lambda t: max_pool2d(t, **args, return_indices=True),
                             lambda t: TF.max_pool2d(t, **args, return_indices=True), x, device=device)
        assert_matches_torch(lambda t: avg_pool2d(t, **args), lambda t: TF.avg_pool2d(t, **args), x,
                             device=device)
        # the upstream gradient arrives row-major (as after a flatten); the input gradient keeps
        # the input's layout, so the ReLU and convolution below the pool stay in one layout
        for pool in (max_pool2d, avg_pool2d):
            seen = []
            xt = tg.tensor(x, device=device, requires_grad=True)
            below = xt * 1.0                                             # keeps x's layout
            below.register_hook(lambda grad: seen.append(grad.array))
            out = pool(below, args["kernel_size"], ceil_mode=args.get("ceil_mode", False))
            out.backward(tg.tensor(np.ones(out.shape), device=device))
            assert route == "reference" or axes_outer_first(seen[0]) == axes_outer_first(below.array) == \
                axes_outer_first(x)
    big = rng.integers(0, 3, (2, 1, 17, 16)).astype(np.float64)
    assert_matches_torch(lambda t: max_pool2d(t, 16, stride=1, return_indices=True),
                         lambda t: TF.max_pool2d(t, 16, stride=1, return_indices=True), big, device=device)


# ============================================================================ gradcheck
def test_gradcheck_conv2d(device):
    x, w, b = _normal(6, (2, 2, 5, 4), (3, 2, 3, 2), (3,))
    inputs = [tg.tensor(a, device=device, requires_grad=True) for a in (x, w, b)]
    assert tg.gradcheck(lambda x, w, b: conv2d(x, w, b, stride=(2, 1), padding=1, dilation=(1, 2)), inputs)


def test_gradcheck_pools(device):
    x = np.random.default_rng(7).permutation(2 * 2 * 6 * 5).reshape(2, 2, 6, 5) / 10.0  # distinct: no ties
    t = tg.tensor(x, device=device, requires_grad=True)
    assert tg.gradcheck(lambda t: max_pool2d(t, 3, stride=(1, 2), padding=1), [t])
    assert tg.gradcheck(lambda t: max_pool2d(t, 2, stride=2, dilation=2, ceil_mode=True), [t])
    assert tg.gradcheck(lambda t: avg_pool2d(t, 3, stride=2, padding=1, ceil_mode=True,
                                             count_include_pad=False), [t])
    assert tg.gradcheck(lambda t: avg_pool2d(t, (2, 3), stride=1, padding=(1, 0)), [t])


# ============================================================================ errors
def _t(*shape, dtype=tg.float32, device="cpu"):
    return tg.zeros(*shape, dtype=dtype, device=device)


@pytest.mark.parametrize("call, message", [
    (lambda: conv2d(_t(1, 2, 5, 5), _t(8, 3, 5, 5)),
     r"conv2d: expected input with 3 channels to match weight of shape \(8, 3, 5, 5\), got input of shape \(1, 2, 5, 5\)"),
    (lambda: conv2d(_t(1, 3, 2, 2), _t(8, 3, 5, 5), padding=1),
     r"conv2d: input of shape \(1, 3, 2, 2\) \(padded to 4x4\) is smaller than the dilated kernel size 5x5 "
     r"of weight of shape \(8, 3, 5, 5\)"),
    (lambda: conv2d(_t(1, 3, 5, 5), _t(8, 3, 2, 2), dilation=5),
     r"conv2d: input of shape \(1, 3, 5, 5\) \(padded to 5x5\) is smaller than the dilated kernel size 6x6"),
    (lambda: conv2d(_t(5, 5), _t(8, 3, 3, 3)), r"conv2d: expected a 3-D \(unbatched\) or 4-D.*got input of shape \(5, 5\)"),
    (lambda: conv2d(_t(1, 3, 5, 5), _t(8, 3, 3)), r"conv2d: expected a 4-D weight.*got weight of shape \(8, 3, 3\)"),
    (lambda: conv2d(_t(1, 3, 5, 5), _t(8, 3, 3, 3, dtype=tg.float64)),
     r"conv2d: expected input and weight to have the same dtype, got input \S*float32 \(shape \(1, 3, 5, 5\)\) "
     r"and weight \S*float64 \(shape \(8, 3, 3, 3\)\)"),
    (lambda: conv2d(_t(1, 3, 5, 5), _t(8, 3, 3, 3), _t(7)),
     r"conv2d: expected bias of shape \(8,\) to match weight of shape \(8, 3, 3, 3\), got bias of shape \(7,\)"),
    (lambda: conv2d(_t(1, 3, 5, 5, dtype=tg.int64), _t(8, 3, 3, 3, dtype=tg.int64)), r"conv2d: expected a floating"),
    (lambda: conv2d(_t(1, 4, 5, 5), _t(6, 3, 3, 3), groups=2),
     r"conv2d: expected input with 6 channels to match weight of shape \(6, 3, 3, 3\) and groups=2"),
    (lambda: conv2d(_t(1, 6, 5, 5), _t(5, 3, 3, 3), groups=2), r"conv2d: .*\(5, 3, 3, 3\).*divisible by groups=2"),
    (lambda: conv2d(_t(1, 3, 5, 5), _t(8, 3, 3, 3), groups=0), r"conv2d: non-positive groups"),
    (lambda: conv2d(_t(1, 3, 5, 5), _t(8, 3, 3, 3), stride=0), r"conv2d: non-positive stride"),
    (lambda: conv2d(_t(1, 3, 5, 5), _t(8, 3, 3, 3), padding=-1), r"conv2d: negative padding"),
    (lambda: conv2d(_t(1, 3, 5, 5), _t(8, 3, 3, 3), stride=(1, 2, 3)), r"conv2d: stride must be a single int"),
    (lambda: conv2d(_t(1, 3, 5, 5), _t(8, 3, 3, 3), padding="same", stride=2), r"conv2d: padding='same' is not supported"),
    (lambda: max_pool2d(_t(4, 4), 2), r"max_pool2d: expected a 3-D \(unbatched\) or 4-D.*got input of shape \(4, 4\)"),
    (lambda: max_pool2d(_t(1, 1, 4, 4), 2, padding=2),
     r"max_pool2d: pad should be smaller than or equal to half of kernel size, but got padW = 2, padH = 2, kW = 2, kH = 2"),
    (lambda: max_pool2d(_t(1, 1, 3, 3), 3, dilation=2),
     r"max_pool2d: input of shape \(1, 1, 3, 3\) \(padded to 3x3\) is too small for kernel size 5x5 \(dilated\): "
     r"calculated output size 0x0"),
    (lambda: max_pool2d(_t(1, 1, 4, 4), 2, stride=0), r"max_pool2d: stride should be greater than zero"),
    (lambda: max_pool2d(_t(1, 1, 4, 4), (2, 2, 2)), r"max_pool2d: kernel_size must be a single int or a tuple of two ints"),
    (lambda: max_pool2d(_t(1, 1, 4, 4, dtype=tg.int64), 2), r"max_pool2d: expected a floating-point input.*int64"),
    (lambda: avg_pool2d(_t(1, 1, 1, 5), 2), r"avg_pool2d: input of shape \(1, 1, 1, 5\) \(padded to 1x5\) is too small"),
    (lambda: avg_pool2d(_t(1, 1, 4, 4), 3, padding=2), r"avg_pool2d: pad should be smaller than or equal to half"),
    (lambda: avg_pool2d(_t(1, 1, 4, 4), 2, divisor_override=0), r"avg_pool2d: divisor must be not zero"),
    (lambda: avg_pool2d(_t(1, 0, 4, 4), 2), r"avg_pool2d: .*non-zero channels.*\(1, 0, 4, 4\)"),
], ids=lambda v: None if callable(v) else v[:40])
def test_errors_name_the_op_and_shapes(call, message):
    with pytest.raises(RuntimeError, match=message):
        call()


def test_device_mismatch_raises(device):
    if not tg.cuda.is_available():
        pytest.skip("needs a GPU: input and weight on different devices")
    with pytest.raises(RuntimeError, match="conv2d: expected all tensors to be on the same device"):
        conv2d(_t(1, 3, 5, 5, device="cuda"), _t(8, 3, 3, 3, device="cpu"))
