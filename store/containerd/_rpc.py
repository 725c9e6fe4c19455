"""The gRPC connection to a containerd daemon: addresses, metadata, and error translation.

containerd sends its errdefs kinds as gRPC status codes (containerd-store.md §1.2); this module turns
them back into :mod:`store.errors` kinds, so code above cannot tell a daemon from a
local directory by the exceptions it gets.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from pathlib import Path

import grpc

from .. import errors

log = logging.getLogger(__name__)

NAMESPACE_KEY = "containerd-namespace"
LEASE_KEY = "containerd-lease"

# The daemon accepts messages up to 16 MiB ([grpc] max_recv_message_size); List answers may be big.
MAX_RECEIVE = 64 << 20
MAX_SEND = 16 << 20

# containerd's identifier rule for namespaces: alnum groups joined by one of . _ -, at most 76 chars.
_IDENTIFIER = re.compile(r"[A-Za-z0-9]+(?:[._-][A-Za-z0-9]+)*\Z")


@dataclass(frozen=True)
class TLSConfig:
    """Client TLS for a ``tcp://`` address (containerd's ``[grpc] tcp_tls_*`` settings)."""

    ca: str | None = None  # PEM file of the CA that signed the daemon's certificate
    cert: str | None = None  # client certificate (PEM) when the daemon wants one
    key: str | None = None
    server_name: str | None = None  # override the name checked in the daemon's certificate


def validate_namespace(namespace: str) -> str:
    """Check ``namespace`` as containerd does, so a typo fails before any call is made."""
    if not isinstance(namespace, str) or not namespace:
        raise errors.InvalidArgument("namespace must not be empty")
    if len(namespace) > 76 or not _IDENTIFIER.match(namespace):
        raise errors.InvalidArgument(
            f"namespace {namespace[:100]!r} is not a valid containerd identifier "
            "(letters and digits in groups joined by '.', '_' or '-', at most 76 characters)"
        )
    return namespace


def grpc_target(address: str) -> str:
    """The gRPC target for containerd-style addresses.

    Accepts what ``ctr --address`` and containerd's config accept: a socket path,
    ``unix://<path>``, ``tcp://host:port`` or a bare ``host:port``.
    """
    if not isinstance(address, str) or not address.strip():
        raise errors.InvalidArgument("containerd address must not be empty")
    address = address.strip()
    if address.startswith("unix://"):
        return "unix://" + address[len("unix://"):]
    if address.startswith("unix:"):
        return "unix://" + address[len("unix:"):]
    if address.startswith("tcp://"):
        rest = address[len("tcp://"):]
        if not rest:
            raise errors.InvalidArgument(f"containerd address {address!r} names no host")
        return rest
    if "://" in address:
        raise errors.InvalidArgument(
            f"containerd address {address!r} has an unknown scheme (use unix:// or tcp://)"
        )
    if address.startswith("/") or address.startswith("."):
        return "unix://" + str(Path(address).absolute())
    return address  # host:port


def open_channel(address: str, tls: TLSConfig | None = None, *, connect_timeout: float | None = None) -> grpc.Channel:
    """A channel to ``address``.  ``connect_timeout``: how long one connection attempt may take until
    the daemon's HTTP/2 settings arrive (default 0.1 s, ample for a local socket; a socket forwarded
    by ssh needs a channel open and an answer from the node, 1.5 round trips, so the fleet passes more)."""
    target = grpc_target(address)
    options: list[tuple[str, int | str]] = [
        ("grpc.max_receive_message_length", MAX_RECEIVE),
        ("grpc.max_send_message_length", MAX_SEND),
        ("grpc.enable_http_proxy", 0),  # a local socket must never go through $http_proxy
        # Reconnect quickly after a daemon restart instead of gRPC's default of up to 2 minutes.
        ("grpc.initial_reconnect_backoff_ms", 100),
        # gRPC also takes this as the shortest time one connection attempt is given (its connect
        # deadline is the larger of this and the current backoff)
        ("grpc.min_reconnect_backoff_ms", max(100, int((connect_timeout or 0) * 1000))),
        ("grpc.max_reconnect_backoff_ms", 1000),
    ]
    if target.startswith("unix://"):
        options.append(("grpc.default_authority", "localhost"))
    if tls is None:
        return grpc.insecure_channel(target, options=options)
    if target.startswith("unix://"):
        raise errors.InvalidArgument(f"TLS is for tcp:// addresses, not the socket {address!r}")
    creds = grpc.ssl_channel_credentials(
        root_certificates=_read(tls.ca), private_key=_read(tls.key), certificate_chain=_read(tls.cert)
    )
    if tls.server_name:
        options.append(("grpc.ssl_target_name_override", tls.server_name))
    return grpc.secure_channel(target, creds, options=options)


class ServiceClient:
    """A client of one daemon service in one namespace: its own connection, or one it shares.

    ``channel``: an open connection to share (a ``ContainerdStore``'s); closing this client then
    leaves it open.  ``connect_timeout``: as for :func:`open_channel` (a socket forwarded by ssh).
    Subclasses make their stubs on ``self._channel``.
    """

    def __init__(self, address: str, namespace: str = "default", *, tls: TLSConfig | None = None,
                 timeout: float = 30.0, channel: grpc.Channel | None = None, connect_timeout: float | None = None):
        self.address = address
        self.namespace = validate_namespace(namespace)
        self.timeout = timeout
        self._owns_channel = channel is None
        self._channel = channel if channel is not None else open_channel(address, tls, connect_timeout=connect_timeout)

    def close(self) -> None:
        if self._owns_channel:
            self._channel.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _read(path: str | None) -> bytes | None:
    if path is None:
        return None
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise errors.InvalidArgument(f"cannot read TLS file {path}: {exc.strerror or exc}") from exc


_KINDS: dict[grpc.StatusCode, type[errors.ContentError]] = {
    grpc.StatusCode.INVALID_ARGUMENT: errors.InvalidArgument,
    grpc.StatusCode.NOT_FOUND: errors.NotFound,
    grpc.StatusCode.ALREADY_EXISTS: errors.AlreadyExists,
    grpc.StatusCode.FAILED_PRECONDITION: errors.FailedPrecondition,
    grpc.StatusCode.UNAVAILABLE: errors.Unavailable,
    grpc.StatusCode.UNIMPLEMENTED: errors.NotImplementedErr,
    grpc.StatusCode.CANCELLED: errors.Cancelled,
}

def is_transport_failure(exc: grpc.RpcError) -> bool:
    """The call never reached containerd (no connection, no answer), as opposed to containerd refusing it."""
    code = exc.code() if hasattr(exc, "code") else None
    if code == grpc.StatusCode.DEADLINE_EXCEEDED:
        return True
    if code != grpc.StatusCode.UNAVAILABLE:
        return False
    details = (exc.details() or "").lower()
    if " locked" in details:  # the daemon's own "ref ... locked for ..." answer
        return False
    return True


def is_unreachable(exc: BaseException) -> bool:
    """True for what :func:`translate` makes of a transport failure (the daemon gone, not a refusal)."""
    return isinstance(exc, errors.Unavailable) and isinstance(exc.cause, grpc.RpcError) \
        and is_transport_failure(exc.cause)


def translate(exc: grpc.RpcError, address: str, doing: str = "") -> errors.ContentError:
    """A :mod:`store.errors` exception for a failed call; ``doing`` says what was attempted."""
    code = exc.code() if hasattr(exc, "code") else grpc.StatusCode.UNKNOWN
    details = (exc.details() if hasattr(exc, "details") else None) or str(code)
    if is_transport_failure(exc):
        if code == grpc.StatusCode.DEADLINE_EXCEEDED:
            why = "no answer before the timeout"
        else:
            why = details
        msg = f"cannot reach containerd at {address}: {why}"
        if doing:
            msg += f" (while {doing})"
        return errors.Unavailable(msg + "; check that the daemon runs and the address is right", cause=exc)
    kind = _KINDS.get(code, errors.Unknown)
    message = details
    suffix = ": " + kind.kind
    # containerd already appends the kind text; ours adds it again when rendering.
    if kind is not errors.Unknown and message.endswith(suffix):
        message = message[: -len(suffix)]
    if code == grpc.StatusCode.UNIMPLEMENTED and details.startswith("unknown service containerd."):
        # containerd 1.x registers only opted-in services (CRI) on its [grpc] tcp_address listener.
        message = (f"containerd at {address} does not serve the {details.split()[-1]} API on this address "
                   "(containerd serves it only on its unix socket; [grpc] tcp_address carries CRI only); "
                   "connect to the socket, on a remote node through a forwarded socket "
                   "(ssh -L /tmp/node.sock:/run/containerd/containerd.sock node)")
    elif code == grpc.StatusCode.PERMISSION_DENIED:
        message = f"containerd at {address} refused {doing or 'the call'}: {details}"
    elif code == grpc.StatusCode.RESOURCE_EXHAUSTED:
        message = f"containerd at {address} rejected a message as too large: {details}"
    elif kind is errors.Unknown and doing:
        message = f"{doing}: {details}"
    log.debug("gRPC %s while %s: %s", code, doing or "calling containerd", details)
    return kind(message, cause=exc)
