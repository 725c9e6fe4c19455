"""The test helpers themselves: the private daemon never leaks, and umoci images import."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from tests.support.containerd import ContainerdDaemon
from tests.support.images import describe_layout, layout_blobs, make_oci_image

pytestmark = pytest.mark.integration
REPO = Path(__file__).resolve().parents[2]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie still answers kill(0); treat it as gone
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except OSError:
        return False


def test_daemon_private_root_and_restart(tmp_path):
    d = ContainerdDaemon(tmp_path)
    try:
        d.start()
        pid = d.pid
        assert pid and _alive(pid)
        assert d.content_root == d.root / "io.containerd.content.v1.content"
        assert Path(d.address).is_socket()
        assert str(tmp_path) in d.config_path.read_text()
        assert "io.containerd.grpc.v1.cri" in d.config_path.read_text()
        d.ctr("content", "ingest", "keep", input=b"kept across restarts\n")
        digests = d.content_digests()
        assert len(digests) == 1
        d.stop()
        assert d.pid is None and not _alive(pid)
        d.start()
        assert d.pid != pid
        assert d.content_digests() == digests
    finally:
        d.close()
    assert not d.running


def test_daemon_refuses_the_system_root(tmp_path):
    with pytest.raises(ValueError, match="/var/lib/containerd"):
        ContainerdDaemon("/var/lib/containerd")


def test_long_tmp_path_still_gets_a_usable_socket(tmp_path):
    deep = tmp_path / ("x" * 60) / ("y" * 60)
    with ContainerdDaemon(deep) as d:
        assert len(d.address) < 100
        assert "Server:" in d.ctr("version").stdout
    assert not Path(d.address).parent.exists()


@pytest.mark.parametrize("how", ["exception", "sigint", "sigkill"])
def test_no_daemon_survives_its_python_process(tmp_path, how):
    """A test process that dies with a daemon still up (exception, Ctrl-C) takes the daemon with it."""
    pidfile = tmp_path / "pid"
    code = textwrap.dedent(f"""
        import os, signal, sys, time
        sys.path.insert(0, {str(REPO)!r})
        from tests.support.containerd import ContainerdDaemon
        d = ContainerdDaemon({str(tmp_path)!r}).start()
        open({str(pidfile)!r}, "w").write(str(d.pid))
        if {how!r} == "sigint":
            # a background job of a non-interactive shell (a CI runner) inherits SIGINT ignored
            signal.signal(signal.SIGINT, signal.default_int_handler)
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(30)
        if {how!r} == "sigkill":  # no atexit, no finalizer: only the parent-death signal is left
            os.kill(os.getpid(), signal.SIGKILL)
        raise RuntimeError("test body failed")
    """)
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert r.returncode != 0
    if how != "sigkill":
        assert ("KeyboardInterrupt" if how == "sigint" else "test body failed") in r.stderr
    pid = int(pidfile.read_text())
    deadline = time.monotonic() + 5
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(pid), f"containerd pid {pid} outlived its test process"


def test_multi_platform_image_imports_whole(containerd, tmp_path):
    archive = make_oci_image(tmp_path, name="example.org/fixture/multi:2.0", platforms=("amd64", "arm64"))
    desc = describe_layout(archive.parent / "layout")
    assert desc.index is not None and set(desc.manifests) == {"amd64", "arm64"}
    assert desc.manifests["amd64"] != desc.manifests["arm64"]
    containerd.ctr("images", "import", "--all-platforms", str(archive))
    images = containerd.ctr("images", "ls").stdout
    assert "example.org/fixture/multi:2.0" in images and "linux/arm64" in images
    containerd.wait_for_gc()
    listed = containerd.content_ls()
    blobs = layout_blobs(archive.parent / "layout")
    assert set(blobs) <= set(listed)
    # containerd labelled the index with one gc reference per manifest
    index_labels = listed[desc.index]["labels"]
    assert {v for k, v in index_labels.items() if k.startswith("containerd.io/gc.ref.content.m.")} \
        == set(desc.manifests.values())
