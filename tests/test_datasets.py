"""CIFAR10 (the binary release) and ImageFolder, on files the tests write and a loopback mirror.

A small CIFAR-10 binary release is built here (records of a label byte and the R, G, B planes),
packed into a tar.gz, served over HTTP on 127.0.0.1; the checksum the class expects is that
archive's (a subclass sets it), the real one is checked as a constant.
"""
from __future__ import annotations

import hashlib
import io
import os
import tarfile
from pathlib import Path

import numpy as np
import pytest

from tinygrad_mnist import transforms as T
from tinygrad_mnist.datasets import (CIFAR10, CIFARFormatError, DownloadError, ImageFolder,
                                     IMG_EXTENSIONS)
from tinygrad_mnist.datasets.cifar import extract_archive
from tinygrad_mnist.utils.data import DataLoader

from loopback import HugeLengthHandler, closed_port_url, serve

Image = pytest.importorskip("PIL.Image")

CLASSES = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship",
           "truck"]
SIZES = {"data_batch_1.bin": 3, "data_batch_2.bin": 2, "data_batch_3.bin": 4,
         "data_batch_4.bin": 1, "data_batch_5.bin": 2, "test_batch.bin": 5}


def records(images, labels):
    """The binary release's bytes: per record the label, then the R, G and B planes."""
    return b"".join(bytes([int(y)]) + img.transpose(2, 0, 1).tobytes()
                    for img, y in zip(images, labels))


def fake_release(seed=0):
    """{member name: bytes} of a small CIFAR-10 binary release, and the images and labels."""
    rng = np.random.default_rng(seed)
    members, truth = {}, {}
    for name, n in SIZES.items():
        images = rng.integers(0, 256, (n, 32, 32, 3), dtype=np.uint8)
        labels = rng.integers(0, 10, n)
        members[f"cifar-10-batches-bin/{name}"] = records(images, labels)
        truth[name] = (images, labels)
    members["cifar-10-batches-bin/batches.meta.txt"] = ("\n".join(CLASSES) + "\n\n").encode()
    members["cifar-10-batches-bin/readme.html"] = b"<html></html>"
    return members, truth


def targz(members, extra=()):
    """A tar.gz of ``members`` (name -> bytes), plus ``extra`` ready-made TarInfos."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        info = tarfile.TarInfo("cifar-10-batches-bin")
        info.type = tarfile.DIRTYPE
        tar.addfile(info)
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        for info in extra:
            tar.addfile(info, io.BytesIO(b"x" * info.size) if info.isfile() else None)
    return buf.getvalue()


def write_release(root, members):
    for name, data in members.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(data)


@pytest.fixture(scope="module")
def release():
    return fake_release()


@pytest.fixture
def cifar_mirror(release, tmp_path):
    """A mirror serving the fake archive, and a CIFAR10 subclass that trusts its MD5."""
    archive = targz(release[0])
    served = tmp_path / "served"
    served.mkdir()
    (served / CIFAR10.filename).write_bytes(archive)
    with serve(served) as url:
        class Local(CIFAR10):
            mirrors = [url]
            tgz_md5 = hashlib.md5(archive).hexdigest()
            archive_size = len(archive)
        yield url, Local, archive


def test_published_archive_constants():
    assert CIFAR10.filename == "cifar-10-binary.tar.gz"
    assert CIFAR10.tgz_md5 == "c32a1d4ab5d03f1284b67883e8d87530"
    assert CIFAR10.archive_size == 170052171
    assert CIFAR10.mirrors == ["https://www.cs.toronto.edu/~kriz/"]


def test_reads_the_binary_records_as_torchvision_gives_them(release, tmp_path):
    members, truth = release
    write_release(tmp_path, members)
    train = CIFAR10(tmp_path, train=True)
    assert len(train) == 12 and train.data.shape == (12, 32, 32, 3) and train.data.dtype == np.uint8
    want = np.concatenate([truth[f"data_batch_{i}.bin"][0] for i in range(1, 6)])
    assert np.array_equal(train.data, want)
    assert train.targets == sum((truth[f"data_batch_{i}.bin"][1].tolist() for i in range(1, 6)), [])
    assert train.classes == CLASSES and train.class_to_idx["cat"] == 3
    img, label = train[4]
    assert isinstance(img, Image.Image) and img.mode == "RGB" and img.size == (32, 32)
    assert np.array_equal(np.asarray(img), want[4]) and isinstance(label, int)
    test = CIFAR10(tmp_path, train=False, transform=T.Compose([T.RandomCrop(32, padding=4),
                                                               T.ToTensor()]),
                   target_transform=lambda y: y + 100)
    x, y = test[0]
    assert x.shape == (3, 32, 32) and y == int(truth["test_batch.bin"][1][0]) + 100
    xb, yb = next(iter(DataLoader(test, batch_size=4)))
    assert xb.shape == (4, 3, 32, 32) and yb.shape == (4,)
    assert "Number of datapoints: 5" in repr(test)


@pytest.mark.parametrize("damage, words", [
    (lambda b: b + b"\x00", "is not a whole number of 3073-byte records"),
    (lambda b: b[:-1], "4 records and 3072 bytes left over"),
    (lambda b: b"", "size 0 bytes"),
    (lambda b: bytes([10]) + b[1:], "label(s) outside 0..9"),
])
def test_damaged_batches_are_named(release, tmp_path, damage, words):
    members, _ = release
    write_release(tmp_path, members)
    path = tmp_path / "cifar-10-batches-bin" / "test_batch.bin"
    path.write_bytes(damage(path.read_bytes()))
    with pytest.raises(CIFARFormatError) as info:
        CIFAR10(tmp_path, train=False)
    assert str(path) in str(info.value) and words in str(info.value)


def test_missing_files_and_meta_are_named(release, tmp_path):
    with pytest.raises(FileNotFoundError, match="pass download=True|Pass download=True") as info:
        CIFAR10(tmp_path)
    assert "data_batch_1.bin" in str(info.value) and "binary version" in str(info.value)
    members, _ = release
    write_release(tmp_path, members)
    (tmp_path / "cifar-10-batches-bin" / "data_batch_3.bin").unlink()
    with pytest.raises(FileNotFoundError, match="missing data_batch_3.bin"):
        CIFAR10(tmp_path)
    assert len(CIFAR10(tmp_path, train=False)) == 5  # the test split does not need it
    (tmp_path / "cifar-10-batches-bin" / "batches.meta.txt").write_text("\n\n")
    with pytest.raises(CIFARFormatError, match="batches.meta.txt: no class names"):
        CIFAR10(tmp_path, train=False)


def test_download_verifies_extracts_and_is_not_repeated(cifar_mirror, release, tmp_path):
    url, Local, archive = cifar_mirror
    root = tmp_path / "root"
    ds = Local(root, train=True, download=True)
    assert len(ds) == 12
    assert (root / CIFAR10.filename).read_bytes() == archive
    assert sorted(p.name for p in (root / "cifar-10-batches-bin").iterdir()) == \
        sorted(Path(n).name for n in release[0])
    class Offline(Local):
        mirrors = [closed_port_url()]
    assert len(Offline(root, train=False, download=True)) == 5  # present: no network needed
    # files gone but the verified archive there: extracted again, still without the network
    for p in (root / "cifar-10-batches-bin").iterdir():
        p.unlink()
    assert len(Offline(root, train=False, download=True)) == 5


def test_download_refuses_a_wrong_md5_and_an_oversized_answer(cifar_mirror, release, tmp_path):
    url, Local, archive = cifar_mirror
    class WrongMD5(Local):
        tgz_md5 = "0" * 32
    with pytest.raises(DownloadError) as info:
        WrongMD5(tmp_path / "a", download=True)
    assert "checksum mismatch" in str(info.value) and hashlib.md5(archive).hexdigest() in str(info.value)
    assert not (tmp_path / "a" / CIFAR10.filename).exists()
    with serve(tmp_path / "served", HugeLengthHandler) as huge:
        class Huge(Local):
            mirrors = [huge]
        with pytest.raises(DownloadError, match="Content-Length 10000000000 is larger"):
            Huge(tmp_path / "b", download=True)
    # a corrupt local archive with the mirrors down: named, with its MD5 and the expected one
    (tmp_path / "c").mkdir()
    (tmp_path / "c" / CIFAR10.filename).write_bytes(archive[:-10])
    class Down(Local):
        mirrors = [closed_port_url()]
    with pytest.raises(DownloadError) as info:
        Down(tmp_path / "c", download=True)
    message = str(info.value)
    assert f"The local file {tmp_path / 'c' / CIFAR10.filename} is corrupt" in message
    assert hashlib.md5(archive[:-10]).hexdigest() in message and Local.tgz_md5 in message


def _member(name, kind, **kw):
    info = tarfile.TarInfo(name)
    info.type = kind
    for k, v in kw.items():
        setattr(info, k, v)
    return info


@pytest.mark.parametrize("evil, words", [
    (_member("../escaped.bin", tarfile.REGTYPE, size=3), "would be written outside"),
    (_member("/tmp/absolute.bin", tarfile.REGTYPE, size=3), "would be written outside"),
    (_member("cifar-10-batches-bin/../../up.bin", tarfile.REGTYPE, size=3), "outside"),
    (_member("cifar-10-batches-bin/link", tarfile.SYMTYPE, linkname="/etc/passwd"),
     "is a symbolic link"),
    (_member("cifar-10-batches-bin/hard", tarfile.LNKTYPE, linkname="cifar-10-batches-bin/x"),
     "is a hard link"),
    (_member("cifar-10-batches-bin/dev", tarfile.CHRTYPE, devmajor=1, devminor=3), "is a device"),
    (_member("cifar-10-batches-bin/pipe", tarfile.FIFOTYPE), "is a fifo"),
])
def test_unsafe_archives_are_refused_whole(release, tmp_path, evil, words):
    archive = tmp_path / "evil.tar.gz"
    archive.write_bytes(targz(release[0], extra=[evil]))
    root = tmp_path / "root"
    root.mkdir()
    with pytest.raises(CIFARFormatError) as info:
        extract_archive(archive, root)
    assert words in str(info.value) and repr(evil.name) in str(info.value)
    assert list(root.iterdir()) == [] and not (tmp_path / "escaped.bin").exists()


def test_a_damaged_archive_is_a_format_error(release, tmp_path):
    archive = tmp_path / "bad.tar.gz"
    archive.write_bytes(targz(release[0])[:5000])
    with pytest.raises(CIFARFormatError, match="not a readable tar.gz archive"):
        extract_archive(archive, tmp_path / "root")


# ------------------------------------------------------------------------------ ImageFolder

def save(path, mode="RGB", color=0, size=(4, 3)):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new(mode, size, color).save(path)
    return path


def test_image_folder_classes_samples_and_order(tmp_path):
    root = tmp_path / "imgs"
    save(root / "zebra" / "b.png")
    save(root / "zebra" / "a.PNG", mode="L", color=200)  # any case; L becomes RGB
    save(root / "zebra" / "deeper" / "c.jpg")
    save(root / "ant" / "x.bmp", color=(255, 0, 0))
    (root / "ant" / "notes.txt").write_text("not an image")
    (root / "cat").mkdir()
    os.symlink(root / "zebra" / "deeper", root / "cat" / "linked")  # walked: links followed
    (root / "stray.png").write_bytes(b"")  # a file at the top level is not a class
    ds = ImageFolder(root)
    assert ds.classes == ["ant", "cat", "zebra"]
    assert ds.class_to_idx == {"ant": 0, "cat": 1, "zebra": 2}
    rel = [(os.path.relpath(p, root), y) for p, y in ds.samples]
    assert rel == [("ant/x.bmp", 0), ("cat/linked/c.jpg", 1), ("zebra/a.PNG", 2),
                   ("zebra/b.png", 2), ("zebra/deeper/c.jpg", 2)]
    assert ds.targets == [0, 1, 2, 2, 2] and ds.imgs is ds.samples and len(ds) == 5
    img, y = ds[2]
    assert img.mode == "RGB" and np.asarray(img)[0, 0].tolist() == [200, 200, 200] and y == 2
    assert ".webp" in IMG_EXTENSIONS
    loaded = ImageFolder(root, transform=T.Compose([T.Resize((8, 8)), T.ToTensor()]),
                         target_transform=str)
    x, y = loaded[0]
    assert x.shape == (3, 8, 8) and y == "0"
    xb, yb = next(iter(DataLoader(ImageFolder(root, transform=T.ToTensor()), batch_size=5)))
    assert xb.shape == (5, 3, 3, 4) and yb.tolist() == [0, 1, 2, 2, 2]


def test_image_folder_options_and_errors(tmp_path):
    root = tmp_path / "imgs"
    save(root / "a" / "1.png")
    save(root / "b" / "2.gif", mode="P")
    with pytest.raises(FileNotFoundError, match="Found no valid file for the classes b"):
        ImageFolder(root)
    assert len(ImageFolder(root, allow_empty=True)) == 1
    ds = ImageFolder(root, is_valid_file=lambda p: p.endswith((".png", ".gif")))
    assert [y for _, y in ds.samples] == [0, 1]
    assert ds[1][0].mode == "RGB"
    custom = ImageFolder(root, loader=lambda p: Path(p).name, allow_empty=True)
    assert custom[0] == ("1.png", 0)
    with pytest.raises(FileNotFoundError, match="Couldn't find any class folder"):
        ImageFolder(root / "a")
    with pytest.raises(FileNotFoundError):
        ImageFolder(tmp_path / "nowhere")
    broken = save(root / "a" / "0.png")
    broken.write_bytes(b"\x89PNG not really")
    with pytest.raises(OSError, match=str(broken)):
        ImageFolder(root, allow_empty=True)[0]
