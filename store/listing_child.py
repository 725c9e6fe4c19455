"""A local store's blobs listed by a child process, sent back as packed batches of columns.

The GUI lists a million blobs while its window stays live; listed on a thread of the GUI's own
process, the listing and the GUI thread share one GIL, and the listing took twice the bare
``scandir`` + ``stat`` floor.  ``store/blob_batches.py`` (``ChildListing``) runs this file as
``python -I -S listing_child.py BLOBS_ROOT FIRST SIZE ALG:HEXLEN...`` and reads its stdout.
Only the standard library is imported, so the interpreter is up in a few tens of milliseconds.

Input (stdin, read whole before the listing): the labelled blobs, one ``alg:hex`` a line; a
batch names which of its rows are labelled (the parent holds the labels themselves).

Output (stdout): frames of one kind byte, an 8-byte little-endian length and the payload:

* ``B`` a batch: ``<16sII`` (algorithm, rows m, labelled rows l), the m digests as raw bytes,
  then sizes, mtimes and atimes (``array('q')``, native order: the same machine reads them) and
  the l labelled row numbers (``array('q')``);
* ``W`` a warning for the log (an algorithm directory that cannot be read: its blobs are not
  listed, as ``walk`` does), UTF-8;
* ``E`` the error that ended the listing, UTF-8 (the parent raises it as ``errors.Unknown``);
* ``D`` done: every blob was sent.  Output that stops without ``D`` is a failed child.

:func:`entries` is the one rule of what a blob is, shared with the in-process listing.

After the first batch the names left in the directory are listed (no stat) and stat'ed ``size``
at a time by :func:`rest_columns`; in a big directory a forked child (store/forked_stat.py) stats
the later half meanwhile, so the listing uses two cores.  Batches then hold the blobs among
``size`` names (fewer rows where there are strays); what is a blob does not change.
"""

from __future__ import annotations

import gc
import os
import signal
import stat
import struct
import sys
from array import array
from collections.abc import Generator
from types import ModuleType

HEX_DIGITS = "0123456789abcdef"
FRAME_FORMAT = "<cQ"    # kind, payload length
BATCH_FORMAT = "<16sII"  # algorithm, rows, labelled rows
FRAME = struct.Struct(FRAME_FORMAT)
BATCH = struct.Struct(BATCH_FORMAT)
CHILD_SHARE = 0.5  # of a big directory's later names stat'ed by a forked child (this process packs the batches)


def entries(it, hex_len: int, limit: int) -> tuple[list[str], list[os.stat_result]]:
    """Up to ``limit`` blobs from the ``os.scandir`` iterator ``it``: their names and ``lstat``.

    A blob is a regular file whose name is ``hex_len`` lower-case hex digits (links are never
    followed); anything else is skipped, as is a file deleted while it is listed.
    """
    names: list[str] = []
    stats: list[os.stat_result] = []
    S_ISREG = stat.S_ISREG
    for entry in it:
        name = entry.name
        if len(name) != hex_len or name.strip(HEX_DIGITS):
            continue
        try:
            st = entry.stat(follow_symlinks=False)  # fstatat on the directory's fd
        except FileNotFoundError:
            continue
        if not S_ISREG(st.st_mode):
            continue
        names.append(name)
        stats.append(st)
        if len(names) >= limit:
            break
    return names, stats


def rest_columns(dir_fd: int, names: list[str], hex_len: int, size: int,
                 fs: ModuleType) -> Generator[tuple[list[str], array, array, array], None, None]:
    """The blobs among ``names`` (of the directory open as ``dir_fd``), ``size`` names at a time,
    as columns: (names, sizes, mtimes, atimes); batches with no blob are left out.

    ``fs`` is store/forked_stat.py.  Where this process may fork (one thread) and the directory is
    big, a child stats the later ``CHILD_SHARE`` of the names while this process stats the first;
    otherwise, or once the child stops, this process stats them.  The rule is :func:`entries`'s: a
    name that is not hex of ``hex_len`` is skipped, so is a file deleted meanwhile, and a stat that
    fails otherwise is done again here, so its error is raised here.
    """
    n = len(names)
    split = int(n * (1 - CHILD_SHARE)) // size * size  # the child's chunks fall on batch boundaries
    forked = fs.start(dir_fd, names[split:], hex_len, size) if split < n else None
    try:
        for start in range(0, n, size):
            part = names[start:start + size]
            cols = None
            if forked is not None and start >= split:
                cols = forked.chunk(start - split, start - split + size)
                if cols is None:  # the child stopped: the rest is stat'ed here
                    forked.close()
                    forked = None
            if cols is None:
                cols = fs.stat_columns(dir_fd, part, hex_len)
            got = _blobs_of(dir_fd, part, cols, fs)
            if got[0]:
                yield got
    finally:
        if forked is not None:
            forked.close()


def _blobs_of(dir_fd: int, names: list[str], cols, fs: ModuleType) -> tuple[list[str], array, array, array]:
    """The regular files among ``names`` by their kinds in ``cols`` (a forked_stat.StatColumns)."""
    kinds = cols.kinds
    if kinds.count(fs.REGULAR) == len(names):  # the usual chunk: blobs only
        return names, cols.sizes, cols.mtimes, cols.atimes
    keep, sizes, mtimes, atimes = [], array("q"), array("q"), array("q")
    for i, name in enumerate(names):
        kind = kinds[i]
        if kind == fs.REGULAR:
            size, mtime, atime = cols.sizes[i], cols.mtimes[i], cols.atimes[i]
        elif kind == fs.ERROR:  # again here: an error it raises is the listing's error
            try:
                st = os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
            except FileNotFoundError:
                continue
            if not stat.S_ISREG(st.st_mode):
                continue
            size, mtime, atime = st.st_size, st.st_mtime_ns, st.st_atime_ns
        else:  # gone, a link, not a regular file, not a blob's name
            continue
        keep.append(name)
        sizes.append(size)
        mtimes.append(mtime)
        atimes.append(atime)
    return keep, sizes, mtimes, atimes


def load_forked_stat() -> ModuleType:
    """store/forked_stat.py, beside this file (this script runs with ``-I``: its folder is not on the path)."""
    import importlib.util
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "forked_stat.py")
    spec = importlib.util.spec_from_file_location("forked_stat", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["forked_stat"] = module  # its dataclass looks its module up by name
    spec.loader.exec_module(module)
    return module


class _Ended(Exception):
    """The listing cannot go on: the message goes to the parent as an ``E`` frame."""


def _frame(out, kind: bytes, payload: bytes = b"") -> None:
    out.write(FRAME.pack(kind, len(payload)))
    out.write(payload)


def _list(out, blobs_root: str, first: int, size: int, hex_lens: dict[str, int],
          labelled: dict[str, set[str]]) -> None:
    """Send every blob's batch, or an ``E`` frame; the caller adds ``D`` unless an error was sent."""
    if os.path.islink(blobs_root):
        return
    try:
        algs = sorted(e.name for e in os.scandir(blobs_root) if e.name in hex_lens and e.is_dir(follow_symlinks=False))
    except FileNotFoundError:
        return
    except OSError as exc:
        raise _Ended(f"cannot list {blobs_root}: {exc.strerror or exc}") from None
    for alg in algs:
        path = os.path.join(blobs_root, alg)
        try:
            dir_fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
        except (FileNotFoundError, NotADirectoryError):
            continue
        except OSError as exc:
            reason = (exc.strerror or str(exc)).lower()
            _frame(out, b"W", f"{path} cannot be read ({reason}); the blobs in it are not listed".encode())
            continue
        wanted = labelled.get(alg, set())
        tag = alg.encode()
        try:
            with os.scandir(dir_fd) as it:
                names, stats = entries(it, hex_lens[alg], first)
                if names:
                    _batch(out, tag, names, array("q", [st.st_size for st in stats]),
                           array("q", [st.st_mtime_ns for st in stats]),
                           array("q", [st.st_atime_ns for st in stats]), wanted)
                if len(names) < first:
                    continue
                out.flush()  # the first rows go now; the rest of the names are listed next
                rest = [e.name for e in it]
            if rest:
                fs = load_forked_stat()
                for names, sizes, mtimes, atimes in rest_columns(dir_fd, rest, hex_lens[alg], size, fs):
                    _batch(out, tag, names, sizes, mtimes, atimes, wanted)
        finally:
            os.close(dir_fd)


def _batch(out, tag: bytes, names: list[str], sizes: array, mtimes: array, atimes: array,
           wanted: set[str]) -> None:
    marked = array("q", [i for i, n in enumerate(names) if n in wanted] if wanted else [])
    _frame(out, b"B", b"".join([BATCH.pack(tag, len(names), len(marked)), bytes.fromhex("".join(names)),
                                sizes.tobytes(), mtimes.tobytes(), atimes.tobytes(), marked.tobytes()]))


def main(argv: list[str]) -> int:
    gc.disable()  # a short life: nothing here makes cycles
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl+C in the GUI's terminal is the GUI's to handle; it stops us
    blobs_root, first, size = argv[0], int(argv[1]), int(argv[2])
    hex_lens = {alg: int(n) for alg, n in (a.split(":") for a in argv[3:])}
    labelled: dict[str, set[str]] = {}
    for line in sys.stdin.buffer.read().decode().split():
        alg, _, name = line.partition(":")
        labelled.setdefault(alg, set()).add(name)
    out = sys.stdout.buffer
    try:
        _list(out, blobs_root, first, size, hex_lens, labelled)
    except BrokenPipeError:
        return 0  # the parent stopped reading (a newer scan): nothing to say
    except (_Ended, OSError) as exc:
        _frame(out, b"E", (str(exc) or type(exc).__name__).encode())
        out.flush()
        return 0
    _frame(out, b"D")
    out.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
