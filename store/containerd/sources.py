"""Open whatever the user named as a content source: a daemon address, a containerd root, or a plain store.

The command line (``blobctl --root/--address``) and the GUI's source list can share this,
so both decide the same way what a path or address means.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from .. import errors
from ..local import LocalStore
from ._rpc import TLSConfig
from .client import ContainerdStore
from .offline import CONTENT_DIR, METADATA_DB, OfflineContainerdRoot


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
        return ContainerdStore(text, namespace, tls=tls)
    if tls is not None:
        raise errors.InvalidArgument(f"TLS settings are for tcp:// addresses, not the directory {text}")
    path = Path(text)
    if (path / METADATA_DB).is_file() or (path.name == CONTENT_DIR and (path.parent / METADATA_DB).is_file()):
        if writable:
            raise errors.FailedPrecondition(
                f"{path} belongs to containerd: change it through its daemon (an address), not its files")
        return OfflineContainerdRoot(path).store(namespace)
    if namespace != "default":
        raise errors.InvalidArgument(
            f"{path} is a plain content store, which has no namespaces (namespace {namespace!r} given)")
    return LocalStore(path, writable=writable)


__all__ = ["open_source", "is_address"]
