"""Seed 004, "Getting Started with PyTorch": a CNN with 32-filter 3x3 convs on MNIST.

Read it beside the "Full Code" of /work/shared/seeds/004_81ade7cf8f967ba4.txt: same steps in
the same order, same names, same hyperparameters (Normalize(0.5, 0.5), batch 64, nf 32, Adam
lr 0.0001 betas (0.5, 0.999), 10 epochs; about 98 % test accuracy expected). What changed:

* the imports (``torch`` -> ``tinygrad_mnist``; ``torchvision.datasets`` / ``transforms`` -> ours);
* the data folder is ``--data-dir`` instead of ``'dataset/'`` (``download=True`` as in the tutorial);
* ``torch.save(model.state_dict(), "model.pt")`` (a pickle) -> ``tg.save(model.state_dict(),
  ".../model.safetensors")``: a safetensors file, which cannot run code when it is loaded. The
  script then loads it back into a fresh ``Net`` with ``tg.load`` + ``load_state_dict`` and tests
  that one (the tutorial tests the model still in memory: the same weights);
* the epoch's mean loss is printed beside the tutorial's last-batch ``Loss`` (and kept for
  ``--json``).

On two CPU cores an epoch over the 60k images takes about a minute and a half (the tutorial
says "at most 30 minutes without GPU" for its 10 epochs; about the same here).

    python examples/tutorial_004_cnn.py --epochs 1
"""
import argparse
import json
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run from a checkout without installing the package

import tinygrad_mnist as tg  # noqa: E402   import torch
import tinygrad_mnist.nn as nn  # noqa: E402
import tinygrad_mnist.optim as optim  # noqa: E402
import tinygrad_mnist.datasets as datasets  # noqa: E402   import torchvision.datasets as datasets
import tinygrad_mnist.transforms as transforms  # noqa: E402   import torchvision.transforms as ...
import tinygrad_mnist.utils.data  # noqa: E402,F401   for tg.utils.data.DataLoader

nf = 32  # conv layer sizes or number of filters/kernels
lr = 0.0001
beta1 = 0.5
beta2 = 0.999


class Net(nn.Module):
    def __init__(self):
        super(Net, self).__init__()

        self.convs = nn.Sequential(
            nn.Conv2d(1, nf, kernel_size=3, stride=1, padding=1),
            nn.ReLU(),

            nn.Conv2d(nf, nf, kernel_size=3, stride=1, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(kernel_size=2, stride=2),  # result will be 14x14

            nn.Conv2d(nf, nf, kernel_size=3, stride=1, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(kernel_size=2, stride=2),  # result will be 7x7
        )

        self.linears = nn.Sequential(
            nn.Linear(1568, 100),  # width=7, height=7, depth/filters/kernels=32 ; linear_input=7*7*32=1568
            nn.ReLU(),

            nn.Linear(100, 50),
            nn.ReLU(),

            nn.Linear(50, 10),
        )

    def forward(self, x):
        x = self.convs(x)
        x = x.view(x.size(0), -1)  # flattening, result will be (64, 1568)
        x = self.linears(x)
        return x


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--epochs", type=int, default=10, help="the tutorial's 10")
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--lr", type=float, default=lr)
    p.add_argument("--data-dir", default=str(ROOT / "data" / "mnist"))
    p.add_argument("--limit-train", type=int, default=None, help="train on the first N images only")
    p.add_argument("--limit-test", type=int, default=None, help="test on the first N images only")
    p.add_argument("--out", default=str(ROOT / "runs" / "examples"), help="where the checkpoint goes")
    p.add_argument("--json", default=None, help="also write the metrics to this JSON file")
    return p.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    tg.manual_seed(0)

    preprocess = transforms.Compose([
        transforms.ToTensor(),
        transforms.Normalize((0.5, ), (0.5, ))
    ])

    trainset = datasets.MNIST(args.data_dir, train=True, download=True, transform=preprocess)
    testset = datasets.MNIST(args.data_dir, train=False, download=True, transform=preprocess)
    if args.limit_train:  # (ours) a quick run on the first N images
        trainset.data, trainset.targets = trainset.data[:args.limit_train], trainset.targets[:args.limit_train]
    if args.limit_test:
        testset.data, testset.targets = testset.data[:args.limit_test], testset.targets[:args.limit_test]

    trainloader = tg.utils.data.DataLoader(trainset, batch_size=args.batch_size, shuffle=True)
    testloader = tg.utils.data.DataLoader(testset, batch_size=64, shuffle=True)

    device = "cuda" if tg.cuda.is_available() else "cpu"

    model = Net().to(device)
    optimizer = optim.Adam(model.parameters(), lr=args.lr, betas=(beta1, beta2))
    criterion_CE = nn.CrossEntropyLoss().to(device)

    model.train()
    epoch = args.epochs
    history = []  # (ours) for --json
    for e in range(epoch):
        print(f'Starting epoch {e} of {epoch}')
        loss_sum, batches = 0.0, 0  # (ours) the epoch's mean loss
        for X, y in trainloader:
            X = X.to(device)
            y = y.to(device)  # the tutorial leaves y on the CPU (it only ever ran there)
            predictions = model(X)
            optimizer.zero_grad()
            loss = criterion_CE(predictions, y)
            loss.backward()
            optimizer.step()
            loss_sum, batches = loss_sum + loss.item(), batches + 1
        print(f'Loss: {loss.item()}  (mean over the epoch: {loss_sum / batches:.4f})')
        history.append({"epoch": e, "last_batch_loss": loss.item(), "loss": loss_sum / batches})

    os.makedirs(args.out, exist_ok=True)
    path = os.path.join(args.out, "tutorial_004_model.safetensors")
    tg.save(model.state_dict(), path)  # torch.save(model.state_dict(), "model.pt")
    print(f"saved the state_dict to {path}")

    # (ours) load it back into a fresh Net, and test that one
    model = Net().to(device)
    model.load_state_dict(tg.load(path, device=device))

    model.eval()
    correct = 0
    for X, y in testloader:
        with tg.no_grad():
            X = X.to(device)
            y = y.to(device)
            output = model(X)
            predictions = output.max(1)[1]
            correct += tg.eq(predictions, y).sum()

    print(f'accuracy: {int(correct)}/{len(testloader.dataset)} ({int(correct)/len(testloader.dataset)} or {int(correct)/len(testloader.dataset) * 100}%)')
    test_accuracy = int(correct) / len(testloader.dataset) * 100
    print(f"Test accuracy: {test_accuracy:.2f} %")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"tutorial": "004", "epochs": history, "test_accuracy": test_accuracy,
                       "checkpoint": path}, f)
    return history


if __name__ == "__main__":
    main()
