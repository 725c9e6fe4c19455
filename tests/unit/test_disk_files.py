"""store.disk.files: the files the Disk tab shows beside records and snapshots, sized like du."""

from __future__ import annotations

import os
from pathlib import Path

from store.disk.du import DiskUsage
from store.disk.files import blob_files, ingest_dirs, metadata_files

HEX = "ab" * 32


def _blocks(path: Path) -> int:
    return os.lstat(path).st_blocks * 512


def test_blob_files_counts_regular_files_only(tmp_path: Path) -> None:
    blobs = tmp_path / "blobs" / "sha256"
    blobs.mkdir(parents=True)
    (blobs / HEX).write_bytes(b"x" * 10000)
    (blobs / ("cd" * 32)).symlink_to(blobs / HEX)
    (blobs / ("ef" * 32)).mkdir()
    os.mkfifo(blobs / ("01" * 32))
    assert blob_files(tmp_path) == {f"sha256:{HEX}": _blocks(blobs / HEX)}


def test_blob_files_of_a_store_without_blobs_is_empty(tmp_path: Path) -> None:
    assert blob_files(tmp_path) == {}


def test_ingest_dirs_sizes_each_directory_and_skips_files(tmp_path: Path) -> None:
    ingest = tmp_path / "ingest"
    (ingest / "one").mkdir(parents=True)
    (ingest / "one" / "data").write_bytes(b"y" * 50000)
    (ingest / "stray").write_bytes(b"z")
    (ingest / "link").symlink_to(ingest / "one")
    got = ingest_dirs(tmp_path, DiskUsage())
    assert set(got) == {"one"}
    assert got["one"] >= _blocks(ingest / "one" / "data")
    assert ingest_dirs(tmp_path / "missing", DiskUsage()) == {}


def test_metadata_files_lists_databases_and_refuses_links(tmp_path: Path) -> None:
    meta = tmp_path / "io.containerd.metadata.v1.bolt"
    meta.mkdir()
    (meta / "meta.db").write_bytes(b"m" * 8192)
    overlay = tmp_path / "io.containerd.snapshotter.v1.overlayfs"
    overlay.mkdir()
    (overlay / "metadata.db").write_bytes(b"s" * 4096)
    native = tmp_path / "io.containerd.snapshotter.v1.native"
    native.mkdir()
    (native / "metadata.db").symlink_to(meta / "meta.db")
    got = metadata_files(tmp_path, [overlay, native])
    assert got == [("io.containerd.metadata.v1.bolt/meta.db", _blocks(meta / "meta.db")),
                   ("io.containerd.snapshotter.v1.overlayfs/metadata.db", _blocks(overlay / "metadata.db"))]
