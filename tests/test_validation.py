"""Sizes that are not positive integers: creation functions and layer constructors refuse them.

Each class of bad value is drawn by hypothesis (floats, bools, strings, None, negative and zero
ints, pairs holding one of those), checked against what real PyTorch 2.13 does with the same
call, and the error must name the argument and the value.
"""
import math
import re
import warnings

import numpy as np
import pytest
import torch
from hypothesis import given, strategies as st

import tinygrad_mnist as tg
from tinygrad_mnist import nn

# ---------------------------------------------------------------------- values
not_an_int = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),  # 2.5, and 2.0 too: PyTorch refuses both
    st.booleans(),
    st.text(max_size=3),
    st.none(),
    st.just([2]),
    st.just(np.float64(2.0)),
)
not_an_int_scalar = st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.booleans(), st.text(max_size=3),
                              st.none(), st.just(np.float64(2.0)))
negative = st.integers(-10**6, -1)
good_size = st.integers(0, 4)


def raised(fn):
    """The exception ``fn()`` raises, or None."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fn()
    except Exception as exc:  # noqa: BLE001 -- the type is what the tests look at
        return exc
    return None


def names_value(exc, value):
    text = str(exc)
    return repr(value) in text or str(value) in text


# ---------------------------------------------------------------------- creation functions
SIZED = {
    "zeros": (lambda s: tg.zeros(*s), lambda s: torch.zeros(tuple(s))),
    "ones": (lambda s: tg.ones(s), lambda s: torch.ones(tuple(s))),
    "empty": (lambda s: tg.empty(*s), lambda s: torch.empty(tuple(s))),
    "randn": (lambda s: tg.randn(*s), lambda s: torch.randn(tuple(s))),
    "rand": (lambda s: tg.rand(s), lambda s: torch.rand(tuple(s))),
    "full": (lambda s: tg.full(tuple(s), 1.5), lambda s: torch.full(tuple(s), 1.5)),
    "randint": (lambda s: tg.randint(0, 5, tuple(s)), lambda s: torch.randint(0, 5, tuple(s))),
}


@st.composite
def shape_with_one_bad_entry(draw):
    shape = draw(st.lists(good_size, min_size=0, max_size=3))
    bad = draw(st.one_of(not_an_int, negative))
    position = draw(st.integers(0, len(shape)))
    shape.insert(position, bad)
    return shape, bad, position


@given(case=shape_with_one_bad_entry(), name=st.sampled_from(sorted(SIZED)))
def test_creation_refuses_sizes_that_are_not_non_negative_ints(case, name):
    shape, bad, position = case
    ours, theirs = SIZED[name]
    exc, ref = raised(lambda: ours(shape)), raised(lambda: theirs(shape))
    assert ref is not None, f"torch accepted {name}{shape}"
    assert exc is not None, f"{name}{shape} was accepted"
    expected = RuntimeError if isinstance(bad, int) and not isinstance(bad, bool) else TypeError
    assert type(exc) is expected and isinstance(ref, expected), (exc, ref)
    assert f"{name}()" in str(exc) and "size" in str(exc) and names_value(exc, bad), str(exc)
    if expected is TypeError:
        assert f"position {position}" in str(exc), str(exc)


@given(shape=st.lists(good_size, max_size=3), name=st.sampled_from(sorted(SIZED)))
def test_creation_accepts_every_non_negative_int_size(shape, name):
    ours, theirs = SIZED[name]
    as_numpy = [np.int64(n) for n in shape]  # NumPy integers are ints too
    assert tuple(ours(as_numpy).shape) == tuple(theirs(shape).shape) == tuple(shape)


def test_sizes_whose_product_overflows_int64_are_refused():
    for size in [(2 ** 62, 2 ** 62), (2 ** 40, 2 ** 40), (2 ** 21,) * 3]:
        exc, ref = raised(lambda: tg.zeros(*size)), raised(lambda: torch.zeros(*size))
        assert isinstance(exc, RuntimeError) and isinstance(ref, RuntimeError) and str(size) in str(exc)


@given(n=st.one_of(not_an_int, negative), name=st.sampled_from(["randperm", "eye", "linspace"]))
def test_counts_that_are_not_non_negative_ints(n, name):
    call = {"randperm": lambda lib: lib.randperm(n), "eye": lambda lib: lib.eye(n),
            "linspace": lambda lib: lib.linspace(0, 1, n)}[name]
    exc, ref = raised(lambda: call(tg)), raised(lambda: call(torch))
    assert exc is not None and ref is not None
    expected = RuntimeError if isinstance(n, int) and not isinstance(n, bool) else TypeError
    assert type(exc) is expected and isinstance(ref, expected), (exc, ref)
    assert f"{name}()" in str(exc) and names_value(exc, n), str(exc)


@given(low=st.integers(-50, 50), high=st.integers(-50, 50), n=st.integers(0, 4))
def test_randint_range_and_size(low, high, n):
    exc, ref = raised(lambda: tg.randint(low, high, (n,))), raised(lambda: torch.randint(low, high, (n,)))
    assert (exc is None) == (ref is None), (exc, ref)
    if exc is not None:
        assert isinstance(exc, RuntimeError) and f"low={low}" in str(exc) and f"high={high}" in str(exc)
    else:
        values = tg.randint(low, high, (n,)).numpy()
        assert values.shape == (n,) and ((low <= values) & (values < high)).all()
    # an int where the size tuple belongs (randint(5, 2)): PyTorch's TypeError, and the fix
    exc = raised(lambda: tg.randint(abs(high) + 1, n))
    assert isinstance(exc, TypeError) and isinstance(raised(lambda: torch.randint(abs(high) + 1, n)), TypeError)
    assert "'size' must be a tuple of ints" in str(exc) and f"randint({abs(high) + 1}, ({n},))" in str(exc)


@given(start=st.integers(-5, 5), end=st.integers(-5, 5),
       step=st.one_of(st.integers(-3, 3), st.sampled_from([0.0, 0.5, -0.5, math.inf, math.nan])))
def test_arange_refuses_what_torch_refuses(start, end, step):
    exc, ref = raised(lambda: tg.arange(start, end, step)), raised(lambda: torch.arange(start, end, step))
    # torch returns an empty tensor for an infinite step in the right direction; that is refused here
    assert (exc is None) == (ref is None and not math.isinf(step)), (start, end, step, exc, ref)
    if exc is not None:
        assert isinstance(exc, RuntimeError) and "arange()" in str(exc)
    else:
        np.testing.assert_allclose(tg.arange(start, end, step).numpy(), torch.arange(start, end, step).numpy())


# ---------------------------------------------------------------------- layers
# Each argument draws a good value most of the time and, sometimes, a bad one of either class.
def argument(good, bad_ints, extra_bad=not_an_int_scalar):
    return st.one_of(good, good, good, st.tuples(st.just("bad"), st.one_of(extra_bad, bad_ints)))


def unpack(drawn):
    """(value, is_bad, is the badness its type)."""
    if isinstance(drawn, tuple) and len(drawn) == 2 and drawn[0] == "bad":
        value = drawn[1]
        return value, True, not (isinstance(value, int) and not isinstance(value, bool))
    return drawn, False, False


def check_layer(build, run_torch, arguments, names_of_refused_by_torch_too):
    """Ours refuses a configuration iff one of its arguments is bad, with the right type and name;
    torch never accepts (at construction or in forward) what ours refuses, except where noted."""
    values = {k: unpack(v) for k, v in arguments.items()}
    plain = {k: v for k, (v, _, _) in values.items()}
    bad = [k for k, (_, is_bad, _) in values.items() if is_bad]
    exc = raised(lambda: build(**plain))
    if not bad:
        assert exc is None, (plain, exc)
        return plain
    assert exc is not None, f"accepted {plain}"
    named = [k for k in bad if re.search(rf"'{k}(\[\d\])?'", str(exc))]
    assert named, (str(exc), bad)
    if len(bad) == 1:
        is_type = values[bad[0]][2]
        assert isinstance(exc, TypeError if is_type else (RuntimeError, ValueError)), (plain, exc)
        assert names_value(exc, plain[bad[0]]), str(exc)
        if bad[0] in names_of_refused_by_torch_too(plain):
            assert raised(lambda: run_torch(**plain)) is not None, f"torch accepts {plain}"
    return None


def pair_or_int(good, bad_ints):
    return st.one_of(argument(good, bad_ints), st.tuples(good, good))


@given(data=st.data())
def test_conv2d_constructor(data):
    args = {
        "in_channels": data.draw(argument(st.integers(1, 3), st.integers(-3, 0))),
        "out_channels": data.draw(argument(st.integers(1, 3), st.integers(-3, 0))),
        "kernel_size": data.draw(pair_or_int(st.integers(1, 3), st.integers(-3, 0))),
        "stride": data.draw(pair_or_int(st.integers(1, 2), st.integers(-3, 0))),
        "padding": data.draw(pair_or_int(st.integers(0, 1), st.integers(-3, -1))),
        "dilation": data.draw(pair_or_int(st.integers(1, 2), st.integers(-3, 0))),
    }

    def run_torch(**kw):
        conv = torch.nn.Conv2d(**kw)
        return conv(torch.zeros(1, kw["in_channels"], 9, 9))

    def refused_by_torch(kw):
        # torch accepts a bool (True is 1), zero channels and a zero kernel it only finds in forward
        return {k for k, v in kw.items() if not isinstance(v, bool) and not (k.endswith("channels") and v == 0)}

    plain = check_layer(nn.Conv2d, run_torch, args, refused_by_torch)
    if plain is not None:  # a good configuration: the same layer as PyTorch's
        ours, theirs = nn.Conv2d(**plain), torch.nn.Conv2d(**plain)
        assert ours.weight.shape == tuple(theirs.weight.shape)
        assert tuple(ours(tg.zeros(1, plain["in_channels"], 9, 9)).shape) == \
            tuple(theirs(torch.zeros(1, plain["in_channels"], 9, 9)).shape)


@given(data=st.data())
def test_linear_constructor(data):
    args = {"in_features": data.draw(argument(st.integers(1, 5), st.integers(-5, 0))),
            "out_features": data.draw(argument(st.integers(1, 5), st.integers(-5, 0)))}
    refused_by_torch = lambda kw: {k for k, v in kw.items() if not isinstance(v, bool) and v != 0}  # noqa: E731
    plain = check_layer(nn.Linear, lambda **kw: torch.nn.Linear(**kw), args, refused_by_torch)
    if plain is not None:
        assert nn.Linear(**plain).weight.shape == (plain["out_features"], plain["in_features"])


@given(data=st.data(), kind=st.sampled_from(["MaxPool2d", "AvgPool2d"]))
def test_pool_constructors(data, kind):
    kernel = data.draw(pair_or_int(st.integers(1, 4), st.integers(-3, 0)))
    args = {"kernel_size": kernel,
            "stride": data.draw(st.one_of(st.none(), pair_or_int(st.integers(1, 3), st.integers(-3, 0)))),
            "padding": data.draw(st.one_of(argument(st.just(0), st.integers(-3, -1)),
                                           st.tuples(st.just("bad"), st.integers(3, 5))))}  # > kernel / 2
    if kind == "MaxPool2d":
        args["dilation"] = data.draw(pair_or_int(st.integers(1, 2), st.integers(-3, 0)))

    def run_torch(**kw):
        return getattr(torch.nn, kind)(**kw)(torch.zeros(1, 1, 12, 12))

    refused_by_torch = lambda kw: {k for k, v in kw.items() if not isinstance(v, bool)}  # noqa: E731
    plain = check_layer(getattr(nn, kind), run_torch, args, refused_by_torch)
    if plain is not None:
        ours, theirs = getattr(nn, kind)(**plain), getattr(torch.nn, kind)(**plain)
        assert tuple(ours(tg.zeros(1, 1, 12, 12)).shape) == tuple(theirs(torch.zeros(1, 1, 12, 12)).shape)


@given(p=st.one_of(st.floats(-2, 3), st.sampled_from([math.nan, math.inf, -math.inf, 0, 1]), not_an_int))
def test_dropout_probability(p):
    exc = raised(lambda: nn.Dropout(p))
    good = isinstance(p, (int, float)) and not isinstance(p, bool) and 0 <= p <= 1
    assert (exc is None) == good, (p, exc)
    if exc is not None:
        assert isinstance(exc, ValueError if isinstance(p, (float, int)) and not isinstance(p, bool) else TypeError)
        assert names_value(exc, p)
        if not (isinstance(p, float) and math.isnan(p)) and not isinstance(p, bool):  # torch accepts nan, True
            assert raised(lambda: torch.nn.Dropout(p)) is not None


def test_layer_errors_read_well():
    cases = [
        (lambda: nn.Conv2d(1, 8, kernel_size=2.5), TypeError, "Conv2d: argument 'kernel_size' must be an int, got 2.5"),
        (lambda: nn.Conv2d(1, 8, kernel_size=0), RuntimeError, "Conv2d: argument 'kernel_size' must be positive, got 0"),
        (lambda: nn.Conv2d(1, 0, 3), RuntimeError, "argument 'out_channels' must be positive, got 0"),
        (lambda: nn.Conv2d(1, 2, (3, -1)), RuntimeError, "argument 'kernel_size[1]' must be positive, got -1"),
        (lambda: nn.Linear(2.5, 3), TypeError, "Linear: argument 'in_features' must be an int, got 2.5 (float)"),
        (lambda: nn.MaxPool2d(2, padding=2), RuntimeError, "at most half of kernel_size"),
        (lambda: nn.Dropout("0.5"), TypeError, "Dropout: argument 'p' must be a number, got '0.5'"),
        (lambda: nn.Flatten(1.5), TypeError, "Flatten: argument 'start_dim' must be an int"),
        (lambda: tg.zeros(2.5, 3), TypeError, "zeros(): argument 'size' must be a tuple of ints, but found 2.5"),
        (lambda: tg.zeros(-1, 3), RuntimeError, "negative dimension -1"),
    ]
    for fn, error, message in cases:
        with pytest.raises(error, match=re.escape(message)):
            fn()


# ---------------------------------------------------------------------- shape arguments of tensor methods
RESHAPING = {
    "reshape": (lambda t, s: t.reshape(*s), lambda t, s: t.reshape(*s)),
    "view": (lambda t, s: t.view(*s), lambda t, s: t.view(*s)),
    "expand": (lambda t, s: t.expand(*s), lambda t, s: t.expand(*s)),
    "new_zeros": (lambda t, s: t.new_zeros(s), lambda t, s: t.new_zeros(s)),
}


@given(bad=st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.booleans(), st.text(max_size=3),
                     st.just(np.float64(2.0))),
       position=st.integers(0, 1), name=st.sampled_from(sorted(RESHAPING)))
def test_shape_arguments_of_methods_must_be_ints(bad, position, name):
    ours, theirs = RESHAPING[name]
    shape = [1, 1]
    shape[position] = bad
    torch_error = raised(lambda: theirs(torch.ones(1, 1), shape))
    if isinstance(bad, bool):  # torch reads a bool in a size as an int; we refuse it, naming it
        torch_error = TypeError()
    assert torch_error is not None
    exc = raised(lambda: ours(tg.ones(1, 1), shape))
    assert isinstance(exc, TypeError) and names_value(exc, bad) and f"position {position}" in str(exc)


@given(kh=st.integers(0, 3), kw=st.integers(0, 3))
def test_conv2d_refuses_an_empty_kernel(kh, kw):
    weight = np.ones((2, 1, kh, kw))
    x = np.ones((1, 1, 5, 5))
    if kh and kw:
        assert tuple(tg.nn.functional.conv2d(tg.tensor(x), tg.tensor(weight)).shape) == \
            tuple(torch.nn.functional.conv2d(torch.tensor(x), torch.tensor(weight)).shape)
        return
    assert isinstance(raised(lambda: torch.nn.functional.conv2d(torch.tensor(x), torch.tensor(weight))), RuntimeError)
    exc = raised(lambda: tg.nn.functional.conv2d(tg.tensor(x), tg.tensor(weight)))
    assert isinstance(exc, RuntimeError) and "kernel size should be greater than zero" in str(exc)
