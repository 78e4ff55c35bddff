"""Datasets: ``MNIST`` (like ``torchvision.datasets.MNIST``, without PIL or torchvision)."""
from .mnist import (MNIST, MNISTDownloadError, MNISTFormatError, MNISTNotFoundError,
                    download_mnist)

__all__ = ["MNIST", "MNISTFormatError", "MNISTNotFoundError", "MNISTDownloadError",
           "download_mnist"]
