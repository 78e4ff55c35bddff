"""Custom Functions the PyTorch way (issue 14): the examples of PyTorch's "Extending torch.autograd"
page, written once and run on both libraries, compared with each other; then inside a model, with
hooks, anomaly detection, the trace and the graph views, and the ctx API's corners."""
import math

import numpy as np
import pytest
import torch
from hypothesis import given, strategies as st

import tinygrad_mnist as tg
from tinygrad_mnist.backend import to_numpy


def examples(lib):
    """The page's examples, for ``lib`` (torch or tinygrad_mnist): the same source for both."""
    Function = lib.autograd.Function

    class LinearFunction(Function):                      # ctx in forward (the original style)
        @staticmethod
        def forward(ctx, input, weight, bias=None):
            ctx.save_for_backward(input, weight, bias)
            output = input.mm(weight.t())
            if bias is not None:
                output += bias.unsqueeze(0).expand_as(output)
            return output

        @staticmethod
        def backward(ctx, grad_output):
            input, weight, bias = ctx.saved_tensors
            grad_input = grad_weight = grad_bias = None
            if ctx.needs_input_grad[0]:
                grad_input = grad_output.mm(weight)
            if ctx.needs_input_grad[1]:
                grad_weight = grad_output.t().mm(input)
            if bias is not None and ctx.needs_input_grad[2]:
                grad_bias = grad_output.sum(0)
            return grad_input, grad_weight, grad_bias

    class LinearSetup(Function):                         # forward without ctx, plus setup_context
        @staticmethod
        def forward(input, weight, bias):
            output = input.mm(weight.t())
            return output + bias.unsqueeze(0).expand_as(output)

        @staticmethod
        def setup_context(ctx, inputs, output):
            input, weight, bias = inputs
            ctx.save_for_backward(input, weight, bias)

        @staticmethod
        def backward(ctx, grad_output):
            input, weight, bias = ctx.saved_tensors
            return grad_output.mm(weight), grad_output.t().mm(input), grad_output.sum(0)

    class MulConstant(Function):                         # a non-tensor argument: its gradient is None
        @staticmethod
        def forward(ctx, tensor, constant):
            ctx.constant = constant
            return tensor * constant

        @staticmethod
        def backward(ctx, grad_output):
            return grad_output * ctx.constant, None

    class MyCube(Function):                              # two outputs, one of them saved
        @staticmethod
        def forward(x):
            result = x ** 3
            dx = 3 * x ** 2
            return result, dx

        @staticmethod
        def setup_context(ctx, inputs, output):
            x, = inputs
            result, dx = output
            ctx.save_for_backward(x, dx)

        @staticmethod
        def backward(ctx, grad_output, grad_dx):
            x, dx = ctx.saved_tensors
            return grad_output * dx + grad_dx * 6 * x     # Tensor ops: differentiable twice

    class Exp(Function):                                 # saves its own output
        @staticmethod
        def forward(ctx, i):
            result = i.exp()
            ctx.save_for_backward(result)
            return result

        @staticmethod
        def backward(ctx, grad_output):
            result, = ctx.saved_tensors
            return grad_output * result

    return dict(linear=LinearFunction, linear_setup=LinearSetup, mul_constant=MulConstant, cube=MyCube, exp=Exp)


OURS, THEIRS = examples(tg), examples(torch)


def run(lib, fns, name, arrays, second_order):
    x, w, b = (lib.tensor(a, requires_grad=True) for a in arrays)
    if name == "linear":
        out = fns[name].apply(x, w, b) + fns[name].apply(x, w)
    elif name == "linear_setup":
        out = fns[name].apply(x, w, b)
    elif name == "mul_constant":
        out = fns[name].apply(x, 2.5) * fns[name].apply(w.t(), -1.0).t().sum()
    elif name == "cube":
        result, dx = fns[name].apply(x)
        out = result * 2 + dx
    else:
        out = fns[name].apply(x.tanh()) * w.sum()
    inputs = [x, w, b]
    grads = lib.autograd.grad(out.sum(), inputs, create_graph=second_order, allow_unused=True)
    result = [out] + [g for g in grads]
    if second_order:
        terms = [(g * g).sum() for g in grads if g is not None and g.requires_grad]
        if terms:
            result += list(lib.autograd.grad(sum(terms), inputs, allow_unused=True))
    return result


@pytest.mark.parametrize("name", sorted(OURS))
@given(seed=st.integers(0, 1000), second_order=st.booleans())
def test_the_extending_pages_examples_port_by_changing_imports(name, seed, second_order):
    rng = np.random.default_rng(seed)
    arrays = [rng.standard_normal((3, 4)), rng.standard_normal((2, 4)), rng.standard_normal(2)]
    ours = run(tg, OURS, name, arrays, second_order)
    theirs = run(torch, THEIRS, name, arrays, second_order)
    assert len(ours) == len(theirs)
    for a, b in zip(ours, theirs):
        if b is None:
            assert a is None or not np.any(to_numpy(a.array))
            continue
        np.testing.assert_allclose(to_numpy(a.detach().array), b.detach().numpy(), rtol=1e-10, atol=1e-10)


def test_gradcheck_and_gradgradcheck_of_custom_functions():
    x = tg.randn(3, 4, dtype=tg.float64, requires_grad=True)
    w = tg.randn(2, 4, dtype=tg.float64, requires_grad=True)
    b = tg.randn(2, dtype=tg.float64, requires_grad=True)
    assert tg.gradcheck(OURS["linear"].apply, (x, w, b))
    assert tg.gradcheck(OURS["linear_setup"].apply, (x, w, b))
    assert tg.autograd.gradgradcheck(lambda t: OURS["cube"].apply(t)[0], (x,))
    assert tg.autograd.gradgradcheck(OURS["exp"].apply, (x,))


def test_a_custom_function_inside_a_model_trains_like_the_built_in_layer():
    class MyLinear(tg.nn.Module):
        def __init__(self, inp, out):
            super().__init__()
            self.weight = tg.nn.Parameter(tg.randn(out, inp) * 0.1)
            self.bias = tg.nn.Parameter(tg.zeros(out))

        def forward(self, x):
            return OURS["linear"].apply(x, self.weight, self.bias)

    tg.manual_seed(0)
    mine = tg.nn.Sequential(MyLinear(6, 5), tg.nn.ReLU(), MyLinear(5, 3))
    builtin = tg.nn.Sequential(tg.nn.Linear(6, 5), tg.nn.ReLU(), tg.nn.Linear(5, 3))
    builtin.load_state_dict(mine.state_dict())
    x, y = tg.randn(8, 6), tg.randint(0, 3, (8,))
    opts = [tg.optim.SGD(m.parameters(), lr=0.1) for m in (mine, builtin)]
    for _ in range(5):
        for model, opt in zip((mine, builtin), opts):
            opt.zero_grad()
            tg.nn.functional.cross_entropy(model(x), y).backward()
            opt.step()
    for a, b in zip(mine.parameters(), builtin.parameters()):
        np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-5, atol=1e-6)


def test_hooks_trace_graph_views_and_anomaly_detection_see_custom_functions():
    x = tg.randn(3, 4, requires_grad=True)
    out = OURS["exp"].apply(x)
    out.retain_grad()
    seen = []
    out.register_hook(lambda g: seen.append(g.shape))
    assert out.grad_fn.name() == "ExpBackward" and out.grad_fn.next_functions[0][0] is x._grad_node()
    assert "ExpBackward" in tg.viz.graph(out) and "ExpBackward" in tg.viz.to_dot(out)
    with tg.autograd.trace() as t:
        (out * 2).sum().backward()
    assert [s.op for s in t.steps] == ["SumBackward", "MulBackward", "ExpBackward"]
    assert seen == [(3, 4)] and out.grad is not None

    class Explodes(tg.autograd.Function):
        @staticmethod
        def forward(ctx, a):
            return a * 1

        @staticmethod
        def backward(ctx, g):
            return g * math.inf
    with tg.autograd.detect_anomaly():
        y = Explodes.apply(tg.ones(2, requires_grad=True))
        with pytest.raises(tg.autograd.AnomalyError, match=r"(?s)ExplodesBackward.*test_custom_function.py"):
            y.sum().backward()


def test_ctx_api_needs_input_grad_non_differentiable_outputs_and_materialized_grads():
    record = {}

    class Split(tg.autograd.Function):
        @staticmethod
        def forward(ctx, a, b, scale):
            record["needs"] = ctx.needs_input_grad
            idx = tg.tensor([0, 1])
            ctx.mark_non_differentiable(idx)
            ctx.scale = scale
            return a * scale, b * scale, idx

        @staticmethod
        def backward(ctx, ga, gb, gidx):
            record["grads"] = (ga, gb, gidx)
            return ga * ctx.scale, gb * ctx.scale, None

    a, b = tg.ones(2, requires_grad=True), tg.ones(2)
    p, q, idx = Split.apply(a, b, 3.0)
    assert record["needs"] == (True, False, False)
    assert p.grad_fn is q.grad_fn and not idx.requires_grad and idx.grad_fn is None
    p.sum().backward()                                          # q's gradient was never given
    np.testing.assert_array_equal(record["grads"][1].numpy(), [0.0, 0.0])   # materialized as zeros
    np.testing.assert_array_equal(a.grad.numpy(), [3.0, 3.0])

    class NoMaterialize(Split):
        @staticmethod
        def forward(ctx, a, b, scale):
            ctx.set_materialize_grads(False)
            return Split.forward(ctx, a, b, scale)

        @staticmethod
        def backward(ctx, ga, gb, gidx):
            record["unmaterialized"] = gb
            return ga, None, None

    p, q, _ = NoMaterialize.apply(a, tg.ones(2, requires_grad=True), 1.0)
    p.sum().backward()
    assert record["unmaterialized"] is None


def test_returning_an_input_gives_a_new_tensor_and_no_grad_inside_forward():
    class Identity(tg.autograd.Function):
        @staticmethod
        def forward(ctx, a):
            assert not tg.is_grad_enabled()
            return a

        @staticmethod
        def backward(ctx, g):
            return g * 2

    a = tg.ones(3, requires_grad=True)
    out = Identity.apply(a)
    assert out is not a and out.grad_fn.name() == "IdentityBackward"
    out.sum().backward()
    np.testing.assert_array_equal(a.grad.numpy(), [2.0, 2.0, 2.0])
