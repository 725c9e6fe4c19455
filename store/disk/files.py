"""The files of a content store and a containerd root that are neither blobs' records nor
snapshots, sized as ``du -sx`` sizes them (allocated bytes, ``st_blocks * 512``).

The Disk tab shows each of them as a tile: every file under ``blobs/<alg>/``, every
``ingest/<name>`` directory, and the metadata databases (``meta.db`` and each snapshotter's
``metadata.db``). Links and directories under ``blobs/<alg>/`` are skipped, as the store
skips them; a symlinked database is not followed.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Iterable

from store import containerd_root

from .du import DiskUsage, blob_entries
from .snapshotter import METADATA_FILE as SNAPSHOTTER_METADATA


def allocated(st: os.stat_result) -> int:
    """Bytes a file takes on disk, as ``du`` counts them."""
    return st.st_blocks * 512


def blob_files(content_root: Path) -> dict[str, int]:
    """digest -> allocated bytes of every regular file under ``blobs/<alg>/``."""
    return {digest: allocated(e.stat(follow_symlinks=False))
            for digest, e in blob_entries(content_root) if e.is_file(follow_symlinks=False)}


def ingest_dirs(content_root: Path, usage: DiskUsage) -> dict[str, int]:
    """``ingest/<name>`` -> allocated bytes of that directory; nothing when there is no ingest directory."""
    base = content_root / "ingest"
    try:
        names = [e.name for e in os.scandir(base) if e.is_dir(follow_symlinks=False)]
    except OSError:
        return {}
    return {n: usage.of(base / n).bytes for n in names}


def metadata_files(root: Path, snapshotter_dirs: Iterable[Path]) -> list[tuple[str, int]]:
    """(path relative to ``root``, allocated bytes) of ``meta.db`` and each snapshotter's database."""
    found: list[tuple[str, int]] = []
    db = root / containerd_root.METADATA_DB
    if db.is_file() and not db.is_symlink():
        found.append((str(containerd_root.METADATA_DB), allocated(db.stat())))
    for directory in snapshotter_dirs:
        sdb = directory / SNAPSHOTTER_METADATA
        if sdb.is_file() and not sdb.is_symlink():
            found.append((f"{directory.name}/{SNAPSHOTTER_METADATA}", allocated(sdb.stat())))
    return found


__all__ = ["allocated", "blob_files", "ingest_dirs", "metadata_files"]
