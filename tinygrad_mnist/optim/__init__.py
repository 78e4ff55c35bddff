"""Optimizers and learning-rate schedules, named as in ``torch.optim``::

    from tinygrad_mnist import optim
    opt = optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    sched = optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.7)

``OPTIMIZERS`` is the one list of optimizer names (the command line, the training loop and the
model specs read it); ``canonical_name("adam")`` gives a name as spelled there (``"Adam"``).
"""
from . import lr_scheduler
from .adadelta import Adadelta
from .adagrad import Adagrad
from .adam import Adam, AdamW
from .adamax import Adamax
from .nadam import NAdam
from .optimizer import Optimizer
from .radam import RAdam
from .rmsprop import RMSprop
from .sgd import SGD

__all__ = ["Optimizer", "SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "Adadelta", "Adamax", "NAdam", "RAdam",
           "lr_scheduler", "OPTIMIZERS", "canonical_name"]

#: every optimizer by its class name, which is also its name in ``torch.optim``
OPTIMIZERS = {cls.__name__: cls for cls in (SGD, Adam, AdamW, RMSprop, Adagrad, Adadelta, Adamax, NAdam, RAdam)}


def canonical_name(name):
    """The registry's spelling of an optimizer name given in any letter case; ValueError if unknown."""
    by_lower = {key.lower(): key for key in OPTIMIZERS}
    if not isinstance(name, str) or name.lower() not in by_lower:
        raise ValueError(f"unknown optimizer {name!r}: choose one of {', '.join(OPTIMIZERS)}")
    return by_lower[name.lower()]
