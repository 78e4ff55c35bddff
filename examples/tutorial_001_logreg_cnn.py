"""Seed 001, "PyTorch Basics - MNIST classification": logistic regression and a stride-2 CNN.

Read it beside /work/shared/seeds/001_d7d454803fb252a6.txt: same steps in the same order, same
names, same hyperparameters (Adam 1e-3, batch 64, validation batch 128, 15 epochs, pixels / 256).
The tutorial trains ``FeedForward`` first and then ``CNN``; so does this script (``--model``
picks one). What changed:

* the imports (``torch`` -> ``tinygrad_mnist``);
* ``fetch_openml("mnist_784")`` (scikit-learn, a download) -> our MNIST reader on the local IDX
  files, stacked into the same ``(70000, 784)`` / ``(70000,)`` pair, openml's order (the official
  60k training images first, the 10k test images last). The tutorial's cut at 50000 is kept: 50k
  to train on, 20k to validate on (the last 10k training images and the 10k test images);
* ``plt.show()`` -> ``plt.savefig`` (PNG files in ``--out``), and the predicted digit is written
  above each image of the 3x3 grid (the tutorial prints the 3x3 predictions beside it; so do we);
* the accuracy on the 20k validation images is printed at the end (the tutorial only prints
  validation losses).

``CNN`` is kept as the tutorial wrote it, with a ReLU after conv3 (on the class channels, before
the average pool); ``StridedCNNFixed`` in ``tinygrad_mnist.models`` drops it.

    python examples/tutorial_001_logreg_cnn.py --epochs 3 --model cnn
"""
import argparse
import json
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run from a checkout without installing the package

import numpy as np  # noqa: E402
import matplotlib  # noqa: E402

matplotlib.use("Agg")  # write the figures to files; no display needed
import matplotlib.pyplot as plt  # noqa: E402

import tinygrad_mnist as tg  # noqa: E402   import torch
from tinygrad_mnist.utils.data import TensorDataset  # noqa: E402
from tinygrad_mnist.utils.data import DataLoader  # noqa: E402
from tinygrad_mnist import nn  # noqa: E402
from tinygrad_mnist import optim  # noqa: E402
import tinygrad_mnist.nn.functional as F  # noqa: E402
from tinygrad_mnist.datasets import MNIST  # noqa: E402   from sklearn.datasets import fetch_openml


class FeedForward(nn.Module):
    def __init__(self):
        super().__init__()
        self.lin = nn.Linear(784, 10)

    def forward(self, xb):
        return self.lin(xb)


class CNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 16, kernel_size=3, stride=2, padding=1)
        self.conv2 = nn.Conv2d(16, 16, kernel_size=3, stride=2, padding=1)
        self.conv3 = nn.Conv2d(16, 10, kernel_size=3, stride=2, padding=1)

    def forward(self, xb):
        xb = xb.view(-1, 1, 28, 28)
        xb = F.relu(self.conv1(xb))
        xb = F.relu(self.conv2(xb))
        xb = F.relu(self.conv3(xb))
        xb = F.avg_pool2d(xb, 4)
        return xb.view(-1, xb.size(1))


MODELS = {"logreg": FeedForward, "cnn": CNN}


def fetch_mnist(data_dir):
    """Stands in for ``fetch_openml("mnist_784", return_X_y=True)``: (X, y), 70000 rows, train
    images first. openml returns float pixels and string labels; the tutorial converts both
    right away, so the uint8 pixels and int labels here give the same X and Y below."""
    train, test = MNIST(data_dir, train=True), MNIST(data_dir, train=False)
    X = np.concatenate([train.data.numpy(), test.data.numpy()]).reshape(-1, 784)
    y = np.concatenate([train.targets.numpy(), test.targets.numpy()])
    return X, y


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", choices=["logreg", "cnn", "both"], default="both",
                   help="the tutorial trains both, logreg first")
    p.add_argument("--epochs", type=int, default=15, help="the tutorial's 15")
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--lr", type=float, default=0.001)
    p.add_argument("--data-dir", default=str(ROOT / "data" / "mnist"))
    p.add_argument("--limit-train", type=int, default=None, help="train on the first N images only")
    p.add_argument("--limit-test", type=int, default=None, help="validate on the first N of the 20k held-out images only")
    p.add_argument("--out", default=str(ROOT / "runs" / "examples"), help="where the PNGs go")
    p.add_argument("--json", default=None, help="also write the metrics to this JSON file")
    return p.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    tg.manual_seed(0)
    os.makedirs(args.out, exist_ok=True)

    # ---- Import MNIST
    mnist = fetch_mnist(args.data_dir)  # fetch_openml("mnist_784", return_X_y=True)
    X = np.float32(mnist[0] / 256)  # (70000, 784)
    Y = np.int64(mnist[1])  # (70000,)
    x_train, y_train, x_valid, y_valid = X[:50000, :], Y[:50000], X[50000:, :], Y[50000:]
    if args.limit_train:  # (ours) quick runs
        x_train, y_train = x_train[:args.limit_train], y_train[:args.limit_train]
    if args.limit_test:
        x_valid, y_valid = x_valid[:args.limit_test], y_valid[:args.limit_test]

    # Take a look at the first training example!
    plt.imshow(x_train[0].reshape((28, 28)), cmap="gray")
    plt.savefig(os.path.join(args.out, "tutorial_001_first_example.png"))
    plt.close()

    # ---- DataLoader
    x_train, y_train, x_valid, y_valid = map(
        tg.tensor, (x_train, y_train, x_valid, y_valid)
    )
    train_ds = TensorDataset(x_train, y_train)
    valid_ds = TensorDataset(x_valid, y_valid)
    train_dl = DataLoader(train_ds, batch_size=args.batch_size, shuffle=True)
    valid_dl = DataLoader(valid_ds, batch_size=128)

    results = {}
    names = ["logreg", "cnn"] if args.model == "both" else [args.model]
    for name in names:
        print(f"---- {MODELS[name].__name__} ({name})")
        # ---- Model, Optimizer & Loss
        model = MODELS[name]()
        opt = optim.Adam(model.parameters(), lr=args.lr)
        loss_func = F.cross_entropy

        # ---- Training, with the validation loss after each epoch
        valid_losses = []
        for epoch in range(args.epochs):
            model.train()
            for xb, yb in train_dl:
                pred = model(xb)
                loss = loss_func(pred, yb)

                loss.backward()
                opt.step()
                opt.zero_grad()

            # Validation
            model.eval()
            with tg.no_grad():
                valid_loss = sum(
                    loss_func(model(xb), yb).tolist() for xb, yb in valid_dl
                ) / len(valid_dl)
            print(epoch, valid_loss)
            valid_losses.append(valid_loss)

        # ---- Make a prediction: True vs Pred
        with tg.no_grad():
            predicted = tg.argmax(model(x_valid[0:9]), axis=1)
        fig = plt.figure(figsize=(3, 3))
        rows, cols = 3, 3
        for i in range(0, cols * rows):
            fig.add_subplot(rows, cols, i + 1)
            plt.imshow(x_valid[i].numpy().reshape((28, 28)), cmap="gray")  # True
            plt.title(str(predicted[i].item()), fontsize=8)  # (ours) Pred above each image
            plt.axis("off")
        grid_path = os.path.join(args.out, f"tutorial_001_{name}_predictions.png")
        fig.tight_layout()
        fig.savefig(grid_path)  # plt.show() in the tutorial
        plt.close(fig)
        print(predicted.reshape(3, 3))  # Pred
        print(f"prediction grid: {grid_path}")

        # ---- (ours) the accuracy on the validation images
        model.eval()
        with tg.no_grad():
            correct = sum((model(xb).argmax(dim=1) == yb).sum().item() for xb, yb in valid_dl)
        test_accuracy = 100 * correct / len(valid_ds)
        print(f"{MODELS[name].__name__}: validation accuracy {test_accuracy:.2f} % "
              f"({len(valid_ds)} held-out images)")
        results[name] = {"valid_losses": valid_losses, "test_accuracy": test_accuracy,
                         "grid": grid_path}

    if args.json:
        with open(args.json, "w") as f:
            json.dump({"tutorial": "001", "models": results}, f)
    return results


if __name__ == "__main__":
    main()
