"""What every ``blobctl`` subcommand module shares: the command table, the :class:`Context`
(options, the opened store, output), the two exceptions the exit status comes from, and small
helpers several subcommands use.

The subcommand modules (:mod:`.content`, :mod:`.ingests`, :mod:`.usage`, :mod:`.namespaces`,
:mod:`.graph`) and :mod:`.app` import this module, never the package ``store.cli``, so the
package can import them all without a cycle.
"""

from __future__ import annotations

import argparse
import functools
import json
import logging
import os
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Callable

from .. import humanfmt, paths
from ..containerd_root import METADATA_DB, kind_of, live_daemon, root_of
from ..digest import Digest

log = logging.getLogger(__name__)

PROG = "blobctl"
ADDRESS_ENV = "CONTAINERD_ADDRESS"
NAMESPACE_ENV = "CONTAINERD_NAMESPACE"


class UsageError(Exception):
    """Wrong command-line use: exit status 2."""


class CliError(Exception):
    """A failure the command line itself detects: exit status 1, the message as it is."""


@dataclass
class Command:
    name: str
    help: str
    run: Callable[[argparse.Namespace, "Context"], int]
    arguments: Callable[[argparse.ArgumentParser], None] | None = None
    aliases: tuple[str, ...] = ()
    creates_store: bool = False  # may create a missing root (ingest, import)


#: Subcommands by name; extensions add to it with :func:`command`.
COMMANDS: dict[str, Command] = {}
#: ``fn(store) -> dict`` of extra figures for ``du`` (e.g. image / unreferenced bytes).
DU_FIGURES: list[Callable[[object], dict]] = []


def command(name: str, *, help: str, arguments=None, aliases=(), creates_store: bool = False):
    """Register ``fn(args, ctx) -> int`` as subcommand ``name``."""
    def register(fn):
        COMMANDS[name] = Command(name, help, fn, arguments, tuple(aliases), creates_store)
        return fn
    return register


class Context:
    """What a subcommand needs: the opened store and the output streams."""

    def __init__(self, args: argparse.Namespace, stdout, stderr):
        self.args = args
        self.out = stdout
        self.err = stderr
        self._store = None

    @property
    def root(self) -> Path:
        return Path(self.args.root).expanduser() if self.args.root else paths.default_store_dir()

    @property
    def address(self) -> str | None:
        """The daemon to talk to: ``--address``, else ``$CONTAINERD_ADDRESS`` unless ``--root`` was given."""
        if self.args.address:
            return self.args.address
        if self.args.root:
            return None
        return os.environ.get(ADDRESS_ENV) or None

    @property
    def namespace(self) -> str:
        return self.args.namespace or os.environ.get(NAMESPACE_ENV) or "default"

    @property
    def namespace_given(self) -> bool:
        return bool(self.args.namespace or os.environ.get(NAMESPACE_ENV))

    @property
    def ssh(self) -> bool:
        """True when the daemon is a node reached through SSH (``-a ssh://...``)."""
        from ..fleet.address import is_ssh_address
        return is_ssh_address(self.address)

    def tls(self):
        a = self.args
        if not (a.tls_ca or a.tls_cert or a.tls_key):
            return None
        if self.ssh:
            raise UsageError("--tls-* options are for tcp:// addresses; an ssh:// node is reached through SSH")
        if not self.address:
            raise UsageError("--tls-ca, --tls-cert and --tls-key go with --address tcp://HOST:PORT")
        if bool(a.tls_cert) != bool(a.tls_key):
            raise UsageError("--tls-cert and --tls-key go together (the client certificate and its key)")
        from ..containerd import TLSConfig
        return TLSConfig(ca=a.tls_ca, cert=a.tls_cert, key=a.tls_key)

    def daemon(self, *, gc_root: bool = True):
        """A ContainerdStore on ``--address`` in ``--namespace`` (the connection is made lazily)."""
        from ..containerd import ContainerdStore
        if not self.address:
            raise UsageError("this needs a daemon: give --address SOCKET")
        if self.ssh:
            from ..fleet import SshContainerdStore, SshOptions
            return SshContainerdStore(self.address, self.namespace, ssh=SshOptions(config=self.args.ssh_config),
                                      gc_root=gc_root)
        return ContainerdStore(self.address, self.namespace, tls=self.tls(), gc_root=gc_root)

    def containerd_root(self):
        """The offline view of a containerd root named by ``--root`` (refused while its daemon runs)."""
        from ..containerd import OfflineContainerdRoot
        root = self.root
        _refuse_live_root(root, force=False)
        return OfflineContainerdRoot(root)

    @property
    def store(self):
        if self._store is None:
            if self.address:
                self._store = self.daemon(gc_root=getattr(self.args, "gc_root", True))
                return self._store
            root = self.root
            creates = COMMANDS[self.args.command].creates_store
            if not creates and not root.is_dir():
                if self.args.root:
                    raise CliError(f"there is no store at {root} (no such directory); check --root, or create "
                                   "a store there with 'blobctl import' or 'blobctl ingest'")
                raise CliError(f"there is no store yet at {root}, the default store; give --root DIR (or set "
                               f"{paths.ROOT_ENV}), or create it with 'blobctl import' or 'blobctl ingest'")
            if root.is_dir():
                _refuse_live_root(root, force=self.args.force)
            kind = kind_of(root)
            if kind is not None and not self.args.force and (kind == "root" or self.namespace_given):
                # A containerd root (or -n on its content dir): the namespace's view, labels from meta.db.
                self._store = self.containerd_root().store(self.namespace)
                return self._store
            if self.namespace_given and self.namespace != "default":
                raise CliError(f"{root} is a plain content store, which has no namespaces "
                               f"(-n {self.namespace} given); -n goes with --address or a containerd root")
            from ..local import LocalStore
            self._store = LocalStore(root, writable=True if self.args.force else None)
        return self._store

    def print(self, text: str = "") -> None:
        self.out.write(text + "\n")

    def note(self, text: str) -> None:
        self.err.write(f"{PROG}: {text}\n")

    def json(self, value) -> None:
        """One JSON document; a list has one element per line (fast for 100k blobs, greppable)."""
        if isinstance(value, list):
            if not value:
                self.out.write("[]\n")
                return
            encode = json.JSONEncoder(ensure_ascii=True).encode  # the C encoder (no indent)
            self.out.write("[\n  " + ",\n  ".join(encode(v) for v in value) + "\n]\n")
            return
        json.dump(value, self.out, indent=2, ensure_ascii=True)
        self.out.write("\n")

    def json_stream(self, values) -> None:
        """A JSON list written element by element as :meth:`json` writes a list, holding one at a time."""
        encode = json.JSONEncoder(ensure_ascii=True).encode
        write = self.out.write
        sep = "[\n  "
        for v in values:
            write(sep + encode(v))
            sep = ",\n  "
        write("[]\n" if sep.startswith("[") else "\n]\n")


# --------------------------------------------------------------------------------------------
# helpers for several subcommands

def list_ingests(store, *filters: str) -> tuple[list, list]:
    """(list_statuses(*filters), broken_ingests()); a local store reads each ingest once for both."""
    scan = getattr(store, "scan_ingests", None)
    if scan is not None:
        return scan(*filters)
    return store.list_statuses(*filters), store.broken_ingests()


def _refuse_live_root(root: Path, *, force: bool) -> None:
    try:
        live = live_daemon(root)
    except ImportError:  # the containerd extras are missing: nothing can tell
        return
    if live is None:
        return
    pid, address = live
    who = f"containerd (process {pid})" if pid else "a running containerd"
    hint = f"blobctl --address {address}" if address else "blobctl --address SOCKET"
    then = " (--force does not help: stop the daemon first)" if force else ""
    raise CliError(f"{root} belongs to {who}, which is running: its files must not be read or changed "
                   f"behind its back; go through the daemon instead: {hint}{then}")


def refuse_live_root(root: Path) -> None:
    """CliError naming the daemon's socket when a running containerd owns ``root``."""
    _refuse_live_root(root, force=False)


def stopped_containerd_root(ctx: "Context", *, address_hint: str) -> Path:
    """The containerd root ``--root`` names (it or a directory below it), checked to be one and
    refused while its daemon runs: its files must not be read behind the daemon's back.
    ``address_hint`` ends the message given when ``-a`` was used instead."""
    if ctx.address:
        raise CliError(f"this reads a containerd root's files (--root DIR); through a daemon (--address) "
                       f"{address_hint}")
    given = ctx.root
    if not given.is_dir():
        raise CliError(f"there is no directory {given}; give --root with a containerd root "
                       "(the directory holding io.containerd.metadata.v1.bolt)")
    root = root_of(given)
    if root is None:
        raise CliError(f"{given} is not a containerd root: there is no {METADATA_DB} in it (give the "
                       "directory that holds io.containerd.metadata.v1.bolt, e.g. /var/lib/containerd)")
    refuse_live_root(root)  # the message names its socket
    return root


def parse_digest(text: str) -> Digest:
    return Digest.parse(text)  # InvalidArgument: "invalid digest '...': <go-digest reason>"


def age_memo():
    """Ages for this one listing, remembered per whole second (100k rows share few distinct ages)."""
    now = datetime.now(timezone.utc)
    text_of = functools.lru_cache(4096)(lambda seconds: humanfmt.age(now - timedelta(seconds=seconds), now))
    return lambda when: text_of(int((now - when).total_seconds()))


def label_pairs(items: list[str], *, allow_bare: bool, what: str) -> list[tuple[str, str]]:
    pairs = []
    for item in items:
        if "=" in item:
            key, value = item.split("=", 1)
        elif allow_bare:
            key, value = item, "true"
        else:
            raise UsageError(f"{what} {item!r} is not KEY=VALUE")
        if not key:
            raise UsageError(f"{what} {item!r} has an empty key")
        pairs.append((key, value))
    return pairs


def close_store(store) -> None:
    close = getattr(store, "close", None)
    if callable(close):
        try:
            close()
        except Exception:  # noqa: BLE001
            log.debug("closing the store failed", exc_info=True)
