"""Learning-rate schedulers against real PyTorch: the rates over many steps, bit for bit.

Each case builds the same schedule in both libraries on an optimizer with two parameter groups
(lr 0.1 and 0.3) and compares ``get_last_lr()``, every group's ``lr`` (and the momentum or beta1
that OneCycleLR cycles) after every step, with ``==`` on the floats. Also: the warning for
``scheduler.step()`` before ``optimizer.step()``, ``state_dict`` round trips that continue
identically, the deprecated ``step(epoch)``, ReduceLROnPlateau on metric sequences drawn by
hypothesis, and classes of bad arguments.
"""
import math
import numbers
import warnings

import pytest
import torch
from hypothesis import given, strategies as st

import tinygrad_mnist as tg
from tinygrad_mnist import optim
from tinygrad_mnist.optim import lr_scheduler as ours_sched

STEPS = 60


def optimizers(name="SGD", **kwargs):
    kwargs = {"momentum": 0.9, **kwargs} if name == "SGD" else kwargs
    ours = getattr(optim, name)([{"params": [tg.zeros(2, requires_grad=True)]},
                                 {"params": [tg.zeros(2, requires_grad=True)], "lr": 0.3}], lr=0.1, **kwargs)
    theirs = getattr(torch.optim, name)([{"params": [torch.zeros(2, requires_grad=True)]},
                                         {"params": [torch.zeros(2, requires_grad=True)], "lr": 0.3}], lr=0.1, **kwargs)
    return ours, theirs


def momenta(opt):
    return [(g.get("momentum"), g.get("betas")) for g in opt.param_groups]


class _Counter:
    """A callable object with state: LambdaLR saves its attributes in state_dict."""

    def __init__(self):
        self.calls = 0

    def __call__(self, epoch):
        self.calls += 1
        return 1.0 / (1 + 0.1 * epoch)


CASES = {
    "LambdaLR": lambda m, o: m.LambdaLR(o, lambda e: 0.95 ** e),
    "LambdaLR-per-group": lambda m, o: m.LambdaLR(o, [lambda e: 1 / (e + 1), lambda e: 0.9 ** e]),
    "MultiplicativeLR": lambda m, o: m.MultiplicativeLR(o, lambda e: 0.97),
    "StepLR": lambda m, o: m.StepLR(o, step_size=7, gamma=0.3),
    "StepLR-grow": lambda m, o: m.StepLR(o, step_size=4, gamma=1.3),
    "MultiStepLR": lambda m, o: m.MultiStepLR(o, milestones=[3, 10, 10, 30], gamma=0.7),
    "ConstantLR": lambda m, o: m.ConstantLR(o),
    "ConstantLR-half": lambda m, o: m.ConstantLR(o, factor=0.5, total_iters=9),
    "LinearLR": lambda m, o: m.LinearLR(o, start_factor=0.25, total_iters=13),
    "LinearLR-down": lambda m, o: m.LinearLR(o, start_factor=1.0, end_factor=0.05, total_iters=40),
    "ExponentialLR": lambda m, o: m.ExponentialLR(o, gamma=0.93),
    "PolynomialLR": lambda m, o: m.PolynomialLR(o, total_iters=25, power=2.0),
    "CosineAnnealingLR": lambda m, o: m.CosineAnnealingLR(o, T_max=10),
    "CosineAnnealingLR-eta": lambda m, o: m.CosineAnnealingLR(o, T_max=17, eta_min=0.01),
    "CosineAnnealingWarmRestarts": lambda m, o: m.CosineAnnealingWarmRestarts(o, T_0=5),
    "CosineAnnealingWarmRestarts-mult": lambda m, o: m.CosineAnnealingWarmRestarts(o, T_0=3, T_mult=2, eta_min=1e-3),
    "SequentialLR": lambda m, o: m.SequentialLR(o, [m.LinearLR(o, start_factor=0.1, total_iters=5),
                                                    m.CosineAnnealingLR(o, T_max=30)], milestones=[5]),
    "SequentialLR-three": lambda m, o: m.SequentialLR(o, [m.ConstantLR(o, factor=0.2, total_iters=4),
                                                          m.ExponentialLR(o, gamma=0.9),
                                                          m.StepLR(o, step_size=5, gamma=0.5)], milestones=[4, 20]),
    "ChainedScheduler": lambda m, o: m.ChainedScheduler([m.ConstantLR(o, factor=0.5, total_iters=6),
                                                         m.ExponentialLR(o, gamma=0.95)]),
    "OneCycleLR": lambda m, o: m.OneCycleLR(o, max_lr=1.0, total_steps=STEPS),
    "OneCycleLR-linear-three": lambda m, o: m.OneCycleLR(o, max_lr=[0.5, 2.0], epochs=3, steps_per_epoch=20,
                                                         anneal_strategy="linear", three_phase=True, pct_start=0.25),
    "OneCycleLR-no-momentum": lambda m, o: m.OneCycleLR(o, max_lr=0.4, total_steps=STEPS + 5, cycle_momentum=False,
                                                        div_factor=10.0, final_div_factor=100.0),
}
ADAM_CASES = {  # beta1 instead of momentum
    "OneCycleLR-adam": lambda m, o: m.OneCycleLR(o, max_lr=0.01, total_steps=STEPS, base_momentum=0.8,
                                                 max_momentum=0.9),
    "CosineAnnealingLR-adam": lambda m, o: m.CosineAnnealingLR(o, T_max=STEPS),
}
ALL = [("SGD", k, v) for k, v in CASES.items()] + [("Adam", k, v) for k, v in ADAM_CASES.items()]


@pytest.mark.parametrize("opt_name,case,make", ALL, ids=[c for _, c, _ in ALL])
def test_rates_match_torch_bit_for_bit(opt_name, case, make):
    opt, topt = optimizers(opt_name)
    sched, tsched = make(ours_sched, opt), make(torch.optim.lr_scheduler, topt)
    assert sched.get_last_lr() == tsched.get_last_lr()
    for step in range(STEPS):
        opt.step()
        topt.step()
        sched.step()
        tsched.step()
        assert sched.get_last_lr() == tsched.get_last_lr(), f"step {step + 1}"
        assert [g["lr"] for g in opt.param_groups] == [g["lr"] for g in topt.param_groups]
        assert momenta(opt) == momenta(topt)
    assert getattr(sched, "last_epoch", None) == getattr(tsched, "last_epoch", None)


def test_two_schedulers_on_one_optimizer_compose_as_in_torch():
    opt, topt = optimizers()
    ours = [ours_sched.ExponentialLR(opt, 0.9), ours_sched.MultiStepLR(opt, [4, 9], 0.5)]
    theirs = [torch.optim.lr_scheduler.ExponentialLR(topt, 0.9),
              torch.optim.lr_scheduler.MultiStepLR(topt, [4, 9], 0.5)]
    for _ in range(15):
        opt.step()
        topt.step()
        for a, b in zip(ours, theirs):
            a.step()
            b.step()
        assert [g["lr"] for g in opt.param_groups] == [g["lr"] for g in topt.param_groups]


# ---------------------------------------------------------------------- warnings
def _warned(fn):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fn()
    return [str(w.message) for w in caught if issubclass(w.category, UserWarning)]


@pytest.mark.parametrize("case", ["StepLR", "LambdaLR", "SequentialLR", "OneCycleLR", "ChainedScheduler",
                                  "CosineAnnealingWarmRestarts"])
def test_step_before_optimizer_step_warns_as_torch_does(case):
    for order_ok in (False, True):
        opt, topt = optimizers()
        sched, tsched = CASES[case](ours_sched, opt), CASES[case](torch.optim.lr_scheduler, topt)
        if order_ok:
            opt.step()
            topt.step()
        ours, theirs = _warned(sched.step), _warned(tsched.step)
        assert [("before `optimizer.step()`" in w) for w in ours] == [("before `optimizer.step()`" in w)
                                                                      for w in theirs]
        assert bool(ours) == (not order_ok and case != "CosineAnnealingWarmRestarts")
        assert not _warned(sched.step)  # once only


def test_get_lr_outside_step_warns_and_step_epoch_is_deprecated_and_closed_form():
    opt, topt = optimizers()
    sched, tsched = ours_sched.StepLR(opt, 3, 0.5), torch.optim.lr_scheduler.StepLR(topt, 3, 0.5)
    assert any("get_last_lr()" in w for w in _warned(sched.get_lr))
    opt.step()
    topt.step()
    for epoch in (7, 2, 9):
        ours, theirs = _warned(lambda: sched.step(epoch)), _warned(lambda: tsched.step(epoch))
        assert any("epoch parameter" in w for w in ours) and any("epoch parameter" in w for w in theirs)
        assert sched.get_last_lr() == tsched.get_last_lr() and sched.last_epoch == tsched.last_epoch == epoch


# ---------------------------------------------------------------------- state_dict
@pytest.mark.parametrize("opt_name,case,make", ALL, ids=[c for _, c, _ in ALL])
def test_state_dict_resumes_identically(opt_name, case, make):
    opt, _ = optimizers(opt_name)
    sched = make(ours_sched, opt)
    split = 23
    for _ in range(split):
        opt.step()
        sched.step()
    saved_opt, saved_sched = opt.state_dict(), sched.state_dict()
    assert "optimizer" not in saved_sched
    opt2, _ = optimizers(opt_name)
    sched2 = make(ours_sched, opt2)
    opt2.load_state_dict(saved_opt)
    sched2.load_state_dict(saved_sched)
    for _ in range(STEPS - split):
        for o, s in ((opt, sched), (opt2, sched2)):
            o.step()
            s.step()
        assert sched2.get_last_lr() == sched.get_last_lr()
        assert [g["lr"] for g in opt2.param_groups] == [g["lr"] for g in opt.param_groups]


def test_lambda_state_dict_keeps_callable_objects_state_not_functions():
    opt, _ = optimizers()
    counter = _Counter()
    sched = ours_sched.LambdaLR(opt, [counter, lambda e: 1.0])
    for _ in range(4):
        opt.step()
        sched.step()
    state = sched.state_dict()
    assert state["lr_lambdas"] == [{"calls": 5}, None]
    fresh = _Counter()
    opt2, _ = optimizers()
    sched2 = ours_sched.LambdaLR(opt2, [fresh, lambda e: 1.0])
    sched2.load_state_dict(state)
    assert fresh.calls == 5 and sched2.last_epoch == 4


# ---------------------------------------------------------------------- ReduceLROnPlateau
@given(metrics=st.lists(st.sampled_from([1.0, 0.9, 0.5]) | st.floats(0.0, 2.0), min_size=1, max_size=40),
       mode=st.sampled_from(["min", "max"]), threshold_mode=st.sampled_from(["rel", "abs"]),
       factor=st.floats(0.05, 0.95), patience=st.integers(0, 4), cooldown=st.integers(0, 3),
       threshold=st.sampled_from([0.0, 1e-4, 0.05]), min_lr=st.sampled_from([0.0, 0.01, [0.0, 0.05]]),
       eps=st.sampled_from([1e-8, 1e-3]))
def test_reduce_on_plateau_matches_torch(metrics, mode, threshold_mode, factor, patience, cooldown, threshold,
                                         min_lr, eps):
    opt, topt = optimizers()
    kwargs = dict(mode=mode, factor=factor, patience=patience, threshold=threshold, threshold_mode=threshold_mode,
                  cooldown=cooldown, min_lr=min_lr, eps=eps)
    sched = ours_sched.ReduceLROnPlateau(opt, **kwargs)
    tsched = torch.optim.lr_scheduler.ReduceLROnPlateau(topt, **kwargs)
    for metric in metrics:
        opt.step()
        topt.step()
        sched.step(metric)
        tsched.step(metric)
        assert sched.get_last_lr() == tsched.get_last_lr()
        assert (sched.num_bad_epochs, sched.cooldown_counter, sched.best) == \
               (tsched.num_bad_epochs, tsched.cooldown_counter, tsched.best)
    state = sched.state_dict()
    opt2, _ = optimizers()
    sched2 = ours_sched.ReduceLROnPlateau(opt2, mode="max" if mode == "min" else "min")
    sched2.load_state_dict(state)
    assert sched2.mode == mode and sched2.best == sched.best and sched2._is_better(-1e9 if mode == "min" else 1e9,
                                                                                    sched2.best)


def test_reduce_on_plateau_accepts_a_tensor_metric():
    opt, _ = optimizers()
    sched = ours_sched.ReduceLROnPlateau(opt, patience=0)
    sched.step(tg.tensor(1.0))
    sched.step(tg.tensor(2.0))
    assert sched.get_last_lr() == [0.1 * 0.1, 0.3 * 0.1]


# ---------------------------------------------------------------------- bad arguments
def _not_a_number():
    return st.sampled_from(["0.1", None, [0.5], True, object()])


_non_finite = st.sampled_from([math.inf, -math.inf, math.nan])
BAD = {  # (factory taking the bad value, argument name, strategy of bad values)
    "StepLR.gamma": (lambda o, v: ours_sched.StepLR(o, 3, gamma=v), "gamma",
                     st.floats(max_value=0.0) | _non_finite | _not_a_number()),
    "StepLR.step_size": (lambda o, v: ours_sched.StepLR(o, v), "step_size",
                         st.integers(max_value=0) | st.floats(0.5, 5.5).filter(lambda x: x != int(x))
                         | st.sampled_from(["3", None, True])),
    "MultiStepLR.gamma": (lambda o, v: ours_sched.MultiStepLR(o, [2], gamma=v), "gamma",
                          st.floats(max_value=0.0) | _non_finite | _not_a_number()),
    "MultiStepLR.milestones": (lambda o, v: ours_sched.MultiStepLR(o, v), "milestone",
                               st.sampled_from([[1, -2], [1.5], ["3"], "35", 3, [None]])),
    "ExponentialLR.gamma": (lambda o, v: ours_sched.ExponentialLR(o, v), "gamma",
                            st.floats(max_value=0.0) | _non_finite | _not_a_number()),
    "ConstantLR.factor": (lambda o, v: ours_sched.ConstantLR(o, factor=v), "factor",
                          st.floats(max_value=0.0) | st.floats(min_value=1.0, exclude_min=True) | _non_finite),
    "ConstantLR.total_iters": (lambda o, v: ours_sched.ConstantLR(o, total_iters=v), "total_iters",
                               st.integers(max_value=-1) | st.sampled_from([2.5, "4"])),
    "LinearLR.start_factor": (lambda o, v: ours_sched.LinearLR(o, start_factor=v), "start_factor",
                              st.floats(max_value=0.0) | st.floats(min_value=1.0, exclude_min=True) | _non_finite),
    "LinearLR.end_factor": (lambda o, v: ours_sched.LinearLR(o, end_factor=v), "end_factor",
                            st.floats(max_value=0.0, exclude_max=True) | st.floats(min_value=1.0, exclude_min=True)),
    "LinearLR.total_iters": (lambda o, v: ours_sched.LinearLR(o, total_iters=v), "total_iters",
                             st.integers(max_value=0) | st.sampled_from([2.5, "4"])),
    "CosineAnnealingLR.T_max": (lambda o, v: ours_sched.CosineAnnealingLR(o, v), "T_max",
                                st.floats(max_value=0.0) | _non_finite | _not_a_number()),
    "CosineAnnealingLR.eta_min": (lambda o, v: ours_sched.CosineAnnealingLR(o, 10, eta_min=v), "eta_min",
                                  st.floats(max_value=0.0, exclude_max=True) | _non_finite | _not_a_number()),
    "CosineAnnealingWarmRestarts.T_0": (lambda o, v: ours_sched.CosineAnnealingWarmRestarts(o, v), "T_0",
                                        st.integers(max_value=0) | st.sampled_from([2.5, "4"])),
    "CosineAnnealingWarmRestarts.T_mult": (lambda o, v: ours_sched.CosineAnnealingWarmRestarts(o, 3, T_mult=v),
                                           "T_mult", st.integers(max_value=0) | st.sampled_from([1.5, "2"])),
    "OneCycleLR.max_lr": (lambda o, v: ours_sched.OneCycleLR(o, v, total_steps=10), "max_lr",
                          st.floats(max_value=0.0) | _non_finite | st.sampled_from(["1", None])),
    "OneCycleLR.total_steps": (lambda o, v: ours_sched.OneCycleLR(o, 1.0, total_steps=v), "total_steps",
                               st.integers(max_value=0) | st.sampled_from([2.5, "4"])),
    "OneCycleLR.pct_start": (lambda o, v: ours_sched.OneCycleLR(o, 1.0, total_steps=10, pct_start=v), "pct_start",
                             st.floats(max_value=0.0, exclude_max=True) | st.floats(min_value=1.0, exclude_min=True)
                             | st.sampled_from([math.nan, "0.3"])),
    "OneCycleLR.div_factor": (lambda o, v: ours_sched.OneCycleLR(o, 1.0, total_steps=10, div_factor=v), "div_factor",
                              st.floats(max_value=0.0) | _non_finite | _not_a_number()),
    "SequentialLR.milestones": (lambda o, v: ours_sched.SequentialLR(
        o, [ours_sched.ConstantLR(o), ours_sched.ConstantLR(o), ours_sched.ConstantLR(o)], v), "milestone",
        st.sampled_from([[5, 5], [6, 2], [0, 3], [2.5, 4], [1]])),
    "ReduceLROnPlateau.factor": (lambda o, v: ours_sched.ReduceLROnPlateau(o, factor=v), "factor",
                                 st.floats(max_value=0.0) | st.floats(min_value=1.0) | _non_finite | _not_a_number()),
    "ReduceLROnPlateau.patience": (lambda o, v: ours_sched.ReduceLROnPlateau(o, patience=v), "patience",
                                   st.integers(max_value=-1) | st.sampled_from([1.5, "3"])),
    "ReduceLROnPlateau.mode": (lambda o, v: ours_sched.ReduceLROnPlateau(o, mode=v), "mode",
                               st.sampled_from(["minimum", "MAX", ""])),
    "LambdaLR.lr_lambda": (lambda o, v: ours_sched.LambdaLR(o, v), "lr_lambda", st.sampled_from([0.5, [abs], None])),
}


@pytest.mark.parametrize("case", list(BAD))
@given(data=st.data())
def test_bad_scheduler_arguments_are_refused_with_a_message_naming_them(case, data):
    make, name, values = BAD[case]
    value = data.draw(values, label=name)
    opt, _ = optimizers()
    before = [dict(g) for g in opt.param_groups]
    with pytest.raises((TypeError, ValueError)) as info:
        make(opt, value)
    message = str(info.value)
    assert name in message or name.lower() in message.lower() or "expects number of schedulers" in message, message
    if isinstance(value, (numbers.Real, str)) and case != "LambdaLR.lr_lambda":  # and the value
        assert repr(value) in message or str(value) in message, message
    if not case.startswith(("OneCycleLR", "SequentialLR")):  # a refused scheduler changed nothing
        assert [dict(g) for g in opt.param_groups] == before


def test_step_lr_negative_gamma_is_refused_where_torch_goes_negative():
    _, topt = optimizers()
    tsched = torch.optim.lr_scheduler.StepLR(topt, 1, gamma=-1)
    topt.step()
    tsched.step()
    assert tsched.get_last_lr()[0] < 0  # PyTorch: a negative learning rate, silently
    opt, _ = optimizers()
    with pytest.raises(ValueError, match=r"StepLR: gamma must be a positive finite number, got -1"):
        ours_sched.StepLR(opt, 1, gamma=-1)
