"""Train a tutorial model on MNIST with plain PyTorch (no torchvision).

    python -m reference.train --model cnn --epochs 1 --limit-train 5000 --data-dir data/mnist

The data comes straight from the IDX files (gzip + numpy.frombuffer), is scaled the way the
tutorial's pipeline scales it (see reference.specs.SCALES), and is fed through
TensorDataset + DataLoader(shuffle=True) into the tutorial's optimizer and cross-entropy loss.
Each epoch reports the mean training loss and accuracy accumulated over the epoch's batches
(as seed 000 prints them), then the loss and accuracy on the 10k test set, and the seconds taken.
"""
from __future__ import annotations

import argparse
import functools
import gzip
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import numpy as np
import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset

from .models import build_model
from .specs import MODEL_NAMES, ModelSpec, get_spec

__all__ = [
    "MNIST_FILES", "default_data_dir", "read_idx_images", "read_idx_labels", "load_mnist",
    "prepare_images", "make_optimizer", "evaluate", "EpochMetrics", "TrainResult", "train", "main",
]

MNIST_FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}
_IMAGES_MAGIC, _LABELS_MAGIC = 2051, 2049  # 0x00000803 (uint8, 3 dims), 0x00000801 (uint8, 1 dim)


def default_data_dir() -> Path:
    """<repo>/data/mnist if it exists, else the shared copy at <repo>/../shared/datasets/mnist."""
    repo = Path(__file__).resolve().parents[1]
    local = repo / "data" / "mnist"
    return local if local.is_dir() else repo.parent / "shared" / "datasets" / "mnist"


def _find(data_dir: Path, stem: str) -> Path:
    for name in (stem + ".gz", stem):
        if (data_dir / name).is_file():
            return data_dir / name
    raise FileNotFoundError(f"MNIST file {stem}[.gz] not found in {data_dir}")


def _read_bytes(path: Path) -> bytes:
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as f:
        return f.read()


def read_idx_images(path) -> np.ndarray:
    """An IDX3 image file (optionally .gz) as a uint8 array (N, rows, cols). Header: 16 bytes."""
    raw = _read_bytes(path)
    if len(raw) < 16:
        raise ValueError(f"{path}: {len(raw)} bytes, too short for an IDX image header (16 bytes)")
    magic, n, rows, cols = np.frombuffer(raw, dtype=">u4", count=4)
    if magic != _IMAGES_MAGIC:
        raise ValueError(f"{path}: magic number {magic}, expected {_IMAGES_MAGIC} for IDX images")
    if len(raw) != 16 + n * rows * cols:
        raise ValueError(f"{path}: header says {n}x{rows}x{cols} images, "
                         f"but the file has {len(raw) - 16} pixel bytes")
    return np.frombuffer(raw, dtype=np.uint8, offset=16).reshape(int(n), int(rows), int(cols))


def read_idx_labels(path) -> np.ndarray:
    """An IDX1 label file (optionally .gz) as a uint8 array (N,). Header: 8 bytes."""
    raw = _read_bytes(path)
    if len(raw) < 8:
        raise ValueError(f"{path}: {len(raw)} bytes, too short for an IDX label header (8 bytes)")
    magic, n = np.frombuffer(raw, dtype=">u4", count=2)
    if magic != _LABELS_MAGIC:
        raise ValueError(f"{path}: magic number {magic}, expected {_LABELS_MAGIC} for IDX labels")
    if len(raw) != 8 + n:
        raise ValueError(f"{path}: header says {n} labels, but the file has {len(raw) - 8}")
    labels = np.frombuffer(raw, dtype=np.uint8, offset=8)
    if labels.size and labels.max() > 9:
        raise ValueError(f"{path}: label {labels.max()} out of range 0..9")
    return labels


@functools.lru_cache(maxsize=4)
def _read_split(img_path: Path, lbl_path: Path, mtimes: tuple):
    """Decompressing 60k images takes ~0.5 s; cache per file (and modification time)."""
    images, labels = read_idx_images(img_path), read_idx_labels(lbl_path)
    if len(images) != len(labels):
        raise ValueError(f"{img_path} has {len(images)} images but {lbl_path} has {len(labels)} labels")
    return images, labels


def load_mnist(data_dir=None, split: str = "train"):
    """(images, labels) of one split as torch tensors: uint8 (N, 28, 28) and int64 (N,)."""
    if split not in MNIST_FILES:
        raise ValueError(f"load_mnist: split must be 'train' or 'test', got {split!r}")
    data_dir = Path(data_dir) if data_dir is not None else default_data_dir()
    img_path, lbl_path = (_find(data_dir, stem).resolve() for stem in MNIST_FILES[split])
    images, labels = _read_split(img_path, lbl_path, (img_path.stat().st_mtime_ns, lbl_path.stat().st_mtime_ns))
    # frombuffer arrays are read-only (and cached); give the caller its own writable copy.
    return torch.from_numpy(images.copy()), torch.from_numpy(labels.astype(np.int64))


def prepare_images(images: torch.Tensor, spec: ModelSpec) -> torch.Tensor:
    """uint8 (N, 28, 28) -> float32 in the spec's scale and input shape.

    Float32 arithmetic in the same order as the tutorial's pipeline, so values match bit for bit:
    ToTensor is ``x.float().div(255)``, Normalize is ``.sub(0.5).div(0.5)``. For image32 the raw
    uint8 image is padded with 0 first (transforms.Pad(2) ahead of ToTensor).
    """
    x = images.unsqueeze(1)                          # (N, 1, 28, 28)
    if spec.input_kind == "image32":
        x = F.pad(x, (2, 2, 2, 2), value=0)          # (N, 1, 32, 32), black border
    x = x.to(torch.float32)
    if spec.scale == "div255":
        x = x.div(255)
    elif spec.scale == "div256":
        x = x.div(256)
    elif spec.scale == "norm05":
        x = x.div(255).sub(0.5).div(0.5)
    else:
        raise ValueError(f"prepare_images: unknown scale {spec.scale!r}")
    if spec.input_kind == "flat":
        x = x.reshape(x.shape[0], -1)                # (N, 784)
    return x


def make_optimizer(spec: ModelSpec, params, lr: float | None = None) -> torch.optim.Optimizer:
    """The tutorial's optimizer over `params`; `lr` overrides the spec's learning rate."""
    kwargs = dict(spec.optimizer_kwargs)
    if lr is not None:
        kwargs["lr"] = lr
    return getattr(torch.optim, spec.optimizer)(params, **kwargs)


@torch.no_grad()
def evaluate(model: torch.nn.Module, x: torch.Tensor, y: torch.Tensor, batch_size: int = 1000):
    """(mean cross-entropy, accuracy) of `model` on inputs `x` and int64 labels `y`, in eval mode."""
    if len(x) != len(y):
        raise ValueError(f"evaluate: {len(x)} inputs but {len(y)} labels")
    if len(x) == 0:
        raise ValueError("evaluate: empty input")
    was_training = model.training
    model.eval()
    total_loss, correct = 0.0, 0
    try:
        for i in range(0, len(x), batch_size):
            xb, yb = x[i:i + batch_size], y[i:i + batch_size]
            out = model(xb)
            total_loss += F.cross_entropy(out, yb, reduction="sum").item()
            correct += (out.argmax(1) == yb).sum().item()
    finally:
        model.train(was_training)
    return total_loss / len(x), correct / len(x)


@dataclass(frozen=True)
class EpochMetrics:
    epoch: int            # 1-based
    train_loss: float     # sample-weighted mean of the epoch's batch losses (weights moving)
    train_acc: float      # fraction of training samples classified right when their batch ran
    test_loss: float
    test_acc: float
    seconds: float        # training + test evaluation of this epoch


class TrainResult(NamedTuple):
    history: list         # [EpochMetrics, ...]
    model: torch.nn.Module


def train(name: str, data_dir=None, epochs: int | None = None, batch_size: int | None = None,
          lr: float | None = None, seed: int = 0, limit_train: int | None = None,
          device: str = "cpu", limit_test: int | None = None, log=None) -> TrainResult:
    """Train model `name` with its tutorial's settings; None means "the spec's value".

    `seed` fixes the initial weights (torch.manual_seed before the model is built) and the
    shuffling (the DataLoader's own generator). `limit_train`/`limit_test` keep the first N
    samples. `log`, if given, is called with each EpochMetrics as soon as it is ready.
    """
    spec = get_spec(name)
    epochs = spec.epochs if epochs is None else epochs
    batch_size = spec.batch_size if batch_size is None else batch_size
    if epochs < 0 or batch_size < 1:
        raise ValueError(f"train: need epochs >= 0 and batch_size >= 1, got {epochs} and {batch_size}")
    dev = torch.device(device)

    x_train, y_train = load_mnist(data_dir, "train")
    x_test, y_test = load_mnist(data_dir, "test")
    if limit_train is not None:
        x_train, y_train = x_train[:limit_train], y_train[:limit_train]
    if limit_test is not None:
        x_test, y_test = x_test[:limit_test], y_test[:limit_test]
    x_train = prepare_images(x_train, spec).to(dev)
    x_test = prepare_images(x_test, spec).to(dev)
    y_train, y_test = y_train.to(dev), y_test.to(dev)

    model = build_model(name, seed=seed).to(dev)
    optimizer = make_optimizer(spec, model.parameters(), lr)
    loader = DataLoader(TensorDataset(x_train, y_train), batch_size=batch_size, shuffle=True,
                        generator=torch.Generator().manual_seed(seed))

    history = []
    for epoch in range(1, epochs + 1):
        t0 = time.perf_counter()
        model.train()
        loss_sum = torch.zeros((), dtype=torch.float64, device=dev)  # accumulate on device: no sync per batch
        correct = torch.zeros((), dtype=torch.int64, device=dev)
        for xb, yb in loader:
            pred = model(xb)
            loss = F.cross_entropy(pred, yb)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            loss_sum += loss.detach() * len(yb)
            correct += (pred.detach().argmax(1) == yb).sum()
        n = len(loader.dataset)
        test_loss, test_acc = evaluate(model, x_test, y_test)
        m = EpochMetrics(epoch, loss_sum.item() / n, correct.item() / n, test_loss, test_acc,
                         time.perf_counter() - t0)
        history.append(m)
        if log is not None:
            log(m)
    return TrainResult(history, model)


def _format(m: EpochMetrics, epochs: int) -> str:
    return (f"epoch {m.epoch}/{epochs}  train loss {m.train_loss:.4f}  train acc {100 * m.train_acc:.2f}%  "
            f"test loss {m.test_loss:.4f}  test acc {100 * m.test_acc:.2f}%  {m.seconds:.1f}s")


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m reference.train",
                                description="Train a tutorial MNIST model with PyTorch.")
    p.add_argument("--model", required=True, choices=MODEL_NAMES)
    p.add_argument("--data-dir", type=Path, default=None,
                   help="folder with the MNIST IDX files (default: data/mnist, else ../shared/datasets/mnist)")
    p.add_argument("--epochs", type=int, default=None, help="default: the tutorial's")
    p.add_argument("--batch-size", type=int, default=None, help="default: the tutorial's")
    p.add_argument("--lr", type=float, default=None, help="default: the tutorial's")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--limit-train", type=int, default=None, help="use only the first N training images")
    p.add_argument("--limit-test", type=int, default=None, help="use only the first N test images")
    p.add_argument("--device", default="cpu")
    p.add_argument("--save", type=Path, default=None, help="write the final state_dict here (safetensors)")
    args = p.parse_args(argv)

    spec = get_spec(args.model)
    epochs = spec.epochs if args.epochs is None else args.epochs
    print(f"{spec.name}: {spec.factory} (seed {spec.seed_file}), {spec.num_parameters} parameters, "
          f"{spec.optimizer}({', '.join(f'{k}={v}' for k, v in spec.optimizer_kwargs.items())}"
          f"{'' if args.lr is None else f', lr overridden to {args.lr}'}), "
          f"batch {args.batch_size or spec.batch_size}, {epochs} epochs, input {spec.input_kind}, "
          f"scale {spec.scale}", flush=True)
    try:
        result = train(args.model, args.data_dir, epochs=epochs, batch_size=args.batch_size, lr=args.lr,
                       seed=args.seed, limit_train=args.limit_train, device=args.device,
                       limit_test=args.limit_test, log=lambda m: print(_format(m, epochs), flush=True))
    except (FileNotFoundError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    if args.save is not None:
        from safetensors.torch import save_file
        args.save.parent.mkdir(parents=True, exist_ok=True)
        tmp = args.save.with_name(args.save.name + ".tmp")
        save_file({k: v.detach().cpu().contiguous() for k, v in result.model.state_dict().items()}, str(tmp))
        tmp.replace(args.save)  # atomic: no half-written checkpoint on failure
        print(f"saved {args.save}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
