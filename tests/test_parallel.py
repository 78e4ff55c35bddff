"""nn.DataParallel: PyTorch's semantics with no GPU or one device (the module just runs), and the
several-replica path (scatter, replicate, threads, gather, gradients summed) on host replicas."""
import numpy as np
import pytest
import torch

import tinygrad_mnist as tg
import tinygrad_mnist.nn.functional as F
from tinygrad_mnist import models, nn


def _twins():
    tg.manual_seed(0)
    plain = models.build_model("lenet", seed=0)
    wrapped = models.build_model("lenet", seed=0)
    return plain, wrapped


def test_without_devices_it_runs_the_module_as_torch_does():
    model = models.build_model("mlp", seed=0)
    dp = nn.DataParallel(model, device_ids=[] if not tg.cuda.is_available() else None)
    x = tg.randn(5, 784)
    np.testing.assert_array_equal(dp(x).detach().numpy(), model(x).detach().numpy())
    assert dp.module is model
    assert list(dp.state_dict()) == ["module." + k for k in model.state_dict()]
    ref = torch.nn.DataParallel(torch.nn.Linear(3, 2))           # torch on a CPU-only machine: the same
    assert list(ref.state_dict()) == ["module.weight", "module.bias"]


@pytest.mark.parametrize("replicas", [2, 3])
@pytest.mark.parametrize("batch", [6, 7, 2])
def test_host_replicas_give_the_plain_models_outputs_and_summed_gradients(replicas, batch):
    plain, wrapped = _twins()
    dp = nn.DataParallel(wrapped, device_ids=["cpu"] * replicas)
    x = tg.tensor(np.random.default_rng(1).standard_normal((batch, 1, 32, 32)), dtype=tg.float32)
    y = tg.tensor(np.random.default_rng(2).integers(0, 10, batch))
    out_plain, out_dp = plain(x), dp(x)
    np.testing.assert_allclose(out_dp.detach().numpy(), out_plain.detach().numpy(), rtol=1e-5, atol=1e-6)
    F.cross_entropy(out_plain, y).backward()
    F.cross_entropy(out_dp, y).backward()
    for (name, a), b in zip(plain.named_parameters(), wrapped.parameters()):
        assert b.grad is not None, name
        np.testing.assert_allclose(b.grad.numpy(), a.grad.numpy(), rtol=1e-4, atol=1e-6, err_msg=name)
    opt = tg.optim.SGD(dp.parameters(), lr=0.1, momentum=0.9)   # the original parameters, as torch's
    assert [id(p) for p in opt.param_groups[0]["params"]] == [id(p) for p in wrapped.parameters()]


def test_several_gpus_are_refused_with_the_reason():
    with pytest.raises(NotImplementedError, match="one GPU device"):
        nn.DataParallel(nn.Linear(2, 2), device_ids=[0, 1])


@pytest.mark.skipif(not tg.cuda.is_available(), reason="needs a GPU")
def test_one_gpu_moves_module_and_inputs():
    dp = nn.DataParallel(nn.Linear(3, 2), device_ids=[0])
    assert dp(tg.randn(4, 3)).device == "cuda"
