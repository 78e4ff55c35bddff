"""The optimizers beyond SGD and Adam, and the fast routes of SGD and Adam, against real PyTorch.

Same trajectories as ``test_optim.py`` (two parameter groups, a parameter that sometimes has no
gradient, a StepLR schedule): AdamW, RMSprop, Adagrad, Adadelta, Adamax, NAdam and RAdam over
several configurations in float64 and float32 and over hyperparameters drawn by hypothesis.
PyTorch's CPU kernels fuse multiplies and adds, so "the same" is to the last bit or so (1e-12
relative in float64, 1e-6 in float32, as for SGD and Adam); our fast routes and our reference
rules do the same operations in the same order, so on the CPU they agree exactly.
"""
import numpy as np
import pytest
import torch
from hypothesis import given, strategies as st

import tinygrad_mnist as tg
from tinygrad_mnist import optim
from tinygrad_mnist.backend import to_numpy
from test_optim import (ADAM_OPTIONS, DTYPES, SGD_OPTIONS, TOL, _from_torch_osd, _id, _to_torch_osd, arr,
                        check_match, make_params, rel_diff, run_both, set_grads)

NEW_OPTIONS = {
    "AdamW": [dict(lr=0.01), dict(lr=0.01, weight_decay=0.3, amsgrad=True, maximize=True),
              dict(lr=0.05, betas=(0.3, 0.6), eps=1e-3, weight_decay=0)],
    "RMSprop": [dict(lr=0.01), dict(lr=0.01, centered=True, momentum=0.9, weight_decay=0.1),
                dict(lr=0.01, alpha=0.3, maximize=True, momentum=0.5), dict(lr=0.01, centered=True, maximize=True)],
    "Adagrad": [dict(lr=0.1), dict(lr=0.1, lr_decay=0.05, initial_accumulator_value=0.2, weight_decay=0.1,
                                   maximize=True), dict(lr=0.3, eps=1e-3)],
    "Adadelta": [dict(lr=1.0), dict(lr=0.5, rho=0.5, eps=1e-3, weight_decay=0.1, maximize=True)],
    "Adamax": [dict(lr=0.01), dict(lr=0.02, betas=(0.3, 0.6), weight_decay=0.1, maximize=True)],
    "NAdam": [dict(lr=0.01), dict(lr=0.01, momentum_decay=0.1, weight_decay=0.1, decoupled_weight_decay=True),
              dict(lr=0.01, weight_decay=0.1, maximize=True, betas=(0.3, 0.6))],
    "RAdam": [dict(lr=0.01), dict(lr=0.01, weight_decay=0.1, decoupled_weight_decay=True, betas=(0.5, 0.6)),
              dict(lr=0.01, weight_decay=0.1, maximize=True, betas=(0.5, 0.8))],  # rho_t > 5 from step 7 on
}
NEW_CASES = [(name, kwargs) for name, options in NEW_OPTIONS.items() for kwargs in options]


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("name,kwargs", NEW_CASES, ids=[f"{n}-{_id(k)}" for n, k in NEW_CASES])
def test_trajectory_matches_torch(name, kwargs, dtype, device):
    check_match(name, *run_both(name, kwargs, dtype, device, steps=25), dtype)


_unit = st.floats(0.0, 0.999)
_decay = st.sampled_from([0.0]) | st.floats(0.0, 0.5)
_lr = st.floats(1e-4, 0.3)
STRATEGIES = {  # hyperparameters drawn for each optimizer (flags included)
    "AdamW": st.fixed_dictionaries(dict(lr=_lr, betas=st.tuples(_unit, st.floats(0.0, 0.9999)),
                                        eps=st.floats(1e-10, 0.1),
                                        weight_decay=_decay, amsgrad=st.booleans(), maximize=st.booleans())),
    # alpha=0 with centered: v - m * m is g*g - g*g, which torch's fused multiply-add rounds to a
    # tiny negative number half the time (sqrt: NaN); ours gives 0
    "RMSprop": st.fixed_dictionaries(dict(lr=_lr, alpha=st.floats(0.01, 1.0), eps=st.floats(1e-8, 0.1),
                                          weight_decay=_decay, momentum=st.sampled_from([0.0]) | _unit,
                                          centered=st.booleans(), maximize=st.booleans())),
    "Adagrad": st.fixed_dictionaries(dict(lr=_lr, lr_decay=st.floats(0.0, 1.0), weight_decay=_decay,
                                          initial_accumulator_value=st.floats(0.0, 1.0), eps=st.floats(1e-10, 0.1),
                                          maximize=st.booleans())),
    "Adadelta": st.fixed_dictionaries(dict(lr=st.floats(1e-3, 2.0), rho=st.floats(0.0, 1.0), eps=st.floats(1e-8, 0.1),
                                           weight_decay=_decay, maximize=st.booleans())),
    "Adamax": st.fixed_dictionaries(dict(lr=_lr, betas=st.tuples(_unit, _unit), eps=st.floats(1e-8, 0.1),
                                         weight_decay=_decay, maximize=st.booleans())),
    "NAdam": st.fixed_dictionaries(dict(lr=_lr, betas=st.tuples(_unit, _unit), eps=st.floats(1e-8, 0.1),
                                        weight_decay=_decay, momentum_decay=st.floats(0.0, 0.5),
                                        decoupled_weight_decay=st.booleans(), maximize=st.booleans())),
    "RAdam": st.fixed_dictionaries(dict(lr=_lr, betas=st.tuples(_unit, _unit), eps=st.floats(1e-8, 0.1),
                                        weight_decay=_decay, decoupled_weight_decay=st.booleans(),
                                        maximize=st.booleans())),
}


@pytest.mark.parametrize("name", list(STRATEGIES))
@given(data=st.data(), seed=st.integers(0, 2**16))
def test_random_hyperparameters_match_torch(name, data, seed):
    kwargs = data.draw(STRATEGIES[name], label="kwargs")
    check_match(name, *run_both(name, kwargs, np.float64, "cpu", steps=12, seed=seed), np.float64)


# ---------------------------------------------------------------------- fast routes == reference
FAST_CASES = ([("SGD", k) for k in SGD_OPTIONS] + [("Adam", k) for k in ADAM_OPTIONS]
              + [("AdamW", k) for k in NEW_OPTIONS["AdamW"]])


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("name,kwargs", FAST_CASES, ids=[f"{n}-{_id(k)}" for n, k in FAST_CASES])
def test_fast_route_equals_the_reference_and_both_match_torch(name, kwargs, dtype, device):
    """The switch both ways: the same parameters and state, exactly on the CPU; both as close to torch."""
    runs = {}
    for enabled in (True, False):
        with tg.fast.set_enabled(enabled):
            runs[enabled] = run_both(name, kwargs, dtype, device)
            check_match(name, *runs[enabled], dtype)
    (fast_opt, _, fast_params, _), (ref_opt, _, ref_params, _) = runs[True], runs[False]
    # the CUDA Adam kernel may fuse a multiply-add: there the two agree to rounding only
    exact = device == "cpu" or name == "SGD"
    for a, b in zip(fast_params, ref_params):
        pairs = [(a, b)] + [(fast_opt.state[a][k], ref_opt.state[b][k]) for k in ref_opt.state.get(b, {})]
        assert set(fast_opt.state.get(a, {})) == set(ref_opt.state.get(b, {}))
        for x, y in pairs:
            if exact:
                np.testing.assert_array_equal(arr(x), arr(y))
            else:
                assert rel_diff(arr(x), arr(y)) <= TOL[dtype]


def test_the_switch_is_read_at_each_step():
    """Turning the fast routes off mid-run changes nothing but the route."""
    ours, _ = make_params(np.float64, "cpu")
    ref, _ = make_params(np.float64, "cpu")
    opt, opt_ref = optim.Adam(ours, lr=0.01, amsgrad=True), optim.Adam(ref, lr=0.01, amsgrad=True)
    rng = np.random.default_rng(0)
    for step in range(6):
        grads = [rng.standard_normal(p.shape) for p in ours]
        for a, b, g in zip(ours, ref, grads):
            a.grad, b.grad = tg.tensor(g), tg.tensor(g)
        with tg.fast.set_enabled(step % 2 == 0):
            opt.step()
        with tg.fast.set_enabled(False):
            opt_ref.step()
    for a, b in zip(ours, ref):
        np.testing.assert_array_equal(to_numpy(a.array), to_numpy(b.array))


# ---------------------------------------------------------------------- state_dict, options, registry
ALL_NAMES = list(optim.OPTIMIZERS)


@pytest.mark.parametrize("name", ALL_NAMES)
def test_state_dict_is_interchangeable_with_torch(name):
    """Each engine continues from the other's saved state: the same layout, keys and meaning."""
    kwargs = {"lr": 0.01, **({"momentum": 0.9} if name in ("SGD", "RMSprop") else {})}
    our_cls, torch_cls = optim.OPTIMIZERS[name], getattr(torch.optim, name)
    ours, theirs = make_params(np.float64, "cpu")
    opt, topt = our_cls(ours, **kwargs), torch_cls(theirs, foreach=False, **kwargs)
    rng = np.random.default_rng(3)
    for step in range(5):
        set_grads(ours, theirs, rng, step, np.float64, "cpu")
        opt.step()
        topt.step()
    assert opt.state_dict()["param_groups"][0].keys() == topt.state_dict()["param_groups"][0].keys()
    ours2, theirs2 = make_params(np.float64, "cpu")
    for a, b, src_a, src_b in zip(ours2, theirs2, ours, theirs):
        a.array[...] = src_b.detach().numpy()
        with torch.no_grad():
            b.copy_(torch.from_numpy(to_numpy(src_a.array)))
    opt2, topt2 = our_cls(ours2, lr=1.0), torch_cls(theirs2, lr=1.0, foreach=False)
    opt2.load_state_dict(_from_torch_osd(topt.state_dict()))
    topt2.load_state_dict(_to_torch_osd(opt.state_dict()))
    for p, tp in zip(ours2, theirs2):  # the scalars: on the host, in torch's dtypes after its load
        for key in opt2._host_scalars:
            if key in opt2.state[p]:
                assert opt2.state[p][key].device.type == "cpu"
                assert str(opt2.state[p][key].array.dtype) == str(topt2.state[tp][key].dtype).split(".")[1]
    for step in range(5, 10):
        set_grads(ours2, theirs2, rng, step, np.float64, "cpu")
        opt2.step()
        topt2.step()
    for a, b in zip(ours2, theirs2):
        assert rel_diff(arr(a), arr(b)) <= 1e-12


@pytest.mark.parametrize("name", ALL_NAMES)
def test_speed_options_are_accepted_and_change_nothing(name):
    cls, torch_cls = optim.OPTIMIZERS[name], getattr(torch.optim, name)
    options = ("foreach", "fused", "capturable", "differentiable")
    accepted = [k for k in options if k in cls([tg.zeros(1, requires_grad=True)]).defaults]
    assert accepted == [k for k in options if k in torch_cls([torch.zeros(1, requires_grad=True)]).defaults]
    plain, _ = make_params(np.float64, "cpu")
    optioned, _ = make_params(np.float64, "cpu")
    opt = cls(plain, lr=0.01)
    opt2 = cls(optioned, lr=0.01, **{k: True for k in accepted if k in ("foreach", "capturable")})
    for _ in range(3):
        for p, q in zip(plain, optioned):
            p.grad, q.grad = tg.ones_like(p), tg.ones_like(q)
        opt.step()
        opt2.step()
    for p, q in zip(plain, optioned):
        np.testing.assert_array_equal(arr(p), arr(q))
    with pytest.raises(NotImplementedError, match="differentiable=True is not supported"):
        cls(plain, lr=0.01, differentiable=True)
    if "fused" in accepted:
        for make in (lambda: cls(plain, lr=0.01, fused=True, foreach=True),
                     lambda: torch_cls([torch.zeros(1, requires_grad=True)], lr=0.01, fused=True, foreach=True)):
            with pytest.raises(RuntimeError, match="`fused` and `foreach` cannot be `True` together."):
                make()


@pytest.mark.parametrize("name", ALL_NAMES)
def test_defaults_match_torch(name):
    ours = optim.OPTIMIZERS[name]([tg.zeros(1, requires_grad=True)]).defaults
    theirs = getattr(torch.optim, name)([torch.zeros(1, requires_grad=True)]).defaults
    assert ours == theirs


def test_adagrad_state_exists_before_the_first_step():
    p = tg.zeros(3, requires_grad=True)
    opt = optim.Adagrad([p], initial_accumulator_value=0.5)
    state = opt.state_dict()["state"][0]
    assert float(state["step"].array) == 0.0 and np.all(to_numpy(state["sum"].array) == 0.5)


def test_step_counts_as_an_in_place_change_of_each_updated_parameter():
    if not hasattr(tg.Tensor, "_bump_version"):
        pytest.skip("this engine has no version counters yet")
    ours, _ = make_params(np.float64, "cpu")
    for name in ALL_NAMES:
        opt = optim.OPTIMIZERS[name](ours, lr=0.01)
        for p in ours[:3]:
            p.grad = tg.ones_like(p)
        ours[3].grad = None
        before = [p._version for p in ours]
        opt.step()
        assert [p._version for p in ours] == [v + 1 for v in before[:3]] + [before[3]], name


def test_registry_is_the_one_list_of_names():
    from tinygrad_mnist import cli, specs

    assert list(optim.OPTIMIZERS) == ["SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "Adadelta", "Adamax", "NAdam",
                                      "RAdam"]
    assert all(issubclass(c, optim.Optimizer) and hasattr(torch.optim, n) for n, c in optim.OPTIMIZERS.items())
    assert specs.OPTIMIZERS == tuple(optim.OPTIMIZERS)
    assert optim.canonical_name("adamw") == "AdamW" and optim.canonical_name("SGD") == "SGD"
    with pytest.raises(ValueError, match="unknown optimizer 'adamz': choose one of SGD, Adam, AdamW"):
        optim.canonical_name("adamz")
    for name in ("rmsprop", "NAdam"):
        assert cli.build_parser().parse_args(["train", "--model", "mlp", "--optimizer", name]).optimizer == name
