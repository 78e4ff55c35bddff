"""tinygrad_mnist: a small reverse-mode autograd engine on NumPy (CPU) and CuPy (GPU).

Its API mirrors PyTorch's, so that the classic MNIST tutorials port by changing their imports::

    import tinygrad_mnist as tg
    from tinygrad_mnist import nn, optim
    import tinygrad_mnist.nn.functional as F
"""
from . import backend, dtypes
from .backend import Device as device, Generator, default_generator
from .dtypes import dtype, float32, float64, int64, int32, uint8, bool_ as bool  # noqa: A004
from .shapes import Size
from .tensor import Tensor, maximum, minimum, where
from . import autograd
from .autograd import (no_grad, enable_grad, set_grad_enabled, is_grad_enabled, inference_mode,
                       is_inference_mode_enabled, gradcheck)
from .creation import (tensor, as_tensor, from_numpy, zeros, ones, empty, full, zeros_like,
                       ones_like, full_like, empty_like, randn_like, rand_like, randint_like, eye,
                       arange, linspace, randn, rand, randint, randperm, manual_seed, initial_seed,
                       seed)
from .functions import *  # noqa: F401,F403  cat, stack, pad, exp, log, sum, max, ... (functions.__all__)
from .legacy import FloatTensor, DoubleTensor, LongTensor, IntTensor, ByteTensor, BoolTensor
from .printing import set_printoptions, get_printoptions, printoptions
from .threads import set_num_threads, get_num_threads, set_num_interop_threads, get_num_interop_threads
from . import accelerator, backends, cuda, fast, viz
from .interop import save, load
from . import nn, optim  # noqa: E402  (after the core: they build on it)
from .nn import functional as _functional  # noqa: F401  tg.nn.functional without another import
from .optim import lr_scheduler as _lr_scheduler  # noqa: F401  tg.optim.lr_scheduler likewise
from . import utils  # noqa: E402
from .utils import data as _data  # noqa: F401,E402  tg.utils.data.DataLoader without another import
from .profiler import profile

fast.load_routes()

def get_default_dtype():
    """float32: the dtype Python floats become (the engine's default is fixed)."""
    return dtypes.default_float


float = float32  # noqa: A001  PyTorch's aliases
double = float64
long = int64
int = int32  # noqa: A001

__version__ = "0.1.0"
