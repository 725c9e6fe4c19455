"""``blobctl --root ROOT snapshots rm-orphan [SNAPSHOTTER/]ID --force``: delete an orphaned
``snapshots/<id>`` directory of a stopped root (the checks are in :mod:`store.disk.actions`)."""

from __future__ import annotations

from .. import humanfmt
from .common import CliError, Context

# -- snapshots rm-orphan ------------------------------------------------------------------------

def orphan_arguments(p) -> None:
    p.add_argument("id", nargs="?", metavar="[SNAPSHOTTER/]ID",
                   help="with rm-orphan: the snapshots/<id> directory (snapshotter default overlayfs)")
    # --force (blobctl's global option) is what makes rm-orphan delete


def orphan_rm(args, ctx: Context) -> int:
    from ..containerd_root import root_of
    from ..disk.actions import find_orphan, remove_orphan
    if ctx.address:
        raise CliError("rm-orphan works on a stopped containerd root (--root DIR), never through a daemon")
    if not args.id:
        raise CliError("rm-orphan needs the id of a snapshots/<id> directory (blobctl snapshots ls shows orphans)")
    sn, _, sid = args.id.rpartition("/")
    root = root_of(ctx.root) if ctx.root.is_dir() else None
    if root is None:
        raise CliError(f"{ctx.root} is not a containerd root")
    found = find_orphan(root, sn or "overlayfs", sid)
    what = f"{humanfmt.printable(str(found.path))} ({humanfmt.size(found.bytes)}, {found.bytes} bytes)"
    if not getattr(args, "force", False):
        raise CliError(f"nothing was changed: deleting the orphan {what} needs --force")
    remove_orphan(found)
    ctx.print(f"deleted the orphan {what}: {found.bytes} bytes freed")
    return 0


__all__ = ["orphan_arguments", "orphan_rm"]
