"""``blobctl snapshots ls``, ``df`` and ``owner PATH`` on a stopped containerd root (``--root``);
``snapshots ls`` and ``df`` through a daemon too (``-a``; :mod:`store.disk.live_df` for ``df``).

Snapshots come from each snapshotter's own ``metadata.db`` (:mod:`store.disk.snapshotter`), sizes
from their directories (:mod:`store.disk.du`), owners from ``meta.db`` and the images' configs
(:mod:`store.disk.owners`), reclaimable bytes from the gc dry run (:mod:`store.disk.gc`).
"""

from __future__ import annotations

from pathlib import Path

from .. import humanfmt
from ..disk import df as dfmod
from ..disk.owners import Layer, Ownership, PathOwner, SnapshotRow
from .common import Context, command, stopped_containerd_root


def open_root(ctx: Context) -> Ownership:
    """The containerd root of ``--root``, read offline; refused while its daemon runs."""
    root = stopped_containerd_root(ctx, address_hint="it is not available yet")
    own = Ownership(root)
    for problem in own.problems:
        ctx.note(f"warning: {humanfmt.printable(problem)}")
    return own


def _short(key: str | None) -> str:
    if not key:
        return "-"
    return key[:19] + "…" if key.startswith("sha256:") and len(key) > 20 else key


def _owners(r: SnapshotRow) -> str:
    parts = [f"image {i}" for i in r.images] + [f"container {c}" for c in r.containers] + \
        [f"lease {x}" for x in r.leases]
    return humanfmt.printable(", ".join(parts)) if parts else "-"


# -- snapshots ls ------------------------------------------------------------------------------

def _snapshots_arguments(p):
    p.add_argument("action", choices=["ls", "rm-orphan"],
                   help="ls: list every snapshot of every snapshotter; rm-orphan [SNAPSHOTTER/]ID --force: delete "
                        "an orphaned snapshots/<id> directory of a stopped root")
    from .orphans import orphan_arguments
    orphan_arguments(p)
    p.add_argument("--json", action="store_true", help="print a JSON list, one object per snapshot")
    p.add_argument("--snapshotter", action="append", metavar="NAME",
                   help="through a daemon: the snapshotters to list (default: overlayfs and native, those it has)")


def _layer_json(layer: Layer | None) -> dict | None:
    if layer is None:
        return None
    return {"index": layer.index, "diff_id": layer.diff_id, "blob": layer.blob, "chain_id": layer.chain_id}


def _live_rows(args, ctx: Context) -> list[dict]:
    """``snapshots ls`` through the daemon's Snapshots service, in ``-n NS``."""
    from ..containerd.records import RecordsClient
    from ..containerd.snapshots import LiveSnapshot, SnapshotsClient
    from ..disk.live import live_owners

    rows: list[dict] = []
    with SnapshotsClient(ctx.address or "", ctx.namespace, tls=ctx.tls()) as client:
        names = args.snapshotter or [n for n in ("overlayfs", "native") if client.has(n)]
        listed = {sn: {s.key: s for s in client.list(sn)} for sn in names}
        store = ctx.daemon(gc_root=False)
        try:
            with RecordsClient(ctx.address or "", ctx.namespace, tls=ctx.tls()) as records:
                owners = live_owners(store, records, {(sn, k): s for sn, snaps in listed.items() for k, s in snaps.items()})
        finally:
            store.close()
        for problem in owners.problems:
            ctx.note(f"warning: {humanfmt.printable(problem)}")
        for sn in names:
            snaps = listed[sn]
            usage = {k: client.usage(sn, k) for k in snaps}
            in_use: set[str] = set()
            for (csn, ckey) in owners.containers:
                up = snaps.get(ckey) if csn == sn else None
                while up is not None and up.key not in in_use:
                    in_use.add(up.key)
                    up = snaps.get(up.parent) if up.parent else None
            for key, s in sorted(snaps.items()):
                chain, flags, seen = 0, [], set()
                at: LiveSnapshot | None = s
                while at is not None and at.key not in seen:
                    seen.add(at.key)
                    chain += usage[at.key][0]
                    if at.parent and at.parent not in snaps:
                        flags.append("parent-missing")
                    at = snaps.get(at.parent) if at.parent else None
                if at is not None:
                    flags.append("parent-loop")
                rows.append({
                    "snapshotter": sn, "key": None, "namespace": ctx.namespace, "name": key, "id": None,
                    "kind": s.kind, "parent": s.parent or None, "directory": None, "labels": s.labels,
                    "backend_labels": None, "created": s.created.isoformat_ns() if s.created else None,
                    "updated": s.updated.isoformat_ns() if s.updated else None, "recorded_size": None,
                    "recorded_inodes": None, "bytes": usage[key][0], "inodes": usage[key][1], "chain_bytes": chain,
                    "images": [f"{ctx.namespace}/{n}" for n in owners.images.get((sn, key), [])],
                    "containers": [f"{ctx.namespace}/{c}" for c in sorted(owners.containers.get((sn, key), []))],
                    "leases": [], "layer": _layer_json(owners.layers.get((sn, key))),
                    "state": "in_use" if key in in_use else "image" if (sn, key) in owners.images else None,
                    "flags": flags,
                })
    return rows


@command("snapshots", help="list a containerd root's snapshots: size, chain size, owners, orphans",
         arguments=_snapshots_arguments)
def cmd_snapshots(args, ctx: Context) -> int:
    if args.action == "rm-orphan":
        from .orphans import orphan_rm
        return orphan_rm(args, ctx)
    if ctx.address:
        live = _live_rows(args, ctx)
        if args.json:
            ctx.json(live)
            return 0
        live_table = [["SNAPSHOTTER", "KIND", "KEY", "PARENT", "SIZE", "INODES", "CHAIN", "OWNERS", "FLAGS"]]
        for d in live:
            who = [f"image {i}" for i in d["images"]] + [f"container {c}" for c in d["containers"]]
            live_table.append([d["snapshotter"], d["kind"], humanfmt.printable(_short(d["name"])),
                               humanfmt.printable(_short(d["parent"])), humanfmt.size(d["bytes"]), str(d["inodes"]),
                               humanfmt.size(d["chain_bytes"]), humanfmt.printable(", ".join(who)) or "-",
                               ",".join(d["flags"]) or "-"])
        ctx.out.write(humanfmt.table(live_table))
        return 0
    own = open_root(ctx)
    rows = own.snapshot_rows()
    if ctx.namespace_given:
        rows = [r for r in rows if r.namespace == ctx.namespace or r.namespace is None]
    if args.json:
        ctx.json([r.to_json() for r in rows])
        return 0
    table = [["SNAPSHOTTER", "ID", "KIND", "KEY", "PARENT", "SIZE", "CHAIN", "STATE", "OWNERS", "FLAGS"]]
    for r in rows:
        rec = r.record
        key = f"{r.namespace}/{r.key}" if r.namespace else (rec.key if rec else "-")
        parent = "-"
        if rec is not None and rec.parent:
            parsed = rec.parent.split("/", 2)
            parent = _short(parsed[-1])
        table.append([r.snapshotter, rec.id if rec else r.directory.name, rec.kind if rec else "orphan",
                      humanfmt.printable(_short(key) if not r.namespace else f"{r.namespace}/{_short(r.key)}"),
                      humanfmt.printable(parent), humanfmt.size(r.bytes), humanfmt.size(r.chain_bytes), r.state,
                      _owners(r), ",".join(r.flags) or "-"])
    ctx.out.write(humanfmt.table(table))
    for view in own.views:
        if not view.understood:
            ctx.print(f"snapshotter {view.name}: not understood, {humanfmt.size(own.usage.of(view.directory).bytes)} "
                      f"in {view.directory}")
    return 0


# -- df ----------------------------------------------------------------------------------------

def _df_arguments(p):
    out = p.add_mutually_exclusive_group()
    out.add_argument("--json", action="store_true", help="print a JSON object")
    out.add_argument("--prometheus", action="store_true",
                     help="print node_exporter textfile-collector metrics (blobscope_disk_bytes{kind,state}, …)")


@command("df", help="where a containerd root's disk goes: content, snapshots, ingests, leases, metadata, "
                    "reclaimable, and per image", arguments=_df_arguments)
def cmd_df(args, ctx: Context) -> int:
    if ctx.address:
        from ..disk import live_df

        rep = live_df.report(ctx.address, ctx.namespace if ctx.namespace_given else None, tls=ctx.tls())
        ctx.note(f"df of the daemon at {humanfmt.printable(ctx.address)} (live): blob bytes are recorded sizes, "
                 "snapshot bytes the daemon's Usage; orphan directories and metadata sizes need --root")
    else:
        rep = dfmod.report(open_root(ctx))
    if args.json:
        ctx.json(rep.to_json())
        return 0
    if args.prometheus:
        ctx.out.write(dfmod.prometheus(rep))
        return 0
    metadata = ("-", "-") if rep.metadata_bytes is None else (humanfmt.size(rep.metadata_bytes), str(rep.metadata_bytes))
    rows = [["", "COUNT", "SIZE", "BYTES"],
            ["content", humanfmt.count(rep.content_count), humanfmt.size(rep.content_bytes), str(rep.content_bytes)],
            ["snapshots", humanfmt.count(rep.snapshot_count), humanfmt.size(rep.snapshot_bytes), str(rep.snapshot_bytes)],
            ["ingests", humanfmt.count(rep.ingest_count), humanfmt.size(rep.ingest_bytes), str(rep.ingest_bytes)],
            ["leases (only they hold)", humanfmt.count(rep.lease_count), humanfmt.size(rep.lease_only_bytes),
             str(rep.lease_only_bytes)],
            ["metadata", "-", *metadata],
            ["reclaimable by GC", "-", humanfmt.size(rep.reclaimable_bytes), str(rep.reclaimable_bytes)]]
    ctx.out.write(humanfmt.table(rows))
    ctx.print()
    states = [["KIND", "STATE", "COUNT", "SIZE"]]
    for (kind, state), (count, nbytes) in sorted(rep.states.items()):
        states.append([kind, state, humanfmt.count(count), humanfmt.size(nbytes)])
    ctx.out.write(humanfmt.table(states))
    for s in rep.snapshotters:
        if not s["understood"]:
            ctx.print(f"snapshotter {s['name']}: not understood, {humanfmt.size(s['bytes'])}")
    if rep.images:
        ctx.print()
        table = [["NAMESPACE", "IMAGE", "BLOBS", "SNAPSHOTS", "TOTAL", "SHARED", "UNIQUE"]]
        for im in sorted(rep.images, key=lambda i: -i.unique_bytes):
            table.append([humanfmt.printable(im.namespace), humanfmt.printable(im.name), str(im.blob_count),
                          str(im.snapshot_count), humanfmt.size(im.total_bytes), humanfmt.size(im.shared_bytes),
                          humanfmt.size(im.unique_bytes)])
        ctx.out.write(humanfmt.table(table))
    for problem in rep.problems[:20]:
        ctx.note(f"warning: {humanfmt.printable(problem)}")
    return 0


# -- owner PATH --------------------------------------------------------------------------------

def _owner_arguments(p):
    p.add_argument("path", help="a file or directory under the root, e.g. "
                                ".../io.containerd.snapshotter.v1.overlayfs/snapshots/42/fs/usr/bin/x")
    p.add_argument("--json", action="store_true", help="print a JSON object")


def print_owner(ctx: Context, found: PathOwner) -> None:
    """The text form of ``owner``; ``why PATH`` may print the same."""
    p = humanfmt.printable
    snap = found.snapshot
    if found.what == "orphan-snapshot-dir" and snap is not None:
        ctx.print(f"{p(str(found.path))}: in {snap.directory}, an orphaned snapshot directory of "
                  f"{snap.snapshotter} (no record names it; {humanfmt.size(snap.bytes)})")
        return
    if found.what == "snapshot" and snap is not None and snap.record is not None:
        rec = snap.record
        ctx.print(f"{p(str(found.path))}:")
        ctx.print(f"  snapshot  {snap.snapshotter} {rec.id} ({rec.kind}), key {p(rec.key)}")
        if snap.layer is not None:
            ctx.print(f"  layer     {snap.layer.index} of its image: blob {snap.layer.blob}, diff ID {snap.layer.diff_id}")
        elif found.blob:
            ctx.print(f"  layer     blob {found.blob} (by its containerd.io/uncompressed label)")
    else:
        ctx.print(f"{p(str(found.path))}: {found.what} {found.blob or ''}".rstrip())
    for what, names in (("image", found.images), ("container", found.containers), ("lease", found.leases),
                        ("ingest", found.ingests)):
        for name in names:
            ctx.print(f"  {what:<9} {p(name)}")
    if not (found.images or found.containers or found.leases or found.ingests):
        ctx.print("  no image, container, lease or ingest record owns it")


@command("owner", help="say which snapshot, layer blob and images a file under a containerd root belongs to",
         arguments=_owner_arguments)
def cmd_owner(args, ctx: Context) -> int:
    own = open_root(ctx)
    found = own.locate(Path(args.path))
    if args.json:
        ctx.json(found.to_json())
    else:
        print_owner(ctx, found)
    return 0
