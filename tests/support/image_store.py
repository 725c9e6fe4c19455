"""A store of many OCI images, written straight into containerd's layout (no per-blob fsync).

For the graph benchmark (tests/perf/bench_graph.py) and for the tests that compare the serial and
the parallel recognition of a real store: ``images`` two-platform image indexes (so 2x manifests
and 2x configs), a pool of gzip tar layers (each manifest lists 8, so layers are shared between
images), and small random blobs that nothing references, up to ``blobs`` in all.  Labels are the
ones ``ctr images import`` sets (index ``m.<i>``, manifest ``config`` + ``l.<i>``).
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import random
import shutil
import tarfile
from pathlib import Path

from store import LocalStore, oci


def _write(blobs: Path, data: bytes) -> tuple[str, int]:
    hexd = hashlib.sha256(data).hexdigest()
    p = blobs / hexd
    if not p.exists():
        p.write_bytes(data)
        os.chmod(p, 0o444)
    return "sha256:" + hexd, len(data)


def _layer(i: int) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as t:
        data = f"layer {i}\n".encode() * 8
        ti = tarfile.TarInfo(f"data/{i}.txt")
        ti.size = len(data)
        t.addfile(ti, io.BytesIO(data))
    return gzip.compress(buf.getvalue(), mtime=0)


def populate(root: Path, blobs_total: int, images: int, seed: int = 5) -> dict:
    """Build the store once (kept between runs, keyed by its shape)."""
    marker = root / "shape.json"
    shape = {"blobs": blobs_total, "images": images, "seed": seed, "v": 1}
    if marker.exists() and json.loads(marker.read_text()) == shape:
        return shape
    if root.exists():
        shutil.rmtree(root)
    content = root / "content"
    blobs = content / "blobs" / "sha256"
    blobs.mkdir(parents=True)
    rnd = random.Random(seed)
    store = LocalStore(content)
    pool = [_write(blobs, _layer(i)) for i in range(max(16, images * 8))]
    count = len(pool)
    for n in range(images):
        entries = []
        for arch in ("amd64", "arm64"):
            cfg = json.dumps({"architecture": arch, "os": "linux", "config": {"Labels": {"n": str(n)}},
                              "rootfs": {"type": "layers", "diff_ids": []}}).encode()
            c, cn = _write(blobs, cfg)
            layers = rnd.sample(pool, 8)
            m = {"schemaVersion": 2, "mediaType": oci.OCI_MANIFEST,
                 "config": {"mediaType": oci.OCI_CONFIG, "digest": c, "size": cn},
                 "layers": [{"mediaType": oci.OCI_LAYER_GZIP, "digest": d, "size": s} for d, s in layers]}
            md, mn = _write(blobs, json.dumps(m).encode())
            lab = {"containerd.io/gc.ref.content.config": c}
            lab.update({f"containerd.io/gc.ref.content.l.{i}": d for i, (d, _) in enumerate(layers)})
            store.labels.set(md, lab)
            entries.append((md, mn, arch))
            count += 2
        idx = {"schemaVersion": 2, "mediaType": oci.OCI_INDEX, "manifests": [
            {"mediaType": oci.OCI_MANIFEST, "digest": d, "size": s, "platform": {"os": "linux", "architecture": a}}
            for d, s, a in entries]}
        xd, _ = _write(blobs, json.dumps(idx).encode())
        store.labels.set(xd, {f"containerd.io/gc.ref.content.m.{i}": d for i, (d, _, _) in enumerate(entries)})
        count += 1
    while count < blobs_total:
        _write(blobs, rnd.randbytes(256))
        count += 1
    marker.write_text(json.dumps(shape))
    return shape
