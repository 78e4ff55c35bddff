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


MNIST_FILES = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte",
               "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")


def mnist_dir():
    """The folder holding the four MNIST ``.gz`` files: the checkout's data/mnist, else the shared
    copy beside the checkout (../shared/datasets/mnist); None if neither has them."""
    for candidate in (ROOT / "data" / "mnist", ROOT.parent / "shared" / "datasets" / "mnist"):
        if all((candidate / (name + ".gz")).is_file() for name in MNIST_FILES):
            return candidate
    return None


# The one place every test file finds MNIST: MNIST_DIR (or None), the needs_mnist mark for tests
# that cannot run without it, and the mnist_root fixture, which skips when it is absent.
MNIST_DIR = mnist_dir()
needs_mnist = pytest.mark.skipif(MNIST_DIR is None,
                                 reason="MNIST .gz files not found in data/mnist nor ../shared/datasets/mnist")


@pytest.fixture(scope="session")
def mnist_root():
    """The MNIST folder (see mnist_dir); the test is skipped when there is none."""
    if MNIST_DIR is None:
        pytest.skip("MNIST .gz files not found in data/mnist nor ../shared/datasets/mnist")
    return MNIST_DIR


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
