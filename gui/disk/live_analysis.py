"""The Disk tab's facts of a running daemon, asked through its gRPC services (worker thread).

store/disk/live_gc.py reads every namespace's records (images, containers, leases, content,
ingests, snapshots with the snapshotter's Usage) into the same ``Metadata`` a stopped root
gives; the dry run runs on it unchanged.  What the daemon does not tell is filled in here:

- a blob's bytes are its recorded size (no file is read: the root may be another machine's);
- a snapshot has no directory; its bytes are the daemon's Usage, its owners are the
  containers whose snapshotKey it is (and their parents), the leases that list it, and the
  image its dry-run chain starts at;
- images reaching a blob are those its chain starts at (one root; every root is found on
  selection, as on a root).

The picture moves while it is read (a pull or a pass in between): the tab says so.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

from store.disk import gc
from store.disk.live_gc import backend_name, live_metadata
from store.disk.metadata import Metadata
from store.disk.owners import SnapshotRow

from . import states
from .disk_tree import DiskFacts, DiskTree, build_tree

LIVE_STEPS = 3


def _chain_root(v: gc.Verdict | None, word: str) -> str | None:
    """The name of the ``word`` record (``image``, ``container``) a chain starts at, if it does."""
    if v is None or v.collect or not v.why:
        return None
    first, _sep, rest = v.why[0].partition(" ")
    return rest.split(" ", 1)[0] if first == word and rest else None


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


def snapshot_rows(meta: Metadata, run: gc.DryRun, sizes: dict[tuple[str, str], int]) -> list[SnapshotRow]:
    """One row per snapshot the daemon lists, in the states the offline rows use."""
    rows: list[SnapshotRow] = []
    for ns in meta.namespaces:
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
            image = _chain_root(v, "image")
            if k in by_container:
                state = states.IN_USE
            elif image is not None:
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
                (f"{ns.name}/{image}",) if image else (), tuple(sorted(containers.get(k, ()))),
                tuple(sorted(leases.get(k, ()))), None, state, (), s.labels, (s.created_at, s.updated_at)))
    return rows


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
    progress(2, "files")
    blob_bytes: dict[str, int] = {}
    image_blobs: dict[str, list[str]] = {}
    for ns in meta.namespaces:
        for b in ns.blobs:
            blob_bytes.setdefault(b.digest, b.size)
            image = _chain_root(run.verdict("blob", ns.name, b.digest), "image")
            if image is not None:
                image_blobs.setdefault(b.digest, []).append(f"{ns.name}/{image}")
    facts = DiskFacts(f"containerd at {address}", meta=meta, run=run, blob_files=blob_bytes,
                      image_blobs=image_blobs, problems=list(live.problems), live=True)
    facts.snapshot_rows = snapshot_rows(meta, run, live.snapshot_bytes)
    return build_tree(facts)


__all__ = ["LIVE_STEPS", "analyse_live", "snapshot_rows"]
