"""The tutorial scripts in examples/ : each runs end to end on a small slice of real MNIST, its loss
goes down, its files exist and load, and its model classes are the ones in tinygrad_mnist.models.

Each script runs once, as a subprocess (one BLAS thread), with 2 epochs on 2000 training and
1000 test images and a ``--json`` metrics file; the tests read that file and the output. Example
002 runs every section with 1 epoch, its transfer learning on a few images a digit; the transfer
script also runs on torch and from given weights, and its ``train_model`` is checked to hand back
the best epoch's weights.
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
EXTRA = {
    "000": ["--batch-size", "256"],  # 2000 images at the tutorial's 8192 would be 1 step an epoch
    # every section with 1 epoch; the transfer runs on 8 (pretraining 16) train and 4 val images a digit
    "002": ["--epochs", "1", "--log-every", "100", "--transfer-epochs", "1", "--pretrain-epochs", "1",
            "--train-per-class", "8", "--pretrain-per-class", "16", "--val-per-class", "4"],
}
TRANSFER_QUICK = ["--epochs", "1", "--pretrain-epochs", "1", "--train-per-class", "8",
                  "--pretrain-per-class", "16", "--val-per-class", "4"]
WRITES_FILES = {"000", "001", "004"}  # the scripts that take --out


def run_example(key, tmp_path):
    out = tmp_path / "out"
    metrics = tmp_path / "metrics.json"
    args = [sys.executable, str(EXAMPLES / SCRIPTS[key]), *QUICK, *EXTRA.get(key, []),
            "--data-dir", str(DATA), "--json", str(metrics)]
    if key in WRITES_FILES:
        args += ["--out", str(out)]
    if key == "002":  # the transfer section's image folders and checkpoint
        args += ["--work-dir", str(out)]
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
    stdout, m, out = runs("002")
    # every section, in the tutorial's order
    order = ["(conv1): Conv2d(1, 6,", "conv1.bias.grad after backward", "SGD step 0:", "Section 6 data:",
             "Finished Training", "  In Model: input size", "Sequential(", "DynamicNet step 0:",
             "---- Transfer learning on tinygrad"]
    at = [stdout.index(marker) for marker in order]
    assert at == sorted(at), list(zip(order, at))
    # print(net), the parameters, the loss graph and conv1.bias.grad before/after backward
    assert "(conv1): Conv2d(1, 6, kernel_size=(5, 5), stride=(1, 1))" in stdout
    assert "\n10\ntinygrad_mnist.Size([6, 1, 5, 5])\n" in stdout
    assert "<MSELossBackward object at" in stdout and "<LinearBackward object at" in stdout
    assert "conv1.bias.grad before backward\nNone\n" in stdout
    after = stdout.split("conv1.bias.grad after backward\n", 1)[1].splitlines()[0]
    assert after.startswith("tensor([") and after != "None"
    assert "<- Conv2dBackward (+2 parameters)" in stdout
    # every random-data loop brings its loss down (section 5 against the arange(1, 11) target)
    for key in ("sgd_random_input", "sequential", "dynamic"):
        assert len(m[key]) == 500 and m[key][-1] < 0.1 * m[key][0], (key, m[key][0], m[key][-1])
    # section 6: the tutorial's recipe, batch 4, on MNIST as 3-channel 32x32 (no CIFAR-10 here)
    six = m["section6"]
    assert six["data"].startswith("MNIST padded to 32x32") and "MNIST padded to 32x32" in stdout
    assert [e["batches"] for e in six["epochs"]] == [500]  # 2000 images / 4
    assert 0 < six["epochs"][0]["loss"] < 2.31, six
    assert stdout.count("\nLoss ") == 5  # every 100th of the 500 mini-batches
    assert "Accuracy of the network on the 1000 test images: " in stdout
    assert 15 < six["test_accuracy"] <= 100 and six["train_time"] > 0, six
    # section 7: DataParallel around the tutorial's Model, 100 random rows in batches of 30
    dp = m["dataparallel"]
    assert dp["wrapper"] == "DataParallel"
    assert dp["sizes"] == [[[30, 5], [30, 2]]] * 3 + [[[10, 5], [10, 2]]]
    assert stdout.count("  In Model: input size tinygrad_mnist.Size([30, 5]) output size "
                        "tinygrad_mnist.Size([30, 2])") == 3
    assert "Outside: input size tinygrad_mnist.Size([10, 5]) output_size tinygrad_mnist.Size([10, 2])" in stdout
    # section 10: the three transfer results, the best weights restored, the body frozen
    check_transfer(m["transfer"], stdout, out, "tinygrad")
    assert last_line(stdout).startswith("Test accuracy")


def check_transfer(t, stdout, work, engine):
    assert t["engine"] == engine
    for key in ("pretrain", "scratch", "finetune", "frozen"):
        r = t[key]
        assert 0 <= r["best_acc"] <= 1 and r["time"] > 0, (key, r)
        assert abs(r["restored_val_acc"] - r["best_acc"]) < 1e-6, (key, r)  # the best weights, loaded back (float32 acc)
        assert [h["phase"] for h in r["history"]] == ["train", "val"]  # 1 epoch
        assert r["best_acc"] == max(h["acc"] for h in r["history"] if h["phase"] == "val")
    assert t["frozen"]["body_unchanged"] and t["frozen"]["trainable"] == ["fc.bias", "fc.weight"]
    for name in ("from scratch", "fine-tuned", "frozen features"):
        assert f"\n  {name} " in stdout, name
    checkpoint = work / f"resnet18_digits0-4_{engine}_seed0.safetensors"
    state = tg.load(checkpoint)
    model = models.resnet18(num_classes=5)
    model.load_state_dict(state)  # the pretrained network, in torchvision's keys, loads in both engines
    assert set(state) == set(model.state_dict())


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
    ("002", dict(epochs=2, batch_size=4, lr=0.001, steps=500, log_every=1, transfer_epochs=3)),
    ("003", dict(epochs=1, batch_size=64, lr=1e-3)),
    ("004", dict(epochs=10, batch_size=64, lr=1e-4)),
])
def test_defaults_are_the_tutorials(key, defaults):
    args = load_script(key).parse_args([])
    for name, value in defaults.items():
        assert getattr(args, name) == value, name
    assert args.data_dir == str(ROOT / "data" / "mnist")
    assert args.limit_train is None


def test_002_cifar_net_is_lenet_with_three_input_channels():
    net, lenet = load_script("002").CifarNet(), models.LeNet()
    ours, theirs = net.state_dict(), lenet.state_dict()
    assert list(ours) == list(theirs)
    assert tuple(ours["conv1.weight"].shape) == (6, 3, 5, 5)
    assert all(tuple(ours[k].shape) == tuple(theirs[k].shape) for k in ours if k != "conv1.weight")
    assert tuple(net(tg.randn(2, 3, 32, 32)).shape) == (2, 10)


# ------------------------------------------------------------- the transfer example's train_model
def load_transfer(engine):
    path = EXAMPLES / "tutorial_002_transfer.py"
    spec = importlib.util.spec_from_file_location(f"example_002_transfer_{engine}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.use_engine(engine)
    return module


class ScriptedSteps:
    """An optimizer whose step() sets the model's weights to the next epoch's entry of ``plan``,
    so that the validation accuracy of each epoch is known in advance."""

    def __init__(self, lib, layer, plan, steps_per_epoch):
        self.lib, self.layer, self.plan, self.per_epoch, self.steps = lib, layer, plan, steps_per_epoch, 0

    def zero_grad(self):
        pass

    def step(self):
        weight = self.plan[self.steps // self.per_epoch]
        with self.lib.no_grad():
            self.layer.weight.copy_(self.lib.tensor(weight, dtype=self.lib.float32))
            self.layer.bias.zero_()
        self.steps += 1


class NoSchedule:
    def step(self):
        pass


@pytest.mark.parametrize("engine", ["tinygrad", "torch"])
def test_train_model_restores_the_best_epochs_weights(engine):
    mod = load_transfer(engine)
    lib = mod.tg
    x = np.array([[1.0, 0.0], [0.0, 1.0], [2.0, 0.0], [0.0, 3.0]], np.float32)
    y = np.array([0, 1, 0, 1])
    good, bad = np.eye(2), np.eye(2)[::-1].copy()  # accuracy 1 and 0 on these points
    batch = (lib.tensor(x), lib.tensor(y))
    mod.dataloaders = {"train": [batch, batch], "val": [batch]}
    mod.dataset_sizes = {"train": 8, "val": 4}
    model = mod.nn.Linear(2, 2)
    optimizer = ScriptedSteps(lib, model, [bad, good, bad], steps_per_epoch=2)
    model = mod.train_model(model, mod.nn.CrossEntropyLoss(), optimizer, NoSchedule(), num_epochs=3)
    accs = [h["acc"] for h in mod.LAST_RUN["history"] if h["phase"] == "val"]
    assert accs == [0.0, 1.0, 0.0] and mod.LAST_RUN["best_epoch"] == 1 and mod.LAST_RUN["best_acc"] == 1.0
    # the weights after the last epoch were `bad`; the returned model has epoch 1's, copied, not aliased
    np.testing.assert_array_equal(model.weight.detach().numpy(), good)
    assert mod.val_accuracy(model) == 1.0


@needs_mnist
def test_002_transfer_on_torch(tmp_path):
    """The transfer example's --engine torch: the same program, its three results."""
    metrics = tmp_path / "metrics.json"
    args = [sys.executable, str(EXAMPLES / "tutorial_002_transfer.py"), "--engine", "torch", *TRANSFER_QUICK,
            "--data-dir", str(DATA), "--work-dir", str(tmp_path), "--json", str(metrics)]
    env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1")
    proc = subprocess.run(args, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, f"{proc.stdout[-2000:]}\n{proc.stderr[-3000:]}"
    check_transfer(json.loads(metrics.read_text()), proc.stdout, tmp_path, "torch")
    assert "Transfer to digits 5-9 on torch" in proc.stdout


def test_002_transfer_defaults():
    args = load_transfer("tinygrad").parse_args([])
    assert (args.engine, args.batch_size, args.epochs, args.image_size) == ("tinygrad", 4, 3, 32)
    assert args.weights is None and args.data_dir == str(ROOT / "data" / "mnist")


@needs_mnist
def test_002_transfer_from_given_weights(tmp_path):
    """--weights: a converted torchvision-style ResNet-18 (1000 classes) replaces the pretraining."""
    weights = tmp_path / "resnet18.safetensors"
    tg.save(models.resnet18().state_dict(), weights)
    metrics = tmp_path / "metrics.json"
    args = [sys.executable, str(EXAMPLES / "tutorial_002_transfer.py"), *TRANSFER_QUICK, "--weights", str(weights),
            "--data-dir", str(DATA), "--work-dir", str(tmp_path), "--json", str(metrics)]
    env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1")
    proc = subprocess.run(args, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, f"{proc.stdout[-2000:]}\n{proc.stderr[-3000:]}"
    t = json.loads(metrics.read_text())
    assert "pretrain" not in t and f"pretrained weights: {weights}" in proc.stdout
    for key in ("scratch", "finetune", "frozen"):
        assert abs(t[key]["restored_val_acc"] - t[key]["best_acc"]) < 1e-6, (key, t[key])
    assert t["frozen"]["body_unchanged"] and t["frozen"]["trainable"] == ["fc.bias", "fc.weight"]
