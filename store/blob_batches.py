"""The blobs of a local store as batches of columns, in directory order, for a browser listing.

``LocalStore.walk`` hands out one ``Info`` per blob in lexical order: it must list and sort the
whole directory before the first blob (about a second at a million names), and a caller that
keeps the blobs as columns then takes every ``Info`` apart again.  A batch here is what such a
caller keeps: the hex names, sizes and times in flat lists and arrays, and labels only for the
blobs that have some.  The first batch comes after ``first`` directory entries; the order is
the directory's (the caller sorts its view anyway).

What is a blob and what is not follows ``walk`` exactly (a regular file whose name is the
lower-case hex of the algorithm's length, links never followed); strays are skipped here, not
reported (``walk(strays=...)`` reports them).
"""

from __future__ import annotations

import fcntl
import logging
import os
import struct
import subprocess
import sys
from array import array
from collections.abc import Generator, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from . import errors, forked_stat
from .digest import ALGORITHMS, Digest
from .gcpause import paused_gc
from .listing_child import BATCH_FORMAT, FRAME_FORMAT, entries, rest_columns
from .types import WalkInfo

log = logging.getLogger(__name__)

PIPE_BYTES = 1 << 20  # the child's stdout pipe (Linux's default ceiling for an unprivileged process)


@dataclass
class BlobBatch:
    """Blobs of one ``blobs/<alg>`` directory: row ``i`` is ``alg:names[i]``."""

    alg: str
    names: list[str] = field(default_factory=list)
    sizes: array = field(default_factory=lambda: array("q"))
    created_ns: array = field(default_factory=lambda: array("q"))   # mtime, as containerd's Info.CreatedAt
    updated_ns: array = field(default_factory=lambda: array("q"))   # atime, as containerd's Info.UpdatedAt
    labels: dict[int, dict[str, str]] = field(default_factory=dict)  # row -> labels (a copy), labelled rows only
    raw: bytes = b""  # the digests as raw bytes, row after row (a child's listing: ``names`` left empty)

    def __len__(self) -> int:
        return len(self.sizes)

    def hex_names(self) -> list[str]:
        """The hex name of each row (made from ``raw`` when the batch came packed)."""
        if self.names or not self.raw:
            return self.names
        w = len(self.raw) // len(self.sizes)
        raw = self.raw
        return [raw[i:i + w].hex() for i in range(0, len(raw), w)]

    def raw_digests(self) -> bytes:
        """Every row's digest as raw bytes, one after the other."""
        return self.raw or bytes.fromhex("".join(self.names))

    def __iter__(self) -> Iterator[WalkInfo]:
        """The batch's blobs as ``walk`` gives them (one record each: for callers that want them)."""
        prefix, labels = self.alg + ":", self.labels
        for i, name in enumerate(self.hex_names()):
            yield WalkInfo.make(Digest(prefix + name), self.sizes[i], self.created_ns[i], self.updated_ns[i],
                                dict(labels.get(i, {})))

    def digests(self) -> list[str]:
        prefix = self.alg + ":"
        return [prefix + n for n in self.hex_names()]


def blob_batches(blobs_root: Path, all_labels: dict[str, dict[str, str]], *,
                 first: int = 500, size: int = 5000) -> Iterator[BlobBatch]:
    """Every blob under ``blobs_root`` (``<root>/blobs``) in batches of ``size`` (the first of ``first``).

    ``all_labels`` is digest -> labels (``LabelStore.all()``), read before the listing starts.
    """
    if os.path.islink(blobs_root):
        return
    try:
        algs = sorted(e.name for e in os.scandir(blobs_root)
                      if e.name in ALGORITHMS and e.is_dir(follow_symlinks=False))
    except FileNotFoundError:
        return
    except OSError as exc:
        raise errors.Unknown(f"cannot list {blobs_root}: {exc.strerror or exc}") from exc
    for alg in algs:
        prefix = alg + ":"
        # labels by hex name: no digest string is built per blob to look them up
        labelled = {d[len(prefix):]: lab for d, lab in all_labels.items() if d.startswith(prefix)}
        try:
            dir_fd = os.open(blobs_root / alg, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
        except (FileNotFoundError, NotADirectoryError):
            continue  # gone since it was listed
        except OSError as exc:
            # as walk() does: one unreadable algorithm directory must not hide the rest; say so, go on
            log.warning("%s cannot be read (%s); the blobs in it are not listed", blobs_root / alg,
                        (exc.strerror or str(exc)).lower())
            continue
        try:
            yield from _batches(alg, dir_fd, labelled, first, size)
        finally:
            os.close(dir_fd)


def _batches(alg: str, dir_fd: int, labelled: dict, first: int, size: int) -> Iterator[BlobBatch]:
    hex_len = ALGORITHMS[alg]
    with os.scandir(dir_fd) as it:
        with paused_gc():  # a stat result per blob: no cyclic collection while they pile up
            names, stats = entries(it, hex_len, first)
        if names:
            yield _batch(alg, names, array("q", [st.st_size for st in stats]),
                         array("q", [st.st_mtime_ns for st in stats]),
                         array("q", [st.st_atime_ns for st in stats]), labelled)
        if len(names) < first:
            return
        with paused_gc():
            rest = [e.name for e in it]  # the names left, not stat'ed: listing_child.rest_columns stats them
    # where this process has one thread (blobctl), a forked child stats the later half meanwhile
    columns = rest_columns(dir_fd, rest, hex_len, size, forked_stat)
    try:
        while True:
            with paused_gc():
                got = next(columns, None)
            if got is None:
                return
            yield _batch(alg, *got, labelled)
    finally:
        columns.close()  # ends a stat child still running (the caller stopped early)


def _batch(alg: str, names: list[str], sizes: array, mtimes: array, atimes: array, labelled: dict) -> BlobBatch:
    batch = BlobBatch(alg, names, sizes, mtimes, atimes)
    if labelled:
        get = labelled.get
        batch.labels = {i: dict(lab) for i, n in enumerate(names) if (lab := get(n))}
    return batch


class ChildListing:
    """:func:`blob_batches` listed by a child process (store/listing_child.py), read on this thread.

    Reading a pipe releases the GIL, so a GUI listing a million blobs keeps its GIL for its own
    work while another core lists.  An error the listing meets (the directory cannot be read) is
    raised here as it would be in process; a child that cannot start, or stops before it is done,
    is logged and the listing goes on in this process, without the blobs already sent.

    An iterator of :class:`BlobBatch`; :meth:`close` (or the end) stops the child.
    """

    def __init__(self, blobs_root: Path, all_labels: dict[str, dict[str, str]], *, first: int = 500,
                 size: int = 5000, python: str | None = None):
        self.blobs_root = blobs_root
        self.all_labels = all_labels
        self.first, self.size = first, size
        self.python = python or sys.executable
        self.proc: subprocess.Popen | None = None
        self.fell_back: str | None = None  # why the listing went on in this process, if it did
        self._it: Generator[BlobBatch, None, None] = self._batches()

    def __iter__(self) -> "ChildListing":
        return self

    def __next__(self) -> BlobBatch:
        return next(self._it)

    def close(self) -> None:
        self._it.close()

    def _start(self) -> subprocess.Popen:
        args = [self.python, "-I", "-S", str(Path(__file__).with_name("listing_child.py")), str(self.blobs_root),
                str(self.first), str(self.size)] + [f"{alg}:{n}" for alg, n in ALGORITHMS.items()]
        proc = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                close_fds=True)
        assert proc.stdin is not None and proc.stdout is not None
        try:
            # a pipe of 1 MiB, not 64 KiB: each read of ours waits for the GIL once it returns,
            # and a GUI thread busy appending kept the child waiting on a full pipe
            fcntl.fcntl(proc.stdout.fileno(), fcntl.F_SETPIPE_SZ, PIPE_BYTES)
        except OSError as exc:
            log.debug("pipe size unchanged: %s", exc)
        try:
            proc.stdin.write("\n".join(self.all_labels).encode())
            proc.stdin.close()
        except BrokenPipeError:
            pass  # it died at once: its output says so
        return proc

    def _batches(self) -> Generator[BlobBatch, None, None]:
        sent: list[tuple[str, bytes]] = []  # (alg, raw digests) of each batch handed out
        if getattr(sys, "frozen", False):  # expected, every time: not a warning
            self.fell_back = "a frozen bundle has no interpreter to run it"
            log.info("listing %s in this process: %s", self.blobs_root, self.fell_back)
            yield from blob_batches(self.blobs_root, self.all_labels, first=self.first, size=self.size)
            return
        try:
            try:
                self.proc = self._start()
            except OSError as exc:
                raise _ChildFailed(f"it did not start: {exc.strerror or exc}") from exc
            labelled = _labels_by_raw(self.all_labels)
            for batch in self._read(self.proc, labelled):
                sent.append((batch.alg, batch.raw))
                yield batch
            return
        except _ChildFailed as exc:
            self.fell_back = str(exc)
            log.warning("listing %s in a child process failed (%s); listing %s in this process", self.blobs_root,
                        exc, "the rest" if sent else "it")
        finally:
            self._stop()
        yield from _without(blob_batches(self.blobs_root, self.all_labels, first=self.first, size=self.size), sent)

    def _read(self, proc: subprocess.Popen, labelled: dict[str, dict[bytes, dict[str, str]]]) -> Iterator[BlobBatch]:
        out = proc.stdout
        assert out is not None
        while True:
            head = out.read(_FRAME.size)
            if len(head) < _FRAME.size:
                raise _ChildFailed(self._why_ended(proc))
            kind, length = _FRAME.unpack(head)
            payload = out.read(length)
            if len(payload) < length:
                raise _ChildFailed(self._why_ended(proc))
            if kind == b"D":
                return
            if kind == b"W":
                log.warning("%s", payload.decode(errors="replace"))
            elif kind == b"E":
                raise errors.Unknown(payload.decode(errors="replace"))
            elif kind == b"B":
                yield _unpack(payload, labelled)
            else:
                raise _ChildFailed(f"it sent a frame of unknown kind {kind!r}")

    def _why_ended(self, proc: subprocess.Popen) -> str:
        try:
            code = proc.wait(5)
        except subprocess.TimeoutExpired:
            return "its output stopped short"
        err = proc.stderr.read().decode(errors="replace").strip().splitlines() if proc.stderr else []
        return f"it ended with status {code} before the end" + (f": {err[-1]}" if err else "")

    def _stop(self) -> None:
        proc, self.proc = self.proc, None
        if proc is None:
            return
        if proc.poll() is None:
            proc.kill()  # only the process this listing started, by its own handle
        proc.wait()
        for f in (proc.stdout, proc.stderr):
            if f is not None:
                f.close()


class _ChildFailed(Exception):
    pass


_FRAME = struct.Struct(FRAME_FORMAT)
_BATCH = struct.Struct(BATCH_FORMAT)


def _labels_by_raw(all_labels: dict[str, dict[str, str]]) -> dict[str, dict[bytes, dict[str, str]]]:
    """alg -> raw digest bytes -> labels."""
    out: dict[str, dict[bytes, dict[str, str]]] = {}
    for d, lab in all_labels.items():
        alg, _, hexd = d.partition(":")
        try:
            out.setdefault(alg, {})[bytes.fromhex(hexd)] = lab
        except ValueError:
            continue  # not a digest: no blob can carry it
    return out


def _unpack(payload: bytes, labelled: dict[str, dict[bytes, dict[str, str]]]) -> BlobBatch:
    tag, m, nl = _BATCH.unpack_from(payload)
    alg = tag.rstrip(b"\0").decode()
    w = ALGORITHMS[alg] // 2
    pos = _BATCH.size
    raw = payload[pos:pos + w * m]
    pos += w * m
    cols = []
    for count in (m, m, m, nl):
        a = array("q")
        a.frombytes(payload[pos:pos + 8 * count])
        pos += 8 * count
        cols.append(a)
    batch = BlobBatch(alg, [], cols[0], cols[1], cols[2], raw=raw)
    if nl:
        known = labelled.get(alg, {})
        batch.labels = {i: dict(lab) for i in cols[3] if (lab := known.get(raw[i * w:(i + 1) * w]))}
    return batch


def _without(batches: Iterator[BlobBatch], sent: list[tuple[str, bytes]]) -> Iterator[BlobBatch]:
    """``batches`` less the blobs already ``sent`` (after a child stopped half-way)."""
    if not sent:
        yield from batches
        return
    seen: dict[str, set[bytes]] = {}
    for alg, raw in sent:
        w = ALGORITHMS[alg] // 2
        seen.setdefault(alg, set()).update(raw[i:i + w] for i in range(0, len(raw), w))
    for batch in batches:
        done = seen.get(batch.alg, set())
        keep = [i for i, n in enumerate(batch.names) if bytes.fromhex(n) not in done]
        if len(keep) == len(batch):
            yield batch
        elif keep:
            labels = batch.labels
            yield BlobBatch(batch.alg, [batch.names[i] for i in keep],
                            array("q", [batch.sizes[i] for i in keep]),
                            array("q", [batch.created_ns[i] for i in keep]),
                            array("q", [batch.updated_ns[i] for i in keep]),
                            {j: labels[i] for j, i in enumerate(keep) if i in labels})
