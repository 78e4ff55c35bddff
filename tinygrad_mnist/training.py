"""Training and evaluation of the tutorial models, in either engine, with one loop.

The loop is written once, PyTorch-style, against an :class:`Engine` that supplies the library
(``tinygrad_mnist`` or ``torch``), its ``nn.functional``, its ``DataLoader`` and the model
registry. That the same code trains both is the API's promise, checked every run.

Data: the four MNIST IDX files are read once into NumPy, scaled and laid out as the tutorial's
pipeline does (``specs``: ``div255``/``div256``/``norm05``; flat, 28x28 or padded 32x32), moved to
the device once, and batched by each engine's own ``DataLoader`` over a ``TensorDataset``.
"""
from __future__ import annotations

import json
import math
import os
import time
from dataclasses import asdict, dataclass, field

import numpy as np

from ._files import atomic_directory, atomic_write
from .optim import canonical_name
from .specs import MODEL_NAMES, get_spec

ENGINES = ("tinygrad", "torch")


# ------------------------------------------------------------------------------------------ data
def load_mnist(data_dir, download=False, limit_train=None):
    """(x_train, y_train, x_test, y_test) as uint8 N x 28 x 28 images and int64 labels (NumPy)."""
    from .datasets import MNIST
    train = MNIST(data_dir, train=True, download=download)
    test = MNIST(data_dir, train=False, download=download)
    x_train, y_train = train.data.numpy(), train.targets.numpy()
    if limit_train is not None:
        _check_int("--limit-train", limit_train, 1)
        x_train, y_train = x_train[:limit_train], y_train[:limit_train]
    return x_train, y_train, test.data.numpy(), test.targets.numpy()


def preprocess(images, spec):
    """uint8 (N, 28, 28) images -> float32 model inputs, scaled and shaped as the tutorial does."""
    x = images.astype(np.float32)
    if spec.input_kind == "image32":  # LeNet's 32x32 input: the raw image padded with 0 by 2
        x = np.pad(x, ((0, 0), (2, 2), (2, 2)))
    if spec.scale == "div255":
        x /= 255.0
    elif spec.scale == "div256":
        x /= 256.0
    elif spec.scale == "norm05":
        x = (x / 255.0 - 0.5) / 0.5
    else:
        raise ValueError(f"unknown scale {spec.scale!r}")
    return x.reshape((len(x),) + spec.input_shape)


# --------------------------------------------------------------------------------------- engines
class Engine:
    """What the training loop needs from a library: tensors, models, optimizers, data loading."""

    name = None

    def __init__(self, device="cpu", threads=None):
        self.device = device
        self.threads = threads

    def optimizer(self, spec, params, lr=None, optimizer=None):
        name = optimizer or spec.optimizer
        kwargs = dict(spec.optimizer_kwargs) if name.lower() == spec.optimizer.lower() else {"lr": spec.lr}
        if lr is not None:
            kwargs["lr"] = lr
        return getattr(self.optim, canonical_name(name))(params, **kwargs)  # the same name in torch.optim

    def loader(self, x, y, batch_size, shuffle, seed):
        data = self.data.TensorDataset(x, y)
        generator = self.generator(seed) if shuffle else None
        return self.data.DataLoader(data, batch_size=batch_size, shuffle=shuffle, generator=generator)


class TinygradEngine(Engine):
    name = "tinygrad"

    def __init__(self, device="cpu", threads=None):
        super().__init__(device, threads)
        import tinygrad_mnist as lib
        from . import models, optim
        from .nn import functional as F
        from .utils import data
        self.lib, self.F, self.optim, self.data, self.models = lib, F, optim, data, models
        # training and the benchmarks reuse freed memory in-process (opt-in: fast/allocator.py)
        from .fast.allocator import enable_host_allocator
        enable_host_allocator()
        if device == "cuda" and not lib.cuda.is_available():
            raise RuntimeError("--device cuda: no GPU is usable here (CuPy missing or no CUDA device)")
        if threads:
            from threadpoolctl import threadpool_limits
            self._limits = threadpool_limits(threads)

    def tensor(self, array):
        return self.lib.tensor(array, device=self.device)

    def build_model(self, name, seed):
        return self.models.build_model(name, seed=seed).to(self.device)

    def generator(self, seed):
        return self.lib.Generator().manual_seed(seed)

    def state_dict_numpy(self, model):
        return {k: self.lib.backend.to_numpy(v.array) for k, v in model.state_dict().items()}

    def load_numpy(self, model, arrays):
        model.load_state_dict({k: self.lib.tensor(v, device=self.device) for k, v in arrays.items()})

    def synchronize(self):
        if self.device == "cuda":
            self.lib.cuda.synchronize()


class TorchEngine(Engine):
    name = "torch"

    def __init__(self, device="cpu", threads=None):
        super().__init__(device, threads)
        import torch
        import torch.nn.functional as F
        import torch.optim as optim
        import torch.utils.data as data
        from reference import models
        self.lib, self.F, self.optim, self.data, self.models = torch, F, optim, data, models
        if threads:
            torch.set_num_threads(threads)

    def tensor(self, array):
        return self.lib.from_numpy(np.ascontiguousarray(array)).to(self.device)

    def build_model(self, name, seed):
        """The reference model, starting from the weights tinygrad_mnist draws for ``seed``.

        So one seed means one starting point in both engines, and with :meth:`loader`'s shared
        batch order the two runs differ only by floating-point rounding.
        """
        model = self.models.build_model(name)
        ours = TinygradEngine("cpu")
        self.load_numpy(model, ours.state_dict_numpy(ours.build_model(name, seed)))
        return model.to(self.device)

    def loader(self, x, y, batch_size, shuffle, seed):
        """torch's DataLoader over a TensorDataset, visiting samples in our loader's order for ``seed``."""
        data = self.data.TensorDataset(x, y)
        sampler = _SameOrderAsOurs(len(data), seed) if shuffle else None
        return self.data.DataLoader(data, batch_size=batch_size, sampler=sampler)

    def generator(self, seed):
        return self.lib.Generator().manual_seed(seed)

    def state_dict_numpy(self, model):
        return {k: v.detach().cpu().numpy() for k, v in model.state_dict().items()}

    def load_numpy(self, model, arrays):
        model.load_state_dict({k: self.lib.from_numpy(np.array(v)).to(self.device) for k, v in arrays.items()})

    def synchronize(self):
        if self.device == "cuda":
            self.lib.cuda.synchronize()


class _SameOrderAsOurs:
    """A torch sampler giving the epoch orders that tinygrad_mnist's DataLoader draws for ``seed``.

    Ours draws one permutation per epoch from ``numpy.random.default_rng(seed)`` (a seeded
    ``tg.Generator``); this draws the same ones.
    """

    def __init__(self, n, seed):
        self.n, self.rng = n, np.random.default_rng(seed)

    def __iter__(self):
        return iter(self.rng.permutation(self.n).tolist())

    def __len__(self):
        return self.n


def make_engine(name, device="cpu", threads=None):
    if name == "tinygrad":
        return TinygradEngine(device, threads)
    if name == "torch":
        return TorchEngine(device, threads)
    raise ValueError(f"unknown engine {name!r}: choose one of {', '.join(ENGINES)}")


# ------------------------------------------------------------------------------------------ loop
class NonFiniteLoss(RuntimeError):
    """The training loss stopped being finite; ``step`` is the 1-based batch of the epoch where."""

    def __init__(self, step, value):
        super().__init__(f"the training loss became {value} at batch {step}")
        self.step, self.value = step, value


def train_epoch(engine, model, opt, batches, bar=None, log_every=50, step_losses=None):
    """One pass over ``batches``; returns (mean loss, accuracy) over the samples seen.

    Loss and the count of correct predictions accumulate on the device and are read back only
    every ``log_every`` steps (for the progress bar, and to check that the loss is still finite)
    and at the end: no per-step host sync. A loss that is nan or infinite raises
    :class:`NonFiniteLoss` naming the first batch where it was. ``step_losses``, a list, receives
    each batch's loss (as floats, read back once at the end).
    """
    lib, F = engine.lib, engine.F
    model.train()
    loss_sum = correct = None
    seen = 0
    losses = []
    for step, (xb, yb) in enumerate(batches):
        out = model(xb)
        loss = F.cross_entropy(out, yb)
        opt.zero_grad()
        loss.backward()
        opt.step()
        with lib.no_grad():
            losses.append(loss.detach())
            batch_loss = losses[-1] * len(yb)
            batch_correct = (out.argmax(1) == yb).sum()
            loss_sum = batch_loss if loss_sum is None else loss_sum + batch_loss
            correct = batch_correct if correct is None else correct + batch_correct
        seen += len(yb)
        if bar is not None:
            bar.update(1)
        if step % log_every == 0:
            mean = loss_sum.item() / seen
            _check_finite(mean, losses)
            if bar is not None:
                bar.set_postfix(loss=f"{mean:.4f}")
    if seen == 0:
        return math.nan, math.nan
    mean = loss_sum.item() / seen
    _check_finite(mean, losses)
    if step_losses is not None:
        step_losses.extend(_host_floats(engine, losses))
    return mean, correct.item() / seen


def _check_finite(mean, losses):
    """Raise NonFiniteLoss at the first non-finite batch loss if the running sum is not finite."""
    if math.isfinite(mean):
        return
    values = [float(_to_numpy(t)) for t in losses]  # only on failure: a sync per step is fine here
    first = next((i for i, v in enumerate(values) if not math.isfinite(v)), len(values) - 1)
    raise NonFiniteLoss(first + 1, values[first])


def _host_floats(engine, tensors):
    return [float(v) for v in _to_numpy(engine.lib.stack(tensors))] if tensors else []


def evaluate(engine, model, x, y, batch_size=1000):
    """(mean cross-entropy, accuracy, predictions as a NumPy array) on tensors ``x``, ``y``."""
    lib, F = engine.lib, engine.F
    model.eval()
    loss_sum = 0.0
    preds = []
    with lib.no_grad():
        for i in range(0, len(y), batch_size):
            out = model(x[i:i + batch_size])
            loss_sum += F.cross_entropy(out, y[i:i + batch_size], reduction="sum").item()
            preds.append(out.argmax(1))
    predictions = np.concatenate([_to_numpy(p) for p in preds])
    labels = _to_numpy(y)
    return loss_sum / len(labels), float((predictions == labels).mean()), predictions


def _to_numpy(t):
    if hasattr(t, "detach") and hasattr(t, "cpu") and not hasattr(t, "array"):
        return t.detach().cpu().numpy()  # torch
    from .backend import to_numpy
    return to_numpy(t.array)


def _check_int(flag, value, minimum, maximum=None):
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum or \
            (maximum is not None and value > maximum):
        bound = f"an integer >= {minimum}" + (f" and <= {maximum}" if maximum is not None else "")
        raise ValueError(f"{flag} must be {bound}, got {value!r}")


@dataclass
class TrainConfig:
    model: str
    epochs: int = None
    batch_size: int = None
    lr: float = None
    optimizer: str = None
    seed: int = 0
    device: str = "cpu"
    engine: str = "tinygrad"
    data_dir: str = "data/mnist"
    out: str = None
    limit_train: int = None
    download: bool = False
    threads: int = None
    resolved: dict = field(default_factory=dict)

    def resolve(self):
        """Fill the tutorial's defaults for whatever was not given."""
        if self.model not in MODEL_NAMES:
            raise ValueError(f"unknown model {self.model!r}: choose one of {', '.join(MODEL_NAMES)}")
        spec = get_spec(self.model)
        self.epochs = spec.epochs if self.epochs is None else self.epochs
        self.batch_size = spec.batch_size if self.batch_size is None else self.batch_size
        self.optimizer = self.optimizer or spec.optimizer
        self.lr = spec.lr if self.lr is None else self.lr
        self.out = self.out or os.path.join("runs", f"{self.model}-{self.engine}")
        _check_int("--epochs", self.epochs, 0)
        _check_int("--batch-size", self.batch_size, 1)
        _check_int("--seed", self.seed, 0, 2 ** 64 - 1)
        if self.limit_train is not None:
            _check_int("--limit-train", self.limit_train, 1)
        if self.threads is not None:
            _check_int("--threads", self.threads, 1)
        if isinstance(self.lr, bool) or not isinstance(self.lr, (int, float)) or not math.isfinite(self.lr) \
                or self.lr < 0:
            raise ValueError(f"--lr must be a finite number >= 0, got {self.lr!r}")
        if self.engine not in ENGINES:
            raise ValueError(f"unknown engine {self.engine!r}: choose one of {', '.join(ENGINES)}")
        self.resolved = {"input_kind": spec.input_kind, "scale": spec.scale, "seed_file": spec.seed_file,
                         "optimizer_kwargs": {**dict(spec.optimizer_kwargs), "lr": self.lr}
                         if self.optimizer.lower() == spec.optimizer.lower() else {"lr": self.lr}}
        return self


RUN_FILES = ("config.json", "metrics.jsonl", "model.safetensors", "loss.png", "predictions.png")


class TrainingError(RuntimeError):
    """A run that cannot go on (the loss stopped being finite); nothing of it was written."""


def check_out_folder(out):
    """Refuse an ``--out`` that is a file, or a folder holding anything but an earlier run's files.

    An earlier run's folder may be replaced: :func:`train` does so only once the new run is complete.
    """
    if os.path.lexists(out) and not os.path.isdir(out):
        raise NotADirectoryError(f"--out {out} is a file, not a folder")
    if os.path.isdir(out):
        foreign = sorted(set(os.listdir(out)) - set(RUN_FILES))
        if foreign:
            shown = ", ".join(foreign[:4]) + (", ..." if len(foreign) > 4 else "")
            raise FileExistsError(f"--out {out} holds files that are not a training run's ({shown}); name a new "
                                  f"or empty folder, or the folder of an earlier run (replaced when the new "
                                  f"run completes)")
    return True


def train(config, log=print, progress=True):
    """Train as ``config`` says; write config.json, metrics.jsonl, model.safetensors and plots.

    The run is built in a hidden folder beside ``config.out`` and renamed to it at the end, so
    ``config.out`` holds one complete run: the earlier one (an earlier run's folder is replaced
    only when the new run completes; Ctrl-C, an error or kill -9 leave it as it was) or the new
    one. A loss that stops being finite stops the run with :class:`TrainingError` naming the
    step, and no model is saved. Returns the list of per-epoch metric dicts.
    """
    config.resolve()
    check_out_folder(config.out)
    spec = get_spec(config.model)
    engine = make_engine(config.engine, config.device, config.threads)
    x_train, y_train, x_test, y_test = load_mnist(config.data_dir, config.download, config.limit_train)
    xt, yt = engine.tensor(preprocess(x_train, spec)), engine.tensor(y_train)
    xv, yv = engine.tensor(preprocess(x_test, spec)), engine.tensor(y_test)
    model = engine.build_model(config.model, config.seed)
    opt = engine.optimizer(spec, model.parameters(), config.lr, config.optimizer)
    loader = engine.loader(xt, yt, config.batch_size, shuffle=True, seed=config.seed)

    with atomic_directory(config.out, replace=check_out_folder) as folder:
        _write_json(os.path.join(folder, "config.json"), asdict(config))
        metrics_path = os.path.join(folder, "metrics.jsonl")
        open(metrics_path, "w").close()
        log(f"{config.engine} | {config.model} ({spec.factory}, {spec.seed_file}) on {config.device}: "
            f"{len(y_train)} train / {len(y_test)} test, batch {config.batch_size}, "
            f"{config.optimizer} lr {config.lr}, {config.epochs} epochs")
        history, step_losses = [], []
        for epoch in range(1, config.epochs + 1):
            bar = _progress_bar(len(loader), f"epoch {epoch}/{config.epochs}") if progress else None
            start = time.perf_counter()
            try:
                train_loss, train_acc = train_epoch(engine, model, opt, loader, bar, step_losses=step_losses)
            except NonFiniteLoss as exc:
                raise TrainingError(
                    f"the training loss became {exc.value} at step {len(step_losses) + exc.step} (epoch {epoch}, "
                    f"batch {exc.step} of {len(loader)}) with {config.optimizer} lr {config.lr}; the run "
                    f"stopped and saved nothing ({config.out} is as it was). A smaller --lr usually helps.") from None
            finally:
                if bar is not None:
                    bar.close()
            engine.synchronize()
            seconds = time.perf_counter() - start
            test_loss, test_acc, _ = evaluate(engine, model, xv, yv)
            row = {"epoch": epoch, "train_loss": train_loss, "train_acc": train_acc, "test_loss": test_loss,
                   "test_acc": test_acc, "seconds": seconds}
            history.append(row)
            with open(metrics_path, "a") as f:
                f.write(json.dumps(row) + "\n")
            log(f"epoch {epoch:>3}  train loss {train_loss:.4f}  acc {train_acc:.2%}  |  "
                f"test loss {test_loss:.4f}  acc {test_acc:.2%}  |  {seconds:.1f}s")

        save_checkpoint(engine, model, config, os.path.join(folder, "model.safetensors"))
        _, _, predictions = evaluate(engine, model, xv, yv)
        plot_losses(history, os.path.join(folder, "loss.png"), title=f"{config.model} ({config.engine})",
                    step_losses=step_losses, steps_per_epoch=len(loader))
        plot_predictions(x_test[:9], predictions[:9], y_test[:9], os.path.join(folder, "predictions.png"))
    if history:
        log(f"test accuracy {history[-1]['test_acc']:.2%}")
    log(f"wrote {config.out}/: {' '.join(RUN_FILES)}")
    return history


def _progress_bar(total, desc):
    from tqdm import tqdm
    return tqdm(total=total, desc=desc, leave=False, dynamic_ncols=True, mininterval=0.5)


def _write_json(path, obj):
    with atomic_write(path, "w") as f:
        json.dump(obj, f, indent=2)


# ------------------------------------------------------------------------------------ checkpoints
def save_checkpoint(engine, model, config, path):
    """Save the weights (from either engine) as safetensors, with the model name as metadata."""
    from . import interop
    from .tensor import Tensor
    arrays = engine.state_dict_numpy(model)
    interop.save({k: Tensor(np.ascontiguousarray(v)) for k, v in arrays.items()}, path,
                 metadata={"model": config.model, "engine": config.engine, "format": "tinygrad_mnist"})


def load_checkpoint(path, engine):
    """(model name, model) from a checkpoint written by ``train``."""
    from . import interop
    metadata = interop.load_metadata(path)
    name = metadata.get("model")
    if name not in MODEL_NAMES:
        raise ValueError(f"{path}: no known model name in the checkpoint's metadata (got {name!r}); "
                         f"it was not written by `python -m tinygrad_mnist train`")
    model = engine.build_model(name, seed=0)
    state = interop.load(path)
    engine.load_numpy(model, {k: v.numpy() for k, v in state.items()})
    return name, model


# ---------------------------------------------------------------------------------------- plots
def running_mean(values, window):
    """The mean of each value and the up to ``window - 1`` values before it."""
    values = np.asarray(values, dtype=np.float64)
    if values.size == 0:
        return values
    sums = np.cumsum(np.concatenate([[0.0], values]))
    counts = np.minimum(np.arange(1, values.size + 1), window)
    return (sums[1:] - sums[np.arange(1, values.size + 1) - counts]) / counts


def plot_losses(history, path, title="", step_losses=None, steps_per_epoch=None):
    """Write :func:`loss_figure` to ``path`` (atomically)."""
    import matplotlib.pyplot as plt
    fig = loss_figure(history, title, step_losses, steps_per_epoch)
    _save_figure(fig, path)
    plt.close(fig)


def loss_figure(history, title="", step_losses=None, steps_per_epoch=None):
    """Training loss per step (a running mean over about a twentieth of an epoch, raw steps faint
    behind it) and test loss per epoch, on one axis whose ticks are whole epochs: a curve even for
    a one-epoch run. Without step losses, the per-epoch training loss of ``history``."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator
    fig, ax = plt.subplots(figsize=(6, 4))
    if step_losses and steps_per_epoch:
        x = np.arange(1, len(step_losses) + 1) / steps_per_epoch  # in epochs: step n ends at n / steps
        ax.plot(x, step_losses, color="tab:blue", alpha=0.2, linewidth=0.8)
        window = max(1, steps_per_epoch // 20)
        ax.plot(x, running_mean(step_losses, window), color="tab:blue",
                label=f"train (mean of {window} steps)" if window > 1 else "train")
    elif history:
        ax.plot([r["epoch"] for r in history], [r["train_loss"] for r in history], "o-", label="train")
    if history:
        ax.plot([r["epoch"] for r in history], [r["test_loss"] for r in history], "s-", color="tab:orange",
                label="test (end of epoch)")
    epochs = max([r["epoch"] for r in history] or [1])
    ax.set_xlim(0, epochs)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("epoch")
    ax.set_ylabel("cross-entropy loss")
    ax.set_title(title)
    ax.legend()
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig


def _save_figure(fig, path):
    with atomic_write(path, "wb") as f:
        fig.savefig(f, format=os.path.splitext(path)[1].lstrip(".") or "png", dpi=100)


def plot_predictions(images, predictions, labels, path):
    """A 3x3 grid of digits titled with predicted and true labels (wrong ones in red)."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(3, 3, figsize=(5, 5.4))
    for ax, img, p, t in zip(axes.flat, images, predictions, labels):
        ax.imshow(img, cmap="gray")
        ax.set_title(f"pred {int(p)} / true {int(t)}", color="black" if p == t else "red", fontsize=9)
        ax.axis("off")
    for ax in list(axes.flat)[len(images):]:
        ax.axis("off")
    fig.tight_layout()
    _save_figure(fig, path)
    plt.close(fig)


def confusion_matrix(labels, predictions, num_classes=10):
    m = np.zeros((num_classes, num_classes), dtype=np.int64)
    np.add.at(m, (labels, predictions), 1)  # host-side bookkeeping on NumPy arrays
    return m


def format_confusion(m):
    head = "true\\pred " + " ".join(f"{j:>5}" for j in range(m.shape[1]))
    rows = [head] + [f"{i:>9} " + " ".join(f"{v:>5}" for v in row) for i, row in enumerate(m)]
    return "\n".join(rows)


# -------------------------------------------------------------------------------------- compare
def compare(model_name, data_dir, epochs=None, batch_size=None, lr=None, seed=0, device="cpu",
            limit_train=None, download=False, threads=None, log=print):
    """Train both engines from identical initial weights on identical batches, side by side.

    Returns the per-epoch rows and the largest absolute parameter difference at the end.
    """
    spec = get_spec(model_name)
    epochs = spec.epochs if epochs is None else epochs
    batch_size = spec.batch_size if batch_size is None else batch_size
    ours, ref = make_engine("tinygrad", device, threads), make_engine("torch", device, threads)
    x_train, y_train, x_test, y_test = load_mnist(data_dir, download, limit_train)
    x_np, x_test_np = preprocess(x_train, spec), preprocess(x_test, spec)
    runs = []
    for engine in (ours, ref):
        model = engine.build_model(model_name, seed)  # identical initial weights (see TorchEngine)
        runs.append(dict(engine=engine, model=model, opt=engine.optimizer(spec, model.parameters(), lr),
                         x=engine.tensor(x_np), y=engine.tensor(y_train),
                         xv=engine.tensor(x_test_np), yv=engine.tensor(y_test)))
    rows = []
    rng = np.random.default_rng(seed)
    for epoch in range(1, epochs + 1):
        order = rng.permutation(len(y_train))
        row = {"epoch": epoch}
        for run in runs:
            engine = run["engine"]
            index = [engine.tensor(order[i:i + batch_size]) for i in range(0, len(order), batch_size)]
            batches = ((run["x"][i], run["y"][i]) for i in index)
            start = time.perf_counter()
            loss, acc = train_epoch(engine, run["model"], run["opt"], batches)
            engine.synchronize()
            seconds = time.perf_counter() - start
            test_loss, test_acc, _ = evaluate(engine, run["model"], run["xv"], run["yv"])
            row[engine.name] = {"train_loss": loss, "train_acc": acc, "test_loss": test_loss,
                                "test_acc": test_acc, "seconds": seconds}
        rows.append(row)
    a, b = (r["engine"].state_dict_numpy(r["model"]) for r in runs)
    max_diff = max(float(np.abs(a[k].astype(np.float64) - b[k]).max()) for k in a)
    log(format_compare(model_name, rows, max_diff))
    return rows, max_diff


def format_compare(model_name, rows, max_diff):
    lines = [f"compare {model_name}: tinygrad_mnist vs torch, identical initial weights and batches",
             f"{'epoch':>5} | {'loss ours':>10} {'loss torch':>10} | {'acc ours':>8} {'acc torch':>9} | "
             f"{'test ours':>9} {'test torch':>10} | {'s ours':>7} {'s torch':>7}"]
    for r in rows:
        o, t = r["tinygrad"], r["torch"]
        lines.append(f"{r['epoch']:>5} | {o['train_loss']:>10.5f} {t['train_loss']:>10.5f} | "
                     f"{o['train_acc']:>8.2%} {t['train_acc']:>9.2%} | {o['test_acc']:>9.2%} "
                     f"{t['test_acc']:>10.2%} | {o['seconds']:>7.2f} {t['seconds']:>7.2f}")
    lines.append(f"largest parameter difference after training: {max_diff:.3g}")
    return "\n".join(lines)
