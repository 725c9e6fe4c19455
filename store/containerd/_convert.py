"""Conversions between the generated protobuf messages and the store's records."""

from __future__ import annotations

import re

from ..digest import Digest
from ..timestamps import Timestamp
from ..types import Info, Status
from ._pb import content_pb2

NS = 1_000_000_000


def ts_from_pb(ts) -> Timestamp:
    return Timestamp.from_ns(ts.seconds * NS + ts.nanos)


def ts_to_pb(value, into) -> None:
    ns = Timestamp.from_datetime(value).ns if not isinstance(value, int) else value
    into.seconds, into.nanos = divmod(ns, NS)


GO_ZERO_SECONDS = -62135596800  # 0001-01-01T00:00:00Z, Go's zero time


_CANONICAL = re.compile(r"sha256:[a-f0-9]{64}\Z").match
_from_ns = Timestamp.from_ns
_new_str = str.__new__
_new_obj = object.__new__
_set = object.__setattr__


def info_from_pb(msg) -> Info:
    # A walk converts 100k of these: check the common sha256 form with one regex and build the
    # frozen dataclass directly (LocalStore's walk does the same); anything else takes Digest().
    text = msg.digest
    digest = _new_str(Digest, text) if _CANONICAL(text) else Digest(text)
    c, u = msg.created_at, msg.updated_at
    created = _from_ns(c.seconds * NS + c.nanos)
    us, un = u.seconds, u.nanos
    if un == 0 and (us == 0 or us == GO_ZERO_SECONDS):
        # containerd 1.6's List leaves UpdatedAt out; its Info has it.  Show the creation time
        # rather than year 1 (a walk's updated_at is then a lower bound).
        updated = created
    else:
        updated = _from_ns(us * NS + un)
    labels = msg.labels
    info = _new_obj(Info)
    _set(info, "__dict__", {"digest": digest, "size": msg.size, "created_at": created, "updated_at": updated,
                            "labels": dict(labels) if labels else {}})
    return info


def info_to_pb(info: Info) -> content_pb2.Info:
    msg = content_pb2.Info(digest=str(info.digest), size=int(info.size or 0), labels=dict(info.labels or {}))
    if info.created_at is not None:
        ts_to_pb(info.created_at, msg.created_at)
    if info.updated_at is not None:
        ts_to_pb(info.updated_at, msg.updated_at)
    return msg


def status_from_pb(msg) -> Status:
    return Status(
        ref=msg.ref,
        offset=msg.offset,
        total=msg.total,
        expected=Digest(msg.expected) if msg.expected else None,
        started_at=ts_from_pb(msg.started_at),
        updated_at=ts_from_pb(msg.updated_at),
    )
