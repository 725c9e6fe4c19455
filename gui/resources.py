"""Find shipped files (icons, translations, .desktop) from a checkout, a wheel or a frozen bundle."""

from __future__ import annotations

import functools
import logging
import sys
from pathlib import Path

log = logging.getLogger(__name__)

APP_ID = "org.blobscope.Blobscope"


@functools.lru_cache(maxsize=1)
def resource_dir() -> Path:
    """The ``resources`` directory: PyInstaller's ``_MEIPASS``, the installed package, or the checkout."""
    frozen = getattr(sys, "_MEIPASS", None)
    if frozen:
        candidate = Path(frozen) / "resources"
        if candidate.is_dir():
            return candidate
    try:
        from importlib.resources import files
        candidate = Path(str(files("resources")))
        if (candidate / "icons").is_dir():
            return candidate
    except (ImportError, ModuleNotFoundError, TypeError):
        pass
    return Path(__file__).resolve().parent.parent / "resources"


def path(*parts: str) -> Path:
    return resource_dir().joinpath(*parts)


_icons: dict[str, object] = {}


def icon(name: str):
    """A QIcon for ``resources/icons/<name>.svg`` (cached; empty icon if missing)."""
    from PySide6.QtGui import QIcon
    cached = _icons.get(name)
    if cached is None:
        p = path("icons", f"{name}.svg")
        if not p.is_file():
            log.info("icon %s is missing", p)
        cached = QIcon(str(p)) if p.is_file() else QIcon()
        _icons[name] = cached
    return cached


def app_icon():
    return icon(APP_ID)
