"""Shared test set-up: hypothesis profiles, the MNIST location and the device under test.

HYPOTHESIS_PROFILE=dev runs more examples (default: ci, derandomized and quick).
TG_TEST_DEVICE=cuda runs the device-aware tests on the GPU (they skip when none is present).
"""
import os
from pathlib import Path

import pytest
from hypothesis import settings

from tinygrad_mnist.testing.strategies import register_profiles

register_profiles()
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

ROOT = Path(__file__).resolve().parents[1]


def mnist_dir():
    """data/mnist in the repo, else the shared copy beside the checkout (None if neither)."""
    for candidate in (ROOT / "data" / "mnist", ROOT.parent / "shared" / "datasets" / "mnist"):
        if (candidate / "t10k-labels-idx1-ubyte.gz").exists() or (candidate / "t10k-labels-idx1-ubyte").exists():
            return candidate
    return None


@pytest.fixture(scope="session")
def device():
    """The device the engine is tested on: cpu, or cuda when TG_TEST_DEVICE=cuda and a GPU is there."""
    import tinygrad_mnist as tg
    name = os.environ.get("TG_TEST_DEVICE", "cpu")
    if name == "cuda":
        if not tg.cuda.is_available():
            pytest.skip("TG_TEST_DEVICE=cuda but no GPU/CuPy here")
        import torch
        # compare against true float32 on the GPU: TF32 would round torch's matmuls and convs
        torch.backends.cuda.matmul.allow_tf32 = False
        torch.backends.cudnn.allow_tf32 = False
    return name
