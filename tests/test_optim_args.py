"""Optimizer arguments: classes of bad values, each refused with an error that names it.

Where PyTorch refuses a value (a negative lr, a beta of 1) our message is PyTorch's, word for
word. Where PyTorch is silent or lets a NumPy-level error through, ours is still a TypeError or
ValueError naming the argument and the value: a string lr (PyTorch: "'<' not supported ..."),
inf or nan, Adam with one beta ("tuple index out of range") or three (the third ignored), a
string where a flag belongs. The same checks run for a parameter group's own values.
"""
import inspect
import math

import pytest
import torch
from hypothesis import given, strategies as st

import tinygrad_mnist as tg
from tinygrad_mnist import optim

# optimizer -> argument -> (PyTorch's label in "Invalid <label>: <value>", upper bound or None, closed?)
NUMERIC = {
    "SGD": {"lr": ("learning rate",), "momentum": ("momentum value",), "weight_decay": ("weight_decay value",),
            "dampening": ("dampening value", 1.0, True)},
    "Adam": {"lr": ("learning rate",), "eps": ("epsilon value",), "weight_decay": ("weight_decay value",)},
    "AdamW": {"lr": ("learning rate",), "eps": ("epsilon value",), "weight_decay": ("weight_decay value",)},
    "RMSprop": {"lr": ("learning rate",), "eps": ("epsilon value",), "momentum": ("momentum value",),
                "weight_decay": ("weight_decay value",), "alpha": ("alpha value", 1.0, True)},
    "Adagrad": {"lr": ("learning rate",), "lr_decay": ("lr_decay value",), "weight_decay": ("weight_decay value",),
                "initial_accumulator_value": ("initial_accumulator_value value",), "eps": ("epsilon value",)},
    "Adadelta": {"lr": ("learning rate",), "rho": ("rho value", 1.0, True), "eps": ("epsilon value",),
                 "weight_decay": ("weight_decay value",)},
    "Adamax": {"lr": ("learning rate",), "eps": ("epsilon value",), "weight_decay": ("weight_decay value",)},
    "NAdam": {"lr": ("learning rate",), "eps": ("epsilon value",), "weight_decay": ("weight_decay value",),
              "momentum_decay": ("momentum_decay value",)},
    "RAdam": {"lr": ("learning rate",), "eps": ("epsilon value",), "weight_decay": ("weight_decay value",)},
}
NUMERIC_CASES = [(opt, arg) for opt, args in NUMERIC.items() for arg in args]
BETA_OPTIMIZERS = ["Adam", "AdamW", "Adamax", "NAdam", "RAdam"]


def _param():
    return [tg.zeros(2, requires_grad=True)]


def test_every_checked_argument_is_listed():
    for name, cls in optim.OPTIMIZERS.items():
        defaults = cls(_param()).defaults
        numbers_ = {k for k, v in defaults.items() if isinstance(v, (int, float)) and not isinstance(v, bool)}
        assert numbers_ == set(NUMERIC[name]), name


def _negative():
    return st.floats(max_value=0.0, exclude_max=True, allow_nan=False, allow_infinity=False) | st.integers(-10, -1)


def _not_a_number():
    return st.sampled_from(["0.1", "1e-3", None, [0.1], (0.1,), True, False]) | st.builds(lambda: tg.tensor(0.1))


@pytest.mark.parametrize("name,arg", NUMERIC_CASES, ids=[f"{n}.{a}" for n, a in NUMERIC_CASES])
@given(data=st.data())
def test_bad_numbers_are_refused(name, arg, data):
    label, *upper = NUMERIC[name][arg]
    cls, torch_cls = optim.OPTIMIZERS[name], getattr(torch.optim, name)
    kind = data.draw(st.sampled_from(["negative", "non-finite", "not a number"] + (["too big"] if upper else [])))
    if kind == "negative":
        value = data.draw(_negative(), label=arg)
    elif kind == "non-finite":
        value = data.draw(st.sampled_from([math.inf, -math.inf, math.nan]), label=arg)
    elif kind == "too big":
        value = data.draw(st.floats(min_value=upper[0], exclude_min=True, allow_nan=False), label=arg)
    else:
        value = data.draw(_not_a_number(), label=arg)

    expected = TypeError if kind == "not a number" else ValueError
    for make in (lambda: cls(_param(), **{arg: value}),                          # the constructor's defaults
                 lambda: cls([{"params": _param(), arg: value}], lr=0.1),          # a group's own value
                 lambda: cls(_param(), lr=0.1).add_param_group({"params": _param(), arg: value})):
        with pytest.raises(expected) as ours:
            make()
        message = str(ours.value)
        assert message.startswith(f"Invalid {label}: "), message
        if expected is TypeError:
            assert f"{arg} must be a real number" in message and repr(value) in message
        else:
            assert message == f"Invalid {label}: {value}"
    if expected is ValueError and kind == "negative" and not (name == "SGD" and arg == "dampening"):
        with pytest.raises(ValueError) as theirs:  # PyTorch refuses these too, in the same words
            torch_cls([torch.zeros(2, requires_grad=True)], **{arg: value})
        assert str(theirs.value) == message


@pytest.mark.parametrize("name", BETA_OPTIMIZERS)
@given(betas=st.lists(st.floats(0.0, 0.99), max_size=4).filter(lambda b: len(b) != 2).map(tuple)
       | st.sampled_from([0.9, "ab", None, {0.9: 1, 0.99: 2}]))
def test_betas_must_be_a_pair(name, betas):
    with pytest.raises(ValueError, match=r"^Invalid betas: .*betas must be a pair \(beta1, beta2\)") as info:
        optim.OPTIMIZERS[name](_param(), betas=betas)
    assert repr(betas) in str(info.value)


@pytest.mark.parametrize("name", BETA_OPTIMIZERS)
@given(index=st.integers(0, 1), beta=st.floats(max_value=0.0, exclude_max=True, allow_infinity=False)
       | st.floats(min_value=1.0, allow_infinity=False) | st.sampled_from([math.nan, math.inf]))
def test_each_beta_in_zero_one(name, index, beta):
    betas = [0.9, 0.999]
    betas[index] = beta
    with pytest.raises(ValueError) as ours:
        optim.OPTIMIZERS[name](_param(), betas=tuple(betas))
    assert str(ours.value) == f"Invalid beta parameter at index {index}: {beta}"
    if not math.isnan(beta) and name != "AdamW":
        with pytest.raises(ValueError) as theirs:
            getattr(torch.optim, name)([torch.zeros(2, requires_grad=True)], betas=tuple(betas))
        assert str(theirs.value) == str(ours.value)


@pytest.mark.parametrize("name", list(optim.OPTIMIZERS))
@given(value=st.sampled_from(["False", "yes", 0, 1, None, 0.0, [True]]))
def test_flags_must_be_booleans(name, value):
    cls = optim.OPTIMIZERS[name]
    arguments = inspect.signature(cls).parameters
    flags = [k for k, v in cls(_param()).defaults.items() if isinstance(v, bool) and k in arguments]
    for flag in flags:
        with pytest.raises(TypeError, match=f"Invalid {flag}: .*{flag} must be True or False"):
            cls(_param(), **{flag: value})


def test_the_examples_of_the_issue():
    """Adam with one beta or three, SGD with a string lr: errors that name the argument."""
    with pytest.raises(ValueError, match=r"Invalid betas: \(0\.9,\)"):
        optim.Adam(_param(), betas=(0.9,))
    with pytest.raises(ValueError, match=r"Invalid betas: \(0\.9, 0\.99, 0\.999\)"):
        optim.Adam(_param(), betas=(0.9, 0.99, 0.999))
    torch.optim.Adam([torch.zeros(1, requires_grad=True)], betas=(0.9, 0.99, 0.999))  # PyTorch: silently accepted
    with pytest.raises(TypeError, match=r"^Invalid learning rate: '0\.1' \(lr must be a real number, not str\)$"):
        optim.SGD(_param(), lr="0.1")
    with pytest.raises(ValueError, match="^Invalid learning rate: inf$"):
        optim.SGD(_param(), lr=math.inf)
    with pytest.raises(ValueError, match="^Invalid momentum value: nan$"):
        optim.SGD(_param(), lr=0.1, momentum=math.nan)


def test_valid_edge_values_are_accepted():
    for name, args in NUMERIC.items():
        for arg, (_, *upper) in args.items():
            for value in (0, 0.0, *(upper[:1])):
                optim.OPTIMIZERS[name](_param(), **{arg: value})
    optim.Adam(_param(), betas=[0.0, 0.0])
    assert optim.Adam(_param(), betas=[0.5, 0.6]).param_groups[0]["betas"] == (0.5, 0.6)
