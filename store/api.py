"""The store API (design.md §3) as a ``typing.Protocol``.

:class:`store.LocalStore` implements it over a directory; the containerd
backend implements it over gRPC.  Code above the store (GUI, command line,
OCI graph) should accept any ``ContentStore``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Iterator, Protocol, runtime_checkable

from .digest import Digest
from .types import Info, Status


@runtime_checkable
class ReaderAt(Protocol):
    size: int

    def read_at(self, n: int, offset: int) -> bytes: ...
    def close(self) -> None: ...
    def __enter__(self) -> "ReaderAt": ...
    def __exit__(self, *exc) -> None: ...


@runtime_checkable
class Writer(Protocol):
    ref: str

    def write(self, data: bytes | bytearray | memoryview) -> int: ...
    def digest(self) -> Digest: ...
    def status(self) -> Status: ...
    def truncate(self, size: int = 0) -> None: ...
    def commit(self, size: int = 0, expected: Digest | str | None = None,
               labels: dict[str, str] | None = None) -> Digest | None: ...
    def close(self) -> None: ...
    def __enter__(self) -> "Writer": ...
    def __exit__(self, *exc) -> None: ...


@runtime_checkable
class ContentStore(Protocol):
    """Manager + Provider + IngestManager + Ingester (containerd-store.md §1.4), with design.md §3's names."""

    read_only: bool
    read_only_reason: str | None

    # Manager
    def info(self, digest: Digest | str) -> Info: ...
    def update(self, info: Info, *fieldpaths: str) -> Info: ...
    def walk(self, *filters: str) -> Iterator[Info]: ...
    def delete(self, digest: Digest | str) -> None: ...
    # Provider
    def reader_at(self, digest: Digest | str) -> ReaderAt: ...
    # IngestManager
    def status(self, ref: str) -> Status: ...
    def list_statuses(self, *filters: str) -> list[Status]: ...
    def abort(self, ref: str) -> None: ...
    # Ingester
    def writer(self, ref: str, *, total: int = 0, expected: Digest | str | None = None) -> Writer: ...


@runtime_checkable
class BlobscopeStore(ContentStore, Protocol):
    """ContentStore plus the helpers of design.md §3 (what the GUI and blobctl call)."""

    def import_file(self, path, *, ref: str | None = None, labels: dict[str, str] | None = None,
                    progress=None, cancel=None) -> Info: ...
    def verify(self, digest: Digest | str) -> bool: ...
    def usage(self) -> dict: ...
    def broken_ingests(self) -> list: ...
    def remove_broken_ingest(self, ref_hash: str) -> None: ...


__all__ = ["BlobscopeStore", "ContentStore", "ReaderAt", "Writer", "Info", "Status", "Digest", "datetime"]


def usage(store: ContentStore, statuses: list[Status] | None = None) -> dict:
    """Counts and bytes of blobs and ingests, the same way for every kind of store.

    ``statuses``: the store's ingests when the caller has listed them already.
    """
    blob_count = blob_bytes = 0
    for info in store.walk():
        blob_count += 1
        blob_bytes += info.size
    if statuses is None:
        statuses = store.list_statuses()
    return {"blob_count": blob_count, "blob_bytes": blob_bytes,
            "ingest_count": len(statuses), "ingest_bytes": sum(s.offset for s in statuses)}
