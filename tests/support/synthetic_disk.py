"""A synthetic containerd root as store/disk's records (no bolt files, no directories), for the
Disk tab's tests and benchmark: images whose manifests reach layer blobs by gc.ref labels and
whose configs name their top snapshot, snapshot chains, containers on some images, leases
holding loose blobs, and loose blobs nothing keeps.  Deterministic for a seed."""

from __future__ import annotations

import hashlib
import random
from pathlib import Path

from gui.disk.disk_tree import DiskFacts
from store.disk import gc
from store.disk.metadata import Blob, Container, Image, Lease, Metadata, Namespace, Snapshot
from store.disk.owners import STATE_COLLECTABLE, STATE_IMAGE, STATE_IN_USE, SnapshotRow
from store.disk.snapshotter import SnapshotRecord

REF = "containerd.io/gc.ref.content"
SNAP_REF = "containerd.io/gc.ref.snapshot.overlayfs"


def _digest(kind: str, i: int) -> str:
    return "sha256:" + hashlib.sha256(f"{kind}{i}".encode()).hexdigest()


def synthetic_facts(*, blobs: int = 1000, snapshots: int = 100, images: int = 50, leases: int = 10,
                    seed: int = 1, root: str = "/synthetic/root") -> DiskFacts:
    rnd = random.Random(seed)
    ns = "default"
    layers_per_image = max(1, min(8, snapshots // max(1, images)))
    blob_recs: list[Blob] = []
    image_recs: list[Image] = []
    snap_recs: list[Snapshot] = []
    rows: list[SnapshotRow] = []
    containers: list[Container] = []
    image_blobs: dict[str, list[str]] = {}
    sizes: dict[str, int] = {}
    snap_id = 0

    def size() -> int:
        return int(rnd.lognormvariate(11, 2.2)) // 4096 * 4096 + 4096

    for i in range(images):
        name = f"registry.example/app{i}:v{i % 7}"
        layer_digests = [_digest("layer", rnd.randrange(images * layers_per_image)) for _ in range(layers_per_image)]
        config, manifest = _digest("config", i), _digest("manifest", i)
        parent = ""
        for depth in range(layers_per_image):
            snap_id += 1
            key = f"chain-{i}-{depth}"
            snap_recs.append(Snapshot(ns, "overlayfs", key, f"{ns}/1/{key}", parent))
            record = SnapshotRecord("overlayfs", f"{ns}/1/{key}", str(snap_id), "committed", f"{ns}/1/{parent}"
                                    if parent else "", {}, None, None, None, None,
                                    Path(f"{root}/snapshots/{snap_id}"))
            nbytes = size() * 2
            rows.append(SnapshotRow("overlayfs", record, record.directory, nbytes, nbytes, ns, key,
                                    (f"{ns}/{name}",), (), (), None, STATE_IMAGE))
            parent = key
        labels = {f"{REF}.l.{j}": d for j, d in enumerate(layer_digests)}
        labels[f"{REF}.config"] = config
        blob_recs.append(Blob(ns, manifest, 1500, labels))
        blob_recs.append(Blob(ns, config, 3000, {SNAP_REF: parent}))
        for d in [manifest, config, *layer_digests]:
            image_blobs.setdefault(d, []).append(f"{ns}/{name}")
        image_recs.append(Image(ns, name, manifest, "application/vnd.oci.image.manifest.v1+json", 1500))
        if i % 10 == 0:
            cid = f"ctr-{i}"
            containers.append(Container(ns, cid, name, "overlayfs", cid))
            snap_recs.append(Snapshot(ns, "overlayfs", cid, f"{ns}/1/{cid}", parent))
            snap_id += 1
            record = SnapshotRecord("overlayfs", f"{ns}/1/{cid}", str(snap_id), "active", f"{ns}/1/{parent}", {},
                                    None, None, None, None, Path(f"{root}/snapshots/{snap_id}"))
            rows.append(SnapshotRow("overlayfs", record, record.directory, size(), 0, ns, cid, (), (f"{ns}/{cid}",),
                                    (), None, STATE_IN_USE))
    seen = {b.digest for b in blob_recs}
    for d in {d for d in image_blobs if d not in seen}:
        blob_recs.append(Blob(ns, d, size()))
    loose: list[str] = []
    i = 0
    while len(blob_recs) < blobs:
        d = _digest("loose", i)
        blob_recs.append(Blob(ns, d, size()))
        loose.append(d)
        i += 1
    lease_recs = [Lease(ns, f"lease-{k}", None, {}, tuple(loose[k::max(1, leases * 4)][:3]))
                  for k in range(leases)]
    while len(rows) < snapshots:  # snapshots no image names: collectable
        snap_id += 1
        key = f"loose-{snap_id}"
        snap_recs.append(Snapshot(ns, "overlayfs", key, f"{ns}/1/{key}", ""))
        record = SnapshotRecord("overlayfs", f"{ns}/1/{key}", str(snap_id), "committed", "", {}, None, None,
                                None, None, Path(f"{root}/snapshots/{snap_id}"))
        rows.append(SnapshotRow("overlayfs", record, record.directory, size(), 0, ns, key, (), (), (), None,
                                STATE_COLLECTABLE))
    for b in blob_recs:
        sizes[b.digest] = b.size
    meta = Metadata((Namespace(ns, images=tuple(image_recs), containers=tuple(containers), leases=tuple(lease_recs),
                               blobs=tuple(blob_recs), snapshots=tuple(snap_recs)),))
    run = gc.dry_run(meta, snapshot_bytes={(r.snapshotter, r.record.key): r.bytes for r in rows if r.record})
    return DiskFacts(root, meta=meta, run=run, blob_files=sizes, image_blobs=image_blobs, snapshot_rows=rows,
                     metadata_files=[("io.containerd.metadata.v1.bolt/meta.db", 64 << 20)])


__all__ = ["synthetic_facts"]
