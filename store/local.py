"""containerd's local content store (``content/local``), byte for byte, in Python.

Layout (containerd-store.md §2.1): ``blobs/<alg>/<hex>`` for committed blobs and
``ingest/<sha256(ref)>/`` for ingests.  Blobscope adds ``labels.db`` (labels) and
``.blobscope/locks/`` (cross-process ref locks), both of which containerd ignores.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import stat
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, Iterator, TypeVar

from . import errors, forked_stat, importer
from .api import usage as _usage
from .blob_batches import BlobBatch, ChildListing, blob_batches
from .containerd_root import METADATA_DB
from .digest import ALGORITHMS, Digest, why_invalid
from .gcpause import paused_gc
from .ingest import BrokenIngest, os_message, read_status, ref_bytes, ref_hash
from .labels import LabelStore
from .labels import validate as validate_labels
from .locks import RefLocks
from .nolinks import not_a_file, refuse_links
from .reader import HeadReader, ReaderAt, advise_sequential, open_blob
from .timestamps import Timestamp
from .types import Info, Status, WalkInfo
from .writer import Writer, open_writer

log = logging.getLogger(__name__)

_SMALL_BLOB = 1 << 20  # read whole in one call when verifying
_HEX_DIGITS = "0123456789abcdef"
_WALK_CHUNK = 1024  # blobs listed between two hand-outs: the first rows still come at once
_new_digest = str.__new__  # names already checked by walk skip Digest's re-validation
_CHILD_SHARE = 0.6  # of a big directory's names stat'ed by a forked child (this process also makes the records)
_REGULAR_KIND = bytes([forked_stat.REGULAR])
_STRAY_REASONS = {forked_stat.BAD_NAME: "name is not a valid digest",
                  forked_stat.LINK: "symbolic link (not followed)",
                  forked_stat.OTHER: "not a regular file"}
T = TypeVar("T")


@dataclass(frozen=True)
class StrayBlob:
    """Something in ``blobs/<alg>/`` that is not a blob: a bad name, a link, a directory."""

    path: Path
    name: str
    reason: str


SORT_IN_ONE = 200_000


def sorted_names(names: list[str]) -> list[str]:
    """``sorted(names)``, in steps short enough to let other threads run.

    One ``sorted`` of a million names holds the GIL for a second or two (a GUI listing the store
    on another thread freezes that long); grouped by their first two characters, each group is a
    short sort and the groups are visited in order, which is the same lexical order.  Below
    ``SORT_IN_ONE`` names the plain sort (under 0.1 s) is kept: grouping costs more than it saves.
    """
    if len(names) <= SORT_IN_ONE:
        return sorted(names)
    groups: dict[str, list[str]] = {}
    for name in names:
        group = groups.get(name[:2])
        if group is None:
            groups[name[:2]] = [name]
        else:
            group.append(name)
    out: list[str] = []
    for key in sorted(groups):
        group = groups[key]
        group.sort()
        out.extend(group)
    return out


class LocalStore:
    """A containerd content root on the local file system (design.md §3 for the API)."""

    def __init__(self, root: os.PathLike | str, *, writable: bool | None = None):
        self.root = Path(root).absolute()
        self.blobs_root = self.root / "blobs"
        self._blobs_text = str(self.blobs_root)
        self.ingest_root = self.root / "ingest"
        self.read_only_reason = self._why_read_only(writable)
        if self.read_only_reason is None:
            try:
                self.ingest_root.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                self.read_only_reason = f"cannot create the store at {self.root}: {exc.strerror or exc}"
        self.read_only = self.read_only_reason is not None
        if self.read_only:
            log.info("opened %s read-only: %s", self.root, self.read_only_reason)
        self.labels = LabelStore(self.root / "labels.db", read_only=self.read_only)
        self._locks = RefLocks(self.root / ".blobscope" / "locks")

    def _why_read_only(self, writable: bool | None) -> str | None:
        if writable is False:
            return "the store was opened read-only"
        meta = self.root.parent / METADATA_DB
        # Deliberate (design.md §4): a daemon's root is never written unless the caller insists.
        if writable is None and os.path.exists(meta):
            return (f"{self.root} belongs to a containerd installation ({meta} exists); writing behind "
                    "containerd's back would make its metadata disagree with the files. Stop containerd "
                    "and open it explicitly writable (blobctl --force) if you really mean to change it")
        probe = self.root if os.path.exists(self.root) else self.root.parent
        if os.path.exists(probe) and not os.access(probe, os.W_OK):
            try:
                if os.statvfs(probe).f_flag & os.ST_RDONLY:
                    return f"{probe} is on a read-only file system"
            except OSError:
                pass
            return f"you have no permission to write to {probe}"
        return None

    def _check_writable(self, action: str) -> None:
        if self.read_only:
            raise errors.FailedPrecondition(f"cannot {action}: {self.read_only_reason}")

    # -- paths -------------------------------------------------------------------------------
    @staticmethod
    def digest_arg(value, context: str) -> Digest:
        """Validate before a digest becomes a path: InvalidArgument with containerd's message."""
        if isinstance(value, Digest):
            return value
        why = why_invalid(value) if isinstance(value, str) else "digest must be a string"
        if why is not None:
            raise errors.InvalidArgument(f"{context}: cannot calculate blob path from invalid digest: {why}")
        return Digest(value)

    def blob_path(self, digest: Digest | str) -> Path:
        d = self.digest_arg(digest, "calculating blob path")
        return self.blobs_root / d.algorithm / d.encoded

    def ingest_dir(self, ref: str) -> Path:
        return self.ingest_root / ref_hash(ref)

    def check_blob_dirs(self, algorithm: str) -> None:
        """FailedPrecondition when ``blobs/`` or ``blobs/<alg>`` is a symbolic link (it could lead out of the store)."""
        top = self._blobs_text  # strings: verify calls this once per blob
        refuse_links(top, f"{top}/{algorithm}",
                     so="its blobs are not read, written or deleted. Inspect it and replace it with a directory")

    def _blob_lstat(self, dgst: Digest) -> tuple[Path, os.stat_result]:
        """lstat of whatever stands at a blob's path (links not followed); NotFound if nothing."""
        self.check_blob_dirs(dgst.algorithm)
        path = self.blobs_root / dgst.algorithm / dgst.encoded
        try:
            return path, os.lstat(path)
        except (FileNotFoundError, NotADirectoryError):
            raise errors.NotFound(f"content {dgst}") from None

    def _blob_stat(self, dgst: Digest) -> tuple[Path, os.stat_result]:
        """lstat of a blob: NotFound if missing, FailedPrecondition if it is not a regular file."""
        path, st = self._blob_lstat(dgst)
        if not stat.S_ISREG(st.st_mode):
            raise errors.FailedPrecondition(
                f"content {dgst}: {not_a_file(path, st.st_mode)}. Inspect it and delete it if it does not belong there")
        return path, st

    # -- Manager -----------------------------------------------------------------------------
    def info(self, digest: Digest | str) -> Info:
        dgst = self.digest_arg(digest, "calculating blob info path")
        _, st = self._blob_stat(dgst)
        return _info(dgst, st, self.labels.get(dgst))

    def update(self, info: Info, *fieldpaths: str) -> Info:
        """Change labels: no fieldpath or ``labels`` replaces all, ``labels.<key>`` one key (containerd-store.md §2.11)."""
        self._check_writable(f"update the labels of {info.digest}")
        dgst = self.digest_arg(info.digest, "calculating blob path for update")
        path, st = self._blob_stat(dgst)
        given = dict(info.labels or {})
        replace = not fieldpaths
        partial: dict[str, str] = {}
        for fp in fieldpaths:
            if fp.startswith("labels."):
                key = fp[len("labels."):]
                partial[key] = given.get(key, "")  # absent from the input = delete it
            elif fp == "labels":
                replace = True
            else:
                raise errors.InvalidArgument(f'cannot update "{fp}" field on content info "{dgst}"')
        if replace:
            validate_labels({k: v for k, v in given.items() if v})
            stored = self.labels.set(dgst, given)
        else:
            validate_labels({k: v for k, v in partial.items() if v})
            stored = self.labels.update(dgst, partial)
        now = time.time_ns()
        try:
            os.utime(path, ns=(now, st.st_mtime_ns))  # atime = now, mtime = created (as containerd)
        except OSError as exc:
            log.warning("could not set the times of %s: %s", path, exc)
        return Info(dgst, st.st_size, Timestamp.from_ns(st.st_mtime_ns), Timestamp.from_ns(now), stored)

    def walk(self, *filters: str, strays: list | None = None) -> Iterator[Info]:
        """Blobs in lexical order, filtered (containerd filter strings, OR-ed).

        Links, directories and names that are not digests inside ``blobs/<alg>/`` are
        not blobs: they are skipped, and appended to ``strays`` when a list is given
        (deliberate: containerd reports them as blobs with invalid digests, and its GC
        then stops at the first one; links are never followed).
        """
        match = None
        if filters:  # the parser is imported on the first filtered call only
            from .filters import compile_filters
            match = compile_filters(filters)
        return self._walk(match, strays)

    def _walk(self, match, strays) -> Iterator[Info]:
        top_is_link = os.path.islink(self.blobs_root)
        try:
            entries = [] if top_is_link else list(os.scandir(self.blobs_root))
        except FileNotFoundError:
            return  # a fresh store has no blobs/ yet (containerd errors here)
        except OSError as exc:
            raise errors.Unknown(f"cannot list {self.blobs_root}: {exc.strerror or exc}") from exc
        if strays is not None:
            links = ([self.blobs_root] if top_is_link else
                     [Path(e.path) for e in entries if e.name in ALGORITHMS and e.is_symlink()])
            strays.extend(StrayBlob(p, p.name, "symbolic link to a directory (not followed)") for p in links)
        algs = sorted(e.name for e in entries if e.name in ALGORITHMS and e.is_dir(follow_symlinks=False))
        all_labels = self.labels.all()
        for alg in algs:
            try:
                dir_fd = os.open(self.blobs_root / alg, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
            except (FileNotFoundError, NotADirectoryError):
                continue
            except OSError as exc:
                # One unreadable algorithm directory must not hide the rest of the store: report it, go on.
                why = f"cannot be read ({(exc.strerror or str(exc)).lower()}); the blobs in it are not listed"
                log.warning("%s %s", self.blobs_root / alg, why)
                if strays is not None:
                    strays.append(StrayBlob(self.blobs_root / alg, alg, why))
                continue
            forked = None
            try:
                names = sorted_names(os.listdir(dir_fd))
                # A big directory: a forked child stats the later names meanwhile (store/forked_stat.py),
                # where this process may fork; this one stats the first, makes every record.
                split = len(names) - int(len(names) * _CHILD_SHARE)
                forked = forked_stat.start(dir_fd, names[split:], ALGORITHMS[alg], _WALK_CHUNK)
                mine = names if forked is None else names[:split]
                for start in range(0, len(mine), _WALK_CHUNK):
                    # Each chunk is listed with the cyclic GC paused (a walk makes a record per blob,
                    # and the collections they set off were a third of its time), then handed out.
                    with paused_gc():
                        chunk = self._walk_chunk(mine[start:start + _WALK_CHUNK], alg, dir_fd,
                                                 all_labels, match, strays)
                    yield from chunk
                if forked is None:
                    continue
                rest = names[split:]
                for start in range(0, len(rest), _WALK_CHUNK):
                    part = rest[start:start + _WALK_CHUNK]
                    # the child's chunk as soon as it is there; None: it stopped, the rest is stat'ed here
                    cols = forked.chunk(start, start + _WALK_CHUNK) if forked is not None else None
                    with paused_gc():
                        if cols is None:
                            forked = None
                            chunk = self._walk_chunk(part, alg, dir_fd, all_labels, match, strays)
                        else:
                            chunk = self._walk_columns(part, cols, alg, dir_fd, all_labels, match, strays)
                    yield from chunk
            finally:
                if forked is not None:
                    forked.close()
                os.close(dir_fd)

    def _walk_columns(self, names: list[str], cols: forked_stat.StatColumns, alg: str, dir_fd: int,
                      all_labels: dict, match, strays: list | None) -> list[WalkInfo]:
        """``_walk_chunk`` of ``names`` from what a stat child found for them (``cols``, row by row)."""
        make_info, kinds, sizes, mtimes, atimes = WalkInfo.make, cols.kinds, cols.sizes, cols.mtimes, cols.atimes
        prefix = alg + ":"
        if kinds.count(_REGULAR_KIND) == len(names):  # the usual chunk: blobs only
            get = all_labels.get
            dgsts = [_new_digest(Digest, prefix + name) for name in names]
            infos = [make_info(d, size, mt, at, dict(labels) if (labels := get(d)) else {})
                     for d, size, mt, at in zip(dgsts, sizes, mtimes, atimes)]
            return infos if match is None else [i for i in infos if match(i)]
        out = []
        for i, name in enumerate(names):
            kind = kinds[i]
            if kind:  # not a blob, gone, or a stat to repeat here (its error is raised here)
                if kind == forked_stat.ERROR:
                    out.extend(self._walk_chunk([name], alg, dir_fd, all_labels, match, strays))
                elif strays is not None and kind != forked_stat.GONE:
                    strays.append(StrayBlob(self.blobs_root / alg / name, name, _STRAY_REASONS[kind]))
                continue
            dgst = _new_digest(Digest, prefix + name)
            labels = all_labels.get(dgst)
            info = make_info(dgst, sizes[i], mtimes[i], atimes[i], dict(labels) if labels else {})
            if match is None or match(info):
                out.append(info)
        return out

    def _walk_chunk(self, names: list[str], alg: str, dir_fd: int, all_labels: dict, match,
                    strays: list | None) -> list[WalkInfo]:
        """The blobs among ``names`` (sorted) in ``blobs/<alg>``, open as ``dir_fd``; strays to ``strays``."""
        lstat_at, make_info, S_ISREG = os.stat, WalkInfo.make, stat.S_ISREG
        hex_len = ALGORITHMS[alg]
        prefix = alg + ":"
        out = []
        for name in names:
            # a blob name is lower-case hex of the right length: str.strip runs in C
            if len(name) != hex_len or name.strip(_HEX_DIGITS):
                if strays is not None:
                    strays.append(StrayBlob(self.blobs_root / alg / name, name,
                                            _STRAY_REASONS[forked_stat.BAD_NAME]))
                continue
            try:
                # fstatat relative to the directory: one short lookup, links not followed
                st = lstat_at(name, dir_fd=dir_fd, follow_symlinks=False)
            except FileNotFoundError:
                continue  # deleted while we walk
            if not S_ISREG(st.st_mode):
                if strays is not None:
                    kind = forked_stat.LINK if stat.S_ISLNK(st.st_mode) else forked_stat.OTHER
                    strays.append(StrayBlob(self.blobs_root / alg / name, name, _STRAY_REASONS[kind]))
                continue
            dgst = _new_digest(Digest, prefix + name)
            labels = all_labels.get(dgst)
            # The values are already checked; the timestamps are built when first read.
            info = make_info(dgst, st.st_size, st.st_mtime_ns, st.st_atime_ns,
                             dict(labels) if labels else {})
            if match is None or match(info):
                out.append(info)
        return out

    def walk_batches(self, *, first: int = 500, size: int = 5000, child: bool = False) -> Iterator[BlobBatch]:
        """Every blob as batches of columns in directory order (store/blob_batches.py): the
        first batch comes before the directory is listed whole; nothing is sorted.

        ``child``: the directory is listed by a child process (``ChildListing``: this process
        only reads a pipe and the labels), falling back to this process if that fails."""
        if child:
            return ChildListing(self.blobs_root, self.labels.all(), first=first, size=size)
        return blob_batches(self.blobs_root, self.labels.all(), first=first, size=size)

    def stray_blobs(self) -> list[StrayBlob]:
        strays: list[StrayBlob] = []
        for _ in self.walk(strays=strays):
            pass
        return strays

    def delete(self, digest: Digest | str) -> None:
        self._check_writable(f"delete {digest}")
        dgst = self.digest_arg(digest, "calculating blob path for delete")
        # Deliberate difference: containerd returns success for a missing blob; we say NotFound.
        path, st = self._blob_lstat(dgst)
        _remove_entry(path, stat.S_ISDIR(st.st_mode))
        self.labels.delete(dgst)

    # -- Provider ----------------------------------------------------------------------------
    def reader_at(self, digest: Digest | str) -> ReaderAt:
        dgst = self.digest_arg(digest, "calculating blob path for ReaderAt")
        path = self.blobs_root / dgst.algorithm / dgst.encoded
        try:
            self._blob_stat(dgst)
            return ReaderAt(path)
        except errors.NotFound:
            raise _open_error(dgst, path, FileNotFoundError()) from None
        except OSError as exc:  # e.g. ELOOP from O_NOFOLLOW when a link was swapped in
            raise _open_error(dgst, path, exc) from exc

    # -- IngestManager -----------------------------------------------------------------------
    def status(self, ref: str) -> Status:
        _check_ref(ref)
        return read_status(self.ingest_dir(ref))

    def list_statuses(self, *filters: str) -> list[Status]:
        """Good ingests only (sorted by ref); damaged entries are in :meth:`broken_ingests`."""
        return self.scan_ingests(*filters)[0]

    def broken_ingests(self) -> list[BrokenIngest]:
        return self.scan_ingests()[1]

    def scan_ingests(self, *filters: str) -> tuple[list[Status], list[BrokenIngest]]:
        """``(list_statuses(*filters), broken_ingests())`` from one pass over ``ingest/``.

        For a caller that shows both (the GUI's ingest poll, ``blobctl active`` and ``du``):
        each entry's status is read once instead of once per list.
        """
        match = None
        if filters:
            from .filters import adapt_status, compile_filters
            match = compile_filters(filters, adapt_status)
        good: list[Status] = []
        broken: list[BrokenIngest] = []
        try:
            entries = list(os.scandir(self.ingest_root))
        except FileNotFoundError:
            return good, broken
        except OSError as exc:
            raise errors.Unknown(f"cannot list {self.ingest_root}: {exc.strerror or exc}") from exc
        for entry in entries:
            item = _classify_ingest(Path(entry.path), entry.name, entry.is_dir(follow_symlinks=False))
            if isinstance(item, Status):
                good.append(item)
            elif item is not None:
                broken.append(item)
        if match is not None:
            good = [s for s in good if match(s)]
        good.sort(key=lambda s: s.ref)
        broken.sort(key=lambda b: b.ref_hash)
        return good, broken

    def ingest_entry(self, name: str) -> Status | BrokenIngest | None:
        """One entry of ``ingest/`` by its directory name, as :meth:`scan_ingests` would list it:
        its Status, why it is broken, or None when nothing is there (the GUI reads only the
        entries a watch named, design.md §5.2)."""
        if not name or "/" in name or name in (".", "..") or "\0" in name:
            raise errors.InvalidArgument(f"{name!r} is not the name of an entry in {self.ingest_root}")
        path = self.ingest_root / name
        try:
            is_dir = stat.S_ISDIR(os.lstat(path).st_mode)
        except (FileNotFoundError, NotADirectoryError):
            return None
        return _classify_ingest(path, name, is_dir)

    def remove_broken_ingest(self, ref_hash_: str) -> None:
        """Delete one damaged entry of ``ingest/`` (by directory name) that list_statuses left out."""
        self._check_writable(f"remove the broken ingest {ref_hash_}")
        if not ref_hash_ or "/" in ref_hash_ or ref_hash_ in (".", "..") or "\0" in ref_hash_:
            raise errors.InvalidArgument(f"{ref_hash_!r} is not the name of an entry in {self.ingest_root}")
        path = self.ingest_root / ref_hash_
        try:
            is_dir = stat.S_ISDIR(os.lstat(path).st_mode)
        except (FileNotFoundError, NotADirectoryError):
            item = None
        else:
            # Only this entry is read, not all of ingest/: the GUI removes broken ingests one by one.
            item = _classify_ingest(path, ref_hash_, is_dir)
        if item is None:
            raise errors.NotFound(f"no broken ingest named {ref_hash_} in {self.ingest_root}")
        if isinstance(item, Status):
            raise errors.FailedPrecondition(
                f"ingest {ref_hash_} is not broken; abort it by its ref instead")
        _remove_entry(path, is_dir)

    def abort(self, ref: str) -> None:
        self._check_writable(f"abort ingest {ref!r}")
        _check_ref(ref)
        path = self.ingest_dir(ref)
        try:
            st = os.lstat(path)
        except (FileNotFoundError, NotADirectoryError):
            # Deliberate difference: containerd returns success for an unknown ref.
            raise errors.NotFound(f"ingest ref {ref!r} not found") from None
        # Like containerd, no ref lock: an open writer's later commit fails instead.
        _remove_entry(path, stat.S_ISDIR(st.st_mode))

    # -- Ingester ----------------------------------------------------------------------------
    def writer(self, ref: str, *, total: int = 0, expected: Digest | str | None = None) -> Writer:
        """Open (or resume) the ingest ``ref``; one writer per ref across threads and processes."""
        self._check_writable(f"write ingest {ref!r}")
        _check_ref(ref)
        dgst = self.digest_arg(expected, "calculating expected blob path for writer") if expected else None
        refuse_links(self.ingest_root, so=f"ingest {ref!r} is not written. Replace it with a directory")
        try:
            lock = self._locks.lock(ref, ref_hash(ref))
        except OSError as exc:
            raise errors.Unknown(f"cannot lock ref {ref!r} in {self._locks.lock_dir}: {exc.strerror or exc}") from exc
        try:
            if dgst is not None and os.path.lexists(self.blobs_root / dgst.algorithm / dgst.encoded):
                raise errors.AlreadyExists(f"content {dgst}")
            # containerd 2.3+: hash with the expected digest's algorithm; sha256 otherwise.
            return open_writer(self, ref, lock, total or 0, dgst.algorithm if dgst else "sha256")
        except OSError as exc:
            lock.release()
            raise errors.Unknown(f"cannot open ingest {ref!r} in {self.ingest_root}: "
                                 f"{exc.strerror or exc}") from exc
        except BaseException:
            lock.release()
            raise

    # -- Blobscope helpers -------------------------------------------------------------------
    def verify(self, digest: Digest | str) -> bool:
        """Re-hash a blob and compare with its name.

        Plain strings and one read for small blobs: a store is mostly small blobs, and path
        objects and extra calls cost more than hashing them (100k x 512 B).
        """
        dgst = self.digest_arg(digest, "calculating blob path for verify")
        alg, _, encoded = dgst.partition(":")
        self.check_blob_dirs(alg)
        return self._verify_at(dgst, alg, encoded)

    def verify_each(self, digests: Iterable[Digest | str]) -> Iterator[tuple[Digest | str, bool | Exception]]:
        """``verify`` of many blobs: ``(digest, True/False or the error verify would raise)`` in order.

        ``blobs/<alg>`` is looked up once and every blob opened relative to it, which makes a
        store of small blobs about four times faster to check than calling ``verify`` for each.
        """
        return self._each_in_blob_dirs(digests, "calculating blob path for verify", self._verify_at)

    def read_each(self, digests: Iterable[Digest | str],
                  fn: Callable[[Callable[[int, int], bytes], int], T]) -> Iterator[tuple[Digest | str, T | Exception]]:
        """``fn(read_at, size)`` on many blobs, each opened once: ``(digest, result or error)`` in order.

        For recognising a whole store (store.oci): ``blobs/<alg>`` is looked up once and each
        blob opened relative to it (no atime change), checked to be a regular file, and its
        first 16 KiB read in one call that ``read_at`` serves from.  The error is the one
        ``reader_at`` would raise (NotFound for a blob deleted meanwhile), or the OSError of a
        failed read.
        """
        S_ISREG = stat.S_ISREG

        def head(dgst: Digest, alg: str, encoded: str, dfd: int | None) -> T:
            try:
                # O_NONBLOCK: a FIFO planted in blobs/ must not hang us; O_NOFOLLOW: nor a link lead out
                fd = (open_blob(encoded, os.O_NONBLOCK, dir_fd=dfd) if dfd is not None
                      else open_blob(f"{self._blobs_text}/{alg}/{encoded}", os.O_NONBLOCK))
            except OSError as exc:
                raise _open_error(dgst, f"{self._blobs_text}/{alg}/{encoded}", exc) from exc
            try:
                st = os.fstat(fd)
                if not S_ISREG(st.st_mode):
                    raise errors.FailedPrecondition(
                        f"content {dgst}: {not_a_file(self.blobs_root / alg / encoded, st.st_mode)}")
                return fn(HeadReader(fd, st.st_size).read_at, st.st_size)
            finally:
                os.close(fd)

        return self._each_in_blob_dirs(digests, "calculating blob path for ReaderAt", head)

    def _each_in_blob_dirs(self, digests: Iterable[Digest | str], why: str,
                           one: Callable[[Digest, str, str, int | None], T]) -> Iterator[tuple[Digest | str, T | Exception]]:
        """``one(digest, alg, encoded, dir_fd)`` for each digest, ``blobs/<alg>`` opened once per
        algorithm (:meth:`_open_blob_dir`): ``(digest, result or its ContentError/OSError)`` in order."""
        dirs: dict[str, int | errors.ContentError | None] = {}
        try:
            for digest in digests:
                try:
                    dgst = self.digest_arg(digest, why)
                    alg, _, encoded = dgst.partition(":")
                    dfd = dirs.get(alg, False)
                    if dfd is False:
                        dfd = dirs[alg] = self._open_blob_dir(alg)
                    if isinstance(dfd, errors.ContentError):
                        raise dfd
                    result: T | Exception = one(dgst, alg, encoded, dfd)
                except (errors.ContentError, OSError) as exc:  # e.g. EIO while reading: that blob's error
                    result = exc
                yield digest, result
        finally:
            for dfd in dirs.values():
                if isinstance(dfd, int):
                    os.close(dfd)

    def _open_blob_dir(self, alg: str) -> int | errors.ContentError | None:
        """An O_PATH handle on ``blobs/<alg>`` (None: open each blob by its path instead)."""
        try:
            self.check_blob_dirs(alg)
        except errors.ContentError as exc:
            return exc
        o_path = getattr(os, "O_PATH", 0)
        if not o_path:
            return None
        try:
            return os.open(f"{self._blobs_text}/{alg}", o_path | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC)
        except OSError:
            return None  # missing or unreadable: verify by path gives each blob its own error

    def _verify_at(self, dgst: Digest, alg: str, encoded: str, dir_fd: int | None = None) -> bool:
        path = f"{self._blobs_text}/{alg}/{encoded}"
        try:
            # O_NONBLOCK: a FIFO planted in blobs/ must not hang us; O_NOFOLLOW: nor a link lead out
            fd = open_blob(path, os.O_NONBLOCK) if dir_fd is None else open_blob(encoded, os.O_NONBLOCK, dir_fd=dir_fd)
        except OSError as exc:
            raise _open_error(dgst, path, exc) from exc
        try:
            st = os.fstat(fd)
            if not stat.S_ISREG(st.st_mode):
                raise errors.FailedPrecondition(f"content {dgst}: {path} is not a regular file")
            hasher = hashlib.new(alg)
            if st.st_size <= _SMALL_BLOB:
                want = st.st_size + 1  # os.read allocates what it is asked for: ask for what is there
                while True:
                    data = os.read(fd, want)
                    hasher.update(data)
                    if len(data) < want:  # a short read of a regular file is its end
                        break
            else:
                advise_sequential(fd)
                buf = bytearray(4 << 20)
                view = memoryview(buf)
                while n := os.readv(fd, [buf]):
                    hasher.update(view[:n])
        finally:
            os.close(fd)
        return hasher.hexdigest() == encoded

    def usage(self) -> dict:
        return _usage(self)

    def import_file(self, path: os.PathLike | str, *, ref: str | None = None,
                    labels: dict[str, str] | None = None,
                    progress: Callable[[int, int], None] | None = None,
                    cancel: Callable[[], bool] | None = None) -> Info:
        self._check_writable(f"import {os.path.abspath(os.fspath(path))}")
        return importer.import_file(self, path, ref=ref, labels=labels, progress=progress, cancel=cancel)

    def __repr__(self) -> str:
        return f"<LocalStore {str(self.root)!r}{' read-only' if self.read_only else ''}>"


def _check_ref(ref: str) -> None:
    if not ref:
        raise errors.InvalidArgument("ref must not be empty")
    if not isinstance(ref, str):
        raise errors.InvalidArgument(f"ref must be a string, not {type(ref).__name__}")
    try:
        ref_bytes(ref)  # what the ref file and the ingest's name are made of
    except UnicodeEncodeError:
        raise errors.InvalidArgument(f"ref {ref!r} is not text that can be written to disk "
                                     "(it holds a lone UTF-16 surrogate)") from None


def _classify_ingest(path: Path, name: str, is_dir: bool) -> Status | BrokenIngest | None:
    """One entry of ``ingest/``: its Status, why it is broken, or None if it went away meanwhile."""
    if not is_dir:
        return BrokenIngest(path, name, "not a directory (a stray entry in ingest/)")
    try:
        st = read_status(path)
    except errors.ContentError as exc:
        if not os.path.lexists(path):
            return None  # committed or aborted while we listed
        return BrokenIngest(path, name, str(exc))
    except OSError as exc:
        return BrokenIngest(path, name, f"cannot be read: {os_message(exc, 'stat')}")
    if ref_hash(st.ref) != name:
        # Deliberate: containerd lists it, but no Writer/Abort by ref can ever reach this directory.
        return BrokenIngest(path, name, f"its ref file says {st.ref!r}, whose ingest directory has another "
                                        "name; it cannot be resumed or aborted by ref")
    return st


def _remove_entry(path: Path, is_dir: bool) -> None:
    """Delete a directory (``is_dir``: a real one, never a link to one) with its contents, or a file."""
    if is_dir:
        shutil.rmtree(path)
    else:
        os.unlink(path)


def _open_error(dgst: Digest, path, exc: OSError) -> errors.ContentError:
    """What reading a blob raises when its file cannot be opened: NotFound if it is missing."""
    if isinstance(exc, (FileNotFoundError, NotADirectoryError)):
        return errors.NotFound(f"blob {dgst} expected at {path}: blob not found")
    return errors.FailedPrecondition(f"blob {dgst} at {path} cannot be read: {exc.strerror or exc}")


def _info(dgst: Digest, st: os.stat_result, labels: dict | None) -> Info:
    return Info(dgst, st.st_size, Timestamp.from_ns(st.st_mtime_ns), Timestamp.from_ns(st.st_atime_ns),
                labels or {})
