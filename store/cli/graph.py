"""``blobctl`` subcommands about what blobs are and how they hang together: ``tree``, ``refs``, and
the referenced/reclaimable/shared/unique figures that ``du`` prints.

``store.cli.app`` imports this module (one of its extensions) before building its parser; the
:func:`store.cli.command` decorators add the subcommands and :data:`store.cli.DU_FIGURES` gets
:func:`du_extra`.  The figures
come from :mod:`store.graph`; media types from :mod:`store.oci` through the store's media-type cache.
"""

from __future__ import annotations

import logging
import multiprocessing
from typing import Callable

from .. import errors, humanfmt, oci
from .. import graph as graph_mod
from ..digest import Digest
from ..disk import image_records
from .common import DU_FIGURES, command

log = logging.getLogger(__name__)


def human_size(n: int) -> str:
    """A size as the rest of blobctl prints it; '?' when unknown (a missing blob no descriptor sized)."""
    return "?" if n < 0 else humanfmt.size(n)


def open_graph(store, *, cancel: Callable[[], bool] | None = None) -> graph_mod.Graph:
    """The graph of ``store``, recognising blobs through the store's persistent media-type cache.

    A command line may fork: blobs not yet in the cache are recognised by one process per core.
    The walk lists the whole store, so the cache then forgets the blobs deleted since.
    """
    cache = oci.MediaTypeCache.for_store(store)
    processes = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
    try:
        return graph_mod.load_graph(store, cache, extra_roots=image_records.recorded_names(store), cancel=cancel,
                                    processes=processes, prune=True)
    finally:
        cache.close()


def resolve(g: graph_mod.Graph, text: str) -> Digest:
    """A full digest from ``text``: a digest, or an unambiguous hex prefix (at least 4 characters)."""
    try:
        return Digest(text)
    except errors.InvalidArgument:
        pass
    prefix = text.split(":", 1)[1] if text.startswith("sha256:") else text
    if len(prefix) < 4 or any(c not in "0123456789abcdef" for c in prefix):
        raise errors.InvalidArgument(f"{text!r} is neither a digest nor a hex prefix of one "
                                     "(give at least 4 hex characters)")
    known = set(g.sizes) | {e.child for e in g.missing()}
    matches = sorted(d for d in known if d.encoded.startswith(prefix))
    if not matches:
        raise errors.NotFound(f"no blob in this store has a digest starting with {prefix!r}")
    if len(matches) > 1:
        raise errors.InvalidArgument(f"{prefix!r} matches {len(matches)} blobs "
                                     f"({', '.join(m.short() for m in matches[:4])}...); give more characters")
    return matches[0]


# --- tree ---------------------------------------------------------------------------------------

def _node_line(node: graph_mod.TreeNode) -> str:
    parts = []
    if node.name:
        parts.append(node.name)
    if node.platform is not None and node.kind != "config":
        parts.append(str(node.platform))
    parts.append(str(node.digest))
    parts.append(node.kind or "unknown")
    if node.media_type:
        parts.append(node.media_type)
    parts.append(human_size(node.size))
    if not node.present:
        parts.append("MISSING")
    if node.cycle:
        parts.append("(cycle: already shown above)")
    return "  ".join(parts)


def _tops(g: graph_mod.Graph, digest: Digest | None) -> list[Digest]:
    """What ``tree`` shows: the one digest, or every image."""
    return [digest] if digest is not None else [r.digest for r in g.image_roots()]


def tree_lines(g: graph_mod.Graph, digest: Digest | None = None) -> list[str]:
    """The image graph as indented text: every image, or the graph below one digest."""
    lines: list[str] = []
    for top in _tops(g, digest):
        t = g.tree(top)
        head = _node_line(t)
        names = g.image_names(top)
        lines.append(f"{head}  [{', '.join(names)}]" if names else head)
        _branch(t.children, "", lines)
    return lines


def _branch(children, prefix: str, lines: list[str]) -> None:
    for i, c in enumerate(children):
        last = i == len(children) - 1
        lines.append(prefix + ("└── " if last else "├── ") + _node_line(c))
        _branch(c.children, prefix + ("    " if last else "│   "), lines)


def _tree_arguments(p) -> None:
    p.add_argument("digest", nargs="?", help="digest or unambiguous hex prefix; every image when omitted")
    p.add_argument("--json", action="store_true", help="print JSON instead of text")


@command("tree", help="print the image graph: index, manifests by platform, config and layers, with sizes",
         arguments=_tree_arguments)
def cmd_tree(args, ctx) -> int:
    g = open_graph(ctx.store)
    digest = resolve(g, args.digest) if args.digest else None
    if digest is not None and digest not in g.sizes and not g.parents(digest):
        raise errors.NotFound(f"blob {digest} is not in the store and nothing references it")
    if args.json:
        doc = []
        for d in _tops(g, digest):
            t = g.tree(d).to_json()
            t["image"] = g.image_name(d)
            t["names"] = list(g.image_names(d))
            doc.append(t)
        ctx.json(doc if digest is None else doc[0])
        return 0
    lines = tree_lines(g, digest)
    if not lines:
        ctx.note("no images: the store holds no index or manifest that nothing else references")
    for line in lines:
        ctx.print(line)
    return 0


# --- refs ---------------------------------------------------------------------------------------

def refs_lines(r: graph_mod.BlobRefs) -> list[str]:
    lines = [f"{r.digest}  {r.kind or 'unknown'}  {r.media_type or '-'}  {human_size(r.size)}"
             + ("" if r.present else "  MISSING (not in the store)")]
    if r.note:
        lines.append(f"note: {r.note}")
    state = "reachable" if r.reachable else ("reclaimable (no root reaches it)" if r.present else "absent")
    lines.append(f"state: {state}")
    lines.append("roots:" if r.roots else "roots: none")
    lines += [f"  {x.digest}  {x.reason}" for x in r.roots]
    for title, items in (("children", r.children), ("parents", r.parents)):
        lines.append(f"{title}:" if items else f"{title}: none")
        for n in items:
            name = n.name or "(unnamed)"
            lines.append(f"  {name if title == 'children' else name + ' of'}  {n.digest}  {n.kind or 'unknown'}  {human_size(n.size)}"
                         f"  via {'+'.join(n.sources)}" + ("" if n.present else "  MISSING"))
    if r.uncompressed:
        lines.append(f"uncompressed: {r.uncompressed}")
    for s in r.snapshots:
        lines.append(f"snapshot: {s.snapshotter} {s.key}")
    for host, repos in r.sources.items():
        lines.append(f"source: {host} {','.join(repos)}")
    return lines


def _refs_arguments(p) -> None:
    p.add_argument("digest", help="digest or unambiguous hex prefix")
    p.add_argument("--json", action="store_true", help="print JSON instead of text")


@command("refs", help="print a blob's parents and children with edge names, and the roots that keep it",
         arguments=_refs_arguments)
def cmd_refs(args, ctx) -> int:
    g = open_graph(ctx.store)
    d = resolve(g, args.digest)
    if d not in g.sizes and not g.parents(d) and not g.children(d):
        raise errors.NotFound(f"blob {d} is not in the store and nothing references it")
    r = g.refs(d)
    if args.json:
        ctx.json(r.to_json())
        return 0
    for line in refs_lines(r):
        ctx.print(line)
    return 0


# --- du -----------------------------------------------------------------------------------------

class ImageRows(list):
    """Per-image du rows: a list (so ``--json`` prints it as one) whose text is a table.

    ``blobctl du`` prints each extra figure as ``key: str(value)``; this keeps the
    per-image table readable there without a second hook in ``store/cli/usage.py``.
    """

    def __str__(self) -> str:
        if not self:
            return "none"
        lines = [f"{'IMAGE':<14} {'TOTAL':>10} {'SHARED':>10} {'UNIQUE':>10} {'BLOBS':>6}  NAME / PLATFORMS"]
        for i in self:
            extra = ", ".join(i["names"]) or ", ".join(i["platforms"])
            if i["missing"]:
                extra += f" ({i['missing']} missing)"
            lines.append(f"{Digest(i['digest']).short(12):<14} {human_size(i['total']):>10} "
                         f"{human_size(i['shared']):>10} {human_size(i['unique']):>10} {i['blobs']:>6}  {extra}")
        return "\n" + "\n".join(lines)


def du_extra(store) -> dict:
    """``blobctl du``'s graph figures: referenced / reclaimable totals and the per-image rows."""
    g = open_graph(store)
    sp = g.space()
    return {
        "referenced_count": sp.reachable_count, "referenced_bytes": sp.reachable_bytes,
        "reclaimable_count": sp.reclaimable_count, "reclaimable_bytes": sp.reclaimable_bytes,
        "image_count": sp.image_count, "image_shared_bytes": sp.image_shared_bytes,
        "images": ImageRows(i.to_json() for i in sorted(g.images(), key=lambda i: (-i.total, i.digest))),
    }


DU_FIGURES.append(du_extra)
