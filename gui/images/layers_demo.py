"""A small image whose layers change each other (a file rewritten, files whited out, an opaque
directory), added to the demo store for the Image Layers screenshot."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import tarfile

from store.api import ContentStore
from store.digest import Digest

MT_LAYER = "application/vnd.oci.image.layer.v1.tar+gzip"


def _noise(n: int, seed: int) -> bytes:
    out = bytearray()
    block = str(seed).encode()
    while len(out) < n:
        block = hashlib.sha256(block).digest()
        out += block
    return bytes(out[:n])


def _layer(*entries: tuple[str, bytes | None]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name, data in entries:
            ti = tarfile.TarInfo(name)
            ti.mtime, ti.mode = 1_700_000_000, 0o644
            if data is None:
                ti.type, ti.mode = tarfile.DIRTYPE, 0o755
                tar.addfile(ti)
            else:
                ti.size = len(data)
                tar.addfile(ti, io.BytesIO(data))
    return gzip.compress(buf.getvalue(), mtime=0)


def _put(store: ContentStore, data: bytes, labels: dict[str, str] | None = None) -> Digest:
    d = Digest.from_bytes(data)
    try:
        store.info(d)
        return d
    except Exception:  # noqa: BLE001 - not there yet: write it
        pass
    with store.writer(f"layers-demo-{d.encoded[:16]}", total=len(data), expected=d) as w:
        w.write(data)
        w.commit(len(data), d, labels=labels)
    return d


def add_layered_image(store: ContentStore) -> Digest:
    """Commit the image to ``store``; returns its manifest digest."""
    layers = [
        _layer(("etc", None), ("etc/os-release", b'NAME="Layers Demo"\n'), ("usr", None),
               ("usr/lib/libbig.so", _noise(900_000, 1)), ("var/cache/apt/pkgcache.bin", _noise(600_000, 2)),
               ("var/cache/apt/srcpkgcache.bin", _noise(550_000, 3)), ("opt/tool/tool", _noise(120_000, 4))),
        _layer(("usr/lib/libbig.so", _noise(950_000, 5)), ("app", None), ("app/server.py", b"print('hi')\n"),
               ("app/data.bin", _noise(300_000, 6))),
        _layer(("var/cache/apt/.wh.pkgcache.bin", b""), ("var/cache/apt/.wh.srcpkgcache.bin", b""),
               ("opt/tool/.wh..wh..opq", b""), ("opt/tool/README", b"replaced\n")),
    ]
    descs = [{"mediaType": MT_LAYER, "digest": str(_put(store, x)), "size": len(x)} for x in layers]
    config = json.dumps({"architecture": "amd64", "os": "linux",
                         "rootfs": {"type": "layers", "diff_ids": []}}).encode()
    c = _put(store, config)
    manifest = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                           "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": str(c),
                                      "size": len(config)},
                           "layers": descs}).encode()
    labels = {"containerd.io/gc.ref.content.config": str(c)}
    labels.update({f"containerd.io/gc.ref.content.l.{i}": str(x["digest"]) for i, x in enumerate(descs)})
    labels["containerd.io/gc.root"] = "2026-12-01T00:00:00Z"
    return _put(store, manifest, labels)
