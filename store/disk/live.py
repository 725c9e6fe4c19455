"""Owners of a running daemon's snapshots, from what its gRPC API tells about one namespace.

The same rules as :mod:`.owners` on a root: a snapshot whose key is a chain ID of an image's
``rootfs.diff_ids`` (or that the unpacker labelled ``containerd.io/snapshot.ref``) belongs to
that image; a container owns the snapshot its ``snapshotKey`` names, and uses its parents.
Manifests, indexes and configs are read through the content service.  Leases are not asked
(their resources need a call per lease); directories and GC verdicts need the root's files.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from typing import Mapping

from .. import errors
from .owners import LABEL_SNAPSHOT_REF, Layer, resolve_image

log = logging.getLogger(__name__)

_MAX_JSON = 8 << 20


@dataclass
class LiveOwners:
    """(snapshotter, key) -> its images, containers and layer, for one namespace; and each blob's images."""

    images: dict[tuple[str, str], list[str]] = field(default_factory=dict)
    containers: dict[tuple[str, str], list[str]] = field(default_factory=dict)
    layers: dict[tuple[str, str], Layer] = field(default_factory=dict)
    blobs: dict[str, list[str]] = field(default_factory=dict)  # digest -> names of the images reaching it
    problems: list[str] = field(default_factory=list)


def live_owners(store, records, snapshots: Mapping[tuple[str, str], object]) -> LiveOwners:
    """Owners of ``snapshots`` ((snapshotter, key) -> a LiveSnapshot with ``labels``).

    ``store`` is a :class:`store.containerd.ContainerdStore` of the namespace (content reads),
    ``records`` a :class:`store.containerd.records.RecordsClient` of the same namespace.
    """
    out = LiveOwners()
    present = {str(info.digest) for info in store.walk()}
    cache: dict[str, dict | None] = {}

    def read_json(digest: str, problems: list[str]) -> dict | None:
        if digest in cache:
            return cache[digest]
        doc = None
        if digest in present:
            try:
                info = store.info(digest)
                if info.size <= _MAX_JSON:
                    with store.reader_at(digest) as reader:
                        doc = json.loads(reader.read_at(info.size, 0))
            except (errors.ContentError, ValueError) as exc:
                if isinstance(exc, errors.ContentError):
                    problems.append(f"cannot read {digest}: {exc}")
        cache[digest] = doc if isinstance(doc, dict) else None
        return cache[digest]

    def labels_of(digest: str) -> Mapping[str, str]:
        try:
            return store.info(digest).labels
        except errors.ContentError:
            return {}

    by_chain: dict[str, list[tuple[str, Layer]]] = {}
    for image in records.images():
        info = resolve_image(records.namespace, image.name, image.target, read_json, present, labels_of)
        out.problems.extend(info.problems)
        for digest in info.blobs:
            out.blobs.setdefault(digest, []).append(image.name)
        for layers in info.layers:
            for layer in layers:
                by_chain.setdefault(layer.chain_id, []).append((image.name, layer))
    for (sn, key), snap in snapshots.items():
        owners = by_chain.get(key) or by_chain.get(getattr(snap, "labels", {}).get(LABEL_SNAPSHOT_REF, ""), [])
        if owners:
            out.images[(sn, key)] = sorted({name for name, _layer in owners})
            out.layers[(sn, key)] = owners[0][1]
    for c in records.containers():
        if c.snapshotter:
            out.containers.setdefault((c.snapshotter, c.snapshot_key), []).append(c.id)
    return out


__all__ = ["LiveOwners", "live_owners"]
