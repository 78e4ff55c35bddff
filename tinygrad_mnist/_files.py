"""Writing files and folders so that a reader never sees half of one: the one atomic-write helper.

``atomic_write(path)`` yields a file object on a temporary file beside the destination; when the
``with`` block ends without an exception the data is flushed to disk and the temporary file is
renamed over the destination in one step (``os.replace``), so the destination holds either the old
contents or the new ones, also after a crash or a kill -9. On an exception (Ctrl-C included) the
temporary file is removed and the destination is untouched.

* A destination that is a symbolic link is written through: the link stays, its target changes.
* A destination that exists keeps its permission bits (a 0600 checkpoint stays 0600) and, where
  the process may set them, its owner and group; a new file gets the usual ``0666 & ~umask``.
* Every error is an OSError that names the destination (not the temporary file) and says what
  failed: a missing or unwritable directory, a full disk.
* Temporary files are named ``.NAME.tg-PID-RANDOM.tmp``. A process killed mid-write leaves one
  behind; :func:`sweep_stale_temporaries` (called by every ``atomic_write`` and
  ``atomic_directory``) removes those of processes that no longer run.

``atomic_directory(path)`` does the same for a folder of files (a training run): the folder is
built under a temporary name and renamed into place at the end, replacing an earlier folder there.
"""
from __future__ import annotations

import contextlib
import errno
import os
import re
import secrets
import shutil

__all__ = ["atomic_write", "atomic_directory", "sweep_stale_temporaries", "temporary_name"]

# .NAME.tg-PID-RANDOM.tmp: a file or folder being written; .NAME.tg-PID-RANDOM.old: the folder it
# replaces, for the instant between the two renames of atomic_directory.
_TEMP = re.compile(r"^\.(?P<name>.+)\.tg-(?P<pid>\d+)-[0-9a-f]+\.(?P<kind>tmp|old)$")


def temporary_name(destination, kind="tmp"):
    """A fresh temporary path beside ``destination`` (which must already be resolved)."""
    head, tail = os.path.split(destination)
    return os.path.join(head, f".{tail}.tg-{os.getpid()}-{secrets.token_hex(4)}.{kind}")


def _pid_alive(pid):
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # it exists, owned by someone else
        return True
    except (OverflowError, OSError):
        return False
    return True


def sweep_stale_temporaries(directory, name=None):
    """Remove temporary files and folders of ours in ``directory`` left by processes that are gone.

    With ``name``, only those for that destination name. A folder that an interrupted
    :func:`atomic_directory` had moved aside (``.NAME....old``) is put back when nothing took its
    place, and removed otherwise. Returns the paths removed. Never raises for a file that another
    process removed first.
    """
    removed = []
    try:
        entries = os.listdir(directory or ".")
    except OSError:
        return removed
    for entry in sorted(entries):
        m = _TEMP.match(entry)
        if not m or (name is not None and m.group("name") != name) or _pid_alive(int(m.group("pid"))):
            continue
        path = os.path.join(directory, entry)
        if m.group("kind") == "old":
            original = os.path.join(directory, m.group("name"))
            if not os.path.lexists(original):
                with contextlib.suppress(OSError):
                    os.rename(path, original)  # the earlier run, back where it was
                    continue
        with contextlib.suppress(FileNotFoundError):
            if os.path.isdir(path) and not os.path.islink(path):
                shutil.rmtree(path)
            else:
                os.remove(path)
            removed.append(path)
    return removed


def _fsync_directory(directory):
    """Make a rename in ``directory`` durable (best effort: not every system allows it)."""
    with contextlib.suppress(OSError):
        fd = os.open(directory or ".", os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _naming(exc, path, doing="write"):
    """``exc`` (an OSError) again, with a message that names ``path`` instead of a temporary file."""
    reason = exc.strerror or str(exc)
    if exc.errno == errno.ENOSPC:
        reason += " (the disk is full)"
    elif exc.errno == errno.EFBIG:
        reason += " (the file size limit was reached)"
    elif exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        reason += " (the directory is not writable)"
    elif exc.errno == errno.ENOENT:
        reason += " (the directory does not exist)"
    new = type(exc)(exc.errno, f"cannot {doing} {path!r}: {reason}", path)
    return new


def _resolve(path):
    """The real destination of ``path`` (through symbolic links), refusing a directory."""
    shown = os.fspath(path)
    destination = os.path.realpath(shown)  # write through a symlink, not over it
    if os.path.isdir(destination):
        raise IsADirectoryError(errno.EISDIR, f"cannot write {shown!r}: it is a directory", shown)
    parent = os.path.dirname(destination)
    if os.path.exists(parent) and not os.path.isdir(parent):
        raise NotADirectoryError(errno.ENOTDIR, f"cannot write {shown!r}: {parent!r} is not a directory", shown)
    return shown, destination


def _copy_owner_and_mode(tmp, destination):
    try:
        st = os.stat(destination)
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        return
    if (st.st_uid, st.st_gid) != (os.geteuid(), os.getegid()):
        with contextlib.suppress(OSError):  # only root may give a file away; keep ours otherwise
            os.chown(tmp, st.st_uid, st.st_gid)
    os.chmod(tmp, st.st_mode & 0o7777)


@contextlib.contextmanager
def atomic_write(path, mode="wb"):
    """``with atomic_write(path) as f: f.write(...)``: all of the new contents, or none of them.

    ``mode`` is ``"wb"`` or ``"w"`` (text, UTF-8). Raises OSError naming ``path`` when the
    directory is missing or not writable, or the disk fills up; ``path`` is then as it was.
    """
    if mode not in ("wb", "w"):
        raise ValueError(f"atomic_write: mode must be 'wb' or 'w', got {mode!r}")
    shown, destination = _resolve(path)
    directory = os.path.dirname(destination)
    sweep_stale_temporaries(directory, os.path.basename(destination))
    tmp = temporary_name(destination)
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except OSError as exc:
        raise _naming(exc, shown) from None
    try:
        with os.fdopen(fd, mode, **({"encoding": "utf-8"} if mode == "w" else {})) as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        _copy_owner_and_mode(tmp, destination)
        os.replace(tmp, destination)
    except BaseException as exc:
        with contextlib.suppress(FileNotFoundError):
            os.remove(tmp)
        if isinstance(exc, OSError):
            raise _naming(exc, shown) from exc
        raise
    _fsync_directory(directory)


def write_bytes(path, data):
    """Write ``data`` to ``path`` atomically (see :func:`atomic_write`)."""
    with atomic_write(path, "wb") as f:
        f.write(data)


@contextlib.contextmanager
def atomic_directory(path, replace=lambda existing: True):
    """``with atomic_directory(path) as tmp:`` write files into the folder ``tmp``; at the end it
    becomes ``path``.

    ``path`` keeps its earlier contents until the block completes: on an exception (or a kill -9)
    they stay as they were and the half-built folder is removed (by the next sweep after a kill).
    When ``path`` already exists, ``replace(path)`` decides before anything is built: it returns
    True to replace it at the end, or raises to refuse. The old folder is moved aside, the new one
    renamed into place and the old one deleted; a kill between the two renames is repaired by
    :func:`sweep_stale_temporaries`, which puts the old folder back.
    """
    shown = os.fspath(path)
    destination = os.path.abspath(shown)
    if os.path.lexists(destination) and not os.path.isdir(destination):
        raise NotADirectoryError(errno.ENOTDIR, f"{shown!r} exists and is not a directory", shown)
    parent = os.path.dirname(destination)
    try:
        os.makedirs(parent, exist_ok=True)
    except OSError as exc:
        raise _naming(exc, shown, "create") from None
    sweep_stale_temporaries(parent, os.path.basename(destination))
    if os.path.isdir(destination):
        replace(shown)
    tmp = temporary_name(destination)
    try:
        os.mkdir(tmp)
    except OSError as exc:
        raise _naming(exc, shown, "create") from None
    try:
        yield tmp
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    try:
        if os.path.isdir(destination):
            old = temporary_name(destination, "old")
            os.rename(destination, old)
            try:
                os.rename(tmp, destination)
            except OSError:
                os.rename(old, destination)  # the earlier folder back in place
                raise
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.rename(tmp, destination)
    except OSError as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        raise _naming(exc, shown) from exc
    _fsync_directory(parent)
