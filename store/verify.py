"""Re-hashing many blobs at once, for ``blobctl verify`` and the GUI's Verify action.

Big blobs are hashed on a thread pool (hashlib releases the GIL, so they really run in
parallel).  Small blobs are checked one after another on the calling thread: for them the
work is a few system calls and Python, and threads only fight over the GIL (measured on
100k x 512 B: two threads took 3x longer than one).
"""

from __future__ import annotations

import os
import threading
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from dataclasses import dataclass
from typing import Callable, Iterable

from . import errors

BIG_BLOB = 1 << 20


@dataclass
class VerifyResult:
    digest: str  # a Digest when one was given
    size: int | None
    ok: bool = False          # True: the bytes hash to the name
    error: BaseException | None = None  # set when the blob could not be read (NotFound, ...)


def verify_many(store, items: Iterable[tuple[str, int | None]], *, jobs: int | None = None,
                progress: Callable[[int, int], None] | None = None,
                cancel: Callable[[], bool] | None = None) -> list[VerifyResult]:
    """Verify ``(digest, size)`` pairs (size None = unknown, treated as big).

    Returns results in the order given; after a cancel only the blobs checked so far.
    ``progress(done, total)`` is called on the calling thread.
    """
    results = [VerifyResult(d, size) for d, size in items]  # a Digest stays one: no re-validation
    total = len(results)
    jobs = jobs or min(32, os.cpu_count() or 1)
    cancelled = cancel or (lambda: False)
    done = 0
    lock = threading.Lock()

    def check(r: VerifyResult) -> None:
        nonlocal done
        try:
            if r.size is None and hasattr(store, "info"):
                r.size = store.info(r.digest).size
            r.ok = bool(store.verify(r.digest))
        except (errors.ContentError, OSError) as exc:
            r.error = exc
        with lock:
            done += 1

    def big_task(r: VerifyResult) -> VerifyResult | None:
        if cancelled():
            return None
        check(r)
        return r

    big = [r for r in results if r.size is None or r.size >= BIG_BLOB]
    small = [r for r in results if r.size is not None and r.size < BIG_BLOB]
    checked: set[int] = set()
    with ThreadPoolExecutor(max_workers=jobs, thread_name_prefix="blobscope-verify") as pool:
        pending = {pool.submit(big_task, r) for r in big}
        try:
            for n, r in enumerate(small):
                if cancelled():
                    break
                check(r)
                checked.add(id(r))
                if progress is not None and n % 256 == 0:
                    progress(done, total)
            while pending:
                finished, pending = wait(pending, timeout=0.2, return_when=FIRST_COMPLETED)
                checked.update(id(r) for r in (f.result() for f in finished) if r is not None)
                if progress is not None:
                    progress(done, total)
                if cancelled():
                    for f in pending:
                        f.cancel()
                    break
        except BaseException:
            for f in pending:
                f.cancel()  # Ctrl-C stops now, not after every queued blob
            raise
    if progress is not None:
        progress(done, total)
    return [r for r in results if id(r) in checked]
