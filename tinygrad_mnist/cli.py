"""``python -m tinygrad_mnist``: train, evaluate, predict, compare and list the tutorial models.

    python -m tinygrad_mnist train --model cnn --epochs 2
    python -m tinygrad_mnist train --model cnn --engine torch
    python -m tinygrad_mnist evaluate --checkpoint runs/cnn-tinygrad/model.safetensors
    python -m tinygrad_mnist predict --checkpoint runs/cnn-tinygrad/model.safetensors digit.png
    python -m tinygrad_mnist compare --model mlp --limit-train 5000
    python -m tinygrad_mnist models
"""
from __future__ import annotations

import argparse
import sys

import numpy as np

from . import explain, training
from .optim import OPTIMIZERS
from .specs import MODEL_NAMES, get_spec


def _common(p, data=True):
    p.add_argument("--device", choices=["cpu", "cuda"], default="cpu")
    p.add_argument("--threads", type=int, default=None,
                   help="BLAS / torch threads (default: the library's own choice)")
    if data:
        p.add_argument("--data-dir", default="data/mnist", help="directory with the MNIST IDX files")
        p.add_argument("--download", action="store_true", help="download MNIST into --data-dir if missing")
        p.add_argument("--download-timeout", type=float, metavar="SECONDS", help="give up a mirror that takes longer for one file (default 600)")


def _training_args(p):
    p.add_argument("--model", required=True, choices=MODEL_NAMES)
    p.add_argument("--epochs", type=int, help="default: the tutorial's")
    p.add_argument("--batch-size", type=int, help="default: the tutorial's")
    p.add_argument("--lr", type=float, help="default: the tutorial's")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--limit-train", type=int, help="train on the first N training images only")
    _common(p)


def build_parser():
    parser = argparse.ArgumentParser(prog="python -m tinygrad_mnist", description=__doc__.split("\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("train", help="train a tutorial model")
    _training_args(p)
    p.add_argument("--optimizer", choices=[*OPTIMIZERS, *(n.lower() for n in OPTIMIZERS)], metavar="NAME",
                   help=f"one of {', '.join(OPTIMIZERS)} (any case); default: the tutorial's")
    p.add_argument("--engine", choices=training.ENGINES, default="tinygrad")
    p.add_argument("--out", help="output directory (default runs/MODEL-ENGINE)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")

    p = sub.add_parser("evaluate", help="accuracy and confusion matrix of a checkpoint on the test set")
    p.add_argument("--checkpoint", required=True)
    p.add_argument("--engine", choices=training.ENGINES, default="tinygrad")
    _common(p)

    p = sub.add_parser("predict", help="classify digit images (any size; converted to 28x28 grayscale)")
    p.add_argument("--checkpoint", required=True)
    p.add_argument("images", nargs="+")
    _common(p, data=False)

    p = sub.add_parser("compare", help="both engines from identical weights on identical batches")
    _training_args(p)

    sub.add_parser("models", help="list the models and their tutorial settings")
    explain.add_subparser(sub)  # one training step explained in an HTML page (tinygrad_mnist/explain)
    return parser


def cmd_train(a):
    config = training.TrainConfig(model=a.model, epochs=a.epochs, batch_size=a.batch_size, lr=a.lr,
                                  optimizer=a.optimizer, seed=a.seed, device=a.device, engine=a.engine,
                                  data_dir=a.data_dir, out=a.out, limit_train=a.limit_train,
                                  download=a.download, threads=a.threads)
    training.train(config, progress=not a.no_progress)


def cmd_evaluate(a):
    engine = training.make_engine(a.engine, a.device, a.threads)
    name, model = training.load_checkpoint(a.checkpoint, engine)
    spec = get_spec(name)
    _, _, x_test, y_test = training.load_mnist(a.data_dir, a.download)
    loss, acc, predictions = training.evaluate(engine, model, engine.tensor(training.preprocess(x_test, spec)),
                                               engine.tensor(y_test))
    print(f"{name} ({a.checkpoint}): test loss {loss:.4f}, accuracy {acc:.2%} "
          f"({int(round(acc * len(y_test)))}/{len(y_test)})")
    print("confusion matrix (rows: true digit, columns: predicted):")
    print(training.format_confusion(training.confusion_matrix(y_test, predictions)))


def load_digit(path):
    """A digit image file of any size -> uint8 28x28, white digit on black as in MNIST.

    Converted to grayscale, fitted into a 20x20 box with its aspect kept and centred on a 28x28
    canvas (MNIST's own framing); a dark-on-light image is inverted first.
    """
    from PIL import Image, UnidentifiedImageError
    try:
        img = Image.open(path).convert("L")
    except (FileNotFoundError, UnidentifiedImageError, OSError) as exc:
        raise SystemExit(f"predict: cannot read image {path}: {exc}")
    pixels = np.asarray(img, dtype=np.float32)
    if pixels.mean() > 127:
        img = Image.fromarray((255 - pixels).astype(np.uint8))
    w, h = img.size
    scale = 20.0 / max(w, h)
    img = img.resize((max(1, round(w * scale)), max(1, round(h * scale))), Image.LANCZOS)
    canvas = Image.new("L", (28, 28), 0)
    canvas.paste(img, ((28 - img.size[0]) // 2, (28 - img.size[1]) // 2))
    return np.asarray(canvas, dtype=np.uint8)


def cmd_predict(a):
    engine = training.make_engine("tinygrad", a.device, a.threads)
    name, model = training.load_checkpoint(a.checkpoint, engine)
    images = np.stack([load_digit(p) for p in a.images])
    x = engine.tensor(training.preprocess(images, get_spec(name)))
    model.eval()
    with engine.lib.no_grad():
        probs = engine.F.softmax(model(x), dim=1)
    probs = training._to_numpy(probs)
    for path, p in zip(a.images, probs):
        print(f"{path}: {int(p.argmax())}  (p={p.max():.3f})")


def cmd_compare(a):
    training.compare(a.model, a.data_dir, epochs=a.epochs, batch_size=a.batch_size, lr=a.lr, seed=a.seed,
                     device=a.device, limit_train=a.limit_train, download=a.download, threads=a.threads)


def cmd_models(a):
    print(f"{'name':<13}{'class':<17}{'tutorial':<27}{'optimizer':<28}{'batch':>6}{'epochs':>7}  input, scale")
    for name in MODEL_NAMES:
        s = get_spec(name)
        opt = f"{s.optimizer} " + ", ".join(f"{k}={v}" for k, v in s.optimizer_kwargs.items())
        print(f"{name:<13}{s.factory:<17}{s.seed_file:<27}{opt:<28}{s.batch_size:>6}{s.epochs:>7}  "
              f"{s.input_kind}, {s.scale}")


def main(argv=None):
    args = build_parser().parse_args(argv)
    if getattr(args, "download_timeout", None) is not None:  # read by MNIST(download=True)
        from .datasets import MNIST
        MNIST.download_deadline = args.download_timeout
    handler = {"train": cmd_train, "evaluate": cmd_evaluate, "predict": cmd_predict,
               "compare": cmd_compare, "models": cmd_models}.get(args.command) or args.handler
    try:
        handler(args)
    except (FileNotFoundError, ValueError, RuntimeError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0
