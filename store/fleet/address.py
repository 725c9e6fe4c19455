"""A node's address: ``ssh://[user@]host[:port][/absolute/remote/socket/path]`` (docs/fleet.md).

The host may be a name, an alias of the operator's ``ssh_config``, an IPv4 address or an IPv6
address in brackets (``ssh://[::1]:2222``).  The path is the containerd socket on the node
(default ``/run/containerd/containerd.sock``).  Every part ends up as an argument of the ``ssh``
command, so anything that ``ssh`` could read as an option (a host or user starting with ``-``)
or that ``-L``'s ``local:remote`` syntax would split (a ``:`` in the path) is refused here, before
any process is started.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .. import errors

SCHEME = "ssh://"
DEFAULT_SOCKET = "/run/containerd/containerd.sock"
DEFAULT_PORT = 22
# A unix socket path must fit sockaddr_un.sun_path (108 bytes with its NUL).
MAX_SOCKET_PATH = 107

# Host names and ssh_config aliases: letters, digits, '.', '_' and '-' (never first).
_HOST = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._-]{0,252}\Z")
_IPV6 = re.compile(r"[0-9A-Fa-f:.]{2,45}\Z")
_USER = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._-]{0,63}\Z")
_PORT = re.compile(r"[0-9]{1,5}\Z")
# What a remote socket path may hold: no ':' (ssh -L splits on it), no space, control or URL
# characters; '/'-separated, absolute.
_PATH = re.compile(r"/[A-Za-z0-9._@+=,/-]*\Z")


@dataclass(frozen=True)
class SshAddress:
    """One node, parsed.  ``text`` is what was given; ``str()`` is the canonical form."""

    host: str  # without brackets for IPv6
    user: str | None = None
    port: int | None = None
    socket: str = DEFAULT_SOCKET
    text: str = ""

    @property
    def destination(self) -> str:
        """``user@host`` or ``host``: the last argument of ``ssh`` (after ``--``)."""
        return f"{self.user}@{self.host}" if self.user else self.host

    def ssh_arguments(self) -> list[str]:
        """Port and destination as ``ssh`` takes them: ``[-p PORT] -- [user@]host``."""
        port = ["-p", str(self.port)] if self.port is not None else []
        return [*port, "--", self.destination]

    def __str__(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        user = f"{self.user}@" if self.user else ""
        port = f":{self.port}" if self.port is not None else ""
        return f"{SCHEME}{user}{host}{port}{self.socket}"


def is_ssh_address(text: object) -> bool:
    """True when ``text`` names a node through SSH (``ssh://...``)."""
    return isinstance(text, str) and text.strip().lower().startswith(SCHEME)


def parse(text: str) -> SshAddress:
    """Parse ``ssh://[user@]host[:port][/socket]``; :class:`errors.InvalidArgument` for anything else."""
    if not isinstance(text, str):
        raise errors.InvalidArgument(f"a node address must be text, not {type(text).__name__}")
    given = text.strip()
    shown = _shown(given)
    if not given.lower().startswith(SCHEME):
        raise errors.InvalidArgument(f"node address {shown} does not start with {SCHEME} "
                                     f"(ssh://[user@]host[:port][/path/to/containerd.sock])")
    rest = given[len(SCHEME):]
    if any(c in rest for c in "?#") or any(ord(c) < 0x21 or ord(c) == 0x7f for c in rest):
        raise errors.InvalidArgument(f"node address {shown} holds a space, a control character, '?' or '#'")
    slash = rest.find("/")
    authority, path = (rest, "") if slash < 0 else (rest[:slash], rest[slash:])
    user: str | None = None
    if "@" in authority:
        user, _, authority = authority.rpartition("@")
        if not _USER.match(user):
            raise errors.InvalidArgument(
                f"node address {shown}: user {_shown(user)} is not a user name (letters, digits, '.', '_', '-'; "
                "not starting with '-')")
    host, port = _split_host_port(authority, shown)
    socket = path or DEFAULT_SOCKET
    if path == "/":
        raise errors.InvalidArgument(f"node address {shown}: '/' is not a socket path (leave the path out "
                                     f"for {DEFAULT_SOCKET})")
    if not _PATH.match(socket) or "//" in socket or socket.endswith("/") \
            or any(part in (".", "..") for part in socket.split("/")):
        raise errors.InvalidArgument(
            f"node address {shown}: remote socket {_shown(socket)} is not an absolute, plain path "
            "(letters, digits and . _ @ + = , - between '/'; no ':' and no '..')")
    if len(socket.encode()) > MAX_SOCKET_PATH:
        raise errors.InvalidArgument(f"node address {shown}: remote socket path is longer than "
                                     f"{MAX_SOCKET_PATH} bytes, which a unix socket cannot have")
    return SshAddress(host=host, user=user, port=port, socket=socket, text=given)


def _split_host_port(authority: str, shown: str) -> tuple[str, int | None]:
    port_text: str | None = None
    if authority.startswith("["):
        end = authority.find("]")
        if end < 0:
            raise errors.InvalidArgument(f"node address {shown}: '[' without ']' around an IPv6 address")
        host, tail = authority[1:end], authority[end + 1:]
        if not _IPV6.match(host) or ":" not in host:
            raise errors.InvalidArgument(f"node address {shown}: {_shown(host)} in brackets is not an IPv6 address")
        if tail:
            if not tail.startswith(":"):
                raise errors.InvalidArgument(f"node address {shown}: unexpected {_shown(tail)} after ']'")
            port_text = tail[1:]
    else:
        host, sep, port_text_ = authority.partition(":")
        if sep:
            port_text = port_text_
        if not host:
            raise errors.InvalidArgument(f"node address {shown} names no host")
        if host.startswith("-"):
            raise errors.InvalidArgument(f"node address {shown}: host {_shown(host)} starts with '-', which ssh "
                                         "would read as an option")
        if not _HOST.match(host):
            raise errors.InvalidArgument(
                f"node address {shown}: host {_shown(host)} is not a host name, alias or address "
                "(letters, digits, '.', '_', '-'; IPv6 in brackets: ssh://[::1]:22)")
    port: int | None = None
    if port_text is not None:
        if not _PORT.match(port_text) or not 1 <= int(port_text) <= 65535:
            raise errors.InvalidArgument(f"node address {shown}: port {_shown(port_text)} is not a number "
                                         "from 1 to 65535")
        port = int(port_text)
    return host, port


def _shown(text: str, limit: int = 120) -> str:
    """``text`` quoted for a one-line message, control characters escaped, cut at ``limit``."""
    cut = text if len(text) <= limit else text[:limit] + "..."
    return repr(cut)


__all__ = ["SshAddress", "parse", "is_ssh_address", "DEFAULT_SOCKET", "DEFAULT_PORT", "SCHEME"]
