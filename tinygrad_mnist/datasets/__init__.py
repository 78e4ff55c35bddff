"""Datasets, like torchvision's: ``MNIST``, ``FashionMNIST`` (IDX files), ``CIFAR10`` (the binary
release), ``ImageFolder``; every download verified (see ``_download``)."""
from ._download import DownloadError
from .mnist import (MNIST, FashionMNIST, MNISTDownloadError, MNISTFormatError, MNISTNotFoundError,
                    download_mnist)

__all__ = ["MNIST", "FashionMNIST", "MNISTFormatError", "MNISTNotFoundError",
           "MNISTDownloadError", "DownloadError", "download_mnist"]
