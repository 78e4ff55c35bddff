"""Seed 002, "PyTorch - Neural networks with nn modules": LeNet, autograd, optimizers, Sequential.

Read it beside /work/shared/seeds/002_86f17419b2a70d18.txt, section by section, in its order:

1. Neural Networks     the LeNet-style ``Net``, ``print(net)``, its parameters, a forward pass
                       on one random 1x1x32x32 input
2. functional          ``F.relu``, ``F.softmax``
3. Backward pass       ``net.zero_grad()`` and ``out.backward(...)``
4. Loss function       ``nn.MSELoss`` against a random target, ``conv1.bias.grad`` before and after
                       ``backward``, and the graph behind the loss through ``loss.grad_fn`` and
                       ``.next_functions``
5. Optimizer           first the update by hand (``f.data.sub_(f.grad.data * learning_rate)``, as
                       in PyTorch's own tutorial this seed follows), then ``optim.SGD`` for 500
                       steps, and the Adam constructor
6. Putting it together the seed trains the same net on CIFAR-10; here on MNIST padded to 32x32
                       (1 channel instead of 3), cross-entropy + SGD as ``specs.get_spec('lenet')``
                       says, with the transfer-learning section's ``lr_scheduler.StepLR`` attached
7. nn.Sequential       a 2-layer MLP on random data, MSE with ``reduction='sum'``, the parameters
                       updated by hand (``param.data -= learning_rate * param.grad.data``)
8. DynamicNet          0 to 3 repeats of one shared middle Linear per forward pass (weight
                       sharing, a new graph each step), MSE sum, SGD momentum 0.9, random data

Left out, on purpose: the CUDA / ``nn.DataParallel`` section (it needs several GPUs; the engine
runs one device) and the transfer-learning section (it fine-tunes an ImageNet-pretrained
ResNet-18 on a folder of ant and bee photos: neither the pretrained weights nor ResNet's layers
are part of this project). Its ``StepLR`` schedule is shown in section 6.

What changed besides the imports (``torch`` -> ``tinygrad_mnist``):

* ``Variable(...)`` is gone (a no-op since PyTorch 0.4), ``loss.data[0]`` is ``loss.item()``;
* ``out.backward()`` on the (1, 10) output -> ``out.backward(tg.randn(1, 10))``: a non-scalar
  output needs the gradient to start from (PyTorch raises without it too);
* the seed's target ``torch.arange(1, 11)`` -> ``tg.randn(10).view(1, -1)``: a float target of the
  output's shape (``arange(1, 11)`` is an int64 (10,) tensor in today's PyTorch, which MSELoss
  refuses, and the shape mismatch would broadcast);
* ``MSELoss(size_average=False)`` -> ``MSELoss(reduction='sum')`` (the same thing; the engine
  still accepts the old spelling, with PyTorch's deprecation warning);
* the grad_fn names are the engine's: its Linear is one node, ``LinearBackward``, whose inputs
  are (activation, weight, bias), so ``.next_functions[0][0]`` twice leads to the ReLU before
  fc3. PyTorch's node is ``AddmmBackward0`` with inputs (bias, activation, transposed weight):
  there the third line is the bias's node (``ExpandBackward`` in the seed's 2018 PyTorch,
  ``AccumulateGrad`` today);
* long loops print every 100 steps (``--log-every``), not every step.

    python examples/tutorial_002_lenet.py --epochs 1
"""
import argparse
import json
import random
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run from a checkout without installing the package

import numpy as np  # noqa: E402

import tinygrad_mnist as tg  # noqa: E402   import torch
import tinygrad_mnist.nn as nn  # noqa: E402   import torch.nn as nn
import tinygrad_mnist.nn.functional as F  # noqa: E402   import torch.nn.functional as F
import tinygrad_mnist.optim as optim  # noqa: E402   import torch.optim as optim
from tinygrad_mnist.optim import lr_scheduler  # noqa: E402   from torch.optim import lr_scheduler
from tinygrad_mnist.utils.data import DataLoader  # noqa: E402
from tinygrad_mnist import datasets, transforms  # noqa: E402   from torchvision import ...
from tinygrad_mnist.specs import get_spec  # noqa: E402


# ------------------------------------------------------------------ 1. Neural Networks
class Net(nn.Module):

    def __init__(self):
        super(Net, self).__init__()
        # 1 input image channel, 6 output channels, 5x5 square convolution kernel
        self.conv1 = nn.Conv2d(1, 6, 5)
        self.conv2 = nn.Conv2d(6, 16, 5)

        # an affine operation: y = Wx + b
        self.fc1 = nn.Linear(16 * 5 * 5, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, 10)

    def forward(self, x):
        # Max pooling over a (2, 2) window
        x = F.max_pool2d(F.relu(self.conv1(x)), (2, 2))

        # 2 is same as (2, 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)

        x = x.view(-1, self.num_flat_features(x))
        x = F.relu(self.fc1(x))
        x = F.relu(self.fc2(x))
        x = self.fc3(x)

        return x

    def num_flat_features(self, x):
        size = x.size()[1:]  # all dimensions except the batch dimension
        num_features = 1
        for s in size:       # Get the products
            num_features *= s
        return num_features


# ------------------------------------------------------------------ 6. Putting it together
class CifarNet(nn.Module):
    """The seed's second ``Net`` (section "Model & Training"), written for CIFAR-10: here with
    ``in_channels=1`` for MNIST, and renamed so that both classes live in one file. Same layers
    and parameter names as ``Net``; the pooling is a module here, a function there."""

    def __init__(self):
        super(CifarNet, self).__init__()
        self.conv1 = nn.Conv2d(1, 6, 5)  # nn.Conv2d(3, 6, 5) for CIFAR-10's RGB images
        self.pool = nn.MaxPool2d(2, 2)
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.fc1 = nn.Linear(16 * 5 * 5, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, 10)

    def forward(self, x):
        x = self.pool(F.relu(self.conv1(x)))
        x = self.pool(F.relu(self.conv2(x)))
        x = x.view(-1, 16 * 5 * 5)
        x = F.relu(self.fc1(x))
        x = F.relu(self.fc2(x))
        x = self.fc3(x)
        return x


# ------------------------------------------------------------------ 8. DynamicNet
class DynamicNet(nn.Module):
    def __init__(self, D_in, H, D_out):
        super(DynamicNet, self).__init__()
        self.input_linear = nn.Linear(D_in, H)
        self.middle_linear = nn.Linear(H, H)
        self.output_linear = nn.Linear(H, D_out)

    def forward(self, x):
        h_relu = self.input_linear(x).clamp(min=0)
        for _ in range(random.randint(0, 3)):
            h_relu = self.middle_linear(h_relu).clamp(min=0)
        y_pred = self.output_linear(h_relu)
        return y_pred


def pad2(img):
    """``transforms.Pad(2)`` for a (28, 28) uint8 image: 2 zero pixels on every side -> 32x32.

    The engine's transforms have no ``Pad``; ``transforms.Lambda`` runs this in its place."""
    return np.pad(img, 2)


def parse_args(argv=None):
    spec = get_spec("lenet")
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--epochs", type=int, default=spec.epochs, help="MNIST epochs (the seed's 2)")
    p.add_argument("--batch-size", type=int, default=spec.batch_size,
                   help="specs: 64 (the seed's CIFAR-10 loader uses 4)")
    p.add_argument("--lr", type=float, default=spec.lr,
                   help="specs: 0.01 with momentum 0.9 (the seed's CIFAR-10 recipe: 0.001)")
    p.add_argument("--steps", type=int, default=500, help="steps of the random-data loops (seed: 500)")
    p.add_argument("--log-every", type=int, default=100, help="print every N steps of the long loops")
    p.add_argument("--data-dir", default=str(ROOT / "data" / "mnist"))
    p.add_argument("--limit-train", type=int, default=None, help="train on the first N images only")
    p.add_argument("--limit-test", type=int, default=None, help="test on the first N images only")
    p.add_argument("--json", default=None, help="also write the metrics to this JSON file")
    return p.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    tg.manual_seed(0)
    random.seed(0)  # DynamicNet draws its depth with Python's random, as the seed does
    metrics = {"tutorial": "002"}
    every = max(1, args.log_every)

    # ============================================================ 1. Neural Networks
    net = Net()
    print(net)

    params = list(net.parameters())
    print(len(params))       # 10: 10 sets of trainable parameters
    print(params[0].size())  # tinygrad_mnist.Size([6, 1, 5, 5]): conv1's weight
    for name, p in net.named_parameters():  # (ours) every parameter's size
        print(f"  {name:<12} {tuple(p.size())}")

    input = tg.randn(1, 1, 32, 32)
    out = net(input)   # out's size: 1x10.
    print(out)

    # ============================================================ 2. Common functionals
    data = tg.randn(2, 2)
    print(F.relu(data))

    data = tg.randn(5)
    print(F.softmax(data, dim=0))

    # ============================================================ 3. Backward pass
    net.zero_grad()
    out.backward(tg.randn(1, 10))  # out.backward() in the seed: out is not a scalar

    # ============================================================ 4. Loss function
    output = net(input)
    target = tg.randn(10)     # a dummy target, size 10 (tg.arange(1, 11) in the seed)
    target = target.view(1, -1)  # the same shape as the output
    criterion = nn.MSELoss()

    # Compute the loss by MSE of the output and the true label
    loss = criterion(output, target)         # Size 1
    print(loss)

    net.zero_grad()      # zeroes the gradient buffers of all parameters
    print("conv1.bias.grad before backward")
    print(net.conv1.bias.grad)  # None: zero_grad() sets the grads to None (set_to_none=True)

    loss.backward()

    # Print the gradient for the bias parameters of the first convolution layer
    print("conv1.bias.grad after backward")
    print(net.conv1.bias.grad)

    # Follow the loss backward through grad_fn:
    #   input -> conv2d -> relu -> maxpool2d -> conv2d -> relu -> maxpool2d
    #         -> view -> linear -> relu -> linear -> relu -> linear -> MSELoss -> loss
    print(loss.grad_fn)                      # <MSELossBackward object at ...>
    print(loss.grad_fn.next_functions[0][0])  # <LinearBackward object at ...>: fc3
    print(loss.grad_fn.next_functions[0][0].next_functions[0][0])  # <ReLUBackward ...>: fc2's relu

    # (ours) the whole chain, following the first input of each node to the network's input; the
    # other inputs of a layer are its parameters (AccumulateGrad: where their .grad is summed)
    fn, chain = loss.grad_fn, []
    while fn is not None:
        leaves = sum(type(f).__name__ == "AccumulateGrad" for f, _ in fn.next_functions)
        chain.append(fn.name() + (f" (+{leaves} parameters)" if leaves else ""))
        fn = fn.next_functions[0][0]
    print("graph, from the loss back to the input:\n  " + "\n  <- ".join(chain))

    # ============================================================ 5. Optimizer
    # First by hand, the simplest update rule (SGD): weight = weight - learning_rate * gradient
    learning_rate = 0.01
    for f in net.parameters():
        f.data.sub_(f.grad.data * learning_rate)
    print("loss after one SGD step by hand:", criterion(net(input), target).item())

    # Create a SGD optimizer for gradient descent
    optimizer = optim.SGD(net.parameters(), lr=0.01)

    # Inside the training loop
    sgd_losses = []
    for t in range(args.steps):
        output = net(input)
        loss = criterion(output, target)

        optimizer.zero_grad()   # zero the gradient buffers
        loss.backward()

        optimizer.step()        # Perform the training parameters update
        sgd_losses.append(loss.item())
        if t % every == 0 or t == args.steps - 1:
            print(f"SGD step {t}: MSE loss {loss.item():.4g}")
    metrics["sgd_random_input"] = sgd_losses

    # Adam optimizer (the seed shows the constructor only)
    learning_rate = 1e-4
    optimizer = optim.Adam(net.parameters(), lr=learning_rate)
    print(optimizer)

    # ============================================================ 6. Putting it together
    # MNIST instead of CIFAR-10: padded to 32x32 (LeNet's input size), ToTensor, then
    # Normalize((0.5,), (0.5,)): one channel where CIFAR-10 has three.
    spec = get_spec("lenet")  # cross-entropy, SGD lr 0.01 momentum 0.9, batch 64, 2 epochs
    transform = transforms.Compose(
        [transforms.Lambda(pad2),  # transforms.Pad(2)
         transforms.ToTensor(),
         transforms.Normalize((0.5,), (0.5,))])

    trainset = datasets.MNIST(root=args.data_dir, train=True,
                              download=False, transform=transform)
    if args.limit_train:  # (ours) a quick run on the first N images
        trainset.data, trainset.targets = trainset.data[:args.limit_train], trainset.targets[:args.limit_train]
    trainloader = DataLoader(trainset, batch_size=args.batch_size,
                             shuffle=True, num_workers=2)  # num_workers: accepted, ignored

    testset = datasets.MNIST(root=args.data_dir, train=False,
                             download=False, transform=transform)
    if args.limit_test:
        testset.data, testset.targets = testset.data[:args.limit_test], testset.targets[:args.limit_test]
    testloader = DataLoader(testset, batch_size=args.batch_size,
                            shuffle=False, num_workers=2)

    net = CifarNet()

    criterion = nn.CrossEntropyLoss()
    optimizer = optim.SGD(net.parameters(), lr=args.lr, momentum=spec.optimizer_kwargs["momentum"])
    # From the seed's transfer-learning section: divide the rate by 10 every 7 epochs. Stepped
    # once per epoch, after the epoch's optimizer steps (PyTorch >= 1.1's order; the seed, older,
    # steps it first). Over the default 2 epochs it never fires.
    exp_lr_scheduler = lr_scheduler.StepLR(optimizer, step_size=7, gamma=0.1)

    mnist_epochs = []
    for epoch in range(args.epochs):  # loop over the dataset multiple times
        running_loss = 0.0
        epoch_loss, batches = 0.0, 0
        # With a batch size of 64 in each iteration
        for i, data in enumerate(trainloader, 0):  # trainloader reads data using our MNIST
            inputs, labels = data

            optimizer.zero_grad()

            outputs = net(inputs)
            loss = criterion(outputs, labels)
            loss.backward()
            optimizer.step()

            running_loss += loss.item()
            epoch_loss, batches = epoch_loss + loss.item(), batches + 1
            if i % every == every - 1:
                print(f"[{epoch}, {i + 1:5d}] Loss {running_loss / every:.4f}")
                running_loss = 0.0
        lr = exp_lr_scheduler.get_last_lr()[0]
        exp_lr_scheduler.step()
        print(f"epoch {epoch}: mean loss {epoch_loss / batches:.4f} (lr {lr:g}, next epoch "
              f"{exp_lr_scheduler.get_last_lr()[0]:g})")
        mnist_epochs.append({"epoch": epoch, "loss": epoch_loss / batches, "lr": lr})

    print('Finished Training')

    # Testing
    correct = 0
    total = 0
    with tg.no_grad():  # (ours) no graph is needed to test
        for data in testloader:
            images, labels = data
            outputs = net(images)
            _, predicted = tg.max(outputs.data, 1)   # Find the class index with the maximum value.
            total += labels.size(0)
            correct += (predicted == labels).sum()

    print('Accuracy of the network on the %d test images: %d %%' % (
        total, 100 * correct / total))
    test_accuracy = 100 * int(correct) / total
    metrics["mnist"] = {"epochs": mnist_epochs, "test_accuracy": test_accuracy}

    # (CUDA and nn.DataParallel: left out, see the top of the file.)

    # ============================================================ 7. torch.nn.Sequential
    N, D_in, H, D_out = 64, 1000, 100, 10

    x = tg.randn(N, D_in)
    y = tg.randn(N, D_out, requires_grad=False)

    model = nn.Sequential(
        nn.Linear(D_in, H),
        nn.ReLU(),
        nn.Linear(H, D_out),
    )
    print(model)

    loss_fn = nn.MSELoss(reduction='sum')  # size_average=False in the seed

    learning_rate = 1e-4
    sequential_losses = []
    for t in range(args.steps):
        y_pred = model(x)

        loss = loss_fn(y_pred, y)
        if t % every == 0 or t == args.steps - 1:
            print(t, loss.item())
        sequential_losses.append(loss.item())

        model.zero_grad()

        loss.backward()

        for param in model.parameters():
            param.data -= learning_rate * param.grad.data
    metrics["sequential"] = sequential_losses

    # ============================================================ 8. Dynamic computation graph
    N, D_in, H, D_out = 64, 1000, 100, 10

    x = tg.randn(N, D_in)
    y = tg.randn(N, D_out, requires_grad=False)

    model = DynamicNet(D_in, H, D_out)

    criterion = nn.MSELoss(reduction='sum')  # size_average=False in the seed
    optimizer = optim.SGD(model.parameters(), lr=1e-4, momentum=0.9)
    dynamic_losses = []
    for t in range(args.steps):
        y_pred = model(x)

        loss = criterion(y_pred, y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        dynamic_losses.append(loss.item())
        if t % every == 0 or t == args.steps - 1:
            print(f"DynamicNet step {t}: loss {loss.item():.4f}")
    metrics["dynamic"] = dynamic_losses

    # (Transfer learning: left out, see the top of the file; its StepLR is in section 6.)

    print(f"Test accuracy (CifarNet on MNIST): {test_accuracy:.2f} %")
    metrics["test_accuracy"] = test_accuracy
    if args.json:
        with open(args.json, "w") as f:
            json.dump(metrics, f)
    return metrics


if __name__ == "__main__":
    main()
