"""The on-disk format of one ingest directory, ``ingest/<sha256(ref)>/`` (containerd-store.md §2.3, §2.4, §2.9).

``data`` holds the bytes so far, ``ref`` the ref verbatim (no newline),
``startedat``/``updatedat`` Go RFC 3339 text with nanoseconds (rewritten
atomically), ``total`` the expected size in decimal, only when it is known.
"""

from __future__ import annotations

import errno
import hashlib
import os
import re
import stat
from dataclasses import dataclass
from pathlib import Path

from . import errors
from .nolinks import not_a_file
from .timestamps import Timestamp, format_rfc3339, parse_rfc3339
from .types import Status

_INT64 = re.compile(rb"[+-]?[0-9]+\Z")


@dataclass(frozen=True)
class BrokenIngest:
    """An entry of ``ingest/`` whose status cannot be read (shown and removable, never fatal)."""

    path: Path
    ref_hash: str
    reason: str


def ref_bytes(ref: str) -> bytes:
    # surrogateescape keeps refs read from disk that are not valid UTF-8 byte-exact.
    return ref.encode("utf-8", "surrogateescape")


def ref_hash(ref: str) -> str:
    """The ingest directory name: hex sha256 of the ref's bytes, whatever the content's algorithm."""
    return hashlib.sha256(ref_bytes(ref)).hexdigest()


def os_message(exc: OSError, op: str = "open") -> str:
    """An OS error as Go prints it: ``open /x/ref: permission denied``."""
    text = exc.strerror or str(exc)
    text = text[:1].lower() + text[1:]
    return f"{op} {exc.filename}: {text}" if exc.filename else text


# O_NONBLOCK: a FIFO planted in an ingest directory fails the open (ENXIO) instead of hanging it.
_WRITE_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC


def read_small(path: Path) -> bytes:
    """A small metadata file; a link, FIFO or device is refused (OSError), never followed or waited on."""
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise OSError(errno.EINVAL, "not a regular file", str(path))
        parts = []
        while chunk := os.read(fd, 1 << 16):
            parts.append(chunk)
        return b"".join(parts)
    finally:
        os.close(fd)


def write_plain(path: Path, data: bytes) -> None:
    """``ref`` and ``total`` are written with a plain write, no sync (as containerd does)."""
    fd = os.open(path, _WRITE_FLAGS, 0o666)
    try:
        _write_all(fd, data)
    finally:
        os.close(fd)


def write_timestamp(path: Path, ns: int) -> None:
    """Atomic rewrite: ``<name>.tmp`` opened O_SYNC|O_TRUNC, then renamed over ``<name>``."""
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, _WRITE_FLAGS | os.O_SYNC, 0o666)
    try:
        _write_all(fd, format_rfc3339(ns).encode("ascii"))
    finally:
        os.close(fd)
    os.rename(tmp, path)


def read_timestamp(path: Path) -> int:
    """ns since the epoch; NotFound when missing, a plain error when unparsable (containerd-store.md §1.5)."""
    try:
        raw = read_small(path)
    except FileNotFoundError as exc:
        raise errors.NotFound(f"open {path}: no such file or directory") from exc
    try:
        return parse_rfc3339(raw.decode("ascii"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise errors.Unknown(f"could not parse timestamp file {path}: {exc}") from exc


def read_total(path: Path) -> int:
    """Strict base-10 int64; anything unreadable or malformed counts as 0 (unknown)."""
    try:
        raw = read_small(path)
    except OSError:
        return 0
    if not _INT64.match(raw):
        return 0
    value = int(raw)
    return value if -(2 ** 63) <= value < 2 ** 63 else 0


def read_status(directory: Path) -> Status:
    """Status of an ingest directory from its files; errors shaped as containerd's (containerd-store.md §1.5)."""
    data = directory / "data"
    try:
        if stat.S_ISLNK(os.lstat(directory).st_mode):
            raise errors.FailedPrecondition(f"{directory} is a symbolic link; Blobscope does not follow it")
        st = os.lstat(data)
    except FileNotFoundError as exc:
        raise errors.NotFound(f"stat {data}: no such file or directory") from exc
    except NotADirectoryError as exc:
        raise errors.Unknown(f"stat {data}: not a directory") from exc
    if not stat.S_ISREG(st.st_mode):
        raise errors.FailedPrecondition(not_a_file(data, st.st_mode))
    try:
        ref = read_small(directory / "ref").decode("utf-8", "surrogateescape")
    except FileNotFoundError as exc:
        raise errors.NotFound(f"open {directory / 'ref'}: no such file or directory") from exc
    except OSError as exc:
        raise errors.Unknown(os_message(exc)) from exc
    stamps = {}
    for name in ("startedat", "updatedat"):
        try:
            stamps[name] = read_timestamp(directory / name)
        except errors.ContentError as exc:
            raise type(exc)(f"could not read {name}: {exc.message}") from exc
        except OSError as exc:
            raise errors.Unknown(f"could not read {name}: {os_message(exc)}") from exc
    # updatedat is only persisted on Close, so a running writer shows through data's mtime.
    updated = max(stamps["updatedat"], st.st_mtime_ns)
    return Status(
        ref=ref,
        offset=st.st_size,
        total=read_total(directory / "total"),
        expected=None,
        started_at=Timestamp.from_ns(stamps["startedat"]),
        updated_at=Timestamp.from_ns(updated),
    )


def _write_all(fd: int, data) -> int:
    view = memoryview(data)
    done = 0
    while done < len(view):
        n = os.write(fd, view[done:])
        if n == 0:
            raise OSError(errno.EIO, "short write")
        done += n
    return done
