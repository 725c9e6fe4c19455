"""``blobctl`` global options for daemons: precedence of --root/--address and the environment, usage errors."""

from __future__ import annotations

import pytest

from store import cli


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch):
    for name in ("CONTAINERD_ADDRESS", "CONTAINERD_NAMESPACE", "BLOBSCOPE_ROOT"):
        monkeypatch.delenv(name, raising=False)


def ctx(*argv):
    return cli.Context(cli.build_parser().parse_args(list(argv)), None, None)


def test_address_precedence(monkeypatch, tmp_path):
    assert ctx("ls").address is None
    assert ctx("-a", "/run/x.sock", "ls").address == "/run/x.sock"
    assert ctx("ls", "--address", "tcp://h:1").address == "tcp://h:1"  # after the command too
    monkeypatch.setenv("CONTAINERD_ADDRESS", "unix:///env.sock")
    assert ctx("ls").address == "unix:///env.sock"
    assert ctx("--root", str(tmp_path), "ls").address is None  # an explicit directory beats the environment
    assert ctx("-a", "/flag.sock", "ls").address == "/flag.sock"


def test_namespace_precedence(monkeypatch):
    assert ctx("ls").namespace == "default" and not ctx("ls").namespace_given
    monkeypatch.setenv("CONTAINERD_NAMESPACE", "k8s.io")
    assert ctx("ls").namespace == "k8s.io"
    assert ctx("-n", "moby", "ls").namespace == "moby"
    assert ctx("ls", "--namespace", "x").namespace == "x"


def run(capsys, *argv):
    rc = cli.main(list(argv))
    out, err = capsys.readouterr()
    assert err.count("\n") <= 1 and "Traceback" not in err
    return rc, out, err


def test_usage_errors_change_nothing(capsys, tmp_path):
    store = tmp_path / "s"
    rc, _, err = run(capsys, "--root", str(store), "--address", "/x.sock", "import", str(tmp_path))
    assert rc == 2 and "exclude each other" in err and not store.exists()
    rc, _, err = run(capsys, "--force", "-a", "/x.sock", "ls")
    assert rc == 2 and "--force is for --root" in err
    rc, _, err = run(capsys, "--root", str(tmp_path), "--tls-ca", "ca.pem", "ls")
    assert rc == 2 and "go with --address" in err
    rc, _, err = run(capsys, "-a", "tcp://h:1", "--tls-cert", "c.pem", "ls")
    assert rc == 2 and "go together" in err
    rc, _, err = run(capsys, "--root", str(tmp_path), "-n", "team", "ls")
    assert rc == 1 and "no namespaces" in err
    rc, _, err = run(capsys, "--root", str(tmp_path), "where", "sha256:" + "a" * 64)
    assert rc == 1 and "plain content store" in err


def test_tls_files_must_be_readable(capsys, tmp_path):
    rc, _, err = run(capsys, "-a", "tcp://127.0.0.1:1", "--tls-ca", str(tmp_path / "missing.pem"), "ls")
    assert rc == 1 and "cannot read TLS file" in err and "missing.pem" in err
