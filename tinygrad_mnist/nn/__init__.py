"""``tinygrad_mnist.nn``: modules, layers, losses, ``functional`` and ``init``, as ``torch.nn``.

    from tinygrad_mnist import nn
    import tinygrad_mnist.nn.functional as F

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(1, 6, 5)
            self.fc1 = nn.Linear(6 * 12 * 12, 10)

        def forward(self, x):
            x = F.max_pool2d(F.relu(self.conv1(x)), 2)
            return self.fc1(x.flatten(1))
"""
from . import functional, init
from .layers import (AvgPool2d, Conv2d, CrossEntropyLoss, Dropout, Flatten, Identity, Linear, LogSoftmax,
                     MaxPool2d, MSELoss, NLLLoss, ReLU, Sigmoid, Softmax, Tanh)
from .module import Module, ModuleDict, ModuleList, Parameter, Sequential
from .parallel import DataParallel

__all__ = ["functional", "init", "Module", "Parameter", "Sequential", "ModuleList", "ModuleDict", "Linear",
           "Conv2d", "ReLU", "MaxPool2d", "AvgPool2d", "Flatten", "Dropout", "Identity", "Softmax",
           "LogSoftmax", "Tanh", "Sigmoid", "CrossEntropyLoss", "NLLLoss", "MSELoss", "DataParallel"]
