"""The Disk tab's facts of a running daemon, asked through its gRPC services (worker thread).

store/disk/live_gc.py reads every namespace's records (images, containers, leases, content,
ingests, snapshots with the snapshotter's Usage) into the same ``Metadata`` a stopped root
gives; the dry run runs on it unchanged.  What the daemon does not tell is filled in here:

- a blob's bytes are its recorded size (no file is read: the root may be another machine's);
- a snapshot has no directory; its bytes are the daemon's Usage, its owners are the
  containers whose snapshotKey it is (and their parents), the leases that list it, and the
  images whose layer chain it is (store/disk/live.py: manifests and configs read through the
  content service, by chain ID or the unpacker's ``containerd.io/snapshot.ref``);
- the images reaching a blob come from the same reads.

The picture moves while it is read (a pull or a pass in between): the tab says so.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

from store.disk import gc
from store.disk.live import LiveOwners, live_owners
from store.disk.live_gc import backend_name, live_metadata
from store.disk.metadata import Metadata, Namespace
from store.disk.owners import SnapshotRow

from . import states
from .disk_tree import DiskFacts, DiskTree, build_tree

LIVE_STEPS = 3


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
    namespace (store/disk/live.py) names their images and layers."""
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
                state = states.IN_USE
            elif images:
                state = states.IMAGE
            elif k in by_lease:
                state = states.LEASE
            elif v is not None and v.collect:
                state = states.COLLECTABLE
            else:
                state = states.OTHER
            nbytes = own[k]
            chain_bytes = nbytes + sum(own.get((s.snapshotter, p), 0) for p in _chain(parent, *k)[1:])
            rows.append(SnapshotRow(
                s.snapshotter, None, Path(s.snapshotter) / s.key, nbytes, chain_bytes, ns.name, s.key,
                images, tuple(sorted(containers.get(k, ()))),
                tuple(sorted(leases.get(k, ()))), own_of.layers.get(k), state, (), s.labels, (s.created_at, s.updated_at)))
    return rows


def _owners(address: str, tls, ns: Namespace) -> LiveOwners:
    """The images of ``ns``'s snapshots and blobs, from its manifests and configs (worker)."""
    from store.containerd.client import ContainerdStore
    from store.containerd.records import RecordsClient

    store = ContainerdStore(address, ns.name, lease=None, tls=tls, read_only=True)
    try:
        with RecordsClient(address, ns.name, tls=tls) as records:
            return live_owners(store, records, {(s.snapshotter, s.key): s for s in ns.snapshots})
    finally:
        store.close()


def analyse_live(address: str, *, tls=None, progress: Callable[[int, str], None],
                 cancelled: Callable[[], bool]) -> DiskTree:
    """The whole tree of the daemon at ``address`` (every namespace); ``progress(step, what)``."""
    from store import errors

    progress(0, "live-records")
    live = live_metadata(address, None, tls=tls)
    if cancelled():
        raise errors.Cancelled("the disk analysis was stopped")
    progress(1, "dry-run")
    meta = live.metadata
    run = gc.dry_run(meta, snapshot_bytes=live.snapshot_bytes)
    progress(2, "owners")
    owners = {ns.name: _owners(address, tls, ns) for ns in meta.namespaces if ns.images or ns.containers}
    if cancelled():
        raise errors.Cancelled("the disk analysis was stopped")
    blob_bytes: dict[str, int] = {}
    image_blobs: dict[str, list[str]] = {}
    for ns in meta.namespaces:
        own = owners.get(ns.name)
        for b in ns.blobs:
            blob_bytes.setdefault(b.digest, b.size)
            for name in own.blobs.get(b.digest, ()) if own is not None else ():
                image_blobs.setdefault(b.digest, []).append(f"{ns.name}/{name}")
    problems = list(live.problems) + [p for own in owners.values() for p in own.problems]
    facts = DiskFacts(f"containerd at {address}", meta=meta, run=run, blob_files=blob_bytes,
                      image_blobs=image_blobs, problems=problems, live=True)
    facts.snapshot_rows = snapshot_rows(meta, run, live.snapshot_bytes, owners)
    return build_tree(facts)


__all__ = ["LIVE_STEPS", "analyse_live", "snapshot_rows"]
