"""Where a running daemon keeps its files, from its Introspection service (``ctr plugins ls -d``).

containerd's content plugin exports ``root``: its directory, ``<daemon root>/io.containerd.content.v1.content``.
Read only.
"""

from __future__ import annotations

from pathlib import Path

import grpc

from . import _rpc
from ._pb import introspection_pb2, introspection_pb2_grpc

DEFAULT_TIMEOUT = 15.0
CONTENT_PLUGIN = "io.containerd.content.v1"


def daemon_root(address: str, *, tls: _rpc.TLSConfig | None = None, timeout: float = DEFAULT_TIMEOUT) -> Path | None:
    """The daemon's root directory as its content plugin tells it, or None when it does not say."""
    channel = _rpc.open_channel(address, tls)
    try:
        stub = introspection_pb2_grpc.IntrospectionStub(channel)
        try:
            resp = stub.Plugins(introspection_pb2.PluginsRequest(filters=[f"type=={CONTENT_PLUGIN}"]),
                                timeout=timeout)
        except grpc.RpcError as exc:
            raise _rpc.translate(exc, address, "ask which plugins run") from None
    finally:
        channel.close()
    for plugin in resp.plugins:
        root = plugin.exports.get("root")
        if root:
            return Path(root).parent
    return None


__all__ = ["daemon_root"]
