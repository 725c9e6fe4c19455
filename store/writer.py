"""Writing one ingest and committing it into ``blobs/`` (containerd-store.md §2.5, §2.7, §2.8)."""

from __future__ import annotations

import ctypes
import errno
import hashlib
import logging
import os
import shutil
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Protocol

from . import errors
from . import labels as labelmod
from .digest import Digest
from .ingest import read_status, ref_bytes, write_plain, write_timestamp
from .locks import RefLock
from .timestamps import Timestamp, as_ns
from .types import Status


class WriterHost(Protocol):
    """What a writer needs of the store it writes into (``LocalStore`` is one).

    Named here so that the writer depends on this, not on the store module that opens it.
    """

    ingest_root: Path
    labels: labelmod.LabelStore

    def ingest_dir(self, ref: str) -> Path: ...
    def blob_path(self, digest: Digest | str) -> Path: ...
    def check_blob_dirs(self, algorithm: str) -> None: ...
    @staticmethod
    def digest_arg(value, context: str) -> Digest: ...

log = logging.getLogger(__name__)

RESUME_CHUNK = 1 << 20
# Writes at least this big hash on a helper thread while the bytes go to disk (hashlib drops the GIL).
PARALLEL_HASH_MIN = 1 << 20
_hash_pool = ThreadPoolExecutor(max_workers=max(2, os.cpu_count() or 2), thread_name_prefix="blobscope-hash")


def open_writer(store: WriterHost, ref: str, lock: RefLock, total: int, algorithm: str) -> "Writer":
    """Create or resume ``ingest/<sha256(ref)>`` for ``ref`` (the caller holds ``lock``)."""
    store.ingest_root.mkdir(parents=True, exist_ok=True)
    directory = store.ingest_dir(ref)
    try:
        os.mkdir(directory, 0o755)
        resumed = None
    except FileExistsError:
        if not os.path.isdir(directory) or os.path.islink(directory):
            raise errors.FailedPrecondition(
                f"cannot write ingest {ref!r}: {directory} is a symbolic link or not a directory; Blobscope "
                f"does not follow it. Remove it with 'blobctl abort --broken {directory.name}'") from None
        resumed = _try_resume(directory, ref, total, algorithm)
    if resumed is not None:
        hasher, offset, total, started, updated = resumed
        recreate = False
    else:
        hasher, offset = hashlib.new(algorithm), 0
        started = updated = time.time_ns()
        recreate = True
        _remove_non_files(directory)
        write_plain(directory / "ref", ref_bytes(ref))
        write_timestamp(directory / "startedat", started)
        write_timestamp(directory / "updatedat", updated)
        if total > 0:
            write_plain(directory / "total", str(total).encode())
        else:
            _unlink_quietly(directory / "total")  # a stale total from the unusable ingest would lie
    flags = os.O_WRONLY | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC
    if recreate:
        # Deliberate difference (containerd-store.md §2.5 hazard): containerd keeps the stale tail of an
        # ingest it could not resume; we truncate so a later commit can never store it.
        flags |= os.O_TRUNC
    fd = os.open(directory / "data", flags, 0o666)
    try:
        os.lseek(fd, offset, os.SEEK_SET)
    except OSError:
        os.close(fd)
        raise
    return Writer(store, ref, lock, directory, fd, hasher, offset, max(total, 0), started, updated)


def _hash_file(path: Path, hasher, limit: int | None = None):
    """(hasher, bytes hashed) after feeding it ``path`` from the start, up to ``limit`` bytes if given."""
    buf = bytearray(RESUME_CHUNK)
    view = memoryview(buf)
    done = 0
    with open(path, "rb", buffering=0) as f:
        while limit is None or done < limit:
            n = f.readinto(buf if limit is None or limit - done >= RESUME_CHUNK else view[:limit - done])
            if not n:
                break
            hasher.update(view[:n])
            done += n
    return hasher, done


def _remove_non_files(directory: Path) -> None:
    """Before recreating an ingest: links, FIFOs and the like in its place would be followed or block."""
    for entry in os.scandir(directory):
        if not entry.is_file(follow_symlinks=False):
            log.warning("removing %s from ingest %s: not a regular file", entry.name, directory)
            if entry.is_dir(follow_symlinks=False):
                shutil.rmtree(entry.path)
            else:
                os.unlink(entry.path)


def _try_resume(directory: Path, ref: str, total: int, algorithm: str):
    """(hasher, offset, total, started, updated) of a resumable ingest, or None to recreate it."""
    try:
        status = read_status(directory)
        if status.ref != ref:
            raise ValueError(f"ref key does not match: {status.ref!r} != {ref!r}")
        if total > 0 and status.total > 0 and total != status.total:
            raise ValueError(f"provided total differs from status: {total} != {status.total}")
        hasher, offset = _hash_file(directory / "data", hashlib.new(algorithm))
    except (errors.ContentError, OSError, ValueError) as exc:
        log.info("failed to resume the status from path %s: %s. will recreate them", directory, exc)
        return None
    # The stored total wins: a total passed now is dropped when none was recorded (as containerd).
    return hasher, offset, status.total, as_ns(status.started_at), as_ns(status.updated_at)


class Writer:
    """An open ingest.  Not thread-safe: one thread writes, commits or closes it.

    ``close()`` keeps the ingest on disk (resumable); ``commit()`` moves it into
    ``blobs/`` and always leaves the writer closed, whatever happens.
    """

    def __init__(self, store: WriterHost, ref, lock, directory, fd, hasher, offset, total, started_ns, updated_ns):
        self._store = store
        self.ref = ref
        self._lock = lock
        self.path = directory
        self._fd: int | None = fd
        self._hasher = hasher
        self._offset = offset
        self._total = total
        self._started = started_ns
        self._updated = updated_ns

    # -- writing -----------------------------------------------------------------------------
    def write(self, data) -> int:
        """Append ``data``; returns its length.  Raises on a closed writer or an OS error."""
        fd = self._fd
        if fd is None:
            # containerd returns an OS error here and still counts the bytes in its offset; we do not.
            raise errors.FailedPrecondition(f"cannot write to ingest {self.ref!r}: the writer is closed")
        view = memoryview(data).cast("B")
        pending = _hash_pool.submit(self._hasher.update, view) if len(view) >= PARALLEL_HASH_MIN else None
        done = 0
        try:
            while done < len(view):
                n = os.write(fd, view[done:])
                if n == 0:
                    raise OSError(errno.EIO, "short write")
                done += n
        except OSError as exc:
            if pending is not None:
                pending.result()
                self._rehash(self._offset + done)  # the helper hashed bytes that never reached the file
            else:
                self._hasher.update(view[:done])
            self._offset += done
            self._updated = time.time_ns()
            raise errors.Unknown(
                f"writing to ingest {self.ref!r} failed after {self._offset} bytes: "
                f"{exc.strerror or exc}; the ingest is kept and can be resumed"
            ) from exc
        if pending is not None:
            _start_writeback(fd, self._offset, done)  # the disk works while the hash finishes
            pending.result()
        else:
            self._hasher.update(view)
        self._offset += done
        self._updated = time.time_ns()
        return done

    def _rehash(self, upto: int) -> None:
        self._hasher, _ = _hash_file(self.path / "data", hashlib.new(self._hasher.name), upto)

    def digest(self) -> Digest:
        """Digest of every byte so far (valid at any time, also after commit)."""
        return Digest.from_hasher(self._hasher.copy())

    def status(self) -> Status:
        """In-memory status; never fails."""
        return Status(self.ref, self._offset, self._total, None,
                      Timestamp.from_ns(self._started), Timestamp.from_ns(self._updated))

    @property
    def offset(self) -> int:
        return self._offset

    @property
    def closed(self) -> bool:
        return self._fd is None

    def truncate(self, size: int = 0) -> None:
        """Restart the ingest from nothing; containerd supports only size 0."""
        if size != 0:
            raise errors.Unknown(f"Truncate: unsupported size {size} (only 0 is supported)")
        if self._fd is None:
            raise errors.FailedPrecondition(f"cannot truncate ingest {self.ref!r}: the writer is closed")
        os.lseek(self._fd, 0, os.SEEK_SET)
        os.ftruncate(self._fd, 0)
        self._hasher = hashlib.new(self._hasher.name)
        self._offset = 0
        self._updated = time.time_ns()

    # -- finishing ---------------------------------------------------------------------------
    def close(self) -> None:
        """Flush and keep the ingest; the ref is free again.  Closing twice is fine."""
        fd, self._fd = self._fd, None
        if fd is None:
            return
        try:
            try:
                os.fsync(fd)
            except OSError as exc:
                log.warning("fsync of ingest %r failed: %s", self.ref, exc)
            os.close(fd)
            try:
                write_timestamp(self.path / "updatedat", self._updated)
            except OSError as exc:
                # Not lost (status falls back on data's mtime); on a full disk the caller already has the error.
                log.info("could not persist updatedat of ingest %r: %s", self.ref, exc)
        finally:
            self._lock.release()

    def commit(self, size: int = 0, expected: Digest | str | None = None,
               labels: dict[str, str] | None = None) -> Digest:
        """Move the ingest to ``blobs/<alg>/<hex>`` in containerd's order (containerd-store.md §2.8); returns the digest."""
        try:
            return self._commit(size, expected, labels)
        finally:
            self._lock.release()  # only ever our own hold (containerd's stale-writer quirk is not kept)

    def _commit(self, size, expected, labels) -> Digest:
        labels = dict(labels or {})
        fd, self._fd = self._fd, None
        if fd is None:
            raise errors.FailedPrecondition("cannot commit on closed writer")
        try:
            labelmod.validate(labels)
            if expected:
                expected = self._store.digest_arg(expected, "validating expected digest for commit")
            try:
                os.fsync(fd)
            except OSError as exc:
                raise errors.Unknown(f"sync failed: {exc.strerror or exc}") from exc
            st = os.fstat(fd)
        finally:
            os.close(fd)
        if size > 0 and st.st_size != size:
            raise errors.FailedPrecondition(f"unexpected commit size {st.st_size}, expected {size}")
        dgst = self._final_digest(expected)
        if expected and dgst != expected:
            raise errors.FailedPrecondition(f"unexpected commit digest {dgst}, expected {expected}")

        target = self._store.blob_path(dgst)
        self._store.check_blob_dirs(dgst.algorithm)  # before mkdir, which would follow a linked blobs/
        target.parent.mkdir(mode=0o755, parents=True, exist_ok=True)
        if os.path.lexists(target):
            _remove_ingest(self.path)
            raise errors.AlreadyExists(f"content {dgst}")
        try:
            _rename_noreplace(self.path / "data", target)
        except FileExistsError:
            # Another writer committed the same digest between the check above and the rename.
            _remove_ingest(self.path)
            raise errors.AlreadyExists(f"content {dgst}") from None
        except FileNotFoundError as exc:
            raise errors.Unknown(f"rename {exc.filename} {target}: no such file or directory "
                                 f"(was ingest {self.ref!r} aborted while it was written?)") from exc
        try:
            _fsync_dir(target.parent)  # as containerd 2.2+: the blob survives a power loss
        except OSError as exc:
            raise errors.Unknown(f"sync of {target.parent} after committing {dgst} failed: "
                                 f"{exc.strerror or exc}; the blob may not survive a power loss") from exc

        # From here on nothing fails the commit: the blob is in place (containerd logs only).
        now = time.time_ns()
        _quietly(os.utime, target, ns=(now, now))
        _remove_ingest(self.path)
        # A new blob gets exactly these labels: rows left by a delete that died half-way must not come back.
        if labels:
            _quietly(self._store.labels.set, dgst, labels)
        else:
            _quietly(self._store.labels.delete, dgst)
        _quietly(os.chmod, target, st.st_mode & 0o777 & ~0o333)
        return dgst

    def _final_digest(self, expected: Digest | None) -> Digest:
        if not expected or expected.algorithm == self._hasher.name:
            return self.digest()
        # containerd 2.3+: an expected digest of another algorithm re-hashes the data with it.
        return Digest.from_hasher(_hash_file(self.path / "data", expected.hasher())[0])

    def __enter__(self) -> "Writer":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __del__(self) -> None:
        # A forgotten writer must not keep its ref locked for the life of the process.
        if getattr(self, "_fd", None) is not None:
            log.warning("writer of ref %r was never closed; closing it", self.ref)
            try:
                self.close()
            except Exception:  # noqa: BLE001
                pass

    def __repr__(self) -> str:
        return f"<Writer ref={self.ref!r} offset={self._offset} closed={self.closed}>"


def copy(writer: Writer, source, size: int = 0, expected: Digest | str | None = None,
         *, labels: dict[str, str] | None = None, chunk: int = 1 << 20) -> Digest | None:
    """containerd's ``content.Copy``: resume from the writer's offset, copy the rest, commit.

    ``source`` is a seekable file object (seeked to the offset), an object with
    ``read_at(n, offset)`` (read from the offset), or any readable (the first
    ``offset`` bytes are read and discarded).  AlreadyExists from commit counts as
    success (returns None).
    """
    offset = writer.status().offset
    read_at = getattr(source, "read_at", None)
    pos = offset
    if read_at is None and offset:
        seekable = getattr(source, "seekable", None)
        if seekable is not None and seekable():
            if source.seek(offset) != offset:
                raise errors.Unknown(f"unexpected seek location resuming {writer.ref!r}")
        else:
            left = offset
            while left > 0:
                skipped = source.read(min(chunk, left))
                if not skipped:
                    raise errors.Unknown(f"source ended after {offset - left} bytes; ingest has {offset}")
                left -= len(skipped)
    while True:
        if read_at is not None:
            data = read_at(chunk, pos)
        else:
            data = source.read(chunk)
        if not data:
            break
        writer.write(data)
        pos += len(data)
    try:
        return writer.commit(size, expected, labels=labels)
    except errors.AlreadyExists:
        return None


def _libc_sync_file_range():
    try:
        fn = ctypes.CDLL(None, use_errno=True).sync_file_range
    except (AttributeError, OSError):
        return None
    fn.argtypes = [ctypes.c_int, ctypes.c_longlong, ctypes.c_longlong, ctypes.c_uint]
    return fn


_sync_file_range = _libc_sync_file_range()
_SYNC_FILE_RANGE_WRITE = 2


def _start_writeback(fd: int, offset: int, length: int) -> None:
    """Ask the kernel to start writing a big chunk to disk now, without waiting for it.

    Without this the kernel holds the pages until the commit's fsync, which then writes the
    whole blob while the import waits; started early, the disk works while the next chunk is
    read and hashed, and the fsync finds little left to do.  Measured on a 1 GiB import on
    this project's VM: 1.4-2.1 s without, 1.0-1.2 s with.  Only a hint: the fsync at commit
    is still what makes the blob durable, so a failure here is ignored.
    """
    global _sync_file_range
    if _sync_file_range is not None and _sync_file_range(fd, offset, length, _SYNC_FILE_RANGE_WRITE) != 0:
        if ctypes.get_errno() in (errno.ENOSYS, errno.EINVAL, errno.ESPIPE, errno.EOPNOTSUPP):
            _sync_file_range = None  # not supported here: stop asking


def _libc_renameat2():
    try:
        fn = ctypes.CDLL(None, use_errno=True).renameat2
    except (AttributeError, OSError):
        return None
    fn.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    return fn


_renameat2 = _libc_renameat2()
_AT_FDCWD, _RENAME_NOREPLACE = -100, 1


def _rename_noreplace(src: Path, dst: Path) -> None:
    """rename(2) that raises FileExistsError instead of replacing ``dst``.

    containerd checks for the target and then renames over it, so two writers of the same
    digest can both "win"; renameat2(RENAME_NOREPLACE) makes exactly one commit succeed.
    """
    if _renameat2 is not None:
        if _renameat2(_AT_FDCWD, os.fsencode(src), _AT_FDCWD, os.fsencode(dst), _RENAME_NOREPLACE) == 0:
            return
        err = ctypes.get_errno()
        if err not in (errno.EINVAL, errno.ENOSYS, errno.ENOTSUP):
            raise OSError(err, os.strerror(err), str(src), None, str(dst))
    # No RENAME_NOREPLACE on this system or file system: the check-then-rename of containerd.
    if os.path.lexists(dst):
        raise FileExistsError(errno.EEXIST, os.strerror(errno.EEXIST), str(dst))
    os.rename(src, dst)


def _remove_ingest(path: Path) -> None:
    try:
        shutil.rmtree(path)
    except FileNotFoundError:
        pass
    except OSError as exc:
        log.warning("could not remove ingest directory %s: %s", path, exc)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _unlink_quietly(path: Path) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


def _quietly(fn, *args, **kwargs) -> None:
    try:
        fn(*args, **kwargs)
    except Exception as exc:  # noqa: BLE001 - after the rename the commit has happened
        log.warning("after commit: %s%r failed: %s", getattr(fn, "__name__", fn), args, exc)
