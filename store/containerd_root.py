"""A containerd root told by its files, and the daemon running on it: nothing here needs gRPC.

The command line, the GUI's source opener, the offline reader and :class:`store.local.LocalStore`
all ask "is this a containerd root (or the content directory inside one)?" and "does its daemon
run?"; this module answers for all of them, so a directory-only session never imports grpc.
"""

from __future__ import annotations

import os
from pathlib import Path

from . import errors

METADATA_DB = Path("io.containerd.metadata.v1.bolt") / "meta.db"
CONTENT_DIR = "io.containerd.content.v1.content"
DEFAULT_CONFIG = "/etc/containerd/config.toml"
DEFAULT_ADDRESS = "/run/containerd/containerd.sock"


def kind_of(path: os.PathLike | str) -> str | None:
    """"root" for a containerd root, "content" for the content directory inside one, else None."""
    path = Path(path).absolute()
    if (path / METADATA_DB).is_file():
        return "root"
    if path.name == CONTENT_DIR and (path.parent / METADATA_DB).is_file():
        return "content"
    return None


def root_of(path: os.PathLike | str) -> Path | None:
    """The containerd root ``path`` is (or whose content directory it is), or None."""
    kind = kind_of(path)
    if kind is None:
        return None
    path = Path(path).absolute()
    return path if kind == "root" else path.parent


_DAEMON_FLAGS = {"--config": "config", "-c": "config", "--address": "address", "-a": "address"}


def daemon_address(pid: int) -> str | None:
    """The gRPC socket of the containerd running as ``pid``, from its command line and config.

    ``--address/-a`` wins, then ``[grpc] address`` of ``--config/-c`` (default
    /etc/containerd/config.toml), then containerd's default socket.  None if ``pid`` is
    not a containerd or cannot be inspected.
    """
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return None
    argv = [a.decode(errors="replace") for a in raw if a]
    if not argv or not any(Path(a).name == "containerd" for a in argv[:4]):
        return None
    found: dict[str, str | None] = {"config": DEFAULT_CONFIG, "address": None}
    for i, arg in enumerate(argv):
        flag, eq, value = arg.partition("=")
        name = _DAEMON_FLAGS.get(flag)
        if name and (eq or i + 1 < len(argv)):
            found[name] = value if eq else argv[i + 1]
    config, address = found["config"], found["address"]
    if address:
        return address
    try:
        import tomllib
        with open(config or DEFAULT_CONFIG, "rb") as f:
            conf = tomllib.load(f)
        return conf.get("grpc", {}).get("address") or DEFAULT_ADDRESS
    except (OSError, ValueError):
        return DEFAULT_ADDRESS


def live_daemon(path: os.PathLike | str) -> tuple[int | None, str | None] | None:
    """(pid, socket) of a containerd running on the root ``path`` belongs to, or None when it is stopped.

    A running daemon holds the bbolt lock of its ``meta.db``; its socket comes from its command line.
    """
    root = root_of(path)
    if root is None:
        return None
    from . import bolt
    try:
        bolt.check_unlocked(root / METADATA_DB)
    except bolt.DatabaseLocked as exc:
        pid = exc.holder_pid
        return pid, (daemon_address(pid) if pid else None)
    except errors.ContentError:
        return None
    return None
