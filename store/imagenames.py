"""What an image is called: its image records' names, else its annotations, else nothing.

containerd names an image by a record (``meta.db``'s ``images`` bucket, or the daemon's Images
service) whose target is the image's index or manifest; several records may name one digest.
A digest no record names may still carry a name in the annotations of a descriptor pointing
at it (or of the document itself): ``io.containerd.image.name`` (what ``ctr export`` writes,
a full reference) or ``org.opencontainers.image.ref.name`` (the OCI layout's name, often a
bare tag).  The Images tab, ``blobctl tree``/``du`` and the Disk tab's owners all name images
through :func:`annotated_name` and :func:`recorded_names`, so they agree.
"""

from __future__ import annotations

import logging
from typing import Iterable, Mapping

from . import errors
from .containerd_root import root_of

log = logging.getLogger(__name__)

REF_NAME = "org.opencontainers.image.ref.name"
IMAGE_NAME = "io.containerd.image.name"
NAME_KEYS = (REF_NAME, IMAGE_NAME)  # in each annotation set, the first of these present wins


def annotated_name(annotation_sets: Iterable[object]) -> str:
    """The first name found in ``annotation_sets`` (annotation dicts, in the order to trust them),
    checking :data:`REF_NAME` then :data:`IMAGE_NAME` in each; '' when none has one.

    Anything that is not a dict, and any value that is not a non-empty string, is skipped
    (annotations come from documents anyone could write).
    """
    for a in annotation_sets:
        if not isinstance(a, Mapping):
            continue
        for key in NAME_KEYS:
            value = a.get(key)
            if isinstance(value, str) and value:
                return value
    return ""


def _add(out: dict[str, list[str]], target: str, name: str) -> None:
    if target and name:
        names = out.setdefault(target, [])
        if name not in names:
            names.append(name)


def recorded_names(store) -> dict[str, list[str]]:
    """Target digest -> the names of the image records pointing at it (sorted), for ``store``.

    A live daemon (:class:`store.containerd.ContainerdStore`) is asked through its Images service
    in the store's namespace; an offline root's namespace reads its root's ``meta.db`` copy; a
    directory store that is a containerd root's content directory reads that root's ``meta.db``
    (every namespace) unless a running daemon holds it.  Any other store has no records: ``{}``.
    A lookup that fails is logged and gives ``{}`` (the images are then named by annotations).
    """
    out: dict[str, list[str]] = {}
    try:
        if hasattr(store, "image_records"):  # a live daemon
            for rec in store.image_records():
                _add(out, rec.target, rec.name)
        elif getattr(store, "containerd_root", None) is not None and hasattr(store, "namespace"):
            from .disk.metadata import read_images
            for im in read_images(store.containerd_root.metadata, store.namespace):
                _add(out, im.target_digest or "", im.name)
        elif getattr(store, "root", None) is not None and (root := root_of(store.root)) is not None:
            from .disk.metadata import load_root
            for ns in load_root(root).namespaces:
                for im in ns.images:
                    _add(out, im.target_digest or "", im.name)
    except (errors.ContentError, OSError) as exc:
        log.info("image records of %s could not be read (%s); naming images by annotations", store, exc)
        return {}
    return {d: sorted(names) for d, names in out.items()}


__all__ = ["IMAGE_NAME", "NAME_KEYS", "REF_NAME", "annotated_name", "recorded_names"]
