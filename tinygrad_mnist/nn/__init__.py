"""``tinygrad_mnist.nn``: modules, layers, losses, ``functional``, ``init`` and ``utils``, as ``torch.nn``.

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
from . import functional, init, utils
from .activation import (CELU, ELU, GELU, SELU, Hardsigmoid, Hardswish, Hardtanh, LeakyReLU, LogSigmoid,
                         LogSoftmax, Mish, PReLU, ReLU, ReLU6, Sigmoid, SiLU, Softmax, Softmin, Softplus, Softsign,
                         Tanh, Tanhshrink)
from .layers import (AdaptiveAvgPool1d, AdaptiveAvgPool2d, AdaptiveMaxPool1d, AdaptiveMaxPool2d, AvgPool1d,
                     AvgPool2d, BCELoss, BCEWithLogitsLoss, CircularPad1d, CircularPad2d, ConstantPad1d,
                     ConstantPad2d, Conv1d, Conv2d, ConvTranspose1d, ConvTranspose2d, CosineSimilarity,
                     CrossEntropyLoss, Dropout, Dropout1d, Dropout2d, Dropout3d, Embedding, Flatten, HuberLoss,
                     Identity, KLDivLoss, L1Loss, Linear, MaxPool1d, MaxPool2d, MSELoss, NLLLoss, ReflectionPad1d,
                     ReflectionPad2d, ReplicationPad1d, ReplicationPad2d, SmoothL1Loss, Unflatten, Upsample,
                     UpsamplingBilinear2d, UpsamplingNearest2d, ZeroPad1d, ZeroPad2d)
from .module import Module, ModuleDict, ModuleList, Parameter, ParameterDict, ParameterList, Sequential
from .normalization import BatchNorm1d, BatchNorm2d, BatchNorm3d, GroupNorm, LayerNorm
from .parallel import DataParallel

__all__ = ["functional", "init", "utils", "Module", "Parameter", "Sequential", "ModuleList", "ModuleDict",
           "ParameterList", "ParameterDict",
           # layers
           "Linear", "Conv1d", "Conv2d", "ConvTranspose1d", "ConvTranspose2d", "MaxPool1d", "MaxPool2d", "AvgPool1d",
           "AvgPool2d", "AdaptiveAvgPool1d", "AdaptiveAvgPool2d", "AdaptiveMaxPool1d", "AdaptiveMaxPool2d",
           "Flatten", "Unflatten", "Dropout", "Dropout1d", "Dropout2d", "Dropout3d", "Identity", "Embedding",
           "Upsample", "UpsamplingNearest2d", "UpsamplingBilinear2d", "ZeroPad1d", "ZeroPad2d", "ConstantPad1d",
           "ConstantPad2d", "ReflectionPad1d", "ReflectionPad2d", "ReplicationPad1d", "ReplicationPad2d",
           "CircularPad1d", "CircularPad2d", "CosineSimilarity",
           "BatchNorm1d", "BatchNorm2d", "BatchNorm3d", "LayerNorm", "GroupNorm",
           # activations
           "ReLU", "ReLU6", "LeakyReLU", "PReLU", "ELU", "SELU", "CELU", "GELU", "SiLU", "Mish", "Softplus",
           "Hardtanh", "Hardsigmoid", "Hardswish", "Sigmoid", "LogSigmoid", "Tanh", "Tanhshrink", "Softsign",
           "Softmax", "LogSoftmax", "Softmin",
           # losses
           "CrossEntropyLoss", "NLLLoss", "MSELoss", "L1Loss", "SmoothL1Loss", "HuberLoss", "KLDivLoss", "BCELoss",
           "BCEWithLogitsLoss",
           # parallel
           "DataParallel"]
