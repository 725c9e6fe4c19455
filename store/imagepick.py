"""Which layers make an image: from an index or manifest digest to the manifest's layers in order.

An index is resolved to the manifest of the host's platform (``linux/amd64`` on x86-64), else
the one asked for with ``platform``, else its first image manifest.  Only the index and the
manifest are read (each at most :data:`store.oci.JSON_LIMIT` bytes); layers are not touched.
"""

from __future__ import annotations

import platform as _host
from dataclasses import dataclass

from . import errors, oci
from .api import ContentStore
from .digest import Digest

_MACHINES = {"x86_64": "amd64", "amd64": "amd64", "aarch64": "arm64", "arm64": "arm64", "armv7l": "arm",
             "i686": "386", "i386": "386", "ppc64le": "ppc64le", "s390x": "s390x", "riscv64": "riscv64"}


@dataclass(frozen=True)
class ImageLayers:
    """The layers of one image manifest, bottom first."""

    image: Digest                   # what was asked for (an index or the manifest itself)
    manifest: Digest
    platform: str                   # "linux/amd64", or "" when the index did not say
    layers: tuple[oci.Descriptor, ...]
    choices: tuple[str, ...] = ()   # the platforms an index offered


def host_platform() -> str:
    machine = _host.machine().lower()
    return f"linux/{_MACHINES.get(machine, machine)}"


def _read_json(store: ContentStore, d: Digest) -> oci.ContentType:
    try:
        info = store.info(d)
    except errors.NotFound:
        raise errors.NotFound(f"image {d} is not in the store") from None
    if info.size > oci.JSON_LIMIT:
        raise errors.InvalidArgument(f"blob {d} is {info.size} bytes: too big to be a manifest or an index")
    with store.reader_at(d) as r:
        data = r.read_at(r.size, 0)
    return oci.classify_json_bytes(data)


def _platform_text(p: oci.Platform | None) -> str:
    if p is None:
        return ""
    return "/".join(x for x in (p.os, p.architecture, p.variant) if x)


def _matches(want: str, have: str) -> bool:
    return have == want or have.startswith(want + "/") or (want.count("/") == 2 and want.rsplit("/", 1)[0] == have)


def resolve(store: ContentStore, digest: Digest | str, *, platform: str | None = None) -> ImageLayers:
    """The layers of the image ``digest`` (a manifest, or an index resolved as the module says)."""
    top = Digest(digest)
    ct = _read_json(store, top)
    if ct.kind == oci.Kind.INDEX:
        manifests = [x for x in ct.descriptors if x.role == "manifest"]
        if not manifests:
            raise errors.InvalidArgument(f"index {top} lists no manifest")
        choices = tuple(_platform_text(x.platform) for x in manifests)
        want = platform or host_platform()
        pick = next((x for x in manifests if _matches(want, _platform_text(x.platform))), None)
        if pick is None:
            if platform:
                raise errors.NotFound(f"index {top} has no manifest for {platform} "
                                      f"(it has {', '.join(c or '?' for c in choices)})")
            pick = manifests[0]
        inner = _read_json(store, pick.digest)
        if inner.kind != oci.Kind.MANIFEST:
            raise errors.InvalidArgument(f"{pick.digest}, the {_platform_text(pick.platform) or 'first'} entry of "
                                         f"index {top}, is not an image manifest ({inner.media_type})")
        layers = tuple(x for x in inner.descriptors if x.role == "layer")
        return ImageLayers(top, pick.digest, _platform_text(pick.platform), layers, choices)
    if ct.kind == oci.Kind.MANIFEST:
        layers = tuple(x for x in ct.descriptors if x.role == "layer")
        return ImageLayers(top, top, "", layers)
    raise errors.InvalidArgument(f"blob {top} is not an image: it is {ct.kind.value} ({ct.media_type}), "
                                 "give an index or a manifest digest")


__all__ = ["ImageLayers", "host_platform", "resolve"]
