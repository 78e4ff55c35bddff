"""The command line end to end on a small subset of real MNIST: train, evaluate, predict, compare."""
import json
import os
import subprocess
import sys

import numpy as np
import pytest

import tinygrad_mnist as tg
from tinygrad_mnist.datasets import MNIST
from tinygrad_mnist import cli, training
from tinygrad_mnist.specs import MODEL_NAMES

from conftest import ROOT, mnist_dir

DATA = mnist_dir()
pytestmark = pytest.mark.skipif(DATA is None, reason="MNIST IDX files not found in data/mnist or ../shared")


def run_cli(*args):
    env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1")
    proc = subprocess.run([sys.executable, "-m", "tinygrad_mnist", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc.stdout


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    out = tmp_path_factory.mktemp("run") / "mlp"
    stdout = run_cli("train", "--model", "mlp", "--epochs", "2", "--limit-train", "3000", "--data-dir", str(DATA),
                     "--out", str(out), "--no-progress")
    return out, stdout


def test_train_writes_every_output_and_loss_goes_down(trained):
    out, stdout = trained
    for name in ("config.json", "metrics.jsonl", "model.safetensors", "loss.png", "predictions.png"):
        assert (out / name).is_file(), name
    rows = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert [r["epoch"] for r in rows] == [1, 2]
    assert rows[1]["train_loss"] < rows[0]["train_loss"]
    assert rows[-1]["test_acc"] > 0.8
    config = json.loads((out / "config.json").read_text())
    assert config["model"] == "mlp" and config["batch_size"] == 64 and config["optimizer"] == "Adam"
    assert "epoch   2" in stdout and "test accuracy" in stdout
    state = tg.load(out / "model.safetensors")
    assert set(state) == {"fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"}
    import matplotlib.image
    assert matplotlib.image.imread(out / "predictions.png").ndim == 3


def test_evaluate_prints_accuracy_and_confusion_matrix(trained):
    out, stdout = trained
    text = run_cli("evaluate", "--checkpoint", str(out / "model.safetensors"), "--data-dir", str(DATA))
    acc = json.loads((out / "metrics.jsonl").read_text().splitlines()[-1])["test_acc"]
    assert f"accuracy {acc:.2%}" in text
    matrix = [line.split()[1:] for line in text.splitlines()[3:13]]
    assert sum(int(v) for row in matrix for v in row) == 10000


def test_predict_reads_digit_images_of_any_size(trained, tmp_path):
    from PIL import Image
    out, _ = trained
    images = MNIST(str(DATA), train=False).data.numpy()[:3]
    paths = []
    for i, img in enumerate(images):
        path = tmp_path / f"digit{i}.png"
        big = Image.fromarray(255 - img).resize((90, 70))  # dark digit on light, other size
        big.save(path)
        paths.append(str(path))
    text = run_cli("predict", "--checkpoint", str(out / "model.safetensors"), *paths)
    assert len([line for line in text.splitlines() if "(p=" in line]) == 3


def test_load_digit_normalises_framing(tmp_path):
    from PIL import Image
    img = np.zeros((50, 30), np.uint8)
    img[10:40, 10:20] = 255
    Image.fromarray(img).save(tmp_path / "d.png")
    digit = cli.load_digit(str(tmp_path / "d.png"))
    assert digit.shape == (28, 28) and digit.dtype == np.uint8 and digit.max() > 200 and digit[0, 0] == 0


def test_compare_agrees_to_float32_tolerance():
    rows, max_diff = training.compare("logreg", str(DATA), epochs=1, limit_train=1000, log=lambda s: None)
    ours, ref = rows[0]["tinygrad"], rows[0]["torch"]
    assert ours["train_loss"] == pytest.approx(ref["train_loss"], rel=1e-5)
    assert ours["test_acc"] == pytest.approx(ref["test_acc"], abs=2e-4)
    assert max_diff < 1e-4


def test_compare_command_prints_the_table():
    text = run_cli("compare", "--model", "cnn_s2", "--epochs", "1", "--limit-train", "256", "--data-dir", str(DATA))
    assert "largest parameter difference" in text
    diff = float(text.strip().splitlines()[-1].split(":")[-1])
    assert diff < 1e-3


@pytest.mark.parametrize("name", MODEL_NAMES)
def test_every_model_trains_a_few_steps_in_both_engines(name):
    """Each model, each engine: the tutorial's optimizer lowers the loss on one repeated batch."""
    from tinygrad_mnist.specs import get_spec
    spec = get_spec(name)
    images = MNIST(str(DATA), train=False).data.numpy()[:32]
    labels = MNIST(str(DATA), train=False).targets.numpy()[:32]
    x = training.preprocess(images, spec)
    for engine_name in training.ENGINES:
        engine = training.make_engine(engine_name)
        model = engine.build_model(name, seed=0)
        opt = engine.optimizer(spec, model.parameters(), lr=spec.lr * (10 if spec.lr < 1e-3 else 1))
        xb, yb = engine.tensor(x), engine.tensor(labels)
        losses = []
        for _ in range(8):
            loss, _ = training.train_epoch(engine, model, opt, [(xb, yb)])
            losses.append(loss)
        assert losses[-1] < losses[0], (engine_name, losses)


def test_bad_arguments_are_clear_errors(tmp_path):
    env = dict(os.environ)
    proc = subprocess.run([sys.executable, "-m", "tinygrad_mnist", "train", "--model", "nope"], cwd=ROOT,
                          env=env, capture_output=True, text=True)
    assert proc.returncode != 0 and "invalid choice" in proc.stderr
    proc = subprocess.run([sys.executable, "-m", "tinygrad_mnist", "train", "--model", "mlp", "--data-dir",
                           str(tmp_path / "empty"), "--no-progress"], cwd=ROOT, env=env, capture_output=True,
                          text=True)
    assert proc.returncode == 1 and "error:" in proc.stderr and str(tmp_path / "empty") in proc.stderr
