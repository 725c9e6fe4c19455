"""``blobctl``: ``ctr content`` for a content-store directory, a containerd root, or a daemon.

Usage::

    blobctl [-v] [--root DIR [--force] | -a ADDRESS] [-n NAMESPACE] COMMAND ...

    ls [-q] [--json] [FILTER...]        blobs (filters OR-ed, containerd's language)
    active [--json] [FILTER...]         ingests (filter on ``ref``)
    get DIGEST                          the blob's bytes to standard output
    ingest REF [--expected-size N] [--expected-digest D]
                                        standard input into ingest REF, then commit
    import FILE... [--label K=V]...     files into the store (resumable), progress on a terminal
    rm DIGEST...                        delete blobs (missing ones are skipped with a note)
    label DIGEST [K=V | K= | K]...      set (K alone = "true") or remove (K=) labels
    abort REF...                        drop ingests; ``abort --broken NAME...`` drops damaged ones
    verify [--json] [DIGEST...]         re-hash blobs in parallel; exit 1 on any mismatch
    du [--json]                         counts and bytes of blobs and ingests
    namespaces [--json]                 containerd namespaces (daemon, or a root's meta.db)
    where DIGEST                        the namespaces that hold a blob

``-a/--address`` (default ``$CONTAINERD_ADDRESS`` unless ``--root`` is given) works
through a running containerd's gRPC content API, in namespace ``-n`` (default
``$CONTAINERD_NAMESPACE`` or ``default``); writes run under a lease and end with
``containerd.io/gc.root`` unless ``--no-gc-root`` (then only ``--label`` labels keep it).
``--root`` on a containerd root (or its content dir with ``-n``) is the read-only view
from a copy of ``meta.db``; while its daemon runs, ``--root`` refuses and names the socket.

The root is ``--root``, else ``$BLOBSCOPE_ROOT``, else the GUI's default store
(``${XDG_DATA_HOME:-~/.local/share}/blobscope/store``).  A root that belongs to
a containerd installation (its parent holds ``io.containerd.metadata.v1.bolt/meta.db``)
is only read unless ``--force`` is given.  Only ``ingest`` and ``import`` create
a missing root.

Exit status: 0 success, 1 an error (one line ``blobctl: <message>`` on stderr,
never a traceback), 2 a usage error, 130 interrupted.

JSON output (``--json``) is one JSON document on stdout, ASCII only (other
characters as ``\\uXXXX``), times as RFC 3339 UTC strings with nanoseconds
(``2026-11-27T21:43:16.250576068Z``).  These shapes are stable; new keys may be
added, none is removed or renamed:

* ``ls``: a list of ``{"digest", "size", "created_at", "updated_at", "labels"}``
  (``labels`` an object, keys sorted), in walk order (algorithm, then digest).
* ``active``: a list of ``{"ref", "offset", "total", "expected", "started_at",
  "updated_at"}`` sorted by ref (``total`` 0 = unknown, ``expected`` a digest or null).
* ``label``: the resulting labels as an object.
* ``verify``: a list of ``{"digest", "size", "ok", "error"}`` (``ok`` false and
  ``error`` null for a mismatch; ``error`` a message when the blob could not be read).
* ``du``: ``{"blob_count", "blob_bytes", "ingest_count", "ingest_bytes",
  "broken_ingest_count"}`` plus any figures an extension adds.

Extending: subcommands live in :data:`COMMANDS` (name -> :class:`Command`).  A
module adds one with the :func:`command` decorator; ``store/cli_graph.py`` is
imported, when it exists, before the parser is built, so its decorators run.
Extra ``du`` figures come from functions appended to :data:`DU_FIGURES`
(``fn(store) -> dict``, merged into ``du``'s output).
"""

from __future__ import annotations

import argparse
import functools
import importlib
import json
import logging
import os
import sys
import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Callable

from . import errors, humanfmt, paths
from .api import usage
from .containerd_root import kind_of, live_daemon
from ._version import __version__
from .digest import Digest
from .timestamps import Timestamp
from .verify import verify_many

log = logging.getLogger(__name__)

PROG = "blobctl"
COPY_CHUNK = 1 << 20
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
_EXTENSIONS = ("store.cli_graph",)


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

    def tls(self):
        a = self.args
        if not (a.tls_ca or a.tls_cert or a.tls_key):
            return None
        if not self.address:
            raise UsageError("--tls-ca, --tls-cert and --tls-key go with --address tcp://HOST:PORT")
        if bool(a.tls_cert) != bool(a.tls_key):
            raise UsageError("--tls-cert and --tls-key go together (the client certificate and its key)")
        from .containerd import TLSConfig
        return TLSConfig(ca=a.tls_ca, cert=a.tls_cert, key=a.tls_key)

    def daemon(self, *, gc_root: bool = True):
        """A ContainerdStore on ``--address`` in ``--namespace`` (the connection is made lazily)."""
        from .containerd import ContainerdStore
        return ContainerdStore(self.address, self.namespace, tls=self.tls(), gc_root=gc_root)

    def containerd_root(self):
        """The offline view of a containerd root named by ``--root`` (refused while its daemon runs)."""
        from .containerd import OfflineContainerdRoot
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
            from .local import LocalStore
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


# --------------------------------------------------------------------------------------------
# helpers

def _ingests(store, *filters: str) -> tuple[list, list]:
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

def _digest(text: str) -> Digest:
    return Digest.parse(text)  # InvalidArgument: "invalid digest '...': <go-digest reason>"


def _info_json(info) -> dict:
    return {
        "digest": str(info.digest),
        "size": info.size,
        "created_at": humanfmt.rfc3339(info.created_at),
        "updated_at": humanfmt.rfc3339(info.updated_at),
        "labels": {k: info.labels[k] for k in sorted(info.labels)},
    }


def _status_json(status) -> dict:
    return {
        "ref": status.ref,
        "offset": status.offset,
        "total": status.total,
        "expected": str(status.expected) if status.expected else None,
        "started_at": humanfmt.rfc3339(status.started_at),
        "updated_at": humanfmt.rfc3339(status.updated_at),
    }


def _age_memo():
    """Ages for this one listing, remembered per whole second (100k rows share few distinct ages)."""
    now = datetime.now(timezone.utc)
    text_of = functools.cache(lambda seconds: humanfmt.age(now - timedelta(seconds=seconds), now))
    return lambda when: text_of(int((now - when).total_seconds()))


def _label_pairs(items: list[str], *, allow_bare: bool, what: str) -> list[tuple[str, str]]:
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


def _stdin():
    stream = sys.stdin
    if stream is None:
        raise CliError("there is no standard input to read from")
    return getattr(stream, "buffer", stream)


def _stdout_binary():
    return getattr(sys.stdout, "buffer", sys.stdout)


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


# --------------------------------------------------------------------------------------------
# subcommands

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
    if args.json:
        ctx.json([_info_json(i) for i in infos])
    elif args.quiet:
        for info in infos:
            ctx.print(str(info.digest))
    else:
        size, age = functools.cache(humanfmt.size), _age_memo()  # per listing: few distinct sizes
        rows = [["DIGEST", "SIZE", "AGE", "LABELS"]]
        rows += [[str(i.digest), size(i.size), age(i.created_at), humanfmt.labels_text(i.labels)]
                 for i in infos]
        ctx.out.write(humanfmt.table(rows))
    if strays:
        for s in strays:
            log.info("not a blob: %s (%s)", s.path, s.reason)
        ctx.note(f"note: {len(strays)} entr{'y' if len(strays) == 1 else 'ies'} in {ctx.store.blobs_root} "
                 "are not blobs and were skipped (-v lists them)")
    return 0


def _active_arguments(p):
    p.add_argument("--json", action="store_true", help="print a JSON list")
    p.add_argument("filters", nargs="*", metavar="FILTER", help="containerd filter on ref, e.g. 'ref~=layer'")


@command("active", help="list ingests (unfinished writes)", arguments=_active_arguments)
def cmd_active(args, ctx: Context) -> int:
    statuses, broken = _ingests(ctx.store, *args.filters)
    if args.json:
        ctx.json([_status_json(s) for s in statuses])
    else:
        age = _age_memo()
        rows = [["REF", "SIZE", "AGE"]]
        rows += [[humanfmt.printable(s.ref), humanfmt.size(s.offset), age(s.started_at)] for s in statuses]
        ctx.out.write(humanfmt.table(rows))
    if broken:
        for b in broken:
            log.info("damaged ingest %s: %s", b.ref_hash, b.reason)
        ctx.note(f"note: {len(broken)} damaged entr{'y' if len(broken) == 1 else 'ies'} in "
                 f"{ctx.store.ingest_root} not listed (-v shows why; 'blobctl abort --broken NAME' removes one)")
    return 0


@command("get", help="write a blob to standard output",
         arguments=lambda p: p.add_argument("digest", metavar="DIGEST"))
def cmd_get(args, ctx: Context) -> int:
    dgst = _digest(args.digest)
    out = _stdout_binary()
    with ctx.store.reader_at(dgst) as reader:
        for chunk in reader.chunks():  # each store picks its own chunk size
            out.write(chunk)
    out.flush()
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
    labels = dict(_label_pairs(args.label, allow_bare=False, what="--label"))
    from .labels import validate
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
    expected = _digest(args.expected_digest) if args.expected_digest else None
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


@command("rm", help="delete blobs", aliases=("delete", "del", "remove"),
         arguments=lambda p: p.add_argument("digests", nargs="+", metavar="DIGEST"))
def cmd_rm(args, ctx: Context) -> int:
    digests = [_digest(d) for d in args.digests]  # all valid, or nothing is deleted
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
    dgst = _digest(args.digest)
    pairs = _label_pairs(args.labels, allow_bare=True, what="label")
    store = ctx.store
    if pairs:
        from .types import Info
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


def _verify_arguments(p):
    p.add_argument("digests", nargs="*", metavar="DIGEST", help="blobs to check (default: all)")
    p.add_argument("--json", action="store_true", help="print a JSON list of results")
    p.add_argument("-j", "--jobs", type=int, default=0, metavar="N", help="parallel hashes: threads for big blobs, processes for many small ones (default: CPUs)")


@command("verify", help="re-hash blobs and report those that do not match their digest",
         arguments=_verify_arguments)
def cmd_verify(args, ctx: Context) -> int:
    wanted = [_digest(d) for d in args.digests]
    store = ctx.store
    started = time.monotonic()
    items = [(d, None) for d in wanted] if wanted else [(i.digest, i.size) for i in store.walk()]
    results = []
    for r in verify_many(store, items, jobs=args.jobs if args.jobs > 0 else None, processes=True):
        error = None
        if isinstance(r.error, errors.ContentError):
            error = str(r.error)
        elif r.error is not None:
            error = f"{r.error.strerror or r.error}: {r.error.filename or r.digest}"
        results.append({"digest": r.digest, "size": r.size, "ok": r.ok, "error": error})
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


def _du_arguments(p):
    p.add_argument("--json", action="store_true", help="print a JSON object")
    p.add_argument("--no-graph", action="store_true",
                   help="only count; skip the figures extensions add (images: shared, unique, "
                        "reclaimable), which read every manifest")


@command("du", help="count blobs and ingests and their bytes", arguments=_du_arguments)
def cmd_du(args, ctx: Context) -> int:
    store = ctx.store
    statuses, broken = _ingests(store)
    figures = usage(store, statuses)
    figures["broken_ingest_count"] = len(broken)
    if not args.no_graph:
        for extra in DU_FIGURES:
            try:
                figures.update(extra(store))
            except errors.ContentError as exc:
                ctx.note(f"note: some figures are left out: {exc}")
    if args.json:
        ctx.json(figures)
        return 0
    rows = [["", "COUNT", "SIZE", "BYTES"],
            ["blobs", humanfmt.count(figures["blob_count"]), humanfmt.size(figures["blob_bytes"]),
             str(figures["blob_bytes"])],
            ["ingests", humanfmt.count(figures["ingest_count"]), humanfmt.size(figures["ingest_bytes"]),
             str(figures["ingest_bytes"])]]
    ctx.out.write(humanfmt.table(rows))
    known = {"blob_count", "blob_bytes", "ingest_count", "ingest_bytes"}
    for key, value in figures.items():
        if key in known or (key == "broken_ingest_count" and not value):
            continue
        shown = humanfmt.size(value) if key.endswith("_bytes") and isinstance(value, int) else value
        ctx.print(f"{key.replace('_', ' ')}: {shown}")
    return 0


# --------------------------------------------------------------------------------------------
# containerd namespaces

def _namespaces_arguments(p):
    p.add_argument("--json", action="store_true", help="print a JSON list of names")


def _namespace_source(ctx: Context):
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


def _print_namespaces(args, ctx: Context, ask: Callable[[object], list[str]]) -> list[str]:
    """``ask(source)`` on the namespace source (closed afterwards); its names printed one a line or as JSON."""
    source = _namespace_source(ctx)
    try:
        names = list(ask(source))
    finally:
        _close_store(source)
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
    dgst = _digest(args.digest)
    if not _print_namespaces(args, ctx, lambda source: source.namespaces_with(dgst)):
        ctx.note(f"no namespace holds {dgst}")
        return 1
    return 0


# --------------------------------------------------------------------------------------------
# parser and entry point

class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one line, not argparse's usage block
        raise UsageError(f"{message} (see '{self.prog} --help')")


def _global_options(p: argparse.ArgumentParser, *, top: bool) -> None:
    # Also accepted after the subcommand ("blobctl ls --root X"); SUPPRESS keeps the top-level value.
    default = None if top else argparse.SUPPRESS
    p.add_argument("-v", "--verbose", action="count", default=0 if top else argparse.SUPPRESS,
                   help="log what happens (-vv: more)")
    p.add_argument("--root", metavar="DIR", default=default,
                   help=f"content store directory, or a stopped containerd root (default: ${paths.ROOT_ENV} "
                        f"or {paths.default_store_dir()})")
    p.add_argument("-a", "--address", metavar="ADDRESS", default=default,
                   help=f"a containerd daemon instead of a directory: unix:///path, a socket path or "
                        f"tcp://host:port (default: ${ADDRESS_ENV} unless --root is given)")
    p.add_argument("-n", "--namespace", metavar="NS", default=default,
                   help=f"containerd namespace (default: ${NAMESPACE_ENV} or 'default')")
    p.add_argument("--tls-ca", metavar="PEM", default=default, help="CA of a tcp:// daemon's certificate")
    p.add_argument("--tls-cert", metavar="PEM", default=default, help="client certificate for a tcp:// daemon")
    p.add_argument("--tls-key", metavar="PEM", default=default, help="key of --tls-cert")
    p.add_argument("--force", action="store_true", default=False if top else argparse.SUPPRESS,
                   help="write to a root that belongs to a containerd installation (stop containerd first)")


def _load_extensions() -> None:
    """Import the modules in :data:`_EXTENSIONS` that exist, so their :func:`command` decorators run
    (a missing module is fine; a broken one is not)."""
    for name in _EXTENSIONS:
        try:
            importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                # a dependency of the extension is missing: its commands are gone, the rest still work
                log.warning("the commands of %s are unavailable: %s", name, exc)


def build_parser() -> argparse.ArgumentParser:
    _load_extensions()
    parser = _Parser(prog=PROG, description="Inspect and change a containerd-style content store.")
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    _global_options(parser, top=True)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True
    for cmd in COMMANDS.values():
        p = sub.add_parser(cmd.name, help=cmd.help, description=cmd.help, aliases=list(cmd.aliases))
        _global_options(p, top=False)
        if cmd.arguments:
            cmd.arguments(p)
        p.set_defaults(command=cmd.name)
    return parser


def _setup_logging(verbosity: int, stream) -> None:
    level = logging.WARNING if verbosity <= 0 else logging.INFO if verbosity == 1 else logging.DEBUG
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter(f"{PROG}: %(levelname)s: %(name)s: %(message)s"))
    _teardown_logging()
    handler._blobctl = True  # type: ignore[attr-defined]
    logger = logging.getLogger("store")
    logger.addHandler(handler)
    logger.setLevel(level)


def _teardown_logging() -> None:
    # main() may run many times in one process (tests, the GUI): leave no handler on an old stream.
    logger = logging.getLogger("store")
    for old in [h for h in logger.handlers if getattr(h, "_blobctl", False)]:
        logger.removeHandler(old)
    logger.setLevel(logging.NOTSET)


def main(argv: list[str] | None = None) -> int:
    """Run ``blobctl`` with ``argv`` (default ``sys.argv[1:]``); returns the exit status."""
    try:
        return _main(argv)
    finally:
        _teardown_logging()


def _main(argv: list[str] | None) -> int:
    stdout, stderr = sys.stdout, sys.stderr
    _setup_logging(0, stderr)  # warnings while the parser is built go to this run's stderr
    try:
        parser = build_parser()
        args = parser.parse_args(argv)
    except UsageError as exc:
        stderr.write(f"{PROG}: {exc}\n")
        return 2
    except SystemExit as exc:  # --help / --version
        return int(exc.code or 0) if not isinstance(exc.code, str) else 2
    except Exception as exc:  # noqa: BLE001 - a broken extension module: still one line
        stderr.write(f"{PROG}: internal error while reading the command line: {type(exc).__name__}: "
                     f"{humanfmt.printable(str(exc))}\n")
        return 1
    _setup_logging(args.verbose, stderr)
    ctx = Context(args, stdout, stderr)
    try:
        if args.root and args.address:
            raise UsageError("--root and --address exclude each other: a directory, or a daemon")
        if args.force and ctx.address:
            raise UsageError("--force is for --root directories; through a daemon nothing needs forcing")
        ctx.tls()  # TLS options without a daemon address are a usage error before anything runs
        return COMMANDS[args.command].run(args, ctx)
    except UsageError as exc:
        stderr.write(f"{PROG}: {exc}\n")
        return 2
    except (CliError, errors.ContentError) as exc:
        log.debug("failed", exc_info=True)
        stderr.write(f"{PROG}: {humanfmt.printable(str(exc))}\n")
        return 1
    except BrokenPipeError:
        _silence_stdout()
        return 141
    except OSError as exc:
        log.debug("failed", exc_info=True)
        where = f": {exc.filename}" if exc.filename else ""
        stderr.write(f"{PROG}: {humanfmt.printable((exc.strerror or str(exc)) + where)}\n")
        return 1
    except KeyboardInterrupt as exc:
        why = f": {humanfmt.printable(str(exc.args[0]))}" if exc.args else ""
        stderr.write(f"{PROG}: interrupted{why}\n")
        return 130
    except Exception as exc:  # noqa: BLE001 - a bug: still one line; -vv shows the traceback
        log.debug("internal error", exc_info=True)
        stderr.write(f"{PROG}: internal error: {type(exc).__name__}: {humanfmt.printable(str(exc))} "
                     "(run with -vv for details)\n")
        return 1
    finally:
        try:
            stdout.flush()
        except (BrokenPipeError, ValueError):
            _silence_stdout()
        if ctx._store is not None:
            _close_store(ctx._store)


def _close_store(store) -> None:
    close = getattr(store, "close", None)
    if callable(close):
        try:
            close()
        except Exception:  # noqa: BLE001
            log.debug("closing the store failed", exc_info=True)


def _silence_stdout() -> None:
    # Python would report the broken pipe again when it flushes stdout at exit.
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):
        pass


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
