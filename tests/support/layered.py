"""A real several-layer OCI image built with ``umoci``, for the dive-style layer analysis.

Layers (sizes chosen so the figures can be computed by hand):

0. ``umoci repack``: ``a`` (1000 B), ``d/x`` (300 B), ``d/y`` (200 B), ``keep/z`` (50 B) and
   ``keep/hl``, a hard link to ``keep/z``;
1. ``umoci repack``: ``a`` rewritten (2000 B), ``b`` added (500 B);
2. ``umoci repack``: ``b`` removed (umoci writes the whiteout ``.wh.b``);
3. ``umoci raw add-layer`` of a hand-made tar: ``d/.wh..wh..opq`` (``d`` made opaque) and
   ``d/n`` (70 B).

Files in all layers: 4120 B; the image shows ``a`` (2000), ``keep/z`` and ``keep/hl`` (one
inode, 50) and ``d/n`` (70): 2120 B; wasted: ``a``'s first version, ``b``, ``d/x``, ``d/y``:
2000 B.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import tarfile
from pathlib import Path

UMOCI = "/usr/bin/umoci"
TAG = "dive"
TOTAL, SQUASHED, WASTED = 4120, 2120, 2000


def _run(*argv: str) -> None:
    r = subprocess.run(argv, capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} failed ({r.returncode}): {r.stderr.strip()}")


def _step(layout: Path, work: Path, n: int, change) -> None:
    bundle = work / f"b{n}"
    _run(UMOCI, "unpack", "--image", f"{layout}:{TAG}", str(bundle))
    change(bundle / "rootfs")
    _run(UMOCI, "repack", "--image", f"{layout}:{TAG}", str(bundle))
    shutil.rmtree(bundle)


def _opaque_layer() -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name, data in (("d/.wh..wh..opq", b""), ("d/n", b"n" * 70)):
            ti = tarfile.TarInfo(name)
            ti.size = len(data)
            ti.mode = 0o644
            tar.addfile(ti, io.BytesIO(data))
    return buf.getvalue()


def make_layered_layout(tmp_path: os.PathLike | str) -> Path:
    """Build the image of this module's docstring; returns the OCI layout (tag :data:`TAG`)."""
    work = Path(tmp_path) / "layered-build"
    if work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True)
    layout = work / "layout"
    _run(UMOCI, "init", "--layout", str(layout))
    _run(UMOCI, "new", "--image", f"{layout}:{TAG}")
    _run(UMOCI, "config", "--image", f"{layout}:{TAG}", "--os", "linux", "--architecture", "amd64")

    def first(root: Path) -> None:
        (root / "a").write_bytes(b"1" * 1000)
        (root / "d").mkdir()
        (root / "d" / "x").write_bytes(b"x" * 300)
        (root / "d" / "y").write_bytes(b"y" * 200)
        (root / "keep").mkdir()
        (root / "keep" / "z").write_bytes(b"z" * 50)
        os.link(root / "keep" / "z", root / "keep" / "hl")

    def second(root: Path) -> None:
        (root / "a").write_bytes(b"2" * 2000)
        (root / "b").write_bytes(b"b" * 500)

    def third(root: Path) -> None:
        (root / "b").unlink()

    for n, change in enumerate((first, second, third)):
        _step(layout, work, n, change)
    tar = work / "opaque.tar"
    tar.write_bytes(_opaque_layer())
    _run(UMOCI, "raw", "add-layer", "--image", f"{layout}:{TAG}", str(tar))
    _run(UMOCI, "gc", "--layout", str(layout))
    return layout


def manifest_of(layout: Path) -> str:
    index = json.loads((layout / "index.json").read_text())
    for m in index["manifests"]:
        if m.get("annotations", {}).get("org.opencontainers.image.ref.name") == TAG:
            return m["digest"]
    raise KeyError(TAG)


def unpacked_paths(layout: Path, dest: Path) -> dict[str, tuple[str, int]]:
    """``umoci unpack`` the image; every path of its rootfs -> (type, size of a regular file, else 0)."""
    _run(UMOCI, "unpack", "--image", f"{layout}:{TAG}", str(dest))
    rootfs = dest / "rootfs"
    out: dict[str, tuple[str, int]] = {}
    for dirpath, dirnames, filenames in os.walk(rootfs):
        for name in dirnames + filenames:
            p = Path(dirpath) / name
            st = p.lstat()
            rel = str(p.relative_to(rootfs))
            if p.is_symlink():
                out[rel] = ("symlink", 0)
            elif p.is_dir():
                out[rel] = ("dir", 0)
            else:
                out[rel] = ("file", st.st_size)
    return out
