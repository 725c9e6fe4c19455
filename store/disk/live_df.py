"""``df`` of a running daemon: the figures of :mod:`.df`, from its gRPC services instead of files.

:mod:`.live_gc` builds the GC's records of every namespace (snapshot bytes are the
snapshotter's ``Usage``); :func:`.gc.dry_run` runs on them unchanged; :mod:`.live` names the
images of each snapshot and blob (manifests and configs read through the content service, and
top-level manifests no image record reaches, as offline).  :func:`.df.tally` then counts
states, leases, reclaimable bytes and per-image space exactly as it does for a root.

What the API cannot tell, and what stands in:

- a blob's bytes are its recorded size (no file is read), so ``bytes`` and ``recorded_bytes``
  are equal; an ingest's bytes are the offsets written;
- a snapshot's bytes are the daemon's ``Usage`` (what was recorded at commit for a committed
  one), not ``du`` of its directory;
- no directory is seen: no orphan directory, no record without a directory (no ``orphan``
  state), no snapshotter the daemon does not serve, no ``metadata.db`` sizes (``None``).
"""

from __future__ import annotations

from pathlib import Path

from . import gc
from .df import STATE_ALL, Report, tally
from .live import LiveOwners, live_owners
from .live_gc import backend_name, live_metadata
from .metadata import Metadata, Namespace
from .owners import STATE_COLLECTABLE, STATE_IMAGE, STATE_IN_USE, STATE_LEASE, STATE_OTHER, SnapshotRow


def _chain(parent: dict[tuple[str, str], str], sn: str, key: str) -> list[str]:
    """``key`` and its parents (a loop or a missing parent ends the chain)."""
    out: list[str] = []
    seen: set[str] = set()
    at: str | None = key
    while at and at not in seen and (sn, at) in parent:
        seen.add(at)
        out.append(at)
        at = parent[(sn, at)]
    return out


def snapshot_rows(meta: Metadata, run: gc.DryRun, sizes: dict[tuple[str, str], int],
                  owners: dict[str, LiveOwners] | None = None) -> list[SnapshotRow]:
    """One row per snapshot the daemon lists, in the states the offline rows use; ``owners`` per
    namespace (:func:`namespace_owners`) names their images and layers."""
    rows: list[SnapshotRow] = []
    for ns in meta.namespaces:
        own_of = (owners or {}).get(ns.name, LiveOwners())
        parent: dict[tuple[str, str], str] = {(s.snapshotter, s.key): s.parent for s in ns.snapshots}
        containers: dict[tuple[str, str], list[str]] = {}
        for c in ns.containers:
            if c.snapshotter:
                containers.setdefault((c.snapshotter, c.snapshot_key), []).append(f"{ns.name}/{c.id}")
        leases: dict[tuple[str, str], list[str]] = {}
        for lease in ns.leases:
            for sn, key in lease.snapshots:
                leases.setdefault((sn, key), []).append(f"{ns.name}/{lease.id}")
        by_container = {(sn, k) for (sn, key) in containers for k in _chain(parent, sn, key)}
        by_lease = {(sn, k) for (sn, key) in leases for k in _chain(parent, sn, key)}
        own = {(s.snapshotter, s.key): sizes.get((s.snapshotter, backend_name(ns.name, s.key)), 0)
               for s in ns.snapshots}
        for s in ns.snapshots:
            k = (s.snapshotter, s.key)
            v = run.verdict("snapshot", ns.name, f"{s.snapshotter}/{s.key}")
            images = tuple(f"{ns.name}/{name}" for name in own_of.images.get(k, ()))
            if k in by_container:
                state = STATE_IN_USE
            elif images:
                state = STATE_IMAGE
            elif k in by_lease:
                state = STATE_LEASE
            elif v is not None and v.collect:
                state = STATE_COLLECTABLE
            else:
                state = STATE_OTHER
            nbytes = own[k]
            chain_bytes = nbytes + sum(own.get((s.snapshotter, p), 0) for p in _chain(parent, *k)[1:])
            rows.append(SnapshotRow(
                s.snapshotter, None, Path(s.snapshotter) / s.key, nbytes, chain_bytes, ns.name, s.key,
                images, tuple(sorted(containers.get(k, ()))),
                tuple(sorted(leases.get(k, ()))), own_of.layers.get(k), state, (), s.labels, (s.created_at, s.updated_at)))
    return rows


def namespace_owners(address: str, tls, ns: Namespace) -> LiveOwners:
    """The images of ``ns``'s snapshots and blobs, from its manifests and configs (and the
    top-level manifests no image record reaches, named as offline)."""
    from ..containerd.client import ContainerdStore
    from ..containerd.records import RecordsClient

    store = ContainerdStore(address, ns.name, lease=None, tls=tls, read_only=True)
    try:
        with RecordsClient(address, ns.name, tls=tls) as records:
            return live_owners(store, records, {(s.snapshotter, s.key): s for s in ns.snapshots},
                               {b.digest: b.labels for b in ns.blobs})
    finally:
        store.close()


def report(address: str, namespace: str | None = None, *, tls=None) -> Report:
    """``df`` of the daemon at ``address``: every namespace's records feed the dry run; the
    figures count ``namespace``'s (None: every namespace's)."""
    live = live_metadata(address, None, tls=tls)
    meta = live.metadata
    run = gc.dry_run(meta, snapshot_bytes=live.snapshot_bytes)
    chosen = {namespace} if namespace is not None else None
    spaces = [ns for ns in meta.namespaces if chosen is None or ns.name in chosen]
    owners = {ns.name: namespace_owners(address, tls, ns) for ns in spaces}
    rep = Report(None, address=address, namespace=namespace, metadata_bytes=None)
    rep.problems = list(live.problems) + [p for o in owners.values() for p in o.problems]
    blobs: dict[str, tuple[int, int]] = {}
    for ns in spaces:
        for b in ns.blobs:
            blobs.setdefault(b.digest, (b.size, b.size))
    rows = [r for r in snapshot_rows(meta, run, live.snapshot_bytes, owners) if r.namespace in owners]
    images = [info for o in owners.values() for info in o.resolved]
    per = tally(rep, meta=meta, run=run, blobs=blobs, images=images, rows=rows,
                snapshot_bytes=live.snapshot_bytes, namespaces={ns.name for ns in spaces})
    for name in sorted(live.snapshotters):
        s = per.get(name, {"count": 0, "bytes": 0})
        rep.snapshotters.append({"name": name, "understood": True, "count": s["count"], "bytes": s["bytes"],
                                 "error": None})
    ingests = [ing for ns in spaces for ing in ns.ingests]
    rep.ingest_count = len(ingests)
    rep.ingest_bytes = sum(ing.offset or 0 for ing in ingests)
    rep.add("ingest", STATE_ALL, rep.ingest_bytes, rep.ingest_count)
    return rep


__all__ = ["namespace_owners", "report", "snapshot_rows"]
