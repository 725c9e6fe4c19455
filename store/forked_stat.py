"""The lstat of many names of one directory as packed columns, a share of them in a forked child.

Listing a store is one ``fstatat`` per blob: at 100k blobs about 0.2 s of kernel time on one
core, the larger part of a walk.  A process with a single thread (a command line, the GUI's
listing child) may fork safely: the child stats its share of the names relative to the same
directory descriptor and writes what it found as packed columns into an anonymous shared
mapping made before the fork, while the parent stats the other share.  Nothing is pickled or
sent through a pipe; the child leaves with ``os._exit``.

Per name the child records a kind: ``REGULAR`` (the columns hold its size, mtime and atime),
``GONE`` (deleted meanwhile), ``LINK``, ``OTHER`` (not a regular file), ``BAD_NAME`` (not
lower-case hex of the algorithm's length: never stat'ed) or ``ERROR`` (the stat failed in some
other way: the caller stats that name again itself, so whatever it raises is raised where a
walk in one process raises it).  Links are never followed.

``start`` returns None, and the caller stats every name itself, when forking is not safe
(another thread exists: ``/proc/self/task`` lists more than one), not worth it (``FORK_MIN``)
or fails; ``result()`` returns None when the child did not finish (killed, out of memory).
"""

from __future__ import annotations

import gc
import logging
import mmap
import os
import stat
from array import array
from dataclasses import dataclass

log = logging.getLogger(__name__)

REGULAR, GONE, LINK, OTHER, BAD_NAME, ERROR = range(6)
FORK_MIN = 20_000  # names below which a fork (a few ms, and the parent's pages shared) is not worth it
_HEX_DIGITS = "0123456789abcdef"


@dataclass
class StatColumns:
    """Row ``i`` describes ``names[i]``: ``kinds[i]``, and for a ``REGULAR`` one its values."""

    kinds: bytes
    sizes: array     # "q": st_size
    mtimes: array    # "q": st_mtime_ns (containerd's CreatedAt)
    atimes: array    # "q": st_atime_ns (containerd's UpdatedAt)


def stat_columns(dir_fd: int, names: list[str], hex_len: int) -> StatColumns:
    """The kinds and values of ``names`` in the directory open as ``dir_fd``, in this process."""
    lstat_at, S_ISREG, S_ISLNK = os.stat, stat.S_ISREG, stat.S_ISLNK
    kinds = bytearray(len(names))
    sizes, mtimes, atimes = [0] * len(names), [0] * len(names), [0] * len(names)
    for i, name in enumerate(names):
        if len(name) != hex_len or name.strip(_HEX_DIGITS):
            kinds[i] = BAD_NAME
            continue
        try:
            st = lstat_at(name, dir_fd=dir_fd, follow_symlinks=False)
        except FileNotFoundError:
            kinds[i] = GONE
            continue
        except OSError:
            kinds[i] = ERROR
            continue
        mode = st.st_mode
        if S_ISREG(mode):
            sizes[i], mtimes[i], atimes[i] = st.st_size, st.st_mtime_ns, st.st_atime_ns
        else:
            kinds[i] = LINK if S_ISLNK(mode) else OTHER
    return StatColumns(bytes(kinds), array("q", sizes), array("q", mtimes), array("q", atimes))


def single_threaded() -> bool:
    """True if this process runs one thread only (any thread: Python's, Qt's, a library's)."""
    try:
        return len(os.listdir("/proc/self/task")) == 1
    except OSError:  # no /proc: we cannot tell, so we do not fork
        return False


class ForkedStat:
    """A child process stat'ing ``names``; ``result()`` waits for it, ``close()`` ends it early."""

    def __init__(self, dir_fd: int, names: list[str], hex_len: int):
        n = len(names)
        self._n = n
        self._kinds_at = 8
        self._values_at = 8 + (n + 7) // 8 * 8
        self._map = mmap.mmap(-1, self._values_at + 3 * 8 * n or 1)  # MAP_SHARED | MAP_ANONYMOUS
        self.pid: int | None = None
        pid = os.fork()
        if pid == 0:  # the child: one thread, a copy of the parent; never returns
            code = 1
            try:
                gc.disable()  # a collection would touch (copy) every page of the parent's objects
                self._fill(stat_columns(dir_fd, names, hex_len))
                code = 0
            finally:
                os._exit(code)
        self.pid = pid

    def _fill(self, cols: StatColumns) -> None:
        m, n = self._map, self._n
        m[self._kinds_at:self._kinds_at + n] = cols.kinds
        at = self._values_at
        for column in (cols.sizes, cols.mtimes, cols.atimes):
            m[at:at + 8 * n] = column.tobytes()
            at += 8 * n
        m[0] = 1  # complete

    def result(self) -> StatColumns | None:
        """The child's columns once it has exited; None if it did not finish its work."""
        if self.pid is None:
            return None
        pid, self.pid = self.pid, None
        try:
            _, status = os.waitpid(pid, 0)
            finished = os.waitstatus_to_exitcode(status) == 0
        except ChildProcessError:  # reaped by someone else (a SIGCHLD handler): its mark says
            finished = True
        m, n = self._map, self._n
        try:
            if not finished or m[0] != 1:
                log.debug("the stat child %d did not finish; its names are stat'ed here", pid)
                return None
            at = self._values_at
            values = []
            for _ in range(3):
                column = array("q")
                column.frombytes(m[at:at + 8 * n])
                values.append(column)
                at += 8 * n
            return StatColumns(m[self._kinds_at:self._kinds_at + n], *values)
        finally:
            m.close()

    def close(self) -> None:
        """End the child if its result was not taken (the walk was abandoned)."""
        if self.pid is not None:
            pid, self.pid = self.pid, None
            try:
                os.kill(pid, 9)
                os.waitpid(pid, 0)
            except (ProcessLookupError, ChildProcessError):
                pass
        if not self._map.closed:
            self._map.close()


def start(dir_fd: int, names: list[str], hex_len: int) -> ForkedStat | None:
    """A child stat'ing ``names``, or None (the caller stats them) where a fork is unsafe or fails."""
    if len(names) < FORK_MIN or not hasattr(os, "fork") or not single_threaded():
        return None
    try:
        return ForkedStat(dir_fd, names, hex_len)
    except OSError as e:  # EAGAIN (process limit), ENOMEM: this process does it all
        log.debug("no stat child (%s); stat'ing here", e)
        return None
