"""What PyTorch programs write around the ops, against real PyTorch: namespaces, devices, seeds,
printing, ``torch.Size``, type strings and typed tensor classes, NumPy conversion, the old
``.data[0]`` idiom, tensor factories, and the in-place forms (values, versions, refusals and
dtype errors).
"""
import math
import re
import subprocess
import sys

import numpy as np
import pytest
import torch

import tinygrad_mnist as tg
from tinygrad_mnist.testing import assert_matches_torch


def same_error(ours, ref, match=None):
    with pytest.raises(Exception) as theirs:
        ref()
    with pytest.raises(type(theirs.value), match=match):
        ours()


# ---------------------------------------------------------------------- namespaces
def test_submodules_without_further_imports():
    code = ("import tinygrad_mnist as torch\n"
            "print(torch.utils.data.DataLoader.__name__, torch.utils.data.TensorDataset.__name__,\n"
            "      torch.nn.functional.relu.__name__, torch.optim.lr_scheduler.StepLR.__name__,\n"
            "      torch.autograd.Variable.__name__, torch.inference_mode.__name__)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["DataLoader", "TensorDataset", "relu", "StepLR", "Variable", "inference_mode"]


def test_device_discovery_as_torch_spells_it():
    gpu = tg.cuda.is_available()
    assert tg.accelerator.is_available() == gpu
    assert tg.accelerator.device_count() == tg.cuda.device_count() == (1 if gpu else 0)
    assert (tg.accelerator.current_accelerator() == "cuda") if gpu else tg.accelerator.current_accelerator() is None
    assert tg.backends.mps.is_available() is False and tg.backends.mps.is_built() is False
    assert isinstance(tg.backends.cuda.is_built(), bool)
    tg.backends.cudnn.deterministic = True
    tg.backends.cudnn.benchmark = False
    assert tg.backends.cudnn.deterministic is True
    tg.backends.cudnn.deterministic = False
    tg.cuda.manual_seed(1)
    tg.cuda.manual_seed_all(1)
    tg.cuda.synchronize()
    tg.cuda.empty_cache()
    with pytest.raises(TypeError):
        tg.cuda.manual_seed(1.5)
    if gpu:
        assert tg.cuda.current_device() == 0 and isinstance(tg.cuda.get_device_name(), str)
    else:  # torch: RuntimeError without a GPU (AssertionError in a CPU-only build)
        with pytest.raises(RuntimeError):
            tg.cuda.current_device()
    # the idiom of every tutorial
    device = tg.device("cuda" if tg.cuda.is_available() else "cpu")
    x = tg.ones(2).to(device, non_blocking=True)
    assert x.device == device and tg.ones(2).to(device=device, dtype=tg.float64).dtype is tg.float64


def test_device_objects():
    for spec in ("cpu", "cuda", "cuda:0"):
        assert str(tg.device(spec)) == str(torch.device(spec)) and repr(tg.device(spec)) == repr(torch.device(spec))
    assert repr(tg.device("cuda", 0)) == repr(torch.device("cuda", 0))
    assert tg.device("cuda", 0).index == 0 and tg.device("cpu").index is None
    same_error(lambda: tg.device("cuda:0", 0), lambda: torch.device("cuda:0", 0))
    with pytest.raises(ValueError):
        tg.device("tpu")


def test_variable_inference_mode_threads():
    x = tg.ones(2)
    assert tg.autograd.Variable(x, requires_grad=True) is x and x.requires_grad
    with tg.inference_mode():
        assert not (x * 2).requires_grad
    before = tg.get_num_threads()
    tg.set_num_threads(1)
    assert tg.get_num_threads() == 1
    tg.set_num_threads(before)
    same_error(lambda: tg.set_num_threads(0), lambda: torch.set_num_threads(0))
    same_error(lambda: tg.set_num_threads(1.5), lambda: torch.set_num_threads(1.5))


# ---------------------------------------------------------------------- seeds
def _fresh(code):
    out = subprocess.run([sys.executable, "-c", "import tinygrad_mnist as tg\n" + code], capture_output=True,
                         text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    return out.stdout


def test_each_process_draws_its_own_seed_as_torch():
    first, second = _fresh("print(tg.initial_seed(), tg.rand(3).tolist())"), _fresh(
        "print(tg.initial_seed(), tg.rand(3).tolist())")
    assert first != second
    # the seed it reports reproduces its numbers
    seed, *_ = first.split(" ", 1)
    again = _fresh(f"tg.manual_seed({seed}); print({seed}, tg.rand(3).tolist())")
    assert again == first


def test_manual_seed_seed_and_generators():
    tg.manual_seed(7)
    assert tg.initial_seed() == torch.manual_seed(7).initial_seed() == 7
    a = tg.randn(3)
    tg.manual_seed(7)
    assert tg.randn(3).tolist() == a.tolist()
    s = tg.seed()
    assert tg.initial_seed() == s and 0 <= s < 2 ** 64
    assert tg.Generator().initial_seed() == torch.Generator().initial_seed()
    assert tg.manual_seed(-1).initial_seed() == torch.manual_seed(-1).initial_seed()
    g = tg.Generator().manual_seed(3)
    state = g.get_state()
    x = tg.rand(2, generator=g)
    g.set_state(state)
    assert tg.rand(2, generator=g).tolist() == x.tolist()
    tg.manual_seed(0)


# ---------------------------------------------------------------------- Size, type strings, typed classes
def test_size_is_a_tuple_that_prints_like_torch_size():
    s = tg.zeros(2, 3, 4).shape
    ts = torch.zeros(2, 3, 4).shape
    assert s == (2, 3, 4) == ts and isinstance(s, tuple) and isinstance(s, tg.Size)
    assert repr(s) == repr(ts).replace("torch.", "tinygrad_mnist.") == str(s)
    assert type(s[1:]) is tg.Size and s[1:] == ts[1:] and s[0] == 2
    assert type(s + (5,)) is tg.Size and type((1,) + s) is tg.Size and (1,) + s == (1,) + ts
    assert s.numel() == ts.numel() == 24 and tg.Size([]).numel() == 1
    assert tg.zeros(2, 3).size() == (2, 3) and tg.zeros(2, 3).size(-1) == 3
    n, c, h = s
    assert (n, c, h) == (2, 3, 4) and hash(s) == hash((2, 3, 4))
    assert tg.zeros(s).shape == s and tg.ones(*s).shape == s
    same_error(lambda: tg.tensor(1.0).size(0), lambda: torch.tensor(1.0).size(0))


def test_type_strings_and_conversions():
    cases = [tg.float32, tg.float64, tg.int64, tg.int32, tg.uint8, tg.bool]
    for dt, tdt in zip(cases, [torch.float32, torch.float64, torch.int64, torch.int32, torch.uint8, torch.bool]):
        assert tg.zeros(2, dtype=dt).type() == torch.zeros(2, dtype=tdt).type()
    x = tg.tensor([1.7, -2.2])
    assert x.type("torch.LongTensor").tolist() == torch.tensor([1.7, -2.2]).type("torch.LongTensor").tolist()
    assert x.type(tg.DoubleTensor).dtype is tg.float64 and x.type(tg.int64).dtype is tg.int64
    assert x.type("torch.DoubleTensor").type() == "torch.DoubleTensor"
    with pytest.raises(ValueError):
        x.type("torch.ComplexTensor")


def test_typed_tensor_classes():
    for name in ("FloatTensor", "DoubleTensor", "LongTensor", "IntTensor", "ByteTensor", "BoolTensor"):
        ours, ref = getattr(tg, name), getattr(torch, name)
        assert ours([1, 0]).tolist() == ref([1, 0]).tolist() and ours([1, 0]).type() == ref([1, 0]).type()
        assert ours(2, 3).shape == ref(2, 3).shape and ours(tg.Size([2])).shape == (2,)
        assert ours().shape == ref().shape == (0,)
        assert isinstance(ours([1]), ours) and isinstance(ref([1]), ref)
    assert isinstance(tg.randn(2), tg.FloatTensor) and not isinstance(tg.randn(2).double(), tg.FloatTensor)
    assert not isinstance(tg.randn(2), tg.cuda.FloatTensor) and not isinstance(np.zeros(2), tg.FloatTensor)
    assert isinstance(tg.tensor([1]), tg.Tensor)


# ---------------------------------------------------------------------- NumPy, .data[0], Variable
def test_numpy_conversion_is_refused_where_torch_refuses():
    x = tg.tensor([[1.0, 2.0]])
    a = np.asarray(x)
    assert a.shape == (1, 2) and np.shares_memory(a, x.array)
    assert np.asarray(x, dtype=np.float64).dtype == np.float64 and np.array(x).tolist() == [[1.0, 2.0]]
    w, tw = tg.ones(2, requires_grad=True), torch.ones(2, requires_grad=True)
    same_error(lambda: np.asarray(w), lambda: np.asarray(tw))
    assert np.asarray(w.detach()).tolist() == [1.0, 1.0]
    assert tg.tensor([tg.tensor(1.0), tg.tensor(2.0, requires_grad=True)]).tolist() == [1.0, 2.0]
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    image = plt.imshow(tg.rand(4, 4))
    assert image.get_array().shape == (4, 4)
    plt.close("all")


def test_zero_dim_data_index_hints_item():
    loss, tloss = tg.tensor(0.25), torch.tensor(0.25)
    same_error(lambda: loss.data[0], lambda: tloss.data[0],
               match=re.escape("invalid index of a 0-dim tensor. Use `tensor.item()` in Python"))
    assert loss.item() == 0.25 and loss[()].item() == 0.25 and loss[None].shape == (1,)


# ---------------------------------------------------------------------- printing
PRINT_CASES = [
    np.array(1.5), np.array(3), np.array(True), np.zeros(0), np.zeros((0, 3)), np.zeros((2, 0), dtype=np.int64),
    np.arange(6).reshape(2, 3), np.arange(6.0).reshape(2, 3), np.array([1e-5, 1.0]), np.array([1e9, 1.0]),
    np.array([np.nan, np.inf, -np.inf, 1.0]), np.array([np.nan, 2.0]), np.array([0.0, 0.0]), np.array([1e10, 2e10]),
    np.array([True, False]), np.arange(100).astype(np.uint8), np.arange(40).astype(np.int32),
    np.array([-0.0, 1.5]), np.array(1e-8), np.array(np.nan), np.array([123456.789, 0.5]), np.array([1.0, 2.0, 1e5]),
]


@pytest.mark.parametrize("k", range(len(PRINT_CASES)))
def test_repr_matches_torch(k):
    x = PRINT_CASES[k]
    assert repr(tg.tensor(x)) == repr(torch.tensor(x)).replace("torch.", "tinygrad_mnist.")


def test_repr_of_random_and_large_tensors_and_options():
    rng = np.random.default_rng(0)
    for x in (rng.standard_normal((3, 4)), rng.standard_normal(2000), rng.standard_normal((40, 40)),
              rng.standard_normal((2, 3, 4)).astype(np.float32), rng.standard_normal(30) * 1e3,
              rng.integers(-1000, 1000, (5, 30)), rng.standard_normal((2, 2, 2, 2)), rng.standard_normal((11, 12, 13))):
        assert repr(tg.tensor(x)) == repr(torch.tensor(x)).replace("torch.", "tinygrad_mnist."), x.shape
    x = rng.standard_normal((3, 3))
    for options in ({"precision": 2}, {"sci_mode": True}, {"sci_mode": False}, {"profile": "short"},
                    {"threshold": 5, "edgeitems": 1}, {"linewidth": 30}, {"profile": "full"}, {"edgeitems": 0, "threshold": 4}):
        with tg.printoptions(**options):
            torch.set_printoptions(**options)
            try:
                for y in (x, x * 1e-6, np.arange(20.0)):
                    assert repr(tg.tensor(y)) == repr(torch.tensor(y)).replace("torch.", "tinygrad_mnist."), options
            finally:
                torch.set_printoptions(profile="default")
    assert tg.get_printoptions()["precision"] == 4


def test_repr_suffixes_grad_fn_and_requires_grad():
    x, tx = tg.tensor([1.0, 2.0], requires_grad=True), torch.tensor([1.0, 2.0], requires_grad=True)
    assert repr(x) == repr(tx)
    # the engine's node names end in Backward; torch's add a number
    assert repr(x * 2) == repr(tx * 2).replace("MulBackward0", "MulBackward")
    long = tg.tensor(np.arange(20.0) * 1.5, dtype=tg.float64, requires_grad=True)
    tlong = torch.tensor(np.arange(20.0) * 1.5, dtype=torch.float64, requires_grad=True)
    assert repr(long) == repr(tlong).replace("torch.", "tinygrad_mnist.")
    assert f"{tg.tensor(0.123456):.2f}" == "0.12" and str(tg.tensor([1, 2])) == "tensor([1, 2])"


# ---------------------------------------------------------------------- factories
def test_like_factories():
    for dtype in (tg.float64, tg.float32):
        x = tg.ones(2, 3, dtype=dtype)
        for fn in (tg.zeros_like, tg.ones_like, tg.empty_like, tg.randn_like, tg.rand_like):
            y = fn(x)
            assert y.shape == (2, 3) and y.dtype is dtype and not y.requires_grad
        assert tg.full_like(x, 7).tolist() == [[7.0] * 3] * 2
        assert tg.randn_like(x, requires_grad=True).requires_grad
        assert tg.zeros_like(x, dtype=tg.int64).dtype is tg.int64
    r = tg.randint_like(tg.zeros(100, dtype=tg.int64), 3, 6)
    assert r.dtype is tg.int64 and 3 <= r.min().item() and r.max().item() < 6
    assert tg.randint_like(tg.zeros(50), 4).dtype is tg.float32 and tg.randint_like(tg.zeros(50), 4).max().item() < 4
    u = tg.rand_like(tg.zeros(1000))
    assert 0 <= u.min().item() and u.max().item() < 1


def test_new_factories_eye_linspace_empty_from_numpy():
    x = tg.ones(2, dtype=tg.float64)
    tx = torch.ones(2, dtype=torch.float64)
    for ours, ref in ((x.new_zeros(2, 3), tx.new_zeros(2, 3)), (x.new_ones((1, 2)), tx.new_ones((1, 2))),
                      (x.new_full((2,), 3.5), tx.new_full((2,), 3.5)), (x.new_tensor([1, 2]), tx.new_tensor([1, 2])),
                      (x.new_zeros(2, dtype=tg.int64), tx.new_zeros(2, dtype=torch.int64)),
                      (x.new_empty(3).zero_(), tx.new_empty(3).zero_()),
                      (tg.eye(3), torch.eye(3)), (tg.eye(2, 4, dtype=tg.int64), torch.eye(2, 4, dtype=torch.int64)),
                      (tg.linspace(-1, 1, 7), torch.linspace(-1, 1, 7)), (tg.linspace(0, 1, 1), torch.linspace(0, 1, 1)),
                      (tg.linspace(0, 10, 5, dtype=tg.float64), torch.linspace(0, 10, 5, dtype=torch.float64)),
                      (tg.empty(2, 3).zero_(), torch.empty(2, 3).zero_()), (tg.empty((0,)), torch.empty((0,)))):
        np.testing.assert_allclose(ours.numpy(), ref.numpy(), rtol=1e-6, atol=1e-7)
        assert ours.shape == ref.shape and ours.type() == ref.type()
    assert x.new_zeros(2, requires_grad=True).requires_grad
    a = np.arange(3.0)
    t = tg.from_numpy(a)
    a[0] = 5
    assert t[0].item() == 5 and t.dtype is tg.float64
    same_error(lambda: tg.from_numpy([1, 2]), lambda: torch.from_numpy([1, 2]))


# ---------------------------------------------------------------------- in place
INPLACE = {
    "add_": lambda t, m: t.add_(m.ones_like(t) * 2, alpha=0.5), "sub_": lambda t, m: t.sub_(1.5),
    "mul_": lambda t, m: t.mul_(-2), "div_": lambda t, m: t.div_(4), "div_floor": lambda t, m: t.div_(2, rounding_mode="floor"),
    "iadd": lambda t, m: t.__iadd__(1), "itruediv": lambda t, m: t.__itruediv__(3), "ifloordiv": lambda t, m: t.__ifloordiv__(2),
    "imod": lambda t, m: t.__imod__(2), "ipow": lambda t, m: t.__ipow__(2),
    "zero_": lambda t, m: t.zero_(), "fill_": lambda t, m: t.fill_(3.25), "fill_tensor": lambda t, m: t.fill_(m.tensor(2.0)),
    "copy_": lambda t, m: t.copy_(m.arange(t.shape[-1], dtype=t.dtype)), "clamp_": lambda t, m: t.clamp_(-1, 1),
    "clamp_tensor": lambda t, m: t.clamp_(min=m.zeros_like(t)), "clamp_min_": lambda t, m: t.clamp_min_(0.5),
    "clamp_max_": lambda t, m: t.clamp_max_(0.5), "clip_": lambda t, m: t.clip_(0, 1), "relu_": lambda t, m: t.relu_(),
    "addcmul_": lambda t, m: t.addcmul_(t.clone(), t.clone(), value=0.5),
    "addcdiv_": lambda t, m: t.addcdiv_(t.clone(), t.clone().abs() + 1, value=2),
    "exp_": lambda t, m: t.exp_(), "log_": lambda t, m: t.abs_().log_(), "sqrt_": lambda t, m: t.abs_().sqrt_(),
    "pow_": lambda t, m: t.pow_(3), "abs_": lambda t, m: t.abs_(), "neg_": lambda t, m: t.neg_(),
    "sigmoid_": lambda t, m: t.sigmoid_(), "tanh_": lambda t, m: t.tanh_(), "floor_": lambda t, m: t.floor_(),
    "ceil_": lambda t, m: t.ceil_(), "round_": lambda t, m: t.round_(decimals=1), "trunc_": lambda t, m: t.trunc_(),
    "sign_": lambda t, m: t.sign_(), "reciprocal_": lambda t, m: t.reciprocal_(), "rsqrt_": lambda t, m: t.abs_().rsqrt_(),
    "sin_": lambda t, m: t.sin_(), "cos_": lambda t, m: t.cos_(), "log1p_": lambda t, m: t.abs_().log1p_(),
    "expm1_": lambda t, m: t.expm1_(), "erf_": lambda t, m: t.erf_(), "square_": lambda t, m: t.square_(),
    "masked_fill_": lambda t, m: t.masked_fill_(t > 0, -1.0),
    "index_fill_": lambda t, m: t.index_fill_(0, m.tensor([0]), 9.0),
    "index_add_": lambda t, m: t.index_add_(0, m.tensor([0, 0]), m.ones(2, *t.shape[1:], dtype=t.dtype)),
    "lerp_": lambda t, m: t.lerp_(m.ones_like(t), 0.25), "tril_": lambda t, m: t.tril_(), "triu_": lambda t, m: t.triu_(1),
    "fmod_": lambda t, m: t.fmod_(0.7), "remainder_": lambda t, m: t.remainder_(0.7),
    "unsqueeze_": lambda t, m: t.unsqueeze_(0), "squeeze_": lambda t, m: t.unsqueeze_(1).squeeze_(1),
    "t_": lambda t, m: t.t_(), "transpose_": lambda t, m: t.transpose_(0, 1),
}


@pytest.mark.parametrize("name", list(INPLACE))
def test_inplace_forms_match_torch(name):
    x = np.random.default_rng(len(name)).standard_normal((3, 4))
    ours, ref = tg.tensor(x), torch.tensor(x)
    out_ours, out_ref = INPLACE[name](ours, tg), INPLACE[name](ref, torch)
    assert out_ours is ours and out_ref is ref
    np.testing.assert_allclose(ours.numpy(), ref.numpy(), rtol=1e-12, atol=1e-12)
    assert ours.shape == ref.shape and ours._version >= 1
    # refused on a leaf that requires grad, in grad mode; allowed under no_grad
    leaf, tleaf = tg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    same_error(lambda: INPLACE[name](leaf, tg), lambda: INPLACE[name](tleaf, torch))
    with tg.no_grad():
        INPLACE[name](leaf, tg)
    assert leaf.requires_grad and leaf.is_leaf


def test_inplace_dtype_errors_speak_like_torch():
    for fn in (lambda t: t.add_(1.5), lambda t: t.mul_(1.5), lambda t: t.div_(2), lambda t: t.sqrt_(),
               lambda t: t.exp_(), lambda t: t.sub_(tg.ones(2) if isinstance(t, tg.Tensor) else torch.ones(2)),
               lambda t: t.clamp_(0.5), lambda t: t.sigmoid_(), lambda t: t.__itruediv__(2)):
        same_error(lambda: fn(tg.tensor([1, 2])), lambda: fn(torch.tensor([1, 2])),
                   match="result type Float can't be cast to the desired output type Long")
    same_error(lambda: tg.tensor([True]).add_(1), lambda: torch.tensor([True]).add_(1))
    for fn in (lambda t: t.add_(2), lambda t: t.mul_(3), lambda t: t.fill_(1.7), lambda t: t.abs_(), lambda t: t.neg_(),
               lambda t: t.clamp_(0, 1), lambda t: t.div_(2, rounding_mode="floor"), lambda t: t.copy_(t * 0.5)):
        a, b = tg.tensor([1, -2]), torch.tensor([1, -2])
        fn(a)
        fn(b)
        assert a.tolist() == b.tolist() and a.dtype is tg.int64
    x = tg.ones(2, 3)
    same_error(lambda: x.add_(tg.ones(4, 2, 3)), lambda: torch.ones(2, 3).add_(torch.ones(4, 2, 3)))
    same_error(lambda: x.copy_(tg.ones(4)), lambda: torch.ones(2, 3).copy_(torch.ones(4)))
    same_error(lambda: x.fill_(tg.ones(2)), lambda: torch.ones(2, 3).fill_(torch.ones(2)))


def test_inplace_raises_the_version_a_saved_tensor_checks():
    w = tg.ones(3, requires_grad=True)
    x = tg.ones(3)
    y = (w * x).sum()
    x.exp_()
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.backward()


def test_random_inplace_draws():
    tg.manual_seed(0)
    b = tg.zeros(10000).bernoulli_(0.3)
    assert set(np.unique(b.numpy())) <= {0.0, 1.0} and abs(b.mean().item() - 0.3) < 0.03
    e = tg.zeros(10000, dtype=tg.float64).exponential_(2.0)
    assert abs(e.mean().item() - 0.5) < 0.05 and e.min().item() >= 0
    r = tg.zeros(1000, dtype=tg.int64).random_(3, 7)
    assert r.min().item() >= 3 and r.max().item() < 7
    u = tg.zeros(1000).uniform_(-2, -1)
    assert -2 <= u.min().item() and u.max().item() < -1
    n = tg.zeros(10000, dtype=tg.float64).normal_(3, 0.5)
    assert abs(n.mean().item() - 3) < 0.05 and abs(n.std().item() - 0.5) < 0.05


def test_detach_and_type_as():
    x = tg.ones(2, requires_grad=True)
    y = x * 2
    y.detach_()
    assert y.is_leaf and not y.requires_grad and y.grad_fn is None
    assert_matches_torch(lambda a, b: a.type_as(b) * 2, lambda a, b: a.type_as(b) * 2, np.array([1.5, 2.5]),
                         np.array([1, 2]))
    assert tg.tensor([1, 2]).type_as(tg.ones(1, dtype=tg.float64)).dtype is tg.float64
    assert math.isclose(tg.tensor(2.0).pow(0.5).item(), 2 ** 0.5, rel_tol=1e-6)


def test_backward_inputs_only_touch_those_grads():
    a, b = tg.tensor([1.0, 2.0], requires_grad=True), tg.tensor([3.0], requires_grad=True)
    ta, tb = torch.tensor([1.0, 2.0], requires_grad=True), torch.tensor([3.0], requires_grad=True)
    (a * b).sum().backward(inputs=[a])
    (ta * tb).sum().backward(inputs=[ta])
    assert a.grad.tolist() == ta.grad.tolist() and b.grad is None and tb.grad is None
