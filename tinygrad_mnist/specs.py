"""Training settings of the tutorial MNIST models, as plain data (no torch import).

`SPECS` maps a registry name to a frozen `ModelSpec`. Both the PyTorch reference
(`reference.models`, `reference.train`) and tinygrad_mnist's own model registry read it, so the
two engines build the same architecture (`factory` names the class in each), expect the same
input (`input_kind`), scale pixels the same way (`scale`) and train with the same optimizer,
batch size and number of epochs as the tutorial the model comes from (`seed_file`).

`state_dict` lists the model's parameter names, in the order `Module.state_dict()` yields them,
with their shapes: the contract that lets weights move between the engines.

Where a tutorial leaves a setting open, `notes` says what was chosen and why; reference/MODELS.md
has the same facts as one table.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from math import prod

from .optim import OPTIMIZERS as _OPTIMIZER_REGISTRY

__all__ = [
    "FrozenDict", "ModelSpec", "SPECS", "MODEL_NAMES", "INPUT_KINDS", "SCALES", "LOSSES",
    "OPTIMIZERS", "input_shape", "get_spec",
]

# input_kind -> shape of one sample as the tutorial's data pipeline hands it to model(x)
INPUT_KINDS = {
    "flat": (784,),            # (N, 784): flattened 28x28
    "image": (1, 28, 28),      # (N, 1, 28, 28): ToTensor layout
    "image32": (1, 32, 32),    # (N, 1, 32, 32): 28x28 zero-padded by 2 on every side (raw pixel 0)
}
# scale -> what is done to the uint8 pixels x, in float32, in this order
SCALES = {
    "div255": "x / 255                  (transforms.ToTensor)",
    "div256": "x / 256                  (seed 001: np.float32(X / 256))",
    "norm05": "(x / 255 - 0.5) / 0.5    (ToTensor + Normalize((0.5,), (0.5,)))",
}
LOSSES = ("cross_entropy",)    # mean-reduced cross-entropy on the logits (nn.CrossEntropyLoss())
OPTIMIZERS = tuple(_OPTIMIZER_REGISTRY)   # class names in torch.optim and tinygrad_mnist.optim (its registry)


class FrozenDict(Mapping):
    """A read-only, hashable dict, so that a frozen dataclass can hold keyword arguments.

    Works wherever a dict of keyword arguments is expected: ``optim.Adam(params, **kwargs)``.
    """

    __slots__ = ("_d",)

    def __init__(self, *args, **kwargs):
        object.__setattr__(self, "_d", dict(*args, **kwargs))

    def __getitem__(self, key):
        return self._d[key]

    def __iter__(self):
        return iter(self._d)

    def __len__(self):
        return len(self._d)

    def __hash__(self):
        return hash(tuple(sorted(self._d.items())))

    def __repr__(self):
        return f"FrozenDict({self._d!r})"

    def __reduce__(self):
        return (FrozenDict, (self._d,))


@dataclass(frozen=True)
class ModelSpec:
    """One tutorial model and how the tutorial trains it."""

    name: str                   # registry name: "logreg", "mlp", "cnn", ...
    factory: str                # class name, in reference.models and in tinygrad_mnist.models
    seed_file: str              # the tutorial in shared/seeds/ it comes from
    tutorial_class: str         # the class name the tutorial itself uses
    optimizer: str              # "Adam" or "SGD"
    optimizer_kwargs: FrozenDict
    batch_size: int
    epochs: int
    input_kind: str             # key of INPUT_KINDS
    scale: str                  # key of SCALES
    loss: str                   # key of LOSSES
    state_dict: tuple           # ((key, shape), ...) in state_dict() order
    reported: str               # accuracy the tutorial reports (free text)
    faithful: bool = True       # False for our corrected variants (*_fixed)
    notes: str = ""

    @property
    def lr(self) -> float:
        return self.optimizer_kwargs["lr"]

    @property
    def state_dict_keys(self) -> tuple:
        return tuple(k for k, _ in self.state_dict)

    @property
    def num_parameters(self) -> int:
        return sum(prod(shape) for _, shape in self.state_dict)

    @property
    def input_shape(self) -> tuple:
        """Shape of one input sample (without the batch dimension)."""
        return INPUT_KINDS[self.input_kind]

    def __post_init__(self):
        if self.input_kind not in INPUT_KINDS:
            raise ValueError(f"ModelSpec {self.name!r}: input_kind {self.input_kind!r} not in {sorted(INPUT_KINDS)}")
        if self.scale not in SCALES:
            raise ValueError(f"ModelSpec {self.name!r}: scale {self.scale!r} not in {sorted(SCALES)}")
        if self.loss not in LOSSES:
            raise ValueError(f"ModelSpec {self.name!r}: loss {self.loss!r} not in {LOSSES}")
        if self.optimizer not in OPTIMIZERS:
            raise ValueError(f"ModelSpec {self.name!r}: optimizer {self.optimizer!r} not in {OPTIMIZERS}")
        if not isinstance(self.optimizer_kwargs, FrozenDict):
            object.__setattr__(self, "optimizer_kwargs", FrozenDict(self.optimizer_kwargs))


def _linear(prefix, n_in, n_out):
    return ((f"{prefix}.weight", (n_out, n_in)), (f"{prefix}.bias", (n_out,)))


def _conv(prefix, c_in, c_out, k):
    return ((f"{prefix}.weight", (c_out, c_in, k, k)), (f"{prefix}.bias", (c_out,)))


_S000 = "000_728fc0fa20d97598.txt"
_S001 = "001_d7d454803fb252a6.txt"
_S002 = "002_86f17419b2a70d18.txt"
_S003 = "003_42b2dfb261a1512b.txt"
_S004 = "004_81ade7cf8f967ba4.txt"

_ADAM_1E3 = FrozenDict(lr=1e-3)

_MLP4_KEYS = (_linear("li_1", 784, 784) + _linear("li_2", 784, 500)
              + _linear("li_3", 500, 50) + _linear("li_4", 50, 10))
_CNN_S2_KEYS = _conv("conv1", 1, 16, 3) + _conv("conv2", 16, 16, 3) + _conv("conv3", 16, 10, 3)

_SPEC_LIST = [
    ModelSpec(
        name="logreg", factory="FeedForward", seed_file=_S001, tutorial_class="FeedForward",
        optimizer="Adam", optimizer_kwargs=_ADAM_1E3, batch_size=64, epochs=15,
        input_kind="flat", scale="div256", loss="cross_entropy",
        state_dict=_linear("lin", 784, 10),
        reported="not reported (validation loss per epoch and a 3x3 prediction grid only)",
        notes="Seed splits openml's 70k into 50k train / 20k validation; we use the official 60k/10k.",
    ),
    ModelSpec(
        name="mlp", factory="NN", seed_file=_S003, tutorial_class="NN",
        optimizer="Adam", optimizer_kwargs=_ADAM_1E3, batch_size=64, epochs=1,
        input_kind="flat", scale="div255", loss="cross_entropy",
        state_dict=_linear("fc1", 784, 50) + _linear("fc2", 50, 10),
        reported="test accuracy over 90% after 1 epoch",
        notes="NN(input_size=784, num_classes=10); the training loop flattens images to (N, 784).",
    ),
    ModelSpec(
        name="mlp4", factory="MNISTnn", seed_file=_S000, tutorial_class="MNISTnn",
        optimizer="Adam", optimizer_kwargs=_ADAM_1E3, batch_size=8192, epochs=50,
        input_kind="image", scale="div255", loss="cross_entropy",
        state_dict=_MLP4_KEYS,
        reported="99.52% train, 97.84% test after 50 epochs",
        notes=("Faithful: ReLU also on the logits (forward views the input to (-1, 784)). Test loader batch "
               "1024. The logit ReLU can kill classes for good, depending on init: seed 0 ends at 50.6% test."),
    ),
    ModelSpec(
        name="mlp4_fixed", factory="MNISTnnFixed", seed_file=_S000, tutorial_class="MNISTnn",
        optimizer="Adam", optimizer_kwargs=_ADAM_1E3, batch_size=8192, epochs=50,
        input_kind="image", scale="div255", loss="cross_entropy",
        state_dict=_MLP4_KEYS, faithful=False,
        reported="n/a (our corrected variant)",
        notes="Same as mlp4 without the ReLU on li_4's output.",
    ),
    ModelSpec(
        name="cnn_s2", factory="StridedCNN", seed_file=_S001, tutorial_class="CNN",
        optimizer="Adam", optimizer_kwargs=_ADAM_1E3, batch_size=64, epochs=15,
        input_kind="flat", scale="div256", loss="cross_entropy",
        state_dict=_CNN_S2_KEYS,
        reported="not reported (validation loss per epoch and a 3x3 prediction grid only)",
        notes=("Faithful: ReLU after conv3 too, before avg_pool2d(4). The seed feeds flat (N, 784) rows; "
               "forward views them to (-1, 1, 28, 28), so (N, 1, 28, 28) works as well. "
               "Seed's split is 50k/20k; we use 60k/10k."),
    ),
    ModelSpec(
        name="cnn_s2_fixed", factory="StridedCNNFixed", seed_file=_S001, tutorial_class="CNN",
        optimizer="Adam", optimizer_kwargs=_ADAM_1E3, batch_size=64, epochs=15,
        input_kind="flat", scale="div256", loss="cross_entropy",
        state_dict=_CNN_S2_KEYS, faithful=False,
        reported="n/a (our corrected variant)",
        notes="Same as cnn_s2 without the ReLU on conv3's output (conv3 is pooled directly).",
    ),
    ModelSpec(
        name="lenet", factory="LeNet", seed_file=_S002, tutorial_class="Net",
        optimizer="SGD", optimizer_kwargs=FrozenDict(lr=0.01, momentum=0.9), batch_size=64, epochs=2,
        input_kind="image32", scale="norm05", loss="cross_entropy",
        state_dict=(_conv("conv1", 1, 6, 5) + _conv("conv2", 6, 16, 5) + _linear("fc1", 400, 120)
                    + _linear("fc2", 120, 84) + _linear("fc3", 84, 10)),
        reported="not reported (the seed never trains this Net on MNIST)",
        notes=("The seed trains this 1-channel Net only on a random 1x32x32 input (MSELoss, SGD lr 0.01); "
               "its one real recipe is the CIFAR-10 copy of the net (CrossEntropyLoss, SGD lr 0.001 "
               "momentum 0.9, batch 4, 2 epochs, Normalize(0.5, 0.5)). Chosen: cross-entropy, SGD lr 0.01 "
               "(the seed's lr for this Net) with momentum 0.9 (CIFAR recipe), 2 epochs and norm05 "
               "(CIFAR recipe), batch 64 (the other tutorials' MNIST batch): lr 0.01 + momentum 0.9 at "
               "batch 4 diverges on MNIST (11% test after 1 epoch), at batch 64 it gives 98.3-98.6% after 2. "
               "MNIST is padded to 32x32 with raw pixel 0 before scaling, like "
               "transforms.Pad(2) ahead of ToTensor, so the border is -1 after norm05."),
    ),
    ModelSpec(
        name="cnn", factory="ConvNet", seed_file=_S004, tutorial_class="Net",
        optimizer="Adam", optimizer_kwargs=FrozenDict(lr=1e-4, betas=(0.5, 0.999)), batch_size=64, epochs=10,
        input_kind="image", scale="norm05", loss="cross_entropy",
        state_dict=(_conv("convs.0", 1, 32, 3) + _conv("convs.2", 32, 32, 3) + _conv("convs.5", 32, 32, 3)
                    + _linear("linears.0", 1568, 100) + _linear("linears.2", 100, 50)
                    + _linear("linears.4", 50, 10)),
        reported="about 98% test after 10 epochs",
        notes="nf = 32 filters; indices in the keys are positions inside the two nn.Sequential blocks.",
    ),
]

SPECS: dict = {s.name: s for s in _SPEC_LIST}
MODEL_NAMES: tuple = tuple(SPECS)


def get_spec(name: str) -> ModelSpec:
    """The spec for a registry name; a KeyError that lists the known names otherwise."""
    try:
        return SPECS[name]
    except KeyError:
        raise KeyError(f"unknown model {name!r}; known models: {', '.join(MODEL_NAMES)}") from None


def input_shape(name: str, batch: int) -> tuple:
    """Full input shape (batch, ...) that model `name` takes from its tutorial's pipeline."""
    return (batch, *get_spec(name).input_shape)
