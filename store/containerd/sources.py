"""Open whatever the user named as a content source: a daemon address, a containerd root, or a plain store.

The command line (``blobctl --root/--address``) and the GUI's source list can share this,
so both decide the same way what a path or address means.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path

from .. import errors
from ..containerd_root import root_of
from ..digest import Digest
from ..local import LocalStore
from ..types import Info
from ._rpc import TLSConfig
from .client import ContainerdStore
from .offline import OfflineContainerdRoot


def is_address(target: str) -> bool:
    """True for ``unix://``, ``tcp://`` addresses and existing unix sockets."""
    if target.startswith(("unix://", "unix:", "tcp://")):
        return True
    try:
        return stat.S_ISSOCK(os.stat(target).st_mode)
    except OSError:
        return False


def open_source(target: os.PathLike | str, *, namespace: str = "default", tls: TLSConfig | None = None,
                writable: bool | None = None):
    """A store for ``target``:

    * an address or socket -> :class:`ContainerdStore` in ``namespace``;
    * a containerd root, or the content directory inside one -> the read-only offline view of
      ``namespace`` (labels from a copy of ``meta.db``); if the daemon is running there, the
      :class:`store.bolt.DatabaseLocked` raised names its socket so the caller can offer it;
    * any other directory -> :class:`LocalStore` (``writable`` as LocalStore takes it).
    """
    text = os.fspath(target)
    if is_address(text):
        return ContainerdStore(text, namespace, tls=tls, read_only=writable is False)
    if tls is not None:
        raise errors.InvalidArgument(f"TLS settings are for tcp:// addresses, not the directory {text}")
    path = Path(text)
    root = root_of(path)
    if root is not None:
        if writable:
            raise errors.FailedPrecondition(
                f"{path} belongs to containerd: change it through its daemon (an address), not its files")
        return OfflineContainerdRoot(root).store(namespace)
    if namespace != "default":
        raise errors.InvalidArgument(
            f"{path} is a plain content store, which has no namespaces (namespace {namespace!r} given)")
    return LocalStore(path, writable=writable)


@dataclass(frozen=True)
class Comparison:
    """Blobs of two sources by digest (each list sorted by digest)."""

    only_a: list[Info]
    only_b: list[Info]
    both: list[Digest]

    @property
    def only_a_bytes(self) -> int:
        return sum(i.size for i in self.only_a)

    @property
    def only_b_bytes(self) -> int:
        return sum(i.size for i in self.only_b)


def compare(a, b, *filters: str) -> Comparison:
    """Which blobs (matching ``filters``) one source has and the other lacks; one walk of each."""
    in_a = {i.digest: i for i in a.walk(*filters)}
    in_b = {i.digest: i for i in b.walk(*filters)}
    return Comparison(
        only_a=[in_a[d] for d in sorted(in_a.keys() - in_b.keys())],
        only_b=[in_b[d] for d in sorted(in_b.keys() - in_a.keys())],
        both=sorted(in_a.keys() & in_b.keys()),
    )


__all__ = ["open_source", "is_address", "compare", "Comparison"]
