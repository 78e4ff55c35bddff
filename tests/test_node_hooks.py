"""Graph-node hooks (``y.grad_fn.register_hook`` / ``register_prehook``) against PyTorch.

A post-hook sees one gradient per input of the node (None for an input that needs none) and
may replace them; a result of the wrong length raises, as in PyTorch, instead of silently
dropping the gradients of the inputs it left out. Drawn over binary ops and over which inputs
require grad, both routes of the switch, with the graph reaching each input by a second path
too (so a lost gradient shows).
"""
import numpy as np
import pytest
import torch
from hypothesis import given, settings, strategies as st

import tinygrad_mnist as tg

OPS = {
    "mul": lambda lib, a, b: a * b,
    "add": lambda lib, a, b: a + b,
    "sub": lambda lib, a, b: a - b,
    "matmul": lambda lib, a, b: a @ b.T,
    "linear": lambda lib, a, b: lib.nn.functional.linear(a, b),
}


def _run(lib, op, arrays, needs, hook):
    """``op(a, b)`` plus a second use of both inputs, a post-hook on op's node, backward; the grads."""
    make = (lambda x, r: torch.tensor(x, requires_grad=r)) if lib is torch else \
        (lambda x, r: tg.tensor(x, requires_grad=r))
    a, b = (make(x, r) for x, r in zip(arrays, needs))
    y = OPS[op](lib, a, b)
    y.grad_fn.register_hook(hook)
    (y.sum() + (a * 2).sum() + (b * 3).sum()).backward()
    return [None if t.grad is None else np.asarray(t.grad.detach().numpy() if lib is torch else t.grad.numpy())
            for t in (a, b)]


def _arrays(draw_seed):
    rng = np.random.default_rng(draw_seed)
    return rng.standard_normal((3, 4)), rng.standard_normal((3, 4))


@settings(max_examples=30, deadline=None)
@given(op=st.sampled_from(sorted(OPS)), needs=st.sampled_from([(True, True), (True, False), (False, True)]),
       seed=st.integers(0, 2**16), fast=st.booleans(), scale=st.sampled_from([None, 0.0, 2.0]))
def test_post_hooks_see_and_replace_one_gradient_per_input(op, needs, seed, fast, scale):
    arrays = _arrays(seed)
    seen = {}

    def hook_for(name):
        def hook(grad_inputs, grad_outputs):
            seen[name] = [g is None for g in grad_inputs], len(grad_outputs)
            if scale is None:
                return None
            return tuple(None if g is None else g * scale for g in grad_inputs)
        return hook

    expected = _run(torch, op, arrays, needs, hook_for("torch"))
    with tg.fast.set_enabled(fast):
        got = _run(tg, op, arrays, needs, hook_for("tg"))
    assert seen["tg"] == seen["torch"]
    for g, e in zip(got, expected):
        assert (g is None) == (e is None)
        if e is not None:
            np.testing.assert_allclose(g, e, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("op", sorted(OPS))
@pytest.mark.parametrize("fast", [True, False])
def test_a_post_hook_returning_the_wrong_number_of_gradients_raises(op, fast):
    arrays = _arrays(0)

    def short(grad_inputs, grad_outputs):
        return grad_inputs[:1]

    with pytest.raises(RuntimeError, match="incorrect number of values"):
        _run(torch, op, arrays, (True, True), short)
    with tg.fast.set_enabled(fast), pytest.raises(RuntimeError, match=r"incorrect number of values \(got 1, but expected 2\)"):
        _run(tg, op, arrays, (True, True), short)


@pytest.mark.parametrize("fast", [True, False])
def test_linear_without_bias_gives_its_post_hook_two_gradients_as_torch(fast):
    seen = {}
    for lib in (torch, tg):
        x, w = lib.ones(2, 3, requires_grad=True), lib.ones(4, 3, requires_grad=True)
        with tg.fast.set_enabled(fast):
            y = lib.nn.functional.linear(x, w)
            y.grad_fn.register_hook(lambda gi, go, name=lib.__name__: seen.update({name: [g is None for g in gi]}))
            y.sum().backward()
    assert seen["tinygrad_mnist"] == seen["torch"] == [False, False]
