"""How sizes, times and ages read in the GUI (humanize, local time)."""

from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone

import humanize

_ZERO_NS = -62135596800 * 1_000_000_000  # Go's zero time


def size(n: int) -> str:
    """Binary units like ``du -h`` (1.5 MiB), exact bytes below 1 KiB."""
    return humanize.naturalsize(n, binary=True)


def exact_size(n: int) -> str:
    return f"{n:,} B"


def local_time(ns: int) -> str:
    if ns <= _ZERO_NS or ns == 0:
        return "—"
    dt = datetime.fromtimestamp(ns / 1e9, tz=timezone.utc).astimezone()
    return dt.strftime("%Y-%m-%d %H:%M:%S")


def ago(ns: int, now_ns: int | None = None) -> str:
    """"3 minutes ago" (humanize, in the active humanize locale)."""
    if ns <= _ZERO_NS or ns == 0:
        return "—"
    now_ns = time.time_ns() if now_ns is None else now_ns
    delta = timedelta(microseconds=max(0, now_ns - ns) / 1000)
    return humanize.naturaltime(delta)


def short_digest(digest) -> str:
    """The first 12 hex characters of a digest, as ``docker``/``ctr`` show them."""
    return str(digest).split(":", 1)[-1][:12]


def speed(bytes_per_s: float) -> str:
    return humanize.naturalsize(bytes_per_s, binary=True) + "/s"
