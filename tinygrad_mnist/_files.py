"""Writing files so that a reader never sees half of one: the one atomic-write helper.

``atomic_write(path)`` yields a file object on a temporary file beside the destination; when the
``with`` block ends without an exception the data is flushed to disk and the temporary file is
renamed over the destination in one step (``os.replace``), so the destination holds either the old
contents or the new ones, also after a crash or a kill -9. On an exception the temporary file is
removed and the destination is untouched.

* A destination that is a symbolic link is written through: the link stays, its target changes.
* A destination that exists keeps its permission bits (a 0600 checkpoint stays 0600); a new file
  gets the usual ``0666 & ~umask``.
* Temporary files are named ``.NAME.tg-PID-RANDOM.tmp``. A process killed mid-write leaves one
  behind; :func:`sweep_stale_temporaries` (called by every ``atomic_write``) removes those of
  processes that no longer run.
"""
from __future__ import annotations

import contextlib
import errno
import os
import re
import secrets

__all__ = ["atomic_write", "sweep_stale_temporaries", "temporary_name"]

_TEMP = re.compile(r"^\.(?P<name>.+)\.tg-(?P<pid>\d+)-[0-9a-f]+\.tmp$")


def temporary_name(destination):
    """A fresh temporary path beside ``destination`` (which must already be resolved)."""
    head, tail = os.path.split(destination)
    return os.path.join(head, f".{tail}.tg-{os.getpid()}-{secrets.token_hex(4)}.tmp")


def _pid_alive(pid):
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # it exists, owned by someone else
        return True
    return True


def sweep_stale_temporaries(directory, name=None):
    """Remove temporary files of ours in ``directory`` left by processes that are gone.

    With ``name``, only those for that destination file name. Returns the paths removed.
    """
    removed = []
    try:
        entries = os.listdir(directory or ".")
    except OSError:
        return removed
    for entry in entries:
        m = _TEMP.match(entry)
        if not m or (name is not None and m.group("name") != name) or _pid_alive(int(m.group("pid"))):
            continue
        path = os.path.join(directory, entry)
        with contextlib.suppress(FileNotFoundError):
            os.remove(path)
            removed.append(path)
    return removed


def _mode_for(destination):
    try:
        return os.stat(destination).st_mode & 0o7777
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


@contextlib.contextmanager
def atomic_write(path, mode="wb"):
    """``with atomic_write(path) as f: f.write(...)``: all of the new contents, or none of them.

    ``mode`` is ``"wb"`` or ``"w"`` (text, UTF-8). Raises OSError naming ``path`` when the
    directory is missing or not writable, or the disk fills up.
    """
    if mode not in ("wb", "w"):
        raise ValueError(f"atomic_write: mode must be 'wb' or 'w', got {mode!r}")
    destination = os.path.realpath(os.fspath(path))  # write through a symlink, not over it
    if os.path.isdir(destination):
        raise IsADirectoryError(errno.EISDIR, f"cannot write {os.fspath(path)!r}: it is a directory",
                                os.fspath(path))
    directory = os.path.dirname(destination)
    sweep_stale_temporaries(directory, os.path.basename(destination))
    tmp = temporary_name(destination)
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except OSError as exc:
        raise type(exc)(exc.errno, f"cannot write {os.fspath(path)!r}: {exc.strerror}", os.fspath(path)) from None
    try:
        with os.fdopen(fd, mode, **({"encoding": "utf-8"} if mode == "w" else {})) as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, _mode_for(destination))
        os.replace(tmp, destination)
    except BaseException as exc:
        with contextlib.suppress(FileNotFoundError):
            os.remove(tmp)
        if isinstance(exc, OSError) and not isinstance(exc, FileNotFoundError) and exc.filename is None:
            raise type(exc)(exc.errno, f"cannot write {os.fspath(path)!r}: {exc.strerror}",
                            os.fspath(path)) from exc
        raise
