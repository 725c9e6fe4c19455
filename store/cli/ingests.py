"""``blobctl`` subcommands that write blobs, ``ingest`` and ``import``, and those on the ingests
(unfinished writes) they leave: ``active`` and ``abort``."""

from __future__ import annotations

import logging
import os
import sys
import time

from .. import errors, humanfmt
from .common import CliError, Context, UsageError, age_memo, command, label_pairs, list_ingests, parse_digest

log = logging.getLogger(__name__)

COPY_CHUNK = 1 << 20


def _status_json(status) -> dict:
    return {
        "ref": status.ref,
        "offset": status.offset,
        "total": status.total,
        "expected": str(status.expected) if status.expected else None,
        "started_at": humanfmt.rfc3339(status.started_at),
        "updated_at": humanfmt.rfc3339(status.updated_at),
    }


def _stdin():
    stream = sys.stdin
    if stream is None:
        raise CliError("there is no standard input to read from")
    return getattr(stream, "buffer", stream)


def _seekable(stream) -> bool:
    try:
        return bool(stream.seekable())
    except (AttributeError, OSError, ValueError):
        return False


class _Progress:
    """A one-line progress bar on a terminal, redrawn at most ten times a second."""

    def __init__(self, stream, name: str):
        self.stream = stream
        self.name = humanfmt.printable(name)[-32:]
        self.last = 0.0
        self.started = time.monotonic()

    def __call__(self, done: int, total: int) -> None:
        now = time.monotonic()
        if now - self.last < 0.1 and done < total:
            return
        self.last = now
        frac = done / total if total else 1.0
        bar = "#" * int(frac * 24)
        rate = done / max(now - self.started, 1e-6)
        self.stream.write(f"\r{self.name} [{bar:<24}] {frac * 100:5.1f}% "
                          f"{humanfmt.size(done)} / {humanfmt.size(total)}  {humanfmt.size(int(rate))}/s\x1b[K")
        self.stream.flush()

    def clear(self) -> None:
        self.stream.write("\r\x1b[K")
        self.stream.flush()


def _active_arguments(p):
    p.add_argument("--json", action="store_true", help="print a JSON list")
    p.add_argument("filters", nargs="*", metavar="FILTER", help="containerd filter on ref, e.g. 'ref~=layer'")


@command("active", help="list ingests (unfinished writes)", arguments=_active_arguments)
def cmd_active(args, ctx: Context) -> int:
    statuses, broken = list_ingests(ctx.store, *args.filters)
    if args.json:
        ctx.json([_status_json(s) for s in statuses])
    else:
        age = age_memo()
        rows = [["REF", "SIZE", "AGE"]]
        rows += [[humanfmt.printable(s.ref), humanfmt.size(s.offset), age(s.started_at)] for s in statuses]
        ctx.out.write(humanfmt.table(rows))
    if broken:
        for b in broken:
            log.info("damaged ingest %s: %s", b.ref_hash, b.reason)
        ctx.note(f"note: {len(broken)} damaged entr{'y' if len(broken) == 1 else 'ies'} in "
                 f"{ctx.store.ingest_root} not listed (-v shows why; 'blobctl abort --broken NAME' removes one)")
    return 0


def _ingest_arguments(p):
    p.add_argument("ref", metavar="REF", help="name of the ingest (resumes it when it exists)")
    p.add_argument("--expected-size", type=int, default=0, metavar="N", help="commit only if exactly N bytes")
    p.add_argument("--expected-digest", default="", metavar="DIGEST", help="commit only if the data has this digest")
    _keep_arguments(p)


def _keep_arguments(p):
    p.add_argument("--label", action="append", default=[], metavar="KEY=VALUE",
                   help="label to set on the committed blob (repeatable)")
    g = p.add_mutually_exclusive_group()
    g.add_argument("--gc-root", dest="gc_root", action="store_true", default=True,
                   help="through a daemon: add containerd.io/gc.root so its garbage collector keeps the "
                        "blob (the default)")
    g.add_argument("--no-gc-root", dest="gc_root", action="store_false",
                   help="through a daemon: keep only the --label labels (e.g. containerd.io/gc.ref.* from a "
                        "parent); without any, the daemon collects the blob once the write's lease ends")


def _keep_labels(args, ctx: Context) -> dict[str, str]:
    labels = dict(label_pairs(args.label, allow_bare=False, what="--label"))
    from ..labels import validate
    validate(labels)  # before any byte is read
    if ctx.address and not args.gc_root and not labels:
        raise UsageError("--no-gc-root without any --label would leave nothing that keeps the blob: the "
                         "daemon's garbage collector would delete it as soon as the write's lease ends")
    return labels


@command("ingest", help="write standard input into an ingest and commit it", arguments=_ingest_arguments,
         creates_store=True)
def cmd_ingest(args, ctx: Context) -> int:
    if not args.ref:
        raise UsageError("the ref must not be empty")
    if args.expected_size < 0:
        raise UsageError("--expected-size must not be negative")
    expected = parse_digest(args.expected_digest) if args.expected_digest else None
    labels = _keep_labels(args, ctx)
    source = _stdin()
    try:
        writer = ctx.store.writer(args.ref, total=args.expected_size, expected=expected)
    except errors.AlreadyExists:
        ctx.print(str(expected))  # as ctr: the content is there, nothing to read
        return 0
    with writer:
        offset = writer.status().offset
        if offset:
            if not _seekable(source):
                raise CliError(
                    f"cannot resume ingest {args.ref!r}, which already has {offset} bytes: standard input "
                    "cannot seek (it is a pipe); give the same file as input (blobctl ingest REF < FILE) "
                    f"or start over after 'blobctl abort {args.ref}'")
            if source.seek(offset) != offset:
                raise errors.Unknown(f"unexpected seek location resuming ingest {args.ref!r} at {offset}")
            log.info("resuming ingest %r at byte %d", args.ref, offset)
        read = getattr(source, "read1", source.read)  # write what arrives; never sit on buffered bytes
        try:
            while True:
                chunk = read(COPY_CHUNK)
                if not chunk:
                    break
                writer.write(chunk)
        except KeyboardInterrupt:
            raise KeyboardInterrupt(f"ingest {args.ref!r} is kept with {writer.status().offset} bytes; "
                                    "run the same command with the same input to resume it") from None
        got = writer.status().offset
        if args.expected_size and got < args.expected_size:
            raise CliError(
                f"failed to read expected number of bytes: unexpected EOF (ingest {args.ref!r} has {got} of "
                f"{args.expected_size} bytes and is kept: send the same input again to finish it, or "
                f"'blobctl abort {args.ref}')")
        try:
            dgst = writer.commit(args.expected_size, expected, labels=labels or None)
        except errors.AlreadyExists:
            dgst = expected or writer.digest()
    ctx.print(str(dgst))
    return 0


def _import_arguments(p):
    p.add_argument("files", nargs="+", metavar="FILE")
    _keep_arguments(p)


@command("import", help="import files as blobs (resumable)", arguments=_import_arguments, creates_store=True)
def cmd_import(args, ctx: Context) -> int:
    labels = _keep_labels(args, ctx)
    store = ctx.store
    failed = 0
    tty = hasattr(ctx.err, "isatty") and ctx.err.isatty()
    for name in args.files:
        bar = _Progress(ctx.err, os.path.basename(name)) if tty else None
        try:
            info = store.import_file(name, labels=labels, progress=bar)
        except errors.ContentError as exc:
            if bar:
                bar.clear()
            if isinstance(exc, errors.FailedPrecondition) and store.read_only:
                raise  # the same for every file
            ctx.note(f"{exc}")
            failed += 1
            continue
        except KeyboardInterrupt:
            if bar:
                bar.clear()
            raise KeyboardInterrupt(f"import of {name} was stopped; importing it again resumes it") from None
        if bar:
            bar.clear()
        ctx.print(f"{info.digest}  {humanfmt.printable(name)}")
    return 1 if failed else 0


def _abort_arguments(p):
    p.add_argument("refs", nargs="+", metavar="REF")
    p.add_argument("--broken", action="store_true",
                   help="the arguments name damaged entries of ingest/ (as 'active' reports them)")


@command("abort", help="delete ingests", arguments=_abort_arguments)
def cmd_abort(args, ctx: Context) -> int:
    if any(not r for r in args.refs):
        raise UsageError("a ref must not be empty")
    store = ctx.store
    if args.broken and not hasattr(store, "remove_broken_ingest"):
        raise CliError("--broken is for directory stores: a containerd daemon hides damaged ingests itself")
    for ref in args.refs:
        try:
            if args.broken:
                store.remove_broken_ingest(ref)
            else:
                store.abort(ref)
        except errors.NotFound:
            ctx.note(f"note: no ingest {ref!r}; skipped")
            continue
        ctx.print(humanfmt.printable(ref))
    return 0
