"""Tools for gradient-equivalence tests: hypothesis strategies and ``assert_matches_torch``.

Needs the test extras (``pip install 'tinygrad_mnist[test]'``): hypothesis, and torch for the
comparison.
"""
from .compare import assert_matches_torch, tolerances
from . import strategies

__all__ = ["assert_matches_torch", "tolerances", "strategies"]
