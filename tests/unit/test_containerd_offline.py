"""store.containerd_root.daemon_address: a running containerd's socket from its command line and config."""

from __future__ import annotations

import subprocess
import time

import pytest

from store import containerd_root as offline


@pytest.fixture
def fake_daemon(tmp_path):
    """Start a process whose command line names a program called ``containerd`` with the given flags."""
    exe = tmp_path / "containerd"
    exe.write_text("#!/bin/sh\nsleep 30\n")
    exe.chmod(0o755)
    procs = []

    def start(*args: str) -> int:
        p = subprocess.Popen([str(exe), *args])
        procs.append(p)
        deadline = time.monotonic() + 5
        # /proc/<pid>/cmdline is the shell running the script once exec has happened.
        while time.monotonic() < deadline and str(exe).encode() not in open(f"/proc/{p.pid}/cmdline", "rb").read():
            time.sleep(0.01)
        return p.pid

    yield start
    for p in procs:
        p.kill()
        p.wait()


def test_daemon_address_from_flags_then_config_then_default(fake_daemon, tmp_path):
    config = tmp_path / "config.toml"
    config.write_text('[grpc]\naddress = "/tmp/from-config.sock"\n')
    cases = [
        (["--address", "/a.sock"], "/a.sock"),
        (["-a=/b.sock"], "/b.sock"),
        (["-c", str(config)], "/tmp/from-config.sock"),
        ([f"--config={config}"], "/tmp/from-config.sock"),
        (["-c", str(config), "-a", "/wins.sock"], "/wins.sock"),
        (["--config=/nonexistent/config.toml"], offline.DEFAULT_ADDRESS),
        (["-a"], offline.DEFAULT_ADDRESS),  # a flag without its value is ignored
    ]
    for args, want in cases:
        assert offline.daemon_address(fake_daemon(*args)) == want, args


def test_daemon_address_of_another_program_is_none(tmp_path):
    p = subprocess.Popen(["sleep", "30"])
    try:
        assert offline.daemon_address(p.pid) is None
    finally:
        p.kill()
        p.wait()
