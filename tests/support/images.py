"""Real OCI images for tests, built locally with ``umoci`` from Debian's busybox-static.

Recipe from research/packaging-and-grpc.md B.4: an image with two layers (busybox plus
``/bin/sh``, then ``/etc/motd``).  With several platforms the image is an OCI index with one
manifest per platform (each manifest's config names its architecture), which
``ctr images import --all-platforms`` keeps whole.

``make_oci_image`` returns an ``oci-archive`` tar (an OCI layout tarred with the
``org.opencontainers.image.ref.name`` annotation set to the full image name, which is what
``ctr images import`` names the image after).  The layout it was made from stays next to it
(``make_oci_layout`` returns only the layout), and ``layout_blobs`` / ``describe_layout``
read it back for assertions; ``import_layout`` puts a layout's blobs into a store with the
labels ``ctr images import`` would set.  ``make_tar`` builds an uncompressed layer in memory.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import subprocess
import tarfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

UMOCI = "/usr/bin/umoci"
BUSYBOX_CANDIDATES = ("/bin/busybox", "/usr/bin/busybox")
INDEX_MEDIA_TYPE = "application/vnd.oci.image.index.v1+json"
MANIFEST_MEDIA_TYPE = "application/vnd.oci.image.manifest.v1+json"
REF_NAME = "org.opencontainers.image.ref.name"


def _run(*argv: str, cwd: Path | None = None) -> None:
    r = subprocess.run(argv, cwd=cwd, capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} failed ({r.returncode}): {r.stderr.strip()}")


def _static_busybox() -> Path:
    """The statically linked busybox of the installed busybox-static package."""
    for cand in BUSYBOX_CANDIDATES:
        p = Path(cand)
        if p.is_file():
            r = subprocess.run(["dpkg", "-S", str(p)], capture_output=True, text=True)
            if r.returncode == 0 and "busybox-static" in r.stdout:
                return p
    raise RuntimeError("busybox-static is not installed: run `apt-get install -y busybox-static`")


def _write_blob(layout: Path, data: bytes) -> tuple[str, int]:
    hexd = hashlib.sha256(data).hexdigest()
    path = layout / "blobs" / "sha256" / hexd
    if not path.exists():
        path.write_bytes(data)
    return f"sha256:{hexd}", len(data)


def _read_index(layout: Path) -> dict:
    return json.loads((layout / "index.json").read_text())


def _manifest_descriptor(layout: Path, tag: str) -> dict:
    for desc in _read_index(layout)["manifests"]:
        if desc.get("annotations", {}).get(REF_NAME) == tag:
            return desc
    raise KeyError(f"tag {tag!r} not in {layout}/index.json")


def make_oci_layout(tmp_path: os.PathLike | str, name: str = "example.org/fixture/busybox:1.0",
                    platforms: tuple[str, ...] = ("amd64",), *, motd: str = "hello\n") -> Path:
    """Build an OCI image layout under ``tmp_path/oci-build/layout`` and return its path.

    One platform: ``index.json`` points at that manifest.  Several: ``index.json`` points at
    an image index blob listing one manifest per platform (with ``platform`` set).  Either
    way the top descriptor carries ``org.opencontainers.image.ref.name = name``.
    """
    if not platforms:
        raise ValueError("give at least one platform")
    work = Path(tmp_path) / "oci-build"
    if work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True)
    layout = work / "layout"
    busybox = _static_busybox()

    _run(UMOCI, "init", "--layout", str(layout))
    _run(UMOCI, "new", "--image", f"{layout}:base")
    _run(UMOCI, "config", "--image", f"{layout}:base", "--os", "linux",
         "--architecture", platforms[0], "--config.cmd", "/bin/sh", "--config.env", "PATH=/bin")
    b1 = work / "b1"
    _run(UMOCI, "unpack", "--image", f"{layout}:base", str(b1))
    (b1 / "rootfs" / "bin").mkdir(parents=True, exist_ok=True)
    shutil.copy2(busybox, b1 / "rootfs" / "bin" / "busybox")
    os.symlink("busybox", b1 / "rootfs" / "bin" / "sh")
    _run(UMOCI, "repack", "--image", f"{layout}:base", str(b1))  # layer 0: busybox
    b2 = work / "b2"
    _run(UMOCI, "unpack", "--image", f"{layout}:base", str(b2))
    (b2 / "rootfs" / "etc").mkdir(parents=True, exist_ok=True)
    (b2 / "rootfs" / "etc" / "motd").write_text(motd)
    _run(UMOCI, "repack", "--image", f"{layout}:base", str(b2))  # layer 1: /etc/motd
    shutil.rmtree(b1)
    shutil.rmtree(b2)

    tags = []
    for arch in platforms:
        tag = f"p-{arch}"
        # Same layers, a config naming this architecture: a distinct manifest per platform.
        _run(UMOCI, "config", "--image", f"{layout}:base", "--tag", tag, "--os", "linux",
             "--architecture", arch, "--config.label", f"fixture.platform={arch}")
        tags.append((arch, tag))
    descs = [(arch, _manifest_descriptor(layout, tag)) for arch, tag in tags]

    if len(platforms) == 1:
        top = {k: v for k, v in descs[0][1].items() if k != "annotations"}
    else:
        index = {
            "schemaVersion": 2,
            "mediaType": INDEX_MEDIA_TYPE,
            "manifests": [
                {"mediaType": MANIFEST_MEDIA_TYPE, "digest": d["digest"], "size": d["size"],
                 "platform": {"architecture": arch, "os": "linux"}}
                for arch, d in descs
            ],
        }
        digest, size = _write_blob(layout, json.dumps(index, separators=(",", ":")).encode())
        top = {"mediaType": INDEX_MEDIA_TYPE, "digest": digest, "size": size}
    top["annotations"] = {REF_NAME: name}
    (layout / "index.json").write_text(json.dumps(
        {"schemaVersion": 2, "mediaType": INDEX_MEDIA_TYPE, "manifests": [top]},
        separators=(",", ":")))
    # Drop the blobs only the intermediate "base" image used (its config, manifest).
    _run(UMOCI, "gc", "--layout", str(layout))
    return layout


def make_tar(files: Mapping[str, bytes] = {}, *,
             add: Callable[[tarfile.TarFile], object] | None = None) -> bytes:
    """An uncompressed (PAX) tar of the regular files ``name -> bytes`` (mode 0644, mtime 0),
    followed by whatever ``add(tar)`` writes (directories, links, other modes)."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name, data in files.items():
            ti = tarfile.TarInfo(name)
            ti.size = len(data)
            tar.addfile(ti, io.BytesIO(data))
        if add is not None:
            add(tar)
    return buf.getvalue()


def oci_archive(layout: Path, out: Path) -> Path:
    """Tar an OCI layout into an ``oci-archive`` that ``ctr images import`` accepts."""
    with tarfile.open(out, "w") as tar:
        for name in ("oci-layout", "index.json", "blobs"):
            tar.add(layout / name, arcname=name)
    return out


def make_oci_image(tmp_path: os.PathLike | str, name: str = "example.org/fixture/busybox:1.0",
                   platforms: tuple[str, ...] = ("amd64",), **kw) -> Path:
    """Build a real OCI image with umoci and return the ``oci-archive`` tar path.

    The layout stays at ``<archive parent>/layout`` (``describe_layout(path.parent / "layout")``).
    """
    layout = make_oci_layout(tmp_path, name, platforms, **kw)
    return oci_archive(layout, layout.parent / "image.oci.tar")


def layout_blobs(layout: Path) -> dict[str, bytes]:
    """Every blob of a layout: ``"sha256:<hex>" -> bytes`` (checked against its name)."""
    result = {}
    for p in sorted((layout / "blobs" / "sha256").iterdir()):
        data = p.read_bytes()
        assert hashlib.sha256(data).hexdigest() == p.name, f"corrupt layout blob {p}"
        result[f"sha256:{p.name}"] = data
    return result


@dataclass
class ImageDescription:
    """What a layout holds, by role, for assertions about labels containerd sets."""

    top: dict
    index: str | None = None
    manifests: dict[str, str] = field(default_factory=dict)   # arch -> manifest digest
    configs: dict[str, str] = field(default_factory=dict)     # arch -> config digest
    layers: dict[str, list[str]] = field(default_factory=dict)  # arch -> layer digests


def describe_layout(layout: Path) -> ImageDescription:
    blobs = layout / "blobs" / "sha256"

    def load(digest: str) -> dict:
        return json.loads((blobs / digest.split(":", 1)[1]).read_bytes())

    top = _read_index(layout)["manifests"][0]
    desc = ImageDescription(top=top)
    if top["mediaType"] == INDEX_MEDIA_TYPE:
        desc.index = top["digest"]
        entries = [(m["platform"]["architecture"], m["digest"]) for m in load(top["digest"])["manifests"]]
    else:
        entries = [(None, top["digest"])]
    for arch, mdigest in entries:
        manifest = load(mdigest)
        config = manifest["config"]["digest"]
        arch = arch or load(config)["architecture"]
        desc.manifests[arch] = mdigest
        desc.configs[arch] = config
        desc.layers[arch] = [layer["digest"] for layer in manifest["layers"]]
    return desc


def ctr_style_labels(blobs: dict[str, bytes]) -> dict[str, dict[str, str]]:
    """The gc.ref labels ``ctr images import`` sets on an index and its manifests, from the blobs."""
    labels: dict[str, dict[str, str]] = {}
    for d, data in blobs.items():
        if not data.startswith(b"{"):
            continue
        doc = json.loads(data)
        if "manifests" in doc:
            labels[d] = {f"containerd.io/gc.ref.content.m.{i}": m["digest"] for i, m in enumerate(doc["manifests"])}
        elif "layers" in doc:
            lab = {"containerd.io/gc.ref.content.config": doc["config"]["digest"]}
            lab.update({f"containerd.io/gc.ref.content.l.{i}": x["digest"] for i, x in enumerate(doc["layers"])})
            labels[d] = lab
    return labels


def import_layout(store, layout: Path, *, skip=frozenset()) -> dict[str, bytes]:
    """Import every blob of ``layout`` but those in ``skip`` into ``store`` (a LocalStore), each
    with its ``ctr_style_labels``; return all the layout's blobs (``layout_blobs``)."""
    blobs = layout_blobs(layout)
    labels = ctr_style_labels(blobs)
    for d in blobs:
        if d in skip:
            continue
        store.import_file(layout / "blobs" / "sha256" / d.split(":", 1)[1], labels=labels.get(d))
    return blobs
