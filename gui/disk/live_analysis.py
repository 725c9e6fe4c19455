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

from typing import Callable

from store.disk import gc
from store.disk.live import LiveOwners, live_owners
from store.disk.live_df import snapshot_rows
from store.disk.live_gc import live_metadata
from store.disk.metadata import Namespace

from .disk_tree import DiskFacts, DiskTree, build_tree

LIVE_STEPS = 3


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


__all__ = ["LIVE_STEPS", "analyse_live"]
