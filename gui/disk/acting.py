"""What the Disk tab's actions act on, and the library calls they make on the job runner.

The targets come from the selected node: a lease (the node itself, or the lease its why-chain
starts at), a blob labelled ``containerd.io/gc.root`` (the root of the node's chain), an
orphaned snapshot directory (``snapdir:<snapshotter>:<id>``).  The calls (worker thread, no Qt)
go through the daemon (store/disk/live_gc.py, gc_pass.py, the content and leases services) or,
for an orphan of a stopped root, through store/disk/actions.py and its refusals.
"""

from __future__ import annotations

from dataclasses import dataclass

from store import errors
from store.disk import gc
from store.disk.actions import OrphanDir, find_orphan, remove_orphan
from store.disk.live_gc import live_metadata
from store.disk.metadata import LABEL_GC_ROOT
from store.timestamps import Timestamp
from store.types import Digest, Info

from . import states
from .disk_tree import DiskNode


def lease_of(node: DiskNode | None) -> tuple[str, str] | None:
    """(namespace, lease id) the node is, or whose chain it starts at; None otherwise."""
    if node is None:
        return None
    if node.ident.startswith("lease:") and node.state != states.COLLECTABLE:
        _kind, ns, lid = node.ident.split(":", 2)
        return ns, lid
    if node.why and node.why[0].startswith("lease "):
        return node.why_namespace or "", node.why[0].split(" ", 2)[1]
    return None


def gc_root_of(node: DiskNode | None) -> tuple[str, str] | None:
    """(namespace, digest) of the blob labelled gc.root that the node's chain starts at."""
    if node is None or not node.why:
        return None
    first = node.why[0]
    if first.startswith("content ") and first.endswith(f" labelled {LABEL_GC_ROOT}"):
        return node.why_namespace or "", first.split(" ", 2)[1]
    return None


def orphan_of(node: DiskNode | None) -> tuple[str, str] | None:
    """(snapshotter, directory id) of an orphaned snapshot directory node."""
    if node is None or not node.ident.startswith("snapdir:") or node.state != states.ORPHAN:
        return None
    _kind, sn, sid = node.ident.split(":", 2)
    return sn, sid


@dataclass(frozen=True)
class LeaseHold:
    records: int  # what only this lease keeps
    bytes: int


def lease_hold(address: str, namespace: str, lease_id: str) -> LeaseHold:
    """What only ``lease_id`` keeps, read from the daemon now (worker)."""
    live = live_metadata(address, [namespace])
    for use in gc.lease_usage(live.metadata, snapshot_bytes=live.snapshot_bytes):
        if use.lease.id == lease_id:
            return LeaseHold(use.only_records, use.only_bytes)
    raise errors.NotFound(f"namespace {namespace} has no lease {lease_id} any more")


def delete_lease(store, namespace: str, lease_id: str) -> None:
    """End the lease through the daemon (worker); the next pass frees what only it kept."""
    store.with_namespace(namespace).delete_lease(lease_id)


def remove_gc_root(store, namespace: str, digest: str) -> None:
    """Remove the blob's ``containerd.io/gc.root`` label through the content service (worker)."""
    epoch = Timestamp.from_ns(0)
    store.with_namespace(namespace).update(Info(Digest(digest), 0, epoch, epoch, {LABEL_GC_ROOT: ""}),
                                           f"labels.{LABEL_GC_ROOT}")


def check_orphan(root, snapshotter: str, snapshot_id: str) -> OrphanDir:
    """Every check of store/disk/actions.py (a running daemon, a record, a link…), or its error."""
    return find_orphan(root, snapshotter, snapshot_id)


def delete_orphan(root, snapshotter: str, snapshot_id: str) -> int:
    """Check again (the daemon may have started since the question) and delete; the bytes freed."""
    found = find_orphan(root, snapshotter, snapshot_id)
    remove_orphan(found)
    return found.bytes


__all__ = ["LeaseHold", "check_orphan", "delete_lease", "delete_orphan", "gc_root_of", "lease_hold", "lease_of",
           "orphan_of", "remove_gc_root"]
