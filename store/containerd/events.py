"""A running daemon's event stream, through its gRPC Events service (``ctr events``).

containerd publishes an envelope (time, namespace, topic, a typed body) for what its services
change; in 1.6: ``/content/delete`` (body: the digest), ``/images/create|update|delete``,
``/snapshot/prepare|commit|remove``, ``/containers/create|update|delete``, ``/namespaces/*`` and
the tasks' ``/tasks/*``.  Writing a blob (a content commit) and anything about leases publish
**nothing**, and neither does the garbage collector when it removes blobs; so a stream tells
that something changed, never that nothing did (docs/fleet.md §9).

Read only: :meth:`EventsClient.subscribe` only listens (Publish and Forward are never called).
A subscription is a server stream that the daemon keeps open until either side ends it;
:meth:`EventStream.cancel` ends it from any thread.  Events are handed out one at a time as they
arrive (nothing is queued here beyond gRPC's own flow-controlled window).
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Iterator, Sequence

import grpc

from .. import errors
from . import _rpc
from ._pb import events_pb2, events_pb2_grpc

log = logging.getLogger(__name__)

#: The topics whose events may change what a fleet inventory shows (blobs, images, snapshots,
#: containers' references); ``/tasks/*`` (start, exit, OOM...) changes none of it.
CHANGE_TOPICS = ("/content/", "/images/", "/snapshot/", "/containers/")
CONTENT_DELETE = "/content/delete"
_CONTENT_DELETE_TYPE = "containerd.events.ContentDelete"


@dataclass(frozen=True)
class Event:
    """One envelope: ``digest`` is set for ``/content/delete`` (the blob that went)."""

    topic: str
    namespace: str
    timestamp: datetime | None
    type_url: str = ""
    digest: str | None = None

    def to_json(self) -> dict:
        return {"topic": self.topic, "namespace": self.namespace,
                "timestamp": self.timestamp.isoformat().replace("+00:00", "Z") if self.timestamp else None,
                **({"digest": self.digest} if self.digest else {})}


def filters(topics: Sequence[str] = CHANGE_TOPICS, namespace: str | None = None) -> list[str]:
    """containerd filters matching any of ``topics`` (prefixes such as ``/content/`` or whole topics),
    in ``namespace`` only when given (the Events service itself does not filter by namespace)."""
    out = []
    for topic in topics:
        if not topic.startswith("/") or '"' in topic or "\\" in topic:
            raise errors.InvalidArgument(f"event topic {topic!r} must start with '/' and hold no quote")
        match = f'topic~="^{topic}"' if topic.endswith("/") else f'topic=="{topic}"'
        out.append(f"namespace=={_rpc.validate_namespace(namespace)},{match}" if namespace else match)
    return out


def decode(env: events_pb2.Envelope) -> Event:
    """An :class:`Event` from an envelope; a body that does not parse only leaves ``digest`` unset."""
    ts = None
    if env.HasField("timestamp"):
        ts = datetime.fromtimestamp(env.timestamp.seconds + env.timestamp.nanos / 1e9, timezone.utc)
    type_url = env.event.type_url if env.HasField("event") else ""
    digest = None
    if env.topic == CONTENT_DELETE and type_url.rsplit("/", 1)[-1] == _CONTENT_DELETE_TYPE:
        body = events_pb2.ContentDelete()
        try:
            body.ParseFromString(env.event.value)
            digest = body.digest or None
        except Exception:  # noqa: BLE001 - a garbled body is an event without a digest
            log.debug("undecodable %s body", env.topic)
    return Event(topic=env.topic, namespace=env.namespace, timestamp=ts, type_url=type_url, digest=digest)


class EventStream:
    """An open subscription: iterate it for :class:`Event` s; :meth:`cancel` ends it (any thread).

    Iteration ends quietly after :meth:`cancel`; when the daemon or the connection ends the stream,
    it raises the :mod:`store.errors` kind (``Unavailable`` for a lost connection,
    ``NotImplementedErr`` for a daemon without the Events service).
    """

    def __init__(self, call, address: str):
        self._call = call
        self.address = address
        self._cancelled = threading.Event()

    def __iter__(self) -> Iterator[Event]:
        try:
            for env in self._call:
                yield decode(env)
        except grpc.RpcError as exc:
            if self._cancelled.is_set():
                return
            raise _rpc.translate(exc, self.address, "listening to its events") from None
        if not self._cancelled.is_set():  # the daemon closed the stream without an error
            raise errors.Unavailable(f"containerd at {self.address} ended its event stream")

    def cancel(self) -> None:
        self._cancelled.set()
        self._call.cancel()

    @property
    def cancelled(self) -> bool:
        return self._cancelled.is_set()


class EventsClient(_rpc.ServiceClient):
    """The daemon's Events service (``subscribe`` only); ``namespace`` is the one events are kept for."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._stub = events_pb2_grpc.EventsStub(self._channel)

    def subscribe(self, topics: Sequence[str] = CHANGE_TOPICS, *, all_namespaces: bool = False) -> EventStream:
        """Start listening to ``topics`` (in this client's namespace unless ``all_namespaces``).

        The call has no deadline (a stream lasts as long as it is wanted); a connection that cannot
        be made fails the first iteration with ``Unavailable``.
        """
        req = events_pb2.SubscribeRequest(filters=filters(topics, None if all_namespaces else self.namespace))
        call = self._stub.Subscribe(req, metadata=((_rpc.NAMESPACE_KEY, self.namespace),))
        return EventStream(call, self.address)


__all__ = ["Event", "EventStream", "EventsClient", "CHANGE_TOPICS", "CONTENT_DELETE", "filters", "decode"]
