"""Deleting an orphaned snapshot directory of a stopped containerd root, and nothing else.

An orphan is a ``snapshots/<id>`` directory of an understood snapshotter (overlayfs, native)
that the snapshotter's own ``metadata.db`` has no record of: containerd's GC removes such
directories only in a pass that also removes a record of the same snapshotter
(docs/gc-proof.md), so they can outlive every restart.  The checks, each a one-line
:class:`store.errors.FailedPrecondition` / :class:`store.errors.InvalidArgument` with nothing
changed: a running daemon owns the root; the snapshotter's ``metadata.db`` cannot be read (then
every directory would look orphaned); the id is not a plain directory name, has a record, is a
symbolic link or not a directory, or resolves outside the root.
"""

from __future__ import annotations

import os
import shutil
import stat
from dataclasses import dataclass
from pathlib import Path

from .. import errors
from ..containerd_root import live_daemon
from .du import disk_usage
from .snapshotter import PLUGIN_PREFIX, UNDERSTOOD, read_snapshotter


@dataclass(frozen=True)
class OrphanDir:
    snapshotter: str
    id: str
    path: Path
    bytes: int  # du -sx of the directory: what deleting it frees


def find_orphan(root: os.PathLike | str, snapshotter: str, snapshot_id: str) -> OrphanDir:
    """The orphaned directory ``snapshots/<snapshot_id>`` of ``snapshotter``, after every check."""
    root = Path(root)
    if snapshotter not in UNDERSTOOD:
        raise errors.InvalidArgument(f"snapshotter {snapshotter!r}: only {', '.join(sorted(UNDERSTOOD))} "
                                     "directories are understood")
    if not snapshot_id or "/" in snapshot_id or snapshot_id in (".", "..") or "\0" in snapshot_id:
        raise errors.InvalidArgument(f"{snapshot_id!r} is not a snapshot directory name (the <id> of snapshots/<id>)")
    live = live_daemon(root)
    if live is not None:
        pid, address = live
        raise errors.FailedPrecondition(
            f"{root} belongs to a running containerd (process {pid or '?'}, {address or 'socket unknown'}): "
            "nothing is deleted behind its back; stop it first")
    directory = root / (PLUGIN_PREFIX + snapshotter)
    view = read_snapshotter(snapshotter, directory)
    if view.error:
        raise errors.FailedPrecondition(f"{view.error}; without its records no directory can be called an orphan")
    if view.by_id(snapshot_id) is not None:
        raise errors.FailedPrecondition(f"{snapshotter} snapshot {snapshot_id} has a record in "
                                        f"{directory / 'metadata.db'}: it is not an orphan")
    path = view.snapshots_dir / snapshot_id
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        raise errors.NotFound(f"there is no {path}") from None
    if stat.S_ISLNK(st.st_mode):
        raise errors.FailedPrecondition(f"{path} is a symbolic link: it is not deleted (nor what it points to)")
    if not stat.S_ISDIR(st.st_mode):
        raise errors.FailedPrecondition(f"{path} is not a directory")
    real_root = root.resolve()
    if not path.resolve().is_relative_to(real_root) or path.resolve().parent != view.snapshots_dir.resolve():
        raise errors.FailedPrecondition(f"{path} resolves outside {root}")
    if path not in view.orphan_dirs:
        raise errors.FailedPrecondition(f"{path} is not an orphan of {snapshotter}")
    return OrphanDir(snapshotter, snapshot_id, path, disk_usage(path).bytes)


def remove_orphan(found: OrphanDir) -> None:
    """Delete the directory ``find_orphan`` checked (the symlink check is repeated just before)."""
    st = os.lstat(found.path)
    if not stat.S_ISDIR(st.st_mode):
        raise errors.FailedPrecondition(f"{found.path} changed since it was checked")
    shutil.rmtree(found.path)  # never follows a symbolic link inside (fd-based on Linux)


__all__ = ["OrphanDir", "find_orphan", "remove_orphan"]
