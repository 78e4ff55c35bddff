"""The tutorials' MNIST models on tinygrad_mnist, with the tutorials' own attribute names.

Each class is the PyTorch reference's (``reference/models.py``) with only the imports changed:
that is the promise of the API. The state_dict keys therefore match, and weights move between
the engines both ways (``tinygrad_mnist.interop``). The specs (optimizer, batch size, epochs,
input scaling) live in ``tinygrad_mnist.specs`` and are shared by both engines.

Two tutorials put a ReLU on the logits (``MNISTnn``, ``StridedCNN``): kept as written, with a
corrected ``...Fixed`` variant beside each. A ReLU there clips every negative logit to 0, so a
class can never be scored below "neutral" and the gradient through any clipped logit is zero.
"""
from __future__ import annotations

from . import nn
from .nn import functional as F
from .specs import MODEL_NAMES, get_spec

__all__ = ["FeedForward", "NN", "MNISTnn", "MNISTnnFixed", "StridedCNN", "StridedCNNFixed", "LeNet",
           "ConvNet", "BasicBlock", "ResNet", "resnet18", "MODELS", "build_model"]


class FeedForward(nn.Module):
    """logreg: seed 001's logistic regression, 784 -> 10 (the softmax lives in the loss)."""

    def __init__(self):
        super().__init__()
        self.lin = nn.Linear(784, 10)

    def forward(self, xb):
        return self.lin(xb)


class NN(nn.Module):
    """mlp: seed 003's fully connected net, input_size -> 50 -> num_classes."""

    def __init__(self, input_size=784, num_classes=10):
        super(NN, self).__init__()
        self.fc1 = nn.Linear(input_size, 50)
        self.fc2 = nn.Linear(50, num_classes)

    def forward(self, x):
        x = F.relu(self.fc1(x))
        x = self.fc2(x)
        return x


class MNISTnn(nn.Module):
    """mlp4: seed 000's 4-layer MLP 784-784-500-50-10, faithful: ReLU on the logits too."""

    def __init__(self):
        super(MNISTnn, self).__init__()
        self.li_1 = nn.Linear(784, 784)
        self.li_2 = nn.Linear(784, 500)
        self.li_3 = nn.Linear(500, 50)
        self.li_4 = nn.Linear(50, 10)
        self.relu = nn.ReLU()

    def forward(self, x):
        x = x.view(-1, 784)
        l_1 = self.relu(self.li_1(x))
        l_2 = self.relu(self.li_2(l_1))
        l_3 = self.relu(self.li_3(l_2))
        return self.relu(self.li_4(l_3))


class MNISTnnFixed(MNISTnn):
    """mlp4_fixed: MNISTnn without the ReLU on the logits."""

    def forward(self, x):
        x = x.view(-1, 784)
        l_1 = self.relu(self.li_1(x))
        l_2 = self.relu(self.li_2(l_1))
        l_3 = self.relu(self.li_3(l_2))
        return self.li_4(l_3)


class StridedCNN(nn.Module):
    """cnn_s2: seed 001's ``CNN``: three 3x3 stride-2 convs 1->16->16->10, ReLU after each, avg-pool 4.

    28x28 -> 14x14 -> 7x7 -> 4x4 -> avg_pool2d(4) -> 1x1 -> view (N, 10). Faithful: the ReLU
    after conv3 acts on the logits' channels before pooling, as the tutorial writes it.
    """

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


class StridedCNNFixed(StridedCNN):
    """cnn_s2_fixed: StridedCNN without the ReLU on conv3's output (conv3 pooled directly)."""

    def forward(self, xb):
        xb = xb.view(-1, 1, 28, 28)
        xb = F.relu(self.conv1(xb))
        xb = F.relu(self.conv2(xb))
        xb = self.conv3(xb)
        xb = F.avg_pool2d(xb, 4)
        return xb.view(-1, xb.size(1))


class LeNet(nn.Module):
    """lenet: seed 002's ``Net`` (LeNet-style), input (N, 1, 32, 32).

    conv1 5x5 -> relu -> max-pool 2 -> conv2 5x5 -> relu -> max-pool 2 -> flatten 16*5*5 = 400
    -> fc1 -> relu -> fc2 -> relu -> fc3.
    """

    def __init__(self):
        super(LeNet, self).__init__()
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
        # 2 is the same as (2, 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        x = x.view(-1, self.num_flat_features(x))
        x = F.relu(self.fc1(x))
        x = F.relu(self.fc2(x))
        x = self.fc3(x)
        return x

    def num_flat_features(self, x):
        size = x.size()[1:]  # all dimensions except the batch dimension
        num_features = 1
        for s in size:
            num_features *= s
        return num_features


class ConvNet(nn.Module):
    """cnn: seed 004's ``Net``: 3x3 convs of nf=32 filters (padding 1), two max-pools, 1568-100-50-10."""

    def __init__(self, nf=32):
        super(ConvNet, self).__init__()
        self.convs = nn.Sequential(
            nn.Conv2d(1, nf, kernel_size=3, stride=1, padding=1),
            nn.ReLU(),
            nn.Conv2d(nf, nf, kernel_size=3, stride=1, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(kernel_size=2, stride=2),  # 32x14x14
            nn.Conv2d(nf, nf, kernel_size=3, stride=1, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(kernel_size=2, stride=2),  # 32x7x7
        )
        self.linears = nn.Sequential(
            nn.Linear(1568, 100),  # 7*7*32 = 1568
            nn.ReLU(),
            nn.Linear(100, 50),
            nn.ReLU(),
            nn.Linear(50, 10),
        )

    def forward(self, x):
        x = self.convs(x)
        x = x.view(x.size(0), -1)  # flatten to (N, 1568)
        x = self.linears(x)
        return x


class BasicBlock(nn.Module):
    """ResNet's basic block: two 3x3 convolutions with batch norm, and the input added back
    (through a 1x1 convolution when the block changes the size or the number of channels)."""

    expansion = 1

    def __init__(self, inplanes, planes, stride=1, downsample=None):
        super().__init__()
        self.conv1 = nn.Conv2d(inplanes, planes, kernel_size=3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(planes, planes, kernel_size=3, stride=1, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.downsample = downsample
        self.stride = stride

    def forward(self, x):
        identity = x
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        if self.downsample is not None:
            identity = self.downsample(x)
        out = out + identity
        return self.relu(out)


class ResNet(nn.Module):
    """ResNet (He et al. 2015) as torchvision lays it out, so that state_dict keys match its
    checkpoints: conv1 7x7/2, bn1, relu, maxpool 3x3/2, layer1..layer4 of blocks (the first block
    of layers 2-4 halves the size), a global average pool and the fc layer."""

    def __init__(self, block, layers, num_classes=1000):
        super().__init__()
        self.inplanes = 64
        self.conv1 = nn.Conv2d(3, 64, kernel_size=7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
        self.layer1 = self._make_layer(block, 64, layers[0])
        self.layer2 = self._make_layer(block, 128, layers[1], stride=2)
        self.layer3 = self._make_layer(block, 256, layers[2], stride=2)
        self.layer4 = self._make_layer(block, 512, layers[3], stride=2)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(512 * block.expansion, num_classes)
        for m in self.modules():  # torchvision's initialisation
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.constant_(m.weight, 1)
                nn.init.constant_(m.bias, 0)

    def _make_layer(self, block, planes, blocks, stride=1):
        downsample = None
        if stride != 1 or self.inplanes != planes * block.expansion:
            downsample = nn.Sequential(
                nn.Conv2d(self.inplanes, planes * block.expansion, kernel_size=1, stride=stride, bias=False),
                nn.BatchNorm2d(planes * block.expansion),
            )
        layers = [block(self.inplanes, planes, stride, downsample)]
        self.inplanes = planes * block.expansion
        for _ in range(1, blocks):
            layers.append(block(self.inplanes, planes))
        return nn.Sequential(*layers)

    def forward(self, x):
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        x = self.avgpool(x)
        x = x.reshape(x.size(0), -1)
        return self.fc(x)


_CLASSES = {cls.__name__: cls for cls in (FeedForward, NN, MNISTnn, MNISTnnFixed, StridedCNN,
                                          StridedCNNFixed, LeNet, ConvNet)}
MODELS = {name: _CLASSES[get_spec(name).factory] for name in MODEL_NAMES}


def build_model(name, seed=None):
    """A freshly initialised model for registry name ``name`` (PyTorch's default init).

    With ``seed``, ``tg.manual_seed(seed)`` is called first, so the weights are reproducible.
    """
    if name not in MODELS:
        raise KeyError(f"unknown model {name!r}: choose one of {', '.join(MODEL_NAMES)}")
    if seed is not None:
        from .creation import manual_seed
        manual_seed(seed)
    return MODELS[name]()


def resnet18(num_classes=1000, weights=None, progress=True, pretrained=None):
    """ResNet-18 as ``torchvision.models.resnet18``, with its state_dict keys.

    ``weights``: a checkpoint of a ResNet-18 (a path to a safetensors file, or a state_dict), such
    as torchvision's published file converted with ``python -m tinygrad_mnist convert IN.pth
    OUT.safetensors``; its ``fc`` must have ``num_classes`` outputs. This machine has no internet,
    so torchvision's named weights (``weights="DEFAULT"``, ``pretrained=True``) cannot be
    downloaded: they raise and say how to convert the file instead.
    """
    if pretrained or (isinstance(weights, str) and not weights.endswith(".safetensors")) or (
            weights is not None and not isinstance(weights, (str, dict)) and not hasattr(weights, "__fspath__")):
        raise ValueError(f"resnet18: torchvision's named weights ({weights!r}{', pretrained=True' if pretrained else ''})"
                         f" would be downloaded; download resnet18-f37072fd.pth elsewhere, convert it with "
                         f"'python -m tinygrad_mnist convert resnet18-f37072fd.pth resnet18.safetensors' and "
                         f"pass weights='resnet18.safetensors'")
    model = ResNet(BasicBlock, [2, 2, 2, 2], num_classes=num_classes)
    if weights is not None:
        from .interop import load
        model.load_state_dict(weights if isinstance(weights, dict) else load(weights))
    return model
