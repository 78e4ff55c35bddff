"""Losses (fused cross-entropy, NLL, MSE) against torch: values and gradients, every reduction,
class weights and ignore_index, extreme logits, spatial targets, and the errors for bad targets."""
import warnings

import numpy as np
import pytest
import torch
import torch.nn.functional as TF
from hypothesis import given, strategies as st

import tinygrad_mnist as tg
import tinygrad_mnist.nn.functional as F
from tinygrad_mnist import nn
from tinygrad_mnist.testing import assert_matches_torch

DTYPES = [np.float64, np.float32]
REDUCTIONS = ["mean", "sum", "none"]


@st.composite
def classification(draw, spatial=False):
    """logits (N, C[, H, W]), int64 targets, optional class weights and an ignore_index."""
    seed = draw(st.integers(0, 2**31 - 1))
    rng = np.random.default_rng(seed)
    n, c = draw(st.integers(1, 6)), draw(st.integers(1, 7))
    extra = (draw(st.integers(1, 3)), draw(st.integers(1, 3))) if spatial else ()
    scale = draw(st.sampled_from([0.1, 3.0, 30.0]))
    logits = rng.standard_normal((n, c) + extra) * scale
    target = rng.integers(0, c, size=(n,) + extra)
    weight = rng.uniform(0.1, 2.0, size=c) if draw(st.booleans()) else None
    ignore_index = -100
    if draw(st.booleans()):
        ignore_index = draw(st.sampled_from([-100, -1, 0, c - 1]))
        drop = rng.random(target.shape) < 0.3
        target = np.where(drop, ignore_index, target)
    return logits, target, weight, ignore_index


def _loss_pair(ours_fn, torch_fn, weight, ignore_index, reduction, device, dtype):
    def ours(x, t):
        w = None if weight is None else tg.tensor(weight.astype(dtype), device=device)
        return ours_fn(x, t, weight=w, ignore_index=ignore_index, reduction=reduction)

    def ref(x, t):
        w = None if weight is None else torch.tensor(weight.astype(dtype), device=t.device)
        return torch_fn(x, t, weight=w, ignore_index=ignore_index, reduction=reduction)
    return ours, ref


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@given(problem=classification())
def test_cross_entropy_matches_torch(problem, reduction, dtype, device):
    logits, target, weight, ignore_index = problem
    if reduction == "mean" and np.all(target == ignore_index):
        target[0] = 0 if ignore_index != 0 else logits.shape[1] - 1  # all-ignored is tested apart
        if target[0] == ignore_index:
            return
    ours, ref = _loss_pair(F.cross_entropy, TF.cross_entropy, weight, ignore_index, reduction, device, dtype)
    assert_matches_torch(ours, ref, logits, target, dtype=dtype, device=device)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@given(problem=classification())
def test_nll_loss_matches_torch(problem, reduction, dtype, device):
    logits, target, weight, ignore_index = problem
    if reduction == "mean" and np.all(target == ignore_index):
        return
    ours, ref = _loss_pair(F.nll_loss, TF.nll_loss, weight, ignore_index, reduction, device, dtype)
    # nll of log-probabilities, as in the tutorials (log_softmax then nll_loss)
    assert_matches_torch(lambda x, t: ours(x.log_softmax(1), t), lambda x, t: ref(x.log_softmax(1), t),
                         logits, target, dtype=dtype, device=device)
    # and of arbitrary inputs (nll does not care whether they are log-probabilities)
    assert_matches_torch(ours, ref, logits, target, dtype=dtype, device=device)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@given(problem=classification(spatial=True))
def test_spatial_targets_match_torch(problem, reduction, device):
    """(N, C, H, W) logits with (N, H, W) targets: the class dimension is dim 1."""
    logits, target, weight, ignore_index = problem
    if reduction == "mean" and np.all(target == ignore_index):
        return
    for ours_fn, torch_fn in ((F.cross_entropy, TF.cross_entropy), (F.nll_loss, TF.nll_loss)):
        ours, ref = _loss_pair(ours_fn, torch_fn, weight, ignore_index, reduction, device, np.float64)
        assert_matches_torch(ours, ref, logits, target, device=device)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_cross_entropy_extreme_logits_stay_finite(reduction, dtype, device):
    rng = np.random.default_rng(0)
    logits = rng.choice([-1e4, 1e4, 0.0, 5e3], size=(6, 5)) + rng.standard_normal((6, 5))
    logits[0] = [1e4, -1e4, 1e4, -1e4, 0.0]  # a tie at the top
    target = np.array([1, 0, 2, 3, 4, 1])
    out = assert_matches_torch(lambda x, t: F.cross_entropy(x, t, reduction=reduction),
                               lambda x, t: TF.cross_entropy(x, t, reduction=reduction),
                               logits, target, dtype=dtype, device=device)
    assert np.isfinite(tg.backend.to_numpy(out[0].array)).all()
    # the gradient too (assert_matches_torch compared it with torch's; check it is finite as well)
    x = tg.tensor(logits.astype(dtype), device=device, requires_grad=True)
    F.cross_entropy(x, tg.tensor(target, device=device), reduction="sum").backward()
    assert np.isfinite(tg.backend.to_numpy(x.grad.array)).all()


def test_cross_entropy_is_one_fused_op(device):
    x = tg.randn(4, 3, device=device, requires_grad=True)
    loss = F.cross_entropy(x, tg.tensor([0, 2, 1, 2], device=device))
    assert loss.grad_fn.name() == "CrossEntropyBackward"
    assert loss.grad_fn.next_functions[0][0] is x._grad_node()  # straight to the leaf: no LogSoftmax node


def test_cross_entropy_gradient_is_softmax_minus_onehot(device):
    rng = np.random.default_rng(1)
    logits = rng.standard_normal((5, 4))
    target = np.array([0, 3, 1, 1, 2])
    x = tg.tensor(logits, device=device, requires_grad=True)
    F.cross_entropy(x, tg.tensor(target, device=device)).backward()
    p = np.exp(logits - logits.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    expected = (p - np.eye(4)[target]) / 5
    np.testing.assert_allclose(tg.backend.to_numpy(x.grad.array), expected, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("fn", ["cross_entropy", "nll_loss"])
def test_gradcheck_float64(fn):
    rng = np.random.default_rng(2)
    x = tg.tensor(rng.standard_normal((3, 4, 2)), requires_grad=True)
    t = tg.tensor(np.array([[0, 3], [-100, 1], [2, 2]]))
    w = tg.tensor(rng.uniform(0.5, 2, 4))
    for reduction in REDUCTIONS:
        assert tg.gradcheck(lambda a: getattr(F, fn)(a, t, weight=w, reduction=reduction), [x])


def test_all_targets_ignored_matches_torch(device):
    """mean over zero counted targets: 0/0 = nan, as PyTorch (and the gradient agrees with torch)."""
    logits = np.random.default_rng(3).standard_normal((3, 4))
    target = np.full(3, -100)
    for ours_fn, torch_fn in ((F.cross_entropy, TF.cross_entropy), (F.nll_loss, TF.nll_loss)):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            out = assert_matches_torch(ours_fn, torch_fn, logits, target, device=device)
        assert np.isnan(out[0].item())


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_unbatched_input(reduction, device):
    logits = np.random.default_rng(4).standard_normal(6)
    assert_matches_torch(lambda x, t: F.cross_entropy(x, t, reduction=reduction),
                         lambda x, t: TF.cross_entropy(x, t, reduction=reduction),
                         logits, np.array(4), device=device)


# ---------------------------------------------------------------------- mse
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@given(data=st.data())
def test_mse_loss_matches_torch(data, reduction, dtype, device):
    shape = data.draw(st.lists(st.integers(1, 5), min_size=0, max_size=3).map(tuple))
    rng = np.random.default_rng(data.draw(st.integers(0, 2**31 - 1)))
    a, b = rng.standard_normal(shape) * 3, rng.standard_normal(shape)
    assert_matches_torch(lambda x, y: F.mse_loss(x, y, reduction=reduction),
                         lambda x, y: TF.mse_loss(x, y, reduction=reduction), a, b, dtype=dtype, device=device)


def test_mse_loss_broadcast_warns_like_torch(device):
    a = np.random.default_rng(5).standard_normal((4, 3))
    b = np.random.default_rng(6).standard_normal((3,))
    with pytest.warns(UserWarning, match="different to the input size"):
        assert_matches_torch(F.mse_loss, lambda x, y: TF.mse_loss(x, y), a, b, device=device)
    with pytest.raises(RuntimeError, match=r"\(4, 3\).*\(5,\)"):
        F.mse_loss(tg.zeros(4, 3), tg.zeros(5))


# ---------------------------------------------------------------------- modules
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_loss_modules_match_torch(reduction, device):
    rng = np.random.default_rng(7)
    logits, target = rng.standard_normal((5, 4)), rng.integers(0, 4, 5)
    w = rng.uniform(0.5, 2, 4)
    assert_matches_torch(lambda x, t: nn.CrossEntropyLoss(weight=tg.tensor(w, device=device),
                                                          reduction=reduction)(x, t),
                         lambda x, t: torch.nn.CrossEntropyLoss(weight=torch.tensor(w, device=t.device),
                                                                reduction=reduction)(x, t),
                         logits, target, device=device)
    assert_matches_torch(lambda x, t: nn.NLLLoss(ignore_index=1, reduction=reduction)(x.log_softmax(1), t),
                         lambda x, t: torch.nn.NLLLoss(ignore_index=1, reduction=reduction)(x.log_softmax(1), t),
                         logits, target, device=device)
    assert_matches_torch(lambda x, y: nn.MSELoss(reduction=reduction)(x, y),
                         lambda x, y: torch.nn.MSELoss(reduction=reduction)(x, y),
                         logits, rng.standard_normal((5, 4)), device=device)
    assert repr(nn.CrossEntropyLoss()) == repr(torch.nn.CrossEntropyLoss()) == "CrossEntropyLoss()"


def test_legacy_size_average_means_sum(device):
    """The old MNIST example's ``F.nll_loss(output, target, size_average=False)``."""
    x = tg.tensor(np.random.default_rng(8).standard_normal((4, 3)), device=device)
    t = tg.tensor([0, 1, 2, 1], device=device)
    with pytest.warns(UserWarning, match="reduction='sum'"):
        legacy = F.nll_loss(x, t, size_average=False)
    assert legacy.item() == pytest.approx(F.nll_loss(x, t, reduction="sum").item(), rel=1e-12)


# ---------------------------------------------------------------------- errors
@pytest.mark.parametrize("fn", [F.cross_entropy, F.nll_loss])
def test_out_of_range_target_on_the_gpu_gives_nan_not_another_class(fn, device):
    """On the GPU there is no per-step host check (it would sync): the op poisons the bad position."""
    if device != "cuda":
        pytest.skip("the device-side guard is the GPU path; the CPU raises (test below)")
    x = tg.randn(3, 10, device=device, requires_grad=True)
    loss = fn(x, tg.tensor([1, 12, 3], device=device), reduction="none")
    values = loss.detach().cpu().numpy()
    assert np.isnan(values[1]) and np.isfinite(values[[0, 2]]).all()
    fn(x, tg.tensor([1, -1, 3], device=device)).backward()
    assert np.isnan(x.grad.cpu().numpy()).any()


@pytest.mark.parametrize("fn", [F.cross_entropy, F.nll_loss])
def test_out_of_range_target_is_caught_before_indexing(fn):
    name = fn.__name__
    device = "cpu"
    x = tg.randn(3, 10, device=device, requires_grad=True)
    with pytest.raises(IndexError, match=f"{name}: target 12 is out of bounds for 10 classes"):
        fn(x, tg.tensor([1, 12, 3], device=device))
    with pytest.raises(IndexError, match="target -1 is out of bounds for 10 classes"):
        fn(x, tg.tensor([1, -1, 3], device=device))
    with pytest.raises(IndexError, match="target 10 is out of bounds"):
        fn(x, tg.tensor([1, 10, -100], device=device))
    assert fn(x, tg.tensor([1, -100, 9], device=device)).shape == ()  # ignore_index is allowed
    with pytest.raises(IndexError, match="target 3 is out of bounds for 3 classes"):  # spatial too
        fn(tg.randn(2, 3, 2, 2, device=device), tg.tensor([[[0, 1], [2, 3]]] * 2, device=device))


@pytest.mark.parametrize("fn", [F.cross_entropy, F.nll_loss])
def test_bad_shapes_and_dtypes_are_named(fn, device):
    x = tg.randn(4, 10, device=device)
    with pytest.raises(ValueError, match=r"input of shape \(4, 10\).*target of shape \(5,\)"):
        fn(x, tg.tensor([0, 1, 2, 3, 4], device=device))
    with pytest.raises(ValueError, match=r"input of shape \(4, 10\).*target of shape \(4, 1\)"):
        fn(x, tg.tensor([[0], [1], [2], [3]], device=device))
    with pytest.raises(TypeError, match="integer class indices"):
        fn(x, tg.zeros(4, device=device))
    with pytest.raises(ValueError, match="not a valid value for reduction"):
        fn(x, tg.tensor([0, 1, 2, 3], device=device), reduction="avg")
    with pytest.raises(ValueError, match=r"weight must have one entry per class.*\(10,\).*\(3,\)"):
        fn(x, tg.tensor([0, 1, 2, 3], device=device), weight=tg.ones(3, device=device))
