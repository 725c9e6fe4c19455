"""A containerd root read without its daemon: namespaces and labels from a copy of ``meta.db``.

This is what forensic tools do with a stopped node or a disk image: the content files
are read in place (never written), and everything the daemon would say about them
(which namespace has which blob, labels, times, ingest refs) comes from ``meta.db``.
The daemon's own ``meta.db`` is never opened: :func:`store.bolt.open_metadata` reads a
private copy, and refuses while a running daemon holds the file's lock.
"""

from __future__ import annotations

import dataclasses
import logging
import os
from pathlib import Path
from typing import Iterator, NoReturn

from .. import bolt, errors
from ..api import usage as _usage
from ..containerd_root import CONTENT_DIR, METADATA_DB, daemon_address, root_of
from ..digest import Digest
from ..filters import adapt_status, compile_filters
from ..local import LocalStore
from ..types import Info, Status

log = logging.getLogger(__name__)


def find_root(path: os.PathLike | str) -> Path:
    """The containerd root for ``path``: the root itself, or its content directory."""
    root = root_of(path)
    if root is not None:
        return root
    path = Path(path).absolute()
    raise errors.NotFound(
        f"{path} is not a containerd root: there is no {METADATA_DB} in it "
        f"(give the directory that holds {CONTENT_DIR} and io.containerd.metadata.v1.bolt)")


class OfflineContainerdRoot:
    """A stopped (or copied) containerd root: its namespaces, and a read-only store per namespace.

    Raises :class:`store.bolt.DatabaseLocked` when a daemon is running on the root; the
    message says to connect through its socket instead (:class:`ContainerdStore`).
    """

    def __init__(self, root: os.PathLike | str):
        self.root = find_root(root)
        self.meta_path = self.root / METADATA_DB
        self.content_root = self.root / CONTENT_DIR
        try:
            self._meta = bolt.open_metadata(self.meta_path)
        except bolt.DatabaseLocked as exc:
            raise _with_address(exc) from None
        self._content = LocalStore(self.content_root, writable=False)

    def close(self) -> None:
        self._meta.close()

    def __enter__(self) -> "OfflineContainerdRoot":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    @property
    def metadata(self) -> bolt.ContainerdMetadata:
        return self._meta

    def list_namespaces(self) -> list[str]:
        return sorted(self._meta.namespaces())

    def namespace_labels(self, namespace: str) -> dict[str, str]:
        return self._meta.namespace_labels(namespace)

    def namespaces_with(self, digest: Digest | str) -> list[str]:
        digest = Digest(digest)
        return [ns for ns in self.list_namespaces() if self._meta.blob(ns, digest) is not None]

    def leases(self, namespace: str) -> list[bolt.LeaseRecord]:
        return self._meta.leases(namespace)

    def store(self, namespace: str = "default") -> "OfflineNamespaceStore":
        if namespace not in self._meta.namespaces():
            known = ", ".join(self.list_namespaces()) or "none"
            raise errors.NotFound(f"namespace {namespace} does not exist in {self.meta_path} (namespaces: {known})")
        return OfflineNamespaceStore(self, namespace)


def _with_address(exc: bolt.DatabaseLocked) -> bolt.DatabaseLocked:
    """The lock error, naming the running daemon's socket when it can be found (for "connect instead")."""
    address = daemon_address(exc.holder_pid) if exc.holder_pid else None
    if address is None:
        exc.address = None
        return exc
    new = bolt.DatabaseLocked(
        f"{exc.path} is in use by containerd (process {exc.holder_pid}); read it through that daemon "
        f"instead: blobctl --address {address}", path=exc.path, holder_pid=exc.holder_pid)
    new.address = address
    return new


class OfflineNamespaceStore:
    """One namespace of an offline root, with the store API; every change is refused."""

    read_only = True

    def __init__(self, owner: OfflineContainerdRoot, namespace: str):
        self._owner = owner
        self.namespace = namespace
        self.root = owner.content_root
        self.read_only_reason: str | None = (
            f"{owner.root} is an offline containerd root, read from a copy of its meta.db; "
            "start its daemon and connect through the socket (blobctl --address) to change it")

    def __repr__(self) -> str:
        return f"<OfflineNamespaceStore {str(self._owner.root)!r} namespace={self.namespace!r}>"

    def describe(self) -> str:
        return f"offline containerd root {self._owner.root}, namespace {self.namespace}"

    @property
    def containerd_root(self) -> OfflineContainerdRoot:
        """The root this view belongs to (its namespaces, leases, other views)."""
        return self._owner

    def close(self) -> None:
        self._owner.close()

    def _refuse(self, action: str) -> NoReturn:
        raise errors.FailedPrecondition(f"cannot {action}: {self.read_only_reason}")

    # -- Manager -------------------------------------------------------------------
    def info(self, digest: Digest | str) -> Info:
        digest = Digest(digest)
        info = self._owner._meta.blob(self.namespace, digest)
        if info is None:
            raise errors.NotFound(f"content digest {digest}")  # the daemon's words
        return info

    def walk(self, *filters: str) -> Iterator[Info]:
        match = compile_filters(filters)
        for info in self._owner._meta.blobs(self.namespace):
            if match is None or match(info):
                yield info

    def update(self, info: Info, *fieldpaths: str) -> Info:
        self._refuse(f"update the labels of {info.digest}")

    def delete(self, digest: Digest | str) -> None:
        self._refuse(f"delete {digest}")

    # -- Provider ------------------------------------------------------------------
    def reader_at(self, digest: Digest | str):
        info = self.info(digest)  # a blob this namespace does not record is not readable here either
        return self._owner._content.reader_at(info.digest)

    def verify(self, digest: Digest | str) -> bool:
        return self._owner._content.verify(self.info(digest).digest)

    # -- IngestManager -------------------------------------------------------------
    def _statuses(self) -> Iterator[Status]:
        for rec in self._owner._meta.ingests(self.namespace):
            try:
                st = self._owner._content.status(rec.backend_ref)
            except errors.NotFound:
                continue  # shared ingest or vanished directory: the daemon hides these too
            yield dataclasses.replace(st, ref=rec.ref, expected=st.expected or rec.expected)

    def status(self, ref: str) -> Status:
        for st in self._statuses():
            if st.ref == ref:
                return st
        raise errors.NotFound(f"reference {ref}")

    def list_statuses(self, *filters: str) -> list[Status]:
        match = compile_filters(filters, adapt_status)
        return [s for s in self._statuses() if match is None or match(s)]

    def broken_ingests(self) -> list:
        return []

    def abort(self, ref: str) -> None:
        self._refuse(f"abort ref {ref!r}")

    def writer(self, ref: str, *, total: int = 0, expected=None):
        self._refuse(f"write ref {ref!r}")

    def import_file(self, path, **_kw) -> Info:
        self._refuse(f"import {path}")

    def usage(self) -> dict:
        return _usage(self)
