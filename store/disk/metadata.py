"""containerd's ``meta.db`` as plain records: what its garbage collector walks, per namespace.

The layout is containerd 1.6's (``metadata/buckets.go``)::

    v1/<namespace>/images/<name>/{createdat, updatedat, target/{digest, mediatype, size}, labels/}
    v1/<namespace>/containers/<id>/{createdat, updatedat, image, snapshotter, snapshotKey, labels/}
    v1/<namespace>/snapshots/<snapshotter>/<key>/{name, parent, createdat, updatedat, children/, labels/}
    v1/<namespace>/content/blob/<digest>/{createdat, updatedat, size, labels/}
    v1/<namespace>/content/ingests/<ref>/{ref, expireat, expected}
    v1/<namespace>/leases/<id>/{createdat, labels/, content/<digest>, snapshots/<snapshotter>/<key>,
                                ingests/<ref>}

Everything is read through :mod:`store.bolt` from a private copy of the file, one pass over
each namespace.  A field that cannot be decoded (a torn time, a bad varint, an expiry label
that is not RFC 3339) does not stop the read: the record keeps what could be read and says
what could not in its ``problems``.  A damaged page of the file itself is a
:class:`store.bolt.BoltError` (one line, nothing half-read is returned).
"""

from __future__ import annotations

import contextlib
import gc as pygc
import hashlib
import os
import re
import stat
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator, Mapping

from .. import bolt
from ..containerd_root import CONTENT_DIR, METADATA_DB
from ..timestamps import Timestamp

LABEL_GC_EXPIRE = "containerd.io/gc.expire"
LABEL_GC_FLAT = "containerd.io/gc.flat"
LABEL_GC_ROOT = "containerd.io/gc.root"

# The per-record loops over 100k records hand the GIL over every HAND_OVER records
# (``if not i & HAND_OVER_MASK: time.sleep(0)``, about 1 µs): a GUI worker running them would
# otherwise keep it for the interpreter's whole switch interval (5 ms) each time the GUI thread
# asks, once per Qt call it makes.  A single-threaded blobctl pays about 0.5 ms per 100k records.
HAND_OVER = 256
HAND_OVER_MASK = HAND_OVER - 1

Labels = Mapping[str, str]


# -- the records -------------------------------------------------------------------------------

class _Stamped:
    """Creation and update times kept as ns integers (100k records: no datetime until one is asked for)."""

    created_ns: int | None
    updated_ns: int | None

    @property
    def created_at(self) -> Timestamp | None:
        return Timestamp.from_ns(self.created_ns) if self.created_ns is not None else None

    @property
    def updated_at(self) -> Timestamp | None:
        return Timestamp.from_ns(self.updated_ns) if self.updated_ns is not None else None


@dataclass(frozen=True)
class Image(_Stamped):
    namespace: str
    name: str
    target_digest: str | None  # None when the record has no target (then only its labels count)
    target_media_type: str
    target_size: int
    labels: Labels = field(default_factory=dict)
    created_ns: int | None = None
    updated_ns: int | None = None
    problems: tuple[str, ...] = ()


@dataclass(frozen=True)
class Container(_Stamped):
    namespace: str
    id: str
    image: str
    snapshotter: str  # "" when the container has no snapshot
    snapshot_key: str
    labels: Labels = field(default_factory=dict)
    created_ns: int | None = None
    updated_ns: int | None = None
    problems: tuple[str, ...] = ()


@dataclass(frozen=True)
class Snapshot(_Stamped):
    """The metadata layer's record of a snapshot (what the snapshotter itself knows is another file)."""

    namespace: str
    snapshotter: str
    key: str
    name: str  # the backend snapshotter's key for it
    parent: str  # the parent's key in this namespace and snapshotter, "" for none
    children: tuple[str, ...] = ()
    labels: Labels = field(default_factory=dict)
    created_ns: int | None = None
    updated_ns: int | None = None
    problems: tuple[str, ...] = ()

    @property
    def id(self) -> str:
        """``<snapshotter>/<key>``, the name containerd's GC gives it."""
        return f"{self.snapshotter}/{self.key}"


@dataclass(frozen=True)
class Blob(_Stamped):
    namespace: str
    digest: str  # the record's key as it is (containerd's GC does not check it is a digest)
    size: int
    labels: Labels = field(default_factory=dict)
    created_ns: int | None = None
    updated_ns: int | None = None
    problems: tuple[str, ...] = ()


@dataclass(frozen=True)
class Ingest:
    namespace: str
    ref: str  # the user's ref
    backend_ref: str  # the content store's ref; names the directory ingest/<sha256(backend_ref)>
    expire_at: Timestamp | None  # None: only a lease keeps it
    expected: str  # "" unless set (a shared ingest waiting for a digest another namespace holds)
    offset: int | None = None  # bytes written so far, when the ingest's data file could be read
    problems: tuple[str, ...] = ()


@dataclass(frozen=True)
class Lease(_Stamped):
    namespace: str
    id: str
    created_ns: int | None
    labels: Labels = field(default_factory=dict)
    content: tuple[str, ...] = ()
    snapshots: tuple[tuple[str, str], ...] = ()  # (snapshotter, key)
    ingests: tuple[str, ...] = ()
    #: ``containerd.io/gc.expire`` as ns since the epoch; None when absent or not RFC 3339
    expire_ns: int | None = None
    flat: bool = False  # ``containerd.io/gc.flat`` is set (any value)
    problems: tuple[str, ...] = ()

    updated_ns = None  # leases record no update time

    @property
    def expire_text(self) -> str | None:
        return self.labels.get(LABEL_GC_EXPIRE)


@dataclass(frozen=True)
class Namespace:
    name: str
    labels: Labels = field(default_factory=dict)
    images: tuple[Image, ...] = ()
    containers: tuple[Container, ...] = ()
    leases: tuple[Lease, ...] = ()
    blobs: tuple[Blob, ...] = ()
    ingests: tuple[Ingest, ...] = ()
    snapshots: tuple[Snapshot, ...] = ()


@dataclass(frozen=True)
class Metadata:
    """Every namespace of one ``meta.db``, in key order (the order containerd walks them)."""

    namespaces: tuple[Namespace, ...]
    source: str = ""  # where it was read from, for messages
    schema_version: int | None = None

    def namespace(self, name: str) -> Namespace | None:
        for ns in self.namespaces:
            if ns.name == name:
                return ns
        return None


# A block that leaves this many more container objects alive is frozen out of the collector
# (as the GUI's scanner, image graph and disk tree do with theirs).
FREEZE_ABOVE = 100_000


@contextlib.contextmanager
def paused_gc(*, freeze: bool | None = None) -> Iterator[None]:
    """Python's cycle collector off while a whole meta.db becomes records (or is walked).

    The records hold no cycles, but reading 100k of them allocates millions of objects, and
    every collection in between would traverse the live ones again.  With ``freeze`` (for a
    short-lived process such as blobctl), what exists at the end is moved out of the
    collector's sight (``gc.freeze``) instead of being scanned once more when it is enabled
    again; refcounting still frees it.  By default (``None``) that happens when the block left
    :data:`FREEZE_ABOVE` more objects alive: the first collection after it would otherwise walk
    them all with the GIL held, a 100-350 ms stall of a GUI thread while a worker reads a 100k
    root (tests/perf/bench_disk_worker.py).  ``False`` never freezes.
    """
    was = pygc.isenabled()
    before = pygc.get_count()[0]
    pygc.disable()
    try:
        yield
    finally:
        if freeze or (freeze is None and pygc.get_count()[0] - before >= FREEZE_ABOVE):
            pygc.freeze()
        if was:
            pygc.enable()


# -- decoding helpers --------------------------------------------------------------------------
# A record arrives as a dict (bolt.Bucket.subtrees): values are bytes, nested buckets are dicts.

Tree = dict


def _text(b: bytes) -> str:
    # surrogateescape: a key that is not UTF-8 keeps its identity (and prints as \udcXX)
    return b.decode("utf-8", "surrogateescape")


def _labels(tree: object) -> dict[str, str]:
    if not tree or not isinstance(tree, dict):
        return {}
    return {k.decode("utf-8", "surrogateescape"): v.decode("utf-8", "surrogateescape")
            for k, v in tree.items() if type(v) is bytes}


def _keys(tree: object) -> tuple[str, ...]:
    if not tree or not isinstance(tree, dict):
        return ()
    return tuple(k.decode("utf-8", "surrogateescape") for k in tree)


def _sub(tree: Tree, key: bytes) -> Tree | None:
    v = tree.get(key)
    return v if isinstance(v, dict) else None


def _value(tree: Tree, key: bytes) -> bytes | None:
    v = tree.get(key)
    return v if type(v) is bytes else None


def _time(tree: Tree, key: bytes, what: str, problems: list[str]) -> int | None:
    """The Go binary time under ``key`` as ns since the epoch; a damaged one is noted in ``problems``."""
    raw = tree.get(key)
    if not raw:
        return None
    try:
        if type(raw) is not bytes:
            raise bolt.BoltError("a bucket where a value belongs")
        return bolt.go_time_ns(raw)
    except bolt.BoltError as exc:
        problems.append(f"{what}: {key.decode()} is unreadable ({exc})")
        return None


def _varint(tree: Tree, key: bytes, what: str, problems: list[str]) -> int:
    raw = tree.get(key)
    if not raw:
        return 0
    try:
        if type(raw) is not bytes:
            raise bolt.BoltError("a bucket where a value belongs")
        return bolt.go_varint(raw)
    except bolt.BoltError as exc:
        problems.append(f"{what}: {key.decode()} is unreadable ({exc})")
        return 0


def _str(tree: Tree, key: bytes) -> str:
    raw = tree.get(key)
    return raw.decode("utf-8", "surrogateescape") if type(raw) is bytes else ""


# Go's time.Parse(time.RFC3339, s) as Go 1.19 (containerd 1.6.20's) accepts it: a 4-digit year,
# 2-digit month, day, minute and second, a 1- or 2-digit hour, an optional fraction after "." or
# "," (any number of digits, the first nine count) and "Z" (upper case only) or +hh:mm / -hh:mm.
_GO_RFC3339 = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})T(\d{1,2}):(\d{2}):(\d{2})(?:[.,](\d+))?(?:(Z)|([+-])(\d{2}):(\d{2}))\Z")
_DAYS_IN_MONTH = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def _days_from_civil(y: int, m: int, d: int) -> int:
    """Days from 1970-01-01 to the proleptic Gregorian date (any year, including 0)."""
    y -= m <= 2
    era = (y if y >= 0 else y - 399) // 400
    yoe = y - era * 400
    doy = (153 * (m + (-3 if m > 2 else 9)) + 2) // 5 + d - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468


def parse_go_rfc3339(text: str) -> int:
    """``text`` as ns since the epoch, exactly when Go's ``time.Parse(time.RFC3339, text)`` succeeds.

    Raises ValueError (with Go's reason, roughly) otherwise.
    """
    m = _GO_RFC3339.match(text)
    if m is None:
        raise ValueError(f"{text!r} is not RFC 3339 (like 2006-01-02T15:04:05Z07:00)")
    year, month, day, hour, minute, second = (int(m.group(i)) for i in range(1, 7))
    for what, value, low, high in (("month", month, 1, 12), ("hour", hour, 0, 23),
                                   ("minute", minute, 0, 59), ("second", second, 0, 59)):
        if not low <= value <= high:
            raise ValueError(f"{text!r}: {what} out of range")
    leap = year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)
    if not 1 <= day <= _DAYS_IN_MONTH[month - 1] + (1 if month == 2 and leap else 0):
        raise ValueError(f"{text!r}: day out of range")
    frac = m.group(7) or ""
    nsec = int((frac[:9]).ljust(9, "0")) if frac else 0
    offset = 0
    if m.group(8) is None:
        offset = (int(m.group(10)) * 3600 + int(m.group(11)) * 60) * (1 if m.group(9) == "+" else -1)
    seconds = _days_from_civil(year, month, day) * 86400 + hour * 3600 + minute * 60 + second - offset
    return seconds * 1_000_000_000 + nsec


# -- reading -----------------------------------------------------------------------------------

def _images(ns: str, bucket: bolt.Bucket | None) -> Iterator[Image]:
    if bucket is None:
        return
    for i, (key, rec) in enumerate(bucket.subtrees()):
        if not i & HAND_OVER_MASK:
            time.sleep(0)
        name = _text(key)
        what = f"image {name}"
        problems: list[str] = []
        target = _sub(rec, b"target")
        digest, media_type, size = None, "", 0
        if target is not None:
            raw = _value(target, b"digest")
            digest = _text(raw) if raw is not None else ""  # containerd sends "" as a key too
            media_type, size = _str(target, b"mediatype"), _varint(target, b"size", what + ": target", problems)
        yield Image(ns, name, digest, media_type, size, _labels(rec.get(b"labels")),
                    _time(rec, b"createdat", what, problems), _time(rec, b"updatedat", what, problems),
                    tuple(problems))


def _containers(ns: str, bucket: bolt.Bucket | None) -> Iterator[Container]:
    if bucket is None:
        return
    for key, rec in bucket.subtrees():
        cid = _text(key)
        what = f"container {cid}"
        problems: list[str] = []
        yield Container(ns, cid, _str(rec, b"image"), _str(rec, b"snapshotter"), _str(rec, b"snapshotKey"),
                        _labels(rec.get(b"labels")), _time(rec, b"createdat", what, problems),
                        _time(rec, b"updatedat", what, problems), tuple(problems))


def _snapshots(ns: str, bucket: bolt.Bucket | None) -> Iterator[Snapshot]:
    if bucket is None:
        return
    for sn_key, per in bucket.buckets():
        snapshotter = _text(sn_key)
        for i, (key, rec) in enumerate(per.subtrees()):
            if not i & HAND_OVER_MASK:
                time.sleep(0)
            skey = _text(key)
            what = f"snapshot {snapshotter}/{skey}"
            problems: list[str] = []
            yield Snapshot(ns, snapshotter, skey, _str(rec, b"name"), _str(rec, b"parent"),
                           _keys(rec.get(b"children")), _labels(rec.get(b"labels")),
                           _time(rec, b"createdat", what, problems), _time(rec, b"updatedat", what, problems),
                           tuple(problems))


def _blobs(ns: str, bucket: bolt.Bucket | None) -> Iterator[Blob]:
    """The hot loop over a big meta.db: one dict per record, fields decoded in place."""
    if bucket is None:
        return
    go_time_ns, go_varint, BoltError = bolt.go_time_ns, bolt.go_varint, bolt.BoltError
    sleep = time.sleep
    for i, (key, rec) in enumerate(bucket.subtrees()):
        if not i & HAND_OVER_MASK:
            sleep(0)
        digest = key.decode("utf-8", "surrogateescape")
        try:
            size_raw, created, updated = rec.get(b"size"), rec.get(b"createdat"), rec.get(b"updatedat")
            size = go_varint(size_raw) if size_raw else 0
            created_ns = go_time_ns(created) if created else None
            # most records were never updated: the same bytes need no second decoding
            updated_ns = created_ns if updated == created else go_time_ns(updated) if updated else None
            problems: tuple[str, ...] = ()
        except (BoltError, TypeError, AttributeError):  # a damaged field: decode one by one, saying which
            plist: list[str] = []
            what = f"blob {digest}"
            size = _varint(rec, b"size", what, plist)
            created_ns = _time(rec, b"createdat", what, plist)
            updated_ns = _time(rec, b"updatedat", what, plist)
            problems = tuple(plist)
        labels = rec.get(b"labels")
        yield Blob(ns, digest, size, _labels(labels) if labels else {}, created_ns, updated_ns, problems)


def _ingests(ns: str, bucket: bolt.Bucket | None, ingest_root: Path | None) -> Iterator[Ingest]:
    if bucket is None:
        return
    for key, rec in bucket.subtrees():
        ref = _text(key)
        what = f"ingest {ref}"
        problems: list[str] = []
        raw_expire = rec.get(b"expireat")
        expire_ns = _time(rec, b"expireat", what, problems)
        expire = Timestamp.from_ns(expire_ns) if expire_ns is not None else None
        if raw_expire and expire is None:
            problems.append(f"ingest {ref}: containerd's garbage collector stops with an error on this "
                            "record (its expireat cannot be decoded)")
        backend = _value(rec, b"ref") or b""
        offset = None
        if ingest_root is not None and backend:
            data = ingest_root / hashlib.sha256(backend).hexdigest() / "data"
            try:
                st = os.lstat(data)
                offset = st.st_size if stat.S_ISREG(st.st_mode) else None
            except OSError:
                offset = None
        yield Ingest(ns, ref, _text(backend), expire, _str(rec, b"expected"), offset, tuple(problems))


def _leases(ns: str, bucket: bolt.Bucket | None) -> Iterator[Lease]:
    if bucket is None:
        return
    for i, (key, rec) in enumerate(bucket.subtrees()):
        if not i & HAND_OVER_MASK:
            time.sleep(0)
        lid = _text(key)
        problems: list[str] = []
        labels = _labels(rec.get(b"labels"))
        snaps: list[tuple[str, str]] = []
        sbkt = _sub(rec, b"snapshots")
        if sbkt is not None:
            for sn, per in sbkt.items():
                if isinstance(per, dict):
                    snaps.extend((_text(sn), _text(k)) for k in per)
        expire_ns = None
        text = labels.get(LABEL_GC_EXPIRE)
        if text is not None:
            try:
                expire_ns = parse_go_rfc3339(text)
            except ValueError as exc:
                problems.append(f"lease {lid}: {LABEL_GC_EXPIRE} {exc}; containerd ignores the label, "
                                "so the lease never expires")
        created = _time(rec, b"createdat", f"lease {lid}", problems)
        yield Lease(ns, lid, created, labels, _keys(rec.get(b"content")), tuple(snaps),
                    _keys(rec.get(b"ingests")), expire_ns, LABEL_GC_FLAT in labels, tuple(problems))


def read_metadata(meta: bolt.ContainerdMetadata, *, content_root: os.PathLike | str | None = None) -> Metadata:
    """Every namespace of an open ``meta.db`` (one pass each); ``content_root`` lets ingests tell their size."""
    with paused_gc():
        return _read_metadata(meta, content_root)


def _read_metadata(meta: bolt.ContainerdMetadata, content_root: os.PathLike | str | None) -> Metadata:
    ingest_root = Path(content_root) / "ingest" if content_root is not None else None
    out = []
    for raw, nsb in meta.namespace_buckets():
        name = _text(raw)
        parts: dict[bytes, bolt.Bucket] = dict(nsb.buckets())
        content = parts.get(b"content")
        cparts: dict[bytes, bolt.Bucket] = dict(content.buckets()) if content is not None else {}
        nslabels = parts.get(b"labels")
        out.append(Namespace(
            name=name,
            labels=_labels(nslabels.tree()) if nslabels is not None else {},
            images=tuple(_images(name, parts.get(b"images"))),
            containers=tuple(_containers(name, parts.get(b"containers"))),
            leases=tuple(_leases(name, parts.get(b"leases"))),
            blobs=tuple(_blobs(name, cparts.get(b"blob"))),
            ingests=tuple(_ingests(name, cparts.get(b"ingests"), ingest_root)),
            snapshots=tuple(_snapshots(name, parts.get(b"snapshots"))),
        ))
    try:
        version = meta.version
    except bolt.BoltError:
        version = None
    return Metadata(tuple(out), str(getattr(meta.db, "original", meta.db.path)), version)


def read_images(meta: bolt.ContainerdMetadata, namespace: str) -> list[Image]:
    """The image records of one namespace of an open ``meta.db`` (none when the namespace does not exist)."""
    want = namespace.encode()
    for raw, nsb in meta.namespace_buckets():
        if raw == want:
            return list(_images(namespace, dict(nsb.buckets()).get(b"images")))
    return []


def load_root(root: os.PathLike | str, *, allow_locked: bool = False) -> Metadata:
    """The records of the containerd root ``root`` (the directory holding ``io.containerd.metadata.v1.bolt``).

    ``meta.db`` is read once into memory, the private copy (:func:`store.bolt.read_private`); a
    running daemon's locked file is refused unless ``allow_locked``, and the original is never
    written or locked.
    """
    root = Path(root)
    meta = bolt.ContainerdMetadata(bolt.read_private(root / METADATA_DB, allow_locked=allow_locked))
    try:
        return read_metadata(meta, content_root=root / CONTENT_DIR)
    finally:
        meta.close()


__all__ = ["Blob", "Container", "Image", "Ingest", "Lease", "Metadata", "Namespace", "Snapshot", "paused_gc",
           "FREEZE_ABOVE", "HAND_OVER", "HAND_OVER_MASK", "LABEL_GC_EXPIRE", "LABEL_GC_FLAT", "LABEL_GC_ROOT", "load_root", "parse_go_rfc3339",
           "read_images", "read_metadata"]
