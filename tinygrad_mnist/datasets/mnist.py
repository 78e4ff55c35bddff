"""MNIST: the IDX file reader, the checked downloader and the ``MNIST`` dataset.

The MNIST database (Y. LeCun, C. Cortes, C. J. C. Burges) is four files in the IDX format::

    train-images-idx3-ubyte   60000 x 28 x 28 uint8 pixels     magic number 2051 (0x00000803)
    train-labels-idx1-ubyte   60000 uint8 labels in 0..9       magic number 2049 (0x00000801)
    t10k-images-idx3-ubyte    10000 x 28 x 28
    t10k-labels-idx1-ubyte    10000

An IDX file is a big-endian header -- two zero bytes, a type code (0x08 = unsigned byte), the
number of dimensions, then one uint32 per dimension -- followed by the raw data in C order.
Each file may be stored as is or gzipped (``NAME.gz``, the form the mirrors serve).

``MNIST(root)`` looks for the files in ``root`` itself and in torchvision's layout
``root/MNIST/raw`` (and ``root/raw``), reads them without PIL or torchvision, and checks what it
reads: magic number, dimensions, file size against the header, gzip integrity, image count
against label count and label range. Every failure is an exception that names the file and the
values involved, and nothing is loaded half-way.

``download_mnist(root)`` (or ``MNIST(root, download=True)``) fetches ``NAME.gz`` from each mirror
in turn and keeps only a file that passes its checksum (see ``_download``: atomic, bounded in size
and time, every mirror's failure in the error). ``MNIST()`` reads, for each file, the first copy
that passes its checksum; only when none does it read an unverified one (your own IDX files),
and with ``download=True`` never: it downloads a verified copy instead.

``FashionMNIST`` (Zalando Research) is the same format with its own files: same names, sizes and
layout, other checksums and mirror.
"""
from __future__ import annotations

import gzip
import hashlib
import math
import os
import zlib
from pathlib import Path

import numpy as np

from .._files import sweep_stale_temporaries
from ..tensor import Tensor
from ..utils.data import Dataset
from . import _download
from ._download import DEFAULT_DEADLINE, DownloadError

__all__ = [
    "MNIST", "FashionMNIST", "MNISTFormatError", "MNISTNotFoundError", "MNISTDownloadError",
    "MIRRORS", "FILES", "SIZES", "FASHION_MIRRORS", "FASHION_FILES", "download_mnist", "read_idx",
    "read_image_file", "read_label_file", "find_mnist_file",
]

# torchvision's mirrors, in the order it tries them, plus Google's copy of the same files.
MIRRORS = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "http://yann.lecun.com/exdb/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
)

TRAIN_IMAGES = "train-images-idx3-ubyte"
TRAIN_LABELS = "train-labels-idx1-ubyte"
TEST_IMAGES = "t10k-images-idx3-ubyte"
TEST_LABELS = "t10k-labels-idx1-ubyte"

# name -> (MD5 of the published NAME.gz, SHA-256 of the decompressed content NAME).
# The MD5s are the ones published with the original downloads (and used by torchvision). The
# SHA-256s identify the content itself, whatever the compression: see _verify_gz for why both.
FILES = {
    TRAIN_IMAGES: ("f68b3c2dcbeaaa9fbdd348bbdeb94873",
                   "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db"),
    TRAIN_LABELS: ("d53e105ee54ea40749a09fcbcd1e9432",
                   "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5"),
    TEST_IMAGES: ("9fb629c4189551a2d022fa330f9573f3",
                  "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7"),
    TEST_LABELS: ("ec29112dd5afa0611ce80d1b7f02629c",
                  "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2"),
}

# The decompressed size of each file (IDX header + data), the same for Fashion-MNIST. A .gz of
# this content is at most this large plus deflate's stored-block overhead (5 bytes per 64 KiB
# block) and a header: a longer download is refused (``_max_gz_bytes``).
SIZES = {TRAIN_IMAGES: 16 + 60000 * 28 * 28, TRAIN_LABELS: 8 + 60000,
         TEST_IMAGES: 16 + 10000 * 28 * 28, TEST_LABELS: 8 + 10000}

# Fashion-MNIST (Zalando Research, https://github.com/zalandoresearch/fashion-mnist): the mirror
# and MD5s of the published NAME.gz files, as torchvision uses them. No SHA-256 of the
# decompressed content is published, so an uncompressed copy cannot be verified.
FASHION_MIRRORS = ("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",)
FASHION_FILES = {
    TRAIN_IMAGES: ("8d4fb7e6c68d591d4c3dfef9ec88bf0d", None),
    TRAIN_LABELS: ("25c81989df183df01b3e8a0aad5dffbe", None),
    TEST_IMAGES: ("bef4ecab320f06d8554ea6380940ec79", None),
    TEST_LABELS: ("bb300cfdad3c16e7a12a480ee83cd310", None),
}

IMAGE_MAGIC = 2051  # 0x00000803: unsigned bytes, 3 dimensions
LABEL_MAGIC = 2049  # 0x00000801: unsigned bytes, 1 dimension
IMAGE_SIZE = (28, 28)
NUM_CLASSES = 10

_CHUNK = 1 << 20


class MNISTFormatError(ValueError):
    """A local MNIST file is not what it should be (bad magic, dims, size, gzip, labels...)."""


class MNISTNotFoundError(FileNotFoundError):
    """The MNIST files are not where they were looked for."""


class MNISTDownloadError(DownloadError):
    """Every mirror failed to deliver a file that passes its checksum."""


# --------------------------------------------------------------------------------------------
# Reading IDX files
# --------------------------------------------------------------------------------------------

def _is_gz(path):
    return Path(path).suffix == ".gz"


def _read_bytes(path):
    """The (decompressed) bytes of ``path``; a damaged gzip file is an MNISTFormatError."""
    path = Path(path)
    if not _is_gz(path):
        return path.read_bytes()
    try:
        with gzip.open(path, "rb") as f:
            return f.read()
    except (EOFError, gzip.BadGzipFile, zlib.error) as exc:
        # EOFError: "Compressed file ended before the end-of-stream marker was reached"
        raise MNISTFormatError(
            f"{path}: truncated or corrupt gzip file ({exc}); delete it and download it again"
        ) from exc


def read_idx(path):
    """Read an IDX file (gzipped if its name ends in ``.gz``) into ``(magic, numpy array)``.

    Only the unsigned-byte type (code 0x08), the one MNIST uses, is supported. The data must be
    exactly as long as the header says: a truncated file, or one with bytes left over, is an
    MNISTFormatError naming the file, the expected and the actual size. The array is a fresh,
    writable copy in C order.
    """
    path = Path(path)
    return _parse_idx(_read_bytes(path), path)


def _parse_idx(raw, path):
    """``(magic, array)`` from the (decompressed) bytes ``raw`` of the IDX file ``path``."""
    what = "decompressed size" if _is_gz(path) else "size"
    if len(raw) < 4:
        raise MNISTFormatError(f"{path}: {what} is {len(raw)} bytes, too short for an IDX header")
    magic = int.from_bytes(raw[:4], "big")
    zeros, type_code, ndim = int.from_bytes(raw[:2], "big"), raw[2], raw[3]
    if zeros != 0 or type_code != 0x08 or ndim == 0:
        raise MNISTFormatError(
            f"{path}: not an unsigned-byte IDX file: magic number {magic} (0x{magic:08x}); "
            f"MNIST uses {IMAGE_MAGIC} (0x{IMAGE_MAGIC:08x}) for images and "
            f"{LABEL_MAGIC} (0x{LABEL_MAGIC:08x}) for labels")
    header_len = 4 + 4 * ndim
    if len(raw) < header_len:
        raise MNISTFormatError(
            f"{path}: truncated header: magic number {magic} announces {ndim} dimensions "
            f"({header_len} header bytes) but the {what} is {len(raw)} bytes")
    dims = tuple(int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim))
    count = math.prod(dims)  # Python ints: a bogus header cannot overflow
    expected = header_len + count
    if len(raw) != expected:
        problem = "truncated" if len(raw) < expected else "has trailing bytes"
        raise MNISTFormatError(
            f"{path}: {problem}: the header says dimensions {dims}, i.e. {expected} bytes "
            f"({header_len} header + {count} data), but the {what} is {len(raw)} bytes")
    array = np.frombuffer(raw, dtype=np.uint8, count=count, offset=header_len).reshape(dims)
    return magic, array.copy()  # a copy: frombuffer over bytes is read-only


def read_image_file(path, _raw=None):
    """Read an MNIST image file: a ``(N, 28, 28)`` uint8 array, checked (magic 2051, 28x28)."""
    magic, images = read_idx(path) if _raw is None else _parse_idx(_raw, Path(path))
    if magic != IMAGE_MAGIC:
        hint = " (that is a label file)" if magic == LABEL_MAGIC else ""
        raise MNISTFormatError(
            f"{path}: wrong magic number {magic} (0x{magic:08x}){hint}; an MNIST image file has "
            f"{IMAGE_MAGIC} (0x{IMAGE_MAGIC:08x})")
    if images.shape[1:] != IMAGE_SIZE:
        raise MNISTFormatError(
            f"{path}: images are {images.shape[1]}x{images.shape[2]}, MNIST images are "
            f"{IMAGE_SIZE[0]}x{IMAGE_SIZE[1]} (header dimensions {images.shape})")
    return images


def read_label_file(path, num_classes=NUM_CLASSES, _raw=None):
    """Read an MNIST label file: an ``(N,)`` uint8 array, checked (magic 2049, labels 0..9)."""
    magic, labels = read_idx(path) if _raw is None else _parse_idx(_raw, Path(path))
    if magic != LABEL_MAGIC:
        hint = " (that is an image file)" if magic == IMAGE_MAGIC else ""
        raise MNISTFormatError(
            f"{path}: wrong magic number {magic} (0x{magic:08x}){hint}; an MNIST label file has "
            f"{LABEL_MAGIC} (0x{LABEL_MAGIC:08x})")
    bad = np.flatnonzero(labels >= num_classes)
    if bad.size:
        raise MNISTFormatError(
            f"{path}: {bad.size} label(s) outside 0..{num_classes - 1}, the first is "
            f"{int(labels[bad[0]])} at index {int(bad[0])}")
    return labels


# --------------------------------------------------------------------------------------------
# Finding the files
# --------------------------------------------------------------------------------------------

def _search_dirs(root, folder="MNIST"):
    """Where the files may be: ``root`` itself, torchvision's ``root/MNIST/raw`` (``folder`` is
    the dataset's name: ``FashionMNIST`` for Fashion-MNIST), ``root/raw``."""
    root = Path(root).expanduser()
    return [root, root / folder / "raw", root / "raw"]


def _candidates(root, name, folder="MNIST"):
    """Every path that may hold ``name``, in the order they are tried (uncompressed first)."""
    return [d / filename for d in _search_dirs(root, folder) for filename in (name, name + ".gz")]


def find_mnist_file(root, name, folder="MNIST"):
    """The first existing file among ``_candidates(root, name, folder)``, or None."""
    for path in _candidates(root, name, folder):
        if path.is_file():
            return path
    return None


# --------------------------------------------------------------------------------------------
# Checksums and download
# --------------------------------------------------------------------------------------------

def _max_gz_bytes(name):
    """The largest a gzip file of ``name``'s content can be (stored blocks, a generous header)."""
    size = SIZES[name]
    return size + 5 * (size // 65535 + 1) + 4096


def _load_checked(path, name, checksums):
    """``(raw bytes or None, problem or None, format error or None)`` for the local file ``path``.

    The file is read once: a ``.gz`` passes when its MD5 is the published one, or when its
    decompressed content has the published SHA-256 (a re-compressed copy of the same content has
    other gzip bytes: the training images in the project's shared dataset folder are such a copy,
    MD5 c7dfcf1bfd3481a40f7b3aedbdbd083c instead of f68b3c2d...); an uncompressed file passes by
    the SHA-256 alone. ``raw`` is the decompressed content, for the reader.
    """
    md5, sha256 = checksums[name]
    data = Path(path).read_bytes()
    actual_md5 = None
    if _is_gz(path):
        actual_md5 = hashlib.md5(data, usedforsecurity=False).hexdigest()
        try:
            raw = gzip.decompress(data)
        except (EOFError, gzip.BadGzipFile, zlib.error) as exc:
            # EOFError: "Compressed file ended before the end-of-stream marker was reached"
            error = MNISTFormatError(f"{path}: truncated or corrupt gzip file ({exc}); delete "
                                     "it and download it again")
            return None, (f"MD5 {actual_md5} is not the published {md5}, and the file is not a "
                          f"valid gzip file ({exc})"), error
        if actual_md5 == md5:
            return raw, None, None
    else:
        raw = data
    if sha256 is None:
        problem = (f"MD5 {actual_md5} is not the published {md5}" if actual_md5 else
                   "no checksum is published for the uncompressed file")
        return raw, problem, None
    actual_sha = hashlib.sha256(raw).hexdigest()
    if actual_sha == sha256:
        return raw, None, None
    if actual_md5 is None:
        return raw, f"SHA-256 {actual_sha} is not the published {sha256}", None
    return raw, (f"MD5 {actual_md5} is not the published {md5}, and the SHA-256 of the "
                 f"decompressed content {actual_sha} is not the published {sha256}"), None


def _verify(path, name, checksums=None):
    """None when ``path`` holds the genuine file ``name``, else the reason why not."""
    return _load_checked(path, name, FILES if checksums is None else checksums)[1]


def _choose(root, name, checksums, folder):
    """The copy of ``name`` to read: ``(path, raw, problem, error)`` of the first candidate that
    passes its checksum, else of the first one present (with its problem), else None."""
    first = None
    for path in _candidates(root, name, folder):
        if not path.is_file():
            continue
        raw, problem, error = _load_checked(path, name, checksums)
        if problem is None:
            return path, raw, None, None
        if first is None:
            first = (path, raw, problem, error)
    return first


def download_idx_files(root, checksums, mirrors, *, files=None, timeout=30.0,
                       deadline=DEFAULT_DEADLINE, quiet=False, what="MNIST", folder="MNIST"):
    """Download IDX files (MNIST's or Fashion-MNIST's: ``checksums`` is ``FILES`` or
    ``FASHION_FILES``) into ``root``; see ``download_mnist``."""
    root = Path(root).expanduser()
    names = list(checksums if files is None else files)
    unknown = [n for n in names if n not in checksums]
    if unknown:
        raise ValueError(f"download {what}: unknown file name(s) {unknown}; known: "
                         f"{list(checksums)}")
    mirrors = list(mirrors)
    found, wanted = {}, []
    for name in names:
        # temporaries of killed downloads of this file: whether or not it is fetched now
        sweep_stale_temporaries(os.fspath(root), name + ".gz")
        local = [(path, _verify(path, name, checksums))
                 for path in _candidates(root, name, folder) if path.is_file()]
        good = [path for path, problem in local if problem is None]
        if good:
            found[name] = good[0]
            continue
        corrupt = "\n".join(f"The local file {path} is corrupt ({problem}); it was not used: "
                            "delete it, or replace it with a good copy." for path, problem in local)
        md5, sha256 = checksums[name]
        wanted.append((name + ".gz",
                       lambda md5=md5, sha256=sha256, name=name:
                       _download.GzipContentCheck(md5, sha256, SIZES[name]),
                       _max_gz_bytes(name), corrupt or None))
    remedy = (f"Copy the {what} files ({', '.join(checksums)}, each gzipped or not) into "
              f"{root} by hand, or try again with other mirrors.")
    try:
        fetched = _download.download(root, wanted, mirrors, timeout=timeout, deadline=deadline,
                                     quiet=quiet, what=what, remedy=remedy)
    except DownloadError as exc:
        raise MNISTDownloadError(str(exc)) from None
    found.update({filename[:-3]: path for filename, path in fetched.items()})
    return {name: found[name] for name in names}


def download_mnist(root, mirrors=None, *, files=None, timeout=30.0, deadline=None, quiet=False):
    """Download the MNIST files into the directory ``root`` (created if missing).

    Each file is fetched as ``NAME.gz`` from ``mirrors`` (default ``MNIST.mirrors``), tried in
    order; a mirror that fails -- unreachable, an HTTP error, a short read, a checksum mismatch,
    a Content-Length or body larger than the file can be, slower than ``deadline`` -- is followed
    by the next one. A file is only moved into place once its checksum is verified, so a failed
    download leaves nothing behind (and a killed one leaves a temporary file that the next
    download sweeps). Files already present under ``root`` (in any of the places ``MNIST``
    looks) and passing their checksum are not downloaded again.

    Args:
        root: directory to download into.
        mirrors: base URLs, each ending in ``/``; ``NAME.gz`` is appended.
        files: the file names (without ``.gz``) to fetch; default all four.
        timeout: seconds to wait for a connection, and for each read, before giving up a mirror.
        deadline: seconds one file may take from one mirror in all (default
            ``MNIST.download_deadline``, 600; the CLI's ``--download-timeout``).
        quiet: do not print progress to stderr.

    Returns:
        ``{name: path}`` of a verified file for each name.

    Raises:
        MNISTDownloadError: when every mirror failed for a file; the message lists each URL
            tried and why it failed, and names any local copy that is there but corrupt.
    """
    return download_idx_files(
        root, FILES, MNIST.mirrors if mirrors is None else mirrors, files=files,
        timeout=timeout, deadline=MNIST.download_deadline if deadline is None else deadline,
        quiet=quiet, what="MNIST")


# --------------------------------------------------------------------------------------------
# The dataset
# --------------------------------------------------------------------------------------------

class MNIST(Dataset):
    """The MNIST dataset, like ``torchvision.datasets.MNIST`` but without PIL or torchvision.

    Args:
        root: a directory holding the IDX files (each gzipped or not), either directly or in
            torchvision's layout ``root/MNIST/raw`` (``root/raw`` also works).
        train: the 60,000 training images if True, the 10,000 test images if False.
        transform: applied to each image, a ``(28, 28)`` uint8 NumPy array (torchvision passes a
            PIL image here; ``transforms.ToTensor`` accepts both).
        target_transform: applied to each label, a Python int.
        download: when the split's files are not found, download them into ``root`` (see
            ``download_mnist``; the mirrors are ``MNIST.mirrors``, tried in order). Unlike
            torchvision, only the requested split is fetched; the other one is fetched when it
            is asked for.

    Attributes:
        data: uint8 Tensor ``(N, 28, 28)``; targets: int64 Tensor ``(N,)``.

    ``dataset[i]`` is ``(image, label)`` with the transforms applied, as in torchvision.
    """

    mirrors = list(MIRRORS)
    folder = "MNIST"                     # torchvision's layout: root/MNIST/raw
    files = FILES                        # name -> (MD5 of NAME.gz, SHA-256 of the content)
    download_deadline = DEFAULT_DEADLINE  # seconds per file and mirror (--download-timeout)
    resources = [(name + ".gz", md5) for name, (md5, _) in FILES.items()]
    classes = ["0 - zero", "1 - one", "2 - two", "3 - three", "4 - four",
               "5 - five", "6 - six", "7 - seven", "8 - eight", "9 - nine"]

    def __init__(self, root, train=True, transform=None, target_transform=None, download=False):
        self.root = os.fspath(Path(root).expanduser())
        self.train = train
        self.transform = transform
        self.target_transform = target_transform
        names = (TRAIN_IMAGES, TRAIN_LABELS) if train else (TEST_IMAGES, TEST_LABELS)
        kind = type(self).__name__

        chosen = {name: _choose(self.root, name, self.files, self.folder) for name in names}
        if download:
            unverified = [name for name, c in chosen.items() if c is None or c[2] is not None]
            if unverified:
                download_idx_files(self.root, self.files, self.mirrors, files=unverified,
                                   deadline=self.download_deadline, what=kind,
                                   folder=self.folder)
                chosen = {name: _choose(self.root, name, self.files, self.folder) for name in names}
        missing = [name for name, c in chosen.items() if c is None]
        if missing:
            tried = "\n".join(f"  {p}" for name in missing
                              for p in _candidates(self.root, name, self.folder))
            raise MNISTNotFoundError(
                f"{kind} {'training' if train else 'test'} data not found under {self.root}; "
                f"missing {', '.join(missing)}. Tried:\n{tried}\n"
                f"Pass download=True to download it, or copy the four {kind} files "
                f"({', '.join(FILES)}, each gzipped as NAME.gz or not) into {self.root}.")
        for name, (path, raw, problem, error) in chosen.items():
            if error is not None:
                raise error
            if download and problem is not None:  # cannot happen: download verified it
                raise MNISTFormatError(f"{path}: {problem}")

        (image_path, images), (label_path, labels) = (
            (chosen[n][0], chosen[n][1]) for n in names)
        images = read_image_file(image_path, _raw=images)
        labels = read_label_file(label_path, _raw=labels)
        if len(images) != len(labels):
            raise MNISTFormatError(
                f"{image_path} holds {len(images)} images but {label_path} holds "
                f"{len(labels)} labels; they must match")
        self.data = Tensor(images)
        self.targets = Tensor(labels.astype(np.int64))

    @property
    def class_to_idx(self):
        return {name: i for i, name in enumerate(self.classes)}

    def __len__(self):
        return self.data.shape[0]

    def __getitem__(self, index):
        img, target = self.data.array[index], int(self.targets.array[index])
        if self.transform is not None:
            img = self.transform(img)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return img, target

    def extra_repr(self):
        return f"Split: {'Train' if self.train else 'Test'}"

    def __repr__(self):
        lines = [f"Dataset {type(self).__name__}",
                 f"    Number of datapoints: {len(self)}",
                 f"    Root location: {self.root}",
                 f"    {self.extra_repr()}"]
        if self.transform is not None:
            lines.append("    Transform: " + repr(self.transform).replace("\n", "\n    "))
        if self.target_transform is not None:
            lines.append("    Target transform: "
                         + repr(self.target_transform).replace("\n", "\n    "))
        return "\n".join(lines)


class FashionMNIST(MNIST):
    """Fashion-MNIST (Zalando Research), like ``torchvision.datasets.FashionMNIST``: 28x28
    grayscale images of 10 kinds of clothing, in MNIST's format and file names (so it is read
    exactly as ``MNIST`` is, from ``root``, ``root/FashionMNIST/raw`` or ``root/raw``), with its
    own mirror and checksums (``FASHION_FILES``). Only MD5s of the ``.gz`` files are published,
    so with ``download=True`` an uncompressed copy is not trusted and the ``.gz`` is fetched.
    """

    mirrors = list(FASHION_MIRRORS)
    folder = "FashionMNIST"
    files = FASHION_FILES
    resources = [(name + ".gz", md5) for name, (md5, _) in FASHION_FILES.items()]
    classes = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt",
               "Sneaker", "Bag", "Ankle boot"]
