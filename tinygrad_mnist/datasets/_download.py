"""Verified downloads, shared by every dataset: a file comes from the first mirror that delivers
it whole, in time, and with the published checksum, or not at all.

``fetch(url, dest, check, max_bytes, timeout, deadline)`` streams one URL into ``dest`` through
``tinygrad_mnist._files.atomic_write``: the bytes go to a temporary file beside ``dest``, are
checked as they arrive, and only a file that passes is renamed into place. Whatever goes wrong --
an HTTP error, a short read, a checksum mismatch, a Content-Length or body larger than the file
can be, a mirror slower than the deadline, Ctrl-C -- the temporary file is removed; after a
kill -9 it is left, and the next download of that file sweeps it
(``_files.sweep_stale_temporaries``).

Two limits bound the time spent on one mirror: ``timeout`` seconds for connecting and for each
read (a mirror that stops sending), and ``deadline`` seconds for the whole file (a mirror that
trickles: each read returns, the file never ends). Reads are single socket reads
(``read1``), so the deadline is overrun by at most one ``timeout``.

``download(root, files, mirrors, ...)`` tries the mirrors in turn for each file and, when all
fail, raises a ``DownloadError`` that lists every URL and how it failed -- and, when a local copy
is there but corrupt, says so with its path and checksums.
"""
from __future__ import annotations

import hashlib
import http.client
import os
import sys
import time
import urllib.request
import zlib
from pathlib import Path

from .._files import atomic_write, sweep_stale_temporaries

__all__ = ["DownloadError", "DEFAULT_DEADLINE", "MD5Check", "GzipContentCheck", "RawContentCheck",
           "fetch", "download", "md5_of"]

DEFAULT_DEADLINE = 600.0  # seconds one file may take from one mirror, all reads together
_CHUNK = 1 << 16
_GUNZIP_STEP = 1 << 22  # at most this much decompressed output per step (gzip-bomb safe)


class DownloadError(OSError):
    """Every mirror failed to deliver a file that passes its checksum."""


class MirrorError(ValueError):
    """One mirror's answer is refused: too large, too slow or failing its checksum."""


class DeadlineExceeded(TimeoutError):
    """A mirror took longer than the deadline for the whole file."""


class _Abort(Exception):
    """Leaves the atomic write (which then removes its temporary file) for a network failure,
    which ``fetch`` then raises as itself: atomic_write would report an OSError raised inside
    it as a failure to write the destination."""


# What a mirror may fail with: URLError, HTTPError, timeouts and refused connections are
# OSErrors, a short read an http.client.IncompleteRead, a bad URL or our refusals a ValueError.
MIRROR_ERRORS = (OSError, http.client.HTTPException, ValueError, EOFError, zlib.error)


def md5_of(path):
    digest = hashlib.md5(usedforsecurity=False)
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


# --------------------------------------------------------------------------------------------
# Checks: fed the bytes as they arrive, then asked for the verdict (None: it passes)
# --------------------------------------------------------------------------------------------

class MD5Check:
    """The file's MD5 must be the published one."""

    def __init__(self, md5):
        self.md5 = md5
        self._digest = hashlib.md5(usedforsecurity=False)

    def update(self, chunk):
        self._digest.update(chunk)

    def problem(self):
        actual = self._digest.hexdigest()
        return None if actual == self.md5 else f"MD5 {actual} is not the published {self.md5}"


class RawContentCheck:
    """An uncompressed file: its SHA-256 must be the published one (None: none is published)."""

    def __init__(self, sha256, size=None):
        self.sha256, self.size = sha256, size
        self._digest = hashlib.sha256()
        self._length = 0

    def update(self, chunk):
        self._length += len(chunk)
        self._digest.update(chunk)

    def problem(self):
        if self.sha256 is None:
            return "no checksum is published for the uncompressed file"
        if self.size is not None and self._length != self.size:
            return f"its size is {self._length} bytes, the published file has {self.size}"
        actual = self._digest.hexdigest()
        return None if actual == self.sha256 else \
            f"SHA-256 {actual} is not the published {self.sha256}"


class GzipContentCheck:
    """A gzipped file passes when its MD5 is the published one, or else when its decompressed
    content has the published SHA-256 (a re-compressed copy of the same content has other gzip
    bytes). Decompression runs as the bytes arrive, in bounded steps, and stops as soon as the
    output exceeds the content's known size, so a gzip bomb costs no more than the real file."""

    def __init__(self, md5, sha256=None, size=None):
        self.md5_check = MD5Check(md5)
        self.content = RawContentCheck(sha256, size)
        self.size = size
        self._gunzip = zlib.decompressobj(wbits=31)
        self._error = None
        self._members = 0          # gzip members decompressed to their end
        self._in_member = False    # input fed to a member that has not ended yet

    def update(self, chunk):
        self.md5_check.update(chunk)
        if self._error is not None or self.content.sha256 is None:
            return
        try:
            self._feed(chunk)
        except zlib.error as exc:
            self._error = f"not a valid gzip file ({exc})"

    def _feed(self, data):
        while True:
            self._in_member = self._in_member or bool(data)
            out = self._gunzip.decompress(data, _GUNZIP_STEP)
            self.content.update(out)
            if self.size is not None and self.content._length > self.size:
                self._error = f"it decompresses to more than the content's {self.size} bytes"
                return
            if self._gunzip.eof:  # a member ended; another may follow, as gzip allows
                self._members += 1
                self._in_member = False
                data = self._gunzip.unused_data
                self._gunzip = zlib.decompressobj(wbits=31)
                if not data:
                    return
                continue
            data = self._gunzip.unconsumed_tail
            if not data and len(out) < _GUNZIP_STEP:
                return

    def problem(self):
        md5_problem = self.md5_check.problem()
        if md5_problem is None:
            return None
        if self.content.sha256 is None:
            return md5_problem
        if self._error is None and self._in_member:
            self._error = "not a valid gzip file (it ends before the end-of-stream marker)"
        if self._error is None and self._members == 0:
            self._error = "not a valid gzip file (it is empty)"
        if self._error is not None:
            return f"{md5_problem}, and the file is {self._error}"
        content_problem = self.content.problem()
        if content_problem is None:
            return None
        if content_problem.startswith("SHA-256 "):
            return f"{md5_problem}, and the SHA-256 of the decompressed content" \
                   f"{content_problem[len('SHA-256'):]}"
        return f"{md5_problem}, and the decompressed content: {content_problem}"


def check_file(path, check):
    """Feed the file at ``path`` through ``check``; its verdict (None: it passes)."""
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            check.update(chunk)
    return check.problem()


# --------------------------------------------------------------------------------------------
# One URL
# --------------------------------------------------------------------------------------------

def fetch(url, dest, check, *, max_bytes, timeout=30.0, deadline=DEFAULT_DEADLINE):
    """Stream ``url`` into ``dest`` (a Path), verified by ``check``, atomically; returns ``dest``.

    Refuses a Content-Length above ``max_bytes`` before reading, and a body that runs past it;
    gives up (``DeadlineExceeded``) once ``deadline`` seconds have passed since the request.
    On any failure ``dest`` is untouched and no temporary file is left.
    """
    start = time.monotonic()
    with urllib.request.urlopen(url, timeout=timeout) as response:
        length = response.headers.get("Content-Length")
        if length is not None and length.strip().isdigit() and int(length) > max_bytes:
            raise MirrorError(f"Content-Length {int(length)} is larger than {dest.name} can be "
                              f"({max_bytes} bytes); refused without reading it")
        received, failure = 0, None
        try:
            with atomic_write(dest) as out:
                while True:
                    elapsed = time.monotonic() - start
                    if elapsed > deadline:
                        failure = DeadlineExceeded(
                            f"gave up after {elapsed:.1f} s, past the {deadline:g} s deadline "
                            f"for the whole file, with {received} bytes received")
                        raise _Abort
                    try:
                        chunk = response.read1(_CHUNK)
                    except (OSError, http.client.HTTPException) as exc:
                        # raised as itself below, not as a failure to write dest
                        failure = exc
                        raise _Abort from None
                    if not chunk:
                        break
                    received += len(chunk)
                    if received > max_bytes:
                        raise MirrorError(f"sent more than {max_bytes} bytes, more than "
                                          f"{dest.name} can be; stopped reading")
                    check.update(chunk)
                    out.write(chunk)
                problem = check.problem()
                if problem is not None:
                    raise MirrorError(f"checksum mismatch: {problem}")
        except _Abort:
            raise failure from None
    return dest


# --------------------------------------------------------------------------------------------
# One file from several mirrors, several files
# --------------------------------------------------------------------------------------------

def _url(mirror, filename):
    return mirror + filename if mirror.endswith("/") else f"{mirror}/{filename}"


def download(root, wanted, mirrors, *, timeout=30.0, deadline=DEFAULT_DEADLINE, quiet=False,
             what="dataset", remedy=""):
    """Download each of ``wanted`` into ``root`` from the first mirror that delivers it verified.

    ``wanted`` is a list of ``(filename, make_check, max_bytes, local_problem)``: ``make_check()``
    returns a fresh check, ``local_problem`` is None or why an existing local copy was not used
    (it goes into the error when every mirror fails). Returns ``{filename: path}``.
    """
    root = Path(root)
    if not mirrors:
        raise ValueError(f"download {what}: no mirrors given")
    for value, name in ((timeout, "timeout"), (deadline, "deadline")):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0 \
                or value != value:
            raise ValueError(f"download {what}: {name} must be a positive number of seconds, "
                             f"got {value!r}")
    root.mkdir(parents=True, exist_ok=True)
    found = {}
    for filename, make_check, max_bytes, local_problem in wanted:
        sweep_stale_temporaries(os.fspath(root), filename)
        dest = root / filename
        failures = []
        for mirror in mirrors:
            url = _url(mirror, filename)
            if not quiet:
                print(f"Downloading {url} to {dest}", file=sys.stderr, flush=True)
            try:
                found[filename] = fetch(url, dest, make_check(), max_bytes=max_bytes,
                                        timeout=timeout, deadline=deadline)
                break
            except MIRROR_ERRORS as exc:
                failures.append(f"  {url}: {type(exc).__name__}: {exc}")
                if not quiet:
                    print(f"Failed: {exc}", file=sys.stderr, flush=True)
        else:
            local = f"\n{local_problem}" if local_problem else ""
            raise DownloadError(
                f"could not download {filename} into {root}: every mirror failed:\n"
                + "\n".join(failures) + local + (f"\n{remedy}" if remedy else ""))
    return found
