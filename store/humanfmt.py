"""How sizes, ages, labels and times read for a person (``blobctl`` tables; the GUI may reuse them).

Sizes and ages come from ``humanize``; times for machines are RFC 3339 UTC with
nanoseconds, the form containerd writes.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime, timezone
from typing import Mapping

import humanize

from .timestamps import Timestamp


def size(n: int) -> str:
    """Decimal SI with up to 4 significant digits, as ``ctr`` shows sizes: ``1.049 MB``."""
    return humanize.naturalsize(n, format="%.4g")


def age(when: datetime, now: datetime | None = None) -> str:
    """How long ago ``when`` was: ``a moment``, ``2 seconds``, ``20 minutes``, ``3 days``."""
    now = now or datetime.now(timezone.utc)
    return humanize.naturaldelta(now - when)


def count(n: int) -> str:
    return humanize.intcomma(n)


def rfc3339(when: datetime) -> str:
    """``2026-11-27T21:43:16.250576068Z``: UTC, nanoseconds kept when the time carries them.

    The same text as :func:`store.timestamps.format_rfc3339`, built from the datetime's
    fields (``ls --json`` formats 200k of these; strftime is the slow part there).
    """
    ts = Timestamp.from_datetime(when)
    frac = ts.ns % 1_000_000_000
    text = f"{ts.year:04d}-{ts.month:02d}-{ts.day:02d}T{ts.hour:02d}:{ts.minute:02d}:{ts.second:02d}"
    if frac:
        text += "." + f"{frac:09d}".rstrip("0")
    return text + "Z"


def printable(text: str) -> str:
    """``text`` safe for a terminal: control characters and undecodable bytes become escapes."""
    if text.isprintable():
        return text
    out = []
    for ch in text:
        o = ord(ch)
        if ch.isprintable():
            out.append(ch)
        elif 0xDC80 <= o <= 0xDCFF:  # a byte that was not UTF-8 (surrogateescape)
            out.append(f"\\x{o - 0xDC00:02x}")
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\t":
            out.append("\\t")
        elif o < 0x100:
            out.append(f"\\x{o:02x}")
        else:
            out.append(f"\\u{o:04x}" if o <= 0xFFFF else f"\\U{o:08x}")
    return "".join(out)


def labels_text(labels: Mapping[str, str] | None, *, empty: str = "-") -> str:
    """``k=v,k2=v2`` sorted by key (as ``ctr`` 1.7+), or ``empty`` when there are none."""
    if not labels:
        return empty
    return ",".join(f"{printable(k)}={printable(labels[k])}" for k in sorted(labels))


def table_lines(rows: Iterable[list[str]], *, gap: int = 3, sample: int = 1000,
                min_widths: Sequence[int] = ()) -> Iterator[str]:
    """:func:`table` a line at a time, holding at most ``sample`` rows: the column widths are
    those of the first ``sample`` rows (header included) or ``min_widths``, whichever is wider,
    so a short listing reads exactly as :func:`table` and a million rows stream in bounded memory."""
    it = iter(rows)
    head = list(itertools.islice(it, sample))
    if not head:
        return
    columns = list(zip(*head))
    widths = [max(max(map(len, col)), min_widths[i] if i < len(min_widths) else 0) + gap
              for i, col in enumerate(columns[:-1])]
    if len(head) < sample:  # everything is here: exactly table()'s widths
        widths = [max(map(len, col)) + gap for col in columns[:-1]]
    template = "".join(f"{{:<{w}}}" for w in widths) + "{}"
    for r in head:
        yield template.format(*r) + "\n"
    for r in it:
        yield template.format(*r) + "\n"


def table(rows: list[list[str]], *, gap: int = 3) -> str:
    """Rows aligned in columns (the first row is the header); the last column is not padded."""
    if not rows:
        return ""
    columns = list(zip(*rows))
    widths = [max(map(len, col)) + gap for col in columns[:-1]]
    template = "".join(f"{{:<{w}}}" for w in widths) + "{}"
    return "\n".join(template.format(*r) for r in rows) + "\n"
