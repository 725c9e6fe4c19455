"""The lstat of many names of one directory as packed columns, a share of them in a forked child.

Listing a store is one ``fstatat`` per blob: at 100k blobs about 0.2 s of kernel time on one
core, the larger part of a walk.  A process with a single thread (a command line, the GUI's
listing child) may fork safely: the child stats its share of the names relative to the same
directory descriptor and writes what it found, a chunk at a time, as packed columns into an
anonymous shared mapping made before the fork (one byte on a pipe says a chunk is there), while
the parent stats the other share and then takes the child's chunks as they come.  Nothing is
pickled; the child leaves with ``os._exit``.

Per name the child records a kind: ``REGULAR`` (the columns hold its size, mtime and atime),
``GONE`` (deleted meanwhile), ``LINK``, ``OTHER`` (not a regular file), ``BAD_NAME`` (not
lower-case hex of the algorithm's length: never stat'ed) or ``ERROR`` (the stat failed in some
other way: the caller stats that name again itself, so whatever it raises is raised where a
walk in one process raises it).  Links are never followed.

``start`` returns None, and the caller stats every name itself, when forking is not safe
(another thread exists: ``/proc/self/task`` lists more than one), not worth it (``FORK_MIN``)
or fails; ``chunk()`` returns None when the child stopped before that chunk (killed, out of
memory): the caller stats the rest itself.
"""

from __future__ import annotations

import gc
import logging
import mmap
import os
import stat
import struct
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
    """A child process stat'ing ``names`` chunk by chunk; ``chunk(start, stop)`` takes one.

    The child writes each chunk's columns into the shared mapping, then one byte into a pipe;
    the reader takes a chunk as soon as it is written (the reader turns early chunks into records
    while the child stats later ones).  When the chunk the reader needs is not there yet (the
    child has no core: a busy machine), the reader stats the last chunk not yet claimed itself
    and lowers the child's limit (the first 8 bytes of the mapping) so the child stops there:
    the reader never waits for a child that is not running, and at worst both stat one chunk.
    End of file on the pipe with the child killed (out of memory, a signal) before a chunk it
    owed means ``chunk`` returns None.
    """

    _HEADER = 8  # the child's limit (rows it may stat), written by the reader only

    def __init__(self, dir_fd: int, names: list[str], hex_len: int, chunk: int):
        n = len(names)
        self._dir_fd, self._names, self._hex_len = dir_fd, names, hex_len
        self._n, self._chunk, self._published, self._limit = n, chunk, 0, n
        self._stolen: dict[int, StatColumns] = {}  # chunks this process stat'ed itself, by first row
        self._values_at = self._HEADER + (n + 7) // 8 * 8  # kinds, then sizes, mtimes, atimes
        self._map = mmap.mmap(-1, self._values_at + 3 * 8 * n)  # MAP_SHARED | MAP_ANONYMOUS
        struct.pack_into("q", self._map, 0, n)
        self._ready_r: int | None = None
        self.pid: int | None = None
        ready_r, ready_w = os.pipe()
        try:
            pid = os.fork()
        except BaseException:
            os.close(ready_r)
            os.close(ready_w)
            self._map.close()
            raise
        if pid == 0:  # the child: one thread, a copy of the parent; never returns
            code = 1
            try:
                os.close(ready_r)
                gc.disable()  # a collection would touch (copy) every page of the parent's objects
                limit = self._map
                for start in range(0, n, chunk):
                    if start >= struct.unpack_from("q", limit, 0)[0]:
                        break  # the rest is the reader's
                    self._publish(start, stat_columns(dir_fd, names[start:start + chunk], hex_len))
                    os.write(ready_w, b"\1")
                code = 0
            finally:
                os._exit(code)
        os.close(ready_w)
        os.set_blocking(ready_r, False)
        self._ready_r, self.pid = ready_r, pid

    def _publish(self, start: int, cols: StatColumns) -> None:
        m, n, k = self._map, self._n, len(cols.kinds)
        m[self._HEADER + start:self._HEADER + start + k] = cols.kinds
        at = self._values_at + 8 * start
        for column in (cols.sizes, cols.mtimes, cols.atimes):
            m[at:at + 8 * k] = column.tobytes()
            at += 8 * n

    def _drain(self) -> bool:
        """Count the chunks the child has written; False once it has closed its end."""
        while self._ready_r is not None:
            try:
                marks = os.read(self._ready_r, 4096)
            except BlockingIOError:
                return True
            if not marks:
                return False
            self._published = min(self._n, self._published + len(marks) * self._chunk)
        return False

    def _steal(self, start: int) -> StatColumns:
        """Stat the chunk at ``start`` here, and keep the child below it from now on."""
        self._limit = min(self._limit, start)
        struct.pack_into("q", self._map, 0, self._limit)
        return stat_columns(self._dir_fd, self._names[start:start + self._chunk], self._hex_len)

    def chunk(self, start: int, stop: int) -> StatColumns | None:
        """Rows ``start:stop`` (one chunk, asked in order), from the child or stat'ed here."""
        stop = min(stop, self._n)
        if start in self._stolen:
            return self._stolen.pop(start)
        while self._published < stop:
            running = self._drain()
            if self._published >= stop:
                break
            if not running and not self._ended_well():
                log.debug("the stat child stopped after %d of %d names; the rest are stat'ed here",
                          self._published, self._n)
                return None
            last = (min(self._limit, self._n) - 1) // self._chunk * self._chunk
            if running and last > start:  # the child is on its way: take the last chunk left to it
                self._stolen[last] = self._steal(last)
            else:  # the child is done, or this is the only chunk left to it: stat it here
                return self._steal(start)
        m, n, k = self._map, self._n, stop - start
        values = []
        at = self._values_at + 8 * start
        for _ in range(3):
            column = array("q")
            column.frombytes(m[at:at + 8 * k])
            values.append(column)
            at += 8 * n
        return StatColumns(m[self._HEADER + start:self._HEADER + stop], *values)

    def _ended_well(self) -> bool:
        """Reap the child that closed its pipe: True if it left on its own (at its limit)."""
        if self._ready_r is not None:
            os.close(self._ready_r)
            self._ready_r = None
        if self.pid is None:
            return True
        pid, self.pid = self.pid, None
        try:
            return os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) == 0
        except ChildProcessError:  # reaped by someone else (a SIGCHLD handler)
            return False

    def close(self) -> None:
        """End and reap the child (its work is no longer wanted, or all of it was taken)."""
        if self._ready_r is not None:
            os.close(self._ready_r)
            self._ready_r = None
        if self.pid is not None:
            pid, self.pid = self.pid, None
            try:
                os.kill(pid, 9)
                os.waitpid(pid, 0)
            except (ProcessLookupError, ChildProcessError):
                pass
        if not self._map.closed:
            self._map.close()


def start(dir_fd: int, names: list[str], hex_len: int, chunk: int) -> ForkedStat | None:
    """A child stat'ing ``names`` ``chunk`` at a time, or None (the caller stats them) where a fork
    is unsafe or fails."""
    if len(names) < FORK_MIN or not hasattr(os, "fork") or not single_threaded():
        return None
    try:
        return ForkedStat(dir_fd, names, hex_len, chunk)
    except OSError as e:  # EAGAIN (process limit), ENOMEM: this process does it all
        log.debug("no stat child (%s); stat'ing here", e)
        return None
