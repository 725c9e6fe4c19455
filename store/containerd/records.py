"""A running daemon's image and container records, through its Images and Containers services.

Only what Blobscope needs to tell who owns a snapshot: an image's name and target, a
container's id, image, snapshotter and snapshot key.  Read only.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import grpc

from . import _rpc
from ._pb import containers_pb2, containers_pb2_grpc, images_pb2, images_pb2_grpc

DEFAULT_TIMEOUT = 60.0


@dataclass(frozen=True)
class ImageRecord:
    name: str
    target: str  # the target descriptor's digest
    media_type: str
    labels: dict[str, str]


@dataclass(frozen=True)
class ContainerRecord:
    id: str
    image: str
    snapshotter: str
    snapshot_key: str
    labels: dict[str, str] = field(default_factory=dict)


class RecordsClient(_rpc.ServiceClient):
    """The Images and Containers services of the daemon at ``address``, in ``namespace``."""

    def __init__(self, address: str, namespace: str = "default", *, tls: _rpc.TLSConfig | None = None,
                 timeout: float = DEFAULT_TIMEOUT, channel: grpc.Channel | None = None):
        super().__init__(address, namespace, tls=tls, timeout=timeout, channel=channel)
        self._images = images_pb2_grpc.ImagesStub(self._channel)
        self._containers = containers_pb2_grpc.ContainersStub(self._channel)

    def images(self) -> list[ImageRecord]:
        try:
            response = self._images.List(images_pb2.ListImagesRequest(), timeout=self.timeout,
                                         metadata=[(_rpc.NAMESPACE_KEY, self.namespace)])
        except grpc.RpcError as exc:
            raise _rpc.translate(exc, self.address, "list images") from None
        return [ImageRecord(i.name, i.target.digest, i.target.media_type, dict(i.labels)) for i in response.images]

    def containers(self) -> list[ContainerRecord]:
        try:
            response = self._containers.List(containers_pb2.ListContainersRequest(), timeout=self.timeout,
                                             metadata=[(_rpc.NAMESPACE_KEY, self.namespace)])
        except grpc.RpcError as exc:
            raise _rpc.translate(exc, self.address, "list containers") from None
        return [ContainerRecord(c.id, c.image, c.snapshotter, c.snapshot_key, dict(c.labels)) for c in response.containers]


__all__ = ["ContainerRecord", "ImageRecord", "RecordsClient"]
