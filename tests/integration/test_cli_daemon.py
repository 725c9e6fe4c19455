"""``blobctl --address``: every subcommand through a real containerd daemon, namespaces, ``where``,
the unreachable-daemon message, ``-n`` isolation, and ``--root`` on a root whose daemon runs."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from store import Digest, cli

pytestmark = [pytest.mark.integration, pytest.mark.timeout(180)]

REPO = Path(__file__).resolve().parents[2]
GC_ROOT = "containerd.io/gc.root"


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch, tmp_path):
    for name in ("CONTAINERD_ADDRESS", "CONTAINERD_NAMESPACE", "BLOBSCOPE_ROOT"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg-cache"))  # graph commands cache media types


def run(capsys, *argv) -> tuple[int, str, str]:
    rc = cli.main(list(argv))
    out, err = capsys.readouterr()
    return rc, out, err


def one_line(err: str) -> str:
    assert err.startswith("blobctl: ") and err.count("\n") == 1 and "Traceback" not in err, repr(err)
    return err[len("blobctl: "):-1]


def ingest(capsys, addr, data: bytes, ref: str, *extra, monkeypatch, ns="default") -> str:
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data)))
    rc, out, err = run(capsys, "-a", addr, "-n", ns, "ingest", ref, "--expected-size", str(len(data)), *extra)
    assert rc == 0, err
    return out.strip()


def test_every_subcommand_through_the_daemon(capsys, containerd, tmp_path, monkeypatch):
    addr = f"unix://{containerd.address}"
    # ingest: standard input through the daemon, protected by gc.root by default
    data = b"through the daemon\n"
    d = ingest(capsys, addr, data, "cli-ingest", monkeypatch=monkeypatch)
    assert d == Digest.from_bytes(data)
    containerd.wait_for_gc()
    listed = containerd.content_ls()
    assert d in listed and GC_ROOT in listed[d]["labels"], listed

    # import: files under a lease, ending with the user's labels plus gc.root
    files = []
    for i, payload in enumerate([b"alpha file", b"beta file"]):
        f = tmp_path / f"f{i}.bin"
        f.write_bytes(payload)
        files.append((f, Digest.from_bytes(payload)))
    rc, out, err = run(capsys, "--address", addr, "import", "--label", "team=blue", *(str(f) for f, _ in files))
    assert rc == 0, err
    assert out.split() == [str(files[0][1]), str(files[0][0]), str(files[1][1]), str(files[1][0])]
    containerd.wait_for_gc()
    listed = containerd.content_ls()
    for _, dg in files:
        assert listed[dg]["labels"].get("team") == "blue" and GC_ROOT in listed[dg]["labels"]
    leases = containerd.ctr("leases", "ls", "-q").stdout.split()
    assert not [x for x in leases if x.startswith("blobscope-")], f"import left leases behind: {leases}"

    # ls (text, quiet, json, filters) equals what ctr reports
    rc, out, err = run(capsys, "-a", addr, "ls", "-q")
    assert rc == 0 and set(out.split()) == containerd.content_digests(), err
    rc, out, _ = run(capsys, "-a", addr, "ls", "--json", "labels.team==blue")
    rows = json.loads(out)
    assert {r["digest"] for r in rows} == {str(dg) for _, dg in files}
    assert all(r["labels"]["team"] == "blue" for r in rows)
    rc, out, _ = run(capsys, "-a", addr, "ls")
    assert out.splitlines()[0].split() == ["DIGEST", "SIZE", "AGE", "LABELS"] and d in out

    # get
    rc = cli.main(["-a", addr, "get", d])
    out = capsys.readouterr().out
    assert rc == 0 and out == data.decode()

    # label: set, bare key, remove
    rc, out, err = run(capsys, "-a", addr, "label", d, "owner=ops", "pinned", "--json")
    assert rc == 0, err
    assert json.loads(out)["owner"] == "ops" and json.loads(out)["pinned"] == "true"
    rc, out, _ = run(capsys, "-a", addr, "label", d, "owner=", "--json")
    assert "owner" not in json.loads(out) and containerd.content_ls()[d]["labels"].get("pinned") == "true"

    # verify: all blobs read back through the daemon
    rc, out, err = run(capsys, "-a", addr, "verify", "--json")
    assert rc == 0, err
    assert {r["digest"] for r in json.loads(out)} == containerd.content_digests()
    assert all(r["ok"] for r in json.loads(out))

    # active + abort: an unfinished write (kept by its own lease)
    store = cli.Context(cli.build_parser().parse_args(["-a", addr, "ls"]), sys.stdout, sys.stderr).daemon()
    w = store.writer("cli-unfinished", total=100)
    w.write(b"x" * 10)
    w.close()
    rc, out, _ = run(capsys, "-a", addr, "active", "--json")
    assert [s["ref"] for s in json.loads(out)] == ["cli-unfinished"] and json.loads(out)[0]["offset"] == 10
    rc, out, err = run(capsys, "-a", addr, "abort", "cli-unfinished", "no-such-ref")
    assert rc == 0 and out.split() == ["cli-unfinished"] and "no ingest 'no-such-ref'" in err
    assert "cli-unfinished" not in containerd.ctr("content", "active").stdout
    rc, _, err = run(capsys, "-a", addr, "abort", "--broken", "x")
    assert rc == 1 and "directory stores" in one_line(err)
    store.close()

    # du
    rc, out, err = run(capsys, "-a", addr, "du", "--json")
    assert rc == 0, err
    figures = json.loads(out)
    assert figures["blob_count"] == 3 and figures["blob_bytes"] == len(data) + len(b"alpha file") + len(b"beta file")
    assert figures["ingest_count"] == 0

    # tree and refs on a hand-made image imported through the daemon
    config = json.dumps({"architecture": "amd64", "os": "linux", "rootfs": {"type": "layers", "diff_ids": []}}).encode()
    layer = b"not really a tar but a layer"
    cfg_f, layer_f = tmp_path / "config.json", tmp_path / "layer.bin"
    cfg_f.write_bytes(config)
    layer_f.write_bytes(layer)
    manifest = json.dumps({
        "schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                   "digest": Digest.from_bytes(config), "size": len(config)},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar",
                    "digest": Digest.from_bytes(layer), "size": len(layer)}]}).encode()
    man_f = tmp_path / "manifest.json"
    man_f.write_bytes(manifest)
    rc, _, err = run(capsys, "-a", addr, "import", str(cfg_f), str(layer_f), str(man_f))
    assert rc == 0, err
    man_d = Digest.from_bytes(manifest)
    rc, out, err = run(capsys, "-a", addr, "tree")
    assert rc == 0, err
    assert man_d.short(12) in out or man_d in out, out
    rc, out, err = run(capsys, "-a", addr, "refs", Digest.from_bytes(layer))
    assert rc == 0, err
    assert man_d in out and "parents:" in out

    # rm: deletes through the daemon, a missing one is skipped with a note
    missing = Digest.from_bytes(b"never stored")
    rc, out, err = run(capsys, "-a", addr, "rm", files[1][1], missing)
    assert rc == 0 and out.split() == [str(files[1][1])] and "skipped" in err
    assert files[1][1] not in containerd.content_digests()


def test_namespaces_where_and_isolation(capsys, containerd, monkeypatch):
    addr = containerd.address  # a bare socket path works too
    shared = b"in two namespaces"
    only_b = b"only in team-b"
    d1 = ingest(capsys, addr, shared, "ns-a", monkeypatch=monkeypatch, ns="team-a")
    ingest(capsys, addr, shared, "ns-b", monkeypatch=monkeypatch, ns="team-b")
    d2 = ingest(capsys, addr, only_b, "ns-b2", monkeypatch=monkeypatch, ns="team-b")
    rc, out, err = run(capsys, "-a", addr, "namespaces")
    assert rc == 0 and out.split() == ["team-a", "team-b"], err
    expected = sorted(containerd.ctr("namespaces", "ls", "-q").stdout.split())
    rc, out, _ = run(capsys, "-a", addr, "namespaces", "--json")
    assert json.loads(out) == expected
    rc, out, _ = run(capsys, "-a", addr, "where", d1)
    assert rc == 0 and out.split() == ["team-a", "team-b"]
    rc, out, _ = run(capsys, "-a", addr, "where", d2, "--json")
    assert json.loads(out) == ["team-b"]
    rc, out, err = run(capsys, "-a", addr, "where", Digest.from_bytes(b"nowhere"))
    assert rc == 1 and out == "" and "no namespace holds" in err
    # -n isolation: team-a sees only its own record; CONTAINERD_NAMESPACE is the default for -n
    rc, out, _ = run(capsys, "-a", addr, "-n", "team-a", "ls", "-q")
    assert out.split() == [d1]
    monkeypatch.setenv("CONTAINERD_NAMESPACE", "team-b")
    monkeypatch.setenv("CONTAINERD_ADDRESS", f"unix://{addr}")
    rc, out, _ = run(capsys, "ls", "-q")
    assert sorted(out.split()) == sorted([d1, d2])
    rc, out, err = run(capsys, "-n", "team-a", "get", d2)
    assert rc == 1 and d2 in one_line(err) and "not found" in err
    rc, _, err = run(capsys, "-n", "team-a", "rm", d2)
    assert rc == 0 and "skipped" in err
    assert d2 in containerd.content_digests("team-b")
    # the same namespaces offline, from meta.db, once the daemon stopped
    monkeypatch.delenv("CONTAINERD_ADDRESS")
    containerd.stop()
    rc, out, err = run(capsys, "--root", str(containerd.root), "namespaces")
    assert rc == 0 and out.split() == ["team-a", "team-b"], err
    rc, out, err = run(capsys, "--root", str(containerd.root), "where", d1)
    assert rc == 0 and out.split() == ["team-a", "team-b"], err
    rc, out, err = run(capsys, "--root", str(containerd.root), "-n", "team-b", "ls", "--json")
    assert rc == 0, err
    assert {r["digest"] for r in json.loads(out)} == {d1, d2}
    assert all(GC_ROOT in r["labels"] for r in json.loads(out))  # labels from meta.db


def test_unreachable_address_and_usage_errors(capsys, tmp_path):
    gone = tmp_path / "nobody.sock"
    rc, out, err = run(capsys, "-a", f"unix://{gone}", "ls")
    msg = one_line(err)
    assert rc == 1 and out == ""
    assert f"cannot reach containerd at unix://{gone}" in msg and "check that the daemon runs" in msg
    rc, _, err = run(capsys, "-a", str(gone), "namespaces")
    assert rc == 1 and "cannot reach containerd" in one_line(err)
    rc, _, err = run(capsys, "-a", "ftp://x", "ls")
    assert rc == 1 and "unknown scheme" in one_line(err)
    rc, _, err = run(capsys, "--root", str(tmp_path), "-a", str(gone), "ls")
    assert rc == 2 and "exclude each other" in one_line(err)
    rc, _, err = run(capsys, "-a", str(gone), "-n", "bad/ns", "ls")
    assert rc == 1 and "not a valid containerd identifier" in one_line(err)
    rc, _, err = run(capsys, "-a", str(gone), "import", "--no-gc-root", str(tmp_path))
    assert rc == 2 and "garbage collector" in one_line(err)
    rc, _, err = run(capsys, "--root", str(tmp_path), "namespaces")
    assert rc == 1 and "plain content store" in one_line(err)


def test_root_of_a_running_daemon_points_at_its_socket(capsys, containerd):
    for target in (containerd.root, containerd.content_root):
        for argv in (["ls"], ["namespaces"], ["--force", "rm", Digest.from_bytes(b"x")]):
            rc, out, err = run(capsys, "--root", str(target), *argv)
            msg = one_line(err)
            assert rc == 1 and out == ""
            assert "running" in msg and f"blobctl --address {containerd.address}" in msg, msg


def test_subprocess_address_from_environment(containerd, tmp_path):
    data = tmp_path / "blob"
    data.write_bytes(b"via python -m store")
    env = {**os.environ, "CONTAINERD_ADDRESS": containerd.address, "CONTAINERD_NAMESPACE": "proc",
           "XDG_CACHE_HOME": str(tmp_path / "xdg")}
    env.pop("BLOBSCOPE_ROOT", None)
    r = subprocess.run([sys.executable, "-m", "store", "import", str(data)], cwd=REPO, env=env,
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert Digest.from_bytes(b"via python -m store") in containerd.content_digests("proc")


def test_no_gc_root_keeps_only_the_users_labels(capsys, containerd, tmp_path):
    addr = containerd.address
    kept, dropped = tmp_path / "kept", tmp_path / "dropped"
    kept.write_bytes(b"kept by the user's own gc.root label")
    dropped.write_bytes(b"only a plain label: collected once the lease ends")
    rc, _, err = run(capsys, "-a", addr, "import", "--no-gc-root", "--label", "containerd.io/gc.root=mine", str(kept))
    assert rc == 0, err
    rc, _, err = run(capsys, "-a", addr, "import", "--no-gc-root", "--label", "team=x", str(dropped))
    assert rc == 0, err
    # the collection after the import's lease ends may start late on a loaded machine: wait for the
    # blob that has no root to go (it never goes if a gc.root was added behind the user's back)
    gone = Digest.from_bytes(dropped.read_bytes())
    deadline = time.monotonic() + 30
    while gone in (listed := containerd.content_ls()) and time.monotonic() < deadline:
        containerd.wait_for_gc()
    assert listed[Digest.from_bytes(kept.read_bytes())]["labels"] == {"containerd.io/gc.root": "mine"}
    assert gone not in listed  # no gc.root was added behind the user's back
