"""nn layers beyond the tutorials' subset, against their torch twins: the same weights copied into
torch, the same outputs and input/parameter gradients in train and eval mode; BatchNorm's running
statistics after several steps and its state_dict; initial distributions; reprs; module hooks
firing in torch's order with torch's arguments; ParameterList/Dict; nn.utils."""
import math
import warnings

import numpy as np
import pytest
import torch
from hypothesis import given, strategies as st

import tinygrad_mnist as tg
from tinygrad_mnist import nn
from tinygrad_mnist.backend import to_numpy
from tinygrad_mnist.testing.compare import _compare, tolerances

DTYPES = [np.float64, np.float32]
TORCH_DTYPE = {np.float64: torch.float64, np.float32: torch.float32}


def _torch_device(device):
    return "cuda" if tg.device(device).type == "cuda" else "cpu"


def copy_into_torch(ours, ref):
    ref.load_state_dict({k: torch.from_numpy(to_numpy(v.array).copy()) for k, v in ours.state_dict().items()})
    return ref


def check_layer(ours, ref, x, dtype, device, seed=0, steps=1, call=None):
    """Same weights and input: compare output, input and parameter gradients (``steps`` times,
    parameters unchanged: for stateful layers the buffers move), then the state_dicts."""
    rtol, atol = tolerances(dtype)
    ours.to(device, dtype=tg.dtypes.from_numpy_dtype(dtype))
    ref = copy_into_torch(ours, ref.to(TORCH_DTYPE[dtype])).to(_torch_device(device))
    assert list(ours.state_dict()) == list(ref.state_dict())
    call = call or (lambda m, t: m(t))
    rng = np.random.default_rng(seed)
    for step in range(steps):
        xs = x if step == 0 else x + rng.standard_normal(x.shape)
        xo = tg.tensor(xs.astype(dtype), device=device, requires_grad=True)
        xt = torch.tensor(xs.astype(dtype), device=_torch_device(device), requires_grad=True)
        yo, yt = call(ours, xo), call(ref, xt)
        _compare("output", to_numpy(yo.array), yt.detach().cpu().numpy(), rtol, atol)
        up = rng.standard_normal(tuple(yt.shape)).astype(dtype)
        ours.zero_grad(), ref.zero_grad()
        yo.backward(tg.tensor(up, device=device))
        yt.backward(torch.tensor(up, device=_torch_device(device)))
        _compare("input gradient", to_numpy(xo.grad.array), xt.grad.cpu().numpy(), rtol, atol)
        for (name, po), (_, pt) in zip(ours.named_parameters(), ref.named_parameters()):
            if pt.grad is not None:
                _compare(f"gradient of {name}", to_numpy(po.grad.array), pt.grad.cpu().numpy(), rtol, atol)
    for (name, vo), vt in zip(ours.state_dict().items(), ref.state_dict().values()):
        _compare(f"state {name}", to_numpy(vo.array), vt.cpu().numpy(), rtol, atol)
    return yo


def _x(seed, shape, scale=2.0):
    return np.random.default_rng(seed).standard_normal(shape) * scale


# ====================================================================== layers vs torch
LAYERS = [
    ("Conv1d", lambda m: m.Conv1d(3, 4, 3, stride=2, padding=1), (2, 3, 9)),
    ("Conv1d-groups-same", lambda m: m.Conv1d(4, 2, 3, padding="same", dilation=2, groups=2, bias=False), (2, 4, 7)),
    ("Conv1d-circular", lambda m: m.Conv1d(2, 3, 3, padding=2, padding_mode="circular"), (2, 2, 6)),
    ("Conv2d-reflect", lambda m: m.Conv2d(2, 3, 3, padding=1, padding_mode="reflect"), (2, 2, 5, 6)),
    ("Conv2d-replicate-same", lambda m: m.Conv2d(2, 3, (2, 3), padding="same", padding_mode="replicate"), (1, 2, 5, 4)),
    ("Conv2d-circular", lambda m: m.Conv2d(2, 2, 3, stride=2, padding=(1, 2), padding_mode="circular"), (2, 2, 6, 5)),
    ("ConvTranspose2d", lambda m: m.ConvTranspose2d(3, 4, 3, stride=2, padding=1, output_padding=1), (2, 3, 4, 5)),
    ("ConvTranspose2d-groups", lambda m: m.ConvTranspose2d(4, 6, (2, 3), stride=(1, 2), groups=2, dilation=2,
                                                           bias=False), (1, 4, 3, 3)),
    ("ConvTranspose1d", lambda m: m.ConvTranspose1d(2, 3, 4, stride=3, padding=1), (2, 2, 5)),
    ("MaxPool1d", lambda m: m.MaxPool1d(3, 2, 1), (2, 3, 9)),
    ("AvgPool1d", lambda m: m.AvgPool1d(3, 2, 1, count_include_pad=False), (2, 3, 9)),
    ("AdaptiveAvgPool2d", lambda m: m.AdaptiveAvgPool2d((3, None)), (2, 3, 7, 5)),
    ("AdaptiveMaxPool2d", lambda m: m.AdaptiveMaxPool2d(4), (2, 3, 7, 5)),
    ("AdaptiveAvgPool1d", lambda m: m.AdaptiveAvgPool1d(4), (2, 3, 7)),
    ("AdaptiveMaxPool1d", lambda m: m.AdaptiveMaxPool1d(3), (2, 3, 7)),
    ("LayerNorm", lambda m: m.LayerNorm((3, 4)), (2, 3, 4)),
    ("LayerNorm-noaffine", lambda m: m.LayerNorm(4, elementwise_affine=False), (2, 3, 4)),
    ("LayerNorm-nobias", lambda m: m.LayerNorm(4, bias=False), (2, 4)),
    ("GroupNorm-nobias", lambda m: m.GroupNorm(3, 3, bias=False), (2, 3, 4)),
    ("GroupNorm", lambda m: m.GroupNorm(2, 4), (2, 4, 3, 3)),
    ("GroupNorm-noaffine", lambda m: m.GroupNorm(1, 3, affine=False, eps=1e-3), (2, 3, 5)),
    ("Unflatten", lambda m: m.Unflatten(1, (2, -1)), (2, 6, 3)),
    ("Upsample-nearest", lambda m: m.Upsample(scale_factor=2), (1, 2, 3, 4)),
    ("Upsample-bilinear", lambda m: m.Upsample(size=(5, 7), mode="bilinear"), (1, 2, 3, 4)),
    ("UpsamplingBilinear2d", lambda m: m.UpsamplingBilinear2d(scale_factor=2), (1, 2, 3, 4)),
    ("UpsamplingNearest2d", lambda m: m.UpsamplingNearest2d(size=5), (1, 2, 3, 4)),
    ("ZeroPad2d", lambda m: m.ZeroPad2d((1, 0, 2, 1)), (2, 2, 3, 3)),
    ("ConstantPad1d", lambda m: m.ConstantPad1d(2, 3.5), (2, 2, 3)),
    ("ReflectionPad2d", lambda m: m.ReflectionPad2d(2), (2, 2, 3, 4)),
    ("ReplicationPad1d", lambda m: m.ReplicationPad1d((3, 1)), (2, 2, 3)),
    ("CircularPad2d", lambda m: m.CircularPad2d(1), (2, 2, 3, 3)),
    ("Dropout2d-eval", lambda m: m.Dropout2d(0.5).eval(), (2, 3, 4, 4)),
    ("LeakyReLU", lambda m: m.LeakyReLU(0.1), (3, 4)), ("ELU", lambda m: m.ELU(0.7), (3, 4)),
    ("SELU", lambda m: m.SELU(), (3, 4)), ("CELU", lambda m: m.CELU(1.5), (3, 4)),
    ("GELU", lambda m: m.GELU(), (3, 4)), ("GELU-tanh", lambda m: m.GELU("tanh"), (3, 4)),
    ("SiLU", lambda m: m.SiLU(), (3, 4)), ("Mish", lambda m: m.Mish(), (3, 4)),
    ("Softplus", lambda m: m.Softplus(2.0, 3.0), (3, 4)), ("Hardtanh", lambda m: m.Hardtanh(-0.5, 2.0), (3, 4)),
    ("ReLU6", lambda m: m.ReLU6(), (3, 4)), ("Hardswish", lambda m: m.Hardswish(), (3, 4)),
    ("LogSigmoid", lambda m: m.LogSigmoid(), (3, 4)), ("Tanhshrink", lambda m: m.Tanhshrink(), (3, 4)),
    ("Softsign", lambda m: m.Softsign(), (3, 4)), ("Softmin", lambda m: m.Softmin(1), (3, 4)),
    ("PReLU", lambda m: m.PReLU(), (3, 4)), ("PReLU-channels", lambda m: m.PReLU(4, init=0.1), (3, 4, 2)),
]


@pytest.mark.filterwarnings("ignore:Using padding='same'")
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name,make,shape", LAYERS, ids=[n for n, _, _ in LAYERS])
def test_layer_matches_torch(name, make, shape, dtype, device):
    tg.manual_seed(0)
    x = _x(1, shape) if "Max" not in name else np.random.default_rng(1).permutation(np.prod(shape)).reshape(shape) / 3
    check_layer(make(nn), make(torch.nn), x, dtype, device)


def test_conv_transpose2d_output_size_like_torch(device):
    ours, ref = nn.ConvTranspose2d(2, 3, 3, stride=2, padding=1), torch.nn.ConvTranspose2d(2, 3, 3, stride=2, padding=1)
    x = _x(0, (1, 2, 4, 4))
    for size in ([7, 7], [8, 8], [1, 3, 8, 7]):
        y = check_layer(ours, ref, x, np.float64, device, call=lambda m, t: m(t, output_size=size))
        assert tuple(y.shape[-2:]) == tuple(size[-2:])
    with pytest.raises(ValueError, match="requested an output size of"):
        ours(tg.tensor(x, device=device), output_size=[9, 9])
    with pytest.raises(ValueError, match='Only "zeros" padding mode is supported for ConvTranspose2d'):
        nn.ConvTranspose2d(2, 3, 3, padding_mode="reflect")
    with pytest.raises(ValueError, match="padding_mode must be one of"):
        nn.Conv2d(2, 3, 3, padding_mode="wrap")


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("kind,shape", [("BatchNorm1d", (5, 3)), ("BatchNorm1d", (4, 3, 6)),
                                        ("BatchNorm2d", (4, 3, 2, 5)), ("BatchNorm3d", (2, 3, 2, 2, 2))])
@pytest.mark.parametrize("kwargs", [{}, {"momentum": None}, {"momentum": 0.5, "eps": 1e-3}, {"affine": False},
                                    {"track_running_stats": False}, {"bias": False}],
                         ids=["default", "cumulative", "momentum", "noaffine", "untracked", "nobias"])
def test_batch_norm_train_then_eval_matches_torch(kind, shape, kwargs, dtype, device):
    ours, ref = getattr(nn, kind)(3, **kwargs), getattr(torch.nn, kind)(3, **kwargs)
    x = _x(2, shape) + 1.5
    check_layer(ours, ref, x, dtype, device, steps=4)                  # training: buffers move each step
    if kwargs.get("track_running_stats", True):
        assert int(ours.num_batches_tracked.item()) == 4
    ours.eval(), ref.eval()
    check_layer(ours, ref, x, dtype, device, steps=2)                  # eval: by the running statistics


def test_batch_norm_state_dict_and_loading_torch_stats(device):
    ref = torch.nn.BatchNorm2d(4)
    ref(torch.randn(8, 4, 3, 3) * 3 + 1)
    ours = nn.BatchNorm2d(4).to(device)
    assert list(ours.state_dict()) == list(ref.state_dict()) == ["weight", "bias", "running_mean", "running_var",
                                                                 "num_batches_tracked"]
    assert ours.num_batches_tracked.dtype == tg.int64 and ours.num_batches_tracked.shape == ()
    ours.load_state_dict({k: v.numpy() for k, v in ref.state_dict().items()})
    ours.eval(), ref.eval()
    x = np.random.default_rng(0).standard_normal((2, 4, 3, 3)).astype(np.float32)
    np.testing.assert_allclose(to_numpy(ours(tg.tensor(x, device=device)).array), ref(torch.tensor(x)).detach().numpy(),
                               rtol=1e-5, atol=1e-6)
    untracked = nn.BatchNorm1d(3, track_running_stats=False)
    assert list(untracked.state_dict()) == ["weight", "bias"]
    with pytest.raises(ValueError, match=r"expected 4D input \(got 3D input\)"):
        ours(tg.zeros(2, 4, 3))
    with pytest.raises(ValueError, match="Expected more than 1 value per channel when training"):
        nn.BatchNorm1d(3)(tg.zeros(1, 3))


def test_batch_norm_double_keeps_integer_counter():
    bn = nn.BatchNorm1d(2).double()
    assert bn.running_mean.dtype == tg.float64 and bn.num_batches_tracked.dtype == tg.int64


def test_embedding_layer_matches_torch(device):
    for kwargs in ({}, {"padding_idx": 1}, {"padding_idx": -1, "scale_grad_by_freq": True}):
        ours, ref = nn.Embedding(6, 3, **kwargs), torch.nn.Embedding(6, 3, **kwargs)
        ours.to(device)
        copy_into_torch(ours, ref)
        idx = np.array([[0, 1, 1], [5, 2, 1]])
        yo, yt = ours(tg.tensor(idx, device=device)), ref(torch.tensor(idx))
        np.testing.assert_allclose(to_numpy(yo.array), yt.detach().numpy(), rtol=1e-6)
        up = np.random.default_rng(0).standard_normal(tuple(yt.shape)).astype(np.float32)
        yo.backward(tg.tensor(up, device=device)), yt.backward(torch.tensor(up))
        np.testing.assert_allclose(to_numpy(ours.weight.grad.array), ref.weight.grad.numpy(), rtol=1e-6)
    frozen = nn.Embedding.from_pretrained(tg.tensor([[1.0, 2.0], [3.0, 4.0]]))
    assert not frozen.weight.requires_grad and frozen(tg.tensor([1])).tolist() == [[3.0, 4.0]]


# ====================================================================== initialisation
def test_default_initialisations_follow_torch():
    tg.manual_seed(0)
    emb = nn.Embedding(2000, 50, padding_idx=3)
    w = to_numpy(emb.weight.array)
    assert (w[3] == 0).all()
    rest = np.delete(w, 3, axis=0)
    assert abs(rest.mean()) < 0.01 and abs(rest.std() - 1) < 0.01              # N(0, 1)
    for layer, fan_in in ((nn.ConvTranspose2d(20, 30, 3), 30 * 9), (nn.Conv1d(20, 30, 5), 20 * 5),
                          (nn.ConvTranspose1d(40, 6, 4, groups=2), 3 * 4)):
        bound = 1 / math.sqrt(fan_in)                                           # kaiming-uniform a=sqrt(5)
        for p in (layer.weight, layer.bias):
            a = to_numpy(p.array)
            assert a.min() >= -bound and a.max() <= bound
        assert to_numpy(layer.weight.array).max() > 0.8 * bound
    bn, ln, gn = nn.BatchNorm2d(3), nn.LayerNorm(3), nn.GroupNorm(1, 3)
    for m in (bn, ln, gn):
        assert m.weight.tolist() == [1.0] * 3 and m.bias.tolist() == [0.0] * 3
    assert bn.running_mean.tolist() == [0.0] * 3 and bn.running_var.tolist() == [1.0] * 3
    assert nn.PReLU(3).weight.tolist() == pytest.approx([0.25] * 3)


# ====================================================================== reprs
REPRS = [lambda m: m.BatchNorm2d(3), lambda m: m.BatchNorm1d(4, momentum=None, affine=False),
         lambda m: m.BatchNorm2d(2, bias=False), lambda m: m.LayerNorm(3, bias=False),
         lambda m: m.LayerNorm((2, 3)), lambda m: m.GroupNorm(2, 4), lambda m: m.Embedding(5, 2, padding_idx=0),
         lambda m: m.Embedding(5, 2, max_norm=1.0, scale_grad_by_freq=True), lambda m: m.Dropout2d(0.3),
         lambda m: m.LeakyReLU(0.2, inplace=True), lambda m: m.ELU(), lambda m: m.GELU("tanh"), lambda m: m.SiLU(),
         lambda m: m.Softplus(), lambda m: m.Hardtanh(), lambda m: m.ReLU6(), lambda m: m.PReLU(3), lambda m: m.SELU(),
         lambda m: m.Mish(), lambda m: m.Hardswish(), lambda m: m.LogSigmoid(), lambda m: m.Softmin(1),
         lambda m: m.Unflatten(1, (2, 3)), lambda m: m.AdaptiveAvgPool2d((1, 1)), lambda m: m.AdaptiveMaxPool2d(2),
         lambda m: m.ConvTranspose2d(2, 3, 3, stride=2, output_padding=1, bias=False), lambda m: m.Conv1d(2, 3, 4),
         lambda m: m.Conv2d(1, 2, 3, padding="same", padding_mode="reflect"), lambda m: m.MaxPool1d(2),
         lambda m: m.AvgPool1d(3), lambda m: m.Upsample(scale_factor=2, mode="bilinear"),
         lambda m: m.Upsample(size=(4, 5)), lambda m: m.ZeroPad2d(1), lambda m: m.ConstantPad1d((1, 2), 0.5),
         lambda m: m.ReflectionPad2d((1, 1, 2, 0)), lambda m: m.BCEWithLogitsLoss(), lambda m: m.KLDivLoss(),
         lambda m: m.CosineSimilarity(), lambda m: m.Sequential(m.Conv1d(1, 2, 3), m.BatchNorm1d(2), m.GELU())]


@pytest.mark.parametrize("make", REPRS, ids=range(len(REPRS)))
def test_repr_equals_torch(make):
    assert repr(make(nn)) == repr(make(torch.nn))


# ====================================================================== losses as modules
LOSSES = [("L1Loss", {}), ("SmoothL1Loss", {"beta": 0.5}), ("HuberLoss", {"delta": 0.7}),
          ("L1Loss", {"reduction": "sum"}), ("SmoothL1Loss", {"size_average": False}), ("BCEWithLogitsLoss", {}),
          ("KLDivLoss", {"reduction": "batchmean"}), ("KLDivLoss", {"reduction": "none", "log_target": True}),
          ("BCELoss", {"reduction": "none"})]


@pytest.mark.filterwarnings("ignore:size_average and reduce args")
@pytest.mark.parametrize("name,kwargs", LOSSES, ids=[f"{n}-{list(k.values())}" for n, k in LOSSES])
def test_loss_modules_match_torch(name, kwargs, device):
    rng = np.random.default_rng(0)
    x, t = rng.standard_normal((4, 3)), rng.uniform(0, 1, (4, 3))
    if name == "BCELoss":
        x = 1 / (1 + np.exp(-x))
    if name == "KLDivLoss":
        x = x - np.log(np.exp(x).sum(1, keepdims=True))
    ours, ref = getattr(nn, name)(**kwargs), getattr(torch.nn, name)(**kwargs)
    from tinygrad_mnist.testing import assert_matches_torch
    assert_matches_torch(ours, ref, x, t, device=device)


def test_weighted_loss_modules_keep_weights_as_buffers(device):
    w, pw = np.array([1.0, 2.0, 0.5]), np.array([3.0, 1.0, 0.2])
    ours = nn.BCEWithLogitsLoss(weight=tg.tensor(w), pos_weight=tg.tensor(pw))
    ref = torch.nn.BCEWithLogitsLoss(weight=torch.tensor(w), pos_weight=torch.tensor(pw))
    assert list(ours.state_dict()) == list(ref.state_dict()) == ["weight", "pos_weight"]
    x, t = np.random.default_rng(1).standard_normal((5, 3)), np.random.default_rng(2).uniform(0, 1, (5, 3))
    assert float(ours(tg.tensor(x), tg.tensor(t))) == pytest.approx(float(ref(torch.tensor(x), torch.tensor(t))),
                                                                    rel=1e-12)
    ce = nn.CrossEntropyLoss(label_smoothing=0.1)
    logits, target = np.random.default_rng(3).standard_normal((4, 5)), np.array([0, 4, 2, 2])
    assert float(ce(tg.tensor(logits), tg.tensor(target))) == pytest.approx(
        float(torch.nn.CrossEntropyLoss(label_smoothing=0.1)(torch.tensor(logits), torch.tensor(target))), rel=1e-12)


# ====================================================================== module hooks
def _hooked_pair():
    def build(m):
        torch_like = m is torch.nn
        net = m.Sequential(m.Linear(3, 4), m.ReLU(), m.Linear(4, 2))
        return net, torch_like
    return build(nn)[0], build(torch.nn)[0]


def _install(net, log, engine):
    handles = []
    for name, mod in [("net", net)] + [(n, c) for n, c in net.named_children()]:
        def pre(m, args, name=name):
            log.append(("pre", name, [tuple(a.shape) for a in args]))

        def fwd(m, args, out, name=name):
            log.append(("fwd", name, tuple(out.shape)))

        def bpre(m, grad_output, name=name):
            log.append(("bpre", name, [None if g is None else tuple(g.shape) for g in grad_output]))

        def bwd(m, grad_input, grad_output, name=name):
            log.append(("bwd", name, [None if g is None else np.round(_arr(g), 10).tolist() for g in grad_input],
                        [None if g is None else np.round(_arr(g), 10).tolist() for g in grad_output]))
        handles += [mod.register_forward_pre_hook(pre), mod.register_forward_hook(fwd),
                    mod.register_full_backward_pre_hook(bpre), mod.register_full_backward_hook(bwd)]
    return handles


def _arr(t):
    return t.detach().cpu().numpy() if isinstance(t, torch.Tensor) else to_numpy(t.detach().array)


@pytest.mark.parametrize("input_grad", [True, False])
def test_module_hooks_fire_in_torch_order_with_torch_arguments(input_grad):
    ours, ref = _hooked_pair()
    copy_into_torch(ours.double(), ref.double())
    logs = {"ours": [], "torch": []}
    _install(ours, logs["ours"], tg), _install(ref, logs["torch"], torch)
    x = np.random.default_rng(0).standard_normal((5, 3))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the no-input-grad case warns in both engines
        ours(tg.tensor(x, requires_grad=input_grad)).sum().backward()
        ref(torch.tensor(x, requires_grad=input_grad)).sum().backward()
    assert logs["ours"] == logs["torch"]


def test_backward_hooks_can_replace_gradients_and_be_removed():
    results = {}
    for engine, m in (("ours", nn), ("torch", torch.nn)):
        lin = m.Linear(3, 2).double()
        if engine == "torch":
            copy_into_torch(results["ours_layer"], lin)
        else:
            results["ours_layer"] = lin
        h1 = lin.register_full_backward_pre_hook(lambda mod, go: (go[0] * 2,))
        h2 = lin.register_full_backward_hook(lambda mod, gi, go: (gi[0] + 1,))
        lib = tg if engine == "ours" else torch
        x = lib.tensor(np.ones((2, 3)), requires_grad=True)
        lin(x).sum().backward()
        results[engine] = (_arr(x.grad), _arr(lin.weight.grad))
        h1.remove(), h2.remove()
        x2 = lib.tensor(np.ones((2, 3)), requires_grad=True)
        lin(x2).sum().backward()
        results[engine + "_removed"] = _arr(x2.grad)
    for key in ("", "_removed"):
        a, b = results["ours" + key], results["torch" + key]
        for u, v in zip(a if isinstance(a, tuple) else (a,), b if isinstance(b, tuple) else (b,)):
            np.testing.assert_allclose(u, v, rtol=1e-12)


def test_forward_hooks_kwargs_prepend_and_always_call():
    for m, lib in ((nn, tg), (torch.nn, torch)):
        log = []

        class Scale(m.Module):
            def forward(self, x, factor=1.0):
                if factor < 0:
                    raise ValueError("negative")
                return x * factor
        s = Scale()
        s.register_forward_hook(lambda mod, args, out: log.append("plain"))
        s.register_forward_hook(lambda mod, args, out: log.append("first"), prepend=True)
        s.register_forward_pre_hook(lambda mod, args, kwargs: (args, {"factor": kwargs.get("factor", 1.0) * 3}),
                                    with_kwargs=True)
        s.register_forward_hook(lambda mod, args, kwargs, out: out + kwargs["factor"], with_kwargs=True)
        s.register_forward_hook(lambda mod, args, out: log.append(("always", out is None)), always_call=True)
        out = s(lib.ones(2), factor=2.0)
        assert out.tolist() == [12.0, 12.0] and log == ["first", "plain", ("always", False)]
        log.clear()
        with pytest.raises(ValueError, match="negative"):
            s(lib.ones(2), factor=-1.0)
        assert log == [("always", True)]


def test_forward_pre_hook_returning_one_value_and_bad_kwargs_result():
    lin = nn.Linear(2, 2)
    lin.register_forward_pre_hook(lambda mod, args: args[0] * 0)
    assert lin(tg.ones(1, 2)).tolist() == lin.bias.reshape(1, 2).tolist()
    bad = nn.Identity()
    bad.register_forward_pre_hook(lambda mod, args, kwargs: "nope", with_kwargs=True)
    with pytest.raises(RuntimeError, match=r"must return None or a tuple of \(new_args, new_kwargs\)"):
        bad(tg.ones(1))


# ====================================================================== module traversal and containers
def _tree(m):
    net = m.Sequential(m.Conv2d(1, 2, 3), m.Sequential(m.ReLU(), m.BatchNorm2d(2)), m.Flatten())
    net.add_module("head", m.Linear(2, 1))
    net.shared = net[0]
    return net


def test_traversal_matches_torch():
    ours, ref = _tree(nn), _tree(torch.nn)
    assert [n for n, _ in ours.named_modules()] == [n for n, _ in ref.named_modules()]
    assert [n for n, _ in ours.named_modules(remove_duplicate=False)] == \
        [n for n, _ in ref.named_modules(remove_duplicate=False)]
    assert [n for n, _ in ours.named_children()] == [n for n, _ in ref.named_children()]
    assert [type(c).__name__ for c in ours.children()] == [type(c).__name__ for c in ref.children()]
    assert [type(c).__name__ for c in ours.modules()] == [type(c).__name__ for c in ref.modules()]
    assert [n for n, _ in ours.named_buffers()] == [n for n, _ in ref.named_buffers()]
    seen = {"ours": [], "torch": []}
    ours.apply(lambda mod: seen["ours"].append(type(mod).__name__))
    ref.apply(lambda mod: seen["torch"].append(type(mod).__name__))
    assert seen["ours"] == seen["torch"]
    assert ours.get_buffer("1.1.running_mean") is ours[1][1].running_mean
    assert repr(ours) == repr(ref)


def test_parameter_list_and_dict_like_torch():
    for m, lib in ((nn, tg), (torch.nn, torch)):
        pl = m.ParameterList([m.Parameter(lib.zeros(2, 3)), lib.ones(4)])
        pl.append(m.Parameter(lib.zeros(1)))
        pl += [lib.zeros(5)]
        assert len(pl) == 4 and all(isinstance(p, m.Parameter) for p in pl)
        pd = m.ParameterDict({"a": m.Parameter(lib.zeros(2)), "b": lib.ones(3)})
        pd["c"] = m.Parameter(lib.zeros(1))
        pd.update([("d", lib.zeros(2))])
        assert list(pd.keys()) == ["a", "b", "c", "d"] and isinstance(pd["b"], m.Parameter)
        assert pd.pop("c").shape == (1,) and "c" not in pd
        holder = m.Module()
        holder.pl, holder.pd = pl, pd
        if m is nn:
            ours = (list(holder.state_dict()), [tuple(p.shape) for p in holder.parameters()], repr(holder))
        else:
            ref = (list(holder.state_dict()), [tuple(p.shape) for p in holder.parameters()], repr(holder))
    assert ours == ref


# ====================================================================== nn.utils
@pytest.mark.parametrize("norm_type", [2.0, 1.0, 3.0, float("inf")])
@pytest.mark.parametrize("max_norm", [0.5, 100.0])
def test_clip_grad_norm_matches_torch(norm_type, max_norm, device):
    rng = np.random.default_rng(0)
    grads = [rng.standard_normal(s) for s in ((3, 4), (4,), (2, 2, 2))]
    ours = [tg.tensor(np.zeros_like(g), device=device, requires_grad=True) for g in grads]
    ref = [torch.zeros(g.shape, dtype=torch.float64, requires_grad=True) for g in grads]
    for o, r, g in zip(ours, ref, grads):
        o.grad, r.grad = tg.tensor(g, device=device), torch.tensor(g)
    total_o = nn.utils.clip_grad_norm_(ours, max_norm, norm_type)
    total_t = torch.nn.utils.clip_grad_norm_(ref, max_norm, norm_type)
    assert float(total_o) == pytest.approx(float(total_t), rel=1e-12)
    for o, r in zip(ours, ref):
        np.testing.assert_allclose(to_numpy(o.grad.array), r.grad.numpy(), rtol=1e-12)


def test_clip_grad_value_nonfinite_and_vectors(device):
    p = tg.tensor(np.zeros(4), device=device, requires_grad=True)
    p.grad = tg.tensor(np.array([-3.0, 0.5, 2.0, -0.1]), device=device)
    nn.utils.clip_grad_value_(p, 1.0)
    assert p.grad.tolist() == [-1.0, 0.5, 1.0, -0.1]
    p.grad = tg.tensor(np.array([np.inf, 1.0]), device=device)
    with pytest.raises(RuntimeError, match="is non-finite, so it cannot be clipped"):
        nn.utils.clip_grad_norm_(p, 1.0, error_if_nonfinite=True)
    assert float(nn.utils.clip_grad_norm_([tg.zeros(2, requires_grad=True)], 1.0)) == 0.0
    lin = nn.Linear(3, 2).to(device)
    vec = nn.utils.parameters_to_vector(lin.parameters())
    assert vec.shape == (8,) and vec.requires_grad
    ref = torch.nn.Linear(3, 2)
    copy_into_torch(lin, ref)
    np.testing.assert_allclose(to_numpy(vec.detach().array), torch.nn.utils.parameters_to_vector(ref.parameters())
                               .detach().numpy())
    nn.utils.vector_to_parameters(tg.arange(8, dtype=tg.float32, device=device), lin.parameters())
    assert lin.weight.tolist() == [[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]] and lin.bias.tolist() == [6.0, 7.0]
    with pytest.raises(TypeError, match="expected torch.Tensor"):
        nn.utils.vector_to_parameters([1.0], lin.parameters())


# ====================================================================== a small model trains like torch's
def test_bn_gelu_conv_transpose_model_trajectory_matches_torch(device):
    def build(m):
        return m.Sequential(m.Conv2d(1, 4, 3, padding=1), m.BatchNorm2d(4), m.GELU(), m.MaxPool2d(2),
                            m.ConvTranspose2d(4, 2, 2, stride=2), m.GroupNorm(1, 2), m.SiLU(), m.Flatten(),
                            m.Dropout(0.0), m.Linear(2 * 8 * 8, 3))
    tg.manual_seed(0)
    ours = build(nn).double().to(device)
    ref = copy_into_torch(ours, build(torch.nn).double())
    opt_o, opt_t = tg.optim.SGD(ours.parameters(), lr=0.1, momentum=0.9), torch.optim.SGD(ref.parameters(), lr=0.1,
                                                                                            momentum=0.9)
    rng = np.random.default_rng(0)
    for _ in range(3):
        x, y = rng.standard_normal((4, 1, 8, 8)), rng.integers(0, 3, 4)
        for model, opt, lib, dev in ((ours, opt_o, tg, device), (ref, opt_t, torch, "cpu")):
            opt.zero_grad()
            loss = (nn.functional if lib is tg else torch.nn.functional).cross_entropy(
                model(lib.tensor(x, device=dev)), lib.tensor(y, device=dev), label_smoothing=0.1)
            loss.backward()
            opt.step()
    for (name, a), b in zip(ours.state_dict().items(), ref.state_dict().values()):
        np.testing.assert_allclose(to_numpy(a.array), b.numpy(), rtol=1e-9, atol=1e-11, err_msg=name)
