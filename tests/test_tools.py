"""The tools for looking inside backprop, held against PyTorch where PyTorch has the same tool.

* ``tinygrad_mnist.testing``: ``assert_matches_torch`` fails loudly on a wrong gradient; the
  strategies give valid shapes and conv/pool configurations; the README's property test works.
* hooks: ``retain_grad``, ``register_hook`` (observe, replace, leaves, removal) against torch's.
* ``tg.autograd.grad`` against ``torch.autograd.grad``.
* anomaly detection: the op and the line of user code are named, forward and backward.
* ``tg.viz`` (graph, to_dot, render), ``tg.autograd.trace``, ``tg.profile``.
* docs/backprop.md names every op with a pointer that resolves; examples/inspect_graph.py runs.
"""
import importlib
import inspect
import os
import pkgutil
import re
import stat
import subprocess
import sys

import numpy as np
import pytest
import torch
from hypothesis import given, settings, strategies as st

import tinygrad_mnist as tg
import tinygrad_mnist.nn.functional as F
from tinygrad_mnist import viz
from tinygrad_mnist.autograd import AnomalyError, Function
from tinygrad_mnist.testing import assert_matches_torch, strategies as S

from conftest import ROOT, mnist_dir

THIS_FILE = os.path.abspath(__file__)


def rng(seed=0):
    return np.random.default_rng(seed)


def pair(array, requires_grad=True):
    """The same float64 values as our tensor and as a torch tensor."""
    array = np.asarray(array, dtype=np.float64)
    return (tg.tensor(array.copy(), requires_grad=requires_grad),
            torch.tensor(array.copy(), requires_grad=requires_grad))


def as_numpy(t):
    return t.detach().numpy() if isinstance(t, (tg.Tensor, torch.Tensor)) else np.asarray(t)


def close(ours, theirs, tol=1e-12):
    ours, theirs = as_numpy(ours), as_numpy(theirs)
    assert ours.shape == theirs.shape, (ours.shape, theirs.shape)
    np.testing.assert_allclose(ours, theirs, rtol=tol, atol=tol)


# ============================================================================ assert_matches_torch
class BadSquare(Function):
    """x^2 with a deliberately wrong backward: g * x instead of 2 g x."""

    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return a * a

    @staticmethod
    def backward(ctx, g):
        (a,) = ctx.saved_tensors
        return g * a                                                 # wrong: the 2 is missing


class BadForward(Function):
    @staticmethod
    def forward(ctx, a):
        out = a * a
        out.reshape(-1)[-1] += 1.0                                   # one wrong element
        return out

    @staticmethod
    def backward(ctx, g):
        return g


def test_assert_matches_torch_catches_a_wrong_gradient():
    x = rng().standard_normal((3, 4))
    with pytest.raises(AssertionError) as info:
        assert_matches_torch(lambda a: BadSquare.apply(a), lambda a: a * a, x)
    msg = str(info.value)
    assert "gradient of input 0" in msg
    assert "shape (3, 4)" in msg
    assert "worst at index" in msg and "ours" in msg and "torch" in msg
    # the worst element it names is the one with the largest error: |g x| is largest where |x| is
    upstream = np.random.default_rng(0).standard_normal((3, 4))  # assert_matches_torch's seed 0
    worst = np.unravel_index(np.argmax(np.abs(upstream * x)), x.shape)
    assert f"worst at index {tuple(int(i) for i in worst)}" in msg
    # the right op passes
    assert_matches_torch(lambda a: a * a, lambda a: a * a, x)


def test_assert_matches_torch_catches_a_wrong_value_and_shape():
    x = rng().standard_normal((2, 3))
    with pytest.raises(AssertionError, match=r"output 0: 1 of 6 elements differ.*worst at index \(1, 2\)"):
        assert_matches_torch(lambda a: BadForward.apply(a), lambda a: a * a, x)
    with pytest.raises(AssertionError, match=r"output 0: shape \(3, 2\) differs from torch's \(2, 3\)"):
        assert_matches_torch(lambda a: a.t() * 1, lambda a: a * 1, x)


def test_assert_matches_torch_float32_tolerance():
    x = rng().standard_normal((4, 5))
    out = assert_matches_torch(lambda a: (a.exp() * a).sum(dim=1), lambda a: (a.exp() * a).sum(dim=1),
                               x, dtype=np.float32)
    assert out[0].dtype == tg.float32
    with pytest.raises(AssertionError, match="gradient of input 0"):
        assert_matches_torch(lambda a: BadSquare.apply(a), lambda a: a * a, x, dtype=np.float32)


# The README's example: a new property test in a few lines.
@given(st.data())
def test_readme_property_test(data):
    a_shape, b_shape = data.draw(S.broadcastable_shapes(2))
    a, b = data.draw(S.arrays(a_shape)), data.draw(S.arrays(b_shape))
    assert_matches_torch(lambda a, b: (a * b).sigmoid() + a, lambda a, b: (a * b).sigmoid() + a, a, b)


@settings(max_examples=8)
@given(st.data())
def test_conv_configs_are_valid_and_match_torch(data):
    cfg = data.draw(S.conv_configs())
    x = data.draw(S.arrays((cfg["n"], cfg["c_in"], cfg["h"], cfg["w"]), min_value=-2, max_value=2))
    w = data.draw(S.arrays((cfg["c_out"], cfg["c_in"]) + cfg["kernel_size"], min_value=-2, max_value=2))
    kw = dict(stride=cfg["stride"], padding=cfg["padding"], dilation=cfg["dilation"])
    assert_matches_torch(lambda x, w: F.conv2d(x, w, **kw), lambda x, w: torch.nn.functional.conv2d(x, w, **kw), x, w)


@settings(max_examples=8)
@given(st.data())
def test_pool_configs_and_distinct_arrays(data):
    cfg = data.draw(S.pool_configs(max_dilation=2))
    x = data.draw(S.distinct_arrays((cfg["n"], cfg["c"], cfg["h"], cfg["w"])))
    assert len(np.unique(x)) == x.size                               # no ties for max-pool to break
    kw = dict(kernel_size=cfg["kernel_size"], stride=cfg["stride"], padding=cfg["padding"],
              dilation=cfg["dilation"], ceil_mode=cfg["ceil_mode"])
    assert_matches_torch(lambda x: F.max_pool2d(x, **kw), lambda x: torch.nn.functional.max_pool2d(x, **kw), x)


@given(S.arrays(S.shapes(min_dims=1, max_dims=3)))
def test_away_from_kinks_and_bounded_arrays(x):
    assert np.isfinite(x).all() and np.abs(x).max(initial=0) <= 10
    moved = S.away_from(x, points=(0.0, 1.0), margin=1e-3)
    assert moved.shape == x.shape
    assert (np.abs(moved) >= 1e-3 - 1e-15).all() and (np.abs(moved - 1.0) >= 1e-3 - 1e-15).all()
    # relu and abs, away from their kink, have one derivative: ours and torch's agree
    assert_matches_torch(lambda a: a.relu() + a.abs(), lambda a: a.relu() + a.abs(), moved)


# ============================================================================ hooks
def small_graph(lib, x, w):
    """h = x @ w is used twice (through relu and directly): two gradients add up at h."""
    h = x @ w
    a = h.relu()
    out = (a * h).sum()
    return h, a, out


def test_retain_grad_matches_torch():
    x_np, w_np = rng(1).standard_normal((3, 4)), rng(2).standard_normal((4, 2))
    (x, tx), (w, tw) = pair(x_np), pair(w_np)
    ours = small_graph(tg, x, w)
    theirs = small_graph(torch, tx, tw)
    for t in ours + theirs:
        t.retain_grad()
    assert ours[0].retains_grad and not x.retains_grad
    ours[2].backward(retain_graph=True)
    theirs[2].backward(retain_graph=True)
    for o, t in zip(ours, theirs):
        close(o.grad, t.grad)
    close(x.grad, tx.grad)
    close(w.grad, tw.grad)
    # a second backward accumulates into retained grads too, as torch
    ours[2].backward()
    theirs[2].backward()
    for o, t in zip(ours, theirs):
        close(o.grad, t.grad)
    x.retain_grad()                                                  # on a leaf: nothing to do
    assert x.grad is not None and not x.retains_grad


def test_non_leaf_grad_is_none_without_retain_grad():
    x, _ = pair(rng().standard_normal(3))
    h = x * 2
    h.sum().backward()
    assert h.grad is None and x.grad is not None


def test_retain_grad_sees_the_hooked_gradient_like_torch():
    (x, tx) = pair([1.0, 2.0, 3.0])
    y, ty = x * 2, tx * 2
    y.retain_grad()
    ty.retain_grad()
    y.register_hook(lambda g: g * 10)
    ty.register_hook(lambda g: g * 10)
    (y * y).sum().backward()
    (ty * ty).sum().backward()
    close(x.grad, tx.grad)
    close(y.grad, ty.grad)


def test_register_hook_scales_a_gradient_like_torch():
    x_np, w_np = rng(3).standard_normal((3, 4)), rng(4).standard_normal((4, 2))
    (x, tx), (w, tw) = pair(x_np), pair(w_np)
    seen = {}
    h, a, out = small_graph(tg, x, w)
    th, ta, tout = small_graph(torch, tx, tw)
    h.register_hook(lambda g: g * 3)                                 # returns a tensor: replaces the gradient
    th.register_hook(lambda g: g * 3)
    a.register_hook(lambda g: seen.update(a=g.numpy().copy()))     # returns None: only looks
    ta.register_hook(lambda g: seen.update(ta=g.numpy().copy()))
    out.backward()
    tout.backward()
    close(x.grad, tx.grad)
    close(w.grad, tw.grad)
    close(seen["a"], seen["ta"])
    # the scaling changed the result: without the hook the gradient is a third of it
    (x2, _), (w2, _) = pair(x_np), pair(w_np)
    small_graph(tg, x2, w2)[2].backward()
    close(x.grad, x2.grad * 3)


def test_hooks_chain_in_registration_order_like_torch():
    (x, tx) = pair(rng(5).standard_normal(4))
    for t in (x, tx):
        y = t * t
        y.register_hook(lambda g: g * 2)
        y.register_hook(lambda g: g + 1)                             # sees the doubled gradient
        y.sum().backward()
    close(x.grad, tx.grad)


def test_hooks_on_leaves_like_torch():
    (x, tx), (w, tw) = pair(rng(6).standard_normal((2, 3))), pair(rng(7).standard_normal((3,)))
    calls = []
    for a, b in ((x, w), (tx, tw)):
        a.register_hook(lambda g: g + 1)                             # runs before .grad is written
        b.register_hook(lambda g: calls.append(tuple(g.shape)))      # observes: .grad unchanged
        ((a * b).tanh()).sum().backward()
    close(x.grad, tx.grad)
    close(w.grad, tw.grad)
    assert calls == [(3,), (3,)]


def test_hook_handle_remove():
    (x, tx) = pair(rng(8).standard_normal(5))
    calls = []
    handles = []
    for t in (x, tx):
        y = t.exp()
        handles.append(y.register_hook(lambda g: calls.append(1) or g * 100))
        handles[-1].remove()
        handles[-1].remove()                                         # removing twice is harmless
        y.sum().backward()
    assert calls == []
    close(x.grad, tx.grad)
    close(x.grad, np.exp(x.detach().numpy()))
    # a leaf hook removed between two backwards: the second is not scaled
    leaf = tg.tensor([1.0, 2.0], requires_grad=True)
    h = leaf.register_hook(lambda g: g * 10)
    (leaf * 1).sum().backward()
    h.remove()
    (leaf * 1).sum().backward()
    close(leaf.grad, [11.0, 11.0])


def test_register_hook_needs_requires_grad():
    with pytest.raises(RuntimeError, match="doesn't require gradient"):
        tg.tensor([1.0]).register_hook(lambda g: g)


# ============================================================================ autograd.grad
def test_autograd_grad_matches_torch_and_leaves_grad_alone():
    (x, tx), (w, tw) = pair(rng(9).standard_normal((3, 4))), pair(rng(10).standard_normal((4, 2)))
    ours = tg.autograd.grad(small_graph(tg, x, w)[2], [x, w])
    theirs = torch.autograd.grad(small_graph(torch, tx, tw)[2], [tx, tw])
    assert isinstance(ours, tuple) and len(ours) == 2
    for o, t in zip(ours, theirs):
        close(o, t)
    assert x.grad is None and w.grad is None and tx.grad is None
    assert not ours[0].requires_grad
    # a single tensor as inputs, and an intermediate (non-leaf) input
    h, _, out = small_graph(tg, x, w)
    th, _, tout = small_graph(torch, tx, tw)
    (gh,) = tg.autograd.grad(out, h)
    (tgh,) = torch.autograd.grad(tout, th)
    close(gh, tgh)


def test_autograd_grad_allow_unused():
    (x, tx), (u, tu) = pair([1.0, 2.0]), pair([3.0])
    with pytest.raises(RuntimeError, match="allow_unused"):
        tg.autograd.grad((x * x).sum(), [x, u])
    with pytest.raises(RuntimeError):
        torch.autograd.grad((tx * tx).sum(), [tx, tu])
    gx, gu = tg.autograd.grad((x * x).sum(), [x, u], allow_unused=True)
    tgx, tgu = torch.autograd.grad((tx * tx).sum(), [tx, tu], allow_unused=True)
    close(gx, tgx)
    assert gu is None and tgu is None


def test_autograd_grad_retain_graph():
    (x, tx) = pair(rng(11).standard_normal(4))
    for lib_grad, t, err in ((tg.autograd.grad, x, RuntimeError), (torch.autograd.grad, tx, RuntimeError)):
        y = (t.exp() * t).sum()
        first = lib_grad(y, t, retain_graph=True)[0]
        second = lib_grad(y, t)[0]                                   # the graph was kept
        close(first, second)
        with pytest.raises(err, match="second time"):
            lib_grad(y, t)                                           # ... and freed by the second call


def test_autograd_grad_grad_outputs_for_non_scalar_outputs():
    (x, tx) = pair(rng(12).standard_normal((2, 3)))
    v = rng(13).standard_normal((2, 3))
    (ours,) = tg.autograd.grad(x.tanh() * x, x, grad_outputs=tg.tensor(v))
    (theirs,) = torch.autograd.grad(tx.tanh() * tx, tx, grad_outputs=torch.tensor(v))
    close(ours, theirs)
    # two outputs, each with its own upstream gradient: the contributions add up
    w = rng(14).standard_normal(3)
    ours = tg.autograd.grad([x.exp(), x.sum(dim=0)], [x], grad_outputs=[tg.tensor(v), tg.tensor(w)])
    theirs = torch.autograd.grad([tx.exp(), tx.sum(dim=0)], [tx], grad_outputs=[torch.tensor(v), torch.tensor(w)])
    close(ours[0], theirs[0])
    with pytest.raises(RuntimeError, match="only for scalar outputs"):
        tg.autograd.grad(x * 2, x)
    with pytest.raises(RuntimeError, match="does not require grad"):
        tg.autograd.grad((x * 2).sum(), tg.tensor([1.0]))


# ============================================================================ anomaly detection
def test_anomaly_forward_log_of_zero_names_the_op_and_the_line():
    x = tg.tensor([1.0, 0.0, 2.0], requires_grad=True)
    with pytest.raises(AnomalyError) as info:
        with tg.autograd.detect_anomaly():
            line = inspect.currentframe().f_lineno + 1
            y = x.log()  # noqa: F841   the planted log(0)
    msg = str(info.value)
    assert "LogBackward" in msg and "op Log" in msg and "forward" in msg
    assert f"{THIS_FILE}:{line}" in msg and "y = x.log()" in msg
    assert "the first at index (1,): -inf" in msg
    assert isinstance(info.value, RuntimeError)                      # catchable as PyTorch's error type
    assert not tg.autograd.is_anomaly_enabled() and not tg.autograd.function.instruments.active


def test_anomaly_backward_infinite_gradient_names_the_op():
    # sqrt at 0: forward fine (0), backward 1 / (2 sqrt(0)) = inf
    x = tg.tensor([4.0, 0.0], requires_grad=True)
    with tg.autograd.detect_anomaly():
        line = inspect.currentframe().f_lineno + 1
        y = x.sqrt().sum()
        with pytest.raises(AnomalyError) as info:
            y.backward()
    msg = str(info.value)
    assert "SqrtBackward" in msg and "backward" in msg and "input 0" in msg
    assert f"{THIS_FILE}:{line}" in msg
    # 0 ** -0.5 in the backward of x ** 0.5: the same inf, from another op
    x = tg.tensor([0.0, 1.0], requires_grad=True)
    with tg.autograd.set_detect_anomaly(True), np.errstate(divide="ignore"):  # NumPy warns on 0 ** -0.5
        loss = (x ** 0.5 * 3).sum()
        with pytest.raises(AnomalyError, match="PowScalarBackward"):
            loss.backward()
    # without detection the same backward runs silently to an inf gradient
    x = tg.tensor([0.0, 1.0], requires_grad=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        x.sqrt().sum().backward()
    assert np.isinf(x.grad.numpy()[0])


def test_anomaly_nan_in_backward_from_zero_times_inf():
    # d/dx (x * inf) = inf, and 0 * inf = nan appears one op later: the op that made it is named
    x = tg.tensor([0.0, 1.0], requires_grad=True)
    with tg.autograd.detect_anomaly():
        y = (x.sqrt() * 0.0).sum()
        with pytest.raises(AnomalyError, match="SqrtBackward"):
            y.backward()


def test_anomaly_only_during_backward_says_how_to_see_the_line():
    x = tg.tensor([0.0], requires_grad=True)
    y = x.sqrt().sum()                                               # created with detection off
    with pytest.raises(AnomalyError, match=r"(?s)SqrtBackward.*anomaly detection was off during the forward"):
        with tg.autograd.detect_anomaly():
            y.backward()


def test_anomaly_blames_only_the_op_that_made_the_nan():
    x = tg.tensor([float("nan"), 1.0], requires_grad=True)
    with tg.autograd.detect_anomaly():
        y = (x * 2).exp().sum()                                      # nan came in with the data: no op made it
    assert np.isnan(y.item())
    # a non-finite gradient passed to backward() is not blamed on the op that receives it
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    with tg.autograd.detect_anomaly():
        y = x * 2
        with pytest.raises(AnomalyError, match="received a gradient that already holds NaN or Inf"):
            y.backward(tg.tensor([1.0, float("inf")]))


def test_set_detect_anomaly_call_and_context():
    assert not tg.autograd.is_anomaly_enabled()
    tg.autograd.set_detect_anomaly(True)
    try:
        assert tg.autograd.is_anomaly_enabled()
        with tg.autograd.set_detect_anomaly(False):
            assert not tg.autograd.is_anomaly_enabled()
            tg.tensor([0.0], requires_grad=True).log()               # no error while off
        assert tg.autograd.is_anomaly_enabled()
    finally:
        tg.autograd.set_detect_anomaly(False)
    assert not tg.autograd.is_anomaly_enabled() and not tg.autograd.function.instruments.active


# ============================================================================ viz
def known_graph():
    """x (2, 3) @ w (3, 4) -> relu -> * itself -> mean: 4 ops, 2 leaves, one node reached twice."""
    x = tg.tensor(rng(20).standard_normal((2, 3)), requires_grad=True)
    w = tg.tensor(rng(21).standard_normal((3, 4)), requires_grad=True)
    r = (x @ w).relu()
    return x, w, r, (r * r).mean()


def walk(root):
    """Every node below ``root`` once, and the number of edges (non-None next_functions)."""
    seen, stack, edges = [], [root], 0
    while stack:
        node = stack.pop()
        if node in seen:
            continue
        seen.append(node)
        for child, _ in node.next_functions:
            if child is not None:
                edges += 1
                stack.append(child)
    return seen, edges


def test_graph_names_every_op_shape_and_saved_tensor():
    x, w, r, loss = known_graph()
    text = viz.graph(loss, params={"x": x, "w": w})
    lines = text.splitlines()
    for name in ("MeanBackward", "MulBackward", "ReLUBackward", "MatmulBackward"):
        assert name in text
    assert lines[0].startswith("#0 MeanBackward  -> () float64")
    assert "MulBackward  -> (2, 4) float64  saved: (2, 4), (2, 4)" in text
    assert "MatmulBackward  -> (2, 4) float64  saved: (2, 3), (3, 4)" in text
    assert "AccumulateGrad [x]  (2, 3) float64" in text and "AccumulateGrad [w]  (3, 4) float64" in text
    assert "ReLUBackward (see above)" in text                         # r * r: one node, two edges
    assert "|grad|" not in text
    assert len(lines) == 7                                           # 6 nodes + the repeated one


def test_graph_after_traced_backward_shows_gradient_norms():
    x, w, r, loss = known_graph()
    with tg.autograd.trace() as t:
        loss.backward()
    text = viz.graph(loss, params={"x": x, "w": w})
    norms = {s.op: s.grad_output_norm for s in t}
    assert norms["MeanBackward"] == 1.0
    for line in text.splitlines():
        if "(see above)" in line:
            continue
        assert "|grad|" in line, line
        op = line.split()[1]
        if op in norms:
            assert f"|grad| {norms[op]:.4g}" in line
    assert f"AccumulateGrad [x]  (2, 3) float64  |grad| {np.linalg.norm(x.grad.numpy()):.4g}" in text
    assert "saved (freed by backward): (2, 4), (2, 4)" in text        # shapes kept by the trace
    # without a trace, ops show no norm but leaves still do (from .grad)
    x, w, r, loss = known_graph()
    loss.backward()
    text = viz.graph(loss, params={"x": x, "w": w})
    assert "MulBackward  -> (2, 4) float64  saved: (freed by backward)\n" in text + "\n"
    assert "AccumulateGrad [w]  (3, 4) float64  |grad|" in text


def test_graph_of_a_tensor_without_graph():
    with pytest.raises(ValueError, match="does not require grad"):
        viz.graph(tg.tensor([1.0]))
    leaf = tg.tensor([1.0], requires_grad=True)
    assert viz.graph(leaf).startswith("#0 AccumulateGrad  (1,) float32")


def test_graph_of_a_deep_chain_does_not_recurse():
    x = tg.tensor([1.0], requires_grad=True)
    y = x
    for _ in range(3000):
        y = y * 1.0
    text = viz.graph(y)
    assert text.count("MulBackward") == 3000 and text.count("(no grad)") == 3000  # the constants 1.0


def test_to_dot_is_valid_dot():
    x, w, r, loss = known_graph()
    dot = viz.to_dot(loss, params={"x": x, "w": w})
    assert dot.startswith("digraph")
    assert dot.count("{") == dot.count("}") == 1 and dot.rstrip().endswith("}")
    nodes, edges = walk(loss.grad_fn)
    node_lines = re.findall(r'^  (n\d+) \[label="((?:[^"\\]|\\.)*)"[^\]]*\];$', dot, re.M)
    edge_lines = re.findall(r"^  (n\d+) -> (n\d+);$", dot, re.M)
    assert len(node_lines) == len(nodes) == 6
    assert len(edge_lines) == edges == 6                             # r * r: two edges ReLU -> Mul
    declared = {n for n, _ in node_lines}
    assert all(a in declared and b in declared for a, b in edge_lines)
    labels = " ".join(label for _, label in node_lines)
    for name in ("MeanBackward", "MulBackward", "ReLUBackward", "MatmulBackward", "AccumulateGrad [x]"):
        assert name in labels
    # every line is a statement, an attribute line, or a brace
    body = dot.strip().splitlines()[1:-1]
    assert all(line.rstrip().endswith(";") for line in body)


def test_render_without_dot_says_how_to_install_it(monkeypatch, tmp_path):
    monkeypatch.setattr(viz.shutil, "which", lambda name: None)
    _, _, _, loss = known_graph()
    with pytest.raises(RuntimeError, match="apt-get install graphviz"):
        viz.render(loss, tmp_path / "g.svg")
    assert list(tmp_path.iterdir()) == []


def fake_dot(tmp_path, fail=False):
    """A stand-in for Graphviz's dot: checks its arguments and input, writes a tiny SVG."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    script = bin_dir / "dot"
    script.write_text(f"#!{sys.executable}\n" + (
        "import sys\nsys.stderr.write('Error: syntax error in line 1')\nsys.exit(1)\n" if fail else
        "import sys\n"
        "assert sys.argv[1:] == ['-Tsvg'], sys.argv  # the picture goes to stdout\n"
        "text = sys.stdin.read()\n"
        "assert text.startswith('digraph'), text[:20]\n"
        "edges = sum(1 for line in text.splitlines() if line.startswith('  n') and ' -> n' in line)\n"
        "sys.stdout.write('<?xml version=\"1.0\"?>\\n<svg edges=\"%d\"/>\\n' % edges)\n"))
    script.chmod(0o755)
    return bin_dir


def test_render_with_a_dot_program(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(fake_dot(tmp_path)) + os.pathsep + os.environ.get("PATH", ""))
    _, _, _, loss = known_graph()
    out = tmp_path / "pics" / "g.svg"
    out.parent.mkdir()
    assert viz.render(loss, out) == out
    assert out.read_text().startswith("<?xml") and 'edges="6"' in out.read_text()
    assert list(out.parent.iterdir()) == [out]                       # no temporary file left
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE(out.stat().st_mode) == 0o666 & ~umask


def test_render_reports_dot_errors_and_leaves_nothing(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(fake_dot(tmp_path, fail=True)) + os.pathsep + os.environ.get("PATH", ""))
    _, _, _, loss = known_graph()
    out = tmp_path / "pics" / "g.svg"
    out.parent.mkdir()
    with pytest.raises(RuntimeError, match="syntax error in line 1"):
        viz.render(loss, out)
    assert list(out.parent.iterdir()) == []


@pytest.mark.skipif(viz.shutil.which("dot") is None, reason="Graphviz's dot is not installed")
def test_render_real_svg(tmp_path):
    _, _, _, loss = known_graph()
    out = viz.render(loss, tmp_path / "g.svg")
    head = out.read_text()[:200].lstrip()
    assert head.startswith("<?xml") or head.startswith("<svg")


# ============================================================================ trace
def diamond():
    """x (2, 3) * w (3,) -> exp and tanh of it -> added -> summed: distinct op names."""
    x = tg.tensor(rng(30).standard_normal((2, 3)), requires_grad=True)
    w = tg.tensor(rng(31).standard_normal(3), requires_grad=True)
    m = x * w
    return x, w, (m.exp() + m.tanh()).sum()


def test_trace_records_reverse_topological_order_with_shapes():
    x, w, loss = diamond()
    nodes, _ = walk(loss.grad_fn)
    by_name = {n.name(): n for n in nodes if not isinstance(n, tg.autograd.AccumulateGrad)}
    with tg.autograd.trace() as t:
        loss.backward()
    ops = [s.op for s in t]
    assert len(t) == 5 and sorted(ops) == sorted(by_name)
    assert [s.index for s in t] == list(range(5))
    assert ops[:2] == ["SumBackward", "AddBackward"] and ops[-1] == "MulBackward"
    # every node comes after every node that consumes its output
    position = {name: i for i, name in enumerate(ops)}
    for name, node in by_name.items():
        for child, _ in node.next_functions:
            if child is not None and child.name() in position:
                assert position[name] < position[child.name()], (name, child.name())
    steps = {s.op: s for s in t}
    assert steps["SumBackward"].grad_output == () and steps["SumBackward"].grad_inputs == ((2, 3),)
    assert steps["AddBackward"].grad_inputs == ((2, 3), (2, 3))
    assert steps["MulBackward"].grad_output == (2, 3)
    assert steps["MulBackward"].grad_inputs == ((2, 3), (3,))        # reduced to w's shape
    assert steps["SumBackward"].grad_output_norm == 1.0
    assert all(s.ms >= 0 for s in t)
    table = str(t)
    assert table.splitlines()[0].split()[:2] == ["#", "op"]
    assert "(2, 3), (3,)" in table and "5 backward steps" in table
    for name in by_name:
        assert name in table
    assert not tg.autograd.function.instruments.active


def test_trace_shows_inputs_without_gradient_as_dash():
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    with tg.autograd.trace() as t:
        (x * tg.tensor([3.0, 4.0])).sum().backward()
    assert t.steps[1].grad_inputs == ((2,), None)
    assert "(2,), -" in str(t)


# ============================================================================ profile
def test_profile_counts_calls_per_op():
    x = tg.tensor(rng(40).standard_normal((4, 3)), requires_grad=True)
    with tg.profile() as p:
        a = x + 1
        b = a + 2
        c = (b * b).sum()
        with tg.no_grad():
            (x + 3).exp()                                            # counted: ran forward, no backward
        c.backward()
    assert p.calls("Add") == 3 and p.calls("Mul") == 1 and p.calls("Sum") == 1 and p.calls("Exp") == 1
    assert p.calls("Conv2d") == 0
    rows = {r.op: r for r in p.rows()}
    assert rows["Add"].backward_calls == 2 and rows["Exp"].backward_calls == 0
    assert rows["Mul"].backward_calls == 1 and rows["Sum"].backward_calls == 1
    assert all(r.total_ms == pytest.approx(r.forward_ms + r.backward_ms) for r in p.rows())
    totals = [r.total_ms for r in p.rows()]
    assert totals == sorted(totals, reverse=True)
    text = str(p)
    assert text.splitlines()[0].split()[:3] == ["op", "calls", "bwd"]
    assert all(op in text for op in ("Add", "Mul", "Sum", "Exp", "total"))
    assert not tg.autograd.function.instruments.active


def test_profile_of_a_backward_only():
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    loss = (x.exp() * x).sum()
    with tg.profile() as p:
        loss.backward()
    rows = {r.op: r for r in p.rows()}
    assert set(rows) == {"Exp", "Mul", "Sum"}
    assert all(r.calls == 0 and r.backward_calls == 1 for r in rows.values())


def test_instruments_nest():
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    with tg.profile() as p, tg.autograd.trace() as t, tg.autograd.detect_anomaly():
        (x * x).sum().backward()
    assert len(t) == 2 and p.calls("Mul") == 1
    assert not tg.autograd.function.instruments.active


# ============================================================================ the doc and the example
def function_classes():
    """Every Function subclass in the package (importing every module first)."""
    for info in pkgutil.walk_packages(tg.__path__, "tinygrad_mnist."):
        if info.name.endswith(("__main__", ".cli")):
            continue
        importlib.import_module(info.name)
    found, stack = [], [Function]
    while stack:
        for sub in stack.pop().__subclasses__():
            if sub.__module__.startswith("tinygrad_mnist.") and sub not in found:
                found.append(sub)
                stack.append(sub)
    return found


def test_backprop_doc_covers_every_op_with_a_working_pointer():
    doc = (ROOT / "docs" / "backprop.md").read_text()
    pointers = re.findall(r"`(tinygrad_mnist/[\w/]+\.py):(\w+)`", doc)
    assert pointers
    for path, name in pointers:
        source = (ROOT / path).read_text()
        assert re.search(rf"^class {name}\b", source, re.M), f"{path}:{name} does not resolve"
    pointed = {name for _, name in pointers}
    performance = (ROOT / "docs" / "performance.md").read_text()
    for cls in function_classes():
        private_base = cls.__name__.startswith("_") and cls.__subclasses__()
        if cls._op_name != cls.__name__:   # a fast route: the same op, computed another way
            if not private_base:
                assert cls.__name__ in performance, f"docs/performance.md does not describe the route {cls.__name__}"
        elif not private_base:
            assert cls.__name__ in pointed, f"docs/backprop.md has no entry for {cls.__module__}.{cls.__name__}"


@pytest.mark.skipif(mnist_dir() is None, reason="MNIST IDX files not found")
def test_inspect_graph_example_runs(tmp_path):
    out = tmp_path / "out"
    proc = subprocess.run([sys.executable, str(ROOT / "examples" / "inspect_graph.py"), "--batch-size", "8",
                           "--data-dir", str(mnist_dir()), "--out", str(out)],
                          cwd=tmp_path, capture_output=True, text=True, timeout=120,
                          env=dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1"))
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    text = proc.stdout
    assert proc.stderr == ""                                         # no warnings either
    assert "#0 CrossEntropyBackward  -> () float32" in text
    assert "Conv2dBackward  -> (8, 32, 28, 28) float32  saved: (8, 1, 28, 28), (32, 1, 3, 3)" in text
    assert "[hook] d loss / d convs.0 output: shape (8, 32, 28, 28)" in text
    assert "logits.grad: shape (8, 10)" in text
    assert re.search(r"max \|logits.grad - \(softmax - onehot\)/N\| = (0|\d\.\d+e-\d\d)$", text, re.M)
    assert "15 backward steps" in text and "parameters' .grad unchanged: True" in text
    assert re.search(r"^Conv2d\s+3\s+3\s", text, re.M)              # the profile's row
    assert "AnomalyError: Function 'LogBackward' (op Log)" in text
    assert "AnomalyError: Function 'SqrtBackward' (op Sqrt)" in text
    assert "inspect_graph.py:" in text and "probs.log()" in text
    dot = (out / "cnn_backward.dot").read_text()
    assert dot.startswith("digraph") and len(re.findall(r"^  n\d+ -> n\d+;$", dot, re.M)) == 26
