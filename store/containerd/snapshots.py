"""A running daemon's snapshots, through its gRPC Snapshots service (List, Stat, Usage).

What the daemon tells per snapshot in one namespace: key, parent key, kind, labels, created and
updated, and (``Usage``) bytes and inodes — for a committed snapshot the figures recorded at
commit, for an active one a fresh ``du`` of its upper directory.  The daemon does not tell a
snapshot's directory or backend key; :mod:`store.disk.snapshotter` reads those offline.
Read only: nothing here prepares, commits or removes.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Iterator

import grpc

from .. import errors
from ..timestamps import Timestamp
from . import _rpc
from ._pb import snapshots_pb2, snapshots_pb2_grpc

log = logging.getLogger(__name__)

KINDS = {snapshots_pb2.VIEW: "view", snapshots_pb2.ACTIVE: "active", snapshots_pb2.COMMITTED: "committed"}
DEFAULT_TIMEOUT = 60.0


@dataclass(frozen=True)
class LiveSnapshot:
    snapshotter: str
    namespace: str
    key: str
    parent: str
    kind: str
    labels: dict[str, str] = field(default_factory=dict)
    created: Timestamp | None = None
    updated: Timestamp | None = None


def _time(ts) -> Timestamp | None:
    if not ts.seconds and not ts.nanos:
        return None
    return Timestamp.from_ns(ts.seconds * 1_000_000_000 + ts.nanos)


class SnapshotsClient(_rpc.ServiceClient):
    """The Snapshots service of the daemon at ``address``, in ``namespace``."""

    def __init__(self, address: str, namespace: str = "default", *, tls: _rpc.TLSConfig | None = None,
                 timeout: float = DEFAULT_TIMEOUT, channel: grpc.Channel | None = None,
                 connect_timeout: float | None = None):
        super().__init__(address, namespace, tls=tls, timeout=timeout, channel=channel,
                         connect_timeout=connect_timeout)
        self._stub = snapshots_pb2_grpc.SnapshotsStub(self._channel)

    def _md(self):
        return [(_rpc.NAMESPACE_KEY, self.namespace)]

    def _info(self, snapshotter: str, info) -> LiveSnapshot:
        return LiveSnapshot(snapshotter, self.namespace, info.name, info.parent, KINDS.get(info.kind, "unknown"),
                            dict(info.labels), _time(info.created_at), _time(info.updated_at))

    def list(self, snapshotter: str, *filters: str) -> Iterator[LiveSnapshot]:
        """Every snapshot of ``snapshotter`` in the namespace (``ctr snapshots ls``)."""
        call = self._stub.List(snapshots_pb2.ListSnapshotsRequest(snapshotter=snapshotter, filters=list(filters)),
                               metadata=self._md())
        try:
            for response in call:
                for info in response.info:
                    yield self._info(snapshotter, info)
        except grpc.RpcError as exc:
            raise _rpc.translate(exc, self.address, f"list the {snapshotter} snapshots") from None
        finally:
            call.cancel()

    def stat(self, snapshotter: str, key: str) -> LiveSnapshot:
        try:
            response = self._stub.Stat(snapshots_pb2.StatSnapshotRequest(snapshotter=snapshotter, key=key),
                                       metadata=self._md(), timeout=self.timeout)
        except grpc.RpcError as exc:
            raise _rpc.translate(exc, self.address, f"stat snapshot {key}") from None
        return self._info(snapshotter, response.info)

    def usage(self, snapshotter: str, key: str) -> tuple[int, int]:
        """(bytes, inodes) as ``ctr snapshots usage`` reports them."""
        try:
            response = self._stub.Usage(snapshots_pb2.UsageRequest(snapshotter=snapshotter, key=key),
                                        metadata=self._md(), timeout=self.timeout)
        except grpc.RpcError as exc:
            raise _rpc.translate(exc, self.address, f"get the usage of snapshot {key}") from None
        return int(response.size), int(response.inodes)

    def has(self, snapshotter: str) -> bool:
        """Whether the daemon serves ``snapshotter`` (a List of nothing answers it)."""
        try:
            next(self.list(snapshotter, "name==blobscope-probe-none"), None)
        except (errors.NotFound, errors.InvalidArgument, errors.FailedPrecondition):
            return False
        return True


def usage_total(client: SnapshotsClient, snapshotters: tuple[str, ...] = ("overlayfs", "native")) -> tuple[int, int]:
    """(count, bytes) of every snapshot of ``snapshotters`` the daemon serves, in the client's
    namespace: the sum of ``ctr snapshots usage`` over ``ctr snapshots ls``."""
    count = nbytes = 0
    for name in snapshotters:
        if not client.has(name):
            continue
        for snap in client.list(name):
            count += 1
            nbytes += client.usage(name, snap.key)[0]
    return count, nbytes


__all__ = ["LiveSnapshot", "SnapshotsClient", "KINDS", "usage_total"]
