"""Trajectory equivalence: the same model, initial weights and batches in both engines give the
same parameters after EVERY one of 30 training steps (cross-entropy; plain SGD by hand,
optim.SGD with momentum, optim.Adam).

The difference measured at each step, for each parameter, is max|ours - torch| / max(1, max|torch|)
(relative to the parameter's scale, as ``assert_matches_torch`` judges values); the test asserts
the largest over all steps and parameters: float64 <= 1e-9, float32 <= 1e-4.
``PYTHONPATH=. python tests/test_trajectory.py`` prints the largest differences of every configuration.
"""
import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import tinygrad_mnist as tg
import tinygrad_mnist.nn.functional as F
from tinygrad_mnist import nn
from tinygrad_mnist.backend import to_numpy

STEPS, BATCH = 30, 8
TOLERANCE = {np.float64: 1e-9, np.float32: 1e-4}
TORCH_DTYPE = {np.float64: torch.float64, np.float32: torch.float32}
# compare against exact float32 on a GPU too (cuDNN convolutions default to TF32 there)
torch.backends.cudnn.allow_tf32 = False
torch.backends.cuda.matmul.allow_tf32 = False


def small_cnn(m):
    """conv-relu-maxpool-conv-relu-avgpool-flatten-linear on (N, 1, 12, 12)."""
    return m.Sequential(
        m.Conv2d(1, 4, kernel_size=3),                  # 12 -> 10
        m.ReLU(),
        m.MaxPool2d(2),                                 # 10 -> 5
        m.Conv2d(4, 6, kernel_size=3, padding=1),       # 5 -> 5
        m.ReLU(),
        m.AvgPool2d(2),                                 # 5 -> 2
        m.Flatten(),
        m.Linear(6 * 2 * 2, 10))


def small_mlp(m):
    return m.Sequential(m.Linear(144, 32), m.ReLU(), m.Linear(32, 16), m.ReLU(), m.Linear(16, 10))


MODELS = {"cnn": (small_cnn, (1, 12, 12)), "mlp": (small_mlp, (144,))}


def _optimizers(kind, ours_params, torch_params):
    from tinygrad_mnist import optim
    if kind == "sgd_momentum":
        return (optim.SGD(ours_params, lr=0.05, momentum=0.9),
                torch.optim.SGD(torch_params, lr=0.05, momentum=0.9))
    if kind == "adam":
        return optim.Adam(ours_params, lr=1e-3), torch.optim.Adam(torch_params, lr=1e-3)
    raise ValueError(kind)


def run_trajectory(model, kind, dtype, device="cpu", seed=0):
    """Train both twins side by side; returns (largest parameter difference, largest loss difference).

    Also checks that training moved every parameter tensor (so that agreement is not vacuous).
    """
    build, in_shape = MODELS[model]
    torch_device = "cuda" if tg.device(device).type == "cuda" else "cpu"
    tg.manual_seed(seed)
    ours = build(nn).to(device, dtype=tg.dtypes.from_numpy_dtype(dtype))
    ref = build(torch.nn).to(TORCH_DTYPE[dtype])
    ref.load_state_dict({k: torch.from_numpy(to_numpy(v.array).copy()) for k, v in ours.state_dict().items()})
    ref.to(torch_device)
    ours_params, torch_params = list(ours.parameters()), list(ref.parameters())
    initial = [to_numpy(p.array).astype(np.float64) for p in ours_params]
    opts = None if kind == "sgd_manual" else _optimizers(kind, ours_params, torch_params)
    lr = 0.1

    rng = np.random.default_rng(seed + 1)
    worst_param = worst_loss = 0.0
    for _ in range(STEPS):
        x = rng.standard_normal((BATCH, *in_shape)).astype(dtype)
        y = rng.integers(0, 10, BATCH)
        if opts:
            opts[0].zero_grad()
            opts[1].zero_grad()
        else:
            ours.zero_grad()
            ref.zero_grad()
        loss = F.cross_entropy(ours(tg.tensor(x, device=device)), tg.tensor(y, device=device))
        loss.backward()
        ref_loss = TF.cross_entropy(ref(torch.tensor(x, device=torch_device)), torch.tensor(y, device=torch_device))
        ref_loss.backward()
        if opts:
            opts[0].step()
            opts[1].step()
        else:
            with tg.no_grad():
                for p in ours_params:
                    p.data -= lr * p.grad
            with torch.no_grad():
                for p in torch_params:
                    p -= lr * p.grad
        worst_loss = max(worst_loss, abs(loss.item() - ref_loss.item()) / max(1.0, abs(ref_loss.item())))
        for p, q in zip(ours_params, torch_params):
            a, b = to_numpy(p.array).astype(np.float64), q.detach().cpu().double().numpy()
            worst_param = max(worst_param, float(np.abs(a - b).max()) / max(1.0, float(np.abs(b).max())))
    moved = min(float(np.abs(to_numpy(p.array) - p0).max()) for p, p0 in zip(ours_params, initial))
    assert moved > 1e-3, f"{model}/{kind}: some parameter moved by only {moved:.3g} in {STEPS} steps"
    return worst_param, worst_loss


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["float64", "float32"])
@pytest.mark.parametrize("kind", ["sgd_manual", "sgd_momentum", "adam"])
@pytest.mark.parametrize("model", ["cnn", "mlp"])
def test_trajectory_matches_torch(model, kind, dtype, device):
    worst_param, worst_loss = run_trajectory(model, kind, dtype, device)
    tol = TOLERANCE[dtype]
    assert worst_param <= tol, f"{model}/{kind}/{np.dtype(dtype)}: parameters drifted by {worst_param:.3g} > {tol}"
    assert worst_loss <= tol, f"{model}/{kind}/{np.dtype(dtype)}: losses differ by {worst_loss:.3g} > {tol}"


def test_trajectory_actually_learns(device):
    """Guard against a vacuous pass: the parameters move, and the same batch's loss falls."""
    tg.manual_seed(0)
    net = small_mlp(nn).to(device)
    start = [to_numpy(p.array).copy() for p in net.parameters()]
    x = tg.randn(BATCH, 144, device=device)
    y = tg.tensor(np.arange(BATCH) % 10, device=device)
    first = None
    for _ in range(STEPS):
        net.zero_grad()
        loss = F.cross_entropy(net(x), y)
        loss.backward()
        first = loss.item() if first is None else first
        with tg.no_grad():
            for p in net.parameters():
                p.data -= 0.1 * p.grad
    assert loss.item() < 0.5 * first
    assert all(np.abs(to_numpy(p.array) - s).max() > 1e-3 for p, s in zip(net.parameters(), start))


if __name__ == "__main__":
    for model in MODELS:
        for kind in ("sgd_manual", "sgd_momentum", "adam"):
            for dtype in (np.float64, np.float32):
                p, l = run_trajectory(model, kind, dtype)
                print(f"{model:4s} {kind:13s} {np.dtype(dtype).name:8s} params {p:.3g}  loss {l:.3g}")
