"""``SshContainerdStore``: a :class:`ContainerdStore` on a node reached through an SSH tunnel.

``blobctl -a ssh://user@host/run/containerd/containerd.sock ...`` (and later the GUI's source
list) open one of these: the tunnel (``tunnel.py``) forwards the node's socket to a private local
one, the unchanged ``ContainerdStore`` talks gRPC through it, and :meth:`close` ends both.
Messages name the node's ``ssh://`` address, never the private local socket.
"""

from __future__ import annotations

from typing import Callable

from .. import errors
from ..containerd import ContainerdStore
from . import address as addr
from .address import SshAddress
from .tunnel import CONNECT_TIMEOUT, SshFailure, SshOptions, Tunnel, relevant_line


class SshContainerdStore(ContainerdStore):
    """The store API on a node's containerd, through ``ssh -L``; see the module doc."""

    def __init__(self, address: SshAddress | str, namespace: str = "default", *, ssh: SshOptions | None = None,
                 cancel: Callable[[], bool] | None = None, **kwargs):
        node = addr.parse(address) if isinstance(address, str) else address
        self.tunnel = Tunnel(node, ssh)
        self.tunnel.open(cancel)
        kwargs.setdefault("connect_timeout", CONNECT_TIMEOUT)
        try:
            super().__init__(self.tunnel.local_address, namespace, **kwargs)
        except BaseException:
            self.tunnel.close()
            raise
        self.node_address = node
        self.address = str(node)  # what messages and describe() show
        if self.read_only:
            self.read_only_reason = f"the connection to containerd at {self.address} was opened read-only"

    def reconnect(self) -> None:
        raise errors.FailedPrecondition(f"reconnecting through SSH is not supported; open {self.address} again")

    def explain(self, exc: errors.ContentError) -> errors.ContentError:
        """A clearer error when a call failed because of the tunnel rather than the daemon."""
        return explain_failure(self.tunnel, exc)

    def close(self) -> None:
        try:
            super().close()
        finally:
            self.tunnel.close()


def explain_failure(tunnel: Tunnel, exc: errors.ContentError) -> errors.ContentError:
    """Turn a gRPC failure seen through ``tunnel`` into what happened on the SSH side, if anything did.

    * ssh exited (the node's sshd died, the network dropped): the connection ended, with ssh's line;
    * sshd could not open the remote socket: the socket is missing or not one sshd may open;
    * otherwise the daemon's own error (e.g. the socket is not containerd's).
    """
    if not isinstance(exc, errors.Unavailable):
        return exc
    where = str(tunnel.address)
    tunnel.settle()  # the call may have failed because ssh is on its way out: let it finish first
    if not tunnel.alive:  # ssh exited after the tunnel was up: sshd died, the network dropped, keepalives lapsed
        line = relevant_line(tunnel.stderr_lines())
        return SshFailure(f"{where}: the SSH connection ended during the query{': ' + line if line else ''}",
                          reason="ssh-ended")
    if tunnel.remote_socket_refused():
        return SshFailure(f"{where}: remote socket {tunnel.address.socket}: sshd could not connect to it (no such "
                          "socket on the node, containerd not running, or sshd may not forward unix sockets: "
                          "AllowStreamLocalForwarding)", reason="remote-socket")
    return exc


__all__ = ["SshContainerdStore", "explain_failure"]
