"""``ssh://`` node addresses: what parses, and what is refused before ssh ever runs."""

from __future__ import annotations

import pytest

from store import errors
from store.fleet import address as addr


@pytest.mark.parametrize("text, host, user, port, sock", [
    ("ssh://node1", "node1", None, None, addr.DEFAULT_SOCKET),
    ("ssh://root@node1", "node1", "root", None, addr.DEFAULT_SOCKET),
    ("ssh://root@10.1.2.3:2222", "10.1.2.3", "root", 2222, addr.DEFAULT_SOCKET),
    ("ssh://ops@edge-17.example.org:22/run/k3s/containerd/containerd.sock", "edge-17.example.org", "ops", 22,
     "/run/k3s/containerd/containerd.sock"),
    ("ssh://[::1]:2200/tmp/c.sock", "::1", None, 2200, "/tmp/c.sock"),
    ("ssh://u@[fe80::1]", "fe80::1", "u", None, addr.DEFAULT_SOCKET),
    ("  SSH://alias_from_config  ", "alias_from_config", None, None, addr.DEFAULT_SOCKET),
])
def test_parses(text, host, user, port, sock):
    a = addr.parse(text)
    assert (a.host, a.user, a.port, a.socket) == (host, user, port, sock)
    assert addr.parse(str(a)) == addr.SshAddress(host, user, port, sock, text=str(a))


def test_ssh_arguments_put_the_destination_after_a_double_dash():
    a = addr.parse("ssh://root@node:2022/run/c.sock")
    assert a.ssh_arguments() == ["-p", "2022", "--", "root@node"]
    assert addr.parse("ssh://node").ssh_arguments() == ["--", "node"]


@pytest.mark.parametrize("text, says", [
    ("node1", "does not start with ssh://"),
    ("unix:///run/containerd/containerd.sock", "does not start with ssh://"),
    ("ssh://", "names no host"),
    ("ssh://root@", "names no host"),
    ("ssh://:22", "names no host"),
    ("ssh://-oProxyCommand=touch%20x", "starts with '-'"),
    ("ssh://-oProxyCommand=id/run/c.sock", "starts with '-'"),
    ("ssh://-p/x", "starts with '-'"),
    ("ssh://-x@host", "is not a user name"),
    ("ssh://host:0", "port '0'"),
    ("ssh://host:65536", "port '65536'"),
    ("ssh://host:22a", "port '22a'"),
    ("ssh://host:", "port ''"),
    ("ssh://host/", "'/' is not a socket path"),
    ("ssh://host/run/../etc/shadow", "is not an absolute, plain path"),
    ("ssh://host/run/a:b.sock", "is not an absolute, plain path"),
    ("ssh://host//run/c.sock", "is not an absolute, plain path"),
    ("ssh://host/run/ c.sock", "holds a space"),
    ("ssh://host\n-oX=y", "holds a space"),
    ("ssh://host?x=1", "'?' or '#'"),
    ("ssh://[::1", "'[' without ']'"),
    ("ssh://[node]:22", "is not an IPv6 address"),
    ("ssh://[::1]x", "unexpected"),
    ("ssh://ho;st", "is not a host name"),
    ("ssh://host/" + "a" * 120, "longer than 107 bytes"),
])
def test_refuses_with_a_clear_reason(text, says):
    with pytest.raises(errors.InvalidArgument) as exc:
        addr.parse(text)
    assert says in str(exc.value)
    assert "\n" not in str(exc.value)


def test_is_ssh_address():
    assert addr.is_ssh_address("ssh://n")
    assert not addr.is_ssh_address("/run/containerd/containerd.sock")
    assert not addr.is_ssh_address(None)
