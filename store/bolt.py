"""A small read-only reader for bbolt (boltdb) files, and containerd's ``meta.db`` schema on top.

Only what a forensic reader needs: meta pages (0 and 1; the valid one with the newest
transaction wins), branch and leaf pages, overflow pages, nested and inline buckets.
It never writes, and it never opens the daemon's own ``meta.db``: :func:`open_copy`
copies the file to a temp file first, and refuses (saying why) when a running daemon
holds the file's lock, because a live copy may be torn.

bbolt's on-disk format (go.etcd.io/bbolt, little-endian on the platforms containerd ships):

* page header, 16 bytes: ``id u64, flags u16, count u16, overflow u32``; a page spans
  ``(1 + overflow) * page_size`` bytes;
* meta, after the header: ``magic u32 = 0xED0CDAED, version u32 = 2, page_size u32,
  flags u32, root bucket (root u64, sequence u64), freelist u64, pgid u64, txid u64,
  checksum u64`` (FNV-1a 64 of the 56 bytes before it);
* branch element, 16 bytes: ``pos u32, ksize u32, pgid u64`` (pos from the element);
* leaf element, 16 bytes: ``flags u32 (1 = bucket), pos u32, ksize u32, vsize u32``;
* a bucket value is ``root u64, sequence u64``; root 0 means the bucket's page follows inline.

The containerd part (containerd-store.md §6.3): ``v1/<namespace>/content/blob/<digest>/{createdat,
updatedat, size, labels/}``, ``.../content/ingests/<ref>/{ref, expireat, expected}``,
``.../leases/<id>/{createdat, labels/, content/, ingests/}``, ``v1/<namespace>/labels/``.
"""

from __future__ import annotations

import errno
import fcntl
import logging
import os
import shutil
import struct
import tempfile
import weakref
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Iterator

from . import errors
from .digest import Digest
from .timestamps import Timestamp
from .types import Info

log = logging.getLogger(__name__)

MAGIC = 0xED0CDAED
VERSION = 2
PAGE_HEADER = struct.Struct("<QHHI")
META = struct.Struct("<IIIIQQQQQQ")
BRANCH_ELEM = struct.Struct("<IIQ")
LEAF_ELEM = struct.Struct("<IIII")
BUCKET_HEADER = struct.Struct("<QQ")

BRANCH_PAGE, LEAF_PAGE, META_PAGE, FREELIST_PAGE = 0x01, 0x02, 0x04, 0x10
BUCKET_LEAF = 0x01

_FNV_OFFSET = 0xCBF29CE484222325
_FNV_PRIME = 0x100000001B3
_MASK64 = (1 << 64) - 1
_MAX_DEPTH = 64  # a real tree is a handful of levels deep; deeper means a cycle in a damaged file


class BoltError(errors.InvalidArgument):
    """The file is not a bbolt database, or it is damaged."""


class DatabaseLocked(errors.FailedPrecondition):
    """A running process (the containerd daemon) holds the database's lock."""

    def __init__(self, message: str, *, path: Path, holder_pid: int | None):
        super().__init__(message)
        self.path = path
        self.holder_pid = holder_pid
        self.address: str | None = None  # the daemon's socket, when the caller could find it


def fnv1a64(data: bytes) -> int:
    h = _FNV_OFFSET
    for b in data:
        h = ((h ^ b) * _FNV_PRIME) & _MASK64
    return h


@dataclass(frozen=True)
class Meta:
    page_size: int
    flags: int
    root: int
    sequence: int
    freelist: int
    pgid: int
    txid: int


def _parse_meta(buf, offset: int) -> Meta | None:
    """The meta at ``offset`` (a page start), or None when it is not valid."""
    start = offset + PAGE_HEADER.size
    if len(buf) < start + META.size:
        return None
    magic, version, page_size, flags, root, seq, freelist, pgid, txid, checksum = META.unpack_from(buf, start)
    if magic != MAGIC or version != VERSION:
        return None
    if fnv1a64(bytes(buf[start:start + META.size - 8])) != checksum:
        return None
    if page_size < 512 or page_size & (page_size - 1):
        return None
    return Meta(page_size, flags, root, seq, freelist, pgid, txid)


class BoltDB:
    """A bbolt file read into memory.  Use :func:`open_copy` for a daemon's file."""

    def __init__(self, path: os.PathLike | str, *, data: bytes | None = None):
        self.path = Path(path)
        if data is not None:
            self._map = data  # already read into memory (read_private): that is the private copy
        else:
            try:
                # Read whole: the file is our private copy, and bytes have no mmap lifetime traps.
                self._map = self.path.read_bytes()
            except OSError as exc:
                raise errors.NotFound(f"cannot open bolt database {self.path}: {exc.strerror or exc}") from exc
        size = len(self._map)
        if size < 2 * 512:
            raise BoltError(f"{self.path} is not a bolt database: only {size} bytes")
        self.meta = self._choose_meta()
        self.page_size = self.meta.page_size
        log.debug("opened %s: page size %d, txid %d", self.path, self.page_size, self.meta.txid)

    def _choose_meta(self) -> Meta:
        # Meta 0 tells the page size; if it is torn, meta 1 sits at one of the usual sizes.
        metas = []
        m0 = _parse_meta(self._map, 0)
        if m0:
            metas.append(m0)
        for size in ([m0.page_size] if m0 else []) + [4096, 8192, 16384, 32768, 65536, 1024, 2048]:
            m1 = _parse_meta(self._map, size)
            if m1 and m1.page_size == size:
                metas.append(m1)
                break
        if not metas:
            raise BoltError(f"{self.path} is not a bolt database, or both of its meta pages are damaged")
        whole = [m for m in metas if m.pgid * m.page_size <= len(self._map)]
        if not whole:
            m = max(metas, key=lambda m: m.txid)
            raise BoltError(f"{self.path} is truncated: its meta names {m.pgid} pages of {m.page_size} bytes, "
                            f"but the file has {len(self._map)} bytes (copy it again, from a stopped daemon)")
        metas = whole
        return max(metas, key=lambda m: m.txid)

    def close(self) -> None:
        self._map = b""

    def __enter__(self) -> "BoltDB":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    @property
    def root(self) -> "Bucket":
        return Bucket(self, self.meta.root, None, self.meta.sequence)

    # -- pages ---------------------------------------------------------------------

    def page(self, pgid: int) -> tuple[memoryview, int, int]:
        """(bytes of the page including overflow, flags, count)."""
        if pgid < 2 or pgid >= self.meta.pgid:
            raise BoltError(f"{self.path}: page {pgid} is outside the database (damaged file?)")
        offset = pgid * self.page_size
        if offset + PAGE_HEADER.size > len(self._map):
            raise BoltError(f"{self.path}: page {pgid} lies past the end of the file (truncated copy?)")
        pid, flags, count, overflow = PAGE_HEADER.unpack_from(self._map, offset)
        if pid != pgid:
            raise BoltError(f"{self.path}: page {pgid} carries id {pid} (damaged file)")
        end = offset + (1 + overflow) * self.page_size
        if end > len(self._map):
            raise BoltError(f"{self.path}: page {pgid} and its overflow run past the end of the file")
        return memoryview(self._map)[offset:end], flags, count


def _page_items(db: BoltDB, page: memoryview, flags: int, count: int, depth: int) -> Iterator[tuple[bytes, bytes, int]]:
    """(key, value, leaf flags) of a page and its subtree, in key order.

    One generator for the whole subtree (a stack of pages still to read, not one generator per
    level): a big bucket is read element by element without a chain of ``yield from``.
    """
    stack: list[tuple[int, int]] = []  # (child page id, depth), the next one to read last
    seen: set[int] = set()
    base = PAGE_HEADER.size
    unpack_leaf = LEAF_ELEM.unpack_from
    while True:
        if depth > _MAX_DEPTH:
            raise BoltError(f"{db.path}: the page tree is deeper than {_MAX_DEPTH} levels (damaged file)")
        if base + count * 16 > len(page):  # both element kinds are 16 bytes
            raise BoltError(f"{db.path}: a page claims {count} elements, more than it holds (damaged file)")
        if flags & BRANCH_PAGE:
            children = [BRANCH_ELEM.unpack_from(page, base + i * BRANCH_ELEM.size)[2] for i in range(count)]
            # A page reached twice in one tree means a damaged file; without this check branch
            # pages pointing at each other could make a walk visit exponentially many pages.
            for child in children:
                if child in seen:
                    raise BoltError(f"{db.path}: page {child} appears twice in one tree (damaged file)")
                seen.add(child)
            stack.extend((child, depth + 1) for child in reversed(children))
        elif flags & LEAF_PAGE:
            size = len(page)
            for i in range(count):
                at = base + i * 16  # LEAF_ELEM.size
                eflags, pos, ksize, vsize = unpack_leaf(page, at)
                k0 = at + pos
                v0 = k0 + ksize
                if v0 + vsize > size:
                    raise BoltError(f"{db.path}: a leaf element points past its page (damaged file)")
                yield bytes(page[k0:v0]), bytes(page[v0:v0 + vsize]), eflags
        elif count:
            raise BoltError(f"{db.path}: expected a branch or leaf page, found flags {flags:#x} (damaged file)")
        if not stack:
            return
        child, depth = stack.pop()
        page, flags, count = db.page(child)


def _elem_key(db: BoltDB, page: memoryview, at: int, skip: int) -> bytes:
    """The key of the branch (``skip`` 0) or leaf (``skip`` 4) element at ``at``; ``pos`` counts from the element."""
    pos, ksize = struct.unpack_from("<II", page, at + skip)
    k0 = at + pos
    if k0 + ksize > len(page):
        raise BoltError(f"{db.path}: a page element points past its page (damaged file)")
    return bytes(page[k0:k0 + ksize])


class Bucket:
    """A bucket: keys with values and keys with nested buckets, read on demand."""

    def __init__(self, db: BoltDB, root: int, inline: bytes | None, sequence: int, depth: int = 0):
        self._db = db
        self._root = root
        self._inline = inline
        self.sequence = sequence
        self._depth = depth

    def _items(self) -> Iterator[tuple[bytes, bytes, int]]:
        """(key, value, leaf flags) of every element: the page walk itself, not a generator around it."""
        if self._root == 0:
            if self._inline is None or len(self._inline) < PAGE_HEADER.size:
                return iter(())
            page = memoryview(self._inline)
            _pid, flags, count, _ov = PAGE_HEADER.unpack_from(page, 0)
            return _page_items(self._db, page, flags, count, self._depth)
        page, flags, count = self._db.page(self._root)
        return _page_items(self._db, page, flags, count, self._depth)

    def _sub(self, value: bytes) -> "Bucket":
        if len(value) < BUCKET_HEADER.size:
            raise BoltError(f"{self._db.path}: a bucket header is {len(value)} bytes (damaged file)")
        root, seq = BUCKET_HEADER.unpack_from(value, 0)
        if self._depth + 1 > _MAX_DEPTH:
            raise BoltError(f"{self._db.path}: buckets nest deeper than {_MAX_DEPTH} levels (damaged file)")
        inline = value[BUCKET_HEADER.size:] if root == 0 else None
        return Bucket(self._db, root, inline, seq, self._depth + 1)

    def items(self) -> Iterator[tuple[bytes, "bytes | Bucket"]]:
        """Every key in order, with its value or its nested :class:`Bucket`."""
        for key, value, flags in self._items():
            yield key, (self._sub(value) if flags & BUCKET_LEAF else value)

    def subtrees(self) -> Iterator[tuple[bytes, dict]]:
        """(key, :func:`tree` of the nested bucket) for every nested bucket, in key order.

        The fast way through a bucket of records (containerd's blobs, snapshots, leases...):
        each record is decoded whole into plain dicts, with no :class:`Bucket` objects in between.
        """
        db, depth = self._db, self._depth + 1
        if depth > _MAX_DEPTH:
            raise BoltError(f"{db.path}: buckets nest deeper than {_MAX_DEPTH} levels (damaged file)")
        for key, value, flags in self._items():
            if flags & BUCKET_LEAF:
                yield key, _tree_of(db, value, depth)

    def tree(self) -> dict:
        """The whole bucket as a dict: values as bytes, nested buckets as dicts (recursively)."""
        out: dict = {}
        for key, value, flags in self._items():
            out[key] = _tree_of(self._db, value, self._depth + 1) if flags & BUCKET_LEAF else value
        return out

    def values(self) -> Iterator[tuple[bytes, bytes]]:
        for key, value, flags in self._items():
            if not flags & BUCKET_LEAF:
                yield key, value

    def buckets(self) -> Iterator[tuple[bytes, "Bucket"]]:
        for key, value, flags in self._items():
            if flags & BUCKET_LEAF:
                yield key, self._sub(value)

    def _seek(self, key: bytes) -> tuple[bytes, int] | None:
        """(value, leaf flags) under ``key``, found by descending the tree as bbolt's cursor does."""
        if self._root == 0:
            if self._inline is None or len(self._inline) < PAGE_HEADER.size:
                return None
            page = memoryview(self._inline)
            _pid, flags, count, _ov = PAGE_HEADER.unpack_from(page, 0)
        else:
            page, flags, count = self._db.page(self._root)
        db, depth = self._db, self._depth
        while flags & BRANCH_PAGE:
            if depth > _MAX_DEPTH:
                raise BoltError(f"{db.path}: the page tree is deeper than {_MAX_DEPTH} levels (damaged file)")
            # The last child whose first key is <= key (the first child when key sorts before all).
            lo, hi = 0, count
            while lo < hi:
                mid = (lo + hi) // 2
                if _elem_key(db, page, PAGE_HEADER.size + mid * BRANCH_ELEM.size, 0) <= key:
                    lo = mid + 1
                else:
                    hi = mid
            if not count:
                return None
            _pos, _ksize, child = BRANCH_ELEM.unpack_from(page, PAGE_HEADER.size + max(lo - 1, 0) * BRANCH_ELEM.size)
            page, flags, count = db.page(child)
            depth += 1
        if not flags & LEAF_PAGE:
            if count:
                raise BoltError(f"{db.path}: expected a branch or leaf page, found flags {flags:#x} (damaged file)")
            return None
        lo, hi = 0, count
        while lo < hi:
            mid = (lo + hi) // 2
            at = PAGE_HEADER.size + mid * LEAF_ELEM.size
            k = _elem_key(db, page, at, 4)
            if k < key:
                lo = mid + 1
            elif k > key:
                hi = mid
            else:
                eflags, pos, ksize, vsize = LEAF_ELEM.unpack_from(page, at)
                v0 = at + pos + ksize
                if v0 + vsize > len(page):
                    raise BoltError(f"{db.path}: a leaf element points past its page (damaged file)")
                return bytes(page[v0:v0 + vsize]), eflags
        return None

    def get(self, key: bytes) -> bytes | None:
        found = self._seek(key)
        return found[0] if found is not None and not found[1] & BUCKET_LEAF else None

    def bucket(self, *path: bytes) -> "Bucket | None":
        b: Bucket = self
        for key in path:
            found = b._seek(key)
            if found is None or not found[1] & BUCKET_LEAF:
                return None
            b = b._sub(found[0])
        return b


def _tree_of(db: BoltDB, value: bytes, depth: int) -> dict:
    """A nested bucket's header + content (``value``) decoded into a dict, inline pages without generators."""
    if len(value) < 16:  # BUCKET_HEADER.size
        raise BoltError(f"{db.path}: a bucket header is {len(value)} bytes (damaged file)")
    if depth > _MAX_DEPTH:
        raise BoltError(f"{db.path}: buckets nest deeper than {_MAX_DEPTH} levels (damaged file)")
    root = int.from_bytes(value[:8], "little")
    out: dict = {}
    if root:
        page, flags, count = db.page(root)
        for key, v, eflags in _page_items(db, page, flags, count, depth):
            out[key] = _tree_of(db, v, depth + 1) if eflags & BUCKET_LEAF else v
        return out
    if len(value) < 32:  # header + page header: an empty inline bucket
        return out
    flags, count = struct.unpack_from("<HH", value, 24)
    if not flags & LEAF_PAGE:
        if count:
            raise BoltError(f"{db.path}: an inline bucket is not a leaf page (damaged file)")
        return out
    size = len(value)
    if 32 + count * 16 > size:
        raise BoltError(f"{db.path}: an inline bucket claims {count} elements, more than it holds (damaged file)")
    unpack = LEAF_ELEM.unpack_from
    for i in range(count):
        at = 32 + i * 16  # bucket header + page header + i * leaf element
        eflags, pos, ksize, vsize = unpack(value, at)
        k0 = at + pos
        v0 = k0 + ksize
        if v0 + vsize > size:
            raise BoltError(f"{db.path}: a leaf element points past its page (damaged file)")
        if eflags & BUCKET_LEAF:
            out[value[k0:v0]] = _tree_of(db, value[v0:v0 + vsize], depth + 1)
        else:
            out[value[k0:v0]] = value[v0:v0 + vsize]
    return out


# -- opening a daemon's file safely ----------------------------------------------------------

def lock_holder(path: Path) -> int | None:
    """The pid holding a lock on ``path`` per /proc/locks, when it can be told."""
    try:
        st = os.stat(path)
        text = Path("/proc/locks").read_text()
    except OSError:
        return None
    want = f":{st.st_ino}"
    for line in text.splitlines():
        parts = line.split()
        # "1: FLOCK  ADVISORY  WRITE 1234 08:01:5678 0 EOF"
        if len(parts) >= 6 and parts[1] in ("FLOCK", "POSIX", "OFDLCK"):
            dev_ino = parts[5]
            if dev_ino.endswith(want) and parts[4].isdigit():
                return int(parts[4])
    return None


def check_unlocked(path: Path) -> None:
    """Raise :class:`DatabaseLocked` if another process holds the file's bbolt lock."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError as exc:
        raise errors.NotFound(f"cannot open {path}: {exc.strerror or exc}") from exc
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except OSError as exc:
        if exc.errno not in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
            raise
        pid = lock_holder(path)
        who = f"process {pid}" if pid else "another process"
        raise DatabaseLocked(
            f"{path} is locked by {who}, most likely a running containerd; "
            "connect to that daemon through its socket instead (blobctl --address ...), "
            "or stop it before reading its files",
            path=path, holder_pid=pid,
        ) from None
    finally:
        os.close(fd)  # closing drops our shared lock again


class CopiedDB(BoltDB):
    """A :class:`BoltDB` over a private temp copy; closing it deletes the copy."""

    def __init__(self, original: Path, copy: Path, tmpdir: str):
        self.original = original
        # The copy goes away with this object even if nobody calls close().
        self._cleanup = weakref.finalize(self, shutil.rmtree, tmpdir, ignore_errors=True)
        try:
            super().__init__(copy)
        except BaseException:
            self._cleanup()
            raise

    def close(self) -> None:
        try:
            super().close()
        finally:
            self._cleanup()


def read_private(path: os.PathLike | str, *, allow_locked: bool = False) -> BoltDB:
    """``path`` read once into memory, the private copy, and opened from there (no temp file).

    The same refusals as :func:`open_copy`: a file locked by a running daemon is refused unless
    ``allow_locked``.  Nothing is written anywhere; the original is only read, start to end.
    """
    path = Path(path)
    if not path.is_file():
        raise errors.NotFound(f"no bolt database at {path}")
    if allow_locked:
        try:
            check_unlocked(path)
        except DatabaseLocked as exc:
            log.warning("reading %s although it is locked: %s", path, exc)
    else:
        check_unlocked(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise errors.Unknown(f"cannot read {path}: {exc.strerror or exc}") from exc
    return BoltDB(path, data=data)


def open_copy(path: os.PathLike | str, *, allow_locked: bool = False) -> CopiedDB:
    """Copy ``path`` to a temp file and open the copy; the original is never mapped.

    A locked file belongs to a running daemon whose writes could tear the copy, so it is
    refused unless ``allow_locked`` (then the copy is still checked page by page as read).
    """
    path = Path(path)
    if not path.is_file():
        raise errors.NotFound(f"no bolt database at {path}")
    if allow_locked:
        try:
            check_unlocked(path)
        except DatabaseLocked as exc:
            log.warning("copying %s although it is locked: %s", path, exc)
    else:
        check_unlocked(path)
    tmpdir = tempfile.mkdtemp(prefix="blobscope-metadb-")
    copy = Path(tmpdir, "meta.db")
    try:
        shutil.copyfile(path, copy)
    except OSError as exc:
        shutil.rmtree(tmpdir, ignore_errors=True)
        raise errors.Unknown(f"cannot copy {path} to {copy}: {exc.strerror or exc}") from exc
    return CopiedDB(path, copy, tmpdir)


# -- Go encodings used by containerd ----------------------------------------------------------

_GO_UNIX_TO_INTERNAL = 62135596800  # seconds from 0001-01-01 to 1970-01-01


_GO_TIME = struct.Struct(">qi")


def go_time_ns(data: bytes) -> int:
    """Go's ``time.Time.MarshalBinary`` (versions 1 and 2) as ns since the Unix epoch."""
    if not data or data[0] not in (1, 2):
        raise BoltError(f"not a Go binary time: {bytes(data[:16]).hex()}")
    need = 15 if data[0] == 1 else 16
    if len(data) != need:
        raise BoltError(f"Go binary time of version {data[0]} has {len(data)} bytes, not {need}")
    sec, nsec = _GO_TIME.unpack_from(data, 1)
    # The zone offset (minutes) only affects display; the instant is sec/nsec.
    return (sec - _GO_UNIX_TO_INTERNAL) * 1_000_000_000 + nsec


def go_time(data: bytes) -> Timestamp:
    """Go's ``time.Time.MarshalBinary`` (versions 1 and 2) as a UTC :class:`Timestamp`."""
    return Timestamp.from_ns(go_time_ns(data))


def go_varint(data: bytes) -> int:
    """Go's ``binary.Varint`` (zig-zag) of the whole value."""
    result = shift = 0
    for i, b in enumerate(data):
        result |= (b & 0x7F) << shift
        if not b & 0x80:
            if i != len(data) - 1:
                raise BoltError(f"varint {bytes(data).hex()} has trailing bytes")
            return (result >> 1) ^ -(result & 1)
        shift += 7
        if shift > 63:
            break
    raise BoltError(f"bad varint {bytes(data).hex()}")


# -- containerd's schema ---------------------------------------------------------------------

@dataclass(frozen=True)
class IngestRecord:
    """An ingest as the metadata layer records it (the bytes live in the content root)."""

    namespace: str
    ref: str  # the user's ref
    backend_ref: str  # "<namespace>/<n>/<ref>": names the ingest directory (sha256 of it)
    expire_at: datetime | None  # None while a lease holds it
    expected: Digest | None  # set for a shared ingest only


@dataclass(frozen=True)
class LeaseRecord:
    namespace: str
    id: str
    created_at: datetime | None
    labels: dict[str, str] = field(default_factory=dict)
    content: tuple[str, ...] = ()
    ingests: tuple[str, ...] = ()


def _text(b: bytes) -> str:
    return b.decode("utf-8", errors="replace")


def _labels(bucket: "Bucket | None") -> dict[str, str]:
    if bucket is None:
        return {}
    return {_text(k): _text(v) for k, v in bucket.values()}


class ContainerdMetadata:
    """containerd's ``meta.db`` (schema v1), decoded.  Reads only; see :func:`open_metadata`."""

    def __init__(self, db: BoltDB):
        self.db = db
        v1 = db.root.bucket(b"v1")
        if v1 is None:
            raise BoltError(f"{db.path} has no v1 bucket: not containerd metadata (or a newer schema)")
        self._v1: Bucket = v1

    @property
    def version(self) -> int | None:
        raw = self._v1.get(b"version")
        return go_varint(raw) if raw is not None else None

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> "ContainerdMetadata":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def namespaces(self) -> list[str]:
        return [_text(k) for k, _b in self._v1.buckets()]

    def namespace_buckets(self) -> Iterator[tuple[bytes, Bucket]]:
        """(raw name, bucket) of every namespace in one pass over ``v1`` (for readers of the whole schema)."""
        return self._v1.buckets()

    def namespace_labels(self, namespace: str) -> dict[str, str]:
        return _labels(self._v1.bucket(namespace.encode(), b"labels"))

    def _ns(self, namespace: str, *path: bytes) -> "Bucket | None":
        return self._v1.bucket(namespace.encode(), *path)

    def blobs(self, namespace: str) -> Iterator[Info]:
        """The namespace's blob records in key order; keys that are not digests are skipped, as containerd does."""
        blob = self._ns(namespace, b"content", b"blob")
        if blob is None:
            return
        for key, bucket in blob.buckets():
            try:
                digest = Digest(_text(key))
            except errors.InvalidArgument:
                log.info("skipping blob record %r in namespace %s: not a digest", key, namespace)
                continue
            yield self._blob_info(digest, bucket)

    def blob(self, namespace: str, digest: Digest | str) -> Info | None:
        digest = Digest(digest)
        bucket = self._ns(namespace, b"content", b"blob", digest.encode())
        return self._blob_info(digest, bucket) if bucket is not None else None

    def _blob_info(self, digest: Digest, bucket: Bucket) -> Info:
        # One pass over the record's few keys: a walk decodes every blob's record.
        fields, labels = {}, {}
        for key, value in bucket.items():
            if not isinstance(value, Bucket):
                fields[key] = value
            elif key == b"labels":
                labels = _labels(value)
        created, updated, size = fields.get(b"createdat"), fields.get(b"updatedat"), fields.get(b"size")
        created_at = go_time(created) if created else Timestamp.from_ns(-_GO_UNIX_TO_INTERNAL * 1_000_000_000)
        return Info(
            digest=digest,
            size=go_varint(size) if size else 0,
            created_at=created_at,
            updated_at=go_time(updated) if updated else created_at,
            labels=labels,
        )

    def ingests(self, namespace: str) -> list[IngestRecord]:
        bucket = self._ns(namespace, b"content", b"ingests")
        if bucket is None:
            return []
        out = []
        for key, rec in bucket.buckets():
            expire = rec.get(b"expireat")
            expected = rec.get(b"expected")
            try:
                exp_digest = Digest(_text(expected)) if expected else None
            except errors.InvalidArgument:
                exp_digest = None
            out.append(IngestRecord(
                namespace=namespace, ref=_text(key), backend_ref=_text(rec.get(b"ref") or b""),
                expire_at=go_time(expire) if expire else None, expected=exp_digest,
            ))
        return out

    def leases(self, namespace: str) -> list[LeaseRecord]:
        bucket = self._ns(namespace, b"leases")
        if bucket is None:
            return []
        out = []
        for key, rec in bucket.buckets():
            created = rec.get(b"createdat")
            content = rec.bucket(b"content")
            ingests = rec.bucket(b"ingests")
            out.append(LeaseRecord(
                namespace=namespace, id=_text(key),
                created_at=go_time(created) if created else None,
                labels=_labels(rec.bucket(b"labels")),
                content=tuple(_text(k) for k, _ in content.items()) if content else (),
                ingests=tuple(_text(k) for k, _ in ingests.items()) if ingests else (),
            ))
        return out


def open_metadata(path: os.PathLike | str, *, allow_locked: bool = False) -> ContainerdMetadata:
    """containerd's ``meta.db`` at ``path``, read from a private copy (see :func:`open_copy`)."""
    db = open_copy(path, allow_locked=allow_locked)
    try:
        return ContainerdMetadata(db)
    except BaseException:
        db.close()
        raise


__all__ = [
    "BoltDB", "Bucket", "BoltError", "DatabaseLocked", "open_copy", "read_private", "check_unlocked",
    "ContainerdMetadata", "IngestRecord", "LeaseRecord", "open_metadata", "go_time", "go_time_ns", "go_varint",
]
