"""Importing a file into a store: resumable, cancellable, with progress.

The default ref is derived from the file's absolute path, size and mtime, so
importing the same unchanged file again resumes the interrupted ingest
instead of starting over.

It works on any :class:`store.api.ContentStore` (only writer, info, update and abort are
used); the store checks that it may write before it calls in here.
"""

from __future__ import annotations

import hashlib
import logging
import os
import stat
from typing import Callable

from . import errors
from .api import ContentStore
from .labels import validate as validate_labels
from .reader import advise_sequential
from .types import Info

log = logging.getLogger(__name__)

CHUNK = 8 << 20  # big writes: fewer syscalls, and the hash runs beside the write (writer.py)


def default_ref(path: str, st: os.stat_result) -> str:
    key = f"{path}\0{st.st_size}\0{st.st_mtime_ns}".encode("utf-8", "surrogateescape")
    name = os.path.basename(path)[:80]
    return f"blobscope-import-{hashlib.sha256(key).hexdigest()[:24]}-{name}"


def import_file(store: ContentStore, path, *, ref: str | None = None, labels: dict[str, str] | None = None,
                progress: Callable[[int, int], None] | None = None,
                cancel: Callable[[], bool] | None = None) -> Info:
    path = os.path.abspath(os.fspath(path))
    labels = dict(labels or {})
    validate_labels(labels)  # fail before reading a byte
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except OSError as exc:
        kind = errors.NotFound if isinstance(exc, FileNotFoundError) else errors.Unknown
        raise kind(f"cannot open {path} for import: {exc.strerror or exc}") from exc
    st = os.fstat(fd)
    if not stat.S_ISREG(st.st_mode):
        os.close(fd)
        raise errors.InvalidArgument(f"{path} is not a regular file; only files can be imported")
    with os.fdopen(fd, "rb", buffering=0) as src:
        size = st.st_size
        ref = ref or default_ref(path, st)
        advise_sequential(fd)
        writer = store.writer(ref, total=size)
        try:
            done = writer.status().offset
            if done > size:
                writer.truncate(0)  # the ingest is longer than the file: it cannot be this file's prefix
                done = 0
            elif done:
                log.info("resuming import of %s at %d of %d bytes", path, done, size)
                src.seek(done)
            if progress:
                progress(done, size)
            buf = bytearray(CHUNK)
            view = memoryview(buf)
            while True:
                if cancel is not None and cancel():
                    raise errors.Cancelled(
                        f"import of {path} was cancelled after {done} of {size} bytes; "
                        f"importing it again resumes ingest {ref!r}")
                try:
                    n = src.readinto(buf)
                except OSError as exc:
                    raise errors.Unknown(f"reading {path} failed after {done} bytes: {exc.strerror or exc}; "
                                         "importing it again resumes") from exc
                if not n:
                    break
                writer.write(view[:n])
                done += n
                if progress:
                    progress(done, size)
        except BaseException:
            writer.close()  # the ingest stays on disk, resumable
            raise
    try:
        dgst = writer.commit(size, labels=labels)
    except errors.FailedPrecondition as exc:
        # The size no longer matches: the file changed while we read it; its partial ingest is useless.
        _abort_quietly(store, ref)
        raise errors.FailedPrecondition(
            f"{path} changed while it was being imported ({exc.message}); nothing was stored, "
            "import it again") from exc
    except errors.AlreadyExists as exc:
        dgst = writer.digest()
        log.info("%s is already in the store as %s (%s)", path, dgst, exc.message)
        info = store.info(dgst)
        if labels:
            info = store.update(Info(dgst, info.size, info.created_at, info.updated_at, labels),
                                *(f"labels.{k}" for k in labels))
        return info
    return store.info(dgst if dgst is not None else writer.digest())


def _abort_quietly(store: ContentStore, ref: str) -> None:
    try:
        store.abort(ref)
    except errors.ContentError as exc:
        log.warning("could not remove the ingest %r of a changed file: %s", ref, exc)
