"""The plain records the store hands out: :class:`Info` for a blob, :class:`Status` for an ingest."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from .digest import Digest


@dataclass(frozen=True)
class Info:
    """A committed blob. ``labels`` is the caller's own copy."""

    digest: Digest
    size: int
    created_at: datetime
    updated_at: datetime
    labels: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "digest", Digest(self.digest))
        object.__setattr__(self, "labels", dict(self.labels or {}))

    @property
    def created_ns(self) -> int:
        """``created_at`` as exact integer nanoseconds since the epoch."""
        return _as_ns(self.created_at)

    @property
    def updated_ns(self) -> int:
        """``updated_at`` as exact integer nanoseconds since the epoch."""
        return _as_ns(self.updated_at)


@dataclass(frozen=True)
class Status:
    """An active ingest.  ``total`` 0 means the expected size is unknown."""

    ref: str
    offset: int
    total: int
    expected: Digest | None
    started_at: datetime
    updated_at: datetime

    def __post_init__(self) -> None:
        if self.expected is not None and not isinstance(self.expected, Digest):
            object.__setattr__(self, "expected", Digest(self.expected) if self.expected else None)


class WalkInfo(Info):
    """An :class:`Info` made by a walk, whose two timestamps are built on first use.

    A walk makes one Info per blob (100k and more) and most callers never look at both
    times; building two ``Timestamp`` objects per blob was a third of the walk's time.
    It compares equal to an ``Info`` with the same values, and pickles/copies as one.
    """

    __slots__ = ()

    @classmethod
    def make(cls, digest, size: int, mtime_ns: int, atime_ns: int, labels: dict) -> "WalkInfo":
        obj = object.__new__(cls)
        obj.__dict__.update(digest=digest, size=size, labels=labels, _mtime_ns=mtime_ns, _atime_ns=atime_ns)
        return obj

    # Non-data descriptors: the first read builds the Timestamp and stores it in the instance,
    # so later reads are plain attribute lookups.
    class _Created:
        def __get__(self, obj, owner=None):
            if obj is None:
                return self
            d = obj.__dict__
            value = d["created_at"] = _timestamp(d["_mtime_ns"])
            return value

    class _Updated:
        def __get__(self, obj, owner=None):
            if obj is None:
                return self
            d = obj.__dict__
            atime = d["_atime_ns"]
            value = d["updated_at"] = obj.created_at if atime == d["_mtime_ns"] else _timestamp(atime)
            return value

    created_at = _Created()
    updated_at = _Updated()

    @property
    def created_ns(self) -> int:
        ns = self.__dict__.get("_mtime_ns")  # absent in a copy made by dataclasses.replace
        return ns if ns is not None else _as_ns(self.created_at)

    @property
    def updated_ns(self) -> int:
        ns = self.__dict__.get("_atime_ns")
        return ns if ns is not None else _as_ns(self.updated_at)

    def _values(self) -> tuple:
        return (self.digest, self.size, self.created_at, self.updated_at, self.labels)

    def __eq__(self, other):
        if isinstance(other, Info):
            return self._values() == (other.digest, other.size, other.created_at, other.updated_at, other.labels)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]  # like Info: its labels dict makes it unhashable

    def __repr__(self) -> str:
        return (f"Info(digest={self.digest!r}, size={self.size!r}, created_at={self.created_at!r}, "
                f"updated_at={self.updated_at!r}, labels={self.labels!r})")

    def __reduce__(self):
        return (Info, self._values())


def _timestamp(ns: int):
    from .timestamps import Timestamp  # types stays importable without the time helpers

    return Timestamp.from_ns(ns)


def _as_ns(value: datetime) -> int:
    ns = getattr(value, "ns", None)
    if ns is not None:
        return ns
    from .timestamps import as_ns

    return as_ns(value)
