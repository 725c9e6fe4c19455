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

import hashlib
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator, Mapping

from .. import bolt
from ..containerd_root import CONTENT_DIR, METADATA_DB
from ..timestamps import Timestamp

LABEL_GC_EXPIRE = "containerd.io/gc.expire"
LABEL_GC_FLAT = "containerd.io/gc.flat"
LABEL_GC_ROOT = "containerd.io/gc.root"

Labels = Mapping[str, str]


# -- the records -------------------------------------------------------------------------------

@dataclass(frozen=True)
class Image:
    namespace: str
    name: str
    target_digest: str | None  # None when the record has no target (then only its labels count)
    target_media_type: str
    target_size: int
    labels: Labels = field(default_factory=dict)
    created_at: Timestamp | None = None
    updated_at: Timestamp | None = None
    problems: tuple[str, ...] = ()


@dataclass(frozen=True)
class Container:
    namespace: str
    id: str
    image: str
    snapshotter: str  # "" when the container has no snapshot
    snapshot_key: str
    labels: Labels = field(default_factory=dict)
    created_at: Timestamp | None = None
    updated_at: Timestamp | None = None
    problems: tuple[str, ...] = ()


@dataclass(frozen=True)
class Snapshot:
    """The metadata layer's record of a snapshot (what the snapshotter itself knows is another file)."""

    namespace: str
    snapshotter: str
    key: str
    name: str  # the backend snapshotter's key for it
    parent: str  # the parent's key in this namespace and snapshotter, "" for none
    children: tuple[str, ...] = ()
    labels: Labels = field(default_factory=dict)
    created_at: Timestamp | None = None
    updated_at: Timestamp | None = None
    problems: tuple[str, ...] = ()

    @property
    def id(self) -> str:
        """``<snapshotter>/<key>``, the name containerd's GC gives it."""
        return f"{self.snapshotter}/{self.key}"


@dataclass(frozen=True)
class Blob:
    namespace: str
    digest: str  # the record's key as it is (containerd's GC does not check it is a digest)
    size: int
    labels: Labels = field(default_factory=dict)
    created_at: Timestamp | None = None
    updated_at: Timestamp | None = None
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
class Lease:
    namespace: str
    id: str
    created_at: Timestamp | None
    labels: Labels = field(default_factory=dict)
    content: tuple[str, ...] = ()
    snapshots: tuple[tuple[str, str], ...] = ()  # (snapshotter, key)
    ingests: tuple[str, ...] = ()
    #: ``containerd.io/gc.expire`` as ns since the epoch; None when absent or not RFC 3339
    expire_ns: int | None = None
    flat: bool = False  # ``containerd.io/gc.flat`` is set (any value)
    problems: tuple[str, ...] = ()

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


# -- decoding helpers --------------------------------------------------------------------------

def _text(b: bytes) -> str:
    # surrogateescape: a key that is not UTF-8 keeps its identity (and prints as \udcXX)
    return b.decode("utf-8", errors="surrogateescape")


def _labels(bucket: bolt.Bucket | None) -> dict[str, str]:
    if bucket is None:
        return {}
    return {_text(k): _text(v) for k, v in bucket.values()}


def _keys(bucket: bolt.Bucket | None) -> tuple[str, ...]:
    if bucket is None:
        return ()
    return tuple(_text(k) for k, _v in bucket.items())


class _Fields:
    """The values and nested buckets of one record, read in one pass; decoding problems are noted."""

    __slots__ = ("values", "buckets", "problems", "what")

    def __init__(self, bucket: bolt.Bucket, what: str):
        self.values: dict[bytes, bytes] = {}
        self.buckets: dict[bytes, bolt.Bucket] = {}
        self.problems: list[str] = []
        self.what = what
        for key, value in bucket.items():
            if isinstance(value, bolt.Bucket):
                self.buckets[key] = value
            else:
                self.values[key] = value

    def time(self, key: bytes) -> Timestamp | None:
        raw = self.values.get(key)
        if not raw:
            return None
        try:
            return bolt.go_time(raw)
        except bolt.BoltError as exc:
            self.problems.append(f"{self.what}: {key.decode()} is unreadable ({exc})")
            return None

    def varint(self, key: bytes) -> int:
        raw = self.values.get(key)
        if not raw:
            return 0
        try:
            return bolt.go_varint(raw)
        except bolt.BoltError as exc:
            self.problems.append(f"{self.what}: {key.decode()} is unreadable ({exc})")
            return 0

    def text(self, key: bytes) -> str:
        raw = self.values.get(key)
        return _text(raw) if raw is not None else ""


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
    for key, rec in bucket.buckets():
        name = _text(key)
        f = _Fields(rec, f"image {name}")
        target = f.buckets.get(b"target")
        digest, media_type, size = None, "", 0
        if target is not None:
            t = _Fields(target, f"image {name}: target")
            raw = t.values.get(b"digest")
            digest = _text(raw) if raw is not None else ""  # Go sends "" as a key too
            media_type, size = t.text(b"mediatype"), t.varint(b"size")
            f.problems.extend(t.problems)
        yield Image(ns, name, digest, media_type, size, _labels(f.buckets.get(b"labels")),
                    f.time(b"createdat"), f.time(b"updatedat"), tuple(f.problems))


def _containers(ns: str, bucket: bolt.Bucket | None) -> Iterator[Container]:
    if bucket is None:
        return
    for key, rec in bucket.buckets():
        cid = _text(key)
        f = _Fields(rec, f"container {cid}")
        yield Container(ns, cid, f.text(b"image"), f.text(b"snapshotter"), f.text(b"snapshotKey"),
                        _labels(f.buckets.get(b"labels")), f.time(b"createdat"), f.time(b"updatedat"),
                        tuple(f.problems))


def _snapshots(ns: str, bucket: bolt.Bucket | None) -> Iterator[Snapshot]:
    if bucket is None:
        return
    for sn_key, per in bucket.buckets():
        snapshotter = _text(sn_key)
        for key, rec in per.buckets():
            skey = _text(key)
            f = _Fields(rec, f"snapshot {snapshotter}/{skey}")
            yield Snapshot(ns, snapshotter, skey, f.text(b"name"), f.text(b"parent"),
                           _keys(f.buckets.get(b"children")), _labels(f.buckets.get(b"labels")),
                           f.time(b"createdat"), f.time(b"updatedat"), tuple(f.problems))


def _blobs(ns: str, bucket: bolt.Bucket | None) -> Iterator[Blob]:
    if bucket is None:
        return
    for key, rec in bucket.buckets():
        digest = _text(key)
        f = _Fields(rec, f"blob {digest}")
        yield Blob(ns, digest, f.varint(b"size"), _labels(f.buckets.get(b"labels")),
                   f.time(b"createdat"), f.time(b"updatedat"), tuple(f.problems))


def _ingests(ns: str, bucket: bolt.Bucket | None, ingest_root: Path | None) -> Iterator[Ingest]:
    if bucket is None:
        return
    for key, rec in bucket.buckets():
        ref = _text(key)
        f = _Fields(rec, f"ingest {ref}")
        raw_expire = f.values.get(b"expireat")
        expire = f.time(b"expireat")
        if raw_expire and expire is None:
            f.problems.append(f"ingest {ref}: containerd's garbage collector stops with an error on this "
                              "record (its expireat cannot be decoded)")
        backend = f.values.get(b"ref") or b""
        offset = None
        if ingest_root is not None and backend:
            data = ingest_root / hashlib.sha256(backend).hexdigest() / "data"
            try:
                st = os.lstat(data)
                offset = st.st_size if not os.path.islink(data) else None
            except OSError:
                offset = None
        yield Ingest(ns, ref, _text(backend), expire, f.text(b"expected"), offset, tuple(f.problems))


def _leases(ns: str, bucket: bolt.Bucket | None) -> Iterator[Lease]:
    if bucket is None:
        return
    for key, rec in bucket.buckets():
        lid = _text(key)
        f = _Fields(rec, f"lease {lid}")
        labels = _labels(f.buckets.get(b"labels"))
        snaps: list[tuple[str, str]] = []
        sbkt = f.buckets.get(b"snapshots")
        if sbkt is not None:
            for sn, per in sbkt.buckets():
                snaps.extend((_text(sn), _text(k)) for k, _v in per.items())
        expire_ns = None
        text = labels.get(LABEL_GC_EXPIRE)
        if text is not None:
            try:
                expire_ns = parse_go_rfc3339(text)
            except ValueError as exc:
                f.problems.append(f"lease {lid}: {LABEL_GC_EXPIRE} {exc}; containerd ignores the label, "
                                  "so the lease never expires")
        yield Lease(ns, lid, f.time(b"createdat"), labels, _keys(f.buckets.get(b"content")), tuple(snaps),
                    _keys(f.buckets.get(b"ingests")), expire_ns, LABEL_GC_FLAT in labels, tuple(f.problems))


def read_metadata(meta: bolt.ContainerdMetadata, *, content_root: os.PathLike | str | None = None) -> Metadata:
    """Every namespace of an open ``meta.db`` (one pass each); ``content_root`` lets ingests tell their size."""
    ingest_root = Path(content_root) / "ingest" if content_root is not None else None
    out = []
    for raw, nsb in meta.namespace_buckets():
        name = _text(raw)
        parts: dict[bytes, bolt.Bucket] = dict(nsb.buckets())
        content = parts.get(b"content")
        cparts: dict[bytes, bolt.Bucket] = dict(content.buckets()) if content is not None else {}
        out.append(Namespace(
            name=name,
            labels=_labels(parts.get(b"labels")),
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


def load_root(root: os.PathLike | str, *, allow_locked: bool = False) -> Metadata:
    """The records of the containerd root ``root`` (the directory holding ``io.containerd.metadata.v1.bolt``).

    ``meta.db`` is copied first (:func:`store.bolt.open_metadata`); a running daemon's locked
    file is refused unless ``allow_locked``, and even then only the copy is read.
    """
    root = Path(root)
    with bolt.open_metadata(root / METADATA_DB, allow_locked=allow_locked) as meta:
        return read_metadata(meta, content_root=root / CONTENT_DIR)


__all__ = ["Blob", "Container", "Image", "Ingest", "Lease", "Metadata", "Namespace", "Snapshot",
           "LABEL_GC_EXPIRE", "LABEL_GC_FLAT", "LABEL_GC_ROOT", "load_root", "parse_go_rfc3339",
           "read_metadata"]
