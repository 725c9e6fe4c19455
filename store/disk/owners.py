"""Who owns what on a containerd root: images, containers and leases against snapshots and blobs.

A snapshot belongs to an image when it is one of the image's layer chains: containerd's
unpacker names the committed snapshot of layers ``0..n`` by their chain ID (OCI image spec,
``config.md``)::

    ChainID(L0) = DiffID(L0)
    ChainID(L0..n) = sha256(ChainID(L0..n-1) + " " + DiffID(Ln))   (hex, "sha256:" prefixed)

with the diff IDs from the config's ``rootfs.diff_ids``, and labels the image config
``containerd.io/gc.ref.snapshot.<snapshotter> = <top chain ID>`` and each layer blob
``containerd.io/uncompressed = <diff ID>``.  The metadata layer (``meta.db``) maps the
namespace's snapshot key to the snapshotter's backend key (``name``); a container owns the
snapshot its ``snapshotKey`` names, a lease the ``(snapshotter, key)`` pairs it lists.

Blobs belong to an image when its target reaches them (index → manifests → config and layers,
read from the content store's JSON).  Per image, :meth:`Ownership.image_space` counts its blobs
(their recorded sizes) and its snapshots (their directories' disk usage) together; an item
that several images use is *shared*, one only this image uses is *unique*.

Everything here is offline: the root's daemon should be stopped (``meta.db`` is read from a copy).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import stat
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Mapping

from .. import errors
from ..containerd_root import CONTENT_DIR
from ..imagenames import IMAGE_NAME, REF_NAME, annotated_name
from ..timestamps import Timestamp
from . import gc, metadata
from . import snapshotter as snaps
from .du import DiskUsage, usage_of_many
from .metadata import Metadata

log = logging.getLogger(__name__)

LABEL_UNCOMPRESSED = "containerd.io/uncompressed"
LABEL_SNAPSHOT_REF = "containerd.io/snapshot.ref"
LABEL_GC_REF_SNAPSHOT = "containerd.io/gc.ref.snapshot."
LABEL_REF_NAME = REF_NAME  # an annotation, on a manifest or its descriptor
LABEL_IMAGE_NAME = IMAGE_NAME
_MAX_JSON = 8 << 20  # a manifest, index or config larger than this is not read

# Snapshot and blob states (df, --prometheus), in the order they are decided.
STATE_ORPHAN = "orphan"
STATE_IN_USE = "in_use"  # a container's snapshot, or a parent of one
STATE_IMAGE = "image"
STATE_LEASE = "lease"
STATE_COLLECTABLE = "collectable"  # the gc dry run says the next pass removes it
STATE_OTHER = "other"  # alive for another reason (a gc.root label, another record's label)


def chain_ids(diff_ids: list[str]) -> list[str]:
    """The chain ID of every prefix of ``diff_ids`` (OCI image spec, ``config.md``)."""
    out: list[str] = []
    for d in diff_ids:
        out.append(d if not out else "sha256:" + hashlib.sha256(f"{out[-1]} {d}".encode()).hexdigest())
    return out


@dataclass(frozen=True)
class Layer:
    """A layer of an image's manifest, with its snapshot's user key."""

    index: int
    diff_id: str
    blob: str  # the manifest's layer digest (compressed)
    chain_id: str


@dataclass
class ImageInfo:
    namespace: str
    name: str
    target: str
    blobs: set[str] = field(default_factory=set)  # digests the target reaches, present in the content store
    layers: list[list[Layer]] = field(default_factory=list)  # one list per manifest (platform)
    problems: list[str] = field(default_factory=list)
    recorded: bool = True  # False: no image record names it (found as a top-level manifest or index)


def resolve_image(ns: str, name: str, target: str, read_json: Callable[[str, list[str]], dict | None],
                  present: set[str] | frozenset[str], labels_of: Callable[[str], Mapping[str, str]]) -> ImageInfo:
    """An image's blobs (those in ``present``) and layer chains, from its target down.

    ``read_json(digest, problems)`` gives a manifest, index or config as parsed JSON (None when
    absent or not JSON); ``labels_of(digest)`` a blob's labels, to check the unpacker's
    ``gc.ref.snapshot`` label against the chain the diff IDs give.
    """
    info = ImageInfo(ns, name, target)
    pending, seen = [target] if target else [], set()
    while pending:
        d = pending.pop()
        if d in seen:
            continue
        seen.add(d)
        if d in present:
            info.blobs.add(d)
        doc = read_json(d, info.problems)
        if doc is None:
            continue
        manifests = doc.get("manifests")
        if isinstance(manifests, list):
            pending.extend(m["digest"] for m in manifests if isinstance(m, dict) and isinstance(m.get("digest"), str))
            continue
        config, layers = doc.get("config"), doc.get("layers")
        if not isinstance(config, dict) or not isinstance(layers, list):
            continue
        cdigest = config.get("digest")
        layer_digests = [x["digest"] for x in layers if isinstance(x, dict) and isinstance(x.get("digest"), str)]
        for x in [cdigest, *layer_digests]:
            if isinstance(x, str) and x in present:
                info.blobs.add(x)
        cdoc = read_json(cdigest, info.problems) if isinstance(cdigest, str) else None
        rootfs = cdoc.get("rootfs") if cdoc else None
        diff_ids = rootfs.get("diff_ids") if isinstance(rootfs, dict) else None
        if not isinstance(diff_ids, list) or not all(isinstance(x, str) for x in diff_ids):
            continue
        if len(diff_ids) != len(layer_digests):
            info.problems.append(f"image {name}: manifest {d} has {len(layer_digests)} layers, "
                                 f"its config {len(diff_ids)} diff IDs")
        chains = chain_ids(diff_ids)
        info.layers.append([Layer(i, diff, layer_digests[i] if i < len(layer_digests) else "", chain)
                            for i, (diff, chain) in enumerate(zip(diff_ids, chains))])
        # the unpacker labels the config with the top chain ID per snapshotter it unpacked to
        for label, value in (labels_of(cdigest) if isinstance(cdigest, str) else {}).items():
            if label.startswith(LABEL_GC_REF_SNAPSHOT) and chains and value != chains[-1]:
                info.problems.append(f"image {name}: config {cdigest} has {label}={value}, but its diff IDs "
                                     f"chain to {chains[-1]}")
    return info


def unrecorded_tops(blobs: Iterable[tuple[str, Mapping[str, str]]], reached: set[str]) -> list[str]:
    """Of ``blobs`` ((digest, labels) of one namespace), the manifests and indexes (by their
    ``gc.ref.content`` labels) that no other blob references and no image in ``reached`` reaches."""
    referenced: set[str] = set()
    tops: list[str] = []
    for digest, labels in blobs:
        is_top = False
        for k, v in labels.items():
            if k.startswith("containerd.io/gc.ref.content."):
                referenced.add(v)
                is_top = is_top or k == "containerd.io/gc.ref.content.config" \
                    or k.startswith("containerd.io/gc.ref.content.m.")
        if is_top:
            tops.append(digest)
    return [d for d in tops if d not in referenced and d not in reached]


def unrecorded_name(doc: dict | None, digest: str) -> str:
    """The name of an image found without a record: its annotations' name, else its digest."""
    doc = doc or {}
    names = [doc.get("annotations")] + [m.get("annotations") for m in doc.get("manifests") or []
                                        if isinstance(m, dict)]
    return f"{annotated_name(names) or digest} (no image record)"


@dataclass(frozen=True)
class SnapshotRow:
    """A snapshot (or an orphan directory) with its disk usage and owners."""

    snapshotter: str
    record: snaps.SnapshotRecord | None  # None for an orphan directory
    directory: Path
    bytes: int  # du -sx of its directory
    chain_bytes: int  # its own and every parent's
    namespace: str | None = None
    key: str | None = None  # the namespace's key (ctr snapshots ls KEY)
    images: tuple[str, ...] = ()  # "namespace/name"
    containers: tuple[str, ...] = ()  # "namespace/id" whose snapshotKey this is
    leases: tuple[str, ...] = ()  # "namespace/id"
    layer: Layer | None = None
    state: str = STATE_OTHER
    flags: tuple[str, ...] = ()
    labels: Mapping[str, str] = field(default_factory=dict)  # the namespace's (meta.db) labels, as ctr shows them
    times: tuple[Timestamp | None, Timestamp | None] | None = None  # the namespace's created/updated, if recorded

    def to_json(self) -> dict:
        rec = self.record
        return {
            "snapshotter": self.snapshotter,
            "key": rec.key if rec else None,
            "namespace": self.namespace,
            "name": self.key,
            "id": rec.id if rec else self.directory.name,
            "kind": rec.kind if rec else "orphan",
            "parent": rec.parent if rec else None,
            "directory": str(self.directory),
            "labels": dict(self.labels),
            "backend_labels": dict(rec.labels) if rec else {},
            "created": _iso(self.times[0] if self.times else rec.created if rec else None),
            "updated": _iso(self.times[1] if self.times else rec.updated if rec else None),
            "recorded_size": rec.size if rec else None,
            "recorded_inodes": rec.inodes if rec else None,
            "bytes": self.bytes,
            "chain_bytes": self.chain_bytes,
            "images": list(self.images),
            "containers": list(self.containers),
            "leases": list(self.leases),
            "layer": ({"index": self.layer.index, "diff_id": self.layer.diff_id, "blob": self.layer.blob,
                       "chain_id": self.layer.chain_id} if self.layer else None),
            "state": self.state,
            "flags": list(self.flags),
        }


@dataclass(frozen=True)
class ImageSpace:
    namespace: str
    name: str
    blob_count: int
    snapshot_count: int
    total_bytes: int
    shared_bytes: int
    unique_bytes: int
    recorded: bool = True
    blob_bytes: int = 0  # of total_bytes, the blobs' (recorded sizes); the rest is the snapshots'

    def to_json(self) -> dict:
        return {"namespace": self.namespace, "name": self.name, "recorded": self.recorded,
                "blobs": self.blob_count, "snapshots": self.snapshot_count, "total_bytes": self.total_bytes,
                "shared_bytes": self.shared_bytes, "unique_bytes": self.unique_bytes,
                "blob_bytes": self.blob_bytes, "snapshot_bytes": self.total_bytes - self.blob_bytes}


def image_space(images: Iterable[ImageInfo], blob_sizes: Mapping[str, int], rows: Iterable[SnapshotRow]) -> list[ImageSpace]:
    """Per image, its blobs (``blob_sizes``: recorded sizes) and the snapshots of ``rows`` naming
    it, counted together: total, shared with another image, unique to it."""
    images = list(images)
    snaps_of: dict[str, list[SnapshotRow]] = {}
    for r in rows:
        for image in r.images:
            snaps_of.setdefault(image, []).append(r)
    items_of: dict[str, dict[tuple[str, ...], int]] = {}
    users: dict[tuple[str, ...], int] = {}
    for im in images:
        ident = f"{im.namespace}/{im.name}"
        items: dict[tuple[str, ...], int] = {("blob", d): blob_sizes.get(d, 0) for d in im.blobs}
        items.update({("snapshot", r.snapshotter, r.record.key if r.record else f"{r.namespace}/{r.key}"): r.bytes
                      for r in snaps_of.get(ident, []) if r.record is not None or r.key})
        items_of[ident] = items
        for k in items:
            users[k] = users.get(k, 0) + 1
    out = []
    for im in images:
        items = items_of[f"{im.namespace}/{im.name}"]
        total = sum(items.values())
        unique = sum(v for k, v in items.items() if users[k] == 1)
        out.append(ImageSpace(im.namespace, im.name, sum(1 for k in items if k[0] == "blob"),
                              sum(1 for k in items if k[0] == "snapshot"), total, total - unique, unique,
                              im.recorded, sum(v for k, v in items.items() if k[0] == "blob")))
    return out


@dataclass(frozen=True)
class PathOwner:
    """What a host path under the root belongs to."""

    path: Path
    what: str  # "snapshot", "orphan-snapshot-dir", "blob", "ingest"
    snapshot: SnapshotRow | None = None
    blob: str | None = None  # a blob's digest, or the layer blob of the snapshot
    images: tuple[str, ...] = ()
    containers: tuple[str, ...] = ()
    leases: tuple[str, ...] = ()
    inside: str = ""  # the path inside the snapshot's directory / the blob's file
    ingests: tuple[str, ...] = ()  # "namespace/ref" of the ingest records whose directory it is

    def to_json(self) -> dict:
        snap = self.snapshot
        return {
            "path": str(self.path), "what": self.what, "inside": self.inside,
            "snapshot": snap.to_json() if snap else None,
            "blob": self.blob,
            "diff_id": snap.layer.diff_id if snap and snap.layer else None,
            "images": list(self.images), "containers": list(self.containers), "leases": list(self.leases),
            "ingests": list(self.ingests),
        }


class Ownership:
    """A stopped containerd root's snapshots and images with their owners and sizes."""

    def __init__(self, root: os.PathLike | str, *, meta: Metadata | None = None,
                 views: list[snaps.SnapshotterView] | None = None, usage: DiskUsage | None = None,
                 du_engine: str = "auto"):
        self.root = Path(root)
        self.content_root = self.root / CONTENT_DIR
        self.meta = meta if meta is not None else metadata.load_root(self.root)
        self.views = views if views is not None else snaps.read_root(self.root)
        self.usage = usage or DiskUsage()
        self.du_engine = du_engine  # for the snapshot directories: see store.disk.du.usage_of_many
        self.problems: list[str] = [v.error for v in self.views if v.error]
        self._present: dict[str, set[str]] = {}  # namespace -> digests it records
        self._json: dict[str, dict | None] = {}  # digest -> parsed JSON (configs are shared by tags)
        self._blob_labels: dict[str, dict[str, Mapping[str, str]]] = {}  # namespace -> digest -> labels
        self.images: list[ImageInfo] = [self._image(ns.name, im.name, im.target_digest or "")
                                        for ns in self.meta.namespaces for im in ns.images]
        for ns in self.meta.namespaces:
            self.images += self._unrecorded_images(ns)
        self.problems += [p for im in self.images for p in im.problems]
        self._own: dict[tuple[str, str], int] = {}  # (snapshotter, backend key or dir name) -> bytes
        self._rows: list[SnapshotRow] | None = None
        self._meta_snaps: set[tuple[str, str]] | None = None
        self._verdicts: dict[tuple[str, str, str], bool] | None = None
        self._run: gc.DryRun | None = None
        self._measured: set[str] = set()  # snapshotters whose directories are counted

    # -- images ------------------------------------------------------------------------------

    def _read_json(self, digest: str, problems: list[str]) -> dict | None:
        if digest not in self._json:
            self._json[digest] = self._load_json(digest, problems)
        return self._json[digest]

    def _load_json(self, digest: str, problems: list[str]) -> dict | None:
        alg, _sep, hexd = digest.partition(":")
        if not (alg and hexd.isalnum() and alg.isalnum()):
            problems.append(f"{digest!r} is not a digest")
            return None
        path = self.content_root / "blobs" / alg / hexd
        try:
            # O_NONBLOCK and the regular-file check: a FIFO planted as a blob must not hang the read
            fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOFOLLOW | os.O_CLOEXEC)
        except OSError:
            return None  # not present: the image is not whole here, nothing to read
        try:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                problems.append(f"{path} is not a regular file")
                return None
            with os.fdopen(os.dup(fd), "rb") as f:
                data = f.read(_MAX_JSON + 1)
        except OSError as exc:
            problems.append(f"cannot read {path}: {exc.strerror or exc}")
            return None
        finally:
            os.close(fd)
        if len(data) > _MAX_JSON:
            problems.append(f"{digest} is larger than {_MAX_JSON} bytes: not read as JSON")
            return None
        try:
            doc = json.loads(data)
        except ValueError:
            return None  # a layer, or not JSON
        return doc if isinstance(doc, dict) else None

    def _image(self, ns: str, name: str, target: str) -> ImageInfo:
        present = self._present.get(ns)
        if present is None:
            present = self._present[ns] = {b.digest for b in (self.meta.namespace(ns) or metadata.Namespace(ns)).blobs}
        return resolve_image(ns, name, target, self._read_json, present, lambda d: self._labels(ns, d))

    def _unrecorded_images(self, ns: metadata.Namespace) -> list[ImageInfo]:
        """Manifests and indexes that no image record and no other blob reaches (an image deleted
        while a label or lease keeps its blobs), named by their annotations, else their digest."""
        reached = set().union(*(im.blobs for im in self.images if im.namespace == ns.name))
        out = []
        for d in unrecorded_tops(((b.digest, b.labels) for b in ns.blobs), reached):
            info = self._image(ns.name, unrecorded_name(self._read_json(d, []), d), d)
            info.recorded = False
            out.append(info)
        return out

    def _labels(self, ns: str, digest: str) -> Mapping[str, str]:
        if ns not in self._blob_labels:
            space = self.meta.namespace(ns)
            self._blob_labels[ns] = {b.digest: b.labels for b in space.blobs} if space else {}
        return self._blob_labels[ns].get(digest, {})

    # -- snapshots ---------------------------------------------------------------------------

    def own_bytes(self, view: snaps.SnapshotterView, directory: Path, key: str) -> int:
        k = (view.name, key)
        if k not in self._own:
            self._own[k] = self.usage.of(directory).bytes
        return self._own[k]

    def _measure(self, view: snaps.SnapshotterView) -> None:
        """Every directory of ``view`` in one du run (hard links once across them)."""
        self._measured.add(view.name)
        wanted: dict[str, tuple[str, str]] = {}
        for rec in view.records.values():
            if _measurable(rec):
                wanted[os.fspath(rec.directory)] = (view.name, rec.key)
        for orphan in view.orphan_dirs:
            wanted[os.fspath(orphan)] = (view.name, "dir:" + orphan.name)
        for path, usage in usage_of_many(wanted, engine=self.du_engine).items():
            self._own[wanted[path]] = usage.bytes
            if usage.errors:
                log.info("du %s: %s", path, usage.errors[0])

    def snapshot_rows(self) -> list[SnapshotRow]:
        if self._rows is None:
            self._rows = self._build_rows()
        return self._rows

    def _build_rows(self) -> list[SnapshotRow]:
        # namespace key <-> backend key, from the metadata layer's records
        user_of: dict[tuple[str, str], tuple[str, str]] = {}  # (snapshotter, backend) -> (ns, key)
        labels_of: dict[tuple[str, str], Mapping[str, str]] = {}
        times_of: dict[tuple[str, str], tuple[Timestamp | None, Timestamp | None]] = {}
        for ns in self.meta.namespaces:
            for i, s in enumerate(ns.snapshots):
                if not i & metadata.HAND_OVER_MASK:
                    time.sleep(0)
                if s.name:
                    user_of[(s.snapshotter, s.name)] = (ns.name, s.key)
                    labels_of[(s.snapshotter, s.name)] = s.labels
                    times_of[(s.snapshotter, s.name)] = (s.created_at, s.updated_at)
        by_chain: dict[tuple[str, str], list[tuple[str, Layer]]] = {}  # (ns, chain id) -> images, layer
        for im in self.images:
            for layers in im.layers:
                for layer in layers:
                    by_chain.setdefault((im.namespace, layer.chain_id), []).append((im.name, layer))
        containers: dict[tuple[str, str, str], list[str]] = {}
        for ns in self.meta.namespaces:
            for c in ns.containers:
                if c.snapshotter:
                    containers.setdefault((ns.name, c.snapshotter, c.snapshot_key), []).append(f"{ns.name}/{c.id}")
        leases: dict[tuple[str, str, str], list[str]] = {}
        for ns in self.meta.namespaces:
            for lease in ns.leases:
                for sn, key in lease.snapshots:
                    leases.setdefault((ns.name, sn, key), []).append(f"{ns.name}/{lease.id}")
        verdicts = self._gc_verdicts()

        rows: list[SnapshotRow] = []
        for view in self.views:
            if not view.understood:
                continue
            if view.name not in self._measured:
                self._measure(view)
            direct: dict[str, dict] = {}
            for i, rec in enumerate(view.records.values()):
                if not i & metadata.HAND_OVER_MASK:
                    time.sleep(0)  # see metadata.HAND_OVER
                ns_key = user_of.get((view.name, rec.key))
                if ns_key is None and (parsed := snaps.parse_backend_key(rec.key)):
                    ns_key = (parsed[0], parsed[2])
                sns, key = ns_key if ns_key else ("", "")
                owners = by_chain.get((sns, key), []) if sns and key else []
                ref = labels_of.get((view.name, rec.key), {}).get(LABEL_SNAPSHOT_REF) or rec.labels.get(LABEL_SNAPSHOT_REF)
                if not owners and sns and ref:
                    owners = by_chain.get((sns, ref), [])  # a pull's unpacker labels the chain ID it made
                direct[rec.key] = {
                    "ns": sns or None, "key": key or None,
                    "images": sorted({f"{sns}/{n}" for n, _l in owners}),
                    "layer": owners[0][1] if owners else None,
                    "containers": sorted(containers.get((sns, view.name, key), [])),
                    "leases": sorted(leases.get((sns, view.name, key), [])),
                }
            # a parent of a container's or lease's snapshot is used through it
            used_by_container: set[str] = set()
            used_by_lease: set[str] = set()
            for bkey, d in direct.items():
                for target, holders in ((used_by_container, d["containers"]), (used_by_lease, d["leases"])):
                    if holders:
                        target.update(r.key for r in view.chain(bkey))
            for i, rec in enumerate(view.records.values()):
                if not i & metadata.HAND_OVER_MASK:
                    time.sleep(0)
                d = direct[rec.key]
                chain = view.chain(rec.key)
                own = self.own_bytes(view, rec.directory, rec.key) if _measurable(rec) else 0
                chain_bytes = own + sum(self.own_bytes(view, r.directory, r.key) for r in chain[1:] if _measurable(r))
                if snaps.MISSING_DIR in rec.flags:
                    state = STATE_ORPHAN
                elif rec.key in used_by_container:
                    state = STATE_IN_USE
                elif d["images"]:
                    state = STATE_IMAGE
                elif rec.key in used_by_lease:
                    state = STATE_LEASE
                elif d["ns"] is None or (d["ns"], f"{view.name}/{d['key']}") not in self._meta_snapshots():
                    state = STATE_ORPHAN  # the snapshotter has it, no namespace records it
                elif verdicts.get(("snapshot", d["ns"], f"{view.name}/{d['key']}")) is True:
                    state = STATE_COLLECTABLE
                else:
                    state = STATE_OTHER
                flags = list(rec.flags)
                if state == STATE_ORPHAN and snaps.MISSING_DIR not in rec.flags:
                    flags.append("no-metadata-record")
                if rec.kind == "active" and not d["containers"] and rec.key not in used_by_lease:
                    flags.append("active-unheld")
                rows.append(SnapshotRow(
                    view.name, rec, rec.directory, own, chain_bytes, d["ns"], d["key"],
                    tuple(d["images"]), tuple(d["containers"]), tuple(d["leases"]), d["layer"], state,
                    tuple(flags), labels_of.get((view.name, rec.key), {}), times_of.get((view.name, rec.key))))
            for orphan in view.orphan_dirs:
                own = self.own_bytes(view, orphan, "dir:" + orphan.name)
                rows.append(SnapshotRow(view.name, None, orphan, own, own, state=STATE_ORPHAN,
                                        flags=("orphan-dir",)))
        return rows

    def _meta_snapshots(self) -> set[tuple[str, str]]:
        if self._meta_snaps is None:
            self._meta_snaps = {(ns.name, s.id) for ns in self.meta.namespaces for s in ns.snapshots}
        return self._meta_snaps

    def snapshot_bytes(self) -> dict[tuple[str, str], int]:
        """(snapshotter, backend key) -> own bytes, as :func:`.gc.dry_run` takes it."""
        out: dict[tuple[str, str], int] = {}
        for view in self.views:
            if not view.understood:
                continue
            if view.name not in self._measured:
                self._measure(view)
            for rec in view.records.values():
                out[(view.name, rec.key)] = self.own_bytes(view, rec.directory, rec.key) if _measurable(rec) else 0
        return out

    def _gc_verdicts(self) -> dict[tuple[str, str, str], bool]:
        if self._verdicts is None:
            self._verdicts = {(v.kind, v.namespace, v.id): v.collect for v in self.dry_run().verdicts}
        return self._verdicts

    def dry_run(self) -> gc.DryRun:
        """The gc dry run with snapshot sizes from this root's directories (computed once)."""
        if self._run is None:
            self._run = gc.dry_run(self.meta, snapshot_bytes=self.snapshot_bytes())
        return self._run

    # -- images' space -----------------------------------------------------------------------

    def image_space(self) -> list[ImageSpace]:
        sizes: dict[str, int] = {}
        for ns in self.meta.namespaces:
            for b in ns.blobs:
                sizes.setdefault(b.digest, b.size)
        return image_space(self.images, sizes, self.snapshot_rows())

    # -- a host path -------------------------------------------------------------------------

    def locate(self, path: os.PathLike | str) -> PathOwner:
        """Which snapshot, layer blob and images a file under the root belongs to.

        Raises :class:`store.errors.InvalidArgument` for a path outside the root or outside any
        snapshot, blob or ingest directory of it.
        """
        given = Path(os.path.abspath(path))
        rel = _relative(given, self.root)
        if rel is None:
            raise errors.InvalidArgument(f"{path} is not under the containerd root {self.root}")
        parts = rel.parts
        if len(parts) >= 3 and parts[0].startswith(snaps.PLUGIN_PREFIX) and parts[1] == "snapshots":
            name = parts[0][len(snaps.PLUGIN_PREFIX):]
            inside = "/".join(parts[3:])
            for r in self.snapshot_rows():
                if r.snapshotter != name:
                    continue
                if r.record is not None and r.record.id == parts[2] or r.record is None and r.directory.name == parts[2]:
                    if r.record is None:
                        return PathOwner(given, "orphan-snapshot-dir", r, inside=inside)
                    return PathOwner(given, "snapshot", r, r.layer.blob if r.layer else self._uncompressed(r),
                                     r.images or self._images_through(r), r.containers, r.leases, inside)
            raise errors.InvalidArgument(f"{path}: snapshotter {name} has no snapshot {parts[2]}")
        if len(parts) >= 4 and parts[0] == CONTENT_DIR and parts[1] == "blobs":
            digest = f"{parts[2]}:{parts[3]}"
            images = tuple(sorted(f"{im.namespace}/{im.name}" for im in self.images if digest in im.blobs))
            return PathOwner(given, "blob", blob=digest, images=images, inside="/".join(parts[4:]))
        if len(parts) >= 3 and parts[0] == CONTENT_DIR and parts[1] == "ingest":
            # an ingest's directory is named by the sha256 of its backend ref "<namespace>/<n>/<ref>"
            refs = tuple(sorted(f"{ns.name}/{i.ref}" for ns in self.meta.namespaces for i in ns.ingests
                                if hashlib.sha256(i.backend_ref.encode()).hexdigest() == parts[2]))
            leases = tuple(sorted(f"{ns.name}/{lease.id}" for ns in self.meta.namespaces for lease in ns.leases
                                  if any(f"{ns.name}/{r}" in refs for r in lease.ingests)))
            return PathOwner(given, "ingest", leases=leases, inside="/".join(parts[3:]), ingests=refs)
        raise errors.InvalidArgument(f"{path} is under the containerd root but not inside a snapshot, "
                                     "a blob or an ingest")

    def _uncompressed(self, row: SnapshotRow) -> str | None:
        """The layer blob labelled with the snapshot's diff ID, for a snapshot no image record explains."""
        if row.layer is not None or row.namespace is None or row.key is None:
            return None
        ns = self.meta.namespace(row.namespace)
        parent = row.record.parent if row.record else ""
        if ns is None or parent:
            return None  # only a base layer's chain ID is its diff ID
        return next((b.digest for b in ns.blobs if b.labels.get(LABEL_UNCOMPRESSED) == row.key), None)

    def _images_through(self, row: SnapshotRow) -> tuple[str, ...]:
        """For a container's snapshot: the images of its parent."""
        view = next(v for v in self.views if v.name == row.snapshotter)
        if row.record is None:
            return ()
        by_key = {r.record.key: r for r in self.snapshot_rows() if r.record is not None and r.snapshotter == view.name}
        for rec in view.chain(row.record.key)[1:]:
            r = by_key.get(rec.key)
            if r is not None and r.images:
                return r.images
        return ()


def snapshot_sizes(root: os.PathLike | str, meta: Metadata) -> dict[tuple[str, str], int]:
    """(snapshotter, backend key) -> disk usage of its directory, for :func:`.gc.dry_run` and
    :func:`.gc.lease_usage` (``store/cli/disk.py``'s hook)."""
    del meta  # the sizes come from the snapshotters' own records; kept for the hook's signature
    out: dict[tuple[str, str], int] = {}
    for view in snaps.read_root(root):
        keys = {os.fspath(rec.directory): rec.key for rec in view.records.values() if _measurable(rec)}
        sizes = usage_of_many(keys)
        for rec in view.records.values():
            out[(view.name, rec.key)] = sizes[os.fspath(rec.directory)].bytes if _measurable(rec) else 0
    return out


def _measurable(rec: snaps.SnapshotRecord) -> bool:
    """A record whose directory can be counted: it exists, is not a symlink, and no other record shares it."""
    return not {snaps.MISSING_DIR, snaps.DIR_SYMLINK, snaps.BAD_ID} & set(rec.flags)


def _iso(when: Timestamp | None) -> str | None:
    return when.isoformat_ns() if when is not None else None


def _relative(path: Path, root: Path) -> Path | None:
    for p, r in ((path, root.absolute()), (Path(os.path.realpath(path.parent)) / path.name, Path(os.path.realpath(root)))):
        try:
            rel = Path(os.path.normpath(p)).relative_to(os.path.normpath(r))
        except ValueError:
            continue
        if ".." not in rel.parts:
            return rel
    return None


__all__ = ["resolve_image", "image_space", "unrecorded_tops", "unrecorded_name", "snapshot_sizes", "Ownership", "SnapshotRow", "ImageSpace", "PathOwner", "Layer", "ImageInfo", "chain_ids"]
