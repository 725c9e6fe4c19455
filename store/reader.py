"""Reading a committed blob at any offset (containerd's ReaderAt, containerd-store.md §2.14)."""

from __future__ import annotations

import os
from typing import Iterator

CHUNK = 1 << 20


_NOATIME = getattr(os, "O_NOATIME", 0)


def open_blob(path, extra_flags: int = 0, *, dir_fd: int | None = None) -> int:
    """Open for reading without touching atime: a blob's atime is its Info.updated_at, and looking
    at a store (preview, media types, verify) must not change it."""
    flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC | extra_flags
    if _NOATIME:
        try:
            return os.open(path, flags | _NOATIME, dir_fd=dir_fd)
        except PermissionError:
            pass  # O_NOATIME needs the file's owner (or CAP_FOWNER); read it the ordinary way
    return os.open(path, flags, dir_fd=dir_fd)


def advise_sequential(fd: int) -> None:
    """Tell the kernel a whole file is about to be read in order (more read-ahead); only a hint."""
    if hasattr(os, "posix_fadvise"):
        try:
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_SEQUENTIAL)
        except OSError:
            pass


class HeadReader:
    """Positional reads of an open blob whose first ``prefetch`` bytes are read in one call.

    For recognising many small blobs: the sniff asks for the first 512 bytes, then for the
    rest of a small JSON document or for compressed input, and every one of those asks is
    served from the one read when it falls within it.  The caller owns ``fd``.
    """

    __slots__ = ("fd", "head")

    def __init__(self, fd: int, size: int, prefetch: int = 16384):
        self.fd = fd
        self.head = os.pread(fd, min(size, prefetch), 0) if size > 0 else b""

    def read_at(self, n: int, offset: int) -> bytes:
        if n < 0 or offset < 0:
            raise ValueError("negative size or offset")
        head = self.head
        end = offset + n
        if end <= len(head):
            return head[offset:end]
        parts = [head[offset:]] if offset < len(head) else []
        pos = max(offset, len(head))
        while pos < end:
            chunk = os.pread(self.fd, end - pos, pos)
            if not chunk:
                break
            parts.append(chunk)
            pos += len(chunk)
        return b"".join(parts)


class ReaderAt:
    """Positional reads of one blob; ``size`` is the size when it was opened.

    Reading past the end returns the bytes that exist (possibly ``b""``), as a
    short read does in Go.  Closing twice is harmless.
    """

    def __init__(self, path: os.PathLike | str):
        # O_NOFOLLOW: a symlink planted in blobs/ is never followed.
        self._fd: int | None = open_blob(path)
        self.path = os.fspath(path)
        self.size = os.fstat(self._fd).st_size

    def _check(self) -> int:
        if self._fd is None:
            raise ValueError(f"read from closed blob reader ({self.path})")
        return self._fd

    def read_at(self, n: int, offset: int) -> bytes:
        """Up to ``n`` bytes from ``offset``; shorter at the end of the blob."""
        if n < 0 or offset < 0:
            raise ValueError("negative size or offset")
        fd = self._check()
        parts = []
        while n > 0:
            chunk = os.pread(fd, n, offset)
            if not chunk:
                break
            parts.append(chunk)
            n -= len(chunk)
            offset += len(chunk)
        return b"".join(parts)

    def chunks(self, size: int = CHUNK, offset: int = 0) -> Iterator[bytes]:
        """Sequential reads from ``offset`` to ``self.size`` (the size captured at open)."""
        fd = self._check()
        end = self.size
        while offset < end:
            chunk = os.pread(fd, min(size, end - offset), offset)
            if not chunk:
                break
            yield chunk
            offset += len(chunk)

    def read_all(self) -> bytes:
        return self.read_at(self.size, 0)

    def fileno(self) -> int:
        return self._check()

    def close(self) -> None:
        if self._fd is not None:
            fd, self._fd = self._fd, None
            os.close(fd)

    @property
    def closed(self) -> bool:
        return self._fd is None

    def __enter__(self) -> "ReaderAt":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:  # noqa: BLE001 - interpreter shutdown
            pass
