"""``blobctl`` subcommands about containerd namespaces: ``namespaces`` and ``where``, through a
daemon (``--address``) or from a containerd root's ``meta.db`` (``--root``, offline)."""

from __future__ import annotations

from typing import Callable, Protocol

from ..containerd_root import kind_of
from ..digest import Digest
from .common import CliError, Context, close_store, command, parse_digest


def _namespaces_arguments(p):
    p.add_argument("--json", action="store_true", help="print a JSON list of names")


def _namespace_source(ctx: Context) -> "NamespaceSource":
    """What lists namespaces: the daemon at --address, or the containerd root at --root (offline)."""
    if ctx.address:
        return ctx.daemon()
    root = ctx.root
    if not root.is_dir():
        raise CliError(f"there is no directory {root}; give --address SOCKET or --root CONTAINERD_ROOT")
    if kind_of(root) is None:
        raise CliError(f"{root} is a plain content store, which has no namespaces; give --address SOCKET "
                       "(a running containerd) or --root with a containerd root (the directory holding "
                       "io.containerd.metadata.v1.bolt)")
    return ctx.containerd_root()


class NamespaceSource(Protocol):
    """A daemon (ContainerdStore) or a stopped root's meta.db (OfflineContainerdRoot)."""

    def list_namespaces(self) -> list[str]: ...
    def namespaces_with(self, digest: Digest) -> list[str]: ...


def _print_namespaces(args, ctx: Context, ask: Callable[[NamespaceSource], list[str]]) -> list[str]:
    """``ask(source)`` on the namespace source (closed afterwards); its names printed one a line or as JSON."""
    source = _namespace_source(ctx)
    try:
        names = list(ask(source))
    finally:
        close_store(source)
    if args.json:
        ctx.json(names)
    else:
        for name in names:
            ctx.print(name)
    return names


@command("namespaces", help="list containerd namespaces (through --address, or from a root's meta.db)",
         arguments=_namespaces_arguments, aliases=("ns",))
def cmd_namespaces(args, ctx: Context) -> int:
    _print_namespaces(args, ctx, lambda source: source.list_namespaces())
    return 0


def _where_arguments(p):
    p.add_argument("digest", metavar="DIGEST")
    p.add_argument("--json", action="store_true", help="print a JSON list of namespaces")


@command("where", help="list the containerd namespaces that hold a blob", arguments=_where_arguments)
def cmd_where(args, ctx: Context) -> int:
    dgst = parse_digest(args.digest)
    if not _print_namespaces(args, ctx, lambda source: source.namespaces_with(dgst)):
        ctx.note(f"no namespace holds {dgst}")
        return 1
    return 0
