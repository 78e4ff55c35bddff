"""Seed 000, "Network in Pytorch": a 4-layer MLP (784-784-500-50-10) on MNIST, on tinygrad_mnist.

Read it beside /work/shared/seeds/000_728fc0fa20d97598.txt: same steps in the same order, same
names, same hyperparameters (Adam 1e-3, batch 8192, test batch 1024, 50 epochs). What changed:

* the imports (``torch`` -> ``tinygrad_mnist``; torchvision's MNIST and transforms -> ours);
* ``Variable(data).cuda()`` is ``Variable(data).to(device)`` (and ``MNISTnn().cuda()`` is
  ``.to(device)``), so that the script also runs without a GPU;
* ``loss.data[0]`` (2017 PyTorch; today's PyTorch refuses to index a 0-d tensor) is
  ``loss.item()``, and the accuracies are read with ``.item()`` before formatting;
* the test loop runs under ``no_grad()`` (the tutorial builds a graph there that nothing uses);
* ``plt.show()`` is ``plt.savefig`` (no display needed), and a few flags for quick runs.

``CrossEntropyLoss(size_average=True)`` is kept as the tutorial writes it: the engine accepts the
old argument with PyTorch's deprecation warning (it means ``reduction='mean'``).

The model is kept as the tutorial wrote it, with a ReLU on the logits too (``MNISTnn`` in
``tinygrad_mnist.models``; ``MNISTnnFixed`` there drops it). A ReLU there clips every negative
logit to 0, so the loss can only push wrong classes down to "neutral".

    python examples/tutorial_000_mlp4.py --epochs 5
"""
import argparse
import json
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run from a checkout without installing the package

import matplotlib  # noqa: E402

matplotlib.use("Agg")  # write the plot to a file; no display needed
import matplotlib.pyplot as plt  # noqa: E402

import tinygrad_mnist as tg  # noqa: E402   import torch
from tinygrad_mnist.utils.data import DataLoader  # noqa: E402   from torch.utils.data import ...
from tinygrad_mnist.datasets import MNIST  # noqa: E402   from torchvision.datasets import MNIST
from tinygrad_mnist import transforms  # noqa: E402   from torchvision import transforms
from tinygrad_mnist.autograd import Variable  # noqa: E402   from torch.autograd import Variable


class MNISTnn(tg.nn.Module):
    def __init__(self):
        super(MNISTnn, self).__init__()
        self.li_1 = tg.nn.Linear(784, 784)
        self.li_2 = tg.nn.Linear(784, 500)
        self.li_3 = tg.nn.Linear(500, 50)
        self.li_4 = tg.nn.Linear(50, 10)
        self.relu = tg.nn.ReLU()

    def forward(self, x):
        x = x.view(-1, 784)
        l_1 = self.relu(self.li_1(x))
        l_2 = self.relu(self.li_2(l_1))
        l_3 = self.relu(self.li_3(l_2))
        return self.relu(self.li_4(l_3))


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--epochs", type=int, default=50, help="the tutorial's 50")
    p.add_argument("--batch-size", type=int, default=8192, help="the tutorial's 8192")
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--data-dir", default=str(ROOT / "data" / "mnist"))
    p.add_argument("--limit-train", type=int, default=None, help="train on the first N images only")
    p.add_argument("--limit-test", type=int, default=None, help="test on the first N images only")
    p.add_argument("--out", default=str(ROOT / "runs" / "examples"), help="where the cost plot goes")
    p.add_argument("--json", default=None, help="also write the metrics to this JSON file")
    return p.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    tg.manual_seed(0)
    device = "cuda" if tg.cuda.is_available() else "cpu"

    # ---- Getting the dataset
    ds = MNIST(root=args.data_dir, download=False, transform=transforms.ToTensor(), train=True)
    if args.limit_train:  # (ours) a quick run on the first N images
        ds.data, ds.targets = ds.data[:args.limit_train], ds.targets[:args.limit_train]
    loader = DataLoader(dataset=ds, batch_size=args.batch_size, shuffle=True)

    test_ds = MNIST(root=args.data_dir, download=False, transform=transforms.ToTensor(), train=False)
    if args.limit_test:
        test_ds.data, test_ds.targets = test_ds.data[:args.limit_test], test_ds.targets[:args.limit_test]
    test_loader = DataLoader(dataset=test_ds, batch_size=1024, shuffle=True)

    # ---- Loss, optimizer and training
    model = MNISTnn().to(device)  # .cuda() in the tutorial
    criterion = tg.nn.CrossEntropyLoss(size_average=True)
    optimizer = tg.optim.Adam(model.parameters(), lr=args.lr)

    sub_loss = []
    cost = []
    history = []  # (ours) for --json
    for t in range(args.epochs):
        correct = 0
        test_correct = 0
        model.train()
        for idx, (data, target) in enumerate(loader):
            data, target = Variable(data).to(device), Variable(target).to(device)  # .cuda()

            ## forward pass
            y_pred = model(data)
            loss = criterion(y_pred, target)
            sub_loss.append(loss.item())  # loss.data[0] in the tutorial's PyTorch 0.3

            ## calculate accuracy over a batch
            pred = tg.max(y_pred.data, 1)[1]
            correct += pred.eq(target.data.view_as(pred)).sum()

            ## Gradient descent
            optimizer.zero_grad()
            loss.backward()

            ## Update parameters
            optimizer.step()

        model.eval()
        with tg.no_grad():  # (ours) the tutorial builds a graph here too; nothing needs it
            for idx, (data, target) in enumerate(test_loader):
                data, target = Variable(data).to(device), Variable(target).to(device)  # .cuda()

                ## forward pass
                y_pred = model(data)
                loss = criterion(y_pred, target)

                ## calculate accuracy over a batch
                pred = tg.max(y_pred.data, 1)[1]
                test_correct += pred.eq(target.data.view_as(pred)).sum()

        cost.append(sum(sub_loss) / len(sub_loss))
        train_acc = 100 * (correct / len(loader.dataset)).item()
        test_acc = 100 * (test_correct / len(test_loader.dataset)).item()
        print("Epoch {}, Loss {:.3f}, Train Accuracy {:.2f} %, Test Accuracy {:.2f} %".format(
            t, cost[t], train_acc, test_acc
        ))
        history.append({"epoch": t, "loss": cost[t], "train_acc": train_acc, "test_acc": test_acc,
                        "batch_losses": sub_loss})
        sub_loss = []

    plt.xlabel("epoch -- >")
    plt.ylabel("cost")
    plt.plot(cost, marker="o")  # (ours) the marker shows a 1-epoch run too
    os.makedirs(args.out, exist_ok=True)
    plot_path = os.path.join(args.out, "tutorial_000_cost.png")
    plt.savefig(plot_path)  # plt.show() in the tutorial
    plt.close()
    print(f"cost curve: {plot_path}")

    test_accuracy = history[-1]["test_acc"] if history else float("nan")
    print(f"Test accuracy: {test_accuracy:.2f} %")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"tutorial": "000", "epochs": history, "test_accuracy": test_accuracy,
                       "plot": plot_path}, f)
    return history


if __name__ == "__main__":
    main()
