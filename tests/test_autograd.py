"""Autograd semantics as in PyTorch: accumulation, retain_graph, reuse, deep graphs, inspection."""
import re

import numpy as np
import pytest
import torch
from hypothesis import given, strategies as st

import tinygrad_mnist as tg
from tinygrad_mnist.autograd import Function, GradcheckError
from tinygrad_mnist.testing import assert_matches_torch
from tinygrad_mnist.testing.strategies import arrays, shapes


def test_leaf_gradients_accumulate_across_backward_calls():
    x = tg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    (x * x).sum().backward()
    (x * x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 4 * np.array([1.0, 2.0, 3.0]))


def test_tensor_used_several_times_gets_the_sum_of_its_paths():
    x = tg.tensor(3.0, requires_grad=True)
    y = x * x + x * 2 + x  # d/dx = 2x + 3
    y.backward()
    assert x.grad.item() == 9.0


def test_non_scalar_backward_needs_a_gradient():
    x = tg.randn(2, 3, requires_grad=True)
    y = x * 2
    with pytest.raises(RuntimeError, match="only for scalar outputs"):
        y.backward()
    y.backward(tg.ones(2, 3))
    np.testing.assert_allclose(x.grad.numpy(), np.full((2, 3), 2.0))
    with pytest.raises(RuntimeError, match=r"has a shape of \(3,\) and output\[0\] has a shape of \(2, 3\)"):
        (x * 2).backward(tg.ones(3))


def test_second_backward_through_freed_graph_raises_unless_retained():
    x = tg.randn(4, requires_grad=True)
    y = x.exp().sum()
    y.backward()
    with pytest.raises(RuntimeError, match="backward through the graph a second time.*ExpBackward.*retain_graph=True"):
        y.backward()
    z = x.exp().sum()
    x.grad = None
    z.backward(retain_graph=True)
    z.backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * np.exp(x.detach().numpy()), rtol=1e-6)


def test_graph_without_saved_tensors_can_be_walked_twice_like_torch():
    x = tg.ones(3, requires_grad=True)
    y = (x + 1).sum()
    y.backward()
    y.backward()  # torch allows this too: nothing was saved, nothing freed
    np.testing.assert_array_equal(x.grad.numpy(), [2.0, 2.0, 2.0])


def test_backward_on_tensor_without_grad_raises():
    with pytest.raises(RuntimeError, match="does not require grad"):
        tg.ones(1).backward()


def test_chain_of_10000_ops_backpropagates_without_recursion_error():
    x = tg.tensor(1.0, dtype=tg.float64, requires_grad=True)
    y = x
    for _ in range(10_000):
        y = y * 1.0001
    y.backward()
    assert x.grad.item() == pytest.approx(1.0001 ** 10_000, rel=1e-9)


def test_no_grad_as_context_manager_and_decorator():
    x = tg.ones(2, requires_grad=True)
    with tg.no_grad():
        y = x * 2
    assert not y.requires_grad and y.grad_fn is None and tg.is_grad_enabled()

    @tg.no_grad()
    def f(t):
        assert not tg.is_grad_enabled()
        return t * 3

    assert not f(x).requires_grad
    assert tg.is_grad_enabled()
    with tg.no_grad():
        with tg.enable_grad():
            assert (x * 2).requires_grad


def test_leaf_flags_detach_and_data():
    x = tg.ones(3, requires_grad=True)
    y = x * 2
    assert x.is_leaf and not y.is_leaf and y.requires_grad
    d = y.detach()
    assert d.is_leaf and not d.requires_grad and d.grad_fn is None
    x.data -= 0.5 * tg.ones(3)  # the classic manual update
    np.testing.assert_array_equal(x.detach().numpy(), [0.5, 0.5, 0.5])
    with pytest.raises(RuntimeError, match="in-place"):
        x.sub_(1.0)
    with tg.no_grad():
        x.sub_(0.5)
    np.testing.assert_array_equal(x.detach().numpy(), [0.0, 0.0, 0.0])
    with pytest.raises(RuntimeError, match="floating point"):
        tg.tensor([1, 2]).requires_grad_()
    with pytest.raises(RuntimeError, match="leaf"):
        y.requires_grad_(False)


def _names(fn):
    """The graph below ``fn`` as nested (name, children) tuples, PyTorch's trailing digits removed."""
    if fn is None:
        return None
    name = fn.name() if isinstance(fn, tg.autograd.Node) else type(fn).__name__  # ours vs torch's nodes
    return (re.sub(r"\d+$", "", name), tuple(_names(n) for n, _ in fn.next_functions))


def test_grad_fn_names_and_next_functions_like_torch():
    x, w = tg.randn(2, 3, requires_grad=True), tg.randn(3, 4, requires_grad=True)
    tx, tw = torch.randn(2, 3, requires_grad=True), torch.randn(3, 4, requires_grad=True)
    ours = ((x @ w).relu() * 2).sum()
    ref = ((tx @ tw).relu() * 2).sum()
    assert ours.grad_fn.name() == "SumBackward"
    leaf = ours.grad_fn.next_functions[0][0].next_functions[0][0].next_functions[0][0].next_functions[0][0]
    assert leaf.name() == "AccumulateGrad" and leaf.variable is x
    ours_tree = _names(ours.grad_fn)
    ref_tree = _names(ref.grad_fn)
    # torch calls matmul "MmBackward" and relu "ReluBackward"; the shape of the graph is the same
    rename = {"MatmulBackward": "MmBackward", "ReLUBackward": "ReluBackward"}

    def canon(tree):
        if tree is None:
            return None
        return (rename.get(tree[0], tree[0]), tuple(canon(c) for c in tree[1]))

    assert canon(ours_tree) == ref_tree


def test_next_functions_has_none_for_inputs_without_grad():
    x = tg.ones(2, requires_grad=True)
    y = x * tg.ones(2)
    (first, _), (second, _) = y.grad_fn.next_functions
    assert first.name() == "AccumulateGrad" and second is None


def test_promotion_matches_torch():
    cases = [(np.float32, np.float64), (np.float64, np.float32), (np.int64, np.float32), (np.int64, np.int64),
             (np.bool_, np.int64), (np.uint8, np.int64)]
    for da, db in cases:
        for shape_a, shape_b in [((2,), (2,)), ((), (2,)), ((2,), ())]:
            a = np.ones(shape_a, da)
            b = np.ones(shape_b, db)
            ours = (tg.tensor(a) + tg.tensor(b)).dtype.name
            ref = str((torch.tensor(a) + torch.tensor(b)).dtype).replace("torch.", "")
            assert ours == ref, (da, db, shape_a, shape_b)
    for value in (2, 2.5, True):
        for dt in (np.float32, np.int64, np.bool_):
            ours = (tg.tensor(np.ones(2, dt)) * value).dtype.name
            ref = str((torch.tensor(np.ones(2, dt)) * value).dtype).replace("torch.", "")
            assert ours == ref, (value, dt)
    assert (tg.tensor([1, 2]) / 2).dtype == tg.float32


def test_shape_mismatch_names_the_op_and_both_shapes():
    with pytest.raises(RuntimeError, match=r"add.*\(2, 3\).*\(4,\)"):
        tg.ones(2, 3) + tg.ones(4)
    with pytest.raises(RuntimeError, match=r"mul.*\(2, 3\).*\(3, 2\)"):
        tg.ones(2, 3) * tg.ones(3, 2)
    with pytest.raises(RuntimeError, match=r"matmul.*\(2, 3\).*\(4, 5\)"):
        tg.ones(2, 3) @ tg.ones(4, 5)
    with pytest.raises(RuntimeError, match=r"expand.*\(3, 4\)"):
        tg.ones(3, 2).expand(3, 4)
    with pytest.raises(RuntimeError, match=r"cat.*\(2, 3\).*\(2, 4\)"):
        tg.cat([tg.ones(2, 3), tg.ones(2, 4)], dim=0)
    with pytest.raises(IndexError, match="out of range"):
        tg.ones(2, 3).sum(dim=2)


def test_dtype_mix_that_torch_refuses_raises():
    with pytest.raises(RuntimeError):
        torch.ones(2, 3) @ torch.ones(3, 2, dtype=torch.float64)
    with pytest.raises(RuntimeError, match="same dtype.*float32.*float64"):
        tg.ones(2, 3) @ tg.ones(3, 2, dtype=tg.float64)


def test_cuda_request_without_gpu_is_a_clear_error():
    if tg.cuda.is_available():
        pytest.skip("a GPU is present; the error path is for machines without one")
    with pytest.raises(RuntimeError, match="cuda.*(CuPy|GPU|driver)"):
        tg.zeros(2, device="cuda")
    with pytest.raises(RuntimeError, match="cuda"):
        tg.ones(2).cuda()


def test_device_api_on_cpu():
    t = tg.tensor([[1.5, 2.0]])
    assert t.device == "cpu" and str(t.device) == "cpu" and repr(t.device) == "device(type='cpu')"
    assert t.to("cpu") is t and t.cpu() is t
    assert isinstance(t.numpy(), np.ndarray) and t[0, 1].item() == 2.0
    assert t.to(tg.float64).dtype == tg.float64 and t.dtype == tg.float32
    with pytest.raises(ValueError, match="unknown device"):
        t.to("tpu")
    with pytest.raises(RuntimeError, match="detach"):
        tg.ones(1, requires_grad=True).numpy()


def test_mixing_devices_raises(device):
    if device != "cuda":
        pytest.skip("needs a GPU to have two devices")
    with pytest.raises(RuntimeError, match="same device"):
        tg.ones(2, device="cuda") + tg.ones(2)


# ---------------------------------------------------------------- gradcheck
def test_gradcheck_accepts_correct_gradients():
    tg.manual_seed(0)
    a = tg.randn(3, 4, dtype=tg.float64, requires_grad=True)
    b = tg.randn(4, 2, dtype=tg.float64, requires_grad=True)
    assert tg.gradcheck(lambda x, y: (x @ y).tanh().log_softmax(1), (a, b))
    assert tg.gradcheck(lambda x: (x.sigmoid() * x.exp()).sum(0) / 3.0, (a,))
    assert tg.gradcheck(lambda x: tg.pad(x, (1, 2)).max(1).values, (a,))
    assert tg.gradcheck(lambda x: x[[0, 0, 2], 1:3] ** 2, (a,))


class _WrongExp(Function):
    """exp with a deliberately wrong derivative (2 exp instead of exp)."""

    @staticmethod
    def forward(ctx, a):
        out = a.exp()
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, g):
        (out,) = ctx.saved_tensors
        return 2 * g * out


def test_gradcheck_catches_a_wrong_gradient():
    x = tg.randn(3, dtype=tg.float64, requires_grad=True)
    with pytest.raises(GradcheckError, match="Jacobian mismatch"):
        tg.gradcheck(lambda t: _WrongExp.apply(t), (x,))
    assert tg.gradcheck(lambda t: _WrongExp.apply(t), (x,), raise_exception=False) is False
    with pytest.raises(GradcheckError, match="float64"):
        tg.gradcheck(lambda t: t.exp(), (tg.randn(2, requires_grad=True),))


@given(data=st.data())
def test_gradcheck_on_random_inputs(data):
    x = data.draw(arrays(shapes(min_dims=1, max_dims=2, max_side=3), np.float64, 0.5, 3))
    t = tg.tensor(x, requires_grad=True)
    assert tg.gradcheck(lambda v: (v.sqrt() * v.log() + v.abs()).softmax(-1), (t,))


# ---------------------------------------------------------------- random composite graphs
_STEPS = {
    "add": (lambda h, x: h + x, lambda h, x: h + x),
    "mul": (lambda h, x: h * x, lambda h, x: h * x),
    "tanh": (lambda h, x: h.tanh(), lambda h, x: h.tanh()),
    "sigmoid": (lambda h, x: h.sigmoid() * x, lambda h, x: h.sigmoid() * x),
    "relu": (lambda h, x: h.relu() + x, lambda h, x: h.relu() + x),
    "exp": (lambda h, x: (h * 0.1).exp(), lambda h, x: (h * 0.1).exp()),
    "div": (lambda h, x: h / (x * x + 1), lambda h, x: h / (x * x + 1)),
    "sum_keep": (lambda h, x: h.sum(-1, keepdim=True) * x, lambda h, x: h.sum(-1, keepdim=True) * x),
    "softmax": (lambda h, x: h.softmax(-1), lambda h, x: h.softmax(-1)),
    "matmul": (lambda h, x: h @ x.T @ x * 0.1, lambda h, x: h @ x.T @ x * 0.1),
    "max_dim": (lambda h, x: h.max(-1, keepdim=True).values + x, lambda h, x: h.max(-1, keepdim=True).values + x),
}


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["float64", "float32"])
@given(data=st.data())
def test_random_composite_graphs_reusing_the_input(dtype, data, device):
    """A chain of random ops where every step uses the original input again (reuse)."""
    steps = data.draw(st.lists(st.sampled_from(sorted(_STEPS)), min_size=2, max_size=6))
    x = data.draw(arrays(st.tuples(st.integers(1, 3), st.integers(1, 4)), dtype, -2, 2))

    def run(engine):
        def f(t):
            h = t
            for s in steps:
                h = _STEPS[s][engine](h, t)
            return h
        return f

    assert_matches_torch(run(0), run(1), x, dtype=dtype, device=device)
