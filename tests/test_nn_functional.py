"""nn.functional beyond the tutorials' subset, against torch: values, gradients and second
derivatives (``assert_matches_torch``) in float64 and float32, over hypothesis-drawn shapes and
arguments, kinks included; and the exception types of bad arguments."""
import warnings

import numpy as np
import pytest
import torch
import torch.nn.functional as TF
from hypothesis import given, strategies as st

import tinygrad_mnist as tg
import tinygrad_mnist.nn.functional as F
from tinygrad_mnist.backend import to_numpy
from tinygrad_mnist.testing import assert_matches_torch

DTYPES = [np.float64, np.float32]
REDUCTIONS = ["mean", "sum", "none"]


def _values(seed, shape, scale=3.0, kinks=()):
    """Normal values; a few elements set exactly to each kink point."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape) * scale
    flat = x.reshape(-1)
    for k in kinks:
        flat[rng.integers(0, flat.size, size=max(1, flat.size // 8))] = k
    return x


shapes = st.lists(st.integers(1, 4), min_size=1, max_size=3).map(tuple)
seeds = st.integers(0, 2**16)


def _both(name, kwargs):
    return (lambda t: getattr(F, name)(t, **kwargs)), (lambda t: getattr(TF, name)(t, **kwargs))


# ---------------------------------------------------------------------- activations
ACTIVATIONS = [
    ("leaky_relu", {}, (0.0,)), ("leaky_relu", {"negative_slope": 0.2}, (0.0,)),
    ("elu", {}, (0.0,)), ("elu", {"alpha": 0.5}, (0.0,)), ("selu", {}, (0.0,)), ("celu", {"alpha": 2.0}, (0.0,)),
    ("gelu", {}, ()), ("gelu", {"approximate": "tanh"}, ()), ("silu", {}, ()), ("mish", {}, ()),
    ("softplus", {}, ()), ("softplus", {"beta": 2.0, "threshold": 5.0}, ()), ("logsigmoid", {}, (0.0,)),
    ("hardtanh", {}, (-1.0, 1.0)), ("hardtanh", {"min_val": -2.0, "max_val": 0.5}, (-2.0, 0.5)),
    ("relu6", {}, (0.0, 6.0)), ("hardsigmoid", {}, (-3.0, 3.0)), ("hardswish", {}, (-3.0, 3.0)),
    ("softsign", {}, (0.0,)), ("tanhshrink", {}, ()),
]


# PyTorch's hardsigmoid gradient multiplies by 1/6 rounded to float32 even in float64, and has no
# second derivative: ours is exact, so compare it at float32 precision and to first order.
_LOOSE = {"hardsigmoid": dict(rtol=1e-7, atol=1e-7, second_order=False)}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name,kwargs,kinks", ACTIVATIONS,
                         ids=[f"{n}-{'-'.join(map(str, k.values()))}" for n, k, _ in ACTIVATIONS])
@given(shape=shapes, seed=seeds)
def test_activations_match_torch(name, kwargs, kinks, shape, seed, dtype, device):
    x = _values(seed, shape, scale=4.0, kinks=kinks)
    ours, ref = _both(name, kwargs)
    loose = dict(_LOOSE.get(name, {}))
    if dtype == np.float32:
        loose.pop("rtol", None), loose.pop("atol", None)
    assert_matches_torch(ours, ref, x, dtype=dtype, device=device, **loose)


@pytest.mark.parametrize("name", ["elu", "softplus", "logsigmoid", "silu", "gelu"])
def test_activations_extreme_inputs(name, device):
    """No overflow in an unused branch: finite values and gradients out to ±700 (float64), ±80 (float32)."""
    for dtype, big in ((np.float64, 700.0), (np.float32, 80.0)):
        x = np.array([-big, -50.0, -1e-8, 0.0, 1e-8, 50.0, big])
        assert_matches_torch(*_both(name, {}), x, dtype=dtype, device=device)


@pytest.mark.parametrize("dtype", DTYPES)
@given(n=st.integers(1, 3), c=st.integers(1, 4), per_channel=st.booleans(), seed=seeds)
def test_prelu_matches_torch(n, c, per_channel, seed, dtype, device):
    x = _values(seed, (n, c, 3))
    w = np.random.default_rng(seed).uniform(-1, 1, size=c if per_channel else 1)
    assert_matches_torch(F.prelu, TF.prelu, x, w, dtype=dtype, device=device)
    # at the kink x = 0 (slope a, as PyTorch) to first order: PyTorch's mixed second derivative
    # there is 0 where the product rule gives the upstream gradient
    assert_matches_torch(F.prelu, TF.prelu, _values(seed, (n, c, 3), kinks=(0.0,)), w, dtype=dtype,
                         device=device, second_order=False)


def test_softmin_matches_torch(device):
    assert_matches_torch(lambda t: F.softmin(t, 1), lambda t: TF.softmin(t, 1), _values(0, (3, 4)), device=device)


# ---------------------------------------------------------------------- losses
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@given(shape=shapes, weighted=st.booleans(), seed=seeds)
def test_binary_cross_entropy_matches_torch(shape, weighted, reduction, seed, dtype, device):
    rng = np.random.default_rng(seed)
    p = 1 / (1 + np.exp(-rng.uniform(-3, 3, shape)))
    t = rng.uniform(0, 1, shape)
    w = rng.uniform(0.5, 2, shape[-1:]).astype(dtype) if weighted else None

    def ours(a, b):
        return F.binary_cross_entropy(a, b, None if w is None else tg.tensor(w, device=device), reduction=reduction)

    def ref(a, b):
        return TF.binary_cross_entropy(a, b, None if w is None else torch.tensor(w, device=a.device),
                                       reduction=reduction)
    assert_matches_torch(ours, ref, p, t, dtype=dtype, device=device)


def test_binary_cross_entropy_saturated_probabilities(device):
    """x = 0 or 1 exactly: the log floor of -100 and the 1e-12 guard give finite loss and gradient."""
    p = np.array([0.0, 1.0, 0.0, 1.0, 0.5])
    t = np.array([0.0, 1.0, 1.0, 0.0, 1.0])
    assert_matches_torch(lambda a: F.binary_cross_entropy(a, tg.tensor(t, device=device), reduction="none"),
                         lambda a: TF.binary_cross_entropy(a, torch.tensor(t, device=a.device), reduction="none"), p,
                         device=device, second_order=False)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@given(shape=shapes, weighted=st.booleans(), positive=st.booleans(), seed=seeds)
def test_bce_with_logits_matches_torch(shape, weighted, positive, reduction, seed, dtype, device):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape) * 5
    t = rng.uniform(0, 1, shape)
    w = rng.uniform(0.5, 2, shape).astype(dtype) if weighted else None
    pw = rng.uniform(0.5, 3, shape[-1:]).astype(dtype) if positive else None

    def ours(a, b):
        return F.binary_cross_entropy_with_logits(
            a, b, weight=None if w is None else tg.tensor(w, device=device),
            pos_weight=None if pw is None else tg.tensor(pw, device=device), reduction=reduction)

    def ref(a, b):
        return TF.binary_cross_entropy_with_logits(
            a, b, weight=None if w is None else torch.tensor(w, device=a.device),
            pos_weight=None if pw is None else torch.tensor(pw, device=a.device),
            reduction=reduction)
    assert_matches_torch(ours, ref, x, t, dtype=dtype, device=device)


def test_bce_with_logits_extreme_logits(device):
    x = np.array([-800.0, -40.0, 0.0, 40.0, 800.0])
    t = np.array([1.0, 0.0, 0.5, 1.0, 0.0])
    assert_matches_torch(lambda a, b: F.binary_cross_entropy_with_logits(a, b, reduction="none"),
                         lambda a, b: TF.binary_cross_entropy_with_logits(a, b, reduction="none"), x, t,
                         device=device)


POINTWISE = [("l1_loss", {}), ("smooth_l1_loss", {}), ("smooth_l1_loss", {"beta": 0.5}),
             ("smooth_l1_loss", {"beta": 0.0}), ("huber_loss", {}), ("huber_loss", {"delta": 2.0})]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("name,kwargs", POINTWISE, ids=[f"{n}-{list(k.values())}" for n, k in POINTWISE])
@given(shape=shapes, seed=seeds)
def test_pointwise_losses_match_torch(name, kwargs, reduction, shape, seed, dtype, device):
    rng = np.random.default_rng(seed)
    a = rng.standard_normal(shape) * 2
    b = a.copy()
    step = kwargs.get("beta", kwargs.get("delta", 1.0))
    b.reshape(-1)[::2] = rng.standard_normal(b.size)[::2] * 2         # others: d = 0 exactly
    b.reshape(-1)[1::4] = a.reshape(-1)[1::4] - step                   # |d| at the kink
    assert_matches_torch(lambda x, y: getattr(F, name)(x, y, reduction=reduction, **kwargs),
                         lambda x, y: getattr(TF, name)(x, y, reduction=reduction, **kwargs),
                         a, b, dtype=dtype, device=device)


def test_pointwise_losses_weight_broadcast_and_legacy(device):
    rng = np.random.default_rng(1)
    a, b, w = rng.standard_normal((3, 4)), rng.standard_normal((3, 4)), rng.uniform(0, 1, (3, 4))
    for name in ("l1_loss", "huber_loss"):
        assert_matches_torch(lambda x, y: getattr(F, name)(x, y, weight=tg.tensor(w, device=device)),
                             lambda x, y: getattr(TF, name)(x, y, weight=torch.tensor(w, device=x.device)), a, b, device=device)
    with pytest.warns(UserWarning, match="different to the input size"):
        out = F.l1_loss(tg.tensor(a, device=device), tg.tensor(b[:1], device=device))
    with pytest.warns(UserWarning, match="different to the input size"):
        ref = TF.l1_loss(torch.tensor(a), torch.tensor(b[:1]))
    assert float(out) == pytest.approx(float(ref), rel=1e-12)
    with pytest.warns(UserWarning, match="size_average and reduce"):
        assert F.smooth_l1_loss(tg.tensor(a), tg.tensor(b), size_average=False).shape == ()
    with pytest.raises(RuntimeError, match="negative values for beta"):
        F.smooth_l1_loss(tg.tensor(a), tg.tensor(b), beta=-1)
    with pytest.raises(RuntimeError, match="non-positive values for delta"):
        F.huber_loss(tg.tensor(a), tg.tensor(b), delta=0)
    with pytest.raises(ValueError, match="not a valid value for reduction"):
        F.l1_loss(tg.tensor(a), tg.tensor(b), reduction="avg")


@pytest.mark.filterwarnings("ignore:reduction. 'mean' divides")
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS + ["batchmean"])
@given(n=st.integers(1, 4), c=st.integers(1, 5), log_target=st.booleans(), zeros=st.booleans(), seed=seeds)
def test_kl_div_matches_torch(n, c, log_target, zeros, reduction, seed, dtype, device):
    rng = np.random.default_rng(seed)
    logits, target_logits = rng.standard_normal((n, c)), rng.standard_normal((n, c)) * 2
    log_q = target_logits - np.log(np.exp(target_logits).sum(1, keepdims=True))
    target = log_q if log_target else np.exp(log_q)
    if zeros and not log_target:
        target[:, 0] = 0.0                                            # xlogy: 0 log 0 = 0
    tgt = target.astype(dtype)
    assert_matches_torch(
        lambda x: F.kl_div(x.log_softmax(1), tg.tensor(tgt, device=device), reduction=reduction, log_target=log_target),
        lambda x: TF.kl_div(x.log_softmax(1), torch.tensor(tgt, device=x.device), reduction=reduction, log_target=log_target),
        logits, dtype=dtype, device=device)
    if not zeros:  # the target's gradient too
        assert_matches_torch(lambda x, t: F.kl_div(x, t, reduction=reduction, log_target=log_target),
                             lambda x, t: TF.kl_div(x, t, reduction=reduction, log_target=log_target),
                             logits, target, dtype=dtype, device=device)


def test_kl_div_mean_warns_like_torch():
    x = tg.zeros(2, 3)
    with pytest.warns(UserWarning, match="'batchmean' divides only by the batch size"):
        F.kl_div(x, x.exp())
    with pytest.raises(ValueError, match="not a valid value for reduction"):
        F.kl_div(x, x, reduction="avg")


@st.composite
def ce_problems(draw):
    seed = draw(seeds)
    rng = np.random.default_rng(seed)
    n, c = draw(st.integers(1, 5)), draw(st.integers(1, 5))
    extra = (draw(st.integers(1, 3)),) if draw(st.booleans()) else ()
    logits = rng.standard_normal((n, c) + extra) * draw(st.sampled_from([0.5, 5.0]))
    weight = rng.uniform(0.2, 2.0, c) if draw(st.booleans()) else None
    return rng, logits, weight, draw(st.sampled_from([0.0, 0.1, 0.5, 1.0]))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@given(problem=ce_problems(), ignore=st.booleans())
def test_cross_entropy_label_smoothing_matches_torch(problem, ignore, reduction, dtype, device):
    rng, logits, weight, eps = problem
    c = logits.shape[1]
    target = rng.integers(0, c, size=(logits.shape[0],) + logits.shape[2:])
    ignore_index = -100
    if ignore and target.size > 1:
        ignore_index = int(target.reshape(-1)[0])
        target.reshape(-1)[1:][rng.random(target.size - 1) < 0.3] = ignore_index
        if reduction == "mean" and (target == ignore_index).all():
            return
    w = None if weight is None else weight.astype(dtype)

    def ours(x, t):
        return F.cross_entropy(x, t, weight=None if w is None else tg.tensor(w, device=device),
                               ignore_index=ignore_index, reduction=reduction, label_smoothing=eps)

    def ref(x, t):
        return TF.cross_entropy(x, t, weight=None if w is None else torch.tensor(w, device=x.device), ignore_index=ignore_index,
                                reduction=reduction, label_smoothing=eps)
    assert_matches_torch(ours, ref, logits, target, dtype=dtype, device=device)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@given(problem=ce_problems())
def test_cross_entropy_probability_targets_match_torch(problem, reduction, dtype, device):
    rng, logits, weight, eps = problem
    raw = rng.uniform(0, 1, logits.shape)
    probs = raw / raw.sum(1, keepdims=True)
    w = None if weight is None else weight.astype(dtype)

    def ours(x, t):
        return F.cross_entropy(x, t, weight=None if w is None else tg.tensor(w, device=device),
                               reduction=reduction, label_smoothing=eps)

    def ref(x, t):
        return TF.cross_entropy(x, t, weight=None if w is None else torch.tensor(w, device=x.device), reduction=reduction,
                                label_smoothing=eps)
    assert_matches_torch(ours, ref, logits, probs, dtype=dtype, device=device)


def test_cross_entropy_unbatched_and_errors(device):
    x = np.random.default_rng(0).standard_normal(5)
    for eps in (0.0, 0.2):
        assert_matches_torch(lambda a: F.cross_entropy(a, tg.tensor(3, device=device), label_smoothing=eps),
                             lambda a: TF.cross_entropy(a, torch.tensor(3), label_smoothing=eps), x, device=device)
        p = np.full(5, 0.2)
        assert_matches_torch(lambda a, t: F.cross_entropy(a, t, label_smoothing=eps),
                             lambda a, t: TF.cross_entropy(a, t, label_smoothing=eps), x, p, device=device)
    logits = tg.zeros(2, 3)
    with pytest.raises(RuntimeError, match="label_smoothing must be between 0.0 and 1.0"):
        F.cross_entropy(logits, tg.tensor([0, 1]), label_smoothing=1.5)
    with pytest.raises(RuntimeError, match="ignore_index is not supported for floating point target"):
        F.cross_entropy(logits, tg.zeros(2, 3), ignore_index=1)
    with pytest.raises(TypeError, match="integer class indices"):   # not the input's shape: not probabilities
        F.cross_entropy(logits, tg.zeros(2, 4))


# ---------------------------------------------------------------------- similarity and norms
@pytest.mark.parametrize("dtype", DTYPES)
@given(shape=st.lists(st.integers(1, 4), min_size=1, max_size=3).map(tuple), data=st.data(), seed=seeds)
def test_cosine_similarity_matches_torch(shape, data, seed, dtype, device):
    rng = np.random.default_rng(seed)
    dim = data.draw(st.integers(-len(shape), len(shape) - 1))
    other = tuple(1 if data.draw(st.booleans()) else n for n in shape)   # broadcasts
    a, b = rng.standard_normal(shape), rng.standard_normal(other)
    assert_matches_torch(lambda x, y: F.cosine_similarity(x, y, dim=dim),
                         lambda x, y: TF.cosine_similarity(x, y, dim=dim), a, b, dtype=dtype, device=device)


def test_cosine_similarity_zero_vectors(device):
    a = np.array([[0.0, 0.0, 0.0], [1.0, 2.0, 3.0], [1e-9, 0.0, 0.0]])
    b = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 0.0], [2.0, 1.0, 0.0]])
    assert_matches_torch(F.cosine_similarity, TF.cosine_similarity, a, b, device=device, second_order=False)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("p", [1.0, 2.0, 3.0, float("inf")])
@given(shape=st.lists(st.integers(1, 4), min_size=1, max_size=3).map(tuple), data=st.data(), seed=seeds)
def test_normalize_matches_torch(shape, p, data, seed, dtype, device):
    dim = data.draw(st.integers(-len(shape), len(shape) - 1))
    x = np.random.default_rng(seed).permutation(int(np.prod(shape))).reshape(shape) - 1.5   # no ties, no zeros
    assert_matches_torch(lambda t: F.normalize(t, p=p, dim=dim), lambda t: TF.normalize(t, p=p, dim=dim), x,
                         dtype=dtype, device=device)


# ---------------------------------------------------------------------- normalization
@pytest.mark.parametrize("dtype", DTYPES)
@given(n=st.integers(2, 4), c=st.integers(1, 3), spatial=st.lists(st.integers(1, 3), max_size=2),
       affine=st.booleans(), seed=seeds)
def test_functional_batch_norm_training_matches_torch(n, c, spatial, affine, seed, dtype, device):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, c, *spatial)) * 2 + 1
    args = [x] + ([rng.uniform(0.5, 2, c), rng.standard_normal(c)] if affine else [])
    rm, rv = rng.standard_normal(c), rng.uniform(0.5, 2, c)
    state = {}

    def ours(t, *wb):
        state["ours"] = (tg.tensor(rm.astype(dtype), device=device), tg.tensor(rv.astype(dtype), device=device))
        return F.batch_norm(t, *state["ours"], *wb, training=True, momentum=0.3, eps=1e-3)

    def ref(t, *wb):
        state["torch"] = (torch.tensor(rm.astype(dtype), device=t.device), torch.tensor(rv.astype(dtype), device=t.device))
        return TF.batch_norm(t, *state["torch"], *wb, training=True, momentum=0.3, eps=1e-3)
    assert_matches_torch(ours, ref, *args, dtype=dtype, device=device)
    for o, t in zip(state["ours"], state["torch"]):
        np.testing.assert_allclose(to_numpy(o.array), t.cpu().numpy(), rtol=1e-10 if dtype == np.float64 else 1e-5)


@pytest.mark.parametrize("dtype", DTYPES)
@given(n=st.integers(1, 3), c=st.integers(1, 3), affine=st.booleans(), seed=seeds)
def test_functional_batch_norm_eval_matches_torch(n, c, affine, seed, dtype, device):
    rng = np.random.default_rng(seed)
    rm, rv = rng.standard_normal(c).astype(dtype), rng.uniform(0.5, 2, c).astype(dtype)
    args = [rng.standard_normal((n, c, 2))] + ([rng.uniform(0.5, 2, c), rng.standard_normal(c)] if affine else [])
    assert_matches_torch(lambda t, *wb: F.batch_norm(t, tg.tensor(rm, device=device), tg.tensor(rv, device=device), *wb),
                         lambda t, *wb: TF.batch_norm(t, torch.tensor(rm, device=t.device), torch.tensor(rv, device=t.device), *wb),
                         *args, dtype=dtype, device=device)


@pytest.mark.parametrize("dtype", DTYPES)
@given(lead=st.lists(st.integers(1, 3), min_size=1, max_size=2), norm=st.lists(st.integers(1, 4), min_size=1, max_size=2),
       affine=st.booleans(), seed=seeds)
def test_layer_norm_matches_torch(lead, norm, affine, seed, dtype, device):
    rng = np.random.default_rng(seed)
    args = [rng.standard_normal((*lead, *norm)) * 3] + \
        ([rng.uniform(0.5, 2, norm), rng.standard_normal(norm)] if affine else [])
    # float32: the second derivative of a normalisation over two close values loses ~1e-5 in
    # both engines (each against the float64 value), so allow it 1e-4 there
    tol = dict(rtol=1e-4, atol=1e-4) if dtype == np.float32 else {}
    assert_matches_torch(lambda x, *wb: F.layer_norm(x, norm, *wb, eps=1e-4),
                         lambda x, *wb: TF.layer_norm(x, norm, *wb, eps=1e-4), *args, dtype=dtype, device=device,
                         **tol)


@pytest.mark.parametrize("dtype", DTYPES)
@given(n=st.integers(1, 3), groups=st.integers(1, 3), per_group=st.integers(1, 2),
       spatial=st.lists(st.integers(1, 3), max_size=2), affine=st.booleans(), seed=seeds)
def test_group_norm_matches_torch(n, groups, per_group, spatial, affine, seed, dtype, device):
    c = groups * per_group
    if per_group * int(np.prod(spatial)) == 1:
        return  # one value per group: PyTorch refuses it (tested below)
    rng = np.random.default_rng(seed)
    args = [rng.standard_normal((n, c, *spatial)) * 2] + \
        ([rng.uniform(0.5, 2, c), rng.standard_normal(c)] if affine else [])
    assert_matches_torch(lambda x, *wb: F.group_norm(x, groups, *wb), lambda x, *wb: TF.group_norm(x, groups, *wb),
                         *args, dtype=dtype, device=device)


@pytest.mark.parametrize("dtype", DTYPES)
@given(n=st.integers(1, 3), c=st.integers(1, 3), spatial=st.lists(st.integers(2, 3), min_size=1, max_size=2),
       affine=st.booleans(), seed=seeds)
def test_instance_norm_matches_torch(n, c, spatial, affine, seed, dtype, device):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, c, *spatial)) * 2
    if affine:
        w, b = rng.uniform(0.5, 2, c), rng.standard_normal(c)
        assert_matches_torch(lambda t, u, v: F.instance_norm(t, weight=u, bias=v),
                             lambda t, u, v: TF.instance_norm(t, weight=u, bias=v), x, w, b, dtype=dtype, device=device)
    else:
        assert_matches_torch(F.instance_norm, TF.instance_norm, x, dtype=dtype, device=device)


def test_normalization_errors_like_torch():
    with pytest.raises(ValueError, match="Expected more than 1 value per channel when training"):
        F.batch_norm(tg.zeros(1, 3), None, None, training=True)
    with pytest.raises(RuntimeError, match="running_mean must be defined in evaluation mode"):
        F.batch_norm(tg.zeros(4, 3), None, None)
    with pytest.raises(RuntimeError, match=r"Given normalized_shape=\[4\], expected input with shape \[\*, 4\]"):
        F.layer_norm(tg.zeros(2, 3), [4])
    with pytest.raises(RuntimeError, match="divisible by num_groups"):
        F.group_norm(tg.zeros(2, 3, 4), 2)
    with pytest.raises(ValueError, match="Expected more than 1 value per channel"):
        F.group_norm(tg.zeros(1, 2, 1), 2)
    with pytest.raises(ValueError, match="Expected more than 1 spatial element"):
        F.instance_norm(tg.zeros(3, 2, 1))


# ---------------------------------------------------------------------- embedding
@pytest.mark.parametrize("dtype", DTYPES)
@given(num=st.integers(1, 6), dim=st.integers(1, 4), shape=st.lists(st.integers(1, 4), max_size=2).map(tuple),
       padding=st.booleans(), freq=st.booleans(), seed=seeds)
def test_embedding_matches_torch(num, dim, shape, padding, freq, seed, dtype, device):
    rng = np.random.default_rng(seed)
    weight, idx = rng.standard_normal((num, dim)), rng.integers(0, num, size=shape)
    pad = int(rng.integers(-num, num)) if padding else None
    kwargs = dict(padding_idx=pad, scale_grad_by_freq=freq)
    assert_matches_torch(lambda i, w: F.embedding(i, w, **kwargs), lambda i, w: TF.embedding(i, w, **kwargs),
                         idx, weight, dtype=dtype, device=device)


@pytest.mark.parametrize("norm_type", [1.0, 2.0])
def test_embedding_max_norm_renormalises_in_place_like_torch(norm_type, device):
    rng = np.random.default_rng(0)
    w0, idx = rng.standard_normal((5, 3)) * 2, np.array([[0, 2], [2, 4]])
    ours, ref = tg.tensor(w0, device=device), torch.tensor(w0)
    out = F.embedding(tg.tensor(idx, device=device), ours, max_norm=1.0, norm_type=norm_type)
    expected = TF.embedding(torch.tensor(idx), ref, max_norm=1.0, norm_type=norm_type)
    np.testing.assert_allclose(to_numpy(out.array), expected.numpy(), rtol=1e-12)
    np.testing.assert_allclose(to_numpy(ours.array), ref.numpy(), rtol=1e-12)   # rows 0, 2, 4 changed


def test_embedding_errors_like_torch():
    w = tg.zeros(3, 2)
    with pytest.raises(IndexError, match="index out of range in self"):
        F.embedding(tg.tensor([5]), w)
    with pytest.raises(RuntimeError, match="'indices' to have one of the following scalar types"):
        F.embedding(tg.tensor([1.0]), w)
    with pytest.raises(AssertionError, match="Padding_idx must be within num_embeddings"):
        F.embedding(tg.tensor([1]), w, padding_idx=3)


# ---------------------------------------------------------------------- channel dropout
@pytest.mark.parametrize("fn,shape", [("dropout1d", (300, 40, 5)), ("dropout2d", (300, 40, 3, 2)),
                                      ("dropout3d", (300, 40, 2, 2, 2))])
def test_channel_dropout_zeroes_whole_channels(fn, shape, device):
    tg.manual_seed(0)
    x = tg.ones(*shape, dtype=tg.float64, device=device, requires_grad=True)
    y = getattr(F, fn)(x, p=0.25)
    out = to_numpy(y.detach().array).reshape(shape[0], shape[1], -1)
    per_channel = out[:, :, :1]
    assert (out == per_channel).all()                                  # one draw per (sample, channel)
    assert (per_channel == 0).mean() == pytest.approx(0.25, abs=0.02)
    np.testing.assert_allclose(per_channel[per_channel != 0], 1 / 0.75, rtol=1e-15)
    y.sum().backward()
    np.testing.assert_array_equal(to_numpy(x.grad.array).reshape(out.shape), out)
    assert getattr(F, fn)(x, p=0.25, training=False) is x
    with pytest.raises(ValueError, match="between 0 and 1"):
        getattr(F, fn)(x, p=1.5)


def test_dropout2d_on_3d_input_warns_like_torch():
    with pytest.warns(UserWarning, match="assuming that channel-wise 1D dropout"):
        F.dropout2d(tg.ones(2, 3, 4))


# ---------------------------------------------------------------------- 1-D conv and pooling, transposed conv
@st.composite
def conv1d_configs(draw):
    k, s, p, d = draw(st.integers(1, 4)), draw(st.integers(1, 3)), draw(st.integers(0, 2)), draw(st.integers(1, 2))
    groups = draw(st.sampled_from([1, 2]))
    length = draw(st.integers(max(1, d * (k - 1) + 1 - 2 * p), 9))
    return dict(n=draw(st.integers(1, 3)), c_in=groups * draw(st.integers(1, 2)), c_out=groups * draw(st.integers(1, 2)),
                length=length, k=k, stride=s, padding=p, dilation=d, groups=groups, bias=draw(st.booleans()))


@pytest.mark.parametrize("dtype", DTYPES)
@given(cfg=conv1d_configs(), seed=seeds)
def test_conv1d_matches_torch(cfg, seed, dtype, device):
    rng = np.random.default_rng(seed)
    args = [rng.standard_normal((cfg["n"], cfg["c_in"], cfg["length"])),
            rng.standard_normal((cfg["c_out"], cfg["c_in"] // cfg["groups"], cfg["k"]))]
    if cfg["bias"]:
        args.append(rng.standard_normal(cfg["c_out"]))
    kw = dict(stride=cfg["stride"], padding=cfg["padding"], dilation=cfg["dilation"], groups=cfg["groups"])
    assert_matches_torch(lambda *a: F.conv1d(*a, **kw), lambda *a: TF.conv1d(*a, **kw), *args, dtype=dtype,
                         device=device)


@st.composite
def conv_transpose_configs(draw, dims=2):
    g = draw(st.sampled_from([1, 2]))
    cfg = dict(n=draw(st.integers(1, 2)), c_in=g * draw(st.integers(1, 2)), c_out_g=draw(st.integers(1, 2)),
               groups=g, bias=draw(st.booleans()))
    for name in ("k", "stride", "padding", "dilation", "output_padding", "size"):
        cfg[name] = []
    for _ in range(dims):
        k, s, d = draw(st.integers(1, 3)), draw(st.integers(1, 3)), draw(st.integers(1, 2))
        op = draw(st.integers(0, max(s, d) - 1))
        size = draw(st.integers(1, 4))
        full = (size - 1) * s + d * (k - 1) + op + 1
        p = draw(st.integers(0, max(0, min(2, (full - 1) // 2))))
        for name, v in zip(("k", "stride", "padding", "dilation", "output_padding", "size"), (k, s, p, d, op, size)):
            cfg[name].append(v)
    return cfg


@pytest.mark.parametrize("dtype", DTYPES)
@given(cfg=conv_transpose_configs(), seed=seeds)
def test_conv_transpose2d_matches_torch(cfg, seed, dtype, device):
    rng = np.random.default_rng(seed)
    args = [rng.standard_normal((cfg["n"], cfg["c_in"], *cfg["size"])),
            rng.standard_normal((cfg["c_in"], cfg["c_out_g"], *cfg["k"]))]
    if cfg["bias"]:
        args.append(rng.standard_normal(cfg["c_out_g"] * cfg["groups"]))
    kw = {name: tuple(cfg[name]) for name in ("stride", "padding", "output_padding", "dilation")}
    kw["groups"] = cfg["groups"]
    assert_matches_torch(lambda *a: F.conv_transpose2d(*a, **kw), lambda *a: TF.conv_transpose2d(*a, **kw), *args,
                         dtype=dtype, device=device)


@given(cfg=conv_transpose_configs(dims=1), seed=seeds)
def test_conv_transpose1d_matches_torch(cfg, seed, device):
    rng = np.random.default_rng(seed)
    args = [rng.standard_normal((cfg["n"], cfg["c_in"], cfg["size"][0])),
            rng.standard_normal((cfg["c_in"], cfg["c_out_g"], cfg["k"][0]))]
    kw = {name: cfg[name][0] for name in ("stride", "padding", "output_padding", "dilation")}
    kw["groups"] = cfg["groups"]
    assert_matches_torch(lambda *a: F.conv_transpose1d(*a, **kw), lambda *a: TF.conv_transpose1d(*a, **kw), *args,
                         device=device)


def test_conv_transpose_is_the_gradient_of_conv(device):
    """conv_transpose2d(g, w) is d<conv2d(x, w), g>/dx: the definition, checked through our own autograd."""
    rng = np.random.default_rng(3)
    x = tg.tensor(rng.standard_normal((2, 3, 7, 7)), device=device, requires_grad=True)
    w = tg.tensor(rng.standard_normal((4, 3, 3, 2)), device=device)
    y = F.conv2d(x, w, stride=2, padding=1)
    g = tg.tensor(rng.standard_normal(tuple(y.shape)), device=device)
    (y * g).sum().backward()
    out = F.conv_transpose2d(g, w, stride=2, padding=1, output_padding=(0, 1))
    np.testing.assert_allclose(to_numpy(out.array), to_numpy(x.grad.array), rtol=1e-12, atol=1e-12)


def test_conv_transpose_errors_like_torch():
    with pytest.raises(RuntimeError, match="output padding must be smaller than either stride or dilation"):
        F.conv_transpose2d(tg.zeros(1, 2, 3, 3), tg.zeros(2, 2, 3, 3), output_padding=1)
    with pytest.raises(RuntimeError):
        F.conv_transpose2d(tg.zeros(1, 3, 3, 3), tg.zeros(2, 2, 3, 3))
    with pytest.raises(RuntimeError, match="Expected 2D"):
        F.conv1d(tg.zeros(1, 2, 3, 3), tg.zeros(2, 2, 3))


@pytest.mark.parametrize("dtype", DTYPES)
@given(n=st.integers(1, 2), c=st.integers(1, 3), length=st.integers(4, 10), k=st.integers(1, 4),
       stride=st.sampled_from([None, 1, 2, 3]), data=st.data(), seed=seeds)
def test_pool1d_match_torch(n, c, length, k, stride, data, seed, dtype, device):
    p = data.draw(st.integers(0, k // 2))
    ceil_mode = data.draw(st.booleans())
    x = np.random.default_rng(seed).permutation(n * c * length).reshape(n, c, length) / 5.0
    for ours, ref in ((F.max_pool1d, TF.max_pool1d), (F.avg_pool1d, TF.avg_pool1d)):
        assert_matches_torch(lambda t: ours(t, k, stride, p, ceil_mode=ceil_mode),
                             lambda t: ref(t, k, stride, p, ceil_mode=ceil_mode), x, dtype=dtype, device=device)
    assert_matches_torch(lambda t: F.max_pool1d(t, k, stride, p, 2 if length >= 2 * k else 1, return_indices=True),
                         lambda t: TF.max_pool1d(t, k, stride, p, 2 if length >= 2 * k else 1, return_indices=True),
                         x[0], dtype=dtype, device=device)


# ---------------------------------------------------------------------- adaptive pooling
@pytest.mark.parametrize("dtype", DTYPES)
@given(n=st.integers(1, 2), c=st.integers(1, 2), h=st.integers(1, 8), w=st.integers(1, 8),
       oh=st.integers(1, 6), ow=st.sampled_from([None, 1, 2, 3, 5, 9]), seed=seeds)
def test_adaptive_pool2d_match_torch(n, c, h, w, oh, ow, seed, dtype, device):
    x = np.random.default_rng(seed).permutation(n * c * h * w).reshape(n, c, h, w) / 7.0   # no ties
    size = (oh, ow)
    assert_matches_torch(lambda t: F.adaptive_avg_pool2d(t, size), lambda t: TF.adaptive_avg_pool2d(t, size), x,
                         dtype=dtype, device=device)
    assert_matches_torch(lambda t: F.adaptive_max_pool2d(t, size, return_indices=True),
                         lambda t: TF.adaptive_max_pool2d(t, size, return_indices=True), x, dtype=dtype,
                         device=device)
    assert_matches_torch(lambda t: F.adaptive_max_pool2d(t, oh), lambda t: TF.adaptive_max_pool2d(t, oh), x[0],
                         dtype=dtype, device=device)


@pytest.mark.filterwarnings("ignore:invalid value encountered")  # NaN - NaN inside the comparison
def test_adaptive_max_pool_ties_nan_and_inf_like_torch(device):
    x = np.array([[[[1.0, 1.0, 0.0], [1.0, np.nan, 2.0], [np.nan, 0.0, 3.0]],
                   [[-np.inf] * 3, [-np.inf] * 3, [5.0, 5.0, 5.0]]]])
    assert_matches_torch(lambda t: F.adaptive_max_pool2d(t, 2, return_indices=True),
                         lambda t: TF.adaptive_max_pool2d(t, 2, return_indices=True), x, device=device,
                         second_order=False)


@given(n=st.integers(1, 2), length=st.integers(1, 9), out=st.integers(1, 6), seed=seeds)
def test_adaptive_pool1d_match_torch(n, length, out, seed, device):
    x = np.random.default_rng(seed).permutation(n * 2 * length).reshape(n, 2, length) / 3.0
    assert_matches_torch(lambda t: F.adaptive_avg_pool1d(t, out), lambda t: TF.adaptive_avg_pool1d(t, out), x,
                         device=device)
    assert_matches_torch(lambda t: F.adaptive_max_pool1d(t, out, True), lambda t: TF.adaptive_max_pool1d(t, out, True),
                         x, device=device)


# ---------------------------------------------------------------------- padding, interpolation, unfold/fold
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("mode", ["reflect", "replicate", "circular", "constant"])
@given(data=st.data(), seed=seeds)
def test_pad_modes_match_torch(mode, data, seed, dtype, device):
    k = data.draw(st.integers(1, 3))
    batched = data.draw(st.booleans())
    spatial = data.draw(st.lists(st.integers(1, 4), min_size=k, max_size=k))
    shape = ((2,) if batched else ()) + (2,) + tuple(spatial)
    pads = []
    for n in reversed(spatial):
        top = n - 1 if mode == "reflect" else n if mode == "circular" else 3
        pads += [data.draw(st.integers(0, top)), data.draw(st.integers(0, top))]
    x = np.random.default_rng(seed).standard_normal(shape)
    value = 0.5 if mode == "constant" else None
    assert_matches_torch(lambda t: F.pad(t, pads, mode=mode, value=value),
                         lambda t: TF.pad(t, pads, mode=mode, value=value), x, dtype=dtype, device=device)


def test_pad_errors_like_torch():
    x = tg.zeros(1, 1, 3, 3)
    with pytest.raises(RuntimeError, match="Padding size should be less than the corresponding input dimension"):
        F.pad(x, (3, 3, 0, 0), mode="reflect")
    with pytest.raises(NotImplementedError):
        F.pad(x, (1, 1), mode="reflect")       # 4-D input, one padded dimension
    with pytest.raises(NotImplementedError):
        F.pad(x, (1, 1), mode="wrap")


INTERP = [("nearest", None), ("nearest-exact", None), ("bilinear", False), ("bilinear", True), ("area", None)]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("mode,align", INTERP, ids=[f"{m}-{a}" for m, a in INTERP])
@given(h=st.integers(1, 6), w=st.integers(1, 6), how=st.sampled_from(["size", "scale"]), data=st.data(), seed=seeds)
def test_interpolate_2d_matches_torch(mode, align, h, w, how, data, seed, dtype, device):
    x = np.random.default_rng(seed).standard_normal((2, 2, h, w))
    if how == "size":
        kw = dict(size=(data.draw(st.integers(1, 9)), data.draw(st.integers(1, 9))))
    else:
        kw = dict(scale_factor=data.draw(st.sampled_from([2, 3, 0.5, 1.7, (2, 0.75)])),
                  recompute_scale_factor=data.draw(st.sampled_from([None, True])))
        if any(int(np.floor(n * f)) < 1 for n, f in zip((h, w), np.broadcast_to(kw["scale_factor"], 2))):
            return
    kw.update(mode=mode, align_corners=align)
    assert_matches_torch(lambda t: F.interpolate(t, **kw), lambda t: TF.interpolate(t, **kw), x, dtype=dtype,
                         device=device)


@pytest.mark.parametrize("mode,align", [("nearest", None), ("linear", False), ("linear", True), ("area", None)])
@given(length=st.integers(1, 7), out=st.integers(1, 11), seed=seeds)
def test_interpolate_1d_matches_torch(mode, align, length, out, seed, device):
    x = np.random.default_rng(seed).standard_normal((1, 3, length))
    assert_matches_torch(lambda t: F.interpolate(t, size=out, mode=mode, align_corners=align),
                         lambda t: TF.interpolate(t, size=out, mode=mode, align_corners=align), x, device=device)


def test_interpolate_errors_like_torch():
    x = tg.zeros(1, 1, 4, 4)
    with pytest.raises(ValueError, match="align_corners option can only be set"):
        F.interpolate(x, scale_factor=2, align_corners=True)
    with pytest.raises(NotImplementedError, match="Got 4D input, but linear mode needs 3D input"):
        F.interpolate(x, scale_factor=2, mode="linear")
    with pytest.raises(NotImplementedError, match="Only 3D, 4D and 5D input"):
        F.interpolate(tg.zeros(2, 3), scale_factor=2)
    with pytest.raises(ValueError, match="only one of size or scale_factor"):
        F.interpolate(x, size=2, scale_factor=2)
    with pytest.raises(ValueError, match="either size or scale_factor"):
        F.interpolate(x)
    with pytest.raises(NotImplementedError):
        F.interpolate(x, scale_factor=2, mode="bicubic")


@pytest.mark.parametrize("dtype", DTYPES)
@given(n=st.integers(1, 2), c=st.integers(1, 2), h=st.integers(3, 6), w=st.integers(3, 6), k=st.integers(1, 3),
       s=st.integers(1, 2), p=st.integers(0, 1), d=st.integers(1, 2), seed=seeds)
def test_unfold_fold_match_torch(n, c, h, w, k, s, p, d, seed, dtype, device):
    if d * (k - 1) + 1 > min(h, w) + 2 * p:
        return
    x = np.random.default_rng(seed).standard_normal((n, c, h, w))
    kw = dict(kernel_size=k, dilation=d, padding=p, stride=s)
    cols = assert_matches_torch(lambda t: F.unfold(t, **kw), lambda t: TF.unfold(t, **kw), x, dtype=dtype,
                                device=device)[0]
    assert_matches_torch(lambda t: F.fold(t, (h, w), **kw), lambda t: TF.fold(t, (h, w), **kw),
                         to_numpy(cols.array), dtype=dtype, device=device)
