"""PyTorch's semantics at the edges (issue 14): each class of disagreement, drawn many ways.

Every test compares values and gradients with torch, in float64 and float32, with NaN, +-inf,
ties, exact zeros, empty dimensions and non-finite upstream gradients among the draws. NaN in
both results counts as equal (``testing.compare._compare``).
"""
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as TF
from hypothesis import given, strategies as st
from hypothesis.extra import numpy as hnp

import tinygrad_mnist as tg
import tinygrad_mnist.nn.functional as F
from tinygrad_mnist.backend import to_numpy
from tinygrad_mnist.testing.compare import _compare, tolerances

DTYPES = pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["float64", "float32"])
SPECIALS = [0.0, -0.0, 1.0, -1.0, 2.0, math.inf, -math.inf, math.nan]


def special_arrays(dtype, shape=hnp.array_shapes(min_dims=1, max_dims=3, max_side=4), specials=SPECIALS,
                   min_value=-3, max_value=3):
    """Arrays mixing small integers (ties), exact zeros, and NaN / +-inf."""
    elements = st.one_of(st.sampled_from(specials), st.integers(min_value, max_value).map(float),
                         st.floats(min_value, max_value, allow_nan=False, width=32))
    return hnp.arrays(np.dtype(dtype), shape, elements=elements)


def upstreams(dtype, shape):
    """Upstream gradients, some holding inf or NaN (where a select must still give 0)."""
    return hnp.arrays(np.dtype(dtype), shape, elements=st.one_of(
        st.floats(-2, 2, allow_nan=False, width=32), st.sampled_from([math.inf, -math.inf, math.nan, 0.0])))


def both(fn_ours, fn_torch, arrays, upstream=None, dtype=np.float64, grad=True, ints=()):
    """Run ``fn`` in both engines on ``arrays`` (float ones require grad), backpropagate ``upstream``
    (ones when None) and compare the outputs and every input gradient."""
    rtol, atol = tolerances(dtype)
    ours_in, torch_in = [], []
    for i, a in enumerate(arrays):
        a = np.asarray(a)
        floating = a.dtype.kind == "f" and i not in ints
        a = a.astype(dtype) if floating else a
        ours_in.append(tg.tensor(a, requires_grad=floating and grad))
        torch_in.append(torch.tensor(a, requires_grad=floating and grad))
    out_ours, out_torch = fn_ours(*ours_in), fn_torch(*torch_in)
    _compare("output", to_numpy(out_ours.detach().array), out_torch.detach().numpy(), rtol, atol)
    if not grad:
        return out_ours
    u = np.ones(out_torch.shape, dtype) if upstream is None else np.asarray(upstream, dtype).reshape(out_torch.shape)
    out_ours.backward(tg.tensor(u))
    out_torch.backward(torch.tensor(u))
    for k, (o, t) in enumerate(zip(ours_in, torch_in)):
        if t.requires_grad:
            ref = t.grad.numpy() if t.grad is not None else np.zeros(t.shape, dtype)
            got = to_numpy(o.grad.array) if o.grad is not None else np.zeros(t.shape, dtype)
            _compare(f"gradient of input {k}", got, ref, rtol, atol)
    return out_ours


# ---------------------------------------------------------------- 1. the seed of backward()
@DTYPES
@given(data=st.data())
def test_backward_seeds_one_whatever_the_output_value(data, dtype):
    """A scalar output that is NaN or infinite still starts backward with gradient 1."""
    x = data.draw(special_arrays(dtype))
    scale = data.draw(st.sampled_from([2.0, -1.0, math.inf, 0.0]))
    both(lambda t: t.sum() * scale, lambda t: t.sum() * scale, [x], dtype=dtype)
    both(lambda t: (t * t).mean(), lambda t: (t * t).mean(), [x], dtype=dtype)
    ours = tg.tensor(x.astype(dtype), requires_grad=True)
    theirs = torch.tensor(x.astype(dtype), requires_grad=True)
    (g_ours,) = tg.autograd.grad(ours.sum() * 2, ours)              # no grad_outputs: also seeded with 1
    (g_torch,) = torch.autograd.grad(theirs.sum() * 2, theirs)
    _compare("autograd.grad", to_numpy(g_ours.array), g_torch.numpy(), *tolerances(dtype))


def test_anomaly_detection_blames_no_op_for_a_nan_input():
    """torch: with a NaN input but finite gradients, detect_anomaly stays quiet; so do we."""
    a = tg.tensor([math.nan, 1.0, 2.0], requires_grad=True)
    with tg.autograd.detect_anomaly():
        (a.sum() * 2).backward()
    np.testing.assert_array_equal(a.grad.numpy(), [2.0, 2.0, 2.0])


# ---------------------------------------------------------------- 2. maximum / minimum and max / min
PAIRS = [("maximum", lambda a, b: tg.maximum(a, b), lambda a, b: torch.maximum(a, b)),
         ("minimum", lambda a, b: tg.minimum(a, b), lambda a, b: torch.minimum(a, b)),
         ("max(other)", lambda a, b: a.max(b), lambda a, b: a.max(b)),
         ("min(other)", lambda a, b: a.min(b), lambda a, b: a.min(b))]


@DTYPES
@pytest.mark.parametrize("name, ours, theirs", PAIRS, ids=[p[0] for p in PAIRS])
@given(data=st.data())
def test_elementwise_extremes_split_ties_and_propagate_nan(name, ours, theirs, data, dtype):
    shape_a, shape_b = data.draw(hnp.mutually_broadcastable_shapes(num_shapes=2, max_dims=3, max_side=3)).input_shapes
    a = data.draw(special_arrays(dtype, shape_a, specials=[0.0, 1.0, math.nan, math.inf], min_value=-1, max_value=1))
    b = data.draw(special_arrays(dtype, shape_b, specials=[0.0, 1.0, math.nan, -math.inf], min_value=-1, max_value=1))
    both(ours, theirs, [a, b], dtype=dtype)


@DTYPES
@pytest.mark.parametrize("op", ["max", "min"])
@given(data=st.data())
def test_max_and_min_of_everything_share_the_gradient_among_ties_or_nans(op, data, dtype):
    x = data.draw(special_arrays(dtype, specials=[1.0, -1.0, math.nan, math.inf, -math.inf], min_value=-1,
                                 max_value=1))
    both(lambda t: getattr(t, op)(), lambda t: getattr(t, op)(), [x], dtype=dtype)


# ---------------------------------------------------------------- 3. selects, not multiplies
SELECTS = [
    ("relu", lambda t: t.relu(), lambda t: t.relu()),
    ("relu then sqrt", lambda t: t.relu().sqrt(), lambda t: t.relu().sqrt()),
    ("clamp", lambda t: t.clamp(-1, 1), lambda t: t.clamp(-1, 1)),
    ("clamp min", lambda t: t.clamp(min=0), lambda t: t.clamp(min=0)),
    ("clamp max", lambda t: t.clamp(max=0.5), lambda t: t.clamp(max=0.5)),
    ("where", lambda t: tg.where(t > 0, t, t * 2), lambda t: torch.where(t > 0, t, t * 2)),
    ("masked_fill", lambda t: t.masked_fill(t < 0, 3.0), lambda t: t.masked_fill(t < 0, 3.0)),
    ("max(dim)", lambda t: t.max(-1).values, lambda t: t.max(-1).values),
    ("min(dim)", lambda t: t.min(0, keepdim=True).values, lambda t: t.min(0, keepdim=True).values),
    ("pow 0", lambda t: t ** 0, lambda t: t ** 0),
    ("abs", lambda t: t.abs(), lambda t: t.abs()),
    ("sign", lambda t: t.sign(), lambda t: t.sign()),
    ("amax", lambda t: t.amax(-1), lambda t: t.amax(-1)),
]


@DTYPES
@pytest.mark.parametrize("name, ours, theirs", SELECTS, ids=[s[0] for s in SELECTS])
@pytest.mark.parametrize("fast", [True, False], ids=["fast", "reference"])
@given(data=st.data())
def test_zero_derivative_regions_get_zero_even_from_infinite_upstream(name, ours, theirs, fast, data, dtype):
    x = data.draw(special_arrays(dtype, specials=[0.0, -1.0, 2.0, math.nan, math.inf, -math.inf]))
    with torch.no_grad():
        shape = theirs(torch.tensor(x)).shape
    u = data.draw(upstreams(dtype, shape))
    with tg.fast.set_enabled(fast):
        both(ours, theirs, [x], upstream=u, dtype=dtype)


@DTYPES
@pytest.mark.parametrize("fast", [True, False], ids=["fast", "reference"])
@given(data=st.data())
def test_max_pool_and_relu_layers_with_nonfinite_upstream(fast, data, dtype):
    x = data.draw(special_arrays(dtype, shape=st.tuples(st.integers(1, 2), st.integers(1, 2), st.integers(2, 5),
                                                         st.integers(2, 5))))
    with torch.no_grad():
        shape = TF.max_pool2d(torch.tensor(x), 2, 1).shape
    u = data.draw(upstreams(dtype, shape))
    with tg.fast.set_enabled(fast):
        both(lambda t: F.max_pool2d(t.relu(), 2, 1), lambda t: TF.max_pool2d(t.relu(), 2, 1), [x], upstream=u,
             dtype=dtype)


@DTYPES
@pytest.mark.parametrize("loss", ["nll_loss", "cross_entropy"])
@pytest.mark.parametrize("fast", [True, False], ids=["fast", "reference"])
@given(data=st.data())
def test_losses_with_nonfinite_upstream_give_zero_off_target(loss, fast, data, dtype):
    n, c = data.draw(st.integers(1, 4)), data.draw(st.integers(1, 4))
    x = data.draw(special_arrays(dtype, shape=st.just((n, c)), specials=[0.0, 1.0, -math.inf]))
    target = np.asarray(data.draw(st.lists(st.sampled_from(list(range(c)) + [-100]), min_size=n, max_size=n)))
    u = data.draw(upstreams(dtype, (n,)))
    ours, theirs = getattr(F, loss), getattr(TF, loss)
    with tg.fast.set_enabled(fast):
        both(lambda t, y: ours(t, y, reduction="none"), lambda t, y: theirs(t, y, reduction="none"),
             [x, target], upstream=u, dtype=dtype)


# ---------------------------------------------------------------- 4. ignore_index
@DTYPES
@pytest.mark.parametrize("loss", ["nll_loss", "cross_entropy"])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("fast", [True, False], ids=["fast", "reference"])
@given(data=st.data())
def test_ignored_positions_contribute_exactly_nothing(loss, reduction, fast, data, dtype):
    n, c = data.draw(st.integers(1, 4)), data.draw(st.integers(2, 4))
    ignore = data.draw(st.sampled_from([-100, 0, 1]))
    x = data.draw(special_arrays(dtype, shape=st.just((n, c)), specials=[0.0, 1.0, -math.inf]))
    target = np.asarray(data.draw(st.lists(st.sampled_from(list(range(c)) + [ignore]), min_size=n, max_size=n)))
    keep = target != ignore
    x[keep] = np.where(np.isfinite(x[keep]), x[keep], 0.0)    # -inf only in ignored rows
    weight = data.draw(st.none() | hnp.arrays(np.dtype(dtype), (c,), elements=st.floats(0.5, 2, width=32)))
    args = [x, target] + ([] if weight is None else [weight])

    def call(fn):
        return lambda t, y, *w: fn(t, y, weight=w[0] if w else None, ignore_index=ignore, reduction=reduction)
    with tg.fast.set_enabled(fast):
        out = both(call(getattr(F, loss)), call(getattr(TF, loss)), args, dtype=dtype, ints=(2,))
    if reduction == "none":                                        # +0.0 at ignored positions, as torch
        assert not np.signbit(to_numpy(out.detach().array)[~keep]).any()


@DTYPES
@pytest.mark.parametrize("loss", ["nll_loss", "cross_entropy"])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("fast", [True, False], ids=["fast", "reference"])
@given(data=st.data())
def test_a_zero_class_weight_is_a_product_not_an_ignored_target(loss, reduction, fast, data, dtype):
    """Only ignore_index selects 0; a class weight of 0 multiplies, as in PyTorch, so it meets an
    infinite upstream gradient or logit as 0 * inf = NaN (and an all-zero-weight 'mean' is 0/0)."""
    n, c = data.draw(st.integers(1, 4)), data.draw(st.integers(2, 4))
    x = data.draw(special_arrays(dtype, shape=st.just((n, c)), specials=[0.0, 1.0, -math.inf, math.inf]))
    target = np.asarray(data.draw(st.lists(st.sampled_from(list(range(c)) + [-100]), min_size=n, max_size=n)))
    weight = data.draw(hnp.arrays(np.dtype(dtype), (c,), elements=st.sampled_from([0.0, 0.5, 1.0, 2.0])))
    shape = (n,) if reduction == "none" else ()
    u = data.draw(upstreams(dtype, shape))

    def call(fn):
        return lambda t, y, w: fn(t, y, weight=w, reduction=reduction)
    with tg.fast.set_enabled(fast):
        both(call(getattr(F, loss)), call(getattr(TF, loss)), [x, target, weight], upstream=u, dtype=dtype,
             ints=(2,))


def test_the_issue_repro_of_ignored_rows():
    x = tg.tensor([[-math.inf, 0.0, 1.0], [0.0, 1.0, 2.0]], dtype=tg.float64, requires_grad=True)
    loss = F.cross_entropy(x, tg.tensor([-100, 1]))
    assert loss.item() == pytest.approx(1.4076059644443804, rel=1e-12)


# ---------------------------------------------------------------- 5. std/var, abs, tensor-exponent pow
@DTYPES
@pytest.mark.parametrize("op", ["std", "var"])
@given(data=st.data())
def test_std_and_var_at_zero_spread_and_with_infinities(op, data, dtype):
    x = data.draw(special_arrays(dtype, shape=st.tuples(st.integers(1, 3), st.integers(1, 4)),
                                 specials=[2.0, 2.0, math.inf, math.nan], min_value=2, max_value=2))
    dim = data.draw(st.sampled_from([None, 0, 1]))
    correction = data.draw(st.sampled_from([0, 1]))
    args = {} if dim is None else {"dim": dim}
    both(lambda t: getattr(t, op)(**args, correction=correction), lambda t: getattr(t, op)(**args, correction=correction),
         [x], dtype=dtype)


@DTYPES
@given(data=st.data())
def test_tensor_exponent_pow_at_base_zero_and_negative_bases(data, dtype):
    shape = data.draw(hnp.array_shapes(min_dims=1, max_dims=2, max_side=3))
    a = data.draw(special_arrays(dtype, shape, specials=[0.0, -1.0, 2.0, math.inf], min_value=-2, max_value=2))
    b = data.draw(special_arrays(dtype, shape, specials=[0.0, 1.0, -1.0, 0.5, 2.0], min_value=-2, max_value=2))
    both(lambda x, y: x ** y, lambda x, y: x ** y, [a, b], dtype=dtype)
    both(lambda x, y: (x ** y) ** -1, lambda x, y: (x ** y) ** -1, [a, b], dtype=dtype)
    both(lambda x, y: 0.0 ** y + 2.0 ** x, lambda x, y: 0.0 ** y + 2.0 ** x, [a, b], dtype=dtype)


# ---------------------------------------------------------------- 6. empty tensors
EMPTY = [
    ("softmax over an empty dim", (2, 0), lambda t: t.softmax(1), lambda t: t.softmax(1)),
    ("log_softmax of no rows", (0, 3), lambda t: t.log_softmax(1), lambda t: t.log_softmax(1)),
    ("softmax of no rows", (0, 3), lambda t: t.softmax(-1), lambda t: t.softmax(-1)),
    ("amax over a full dim of no rows", (0, 3), lambda t: t.amax(1), lambda t: t.amax(1)),
    ("sum of nothing", (0, 3), lambda t: t.sum(), lambda t: t.sum()),
    ("sum over an empty dim", (2, 0), lambda t: t.sum(1), lambda t: t.sum(1)),
    ("mean over an empty dim", (2, 0), lambda t: t.mean(1), lambda t: t.mean(1)),
    ("index by an empty list", (2, 3), lambda t: t[[]], lambda t: t[[]]),
    ("cat with an empty tensor", (0, 3), lambda t: tg.cat([t, t * 2]), lambda t: torch.cat([t, t * 2])),
    ("reshape of nothing", (0, 3), lambda t: t.reshape(3, 0), lambda t: t.reshape(3, 0)),
    ("relu of nothing", (0,), lambda t: t.relu(), lambda t: t.relu()),
]


@DTYPES
@pytest.mark.parametrize("name, shape, ours, theirs", EMPTY, ids=[e[0] for e in EMPTY])
def test_empty_tensors_give_empty_results_as_torch(name, shape, ours, theirs, dtype):
    both(ours, theirs, [np.zeros(shape)], dtype=dtype)


@DTYPES
@given(batch=st.integers(0, 3), out=st.integers(0, 3), bias=st.booleans())
def test_linear_with_zero_in_features_is_the_bias(batch, out, bias, dtype):
    arrays = [np.zeros((batch, 0)), np.zeros((out, 0))] + ([np.arange(out, dtype=float)] if bias else [])
    both(lambda *t: F.linear(*t), lambda *t: TF.linear(*t), arrays, dtype=dtype)


def test_reductions_over_an_empty_dim_that_torch_refuses():
    for fn in (lambda t: t.amax(0), lambda t: t.max(0), lambda t: t.argmax(0), lambda t: t.max()):
        with pytest.raises((IndexError, RuntimeError)):
            fn(torch.zeros(0, 3))
        with pytest.raises((IndexError, RuntimeError)):
            fn(tg.zeros(0, 3))


# ---------------------------------------------------------------- 7. aliasing
def test_views_and_no_op_views_alias_as_torch():
    v = tg.randn(3, requires_grad=True)
    m = tg.randn(2, 3, requires_grad=True)
    for ours, theirs_is_self in [(v.t(), False), (v.flatten(), True), (v.contiguous(), True), (m.flatten(0, 0), True),
                                 (m.contiguous(), True), (m.flatten(), False), (v.reshape(3), False), (v.view(3), False)]:
        assert (ours is v or ours is m) == theirs_is_self
    tv = torch.randn(3)
    assert tv.t() is not tv and tv.flatten() is tv and tv.contiguous() is tv


def test_a_transposed_vector_is_its_own_node_for_hooks_and_retain_grad():
    v = tg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    w = v.t()
    w.retain_grad()
    seen = []
    w.register_hook(lambda g: seen.append(g.numpy().copy()))
    (w * 2).sum().backward()
    np.testing.assert_array_equal(w.grad.numpy(), [2.0, 2.0, 2.0])
    assert len(seen) == 1 and v.grad is not None and w.grad_fn.name() == "TransposeBackward"


# ---------------------------------------------------------------- guards: invalid gradients
class _ReturnsGiven(tg.autograd.Function):
    """A custom Function whose backward returns a gradient of a given shape/dtype (the guard's subject)."""

    @staticmethod
    def forward(ctx, x, shape, dtype):
        ctx.shape, ctx.dtype = shape, dtype
        return x.clone()

    @staticmethod
    def backward(ctx, g):
        return tg.ones(ctx.shape, dtype=ctx.dtype), None, None


@given(in_shape=hnp.array_shapes(min_dims=0, max_dims=3, max_side=3),
       grad_shape=hnp.array_shapes(min_dims=0, max_dims=4, max_side=3))
def test_a_gradient_of_the_wrong_shape_is_summed_down_or_refused_as_torch(in_shape, grad_shape):
    x_ours = tg.zeros(in_shape, dtype=tg.float64, requires_grad=True)
    x_torch = torch.zeros(in_shape, dtype=torch.float64, requires_grad=True)

    class TorchReturnsGiven(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x.clone()

        @staticmethod
        def backward(ctx, g):
            return torch.ones(grad_shape, dtype=torch.float64)
    try:
        TorchReturnsGiven.apply(x_torch).sum().backward()
    except RuntimeError as exc:
        assert "invalid gradient" in str(exc)
        with pytest.raises(RuntimeError, match=r"Function _ReturnsGivenBackward returned an invalid gradient at "
                                               r"index 0 - got \[.*\] but expected shape compatible with \[.*\]"):
            _ReturnsGiven.apply(x_ours, grad_shape, tg.float64).sum().backward()
        return
    _ReturnsGiven.apply(x_ours, grad_shape, tg.float64).sum().backward()
    np.testing.assert_array_equal(x_ours.grad.numpy(), x_torch.grad.numpy())


def test_a_gradient_of_another_dtype_is_cast_and_a_wrong_count_refused():
    x = tg.zeros(3, requires_grad=True)
    _ReturnsGiven.apply(x, (3,), tg.float64).sum().backward()
    assert x.grad.dtype == tg.float32

    class TwoForOne(tg.autograd.Function):
        @staticmethod
        def forward(ctx, a):
            return a * 1

        @staticmethod
        def backward(ctx, g):
            return g, g
    with pytest.raises(RuntimeError, match=r"function TwoForOneBackward returned an incorrect number of gradients "
                                           r"\(expected 1, got 2\)"):
        TwoForOne.apply(tg.zeros(2, requires_grad=True)).sum().backward()


# ---------------------------------------------------------------- guards: versions
INPLACE = [
    ("add_ under no_grad", lambda t: _no_grad(lambda: t.add_(1))),
    ("mul_ of a detach()", lambda t: t.detach().mul_(2)),
    ("copy_ into a view", lambda t: _no_grad(lambda: t.reshape(-1)[:1].copy_(tg.zeros(1, dtype=t.dtype)))),
    ("setitem", lambda t: _no_grad(lambda: t.__setitem__(0, 5.0))),
    ("fill_ of a transposed view", lambda t: t.detach().t().fill_(1.0)),
    ("zero_", lambda t: t.detach().zero_()),
]


def _no_grad(fn):
    with tg.no_grad():
        return fn()


def _saved_input(op):
    """An op that saves its input ``hidden`` (a non-leaf, so changing it is the user's doing)."""
    def build(a, b):
        hidden = a * 1.0
        return op(hidden, b), hidden
    return build


def _saved_output(a, b):
    """exp saves its output: changing the output in place must be seen too."""
    out = a.exp()
    return out * 1.0, out


SAVERS = [("mul", _saved_input(lambda h, b: h * b)),
          ("matmul", _saved_input(lambda h, b: h @ b.t())),
          ("conv2d", _saved_input(lambda h, b: F.conv2d(h.reshape(1, 1, 2, 3), b.reshape(1, 1, 2, 3)))),
          ("linear", _saved_input(lambda h, b: F.linear(h, b))),
          ("exp's output", _saved_output)]


@pytest.mark.parametrize("save_name, build", SAVERS, ids=[s[0] for s in SAVERS])
@pytest.mark.parametrize("change_name, change", INPLACE, ids=[c[0] for c in INPLACE])
@pytest.mark.parametrize("fast", [True, False], ids=["fast", "reference"])
def test_a_saved_tensor_changed_in_place_makes_backward_raise(save_name, build, change_name, change, fast):
    with tg.fast.set_enabled(fast):
        out, target = build(tg.randn(2, 3, requires_grad=True), tg.randn(2, 3, requires_grad=True))
        change(target)
        with pytest.raises(RuntimeError, match="modified by an inplace operation.*is at version"):
            out.sum().backward()


def test_the_version_error_names_the_op_that_needed_the_tensor():
    x = tg.randn(3, 4, requires_grad=True)
    b = x * 2
    c = b * b
    with tg.no_grad():
        b.add_(1)
    with pytest.raises(RuntimeError, match=r"output 0 of MulBackward.*is at version 1; expected version 0.*"
                                           r"saved by MulBackward"):
        c.sum().backward()


def test_data_is_outside_the_version_count_as_in_torch_and_optimizer_steps_count():
    a = tg.randn(3, requires_grad=True)
    b = a * a
    a.data.mul_(2)                                                 # not tracked, as PyTorch's .data
    b.sum().backward()
    w = tg.nn.Parameter(tg.randn(3))
    opt = tg.optim.SGD([w], lr=0.1)
    loss = (w * w).sum()
    (w * 3).sum().backward()
    opt.step()                                                     # w changed in place: loss's graph is stale
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        loss.backward()


def test_unchanged_saved_tensors_and_unsaved_inputs_pass():
    a = tg.randn(3, requires_grad=True)
    b = a + 1                                                      # Add saves nothing
    out = (b * 2).sum()                                            # Mul saves b (and the constant 2)
    with tg.no_grad():
        a.add_(1)                                                  # a is not saved by anyone
    out.backward()
    np.testing.assert_array_equal(a.grad.numpy(), [2.0, 2.0, 2.0])


# ---------------------------------------------------------------- guards: gradcheck on strided inputs
@pytest.mark.parametrize("make", [
    lambda: tg.randn(3, 4, dtype=tg.float64).t(),
    lambda: tg.randn(4, 6, dtype=tg.float64)[:, ::2],
    lambda: F.conv2d(tg.randn(2, 1, 5, 5, dtype=tg.float64), tg.randn(3, 1, 3, 3, dtype=tg.float64)),
], ids=["transposed", "strided slice", "conv output"])
def test_gradcheck_perturbs_strided_inputs_where_they_live(make):
    x = make().detach()
    x.requires_grad_(True)
    assert tg.gradcheck(lambda t: (t * t).sum(-1) + t.exp().mean(), (x,))
    assert tg.autograd.gradgradcheck(lambda t: (t * t * t).sum(-1), (x,))
