"""Acting on the GC prediction: ``gc``/``why``/``leases`` through a running daemon (``-a``), a
synchronous GC pass asked of it, ``leases rm``, and the hint under each "why" chain.

Nothing here deletes a file: a pass is the daemon's own (a throwaway lease deleted with
``sync``, as ``ctr leases delete --sync`` does), and a lease is deleted through its API.
The records are read through the daemon's services (:mod:`store.disk.live_gc`) and the same
dry run (:func:`store.disk.gc.dry_run`) predicts the pass.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Callable, Mapping

from .. import humanfmt
from ..containerd_root import CONTENT_DIR
from ..disk import gc as gcmod
from ..disk.metadata import LABEL_GC_ROOT, Metadata
from .common import CliError, Context

#: What every live listing says first: the daemon keeps working while it is read.
LIVE_NOTE = ("live: read through the daemon service by service while it runs; a pull, a delete or a GC "
             "pass meanwhile can make this picture inconsistent")

Loader = Callable[[Context], tuple[Path, Metadata]]
Sizer = Callable[[Path, Metadata], Mapping[tuple[str, str], int]]


def _namespaces(ctx: Context) -> list[str] | None:
    return [ctx.args.namespace] if getattr(ctx.args, "namespace", None) else None


def _live(ctx: Context, namespaces: list[str] | None):
    from ..disk.live_gc import live_metadata
    if ctx.ssh:
        raise CliError("gc, why and leases through an ssh:// node are not available; give the node's socket "
                       "(unix:// or tcp://)")
    return live_metadata(ctx.address or "", namespaces, tls=ctx.tls())


def records(ctx: Context, load: Loader, sizer: Sizer) -> tuple[Metadata, Mapping[tuple[str, str], int]]:
    """The records and snapshot sizes the dry run needs: from the daemon (``-a``) or the root's files."""
    if not ctx.address:
        root, meta = load(ctx)
        return meta, sizer(root, meta)
    live = _live(ctx, _namespaces(ctx))
    if not getattr(ctx.args, "json", False):
        ctx.print(f"containerd at {humanfmt.printable(ctx.address or '')} ({LIVE_NOTE})")
    else:
        ctx.note(LIVE_NOTE)
    for p in live.problems[:20]:
        ctx.note(f"warning: {humanfmt.printable(p)}")
    return live.metadata, live.snapshot_bytes


def why_path(args, ctx: Context, load: Loader) -> int:
    """``why PATH``: the owner lookup of a file under a stopped root (``blobctl owner``)."""
    if ctx.address:
        raise CliError("why PATH reads a containerd root's files (--root DIR); through a daemon give a digest, "
                       "<snapshotter>/<key>, a lease id or an ingest ref")
    from ..disk.owners import Ownership
    from .snapshots import print_owner
    root, meta = load(ctx)
    found = Ownership(root, meta=meta).locate(args.what)
    if args.json:
        ctx.json(found.to_json())
    else:
        print_owner(ctx, found)
    return 0


# -- what releases a root ---------------------------------------------------------------------

def _daemon_flag(ctx: Context, ns: str) -> str:
    addr = ctx.address or "SOCKET"
    return f"blobctl -a {humanfmt.printable(addr)} -n {humanfmt.printable(ns)}"


def release_hint(ctx: Context, root: tuple[int, str, str]) -> str:
    """The action that removes ``root`` (a node of :class:`store.disk.gc.Marks`), and who can do it."""
    t, ns, key = root
    k = humanfmt.printable(key)
    if t == gcmod.LEASE:
        return f"to release: remove lease {k}: {_daemon_flag(ctx, ns)} leases rm {k}"
    if t == gcmod.IMAGE:
        return f"to release: remove image {k} (not Blobscope's): ctr -n {humanfmt.printable(ns)} images rm {k}"
    if t == gcmod.CONTAINER:
        return (f"to release: remove container {k} (not Blobscope's): "
                f"ctr -n {humanfmt.printable(ns)} containers rm {k}")
    if t == gcmod.INGEST:
        return f"to release: abort ingest {k}: {_daemon_flag(ctx, ns)} abort {k}"
    if t & ~gcmod.FLAT == gcmod.CONTENT:
        return (f"to release: remove label {LABEL_GC_ROOT}: "
                f"{_daemon_flag(ctx, ns)} label {k} {LABEL_GC_ROOT}=")
    if t & ~gcmod.FLAT == gcmod.SNAPSHOT:
        sn, _, skey = key.partition("/")
        return (f"to release: remove label {LABEL_GC_ROOT} (not Blobscope's): ctr -n {humanfmt.printable(ns)} "
                f"snapshots --snapshotter {humanfmt.printable(sn)} label {humanfmt.printable(skey)} "
                f"{LABEL_GC_ROOT}=")
    return ""


def release_hints(run: gcmod.DryRun, verdict: gcmod.Verdict, ctx: Context) -> dict[str, str]:
    """First step of each chain keeping ``verdict`` -> the action that releases that root."""
    if run.marks is None or verdict.collect:
        return {}
    t = {"blob": gcmod.CONTENT, "snapshot": gcmod.SNAPSHOT, "lease": gcmod.LEASE, "ingest": gcmod.INGEST}[verdict.kind]
    return {chain[0]: release_hint(ctx, root)
            for root, chain in run.marks.roots_keeping(t, verdict.namespace, verdict.id)}


def print_hint(ctx: Context, hints: Mapping[str, str], first_step: str, indent: str) -> None:
    hint = hints.get(first_step)
    if hint:
        ctx.print(f"{indent}{hint}")


# -- leases rm ----------------------------------------------------------------------------------

def lease_rm_arguments(p) -> None:
    p.add_argument("ids", nargs="*", metavar="ID", help="with rm: the leases to delete")
    p.add_argument("--sync", action="store_true",
                   help="with rm: wait for the garbage collection pass the delete triggers")


def lease_rm(args, ctx: Context) -> int:
    if not ctx.address:
        raise CliError("leases rm goes through a running daemon (-a SOCKET); a stopped root's meta.db is "
                       "never written")
    if not args.ids:
        raise CliError("leases rm needs the id of a lease (blobctl leases ls lists them)")
    live = _live(ctx, [ctx.namespace])
    uses = {u.lease.id: u for u in gcmod.lease_usage(live.metadata, snapshot_bytes=live.snapshot_bytes)}
    missing = [lid for lid in args.ids if lid not in uses]
    if missing:
        raise CliError(f"nothing was changed: namespace {humanfmt.printable(ctx.namespace)} has no lease "
                       f"{', '.join(humanfmt.printable(m) for m in missing)}")
    store = ctx.daemon()
    try:
        for lid in args.ids:
            u = uses[lid]
            store.delete_lease(lid, sync=args.sync)
            when = "freed by the pass that just ran" if args.sync else "freed by the next GC pass"
            ctx.print(f"lease {humanfmt.printable(lid)} deleted; what only it kept: {u.only_records} records, "
                      f"{humanfmt.size(u.only_bytes)} ({u.only_bytes} bytes), {when}")
    finally:
        store.close()
    return 0


# -- gc on a live daemon ------------------------------------------------------------------------

def _du(root: Path | None) -> int | None:
    if root is None:
        return None
    from ..disk.du import usage_of_many
    dirs = [root / CONTENT_DIR]
    dirs += sorted(p for p in root.glob("io.containerd.snapshotter.v1.*") if p.is_dir() and not p.is_symlink())
    dirs = [d for d in dirs if d.is_dir()]
    try:
        got = usage_of_many(dirs)
    except OSError:
        return None
    return sum(u.bytes for u in got.values())


def gc_arguments(p) -> None:
    p.add_argument("--yes", action="store_true",
                   help="without --dry-run, through a daemon: ask for the pass without a question (for scripts)")
    p.add_argument("--measure", metavar="ROOT",
                   help="without --dry-run: the daemon's root directory, to measure the freed disk with du "
                        "before and after the pass (only read; default: the root the daemon names, if readable)")


def _measure_root(ctx: Context) -> Path | None:
    """``--measure ROOT``, else the root the daemon's introspection names when it is readable here."""
    given = getattr(ctx.args, "measure", None)
    if given:
        root = Path(given).expanduser()
        if not (root / CONTENT_DIR).is_dir():
            raise CliError(f"--measure {given}: not a containerd root (there is no {CONTENT_DIR} in it)")
        return root
    from .. import errors
    from ..containerd.introspection import daemon_root
    try:
        found = daemon_root(ctx.address or "", tls=ctx.tls())
    except errors.ContentError:  # an old daemon, or introspection not allowed: measure by records only
        return None
    if found is None or not os.access(found / CONTENT_DIR, os.R_OK | os.X_OK):
        return None  # another machine's path (tcp://), or not ours to read
    return found


def confirm(ctx: Context, question: str, *, yes: bool) -> None:
    """Go on only with ``--yes`` or a "y" typed on a terminal; else CliError, nothing changed."""
    if yes:
        return
    if not sys.stdin.isatty():
        raise CliError("nothing was changed: there is no terminal to confirm on; give --yes to go ahead in a script")
    ctx.err.write(f"{question} [y/N] ")
    ctx.err.flush()
    answer = sys.stdin.readline().strip().lower()
    if answer not in ("y", "yes"):
        raise CliError("nothing was changed (not confirmed)")


def collect(args, ctx: Context) -> int:
    """``gc`` without --dry-run through a daemon: predict, confirm, ask for a pass, measure
    (store/disk/gc_pass.py, as the Disk tab's Run Garbage Collection does)."""
    from ..disk import gc_pass
    if _namespaces(ctx):
        raise CliError("a GC pass spans every namespace: drop -n (the prediction and the pass cover them all)")
    if ctx.ssh:
        raise CliError("gc through an ssh:// node is not available; give the node's socket (unix:// or tcp://)")
    as_json = bool(getattr(args, "json", False))
    say = ctx.note if as_json else ctx.print  # with --json, stdout carries only the JSON object
    root = _measure_root(ctx)
    prediction = gc_pass.predict(ctx.address or "", tls=ctx.tls())
    run = prediction.run
    totals = run.totals()
    for p in prediction.live.problems[:20]:
        ctx.note(f"warning: {humanfmt.printable(p)}")
    say(f"containerd at {humanfmt.printable(ctx.address or '')} ({LIVE_NOTE})")
    say("the next GC pass would delete:")
    for kind in gcmod.KINDS:
        t = totals[kind]
        say(f"  {kind}s: {t['collect_count']} of {t['count']} records, {humanfmt.size(t['collect_bytes'])}")
    say(f"predicted to be freed on disk: {humanfmt.size(run.reclaimable_bytes)} ({run.reclaimable_bytes} bytes"
        "; at least: files without a record may go too)")
    confirm(ctx, f"Ask containerd for a GC pass now, freeing about {humanfmt.size(run.reclaimable_bytes)}?",
            yes=bool(getattr(args, "yes", False)))
    du_before = _du(root)
    du_after: list[int | None] = []
    result = gc_pass.run_pass(ctx.address or "", prediction, tls=ctx.tls(),
                              after_pass=lambda: du_after.append(_du(root)))
    unexpected, kept = result.deleted_unpredicted, result.predicted_not_deleted
    du_freed = du_before - du_after[0] if du_before is not None and du_after and du_after[0] is not None else None
    if as_json:
        ctx.json({
            "address": ctx.address,
            "predicted": {k: {"records": totals[k]["collect_count"], "bytes": totals[k]["collect_bytes"]}
                          for k in gcmod.KINDS},
            "predicted_bytes": run.reclaimable_bytes,
            "measured": {k: {"records": result.measured[k][0], "bytes": result.measured[k][1]} for k in gcmod.KINDS},
            "measured_bytes": result.measured_bytes,
            "du_root": str(root) if root is not None else None,
            "du_freed_bytes": du_freed,
            "deleted_unpredicted": [{"kind": k, "namespace": n, "id": i} for k, n, i in unexpected],
            "predicted_not_deleted": [{"kind": k, "namespace": n, "id": i} for k, n, i in kept],
        })
        return 0
    rows = [["", "PREDICTED", "MEASURED"]]
    for kind in gcmod.KINDS:
        rows.append([f"{kind}s deleted", str(totals[kind]["collect_count"]), str(result.measured[kind][0])])
    rows.append(["bytes of deleted records", str(run.reclaimable_bytes), str(result.measured_bytes)])
    if du_freed is not None:
        rows.append([f"disk freed (du of {humanfmt.printable(str(root))})", str(run.reclaimable_bytes),
                     str(du_freed)])
    ctx.out.write(humanfmt.table(rows))
    if root is None:
        ctx.print("(the daemon's root is not readable here: give --measure ROOT to measure the freed disk with du)")
    if unexpected or kept:
        ctx.print(f"differences from the prediction (the live picture moved, or a record changed meanwhile): "
                  f"{len(unexpected)} deleted unpredicted, {len(kept)} predicted but still there")
        for kind, ns, rid in (unexpected + kept)[:20]:
            ctx.print(f"  {kind} {humanfmt.printable(ns)}/{humanfmt.printable(rid)}")
    return 0


__all__ = ["LIVE_NOTE", "collect", "confirm", "gc_arguments", "lease_rm", "lease_rm_arguments", "print_hint", "records",
           "release_hint", "release_hints", "why_path"]
