"""Optimizers and LR schedules against real PyTorch.

Trajectory tests: the same initial weights and the same sequence of random gradients (set
directly on ``.grad`` in both engines) go through our optimizer and torch's, over two parameter
groups with different learning rates, a parameter whose gradient is sometimes None, and a StepLR
schedule that halves the rates every 5 steps; after 20 steps the parameters and the optimizer
state must match (float64 to 1e-12, float32 to 1e-6, relative to each tensor's scale).
The largest differences seen are printed at the end of the module.

Our tensors live on the device under test (TG_TEST_DEVICE); torch runs on the CPU.
"""
import itertools
from collections import defaultdict

import numpy as np
import pytest
import torch
from hypothesis import given, strategies as st

import tinygrad_mnist as tg
from tinygrad_mnist import optim
from tinygrad_mnist.backend import to_numpy
from tinygrad_mnist.optim.lr_scheduler import ExponentialLR, MultiStepLR, StepLR

SHAPES = [(4, 3), (3,), (2, 2, 3), (1,)]
TOL = {np.float64: 1e-12, np.float32: 1e-6}
MAX_DIFF = defaultdict(float)  # (optimizer, dtype name) -> largest relative difference seen


@pytest.fixture(scope="module", autouse=True)
def _report_largest_differences(request):
    yield
    if MAX_DIFF:
        reporter = request.config.pluginmanager.get_plugin("terminalreporter")
        capture = request.config.pluginmanager.get_plugin("capturemanager")
        text = "; ".join(f"{name} {dt}: {d:.2e}" for (name, dt), d in sorted(MAX_DIFF.items()))
        if reporter is not None and capture is not None:
            with capture.global_and_fixture_disabled():
                reporter.write_line(f"\ntest_optim: largest relative differences vs torch: {text}")


def rel_diff(ours, ref):
    """max |ours - ref| over the tensor, relative to the tensor's scale max(1, max |ref|)."""
    ours = np.asarray(ours, dtype=np.float64)
    ref = np.asarray(ref, dtype=np.float64)
    return float(np.max(np.abs(ours - ref))) / max(1.0, float(np.max(np.abs(ref))))


def arr(t):
    return to_numpy(t.array) if isinstance(t, tg.Tensor) else t.detach().numpy()


def make_params(dtype, device, seed=0):
    rng = np.random.default_rng(seed)
    init = [rng.standard_normal(s).astype(dtype) for s in SHAPES]
    ours = [tg.tensor(a, device=device, requires_grad=True) for a in init]
    theirs = [torch.tensor(a, requires_grad=True) for a in init]
    return ours, theirs


def set_grads(ours, theirs, rng, step, dtype, device):
    for i, (a, b) in enumerate(zip(ours, theirs)):
        if i == 3 and step % 7 == 3:  # sometimes no gradient: the parameter must be skipped
            a.grad = b.grad = None
            continue
        g = rng.standard_normal(a.shape).astype(dtype)
        a.grad = tg.tensor(g, device=device)
        b.grad = torch.tensor(g)


def two_groups(params, lr):
    return [{"params": params[:2]}, {"params": params[2:], "lr": lr * 0.5}]


def run_both(name, kwargs, dtype, device, steps=20, seed=0, schedule=True):
    our_cls, torch_cls = getattr(optim, name), getattr(torch.optim, name)
    ours, theirs = make_params(dtype, device, seed)
    opt = our_cls(two_groups(ours, kwargs["lr"]), **kwargs)
    topt = torch_cls(two_groups(theirs, kwargs["lr"]), foreach=False, **kwargs)
    scheds = (StepLR(opt, step_size=5, gamma=0.5), torch.optim.lr_scheduler.StepLR(topt, step_size=5, gamma=0.5)) \
        if schedule else ()
    rng = np.random.default_rng(seed + 1)
    for step in range(steps):
        set_grads(ours, theirs, rng, step, dtype, device)
        opt.step()
        topt.step()
        for s in scheds:
            s.step()
    return opt, topt, ours, theirs


def check_match(name, opt, topt, ours, theirs, dtype):
    tol = TOL[dtype]
    worst = 0.0
    for i, (a, b) in enumerate(zip(ours, theirs)):
        assert a.array.dtype == dtype
        d = rel_diff(arr(a), arr(b))
        assert d <= tol, f"parameter {i}: relative difference {d:.3g} > {tol}"
        worst = max(worst, d)
        tstate, state = topt.state[b], opt.state[a]
        assert set(state) == set(tstate), f"parameter {i}: state keys {set(state)} vs torch's {set(tstate)}"
        for key, tvalue in tstate.items():
            if key == "step":
                assert float(state[key].array) == float(tvalue)
                continue
            d = rel_diff(arr(state[key]), arr(tvalue))
            assert d <= tol, f"parameter {i}, state {key!r}: relative difference {d:.3g} > {tol}"
            worst = max(worst, d)
    assert [g["lr"] for g in opt.param_groups] == [g["lr"] for g in topt.param_groups]
    key = (name, np.dtype(dtype).name)
    MAX_DIFF[key] = max(MAX_DIFF[key], worst)


def _sgd_options():
    for momentum, dampening, weight_decay, nesterov, maximize in itertools.product(
            (0, 0.9), (0, 0.5), (0, 0.1), (False, True), (False, True)):
        if nesterov and (momentum == 0 or dampening != 0):
            continue
        yield dict(lr=0.1, momentum=momentum, dampening=dampening, weight_decay=weight_decay,
                   nesterov=nesterov, maximize=maximize)


SGD_OPTIONS = list(_sgd_options())
ADAM_OPTIONS = [dict(lr=0.01, amsgrad=amsgrad, weight_decay=wd, maximize=maximize)
                for amsgrad, wd, maximize in itertools.product((False, True), (0, 0.1), (False, True))]
ADAM_OPTIONS += [dict(lr=0.05, betas=(0.3, 0.6), eps=1e-3, amsgrad=True, weight_decay=0.2)]  # lerp's weight >= 0.5
DTYPES = [np.float64, np.float32]


def _id(kwargs):
    return ",".join(f"{k}={v}" for k, v in kwargs.items() if k != "lr")


def test_sgd_covers_every_valid_combination():
    assert len(SGD_OPTIONS) == 20  # 24 combinations of momentum x dampening x decay x maximize, x nesterov where valid


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("kwargs", SGD_OPTIONS, ids=_id)
def test_sgd_trajectory_matches_torch(kwargs, dtype, device):
    check_match("SGD", *run_both("SGD", kwargs, dtype, device), dtype)


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("kwargs", ADAM_OPTIONS, ids=_id)
def test_adam_trajectory_matches_torch(kwargs, dtype, device):
    check_match("Adam", *run_both("Adam", kwargs, dtype, device), dtype)


@given(lr=st.floats(1e-4, 0.5), momentum=st.sampled_from([0.0]) | st.floats(0.01, 0.99),
       dampening=st.sampled_from([0.0]) | st.floats(0.01, 0.9), weight_decay=st.sampled_from([0.0]) | st.floats(0.0, 0.5),
       nesterov=st.booleans(), maximize=st.booleans(), seed=st.integers(0, 2**16))
def test_sgd_random_hyperparameters_match_torch(lr, momentum, dampening, weight_decay, nesterov, maximize, seed):
    if nesterov and (momentum == 0 or dampening != 0):
        dampening = 0.0
        momentum = momentum or 0.5
    kwargs = dict(lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay, nesterov=nesterov,
                  maximize=maximize)
    check_match("SGD", *run_both("SGD", kwargs, np.float64, "cpu", steps=10, seed=seed), np.float64)


@given(lr=st.floats(1e-4, 0.5), beta1=st.floats(0.0, 0.999), beta2=st.floats(0.0, 0.9999),
       eps=st.floats(1e-10, 1e-1), weight_decay=st.sampled_from([0.0]) | st.floats(0.0, 0.5),
       amsgrad=st.booleans(), maximize=st.booleans(), seed=st.integers(0, 2**16))
def test_adam_random_hyperparameters_match_torch(lr, beta1, beta2, eps, weight_decay, amsgrad, maximize, seed):
    kwargs = dict(lr=lr, betas=(beta1, beta2), eps=eps, weight_decay=weight_decay, amsgrad=amsgrad,
                  maximize=maximize)
    check_match("Adam", *run_both("Adam", kwargs, np.float64, "cpu", steps=10, seed=seed), np.float64)


# ---------------------------------------------------------------------- state_dict
def _copy_state_dict(sd):
    """What a save and a load would give: new arrays, nothing shared with the optimizer."""
    return {"state": {i: {k: tg.Tensor(v.array.copy()) if isinstance(v, tg.Tensor) else v for k, v in s.items()}
                      for i, s in sd["state"].items()},
            "param_groups": [dict(g) for g in sd["param_groups"]]}


@pytest.mark.parametrize("name,kwargs", [
    ("SGD", dict(lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.1)),
    ("SGD", dict(lr=0.1, momentum=0.9, dampening=0.5)),
    ("Adam", dict(lr=0.01, amsgrad=True, weight_decay=0.1)),
    ("Adam", dict(lr=0.01)),
])
def test_state_dict_round_trip_continues_identically(name, kwargs, device):
    cls = getattr(optim, name)
    ours, _ = make_params(np.float64, device)
    opt = cls(two_groups(ours, kwargs["lr"]), **kwargs)
    sched = StepLR(opt, step_size=3, gamma=0.5)
    rng = np.random.default_rng(5)
    grads = [[rng.standard_normal(s) for s in SHAPES] for _ in range(20)]

    def run(params, optimizer, scheduler, steps):
        for gs in steps:
            for p, g in zip(params, gs):
                p.grad = tg.tensor(g, device=device)
            optimizer.step()
            scheduler.step()

    run(ours, opt, sched, grads[:10])
    saved, saved_sched = _copy_state_dict(opt.state_dict()), dict(sched.state_dict())

    # layout: PyTorch's
    assert sorted(saved) == ["param_groups", "state"]
    assert [g["params"] for g in saved["param_groups"]] == [[0, 1], [2, 3]]
    assert sorted(saved["state"]) == [0, 1, 2, 3]

    # a fresh model (the same weights, as a checkpoint would restore) and a fresh optimizer with other settings
    fresh = [tg.tensor(to_numpy(p.array), device=device, requires_grad=True) for p in ours]
    opt2 = cls(fresh, lr=123.0)
    with pytest.raises(ValueError, match="different number of parameter groups"):
        opt2.load_state_dict(saved)
    opt2 = cls(two_groups(fresh, 123.0))
    sched2 = StepLR(opt2, step_size=3, gamma=0.5)
    opt2.load_state_dict(saved)
    sched2.load_state_dict(saved_sched)
    assert opt2.param_groups[1]["lr"] == opt.param_groups[1]["lr"]
    assert opt2.param_groups[0]["params"][0] is fresh[0]
    for i, p in enumerate(fresh):  # loaded state is a copy on the parameter's device
        for k, v in opt2.state[p].items():
            if k != "step":
                assert v.device == p.device and v.array is not saved["state"][i][k].array

    run(ours, opt, sched, grads[10:])
    run(fresh, opt2, sched2, grads[10:])
    for a, b in zip(ours, fresh):
        np.testing.assert_array_equal(to_numpy(a.array), to_numpy(b.array))


def _to_torch_osd(sd):
    return {"state": {i: {k: torch.from_numpy(to_numpy(v.array).copy()) if isinstance(v, tg.Tensor) else v
                          for k, v in s.items()} for i, s in sd["state"].items()},
            "param_groups": [dict(g) for g in sd["param_groups"]]}


def _from_torch_osd(sd):
    return {"state": {i: {k: tg.Tensor(v.numpy().copy()) if isinstance(v, torch.Tensor) else v
                          for k, v in s.items()} for i, s in sd["state"].items()},
            "param_groups": [dict(g) for g in sd["param_groups"]]}


@pytest.mark.parametrize("name,kwargs", [("SGD", dict(lr=0.1, momentum=0.9)),
                                         ("Adam", dict(lr=0.01, amsgrad=True))])
def test_state_dict_is_interchangeable_with_torch(name, kwargs):
    """Our state_dict loads into torch's optimizer and torch's into ours: the layouts agree."""
    our_cls, torch_cls = getattr(optim, name), getattr(torch.optim, name)
    ours, theirs = make_params(np.float64, "cpu")
    opt, topt = our_cls(ours, **kwargs), torch_cls(theirs, foreach=False, **kwargs)
    rng = np.random.default_rng(3)
    for step in range(5):
        set_grads(ours, theirs, rng, step, np.float64, "cpu")
        opt.step()
        topt.step()
    # swap: each engine continues from the other's state
    ours2, theirs2 = make_params(np.float64, "cpu")
    for a, b, src_a, src_b in zip(ours2, theirs2, ours, theirs):
        a.array[...] = src_b.detach().numpy()
        with torch.no_grad():
            b.copy_(torch.from_numpy(to_numpy(src_a.array)))
    opt2, topt2 = our_cls(ours2, lr=1.0), torch_cls(theirs2, lr=1.0, foreach=False)
    opt2.load_state_dict(_from_torch_osd(topt.state_dict()))
    topt2.load_state_dict(_to_torch_osd(opt.state_dict()))
    for step in range(5, 10):
        set_grads(ours2, theirs2, rng, step, np.float64, "cpu")
        opt2.step()
        topt2.step()
    for a, b in zip(ours2, theirs2):
        assert rel_diff(arr(a), arr(b)) <= 1e-12


def test_load_state_dict_rejects_mismatched_groups_and_shapes():
    ours, _ = make_params(np.float64, "cpu")
    opt = optim.SGD(ours, lr=0.1, momentum=0.9)
    for p in ours:
        p.grad = tg.zeros_like(p)
    opt.step()
    saved = _copy_state_dict(opt.state_dict())
    other = optim.SGD(ours[:3], lr=0.1, momentum=0.9)
    with pytest.raises(ValueError, match="doesn't match the size of optimizer's group"):
        other.load_state_dict(saved)
    swapped = [ours[1], ours[0], ours[2], ours[3]]  # same count, but shapes differ position by position
    opt2 = optim.SGD(swapped, lr=0.5, momentum=0.9)
    before = opt2.state_dict()
    with pytest.raises(ValueError, match=r"'momentum_buffer' of parameter 0 has shape \(4, 3\).*\(3,\)"):
        opt2.load_state_dict(saved)
    assert opt2.state_dict() == before and opt2.param_groups[0]["lr"] == 0.5  # nothing changed


# ---------------------------------------------------------------------- zero_grad, steps, closure
def test_zero_grad_both_modes():
    ours, _ = make_params(np.float32, "cpu")
    opt = optim.SGD(ours, lr=0.1)
    for p in ours[:3]:
        p.grad = tg.ones_like(p)
    grads = [p.grad for p in ours]
    opt.zero_grad(set_to_none=False)
    for p, g in zip(ours[:3], grads):
        assert p.grad is g and not p.grad.requires_grad
        np.testing.assert_array_equal(p.grad.numpy(), np.zeros(p.shape, np.float32))
    assert ours[3].grad is None
    opt.zero_grad()  # default: set_to_none=True
    assert all(p.grad is None for p in ours)


def test_step_is_in_place_outside_the_graph_and_skips_missing_grads(device):
    ours, _ = make_params(np.float64, device)
    opt = optim.SGD(ours, lr=0.1, momentum=0.9)
    arrays = [p.array for p in ours]
    before = to_numpy(ours[3].array).copy()
    for p in ours[:3]:
        p.grad = tg.ones_like(p)
    opt.step()  # grad mode is on: the update must not be recorded or refused
    bufs = [opt.state[p]["momentum_buffer"] for p in ours[:3]]
    opt.step()
    for p, a in zip(ours, arrays):
        assert p.array is a and p.grad_fn is None and p.is_leaf and p.requires_grad
    assert [opt.state[p]["momentum_buffer"] for p in ours[:3]] == bufs  # the same buffers, updated in place
    assert ours[3] not in opt.state
    np.testing.assert_array_equal(to_numpy(ours[3].array), before)


def test_step_with_closure_returns_the_loss_and_enables_grad():
    w = tg.tensor([1.0, -2.0, 3.0], dtype=tg.float64, requires_grad=True)
    opt = optim.SGD([w], lr=0.1)

    def closure():
        opt.zero_grad()
        loss = (w * w).sum()
        loss.backward()
        return loss

    with tg.no_grad():
        loss = opt.step(closure)
    assert loss.item() == pytest.approx(14.0)
    np.testing.assert_allclose(w.detach().numpy(), np.array([1.0, -2.0, 3.0]) * (1 - 0.2))
    assert optim.Adam([w]).step() is None


def test_gradient_that_does_not_match_its_parameter_is_an_error():
    w = tg.zeros(3, requires_grad=True)
    opt = optim.SGD([w], lr=0.1)
    w.grad = tg.zeros(1)  # would broadcast silently
    with pytest.raises(RuntimeError, match=r"gradient of parameter 0 \(shape \(1,\).*parameter \(shape \(3,\)"):
        opt.step()
    w.grad = tg.zeros(3, dtype=tg.float64)
    with pytest.raises(RuntimeError, match="float64"):
        opt.step()


# ---------------------------------------------------------------------- validation, groups
@pytest.mark.parametrize("name,kwargs", [
    ("SGD", dict(lr=-1)), ("SGD", dict(momentum=-0.1)), ("SGD", dict(weight_decay=-1)),
    ("SGD", dict(nesterov=True)), ("SGD", dict(nesterov=True, momentum=0.9, dampening=0.1)),
    ("Adam", dict(lr=-1)), ("Adam", dict(eps=-1e-8)), ("Adam", dict(betas=(1.0, 0.999))),
    ("Adam", dict(betas=(0.9, -0.1))), ("Adam", dict(weight_decay=-0.5)),
])
def test_invalid_hyperparameters_raise_torchs_errors(name, kwargs):
    with pytest.raises(ValueError) as theirs:
        getattr(torch.optim, name)([torch.zeros(2, requires_grad=True)], **kwargs)
    with pytest.raises(ValueError) as ours:
        getattr(optim, name)([tg.zeros(2, requires_grad=True)], **kwargs)
    assert str(ours.value) == str(theirs.value)


def test_invalid_learning_rate_message():
    with pytest.raises(ValueError, match="^Invalid learning rate: -1$"):
        optim.SGD([tg.zeros(2, requires_grad=True)], lr=-1)


def test_per_group_hyperparameters_are_checked_too():
    """A difference from PyTorch, which checks only the constructor's defaults."""
    a, b = tg.zeros(2, requires_grad=True), tg.zeros(2, requires_grad=True)
    with pytest.raises(ValueError, match="Invalid learning rate: -0.5"):
        optim.SGD([{"params": [a]}, {"params": [b], "lr": -0.5}], lr=0.1)
    opt = optim.Adam([a])
    with pytest.raises(ValueError, match="Invalid beta parameter at index 1: 2"):
        opt.add_param_group({"params": [b], "betas": [0.9, 2]})
    assert len(opt.param_groups) == 1


def test_param_group_errors_match_torch():
    a, b = tg.zeros(2, requires_grad=True), tg.zeros(2, requires_grad=True)
    ta = torch.zeros(2, requires_grad=True)
    cases = [
        ((lambda: optim.SGD([], lr=0.1)), (lambda: torch.optim.SGD([], lr=0.1))),
        ((lambda: optim.SGD([{"params": [a]}, {"params": [a, b]}], lr=0.1)),
         (lambda: torch.optim.SGD([{"params": [ta]}, {"params": [ta]}], lr=0.1))),
        ((lambda: optim.SGD([(a * 2)], lr=0.1)), (lambda: torch.optim.SGD([ta * 2], lr=0.1))),
        ((lambda: optim.SGD([a, "b"], lr=0.1)), None),
        ((lambda: optim.SGD(a, lr=0.1)), None),
    ]
    for ours, theirs in cases:
        with pytest.raises((ValueError, TypeError)) as e_ours:
            ours()
        if theirs is not None:
            with pytest.raises((ValueError, TypeError)) as e_theirs:
                theirs()
            assert type(e_ours.value) is type(e_theirs.value) and str(e_ours.value) == str(e_theirs.value)
    with pytest.raises(TypeError, match="ordered collections"):
        optim.SGD([{"params": {a}}], lr=0.1)
    with pytest.raises(TypeError, match="optimizer can only optimize Tensors, but one of the params is builtins.str"):
        optim.SGD([a, "b"], lr=0.1)


def test_param_groups_defaults_add_group_and_names():
    a, b, c = (tg.zeros(2, requires_grad=True) for _ in range(3))
    opt = optim.Adam([{"params": a}, {"params": [b], "lr": 0.5, "betas": [0.8, 0.9]}], lr=0.01)
    assert opt.param_groups[0]["params"] == [a] and opt.param_groups[0]["lr"] == 0.01
    assert opt.param_groups[1]["lr"] == 0.5 and opt.param_groups[1]["betas"] == (0.8, 0.9)
    assert opt.param_groups[1]["eps"] == 1e-8 and opt.param_groups[1]["amsgrad"] is False
    opt.add_param_group({"params": [c], "weight_decay": 0.1})
    assert opt.param_groups[2]["weight_decay"] == 0.1 and opt.param_groups[2]["lr"] == 0.01
    with pytest.raises(ValueError, match="more than one parameter group"):
        opt.add_param_group({"params": [a]})
    named = optim.SGD([("w", a), ("b", b)], lr=0.1)
    assert named.param_groups[0]["param_names"] == ["w", "b"]
    assert named.state_dict()["param_groups"][0]["param_names"] == ["w", "b"]
    text = repr(optim.SGD([a], lr=0.1, momentum=0.9))
    assert text.startswith("SGD (\nParameter Group 0\n") and "    momentum: 0.9\n" in text and text.endswith("\n)")


# ---------------------------------------------------------------------- LR schedules
def _schedules(opt_cls, params):
    opt = opt_cls([{"params": params[:1]}, {"params": params[1:], "lr": 0.3}], lr=0.1)
    return opt


@pytest.mark.parametrize("make", [
    lambda m, o: m.StepLR(o, step_size=3, gamma=0.1),
    lambda m, o: m.StepLR(o, step_size=5, gamma=0.5),
    lambda m, o: m.MultiStepLR(o, milestones=[2, 5, 5, 9], gamma=0.5),
    lambda m, o: m.ExponentialLR(o, gamma=0.9),
], ids=["StepLR3", "StepLR5", "MultiStepLR", "ExponentialLR"])
def test_lr_schedules_match_torch_exactly(make):
    opt = _schedules(optim.SGD, [tg.zeros(2, requires_grad=True), tg.zeros(2, requires_grad=True)])
    topt = _schedules(torch.optim.SGD, [torch.zeros(2, requires_grad=True), torch.zeros(2, requires_grad=True)])
    ours, theirs = make(optim.lr_scheduler, opt), make(torch.optim.lr_scheduler, topt)
    assert ours.get_last_lr() == theirs.get_last_lr()
    for epoch in range(15):
        opt.step()
        topt.step()
        ours.step()
        theirs.step()
        assert ours.last_epoch == theirs.last_epoch == epoch + 1
        assert ours.get_last_lr() == theirs.get_last_lr()  # bit for bit
        assert [g["lr"] for g in opt.param_groups] == [g["lr"] for g in topt.param_groups]
    assert ours.base_lrs == theirs.base_lrs == [0.1, 0.3]


def test_lr_scheduler_state_dict_and_resume():
    w = tg.zeros(2, requires_grad=True)
    opt = optim.SGD([w], lr=1.0)
    sched = StepLR(opt, step_size=2, gamma=0.5)
    with pytest.warns(UserWarning, match=r"`lr_scheduler.step\(\)` before `optimizer.step\(\)`"):
        sched.step()  # the optimizer never steps here: PyTorch's warning, once
    for _ in range(2):
        sched.step()
    state = sched.state_dict()
    assert "optimizer" not in state and state["last_epoch"] == 3 and state["step_size"] == 2
    opt2 = optim.SGD([tg.zeros(2, requires_grad=True)], lr=1.0)
    with pytest.raises(KeyError, match=r"param 'initial_lr' is not specified in param_groups\[0\]"):
        StepLR(opt2, step_size=2, last_epoch=3)
    sched2 = StepLR(opt2, step_size=2, gamma=0.5)
    sched2.load_state_dict(state)  # _step_count comes with it: no second warning
    opt2.param_groups[0]["lr"] = opt.param_groups[0]["lr"]  # as the optimizer's own state_dict would restore it
    for _ in range(4):
        sched.step()
        sched2.step()
        assert sched.get_last_lr() == sched2.get_last_lr()
    with pytest.raises(ValueError, match="step_size must be a positive int"):
        StepLR(opt2, step_size=0)
    assert isinstance(MultiStepLR(opt2, [1]), optim.lr_scheduler.LRScheduler)
    assert isinstance(ExponentialLR(opt2, 0.5), optim.lr_scheduler.LRScheduler)


# ---------------------------------------------------------------------- with a module and real backprop
@pytest.mark.parametrize("name,kwargs", [("SGD", dict(lr=0.05, momentum=0.9, nesterov=True)),
                                         ("Adam", dict(lr=0.01, weight_decay=1e-3))])
def test_module_parameters_and_backprop_gradients_match_torch(name, kwargs):
    from tinygrad_mnist import interop, nn

    torch.manual_seed(0)
    theirs = torch.nn.Sequential(torch.nn.Linear(6, 8), torch.nn.Tanh(), torch.nn.Linear(8, 3)).double()
    ours = nn.Sequential(nn.Linear(6, 8), nn.Tanh(), nn.Linear(8, 3)).double()
    interop.load_torch_state_dict(ours, theirs)
    opt = getattr(optim, name)(ours.named_parameters(), **kwargs)  # a generator of (name, Parameter) pairs
    topt = getattr(torch.optim, name)(theirs.named_parameters(), foreach=False, **kwargs)
    rng = np.random.default_rng(0)
    for _ in range(8):
        x, y = rng.standard_normal((5, 6)), rng.standard_normal((5, 3))
        opt.zero_grad()
        topt.zero_grad()
        ((ours(tg.tensor(x)) - tg.tensor(y)) ** 2).mean().backward()
        ((theirs(torch.from_numpy(x)) - torch.from_numpy(y)) ** 2).mean().backward()
        opt.step()
        topt.step()
    for (k, a), (tk, b) in zip(ours.named_parameters(), theirs.named_parameters()):
        assert k == tk and rel_diff(arr(a), arr(b)) <= 1e-12, k
    assert opt.state_dict()["param_groups"][0]["param_names"] == topt.state_dict()["param_groups"][0]["param_names"]
