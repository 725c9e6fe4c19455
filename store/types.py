"""The plain records the store hands out: :class:`Info` for a blob, :class:`Status` for an ingest."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from types import MappingProxyType  # noqa: F401  (documented alternative; we copy instead)

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
