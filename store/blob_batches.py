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

import logging
import os
import stat
from array import array
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from . import errors
from .digest import ALGORITHMS, Digest
from .gcpause import paused_gc
from .types import WalkInfo

_HEX_DIGITS = "0123456789abcdef"

log = logging.getLogger(__name__)


@dataclass
class BlobBatch:
    """Blobs of one ``blobs/<alg>`` directory: row ``i`` is ``alg:names[i]``."""

    alg: str
    names: list[str] = field(default_factory=list)
    sizes: array = field(default_factory=lambda: array("q"))
    created_ns: array = field(default_factory=lambda: array("q"))   # mtime, as containerd's Info.CreatedAt
    updated_ns: array = field(default_factory=lambda: array("q"))   # atime, as containerd's Info.UpdatedAt
    labels: dict[int, dict[str, str]] = field(default_factory=dict)  # row -> labels (a copy), labelled rows only

    def __len__(self) -> int:
        return len(self.names)

    def __iter__(self) -> Iterator[WalkInfo]:
        """The batch's blobs as ``walk`` gives them (one record each: for callers that want them)."""
        prefix, labels = self.alg + ":", self.labels
        for i, name in enumerate(self.names):
            yield WalkInfo.make(Digest(prefix + name), self.sizes[i], self.created_ns[i], self.updated_ns[i],
                                dict(labels.get(i, {})))

    def digests(self) -> list[str]:
        prefix = self.alg + ":"
        return [prefix + n for n in self.names]


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
    S_ISREG = stat.S_ISREG
    limit = first
    with os.scandir(dir_fd) as it:
        while True:
            names: list[str] = []
            stats: list[os.stat_result] = []
            with paused_gc():  # a stat result per blob: no cyclic collection while they pile up
                for entry in it:
                    name = entry.name
                    if len(name) != hex_len or name.strip(_HEX_DIGITS):
                        continue
                    try:
                        st = entry.stat(follow_symlinks=False)  # fstatat on the directory's fd
                    except FileNotFoundError:
                        continue  # deleted while we list
                    if not S_ISREG(st.st_mode):
                        continue
                    names.append(name)
                    stats.append(st)
                    if len(names) >= limit:
                        break
            if not names:
                return
            batch = BlobBatch(alg, names,
                              array("q", [st.st_size for st in stats]),
                              array("q", [st.st_mtime_ns for st in stats]),
                              array("q", [st.st_atime_ns for st in stats]))
            if labelled:
                get = labelled.get
                batch.labels = {i: dict(lab) for i, n in enumerate(names) if (lab := get(n))}
            yield batch
            if len(names) < limit:
                return
            limit = size
