"""CIFAR-10 from its binary release, like ``torchvision.datasets.CIFAR10`` but never unpickling.

The CIFAR-10 dataset (A. Krizhevsky, V. Nair, G. Hinton) is published in three forms; this reads
the binary one, ``cifar-10-binary.tar.gz`` (170,052,171 bytes, MD5
c32a1d4ab5d03f1284b67883e8d87530), which unpacks to::

    cifar-10-batches-bin/data_batch_1.bin .. data_batch_5.bin   10,000 training records each
    cifar-10-batches-bin/test_batch.bin                         10,000 test records
    cifar-10-batches-bin/batches.meta.txt                       the class names, one a line

A record is 3073 bytes: the label (0..9), then the 32x32 image as 1024 red, 1024 green and 1024
blue bytes, each plane row by row. torchvision reads the Python release instead, whose batches
are pickles: loading one can run code, so it is never read here.

Checks on read: every batch file is a whole number of records, every label names a class of
``batches.meta.txt``; each error names the file. Download: the archive comes from the first
mirror that delivers it whole and with the published MD5 (``_download``), and is extracted only
after every member is checked: regular files and folders, each inside ``root`` (no absolute
paths, no ``..``, no links, devices or fifos), each written atomically.
"""
from __future__ import annotations

import gzip
import os
import posixpath
import shutil
import tarfile
import zlib
from pathlib import Path

import numpy as np

from .._files import atomic_write
from ..utils.data import Dataset
from . import _download

__all__ = ["CIFAR10", "CIFARFormatError", "extract_archive"]

RECORD_BYTES = 1 + 3 * 32 * 32


class CIFARFormatError(ValueError):
    """A CIFAR-10 file or archive is not what it should be; the message names it."""


def _check_member(archive, root, member):
    """Refuse a tar member that is not a plain file or folder, or that would land outside root."""
    name = member.name
    if not (member.isfile() or member.isdir()):
        kind = ("symbolic link" if member.issym() else "hard link" if member.islnk() else
                "fifo" if member.isfifo() else "device" if member.isdev() else "special file")
        raise CIFARFormatError(f"{archive}: member {name!r} is a {kind}; only regular files and "
                               "folders are extracted, so nothing was")
    normal = posixpath.normpath(name)
    if name.startswith(("/", "\\")) or os.path.isabs(name) or normal == ".." or \
            normal.startswith("../") or "\\" in name or ":" in name.split("/")[0]:
        raise CIFARFormatError(f"{archive}: member {name!r} would be written outside {root}; "
                               "nothing was extracted")
    return normal


def extract_archive(archive, root):
    """Extract the tar.gz ``archive`` into ``root`` after checking every member (see module
    docstring); returns the paths of the files written."""
    archive, root = Path(archive), Path(root)
    try:
        with tarfile.open(archive, "r:gz") as tar:
            members = tar.getmembers()
            checked = [(m, _check_member(archive, root, m)) for m in members]
            written = []
            for member, name in checked:
                dest = root / name
                if member.isdir():
                    dest.mkdir(parents=True, exist_ok=True)
                    continue
                dest.parent.mkdir(parents=True, exist_ok=True)
                source = tar.extractfile(member)
                with atomic_write(dest) as out:
                    shutil.copyfileobj(source, out, 1 << 20)
                written.append(dest)
    except (tarfile.TarError, EOFError, zlib.error, gzip.BadGzipFile) as exc:
        raise CIFARFormatError(f"{archive}: not a readable tar.gz archive ({exc})") from exc
    return written


class CIFAR10(Dataset):
    """The CIFAR-10 dataset, from its binary release.

    Args:
        root: the folder holding ``cifar-10-batches-bin`` (and, once downloaded, the archive).
        train: the 50,000 training images if True, the 10,000 test images if False.
        transform: applied to each image, a 32x32 RGB PIL image (as torchvision gives).
        target_transform: applied to each label, a Python int.
        download: when the batch files are missing, extract ``root/cifar-10-binary.tar.gz``
            if it is there and passes its MD5, else download it from ``mirrors`` first.

    Attributes:
        data: uint8 ndarray ``(N, 32, 32, 3)``; targets: list of ints; classes: the names from
        ``batches.meta.txt``; class_to_idx.
    """

    base_folder = "cifar-10-batches-bin"
    filename = "cifar-10-binary.tar.gz"
    mirrors = ["https://www.cs.toronto.edu/~kriz/"]
    tgz_md5 = "c32a1d4ab5d03f1284b67883e8d87530"
    archive_size = 170_052_171
    train_list = [f"data_batch_{i}.bin" for i in range(1, 6)]
    test_list = ["test_batch.bin"]
    meta_file = "batches.meta.txt"
    download_deadline = 3600.0  # seconds for the 162 MiB archive from one mirror

    def __init__(self, root, train=True, transform=None, target_transform=None, download=False):
        self.root = os.fspath(Path(root).expanduser())
        self.train = train
        self.transform = transform
        self.target_transform = target_transform
        folder = Path(self.root) / self.base_folder
        names = self.train_list if train else self.test_list
        if download and self._missing(folder, names):
            self.download()
        missing = self._missing(folder, names)
        if missing:
            raise FileNotFoundError(
                f"CIFAR-10 {'training' if train else 'test'} data not found in {folder}: missing "
                f"{', '.join(missing)}. Pass download=True to download it, or extract "
                f"{self.filename} (the binary version, not the Python one) into {self.root}.")
        self.classes = self._read_classes(folder / self.meta_file)
        data, targets = [], []
        for name in names:
            images, labels = self._read_batch(folder / name, len(self.classes))
            data.append(images)
            targets.extend(labels.tolist())
        self.data = np.concatenate(data)
        self.targets = targets

    def _missing(self, folder, names):
        return [n for n in [*names, self.meta_file] if not (folder / n).is_file()]

    @staticmethod
    def _read_classes(path):
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError as exc:
            raise CIFARFormatError(f"{path}: not a text file of class names ({exc})") from exc
        classes = [line.strip() for line in text.splitlines() if line.strip()]
        if not classes:
            raise CIFARFormatError(f"{path}: no class names in it (one name a line expected)")
        if len(classes) > 256:
            raise CIFARFormatError(f"{path}: {len(classes)} class names, more than a label byte "
                                   "can name")
        return classes

    @staticmethod
    def _read_batch(path, num_classes):
        raw = path.read_bytes()
        if not raw or len(raw) % RECORD_BYTES:
            raise CIFARFormatError(
                f"{path}: size {len(raw)} bytes is not a whole number of {RECORD_BYTES}-byte "
                f"records (1 label byte + 3072 pixel bytes): {len(raw) // RECORD_BYTES} records "
                f"and {len(raw) % RECORD_BYTES} bytes left over")
        records = np.frombuffer(raw, dtype=np.uint8).reshape(-1, RECORD_BYTES)
        labels = records[:, 0]
        bad = np.flatnonzero(labels >= num_classes)
        if bad.size:
            raise CIFARFormatError(
                f"{path}: {bad.size} label(s) outside 0..{num_classes - 1} (the classes of "
                f"batches.meta.txt), the first is {int(labels[bad[0]])} in record {int(bad[0])}")
        images = records[:, 1:].reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)
        return np.ascontiguousarray(images), labels.astype(np.int64)

    def download(self):
        """Fetch (if needed) and extract the binary archive into ``root``."""
        root = Path(self.root)
        archive = root / self.filename
        problem = None
        if archive.is_file():
            problem = _download.check_file(archive, _download.MD5Check(self.tgz_md5))
            if problem is None:
                extract_archive(archive, root)
                return
            problem = (f"The local file {archive} is corrupt ({problem}); it is replaced by a "
                       "download, or delete it.")
        _download.download(
            root, [(self.filename, lambda: _download.MD5Check(self.tgz_md5), self.archive_size,
                    problem)],
            self.mirrors, deadline=self.download_deadline, what="CIFAR-10",
            remedy=f"Copy {self.filename} (the binary version) into {root} by hand, or try "
                   "again with other mirrors.")
        extract_archive(archive, root)

    @property
    def class_to_idx(self):
        return {name: i for i, name in enumerate(self.classes)}

    def __len__(self):
        return len(self.data)

    def __getitem__(self, index):
        from PIL import Image
        img, target = Image.fromarray(self.data[index]), self.targets[index]
        if self.transform is not None:
            img = self.transform(img)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return img, target

    def __repr__(self):
        lines = [f"Dataset {type(self).__name__}", f"    Number of datapoints: {len(self)}",
                 f"    Root location: {self.root}",
                 f"    Split: {'Train' if self.train else 'Test'}"]
        if self.transform is not None:
            lines.append("    Transform: " + repr(self.transform).replace("\n", "\n    "))
        if self.target_transform is not None:
            lines.append("    Target transform: "
                         + repr(self.target_transform).replace("\n", "\n    "))
        return "\n".join(lines)
