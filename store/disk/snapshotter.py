"""A snapshotter's own records, read offline from its ``metadata.db``, beside its directories.

Every ``io.containerd.snapshotter.v1.<name>`` directory of a containerd root is a snapshotter.
``overlayfs`` and ``native`` keep their records in ``<dir>/metadata.db`` (bbolt, containerd's
``snapshots/storage`` schema) and each snapshot's files in ``<dir>/snapshots/<id>``
(overlayfs: ``fs/`` and ``work/`` inside it; native: the files themselves)::

    v1/snapshots/<key>/{id: uvarint, kind: 1 byte, parent: <key>, createdat, updatedat,
                        labels/, inodes: varint, size: varint}     (inodes/size: committed only)
    v1/parents/<uvarint parent id> 0x00 <uvarint child id> = <child key>

The keys are the metadata layer's backend names, ``<namespace>/<n>/<user key>``, where ``n``
is the sequence of that namespace's snapshotter bucket in ``meta.db``; kind 1 is a view,
2 active, 3 committed.

Any other snapshotter directory (stargz, nydus, devmapper, zfs…) is listed by name with its
size and ``understood = False``.  Nothing is ever written, and the daemon's locked
``metadata.db`` is never opened: it is read from a private copy (:func:`store.bolt.open_copy`).

What does not add up is flagged on the row, never raised: a record whose directory is missing
(``missing-dir``), a directory that is a symbolic link (``dir-symlink``) or not a directory
(``dir-not-directory``), a parent that has no record (``parent-missing``), a parent chain that
comes back on itself (``parent-loop``), an unknown kind byte (``bad-kind``), two records with one
id (``duplicate-id``), a record without an id (``bad-id``); and a ``snapshots/<id>`` directory that no record names is an orphan
(:attr:`SnapshotterView.orphan_dirs`).  A damaged ``metadata.db`` leaves the view with
:attr:`SnapshotterView.error` set (one line) and its directories listed as orphans.
"""

from __future__ import annotations

import logging
import os
import re
import stat
import struct
from dataclasses import dataclass, field, replace
from pathlib import Path

from .. import bolt, errors
from ..timestamps import Timestamp

log = logging.getLogger(__name__)

PLUGIN_PREFIX = "io.containerd.snapshotter.v1."
UNDERSTOOD = ("overlayfs", "native")
METADATA_FILE = "metadata.db"
KINDS = {1: "view", 2: "active", 3: "committed"}

# Row flags (also the JSON values of "flags").
MISSING_DIR = "missing-dir"
DIR_SYMLINK = "dir-symlink"
DIR_NOT_DIRECTORY = "dir-not-directory"
PARENT_MISSING = "parent-missing"
PARENT_LOOP = "parent-loop"
BAD_KIND = "bad-kind"
DUPLICATE_ID = "duplicate-id"
BAD_ID = "bad-id"


@dataclass(frozen=True)
class SnapshotRecord:
    """One record of a snapshotter's ``metadata.db``, with what its directory looks like."""

    snapshotter: str  # "overlayfs"
    key: str  # the backend key, "<namespace>/<n>/<user key>"
    id: str  # decimal; names snapshots/<id>
    kind: str  # "committed", "active", "view" or "unknown"
    parent: str  # backend key of the parent, "" for none
    labels: dict[str, str]
    created: Timestamp | None
    updated: Timestamp | None
    inodes: int | None  # recorded at commit (committed snapshots only)
    size: int | None
    directory: Path  # <snapshotter dir>/snapshots/<id>
    flags: tuple[str, ...] = ()

    @property
    def namespace(self) -> str | None:
        """The namespace the metadata layer created it in, from the key; None for a key of another form."""
        parsed = parse_backend_key(self.key)
        return parsed[0] if parsed else None

    @property
    def name(self) -> str | None:
        """The key clients know it by (``ctr snapshots ls``'s KEY), from the backend key."""
        parsed = parse_backend_key(self.key)
        return parsed[2] if parsed else None


@dataclass
class SnapshotterView:
    """One ``io.containerd.snapshotter.v1.*`` directory of a root."""

    name: str  # "overlayfs"
    directory: Path
    understood: bool
    records: dict[str, SnapshotRecord] = field(default_factory=dict)  # by backend key
    orphan_dirs: list[Path] = field(default_factory=list)  # snapshots/<id> with no record
    error: str | None = None  # one line, when metadata.db could not be read

    def by_id(self, snapshot_id: str) -> SnapshotRecord | None:
        for rec in self.records.values():
            if rec.id == snapshot_id:
                return rec
        return None

    def chain(self, key: str) -> list[SnapshotRecord]:
        """The record and its parents, nearest first; stops (without raising) at a missing parent or a loop."""
        out: list[SnapshotRecord] = []
        seen: set[str] = set()
        rec = self.records.get(key)
        while rec is not None and rec.key not in seen:
            seen.add(rec.key)
            out.append(rec)
            rec = self.records.get(rec.parent) if rec.parent else None
        return out

    @property
    def snapshots_dir(self) -> Path:
        return self.directory / "snapshots"


def parse_backend_key(key: str) -> tuple[str, int, str] | None:
    """``"<namespace>/<n>/<user key>"`` → (namespace, n, user key); None for any other form."""
    ns, sep, rest = key.partition("/")
    seq, sep2, name = rest.partition("/")
    if not (sep and sep2 and ns and seq.isdigit() and name):
        return None
    return ns, int(seq), name


def snapshotter_dirs(root: os.PathLike | str) -> list[tuple[str, Path]]:
    """(name, directory) of every ``io.containerd.snapshotter.v1.*`` directory of ``root``, by name."""
    root = Path(root)
    try:
        names = sorted(os.listdir(root))
    except OSError as exc:
        raise errors.NotFound(f"cannot list the containerd root {root}: {exc.strerror or exc}") from exc
    return [(n[len(PLUGIN_PREFIX):], root / n) for n in names
            if n.startswith(PLUGIN_PREFIX) and len(n) > len(PLUGIN_PREFIX) and (root / n).is_dir()]


def read_root(root: os.PathLike | str) -> list[SnapshotterView]:
    """Every snapshotter of a containerd root (offline; the daemon should be stopped)."""
    return [read_snapshotter(name, directory) for name, directory in snapshotter_dirs(root)]


def read_snapshotter(name: str, directory: os.PathLike | str) -> SnapshotterView:
    directory = Path(directory)
    view = SnapshotterView(name=name, directory=directory, understood=name in UNDERSTOOD)
    if not view.understood:
        return view
    db_path = directory / METADATA_FILE
    try:
        if db_path.exists() or db_path.is_symlink():
            records = _read_records(name, directory, db_path)
        else:
            records = {}  # a snapshotter that never made a snapshot has no metadata.db yet
    except (errors.ContentError, OSError) as exc:
        # the reader names its private copy; the person reading wants the file they have
        text = re.sub(r"\S*blobscope-metadb-[^/\s]+/meta\.db", str(db_path), str(exc))
        view.error = text if text.startswith(str(db_path)) else f"cannot read {db_path}: {text}"
        log.info("%s", view.error)  # callers show it (blobctl: one warning line)
        records = {}
    view.records = _flag(records)
    view.orphan_dirs = _orphans(view)
    return view


# -- decoding --------------------------------------------------------------------------------

def _uvarint(data: bytes) -> int | None:
    result = shift = 0
    for b in data:
        result |= (b & 0x7F) << shift
        if not b & 0x80:
            return result
        shift += 7
        if shift > 63:
            return None
    return None


def _varint(data: bytes | None) -> int | None:
    if not data:
        return None
    try:
        return bolt.go_varint(data)
    except errors.ContentError:
        return None


def _time(data: bytes | None) -> Timestamp | None:
    if not data:
        return None
    try:
        return bolt.go_time(data)
    except (errors.ContentError, struct.error, OverflowError, ValueError):
        return None


def _text(b: bytes) -> str:
    return b.decode("utf-8", errors="replace")


def _read_records(name: str, directory: Path, db_path: Path) -> dict[str, SnapshotRecord]:
    if not db_path.is_file() or db_path.is_symlink():
        raise errors.InvalidArgument("it is not a regular file")
    with bolt.open_copy(db_path) as db:
        v1 = db.root.bucket(b"v1")
        snaps = v1.bucket(b"snapshots") if v1 is not None else None
        if snaps is None:
            return {}
        out: dict[str, SnapshotRecord] = {}
        for raw_key, bkt in snaps.buckets():
            key = _text(raw_key)
            fields: dict[bytes, bytes] = {}
            labels: dict[str, str] = {}
            for k, v in bkt.items():
                if isinstance(v, bolt.Bucket):
                    if k == b"labels":
                        labels = {_text(lk): _text(lv) for lk, lv in v.values()}
                else:
                    fields[k] = v
            sid = _uvarint(fields.get(b"id", b""))
            kind_raw = fields.get(b"kind", b"")
            kind = KINDS.get(kind_raw[0], "unknown") if len(kind_raw) == 1 else "unknown"
            sid_text = str(sid) if sid is not None else ""
            out[key] = SnapshotRecord(
                snapshotter=name, key=key, id=sid_text, kind=kind,
                parent=_text(fields.get(b"parent", b"")), labels=labels,
                created=_time(fields.get(b"createdat")), updated=_time(fields.get(b"updatedat")),
                inodes=_varint(fields.get(b"inodes")), size=_varint(fields.get(b"size")),
                directory=directory / "snapshots" / (sid_text or "?"),
                flags=(BAD_KIND,) if kind == "unknown" else (),
            )
        return out


def _flag(records: dict[str, SnapshotRecord]) -> dict[str, SnapshotRecord]:
    problems: dict[str, str] = {}  # key -> PARENT_MISSING, PARENT_LOOP or "" (a sound chain)
    ids: dict[str, int] = {}
    for rec in records.values():
        ids[rec.id] = ids.get(rec.id, 0) + 1
    out = {}
    for key, rec in records.items():
        flags = list(rec.flags)
        if not rec.id:
            flags.append(BAD_ID)
        elif ids[rec.id] > 1:
            flags.append(DUPLICATE_ID)
        try:
            st = os.lstat(rec.directory) if rec.id else None
        except OSError:
            st = None
        if rec.id and st is None:
            flags.append(MISSING_DIR)
        elif st is not None and stat.S_ISLNK(st.st_mode):
            flags.append(DIR_SYMLINK)
        elif st is not None and not stat.S_ISDIR(st.st_mode):
            flags.append(DIR_NOT_DIRECTORY)
        chain = _chain_problem(key, records, problems)
        if chain:
            flags.append(chain)
        out[key] = replace(rec, flags=tuple(dict.fromkeys(flags)))
    return out


def _chain_problem(key: str, records: dict[str, SnapshotRecord], known: dict[str, str]) -> str:
    """What is wrong with ``key``'s parent chain ("" for nothing); every record is walked once overall."""
    path: list[str] = []
    on_path: set[str] = set()
    cur = key
    while True:
        if cur in known:
            verdict = known[cur]
            break
        rec = records.get(cur)
        if rec is None:
            verdict = PARENT_MISSING
            break
        if cur in on_path:
            verdict = PARENT_LOOP
            break
        path.append(cur)
        on_path.add(cur)
        if not rec.parent:
            verdict = ""
            break
        cur = rec.parent
    for k in path:
        known[k] = verdict
    return verdict


def _orphans(view: SnapshotterView) -> list[Path]:
    base = view.snapshots_dir
    try:
        names = os.listdir(base)
    except OSError:
        return []
    known = {rec.id for rec in view.records.values()}
    return [base / n for n in sorted(names, key=lambda n: (len(n), n)) if n not in known]


__all__ = [
    "SnapshotRecord", "SnapshotterView", "read_root", "read_snapshotter", "snapshotter_dirs",
    "parse_backend_key", "PLUGIN_PREFIX", "UNDERSTOOD", "KINDS",
]
