"""NumPy's ``axis=`` for ``dim=``: every reduction and shape function that PyTorch lets take it
(the tutorials write ``torch.argmax(..., axis=1)``), as a Tensor method and as a function, gives
torch's values, and passing both ``dim`` and ``axis`` is refused."""
import numpy as np
import pytest
import torch

import tinygrad_mnist as tg

ONE_TENSOR = ["sum", "mean", "var", "std", "max", "min", "amax", "amin", "argmax", "argmin", "prod",
              "cumsum", "logsumexp", "softmax", "log_softmax", "all", "any", "sort", "argsort",
              "squeeze", "unsqueeze"]


def _arrays(result):
    if isinstance(result, tuple):  # (values, indices) of max/min/sort
        return [np.asarray(r.numpy() if hasattr(r, "numpy") else r) for r in result]
    return [np.asarray(result.numpy())]


@pytest.mark.parametrize("form", ["method", "function"])
@pytest.mark.parametrize("name", ONE_TENSOR)
def test_axis_is_dim_as_in_torch(name, form):
    x = np.random.default_rng(0).standard_normal((3, 1 if name == "squeeze" else 2, 4))
    if name in ("all", "any"):
        x = x > 0
    ours, theirs = tg.tensor(x), torch.tensor(x)
    if form == "method":
        got, want = getattr(ours, name)(axis=1), getattr(theirs, name)(axis=1)
    else:
        got, want = getattr(tg, name)(ours, axis=1), getattr(torch, name)(theirs, axis=1)
    for g, w in zip(_arrays(got), _arrays(want), strict=True):
        assert g.shape == w.shape
        np.testing.assert_allclose(g, w, rtol=1e-12, atol=1e-12)


def test_stack_and_cat_take_axis():
    a, b = np.ones((2, 3)), np.zeros((2, 3))
    for name in ("stack", "cat"):
        got = getattr(tg, name)([tg.tensor(a), tg.tensor(b)], axis=1).numpy()
        want = getattr(torch, name)([torch.tensor(a), torch.tensor(b)], axis=1).numpy()
        np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("name", ["max", "softmax", "cumsum", "unsqueeze"])
def test_dim_and_axis_together_are_refused(name):
    with pytest.raises(TypeError):
        getattr(torch.zeros(2, 2), name)(dim=0, axis=1)
    with pytest.raises(TypeError, match="dim"):
        getattr(tg.zeros(2, 2), name)(dim=0, axis=1)


def test_the_axis_gradient_is_the_dim_gradient():
    x = np.random.default_rng(1).standard_normal((3, 4))
    a, b = tg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    (a.softmax(axis=1) * tg.tensor(x)).sum().backward()
    (b.softmax(axis=1) * torch.tensor(x)).sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-12, atol=1e-12)
