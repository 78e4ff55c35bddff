"""The PyTorch reference: model shapes and state_dict keys, the IDX reader, a tiny training run."""
import gzip
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from reference.models import MODELS, build_model
from reference.specs import INPUT_KINDS, MODEL_NAMES, SPECS, FrozenDict, get_spec
from reference.train import (
    evaluate, load_mnist, main, make_optimizer, prepare_images, read_idx_images, read_idx_labels, train,
)

from conftest import MNIST_DIR, needs_mnist

REPO = Path(__file__).resolve().parents[1]


EXPECTED_PARAMS = {
    "logreg": 7850, "mlp": 39760, "mlp4": 1033500, "mlp4_fixed": 1033500,
    "cnn_s2": 3930, "cnn_s2_fixed": 3930, "lenet": 61706, "cnn": 181276,
}


def test_registry_order_and_names():
    assert MODEL_NAMES == ("logreg", "mlp", "mlp4", "mlp4_fixed", "cnn_s2", "cnn_s2_fixed", "lenet", "cnn")
    assert set(MODELS) == set(SPECS)
    with pytest.raises(KeyError, match="known models"):
        get_spec("resnet")


def test_specs_import_without_torch():
    code = "import sys, reference, reference.specs; assert 'torch' not in sys.modules, 'torch imported'"
    subprocess.run([sys.executable, "-c", code], cwd=REPO, check=True)


def test_spec_is_frozen_and_hashable():
    spec = SPECS["cnn"]
    with pytest.raises(Exception):
        spec.epochs = 3
    assert isinstance(spec.optimizer_kwargs, FrozenDict)
    assert dict(spec.optimizer_kwargs) == {"lr": 1e-4, "betas": (0.5, 0.999)}
    hash(spec)


@pytest.mark.parametrize("name", MODEL_NAMES)
def test_model_builds_shapes_keys_params(name):
    spec = SPECS[name]
    model = build_model(name, seed=0)
    assert type(model).__name__ == spec.factory
    sd = model.state_dict()
    assert tuple((k, tuple(v.shape)) for k, v in sd.items()) == spec.state_dict
    assert sum(p.numel() for p in model.parameters()) == spec.num_parameters == EXPECTED_PARAMS[name]
    x = torch.randn(5, *INPUT_KINDS[spec.input_kind])
    out = model(x)
    assert out.shape == (5, 10) and out.dtype == torch.float32
    out.sum().backward()
    assert all(p.grad is not None and p.grad.shape == p.shape for p in model.parameters())


@pytest.mark.parametrize("name", ["cnn_s2", "cnn_s2_fixed"])
def test_strided_cnn_accepts_flat_and_image(name):
    model = build_model(name, seed=0)
    x = torch.randn(4, 1, 28, 28)
    torch.testing.assert_close(model(x), model(x.reshape(4, 784)))


def test_faithful_variants_relu_on_logits_fixed_ones_not():
    torch.manual_seed(0)
    for faithful, fixed, shape in (("mlp4", "mlp4_fixed", (64, 1, 28, 28)), ("cnn_s2", "cnn_s2_fixed", (64, 784))):
        a = build_model(faithful, seed=1)
        b = build_model(fixed, seed=2)
        b.load_state_dict(a.state_dict())       # same weights both ways
        x = torch.randn(*shape)
        out_a, out_b = a(x), b(x)
        assert (out_a >= 0).all()
        assert (out_b < 0).any()
        if faithful == "mlp4":                  # ReLU is the last op: faithful = relu(fixed)
            torch.testing.assert_close(out_a, out_b.clamp(min=0))


def test_same_seed_same_weights():
    a, b = build_model("lenet", seed=3), build_model("lenet", seed=3)
    for (k, v), (k2, v2) in zip(a.state_dict().items(), b.state_dict().items()):
        assert k == k2 and torch.equal(v, v2)


def test_models_md_lists_every_key_in_order():
    text = (REPO / "reference" / "MODELS.md").read_text()
    rows = {m.group(1): m.group(0) for m in re.finditer(r"^\| `(\w+)` \|.*$", text, re.M)}
    assert set(rows) == set(SPECS)
    for name, spec in SPECS.items():
        row, pos = rows[name], 0
        for key, shape in spec.state_dict:
            entry = f"`{key}` {tuple(shape)}".replace(",)", ")")
            found = row.find(entry, pos)
            assert found >= 0, f"MODELS.md row {name}: {entry} missing or out of order"
            pos = found + len(entry)
        assert spec.seed_file[:3] in row
        assert f"| {spec.num_parameters:,} |" in row


def test_optimizer_from_spec():
    model = build_model("cnn", seed=0)
    opt = make_optimizer(SPECS["cnn"], model.parameters())
    assert isinstance(opt, torch.optim.Adam)
    assert opt.defaults["lr"] == 1e-4 and opt.defaults["betas"] == (0.5, 0.999)
    opt = make_optimizer(SPECS["lenet"], build_model("lenet").parameters(), lr=0.5)
    assert isinstance(opt, torch.optim.SGD) and opt.defaults["lr"] == 0.5 and opt.defaults["momentum"] == 0.9


def test_prepare_images_scales_and_shapes():
    img = torch.tensor([[0, 128, 255, 1]], dtype=torch.uint8).repeat(196, 1).reshape(1, 28, 28)
    flat = prepare_images(img, SPECS["logreg"])             # div256, flat
    assert flat.shape == (1, 784) and flat.dtype == torch.float32
    assert torch.equal(flat[0, :4], torch.tensor([0, 0.5, 255 / 256, 1 / 256]))
    image = prepare_images(img, SPECS["cnn"])               # norm05, image
    assert image.shape == (1, 1, 28, 28)
    expected = (torch.tensor([0, 128, 255, 1], dtype=torch.float32) / 255 - 0.5) / 0.5
    assert torch.equal(image[0, 0, 0, :4], expected)
    assert torch.equal(prepare_images(img, SPECS["mlp4"])[0, 0, 0, :4],
                       torch.tensor([0, 128, 255, 1], dtype=torch.float32) / 255)
    padded = prepare_images(img, SPECS["lenet"])            # norm05, 32x32 with a black border
    assert padded.shape == (1, 1, 32, 32)
    assert (padded[0, 0, :2] == -1).all() and (padded[0, 0, :, :2] == -1).all()
    assert torch.equal(padded[0, 0, 2:30, 2:30], image[0, 0])


def test_idx_reader_rejects_bad_files(tmp_path):
    bad = tmp_path / "bad-images.gz"
    with gzip.open(bad, "wb") as f:
        f.write(np.array([2049, 1, 28, 28], dtype=">u4").tobytes() + bytes(784))
    with pytest.raises(ValueError, match="bad-images.gz.*magic number 2049"):
        read_idx_images(bad)
    short = tmp_path / "short-labels"
    short.write_bytes(np.array([2049, 5], dtype=">u4").tobytes() + bytes(3))
    with pytest.raises(ValueError, match="short-labels.*5 labels"):
        read_idx_labels(short)
    with pytest.raises(FileNotFoundError, match="train-images-idx3-ubyte"):
        load_mnist(tmp_path, "train")


@needs_mnist
def test_idx_reader_real_files():
    images = read_idx_images(MNIST_DIR / "train-images-idx3-ubyte.gz")
    labels = read_idx_labels(MNIST_DIR / "train-labels-idx1-ubyte.gz")
    assert images.shape == (60000, 28, 28) and images.dtype == np.uint8
    assert labels.shape == (60000,) and labels.dtype == np.uint8
    assert labels[:5].tolist() == [5, 0, 4, 1, 9]
    assert np.bincount(labels, minlength=10).min() > 5000
    x, y = load_mnist(MNIST_DIR, "test")
    assert x.shape == (10000, 28, 28) and x.dtype == torch.uint8
    assert y.shape == (10000,) and y.dtype == torch.int64
    assert int(x.max()) == 255 and int(x.min()) == 0


@needs_mnist
def test_tiny_training_run_lowers_loss():
    spec = SPECS["logreg"]
    x, y = load_mnist(MNIST_DIR, "test")
    x = prepare_images(x[:2000], spec)
    y = y[:2000]
    before_loss, _ = evaluate(build_model("logreg", seed=0), x, y)   # the same init train() starts from
    history, model = train("logreg", MNIST_DIR, epochs=1, limit_train=2000, limit_test=2000, seed=0)
    assert len(history) == 1 and history[0].epoch == 1
    m = history[0]
    assert before_loss > 2.0                 # about ln(10) untrained
    assert m.test_loss < before_loss - 0.5
    assert m.test_acc > 0.5                 # 32 Adam steps: about 69%
    assert 0 < m.train_loss < before_loss and 0 < m.train_acc <= 1 and m.seconds > 0
    assert evaluate(model, x, y) == pytest.approx((m.test_loss, m.test_acc))


@needs_mnist
def test_training_is_deterministic_given_seed():
    a = train("logreg", MNIST_DIR, epochs=1, limit_train=500, limit_test=100, seed=7)
    b = train("logreg", MNIST_DIR, epochs=1, limit_train=500, limit_test=100, seed=7)
    assert a.history[0].train_loss == b.history[0].train_loss
    for v, w in zip(a.model.state_dict().values(), b.model.state_dict().values()):
        assert torch.equal(v, w)


@needs_mnist
def test_cli_prints_a_line_per_epoch_and_saves(tmp_path, capsys):
    from safetensors.torch import load_file
    out = tmp_path / "w.safetensors"
    rc = main(["--model", "mlp", "--epochs", "2", "--limit-train", "256", "--limit-test", "100",
               "--data-dir", str(MNIST_DIR), "--save", str(out)])
    assert rc == 0
    lines = capsys.readouterr().out.splitlines()
    assert [l.split()[1] for l in lines if l.startswith("epoch")] == ["1/2", "2/2"]
    sd = load_file(str(out))
    assert list(sd) == sorted(SPECS["mlp"].state_dict_keys)   # safetensors stores keys sorted
    build_model("mlp").load_state_dict(sd)


def test_cli_bad_data_dir(tmp_path, capsys):
    assert main(["--model", "logreg", "--epochs", "1", "--data-dir", str(tmp_path)]) == 1
    assert "not found" in capsys.readouterr().err
