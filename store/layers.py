"""Read what is inside a layer blob, streaming: the tar entries, and the text of one file.

A layer is a tar archive, plain, gzip- or zstd-compressed.  Layers are often hundreds
of MiB, so nothing here holds a layer in memory: the blob is read through the store's
``reader_at`` in 1 MiB chunks, decompressed on the fly (``gzip`` / ``zstandard``) and
handed to ``tarfile`` in stream mode, which reads each header once, in order.
"""

from __future__ import annotations

import gzip
import io
import logging
import posixpath
import tarfile
import zlib
from dataclasses import dataclass
from typing import Callable, Iterator

import zstandard

from . import errors
from .digest import Digest
from .oci import archive_format, looks_like_text

log = logging.getLogger(__name__)

CHUNK = 1 << 20
PREVIEW_LIMIT = 1 << 20  # bytes of one file read for a preview

_TYPES = {
    tarfile.REGTYPE: "file", tarfile.AREGTYPE: "file", tarfile.CONTTYPE: "file",
    tarfile.DIRTYPE: "dir", tarfile.SYMTYPE: "symlink", tarfile.LNKTYPE: "hardlink",
    tarfile.CHRTYPE: "char", tarfile.BLKTYPE: "block", tarfile.FIFOTYPE: "fifo",
}


# What a damaged stream raises (gzip.BadGzipFile is an OSError; other OSErrors are the disk's).
_DAMAGE = (tarfile.TarError, EOFError, zlib.error, gzip.BadGzipFile, zstandard.ZstdError)


class NotALayer(errors.FailedPrecondition):
    """The blob is not a (readable) tar layer: it cannot be listed."""


@dataclass(frozen=True)
class LayerEntry:
    path: str            # normalised: no leading "./" or "/"
    type: str            # file, dir, symlink, hardlink, char, block, fifo, other
    size: int
    mode: int
    mtime: int
    uid: int
    gid: int
    linkname: str = ""
    whiteout: bool = False   # an overlay whiteout: ".wh.<name>" deletes <name> from lower layers
    unsafe: bool = False     # the archive named it absolutely or climbing out with "..": ``path`` is clamped

    def to_json(self) -> dict:
        d = {"path": self.path, "type": self.type, "size": self.size, "mode": oct(self.mode),
             "mtime": self.mtime, "uid": self.uid, "gid": self.gid}
        if self.linkname:
            d["linkname"] = self.linkname
        if self.whiteout:
            d["whiteout"] = True
        if self.unsafe:
            d["unsafe"] = True
        return d


@dataclass(frozen=True)
class LayerFile:
    """A file read from a layer for a preview."""

    path: str
    size: int            # the file's full size in the tar
    data: bytes          # at most the limit asked for
    truncated: bool

    @property
    def is_text(self) -> bool:
        return looks_like_text(self.data)

    def text(self) -> str:
        """The data as text (invalid UTF-8 shown as U+FFFD); for display as plain text only."""
        return self.data.decode("utf-8", errors="replace")


def normalise(path: str) -> str:
    p = posixpath.normpath("/" + path.lstrip("/"))
    return "" if p == "/" else p.lstrip("/")


class _BlobFile(io.RawIOBase):
    """A sequential file over ``read_at``, that polls ``cancel`` on each read."""

    def __init__(self, reader, cancel: Callable[[], bool] | None, digest: str):
        self._r = reader
        self._pos = 0
        self._cancel = cancel
        self._digest = digest

    def readable(self) -> bool:
        return True

    def readinto(self, b) -> int:
        if self._cancel is not None and self._cancel():
            raise errors.Cancelled(f"reading layer {self._digest} was stopped")
        n = min(len(b), CHUNK, self._r.size - self._pos)
        if n <= 0:
            return 0
        data = self._r.read_at(n, self._pos)
        b[:len(data)] = data
        self._pos += len(data)
        return len(data)


def _decompressed(reader, cancel, digest: str):
    """A file object yielding the tar bytes of the blob."""
    packing = archive_format(reader.read_at(min(reader.size, 512), 0), reader.size)
    raw = io.BufferedReader(_BlobFile(reader, cancel, digest), CHUNK)
    if packing == "gzip":
        return gzip.GzipFile(fileobj=raw, mode="rb")
    if packing == "zstd":
        return zstandard.ZstdDecompressor().stream_reader(raw, read_size=CHUNK, read_across_frames=True)
    if packing == "tar":
        return raw
    raise NotALayer(f"blob {digest} is not a layer: it is neither a tar archive nor gzip or zstd data")


def unsafe_name(name: str) -> bool:
    """True for a tar name that is absolute or climbs above the root with ``..``."""
    if name.startswith("/"):
        return True
    depth = 0
    for part in name.split("/"):
        if part == "..":
            depth -= 1
            if depth < 0:
                return True
        elif part not in ("", "."):
            depth += 1
    return False


def _entry(m: tarfile.TarInfo) -> LayerEntry:
    path = normalise(m.name)
    base = posixpath.basename(path)
    return LayerEntry(path, _TYPES.get(m.type, "other"), m.size if m.isreg() else 0, m.mode,
                      int(m.mtime), m.uid, m.gid, m.linkname, base.startswith(".wh."),
                      unsafe_name(m.name))


def _open_tar(store, digest, cancel):
    d = Digest(digest)
    reader = store.reader_at(d)
    try:
        tar = tarfile.open(fileobj=_decompressed(reader, cancel, str(d)), mode="r|")
    except tarfile.ReadError as e:
        reader.close()
        raise NotALayer(f"blob {d} could not be read as a tar archive ({e})") from e
    except BaseException:
        reader.close()
        raise
    return d, reader, tar


def _members(tar: tarfile.TarFile, d: Digest, cancel) -> Iterator[tarfile.TarInfo]:
    """The tar's members in order; damage part-way is :class:`NotALayer`, ``cancel()`` is polled."""
    n = 0
    while True:
        try:
            m = tar.next()
        except _DAMAGE as e:
            raise NotALayer(f"layer {d} is damaged after {n} entries ({e}); the list is incomplete") from e
        if m is None:
            return
        if cancel is not None and cancel():  # between entries too: a small layer is one read
            raise errors.Cancelled(f"reading layer {d} was stopped after {n} entries")
        n += 1
        yield m


def iter_layer(store, digest, *, cancel: Callable[[], bool] | None = None) -> Iterator[LayerEntry]:
    """Yield the entries of a layer blob in archive order, reading it as a stream.

    Raises :class:`NotALayer` for a blob that is not a tar (possibly compressed), or
    when the data is damaged part-way (the entries before the damage were yielded),
    and :class:`errors.Cancelled` when ``cancel()`` turns true.
    """
    d, reader, tar = _open_tar(store, digest, cancel)
    try:
        for m in _members(tar, d, cancel):
            yield _entry(m)
    finally:
        tar.close()
        reader.close()


def list_layer(store, digest, *, cancel: Callable[[], bool] | None = None,
               limit: int | None = None) -> tuple[list[LayerEntry], bool]:
    """All entries of a layer (at most ``limit``), and whether the list was cut at the limit."""
    out: list[LayerEntry] = []
    for e in iter_layer(store, digest, cancel=cancel):
        if limit is not None and len(out) >= limit:
            return out, True
        out.append(e)
    return out, False


def read_layer_file(store, digest, path: str, *, max_bytes: int = PREVIEW_LIMIT,
                    cancel: Callable[[], bool] | None = None) -> LayerFile:
    """Read the first ``max_bytes`` of the file ``path`` inside a layer.

    A hard link is followed to the file it names (a second pass over the layer,
    because a stream cannot go back); a symbolic link is not followed, since its target
    usually lives in another layer.  Raises :class:`errors.NotFound` when the layer has
    no such regular file.
    """
    want = normalise(path)
    for _ in range(8):  # hard links to hard links: bounded, a loop cannot hang us
        d, reader, tar = _open_tar(store, digest, cancel)
        try:
            target = None
            for m in _members(tar, d, cancel):
                if normalise(m.name) != want:
                    continue
                if m.islnk():
                    target = normalise(m.linkname)
                    break
                if not m.isreg():
                    kind = _TYPES.get(m.type, "other")
                    raise errors.NotFound(f"{want!r} in layer {d} is a {kind}, not a file; "
                                          "only regular files can be previewed")
                f = tar.extractfile(m)
                data = f.read(max_bytes) if f is not None else b""
                return LayerFile(want, m.size, data, m.size > len(data))
        finally:
            tar.close()
            reader.close()
        if target is None:
            break
        want = target
    raise errors.NotFound(f"layer {d} has no file {normalise(path)!r}")


__all__ = ["LayerEntry", "LayerFile", "NotALayer", "iter_layer", "list_layer", "read_layer_file",
           "looks_like_text", "normalise", "unsafe_name"]
