"""Gradients of gradients (issue 16), against torch in float64 (1e-9).

create_graph semantics (retain_graph's default, leaf .grad with a grad_fn), autograd.grad's
arguments, tg.autograd.functional, gradgradcheck, and the four things a learner does with second
derivatives: a Hessian-vector product of a tutorial CNN's loss in its parameters, the Hessian of
a small MLP's loss, training with a gradient penalty on the input, and a meta-learning step.
Every op's second derivative is also compared with torch's by ``assert_matches_torch`` in the op
tests (on by default), on both routes.
"""
import numpy as np
import pytest
import torch
import torch.nn.functional as TF
from hypothesis import given, strategies as st

import tinygrad_mnist as tg
import tinygrad_mnist.nn.functional as F
from reference import models as torch_models
from tinygrad_mnist import interop, models
from tinygrad_mnist.backend import to_numpy

TOL = 1e-9


def close(ours, theirs, tol=TOL):
    a = to_numpy(ours.detach().array) if isinstance(ours, tg.Tensor) else np.asarray(ours)
    b = theirs.detach().numpy()
    scale = max(1.0, float(np.abs(b).max()) if b.size else 1.0)
    assert a.shape == b.shape, (a.shape, b.shape)
    assert np.allclose(a, b, rtol=tol, atol=tol * scale, equal_nan=True), float(np.abs(a - b).max())


def twins(name, seed=0):
    """The tutorial model in both engines, the same float64 weights."""
    ours = models.build_model(name, seed=seed).double()
    theirs = torch_models.build_model(name).double()
    interop.copy_to_torch(ours, theirs)
    return ours, theirs


def batch(name, n=4, seed=1):
    from tinygrad_mnist.specs import get_spec
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n,) + get_spec(name).input_shape), rng.integers(0, 10, n)


# ---------------------------------------------------------------- create_graph semantics
def test_backward_with_create_graph_gives_leaf_grads_a_graph_and_retains_it():
    x = tg.tensor([1.0, 2.0, 3.0], dtype=tg.float64, requires_grad=True)
    y = (x ** 3).sum()
    y.backward(create_graph=True)                       # retain_graph defaults to create_graph
    assert x.grad.grad_fn is not None and x.grad.requires_grad
    g = x.grad
    x.grad = None
    g.sum().backward()                                   # d/dx sum(3x^2) = 6x
    np.testing.assert_allclose(x.grad.numpy(), [6.0, 12.0, 18.0])
    y.backward()                                         # the first graph was retained


def test_grad_of_grad_and_its_arguments_match_torch():
    a = np.array([0.5, -1.5, 2.0])
    x, xt = tg.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    (g,) = tg.autograd.grad((x.tanh() * x).sum(), x, create_graph=True)
    (gt,) = torch.autograd.grad((xt.tanh() * xt).sum(), xt, create_graph=True)
    close(g, gt)
    (h,) = tg.autograd.grad(g, x, grad_outputs=tg.ones_like(g))
    (ht,) = torch.autograd.grad(gt, xt, grad_outputs=torch.ones_like(gt))
    close(h, ht)
    unused = tg.tensor([1.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="allow_unused"):
        tg.autograd.grad((x * 2).sum(), [x, unused])
    got = tg.autograd.grad((x * 2).sum(), [x, unused], allow_unused=True)
    assert got[1] is None
    got = tg.autograd.grad((x * 2).sum(), [x, unused], materialize_grads=True)
    np.testing.assert_array_equal(got[1].numpy(), [0.0])


def test_backward_inputs_accumulates_only_into_those():
    a, b = tg.tensor([1.0, 2.0], requires_grad=True), tg.tensor([3.0, 4.0], requires_grad=True)
    (a * b).sum().backward(inputs=[a])
    assert b.grad is None
    np.testing.assert_array_equal(a.grad.numpy(), [3.0, 4.0])


@pytest.mark.parametrize("fn", [
    lambda x: (x * x * x).sum(-1),
    lambda x: x.tanh().exp(),
    lambda x: x.softmax(-1),
    lambda x: x.log_softmax(-1) * x,
    lambda x: F.conv2d(x.reshape(1, 1, 3, 4), x.reshape(1, 1, 3, 4)[:, :, :2, :2] * 1.0),
    lambda x: F.max_pool2d((x * x).reshape(1, 1, 3, 4), 2),
    lambda x: F.avg_pool2d((x * x).reshape(1, 1, 3, 4), 2, stride=1),
    lambda x: F.cross_entropy(x * x, tg.tensor([0, 3, 1])),
    lambda x: (x @ x.mT).sigmoid(),
    lambda x: x.std(0) * x.var(1, keepdim=True),
], ids=["cube", "tanh-exp", "softmax", "log_softmax", "conv2d", "max_pool2d", "avg_pool2d", "cross_entropy",
        "matmul-sigmoid", "std-var"])
@pytest.mark.parametrize("fast", [True, False], ids=["fast", "reference"])
def test_gradgradcheck_of_ops(fn, fast):
    x = tg.tensor(np.random.default_rng(0).standard_normal((3, 4)) * 0.7 + 0.1, requires_grad=True)
    with tg.fast.set_enabled(fast):
        assert tg.autograd.gradgradcheck(fn, (x,))


# ---------------------------------------------------------------- tg.autograd.functional
def _f(x, y):
    return (x * y.exp()).sum(-1) + (x ** 2).sum() * y[0]


INPUTS = (np.array([[0.3, -1.2, 0.7], [1.1, 0.4, -0.5]]), np.array([0.2, -0.4, 0.9]))


@pytest.mark.parametrize("create_graph", [False, True])
def test_functional_vjp_jvp_jacobian_match_torch(create_graph):
    ours = tuple(tg.tensor(a) for a in INPUTS)
    theirs = tuple(torch.tensor(a) for a in INPUTS)
    v = np.array([0.5, -2.0])
    out, got = tg.autograd.functional.vjp(_f, ours, tg.tensor(v), create_graph=create_graph)
    out_t, want = torch.autograd.functional.vjp(_f, theirs, torch.tensor(v), create_graph=create_graph)
    close(out, out_t)
    for g, w in zip(got, want):
        close(g, w)
    u = tuple(np.full(a.shape, 0.3) + np.arange(a.size).reshape(a.shape) * 0.1 for a in INPUTS)
    out, got = tg.autograd.functional.jvp(_f, ours, tuple(tg.tensor(a) for a in u), create_graph=create_graph)
    out_t, want = torch.autograd.functional.jvp(_f, theirs, tuple(torch.tensor(a) for a in u),
                                                create_graph=create_graph)
    close(got, want)
    got = tg.autograd.functional.jacobian(_f, ours, create_graph=create_graph)
    want = torch.autograd.functional.jacobian(_f, theirs, create_graph=create_graph)
    for g, w in zip(got, want):
        close(g, w)
    got = tg.autograd.functional.jacobian(lambda x: x.exp(), ours[0])
    close(got, torch.autograd.functional.jacobian(lambda x: x.exp(), theirs[0]))


def test_functional_hessian_hvp_vhp_match_torch():
    def scalar(x, y):
        return _f(x, y).sum()
    ours = tuple(tg.tensor(a) for a in INPUTS)
    theirs = tuple(torch.tensor(a) for a in INPUTS)
    got, want = tg.autograd.functional.hessian(scalar, ours), torch.autograd.functional.hessian(scalar, theirs)
    for row_g, row_w in zip(got, want):
        for g, w in zip(row_g, row_w):
            close(g, w)
    v = tuple(np.ones(a.shape) * 0.5 for a in INPUTS)
    for name in ("hvp", "vhp"):
        out, got = getattr(tg.autograd.functional, name)(scalar, ours, tuple(tg.tensor(a) for a in v))
        out_t, want = getattr(torch.autograd.functional, name)(scalar, theirs, tuple(torch.tensor(a) for a in v))
        close(out, out_t)
        for g, w in zip(got, want):
            close(g, w)


def test_functional_strict_mode_and_bad_v():
    def f(x, y):
        return x * 2
    x, y = tg.tensor([1.0, 2.0]), tg.tensor([3.0])
    _, (gx, gy) = tg.autograd.functional.vjp(f, (x, y), tg.ones(2))
    np.testing.assert_array_equal(gy.numpy(), [0.0])
    with pytest.raises(RuntimeError, match="independent of input 1.*strict"):
        tg.autograd.functional.vjp(f, (x, y), tg.ones(2), strict=True)
    with pytest.raises(RuntimeError, match="v can only be None"):
        tg.autograd.functional.vjp(f, (x, y))
    with pytest.raises(RuntimeError, match="Mismatch in shape"):
        tg.autograd.functional.vjp(f, (x, y), tg.ones(3))


# ---------------------------------------------------------------- what the issue must show
def test_hessian_vector_product_of_a_tutorial_cnns_loss_in_its_parameters():
    """LeNet (seed 002): H v of the cross-entropy in all ten parameter tensors, both engines."""
    ours, theirs = twins("lenet")
    xa, ya = batch("lenet", n=3)
    v = [np.random.default_rng(k).standard_normal(p.shape) for k, p in enumerate(ours.parameters())]

    def hvp(model, lib, fn, x, y):
        params = list(model.parameters())
        loss = fn(model(lib.tensor(x)), lib.tensor(y))
        grads = lib.autograd.grad(loss, params, create_graph=True)
        dot = sum((g * lib.tensor(w)).sum() for g, w in zip(grads, v))
        return lib.autograd.grad(dot, params)
    for fast in (True, False):
        with tg.fast.set_enabled(fast):
            got = hvp(ours, tg, F.cross_entropy, xa, ya)
        want = hvp(theirs, torch, TF.cross_entropy, xa, ya)
        for g, w in zip(got, want):
            close(g, w)


def test_hessian_of_a_small_mlps_loss():
    """The full Hessian of a 6-4-3 MLP's cross-entropy in its first layer's weight (24 x 24)."""
    rng = np.random.default_rng(3)
    w1, b1, w2 = rng.standard_normal((4, 6)), rng.standard_normal(4), rng.standard_normal((3, 4))
    x, y = rng.standard_normal((5, 6)), rng.integers(0, 3, 5)

    def loss(lib, fn, w):
        h = (lib.tensor(x) @ w.mT + lib.tensor(b1)).tanh()
        return fn(h @ lib.tensor(w2).mT, lib.tensor(y))
    got = tg.autograd.functional.hessian(lambda w: loss(tg, F.cross_entropy, w), tg.tensor(w1))
    want = torch.autograd.functional.hessian(lambda w: loss(torch, TF.cross_entropy, w), torch.tensor(w1))
    assert tuple(got.shape) == (4, 6, 4, 6)
    close(got, want)


def test_ten_training_steps_with_a_gradient_penalty_on_the_input():
    """loss + ||d loss / d x||^2, differentiated in the parameters (create_graph), SGD: 10 steps
    on the default route, 3 on the reference (whose double backward is the slow one)."""
    for fast, steps in ((True, 10), (False, 3)):
        ours, theirs = twins("cnn_s2")
        opt_o = tg.optim.SGD(ours.parameters(), lr=0.05, momentum=0.9)
        opt_t = torch.optim.SGD(theirs.parameters(), lr=0.05, momentum=0.9)
        for step in range(steps):
            xa, ya = batch("cnn_s2", n=2, seed=step)
            for model, lib, fn, opt in ((ours, tg, F.cross_entropy, opt_o), (theirs, torch, TF.cross_entropy, opt_t)):
                with tg.fast.set_enabled(fast):
                    x = lib.tensor(xa, requires_grad=True)
                    loss = fn(model(x), lib.tensor(ya))
                    (gx,) = lib.autograd.grad(loss, x, create_graph=True)
                    total = loss + (gx * gx).sum()
                    opt.zero_grad()
                    total.backward()
                    opt.step()
        for (name, p), q in zip(ours.named_parameters(), theirs.parameters()):
            close(p, q)


def test_one_meta_learning_step_through_a_parameter_update():
    """MAML's inner step: w' = w - lr * dL_train/dw (in the graph), then dL_val(w')/dw."""
    rng = np.random.default_rng(5)
    w0, xtr, ytr, xva, yva = (rng.standard_normal((3, 4)), rng.standard_normal((6, 4)), rng.integers(0, 3, 6),
                              rng.standard_normal((6, 4)), rng.integers(0, 3, 6))

    def meta_grad(lib, fn):
        w = lib.tensor(w0, requires_grad=True)
        inner = fn((lib.tensor(xtr) @ w.mT).relu() * 2 + lib.tensor(xtr) @ w.mT, lib.tensor(ytr))
        (g,) = lib.autograd.grad(inner, w, create_graph=True)
        adapted = w - 0.3 * g
        outer = fn(lib.tensor(xva) @ adapted.mT, lib.tensor(yva))
        return lib.autograd.grad(outer, w)[0]
    close(meta_grad(tg, F.cross_entropy), meta_grad(torch, TF.cross_entropy))


# ---------------------------------------------------------------- custom Functions, twice
class CubeOurs(tg.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x ** 3

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * 3 * x ** 2                       # Tensor ops: differentiable again


class CubeOnce(CubeOurs):
    @staticmethod
    @tg.autograd.once_differentiable
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * 3 * x ** 2


@given(values=st.lists(st.floats(-3, 3, allow_nan=False), min_size=1, max_size=5))
def test_custom_function_is_differentiable_twice_unless_marked_once(values):
    x = tg.tensor(values, dtype=tg.float64, requires_grad=True)
    (g,) = tg.autograd.grad(CubeOurs.apply(x).sum(), x, create_graph=True)
    (h,) = tg.autograd.grad(g.sum(), x)
    np.testing.assert_allclose(h.numpy(), 6 * np.asarray(values), rtol=1e-12, atol=1e-12)
    assert tg.autograd.gradgradcheck(CubeOurs.apply, (x,))
    (g,) = tg.autograd.grad(CubeOnce.apply(x).sum(), x, create_graph=True)
    assert g.grad_fn is None                    # as torch: nothing recorded, nothing to differentiate
    v = tg.ones_like(x, requires_grad=True)
    (g,) = tg.autograd.grad(CubeOnce.apply(x), x, grad_outputs=v, create_graph=True)
    with pytest.raises(RuntimeError, match="once_differentiable"):
        g.sum().backward()


def test_the_graph_of_a_backward_can_be_drawn():
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    (g,) = tg.autograd.grad((x.tanh() * x).sum(), x, create_graph=True)
    text = tg.viz.graph(g, params={"x": x})
    assert "AccumulateGrad [x]" in text and "TanhBackward" in text and "MulBackward" in text


@given(data=st.data(), op=st.sampled_from(["std", "var", "sum", "mean", "amax", "amin"]),
       dtype=st.sampled_from([np.float64, np.float32]))
def test_second_derivatives_of_reductions_over_dims(data, op, dtype):
    """Each reduction over every kind of ``dim`` (None, one, several; keepdim or not) at second order."""
    from tinygrad_mnist.testing import assert_matches_torch, strategies as S
    x = data.draw(S.distinct_arrays(S.shapes(min_dims=1, max_dims=3, max_side=4), dtype))
    dim, keepdim = data.draw(S.dims_and_keepdim(x.ndim))
    kwargs = {} if dim is None else {"dim": dim, "keepdim": keepdim}
    if op in ("std", "var"):
        dims = range(x.ndim) if dim is None else ([dim] if isinstance(dim, int) else dim)
        if int(np.prod([x.shape[d] for d in dims])) < 2:
            return  # n - correction = 0: a NaN variance, whose second derivative torch defines arbitrarily
    assert_matches_torch(lambda t: getattr(t, op)(**kwargs), lambda t: getattr(t, op)(**kwargs), x, dtype=dtype)
