"""What kind of blob a media type names (index, manifest, config, layer, json, text, binary, empty),
and the icon the tables show for it.  No disk, no Qt until an icon is asked for."""

from __future__ import annotations

import functools

KINDS = ("index", "manifest", "config", "layer", "json", "text", "binary", "empty")


@functools.lru_cache(maxsize=256)
def _kind_of_media_type(media_type: str) -> str:
    from store import oci
    kind = oci.kind_of_media_type(media_type)
    if kind is not None:
        return kind.value
    if media_type == oci.TAR:
        return "layer"
    if media_type == oci.JSON or media_type.endswith("+json"):
        return "json"
    if media_type.startswith("text/"):
        return "text"
    return "binary" if media_type else ""


def kind_of(media_type: str, size: int) -> str:
    """The kind of a blob from its (sniffed or declared) media type; "" while it is not known."""
    if size == 0:
        return "empty"
    return _kind_of_media_type(media_type or "")


def kind_icon(kind: str):
    """The QIcon of a kind (an empty icon for "")."""
    from PySide6.QtGui import QIcon

    from .resources import icon
    return icon(f"kind-{kind}") if kind in KINDS else QIcon()


def kind_text(kind: str) -> str:
    """The kind as the user reads it (translated)."""
    from PySide6.QtCore import QCoreApplication
    names = {
        "index": QCoreApplication.translate("Kinds", "image index"),
        "manifest": QCoreApplication.translate("Kinds", "manifest"),
        "config": QCoreApplication.translate("Kinds", "image config"),
        "layer": QCoreApplication.translate("Kinds", "layer"),
        "json": QCoreApplication.translate("Kinds", "JSON"),
        "text": QCoreApplication.translate("Kinds", "text"),
        "binary": QCoreApplication.translate("Kinds", "binary"),
        "empty": QCoreApplication.translate("Kinds", "empty"),
    }
    return names.get(kind, kind)
