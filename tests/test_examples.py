"""The tutorial scripts in examples/ : each runs end to end on a small slice of real MNIST, its loss
goes down, its files exist and load, and its model classes are the ones in tinygrad_mnist.models.

Each script runs once, as a subprocess (one BLAS thread), with 2 epochs on 2000 training and
1000 test images and a ``--json`` metrics file; the tests read that file and the output.
"""
import importlib.util
import json
import os
import subprocess
import sys

import numpy as np
import pytest

import tinygrad_mnist as tg
from tinygrad_mnist import models
from tinygrad_mnist.specs import get_spec

from conftest import MNIST_DIR as DATA, ROOT, needs_mnist

EXAMPLES = ROOT / "examples"

SCRIPTS = {
    "000": "tutorial_000_mlp4.py",
    "001": "tutorial_001_logreg_cnn.py",
    "002": "tutorial_002_lenet.py",
    "003": "tutorial_003_mlp.py",
    "004": "tutorial_004_cnn.py",
}
QUICK = ["--epochs", "2", "--limit-train", "2000", "--limit-test", "1000"]
EXTRA = {"000": ["--batch-size", "256"]}  # 2000 images at the tutorial's 8192 would be 1 step an epoch
WRITES_FILES = {"000", "001", "004"}  # the scripts that take --out


def run_example(key, tmp_path):
    out = tmp_path / "out"
    metrics = tmp_path / "metrics.json"
    args = [sys.executable, str(EXAMPLES / SCRIPTS[key]), *QUICK, *EXTRA.get(key, []),
            "--data-dir", str(DATA), "--json", str(metrics)]
    if key in WRITES_FILES:
        args += ["--out", str(out)]
    env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1",
               MPLBACKEND="Agg")
    # run from elsewhere than the repo root: the scripts find the package and data from __file__
    proc = subprocess.run(args, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, f"{SCRIPTS[key]} failed:\n{proc.stdout[-2000:]}\n{proc.stderr[-3000:]}"
    return proc.stdout, json.loads(metrics.read_text()), out


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """Run each script at most once per session, on demand."""
    cache = {}

    def get(key):
        if key not in cache:
            cache[key] = run_example(key, tmp_path_factory.mktemp(f"example{key}"))
        return cache[key]
    return get


def last_line(stdout):
    return stdout.strip().splitlines()[-1]


def load_png(path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.image as mpimg
    assert path.is_file(), path
    img = mpimg.imread(str(path))
    assert img.ndim == 3 and img.shape[0] > 50 and img.shape[1] > 50, img.shape
    return img


def decreasing(values):
    return all(b < a for a, b in zip(values, values[1:]))


# ------------------------------------------------------------------------------- runs end to end
@needs_mnist
def test_000_mlp4(runs):
    stdout, m, out = runs("000")
    assert "Epoch 0, Loss" in stdout and "Train Accuracy" in stdout
    losses = [e["loss"] for e in m["epochs"]]
    assert len(losses) == 2 and decreasing(losses), losses
    batch = m["epochs"][0]["batch_losses"]
    assert len(batch) == 8 and batch[-1] < batch[0]  # ceil(2000 / 256) steps
    assert m["test_accuracy"] > 40, m
    assert last_line(stdout).startswith("Test accuracy")
    load_png(out / "tutorial_000_cost.png")


@needs_mnist
def test_001_logreg_and_cnn(runs):
    stdout, m, out = runs("001")
    assert stdout.index("FeedForward (logreg)") < stdout.index("CNN (cnn)")  # the tutorial's order
    for name in ("logreg", "cnn"):
        r = m["models"][name]
        assert len(r["valid_losses"]) == 2 and decreasing(r["valid_losses"]), (name, r)
        load_png(out / f"tutorial_001_{name}_predictions.png")
    assert m["models"]["logreg"]["test_accuracy"] > 60
    assert m["models"]["cnn"]["test_accuracy"] > 10
    load_png(out / "tutorial_001_first_example.png")
    assert "validation accuracy" in last_line(stdout) and "held-out images" in last_line(stdout)


@needs_mnist
def test_002_lenet_walkthrough(runs):
    stdout, m, _ = runs("002")
    # print(net), the parameters, the loss graph and conv1.bias.grad before/after backward
    assert "(conv1): Conv2d(1, 6, kernel_size=(5, 5), stride=(1, 1))" in stdout
    assert "\n10\ntinygrad_mnist.Size([6, 1, 5, 5])\n" in stdout
    assert "<MSELossBackward object at" in stdout and "<LinearBackward object at" in stdout
    assert "conv1.bias.grad before backward\nNone\n" in stdout
    after = stdout.split("conv1.bias.grad after backward\n", 1)[1].splitlines()[0]
    assert after.startswith("tensor([") and after != "None"
    assert "<- Conv2dBackward (+2 parameters)" in stdout
    # every training loop brings its loss down
    for key in ("sgd_random_input", "sequential", "dynamic"):
        assert len(m[key]) == 500 and m[key][-1] < 0.1 * m[key][0], (key, m[key][0], m[key][-1])
    mnist = m["mnist"]["epochs"]
    assert decreasing([e["loss"] for e in mnist]), mnist
    assert [e["lr"] for e in mnist] == [get_spec("lenet").lr] * 2  # StepLR(step_size=7): no decay yet
    assert m["test_accuracy"] > 15
    assert "Finished Training" in stdout
    assert last_line(stdout).startswith("Test accuracy")


@needs_mnist
def test_003_mlp(runs):
    stdout, m, _ = runs("003")
    losses = [e["loss"] for e in m["epochs"]]
    assert decreasing(losses) and m["epochs"][0]["last_batch_loss"] < m["epochs"][0]["first_batch_loss"]
    assert "Checking accuracy on training data" in stdout and "Checking accuracy on test data" in stdout
    assert m["train_accuracy"] > 70 and m["test_accuracy"] > 70, m
    assert last_line(stdout).startswith("Test accuracy")


@needs_mnist
def test_004_cnn_saves_a_loadable_safetensors_checkpoint(runs):
    stdout, m, out = runs("004")
    losses = [e["loss"] for e in m["epochs"]]
    assert decreasing(losses), losses
    assert "Starting epoch 0 of 2" in stdout and "accuracy: " in stdout
    assert m["test_accuracy"] > 20
    path = out / "tutorial_004_model.safetensors"
    with open(path, "rb") as f:
        assert f.read(2) != b"\x80\x04"  # not a pickle
    state = tg.load(path)
    expected = models.ConvNet().state_dict()
    assert set(state) == set(expected)
    for k, v in expected.items():
        assert tuple(state[k].shape) == tuple(v.shape), k
    model = models.ConvNet()
    model.load_state_dict(state)  # loads into the library's model of the same architecture
    assert last_line(stdout).startswith("Test accuracy")


# ------------------------------------------------------- the scripts' classes are the library's
def load_script(key):
    path = EXAMPLES / SCRIPTS[key]
    spec = importlib.util.spec_from_file_location(f"example_{key}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)  # defines the classes; main() runs only as __main__
    return module


SAME_CLASS = [  # (script, class in the script, constructor args, class in tinygrad_mnist.models, input shape)
    ("000", "MNISTnn", (), models.MNISTnn, (3, 1, 28, 28)),
    ("001", "FeedForward", (), models.FeedForward, (3, 784)),
    ("001", "CNN", (), models.StridedCNN, (3, 784)),
    ("002", "Net", (), models.LeNet, (3, 1, 32, 32)),
    ("002", "CifarNet", (), models.LeNet, (3, 1, 32, 32)),
    ("003", "NN", (784, 10), models.NN, (3, 784)),
    ("004", "Net", (), models.ConvNet, (3, 1, 28, 28)),
]


@pytest.mark.parametrize("key,name,args,library_cls,shape", SAME_CLASS,
                         ids=[f"{k}-{n}" for k, n, *_ in SAME_CLASS])
def test_script_model_matches_the_library_model(key, name, args, library_cls, shape):
    script_model = getattr(load_script(key), name)(*args)
    library_model = library_cls()
    ours, theirs = script_model.state_dict(), library_model.state_dict()
    assert list(ours) == list(theirs)
    assert [tuple(v.shape) for v in ours.values()] == [tuple(v.shape) for v in theirs.values()]
    # the same weights compute the same function (ReLU on the logits kept where the tutorial has it)
    script_model.load_state_dict(theirs)
    x = tg.randn(*shape)
    with tg.no_grad():
        np.testing.assert_allclose(script_model(x).numpy(), library_model(x).numpy(), rtol=1e-6, atol=1e-6)


def test_dynamic_net_shares_its_middle_layer():
    module = load_script("002")
    net = module.DynamicNet(20, 8, 3)
    assert list(net.state_dict()) == ["input_linear.weight", "input_linear.bias", "middle_linear.weight",
                                      "middle_linear.bias", "output_linear.weight", "output_linear.bias"]
    x = tg.randn(4, 20)
    module.random.seed(1)
    depths = [module.random.randint(0, 3) for _ in range(8)]
    module.random.seed(1)
    for depth in depths:  # each forward pass draws its own depth: a new graph each time
        net.zero_grad()
        net(x).sum().backward()
        grad = net.middle_linear.weight.grad
        assert (grad is None or not grad.numpy().any()) == (depth == 0), depth


@pytest.mark.parametrize("key,defaults", [
    ("000", dict(epochs=50, batch_size=8192, lr=1e-3)),
    ("001", dict(epochs=15, batch_size=64, lr=1e-3, model="both")),
    ("002", dict(epochs=2, batch_size=64, lr=0.01, steps=500)),
    ("003", dict(epochs=1, batch_size=64, lr=1e-3)),
    ("004", dict(epochs=10, batch_size=64, lr=1e-4)),
])
def test_defaults_are_the_tutorials(key, defaults):
    args = load_script(key).parse_args([])
    for name, value in defaults.items():
        assert getattr(args, name) == value, name
    assert args.data_dir == str(ROOT / "data" / "mnist")
    assert args.limit_train is None
