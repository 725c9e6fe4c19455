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
from .owners import LABEL_SNAPSHOT_REF, ImageInfo, Layer, resolve_image, unrecorded_name, unrecorded_tops

log = logging.getLogger(__name__)

_MAX_JSON = 8 << 20


@dataclass
class LiveOwners:
    """(snapshotter, key) -> its images, containers and layer, for one namespace; and each blob's images."""

    images: dict[tuple[str, str], list[str]] = field(default_factory=dict)
    containers: dict[tuple[str, str], list[str]] = field(default_factory=dict)
    layers: dict[tuple[str, str], Layer] = field(default_factory=dict)
    blobs: dict[str, list[str]] = field(default_factory=dict)  # digest -> names of the images reaching it
    resolved: list[ImageInfo] = field(default_factory=list)  # every image, with its blobs and layers
    problems: list[str] = field(default_factory=list)


def live_owners(store, records, snapshots: Mapping[tuple[str, str], object],
                blob_labels: Mapping[str, Mapping[str, str]] | None = None) -> LiveOwners:
    """Owners of ``snapshots`` ((snapshotter, key) -> a LiveSnapshot with ``labels``).

    ``store`` is a :class:`store.containerd.ContainerdStore` of the namespace (content reads),
    ``records`` a :class:`store.containerd.records.RecordsClient` of the same namespace.  Given
    ``blob_labels`` (digest -> labels of the namespace's blobs), the manifests and indexes no
    image record reaches and no blob references are images too, named as offline
    (:func:`.owners.unrecorded_name`).
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
    found = [resolve_image(records.namespace, image.name, image.target, read_json, present, labels_of)
             for image in records.images()]
    if blob_labels is not None:
        reached = set().union(*(info.blobs for info in found))
        for d in unrecorded_tops(blob_labels.items(), reached):
            info = resolve_image(records.namespace, unrecorded_name(read_json(d, []), d), d, read_json, present,
                                 labels_of)
            info.recorded = False
            found.append(info)
    for info in found:
        out.resolved.append(info)
        out.problems.extend(info.problems)
        for digest in info.blobs:
            out.blobs.setdefault(digest, []).append(info.name)
        for layers in info.layers:
            for layer in layers:
                by_chain.setdefault(layer.chain_id, []).append((info.name, layer))
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
