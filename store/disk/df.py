"""``df`` of a containerd root: where its bytes are, in what state, and what GC would free.

Bytes are allocated bytes on disk (``du -sx``: ``st_blocks * 512``, hard links once), except the
per-image figures, which add the blobs' recorded sizes to the snapshots' disk usage.

States, decided in this order (one per item):

* snapshots: ``orphan`` (a directory with no record, a record with no directory, or a
  snapshotter record no namespace knows), ``in_use`` (a container's snapshot or a parent of
  one), ``image`` (a layer chain of an image), ``lease`` (held by a lease), ``collectable``
  (the gc dry run says the next pass deletes it), ``other`` (alive for another reason);
* blobs: ``image`` (an image's target reaches it), ``lease``, ``collectable`` (every namespace's
  record of it is collected, or no namespace records it), ``other``;
* ``not_understood`` for the whole directory of a snapshotter this module cannot read, ``all``
  for ingests and metadata.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping

from ..containerd_root import METADATA_DB
from . import gc
from .du import blob_entries
from .metadata import Metadata
from .owners import (
    STATE_COLLECTABLE,
    STATE_IMAGE,
    STATE_LEASE,
    STATE_OTHER,
    ImageInfo,
    ImageSpace,
    Ownership,
    SnapshotRow,
    image_space,
)

STATE_NOT_UNDERSTOOD = "not_understood"
STATE_ALL = "all"


@dataclass
class Report:
    root: Path | None  # None: a running daemon's (``address``)
    content_count: int = 0
    content_bytes: int = 0
    content_recorded_bytes: int = 0  # the blobs' recorded sizes (a file no namespace records: its length)
    ingest_count: int = 0
    ingest_bytes: int = 0
    snapshot_count: int = 0
    snapshot_bytes: int = 0
    lease_count: int = 0
    lease_only_bytes: int = 0  # what would go if every lease were gone and nothing else changed
    metadata_bytes: int | None = 0  # None: not known (through a daemon)
    reclaimable_bytes: int = 0  # the gc dry run's figure
    states: dict[tuple[str, str], list[int]] = field(default_factory=dict)  # (kind, state) -> [count, bytes]
    recorded: dict[str, int] = field(default_factory=dict)  # content state -> recorded bytes
    snapshotters: list[dict] = field(default_factory=list)
    images: list[ImageSpace] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    address: str | None = None  # the daemon asked, for a live report
    namespace: str | None = None  # the one namespace a live report counts (None: every one)

    def add(self, kind: str, state: str, nbytes: int, count: int = 1) -> None:
        slot = self.states.setdefault((kind, state), [0, 0])
        slot[0] += count
        slot[1] += nbytes

    def to_json(self) -> dict:
        return {
            "root": str(self.root) if self.root is not None else None,
            "address": self.address,
            "namespace": self.namespace,
            "content": {"count": self.content_count, "bytes": self.content_bytes,
                        "recorded_bytes": self.content_recorded_bytes},
            "snapshots": {"count": self.snapshot_count, "bytes": self.snapshot_bytes,
                          "snapshotters": self.snapshotters},
            "ingests": {"count": self.ingest_count, "bytes": self.ingest_bytes},
            "leases": {"count": self.lease_count, "only_bytes": self.lease_only_bytes},
            "metadata": {"bytes": self.metadata_bytes},
            "reclaimable_bytes": self.reclaimable_bytes,
            "states": [{"kind": k, "state": s, "count": c, "bytes": b,
                        "recorded_bytes": self.recorded.get(s, 0) if k == "content" else None}
                       for (k, s), (c, b) in sorted(self.states.items())],
            "images": [i.to_json() for i in self.images],
            "problems": list(self.problems),
        }


def _blob_files(content_root: Path) -> dict[str, Path]:
    return {digest: Path(e.path) for digest, e in blob_entries(content_root)}


def tally(rep: Report, *, meta: Metadata, run: gc.DryRun, blobs: Mapping[str, tuple[int, int]],
          images: list[ImageInfo], rows: list[SnapshotRow], snapshot_bytes: Mapping[tuple[str, str], int],
          namespaces: set[str] | None = None) -> dict[str, dict]:
    """The part of ``df`` that needs no file: states of ``blobs`` (digest -> (bytes, recorded
    bytes)) and ``rows``, leases, the dry run's reclaimable bytes and per-image space, counting
    the records of ``namespaces`` (None: every one).  Returns per snapshotter its count and bytes."""
    rep.reclaimable_bytes = run.reclaimable_bytes
    rep.problems += list(run.problems)
    chosen = [ns for ns in meta.namespaces if namespaces is None or ns.name in namespaces]

    # content, by blob
    in_images = set().union(*(im.blobs for im in images)) if images else set()
    leased = {d for ns in chosen for lease in ns.leases for d in lease.content}
    verdicts: dict[str, list[gc.Verdict]] = {}
    for v in run.verdicts:
        if v.kind == "blob" and (namespaces is None or v.namespace in namespaces):
            verdicts.setdefault(v.id, []).append(v)
    for digest, (nbytes, recorded) in blobs.items():
        rep.content_count += 1
        rep.content_bytes += nbytes
        rep.content_recorded_bytes += recorded
        vs = verdicts.get(digest, [])
        if vs and all(v.collect for v in vs):
            # the next GC pass takes it, whatever image or (expired) lease still names it
            state = STATE_COLLECTABLE
        elif digest in in_images:
            state = STATE_IMAGE
        elif digest in leased or any(v.why and v.why[0].startswith("lease ") for v in vs):
            state = STATE_LEASE
        elif all(v.collect for v in vs):
            state = STATE_COLLECTABLE
        else:
            state = STATE_OTHER
        rep.add("content", state, nbytes)
        rep.recorded[state] = rep.recorded.get(state, 0) + recorded

    # snapshots
    per: dict[str, dict] = {}
    for r in rows:
        rep.snapshot_count += 1
        rep.snapshot_bytes += r.bytes
        rep.add("snapshot", r.state, r.bytes)
        s = per.setdefault(r.snapshotter, {"count": 0, "bytes": 0})
        s["count"] += 1
        s["bytes"] += r.bytes

    # leases, images
    rep.lease_count = sum(len(ns.leases) for ns in chosen)
    rep.lease_only_bytes = sum(u.only_bytes for u in gc.lease_usage(meta, snapshot_bytes=snapshot_bytes)
                               if namespaces is None or u.lease.namespace in namespaces)
    sizes: dict[str, int] = {}
    for ns in meta.namespaces:
        for b in ns.blobs:
            sizes.setdefault(b.digest, b.size)
    rep.images = image_space(images, sizes, rows)
    return per


def report(own: Ownership) -> Report:
    """The figures of ``df`` for the root ``own`` describes."""
    rep = Report(own.root)
    usage = own.usage
    rep.problems = list(own.problems)
    recorded: dict[str, int] = {}
    for ns in own.meta.namespaces:
        for b in ns.blobs:
            recorded.setdefault(b.digest, b.size)
    blobs: dict[str, tuple[int, int]] = {}
    for digest, path in _blob_files(own.content_root).items():
        nbytes = usage.of(path).bytes
        if digest in recorded:
            blobs[digest] = (nbytes, recorded[digest])
        else:
            try:
                blobs[digest] = (nbytes, path.lstat().st_size)
            except OSError:
                blobs[digest] = (nbytes, 0)
    per = tally(rep, meta=own.meta, run=own.dry_run(), blobs=blobs, images=own.images, rows=own.snapshot_rows(),
                snapshot_bytes=own.snapshot_bytes())

    metadata_bytes = 0
    for view in own.views:
        if view.understood:
            s = per.get(view.name, {"count": 0, "bytes": 0})
            rep.snapshotters.append({"name": view.name, "understood": True, "count": s["count"],
                                     "bytes": s["bytes"], "error": view.error})
        else:
            nbytes = usage.of(view.directory).bytes
            rep.snapshot_bytes += nbytes
            rep.add("snapshot", STATE_NOT_UNDERSTOOD, nbytes, 0)
            rep.snapshotters.append({"name": view.name, "understood": False, "count": None,
                                     "bytes": nbytes, "error": "not understood"})
        db = view.directory / "metadata.db"
        if db.is_file():
            metadata_bytes += usage.of(db).bytes

    # ingests, metadata
    ingest_dir = own.content_root / "ingest"
    try:
        rep.ingest_count = sum(1 for e in os.scandir(ingest_dir) if e.is_dir(follow_symlinks=False))
    except OSError:
        rep.ingest_count = 0
    rep.ingest_bytes = usage.of(ingest_dir).bytes if ingest_dir.is_dir() else 0
    rep.add("ingest", STATE_ALL, rep.ingest_bytes, rep.ingest_count)
    metadata_bytes += usage.of(own.root / METADATA_DB.parent).bytes
    rep.metadata_bytes = metadata_bytes
    rep.add("metadata", STATE_ALL, metadata_bytes, 0)
    return rep


# -- node_exporter's textfile collector ---------------------------------------------------------

def _label(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def prometheus(rep: Report) -> str:
    """The report in the Prometheus text exposition format node_exporter's textfile collector reads."""
    src = f'root="{_label(str(rep.root))}"' if rep.root is not None else f'address="{_label(rep.address or "")}"'
    lines = [
        "# HELP blobscope_disk_bytes Bytes on disk under a containerd root, by kind and state.",
        "# TYPE blobscope_disk_bytes gauge",
    ]
    for (kind, state), (_count, nbytes) in sorted(rep.states.items()):
        lines.append(f'blobscope_disk_bytes{{{src},kind="{kind}",state="{state}"}} {nbytes}')
    lines += [
        "# HELP blobscope_disk_items Blobs, snapshots and ingests under a containerd root, by kind and state.",
        "# TYPE blobscope_disk_items gauge",
    ]
    for (kind, state), (count, _nbytes) in sorted(rep.states.items()):
        if kind in ("content", "snapshot", "ingest") and state != STATE_NOT_UNDERSTOOD:
            lines.append(f'blobscope_disk_items{{{src},kind="{kind}",state="{state}"}} {count}')
    lines += [
        "# HELP blobscope_disk_reclaimable_bytes Bytes containerd's next garbage collection pass would free.",
        "# TYPE blobscope_disk_reclaimable_bytes gauge",
        f'blobscope_disk_reclaimable_bytes{{{src}}} {rep.reclaimable_bytes}',
        "# HELP blobscope_leases Leases recorded under a containerd root.",
        "# TYPE blobscope_leases gauge",
        f'blobscope_leases{{{src}}} {rep.lease_count}',
        "# HELP blobscope_image_bytes An image's blobs and snapshots together: total, shared with other "
        "images, unique to it.",
        "# TYPE blobscope_image_bytes gauge",
    ]
    for im in rep.images:
        base = f'{src},namespace="{_label(im.namespace)}",image="{_label(im.name)}"'
        for share, value in (("total", im.total_bytes), ("shared", im.shared_bytes), ("unique", im.unique_bytes)):
            lines.append(f'blobscope_image_bytes{{{base},share="{share}"}} {value}')
    return "\n".join(lines) + "\n"


__all__ = ["Report", "report", "tally", "prometheus", "STATE_NOT_UNDERSTOOD", "STATE_ALL"]
