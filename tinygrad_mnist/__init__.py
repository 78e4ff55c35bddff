"""tinygrad_mnist: a small reverse-mode autograd engine on NumPy (CPU) and CuPy (GPU).

Its API mirrors PyTorch's, so that the classic MNIST tutorials port by changing their imports::

    import tinygrad_mnist as tg
    from tinygrad_mnist import nn, optim
    import tinygrad_mnist.nn.functional as F
"""
from . import backend, dtypes
from .backend import Device as device, Generator, default_generator
from .dtypes import dtype, float32, float64, int64, int32, uint8, bool_ as bool  # noqa: A004
from .tensor import Tensor, maximum, minimum, where
from . import autograd
from .autograd import no_grad, enable_grad, set_grad_enabled, is_grad_enabled, gradcheck
from .creation import (tensor, as_tensor, from_numpy, zeros, ones, empty, full, zeros_like,
                       ones_like, full_like, eye, arange, linspace, randn, rand, randint, randperm,
                       manual_seed)
from .functions import *  # noqa: F401,F403  cat, stack, pad, exp, log, sum, max, ... (functions.__all__)
from . import cuda, fast, viz
from .interop import save, load
from . import nn, optim  # noqa: E402  (after the core: they build on it)
from .profiler import profile

fast.load_routes()

float = float32  # noqa: A001  PyTorch's aliases
double = float64
long = int64
int = int32  # noqa: A001

__version__ = "0.1.0"
