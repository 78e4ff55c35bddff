"""PyTorch reference of the tutorial MNIST models (reference.models) and their training loop
(reference.train).

Importing this package, or reference.specs, does not import torch: tinygrad_mnist reads the
shared training settings from ``reference.specs.SPECS`` without depending on PyTorch. Import
``reference.models`` / ``reference.train`` explicitly for the torch side.
"""
from .specs import MODEL_NAMES, SPECS, ModelSpec, get_spec

__all__ = ["MODEL_NAMES", "SPECS", "ModelSpec", "get_spec"]
