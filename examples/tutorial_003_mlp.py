"""Seed 003, "PyTorch Neural Network Tutorial": a fully connected net 784-50-10 on MNIST.

Read it beside /work/shared/seeds/003_42b2dfb261a1512b.txt: same steps in the same order, same
names, same hyperparameters (Adam 0.001, batch 64, 1 epoch; over 90 % test accuracy expected).
What changed:

* the imports (``torch`` -> ``tinygrad_mnist``; ``torchvision.datasets`` / ``transforms`` -> ours);
* the data folder is ``--data-dir`` (``download=True`` as in the tutorial: files already there
  are checked against the published checksums and used, missing ones are downloaded);
* the tutorial prints nothing while it trains; this script prints the mean loss of each epoch
  (and keeps it for ``--json``), then the tutorial's ``check_accuracy`` on train and test.

    python examples/tutorial_003_mlp.py
"""
import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run from a checkout without installing the package

import tinygrad_mnist as tg  # noqa: E402   import torch  # just torch
import tinygrad_mnist.nn as nn  # noqa: E402   all neural networks modules
import tinygrad_mnist.optim as optim  # noqa: E402   all optimizers
import tinygrad_mnist.nn.functional as F  # noqa: E402   functions without parameters
from tinygrad_mnist.utils.data import DataLoader  # noqa: E402   data management
import tinygrad_mnist.datasets as datasets  # noqa: E402   standard datasets
import tinygrad_mnist.transforms as transforms  # noqa: E402   data processing


class NN(nn.Module):
    def __init__(self, input_size, num_classes):
        super(NN, self).__init__()
        self.fc1 = nn.Linear(input_size, 50)
        self.fc2 = nn.Linear(50, num_classes)

    def forward(self, x):
        x = F.relu(self.fc1(x))
        x = self.fc2(x)
        return x


def check_accuracy(loader, model, device):
    if loader.dataset.train:
        print("Checking accuracy on training data")
    else:
        print("Checking accuracy on test data")

    num_correct = 0
    num_samples = 0
    model.eval()

    with tg.no_grad():
        for x, y in loader:
            x = x.to(device=device)
            y = y.to(device=device)
            x = x.reshape(x.shape[0], -1)

            scores = model(x)
            _, predictions = scores.max(1)
            num_correct += (predictions == y).sum()
            num_samples += predictions.size(0)

        print(
            f"Got {num_correct} / {num_samples} with accuracy"
            f" {float(num_correct) / float(num_samples) * 100:.2f}"
        )

    model.train()
    return float(num_correct) / float(num_samples) * 100  # (ours) for --json


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--epochs", type=int, default=1, help="num_epochs: the tutorial's 1")
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--lr", type=float, default=0.001)
    p.add_argument("--data-dir", default=str(ROOT / "data" / "mnist"))
    p.add_argument("--limit-train", type=int, default=None, help="train on the first N images only")
    p.add_argument("--limit-test", type=int, default=None, help="test on the first N images only")
    p.add_argument("--json", default=None, help="also write the metrics to this JSON file")
    return p.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    tg.manual_seed(0)

    # ---- Loading the data
    batch_size = args.batch_size
    train_dataset = datasets.MNIST(
        root=args.data_dir,
        train=True,
        transform=transforms.ToTensor(),
        download=True,
    )
    if args.limit_train:  # (ours) a quick run on the first N images
        train_dataset.data = train_dataset.data[:args.limit_train]
        train_dataset.targets = train_dataset.targets[:args.limit_train]
    train_loader = DataLoader(
        dataset=train_dataset, batch_size=batch_size, shuffle=True
    )
    test_dataset = datasets.MNIST(
        root=args.data_dir,
        train=False,
        transform=transforms.ToTensor(),
        download=True,
    )
    if args.limit_test:
        test_dataset.data = test_dataset.data[:args.limit_test]
        test_dataset.targets = test_dataset.targets[:args.limit_test]
    test_loader = DataLoader(
        dataset=test_dataset, batch_size=batch_size, shuffle=True
    )

    # ---- Setting up the training loop
    device = tg.device("cuda" if tg.cuda.is_available() else "cpu")
    input_size = 784  # 28x28 is the size of MNIST images
    num_classes = 10
    learning_rate = args.lr
    num_epochs = args.epochs

    model = NN(input_size=input_size, num_classes=num_classes).to(device)
    criterion = nn.CrossEntropyLoss()
    optimizer = optim.Adam(model.parameters(), lr=learning_rate)

    history = []  # (ours) the mean loss of each epoch
    for epoch in range(num_epochs):
        epoch_losses = []  # (ours)
        for batch_idx, (data, targets) in enumerate(train_loader):
            # Get data to cuda if possible
            data = data.to(device=device)
            targets = targets.to(device=device)

            # Get to correct shape, 28x28->784
            data = data.reshape(data.shape[0], -1)

            # forward propagation
            scores = model(data)
            loss = criterion(scores, targets)
            epoch_losses.append(loss.item())  # (ours)

            # zero previous gradients
            optimizer.zero_grad()
            # back-propagation
            loss.backward()

            # gradient descent or adam step
            optimizer.step()
        mean_loss = sum(epoch_losses) / len(epoch_losses)
        print(f"Epoch {epoch}: mean training loss {mean_loss:.4f}")  # (ours)
        history.append({"epoch": epoch, "loss": mean_loss, "first_batch_loss": epoch_losses[0],
                        "last_batch_loss": epoch_losses[-1]})

    train_accuracy = check_accuracy(train_loader, model, device)
    test_accuracy = check_accuracy(test_loader, model, device)
    print(f"Test accuracy: {test_accuracy:.2f} %")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"tutorial": "003", "epochs": history, "train_accuracy": train_accuracy,
                       "test_accuracy": test_accuracy}, f)
    return history


if __name__ == "__main__":
    main()
