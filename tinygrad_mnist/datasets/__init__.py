"""Datasets, like torchvision's: ``MNIST``, ``FashionMNIST`` (IDX files), ``CIFAR10`` (its binary
release, never pickles), ``ImageFolder`` / ``DatasetFolder``; every download verified (``_download``)."""
from ._download import DownloadError
from .cifar import CIFAR10, CIFARFormatError
from .folder import IMG_EXTENSIONS, DatasetFolder, ImageFolder, default_loader
from .mnist import (MNIST, FashionMNIST, MNISTDownloadError, MNISTFormatError, MNISTNotFoundError,
                    download_mnist)

__all__ = ["MNIST", "FashionMNIST", "CIFAR10", "ImageFolder", "DatasetFolder", "IMG_EXTENSIONS",
           "default_loader", "MNISTFormatError", "MNISTNotFoundError", "MNISTDownloadError",
           "CIFARFormatError", "DownloadError", "download_mnist"]
