"""MNIST reader, checks and downloader, and the transforms, on real files and real HTTP.

The downloads go to a loopback HTTP server (``http.server`` in a thread on 127.0.0.1) serving the
real MNIST .gz files, so nothing here needs the network; broken inputs are small crafted IDX files
written into ``tmp_path``.
"""
from __future__ import annotations

import gzip
import shutil
import socket
import struct
from pathlib import Path

import numpy as np
import pytest

import tinygrad_mnist.transforms as T
from tinygrad_mnist.datasets import (MNIST, MNISTDownloadError, MNISTFormatError,
                                     MNISTNotFoundError, download_mnist)
from tinygrad_mnist.datasets.mnist import (FILES, TEST_IMAGES, TEST_LABELS, TRAIN_IMAGES,
                                           TRAIN_LABELS, read_idx, read_image_file,
                                           read_label_file)
from tinygrad_mnist.tensor import Tensor

from loopback import ShortReadHandler, closed_port_url, serve


# ------------------------------------------------------------------------------------ helpers

@pytest.fixture(scope="module")
def real_mnist(mnist_root):
    return mnist_root


def idx_bytes(array, magic=None):
    """An IDX file's bytes for a uint8 array (magic: 0x0803 style, from the array's ndim)."""
    array = np.ascontiguousarray(array, dtype=np.uint8)
    magic = 0x0800 | array.ndim if magic is None else magic
    return struct.pack(">I", magic) + struct.pack(f">{array.ndim}I", *array.shape) + \
        array.tobytes()


def write_idx(path, array, magic=None, gz=None):
    """Write an IDX file (gzipped when the name ends in .gz) and return its path."""
    data = idx_bytes(array, magic)
    path = Path(path)
    if gz if gz is not None else path.suffix == ".gz":
        data = gzip.compress(data)
    path.write_bytes(data)
    return path


def tiny_split(root, n=5, train=False, gz=True, images=None, labels=None):
    """Write a small valid split (n images and labels) into root."""
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8) if images is None else images
    labels = rng.integers(0, 10, size=n, dtype=np.uint8) if labels is None else labels
    img_name, lbl_name = (TRAIN_IMAGES, TRAIN_LABELS) if train else (TEST_IMAGES, TEST_LABELS)
    ext = ".gz" if gz else ""
    write_idx(Path(root) / (img_name + ext), images)
    write_idx(Path(root) / (lbl_name + ext), labels)
    return images, labels


# --------------------------------------------------------------------- the loopback server

@pytest.fixture(scope="module")
def mirror(real_mnist, tmp_path_factory):
    """A good mirror serving the real four .gz files."""
    with serve(real_mnist) as url:
        yield url


@pytest.fixture
def corrupt_mirror(real_mnist, tmp_path):
    """A mirror whose t10k files have one byte flipped in the middle."""
    d = tmp_path / "corrupt_mirror"
    d.mkdir()
    for name in (TEST_IMAGES, TEST_LABELS):
        data = bytearray((real_mnist / (name + ".gz")).read_bytes())
        data[len(data) // 2] ^= 0xFF
        (d / (name + ".gz")).write_bytes(bytes(data))
    with serve(d) as url:
        yield url


def leftovers(directory):
    return sorted(p.name for p in Path(directory).iterdir())


T10K = [TEST_IMAGES, TEST_LABELS]


# ------------------------------------------------------------------------ reading real data

def test_train_set_shapes_dtypes_and_statistics(real_mnist):
    train = MNIST(real_mnist, train=True)
    assert len(train) == 60000
    assert train.data.shape == (60000, 28, 28) and train.data.array.dtype == np.uint8
    assert train.targets.shape == (60000,) and train.targets.array.dtype == np.int64
    # mean and std of pixels / 255 from exact integer sums (255**2 fits in uint16)
    pixels = train.data.array
    n = pixels.size
    total = int(pixels.sum(dtype=np.uint64))
    squares = int(np.square(pixels, dtype=np.uint16).sum(dtype=np.uint64))
    mean = total / n / 255
    std = (squares / n - (total / n) ** 2) ** 0.5 / 255
    assert round(mean, 4) == 0.1307
    assert round(std, 4) == 0.3081
    assert train.targets.array[:5].tolist() == [5, 0, 4, 1, 9]  # the well-known first digits
    assert np.bincount(train.targets.array).tolist()[:2] == [5923, 6742]


def test_test_set_and_getitem(real_mnist):
    test = MNIST(real_mnist, train=False)
    assert test.data.shape == (10000, 28, 28) and len(test) == 10000
    img, label = test[0]
    assert isinstance(img, np.ndarray) and img.shape == (28, 28) and img.dtype == np.uint8
    assert type(label) is int and label == 7
    np.testing.assert_array_equal(img, test.data.array[0])
    assert "Split: Test" in repr(test)


def test_getitem_applies_transforms(real_mnist):
    transform = T.Compose([T.ToTensor(), T.Normalize((0.1307,), (0.3081,))])
    test = MNIST(real_mnist, train=False, transform=transform, target_transform=lambda y: y + 100)
    img, label = test[3]
    assert isinstance(img, Tensor) and img.shape == (1, 28, 28)
    assert img.array.dtype == np.float32
    raw = test.data.array[3].astype(np.float32) / np.float32(255)
    expected = (raw - np.float32(0.1307)) / np.float32(0.3081)
    np.testing.assert_array_equal(img.array[0], expected)
    assert label == int(test.targets.array[3]) + 100


def test_uncompressed_copy_loads_the_same(real_mnist, tmp_path):
    for name in T10K:
        with gzip.open(real_mnist / (name + ".gz")) as src, open(tmp_path / name, "wb") as dst:
            shutil.copyfileobj(src, dst)
    plain, packed = MNIST(tmp_path, train=False), MNIST(real_mnist, train=False)
    np.testing.assert_array_equal(plain.data.array, packed.data.array)
    np.testing.assert_array_equal(plain.targets.array, packed.targets.array)


def test_torchvision_layout(real_mnist, tmp_path):
    raw = tmp_path / "MNIST" / "raw"
    raw.mkdir(parents=True)
    for name in T10K:
        shutil.copy(real_mnist / (name + ".gz"), raw)
    test = MNIST(tmp_path, train=False)
    assert test.data.shape == (10000, 28, 28)


def test_crafted_files_round_trip(tmp_path):
    images, labels = tiny_split(tmp_path, n=7, gz=False)
    ds = MNIST(tmp_path, train=False)
    np.testing.assert_array_equal(ds.data.array, images)
    np.testing.assert_array_equal(ds.targets.array, labels)
    assert ds.data.array.flags.writeable


# ---------------------------------------------------------------------- broken local files

def test_missing_files_name_every_path_tried_and_the_remedy(tmp_path):
    with pytest.raises(MNISTNotFoundError) as info:
        MNIST(tmp_path / "nowhere", train=True)
    message = str(info.value)
    assert isinstance(info.value, FileNotFoundError)
    for name in (TRAIN_IMAGES, TRAIN_LABELS):
        for place in (tmp_path / "nowhere", tmp_path / "nowhere" / "MNIST" / "raw"):
            assert str(place / name) in message
            assert str(place / (name + ".gz")) in message
    assert "download=True" in message and "copy the four MNIST files" in message


def test_missing_labels_only(tmp_path):
    tiny_split(tmp_path)
    (tmp_path / (TEST_LABELS + ".gz")).unlink()
    with pytest.raises(MNISTNotFoundError, match=TEST_LABELS) as info:
        MNIST(tmp_path, train=False)
    assert "missing " + TEST_LABELS in str(info.value)


def test_truncated_gzip(tmp_path):
    tiny_split(tmp_path)
    path = tmp_path / (TEST_IMAGES + ".gz")
    data = path.read_bytes()
    path.write_bytes(data[: len(data) - 20])
    with pytest.raises(MNISTFormatError, match="truncated or corrupt gzip") as info:
        MNIST(tmp_path, train=False)
    assert str(path) in str(info.value)


def test_not_gzip_at_all(tmp_path):
    path = tmp_path / (TEST_LABELS + ".gz")
    path.write_bytes(b"this is not gzip data")
    with pytest.raises(MNISTFormatError, match="gzip") as info:
        read_label_file(path)
    assert str(path) in str(info.value)


def test_truncated_raw_file_names_sizes(tmp_path):
    tiny_split(tmp_path, n=4, gz=False)
    path = tmp_path / TEST_IMAGES
    path.write_bytes(path.read_bytes()[:-100])
    expected = 16 + 4 * 784
    with pytest.raises(MNISTFormatError, match="truncated") as info:
        MNIST(tmp_path, train=False)
    message = str(info.value)
    assert str(path) in message and str(expected) in message and str(expected - 100) in message


def test_trailing_bytes(tmp_path):
    path = tmp_path / TEST_LABELS
    path.write_bytes(idx_bytes(np.zeros(3, np.uint8)) + b"\x00\x01")
    with pytest.raises(MNISTFormatError, match="trailing bytes") as info:
        read_label_file(path)
    assert str(path) in str(info.value)


@pytest.mark.parametrize("gz", [False, True])
def test_wrong_magic_number(tmp_path, gz):
    ext = ".gz" if gz else ""
    tiny_split(tmp_path, gz=gz)
    # a label file where the image file should be
    write_idx(tmp_path / (TEST_IMAGES + ext), np.zeros(5, np.uint8))
    with pytest.raises(MNISTFormatError, match="wrong magic number 2049") as info:
        MNIST(tmp_path, train=False)
    assert str(tmp_path / (TEST_IMAGES + ext)) in str(info.value) and "2051" in str(info.value)


def test_not_an_idx_file(tmp_path):
    path = write_idx(tmp_path / TEST_LABELS, np.zeros(5, np.uint8), magic=0x12345601)
    with pytest.raises(MNISTFormatError, match="not an unsigned-byte IDX file") as info:
        read_idx(path)
    assert str(path) in str(info.value) and str(0x12345601) in str(info.value)


def test_wrong_image_dims(tmp_path):
    tiny_split(tmp_path, images=np.zeros((5, 28, 27), np.uint8))
    with pytest.raises(MNISTFormatError, match="28x27") as info:
        MNIST(tmp_path, train=False)
    assert str(tmp_path / (TEST_IMAGES + ".gz")) in str(info.value)


def test_image_label_count_mismatch(tmp_path):
    tiny_split(tmp_path, images=np.zeros((5, 28, 28), np.uint8), labels=np.zeros(4, np.uint8))
    with pytest.raises(MNISTFormatError) as info:
        MNIST(tmp_path, train=False)
    message = str(info.value)
    assert "5 images" in message and "4 labels" in message
    assert str(tmp_path / (TEST_IMAGES + ".gz")) in message
    assert str(tmp_path / (TEST_LABELS + ".gz")) in message


def test_labels_out_of_range(tmp_path):
    tiny_split(tmp_path, labels=np.array([0, 9, 3, 10, 255], np.uint8))
    expected = r"2 label\(s\) outside 0..9, the first is 10 at index 3"
    with pytest.raises(MNISTFormatError, match=expected) as info:
        MNIST(tmp_path, train=False)
    assert str(tmp_path / (TEST_LABELS + ".gz")) in str(info.value)


def test_read_image_file_checks_magic_of_label_file(tmp_path):
    path = write_idx(tmp_path / "x", np.zeros((2, 28, 28), np.uint8))
    with pytest.raises(MNISTFormatError, match="that is an image file"):
        read_label_file(path)
    assert read_image_file(path).shape == (2, 28, 28)


# ----------------------------------------------------------------------------------- download

def test_download_succeeds_and_verifies(mirror, tmp_path):
    root = tmp_path / "new" / "dir"
    found = download_mnist(root, mirrors=[mirror], files=T10K, quiet=True)
    assert leftovers(root) == sorted(name + ".gz" for name in T10K)
    assert found == {name: root / (name + ".gz") for name in T10K}
    assert MNIST(root, train=False).data.shape == (10000, 28, 28)


def test_mnist_download_true_fetches_the_split(mirror, tmp_path):
    # The served training images are a re-compressed copy: their MD5 is not the published one,
    # and they pass through the SHA-256 of their content.
    class LocalMNIST(MNIST):
        mirrors = [mirror]

    ds = LocalMNIST(tmp_path, train=True, download=True)
    assert ds.data.shape == (60000, 28, 28)
    assert leftovers(tmp_path) == [TRAIN_IMAGES + ".gz", TRAIN_LABELS + ".gz"]
    assert len(LocalMNIST(tmp_path, train=False, download=True)) == 10000
    assert leftovers(tmp_path) == sorted(name + ".gz" for name in FILES)


def test_corrupt_payload_is_rejected_and_leaves_nothing(corrupt_mirror, tmp_path):
    root = tmp_path / "root"
    with pytest.raises(MNISTDownloadError) as info:
        download_mnist(root, mirrors=[corrupt_mirror], files=[TEST_LABELS], quiet=True)
    message = str(info.value)
    assert corrupt_mirror + TEST_LABELS + ".gz" in message and "checksum mismatch" in message
    assert FILES[TEST_LABELS][0] in message  # the expected MD5
    assert leftovers(root) == []


def test_short_read_is_rejected_and_leaves_nothing(real_mnist, tmp_path):
    root = tmp_path / "root"
    with serve(real_mnist, ShortReadHandler) as url:
        with pytest.raises(MNISTDownloadError, match="IncompleteRead|checksum"):
            download_mnist(root, mirrors=[url], files=[TEST_LABELS], quiet=True)
    assert leftovers(root) == []


def test_right_gzip_wrong_content_is_rejected(real_mnist, tmp_path):
    served = tmp_path / "served"
    served.mkdir()
    # a valid gzip of the wrong file under the right name
    shutil.copy(real_mnist / (TEST_LABELS + ".gz"), served / (TRAIN_LABELS + ".gz"))
    with serve(served) as url:
        with pytest.raises(MNISTDownloadError, match="decompressed content: its size is 10008 bytes"):
            download_mnist(tmp_path / "root", mirrors=[url], files=[TRAIN_LABELS], quiet=True)
    assert leftovers(tmp_path / "root") == []


def test_falls_back_to_the_next_mirror(mirror, corrupt_mirror, tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    with serve(empty) as not_found:  # answers 404
        mirrors = [closed_port_url(), not_found, corrupt_mirror, mirror]
        found = download_mnist(tmp_path / "root", mirrors=mirrors, files=T10K, quiet=True)
    assert sorted(found) == sorted(T10K)
    assert leftovers(tmp_path / "root") == sorted(name + ".gz" for name in T10K)


def test_all_mirrors_failing_lists_each(corrupt_mirror, tmp_path):
    refused = closed_port_url()
    empty = tmp_path / "empty"
    empty.mkdir()
    with serve(empty) as not_found:
        with pytest.raises(MNISTDownloadError) as info:
            download_mnist(tmp_path / "root", mirrors=[refused, not_found, corrupt_mirror],
                           files=[TEST_IMAGES], quiet=True)
    message = str(info.value)
    assert isinstance(info.value, OSError)
    assert refused + TEST_IMAGES + ".gz" in message
    assert not_found + TEST_IMAGES + ".gz" in message and "404" in message
    assert corrupt_mirror + TEST_IMAGES + ".gz" in message and "checksum" in message
    assert "by hand" in message
    assert leftovers(tmp_path / "root") == []


def test_unresponsive_mirror_times_out(mirror, tmp_path):
    with socket.socket() as silent:  # accepts connections (backlog) but never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(1)
        url = f"http://127.0.0.1:{silent.getsockname()[1]}/"
        found = download_mnist(tmp_path, mirrors=[url, mirror], files=[TEST_LABELS],
                               timeout=0.3, quiet=True)
    assert found[TEST_LABELS].is_file()


def test_valid_files_are_not_downloaded_again(mirror, tmp_path):
    download_mnist(tmp_path, mirrors=[mirror], files=T10K, quiet=True)
    stamp = {p.name: p.stat().st_mtime_ns for p in tmp_path.iterdir()}
    # no mirror can answer now: it must not need one
    found = download_mnist(tmp_path, mirrors=[closed_port_url()], files=T10K, quiet=True)
    assert sorted(found) == sorted(T10K)
    assert {p.name: p.stat().st_mtime_ns for p in tmp_path.iterdir()} == stamp


def test_uncompressed_valid_file_counts_as_present(real_mnist, tmp_path):
    with gzip.open(real_mnist / (TEST_LABELS + ".gz")) as src:
        (tmp_path / TEST_LABELS).write_bytes(src.read())
    found = download_mnist(tmp_path, mirrors=[closed_port_url()], files=[TEST_LABELS], quiet=True)
    assert found[TEST_LABELS] == tmp_path / TEST_LABELS


def test_invalid_present_file_is_replaced(mirror, real_mnist, tmp_path):
    (tmp_path / (TEST_LABELS + ".gz")).write_bytes(b"garbage")
    download_mnist(tmp_path, mirrors=[mirror], files=[TEST_LABELS], quiet=True)
    assert (tmp_path / (TEST_LABELS + ".gz")).read_bytes() == \
        (real_mnist / (TEST_LABELS + ".gz")).read_bytes()


def test_mnist_without_download_does_not_touch_the_network(tmp_path):
    with pytest.raises(MNISTNotFoundError):
        MNIST(tmp_path, train=False, download=False)
    assert leftovers(tmp_path) == []


def test_download_true_with_present_files_skips_download(real_mnist):
    class Offline(MNIST):
        mirrors = [closed_port_url()]

    assert len(Offline(real_mnist, train=False, download=True)) == 10000


# --------------------------------------------------------------------------------- transforms

def test_to_tensor_uint8_hw_matches_formula_and_torch():
    torch = pytest.importorskip("torch")
    img = np.random.default_rng(0).integers(0, 256, size=(28, 28), dtype=np.uint8)
    out = T.ToTensor()(img)
    assert isinstance(out, Tensor) and out.shape == (1, 28, 28) and out.array.dtype == np.float32
    assert out.array.flags.c_contiguous
    np.testing.assert_array_equal(out.array[0], img.astype(np.float32) / np.float32(255))
    # torchvision's ToTensor: torch.from_numpy(...).permute(2, 0, 1).to(float32).div(255)
    expected = torch.from_numpy(img[:, :, None]).permute(2, 0, 1).to(torch.float32).div(255)
    np.testing.assert_array_equal(out.array, expected.numpy())
    assert out.array.min() >= 0 and out.array.max() <= 1


def test_to_tensor_hwc_and_non_uint8():
    img = np.arange(4 * 5 * 3, dtype=np.uint8).reshape(4, 5, 3)
    out = T.ToTensor()(img)
    assert out.shape == (3, 4, 5)
    np.testing.assert_array_equal(out.array, img.transpose(2, 0, 1).astype(np.float32) / 255)
    floats = np.linspace(0, 3, 20, dtype=np.float64).reshape(4, 5)
    same = T.ToTensor()(floats)  # not uint8: values and dtype kept, as in torchvision
    assert same.array.dtype == np.float64
    np.testing.assert_array_equal(same.array[0], floats)


def test_to_tensor_rejects_bad_input():
    with pytest.raises(ValueError, match="2/3 dimensional. Got 1"):
        T.ToTensor()(np.zeros(3, np.uint8))
    with pytest.raises(TypeError, match="PIL Image or ndarray"):
        T.ToTensor()([[1, 2]])


def test_to_tensor_accepts_pil_image_when_pil_is_there():
    Image = pytest.importorskip("PIL.Image")
    img = np.random.default_rng(1).integers(0, 256, size=(6, 7), dtype=np.uint8)
    np.testing.assert_array_equal(T.ToTensor()(Image.fromarray(img, mode="L")).array,
                                  T.ToTensor()(img).array)


def test_normalize_matches_formula_and_torch():
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(2).random((3, 4, 5), dtype=np.float32)
    mean, std = (0.5, 0.1307, -1.0), (0.25, 0.3081, 2.0)
    out = T.Normalize(mean, std)(Tensor(x.copy()))
    expected = (x - np.array(mean, np.float32)[:, None, None]) / \
        np.array(std, np.float32)[:, None, None]
    np.testing.assert_array_equal(out.array, expected)
    t = torch.from_numpy(x.copy())
    reference = (t - torch.tensor(mean)[:, None, None]) / torch.tensor(std)[:, None, None]
    np.testing.assert_array_equal(out.array, reference.numpy())
    assert out.array.dtype == np.float32


def test_normalize_scalar_broadcast_batch_and_inplace():
    x = np.random.default_rng(3).random((2, 3, 4, 4))  # float64, a batch of images
    out = T.Normalize(0.5, 2.0)(Tensor(x.copy()))
    np.testing.assert_array_equal(out.array, (x - 0.5) / 2.0)
    t = Tensor(x.copy())
    assert T.Normalize([0.5], [2.0], inplace=True)(t) is t
    np.testing.assert_array_equal(t.array, (x - 0.5) / 2.0)


def test_normalize_errors():
    with pytest.raises(TypeError, match="float tensor"):
        T.Normalize(0.5, 0.5)(Tensor(np.zeros((1, 2, 2), np.uint8)))
    with pytest.raises(ValueError, match=r"size \(\.\.\., C, H, W\)"):
        T.Normalize(0.5, 0.5)(Tensor(np.zeros((2, 2), np.float32)))
    with pytest.raises(ValueError, match="std evaluated to zero"):
        T.Normalize(0.5, 0.0)(Tensor(np.zeros((1, 2, 2), np.float32)))
    with pytest.raises(ValueError, match="mean has 2 values, but the image has 3 channels"):
        T.Normalize((0.1, 0.2), (1.0,))(Tensor(np.zeros((3, 2, 2), np.float32)))


def test_compose_applies_in_order_and_repr():
    pipeline = T.Compose([T.ToTensor(), T.Normalize((0.1307,), (0.3081,)),
                          T.Lambda(lambda t: Tensor(t.array * 2))])
    img = np.full((2, 2), 255, np.uint8)
    out = pipeline(img)
    np.testing.assert_allclose(out.array, 2 * (1 - np.float32(0.1307)) / np.float32(0.3081),
                               rtol=1e-6)
    assert repr(pipeline).splitlines()[:3] == [
        "Compose(", "    ToTensor()", "    Normalize(mean=(0.1307,), std=(0.3081,))"]


def test_transforms_keep_the_data_on_its_device(device):
    from tinygrad_mnist import backend
    img = np.random.default_rng(4).integers(0, 256, size=(5, 6), dtype=np.uint8)
    pipeline = T.Compose([T.ToTensor(), T.Normalize((0.1307,), (0.3081,))])
    out = pipeline(backend.to_device(img, device))
    assert str(out.device) == device and out.shape == (1, 5, 6)
    expected = (img.astype(np.float32) / np.float32(255) - np.float32(0.1307)) / np.float32(0.3081)
    np.testing.assert_array_equal(backend.to_numpy(out.array)[0], expected)
