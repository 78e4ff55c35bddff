"""Downloads that end: a deadline per file, a size limit, every mirror's failure named; nothing
half-written or stale left behind, even after kill -9; only verified files read.

Everything runs against real HTTP servers on 127.0.0.1 (tests/loopback.py) and real files; the
kill -9 test runs real downloads in subprocesses and kills them at random points.
"""
from __future__ import annotations

import gzip
import hashlib
import os
import random
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tinygrad_mnist.datasets import MNIST, FashionMNIST, MNISTDownloadError, download_mnist
from tinygrad_mnist.datasets._download import GzipContentCheck
from tinygrad_mnist.datasets.mnist import (FASHION_FILES, FILES, SIZES, TEST_IMAGES, TEST_LABELS,
                                           TRAIN_IMAGES, TRAIN_LABELS)

from conftest import ROOT
from loopback import (EndlessHandler, HugeLengthHandler, ThrottledHandler, TrickleHandler,
                      closed_port_url, serve)

T10K = [TEST_IMAGES, TEST_LABELS]


def listing(directory):
    return sorted(p.name for p in Path(directory).iterdir()) if Path(directory).exists() else []


@pytest.fixture(scope="module")
def mirror(mnist_root):
    with serve(mnist_root) as url:
        yield url


# ------------------------------------------------------------------ time and size are bounded

def test_a_trickling_mirror_fails_at_the_deadline_and_the_next_one_is_tried(mnist_root, mirror,
                                                                           tmp_path):
    with serve(mnist_root, TrickleHandler) as slow:
        with pytest.raises(MNISTDownloadError) as info:
            download_mnist(tmp_path, mirrors=[slow], files=[TEST_LABELS], deadline=0.3,
                           quiet=True)
        message = str(info.value)
        assert slow + TEST_LABELS + ".gz" in message
        assert "DeadlineExceeded" in message and "0.3 s deadline for the whole file" in message
        assert listing(tmp_path) == []
        found = download_mnist(tmp_path, mirrors=[slow, mirror], files=[TEST_LABELS],
                               deadline=0.3, quiet=True)
    assert found[TEST_LABELS].read_bytes() == (mnist_root / (TEST_LABELS + ".gz")).read_bytes()


def test_mnist_class_deadline_is_used(mnist_root, tmp_path):
    with serve(mnist_root, TrickleHandler) as slow:
        class Slow(MNIST):
            mirrors = [slow]
            download_deadline = 0.2

        with pytest.raises(MNISTDownloadError, match="0.2 s deadline"):
            Slow(tmp_path, train=False, download=True)


@pytest.mark.parametrize("handler, words", [
    (HugeLengthHandler, "Content-Length 10000000000 is larger than t10k-labels-idx1-ubyte.gz "
                        "can be"),
    (EndlessHandler, "sent more than"),
])
def test_a_body_larger_than_the_file_can_be_is_refused(mnist_root, tmp_path, handler, words):
    with serve(mnist_root, handler) as url:
        with pytest.raises(MNISTDownloadError) as info:
            download_mnist(tmp_path, mirrors=[url], files=[TEST_LABELS], quiet=True)
    assert words in str(info.value) and url in str(info.value)
    assert listing(tmp_path) == []


@pytest.mark.parametrize("value", [0, -1, float("nan"), "10", True])
def test_bad_deadline_or_timeout_is_refused_by_name(tmp_path, value):
    with pytest.raises(ValueError, match=f"deadline must be a positive number of seconds, got "
                                         f"{re.escape(repr(value))}"):
        download_mnist(tmp_path, mirrors=[closed_port_url()], files=[TEST_LABELS],
                       deadline=value, quiet=True)
    with pytest.raises(ValueError, match="timeout must be a positive number"):
        download_mnist(tmp_path, mirrors=[closed_port_url()], files=[TEST_LABELS],
                       timeout=value, quiet=True)


# ------------------------------------------------------------- the streaming gzip check

@pytest.fixture(scope="module")
def labels_gz(mnist_root):
    return (mnist_root / (TEST_LABELS + ".gz")).read_bytes()


def feed(check, data, cuts):
    points = sorted({0, len(data), *(c % (len(data) + 1) for c in cuts)})
    for a, b in zip(points, points[1:]):
        check.update(data[a:b])
    return check.problem()


def check_for(name=TEST_LABELS):
    md5, sha = FILES[name]
    return GzipContentCheck(md5, sha, SIZES[name])


@given(cuts=st.lists(st.integers(0, 10**6), max_size=12), level=st.integers(1, 9),
       members=st.integers(1, 3))
def test_gzip_check_passes_any_chunking_and_recompression(labels_gz, cuts, level, members):
    assert feed(check_for(), labels_gz, cuts) is None  # the published bytes: its MD5
    content = gzip.decompress(labels_gz)
    step = -(-len(content) // members)  # the same content as several gzip members
    again = b"".join(gzip.compress(content[i:i + step], compresslevel=level)
                     for i in range(0, len(content), step))
    assert feed(check_for(), again, cuts) is None  # other bytes, the published content


@given(keep=st.integers(0, 4541), cuts=st.lists(st.integers(0, 10**6), max_size=5))
def test_gzip_check_refuses_a_truncated_file(labels_gz, keep, cuts):
    problem = feed(check_for(), labels_gz[:keep], cuts)
    assert problem is not None and FILES[TEST_LABELS][0] in problem
    assert "not a valid gzip file" in problem or "decompressed content" in problem


def test_gzip_check_stops_a_bomb_at_the_known_size():
    bomb = gzip.compress(bytes(50_000_000), compresslevel=9)  # 50 MB of zeros in 50 KB
    check = check_for()
    assert "decompresses to more than the content's 10008 bytes" in feed(check, bomb, [])
    assert check.content._length <= 10008 + (1 << 22)  # stopped at the first step past it


# ------------------------------------------------------------- only verified files are read

def test_a_raw_file_failing_its_checksum_is_not_read_beside_a_good_gz(mnist_root, mirror,
                                                                      tmp_path):
    bad = np.zeros((10000, 28, 28), np.uint8)  # a well-formed IDX file with the wrong pixels
    raw = (2051).to_bytes(4, "big") + b"".join(d.to_bytes(4, "big") for d in bad.shape)
    (tmp_path / TEST_IMAGES).write_bytes(raw + bad.tobytes())
    shutil.copy(mnist_root / (TEST_LABELS + ".gz"), tmp_path)
    # download=True: the raw copy fails its SHA-256, so the .gz is fetched and read
    class Local(MNIST):
        mirrors = [mirror]

    ds = Local(tmp_path, train=False, download=True)
    assert (tmp_path / (TEST_IMAGES + ".gz")).is_file()
    real = MNIST(mnist_root, train=False)
    assert np.array_equal(ds.data.numpy(), real.data.numpy())
    # and without download: the verified .gz beside it is preferred to the unverified raw file
    assert np.array_equal(MNIST(tmp_path, train=False).data.numpy(), real.data.numpy())
    assert (tmp_path / TEST_IMAGES).read_bytes()[16:] == bad.tobytes()  # left as it was


def test_a_corrupt_local_gz_with_the_mirrors_down_is_named_with_its_checksums(mnist_root,
                                                                             tmp_path):
    data = bytearray((mnist_root / (TEST_LABELS + ".gz")).read_bytes())
    data[100] ^= 0xFF
    local = tmp_path / (TEST_LABELS + ".gz")
    local.write_bytes(bytes(data))
    actual = hashlib.md5(bytes(data)).hexdigest()
    down = closed_port_url()
    with pytest.raises(MNISTDownloadError) as info:
        download_mnist(tmp_path, mirrors=[down], files=[TEST_LABELS], quiet=True)
    message = str(info.value)
    assert f"The local file {local} is corrupt" in message
    assert actual in message and FILES[TEST_LABELS][0] in message
    assert down + TEST_LABELS + ".gz" in message and "Connection refused" in message
    assert local.read_bytes() == bytes(data)  # not deleted: it is the user's to judge


# ------------------------------------------------------------------------- Fashion-MNIST

def test_fashion_mnist_constants_are_the_published_ones():
    assert FashionMNIST.mirrors == ["http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"]
    assert {n: md5 for n, (md5, _) in FASHION_FILES.items()} == {
        TRAIN_IMAGES: "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
        TRAIN_LABELS: "25c81989df183df01b3e8a0aad5dffbe",
        TEST_IMAGES: "bef4ecab320f06d8554ea6380940ec79",
        TEST_LABELS: "bb300cfdad3c16e7a12a480ee83cd310"}
    assert FashionMNIST.classes[0] == "T-shirt/top" and len(FashionMNIST.classes) == 10


def _idx(array, magic):
    return magic.to_bytes(4, "big") + b"".join(d.to_bytes(4, "big") for d in array.shape) + \
        array.tobytes()


def test_fashion_mnist_downloads_verifies_and_reads_its_own_files(tmp_path):
    rng = np.random.default_rng(1)
    images = rng.integers(0, 256, (10000, 28, 28), dtype=np.uint8)
    labels = rng.integers(0, 10, 10000, dtype=np.uint8)
    served = tmp_path / "served"
    served.mkdir()
    gz = {TEST_IMAGES: gzip.compress(_idx(images, 2051)), TEST_LABELS: gzip.compress(_idx(labels, 2049))}
    for name, data in gz.items():
        (served / (name + ".gz")).write_bytes(data)
    root = tmp_path / "root"
    with serve(served) as url:
        class Local(FashionMNIST):
            mirrors = [url]
            files = {**FASHION_FILES, **{n: (hashlib.md5(d).hexdigest(), None)
                                         for n, d in gz.items()}}

        # an uncompressed copy cannot be verified (no SHA-256 is published): with download=True
        # the .gz is fetched rather than trusting it
        (root / "FashionMNIST" / "raw").mkdir(parents=True)
        (root / "FashionMNIST" / "raw" / TEST_LABELS).write_bytes(_idx(labels[::-1].copy(), 2049))
        ds = Local(root, train=False, download=True)
        assert np.array_equal(ds.data.numpy(), images)
        assert np.array_equal(ds.targets.numpy(), labels)
        img, target = ds[3]
        assert target == int(labels[3]) and Local.classes[target] in repr(Local.classes)
        # the MNIST checksums do not admit these files
        with pytest.raises(MNISTDownloadError, match="checksum mismatch"):
            download_mnist(tmp_path / "other", mirrors=[url], files=[TEST_LABELS], quiet=True)
    # torchvision's layout root/FashionMNIST/raw is read too
    moved = tmp_path / "tv"
    (moved / "FashionMNIST" / "raw").mkdir(parents=True)
    for name, data in gz.items():
        (moved / "FashionMNIST" / "raw" / (name + ".gz")).write_bytes(data)
    assert len(FashionMNIST(moved, train=False)) == 10000


# ------------------------------------------------------- kill -9 during downloads, many times

_CHILD = """
import sys
from tinygrad_mnist.datasets import download_mnist
print("ready", flush=True)
download_mnist(sys.argv[1], mirrors=[sys.argv[2]], files=sys.argv[3:], quiet=True)
"""
_TEMP = re.compile(r"^\.(t10k-images-idx3-ubyte|t10k-labels-idx1-ubyte)\.gz\.tg-\d+-[0-9a-f]+\.tmp$")


def test_kill_9_during_downloads_leaves_only_whole_files_and_sweepable_temporaries(mnist_root,
                                                                                 tmp_path):
    root = tmp_path / "root"
    want = {name + ".gz": (mnist_root / (name + ".gz")).read_bytes() for name in T10K}
    rng = random.Random(1234)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    killed_mid_way = 0
    with serve(mnist_root, ThrottledHandler) as url:
        for _ in range(10):
            child = subprocess.Popen([sys.executable, "-c", _CHILD, str(root), url, *T10K],
                                     stdout=subprocess.PIPE, env=env)
            assert child.stdout.readline().strip() == b"ready"
            time.sleep(rng.uniform(0.0, 0.4))  # a random point of the download, not a check
            child.kill()
            child.wait()
            killed_mid_way += child.returncode == -9
            for name in listing(root):
                if name in want:  # a final name only ever holds the whole verified file
                    assert (root / name).read_bytes() == want[name]
                else:
                    assert _TEMP.match(name), name
            for name in want:  # start each round from scratch for some files
                if rng.random() < 0.3 and (root / name).exists():
                    (root / name).unlink()
        assert killed_mid_way >= 5
        found = download_mnist(root, mirrors=[url], files=T10K, quiet=True)
    assert listing(root) == sorted(want)  # every stale temporary swept
    for name, path in found.items():
        assert path.read_bytes() == want[name + ".gz"]


def test_cli_download_timeout_sets_the_deadline(tmp_path, capsys):
    from tinygrad_mnist import cli
    before = MNIST.download_deadline
    try:
        cli.main(["evaluate", "--checkpoint", str(tmp_path / "none.safetensors"),
                  "--data-dir", str(tmp_path), "--download-timeout", "7.5"])
        assert MNIST.download_deadline == 7.5 and FashionMNIST.download_deadline == 7.5
    finally:
        MNIST.download_deadline = before
