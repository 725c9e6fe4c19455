"""``blobctl`` subcommands about what keeps a containerd root's disk in use: ``gc --dry-run``,
``why`` and ``leases ls``, from a stopped (or copied) root's ``meta.db`` (``--root``).

They predict containerd 1.6's metadata garbage collector (docs/gc.md): for every blob,
snapshot, lease and ingest of every namespace, whether the next pass deletes it and, if not,
the chain of references from a root that keeps it.
"""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Mapping

from .. import humanfmt
from ..disk import gc as gcmod
from ..disk.metadata import Metadata, load_root, parse_go_rfc3339, paused_gc
from ..timestamps import Timestamp
from . import gcact
from .common import CliError, Context, UsageError, command, stopped_containerd_root


def snapshot_sizes(root: Path, meta: Metadata) -> Mapping[tuple[str, str], int]:
    """Disk usage per (snapshotter, backend snapshot name), from each snapshotter's own metadata.db."""
    from ..disk.owners import snapshot_sizes as sizes
    return sizes(root, meta)


def _load(ctx: Context) -> tuple[Path, Metadata]:
    """The containerd root of ``--root`` and its records (from a private copy of meta.db)."""
    root = stopped_containerd_root(ctx, address_hint="it is not available yet")
    return root, load_root(root)


_DURATION = re.compile(r"(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?\Z")


def _at(args) -> int | None:
    """``--at``: an RFC 3339 time, or a duration from now (``24h``, ``1h30m``, ``2d``), as ns; None: now."""
    text = getattr(args, "at", None)
    if not text:
        return None
    m = _DURATION.match(text)
    if m and any(m.groups()):
        d, h, mi, sec = (int(g or 0) for g in m.groups())
        return time.time_ns() + ((d * 24 + h) * 3600 + mi * 60 + sec) * 1_000_000_000
    try:
        return parse_go_rfc3339(text)
    except ValueError:
        raise UsageError(f"--at {text!r}: give an RFC 3339 time (2026-12-24T00:00:00Z) or a duration from now "
                         "(24h, 1h30m, 2d)") from None


def _at_argument(p) -> None:
    p.add_argument("--at", metavar="TIME",
                   help="judge as of TIME instead of now: RFC 3339, or a duration from now such as 24h (which "
                        "leases and ingests will have expired by then)")


def _namespace_filter(ctx: Context) -> str | None:
    """The namespace ``-n`` names, else None (all).  ``$CONTAINERD_NAMESPACE`` does not narrow these
    commands: containerd's GC spans every namespace, and scripts rely on seeing all of them."""
    return ctx.args.namespace or None


def _note_problems(ctx: Context, problems: list[str]) -> None:
    for p in problems[:20]:
        ctx.note(f"warning: {humanfmt.printable(p)}")
    if len(problems) > 20:
        ctx.note(f"warning: {len(problems) - 20} more damaged fields ('blobctl why ID' shows those of one record)")


# -- gc --------------------------------------------------------------------------------------

def _gc_arguments(p):
    p.add_argument("--dry-run", action="store_true",
                   help="only predict what containerd's next garbage collection pass would delete, and why "
                        "the rest is kept (the only mode on a --root)")
    p.add_argument("--json", action="store_true",
                   help="print a JSON list: one {kind, namespace, id, collect, bytes, why} per blob, snapshot, "
                        "lease and ingest")
    _at_argument(p)
    gcact.gc_arguments(p)


@command("gc", help="predict containerd's garbage collection (--dry-run); through a daemon, ask for a pass",
         arguments=_gc_arguments)
def cmd_gc(args, ctx: Context) -> int:
    with paused_gc(freeze=True):  # a short-lived process: no collector passes over 100k records
        return _gc(args, ctx)


def _gc(args, ctx: Context) -> int:
    if not args.dry_run:
        if ctx.address:
            return gcact.collect(args, ctx)
        raise CliError("blobctl gc on a root only predicts: give --dry-run (there is no daemon to ask for a pass, "
                       "and nothing is deleted behind a daemon's back; give -a SOCKET to ask a running one)")
    now = _at(args)
    meta, sizes = gcact.records(ctx, _load, snapshot_sizes)
    run = gcmod.dry_run(meta, now_ns=now, snapshot_bytes=sizes)
    only = _namespace_filter(ctx)
    verdicts = [v for v in run.verdicts if only is None or v.namespace == only]
    _note_problems(ctx, run.problems)
    if args.json:
        ctx.json([v.as_json() for v in verdicts])
        return 0
    rows = [["KIND", "NAMESPACE", "ID", "SIZE", "NEXT GC", "KEPT BY"]]
    for v in verdicts:
        rows.append([v.kind, humanfmt.printable(v.namespace), humanfmt.printable(v.id), humanfmt.size(v.bytes),
                     "collect" if v.collect else "keep", v.why[0] if v.why else "-"])
    ctx.out.write(humanfmt.table(rows))
    ctx.print()
    totals = run.totals(only)
    trows = [["", "RECORDS", "SIZE", "COLLECTED", "COLLECTED SIZE"]]
    for kind in gcmod.KINDS:
        t = totals[kind]
        trows.append([kind + "s", humanfmt.count(t["count"]), humanfmt.size(t["bytes"]),
                      humanfmt.count(t["collect_count"]), humanfmt.size(t["collect_bytes"])])
    ctx.out.write(humanfmt.table(trows))
    ctx.print(f"reclaimable on disk by the next pass: {humanfmt.size(run.reclaimable_bytes)} "
              f"({run.reclaimable_bytes} bytes; every namespace counted, containerd {gcmod.CONTAINERD_VERSION} rules)")
    return 0


# -- why -------------------------------------------------------------------------------------

def _why_arguments(p):
    p.add_argument("what", metavar="DIGEST|SNAPSHOTTER/KEY|LEASE|INGEST",
                   help="a blob digest, a snapshot as <snapshotter>/<key>, a lease id or an ingest ref")
    p.add_argument("--json", action="store_true", help="print the matching records as a JSON list")
    p.add_argument("--all", action="store_true",
                   help=f"show the chain from every root that keeps it (default: the first {WHY_ROOTS})")
    _at_argument(p)


#: How many roots ``why`` shows a chain from, without --all.
WHY_ROOTS = 10


@command("why", help="say what keeps a blob, snapshot, lease or ingest alive (containerd's GC rules)",
         arguments=_why_arguments)
def cmd_why(args, ctx: Context) -> int:
    with paused_gc(freeze=True):  # a short-lived process: no collector passes over 100k records
        return _why(args, ctx)


def _why(args, ctx: Context) -> int:
    if not args.what:
        raise CliError("give a digest, <snapshotter>/<key>, a lease id or an ingest ref")
    if args.what.startswith(("/", "./", "../")):
        return gcact.why_path(args, ctx, _load)
    now = _at(args)
    meta, sizes = gcact.records(ctx, _load, snapshot_sizes)
    run = gcmod.dry_run(meta, now_ns=now, snapshot_bytes=sizes)
    found = run.find(args.what, namespace=_namespace_filter(ctx))
    if not found:
        only = _namespace_filter(ctx)
        where = f"namespace {only}" if only else "any namespace"
        raise CliError(f"no blob, snapshot, lease or ingest is named {humanfmt.printable(args.what)!r} in {where} "
                       f"of {meta.source}")
    limit = None if args.all else WHY_ROOTS + 1  # one more than shown tells that there are more
    chains = [run.every_chain(v, limit=limit) for v in found]
    if args.json:
        ctx.json([dict(v.as_json(), chains=[list(c) for c in (cs if args.all else cs[:WHY_ROOTS])])
                  for v, cs in zip(found, chains)])
        return 0
    for i, (v, every) in enumerate(zip(found, chains)):
        if i:
            ctx.print()
        head = f"{v.kind} {humanfmt.printable(v.id)} (namespace {humanfmt.printable(v.namespace)}, {humanfmt.size(v.bytes)})"
        if v.collect:
            ctx.print(f"{head}: collectable by the next GC pass (nothing references it from a root)")
        else:
            ctx.print(f"{head}: alive")
            hints = gcact.release_hints(run, v, ctx)
            for n, step in enumerate(v.why, 1):
                ctx.print(f"  {n}. {step}")
            gcact.print_hint(ctx, hints, v.why[0], "     ")
            truncated = not args.all and len(every) > WHY_ROOTS
            others = [c for c in (every if args.all else every[:WHY_ROOTS]) if c[0] != v.why[0]]
            if others:
                count = f"{len(others)} other root{'s' if len(others) != 1 else ''}" + (" (and more)" if truncated else "")
                ctx.print(f"  also kept by {count}; all of them must go before it is collected:")
                for chain in others:
                    ctx.print(f"  - {chain[0]}")
                    for n, step in enumerate(chain[1:], 2):
                        ctx.print(f"      {n}. {step}")
                    gcact.print_hint(ctx, hints, chain[0], "       ")
                if truncated:
                    ctx.print("  (--all shows every root)")
        for p in v.problems:
            ctx.print(f"  warning: {humanfmt.printable(p)}")
    return 0


# -- leases ----------------------------------------------------------------------------------

def _leases_arguments(p):
    p.add_argument("action", nargs="?", choices=["ls", "rm"], default="ls",
                   help="what to do (ls: list them; rm ID: delete a lease through the daemon)")
    gcact.lease_rm_arguments(p)
    p.add_argument("--json", action="store_true", help="print a JSON list")
    _at_argument(p)


def _lease_json(use: gcmod.LeaseUse) -> dict:
    lease = use.lease
    return {
        "namespace": lease.namespace,
        "id": lease.id,
        "created_at": humanfmt.rfc3339(lease.created_at) if lease.created_at else None,
        "expire": lease.expire_text,
        "expire_at": humanfmt.rfc3339(Timestamp.from_ns(lease.expire_ns)) if lease.expire_ns is not None else None,
        "expired": not use.alive,
        "flat": lease.flat,
        "labels": dict(sorted(lease.labels.items())),
        "content": len(lease.content),
        "snapshots": len(lease.snapshots),
        "ingests": len(lease.ingests),
        "only_records": use.only_records,
        "only_bytes": use.only_bytes,
        "problems": list(lease.problems),
    }


@command("leases", help="list a containerd root's leases: expiry, resources, bytes only they keep",
         arguments=_leases_arguments)
def cmd_leases(args, ctx: Context) -> int:
    with paused_gc(freeze=True):  # a short-lived process: no collector passes over 100k records
        return _leases(args, ctx)


def _leases(args, ctx: Context) -> int:
    if args.action == "rm":
        return gcact.lease_rm(args, ctx)
    now = _at(args)
    meta, sizes = gcact.records(ctx, _load, snapshot_sizes)
    uses = gcmod.lease_usage(meta, now_ns=now, snapshot_bytes=sizes)
    only = _namespace_filter(ctx)
    uses = [u for u in uses if only is None or u.lease.namespace == only]
    if args.json:
        ctx.json([_lease_json(u) for u in uses])
        return 0
    rows = [["NAMESPACE", "ID", "CREATED", "EXPIRES", "EXPIRED", "FLAT", "CONTENT", "SNAPSHOTS", "INGESTS",
             "ONLY IT KEEPS"]]
    for u in uses:
        lease = u.lease
        if lease.expire_ns is not None:
            expires = humanfmt.rfc3339(Timestamp.from_ns(lease.expire_ns))
        elif lease.expire_text is not None:
            expires = "invalid (never)"
        else:
            expires = "never"
        rows.append([humanfmt.printable(lease.namespace), humanfmt.printable(lease.id),
                     humanfmt.rfc3339(lease.created_at) if lease.created_at else "-", expires,
                     "yes" if not u.alive else "no", "yes" if lease.flat else "no",
                     str(len(lease.content)), str(len(lease.snapshots)), str(len(lease.ingests)),
                     humanfmt.size(u.only_bytes)])
    ctx.out.write(humanfmt.table(rows))
    _note_problems(ctx, [p for u in uses for p in u.lease.problems])
    return 0
