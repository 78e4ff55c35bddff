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
in turn, streams it into a temporary file next to its destination, verifies the checksum and only
then renames it into place, so a failed or corrupt download never leaves a file behind.
"""
from __future__ import annotations

import gzip
import hashlib
import http.client
import math
import os
import sys
import tempfile
import urllib.request
import zlib
from pathlib import Path

import numpy as np

from ..tensor import Tensor
from ..utils.data import Dataset

__all__ = [
    "MNIST", "MNISTFormatError", "MNISTNotFoundError", "MNISTDownloadError", "MIRRORS",
    "FILES", "download_mnist", "read_idx", "read_image_file", "read_label_file",
    "find_mnist_file",
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

IMAGE_MAGIC = 2051  # 0x00000803: unsigned bytes, 3 dimensions
LABEL_MAGIC = 2049  # 0x00000801: unsigned bytes, 1 dimension
IMAGE_SIZE = (28, 28)
NUM_CLASSES = 10

_CHUNK = 1 << 20


class MNISTFormatError(ValueError):
    """A local MNIST file is not what it should be (bad magic, dims, size, gzip, labels...)."""


class MNISTNotFoundError(FileNotFoundError):
    """The MNIST files are not where they were looked for."""


class MNISTDownloadError(OSError):
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
    raw = _read_bytes(path)
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


def read_image_file(path):
    """Read an MNIST image file: a ``(N, 28, 28)`` uint8 array, checked (magic 2051, 28x28)."""
    magic, images = read_idx(path)
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


def read_label_file(path, num_classes=NUM_CLASSES):
    """Read an MNIST label file: an ``(N,)`` uint8 array, checked (magic 2049, labels 0..9)."""
    magic, labels = read_idx(path)
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

def _search_dirs(root):
    """Where the files may be: ``root`` itself, torchvision's ``root/MNIST/raw``, ``root/raw``."""
    root = Path(root).expanduser()
    return [root, root / "MNIST" / "raw", root / "raw"]


def _candidates(root, name):
    """Every path that may hold ``name``, in the order they are tried (uncompressed first)."""
    return [d / filename for d in _search_dirs(root) for filename in (name, name + ".gz")]


def find_mnist_file(root, name):
    """The first existing file among ``_candidates(root, name)``, or None."""
    for path in _candidates(root, name):
        if path.is_file():
            return path
    return None


# --------------------------------------------------------------------------------------------
# Checksums and download
# --------------------------------------------------------------------------------------------

def _md5(path):
    digest = hashlib.md5(usedforsecurity=False)
    with open(path, "rb") as f:
        while chunk := f.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _content_sha256(path, compressed):
    """SHA-256 of the file's content, decompressed first when ``compressed``."""
    digest = hashlib.sha256()
    with (gzip.open(path, "rb") if compressed else open(path, "rb")) as f:
        while chunk := f.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _verify(path, name, compressed=None):
    """None when ``path`` holds the genuine MNIST file ``name``, else the reason why not.

    ``compressed`` says whether ``path`` is gzipped (default: its name ends in ``.gz``).

    A gzipped file passes when its MD5 is the published one. The published MD5s are those of the
    original gzip files, and a re-compressed copy of the very same content has other gzip bytes
    (the training images in the project's shared dataset folder are such a copy: MD5
    c7dfcf1bfd3481a40f7b3aedbdbd083c instead of f68b3c2d...), so a gzipped file also passes when
    its *decompressed* content has the published SHA-256. An uncompressed file is checked by the
    SHA-256 alone.
    """
    md5, sha256 = FILES[name]
    if compressed is None:
        compressed = _is_gz(path)
    if not compressed:
        actual_sha = _content_sha256(path, compressed=False)
        return None if actual_sha == sha256 else \
            f"SHA-256 {actual_sha} is not the published {sha256}"
    actual_md5 = _md5(path)
    if actual_md5 == md5:
        return None
    try:
        actual_sha = _content_sha256(path, compressed=True)
    except (EOFError, gzip.BadGzipFile, zlib.error) as exc:
        return (f"MD5 {actual_md5} is not the published {md5}, and the file is not a valid "
                f"gzip file ({exc})")
    if actual_sha == sha256:
        return None
    return (f"MD5 {actual_md5} is not the published {md5}, and the SHA-256 of the decompressed "
            f"content {actual_sha} is not the published {sha256}")


def _find_valid(root, name):
    """An existing file for ``name`` under ``root`` that passes its checksum, or None."""
    for path in _candidates(root, name):
        if path.is_file() and _verify(path, name) is None:
            return path
    return None


def _url(mirror, filename):
    return mirror + filename if mirror.endswith("/") else f"{mirror}/{filename}"


def _fetch(url, dest, name, timeout):
    """Stream ``url`` into a temporary file beside ``dest``, verify it, then move it into place.

    On any failure (network, HTTP status, short read, checksum, even KeyboardInterrupt) the
    temporary file is removed and the exception propagates: ``dest`` is only ever created or
    replaced, atomically, by a verified file.
    """
    fd, tmp = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".part", dir=dest.parent)
    try:
        with os.fdopen(fd, "wb") as out, urllib.request.urlopen(url, timeout=timeout) as response:
            while chunk := response.read(_CHUNK):
                out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
        problem = _verify(tmp, name, compressed=True)
        if problem is not None:
            raise MNISTFormatError(f"checksum mismatch: {problem}")
        os.chmod(tmp, 0o644)  # mkstemp creates the file 0600
        os.replace(tmp, dest)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    return dest


# What a mirror may fail with: URLError/HTTPError/timeouts/refused connections are OSErrors,
# a short read is an http.client.IncompleteRead, a bad URL or a bad checksum a ValueError.
_MIRROR_ERRORS = (OSError, http.client.HTTPException, ValueError, EOFError, zlib.error)


def download_mnist(root, mirrors=None, *, files=None, timeout=30.0, quiet=False):
    """Download the MNIST files into the directory ``root`` (created if missing).

    Each file is fetched as ``NAME.gz`` from ``mirrors`` (default ``MNIST.mirrors``), tried in
    order; a mirror that fails -- unreachable, an HTTP error, a short read, a checksum mismatch --
    is followed by the next one. A file is only moved into place once its checksum is verified,
    so a failed download leaves nothing behind. Files already present under ``root`` (in any of
    the places ``MNIST`` looks) and passing their checksum are not downloaded again.

    Args:
        root: directory to download into.
        mirrors: base URLs, each ending in ``/``; ``NAME.gz`` is appended.
        files: the file names (without ``.gz``) to fetch; default all four.
        timeout: seconds ``urllib`` waits on a connection or a read before giving up a mirror.
        quiet: do not print progress to stderr.

    Returns:
        ``{name: path}`` of a verified file for each name.

    Raises:
        MNISTDownloadError: when every mirror failed for a file; the message lists each URL
            tried and why it failed.
    """
    root = Path(root).expanduser()
    mirrors = list(MNIST.mirrors if mirrors is None else mirrors)
    names = list(FILES if files is None else files)
    unknown = [n for n in names if n not in FILES]
    if unknown:
        raise ValueError(f"download_mnist: unknown file name(s) {unknown}; known: {list(FILES)}")
    if not mirrors:
        raise ValueError("download_mnist: no mirrors given")
    root.mkdir(parents=True, exist_ok=True)

    found = {}
    for name in names:
        existing = _find_valid(root, name)
        if existing is not None:
            found[name] = existing
            continue
        dest = root / (name + ".gz")
        failures = []
        for mirror in mirrors:
            url = _url(mirror, name + ".gz")
            if not quiet:
                print(f"Downloading {url} to {dest}", file=sys.stderr, flush=True)
            try:
                found[name] = _fetch(url, dest, name, timeout)
                break
            except _MIRROR_ERRORS as exc:
                failures.append(f"  {url}: {type(exc).__name__}: {exc}")
                if not quiet:
                    print(f"Failed: {exc}", file=sys.stderr, flush=True)
        else:
            raise MNISTDownloadError(
                f"could not download {name}.gz into {root}: every mirror failed:\n"
                + "\n".join(failures)
                + f"\nCopy the MNIST files ({', '.join(FILES)}, each gzipped or not) into {root} "
                  "by hand, or try again with other mirrors.")
    return found


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
    resources = [(name + ".gz", md5) for name, (md5, _) in FILES.items()]
    classes = ["0 - zero", "1 - one", "2 - two", "3 - three", "4 - four",
               "5 - five", "6 - six", "7 - seven", "8 - eight", "9 - nine"]

    def __init__(self, root, train=True, transform=None, target_transform=None, download=False):
        self.root = os.fspath(Path(root).expanduser())
        self.train = train
        self.transform = transform
        self.target_transform = target_transform
        image_name, label_name = (TRAIN_IMAGES, TRAIN_LABELS) if train else \
            (TEST_IMAGES, TEST_LABELS)

        paths = {name: find_mnist_file(self.root, name) for name in (image_name, label_name)}
        if download and None in paths.values():
            download_mnist(self.root, mirrors=self.mirrors,
                           files=[name for name, path in paths.items() if path is None])
            paths = {name: find_mnist_file(self.root, name) for name in paths}
        missing = [name for name, path in paths.items() if path is None]
        if missing:
            tried = "\n".join(f"  {p}" for name in missing for p in _candidates(self.root, name))
            raise MNISTNotFoundError(
                f"MNIST {'training' if train else 'test'} data not found under {self.root}; "
                f"missing {', '.join(missing)}. Tried:\n{tried}\n"
                f"Pass download=True to download it, or copy the four MNIST files "
                f"({', '.join(FILES)}, each gzipped as NAME.gz or not) into {self.root}.")

        images = read_image_file(paths[image_name])
        labels = read_label_file(paths[label_name])
        if len(images) != len(labels):
            raise MNISTFormatError(
                f"{paths[image_name]} holds {len(images)} images but {paths[label_name]} holds "
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
