"""Ref locks: one writer per ref, across threads *and* processes.

containerd keeps an in-memory map "ref -> locked since" (containerd-store.md §2.6), which does
not stop a second process.  Blobscope adds an ``flock`` (via ``filelock``) on
``<root>/.blobscope/locks/<sha256(ref)>.lock`` so the GUI and the command line
can never interleave bytes of one ingest (deliberate difference, design.md §4).
The lock files live outside ``ingest/`` because containerd's ListStatuses fails
on any stray entry there.  The kernel drops an ``flock`` when its holder dies,
so a killed writer never leaves a ref locked.
"""

from __future__ import annotations

import logging
import os
import random
import threading
import time
from pathlib import Path

import filelock

from . import errors
from .nolinks import refuse_links
from .timestamps import NS, Timestamp

log = logging.getLogger(__name__)

# containerd 1.x: 10 tries, sleeping a random 0..2^i-1 ms after each failed one.
RETRIES = 10

# Locks held by this process, keyed by lock-file path: path -> locked-since ns.
# Process-wide (like containerd 1.x) so two LocalStore objects on one root exclude each other.
_held: dict[str, int] = {}
_held_guard = threading.Lock()


def go_duration(ns: int) -> str:
    """Go's ``time.Duration.String()``: ``2.366853918s``, ``1m0.5s``, ``350ms``, ``0s``."""
    if ns == 0:
        return "0s"
    sign = "-" if ns < 0 else ""
    u = abs(int(ns))

    def frac(value: int, digits: int) -> str:
        whole, rem = divmod(value, 10 ** digits)
        return f"{whole}.{rem:0{digits}d}".rstrip("0") if rem else str(whole)

    if u < 1000:
        return f"{sign}{u}ns"
    if u < 1_000_000:
        return f"{sign}{frac(u, 3)}µs"
    if u < NS:
        return f"{sign}{frac(u, 6)}ms"
    secs, sub = divmod(u, NS)
    text = frac(secs % 60 * NS + sub, 9) + "s"
    mins = secs // 60
    if mins:
        text = f"{mins % 60}m{text}"
        if mins // 60:
            text = f"{mins // 60}h{text}"
    return sign + text


def go_time(ns: int) -> str:
    """Go's default ``time.Time.String()`` for a UTC time (without the monotonic reading)."""
    ts = Timestamp.from_ns(ns)
    frac = f"{ns % NS:09d}".rstrip("0")
    return ts.strftime("%Y-%m-%d %H:%M:%S") + (f".{frac}" if frac else "") + " +0000 UTC"


def locked_message(ref: str, since_ns: int | None) -> str:
    if since_ns is None:
        return f"ref {ref} locked by another process (since unknown)"
    return f"ref {ref} locked for {go_duration(time.time_ns() - since_ns)} (since {go_time(since_ns)})"


class RefLock:
    """A held ref lock; ``release()`` is idempotent and only ever frees this holder's lock."""

    def __init__(self, ref: str, key: str, flock: filelock.BaseFileLock, since_ns: int):
        self.ref = ref
        self.since_ns = since_ns
        self._key = key
        self._flock = flock
        self._released = False

    @property
    def released(self) -> bool:
        return self._released

    def release(self) -> None:
        with _held_guard:
            if self._released:
                return
            self._released = True
            if _held.get(self._key) == self.since_ns:
                del _held[self._key]
            try:
                self._flock.release()
            except Exception:  # noqa: BLE001 - the fd is closed either way; never mask the caller's error
                log.exception("releasing the lock of ref %r failed", self.ref)


class RefLocks:
    """The ref locks of one store root."""

    def __init__(self, lock_dir: Path):
        self.lock_dir = Path(lock_dir)

    def path(self, ref_hash: str) -> Path:
        return self.lock_dir / f"{ref_hash}.lock"

    def try_lock(self, ref: str, ref_hash: str) -> RefLock:
        """One attempt; ``Unavailable`` with containerd's message if another writer holds ``ref``."""
        path = self.path(ref_hash)
        key = str(path)
        with _held_guard:
            if key in _held:
                raise errors.Unavailable(locked_message(ref, _held[key]))
            # Lock files are created and truncated: a link must not take that outside the store.
            so = "it cannot lock refs for writing. Remove the link (Blobscope recreates what it needs)"
            refuse_links(self.lock_dir.parent, so=so)  # before mkdir, which would follow it
            self.lock_dir.mkdir(parents=True, exist_ok=True)
            refuse_links(self.lock_dir, path, so=so)
            # thread_local=False: a writer opened on a worker thread may be closed on another one.
            flock = filelock.FileLock(key, timeout=0, thread_local=False)
            try:
                flock.acquire()
            except filelock.Timeout:
                raise errors.Unavailable(locked_message(ref, _read_since(path))) from None
            since = time.time_ns()
            _held[key] = since
        _write_since(path, since)
        return RefLock(ref, key, flock, since)

    def lock(self, ref: str, ref_hash: str) -> RefLock:
        """containerd 1.x's bounded retries: 10 tries with random 0..2^i-1 ms sleeps, then ``Unavailable``."""
        for i in range(RETRIES):
            try:
                return self.try_lock(ref, ref_hash)
            except errors.Unavailable as exc:
                last = exc
                time.sleep(random.randrange(2 ** i) / 1000)
        raise last


def _write_since(path: Path, since_ns: int) -> None:
    # The holder records when it locked, so another process can say "locked for ... (since ...)".
    try:
        fd = os.open(path, os.O_WRONLY | os.O_NOFOLLOW)
        try:
            os.ftruncate(fd, 0)
            os.write(fd, f"{since_ns} {os.getpid()}\n".encode())
        finally:
            os.close(fd)
    except OSError as exc:
        log.debug("could not record lock time in %s: %s", path, exc)


def _read_since(path: Path) -> int | None:
    try:
        return int(path.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None
