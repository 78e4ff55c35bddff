"""``python -m tinygrad_mnist``: train, evaluate, predict, compare and list the tutorial models.

    python -m tinygrad_mnist train --model cnn --epochs 2
    python -m tinygrad_mnist train --model cnn --engine torch
    python -m tinygrad_mnist evaluate --checkpoint runs/cnn-tinygrad/model.safetensors
    python -m tinygrad_mnist predict --checkpoint runs/cnn-tinygrad/model.safetensors digit.png
    python -m tinygrad_mnist compare --model mlp --limit-train 5000
    python -m tinygrad_mnist models
    python -m tinygrad_mnist convert model.pth model.safetensors

Errors a user can fix are one line on stderr naming the flag or file: exit status 2 for a bad
argument (checked before any work), 1 for a run that failed; ``--debug`` shows the traceback
instead. Ctrl-C stops with a one-line message and exit status 130.
"""
from __future__ import annotations

import argparse
import math
import os
import sys
import warnings

import numpy as np

from . import explain, training
from .optim import OPTIMIZERS
from .specs import MODEL_NAMES, get_spec


class UsageError(Exception):
    """A bad argument found before any work: exit status 2."""


class _Parser(argparse.ArgumentParser):
    """argparse, with its errors on one line (no usage block): ``PROG: error: argument --lr: ...``."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def _integer(minimum, maximum=None):
    def parse(text):
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
        if value < minimum or (maximum is not None and value > maximum):
            bound = f">= {minimum}" + (f" and <= {maximum}" if maximum is not None else "")
            raise argparse.ArgumentTypeError(f"must be an integer {bound}, got {text}")
        return value
    return parse


def _finite(minimum=0.0):
    def parse(text):
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
        if not math.isfinite(value) or value < minimum:
            raise argparse.ArgumentTypeError(f"must be a finite number >= {minimum:g}, got {text}")
        return value
    return parse


def _debug(p):
    p.add_argument("--debug", action="store_true", help="show the full traceback of an error")


def _common(p, data=True):
    p.add_argument("--device", choices=["cpu", "cuda"], default="cpu")
    p.add_argument("--threads", type=_integer(1), default=None,
                   help="BLAS / torch threads (default: the library's own choice)")
    _debug(p)
    if data:
        p.add_argument("--data-dir", default="data/mnist", help="directory with the MNIST IDX files")
        p.add_argument("--download", action="store_true", help="download MNIST into --data-dir if missing")
        p.add_argument("--download-timeout", type=float, metavar="SECONDS", help="give up a mirror that takes longer for one file (default 600)")


def _training_args(p):
    p.add_argument("--model", required=True, choices=MODEL_NAMES)
    p.add_argument("--epochs", type=_integer(0), help="default: the tutorial's")
    p.add_argument("--batch-size", type=_integer(1), help="default: the tutorial's")
    p.add_argument("--lr", type=_finite(0.0), help="default: the tutorial's")
    p.add_argument("--seed", type=_integer(0, 2 ** 64 - 1), default=0)
    p.add_argument("--limit-train", type=_integer(1), help="train on the first N training images only")
    _common(p)


def build_parser():
    parser = _Parser(prog="python -m tinygrad_mnist", description=__doc__.split("\n")[0],
                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("train", help="train a tutorial model")
    _training_args(p)
    p.add_argument("--optimizer", choices=[*OPTIMIZERS, *(n.lower() for n in OPTIMIZERS)], metavar="NAME",
                   help=f"one of {', '.join(OPTIMIZERS)} (any case); default: the tutorial's")
    p.add_argument("--engine", choices=training.ENGINES, default="tinygrad")
    p.add_argument("--out", help="output folder (default runs/MODEL-ENGINE): new, empty, or an earlier run's, "
                                 "which is replaced only when this run completes")
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

    p = sub.add_parser("models", help="list the models and their tutorial settings")
    _debug(p)
    explain.add_subparser(sub)  # one training step explained in an HTML page (tinygrad_mnist/explain)

    p = sub.add_parser("convert", help="convert a PyTorch .pt/.pth checkpoint to safetensors, without running "
                                       "code from it (needs torch)")
    p.add_argument("input", help="a file written by torch.save")
    p.add_argument("output", nargs="?", help="the .safetensors file to write (default: INPUT with that suffix)")
    _debug(p)
    return parser


def _existing_file(flag, path, hint=""):
    if not os.path.exists(path):
        raise UsageError(f"{flag} {path}: no such file")
    if os.path.isdir(path):
        raise UsageError(f"{flag} {path} is a folder, not a file{hint}")


def _checkpoint_arg(path):
    inside = os.path.join(path, "model.safetensors")
    _existing_file("--checkpoint", path, f" (did you mean {inside}?)" if os.path.isfile(inside) else "")


def _data_dir_arg(path):
    if os.path.exists(path) and not os.path.isdir(path):
        raise UsageError(f"--data-dir {path} is a file, not a folder")


def cmd_train(a):
    _data_dir_arg(a.data_dir)
    try:
        training.check_out_folder(a.out or os.path.join("runs", f"{a.model}-{a.engine}"))
    except OSError as exc:
        raise UsageError(str(exc)) from None
    config = training.TrainConfig(model=a.model, epochs=a.epochs, batch_size=a.batch_size, lr=a.lr,
                                  optimizer=a.optimizer, seed=a.seed, device=a.device, engine=a.engine,
                                  data_dir=a.data_dir, out=a.out, limit_train=a.limit_train,
                                  download=a.download, threads=a.threads)
    training.train(config, progress=not a.no_progress)


def cmd_evaluate(a):
    _checkpoint_arg(a.checkpoint)
    _data_dir_arg(a.data_dir)
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


MAX_IMAGE_PIXELS = 64 * 2 ** 20  # 8192 x 8192


def load_digit(path):
    """A digit image file of any size -> uint8 28x28, white digit on black as in MNIST.

    Converted to grayscale, fitted into a 20x20 box with its aspect kept and centred on a 28x28
    canvas (MNIST's own framing); a dark-on-light image is inverted first.
    """
    from PIL import Image, UnidentifiedImageError
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            img = Image.open(path)
            w, h = img.size
            if w * h > MAX_IMAGE_PIXELS:
                raise ValueError(f"predict: {path} is too large: {w}x{h} pixels; images above "
                                 f"{MAX_IMAGE_PIXELS:,} pixels are refused (a digit needs far fewer)")
            img = img.convert("L")
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise ValueError(f"predict: {path} is refused as too large to decode safely ({exc})") from None
    except (UnidentifiedImageError, OSError, SyntaxError) as exc:  # PIL raises SyntaxError for some broken files
        raise ValueError(f"predict: cannot read image {path}: {exc}") from None
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
    _checkpoint_arg(a.checkpoint)
    for path in a.images:
        _existing_file("image", path)
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


def cmd_convert(a):
    from .convert import convert
    _existing_file("input", a.input)
    output = a.output or os.path.splitext(a.input)[0] + ".safetensors"
    if os.path.isdir(output):
        raise UsageError(f"output {output} is a folder, not a file")
    convert(a.input, output)


def _one_line(exc):
    text = " ".join(line.strip() for line in str(exc).splitlines() if line.strip()) or type(exc).__name__
    if isinstance(exc, OSError) and exc.filename is not None and str(exc.filename) not in text:
        text += f": {exc.filename}"
    return text


_USER_ERRORS = (OSError, ValueError, RuntimeError, TypeError, ImportError, MemoryError, KeyError)


def main(argv=None):
    """Run one command; returns the exit status (0, 1 failed run, 2 bad argument, 130 Ctrl-C)."""
    debug = False
    try:
        args = build_parser().parse_args(argv)
        debug = getattr(args, "debug", False)
        if getattr(args, "download_timeout", None) is not None:  # read by MNIST(download=True)
            from .datasets import MNIST
            MNIST.download_deadline = args.download_timeout
        handler = {"train": cmd_train, "evaluate": cmd_evaluate, "predict": cmd_predict, "compare": cmd_compare,
                   "models": cmd_models, "convert": cmd_convert}.get(args.command) or args.handler
        handler(args)
    except KeyboardInterrupt:
        print("\ninterrupted (Ctrl-C): stopped; files being written were left as they were", file=sys.stderr)
        return 130
    except UsageError as exc:
        if debug:
            raise
        print(f"python -m tinygrad_mnist {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except Exception as exc:  # noqa: BLE001 -- every error ends as one line unless --debug
        if debug:
            raise
        kind = "" if isinstance(exc, _USER_ERRORS) else f"{type(exc).__name__}: "
        hint = "" if kind == "" else " (an internal error: rerun with --debug for the traceback)"
        print(f"error: {kind}{_one_line(exc)}{hint}", file=sys.stderr)
        return 1
    return 0
