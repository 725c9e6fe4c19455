"""ContainerdStore over TCP, plain and with mutual TLS, against containerd's ``[grpc] tcp_address``.

Finding (containerd 1.6.20): the TCP listener serves only services that opt in with
``RegisterTCP`` (services/server/server.go), which in 1.x is CRI alone; the content, leases
and namespaces services answer ``unknown service`` there.  So these tests prove that the
client connects (plain, and TLS with a client certificate: the daemon *answers*), that a
failed handshake is Unavailable, and that the unimplemented service is explained in a
sentence pointing at the socket.  Content traffic over TCP needs a newer daemon or a
forwarded unix socket.
"""

from __future__ import annotations

import socket
import subprocess

import pytest

from store import Digest, errors
from store.containerd import ContainerdStore, TLSConfig
from tests.support.containerd import ContainerdDaemon

pytestmark = pytest.mark.integration


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class TcpDaemon(ContainerdDaemon):
    """The test daemon with a loopback TCP listener added to its ``[grpc]`` table."""

    def __init__(self, tmp_path, *, port: int, tls: dict[str, str] | None = None, **kw):
        super().__init__(tmp_path, **kw)
        self.port = port
        self.tls = tls or {}

    def _write_config(self) -> None:
        super()._write_config()
        lines = [f'  tcp_address = "127.0.0.1:{self.port}"']
        lines += [f'  tcp_tls_{key} = "{value}"' for key, value in self.tls.items()]
        text = self.config_path.read_text()
        assert "[grpc]\n" in text
        self.config_path.write_text(text.replace("[grpc]\n", "[grpc]\n" + "\n".join(lines) + "\n", 1))


def _openssl(*args, cwd):
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    """A throwaway CA, a server certificate for 127.0.0.1/localhost and a client certificate."""
    d = tmp_path_factory.mktemp("pki")
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    _openssl("req", "-x509", *ec, "-keyout", "ca.key", "-out", "ca.pem", "-days", "2", "-subj", "/CN=blobscope test CA",
             cwd=d)
    for name, ext in (("server", "subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth"),
                      ("client", "extendedKeyUsage=clientAuth")):
        (d / f"{name}.ext").write_text(ext + "\n")
        _openssl("req", *ec, "-keyout", f"{name}.key", "-out", f"{name}.csr", "-subj", f"/CN={name}", cwd=d)
        _openssl("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
                 "-out", f"{name}.pem", "-days", "2", "-extfile", f"{name}.ext", cwd=d)
    return d


def _answers_but_serves_no_content_api(store: ContainerdStore) -> None:
    """The daemon answered over TCP (so the connection and any TLS worked) with "unknown service"."""
    with pytest.raises(errors.NotImplementedErr, match="does not serve the containerd.services.namespaces.v1.Namespaces API") as exc:
        store.ping()
    assert "unix socket" in str(exc.value) and "ssh -L" in str(exc.value)
    with pytest.raises(errors.NotImplementedErr, match="containerd.services.content.v1.Content"):
        store.info(Digest.from_bytes(b"x"))
    with pytest.raises(errors.NotImplementedErr, match="containerd.services.content.v1.Content"):
        list(store.walk())


def test_plain_tcp_address(tmp_path):
    port = _free_port()
    with TcpDaemon(tmp_path, port=port) as daemon:
        for address in (f"tcp://127.0.0.1:{port}", f"127.0.0.1:{port}"):
            store = ContainerdStore(address)
            _answers_but_serves_no_content_api(store)
            store.close()
        # The same daemon through its socket serves everything.
        ContainerdStore(daemon.address).ping()
        daemon.stop()
        with pytest.raises(errors.Unavailable, match=f"cannot reach containerd at tcp://127.0.0.1:{port}"):
            ContainerdStore(f"tcp://127.0.0.1:{port}").ping()


def test_mutual_tls(tmp_path, pki):
    port = _free_port()
    tls = {"ca": str(pki / "ca.pem"), "cert": str(pki / "server.pem"), "key": str(pki / "server.key")}
    with TcpDaemon(tmp_path, port=port, tls=tls):
        address = f"tcp://127.0.0.1:{port}"
        good = TLSConfig(ca=str(pki / "ca.pem"), cert=str(pki / "client.pem"), key=str(pki / "client.key"))
        for addr in (address, f"tcp://localhost:{port}"):  # the certificate names both
            store = ContainerdStore(addr, tls=good)
            _answers_but_serves_no_content_api(store)
            store.close()
        # The daemon asks for a client certificate (tcp_tls_ca set): without one, no connection.
        with pytest.raises(errors.Unavailable, match="cannot reach containerd"):
            ContainerdStore(address, tls=TLSConfig(ca=str(pki / "ca.pem"))).ping()
        # A certificate from another CA is refused by the client.
        with pytest.raises(errors.Unavailable, match="cannot reach containerd"):
            ContainerdStore(address, tls=TLSConfig(ca=str(pki / "client.pem"), cert=str(pki / "client.pem"),
                                                   key=str(pki / "client.key"))).ping()
        # A plain client on the TLS port fails the same readable way.
        with pytest.raises(errors.Unavailable, match="cannot reach containerd"):
            ContainerdStore(address).ping()
