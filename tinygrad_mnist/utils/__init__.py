"""Utilities; ``tinygrad_mnist.utils.data`` holds Dataset, TensorDataset and DataLoader."""
