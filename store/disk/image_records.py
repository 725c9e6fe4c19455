"""The names containerd's image records give the images of a store (``meta.db`` or the daemon).

The rule for naming an image (records first, then annotations: :mod:`store.imagenames`) needs
the records; they live in ``meta.db`` (:mod:`.metadata`) or come from the daemon's Images
service, so the lookup sits here, beside the reader of ``meta.db``.
"""

from __future__ import annotations

import logging

from .. import errors
from ..containerd_root import root_of

log = logging.getLogger(__name__)


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
            from .metadata import read_images
            for im in read_images(store.containerd_root.metadata, store.namespace):
                _add(out, im.target_digest or "", im.name)
        elif getattr(store, "root", None) is not None and (root := root_of(store.root)) is not None:
            from .metadata import load_root
            for ns in load_root(root).namespaces:
                for im in ns.images:
                    _add(out, im.target_digest or "", im.name)
    except (errors.ContentError, OSError) as exc:
        log.info("image records of %s could not be read (%s); naming images by annotations", store, exc)
        return {}
    return {d: sorted(names) for d, names in out.items()}


__all__ = ["recorded_names"]
