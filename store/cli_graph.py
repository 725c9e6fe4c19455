"""``blobctl`` subcommands about what blobs are and how they hang together: ``tree``, ``refs``, and
the shared/unique/reclaimable figures that ``du`` prints.

``store.cli`` calls :func:`register` to add the subcommands; each handler takes the parsed
arguments and an opened store, and writes to ``out``.  The figures come from
:mod:`store.graph`; media types from :mod:`store.oci` through the store's media-type cache.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from typing import Callable, TextIO

from . import errors, graph as graph_mod, oci
from .digest import Digest

log = logging.getLogger(__name__)


def human_size(n: int) -> str:
    """Bytes as ``ctr`` prints them (binary units, one decimal); '?' when unknown."""
    if n < 0:
        return "?"
    value = float(n)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if value < 1024 or unit == "TiB":
            return f"{int(value)} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{n} B"


def open_graph(store, *, cancel: Callable[[], bool] | None = None) -> graph_mod.Graph:
    """The graph of ``store``, recognising blobs through the store's persistent media-type cache."""
    cache = oci.MediaTypeCache.for_store(store)
    try:
        return graph_mod.load_graph(store, cache, cancel=cancel)
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


def tree_lines(g: graph_mod.Graph, digest: Digest | None = None) -> list[str]:
    """The image graph as indented text: every image, or the graph below one digest."""
    if digest is not None:
        tops = [digest]
    else:
        tops = [r.digest for r in g.image_roots()]
    lines: list[str] = []
    for top in tops:
        t = g.tree(top)
        head = _node_line(t)
        name = g.image_name(top)
        lines.append(f"{head}  [{name}]" if name else head)
        _branch(t.children, "", lines)
    return lines


def _branch(children, prefix: str, lines: list[str]) -> None:
    for i, c in enumerate(children):
        last = i == len(children) - 1
        lines.append(prefix + ("└── " if last else "├── ") + _node_line(c))
        _branch(c.children, prefix + ("    " if last else "│   "), lines)


def cmd_tree(args, store, out: TextIO = sys.stdout) -> int:
    g = open_graph(store)
    digest = resolve(g, args.digest) if getattr(args, "digest", None) else None
    if digest is not None and digest not in g.sizes and not g.parents(digest):
        raise errors.NotFound(f"blob {digest} is not in the store and nothing references it")
    if getattr(args, "json", False):
        tops = [digest] if digest is not None else [r.digest for r in g.image_roots()]
        doc = []
        for d in tops:
            t = g.tree(d).to_json()
            t["image"] = g.image_name(d)
            doc.append(t)
        json.dump(doc if digest is None else doc[0], out, indent=2)
        out.write("\n")
        return 0
    lines = tree_lines(g, digest)
    if not lines:
        out.write("no images: the store holds no index or manifest that nothing else references\n")
    for line in lines:
        out.write(line + "\n")
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


def cmd_refs(args, store, out: TextIO = sys.stdout) -> int:
    g = open_graph(store)
    d = resolve(g, args.digest)
    if d not in g.sizes and not g.parents(d) and not g.children(d):
        raise errors.NotFound(f"blob {d} is not in the store and nothing references it")
    r = g.refs(d)
    if getattr(args, "json", False):
        json.dump(r.to_json(), out, indent=2)
        out.write("\n")
        return 0
    for line in refs_lines(r):
        out.write(line + "\n")
    return 0


# --- du -----------------------------------------------------------------------------------------

def du_figures(g: graph_mod.Graph) -> dict:
    """Store-wide and per-image figures for ``blobctl du`` (plain data, JSON-ready)."""
    return {"total": g.space().to_json(),
            "images": [i.to_json() for i in sorted(g.images(), key=lambda i: (-i.total, i.digest))]}


def du_lines(figures: dict) -> list[str]:
    t = figures["total"]
    lines = [
        f"blobs        {t['blob_count']:>8}  {human_size(t['blob_bytes'])}",
        f"ingests      {t['ingest_count']:>8}  {human_size(t['ingest_bytes'])}",
        f"referenced   {t['reachable_count']:>8}  {human_size(t['reachable_bytes'])}",
        f"reclaimable  {t['reclaimable_count']:>8}  {human_size(t['reclaimable_bytes'])}",
        f"images       {t['image_count']:>8}  shared between images {human_size(t['image_shared_bytes'])}",
    ]
    if figures["images"]:
        lines.append("")
        lines.append(f"{'IMAGE':<20} {'TOTAL':>10} {'SHARED':>10} {'UNIQUE':>10} {'BLOBS':>6}  NAME / PLATFORMS")
        for i in figures["images"]:
            d = Digest(i["digest"])
            extra = i["name"] or ", ".join(i["platforms"])
            if i["missing"]:
                extra += f" ({i['missing']} missing)"
            lines.append(f"{d.short(12):<20} {human_size(i['total']):>10} {human_size(i['shared']):>10} "
                         f"{human_size(i['unique']):>10} {i['blobs']:>6}  {extra}")
    return lines


def cmd_du(args, store, out: TextIO = sys.stdout) -> int:
    """The graph part of ``blobctl du``; ``store.cli`` may print its own totals around it."""
    figures = du_figures(open_graph(store))
    if getattr(args, "json", False):
        json.dump(figures, out, indent=2)
        out.write("\n")
        return 0
    for line in du_lines(figures):
        out.write(line + "\n")
    return 0


def register(subparsers, *, handler_attr: str = "handler") -> None:
    """Add ``tree`` and ``refs`` to ``blobctl``'s subparsers; each sets ``args.<handler_attr>(args, store, out)``."""
    p = subparsers.add_parser("tree", help="print the image graph (index, manifests by platform, config, layers)",
                              description="Print every image of the store as a tree, or the graph below DIGEST.")
    p.add_argument("digest", nargs="?", help="digest or unambiguous hex prefix; all images when omitted")
    p.add_argument("--json", action="store_true", help="print JSON instead of text")
    p.set_defaults(**{handler_attr: cmd_tree})
    p = subparsers.add_parser("refs", help="print a blob's parents, children and the roots that keep it",
                              description="Print what references DIGEST and what it references, with edge names.")
    p.add_argument("digest", help="digest or unambiguous hex prefix")
    p.add_argument("--json", action="store_true", help="print JSON instead of text")
    p.set_defaults(**{handler_attr: cmd_refs})


def main(argv=None, out: TextIO = sys.stdout) -> int:
    """Stand-alone entry (``python -m store.cli_graph --root DIR tree``), for tests and for use before cli.py."""
    from .local import LocalStore

    parser = argparse.ArgumentParser(prog="blobctl")
    parser.add_argument("--root", required=True, help="content store root")
    sub = parser.add_subparsers(dest="command", required=True)
    register(sub)
    p = sub.add_parser("du", help="space used, shared, unique and reclaimable")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_du)
    args = parser.parse_args(argv)
    try:
        return args.handler(args, LocalStore(args.root, writable=False), out)
    except errors.ContentError as e:
        print(f"blobctl: {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
