"""Handing memory freed by a big pass (a million-blob listing, media types, the image graph) back
to the system.

glibc's malloc raises its mmap threshold after large blocks are freed, so the next big tables
(a dict of a million entries is tens of MB) come from the heap, and the heap is only shrunk from
its top: after a pass that built and dropped several of them, hundreds of MB stay in the
process, free but counted in its RSS.  ``malloc_trim`` gives every free page back.  Elsewhere
(musl, macOS, Windows) this is a no-op.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import sys

log = logging.getLogger(__name__)

_trim = None
if sys.platform.startswith("linux"):
    try:
        _trim = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").malloc_trim
        _trim.argtypes = [ctypes.c_size_t]
        _trim.restype = ctypes.c_int
    except (OSError, AttributeError):  # not glibc
        _trim = None


def release_freed_memory() -> bool:
    """Give the heap's free pages back to the system; True when that was possible."""
    if _trim is None:
        return False
    return bool(_trim(0))
