"""nn.init: PyTorch's formulas (gains, fans, bounds, variances) and the layers' default init.

Statistical checks on large tensors (500 x 800 = 400k samples): the bound of a uniform init is
checked exactly (every sample inside, the extremes close to it); the variance within 2 %,
several times the sampling error (about 0.35 % for a uniform, 0.3 % for a normal here).
"""
import math

import numpy as np
import pytest
import torch

import tinygrad_mnist as tg
from tinygrad_mnist import nn
from tinygrad_mnist.backend import to_numpy
from tinygrad_mnist.nn import init

SHAPE = (500, 800)  # fan_in 800, fan_out 500


def _values(t):
    return to_numpy(t.array).astype(np.float64)


def _check_uniform(t, low, high):
    v = _values(t)
    assert v.min() >= low and v.max() <= high, (v.min(), v.max(), low, high)
    span = high - low
    assert v.min() < low + 0.001 * span and v.max() > high - 0.001 * span  # the bound is reached
    assert v.mean() == pytest.approx((low + high) / 2, abs=0.01 * span)
    assert v.var() == pytest.approx(span ** 2 / 12, rel=0.02)


def _check_normal(t, mean, std):
    v = _values(t)
    assert v.mean() == pytest.approx(mean, abs=0.01 * std)
    assert v.std() == pytest.approx(std, rel=0.02)
    assert abs(v - mean).max() > 3.5 * std  # tails: not a truncated or uniform draw


@pytest.fixture(params=[np.float32, np.float64])
def big(request, device):
    tg.manual_seed(1234)
    return tg.zeros(*SHAPE, dtype=request.param, device=device)


@pytest.mark.parametrize("nonlinearity,param", [("linear", None), ("conv2d", None), ("sigmoid", None),
                                                ("tanh", None), ("relu", None), ("leaky_relu", None),
                                                ("leaky_relu", 0.2), ("leaky_relu", math.sqrt(5)),
                                                ("selu", None)])
def test_calculate_gain_matches_torch(nonlinearity, param):
    assert init.calculate_gain(nonlinearity, param) == pytest.approx(
        torch.nn.init.calculate_gain(nonlinearity, param), rel=1e-15)


def test_calculate_gain_rejects_unknown():
    with pytest.raises(ValueError, match="Unsupported nonlinearity"):
        init.calculate_gain("swish")
    with pytest.raises(ValueError, match="not a valid number"):
        init.calculate_gain("leaky_relu", "a")


@pytest.mark.parametrize("shape", [(3, 4), (6, 1, 5, 5), (16, 6, 3, 2), (2, 3, 4)])
def test_fans_match_torch(shape):
    assert init._calculate_fan_in_and_fan_out(tg.zeros(*shape)) == \
        torch.nn.init._calculate_fan_in_and_fan_out(torch.zeros(*shape))


def test_fans_need_two_dims():
    with pytest.raises(ValueError, match="fewer than 2 dimensions"):
        init._calculate_fan_in_and_fan_out(tg.zeros(5))


def test_kaiming_uniform_default(big):
    init.kaiming_uniform_(big)  # a=0, leaky_relu: gain sqrt(2), bound sqrt(6 / fan_in)
    b = math.sqrt(6 / 800)
    _check_uniform(big, -b, b)


def test_kaiming_uniform_sqrt5_is_one_over_sqrt_fan_in(big):
    init.kaiming_uniform_(big, a=math.sqrt(5))
    b = 1 / math.sqrt(800)
    _check_uniform(big, -b, b)


def test_kaiming_uniform_fan_out_relu(big):
    init.kaiming_uniform_(big, mode="fan_out", nonlinearity="relu")
    b = math.sqrt(2) * math.sqrt(3 / 500)
    _check_uniform(big, -b, b)


def test_kaiming_normal(big):
    init.kaiming_normal_(big)
    _check_normal(big, 0.0, math.sqrt(2 / 800))
    init.kaiming_normal_(big, a=0.1, mode="fan_out", nonlinearity="leaky_relu")
    _check_normal(big, 0.0, math.sqrt(2 / (1 + 0.01)) / math.sqrt(500))


def test_xavier(big):
    init.xavier_uniform_(big)
    a = math.sqrt(6 / (800 + 500))
    _check_uniform(big, -a, a)
    init.xavier_uniform_(big, gain=init.calculate_gain("tanh"))
    _check_uniform(big, -5 / 3 * a, 5 / 3 * a)
    init.xavier_normal_(big, gain=2.0)
    _check_normal(big, 0.0, 2.0 * math.sqrt(2 / 1300))


def test_uniform_normal_constant(big):
    init.uniform_(big, -3.0, 0.5)
    _check_uniform(big, -3.0, 0.5)
    init.uniform_(big)
    _check_uniform(big, 0.0, 1.0)
    init.normal_(big, mean=2.0, std=0.5)
    _check_normal(big, 2.0, 0.5)
    assert (_values(init.zeros_(big)) == 0).all()
    assert (_values(init.ones_(big)) == 1).all()
    assert (_values(init.constant_(big, 0.25)) == 0.25).all()


def test_init_keeps_dtype_device_and_leaf_status(device):
    for dtype in (tg.float32, tg.float64):
        p = nn.Parameter(tg.zeros(4, 6, dtype=dtype, device=device))
        out = init.kaiming_uniform_(p, a=math.sqrt(5))
        assert out is p and p.dtype == dtype and p.device == tg.device(device)
        assert p.is_leaf and p.requires_grad and p.grad_fn is None  # filled outside the graph
        assert np.abs(_values(p)).max() > 0


def test_zero_element_tensor_warns():
    with pytest.warns(UserWarning, match="zero-element"):
        init.kaiming_uniform_(tg.zeros(0, 3))


def test_init_is_seeded():
    tg.manual_seed(7)
    a = _values(nn.Linear(5, 3).weight)
    tg.manual_seed(7)
    b = _values(nn.Linear(5, 3).weight)
    c = _values(nn.Linear(5, 3).weight)
    assert (a == b).all() and not (a == c).all()
    g = tg.Generator(3)
    x = _values(init.normal_(tg.zeros(10), generator=g))
    y = _values(init.normal_(tg.zeros(10), generator=tg.Generator(3)))
    assert (x == y).all()


def test_same_seed_same_weights_on_every_device(device):
    tg.manual_seed(11)
    cpu = _values(nn.Conv2d(2, 3, 3).weight)
    tg.manual_seed(11)
    there = _values(nn.Conv2d(2, 3, 3, device=device).weight)
    np.testing.assert_array_equal(cpu, there)


# ---------------------------------------------------------------------- layer defaults, as PyTorch's
def test_linear_default_init_matches_torch_distribution(device):
    tg.manual_seed(0)
    layer = nn.Linear(800, 500, device=device)
    bound = 1 / math.sqrt(800)
    _check_uniform(layer.weight, -bound, bound)
    b = _values(layer.bias)
    assert np.abs(b).max() <= bound and b.shape == (500,)
    ref = torch.nn.Linear(800, 500).weight.detach().double().numpy()
    assert np.abs(ref).max() <= bound
    assert _values(layer.weight).var() == pytest.approx(ref.var(), rel=0.03)


def test_conv2d_default_init_matches_torch_distribution(device):
    tg.manual_seed(0)
    layer = nn.Conv2d(16, 500, kernel_size=(5, 10), device=device)  # fan_in = 16 * 50 = 800
    bound = 1 / math.sqrt(800)
    _check_uniform(layer.weight, -bound, bound)
    assert np.abs(_values(layer.bias)).max() <= bound
    ref = torch.nn.Conv2d(16, 500, kernel_size=(5, 10)).weight.detach().double().numpy()
    assert _values(layer.weight).var() == pytest.approx(ref.var(), rel=0.03)
    grouped = nn.Conv2d(4, 6, 3, groups=2)  # fan_in = (4 / 2) * 9 = 18
    assert np.abs(_values(grouped.bias)).max() <= 1 / math.sqrt(18)
    assert grouped.weight.shape == tuple(torch.nn.Conv2d(4, 6, 3, groups=2).weight.shape)


def test_reset_parameters_redraws():
    tg.manual_seed(0)
    layer = nn.Linear(10, 4)
    before = _values(layer.weight).copy()
    weight = layer.weight
    layer.reset_parameters()
    assert layer.weight is weight and not (_values(weight) == before).all()
