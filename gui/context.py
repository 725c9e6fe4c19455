"""One object that carries what the window needs from outside: dialogs, settings, store opening.

Tests build their own (temp settings file, scripted dialogs); nothing is global.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Callable

from PySide6.QtCore import QSettings

from .dialogs import DialogService

log = logging.getLogger(__name__)

MAX_RECENT = 8


def default_store_path() -> Path:
    """The user's own store, shared with ``blobctl`` (``store.paths``; Qt's data location on Linux)."""
    from store.paths import default_store_dir

    return default_store_dir()


def open_local_store(path: str):
    """Open (creating a missing plain store) what ``path`` names; runs on a worker thread."""
    from .sources.opening import open_any
    return open_any(path)


class AppContext:
    def __init__(self, dialogs: DialogService | None = None, settings: QSettings | None = None,
                 open_store: Callable[[str], object] = open_local_store,
                 default_store: Callable[[], Path] = default_store_path):
        self.dialogs = dialogs or DialogService()
        self.settings = settings if settings is not None else QSettings()
        self.open_store = open_store
        self.default_store = default_store
        self.remember = True  # False for --demo and screenshots: no temp paths in the recent list

    def recent_stores(self) -> list[str]:
        value = self.settings.value("recentStores", [])
        if isinstance(value, str):
            value = [value] if value else []
        return [str(v) for v in value] if isinstance(value, (list, tuple)) else []

    def remember_store(self, path: str) -> None:
        if not self.remember:
            return
        recent = [path] + [p for p in self.recent_stores() if p != path]
        self.settings.setValue("recentStores", recent[:MAX_RECENT])
        self.settings.setValue("lastStore", path)

    def last_store(self) -> str | None:
        value = self.settings.value("lastStore", "")
        return str(value) if value else None
