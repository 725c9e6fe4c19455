"""What the Disk tab shows, worked out on a worker: which root, then its records, the GC dry run,
the files' sizes, and last the snapshots' disk usage (the slow part), each step reported.

:func:`disk_target` says what a store offers (a containerd root offline, a plain store's
directory, or nothing and why); :func:`analyse` does the work, handing a first tree (content,
ingests, metadata, records) to ``partial`` before ``du`` of the snapshot directories starts.
No Qt here: the caller's job supplies progress, partial results and cancellation.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from store import containerd_root, errors
from store.disk import gc, metadata, owners
from store.disk.du import DiskUsage
from store.disk.files import blob_files, ingest_dirs, metadata_files

from .disk_tree import DiskFacts, DiskTree, build_tree

# what a store offers the tab
ROOT, PLAIN, LIVE, NONE = "root", "plain", "live", "none"
STEPS = 5


@dataclass(frozen=True)
class Target:
    kind: str  # ROOT, PLAIN or NONE
    path: Path | None  # the containerd root, or the plain store's directory
    reason: str = ""  # for NONE: why nothing can be shown ("no-store" or "live")
    address: str = ""  # for LIVE: the socket the daemon's services answer on (an ssh node's tunnel end)
    shown: str = ""  # for LIVE: the address as the person opened it


def _daemon_address(store) -> str:
    """The socket a running daemon's store talks to: an ``ssh://`` node's local tunnel end, else its address."""
    tunnel = getattr(store, "tunnel", None)
    local = getattr(tunnel, "local_address", None)
    if local:
        return str(local)
    address = getattr(store, "address", None)
    return str(address) if address else ""


def disk_target(store) -> Target:
    """What of ``store`` the Disk tab can show (cheap: a few stats; GUI thread)."""
    if store is None:
        return Target(NONE, None, "no-store")
    owner = getattr(store, "containerd_root", None)
    root = getattr(owner, "root", None)
    if root is not None and Path(root).is_dir():
        return Target(ROOT, Path(root))
    directory = getattr(store, "root", None)
    if directory is None or not Path(str(directory)).is_dir():
        address = _daemon_address(store)
        if address and hasattr(store, "list_namespaces"):
            return Target(LIVE, None, address=address, shown=str(getattr(store, "address", address)))
        return Target(NONE, None, "live")
    found = containerd_root.root_of(str(directory))
    if found is not None:  # a root whose meta.db the opener could not use still has its files
        return Target(ROOT, found)
    return Target(PLAIN, Path(str(directory)))


def _check(cancelled: Callable[[], bool]) -> None:
    if cancelled():
        raise errors.Cancelled("the disk analysis was stopped")


def analyse(target: Target, *, progress: Callable[[int, str], None], partial: Callable[[DiskTree], None],
            cancelled: Callable[[], bool] = lambda: False) -> DiskTree:
    """The whole tree of ``target`` (worker thread); ``progress(step, what)`` with step < :data:`STEPS`."""
    if target.kind == LIVE:
        from .live_analysis import analyse_live
        return analyse_live(target.address, progress=progress, cancelled=cancelled)
    if target.kind == PLAIN:
        assert target.path is not None
        progress(2, "files")
        usage = DiskUsage()
        facts = DiskFacts(str(target.path), blob_files=blob_files(target.path),
                          ingest_dirs=ingest_dirs(target.path, usage), plain=True)
        return build_tree(facts)
    if target.kind != ROOT or target.path is None:
        raise errors.FailedPrecondition("there is no directory to analyse")
    root = target.path
    content = root / containerd_root.CONTENT_DIR
    progress(0, "metadata")
    meta = metadata.load_root(root)
    _check(cancelled)
    progress(1, "dry-run")
    run = gc.dry_run(meta)
    _check(cancelled)
    progress(2, "files")
    own = owners.Ownership(root, meta=meta)
    usage = own.usage
    image_blobs: dict[str, list[str]] = {}
    for im in own.images:
        for d in im.blobs:
            image_blobs.setdefault(d, []).append(f"{im.namespace}/{im.name}")
    facts = DiskFacts(str(root), meta=meta, run=run, blob_files=blob_files(content), image_blobs=image_blobs,
                      ingest_dirs=ingest_dirs(content, usage),
                      metadata_files=metadata_files(root, [v.directory for v in own.views]),
                      problems=list(own.problems))
    _check(cancelled)
    partial(build_tree(facts))
    progress(3, "snapshots")
    facts.snapshot_rows = own.snapshot_rows()
    facts.not_understood = [(v.name, usage.of(v.directory).bytes) for v in own.views if not v.understood]
    _check(cancelled)
    progress(4, "dry-run")
    facts.run = own.dry_run()  # with the snapshots' sizes: the reclaimable figure counts them
    return build_tree(facts)


__all__ = ["Target", "disk_target", "analyse", "ROOT", "PLAIN", "LIVE", "NONE", "STEPS"]
