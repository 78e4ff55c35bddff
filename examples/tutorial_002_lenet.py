"""Seed 002, "PyTorch - Neural networks with nn modules": every section, in the tutorial's order.

Read it beside /work/shared/seeds/002_86f17419b2a70d18.txt, section by section:

1. Neural Networks      the LeNet-style ``Net``, ``print(net)``, its parameters, a forward pass
                        on one random 1x1x32x32 input (``Variable`` kept: it returns the tensor)
2. functional           ``F.relu``, ``F.softmax`` on ``autograd.Variable`` inputs
3. Backward pass        ``net.zero_grad()`` and ``out.backward(...)``
4. Loss function        ``nn.MSELoss`` against the tutorial's ``Variable(torch.arange(1, 11))``,
                        ``conv1.bias.grad``, and the graph behind the loss through ``grad_fn``
5. Optimizer            ``optim.SGD(lr=0.01)`` for 500 steps, and the Adam constructor
6. Putting it together  the CIFAR-10 ``Net`` (3 input channels) with the tutorial's recipe:
                        ``ToTensor`` + ``Normalize((0.5,)*3, (0.5,)*3)``, batch 4, cross-entropy,
                        ``SGD(lr=0.001, momentum=0.9)``, 2 epochs, the loss printed each
                        mini-batch, then the test accuracy. On CIFAR-10 when its binary release is
                        unpacked in ``data/cifar10`` (``cifar-10-batches-bin/``; get it with
                        ``datasets.CIFAR10("data/cifar10", download=True)`` on a machine with
                        internet, or unpack ``cifar-10-binary.tar.gz`` there); else on MNIST padded
                        to 32x32 with its gray channel repeated three times (``Pad(2)``,
                        ``Grayscale(num_output_channels=3)``), which keeps the tutorial's Net as it
                        is. The output says which.
7. CUDA, DataParallel   ``model.cuda()`` when a GPU is there, and the tutorial's full
                        ``RandomDataset`` / ``Model`` program under ``nn.DataParallel``, printing the
                        sizes inside and outside the model (with no GPU or one, DataParallel runs
                        the module, as PyTorch's does)
8. nn.Sequential        a 2-layer MLP on random data, ``MSELoss(size_average=False)``, the
                        parameters updated by hand (the tutorial's own manual update)
9. DynamicNet           0 to 3 repeats of one shared middle Linear per forward pass (weight
                        sharing, a new graph each step), SGD momentum 0.9, random data
10. Transfer model      ``examples/tutorial_002_transfer.py``, run from here (``--no-transfer``
                        skips it): the tutorial's ``train_model``, fine-tuned and frozen ResNet-18

``--engine torch`` runs the whole program on PyTorch instead, under the same names (``tg`` is
then ``torch``, ``nn`` is ``torch.nn``, ...); the images still come through tinygrad_mnist's
datasets and transforms (torchvision is not installed), turned into torch tensors at the end.

What changed besides the imports (``torch`` -> ``tinygrad_mnist``; torchvision's datasets and
transforms -> ours):

* ``loss.data[0]`` -> ``loss.item()`` (today's PyTorch refuses to index a 0-d tensor);
* ``out.backward()`` on the (1, 10) output -> ``out.backward(tg.randn(1, 10))``: a non-scalar
  output needs the gradient to start from (today's PyTorch raises without it too);
* the grad_fn names are each engine's: ours has one ``LinearBackward`` node per Linear, whose
  inputs are (activation, weight, bias), so ``.next_functions[0][0]`` twice leads to the ReLU
  before fc3; PyTorch's node is ``AddmmBackward0`` with inputs (bias, activation, transposed
  weight), so there the third line is the bias's node (``ExpandBackward`` in the seed's 2018
  PyTorch, ``AccumulateGrad`` today);
* the test loop's message counts the images it read (the tutorial's says "10000" whatever it read);
* the tutorial wraps ``Model`` in ``nn.DataParallel`` only when there are several GPUs; here it is
  always wrapped, so that the wrapper is what runs;
* ``num_workers=2`` is kept for tinygrad_mnist's loader (which accepts and ignores it); on
  ``--engine torch`` the loaders get 0 workers, since worker processes would copy tinygrad_mnist's
  transform generator;
* ``--log-every N`` prints every Nth loss of the long loops (default 1: every one, as the tutorial).

    python examples/tutorial_002_lenet.py --log-every 2000
    python examples/tutorial_002_lenet.py --log-every 2000 --engine torch
"""
import argparse
import json
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run from a checkout without installing the package
sys.path.insert(0, str(Path(__file__).resolve().parent))  # tutorial_002_transfer beside this file


def _engine_in(argv):
    """The ``--engine`` given on the command line: the classes below need the engine's ``nn``."""
    for i, arg in enumerate(argv):
        if arg == "--engine" and i + 1 < len(argv):
            return argv[i + 1]
        if arg.startswith("--engine="):
            return arg.split("=", 1)[1]
    return "tinygrad"


ENGINE = _engine_in(sys.argv[1:]) if __name__ == "__main__" else "tinygrad"
if ENGINE == "torch":
    import torch as tg  # noqa: E402
    import torch.nn as nn  # noqa: E402
    import torch.nn.functional as F  # noqa: E402
    import torch.optim as optim  # noqa: E402
    from torch import autograd  # noqa: E402
    from torch.autograd import Variable  # noqa: E402
    from torch.utils.data import Dataset, DataLoader  # noqa: E402
else:
    import tinygrad_mnist as tg  # noqa: E402   import torch
    import tinygrad_mnist.nn as nn  # noqa: E402   import torch.nn as nn
    import tinygrad_mnist.nn.functional as F  # noqa: E402   import torch.nn.functional as F
    import tinygrad_mnist.optim as optim  # noqa: E402   import torch.optim as optim
    from tinygrad_mnist import autograd  # noqa: E402   from torch import autograd
    from tinygrad_mnist.autograd import Variable  # noqa: E402   from torch.autograd import Variable
    from tinygrad_mnist.utils.data import Dataset, DataLoader  # noqa: E402
import tinygrad_mnist  # noqa: E402
from tinygrad_mnist import datasets, transforms  # noqa: E402   import torchvision (datasets, transforms)


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
    """The seed's second ``Net`` (section "Model & Training"), for 3-channel 32x32 images; renamed
    so that both classes live in one file. The pooling is a module here, a function in ``Net``."""

    def __init__(self):
        super(CifarNet, self).__init__()
        self.conv1 = nn.Conv2d(3, 6, 5)
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


# ------------------------------------------------------------------ 7. CUDA, DataParallel
class RandomDataset(Dataset):

    def __init__(self, size, length):
        self.len = length
        self.data = tg.randn(length, size)

    def __getitem__(self, index):
        return self.data[index]

    def __len__(self):
        return self.len


class Model(nn.Module):

    def __init__(self, input_size, output_size):
        super(Model, self).__init__()
        self.fc = nn.Linear(input_size, output_size)

    def forward(self, input):
        output = self.fc(input)
        print("  In Model: input size", input.size(),
              "output size", output.size())

        return output


# ------------------------------------------------------------------ 9. DynamicNet
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


def cifar10_or_mnist(args):
    """The train and test sets of section 6 and what they are: CIFAR-10 if its binary release is
    in ``args.cifar_dir``, else MNIST padded to 32x32 with 3 equal channels."""
    to_engine = [] if ENGINE == "tinygrad" else [transforms.Lambda(lambda t: tg.from_numpy(t.numpy()))]
    if (Path(args.cifar_dir) / "cifar-10-batches-bin").is_dir():
        transform = transforms.Compose(
            [transforms.ToTensor(),
             transforms.Normalize((0.5, 0.5, 0.5), (0.5, 0.5, 0.5)), *to_engine])
        trainset = datasets.CIFAR10(root=args.cifar_dir, train=True,
                                    download=False, transform=transform)
        testset = datasets.CIFAR10(root=args.cifar_dir, train=False,
                                   download=False, transform=transform)
        classes = ('plane', 'car', 'bird', 'cat',
                   'deer', 'dog', 'frog', 'horse', 'ship', 'truck')
        what = f"CIFAR-10 from {args.cifar_dir}"
    else:
        transform = transforms.Compose(
            [transforms.Pad(2),  # 28x28 -> 32x32
             transforms.Grayscale(num_output_channels=3),  # the Net's 3 input channels
             transforms.ToTensor(),
             transforms.Normalize((0.5, 0.5, 0.5), (0.5, 0.5, 0.5)), *to_engine])
        trainset = datasets.MNIST(root=args.data_dir, train=True, download=False, transform=transform)
        testset = datasets.MNIST(root=args.data_dir, train=False, download=False, transform=transform)
        classes = tuple(str(d) for d in range(10))
        what = (f"MNIST padded to 32x32, gray repeated to 3 channels: no CIFAR-10 binary release in "
                f"{args.cifar_dir}/cifar-10-batches-bin (datasets.CIFAR10({str(args.cifar_dir)!r}, "
                f"download=True) fetches it where there is internet)")
    if args.limit_train:  # (ours) a quick run on the first N images
        trainset = tinygrad_mnist.utils.data.Subset(trainset, range(args.limit_train))
    if args.limit_test:
        testset = tinygrad_mnist.utils.data.Subset(testset, range(args.limit_test))
    return trainset, testset, classes, what


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--engine", choices=["tinygrad", "torch"], default="tinygrad",
                   help="tinygrad (tinygrad_mnist) or torch: the same program on either")
    p.add_argument("--epochs", type=int, default=2, help="epochs of section 6 (the tutorial's 2)")
    p.add_argument("--batch-size", type=int, default=4, help="section 6's loaders (the tutorial's 4)")
    p.add_argument("--lr", type=float, default=0.001,
                   help="section 6's SGD rate, momentum 0.9 (the tutorial's 0.001)")
    p.add_argument("--steps", type=int, default=500, help="steps of the random-data loops (the tutorial's 500)")
    p.add_argument("--log-every", type=int, default=1,
                   help="print every Nth loss of the long loops (the tutorial prints every one)")
    p.add_argument("--data-dir", default=str(ROOT / "data" / "mnist"))
    p.add_argument("--cifar-dir", default=str(ROOT / "data" / "cifar10"),
                   help="where CIFAR-10's binary release is unpacked (else section 6 runs on MNIST)")
    p.add_argument("--limit-train", type=int, default=None, help="train on the first N images only")
    p.add_argument("--limit-test", type=int, default=None, help="test on the first N images only")
    p.add_argument("--no-transfer", action="store_true", help="skip section 10, transfer learning")
    p.add_argument("--transfer-epochs", type=int, default=3,
                   help="epochs of each transfer run (the tutorial's 25; see tutorial_002_transfer.py)")
    p.add_argument("--pretrain-epochs", type=int, default=3)
    p.add_argument("--pretrain-per-class", type=int, default=500, help="transfer: pretraining images per digit 0-4")
    p.add_argument("--train-per-class", type=int, default=100, help="transfer: training images per digit")
    p.add_argument("--val-per-class", type=int, default=50, help="transfer: validation images per digit")
    p.add_argument("--weights", default=None, help="transfer: start from this converted torchvision ResNet-18")
    p.add_argument("--work-dir", default=str(ROOT / "data" / "tutorial_002_transfer"),
                   help="transfer: where its ImageFolder trees and checkpoint go")
    p.add_argument("--json", default=None, help="also write the metrics to this JSON file")
    return p.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    if args.engine != ENGINE:
        raise SystemExit(f"--engine {args.engine}: the engine is chosen when the script starts; run "
                         f"'python {Path(__file__).name} --engine {args.engine}'")
    tg.manual_seed(0)
    tinygrad_mnist.manual_seed(0)  # the transforms' generator, in both engines
    random.seed(0)  # DynamicNet draws its depth with Python's random, as the seed does
    metrics = {"tutorial": "002", "engine": ENGINE}
    every = max(1, args.log_every)

    # ============================================================ 1. Neural Networks
    net = Net()
    print(net)

    params = list(net.parameters())
    print(len(params))       # 10: 10 sets of trainable parameters
    print(params[0].size())  # Size([6, 1, 5, 5]): conv1's weight

    input = Variable(tg.randn(1, 1, 32, 32))
    out = net(input)   # out's size: 1x10.
    print(out)

    # ============================================================ 2. Common functionals
    data = autograd.Variable(tg.randn(2, 2))
    print(F.relu(data))

    data = autograd.Variable(tg.randn(5))
    print(F.softmax(data, dim=0))

    # ============================================================ 3. Backward pass
    net.zero_grad()
    out.backward(tg.randn(1, 10))  # out.backward() in the seed: out is not a scalar

    # ============================================================ 4. Loss function
    output = net(input)
    target = Variable(tg.arange(1, 11))   # Create a dummy true label Size 10.
    criterion = nn.MSELoss()

    # Compute the loss by MSE of the output and the true label
    loss = criterion(output, target)         # Size 1 (the (10,) target broadcasts, with a warning)
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
    loss = criterion(output, target)         # Size 1

    print(loss.grad_fn)                      # <MSELossBackward object at ...>
    print(loss.grad_fn.next_functions[0][0])  # <LinearBackward object at ...>: fc3
    print(loss.grad_fn.next_functions[0][0].next_functions[0][0])  # <ReLUBackward ...>: fc2's relu

    # (ours) the whole chain: from each node, on to its first input that is not a parameter (the
    # parameters' nodes are AccumulateGrad: where their .grad is summed), down to the input
    fn, chain = loss.grad_fn, []
    while fn is not None:
        inputs = [f for f, _ in fn.next_functions if f is not None]
        leaves = sum(type(f).__name__ == "AccumulateGrad" for f in inputs)
        chain.append(fn.name() + (f" (+{leaves} parameters)" if leaves else ""))
        fn = next((f for f in inputs if type(f).__name__ != "AccumulateGrad"), None)
    print("graph, from the loss back to the input:\n  " + "\n  <- ".join(chain))

    # ============================================================ 5. Optimizer
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
    trainset, testset, classes, what = cifar10_or_mnist(args)
    print(f"Section 6 data: {what}")
    trainloader = DataLoader(trainset, batch_size=args.batch_size,
                             shuffle=True, num_workers=2 if ENGINE == "tinygrad" else 0)
    testloader = DataLoader(testset, batch_size=args.batch_size,
                            shuffle=False, num_workers=2 if ENGINE == "tinygrad" else 0)
    # (num_workers: tinygrad_mnist's loader accepts and ignores it; torch's gets 0, since worker
    # processes would copy tinygrad_mnist's transform generator)

    net = CifarNet()

    criterion = nn.CrossEntropyLoss()
    optimizer = optim.SGD(net.parameters(), lr=args.lr, momentum=0.9)

    since = time.time()
    section6_epochs = []
    for epoch in range(args.epochs):  # loop over the dataset multiple times
        epoch_loss, batches = 0.0, 0  # (ours) for --json
        # With a batch size of 4 in each iteration
        for i, data in enumerate(trainloader, 0):  # trainloader reads data using our datasets
            inputs, labels = data
            inputs, labels = Variable(inputs), Variable(labels)

            optimizer.zero_grad()

            outputs = net(inputs)
            loss = criterion(outputs, labels)
            loss.backward()
            optimizer.step()

            epoch_loss, batches = epoch_loss + loss.item(), batches + 1
            if i % every == 0:
                print(f"Loss {loss.item()}")
        print(f"epoch {epoch}: mean loss {epoch_loss / batches:.4f} over {batches} mini-batches")
        section6_epochs.append({"epoch": epoch, "loss": epoch_loss / batches, "batches": batches})

    print('Finished Training')
    train_time = time.time() - since

    # Testing
    correct = 0
    total = 0
    for data in testloader:
        images, labels = data
        outputs = net(Variable(images))
        _, predicted = tg.max(outputs.data, 1)   # Find the class index with the maximum value.
        total += labels.size(0)
        correct += (predicted == labels).sum()

    print('Accuracy of the network on the %d test images: %d %%' % (
        total, 100 * correct / total))
    test_accuracy = 100 * int(correct) / total
    print(f"(section 6 on {ENGINE}: {train_time:.1f} s of training, test accuracy {test_accuracy:.2f} %)")
    metrics["section6"] = {"data": what, "epochs": section6_epochs, "test_accuracy": test_accuracy,
                           "train_time": train_time, "classes": list(classes)}

    # ============================================================ 7. CUDA, DataParallel
    if tg.cuda.is_available():
        net.cuda()

    # Parameters and DataLoaders
    input_size = 5
    output_size = 2

    batch_size = 30
    data_size = 100

    rand_loader = DataLoader(dataset=RandomDataset(input_size, data_size),
                             batch_size=batch_size, shuffle=True)

    model = Model(input_size, output_size)
    if tg.cuda.device_count() > 1:
        print("Let's use", tg.cuda.device_count(), "GPUs!")
    # dim = 0 [30, xxx] -> [10, ...], [10, ...], [10, ...] on 3 GPUs
    model = nn.DataParallel(model)  # the tutorial wraps only with several GPUs

    if tg.cuda.is_available():
        model.cuda()

    sizes = []
    for data in rand_loader:
        if tg.cuda.is_available():
            input_var = Variable(data.cuda())
        else:
            input_var = Variable(data)

        output = model(input_var)
        print("Outside: input size", input_var.size(),
              "output_size", output.size())
        sizes.append([list(input_var.size()), list(output.size())])
    metrics["dataparallel"] = {"sizes": sizes, "wrapper": type(model).__name__,
                               "devices": tg.cuda.device_count()}

    # ============================================================ 8. torch.nn.Sequential
    N, D_in, H, D_out = 64, 1000, 100, 10

    x = Variable(tg.randn(N, D_in))
    y = Variable(tg.randn(N, D_out), requires_grad=False)

    model = nn.Sequential(
        nn.Linear(D_in, H),
        nn.ReLU(),
        nn.Linear(H, D_out),
    )
    print(model)

    loss_fn = nn.MSELoss(size_average=False)

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

    # ============================================================ 9. Dynamic computation graph
    N, D_in, H, D_out = 64, 1000, 100, 10

    x = Variable(tg.randn(N, D_in))
    y = Variable(tg.randn(N, D_out), requires_grad=False)

    model = DynamicNet(D_in, H, D_out)

    criterion = nn.MSELoss(size_average=False)
    optimizer = optim.SGD(model.parameters(), lr=1e-4, momentum=0.9)
    dynamic_losses = []
    for t in range(args.steps):
        y_pred = model(x)

        loss = criterion(y_pred, y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        dynamic_losses.append(loss.item())  # (ours) the tutorial prints nothing here
        if t % every == 0 or t == args.steps - 1:
            print(f"DynamicNet step {t}: loss {loss.item():.4f}")
    metrics["dynamic"] = dynamic_losses

    # ============================================================ 10. Transfer model
    if not args.no_transfer:
        import tutorial_002_transfer as transfer
        transfer_argv = ["--engine", ENGINE, "--epochs", str(args.transfer_epochs),
                         "--pretrain-epochs", str(args.pretrain_epochs),
                         "--train-per-class", str(args.train_per_class),
                         "--pretrain-per-class", str(args.pretrain_per_class),
                         "--val-per-class", str(args.val_per_class),
                         "--data-dir", args.data_dir, "--work-dir", args.work_dir]
        if args.weights:
            transfer_argv += ["--weights", args.weights]
        metrics["transfer"] = transfer.main(transfer_argv)

    print(f"Test accuracy (section 6's Net, {what.split(':')[0]}): {test_accuracy:.2f} %")
    metrics["test_accuracy"] = test_accuracy
    if args.json:
        with open(args.json, "w") as f:
            json.dump(metrics, f)
    return metrics


if __name__ == "__main__":
    main()
