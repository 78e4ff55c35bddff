"""nn: every layer against its torch twin (same weights: outputs and the gradients of input,
weight and bias), and Module's machinery (registration, names, state_dict, load_state_dict
errors, train/eval, repr, dtype/device moves, zero_grad, containers)."""
import copy
import re
from collections import OrderedDict

import numpy as np
import pytest
import torch
import torch.nn.functional as TF
from hypothesis import given, strategies as st

import tinygrad_mnist as tg
import tinygrad_mnist.nn.functional as F
from tinygrad_mnist import nn
from tinygrad_mnist.backend import to_numpy
from tinygrad_mnist.testing import assert_matches_torch, strategies as tst
from tinygrad_mnist.testing.compare import _compare, tolerances

DTYPES = [np.float64, np.float32]
TORCH_DTYPE = {np.float64: torch.float64, np.float32: torch.float32}
# compare against exact float32 on a GPU too (cuDNN convolutions default to TF32 there)
torch.backends.cudnn.allow_tf32 = False
torch.backends.cuda.matmul.allow_tf32 = False


def _torch_device(device):
    return "cuda" if tg.device(device).type == "cuda" else "cpu"


def copy_into_torch(ours, ref):
    """Load our module's state_dict into the torch module (names must agree)."""
    state = {k: torch.from_numpy(to_numpy(v.array).copy()) for k, v in ours.state_dict().items()}
    ref.load_state_dict(state)
    return ref


def check_layer(ours, ref, x, dtype, device, seed=0):
    """Same weights, same input: compare output, then input and parameter gradients."""
    rtol, atol = tolerances(dtype)
    ours.to(device, dtype=tg.dtypes.from_numpy_dtype(dtype))
    ref = copy_into_torch(ours, ref.to(TORCH_DTYPE[dtype])).to(_torch_device(device))
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in ref.named_parameters()]
    xo = tg.tensor(x.astype(dtype), device=device, requires_grad=True)
    xt = torch.tensor(x.astype(dtype), device=_torch_device(device), requires_grad=True)
    yo, yt = ours(xo), ref(xt)
    _compare("output", to_numpy(yo.array), yt.detach().cpu().numpy(), rtol, atol)
    upstream = np.random.default_rng(seed).standard_normal(tuple(yt.shape)).astype(dtype)
    yo.backward(tg.tensor(upstream, device=device))
    yt.backward(torch.tensor(upstream, device=_torch_device(device)))
    _compare("input gradient", to_numpy(xo.grad.array), xt.grad.cpu().numpy(), rtol, atol)
    for (name, po), (_, pt) in zip(ours.named_parameters(), ref.named_parameters()):
        _compare(f"gradient of {name}", to_numpy(po.grad.array), pt.grad.cpu().numpy(), rtol, atol)
    return yo


def _rng_array(seed, shape, scale=1.0):
    return np.random.default_rng(seed).standard_normal(shape) * scale


# ====================================================================== layers vs torch
@pytest.mark.parametrize("dtype", DTYPES)
@given(n=st.integers(1, 5), lead=st.lists(st.integers(1, 3), max_size=2), fin=st.integers(1, 7),
       fout=st.integers(1, 7), bias=st.booleans(), seed=st.integers(0, 1000))
def test_linear_layer_matches_torch(n, lead, fin, fout, bias, seed, dtype, device):
    x = _rng_array(seed, (n, *lead, fin), 2.0)
    check_layer(nn.Linear(fin, fout, bias=bias), torch.nn.Linear(fin, fout, bias=bias), x, dtype, device)


@pytest.mark.parametrize("dtype", DTYPES)
@given(cfg=tst.conv_configs(), groups=st.sampled_from([1, 1, 2]), seed=st.integers(0, 1000))
def test_conv2d_layer_matches_torch(cfg, groups, seed, dtype, device):
    c_in, c_out = cfg["c_in"] * groups, cfg["c_out"] * groups
    args = dict(kernel_size=cfg["kernel_size"], stride=cfg["stride"], padding=cfg["padding"],
                dilation=cfg["dilation"], groups=groups, bias=cfg["bias"])
    x = _rng_array(seed, (cfg["n"], c_in, cfg["h"], cfg["w"]))
    check_layer(nn.Conv2d(c_in, c_out, **args), torch.nn.Conv2d(c_in, c_out, **args), x, dtype, device)


@pytest.mark.parametrize("dtype", DTYPES)
@given(cfg=tst.pool_configs(max_dilation=2), seed=st.integers(0, 1000))
def test_maxpool2d_layer_matches_torch(cfg, seed, dtype, device):
    args = dict(kernel_size=cfg["kernel_size"], stride=cfg["stride"], padding=cfg["padding"],
                dilation=cfg["dilation"], ceil_mode=cfg["ceil_mode"])
    n, c, h, w = cfg["n"], cfg["c"], cfg["h"], cfg["w"]
    x = np.random.default_rng(seed).permutation(n * c * h * w).reshape(n, c, h, w) / 7.0  # no ties
    check_layer(nn.MaxPool2d(**args), torch.nn.MaxPool2d(**args), x, dtype, device)


@pytest.mark.parametrize("dtype", DTYPES)
@given(cfg=tst.pool_configs(), count_include_pad=st.booleans(), seed=st.integers(0, 1000))
def test_avgpool2d_layer_matches_torch(cfg, count_include_pad, seed, dtype, device):
    args = dict(kernel_size=cfg["kernel_size"], stride=cfg["stride"], padding=cfg["padding"],
                ceil_mode=cfg["ceil_mode"], count_include_pad=count_include_pad)
    x = _rng_array(seed, (cfg["n"], cfg["c"], cfg["h"], cfg["w"]))
    check_layer(nn.AvgPool2d(**args), torch.nn.AvgPool2d(**args), x, dtype, device)


def test_pool_layers_with_int_arguments(device):
    x = _rng_array(0, (2, 3, 9, 7))
    check_layer(nn.MaxPool2d(2), torch.nn.MaxPool2d(2), x, np.float64, device)
    check_layer(nn.MaxPool2d(3, 2, 1), torch.nn.MaxPool2d(3, 2, 1), x, np.float64, device)
    check_layer(nn.AvgPool2d(2, stride=1), torch.nn.AvgPool2d(2, stride=1), x, np.float64, device)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("make", [
    lambda m: m.ReLU(), lambda m: m.Tanh(), lambda m: m.Sigmoid(),
    lambda m: m.Softmax(dim=1), lambda m: m.LogSoftmax(dim=-1), lambda m: m.Flatten(),
    lambda m: m.Flatten(0, 2), lambda m: m.Identity(), lambda m: m.Dropout(0.3).eval()],
    ids=["relu", "tanh", "sigmoid", "softmax", "log_softmax", "flatten", "flatten02",
         "identity", "dropout_eval"])
def test_stateless_layers_match_torch(make, dtype, device):
    x = _rng_array(1, (3, 4, 2, 5), 3.0)
    x[0, 0, 0, :2] = 0.0  # relu'(0) = 0 in both
    check_layer(make(nn), make(torch.nn), x, dtype, device)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("layout", ["row_major", "batch_innermost", "strided_slice"])
def test_relu_on_arrays_longer_than_one_run(layout, dtype, device):
    """The CPU computes relu of a dense array in runs of 64K elements (``backend.relu``): values,
    gradient and memory layout over several runs and a partial one, with NaN, +-inf and +-0."""
    x = _rng_array(4, (5, 3, 70, 67))
    x.flat[::997] = np.nan
    x.flat[1::1009] = -np.inf
    x.flat[2::1013] = np.inf
    x.flat[3::101] = 0.0
    x.flat[4::103] = -0.0
    x = x.astype(dtype)
    if layout == "batch_innermost":  # what a convolution returns
        x = np.ascontiguousarray(x.transpose(1, 2, 3, 0)).transpose(3, 0, 1, 2)
    elif layout == "strided_slice":  # not one dense block: NumPy's maximum directly
        x = x[:, :, ::2]
    xt = tg.tensor(x, device=device, requires_grad=True)
    out = F.relu(xt)
    assert_matches_torch(F.relu, TF.relu, x, device=device)
    if layout != "strided_slice":
        assert out.array.strides == x.strides
    out.backward(tg.ones_like(out))
    passes = (x > 0) | np.isnan(x)  # PyTorch's rule: zero where the output is <= 0
    np.testing.assert_array_equal(to_numpy(xt.grad.array), passes.astype(dtype))


def test_relu_kink_and_inplace_ignored(device):
    x = tg.tensor([-1.0, 0.0, 2.0], device=device, requires_grad=True)
    y = nn.ReLU(inplace=True)(x)
    y.sum().backward()
    assert to_numpy(x.grad.array).tolist() == [0.0, 0.0, 1.0]
    assert to_numpy(x.detach().array).tolist() == [-1.0, 0.0, 2.0]  # input untouched


# ---------------------------------------------------------------------- functional
@pytest.mark.parametrize("dtype", DTYPES)
@given(n=st.integers(1, 4), fin=st.integers(1, 6), fout=st.integers(1, 6), bias=st.booleans(),
       seed=st.integers(0, 1000))
def test_functional_linear_matches_torch(n, fin, fout, bias, seed, dtype, device):
    rng = np.random.default_rng(seed)
    inputs = [rng.standard_normal((n, fin)), rng.standard_normal((fout, fin))]
    if bias:
        inputs.append(rng.standard_normal(fout))
    assert_matches_torch(F.linear, TF.linear, *inputs, dtype=dtype, device=device)
    # a 1-D input (one sample)
    assert_matches_torch(F.linear, TF.linear, inputs[0][0], *inputs[1:], dtype=dtype, device=device)


def test_functional_linear_is_one_op_and_checks_dtypes(device):
    x = tg.randn(2, 3, device=device, requires_grad=True)
    layer = nn.Linear(3, 4, device=device)
    y = layer(x)
    assert y.grad_fn.name() == "LinearBackward" and len(y.grad_fn.next_functions) == 3
    with pytest.raises(RuntimeError, match="same dtype.*float64.*float32"):
        F.linear(x.double(), layer.weight, layer.bias)
    with pytest.raises(RuntimeError, match=r"input of shape \(2, 5\).*weight of shape \(4, 3\)"):
        F.linear(tg.randn(2, 5, device=device), layer.weight)


@pytest.mark.parametrize("fn", ["softmax", "log_softmax"])
def test_functional_softmax(fn, device):
    x = _rng_array(2, (3, 4, 5))
    for dim in (0, 1, -1):
        assert_matches_torch(lambda t: getattr(F, fn)(t, dim=dim), lambda t: getattr(TF, fn)(t, dim=dim), x,
                             device=device)
    with pytest.warns(UserWarning, match="Implicit dimension choice"):
        out = getattr(F, fn)(tg.tensor(x, device=device))
    with pytest.warns(UserWarning):
        ref = getattr(TF, fn)(torch.tensor(x))
    np.testing.assert_allclose(to_numpy(out.array), ref.numpy(), rtol=1e-12)


def test_functional_misc_match_torch(device):
    x = _rng_array(3, (2, 3, 4, 5))
    assert_matches_torch(lambda t: F.flatten(t, 1), lambda t: torch.flatten(t, 1), x, device=device)
    assert_matches_torch(F.flatten, torch.flatten, x, device=device)
    assert_matches_torch(F.sigmoid, torch.sigmoid, x, device=device)
    assert_matches_torch(F.tanh, torch.tanh, x, device=device)
    assert_matches_torch(F.relu, TF.relu, x, device=device)
    assert_matches_torch(lambda t: F.pad(t, (1, 2, 0, 1)), lambda t: TF.pad(t, (1, 2, 0, 1)), x, device=device)
    labels = np.array([[0, 3], [2, 1]])
    for k in (-1, 5):
        assert_matches_torch(lambda t: F.one_hot(t, k), lambda t: TF.one_hot(t, k), labels, device=device)
    with pytest.raises(RuntimeError, match="out of range"):
        F.one_hot(tg.tensor([0, 4]), 3)


@pytest.mark.filterwarnings("ignore:Using padding='same'")
@given(cfg=tst.conv_configs(), seed=st.integers(0, 1000))
def test_functional_conv2d_string_padding(cfg, seed, device):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((cfg["n"], cfg["c_in"], cfg["h"], cfg["w"]))
    w = rng.standard_normal((cfg["c_out"], cfg["c_in"], *cfg["kernel_size"]))
    for padding in ("same", "valid"):
        if padding == "valid" and any(d * (k - 1) + 1 > s for d, k, s in
                                      zip(cfg["dilation"], cfg["kernel_size"], (cfg["h"], cfg["w"]))):
            continue
        assert_matches_torch(lambda a, b: F.conv2d(a, b, padding=padding, dilation=cfg["dilation"]),
                             lambda a, b: TF.conv2d(a, b, padding=padding, dilation=cfg["dilation"]),
                             x, w, device=device)


# ---------------------------------------------------------------------- dropout
def test_dropout_training_statistics_and_gradient(device):
    tg.manual_seed(0)
    layer = nn.Dropout(p=0.3)
    x = tg.ones(400, 500, dtype=tg.float64, device=device, requires_grad=True)
    y = layer(x)
    out = to_numpy(y.detach().array)
    zero = out == 0
    assert zero.mean() == pytest.approx(0.3, abs=0.005)
    np.testing.assert_allclose(out[~zero], 1 / 0.7, rtol=1e-15)  # inverted: survivors scaled by 1/(1-p)
    y.sum().backward()
    np.testing.assert_array_equal(to_numpy(x.grad.array), out)  # gradient = the same mask
    assert y.dtype == tg.float64


def test_dropout_eval_is_identity_and_p_edges(device):
    x = tg.randn(4, 5, device=device)
    layer = nn.Dropout(0.5)
    layer.eval()
    assert layer(x) is x
    assert F.dropout(x, 0.5, training=False) is x
    assert F.dropout(x, 0.0) is x
    assert (to_numpy(F.dropout(x, 1.0).array) == 0).all()
    with pytest.raises(ValueError, match="between 0 and 1, but got 1.5"):
        nn.Dropout(1.5)
    with pytest.raises(ValueError, match="between 0 and 1"):
        F.dropout(x, -0.1)


def test_dropout_mask_follows_the_seed(device):
    x = tg.ones(10, 10, device=device)
    tg.manual_seed(5)
    a = to_numpy(F.dropout(x).array)
    tg.manual_seed(5)
    b = to_numpy(F.dropout(x).array)
    c = to_numpy(F.dropout(x).array)
    assert (a == b).all() and not (a == c).all()


# ---------------------------------------------------------------------- layer errors
def test_layer_errors_name_the_layer_and_shapes(device):
    conv = nn.Conv2d(3, 8, 5, device=device)
    with pytest.raises(RuntimeError) as err:
        conv(tg.zeros(2, 1, 28, 28, device=device))
    assert str(err.value) == ("Conv2d(3, 8, kernel_size=(5, 5)): expected input with 3 channels, "
                              "got input of shape (2, 1, 28, 28)")
    with pytest.raises(RuntimeError, match=r"Conv2d\(3, 8, kernel_size=\(5, 5\)\): input of shape "
                                           r"\(2, 3, 4, 9\) is too small"):
        conv(tg.zeros(2, 3, 4, 9, device=device))
    with pytest.raises(RuntimeError, match=r"Conv2d\(3, 8, .*4-D input.*\(3, 28\)"):
        conv(tg.zeros(3, 28, device=device))
    fc = nn.Linear(784, 10, device=device)
    with pytest.raises(RuntimeError) as err:
        fc(tg.zeros(2, 100, device=device))
    assert str(err.value) == ("Linear(in_features=784, out_features=10, bias=True): expected input with "
                              "784 features in its last dimension, got input of shape (2, 100)")
    with pytest.raises(RuntimeError, match=r"MaxPool2d\(kernel_size=3.*\(1, 1, 2, 2\) is too small"):
        nn.MaxPool2d(3)(tg.zeros(1, 1, 2, 2, device=device))
    with pytest.raises(ValueError, match="divisible by groups"):
        nn.Conv2d(3, 4, 3, groups=2)


def test_conv2d_unbatched_input(device):
    x = _rng_array(4, (2, 6, 5))
    y = check_layer(nn.Conv2d(2, 3, 3, padding=1), torch.nn.Conv2d(2, 3, 3, padding=1), x, np.float64, device)
    assert y.shape == (3, 6, 5)


# ====================================================================== Module machinery
class OurNet(nn.Module):
    def __init__(self, m=nn):
        super().__init__()
        self.conv1 = m.Conv2d(1, 6, 5)
        self.pool = m.MaxPool2d(2, 2)
        self.conv2 = m.Conv2d(6, 16, 5, bias=False)
        self.fc1 = m.Linear(16 * 4 * 4, 120)
        self.head = m.Sequential(m.ReLU(), m.Linear(120, 84), m.Dropout(0.25), m.Linear(84, 10))
        self.blocks = m.ModuleList([m.Linear(10, 10) for _ in range(3)])
        self.scale = m.Parameter((tg if m is nn else torch).ones(1))

    def forward(self, x):
        x = self.pool(F.relu(self.conv1(x)))
        x = self.pool(F.relu(self.conv2(x)))
        x = self.head(self.fc1(x.flatten(1)))
        for b in self.blocks:
            x = b(x)
        return x * self.scale


class TorchNet(torch.nn.Module):
    def __init__(self):
        super().__init__()
        m = torch.nn
        self.conv1 = m.Conv2d(1, 6, 5)
        self.pool = m.MaxPool2d(2, 2)
        self.conv2 = m.Conv2d(6, 16, 5, bias=False)
        self.fc1 = m.Linear(16 * 4 * 4, 120)
        self.head = m.Sequential(m.ReLU(), m.Linear(120, 84), m.Dropout(0.25), m.Linear(84, 10))
        self.blocks = m.ModuleList([m.Linear(10, 10) for _ in range(3)])
        self.scale = m.Parameter(torch.ones(1))

    def forward(self, x):
        x = self.pool(TF.relu(self.conv1(x)))
        x = self.pool(TF.relu(self.conv2(x)))
        x = self.head(self.fc1(x.flatten(1)))
        for b in self.blocks:
            x = b(x)
        return x * self.scale


# give both the same class name so that reprs and error messages compare equal
OurNet.__name__ = TorchNet.__name__ = "Net"


def test_registration_names_and_order_match_torch():
    ours, ref = OurNet(), TorchNet()
    assert [(n, tuple(p.shape)) for n, p in ours.named_parameters()] == \
        [(n, tuple(p.shape)) for n, p in ref.named_parameters()]
    assert [n for n, _ in ours.named_modules()] == [n for n, _ in ref.named_modules()]
    assert [n for n, _ in ours.named_children()] == [n for n, _ in ref.named_children()]
    assert [type(m).__name__ for m in ours.modules()] == [type(m).__name__ for m in ref.modules()]
    assert [type(m).__name__ for m in ours.children()] == [type(m).__name__ for m in ref.children()]
    assert list(ours.state_dict()) == list(ref.state_dict())
    assert len(list(ours.parameters())) == len(list(ref.parameters()))
    assert [n for n, _ in ours.named_parameters(recurse=False)] == ["scale"]
    assert all(isinstance(p, nn.Parameter) and p.is_leaf and p.requires_grad for p in ours.parameters())


def test_whole_net_matches_torch_and_repr_equal(device):
    ours, ref = OurNet().eval(), TorchNet().eval()
    assert repr(ours) == repr(ref)
    x = _rng_array(0, (2, 1, 28, 28))
    check_layer(ours, ref, x, np.float64, device)


@pytest.mark.parametrize("make", [
    lambda m: m.Linear(784, 10), lambda m: m.Linear(3, 4, bias=False),
    lambda m: m.Conv2d(1, 6, 5), lambda m: m.Conv2d(1, 16, kernel_size=3, stride=2, padding=1),
    lambda m: m.Conv2d(4, 8, (3, 5), stride=(2, 1), padding=(1, 2), dilation=2, groups=2, bias=False),
    lambda m: m.Conv2d(2, 2, 3, padding="same"), lambda m: m.Conv2d(2, 2, 3, padding="valid"),
    lambda m: m.ReLU(), lambda m: m.ReLU(inplace=True), lambda m: m.MaxPool2d(2),
    lambda m: m.MaxPool2d((2, 3), stride=1, padding=1), lambda m: m.AvgPool2d(4),
    lambda m: m.AvgPool2d(3, 2, 1), lambda m: m.Flatten(), lambda m: m.Flatten(0, 2), lambda m: m.Dropout(),
    lambda m: m.Dropout(0.25), lambda m: m.Identity(), lambda m: m.Softmax(dim=1), lambda m: m.LogSoftmax(1),
    lambda m: m.Tanh(), lambda m: m.Sigmoid(), lambda m: m.CrossEntropyLoss(), lambda m: m.NLLLoss(),
    lambda m: m.MSELoss(), lambda m: m.Sequential(),
    lambda m: m.Sequential(m.Conv2d(1, 32, 3, 1), m.ReLU(), m.MaxPool2d(2), m.Dropout(0.25), m.Flatten(),
                           m.Sequential(m.Linear(32, 10), m.LogSoftmax(dim=1))),
    lambda m: m.Sequential(OrderedDict([("conv", m.Conv2d(1, 2, 3)), ("act", m.ReLU())])),
    lambda m: m.ModuleList([m.Linear(2, 2), m.Linear(2, 2), m.Linear(2, 2), m.ReLU(), m.Linear(2, 2)]),
    lambda m: m.ModuleList()])
def test_repr_equals_torch(make):
    assert repr(make(nn)) == repr(make(torch.nn))


def test_state_dict_shares_storage_and_is_detached():
    net = OurNet()
    sd = net.state_dict()
    assert isinstance(sd, OrderedDict)
    w = sd["conv1.weight"]
    assert not w.requires_grad and w.grad_fn is None and not isinstance(w, nn.Parameter)
    w.array[0, 0, 0, 0] = 42.0
    assert net.conv1.weight.array[0, 0, 0, 0] == 42.0
    assert net.state_dict(keep_vars=True)["conv1.weight"] is net.conv1.weight
    assert list(net.head.state_dict()) == ["1.weight", "1.bias", "3.weight", "3.bias"]


def test_load_state_dict_roundtrip_with_torch():
    ours, ref = OurNet(), TorchNet()
    result = ours.load_state_dict({k: v.detach().numpy() for k, v in ref.state_dict().items()})
    assert result.missing_keys == [] and result.unexpected_keys == []
    assert repr(result) == "<All keys matched successfully>"
    for (n, p), (_, q) in zip(ours.named_parameters(), ref.named_parameters()):
        np.testing.assert_array_equal(to_numpy(p.array), q.detach().numpy(), err_msg=n)
    weight = ours.fc1.weight
    ours.load_state_dict(OurNet().state_dict())  # tensors too; in place: same Parameter objects
    assert ours.fc1.weight is weight


def _normalize_torch_message(msg):
    return re.sub(r"torch\.Size\(\[([^\]]*)\]\)",
                  lambda m: "(" + m.group(1) + ("," if m.group(1).count(",") == 0 and m.group(1) else "") + ")",
                  msg)


def test_load_state_dict_reports_everything_and_changes_nothing():
    ours, ref = OurNet(), TorchNet()
    bad_ours = OurNet().state_dict()
    bad_torch = TorchNet().state_dict()
    for bad in (bad_ours, bad_torch):
        del bad["fc1.bias"], bad["head.3.weight"]
        bad["extra.weight"] = bad["conv1.weight"]
        bad["conv1.bias"] = bad["conv1.bias"][:3]  # wrong shape (6,) -> (3,)
    snapshot = {n: to_numpy(p.array).copy() for n, p in ours.named_parameters()}
    with pytest.raises(RuntimeError) as err:
        ours.load_state_dict(bad_ours)
    with pytest.raises(RuntimeError) as torch_err:
        ref.load_state_dict(bad_torch)
    msg = str(err.value)
    assert msg.startswith("Error(s) in loading state_dict for Net:")
    assert 'Missing key(s) in state_dict: "fc1.bias", "head.3.weight".' in msg
    assert 'Unexpected key(s) in state_dict: "extra.weight".' in msg
    assert "size mismatch for conv1.bias: copying a param with shape (3,) from checkpoint, " \
           "the shape in current model is (6,)." in msg
    assert msg == _normalize_torch_message(str(torch_err.value))
    for n, p in ours.named_parameters():  # nothing was copied, not even the keys that were fine
        np.testing.assert_array_equal(to_numpy(p.array), snapshot[n], err_msg=n)


def test_load_state_dict_not_strict():
    ours = OurNet()
    sd = OurNet().state_dict()
    del sd["fc1.bias"]
    sd["extra"] = tg.zeros(1)
    result = ours.load_state_dict(sd, strict=False)
    assert result.missing_keys == ["fc1.bias"] and result.unexpected_keys == ["extra"]
    assert isinstance(result, tuple) and result._fields == ("missing_keys", "unexpected_keys")
    np.testing.assert_array_equal(to_numpy(ours.fc1.weight.array), to_numpy(sd["fc1.weight"].array))
    sd["fc1.weight"] = tg.zeros(3, 3)
    with pytest.raises(RuntimeError, match="size mismatch for fc1.weight"):  # shapes are checked even then
        ours.load_state_dict(sd, strict=False)


def test_train_eval_propagate():
    net = OurNet()
    assert all(m.training for m in net.modules())
    assert net.eval() is net
    assert not any(m.training for m in net.modules())
    net.train()
    assert all(m.training for m in net.modules())
    net.head.train(False)
    assert net.training and not net.head[2].training
    with pytest.raises(ValueError, match="boolean"):
        net.train("yes")


def test_dropout_in_eval_net_is_deterministic():
    net = OurNet()
    x = tg.randn(2, 1, 28, 28)
    net.eval()
    a, b = to_numpy(net(x).array), to_numpy(net(x).array)
    np.testing.assert_array_equal(a, b)
    net.train()
    assert not np.array_equal(to_numpy(net(x).array), to_numpy(net(x).array))


def test_double_then_float64_gradients_same_parameter_objects(device):
    net = OurNet().to(device)
    params = list(net.parameters())
    net.double()
    assert [id(p) for p in net.parameters()] == [id(p) for p in params]
    assert all(p.dtype == tg.float64 for p in net.parameters())
    out = net(tg.randn(2, 1, 28, 28, dtype=tg.float64, device=device))
    assert out.dtype == tg.float64
    out.sum().backward()
    assert all(p.grad.dtype == tg.float64 for p in net.parameters())
    net.float()
    assert all(p.dtype == tg.float32 and p.grad.dtype == tg.float32 for p in net.parameters())
    net.to(tg.float64)
    assert net.fc1.weight.dtype == tg.float64
    net.to(dtype=tg.float32)
    with pytest.raises(TypeError, match="floating point"):
        net.to(tg.int64)


def test_to_keeps_optimizer_working(device):
    from tinygrad_mnist import optim
    net = nn.Linear(3, 2)
    opt = optim.SGD(net.parameters(), lr=0.1)
    net.to(device).double()
    before = to_numpy(net.weight.array).copy()
    net(tg.ones(1, 3, dtype=tg.float64, device=device)).sum().backward()
    opt.step()
    assert net.weight.dtype == tg.float64 and net.weight.device == tg.device(device)
    np.testing.assert_allclose(to_numpy(net.weight.array), before - 0.1, rtol=1e-15)
    assert net.cpu() is net and net.weight.device == tg.device("cpu")


def test_zero_grad():
    net = OurNet()
    net(tg.randn(1, 1, 28, 28)).sum().backward()
    assert all(p.grad is not None for p in net.parameters())
    net.zero_grad(set_to_none=False)
    assert all(p.grad is not None and not to_numpy(p.grad.array).any() for p in net.parameters())
    net.zero_grad()
    assert all(p.grad is None for p in net.parameters())


def test_apply_visits_children_first_like_torch():
    seen_ours, seen_torch = [], []
    OurNet().apply(lambda m: seen_ours.append(type(m).__name__))
    TorchNet().apply(lambda m: seen_torch.append(type(m).__name__))
    assert seen_ours == seen_torch


def test_apply_can_reinitialise():
    net = OurNet()

    def init_weights(m):
        if isinstance(m, nn.Linear):
            nn.init.zeros_(m.weight)
    net.apply(init_weights)
    assert not to_numpy(net.fc1.weight.array).any() and to_numpy(net.conv1.weight.array).any()


def test_parameter_basics():
    t = tg.randn(2, 3)
    p = nn.Parameter(t)
    assert isinstance(p, tg.Tensor) and p.is_leaf and p.requires_grad and p.array is t.array
    assert repr(p).startswith("Parameter containing:\ntensor([[") and repr(p).endswith("requires_grad=True)")
    assert not nn.Parameter(t, requires_grad=False).requires_grad
    assert type(p * 2) is tg.Tensor
    assert not hasattr(p, "__dict__")  # no slots added to Tensor's
    q = copy.deepcopy(p)
    assert isinstance(q, nn.Parameter) and q.array is not p.array and (q.array == p.array).all()


def test_attribute_rules():
    class Bad(nn.Module):
        def __init__(self):
            self.fc = nn.Linear(1, 1)
    with pytest.raises(AttributeError, match="before Module.__init__"):
        Bad()
    m = nn.Linear(2, 2)
    with pytest.raises(TypeError, match="cannot assign 'Tensor' as parameter 'weight'"):
        m.weight = tg.zeros(2, 2)
    m.bias = None
    assert [n for n, _ in m.named_parameters()] == ["weight"]
    with pytest.raises(AttributeError, match="'Linear' object has no attribute 'nothing'"):
        m.nothing
    with pytest.raises(NotImplementedError, match="missing the required \"forward\""):
        nn.Module()(1)


def test_buffers_in_state_dict_and_moved():
    m = nn.Linear(2, 2)
    m.register_buffer("steps", tg.zeros(1, dtype=tg.int64))
    m.register_buffer("running", tg.zeros(2))
    m.register_buffer("scratch", tg.zeros(2), persistent=False)
    assert list(m.state_dict()) == ["weight", "bias", "steps", "running"]
    assert [n for n, _ in m.named_buffers()] == ["steps", "running", "scratch"]
    m.double()
    assert m.running.dtype == tg.float64 and m.steps.dtype == tg.int64  # integer buffers keep their dtype
    m.running = tg.ones(2, dtype=tg.float64)
    assert m.state_dict()["running"].array.tolist() == [1.0, 1.0]


def test_forward_hooks():
    m = nn.Linear(2, 2)
    seen = []
    h = m.register_forward_hook(lambda mod, args, out: seen.append(out.shape))
    m(tg.zeros(3, 2))
    h.remove()
    m(tg.zeros(3, 2))
    assert seen == [(3, 2)]


def test_sequential_container():
    layers = [nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 2)]
    seq = nn.Sequential(*layers)
    assert len(seq) == 3 and list(seq) == layers and seq[0] is layers[0] and seq[-1] is layers[2]
    assert isinstance(seq[1:], nn.Sequential) and list(seq[1:]) == layers[1:]
    with pytest.raises(IndexError, match="out of range"):
        seq[3]
    seq.append(nn.Tanh())
    assert len(seq) == 4 and [n for n, _ in seq.named_children()] == ["0", "1", "2", "3"]
    x = tg.randn(5, 4)
    expected = layers[2](layers[1](layers[0](x))).tanh()
    np.testing.assert_allclose(to_numpy(seq(x).array), to_numpy(expected.array), rtol=1e-6)
    named = nn.Sequential(OrderedDict([("fc", nn.Linear(4, 3)), ("act", nn.ReLU())]))
    assert list(named.state_dict()) == ["fc.weight", "fc.bias"] and named.fc is named[0]
    del seq[1]
    assert [n for n, _ in seq.named_children()] == ["0", "1", "2"] and seq[1] is layers[2]


def test_module_list_container():
    ml = nn.ModuleList([nn.Linear(2, 2)])
    ml.append(nn.Linear(2, 3)).extend([nn.ReLU()])
    ml += [nn.Linear(3, 1)]
    assert len(ml) == 4 and isinstance(ml[-1], nn.Linear) and isinstance(ml[1:3], nn.ModuleList)
    holder = nn.Module()
    holder.layers = ml
    assert [n for n, _ in holder.named_parameters()] == [
        "layers.0.weight", "layers.0.bias", "layers.1.weight", "layers.1.bias", "layers.3.weight", "layers.3.bias"]


def test_dynamic_net_style_model_trains():
    """The PyTorch 'DynamicNet' tutorial shape: a module reused a random number of times."""
    class DynamicNet(nn.Module):
        def __init__(self):
            super().__init__()
            self.a = nn.Parameter(tg.randn(()))
            self.e = nn.Parameter(tg.randn(()))

        def forward(self, x):
            y = self.a + 0 * x
            for exp in range(4, 6):
                y = y + self.e * x ** exp
            return y
    model = DynamicNet()
    assert [n for n, _ in model.named_parameters()] == ["a", "e"]
    x = tg.linspace(-1, 1, 20)
    loss = ((model(x) - x * x * x) ** 2).sum()
    loss.backward()
    assert model.a.grad is not None and model.e.grad is not None


def test_deepcopy_is_independent():
    net = nn.Sequential(nn.Linear(2, 2))
    twin = copy.deepcopy(net)
    twin[0].weight.array[...] = 0
    assert to_numpy(net[0].weight.array).any()
    twin(tg.ones(1, 2)).sum().backward()
    assert twin[0].weight.grad is not None and net[0].weight.grad is None


@pytest.mark.parametrize("dtype", DTYPES)
def test_sequential_mnist_style_model_matches_torch(dtype, device):
    def build(m):
        return m.Sequential(m.Conv2d(1, 4, 3, 1), m.ReLU(), m.Conv2d(4, 6, 3, 1, padding=1), m.ReLU(),
                            m.MaxPool2d(2), m.Dropout(0.25), m.Flatten(), m.Linear(6 * 5 * 5, 12), m.ReLU(),
                            m.Linear(12, 10), m.LogSoftmax(dim=1))
    x = _rng_array(9, (3, 1, 12, 12))
    check_layer(build(nn).eval(), build(torch.nn).eval(), x, dtype, device)

