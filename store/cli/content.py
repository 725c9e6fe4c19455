"""``blobctl`` subcommands on the blobs themselves: ``ls``, ``get``, ``rm``, ``label`` and ``verify``."""

from __future__ import annotations

import argparse
import functools
import itertools
import logging
import sys
import time

from .. import errors, humanfmt
from ..timestamps import Timestamp
from ..verify import verify_many
from .common import Context, age_memo, command, label_pairs, parse_digest

log = logging.getLogger(__name__)

# Widest digest (sha256), size ("1023 Bytes") and age ("11 months, 30 days") a listing can show:
# past its first rows a long listing is aligned to these without having seen the rest.
LS_WIDTHS = (71, 10, 18)


def _info_json(info) -> dict:
    return {
        "digest": str(info.digest),
        "size": info.size,
        "created_at": humanfmt.rfc3339(info.created_at),
        "updated_at": humanfmt.rfc3339(info.updated_at),
        "labels": {k: info.labels[k] for k in sorted(info.labels)},
    }


def _stdout_binary():
    return getattr(sys.stdout, "buffer", sys.stdout)


def _ls_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("-q", "--quiet", action="store_true", help="print only the digests")
    p.add_argument("--json", action="store_true", help="print a JSON list (see the module documentation)")
    p.add_argument("filters", nargs="*", metavar="FILTER",
                   help="containerd filter, e.g. 'labels.\"containerd.io/gc.root\"' or 'digest~=^sha256:a9'")


@command("ls", help="list blobs", arguments=_ls_arguments, aliases=("list",))
def cmd_ls(args, ctx: Context) -> int:
    strays: list = []
    store = ctx.store
    # only a directory store can hold files that are not blobs
    infos = store.walk(*args.filters, strays=strays) if hasattr(store, "blobs_root") else store.walk(*args.filters)
    # every form streams: a million blobs are printed as they are walked, never held in a list
    if args.json:
        ctx.json_stream(_info_json(i) for i in infos)
    elif args.quiet:
        for info in infos:
            ctx.print(str(info.digest))
    else:
        size, age = functools.lru_cache(4096)(humanfmt.size), age_memo()  # few distinct sizes
        rows = itertools.chain([["DIGEST", "SIZE", "AGE", "LABELS"]], (
            [str(i.digest), size(i.size), age(i.created_at), humanfmt.labels_text(i.labels)] for i in infos))
        write = ctx.out.write
        for line in humanfmt.table_lines(rows, min_widths=LS_WIDTHS):
            write(line)
    if strays:
        for s in strays:
            log.info("not a blob: %s (%s)", s.path, s.reason)
        ctx.note(f"note: {len(strays)} entr{'y' if len(strays) == 1 else 'ies'} in {ctx.store.blobs_root} "
                 "are not blobs and were skipped (-v lists them)")
    return 0


@command("get", help="write a blob to standard output",
         arguments=lambda p: p.add_argument("digest", metavar="DIGEST"))
def cmd_get(args, ctx: Context) -> int:
    dgst = parse_digest(args.digest)
    out = _stdout_binary()
    with ctx.store.reader_at(dgst) as reader:
        for chunk in reader.chunks():  # each store picks its own chunk size
            out.write(chunk)
    out.flush()
    return 0


@command("rm", help="delete blobs", aliases=("delete", "del", "remove"),
         arguments=lambda p: p.add_argument("digests", nargs="+", metavar="DIGEST"))
def cmd_rm(args, ctx: Context) -> int:
    digests = [parse_digest(d) for d in args.digests]  # all valid, or nothing is deleted
    store = ctx.store
    for dgst in digests:
        try:
            store.delete(dgst)
        except errors.NotFound:
            ctx.note(f"note: {dgst} is not in the store; skipped")
            continue
        ctx.print(str(dgst))
    return 0


def _label_arguments(p):
    p.add_argument("digest", metavar="DIGEST")
    p.add_argument("labels", nargs="*", metavar="KEY=VALUE|KEY=|KEY",
                   help="KEY=VALUE sets, KEY= removes, KEY alone sets 'true'")
    p.add_argument("--json", action="store_true", help="print the resulting labels as a JSON object")


@command("label", help="set or remove labels of a blob", arguments=_label_arguments)
def cmd_label(args, ctx: Context) -> int:
    dgst = parse_digest(args.digest)
    pairs = label_pairs(args.labels, allow_bare=True, what="label")
    store = ctx.store
    if pairs:
        from ..types import Info
        labels = dict(pairs)
        epoch = Timestamp.from_ns(0)
        info = store.update(Info(dgst, 0, epoch, epoch, labels), *(f"labels.{k}" for k in labels))
    else:
        info = store.info(dgst)
    if args.json:
        ctx.json({k: info.labels[k] for k in sorted(info.labels)})
    else:
        ctx.print(humanfmt.labels_text(info.labels, empty=""))
    return 0


def _verify_arguments(p):
    p.add_argument("digests", nargs="*", metavar="DIGEST", help="blobs to check (default: all)")
    p.add_argument("--json", action="store_true", help="print a JSON list of results")
    p.add_argument("-j", "--jobs", type=int, default=0, metavar="N", help="parallel hashes: threads for big blobs, processes for many small ones (default: CPUs)")


@command("verify", help="re-hash blobs and report those that do not match their digest",
         arguments=_verify_arguments)
def cmd_verify(args, ctx: Context) -> int:
    wanted = [parse_digest(d) for d in args.digests]
    store = ctx.store
    started = time.monotonic()
    items = [(d, None) for d in wanted] if wanted else [(i.digest, i.size) for i in store.walk()]
    results: list[dict] = []
    for outcome in verify_many(store, items, jobs=args.jobs if args.jobs > 0 else None, processes=True):
        error = None
        if isinstance(outcome.error, errors.ContentError):
            error = str(outcome.error)
        elif outcome.error is not None:
            exc = outcome.error
            error = f"{getattr(exc, 'strerror', None) or exc}: {getattr(exc, 'filename', None) or outcome.digest}"
        results.append({"digest": outcome.digest, "size": outcome.size, "ok": outcome.ok, "error": error})
    mismatches = [r for r in results if not r["ok"] and r["error"] is None]
    failures = [r for r in results if r["error"] is not None]
    if args.json:
        ctx.json(results)
    else:
        for r in results:
            if r["error"] is not None:
                ctx.print(f"ERROR     {r['digest']}: {r['error']}")
            elif not r["ok"]:
                ctx.print(f"MISMATCH  {r['digest']}")
    total = sum(r["size"] or 0 for r in results)
    seconds = time.monotonic() - started
    summary = f"verified {len(results)} blob{'s' if len(results) != 1 else ''} ({humanfmt.size(total)}) " \
              f"in {seconds:.2f} s"
    if mismatches or failures:
        ctx.note(f"{summary}: {len(mismatches)} do not match their digest, {len(failures)} could not be read")
        return 1
    ctx.note(f"{summary}: all match")
    return 0
