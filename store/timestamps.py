"""Timestamps with nanoseconds, in Go's RFC 3339 text form.

containerd writes ``startedat``/``updatedat`` with Go's ``time.Time`` text
marshalling: RFC 3339, up to nine fraction digits with trailing zeros removed,
``Z`` or a numeric offset.  Python's ``datetime`` keeps microseconds only, so a
:class:`Timestamp` is a UTC ``datetime`` that also carries the exact integer
nanoseconds since the epoch (``.ns``).
"""

from __future__ import annotations

import re
import time
from datetime import datetime, timedelta, timezone

NS = 1_000_000_000
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
# Go's zero time, 0001-01-01T00:00:00Z, in ns since the epoch.
ZERO_NS = -62135596800 * NS

_RFC3339 = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(?:([Zz])|([+-])(\d{2}):(\d{2}))\Z"
)


class Timestamp(datetime):
    """A timezone-aware UTC ``datetime`` that remembers its nanoseconds."""

    _ns: int

    @classmethod
    def from_ns(cls, ns: int) -> "Timestamp":
        ns = int(ns)
        if 0 <= ns < _FAST_LIMIT_NS:
            # C fast path (walk builds 200k of these): microseconds below 2**53 are exact as a
            # float, so fromtimestamp's half-even rounding lands on the right microsecond.
            obj = _fromtimestamp(ns // 1000 / 1e6, timezone.utc)
            obj._ns = ns
            return obj
        sec, rem = divmod(int(ns), NS)
        base = _EPOCH + timedelta(seconds=sec, microseconds=rem // 1000)
        obj = super().__new__(
            cls, base.year, base.month, base.day, base.hour, base.minute, base.second,
            base.microsecond, tzinfo=timezone.utc,
        )
        obj._ns = int(ns)
        return obj

    @classmethod
    def now(cls, tz=None) -> "Timestamp":  # noqa: ARG003 - always UTC
        return cls.from_ns(time.time_ns())

    @classmethod
    def from_datetime(cls, dt: datetime) -> "Timestamp":
        if isinstance(dt, Timestamp):
            return dt
        if dt.tzinfo is None:
            raise ValueError("naive datetime: give a timezone")
        return cls.from_ns(_micro_ns(dt))

    @property
    def ns(self) -> int:
        """Integer nanoseconds since 1970-01-01T00:00:00Z."""
        try:
            return self._ns
        except AttributeError:
            # Made by datetime itself (arithmetic, replace, astimezone): microseconds are all it has.
            self._ns = _micro_ns(self)
            return self._ns

    @property
    def nanosecond(self) -> int:
        """Nanoseconds within the second, 0..999_999_999."""
        return self.ns % NS

    # Two Timestamps compare by nanoseconds (datetime alone would call 1 ns and 999 ns equal).
    def __eq__(self, other):
        if isinstance(other, Timestamp):
            return self.ns == other.ns
        return super().__eq__(other)

    def __ne__(self, other):
        if isinstance(other, Timestamp):
            return self.ns != other.ns
        return super().__ne__(other)

    def __lt__(self, other):
        if isinstance(other, Timestamp):
            return self.ns < other.ns
        return super().__lt__(other)

    def __le__(self, other):
        if isinstance(other, Timestamp):
            return self.ns <= other.ns
        return super().__le__(other)

    def __gt__(self, other):
        if isinstance(other, Timestamp):
            return self.ns > other.ns
        return super().__gt__(other)

    def __ge__(self, other):
        if isinstance(other, Timestamp):
            return self.ns >= other.ns
        return super().__ge__(other)

    __hash__ = datetime.__hash__  # equal ns -> equal microseconds -> equal hash

    def __reduce__(self):
        return (Timestamp.from_ns, (self.ns,))

    def __reduce_ex__(self, protocol):  # datetime's own __reduce_ex__ would drop the nanoseconds
        return self.__reduce__()

    def __copy__(self):
        return self

    def __deepcopy__(self, memo):
        return self

    def isoformat_ns(self) -> str:
        return format_rfc3339(self.ns)


def _micro_ns(dt: datetime) -> int:
    """ns since the epoch of an aware ``datetime``, exact to its microseconds."""
    delta = dt - _EPOCH
    return (delta.days * 86400 + delta.seconds) * NS + delta.microseconds * 1000


def as_ns(value: datetime | int) -> int:
    if isinstance(value, int):
        return value
    return Timestamp.from_datetime(value).ns


def format_rfc3339(ns: int) -> str:
    """Go's ``time.Time.MarshalText`` for a UTC time: ``2026-11-27T21:43:16.250576068Z``."""
    sec, frac = divmod(int(ns), NS)
    dt = _EPOCH + timedelta(seconds=sec)
    text = dt.strftime("%Y-%m-%dT%H:%M:%S")
    if dt.year < 1000:  # strftime does not zero-pad years on every libc
        text = f"{dt.year:04d}" + text[text.index("-"):]
    if frac:
        text += "." + f"{frac:09d}".rstrip("0")
    return text + "Z"


def parse_rfc3339(text: str) -> int:
    """Parse RFC 3339 with 0-9 fraction digits into ns since the epoch (ValueError if bad)."""
    m = _RFC3339.match(text)
    if not m:
        raise ValueError(f"parsing time {text!r} as RFC 3339 failed")
    y, mo, d, h, mi, s, frac, z, sign, oh, om = m.groups()
    dt = datetime(int(y), int(mo), int(d), int(h), int(mi), int(s), tzinfo=timezone.utc)
    ns = int((dt - _EPOCH).total_seconds()) * NS
    # total_seconds is exact for whole seconds within datetime's range
    if frac:
        ns += int(frac.ljust(9, "0"))
    if not z:
        off = (int(oh) * 60 + int(om)) * 60 * NS
        ns = ns - off if sign == "+" else ns + off
    return ns


_FAST_LIMIT_NS = (1 << 52) * 1000
_fromtimestamp = Timestamp.fromtimestamp
