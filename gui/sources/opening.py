"""Open what the user named (a store directory, a containerd root, a daemon socket) on a worker.

``store.containerd.sources.open_source`` makes the decision the command line makes too; when
the containerd extras are not installed, or a containerd root's ``meta.db`` cannot be read, the
content directory is still shown read-only from its files.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, Callable

from store import containerd_root, errors

log = logging.getLogger(__name__)

try:
    # imported with the application, before a window shows, not on the first open: grpc's C
    # extension initialises holding the GIL, and on the open job's worker thread that froze the
    # just-shown window for 60-130 ms (faulthandler stacks, tests/perf/RESULTS.md)
    import store.containerd.sources  # noqa: F401
except ImportError:
    pass  # open_any says why, and opens plain directories without it


def _containerd_content_dir(path: Path) -> Path | None:
    """The content directory of the containerd root ``path`` is (when it has one) or is in, else None."""
    root = containerd_root.root_of(path)
    if root is None:
        return None
    content = root / containerd_root.CONTENT_DIR
    return content if root != path.absolute() or content.is_dir() else None


def open_any(target: str):
    """A store for ``target``; raises a ContentError a person can read when there is none."""
    from store import LocalStore
    path = Path(target)
    opener: Callable[..., Any] | None
    try:
        from store.containerd.sources import open_source as opener
    except ImportError as e:  # grpc/containerd extras missing: plain directories still work
        log.info("containerd sources unavailable (%s); opening %s as a plain store", e, target)
        opener = None
    if opener is not None:
        try:
            return _usable(opener(target), target)
        except errors.NotFound:
            raise
        except Exception as e:  # noqa: BLE001 - fall back below when the files can still be shown
            content = _containerd_content_dir(path)
            if content is None:
                raise
            log.warning("showing %s from its files only (read-only, labels unknown): %s", content, e)
            return LocalStore(content, writable=False)
    content = _containerd_content_dir(path)
    if content is not None:
        path = content
    return _usable(LocalStore(path), target)


def _usable(store, target: str):
    root = getattr(store, "root", None)
    if root is not None and not Path(root).is_dir():  # opened read-only, but there is nothing to show
        reason = getattr(store, "read_only_reason", None) or "it is not a directory"
        raise errors.NotFound(f"{target} cannot be used as a content store: {reason}")
    return store


def namespaces_of(store) -> list[str]:
    """The containerd namespaces next to this store's ([] for a plain store)."""
    owner = getattr(store, "containerd_root", None)
    if owner is not None:
        return list(owner.list_namespaces())
    if hasattr(store, "with_namespace") and hasattr(store, "list_namespaces"):
        return list(store.list_namespaces())
    return []


def namespace_owner(store):
    """What answers ``namespaces_with(digest)`` for this store (a daemon or an offline root), or None."""
    owner = getattr(store, "containerd_root", None)
    if owner is not None and hasattr(owner, "namespaces_with"):
        return owner
    return store if hasattr(store, "namespaces_with") else None


def switch_namespace(store, namespace: str):
    owner = getattr(store, "containerd_root", None)
    if owner is not None:
        return owner.store(namespace)
    return store.with_namespace(namespace)


def describe(store) -> str:
    fn = getattr(store, "describe", None)
    if callable(fn):
        try:
            return str(fn())
        except Exception:  # noqa: BLE001 - a label must never fail
            pass
    return str(getattr(store, "root", "") or store)


def open_spec(source, ssh=None):
    """Open a saved :class:`gui.sources.saved.Source` (worker thread): its namespace and TLS settings apply.

    An ``ssh://`` node is opened on the window's one ssh thread (gui/fleet/ssh_thread.py) with
    ``ssh`` (``store.fleet.SshOptions``, the ssh_config of the Sources dialog).
    """
    if source.is_ssh:
        from store.fleet import SshContainerdStore

        from ..fleet import ssh_thread
        return ssh_thread.call(lambda: SshContainerdStore(source.target, source.namespace or "default", ssh=ssh))
    if source.is_daemon or source.uses_tls:
        from store.containerd import ContainerdStore
        return ContainerdStore(source.target, source.namespace or "default", tls=source.tls())
    store = open_any(source.target)
    ns = source.namespace or "default"
    if ns != "default" and getattr(store, "containerd_root", None) is not None \
            and getattr(store, "namespace", None) != ns:
        try:
            return switch_namespace(store, ns)
        except errors.NotFound:
            log.info("namespace %s no longer exists in %s; showing %s", ns, source.target, store.namespace)
    return store


def live_daemon_address(target: str) -> str | None:
    """The socket of a containerd running on the root ``target`` names (worker thread), else None.

    A running daemon holds its ``meta.db`` lock: reading its files then is reading behind its back.
    """
    try:
        live = containerd_root.live_daemon(target)  # None at once for a directory that is no containerd root
    except Exception as e:  # noqa: BLE001 - no answer means: open the files as before
        log.info("could not tell whether a daemon runs on %s: %s", target, e)
        return None
    if live is None:
        return None
    pid, address = live
    if address and Path(address.removeprefix("unix://")).exists():
        return address
    log.info("containerd (process %s) runs on %s but its socket %s was not found", pid, target, address)
    return None


CONNECTION_HINT = "cannot reach containerd"


def is_connection_error(error) -> bool:
    """True for a daemon that is gone (stopped, restarting, unreachable), not a refused request.

    ``error`` is the exception, or only its text (what a failed scan reports).
    """
    if isinstance(error, errors.Unavailable) and error.cause is not None:
        from store.containerd import is_unreachable  # the cause is a gRPC error: grpc is loaded already
        return is_unreachable(error)  # False for the daemon's own "unavailable" (a held ref lock)
    return CONNECTION_HINT in str(error)  # a local lock's Unavailable has no cause and no such words


def ping(store) -> None:
    """Raise unless ``store`` answers (daemon stores); directories always answer."""
    fn = getattr(store, "ping", None)
    if callable(fn):
        fn()
