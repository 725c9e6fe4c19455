"""A temporary store with realistic content, so a first look at Blobscope shows what it does.

It holds a small OCI image made here (index, manifest, config, two gzip layers
built with tarfile), labelled the way a containerd pull labels content, a few
other labelled blobs, one stalled ingest and one that keeps growing while the
demo runs.  No Qt: the packaging test builds it headless.
"""

from __future__ import annotations

import gzip
import io
import json
import logging
import os
import random
import shutil
import tarfile
import tempfile
import threading
import time
from pathlib import Path

from store import Digest, LocalStore
from store.timestamps import format_rfc3339

log = logging.getLogger(__name__)

MT_INDEX = "application/vnd.oci.image.index.v1+json"
MT_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
MT_CONFIG = "application/vnd.oci.image.config.v1+json"
MT_LAYER = "application/vnd.oci.image.layer.v1.tar+gzip"
SOURCE = "containerd.io/distribution.source.docker.io"
GROWING_REF = "default/1/layer-sha256:growing-download"
STALLED_REF = "default/1/manifest-sha256:interrupted-pull"


def _tar_gz(files: dict[str, bytes], mtime: int = 1_700_000_000) -> tuple[bytes, bytes]:
    """(gzip bytes, tar bytes) of a layer holding ``files``; reproducible."""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
        dirs = sorted({str(Path(n).parent) for n in files if str(Path(n).parent) != "."})
        for d in dirs:
            ti = tarfile.TarInfo(d)
            ti.type = tarfile.DIRTYPE
            ti.mode = 0o755
            ti.mtime = mtime
            tar.addfile(ti)
        for name, data in sorted(files.items()):
            ti = tarfile.TarInfo(name)
            ti.size = len(data)
            ti.mode = 0o644
            ti.mtime = mtime
            tar.addfile(ti, io.BytesIO(data))
    tar_bytes = raw.getvalue()
    return gzip.compress(tar_bytes, compresslevel=6, mtime=0), tar_bytes


def _desc(mt: str, data: bytes, **extra) -> dict:
    d = {"mediaType": mt, "digest": str(Digest.from_bytes(data)), "size": len(data)}
    d.update(extra)
    return d


def _commit(store: LocalStore, ref: str, data: bytes, labels: dict[str, str]) -> Digest:
    expected = Digest.from_bytes(data)
    with store.writer(ref, total=len(data), expected=expected) as w:
        w.write(data)
        w.commit(len(data), expected, labels=labels)
    return expected


def _pseudo_random(n: int, seed: int) -> bytes:
    rnd = random.Random(seed)
    return rnd.randbytes(n)


class DemoStore:
    def __init__(self, root: Path, tmp: Path):
        self.root = root
        self._tmp = tmp
        self.store = LocalStore(root)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._started = threading.Event()

    def start_growing(self, chunk: int = 96 * 1024, interval: float = 0.5) -> None:
        """Append to the growing ingest in the background until :meth:`close`."""
        if self._thread is not None:
            return
        self._thread = threading.Thread(target=self._grow, args=(chunk, interval),
                                        name="blobscope-demo-ingest", daemon=True)
        self._thread.start()
        self._started.wait(5)  # a listing right away sees a complete ingest, not a half-made one

    def _grow(self, chunk: int, interval: float) -> None:
        total = 48 * 1024 * 1024
        try:
            with self.store.writer(GROWING_REF, total=total) as w:
                w.write(_pseudo_random(chunk, 0))
                self._started.set()
                n = 1
                while not self._stop.wait(interval):
                    if w.status().offset + chunk > total:
                        break
                    w.write(_pseudo_random(chunk, n))
                    n += 1
        except Exception as e:  # noqa: BLE001 - the demo must never take the window down
            log.info("demo ingest stopped: %s", e)
        finally:
            self._started.set()

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)
        shutil.rmtree(self._tmp, ignore_errors=True)


def populate(store: LocalStore) -> dict[str, Digest]:
    """Fill ``store`` with the demo content; returns the interesting digests by name."""
    now = format_rfc3339(time.time_ns())
    source = {SOURCE: "library/blobscope-demo"}
    files1 = {
        "etc/os-release": b'NAME="Blobscope Demo Linux"\nID=demo\nVERSION_ID=1.0\n',
        "etc/hostname": b"demo\n",
        "bin/hello": b"#!/bin/sh\necho 'hello from a containerd content store'\n",
        "usr/share/doc/README": b"This layer was built by blobscope --demo.\n" * 40,
        "usr/lib/libdemo.so": _pseudo_random(180_000, 1),
    }
    files2 = {
        "app/server.py": b"import http.server\nhttp.server.test(port=8080)\n",
        "app/static/logo.bin": _pseudo_random(420_000, 2),
        "app/config.json": json.dumps({"listen": ":8080", "debug": False}).encode(),
    }
    layer1, tar1 = _tar_gz(files1)
    layer2, tar2 = _tar_gz(files2)
    diff_ids = [str(Digest.from_bytes(tar1)), str(Digest.from_bytes(tar2))]
    config = json.dumps({
        "created": "2026-11-01T12:00:00Z",
        "architecture": "amd64",
        "os": "linux",
        "config": {"Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
                   "Cmd": ["/bin/hello"], "WorkingDir": "/app",
                   "Labels": {"org.opencontainers.image.title": "blobscope-demo"}},
        "rootfs": {"type": "layers", "diff_ids": diff_ids},
        "history": [{"created": "2026-11-01T12:00:00Z", "created_by": "ADD rootfs /"},
                    {"created": "2026-11-01T12:00:01Z", "created_by": "COPY app /app"}],
    }, indent=2).encode()
    manifest = json.dumps({
        "schemaVersion": 2,
        "mediaType": MT_MANIFEST,
        "config": _desc(MT_CONFIG, config),
        "layers": [_desc(MT_LAYER, layer1), _desc(MT_LAYER, layer2)],
        "annotations": {"org.opencontainers.image.created": "2026-11-01T12:00:00Z"},
    }, indent=2).encode()
    index = json.dumps({
        "schemaVersion": 2,
        "mediaType": MT_INDEX,
        "manifests": [_desc(MT_MANIFEST, manifest,
                            platform={"architecture": "amd64", "os": "linux"})],
        "annotations": {"org.opencontainers.image.ref.name": "docker.io/library/blobscope-demo:1.0"},
    }, indent=2).encode()

    d: dict[str, Digest] = {}
    d["layer1"] = _commit(store, "demo-layer-1", layer1, {**source, "containerd.io/uncompressed": diff_ids[0]})
    d["layer2"] = _commit(store, "demo-layer-2", layer2, {**source, "containerd.io/uncompressed": diff_ids[1]})
    d["config"] = _commit(store, "demo-config", config, {
        **source, "containerd.io/gc.ref.snapshot.overlayfs": diff_ids[1]})
    d["manifest"] = _commit(store, "demo-manifest", manifest, {
        **source,
        "containerd.io/gc.ref.content.config": str(d["config"]),
        "containerd.io/gc.ref.content.l.0": str(d["layer1"]),
        "containerd.io/gc.ref.content.l.1": str(d["layer2"]),
    })
    d["index"] = _commit(store, "demo-index", index, {
        **source, "containerd.io/gc.root": now,
        "containerd.io/gc.ref.content.m.0": str(d["manifest"]),
    })
    d["notes"] = _commit(store, "demo-notes", (
        "Release notes\n=============\n\n* Blobscope shows blobs, ingests and labels.\n"
        "* Select a blob to see its bytes; JSON is pretty-printed.\n").encode(),
        {"containerd.io/gc.root": now, "example.com/kind": "notes"})
    d["sbom"] = _commit(store, "demo-sbom", json.dumps({
        "spdxVersion": "SPDX-2.3", "name": "blobscope-demo", "packages": [
            {"name": "libdemo", "versionInfo": "1.0"}, {"name": "server", "versionInfo": "0.3"}]},
        indent=1).encode(), {"example.com/kind": "sbom", "example.com/note": "<b>x</b> is not bold"})
    for i in range(12):  # unlabelled leftovers of old pulls: what GC would collect
        data = _pseudo_random(1024 * (3 ** (i % 7)) + i, 100 + i)
        d[f"orphan{i}"] = _commit(store, f"demo-orphan-{i}", data, {})

    # An interrupted pull: part of a blob, untouched for two hours.
    target = _pseudo_random(2_000_000, 7)
    with store.writer(STALLED_REF, total=len(target)) as w:
        w.write(target[:700_000])
    _age_ingest(store, STALLED_REF, hours=2)
    return d


def _age_ingest(store: LocalStore, ref: str, hours: float) -> None:
    """Make an ingest look old, as containerd's files would after an interrupted pull."""
    path = store.ingest_dir(ref)
    then = time.time_ns() - int(hours * 3600 * 1e9)
    for name in ("startedat", "updatedat"):
        (path / name).write_text(format_rfc3339(then - (10**9 if name == "startedat" else 0)))
    os.utime(path / "data", ns=(then, then))


def build_demo_store(parent: str | None = None) -> DemoStore:
    tmp = Path(tempfile.mkdtemp(prefix="blobscope-demo-", dir=parent))
    root = tmp / "io.containerd.content.v1.content"
    demo = DemoStore(root, tmp)
    populate(demo.store)
    log.info("demo store at %s", root)
    return demo

